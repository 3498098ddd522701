"""Snippets: passages around the matches, whole phrases marked, offsets valid."""

from __future__ import annotations

from pathlib import Path

import pytest

from protokollsok import snippets

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def marked(text: str, matches) -> list[str]:
    return [text[m.start : m.end] for m in matches]


def test_inflections_and_compound_parts_are_marked():
    text = "Vittnet hördes. Flera vittnen och en våldsutövare."
    assert marked(text, snippets.find_matches(text, [["vittne"]])) == ["Vittnet", "vittnen"]
    assert marked(text, snippets.find_matches(text, [["våld"]])) == ["våldsutövare"]


def test_a_phrase_is_one_span_and_its_small_words_are_not_marked_alone():
    text = "Arbetet mot våld i nära relationer i staden, i synnerhet i skolan."
    assert marked(text, snippets.find_matches(text, [["våld", "i", "nära", "relationer"]])) == [
        "våld i nära relationer"
    ]


def test_snippet_offsets_point_at_the_marked_words():
    text = ("Inledande text utan träff. " * 30) + "Här nämns tystnadskultur bland vittnen. " + ("Mer text. " * 40)
    found = snippets.find_matches(text, [["tystnadskultur"], ["vittnen"]])
    snippet, spans = snippets.make_snippet(text, found)
    assert [snippet[s:e] for s, e in spans] == ["tystnadskultur", "vittnen"]
    assert len(snippet) <= snippets.PASSAGE_CHARS + 20


def test_no_match_gives_the_beginning():
    snippet, spans = snippets.make_snippet("Kort text om något annat.", [])
    assert snippet.startswith("Kort text") and spans == ()


@pytest.mark.parametrize(
    "clauses",
    [[["våld"]], [["våld", "i", "nära", "relationer"]], [["vittnen"], ["brottsoffer"]], [["stadsdelsnämnden"]], [["i", "enlighet", "med"]]],
)
def test_scanning_a_long_text_finds_what_full_tokenising_finds(monkeypatch, clauses):
    """Scanning finds every match that holds its anchor's stem; it may miss only a word that
    meets the query through a lemma alone (``valt``, a form of ``vald``, for ``våld`` folded)."""
    text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(CORPUS.glob("00*.txt"))) * 3
    assert len(text) > snippets.SCAN_FROM_CHARS
    scanned = set(snippets.find_matches(text, clauses))
    monkeypatch.setattr(snippets, "SCAN_FROM_CHARS", 10**9)
    full = set(snippets.find_matches(text, clauses))
    needles = snippets._needles(tuple(max(c, key=len) for c in clauses))
    holding = {m for m in full if any(n in text[m.start : m.end].lower().translate(snippets._FOLD_SAME_LENGTH) for n in needles)}
    assert holding <= scanned <= full
    assert len(holding) >= 0.9 * len(full)
