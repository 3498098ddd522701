"""Describe each unit: diarienummer, nämnd, meeting date, parties and document type, canonically.

Where a fact comes from:

* **dnr** — every diarienummer in the unit's text (Stockholm ``SÖD 2023/713``, ``KS 2019/656``,
  Socialförvaltningen ``1.7.1-266/2019``, Jönköping ``Bun/2024:73``, Göteborg ``SLK-2025-00338``
  and the older ``0901/22`` or ``SLK:16342`` when it stands on a § heading or after
  ``Dnr``/``Ärendenummer``).
  OCR-damaged Stockholm prefixes get their Swedish letters back (``SOD`` -> ``SÖD``) from a table of
  förvaltning prefixes and from the document's own nämnd name. A bilaga carries the dnr of its §.
  The dnr of the header (before the first unit) carry over to every unit when the file holds at
  most one § (a protokollsutdrag, a tjänsteutlåtande); a full protokoll's front pages list the dnr
  of all its §§ (innehåll) and are not carried over.
* **nämnd** — front matter ``namnd``, else the body the document is written by or to: a line that
  is only a body's name (letterhead, running head, "Till …"), a "<Nämnd>s beslut" heading, or a
  sentence starting with a body's name; a generic "Stadsdelsnämnden" is made specific from a named
  stadsdelsnämnd/-förvaltning in the file; recipients ("Protokollsutdrag skickas till" + names)
  never count. One per document, carried to every unit, except that a § whose page head names a
  body next to its meeting date ("Sammanträdesdatum: 2025-04-07" / "Göteborgs Stads
  grundskolenämnd") takes that body and date: files that bind several nämnders' utdrag together.
* **datum** — a labelled meeting date (``Sammanträdesdatum: 2023-01-26``, ``SAMMANTRÄDESPROTOKOLL
  2016-05-17``) in the page head just above the unit or in the unit, else the document's: front matter ``datum``, a labelled meeting date, a
  date line next to a body's name (letterhead, "Till <nämnd> / 19 oktober 2023"), or a date line of
  its own in a tjänsteutlåtande's header; else the one whole date in the file's name
  (``ks-2024-02-28.txt``: archives name protokoll by their meeting). Dates in running text
  ("daterat den 7 augusti 2019", "senast 27 oktober") are never used: None rather than a guess.
* **parti** — party codes in parentheses (``(S)``, ``m.fl. (M)``, ``(Fi)``), lists after "från"/"av"
  (``yrkande från M, D, L och KD``) and party names (``Kristdemokraterna``).
* **doctype** — tjänsteutlåtande (no §, förvaltningens förslag), protokollsutdrag (one §), protokoll
  (several §§ or "Sammanträdesprotokoll"); else a type a heading line of the header starts with
  (rapportsammandrag, delårsrapport, revisionsberättelse, riktlinje, rutin, …); else None.
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from pathlib import PurePath

from protokollsok.model import Document, Metadata, Segment, Unit

# --- parties -----------------------------------------------------------------------------------

PARTY_CODES = ("S", "M", "C", "L", "KD", "V", "MP", "SD", "Fi", "D")
PARTY_NAMES = {
    "socialdemokraterna": "S",
    "moderaterna": "M",
    "centerpartiet": "C",
    "liberalerna": "L",
    "folkpartiet": "L",
    "kristdemokraterna": "KD",
    "vänsterpartiet": "V",
    "miljöpartiet": "MP",
    "sverigedemokraterna": "SD",
    "feministiskt initiativ": "Fi",
    "demokraterna": "D",
}
_CODE_ALT = "|".join(sorted(PARTY_CODES, key=len, reverse=True))
_PAREN_PARTY = re.compile(rf"\(\s*({_CODE_ALT})\s*\)")
_LIST_PARTY = re.compile(
    rf"\b(?:från|av)\s+((?:(?:{_CODE_ALT}),\s+)*(?:{_CODE_ALT})(?:\s+och\s+(?:{_CODE_ALT}))?)(?=[\s.,;:)]|$)"
)
_NAME_PARTY = re.compile(
    r"(?<![\wåäöÅÄÖ-])(" + "|".join(PARTY_NAMES) + r")(?:s)?(?![\wåäöÅÄÖ])",
    re.IGNORECASE,
)

# --- dates -------------------------------------------------------------------------------------

MONTHS = {
    m: i
    for i, m in enumerate(
        [
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ],
        start=1,
    )
}
_ISO = r"(?:19|20)\d{2}-(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])"
_LONG = r"(?:[1-9]|[12]\d|3[01])\s+(?:" + "|".join(MONTHS) + r")\s+(?:19|20)\d{2}"
_DATE = re.compile(rf"({_ISO}|{_LONG})", re.IGNORECASE)
_DATE_ONLY_LINE = re.compile(rf"^\s*(?:den\s+)?({_ISO}|{_LONG})\s*$", re.IGNORECASE)
# Only labels that state *this* meeting's date: "sammanträdet den 8 december" in running text
# refers to another meeting as often as to this one.
_MEETING_LABEL = re.compile(
    rf"(?:sammanträdesdatum|sammanträdesprotokoll|mötesdatum|datum för sammanträdet)"
    rf"[ \t]*:?[ \t]*({_ISO}|{_LONG})",
    re.IGNORECASE,
)

# --- bodies ------------------------------------------------------------------------------------

# Stockholm's stadsdelsområden, old and new names (used to restore OCR-damaged letters).
STOCKHOLM_STADSDELAR = (
    "Bromma",
    "Enskede-Årsta-Vantör",
    "Farsta",
    "Hägersten-Liljeholmen",
    "Hägersten-Älvsjö",
    "Hässelby-Vällingby",
    "Järva",
    "Kungsholmen",
    "Norrmalm",
    "Rinkeby-Kista",
    "Skarpnäck",
    "Spånga-Tensta",
    "Södermalm",
    "Älvsjö",
    "Östermalm",
)
_NAME = r"[A-ZÅÄÖ][\wåäöÅÄÖ]*(?:-[A-ZÅÄÖ][\wåäöÅÄÖ]*)*"
_STADSDEL_BODY = re.compile(rf"\b({_NAME})\s+stadsdels(?:n[äad]mnd|f[öo]rvaltning)\b")
_BODY = re.compile(
    r"^(?:(?P<sdn>" + _NAME + r"\s+stadsdelsn[äad]mnd)"
    r"|(?P<pair>[A-ZÅÄÖ][a-zåäö]+-\s+och\s+[a-zåäö]+n[äad]mnden?)"
    r"|(?P<one>[A-ZÅÄÖ][a-zåäö]*n[äad]mnden?)"
    r"|(?P<kf>Kommunfullmäktige|Kommunstyrelsen|Regionfullmäktige|Regionstyrelsen)"
    r"|(?P<for>[Nn][äa]mnden för [a-zåäöA-ZÅÄÖ][\wåäö-]*(?:\s+(?:och|samt)\s+[a-zåäö][\wåäö-]*)?)"
    r"|(?P<geo>[A-ZÅÄÖ][a-zåäö]*n[äa]mnd\s+[A-ZÅÄÖ][a-zåäö]+)"
    r"|(?P<city>[A-ZÅÄÖ][a-zåäö]+s\s+(?:[Ss]tads|[Kk]ommuns)\s+[a-zåäö]+n[äa]mnd))"
    r"(?P<gen>s)?$",
)
_BODY_HINT = re.compile(r"mnd|fullmäktige|styrelse", re.IGNORECASE)  # cheap filter before _BODY
_MARKS = re.compile(r"[*_#>]+")
_DECISION_VERB = re.compile(
    r"^(.{3,60}?)\s+(?:beslutar|beslutade|godkänner|överlämnar|antar|tillstyrker|föreslår|"
    r"lägger|noterar|antecknar|avslår|bifaller)\b"
)
_RECIPIENT_LIST = re.compile(r"(skickas till|expedieras till|för kännedom)", re.IGNORECASE)

# --- diarienummer ------------------------------------------------------------------------------

# Prefixes of Stockholm stad's förvaltningar as they are registered (Swedish letters included).
STOCKHOLM_DNR_PREFIXES = ("KS", "KF", "SÖD", "EÅV", "SLK")
_DNR_STHLM = re.compile(
    r"(?<![\w/-])([A-ZÅÄÖ0-9]{2,4})\s?((?:19|20)\d{2})/(\d{1,6})(?:-[\d.]+)?(?![\w/])"
)
_DNR_DOTTED = re.compile(r"(?<![\w.])(\d{1,2}(?:\.\d{1,2}){1,3}-\d{1,6}/(?:19|20)\d{2})(?![\w/])")
_DNR_COLON = re.compile(r"(?<![\w/])([A-ZÅÄÖ][a-zåäöA-ZÅÄÖ]{1,5})/((?:19|20)\d{2}):(\d{1,6})\b")
# Göteborg: SLK-2025-00338, and SLK-2023-00027:41 for one ärende of a collective one.
_DNR_DASHED = re.compile(
    r"(?<![\w-])([A-ZÅÄÖ]{2,5})-((?:19|20)\d{2})-(\d{3,6})(:\d{1,4})?(?![\w-])"
)
_DNR_SHORT = re.compile(
    r"(?:^[ \t>#*_\-]*§[ \t]*\d{1,4}[ \t]+|(?:Dnr|Diarienummer|Ärendenummer)\.?[ \t:]*)"
    r"(\d{3,5}/\d{2}|[A-ZÅÄÖ]{2,5}:\d{3,6})(?![\d/:])",
    re.MULTILINE,
)

_PAGE_HEAD_LINES = 8
_LIST_ITEM_WORDS = 8
_RECIPIENT_REACH = 15  # a longer line ends a list of recipients
_OCR_LETTERS = str.maketrans({"0": "O", "6": "Ö", "8": "Ä"})


def extract(doc: Document, segments: list[Segment]) -> list[Unit]:
    """Attach metadata to every segment; document-level nämnd, datum and dnr carry over."""
    namnd = document_namnd(doc)
    meta_namnd = bool(doc.meta.get("namnd") or doc.meta.get("nämnd"))
    paragrafer = sum(1 for s in segments if s.kind == "paragraf")
    doctype = document_type(doc, paragrafer)
    doc_datum = document_datum(doc)
    header = _header_text(doc, segments)
    header_dnr = find_dnr(header, namnd) if paragrafer <= 1 else ()
    units: list[Unit] = []
    dnr_of_paragraf: tuple[str, ...] = ()
    for seg in segments:
        head = _page_head(doc.text, seg.start)
        head_body = _head_body(doc.text, seg.start) if head and not meta_namnd else None
        own = find_dnr(seg.text, namnd)
        if seg.kind == "paragraf":
            dnr_of_paragraf = own
            inherited: tuple[str, ...] = ()
        else:
            inherited = dnr_of_paragraf if seg.kind == "bilaga" else ()
        meta = Metadata(
            dnr=_unique([*own, *inherited, *header_dnr]),
            namnd=head_body or namnd,
            datum=meeting_date(head + seg.text) or doc_datum,
            parti=find_parties(seg.text),
            doctype=doctype,
            ocr=doc.ocr_repaired > 0,
        )
        units.append(Unit(seg, meta))
    return units


def _page_head(text: str, start: int, lines: int = _PAGE_HEAD_LINES) -> str:
    """The few lines just before a unit: the head of the page its heading stands on (running
    head with body and meeting date), empty for a unit at the top of the file."""
    head = text[_lines_back(text, start, lines) : start]
    return head if _MEETING_LABEL.search(head) else ""


def _lines_back(text: str, start: int, lines: int) -> int:
    """Offset of the start of the line ``lines`` lines above the one holding ``start``."""
    begin = start
    for _ in range(lines + 1):
        begin = text.rfind("\n", 0, begin)
        if begin < 0:
            return 0
    return begin + 1


def _head_body(text: str, start: int) -> str | None:
    """The body named on a line of its own near the meeting-date label in the page head above
    offset ``start`` (nearest first, above before below), unless it is a recipient of the § before."""
    begin = _lines_back(text, start, _PAGE_HEAD_LINES + _RECIPIENT_REACH)
    lines = [_clean_line(ln) for ln in text[begin:start].split("\n")]
    head_from = max(0, len(lines) - _PAGE_HEAD_LINES - 1)
    for i in range(head_from, len(lines)):
        if not _MEETING_LABEL.search(lines[i]):
            continue
        near = [i - d for d in range(1, 6)] + [i + d for d in range(1, 4)]
        for j in (j for j in near if head_from <= j < len(lines)):
            body = canonical_body(lines[j]) if 0 < len(lines[j]) < 90 else None
            if body and not _is_recipient(lines, j):
                return body
    return None


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _header_text(doc: Document, segments: list[Segment]) -> str:
    """The text before the first unit (front page, letterhead)."""
    first = min((s.start for s in segments), default=len(doc.text))
    return doc.text[:first]


# --- dnr ---------------------------------------------------------------------------------------


def find_dnr(text: str, namnd: str | None = None) -> tuple[str, ...]:
    """Every diarienummer in ``text``, canonical, in order of first appearance."""
    found: list[tuple[int, str]] = []
    if "/" not in text and ":" not in text and "-" not in text:
        return ()
    for m in _DNR_STHLM.finditer(text):
        prefix = canonical_prefix(m.group(1), namnd)
        if prefix:
            found.append((m.start(), f"{prefix} {m.group(2)}/{int(m.group(3))}"))
    found.extend((m.start(), m.group(1)) for m in _DNR_DOTTED.finditer(text))
    for m in _DNR_COLON.finditer(text):
        found.append((m.start(), f"{m.group(1).capitalize()}/{m.group(2)}:{int(m.group(3))}"))
    for m in _DNR_DASHED.finditer(text):
        found.append((m.start(), f"{m.group(1)}-{m.group(2)}-{m.group(3)}{m.group(4) or ''}"))
    found.extend((m.start(1), m.group(1)) for m in _DNR_SHORT.finditer(text))
    return _unique(d for _, d in sorted(found))


def canonical_prefix(raw: str, namnd: str | None = None) -> str | None:
    """A Stockholm dnr prefix with OCR damage undone, or None when ``raw`` is no prefix.

    ``SOD`` -> ``SÖD`` (table), ``S0D`` -> ``SÖD`` (digit read for a letter); a prefix that is
    the folded start or initials of the document's nämnd gets that nämnd's letters.
    """
    letters = raw.translate(_OCR_LETTERS) if not raw.isdigit() else raw
    if not letters.isalpha() or not letters.isupper():
        return None
    known = list(STOCKHOLM_DNR_PREFIXES) + _prefixes_of(namnd)
    for prefix in known:
        if prefix == letters:
            return prefix
    for prefix in known:
        if fold(prefix) == fold(letters):
            return prefix
    return letters


def _prefixes_of(namnd: str | None) -> list[str]:
    """Plausible dnr prefixes of a stadsdelsnämnd: the first three letters and the initials."""
    if not namnd or "stadsdels" not in namnd.lower():
        return []
    name = namnd.split()[0].rstrip("s")
    parts = name.split("-")
    return [name[:3].upper(), "".join(p[0] for p in parts).upper()]


def fold(text: str) -> str:
    """Lower case without diacritics (å -> a, ö -> o): for matching OCR-damaged names only."""
    decomposed = unicodedata.normalize("NFD", text.lower())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


# --- nämnd -------------------------------------------------------------------------------------


def document_namnd(doc: Document) -> str | None:
    """The body the document belongs to, canonical; None when the text names none."""
    meta = doc.meta.get("namnd") or doc.meta.get("nämnd")
    if meta:
        return canonical_body(meta.strip())
    candidates = Counter(_standalone_bodies(doc.text))
    body = candidates.most_common(1)[0][0] if candidates else None
    body = body or next(_decision_bodies(doc.text), None)
    if body and body.lower() == "stadsdelsnämnden":
        return _specific_stadsdelsnamnd(doc.text) or body
    return body or _specific_stadsdelsnamnd(doc.text)


def canonical_body(text: str) -> str | None:
    """``Socialnämndens`` -> ``Socialnämnden``; ``Sodermalms stadsdelsnamnd`` -> ``Södermalms
    stadsdelsnämnd``; None when ``text`` is not the name of a body."""
    text = " ".join(text.split())
    match = _BODY.match(text)
    if not match:
        return None
    if match.group("sdn"):
        name = match.group("sdn").split()[0]
        return f"{_stadsdel_name(name)} stadsdelsnämnd"
    if match.group("city"):  # "Göteborgs Stads grundskolenämnd" -> "Grundskolenämnden"
        own = re.sub("n[äa]mnd$", "nämnd", match.group("city").split()[-1])
        return own[0].upper() + own[1:] + "en"
    groups = ("pair", "one", "kf", "for", "geo")
    body = next(match.group(g) for g in groups if match.group(g))
    body = re.sub("n[äad]mnd", "nämnd", body)
    if body.endswith("nämnd") and match.group("one") and body != "Stadsdelsnämnd":
        return None  # "Socialnämnd" without article is not how a body names itself
    if body.lower() in ("nämnden", "nämnd"):
        return None  # "Nämnden beslutar" names no particular body
    return body[0].upper() + body[1:]


def _stadsdel_name(name: str) -> str:
    """The Stockholm stadsdel ``name`` (genitive kept) with Swedish letters restored."""
    genitive = name.endswith("s") and fold(name[:-1]) in {fold(s) for s in STOCKHOLM_STADSDELAR}
    stem = name[:-1] if genitive else name
    for known in STOCKHOLM_STADSDELAR:
        if fold(known) == fold(stem):
            stem = known
            break
    return stem + ("s" if genitive else "")


def _standalone_bodies(text: str) -> Iterator[str]:
    """Bodies named on a line of their own (letterheads, running heads, "Till …"), not recipients."""
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if len(line) > 90 or not _BODY_HINT.search(line):
            continue
        bare = " ".join(_MARKS.sub(" ", line).split())
        body = canonical_body(bare)
        if not body:
            continue
        if _is_recipient(lines, i):
            continue
        yield body


def _is_recipient(lines: list[str], index: int, reach: int = _RECIPIENT_REACH) -> bool:
    """True when line ``index`` is in a list of recipients: walking up over short lines (names,
    blank lines, page furniture) reaches "Protokollsutdrag skickas till" / "expedieras till"."""
    for k in range(index - 1, max(index - reach, -1), -1):
        line = lines[k].strip()
        if _RECIPIENT_LIST.search(line):
            return True
        if len(line.split()) > _LIST_ITEM_WORDS or (line.endswith(".") and len(line) > 20):
            return False
    return False


def _decision_bodies(text: str) -> Iterator[str]:
    """Bodies that head a decision: "Socialnämndens beslut", "X stadsdelsnämnd godkänner …"."""
    for line in text.split("\n"):
        if not _BODY_HINT.search(line):
            continue
        bare = " ".join(_MARKS.sub(" ", line).split())
        bare = re.sub(r"^\d+\.\s*", "", bare)
        if bare.lower().endswith("s beslut"):
            body = canonical_body(bare[: -len(" beslut")])
            if body:
                yield body
                continue
        match = _DECISION_VERB.match(bare)
        if match:
            body = canonical_body(match.group(1))
            if body:
                yield body


def _specific_stadsdelsnamnd(text: str) -> str | None:
    """The first named stadsdelsnämnd or -förvaltning in ``text``, as its nämnd."""
    for match in _STADSDEL_BODY.finditer(text):
        name = match.group(1)
        if name.lower().startswith("stadsdels"):
            continue
        if not name.endswith("s") and fold(name) not in {fold(s) for s in STOCKHOLM_STADSDELAR}:
            continue
        return f"{_stadsdel_name(name)} stadsdelsnämnd"
    return None


# --- dates -------------------------------------------------------------------------------------


def iso_date(text: str) -> str | None:
    """``2023-10-19`` or ``19 oktober 2023`` -> ``2023-10-19``; None for anything else."""
    text = " ".join(text.lower().split())
    if re.fullmatch(_ISO, text):
        return text
    match = re.fullmatch(r"(\d{1,2}) (\w+) (\d{4})", text)
    if match and match.group(2) in MONTHS:
        return f"{match.group(3)}-{MONTHS[match.group(2)]:02d}-{int(match.group(1)):02d}"
    return None


def meeting_date(text: str) -> str | None:
    """A date labelled as the meeting's (``Sammanträdesdatum: 2023-01-26``) in ``text``."""
    lowered = text.lower()
    if "sammanträde" not in lowered and "mötesdatum" not in lowered:  # cheap filter
        return None
    match = _MEETING_LABEL.search(text)
    return iso_date(match.group(1)) if match else None


def document_datum(doc: Document) -> str | None:
    """The meeting date of the document, else its own date, else a whole date in its file name
    (``ks-2024-02-28.txt``, ``protokoll_20240228.pdf``: archives name protokoll by the meeting);
    None when neither states one."""
    meta = doc.meta.get("datum") or doc.meta.get("date")
    if meta and iso_date(meta.strip()):
        return iso_date(meta.strip())
    return (meeting_date(doc.text) or _letterhead_date(doc.text) or _header_date(doc.text)
            or file_name_date(doc.path))


_NAME_DATE = re.compile(
    r"(?<![0-9])((?:19|20)[0-9]{2})([-_.]?)(0[1-9]|1[0-2])\2(0[1-9]|[12][0-9]|3[01])(?![0-9])"
)


def file_name_date(path: str) -> str | None:
    """The one whole date (year, month, day; with -, _, . or nothing between) in a file's name
    without its folders and extension; None when there is none, or more than one."""
    name = PurePath(path).stem
    found = {f"{y}-{m}-{d}" for y, _, m, d in _NAME_DATE.findall(name)}
    if len(found) != 1:
        return None
    (iso,) = found
    try:
        datetime.date.fromisoformat(iso)
    except ValueError:  # 2023-02-30
        return None
    return iso


def _letterhead_date(text: str) -> str | None:
    """A date on its own line next to (within two lines of) a line naming a body."""
    lines = text.split("\n")
    for i, raw in enumerate(lines):
        if len(raw) > 40 or not any(ch.isdigit() for ch in raw):
            continue  # cheap filter: a date line is short and has digits
        match = _DATE_ONLY_LINE.match(_clean_line(raw))
        if not match:
            continue
        near = (
            _clean_line(lines[j]) for j in range(max(0, i - 2), min(len(lines), i + 3)) if j != i
        )
        if any(canonical_body(ln) for ln in near if ln):
            return iso_date(match.group(1))
    return None


def _clean_line(line: str) -> str:
    """A line without markup characters and with whitespace folded."""
    return " ".join(_MARKS.sub(" ", line).split())


def _header_date(text: str, header_lines: int = 60) -> str | None:
    """A date on its own line in the document's header (a tjänsteutlåtande's own date)."""
    for line in text.split("\n")[:header_lines]:
        match = _DATE_ONLY_LINE.match(re.sub(r"[*_#>]+", " ", line))
        if match:
            return iso_date(match.group(1))
    return None


# --- parties and type --------------------------------------------------------------------------


def find_parties(text: str) -> tuple[str, ...]:
    """Sorted party codes appearing as affiliations in ``text``."""
    codes = {m.group(1) for m in _PAREN_PARTY.finditer(text)}
    for m in _LIST_PARTY.finditer(text):
        codes.update(re.findall(rf"\b({_CODE_ALT})\b", m.group(1)))
    lowered = text.lower()
    if "erna" in lowered or "partiet" in lowered or "initiativ" in lowered:  # cheap filter
        for m in _NAME_PARTY.finditer(text):
            codes.add(PARTY_NAMES[" ".join(m.group(1).lower().split())])
    return tuple(sorted(codes))


def document_type(doc: Document, paragrafer: int) -> str | None:
    """protokoll | protokollsutdrag | tjänsteutlåtande, from the text; None when unclear."""
    head = doc.text[:3000].lower()
    if paragrafer > 1 or "sammanträdesprotokoll" in head:
        return "protokoll"
    if paragrafer == 1:
        return "protokollsutdrag"
    if "tjänsteutlåtande" in head or re.search(r"förvaltningens förslag till beslut", head):
        return "tjänsteutlåtande"
    return _named_type(doc.text)


# Kinds of document that say what they are in the first word of a heading line.
DOCUMENT_TYPES = (
    "rapportsammandrag",
    "delårsrapport",
    "årsrapport",
    "årsredovisning",
    "årsredogörelse",
    "revisionsberättelse",
    "verksamhetsberättelse",
    "riktlinje",
    "rutin",
    "policy",
    "handlingsplan",
    "yttrande",
    "motion",
    "interpellation",
    "skrivelse",
    "remiss",
)
_TYPE_WORD = re.compile(r"^(" + "|".join(DOCUMENT_TYPES) + r")(?:er|en|erna|r|s)?\b", re.IGNORECASE)


def _named_type(text: str, head_lines: int = 12) -> str | None:
    """The type a heading line names with its first word ("Rapportsammandrag", "Riktlinjer för …")."""
    lines = [ln for ln in (_MARKS.sub(" ", x).strip() for x in text.split("\n")[:200]) if ln]
    for line in lines[:head_lines]:
        match = _TYPE_WORD.match(line)
        if match:
            return match.group(1).lower()
    return None
