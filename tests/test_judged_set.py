"""The judged query set (bench/judged/queries.json) and the metrics of bench/eval_search.py."""

from __future__ import annotations

import importlib.util
import json
import math
import sys
from collections import Counter
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(__file__).resolve().parents[2] / "shared"
QUERIES = REPO / "bench" / "judged" / "queries.json"
EVAL_CORPUS = REPO / "bench" / "out" / "evalcorpus"
TYPES = {"word", "inflected", "compound", "phrase", "no-diacritics", "dnr", "filter"}
FILTER_KEYS = {"namnd", "parti", "from", "to"}


def _load_eval_search():
    """Import bench/eval_search.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location("eval_search", REPO / "bench" / "eval_search.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


ev = _load_eval_search()


@pytest.fixture(scope="module")
def queries() -> list[dict]:
    return json.loads(QUERIES.read_text(encoding="utf-8"))["queries"]


# --- the judged file -------------------------------------------------------------------------


def test_the_set_holds_at_least_60_queries_of_every_type(queries):
    assert len(queries) >= 60
    assert {q["type"] for q in queries} == TYPES


def test_every_query_has_the_documented_fields(queries):
    for q in queries:
        assert {"id", "query", "type", "relevant", "note"} <= q.keys(), q.get("id")
        assert q["query"].strip(), q["id"]
        assert q["note"].strip(), q["id"]
        assert set(q.get("filters") or {}) <= FILTER_KEYS, q["id"]


def test_ids_and_query_filter_pairs_are_unique(queries):
    ids = Counter(q["id"] for q in queries)
    assert not [i for i, n in ids.items() if n > 1]
    keys = Counter(
        (q["query"], json.dumps(q.get("filters") or {}, sort_keys=True)) for q in queries
    )
    assert not [k for k, n in keys.items() if n > 1]


def test_every_query_has_judged_units_with_grade_1_or_2(queries):
    for q in queries:
        assert q["relevant"], q["id"]
        assert set(q["relevant"].values()) <= {1, 2}, q["id"]


def test_unit_ids_follow_the_product_scheme(queries):
    for q in queries:
        for uid in q["relevant"]:
            source, _, anchor = uid.partition("#")
            assert source and not source.startswith("/") and "\\" not in source, uid
            assert anchor == "dokument" or anchor.startswith(("§", "bilaga")), uid


def test_filter_queries_carry_filters_and_dates_are_iso(queries):
    for q in queries:
        filters = q.get("filters") or {}
        if q["type"] == "filter":
            assert filters, q["id"]
        for key in ("from", "to"):
            if key in filters:
                assert len(filters[key]) == 10 and filters[key][4] == "-", q["id"]


@pytest.fixture(scope="module")
def eval_corpus(tmp_path_factory) -> Path:
    """The materialised eval corpus: bench/out/evalcorpus if it is there, else made now (< 1 s)."""
    if EVAL_CORPUS.is_dir():
        return EVAL_CORPUS
    if not (SHARED / "corpora").is_dir():
        pytest.skip("../shared/corpora not available")
    sys.path.insert(0, str(REPO / "bench"))
    import evalcorpus

    out = tmp_path_factory.mktemp("evalcorpus") / "evalcorpus"
    evalcorpus.materialise(SHARED / "corpora", out)
    return out


def test_every_judged_source_exists_in_the_materialised_eval_corpus(queries, eval_corpus):
    missing = sorted(
        {uid.split("#")[0] for q in queries for uid in q["relevant"]}
        - {p.relative_to(eval_corpus).as_posix() for p in eval_corpus.rglob("*") if p.is_file()}
    )
    assert not missing, missing[:10]


def test_judged_units_exist_among_the_independently_read_units(queries):
    if not (SHARED / "corpora").is_dir():
        pytest.skip("../shared/corpora is absent")
    sys.path.insert(0, str(REPO / "bench"))
    import evalcorpus

    known = {u.id for u in evalcorpus.iter_units(SHARED / "corpora")}
    judged = {uid for q in queries for uid in q["relevant"]}
    assert not sorted(judged - known)[:10]


def test_loader_maps_filters_to_search_arguments():
    loaded = ev.load_queries(QUERIES)
    with_dates = [q for q in loaded if "from" in q.filters]
    assert with_dates
    kwargs = with_dates[0].search_kwargs()
    assert kwargs["date_from"] == with_dates[0].filters["from"]
    assert "from" not in kwargs


# --- the metrics, on hand-computed examples ----------------------------------------------------


def test_recall_counts_judged_units_found_in_the_top_k():
    relevant = {"a": 2, "b": 1, "c": 1, "d": 2}
    assert ev.recall_at_k(["a", "x", "c"], relevant) == 0.5
    assert ev.recall_at_k(["x", "y"], relevant) == 0.0
    assert ev.recall_at_k(["a", "b", "c", "d"], relevant, k=2) == 0.5


def test_dcg_uses_exponential_gain_and_log2_discount():
    # (2^2-1)/log2(2) + (2^0-1)/log2(3) + (2^1-1)/log2(4) = 3 + 0 + 0.5
    assert ev.dcg([2, 0, 1]) == pytest.approx(3.5)


def test_ndcg_is_one_for_the_ideal_ranking_and_falls_with_worse_ones():
    relevant = {"a": 2, "b": 1}
    assert ev.ndcg_at_k(["a", "b", "x"], relevant) == pytest.approx(1.0)
    # swapped: (1 + 3/log2(3)) / (3 + 1/log2(3))
    swapped = (1 + 3 / math.log2(3)) / (3 + 1 / math.log2(3))
    assert ev.ndcg_at_k(["b", "a"], relevant) == pytest.approx(swapped)
    assert ev.ndcg_at_k(["x", "y"], relevant) == 0.0


def test_ndcg_ignores_hits_beyond_k_and_unjudged_hits():
    relevant = {"a": 2}
    assert ev.ndcg_at_k(["x", "a"], relevant, k=1) == 0.0
    assert ev.ndcg_at_k(["x", "a"], relevant, k=2) == pytest.approx(1 / math.log2(3))


def test_ideal_dcg_is_cut_at_k():
    relevant = {f"u{i}": 1 for i in range(20)}
    ranked = [f"u{i}" for i in range(10)]
    assert ev.ndcg_at_k(ranked, relevant) == pytest.approx(1.0)
    assert ev.recall_at_k(ranked, relevant) == pytest.approx(0.5)


def test_summary_table_has_one_row_per_chain_and_a_column_per_type():
    queries = [
        ev.Query("q1", "a", "word", {"u1": 2}),
        ev.Query("q2", "b", "dnr", {"u2": 1}),
    ]
    run = ev.ChainRun("full", recall={"q1": 1.0, "q2": 0.0}, ndcg={"q1": 1.0, "q2": 0.0})
    table = ev.summary_table([run], queries)
    lines = table.splitlines()
    assert len(lines) == 3
    assert "word (1)" in lines[0] and "dnr (1)" in lines[0]
    assert lines[2] == "| `full` | 0.500 | 0.500 | 1.000 / 1.000 | 0.000 / 0.000 |"


def test_losses_name_queries_where_the_last_chain_falls_behind():
    queries = [ev.Query("q1", "a", "word", {"u1": 2}), ev.Query("q2", "b", "word", {"u2": 2})]
    simple = ev.ChainRun("snowball", ndcg={"q1": 0.9, "q2": 0.5})
    full = ev.ChainRun("full", ndcg={"q1": 0.4, "q2": 0.5})
    assert ev.losses([simple, full], queries) == ["- q1 `a`: `full` 0.40 < `snowball` 0.90"]
    assert ev.losses([full], queries) == []
