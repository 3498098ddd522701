"""Scoring only the documents already known to match.

``search`` counts every match by set algebra over postings before it scores (for the total and
the facets), so it knows the matching documents. whoosh's collector would otherwise step through
every document of the query's matchers and test each against a filter set: for ``skolan`` with
``parti:SD`` every unit that mentions ``skolan`` in any of five fields, for ``kommunen budget`` a
walk through the union of ``kommun``'s five posting lists. Here the matcher is skipped straight to
each known match; the scores are the matcher's own, so the ranking is unchanged.
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from whoosh import matching
from whoosh import query as wq
from whoosh.matching.wrappers import WrappingMatcher


class OnlyDocs(wq.WrappingQuery):
    """``child``, matching only the documents of a sorted list of (top-level) document numbers."""

    def __init__(self, child: wq.Query, docs: Sequence[int]) -> None:
        super().__init__(child)
        self.docs = docs

    def apply(self, fn):
        return self.__class__(fn(self.child), self.docs)

    def matcher(self, searcher, context=None):
        """The child's matcher on one segment, skipping from listed document to listed document."""
        offset, count = _segment(searcher)
        docs = self.docs
        lo, hi = bisect.bisect_left(docs, offset), bisect.bisect_left(docs, offset + count)
        m = self.child.matcher(searcher, context)
        if lo == hi or not m.is_active():
            return matching.NullMatcher()
        return Within(m, [d - offset for d in docs[lo:hi]])


def _segment(searcher) -> tuple[int, int]:
    """(first document number, document count) of the segment a (sub)searcher reads."""
    reader = searcher.reader()
    top = searcher.get_parent()
    if top is not searcher:
        for leaf, offset in top.reader().leaf_readers():
            if leaf is reader:
                return offset, leaf.doc_count_all()
    return 0, reader.doc_count_all()


class Within(WrappingMatcher):
    """The child's documents that are in a sorted list, reached by skipping the child to each of
    them; the scores are the child's."""

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
