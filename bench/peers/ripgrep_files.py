"""ripgrep (Debian) over the units written as files: one file per unit, 1,000 files per folder.

Prints the matching files (``rg -l``): the whole tree is scanned per query. Filters cannot be
expressed over plain files and are ignored (the filtered queries are not comparable).
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query
from peers.ripgrep_common import RG, phrase_regex, run, simple_regex

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
    # Several words: one rg per word over the files the previous one listed (a PCRE2 look-ahead
    # over whole files makes rg 13 segfault).
    first, *rest = (phrase_regex([w]) for w in query.words)
    cmd = f"{RG} -l -0 -i {shlex.quote(first)} {shlex.quote(str(index_dir))}"
    for rx in rest:
        cmd += f" | xargs -0 -r {RG} -l -0 -i {shlex.quote(rx)}"
    return ["sh", "-c", cmd + " | tr '\\0' '\\n'"]


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """Each query is one rg run (there is no in-process ripgrep); returns the first 10 files."""
    return lambda query: run(cli_argv(index_dir, query))[:10]
