"""Profile protokollsök's build, query and CLI start-up paths with pyinstrument (not a benchmark).

    .venv/bin/python bench/bench_profile.py [--units 3000] [--out bench/out/profile]

Writes ``build.txt``, ``query.txt`` and ``startup.txt`` (pyinstrument's text trees) to ``--out``
and prints the functions with the most own time for each. pyinstrument is not a dependency of the
product: ``pip install pyinstrument`` into the venv first.
"""

from __future__ import annotations

import argparse
import itertools
import shutil
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import units  # noqa: E402
from bench_queries import QUERIES  # noqa: E402


def _profile(fn, dest: Path) -> None:
    from pyinstrument import Profiler

    prof = Profiler(interval=0.002)
    prof.start()
    fn()
    prof.stop()
    dest.write_text(prof.output_text(unicode=True, color=False, show_all=True), encoding="utf-8")
    print(f"== {dest.name}: top own time")
    for name, secs in _own_times(prof)[:12]:
        print(f"  {secs:7.2f} s  {name}")


def _own_times(prof) -> list[tuple[str, float]]:
    """(function, self time) summed over the call tree, largest first."""
    totals: dict[str, float] = {}
    stack = [prof.last_session.root_frame()]
    while stack:
        frame = stack.pop()
        if frame is None:
            continue
        key = f"{frame.function} ({Path(frame.file_path or '?').name}:{frame.line_no})"
        totals[key] = totals.get(key, 0.0) + frame.total_self_time
        stack.extend(frame.children)
    return sorted(totals.items(), key=lambda kv: -kv[1])


def main(argv: list[str] | None = None) -> int:
    """Profile a build of ``--units`` units, the query mix on that index, and CLI start-up."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--units", type=int, default=3000)
    p.add_argument("--cache", type=Path, default=BENCH / "out" / "units-shuffled-no-kf-2025-06-18.jsonl")
    p.add_argument("--out", type=Path, default=BENCH / "out" / "profile")
    a = p.parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    index_dir = a.out / "index"
    shutil.rmtree(index_dir, ignore_errors=True)
    source = units.read_cache(a.cache) if a.cache.exists() else units.iter_units()
    batch = list(itertools.islice(source, a.units))

    def startup() -> None:
        from protokollsok import cli, search  # noqa: F401
        from protokollsok.analysis import forms

        forms("kommunen")  # loads the lexicon, as the first query does

    def build() -> None:
        from protokollsok.index import index_units

        index_units(index_dir, batch, full=True)

    def query() -> None:
        from protokollsok.search import search

        for _ in range(3):
            for q in QUERIES:
                search(index_dir, q.text, limit=10, **q.filters)

    _profile(startup, a.out / "startup.txt")
    _profile(build, a.out / "build.txt")
    _profile(query, a.out / "query.txt")
    return 0


if __name__ == "__main__":
    sys.exit(main())
