"""The query language: what users type and how it is read (never an exception on the text)."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from protokollsok.errors import QueryError
from protokollsok.query import Clause, date_range, parse


def test_words_must_all_match():
    q = parse("vittnen tystnadskultur")
    assert q.slots == [[Clause("word", ("vittnen",))], [Clause("word", ("tystnadskultur",))]]


def test_quoted_words_are_a_phrase():
    q = parse('"våld i nära relationer"')
    assert q.slots == [[Clause("phrase", ("våld", "i", "nära", "relationer"))]]


def test_or_joins_the_words_on_each_side():
    q = parse("skola OR förskola budget")
    assert q.slots == [
        [Clause("word", ("skola",)), Clause("word", ("förskola",))],
        [Clause("word", ("budget",))],
    ]


def test_minus_excludes_a_word_or_phrase():
    q = parse('budget -skatt -"höjd avgift"')
    assert q.slots == [[Clause("word", ("budget",))]]
    assert q.excluded == [
        Clause("word", ("skatt",), negated=True),
        Clause("phrase", ("höjd", "avgift"), negated=True),
    ]


def test_star_makes_a_prefix():
    assert parse("utred*").slots == [[Clause("prefix", ("utred",))]]


def test_field_syntax_becomes_filters():
    q = parse('nämnd:socialnämnden namnd:"Södermalms stadsdelsnämnd" parti:KD,M dnr:"KS 2023/740" datum:2023 våld')
    assert q.namnd == ["socialnämnden", "Södermalms stadsdelsnämnd"]
    assert q.parti == ["KD", "M"]
    assert q.dnr == ["KS 2023/740"]
    assert (q.date_from, q.date_to) == ("2023-01-01", "2023-12-31")
    assert q.words == ["våld"]


@pytest.mark.parametrize(
    ("text", "dnr"),
    [
        ("KS 2023/740", "KS 2023/740"),
        ("SÖD 2023/713 remiss", "SÖD 2023/713"),
        ("1.7.1-266/2019", "1.7.1-266/2019"),
        ("Bun/2024:73", "Bun/2024:73"),
        ("SLK-2025-00338", "SLK-2025-00338"),
    ],
)
def test_a_diarienummer_in_the_query_is_recognised(text, dnr):
    q = parse(text)
    assert Clause("dnr", (dnr,)) in [c for slot in q.slots for c in slot]


def test_unknown_field_is_read_as_words():
    q = parse("http://example.se")
    assert q.words and not q.namnd


@pytest.mark.parametrize(
    ("value", "bounds"),
    [
        ("2023", ("2023-01-01", "2023-12-31")),
        ("2023-05", ("2023-05-01", "2023-05-31")),
        ("2023-01-01..2023-06-30", ("2023-01-01", "2023-06-30")),
        ("2023..", ("2023-01-01", None)),
        ("..2022", (None, "2022-12-31")),
    ],
)
def test_date_ranges(value, bounds):
    assert date_range(value) == bounds


def test_an_unreadable_date_says_how_to_write_it():
    with pytest.raises(QueryError, match="2023-05-17"):
        parse("datum:igår")


@pytest.mark.parametrize("text", ['"unbalanced', "OR", "-", "OR OR -", ":", "nämnd:", '""', "*", "a" * 10_000, "§§§ ¤ \x00"])
def test_broken_input_is_read_plainly(text):
    parse(text)  # no exception


@settings(max_examples=400, deadline=None)
@given(st.text(max_size=300))
def test_no_query_string_raises_anything_but_a_query_error(text):
    with contextlib.suppress(QueryError):
        parse(text)
