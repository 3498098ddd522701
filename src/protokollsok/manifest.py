"""What is indexed, and what changed in the corpus since.

The manifest lives inside the whoosh index as one bookkeeping document per source file (``doctype``
``file``: source, sha256, size and mtime, unit ids), so it is committed in the same transaction as the
units it describes: after a crash the manifest can never disagree with the index.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

FILE_DOCTYPE = "file"


@dataclass(frozen=True)
class FileEntry:
    """One indexed source file."""

    source: str
    sha256: str
    size: int
    mtime_ns: int
    unit_ids: tuple[str, ...]


@dataclass(frozen=True)
class Found:
    """One file found in the corpus."""

    path: Path
    source: str
    size: int
    mtime_ns: int


@dataclass
class Changes:
    """The difference between the corpus and the manifest."""

    added: list[Found] = field(default_factory=list)
    changed: list[Found] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    touched: list[Found] = field(default_factory=list)  # same bytes, new mtime: refresh the entry

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed)


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
        entries[doc["source"]] = FileEntry(
            source=doc["source"],
            sha256=doc.get("sha256", ""),
            size=int(doc.get("file_size", -1)),
            mtime_ns=int(doc.get("file_mtime_ns", -1)),
            unit_ids=tuple(doc.get("unit_ids", ())),
        )
    return entries


def entry_document(entry: FileEntry) -> dict[str, object]:
    """The bookkeeping document that records ``entry`` in the index."""
    return {
        "id": f"{entry.source}#file",
        "source": entry.source,
        "doctype": FILE_DOCTYPE,
        "kind": FILE_DOCTYPE,
        "sha256": entry.sha256,
        "file_size": entry.size,
        "file_mtime_ns": entry.mtime_ns,
        "unit_ids": list(entry.unit_ids),
    }


def diff(manifest: dict[str, FileEntry], files: Iterable[Found], *, verify: bool = False) -> Changes:
    """Compare the corpus with the manifest.

    A file whose size and mtime are unchanged is taken as unchanged without being read, unless
    ``verify``; otherwise its sha256 decides (a touched but identical file stays unchanged).
    """
    changes = Changes()
    seen: set[str] = set()
    for f in files:
        seen.add(f.source)
        old = manifest.get(f.source)
        if old is None:
            changes.added.append(f)
        elif not verify and (old.size, old.mtime_ns) == (f.size, f.mtime_ns):
            changes.unchanged.append(f.source)
        elif _same_content(f, old):
            changes.unchanged.append(f.source)
            changes.touched.append(f)
        else:
            changes.changed.append(f)
    changes.removed = sorted(s for s in manifest if s not in seen)
    return changes


def _same_content(f: Found, old: FileEntry) -> bool:
    try:
        return sha256_of(f.path) == old.sha256
    except OSError:
        return False
