"""Query latency of protokollsök on an index that already exists (no build), per category of the
benchmark's query mix: in one process (``bench_worker.py query``) and end to end as a fresh
``protokollsok search`` command per query, p50/p95 of wall and CPU time.

    python bench/bench_existing.py INDEX_DIR [--query-runs 10] [--e2e-runs 3] [--out FILE.md]

For re-measuring queries after a change that does not touch the index (the full benchmark,
``bench_all.py``, builds every index again: more than an hour at the whole corpus).
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_all import _run_worker, measure_e2e
from bench_queries import QUERIES
from bench_report import pct

CATEGORIES = ("rare", "common", "phrase", "phrase_common", "filtered", "dnr")


def _rows(per_query: dict[str, list[float]]) -> dict[str, tuple[float, float]]:
    out = {}
    for cat in CATEGORIES:
        samples = [v for q in QUERIES if q.category == cat for v in per_query.get(q.name, [])]
        out[cat] = (pct(samples, 50), pct(samples, 95))
    return out


def _query_rows(per_query: dict[str, list[float]]) -> list[str]:
    return [
        f"| {q.name} | {q.category} | {pct(per_query[q.name], 50):.1f} | {pct(per_query[q.name], 95):.1f} |"
        for q in QUERIES
        if per_query.get(q.name)
    ]


def report(index_dir: Path, query_runs: int, e2e_runs: int) -> str:
    """Measure and return the markdown report."""
    import protokollsok  # the code under test (PYTHONPATH may point at another checkout)

    code = Path(protokollsok.__file__).resolve().parent
    commit = subprocess.run(["git", "-C", str(code), "rev-parse", "--short", "HEAD"], capture_output=True, text=True, check=False)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    load = os.getloadavg()[0]
    inproc = _run_worker("query", "protokollsok", str(index_dir), str(query_runs))
    e2e = measure_e2e("protokollsok", index_dir, e2e_runs)
    lines = [
        f"# Queries on an existing index: `{index_dir.name}`",
        "",
        f"Measured {started} on {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}; protokollsök at commit {commit.stdout.strip()} ({code}); load average {load:.1f} at "
        f"start, {os.getloadavg()[0]:.1f} at end. Command: `.venv/bin/python bench/bench_existing.py "
        f"{index_dir} --query-runs {query_runs} --e2e-runs {e2e_runs}`.",
        "",
        "| category | in-process p50 / p95 (ms) | CPU p95 (ms) | CLI p50 / p95 (s) | CLI CPU p95 (s) |",
        "|---|---:|---:|---:|---:|",
    ]
    wall, cpu = _rows(inproc["ms"]), _rows(inproc["cpu_ms"])
    ewall, ecpu = _rows(e2e["wall"]), _rows(e2e["cpu"])
    for cat in CATEGORIES:
        lines.append(
            f"| {cat} | {wall[cat][0]:.1f} / {wall[cat][1]:.1f} | {cpu[cat][1]:.1f} | "
            f"{ewall[cat][0] / 1000:.2f} / {ewall[cat][1] / 1000:.2f} | {ecpu[cat][1] / 1000:.2f} |"
        )
    lines += ["", "Per query, in one process (ms):", "", "| query | category | p50 | p95 |", "|---|---|---:|---:|"]
    lines += _query_rows(inproc["ms"])
    lines += ["", "Per query, end to end (ms):", "", "| query | category | p50 | p95 |", "|---|---|---:|---:|"]
    lines += _query_rows(e2e["wall"])
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    """Parse the arguments, measure, print the report (and write it with ``--out``)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("index", type=Path)
    ap.add_argument("--query-runs", type=int, default=10)
    ap.add_argument("--e2e-runs", type=int, default=3)
    ap.add_argument("--out", type=Path, default=None)
    a = ap.parse_args(argv)
    if not (a.index / "protokollsok.json").exists() and not any(a.index.glob("*.toc")):
        print(f"error: {a.index}: not a protokollsök index", file=sys.stderr)
        return 2
    text = report(a.index, a.query_runs, a.e2e_runs)
    print(text)
    if a.out:
        a.out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
