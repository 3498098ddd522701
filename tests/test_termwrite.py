"""The posting writer's C loop (``protokollsok._termwrite``, built by setup.py): for any term's
postings it writes the term info and postings-file bytes that ``whoosh_writer``'s Python loop
writes, and an index built with it is byte for byte the index built without it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import volume_units
from protokollsok import index, whoosh_writer

native = whoosh_writer._c_write_term


def test_the_c_loop_is_built_by_the_install() -> None:
    # setup.sh installs gcc and the Python headers; an install without them falls back silently,
    # so this is where a broken build shows
    assert native is not None


class _File(io.BytesIO):
    def write_int(self, n: int) -> None:
        self.write(n.to_bytes(4, "big", signed=True))


class _Writer(whoosh_writer._TermWriter):
    """A term writer for one field without a segment around it."""

    def __init__(self, table: bytes, fixed: int | None, blocklimit: int, compression: int, start: int) -> None:
        self.postfile = _File()
        self.postfile.write(b"\0" * start)
        self.blocklimit = blocklimit
        self.compression = compression
        self.fixed = fixed
        self.table = table
        self.fieldname = "text_stem"
        self.native = native


def _both(postings, table: bytes, fixed: int | None, blocklimit: int = 128, compression: int = 3, start: int = 7):
    c = _Writer(table, fixed, blocklimit, compression, start)
    py = _Writer(table, fixed, blocklimit, compression, start)
    return (c.write(postings), c.postfile.getvalue()), (py.write_python(postings), py.postfile.getvalue())


_value = st.one_of(st.none(), st.just(b""), st.binary(min_size=1, max_size=12))


@st.composite
def _postings(draw):
    docs = sorted(draw(st.sets(st.integers(0, 3000), min_size=1, max_size=400)))
    weights = draw(st.one_of(
        st.just([1.0] * len(docs)),
        st.just([2.0] * len(docs)),
        st.lists(st.sampled_from([1.0, 2.0, 3.0, 0.5, 1.7, 7.0, 0.0]), min_size=len(docs), max_size=len(docs)),
    ))
    values = draw(st.lists(_value, min_size=len(docs), max_size=len(docs)))
    return [("f", b"t", d, w, v) for d, w, v in zip(docs, weights, values, strict=True)]


@settings(max_examples=300, deadline=None)
@given(
    postings=_postings(),
    table=st.binary(min_size=0, max_size=3001),
    fixed=st.sampled_from([None, 0, 4]),
    blocklimit=st.sampled_from([1, 3, 128]),
    compression=st.sampled_from([0, 3]),
)
def test_any_terms_postings_give_the_python_loops_bytes(postings, table, fixed, blocklimit, compression) -> None:
    if fixed == 4:  # a fixed-size format's values all have that size
        postings = [(f, t, d, w, (v or b"").ljust(4, b"x")[:4]) for f, t, d, w, v in postings]
    ours, pythons = _both(postings, table, fixed, blocklimit, compression)
    assert ours == pythons


def test_a_single_posting_is_inlined_and_writes_nothing() -> None:
    (info, written), pythons = _both([("f", b"t", 5, 2.0, b"\0\0\0\1x")], bytes(range(10)), None)
    assert (info, written) == pythons
    assert written == b"\0" * 7  # only what was there before


def test_document_numbers_past_the_length_table_count_as_length_zero() -> None:
    postings = [("f", b"t", d, 1.0, None) for d in (1, 2, 50, 51)]
    ours, pythons = _both(postings, b"\x05\x07", 0)
    assert ours == pythons


@pytest.mark.parametrize("bad", [
    [("f", b"t", -1, 1.0, None), ("f", b"t", 2, 1.0, None)],
    [("f", b"t", 1, 1.0, "text"), ("f", b"t", 2, 1.0, None)],
    [("f", b"t", 1, 1.0)],
])
def test_postings_it_cannot_write_are_refused(bad) -> None:
    with pytest.raises((TypeError, ValueError)):
        native(bad, b"", 128, 3, -1, 80, 0)


def test_an_index_built_with_the_c_loop_is_the_index_built_without_it(tmp_path, monkeypatch) -> None:
    units = volume_units(300)

    def build(path: Path) -> dict[str, bytes]:
        monkeypatch.setattr(index, "_writer", lambda ix, parallel: ix.writer(limitmb=64, compound=False))
        index.index_units(path, units)
        return {p.name.split(".", 1)[1]: p.read_bytes() for p in path.iterdir()
                if p.name.startswith("g") and "." in p.name and p.suffix != ".arrays"}

    with_c = build(tmp_path / "c")
    monkeypatch.setattr(whoosh_writer, "_c_write_term", None)
    without = build(tmp_path / "python")
    assert {"trm", "pst"} <= set(with_c)
    assert with_c == without
