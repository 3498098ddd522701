"""The derived-table cache: built once, reused while its sources are unchanged, never required."""

from __future__ import annotations

from protokollsok import cache


def test_a_table_is_built_once_and_rebuilt_when_its_source_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("PROTOKOLLSOK_CACHE", str(tmp_path / "cache"))
    src = tmp_path / "words.txt"
    src.write_text("a b c", encoding="utf-8")
    calls = []

    def build():
        calls.append(1)
        return frozenset(src.read_text(encoding="utf-8").split())

    assert cache.derived("words", 1, [src], build) == {"a", "b", "c"}
    assert cache.derived("words", 1, [src], build) == {"a", "b", "c"}
    assert len(calls) == 1
    src.write_text("a b c d", encoding="utf-8")
    assert cache.derived("words", 1, [src], build) == {"a", "b", "c", "d"}
    assert len(calls) == 2
    assert len(list((tmp_path / "cache").glob("words-*.pickle"))) == 1


def test_an_unwritable_cache_is_bypassed(tmp_path, monkeypatch):
    blocker = tmp_path / "file"
    blocker.write_text("x", encoding="utf-8")
    monkeypatch.setenv("PROTOKOLLSOK_CACHE", str(blocker / "sub"))
    src = tmp_path / "s.txt"
    src.write_text("x", encoding="utf-8")
    assert cache.derived("t", 1, [src], lambda: 42) == 42


def test_a_damaged_cache_file_is_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setenv("PROTOKOLLSOK_CACHE", str(tmp_path))
    src = tmp_path / "s.txt"
    src.write_text("x", encoding="utf-8")
    cache.derived("t", 1, [src], lambda: 1)
    for f in tmp_path.glob("t-*.pickle"):
        f.write_bytes(b"not a pickle")
    assert cache.derived("t", 1, [src], lambda: 2) == 2
