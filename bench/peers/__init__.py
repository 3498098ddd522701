"""The systems the benchmark compares, each behind the same small interface.

A peer module offers::

    NAME: str
    build(units: Iterable[Unit], index_dir: Path) -> None     # index the units from scratch
    open_searcher(index_dir: Path) -> Callable[[Query], list[str]]   # top-10 unit ids
    cli_argv(index_dir: Path, query: Query) -> list[str]      # one fresh process per query

``PEERS`` maps a peer's name to its module name (imported lazily, so a missing optional
dependency only disables that peer).
"""

from __future__ import annotations

import importlib
from types import ModuleType

PEERS: dict[str, str] = {
    "protokollsok": "peers.product",
    "whoosh-naive": "peers.whoosh_naive",
    "fts5": "peers.fts5",
    "tantivy": "peers.tantivy_peer",
    "ripgrep-files": "peers.ripgrep_files",
    "ripgrep-bigfile": "peers.ripgrep_bigfile",
}


def load(name: str) -> ModuleType:
    """The module of peer ``name`` (raises ImportError when its library is not installed)."""
    return importlib.import_module(PEERS[name])
