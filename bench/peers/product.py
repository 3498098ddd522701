"""protokollsök itself: ``index.index_units`` to build, ``search.search`` to query in-process,
``protokollsok search QUERY --index DIR --json`` end to end."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query

NAME = "protokollsok"
CHAIN = "full"
# search() keyword -> CLI option
CLI_OPTIONS = {
    "namnd": "--namnd",
    "parti": "--parti",
    "dnr": "--dnr",
    "date_from": "--from",
    "date_to": "--to",
}


def build(units: Iterable[Unit], index_dir: Path) -> None:
    """A full build of the units with the full analysis chain, from an empty forms store (as a
    first index run on a machine: every word is analysed, none is read back from earlier runs)."""
    from protokollsok import formstore
    from protokollsok.cache import cache_dir
    from protokollsok.index import index_units

    for path in cache_dir().glob("forms-*.sqlite*"):
        path.unlink(missing_ok=True)
    formstore._Store.conn = None  # reopened (created empty) on first use
    index_units(index_dir, units, full=True, chain=CHAIN, parallel=True)  # as `index` rebuilds


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """``search.search`` with the query's filters; top 10 hits (with snippets, as the product
    always makes them)."""
    from protokollsok.search import search as product_search

    def search(query: Query) -> list[str]:
        result = product_search(index_dir, query.text, limit=10, **query.filters)
        return [h.id for h in result.hits]

    return search


def cli_argv(index_dir: Path, query: Query) -> list[str]:
    """The product's own command, as a user types it."""
    exe = Path(sys.executable).with_name("protokollsok")
    argv = [str(exe), "search", query.text, "--index", str(index_dir), "--json"]
    for key, value in query.filters.items():
        argv += [CLI_OPTIONS[key], value]
    return argv
