"""Filtered searches score only the documents already known to match (``restrict.OnlyDocs``) and
read a date range from the ``datum`` column: the same documents, scores and order as whoosh's own
filtered search and as the union of each date's postings, also over segments with deletions."""

from __future__ import annotations

import pytest
from whoosh import query as wq

from conftest import updated_synthetic_index
from protokollsok.query import parse
from protokollsok.restrict import OnlyDocs
from protokollsok.search import _Builder, _DocSets, _Opened

MASK = wq.Term("doctype", "file")
WORDS = ["skolan", "budget", "nämnden", "beslutar", "äldreomsorg", "och", "i", "förslaget", "barn", "kommunen"]


@pytest.fixture(scope="module")
def updated_index(tmp_path_factory):
    """Two hundred units over three years, then a third of them replaced (deletions, segments)."""
    return updated_synthetic_index(tmp_path_factory.mktemp("restrict") / "i", 200, WORDS, seed=3, longest=40)


RANGES = [("2022-01-01", "2022-12-31"), ("2023-06-01", None), (None, "2022-03-15"), ("2024-02-30", "2024-03-01")]


@pytest.mark.parametrize("lo, hi", RANGES)
def test_a_date_range_from_the_column_is_the_union_of_its_dates(updated_index, lo, hi):
    docsets = _DocSets(_Opened.searcher(updated_index)[0])
    assert docsets.term_range("datum", lo, hi) == docsets.range_from_terms("datum", lo, hi)
    assert docsets.term_range("datum", lo, hi) or lo == "2024-02-30"


def _same_as_whoosh_filtered(index_dir, query: str) -> None:
    searcher, info = _Opened.searcher(index_dir)
    wquery, wfilter = _Builder(searcher, info.chain).build(parse(query))
    docsets = _DocSets(searcher)
    allowed = docsets.docs(wfilter)
    matched = docsets.matching(wquery, allowed, MASK)
    assert matched and len(matched) < len(docsets.matching(wquery, None, MASK)), query  # it filters
    for limit in (1, 10, 50):
        ours = searcher.search(OnlyDocs(wquery, sorted(matched)), limit=limit, optimize=True)
        theirs = searcher.search(wquery, limit=limit, filter=allowed, mask=MASK, optimize=False)
        assert [(h.docnum, h.score) for h in ours] == [(h.docnum, h.score) for h in theirs], query
    assert len(searcher.search(OnlyDocs(wquery, sorted(matched)), limit=None)) == len(matched)


@pytest.mark.parametrize("query", ["skolan parti:SD", "budget datum:2023", "barn OR kommunen parti:S", "nämnden beslutar datum:2022"])
def test_a_filtered_search_scores_as_whoosh_over_segments_with_deletions(updated_index, query):
    _same_as_whoosh_filtered(updated_index, query)


@pytest.mark.parametrize("query", ["nämnden parti:S", "nämnden datum:2023", "beslut OR budget nämnd:barn"])
def test_a_filtered_search_scores_as_whoosh_on_the_bundled_corpus(corpus_index, query):
    _same_as_whoosh_filtered(corpus_index, query)
