"""The nouns of protokollsök: what each stage of the pipeline takes and returns.

corpus file -> Document -> (clean) Document -> Segment* -> Unit* (Segment + Metadata) -> index -> Hit
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

KINDS = ("paragraf", "bilaga", "dokument")


@dataclass(frozen=True)
class Document:
    """One file as read from disk, before or after text repair.

    ``text`` is the whole text; ``page_starts`` holds the character offset where each page begins
    (PDF only, empty otherwise) so that an offset can be turned into "s. 3". ``meta`` carries what
    the file states about itself outside its text (markdown front matter, HTML <title>/<meta>).
    """

    path: str  # source path as given to ``read`` (the caller decides relative or absolute)
    sha256: str  # of the raw bytes
    format: str  # txt | md | html | pdf | docx
    text: str
    page_starts: tuple[int, ...] = ()
    meta: dict[str, str] = field(default_factory=dict)
    warnings: tuple[str, ...] = ()
    ocr_repaired: int = 0  # words the OCR repair changed (``normalize.repair_ocr``); 0: none

    def page_of(self, offset: int) -> int | None:
        """1-based page number that holds character ``offset``, or None for paginated-less files."""
        if not self.page_starts:
            return None
        page = 0
        for i, start in enumerate(self.page_starts):
            if start <= offset:
                page = i
            else:
                break
        return page + 1


@dataclass(frozen=True)
class Segment:
    """One search unit's text and position: a §, a bilaga, or a whole document without §.

    ``id`` is stable and derived from the source and position: ``<source>#§23``,
    ``<source>#bilaga1`` (numbered within the file), ``<source>#dokument``; a § number that repeats
    within one file gets a suffix (``#§23.2``). ``start``/``end`` are character offsets into the
    cleaned document text; ``lines`` is the 1-based inclusive line range; ``pages`` the page range.
    """

    id: str
    source: str
    kind: str  # paragraf | bilaga | dokument
    paragraf: int | None  # the § number (a bilaga carries the number of its §)
    title: str
    text: str
    start: int
    end: int
    lines: tuple[int, int]
    pages: tuple[int, int] | None = None


@dataclass(frozen=True)
class Metadata:
    """What a unit is about, in canonical form."""

    dnr: tuple[str, ...] = ()  # canonical diarienummer, in order of first appearance
    namnd: str | None = None  # canonical body, e.g. "Södermalms stadsdelsnämnd"
    datum: str | None = None  # ISO date of the meeting (else the document's own date), or None
    parti: tuple[str, ...] = ()  # sorted party codes appearing as affiliations
    doctype: str | None = None  # protokoll | protokollsutdrag | tjänsteutlåtande | ...
    ocr: bool = False  # the document's text was repaired from OCR damage: quote from the original


@dataclass(frozen=True)
class Unit:
    """A segment with its metadata: the record that is indexed, shown and exported."""

    segment: Segment
    meta: Metadata

    @property
    def id(self) -> str:
        return self.segment.id

    def to_json(self) -> dict[str, Any]:
        """The public JSON shape (``inspect --json``, the index's stored fields, the web bundle)."""
        s, m = self.segment, self.meta
        return {
            "id": s.id,
            "kind": s.kind,
            "paragraf": s.paragraf,
            "title": s.title,
            "namnd": m.namnd,
            "datum": m.datum,
            "dnr": list(m.dnr),
            "parti": sorted(m.parti),
            "doctype": m.doctype,
            "source": s.source,
            "lines": list(s.lines),
            "pages": list(s.pages) if s.pages else None,
            "text": s.text,
            "ocr": m.ocr,
        }


@dataclass(frozen=True)
class Hit:
    """One search result."""

    id: str
    score: float
    kind: str
    paragraf: int | None
    title: str
    namnd: str | None
    datum: str | None
    dnr: tuple[str, ...]
    parti: tuple[str, ...]
    source: str
    snippet: str
    highlights: tuple[tuple[int, int], ...]  # offsets into ``snippet``
    pages: tuple[int, int] | None = None  # first and last page (PDF sources only)
    ocr: bool = False  # the unit's text was repaired from OCR damage (``Metadata.ocr``)

    def to_json(self) -> dict[str, Any]:
        d = asdict(self)
        d["dnr"] = list(self.dnr)
        d["parti"] = list(self.parti)
        d["highlights"] = [list(h) for h in self.highlights]
        d["pages"] = list(self.pages) if self.pages else None
        return d


@dataclass
class IndexReport:
    """What an ``index`` run did; printed as the closing summary and returned to library callers."""

    files_seen: int = 0
    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (path, reason)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (path, why): nothing to index
    warnings: list[tuple[str, str]] = field(default_factory=list)  # (path, message)
    units: int = 0
    paragrafer: int = 0
    bilagor: int = 0
    dokument: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed
