"""The Swedish lexicon: hunspell spelling and stems, clean-text frequencies, dictionary stems."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from protokollsok import lexicon
from protokollsok.errors import ProtokollsokError


@pytest.fixture(scope="module")
def lex() -> lexicon.Lexicon:
    if not lexicon.dictionary_path().exists():
        pytest.skip("hunspell-sv is not installed")
    return lexicon.get()


def test_get_returns_one_shared_lexicon(lex: lexicon.Lexicon) -> None:
    assert lexicon.get() is lex


@pytest.mark.parametrize(
    ("word", "lemma"),
    [
        ("brottsoffren", "brottsoffer"),
        ("bygglovet", "bygglov"),
        ("vittnet", "vittne"),
        ("våldet", "våld"),
        ("Stadsdelsnämnden", "stadsdelsnämnd"),
    ],
)
def test_lemmas_are_lower_case_hunspell_stems(lex: lexicon.Lexicon, word: str, lemma: str) -> None:
    assert lemma in lex.lemmas(word)
    assert all(s == s.lower() for s in lex.lemmas(word))


def test_lemmas_of_a_non_word_are_empty(lex: lexicon.Lexicon) -> None:
    assert lex.lemmas("stadsdelsndmnden") == ()


@pytest.mark.parametrize(
    "word", ["samverkansöverenskommelse", "Stockholms", "ÖVERENSKOMMELSE", "tystnadskultur"]
)
def test_real_words_are_words(lex: lexicon.Lexicon, word: str) -> None:
    assert lex.is_word(word)


@pytest.mark.parametrize("word", ["Stadsdelsndmnden", "6verenskommelsen", "tjdnsteutlatande", ""])
def test_ocr_damage_is_not_a_word(lex: lexicon.Lexicon, word: str) -> None:
    assert not lex.is_word(word)


def test_frequency_counts_clean_text_case_insensitively(lex: lexicon.Lexicon) -> None:
    assert lex.frequency("för") > 100 * lex.frequency("for")
    assert lex.frequency("Förslag") == lex.frequency("förslag") > 0
    assert lex.frequency("xqzxqz") == 0


def _only_compound_or_forbidden(dic: Path) -> set[str]:
    """Words whose every .dic entry carries Z (inside compounds only) or % (forbidden)."""
    flagged: set[str] = set()
    free: set[str] = set()
    lines = dic.read_text(encoding="utf-8", errors="replace").splitlines()[1:]
    for line in lines:
        word, _, flags = line.split(None, 1)[0].partition("/") if line.strip() else ("", "", "")
        (flagged if ("Z" in flags or "%" in flags) else free).add(word.lower())
    return flagged - free


def test_dictionary_words_leave_out_compound_only_and_forbidden_entries(
    lex: lexicon.Lexicon,
) -> None:
    words = set(lex.dictionary_words())
    excluded = _only_compound_or_forbidden(lex.dic)
    assert excluded, "the dictionary should have compound-only entries"
    assert not words & excluded
    assert {"våld", "vittne", "nämnd"} <= words
    assert all(w == w.lower() and "/" not in w for w in words)


def test_missing_dictionary_names_the_fix(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PROTOKOLLSOK_HUNSPELL", str(tmp_path / "sv_SE.dic"))
    lexicon.get.cache_clear()
    try:
        with pytest.raises(ProtokollsokError) as err:
            lexicon.get()
    finally:
        lexicon.get.cache_clear()
    assert "not found" in err.value.what
    assert "hunspell-sv" in (err.value.fix or "")


def test_default_dictionary_message_is_the_documented_one(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("PROTOKOLLSOK_HUNSPELL", raising=False)
    monkeypatch.setattr(lexicon, "DEFAULT_DIC", tmp_path / "missing" / "sv_SE.dic")
    lexicon.get.cache_clear()
    try:
        with pytest.raises(ProtokollsokError, match="PROTOKOLLSOK_HUNSPELL"):
            lexicon.get()
    finally:
        lexicon.get.cache_clear()


def test_bundled_frequency_list_is_small_lower_case_and_sorted() -> None:
    path = lexicon.WORDFREQ
    assert path.stat().st_size < 1_500_000
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        rows = [line.rstrip("\n").split("\t") for line in fh]
    counts = [int(n) for _, n in rows]
    assert len(rows) > 10_000
    assert all(w == w.lower() and w.isalpha() for w, _ in rows)
    assert min(counts) >= 3
    assert counts == sorted(counts, reverse=True)


def test_load_frequencies_of_an_absent_file_is_empty(tmp_path: Path) -> None:
    assert lexicon.load_frequencies(tmp_path / "none.tsv.gz") == {}
