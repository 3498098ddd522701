"""The multiprocess writer: the same document numbers in every build, and a writing process that
dies fails the run instead of leaving its files' units out."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import pytest
from whoosh.multiproc import SubWriterTask

from protokollsok import mpwriter
from protokollsok.index import build_index, check, open_index
from protokollsok.search import search

CORPUS = Path(__file__).resolve().parents[1] / "corpus"


@pytest.fixture
def parallel(monkeypatch):
    """Every rebuild written by one process per core, a job file every 5 documents (so that
    the small corpus is spread over several processes)."""
    monkeypatch.setenv("PROTOKOLLSOK_PARALLEL_FROM", "1")
    monkeypatch.setattr(mpwriter, "BATCH_SIZE", 5)


def document_order(index_dir: Path) -> list[str]:
    ix, _ = open_index(index_dir)
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) > 1  # written by several processes
        return [fields["id"] for _, fields in reader.iter_docs()]


def test_two_builds_of_one_corpus_number_its_units_alike(parallel, tmp_path):
    build_index([CORPUS], tmp_path / "a", full=True)
    build_index([CORPUS], tmp_path / "b", full=True)
    assert document_order(tmp_path / "a") == document_order(tmp_path / "b")
    assert check([CORPUS], tmp_path / "a").ok


def test_a_writing_process_that_dies_fails_the_rebuild_and_keeps_the_last_index(parallel, tmp_path, monkeypatch):
    build_index([CORPUS], tmp_path / "ix", full=True)
    before = search(tmp_path / "ix", "vittnen").total
    monkeypatch.setattr(SubWriterTask, "run", lambda self: os._exit(9))  # as if killed for memory
    with pytest.raises(mpwriter.WritingProcessFailed, match="exit code 9"):
        build_index([CORPUS], tmp_path / "ix", full=True)
    monkeypatch.undo()
    assert search(tmp_path / "ix", "vittnen").total == before > 0
    assert check([CORPUS], tmp_path / "ix").ok


def test_a_writing_process_runs_without_the_cyclic_collector(parallel, tmp_path, monkeypatch):
    """What a writing process keeps (the words' forms, the pool's terms) it keeps to the end, and
    what it makes per document is freed by reference counting: the collector would only walk the
    kept objects again and again. The process reports what it found by its exit code."""
    monkeypatch.setattr(SubWriterTask, "run", lambda self: os._exit(3 if gc.isenabled() else 4))
    with pytest.raises(mpwriter.WritingProcessFailed, match="exit code 4"):
        build_index([CORPUS], tmp_path / "ix", full=True)
    assert gc.isenabled()  # in the process that started them
