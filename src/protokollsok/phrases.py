"""Phrase queries answered through the word-pair field (``analysis.PAIR``).

whoosh matches a phrase by decoding, for every unit that holds all its words, the positions of each
word and comparing them in Python: for ``"i enlighet med"`` that is the positions of ``i`` and
``med`` in some 20,000 units. Here a phrase of two words is one ``text_pair`` term; a longer phrase
is the units holding all its pairs whose pairs follow each other (the positions compared are those
of the pairs, a handful per unit). The documents are the same as whoosh's ``Phrase`` on
``text_stem`` with slop 1 (a word at position p, the next at p + 1, ...), and so is the score: the
sum of the words' scores on ``text_stem``, added up in the same order. The pair field is never
scored.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

from whoosh import matching
from whoosh import query as wq
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound
from whoosh.util import make_binary_tree

from protokollsok import analysis
from protokollsok.postings import leaf_ids, leaf_items

PAIR_FIELD = f"text_{analysis.PAIR}"


def pair_terms(stems: Sequence[str]) -> list[str]:
    """The ``text_pair`` terms of a phrase's stems, in order."""
    return [analysis.pair_term(a, b) for a, b in itertools.pairwise(stems)]


class PairPhrase(wq.Phrase):
    """Words (stems of ``fieldname``) in this order, next to each other, found through their pairs.

    Only for slop 1 and a field whose text is also indexed in ``text_pair``; matches and scores as
    whoosh's ``Phrase`` would."""

    def __init__(self, fieldname: str, words: Sequence[str], boost: float = 1.0) -> None:
        super().__init__(fieldname, list(words), slop=1, boost=boost)
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
            found = self._found[id(leaf)] = (leaf, _leaf_phrase_docs(leaf, pair_terms(self.words)))
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
        allowed = self.docs(reader)
        if not allowed:
            return matching.NullMatcher()
        isect = make_binary_tree(
            matching.IntersectionMatcher, [t.matcher(searcher, context) for t in terms]
        )
        m = _Within(isect, allowed)
        if self.boost != 1.0:
            m = matching.WrappingMatcher(m, boost=self.boost)
        return m


class _Within(FilterMatcher):
    """Only the child's documents in a set. whoosh's ``FilterMatcher`` forgets the set after a
    block-quality skip; this one does not."""

    def skip_to_quality(self, minquality: float) -> int:
        skipped = self.child.skip_to_quality(minquality / self.boost)
        self._find_next()
        return skipped


def _leaf_phrase_docs(leaf, pairs: Sequence[str]) -> Sequence[int]:
    """One segment's live documents holding every pair, each pair one position after the one
    before it."""
    deleted = leaf.deleted_docs_set if leaf.has_deletions() else set()
    try:
        if len(pairs) == 1:
            return [d for d in leaf_ids(leaf.postings(PAIR_FIELD, pairs[0])) if d not in deleted]
        sizes = sorted(range(len(pairs)), key=lambda i: leaf.doc_frequency(PAIR_FIELD, pairs[i]))
        candidates: set[int] | None = None
        for i in sizes:
            ids = leaf_ids(leaf.postings(PAIR_FIELD, pairs[i]))
            candidates = set(ids) - deleted if candidates is None else candidates.intersection(ids)
            if not candidates:
                return []
        values = [
            {d: v for d, v in leaf_items(leaf.postings(PAIR_FIELD, p)) if d in candidates}
            for p in pairs
        ]
    except TermNotFound:
        return []
    decode = leaf.schema[PAIR_FIELD].format.decode_positions
    return sorted(d for d in candidates if _in_sequence([decode(v[d]) for v in values]))


def _in_sequence(positions: Sequence[Sequence[int]]) -> bool:
    """Whether some p has p in the first list, p + 1 in the second, p + 2 in the third, ..."""
    starts = set(positions[0])
    for shift, later in enumerate(positions[1:], start=1):
        starts &= {p - shift for p in later}
        if not starts:
            return False
    return True
