"""Reading whoosh posting lists a block at a time (whoosh's own per-posting API costs a generator
step and several method calls per posting, which dominates counting a common word)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence

from whoosh.codec.whoosh3 import W3LeafMatcher
from whoosh.matching.wrappers import FilterMatcher


def leaf_ids(m) -> Sequence[int]:
    """All document numbers of one segment's posting list (deletions not yet removed)."""
    leaf = _leaf(m)
    if leaf is None:
        return list(m.all_ids())
    out: list[int] = []
    for ids, _ in blocks(leaf, values=False):
        out.extend(ids)
    return out


def leaf_items(m) -> Iterator[tuple[int, bytes]]:
    """``(document number, value)`` of every posting of one segment's list (deletions not yet
    removed); the value holds the encoded positions of a positional field."""
    leaf = _leaf(m)
    if leaf is None:
        yield from m.all_items()
        return
    for ids, values in blocks(leaf, values=True):
        yield from zip(ids, values, strict=True)


def leaf_weights(m) -> Iterator[tuple[int, float]]:
    """``(document number, weight)`` of every posting of one segment's list (deletions not yet
    removed); the weight is the term's frequency in the document."""
    leaf = _leaf(m)
    if leaf is None:
        while m.is_active():
            yield m.id(), m.weight()
            m.next()
        return
    for ids, _ in blocks(leaf, values=False):
        leaf._read_weights()
        yield from zip(ids, leaf._weights, strict=True)


def _leaf(m) -> W3LeafMatcher | None:
    if isinstance(m, FilterMatcher):
        m = m.child
    return m if isinstance(m, W3LeafMatcher) else None


def blocks(m: W3LeafMatcher, *, values: bool) -> Iterator[tuple[Sequence[int], Sequence]]:
    """``(document numbers, values or ())`` of each block of a leaf matcher's list from where it
    stands; after each, ``m._read_weights()`` gives the block's weights in ``m._weights``."""
    # The private block API of whoosh 2.7.5 (pinned), as W3LeafMatcher._read_ids/_read_values.
    while not m._atend:
        if m._data is None:
            m._read_data()
        ids = m._data[0]
        if not m._byteids:
            ids = list(itertools.accumulate(ids))
        if values:
            m._read_values()
        yield ids, (m._values if values else ())
        if m._lastblock:
            break
        m._goto(m._nextoffset)
