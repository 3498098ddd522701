"""Bad input never stops the run: every broken file is one ParseError naming the file and the
problem, never another exception, and ``discover`` always terminates.
"""

from __future__ import annotations

import os
import random
import sys
import tempfile
import zipfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protokollsok import ingest
from protokollsok.errors import NoText, ParseError

DATA = Path(__file__).resolve().parent / "data" / "ingest"
PDF = DATA / "goteborg_granskning_planer_program_p3-4.pdf"
TXT = DATA / "goteborg_ks-2026-02-04_utf8.txt"
EXTENSIONS = sorted(ingest.FORMATS)


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def reason_of(path: Path, source: str | None = None) -> ParseError:
    """The ParseError ``read`` raises for ``path`` (the test fails if it returns or raises else)."""
    with pytest.raises(ParseError) as e:
        ingest.read(path, source)
    assert e.value.path == (source or str(path))
    assert str(e.value).startswith(f"{e.value.path}: ")
    assert "\n" not in str(e.value)
    return e.value


def cannot_read(path: Path) -> bool:
    """True if this process really cannot open ``path`` (root can, whatever the mode)."""
    try:
        path.open("rb").close()
    except PermissionError:
        return True
    return False


# --- one broken file each ------------------------------------------------------------------------


@pytest.mark.parametrize("ext", EXTENSIONS)
def test_empty_file_is_no_text(tmp_path, ext):
    error = reason_of(write(tmp_path / f"empty{ext}", b""))
    assert isinstance(error, NoText)
    assert error.reason == "empty file"


@pytest.mark.parametrize("ext", [".txt", ".md", ".html"])
@pytest.mark.parametrize("content", [b" \r\n\t\n  \n", b"\xff\xfe", b"\xef\xbb\xbf\n"])
def test_whitespace_only_file_is_no_text(tmp_path, ext, content):
    error = reason_of(write(tmp_path / f"blank{ext}", content))
    assert isinstance(error, NoText)
    assert error.reason.startswith("no text")


@pytest.mark.parametrize("ext", [".txt", ".md", ".markdown", ".html", ".htm"])
def test_binary_content_in_a_text_file_is_refused(tmp_path, ext):
    rng = random.Random(7)
    data = bytes(rng.randrange(256) for _ in range(4096)) + b"\x00" * 16
    error = reason_of(write(tmp_path / f"image{ext}", data))
    assert error.reason.startswith("not a text file (binary content")


def test_a_zip_named_txt_says_what_it_looks_like(tmp_path):
    path = tmp_path / "bilagor.zip"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("a.txt", "x")
    error = reason_of(write(tmp_path / "bilagor.txt", path.read_bytes()))
    assert "ZIP archive" in error.reason


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9])
def test_truncated_pdf_is_named_truncated(tmp_path, fraction):
    raw = PDF.read_bytes()
    error = reason_of(write(tmp_path / "cut.pdf", raw[: int(len(raw) * fraction)]))
    assert error.reason.startswith("truncated PDF")


def test_pdf_with_garbage_body_is_damaged(tmp_path):
    raw = PDF.read_bytes()
    garbled = raw[:16] + bytes(b ^ 0x5A for b in raw[16:-64]) + raw[-64:]
    error = reason_of(write(tmp_path / "garbled.pdf", garbled))
    assert "PDF" in error.reason
    assert "damaged" in error.reason or "no text" in error.reason


def test_pdf_whose_page_streams_are_corrupt_is_damaged_not_image_only(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=str(PDF))
    for page in writer.pages:
        page["/Contents"].get_object()._data = b"x\x9c" + bytes(range(200))  # bad deflate data
    path = tmp_path / "corrupt.pdf"
    writer.write(path)
    error = reason_of(path)
    assert not isinstance(error, NoText)
    assert error.reason.startswith("damaged PDF: ")


def test_a_text_file_named_pdf_is_not_a_pdf(tmp_path):
    error = reason_of(write(tmp_path / "protokoll.pdf", TXT.read_bytes()))
    assert error.reason.startswith("not a PDF")


def test_encrypted_pdf_asks_for_an_unlocked_copy(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter(clone_from=str(PDF))
    writer.encrypt(user_password="hemligt", owner_password="hemligt")
    path = tmp_path / "locked.pdf"
    writer.write(path)
    assert reason_of(path).reason.startswith("encrypted PDF")


def test_generated_image_only_pdf_is_no_text(tmp_path):
    image = pytest.importorskip("PIL.Image")
    path = tmp_path / "scan.pdf"
    image.new("L", (400, 560), color=255).save(path, "PDF")
    error = reason_of(path)
    assert isinstance(error, NoText)
    assert "no text layer" in error.reason
    assert "OCR" in error.reason


def test_pdf_of_blank_pages_is_no_text(tmp_path):
    pypdf = pytest.importorskip("pypdf")
    writer = pypdf.PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_blank_page(595, 842)
    path = tmp_path / "blank.pdf"
    writer.write(path)
    assert isinstance(reason_of(path), NoText)


def test_a_text_file_named_docx_is_not_a_docx(tmp_path):
    error = reason_of(write(tmp_path / "beslut.docx", TXT.read_bytes()))
    assert error.reason.startswith("not a .docx file")


def test_old_word_doc_named_docx_says_so(tmp_path):
    error = reason_of(
        write(tmp_path / "beslut.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    )
    assert "old Office file" in error.reason


def test_a_zip_that_is_not_a_docx_is_damaged(tmp_path):
    path = tmp_path / "beslut.docx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("word/nothing.xml", "<x/>")
    assert reason_of(path).reason.startswith("damaged or not a .docx file")


def test_truncated_docx_is_damaged(tmp_path):
    docx = pytest.importorskip("docx")
    document = docx.Document()
    document.add_paragraph(TXT.read_text(encoding="utf-8"))
    full = tmp_path / "full.docx"
    document.save(str(full))
    raw = full.read_bytes()
    assert reason_of(write(tmp_path / "cut.docx", raw[: len(raw) // 2])).reason.startswith(
        "damaged or not a .docx file"
    )


def test_wrongly_declared_html_charset_still_reads_swedish(tmp_path):
    page = '<html><head><meta charset="utf-8"></head><body><p>{}</p></body></html>'
    text = TXT.read_text(encoding="utf-8")
    doc = ingest.read(write(tmp_path / "fel.html", page.format(text).encode("cp1252")))
    assert "Årsrapport 2025 för kommunstyrelsen" in doc.text
    assert "\ufffd" not in doc.text


def test_utf16_without_bom_is_text_not_binary(tmp_path):
    text = TXT.read_text(encoding="utf-8")
    assert ingest.read(write(tmp_path / "utf16.txt", text.encode("utf-16-le"))).text == text


def test_unsupported_ending_is_named(tmp_path):
    assert "unsupported file type '.xml'" in reason_of(write(tmp_path / "x.xml", b"<x/>")).reason


def test_unreadable_file_is_permission_denied(tmp_path):
    path = write(tmp_path / "hemlig.txt", TXT.read_bytes())
    path.chmod(0)
    try:
        if not cannot_read(path):
            pytest.skip("running as root: file modes do not stop reading")
        assert reason_of(path).reason == "permission denied"
    finally:
        path.chmod(0o644)


def test_permission_error_while_opening_is_permission_denied(tmp_path, monkeypatch):
    """The same as above where root can read everything: the OS refusal is simulated."""
    path = write(tmp_path / "hemlig.txt", TXT.read_bytes())

    def refuse(self, *args, **kwargs):
        raise PermissionError(13, "Permission denied", str(self))

    monkeypatch.setattr(Path, "open", refuse)
    assert reason_of(path).reason == "permission denied"


def test_symlink_loop_is_named(tmp_path):
    (tmp_path / "a.txt").symlink_to(tmp_path / "b.txt")
    (tmp_path / "b.txt").symlink_to(tmp_path / "a.txt")
    assert reason_of(tmp_path / "a.txt").reason == "symlink loop"


def test_broken_link_or_missing_file_is_not_found(tmp_path):
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    assert reason_of(tmp_path / "dangling.txt").reason.startswith("file not found")


def test_a_folder_named_like_a_file_is_not_a_regular_file(tmp_path):
    (tmp_path / "protokoll.txt").mkdir()
    assert reason_of(tmp_path / "protokoll.txt").reason.startswith("not a regular file")


def test_a_fifo_is_refused_without_blocking(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    os.mkfifo(tmp_path / "pipe.txt")
    assert reason_of(tmp_path / "pipe.txt").reason == "not a regular file"


def test_file_over_the_size_cap_is_refused_unread(tmp_path):
    path = tmp_path / "huge.txt"
    with path.open("wb") as f:
        f.truncate(100 * 1024 * 1024)  # sparse: 100 MB without writing them
    error = reason_of(path)
    assert error.reason.startswith(f"larger than {ingest.MAX_MB} MB")
    assert "split it" in error.reason


def test_file_that_vanishes_between_discover_and_read(tmp_path):
    write(tmp_path / "a.txt", TXT.read_bytes())
    write(tmp_path / "b.txt", TXT.read_bytes())
    found = list(ingest.discover([tmp_path]))
    (tmp_path / "a.txt").unlink()
    path, source = found[0]
    error = reason_of(path, source)
    assert error.path == "a.txt"
    assert "vanished" in error.reason
    assert ingest.read(*found[1]).text == TXT.read_text(encoding="utf-8")


# --- discover survives what it walks into ---------------------------------------------------------


def test_discover_terminates_on_a_symlink_loop(tmp_path):
    write(tmp_path / "a.txt", b"x")
    (tmp_path / "sub").mkdir()
    write(tmp_path / "sub" / "b.md", b"x")
    (tmp_path / "sub" / "up").symlink_to(tmp_path, target_is_directory=True)
    (tmp_path / "sub" / "self").symlink_to(tmp_path / "sub", target_is_directory=True)
    (tmp_path / "x.txt").symlink_to(tmp_path / "y.txt")
    (tmp_path / "y.txt").symlink_to(tmp_path / "x.txt")
    sources = [s for _, s in ingest.discover([tmp_path])]
    assert sources == ["a.txt", "sub/b.md"]


def test_discover_reports_links_that_lead_to_no_file(tmp_path):
    write(tmp_path / "a.txt", b"x")
    (tmp_path / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    (tmp_path / "x.md").symlink_to(tmp_path / "y.md")
    (tmp_path / "y.md").symlink_to(tmp_path / "x.md")
    (tmp_path / "notes.bin").symlink_to(tmp_path / "gone.bin")  # not a supported name: ignored
    errors: list[tuple[Path, str]] = []
    sources = [s for _, s in ingest.discover([tmp_path], on_error=lambda p, r: errors.append((p, r)))]
    assert sources == ["a.txt"]
    assert errors == [
        (tmp_path / "dangling.txt", f"broken link: its target {tmp_path / 'gone.txt'} does not exist"),
        (tmp_path / "x.md", "symlink loop"),
        (tmp_path / "y.md", "symlink loop"),
    ]


def test_a_broken_link_is_one_line_of_the_index_run(tmp_path):
    from protokollsok.index import build_index

    (tmp_path / "c").mkdir()
    write(tmp_path / "c" / "a.txt", TXT.read_bytes())
    (tmp_path / "c" / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    report = build_index([tmp_path / "c"], tmp_path / "i", full=True)
    assert [(Path(p).name, r.split(":")[0]) for p, r in report.failed] == [("dangling.txt", "broken link")]
    assert report.added  # the good file is indexed


def test_discover_skips_an_unreadable_folder_and_reports_it(tmp_path):
    write(tmp_path / "a.txt", b"x")
    locked = tmp_path / "locked"
    locked.mkdir()
    write(locked / "b.txt", b"x")
    locked.chmod(0)
    try:
        if os.access(locked, os.R_OK):
            pytest.skip("running as root: folder modes do not stop listing")
        errors: list[tuple[Path, str]] = []
        sources = [
            s for _, s in ingest.discover([tmp_path], on_error=lambda p, r: errors.append((p, r)))
        ]
        assert sources == ["a.txt"]
        assert errors == [(locked, "permission denied")]
    finally:
        locked.chmod(0o755)


def test_discover_goes_on_past_a_folder_it_may_not_list(tmp_path, monkeypatch):
    """The same as above where root can list everything: the OS refusal is simulated."""
    write(tmp_path / "a.txt", b"x")
    (tmp_path / "locked").mkdir()
    write(tmp_path / "locked" / "b.txt", b"x")
    write(tmp_path / "z.md", b"x")
    scandir = os.scandir

    def refuse_locked(path):
        if Path(path).name == "locked":
            raise PermissionError(13, "Permission denied", str(path))
        return scandir(path)

    monkeypatch.setattr(ingest.os, "scandir", refuse_locked)
    errors: list[tuple[Path, str]] = []
    found = [s for _, s in ingest.discover([tmp_path], on_error=lambda p, r: errors.append((p, r)))]
    assert found == ["a.txt", "z.md"]
    assert errors == [(tmp_path / "locked", "permission denied")]


def test_discover_survives_a_tree_deeper_than_the_recursion_limit(tmp_path):
    deep = tmp_path.joinpath(*["d"] * 150)
    deep.mkdir(parents=True)
    write(deep / "botten.txt", b"x")
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(120)
    try:
        found = list(ingest.discover([tmp_path]))
    finally:
        sys.setrecursionlimit(limit)
    assert found == [(deep / "botten.txt", "d/" * 150 + "botten.txt")]


def test_discover_of_a_missing_root_yields_nothing(tmp_path):
    assert list(ingest.discover([tmp_path / "finns-inte"])) == []


# --- fuzz: only ParseError may escape -------------------------------------------------------------

PREFIXES = {
    ".pdf": [b"", b"%PDF-1.7\n", PDF.read_bytes()[:2048]],
    ".docx": [b"", b"PK\x03\x04"],
    ".html": [b"", b"<html><body><p>", b'<meta charset="utf-8"><table><tr><td>'],
    ".htm": [b""],
    ".md": [b"", b"---\ntitle: "],
    ".markdown": [b""],
    ".txt": [b"", b"\xef\xbb\xbf", b"\xff\xfe"],
}


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ext=st.sampled_from(EXTENSIONS), data=st.data(), body=st.binary(max_size=3000))
def test_read_of_random_bytes_raises_only_parse_error(ext, data, body):
    prefix = data.draw(st.sampled_from(PREFIXES[ext]))
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / f"fuzz{ext}", prefix + body)
        try:
            doc = ingest.read(path)
        except ParseError as e:
            assert e.reason and "\n" not in e.reason
        else:
            assert doc.text.strip()
            assert doc.format == ingest.FORMATS[ext]


@pytest.mark.slow
@settings(max_examples=60, deadline=None)
@given(cut=st.integers(min_value=0, max_value=len(PDF.read_bytes())), flip=st.integers(0, 255))
def test_read_of_a_damaged_real_pdf_raises_only_parse_error(cut, flip):
    raw = bytearray(PDF.read_bytes())
    if cut < len(raw):
        raw[cut] ^= flip
    with tempfile.TemporaryDirectory() as folder:
        path = write(Path(folder) / "damaged.pdf", bytes(raw))
        try:
            ingest.read(path)
        except ParseError as e:
            assert e.reason


# --- the whole run: every file accounted for in the summary -------------------------------------


def bad_corpus(root: Path) -> dict[str, str]:
    """Real samples plus one file of each kind of damage; returns bad source -> reason prefix."""
    for sample in DATA.iterdir():
        if sample.name != "README.md":
            write(root / sample.name, sample.read_bytes())
    (root / "trasigt").mkdir()
    write(root / "empty.txt", b"")
    write(root / "trasigt" / "binary.txt", bytes(range(256)) * 8)
    write(root / "trasigt" / "cut.pdf", PDF.read_bytes()[:5000])
    write(root / "trasigt" / "beslut.docx", TXT.read_bytes())
    (root / "trasigt" / "loop").symlink_to(root, target_is_directory=True)
    return {
        "empty.txt": "empty file",
        "trasigt/binary.txt": "not a text file",
        "trasigt/cut.pdf": "truncated PDF",
        "trasigt/beslut.docx": "not a .docx file",
    }


@pytest.mark.slow
def test_index_run_accounts_for_every_file_and_goes_on(tmp_path):
    from protokollsok.index import build_index

    corpus = tmp_path / "corpus"
    corpus.mkdir()
    bad = bad_corpus(corpus)
    report = build_index([corpus], tmp_path / "index")
    problems = dict(report.failed) | dict(report.skipped)
    for source, reason in bad.items():
        assert problems[source].startswith(reason), (source, problems.get(source))
    discovered = {source for _, source in ingest.discover([corpus])}
    assert set(report.added) | set(bad) == discovered
    assert report.files_seen == len(discovered)
    assert not report.ok
    assert report.units >= len(discovered) - len(bad)
