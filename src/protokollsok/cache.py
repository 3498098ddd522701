"""A small on-disk cache for tables derived from files (the dictionary's stems, word frequencies).

Each table is pickled under ``$PROTOKOLLSOK_CACHE`` (default ``$XDG_CACHE_HOME/protokollsok`` or
``~/.cache/protokollsok``), keyed by the path, size and mtime of the files it was derived from and by
the version of the code that derives it, so a changed source rebuilds it. A cache that cannot be
read or written is simply bypassed: the table is then derived in memory as before.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def cache_dir() -> Path:
    """Where derived tables are kept."""
    if os.environ.get("PROTOKOLLSOK_CACHE"):
        return Path(os.environ["PROTOKOLLSOK_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "protokollsok"


def _key(name: str, version: int, sources: Sequence[Path]) -> str:
    parts = [name, str(version)]
    for src in sources:
        st = Path(src).stat()
        parts += [str(Path(src).resolve()), str(st.st_size), str(st.st_mtime_ns)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()[:20]


def derived(name: str, version: int, sources: Sequence[Path], build: Callable[[], T]) -> T:
    """``build()``'s result, from the cache when its sources are unchanged (else built and kept)."""
    try:
        path = cache_dir() / f"{name}-{_key(name, version, sources)}.pickle"
    except OSError:
        return build()
    with (
        contextlib.suppress(OSError, pickle.UnpicklingError, EOFError, AttributeError, ValueError),
        path.open("rb") as fh,
    ):
        return pickle.load(fh)
    value = build()
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        for old in path.parent.glob(f"{name}-*.pickle"):
            old.unlink(missing_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{name}-")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        Path(tmp).replace(path)
    return value
