"""The posting writer's C loop (``protokollsok._postings``, built by setup.py): for any term's
postings it writes the term info and postings-file bytes that ``whoosh_writer``'s Python loop
writes, and an index built with it is byte for byte the index built without it."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import volume_units
from protokollsok import analysis, index, whoosh_writer
from protokollsok.whoosh_writer import _postings as c_postings

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


def _built(path: Path, units: list, monkeypatch, limitmb: float = 64) -> dict[str, bytes]:
    """The files of the one segment ``units`` are indexed into, by extension."""
    monkeypatch.setattr(index, "_writer", lambda ix, parallel: ix.writer(limitmb=limitmb, compound=False))
    index.index_units(path, units)
    return {p.name.split(".", 1)[1]: p.read_bytes() for p in path.iterdir()
            if p.name.startswith("g") and "." in p.name and p.suffix != ".arrays"}


def test_an_index_built_with_the_c_part_is_the_index_built_without_it(tmp_path, monkeypatch) -> None:
    units = volume_units(300)
    with_c = _built(tmp_path / "c", units, monkeypatch)
    monkeypatch.setattr(whoosh_writer, "_c_write_term", None)
    monkeypatch.setattr(whoosh_writer, "_postings", None)  # whoosh's pool, the Python term table
    monkeypatch.setattr(analysis, "_c_gather", None)  # terms gathered in Python
    monkeypatch.setattr(analysis, "_c_gather_pairs", None)
    monkeypatch.setattr(analysis, "_c_words", None)  # and tokens cut in Python
    monkeypatch.setattr(analysis, "_c_analysed", None)
    analysis._analysed.cache_clear()
    without = _built(tmp_path / "python", units, monkeypatch)
    assert {"trm", "pst"} <= set(with_c)
    assert with_c == without


# Gathering a text's terms (``_postings.gather`` behind ``analysis.terms``)


def test_a_texts_terms_are_gathered_in_c_as_in_python(monkeypatch) -> None:
    """Each field's terms in the order they first occur, with their positions or counts."""
    assert analysis._c_gather is not None
    texts = [u.segment.text for u in volume_units(200)] + ["Kommunen och kommunens kommuner", "i", ""]
    fields = [(f, positions) for f in (*analysis.FIELDS, analysis.PAIR) for positions in (True, False)]
    with_c = [list(analysis.terms(t, f, positions=p).items()) for t in texts for f, p in fields]
    monkeypatch.setattr(analysis, "_c_gather", None)
    monkeypatch.setattr(analysis, "_c_gather_pairs", None)
    assert with_c == [list(analysis.terms(t, f, positions=p).items()) for t in texts for f, p in fields]
    assert any(len(v) > 1 for items in with_c for _, v in items if isinstance(v, list))  # positions gathered
    assert any(" " in term for items in with_c for term, _ in items)  # and word pairs


@pytest.mark.parametrize("tokens", [((0, 0, 1),), ((0, 0, 1, object()),), ("word",)])
def test_tokens_it_cannot_gather_are_refused(tokens) -> None:
    with pytest.raises((TypeError, AttributeError)):
        c_postings.gather(tokens, "stem", True)
    with pytest.raises((TypeError, AttributeError)):
        c_postings.gather_pairs(tokens * 2, frozenset(), True)


def test_word_pairs_need_stems_of_str() -> None:
    token = (0, 0, 1, analysis.Forms(("i",), (b"i",), (), ()))
    with pytest.raises(TypeError, match="str"):
        c_postings.gather_pairs((token, token), frozenset({b"i"}), True)


# Cutting a text into tokens (``_postings.words`` and ``analysed`` behind ``analysis._words``)

_TOKEN_EDGES = ["Enskede-Årsta-Vantörs", "2023/740", "A.B.", "kl. 10:30", "x- -y", "snake_case", "²½", "3-4-a",
                "İstanbul", "ΣΟΦΟΣ ΟΔΟΣ", "ǅemal", "ﬁnans", "a\u0301b", "١٢٣-x", "Ⅻ-ab", "-", "/.:", "é-", "\ud800a-b"]


def test_a_texts_tokens_are_cut_in_c_as_in_python() -> None:
    """Positions, offsets and lower-cased words: whole where a token holds a digit or no joiner,
    else a token per joined part; letters beyond Latin-1 (Greek final sigma, dotted İ, ligatures,
    other scripts' digits) lower-cased as ``str.lower`` does."""
    texts = [u.segment.text for u in volume_units(300)] + _TOKEN_EDGES + [" ".join(_TOKEN_EDGES), ""]
    assert [c_postings.words(t) for t in texts] == [list(analysis._py_words(t)) for t in texts]


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from("-/.:_ 0123Aaåé"), st.characters()), max_size=40))
def test_any_texts_tokens_are_cut_in_c_as_in_python(text) -> None:
    assert c_postings.words(text) == list(analysis._py_words(text))


def test_a_texts_words_get_their_forms_from_the_memo_else_from_forms() -> None:
    memo = {"kommunen": "known"}
    asked = []

    def forms(word, chain):
        asked.append((word, chain))
        return word.upper()

    got = c_postings.analysed("Kommunen och KOMMUNEN, budget-2025", memo, forms, "full")
    assert got == ((0, 0, 8, "known"), (1, 9, 12, "OCH"), (2, 13, 21, "known"), (3, 23, 34, "BUDGET-2025"))
    assert asked == [("och", "full"), ("budget-2025", "full")]


def test_an_error_in_forms_is_raised_from_analysed() -> None:
    def forms(word, chain):
        raise ValueError(word)

    with pytest.raises(ValueError, match="ord"):
        c_postings.analysed("ord", {}, forms, "full")


# The posting pool (``_postings.Pool`` behind ``whoosh_writer.CPostingPool``)

_field = st.sampled_from(["text_stem", "text_exact", "title", "id", "a"])
_term = st.sampled_from([b"", b"a", b"ab", b"abc", b"b", b"\xff", b"\xc3\xa5r", b"skola", b"skolan"])


@st.composite
def _pooled(draw):
    """Postings in any order, at most one per field, term and document (as whoosh makes them)."""
    keys = draw(st.lists(st.tuples(_field, _term, st.integers(0, 5000)), max_size=300,
                         unique_by=lambda k: k))
    weights = st.sampled_from([1.0, 2.0, 0.5, 3.25])
    return [(f, t, d, draw(weights), draw(_value)) for f, t, d in keys]


def _drained(pool) -> list:
    out = []
    while (group := pool.next_group()) is not None:
        f, t, postings = group
        out += [(f, t, d, w, v or None) for d, w, v in postings]
    return out


@settings(max_examples=200, deadline=None)
@given(postings=_pooled(), limit=st.sampled_from([1, 200, 10**9]))
def test_the_pool_gives_its_postings_sorted_by_field_term_and_document(tmp_path_factory, postings, limit) -> None:
    # limit 1: a run on disk after every posting; 200 bytes: a few; 10**9: one at the end
    pool = c_postings.Pool(str(tmp_path_factory.mktemp("runs")), limit)
    for p in postings:
        pool.add(p)
    expected = sorted((f, t, d, w, v or None) for f, t, d, w, v in postings)
    assert _drained(pool) == expected
    pool.cleanup()


def test_the_pool_writes_runs_beyond_its_memory_limit_and_removes_them(tmp_path) -> None:
    pool = c_postings.Pool(str(tmp_path), 4096)
    for d in range(1000):
        pool.add(("text_stem", b"skol", d, 1.0, b"\0\0\0\1x"))
    assert pool.run_count > 1 and len(list(tmp_path.iterdir())) == pool.run_count
    assert [d for _, _, d, _, _ in _drained(pool)] == list(range(1000))
    pool.cleanup()
    assert list(tmp_path.iterdir()) == []


def test_postings_added_out_of_document_order_come_out_in_order(tmp_path) -> None:
    pool = c_postings.Pool(str(tmp_path), 64)  # several runs, the later ones with smaller documents
    for d in (50, 7, 3, 40, 1, 2):
        pool.add(("f", b"t", d, 1.0, None))
    assert [d for _, _, d, _, _ in _drained(pool)] == [1, 2, 3, 7, 40, 50]


@pytest.mark.parametrize("bad", [
    ("f", "text", 1, 1.0, None),
    ("f", b"t", -1, 1.0, None),
    ("f", b"t", 1, 1.0, "text"),
    (b"f", b"t", 1, 1.0, None),
    ("f", b"t", 1),
])
def test_a_posting_the_pool_cannot_hold_is_refused(tmp_path, bad) -> None:
    pool = c_postings.Pool(str(tmp_path), 1 << 20)
    with pytest.raises((TypeError, ValueError)):
        pool.add(bad)


def test_a_pool_on_a_folder_that_is_gone_fails_with_the_folder_named(tmp_path) -> None:
    pool = c_postings.Pool(str(tmp_path / "gone"), 1)
    with pytest.raises(OSError, match="gone"):
        pool.add(("f", b"t", 1, 1.0, None))


def test_an_index_written_through_many_runs_is_the_index_written_through_one(tmp_path, monkeypatch) -> None:
    units = volume_units(300)
    made: list = []

    class Recorded(whoosh_writer.CPostingPool):
        def __init__(self, *args) -> None:
            super().__init__(*args)
            made.append(self)

    monkeypatch.setattr(whoosh_writer, "CPostingPool", Recorded)
    many = _built(tmp_path / "many", units, monkeypatch, 0.05)  # 52 kB: dozens of runs
    assert made and made[-1]._pool.run_count > 10
    one = _built(tmp_path / "one", units, monkeypatch)
    assert made[-1]._pool.run_count == 1
    assert many == one


def test_the_c_pool_writes_the_index_whooshs_pool_writes(tmp_path, monkeypatch) -> None:
    units = volume_units(300)
    ours = _built(tmp_path / "c", units, monkeypatch)
    monkeypatch.setattr(whoosh_writer, "_postings", None)
    whooshs = _built(tmp_path / "whoosh", units, monkeypatch)
    assert ours == whooshs


@settings(max_examples=300, deadline=None)
@given(key=st.binary(max_size=300))
def test_the_terms_files_hash_is_whooshs_md5_hash(key) -> None:
    from whoosh.filedb.filetables import md5_hash

    assert c_postings.md5_tail(key) == md5_hash(key)


@settings(max_examples=200, deadline=None)
@given(
    gaps=st.one_of(
        st.lists(st.integers(0, 70_000), min_size=1, max_size=30),
        st.integers(998, 2002).map(lambda n: [1] * n),  # batches of 1,000 in the pickle
        st.just([2**31 - 1]),
    ),
    count=st.integers(1, 300),
)
def test_a_fields_terms_get_whooshs_values_and_weights(tmp_path_factory, gaps, count) -> None:
    from itertools import accumulate

    from whoosh import formats
    from whoosh.system import pack_uint

    positions = list(accumulate(gaps))
    pool = c_postings.Pool(str(tmp_path_factory.mktemp("runs")), 1 << 20)
    length = pool.add_field("text_stem", 7, {"skol": positions}, 1.0, 1.0)
    length += pool.add_field("title", 7, {"skol": count}, 2.0, 1.5)
    assert length == len(positions) + count
    assert _drained(pool) == [
        ("text_stem", b"skol", 7, float(len(positions)), formats.Positions().encode(positions)),
        ("title", b"skol", 7, count * 2.0 * 1.5, pack_uint(count)),
    ]
