"""Text repair: turn extracted, converted or OCR'd text into clean Swedish.

``clean(text)`` runs a chain of small repairs, each its own function:

1. ``drop_invisible`` — zero-width characters and soft hyphens inside a line;
2. ``strip_markup`` = ``strip_html`` (tags such as ``<b>``/``<br>``, entities ``&amp;`` ``&nbsp;``)
   + ``strip_markdown`` (``**``/``__`` emphasis, ``##`` heading marks, ``[text](url)`` links);
3. ``nfc`` — Unicode NFC (``a`` + combining ring -> ``å``);
4. ``expand_ligatures`` — ``ﬁ`` -> ``fi`` and friends;
5. ``fix_mixed_script`` — Cyrillic/Greek letters inside a Latin word (``Ersätтарыttrande``);
6. ``join_broken_words`` — ``genom-\\nföras`` -> ``genomföras\\n``;
7. ``repair_ocr`` — OCR damage to å/ä/ö (``Stadsdelsndmnden``, ``6verenskommelsen``, ``&r``),
   applied only to texts that show such damage (see ``ocr_damage``); then 6 once more.

Every repair keeps the number of ``\\n`` (line numbers of the cleaned text are those of the file),
and ``clean`` is idempotent.

OCR repair, in three steps:

- *Is the text OCR'd?* ``ocr_damage`` counts the words (of the first 3,000, addresses left out)
  that the lexicon does not know but that become a word of clean text by one or two of the
  misreadings below. Below 3 % (or fewer than 3 such words) nothing is repaired: born-digital
  text, names and foreign words are left alone. Seed 000 scores 20 %; no clean document of the
  Göteborg, Botkyrka or Jönköping corpora reaches 3 %.
- *Each word out of context* (``repair_word``): candidate spellings come from the confusion table
  ``CONFUSIONS``, learned by aligning seed 000 (a scanned protokollsutdrag) word by word with its
  born-digital twin seed 003: å was read as a/d/é/i, ä as a/d/é/i/&/éa, ö as o/d/é/6/§/0/oé, and
  i as 1 (the test suite re-derives the table's coverage from the seeds). A candidate must be a
  word (frequency list or hunspell); it scores log(1 + frequency) plus the log-likelihood of its
  edits. A damaged form that is itself a word (``malet``, ``r``) is replaced only by a spelling 20
  times more frequent (200 times when capitalised, which may be a name: ``Lisa``).
- *Words that are words either way* (``for``/``för``, ``bor``/``bör``, ``har``/``här``, ``1``/``i``):
  ``spellings`` lists what OCR may have hidden behind the word and ``decide`` picks by its
  neighbours, with left/right counts of clean text (``data/contexts.tsv.gz``, see
  ``scripts/build_wordfreq.py``) looked up by the å/ä/ö-folded neighbours, so that a damaged
  neighbour counts like a repaired one. The context-free choice stays unless another spelling
  gains ``CONTEXT_MARGIN`` in log-odds. OCR only ever loses diacritics, so a word written with
  å/ä/ö is never turned into another one.

A hyphen at a line end is removed when the joined word is a word and the second part starts in
lower case and is not a conjunction (``hälso- och``), so ``Enskede-Årsta-Vantörs`` keeps its hyphens.
"""

from __future__ import annotations

import dataclasses
import functools
import gzip
import html
import itertools
import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from functools import lru_cache
from pathlib import Path

from protokollsok import lexicon
from protokollsok.model import Document

# --- 1-3: Unicode ---------------------------------------------------------------------------------

LIGATURES = {
    "\ufb00": "ff",
    "\ufb01": "fi",
    "\ufb02": "fl",
    "\ufb03": "ffi",
    "\ufb04": "ffl",
    "\ufb05": "st",
    "\ufb06": "st",
    "\u0132": "IJ",
    "\u0133": "ij",
    "\u0152": "OE",
    "\u0153": "oe",
}
_LIGATURE_TABLE = str.maketrans(LIGATURES)
ZERO_WIDTH = "\u200b\u200c\u200d\u2060\ufeff"
SOFT_HYPHEN = "\u00ad"
_INVISIBLE_RE = re.compile(f"[{ZERO_WIDTH}]|{SOFT_HYPHEN}(?![ \\t]*\\n)")


def nfc(text: str) -> str:
    """Compose characters (Unicode NFC) so ``a`` + combining ring is one ``å``."""
    return unicodedata.normalize("NFC", text)


def expand_ligatures(text: str) -> str:
    """Replace typographic ligatures with their letters (``ﬁnns`` -> ``finns``)."""
    return text.translate(_LIGATURE_TABLE)


def drop_invisible(text: str) -> str:
    """Remove zero-width characters, and soft hyphens except at a line end (a word break)."""
    return _INVISIBLE_RE.sub("", text)


# --- 4-5: markup remnants -------------------------------------------------------------------------

_HTML_TAGS = (
    "a",
    "abbr",
    "b",
    "big",
    "blockquote",
    "br",
    "center",
    "code",
    "dd",
    "del",
    "div",
    "dl",
    "dt",
    "em",
    "font",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "hr",
    "i",
    "img",
    "ins",
    "li",
    "mark",
    "ol",
    "p",
    "pre",
    "s",
    "small",
    "span",
    "strike",
    "strong",
    "sub",
    "sup",
    "table",
    "tbody",
    "td",
    "th",
    "thead",
    "tr",
    "tt",
    "u",
    "ul",
)
_TAG_RE = re.compile(
    r"</?(?:" + "|".join(_HTML_TAGS) + r")\b(?:\s[^<>\n]*)?/?>|<!--[^\n]*?-->", re.IGNORECASE
)
_ENTITY_RE = re.compile(r"&(?:#\d{1,7}|#[xX][0-9a-fA-F]{1,6}|[a-zA-Z][a-zA-Z0-9]{1,31});")
_MD_LINK_RE = re.compile(r"!?\[([^\[\]\n]*)\]\([^()\s]*\)")
_MD_HEADING_RE = re.compile(r"^([ \t]{0,3})#{1,6}(?:[ \t]+|$)", re.MULTILINE)
_MD_EMPHASIS_RE = re.compile(r"\*{2,}|_{2,}")


def _fixed_point(fn, text: str, limit: int = 8) -> str:  # type: ignore[no-untyped-def]
    """Apply ``fn`` until the text stops changing (nested remnants like ``&amp;amp;``)."""
    for _ in range(limit):
        new = fn(text)
        if new == text:
            return new
        text = new
    return text


def _unescape_entity(m: re.Match[str]) -> str:
    out = html.unescape(m.group())
    if out == m.group() or "\n" in out:
        return m.group()
    return drop_invisible(out.replace("\u00a0", " ").replace(SOFT_HYPHEN, ""))


def strip_html(text: str) -> str:
    """Remove HTML tags (``<b>``, ``</b>``, ``<br>``) and decode entities (``&amp;`` -> ``&``)."""

    def once(t: str) -> str:
        return _ENTITY_RE.sub(_unescape_entity, _TAG_RE.sub(_tag_replacement, t))

    return _fixed_point(once, text)


def _tag_replacement(m: re.Match[str]) -> str:
    """A line-break or block tag becomes a space (words stay apart); inline tags vanish."""
    name = m.group()[1:].lstrip("/").split(None, 1)[0].rstrip("/>").lower()
    return " " if name in {"br", "p", "div", "li", "td", "th", "tr", "hr"} else ""


def _emphasis_replacement(m: re.Match[str]) -> str:
    """Emphasis marks between two non-space characters separate words (``9**Övergripande``)."""
    text, start, end = m.string, m.start(), m.end()
    before = text[start - 1] if start else " "
    after = text[end] if end < len(text) else " "
    if m.group()[0] == "_" and before.isalnum() and after.isalnum():
        return m.group()  # an identifier such as file__name, not emphasis
    return " " if not before.isspace() and not after.isspace() else ""


def strip_markup(text: str) -> str:
    """HTML and markdown remnants, repeated until none is left (one may hide another)."""
    return _fixed_point(lambda t: strip_markdown(strip_html(t)), text)


def strip_markdown(text: str) -> str:
    """Remove markdown remnants: emphasis, heading marks, link syntax (list bullets stay)."""

    def once(t: str) -> str:
        t = _MD_LINK_RE.sub(r"\1", t)
        t = _MD_HEADING_RE.sub(r"\1", t)
        return _MD_EMPHASIS_RE.sub(_emphasis_replacement, t)

    return _fixed_point(once, text)


# --- 6: mixed scripts -----------------------------------------------------------------------------

# Each foreign letter maps to its Latin look-alike first, then to its transliteration.
HOMOGLYPHS: dict[str, tuple[str, ...]] = {
    # Cyrillic
    "а": ("a",), "в": ("b", "v"), "е": ("e",), "ё": ("ë", "e"), "к": ("k",), "м": ("m",),
    "н": ("h", "n"), "о": ("o",), "р": ("p", "r"), "с": ("c", "s"), "т": ("t",), "у": ("y", "u"),
    "х": ("x", "h"), "ы": ("y",), "і": ("i",), "ј": ("j",), "ѕ": ("s",), "ԁ": ("d",), "ӏ": ("l",),
    "А": ("A",), "В": ("B", "V"), "Е": ("E",), "К": ("K",), "М": ("M",), "Н": ("H", "N"),
    "О": ("O",), "Р": ("P", "R"), "С": ("C", "S"), "Т": ("T",), "У": ("Y", "U"), "Х": ("X", "H"),
    "І": ("I",), "Ј": ("J",), "Ѕ": ("S",),
    # Greek
    "α": ("a",), "β": ("b",), "ε": ("e",), "ι": ("i",), "κ": ("k",), "ν": ("v", "n"),
    "ο": ("o",), "ρ": ("p", "r"), "τ": ("t",), "υ": ("u", "y"), "χ": ("x",),
    "Α": ("A",), "Β": ("B",), "Ε": ("E",), "Ζ": ("Z",), "Η": ("H",), "Ι": ("I",), "Κ": ("K",),
    "Μ": ("M",), "Ν": ("N",), "Ο": ("O",), "Ρ": ("P", "R"), "Τ": ("T",), "Υ": ("Y",),
    "Χ": ("X",),
}  # fmt: skip
_LETTERS_RE = re.compile(r"[^\W\d_]+")
_MAX_HOMOGLYPH_CHOICES = 256
_HOMOGLYPH_RE = re.compile("[" + "".join(HOMOGLYPHS) + "]")
_MIXED_WORD_RE = re.compile(r"[^\W\d_]*[" + "".join(HOMOGLYPHS) + r"][^\W\d_]*")


def _is_latin(ch: str) -> bool:
    return ch.isascii() or "LATIN" in unicodedata.name(ch, "")


@lru_cache(maxsize=100_000)
def _latinise(word: str) -> str:
    """``word`` with its foreign letters made Latin, preferring a spelling the lexicon knows."""
    options = [HOMOGLYPHS.get(ch, (ch,)) for ch in word]
    if math.prod(len(o) for o in options) > _MAX_HOMOGLYPH_CHOICES:
        return "".join(o[0] for o in options)
    lex = lexicon.get()
    spellings = ["".join(p) for p in itertools.product(*options)]
    return next((s for s in spellings if lex.is_word(s)), spellings[0])


def _fix_word_script(m: re.Match[str]) -> str:
    word = m.group()
    foreign = [ch for ch in word if not _is_latin(ch)]
    if not foreign or len(foreign) == len(word) or any(ch not in HOMOGLYPHS for ch in foreign):
        return word
    return _latinise(word)


def fix_mixed_script(text: str) -> str:
    """Replace Cyrillic/Greek look-alikes inside an otherwise Latin word (``Ersätтарыttrande``)."""
    if text.isascii() or not _HOMOGLYPH_RE.search(text):
        return text
    return _MIXED_WORD_RE.sub(_fix_word_script, text)


# --- 7: OCR damage to å/ä/ö -----------------------------------------------------------------------

# What OCR made of a letter -> the letters it may stand for, with how often seed 000 showed it.
CONFUSIONS: dict[str, dict[str, int]] = {
    "a": {"å": 18, "ä": 4},
    "o": {"ö": 15},
    "d": {"å": 3, "ä": 2, "ö": 2},
    "é": {"ä": 3, "ö": 2, "å": 1},
    "i": {"ä": 3, "å": 1},
    "&": {"ä": 3},
    "6": {"ö": 2},
    "0": {"ö": 1},
    "§": {"ö": 1},
    "1": {"i": 2},
    "éa": {"ä": 1},
    "oé": {"ö": 1},
    "A": {"Å": 1, "Ä": 1},
    "O": {"Ö": 1},
}
_OCR_TOKEN_RE = re.compile(r"(?<![\w&§])[\w&§]+(?![\w&§])")
MAX_EDITS = 3  # most letters changed in one word
EDIT_PENALTY = math.log(0.25)  # each edit is one more misreading: prefer the fewest
MAX_CANDIDATES = 1500
REAL_WORD_RATIO = 20  # a word is replaced only by a spelling this many times more frequent
CAPITALISED_RATIO = 200  # ... and a capitalised word, which may be a name, by a far more frequent
MIN_DAMAGE_SHARE = 0.03  # share of words that must look damaged before OCR repair runs
MIN_DAMAGED_WORDS = 3
DAMAGE_SAMPLE = 3000  # words looked at to decide whether a text is OCR-damaged
QUICK_EDITS, QUICK_CANDIDATES = 2, 300  # the cheaper search behind the damage check
HUNSPELL_TRIES = 40  # candidates unseen in clean text that are put to hunspell, likeliest first


def _log_prior(replacements: dict[str, int], count: int) -> float:
    """Log-probability of one edit: its seed count over all readings of that source (+1 for "as is")."""
    return math.log(count / (sum(replacements.values()) + 1))


# source -> ((replacement, log-probability), ...)
_READINGS = {
    src: tuple((r, _log_prior(repls, n)) for r, n in repls.items())
    for src, repls in CONFUSIONS.items()
}


def _edit_sites(word: str) -> list[tuple[int, int, tuple[tuple[str, float], ...]]]:
    """``(start, length, readings)`` for every place in ``word`` that OCR may have damaged."""
    sites = []
    for i in range(len(word)):
        for length in (1, 2):
            src = word[i : i + length]
            if len(src) == length and src in _READINGS:
                if src == "1" and not (i == 0 and word[1:].isalpha() and word[1:].islower()):
                    continue  # a digit is only a damaged ``i`` at the start of a word
                sites.append((i, length, _READINGS[src]))
    return sites


def candidates(
    word: str, max_edits: int = MAX_EDITS, limit: int = MAX_CANDIDATES
) -> Iterator[tuple[str, float]]:
    """Spellings ``word`` may be an OCR misreading of, each with the log-likelihood of its edits."""
    sites = _edit_sites(word)
    produced = 0
    for n in range(1, min(max_edits, len(sites)) + 1):
        for chosen in itertools.combinations(sites, n):
            if any(a[0] + a[1] > b[0] for a, b in itertools.pairwise(chosen)):
                continue  # overlapping sites
            for readings in itertools.product(*(site[2] for site in chosen)):
                out, pos, prior = [], 0, n * EDIT_PENALTY
                for (start, length, _), (repl, logp) in zip(chosen, readings, strict=True):
                    out.append(word[pos:start])
                    out.append(repl)
                    pos, prior = start + length, prior + logp
                out.append(word[pos:])
                yield "".join(out), prior
                produced += 1
                if produced >= limit:
                    return
    if len(word) <= 2 and word.isalpha() and word.islower():
        for vowel in "äåö":  # a lost initial vowel: ``r`` for ``är``
            yield vowel + word, math.log(0.1)


def _scored(word: str, spell_check: bool) -> list[tuple[float, str, int]]:
    """``(score, spelling, frequency)`` of the candidates the lexicon knows.

    A candidate seen in clean text scores log(1 + frequency) + the log-likelihood of its edits.
    With ``spell_check``, the ``HUNSPELL_TRIES`` likeliest other candidates are put to hunspell
    (which knows compounds no text has shown); without it only the frequency list is asked.
    """
    lex = lexicon.get()
    found, unseen = [], []
    quick = {} if spell_check else {"max_edits": QUICK_EDITS, "limit": QUICK_CANDIDATES}
    for cand, prior in candidates(word, **quick):
        if not cand.isalpha():
            continue
        freq = lex.frequency(cand)
        (found if freq else unseen).append((math.log(1 + freq) + prior, cand, freq))
    if spell_check:
        bar = max(found)[0] if found else -math.inf
        unseen.sort(reverse=True)  # likeliest first: the first word hunspell knows is the best
        for cand in itertools.islice(unseen, HUNSPELL_TRIES):
            if cand[0] <= bar:
                break  # cannot beat a spelling seen in clean text
            if lex.is_word(cand[1]):
                found.append(cand)
                break
    return found


@lru_cache(maxsize=200_000)
def _best_known(word: str) -> tuple[str, int] | None:
    """The likeliest spelling of ``word`` the lexicon knows, with its frequency, or None."""
    scored = _scored(word, spell_check=True)
    if not scored:
        return None
    _, cand, freq = max(scored)
    return cand, freq


@lru_cache(maxsize=500_000)
def _looks_damaged(word: str) -> bool:
    """True when ``word`` is no word but a spelling of clean text is one OCR misreading away."""
    if word.isupper() or not any(c.isalpha() for c in word) or not _edit_sites(word):
        return False
    return not lexicon.get().is_word(word) and bool(_scored(word, spell_check=False))


@lru_cache(maxsize=500_000)
def repair_word(word: str) -> str:
    """The likeliest spelling of one OCR-damaged ``word`` out of context (itself when none fits).

    A word the lexicon knows is only replaced by a spelling ``REAL_WORD_RATIO`` times more frequent
    (``CAPITALISED_RATIO`` when capitalised: ``Lisa`` is a name, not ``Läsa``).
    """
    if not any(c.isalpha() for c in word) or not (_edit_sites(word) or len(word) <= 2):
        return word
    if word.isupper() and len(word) > 1:
        return word  # an abbreviation or code (``AT``, ``SOD``): no lexicon to judge it by
    best = _best_known(word)
    if best is None:
        return word
    lex = lexicon.get()
    cand, freq = best
    ratio = CAPITALISED_RATIO if word[0].isupper() else REAL_WORD_RATIO
    if lex.is_word(word) and freq < ratio * max(lex.frequency(word), 1):
        return word
    return cand


@lru_cache(maxsize=500_000)
def spellings(word: str) -> tuple[str, ...]:
    """What ``word`` may stand for when its neighbours must decide: ``repair_word(word)`` first,
    then the other words with context counts that OCR may have read as ``word``.

    ``bor`` -> ``('bor', 'bör')``; ``fdr`` -> ``('för', 'får')``; ``nämnden`` -> ``('nämnden',)``.
    """
    first = repair_word(word)
    members = _contexts().members
    if first.lower() not in members or (word.isupper() and len(word) > 1):
        return (first,)
    lower = word.lower()
    reachable = dict.fromkeys(c.lower() for c, _ in candidates(word))
    others = [m for m in (lower, *reachable) if m in members and m != first.lower()]
    return (first, *dict.fromkeys(_with_case_of(word, m) for m in others))


def ocr_damage(text: str) -> float:
    """Share of the words of ``text`` that look OCR-damaged (0.0 for clean text).

    Only the first ``DAMAGE_SAMPLE`` words are looked at: OCR damage is not local.
    """
    prose = " ".join(_URLISH_RE.split(text)[::2])
    tokens = list(itertools.islice(_OCR_TOKEN_RE.finditer(prose), DAMAGE_SAMPLE))
    words = sum(1 for t in tokens if len(t.group()) > 1 and any(c.isalpha() for c in t.group()))
    if not words:
        return 0.0
    damaged = sum(1 for t in tokens if _looks_damaged(t.group()))
    if damaged < MIN_DAMAGED_WORDS:
        return 0.0
    return damaged / words


# Addresses and paths (``https://…``, ``a@b.se``, ``%C3%B6``, ``x.pdf``, ``ad/sarskilt-boende/``).
_URLISH_RE = re.compile(
    r"(\S*(?://|www\.|@|%[0-9A-Fa-f]{2}|\.(?:pdf|html?|docx?|aspx?|php)\b|/[^\s/]+/)\S*)"
)
# A word, or a sentence mark (a boundary for the context counts).
_PROSE_TOKEN_RE = re.compile(r"(?<![\w&§])[\w&§]+(?![\w&§])|[.!?:;]")
# ``1`` between lower-case words may be a misread ``i`` (``del 1 arbetet``).
_LONE_ONE_RE = re.compile(r"(?:(?<=[a-zåäö] )|(?<=[a-zåäö], ))1(?=\s+[a-zåäö])")


def repair_ocr(text: str, force: bool = False) -> str:
    """Repair OCR-damaged å/ä/ö (and ``1`` for ``i``) when the text shows such damage.

    ``force`` skips the damage check (for a caller that already knows the text is OCR'd).
    """
    if not force and ocr_damage(text) < MIN_DAMAGE_SHARE:
        return text
    parts = _URLISH_RE.split(text)  # odd items are addresses, left as they are
    for i in range(0, len(parts), 2):
        parts[i] = _repair_prose(parts[i])
    return "".join(parts)


def _options(m: re.Match[str]) -> tuple[str, ...]:
    word = m.group()
    if word == "1":
        return ("1", *spellings("i")) if _LONE_ONE_RE.match(m.string, m.start()) else ("1",)
    if word in ".!?:;":
        return (word,)
    return spellings(word)


def _context_key(word: str) -> str:
    """How a neighbour is looked up in the context counts."""
    if word.isalpha():
        return word.lower().translate(FOLD)
    if word.isdigit():
        return word if word == "1" else NUMBER
    return BOUNDARY if word in ".!?:;" else word.lower()


def _repair_prose(text: str) -> str:
    """Repair each word: out of context first, then let the neighbours pick where words compete."""
    toks = list(_PROSE_TOKEN_RE.finditer(text))
    options = [_options(t) for t in toks]
    keys = [_context_key(o[0]) for o in options]
    out, pos = [], 0
    for i, tok in enumerate(toks):
        prev = keys[i - 1] if i else BOUNDARY
        nxt = keys[i + 1] if i + 1 < len(toks) else BOUNDARY
        chosen = decide(options[i], prev, nxt)
        if chosen != tok.group():
            out.append(text[pos : tok.start()])
            out.append(chosen)
            pos = tok.end()
    out.append(text[pos:])
    return "".join(out)


# --- 7b: words that are words either way (``for``/``för``) -----------------------------------------

CONTEXTS = Path(__file__).resolve().parent / "data" / "contexts.tsv.gz"
FOLD = str.maketrans("åäöÅÄÖ", "aaoAAO")
BOUNDARY = "<s>"
NUMBER = "<num>"
CONTEXT_MARGIN = 2.0  # log-odds a spelling must gain over the context-free choice to replace it
_SMOOTH = 0.5
_VOCABULARY = 50_000


@dataclasses.dataclass(frozen=True)
class Contexts:
    """Counts of the words that differ only in å/ä/ö, and of ``i``/``1``, with their neighbours
    (built by ``scripts/build_wordfreq.py``)."""

    unigram: dict[str, int]
    left: dict[tuple[str, str], int]
    right: dict[tuple[str, str], int]

    @functools.cached_property
    def members(self) -> frozenset[str]:
        """The words that have context counts."""
        return frozenset(self.unigram)


@lru_cache(maxsize=1)
def _contexts() -> Contexts:
    unigram: dict[str, int] = {}
    left: dict[tuple[str, str], int] = {}
    right: dict[tuple[str, str], int] = {}
    if CONTEXTS.exists():
        with gzip.open(CONTEXTS, "rt", encoding="utf-8") as fh:
            for line in fh:
                side, a, b, n = line.rstrip("\n").split("\t")
                if side == "U":
                    unigram[a] = int(n)
                else:
                    (left if side == "L" else right)[a, b] = int(n)
    return Contexts(unigram, left, right)


def _context_score(word: str, prev: str, nxt: str) -> float:
    """log P(word) + log P(prev | word) + log P(next | word), smoothed (``word`` lower-case)."""
    ctx = _contexts()
    n = max(ctx.unigram.get(word, 0), 1)
    denominator = n + _SMOOTH * _VOCABULARY
    left = (ctx.left.get((prev, word), 0) + _SMOOTH) / denominator
    right = (ctx.right.get((word, nxt), 0) + _SMOOTH) / denominator
    return math.log(n) + math.log(left) + math.log(right)


def _with_case_of(model: str, word: str) -> str:
    if model.isupper() and len(model) > 1:
        return word.upper()
    return word[0].upper() + word[1:] if model[:1].isupper() else word


def decide(options: tuple[str, ...], prev: str, nxt: str) -> str:
    """The option its (folded) neighbours make likeliest; the first unless another wins clearly."""
    if len(options) == 1:
        return options[0]
    scores = [_context_score(o.lower(), prev, nxt) for o in options]
    best = max(range(len(options)), key=scores.__getitem__)
    return options[best] if scores[best] - scores[0] >= CONTEXT_MARGIN else options[0]


def choose_in_context(word: str, prev: str, nxt: str) -> str:
    """The spelling of ``word`` between neighbours ``prev`` and ``nxt`` (folded, lower-case;
    ``<s>`` at a sentence boundary): ``choose_in_context("bor", "det", "tydligt")`` -> ``bör``."""
    return decide(spellings(word), prev, nxt)


# --- 8: words broken over lines -------------------------------------------------------------------

# The second half must end the token (``nämnden__x`` or ``ord2`` are not a word's second half:
# moving only their letters up would leave ``__x`` at a line start, which markup repair reads anew),
# and no ``#`` may follow it (``nämnden ## x`` would leave a heading mark at the line start).
_BROKEN_RE = re.compile(r"(?<![^\W\d_])([^\W\d_]+)(-|\u00ad)[ \t]*\n[ \t]*([^\W\d_]+)(?!\w)(?![ \t]*#)[ \t]*")


# After a suspended hyphen (``hälso- och sjukvård``, ``för- eller nackdelar``) the hyphen stays.
_COORDINATING = frozenset(["och", "eller", "samt", "respektive", "resp", "som", "till", "men"])


def _join(m: re.Match[str]) -> str:
    first, mark, second = m.group(1), m.group(2), m.group(3)
    joined = first + second
    if mark == SOFT_HYPHEN:
        return fix_mixed_script(joined) + "\n"  # the halves may only now form one word
    if second[0].islower() and second not in _COORDINATING and lexicon.get().is_word(joined):
        return joined + "\n"
    return m.group()


def join_broken_words(text: str) -> str:
    """Join a word hyphenated over a line break when the joined word is a word.

    The joined word ends the first line and the rest of the second line stays on the second
    (``genom-\\nföras mer`` -> ``genomföras\\nmer``). A hyphen stays before a capital
    (``Enskede-\\nÅrsta``), before a conjunction (``hälso-\\noch``) and where the joined form is
    unknown (``EU-\\nkommissionen``). A soft hyphen always joins; leftover ones go.
    """
    if "-" not in text and SOFT_HYPHEN not in text:
        return text
    return _BROKEN_RE.sub(_join, text).replace(SOFT_HYPHEN, "")


# --- the chain ------------------------------------------------------------------------------------

REPAIRS = (
    drop_invisible,
    strip_markup,
    nfc,  # after markup: an entity may stand for a combining accent
    expand_ligatures,
    fix_mixed_script,
    join_broken_words,
    repair_ocr,
    join_broken_words,  # again: a word repaired by OCR may now join its other half
)


def clean(text: str) -> str:
    """Run every repair in order; keeps the line count, idempotent."""
    return _cleaned(text)[0]


def clean_document(doc: Document) -> Document:
    """The document with its text cleaned; where OCR damage was repaired, the number of words
    changed in ``ocr_repaired`` and a warning saying so (a quotation should be checked against
    the original)."""
    text, repaired = _cleaned(doc.text)
    if not repaired:
        return dataclasses.replace(doc, text=text)
    note = f"OCR damage repaired: {repaired} words changed; check quotations against the original"
    return dataclasses.replace(doc, text=text, ocr_repaired=repaired, warnings=(*doc.warnings, note))


def _cleaned(text: str) -> tuple[str, int]:
    """The cleaned text and the number of words ``repair_ocr`` changed in it."""
    repaired = 0
    for repair in REPAIRS:
        before, text = text, repair(text)
        if repair is repair_ocr and text != before:
            repaired += changed_words(before, text)
    return text, repaired


def changed_words(before: str, after: str) -> int:
    """How many words of ``before`` read differently in ``after`` (a repair that changes words,
    not their number; otherwise the words that are new in ``after``)."""
    old, new = _OCR_TOKEN_RE.findall(before), _OCR_TOKEN_RE.findall(after)
    if len(old) == len(new):
        return sum(a != b for a, b in zip(old, new, strict=True))
    return sum((Counter(new) - Counter(old)).values())
