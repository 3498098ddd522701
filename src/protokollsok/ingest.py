"""Reading corpus files: one small reader per format, and the walk that finds them.

``read(path)`` turns one file into a ``Document`` (raw text, sha256 of the bytes, format, PDF page
starts, what the file says about itself in ``meta``). Whatever is wrong with a file comes out as one
``ParseError(path, reason)`` with a short human reason, never as another exception; an image-only
PDF or a file without text is ``NoText`` (a ``ParseError`` reported as skipped, not failed).

``discover(roots)`` walks folders and yields ``(path, source)`` for every supported file in a sorted,
deterministic order; it follows symlinks but never loops.

Text formats keep the file's line structure (only line endings are unified to ``\\n``) so that a
line number in the text is a line number in the file.
"""

from __future__ import annotations

import codecs
import contextlib
import errno
import hashlib
import io
import json
import logging
import os
import re
import stat
import unicodedata
import warnings
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

from protokollsok.errors import NoText, ParseError
from protokollsok.model import Document

MAX_MB = 50
MAX_BYTES = MAX_MB * 1024 * 1024  # files above this are refused, not read

FORMATS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".html": "html",
    ".htm": "html",
    ".pdf": "pdf",
    ".docx": "docx",
}

# Single-byte encodings Swedish text is found in, in order of preference on a tie.
LEGACY_ENCODINGS = ("cp1252", "latin-1", "cp850", "mac_roman")

# A PDF with fewer letters/digits than this per page has no usable text layer.
MIN_CHARS_PER_PAGE = 16

# Magic numbers of formats that are not text, to name what a mislabelled file really is.
_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"PK\x03\x04", "a ZIP archive (.docx/.xlsx?)"),
    (b"\xd0\xcf\x11\xe0", "an old Office file (.doc/.xls)"),
    (b"{\\rtf", "an RTF document"),
    (b"\x89PNG", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"\x1f\x8b", "a gzip archive"),
)

_SWEDISH_LETTERS = frozenset("åäöÅÄÖéÉüÜ")


def format_of(path: str | Path) -> str | None:
    """The format name for ``path``'s ending (case-insensitive), or None if unsupported."""
    return FORMATS.get(Path(path).suffix.lower())


# ---------------------------------------------------------------------------------------------
# read


def read(path: str | Path, source: str | None = None) -> Document:
    """Read one corpus file into a ``Document``.

    ``source`` is the name the document goes by (default ``str(path)``); every error names it.
    Raises ``ParseError(source, reason)`` for a file that cannot be read, ``NoText`` for a
    readable file without text (image-only PDF, empty file).
    """
    p = Path(path)
    name = source or str(path)
    fmt = format_of(p)
    if fmt is None:
        raise ParseError(name, f"unsupported file type {p.suffix or '(no ending)'!r}")
    raw = read_bytes(p, name)
    if not raw:
        raise NoText(name, "empty file")
    text, page_starts, meta, notes = _run_reader(fmt, raw, name)
    if not text.strip():
        raise NoText(name, "no text in the file (only whitespace)")
    return Document(
        path=name,
        sha256=hashlib.sha256(raw).hexdigest(),
        format=fmt,
        text=text,
        page_starts=tuple(page_starts),
        meta=meta,
        warnings=tuple(notes),
    )


def _run_reader(fmt: str, raw: bytes, name: str) -> Read:
    """Run the reader for ``fmt``; whatever it raises other than ``ParseError`` becomes one."""
    try:
        return _READERS[fmt](raw, name)
    except ParseError:
        raise
    except Exception as e:  # a bad file must never stop the run with a traceback
        raise ParseError(
            name, f"cannot read this {fmt} file: {type(e).__name__}: {_short(e)}"
        ) from None


def read_bytes(path: Path, name: str, limit: int = MAX_BYTES) -> bytes:
    """The raw bytes of a regular file of at most ``limit`` bytes, or ``ParseError``."""
    try:
        st = path.stat()  # before open: opening a FIFO would block
        if not stat.S_ISREG(st.st_mode):
            raise ParseError(name, "not a regular file")
        _check_size(st.st_size, name, limit)
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as e:
        raise ParseError(name, _os_reason(e)) from None
    _check_size(len(raw), name, limit)
    return raw


def _check_size(size: int, name: str, limit: int) -> None:
    if size > limit:
        mb = limit // (1024 * 1024)
        raise ParseError(
            name,
            f"larger than {mb} MB ({size / 1024 / 1024:.0f} MB); split it or raise "
            "protokollsok.ingest.MAX_BYTES",
        )


def _os_reason(e: OSError) -> str:
    """A short reason for an operating-system error while opening or reading a file."""
    if isinstance(e, FileNotFoundError):
        return "file not found (vanished while reading, or a broken link)"
    if isinstance(e, PermissionError):
        return "permission denied"
    if isinstance(e, IsADirectoryError):
        return "not a regular file (a directory)"
    if e.errno == errno.ELOOP:
        return "symlink loop"
    return f"cannot read: {e.strerror or e}"


# ---------------------------------------------------------------------------------------------
# text decoding (.txt, .md, and .html without a declared charset)


def decode_text(raw: bytes, name: str) -> tuple[str, list[str]]:
    """Decode the bytes of a text file; returns the text and warnings.

    UTF-8 (with or without BOM) and UTF-16 with BOM are taken as they are. Otherwise the file is
    read in the single-byte encoding that gives the most plausible Swedish (cp1252 first); a file
    that is UTF-8 with a few stray single bytes keeps its UTF-8 and only those bytes are read as
    cp1252, so no ``Ã¤``-mojibake is made. Binary content raises ``ParseError``.
    """
    for utf16 in (_decode_utf16_bom(raw), _decode_utf16_without_bom(raw)):
        if utf16 is not None:
            return utf16, []
    _reject_binary(raw, name)
    if raw.startswith(codecs.BOM_UTF8):
        raw = raw[len(codecs.BOM_UTF8) :]
    try:
        return raw.decode("utf-8"), []
    except UnicodeDecodeError:
        pass
    if _has_utf8_sequences(raw):
        text = raw.decode("utf-8", errors=_STRAY_BYTE_HANDLER)
        return text, ["mixed encodings: bytes that are not UTF-8 were read as cp1252"]
    encoding = best_legacy_encoding(raw[:_SAMPLE])
    notes = [] if encoding in ("cp1252", "latin-1") else [f"read as {encoding}"]
    try:
        return raw.decode(encoding), notes
    except UnicodeDecodeError:  # the sample decoded, a byte further on does not
        return raw.decode("latin-1"), ["read as latin-1"]


_SAMPLE = 256 * 1024  # bytes an encoding guess looks at


def _decode_utf16_bom(raw: bytes) -> str | None:
    for bom, codec in ((codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be")):
        if raw.startswith(bom):
            return raw[len(bom) :].decode(codec, errors="replace")
    return None


def _decode_utf16_without_bom(raw: bytes) -> str | None:
    """UTF-16 text saved without a BOM: latin-script text has a NUL in (nearly) every other byte."""
    head = raw[:4096]
    if len(raw) % 2 or len(head) < 4:
        return None
    for codec, nul_side in (("utf-16-le", 1), ("utf-16-be", 0)):
        nuls = head[nul_side::2].count(0)
        others = head[1 - nul_side :: 2].count(0)
        if nuls >= 0.9 * (len(head) // 2) and others == 0:
            try:
                return raw.decode(codec)
            except UnicodeDecodeError:
                return None
    return None


def _reject_binary(raw: bytes, name: str) -> None:
    """Raise ``ParseError`` if ``raw`` is not text (NUL bytes, control characters, a known magic)."""
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            raise ParseError(name, f"not a text file (binary content: looks like {what})")
    head = raw[:65536]
    controls = sum(1 for b in head if b < 32 and b not in b"\t\n\r\f\v\x1a\x1b")
    if b"\x00" in head or controls > max(8, len(head) // 20):
        raise ParseError(name, "not a text file (binary content)")


def _has_utf8_sequences(raw: bytes) -> bool:
    """True if ``raw`` is mostly UTF-8: more well-formed multi-byte sequences than stray bytes.

    A cp1252 file can hold a chance pair like ``Å`` + no-break space, but then its other
    å ä ö are stray bytes and outnumber it; a UTF-8 file with a pasted-in cp1252 word does not.
    """
    decoded = raw.decode("utf-8", errors="replace")
    stray = decoded.count("\ufffd") - raw.count("\ufffd".encode())
    non_ascii = len(decoded) - len(decoded.encode("ascii", errors="ignore"))
    return non_ascii - stray > stray


def _stray_byte(e: UnicodeError) -> tuple[str, int]:
    """Codec error handler: read one byte that is not UTF-8 as cp1252 (latin-1 if undefined)."""
    assert isinstance(e, UnicodeDecodeError)
    bad = e.object[e.start : e.start + 1]
    try:
        return bad.decode("cp1252"), e.start + 1
    except UnicodeDecodeError:
        return bad.decode("latin-1"), e.start + 1


_STRAY_BYTE_HANDLER = "protokollsok-stray-byte"
codecs.register_error(_STRAY_BYTE_HANDLER, _stray_byte)


def best_legacy_encoding(raw: bytes) -> str:
    """The single-byte encoding in which ``raw`` reads as the most plausible Swedish text.

    Candidates are ``LEGACY_ENCODINGS`` plus charset_normalizer's guess; each decoding is scored by
    Swedish letters inside words minus symbols and control characters inside words. Ties go to
    the earlier candidate, so plain cp1252 wins unless another encoding reads clearly better.
    """
    candidates = list(LEGACY_ENCODINGS)
    guess = _charset_normalizer_guess(raw)
    if guess and guess not in candidates:
        candidates.append(guess)
    best, best_score = "latin-1", None
    for encoding in candidates:
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        score = swedish_score(text)
        if best_score is None or score > best_score:
            best, best_score = encoding, score
    return best


def _charset_normalizer_guess(raw: bytes) -> str | None:
    try:
        from charset_normalizer import from_bytes

        match = from_bytes(raw[:65536]).best()
    except Exception:  # a detector failure must not fail the file: fall back to cp1252
        return None
    if match is None:
        return None
    encoding = codecs.lookup(match.encoding).name
    return encoding if _ascii_compatible(encoding) else None


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F))


def _ascii_compatible(encoding: str) -> bool:
    """True if ``encoding`` reads ASCII as ASCII (not EBCDIC, UTF-16, …)."""
    try:
        return _PRINTABLE_ASCII.decode(encoding) == _PRINTABLE_ASCII.decode("ascii")
    except (UnicodeDecodeError, LookupError):
        return False


_NEAR_LETTER = re.compile(r"(?<=[^\W\d_])[^\x00-\x7f]|[^\x00-\x7f](?=[^\W\d_])")
_TYPOGRAPHIC = frozenset("–—‘’“”•…´«»§°")  # punctuation that does occur next to letters


def swedish_score(text: str) -> int:
    """How much ``text`` looks like Swedish, by each non-ASCII character next to a letter:
    å ä ö é ü +1; typographic punctuation (``Göteborg–Borås``) 0; another small letter -1;
    anything else (``n„mnd``, ``nÃ¤mnd``, ``nŠmnd``) -2. Control characters count -2."""
    score = sum(_in_word_score(m.group(0)) for m in _NEAR_LETTER.finditer(text))
    return score - 2 * sum(
        1 for ch in text if unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f"
    )


def _in_word_score(ch: str) -> int:
    if ch in _SWEDISH_LETTERS:
        return 1
    if ch in _TYPOGRAPHIC:
        return 0
    return -1 if unicodedata.category(ch) == "Ll" else -2


def unify_newlines(text: str) -> str:
    """``\\r\\n`` and lone ``\\r`` to ``\\n`` (so old Mac files keep their lines too)."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


# ---------------------------------------------------------------------------------------------
# readers: bytes -> (text, page_starts, meta, warnings)

Read = tuple[str, list[int], dict[str, str], list[str]]


def read_txt(raw: bytes, name: str) -> Read:
    """A plain text file; form feeds (pdftotext's page ends) give the page starts."""
    text, notes = decode_text(raw, name)
    text = unify_newlines(text)
    return text, form_feed_pages(text), {}, notes


def form_feed_pages(text: str) -> list[int]:
    """Page starts of text whose pages end with a form feed (``pdftotext`` output), else [].

    A form feed after the last text (pdftotext ends every page with one) starts no page.
    """
    if "\f" not in text:
        return []
    end = len(text.rstrip())
    return [0] + [m.end() for m in re.finditer("\f", text) if m.end() < end]


def read_md(raw: bytes, name: str) -> Read:
    """A markdown file: YAML front matter goes to ``meta`` and is blanked (lines are kept)."""
    text, notes = decode_text(raw, name)
    text, meta = split_front_matter(unify_newlines(text))
    return text, [], meta, notes


_FRONT_MATTER_END = frozenset({"---", "..."})


def split_front_matter(text: str) -> tuple[str, dict[str, str]]:
    """Take a leading ``---`` … ``---`` block off ``text``: returns the text with that block
    replaced by as many empty lines, and its ``key: value`` pairs. No closing line: no front matter.
    """
    lines = text.split("\n")
    if not lines or lines[0].rstrip() != "---":
        return text, {}
    end = next((i for i in range(1, len(lines)) if lines[i].rstrip() in _FRONT_MATTER_END), None)
    if end is None:
        return text, {}
    meta = parse_front_matter(lines[1:end])
    return "\n" * (end + 1) + "\n".join(lines[end + 1 :]), meta


_KEY_VALUE = re.compile(r"^([A-Za-z_][\w-]*)\s*:\s*(.*?)\s*$")


def parse_front_matter(lines: Iterable[str]) -> dict[str, str]:
    """The top-level ``key: value`` scalars of a YAML block (lists and nesting are skipped)."""
    meta: dict[str, str] = {}
    for line in lines:
        m = _KEY_VALUE.match(line)
        if m and m.group(2):
            meta[m.group(1)] = _yaml_scalar(m.group(2))
    return meta


def _yaml_scalar(value: str) -> str:
    if len(value) >= 2 and value[0] == value[-1] == '"':
        with contextlib.suppress(ValueError):
            return str(json.loads(value))
        return value[1:-1]
    if len(value) >= 2 and value[0] == value[-1] == "'":
        return value[1:-1].replace("''", "'")
    return re.sub(r"\s+#.*$", "", value)


# HTML -----------------------------------------------------------------------------------------

_DROP_TAGS = (
    "script", "style", "nav", "header", "footer", "aside", "form",
    "noscript", "template", "iframe", "svg", "button", "select",
)  # fmt: skip
# Blocks that stand apart (an empty line around them) and blocks that only start a new line.
_PARAGRAPH_TAGS = (
    "address", "article", "blockquote", "dl", "figure", "h1", "h2", "h3", "h4", "h5", "h6",
    "hr", "main", "ol", "p", "pre", "section", "table", "ul", "details",
)  # fmt: skip
_LINE_TAGS = (
    "caption", "dd", "div", "dt", "fieldset", "figcaption", "li", "summary", "tbody",
    "tfoot", "thead", "tr",
)  # fmt: skip


def read_html(raw: bytes, name: str) -> Read:
    """An HTML page: body text with every block on its own line; title and <meta> to ``meta``."""
    text, notes = _decode_html(raw, name)
    soup = _soup(text)
    meta = html_meta(soup)
    for tag in soup.find_all(_DROP_TAGS):
        if is_page_furniture(tag):
            tag.decompose()
    if soup.head is not None:
        soup.head.decompose()
    return html_text(soup.body or soup), [], meta, notes


def is_page_furniture(tag) -> bool:
    """True for an element to drop. A ``<header>``/``<footer>`` inside an article, section or
    main is that text's own heading or byline and stays; the page's own header and footer go."""
    if tag.name in ("header", "footer"):
        return tag.find_parent(("article", "section", "main")) is None
    return True


def _decode_html(raw: bytes, name: str) -> tuple[str, list[str]]:
    """Decode like a text file, but a page that is not UTF-8 uses its declared charset if that
    decodes (a page that is valid UTF-8 is UTF-8, whatever it declares: no ``Ã¤``)."""
    from bs4.dammit import EncodingDetector

    declared = EncodingDetector.find_declared_encoding(raw[:4096], is_html=True)
    if declared and not declared.lower().startswith(("utf-16", "utf-32")) and not _is_utf8(raw):
        _reject_binary(raw, name)
        with contextlib.suppress(UnicodeDecodeError, LookupError):
            return raw.decode(declared), []
    return decode_text(raw, name)


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _soup(text: str):
    from bs4 import BeautifulSoup

    try:
        return BeautifulSoup(text, "lxml")
    except Exception:  # lxml missing (bs4.FeatureNotFound): the stdlib parser does the job
        return BeautifulSoup(text, "html.parser")


def html_meta(soup) -> dict[str, str]:
    """``<title>`` and every ``<meta name|property=... content=...>`` of a page."""
    meta: dict[str, str] = {}
    if soup.title and soup.title.get_text(strip=True):
        meta["title"] = " ".join(soup.title.get_text().split())
    for tag in soup.find_all("meta"):
        key = tag.get("name") or tag.get("property")
        content = tag.get("content")
        if isinstance(key, str) and isinstance(content, str) and content.strip():
            meta.setdefault(key.strip().lower(), " ".join(content.split()))
    return meta


def html_text(root) -> str:
    """The visible text under ``root``: headings, paragraphs, list items and table rows on their
    own lines (an empty line around paragraph-like blocks), cells tab-separated, ``<br>`` kept,
    the source's own line breaks and spaces inside a block collapsed."""
    from bs4 import NavigableString

    _number_list_items(root)
    for br in root.find_all("br"):
        br.replace_with(NavigableString(_BR))
    for cell in root.find_all(("td", "th")):
        cell.insert_after(NavigableString(_CELL))
    for tags, marker in ((_LINE_TAGS, _LINE), (_PARAGRAPH_TAGS, _PARA)):
        for block in root.find_all(tags):
            # a paragraph inside a table cell must not break the row's line
            inside_cell = block.name not in ("table", "tr") and block.find_parent(("td", "th"))
            split = " " if inside_cell else marker
            block.insert_before(NavigableString(split))
            block.insert_after(NavigableString(split))
    parts = []
    for s in root.find_all(string=True):
        if type(s) is not NavigableString:  # comments, doctype, CDATA
            continue
        if s in _MARKERS:
            parts.append(s)
            continue
        text = re.sub(f"[{_MARKERS}]", " ", s)
        parts.append(text.replace("\n", _BR) if s.find_parent("pre") else text)
    return _markers_to_lines("".join(parts))


def _number_list_items(root) -> None:
    """Write the numbers of ``<ol>`` items into the text ("1. ", "2. "), as a reader sees them."""
    from bs4 import NavigableString

    for ol in root.find_all("ol"):
        start = ol.get("start")
        n = int(start) if isinstance(start, str) and start.strip().isdigit() else 1
        for li in ol.find_all("li", recursive=False):
            li.insert(0, NavigableString(f"{n}. "))
            n += 1


# Markers for the breaks the markup implies, kept apart from the source's own whitespace (which
# is collapsed); any such control character in the page's text is blanked first.
_LINE, _PARA, _BR, _CELL = "\x00", "\x02", "\x03", "\x01"
_MARKERS = _LINE + _PARA + _BR + _CELL


def _markers_to_lines(text: str) -> str:
    text = re.sub(r"\s+", " ", text)
    text = re.sub(f"[ {_LINE}{_PARA}]*{_PARA}[ {_LINE}{_PARA}]*", "\n\n", text)
    text = re.sub(f"[ {_LINE}]*{_LINE}[ {_LINE}]*", "\n", text)
    text = re.sub(f" *{_CELL} *", "\t", text.replace(_BR, "\n"))
    out: list[str] = []
    for line in text.split("\n"):
        line = line.strip(" ").rstrip("\t")
        if line or (out and out[-1]):
            out.append(line)
    return "\n".join(out).strip("\n") + "\n"


# PDF ------------------------------------------------------------------------------------------


def read_pdf(raw: bytes, name: str) -> Read:
    """A PDF's text layer, page by page; ``page_starts`` holds each page's offset.

    A damaged file is a ``ParseError``; one with (almost) no text layer is ``NoText``.
    """
    if b"%PDF-" not in raw[:1024]:
        raise ParseError(name, f"not a PDF (no %PDF header){_looks_like(raw)}")
    with _captured_library_warnings() as notes:
        try:
            pages, with_fonts, meta = _pdf_pages(raw, name)
        except ParseError:
            raise
        except Exception as e:  # pypdf raises many kinds of errors on broken files
            raise ParseError(name, f"{_pdf_damage(raw)}: {_short(e)}") from None
    if sum(_alnum(p) for p in pages) < MIN_CHARS_PER_PAGE * len(pages):
        _raise_no_text(name, raw, with_fonts, notes)
    text, starts = join_pages(pages)
    empty = [i + 1 for i, p in enumerate(pages) if _alnum(p) == 0]
    if empty:
        notes.append(empty_pages_note(empty, len(pages)))
    return text, starts, meta, notes


def empty_pages_note(empty: list[int], total: int, show: int = 10) -> str:
    """The warning for pages without text: "no text on page 3, 7 (image-only pages?)"."""
    numbers = ", ".join(str(n) for n in empty[:show]) + (", …" if len(empty) > show else "")
    count = f" ({len(empty)} of {total} pages)" if len(empty) > show else ""
    return f"no text on page {numbers}{count} (image-only pages?)"


def _pdf_damage(raw: bytes) -> str:
    """Say "truncated PDF" if the file does not end with %%EOF, else "damaged PDF"."""
    if b"%%EOF" not in raw[-2048:]:
        return "truncated PDF (it does not end with %%EOF)"
    return "damaged PDF"


def _raise_no_text(name: str, raw: bytes, with_fonts: int, notes: list[str]) -> None:
    """No usable text: an image-only PDF (no fonts, or no complaint from pypdf) is ``NoText``;
    fonts whose text pypdf failed to extract mean a damaged file: ``ParseError``."""
    if not with_fonts or not notes:
        raise NoText(name, "PDF has no text layer (image-only); run OCR first")
    raise ParseError(name, f"{_pdf_damage(raw)}: {notes[0].removeprefix('pdf: ')}")


def _pdf_pages(raw: bytes, name: str) -> tuple[list[str], int, dict[str, str]]:
    """The text of every page, how many pages have fonts (so should have text), the meta."""
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(raw), strict=False)
    if reader.is_encrypted and not reader.decrypt(""):
        raise ParseError(name, "encrypted PDF (a password is needed); save an unlocked copy")
    pages = [_page_text(page, i) for i, page in enumerate(reader.pages)]
    if not pages:
        raise ParseError(name, f"{_pdf_damage(raw)}: no pages found")
    return [text for text, _ in pages], sum(1 for _, fonts in pages if fonts), _pdf_meta(reader)


def _pdf_meta(reader) -> dict[str, str]:
    """Title, subject and creation date from the PDF's document information, when stated."""
    try:
        info = reader.metadata
        if info is None:
            return {}
        meta = {"title": info.title, "subject": info.subject}
        out = {k: " ".join(v.split()) for k, v in meta.items() if isinstance(v, str) and v.strip()}
        if info.creation_date:
            out["created"] = info.creation_date.date().isoformat()
    except Exception:  # broken document information must not cost the text
        return {}
    return out


def _page_text(page, index: int) -> tuple[str, bool]:
    """One page's text and whether it has fonts; a page pypdf cannot read is logged as a
    warning and left empty (counted as having fonts: it was meant to hold something)."""
    try:
        if not has_fonts(page.get("/Resources")):
            return "", False  # no font, no text: skip the (slow) parse of a scanned page
        return unify_newlines(page.extract_text() or ""), True
    except Exception as e:  # one broken page must not lose the others
        logging.getLogger("pypdf").warning("page %d unreadable: %s", index + 1, _short(e))
        return "", True


def has_fonts(resources, depth: int = 0) -> bool:
    """True if a PDF resource dictionary (or a form XObject inside it) declares a font.

    A page without fonts cannot show text; unknown or odd structures count as having fonts.
    """
    if depth > 8:
        return True  # too deep to tell: let the text extractor decide
    if resources is None:
        return False
    resources = resources.get_object()
    if not hasattr(resources, "get"):
        return True
    if resources.get("/Font"):
        return True
    xobjects = resources.get("/XObject")
    xobjects = xobjects.get_object() if xobjects is not None else {}
    for ref in xobjects.values():
        xobject = ref.get_object()
        if xobject.get("/Subtype") == "/Form" and has_fonts(xobject.get("/Resources"), depth + 1):
            return True
    return False


def join_pages(pages: list[str]) -> tuple[str, list[int]]:
    """One text from page texts, each page starting on a new line; returns text and page starts."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        starts.append(offset)
        chunk = page if page.endswith("\n") else page + "\n"
        parts.append(chunk)
        offset += len(chunk)
    return "".join(parts), starts


def _alnum(text: str) -> int:
    return sum(1 for ch in text if ch.isalnum())


@contextlib.contextmanager
def _captured_library_warnings() -> Iterator[list[str]]:
    """Collect what pypdf logs or warns about a file as document warnings instead of stderr."""
    notes: list[str] = []

    class _Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            _note(notes, record.getMessage())

    logger = logging.getLogger("pypdf")
    handler, propagate = _Collect(logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield notes
        for w in caught:
            _note(notes, str(w.message))
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _note(notes: list[str], message: str, limit: int = 5) -> None:
    message = f"pdf: {_short(message)}"
    if message not in notes and len(notes) < limit:
        notes.append(message)


# DOCX -----------------------------------------------------------------------------------------


def read_docx(raw: bytes, name: str) -> Read:
    """A Word .docx: body paragraphs and tables in document order (rows as lines, cells
    tab-separated); page headers and footers are left out. Core properties go to ``meta``."""
    if not raw.startswith(b"PK"):
        raise ParseError(name, f"not a .docx file (not a ZIP archive){_looks_like(raw)}")
    try:
        import docx

        document = docx.Document(io.BytesIO(raw))
        lines = list(_docx_lines(document))
        meta = _docx_meta(document)
    except Exception as e:  # python-docx/zipfile/lxml raise many kinds on broken files
        raise ParseError(name, f"damaged or not a .docx file: {_short(e)}") from None
    return "\n".join(lines) + "\n", [], meta, []


def _docx_lines(document) -> Iterator[str]:
    from docx.table import Table

    numbering = DocxNumbering(document)
    for block in document.iter_inner_content():
        if isinstance(block, Table):
            yield from docx_table_lines(block)
        else:
            yield from unify_newlines(numbering.label(block) + block.text).split("\n")


_NUMBER_FORMATS: dict[str, Callable[[int], str]] = {
    "decimal": str,
    "lowerLetter": lambda n: chr(ord("a") + (n - 1) % 26),
    "upperLetter": lambda n: chr(ord("A") + (n - 1) % 26),
}


class DocxNumbering:
    """Word's automatic list numbers ("1.", "2.", "a)"), which are not part of a paragraph's
    text; a decision's "punkt 2" needs them. Bullets and unknown formats give no label."""

    def __init__(self, document) -> None:
        try:
            self.levels = _docx_numbering_levels(document)
        except Exception:  # no or odd numbering part: the text without numbers
            self.levels = {}
        self.counters: dict[str, list[int]] = {}

    def label(self, paragraph) -> str:
        """The number to put before ``paragraph`` ("" for none), counting it."""
        num_id, level = _docx_num_pr(paragraph)
        levels = self.levels.get(num_id or "")
        if not levels or level not in levels or not 0 <= level < 10:
            return ""
        counts = self.counters.setdefault(num_id or "", [0] * 10)
        counts[level] += 1
        counts[level + 1 :] = [0] * (len(counts) - level - 1)
        fmt, _, text = levels[level]
        if fmt not in _NUMBER_FORMATS:
            return ""
        return (
            re.sub(r"%(\d)", lambda m: self._number(levels, counts, int(m.group(1)) - 1), text)
            + " "
        )

    @staticmethod
    def _number(levels: dict[int, tuple[str, int, str]], counts: list[int], level: int) -> str:
        fmt, start, _ = levels.get(level, ("decimal", 1, ""))
        return _NUMBER_FORMATS.get(fmt, str)(start + max(counts[level], 1) - 1)


def _docx_numbering_levels(document) -> dict[str, dict[int, tuple[str, int, str]]]:
    """numId -> level -> (number format, start, level text like "%1.") from numbering.xml."""
    from docx.oxml.ns import qn

    root = document.part.numbering_part.element
    abstract = {}
    for a in root.findall(qn("w:abstractNum")):
        levels = {}
        for lvl in a.findall(qn("w:lvl")):
            fmt, start, text = (lvl.find(qn(f"w:{k}")) for k in ("numFmt", "start", "lvlText"))
            levels[int(lvl.get(qn("w:ilvl")))] = (
                fmt.get(qn("w:val")) if fmt is not None else "decimal",
                int(start.get(qn("w:val"))) if start is not None else 1,
                text.get(qn("w:val")) if text is not None else "",
            )
        abstract[a.get(qn("w:abstractNumId"))] = levels
    nums = {}
    for num in root.findall(qn("w:num")):
        ref = num.find(qn("w:abstractNumId"))
        if ref is not None and ref.get(qn("w:val")) in abstract:
            nums[num.get(qn("w:numId"))] = abstract[ref.get(qn("w:val"))]
    return nums


def _docx_num_pr(paragraph) -> tuple[str | None, int]:
    """The (numId, level) of a paragraph, from itself or else from its style chain."""
    from docx.oxml.ns import qn

    elements = [paragraph._p]
    style = paragraph.style
    while style is not None:
        elements.append(style.element)
        style = style.base_style
    for element in elements:
        num_pr = element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
        if num_pr is not None:
            num_id, ilvl = num_pr.find(qn("w:numId")), num_pr.find(qn("w:ilvl"))
            value = num_id.get(qn("w:val")) if num_id is not None else None
            level = int(ilvl.get(qn("w:val"))) if ilvl is not None else 0
            return (None if value == "0" else value), level
    return None, 0


def docx_table_lines(table) -> Iterator[str]:
    """One line per table row, cells tab-separated; a merged cell counts once."""
    for row in table.rows:
        cells, seen = [], set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            yield "\t".join(cells)


def _docx_meta(document) -> dict[str, str]:
    props = document.core_properties
    meta = {"title": props.title, "subject": props.subject, "keywords": props.keywords}
    out = {k: v.strip() for k, v in meta.items() if isinstance(v, str) and v.strip()}
    if props.created:
        out["created"] = props.created.date().isoformat()
    return out


# helpers ---------------------------------------------------------------------------------------


def _short(e: object, limit: int = 120) -> str:
    """A one-line, bounded description of an exception or message."""
    text = " ".join(str(e).split()) or type(e).__name__
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _looks_like(raw: bytes) -> str:
    for magic, what in _MAGIC:
        if raw.startswith(magic):
            return f"; it looks like {what}"
    return ""


_READERS: dict[str, Callable[[bytes, str], Read]] = {
    "txt": read_txt,
    "md": read_md,
    "html": read_html,
    "pdf": read_pdf,
    "docx": read_docx,
}


# ---------------------------------------------------------------------------------------------
# discover

OnError = Callable[[Path, str], None]


def discover(
    roots: Iterable[str | Path], on_error: OnError | None = None
) -> Iterator[tuple[Path, str]]:
    """Yield ``(path, source)`` for every supported file under ``roots``, sorted.

    A root may be a folder (``source`` = path relative to it, posix separators) or a single file
    (``source`` = its name). Hidden files and folders and editor temp files are skipped; symlinks
    are followed, each real folder is walked once (no loops). Folders that cannot be listed and
    links with a supported name that lead to no file (broken, looping) are skipped and reported to
    ``on_error(path, reason)`` if given.
    """
    for root in roots:
        root = Path(root)
        if root.is_dir():
            yield from _walk(root, on_error)
        elif root.is_file() and format_of(root):
            yield root, root.name
        elif on_error:
            on_error(root, _root_problem(root))


def _root_problem(root: Path) -> str:
    """Why a root given to ``discover`` yields nothing."""
    if root.is_file():
        return f"unsupported file type {root.suffix or '(no ending)'!r}"
    if root.exists():
        return "not a regular file or folder"
    return "not found"


def is_candidate(name: str) -> bool:
    """True for a file name discover yields: supported ending, not hidden, not an editor temp."""
    if name.startswith((".", "~$")) or name.endswith("~"):
        return False
    return format_of(name) is not None


def _walk(root: Path, on_error: OnError | None) -> Iterator[tuple[Path, str]]:
    """Depth-first, sorted by name, without recursion (a very deep tree cannot overflow)."""
    seen: set[tuple[int, int]] = set()
    stack = [iter(_listing(root, seen, on_error))]
    while stack:
        entry = next(stack[-1], None)
        if entry is None:
            stack.pop()
        elif entry.name.startswith("."):
            continue
        elif _is(entry.is_dir):
            stack.append(iter(_listing(Path(entry.path), seen, on_error)))
        elif is_candidate(entry.name) and _is(entry.is_file):
            path = Path(entry.path)
            yield path, path.relative_to(root).as_posix()
        elif on_error and is_candidate(entry.name) and entry.is_symlink():
            on_error(Path(entry.path), _link_problem(Path(entry.path)))


def _listing(folder: Path, seen: set[tuple[int, int]], on_error: OnError | None) -> list:
    """The entries of ``folder`` sorted by name; empty if it was walked already (a loop) or
    cannot be listed (reported to ``on_error``)."""
    try:
        st = folder.stat()
        if (st.st_dev, st.st_ino) in seen:
            return []
        seen.add((st.st_dev, st.st_ino))
        with os.scandir(folder) as it:
            return sorted(it, key=lambda e: e.name)
    except OSError as e:
        if on_error:
            on_error(folder, _os_reason(e))
        return []


def _link_problem(link: Path) -> str:
    """Why a link with a supported name leads to no file."""
    try:
        link.stat()
    except OSError as e:
        if isinstance(e, FileNotFoundError):
            return f"broken link: its target {link.readlink()} does not exist"
        return _os_reason(e)
    return "not a regular file"


def _is(check: Callable[[], bool]) -> bool:
    """``DirEntry.is_dir``/``is_file`` following links, False when the link is broken or loops."""
    try:
        return check()
    except OSError:
        return False
