"""Reading a segment's terms a few megabytes at a time (``postings.field_terms``) gives what
whoosh's ``iter_field`` gives: the same terms in the same order with the same term infos, from any
start, in every field, whatever the size of the reads."""

from __future__ import annotations

from pathlib import Path

import pytest
from whoosh.fields import NUMERIC

from conftest import updated_synthetic_index
from protokollsok import postings
from protokollsok.search import _Opened

WORDS = ["skolan", "budget", "nämnden", "beslutar", "äldreomsorg", "och", "i", "förslaget", "barn",
         "kommunen", "vård", "vården", "omsorg", "att", "med", "enlighet", "2024", "ks-2023-00120"]


@pytest.fixture(scope="module")
def leaves(tmp_path_factory) -> list:
    """The segments of 200 units, a third of them then replaced (deletions, several segments)."""
    path: Path = tmp_path_factory.mktemp("postings") / "i"
    searcher, _ = _Opened.searcher(updated_synthetic_index(path, 200, WORDS, seed=7, longest=50))
    return [leaf for leaf, _ in searcher.reader().leaf_readers()]


def _infos(items) -> list[tuple[bytes, dict]]:
    return [(t, vars(info)) for t, info in items]


@pytest.mark.parametrize("chunk", [1, 37, postings.RECORDS_CHUNK])
def test_a_fields_terms_read_in_chunks_are_whooshs_with_their_term_infos(leaves, chunk):
    assert len(leaves) > 1
    for leaf in leaves:
        for fname in sorted(leaf.schema.names()):
            if not leaf.schema[fname].indexed or isinstance(leaf.schema[fname], NUMERIC):
                continue  # whoosh's iter_field cannot start a number field from b""
            want = _infos(leaf.iter_field(fname))
            assert _infos(postings.field_terms(leaf, fname, chunk=chunk)) == want
    assert sum(len(list(postings.field_terms(leaf, "text_stem"))) for leaf in leaves) > 20


def test_terms_from_a_start_are_whooshs_from_there(leaves):
    leaf = leaves[0]
    terms = [t for t, _ in leaf.iter_field("text_stem")]
    for start in [b"", terms[0], terms[len(terms) // 2], terms[-1], terms[3] + b"a", b"\xc3\xb6\xc3\xb6\xc3\xb6", b"0"]:
        want = _infos(leaf.iter_field("text_stem", start.decode("utf-8")))
        assert _infos(postings.field_terms(leaf, "text_stem", start, chunk=64)) == want
    assert not list(postings.field_terms(leaf, "text_stem", b"\xc3\xb6\xc3\xb6\xc3\xb6"))



def _holding_by_reading_every_list(leaf, fname: str, docs: set[int]) -> list[bytes]:
    def ids(term: bytes, info) -> list[int]:  # deleted documents too
        return info.inlined_postings()[0] if info.is_inlined() else postings.leaf_ids(leaf.postings(fname, term))

    return [t for t, info in leaf.iter_field(fname) if docs & set(ids(t, info))]


def test_the_terms_holding_some_documents_are_those_whose_postings_hold_one(leaves):
    """Deleted documents too (an update's export reads the terms its deleted units held)."""
    import random

    rng = random.Random(3)
    deleted = [[d for d in range(leaf.doc_count_all()) if leaf.is_deleted(d)] for leaf in leaves]
    assert any(deleted)
    for leaf, gone in zip(leaves, deleted, strict=True):
        n = leaf.doc_count_all()
        for docs in (gone, [0], [n - 1], sorted(rng.sample(range(n), min(5, n))), []):
            for fname in ("text_stem", "text_exact", "dnr", "title", "id"):  # (id: one posting each, in the term info)
                want = _holding_by_reading_every_list(leaf, fname, set(docs))
                assert list(postings.holding(leaf, fname, docs)) == want
    assert any(list(postings.holding(leaf, "text_stem", gone)) for leaf, gone in zip(leaves, deleted, strict=True))
