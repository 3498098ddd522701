"""Phrases found through the word-pair field: the same documents as whoosh's phrase matching on
word positions, only true phrases, and scored by how often the phrase itself occurs."""

from __future__ import annotations

import math
import random
from collections import Counter

import pytest
from whoosh import query as wq
from whoosh.scoring import bm25

from protokollsok import analysis, termtable
from protokollsok.index import index_units
from protokollsok.model import Metadata, Segment, Unit
from protokollsok.phrases import PAIR_FIELD, PairPhrase, plan
from protokollsok.search import _DocSets, _Opened, search

MASK = wq.Term("doctype", "file")


def _unit(k: int, text: str) -> Unit:
    seg = Segment(f"f{k}.txt#§1", f"f{k}.txt", "paragraf", 1, "Ärende", text, 0, len(text), (1, 1))
    return Unit(seg, Metadata((), "Kulturnämnden", f"2024-01-{k % 28 + 1:02d}", (), "protokoll"))


def _stems(words, chain, reader) -> list[str]:
    return [termtable.query_forms(w, chain, reader).stem[0] for w in words]


def _same_as_whoosh(searcher, chain: str, words) -> None:
    """PairPhrase finds the documents of whoosh's Phrase (slop 1), and its scored top 10 is the
    top 10 of ``_expected_scores`` (ties in document order, as whoosh's collector keeps them)."""
    reader = searcher.reader()
    stems = _stems(words, chain, reader)
    ours, theirs = PairPhrase(stems), wq.Phrase("text_stem", stems, slop=1)
    docs = set(searcher.docs_for_query(theirs)) - set(searcher.docs_for_query(MASK))
    assert _DocSets(searcher).docs(ours) == docs, words
    expected = _expected_scores(searcher, stems, docs)
    ranked = sorted(expected.items(), key=lambda kv: (-kv[1], kv[0]))
    for limit in (1, 10):
        top = [(h.docnum, h.score) for h in searcher.search(ours, limit=limit, mask=MASK, optimize=True)]
        assert top == ranked[:limit], words


def _expected_scores(searcher, stems, docs) -> dict[int, float]:
    """The phrase's score per document, computed from the words' positions in ``text_stem`` (as
    the web page does, without the pair field): each pair of neighbours with a function word
    scores as a term whose frequency is how often the two stems stand next to each other, and
    whose document frequency is the number of live documents where they do; each other word
    scores as itself; BM25 with the document's ``text_stem`` length, added up in plan order."""
    reader = searcher.reader()
    live = {d for d in range(reader.doc_count_all()) if not reader.is_deleted(d)}
    positions = [_positions(reader, s, live) for s in stems]
    items = plan(stems)
    frequencies, idfs = [], []
    for field, _, k in items:
        if field == PAIR_FIELD:
            freq = {d: sum(1 for p in ps if p + 1 in positions[k + 1].get(d, ())) for d, ps in positions[k].items()}
            freq = {d: n for d, n in freq.items() if n}
            df = len(freq)
        else:
            freq = {d: len(ps) for d, ps in positions[k].items()}
            df = reader.doc_frequency("text_stem", stems[k])
        frequencies.append(freq)
        idfs.append(math.log(reader.doc_count_all() / (df + 1)) + 1)
    avgfl = searcher.avg_field_length("text_stem")
    out: dict[int, float] = {}
    for d in docs:
        fl = reader.doc_field_length(d, "text_stem")
        s = 0.0
        for idf, freq in zip(idfs, frequencies, strict=True):
            s += bm25(idf, freq[d], fl, avgfl, 0.75, 1.2)
        out[d] = s
    return out


def _positions(reader, stem: str, live: set[int]) -> dict[int, set[int]]:
    if ("text_stem", stem) not in reader:
        return {}
    m = reader.postings("text_stem", stem)
    out: dict[int, set[int]] = {}
    while m.is_active():
        if m.id() in live:
            out[m.id()] = set(m.value_as("positions"))
        m.next()
    return out


def test_neighbours_with_a_function_word_are_indexed_as_pairs_of_every_stem():
    words = ("våldet", "i", "nära", "relationer", "ger", "psykisk", "ohälsa")
    got = [(pos, term) for pos, term, _, _ in analysis.analyse(" ".join(words), analysis.PAIR)]
    stems = [analysis.forms(w).stem for w in words]
    expected = [
        (pos, analysis.pair_term(a, b))
        for pos in range(len(words) - 1)
        for a in stems[pos]
        for b in stems[pos + 1]
        if a in analysis.pair_stems() or b in analysis.pair_stems()
    ]
    assert got == expected
    assert (0, "våldet i") in got and (0, "våld i") in got  # every stem of "våldet"
    assert not any(term == "psykisk ohäls" for _, term in got)  # no function word: no pair


def test_a_phrase_looks_up_its_pairs_and_the_words_in_no_pair():
    assert plan(["våld", "i", "när", "relation"]) == [
        (PAIR_FIELD, "våld i", 0),
        (PAIR_FIELD, "i när", 1),
        (PAIR_FIELD, "när relation", 2),  # "nära" stems to "när", a function word's stem
    ]
    assert plan(["psykisk", "ohäls"]) == [("text_stem", "psykisk", 0), ("text_stem", "ohäls", 1)]
    assert plan(["stöd", "till", "psykisk", "ohäls"]) == [
        (PAIR_FIELD, "stöd till", 0),
        (PAIR_FIELD, "till psykisk", 1),
        ("text_stem", "ohäls", 3),
    ]


def test_a_phrase_needs_its_pairs_and_words_one_after_the_other(tmp_path):
    """Every pair and word of a phrase in one unit, but apart, is not the phrase."""
    texts = [
        "nämnden beslutar att godkänna förslaget i enlighet med bilagan",  # the phrases
        "nämnden beslutar. Därefter: beslutar att godkänna något annat",  # pair and words, apart
        "att godkänna beslutar nämnden; i enlighet. Enlighet med",  # other order; pairs apart
    ]
    index_units(tmp_path / "i", [_unit(k, t) for k, t in enumerate(texts)])
    for phrase in ('"nämnden beslutar att"', '"i enlighet med"', '"godkänna förslaget i enlighet"'):
        result = search(tmp_path / "i", phrase, limit=10)
        assert [h.id for h in result.hits] == ["f0.txt#§1"] and result.total == 1, phrase
    assert search(tmp_path / "i", '"nämnden beslutar"', limit=10).total == 2


def test_phrases_match_as_whoosh_and_score_by_their_pairs_on_the_bundled_corpus(corpus_index):
    searcher, info = _Opened.searcher(corpus_index)
    assert PAIR_FIELD in searcher.schema
    rng = random.Random(5)
    texts = [d.get("body") or "" for d in searcher.all_stored_fields() if d.get("body")]
    phrases = [("våld", "i", "nära", "relationer"), ("i", "enlighet", "med"), ("att", "det", "är")]
    while len(phrases) < 120:
        words = [t.word for t in analysis.tokenize(rng.choice(texts))]
        k = rng.choice((2, 3, 4, 5))
        if len(words) > k:
            i = rng.randrange(len(words) - k)
            phrases.append(tuple(words[i : i + k]))
    for words in phrases:
        _same_as_whoosh(searcher, info.chain, words)


def test_phrases_match_as_whoosh_over_segments_with_deletions(tmp_path):
    rng = random.Random(11)
    vocabulary = ["i", "att", "med", "nämnden", "beslutar", "enlighet", "förslaget", "skolan", "och", "det", "är"]

    def text() -> str:
        return " ".join(rng.choice(vocabulary) for _ in range(rng.randint(5, 60)))

    index_units(tmp_path / "i", [_unit(k, text()) for k in range(600)], parallel=True)
    index_units(tmp_path / "i", [_unit(k, text()) for k in range(0, 600, 4)], full=False)
    searcher, info = _Opened.searcher(tmp_path / "i")
    reader = searcher.reader()
    assert reader.has_deletions() and len(reader.leaf_readers()) > 1
    for _ in range(60):
        _same_as_whoosh(searcher, info.chain, [rng.choice(vocabulary) for _ in range(rng.randint(2, 4))])


@pytest.mark.parametrize("query", ['"våld i nära relationer"', '"i enlighet med"', 'beslut -"i enlighet med"'])
def test_a_phrase_query_counts_what_it_lists(corpus_index, query):
    everything = search(corpus_index, query, limit=10_000)
    assert everything.total == len(everything.hits) > 0
    years = Counter(h.datum[:4] for h in everything.hits if h.datum)
    assert dict(everything.facets["year"]) == dict(years)
