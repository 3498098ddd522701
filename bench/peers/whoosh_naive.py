"""whoosh used naively: default analyzer (StandardAnalyzer), default writer, default parser.

This is what a developer gets from the whoosh tutorial: no Swedish stemming, English stop words,
``ix.writer()`` with its defaults (one process, 128 MB), ``MultifieldParser`` over title and body
(AND between words), filters as a whoosh ``filter`` query, highlights from the stored body.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from whoosh import index
from whoosh.fields import ID, KEYWORD, TEXT, Schema
from whoosh.qparser import MultifieldParser
from whoosh.query import And, Term, TermRange

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query

NAME = "whoosh-naive"


def schema() -> Schema:
    """The obvious schema: text fields with the default analyzer, ids and keywords for filters."""
    return Schema(
        id=ID(stored=True, unique=True),
        title=TEXT(stored=True),
        body=TEXT(stored=True),
        namnd=ID(stored=True),
        datum=ID(stored=True),
        parti=KEYWORD(stored=True, commas=True),
        dnr=KEYWORD(stored=True, commas=True),
    )


def build(units: Iterable[Unit], index_dir: Path) -> None:
    """Create a whoosh index in ``index_dir`` holding the units."""
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = index.create_in(str(index_dir), schema())
    w = ix.writer()
    for u in units:
        s, m = u.segment, u.meta
        w.add_document(id=s.id, title=s.title, body=s.text, namnd=m.namnd or "",
                       datum=m.datum or "", parti=",".join(m.parti), dnr=",".join(m.dnr))
    w.commit()


def _filter(query: Query):
    f = query.filters
    terms = []
    if "namnd" in f:
        terms.append(Term("namnd", f["namnd"]))
    if "parti" in f:
        terms.append(Term("parti", f["parti"]))
    if "date_from" in f or "date_to" in f:
        terms.append(TermRange("datum", f.get("date_from"), f.get("date_to")))
    return And(terms) if terms else None


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """A function running one query: top 10 by BM25F, with title and highlights fetched."""
    ix = index.open_dir(str(index_dir))
    searcher = ix.searcher()
    parser = MultifieldParser(["title", "body"], ix.schema)

    def search(query: Query) -> list[str]:
        q = parser.parse(query.text)
        results = searcher.search(q, limit=10, filter=_filter(query))
        out = []
        for hit in results:
            hit.highlights("body")
            out.append(hit["id"])
        return out

    return search


def cli_argv(index_dir: Path, query: Query) -> list[str]:
    """One fresh Python process running the query (import + open + query)."""
    return [sys.executable, str(Path(__file__).with_name("cli.py")), NAME, str(index_dir), query.name]
