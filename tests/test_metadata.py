"""metadata: diarienummer, nämnd, datum, parties and doctype, in canonical form."""

from __future__ import annotations

from pathlib import Path

import pytest

from protokollsok import metadata, pipeline
from protokollsok.metadata import (
    canonical_body,
    canonical_prefix,
    document_datum,
    document_namnd,
    extract,
    file_name_date,
    find_dnr,
    find_parties,
    iso_date,
)
from protokollsok.model import Document, Unit
from protokollsok.segment import split

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def doc(text: str, **meta: str) -> Document:
    return Document(path="d.txt", sha256="0", format="txt", text=text, meta=dict(meta))


def described(text: str, **meta: str) -> list[Unit]:
    d = doc(text, **meta)
    return extract(d, split(d))


# --- dnr -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dnr"),
    [
        ("Remiss från kommunstyrelsen KS 2023/740", "KS 2023/740"),
        ("Dnr SÖD 2023/713", "SÖD 2023/713"),
        ("Dnr EÅV 2019/274", "EÅV 2019/274"),
        ("Dnr 1.7.1-266/2019", "1.7.1-266/2019"),
        ("Bun/2024:73 679", "Bun/2024:73"),
        ("§ 233 Ärendenummer SLK-2025-00338", "SLK-2025-00338"),
        ("§ 3 Ärendenummer SLK-2023-00226:3", "SLK-2023-00226:3"),
        ("§ 10 0901/22\nRiksnorm", "0901/22"),
        ("Diarienummer 1339/22", "1339/22"),
        ("§ 389 Ärendenummer SLK:16342", "SLK:16342"),
    ],
)
def test_every_diarienummer_form_is_found_in_canonical_form(text: str, dnr: str) -> None:
    assert find_dnr(text) == (dnr,)


def test_ocr_damaged_prefixes_get_their_swedish_letters_back() -> None:
    assert find_dnr("SOD 2023/713") == ("SÖD 2023/713",)
    assert find_dnr("S0D 2023/713") == ("SÖD 2023/713",)
    assert find_dnr("EAV 2019/274") == ("EÅV 2019/274",)


def test_a_prefix_is_restored_from_the_documents_own_namnd() -> None:
    assert canonical_prefix("OST", "Östermalms stadsdelsnämnd") == "ÖST"
    assert canonical_prefix("OST", None) == "OST"


def test_document_numbers_within_an_arende_reduce_to_the_arende_dnr() -> None:
    text = "e SOD 2023/713-2 Tjänsteutlåtande\ne SOD 2023/713-1.3 KS 2023/740 Bilaga 2"
    assert find_dnr(text) == ("SÖD 2023/713", "KS 2023/740")


def test_a_bare_short_number_in_running_text_is_not_a_dnr() -> None:
    assert find_dnr("Handling 2023 nr 10, se sidan 1339/22 i rapporten") == ()


# --- nämnd -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "body"),
    [
        ("Socialnämndens", "Socialnämnden"),
        ("Socialnämnden", "Socialnämnden"),
        ("Sodermalms stadsdelsnamnd", "Södermalms stadsdelsnämnd"),
        ("Stadsdelsndmnden", "Stadsdelsnämnden"),
        ("Enskede-Årsta-Vantörs stadsdelsnämnd", "Enskede-Årsta-Vantörs stadsdelsnämnd"),
        ("Järva stadsdelsnämnd", "Järva stadsdelsnämnd"),
        ("Barn- och utbildningsnämnden", "Barn- och utbildningsnämnden"),
        ("Kommunfullmäktiges", "Kommunfullmäktige"),
        ("Kommunstyrelsen", "Kommunstyrelsen"),
        ("Stadsledningskontoret", None),
        ("Nämnden för Intraservice", "Nämnden för Intraservice"),
        (
            "Nämnden för demokrati och medborgarservice",
            "Nämnden för demokrati och medborgarservice",
        ),
        ("Socialnämnd Sydväst", "Socialnämnd Sydväst"),
        ("Socialnämnd", None),
        ("Nämnden", None),
    ],
)
def test_bodies_are_named_canonically(text: str, body: str | None) -> None:
    assert canonical_body(text) == body


def test_front_matter_names_the_namnd() -> None:
    assert document_namnd(doc("§ 1\nText\n", namnd="Barn- och utbildningsnämnden")) == (
        "Barn- och utbildningsnämnden"
    )


def test_the_addressee_of_a_tjansteutlatande_is_its_namnd() -> None:
    text = "Till\nJärva stadsdelsnämnd\n2023-10-26\n\nRemitterat till socialnämnden.\n"
    assert document_namnd(doc(text)) == "Järva stadsdelsnämnd"


def test_a_decision_heading_names_the_namnd() -> None:
    assert document_namnd(doc("§ 9 Remiss\n\nSocialnämndens beslut\n\nText.\n")) == "Socialnämnden"


def test_a_generic_stadsdelsnamnd_is_made_specific_from_the_forvaltning() -> None:
    text = (
        "§ 23\nRemiss\n\nStadsdelsnämndens beslut\n\nArbetet på Södermalms stadsdelsförvaltning.\n"
    )
    assert document_namnd(doc(text)) == "Södermalms stadsdelsnämnd"


def test_running_heads_outweigh_recipients() -> None:
    page = "Kommunfullmäktige\n\nProtokoll (nr 1)\n\n"
    text = page + "§ 1\nVal\n\nProtokollsutdrag skickas till\nKommunstyrelsen\n\n" + page * 2
    assert document_namnd(doc(text)) == "Kommunfullmäktige"


def test_a_file_naming_no_body_has_no_namnd() -> None:
    assert document_namnd(doc("Riktlinje för kost\n\nMåltider ska vara goda.\n")) is None


# --- datum -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("2023-10-19", "2023-10-19"),
        ("19 oktober 2023", "2023-10-19"),
        ("1 mars 2016", "2016-03-01"),
    ],
)
def test_iso_and_long_swedish_dates_are_read(text: str, iso: str) -> None:
    assert iso_date(text) == iso


def test_a_labelled_meeting_date_is_the_datum() -> None:
    assert document_datum(doc("Protokoll (nr 1)\nSammanträdesdatum: 2023-01-26\n")) == "2023-01-26"


def test_a_date_beside_the_namnd_in_a_letterhead_is_the_datum() -> None:
    text = "Till\nSödermalms stadsdelsnämnd\n19 oktober 2023\n\nText.\n"
    assert document_datum(doc(text)) == "2023-10-19"


def test_a_whole_date_in_the_file_name_is_the_datum_when_the_text_states_none() -> None:
    text = "§ 1\nVal av justerare\n\nKommunstyrelsen beslutar att utse Anna (S).\n"
    assert document_datum(Document("arkiv/ks-2024-02-28.txt", "0", "txt", text)) == "2024-02-28"
    assert document_datum(Document("protokoll_20240228.pdf", "0", "pdf", text)) == "2024-02-28"
    labelled = "Sammanträdesdatum: 2024-03-01\n" + text
    assert document_datum(Document("ks-2024-02-28.txt", "0", "txt", labelled)) == "2024-03-01"  # the text first


@pytest.mark.parametrize(
    "name",
    [
        "2024/ks-protokoll.txt",  # a folder's year is not the meeting's date
        "ks-2024-02.txt",  # no day
        "ks-2023-02-30.txt",  # no such day
        "ks-2024-02-28-och-2024-03-01.txt",  # two dates: which one?
        "dnr-120240228.txt",  # digits around it: a number, not a date
        "2024-02-28/protokoll.txt",  # the folder, not the file
    ],
)
def test_a_file_name_without_exactly_one_whole_date_gives_none(name: str) -> None:
    assert file_name_date(name) is None


def test_dates_in_running_text_are_never_a_guess() -> None:
    text = (
        "§ 13\nRemiss\n\nFörvaltningen hade redovisat ärendet i ett tjänsteutlåtande\n"
        "daterat den 7 augusti 2019. Svar senast 27 oktober 2019.\n"
    )
    assert [u.meta.datum for u in described(text)] == [None]


def test_front_matter_gives_the_datum() -> None:
    assert document_datum(doc("§ 1\nText\n", datum="2016-05-17")) == "2016-05-17"


def test_a_units_own_meeting_date_wins_over_the_documents() -> None:
    text = (
        "§ 1\nVal\n\nSammanträdesdatum: 2023-01-26\n\n"
        + "Text.\n" * 10
        + "\nKommunfullmäktige\nProtokoll\nSammanträdesdatum: 2023-02-23\n\n§ 2\nVal\n\nText.\n"
    )
    assert [u.meta.datum for u in described(text)] == ["2023-01-26", "2023-02-23"]


def test_the_page_head_above_a_paragraf_names_its_body_and_date() -> None:
    text = (
        "Protokollsutdrag\nSammanträdesdatum: 2025-04-07\nGöteborgs Stads grundskolenämnd\n"
        "§ 42 Ärendenummer GSF-2025-01221\nYttrande\nBeslut\n\nText.\n\n"
        + "Text.\n" * 10
        + "\nProtokollsutdrag\nSammanträdesdatum: 2026-04-08\n\nNämnden för funktionsstöd\n\n"
        "§ 64 Ärendenummer FFS-2026-00773\nGranskning\nBeslut\n\nText.\n"
    )
    units = described(text)
    assert [(u.meta.namnd, u.meta.datum) for u in units] == [
        ("Grundskolenämnden", "2025-04-07"),
        ("Nämnden för funktionsstöd", "2026-04-08"),
    ]


# --- parti -----------------------------------------------------------------------------------


def test_parties_in_parentheses_are_affiliations() -> None:
    text = (
        "Ordföranden Jan Ek (L), Ola Berg m.fl. (M)\nAnna Ek m.fl.(V) och ersättaren Lisa Palm (Fi)"
    )
    assert find_parties(text) == ("Fi", "L", "M", "V")


def test_party_lists_and_party_names_are_affiliations() -> None:
    assert find_parties("Yrkande från M, D, L och KD den 25 januari.") == ("D", "KD", "L", "M")
    assert find_parties("Kristdemokraterna reserverar sig.") == ("KD",)
    assert find_parties("Socialdemokraternas och Vänsterpartiets uttalande") == ("S", "V")


@pytest.mark.parametrize(
    "text",
    [
        "Remiss från kommunstyrelsen KS 2023/740",
        "se bilaga (A) och punkt (b)",
        "SD-kort och S:t Eriksgatan",
        "Socialdemokratiska principer och demokratiska värden",
        "Dnr SÖD 2023/713 och 1.7.1-266/2019",
    ],
)
def test_words_that_only_look_like_parties_are_not(text: str) -> None:
    assert find_parties(text) == ()


# --- carry-over and doctype ----------------------------------------------------------------


def test_document_facts_carry_over_to_every_unit_and_a_bilaga_keeps_its_paragrafs_dnr() -> None:
    text = (
        "§ 23\nRemiss\nRemiss från kommunstyrelsen KS 2023/740\n\nSOD 2023/713\n\n"
        "Stadsdelsnämnden överlämnar tjänsteutlåtandet.\nAnna Ek (S) och Olle Berg (C).\n\n\n\n"
        "2023-10-19\nSödermalms stadsdelsnämnd\n\nRemiss\n\nÄrende 23\n\nOlle Berg (C)\n"
    )
    para, bilaga = described(text)
    assert para.meta.dnr == ("KS 2023/740", "SÖD 2023/713")
    assert set(bilaga.meta.dnr) == {"KS 2023/740", "SÖD 2023/713"}
    assert para.meta.namnd == bilaga.meta.namnd == "Södermalms stadsdelsnämnd"
    assert para.meta.datum == bilaga.meta.datum == "2023-10-19"
    assert (para.meta.parti, bilaga.meta.parti) == (("C", "S"), ("C",))
    assert para.meta.doctype == "protokollsutdrag"


def test_the_front_page_dnr_of_a_full_protokoll_stay_with_their_own_paragrafer() -> None:
    text = (
        "Innehåll\n§ 1 Budget Bun/2024:1\n§ 2 Skolval Bun/2024:2\n\n"
        "§ 1\nBudget\nBun/2024:1 041\n\nText.\n\n§ 2\nSkolval\nBun/2024:2 600\n\nText.\n"
    )
    assert [u.meta.dnr for u in described(text)] == [("Bun/2024:1",), ("Bun/2024:2",)]
    assert described(text)[0].meta.doctype == "protokoll"


def test_a_tjansteutlatande_is_typed_from_its_text() -> None:
    text = "Tjänsteutlåtande\nDnr SÖD 2023/713\n\nFörvaltningens förslag till beslut\n"
    [unit] = described(text)
    assert unit.meta.doctype == "tjänsteutlåtande"
    assert unit.meta.dnr == ("SÖD 2023/713",)


# --- golden: bundled corpus ------------------------------------------------------------------


def _corpus_units(name: str) -> dict[str, Unit]:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus/{name} is absent")
    return {u.id: u for u in pipeline.units_of(path, source=name)[1]}


def test_jonkoping_units_carry_front_matter_and_their_own_dnr() -> None:
    name = "barn-och-utbildningsnamnden-2024-03-19.md"
    units = _corpus_units(name)
    for unit in units.values():
        assert unit.meta.namnd == "Barn- och utbildningsnämnden"
        assert unit.meta.datum == "2024-03-19"
    assert units[f"{name}#§33"].meta.dnr == ("Bun/2024:73",)
    assert units[f"{name}#§26"].meta.dnr == ()
    assert units[f"{name}#§36"].meta.parti == ("KD", "L", "S")


def test_goteborg_units_carry_the_meeting_date_body_and_short_dnr() -> None:
    name = "goteborg-kf-2023-01-26.txt"
    units = _corpus_units(name)
    assert {u.meta.namnd for u in units.values()} == {"Kommunfullmäktige"}
    assert {u.meta.datum for u in units.values()} == {"2023-01-26"}
    assert units[f"{name}#§10"].meta.dnr == ("0901/22",)
    assert units[f"{name}#§6"].meta.parti == ("SD",)
    assert "D" in units[f"{name}#§37"].meta.parti  # Demokraterna, Göteborg's local party


def test_module_lists_every_party_code_once() -> None:
    assert len(set(metadata.PARTY_CODES)) == len(metadata.PARTY_CODES) == 10


@pytest.mark.parametrize(
    ("text", "doctype"),
    [
        ("Rapportsammandrag\nStadsrevisionen\n\nGranskning av fordon\n", "rapportsammandrag"),
        ("Nämnden för Intraservice\n\nDelårsrapport mars 2026\n", "delårsrapport"),
        ("Riktlinjer för handläggning enligt socialtjänstlagen\n", "riktlinje"),
        ("Måltider\n\nVi lagar mat och rutinerna följs.\n", None),
    ],
)
def test_other_documents_are_typed_by_the_first_word_of_a_heading(text: str, doctype) -> None:
    [unit] = described(text)
    assert unit.meta.doctype == doctype


def test_a_letterhead_date_on_the_first_line_is_found() -> None:
    assert document_datum(doc("2023-10-19\nSödermalms stadsdelsnämnd\n\nRemiss\n")) == "2023-10-19"
