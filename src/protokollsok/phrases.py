"""Phrase queries answered through the word-pair field (``analysis.PAIR``).

whoosh matches a phrase by decoding, for every unit that holds all its words, the positions of
each word and comparing them in Python: for ``"i enlighet med"`` that is the positions of ``i``
and ``med`` in every unit that holds ``enlighet``. Here neighbours with a function word are looked
up as ``text_pair`` terms (``i enlighet``, ``enlighet med``) and only the other words as stems
(``plan``), so the positions compared are those of pairs and of less common words, a handful per
unit; a phrase of two words with a function word is one term and needs no positions at all.

The documents are those of whoosh's ``Phrase`` on ``text_stem`` with slop 1 (a word at position
p, the next at p + 1, ...). The score is computed from what the lookup has read: each item of the
plan scores as a term (BM25 on its frequency in the unit, with the unit's ``text_stem`` length),
so a phrase is ranked by how often the phrase occurs (its pairs), and scoring reads no posting of
its function words. (whoosh scores a phrase as the sum of its words' scores, so ``i`` and ``med``
anywhere in a unit counted.) The web page computes the same scores from the words' positions.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Sequence

from whoosh import matching
from whoosh import query as wq
from whoosh.reading import TermNotFound
from whoosh.scoring import bm25

from protokollsok import analysis
from protokollsok.postings import leaf_ids, leaf_items, leaf_weights

PAIR_FIELD = f"text_{analysis.PAIR}"
STEM_FIELD = "text_stem"


def plan(stems: Sequence[str]) -> list[tuple[str, str, int]]:
    """What to look up for a phrase: ``(field, term, offset)``, where the term must be found at
    position p + offset for one p. Each indexed pair of neighbours (``analysis.is_pair``) is one
    ``text_pair`` term; a word in no indexed pair (neither it nor a neighbour is a function word)
    is its own ``text_stem`` term."""
    items: list[tuple[str, str, int]] = []
    covered: set[int] = set()
    for k, (a, b) in enumerate(itertools.pairwise(stems)):
        if analysis.is_pair(a, b):
            items.append((PAIR_FIELD, analysis.pair_term(a, b), k))
            covered |= {k, k + 1}
    items += [(STEM_FIELD, s, k) for k, s in enumerate(stems) if k not in covered]
    return items


class PairPhrase(wq.Phrase):
    """Stems of ``text_stem`` in this order, next to each other (the documents of whoosh's
    ``Phrase("text_stem", stems, slop=1)``), found and scored through ``plan``: each item scores
    as a term, by BM25 on its frequency in the unit (see ``phrase_scores``)."""

    def __init__(self, stems: Sequence[str], boost: float = 1.0) -> None:
        super().__init__(STEM_FIELD, list(stems), slop=1, boost=boost)
        # segment reader's id -> (that reader, its documents -> each item's frequency): a search
        # asks once for scoring and once for counting; the reader is kept so that its id is not
        # reused meanwhile
        self._found: dict[int, tuple[object, dict[int, tuple[int, ...]]]] = {}
        self._idfs: dict[int, tuple[object, list[float]]] = {}  # the same, for the whole index

    def docs(self, reader) -> set[int]:
        """The (live) documents holding the phrase, over all segments of ``reader``."""
        out: set[int] = set()
        for leaf, offset in reader.leaf_readers():
            out.update(d + offset for d in self._leaf_docs(leaf))
        return out

    def _leaf_docs(self, leaf) -> dict[int, tuple[int, ...]]:
        found = self._found.get(id(leaf))
        if found is None:
            found = self._found[id(leaf)] = (leaf, _leaf_phrase_docs(leaf, plan(self.words)))
        return found[1]

    def _item_idfs(self, top) -> list[float]:
        found = self._idfs.get(id(top))
        if found is None:
            found = self._idfs[id(top)] = (top, item_idfs(top, plan(self.words)))
        return found[1]

    def matcher(self, searcher, context=None):
        """The phrase's documents in this segment with their ``phrase_scores``."""
        top = searcher.get_parent()
        found = self._leaf_docs(searcher.reader())
        if not found:
            return matching.NullMatcher()
        ids = sorted(found)
        scores = phrase_scores(top, searcher.reader(), self._item_idfs(top), ids, found)
        m = ScoredList(ids, scores)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


def item_idfs(top, items: Sequence[tuple[str, str, int]]) -> list[float]:
    """Each item's inverse document frequency in the whole index, as whoosh computes a term's
    (``log(N / (df + 1)) + 1``, N counting every document). A word's df is whoosh's; a pair's is the
    number of live units holding it, which a reader of the words' positions (the web page) can
    count too."""
    n = top.doc_count_all()
    reader = top.reader()
    out: list[float] = []
    for field, term, _ in items:
        if field != PAIR_FIELD:
            out.append(top.idf(field, term))
            continue
        df = sum(_live_frequency(leaf, field, term) for leaf, _ in reader.leaf_readers())
        out.append(math.log(n / (df + 1)) + 1)
    return out


def _live_frequency(leaf, field: str, term: str) -> int:
    """How many live documents of one segment hold the term."""
    if not leaf.has_deletions():
        return leaf.doc_frequency(field, term)
    try:
        ids = leaf_ids(leaf.postings(field, term))
    except TermNotFound:
        return 0
    deleted = leaf.deleted_docs_set
    return sum(1 for d in ids if d not in deleted)


def phrase_scores(top, leaf, idfs: Sequence[float], ids: Sequence[int], found) -> list[float]:
    """The score of each document of ``ids`` (one segment's, with each item's frequency in
    ``found``): the BM25 of every item of the plan, a pair as if it were a word, added up in the
    plan's order; lengths are the units' ``text_stem`` lengths, as for a word. So a phrase is
    ranked by how often the phrase itself occurs, not by how often its function words do."""
    weighting = top.weighting
    b, k1 = getattr(weighting, "B", 0.75), getattr(weighting, "K1", 1.2)
    avgfl = top.avg_field_length(STEM_FIELD) or 1
    out: list[float] = []
    for d in ids:
        fl = leaf.doc_field_length(d, STEM_FIELD, 1)
        s = 0.0
        for idf, tf in zip(idfs, found[d], strict=True):
            s += bm25(idf, tf, fl, avgfl, b, k1)
        out.append(s)
    return out


class ScoredList(matching.Matcher):
    """Documents with scores computed beforehand, in document order; the whole list is one block
    whose quality is the best score still ahead, so whoosh's collector can stop early."""

    def __init__(self, ids: Sequence[int], scores: Sequence[float], i: int = 0) -> None:
        self._ids, self._scores, self._i = ids, scores, i
        best = list(itertools.accumulate(reversed(scores), max))
        self._best_ahead = best[::-1]

    def is_active(self) -> bool:
        return self._i < len(self._ids)

    def id(self) -> int:
        return self._ids[self._i]

    def next(self) -> bool:
        self._i += 1
        return False

    def skip_to(self, id: int) -> None:
        if self.is_active() and id > self._ids[self._i]:
            self._i = bisect.bisect_left(self._ids, id, self._i)

    def reset(self) -> None:
        self._i = 0

    def copy(self):
        return ScoredList(self._ids, self._scores, self._i)

    def all_ids(self):
        return iter(self._ids[self._i :])

    def weight(self) -> float:
        return self._scores[self._i]

    def score(self) -> float:
        return self._scores[self._i]

    def supports(self, astype: str) -> bool:
        return False

    def supports_block_quality(self) -> bool:
        return True

    def max_quality(self) -> float:
        return self._best_ahead[self._i] if self.is_active() else 0.0

    def block_quality(self) -> float:
        return self.max_quality()

    def skip_to_quality(self, minquality: float) -> int:
        if self.is_active() and self.max_quality() <= minquality:
            self._i = len(self._ids)
            return 1
        return 0

    def replace(self, minquality: float = 0):
        if not self.is_active() or (minquality and self.max_quality() < minquality):
            return matching.NullMatcher()
        return self


def _leaf_phrase_docs(leaf, items: Sequence[tuple[str, str, int]]) -> dict[int, tuple[int, ...]]:
    """One segment's live documents holding every item of a phrase's ``plan``, each at its offset
    from one start position, with each item's frequency in the document."""
    deleted = leaf.deleted_docs_set if leaf.has_deletions() else set()
    try:
        if len(items) == 1:  # one pair: the phrase of two words itself
            field, term, _ = items[0]
            return {d: (int(w),) for d, w in leaf_weights(leaf.postings(field, term)) if d not in deleted}
        # Each list is read once, ids and positions together (whoosh stores them in one
        # pickled block, so reading the ids alone costs as much), rarest first.
        values: dict[int, dict[int, bytes]] = {}
        candidates: set[int] | None = None
        for k in sorted(range(len(items)), key=lambda k: leaf.doc_frequency(*items[k][:2])):
            field, term, _ = items[k]
            found = leaf_items(leaf.postings(field, term))
            if candidates is None:
                values[k] = {d: v for d, v in found if d not in deleted}
            else:
                values[k] = {d: v for d, v in found if d in candidates}
            candidates = set(values[k])
            if not candidates:
                return {}
    except TermNotFound:
        return {}
    decoders = [leaf.schema[field].format.decode_positions for field, _, _ in items]
    offsets = [offset for _, _, offset in items]
    ordered = [values[k] for k in range(len(items))]
    out: dict[int, tuple[int, ...]] = {}
    for d in candidates or ():
        positions = [decode(v[d]) for decode, v in zip(decoders, ordered, strict=True)]
        if _aligned(positions, offsets):
            out[d] = tuple(len(p) for p in positions)
    return out


def _aligned(positions: Sequence[Sequence[int]], offsets: Sequence[int]) -> bool:
    """Whether some p has p + offsets[k] in positions[k] for every k."""
    starts = {p - offsets[0] for p in positions[0]}
    for later, offset in zip(positions[1:], offsets[1:], strict=True):
        starts &= {p - offset for p in later}
        if not starts:
            return False
    return True
