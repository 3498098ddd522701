"""How a benchmark query becomes a ripgrep regex (shared by the two ripgrep layouts).

ripgrep has no index, no stemming and no ranking: it scans all text for each query. Words are
matched whole and case-insensitively; several words must all occur in the unit (PCRE2 look-aheads);
a phrase allows any whitespace (line breaks too) between its words.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query

RG = shutil.which("rg") or "rg"


def phrase_regex(words: list[str]) -> str:
    """``\\bvåld\\s+i\\s+nära\\s+relationer\\b``."""
    return r"\b" + r"\s+".join(re.escape(w) for w in words) + r"\b"


def text_lookaheads(query: Query, any_char: str) -> str:
    """Look-aheads requiring every word (or the phrase) somewhere after the current position."""
    if query.is_phrase or query.category == "dnr":
        return f"(?={any_char}*?{phrase_regex(query.words)})"
    return "".join(f"(?={any_char}*?{phrase_regex([w])})" for w in query.words)


def simple_regex(query: Query) -> str | None:
    """A plain (non-PCRE) regex when the query is one word or one phrase, else None."""
    if query.is_phrase or query.category == "dnr" or len(query.words) == 1:
        return phrase_regex(query.words)
    return None


def run(argv: list[str]) -> list[str]:
    """Run rg; its output lines (exit code 1 = no match is not an error)."""
    p = subprocess.run(argv, capture_output=True, text=True, check=False)
    if p.returncode not in (0, 1):
        raise RuntimeError(f"rg failed: {p.stderr.strip()}")
    return p.stdout.splitlines()
