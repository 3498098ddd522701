"""segment.split: where a § or a bilaga begins, what a unit is called, and where it lies."""

from __future__ import annotations

import json
import re
from itertools import pairwise
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protokollsok import pipeline
from protokollsok.model import Document, Segment
from protokollsok.segment import split

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


def doc(text: str, path: str = "prot.txt", page_starts: tuple[int, ...] = ()) -> Document:
    return Document(path=path, sha256="0", format="txt", text=text, page_starts=page_starts)


def units(text: str, **kw) -> list[Segment]:
    return split(doc(text, **kw))


def numbers(text: str) -> list[int | None]:
    return [s.paragraf for s in units(text) if s.kind == "paragraf"]


# --- § headings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "heading",
    [
        "§ 23",
        " § 23 ",
        "§23",
        "## **§ 23**",
        "**§ 23**",
        "- § 23",
        "§ 23 Budget 2024",
        "§ 23 0901/22",
    ],
)
def test_a_line_starting_with_a_numbered_paragraph_sign_opens_a_paragraf(heading: str) -> None:
    text = f"{heading}\nBudget 2024\n\nBeslut\n\nNämnden beslutar.\n"
    [seg] = units(text)
    assert (seg.kind, seg.paragraf, seg.id) == ("paragraf", 23, "prot.txt#§23")


def test_each_heading_starts_a_new_paragraf_in_text_order() -> None:
    text = "§ 1\nUpprop\n\nText.\n\n§ 2\nJustering\n\nText.\n\n§ 3\nBudget\n\nText.\n"
    assert numbers(text) == [1, 2, 3]


def test_a_paragraph_sign_glued_to_letters_is_ocr_damage_not_a_paragraf() -> None:
    text = "§ 4\nRemiss\n\n§vergripande mål med samverkan.\nDet §vergripande målet är trygghet.\n"
    assert numbers(text) == [4]


def test_a_reference_inside_running_text_is_not_a_paragraf() -> None:
    text = "§ 4\nRemiss\n\nÄrendet behandlas enligt § 5 i arbetsordningen.\n"
    assert numbers(text) == [4]


def test_a_reference_broken_onto_a_new_line_is_not_a_paragraf() -> None:
    text = (
        "§ 17\nKlimatanpassning\n\n"
        "Under behandling av ärendet ajournerar ordföranden mötet i enlighet med\n"
        "§ 21 i kommunfullmäktiges arbetsordning.\n\n§ 18\nHemtjänst\n\nText.\n"
    )
    assert numbers(text) == [17, 18]


def test_a_heading_after_a_line_that_runs_on_is_a_reference() -> None:
    text = "§ 3\nVal\n\nBeslutet fattades enligt\n§ 7 Kommunallagen gäller.\n"
    assert numbers(text) == [3]


def test_a_heading_right_after_page_labels_is_a_heading() -> None:
    text = "Text.\n\nJusterandes sign\nUtdragsbestyrkande\n§ 26\nRapporter\n\nText.\n"
    assert numbers(text) == [26]


def test_ranges_tables_and_continuations_are_not_headings() -> None:
    text = (
        "Paragrafer § 52 -§ 59\n|§ 52|Informationsärenden|4|\n§§ 26-29\n\n"
        "§ 52\nInformationsärenden\n\nText.\n\nForts § 52\n\nMer text.\n"
    )
    assert numbers(text) == [52]


def test_a_repeated_number_gets_a_suffix() -> None:
    text = "§ 5\nA\n\nText.\n\n§ 6\nB\n\nText.\n\n§ 5\nC\n\nText.\n\n§ 6\nD\n\nText.\n"
    assert [s.id for s in units(text)] == [
        "prot.txt#§5",
        "prot.txt#§6",
        "prot.txt#§5.2",
        "prot.txt#§6.2",
    ]


def test_a_number_printed_again_on_a_continued_page_does_not_start_a_new_paragraf() -> None:
    text = (
        "§ 29 0128/22\nRedovisning av uppdrag\nBeslut\n\nText.\n\n3 (9)\n\n"
        "§ 29 0128/22\nProtokollsutdrag skickas till\nStadens nämnder\n"
    )
    [seg] = units(text)
    assert seg.title == "Redovisning av uppdrag" and seg.text.endswith("Stadens nämnder")


# --- titles --------------------------------------------------------------------------------------


def test_the_title_is_the_text_after_the_number() -> None:
    [seg] = units("§ 9**Övergripande samverkan**\n\nText.\n")
    assert seg.title == "Övergripande samverkan"


def test_the_title_is_the_next_line_when_the_heading_holds_only_the_number_and_dnr() -> None:
    [seg] = units("§ 979 Ärendenummer SLK-2025-00019\nVal av tjänstgörande ordförande\nBeslut\n")
    assert seg.title == "Val av tjänstgörande ordförande"


def test_a_title_broken_over_lines_is_joined_until_a_section_word() -> None:
    text = "§ 21 0594/22\nRevidering av reglemente för arkivnämnden för Västra\nGötalandsregionen\nBeslut\n"
    assert (
        units(text)[0].title
        == "Revidering av reglemente för arkivnämnden för Västra Götalandsregionen"
    )


def test_a_title_broken_over_lines_is_joined_at_a_run_on_word() -> None:
    text = (
        "§3\nStadsrevisionens rapportsammandrag: Granskning av\n"
        "måluppfyllelse för elever med intellektuell\nfunktionsnedsättning\nBeslut\n\nText.\n"
    )
    [seg] = units(text)
    assert seg.title == (
        "Stadsrevisionens rapportsammandrag: Granskning av måluppfyllelse för elever med "
        "intellektuell funktionsnedsättning"
    )


def test_a_name_broken_over_the_title_lines_is_joined() -> None:
    text = (
        "§6\nAnmälan av länsstyrelsens beslut att utse Anna Silvén (SD)\n"
        "till ny ersättare i kommunfullmäktige i stället för Rebecka\nRapp (SD)\n"
        "Länsstyrelsen har den 31 januari 2023 beslutat.\n"
    )
    assert units(text)[0].title.endswith("i stället för Rebecka Rapp (SD)")


def test_running_heads_and_page_numbers_do_not_title_a_paragraf() -> None:
    page = "Göteborgs Stad Kommunfullmäktige, protokoll\n\n{n} (9)\n\nKommunfullmäktige\n\n"
    text = (
        page.format(n=1)
        + "§ 1\nUpprop\nText.\n\n"
        + page.format(n=2)
        + "§ 2\n\n"
        + page.format(n=3)
        + "Val av revisorer\nText.\n\n"
        + page.format(n=4)
    )
    segs = units(text)
    assert [s.title for s in segs] == ["Upprop", "Val av revisorer"]


def test_a_unit_ends_before_the_running_head_of_the_next_page() -> None:
    page = "Göteborgs Stad Kommunfullmäktige, protokoll\n\n{n} (9)\n\nKommunfullmäktige\n\n"
    text = "".join(
        page.format(n=n) + f"§ {n}\nVal nummer {n}\nBeslut\n\nValet förrättas.\n\n"
        for n in (1, 2, 3)
    )
    segs = units(text)
    assert [s.text.splitlines()[-1] for s in segs] == ["Valet förrättas."] * 3


def test_running_heads_do_not_split_a_paragraf() -> None:
    page = "Kommunfullmäktige\nProtokoll (nr 1)\nSammanträdesdatum: 2023-01-26\n\n"
    text = "§ 1\nUpprop\n\n" + (page + "Text.\n\n") * 4
    assert len(units(text)) == 1


# --- dokument and front pages ----------------------------------------------------------------


def test_a_file_without_paragraphs_is_one_dokument_titled_by_its_arende() -> None:
    text = (
        "Handläggare\nLisa Berg\nTelefon: 08-123\n\nTill\nJärva stadsdelsnämnd\n2023-10-26\n\n"
        "Övergripande samverkansöverenskommelse mellan\nStockholms stad och polisen\n\n"
        "Förvaltningens förslag till beslut\n\nNämnden godkänner.\n"
    )
    [seg] = units(text)
    assert (seg.kind, seg.paragraf, seg.id) == ("dokument", None, "prot.txt#dokument")
    assert seg.title == "Övergripande samverkansöverenskommelse mellan Stockholms stad och polisen"
    assert seg.lines == (1, 14)


def test_a_dokument_title_skips_running_heads_with_page_numbers_and_addressees() -> None:
    page = "Stadsrevisionen, Rapportsammandrag {n} (3)\n\nText om fordon.\n\n"
    text = "Göteborgs Stad kommunfullmäktige 1 (3)\nAnvändning av verksamhetsfordon\n\n" + "".join(
        page.format(n=n) for n in (1, 2, 3)
    )
    [seg] = units(text)
    assert seg.title == "Användning av verksamhetsfordon"


def test_a_stated_title_shown_in_the_text_names_the_dokument() -> None:
    text = "Rapportsammandrag\nStadsrevisionen\n\nAnvändning av\nverksamhetsfordon samt drivmedel\n"
    d = Document(
        path="r.pdf",
        sha256="0",
        format="pdf",
        text=text,
        meta={"title": "Användning av verksamhetsfordon samt drivmedel"},
    )
    assert split(d)[0].title == "Användning av verksamhetsfordon samt drivmedel"
    d2 = Document(path="r.pdf", sha256="0", format="pdf", text=text, meta={"title": "Dok1"})
    assert split(d2)[0].title != "Dok1"


def test_front_pages_before_the_first_paragraf_belong_to_no_unit() -> None:
    text = "Beslutande\nAnna Berg (S)\n\nJustering\nOlle Ek\n\n§ 1\nUpprop\n\nText.\n"
    [seg] = units(text)
    assert seg.text.startswith("§ 1") and "Justering" not in seg.text


# --- bilagor ---------------------------------------------------------------------------------


def test_a_bilaga_heading_starts_a_bilaga_of_the_paragraf_before_it() -> None:
    text = "§ 41\nVal\n\nText.\n\nBilaga 1\nOmröstning\nJa 40\n\nBilaga 2\nOmröstning\nNej 3\n"
    segs = units(text)
    assert [(s.id, s.kind, s.paragraf) for s in segs] == [
        ("prot.txt#§41", "paragraf", 41),
        ("prot.txt#bilaga1", "bilaga", 41),
        ("prot.txt#bilaga2", "bilaga", 41),
    ]
    assert "Omröstning" not in segs[0].text


def test_a_bilaga_is_titled_by_its_label_and_the_heading_under_it() -> None:
    text = "§ 3\nRutin\n\nText.\n\nBilaga 1\n\nLyft från golv vid fall\nGör en bedömning.\n"
    assert units(text)[1].title == "Bilaga 1 – Lyft från golv vid fall"
    assert units("§ 3\nRutin\n\nText.\n\nBilaga 2\nPlats\n\nLedamot\n")[1].title == "Bilaga 2"


def test_a_list_of_attachment_names_is_not_a_bilaga() -> None:
    text = (
        "Tjänsteutlåtande om budget för nämnden\n\nText.\n\nBilagor\n\n"
        "1. Samverkansöverenskommelse.\n2. Prioriterade områden.\n"
        "Bilaga 3 – Lövet 3, föreslagna ytor, daterat 2024-02-21\n"
    )
    assert [s.kind for s in units(text)] == ["dokument"]


def test_a_bilaga_named_in_running_text_is_not_a_bilaga() -> None:
    text = "§ 5\nVal\n\nTill suppleanter utses de personer som anges i\nBilaga J.\n"
    assert [s.kind for s in units(text)] == ["paragraf"]


def test_a_party_document_headed_with_the_arende_number_is_a_bilaga_of_that_paragraf() -> None:
    text = (
        "§ 23\nRemiss om trygghet\n\nBeslut\nNämnden beslutar enligt förslaget.\n"
        "Reservation (Bilaga).\n\n\n\n"
        "2023-10-19\nSödermalms stadsdelsnämnd\n\nRemiss om trygghet\n\nÄrende 23\n\n"
        "Lars Berg (C)\n\nFörslag till beslut\nAtt vittnen skyddas.\n"
    )
    para, bilaga = units(text)
    assert (bilaga.kind, bilaga.paragraf, bilaga.id) == ("bilaga", 23, "prot.txt#bilaga1")
    assert bilaga.text.startswith("2023-10-19") and "vittnen" in bilaga.text
    assert "vittnen" not in para.text
    assert bilaga.title == "Remiss om trygghet"


def test_an_arende_line_with_another_number_is_not_a_bilaga() -> None:
    text = "§ 23\nRemiss\n\nText.\n\n\n\nÄrende 24\n\nLars Berg (C)\n"
    assert [s.kind for s in units(text)] == ["paragraf"]


# --- spans -------------------------------------------------------------------------------------


def test_spans_lines_and_pages_point_into_the_text() -> None:
    text = "Framsida\n\n§ 1\nUpprop\nText.\n\n§ 2\nVal\nMer text.\n"
    page_two = text.index("§ 2")
    segs = units(text, page_starts=(0, page_two))
    for seg in segs:
        assert text[seg.start : seg.end] == seg.text
    assert [s.lines for s in segs] == [(3, 5), (7, 9)]
    assert [s.pages for s in segs] == [(1, 1), (2, 2)]


def test_units_do_not_overlap_and_keep_text_order() -> None:
    text = "§ 1\nA\n\nText.\n\nBilaga 1\nB\n\n§ 2\nC\n\nText.\n"
    segs = units(text)
    assert all(a.end <= b.start for a, b in pairwise(segs))
    assert [s.kind for s in segs] == ["paragraf", "bilaga", "paragraf"]


def test_ids_are_stable_across_runs() -> None:
    text = "§ 1\nA\n\nText.\n\n§ 2\nB\n"
    assert [s.id for s in units(text)] == [s.id for s in units(text)]


# --- golden: bundled corpus ------------------------------------------------------------------


def _corpus_units(name: str) -> list[Segment]:
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus/{name} is absent")
    return [u.segment for u in pipeline.units_of(path, source=name)[1]]


def test_jonkoping_2024_yields_paragrafer_26_to_42_by_their_headings() -> None:
    segs = _corpus_units("barn-och-utbildningsnamnden-2024-03-19.md")
    assert [s.paragraf for s in segs] == list(range(26, 43))
    assert all(s.kind == "paragraf" for s in segs)
    titles = {s.paragraf: s.title for s in segs}
    assert titles[26] == "Rapporter från kurser/konferenser/möten/ besök"
    assert titles[33] == "Utseende av skolchef"
    assert (
        titles[39] == "Uppföljande granskning av likvärdig skola - insatser för stöd och stimulans"
    )
    assert titles[42] == "Övrigt"


def test_jonkoping_2016_yields_paragrafer_52_to_59_with_continued_pages_kept_together() -> None:
    segs = _corpus_units("barn-och-utbildningsnamnden-2016-05-17.md")
    assert [s.paragraf for s in segs] == list(range(52, 60))
    assert "Kränkande behandling" in segs[0].text  # printed on the page headed "Forts § 52"
    assert segs[3].title == "Ansökan om godkännande som huvudman för förskola"
    assert segs[6].title == (  # a heading the converter split in two, with a blank line between
        "Barn- och utbildningsnämnden 2015-2018, representation i organ och utskott"
    )


@pytest.mark.parametrize(
    "name",
    [
        "barn-och-utbildningsnamnden-2024-03-19.md",
        "barn-och-utbildningsnamnden-2016-05-17.md",
        "goteborg-kf-2023-01-26.txt",
    ],
)
def test_the_same_protokoll_without_blank_lines_and_markup_splits_the_same(name: str) -> None:
    """PDF text often has no blank lines and no markup: the §§ and titles must not depend on them."""
    path = CORPUS / name
    if not path.is_file():
        pytest.skip(f"corpus/{name} is absent")
    cleaned, got = pipeline.units_of(path, source=name)
    dense = "\n".join(ln for ln in re.sub(r"[*#]", "", cleaned.text).split("\n") if ln.strip())
    again = split(doc(dense, path=name))
    assert [(s.paragraf, s.title) for s in again if s.kind == "paragraf"] == [
        (u.segment.paragraf, u.segment.title) for u in got if u.segment.kind == "paragraf"
    ]


def test_goteborg_kf_yields_paragrafer_1_to_41_and_its_vote_lists_as_bilagor() -> None:
    segs = _corpus_units("goteborg-kf-2023-01-26.txt")
    paragrafer = [s for s in segs if s.kind == "paragraf"]
    assert [s.paragraf for s in paragrafer] == list(range(1, 42))
    assert all(s.paragraf == 41 for s in segs if s.kind == "bilaga")
    titles = {s.paragraf: s.title for s in paragrafer}
    assert titles[1] == "Bestämmande av tid för justering"
    assert titles[10] == "Riksnorm ekonomiskt bistånd och riktmärken för boendekostnader för 2023"
    assert not any("Kommunfullmäktige, protokoll" in t or "(74)" in t for t in titles.values())


# --- invariants ------------------------------------------------------------------------------

_LINES = st.sampled_from(
    [
        "",
        "",
        "§ 1",
        "§ 2 Budget",
        "§3",
        "## **§ 4**",
        "§ 21 i arbetsordningen.",
        "Bilaga 1",
        "Bilagor",
        "1. Karta.",
        "Ärende 2",
        "Beslut",
        "Nämnden beslutar enligt",
        "förslaget (S) och (M).",
        "Göteborgs Stad Kommunfullmäktige, protokoll",
        "3 (74)",
        "2023-10-19",
        "Södermalms stadsdelsnämnd",
        "§vergripande mål",
    ]
)


@given(st.lists(_LINES, max_size=40))
@settings(max_examples=100, deadline=None)
def test_split_never_raises_and_units_are_ordered_disjoint_slices(lines: list[str]) -> None:
    text = "\n".join(lines)
    segs = units(text)
    for seg in segs:
        assert text[seg.start : seg.end] == seg.text
        assert seg.lines == (
            text.count("\n", 0, seg.start) + 1,
            text.count("\n", 0, max(seg.start, seg.end - 1)) + 1,
        )
    assert all(a.end <= b.start for a, b in pairwise(segs))
    assert len({s.id for s in segs}) == len(segs)
    assert bool(segs) == bool(text.strip())


# --- golden: small real excerpts (tests/data/segment) --------------------------------------

DATA = Path(__file__).resolve().parent / "data" / "segment"
GOLDEN = json.loads((DATA / "golden.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", sorted(GOLDEN))
def test_real_excerpts_yield_their_golden_units(name: str) -> None:
    _, got = pipeline.units_of(DATA / name, source=name)
    assert [
        {
            "id": u.id,
            "kind": u.segment.kind,
            "paragraf": u.segment.paragraf,
            "title": u.segment.title,
            "lines": list(u.segment.lines),
            "dnr": list(u.meta.dnr),
            "datum": u.meta.datum,
            "namnd": u.meta.namnd,
        }
        for u in got
    ] == GOLDEN[name]
