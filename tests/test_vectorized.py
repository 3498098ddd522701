"""Queries with many matches are scored all at once with numpy (``vectorized``), frequent terms
read from posting arrays beside each segment (``posting_arrays``): the same matches, the same
scores to the last bit and the same order as whoosh's own search, over real text, over segments
with deletions, in small segments (whoosh's array union) and large ones (its tree of unions)."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
from whoosh import query as wq

from conftest import synthetic_unit, updated_synthetic_index, volume_units
from protokollsok import index, posting_arrays, search, vectorized
from protokollsok.index import index_units
from protokollsok.query import parse
from protokollsok.search import _Builder, _DocSets, _Opened

MASK = wq.Term("doctype", "file")
WORDS = ["skolan", "budget", "nämnden", "beslutar", "äldreomsorg", "och", "i", "förslaget", "barn",
         "kommunen", "skolans", "budgeten", "barnen", "vård", "vården", "omsorg", "att", "med", "enlighet"]
QUERIES = [
    "skolan", "barn", "och", "budget nämnden", "skolan OR vård", "barn -skolan", "vård*",
    '"i enlighet med"', '"förslaget och budget"', "äldreomsorg kommunen beslutar", "NOT skolan",
]
REAL_QUERIES = [
    "regeringen", "kommunen", "barn", "skolan", "och", "kommunen budget", "vård OR omsorg",
    "skolan -barn", '"i enlighet med"', '"det är viktigt att"', "bostäder*", "landsbygd", "trafik",
    "regeringen kommunen arbetsmarknad", "klimat OR miljö OR energi",
]


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory) -> Path:
    """Three hundred units (every eleventh undated), then a third of them replaced: several
    segments, with deletions."""
    path = tmp_path_factory.mktemp("vectorized") / "i"
    return updated_synthetic_index(path, 300, WORDS, seed=5, longest=60, undated_every=11, budget_title_every=5)


@pytest.fixture(scope="module")
def real_index(tmp_path_factory) -> Path:
    """800 real units of the volume corpus (all its sources, mixed), as one segment."""
    path = tmp_path_factory.mktemp("vectorized_real") / "i"
    index_units(path, volume_units(800))
    return path


@pytest.fixture(params=["array union", "tree of unions"])
def or_kind(request, monkeypatch):
    """whoosh scores an Or of three or more terms in a segment of at most 5,000 documents with an
    array union (``ArrayUnionMatcher``) and in a larger one with a tree of ``UnionMatcher``s; the
    second is what a real index uses and is forced here on the small test indexes."""
    if request.param == "tree of unions":
        monkeypatch.setattr(wq.Or, "matcher_type", wq.Or.DEFAULT_MATCHER)
    return request.param


def _same_as_whoosh(index_dir: Path, query: str, arrays_dir: Path | None = None) -> int:
    searcher, info = _Opened.searcher(index_dir)
    built = _Builder(searcher, info.chain).build(parse(query))
    assert built is not None, query
    wquery = built[0]
    docs, scores = vectorized.score_all(searcher, wquery, arrays_dir)
    keep = ~np.isin(docs, sorted(_DocSets(searcher).docs(MASK)))
    docs, scores = docs[keep], scores[keep]
    assert set(docs.tolist()) == _DocSets(searcher).matching(wquery, None, MASK), query
    for limit in (1, 10, 40):
        ours = [(int(docs[i]), float(scores[i])) for i in vectorized.top(docs, scores, limit)]
        theirs = [(h.docnum, h.score) for h in searcher.search(wquery, limit=limit, mask=MASK, optimize=True, terms=False)]
        assert ours == theirs, (query, limit)
    return len(docs)


@pytest.mark.parametrize("query", QUERIES)
def test_every_match_scores_as_whoosh_over_segments_with_deletions(updated_index, or_kind, query):
    assert _same_as_whoosh(updated_index, query) or query == "NOT skolan"


@pytest.mark.parametrize("query", REAL_QUERIES)
def test_every_match_scores_as_whoosh_over_real_text(real_index, or_kind, query):
    assert _same_as_whoosh(real_index, query)


@pytest.fixture
def with_arrays(updated_index, real_index, monkeypatch):
    """Posting arrays of every term (not only frequent ones) in both indexes; afterwards the
    usual ones again."""
    usual = posting_arrays.MIN_POSTINGS
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", 1)
    _rewrite_arrays(updated_index, real_index)
    yield
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", usual)
    _rewrite_arrays(updated_index, real_index)


def _rewrite_arrays(*paths: Path) -> None:
    for path in paths:
        for p in path.glob(f"*.{posting_arrays.SUFFIX}"):
            p.unlink()
        ix, _ = index.open_index(path)
        assert posting_arrays.write_missing(path, ix)


@pytest.mark.parametrize("query", QUERIES[:6] + REAL_QUERIES[:6])
def test_postings_read_from_the_arrays_score_the_same(with_arrays, updated_index, real_index, query):
    path = updated_index if query in QUERIES else real_index
    searcher, _ = _Opened.searcher(path)
    assert any(posting_arrays.open_for(path, leaf) for leaf, _ in searcher.reader().leaf_readers())
    _same_as_whoosh(path, query, arrays_dir=path)


def test_the_arrays_hold_each_term_as_whoosh_does(with_arrays, updated_index):
    searcher, _ = _Opened.searcher(updated_index)
    checked = 0
    for leaf, _ in searcher.reader().leaf_readers():
        arrays = posting_arrays.open_for(updated_index, leaf)
        for field in posting_arrays.FIELDS:
            for btext, _info in leaf.iter_field(field):
                ids, weights = arrays.get(field, btext)
                m = leaf.postings(field, btext)
                m = getattr(m, "child", m)  # whoosh's list, deleted documents included
                m.reset()  # (the deletions' filter moved it past a first deleted document)
                whoosh_ids, whoosh_weights = [], []
                while m.is_active():
                    whoosh_ids.append(m.id())
                    whoosh_weights.append(m.weight())
                    m.next()
                assert ids.tolist() == whoosh_ids and weights.tolist() == whoosh_weights, (field, btext)
                checked += 1
    assert checked > 100


@pytest.mark.parametrize("min_df", [1, 3, 20])
def test_the_frequent_terms_are_those_whooshs_term_list_gives_with_that_many_documents(updated_index, min_df):
    searcher, _ = _Opened.searcher(updated_index)
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    assert len(leaves) > 1
    for leaf in leaves:
        fields = [f for f in posting_arrays.FIELDS if f in leaf.schema]
        want = {f: [t for t, info in leaf.iter_field(f) if info.doc_frequency() >= min_df] for f in fields}
        assert posting_arrays._frequent_terms(leaf, fields, min_df) == want
        assert sum(map(len, want.values())) > 10


@pytest.mark.parametrize("chunk", [64, 1000])
def test_the_terms_file_read_a_few_bytes_at_a_time_gives_every_frequent_term(updated_index, chunk):
    """Reads shorter than a record, and records cut at a read's end, lose nothing."""
    searcher, _ = _Opened.searcher(updated_index)
    leaf = searcher.reader().leaf_readers()[0][0]
    terms = leaf._terms
    want = [terms._keycoder(f, t) for f in posting_arrays.FIELDS if f in leaf.schema
            for t, info in leaf.iter_field(f) if info.doc_frequency() >= 2]
    got = [k for k in posting_arrays._frequent_keys(terms._tindex, 2, chunk) if terms._keydecoder(k)[0] in posting_arrays.FIELDS]
    assert got == sorted(want) and len(want) > 20  # in the file's order: by field number, then term


def test_the_arrays_hold_each_facet_column_as_value_numbers(with_arrays, updated_index):
    searcher, _ = _Opened.searcher(updated_index)
    for leaf, _ in searcher.reader().leaf_readers():
        arrays = posting_arrays.open_for(updated_index, leaf)
        for name in posting_arrays.COLUMNS:
            values, codes = arrays.column(name)
            assert [values[c] for c in codes] == search.LeafColumn(leaf.column_reader(name)).values()


def test_arrays_of_another_segment_or_damaged_are_not_used(with_arrays, updated_index, tmp_path):
    searcher, _ = _Opened.searcher(updated_index)
    leaves = [leaf for leaf, _ in searcher.reader().leaf_readers()]
    first, second = (posting_arrays.path_for(updated_index, leaf.segment().segment_id()) for leaf in leaves[:2])
    saved = first.read_bytes()
    try:
        first.write_bytes(second.read_bytes())  # written for the other segment
        assert posting_arrays.open_for(updated_index, leaves[0]) is None
        first.write_bytes(saved[:50])  # cut short in its header
        assert posting_arrays.open_for(updated_index, leaves[0]) is None
        first.write_bytes(saved[:-8])  # cut short in its data
        assert posting_arrays.open_for(updated_index, leaves[0]) is None
    finally:
        first.write_bytes(saved)
    assert posting_arrays.open_for(updated_index, leaves[0]) is not None


def test_an_update_writes_arrays_for_new_segments_and_whoosh_removes_merged_ones(tmp_path):
    path = tmp_path / "i"
    rng = random.Random(9)

    def units(ks):
        return [synthetic_unit(k, " ".join(rng.choice(WORDS) for _ in range(20)), "2024-01-01") for k in ks]

    index_units(path, units(range(40)))
    for start in range(40, 200, 10):  # small updates: whoosh merges small segments as it goes
        index_units(path, units(range(start, start + 10)), full=False)
    ix, _ = index.open_index(path)
    with ix.reader() as reader:
        segments = {leaf.segment().segment_id() for leaf, _ in reader.leaf_readers()}
    kept = {p.name.removesuffix(f".{posting_arrays.SUFFIX}") for p in path.glob(f"*.{posting_arrays.SUFFIX}")}
    assert kept == segments


def test_sweep_removes_arrays_a_killed_run_did_not_finish(tmp_path):
    path = tmp_path / "i"
    index_units(path, [synthetic_unit(1, "skolan och budget", "2024-01-01")])
    unfinished = path / f".{index.read_info(path).indexname}_abc.{posting_arrays.SUFFIX}.tmp"
    unfinished.write_bytes(b"half")
    assert unfinished.name in index.sweep(path)
    assert not unfinished.exists()


def test_arrays_this_code_cannot_read_are_written_again(updated_index):
    ix, _ = index.open_index(updated_index)
    with ix.reader() as reader:
        leaf = reader.leaf_readers()[0][0]
        path = posting_arrays.path_for(updated_index, leaf.segment().segment_id())
        path.write_bytes(b"protokollsok-arrays 0\n")  # an older layout
        assert posting_arrays.open_for(updated_index, leaf) is None
        assert posting_arrays.write_missing(updated_index, ix) == [path.name]
        assert posting_arrays.open_for(updated_index, leaf) is not None


@pytest.mark.parametrize(
    "query, options",
    [
        ("skolan", {"sort": "date"}),
        ("barn OR budget", {"sort": "date", "limit": 40}),
        ("vård* -barn", {"sort": "date", "parti": "S"}),
        ("skolan", {}),
        ("barn OR budget", {"parti": "SD"}),
        ("nämnden", {"date_from": "2023-01-01", "date_to": "2023-12-31"}),
        ("budget beslutar", {"namnd": "kultur"}),
        ("vård* -barn", {}),
        ('"i enlighet med"', {"limit": 3}),
        ("och", {"limit": 0}),
    ],
)
def test_a_search_gives_the_same_answer_either_way(updated_index, monkeypatch, query, options):
    answers = []
    for threshold in (0, 10**12):  # numpy for every query, then for none
        monkeypatch.setattr(search, "VECTORS_FROM", threshold)
        monkeypatch.setattr(search, "VECTORS_LOADED_FROM", threshold)
        answers.append(search.search(updated_index, query, **options).to_json())
    assert answers[0] == answers[1]
    assert answers[0]["total"] > 0


PROXIMITY_CASES = [
    ("budget nämnden", {}),
    ("budget nämnden", {"limit": 1}),
    ("budget nämnden", {"sort": "date", "limit": 5}),
    ("skolan barn -vård", {"limit": 3}),
    ("äldreomsorg kommunen beslutar", {"parti": "S", "limit": 5}),
    ("barn skolan", {"limit": 40}),
]
REAL_PROXIMITY_CASES = [
    ("kommunen budget", {}),
    ("regeringen förslag", {"limit": 1}),
    ("regeringen förslag", {"sort": "date", "limit": 5}),
    ("att det", {"limit": 3}),
    ("att det -regeringen", {"sort": "date"}),
    ("regeringen kommunen arbetsmarknad", {}),
]


@pytest.mark.parametrize("real, query, options", [(False, *c) for c in PROXIMITY_CASES] + [(True, *c) for c in REAL_PROXIMITY_CASES])
def test_a_multi_word_query_ranks_by_proximity_the_same_either_way(updated_index, real_index, monkeypatch, real, query, options):
    """numpy settles the proximity bonus only for matches that can reach the top; the hits shown,
    their order and their scores are still whoosh's."""
    path = real_index if real else updated_index
    answers = []
    for threshold in (0, 10**12):
        monkeypatch.setattr(search, "VECTORS_FROM", threshold)
        monkeypatch.setattr(search, "VECTORS_LOADED_FROM", threshold)
        answers.append(search.search(path, query, **options).to_json())
    assert answers[0] == answers[1]
    assert answers[0]["total"] > 0


def test_positions_are_read_only_for_matches_that_can_reach_the_top(real_index, monkeypatch):
    checked: list[int] = []
    close = vectorized._SpanTest.close

    def spy(self, docs):
        checked.append(len(docs))
        return close(self, docs)

    monkeypatch.setattr(vectorized._SpanTest, "close", spy)
    monkeypatch.setattr(search, "VECTORS_LOADED_FROM", 0)
    monkeypatch.setattr(search, "VECTORS_FROM", 0)
    searcher, info = _Opened.searcher(real_index)
    wquery = _Builder(searcher, info.chain).build(parse("att det"))[0]
    _, _, deferred = vectorized.score_deferred(searcher, wquery, real_index)
    both = sum(len(ids) for ids, *_ in deferred._parts)  # matches holding both words

    search.search(real_index, "att det", limit=3)
    assert 0 < sum(checked) < both / 4


def test_an_empty_index_is_searched_the_same_way(tmp_path, monkeypatch):
    """An index without units (a first run killed before its first commit publishes one) has a
    reader without segments; numpy's path leaves it to whoosh, and the posting arrays of such a
    reader are none."""
    (tmp_path / "corpus").mkdir()
    index.build_index([tmp_path / "corpus"], tmp_path / "i", full=True)
    monkeypatch.setattr(search, "VECTORS_LOADED_FROM", 0)
    monkeypatch.setattr(search, "VECTORS_FROM", 0)
    for q in ("regeringen", "kommunen budget", '"i enlighet med"'):
        assert search.search(tmp_path / "i", q).total == 0
    searcher, _ = _Opened.searcher(tmp_path / "i")
    for leaf, _ in searcher.reader().leaf_readers():
        assert posting_arrays.open_for(tmp_path / "i", leaf) is None


def test_a_proximity_over_matchers_that_cannot_restart_is_scored_by_whoosh_whole(updated_index, monkeypatch):
    """Deferring needs the words' matchers read again from their first posting; where they could
    not be, the query's own matcher (the span check included) is evaluated, with the same answer."""
    query = "budget nämnden"
    monkeypatch.setattr(search, "VECTORS_FROM", 0)
    monkeypatch.setattr(search, "VECTORS_LOADED_FROM", 0)
    usual = search.search(updated_index, query, limit=3).to_json()
    checked: list[int] = []
    monkeypatch.setattr(vectorized, "_restartable", lambda m: False)
    monkeypatch.setattr(vectorized._SpanTest, "close", lambda self, docs: checked.append(1))
    assert search.search(updated_index, query, limit=3).to_json() == usual
    assert not checked


@pytest.mark.parametrize("sizes", [(0, 5), (3, 2), (40, 30), (900, 50), (5_000, 4_000), (60_000, 70_000)])
def test_an_intersection_gives_numpys_numbers_and_places_for_short_and_long_lists(sizes) -> None:
    """Long lists are intersected over an array of their range, short ones by numpy's sort: the
    same common numbers and places either way."""
    rng = np.random.default_rng(sum(sizes))
    span = 82_000
    a, b = (np.sort(rng.choice(span, n, replace=False)) for n in sizes)
    ours = vectorized._intersect(a, b)
    theirs = np.intersect1d(a, b, assume_unique=True, return_indices=True)
    for x, y in zip(ours, theirs, strict=True):
        assert np.array_equal(x, y)
