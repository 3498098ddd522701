"""The posting lists of frequent terms as plain arrays, in one file beside each segment.

whoosh keeps a posting list as pickled, compressed blocks of 128 postings: reading the 37,000
postings of a common word costs some 300 ``pickle.loads`` (and, in the positional ``text_stem``
field, every posting's positions are unpickled too), which is most of what scoring such a word
costs once ``vectorized`` does the arithmetic. So after each commit the indexer writes, for every
new segment, the document numbers and weights of each term with at least ``MIN_POSTINGS``
postings in the scored text fields -- the same numbers whoosh holds, as numpy reads them straight
from a memory map. The facet columns (nämnd, parti, year) and the date are kept there too, each
document's value as a number, so counting the facets of 37,000 matches is one ``bincount`` per
segment, and ordering them by date one sort.

The file is named like the segment's own (``<segment id>.arrays``), so whoosh deletes it together
with the segment after a merge; it is written under a temporary name and renamed, and a search
uses it only when its header names the segment and its document count. A missing or unreadable
file only makes a search read whoosh's blocks instead.
"""

from __future__ import annotations

import contextlib
import json
import mmap
import os
import struct
from collections.abc import Collection, Iterator
from pathlib import Path

import numpy as np

from protokollsok import postings

SUFFIX = "arrays"
FIELDS = ("text_exact", "text_stem", "text_fold", "text_parts", "title")
COLUMNS = ("namnd", "parti", "year", "datum")  # facets and the date order, as value numbers
MIN_POSTINGS = 1024
MAGIC = b"protokollsok-arrays 4\n"
_HEADER = struct.Struct("<Q")  # the directory's length in bytes, after MAGIC
_ALIGN = 8
_TERMINFO_DF = struct.Struct("!I")  # a term info's document frequency (``W3TermInfo``: "!BfI...")
_TERMINFO_DF_AT = 5


def path_for(index_dir: Path, segment_id: str) -> Path:
    """Where the arrays of one segment are kept."""
    return Path(index_dir) / f"{segment_id}.{SUFFIX}"


def missing(index_dir: Path, ix) -> list[str]:
    """The segments of ``ix`` without arrays this code can read (none yet, an older layout, a
    damaged file), in the index's order."""
    out: list[str] = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if leaf.segment() is not None and open_for(index_dir, leaf) is None:  # None: an empty index
                out.append(leaf.segment().segment_id())
    return out


def write_missing(index_dir: Path, ix, only: Collection[str] | None = None) -> list[str]:
    """Write the arrays of every segment of ``ix`` that has none yet, or none this code can read
    (of those in ``only``, when given); returns the names written. Reads through a reader of its
    own (a forked process must not share a reader's file offsets)."""
    written: list[str] = []
    with ix.reader() as reader:
        for leaf, _ in reader.leaf_readers():
            if leaf.segment() is None:  # an empty index's reader
                continue
            segment_id = leaf.segment().segment_id()
            if only is not None and segment_id not in only:
                continue
            path = path_for(index_dir, segment_id)
            if open_for(index_dir, leaf) is None:
                _write(path, segment_id, leaf)
                written.append(path.name)
    return written


def _write(path: Path, segment_id: str, leaf) -> None:
    from protokollsok.vectorized import raw_postings

    directory: dict[str, list] = {}
    chunks: list[bytes] = []
    at = 0
    frequent = _frequent_terms(leaf, [f for f in FIELDS if f in leaf.schema], MIN_POSTINGS)
    for field in FIELDS:
        for btext in frequent.get(field, []):
            ids, weights = raw_postings(leaf, field, btext)
            encoded = _encode(ids, weights)
            directory[_key(field, btext)] = [at, len(ids), encoded[0], encoded[1]]
            for chunk in encoded[2:]:
                chunk += b"\0" * (-len(chunk) % _ALIGN)
                chunks.append(chunk)
                at += len(chunk)
    columns: dict[str, list] = {}
    for name in COLUMNS:
        coded = _coded_column(leaf, name)
        if coded is not None:
            values, codes = coded
            columns[name] = [at, values]
            chunk = codes.tobytes()
            chunk += b"\0" * (-len(chunk) % _ALIGN)
            chunks.append(chunk)
            at += len(chunk)
    head = json.dumps(
        {"segment": segment_id, "doc_count": leaf.doc_count_all(), "size": at, "terms": directory, "columns": columns}
    ).encode()
    head += b" " * (-(len(MAGIC) + _HEADER.size + len(head)) % _ALIGN)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        with open(tmp, "wb") as f:
            f.write(MAGIC + _HEADER.pack(len(head)) + head)
            for chunk in chunks:
                f.write(chunk)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(path)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()


def _frequent_terms(leaf, fields: list[str], min_df: int) -> dict[str, list[bytes]]:
    """The terms of ``fields`` in a segment held by at least ``min_df`` documents, by field in
    term order (``iter_field``'s terms whose ``doc_frequency`` is that high). The terms file's
    records are read a few megabytes at a time and only each term's document frequency is looked
    at: whoosh's ``iter_field`` reads each record with a seek and two reads and decodes every
    term's info, which was most of the time the arrays took to write (1.6 of 1.9 s for a 10k
    segment)."""
    terms = leaf._terms
    wanted = {terms._fieldmap[f]: f for f in fields if f in terms._fieldmap}
    out: dict[str, list[bytes]] = {f: [] for f in wanted.values()}
    for key in _frequent_keys(terms._tindex, min_df):
        field = wanted.get((key[0] << 8) | key[1])
        if field is not None:
            out[field].append(key[2:])
    return out


def _frequent_keys(tindex, min_df: int, chunk: int = postings.RECORDS_CHUNK) -> Iterator[bytes]:
    """The keys (field number, term) of a whoosh terms file's records whose term info gives at
    least ``min_df`` documents, in file order, the file read ``chunk`` bytes at a time."""
    df_of = _TERMINFO_DF.unpack_from
    for data, keypos, datapos, _ in postings.records(tindex, chunk=chunk):
        if df_of(data, datapos + _TERMINFO_DF_AT)[0] >= min_df:
            yield data[keypos:datapos]


def _coded_column(leaf, name: str) -> tuple[list[str], np.ndarray] | None:
    """(the distinct values of one segment's column, each document's value number as 32 bits),
    or None when the segment has no such column."""
    from protokollsok.search import LeafColumn

    if not leaf.has_column(name):
        return None
    per_doc = LeafColumn(leaf.column_reader(name)).values()
    numbers = {v: i for i, v in enumerate(dict.fromkeys(per_doc))}
    return list(numbers), np.array([numbers[v] for v in per_doc], dtype="<u4")


def _key(field: str, btext: bytes) -> str:
    return field + "\0" + btext.decode("utf-8")


def _encode(ids: np.ndarray, weights: np.ndarray) -> tuple:
    """(ids kind, weights kind, ids bytes[, weights bytes]): ids as 16-bit gaps when every gap
    fits, else 32-bit numbers; weights left out when all are 1, as bytes when they are small
    whole numbers, else as the 32-bit floats whoosh stores."""
    gaps = np.diff(ids, prepend=0)
    if len(gaps) and gaps.max() < 1 << 16:
        id_kind, id_bytes = "u2gaps", gaps.astype("<u2").tobytes()
    else:
        id_kind, id_bytes = "u4", ids.astype("<u4").tobytes()
    if np.all(weights == 1.0):
        return id_kind, "ones", id_bytes
    small = weights.astype(np.uint8)
    if np.all(small == weights):
        return id_kind, "u1", id_bytes, small.tobytes()
    return id_kind, "f4", id_bytes, weights.astype("<f4").tobytes()


class SegmentArrays:
    """The arrays file of one segment, memory-mapped; ``get`` gives a term's postings."""

    def __init__(self, path: Path, segment_id: str, doc_count: int) -> None:
        with open(path, "rb") as f:
            self._map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        if self._map[: len(MAGIC)] != MAGIC:
            raise ValueError(f"{path}: not an arrays file")
        (size,) = _HEADER.unpack_from(self._map, len(MAGIC))
        start = len(MAGIC) + _HEADER.size
        head = json.loads(self._map[start : start + size])
        if head.get("segment") != segment_id or head.get("doc_count") != doc_count:
            raise ValueError(f"{path}: written for another segment")
        if len(self._map) != start + size + head["size"]:
            raise ValueError(f"{path}: cut short or too long")
        self._terms: dict[str, list] = head["terms"]
        self._columns: dict[str, list] = head.get("columns", {})
        self._doc_count = doc_count
        self._base = start + size

    def column(self, name: str) -> tuple[list[str], np.ndarray] | None:
        """(the distinct values of a facet column, each document's value number), or None."""
        entry = self._columns.get(name)
        if entry is None:
            return None
        at, values = entry
        return values, np.frombuffer(self._map, "<u4", self._doc_count, self._base + at)

    def get(self, field: str, btext: bytes) -> tuple[np.ndarray, np.ndarray] | None:
        """(document numbers, weights as float64) of one term, or None when not kept here."""
        entry = self._terms.get(_key(field, btext))
        if entry is None:
            return None
        at, n, id_kind, weight_kind = entry
        at += self._base
        if id_kind == "u2gaps":
            ids = np.cumsum(np.frombuffer(self._map, "<u2", n, at), dtype=np.int64)
            size = 2 * n
        else:
            ids = np.frombuffer(self._map, "<u4", n, at).astype(np.int64)
            size = 4 * n
        at += size + (-size % _ALIGN)
        if weight_kind == "ones":
            weights = np.ones(n)
        elif weight_kind == "u1":
            weights = np.frombuffer(self._map, np.uint8, n, at).astype(np.float64)
        else:
            weights = np.frombuffer(self._map, "<f4", n, at).astype(np.float64)
        return ids, weights


def open_for(index_dir: Path, leaf) -> SegmentArrays | None:
    """The arrays of one segment reader's segment, or None when there are none (or unusable, or
    the reader is an empty index's, which has no segment)."""
    segment = leaf.segment()
    if segment is None:
        return None
    segment_id = segment.segment_id()
    try:
        return SegmentArrays(path_for(index_dir, segment_id), segment_id, leaf.doc_count_all())
    except (OSError, ValueError, KeyError, struct.error):
        return None
