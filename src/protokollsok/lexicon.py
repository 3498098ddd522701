"""The Swedish lexicon: Debian's ``hunspell-sv`` dictionary plus word frequencies of clean text.

``get()`` returns one shared ``Lexicon``. It answers three questions, each cached because they are
asked once per token:

- ``is_word(w)``: hunspell accepts ``w`` (as given or lower-cased) or ``w`` occurs in clean text;
- ``lemmas(w)``: hunspell's stems, lower-cased (``brottsoffren`` -> ``brottsoffer``);
- ``frequency(w)``: how often the lower-cased ``w`` occurs in the bundled frequency list.

The frequency list ``data/wordfreq.tsv.gz`` (``word<TAB>count``, lower-cased, most frequent first)
is built by ``scripts/build_wordfreq.py`` from the clean, born-digital texts in ``../shared/corpora``:
the regeringen.se pages, the Riksdag interpellations from 2001/02 on (earlier ones were OCR'd from
paper and are left out) and Göteborg's verbatim KF speeches. Words are runs of letters (a single
inner hyphen or apostrophe is split off), counted lower-cased; only counts of at least 3 are kept,
and the threshold is raised until the gzipped file stays under 1.5 MB. The corpora themselves are
never bundled. Rebuild with ``.venv/bin/python scripts/build_wordfreq.py`` (it also writes
``data/contexts.tsv.gz``, the neighbour counts ``normalize`` uses for ``for``/``för`` and the like).

The hunspell dictionary is found at ``$PROTOKOLLSOK_HUNSPELL`` (the ``.dic``; the ``.aff`` lies
beside it) or ``/usr/share/hunspell/sv_SE.dic``.
"""

from __future__ import annotations

import gzip
import os
from collections.abc import Iterable, Iterator
from functools import cached_property, lru_cache
from pathlib import Path

from protokollsok import cache
from protokollsok.errors import ProtokollsokError

DEFAULT_DIC = Path("/usr/share/hunspell/sv_SE.dic")
WORDFREQ = Path(__file__).resolve().parent / "data" / "wordfreq.tsv.gz"
_ONLY_IN_COMPOUND = "Z"
_FORBIDDEN = "%"


def dictionary_path() -> Path:
    """The hunspell ``.dic`` in use: ``$PROTOKOLLSOK_HUNSPELL`` or Debian's sv_SE."""
    return Path(os.environ.get("PROTOKOLLSOK_HUNSPELL") or DEFAULT_DIC)


def load_frequencies(path: Path = WORDFREQ) -> dict[str, int]:
    """Read a ``word<TAB>count`` gzip file into a dict; an absent file gives an empty dict."""
    if not path.exists():
        return {}
    counts: dict[str, int] = {}
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            word, _, count = line.rstrip("\n").partition("\t")
            if word and count.isdigit():
                counts[word] = int(count)
    return counts


def _dic_entries(dic: Path) -> Iterator[tuple[str, str]]:
    """``(word, flags)`` for every entry of a hunspell ``.dic`` (the first line is the count)."""
    with dic.open(encoding="utf-8", errors="replace") as fh:
        next(fh, None)
        for line in fh:
            entry = line.split(None, 1)[0] if line.strip() else ""
            word, _, flags = entry.partition("/")
            if word:
                yield word, flags


class Lexicon:
    """Swedish word knowledge: hunspell spelling and stems, clean-text frequencies."""

    def __init__(self, dic: Path, frequencies: dict[str, int]) -> None:
        try:
            import hunspell  # C binding; imported here so a missing dictionary is reported first
        except ImportError as err:
            raise ProtokollsokError(
                "the hunspell Python binding is not installed", "run scripts/setup.sh"
            ) from err

        self.dic = dic
        self._hunspell_class = hunspell.HunSpell
        self._freq = frequencies

    @cached_property
    def _hs(self):
        """The hunspell dictionary, loaded on first use (0.1 s; a search that only needs word
        frequencies never loads it)."""
        return self._hunspell_class(str(self.dic), str(self.dic.with_suffix(".aff")))

    def _spell(self, word: str) -> bool:
        try:
            return bool(self._hs.spell(word))
        except UnicodeError:
            return False

    # The lexicon is a process-wide singleton, so caching on ``self`` leaks nothing.
    @lru_cache(maxsize=1_000_000)  # noqa: B019
    def is_word(self, word: str) -> bool:
        """True when hunspell accepts ``word`` (as given or lower-cased) or clean text uses it."""
        if not word:
            return False
        lower = word.lower()
        return lower in self._freq or self._spell(word) or (lower != word and self._spell(lower))

    @lru_cache(maxsize=500_000)  # noqa: B019
    def lemmas(self, word: str) -> tuple[str, ...]:
        """Distinct lower-cased hunspell stems of ``word`` (``våldet`` -> ``('våld',)``)."""
        try:
            stems = self._hs.stem(word)
        except UnicodeError:
            return ()
        found = (s.decode("utf-8", "replace") if isinstance(s, bytes) else s for s in stems)
        return tuple(dict.fromkeys(s.lower() for s in found if s))

    def frequency(self, word: str) -> int:
        """Count of the lower-cased ``word`` in the bundled clean-text frequency list (0 if absent)."""
        return self._freq.get(word.lower(), 0)

    def dictionary_words(self) -> Iterable[str]:
        """Lower-cased stems of the ``.dic`` entries, leaving out compound-only and forbidden ones."""
        for word, flags in _dic_entries(self.dic):
            if _ONLY_IN_COMPOUND not in flags and _FORBIDDEN not in flags:
                yield word.lower()


@lru_cache(maxsize=1)
def get() -> Lexicon:
    """The shared Swedish lexicon (built once per process)."""
    dic = dictionary_path()
    if not dic.exists() or not dic.with_suffix(".aff").exists():
        raise ProtokollsokError(
            f"Swedish dictionary {dic} not found",
            "install Debian's hunspell-sv (scripts/setup.sh does it) or set "
            "PROTOKOLLSOK_HUNSPELL to its .dic",
        )
    if not WORDFREQ.exists():
        return Lexicon(dic, {})
    return Lexicon(dic, cache.derived("wordfreq", 1, [WORDFREQ], load_frequencies))
