"""Issue 5: the web export after one new meeting, against an export that reads every term again.

On a fresh copy of the base index (the volume units without meeting ``kf-2025-06-18``, as in
``bench_incremental.py``): a first export; the meeting added with ``build_index``; then the export
of the updated index over a copy of the first bundle twice, the way an update runs it (taking the
last export's entries and unit files where nothing they are made of changed, ``webupdate.reuse``) and
reading every term and unit again (``web.REUSE = False``), each in a process of its own. The two
bundles must be byte for byte the same. Then a re-export of the unchanged index. Last, the same
pair of exports after a correction (one § of the meeting's file edited, the file indexed again:
its units deleted and added anew) and after a removal (every unit of an older source of about the
meeting's size deleted, as the update deletes a removed file's, from the large segments the base
index was written in), and once more with nothing changed.

    .venv/bin/python bench/bench_export_update.py --index bench/out/perf/all/protokollsok

Writes the section "Web export after one new meeting" of ``bench/results/incremental.md``.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

import bench_incremental  # noqa: E402
import units  # noqa: E402

EXPORT = """
import json, resource, sys, time
from protokollsok import web
web.REUSE = sys.argv[3] == "reuse"
t, c = time.perf_counter(), time.process_time()
r = web.export_bundle(sys.argv[1], sys.argv[2])
r["seconds"], r["cpu_main"] = time.perf_counter() - t, time.process_time() - c
r["cpu_children"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime
r["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
r["peak_children_mib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
print(json.dumps(r))
"""


def export(index_dir: Path, out: Path, mode: str) -> dict:
    """One export in a process of its own: its report, wall and CPU seconds."""
    done = subprocess.run([sys.executable, "-c", EXPORT, str(index_dir), str(out), mode],
                          check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def same_tree(a: Path, b: Path) -> bool:
    """Whether two folders hold the same files with the same bytes."""
    cmp = filecmp.dircmp(a, b)
    if cmp.left_only or cmp.right_only or cmp.funny_files:
        return False
    _, mismatch, errors = filecmp.cmpfiles(a, b, cmp.common_files, shallow=False)
    return not mismatch and not errors and all(same_tree(a / d, b / d) for d in cmp.common_dirs)


def both_ways(index_dir: Path, last: Path, work: Path) -> dict:
    """The export of ``index_dir`` over copies of the bundle ``last``, taking from it and reading
    everything; whether both wrote the same bundle. ``last`` becomes the first's bundle."""
    reusing, reading = work / "reusing", work / "reading"
    for folder in (reusing, reading):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(last, folder)
    out = {"update": export(index_dir, reusing, "reuse"), "update_reading_all": export(index_dir, reading, "read")}
    out["same_bundle"] = same_tree(reusing, reading)
    shutil.rmtree(last)
    shutil.copytree(reusing, last)
    return out


def correct(meeting_file: Path) -> None:
    """One § of the meeting's protokoll edited: a sentence added to its first paragraph of text."""
    text = meeting_file.read_text(encoding="utf-8")
    at = text.index("\n\n", len(text) // 2)
    meeting_file.write_text(text[:at] + " Rättelse: beslutet justerades i efterhand." + text[at:], encoding="utf-8")


def remove_source(index_dir: Path, size: int) -> tuple[str, int]:
    """Every unit of one source deleted (as an update deletes a removed file's): of the sources
    of the first 2,000 documents (in the large segments), the one whose number of units is
    nearest ``size``; the source and how many units it had."""
    from protokollsok import index

    ix, _ = index.open_index(index_dir)
    with ix.searcher() as s:
        sources = {s.stored_fields(d).get("source") for d in range(min(2000, s.doc_count_all()))} - {None}
        counts = {src: s.doc_frequency("source", src) for src in sources}
    source = min(sorted(counts), key=lambda src: abs(counts[src] - size))
    writer = ix.writer()
    writer.delete_by_term("source", source)
    writer.commit()
    return source, counts[source]


def measure(base_index: Path, corpora: Path, meeting: str, work: Path) -> dict:
    """The figures of one run (see the module's docstring)."""
    index_dir = bench_incremental._fresh_copy(base_index, work / "index")
    first, reusing, reading = work / "first", work / "reusing", work / "reading"
    for folder in (first, reusing, reading):
        shutil.rmtree(folder, ignore_errors=True)
    out = {"first": export(index_dir, first, "reuse")}
    root = bench_incremental.write_meeting(corpora, meeting, work / "corpus")
    bench_incremental._timed_library_update(root, index_dir)
    shutil.copytree(first, reusing)
    shutil.copytree(first, reading)
    out["update"] = export(index_dir, reusing, "reuse")
    out["update_reading_all"] = export(index_dir, reading, "read")
    out["same_bundle"] = same_tree(reusing, reading)
    out["unchanged"] = export(index_dir, reusing, "reuse")
    last = work / "last"
    shutil.rmtree(last, ignore_errors=True)
    shutil.copytree(reusing, last)
    correct(root)
    out["corrected_index"] = bench_incremental._timed_library_update(root, index_dir)
    out["corrected"] = both_ways(index_dir, last, work)
    out["removed_source"] = remove_source(index_dir, out["update"]["units"] - out["first"]["units"])
    out["removed"] = both_ways(index_dir, last, work)
    out["removed_again"] = export(index_dir, last, "reuse")
    return out


def section(r: dict, started: str, args: str) -> str:
    """The figures as a markdown section."""
    def row(what: str, x: dict) -> str:
        cpu = x["cpu_main"] + x["cpu_children"]
        return (f"| {what} | {x['seconds']:.1f} | {cpu:.1f} | {x['peak_mib']:,.0f} / {x['peak_children_mib']:,.0f} | "
                f"{x['written']:,} | {x['kept']:,} | {x.get('reused', 0):,} |")
    return "\n".join([
        "## Web export after one new meeting (`bench/bench_export_update.py`)",
        "",
        f"{started}, {platform.node()}, {os.cpu_count()} cores, Python {platform.python_version()}.",
        f"Command: `.venv/bin/python bench/bench_export_update.py {args}`. The base index as above; each",
        "export in a process of its own (CPU: its own and its children's, the processes reading the terms",
        "and searching the listed words).",
        "",
        "| export | seconds | CPU seconds | peak MiB (exporter / largest child) | files written | files kept | terms' entries taken as they were |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("first export of the base index", r["first"]),
        row("after the meeting was added (an update, `protokollsok export-web`)", r["update"]),
        row("the same, reading every term and unit again (`web.REUSE = False`)", r["update_reading_all"]),
        row("again, nothing changed", r["unchanged"]),
        "",
        f"The term shards hold {r['update']['terms']:,} keys (terms with postings, the term table's words, dnr keys).",
        f"The update's bundle and the one reading everything again are byte for byte the same: {r['same_bundle']}.",
        "",
        "Then a correction and a removal, each exported both ways over the last export's bundle:",
        "",
        "| export | seconds | CPU seconds | peak MiB (exporter / largest child) | files written | files kept | terms' entries taken as they were |",
        "|---|---:|---:|---:|---:|---:|---:|",
        row("after one § of the meeting's file was corrected (the file indexed again)", r["corrected"]["update"]),
        row("the same, reading every term and unit again", r["corrected"]["update_reading_all"]),
        row(f"after the {r['removed_source'][1]} units of `{r['removed_source'][0]}` were deleted", r["removed"]["update"]),
        row("the same, reading every term and unit again", r["removed"]["update_reading_all"]),
        row("again, nothing changed (the deleted units' terms taken from the record)", r["removed_again"]),
        "",
        f"The bundles of each pair are byte for byte the same: {r['corrected']['same_bundle']}, {r['removed']['same_bundle']}.",
    ]) + "\n"


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--index", type=Path, required=True, help="an index of the volume units (without the meeting)")
    p.add_argument("--work", type=Path, default=BENCH / "out" / "export-update", help="scratch folder")
    p.add_argument("--out", type=Path, default=bench_incremental.RESULTS, help="markdown file for the figures")
    p.add_argument("--corpora", type=Path, default=units.DEFAULT_CORPORA)
    p.add_argument("--meeting", default="kf-2025-06-18")
    a = p.parse_args(argv)
    started = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    result = measure(a.index, a.corpora, a.meeting, a.work)
    print(json.dumps(result, indent=1))
    bench_incremental.write_section(a.out, section(result, started, " ".join(sys.argv[1:])))
    same = result["same_bundle"] and result["corrected"]["same_bundle"] and result["removed"]["same_bundle"]
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
