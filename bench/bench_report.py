"""Render ``bench/RESULTS.md`` from the raw results in ``bench/results/perf*.json``."""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))

from bench_queries import CATEGORIES, QUERIES  # noqa: E402

PRODUCT = "protokollsok"
TARGETS = {
    "e2e_p95_s": 0.35,
    "words_p95_ms": 20.0,
    "phrase_common_p95_ms": 100.0,
    "units_per_s": 2000.0,
    "maxrss_mb": 1024.0,
    "incremental_s": 2.0,
}
NOTES = """\
## How to read this

- Every figure is the median over fresh processes (builds) or the p50/p95 over all timed runs of
  all queries of a category (queries; one untimed warm-up pass first). Ratio = peer / protokollsök
  (below 1: the peer is faster or smaller).
- Build time covers reading the units from the JSONL cache and everything until the index is
  committed; the product runs its full analysis chain (exact, stem + hunspell lemmas, fold,
  compound parts), the peers do far less work per word.
- "in-process" = library call on an open index, top 10 hits with stored fields and a snippet where
  the system offers one. "end to end" = one fresh command per query (start-up, imports, opening the
  index): `protokollsok search Q --index DIR --json` for the product, `python bench/peers/cli.py`
  for the Python peers, the `rg` command itself for ripgrep (which has no in-process mode).
- Not comparable: ripgrep has no stemming, ranking or index and scans all text per query; over
  files it cannot filter (the filtered queries ignore their filters there); its AND of several
  words is a pipeline of rg runs. whoosh-naive and ripgrep find only exact word forms. FTS5 matches
  exact words OR their Snowball stems (shadow column). Only the product splits compounds and folds
  å/ä/ö, so its hit counts differ.
- The machine is shared with other engineers' work (load average recorded): with a load of 5-10
  on 2 cores a process may get a fraction of a core, so wall times are inflated and noisy. CPU
  times (user + system, all threads; children for commands) are given beside them as the
  load-independent figure; they leave out waiting for the disk.
"""


def pct(values: list[float], p: float) -> float:
    """Nearest-rank percentile."""
    if not values:
        return float("nan")
    s = sorted(values)
    return s[max(0, math.ceil(p / 100 * len(s)) - 1)]


def _cat_samples(per_query: dict[str, list[float]], category: str) -> list[float]:
    return [v for q in QUERIES if q.category == category for v in per_query.get(q.name, [])]


def _all_samples(per_query: dict[str, list[float]]) -> list[float]:
    return [v for vs in per_query.values() for v in vs]


def _fmt(x: float | None, digits: int = 1) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "–"
    if abs(x) >= 100:
        return f"{x:,.0f}"
    return f"{x:.{digits}f}"


def _ratio(x: float | None, base: float | None) -> str:
    if not x or not base or math.isnan(x) or math.isnan(base):
        return "–"
    return f"{x / base:.2g}×"


def build_table(size: dict) -> list[str]:
    """One row per peer: time, throughput, memory, disk; ratio of time to the product's."""
    peers = size["peers"]
    base = peers.get(PRODUCT, {}).get("build", {})
    rows = ["| system | build s | CPU s | units/s | units/CPU-s | MB/s | peak MiB | index MB | time vs product |",
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, res in peers.items():
        b = res["build"]
        cpu = b.get("cpu_seconds")
        per_cpu = b["units"] / cpu if cpu else None
        rows.append(f"| {name} | {_fmt(b['seconds'])} | {_fmt(cpu)} | {_fmt(b['units_per_s'])} | {_fmt(per_cpu)} "
                    f"| {_fmt(b['mb_per_s'], 2)} | {_fmt(b['maxrss_mb'])} | {_fmt(b['index_mb'])} "
                    f"| {_ratio(b['seconds'], base.get('seconds'))} |")
    return rows


def _samples(res: dict, key: str) -> dict[str, list[float]] | None:
    """Per-query samples: ``query`` / ``query_cpu`` (in process), ``e2e`` / ``e2e_cpu``."""
    return {
        "e2e": lambda: res.get("e2e_ms"),
        "e2e_cpu": lambda: res.get("e2e_cpu_ms"),
        "query": lambda: res.get("query", {}).get("ms"),
        "query_cpu": lambda: res.get("query", {}).get("cpu_ms"),
    }[key]()


def latency_table(size: dict, key: str) -> list[str]:
    """p50/p95 (ms) per category and overall for each peer; ratio of the overall p95."""
    peers = size["peers"]

    def samples(res: dict) -> dict[str, list[float]] | None:
        return _samples(res, key)

    base = samples(peers.get(PRODUCT, {})) or {}
    base_p95 = pct(_all_samples(base), 95) if base else None
    head = "| system | " + " | ".join(CATEGORIES) + " | all | p95 vs product |"
    rows = [head, "|---|" + "---:|" * (len(CATEGORIES) + 2)]
    for name, res in peers.items():
        s = samples(res)
        if not s:
            continue
        cells = [f"{_fmt(pct(_cat_samples(s, c), 50))} / {_fmt(pct(_cat_samples(s, c), 95))}" for c in CATEGORIES]
        allv = _all_samples(s)
        rows.append(f"| {name} | " + " | ".join(cells)
                    + f" | {_fmt(pct(allv, 50))} / {_fmt(pct(allv, 95))} | {_ratio(pct(allv, 95), base_p95)} |")
    return rows


def targets_table(result: dict) -> list[str]:
    """The product's figures at the largest size against the targets of issue 6."""
    label = list(result["sizes"])[-1]
    res = result["sizes"][label]["peers"].get(PRODUCT)
    if not res:
        return []
    q = res.get("query", {}).get("ms", {})
    e2e = res.get("e2e_ms", {})
    words = _cat_samples(q, "rare") + _cat_samples(q, "common")
    inc = result.get("incremental", {})
    rows = [
        f"Targets (issue 6) against protokollsök at **{label}** ({result['sizes'][label]['units']:,} units):",
        "",
        "| target | goal | measured (wall) | met | measured (CPU time) |",
        "|---|---:|---:|:---:|---:|",
    ]
    qc = res.get("query", {}).get("cpu_ms", {})
    e2ec = res.get("e2e_cpu_ms", {})
    wordsc = _cat_samples(qc, "rare") + _cat_samples(qc, "common")
    cpu_build = res["build"].get("cpu_seconds")
    cpu_of = {
        "CLI end to end p95, all queries (s)": pct(_all_samples(e2ec), 95) / 1000 if e2ec else None,
        "in-process p95, words (ms)": pct(wordsc, 95) if qc else None,
        "in-process p95, phrases of common words (ms)": pct(_cat_samples(qc, "phrase_common"), 95) if qc else None,
        "build units/s": res["build"]["units"] / cpu_build if cpu_build else None,
    }
    checks = [
        ("CLI end to end p95, all queries (s)", TARGETS["e2e_p95_s"], pct(_all_samples(e2e), 95) / 1000, "<"),
        ("in-process p95, words (ms)", TARGETS["words_p95_ms"], pct(words, 95), "<"),
        ("in-process p95, phrases of common words (ms)", TARGETS["phrase_common_p95_ms"],
         pct(_cat_samples(q, "phrase_common"), 95), "<"),
        ("build units/s", TARGETS["units_per_s"], res["build"]["units_per_s"], ">="),
        ("build peak memory (MiB)", TARGETS["maxrss_mb"], res["build"]["maxrss_mb"], "<"),
        ("incremental update, one meeting (s)", TARGETS["incremental_s"], inc.get("library_seconds"), "<"),
    ]
    for name, goal, got, op in checks:
        ok = "–" if got is None or math.isnan(got) else ("yes" if (got < goal if op == "<" else got >= goal) else "**no**")
        rows.append(f"| {name} | {op} {_fmt(goal, 2)} | {_fmt(got, 2)} | {ok} | {_fmt(cpu_of.get(name), 2)} |")
    return rows


def incremental_section(inc: dict) -> list[str]:
    """Issue 4's two figures and the context around them."""
    if not inc:
        return []
    return [
        "### Incremental update (issue 4)",
        "",
        f"One new meeting (`{inc['meeting']}.txt`, {inc['units_added']} units) added with "
        f"`build_index([folder], index)` to an index of {inc.get('base_units') or 0:,} volume units:",
        "",
        "| operation | seconds |",
        "|---|---:|",
        f"| add one meeting (library call, median of {len(inc['library_runs'])}) | {_fmt(inc['library_seconds'], 2)} |",
        f"| add one meeting (`protokollsok index`, start-up included) | {_fmt(inc['cli_seconds'], 2)} |",
        f"| re-run with nothing changed | {_fmt(inc['unchanged_rerun_seconds'], 2)} |",
        f"| full rebuild of the volume units (`index_units`, from the build table) | {_fmt(inc.get('full_rebuild_seconds'), 1)} |",
        "",
        f"Check: {inc['meeting_hits_in_top10']} of the top 10 hits for \"beslut\" on the meeting's date come "
        "from the added file.",
        "",
    ]


def section(result: dict, stem: str) -> list[str]:
    """The whole report for one results file."""
    m = result["machine"]
    mode = "QUICK MODE (10k units, few repetitions)" if result.get("quick") else "full mode"
    v = m["versions"]
    lines = [
        f"## {mode}: `bench/results/{stem}.json`",
        "",
        f"Measured {m['date_utc']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB RAM, "
        f"{m['os']}, Python {m['python']}; load average {m['loadavg_start'][0]:.1f} at start, "
        f"{m.get('loadavg_end', [float('nan')])[0]:.1f} at end; took {m.get('wall_minutes', '?')} min.",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items()),
        "",
        f"Settings: {json.dumps(result.get('settings', {}), ensure_ascii=False)}",
        "",
        *[f"Merged from a separate run ({r['file']}, {r['machine']['date_utc']}, load average "
          f"{r['machine']['loadavg_start'][0]:.1f}): {json.dumps(r.get('settings'), ensure_ascii=False)}"
          for r in result.get("merged_runs", [])],
        "",
        f"![latency and build time against corpus size]({'results/' + stem + '.png'})",
        "",
        *targets_table(result),
        "",
    ]
    for label, size in result["sizes"].items():
        lines += [f"### {label}: {size['units']:,} units", "", "Build:", "", *build_table(size), "",
                  "Query latency in one process, ms, p50 / p95:", "", *latency_table(size, "query"), "",
                  "Query latency end to end (one command per query), ms, p50 / p95:", "",
                  *latency_table(size, "e2e"), "",
                  "CPU time per query in one process, ms, p50 / p95:", "", *latency_table(size, "query_cpu"), "",
                  "CPU time per query end to end (the command and its children), ms, p50 / p95:", "",
                  *latency_table(size, "e2e_cpu"), ""]
    lines += incremental_section(result.get("incremental", {}))
    lines += hits_table(result)
    if result.get("failures"):
        lines += ["Failed commands (dropped samples):", "", *[f"- {f}" for f in result["failures"]], ""]
    return lines


def hits_table(result: dict) -> list[str]:
    """Top-10 hit counts per query at the largest size (a sanity check, not a quality measure)."""
    label = list(result["sizes"])[-1]
    peers = {n: r["query"]["hits"] for n, r in result["sizes"][label]["peers"].items() if "query" in r}
    if not peers:
        return []
    rows = [f"Hits returned (of 10) per query at {label}:", "",
            "| query | " + " | ".join(peers) + " |", "|---|" + "---:|" * len(peers)]
    for q in QUERIES:
        rows.append(f"| {q.name} | " + " | ".join(str(h.get(q.name, '–')) for h in peers.values()) + " |")
    return [*rows, ""]


def write(results_dir: Path, dest: Path) -> None:
    """Regenerate ``dest`` from every ``perf*.json`` in ``results_dir`` (full mode first)."""
    files = sorted(results_dir.glob("perf*.json"), key=lambda p: ("quick" in p.stem, p.stem))
    lines = ["# Performance benchmark results", "",
             "Written by `.venv/bin/python bench/bench_all.py [--quick]` (see the README); do not edit "
             "by hand.", "", NOTES]
    notes = results_dir / "perf-notes.md"
    if notes.exists():  # hand-written: profile findings and proposals
        lines += [notes.read_text(encoding="utf-8"), ""]
    for f in files:
        lines += section(json.loads(f.read_text(encoding="utf-8")), f.stem)
    dest.write_text("\n".join(lines) + "\n", encoding="utf-8")


def merge(into: Path, sources: list[Path]) -> None:
    """Fold the sizes/peers (and incremental figures) of other runs' JSON into ``into``; the
    machine lines of every run are kept under ``merged_runs``; the sources are removed."""
    result = json.loads(into.read_text(encoding="utf-8"))
    runs = result.setdefault("merged_runs", [])
    for src in sources:
        other = json.loads(src.read_text(encoding="utf-8"))
        for label, size in other["sizes"].items():
            target = result["sizes"].setdefault(label, {"units": size["units"], "peers": {}})
            target["peers"].update(size["peers"])
        if other.get("incremental"):
            result["incremental"] = other["incremental"]
        result.setdefault("failures", []).extend(other.get("failures", []))
        runs.append({"file": src.name, "machine": other["machine"], "settings": other.get("settings")})
        src.unlink()
    order = sorted(result["sizes"].items(), key=lambda kv: kv[1]["units"])
    result["sizes"] = dict(order)
    into.write_text(json.dumps(result, indent=1, ensure_ascii=False), encoding="utf-8")


def main(argv: list[str]) -> int:
    """Regenerate RESULTS.md; ``--merge INTO SRC...`` first folds other runs into INTO."""
    if argv[:1] == ["--merge"]:
        import plot_perf

        into = Path(argv[1])
        merge(into, [Path(a) for a in argv[2:]])
        plot_perf.plot(json.loads(into.read_text(encoding="utf-8")), into.with_suffix(".png"))
    write(BENCH / "results", BENCH / "RESULTS.md")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
