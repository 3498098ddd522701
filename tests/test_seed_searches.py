"""The `searches` of ../shared/seeds/expected.json hold against an index of the seed files in corpus/."""

from __future__ import annotations

import pytest

from protokollsok.search import search


def _key(hit) -> tuple[str, str, int | None]:
    return (hit.source, hit.kind, hit.paragraf)


def _keys(spec: list) -> list[tuple[str, str, int | None]]:
    return [tuple(x) for x in spec]


def _run(index_dir, case: dict):
    f = case.get("filters", {})
    return search(
        index_dir,
        case["query"],
        limit=100,
        namnd=f.get("namnd"),
        parti=f.get("parti"),
        dnr=f.get("dnr"),
        date_from=f.get("from"),
        date_to=f.get("to"),
    )


def _cases():
    import json

    from conftest import SHARED

    path = SHARED / "seeds" / "expected.json"
    if not path.exists():
        return []
    cases = json.loads(path.read_text(encoding="utf-8"))["searches"]
    return [pytest.param(c, id=f"{c['query']} {c.get('filters', '')}".strip()) for c in cases]


@pytest.mark.parametrize("case", _cases())
def test_seed_search(seed_index, case):
    result = _run(seed_index, case)
    got = [_key(h) for h in result.hits]
    assert result.total == len(result.hits)  # limit 100 holds all of them on this small corpus
    if "top1" in case:
        assert got[:1] == [tuple(case["top1"])]
    if "top3_set" in case:
        assert set(got[:3]) == set(_keys(case["top3_set"]))
    if "hits_include" in case:
        assert set(_keys(case["hits_include"])) <= set(got)
    if "hits_exclude" in case:
        assert not set(_keys(case["hits_exclude"])) & set(got)
    if "hits_exactly" in case:
        assert sorted(got, key=str) == sorted(_keys(case["hits_exactly"]), key=str)


def test_every_seed_search_is_checked(expected):
    known = {"query", "filters", "top1", "top3_set", "hits_include", "hits_exclude", "hits_exactly"}
    for case in expected["searches"]:
        assert set(case) <= known, f"unchecked expectation in {case}"
