"""Split a cleaned document into search units: one per §, one per bilaga, or one ``dokument``.

Rules (each one a small function below):

* A **§ heading** is a line that starts with ``§`` and a number (``§ 23``, ``§1``, ``## **§ 26**``,
  ``§ 9**Övergripande …``, ``- § 57``). It is *not* a heading when the line goes on in lower case
  (``§ 21 i kommunfullmäktiges arbetsordning`` is a reference broken onto a new line), when the
  previous line runs on into it (no blank line and no closing punctuation), when ``§`` is glued to a
  letter (OCR's ``§vergripande``) or when the § sits inside running text or a table (``enligt § 5``,
  ``|§|26|``), or when the next non-empty line is the next heading (a row of a plain-text
  table of contents).
* A **bilaga** is an attachment actually printed in the file: a line that is only ``Bilaga``,
  ``Bilaga 1`` or ``Bilaga A`` (optionally ``… till protokoll/§ …``), or a party document headed
  ``Ärende <n>`` where ``<n>`` is the number of the § it follows (the Stockholm form of a
  förslag till beslut, reservation or särskilt uttalande printed after the §). A list of
  attachment names (``Bilagor`` + a numbered list, ``Bilaga 3 – Lövet 3, …``) is not a bilaga.
* A file without any § heading is one ``dokument`` unit (a tjänsteutlåtande, a report).
* **Front pages** before the first § (närvarolista, justering, innehåll) belong to no unit: they
  are dropped from the units; ``metadata.extract`` still reads the document header from
  ``doc.text`` itself, so the nämnd, date and dnr it states carry over to every unit.
* A heading that repeats the number of the § just before it is that § continued on a new page
  (Göteborg prints "§ 29 0128/22" again); a number that comes back later gets an id suffix
  (``#§5.2``).
* **Titles**: the text after the number, else the next line that is not page furniture; a
  heading broken over lines is joined up to a section word ("Beslut"), or while a line starts in
  lower case, the previous ends in a word such as "och"/"för" or a comma, or carries on a
  person's name ("… i stället för Rebecka" / "Rapp (SD)"). A leading or trailing dnr is dropped.
* **Page furniture** (lines that repeat on many pages, compared without their page number, and
  page numbers such as ``3 (74)``) never splits a unit and never titles one; the running head of
  the page on which the next unit starts is not part of the unit before it (lines printed around
  the page numbers of at least half the pages are running heads).
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import NamedTuple

from protokollsok.model import Document, Segment

# Characters that may precede a heading on its line: indentation, markdown, list bullets.
_LEAD = r"[ \t\f>#*_\-–•]*"
_HEADING = re.compile(rf"^{_LEAD}§[ \t]*(\d{{1,4}})(?![\d/:]\d)(.*)$")
_BILAGA_LINE = re.compile(
    r"^[ \t\f#*_]*Bilaga(?:[ \t]+(?:\d{1,2}|[A-Z]))?[ \t]*"
    r"(?:till[ \t]+(?:protokoll|§|paragraf|ärende)\S*(?:[ \t].*)?)?[*_ \t]*$",
)
_ARENDE_LINE = re.compile(r"^[ \t\f#*_]*(?:Ä|A)rende[ \t]+(?:nr\.?[ \t]*)?(\d{1,4})[*_ \t]*$")
_PAGE_NUMBER = re.compile(r"^(?:(?:sida|sid\.?|s\.)\s*)?\d{1,4}(?:\s*\(\s*\d{1,4}\s*\))?$", re.I)
_TRAILING_PAGE = re.compile(r"\s*(?:\d{1,4}\s*\(\s*\d{1,4}\s*\)|[Ss]ida \d{1,4} av \d{1,4})$")
_DATE_LINE = re.compile(
    r"^(?:\d{4}-\d{2}-\d{2}|\d{1,2}\s+[a-zåäö]+\s+\d{4})$",
    re.I,
)
# A dnr or "Ärendenummer X"/"Dnr X" that may stand on a heading line next to the § number.
_DNR = (
    r"(?:\d{3,5}/\d{2}|[A-ZÅÄÖ]{2,5}[ -]\d{4}[-/]\d{1,6}(?::-?\d{1,4})?"
    r"|[A-ZÅÄÖa-zåäö]{2,5}/\d{4}:\d{1,6}|[A-ZÅÄÖ]{2,5}:\d{3,6})(?:[ \t]+\d{3})?(?=\s|$|,)"
)
_DNR_PREFIX = re.compile(
    rf"^(?:(?:Ärendenummer|Diarienummer|Dnr\.?)(?:[ \t:]+{_DNR}|[ \t:]*$)|{_DNR})"
)
_TRAILING_DNR = re.compile(r"[,;]?\s*(?:Dnr\.?\s*)?[A-ZÅÄÖ]{2,5}[ -]\d{4}[/-]\d{1,6}\s*$")
# Words after which a heading line continues on the next line.
_RUN_ON_WORDS = frozenset(
    [
        "av",
        "och",
        "eller",
        "för",
        "till",
        "i",
        "om",
        "på",
        "med",
        "från",
        "samt",
        "inom",
        "vid",
        "över",
        "under",
        "enligt",
        "mot",
        "mellan",
        "gällande",
        "avseende",
        "angående",
        "inför",
        "efter",
        "hos",
        "utan",
        "genom",
        "kring",
        "rörande",
        "den",
        "det",
        "att",
        "som",
        "en",
        "ett",
        "de",
    ]
)
_SECTION_WORDS = frozenset(
    [
        "beslut",
        "beslutsunderlag",
        "sammanfattning",
        "ärendet",
        "bakgrund",
        "yrkanden",
        "propositionsordning",
        "beslutsgång",
        "reservationer",
        "reservation",
        "handlingar",
        "handling",
        "information",
    ]
)
_MARKUP = re.compile(r"[*_#`]+")
_BODY_NAME = re.compile(
    r"(?:nämnd|namnd|förvaltning|styrelse|fullmäktige)\w*$|^(?:nämnden|styrelsen) för ", re.I
)
# The rest of a person's name and their party, at the start of a line.
_NAME_TAIL = re.compile(
    r"^[A-ZÅÄÖ][\wåäöéü'-]+(?: [A-ZÅÄÖ][\wåäöéü'-]+)? \((?:S|M|C|L|KD|V|MP|SD|Fi|D)\)"
)
_MAX_TITLE_LINES = 6
_RUNNING_TEXT_WORDS = 5
_ABBREVIATIONS = frozenset(["resp", "jfr", "dvs", "bl.a", "m.fl", "m.m", "kap", "osv", "etc"])
_FRAGMENT_WORDS = 6  # a lower-case line this short after a blank one may end a split heading  # a line this long that ends in lower case is running text
_FURNITURE_MIN_REPEATS = 3
_HEAD_REACH = 5  # lines above and below a page number that may belong to the running head


class _Line(NamedTuple):
    """One line of the document: 0-based index, character offset, text, and ``bare`` (the text
    without markup, list bullets and surrounding whitespace)."""

    index: int
    start: int
    text: str
    bare: str

    @property
    def end(self) -> int:
        return self.start + len(self.text)


def _bare(text: str) -> str:
    """``text`` without markup, list bullets and surrounding whitespace, spaces folded."""
    if not text.strip():
        return ""
    if "*" in text or "_" in text or "#" in text or "`" in text:
        text = _MARKUP.sub(" ", text)
    return " ".join(text.split()).lstrip("-–•> ")


@dataclass(frozen=True)
class _Cut:
    """Where a unit starts: a § heading or a bilaga."""

    line: int
    kind: str  # paragraf | bilaga | dokument
    number: int | None
    title: str


def split(doc: Document) -> list[Segment]:
    """Split a cleaned document into its §, bilaga and dokument units, in text order.

    A document with no text at all has no units."""
    if not doc.text.strip():
        return []
    lines = _lines(doc.text)
    furniture = _furniture(lines)
    headings = _without_continuations(_without_listings(lines, list(_headings(lines))))
    if not headings:
        return _document_units(doc, lines, furniture)
    cuts: list[_Cut] = []
    for i, (line, number) in enumerate(headings):
        stop = headings[i + 1][0] if i + 1 < len(headings) else len(lines)
        cuts.append(_Cut(line, "paragraf", number, _paragraf_title(lines, line, furniture)))
        cuts.extend(_bilaga_cuts(lines, line + 1, stop, number, furniture))
    return _segments(doc, lines, cuts)


def _lines(text: str) -> list[_Line]:
    """The document's lines with their start offsets (``\\n`` excluded)."""
    out: list[_Line] = []
    offset = 0
    for i, piece in enumerate(text.split("\n")):
        out.append(_Line(i, offset, piece, _bare(piece)))
        offset += len(piece) + 1
    return out


def _furniture(lines: list[_Line]) -> frozenset[str]:
    """Lines that repeat on many pages (running heads and feet), compared without a trailing
    page number ("Stadsrevisionen, Rapportsammandrag 3 (5)")."""
    counts = Counter(_running_key(ln.bare) for ln in lines if ln.bare)
    return frozenset(t for t, n in counts.items() if n >= _FURNITURE_MIN_REPEATS and len(t) < 90)


def _running_key(bare: str) -> str:
    """``bare`` without a trailing page number, so running heads of all pages compare equal."""
    if bare[-1:] == ")" or bare[-1:].isdigit():
        return _TRAILING_PAGE.sub("", bare)
    return bare


def _is_furniture(line: _Line, furniture: frozenset[str]) -> bool:
    bare = line.bare
    return _running_key(bare) in furniture or bool(_PAGE_NUMBER.match(bare))


def _runs_on(previous: _Line | None) -> bool:
    """True when ``previous`` is a line of running text that continues onto the next line: it
    ends in a comma or a word such as "enligt"/"i"/"och", or is a sentence-long line ending in
    lower case. A short label ("Justerandes sign", "Utdragsbestyrkande") does not run on."""
    if previous is None or not previous.bare:
        return False
    words = previous.bare.split()
    last = words[-1]
    if last.endswith(",") or last.lower() in _RUN_ON_WORDS:
        return True
    return len(words) >= _RUNNING_TEXT_WORDS and last[-1].islower()


def _headings(lines: list[_Line]) -> Iterator[tuple[int, int]]:
    """(line index, § number) of every § heading."""
    for i, line in enumerate(lines):
        match = _HEADING.match(line.text)
        if not match:
            continue
        rest = _MARKUP.sub("", match.group(2)).strip()
        if _is_reference(rest) or _runs_on(lines[i - 1] if i else None):
            continue
        yield i, int(match.group(1))


def _without_listings(lines: list[_Line], headings: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop headings that are rows of a table of contents: the next non-empty line is the next
    heading, so the "§" has no body of its own."""
    starts = {line for line, _ in headings}
    kept = []
    for line, number in headings:
        following = next((j for j in range(line + 1, len(lines)) if lines[j].bare), None)
        if following not in starts:
            kept.append((line, number))
    return kept


def _without_continuations(headings: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Drop a heading that repeats the number of the heading just before it: a § continued on a
    new page with its number printed again (Göteborg's "§ 29 0128/22" on the next page)."""
    kept: list[tuple[int, int]] = []
    for line, number in headings:
        if kept and kept[-1][1] == number:
            continue
        kept.append((line, number))
    return kept


def _is_reference(rest: str) -> bool:
    """True when the text after ``§ n`` shows a reference or range, not a heading."""
    if not rest:
        return False
    first = rest[0]
    return first.islower() or first in "-–§,.;:)" or rest.startswith(("och ", "kap"))


def _paragraf_title(lines: list[_Line], heading: int, furniture: frozenset[str]) -> str:
    """The § heading: text after the number, or the next non-empty, non-furniture line(s)."""
    match = _HEADING.match(lines[heading].text)
    rest = _strip_dnr(_MARKUP.sub(" ", match.group(2) if match else "").strip())
    if rest:
        return _title_from(lines, heading, rest)
    for j in range(heading + 1, min(heading + 12, len(lines))):
        bare = lines[j].bare
        adjacent = j == heading + 1
        if not bare or _DNR_PREFIX.fullmatch(bare):
            continue
        if _is_furniture(lines[j], furniture) and not (
            adjacent and _running_key(bare) in furniture
        ):
            continue
        return _title_from(lines, j, _strip_dnr(bare) or bare)
    return ""


def _strip_dnr(text: str) -> str:
    """Drop a leading dnr (``0901/22``, ``Ärendenummer SLK-2025-00019``) and a trailing one."""
    text = text.strip()
    match = _DNR_PREFIX.match(text)
    if match:
        text = text[match.end() :].strip(" ,;:")
    return _TRAILING_DNR.sub("", text).strip()


def _title_from(lines: list[_Line], first: int, text: str) -> str:
    """``text`` (the bare first title line) joined with the lines that continue it.

    A block of lines that runs without a blank line into a section word ("Beslut") is the title
    whole; otherwise a line continues the title when it starts in lower case or the title so far
    ends in a word such as "och", "för", "mellan"."""
    block = _title_block(lines, first)
    if block > 1:
        parts = [text] + [_title_part(ln) for ln in lines[first + 1 : first + block]]
        return " ".join(" ".join(parts).split())
    parts = [text]
    j = first + 1
    while len(parts) < _MAX_TITLE_LINES and j < len(lines):
        j = _next_heading_part(lines, j)
        if not _continues(parts[-1], lines[j]):
            break
        parts.append(_title_part(lines[j]))
        j += 1
    return " ".join(" ".join(parts).split())


def _next_heading_part(lines: list[_Line], j: int) -> int:
    """``j``, or the line after it when ``j`` is a single blank line before a short lower-case
    fragment: a heading a converter split in two ("## **… representation i organ**" / "" /
    "## **och utskott**", which normalize leaves as two lines around a blank one)."""
    if lines[j].bare or j + 1 >= len(lines):
        return j
    fragment = lines[j + 1].bare
    if (
        fragment[:1].islower()
        and len(fragment.split()) <= _FRAGMENT_WORDS
        and not fragment.endswith(".")
    ):
        return j + 1
    return j


def _title_part(line: _Line) -> str:
    """A continuation line of a title: markup and a trailing dnr gone, a leading dash kept
    ("Förändring genom försök" / "- Försöksverksamhet i …")."""
    plain = " ".join(_MARKUP.sub(" ", line.text).split())
    return _strip_dnr(plain) or plain


def _title_block(lines: list[_Line], first: int) -> int:
    """Number of lines from ``first`` that end, without a blank line, at a section word or a
    line holding only a dnr; 0 if none follows within the title's reach."""
    for k in range(1, _MAX_TITLE_LINES + 1):
        if first + k >= len(lines):
            return 0
        bare = lines[first + k].bare
        if not bare or _HEADING.match(lines[first + k].text) or _ends_sentence(bare):
            return 0  # a blank line, the next §, or a sentence: not one title
        if _is_section_word(bare) or _DNR_PREFIX.fullmatch(bare):
            return k
    return 0


def _ends_sentence(bare: str) -> bool:
    """True when a line ends with a full stop that is not an abbreviation's ("11 kap.", "m.fl.")."""
    if not bare.endswith("."):
        return False
    last = bare.split()[-1].rstrip(".").lower()
    return len(last) >= 4 and "." not in last and last not in _ABBREVIATIONS


def _is_section_word(bare: str) -> bool:
    """True for a line opening a section of a § ("Beslut", "Yrkanden:"), capitalised as headings are."""
    first = bare.split()[0].strip(":")
    return first[:1].isupper() and first.lower() in _SECTION_WORDS


def _continues(previous: str, line: _Line) -> bool:
    """True when ``line`` carries on the title ending in ``previous``."""
    bare = line.bare
    if not bare or not previous or _is_section_word(bare) or _DNR_PREFIX.fullmatch(bare):
        return False
    last = previous.split()[-1]
    runs_on = previous.endswith(",") or last.lower() in _RUN_ON_WORDS
    if last[:1].isupper() and _NAME_TAIL.match(bare):
        return True  # a name broken over the line: "… i stället för Rebecka" / "Rapp (SD)"
    if _HEADING.match(line.text):
        return runs_on  # "… protokoll den 11 juni 2025," / "§ 558 i ärende …" is no heading
    return runs_on or bare[0].islower()


def _bilaga_cuts(
    lines: list[_Line], first: int, stop: int, number: int | None, furniture: frozenset[str]
) -> Iterator[_Cut]:
    """The bilagor printed between line ``first`` and ``stop`` (exclusive) of a § or document."""
    floor = first
    for j in range(first, stop):
        line = lines[j]
        previous = lines[j - 1] if j else None
        if _BILAGA_LINE.match(line.text) and not _runs_on(previous) and not _in_list(lines, j):
            yield _Cut(j, "bilaga", number, _named_bilaga_title(lines, j, furniture))
            floor = j + 1
            continue
        arende = _ARENDE_LINE.match(line.text)
        if arende and number is not None and int(arende.group(1)) == number:
            start = _block_start(lines, j, floor)
            yield _Cut(start, "bilaga", number, _bilaga_title(lines, start, j, furniture))
            floor = j + 1


def _named_bilaga_title(lines: list[_Line], index: int, furniture: frozenset[str]) -> str:
    """ "Bilaga 1", followed by the heading on the next lines when there is one
    ("Bilaga – Offentlighets- och sekretesslagens bestämmelser")."""
    label = lines[index].bare
    for j in range(index + 1, min(index + 4, len(lines))):
        bare = lines[j].bare
        if not bare or _is_furniture(lines[j], furniture):
            continue
        if len(bare.split()) >= 2 and _looks_like_title(_title_from(lines, j, bare)):
            return f"{label} – {_title_from(lines, j, bare)}"
        break
    return label


def _in_list(lines: list[_Line], index: int) -> bool:
    """True when line ``index`` is an item of a list of attachment names."""
    for j in range(index - 1, max(index - 8, -1), -1):
        bare = lines[j].bare.lower()
        if not bare:
            continue
        return bare.startswith(("bilagor", "handlingar", "beslutsunderlag")) or bool(
            re.match(r"^(\d+[.)]|[a-z][.)])\s", bare)
        )
    return False


def _block_start(lines: list[_Line], index: int, floor: int) -> int:
    """First line of the letterhead block that ends at ``index``: after the last gap of 2+ blank lines."""
    blanks = 0
    for j in range(index - 1, floor - 1, -1):
        if lines[j].bare:
            if blanks >= 2:
                return j + 1 + blanks
            blanks = 0
        else:
            blanks += 1
    return index


def _bilaga_title(lines: list[_Line], start: int, stop: int, furniture: frozenset[str]) -> str:
    """The first heading-like line of a letterhead block (not a date, name of a body or furniture)."""
    for j in range(start, stop):
        bare = lines[j].bare
        if not bare or _DATE_LINE.match(bare) or _is_furniture(lines[j], furniture):
            continue
        if _is_body_name(bare):
            continue
        return _title_from(lines, j, bare)
    return lines[stop].bare


def _is_body_name(text: str) -> bool:
    """True for a short line naming a nämnd or förvaltning (a letterhead line, not a title)."""
    words = text.split()
    return len(words) <= 5 and bool(_BODY_NAME.search(text))


def _document_units(doc: Document, lines: list[_Line], furniture: frozenset[str]) -> list[Segment]:
    """A file without §: one ``dokument`` unit, followed by any bilagor printed in it."""
    first = next((ln.index for ln in lines if ln.bare), 0)
    title = _document_title(lines, furniture, doc.meta.get("title", ""))
    cuts = [_Cut(first, "dokument", None, title)]
    cuts.extend(_bilaga_cuts(lines, first + 1, len(lines), None, furniture))
    return _segments(doc, lines, cuts)


def _document_title(lines: list[_Line], furniture: frozenset[str], stated: str = "") -> str:
    """A dokument's ärende title: the title the file states about itself (front matter, PDF or
    HTML title) when its text shows it too, else a markdown heading, else the first heading-like
    line of the header that is not a label, an addressee or a running head."""
    candidates = [ln for ln in lines[:80] if ln.bare and not _is_furniture(ln, furniture)]
    stated = " ".join(stated.split())
    if _looks_like_title(stated) and not _is_body_name(stated) and _shows(lines, stated):
        return stated
    for ln in candidates:
        if ln.text.lstrip().startswith("#") and _looks_like_title(ln.bare):
            return _title_from(lines, ln.index, ln.bare)
    for ln in candidates:
        bare = _running_key(ln.bare)
        if len(bare.split()) < 2 or _is_body_name(bare):
            continue  # a label ("Till", "Handläggare") or the addressee, not the ärende
        title = _title_from(lines, ln.index, bare)
        if _looks_like_title(title):
            return title
    return candidates[0].bare if candidates else ""


def _shows(lines: list[_Line], phrase: str) -> bool:
    """True when ``phrase`` appears in the first pages of the text (whitespace folded)."""
    head = " ".join(ln.bare for ln in lines[:200] if ln.bare).lower()
    return phrase.lower() in head


def _looks_like_title(text: str) -> bool:
    """A heading-like line: starts upper case, 3+ words, no label colon, no closing full stop."""
    words = text.split()
    return bool(words) and (
        len(words) >= 3
        and text[0].isupper()
        and ":" not in text
        and not text.endswith(".")
        and not _DATE_LINE.match(text)
        and not any(ch.isdigit() for ch in words[0])
    )


def _segments(doc: Document, lines: list[_Line], cuts: list[_Cut]) -> list[Segment]:
    """Turn cuts (in line order) into segments with ids, spans, lines and pages."""
    source = doc.path
    seen: Counter[int] = Counter()
    bilagor = 0
    out: list[Segment] = []
    starts = [ln.start for ln in lines]
    running = _running_heads(lines)
    for i, cut in enumerate(cuts):
        stop = cuts[i + 1].line if i + 1 < len(cuts) else len(lines)
        stop = _without_trailing_heads(lines, cut.line, stop, running)
        start, end = _span(doc.text, lines, cut.line, stop)
        if cut.kind == "paragraf":
            assert cut.number is not None
            seen[cut.number] += 1
            suffix = f".{seen[cut.number]}" if seen[cut.number] > 1 else ""
            uid = f"{source}#§{cut.number}{suffix}"
        elif cut.kind == "bilaga":
            bilagor += 1
            uid = f"{source}#bilaga{bilagor}"
        else:
            uid = f"{source}#dokument"
        out.append(_segment(doc, uid, cut, (start, end), starts))
    return out


def _running_heads(lines: list[_Line]) -> frozenset[str]:
    """Lines printed around the page numbers of at least half the pages ("Göteborgs Stad
    Kommunfullmäktige, protokoll", "Sammanträdesdatum: …", "Justerandes sign"): the running
    heads and feet. Needs 3+ page numbers; a file without them has none."""
    pages = [ln.index for ln in lines if ln.bare and _PAGE_NUMBER.match(ln.bare)]
    if len(pages) < _FURNITURE_MIN_REPEATS:
        return frozenset()
    near: Counter[str] = Counter()
    for p in pages:
        window = lines[max(0, p - _HEAD_REACH) : p + _HEAD_REACH + 1]
        near.update({_running_key(ln.bare) for ln in window if ln.bare})
    need = max(_FURNITURE_MIN_REPEATS, len(pages) // 2)
    return frozenset(key for key, n in near.items() if n >= need)


def _without_trailing_heads(
    lines: list[_Line], first: int, stop: int, running: frozenset[str]
) -> int:
    """``stop`` moved up over the blank lines, page numbers and running heads that end a unit
    (the head of the page on which the next unit starts); never above the unit's first line."""
    while stop - 1 > first:
        bare = lines[stop - 1].bare
        if bare and not _PAGE_NUMBER.match(bare) and _running_key(bare) not in running:
            break
        stop -= 1
    return stop


def _span(text: str, lines: list[_Line], first: int, stop: int) -> tuple[int, int]:
    """Character span of lines ``first`` .. ``stop - 1`` without surrounding whitespace."""
    start = lines[first].start
    end = lines[stop - 1].end if stop > first else lines[first].end
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _segment(
    doc: Document, uid: str, cut: _Cut, span: tuple[int, int], starts: list[int]
) -> Segment:
    """One Segment; ``starts`` are the line start offsets (for 1-based line numbers)."""
    text = doc.text
    start, end = span
    first_line = bisect_right(starts, start)
    last_line = bisect_right(starts, max(start, end - 1))
    pages = None
    if doc.page_starts:
        first_page, last_page = doc.page_of(start), doc.page_of(max(start, end - 1))
        if first_page is not None and last_page is not None:
            pages = (first_page, last_page)
    return Segment(
        id=uid,
        source=doc.path,
        kind=cut.kind,
        paragraf=cut.number,
        title=cut.title,
        text=text[start:end],
        start=start,
        end=end,
        lines=(first_line, last_line),
        pages=pages,
    )
