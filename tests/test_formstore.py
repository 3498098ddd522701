"""The persistent memo of word forms: what the indexer analyses, a search reads back without
starting hunspell; it never changes a form and is never required."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from protokollsok import analysis, formstore

ROOT = Path(__file__).resolve().parents[1]
WORDS = ["våldsutövare", "brottsoffren", "vittnen", "nämnden", "kommunfullmäktige", "hedersförtryck", "2023/740"]


@pytest.fixture
def fresh_store(tmp_path, monkeypatch):
    """An empty cache folder and a process whose memo and store connection are reset."""
    monkeypatch.setenv("PROTOKOLLSOK_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(formstore._Store, "conn", None)
    monkeypatch.setattr(formstore._Store, "pid", 0)
    monkeypatch.setattr(formstore._Store, "broken", False)
    monkeypatch.setattr(formstore._Store, "pending", [])
    monkeypatch.setattr(analysis, "_memo", {})
    yield tmp_path / "cache"
    formstore.flush()
    monkeypatch.setattr(formstore._Store, "conn", None)


def test_stored_forms_are_the_computed_forms(fresh_store, monkeypatch):
    computed = {w: analysis.forms(w) for w in WORDS}
    assert computed == {w: analysis.compute_forms(w) for w in WORDS}
    formstore.flush()
    _as_a_new_process(monkeypatch)

    def no_computing(*_):
        raise AssertionError("computed, not read from the store")

    monkeypatch.setattr(analysis, "compute_forms", no_computing)
    assert {w: analysis.forms(w) for w in WORDS} == computed


def test_a_store_found_empty_is_not_read_by_that_process(fresh_store, monkeypatch):
    """A first build's look-ups would all miss: a process that found the store empty computes
    its words without asking it, and a later process reads what it wrote."""
    formstore.lookup("nämnden", "full")  # opens the (empty) store
    statements: list[str] = []
    formstore._Store.conn.set_trace_callback(statements.append)
    computed = {w: analysis.forms(w) for w in WORDS}
    assert computed == {w: analysis.compute_forms(w) for w in WORDS}
    assert not [s for s in statements if s.startswith("SELECT")]
    formstore.flush()
    assert [s for s in statements if s.startswith("INSERT")]
    _as_a_new_process(monkeypatch)
    vittnen = computed["vittnen"]
    assert formstore.lookup("vittnen", "full") == (vittnen.exact, vittnen.stem, vittnen.fold, vittnen.parts)


def _as_a_new_process(monkeypatch) -> None:
    """The store's connection and the memo as a process that starts now finds them."""
    monkeypatch.setattr(formstore._Store, "conn", None)
    monkeypatch.setattr(formstore._Store, "pid", 0)
    monkeypatch.setattr(analysis, "_memo", {})


def test_the_store_is_bypassed_when_it_cannot_be_written(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("PROTOKOLLSOK_CACHE", str(blocker / "sub"))
    monkeypatch.setattr(formstore._Store, "conn", None)
    monkeypatch.setattr(formstore._Store, "pid", 0)
    monkeypatch.setattr(formstore._Store, "broken", False)
    monkeypatch.setattr(analysis, "_memo", {})
    assert analysis.forms("vittnen") == analysis.compute_forms("vittnen")
    assert formstore._Store.broken
    monkeypatch.setattr(formstore._Store, "broken", False)


def test_another_checkout_of_the_same_code_shares_the_store(monkeypatch, tmp_path):
    """Two copies of the package on one machine (a working copy and a clone) must not evict each
    other's store: the key does not depend on where the package's data lies."""
    from protokollsok import lexicon

    key = formstore.analysis_key()
    copy = tmp_path / lexicon.WORDFREQ.name
    copy.write_bytes(lexicon.WORDFREQ.read_bytes())
    monkeypatch.setattr(lexicon, "WORDFREQ", copy)
    assert formstore.analysis_key() == key
    copy.write_bytes(copy.read_bytes() + b"\n")  # other data: another store
    assert formstore.analysis_key() != key


def test_another_dictionary_uses_another_store(monkeypatch, tmp_path):
    key = formstore.analysis_key()
    other = tmp_path / "sv_SE.dic"
    other.write_text("1\nord\n", encoding="utf-8")
    other.with_suffix(".aff").write_text("SET UTF-8\n", encoding="utf-8")
    monkeypatch.setenv("PROTOKOLLSOK_HUNSPELL", str(other))
    assert formstore.analysis_key() != key


SEARCH_AND_REPORT = """
import json, sys
from protokollsok.search import search
r = search(sys.argv[1], sys.argv[2])
print(json.dumps({"ids": [h.id for h in r.hits], "hunspell": "hunspell" in sys.modules}))
"""


def _run(code: str, *args: str, env: dict[str, str]) -> str:
    proc = subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, env=env, check=True)
    return proc.stdout


@pytest.mark.parametrize("parallel_from", ["1", "1000"])
def test_a_search_after_indexing_does_not_start_hunspell(tmp_path, parallel_from):
    """The forms of every indexed word reach the store, from the indexer and from each of whoosh's
    writer processes (a rebuild of many files; forced here with PROTOKOLLSOK_PARALLEL_FROM=1)."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for name in ("000_566486a7dd23fe0f.txt", "002_516b9ddd6da302d4.txt", "barn-och-utbildningsnamnden-2024-03-19.md"):
        shutil.copy(ROOT / "corpus" / name, corpus / name)
    env = {**os.environ, "PROTOKOLLSOK_CACHE": str(tmp_path / "cache"), "PROTOKOLLSOK_PARALLEL_FROM": parallel_from}
    index = tmp_path / "index"
    _run("import sys; from protokollsok.index import build_index; build_index([sys.argv[1]], sys.argv[2], full=True)",
         str(corpus), str(index), env=env)
    first = json.loads(_run(SEARCH_AND_REPORT, str(index), "vittnen", env=env))
    assert first["ids"] and not first["hunspell"]
    without_store = {**env, "PROTOKOLLSOK_CACHE": str(tmp_path / "empty-cache")}
    computed = json.loads(_run(SEARCH_AND_REPORT, str(index), "vittnen", env=without_store))
    assert computed["hunspell"] and computed["ids"] == first["ids"]


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_a_damaged_store_is_started_again(fresh_store, monkeypatch, damage):
    """A store file SQLite cannot read (overwritten, cut short by a power cut) is replaced by an
    empty one, whether the damage is met when opening it or on the first look-up."""
    analysis.forms("vittnen")
    formstore.flush()
    formstore._Store.conn.close()  # as a process that has ended
    path = formstore.store_path()
    if damage == "garbage":
        path.write_bytes(b"not a database at all " * 300)
    else:
        path.write_bytes(path.read_bytes()[:150])
    for p in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        p.unlink(missing_ok=True)
    _as_a_new_process(monkeypatch)  # which meets the file
    for w in WORDS:  # the first look-up may find the damage; the forms are right regardless
        assert analysis.forms(w) == analysis.compute_forms(w)
    formstore.flush()
    assert not formstore._Store.broken
    _as_a_new_process(monkeypatch)
    assert formstore.lookup("hedersförtryck", "full") is not None  # the store works again
