"""Reading whoosh posting lists a block at a time (whoosh's own per-posting API costs a generator
step and several method calls per posting, which dominates counting a common word), and a
segment's terms file a few megabytes at a time (whoosh reads each term with a seek and two reads)."""

from __future__ import annotations

import bisect
import itertools
import struct
from collections.abc import Iterable, Iterator, Sequence

from whoosh.codec.whoosh3 import W3LeafMatcher, W3TermInfo, W3TermsReader
from whoosh.matching.wrappers import FilterMatcher
from whoosh.reading import TermNotFound

RECORD_LENGTHS = struct.Struct("!ii")  # a terms file record's key and value lengths (whoosh's ``filetables``)
RECORDS_CHUNK = 1 << 23  # bytes of a terms file read at a time


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


def records(tindex, pos: int | None = None, chunk: int = RECORDS_CHUNK) -> Iterator[tuple[bytes, int, int, int]]:
    """The records of a whoosh terms file (``W3TermsReader``'s ``OrderedHashReader``, whoosh 2.7.5,
    pinned) from ``pos`` (default: the first) in file order, as ``(data, key start, value start,
    value end)``: the file is read ``chunk`` bytes at a time, where whoosh reads each record with a
    seek and two reads."""
    head, lengths = RECORD_LENGTHS.size, RECORD_LENGTHS.unpack_from
    at, end = tindex.startofdata if pos is None else pos, tindex.endofdata
    data, pos = b"", 0
    while True:
        if pos + head <= len(data):
            keylen, datalen = lengths(data, pos)
            datapos = pos + head + keylen
            if datapos + datalen <= len(data):
                yield data, pos + head, datapos, datapos + datalen
                pos = datapos + datalen
                continue
        if at >= end:
            return
        more = tindex.dbfile.get(at, min(chunk, end - at))
        at += len(more)
        data, pos = data[pos:] + more, 0


def field_terms(leaf, fname: str, start: bytes = b"", chunk: int = RECORDS_CHUNK) -> Iterator[tuple[bytes, W3TermInfo]]:
    """``leaf.iter_field(fname, start)`` (a segment's terms of one field from ``start``, in order,
    with their term infos), the terms file read ``chunk`` bytes at a time (``records``): an
    export walks every term of the index, and whoosh's three reads per term were a seventh of it."""
    terms = getattr(leaf, "_terms", None)
    if not isinstance(terms, W3TermsReader):
        yield from leaf.iter_field(fname, start.decode("utf-8"))
        return
    key = terms._keycoder(fname, start)
    pos = terms._tindex.closest_key_pos(key)
    if pos is None:
        return
    field = key[:2]
    decode = W3TermInfo.from_bytes
    for data, keypos, datapos, end in records(terms._tindex, pos, chunk):
        if data[keypos : keypos + 2] != field:
            return
        yield data[keypos + 2 : datapos], decode(data[datapos:end])


def some_field_terms(leaf, fname: str, wanted: Iterable[bytes]) -> Iterator[tuple[bytes, W3TermInfo]]:
    """``(term, term info)`` of the ``wanted`` terms (ascending) that a segment's field holds, each
    looked up in the terms file's hash table: for a few terms, instead of walking all of them."""
    terms = getattr(leaf, "_terms", None)
    for tbytes in wanted:
        try:
            if isinstance(terms, W3TermsReader):
                yield tbytes, terms.term_info(fname, tbytes)
            else:
                yield tbytes, leaf.term_info(fname, tbytes.decode("utf-8"))
        except TermNotFound:
            continue


def holding(leaf, fname: str, docs: Sequence[int]) -> Iterator[bytes]:
    """The terms of a segment's field whose postings hold any of ``docs`` (ascending document
    numbers of the segment, deleted ones too), in term order. A term's info bounds its documents
    (``min_id``, ``max_id``): only a list whose bounds take in one of them is looked into, by
    skipping to it. Another codec than whoosh 3's: every term of the field (none left out)."""
    if not docs:
        return
    terms = getattr(leaf, "_terms", None)
    if not isinstance(terms, W3TermsReader):
        for tbytes, _ in field_terms(leaf, fname):
            yield tbytes
        return
    fmt = leaf.schema[fname].format
    for tbytes, info in field_terms(leaf, fname):
        lo, hi = bisect.bisect_left(docs, info.min_id()), bisect.bisect_right(docs, info.max_id())
        if lo == hi:
            continue
        if info.is_inlined():
            if not set(info.inlined_postings()[0]).isdisjoint(docs[lo:hi]):
                yield tbytes
            continue
        m = terms._codec.postings_reader(terms._postfile, info, fmt, term=(fname, tbytes))
        for doc in docs[lo:hi]:
            m.skip_to(doc)
            if not m.is_active():
                break
            if m.id() == doc:
                yield tbytes
                break
