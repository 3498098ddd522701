"""Fixes to whoosh (Whoosh-Reloaded 2.7.5, pinned) that ranking relies on, and speed-ups;
applied on import.

While collecting the top N, whoosh raises a threshold (the N-th best score so far), asks the matcher
tree to ``replace()`` itself with a cheaper one that can still reach the threshold (a union whose
one side cannot reach it becomes an ``AndMaybeMatcher``, required side first) and, with block
quality on, skips posting blocks that cannot reach it. Two bugs there made a document that belongs
in the top 10 lose part of its score and drop out (on the whole volume corpus, 5 of the 75 distinct
judged and benchmark queries had a wrong top 10; ``barn`` lost its best hit, scored 41.7 instead of 53.2), and a third made whole
segments of fewer than 5,000 documents drop out (every index that incremental updates have added
small segments to):

- ``ArrayUnionMatcher`` (whoosh's union for a small segment) scores a document by the *sum* of its
  parts but claimed the *largest* part as its best possible score, so ``replace()`` decided that
  the segment could not reach the threshold and dropped the rest of it. Fixed: the best possible
  score is the sum of the parts' best scores.

- ``AndMaybeMatcher.skip_to(id)`` moved the optional side to ``id`` instead of to where the
  required side landed (at or after ``id``), and ``skip_to_quality`` did not move the optional side
  at all; the optional side then lagged behind and its score was not added to the current
  document. Fixed: after the required side moves, the optional side follows it.
- ``WrappingMatcher.replace`` (a boosted ``Term``) passed the threshold to its child unscaled, so
  with a boost above 1 the child compared its unboosted best score with a boosted threshold and
  could drop itself although it could still lift a document into the top N. Fixed: the threshold
  is divided by the boost, as whoosh's own ``skip_to_quality`` on the same class already does.

- ``AndNotMatcher`` (``word -other``), when built, excluded its first document only if the
  excluded side stood on exactly that document; when the excluded side started on an earlier one,
  the first document was kept although it holds the excluded word (a date-sorted search listed it,
  and so could a relevance search after ``replace()`` rebuilt the matcher). Fixed: the excluded
  side is moved to the first document and checked, as on every later step.

``tests/test_whoosh_fixes.py`` shows each bug on a small index and checks that a top-N search
equals a full ranking.

Speed-ups, same results:

- BM25F reads each scored document's field length, and whoosh read it from the segment's lengths
  column one byte at a time (a seek and a read per document and field: a third of the scoring
  time of a common word on the whole volume corpus). The column (one byte per document) is now
  read whole on first use and kept with the segment's reader.
- ``W3LeafMatcher.skip_to`` walked a posting block one posting at a time (three method calls per
  posting) to reach the target; it now bisects the block's document numbers.
- Moving to a posting block (``W3LeafMatcher._goto``) unpickled the block's header straight from
  the segment file, and ``pickle.load`` on whoosh's file object reads a few bytes per call (a seek
  and a read each: some 60,000 calls for one phrase of common words on the whole corpus). The
  header is now read with one read and unpickled from memory.
- Opening a variable-length column (``VarBytesColumn.Reader``: nämnd, datum, ... one value per
  document) derived the values' offsets from their lengths in a Python loop (about 10 ms per
  column and segment of the whole corpus, paid by each command that reads a column); they are
  now accumulated by ``itertools.accumulate``.

Speed-ups of the build, same segments:

- The posting writer asks for each posting's field length (for a block's shortest and longest
  document); with the first speed-up above it is read from the whole column, not a byte at a time
  (a tenth of a one-process build's time).
- whoosh's posting pool sorts postings in runs on disk when they exceed the writer's memory limit,
  and pickled (and later unpickled) each posting on its own: some 20 million calls each way for
  the whole volume corpus. A run is now pickled in chunks of ``RUN_CHUNK`` postings (the same
  postings in the same order; a run only lives while one build writes and merges it).
"""

from __future__ import annotations

import io
import itertools
import pickle
import struct
from array import array
from bisect import bisect_left

from whoosh import columns, externalsort
from whoosh.codec import whoosh3
from whoosh.matching import binary, combo, mcore, wrappers
from whoosh.util.numeric import byte_to_length

# whoosh's own methods, kept so that the tests can show what the fixes change
_original_replace = wrappers.WrappingMatcher.replace
_original_skip_to = binary.AndMaybeMatcher.skip_to
_and_maybe_skip_to_quality = binary.AndMaybeMatcher.skip_to_quality
_original_array_union_max_quality = combo.ArrayUnionMatcher.max_quality
_original_doc_field_length = whoosh3.W3PerDocReader.doc_field_length
_original_leaf_skip_to = whoosh3.W3LeafMatcher.skip_to
_original_and_not_find_first = binary.AndNotMatcher._find_first
_original_goto = whoosh3.W3LeafMatcher._goto
_original_offsets_and_lengths = columns.VarBytesColumn.Reader._read_offsets_and_lengths
_original_write_run = externalsort.SortingPool._write_run
_original_read_run = externalsort.SortingPool._read_run
_HEADER_READ = 96  # bytes read for a block header: its pickled info tuple is about 30


def _summed_max_quality(self: combo.ArrayUnionMatcher) -> float:
    """An upper bound of the scores the union can still give: its parts' best scores added, as
    its scores are. Parts that are already used up count too: the union has read them ahead into
    its score array, whose documents are still to come."""
    return sum(m.max_quality() for m in self._submatchers) * self._boost


def _scaled_replace(self: wrappers.WrappingMatcher, minquality: float = 0) -> mcore.Matcher:
    """``replace`` with the threshold in the child's own (unboosted) units."""
    boost = getattr(self, "boost", 1.0)
    if minquality and boost != 1.0:
        # A non-positive boost: the child cannot lift a score, so nothing may be pruned on it.
        minquality = minquality / boost if boost > 0 else 0
    r = self.child.replace(minquality)
    return self if r is self.child else self._replacement(r)


def _aligned_skip_to(self: binary.AndMaybeMatcher, id: int) -> bool:
    """Skip the required side to ``id`` and the optional side to wherever the required one is."""
    if not self.a.is_active():
        raise mcore.ReadTooFar
    ra = self.a.skip_to(id)
    rb = False
    if self.a.is_active() and self.b.is_active():
        rb = self.b.skip_to(self.a.id())
    return bool(ra or rb)


def _aligned_skip_to_quality(self: binary.AndMaybeMatcher, minquality: float) -> int:
    """whoosh's block skipping, then the optional side brought up to the required one."""
    skipped = _and_maybe_skip_to_quality(self, minquality)
    self._first_b()
    return skipped


def _doc_field_length(self: whoosh3.W3PerDocReader, docnum: int, fieldname: str, default=0):
    """whoosh's ``doc_field_length`` (same values, same ``None`` for a zero byte) from the whole
    lengths column, read once."""
    if docnum > self._doccount:
        raise IndexError(f"Asked for docnum {docnum!r} of {self._doccount}")
    tables = self.__dict__.setdefault("_protokollsok_lengths", {})
    table = tables.get(fieldname)
    if table is None:
        table = tables[fieldname] = _lengths_of(self, fieldname)
    if table is _NO_COLUMN:
        return default
    if table is _NOT_BYTES:
        return _original_doc_field_length(self, docnum, fieldname, default)
    lbyte = table[docnum] if docnum < len(table) else 0
    if lbyte:
        return byte_to_length(lbyte)
    return None


_NO_COLUMN = object()  # the field has no lengths: whoosh answers ``default``
_NOT_BYTES = object()  # not whoosh 2.7.5's one-byte lengths: whoosh's own reading


def _lengths_of(self: whoosh3.W3PerDocReader, fieldname: str) -> bytes | object:
    """One byte per document (whoosh's encoded length), or one of the two markers above."""
    lenfield = whoosh3._lenfield(fieldname)
    if not self.has_column(lenfield):
        return _NO_COLUMN
    reader = self.column_reader(lenfield, whoosh3.LENGTHS_COLUMN)
    if getattr(reader, "_fixedlen", None) != 1:
        return _NOT_BYTES
    return bytes(reader._dbfile.get(reader._basepos, reader._count)) if reader._count else b""


def _bisecting_skip_to(self: whoosh3.W3LeafMatcher, targetid: int) -> None:
    """Move to the first posting at or after ``targetid`` (whoosh's block skipping, then a
    bisection inside the block instead of a walk)."""
    if not self.is_active():
        raise mcore.ReadTooFar
    if targetid <= self.id():
        return
    if targetid > self._maxid:
        self._skip_to_block(lambda: targetid > self._maxid)
        if not self.is_active():
            return
    if self._ids is None:
        self._read_ids()
    self._i = bisect_left(self._ids, targetid, self._i, self._blocklength)


def _goto_reading_once(self: whoosh3.W3LeafMatcher, position: int) -> None:
    """``W3LeafMatcher._goto`` with the block's length and info read in one read."""
    postfile = self._postfile
    head = postfile.get(position, _HEADER_READ)
    buf = io.BytesIO(head)
    buf.seek(whoosh3._INT_SIZE)
    try:
        info = pickle.load(buf)
    except Exception:  # a header longer than the read (not seen): whoosh's own reading
        _original_goto(self, position)
        return
    self._data = self._ids = self._weights = self._values = None
    self._i = 0
    (length,) = whoosh3.unpack_int(head[: whoosh3._INT_SIZE])
    if length < 0:
        self._lastblock = True
        length = -length
    self._nextoffset = position + whoosh3._INT_SIZE + length
    self._dataoffset = position + buf.tell()
    self._blocklength, self._maxid, self._maxweight, self._compression, mnlen, mxlen = info
    self._minlength = byte_to_length(mnlen)
    self._maxlength = byte_to_length(mxlen)


def _accumulated_offsets_and_lengths(self: columns.VarBytesColumn.Reader) -> None:
    """``VarBytesColumn.Reader._read_offsets_and_lengths`` with the offsets accumulated in C."""
    dbfile, doccount = self._dbfile, self._doccount
    lastbyte = self._basepos + self._length - 1  # the lengths' typecode is the last byte
    lens_code = chr(dbfile.get_byte(lastbyte))
    if lens_code == "X" or not doccount:  # offsets stored in the file, or nothing: whoosh's way
        _original_offsets_and_lengths(self)
        return
    lenstart = lastbyte - struct.calcsize(lens_code) * doccount
    lengths = dbfile.get_array(lenstart, lens_code, doccount)
    offsets = array("L", itertools.accumulate(lengths, initial=0))
    offsets.pop()
    self._offsets = offsets
    self._lengths = lengths


RUN_CHUNK = 4096  # postings per pickle in a run of the posting pool


def _chunked_write_run(self: externalsort.SortingPool, f, items) -> None:
    """``SortingPool._write_run`` with the sorted items pickled ``RUN_CHUNK`` at a time."""
    items = iter(items)
    try:
        while chunk := list(itertools.islice(items, RUN_CHUNK)):
            pickle.dump(chunk, f, pickle.HIGHEST_PROTOCOL)
    finally:
        f.close()


def _chunked_read_run(self: externalsort.SortingPool, path):
    """The items of a run written by ``_chunked_write_run``, in order; the run is removed after."""
    f = self._open_run(path)
    try:
        while True:
            try:
                chunk = pickle.load(f)
            except EOFError:
                return
            yield from chunk
    finally:
        f.close()
        self._remove_run(path)


def _checked_find_first(self: binary.AndNotMatcher) -> None:
    if self.a.is_active() and self.b.is_active():
        self._find_next()  # moves the excluded side to the first document, then steps past it


def apply() -> None:
    """Install the fixes (idempotent)."""
    wrappers.WrappingMatcher.replace = _scaled_replace
    binary.AndMaybeMatcher.skip_to = _aligned_skip_to
    binary.AndMaybeMatcher.skip_to_quality = _aligned_skip_to_quality
    combo.ArrayUnionMatcher.max_quality = _summed_max_quality
    whoosh3.W3PerDocReader.doc_field_length = _doc_field_length
    whoosh3.W3LeafMatcher.skip_to = _bisecting_skip_to
    binary.AndNotMatcher._find_first = _checked_find_first
    whoosh3.W3LeafMatcher._goto = _goto_reading_once
    columns.VarBytesColumn.Reader._read_offsets_and_lengths = _accumulated_offsets_and_lengths
    externalsort.SortingPool._write_run = _chunked_write_run
    externalsort.SortingPool._read_run = _chunked_read_run


apply()
