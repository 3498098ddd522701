"""ripgrep (Debian) over one big file: one unit per line, metadata in tab-separated columns.

Line layout: ``id \\t namnd \\t datum \\t ,parti, \\t dnr \\t title text`` (line breaks in the text
become spaces). Filters are regexes on the metadata columns (date ranges by whole years, which is
what the query mix uses). ``rg -c`` counts the matching units: the whole file is scanned per query.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query
from peers.ripgrep_common import RG, run, simple_regex, text_lookaheads

NAME = "ripgrep-bigfile"
FILE = "units.tsv"
_NL = re.compile(r"\s*\n\s*")


def build(units: Iterable[Unit], index_dir: Path) -> None:
    """Write all units to ``index_dir/units.tsv``, one per line."""
    index_dir.mkdir(parents=True, exist_ok=True)
    with open(index_dir / FILE, "w", encoding="utf-8") as f:
        for u in units:
            s, m = u.segment, u.meta
            text = _NL.sub(" ", f"{s.title} {s.text}").replace("\t", " ")
            cols = (s.id, m.namnd or "", m.datum or "", f",{','.join(m.parti)},", ",".join(m.dnr), text)
            f.write("\t".join(cols) + "\n")


def _filter_prefix(query: Query) -> str:
    f = query.filters
    namnd = re.escape(f["namnd"]) if "namnd" in f else "[^\t]*"
    datum = "[^\t]*"
    if "date_from" in f or "date_to" in f:
        years = range(int(f.get("date_from", "1900")[:4]), int(f.get("date_to", "2100")[:4]) + 1)
        datum = "(?:" + "|".join(str(y) for y in years) + ")-[^\t]*"
    parti = f"[^\t]*,{re.escape(f['parti'])},[^\t]*" if "parti" in f else "[^\t]*"
    return f"^[^\t]*\t{namnd}\t{datum}\t{parti}\t"


def cli_argv(index_dir: Path, query: Query) -> list[str]:
    """The rg command counting the matching units."""
    path = str(index_dir / FILE)
    simple = simple_regex(query)
    if simple is not None and not query.filters:
        return [RG, "-c", "-i", simple, path]
    return [RG, "-c", "-i", "-P", _filter_prefix(query) + text_lookaheads(query, "."), path]


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """Each query is one rg run (there is no in-process ripgrep); returns the count as one line."""
    return lambda query: run(cli_argv(index_dir, query))
