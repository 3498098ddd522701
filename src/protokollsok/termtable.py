"""Query-time word forms that the Python search and the web page compute identically.

The index-time chain (``analysis.forms``) needs hunspell (lemmas) and a lexicon with word
frequencies (compound splitting); a browser has neither. So query analysis is defined as:

- a word of the *domain* gets its full forms, ``analysis.forms(word, chain)``;
- any other word gets its *fallback* forms: the word itself, its Snowball stem and the stem of its
  folded spelling (no lemmas, no compound parts). Snowball and folding exist in JS as well.

The domain is the index's vocabulary (every ``text_exact`` term) plus every word of the bundled
clean-text frequency list (``lexicon.frequency(w) > 0``), which brings in inflected forms that the
corpus itself does not contain. The web export writes a *term table*: for each domain word whose
full forms differ from its fallback forms, those forms (``build_table``). The page looks a word up in
the table and falls back to Snowball + folding otherwise; ``_Builder.word`` in ``search`` calls
``query_forms``, which makes the same choice. Both sides therefore agree by construction, and
``tests/test_web_parity.py`` checks it over a corpus vocabulary plus inflections that are not in it.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache
from pathlib import Path

from protokollsok import analysis, formstore, lexicon
from protokollsok.analysis import Forms
from protokollsok.cache import cache_dir

VocabTest = Callable[[str], bool]


def fallback_forms(word: str, chain_name: str = "full") -> Forms:
    """The forms JS computes without a table: exact word, Snowball stem, stem of the folded word."""
    c = analysis.chain(chain_name)
    exact = (word,) if c.exact else ()
    if c.whoosh_default or any(ch.isdigit() for ch in word):
        return Forms(exact, (word,), (), ())
    folded = (analysis.stem(analysis.fold(word)),) if c.fold else ()
    return Forms(exact, (analysis.stem(word),), folded, ())


def in_domain(word: str, in_vocabulary: VocabTest | None = None) -> bool:
    """True when ``word`` gets its full forms: it is in the index or in the frequency list."""
    if in_vocabulary is not None and in_vocabulary(word):
        return True
    return lexicon.get().frequency(word) > 0


def reader_vocabulary(reader) -> VocabTest:
    """A vocabulary test on an open whoosh reader (the ``text_exact`` terms, else ``text_stem``)."""
    field = "text_exact" if "text_exact" in reader.schema else "text_stem"
    return lambda word: (field, word) in reader


def query_forms(word: str, chain_name: str = "full", reader=None) -> Forms:
    """The forms a query word is searched by (see the module docstring)."""
    test = reader_vocabulary(reader) if reader is not None else None
    if in_domain(word, test):
        return analysis.forms(word, chain_name)
    return fallback_forms(word, chain_name)


def frequency_words() -> Iterator[str]:
    """The words of the bundled frequency list (lower case)."""
    path = lexicon.WORDFREQ
    if not path.exists():
        return
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        for line in fh:
            word = line.split("\t", 1)[0].strip()
            if word:
                yield word


def vocabulary(reader) -> Iterator[str]:
    """Every term of the index's ``text_exact`` field (``text_stem`` for chains without it)."""
    field = "text_exact" if "text_exact" in reader.schema else "text_stem"
    for term in reader.lexicon(field):
        yield term.decode("utf-8") if isinstance(term, bytes) else term


def build_table(words: Iterable[str], chain_name: str = "full") -> dict[str, Forms]:
    """Forms of the domain words (``words`` plus the frequency list) that differ from the fallback."""
    table = dict(frequency_table(chain_name))
    for word in dict.fromkeys(words):
        if word not in table and lexicon.get().frequency(word) == 0:
            full = analysis.forms(word, chain_name)
            if full != fallback_forms(word, chain_name):
                table[word] = full
    return table


def _table_of(words: Iterable[str], chain_name: str) -> dict[str, Forms]:
    table: dict[str, Forms] = {}
    for word in words:
        full = analysis.forms(word, chain_name)
        if full != fallback_forms(word, chain_name):
            table[word] = full
    return table


def _cache_key(chain_name: str) -> str:
    """Changes whenever the frequency list, the dictionary or the analysis code changes."""
    h = hashlib.sha256(f"{chain_name}:{formstore.analysis_key()}".encode())
    h.update(Path(__file__).read_bytes())
    return h.hexdigest()[:16]


@lru_cache(maxsize=4)
def frequency_table(chain_name: str = "full") -> dict[str, Forms]:
    """Table entries of the frequency-list words (the same for every index): computed once
    (about half a minute) and kept on disk, keyed by the analysis code and the data it reads."""
    path = cache_dir() / f"termtable-{_cache_key(chain_name)}.json.gz"
    try:
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            raw = json.load(fh)
        return {w: Forms(tuple(e[0]), tuple(e[1]), tuple(e[2]), tuple(e[3])) for w, e in raw.items()}
    except (OSError, ValueError, IndexError, TypeError):
        pass
    table = _table_of(frequency_words(), chain_name)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(f".tmp{os.getpid()}")
        with gzip.open(tmp, "wt", encoding="utf-8") as fh:
            json.dump({w: [f.exact, f.stem, f.fold, f.parts] for w, f in table.items()}, fh, ensure_ascii=False)
        tmp.replace(path)
    except OSError:
        pass  # a read-only home: compute again next time
    return table


def prune(forms: Forms, exists: VocabTest) -> Forms:
    """The forms a query uses, without the terms the index does not hold (they cannot change a
    result or a score). The first stem stays, as phrases use it; compound parts go, as a query
    word meets compound parts through its stems (``search._Builder.word``)."""
    stems = tuple(t for i, t in enumerate(forms.stem) if i == 0 or exists(t))
    return Forms(forms.exact, stems, tuple(t for t in forms.fold if exists(t)), ())


def build_index_table(words: Iterable[str], exists: VocabTest, chain_name: str = "full") -> dict[str, Forms]:
    """``build_table`` pruned to the terms an index holds: the table a web bundle carries.

    A word is left out when its pruned full forms equal its pruned fallback forms, since the page
    then finds the same documents with the same scores without an entry.
    """
    out: dict[str, Forms] = {}
    for word, full in build_table(words, chain_name).items():
        pruned = prune(full, exists)
        if pruned != prune(fallback_forms(word, chain_name), exists):
            out[word] = pruned
    return out


def encode(forms: Forms) -> str:
    """The compact table entry the page reads: ``stems|folds|parts`` (space-separated lists)."""
    return "|".join(" ".join(forms.of(f)) for f in ("stem", "fold", "parts"))


def decode(word: str, entry: str, chain_name: str = "full") -> Forms:
    """The inverse of ``encode`` (the exact form is the word itself)."""
    stems, folds, parts = (tuple(x.split()) for x in entry.split("|"))
    exact = (word,) if analysis.chain(chain_name).exact else ()
    return Forms(exact, stems, folds, parts)
