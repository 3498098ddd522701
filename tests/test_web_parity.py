"""The page finds what `protokollsok search --json` finds: the same query analysis (tokens, Snowball
stems, folding, table-driven lemma forms) and the same top 10 in the same order.

The page's engine (``protokollsok.js``) runs under node here, on the very files of an exported
bundle; ``test_web_browser.py`` runs it in Chromium.
"""

from __future__ import annotations

import itertools
import json
import random
import re
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from conftest import data_of, positions_refs, shard_files, volume_units
from protokollsok import analysis, index, search, snippets, termtable, toplists, web
from protokollsok.index import index_units

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
NODE = shutil.which("node") or "/usr/bin/node"

RUNNER = r"""
const fs = require("fs"), path = require("path");
const bundle = process.argv[2];
const stem = require(path.join(bundle, "snowball-sv.js"));
const ps = require(path.join(bundle, "protokollsok.js"));
const loaded = new Map();
function load(name) {  // as the page does: each data file once
  if (!loaded.has(name)) {
    const t = fs.readFileSync(path.join(bundle, "data", name + ".js"), "utf8");
    loaded.set(name, Promise.resolve(JSON.parse(t.slice(t.indexOf(",") + 1, t.lastIndexOf(")")))));
  }
  return loaded.get(name);
}
(async () => {
  const engine = ps.createEngine(load, stem);
  await engine.init();
  const out = [];
  for (const req of JSON.parse(fs.readFileSync(0, "utf8"))) {
    try {
      if (req.op === "search") {
        const r = await engine.search(req.q, req);
        out.push({ total: r.total, ids: r.hits.map((h) => h.unit.id), scores: r.hits.map((h) => h.score), facets: r.facets, suggestion: r.suggestion });
      } else if (req.op === "snippets") {
        const r = await engine.search(req.q, req);
        const snippetOf = await engine.highlighter(r.query);
        const cp = (text, i) => [...text.slice(0, i)].length;  // UTF-16 offsets as Python's (code points)
        out.push(r.hits.map((h) => {
          const { text, spans } = snippetOf(h.unit);
          return { id: h.unit.id, snippet: text, highlights: spans.map(([a, b]) => [cp(text, a), cp(text, b)]) };
        }));
      } else if (req.op === "snippet_of") {  // a given text as a hit of the query
        const { text, spans } = (await engine.highlighter(ps.parse(req.q)))({ body: req.body, k: req.k });
        out.push({ snippet: text, highlights: spans });
      } else if (req.op === "corrector") {
        await engine.init();
        const field = engine.root().suggest.field;
        for (const w of req.words) out.push((await engine.corrector(field, w)).map((e) => e.t));
      } else if (req.op === "count") {
        out.push((await engine.searchOnce(req.q, { count: true })).total);
      } else if (req.op === "forms") {
        const forms = [];
        for (const w of req.words) forms.push(await engine.forms(w));
        out.push(forms);
      } else if (req.op === "words") {
        out.push(req.words.map((w) => [stem(w), ps.fold(w)]));
      } else if (req.op === "loaded") {
        out.push([...loaded.keys()]);
      } else if (req.op === "tokens") {
        out.push(req.texts.map((t) => ps.tokenize(t).map((k) => [k.pos, k.start, k.end, k.word])));
      }
    } catch (e) { out.push({ error: String(e.message) }); }
  }
  process.stdout.write(JSON.stringify(out));
})();
"""

# Suffixes that inflect Swedish nouns, verbs and adjectives: applied to corpus words they give
# forms the corpus does not contain (and some non-words), which the page must analyse alike.
MAX_INFLECTED = 12_000
SUFFIXES = ("en", "et", "na", "arna", "erna", "ornas", "ens", "ets", "s", "ade", "ande", "ar", "er", "or", "heten", "lig", "ast", "are")


def run_node(bundle: Path, requests: list[dict], tmp_path: Path) -> list:
    if not Path(NODE).exists():
        pytest.skip("node is not installed")
    script = tmp_path / "runner.js"
    script.write_text(RUNNER, encoding="utf-8")
    proc = subprocess.run(
        [NODE, str(script), str(bundle)], input=json.dumps(requests), capture_output=True, text=True, timeout=600, check=False
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return json.loads(proc.stdout)


def python_top(index_dir: Path, req: dict) -> dict:
    r = search.search(
        index_dir, req["q"], parti=req.get("parti"), namnd=req.get("namnd"), date_from=req.get("from"),
        sort=req.get("sort", "relevance"), limit=req.get("limit", 10),
    )
    return {"total": r.total, "ids": [h.id for h in r.hits], "scores": [h.score for h in r.hits], "facets": r.to_json()["facets"]}


def assert_same_results(index_dir: Path, bundle: Path, requests: list[dict], tmp_path: Path) -> None:
    got = run_node(bundle, [{"op": "search", **r} for r in requests], tmp_path)
    differ = []
    for req, js in zip(requests, got, strict=True):
        py = python_top(index_dir, req)
        same_facets = js.get("facets") == py["facets"] or py["total"] == 0  # no facets without hits
        if "error" in js or js["ids"] != py["ids"] or js["total"] != py["total"] or not same_facets:
            differ.append((req, py, js))
    assert not differ, "\n".join(f"{r}: python {p['ids'][:5]} ({p['total']}) js {j}" for r, p, j in differ[:5])


def assert_same_snippets(index_dir: Path, bundle: Path, requests: list[dict], tmp_path: Path) -> int:
    """The page's snippet and marked spans of each hit are the CLI's; returns how many hits."""
    got = run_node(bundle, [{"op": "snippets", **r} for r in requests], tmp_path)
    differ, hits = [], 0
    for req, js in zip(requests, got, strict=True):
        r = search.search(
            index_dir, req["q"], parti=req.get("parti"), namnd=req.get("namnd"), date_from=req.get("from"), sort=req.get("sort", "relevance")
        )
        py = [{"id": h.id, "snippet": h.snippet, "highlights": [list(x) for x in h.highlights]} for h in r.hits]
        hits += len(py)
        if js != py:
            differ.append((req["q"], py, js))
    assert not differ, "\n".join(f"{q}: python {p[:1]} js {j if 'error' in j else j[:1]}" for q, p, j in differ[:3])
    return hits


# ------------------------------------------------------------------------------ fixtures


@pytest.fixture(scope="module")
def seed_bundle(seed_index, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("seed_bundle")
    web.export_bundle(seed_index, out)
    return out


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> tuple[Path, Path, list]:
    """An index and bundle of 600 real units of the volume corpus (all five sources, mixed)."""
    units = volume_units(600)
    base = tmp_path_factory.mktemp("sample")
    index_units(base / "ix", units)
    web.export_bundle(base / "ix", base / "out")
    return base / "ix", base / "out", units


@pytest.fixture(scope="module")
def segmented_sample(sample, tmp_path_factory) -> tuple[Path, Path]:
    """The same 600 units in an index of several segments, as a parallel rebuild followed by
    incremental updates leaves it (with unions in small segments and deleted documents)."""
    units = sample[2]
    base = tmp_path_factory.mktemp("segmented")
    index_units(base / "ix", units[:400], parallel=True)
    for start in range(400, 600, 50):
        index_units(base / "ix", units[start : start + 50] + units[start - 300 : start - 290], full=False)
    web.export_bundle(base / "ix", base / "out")
    return base / "ix", base / "out"


# ------------------------------------------------------------------------------ analysis


def vocabulary_and_inflections(index_dir: Path) -> tuple[list[str], list[str]]:
    ix, _ = index.open_index(index_dir)
    with ix.reader() as reader:
        vocab = sorted(termtable.vocabulary(reader))
    known = set(vocab)
    inflected = sorted({w + s for w in vocab if w.isalpha() and len(w) > 3 for s in SUFFIXES} - known)
    step = max(1, len(inflected) // MAX_INFLECTED)  # an even spread keeps the test within a minute
    # The corpora's whole clean-text vocabulary (the bundled frequency list is built from them).
    corpora_words = sorted(set(termtable.frequency_words()) - known)
    return vocab + corpora_words, inflected[::step]


@pytest.mark.slow
def test_stems_and_folding_agree_over_the_vocabulary_and_unseen_inflections(sample, tmp_path):
    index_dir, bundle, _ = sample
    vocab, inflected = vocabulary_and_inflections(index_dir)
    words = vocab + inflected
    assert len(inflected) > 10_000 and len(vocab) > 50_000
    (js,) = run_node(bundle, [{"op": "words", "words": words}], tmp_path)
    differ = [(w, analysis.stem(w), analysis.fold(w), j) for w, j in zip(words, js, strict=True) if j != [analysis.stem(w), analysis.fold(w)]]
    assert not differ, differ[:10]


def effective(forms: dict, exists) -> tuple:
    """What a query word searches for: its exact form, the stem phrases use, and the stems and
    folded stems the index holds (absent terms change neither results nor scores)."""
    return (
        tuple(forms["exact"]),
        forms["stem"][0],
        frozenset(t for t in forms["stem"] if exists(t)),
        frozenset(t for t in forms["fold"] if exists(t)),
    )


@pytest.mark.slow
def test_query_forms_agree_over_the_vocabulary_and_unseen_inflections(sample, tmp_path):
    index_dir, bundle, _ = sample
    vocab, inflected = vocabulary_and_inflections(index_dir)
    words = vocab + inflected
    (js,) = run_node(bundle, [{"op": "forms", "words": words}], tmp_path)
    ix, info = index.open_index(index_dir)
    with ix.reader() as reader:
        fields = ["text_stem", "text_fold", "text_parts", "title"]

        def exists(t: str) -> bool:
            return any((f, t) in reader for f in fields)

        differ = []
        for w, j in zip(words, js, strict=True):
            py = termtable.query_forms(w, info.chain, reader)
            mine = effective({"exact": py.exact, "stem": py.stem, "fold": py.fold}, exists)
            if mine != effective(j, exists):
                differ.append((w, mine, j))
    assert not differ, differ[:10]
    tabled = sum(1 for w, j in zip(words, js, strict=True) if j["stem"] != [analysis.stem(w)])
    assert tabled > 0  # some words do get their lemma stems from the table


def test_the_tokenizer_agrees_on_real_text(sample, tmp_path):
    _, bundle, units = sample
    texts = [u.segment.text for u in units[:200]]
    (js,) = run_node(bundle, [{"op": "tokens", "texts": texts}], tmp_path)
    for text, got in zip(texts, js, strict=True):
        want = [[t.pos, t.start, t.end, t.word] for t in analysis.tokenize(text)]
        if text.isascii() or all(ord(c) < 0x10000 for c in text):
            assert got == want


# ------------------------------------------------------------------------------ search


def seed_requests(expected: dict) -> list[dict]:
    out = []
    for s in expected["searches"]:
        req = {"q": s["query"]}
        for k, v in (s.get("filters") or {}).items():
            req["from" if k == "from" else k] = v
        out.append(req)
    return out


# ------------------------------------------------------------------------------ "Menade du"


def misspelled_queries(index_dir: Path, seed: int = 5) -> list[str]:
    """Words of the index with one or two random edits (long words keep their first two letters,
    where whoosh's corrector looks), alone, beside a known word, OR'ed, negated and filtered."""
    rng = random.Random(seed)
    ix, _ = index.open_index(index_dir)
    with ix.reader() as reader:
        words = sorted({search._text(t) for t in reader.lexicon("text_exact")})
    known = set(words)
    alpha = [w for w in words if w.isalpha() and len(w) > 3]

    def edit(w: str, n: int) -> str:
        for _ in range(n):
            k, p = rng.randrange(4), rng.randrange(len(w))
            c = rng.choice(search._LETTERS)
            w = [w[:p] + w[p + 1 :], w[:p] + w[p + 1 : p + 2] + w[p] + w[p + 2 :], w[:p] + c + w[p + 1 :], w[:p] + c + w[p:]][k] or w
        return w

    out = [edit(w, rng.choice((1, 2))) for w in rng.sample(alpha, min(120, len(alpha)))]
    out += [w[:2] + edit(w[2:], 2) for w in rng.sample([w for w in alpha if len(w) >= 9], 60)]
    out = [q for q in dict.fromkeys(out) if q not in known]
    common = alpha[:: max(1, len(alpha) // 10)][:10]
    out += [f"{q} {w}" for q, w in zip(out[:15], common, strict=False)] + [f"{q.upper()} {q}" for q in out[15:18]]
    out += [f"{a} OR {b}" for a, b in zip(out[20:24], out[24:28], strict=False)]
    out += [f"{q} -{w}" for q, w in zip(out[30:35], common, strict=False)]
    out += [f"{q} datum:2099" for q in out[40:43]] + [f'"{q} {w}"' for q, w in zip(out[45:48], common, strict=False)]
    return out


def assert_same_suggestions(index_dir: Path, bundle: Path, queries: list[str], tmp_path: Path) -> None:
    got = run_node(bundle, [{"op": "search", "q": q} for q in queries], tmp_path)
    want = [search.search(index_dir, q).suggestion for q in queries]
    differ = [(q, w, g.get("error") or g.get("suggestion")) for q, w, g in zip(queries, want, got, strict=True) if g.get("suggestion") != w]
    assert not differ, differ[:10]
    assert sum(w is not None for w in want) > len(queries) / 4  # most are corrected, by both ways
    far = [q for q, w in zip(queries, want, strict=True) if w and " " not in q and w not in search._edits1(q)]
    assert far  # some come from whoosh's corrector (two edits away)


def test_suggestions_agree_with_the_cli(seed_index, seed_bundle, tmp_path):
    queries = ["vitnen", "vittnne", "samverkn", "budgte", "hedersvld", "kommunfullmäktge", "Vitnen OR samverkn"]
    queries += ["vittnena", "samverkans", "relationernas"]  # found by their stems: nothing to suggest
    assert_same_suggestions(seed_index, seed_bundle, queries + misspelled_queries(seed_index), tmp_path)


@pytest.mark.slow
def test_suggestions_on_a_real_corpus_sample_and_an_index_of_several_segments_agree_with_the_cli(sample, segmented_sample, tmp_path):
    """One segment: whoosh's corrector runs a Levenshtein automaton; several: Damerau-Levenshtein."""
    for index_dir, bundle in (sample[:2], segmented_sample):
        assert_same_suggestions(index_dir, bundle, misspelled_queries(index_dir), tmp_path)


@pytest.mark.slow
def test_the_pages_corrector_picks_the_five_words_whooshs_picks(sample, segmented_sample, tmp_path):
    """whoosh's ReaderCorrector.suggest(word, limit=5, maxdist=2, prefix=2): the five words within
    two edits with the same first two letters that occur most often (ties: the greater word)."""
    for index_dir, bundle in (sample[:2], segmented_sample):
        searcher, _ = search._Opened.searcher(index_dir)
        reader = searcher.reader()
        corrector = searcher.corrector("text_exact")
        words = [q for q in misspelled_queries(index_dir, seed=9) if q.isalpha() and len(q) >= 8]
        words += [w[:2] for w in words[:3]] + ["kommunen", "regeringen", "förslaget"]
        # and words whose five differ when ranked by documents instead of occurrences
        f = "text_exact"
        repeated = [w for w in map(search._text, reader.lexicon(f)) if len(w) >= 7 and w.isalpha() and reader.frequency(f, w) != reader.doc_frequency(f, w)]
        by_docs = []
        for w in repeated:
            within = list(reader.terms_within("text_exact", w, 2, prefix=2))
            top = sorted(within, key=lambda t: (reader.doc_frequency("text_exact", t), t))[-5:]
            if sorted(top) != sorted(corrector.suggest(w, limit=5, maxdist=2, prefix=2)):
                by_docs.append(w)
        assert by_docs
        words += by_docs[:20]
        got = run_node(bundle, [{"op": "corrector", "words": words}], tmp_path)
        want = [sorted(corrector.suggest(w, limit=5, maxdist=2, prefix=2)) for w in words]
        assert [sorted(g) for g in got] == want
        assert sum(len(w) == 5 for w in want) > 3  # the limit of five is reached


@pytest.mark.slow
def test_the_page_counts_a_suggestion_as_the_search_does(sample, segmented_sample, tmp_path):
    """The count a suggestion is judged by is the true total: negations (also of a segment's first
    match) and filters that no unit passes included."""
    words = [q for q in generated_queries(sample[2], 8) if " " not in q and '"' not in q]
    queries = [f"{a} -{b}" for a, b in itertools.permutations(words[:6], 2)]
    queries += [f"{w} datum:2099" for w in words[:3]] + [f"{w} datum:1990..2030 parti:S" for w in words[:3]]
    queries += [f"{w} parti:XX" for w in words[:2]] + [f"{words[0]} -{w}*" for w in ("s", "k", "a")]
    for index_dir, bundle in (sample[:2], segmented_sample):
        got = run_node(bundle, [{"op": "count", "q": q} for q in queries], tmp_path)
        want = [search.search(index_dir, q, facets=False, suggest=False).total for q in queries]
        assert got == want, [(q, w, g) for q, w, g in zip(queries, want, got, strict=True) if w != g]


# ------------------------------------------------------------------------------ prefix queries


def expansion_sizes(index_dir: Path, prefixes: list[str]) -> dict[str, set[int]]:
    """Per prefix: how many terms of the exact field it expands to in each segment (whoosh scores
    one term, two terms and more terms differently)."""
    ix, _ = index.open_index(index_dir)
    with ix.reader() as reader:
        return {p: {sum(1 for _ in leaf.expand_prefix("text_exact", p)) for leaf, _ in reader.leaf_readers()} for p in prefixes}


def prefix_queries(index_dir: Path, n: int = 24) -> list[dict]:
    """Prefix queries over the index's own vocabulary: prefixes that expand to one term, to two
    and to many (up to all words of a first letter), alone, with other words, OR'ed, negated and
    sorted by date (where whoosh scores a long expansion by its terms instead of a constant 1.0)."""
    ix, _ = index.open_index(index_dir)
    with ix.reader() as reader:
        words = sorted({search._text(t) for t in reader.lexicon("text_exact")})
    alpha = [w for w in words if w.isalpha()]
    heads: Counter[str] = Counter(w[:k] for w in alpha for k in (1, 2, 3, 4, 6) if len(w) > k)
    sizes = sorted(heads.items(), key=lambda kv: (kv[1], kv[0]))
    ones = [p for p, c in sizes if c == 1][:: max(1, sum(1 for _, c in sizes if c == 1) // (n // 3))][: n // 3]
    twos = [p for p, c in sizes if c == 2][: n // 3]
    many = [p for p, c in sizes[-4 * n :] if c > 2][::4][: n // 3]
    widest = max(heads, key=lambda p: (len(p) == 1, heads[p]))  # every word of the commonest first letter
    prefixes = [*ones, *twos, *many, widest]
    common = [p for p, _ in sizes[-12:]]
    reqs = [{"q": p + "*"} for p in prefixes]
    reqs += [{"q": p + "*", "sort": "date"} for p in prefixes[::2]]
    reqs += [{"q": f"{w} {p}*"} for w, p in zip(common, prefixes[::3], strict=False)]
    reqs += [{"q": f"{a}* OR {b}*"} for a, b in zip(prefixes[::4], prefixes[1::4], strict=False)]
    # whoosh drops the negation of the first match in a date sort (see the report), so the
    # negated prefixes are compared in relevance order
    reqs += [{"q": f"{w}* -{p}*"} for w, p in zip(common[:4], prefixes[::5], strict=False)]
    reqs += [{"q": f"{p}*", "parti": "S"} for p in common[-3:]]
    return reqs


def assert_prefix_parity(index_dir: Path, bundle: Path, tmp_path: Path) -> None:
    requests = prefix_queries(index_dir)
    prefixes = [r["q"][:-1] for r in requests if r["q"].count("*") == 1 and " " not in r["q"]]
    counts = set().union(*expansion_sizes(index_dir, prefixes).values())
    assert {1, 2} <= counts and max(counts) > 2  # every way whoosh scores an expansion is compared
    assert_same_results(index_dir, bundle, requests, tmp_path)


def test_prefix_queries_give_the_same_results_as_the_cli(seed_index, seed_bundle, tmp_path):
    requests = [{"q": q} for q in ("utred*", "utredning*", "vitt*", "nämnd* budget", "-sam* beslut", "skol* OR förskol*", "s*")]
    requests += [{"q": "utred*", "sort": "date"}, {"q": "s*", "sort": "date"}, {"q": "försk*"}, {"q": "forsk*"}, {"q": "ö*"}]
    assert_same_results(seed_index, seed_bundle, requests, tmp_path)
    assert_prefix_parity(seed_index, seed_bundle, tmp_path)


def test_prefix_queries_agree_across_many_small_vocabulary_shards(seed_index, tmp_path, monkeypatch):
    """Shard boundaries everywhere: a prefix whose terms span several shards finds them all."""
    monkeypatch.setattr(web, "VOCAB_TERMS", 8)
    bundle = tmp_path / "out"
    web.export_bundle(seed_index, bundle)
    root = data_of(bundle / "data" / "root.js")
    assert len(root["vocab"]["exact"]) > 100
    assert_prefix_parity(seed_index, bundle, tmp_path)


def test_searches_agree_when_most_terms_postings_and_positions_are_files_of_their_own(seed_index, expected, tmp_path, monkeypatch):
    """Long lists everywhere: a term's postings in a file of its own, its positions in further files
    named in the bucket beside it (a phrase loads both at once)."""
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    bundle = tmp_path / "out"
    web.export_bundle(seed_index, bundle)
    assert any(isinstance(e, list) for shard in shard_files(bundle) for e in data_of(shard).get("t", {}).values())
    requests = [*seed_requests(expected), {"q": "våld i nära relationer"}, {"q": "budget -skatt"}, {"q": "kommunen budget"}]
    assert_same_results(seed_index, bundle, requests, tmp_path)


def test_seed_searches_give_the_same_top_10_as_the_cli(seed_index, seed_bundle, expected, tmp_path):
    requests = seed_requests(expected)
    requests += [{"q": "våld i nära relationer"}, {"q": "samverkan", "sort": "date"}, {"q": "budget -skatt"}]
    requests += [{"q": "KS 2023/0740"}, {"q": 'samverkan dnr:"ks 2023/740"'}, {"q": "SOD 2023/713"}]
    assert_same_results(seed_index, seed_bundle, requests, tmp_path)


def test_seed_hits_show_the_clis_snippets_with_the_same_words_marked(seed_index, seed_bundle, expected, tmp_path):
    requests = seed_requests(expected)
    requests += [{"q": "våld i nära relationer"}, {"q": "budget -skatt"}, {"q": "samverk*"}, {"q": "våld"}]
    assert assert_same_snippets(seed_index, seed_bundle, requests, tmp_path) >= len(requests)


def test_a_long_texts_snippet_is_found_in_the_same_windows_as_on_the_command_line(seed_bundle, tmp_path):
    """In a text of 4,000 characters or more the CLI looks for matches only within 40 characters
    of the folded beginnings of the query word's forms: `sagt` (lemma `sagd`) 80 characters after
    `sagd` is in the passage shown but not marked there, so it must not be marked on the page."""
    tail = "Ordföranden sagd inledningsvis att budgeten för nästa år, som hon sedan under våren ofta har sagt, räcker."
    body = "Nämnden beslutar om budget för skolan. " * 120 + tail
    assert len(body) > snippets.SCAN_FROM_CHARS
    requests = []
    for text in (body, tail):  # the short text is read whole: both words marked
        found = snippets.find_matches(text, [["sagd"]])
        snippet, spans = snippets.make_snippet(text, found)
        assert [snippet[a:b] for a, b in spans] == (["sagd"] if text is body else ["sagd", "sagt"])
        requests.append({"op": "snippet_of", "q": "sagd", "body": text, "k": web._PageKeys("full").of(text),
                         "want": {"snippet": snippet, "highlights": [list(x) for x in spans]}})
    got = run_node(seed_bundle, requests, tmp_path)
    assert got == [r["want"] for r in requests]


def test_the_bundled_corpus_gives_the_same_top_10_as_the_cli(corpus_index, tmp_path):
    bundle = tmp_path / "out"
    web.export_bundle(corpus_index, bundle)
    requests = [{"q": q} for q in ("våld", "kommunfullmäktige", "barn", "skola OR förskola", "\"barn- och utbildningsnämnden\"", "budget 2024")]
    requests += [{"q": "protokoll", "namnd": "barn"}, {"q": "beslut datum:2024"}, {"q": "beslut", "parti": "S"}]
    assert_same_results(corpus_index, bundle, requests, tmp_path)


FIXED_QUERIES = (
    "budget", "skola", "förskolan", "äldreomsorg", "hemtjänst", "kommunfullmäktige", "interpellation",
    "regeringen", "miljö", "bostäder", "trafiken", "socialtjänsten", "barn och unga", '"barn och unga"',
    "vård OR omsorg", "skatt -kommun", "arbetsmarknaden", "integration", "brottslighet", "polisen",
    "klimatet", "energi", "sjukvården", "utbildning", "kollektivtrafik", "jämställdhet", "försvaret",
    "statsrådet", "anslag", "riksdagen beslut", "vald", "avgifter", "kommunstyrelsen föreslår",
)
# phrases scored by their word pairs (phrases.PairPhrase; the page counts the pairs itself)
PAIR_PHRASES = (
    '"i enlighet med"', '"det är viktigt att"', '"att det"', '"av regeringen"',
    '"att det är" kommunen', '"det är" regeringen', '"i enlighet med" beslut',
)
FIXED_QUERIES += (*PAIR_PHRASES, '"våld i nära relationer"', 'beslut -"i enlighet med"')


def generated_queries(units: list, n: int = 12) -> list[str]:
    """Frequent words and word pairs of the sample itself (so every query finds something)."""
    df: Counter[str] = Counter()
    pairs: Counter[str] = Counter()
    for u in units:
        words = [t.word for t in analysis.tokenize(u.segment.text) if t.word.isalpha() and len(t.word) > 5]
        df.update(set(words))
        pairs.update({f"{a} {b}" for a, b in itertools.pairwise(words)})
    common = [w for w, c in df.most_common() if c < len(units) / 3][:n]
    return common + [f'"{p}"' for p, _ in pairs.most_common(4)] + [p for p, _ in pairs.most_common(8)[4:]]


@pytest.mark.slow
def test_a_real_corpus_sample_gives_the_same_top_10_as_the_cli(sample, tmp_path):
    index_dir, bundle, units = sample
    assert any((bundle / "data" / "p").iterdir())  # common words' postings are files of their own
    queries = list(FIXED_QUERIES) + generated_queries(units)
    assert len(queries) >= 30
    requests = [{"q": q} for q in queries]
    requests += [{"q": "regeringen", "parti": "S"}, {"q": "kommun", "from": "2020"}, {"q": "skola", "sort": "date"}]
    assert_same_results(index_dir, bundle, requests, tmp_path)
    totals = {q: python_top(index_dir, {"q": q})["total"] for q in PAIR_PHRASES}
    assert min(totals.values()) > 1, totals  # not vacuous


def multi_word_queries(units: list) -> list[str]:
    """Queries of plain words, two or more: those a proximity scores; among them the sample's
    most frequent neighbours, whose nearness lifts units into the first hits."""
    plain = [q for q in (*FIXED_QUERIES, *generated_queries(units)) if len(q.split()) > 1 and not re.search(r'["\-]|OR', q)]
    pairs: Counter[str] = Counter()
    for u in units:
        words = [t.word for t in analysis.tokenize(u.segment.text) if t.word.isalpha() and len(t.word) > 3]
        pairs.update({f"{a} {b}" for a, b in itertools.pairwise(words)})
    neighbours = [p for p, _ in pairs.most_common(16)]
    return [*plain, *neighbours, "kommunen budget", "regeringen budget", "barn skola", "regeringen anser att"]


def assert_same_hits_and_scores(index_dir: Path, bundle: Path, requests: list[dict], tmp_path: Path) -> None:
    got = run_node(bundle, [{"op": "search", **r} for r in requests], tmp_path)
    differ = []
    for req, js in zip(requests, got, strict=True):
        py = python_top(index_dir, req)
        if "error" in js or (js["ids"], js["scores"], js["total"]) != (py["ids"], py["scores"], py["total"]):
            differ.append((req, py, js))
    assert not differ, "\n".join(f"{r}: python {p['ids'][:4]} {p['scores'][:4]} ({p['total']}) js {j}" for r, p, j in differ[:4])


@pytest.mark.slow
def test_a_querys_proximity_reads_a_common_words_positions_in_blocks_and_ranks_as_the_cli(sample, tmp_path, monkeypatch):
    """A multi-word query's proximity is checked only in the units whose rank it could change; where
    those are a few of a positions file's blocks, the page reads those blocks and not the file. The
    hits, their scores and order are the command line's: by relevance and by date, filtered, and
    further down the list."""
    index_dir, _, units = sample
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    monkeypatch.setattr(web, "POSITION_BLOCK", 4)
    monkeypatch.setattr(web, "POSITION_BLOCKS_FROM", 40)  # a rarer word's positions have none
    monkeypatch.setattr(web, "POSITION_BLOCKS_MAX", 32)  # a common one's blocks larger than 4
    bundle = tmp_path / "out"
    web.export_bundle(index_dir, bundle)
    queries = multi_word_queries(units)
    assert len(queries) >= 8, queries
    variants = ({}, {"limit": 5}, {"limit": 40}, {"sort": "date", "limit": 5}, {"sort": "date", "limit": 40}, {"parti": "S"})
    requests = [{"q": q, **more} for q in queries for more in variants]
    assert_same_hits_and_scores(index_dir, bundle, requests, tmp_path)
    whole = positions_refs(bundle)
    blocks_only = 0
    for q in queries:
        found, loaded = run_node(bundle, [{"op": "search", "q": q}, {"op": "loaded"}], tmp_path)
        blocks = {name.rsplit("-", 2)[0] for name in loaded if re.fullmatch(r"p/[0-9a-f]+-\d+-\d+", name)}
        assert found["total"] > 0 and not blocks & set(loaded), q  # never a file and its blocks
        blocks_only += bool(blocks) and all(whole[ref] == "stem" for ref in blocks)
    assert blocks_only >= 3, blocks_only


@pytest.mark.slow
def test_a_positions_block_that_cannot_be_read_is_read_in_its_whole_file(sample, tmp_path, monkeypatch):
    index_dir, _, units = sample
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    monkeypatch.setattr(web, "POSITION_BLOCK", 4)
    monkeypatch.setattr(web, "POSITION_BLOCKS_FROM", 40)  # a rarer word's positions have none
    bundle = tmp_path / "out"
    web.export_bundle(index_dir, bundle)
    for block in (bundle / "data" / "p").glob("*-*-*.js"):
        block.unlink()
    requests = [{"q": q} for q in multi_word_queries(units)]
    assert_same_hits_and_scores(index_dir, bundle, requests, tmp_path)


@pytest.mark.slow
def test_a_long_terms_exact_weights_apart_are_read_for_the_word_itself_only(sample, tmp_path, monkeypatch):
    """Where a long term's exact weights are a file of their own, the page reads it for a query
    word that is the term itself, not for one that only stems to it (``kommunen`` reads
    ``kommun``'s stem, fold, parts and title weights); the answers are the command line's. They
    are a file apart only where the other fields' weights are as large (``web._weights_refs``):
    an inflected form's are few, and it is searched as the query word itself."""
    index_dir, _, units = sample
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    monkeypatch.setattr(web, "SURFACE_APART_CHARS", 100)
    bundle = tmp_path / "out"
    web.export_bundle(index_dir, bundle)
    apart = {}  # the second weights file -> its term
    together = 0  # long terms whose exact weights would be large enough, in one file with few others
    for shard in shard_files(bundle):
        for term, e in data_of(shard).get("t", {}).items():
            if not isinstance(e, list):
                continue
            if not isinstance(e[2], str):
                first, second = (data_of(bundle / "data" / f"{name}.js") for name in e[2])
                assert set(second) <= set(web.SURFACE_FIELDS) and not set(first) & set(web.SURFACE_FIELDS)
                assert min(len(web._dumps(first)), len(web._dumps(second))) >= 100
                apart[e[2][1]] = term
                continue
            weights = data_of(bundle / "data" / f"{e[2]}.js")
            surface = len(web._dumps({f: p for f, p in weights.items() if f in web.SURFACE_FIELDS}))
            rest = len(web._dumps({f: p for f, p in weights.items() if f not in web.SURFACE_FIELDS}))
            assert min(surface, rest) < 100, term
            together += surface >= 100
    assert len(apart) > 20 and together > 10, (len(apart), together)
    queries = [*FIXED_QUERIES, *generated_queries(units), *multi_word_queries(units), "kommunen", "kommun", "kommunen budget"]
    requests = [{"q": q} for q in queries] + [{"q": q, "parti": "S"} for q in queries[:10]]
    assert_same_hits_and_scores(index_dir, bundle, requests, tmp_path)
    # an inflected word of the sample whose stem is such a term (``tiden``: ``tid``)
    terms = sorted(apart.values())
    words = [t + end for t in terms for end in ("en", "et", "er", "na")]
    (found,) = run_node(bundle, [{"op": "forms", "words": words}], tmp_path)
    inflected = [(w, f["stem"][0]) for w, f in zip(words, found, strict=True) if f["stem"][:1] and f["stem"][0] in terms]
    assert inflected
    word, stem = inflected[0]
    read = {}
    for q in (word, stem):
        result, loaded = run_node(bundle, [{"op": "search", "q": q, "parti": "S"}, {"op": "loaded"}], tmp_path)
        assert result["total"] > 0, q
        read[q] = {apart[name] for name in loaded if name in apart}
    assert stem not in read[word] and stem in read[stem], (word, read)


@pytest.mark.slow
def test_a_real_corpus_samples_hits_show_the_clis_snippets(sample, tmp_path):
    """Long texts (scanned in windows), compounds and lemmas marked as the CLI marks them."""
    index_dir, bundle, units = sample
    queries = [*FIXED_QUERIES, *generated_queries(units), "utred*", "regering*", "våld", "brottsoffer"]
    assert assert_same_snippets(index_dir, bundle, [{"q": q} for q in queries], tmp_path) > 300
    assert max(len(u.segment.text) for u in units) > snippets.SCAN_FROM_CHARS  # windows are exercised


def listed_words_and_weights_files(bundle: Path) -> tuple[dict[str, list[int]], set[str]]:
    """The words whose top hits the bundle lists (toplists) with the listed scores, and the long
    terms' weights' files. Every listed word is flagged in its term shard, and only those."""
    flagged, weights = set(), set()
    for shard in shard_files(bundle):
        data = data_of(shard)
        flagged |= set(data.get("l", []))
        weights |= {ref for e in data.get("t", {}).values() if isinstance(e, list) for ref in ([e[2]] if isinstance(e[2], str) else e[2])}
    lists = data_of(bundle / "data" / "root.js")["lists"]
    listed = {}
    for i in range(lists["files"]):
        listed |= {w: web.unpack_ints(e[1]) for w, e in data_of(bundle / "data" / "r" / f"{i}-{lists['tag']}.js").items()}
    assert set(listed) == flagged
    return listed, weights


@pytest.mark.slow
def test_listed_words_give_the_clis_hits_and_scores_and_their_weights_are_not_loaded(sample, tmp_path, monkeypatch):
    """A common word's first hits are listed in the bundle, in whoosh's order: the page shows the
    first n sorted by rounded score and date as the command line does (equal rounded scores
    straddle the 10th hit of `regeringen` in this sample), counts the matches and facets from its
    terms' units alone, and scores on its own beyond the list."""
    index_dir, _, units = sample
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)  # a 600-unit sample has few long lists
    monkeypatch.setattr(toplists, "MIN_WEIGHT_CHARS", 300)
    bundle = tmp_path / "out"
    web.export_bundle(index_dir, bundle)
    listed, weights_files = listed_words_and_weights_files(bundle)
    words = [q for q in (*FIXED_QUERIES, *generated_queries(units)) if q in listed]
    assert len(words) >= 8, words
    requests = [{"q": w, "limit": limit} for w in words for limit in (10, 20, 30)]
    requests += [{"q": w, "parti": "S"} for w in words[:3]] + [{"q": w, "sort": "date"} for w in words[:3]]
    got = run_node(bundle, [{"op": "search", **r} for r in requests], tmp_path)
    differ = []
    for req, js in zip(requests, got, strict=True):
        py = python_top(index_dir, req)
        if "error" in js or (js["ids"], js["scores"], js["total"], js["facets"]) != (py["ids"], py["scores"], py["total"], py["facets"]):
            differ.append((req, py, js))
    assert not differ, "\n".join(f"{r}: python {p['ids'][:5]} {p['scores'][:3]} ({p['total']}) js {j}" for r, p, j in differ[:5])
    assert max(python_top(index_dir, {"q": w})["total"] for w in words) > toplists.TOP_HITS  # the list is not every hit
    assert any(len(listed[w]) > 10 and listed[w][9] == listed[w][10] for w in words)  # a tie across the 10th hit
    for w in words[:3]:
        found, loaded, _, after_limit_30 = run_node(bundle, [{"op": "search", "q": w}, {"op": "loaded"},
                                                             {"op": "search", "q": w, "limit": 30}, {"op": "loaded"}], tmp_path)
        assert found["total"] > 0 and not weights_files & set(loaded), w
        if found["total"] > toplists.TOP_HITS:  # beyond the list the page scores: it loads the weights
            assert weights_files & set(after_limit_30), w


def changed_term_shards(index_dir: Path, new_units: list, out: Path) -> dict:
    """Export ``index_dir`` into ``out``, add ``new_units`` to it, export again: the buckets whose
    term shard is new, each bucket's listed words before and after, and the lists' tags."""
    def state() -> tuple[dict[int, tuple[str, list[str]]], str | None]:
        shards = {int(p.name.split("-")[0]): (p.name, data_of(p).get("l", [])) for p in (out / "data" / "t").iterdir()}
        return shards, data_of(out / "data" / "root.js").get("lists", {}).get("tag")

    web.export_bundle(index_dir, out)
    before, tag_before = state()
    index_units(index_dir, new_units, full=False)
    web.export_bundle(index_dir, out)
    after, tag_after = state()
    return {
        "changed": {b for b in after if after[b][0] != before.get(b, ("",))[0]},
        "flags_changed": {b for b in after if after[b][1] != before.get(b, ("", []))[1]},
        "listed": [w for v in after.values() for w in v[1]],
        "tags": (tag_before, tag_after),
    }


@pytest.mark.slow
def test_an_update_makes_no_more_term_shards_new_with_listed_hits_than_without(sample, tmp_path, monkeypatch):
    """The listed hits' scores change with every update (the unit count and average lengths
    change), so they live in files of their own: the term shards that an update makes new are
    those it makes new without any listed hits, and those whose listed words changed."""
    index_dir, _, _ = sample
    new_units = volume_units(606)[600:]
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    runs = {}
    for name, min_chars in (("none", 10**12), ("lists", 300)):
        monkeypatch.setattr(toplists, "MIN_WEIGHT_CHARS", min_chars)
        shutil.copytree(index_dir, tmp_path / name / "ix", ignore=shutil.ignore_patterns("*.lock"))
        runs[name] = changed_term_shards(tmp_path / name / "ix", new_units, tmp_path / name / "out")
    none, lists = runs["none"], runs["lists"]
    assert not none["listed"] and len(lists["listed"]) > 100
    assert lists["tags"][0] != lists["tags"][1]  # the lists changed: new scores
    assert none["changed"] and lists["changed"] - none["changed"] <= lists["flags_changed"]
    assert len(lists["flags_changed"]) < len(lists["listed"]) / 10


@pytest.mark.slow
def test_a_bundle_updated_meeting_by_meeting_gives_the_same_answers_as_the_cli(sample, tmp_path, monkeypatch):
    """Three updates, each exported over the last bundle: their units are past the first
    export's cut, so a long term's postings come in two parts (the older units' files, a recent
    part inline or in files of its own), which the page puts one after the other: ids, scores,
    totals and facets as `search --json` gives them, phrases and the proximity of two words too."""
    index_dir, _, units = sample
    monkeypatch.setattr(web, "BIG_TERM_CHARS", 120)
    monkeypatch.setattr(web, "RECENT_SHARE", 1)
    ix, out = tmp_path / "ix", tmp_path / "out"
    shutil.copytree(index_dir, ix, ignore=shutil.ignore_patterns("*.lock"))
    web.export_bundle(ix, out)
    new_units = volume_units(630)[600:]
    for start in range(0, 30, 10):
        index_units(ix, new_units[start : start + 10], full=False)
        web.export_bundle(ix, out)
    long = [e for shard in shard_files(out) for e in data_of(shard).get("t", {}).values() if isinstance(e, list)]
    recent = [e[4] for e in long if len(e) > 4]
    assert len(recent) > 100 and any(isinstance(r, list) for r in recent), len(recent)
    queries = [*FIXED_QUERIES, *generated_queries(units), *generated_queries(new_units, n=6), "kommunen budget"]
    requests = [{"q": q} for q in queries] + [{"q": q, "sort": "date"} for q in queries[:4]]
    requests += [{"q": "regeringen", "parti": "S"}, {"q": "kommun", "from": "2020"}, {"q": "skola", "limit": 30}]
    assert_same_results(ix, out, requests, tmp_path)


@pytest.mark.slow
def test_the_page_loads_positions_and_pairs_for_phrases_only_and_not_those_of_function_words(sample, tmp_path):
    """A word's query loads neither positions nor word pairs (their shards, ``data/q/``); a
    phrase loads its pairs' and never a word's positions."""
    _, bundle, _ = sample
    kept_apart = positions_refs(bundle)  # positions file -> its field
    assert "stem" in set(kept_apart.values())
    requests = [{"op": "search", "q": "regeringen"}, {"op": "loaded"}, {"op": "search", "q": '"det är viktigt att"'}, {"op": "loaded"}]
    word, after_word, phrase, after_phrase = run_node(bundle, requests, tmp_path)
    assert word["total"] > 100 and phrase["total"] > 1  # not vacuous
    assert not kept_apart.keys() & set(after_word)
    assert not [name for name in after_word if name.startswith("q/")]
    assert [name for name in after_phrase if name.startswith("q/")]
    read = [kept_apart[name] for name in set(after_phrase) & kept_apart.keys()]
    assert all(field == "pair" for field in read), read  # never a word's, so not a function word's


@pytest.mark.slow
def test_prefix_queries_on_a_real_corpus_sample_give_the_same_results_as_the_cli(sample, tmp_path):
    index_dir, bundle, _ = sample
    assert_prefix_parity(index_dir, bundle, tmp_path)


@pytest.mark.slow
def test_an_index_of_several_segments_gives_the_same_top_10_as_the_cli(sample, segmented_sample, tmp_path):
    index_dir, bundle = segmented_sample
    assert len(search._Opened.searcher(index_dir)[0].reader().leaf_readers()) > 2
    queries = list(FIXED_QUERIES) + generated_queries(sample[2])
    assert_same_results(index_dir, bundle, [{"q": q} for q in queries], tmp_path)


@pytest.mark.slow
def test_prefix_queries_on_an_index_of_several_segments_give_the_same_results_as_the_cli(segmented_sample, tmp_path):
    """whoosh expands a prefix per segment, counting the terms of each segment's lexicon (also
    those only deleted documents hold), and scores by that count."""
    index_dir, bundle = segmented_sample
    root = data_of(bundle / "data" / "root.js")
    assert len(root["segs"]) > 2
    shards = [data_of(bundle / "data" / "v" / f"exact-{h}.js") for _, h in root["vocab"]["exact"]]
    assert any(s.get("x") for s in shards)  # terms that a segment's lexicon holds only for deleted units
    assert_prefix_parity(index_dir, bundle, tmp_path)
    ghosts = ghost_prefixes(index_dir)
    assert len(ghosts) >= 5
    assert_same_results(index_dir, bundle, [{"q": p + "*"} for p in ghosts], tmp_path)


def ghost_prefixes(index_dir: Path, n: int = 40) -> list[str]:
    """Prefixes for which a segment's lexicon holds one or two live terms and also terms of
    deleted documents only: counting only the live ones would score that segment differently."""
    ix, _ = index.open_index(index_dir)
    out = []
    with ix.reader() as reader:
        words = sorted({search._text(t) for t in reader.lexicon("text_exact")})
        for p in sorted({w[:k] for w in words for k in (2, 3, 4) if w[:k].isalpha() and len(w) > k}):
            for leaf, _ in reader.leaf_readers():
                terms = list(leaf.expand_prefix("text_exact", p))
                live = [t for t in terms if any(not leaf.is_deleted(d) for d in leaf.postings("text_exact", t).all_ids())]
                if 1 <= len(live) <= 2 and len(terms) > len(live):
                    out.append(p)
                    break
    return out[:: max(1, len(out) // n)]
