"""Phrase queries answered through the word-pair field (``analysis.PAIR``).

whoosh matches a phrase by decoding, for every unit that holds all its words, the positions of
each word and comparing them in Python: for ``"i enlighet med"`` that is the positions of ``i``
and ``med`` in every unit that holds ``enlighet``. Here neighbours with a function word are looked
up as ``text_pair`` terms (``i enlighet``, ``enlighet med``) and only the other words as stems
(``plan``), so the positions compared are those of pairs and of less common words, a handful per
unit; a phrase of two words with a function word is one term and needs no positions at all.

The documents are those of whoosh's ``Phrase`` on ``text_stem`` with slop 1 (a word at position
p, the next at p + 1, ...), and so are the scores: the sum of the words' scores on ``text_stem``,
added up in the same order (the pair field is never scored). Scoring still reads the words'
posting blocks for the phrase's documents, which is what a phrase of very common words costs now.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence

from whoosh import matching
from whoosh import query as wq
from whoosh.matching.wrappers import WrappingMatcher
from whoosh.reading import TermNotFound
from whoosh.util import make_binary_tree

from protokollsok import analysis
from protokollsok.postings import leaf_ids, leaf_items

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
    """Stems of ``text_stem`` in this order, next to each other, found through ``plan``: matches
    and scores as whoosh's ``Phrase("text_stem", stems, slop=1)``, in an index with pairs."""

    def __init__(self, stems: Sequence[str], boost: float = 1.0) -> None:
        super().__init__(STEM_FIELD, list(stems), slop=1, boost=boost)
        # segment reader's id -> (that reader, its documents): a search asks once for scoring
        # and once for counting; the reader is kept so that its id is not reused meanwhile
        self._found: dict[int, tuple[object, Sequence[int]]] = {}

    def docs(self, reader) -> set[int]:
        """The (live) documents holding the phrase, over all segments of ``reader``."""
        out: set[int] = set()
        for leaf, offset in reader.leaf_readers():
            out.update(d + offset for d in self._leaf_docs(leaf))
        return out

    def _leaf_docs(self, leaf) -> Sequence[int]:
        found = self._found.get(id(leaf))
        if found is None:
            found = self._found[id(leaf)] = (leaf, _leaf_phrase_docs(leaf, plan(self.words)))
        return found[1]

    def matcher(self, searcher, context=None):
        """The words' intersection on ``fieldname`` (scored as whoosh's phrase matcher scores),
        restricted to the documents that hold the phrase."""
        reader = searcher.reader()
        terms = []
        for word in self.words:
            if (self.fieldname, word) not in reader:
                return matching.NullMatcher()
            terms.append(wq.Term(self.fieldname, word))
        allowed = sorted(self.docs(reader))
        if not allowed:
            return matching.NullMatcher()
        isect = make_binary_tree(
            matching.IntersectionMatcher, [t.matcher(searcher, context) for t in terms]
        )
        m = _Within(isect, allowed)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


class _Within(WrappingMatcher):
    """The child's documents that are in a sorted list, reached by skipping the child to each
    of them (the list is the phrase's documents, fewer than the words' intersection by far); the
    scores are the child's."""

    def __init__(self, child, ids: Sequence[int], boost: float = 1.0) -> None:
        super().__init__(child, boost=boost)
        self._ids = ids
        self._i = 0
        self._settle()

    def _settle(self) -> None:
        """Move to the first listed document at or after the child's position."""
        ids, child = self._ids, self.child
        while self._i < len(ids) and child.is_active():
            here = child.id()
            if ids[self._i] < here:
                self._i = bisect.bisect_left(ids, here, self._i)
                if self._i == len(ids):
                    return
            if ids[self._i] == here:
                return
            child.skip_to(ids[self._i])

    def is_active(self) -> bool:
        return self._i < len(self._ids) and self.child.is_active()

    def copy(self):
        return self.__class__(self.child.copy(), self._ids[self._i :], boost=self.boost)

    def _replacement(self, newchild):
        return self.__class__(newchild, self._ids[self._i :], boost=self.boost)

    def reset(self) -> None:
        self.child.reset()
        self._i = 0
        self._settle()

    def next(self) -> bool:
        """To the next listed document; True (a new block may have begun), so that whoosh's
        collector checks block quality and skips what cannot reach the top."""
        self._i += 1
        if self._i < len(self._ids) and self.child.is_active():
            self.child.skip_to(self._ids[self._i])
        self._settle()
        return True

    def skip_to(self, id: int) -> None:
        if not self.is_active() or id <= self.id():
            return
        self._i = bisect.bisect_left(self._ids, id, self._i)
        if self._i < len(self._ids):
            self.child.skip_to(self._ids[self._i])
        self._settle()

    def skip_to_quality(self, minquality: float) -> int:
        skipped = self.child.skip_to_quality(minquality / self.boost)
        self._settle()
        return skipped

    def all_ids(self):
        while self.is_active():
            yield self.id()
            self.next()


def _leaf_phrase_docs(leaf, items: Sequence[tuple[str, str, int]]) -> Sequence[int]:
    """One segment's live documents holding every item of a phrase's ``plan``, each at its offset
    from one start position."""
    deleted = leaf.deleted_docs_set if leaf.has_deletions() else set()
    try:
        if len(items) == 1:  # one pair: the phrase of two words itself
            field, term, _ = items[0]
            return [d for d in leaf_ids(leaf.postings(field, term)) if d not in deleted]
        candidates: set[int] | None = None
        for field, term, _ in sorted(items, key=lambda it: leaf.doc_frequency(it[0], it[1])):
            ids = leaf_ids(leaf.postings(field, term))
            candidates = set(ids) - deleted if candidates is None else candidates.intersection(ids)
            if not candidates:
                return []
        values = [
            {d: v for d, v in leaf_items(leaf.postings(field, term)) if d in candidates}
            for field, term, _ in items
        ]
    except TermNotFound:
        return []
    decoders = [leaf.schema[field].format.decode_positions for field, _, _ in items]
    offsets = [offset for _, _, offset in items]
    return sorted(
        d
        for d in candidates
        if _aligned([decode(v[d]) for decode, v in zip(decoders, values, strict=True)], offsets)
    )


def _aligned(positions: Sequence[Sequence[int]], offsets: Sequence[int]) -> bool:
    """Whether some p has p + offsets[k] in positions[k] for every k."""
    starts = {p - offsets[0] for p in positions[0]}
    for later, offset in zip(positions[1:], offsets[1:], strict=True):
        starts &= {p - offset for p in later}
        if not starts:
            return False
    return True
