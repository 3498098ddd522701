"""check: index, manifest and corpus verified against each other; each difference named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from protokollsok import index, manifest
from protokollsok.errors import IndexNotFound
from protokollsok.index import build_index, check, open_index

PROTOKOLL = "Kommunstyrelsen\nProtokoll 2024-03-12\n\n§ {n} {title}\n{text}\n"


def write(root: Path, name: str, n: int, title: str, text: str) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(PROTOKOLL.format(n=n, title=title, text=text), encoding="utf-8")


@pytest.fixture
def built(tmp_path) -> tuple[Path, Path]:
    corpus, ix = tmp_path / "corpus", tmp_path / "index"
    write(corpus, "a.txt", 1, "Simhall", "Kommunen bygger en simhall.")
    write(corpus, "b.txt", 2, "Bibliotek", "Kommunen bygger ett bibliotek.")
    write(corpus, "c.txt", 3, "Cykelbana", "Kommunen bygger en cykelbana.")
    assert build_index([corpus], ix).ok
    return corpus, ix


def test_a_fresh_index_agrees_with_its_corpus(built):
    corpus, ix = built
    r = check([corpus], ix)
    assert r.ok and r.files == 3 and r.units == 3
    assert not any(r.differences().values())


def test_each_kind_of_corpus_change_is_named(built):
    corpus, ix = built
    write(corpus, "d.txt", 4, "Ishall", "En ishall.")
    write(corpus, "a.txt", 1, "Simhall", "Kommunen bygger inte någon simhall ändå.")
    (corpus / "c.txt").unlink()
    r = check([corpus], ix)
    assert not r.ok
    assert (r.not_indexed, r.changed, r.vanished) == (["d.txt"], ["a.txt"], ["c.txt"])
    build_index([corpus], ix)
    assert check([corpus], ix).ok  # what check names, a rerun fixes


def test_a_change_that_keeps_size_and_mtime_is_still_found(built):
    corpus, ix = built
    p = corpus / "b.txt"
    st = p.stat()
    p.write_bytes(p.read_bytes().replace(b"bibliotek", b"badhusxyz"))  # same length
    os.utime(p, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert p.stat().st_size == st.st_size
    assert check([corpus], ix).changed == ["b.txt"]


def _tamper(ix: Path, fn) -> None:
    whoosh_ix, _ = open_index(ix)
    with whoosh_ix.writer() as w:
        fn(w)


def test_units_missing_from_the_index_are_named(built):
    corpus, ix = built
    _tamper(ix, lambda w: w.delete_by_term("id", "b.txt#§2"))
    r = check([corpus], ix)
    assert r.missing_units == ["b.txt#§2"] and not r.ok


def test_units_no_manifest_entry_lists_are_named(built):
    corpus, ix = built
    _tamper(ix, lambda w: w.add_document(id="x.txt#§9", source="x.txt", kind="paragraf", doctype=""))
    r = check([corpus], ix)
    assert r.orphan_units == ["x.txt#§9"] and not r.ok


def test_a_recorded_unchanged_failure_agrees_but_is_listed(built):
    corpus, ix = built
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.4 cut")
    (corpus / "empty.txt").write_bytes(b"")
    report = build_index([corpus], ix)
    assert not report.ok
    r = check([corpus], ix)
    assert r.ok
    assert [s for s, _ in r.failed] == ["bad.pdf"]
    assert [s for s, _ in r.empty] == ["empty.txt"]
    assert any(line.startswith("failed (unchanged since): bad.pdf: ") for line in r.notes())


def test_a_recorded_failure_whose_file_changed_is_a_difference(built):
    corpus, ix = built
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.4 cut")
    build_index([corpus], ix)
    (corpus / "bad.pdf").write_bytes(b"%PDF-1.4 cut differently, and longer")
    r = check([corpus], ix)
    assert r.changed == ["bad.pdf"] and not r.ok


def test_check_without_an_index_raises_index_not_found(tmp_path):
    with pytest.raises(IndexNotFound):
        check([tmp_path], tmp_path / "none")


def test_manifest_and_units_are_committed_together(built):
    """Every id a manifest entry lists is in the index and every unit is listed: nothing between."""
    _, ix = built
    whoosh_ix, _ = open_index(ix)
    with whoosh_ix.searcher() as s:
        entries = manifest.load(s)
        units = {d["id"] for d in s.all_stored_fields() if d.get("doctype") != manifest.FILE_DOCTYPE}
    assert {u for e in entries.values() for u in e.unit_ids} == units


def test_the_check_command_exits_0_only_when_they_agree(built):
    corpus, ix = built
    exe = Path(sys.executable).with_name("protokollsok")

    def run() -> int:
        return subprocess.run(
            [str(exe), "check", str(corpus), "--index", str(ix)], capture_output=True, check=False
        ).returncode

    assert run() == 0
    (corpus / "a.txt").unlink()
    assert run() == 1
    assert index.build_index([corpus], ix).removed == ["a.txt"]
    assert run() == 0
