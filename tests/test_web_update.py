"""An update's export takes the last export's entries of the terms that neither a changed segment
nor a deleted unit holds (``webupdate.reuse``) and reads only the others: whatever changed in the
index, the bundle it writes (``state.json`` included) is byte for byte the one an export reading
every term writes over the same last bundle."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import pytest

from conftest import blocks_by_file, data_of, positions_counts, positions_refs, volume_units
from protokollsok import index, toplists, web
from protokollsok.index import index_units


@pytest.fixture(scope="module")
def units() -> list:
    return volume_units(560)


@pytest.fixture(autouse=True)
def small_long_terms(monkeypatch):
    """Many terms with long postings (files of their own, a recent part after an update), and
    listed top hits of the words whose postings are longest."""
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 160)
    monkeypatch.setattr(toplists, "MIN_WEIGHT_CHARS", 500)


def _tree(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _exported_both_ways(ix: Path, last: Path, tmp_path: Path, monkeypatch, workers: int = 1) -> tuple[dict, dict]:
    """The export of ``ix`` over copies of the bundle ``last``: reusing entries, then reading every
    term; asserts that both write the same files, returns both reports."""
    reusing, reading = tmp_path / "reusing", tmp_path / "reading"
    for folder in (reusing, reading):
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(last, folder)
    reused = web.export_bundle(ix, reusing, workers=workers)
    monkeypatch.setattr(web, "REUSE", False)
    full = web.export_bundle(ix, reading, workers=workers)
    monkeypatch.setattr(web, "REUSE", True)
    assert _tree(reusing) == _tree(reading)
    same = ("written", "removed", "units", "terms")  # (the full export counts a file two terms share twice as kept)
    assert {k: reused[k] for k in same} == {k: full[k] for k in same}
    assert full["reused"] == 0
    shutil.rmtree(last)
    shutil.copytree(reusing, last)
    return reused, full


def _first(tmp_path: Path, units: list) -> tuple[Path, Path]:
    """An index of the first 500 units, written by two processes (two segments), and its bundle."""
    ix, out = tmp_path / "ix", tmp_path / "last"
    index_units(ix, units[:500], parallel=True)
    web.export_bundle(ix, out)
    return ix, out


def _entries_in(bundle: Path) -> int:
    """How many terms' entries the bundle's term and pair shards hold."""
    root = data_of(bundle / "data" / "root.js")
    h = root["shardHash"]
    shards = [data_of(bundle / "data" / folder / f"{b}-{root['shards'][b * h:(b + 1) * h]}.js")
              for b in range(root["buckets"]) for folder in ("t", "q")]
    return sum(len(shard.get("t", {})) for shard in shards)


def _changed(unit, text: str):
    return dataclasses.replace(unit, segment=dataclasses.replace(unit.segment, text=text))


def test_new_units_in_a_new_segment_leave_every_other_terms_entry_to_be_taken(tmp_path, units, monkeypatch):
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:520], full=False)
    reused, full = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["units"] == 520
    assert 0.5 * full["terms"] < reused["reused"] < full["terms"]


def test_updates_one_after_another_take_entries_each_time_and_merged_segments_are_read_again(tmp_path, units, monkeypatch):
    ix, last = _first(tmp_path, units)
    for lo, hi in ((500, 510), (510, 520), (520, 530)):
        index_units(ix, units[lo:hi], full=False)
        reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch, workers=2)
        assert reused["reused"] > 0
    whoosh_ix, _ = index.open_index(ix)
    whoosh_ix.optimize()  # one segment: every term is read again
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] == 0


def test_an_unchanged_index_is_exported_again_from_the_last_entries_alone(tmp_path, units, monkeypatch):
    """Without a search for the listed words' top hits either."""
    ix, last = _first(tmp_path, units)
    assert data_of(last / "data" / "root.js")["lists"]["files"] > 1
    searched = []
    monkeypatch.setattr(toplists, "top_hits", _recording(toplists.top_hits, searched))
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert searched == [False]  # by the export reading everything only
    assert reused["reused"] == _entries_in(last) > 1000
    assert reused["written"] == 0


def test_a_changed_unit_makes_the_terms_of_its_old_and_new_version_read_again(tmp_path, units, monkeypatch):
    ix, last = _first(tmp_path, units)
    index_units(ix, [_changed(units[3], units[3].segment.text + " trängselskatt vattenskoter")], full=False)
    reused, full = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert 0.5 * full["terms"] < reused["reused"] < full["terms"]


def test_a_removed_unit_makes_the_terms_it_held_read_again(tmp_path, units, monkeypatch):
    ix, last = _first(tmp_path, units)
    _delete(ix, units[7].segment.id)
    reused, full = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert 0.5 * full["terms"] < reused["reused"] < full["terms"]


def test_units_changed_and_removed_in_updates_one_after_another(tmp_path, units, monkeypatch):
    """Older units (below the cut) and the last update's new unit (past it) changed."""
    ix, last = _first(tmp_path, units)
    for step in range(3):
        recent = [_changed(units[499 + step], "Ärendet bordläggs.")] if step else []
        index_units(ix, [_changed(units[10 + step], "Ärendet utgår."), *recent, units[500 + step]], full=False)
        _delete(ix, units[300 + step].segment.id)
        reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch, workers=2)
        assert reused["reused"] > 0


def test_the_terms_of_a_deleted_unit_are_read_once_and_then_taken_from_the_record(tmp_path, units, monkeypatch):
    """The next export reads only the terms of units deleted since; the record carries the others,
    with the segments where no live unit holds them (``web._write_vocab``)."""
    ix, last = _first(tmp_path, units)
    index_units(ix, [_changed(units[3], "Ärendet utgår.")], full=False)
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    [deleted] = json.loads((last / "data" / "state.json").read_text(encoding="utf-8"))["reuse"]["deleted"].values()
    assert deleted["docs"] and len(deleted["terms"]) > 20 and deleted["ghosts"]
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] == _entries_in(last) and reused["written"] == 0
    index_units(ix, units[500:505], full=False)
    _exported_both_ways(ix, last, tmp_path, monkeypatch)


def test_a_segment_merged_away_with_all_its_units_has_its_terms_read_and_the_others_taken(tmp_path, units, monkeypatch):
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:505], full=False)
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    _merge_segment(ix, 2)  # the last one: its units keep their place in whoosh's order
    reused, full = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert 0.5 * full["terms"] < reused["reused"] < full["terms"]


def test_a_segment_merged_away_with_a_unit_removed_makes_every_term_read_again(tmp_path, units, monkeypatch):
    """The terms only the removed unit held went with the merge (and its postings with their
    document frequencies): no segment tells which they were."""
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:505], full=False)
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    _delete(ix, units[502].segment.id)
    _merge_segment(ix, 2)  # the last one: its other units keep their place in whoosh's order
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] == 0


def test_a_segment_merged_away_that_had_deleted_units_makes_every_term_read_again(tmp_path, units, monkeypatch):
    """Its deleted units' terms counted in their document frequencies until the merge."""
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:501], full=False)
    index_units(ix, [_changed(units[500], "Ärendet utgår.")], full=False)  # the third segment's one unit deleted
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    _merge_segment(ix, 2)
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] == 0


def _delete(ix: Path, unit_id: str) -> None:
    whoosh_ix, _ = index.open_index(ix)
    writer = whoosh_ix.writer()
    writer.delete_by_term("id", unit_id)
    writer.commit()


def _merge_segment(ix: Path, place: int) -> None:
    """The index's ``place``-th segment written again (without its deleted documents), the others as they are."""
    from whoosh.reading import SegmentReader

    def merge_one(writer, segments):
        reader = SegmentReader(writer.storage, writer.schema, segments[place])
        writer.add_reader(reader)
        reader.close()
        return segments[:place] + segments[place + 1 :]

    whoosh_ix, _ = index.open_index(ix)
    whoosh_ix.writer().commit(mergetype=merge_one)


@pytest.mark.parametrize(("folder", "damage"), [("t", "gone"), ("t", "garbled"), ("q", "gone")])
def test_a_bundle_whose_shards_are_not_those_of_its_state_is_read_anew(tmp_path, units, monkeypatch, folder, damage):
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:510], full=False)
    shard = next((last / "data" / folder).iterdir())
    if damage == "gone":
        shard.unlink()
    else:
        shard.write_text(f'{web.CALLBACK}("{folder}/{shard.stem}",[1,2]);\n', encoding="utf-8")
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] == 0


def test_a_long_terms_file_gone_from_the_bundle_is_written_again(tmp_path, units, monkeypatch):
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:510], full=False)
    gone = sorted((last / "data" / "p").iterdir())[0]
    gone.unlink()
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] > 0
    assert gone.exists()


def test_a_segment_with_deleted_units_is_read_again_at_every_update(tmp_path, units, monkeypatch):
    """Its terms that only deleted units hold are named in the vocabulary shards (``_write_vocab``)."""
    ix, last = _first(tmp_path, units)
    index_units(ix, [_changed(units[3], "Ärendet utgår.")], full=False)
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    index_units(ix, units[500:505], full=False)
    reused, _ = _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert reused["reused"] > 0


def test_a_units_file_gone_from_the_bundle_is_written_again(tmp_path, units, monkeypatch):
    """An unchanged unit's file is kept as the last export wrote it, without making it again;
    one that is not there is made again."""
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:505], full=False)
    gone = sorted((last / "data" / "u").iterdir())[10]
    gone.unlink()
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert gone.exists()


def _recording(fn, calls: list):
    def wrapper(*args, **kwargs):
        calls.append(web.REUSE)
        return fn(*args, **kwargs)
    return wrapper


def test_an_update_searches_the_listed_words_again(tmp_path, units, monkeypatch):
    """Their scores change with the index."""
    ix, last = _first(tmp_path, units)
    index_units(ix, units[500:505], full=False)
    searched = []
    monkeypatch.setattr(toplists, "top_hits", _recording(toplists.top_hits, searched))
    _exported_both_ways(ix, last, tmp_path, monkeypatch)
    assert searched == [True, False]


def test_an_export_leaves_no_blocks_of_another_size_and_an_update_keeps_those_of_files_it_keeps(tmp_path, units, monkeypatch):
    """Blocks of positions go with their file: an export that writes them anew leaves none of an
    older export's size beside them (their file, named by its content, stays); an update that
    keeps a file unread keeps its blocks."""
    monkeypatch.setattr(web, "POSITION_BLOCKS_FROM", 40)
    monkeypatch.setattr(web, "POSITION_BLOCK", 3)
    ix, out = _first(tmp_path, units)
    monkeypatch.setattr(web, "POSITION_BLOCK", 4)
    web.export_bundle(ix, out)
    blocks = blocks_by_file(out)
    assert blocks and all(end - first == 4 for spans in blocks.values() for first, end in spans)
    index_units(ix, units[500:510], full=False)
    assert web.export_bundle(ix, out)["reused"] > 0
    counts = positions_counts(out)
    sizes = {ref: len(counts[ref]) for ref, f in positions_refs(out).items() if f == "stem"}
    assert {ref: sorted(spans) for ref, spans in blocks_by_file(out).items()} == {
        ref: [(k, k + 4) for k in range(0, n, 4)] for ref, n in sizes.items() if n >= 40}
