"""Searching an index of the bundled corpus/: ranking, filters, snippets, facets, suggestions."""

from __future__ import annotations

import contextlib
import os

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protokollsok.errors import QueryError
from protokollsok.search import search


def ids(result) -> list[str]:
    return [h.id for h in result.hits]


def test_an_exact_form_outranks_other_forms(corpus_index):
    # "vittnen" occurs as such only in seed 000's bilaga; other units only share its stem or lemma.
    result = search(corpus_index, "vittnen")
    assert result.hits[0].id == "000_566486a7dd23fe0f.txt#bilaga1"
    assert all(h.score <= result.hits[0].score for h in result.hits)


def test_a_phrase_needs_its_words_in_order(corpus_index):
    in_order = search(corpus_index, '"våld i nära relationer"')
    scrambled = search(corpus_index, '"relationer nära i våld"')
    assert in_order.total >= 3
    assert scrambled.total < in_order.total


def test_folded_query_finds_what_the_accented_one_finds(corpus_index):
    accented = set(ids(search(corpus_index, "våld i nära relationer", limit=50)))
    folded = set(ids(search(corpus_index, "vald i nara relationer", limit=50)))
    assert accented and accented <= folded


def test_inflected_and_compound_forms_meet(corpus_index):
    base = set(ids(search(corpus_index, "brottsoffer", limit=100)))
    assert base and base == set(ids(search(corpus_index, "brottsoffren", limit=100)))
    assert "000_566486a7dd23fe0f.txt#bilaga1" in ids(search(corpus_index, "våld", limit=100))  # våldsdåd


def test_or_and_minus(corpus_index):
    a = set(ids(search(corpus_index, "vittnen", limit=100)))
    b = set(ids(search(corpus_index, "tystnadskultur", limit=100)))
    assert set(ids(search(corpus_index, "vittnen OR tystnadskultur", limit=100))) == a | b
    assert set(ids(search(corpus_index, "vittnen -tystnadskultur", limit=100))) == a - b


def test_prefix_matches_word_beginnings(corpus_index):
    result = search(corpus_index, "samverkansöverens*", limit=100)
    assert result.total >= 4
    assert all(h.highlights for h in result.hits)


def test_filters_by_namnd_parti_and_date(corpus_index):
    r = search(corpus_index, "beslut", namnd="barn- och utbildning", limit=100)
    assert r.total and {h.namnd for h in r.hits} == {"Barn- och utbildningsnämnden"}
    r = search(corpus_index, "beslut", parti="kd", limit=100)
    assert r.total and all("KD" in h.parti for h in r.hits)
    r = search(corpus_index, "beslut", date_from="2023-01-01", date_to="2023-12-31", limit=100)
    assert r.total and all(h.datum and h.datum.startswith("2023") for h in r.hits)


def test_field_syntax_filters_like_the_options(corpus_index):
    assert ids(search(corpus_index, "beslut parti:KD", limit=100)) == ids(
        search(corpus_index, "beslut", parti="KD", limit=100)
    )


def test_sort_by_date_is_newest_first(corpus_index):
    dates = [h.datum for h in search(corpus_index, "beslut", sort="date", limit=100).hits if h.datum]
    assert dates == sorted(dates, reverse=True)


def test_snippet_highlights_the_whole_phrase(corpus_index):
    hit = search(corpus_index, '"våld i nära relationer"').hits[0]
    marked = [hit.snippet[s:e].lower() for s, e in hit.highlights]
    assert marked and all(m.startswith("våld") and "relation" in m for m in marked)
    assert len(hit.snippet) <= 3 * 260


def test_facets_count_all_matches(corpus_index):
    r = search(corpus_index, "beslut", limit=1)
    assert sum(n for _, n in r.facets["year"]) <= r.total
    assert sum(n for _, n in r.facets["namnd"]) == r.total  # every unit of corpus/ has a nämnd
    assert r.facets["parti"]


def test_a_misspelt_query_gets_a_suggestion(corpus_index):
    r = search(corpus_index, "tystnadskultr")
    assert r.total == 0
    assert r.suggestion == "tystnadskultur"


def test_a_suggestion_that_finds_nothing_is_not_offered(corpus_index):
    """The suggested query is counted with its filters, also one that no unit passes."""
    assert search(corpus_index, "tystnadskultr").suggestion == "tystnadskultur"
    assert search(corpus_index, "tystnadskultr datum:2099").suggestion is None


def test_a_good_query_gets_no_suggestion(corpus_index):
    assert search(corpus_index, "beslut").suggestion is None


def test_unknown_sort_is_a_query_error(corpus_index):
    with pytest.raises(QueryError):
        search(corpus_index, "beslut", sort="alphabet")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(alphabet=st.sampled_from(list('abcåäö "-*:OR§/()')) | st.characters(), max_size=80))
def test_any_query_gives_results_or_a_query_error(corpus_index, text):
    with contextlib.suppress(QueryError):
        search(corpus_index, text, limit=3)


@pytest.mark.parametrize(
    ("typed", "stored"),
    [("VON/2020:00308", "Von/2020:308"), ("sod 2023/713", "SÖD 2023/713"), ("KS  2023/740", "KS 2023/740")],
)
def test_a_dnr_is_found_however_it_is_typed(typed, stored):
    from protokollsok.search import dnr_key

    assert dnr_key(typed) == dnr_key(stored)
    assert dnr_key("KS 2023/741") != dnr_key(stored)


def test_a_dnr_query_finds_the_units_that_carry_it(corpus_index):
    hits = search(corpus_index, "KS 2023/740", limit=100).hits
    assert hits and all("KS 2023/740" in h.dnr for h in hits)


@pytest.mark.parametrize(
    "query",
    ["beslut", "vittnen OR tystnadskultur", "beslut -budget", '"våld i nära relationer"', "samverkansöverens*",
     "beslut parti:KD", "nämnd:barn beslut", "datum:2023 beslut", "KS 2023/740", "parti:S"],
)
def test_the_total_counts_exactly_the_units_that_can_be_listed(corpus_index, query):
    everything = search(corpus_index, query, limit=1000)
    assert everything.total == len(everything.hits)
    assert search(corpus_index, query, limit=3).total == everything.total
    assert sum(n for _, n in everything.facets["namnd"]) == everything.total


def test_facets_count_right_on_an_index_of_several_segments(tmp_path):
    """A rebuild written by one process per core has one segment per process: facet values must
    come from the right segment's column."""
    from collections import Counter

    from protokollsok.index import index_units
    from protokollsok.model import Metadata, Segment, Unit
    from protokollsok.search import _Opened

    bodies = [("Kulturnämnden", "KD"), ("Socialnämnden", "S"), ("Kommunstyrelsen", "M")]
    units = []
    for k in range(300):
        namnd, parti = bodies[k % 3]
        text = f"Ärende {k}. Ledamoten ({parti}) yrkar bifall." + (" Om biblioteket." if k % 7 == 0 else "")
        seg = Segment(f"f{k}.txt#§1", f"f{k}.txt", "paragraf", 1, "Ärende", text, 0, len(text), (1, 1))
        units.append(Unit(seg, Metadata((), namnd, f"2024-01-{k % 28 + 1:02d}", (parti,), "protokoll")))
    index_units(tmp_path / "i", units, parallel=True)
    searcher, _ = _Opened.searcher(tmp_path / "i")
    assert len(searcher.reader().leaf_readers()) > 1 or (os.cpu_count() or 1) == 1
    result = search(tmp_path / "i", "biblioteket", limit=100)
    assert result.total == len(result.hits) == 43
    assert dict(result.facets["namnd"]) == dict(Counter(h.namnd for h in result.hits))
    assert dict(result.facets["parti"]) == dict(Counter(p for h in result.hits for p in h.parti))


def test_documents_of_a_term_are_read_right_from_segments_with_deletions(tmp_path):
    """The block-wise posting reader (``_DocSets.term``) gives exactly whoosh's live documents."""
    from protokollsok.index import index_units
    from protokollsok.model import Metadata, Segment, Unit
    from protokollsok.search import _DocSets, _Opened

    def unit(k: int, extra: str) -> Unit:
        text = f"Ärende {k} om bibliotek och skola {extra}. " + "Nämnden beslutar. " * (k % 5)
        seg = Segment(f"f{k}.txt#§1", f"f{k}.txt", "paragraf", 1, "Ärende", text, 0, len(text), (1, 1))
        return Unit(seg, Metadata((), "Kulturnämnden", "2024-01-01", (), "protokoll"))

    index_units(tmp_path / "i", [unit(k, "första") for k in range(400)])
    # Replacing every third unit deletes it from the first segment and writes a second one.
    index_units(tmp_path / "i", [unit(k, "andra") for k in range(0, 400, 3)], full=False)
    searcher, _ = _Opened.searcher(tmp_path / "i")
    reader = searcher.reader()
    assert reader.has_deletions() and len(reader.leaf_readers()) > 1
    docsets = _DocSets(searcher)
    for field in ("text_stem", "text_exact"):
        for term in reader.lexicon(field):
            text = term.decode("utf-8")
            assert docsets.term(field, text) == set(reader.postings(field, text).all_ids()), text


def test_counting_skips_only_terms_whose_documents_another_term_holds(corpus_index):
    """``_uncovered`` drops an exact term for its stem and a stem for the same folded term: on
    real text every such document set is a subset of the one kept."""
    from whoosh import query as wq

    from protokollsok import analysis
    from protokollsok.search import _DocSets, _implied, _Opened

    def kept_term(field: str, text: str) -> tuple[str, str]:
        if field == "text_stem":
            return "text_fold", text
        return "text_stem", text if any(c.isdigit() for c in text) else analysis.stem(text)

    searcher, _ = _Opened.searcher(corpus_index)
    reader, docsets = searcher.reader(), _DocSets(searcher)
    checked = 0
    for field in ("text_exact", "text_stem"):
        for raw in reader.lexicon(field):
            text = raw.decode("utf-8")
            kept = kept_term(field, text)
            if _implied(wq.Term(field, text), {kept}):
                checked += 1
                assert docsets.term(field, text) <= docsets.term(*kept), (field, text)
    assert checked > 1000


def test_a_whole_column_read_at_once_equals_whoosh_reading_it_value_by_value(corpus_index):
    from protokollsok.search import LeafColumn, _Opened, _text

    searcher, _ = _Opened.searcher(corpus_index)
    for leaf, _ in searcher.reader().leaf_readers():
        for name in ("namnd", "year", "parti", "datum"):
            whoosh_values = [_text(v or "") for v in leaf.column_reader(name)]
            column = LeafColumn(leaf.column_reader(name))
            assert [column[d] for d in range(len(column))] == whoosh_values, name
            assert column.values() == whoosh_values, name
            assert any(whoosh_values), name


def test_a_word_found_by_its_stem_is_not_treated_as_misspelt(corpus_index, monkeypatch):
    """An inflection the index lacks of a word it holds (its stem is there) gets no "Menade du",
    although a word one edit away would find more units."""
    from protokollsok import search as search_module
    from protokollsok.search import _Opened

    searcher = _Opened.searcher(corpus_index)[0]
    reader = searcher.reader()
    known_stem = search_module._known_stem
    builder = search_module._Builder(searcher, "full")
    candidates = [w.decode() + "s" for w in reader.lexicon("text_exact") if w.isalpha() and len(w) > 6]
    inflections = [w for w in candidates if ("text_exact", w) not in reader and known_stem(builder, w)]

    monkeypatch.setattr(search_module, "_known_stem", lambda builder, word: False)
    word = next(w for w in inflections if search(corpus_index, w).suggestion)
    monkeypatch.undo()

    assert search(corpus_index, word).suggestion is None
