"""The whoosh schema: one document per unit (plus one bookkeeping document per source file).

Text is indexed four times (see ``analysis``): ``exact`` > ``stem`` > ``fold`` / ``parts``, weighted
by ``FIELD_BOOSTS`` at query time, and a fifth time as word pairs (``text_pair``, which finds
phrases; never scored). Only ``stem`` and ``pair`` keep positions.
Metadata fields are keywords for filtering and facets (``dnr`` lower-cased, ``namnd_key`` folded);
the display values are stored.

Bookkeeping documents (``doctype`` = ``file``) record, per source file, its sha256 and unit ids, so
the manifest is committed in the same transaction as the units it describes (see ``manifest``).
"""

from __future__ import annotations

from collections.abc import Iterable

from whoosh import fields as wfields
from whoosh import formats
from whoosh.analysis import Analyzer, IDTokenizer
from whoosh.analysis import Token as WToken
from whoosh.fields import ID, KEYWORD, NUMERIC, STORED, TEXT, Schema
from whoosh.system import pack_uint

from protokollsok import analysis

# Field weights. A word found exactly also matches its stem (and folded stem), so any positive
# exact weight puts an exact match above a stem-only one, and a stem match above a folded or
# compound-part one. The values were chosen on the judged query set (bench/results/
# search_quality.md; no held-out set): a heavy exact weight (4) let passing mentions in the exact
# form outrank units about the topic in another inflection (nDCG@10 0.858 against 0.877).
FIELD_BOOSTS = {"exact": 0.5, "stem": 2.0, "fold": 0.6, "parts": 1.2}
TITLE_BOOST = 3.0
# What an index holds: its fields, and the rules units are described by. An index of another
# version is rebuilt from scratch by the next ``index``. 2: namnd, year and parti are columns (fast
# facets); 3: text_pair (and analysis.PAIR_WORDS); 4: a datum from the file name where the text
# states none (metadata.file_name_date); 5: ``ocr``, units of a document repaired from OCR damage.
SCHEMA_VERSION = 5


class FormAnalyzer(Analyzer):
    """A whoosh analyzer that emits one of the analysis chain's forms (see ``analysis.analyse``)."""

    def __init__(self, field: str, chain_name: str = "full") -> None:
        self.field = field
        self.chain_name = chain_name

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, FormAnalyzer)
            and (other.field, other.chain_name) == (self.field, self.chain_name)
        )

    def __hash__(self) -> int:
        return hash((self.field, self.chain_name))

    def __call__(  # whoosh's analyzer protocol
        self,
        value: str,
        positions: bool = False,
        chars: bool = False,
        keeporiginal: bool = False,
        removestops: bool = True,
        start_pos: int = 0,
        start_char: int = 0,
        tokenize: bool = True,
        mode: str = "",
        **kwargs: object,
    ):
        token = WToken(positions, chars, removestops=removestops, mode=mode, **kwargs)
        for pos, term, start, end in analysis.analyse(value, self.field, self.chain_name):
            token.text = term
            token.boost = 1.0
            token.stopped = False
            if positions:
                token.pos = start_pos + pos
            if chars:
                token.startchar = start_char + start
                token.endchar = start_char + end
            yield token


_whoosh_index = wfields.FieldType.index


def _index(self: wfields.FieldType, value: object, **kwargs: object) -> Iterable[tuple[bytes, int, float, bytes]]:
    """``FieldType.index`` (a unit's postings in one field: term bytes, frequency, weight, encoded
    value) without whoosh's token objects for a field analysed by ``FormAnalyzer`` into
    frequencies or positions: the same tuples (``tests/test_index.py``), about 7 % of a build less.
    Installed over whoosh's method when this module is imported."""
    if not kwargs and type(self) is ID and isinstance(value, str) and _whole_value_id(self):
        # the value is the one term (IDTokenizer, Existence): as whoosh's tokens give it
        return ((value.encode("utf-8"), 1, self.format.field_boost, b""),)
    terms = None if kwargs else form_terms(self, value)
    if terms is None:
        return _whoosh_index(self, value, **kwargs)
    fmt = self.format
    fb = fmt.field_boost
    if type(fmt) is formats.Positions:
        return ((t.encode("utf-8"), len(p), float(len(p)) * fb, fmt.encode(p)) for t, p in terms.items())
    # whoosh sums each token's boost (1.0) into a float: the frequency, exactly
    return ((t.encode("utf-8"), n, float(n) * fb, pack_uint(n)) for t, n in terms.items())


def _whole_value_id(field: wfields.FieldType) -> bool:
    """An ``ID`` field as whoosh makes it: the whole value one term, no positions or frequency."""
    return type(field.analyzer) is IDTokenizer and type(field.format) is formats.Existence


def form_terms(field: wfields.FieldType, value: object) -> dict[str, list[int]] | dict[str, int] | None:
    """A unit's terms in a field analysed by ``FormAnalyzer``: each term's positions (a
    ``Positions`` format) or frequency (``Frequency``); None for any other field or value."""
    ana = field.analyzer
    if not isinstance(ana, FormAnalyzer) or not isinstance(value, str):
        return None
    fmt = type(field.format)
    if fmt is formats.Positions or fmt is formats.Frequency:
        return analysis.terms(value, ana.field, ana.chain_name, positions=fmt is formats.Positions)
    return None


wfields.FieldType.index = _index


def text_fields(chain_name: str) -> tuple[str, ...]:
    """The body fields the chain fills: ``text_exact``, ``text_stem``, ..., ``text_pair``."""
    return tuple(f"text_{f}" for f in analysis.chain(chain_name).indexed_fields)


def build_schema(chain_name: str = "full") -> Schema:
    """The schema of an index built with the named analysis chain."""
    c = analysis.chain(chain_name)
    fields: dict[str, object] = {
        "id": ID(stored=True, unique=True),
        "source": ID(stored=True),
        "kind": ID(stored=True),
        "doctype": ID(stored=True),
        "paragraf": NUMERIC(int, stored=True),
        "namnd": ID(stored=True, sortable=True),  # display form; a column, for facets
        "namnd_key": ID(),  # folded lower case, for filtering
        "datum": ID(stored=True, sortable=True),
        "year": ID(stored=True, sortable=True),
        # Canonical codes (S, KD, Fi) as terms for filtering; the column holds the whole sorted
        # list ("KD,S"), so a facet counts combinations, which ``search`` adds up per party.
        "parti": KEYWORD(stored=True, commas=True, sortable=True),
        "dnr": KEYWORD(stored=True, commas=True, lowercase=True),
        "title": TEXT(analyzer=FormAnalyzer("stem", chain_name), stored=True, phrase=False),
        "body": STORED(),
        "lines": STORED(),
        "pages": STORED(),
        "ocr": STORED(),  # True where the document was repaired from OCR damage (absent otherwise)
        "sha256": STORED(),  # bookkeeping documents only
        "file_size": STORED(),  # bookkeeping documents only
        "file_mtime_ns": STORED(),  # bookkeeping documents only
        "unit_ids": STORED(),  # bookkeeping documents only
    }
    for f in c.indexed_fields:
        positions = f in ("stem", analysis.PAIR)
        fields[f"text_{f}"] = TEXT(analyzer=FormAnalyzer(f, chain_name), phrase=positions)
    return Schema(**fields)
