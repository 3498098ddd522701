"""Start-up: whoosh is imported without the standard-library modules a search never uses, and
those modules still work for anything that imports them afterwards."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_importing_search_does_not_import_http_email_or_asyncio():
    out = _run(
        """
        import sys
        import protokollsok.search
        print(sorted(m for m in ("asyncio", "http.client", "email.parser") if m in sys.modules))
        """
    )
    assert out == "[]"


def test_a_search_runs_without_loading_them(corpus_index):
    out = _run(
        f"""
        import sys
        from protokollsok.search import search
        hits = search({str(corpus_index)!r}, "nämnden", limit=3).hits
        print(len(hits), "asyncio" in sys.modules, "http.client" in sys.modules)
        """
    )
    assert out == "3 False False"


def test_code_importing_them_later_gets_the_real_modules():
    out = _run(
        """
        import sys
        import protokollsok.search
        import urllib.request
        from urllib.request import Request
        from cached_property import threaded_cached_property
        from whoosh.lang.morph_en import variations
        print(urllib.request.urlopen.__module__, Request.__module__, threaded_cached_property.__module__)
        print(sys.modules["urllib.request"].__file__.endswith("request.py"), "render" in variations("rendering"))
        """
    )
    assert out.splitlines() == ["urllib.request urllib.request cached_property", "True True"]


def test_whoosh_keeps_its_cached_property_behaviour(corpus_index):
    """whoosh's one cached property (a segment's deleted documents) is computed once per reader."""
    from protokollsok.search import _Opened

    searcher, _ = _Opened.searcher(corpus_index)
    leaf = searcher.reader().leaf_readers()[0][0]
    assert leaf.deleted_docs_set is leaf.deleted_docs_set
    assert "deleted_docs_set" in vars(leaf)


def test_a_process_that_searches_again_scores_common_words_with_numpy(tmp_path):
    """A one-off command does not import numpy (0.1 s) for a query of a few thousand postings;
    a process that searches again does, once, and answers the same."""
    from conftest import volume_units
    from protokollsok.index import index_units

    index_units(tmp_path / "i", volume_units(800))
    out = _run(
        f"""
        import sys
        from protokollsok import search
        from protokollsok.query import parse
        search.VECTORS_LOADED_FROM, search.VECTORS_FROM = 100, 1000  # as 2,000 and 20,000 at 10x the units
        searcher, info = search._Opened.searcher({str(tmp_path / "i")!r})
        builder = search._Builder(searcher, info.chain)
        def size(q):
            return builder.build(parse(q))[0].estimate_size(searcher.reader())
        words = ["regeringen", "kommunen", "beslut", "förslag", "arbete"]
        q = next(w for w in words if search.VECTORS_LOADED_FROM <= size(w) < search.VECTORS_FROM)
        first = search.search({str(tmp_path / "i")!r}, q).to_json()
        print("numpy" in sys.modules)
        again = search.search({str(tmp_path / "i")!r}, q).to_json()
        print("numpy" in sys.modules, first == again)
        """
    )
    assert out.splitlines() == ["False", "True True"]


@pytest.mark.parametrize(("query", "numpy"), [("regeringen arbete", True), ("budget regeringen", False)])
def test_a_one_off_command_weighs_an_and_by_the_postings_its_matchers_read(tmp_path_factory, query, numpy):
    """Two common words (373 and 255 units of 800): whoosh's matchers walk both words' postings
    in every field, so the command pays numpy's import to score them at once, although whoosh's
    estimate of the query's size is below the threshold. A rarer word with a common one (44 and
    373): the intersection skips through the common word at the rarer word's units, so whoosh's
    matchers are cheaper and numpy is not imported."""
    from conftest import volume_units
    from protokollsok.index import index_units

    ix = tmp_path_factory.mktemp("and") / "i"
    index_units(ix, volume_units(800))
    out = _run(
        f"""
        import sys
        from protokollsok import search
        from protokollsok.query import parse
        search.VECTORS_FROM = 400  # as 20,000 at 50x the units
        searcher, info = search._Opened.searcher({str(ix)!r})
        q = search._Builder(searcher, info.chain).build(parse({query!r}))[0]
        assert q.estimate_size(searcher.reader()) < search.VECTORS_FROM
        search.search({str(ix)!r}, {query!r})
        print("numpy" in sys.modules)
        """
    )
    assert out == str(numpy)
