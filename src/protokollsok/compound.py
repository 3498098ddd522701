"""Swedish compound splitting: ``våldsutövare`` -> ``våld`` + ``utövare``.

Hunspell accepts compounds it builds itself but keeps lexicalised compounds (``hemtjänst``,
``våldsbejakande``, ``förskoleklass``) as single entries, so a search for ``våld`` would never reach
them. This module splits a word into known parts:

- the head (last part) must be a known word form of at least 3 letters;
- the modifier, after removing a linking ``s``/``e``/``u``/``o`` or restoring a dropped final vowel
  (``skol`` -> ``skola``), must be a known stem of at least 3 letters and not a function word;
- among the possible splits the one whose parts are most frequent in clean Swedish text wins
  (Koehn & Knight's geometric mean), and a long modifier or head is split once more.

"Known" means: a stem in the Debian ``hunspell-sv`` dictionary or a word seen in clean text.
"""

from __future__ import annotations

import math
from functools import lru_cache

from protokollsok import cache, lexicon

# Words that are grammatical prefixes or particles much more often than compound parts.
_NOT_PARTS = frozenset(
    """
    an av be bi de du en er ett fri för ge han hon in jag man med mot när och om på sig sin
    som till upp ut vid vad var vi all alla allt dem den det din dit där ej fram här hit hos
    ner nog nu oss per sam sen så tre två und van vår över under efter genom mellan bakom
    utan inom utom sedan samt eller men inte icke ingen
    """.split()  # noqa: SIM905
)
_LINKS = ("s", "e", "u", "o", "a")
_RESTORE = ("a", "e", "o")
MIN_PART = 3
MIN_HEAD = 4  # a shorter head must be a dictionary word (``dåd`` in ``våldsdåd``)
MIN_WORD = 7
PART_MIN_FREQ = 100  # a part not in the dictionary must be this common in clean text


@lru_cache(maxsize=1)
def _known_stems() -> frozenset[str]:
    lex = lexicon.get()
    return cache.derived("known-stems", 1, [lex.dic], lambda: frozenset(lex.dictionary_words()))


def is_known(word: str) -> bool:
    """True when ``word`` may be a compound part: a dictionary stem or a common word of clean text."""
    return word in _known_stems() or lexicon.get().frequency(word) >= PART_MIN_FREQ


def _weight(word: str) -> float:
    return math.log(2 + lexicon.get().frequency(word))


def _modifier_forms(mod: str) -> list[str]:
    """The stems a compound modifier may stand for: itself, without its link, with a restored vowel."""
    if mod in _NOT_PARTS:  # a prefix or particle (``för`` in ``förtryck``), not a word restored
        return []
    forms = [mod]
    if len(mod) > MIN_PART and mod.endswith(_LINKS):
        forms.append(mod[:-1])
    forms.extend(mod + v for v in _RESTORE)
    return [f for f in forms if len(f) >= MIN_PART and f not in _NOT_PARTS and is_known(f)]


def _best_split(word: str) -> tuple[str, str] | None:
    best: tuple[float, int, str, str] | None = None
    for i in range(MIN_PART, len(word) - MIN_PART + 1):
        head = word[i:]
        if head in _NOT_PARTS or not is_known(head):
            continue
        if len(head) < MIN_HEAD and head not in _known_stems():
            continue
        for mod in _modifier_forms(word[:i]):
            score = math.sqrt(_weight(mod) * _weight(head))
            cand = (score, len(head), mod, head)
            if best is None or cand[:2] > best[:2]:
                best = cand
    if best is None or not _beats_whole(word, best[2], best[3]):
        return None
    return best[2], best[3]


def _beats_whole(word: str, mod: str, head: str) -> bool:
    """Koehn & Knight: split only when the parts are (geometrically) more common than the word."""
    lex = lexicon.get()
    parts = math.sqrt((1 + lex.frequency(mod)) * (1 + lex.frequency(head)))
    return parts > lex.frequency(word)


@lru_cache(maxsize=200_000)
def split(word: str) -> tuple[str, ...]:
    """The parts of a compound word (lower case), or ``()`` when it is not one.

    >>> split("våldsutövare")
    ('våld', 'utövare')
    """
    word = word.lower()
    if len(word) < MIN_WORD or not word.isalpha():
        return ()
    found = _best_split(word)
    if found is None:
        return ()
    mod, head = found
    parts: list[str] = list(_split_further(mod))
    parts.extend(_split_further(head))
    return tuple(parts)


def _split_further(part: str) -> tuple[str, ...]:
    """A part that is itself a dictionary word stays whole (``förtryck``, not ``före`` + ``tryck``)."""
    if part in _known_stems():
        return (part,)
    return split(part) or (part,)
