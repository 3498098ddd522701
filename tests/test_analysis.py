"""The Swedish analysis chain, token by token (shared by indexing, querying and the web page)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protokollsok import analysis, compound


def words(text: str) -> list[str]:
    return [t.word for t in analysis.tokenize(text)]


def test_tokens_are_lower_cased_words_with_offsets():
    text = "Stadsdelsnämnden beslutar"
    toks = list(analysis.tokenize(text))
    assert [t.word for t in toks] == ["stadsdelsnämnden", "beslutar"]
    assert [text[t.start : t.end] for t in toks] == ["Stadsdelsnämnden", "beslutar"]
    assert [t.pos for t in toks] == [0, 1]


@pytest.mark.parametrize("dnr", ["SLK-2025-00338", "1.7.1-266/2019", "Bun/2024:73", "2023/740", "2023-10-19"])
def test_diarienummer_and_dates_stay_whole(dnr):
    assert words(f"dnr {dnr} gäller") == ["dnr", dnr.lower(), "gäller"]


def test_a_hyphenated_name_yields_its_parts():
    assert words("Enskede-Årsta-Vantörs stadsdelsnämnd") == ["enskede", "årsta", "vantörs", "stadsdelsnämnd"]


@given(st.text(alphabet="abcåäöÅÄÖé-/.:_ 12\n"))
def test_the_set_of_words_is_that_of_the_tokens(text):
    assert analysis.word_set(text) == set(words(text))


def test_the_set_of_words_splits_hyphenated_names_and_keeps_diarienummer_whole():
    assert analysis.word_set("Enskede-Årsta, KS-2023/740 och ÅRSTA") == {"enskede", "årsta", "ks-2023/740", "och"}


@pytest.mark.parametrize(
    ("inflected", "base"),
    [("brottsoffren", "brottsoffer"), ("våldet", "våld"), ("vittnet", "vittne"), ("bygglovet", "bygglov")],
)
def test_definite_and_plural_forms_meet_their_base_form(inflected, base):
    assert set(analysis.forms(inflected).stem) & set(analysis.forms(base).stem)


def test_exact_form_is_kept_beside_the_stem():
    f = analysis.forms("vittnen")
    assert f.exact == ("vittnen",) and "vittnen" not in f.stem


def test_folding_removes_swedish_diacritics_for_recall():
    assert analysis.fold("nämndens övergripande åtgärder") == "namndens overgripande atgarder"
    assert analysis.forms("våld").fold == analysis.forms("vald", "snowball+lemma+fold").stem[:1]


@pytest.mark.parametrize(
    ("word", "parts"),
    [
        ("våldsutövare", ("våld", "utövare")),
        ("hedersförtryck", ("heder", "förtryck")),
        ("äldreomsorg", ("äldre", "omsorg")),
        ("våldsdåd", ("våld", "dåd")),
    ],
)
def test_compounds_split_into_dictionary_parts(word, parts):
    assert compound.split(word) == parts


@pytest.mark.parametrize("word", ["vittnen", "relationer", "kommun", "förtryck"])
def test_ordinary_words_are_not_split(word):
    assert compound.split(word) == ()


def test_compound_parts_are_indexed_as_stems():
    assert "våld" in analysis.forms("våldsutövare").parts


@pytest.mark.parametrize("name", analysis.CHAINS)
def test_every_chain_fills_its_fields(name):
    terms = {f: [t for _, t, _, _ in analysis.analyse("Våldsutövare i nära relationer", f, name)] for f in analysis.chain(name).fields}
    assert all(terms[f] or f == "parts" for f in terms)


def test_an_unknown_chain_names_the_choices():
    with pytest.raises(ValueError, match="full"):
        analysis.chain("bogus")


@pytest.mark.parametrize(("chain_name", "field"), [
    (name, field) for name in analysis.CHAINS for field in analysis.chain(name).indexed_fields
])
def test_a_texts_terms_gather_what_analyse_gives(chain_name, field) -> None:
    text = ("Socialnämnden beslutar att återremittera ärendet om våld i nära relationer. "
            "Barn- och ungdomsnämnden; dnr SN 2024/0123; barnen, barnens och barn i förskolan.")
    positions: dict[str, list[int]] = {}
    for pos, term, _, _ in analysis.analyse(text, field, chain_name):
        positions.setdefault(term, []).append(pos)
    assert analysis.terms(text, field, chain_name) == positions
    assert analysis.terms(text, field, chain_name, positions=False) == {t: len(p) for t, p in positions.items()}
    assert positions
