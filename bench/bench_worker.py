"""One measurement in a fresh process, so that peak memory and start-up belong to one system only.

    python bench/bench_worker.py build PEER CACHE N INDEX_DIR
        builds the first N units of the JSONL cache; prints {"seconds", "units", "bytes", "maxrss_mb"}
    python bench/bench_worker.py query PEER INDEX_DIR RUNS
        opens the index once, runs every query of the mix once untimed (warm-up), then RUNS times;
        prints {"open_seconds", "first_ms": {query: ms}, "ms"/"cpu_ms": {query: [ms, ...]}, "hits"}

CPU times are reported beside wall times because the machine is shared: under load the wall
clock measures the queue for a core as much as the system under test.

The build's clock covers reading the units from the cache (JSON decoding, about 2 % of the
fastest peer's time) and everything the peer does until its index is committed.
"""

from __future__ import annotations

import itertools
import json
import resource
import sys
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_queries import QUERIES
from peers import load
from protokollsok.model import Unit
from units import read_cache


def _counted(units: Iterator[Unit], tally: dict[str, int]) -> Iterator[Unit]:
    for u in units:
        tally["units"] += 1
        tally["bytes"] += len(u.segment.text.encode("utf-8"))
        yield u


def maxrss_mb() -> float:
    """Peak resident memory so far, in MiB: this process or the largest of its finished children
    (a parallel writer's processes), whichever is larger. Processes running at the same time add
    up, so with a parallel writer the true peak of the whole build is up to (1 + children) times
    this; the results say so."""
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    children = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return max(own, children) / 1024


def cpu_seconds() -> float:
    """User + system CPU time so far of this process and of its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        r = resource.getrusage(who)
        total += r.ru_utime + r.ru_stime
    return total


def build(peer: str, cache: Path, n: int, index_dir: Path) -> dict[str, float]:
    """Build peer's index over the first ``n`` cached units; wall and CPU time, size of input,
    peak memory."""
    mod = load(peer)
    tally = {"units": 0, "bytes": 0}
    units = _counted(itertools.islice(read_cache(cache), n), tally)
    started, cpu = time.perf_counter(), cpu_seconds()
    mod.build(units, index_dir)
    seconds = time.perf_counter() - started
    return {"seconds": seconds, "cpu_seconds": cpu_seconds() - cpu, **tally, "maxrss_mb": maxrss_mb()}


def query(peer: str, index_dir: Path, runs: int) -> dict[str, object]:
    """Open once, warm up with one pass over the mix, then time ``runs`` passes."""
    mod = load(peer)
    started = time.perf_counter()
    search = mod.open_searcher(index_dir)
    open_seconds = time.perf_counter() - started
    first: dict[str, float] = {}
    hits: dict[str, int] = {}
    for q in QUERIES:
        t = time.perf_counter()
        hits[q.name] = len(search(q))
        first[q.name] = (time.perf_counter() - t) * 1000
    ms: dict[str, list[float]] = {q.name: [] for q in QUERIES}
    cpu_ms: dict[str, list[float]] = {q.name: [] for q in QUERIES}
    for _ in range(runs):
        for q in QUERIES:
            t, c = time.perf_counter(), time.process_time()
            search(q)
            ms[q.name].append((time.perf_counter() - t) * 1000)
            cpu_ms[q.name].append((time.process_time() - c) * 1000)
    return {"open_seconds": open_seconds, "first_ms": first, "ms": ms, "cpu_ms": cpu_ms, "hits": hits,
            "maxrss_mb": maxrss_mb()}


def main(argv: list[str]) -> int:
    """Dispatch ``build`` / ``query`` and print the result as one JSON line."""
    cmd, peer, *rest = argv
    if cmd == "build":
        out = build(peer, Path(rest[0]), int(rest[1]), Path(rest[2]))
    elif cmd == "query":
        out = query(peer, Path(rest[0]), int(rest[1]))
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
