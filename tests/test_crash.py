"""The indexer killed with SIGKILL at random moments never leaves a broken index.

Runs ``scripts/crash_trials.py`` (its docstring describes the trials) over 260 real Göteborg
protokoll units: 51 trials, 17 per situation (first build, incremental update, --full rebuild).
The longer run for more trials is ``.venv/bin/python scripts/crash_trials.py --trials N``.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TRIALS = 51


def load_crash_trials():
    spec = importlib.util.spec_from_file_location("crash_trials", ROOT / "scripts" / "crash_trials.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["crash_trials"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def crash_trials():
    module = load_crash_trials()
    if not module.TARBALL.exists():
        pytest.skip(f"{module.TARBALL} not available")
    return module


@pytest.fixture(scope="module")
def trials(crash_trials, tmp_path_factory):
    setup, trials = crash_trials.run_trials(TRIALS, seed=1, work=tmp_path_factory.mktemp("crash"))
    assert setup.units_a >= 250, "a few hundred real protokoll units"
    return trials


@pytest.mark.slow
def test_every_killed_run_leaves_an_index_that_opens_checks_and_converges(trials):
    failures = [t for t in trials if not t.ok]
    assert failures == [], failures


@pytest.mark.slow
def test_the_kills_landed_mid_run_in_every_situation(trials):
    """A trial whose run had already finished proves nothing: most kills must interrupt a run."""
    for kind in ("first", "incremental", "full"):
        interrupted = [t for t in trials if t.kind == kind and not t.finished_before_kill]
        assert len(interrupted) >= TRIALS // 3 // 2, kind


@pytest.mark.slow
def test_a_killed_update_is_seen_as_before_or_after_never_between(trials):
    """check either agrees (the kill came after the commit) or names the files the run was to change."""
    verdicts = {t.check for t in trials if t.kind == "incremental"}
    assert verdicts <= {"agree", "rerun fixes"}
    assert all(t.check == "agree" for t in trials if t.kind == "full"), "--full switches atomically"


def test_snapshots_tell_a_different_index_apart(crash_trials, tmp_path):
    """The comparison the trials rely on is not vacuous: one changed unit makes snapshots differ."""
    from protokollsok.index import build_index

    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Kommunstyrelsen\n\n§ 1 Simhall\nEn simhall byggs.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "i1")
    (corpus / "a.txt").write_text("Kommunstyrelsen\n\n§ 1 Simhall\nEn ishall byggs.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "i2")
    build_index([corpus], tmp_path / "i3", full=True)
    one, two, three = (crash_trials.snapshot(tmp_path / n) for n in ("i1", "i2", "i3"))
    assert one != two
    assert two == three
