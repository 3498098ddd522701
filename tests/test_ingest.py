"""ingest: every format read from a real sample; discover walks folders deterministically.

The samples in tests/data/ingest/ are excerpts of real records (see the README there); the seeds
and the volume corpus are read from ../shared and the tests that need them skip without it.
"""

from __future__ import annotations

import codecs
import hashlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protokollsok import ingest
from protokollsok.errors import NoText, ParseError

DATA = Path(__file__).resolve().parent / "data" / "ingest"
SHARED = Path(__file__).resolve().parents[2] / "shared"
UTF8_TXT = DATA / "goteborg_ks-2026-02-04_utf8.txt"
CP1252_TXT = DATA / "goteborg_ks-2024-02-28_cp1252.txt"
MD = DATA / "jonkoping_bun_2016-05-17_excerpt.md"
HTML = DATA / "enskede_arsta_vantor_2019_p13.html"
PDF = DATA / "goteborg_granskning_planer_program_p3-4.pdf"
IMAGE_ONLY_PDF = (
    SHARED
    / "corpora/kommun/goteborg/pdf"
    / "Stadsrevisionens_rapportsammandrag_Granskning_av_arbetet_mot_hedersrelaterat_vald_och_fortryck.pdf"
)

MOJIBAKE = ("Ã", "Â", "\ufffd")  # what a wrong guess between UTF-8 and cp1252 leaves behind


def real_text() -> str:
    """A real Göteborg KS protokoll (UTF-8) to re-encode in the encoding tests."""
    return UTF8_TXT.read_text(encoding="utf-8")


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def assert_clean_swedish(text: str) -> None:
    assert not any(m in text for m in MOJIBAKE), [m for m in MOJIBAKE if m in text]
    assert "ä" in text and "å" in text and "ö" in text


# --- .txt --------------------------------------------------------------------------------------


def test_utf8_text_is_read_as_it_is_with_hash_of_the_bytes():
    doc = ingest.read(UTF8_TXT)
    raw = UTF8_TXT.read_bytes()
    assert doc.text == raw.decode("utf-8")
    assert doc.sha256 == hashlib.sha256(raw).hexdigest()
    assert doc.format == "txt"
    assert doc.path == str(UTF8_TXT)
    assert doc.page_starts == ()
    assert doc.warnings == ()


def test_source_names_the_document():
    doc = ingest.read(UTF8_TXT, source="kommun/ks.txt")
    assert doc.path == "kommun/ks.txt"


def test_utf8_bom_is_dropped(tmp_path):
    path = write(tmp_path / "bom.txt", codecs.BOM_UTF8 + real_text().encode("utf-8"))
    assert ingest.read(path).text == real_text()


def test_cp1252_file_reads_as_swedish_without_mojibake():
    doc = ingest.read(CP1252_TXT)
    assert_clean_swedish(doc.text)
    assert "Göteborgs 400-årsjubileum" in doc.text
    assert "§ 180" in doc.text
    assert "•" in doc.text  # a cp1252-only character (0x95), not a latin-1 control
    assert doc.warnings == ()


def test_crlf_becomes_lf_and_keeps_every_line():
    raw = CP1252_TXT.read_bytes()
    doc = ingest.read(CP1252_TXT)
    assert "\r" not in doc.text
    assert doc.text.count("\n") == raw.count(b"\n")


def test_old_mac_line_endings_keep_their_lines(tmp_path):
    text = real_text()
    path = write(tmp_path / "mac.txt", text.replace("\n", "\r").encode("utf-8"))
    assert ingest.read(path).text == text


def test_utf8_is_never_double_decoded_into_mojibake(tmp_path):
    path = write(tmp_path / "utf8.txt", real_text().encode("utf-8"))
    doc = ingest.read(path)
    assert_clean_swedish(doc.text)
    assert doc.text == real_text()


def test_utf8_file_with_a_pasted_cp1252_line_keeps_both_right(tmp_path):
    utf8 = real_text().encode("utf-8")
    pasted = "Justerandes signatur: Göran Åström\n".encode("cp1252")
    doc = ingest.read(write(tmp_path / "mixed.txt", utf8 + pasted))
    assert_clean_swedish(doc.text)
    assert doc.text == real_text() + "Justerandes signatur: Göran Åström\n"
    assert any("mixed encodings" in w for w in doc.warnings)


@pytest.mark.parametrize("encoding", ["latin-1", "cp850", "mac_roman"])
def test_other_single_byte_encodings_read_as_swedish(tmp_path, encoding):
    text = real_text()
    doc = ingest.read(write(tmp_path / f"{encoding}.txt", text.encode(encoding)))
    assert doc.text == text


def test_utf16_with_bom_is_read(tmp_path):
    path = write(tmp_path / "utf16.txt", real_text().encode("utf-16"))
    assert ingest.read(path).text == real_text()


def test_a_pdf_named_txt_is_refused_as_binary(tmp_path):
    path = write(tmp_path / "report.txt", PDF.read_bytes())
    with pytest.raises(ParseError, match=r"not a text file \(binary content: looks like a PDF\)"):
        ingest.read(path)


SWEDISH_TEXT = st.text(
    alphabet="abcdefghijklmnopqrstuvwxyzåäöÅÄÖéABCDEFGHIJKLMNOPQRSTUVWXYZ §–.,:;()\n0123456789",
    min_size=1,
    max_size=400,
)


@settings(max_examples=200, deadline=None)
@given(text=SWEDISH_TEXT, swedish=st.sampled_from("åäöÅÄÖ"))
def test_cp1252_and_utf8_text_always_read_back_exactly(text, swedish):
    """Property: whatever Swedish text, UTF-8 and cp1252 files read back without mojibake."""
    text = text + swedish if text.strip() else "Malm" + swedish
    for encoding in ("utf-8", "cp1252"):
        decoded, _ = ingest.decode_text(text.encode(encoding), "x.txt")
        assert decoded == text, encoding


def test_swedish_score_prefers_the_right_decoding():
    raw = "Stadsdelsnämnden överlämnar förslaget på remissen".encode("cp850")
    assert ingest.swedish_score(raw.decode("cp850")) > ingest.swedish_score(raw.decode("cp1252"))
    raw = "Sträckan Göteborg–Borås".encode("cp1252")
    for other in ("cp850", "mac_roman"):
        assert ingest.swedish_score(raw.decode("cp1252")) > ingest.swedish_score(raw.decode(other))


PDFTOTEXT_TXT = DATA / "goteborg_intraservice_ramavtal_svar_pdftotext.txt"


def test_form_feeds_of_pdftotext_output_give_the_pages():
    doc = ingest.read(PDFTOTEXT_TXT)
    raw = PDFTOTEXT_TXT.read_text(encoding="utf-8")
    assert doc.text == raw  # the form feeds stay, the text is untouched
    assert len(doc.page_starts) == 2
    second = doc.page_starts[1]
    assert doc.text[second - 1] == "\f"
    assert doc.page_of(doc.text.index("Avtalsperiod (start- och slutdatum) 2026-07-01")) == 2
    assert doc.page_of(0) == 1


def test_form_feed_page_starts():
    assert ingest.form_feed_pages("ett\ntvå\n") == []
    assert ingest.form_feed_pages("ett\n\ftvå\n\f") == [0, 5]
    assert ingest.form_feed_pages("ett\n\f\n\f\n") == [0]


@pytest.mark.slow
def test_pdftotext_pages_match_the_pdf_pages_of_the_same_report():
    """The Göteborg delårsrapport exists as PDF and as pdftotext output: same page count."""
    folder = SHARED / "corpora/kommun/goteborg"
    txt = folder / "dokument/intraservice_delarsrapport_mars_2026.txt"
    pdf = folder / "pdf/intraservice-delarsrapport-2026-mars.pdf"
    if not (txt.exists() and pdf.exists()):
        pytest.skip("../shared/corpora is not available")
    assert len(ingest.read(txt).page_starts) == len(ingest.read(pdf).page_starts)


# --- the seeds ---------------------------------------------------------------------------------


def seed_files() -> list[Path]:
    expected = SHARED / "seeds" / "expected.json"
    if not expected.exists():
        pytest.skip("../shared/seeds is not available")
    names = json.loads(expected.read_text(encoding="utf-8"))["files"]
    return [SHARED / "seeds" / name for name in names]


def test_every_seed_reads_as_text_with_its_lines_intact():
    for path in seed_files():
        raw = path.read_bytes()
        doc = ingest.read(path, source=path.name)
        assert doc.format == "txt"
        assert doc.path == path.name
        assert doc.text.count("\n") == raw.count(b"\n"), path.name
        assert doc.text.strip(), path.name


# --- .md ---------------------------------------------------------------------------------------


def test_markdown_front_matter_goes_to_meta():
    doc = ingest.read(MD)
    assert doc.format == "md"
    assert doc.meta["namnd"] == "Barn- och utbildningsnämnden"
    assert doc.meta["datum"] == "2016-05-17"
    assert doc.meta["kalla"].startswith("https://www.jonkoping.se/")


def test_markdown_front_matter_is_blanked_so_lines_still_match_the_file():
    file_lines = MD.read_text(encoding="utf-8").split("\n")
    doc_lines = ingest.read(MD).text.split("\n")
    assert len(doc_lines) == len(file_lines)
    end = file_lines.index("---", 1)
    assert doc_lines[: end + 1] == [""] * (end + 1)
    assert doc_lines[end + 1 :] == file_lines[end + 1 :]


def test_a_horizontal_rule_is_not_front_matter(tmp_path):
    text = "# RUTIN\n\nDokumentet beslutades den: 2020-09-01\n\n---\n\nDokumentansvarig är: X\n"
    doc = ingest.read(write(tmp_path / "rutin.md", text.encode("utf-8")))
    assert doc.text == text
    assert doc.meta == {}


def test_unclosed_front_matter_is_left_as_text(tmp_path):
    text = "---\ntitle: Städning\n\n# RUTIN\n"
    doc = ingest.read(write(tmp_path / "open.md", text.encode("utf-8")))
    assert doc.text == text
    assert doc.meta == {}


def test_front_matter_values_are_unquoted():
    meta = ingest.parse_front_matter(
        ['title: "Kostpolicy för \\"Botkyrka\\" kommun"', "datum: '2020-09-01'", "tom:", "- lista"]
    )
    assert meta == {"title": 'Kostpolicy för "Botkyrka" kommun', "datum": "2020-09-01"}


# --- .html -------------------------------------------------------------------------------------


def html_doc():
    return ingest.read(HTML)


def test_html_keeps_the_body_text():
    text = html_doc().text
    assert "Nämnden ställde sig bakom förvaltningens förslag." in text
    assert "Polisregion Stockholm" in text


def test_html_drops_script_style_and_page_furniture():
    text = html_doc().text
    for furniture in ("gtag", "font-family", "Politik och demokrati", "Relaterat", "105 35", "Sök"):
        assert furniture not in text, furniture
    assert "särskilt uttalande följer" not in text  # a comment


def test_html_blocks_and_headings_are_lines_of_their_own():
    lines = html_doc().text.split("\n")
    assert "Stadsdelsnämndens beslut" in lines  # an <h3>
    assert "Svar på remiss från kommunstyrelsen" in lines  # a <p>
    assert "Dnr EÅV 2019/274" in lines  # after a <br>
    heading = [line for line in lines if line.startswith("Övergripande")]
    assert heading == [
        "Övergripande samverkansöverenskommelse mellan Stockholms stad och "
        "Polisregion Stockholm, KS 2019/656"
    ]  # the source's line break inside the <h2> is only a space


def test_html_header_of_an_article_is_its_heading_and_stays(tmp_path):
    page = (
        "<body><header>Stockholms stad – meny</header><main><article>"
        "<header><h1>§ 13 Svar på remiss från kommunstyrelsen</h1></header>"
        "<p>Stadsdelsnämnden godkänner förvaltningens tjänsteutlåtande.</p>"
        "<footer>Justerat 2019-08-29</footer></article></main>"
        "<footer>Kontakta oss</footer></body>"
    )
    lines = ingest.read(write(tmp_path / "a.html", page.encode("utf-8"))).text.split("\n")
    assert "§ 13 Svar på remiss från kommunstyrelsen" in lines
    assert "Justerat 2019-08-29" in lines
    assert not any("meny" in line or "Kontakta" in line for line in lines)


def test_html_ordered_lists_keep_their_numbers():
    lines = html_doc().text.split("\n")
    assert any(
        line.startswith("1. Enskede-Årsta-Vantörs stadsdelsnämnd godkänner") for line in lines
    )
    assert "2. Paragrafen justeras omedelbart." in lines


def test_html_table_rows_are_lines_with_tab_separated_cells():
    lines = html_doc().text.split("\n")
    start = lines.index("Ledamot\tParti")
    assert lines[start + 1 : start + 3] == ["Gisela Norrman\tS", "Hassan Jama\tV"]


def test_html_paragraphs_inside_table_cells_keep_the_row_on_one_line(tmp_path):
    page = (
        "<table><tr><td><p>Gisela Norrman</p><p>ordförande</p></td><td><p>S</p></td></tr>"
        "<tr><td><div>Hassan Jama</div></td><td><p>V</p></td></tr></table>"
    )
    lines = ingest.read(write(tmp_path / "t.html", page.encode("utf-8"))).text.split("\n")
    assert lines[:2] == ["Gisela Norrman ordförande\tS", "Hassan Jama\tV"]


def test_html_title_and_meta_tags_go_to_meta():
    meta = html_doc().meta
    assert meta["title"] == "Protokoll § 13 – Enskede-Årsta-Vantörs stadsdelsnämnd"
    assert meta["description"] == "Svar på remiss från kommunstyrelsen, KS 2019/656"
    assert meta["og:site_name"] == "Stockholms stad"
    assert "Protokoll § 13" not in html_doc().text  # the title is not body text


@pytest.mark.parametrize("declared", [True, False])
def test_html_in_cp1252_reads_right_with_or_without_declared_charset(tmp_path, declared):
    page = HTML.read_text(encoding="utf-8")
    page = page.replace(
        '<meta charset="utf-8">', '<meta charset="windows-1252">' if declared else ""
    )
    doc = ingest.read(write(tmp_path / "p.htm", page.encode("cp1252")))
    assert_clean_swedish(doc.text)
    assert doc.text == html_doc().text


def test_html_that_is_utf8_is_read_as_utf8_whatever_it_declares(tmp_path):
    page = HTML.read_text(encoding="utf-8").replace('charset="utf-8"', 'charset="iso-8859-1"')
    doc = ingest.read(write(tmp_path / "p.html", page.encode("utf-8")))
    assert doc.text == html_doc().text


# --- .pdf --------------------------------------------------------------------------------------


def test_pdf_text_layer_is_read_page_by_page():
    doc = ingest.read(PDF)
    assert doc.format == "pdf"
    assert len(doc.page_starts) == 2
    assert doc.page_starts[0] == 0
    second = doc.page_starts[1]
    assert doc.text[second - 1] == "\n"  # a page starts on a line of its own
    phrase = doc.text.index("Systematiken i uppföljningen av planer och program")
    assert doc.page_of(phrase) == 2
    assert doc.page_of(0) == 1
    assert_clean_swedish(doc.text)


def test_pdf_document_information_goes_to_meta():
    meta = ingest.read(PDF).meta
    assert meta["title"] == "Styrning genom planer och program"
    assert meta["created"] == "2025-11-10"  # the PDF's CreationDate, as an ISO date


def test_image_only_pdf_is_no_text_with_the_fix():
    if not IMAGE_ONLY_PDF.exists():
        pytest.skip("../shared/corpora is not available")
    with pytest.raises(NoText) as e:
        ingest.read(IMAGE_ONLY_PDF, source="rapport.pdf")
    assert e.value.path == "rapport.pdf"
    assert e.value.reason == "PDF has no text layer (image-only); run OCR first"


def test_pdf_with_one_blank_page_among_text_pages_warns(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=str(PDF))
    writer.add_blank_page()
    path = tmp_path / "with_blank.pdf"
    writer.write(path)
    doc = ingest.read(path)
    assert len(doc.page_starts) == 3
    assert any("no text on page 3" in w for w in doc.warnings)


def test_many_empty_pages_are_listed_briefly():
    assert ingest.empty_pages_note([3, 7], 9) == "no text on page 3, 7 (image-only pages?)"
    note = ingest.empty_pages_note(list(range(2, 300)), 300)
    assert note.startswith("no text on page 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, …")
    assert "(298 of 300 pages)" in note


# --- .docx -------------------------------------------------------------------------------------


@pytest.fixture
def seed_docx(tmp_path) -> tuple[Path, list[str]]:
    """A .docx made from the first lines of a real § (seed 001 if present, else the HTML sample):
    a heading, the body paragraphs, a table with a merged cell, and a page header to ignore."""
    import docx

    seed = SHARED / "seeds" / "001_4a6ca2e2457182e1.txt"
    source = seed.read_text(encoding="utf-8") if seed.exists() else html_doc().text
    paragraphs = [line.strip() for line in source.split("\n") if line.strip()][:12]
    document = docx.Document()
    document.core_properties.title = paragraphs[1]
    document.sections[0].header.paragraphs[0].text = "SIDHUVUD Stockholms stad"
    document.add_heading(paragraphs[0], level=1)
    for p in paragraphs[1:]:
        document.add_paragraph(p)
    table = document.add_table(rows=3, cols=2)
    table.cell(0, 0).merge(table.cell(0, 1)).text = "Närvarande ledamöter"
    for row, (name, party) in enumerate([("Gisela Norrman", "S"), ("Hassan Jama", "V")], 1):
        table.cell(row, 0).text = name
        table.cell(row, 1).text = party
    document.add_paragraph("Justerandes signatur")
    path = tmp_path / "paragraf.docx"
    document.save(str(path))
    return path, paragraphs


def test_docx_paragraphs_come_in_order(seed_docx):
    path, paragraphs = seed_docx
    doc = ingest.read(path)
    assert doc.format == "docx"
    lines = [line for line in doc.text.split("\n") if line]
    assert lines[: len(paragraphs)] == paragraphs
    assert lines[-1] == "Justerandes signatur"


def test_docx_table_rows_are_lines_and_a_merged_cell_counts_once(seed_docx):
    lines = ingest.read(seed_docx[0]).text.split("\n")
    start = lines.index("Närvarande ledamöter")
    assert lines[start + 1 : start + 3] == ["Gisela Norrman\tS", "Hassan Jama\tV"]


def test_docx_automatic_list_numbers_are_written_into_the_text(tmp_path):
    import docx

    document = docx.Document()
    document.add_paragraph("Stadsdelsnämndens beslut")
    for point in ("Nämnden godkänner förvaltningens tjänsteutlåtande.", "Paragrafen justeras."):
        document.add_paragraph(point, style="List Number")
    document.add_paragraph("Särskilt uttalande", style="List Bullet")
    document.add_paragraph("Ärendet")
    path = tmp_path / "beslut.docx"
    document.save(str(path))
    assert ingest.read(path).text.split("\n")[:5] == [
        "Stadsdelsnämndens beslut",
        "1. Nämnden godkänner förvaltningens tjänsteutlåtande.",
        "2. Paragrafen justeras.",
        "Särskilt uttalande",
        "Ärendet",
    ]


def test_docx_page_header_is_left_out_and_title_goes_to_meta(seed_docx):
    path, paragraphs = seed_docx
    doc = ingest.read(path)
    assert "SIDHUVUD" not in doc.text
    assert doc.meta["title"] == paragraphs[1]


# --- discover ----------------------------------------------------------------------------------


def make_tree(root: Path) -> None:
    files = [
        "a/b.txt",
        "a/C.PDF",
        "a/sub/deeper/z.md",
        "README.markdown",
        "page.HTM",
        "protokoll.docx",
        ".hidden/x.txt",
        ".x.txt",
        "a/~$protokoll.docx",
        "a/notes.txt~",
        "data.xml",
        "script.py",
    ]
    for name in files:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("x", encoding="utf-8")


def sources(roots) -> list[str]:
    return [source for _, source in ingest.discover(roots)]


def test_discover_yields_supported_files_sorted_with_posix_sources(tmp_path):
    make_tree(tmp_path)
    assert sources([tmp_path]) == [
        "README.markdown",
        "a/C.PDF",
        "a/b.txt",
        "a/sub/deeper/z.md",
        "page.HTM",
        "protokoll.docx",
    ]


def test_discover_paths_point_at_the_files(tmp_path):
    make_tree(tmp_path)
    for path, source in ingest.discover([tmp_path]):
        assert path == tmp_path / source
        assert path.is_file()


def test_discover_accepts_a_single_file_as_root(tmp_path):
    make_tree(tmp_path)
    assert list(ingest.discover([tmp_path / "a" / "b.txt"])) == [
        (tmp_path / "a" / "b.txt", "b.txt")
    ]
    assert sources([tmp_path / "data.xml"]) == []


def test_discover_follows_symlinked_folders(tmp_path):
    corpus = tmp_path / "corpus"
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "k.txt").write_text("x", encoding="utf-8")
    corpus.mkdir()
    (corpus / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    assert sources([corpus]) == ["linked/k.txt"]


def test_discover_is_deterministic(tmp_path):
    make_tree(tmp_path)
    assert list(ingest.discover([tmp_path])) == list(ingest.discover([tmp_path]))


def test_discover_walks_the_real_seeds_folder():
    files = seed_files()
    found = sources([files[0].parent])
    assert found == sorted(p.name for p in files)


def test_discover_reports_roots_it_cannot_use(tmp_path):
    make_tree(tmp_path)
    errors: list[tuple[Path, str]] = []
    roots = [tmp_path / "data.xml", tmp_path / "saknas", tmp_path / "a" / "b.txt"]
    found = list(ingest.discover(roots, on_error=lambda p, r: errors.append((p, r))))
    assert found == [(tmp_path / "a" / "b.txt", "b.txt")]
    assert errors == [
        (tmp_path / "data.xml", "unsupported file type '.xml'"),
        (tmp_path / "saknas", "not found"),
    ]
