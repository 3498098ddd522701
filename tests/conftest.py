"""Shared fixtures: the seeds' expectations and an index of the bundled corpus/ built once."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when the shared material is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


def volume_units(limit: int) -> list:
    """The first ``limit`` units of the volume corpus in ../shared/corpora as the benchmarks
    load them (all its sources, mixed); skips the test when the corpora are absent."""
    import sys

    corpora = shared_path("corpora")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import units as bench_units
    finally:
        sys.path.pop(0)
    return list(bench_units.iter_units(corpora, limit=limit))


@pytest.fixture(scope="session")
def expected() -> dict:
    """../shared/seeds/expected.json: what the product must make of the seeds."""
    return json.loads(shared_path("seeds", "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of a copy of the bundled corpus/ (built once per test session; do not modify)."""
    from protokollsok.index import build_index

    base = tmp_path_factory.mktemp("corpus_index")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    report = build_index([corpus], base / "index", full=True)
    assert report.ok, report.failed
    return base / "index"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, expected) -> Path:
    """An index of the five seed files of corpus/ alone: what expected.json's searches describe
    (the Göteborg and Jönköping protokoll bundled beside them would add legitimate hits)."""
    from protokollsok.index import build_index

    base = tmp_path_factory.mktemp("seed_index")
    corpus = base / "corpus"
    corpus.mkdir()
    for name in expected["files"]:
        shutil.copy(CORPUS / name, corpus / name)
    report = build_index([corpus], base / "index", full=True)
    assert report.ok, report.failed
    return base / "index"
