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

A multi-word query's proximity (an ``AndMaybe`` of the words and a sloppy phrase of them) adds the
phrase words' scores to a match where the words stand close. The sum is known from the postings;
whether the words stand close only from their positions, which are most of what such a query
costs to read (whoosh unpickles a block of 128 postings' positions for each). So ``score_deferred``
keeps that bonus as an upper bound per document (``Deferred``), and the search reads positions
only for the documents that could reach the top with it; ``score_all`` settles every one.

numpy costs about 0.1 s to import, so ``search`` uses this only for queries that read many
postings (``search._worth_vectors``).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from pathlib import Path

import numpy as np
from whoosh import query as wq
from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching import binary, combo, mcore, wrappers
from whoosh.query.spans import SpanNear2
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
    docs, scores, deferred = score_deferred(searcher, q, index_dir, needs_current=needs_current)
    return docs, deferred.settle(docs, scores, np.ones(len(docs), dtype=bool))


def score_deferred(
    searcher, q, index_dir: Path | None = None, *, needs_current: bool = False
) -> tuple[np.ndarray, np.ndarray, Deferred]:
    """As ``score_all``, but a proximity bonus at the top of the query is left to be settled:
    (documents, their scores without it, the bonus)."""
    context = searcher.context(needs_current=needs_current)
    deferred = Deferred()
    docs: list[np.ndarray] = []
    scores: list[np.ndarray] = []
    for sub, offset in searcher.leaf_searchers():
        d, s = _Segment(sub, index_dir, deferred, offset).root(q, context)
        docs.append(d + offset)
        scores.append(s)
    if not docs:
        return _NO_DOCS, _NO_SCORES, deferred
    return np.concatenate(docs), np.concatenate(scores), deferred


class Deferred:
    """Proximity bonuses not settled yet: per segment, the documents holding all the phrase's
    words, the most each can gain, and the check of their positions."""

    def __init__(self) -> None:
        self._parts: list[tuple[np.ndarray, np.ndarray, Callable[[np.ndarray], np.ndarray], int]] = []

    def add(self, docs: np.ndarray, bonus: np.ndarray, close: Callable[[np.ndarray], np.ndarray], offset: int) -> None:
        """A segment's candidates (its own numbers, ascending), their bonus, and ``close``, which
        tells for some of them (ascending) whether their words stand close."""
        if len(docs):
            self._parts.append((docs, bonus, close, offset))

    def bound(self, docs: np.ndarray) -> np.ndarray:
        """The most each of ``docs`` (top-level numbers, ascending) can still gain."""
        out = np.zeros(len(docs))
        for ids, bonus, _, offset in self._parts:
            _, kd, ki = _intersect(docs, ids + offset)
            out[kd] = bonus[ki]
        return out

    def settle(self, docs: np.ndarray, scores: np.ndarray, which: np.ndarray) -> np.ndarray:
        """``scores`` of ``docs`` (top-level numbers, ascending) with the bonus added where
        ``which`` marks a document whose words stand close (as whoosh's ``AndMaybe`` adds it);
        the others keep their score without it."""
        out = scores.copy()
        chosen = np.flatnonzero(which)
        for ids, bonus, close, offset in self._parts:
            _, kd, ki = _intersect(docs[chosen], ids + offset)
            if not len(kd):
                continue
            near = close(ids[ki])
            at = chosen[kd][near]
            out[at] = scores[at] + bonus[ki][near]
        return out


def could_reach_top(scores: np.ndarray, bound: np.ndarray, limit: int) -> np.ndarray:
    """Which documents could be among the ``limit`` best once their bonus (at most ``bound``) is
    known: those with a bonus whose score plus it is not below the ``limit``-th best score without
    bonuses (a tie can still reach the top by document number)."""
    if len(scores) <= limit:
        return bound > 0
    floor = np.partition(scores, len(scores) - limit)[len(scores) - limit]
    return (bound > 0) & (scores + bound >= floor)


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

    def __init__(self, searcher, index_dir: Path | None, deferred: Deferred, offset: int) -> None:
        self.searcher = searcher
        self.reader = searcher.reader()
        self.size = self.reader.doc_count_all()
        self.index_dir = index_dir
        self.deferred = deferred
        self.offset = offset

    def arrays(self) -> posting_arrays.SegmentArrays | None:
        """The segment's posting arrays, if it has them."""
        return segment_arrays(self.reader, self.index_dir)

    def evaluate(self, m) -> Evaluated:
        """The matching documents of one matcher (segment numbers, ascending) and their scores."""
        handler = _HANDLERS.get(type(m))
        return handler(self, m) if handler else self.stepped(m)

    def root(self, q, context) -> Evaluated:
        """The matches of query ``q`` and their scores, as ``evaluate`` gives them for its
        matcher, except that a proximity bonus at the top (or on the kept side of an exclusion: a
        plain addition to the final score) is deferred. Its phrase's matcher is not built: whoosh's
        looks for the phrase's first match at once, reading positions."""
        if type(q) is wq.AndNot:
            return self._without(self.root(q.a, context), q.b.matcher(self.searcher, context))
        if type(q) is not wq.AndMaybe or type(q.b) is not wq.Phrase:
            return self.evaluate(q.matcher(self.searcher, context))
        words = _phrase_words(q.b, self.searcher, context)
        if words is not None and not all(_restartable(w) for w in words):
            return self.evaluate(q.matcher(self.searcher, context))  # not terms: whoosh's own way
        kept = self.evaluate(q.a.matcher(self.searcher, context))
        if words is not None:  # else a word the segment lacks: the phrase matches nothing here
            self._defer_proximity(kept[0], q.b, words)
        return kept

    def _defer_proximity(self, ids: np.ndarray, phrase: wq.Phrase, words: list) -> None:
        """The bonus ``AndMaybe(…, phrase)`` adds to the matches ``ids``: the phrase's matcher
        scores a document as whoosh's tree of intersections of its words' matchers does, times
        its boost, where the words stand close."""
        ib, sb = _tree_intersection([self.evaluate(w) for w in words])
        common, _, kb = _intersect(ids, ib)
        bonus = sb[kb] * 1.0  # the span matcher's own boost (whoosh's WrappingMatcher default)
        if phrase.boost != 1.0:  # Phrase.matcher wraps it then
            bonus = bonus * phrase.boost
        test = _SpanTest(words, phrase.slop)
        self.deferred.add(common, bonus, test.close, self.offset)

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

    def leaf(self, m: W3LeafMatcher | mcore.ListMatcher) -> Evaluated:
        """One term's postings (a posting list, or the one posting kept in the term's info), scored
        by BM25F as ``BM25FScorer`` scores each of them."""
        scorer = m.scorer if type(m) is W3LeafMatcher else m._scorer
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
        ids = _sorted_union(ia, ib)
        s = np.zeros(len(ids))
        s[np.searchsorted(ids, ia)] = sa
        s[np.searchsorted(ids, ib)] += sb
        return ids, s

    def intersection(self, m: binary.IntersectionMatcher) -> Evaluated:
        ia, sa = self.evaluate(m.a)
        ib, sb = self.evaluate(m.b)
        ids, ka, kb = _intersect(ia, ib)
        return ids, sa[ka] + sb[kb]

    def and_not(self, m: binary.AndNotMatcher) -> Evaluated:
        return self._without(self.evaluate(m.a), m.b)

    def _without(self, kept: Evaluated, excluded) -> Evaluated:
        ia, sa = kept
        ib, _ = self.evaluate(excluded)
        keep = np.isin(ia, ib, assume_unique=True, invert=True)
        return ia[keep], sa[keep]

    def and_maybe(self, m: binary.AndMaybeMatcher) -> Evaluated:
        ia, sa = self.evaluate(m.a)
        ib, sb = self.evaluate(m.b)
        _, ka, kb = _intersect(ia, ib)
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
    mcore.ListMatcher: _Segment.leaf,
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


def _intersect(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.intersect1d(a, b, assume_unique=True, return_indices=True)`` for ascending arrays of
    distinct numbers from 0: the common numbers and where each stands in ``a`` and in ``b``.
    Long lists go through an array over their range instead of a sort (70,000 and 60,000 numbers
    of 82,000: 0.5 ms against 3.6)."""
    if len(a) and len(b):
        span = int(max(a[-1], b[-1])) + 1
        if len(a) + len(b) >= span // DENSE_FROM:
            place = np.full(span, -1, dtype=np.intp)
            place[a] = np.arange(len(a))
            at = place[b]
            kb = np.flatnonzero(at >= 0)
            return b[kb], at[kb], kb
    return np.intersect1d(a, b, assume_unique=True, return_indices=True)


def _sorted_union(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """The union of two ascending arrays of distinct numbers, ascending (``np.union1d`` gives the
    same, but numpy 2 finds its distinct values by hashing: 15 times slower here)."""
    both = np.concatenate((a, b))
    both.sort()
    if not len(both):
        return both
    return both[np.concatenate(([True], both[1:] != both[:-1]))]


def _phrase_words(phrase: wq.Phrase, searcher, context) -> list | None:
    """The matchers of a phrase's words as ``Phrase.matcher`` makes them for its span matcher;
    None where it makes none (a word the segment lacks)."""
    if phrase.fieldname not in searcher.schema:
        return None
    field = searcher.schema[phrase.fieldname]
    if not field.format or not field.format.supports("positions"):
        return None
    reader = searcher.reader()
    terms = []
    for word in phrase.words:
        try:
            word = field.to_bytes(word)
        except ValueError:
            return None
        if (phrase.fieldname, word) not in reader:
            return None
        terms.append(wq.Term(phrase.fieldname, word))
    return [t.matcher(searcher, context) for t in terms]


def _tree_intersection(parts: list[Evaluated]) -> Evaluated:
    """Documents in every part, each scored as whoosh's ``make_binary_tree`` of
    ``IntersectionMatcher`` over the parts adds their scores (the same sums in the same order)."""
    if len(parts) == 1:
        return parts[0]
    half = len(parts) // 2
    ia, sa = _tree_intersection(parts[:half])
    ib, sb = _tree_intersection(parts[half:])
    ids, ka, kb = _intersect(ia, ib)
    return ids, sa[ka] + sb[kb]


class _SpanTest:
    """whoosh's test of a sloppy phrase (``SpanNear2Matcher._get_spans``: its words in order, each
    within ``slop`` of the one before), applied to documents chosen by the caller."""

    ordered = True
    mindist = 1

    def __init__(self, words: list, slop: int) -> None:
        self.ms = words  # the names _get_spans reads
        self.slop = slop

    def close(self, docs: np.ndarray) -> np.ndarray:
        """For each of ``docs`` (segment numbers, ascending, each holding every word), whether its
        words stand close: the words' matchers are moved to each document in turn."""
        for word in self.ms:
            word.reset()
        out = np.zeros(len(docs), dtype=bool)
        for i, doc in enumerate(docs.tolist()):
            for word in self.ms:
                word.skip_to(doc)
            if all(word.is_active() and word.id() == doc for word in self.ms):
                out[i] = bool(SpanNear2.SpanNear2Matcher._get_spans(self))
        return out


def _listed(m: mcore.ListMatcher) -> tuple[np.ndarray, np.ndarray]:
    """A ``ListMatcher``'s documents and weights as its ``weight()`` gives them."""
    ids = np.array(m._ids, dtype=np.int64)
    if m._all_weights:
        return ids, np.full(len(ids), float(m._all_weights))
    if m._weights:
        return ids, np.array(m._weights, dtype=np.float64)
    return ids, np.ones(len(ids))


def _restartable(m) -> bool:
    """True when evaluating ``m`` reads its postings from the first (terms, boosted or filtered)."""
    if type(m) in (W3LeafMatcher, mcore.ListMatcher, mcore.NullMatcherClass):
        return True
    return type(m) in (wrappers.WrappingMatcher, wrappers.FilterMatcher) and _restartable(m.child)


def raw_postings(leaf, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers (deleted ones included) and weights of one term of a segment reader."""
    m = leaf.postings(field, btext)
    if isinstance(m, wrappers.FilterMatcher):  # the deletions, applied when searching
        m = m.child
    if type(m) in (W3LeafMatcher, mcore.ListMatcher):
        return _postings(m)
    ids, weights = [], []
    while m.is_active():
        ids.append(m.id())
        weights.append(m.weight())
        m.next()
    return np.array(ids, dtype=np.int64), np.array(weights, dtype=np.float64)


def _postings(m: W3LeafMatcher | mcore.ListMatcher) -> tuple[np.ndarray, np.ndarray]:
    """Document numbers and weights of a term's whole posting list.
    whoosh 2.7.5 (pinned) keeps a block as a pickled tuple: ids delta-encoded unless byte ids,
    weights None (all 1.0), one float for all, or one per posting. A term's single posting is kept
    in its term info (``whoosh_writer``) and read as a ``ListMatcher``."""
    if type(m) is mcore.ListMatcher:
        return _listed(m)
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
