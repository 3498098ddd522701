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
  a killed process is recovered by the next run.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import time
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from whoosh import index as windex
from whoosh.writing import CLEAR

from protokollsok import ingest, manifest, schema
from protokollsok.errors import IndexLocked, IndexNotFound, NoText, ParseError, ProtokollsokError
from protokollsok.model import IndexReport, Unit

META_FILE = "protokollsok.json"
LOCK_FILE = "protokollsok.lock"
DEFAULT_CHAIN = "full"
WRITER_LIMIT_MB = 256


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
    with open(tmp, "rb") as f:
        os.fsync(f.fileno())
    tmp.replace(Path(index_dir) / META_FILE)


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
            return windex.open_dir(str(index_dir), indexname=info.indexname), info
        except (OSError, windex.EmptyIndexError):
            if attempt == retries - 1:
                raise IndexNotFound(str(index_dir)) from None
            time.sleep(0.05)
    raise IndexNotFound(str(index_dir))


@contextlib.contextmanager
def write_lock(index_dir: Path, wait: float = 5.0) -> Iterator[None]:
    """Hold the index's write lock; wait up to ``wait`` seconds, then raise ``IndexLocked``."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / LOCK_FILE
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
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
        os.write(fd, f"{os.getpid()} {time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        yield
    finally:
        os.close(fd)  # closing releases the flock


def _locked_error(index_dir: Path, path: Path) -> IndexLocked:
    try:
        holder = path.read_text(encoding="utf-8").split()
    except OSError:
        holder = []
    who = f"process {holder[0]} (since {' '.join(holder[1:3])})" if holder else "another process"
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


def _discover(roots: Sequence[Path]) -> list[manifest.Found]:
    files: list[manifest.Found] = []
    for root in roots:
        if not Path(root).exists():
            raise ProtokollsokError(f"corpus {root} does not exist", "give a folder or file to index")
        prefix = f"{Path(root).resolve().name}/" if len(roots) > 1 else ""
        for path, source in ingest.discover([root]):
            f = manifest.found(path, prefix + source)
            if f is not None:
                files.append(f)
    return files


def _new_generation(index_dir: Path, chain: str):
    name = f"g{time.time_ns():x}"
    ix = windex.create_in(str(index_dir), schema.build_schema(chain), indexname=name)
    return ix, IndexInfo(name, chain, schema.SCHEMA_VERSION)


def _remove_generation(index_dir: Path, name: str) -> None:
    for p in index_dir.iterdir():
        if p.name.startswith((f"_{name}_", f"{name}_")):
            with contextlib.suppress(OSError):
                p.unlink()


def _parse(found: manifest.Found, report: IndexReport) -> list[Unit] | None:
    from protokollsok import pipeline

    try:
        _, units = pipeline.units_of(found.path, found.source)
    except NoText as e:
        report.warnings.append((found.source, e.reason))
        return None
    except ParseError as e:
        report.failed.append((found.source, e.reason))
        return None
    except Exception as e:  # a bug in a stage must not stop the run or lose the index
        report.failed.append((found.source, f"internal error: {type(e).__name__}: {e}"))
        return None
    return units


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
    applied in one commit. ``full`` rebuilds a new generation from scratch and switches to it
    atomically. A file that fails keeps its previous units (if any) and is listed in the report.
    """
    started = time.monotonic()
    roots = [Path(r) for r in (roots or default_roots())]
    index_dir = Path(index_dir or default_index_dir())
    progress = progress or Progress()
    report = IndexReport()
    with write_lock(index_dir, lock_wait):
        files = _discover(roots)
        report.files_seen = len(files)
        info = read_info(index_dir)
        wanted_chain = chain or (info.chain if info else DEFAULT_CHAIN)
        rebuild = (
            full
            or info is None
            or info.chain != wanted_chain
            or info.schema_version != schema.SCHEMA_VERSION
        )
        old = None
        if rebuild:
            ix, new_info = _new_generation(index_dir, wanted_chain)
            changes = manifest.Changes(added=files)
        else:
            ix, _ = open_index(index_dir)
            new_info = info
            with ix.searcher() as s:
                changes = manifest.diff(manifest.load(s), files, verify=verify)
        fields = schema.text_fields(new_info.chain)
        writer = ix.writer(limitmb=WRITER_LIMIT_MB)
        try:
            _apply(writer, changes, fields, report, progress, replace_all=rebuild)
        except BaseException:
            writer.cancel()
            raise
        writer.commit(mergetype=CLEAR) if rebuild else writer.commit()
        if rebuild:
            old = info
            _write_info(index_dir, new_info)
            if old is not None and old.indexname != new_info.indexname:
                _remove_generation(index_dir, old.indexname)
        report.unchanged = len(changes.unchanged)
    report.seconds = time.monotonic() - started
    return report


def _apply(
    writer,
    changes: manifest.Changes,
    fields: Sequence[str],
    report: IndexReport,
    progress: Progress,
    *,
    replace_all: bool,
) -> None:
    for source in changes.removed:
        writer.delete_by_term("source", source)
        report.removed.append(source)
    for f in changes.touched:
        writer.delete_by_term("id", f"{f.source}#file")
        writer.add_document(**manifest.entry_document(_entry_of(f, None)))
    todo = [*changes.added, *changes.changed]
    changed = {f.source for f in changes.changed}
    progress.start(len(todo))
    for f in todo:
        units = _parse(f, report)
        progress.advance(f.source)
        if units is None:
            continue
        if f.source in changed and not replace_all:
            writer.delete_by_term("source", f.source)
            report.replaced.append(f.source)
        else:
            report.added.append(f.source)
        for u in units:
            writer.add_document(**unit_document(u, fields))
        writer.add_document(**manifest.entry_document(_entry_of(f, units)))
        _count(report, units)
    progress.finish()


def _entry_of(f: manifest.Found, units: list[Unit] | None) -> manifest.FileEntry:
    try:
        digest = manifest.sha256_of(f.path)
    except OSError:
        digest = ""
    ids = tuple(u.id for u in units) if units is not None else ()
    return manifest.FileEntry(f.source, digest, f.size, f.mtime_ns, ids)


def index_units(
    index_dir: str | Path, units: Iterable[Unit], *, full: bool = True, chain: str = DEFAULT_CHAIN
) -> IndexReport:
    """Index ready-made units (benchmarks, evaluation) without reading files.

    With ``full`` the index is replaced by exactly these units; otherwise units are added or
    replaced by id. No manifest entries are written.
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
        writer = ix.writer(limitmb=WRITER_LIMIT_MB)
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
        if full or info is None:
            _write_info(index_dir, new_info)
            if info is not None:
                _remove_generation(index_dir, info.indexname)
    report.seconds = time.monotonic() - started
    return report


OnProblem = Callable[[str], None]


@dataclass
class CheckReport:
    """What ``check`` found: each list names what a rerun of ``index`` would fix."""

    files: int = 0
    units: int = 0
    not_indexed: list[str] = field(default_factory=list)  # in the corpus, not in the manifest
    changed: list[str] = field(default_factory=list)  # bytes differ from the manifest's sha256
    vanished: list[str] = field(default_factory=list)  # in the manifest, gone from the corpus
    missing_units: list[str] = field(default_factory=list)  # in the manifest, not in the index
    orphan_units: list[str] = field(default_factory=list)  # in the index, no manifest entry

    @property
    def ok(self) -> bool:
        """True when index, manifest and corpus agree."""
        return not (
            self.not_indexed or self.changed or self.vanished or self.missing_units or self.orphan_units
        )


def check(roots: Sequence[str | Path] | None = None, index_dir: str | Path | None = None) -> CheckReport:
    """Verify index, manifest and corpus against each other (every file's sha256 is read)."""
    roots = [Path(r) for r in (roots or default_roots())]
    index_dir = Path(index_dir or default_index_dir())
    ix, _ = open_index(index_dir)
    report = CheckReport()
    with ix.searcher() as s:
        entries = manifest.load(s)
        unit_sources: dict[str, str] = {}
        for doc in s.all_stored_fields():
            if doc.get("doctype") != manifest.FILE_DOCTYPE:
                unit_sources[doc["id"]] = doc.get("source", "")
    report.files, report.units = len(entries), len(unit_sources)
    changes = manifest.diff(entries, _discover(roots), verify=True)
    report.not_indexed = sorted(f.source for f in changes.added)
    report.changed = sorted(f.source for f in changes.changed)
    report.vanished = list(changes.removed)
    listed = {uid for e in entries.values() for uid in e.unit_ids}
    report.missing_units = sorted(listed - unit_sources.keys())
    report.orphan_units = sorted(u for u, src in unit_sources.items() if src not in entries)
    return report
