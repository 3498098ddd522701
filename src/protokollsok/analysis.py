"""The Swedish analysis chain, shared by indexing and querying (and mirrored by the web page).

A text is cut into tokens (Swedish letters and diarienummer kept whole); each token yields up to four
forms, each indexed in its own field so that ranking can prefer the closest match:

=========  ==========================================================  ==================
field      form                                                        example (våldet)
=========  ==========================================================  ==================
exact      the lower-cased word                                        ``våldet``
stem       Snowball Swedish stem of the word and of its hunspell       ``våld``
           lemmas (so ``brottsoffren`` meets ``brottsoffer``)
fold       the stem forms of the word with å/ä/ö/é folded to a/a/o/e   ``vald``
           (recall for OCR-damaged text and queries typed without
           diacritics; weighted lowest)
parts      stems of the compound's parts                               (``våldsutövare``:
                                                                       ``våld``, ``utövar``)
=========  ==========================================================  ==================

A fifth field, ``pair``, holds two neighbouring words as one term when either is a function word
(``PAIR_WORDS``: ``i``, ``med``, ``att``, ...): their stems joined by a space, every stem of the first
with every stem of the second, at the first word's position. A phrase is then found through its
pairs instead of the positions of each word (``phrases``), so ``"i enlighet med"`` does not decode
the positions of ``i`` and ``med`` in every unit that holds them. Pairs of two other words are not
indexed (as Lucene's CommonGrams): they make most of all distinct pairs, and phrases of such words
are cheap to match on positions anyway.

``CHAINS`` names simpler chains used to measure what each step adds (``bench/eval_search.py``).
"""

from __future__ import annotations

import itertools
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import NamedTuple

from protokollsok import compound, formstore, lexicon

try:  # tokens and gathering a text's terms in C (setup.py builds it; optional, the same as below)
    from protokollsok._postings import analysed as _c_analysed
    from protokollsok._postings import gather as _c_gather
    from protokollsok._postings import gather_pairs as _c_gather_pairs
    from protokollsok._postings import words as _c_words
except ImportError:  # pragma: no cover - an install that could not compile it
    _c_analysed = _c_gather = _c_gather_pairs = _c_words = None

FIELDS = ("exact", "stem", "fold", "parts")
PAIR = "pair"  # the word-pair field (see the module docstring); not a form of one word
# Snowball's Swedish stop word list (snowballstem.org/algorithms/swedish/stop.txt): the words whose
# pairs are indexed. Changing it changes the index (``schema.SCHEMA_VERSION``).
_STOP_TXT = (
    "och det att i en jag hon som han på den med var sig för så till är men ett om hade de av icke "
    "mig du henne då sin nu har inte hans honom skulle hennes där min man ej vid kunde något från ut "
    "när efter upp vi dem vara vad över än dig kan sina här ha mot alla under någon eller allt mycket "
    "sedan ju denna själv detta åt utan varit hur ingen mitt ni bli blev oss din dessa några deras "
    "blir mina samma vilken er sådan vår blivit dess inom mellan sådant varför varje vilka ditt vem "
    "vilket sitta sådana vart dina vars vårt våra ert era vilkas"
)
PAIR_WORDS = frozenset(_STOP_TXT.split())

# A token: letters/digits joined by inner - / . : (dnr such as SLK-2025-00338, 1.7.1-266/2019,
# Bun/2024:73 stay whole; hyphenated words are cut into their parts below).
TOKEN_RE = re.compile(r"[^\W_]+(?:[-/.:][^\W_]+)*")
_JOINERS_RE = re.compile(r"[-/.:]")
_DIGIT_RE = re.compile(r"\d")
_FOLD = str.maketrans({"å": "a", "ä": "a", "ö": "o", "é": "e", "è": "e", "ü": "u", "æ": "a", "ø": "o"})


@dataclass(frozen=True)
class Chain:
    """Which forms an analysis chain produces (the full chain produces all)."""

    name: str
    lemmas: bool = True
    fold: bool = True
    parts: bool = True
    exact: bool = True
    whoosh_default: bool = False

    @property
    def fields(self) -> tuple[str, ...]:
        """The form fields this chain fills."""
        flags = {"exact": self.exact, "stem": True, "fold": self.fold, "parts": self.parts}
        return tuple(f for f in FIELDS if flags[f])

    @property
    def pairs(self) -> bool:
        """Whether the chain indexes word pairs (all but whoosh's default analyzer)."""
        return not self.whoosh_default

    @property
    def indexed_fields(self) -> tuple[str, ...]:
        """Every field the body text is indexed in: the form fields, then ``pair``."""
        return self.fields + ((PAIR,) if self.pairs else ())


_CHAIN_LIST = (
    Chain("whoosh-default", lemmas=False, fold=False, parts=False, exact=False, whoosh_default=True),
    Chain("snowball", lemmas=False, fold=False, parts=False, exact=False),
    Chain("snowball+lemma", fold=False, parts=False, exact=False),
    Chain("snowball+lemma+fold", parts=False, exact=False),
    Chain("snowball+lemma+fold+compound", exact=False),
    Chain("full"),
)
CHAINS: tuple[str, ...] = tuple(c.name for c in _CHAIN_LIST)
_BY_NAME = {c.name: c for c in _CHAIN_LIST}


def chain(name: str) -> Chain:
    """The chain called ``name`` (one of ``CHAINS``)."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown analysis chain {name!r}; choose one of {', '.join(CHAINS)}") from None


class Token(NamedTuple):
    """One word of a text: its position (word count), character span and lower-cased form. (A
    named tuple: a frozen dataclass took a microsecond to make, a tenth of a build's analysis.)"""

    pos: int
    start: int
    end: int
    word: str


def tokenize(text: str) -> Iterator[Token]:
    """Cut text into lower-cased word tokens with positions and character offsets.

    Tokens holding a digit (diarienummer, dates, numbers) stay whole; a hyphenated word
    (``Enskede-Årsta-Vantörs``) yields one token per part so each part can be searched.
    """
    return itertools.starmap(Token, _words(text))


def _words(text: str) -> Iterable[tuple[int, int, int, str]]:
    """``tokenize``'s tokens as plain tuples (a named tuple costs a third of a microsecond more)."""
    if _c_words is not None:
        return _c_words(text)
    return _py_words(text)


def _py_words(text: str) -> Iterator[tuple[int, int, int, str]]:
    """``_words`` in Python (the C part's ``words`` cuts the same tokens in about half the time)."""
    pos = 0
    for m in TOKEN_RE.finditer(text):
        tok = m.group()
        if tok.isalpha() or _DIGIT_RE.search(tok) or not _JOINERS_RE.search(tok):
            yield pos, m.start(), m.end(), tok.lower()
            pos += 1
            continue
        offset = m.start()
        for part in _JOINERS_RE.split(tok):
            if part:
                yield pos, offset, offset + len(part), part.lower()
                pos += 1
            offset += len(part) + 1


def word_set(text: str) -> set[str]:
    """The distinct words ``tokenize`` yields for ``text``, without their places (twice as fast)."""
    out: set[str] = set()
    for tok in set(TOKEN_RE.findall(text)):
        if tok.isalpha() or _DIGIT_RE.search(tok) or not _JOINERS_RE.search(tok):
            out.add(tok.lower())
        else:
            out.update(part.lower() for part in _JOINERS_RE.split(tok) if part)
    return out


def fold(word: str) -> str:
    """Fold Swedish and other diacritics: ``nämnd`` -> ``namnd`` (for recall only)."""
    word = word.translate(_FOLD)
    if word.isascii():
        return word
    return "".join(c for c in unicodedata.normalize("NFD", word) if not unicodedata.combining(c))


def _swedish_stemmer():
    """PyStemmer's C build of Snowball Swedish — what ``snowballstemmer.stemmer`` itself returns
    when PyStemmer is installed — imported directly (``import snowballstemmer`` loads the pure
    Python stemmers of every language, 25 ms of each command's start-up)."""
    try:
        import Stemmer
    except ImportError:
        import snowballstemmer

        return snowballstemmer.stemmer("swedish")
    return Stemmer.Stemmer("swedish")


_stemmer = _swedish_stemmer()


@lru_cache(maxsize=500_000)
def stem(word: str) -> str:
    """Snowball Swedish stem (PyStemmer's C implementation when installed)."""
    return _stemmer.stemWord(word)


def _whole_lemma(word: str, lemma: str) -> str:
    """Hunspell lemmatises a compound it built itself by its head only (``gärningspersoner`` ->
    ``person``): put the modifier back (``gärningsperson``)."""
    if len(lemma) + 3 >= len(word) or word.startswith(lemma[:3]):
        return lemma
    at = word.rfind(lemma[:3])
    return word[:at] + lemma if at > 0 else lemma


@lru_cache(maxsize=500_000)
def lemmas(word: str) -> tuple[str, ...]:
    """Dictionary base forms of a lower-case word (``brottsoffren`` -> ``brottsoffer``), or ()."""
    if not word.isalpha():
        return ()
    found = lexicon.get().lemmas(word)
    return tuple(dict.fromkeys(_whole_lemma(word, lem) for lem in found))


@dataclass(frozen=True)
class Forms:
    """The analysed forms of one word, per field."""

    exact: tuple[str, ...]
    stem: tuple[str, ...]
    fold: tuple[str, ...]
    parts: tuple[str, ...]

    def of(self, field: str) -> tuple[str, ...]:
        """The forms for ``field`` (one of ``FIELDS``)."""
        return getattr(self, field)


_MEMO_SIZE = 500_000
_memo: dict[str, dict[str, Forms]] = {}  # chain -> word -> forms (a word alone is a cheaper key)


def _chain_memo(chain_name: str) -> dict[str, Forms]:
    memo = _memo.get(chain_name)
    if memo is None:
        memo = _memo[chain_name] = {}
    return memo


def forms(word: str, chain_name: str = "full") -> Forms:
    """All forms of one lower-case token under the named chain: from this process's memo, else
    from the persistent store (``formstore``), else computed (and then kept in both)."""
    memo = _chain_memo(chain_name)
    found = memo.get(word)
    if found is not None:
        return found
    stored = formstore.lookup(word, chain_name)
    if stored is not None and len(stored) == len(FIELDS):
        found = Forms(*stored)
    else:
        found = compute_forms(word, chain_name)
        formstore.remember(word, chain_name, (found.exact, found.stem, found.fold, found.parts))
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[word] = found
    return found


def compute_forms(word: str, chain_name: str = "full") -> Forms:
    """All forms of one lower-case token under the named chain, computed (needs the lexicon)."""
    c = chain(chain_name)
    exact = (word,) if c.exact else ()
    if c.whoosh_default or any(ch.isdigit() for ch in word):
        return Forms(exact, (word,), (), ())
    bases = (word, *lemmas(word)) if c.lemmas else (word,)
    stems = tuple(dict.fromkeys(stem(b) for b in bases))
    folded: tuple[str, ...] = ()
    if c.fold:
        folded = tuple(dict.fromkeys(stem(fold(b)) for b in bases))
    parts: tuple[str, ...] = ()
    if c.parts:
        split = compound.split(bases[-1]) or compound.split(word)
        parts = tuple(dict.fromkeys(stem(p) for p in split))
    return Forms(exact, stems, folded, parts)


def analyse(text: str, field: str, chain_name: str = "full") -> Iterator[tuple[int, str, int, int]]:
    """The terms of ``text`` for one field: ``(position, term, start, end)``, several per position
    where a word has several forms. Index and query both go through here."""
    if chain(chain_name).whoosh_default:
        yield from _whoosh_default(text)
        return
    if field == PAIR:
        yield from _pairs(_analysed(text, chain_name))
        return
    for pos, start, end, word_forms in _analysed(text, chain_name):
        for term in word_forms.of(field):
            yield pos, term, start, end


def terms(text: str, field: str, chain_name: str = "full", positions: bool = True) -> dict[str, list[int]] | dict[str, int]:
    """``analyse``'s terms of ``text`` for one field, gathered: each term's positions in order
    (or, without ``positions``, its number of occurrences). What the index stores per unit."""
    if field == PAIR and _c_gather_pairs is not None and not chain(chain_name).whoosh_default:
        return _c_gather_pairs(_analysed(text, chain_name), pair_stems(), positions)
    if chain(chain_name).whoosh_default or field == PAIR:
        items = [(pos, term) for pos, term, _, _ in analyse(text, field, chain_name)]
    elif _c_gather is not None:  # a tenth of a build's time in the loops below
        return _c_gather(_analysed(text, chain_name), field, positions)
    else:
        items = [(pos, term) for pos, _, _, word_forms in _analysed(text, chain_name)
                 for term in getattr(word_forms, field)]
    if not positions:
        return dict(Counter(term for _, term in items))
    poses: dict[str, list[int]] = {}
    get = poses.get
    for pos, term in items:
        found = get(term)
        if found is None:
            poses[term] = [pos]
        else:
            found.append(pos)
    return poses


def pair_term(first_stem: str, second_stem: str) -> str:
    """The ``pair`` term of two neighbouring words' stems."""
    return f"{first_stem} {second_stem}"


@lru_cache(maxsize=1)
def pair_stems() -> frozenset[str]:
    """The stems of ``PAIR_WORDS``."""
    return frozenset(stem(w) for w in PAIR_WORDS)


def is_pair(first_stem: str, second_stem: str) -> bool:
    """Whether two neighbouring stems are indexed as a pair (either is a function word's)."""
    common = pair_stems()
    return first_stem in common or second_stem in common


def _pairs(tokens: tuple[tuple[int, int, int, Forms], ...]) -> Iterator[tuple[int, str, int, int]]:
    common = pair_stems()  # is_pair, without a call per pair of neighbours
    for (pos, start, _, a), (_, _, end, b) in itertools.pairwise(tokens):
        for sa in a.stem:
            for sb in b.stem:
                if sa in common or sb in common:
                    yield pos, pair_term(sa, sb), start, end


@lru_cache(maxsize=4)
def _analysed(text: str, chain_name: str) -> tuple[tuple[int, int, int, Forms], ...]:
    """Tokens with their forms, kept for the few most recent texts: whoosh analyses the same
    text once per field, and this makes that one tokenisation instead of four."""
    memo = _chain_memo(chain_name)
    if _c_analysed is not None:
        return _c_analysed(text, memo, forms, chain_name)
    out = []
    for pos, start, end, word in _py_words(text):
        found = memo.get(word)
        out.append((pos, start, end, forms(word, chain_name) if found is None else found))
    return tuple(out)


def _whoosh_default(text: str) -> Iterator[tuple[int, str, int, int]]:
    """whoosh's StandardAnalyzer, the baseline of the evaluation."""
    from whoosh.analysis import StandardAnalyzer

    for t in StandardAnalyzer()(text, positions=True, chars=True):
        yield t.pos, t.text, t.startchar, t.endchar
