"""Issue 4: the time to add one new meeting (~30 §§) to an index of the whole volume corpus,
against a full rebuild.

The base index holds the volume units (``bench/units.py``) *without* one Göteborg meeting
(``kf-2025-06-18``, 29 §§), built by ``index.index_units``. The meeting's plain-text protokoll
(from the shared tarball) is put in a corpus folder and ``index.build_index([folder], index)``
adds it: discover, diff against the manifest, parse the one file, one commit. Each run works on a
fresh copy of the base index (the copy is not timed). Also timed: the same through the CLI
(``protokollsok index FOLDER --index DIR``, start-up included) and a re-run with nothing changed.

    .venv/bin/python bench/bench_incremental.py --index bench/out/perf/all/protokollsok
    .venv/bin/python bench/bench_incremental.py --build 10000     # builds its own base index first
    .venv/bin/python bench/bench_incremental.py --all --work /tmp/inc   # the whole volume corpus

With ``--build``/``--all`` the base build is the full-rebuild figure; the figures are also written
to ``bench/results/incremental.md`` (section "One new meeting"), with the machine and the date.

``bench_all.py`` calls ``measure`` at its largest size and puts the figures in RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import units  # noqa: E402

WORK = BENCH / "out" / "incremental"
RESULTS = BENCH / "results" / "incremental.md"


def write_meeting(corpora: Path, meeting: str, root: Path) -> Path:
    """Put the meeting's .txt under ``root/goteborg/`` (ids then match ``bench/units.py``)."""
    dest = root / "goteborg" / f"{meeting}.txt"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(units.meeting_text(corpora, meeting), encoding="utf-8")
    return dest


def _fresh_copy(base: Path, dest: Path) -> Path:
    shutil.rmtree(dest, ignore_errors=True)
    shutil.copytree(base, dest, ignore=shutil.ignore_patterns("*.lock"))
    # On disk before the timed update, as a real index is: the update flushes the files of the
    # index before it publishes (fsync), and would otherwise pay for writing out the fresh copy.
    os.sync()
    return dest


def _timed_library_update(root: Path, index_dir: Path) -> dict[str, object]:
    from protokollsok.index import build_index

    t = time.perf_counter()
    report = build_index([root], index_dir)
    seconds = time.perf_counter() - t
    return {"seconds": seconds, "units": report.units, "added": report.added, "failed": report.failed}


def _timed_cli_update(root: Path, index_dir: Path) -> float:
    exe = Path(sys.executable).with_name("protokollsok")
    t = time.perf_counter()
    p = subprocess.run([str(exe), "index", str(root), "--index", str(index_dir), "--quiet"],
                       capture_output=True, text=True, check=False)
    if p.returncode != 0:
        raise RuntimeError(f"protokollsok index failed: {p.stdout[-500:]} {p.stderr[-500:]}")
    return time.perf_counter() - t


def _meeting_hits(index_dir: Path, meeting: str) -> int:
    """How many of the top 10 hits for "beslut" on the meeting's date come from the new file."""
    from protokollsok.search import search

    datum = meeting.split("-", 1)[1]
    result = search(index_dir, "beslut", limit=10, date_from=datum, date_to=datum)
    return sum(1 for h in result.hits if f"{meeting}.txt" in h.id)


def measure(base_index: Path, corpora: Path, meeting: str, runs: int = 3,
            full_build: dict | None = None, base_units: int | None = None,
            work: Path = WORK) -> dict[str, object]:
    """Time adding ``meeting`` to copies of ``base_index``; compare with ``full_build``."""
    root = write_meeting(corpora, meeting, work / "corpus")
    lib_runs, cli_runs, rerun = [], [], []
    last: dict[str, object] = {}
    for _ in range(runs):
        copy = _fresh_copy(base_index, work / "index")
        last = _timed_library_update(root, copy)
        lib_runs.append(last["seconds"])
        t = time.perf_counter()
        _timed_library_update(root, copy)  # nothing changed: discover + diff only
        rerun.append(time.perf_counter() - t)
        copy = _fresh_copy(base_index, work / "index")
        cli_runs.append(_timed_cli_update(root, copy))
    out: dict[str, object] = {
        "meeting": meeting,
        "units_added": last.get("units"),
        "failed": last.get("failed"),
        "base_units": base_units,
        "library_seconds": statistics.median(lib_runs),
        "library_runs": lib_runs,
        "cli_seconds": statistics.median(cli_runs),
        "cli_runs": cli_runs,
        "unchanged_rerun_seconds": statistics.median(rerun),
        "meeting_hits_in_top10": _meeting_hits(copy, meeting),
    }
    if full_build:
        out["full_rebuild_seconds"] = full_build["seconds"]
    return out


def main(argv: list[str] | None = None) -> int:
    """Measure against an existing base index, or build one from the first N cached units."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, help="an index of the volume units (without the meeting)")
    p.add_argument("--build", type=int, help="first build a base index of this many units")
    p.add_argument("--all", action="store_true", help="first build a base index of all volume units")
    p.add_argument("--work", type=Path, default=WORK, help=f"scratch folder (default {WORK})")
    p.add_argument("--out", type=Path, default=RESULTS, help="markdown file for the figures")
    p.add_argument("--corpora", type=Path, default=units.DEFAULT_CORPORA)
    p.add_argument("--meeting", default="kf-2025-06-18")
    p.add_argument("--runs", type=int, default=3)
    a = p.parse_args(argv)
    full = None
    base = a.index
    n_units = a.build
    if a.build or a.all:
        from protokollsok.index import index_units

        base = a.work / "base"
        shutil.rmtree(base, ignore_errors=True)
        t = time.perf_counter()
        units_iter = units.iter_units(a.corpora, a.build, exclude_meetings={a.meeting})
        n_units = index_units(base, units_iter, full=True).units
        full = {"seconds": time.perf_counter() - t}
    if base is None:
        p.error("give --index, --build N or --all")
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = measure(base, a.corpora, a.meeting, a.runs, full, n_units, a.work)
    print(json.dumps(result, indent=1))
    write_section(a.out, section(result, started, " ".join(sys.argv[1:])))
    return 0


def section(r: dict, started: str, args: str) -> str:
    """The figures of one ``measure`` as a markdown section."""
    rows = [
        ("add the meeting, library call `build_index([folder], index)`", r["library_seconds"]),
        ("add the meeting, CLI `protokollsok index FOLDER --index DIR` (start-up included)", r["cli_seconds"]),
        ("re-run with nothing changed (discover + diff, no write)", r["unchanged_rerun_seconds"]),
    ]
    if r.get("full_rebuild_seconds") is not None:
        rows.append(("full rebuild of the base index (`index_units`, all units)", r["full_rebuild_seconds"]))
    lines = [
        "## One new meeting (`bench/bench_incremental.py`)",
        "",
        f"{started}, {platform.node()}, {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the end (the machine is shared), Python {platform.python_version()}.",
        f"Command: `.venv/bin/python bench/bench_incremental.py {args}`.",
        f"Base index: {r.get('base_units') or '?'} volume units (`bench/units.py`) without meeting "
        f"`{r['meeting']}`; the meeting ({r.get('units_added')} units) is then added as one .txt file. "
        f"Median of {len(r['library_runs'])} runs, each on a fresh copy of the base index.",
        "",
        "| what | seconds |",
        "|---|---:|",
        *[f"| {what} | {sec:.2f} |" for what, sec in rows],
        "",
        f"Failed files: {r.get('failed') or 'none'}; hits of the new meeting in the top 10 for "
        f"\"beslut\" on its date: {r.get('meeting_hits_in_top10')}.",
    ]
    if r.get("full_rebuild_seconds"):
        lines.append(
            f"Adding one meeting costs {r['library_seconds'] / r['full_rebuild_seconds']:.2%} of a full rebuild."
        )
    return "\n".join(lines) + "\n"


def write_section(path: Path, text: str) -> None:
    """Replace the section of ``path`` that starts with ``text``'s first line (a ``## `` heading),
    keeping the others; ``scripts/crash_trials.py`` writes its section into the same file with it."""
    head = text.split("\n", 1)[0]
    old = path.read_text(encoding="utf-8") if path.exists() else "# Issue 4: incremental, atomic index updates\n\n"
    if head in old:
        before, _, rest = old.partition(head)
        after = rest[rest.find("\n## ") + 1 :] if "\n## " in rest else ""
        old = before + text + ("\n" + after if after else "")
    else:
        old = old.rstrip("\n") + "\n\n" + text
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(old, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
