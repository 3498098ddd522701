"""Snippets: the best one to three passages of a unit's text, with the query's matches marked.

A token matches a query word when they share an analysed form (exact, stem, folded or compound
part), so ``vittnen`` marks ``vittnet`` and ``våld`` marks ``våldsutövare``. A phrase is marked as
one span from its first to its last word (not word by word, and never a lone ``i``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from protokollsok import analysis

PASSAGE_CHARS = 200
MAX_PASSAGES = 3
ELLIPSIS = " … "


@dataclass(frozen=True)
class Match:
    """A marked span of the text and which query clause it satisfies."""

    start: int
    end: int
    clause: int


def word_keys(word: str, chain: str, with_parts: bool) -> frozenset[str]:
    """A word's forms as tagged keys (``x:`` exact, ``s:`` stems, ``f:`` folded stems), as
    ``find_matches`` compares a text's words with a query's; a text word (``with_parts``) also
    offers its compound parts as stems, so that the query word ``våld`` marks ``våldsutövare``.
    Not cached here: a caller that looks at each word once (the web export, every distinct word)
    would only fill a cache."""
    f = analysis.forms(word, chain)
    stems = (*f.stem, *f.parts) if with_parts else f.stem
    keys = {f"x:{t}" for t in f.exact} | {f"s:{t}" for t in stems} | {f"f:{t}" for t in f.fold}
    return frozenset(keys)


_keys = lru_cache(maxsize=200_000)(word_keys)  # snippets meet the same words again and again


def find_matches(
    text: str, clauses: Sequence[Sequence[str]], chain: str = "full", prefixes: Sequence[str] = ()
) -> list[Match]:
    """Spans of ``text`` matching each clause (a clause is a word or a phrase, as words)."""
    tokens = _tokens_to_check(text, clauses, prefixes)
    query_keys = [[_keys(w, chain, False) for w in c] for c in clauses]
    token_keys = [_keys(t.word, chain, True) if t else frozenset() for t in tokens]
    matches: list[Match] = []
    for ci, words in enumerate(query_keys):
        n = len(words)
        if n == 0:
            continue
        first = words[0]
        for i in range(len(tokens) - n + 1):
            if first.isdisjoint(token_keys[i]):
                continue
            if all(not words[k].isdisjoint(token_keys[i + k]) for k in range(1, n)):
                matches.append(Match(tokens[i].start, tokens[i + n - 1].end, ci))
    base = len(clauses)
    for pi, p in enumerate(prefixes):
        folded = analysis.fold(p)
        for t in tokens:
            if t and (t.word.startswith(p) or analysis.fold(t.word).startswith(folded)):
                matches.append(Match(t.start, t.end, base + pi))
    matches.sort(key=lambda m: (m.start, -m.end))
    return _drop_nested(matches)


SCAN_FROM_CHARS = 4000  # shorter texts are simply tokenised whole
_SPAN_CHARS_PER_WORD = 40


def _tokens_to_check(
    text: str, clauses: Sequence[Sequence[str]], prefixes: Sequence[str]
) -> list[analysis.Token | None]:
    """The tokens that may match: all of a short text; in a long one only the windows around
    words that contain a query word's stem (found by one C-speed regex over the folded text),
    with ``None`` between windows so that a phrase never spans two of them."""
    # Each clause is anchored on its longest word (a phrase's ``i`` would match everywhere).
    words = [max(c, key=len) for c in clauses if c] + list(prefixes)
    if len(text) < SCAN_FROM_CHARS or not words or any(not w.isalpha() for w in words):
        return list(analysis.tokenize(text))
    needles = _needles(tuple(words))
    if not needles:
        return list(analysis.tokenize(text))
    longest = max(len(c) for c in clauses) if clauses else 1
    scan = re.compile(r"[^\W_]*(?:" + "|".join(map(re.escape, needles)) + r")", re.IGNORECASE)
    folded = text.translate(_FOLD_SAME_LENGTH)
    out: list[analysis.Token | None] = []
    last_end = -1
    reach = _SPAN_CHARS_PER_WORD * longest
    for m in scan.finditer(folded):
        if m.start() < last_end:
            continue
        start = max(last_end, 0, m.start() - reach)
        while start > max(last_end, 0) and not text[start - 1].isspace():
            start -= 1
        end = min(len(text), m.end() + reach)
        while end < len(text) and not text[end].isspace():
            end += 1
        if start > last_end:
            out.append(None)
        out.extend(_shift(t, start) for t in analysis.tokenize(text[start:end]))
        last_end = end
    return out


def _shift(t: analysis.Token, offset: int) -> analysis.Token:
    return analysis.Token(t.pos, t.start + offset, t.end + offset, t.word)


_FOLD_SAME_LENGTH = str.maketrans("åäöéèüæøÅÄÖÉÈÜÆØ", "aaoeeuaoAAOEEUAO")


@lru_cache(maxsize=1024)
def _needles(words: tuple[str, ...]) -> tuple[str, ...]:
    """Short folded beginnings of the stems of the anchor words (what a matching token holds)."""
    found: set[str] = set()
    for w in words:
        f = analysis.forms(w)
        for form in (w, *f.stem, *f.fold):
            needle = form.translate(_FOLD_SAME_LENGTH)[:4]
            if len(needle) < 3:
                return ()
            found.add(needle)
    return tuple(sorted(found))


def _drop_nested(matches: list[Match]) -> list[Match]:
    kept: list[Match] = []
    for m in matches:
        if kept and m.start < kept[-1].end:
            continue
        kept.append(m)
    return kept


def make_snippet(
    text: str, matches: Sequence[Match], width: int = PASSAGE_CHARS, passages: int = MAX_PASSAGES
) -> tuple[str, tuple[tuple[int, int], ...]]:
    """The snippet and its highlight offsets: up to ``passages`` windows of about ``width``
    characters, chosen to cover the most distinct clauses, in text order."""
    text_len = len(text)
    if not matches:
        end = _word_end(text, min(width, text_len))
        return _flat(text[:end]) + (ELLIPSIS.rstrip() if end < text_len else ""), ()
    chosen = _choose_windows(text, matches, width, passages)
    out: list[str] = []
    spans: list[tuple[int, int]] = []
    length = 0
    for n, (ws, we) in enumerate(chosen):
        prefix = (ELLIPSIS.lstrip() if ws > 0 else "") if n == 0 else ELLIPSIS
        piece = prefix + _flat(text[ws:we])
        for m in matches:
            if m.start >= ws and m.end <= we:
                s = length + len(prefix) + m.start - ws
                spans.append((s, s + m.end - m.start))
        out.append(piece)
        length += len(piece)
    tail = ELLIPSIS.rstrip() if chosen[-1][1] < text_len else ""
    return "".join(out) + tail, tuple(spans)


def _flat(s: str) -> str:
    """Whitespace (newlines included) to single spaces, keeping the length (offsets stay valid)."""
    return "".join(" " if c.isspace() else c for c in s)


def _choose_windows(
    text: str, matches: Sequence[Match], width: int, passages: int
) -> list[tuple[int, int]]:
    candidates = []
    for i, m in enumerate(matches):
        start = _word_start(text, max(0, m.start - width // 4))
        end = _word_end(text, min(len(text), start + width))
        inside = [x for x in matches[i:] if x.end <= end]
        distinct = len({x.clause for x in inside})
        candidates.append((distinct, len(inside), -m.start, start, end, {x.clause for x in inside}))
    candidates.sort(reverse=True)
    chosen: list[tuple[int, int]] = []
    covered: set[int] = set()
    for _, _, _, start, end, clauses in candidates:
        if len(chosen) >= passages:
            break
        if any(start < ce and end > cs for cs, ce in chosen):
            continue
        if chosen and clauses <= covered:
            continue
        chosen.append((start, end))
        covered |= clauses
    return sorted(chosen)


def _word_start(text: str, i: int) -> int:
    if i <= 0:
        return 0
    while i > 0 and not text[i - 1].isspace():
        i -= 1
    return i


def _word_end(text: str, i: int) -> int:
    while i < len(text) and not text[i].isspace():
        i += 1
    return i
