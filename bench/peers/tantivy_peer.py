"""tantivy (PyPI ``tantivy``) with its Swedish Snowball stemmer.

Title and body go through ``simple`` tokenizer -> remove_long -> lowercase -> stemmer("swedish");
namnd, parti and dnr are ``raw`` (untokenized) fields for filters; the date is an indexed fast
integer ``YYYYMMDD`` for range filters. Words are ANDed (``conjunction_by_default``), as in the
product. The writer uses tantivy's defaults (one thread per core).
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import tantivy

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query

NAME = "tantivy"
TOKENIZER = "sv_stem"


def _analyzer() -> tantivy.TextAnalyzer:
    return (
        tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.simple())
        .filter(tantivy.Filter.remove_long(40))
        .filter(tantivy.Filter.lowercase())
        .filter(tantivy.Filter.stemmer("swedish"))
        .build()
    )


def schema() -> tantivy.Schema:
    """Stemmed text fields, raw keyword fields and an integer date."""
    b = tantivy.SchemaBuilder()
    b.add_text_field("id", stored=True, tokenizer_name="raw")
    b.add_text_field("title", stored=True, tokenizer_name=TOKENIZER)
    b.add_text_field("body", stored=True, tokenizer_name=TOKENIZER)
    b.add_text_field("namnd", stored=True, tokenizer_name="raw")
    b.add_text_field("parti", stored=True, tokenizer_name="raw")
    b.add_text_field("dnr", stored=True, tokenizer_name="raw")
    b.add_integer_field("datum", stored=True, indexed=True, fast=True)
    return b.build()


def _open(index_dir: Path, create: bool = False) -> tantivy.Index:
    ix = tantivy.Index(schema(), path=str(index_dir), reuse=not create)
    ix.register_tokenizer(TOKENIZER, _analyzer())
    return ix


def _date(iso: str | None) -> int | None:
    return int(iso.replace("-", "")) if iso else None


def build(units: Iterable[Unit], index_dir: Path) -> None:
    """Create a tantivy index in ``index_dir`` holding the units."""
    index_dir.mkdir(parents=True, exist_ok=True)
    ix = _open(index_dir, create=True)
    w = ix.writer()
    for u in units:
        s, m = u.segment, u.meta
        fields: dict[str, object] = {"id": s.id, "title": s.title, "body": s.text}
        if m.namnd:
            fields["namnd"] = m.namnd
        if m.parti:
            fields["parti"] = list(m.parti)
        if m.dnr:
            fields["dnr"] = list(m.dnr)
        d = _date(m.datum)
        if d is not None:
            fields["datum"] = d
        w.add_document(tantivy.Document(**fields))
    w.commit()
    w.wait_merging_threads()


def _text_query(ix: tantivy.Index, query: Query) -> tantivy.Query:
    if query.category == "dnr":
        exact = tantivy.Query.term_query(ix.schema, "dnr", query.text)
        phrase = ix.parse_query(f'"{query.text}"', ["title", "body"])
        return tantivy.Query.boolean_query(
            [(tantivy.Occur.Should, exact), (tantivy.Occur.Should, phrase)]
        )
    return ix.parse_query(query.text, ["title", "body"], conjunction_by_default=True)


def _query(ix: tantivy.Index, query: Query) -> tantivy.Query:
    f = query.filters
    must = [(tantivy.Occur.Must, _text_query(ix, query))]
    for field in ("namnd", "parti"):
        if field in f:
            must.append((tantivy.Occur.Must, tantivy.Query.term_query(ix.schema, field, f[field])))
    if "date_from" in f or "date_to" in f:
        rq = tantivy.Query.range_query(ix.schema, "datum", tantivy.FieldType.Integer,
                                       _date(f.get("date_from")), _date(f.get("date_to")))
        must.append((tantivy.Occur.Must, rq))
    return tantivy.Query.boolean_query(must)


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """A function running one query: top 10 by BM25, with stored fields and a snippet."""
    ix = _open(index_dir)
    searcher = ix.searcher()

    def search(query: Query) -> list[str]:
        q = _query(ix, query)
        result = searcher.search(q, 10)
        snip = tantivy.SnippetGenerator.create(searcher, q, ix.schema, "body")
        out = []
        for _score, addr in result.hits:
            doc = searcher.doc(addr)
            snip.snippet_from_doc(doc)
            out.append(doc["id"][0])
        return out

    return search


def cli_argv(index_dir: Path, query: Query) -> list[str]:
    """One fresh Python process running the query (import + open + query)."""
    return [sys.executable, str(Path(__file__).with_name("cli.py")), NAME, str(index_dir), query.name]
