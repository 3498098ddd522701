"""Locked and readable while written: one writer at a time, searches never fail during an update."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from protokollsok import index
from protokollsok.errors import IndexLocked
from protokollsok.index import build_index

PROTOKOLL = "Kommunstyrelsen\nProtokoll 2024-03-12\n\n§ {n} {title}\n{text}\n"


def write(root: Path, name: str, n: int, title: str, text: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(PROTOKOLL.format(n=n, title=title, text=text), encoding="utf-8")


def hold_lock(ix: Path, seconds: float) -> subprocess.Popen:
    """A second process that takes the write lock, says so on stdout, and keeps it."""
    code = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from protokollsok.index import write_lock
        with write_lock(Path({str(ix)!r})):
            print("locked", flush=True)
            time.sleep({seconds})
        """
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "locked"
    return p


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    write(root, "fast.txt", 1, "Simhall", "Kommunen bygger en simhall.")
    for k in range(5):
        write(root, f"m{k}.txt", 10 + k, "Ärende", f"Nämnden beslutar om ärende nummer {k}.")
    return root


def test_a_second_writer_waits_briefly_then_names_the_holder_and_the_fix(corpus, tmp_path):
    ix = tmp_path / "index"
    holder = hold_lock(ix, 30)
    try:
        started = time.monotonic()
        with pytest.raises(IndexLocked) as e:
            build_index([corpus], ix, lock_wait=0.5)
        waited = time.monotonic() - started
    finally:
        holder.kill()
        holder.wait()
    message = str(e.value)
    assert f"process {holder.pid}" in message
    assert "wait for it to finish" in message and "\n" not in message
    assert waited >= 0.5


def test_a_writer_that_finishes_within_the_wait_is_waited_for(corpus, tmp_path):
    ix = tmp_path / "index"
    holder = hold_lock(ix, 0.5)
    try:
        report = build_index([corpus], ix, lock_wait=10)
    finally:
        holder.wait()
    assert len(report.added) == 6


def test_a_lock_left_by_a_killed_process_is_recovered(corpus, tmp_path):
    ix = tmp_path / "index"
    holder = hold_lock(ix, 60)
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert str(holder.pid) in (ix / index.LOCK_FILE).read_text()  # its pid is still written there
    report = build_index([corpus], ix, lock_wait=0.5)
    assert len(report.added) == 6


def test_whoosh_s_own_write_lock_left_by_a_killed_writer_is_recovered(corpus, tmp_path):
    ix = tmp_path / "index"
    build_index([corpus], ix)
    code = textwrap.dedent(
        f"""
        import time
        from pathlib import Path
        from protokollsok.index import open_index
        whoosh_ix, _ = open_index(Path({str(ix)!r}))
        writer = whoosh_ix.writer()  # takes <generation>_WRITELOCK
        writer.add_document(id="half-written", source="x", doctype="")
        print("writing", flush=True)
        time.sleep(60)
        """
    )
    p = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert p.stdout.readline().strip() == "writing"
    p.send_signal(signal.SIGKILL)
    p.wait()
    write(corpus, "late.txt", 30, "Ishall", "Kommunen bygger en ishall.")
    report = build_index([corpus], ix, lock_wait=0.5)
    assert report.added == ["late.txt"]
    assert index.check([corpus], ix).ok


READER = textwrap.dedent(
    """
    import json, sys, time
    from pathlib import Path
    from protokollsok.search import search
    from protokollsok.index import open_searcher
    ix, stop = Path(sys.argv[1]), Path(sys.argv[2])
    searches, errors, counts = 0, [], set()
    search(ix, "simhall")  # warm up (lexicon, analysers) before the updates start
    print("ready", flush=True)
    while not stop.exists():
        try:
            counts.add(search(ix, "simhall", limit=5, suggest=False).total)
            s, _ = open_searcher(ix)  # as a new process would: fresh every time
            s.close()
            searches += 1
        except Exception as e:
            errors.append(f"{type(e).__name__}: {e}")
    print(json.dumps({"searches": searches, "errors": errors[:5], "n_errors": len(errors),
                      "counts": sorted(counts)}))
    """
)


@pytest.fixture(scope="module")
def concurrent_run(tmp_path_factory) -> tuple[list[dict], int, Path, Path]:
    """Two reader processes search in a loop while 24 updates (3 of them full rebuilds) run."""
    tmp = tmp_path_factory.mktemp("concurrent")
    corpus, ix, stop = tmp / "corpus", tmp / "index", tmp / "stop"
    write(corpus, "fast.txt", 1, "Simhall", "Kommunen bygger en simhall.")
    build_index([corpus], ix)
    readers = [
        subprocess.Popen(
            [sys.executable, "-c", READER, str(ix), str(stop)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(2)
    ]
    for r in readers:
        assert r.stdout.readline().strip() == "ready"
    updates = 0
    for round_ in range(24):
        k = round_ % 5
        write(corpus, f"m{k}.txt", 10 + k, "Ärende", f"Nämnden ändrar ärende {k} i omgång {round_}.")
        write(corpus, f"new{round_}.txt", 50 + round_, "Nytt", f"Ett nytt ärende i omgång {round_}.")
        if round_ >= 2:
            (corpus / f"new{round_ - 2}.txt").unlink()
        build_index([corpus], ix, full=(round_ % 8 == 7))
        updates += 1
    stop.touch()
    results = [json.loads(r.communicate(timeout=60)[0].strip().splitlines()[-1]) for r in readers]
    return results, updates, corpus, ix


@pytest.mark.slow
def test_searches_in_a_loop_never_fail_while_the_index_is_updated(concurrent_run):
    results, updates, corpus, ix = concurrent_run
    for res in results:
        assert res["n_errors"] == 0, res["errors"]
        assert res["searches"] >= 2 * updates
    assert index.check([corpus], ix).ok


@pytest.mark.slow
def test_every_state_a_searching_reader_sees_is_consistent(concurrent_run):
    results, *_ = concurrent_run
    for res in results:
        assert res["counts"] == [1], "the untouched § is found once in every state a reader sees"
