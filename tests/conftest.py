"""Shared fixtures: the seeds' expectations and an index of the bundled corpus/ built once."""

from __future__ import annotations

import json
import random
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
CORPUS = ROOT / "corpus"


def shared_path(*parts: str) -> Path:
    """A path under ../shared, skipping the test when the shared material is absent."""
    p = SHARED.joinpath(*parts)
    if not p.exists():
        pytest.skip(f"{p} not available")
    return p


def data_of(path: Path):
    """The JSON inside a JSONP data file of a web bundle."""
    text = path.read_text(encoding="utf-8")
    return json.loads(text[text.index(",") + 1 : text.rindex(")")])


def shard_files(bundle: Path) -> list[Path]:
    """A web bundle's term shards and pair shards (``data/t/``, ``data/q/``): every entry is in one."""
    return sorted((bundle / "data").glob("[tq]/*.js"))


def positions_refs(bundle: Path) -> dict[str, str]:
    """The bundle's files of positions alone, by name: the field they are of."""
    refs = {}
    for shard in shard_files(bundle):
        for entry in data_of(shard).get("t", {}).values():
            parts = [entry] if isinstance(entry, dict) else [entry[:3], *(entry[4:] or [])]
            for part in parts:
                if isinstance(part, dict):
                    refs.update({p[4]: f for f, p in part.items() if f != "*" and len(p) > 4 and isinstance(p[4], str) and p[4].startswith("p/")})
                elif isinstance(part, list):
                    refs.update({ref: f for f, ref in part[1].items()})
    return refs


def positions_counts(bundle: Path) -> dict[str, list[int]]:
    """The bundle's files of positions alone, by name: how many positions each of their units
    holds (its tf in the field, ``web._pack_positions``)."""
    from protokollsok import web

    counts: dict[str, list[int]] = {}
    for shard in shard_files(bundle):
        for entry in data_of(shard).get("t", {}).values():
            for part in entry_parts(bundle, entry)[0]:
                for f, p in part.items():
                    if f != "*" and len(p) > 4 and isinstance(p[4], str) and p[4].startswith("p/"):
                        tfs, n = web.unpack_ints(p[2]), len(web.unpack_ints(p[3]))
                        counts[p[4]] = [1] * n if tfs == 0 else [int(t) for t in tfs]
    return counts


def blocks_by_file(bundle: Path) -> dict[str, set[tuple[int, int]]]:
    """The blocks of positions in a bundle: their file -> (first, end) of each."""
    found: dict[str, set[tuple[int, int]]] = {}
    for p in (bundle / "data" / "p").glob("*-*-*.js"):
        ref, first, end = p.stem.rsplit("-", 2)
        found.setdefault(f"p/{ref}", set()).add((int(first), int(end)))
    return found


def entry_parts(bundle: Path, entry) -> tuple[list[dict], dict | None]:
    """A term's entry in a bucket as the page puts it together: its parts, each with every
    field's lists (a long one's from its units' and weights' files), and its document frequencies
    by field (None: each list's own). A long entry (``web._long_entry``) is ``[units' file,
    positions' files, weights' file (or two, ``web._weights_refs``), document frequencies, recent
    part]``, its recent part a small entry or three files again."""
    def files(units: str, weights: str | list[str]) -> dict:
        u = data_of(bundle / "data" / f"{units}.js")
        w = {f: p for name in ([weights] if isinstance(weights, str) else weights) for f, p in data_of(bundle / "data" / f"{name}.js").items()}
        return {f: p if f == "*" else [*p, *w.get(f, [])] for f, p in u.items()}

    if not isinstance(entry, list):
        return [entry], None
    parts = [files(entry[0], entry[2])]
    if len(entry) > 4:
        recent = entry[4]
        parts.append(files(recent[0], recent[2]) if isinstance(recent, list) else recent)
    return parts, entry[3]


def volume_units(limit: int) -> list:
    """The first ``limit`` units of the volume corpus in ../shared/corpora as the benchmarks
    load them (all its sources, mixed); skips the test when the corpora are absent."""
    import sys

    corpora = shared_path("corpora")
    sys.path.insert(0, str(ROOT / "bench"))
    try:
        import units as bench_units
    finally:
        sys.path.pop(0)
    return list(bench_units.iter_units(corpora, limit=limit))


def synthetic_unit(k: int, text: str, datum: str | None, title: str = "Ärende"):
    """Unit ``k`` of a made-up corpus: nämnd and party cycle with ``k``."""
    from protokollsok.model import Metadata, Segment, Unit

    seg = Segment(f"f{k}.txt#§1", f"f{k}.txt", "paragraf", 1, title, text, 0, len(text), (1, 1))
    party = ("S",) if k % 3 == 0 else ("SD",) if k % 3 == 1 else ()
    return Unit(seg, Metadata((), "Kulturnämnden" if k % 2 else "Kommunfullmäktige", datum, party, "protokoll"))


def updated_synthetic_index(path: Path, count: int, words: list[str], *, seed: int, longest: int,
                            undated_every: int = 0, budget_title_every: int = 0) -> Path:
    """``count`` units of random ``words`` over three years, built in parallel, then a third of
    them replaced: an index of several segments with deleted documents (asserted)."""
    from protokollsok.index import index_units
    from protokollsok.search import _Opened

    rng = random.Random(seed)

    def units(ks):
        out = []
        for k in ks:
            text = " ".join(rng.choice(words) for _ in range(rng.randint(4, longest)))
            datum = f"{2022 + k % 3}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
            title = "Ärende om budget" if budget_title_every and k % budget_title_every == 0 else "Ärende"
            out.append(synthetic_unit(k, text, None if undated_every and k % undated_every == 0 else datum, title))
        return out

    index_units(path, units(range(count)), parallel=True)
    index_units(path, units(range(0, count, 3)), full=False)
    searcher, _ = _Opened.searcher(path)
    assert searcher.reader().has_deletions() and len(searcher.reader().leaf_readers()) > 1
    return path


@pytest.fixture(scope="session")
def expected() -> dict:
    """../shared/seeds/expected.json: what the product must make of the seeds."""
    return json.loads(shared_path("seeds", "expected.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory) -> Path:
    """An index of a copy of the bundled corpus/ (built once per test session; do not modify)."""
    from protokollsok.index import build_index

    base = tmp_path_factory.mktemp("corpus_index")
    corpus = base / "corpus"
    shutil.copytree(CORPUS, corpus)
    report = build_index([corpus], base / "index", full=True)
    assert report.ok, report.failed
    return base / "index"


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory, expected) -> Path:
    """An index of the five seed files of corpus/ alone: what expected.json's searches describe
    (the Göteborg and Jönköping protokoll bundled beside them would add legitimate hits)."""
    from protokollsok.index import build_index

    base = tmp_path_factory.mktemp("seed_index")
    corpus = base / "corpus"
    corpus.mkdir()
    for name in expected["files"]:
        shutil.copy(CORPUS / name, corpus / name)
    report = build_index([corpus], base / "index", full=True)
    assert report.ok, report.failed
    return base / "index"


def all_postings(path) -> dict[tuple[str, bytes], list[tuple]]:
    """Every posting of an index: (field, term) -> [(document, weight, value bytes), ...]."""
    from protokollsok.index import open_index

    ix, _ = open_index(path)
    out = {}
    with ix.reader() as reader:
        for field in reader.schema.names():
            if not reader.schema[field].indexed:
                continue
            for term in reader.lexicon(field):
                m = reader.postings(field, term)
                items = []
                while m.is_active():
                    items.append((m.id(), m.weight(), m.value()))
                    m.next()
                out[field, term] = items
    return out
