"""The posting writer (``protokollsok.whoosh_writer``): whoosh's format, with a term's single
posting kept in its term info and small blocks left uncompressed, written a term at a time; the
same postings and the same search results as whoosh's own writer."""

from __future__ import annotations

import pickle
import random
from pathlib import Path

import pytest
from whoosh.codec import whoosh3
from whoosh.matching import mcore

from conftest import all_postings, synthetic_unit, volume_units
from protokollsok import index, search, whoosh_fixes, whoosh_writer


def _whooshs_own_writer(monkeypatch) -> None:
    monkeypatch.setattr(whoosh3.W3PostingsWriter, "finish_postings", whoosh_writer._original_finish_postings)
    monkeypatch.setattr(whoosh3.W3PostingsWriter, "_write_block", whoosh_writer._original_write_block)
    monkeypatch.setattr(whoosh3.W3FieldWriter, "add_postings", whoosh_writer._generic_add_postings)


def _segment_files(path: Path) -> dict[str, bytes]:
    """The files of an index's one non-compound segment by extension (segment names are random)."""
    out: dict[str, bytes] = {}
    for p in path.iterdir():
        if p.name.startswith("g") and "." in p.name and p.suffix != ".arrays":
            kind = p.name.split(".", 1)[1]  # trm, pst, _text_stem_len.col, ...
            assert kind not in out, "one segment expected"
            out[kind] = p.read_bytes()
    return out


def _units() -> list:
    """Real units, then made-up ones whose words occur in exactly 1, 2, 127, 128, 129 and 256
    units (a block holds 128 postings), with repeated words (weights above 1)."""
    units = volume_units(400)
    rng = random.Random(3)
    counts = {"ettord": 1, "tvaord": 2, "blockminus": 127, "blockjust": 128, "blockplus": 129, "tvablock": 256}
    for k in range(300):
        words = [w for w, n in counts.items() if k < n]
        words += rng.choices(["skolan", "och", "budget"], k=rng.randint(1, 6)) * rng.randint(1, 3)
        units.append(synthetic_unit(k, " ".join(words), "2024-01-01"))
    return units


@pytest.fixture(scope="module")
def units() -> list:
    return _units()


def _build(path: Path, units: list, monkeypatch) -> Path:
    """``units`` indexed into ``path`` as one segment of separate files."""
    monkeypatch.setattr(index, "_writer", lambda ix, parallel: ix.writer(limitmb=64, compound=False))
    index.index_units(path, units)
    return path


@pytest.mark.parametrize("lengths", ["column read whole", "asked document by document"])
def test_a_term_at_a_time_writes_the_bytes_of_whooshs_posting_by_posting_loop(tmp_path, units, monkeypatch, lengths) -> None:
    if lengths == "asked document by document":  # a lengths reader other than whoosh 2.7.5's own
        monkeypatch.setattr(whoosh_writer, "_lengths_of", lambda reader, field: whoosh_fixes._NOT_BYTES)
    fused = _segment_files(_build(tmp_path / "fused", units, monkeypatch))
    monkeypatch.setattr(whoosh3.W3FieldWriter, "add_postings", whoosh_writer._generic_add_postings)
    # whoosh's term info pickles an inlined posting with protocol 2; ours with PICKLE_PROTOCOL
    monkeypatch.setattr(whoosh3, "dumps", lambda obj, protocol=2: pickle.dumps(obj, whoosh_writer.PICKLE_PROTOCOL))
    looped = _segment_files(_build(tmp_path / "looped", units, monkeypatch))
    assert {"trm", "pst", "_text_stem_len.col"} <= set(fused)
    assert fused == looped


def test_the_postings_are_whooshs_with_single_postings_inlined_and_a_smaller_file(tmp_path, units, monkeypatch) -> None:
    ours = _build(tmp_path / "ours", units, monkeypatch)
    _whooshs_own_writer(monkeypatch)
    theirs = _build(tmp_path / "whoosh", units, monkeypatch)
    assert all_postings(ours) == all_postings(theirs)
    ours_pst, theirs_pst = _segment_files(ours)["pst"], _segment_files(theirs)["pst"]
    assert len(ours_pst) < 0.8 * len(theirs_pst)


def test_a_single_posting_is_read_from_the_term_info(tmp_path, units) -> None:
    path = tmp_path / "i"
    index.index_units(path, units)
    ix, _ = index.open_index(path)
    with ix.reader() as reader:
        assert reader.doc_frequency("text_exact", "ettord") == 1
        assert type(reader.postings("text_exact", "ettord")) is mcore.ListMatcher
        assert type(reader.postings("text_exact", "tvaord")) is whoosh3.W3LeafMatcher


def test_searches_give_the_same_hits_and_scores_as_with_whooshs_writer(tmp_path, units, monkeypatch) -> None:
    queries = ["ettord", "ettord skolan", "tvaord", "blockplus budget", "tvablock", '"skolan och"',
               "skolan", "kommunen", "regeringen", "barn OR ettord", "ettord -skolan", "block*"]
    index.index_units(tmp_path / "ours", units)
    _whooshs_own_writer(monkeypatch)
    index.index_units(tmp_path / "whoosh", units)
    for q in queries:
        for sort in ("relevance", "date"):
            a = search.search(tmp_path / "ours", q, limit=20, sort=sort)
            b = search.search(tmp_path / "whoosh", q, limit=20, sort=sort)
            assert [(h.id, h.score) for h in a.hits] == [(h.id, h.score) for h in b.hits], (q, sort)
            assert a.total == b.total, q
