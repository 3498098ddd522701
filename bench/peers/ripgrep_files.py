"""ripgrep (Debian) over the units written as files: one file per unit, 1,000 files per folder.

Prints the matching files (``rg -l``): the whole tree is scanned per query. Filters cannot be
expressed over plain files and are ignored (the filtered queries are not comparable).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query
from peers.ripgrep_common import RG, run, simple_regex, text_lookaheads

NAME = "ripgrep-files"


def build(units: Iterable[Unit], index_dir: Path) -> None:
    """Write each unit's title and text to ``index_dir/<n // 1000>/<n>.txt``."""
    for n, u in enumerate(units):
        folder = index_dir / f"{n // 1000:04d}"
        if n % 1000 == 0:
            folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{n}.txt").write_text(f"{u.segment.title}\n{u.segment.text}", encoding="utf-8")


def cli_argv(index_dir: Path, query: Query) -> list[str]:
    """The rg command listing the files that match."""
    simple = simple_regex(query)
    if simple is not None:
        return [RG, "-l", "-i", "-U", simple, str(index_dir)]
    return [RG, "-l", "-i", "-U", "-P", r"(?s)\A" + text_lookaheads(query, "."), str(index_dir)]


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """Each query is one rg run (there is no in-process ripgrep); returns the first 10 files."""
    return lambda query: run(cli_argv(index_dir, query))[:10]
