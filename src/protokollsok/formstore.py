"""A persistent memo of analysed word forms, so that a search does not start hunspell.

``analysis.forms(word)`` is a pure function of the word, the analysis code and its data (the
hunspell-sv dictionary, the word-frequency list, the Snowball stemmer). Computing it needs the
lexicon, whose loading (hunspell's dictionary, the frequency table, the dictionary stems for
compound splitting) costs about 0.2 s — more than the rest of a ``protokollsok search`` command
on a small index. So every form the indexer computes is also written here, and a later process
(a search, its snippets) reads it back by one SQLite look-up instead of loading the lexicon.

The store is one SQLite file in the cache folder (``cache.cache_dir``), named by a key over the
analysis code, its data files and the stemmer's version: any change starts a new file (the old
ones are removed), so a stale form is never read. New entries are kept in memory and written in
batches, at the end of a process and at the end of each of whoosh's writer processes. A store
that cannot be opened or written (read-only home, a locked file) is simply bypassed: the forms are
then computed, as without it. A store SQLite finds damaged (a power cut while writing, a truncated
copy) is deleted and started again empty, the first time a process meets the damage.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import os
import sqlite3
from pathlib import Path

from protokollsok.cache import cache_dir

FLUSH_EVERY = 20_000
_SOURCES = ("analysis.py", "compound.py", "lexicon.py", "formstore.py")
_SEP = "|"


class _Store:
    """The open store of this process (reopened after a fork: SQLite connections are not shared)."""

    conn: sqlite3.Connection | None = None
    pid = 0
    broken = False
    empty = False  # the store held nothing when this process opened it: not read (``lookup``)
    forks_hooked = False
    pending: list[tuple[str, str, str]] = []  # noqa: RUF012 (process-wide state)


def analysis_key() -> str:
    """A key that changes whenever the analysis code, its data files or the stemmer change."""
    from protokollsok import lexicon  # light: the lexicon itself is loaded lazily

    h = hashlib.sha256()
    here = Path(__file__).resolve().parent
    for name in _SOURCES:
        h.update((here / name).read_bytes())
    # the package's own data by content (another checkout of the same code shares the store: a
    # store of another key is deleted when one is created); the system dictionary by path and stamp
    h.update(lexicon.WORDFREQ.read_bytes() if lexicon.WORDFREQ.exists() else b"")
    for path in (lexicon.dictionary_path(), lexicon.dictionary_path().with_suffix(".aff")):
        st = path.stat() if path.exists() else None
        h.update(f"{path}:{st.st_size if st else 0}:{st.st_mtime_ns if st else 0}".encode())
    h.update(_stemmer_version().encode())
    return h.hexdigest()[:16]


def _stemmer_version() -> str:
    """Which Snowball implementation stems (``analysis._swedish_stemmer``) and its version."""
    try:
        import Stemmer
    except ImportError:
        from importlib import metadata

        return f"snowballstemmer={metadata.version('snowballstemmer')}"
    return f"PyStemmer={Stemmer.version()}"


def store_path() -> Path:
    """The store file of the current analysis."""
    return cache_dir() / f"forms-{analysis_key()}.sqlite"


def _connection() -> sqlite3.Connection | None:
    if _Store.broken:
        return None
    if _Store.conn is not None and _Store.pid == os.getpid():
        return _Store.conn
    conn = None
    try:
        path = store_path()
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            for old in path.parent.glob("forms-*.sqlite*"):
                if not old.name.startswith(path.name):
                    old.unlink(missing_ok=True)
        try:
            conn = _open(path)
        except sqlite3.Error as exc:
            if not _damaged(exc):
                raise
            _discard(path)
            conn = _open(path)
    except (OSError, sqlite3.Error):
        _Store.broken = True
        return None
    if _Store.pid == 0:
        atexit.register(flush)
    _Store.conn, _Store.pid, _Store.pending = conn, os.getpid(), []
    _Store.empty = _holds_nothing(conn)
    return conn


def _holds_nothing(conn: sqlite3.Connection) -> bool:
    try:
        return conn.execute("SELECT 1 FROM forms LIMIT 1").fetchone() is None
    except sqlite3.Error:
        return False  # the look-ups meet the error and deal with it


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, timeout=2.0, isolation_level=None, check_same_thread=False)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=OFF")  # a lost entry is only computed again
        conn.execute(
            "CREATE TABLE IF NOT EXISTS forms (word TEXT, chain TEXT, entry TEXT, PRIMARY KEY (word, chain)) "
            "WITHOUT ROWID"
        )
    except sqlite3.Error:
        conn.close()
        raise
    return conn


def _damaged(exc: sqlite3.Error) -> bool:
    """A damaged file ("not a database", "malformed"), not a busy or locked one."""
    return isinstance(exc, sqlite3.DatabaseError) and not isinstance(exc, sqlite3.OperationalError)


def _discard(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)


def _start_again(exc: sqlite3.Error) -> None:
    """After a failed statement: a damaged store is deleted (the next use creates it empty)."""
    if not _damaged(exc) or _Store.conn is None:
        return
    with contextlib.suppress(sqlite3.Error):
        _Store.conn.close()
    _Store.conn = None
    with contextlib.suppress(OSError):
        _discard(store_path())


def lookup(word: str, chain_name: str) -> tuple[tuple[str, ...], ...] | None:
    """The stored forms of ``word`` (``(exact, stem, fold, parts)``), or None.

    None without a look-up where the store held nothing when this process opened it (a first
    build, or the first after the analysis changed): whatever it holds since, this process
    wrote itself (and has in its memo) or another process wrote meanwhile (computed again here,
    the same forms). Each of a first build's words missed there, at about 9 µs a look-up while
    the other writing process writes its entries: 4 % of a build's time."""
    conn = _connection()
    if conn is None or _Store.empty:
        return None
    try:
        row = conn.execute("SELECT entry FROM forms WHERE word = ? AND chain = ?", (word, chain_name)).fetchone()
    except sqlite3.Error as exc:
        _start_again(exc)
        return None
    return decode(row[0]) if row else None


def remember(word: str, chain_name: str, forms: tuple[tuple[str, ...], ...]) -> None:
    """Keep a newly computed form; written with the next batch."""
    if _Store.broken:
        return
    _Store.pending.append((word, chain_name, encode(forms)))
    if len(_Store.pending) >= FLUSH_EVERY:
        flush()


def flush() -> None:
    """Write the pending entries (an entry already there is kept)."""
    conn = _connection()  # (re)opened for this process; a fork has already dropped its parent's entries
    pending, _Store.pending = _Store.pending, []
    if not pending or conn is None:
        return
    try:
        conn.execute("BEGIN")
        conn.executemany("INSERT OR IGNORE INTO forms (word, chain, entry) VALUES (?, ?, ?)", pending)
        conn.execute("COMMIT")
    except sqlite3.Error as exc:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        _start_again(exc)


def flush_in_forked_writers() -> None:
    """Make each process forked from now on (whoosh's writer processes) write its entries when
    it ends: ``multiprocessing`` ends its children without running ``atexit``."""
    if _Store.forks_hooked:
        return
    import multiprocessing.util

    multiprocessing.util.register_after_fork(_Store, _on_fork)
    _Store.forks_hooked = True


def _on_fork(_: object) -> None:
    import multiprocessing.util

    _Store.conn, _Store.pid, _Store.pending = None, 0, []
    multiprocessing.util.Finalize(None, flush, exitpriority=10)


def encode(forms: tuple[tuple[str, ...], ...]) -> str:
    """``exact|stem|fold|parts``, each a space-separated list (words hold no spaces or bars)."""
    return _SEP.join(" ".join(f) for f in forms)


def decode(entry: str) -> tuple[tuple[str, ...], ...]:
    """The inverse of ``encode``."""
    return tuple(tuple(part.split()) for part in entry.split(_SEP))
