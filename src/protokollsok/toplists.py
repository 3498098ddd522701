"""The top hits of common words' queries, for the web bundle.

A query for one common word (``skolan``, ``barn``) matches thousands of units, and scoring them
means loading every weight and length byte of its terms' postings: most of what the page
downloads for it. The command line ranks the same query in a few milliseconds, so the export asks
it (``search.search``) for the first ``TOP_HITS`` hits of each word whose query would load at
least ``MIN_WEIGHT_CHARS`` of weights, and the bundle lists them beside the word's term table
entry. The page then needs only the units of the word's terms (to count the matches and the
facets) and shows the listed hits: the command line's own answer, so parity holds by
construction. Any other query (two words, a filter, a sort by date, a later page of hits) is
scored on the page as before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from protokollsok import query, search, termtable
from protokollsok.analysis import Forms

TOP_HITS = 20  # hits listed per word: the first page and the next ("Visa fler")
MIN_WEIGHT_CHARS = 8192  # a word is listed when its query's weights' files hold this many characters


def query_terms(forms: Forms) -> set[str]:
    """The terms a word query reads (``search._Builder.word``: the exact, stem and fold forms;
    compound parts and the title by the stems)."""
    return {*forms.exact, *forms.stem, *forms.fold}


def candidates(
    words: Iterable[str], forms_of: Callable[[str], Forms], weight_chars: Mapping[str, int],
    min_chars: int | None = None,
) -> list[str]:
    """The words whose query loads at least ``min_chars`` (default ``MIN_WEIGHT_CHARS``) of
    weights (by ``weight_chars``, the size of each term's weights' file) and that a query reads
    as one plain word."""
    min_chars = MIN_WEIGHT_CHARS if min_chars is None else min_chars
    out = []
    for word in words:
        cost = sum(weight_chars.get(t, 0) for t in query_terms(forms_of(word)))
        if cost >= min_chars and _one_word(word):
            out.append(word)
    return out


def _one_word(word: str) -> bool:
    q = query.parse(word)
    plain = not (q.excluded or q.namnd or q.parti or q.dnr or q.date_from or q.date_to)
    return plain and len(q.slots) == 1 and len(q.slots[0]) == 1 and q.slots[0][0].kind == "word" \
        and q.slots[0][0].words == (word,)


def top_hits(index_dir: Path, words: Iterable[str], num_of: Mapping[str, int], limit: int = TOP_HITS) -> dict[str, list[list[int]]]:
    """``word -> [unit numbers, scores * 10,000]`` of each word's first ``limit`` hits as
    ``search --json`` gives them (``num_of``: unit id -> bundle number). A word with a hit the
    numbering lacks is left out (the page then scores it)."""
    out = {}
    for word in words:
        res = search.search(index_dir, word, limit=limit, facets=False, suggest=False)
        nums = [num_of.get(h.id) for h in res.hits]
        if None in nums:
            continue
        out[word] = [nums, [round(h.score * 10_000) for h in res.hits]]
    return out


def page_forms(table: Mapping[str, Forms], chain: str) -> Callable[[str], Forms]:
    """The forms the page searches a word by: its table entry, else the fallback forms."""
    return lambda word: table.get(word) or termtable.fallback_forms(word, chain)
