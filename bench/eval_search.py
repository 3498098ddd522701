"""Search quality on the judged query set: recall@10 and nDCG@10 per analysis chain.

For each chain in ``protokollsok.analysis.CHAINS`` the eval corpus (``bench/evalcorpus.py``) is
indexed into ``bench/out/idx-<chain>/`` and every query of ``bench/judged/queries.json`` is run
through ``protokollsok.search.search`` with its filters. The judgments were made by reading units
pooled with regular expressions, not by running the product (see the file's ``about``).

Metrics (both at k = 10, averaged over queries):

* recall@10: judged relevant units (grade >= 1) among the top 10, divided by the number of judged
  relevant units (so a query with 30 relevant units can reach at most 1/3);
* nDCG@10: DCG with gain ``2**grade - 1`` and discount ``log2(rank + 1)``, divided by the DCG of
  the ideal ranking of the judged units.

Judged ids that the index does not contain are listed per query (a mismatch between the judged
ids and the product's segmenter, to be fixed) instead of silently scoring zero.

Run ``python bench/eval_search.py [--chains all|name,...] [--corpus bench/out/evalcorpus]``; it
prints the table and writes it to ``bench/results/search_quality.md``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import sys
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
QUERIES = BENCH / "judged" / "queries.json"
RESULTS = BENCH / "results" / "search_quality.md"
OUT = BENCH / "out"
K = 10
TYPES = ("word", "inflected", "compound", "phrase", "no-diacritics", "dnr", "filter")
FILTER_ARGS = {"namnd": "namnd", "parti": "parti", "from": "date_from", "to": "date_to"}


# --- metrics ---------------------------------------------------------------------------------


def recall_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = K) -> float:
    """Share of the relevant units (grade >= 1) found among the first ``k`` of ``ranked``."""
    wanted = {uid for uid, grade in relevant.items() if grade > 0}
    if not wanted:
        return 0.0
    return len(wanted.intersection(ranked[:k])) / len(wanted)


def dcg(grades: Iterable[int]) -> float:
    """Discounted cumulative gain of grades in rank order (gain 2^g - 1, discount log2(rank+1))."""
    return sum((2**g - 1) / math.log2(rank + 1) for rank, g in enumerate(grades, start=1))


def ndcg_at_k(ranked: Sequence[str], relevant: Mapping[str, int], k: int = K) -> float:
    """DCG of the first ``k`` of ``ranked`` divided by the DCG of the ideal ranking."""
    ideal = dcg(sorted(relevant.values(), reverse=True)[:k])
    if ideal == 0:
        return 0.0
    return dcg(relevant.get(uid, 0) for uid in ranked[:k]) / ideal


# --- the judged set --------------------------------------------------------------------------


@dataclass(frozen=True)
class Query:
    """One judged query: text, type, optional filters and graded relevant unit ids."""

    id: str
    query: str
    type: str
    relevant: dict[str, int]
    filters: dict[str, str] = field(default_factory=dict)
    note: str = ""

    def search_kwargs(self) -> dict[str, str]:
        """The filters as keyword arguments of ``protokollsok.search.search``."""
        return {FILTER_ARGS[k]: v for k, v in self.filters.items()}


def load_queries(path: Path = QUERIES) -> list[Query]:
    """The judged queries stored in ``path``."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return [
        Query(
            q["id"],
            q["query"],
            q["type"],
            dict(q["relevant"]),
            dict(q.get("filters") or {}),
            q.get("note", ""),
        )
        for q in data["queries"]
    ]


# --- running a chain -------------------------------------------------------------------------


@dataclass
class ChainRun:
    """What one chain scored: per query metrics, missing judged ids, and the build time."""

    chain: str
    recall: dict[str, float] = field(default_factory=dict)
    ndcg: dict[str, float] = field(default_factory=dict)
    missing: dict[str, list[str]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    index_seconds: float = 0.0
    units: int = 0
    reused: bool = False


def indexed_ids(index_dir: Path) -> set[str]:
    """Every unit id held by the index in ``index_dir``."""
    from protokollsok.index import open_index

    ix, _ = open_index(index_dir)
    with ix.searcher() as s:
        return {t for t in s.reader().field_terms("id") if "#" in t}


def build(corpus: Path, chain: str) -> tuple[Path, float]:
    """Index the eval corpus with ``chain`` into ``bench/out/idx-<chain>``; return dir and seconds."""
    from protokollsok.index import build_index

    index_dir = OUT / f"idx-{chain}"
    started = time.monotonic()
    report = build_index([corpus], index_dir, full=True, chain=chain)
    for path, reason in report.failed:
        print(f"  [{chain}] failed: {path}: {reason}", file=sys.stderr)
    seconds = time.monotonic() - started
    (OUT / f"idx-{chain}.seconds").write_text(f"{seconds:.1f}\n", encoding="utf-8")
    return index_dir, seconds


def last_build_seconds(chain: str) -> float | None:
    """How long the last ``build`` of ``chain`` took, if this script recorded it."""
    try:
        return float((OUT / f"idx-{chain}.seconds").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def run_chain(corpus: Path, chain: str, queries: Sequence[Query], reuse: bool = False) -> ChainRun:
    """Build the chain's index (unless ``reuse``) and score every query against it."""
    from protokollsok.search import search

    run = ChainRun(chain, reused=reuse)
    index_dir = OUT / f"idx-{chain}"
    if reuse:
        run.index_seconds = last_build_seconds(chain) or 0.0
    else:
        index_dir, run.index_seconds = build(corpus, chain)
    ids = indexed_ids(index_dir)
    run.units = len(ids)
    for q in queries:
        run.missing[q.id] = sorted(uid for uid in q.relevant if uid not in ids)
        try:
            result = search(
                index_dir, q.query, limit=K, facets=False, suggest=False, **q.search_kwargs()
            )
            ranked = [hit.id for hit in result.hits]
        except Exception as exc:  # a failing query scores zero and is reported, never hidden
            run.errors[q.id] = f"{type(exc).__name__}: {exc}"
            ranked = []
        run.recall[q.id] = recall_at_k(ranked, q.relevant)
        run.ndcg[q.id] = ndcg_at_k(ranked, q.relevant)
    return run


# --- the report ------------------------------------------------------------------------------


def mean(values: Iterable[float]) -> float:
    """Arithmetic mean (0 for no values)."""
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


def summary_table(runs: Sequence[ChainRun], queries: Sequence[Query]) -> str:
    """Markdown table: one row per chain, nDCG@10 and recall@10 overall and per query type."""
    types = [t for t in TYPES if any(q.type == t for q in queries)]
    counts = {t: sum(q.type == t for q in queries) for t in types}
    head = ["chain", "nDCG@10", "recall@10", *(f"{t} ({counts[t]})" for t in types)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for run in runs:
        cells = [
            f"`{run.chain}`",
            f"{mean(run.ndcg.values()):.3f}",
            f"{mean(run.recall.values()):.3f}",
        ]
        for t in types:
            ids = [q.id for q in queries if q.type == t]
            cells.append(
                f"{mean(run.ndcg[i] for i in ids):.3f} / {mean(run.recall[i] for i in ids):.3f}"
            )
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def per_query_table(runs: Sequence[ChainRun], queries: Sequence[Query]) -> str:
    """Markdown table of nDCG@10 per query and chain."""
    head = ["id", "type", "query", "filters", "judged", *(f"`{r.chain}`" for r in runs)]
    rows = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for q in queries:
        filters = ", ".join(f"{k}={v}" for k, v in q.filters.items())
        cells = [q.id, q.type, f"`{q.query}`", filters, str(len(q.relevant))]
        cells += [f"{r.ndcg[q.id]:.2f}" for r in runs]
        rows.append("| " + " | ".join(cells) + " |")
    return "\n".join(rows)


def losses(runs: Sequence[ChainRun], queries: Sequence[Query]) -> list[str]:
    """Lines naming the queries where the last chain scores below the best of the other chains."""
    if len(runs) < 2:
        return []
    last, others = runs[-1], runs[:-1]
    lines = []
    for q in queries:
        best = max(others, key=lambda r: r.ndcg[q.id])
        if best.ndcg[q.id] > last.ndcg[q.id] + 0.005:
            lines.append(
                f"- {q.id} `{q.query}`: `{last.chain}` {last.ndcg[q.id]:.2f}"
                f" < `{best.chain}` {best.ndcg[q.id]:.2f}"
            )
    return lines


def problems(runs: Sequence[ChainRun]) -> list[str]:
    """Lines naming judged ids absent from an index and queries that raised."""
    lines = []
    for run in runs:
        for qid, missing in run.missing.items():
            if missing:
                shown = ", ".join(missing[:5]) + (" …" if len(missing) > 5 else "")
                lines.append(
                    f"- `{run.chain}` {qid}: {len(missing)} judged id(s) not in the index: {shown}"
                )
        for qid, err in run.errors.items():
            lines.append(f"- `{run.chain}` {qid}: query failed: {err}")
    return lines


def machine() -> str:
    """One line describing the machine the benchmark ran on."""
    return f"{platform.machine()}, {os.cpu_count()} cores, {platform.system()} {platform.release()}, Python {platform.python_version()}"


def report(runs: Sequence[ChainRun], queries: Sequence[Query], command: str) -> str:
    """The whole markdown report."""
    n_rel = sum(len(q.relevant) for q in queries)
    build_lines = [
        f"- `{r.chain}`: {r.units} units indexed in {r.index_seconds:.0f} s"
        + (" (by an earlier run; index reused)" if r.reused else "")
        for r in runs
    ]
    trouble = problems(runs)
    return "\n".join(
        [
            "# Search quality on the judged query set",
            "",
            f"- date: {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
            f"- machine: {machine()}",
            f"- command: `{command}`",
            f"- judged set: `bench/judged/queries.json`, {len(queries)} queries, {n_rel} judged relevant units",
            "- metrics at k = 10, mean over queries; per type: nDCG@10 / recall@10 (number of queries)",
            "- nDCG@10: gain 2^grade - 1, discount log2(rank + 1), normalised by the ideal ranking of the"
            " judged units; recall@10: judged units in the top 10 / all judged units (a query with more"
            " than 10 judged units cannot reach 1)",
            "- chains (`protokollsok.analysis.CHAINS`): each row adds one step to the row above it;"
            " `full` also indexes the exact lower-cased word",
            "",
            summary_table(runs, queries),
            "",
            "## Index builds",
            "",
            *build_lines,
            "",
            f"## Queries where `{runs[-1].chain}` scores below a simpler chain (nDCG@10)",
            "",
            *(losses(runs, queries) or ["- none"]),
            "",
            "## Mismatches and failures",
            "",
            *(trouble or ["- none: every judged id is in every index and every query ran"]),
            "",
            "## nDCG@10 per query",
            "",
            per_query_table(runs, queries),
            "",
        ]
    )


def parse_chains(spec: str) -> list[str]:
    """``all`` or a comma-separated list of chain names, checked against ``CHAINS``."""
    from protokollsok.analysis import CHAINS

    if spec == "all":
        return list(CHAINS)
    names = [s.strip() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in CHAINS]
    if unknown:
        raise SystemExit(
            f"Error: unknown chain(s) {', '.join(unknown)} — choose from {', '.join(CHAINS)}"
        )
    return names


def main(argv: list[str] | None = None) -> int:
    """CLI: index the eval corpus per chain, score the judged queries, write the report."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chains", default="all", help="all, or chain names separated by commas")
    ap.add_argument(
        "--corpus", type=Path, default=OUT / "evalcorpus", help="the eval corpus folder"
    )
    ap.add_argument("--queries", type=Path, default=QUERIES, help="the judged query file")
    ap.add_argument("--reuse", action="store_true", help="score existing indexes, do not rebuild")
    ap.add_argument("--out", type=Path, default=RESULTS, help="where to write the markdown report")
    args = ap.parse_args(argv)
    if not args.corpus.is_dir():
        sys.path.insert(0, str(BENCH))
        import evalcorpus

        evalcorpus.materialise(out=args.corpus)
    queries = load_queries(args.queries)
    runs = []
    for name in parse_chains(args.chains):
        print(
            f"{name}: {'searching' if args.reuse else 'indexing and searching'} …", file=sys.stderr
        )
        runs.append(run_chain(args.corpus, name, queries, reuse=args.reuse))
    command = "python bench/eval_search.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = report(runs, queries, command.strip())
    print(summary_table(runs, queries))
    for line in problems(runs):
        print(line, file=sys.stderr)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    print(f"written to {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
