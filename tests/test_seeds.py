"""The five seed documents must yield exactly the units ``expected.json`` describes.

Each seed runs through the whole pipeline (read -> clean -> split -> describe) and every field
spec of ``expected.json`` key ``files`` is checked. Seeds live in ``../shared/seeds``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from protokollsok import pipeline
from protokollsok.model import Unit

SHARED = Path(__file__).resolve().parents[2] / "shared"
SEEDS = SHARED / "seeds"


def _expected() -> dict[str, Any]:
    path = SEEDS / "expected.json"
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))["files"]


EXPECTED = _expected()
SEED_NAMES = sorted(EXPECTED) or ["(no seeds)"]


@pytest.fixture(scope="module")
def units_by_seed() -> dict[str, list[Unit]]:
    if not EXPECTED:
        pytest.skip("../shared/seeds/expected.json is absent")
    return {name: pipeline.units_of(SEEDS / name, source=name)[1] for name in EXPECTED}


def _pairs(name: str, units: dict[str, list[Unit]]) -> list[tuple[dict[str, Any], Unit]]:
    specs = EXPECTED[name]["segments"]
    got = units[name]
    assert [(u.segment.kind, u.segment.paragraf) for u in got] == [
        (s["kind"], s["paragraf"]) for s in specs
    ], f"{name}: units differ in kind/§ from expected.json"
    return list(zip(specs, got, strict=True))


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_yields_the_expected_units_in_order(name: str, units_by_seed) -> None:
    _pairs(name, units_by_seed)


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_unit_ids_name_the_source_and_position(name: str, units_by_seed) -> None:
    for spec, unit in _pairs(name, units_by_seed):
        if spec["kind"] == "paragraf":
            assert unit.id == f"{name}#§{spec['paragraf']}"
        elif spec["kind"] == "dokument":
            assert unit.id == f"{name}#dokument"
        else:
            assert unit.id.startswith(f"{name}#bilaga")


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_parties_are_exactly_the_affiliations_in_each_unit(name: str, units_by_seed) -> None:
    for spec, unit in _pairs(name, units_by_seed):
        assert list(unit.meta.parti) == sorted(spec["parti"]), unit.id


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_titles_name_the_arende(name: str, units_by_seed) -> None:
    for spec, unit in _pairs(name, units_by_seed):
        if "title_contains" in spec:
            assert spec["title_contains"].lower() in unit.segment.title.lower(), unit.id


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_text_holds_the_repaired_phrases(name: str, units_by_seed) -> None:
    for spec, unit in _pairs(name, units_by_seed):
        text = " ".join(unit.segment.text.split())
        missing = [p for p in spec.get("text_contains", []) if p not in text]
        assert not missing, f"{unit.id} lacks {missing}"


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_text_is_free_of_markup_and_mixed_script(name: str, units_by_seed) -> None:
    for spec, unit in _pairs(name, units_by_seed):
        present = [p for p in spec.get("text_excludes", []) if p in unit.segment.text]
        assert not present, f"{unit.id} still holds {present}"


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_document_facts_carry_over_to_every_unit(name: str, units_by_seed) -> None:
    document = EXPECTED[name]["document"]
    for unit in units_by_seed[name]:
        meta = unit.meta
        assert meta.namnd == document["namnd"], unit.id
        if "datum_any_of" in document:
            assert meta.datum in document["datum_any_of"], unit.id
        else:
            assert meta.datum == document["datum"], unit.id
        missing = [d for d in document["dnr_includes"] if d not in meta.dnr]
        assert not missing, f"{unit.id} lacks dnr {missing} (has {list(meta.dnr)})"


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_units_point_into_the_cleaned_text(name: str) -> None:
    if not EXPECTED:
        pytest.skip("../shared/seeds/expected.json is absent")
    doc, units = pipeline.units_of(SEEDS / name, source=name)
    for unit in units:
        seg = unit.segment
        assert doc.text[seg.start : seg.end] == seg.text
        assert seg.lines[0] == doc.text.count("\n", 0, seg.start) + 1
        assert seg.lines[0] <= seg.lines[1]


@pytest.mark.parametrize("name", SEED_NAMES)
def test_seed_units_say_whether_their_document_was_repaired_from_ocr_damage(name: str, units_by_seed) -> None:
    damaged = json.loads((SEEDS / "expected.json").read_text(encoding="utf-8"))["ocr_repair"]["damaged"]["file"]
    assert units_by_seed[name] and all(u.meta.ocr == (name == damaged) for u in units_by_seed[name])
    assert all(u.to_json()["ocr"] == u.meta.ocr for u in units_by_seed[name])
