"""whoosh's multiprocess writer (Whoosh-Reloaded 2.7.5, pinned) made repeatable and loud.

``whoosh.multiproc.MpWriter`` hands each batch of documents to whichever writing process takes it
off a shared queue first, and lists the processes' segments in the order they finish. So two
builds of one corpus numbered its documents differently, and documents of equal score -- common in
protokoll, where recurring §§ ("Val av justerare") carry the same text -- were ranked in another
order after each rebuild (measured: ``ks-2024-11-20.txt#§969`` was document 6,197 in one build of
the eval corpus and 2,390 in the next, and ``återvinning``'s 10th hit changed with it). Here batch
``k`` goes to process ``k mod procs``, each through a queue of its own, and the segments are listed
in process order: the same documents get the same numbers in every build.

whoosh also waits one second for each process's segment after the processes ended and silently
goes on without a segment that did not come (a writing process killed by the kernel for memory
left its files' units out of the index while the manifest listed the files as indexed). Here a
process that ends without its segment makes the commit fail, so the last published index stays.
"""

from __future__ import annotations

import gc
import pickle
import queue
from multiprocessing import Queue

from whoosh.multiproc import MpWriter, SubWriterTask
from whoosh.util import random_name

from protokollsok.errors import ProtokollsokError

BATCH_SIZE = 100  # documents per job file (whoosh's default)
JOBS_QUEUED = 4  # job files waiting per process before the indexer waits too
RESULT_WAIT = 1.0  # seconds between two looks at a writing process that has not answered yet


class WritingProcessFailed(ProtokollsokError):
    """A writing process ended before its work was done."""

    def __init__(self, exitcode: int | None) -> None:
        super().__init__(
            f"a process writing the index ended before its work was done (exit code {exitcode}); nothing was changed",
            "run the command again; if it happens again, check the free memory (a process the system stops"
            " for lack of memory ends like this)",
        )


class OrderedMpWriter(MpWriter):
    """``MpWriter`` (with ``multisegment=True``) giving batches to its processes in turn and
    listing their segments in process order."""

    def __init__(self, ix, procs: int, **kwargs) -> None:
        super().__init__(ix, procs=procs, multisegment=True, batchsize=BATCH_SIZE, **kwargs)
        self._jobs: list[Queue] = []
        self._results: list[Queue] = []
        self._batches = 0

    def _enqueue(self) -> None:
        """Write the buffered documents to a job file for the next process in turn."""
        filename = f"{random_name()}.doclist"
        with self.temp_storage().create_file(filename).raw_file() as f:
            for item in self.docbuffer:
                pickle.dump(item, f, 2)
        k = self._batches % self.procs
        while len(self.tasks) <= k:
            self._start_task()
        _put(self.tasks[k], self._jobs[k], (filename, len(self.docbuffer)))
        self._batches += 1
        self.docbuffer = []

    def cancel(self) -> None:
        """Stop the writing processes (whoosh's ``cancel`` left them waiting for work forever)."""
        try:
            for task in self.tasks:
                if task.is_alive():
                    task.terminate()
                task.join()
        finally:
            super().cancel()

    def _start_task(self) -> None:
        jobs, results = Queue(JOBS_QUEUED), Queue()
        task = WritingProcess(self.storage, self.indexname, jobs, results, self.subargs, True)
        self._jobs.append(jobs)
        self._results.append(results)
        self.tasks.append(task)
        task.start()

    def _commit(self, mergetype, optimize, merge) -> None:
        """``MpWriter._commit`` for ``multisegment``: the processes' segments in process order."""
        if self.docbuffer:
            self._enqueue()
        for task, jobs in zip(self.tasks, self._jobs, strict=True):
            _put(task, jobs, None)  # None: finish the segment
        finalsegments = self._merge_segments(mergetype, optimize, merge)
        segments = [_result_of(task, results)[2] for task, results in zip(self.tasks, self._results, strict=True)]
        for task in self.tasks:
            task.join()
        finalsegments += segments
        if self._added:
            finalsegments.append(self._finalize_segment())
        else:
            self._close_segment()
        self._commit_toc(finalsegments)
        self._finish()


class WritingProcess(SubWriterTask):
    """whoosh's writing process, without Python's cyclic garbage collector: what it makes per
    document is freed by reference counting (no cycles), and what it keeps (the analysed words'
    forms, the postings' terms) it keeps to the end, so the collector only walked the kept
    objects again and again -- about 6 % of a build's CPU time (30,000 units: 32.8 / 33.1 CPU-s
    with it, 30.7 / 31.4 without, back to back, peak memory the same). The process ends with its
    segment, so nothing turns the collector on again."""

    def run(self) -> None:
        gc.disable()
        super().run()


def _put(task: SubWriterTask, jobs: Queue, job) -> None:
    """Queue a job for a writing process, as long as it lives."""
    while True:
        try:
            jobs.put(job, timeout=RESULT_WAIT)
            return
        except queue.Full:
            if not task.is_alive():
                raise WritingProcessFailed(task.exitcode) from None


def _result_of(task: SubWriterTask, results: Queue):
    """What a writing process hands over when it is done: ``(run name, field names, segment)``."""
    while True:
        try:
            return results.get(timeout=RESULT_WAIT)
        except queue.Empty:
            if task.is_alive():
                continue
        try:  # it may have put its result just before it ended
            return results.get(timeout=RESULT_WAIT)
        except queue.Empty:
            raise WritingProcessFailed(task.exitcode) from None
