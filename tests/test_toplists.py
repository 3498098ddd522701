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


def test_the_first_n_listed_hits_sorted_by_score_and_date_are_the_command_lines_first_n(seed_index):
    every = search.search(seed_index, "samverkan", limit=toplists.TOP_HITS, facets=False, suggest=False).hits
    assert len(every) > 2
    num_of = {h.id: 100 + i for i, h in enumerate(reversed(every))}
    hit_of = {num_of[h.id]: h for h in every}
    nums, scores = toplists.top_hits(seed_index, ["samverkan"], num_of)["samverkan"]
    for n in range(1, len(nums) + 1):
        first = sorted(range(n), key=lambda i: (-scores[i], search._neg_date(hit_of[nums[i]].datum)))
        want = search.search(seed_index, "samverkan", limit=n, facets=False, suggest=False).hits
        assert [(hit_of[nums[i]].id, scores[i] / 10_000) for i in first] == [(h.id, h.score) for h in want]


def test_a_word_whose_hit_the_bundle_does_not_number_is_left_out(seed_index):
    assert toplists.top_hits(seed_index, ["samverkan"], {}) == {}
