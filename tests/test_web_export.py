"""The web export: a self-contained, content-hashed bundle; re-exports rewrite only what changed;
the local server serves the bundle and the search API and nothing else."""

from __future__ import annotations

import gc
import hashlib
import json
import os
import re
import shutil
import threading
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from whoosh.util.numeric import length_to_byte

from conftest import data_of, entry_parts, positions_counts, positions_refs, shard_files
from protokollsok import analysis, index, search, web
from protokollsok.errors import ProtokollsokError
from protokollsok.index import build_index, index_units
from protokollsok.model import Metadata, Segment, Unit

HOSTILE = 'Beslut om <b>budget</b>. <script>window.__xss = 1</script> <img src=x onerror="window.__xss = 2"> hemtjänst'


def hostile_unit() -> Unit:
    """A unit whose text carries markup that must never be run by the page."""
    seg = Segment("hostile.txt#§1", "hostile.txt", "paragraf", 1, "Test <i>rubrik</i>", HOSTILE, 0, len(HOSTILE), (1, 1))
    return Unit(seg, Metadata(dnr=("KS 2024/1",), namnd="Testnämnden", datum="2024-05-02", parti=("S",)))


@pytest.fixture(scope="module")
def bundle(seed_index, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("bundle")
    web.export_bundle(seed_index, out)
    return out


def test_bundle_holds_a_page_one_script_one_stylesheet_and_the_stemmer(bundle):
    for name in ("index.html", "protokollsok.js", "style.css", "snowball-sv.js", "data/root.js"):
        assert (bundle / name).is_file(), name
    html = (bundle / "index.html").read_text(encoding="utf-8")
    assert '<script src="protokollsok.js"' in html and 'id="protokollsok"' in html


def _body(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    return text[text.index(",") + 1 : text.rindex(")")]


def test_data_files_are_named_by_a_hash_of_their_content(bundle):
    files = [p for sub in ("v", "f") for p in (bundle / "data" / sub).iterdir()]
    assert files and any(p.parent.name == "v" for p in files)
    for p in files:
        digest = p.stem.rsplit("-", 1)[-1]
        assert hashlib.sha256(_body(p).encode("utf-8")).hexdigest().startswith(digest), p.name


def test_a_buckets_term_and_pair_shards_are_named_by_a_hash_of_both(bundle):
    """A word's entry is in its bucket's term shard, a word pair's in its pair shard (the page
    looks a term of more than one word up there); one hash of the two names both."""
    terms = list((bundle / "data" / "t").iterdir())
    assert terms and {p.name for p in terms} == {p.name for p in (bundle / "data" / "q").iterdir()}
    pairs = 0
    for p in terms:
        q = bundle / "data" / "q" / p.name
        digest = p.stem.rsplit("-", 1)[-1]
        assert hashlib.sha256(f"{_body(p)}\n{_body(q)}".encode()).hexdigest().startswith(digest), p.name
        assert not any(" " in term for term in data_of(p).get("t", {}))
        assert set(data_of(q)) <= {"t"} and all(" " in term for term in data_of(q).get("t", {}))
        pairs += len(data_of(q).get("t", {}))
    assert pairs > 100


def test_root_names_every_shard_and_the_statistics_whoosh_scores_with(bundle, seed_index):
    root = data_of(bundle / "data" / "root.js")
    width = root["shardHash"]
    assert len(root["shards"]) == root["buckets"] * width
    for b in range(root["buckets"]):
        for folder in ("t", "q"):
            assert (bundle / "data" / folder / f"{b}-{root['shards'][b * width : (b + 1) * width]}.js").is_file()
    stats = search.stats(seed_index)
    assert root["units"] == stats["units"]
    assert root["N"] >= root["units"]  # whoosh counts the bookkeeping documents too
    assert {"exact", "stem", "title"} <= set(root["avgfl"])


def test_a_unit_file_carries_the_fields_of_search_json(bundle, seed_index):
    hit = search.search(seed_index, "vittnen").hits[0]
    root = data_of(bundle / "data" / "root.js")
    units = [data_of(p) for p in (bundle / "data" / "u").iterdir()]
    unit = next(u for u in units if u["id"] == hit.id)
    for key in ("kind", "paragraf", "title", "namnd", "datum", "source"):
        assert unit[key] == getattr(hit, key), key
    assert unit["dnr"] == list(hit.dnr) and unit["parti"] == list(hit.parti)
    assert len(units) == root["units"]


def test_the_fold_field_refers_to_the_stem_fields_units_where_they_are_alike():
    stem = [5, [3, 4], [1, 2], [40, 51], [[1], [2, 5]]]
    alike = web._share_lists({"stem": stem, "fold": [6, [3, 4], [1, 2], [38, 51]]})
    assert alike["stem"] is stem and alike["fold"] == [6, "stem", [-2, 0]]
    other = {"stem": stem, "fold": [6, [3, 5], [1, 2], [38, 51]]}
    assert web._share_lists(other) == other  # other units: written whole
    weights = {"stem": stem, "fold": [6, [3, 4], [1, 1], [38, 51]]}
    assert web._share_lists(weights) == weights


def test_a_terms_scored_fields_give_their_units_as_places_in_the_union_of_them():
    stem = [3, [2, 3, 5], 0, [10, 12, 9], [[1], [2], [3]]]  # units 2, 5, 10
    exact = [2, [2, 8], [1, 2], [11, 9]]  # units 2, 10
    title = [1, [7], 0, [4]]  # unit 7
    dnr = [1, [4], 0, [1]]  # not a scored field: as it was
    posts = {"stem": stem, "exact": exact, "title": title, "dnr": dnr}
    packed = web._share_units(posts)
    assert packed["*"] == [[2, 3, 2, 3], ["exact"]]  # units 2, 5, 7, 10; exact relative to stem
    assert web.unpack_places(packed["stem"][1]) == [0, 1, 3] and packed["stem"][2:] == [0, [10, 12, 9], [[1], [2], [3]]]
    assert web.unpack_places(packed["exact"][1]) == [0, 3]
    assert packed["exact"][2:] == [[0, 1], [1, 0]]  # its weights and bytes less the stem field's
    assert web.unpack_places(packed["title"][1]) == [2] and packed["title"][2:] == [0, [4]] and packed["dnr"] == dnr
    union_fields = list(web.UNION_FIELDS)
    for f, p in posts.items():
        assert _decoded(packed, f, union_fields) == (_nums(p[1]), p[2], p[3])
    assert web._share_units({"stem": stem, "dnr": dnr}) == {"stem": stem, "dnr": dnr}  # one field: no union
    every = web._share_units({"stem": stem, "fold": [3, [2, 3, 5], 0, [10, 12, 9]]})
    assert every["fold"][1] == 0 and every["stem"][1] == 0  # all of the union
    assert every["fold"][2:] == [0, [0, 0, 0]]  # the stem field's weights and lengths
    floats = web._share_units({"stem": stem, "exact": [1, [2], [0.5], [11]]})
    assert floats["*"][1] == [] and floats["exact"][2:] == [[0.5], [11]]  # weights not whole: as they are


def test_a_packed_list_gives_back_its_numbers_and_other_values_stay_as_they_are():
    numbers = [0, 1, web.PACK_LAST - 1, web.PACK_LAST, 9_999, 163_577, 10**12]
    for xs in (numbers, [-1, 0, 1, -300, 255], [], [7]):
        packed = web._pack_ints(xs)
        assert isinstance(packed, str) and web.unpack_ints(packed) == xs
        assert json.loads(json.dumps(packed)) == packed and "\\" not in packed and '"' not in packed
    assert len(web._pack_ints(list(range(web.PACK_LAST)))) == 1 + web.PACK_LAST  # one character each
    assert web._pack_ints([-1])[0] == web.PACKED_SIGNED and web._pack_ints([1])[0] == web.PACKED
    for kept in (0, "stem", [1, 0.5], [2.0]):
        assert web._pack_ints(kept) == kept and web.unpack_ints(kept) == kept


def test_positions_are_packed_without_their_counts_which_are_the_units_tfs():
    lists = [[3], [1, 200, 7], [10**6], [0, 0]]
    packed = web._pack_positions(lists, [1, 3, 1, 2])
    assert web.unpack_ints(packed) == [3, 1, 200, 7, 10**6, 0, 0]  # the deltas alone
    assert web.unpack_positions(packed, [1, 3, 1, 2], 4) == lists
    assert web.unpack_positions(web._pack_positions([[4], [9]], 0), 0, 2) == [[4], [9]]  # tfs 0: one each
    assert web._pack_positions(lists, [1, 2, 1, 2]) == lists  # a count that is not the tf: the lists as they are
    assert web.unpack_positions(lists, [1, 2, 1, 2], 4) == lists
    with pytest.raises(ValueError):
        web.unpack_positions(packed, [1, 2, 1, 2], 4)


def test_a_fields_places_in_the_union_are_a_bitmap_where_they_are_dense():
    n = 64
    dense = list(range(0, n, web.BITMAP_FROM))  # one in BITMAP_FROM
    bitmap = web._places(dense, n)
    assert isinstance(bitmap, str) and bitmap[0] == web.BITMAP and len(bitmap) == 1 + -(-n // 6)
    assert web.unpack_places(bitmap) == dense
    assert json.loads(json.dumps(bitmap)) == bitmap and "\\" not in bitmap and '"' not in bitmap
    sparse = dense[1:]
    assert web._places(sparse, n) == web._deltas(sparse)  # deltas
    assert web.unpack_places(web._pack_ints(web._places(sparse, n))) == sparse
    assert web.unpack_places(web._places([n - 1], n)) == [n - 1] and web.unpack_places(0) is None


def test_an_entry_is_written_with_its_lists_packed(seed_index, tmp_path):
    """Every list of an entry is a packed string: dense places a bitmap, positions their deltas
    without the counts (so are positions files: ``test_a_stems_positions_file_is_written_in_blocks_too``)."""
    web.export_bundle(seed_index, tmp_path)
    entries = [e for shard in shard_files(tmp_path) for e in data_of(shard).get("t", {}).values() if isinstance(e, dict)]
    lists = [x for e in entries for f, p in e.items() if f != "*" for x in p[1:4] if x != 0]
    assert lists and all(isinstance(x, str) for x in lists)
    assert any(x[0] == web.BITMAP for x in lists) and any(x[0] == web.PACKED for x in lists)
    inline = [p[4] for e in entries for f, p in e.items() if f != "*" and len(p) > 4 and not str(p[4]).startswith("p/")]
    assert inline and all(isinstance(x, str) and x[0] == web.PACKED for x in inline)


def test_a_stems_positions_file_is_written_in_blocks_too(seed_index, tmp_path, monkeypatch):
    """A stem's positions in a file of their own of POSITION_BLOCKS_FROM units or more are also
    written in blocks of POSITION_BLOCK units (more where there would be more than
    POSITION_BLOCKS_MAX blocks), ``<file>-<first>-<end>``, which hold the file's positions of its
    units first to end - 1: the page's proximity reads the few it needs."""
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    monkeypatch.setattr(web, "POSITION_BLOCK", 2)
    monkeypatch.setattr(web, "POSITION_BLOCKS_FROM", 5)
    monkeypatch.setattr(web, "POSITION_BLOCKS_MAX", 2)
    web.export_bundle(seed_index, tmp_path)
    counts = positions_counts(tmp_path)
    blocks: dict[str, dict[int, tuple[int, list]]] = {}
    for p in (tmp_path / "data" / "p").glob("*-*-*.js"):
        ref, first, end = p.stem.rsplit("-", 2)
        tfs = counts[f"p/{ref}"][int(first) : int(end)]
        blocks.setdefault(f"p/{ref}", {})[int(first)] = (int(end), web.unpack_positions(data_of(p), tfs, len(tfs)))
    refs = positions_refs(tmp_path)
    assert set(refs) == set(counts)
    assert all(data_of(tmp_path / "data" / f"{ref}.js")[0] == web.PACKED for ref in refs)  # deltas without counts
    whole = {ref: web.unpack_positions(data_of(tmp_path / "data" / f"{ref}.js"), counts[ref], len(counts[ref])) for ref in refs}
    assert blocks and set(blocks) == {ref for ref, f in refs.items() if f == "stem" and len(whole[ref]) >= 5}
    assert any(f == "stem" and 2 < len(whole[ref]) < 5 for ref, f in refs.items())  # (not vacuous)
    for ref, parts in blocks.items():
        size, joined = web.block_size(len(whole[ref])), []
        for first in sorted(parts):
            end, lists = parts[first]
            assert first == len(joined) and end - first == size and 0 < len(lists) <= size, ref
            joined += lists
        assert joined == whole[ref]
    assert max(web.block_size(len(whole[ref])) for ref in blocks) > web.POSITION_BLOCK  # (larger blocks too)


def test_the_bundle_refers_most_fold_postings_to_the_stem_field(bundle):
    fold = [p for shard in shard_files(bundle) for posts in data_of(shard).get("t", {}).values()
            if isinstance(posts, dict) for f, p in posts.items() if f == "fold"]
    assert fold and sum(p[1] == "stem" for p in fold) > len(fold) / 2


def test_a_long_list_names_its_units_positions_and_weights_files_in_the_bucket(seed_index, tmp_path, monkeypatch):
    """Counting a term's matches needs only its units' file; scoring them its weights' file too;
    a phrase its positions' files as well, named in the bucket so all load at once."""
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    web.export_bundle(seed_index, tmp_path)
    long = [e for shard in shard_files(tmp_path) for e in data_of(shard).get("t", {}).values() if isinstance(e, list)]
    assert long
    for units_name, positions, weights_name, dfs in long:  # a first export: no recent part
        units, weights = (data_of(tmp_path / "data" / f"{name}.js") for name in (units_name, weights_name))
        assert all(p[0] == 0 and len(p) == 2 for f, p in units.items() if f != "*")  # units (their df in the bucket)
        assert "*" not in weights and set(weights) == set(units) - {"*"} == set(dfs)
        assert all(df >= 1 for df in dfs.values())
        assert {f: weights[f][2] for f in positions} == positions
        assert all((tmp_path / "data" / f"{ref}.js").is_file() for ref in positions.values())
    assert any(positions for _, positions, _, _ in long)


def test_an_export_reports_its_progress_units_then_terms(seed_index, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "PROGRESS_EVERY", 100)
    told: list[tuple[str, int]] = []
    report = web.export_bundle(seed_index, tmp_path, progress=lambda stage, done: told.append((stage, done)))
    stages = [stage for stage, _ in told]
    assert stages == sorted(stages, key=["units", "terms"].index)  # units first, then terms
    assert told[stages.index("terms") - 1] == ("units", report["units"])
    terms = [done for stage, done in told if stage == "terms"]
    assert len(terms) > 2 and terms == sorted(terms) and terms[-1] <= report["terms"]


def _files(out: Path) -> dict[str, bytes]:
    return {str(p.relative_to(out)): p.read_bytes() for p in out.rglob("*") if p.is_file()}


def _updated_index(tmp_path: Path) -> Path:
    """An index of several segments with deleted units (a file changed after the first build)."""
    _, corpus, names = _index_of_four_seeds(tmp_path)
    changed = corpus / names[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTillägg om vittnen.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "ix")
    return tmp_path / "ix"


def test_processes_reading_spans_of_the_terms_export_the_same_bundle_as_one(tmp_path, monkeypatch):
    ix = _updated_index(tmp_path)
    told: dict[int, list[int]] = {1: [], 3: []}

    def export(workers: int) -> dict[str, int]:
        def note(stage: str, n: int) -> None:
            if stage == "terms":
                told[workers].append(n)
        return web.export_bundle(ix, tmp_path / str(workers), workers=workers, progress=note)

    one = export(1)
    spans = []
    monkeypatch.setattr(web, "_span_entries", _recording(web._span_entries, spans))
    three = export(3)
    assert len(spans) == 1 and spans[0][1] is not None  # this process read the first span only
    assert _files(tmp_path / "3") == _files(tmp_path / "1")
    assert {k: three[k] for k in ("units", "terms", "bytes")} == {k: one[k] for k in ("units", "terms", "bytes")}
    assert told[3] == sorted(told[3]) and told[3][-1] == told[1][-1]  # every term counted once


def _recording(fn, calls: list):
    def wrapper(*args):
        calls.append(args[6])  # the span (then the terms to read, None: all)
        return fn(*args)
    return wrapper


@pytest.mark.parametrize("failure", ["another generation", "a crash"])
def test_a_span_whose_process_fails_is_read_by_the_exporter_itself(tmp_path, monkeypatch, failure):
    ix = _updated_index(tmp_path)
    web.export_bundle(ix, tmp_path / "one", workers=1)
    exporter = os.getpid()
    if failure == "a crash":
        monkeypatch.setattr(web, "_span_entries", _crashing_outside(exporter, web._span_entries))
    else:  # the index as the other process opens it is not the one the exporter reads
        real = web._generation
        monkeypatch.setattr(web, "_generation", lambda reader: real(reader) + ([] if os.getpid() == exporter else [("new", 0)]))
    spans = []
    monkeypatch.setattr(web, "_span_entries", _recording(web._span_entries, spans))
    web.export_bundle(ix, tmp_path / "two", workers=2)
    assert len(spans) == 2  # the exporter read the other process's span too
    assert _files(tmp_path / "two") == _files(tmp_path / "one")


def _crashing_outside(exporter: int, fn):
    def wrapper(*args):
        if os.getpid() != exporter:
            os._exit(3)  # the process dies without a word
        return fn(*args)
    return wrapper


def test_reexporting_an_unchanged_index_rewrites_nothing(bundle, seed_index):
    assert list((bundle / "data" / "v").iterdir())  # the vocabulary shards too
    before = {p: p.stat().st_mtime_ns for p in bundle.rglob("*") if p.is_file()}
    report = web.export_bundle(seed_index, bundle)
    assert report["written"] == 0 and report["removed"] == 0
    assert report["kept"] > 0
    assert {p: p.stat().st_mtime_ns for p in bundle.rglob("*") if p.is_file()} == before


def _unit_files(out: Path) -> dict[str, str]:
    """The bundle's unit files: name -> content."""
    return {p.name: p.read_text(encoding="utf-8") for p in (out / "data" / "u").iterdir()}


def test_the_page_names_a_units_file_from_the_root_alone(bundle):
    root = data_of(bundle / "data" / "root.js")
    firsts = [first for first, _ in root["unitTags"]]
    assert firsts == sorted(firsts) and firsts[0] == 0
    for name in _unit_files(bundle):
        num, tag = name.removesuffix(".js").split("-")
        assert tag == next(t for first, t in reversed(root["unitTags"]) if first <= int(num)), name
    assert not (bundle / "data" / "h").exists()  # no per-chunk list of unit hashes to fetch first


def test_a_unit_file_lists_the_forms_of_its_words_that_the_page_cannot_compute():
    """Lemmas (hunspell) and compound parts; Snowball stems and folding the page does itself."""
    keys = web._PageKeys("full")
    extra = keys.of("Våldsutövare och brottsoffren gick till budget 2024")
    assert set(extra) == {"våldsutövare", "brottsoffren", "gick"}
    assert set(extra["våldsutövare"].split()) >= {"våld", "utöv"}  # its compound parts' stems
    assert "brottsoff" in extra["brottsoffren"].split() and "~ga" in extra["gick"].split()  # lemmas, folded with ~
    for word in ("och", "budget", "2024"):
        assert keys.page_keys(word) == {"x:" + word, "s:" + (word if word.isdigit() else analysis.stem(word))} | (
            set() if word.isdigit() else {"f:" + analysis.stem(analysis.fold(word))}
        )


def test_a_unit_file_carries_its_words_forms_for_the_snippet(bundle, seed_index):
    units = {u["id"]: u for u in (data_of(p) for p in (bundle / "data" / "u").iterdir())}
    keys = web._PageKeys("full")
    assert all(u.get("k", {}) == keys.of(u["body"]) for u in units.values())
    assert sum(bool(u.get("k")) for u in units.values()) > len(units) / 2


def test_an_export_leaves_the_garbage_collector_as_it_found_it(seed_index, tmp_path):
    assert gc.isenabled() and gc.get_freeze_count() == 0
    web.export_bundle(seed_index, tmp_path / "a")
    assert gc.isenabled() and gc.get_freeze_count() == 0  # the units it froze are thawed
    gc.freeze()  # what a caller froze stays frozen
    try:
        held = gc.get_freeze_count()
        web.export_bundle(seed_index, tmp_path / "b")
        assert gc.get_freeze_count() >= held > 0 and gc.isenabled()
    finally:
        gc.unfreeze()


def test_a_changed_file_gives_new_names_to_its_own_units_files_only(tmp_path):
    """The update adds all of a changed file's units again, after the older ones: those it did not
    change get new numbers too (numbers follow whoosh's order), and every other unit keeps its
    number and its file."""
    _, corpus, names = _index_of_four_seeds(tmp_path)
    out = tmp_path / "out"
    web.export_bundle(tmp_path / "ix", out)
    before = _unit_files(out)
    numbers = json.loads((out / "data" / web.STATE_FILE).read_text(encoding="utf-8"))["units"]
    changed = corpus / names[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTillägg om vittnen.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "ix")
    web.export_bundle(tmp_path / "ix", out)
    after = _unit_files(out)
    own = {uid for uid in numbers if uid.startswith(names[0] + "#")}
    assert own and len(own) < len(numbers) / 2
    kept = {f"{numbers[uid][0]}-" for uid in set(numbers) - own}
    assert {n for n in before if n.startswith(tuple(kept))} <= set(after)
    assert len(set(after) - set(before)) == len(own)  # the changed file's units, under new names


def test_a_bundle_of_the_last_format_keeps_its_unit_numbers_and_files(tmp_path):
    """Format 3 changed the term shards only: a bundle of format 2 keeps its unit files even
    where an update gave numbers out (a renumbering would name those units anew)."""
    seeds, corpus, names = _index_of_four_seeds(tmp_path)
    out = tmp_path / "out"
    web.export_bundle(tmp_path / "ix", out)
    (corpus / names[0]).unlink()
    shutil.copy(seeds / names[4], corpus / names[4])
    build_index([corpus], tmp_path / "ix")
    web.export_bundle(tmp_path / "ix", out)
    units = _unit_files(out)
    state_file = out / "data" / web.STATE_FILE
    state = json.loads(state_file.read_text(encoding="utf-8"))
    assert len(state["tags"]) == 2  # numbers given out by both exports
    state_file.write_text(json.dumps({**state, "version": web.NUMBERED_SINCE}), encoding="utf-8")
    report = web.export_bundle(tmp_path / "ix", out)
    assert _unit_files(out) == units and report["written"] == 0
    assert json.loads(state_file.read_text(encoding="utf-8"))["version"] == web.FORMAT_VERSION


def test_a_reexport_removes_the_unit_hash_lists_of_older_bundles(seed_index, tmp_path):
    web.export_bundle(seed_index, tmp_path)
    legacy = tmp_path / "data" / "h"
    legacy.mkdir()
    (legacy / "0-0123456789.js").write_text('__protokollsok("h/0-0123456789","");\n', encoding="utf-8")
    assert web.export_bundle(seed_index, tmp_path)["removed"] == 1
    assert not legacy.exists()


def test_exports_of_one_index_into_empty_folders_name_every_file_alike(seed_index, tmp_path):
    web.export_bundle(seed_index, tmp_path / "a")
    web.export_bundle(seed_index, tmp_path / "b")
    files = {p.relative_to(tmp_path / "a") for p in (tmp_path / "a").rglob("*.js")}
    assert files == {p.relative_to(tmp_path / "b") for p in (tmp_path / "b").rglob("*.js")}
    assert _unit_files(tmp_path / "a") == _unit_files(tmp_path / "b")


def test_a_unit_file_name_never_stands_for_two_contents(tmp_path):
    """Through an update that changes a file, one that removes it (its units had the highest
    numbers) and another, then one that adds a new file (whose units get those numbers again), and
    an export into a fresh folder, each name ever written holds one content; unchanged units keep
    theirs."""
    seeds, corpus, names = _index_of_four_seeds(tmp_path)
    out = tmp_path / "out"
    seen: dict[str, str] = {}

    def export(folder: Path = out) -> dict[str, str]:
        web.export_bundle(tmp_path / "ix", folder)
        files = _unit_files(folder)
        for name, text in files.items():
            assert seen.setdefault(name, text) == text, name
        return files

    first = export()
    last = corpus / names[3]
    last.write_text(last.read_text(encoding="utf-8").replace("§", "§ ", 1) + "\nTillägg.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "ix")
    second = export()
    assert set(first) & set(second) and set(second) - set(first)  # some kept, the changed ones new
    (corpus / names[2]).unlink()
    last.unlink()
    build_index([corpus], tmp_path / "ix")
    export()
    shutil.copy(seeds / names[4], corpus / names[4])
    build_index([corpus], tmp_path / "ix")
    export()
    export(tmp_path / "fresh")


def _index_of_four_seeds(tmp_path: Path) -> tuple[Path, Path, list[str]]:
    """An index (``tmp_path/ix``) of a corpus folder holding the first four seed files; returns the
    seeds folder, the corpus folder and the seed names."""
    seeds = Path(__file__).resolve().parents[1] / "corpus"
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    names = sorted(p.name for p in seeds.glob("00*.txt"))
    for name in names[:4]:
        shutil.copy(seeds / name, corpus / name)
    build_index([corpus], tmp_path / "ix", full=True)
    return seeds, corpus, names


def test_after_an_incremental_update_only_the_changed_shards_are_new(tmp_path):
    seeds, corpus, names = _index_of_four_seeds(tmp_path)
    out = tmp_path / "out"
    first = web.export_bundle(tmp_path / "ix", out)
    old_files = {p.relative_to(out) for p in (out / "data").rglob("*.js")}
    shutil.copy(seeds / names[4], corpus / names[4])
    build_index([corpus], tmp_path / "ix")
    second = web.export_bundle(tmp_path / "ix", out)
    new_files = {p.relative_to(out) for p in (out / "data").rglob("*.js")}
    assert second["units"] > first["units"]
    assert 0 < second["written"] < len(new_files)
    kept_units = {p for p in old_files if p.parts[1] == "u"} & new_files
    assert len(kept_units) == first["units"]  # no unit of the first files was rewritten
    new_nums = set(range(first["units"], second["units"]))
    union_fields = data_of(out / "data" / "root.js")["unionFields"]
    for rel in new_files - old_files:
        if rel.parts[1] != "t":
            continue
        # (a bucket's term and pair shards are named by one hash: either may hold the new unit)
        entries = [e for folder in ("t", "q") for e in data_of(out / "data" / folder / rel.name).get("t", {}).values()]
        posted = {n for posts in map(_unpacked, entries) for f, p in posts.items()
                  if f != "*" and not isinstance(p[1], str) for n in _decoded(posts, f, union_fields)[0]}
        assert posted & new_nums, f"{rel} was rewritten without holding a new unit"


def _long_entries(out: Path) -> dict[str, list]:
    """The long terms' entries in a bundle's buckets (``web._long_entry``)."""
    return {t: e for shard in shard_files(out) for t, e in data_of(shard).get("t", {}).items() if isinstance(e, list)}


def test_an_update_leaves_the_files_of_long_postings_below_the_cut_as_they_were(tmp_path, monkeypatch):
    """A new file's units are numbered past the cut of the last export: a long term they hold
    gets a recent part, and the files of its postings in the older units stay as they were."""
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    monkeypatch.setattr(web, "RECENT_SHARE", 1)
    seeds, corpus, names = _index_of_four_seeds(tmp_path)
    out = tmp_path / "out"
    web.export_bundle(tmp_path / "ix", out)
    before = _long_entries(out)
    shutil.copy(seeds / names[4], corpus / names[4])
    build_index([corpus], tmp_path / "ix")
    web.export_bundle(tmp_path / "ix", out)
    after = _long_entries(out)
    grown = [t for t, e in after.items() if t in before and len(e) > 4]
    assert len(grown) > 20
    for t in grown:
        assert after[t][:3] == before[t][:3], t
        assert sum(after[t][3].values()) > sum(before[t][3].values())  # its document frequencies, in the bucket
    assert all(after[t][:3] == e[:3] for t, e in before.items() if t in after)  # nothing was deleted


def test_the_recent_units_are_settled_again_once_they_are_more_than_one_in_recent_share():
    nums = list(range(160))
    assert web._cut(None, nums) == 160  # a first export: every unit settled
    assert web._cut(150, nums) == 150  # 10 recent of 160: one in 16
    assert web._cut(149, nums) == 160  # 11: all settled again
    assert web._cut(None, []) == 0


def test_vocabulary_shards_hold_the_sorted_lexicon_of_the_prefix_fields(seed_index, tmp_path, monkeypatch):
    monkeypatch.setattr(web, "VOCAB_TERMS", 16)
    web.export_bundle(seed_index, tmp_path / "out")
    root = data_of(tmp_path / "out" / "data" / "root.js")
    assert root["prefix"] == [["exact", 2.0], ["fold", 0.6]]  # search._Builder.prefix's fields and boosts
    assert root["suggest"] == {"field": "exact", "below": search.SUGGEST_BELOW, "letters": search._LETTERS}
    ix, _ = index.open_index(seed_index)
    with ix.reader() as reader:
        for field, table in root["vocab"].items():
            assert len(table) > 20 and table[0][0] == ""
            terms, dfs, cfs = [], [], []
            for k, (first, digest) in enumerate(table):
                shard = data_of(tmp_path / "out" / "data" / "v" / f"{field}-{digest}.js")
                assert shard["t"] and (k == 0 or shard["t"][0] == first)
                terms += shard["t"]
                dfs += shard.get("df", [])
                cfs += shard.get("cf", [])
            lexicon = [search._text(t) for t in reader.lexicon(f"text_{field}")]
            assert terms == sorted(lexicon, key=lambda t: t.encode("utf-16-be"))
            if field == root["suggest"]["field"]:  # "Menade du" ranks words by these
                assert dfs == [reader.doc_frequency(f"text_{field}", t) for t in terms]
                assert cfs == [reader.frequency(f"text_{field}", t) for t in terms]
            else:
                assert not dfs and not cfs
            assert root["segs"] == [[0, reader.doc_count_all()]]


def test_an_update_keeps_where_vocabulary_shards_begin(tmp_path, monkeypatch):
    """Shards end after terms picked by their own hash, so new terms do not move the boundaries
    of the shards after them: a shard is rewritten only when its own terms (or their document
    frequencies) change."""
    monkeypatch.setattr(web, "VOCAB_TERMS", 16)
    seeds, corpus, names = _index_of_four_seeds(tmp_path)
    out = tmp_path / "out"
    web.export_bundle(tmp_path / "ix", out)
    old_root = data_of(out / "data" / "root.js")
    old = {p.name: data_of(p) for p in (out / "data" / "v").iterdir()}
    shutil.copy(seeds / names[4], corpus / names[4])
    build_index([corpus], tmp_path / "ix")
    web.export_bundle(tmp_path / "ix", out)
    root = data_of(out / "data" / "root.js")
    for field, table in root["vocab"].items():
        firsts = [first for first, _ in table]
        assert {first for first, _ in old_root["vocab"][field]} <= set(firsts)
        assert len(firsts) > len(old_root["vocab"][field])  # the new file brought new terms
        for _, digest in table:
            name = f"{field}-{digest}.js"
            shard = data_of(out / "data" / "v" / name)
            if name in old:
                assert shard == old[name]
    assert set(old) & {p.name for p in (out / "data" / "v").iterdir()}  # some shards were kept


def _exported_postings(out: Path) -> dict[tuple[str, str], list]:
    """Every (field, term)'s postings in a bundle, decoded as the page decodes them (the fold
    field's references and the union of a term's units resolved): ``[df, [(unit number, weight,
    length byte), ...]]``."""
    found = {}
    union_fields = data_of(out / "data" / "root.js")["unionFields"]
    for shard in shard_files(out):
        for term, entry in data_of(shard).get("t", {}).items():
            parts, dfs = entry_parts(out, entry)
            for posts in map(_unpacked, parts):
                for field, (df, rows) in _part_postings(posts, union_fields).items():
                    got = found.setdefault((field, term), [(dfs or {}).get(field, df), []])[1]
                    assert not got or got[-1][0] < rows[0][0], (field, term)  # the parts' units follow each other
                    got.extend(rows)
    return found


def _part_postings(posts: dict, union_fields: list[str]) -> dict[str, tuple[int, list]]:
    """One part of a term's entry, unpacked: field -> (its df, [(unit number, weight, length byte), ...])."""
    decoded = {f: _decoded(posts, f, union_fields) for f, p in posts.items() if f != "*" and not isinstance(p[1], str)}
    for field, p in posts.items():
        if field != "*" and isinstance(p[1], str):
            nums, tfs, base = decoded[p[1]]
            decoded[field] = (nums, tfs, [a + b for a, b in zip(base, p[2], strict=True)])
    return {f: (posts[f][0], list(zip(nums, tfs or [1] * len(nums), lbytes, strict=True))) for f, (nums, tfs, lbytes) in decoded.items()}


def _unpacked(posts: dict) -> dict:
    """A term's entry with its packed lists (``web._pack_ints``) as lists again: places as their
    deltas (also a bitmap's, ``web._places``), positions as lists per unit (``web._pack_positions``)."""
    out = {}
    for f, p in posts.items():
        if f == "*":
            out[f] = [web.unpack_ints(p[0]), p[1]]
            continue
        places = p[1]
        if isinstance(places, str) and places[:1] == web.BITMAP:
            places = web._deltas(web.unpack_places(places))
        lists = [p[0], web.unpack_ints(places), *map(web.unpack_ints, p[2:4])]
        out[f] = lists + [web.unpack_positions(x, lists[2], len(lists[3])) for x in p[4:]]
    return out


def _decoded(posts: dict, field: str, union_fields: list[str]) -> tuple[list[int], list | int, list[int]]:
    """(unit numbers, weights or 0, length bytes) of one field's list (``web._share_units``)."""
    p = posts[field]
    if "*" not in posts or field not in union_fields:
        return _nums(p[1]), p[2], p[3]
    union, relative = _nums(posts["*"][0]), posts["*"][1]
    places = list(range(len(union))) if p[1] == 0 else web.unpack_places(p[1])
    tfs, lbytes = p[2], p[3]
    if field in relative:
        stem = posts["stem"]
        stem_places = list(range(len(union))) if stem[1] == 0 else web.unpack_places(stem[1])
        base = dict(zip(stem_places, zip(stem[2] or [1] * len(stem_places), stem[3], strict=True), strict=True))
        at = [base.get(i, (0, 0)) for i in places]
        tfs = [(t + a[0]) for t, a in zip(tfs or [0] * len(at), at, strict=True)]
        tfs = 0 if all(t == 1 for t in tfs) else tfs
        lbytes = [b + a[1] for b, a in zip(lbytes, at, strict=True)]
    return [union[i] for i in places], tfs, lbytes


@pytest.mark.parametrize("big_term_chars", [web.BIG_TERM_CHARS, 120])
def test_exported_postings_are_whooshs_for_the_live_units_of_every_segment(tmp_path, monkeypatch, big_term_chars):
    """After an update (two segments, the changed file's old units deleted, its new ones past the
    last export's cut), each term's postings hold exactly the live units whoosh's reader gives for
    it, with its weights, field lengths and document frequency; also where most terms' postings
    are long, in a part of units below the cut and a recent part."""
    monkeypatch.setattr(web, "BIG_TERM_CHARS", big_term_chars)
    monkeypatch.setattr(web, "RECENT_SHARE", 1)  # the changed file's units stay recent
    _, corpus, names = _index_of_four_seeds(tmp_path)
    web.export_bundle(tmp_path / "ix", tmp_path / "out")
    changed = corpus / names[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTillägg om vittnen.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "ix")
    web.export_bundle(tmp_path / "ix", tmp_path / "out")
    exported = _exported_postings(tmp_path / "out")
    if big_term_chars == 120:
        recent = [e[4] for e in _long_entries(tmp_path / "out").values() if len(e) > 4]
        assert len(recent) > 20 and any(isinstance(r, list) for r in recent) and any(isinstance(r, dict) for r in recent)
    state = json.loads((tmp_path / "out" / "data" / "state.json").read_text(encoding="utf-8"))
    ix, _ = index.open_index(tmp_path / "ix")
    with ix.reader() as reader:
        assert len(reader.leaf_readers()) > 1 and reader.has_deletions()
        num_of = {dn: state["units"][f["id"]][0] for dn, f in reader.iter_docs() if f.get("doctype") != "file"}
        for field in ("exact", "stem", "fold", "parts"):
            checked = 0
            for t in reader.lexicon(f"text_{field}"):
                want = _live_postings(reader, f"text_{field}", t, num_of)
                got = exported.get((field, t.decode("utf-8")))
                if not want:
                    assert got is None
                    continue
                assert got == [reader.doc_frequency(f"text_{field}", t), want], (field, t)
                checked += 1
            assert checked > 100


def test_vocabulary_shards_name_the_segments_that_hold_a_term_only_in_deleted_units(tmp_path):
    """whoosh counts such a term when it expands a prefix in that segment, so the page must know."""
    _, corpus, names = _index_of_four_seeds(tmp_path)
    (corpus / names[1]).unlink()
    changed = corpus / names[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\nTillägg.\n", encoding="utf-8")
    build_index([corpus], tmp_path / "ix")
    web.export_bundle(tmp_path / "ix", tmp_path / "out")
    root = data_of(tmp_path / "out" / "data" / "root.js")
    ix, _ = index.open_index(tmp_path / "ix")
    with ix.reader() as reader:
        leaves = reader.leaf_readers()
        assert len(leaves) > 1
        for field in {short for short, _ in root["prefix"]}:
            listed = {}
            for _, name in root["vocab"][field]:
                listed.update(data_of(tmp_path / "out" / "data" / "v" / f"{field}-{name}.js").get("x", {}))
            want: dict[str, list[int]] = {}
            for s, (leaf, _) in enumerate(leaves):
                for t in leaf.lexicon(f"text_{field}"):
                    if not leaf.postings(f"text_{field}", t).is_active():  # every unit holding it deleted
                        want.setdefault(t.decode("utf-8"), []).append(s)
            assert want and listed == want, field


def _live_postings(reader, fname: str, term: bytes, num_of: dict[int, int]) -> list[tuple]:
    """(unit number, weight, field length byte) of the live units holding ``term``, by unit number."""
    m = reader.postings(fname, term)
    rows = []
    while m.is_active():
        if m.id() in num_of:
            rows.append((num_of[m.id()], m.weight(), length_to_byte(reader.doc_field_length(m.id(), fname, 0))))
        m.next()
    return sorted(rows)


def _nums(deltas: list[int]) -> list[int]:
    out, n = [], 0
    for d in deltas:
        n += d
        out.append(n)
    return out


def test_document_text_with_markup_is_exported_as_plain_strings(tmp_path):
    index_units(tmp_path / "ix", [hostile_unit()])
    web.export_bundle(tmp_path / "ix", tmp_path / "out")
    (unit_file,) = (tmp_path / "out" / "data" / "u").iterdir()
    assert data_of(unit_file)["body"] == HOSTILE
    assert "<script>" not in unit_file.read_text(encoding="utf-8").split(",", 1)[0]


def test_the_page_never_writes_data_as_html():
    js = (web.ASSETS / "protokollsok.js").read_text(encoding="utf-8")
    assert not re.search(r"innerHTML|outerHTML|insertAdjacentHTML|document\.write", js)


def test_exporting_into_a_file_is_one_clear_error(tmp_path, seed_index):
    target = tmp_path / "afile"
    target.write_text("x")
    with pytest.raises(ProtokollsokError, match="afile"):
        web.export_bundle(seed_index, target)


# ------------------------------------------------------------------------------------ serve


@pytest.fixture(scope="module")
def server(bundle, seed_index):
    httpd = web.make_server(seed_index, bundle, "127.0.0.1", 0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def test_serve_answers_the_api_with_the_fields_of_search_json(server, seed_index):
    status, body = get(server + "/api/search?q=vittnen&parti=KD")
    assert status == 200
    assert json.loads(body) == search.search(seed_index, "vittnen", parti="KD").to_json()


def test_serve_reports_a_bad_query_as_json_with_status_400(server):
    status, body = get(server + "/api/search?q=budget&from=ig%C3%A5r")
    assert status == 400 and "igår" in json.loads(body)["error"]


def test_serve_serves_the_page(server):
    status, body = get(server + "/")
    assert status == 200 and b'id="protokollsok"' in body


@pytest.mark.parametrize(
    "path", ["/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/data/..%2f..%2f..%2fetc/passwd", "/data/"]
)
def test_serve_reads_nothing_outside_the_bundle_and_lists_no_folder(server, path):
    req = urllib.request.Request(server + path)
    req.full_url = server + path  # keep the dots: urllib would not normalise them anyway
    status, body = get(req.full_url)
    assert status == 404 and b"root:" not in body


def test_serve_binds_to_localhost_unless_told_otherwise():
    import inspect

    assert inspect.signature(web.serve).parameters["host"].default == "127.0.0.1"
    assert inspect.signature(web.make_server).parameters["host"].default == "127.0.0.1"


def test_the_filter_file_gives_every_units_namnd_parties_datum_and_year(seed_index, tmp_path):
    web.export_bundle(seed_index, tmp_path)
    root = data_of(tmp_path / "data" / "root.js")
    filters = data_of(tmp_path / "data" / f"{root['filters']}.js")
    size = root["metaChunk"]
    units = {int(p.name.split("-")[0]): data_of(p) for p in (tmp_path / "data" / "u").iterdir()}
    assert units
    for c, chunk in enumerate(filters["chunks"]):
        if chunk is None:
            continue
        ns, ps, ds = (web.unpack_ints(chunk[col]) for col in "npd")
        assert len(ns) == len(ps) == len(ds) == size
        for k in range(size):
            unit = units.get(c * size + k)
            assert (ns[k] > 0) == (unit is not None)  # 0: no unit has this number
            if unit is None:
                continue
            assert (root["namnd"][ns[k] - 2][0] if ns[k] > 1 else None) == unit["namnd"]
            parties = filters["sets"][ps[k]]
            assert [root["parti"][int(i)] for i in parties.split(".") if parties] == unit["parti"]
            datum = filters["dates"][ds[k] - 1] if ds[k] else ""
            assert datum == (unit["datum"] or "")
            assert chunk["y"].get(str(k), datum[:4]) == (unit["year"] or "")
    dates = filters["dates"]
    counts = [sum(web.unpack_ints(ch["d"]).count(i + 1) for ch in filters["chunks"] if ch) for i in range(len(dates))]
    assert counts == sorted(counts, reverse=True)  # the most frequent first: the fewest characters
