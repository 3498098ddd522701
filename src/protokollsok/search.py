"""Search the index: query -> ranked hits with snippets, facet counts and a "Menade du" suggestion.

Ranking is whoosh's BM25F over the analysed forms of each query word, each form in its own field
with its own weight (``schema.FIELD_BOOSTS``: exact > stem > compound part > folded), plus the
title; a multi-word query also scores its words' proximity (a sloppy phrase on stems). Ties are
broken by date, newest first.
"""

from __future__ import annotations

import bisect
import importlib.util
import re
import sys
import threading
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from whoosh import query as wq
from whoosh import sorting
from whoosh.columns import TranslatingColumnReader, VarBytesColumn
from whoosh.fields import FieldType
from whoosh.reading import TermNotFound

from protokollsok import analysis, index, schema, snippets, termtable, whoosh_fixes  # noqa: F401 (patches whoosh)
from protokollsok.errors import QueryError
from protokollsok.model import Hit
from protokollsok.phrases import PAIR_FIELD, PairPhrase
from protokollsok.postings import leaf_ids
from protokollsok.query import Clause, ParsedQuery, date_bound, parse
from protokollsok.restrict import OnlyDocs

SORTS = ("relevance", "date")
FACETS = ("namnd", "parti", "year")
PROXIMITY_SLOP = 3
PROXIMITY_BOOST = 1.0
COLUMN_RANGES = ("datum",)  # ID fields whose column holds each document's one term (ranges read it)
SUGGEST_BELOW = 3  # offer "Menade du" when a query has fewer hits than this


@dataclass
class SearchResult:
    """What a search returns (``search --json`` prints ``to_json()``)."""

    query: str
    total: int
    hits: list[Hit]
    facets: dict[str, list[tuple[str, int]]] = field(default_factory=dict)
    suggestion: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape."""
        return {
            "query": self.query,
            "total": self.total,
            "hits": [h.to_json() for h in self.hits],
            "facets": {k: [[v, n] for v, n in vs] for k, vs in self.facets.items()},
            "suggestion": self.suggestion,
        }


class _Opened:
    """An index opened once per process and reused while it is current."""

    _lock = threading.Lock()
    _cache: ClassVar[dict[str, tuple[str, Any]]] = {}  # index dir -> (generation, searcher)

    @classmethod
    def searcher(cls, index_dir: Path):
        """A searcher on the current generation, refreshed when the index has changed."""
        key = str(Path(index_dir).resolve())
        with cls._lock:
            info = index.read_info(Path(index_dir))
            cached = cls._cache.get(key)
            if cached and info and cached[0] == info.indexname and cached[1].up_to_date():
                return cached[1], info
            # A new searcher, not whoosh's refresh(): refresh reuses segment readers and can count
            # a segment that a merge has just replaced twice. The old searcher is left to the
            # garbage collector, so a thread still using it is not cut off.
            s, info = index.open_searcher(Path(index_dir))
            cls._cache[key] = (info.indexname, s)
            return s, info


def search(
    index_dir: str | Path | None,
    query: str,
    *,
    limit: int = 10,
    namnd: str | Sequence[str] | None = None,
    parti: str | Sequence[str] | None = None,
    dnr: str | Sequence[str] | None = None,
    date_from: str | None = None,
    date_to: str | None = None,
    sort: str = "relevance",
    facets: bool = True,
    suggest: bool = True,
    snippet: bool = True,
    resort: bool = True,
) -> SearchResult:
    """Run ``query`` (see ``protokollsok.query`` for the syntax) with optional filters.

    For callers that only need the ranking (the web export's ``toplists``): ``snippet=False``
    gives hits without a snippet (``""``, no highlights); ``resort=False`` leaves the hits in
    whoosh's order (score, then index order) instead of re-sorting them by rounded score and
    date, so that the first n of them are the first n of any larger ``limit``."""
    if sort not in SORTS:
        raise QueryError(f"unknown sort {sort!r}", f"use one of: {', '.join(SORTS)}")
    limit = max(0, int(limit))
    _Searches.begun += 1
    index_dir = Path(index_dir or index.default_index_dir())
    searcher, info = _Opened.searcher(index_dir)
    parsed = parse(query)
    parsed.namnd += _listify(namnd)
    parsed.parti += _listify(parti)
    parsed.dnr += _listify(dnr)
    if date_from:
        parsed.date_from = date_bound(date_from, end=False)
    if date_to:
        parsed.date_to = date_bound(date_to, end=True)
    builder = _Builder(searcher, info.chain)
    built = builder.build(parsed)
    if built is None:
        empty = {name: [] for name in FACETS} if facets else {}
        return SearchResult(query, 0, [], empty, _maybe_suggest(suggest, searcher, builder, parsed, query, 0))
    wquery, wfilter = built
    mask = wq.Term("doctype", "file")
    # Matches are counted apart from scoring, by set algebra over postings (cheaper than whoosh's
    # facet collector). Only a phrase in an index without word pairs (an older schema) must check
    # positions for every candidate anyway, so its matches are collected while scoring (one pass).
    collect_all = _needs_positions(parsed) and not builder.pairs
    docsets = _DocSets(searcher)
    allowed = docsets.docs(wfilter) if wfilter is not None else None
    if not collect_all and _worth_vectors(searcher, wquery, allowed):
        masked = docsets.docs(mask)
        results, matched = _vector_search(searcher, wquery, allowed, masked, max(limit, 1), index_dir, sort)
        hits = [_hit(r, parsed, info.chain, snippet) for r in results[:limit]]
        if sort == "relevance" and resort:
            hits = _by_score_then_date(hits)
        found_facets = _facet_counts(searcher, matched, index_dir) if facets else {}
        suggestion = _maybe_suggest(suggest, searcher, builder, parsed, query, len(matched))
        return SearchResult(query, len(matched), hits, found_facets, suggestion)
    scored, scored_filter, scored_mask = wquery, allowed, mask
    if not collect_all:
        matched = docsets.matching(wquery, allowed, mask)
        if allowed is not None:  # whoosh would test every match of the query against the filter
            scored, scored_filter, scored_mask = OnlyDocs(wquery, sorted(matched)), None, None
    results = searcher.search(
        scored,
        limit=max(limit, 1),
        sortedby=_sort_facets(sort),
        groupedby={"_all": sorting.FieldFacet("year")} if collect_all else None,
        maptype=sorting.UnorderedList if collect_all else None,
        filter=scored_filter,
        mask=scored_mask,
        terms=False,
        # Block-quality skipping: documents that cannot reach the top are not scored. Correct only
        # with the fixes in ``whoosh_fixes`` (without them whoosh dropped true top-10 documents).
        optimize=True,
    )
    hits = [_hit(r, parsed, info.chain, snippet) for r in results[:limit]]
    if sort == "relevance" and resort:
        hits = _by_score_then_date(hits)
    if collect_all:
        matched = {d for docs in results.groups("_all").values() for d in docs}
    found_facets = _facet_counts(searcher, matched) if facets else {}
    suggestion = _maybe_suggest(suggest, searcher, builder, parsed, query, len(matched))
    return SearchResult(query, len(matched), hits, found_facets, suggestion)


VECTORS_FROM = 20_000  # postings a query reads before numpy pays for its import (about 0.1 s)
# ... once numpy is imported, or in a process that searches again: every query (numpy was faster
# for every query of the benchmark's mix, rare words too: `trängselskatt` 9.9 -> 4.7 ms on the
# whole corpus, 4.5 -> 3.3 ms at 10k; perf-notes, seventh round)
VECTORS_LOADED_FROM = 0


class _Searches:
    """How many searches this process has begun: from the second on it is a long-lived one (the
    web server, ``--watch``, a script using the library), where numpy's import is paid once."""

    begun = 0


def _worth_vectors(searcher, q: wq.Query, allowed: set[int] | None) -> bool:
    """Whether scoring every match with numpy (``vectorized``) is cheaper than whoosh's scoring,
    judged by how many postings the query reads, or, with a filter, how many units whoosh would
    score at most (it scores only the filter's matches); both give the same hits and scores. A
    one-off command imports numpy only for queries that read very many postings."""
    loaded = "numpy" in sys.modules or _Searches.begun > 1
    try:
        size = _postings_read(q, searcher.reader())
    except Exception:  # a query type without an estimate: whoosh's way
        return False
    if allowed is not None:
        size = min(size, len(allowed))
    if not size or size < (VECTORS_LOADED_FROM if loaded else VECTORS_FROM):
        return False
    return loaded or importlib.util.find_spec("numpy") is not None


def _postings_read(q: wq.Query, reader, cap: int | None = None) -> int:
    """About how many postings whoosh's matchers read for ``q``: a term's (at most ``cap``), an
    Or's parts' together, an And's parts' each at most as many as its smallest part matches (an
    intersection skips to the next candidate of its rarest part, so a common word's postings are
    read about once per posting of a rarer one), an AndMaybe's required part's (its optional part,
    a proximity, is looked at only where that matches). ``estimate_size`` gives an And its
    smallest part's size alone: ``kommunen budget``'s 13,956 where whoosh's matchers read about
    43,000 postings over the five fields of two common words (0.23 s CPU as a command, 0.20 s
    with numpy and its import)."""
    if isinstance(q, wq.AndMaybe):
        return _postings_read(q.a, reader, cap)
    if isinstance(q, wq.And):
        smallest = min(part.estimate_size(reader) for part in q.subqueries)
        cap = smallest if cap is None else min(cap, smallest)
        return sum(_postings_read(part, reader, cap) for part in q.subqueries)
    if isinstance(q, wq.Or):
        return sum(_postings_read(part, reader, cap) for part in q.subqueries)
    size = q.estimate_size(reader)
    return size if cap is None else min(size, cap)


class _StoredHit(dict):
    """A unit's stored fields and its score, read as ``_hit`` reads a whoosh hit."""

    score: float = 0.0


def _vector_search(
    searcher, q: wq.Query, allowed: set[int] | None, masked: set[int], limit: int, index_dir: Path, sort: str
):
    """(the top ``limit`` hits, every matching document) with every match scored by numpy; in
    whoosh's order for ``sort``: by relevance, or by date (newest first, undated last), then
    relevance, then document number."""
    import numpy as np

    from protokollsok import vectorized

    # whoosh's sorted collector asks its matchers for the current document (``needs_current``),
    # which changes how it builds an Or in small segments, and so the scores' last bits
    docs, scores, deferred = vectorized.score_deferred(searcher, q, index_dir, needs_current=sort != "relevance")
    keep = np.isin(docs, np.fromiter(masked, dtype=np.int64, count=len(masked)), invert=True)
    if allowed is not None:
        keep &= np.isin(docs, np.fromiter(allowed, dtype=np.int64, count=len(allowed)))
    docs, scores = docs[keep], scores[keep]
    # A proximity bonus is settled (positions read) only where it can change what is shown; the
    # other matches keep their score without it, which nothing after this reads.
    if sort == "date":
        ranks = _value_ranks(searcher, "datum", docs, index_dir)
        newest = np.partition(ranks, len(ranks) - limit)[len(ranks) - limit] if len(ranks) > limit else -1
        scores = deferred.settle(docs, scores, ranks >= newest)  # ties within a date go by score
        shown = np.lexsort((docs, -scores, -ranks))[:limit].tolist()
    else:
        scores = deferred.settle(docs, scores, vectorized.could_reach_top(scores, deferred.bound(docs), limit))
        shown = vectorized.top(docs, scores, limit)
    results = []
    for i in shown:
        hit = _StoredHit(searcher.stored_fields(int(docs[i])))
        hit.score = float(scores[i])
        results.append(hit)
    return results, docs


def _value_ranks(searcher, name: str, docs, index_dir: Path):
    """For each document of the (ascending) numpy array ``docs``, the rank of its value of
    column ``name`` among the column's distinct values in text order ("" -- no value -- first)."""
    import numpy as np


    parts = _by_segment(searcher, docs)
    columns = [_arrays_column(leaf, name, index_dir) for leaf, _, _ in parts]
    if all(c is not None for c in columns):
        order = {v: i for i, v in enumerate(sorted({""} | {v for values, _ in columns for v in values}))}
        out = np.zeros(len(docs), dtype=np.int64)
        for (_, offset, at), (values, codes) in zip(parts, columns, strict=True):
            rank_of_code = np.array([order[v] for v in values], dtype=np.int64)
            out[at] = rank_of_code[codes[docs[at] - offset]]
        return out
    leaf_columns = _leaf_columns(searcher, name)
    if leaf_columns is None:  # an index without this column: all alike
        return np.zeros(len(docs), dtype=np.int64)
    whole = _whole_column(searcher, name, leaf_columns)
    values = np.array([whole[d] for d in docs.tolist()] + [""])
    return np.unique(values, return_inverse=True)[1][:-1].astype(np.int64)


def _by_segment(searcher, docs) -> list[tuple[Any, int, slice]]:
    """(segment reader, its first document number, the part of ``docs`` in it) per segment, for
    an ascending numpy array of top-level document numbers."""
    import numpy as np

    leaves = searcher.reader().leaf_readers()
    cuts = np.searchsorted(docs, [offset for _, offset in leaves] + [searcher.doc_count_all()]).tolist()
    return [(leaf, offset, slice(cuts[k], cuts[k + 1])) for k, (leaf, offset) in enumerate(leaves)]


def _arrays_column(leaf, name: str, index_dir: Path | None):
    """(distinct values, value number per document) of a segment's column, from its posting
    arrays; None when it has none."""
    from protokollsok import vectorized

    arrays = vectorized.segment_arrays(leaf, index_dir)
    return arrays.column(name) if arrays is not None else None


def _needs_positions(q: ParsedQuery) -> bool:
    return any(c.kind == "phrase" for slot in q.slots for c in slot) or any(
        c.kind == "phrase" for c in q.excluded
    )


class _DocSets:
    """The set of all matching documents, for the total and the facets, without scoring them:
    the top hits come from whoosh's scored search (which may skip blocks that cannot reach the
    top); counting every match is set algebra over postings, mirroring the query tree."""

    def __init__(self, searcher) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()

    def matching(self, q: wq.Query, allowed: set[int] | None, mask: wq.Query) -> set[int]:
        """Documents matching ``q``, within ``allowed`` (the filter's documents) and not ``mask``."""
        docs = self.docs(q)
        if allowed is not None:
            docs &= allowed
        return docs - self.docs(mask)

    def docs(self, q: wq.Query) -> set[int]:
        """Documents matching one query (sub)tree."""
        if isinstance(q, wq.Term):
            return self.term(q.fieldname, q.text)
        if isinstance(q, wq.Or):
            out: set[int] = set()
            for sub in _uncovered(q.subqueries):
                out |= self.docs(sub)
            return out
        if isinstance(q, wq.And):
            subs = sorted((self.docs(sub) for sub in q.subqueries), key=len)
            return set.intersection(*subs) if subs else set()
        if isinstance(q, wq.AndMaybe):
            return self.docs(q.a)
        if isinstance(q, wq.AndNot):
            return self.docs(q.a) - self.docs(q.b)
        if q is wq.NullQuery:
            return set()
        if isinstance(q, wq.TermRange):
            return self.term_range(q.fieldname, q.start, q.end)
        if isinstance(q, PairPhrase):
            return q.docs(self.reader)
        return set(self.searcher.docs_for_query(q))  # prefixes, every, phrases of older indexes

    def term_range(self, fieldname: str, lo: str | None, hi: str | None) -> set[int]:
        """Documents with a term between ``lo`` and ``hi`` (inclusive; ISO dates sort as text).
        whoosh would build one nested matcher per distinct date; the field's column (one value
        per document, read once per searcher) is cheaper still than a union of per-date sets."""
        columns = _leaf_columns(self.searcher, fieldname) if fieldname in COLUMN_RANGES else None
        if columns is not None:
            values = _whole_column(self.searcher, fieldname, columns)
            deleted = self._deleted()
            return {
                d
                for d, v in enumerate(values)
                if v and (lo is None or v >= lo) and (hi is None or v <= hi) and d not in deleted
            }
        return self.range_from_terms(fieldname, lo, hi)

    def range_from_terms(self, fieldname: str, lo: str | None, hi: str | None) -> set[int]:
        """``term_range`` as the union of each term's documents."""
        out: set[int] = set()
        for term in self.reader.lexicon(fieldname):
            t = _text(term)
            if (lo is None or t >= lo) and (hi is None or t <= hi):
                out |= self.term(fieldname, t)
        return out

    def _deleted(self) -> set[int]:
        """The deleted documents of every segment, by top-level document number."""
        out: set[int] = set()
        for leaf, offset in self.reader.leaf_readers():
            if leaf.has_deletions():
                out.update(d + offset for d in leaf.deleted_docs_set)
        return out

    def term(self, fieldname: str, text: str) -> set[int]:
        """The (live) documents holding one term."""
        out: set[int] = set()
        for leaf, offset in self.reader.leaf_readers():
            try:
                ids = leaf_ids(leaf.postings(fieldname, text))
            except TermNotFound:
                continue
            deleted = leaf.deleted_docs_set if leaf.has_deletions() else ()
            if deleted:
                ids = [d for d in ids if d not in deleted]
            out.update([d + offset for d in ids] if offset else ids)
        return out


def _uncovered(subs: Sequence[wq.Query]) -> list[wq.Query]:
    """The parts of an Or whose documents the other parts do not already hold, by how the index
    is analysed: a word's exact form implies its stem (``w`` -> the stem of ``w``), and a stem
    without å/ä/ö, other diacritics or digits implies the same folded term (Snowball Swedish only
    removes endings free of å/ä/ö, so such a stem comes from a word whose folded form is itself).
    Counting then skips the exact field and, for most words, the positional stem field (the most
    expensive to read); ``tests/test_search.py`` checks the implications on real text."""
    present = {(t.fieldname, t.text) for t in subs if isinstance(t, wq.Term)}
    return [t for t in subs if not (isinstance(t, wq.Term) and _implied(t, present))]


def _implied(t: wq.Term, present: set[tuple[str, str]]) -> bool:
    text = t.text
    digits = any(c.isdigit() for c in text)
    if t.fieldname == "text_exact":
        return ("text_stem", text if digits else analysis.stem(text)) in present
    if t.fieldname == "text_stem":
        return not digits and ("text_fold", text) in present and analysis.fold(text) == text
    return False


def _maybe_suggest(on: bool, searcher, builder: _Builder, parsed: ParsedQuery, query: str, total: int):
    if not on or total >= SUGGEST_BELOW or not parsed.words:
        return None
    return _suggest(searcher, builder, parsed, query, total)


def _listify(v: str | Sequence[str] | None) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v]
    return [x for x in v if x]


def _sort_facets(sort: str):
    """Relevance is whoosh's own order (ties are broken by date afterwards); date is newest first."""
    if sort == "date":
        return [sorting.FieldFacet("datum", reverse=True), sorting.ScoreFacet()]
    return None


def _by_score_then_date(hits: list[Hit]) -> list[Hit]:
    return sorted(hits, key=lambda h: (-h.score, _neg_date(h.datum)))


def _neg_date(datum: str | None) -> tuple[int, ...]:
    if not datum:
        return (1,)
    return (0, *(-int(x) for x in datum.split("-") if x.isdigit()))


def _facet_counts(searcher, matched: Collection[int], index_dir: Path | None = None) -> dict[str, list[tuple[str, int]]]:
    """Counts of nämnd, parti and year over all matching documents, read from the columns."""
    out: dict[str, list[tuple[str, int]]] = {}
    for name in FACETS:
        counts: Counter[str] = Counter()
        for value, n in _value_counts(searcher, name, matched, index_dir):
            for v in value.split(",") if name == "parti" else [value]:
                if v:
                    counts[v] += n
        pairs = list(counts.items())
        if name == "year":
            pairs.sort(key=lambda kv: kv[0], reverse=True)
        else:
            pairs.sort(key=lambda kv: (-kv[1], kv[0]))
        out[name] = pairs
    return out


def _value_counts(searcher, name: str, matched: Collection[int], index_dir: Path | None) -> list[tuple[str, int]]:
    """How many matching documents have each value of column ``name``. Matches given as a numpy
    array (``_vector_search``) are counted over the value numbers kept with the posting arrays."""
    if type(matched).__module__ == "numpy":
        counted = _counts_from_arrays(searcher, name, matched, index_dir)
        if counted is not None:
            return counted
        matched = matched.tolist()
    return list(Counter(_facet_values(searcher, name, matched)).items())


def _counts_from_arrays(searcher, name: str, matched, index_dir: Path | None) -> list[tuple[str, int]] | None:
    """``_value_counts`` by one ``bincount`` per segment, or None when a segment has no arrays."""
    import numpy as np

    counts: Counter[str] = Counter()
    for leaf, offset, at in _by_segment(searcher, matched):
        coded = _arrays_column(leaf, name, index_dir)
        if coded is None:
            return None
        values, codes = coded
        for i, n in enumerate(np.bincount(codes[matched[at] - offset], minlength=len(values)).tolist()):
            if n:
                counts[values[i]] += n
    return list(counts.items())


def _facet_values(searcher, name: str, matched: Collection[int]) -> list[str]:
    """The column values of the matching documents, from each segment's column read at once and
    kept per searcher (a long-running process reads each column once). Many matches are looked
    up in the whole column decoded at once (also kept)."""
    reader = searcher.reader()
    columns = _leaf_columns(searcher, name)
    if columns is None:  # an index without this column (an older schema): no counts for it
        return []
    if len(matched) * 64 >= reader.doc_count_all():  # about where reading all costs less
        whole = _whole_column(searcher, name, columns)
        return [whole[d] for d in matched]
    starts = [offset for _, offset in reader.leaf_readers()]
    out: list[str] = []
    for d in matched:
        i = bisect.bisect_right(starts, d) - 1
        out.append(columns[i][d - starts[i]])
    return out


def _leaf_columns(searcher, name: str) -> list[LeafColumn] | None:
    """Each segment's column ``name`` (kept per searcher), or None when the index has none."""
    cache: dict[Any, Any] = searcher.__dict__.setdefault("_protokollsok_columns", {})
    try:
        columns = []
        for i, (leaf, _) in enumerate(searcher.reader().leaf_readers()):
            column = cache.get((name, i))
            if column is None:
                column = cache[(name, i)] = LeafColumn(leaf.column_reader(name))
            columns.append(column)
    except Exception:
        return None
    return columns


def _whole_column(searcher, name: str, columns: list[LeafColumn]) -> list[str]:
    """Every document's value of column ``name``, by document number (kept per searcher)."""
    cache: dict[Any, Any] = searcher.__dict__.setdefault("_protokollsok_columns", {})
    whole = cache.get(name)
    if whole is None:
        whole = cache[name] = [v for column in columns for v in column.values()]
    return whole


class LeafColumn:
    """One segment's column as text by document number. whoosh reads a variable-length column
    value by value (a seek and a read each: seconds for a whole-corpus column); its data is one
    run of bytes, so it is read at once and cut by the stored offsets, each distinct value
    decoded once."""

    def __init__(self, cr) -> None:
        raw = cr.raw_column() if isinstance(cr, TranslatingColumnReader) else cr
        self._translate = cr._translate if isinstance(cr, TranslatingColumnReader) else None
        self._decoded: dict[bytes, str] = {}
        # a column of another kind is read through whoosh
        self._cr = None if isinstance(raw, VarBytesColumn.Reader) else cr
        # whoosh's text fields store a value as its UTF-8 bytes (FieldType.from_column_value)
        self._utf8 = self._translate is None or (
            getattr(self._translate, "__func__", None) is FieldType.from_column_value
            and type(self._translate.__self__).from_bytes is FieldType.from_bytes
        )
        if self._cr is None:
            # the private layout of whoosh 2.7.5 (pinned)
            self._offsets, self._lengths = raw._offsets, raw._lengths
            size = sum(self._lengths)
            self._data = raw._dbfile.get(raw._basepos, size) if size else b""

    def __len__(self) -> int:
        return len(self._cr) if self._cr is not None else len(self._lengths)

    def values(self) -> list[str]:
        """Every document's value, in document order."""
        if self._cr is not None:
            return [_text(v or "") for v in self._cr]
        if self._utf8:
            # One decoding as Latin-1 keeps byte offsets as character offsets; each distinct
            # value is then re-read as the UTF-8 it is (nothing to do when all is ASCII).
            text = self._data.decode("latin-1")
            cut = [text[at : at + n] for at, n in zip(self._offsets, self._lengths, strict=True)]
            if self._data.isascii():
                return cut
            utf8 = {v: v.encode("latin-1").decode("utf-8") for v in set(cut)}
            return [utf8[v] for v in cut]
        out: list[str] = []
        data, decoded, at = self._data, self._decoded, 0
        for n in self._lengths:
            chunk = data[at : at + n]
            at += n
            text = decoded.get(chunk)
            if text is None:
                value = (self._translate(chunk) if self._translate else chunk) if n else b""
                text = decoded[chunk] = _text(value or "")
            out.append(text)
        return out

    def __getitem__(self, docnum: int) -> str:
        if self._cr is not None:
            return _text(self._cr[docnum] or "")
        n = self._lengths[docnum]
        if not n:
            return ""
        at = self._offsets[docnum]
        chunk = self._data[at : at + n]
        text = self._decoded.get(chunk)
        if text is None:
            value = self._translate(chunk) if self._translate else chunk
            text = self._decoded[chunk] = _text(value or "")
        return text


class _Builder:
    """Turns a ``ParsedQuery`` into a whoosh query for one index (its chain and its values)."""

    def __init__(self, searcher, chain: str) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.chain = chain
        self.fields = list(analysis.chain(chain).fields)
        self.pairs = PAIR_FIELD in self.reader.schema

    def build(self, q: ParsedQuery) -> tuple[wq.Query, wq.Query | None] | None:
        """``(scored query, filter)``, or None when the query cannot match anything."""
        musts: list[wq.Query] = []
        for slot in q.slots:
            alts = [a for a in (self.clause(c) for c in slot) if a is not wq.NullQuery]
            if not alts:
                return None
            musts.append(alts[0] if len(alts) == 1 else wq.Or(alts))
        filters = self.filters(q)
        if any(f is wq.NullQuery for f in filters):
            return None
        if not musts:
            if not (q.excluded or filters):
                return None
            musts.append(wq.Every())
        positive = musts[0] if len(musts) == 1 else wq.And(musts)
        proximity = self.proximity(q)
        if proximity is not None:
            positive = wq.AndMaybe(positive, proximity)
        negatives = [n for n in (self.clause(c) for c in q.excluded) if n is not wq.NullQuery]
        if negatives:
            positive = wq.AndNot(positive, negatives[0] if len(negatives) == 1 else wq.Or(negatives))
        filt = None if not filters else filters[0] if len(filters) == 1 else wq.And(filters)
        return positive, filt

    def clause(self, c: Clause) -> wq.Query | None:
        """The query for one clause."""
        if c.kind == "word":
            return self.word(c.words[0])
        if c.kind == "phrase":
            return self.phrase(c.words)
        if c.kind == "prefix":
            return self.prefix(c.words[0])
        return self.dnr_query(c.words[0])

    def word(self, word: str) -> wq.Query:
        """One word: each analysed form in its field, weighted; plus the title."""
        forms = termtable.query_forms(word, self.chain, self.reader)
        subs: list[wq.Query] = []
        for f in self.fields:
            boost = schema.FIELD_BOOSTS[f]
            # A word is found as a compound part by its stems (``våld`` in ``våldsbeteende``).
            terms = forms.stem if f == "parts" else forms.of(f)
            subs += [wq.Term(f"text_{f}", t, boost=boost) for t in terms]
        subs += [wq.Term("title", t, boost=schema.TITLE_BOOST) for t in forms.stem]
        return subs[0] if len(subs) == 1 else wq.Or(subs)

    def phrase(self, words: Sequence[str], slop: int = 1) -> wq.Query:
        """Words in this order, each matched on its own Snowball stem (the first of its stems;
        a document's word carries its lemmas' stems at the same position, so inflections meet).
        Found through the word pairs where the index has them (the same hits and scores)."""
        stems = [termtable.query_forms(w, self.chain, self.reader).stem[0] for w in words]
        if self.pairs and slop == 1:
            return PairPhrase(stems)
        return wq.Phrase("text_stem", stems, slop=slop)

    def prefix(self, p: str) -> wq.Query:
        """Words starting with ``p`` (exact, or with å/ä/ö folded)."""
        field = "text_exact" if "exact" in self.fields else "text_stem"
        subs: list[wq.Query] = [wq.Prefix(field, p, boost=2.0)]
        if "fold" in self.fields:
            subs.append(wq.Prefix("text_fold", analysis.fold(p), boost=schema.FIELD_BOOSTS["fold"]))
        return wq.Or(subs)

    def dnr_query(self, dnr: str) -> wq.Query:
        """Units that carry this diarienummer, however it is typed: case, leading zeros and
        OCR-damaged å/ä/ö do not matter (``VON/2020:00308`` finds ``Von/2020:308``)."""
        wanted = dnr_key(dnr)
        values = [v for v in self._values("dnr") if dnr_key(v) == wanted]
        if not values:
            return wq.NullQuery
        return wq.Or([wq.Term("dnr", v) for v in values])

    def proximity(self, q: ParsedQuery) -> wq.Query | None:
        """A sloppy phrase over the plain words of a multi-word query, to reward closeness."""
        words = [c.words[0] for slot in q.slots if len(slot) == 1 for c in slot if c.kind == "word"]
        if len(words) < 2 or len(words) > 8:
            return None
        return wq.Phrase(
            "text_stem",
            [termtable.query_forms(w, self.chain, self.reader).stem[0] for w in words],
            slop=PROXIMITY_SLOP,
            boost=PROXIMITY_BOOST,
        )

    def filters(self, q: ParsedQuery) -> list[wq.Query]:
        """Filters from field syntax and options; each keeps only matching units."""
        out: list[wq.Query] = []
        if q.namnd:
            out.append(self._one_of([self.namnd_query(n) for n in q.namnd]))
        if q.parti:
            out.append(self._one_of([self.parti_query(p) for p in q.parti]))
        if q.dnr:
            out.append(self._one_of([self.dnr_query(d) for d in q.dnr]))
        if q.date_from or q.date_to:
            out.append(wq.TermRange("datum", q.date_from, q.date_to))
        return out

    @staticmethod
    def _one_of(qs: list[wq.Query]) -> wq.Query:
        qs = [q for q in qs if q is not wq.NullQuery]
        if not qs:
            return wq.NullQuery
        return qs[0] if len(qs) == 1 else wq.Or(qs)

    def namnd_query(self, name: str) -> wq.Query:
        """Nämnder whose folded name contains ``name`` folded (``södermalm`` finds the nämnd)."""
        key = index.namnd_key(name) or ""
        values = [v for v in self._values("namnd_key") if key in v]
        if not values:
            return wq.NullQuery
        return wq.Or([wq.Term("namnd_key", v) for v in values])

    def parti_query(self, code: str) -> wq.Query:
        """A party code, whatever its case (``kd`` finds ``KD``, ``fi`` finds ``Fi``)."""
        values = [v for v in self._values("parti") if v.lower() == code.lower()]
        if not values:
            return wq.NullQuery
        return wq.Or([wq.Term("parti", v) for v in values])

    def _values(self, fieldname: str) -> list[str]:
        try:
            return [_text(t) for t in self.reader.lexicon(fieldname)]
        except KeyError:
            return []


def dnr_key(dnr: str) -> str:
    """A diarienummer reduced to what identifies it: folded lower case, numbers without leading
    zeros, spacing normalised."""
    key = analysis.fold(" ".join(dnr.lower().split()))
    return re.sub(r"\d+", lambda m: str(int(m.group())), key)


def _text(term: bytes | str) -> str:
    return term.decode("utf-8") if isinstance(term, bytes) else term


def _hit(r, parsed: ParsedQuery, chain: str, with_snippet: bool = True) -> Hit:
    snippet, spans = _snippet(r.get("body") or "", parsed, chain) if with_snippet else ("", ())
    return Hit(
        id=r["id"],
        score=_score(r.score),
        kind=r.get("kind", ""),
        paragraf=r.get("paragraf"),
        title=r.get("title") or "",
        namnd=r.get("namnd"),
        datum=r.get("datum"),
        dnr=tuple(x for x in (r.get("dnr") or "").split(",") if x),
        parti=tuple(x for x in (r.get("parti") or "").split(",") if x),
        source=r.get("source", ""),
        snippet=snippet,
        highlights=spans,
        pages=tuple(r["pages"]) if r.get("pages") else None,
        ocr=bool(r.get("ocr")),
    )


def _snippet(body: str, parsed: ParsedQuery, chain: str) -> tuple[str, tuple[tuple[int, int], ...]]:
    clauses = [c.words for slot in parsed.slots for c in slot if c.kind in ("word", "phrase")]
    prefixes = [c.words[0] for slot in parsed.slots for c in slot if c.kind == "prefix"]
    return snippets.make_snippet(body, snippets.find_matches(body, clauses, chain, prefixes))


def _score(score: object) -> float:
    """The relevance score (when sorted by date whoosh gives the sort key; its last part)."""
    if isinstance(score, tuple):
        score = score[-1] if score else 0.0
    try:
        return round(abs(float(score or 0.0)), 4)
    except (TypeError, ValueError):
        return 0.0


def _suggest(searcher, builder: _Builder, parsed: ParsedQuery, query: str, total: int) -> str | None:
    """Replace words the index does not know by its closest known word, if that finds more.

    Only single words (not OR alternatives, phrases or filters) are replaced, and only words the
    index knows in no form: a word found by its stem (an inflection no unit happens to use) is not
    misspelt. Candidates are the words one edit away, looked up in the index's term list (two
    edits for long words); the most frequent wins.
    """
    field = "text_exact" if "exact" in builder.fields else "text_stem"
    reader = builder.reader
    changed = query
    for slot in parsed.slots:
        if len(slot) != 1 or slot[0].kind != "word":
            continue
        word = slot[0].words[0]
        if (field, word) in reader or not word.isalpha() or _known_stem(builder, word):
            continue
        best = _closest_known(
            word,
            lambda w: (field, w) in reader,
            lambda w: reader.doc_frequency(field, w),
            searcher.corrector(field),
        )
        if best:
            changed = _replace_word(changed, word, best)
    if changed == query:
        return None
    built = builder.build(parse(changed))
    if built is None:
        return None
    # Counted as the search counts (whoosh's own count drops a filter that no unit passes).
    docsets = _DocSets(searcher)
    allowed = docsets.docs(built[1]) if built[1] is not None else None
    found = docsets.matching(built[0], allowed, wq.Term("doctype", "file"))
    return changed if len(found) > total else None


def _known_stem(builder: _Builder, word: str) -> bool:
    """Whether a unit holds one of the word's stems (found, so not a spelling mistake)."""
    reader = builder.reader
    for s in termtable.query_forms(word, builder.chain, reader).stem:
        if ("text_stem", s) in reader and reader.postings("text_stem", s).is_active():  # a live unit
            return True
    return False


_LETTERS = "abcdefghijklmnopqrstuvwxyzåäöé"


def _edits1(word: str) -> set[str]:
    """Every string one deletion, swap, replacement or insertion away from ``word``."""
    splits = [(word[:i], word[i:]) for i in range(len(word) + 1)]
    deletes = {a + b[1:] for a, b in splits if b}
    swaps = {a + b[1] + b[0] + b[2:] for a, b in splits if len(b) > 1}
    replaces = {a + c + b[1:] for a, b in splits if b for c in _LETTERS}
    inserts = {a + c + b for a, b in splits for c in _LETTERS}
    return deletes | swaps | replaces | inserts


def _closest_known(word: str, known, frequency, corrector=None) -> str | None:
    """The most frequent known word one edit away; for a long word without one, whoosh's
    corrector looks two edits away among words with the same first two letters."""
    found = [w for w in _edits1(word) if w != word and known(w)]
    if not found and len(word) >= 8 and corrector is not None:
        found = [w for w in corrector.suggest(word, limit=5, maxdist=2, prefix=2) if w != word]
    return max(found, key=lambda w: (frequency(w), w)) if found else None


def _replace_word(text: str, word: str, new: str) -> str:
    return re.sub(rf"(?<!\w){re.escape(word)}(?!\w)", new, text, flags=re.IGNORECASE)


def get_unit(index_dir: str | Path | None, unit_id: str) -> dict[str, Any] | None:
    """The stored fields of one unit (``show``), or None when no unit has this id."""
    searcher, _ = _Opened.searcher(Path(index_dir or index.default_index_dir()))
    doc = searcher.document(id=unit_id)
    if doc is None or doc.get("doctype") == "file":
        return None
    return _unit_json(doc)


def _unit_json(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": doc["id"],
        "kind": doc.get("kind"),
        "paragraf": doc.get("paragraf"),
        "title": doc.get("title") or "",
        "namnd": doc.get("namnd"),
        "datum": doc.get("datum"),
        "dnr": [x for x in (doc.get("dnr") or "").split(",") if x],
        "parti": [x for x in (doc.get("parti") or "").split(",") if x],
        "doctype": doc.get("doctype") or None,
        "source": doc.get("source"),
        "lines": list(doc["lines"]) if doc.get("lines") else None,
        "pages": list(doc["pages"]) if doc.get("pages") else None,
        "text": doc.get("body") or "",
        "ocr": bool(doc.get("ocr")),
    }


def stats(index_dir: str | Path | None) -> dict[str, Any]:
    """What the index holds: units per kind, files, nämnder, parties, date range, chain, and the
    units whose document was repaired from OCR damage."""
    searcher, info = _Opened.searcher(Path(index_dir or index.default_index_dir()))
    kinds: dict[str, int] = {}
    namnder: dict[str, int] = {}
    partier: dict[str, int] = {}
    dates: list[str] = []
    files = ocr = 0
    for doc in searcher.all_stored_fields():
        if doc.get("doctype") == "file":
            files += 1
            continue
        kinds[doc.get("kind", "")] = kinds.get(doc.get("kind", ""), 0) + 1
        ocr += bool(doc.get("ocr"))
        if doc.get("namnd"):
            namnder[doc["namnd"]] = namnder.get(doc["namnd"], 0) + 1
        for p in (doc.get("parti") or "").split(","):
            if p:
                partier[p] = partier.get(p, 0) + 1
        if doc.get("datum"):
            dates.append(doc["datum"])
    return {
        "index": str(index_dir or index.default_index_dir()),
        "chain": info.chain,
        "files": files,
        "units": sum(kinds.values()),
        "kinds": dict(sorted(kinds.items())),
        "namnder": dict(sorted(namnder.items(), key=lambda kv: (-kv[1], kv[0]))),
        "partier": dict(sorted(partier.items(), key=lambda kv: (-kv[1], kv[0]))),
        "date_from": min(dates) if dates else None,
        "date_to": max(dates) if dates else None,
        "ocr_units": ocr,
    }
