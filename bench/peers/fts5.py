"""SQLite FTS5 (Python's stdlib sqlite3) with the best Swedish set-up it allows.

- ``unicode61 remove_diacritics 0``: å/ä/ö stay distinct letters (``vård`` is not ``vard``).
- FTS5 has no Swedish stemmer, so a shadow column ``stem`` holds the Snowball Swedish stems of
  title and body (PyStemmer), and a query word matches its exact form in title/body OR its stem.
- Phrases match the exact words OR the phrase of stems; filters are SQL conditions on a plain
  metadata table joined by rowid; results are ranked by FTS5's bm25 and carry a ``snippet()``.
"""

from __future__ import annotations

import re
import sqlite3
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

import Stemmer

from protokollsok.model import Unit

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from bench_queries import Query

NAME = "fts5"
DB = "fts5.sqlite"
_WORD = re.compile(r"\w+")
_stemmer = Stemmer.Stemmer("swedish")


def stems(text: str) -> str:
    """The Snowball stems of a text's words, space separated."""
    return " ".join(_stemmer.stemWords(_WORD.findall(text.lower())))


def _rows(units: Iterable[Unit]):
    for n, u in enumerate(units, start=1):
        s, m = u.segment, u.meta
        meta = (n, s.id, s.title, m.namnd, m.datum, f",{','.join(m.parti)},", ",".join(m.dnr))
        fts = (n, s.title, s.text, stems(f"{s.title} {s.text}"), " ".join(m.dnr))
        yield meta, fts


def build(units: Iterable[Unit], index_dir: Path) -> None:
    """Create ``fts5.sqlite`` in ``index_dir`` holding the units."""
    index_dir.mkdir(parents=True, exist_ok=True)
    path = index_dir / DB
    path.unlink(missing_ok=True)
    con = sqlite3.connect(path)
    con.executescript(
        """
        PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF;
        CREATE TABLE meta(rowid INTEGER PRIMARY KEY, id TEXT, title TEXT, namnd TEXT, datum TEXT,
                          parti TEXT, dnr TEXT);
        CREATE VIRTUAL TABLE fts USING fts5(title, body, stem, dnr,
                                            tokenize='unicode61 remove_diacritics 0');
        """
    )
    batch_meta, batch_fts = [], []
    for meta, fts in _rows(units):
        batch_meta.append(meta)
        batch_fts.append(fts)
        if len(batch_meta) >= 2000:
            _flush(con, batch_meta, batch_fts)
    _flush(con, batch_meta, batch_fts)
    con.execute("INSERT INTO fts(fts) VALUES('optimize')")
    con.commit()
    con.close()


def _flush(con: sqlite3.Connection, meta: list, fts: list) -> None:
    con.executemany("INSERT INTO meta VALUES (?,?,?,?,?,?,?)", meta)
    con.executemany("INSERT INTO fts(rowid, title, body, stem, dnr) VALUES (?,?,?,?,?)", fts)
    meta.clear()
    fts.clear()


def _quote(term: str) -> str:
    return '"' + term.replace('"', '""') + '"'


def match_expr(query: Query) -> str:
    """The FTS5 MATCH expression of a benchmark query."""
    if query.category == "dnr":
        return f"dnr : {_quote(query.text)} OR {{title body}} : {_quote(query.text)}"
    if query.is_phrase:
        words = " ".join(query.words)
        return f"{{title body}} : {_quote(words)} OR stem : {_quote(stems(words))}"
    parts = [f"({{title body}} : {_quote(w)} OR stem : {_quote(stems(w))})" for w in query.words]
    return " AND ".join(parts)


def _where(query: Query) -> tuple[str, list[str]]:
    f = query.filters
    conds, args = ["fts MATCH ?"], [match_expr(query)]
    if "namnd" in f:
        conds.append("m.namnd = ?")
        args.append(f["namnd"])
    if "parti" in f:
        conds.append("m.parti LIKE ?")
        args.append(f"%,{f['parti']},%")
    if "date_from" in f:
        conds.append("m.datum >= ?")
        args.append(f["date_from"])
    if "date_to" in f:
        conds.append("m.datum <= ?")
        args.append(f["date_to"])
    return " AND ".join(conds), args


def open_searcher(index_dir: Path) -> Callable[[Query], list[str]]:
    """A function running one query: top 10 by bm25, with title and snippet fetched."""
    con = sqlite3.connect(f"file:{index_dir / DB}?mode=ro", uri=True)

    def search(query: Query) -> list[str]:
        where, args = _where(query)
        sql = (
            "SELECT m.id, m.title, snippet(fts, 1, '[', ']', '…', 16) FROM fts "
            f"JOIN meta m ON m.rowid = fts.rowid WHERE {where} ORDER BY rank LIMIT 10"
        )
        return [row[0] for row in con.execute(sql, args)]

    return search


def cli_argv(index_dir: Path, query: Query) -> list[str]:
    """One fresh Python process running the query (import + open + query)."""
    return [sys.executable, str(Path(__file__).with_name("cli.py")), NAME, str(index_dir), query.name]
