"""whoosh's posting pool and posting writer (Whoosh-Reloaded 2.7.5, pinned) with two bugs fixed and
their per-posting work done in C (``_postings``, where setup.py could build it) or per term;
applied on import (``index`` imports it). Readers need nothing new: the segments are whoosh's own
format, which whoosh (and every reader of an older index) reads as ever.

Two bugs in ``W3PostingsWriter`` made every term cost a posting block in the postings file:

- A term with a single posting was meant to be stored inside its term info (``inlinelimit=1``,
  whoosh's default), but the test is ``len(postings) < inlinelimit``, never true, and the call it
  guards names a method ``W3TermInfo`` does not have (``set_inline`` for ``set_inlined``). Most
  terms of a corpus occur once (names, numbers, rare compounds), and each had a block of its own:
  a pickled header, a pickled tuple, a zlib call, and at search time a read of the postings file.
  Fixed: a single posting is inlined (whoosh's reader gives it a ``ListMatcher``; a posting
  without a value is inlined with the value None, which is what a block gives).
- A block's pickle "less than 20 bytes" was meant not to be compressed, but the next line sets
  the compression again, so every block went through zlib, which makes a block under about 80
  bytes longer, not shorter. Fixed: a block under ``MIN_COMPRESS`` bytes is stored as it is (its
  header says so; whoosh's reader has always honoured that).

``W3FieldWriter.add_postings`` (all of a segment's postings, sorted by field, term and document)
called four methods per posting and built a block object per term; ``_add_postings`` writes the
same bytes (``tests/test_whoosh_writer.py`` compares the files) from each term's postings at once.

With the C part, ``SegmentWriter`` gets ``CPostingPool`` instead of whoosh's ``PostingPool`` (a
Python tuple per posting, sorted in runs pickled to disk) and ``_add_document`` hands it a unit's
terms per field at once; the pool's runs are merged and written by ``_add_pooled`` in C, and the
terms file's records and hash tables by ``_TermTable`` through ``_postings.TermIndex``. Blocks
are pickled with ``PICKLE_PROTOCOL``. Without the C part the Python paths write the same files
(``tests/test_c_postings.py``).
"""

from __future__ import annotations

import hashlib
import itertools
import operator
import zlib
from array import array
from collections.abc import Iterable, Iterator, Sequence
from pickle import dumps

from whoosh import writing
from whoosh.codec import base, whoosh3
from whoosh.filedb import filetables
from whoosh.system import pack_int, pack_long, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from protokollsok import schema as schema_module
from protokollsok.whoosh_fixes import _NO_COLUMN, _NOT_BYTES, _lengths_of

try:  # the posting pool and the term loop in C (setup.py builds them; optional)
    from protokollsok import _postings
    from protokollsok._postings import write_term as _c_write_term
except ImportError:  # pragma: no cover - an install that could not compile it
    _postings = None
    _c_write_term = None

_KEY_AND_VALUE_LENGTHS = filetables._lengths  # "!ii"
# whoosh pickles blocks and inlined postings with protocol 2 (Python 2's), which has no bytes type:
# each posting's value (its positions) went through a call of ``_codecs.encode`` when pickled and
# again when read. Protocol 3 stores bytes as they are; whoosh's reader takes any protocol. Blocks
# of positions: pickled in 0.05 s instead of 0.16, read in 0.07 instead of 0.17, 41 % smaller
# before zlib (the blocks of a 3,000-unit build).
PICKLE_PROTOCOL = 3
MIN_COMPRESS = 80  # bytes: zlib made shorter blocks longer (a 3,000-unit build: 64-79 bytes +0.1)

# whoosh's own methods, kept so that the tests can compare what these write
_original_finish_postings = whoosh3.W3PostingsWriter.finish_postings
_original_write_block = whoosh3.W3PostingsWriter._write_block
_generic_add_postings = base.FieldWriter.add_postings

_TERMINFO = whoosh3.W3TermInfo._struct
# An inlined posting without a value (ID and keyword fields) reads as None, as from a block;
# without it whoosh's ListMatcher gives '', which its own merge of segments rejects.
_NO_VALUE = (None,)
_FIELD_AND_TERM = operator.itemgetter(0, 1)
Posting = tuple[str, bytes, int, float, bytes | None]  # field, term, document, weight, value


def _finish_postings(self: whoosh3.W3PostingsWriter) -> whoosh3.W3TermInfo:
    """``W3PostingsWriter.finish_postings`` inlining a term's single posting into its term info."""
    terminfo = self._terminfo
    if not self.written() and len(self) == 1:
        terminfo.add_block(self)
        terminfo.set_inlined(self._ids, self._weights, self._values or _NO_VALUE)
    else:
        if self._ids:
            self._write_block(last=True)
        start = self._startoffset
        terminfo.set_extent(start, self._postfile.tell() - start)
    self._terminfo = None
    return terminfo


def _write_block(self: whoosh3.W3PostingsWriter, last: bool = False) -> None:
    """``W3PostingsWriter._write_block`` leaving a block under ``MIN_COMPRESS`` bytes uncompressed."""
    if not self._blockcount:
        self._postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
    self._terminfo.add_block(self)
    data = dumps((self._mini_ids(), self._mini_weights(), self._mini_values()), PICKLE_PROTOCOL)
    data, comp = _compressed(data, self._compression)
    info = (len(self._ids), self._ids[-1], self._maxweight, comp, length_to_byte(self._minlength),
            length_to_byte(self._maxlength))
    _write_raw_block(self._postfile, dumps(info, PICKLE_PROTOCOL), data, last)
    self._blockcount += 1
    self._new_block()


def _compressed(data: bytes, level: int) -> tuple[bytes, int]:
    if level and len(data) >= MIN_COMPRESS:
        return zlib.compress(data, level), level
    return data, 0


def _write_raw_block(postfile, info: bytes, data: bytes, last: bool) -> None:
    length = len(info) + len(data)
    postfile.write_int(-length if last else length)  # whoosh marks the last block negative
    postfile.write(info)
    postfile.write(data)


def _add_postings(self: whoosh3.W3FieldWriter, schema, lengths, items: Iterable[Posting]) -> None:
    """``W3FieldWriter.add_postings`` a term at a time: the same terms file and postings file as
    whoosh's posting-by-posting loop over ``_finish_postings`` and ``_write_block``."""
    if isinstance(items, PooledPostings):
        _add_pooled(self, schema, lengths, items.pool)
        return
    fieldmap = self._fieldmap
    terms = _TermTable(self._tindex)
    lastfield = None
    term_writer: _TermWriter | None = None
    for (fieldname, btext), group in itertools.groupby(items, _FIELD_AND_TERM):
        if fieldname != lastfield:
            if lastfield is not None and fieldname < lastfield:
                raise base.OutOfOrderError(f"Field {lastfield!r} .. {fieldname!r}")
            fieldmap.setdefault(fieldname, len(fieldmap))
            term_writer = _TermWriter(self, schema[fieldname], fieldname, lengths)
            lastfield = fieldname
        postings = list(group)
        if postings[0][2] == -1:  # whoosh's spelling words (none in our schema): not postings
            postings = [p for p in postings if p[2] != -1]
            if not postings:
                continue
        terms.add(pack_ushort(fieldmap[fieldname]) + btext, term_writer.write(postings))
    terms.flush()
    self.is_closed = True


TERMS_PER_CALL = 4096  # terms the C pool writes per call (its output is held in memory)


def _add_pooled(self: whoosh3.W3FieldWriter, schema, lengths, pool) -> None:
    """``_add_postings`` from the C pool: its terms' postings merged from its runs and written
    in C, without a Python tuple per posting."""
    fieldmap = self._fieldmap
    terms = _TermTable(self._tindex)
    postfile = self._postfile
    lastfield = None
    while (fieldname := pool.field()) is not None:
        if lastfield is not None and fieldname < lastfield:
            raise base.OutOfOrderError(f"Field {lastfield!r} .. {fieldname!r}")
        lastfield = fieldname
        fieldmap.setdefault(fieldname, len(fieldmap))
        prefix = pack_ushort(fieldmap[fieldname])
        writer = _TermWriter(self, schema[fieldname], fieldname, lengths)
        table = b"" if writer.table is _NO_COLUMN else writer.table  # no lengths: 0 each
        if not isinstance(table, bytes):  # lengths asked document by document: in Python
            while pool.field() == fieldname:
                _, btext, group = pool.next_group()
                postings = [(fieldname, btext, d, w, v) for d, w, v in group]
                terms.add(prefix + btext, writer.write_python(postings))
            continue
        fixed = -1 if writer.fixed is None else writer.fixed
        while pool.field() == fieldname:
            names, infos, chunk = pool.write_terms(table, writer.blocklimit, writer.compression, fixed,
                                                   MIN_COMPRESS, postfile.tell(), TERMS_PER_CALL)
            postfile.write(chunk)
            terms.add_many(prefix, names, infos)
    terms.flush()
    self.is_closed = True


class PooledPostings:
    """What the C pool's ``iter_postings`` gives: read by ``_add_postings`` a term at a time in C;
    anything else iterating it gets whoosh's ``(field, term, document, weight, value)`` tuples."""

    def __init__(self, pool) -> None:
        self.pool = pool

    def __iter__(self) -> Iterator[Posting]:
        while (group := self.pool.next_group()) is not None:
            fieldname, btext, postings = group
            for doc, weight, value in postings:
                yield fieldname, btext, doc, weight, value


class CPostingPool:
    """whoosh's ``PostingPool`` (``SegmentWriter.pool``) in C: postings gathered in compact arrays
    (about 20 bytes each and their value, where whoosh's tuples take about 220), sorted by field,
    term and document in runs on disk beyond ``limitmb``, and merged straight into the postings
    file by ``_add_pooled``."""

    def __init__(self, folder: str, limitmb: int) -> None:
        self._pool = _postings.Pool(folder, max(1, int(limitmb * 1024 * 1024)))
        self.add = self._pool.add

    @property
    def fieldnames(self) -> set[str]:
        """The fields postings were added to (whoosh's multiprocess writer reads it)."""
        return self._pool.fieldnames

    def iter_postings(self) -> PooledPostings:
        """All postings, sorted by field, term and document (once)."""
        return PooledPostings(self._pool)

    def cleanup(self) -> None:
        """Remove the runs on disk."""
        self._pool.cleanup()


_whoosh_pool = writing.PostingPool
_whoosh_add_document = writing.SegmentWriter.add_document


def _add_document(self: writing.SegmentWriter, **fields) -> None:
    """``SegmentWriter.add_document`` handing a unit's terms in a ``FormAnalyzer`` field to the C
    pool at once (``Pool.add_field``: its values encoded and its postings added in C) instead of a
    tuple and a call per posting; every other field as whoosh does. The same postings and field
    lengths (``tests/test_c_postings.py`` compares the files)."""
    plain = getattr(self, "_plain_c_pool", None)
    if plain is None:
        plain = self._plain_c_pool = isinstance(self.pool, CPostingPool) and not _has_spelling_or_vectors(self.schema)
    if not plain:
        _whoosh_add_document(self, **fields)
        return
    self._check_state()
    perdocwriter = self.perdocwriter
    schema = self.schema
    docnum = self.docnum
    pool = self.pool
    docboost = self._doc_boost(fields)
    fieldnames = sorted(name for name in fields if not name.startswith("_"))
    self._check_fields(schema, fieldnames)
    perdocwriter.start_doc(docnum)
    try:
        for fieldname in fieldnames:
            value = fields.get(fieldname)
            if value is None:
                continue
            field = schema[fieldname]
            length = 0
            if field.indexed:
                fieldboost = self._field_boost(fields, fieldname, docboost)
                terms = schema_module.form_terms(field, value)
                if terms is not None:
                    length = pool._pool.add_field(fieldname, docnum, terms, field.format.field_boost, fieldboost)
                else:
                    for tbytes, freq, weight, vbytes in field.index(value):
                        length += freq
                        pool.add((fieldname, tbytes, docnum, weight * fieldboost, vbytes))
                if not field.scorable:
                    length = 0
            stored = fields.get(f"_stored_{fieldname}", value)
            perdocwriter.add_field(fieldname, field, stored if field.stored else None, length)
            column = field.column_type
            if column and stored is not None:
                perdocwriter.add_column_value(fieldname, column, field.to_column_value(stored))
    except Exception:
        perdocwriter.cancel_doc()
        raise
    perdocwriter.finish_doc()
    self._added = True
    self.docnum += 1


def _has_spelling_or_vectors(schema) -> bool:
    """Whether a field of the schema has a separate spelling field or term vectors (which
    ``_add_document`` leaves to whoosh's own method)."""
    return any(field.separate_spelling() or field.vector for _, field in schema.items())


def _posting_pool(tempstore, segment, limitmb: int = 128, **kwargs):
    """The pool a ``SegmentWriter`` gets: the C pool where it was built and the writer's temporary
    storage is a folder, else whoosh's."""
    folder = getattr(tempstore, "folder", None)
    if _postings is None or kwargs or not isinstance(folder, str):
        return _whoosh_pool(tempstore, segment, limitmb=limitmb, **kwargs)
    return CPostingPool(folder, limitmb)


class _TermTable:
    """Adds terms to whoosh's terms file (an ``OrderedHashWriter``) in batches: the same bytes as
    its ``add`` per term, which cost a third of the posting writer's time in calls (a seek
    position, three writes, a hex digest turned into a number). Where the C part was built, its
    ``TermIndex`` makes the records, the md5 hashes and, at the end, the hash tables."""

    BATCH = 4096

    def __init__(self, tindex) -> None:
        self.tindex = tindex
        self.batchable = type(tindex) is filetables.OrderedHashWriter and tindex.hashtype == 0
        self.keys: list[bytes] = []
        self.values: list[bytes] = []
        self.native = None
        if self.batchable and _postings is not None and not any(tindex.buckets):
            self.native = _postings.TermIndex()
            tindex._write_hashes = self._write_hashes  # called by its close()

    def add(self, key: bytes, value: bytes) -> None:
        """Add one term (keys in increasing order)."""
        if not self.batchable:
            self.tindex.add(key, value)
            return
        self.keys.append(key)
        self.values.append(value)
        if len(self.keys) >= self.BATCH:
            self.flush()

    def add_many(self, prefix: bytes, names: list[bytes], values: list[bytes]) -> None:
        """Add the terms ``prefix + name`` (in increasing order) with their values."""
        if self.native is None:
            for name, value in zip(names, values, strict=True):
                self.add(prefix + name, value)
            return
        self.flush()
        self._native_add(prefix, names, values)

    def flush(self) -> None:
        """Write the terms added since the last flush."""
        keys, values = self.keys, self.values
        if not keys:
            return
        self.keys, self.values = [], []
        if self.native is not None:
            self._native_add(b"", keys, values)
            return
        t = self.tindex
        last = t.lastkey
        for key in keys:
            if key <= last:
                raise ValueError(f"Keys must increase: {last!r}..{key!r}")
            last = key
        dbfile = t.dbfile
        pos = dbfile.tell()
        positions = []
        chunks = []
        pack = _KEY_AND_VALUE_LENGTHS.pack
        for key, value in zip(keys, values, strict=True):
            positions.append(pos)
            chunks += (pack(len(key), len(value)), key, value)
            pos += 8 + len(key) + len(value)
        dbfile.write(b"".join(chunks))
        _extend(t.index, positions)
        buckets = t.buckets
        for key, at in zip(keys, positions, strict=True):
            h = int.from_bytes(hashlib.md5(key, usedforsecurity=False).digest()[12:], "big")  # whoosh's md5_hash
            buckets[h & 255].append((h, at))
        t.lastkey = last

    def _native_add(self, prefix: bytes, names: list[bytes], values: list[bytes]) -> None:
        if not names:
            return
        t = self.tindex
        records, positions = self.native.add(prefix, names, values, t.dbfile.tell(), t.lastkey)
        t.dbfile.write(records)
        _extend(t.index, positions)
        t.lastkey = prefix + names[-1]

    def _write_hashes(self) -> None:
        """``HashWriter._write_hashes`` from the C hashes (its ``_write_directory`` follows)."""
        t = self.tindex
        if any(t.buckets):  # a term added past this table would be lost from the hash tables
            raise RuntimeError("a term was added to the terms file past its batch table")
        data, directory = self.native.tables(t.dbfile.tell())
        t.dbfile.write(data)
        t.directory.extend(directory)


def _extend(index, positions: list[int]) -> None:
    """``GrowableArray.extend``: at once where the numbers fit its current type, else one by one
    (which changes the type where whoosh's would)."""
    if not isinstance(index.array, array):  # whoosh fell back to a list
        index.extend(positions)
        return
    try:
        more = array(index.array.typecode, positions)
    except OverflowError:
        index.extend(positions)
        return
    index.array.extend(more)


class _TermWriter:
    """Writes the postings of one field's terms as ``W3PostingsWriter`` would."""

    def __init__(self, fieldwriter: whoosh3.W3FieldWriter, fieldobj, fieldname: str, lengths) -> None:
        codec = fieldwriter._codec
        self.postfile = fieldwriter._postfile
        self.blocklimit = codec._blocklimit
        self.compression = codec._compression
        self.fixed = fieldobj.format.fixed_value_size()
        self.fieldname = fieldname
        self.lengths = lengths
        self.native = _c_write_term
        if isinstance(lengths, whoosh3.W3PerDocReader):
            self.table = _lengths_of(lengths, fieldname)
        else:  # no lengths (0 each, as whoosh), or another reader: asked document by document
            self.table = _NO_COLUMN if lengths is None else _NOT_BYTES

    def length_bytes(self, ids: Sequence[int]) -> list[int]:
        """Each document's encoded field length (0: none), as ``doc_field_length`` reads it."""
        table = self.table
        if isinstance(table, bytes):
            n = len(table)
            return [table[d] if d < n else 0 for d in ids]
        if table is _NO_COLUMN:
            return [0] * len(ids)
        dfl = self.lengths.doc_field_length
        return [length_to_byte(dfl(d, self.fieldname)) for d in ids]

    def write(self, postings: list[Posting]) -> bytes:
        """Write one term's postings (sorted by document); its term info's bytes. By the C loop
        where it was built and the field's lengths are whoosh's length bytes, else in Python."""
        if self.native is not None and isinstance(self.table, bytes):
            info, chunk = self.native(postings, self.table, self.blocklimit, self.compression,
                                      -1 if self.fixed is None else self.fixed, MIN_COMPRESS,
                                      self.postfile.tell())
            if chunk is not None:
                self.postfile.write(chunk)
            return info
        return self.write_python(postings)

    def write_python(self, postings: list[Posting]) -> bytes:
        """``write`` in Python."""
        ids = [p[2] for p in postings]
        weights = [p[3] for p in postings]
        values = [p[4] for p in postings]
        lbytes = self.length_bytes(ids)
        if len(ids) == 1:
            return self._inlined(ids, weights, values, lbytes[0])
        start = self.postfile.tell()
        self.postfile.write(whoosh3.WHOOSH3_HEADER_MAGIC)
        stats = _TermStats()
        limit = self.blocklimit
        for s in range(0, len(ids), limit):
            last = s + limit >= len(ids)
            self._block(ids[s : s + limit], weights[s : s + limit], values[s : s + limit],
                        lbytes[s : s + limit], stats, last)
        packed = stats.pack(False, len(ids), ids[0], ids[-1])
        return packed + pack_long(start) + pack_int(self.postfile.tell() - start)

    def _inlined(self, ids: list[int], weights: list[float], values: list[bytes | None], lbyte: int) -> bytes:
        stats = _TermStats()
        wa = array("f", weights)
        stats.add(wa, weights, [lbyte] if lbyte else [])
        inline = dumps((tuple(ids), tuple(wa), tuple(v for v in values if v) or _NO_VALUE), PICKLE_PROTOCOL)
        return stats.pack(True, 1, ids[0], ids[0]) + inline

    def _block(self, ids: list[int], weights: list[float], values: list[bytes | None], lbytes: list[int],
               stats: _TermStats, last: bool) -> None:
        wa = array("f", weights)
        minlength, maxlength, maxweight = stats.add(wa, weights, [b for b in lbytes if b])
        values = [v for v in values if v]  # whoosh keeps only non-empty values
        data = dumps((_deltas(ids), _mini_weights(wa), self._mini_values(values)), PICKLE_PROTOCOL)
        data, comp = _compressed(data, self.compression)
        info = dumps((len(ids), ids[-1], maxweight, comp, length_to_byte(minlength),
                      length_to_byte(maxlength)), PICKLE_PROTOCOL)
        _write_raw_block(self.postfile, info, data, last)

    def _mini_values(self, values: list[bytes]) -> tuple[bytes, ...] | bytes | None:
        fixed = self.fixed
        if fixed is None or fixed < 0:
            return tuple(values)
        if fixed == 0:
            return None
        return b"".join(values)


class _TermStats:
    """What ``W3TermInfo.add_block`` gathers over a term's blocks."""

    def __init__(self) -> None:
        self.weight = 0  # whoosh's TermInfo starts from the integer 0, then adds float sums
        self.minlength: int | None = None
        self.maxlength = 0
        self.maxweight = 0

    def add(self, wa: array, weights: list[float], lbytes: list[int]) -> tuple[int | None, int, float]:
        """Add one block (its weights as stored and as given, its non-zero length bytes); the
        block's shortest and longest length and its highest weight."""
        self.weight += sum(wa)
        minlength = byte_to_length(min(lbytes)) if lbytes else None
        maxlength = byte_to_length(max(lbytes)) if lbytes else 0
        maxweight = max(0, *weights)  # whoosh: the first weight above 0, then any higher
        if self.minlength is None:
            self.minlength = minlength
        elif minlength is not None:
            self.minlength = min(self.minlength, minlength)
        self.maxlength = max(self.maxlength, maxlength)
        self.maxweight = max(self.maxweight, maxweight)
        return minlength, maxlength, maxweight

    def pack(self, inlined: bool, df: int, minid: int, maxid: int) -> bytes:
        """The fixed part of the term info (``W3TermInfo.to_bytes``)."""
        minlength = 0 if self.minlength is None else length_to_byte(self.minlength)
        return _TERMINFO.pack(inlined, self.weight, df, minlength, length_to_byte(self.maxlength),
                              self.maxweight, minid, maxid)


def _deltas(ids: list[int]) -> tuple[int, ...]:
    """whoosh's ``delta_encode`` of a block's document numbers (the first one as it is)."""
    return (ids[0], *map(operator.sub, ids[1:], ids[:-1]))


def _mini_weights(wa: array) -> float | tuple[float, ...] | None:
    """``W3PostingsWriter._mini_weights``: None when all 1.0, one float when all equal."""
    first = wa[0]
    if first == 1.0 and all(w == 1.0 for w in wa):
        return None
    if all(w == first for w in wa):
        return first
    return tuple(wa)


def apply() -> None:
    """Install the writer (idempotent)."""
    whoosh3.W3PostingsWriter.finish_postings = _finish_postings
    whoosh3.W3PostingsWriter._write_block = _write_block
    whoosh3.W3FieldWriter.add_postings = _add_postings
    writing.PostingPool = _posting_pool
    writing.SegmentWriter.add_document = _add_document


apply()
