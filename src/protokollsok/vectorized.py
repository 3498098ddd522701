"""Every match of a query scored at once with numpy, for queries with many matches.

whoosh scores one posting at a time through its tree of matchers: a few microseconds of Python
per posting and per tree node, so a word in 37,000 units (``regeringen``: five terms, each in its
own field) costs a few hundred milliseconds. Here the same tree -- the matchers whoosh builds for
each segment, so the same query plan -- is evaluated with array operations: each term's postings
are read a block at a time, BM25F is computed for the whole list, and the tree's sums are added in
the tree's own order. Floating-point addition of the same numbers in the same order gives the
same result, so every score is the float whoosh computes (``tests/test_vectorized.py`` compares
them over real text). A matcher this module does not know (the span check of a proximity
phrase, an array union over such matchers) is stepped through as whoosh would, so every query can
be evaluated. Frequent terms' postings are read from ``posting_arrays`` where a segment has them.

numpy costs about 0.1 s to import, so ``search`` uses this only for queries that read many
postings (``search._worth_vectors``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import binary, combo, mcore, wrappers
from whoosh.scoring import BM25FScorer
from whoosh.util.numeric import byte_to_length

from protokollsok import posting_arrays
from protokollsok.phrases import ScoredList
from protokollsok.whoosh_fixes import _NO_COLUMN, _NOT_BYTES, _lengths_of

# byte_to_length of every length byte, as floats (whoosh stores a field's length in one byte)
_LENGTHS = np.array([float(byte_to_length(b)) for b in range(256)])

DENSE_FROM = 16  # lists this share of a segment or longer are merged as arrays over all its documents
Evaluated = tuple[np.ndarray, np.ndarray]  # (document numbers, ascending; their scores)

_NO_DOCS = np.zeros(0, dtype=np.int64)
_NO_SCORES = np.zeros(0)


def score_all(searcher, q, index_dir: Path | None = None, *, needs_current: bool = False) -> Evaluated:
    """Every document of the index that matches ``q`` (top-level numbers, ascending; deleted
    documents do not match) and its score. Frequent terms are read from the segments' posting
    arrays in ``index_dir`` where they exist. ``needs_current`` as in whoosh's search context (a
    sorted search sets it, and whoosh then builds some matchers differently)."""
    context = searcher.context(needs_current=needs_current)
    docs: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    for sub, offset in searcher.leaf_searchers():
        d, s = _Segment(sub, index_dir).evaluate(q.matcher(sub, context))
        docs.append(d + offset)
        scores.append(s)
    if not docs:
        return _NO_DOCS, _NO_SCORES
    return np.concatenate(docs), np.concatenate(scores)


def top(docs: np.ndarray, scores: np.ndarray, limit: int) -> list[int]:
    """Positions in ``docs`` of the ``limit`` best matches in whoosh's order: score descending,
    then document number."""
    if limit <= 0 or not len(docs):
        return []
    at = np.arange(len(docs))
    if len(docs) > limit:
        cut = np.partition(scores, len(scores) - limit)[len(scores) - limit]  # the limit-th best
        at = np.flatnonzero(scores >= cut)
    order = np.lexsort((docs[at], -scores[at]))[:limit]
    return at[order].tolist()


class _Segment:
    """Evaluates one segment's matcher tree."""

    def __init__(self, searcher, index_dir: Path | None) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self.index_dir = index_dir

    def arrays(self) -> posting_arrays.SegmentArrays | None:
        """The segment's posting arrays, if it has them."""
        return segment_arrays(self.reader, self.index_dir)

    def evaluate(self, m) -> Evaluated:
        """The matching documents of one matcher (segment numbers, ascending) and their scores."""
        handler = _HANDLERS.get(type(m))
        return handler(self, m) if handler else self.stepped(m)

    def stepped(self, m) -> Evaluated:
        """Any matcher, stepped through posting by posting as whoosh's collector would, from
        where it stands: building a tree moves some matchers ahead (an intersection to its parts'
        first common document, an and-not past excluded ones, an optional side to the required
        side's first), but only past documents their parent cannot match. (``reset()`` is no way
        back: whoosh's span matchers do not look for a match again after it.)"""
        ids: list[int] = []
        values: list[float] = []
        while m.is_active():
            ids.append(m.id())
            values.append(m.score())
            m.next()
        return np.array(ids, dtype=np.int64), np.array(values, dtype=np.float64)

    def leaf(self, m: W3LeafMatcher) -> Evaluated:
        """One term's postings, scored by BM25F as ``BM25FScorer`` scores each of them."""
        scorer = m.scorer
        lengths = self.lengths(m._term[0]) if type(scorer) is BM25FScorer else None
        if lengths is None:
            return self.stepped(m)
        arrays = self.arrays()
        kept = arrays.get(*m._term) if arrays is not None else None
        ids, tf = kept if kept is not None else _postings(m)
        fl = lengths[ids]
        b, k1, avgfl = scorer.B, scorer.K1, scorer.avgfl
        # whoosh.scoring.bm25: the same operations in the same order
        return ids, scorer.idf * ((tf * (k1 + 1)) / (tf + k1 * ((1 - b) + b * fl / avgfl)))

    def lengths(self, fieldname: str) -> np.ndarray | None:
        """Each document's length in a field as ``doc_field_length(docnum, fieldname, 1)``
        gives it, or None when whoosh does not keep it as one byte per document (kept per
        segment reader)."""
        cache = self.reader.__dict__.setdefault("_protokollsok_length_arrays", {})
        if fieldname not in cache:
            perdoc = getattr(self.reader, "_perdoc", None)
            table = _lengths_of(perdoc, fieldname) if perdoc is not None else _NOT_BYTES
            if table is _NO_COLUMN:
                cache[fieldname] = np.ones(self.size)
            elif isinstance(table, bytes):
                raw = np.zeros(self.size, dtype=np.uint8)  # a short column: 0 for the rest
                n = min(len(table), self.size)
                raw[:n] = np.frombuffer(table, dtype=np.uint8, count=n)
                cache[fieldname] = _LENGTHS[raw]
            else:
                cache[fieldname] = None
        return cache[fieldname]

    def wrapped(self, m: wrappers.WrappingMatcher) -> Evaluated:
        ids, s = self.evaluate(m.child)
        return ids, s * m.boost

    def filtered(self, m: wrappers.FilterMatcher) -> Evaluated:
        ids, s = self.evaluate(m.child)
        listed = np.fromiter(m._ids, dtype=np.int64, count=len(m._ids))
        keep = np.isin(ids, listed, invert=m._exclude)
        return ids[keep], s[keep] * m.boost

    def union(self, m: binary.UnionMatcher) -> Evaluated:
        ia, sa = self.evaluate(m.a)
        ib, sb = self.evaluate(m.b)
        if len(ia) + len(ib) >= self.size // DENSE_FROM:  # long lists: by document number
            mark = np.zeros(self.size, dtype=bool)
            mark[ia] = True
            mark[ib] = True
            dense = np.zeros(self.size)
            dense[ia] = sa
            dense[ib] += sb  # a's score + b's, as UnionMatcher.score; 0.0 + x is x
            ids = np.flatnonzero(mark)
            return ids, dense[ids]
        ids = np.union1d(ia, ib)
        s = np.zeros(len(ids))
        s[np.searchsorted(ids, ia)] = sa
        s[np.searchsorted(ids, ib)] += sb
        return ids, s

    def intersection(self, m: binary.IntersectionMatcher) -> Evaluated:
        ia, sa = self.evaluate(m.a)
        ib, sb = self.evaluate(m.b)
        ids, ka, kb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
        return ids, sa[ka] + sb[kb]

    def and_not(self, m: binary.AndNotMatcher) -> Evaluated:
        ia, sa = self.evaluate(m.a)
        ib, _ = self.evaluate(m.b)
        keep = np.isin(ia, ib, assume_unique=True, invert=True)
        return ia[keep], sa[keep]

    def and_maybe(self, m: binary.AndMaybeMatcher) -> Evaluated:
        ia, sa = self.evaluate(m.a)
        ib, sb = self.evaluate(m.b)
        _, ka, kb = np.intersect1d(ia, ib, assume_unique=True, return_indices=True)
        s = sa.copy()
        s[ka] = sa[ka] + sb[kb]
        return ia, s

    def array_union(self, m: combo.ArrayUnionMatcher) -> Evaluated:
        """whoosh adds each part's score times the boost into an array of zeros, part by part, and
        keeps the documents whose sum is above zero (all of them 1.0 when unscored). Building it
        read its parts' first 2,048 documents, so parts are read again from their first posting
        (terms can be), or else the union is stepped through."""
        if not all(_restartable(sub) for sub in m._submatchers):
            return self.stepped(m)
        parts = [self.evaluate(sub) for sub in m._submatchers]
        total = np.zeros(self.size)
        for ids, s in parts:
            if m._scored:
                total[ids] += s * m._boost
            else:
                total[ids] = 1.0
        ids = np.flatnonzero(total > 0)
        return ids, total[ids]

    def scored_list(self, m: ScoredList) -> Evaluated:
        return np.array(m._ids, dtype=np.int64), np.array(m._scores, dtype=np.float64)


_HANDLERS: dict[type, Callable[[_Segment, object], Evaluated]] = {
    W3LeafMatcher: _Segment.leaf,
    wrappers.WrappingMatcher: _Segment.wrapped,
    wrappers.FilterMatcher: _Segment.filtered,
    binary.UnionMatcher: _Segment.union,
    binary.IntersectionMatcher: _Segment.intersection,
    binary.AndNotMatcher: _Segment.and_not,
    binary.AndMaybeMatcher: _Segment.and_maybe,
    combo.ArrayUnionMatcher: _Segment.array_union,
    ScoredList: _Segment.scored_list,
    mcore.NullMatcherClass: lambda seg, m: (_NO_DOCS, _NO_SCORES),
}


def segment_arrays(reader, index_dir: Path | None) -> posting_arrays.SegmentArrays | None:
    """The posting arrays of a segment reader's segment (opened once per reader), if any."""
    if index_dir is None:
        return None
    cache = reader.__dict__
    if "_protokollsok_arrays" not in cache:
        cache["_protokollsok_arrays"] = posting_arrays.open_for(index_dir, reader)
    return cache["_protokollsok_arrays"]


def _restartable(m) -> bool:
    """True when evaluating ``m`` reads its postings from the first (terms, boosted or filtered)."""
    if type(m) in (W3LeafMatcher, mcore.NullMatcherClass):
        return True
    return type(m) in (wrappers.WrappingMatcher, wrappers.FilterMatcher) and _restartable(m.child)


def raw_postings(leaf, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers (deleted ones included) and weights of one term of a segment reader."""
    m = leaf.postings(field, btext)
    if isinstance(m, wrappers.FilterMatcher):  # the deletions, applied when searching
        m = m.child
    if type(m) is W3LeafMatcher:
        return _postings(m)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def _postings(m: W3LeafMatcher) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of a term's whole posting list.
    whoosh 2.7.5 (pinned) keeps a block as a pickled tuple: ids delta-encoded unless byte ids,
    weights None (all 1.0), one float for all, or one per posting."""
    deltas: list[int] = []
    weights: list[float] = []
    last = 0
    m.reset()
    while not m._atend:
        if m._data is None:
            m._read_data()
        ids, w, _ = m._data
        n = len(ids)
        if m._byteids:  # absolute numbers: made deltas like the others
            ids = [ids[0], *(b - a for a, b in itertools.pairwise(ids))]
        first = len(deltas)
        deltas.extend(ids)
        deltas[first] -= last
        last = m._maxid
        if w is None:
            weights.extend([1.0] * n)
        elif isinstance(w, float):
            weights.extend([w] * n)
        else:
            weights.extend(w)
        if m._lastblock:
            break
        m._goto(m._nextoffset)
    return np.cumsum(np.array(deltas, dtype=np.int64)), np.array(weights, dtype=np.float64)
