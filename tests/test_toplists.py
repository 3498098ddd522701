"""Which words' top hits a web bundle lists, and that the list is the command line's answer."""

from __future__ import annotations

from protokollsok import search, toplists
from protokollsok.analysis import Forms

FORMS = {  # as termtable gives them: `skolan` is searched by its exact form and by the stem `skol`
    "skolan": Forms(("skolan",), ("skolan", "skol"), ("skolan", "skol"), ()),
    "barn": Forms(("barn",), ("barn",), ("barn",), ()),
    "katt": Forms(("katt",), ("katt",), ("katt",), ()),
}


def test_a_word_is_listed_when_its_querys_weights_reach_the_threshold():
    weights = {"skolan": 3_000, "skol": 6_000, "barn": 5_000}  # each term's weights counted once
    assert toplists.candidates(["skolan", "barn", "katt"], FORMS.get, weights, min_chars=8_000) == ["skolan"]
    assert toplists.candidates(["skolan", "barn", "katt"], FORMS.get, weights, min_chars=5_000) == ["skolan", "barn"]
    assert toplists.candidates(["skolan", "barn", "katt"], FORMS.get, weights, min_chars=9_001) == []


def test_a_word_the_query_syntax_reads_otherwise_is_not_listed():
    weights = dict.fromkeys(["-skolan", "skolan*", "or", "OR", "ks:budget", "ks", "budget"], 10_000)
    words = ["-skolan", "skolan*", "OR", "ks:budget", "or"]
    assert toplists.candidates(words, lambda w: Forms((w,), (w,), (), ()), weights, min_chars=1) == ["or"]


def test_the_listed_hits_are_the_command_lines_first_hits_with_their_scores(seed_index):
    res = search.search(seed_index, "samverkan", limit=toplists.TOP_HITS, facets=False, suggest=False)
    assert len(res.hits) > 1
    num_of = {h.id: 100 + i for i, h in enumerate(reversed(res.hits))}
    got = toplists.top_hits(seed_index, ["samverkan"], num_of)
    assert got == {"samverkan": [[num_of[h.id] for h in res.hits], [round(h.score * 10_000) for h in res.hits]]}


def test_a_word_whose_hit_the_bundle_does_not_number_is_left_out(seed_index):
    assert toplists.top_hits(seed_index, ["samverkan"], {}) == {}
