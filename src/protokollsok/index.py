"""Build and update the whoosh index: incremental, atomic, locked.

Layout of an index folder::

    protokollsok.json      which whoosh index (generation) is current, its analysis chain
    protokollsok.lock      held (flock) by the process writing; records its pid
    _<gen>_<n>.toc, ...    whoosh's own files

- Incremental: the manifest (bookkeeping documents inside the index, see ``manifest``) is compared
  with the corpus; only added and changed files are parsed; one commit applies everything.
- Atomic: whoosh publishes a commit by writing a new TOC file last, so a reader sees the old state
  or the new one. A full rebuild writes a new generation beside the old one and switches
  ``protokollsok.json`` with an atomic rename.
- Locked: an exclusive ``flock``, which the kernel releases when the holder dies, so a lock left by
  a killed process is recovered by the next run. A second writer waits ``lock_wait`` seconds, then
  gets ``IndexLocked`` naming the holder's pid.
- Crash-safe: a first run publishes an empty index before parsing anything, so a killed first run
  still leaves an index that opens. What a killed run leaves behind (a generation that was never
  switched to, whoosh temp folders, TOC files never renamed, unreferenced segments) is swept by
  the next run, under the lock (``sweep``).
- Durable: before whoosh renames a new TOC into place, every file of the generation and the TOC
  are flushed to disk, then the folder (``_DurableStorage``); ``protokollsok.json`` likewise. A
  power cut leaves the last published state, not a TOC naming segments that were never written.
- Robust: a file that cannot be used never stops the run. A ``ParseError`` is listed in
  ``IndexReport.failed`` and recorded in the manifest with its sha256 and reason, so an unchanged
  bad file is not read again (it is listed again, "unchanged since it failed"; ``--full``
  retries it); a changed file that fails keeps its previous units. A ``NoText`` file (image-only
  PDF, empty) is a warning, recorded as ``empty``. An internal error (a bug in a stage) fails the
  file but is not recorded, so it is retried on every run. An index that cannot be written (disk
  full) raises one ``ProtokollsokError`` and stays as it was.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
import re
import shutil
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage
from whoosh.writing import CLEAR

from protokollsok import formstore, ingest, manifest, mpwriter, schema, whoosh_fixes, whoosh_writer  # noqa: F401 (patch whoosh)
from protokollsok.errors import IndexLocked, IndexNotFound, NoText, ParseError, ProtokollsokError
from protokollsok.model import IndexReport, Unit

META_FILE = "protokollsok.json"
LOCK_FILE = "protokollsok.lock"
DEFAULT_CHAIN = "full"
WRITER_LIMIT_MB = 256
PARALLEL_FROM = 50  # files in a rebuild before it is written by one process per core
MAX_PROCS = 4
SWITCH_GRACE = 0.5  # seconds the old generation outlives a full rebuild's pointer switch


@dataclass(frozen=True)
class IndexInfo:
    """What ``protokollsok.json`` says about an index folder."""

    indexname: str
    chain: str
    schema_version: int


def default_index_dir() -> Path:
    """``$PROTOKOLLSOK_INDEX`` or ``index/``."""
    return Path(os.environ.get("PROTOKOLLSOK_INDEX", "index"))


def default_roots() -> list[Path]:
    """``$PROTOKOLLSOK_CORPUS`` (``os.pathsep``-separated) or ``corpus/``."""
    env = os.environ.get("PROTOKOLLSOK_CORPUS")
    return [Path(p) for p in env.split(os.pathsep) if p] if env else [Path("corpus")]


def read_info(index_dir: Path) -> IndexInfo | None:
    """The current generation of the index in ``index_dir``, or None when there is none."""
    try:
        data = json.loads((Path(index_dir) / META_FILE).read_text(encoding="utf-8"))
        return IndexInfo(data["indexname"], data["chain"], int(data["schema_version"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_info(index_dir: Path, info: IndexInfo) -> None:
    tmp = Path(index_dir) / f".{META_FILE}.tmp"
    tmp.write_text(
        json.dumps(
            {"indexname": info.indexname, "chain": info.chain, "schema_version": info.schema_version}
        ),
        encoding="utf-8",
    )
    _fsync_file(tmp)
    tmp.replace(Path(index_dir) / META_FILE)
    _fsync_dir(Path(index_dir))


def open_index(index_dir: Path, retries: int = 3):
    """Open the current generation for reading; returns ``(whoosh index, IndexInfo)``.

    Retries when a full rebuild switched generations between reading the pointer and opening.
    """
    index_dir = Path(index_dir)
    for attempt in range(retries):
        info = read_info(index_dir)
        if info is None:
            raise IndexNotFound(str(index_dir))
        try:
            return _storage(index_dir).open_index(indexname=info.indexname), info
        except (OSError, windex.EmptyIndexError):
            if attempt == retries - 1:
                raise IndexNotFound(str(index_dir)) from None
            time.sleep(0.05)
    raise IndexNotFound(str(index_dir))


@contextlib.contextmanager
def write_lock(index_dir: Path, wait: float = 5.0) -> Iterator[None]:
    """Hold the index's write lock; wait up to ``wait`` seconds, then raise ``IndexLocked``."""
    index_dir = Path(index_dir)
    path = index_dir / LOCK_FILE
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    except OSError as e:
        raise ProtokollsokError(
            f"cannot write to the index folder {index_dir}/: {e.strerror or e}",
            "check the path and its permissions, or pass another --index DIR",
        ) from None
    try:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise _locked_error(index_dir, path) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S UTC', time.gmtime())}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _locked_error(index_dir: Path, path: Path) -> IndexLocked:
    try:
        holder = path.read_text(encoding="utf-8").split()
    except OSError:
        holder = []
    who = f"process {holder[0]} (since {' '.join(holder[1:])})" if holder else "another process"
    return IndexLocked(
        f"{index_dir}/ is being updated by {who}",
        "wait for it to finish, or stop that process and run again",
    )


def namnd_key(namnd: str | None) -> str | None:
    """The folded, lower-case key a nämnd is filtered and counted by."""
    if not namnd:
        return None
    from protokollsok.analysis import fold

    return fold(unicodedata.normalize("NFC", namnd).lower())


def unit_document(unit: Unit, text_fields: Sequence[str]) -> dict[str, object]:
    """The whoosh document of one unit."""
    s, m = unit.segment, unit.meta
    doc: dict[str, object] = {
        "id": s.id,
        "source": s.source,
        "kind": s.kind,
        "doctype": m.doctype or "",
        "title": s.title or "",
        "body": s.text,
        "lines": tuple(s.lines),
        "pages": tuple(s.pages) if s.pages else None,
        "namnd": m.namnd,
        "parti": ",".join(sorted(m.parti)),
        "dnr": ",".join(m.dnr),
    }
    if s.paragraf is not None:
        doc["paragraf"] = s.paragraf
    if m.ocr:
        doc["ocr"] = True
    if m.namnd:
        doc["namnd_key"] = namnd_key(m.namnd)
    if m.datum:
        doc["datum"] = m.datum
        doc["year"] = m.datum[:4]
    for f in text_fields:
        doc[f] = s.text
    return doc


class Progress:
    """Callbacks an index run reports to (the CLI draws a bar; the default does nothing)."""

    def start(self, total: int) -> None:
        """``total`` files are going to be parsed."""

    def advance(self, source: str) -> None:
        """One file has been parsed."""

    def finish(self) -> None:
        """Parsing is done; the commit follows."""


def _discover(roots: Sequence[Path], report: IndexReport | None = None) -> list[manifest.Found]:
    """Every indexable file under ``roots``; folders that cannot be listed and links that lead to
    no file go to ``report.failed`` (a link under its source name, as a file would)."""
    files: list[manifest.Found] = []
    roots = list({Path(r).resolve(): Path(r) for r in roots}.values())  # the same folder once
    prefixes = _prefixes(roots)
    for root in roots:
        if not Path(root).exists():
            raise ProtokollsokError(f"corpus {root} does not exist", "give a folder or file to index")
        prefix = prefixes[root]

        def on_error(path: Path, reason: str, root: Path = root, prefix: str = prefix) -> None:
            if report is None:
                return
            name = str(path)
            if path != root and path.is_relative_to(root) and not path.is_dir():
                name = prefix + path.relative_to(root).as_posix()
            report.failed.append((name, reason))

        for path, source in ingest.discover([root], on_error=on_error):
            f = manifest.found(path, prefix + source)
            if f is not None:
                files.append(f)
    return files


def _prefixes(roots: Sequence[Path]) -> dict[Path, str]:
    """The source prefix of each root: none for one root, else the root's folder name."""
    if len(roots) < 2:
        return dict.fromkeys(roots, "")
    names = {r: f"{Path(r).resolve().name}/" for r in roots}
    clash = sorted({n for n in names.values() if list(names.values()).count(n) > 1})
    if clash:
        raise ProtokollsokError(
            f"two corpus folders are both called {clash[0].rstrip('/')}, so their files' ids would clash",
            "index them into separate indexes, or give their common parent folder",
        )
    return names


class _DurableStorage(FileStorage):
    """whoosh's file storage, made durable: whoosh publishes a commit by renaming its new TOC file
    into place, and before that rename every file of the index (the generation's segments) and
    the TOC are flushed to disk (fsync); after it, the folder. So after a power cut the folder
    holds the last published TOC and everything it names, never a TOC whose segments were lost."""

    def rename_file(self, oldname: str, newname: str, safe: bool = False) -> None:
        publishing = newname.endswith(".toc")
        if publishing:
            generation = newname.lstrip("_").split("_", 1)[0]
            for name in sorted(self.list()):
                if name == oldname or (name.startswith(f"{generation}_") and not name.endswith("WRITELOCK")):
                    _fsync_file(Path(self.folder) / name)
        super().rename_file(oldname, newname, safe)
        if publishing:
            _fsync_dir(Path(self.folder))


def _fsync_file(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError), open(path, "rb") as f:
        os.fsync(f.fileno())


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _storage(index_dir: Path) -> FileStorage:
    """The index folder as whoosh storage: durable commits (``_DurableStorage``), read without
    mmap: whoosh's mmap path copies every sub-file of a segment into memory when it is opened
    (0.3-0.7 s for a 50k-unit index; and a full build that read its new segments back through it
    peaked at 1.4 GiB at 163k units, for the posting arrays); plain reads open in 0.04 s."""
    return _DurableStorage(str(index_dir), supports_mmap=False)


def _new_generation(index_dir: Path, chain: str):
    name = f"g{time.time_ns():x}"
    ix = _storage(index_dir).create_index(schema.build_schema(chain), indexname=name)
    return ix, IndexInfo(name, chain, schema.SCHEMA_VERSION)


def _remove_generation(index_dir: Path, name: str) -> None:
    for p in index_dir.iterdir():
        if p.name.startswith((f"_{name}_", f"{name}_")):
            with contextlib.suppress(OSError):
                p.unlink()


_GEN_FILE = re.compile(r"^_?(g[0-9a-f]+)[_.]")
_TOC_TEMP = re.compile(r"^_g[0-9a-f]+_\d+\.toc\.")


def sweep(index_dir: str | Path) -> list[str]:
    """Remove what killed or failed runs left behind; returns the names removed.

    Call it only while holding the write lock. Removes the files of every generation but the
    current one (a full rebuild that never switched, or an old one that was not yet deleted),
    whoosh's temporary folders and TOC files that were never renamed, the pointer's temp file, and
    segment files of the current generation that no committed TOC refers to.
    """
    index_dir = Path(index_dir)
    info = read_info(index_dir)
    current = info.indexname if info else None
    removed: list[str] = []
    for p in sorted(index_dir.iterdir()):
        m = _GEN_FILE.match(p.name)
        stale = p.name == f".{META_FILE}.tmp" or bool(_TOC_TEMP.match(p.name))
        stale = stale or (m is not None and m.group(1) != current)
        stale = stale or (p.name == f"{current}.tmp" and p.is_dir())
        stale = stale or _unfinished_arrays(p.name)
        if stale and _remove_path(p):
            removed.append(p.name)
    if current is not None:
        removed.extend(_clean_current(index_dir, current))
    return removed


def _unfinished_arrays(name: str) -> bool:
    """The temporary file of posting arrays that a killed run did not finish (see
    ``posting_arrays``: written as ``.<segment>.arrays.tmp``, then renamed)."""
    return name.startswith(".") and name.endswith(".arrays.tmp")


def _remove_path(p: Path) -> bool:
    try:
        if p.is_dir() and not p.is_symlink():
            shutil.rmtree(p)
        else:
            p.unlink()
    except OSError:
        return False
    return True


def _clean_current(index_dir: Path, name: str) -> list[str]:
    """Delete segment files of generation ``name`` that its latest TOC does not refer to."""
    before = {p.name for p in index_dir.iterdir()}
    try:
        ix = windex.open_dir(str(index_dir), indexname=name)
        toc = ix._read_toc()  # whoosh has no public accessor for the segment list
        windex.clean_files(ix.storage, name, toc.generation, toc.segments)
    except (OSError, windex.EmptyIndexError):
        return []
    return sorted(before - {p.name for p in index_dir.iterdir()})


INTERNAL = "internal error: "


def _is_internal(e: ParseError) -> bool:
    return e.reason.startswith(INTERNAL)


def _parse(found: manifest.Found) -> tuple[str, list[Unit], tuple[str, ...]]:
    """The sha256 of the bytes read, the units and the reader's warnings of one file; every
    failure is a ParseError."""
    from protokollsok import pipeline

    try:
        doc, units = pipeline.units_of(found.path, found.source)
    except ParseError:
        raise
    except OSError as e:  # a reader that let an OS error through (vanished, permissions)
        raise ParseError(found.source, e.strerror or type(e).__name__) from None
    except RecursionError:
        raise ParseError(found.source, "nested too deeply to read") from None
    except MemoryError:
        raise ParseError(found.source, "too large to read into memory") from None
    except Exception as e:  # a bug in a stage must not stop the run or lose the index
        raise ParseError(found.source, f"{INTERNAL}{type(e).__name__}: {e}") from None
    return doc.sha256, units, doc.warnings


def _count(report: IndexReport, units: Iterable[Unit]) -> None:
    for u in units:
        report.units += 1
        kind = u.segment.kind
        if kind == "paragraf":
            report.paragrafer += 1
        elif kind == "bilaga":
            report.bilagor += 1
        else:
            report.dokument += 1


def build_index(
    roots: Sequence[str | Path] | None = None,
    index_dir: str | Path | None = None,
    *,
    full: bool = False,
    chain: str | None = None,
    verify: bool = False,
    progress: Progress | None = None,
    lock_wait: float = 5.0,
) -> IndexReport:
    """Bring the index in ``index_dir`` up to date with the files under ``roots``.

    Only added and changed files are parsed; removed files' units are deleted; everything is
    applied in one commit, so a reader (or a run killed at any moment) sees the previous state or
    the new one. ``full`` rebuilds a new generation from scratch and switches to it atomically.
    A file that fails is listed in ``report.failed`` and recorded in the manifest (so it is not
    parsed again until it changes); a changed file that fails keeps its previous units.
    Raises ``IndexLocked`` when another process holds the lock for longer than ``lock_wait``
    seconds, and ``ProtokollsokError`` when the index cannot be written (disk full): the index
    then stays as it was.
    """
    started = time.monotonic()
    roots = [Path(r) for r in (roots or default_roots())]
    index_dir = Path(index_dir or default_index_dir())
    report = IndexReport()
    with write_lock(index_dir, lock_wait):
        try:
            _update(roots, index_dir, report, full, chain, verify, progress or Progress())
        except OSError as e:
            raise _write_failed(index_dir, e) from e
        with contextlib.suppress(OSError):
            sweep(index_dir)
    report.seconds = time.monotonic() - started
    return report


def _write_failed(index_dir: Path, e: OSError) -> ProtokollsokError:
    reason = "the disk is full" if e.errno == errno.ENOSPC else (e.strerror or str(e))
    return ProtokollsokError(
        f"could not write the index in {index_dir}/: {reason}; the index is unchanged",
        "free some space (or fix the folder's permissions) and run again",
    )


def _update(
    roots: Sequence[Path],
    index_dir: Path,
    report: IndexReport,
    full: bool,
    chain: str | None,
    verify: bool,
    progress: Progress,
) -> None:
    """The body of ``build_index``, run under the write lock."""
    sweep(index_dir)
    info = read_info(index_dir)
    wanted = chain or (info.chain if info else DEFAULT_CHAIN)
    if info is None:  # a first run publishes an empty index at once: killed later, it still opens
        info = _publish_empty(index_dir, wanted)
    files = _discover(roots, report)
    report.files_seen = len(files)
    older = info.schema_version != schema.SCHEMA_VERSION
    if older and not full:
        report.warnings.append((str(index_dir), f"made by another version of protokollsök (index version "
                                f"{info.schema_version}, now {schema.SCHEMA_VERSION}); rebuilt from scratch"))
    rebuild = full or info.chain != wanted or older
    entries = {} if rebuild else _manifest_or_none(index_dir)
    if entries is None:  # the current generation cannot be read (its files were deleted by hand)
        report.warnings.append((str(index_dir), "the index could not be opened; rebuilt from scratch"))
        rebuild, entries = True, {}
    changes = manifest.diff(entries, files, verify=verify)
    report.unchanged = len(changes.unchanged)
    _report_still_failed(report, changes)
    if rebuild:
        _rebuild(index_dir, info, wanted, changes, report, progress)
    elif not changes.empty:  # an unchanged corpus leaves the index untouched
        ix, _ = open_index(index_dir)
        _write(ix, changes, entries, schema.text_fields(info.chain), report, progress, merge=None)


def _rebuild(
    index_dir: Path,
    old: IndexInfo,
    chain: str,
    changes: manifest.Changes,
    report: IndexReport,
    progress: Progress,
) -> None:
    """Write a new generation beside the current one, then switch the pointer to it."""
    ix, target = _new_generation(index_dir, chain)
    _write(ix, changes, {}, schema.text_fields(chain), report, progress, merge=CLEAR)
    _write_info(index_dir, target)
    time.sleep(SWITCH_GRACE)  # a reader that has just read the old pointer opens it in time
    _remove_generation(index_dir, old.indexname)


def _write(
    ix,
    changes: manifest.Changes,
    entries: dict[str, manifest.FileEntry],
    fields: Sequence[str],
    report: IndexReport,
    progress: Progress,
    *,
    merge,
) -> None:
    """Apply ``changes`` in one whoosh transaction: committed whole, or cancelled whole.

    A rebuild of many files analyses and writes them on every core (whoosh's multiprocess writer,
    one segment per process, published by the same single commit)."""
    parallel = merge is CLEAR and len(changes.added) >= parallel_min_files()
    writer = _writer(ix, parallel)
    try:
        _apply(writer, changes, entries, fields, report, progress)
        writer.commit(mergetype=merge)
    except BaseException:
        with contextlib.suppress(Exception):
            writer.cancel()
        raise
    _write_posting_arrays(ix, parallel)
    formstore.flush()  # the forms analysed here, for later searches (a long ``--watch`` included)


def _write_posting_arrays(ix, parallel: bool = False) -> None:
    """The frequent terms' posting arrays of the segments just committed (``posting_arrays``);
    with ``parallel``, one process per core where several segments need them (a parallel
    rebuild's). They only speed searches up, so failing to write them does not fail the run."""
    from protokollsok import posting_arrays  # numpy: not imported by searches that need none

    folder = Path(ix.storage.folder)
    if parallel:
        with contextlib.suppress(OSError):  # a process that could not start: written below instead
            _write_arrays_in_processes(folder, ix, posting_arrays.missing(folder, ix))
    with contextlib.suppress(OSError):
        posting_arrays.write_missing(folder, ix)  # what no process wrote (or all, alone)


def _write_arrays_in_processes(folder: Path, ix, todo: list[str]) -> None:
    """The posting arrays of the segments ``todo``, one forked process per core (this one too)."""
    import multiprocessing

    from protokollsok import posting_arrays

    procs = min(os.cpu_count() or 1, MAX_PROCS, len(todo))
    if procs < 2 or "fork" not in multiprocessing.get_all_start_methods():
        return
    ctx = multiprocessing.get_context("fork")
    _die_with_parent_after_fork()
    started = []
    try:
        for k in range(1, procs):
            p = ctx.Process(target=posting_arrays.write_missing, args=(folder, ix, todo[k::procs]))
            p.start()
            started.append(p)
        posting_arrays.write_missing(folder, ix, todo[0::procs])
    finally:
        for p in started:
            p.join()


def parallel_min_files() -> int:
    """How many files a rebuild needs before it uses every core (``$PROTOKOLLSOK_PARALLEL_FROM``)."""
    try:
        return int(os.environ.get("PROTOKOLLSOK_PARALLEL_FROM", PARALLEL_FROM))
    except ValueError:
        return PARALLEL_FROM


def _writer(ix, parallel: bool):
    """A whoosh writer; with ``parallel`` and more than one core, one writing process per core."""
    procs = min(os.cpu_count() or 1, MAX_PROCS)
    if parallel and procs > 1:
        _die_with_parent_after_fork()
        formstore.flush_in_forked_writers()
        return mpwriter.OrderedMpWriter(ix, procs=procs, limitmb=WRITER_LIMIT_MB // procs)
    return ix.writer(limitmb=WRITER_LIMIT_MB)


class _Orphans:
    """Registered once: every process forked for the writer dies with its parent."""

    registered = False
    parent = 0


def _die_with_parent_after_fork() -> None:
    """whoosh's writer processes wait on a queue forever if the indexer is killed (SIGKILL
    included); ask Linux to kill them when their parent dies (elsewhere: nothing to do)."""
    _Orphans.parent = os.getpid()
    if _Orphans.registered:
        return
    import multiprocessing.util

    multiprocessing.util.register_after_fork(_Orphans, _set_parent_death_signal)
    _Orphans.registered = True


def _set_parent_death_signal(_: object) -> None:
    import ctypes
    import signal

    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != _Orphans.parent:  # the indexer died before the request was made
        os._exit(1)


def _manifest_or_none(index_dir: Path) -> dict[str, manifest.FileEntry] | None:
    try:
        s, _ = open_searcher(index_dir)
    except (IndexNotFound, OSError):
        return None
    with s:
        return manifest.load(s)


def _publish_empty(index_dir: Path, chain: str) -> IndexInfo:
    ix, info = _new_generation(index_dir, chain)
    ix.writer().commit()
    _write_info(index_dir, info)
    return info


def _report_still_failed(report: IndexReport, changes: manifest.Changes) -> None:
    for e in changes.still_failed:
        report.failed.append((e.source, f"{e.reason} (unchanged since it failed; not read again)"))


def _apply(
    writer,
    changes: manifest.Changes,
    entries: dict[str, manifest.FileEntry],
    fields: Sequence[str],
    report: IndexReport,
    progress: Progress,
) -> None:
    for source in changes.removed:
        writer.delete_by_term("source", source)
        report.removed.append(source)
    for entry in changes.touched:
        _put_entry(writer, entry)
    todo = [*changes.added, *changes.changed]
    progress.start(len(todo))
    for f in todo:
        _apply_file(writer, f, entries.get(f.source), fields, report)
        progress.advance(f.source)
    progress.finish()


def _apply_file(
    writer,
    f: manifest.Found,
    old: manifest.FileEntry | None,
    fields: Sequence[str],
    report: IndexReport,
) -> None:
    """Parse one added or changed file and write its units and manifest entry."""
    try:
        sha, units, warnings = _parse(f)
    except NoText as e:  # nothing to index: the file's previous units (if any) go
        report.skipped.append((f.source, e.reason))
        _record_problem(writer, f, old, manifest.EMPTY, e.reason, drop_units=True)
        return
    except ParseError as e:
        report.failed.append((f.source, e.reason))
        if (old is None or old.status != manifest.OK) and not _is_internal(e):
            _record_problem(writer, f, old, manifest.FAILED, e.reason, drop_units=False)
        return  # a changed file keeps its previous units and entry: retried next run
    if old is not None:
        writer.delete_by_term("source", f.source)
        (report.replaced if old.status == manifest.OK else report.added).append(f.source)
    else:
        report.added.append(f.source)
    report.warnings.extend((f.source, w) for w in warnings)
    for u in units:
        writer.add_document(**unit_document(u, fields))
    ids = tuple(u.id for u in units)
    writer.add_document(
        **manifest.entry_document(manifest.FileEntry(f.source, sha, f.size, f.mtime_ns, ids))
    )
    _count(report, units)


def _record_problem(
    writer, f: manifest.Found, old: manifest.FileEntry | None, status: str, reason: str, *, drop_units: bool
) -> None:
    """Record a file that yields no units, so an unchanged copy is not read again."""
    try:
        digest = manifest.sha256_of(f.path)
    except OSError:
        return  # unreadable or gone: no entry, so the next run looks again
    if old is not None:
        writer.delete_by_term("source" if drop_units else "id", _key(f.source, drop_units))
    writer.add_document(
        **manifest.entry_document(
            manifest.FileEntry(f.source, digest, f.size, f.mtime_ns, (), status, reason)
        )
    )


def _key(source: str, whole_source: bool) -> str:
    return source if whole_source else f"{source}#file"


def _put_entry(writer, entry: manifest.FileEntry) -> None:
    writer.delete_by_term("id", f"{entry.source}#file")
    writer.add_document(**manifest.entry_document(entry))


def index_units(
    index_dir: str | Path,
    units: Iterable[Unit],
    *,
    full: bool = True,
    chain: str = DEFAULT_CHAIN,
    parallel: bool = False,
) -> IndexReport:
    """Index ready-made units (benchmarks, evaluation) without reading files.

    With ``full`` the index is replaced by exactly these units; otherwise units are added or
    replaced by id. No manifest entries are written. ``parallel`` writes a full build with one
    process per core, as ``build_index`` does for a rebuild of many files.
    """
    started = time.monotonic()
    index_dir = Path(index_dir)
    report = IndexReport()
    with write_lock(index_dir):
        info = read_info(index_dir)
        if full or info is None:
            ix, new_info = _new_generation(index_dir, chain)
        else:
            ix, new_info = open_index(index_dir)
        fields = schema.text_fields(new_info.chain)
        writer = _writer(ix, parallel=parallel and (full or info is None))
        try:
            for u in units:
                doc = unit_document(u, fields)
                if full or info is None:
                    writer.add_document(**doc)
                else:
                    writer.update_document(**doc)
                _count(report, [u])
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR) if (full or info is None) else writer.commit()
        formstore.flush()
        _write_posting_arrays(ix, parallel and (full or info is None))
        if full or info is None:
            _write_info(index_dir, new_info)
            if info is not None:
                _remove_generation(index_dir, info.indexname)
    report.seconds = time.monotonic() - started
    return report


@dataclass
class CheckReport:
    """What ``check`` found. Each list but ``failed`` and ``empty`` names what a rerun fixes."""

    files: int = 0
    units: int = 0
    not_indexed: list[str] = field(default_factory=list)  # in the corpus, not in the manifest
    changed: list[str] = field(default_factory=list)  # bytes differ from the manifest's sha256
    vanished: list[str] = field(default_factory=list)  # in the manifest, gone from the corpus
    missing_units: list[str] = field(default_factory=list)  # in the manifest, not in the index
    orphan_units: list[str] = field(default_factory=list)  # in the index, in no manifest entry
    failed: list[tuple[str, str]] = field(default_factory=list)  # recorded failures, bytes unchanged
    empty: list[tuple[str, str]] = field(default_factory=list)  # recorded as nothing to index

    @property
    def ok(self) -> bool:
        """True when index, manifest and corpus agree (recorded, unchanged failures agree too)."""
        return not any(self.differences().values())

    def differences(self) -> dict[str, list[str]]:
        """What a rerun of ``index`` would fix, by label, in the order to print them."""
        return {
            "not indexed": self.not_indexed,
            "changed since indexed": self.changed,
            "vanished from the corpus": self.vanished,
            "units missing from the index": self.missing_units,
            "units without a manifest entry": self.orphan_units,
        }

    def notes(self) -> list[str]:
        """One line per file the index knows it could not use (these do not make ``ok`` false)."""
        return [f"failed (unchanged since): {s}: {r}" for s, r in self.failed] + [
            f"nothing to index: {s}: {r}" for s, r in self.empty
        ]


def check(roots: Sequence[str | Path] | None = None, index_dir: str | Path | None = None) -> CheckReport:
    """Verify index, manifest and corpus against each other (every file's sha256 is read)."""
    roots = [Path(r) for r in (roots or default_roots())]
    index_dir = Path(index_dir or default_index_dir())
    ix, _ = open_index(index_dir)
    report = CheckReport()
    with ix.searcher() as s:
        entries = manifest.load(s)
        unit_ids = {
            doc["id"] for doc in s.all_stored_fields() if doc.get("doctype") != manifest.FILE_DOCTYPE
        }
    report.files, report.units = len(entries), len(unit_ids)
    changes = manifest.diff(entries, _discover(roots), verify=True)
    report.not_indexed = sorted(f.source for f in changes.added)
    report.changed = sorted(f.source for f in changes.changed)
    report.vanished = list(changes.removed)
    report.failed = sorted((e.source, e.reason) for e in changes.still_failed)
    kept = set(changes.unchanged)
    report.empty = sorted(
        (e.source, e.reason) for e in entries.values() if e.status == manifest.EMPTY and e.source in kept
    )
    listed = {uid for e in entries.values() for uid in e.unit_ids}
    report.missing_units = sorted(listed - unit_ids)
    report.orphan_units = sorted(unit_ids - listed)
    return report


def open_searcher(index_dir: str | Path, retries: int = 5):
    """A whoosh searcher on the current generation, and its ``IndexInfo``.

    Retries when an update removed files between reading the table of contents and opening the
    segments it names (a merge, or a full rebuild that switched generations).
    """
    for attempt in range(retries):
        ix, info = open_index(Path(index_dir))
        try:
            return ix.searcher(), info
        except (OSError, windex.EmptyIndexError):
            if attempt == retries - 1:
                raise IndexNotFound(str(index_dir)) from None
            time.sleep(0.02 * (attempt + 1))
    raise IndexNotFound(str(index_dir))


def corpus_signature(roots: Sequence[str | Path]) -> frozenset[tuple[str, int, int]]:
    """(source, size, mtime) of every file under ``roots``: cheap, no file is read."""
    return frozenset((f.source, f.size, f.mtime_ns) for f in _discover([Path(r) for r in roots]))


def watch(
    roots: Sequence[str | Path] | None = None,
    index_dir: str | Path | None = None,
    *,
    interval: float = 5.0,
    on_report: Callable[[IndexReport], None] | None = None,
    on_error: Callable[[ProtokollsokError], None] | None = None,
    stop: Callable[[], bool] | None = None,
) -> None:
    """Bring the index up to date now, then again whenever files appear, change or vanish.

    Polls the corpus every ``interval`` seconds (stat only). Each run's report goes to
    ``on_report``; an error of one run (the index locked by someone else, a full disk) goes to
    ``on_error`` and the watch goes on (without ``on_error`` it is raised). Runs until ``stop()``
    returns True (checked once per interval) or the process is interrupted.
    """
    roots = [Path(r) for r in (roots or default_roots())]
    last: frozenset[tuple[str, int, int]] | None = None
    while True:
        sig = corpus_signature(roots)
        if sig != last:
            try:
                report = build_index(roots, index_dir)
            except ProtokollsokError as e:
                if on_error is None:
                    raise
                on_error(e)
            else:
                last = sig
                if on_report is not None:
                    on_report(report)
        if stop is not None and stop():
            return
        time.sleep(interval)
