"""SIGKILL the indexer at random moments and prove the index survives.

Corpus: Göteborg KS meeting protokoll (.txt, one file per meeting) from
``../shared/corpora/kommun/goteborg/goteborg_kf_ks_protokoll_txt_2023-2026.tar.gz``, extracted into a
temporary folder (never into the repository). Corpus A is the first ``--files`` KS meetings of 2024;
corpus B is A with one file deleted, one changed (its last § cut off), one renamed and one new meeting.

Each trial starts ``protokollsok index`` in a subprocess in one of three situations and kills it
with SIGKILL after a random delay drawn uniformly from [0, the duration of an uninterrupted run]:

- ``first``:       no index yet, index A;
- ``incremental``: a complete index of A, index B;
- ``full``:        a complete index of A, ``index --full`` A.

After the kill: the index must open and answer a search (or, for ``first`` killed before anything
was published, not exist yet); ``check`` must pass or name only files the interrupted run was
going to change (and never a unit without its manifest entry or the reverse); and a rerun of
``index`` must end identical to a clean full build of the same corpus: the same stored documents
(units and manifest entries) and, per indexed field, the same terms with the same unit ids.

    .venv/bin/python scripts/crash_trials.py --trials 200    # writes bench/results/incremental.md
"""

from __future__ import annotations

import argparse
import platform
import random
import re
import shutil
import signal
import subprocess
import sys
import tarfile
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
TARBALL = SHARED / "corpora/kommun/goteborg/goteborg_kf_ks_protokoll_txt_2023-2026.tar.gz"
RESULTS = ROOT / "bench/results/incremental.md"
KINDS = ("first", "incremental", "full")
PROBE_QUERY = "beslut"


@dataclass
class Setup:
    """The corpora, their reference indexes, and how long an uninterrupted run of each kind takes."""

    work: Path
    corpus_a: Path
    corpus_b: Path
    index_a: Path  # a complete index of A, copied before each trial that starts from it
    ref_a: dict
    ref_b: dict
    changes_b: set[str]  # the sources A -> B adds, changes or removes
    units_a: int
    seconds: dict[str, float]  # the current aim for kill delays, per kind
    measured: dict[str, float] | None = None  # one uninterrupted run of each kind, before the trials


@dataclass
class Trial:
    """What one killed run left behind and what the rerun made of it."""

    kind: str
    delay: float
    finished_before_kill: bool
    opened: str  # "yes" | "no index yet" | "error: ..."
    check: str  # "agree" | "rerun fixes" | "error: ..."
    identical: bool

    @property
    def ok(self) -> bool:
        return self.opened in ("yes", "no index yet") and self.check in ("agree", "rerun fixes") and self.identical


def meetings(count: int, extra: int = 1) -> list[tarfile.TarInfo]:
    """The first ``count + extra`` KS meetings of 2024 in the tarball, in date order."""
    with tarfile.open(TARBALL) as tar:
        members = [m for m in tar.getmembers() if re.search(r"/ks-2024-\d\d-\d\d\.txt$", m.name)]
    return sorted(members, key=lambda m: m.name)[: count + extra]


def extract(members: list[tarfile.TarInfo], dest: Path) -> list[Path]:
    dest.mkdir(parents=True, exist_ok=True)
    out = []
    with tarfile.open(TARBALL) as tar:
        for m in members:
            data = tar.extractfile(m).read()
            p = dest / Path(m.name).name
            p.write_bytes(data)
            out.append(p)
    return out


def make_corpora(work: Path, files: int) -> tuple[Path, Path, set[str]]:
    """Corpus A (``files`` meetings) and corpus B (A deleted/changed/renamed/added)."""
    members = meetings(files)
    a, b = work / "corpus_a", work / "corpus_b"
    paths = extract(members[:files], a)
    shutil.copytree(a, b)  # copy2 keeps mtimes: unchanged files stay unchanged
    deleted, changed, renamed = paths[0].name, paths[1].name, paths[2].name
    (b / deleted).unlink()
    text = (b / changed).read_text(encoding="utf-8")
    (b / changed).write_text(text[: text.rindex("\n§ ")] + "\n", encoding="utf-8")
    (b / renamed).rename(b / f"omdopt-{renamed}")
    new = extract(members[files:], b)[0].name
    return a, b, {deleted, changed, renamed, f"omdopt-{renamed}", new}


def snapshot(index_dir: Path) -> dict:
    """The stored documents by id, and per indexed field every term's live unit ids."""
    from protokollsok.index import open_index

    ix, _ = open_index(index_dir)
    with ix.reader() as r:
        live = dict(r.iter_docs())  # docnum -> stored fields, deleted documents left out
        ids = {n: d["id"] for n, d in live.items()}
        docs = {d["id"]: d for d in live.values()}
        terms: dict[str, dict[bytes, tuple[str, ...]]] = {}
        for field in r.indexed_field_names():
            per_term = {}
            for term in r.lexicon(field):
                live = sorted(ids[n] for n in r.postings(field, term).all_ids() if n in ids)
                if live:
                    per_term[term] = tuple(live)
            terms[field] = per_term
    return {"docs": docs, "terms": terms}


def indexer(corpus: Path, index_dir: Path, full: bool) -> subprocess.Popen:
    exe = Path(sys.executable).with_name("protokollsok")
    args = [str(exe), "index", str(corpus), "--index", str(index_dir), "--quiet"]
    return subprocess.Popen(
        [*args, "--full"] if full else args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def situation(kind: str, s: Setup, index_dir: Path) -> tuple[Path, bool, set[str]]:
    """Prepare ``index_dir`` for a trial; return (corpus to index, --full, sources it may change)."""
    shutil.rmtree(index_dir, ignore_errors=True)
    if kind == "first":
        return s.corpus_a, False, {p.name for p in s.corpus_a.iterdir()}
    shutil.copytree(s.index_a, index_dir)
    if kind == "incremental":
        return s.corpus_b, False, s.changes_b
    return s.corpus_a, True, set()


def timed_run(kind: str, s: Setup, index_dir: Path) -> float:
    corpus, full, _ = situation(kind, s, index_dir)
    t = time.perf_counter()
    p = indexer(corpus, index_dir, full)
    if p.wait() != 0:
        raise RuntimeError(f"an uninterrupted {kind} run failed (exit {p.returncode})")
    return time.perf_counter() - t


def prepare(work: Path, files: int = 7) -> Setup:
    """Extract the corpora, build the references and time one uninterrupted run of each kind."""
    from protokollsok.index import build_index

    a, b, changes = make_corpora(work, files)
    report = build_index([a], work / "ref_a", full=True)
    assert report.ok, report.failed
    assert build_index([b], work / "ref_b", full=True).ok
    shutil.copytree(work / "ref_a", work / "index_a")
    s = Setup(work, a, b, work / "index_a", snapshot(work / "ref_a"), snapshot(work / "ref_b"),
              changes, report.units, {})
    s.seconds = {k: timed_run(k, s, work / "timing") for k in KINDS}
    s.measured = dict(s.seconds)
    return s


def trial(kind: str, s: Setup, rng: random.Random, index_dir: Path) -> Trial:
    """Run, kill, inspect, rerun, compare."""
    from protokollsok.index import build_index

    corpus, full, may_change = situation(kind, s, index_dir)
    delay = rng.uniform(0, s.seconds[kind])
    p = indexer(corpus, index_dir, full)
    finished = wait_or_kill(p, delay)
    if finished is not None:  # the machine got faster: aim the next delays at the shorter run
        s.seconds[kind] = (s.seconds[kind] + finished) / 2
    opened = inspect_opens(index_dir, kind)
    verdict = inspect_check(corpus, index_dir, may_change) if opened == "yes" else "agree"
    build_index([corpus], index_dir)
    reference = s.ref_b if corpus == s.corpus_b else s.ref_a
    identical = snapshot(index_dir) == reference
    shutil.rmtree(index_dir, ignore_errors=True)
    return Trial(kind, delay, finished is not None, opened, verdict, identical)


def wait_or_kill(p: subprocess.Popen, delay: float) -> float | None:
    """SIGKILL ``p`` after ``delay`` seconds; None, or how long it ran if it finished first."""
    started = time.perf_counter()
    while (elapsed := time.perf_counter() - started) < delay:
        if p.poll() is not None:
            return elapsed
        time.sleep(0.01)
    p.send_signal(signal.SIGKILL)
    p.wait()
    return None


def inspect_opens(index_dir: Path, kind: str) -> str:
    """Does the killed run's index open and answer a search?"""
    from protokollsok.errors import IndexNotFound
    from protokollsok.index import open_searcher
    from protokollsok.search import search

    try:
        search(index_dir, PROBE_QUERY, limit=3, suggest=False)
        s, _ = open_searcher(index_dir)
        s.close()
    except IndexNotFound:
        return "no index yet" if kind == "first" else "error: IndexNotFound"
    except Exception as e:
        return f"error: {type(e).__name__}: {e}"
    return "yes"


def inspect_check(corpus: Path, index_dir: Path, may_change: set[str]) -> str:
    """``check`` agrees, or names only files the killed run was going to change."""
    from protokollsok.index import check

    r = check([corpus], index_dir)
    if r.ok:
        return "agree"
    if r.missing_units or r.orphan_units:
        return f"error: units and manifest disagree ({r.missing_units[:3]} {r.orphan_units[:3]})"
    named = set(r.not_indexed) | set(r.changed) | set(r.vanished)
    if named <= may_change:
        return "rerun fixes"
    return f"error: check names files the run did not touch: {sorted(named - may_change)[:5]}"


def run_trials(n: int, seed: int, work: Path, files: int = 7) -> tuple[Setup, list[Trial]]:
    """``n`` trials, the kinds in turn, delays from ``random.Random(seed)``."""
    s = prepare(work, files)
    rng = random.Random(seed)
    trials = [trial(KINDS[i % len(KINDS)], s, rng, work / f"trial{i}") for i in range(n)]
    return s, trials


def summary(s: Setup, trials: list[Trial], seconds: float, seed: int) -> str:
    """The figures as a markdown section."""
    lines = [
        "## Crash trials (`scripts/crash_trials.py`)",
        "",
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {platform.node()}, "
        f"{platform.processor() or platform.machine()}, Python {platform.python_version()}; "
        f"seed {seed}; {seconds:.0f} s in all.",
        f"Corpus A: {len(list(s.corpus_a.iterdir()))} Göteborg KS protokoll, {s.units_a} units; "
        f"B: A with 1 file deleted, 1 changed, 1 renamed, 1 added.",
        "Uninterrupted run (subprocess, start-up included): "
        + ", ".join(f"{k} {v:.1f} s" for k, v in (s.measured or s.seconds).items())
        + "; each kill after a delay uniform in [0, that duration] (halved towards the real "
        + "duration whenever a run finished before its kill, as the machine's load changes).",
        "",
        "| situation | trials | killed mid-run | index opened | check agreed | check named only what the rerun fixes | rerun identical to a clean full build | failures |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for kind in KINDS:
        ts = [t for t in trials if t.kind == kind]
        checks = Counter(t.check for t in ts)
        opened = sum(t.opened == "yes" for t in ts)
        not_yet = sum(t.opened == "no index yet" for t in ts)
        lines.append(
            f"| {kind} | {len(ts)} | {sum(not t.finished_before_kill for t in ts)} | {opened}"
            + (f" (+{not_yet} killed before the first publish: no index yet)" if not_yet else "")
            + f" | {checks['agree']} | {checks['rerun fixes']} | {sum(t.identical for t in ts)}"
            + f" | {sum(not t.ok for t in ts)} |"
        )
    bad = [t for t in trials if not t.ok]
    lines += ["", f"**{len(trials) - len(bad)} of {len(trials)} trials passed.**"]
    lines += [f"- FAILED {t}" for t in bad[:20]]
    return "\n".join(lines) + "\n"


def write_results(section: str, path: Path = RESULTS) -> None:
    """Replace the crash-trials section of ``path`` (other sections are kept)."""
    sys.path.insert(0, str(ROOT / "bench"))
    from bench_incremental import write_section

    write_section(path, section)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--trials", type=int, default=100)
    p.add_argument("--seed", type=int, default=4)
    p.add_argument("--files", type=int, default=7, help="meetings in corpus A (7 = 260 units)")
    p.add_argument("--out", type=Path, default=RESULTS)
    a = p.parse_args(argv)
    if not TARBALL.exists():
        p.error(f"{TARBALL} not found (the shared corpora are needed)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="crash-") as tmp:
        s, trials = run_trials(a.trials, a.seed, Path(tmp), a.files)
        section = summary(s, trials, time.perf_counter() - started, a.seed)
    write_results(section, a.out)
    print(section)
    return 0 if all(t.ok for t in trials) else 1


if __name__ == "__main__":
    sys.exit(main())
