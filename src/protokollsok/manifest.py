"""What is indexed, and what changed in the corpus since.

The manifest lives inside the whoosh index as one bookkeeping document per source file (``doctype``
``file``: source, sha256, size and mtime, unit ids), so it is committed in the same transaction as the
units it describes: after a crash the manifest can never disagree with the index.

A file that could not be used is recorded too, with its sha256 and the reason, so that an unchanged
bad file is not parsed again on every run and ``check`` can tell "failed, unchanged since" from
"never indexed". Status ``failed`` (a ``ParseError``) or ``empty`` (a ``NoText``: nothing to index)
and the reason are kept in the bookkeeping document's stored ``body`` as ``"<status>: <reason>"``.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from pathlib import Path

FILE_DOCTYPE = "file"
OK, FAILED, EMPTY = "ok", "failed", "empty"


@dataclass(frozen=True)
class FileEntry:
    """One source file the index knows about: indexed (``ok``), ``failed`` or ``empty``."""

    source: str
    sha256: str
    size: int
    mtime_ns: int
    unit_ids: tuple[str, ...]
    status: str = OK
    reason: str = ""


@dataclass(frozen=True)
class Found:
    """One file found in the corpus."""

    path: Path
    source: str
    size: int
    mtime_ns: int


@dataclass
class Changes:
    """The difference between the corpus and the manifest.

    Every found file lands in exactly one of ``added``, ``changed``, ``unchanged`` and
    ``still_failed``. ``touched`` holds the refreshed entries of files whose bytes are the same but
    whose size/mtime record is stale (copied, touched): rewriting them spares the next run a hash.
    """

    added: list[Found] = field(default_factory=list)
    changed: list[Found] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    touched: list[FileEntry] = field(default_factory=list)
    still_failed: list[FileEntry] = field(default_factory=list)  # failed before, bytes unchanged

    @property
    def empty(self) -> bool:
        """True when nothing needs to be parsed, deleted or refreshed."""
        return not (self.added or self.changed or self.removed or self.touched)


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file's bytes, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def found(path: Path, source: str) -> Found | None:
    """Stat a corpus file; None when it cannot be stat'ed (vanished, broken link)."""
    try:
        st = Path(path).stat()
    except OSError:
        return None
    return Found(path, source, st.st_size, st.st_mtime_ns)


def load(searcher) -> dict[str, FileEntry]:
    """The manifest of an open whoosh searcher: source -> FileEntry."""
    entries: dict[str, FileEntry] = {}
    for doc in searcher.documents(doctype=FILE_DOCTYPE):
        status, reason = _status_of(doc.get("body"))
        entries[doc["source"]] = FileEntry(
            source=doc["source"],
            sha256=doc.get("sha256", ""),
            size=int(doc.get("file_size", -1)),
            mtime_ns=int(doc.get("file_mtime_ns", -1)),
            unit_ids=tuple(doc.get("unit_ids", ())),
            status=status,
            reason=reason,
        )
    return entries


def _status_of(body: object) -> tuple[str, str]:
    if not isinstance(body, str) or not body:
        return OK, ""
    status, _, reason = body.partition(": ")
    return (status, reason) if status in (FAILED, EMPTY) else (OK, "")


def entry_document(entry: FileEntry) -> dict[str, object]:
    """The bookkeeping document that records ``entry`` in the index."""
    doc: dict[str, object] = {
        "id": f"{entry.source}#file",
        "source": entry.source,
        "doctype": FILE_DOCTYPE,
        "kind": FILE_DOCTYPE,
        "sha256": entry.sha256,
        "file_size": entry.size,
        "file_mtime_ns": entry.mtime_ns,
        "unit_ids": list(entry.unit_ids),
    }
    if entry.status != OK:
        doc["body"] = f"{entry.status}: {entry.reason}"
    return doc


def diff(manifest: dict[str, FileEntry], files: Iterable[Found], *, verify: bool = False) -> Changes:
    """Compare the corpus with the manifest.

    A file whose size and mtime are unchanged is taken as unchanged without being read, unless
    ``verify``; otherwise its sha256 decides (a touched but identical file stays unchanged). A file
    recorded as failed whose bytes are unchanged goes to ``still_failed``, not to be parsed again.
    """
    changes = Changes()
    seen: set[str] = set()
    for f in files:
        if f.source in seen:
            continue
        seen.add(f.source)
        old = manifest.get(f.source)
        if old is None:
            changes.added.append(f)
        elif not verify and (old.size, old.mtime_ns) == (f.size, f.mtime_ns):
            _keep(changes, f, old)
        elif _same_content(f, old):
            _keep(changes, f, old)
            changes.touched.append(replace(old, size=f.size, mtime_ns=f.mtime_ns))
        else:
            changes.changed.append(f)
    changes.removed = sorted(s for s in manifest if s not in seen)
    return changes


def _keep(changes: Changes, f: Found, old: FileEntry) -> None:
    if old.status == FAILED:
        changes.still_failed.append(old)
    else:
        changes.unchanged.append(f.source)


def _same_content(f: Found, old: FileEntry) -> bool:
    try:
        return bool(old.sha256) and sha256_of(f.path) == old.sha256
    except OSError:
        return False
