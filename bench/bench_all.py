"""The performance benchmark: protokollsök against its peers on the same units and query mix.

    .venv/bin/python bench/bench_all.py --quick          # 10k units, few repetitions (< 5 min)
    .venv/bin/python bench/bench_all.py                  # 10k, 50k and all (~160k) units; slow
    .venv/bin/python bench/bench_all.py --sizes 10000,all --peers protokollsok,tantivy

For each corpus size and each peer (``bench/peers``): full build time, units/s, MB/s, peak memory
and index size on disk (median of ``--build-runs`` fresh processes); query latency over the fixed
mix (``bench_queries``) in one process (p50/p95 per category) and end to end, one command per
query. At the largest size it also times the incremental update of one meeting
(``bench_incremental``). Raw figures go to ``bench/results/perf[-quick].json``, the table to
``bench/RESULTS.md``, the plot to ``bench/results/perf[-quick].png``. The corpus is read from
``../shared/corpora`` and cached as JSONL under ``bench/out/`` (untracked).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_incremental  # noqa: E402
import bench_report  # noqa: E402
import units  # noqa: E402
from bench_queries import QUERIES  # noqa: E402
from peers import PEERS, load  # noqa: E402

OUT = BENCH / "out" / "perf"
RESULTS = BENCH / "results"
WORKER = BENCH / "bench_worker.py"
FAILURES: list[str] = []
SLOW_PEERS = ("protokollsok", "whoosh-naive")  # built --big-build-runs times from SLOW_FROM units
SLOW_FROM = 10_000
MEETING = "kf-2025-06-18"  # 29 §§; left out of the volume units, added by the incremental run


def machine() -> dict[str, object]:
    """Where and with what the figures were measured."""
    cpu = ""
    with open("/proc/cpuinfo", encoding="utf-8") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "date_utc": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_gb, 1),
        "os": platform.platform(),
        "python": platform.python_version(),
        "versions": _versions(),
        "loadavg_start": os.getloadavg(),
    }


def _versions() -> dict[str, str]:
    from importlib import metadata

    out = {}
    for dist in ("protokollsok", "Whoosh-Reloaded", "tantivy", "PyStemmer", "matplotlib"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "not installed"
    import sqlite3

    out["sqlite"] = sqlite3.sqlite_version
    rg = shutil.which("rg")
    out["ripgrep"] = subprocess.run([rg, "--version"], capture_output=True, text=True).stdout.split("\n")[0] if rg else "not installed"
    commit = subprocess.run(["git", "-C", str(BENCH), "rev-parse", "--short", "HEAD"],
                            capture_output=True, text=True).stdout.strip()
    out["protokollsok_commit"] = commit
    return out


def ensure_cache(corpora: Path) -> tuple[Path, int]:
    """The volume units (without ``MEETING``) in a fixed shuffled order as JSONL, written once;
    returns (path, count). Each size is a prefix of it: a sample of every source and year."""
    path = OUT.parent / f"units-shuffled-no-{MEETING}.jsonl"
    if not path.exists():
        volume = units.iter_units(corpora, exclude_meetings={MEETING})
        n = units.write_cache(units.shuffled(volume), path)
    else:
        with open(path, "rb") as f:
            n = sum(1 for _ in f)
    return path, n


def _run_worker(*args: str) -> dict:
    p = subprocess.run([sys.executable, str(WORKER), *args], capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"worker {args[:2]} failed:\n{p.stderr[-3000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def dir_size_mb(path: Path) -> float:
    """Bytes of all files under ``path``, in MB."""
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) / 1e6


def measure_build(peer: str, cache: Path, n: int, index_dir: Path, runs: int) -> dict:
    """``runs`` fresh builds; the median and each run."""
    results = []
    for _ in range(runs):
        shutil.rmtree(index_dir, ignore_errors=True)
        index_dir.mkdir(parents=True)
        results.append(_run_worker("build", peer, str(cache), str(n), str(index_dir)))
    secs = statistics.median(r["seconds"] for r in results)
    first = results[0]
    return {
        "runs": results,
        "seconds": secs,
        "units": first["units"],
        "mb_text": first["bytes"] / 1e6,
        "units_per_s": first["units"] / secs,
        "mb_per_s": first["bytes"] / 1e6 / secs,
        "maxrss_mb": statistics.median(r["maxrss_mb"] for r in results),
        "cpu_seconds": statistics.median(r.get("cpu_seconds", float("nan")) for r in results),
        "index_mb": dir_size_mb(index_dir),
    }


def measure_e2e(peer: str, index_dir: Path, runs: int) -> dict[str, dict[str, list[float]]]:
    """Wall and CPU time (ms) of one fresh command per query, ``runs`` times each.

    A failed command is retried once; if it fails again the sample is dropped and the failure
    recorded in ``FAILURES`` (reported in RESULTS.md) so one bad query does not lose the run.
    """
    mod = load(peer)
    wall: dict[str, list[float]] = {q.name: [] for q in QUERIES}
    cpu: dict[str, list[float]] = {q.name: [] for q in QUERIES}
    for _ in range(runs):
        for q in QUERIES:
            got = _timed_command(mod.cli_argv(index_dir, q))
            if isinstance(got, str):
                got = _timed_command(mod.cli_argv(index_dir, q))
            if isinstance(got, str):
                FAILURES.append(f"{peer} end to end {q.name!r}: {got}")
                continue
            wall[q.name].append(got[0])
            cpu[q.name].append(got[1])
    return {"wall": wall, "cpu": cpu}


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _timed_command(argv: list[str]) -> tuple[float, float] | str:
    """(wall ms, CPU ms of the command and its children), or its failure as text."""
    t, c = time.perf_counter(), _children_cpu()
    p = subprocess.run(argv, capture_output=True, stdin=subprocess.DEVNULL, check=False)
    ms = (time.perf_counter() - t) * 1000
    if p.returncode not in (0, 1):
        return f"exit {p.returncode}: {p.stderr.decode(errors='replace').strip()[-300:]}"
    return ms, (_children_cpu() - c) * 1000


def run_size(peer: str, cache: Path, n: int, label: str, args: argparse.Namespace) -> dict:
    """All measurements of one peer at one corpus size."""
    index_dir = OUT / label / peer
    slow = peer in SLOW_PEERS and n >= SLOW_FROM
    build_runs = args.big_build_runs if slow else args.build_runs
    print(f"[{time.strftime('%H:%M:%S')}] {label} {peer}: build x{build_runs}", flush=True)
    res: dict[str, object] = {"build": measure_build(peer, cache, n, index_dir, build_runs)}
    if not peer.startswith("ripgrep"):
        print(f"[{time.strftime('%H:%M:%S')}] {label} {peer}: queries", flush=True)
        res["query"] = _run_worker("query", peer, str(index_dir), str(args.query_runs))
    print(f"[{time.strftime('%H:%M:%S')}] {label} {peer}: end to end", flush=True)
    e2e = measure_e2e(peer, index_dir, args.e2e_runs)
    res["e2e_ms"], res["e2e_cpu_ms"] = e2e["wall"], e2e["cpu"]
    return res


def parse_sizes(text: str, total: int) -> list[tuple[str, int]]:
    """``"10000,50000,all"`` -> ``[("10k", 10000), ("50k", 50000), ("all", total)]``."""
    out = []
    for part in text.split(","):
        n = total if part.strip() == "all" else min(int(part), total)
        label = f"{n // 1000}k" if n >= 1000 else str(n)
        out.append(("all" if part.strip() == "all" else label, n))
    return out


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    """Command-line options; ``--quick`` sets small defaults."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--quick", action="store_true", help="10k units, few repetitions (< 5 min)")
    p.add_argument("--sizes", default=None, help="comma-separated unit counts or 'all'")
    p.add_argument("--peers", default=",".join(PEERS), help="comma-separated peer names")
    p.add_argument("--corpora", type=Path, default=units.DEFAULT_CORPORA)
    p.add_argument("--build-runs", type=int, default=None)
    p.add_argument("--big-build-runs", type=int, default=1, help="builds of the slow peers (protokollsök, naive whoosh) from 10k units on")
    p.add_argument("--query-runs", type=int, default=None)
    p.add_argument("--e2e-runs", type=int, default=None)
    p.add_argument("--no-incremental", action="store_true")
    p.add_argument("--stem", default=None,
                   help="results file name under bench/results/ (default perf, or perf-quick)")
    a = p.parse_args(argv)
    a.sizes = a.sizes or ("10000" if a.quick else "10000,50000,all")
    a.build_runs = a.build_runs or (1 if a.quick else 3)
    a.query_runs = a.query_runs or (5 if a.quick else 20)
    a.e2e_runs = a.e2e_runs or (2 if a.quick else 3)
    return a


def main(argv: list[str] | None = None) -> int:
    """Run the benchmark and write the results, the table and the plot."""
    args = parse_args(argv)
    if not args.corpora.is_dir():
        print(f"error: no corpora at {args.corpora} (see ../shared/corpora/SOURCES.md)", file=sys.stderr)
        return 1
    started = time.monotonic()
    # As scripts/setup.sh does: commands read byte-compiled modules (an editable install has none).
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(BENCH.parent / "src")], check=False,
                   stdout=subprocess.DEVNULL)
    stem = args.stem or ("perf-quick" if args.quick else "perf")
    cache, total = ensure_cache(args.corpora)
    sizes = parse_sizes(args.sizes, total)
    result: dict[str, object] = {"machine": machine(), "quick": args.quick, "sizes": {},
                                 "settings": {k: v for k, v in vars(args).items() if k != "corpora"}}
    for label, n in sizes:
        result["sizes"][label] = {"units": n, "peers": {}}
        for peer in args.peers.split(","):
            result["sizes"][label]["peers"][peer] = run_size(peer, cache, n, label, args)
            write_results(result, stem)  # partial results survive an interrupted run
    if not args.no_incremental and "protokollsok" in args.peers.split(","):
        label, n = sizes[-1]
        print(f"[{time.strftime('%H:%M:%S')}] incremental update at {label}", flush=True)
        result["incremental"] = bench_incremental.measure(
            OUT / label / "protokollsok", args.corpora, MEETING, runs=args.build_runs,
            full_build=result["sizes"][label]["peers"]["protokollsok"]["build"], base_units=n)
    result["failures"] = FAILURES
    result["machine"]["loadavg_end"] = os.getloadavg()
    result["machine"]["wall_minutes"] = round((time.monotonic() - started) / 60, 1)
    write_results(result, stem)
    return 0


def write_results(result: dict, stem: str) -> None:
    """Raw JSON, the plot and the regenerated RESULTS.md."""
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"{stem}.json").write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")
    try:
        import plot_perf

        plot_perf.plot(result, RESULTS / f"{stem}.png")
    except ImportError as e:
        print(f"no plot ({e})", file=sys.stderr)
    bench_report.write(RESULTS, BENCH / "RESULTS.md")
    print(f"wrote {RESULTS / stem}.json, .png and {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    sys.exit(main())
