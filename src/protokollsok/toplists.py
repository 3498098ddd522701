"""The top hits of common words' queries, for the web bundle.

A query for one common word (``skolan``, ``barn``) matches thousands of units, and scoring them
means loading every weight and length byte of its terms' postings: most of what the page
downloads for it. The command line ranks the same query in a few milliseconds, so the export asks
it (``search.search``) for the first ``TOP_HITS`` hits of each word whose query would load at
least ``MIN_WEIGHT_CHARS`` of weights, in whoosh's order, and the bundle lists them
(``web._write_lists``; the word's term shard flags it). The page then needs only the units of the
word's terms (to count the matches and the facets) and shows the first n listed hits, sorted as
``search`` sorts them: the command line's own answer, so parity holds by construction. Any other
query (two words, a filter, a sort by date, more hits than listed) is scored on the page as before.
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterable, Mapping
from functools import partial
from pathlib import Path

from protokollsok import index, query, search, termtable
from protokollsok.analysis import Forms

TOP_HITS = 20  # hits listed per word: the first page and the next ("Visa fler")
MIN_WEIGHT_CHARS = 16_384  # a word is listed when its query's weights' files hold this many characters


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


def top_hits(
    index_dir: Path, words: Iterable[str], num_of: Mapping[str, int], limit: int = TOP_HITS, workers: int = 1,
    note: Callable[[int], None] | None = None,
) -> dict[str, list[list[int]]]:
    """``word -> [unit numbers, scores * 10,000]`` of each word's first ``limit`` hits in
    whoosh's order (``num_of``: unit id -> bundle number): the first n of them are the hits
    ``search --json --limit n`` shows, which it sorts by rounded score, then date. A word with a hit the
    numbering lacks is left out (the page then scores it). ``workers`` processes search
    (forked, each with its own searcher; about 10 ms a word at the whole volume corpus);
    ``note`` is told how many words are done."""
    words = list(words)
    chunks = [words[i : i + CHUNK_WORDS] for i in range(0, len(words), CHUNK_WORDS)]
    job = partial(_top_hits, index_dir, num_of=num_of, limit=limit)
    out: dict[str, list[list[int]]] = {}
    done = 0
    if workers > 1 and len(chunks) > 1 and "fork" in multiprocessing.get_all_start_methods():
        index._die_with_parent_after_fork()  # killed, the exporter leaves no process searching behind
        with multiprocessing.get_context("fork").Pool(workers, initializer=_own_searchers) as pool:
            for n, part in pool.imap_unordered(job, chunks):
                out.update(part)
                done += n
                if note:
                    note(done)
        return out
    for chunk in chunks:
        n, part = job(chunk)
        out.update(part)
        done += n
        if note:
            note(done)
    return out


CHUNK_WORDS = 256


def _own_searchers() -> None:
    """In a forked process: open the index anew (a searcher inherited from the parent shares its
    files' offsets with it)."""
    search._Opened._cache.clear()


def _top_hits(index_dir: Path, words: list[str], num_of: Mapping[str, int], limit: int) -> tuple[int, dict[str, list[list[int]]]]:
    out = {}
    for word in words:
        res = search.search(index_dir, word, limit=limit, facets=False, suggest=False, snippet=False, resort=False)
        nums = [num_of.get(h.id) for h in res.hits]
        if None in nums:
            continue
        out[word] = [nums, [round(h.score * 10_000) for h in res.hits]]
    return len(words), out


def page_forms(table: Mapping[str, Forms], chain: str) -> Callable[[str], Forms]:
    """The forms the page searches a word by: its table entry, else the fallback forms."""
    return lambda word: table.get(word) or termtable.fallback_forms(word, chain)
