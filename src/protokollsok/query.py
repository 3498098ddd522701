"""The query language: parse what a user types, then turn it into a whoosh query.

Syntax (``protokollsok search --help`` shows the same)::

    vittnen hedersvåld          all words must match (in any analysed form)
    "våld i nära relationer"    a phrase: the words in this order (stemmed)
    skola OR förskola           either word (OR binds the words on each side)
    budget -skatt               exclude a word or a "phrase"
    utred*                      prefix
    nämnd:socialnämnden  namnd:södermalm  parti:KD  dnr:"KS 2023/740"  datum:2023
    datum:2023-01-01..2023-06-30                  a date range (either end may be left open)
    KS 2023/740                 a diarienummer typed as the query finds the units that carry it

Parsing never raises: broken input (unbalanced quotes, lone operators, stray colons) is read as
plainly as possible. Only a filter value that cannot mean anything (``datum:igår``) gives a
``QueryError`` with one line saying what to type instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from protokollsok import analysis
from protokollsok.errors import QueryError

MAX_QUERY_CHARS = 1000  # longer input is cut (a pasted page is not a query)
MAX_CLAUSES = 64

FIELD_ALIASES = {
    "nämnd": "namnd",
    "namnd": "namnd",
    "parti": "parti",
    "dnr": "dnr",
    "diarienummer": "dnr",
    "datum": "datum",
    "år": "datum",
    "ar": "datum",
}

# Diarienummer shapes seen in the records: "KS 2023/740", "SÖD 2023/713", "1.7.1-266/2019",
# "Bun/2024:73", "SLK-2025-00338".
DNR_RE = re.compile(
    r"(?<![\w/.-])(?:"
    r"[A-ZÅÄÖ]{1,6} \d{4}/\d{1,6}"
    r"|\d+(?:\.\d+)+-\d+/\d{4}"
    r"|[A-Za-zÅÄÖåäö]{2,6}/\d{4}:\d{1,6}"
    r"|[A-ZÅÄÖ]{2,6}-\d{4}-\d{3,6}"
    r")(?![\w/-])"
)

_PART_RE = re.compile(
    r'(?P<neg>-)?(?:(?P<field>[^\W\d_]+):)?(?:"(?P<quoted>[^"]*)"?|(?P<bare>[^\s"]+))'
)
_DATE_RE = re.compile(r"^\d{4}(?:-\d{2}(?:-\d{2})?)?$")


@dataclass(frozen=True)
class Clause:
    """One thing a hit must (or, negated, must not) contain.

    ``kind`` is ``word`` (one token), ``phrase`` (tokens in order), ``prefix`` or ``dnr``.
    """

    kind: str
    words: tuple[str, ...]
    negated: bool = False


@dataclass
class ParsedQuery:
    """A parsed query: AND of slots, each slot an OR of clauses; plus exclusions and filters."""

    slots: list[list[Clause]] = field(default_factory=list)
    excluded: list[Clause] = field(default_factory=list)
    namnd: list[str] = field(default_factory=list)
    parti: list[str] = field(default_factory=list)
    dnr: list[str] = field(default_factory=list)
    date_from: str | None = None
    date_to: str | None = None

    @property
    def words(self) -> list[str]:
        """Every positive word of the query, in order (for snippets and suggestions)."""
        return [w for slot in self.slots for c in slot for w in c.words if c.kind != "dnr"]

    @property
    def empty(self) -> bool:
        """True when nothing would restrict the results."""
        return not (self.slots or self.excluded or self.namnd or self.parti or self.dnr) and not (
            self.date_from or self.date_to
        )


def parse(text: str) -> ParsedQuery:
    """Parse a query string (see the module docstring). Never raises on the text itself."""
    q = ParsedQuery()
    text = (text or "")[:MAX_QUERY_CHARS]
    text, dnrs = _take_dnr(text)
    for d in dnrs:
        q.slots.append([Clause("dnr", (d,))])
    pending_or = False
    for m in _PART_RE.finditer(text):
        neg, fname = bool(m.group("neg")), m.group("field")
        value = m.group("quoted") if m.group("quoted") is not None else m.group("bare")
        quoted = m.group("quoted") is not None
        if fname and fname.lower() in FIELD_ALIASES:
            _add_filter(q, FIELD_ALIASES[fname.lower()], value.strip())
            continue
        if fname:  # "http:..." or "a:b": not a field, read the whole thing as words
            value = f"{fname}:{value}"
        if not quoted and value == "OR":
            pending_or = bool(q.slots)
            continue
        clause = _clause(value, quoted, neg)
        if clause is None:
            continue
        if clause.negated:
            q.excluded.append(clause)
        elif pending_or and q.slots:
            q.slots[-1].append(clause)
        else:
            q.slots.append([clause])
        pending_or = False
        if len(q.slots) + len(q.excluded) >= MAX_CLAUSES:
            break
    return q


def _take_dnr(text: str) -> tuple[str, list[str]]:
    """Cut diarienummer out of the unquoted free text; return the rest and the dnr found.

    A dnr right after ``dnr:`` stays where it is (it is that filter's value).
    """
    masked = re.sub(r'"[^"]*"?', lambda m: "\0" * len(m.group()), text)
    found: list[str] = []
    pieces: list[str] = []
    last = 0
    for m in DNR_RE.finditer(masked):
        if masked[: m.start()].lower().endswith("dnr:"):
            continue
        found.append(m.group())
        pieces += [text[last : m.start()], " "]
        last = m.end()
    pieces.append(text[last:])
    return "".join(pieces), found


def _clause(value: str, quoted: bool, negated: bool) -> Clause | None:
    words = tuple(t.word for t in analysis.tokenize(value))
    if not words:
        return None
    if quoted and len(words) > 1:
        return Clause("phrase", words, negated)
    if not quoted and value.endswith("*") and len(words) == 1:
        return Clause("prefix", words, negated)
    if len(words) > 1:  # "Enskede-Årsta" or "a.b": the parts in order
        return Clause("phrase", words, negated)
    return Clause("word", words, negated)


def _add_filter(q: ParsedQuery, name: str, value: str) -> None:
    if not value:
        return
    if name == "namnd":
        q.namnd.append(value)
    elif name == "parti":
        q.parti.extend(p for p in re.split(r"[,\s]+", value) if p)
    elif name == "dnr":
        q.dnr.append(value)
    else:
        q.date_from, q.date_to = date_range(value)


def date_range(value: str) -> tuple[str | None, str | None]:
    """``2023`` / ``2023-05`` / ``2023-01-01..2023-06-30`` / ``2023..`` -> inclusive ISO bounds."""
    lo, sep, hi = value.partition("..")
    if not sep:
        hi = lo
    return (date_bound(lo, end=False) if lo else None, date_bound(hi, end=True) if hi else None)


def date_bound(value: str, *, end: bool) -> str:
    """A date, year-month or year as the first (or, with ``end``, last) ISO day it covers."""
    value = value.strip()
    if not _DATE_RE.match(value):
        raise QueryError(
            f"cannot read the date {value!r}",
            "write it as 2023, 2023-05 or 2023-05-17 (a range as 2023-01-01..2023-06-30)",
        )
    if len(value) == 4:
        return f"{value}-12-31" if end else f"{value}-01-01"
    if len(value) == 7:
        return f"{value}-31" if end else f"{value}-01"
    return value
