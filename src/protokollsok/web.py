"""The static web bundle (``export-web``) and the local server (``serve``).

Bundle layout (everything under ``data/`` except ``root.js`` is named by a hash of its content, so a
re-export of an unchanged index rewrites nothing and an update adds only the shards that changed)::

    index.html  protokollsok.js  snowball-sv.js  style.css
    data/root.js              statistics and the names of all other files (loaded first; the term
                              shards' hashes are one string of 6 characters each)
    data/t/<bucket>-<hash>.js term shards: postings of every term whose hash falls in the bucket
                              (the scored fields and dnr;
                              the fold field's by reference to the stem field's where alike, the
                              scored fields' units as places in their union, see ``_share_units``),
                              the term table entries (``termtable``), which words' top hits
                              are listed (``toplists``) and diarienummer spellings;
                              a term whose postings are long is only named there, by its files
                              and its document frequencies (``_long_entry``);
    data/q/<bucket>-<hash>.js pair shards: the same for the bucket's terms of more than one word,
                              the word pairs phrases are found by (named by the hash of both
                              shards, ``_write_bucket``: a word's query does not load its pairs);
    data/p/<hash>.js          such a term's units (what counting its matches needs), its weights
                              and length bytes (what scoring needs), and its positions (what a
                              phrase or a query's proximity needs), one file each (the exact
                              field's weights a file apart where long, ``_weights_refs``), the
                              positions of the commonest stems also in blocks
                              (``<hash>-<first>-<end>.js``, ``_blocked_positions``: a query's
                              proximity needs them in the few units whose rank it could
                              change); in the units
                              numbered below the cut only: the recent units' postings are a part
                              of their own, inline or in files again, so that an update rewrites
                              those and not all of a common word's postings
    data/r/<n>-<tag>.js       the listed top hits of common words' queries (``toplists``), in
                              buckets by hash; the tag is a hash of all of them
    data/v/<field>-<hash>.js  vocabulary shards: the sorted terms of the fields a prefix query
                              (``utred*``) expands in, with document frequencies (see ``_write_vocab``);
                              ``root.js`` names each shard by its first term (loaded per prefix)
    data/f/<hash>.js          per-unit filter values (nämnd, parti, datum, year), all units (loaded
                              with the page: every query counts the facets of all its matches)
    data/u/<n>-<tag>.js       unit number n: its shown fields and text (for the hit and its snippet),
                              and the forms of its words the page cannot compute (``_PageKeys``);
                              the tag is a hash of the numbers given out with n (see below)
    data/state.json           the exporter's own bookkeeping (unit numbers and hashes, the cut, the
                              segments and term shards the next export can take entries from, the
                              terms of deleted units, ``webupdate``); never loaded by the page

Every data file is a script calling ``__protokollsok(name, data)`` (JSONP), so the bundle also
works from ``file://`` where ``fetch`` is not allowed. In the postings, each list of whole numbers
(unit deltas, weights, length bytes, position deltas) is one string of base-91 digits
(``_pack_ints``), which gzips to about a fifth less than the same numbers as JSON; a field's
places in a term's union of units are a bitmap where dense (``_places``), and a term's position
deltas are not interrupted by each unit's count of them, which is its tf (``_pack_positions``).

Ranking parity with ``search --json``: a posting carries what whoosh's BM25F reads for it — the
term's document frequency ``df`` (per term), the term weight ``tf`` and the document's field
length byte (whoosh's own, which ``root.js``'s ``byteLengths`` decodes) — and ``root.js`` carries
``N`` (``doc_count_all``), the average field lengths,
``B``, ``K1`` and the boosts. The page evaluates the same query tree as ``search._Builder`` (an Or
of boosted Terms per word, And over words, the sloppy-phrase proximity as AndMaybe on
``text_stem`` positions, phrases through their word pairs as ``phrases.PairPhrase``) with the same
float formula, keeps whoosh's order for equal scores (the unit number follows whoosh's document
order) and then re-sorts the top 10 by rounded score and date as ``search`` does. Query words are analysed by ``termtable`` on both sides. A prefix
(``utred*``) is expanded from the vocabulary shards (``data/v/``) and scored per whoosh segment
(``root.js``'s ``segs``), as whoosh's ``Prefix`` matcher does. "Menade du" (``search._suggest``)
looks words up in the same shards, which carry the frequencies it ranks by.

Units get a number that stays the same across exports while the unit is unchanged (new and changed
units get the next numbers, in index order, as whoosh appends them; so does an unchanged unit of a
changed file, which the update added again after the older units: numbers follow whoosh's
document order). A unit's file is named by its number and the
tag of the export that gave the number out: a hash of every (number, content hash) given out in
that export, so a name never stands for two contents, and two exports of one index into empty
folders name every file alike. ``root.js`` lists the tags by the first number each covers, so the
page names a shown unit's file without a further request. The units numbered from the cut on
are the recent ones, kept apart in the long postings; the cut moves past every unit (all files of
long postings written anew) at a first export and once the recent units are more than one in
``RECENT_SHARE``.

An update's export reads only what changed where ``state.json`` vouches for the rest (``webupdate``):
a term that neither a new or changed segment nor a deleted unit (the old version of a removed or
changed one) holds keeps its entry, a long term the new units hold is read in the segments past the
cut only (``_tail_entry``), and a unit whose stored fields are as they were keeps its file without
it being made again. The bundle is byte for byte the one an export reading everything writes
(``tests/test_web_update.py``).
"""

from __future__ import annotations

import bisect
import gc
import hashlib
import heapq
import http.server
import itertools
import json
import multiprocessing
import os
import pickle
import re
import shutil
from collections import Counter, defaultdict
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from whoosh import query as wq
from whoosh.system import _INT_SIZE, pack_ushort
from whoosh.util.numeric import byte_to_length, length_to_byte

from protokollsok import (
    analysis,
    index,
    postings,
    schema,
    search,
    snippets,
    termtable,
    toplists,
    webupdate,
    whoosh_fixes,
)
from protokollsok.errors import ProtokollsokError
from protokollsok.phrases import PAIR_FIELD, STEM_FIELD

ASSETS = Path(__file__).resolve().parent / "web"
STATIC_FILES = ("index.html", "protokollsok.js", "snowball-sv.js", "style.css")
META_CHUNK = 512
TERMS_PER_BUCKET = 128
BIG_TERM_CHARS = 2048  # a term's postings above this size (packed) get a file of their own (data/p/)
BIG_TERM_HASH_CHARS = 16  # those files are named by their hash alone
VOCAB_TERMS = 2048  # a vocabulary shard holds this many terms on average
HASH_CHARS = 10
SHARD_HASH_CHARS = 6  # term shards: the root lists every one's hash (16,384 at the whole corpus)
UNIT_TAG_CHARS = 8  # unit files are named <number>-<tag of the export that gave the number out>
SCORED_FIELDS = ("exact", "stem", "fold", "parts")
TERM_SHARDS = "t"  # data/t/<bucket>-<hash>.js: a bucket's words (``_write_bucket``)
PAIR_SHARDS = "q"  # data/q/<bucket>-<hash>.js: its terms of more than one word, the word pairs
STATE_FILE = "state.json"
LEGACY_FOLDERS = ("m", "h")  # per-chunk filter files and unit hash lists of older exports
CALLBACK = "__protokollsok"
FORMAT_VERSION = 11  # 2: unit files named by number and tag (1: by their own hash); 3: shared units, length bytes; 4: packed lists (postings, filter file); 5: units carry their words' forms (k); 6: a long term's units and weights in two files, common words' top hits (data/r/); 7: long postings' recent part apart, their df in the bucket; 8: word pairs in shards of their own (data/q/); 9: a stem's positions files also in blocks; 10: a long term's exact weights apart; 11: positions without their counts (the stem tfs), dense places as bitmaps
NUMBERED_SINCE = 2  # the unit numbers of a state from this version on are kept
UNION_FIELDS = ("exact", "stem", "fold", "parts", "title")  # a term's lists over one set of units
SURFACE_FIELDS = ("exact",)  # a term is searched in these only where it is a query word itself
SURFACE_APART_CHARS = 2048  # their weights from this size on are a file of their own (``_weights_refs``)
RELATIVE_FIELDS = ("exact", "fold")  # weights and lengths given as differences from the stem field's
PROGRESS_EVERY = 10_000  # units or terms between two progress reports
PROGRESS_SECONDS = 0.5  # between two progress reports while waiting for another process
PARALLEL_UNITS = 2_000  # from this many units on, the terms are read by one process per core
MAX_WORKERS = 4
LOOKUP_TERMS = 50_000  # up to this many terms to read, each is looked up rather than every term walked
REUSE = True  # an update's export takes the last export's entries of the terms no changed segment holds
_BLOCK_NAME = re.compile(r"([0-9a-f]+)-\d+-\d+\.js")
POSITION_BLOCK = 32  # a stem's positions in a file of their own are also written in blocks of this many units
POSITION_BLOCKS_FROM = 16384  # where the file holds this many units or more (fewer: the page reads it whole)
POSITION_BLOCKS_MAX = 512  # and at most this many blocks a file: larger ones where it holds more units
RECENT_SHARE = 16  # the units past the cut are kept apart in long postings until they are 1 in this many
LIST_FILE_WORDS = 4  # words' listed top hits per file of them (data/r/): a list is about 130 bytes gzipped
PACK_DIGITS = "".join(chr(c) for c in range(0x23, 0x7F) if c != 0x5C)  # JSON strings need no escape for these 91
PACK_LAST = 84  # a number's last digit is one of the first PACK_LAST digits, its others of the rest
PACKED, PACKED_SIGNED = " ", "!"  # the first character of a packed list (signed: zigzag coded)
BITMAP = "~"  # the first character of a set of places as a bitmap (``_places``), 6 places a digit
BITMAP_FROM = 5  # a field's places in a term's union are a bitmap where they are one in this many or more
Progress = Callable[[str, int], None]  # (stage, items done): "units", "terms", then "top hits"
Span = tuple[bytes | None, bytes | None]  # terms from, terms before (None: no bound)


@dataclass
class _Doc:
    """One unit as the exporter sees it: whoosh docnum, bundle number, its file's content (``text``)
    and hash, and its filter values (``unit``: its fields without the text)."""

    docnum: int
    num: int
    unit: dict[str, Any]
    digest: str
    text: str | None  # None: as in the last export, whose file of it is there (``_number_docs``)
    stored: str = ""  # a hash of the stored fields it is made from


@dataclass
class _Numbering:
    """The units in whoosh order with their numbers, and the tags: ``[first number, tag]`` pairs,
    ascending, each naming the files of the numbers from its first to the next pair's."""

    docs: list[_Doc]
    tags: list[list[Any]]
    cut: int = 0  # units numbered from here on are recent: long postings keep them apart (``_long_entry``)
    params: str = ""  # what the units' files are made with besides their stored fields (``_unit_params``)
    firsts: list[int] = field(init=False)

    def __post_init__(self) -> None:
        self.firsts = [first for first, _ in self.tags]

    def tag_of(self, num: int) -> str:
        """The tag in the name of unit ``num``'s file."""
        return self.tags[bisect.bisect_right(self.firsts, num) - 1][1]


@dataclass
class _Writer:
    """Writes content-hashed files once; counts what was written and what was already there."""

    out: Path
    written: int = 0
    kept: int = 0
    nbytes: int = 0
    names: set[str] = field(default_factory=set)

    def put(self, rel: str, text: str) -> None:
        """Write ``rel`` unless it holds exactly ``text`` already."""
        data = text.encode("utf-8")
        path = self.out / rel
        self.names.add(rel)
        self.nbytes += len(data)
        if path.exists() and path.stat().st_size == len(data) and path.read_bytes() == data:
            self.kept += 1
            return
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")  # export processes may write one file alike
        tmp.write_bytes(data)
        tmp.replace(path)
        self.written += 1

    def keep(self, rel: str) -> bool:
        """Keep ``rel`` as it is, where it is there (a file whose name says what it holds);
        False where it is not."""
        try:
            size = (self.out / rel).stat().st_size
        except OSError:
            return False
        self.names.add(rel)
        self.kept += 1
        self.nbytes += size
        return True

    def jsonp(self, folder: str, stem: str, data: Any, chars: int = 0) -> str:
        """Write ``data`` as ``data/<folder>/[<stem>-]<hash>.js``; return the hash."""
        return self.jsonp_text(folder, stem, _dumps(data), chars)

    def jsonp_text(self, folder: str, stem: str, body: str, chars: int = 0) -> str:
        """``jsonp`` of an already serialised ``body``."""
        digest = hashlib.sha256(body.encode("utf-8")).hexdigest()[: chars or HASH_CHARS]
        name = f"{stem}-{digest}" if stem else digest
        self.put(f"data/{folder}/{name}.js", _wrap(f"{folder}/{name}", body))
        return digest


def _dumps(data: Any) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


def _wrap(name: str, body: str) -> str:
    return f"{CALLBACK}({json.dumps(name)},{body});\n"


def fnv1a(text: str) -> int:
    """32-bit FNV-1a of the UTF-8 bytes (the page computes the same to find a term's bucket)."""
    h = 0x811C9DC5
    for b in text.encode("utf-8"):
        h = ((h ^ b) * 0x01000193) & 0xFFFFFFFF
    return h


def export_bundle(
    index_dir: str | Path | None, out_dir: str | Path, progress: Progress | None = None, workers: int | None = None
) -> dict[str, int]:
    """Export the index at ``index_dir`` as a static search page in ``out_dir``; ``progress`` is
    told every ``PROGRESS_EVERY`` units, then terms, then every ``toplists.CHUNK_WORDS`` words
    whose top hits are listed, how many are done, and each stage's total. ``workers``: processes
    that read the terms' postings and search those words (default: one per core, up to
    ``MAX_WORKERS``, for ``PARALLEL_UNITS`` units or more; else one).

    Returns ``{"written", "kept", "removed", "bytes", "units", "terms", "reused"}`` (``reused``:
    the terms whose entries were taken from the last export, ``webupdate``).
    """
    note = progress or _no_progress
    index_dir = Path(index_dir or index.default_index_dir())
    out = Path(out_dir)
    if out.exists() and not out.is_dir():
        raise ProtokollsokError(f"{out} is a file", "give a folder to export the page into")
    ix, info = index.open_index(index_dir)
    with ix.searcher() as searcher:
        reader = searcher.reader()
        state = _read_state(out)
        # Numbering makes a record per unit and no reference cycles, and the records are kept to
        # the end: the collector need not walk them again and again, while they are made nor
        # while the terms are read.
        enabled = gc.isenabled()
        gc.disable()
        try:
            numbering = _number_docs(reader, state, info.chain)
        finally:
            if enabled:
                gc.enable()
        freeze = gc.get_freeze_count() == 0  # unfreezing would also thaw what a caller froze
        if freeze:
            gc.freeze()
        try:
            w, nterms, reused = _export(out, index_dir, searcher, info.chain, numbering, state, note, workers)
        finally:
            if freeze:
                gc.unfreeze()
    removed = _remove_stale(out, w.names, blocks_of_kept=reused > 0)
    return {
        "written": w.written,
        "kept": w.kept,
        "removed": removed,
        "bytes": w.nbytes,
        "units": len(numbering.docs),
        "terms": nterms,
        "reused": reused,
    }


def _export(
    out: Path, index_dir: Path, searcher, chain: str, numbering: _Numbering, state: dict[str, Any], note: Progress,
    workers: int | None,
) -> tuple[_Writer, int, int]:
    """Write the bundle's files for the numbered units; returns the writer, the number of terms and
    how many of the terms' entries were taken from the last export."""
    reader = searcher.reader()
    docs = numbering.docs
    num_of = {d.docnum: d.num for d in docs}
    w = _Writer(out)
    for name in STATIC_FILES:
        w.put(name, (ASSETS / name).read_text(encoding="utf-8"))
    keys = None
    for i, d in enumerate(docs, 1):
        name = f"u/{d.num}-{numbering.tag_of(d.num)}"
        if d.text is None and not w.keep(f"data/{name}.js"):  # as it was, but its file is gone
            keys = keys or _PageKeys(chain)
            d.text = _dumps(_unit_fields(reader.stored_fields(d.docnum), keys))
        if d.text is not None:
            w.put(f"data/{name}.js", _wrap(name, d.text))
        d.text = ""  # written: nothing reads it again, and the units' texts are most of what numbering holds
        if i % PROGRESS_EVERY == 0:
            note("units", i)
    note("units", len(docs))
    filters_name, facets = _write_meta(w, docs)
    reuse = webupdate.reuse(out, state, reader, chain, numbering)
    if reuse is None:
        entries = _term_entries(index_dir, reader, chain, num_of, numbering.cut, w, note, _workers(len(docs), workers))
    else:
        entries = _Entries()
        if reuse.plan.only:
            entries = _term_entries(index_dir, reader, chain, num_of, numbering.cut, w, note,
                                    _workers(len(docs), workers), reuse.plan)
        webupdate.take(entries, reuse, w)
    table = termtable.build_index_table(termtable.vocabulary(reader), entries.entries.__contains__, chain)
    if reuse is not None and reuse.lists is not None:
        tops = reuse.lists
    else:
        tops = _top_lists(index_dir, reader, chain, entries, table, docs, note, _workers(len(docs), workers))
    shard_names, nb, nterms = _write_shards(w, entries, table, tops, state)
    lists = _write_lists(w, tops)
    segs = _segments(reader, docs)
    vocab = _write_vocab(w, reader, chain, entries.ghosts, segs)
    root = _root(searcher, chain, docs, filters_name, shard_names, nb, facets)
    root["unitTags"] = numbering.tags
    if lists:
        root["lists"] = lists
    root.update(vocab)
    w.put("data/root.js", _wrap("root", _dumps(root)))
    _write_state(out, numbering, nb, webupdate.record(reader, chain, num_of, shard_names, entries, reuse))
    return w, nterms, len(reuse.entries) if reuse else 0


def _no_progress(stage: str, done: int) -> None:
    return None


def _no_finish() -> None:
    return None


# ----------------------------------------------------------------------------------- numbering


def _read_state(out: Path) -> dict[str, Any]:
    try:
        return json.loads((out / "data" / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _write_state(out: Path, numbering: _Numbering, nb: int, reuse: dict[str, Any]) -> None:
    units = {d.unit["id"]: [d.num, d.digest, d.stored] for d in numbering.docs}
    state = {"version": FORMAT_VERSION, "buckets": nb, "units": units, "tags": numbering.tags, "cut": numbering.cut,
             "unitParams": numbering.params, "reuse": reuse}
    path = out / "data" / STATE_FILE
    text = _dumps(state)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _unit_fields(stored: dict[str, Any], keys: _PageKeys) -> dict[str, Any]:
    """The fields the page shows for a unit (the same names and values as ``search --json``), and
    ``"k"``: the forms of its words that the page needs to mark a snippet and cannot compute."""
    body = stored.get("body") or ""
    return {**_filter_fields(stored), "body": body, **({"k": k} if (k := keys.of(body)) else {})}


def _filter_fields(stored: dict[str, Any]) -> dict[str, Any]:
    """A unit's fields without its text (and the forms of its words): what the filters read."""
    return {
        "id": stored["id"],
        "kind": stored.get("kind", ""),
        "paragraf": stored.get("paragraf"),
        "title": stored.get("title") or "",
        "namnd": stored.get("namnd"),
        "datum": stored.get("datum"),
        "year": stored.get("year"),
        "dnr": [x for x in (stored.get("dnr") or "").split(",") if x],
        "parti": [x for x in (stored.get("parti") or "").split(",") if x],
        "source": stored.get("source", ""),
        **({"ocr": True} if stored.get("ocr") else {}),  # absent otherwise: unchanged units' files stay alike
    }


class _PageKeys:
    """What ``snippets.find_matches`` knows of a text's words and the page cannot compute: the
    stems of a word's hunspell lemmas and compound parts, and its lemmas' folded stems (the page
    has Snowball, folding and the word itself). ``of(text)`` gives them per word that has any, as
    one string: the extra stems, the folded ones marked ``~`` (``"brottsoff ~brottsoff"``); where
    the page would compute a form the word does not have (no chain of today), the word's whole
    set after ``=`` (``"=x:word s:stem"``). With them the page marks a snippet's words exactly as
    the command line does. They make a unit's file about a fourth larger gzipped (a sample of
    2,000 units of the volume corpus: 401 -> 516 bytes); about one distinct word in four has any."""

    def __init__(self, chain: str) -> None:
        c = analysis.chain(chain)
        self.chain = chain
        self.exact, self.fold, self.plain = "exact" in c.fields, "fold" in c.fields, c.whoosh_default
        self.seen: set[str] = set()  # every word looked at
        self.extra: dict[str, str] = {}  # those with forms the page cannot compute: the forms
        self.extra_words: set[str] = set()

    def of(self, text: str) -> dict[str, str]:
        """The words of ``text`` with forms the page cannot compute, and those forms."""
        words = analysis.word_set(text)
        for w in words - self.seen:
            self.seen.add(w)
            if (extra := self._extra(w)) is not None:
                self.extra[w] = extra
                self.extra_words.add(w)
        return {w: self.extra[w] for w in sorted(words & self.extra_words)}

    def page_keys(self, word: str) -> set[str]:
        """The keys the page computes for a word of a text (``protokollsok.js``'s ``textKeys``)."""
        keys = {"x:" + word} if self.exact else set()
        if self.plain or any(ch.isdigit() for ch in word):
            return keys | {"s:" + word}
        keys.add("s:" + analysis.stem(word))
        if self.fold:
            keys.add("f:" + analysis.stem(analysis.fold(word)))
        return keys

    def _extra(self, word: str) -> str | None:
        full = snippets.word_keys(word, self.chain, True)  # each word once (``seen``): not cached
        own = self.page_keys(word)
        if full == own:
            return None
        if own - full:
            return "=" + " ".join(sorted(full))
        return " ".join(k[2:] if k[0] == "s" else "~" + k[2:] for k in sorted(full - own, key=lambda k: (k[0] == "f", k)))


def _live_units(reader) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(docnum, stored fields)`` of every unit (not the bookkeeping documents)."""
    for docnum, stored in reader.iter_docs():
        if stored.get("doctype") != "file" and stored.get("id"):
            yield docnum, stored


def _unit_params(chain: str) -> str:
    """What a unit's file is made with besides its stored fields: the bundle format, the analysis
    chain, the analysis's code and data (the forms of its words) and the code that writes it."""
    from protokollsok import formstore

    h = hashlib.sha256(f"{FORMAT_VERSION}:{chain}:{formstore.analysis_key()}".encode())
    for module in (__file__, snippets.__file__):
        h.update(Path(module).read_bytes())
    return h.hexdigest()[:HASH_CHARS]


def _number_docs(reader, state: dict[str, Any], chain: str) -> _Numbering:
    """Units in whoosh order with bundle numbers (kept from the last export where unchanged) and
    the tags of their files (a new one for the numbers given out now)."""
    same_format = isinstance(state.get("version"), int) and NUMBERED_SINCE <= state["version"] <= FORMAT_VERSION
    old: dict[str, list] = state.get("units", {}) if same_format else {}
    tags: list[list[Any]] = state.get("tags", []) if same_format else []
    docs: list[_Doc] = []
    first_new = nxt = max((v[0] for v in old.values()), default=-1) + 1
    last = -1
    params = _unit_params(chain)
    same = REUSE and same_format and state.get("unitParams") == params
    keys = _PageKeys(chain)
    for dn, stored in _live_units(reader):
        made = hashlib.sha256(_dumps(stored).encode("utf-8")).hexdigest()[:16]
        prev = old.get(stored["id"])
        text: str | None = None
        if same and prev and prev[2:] == [made]:  # its file's content is as it was: not made again
            fields, digest = _filter_fields(stored), prev[1]
        else:
            u = _unit_fields(stored, keys)
            text = _dumps(u)
            digest = hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]
            fields = {k: v for k, v in u.items() if k not in ("body", "k")}
        # An unchanged unit keeps its number where that follows whoosh's order: not so one that a
        # changed file's update added again after the older units (it gets a new number, as the
        # file's changed units do, instead of every unit being numbered anew).
        if prev and prev[1] == digest and last < prev[0] < first_new:
            last = prev[0]
        else:
            last = nxt
            nxt += 1
        docs.append(_Doc(dn, last, fields, digest, text, made))
    new = [d for d in docs if d.num >= first_new]
    if new:
        given = "".join(f"{d.num}:{d.digest}\n" for d in new)
        tags = [t for t in tags if t[0] < first_new] + [[first_new, hashlib.sha256(given.encode()).hexdigest()[:UNIT_TAG_CHARS]]]
    cut = _cut(state.get("cut") if same_format and old else None, [d.num for d in docs])
    return _Numbering(docs, _tags_in_use(tags, [d.num for d in docs]), cut, params)


def _cut(prev: int | None, nums: list[int]) -> int:
    """Where the recent units begin: the last export's cut while at most one unit in
    ``RECENT_SHARE`` is past it, else (and at a first export) the number after the last unit's
    (``nums`` ascending), so that every unit is settled again."""
    following = nums[-1] + 1 if nums else 0
    if prev is None:
        return following
    recent = len(nums) - bisect.bisect_left(nums, prev)
    return prev if recent * RECENT_SHARE <= len(nums) else following


def _tags_in_use(tags: list[list[Any]], nums: list[int]) -> list[list[Any]]:
    """``tags`` without those that name no live unit (their numbers all gone); ``nums`` ascending."""
    firsts = [first for first, _ in tags]
    kept = []
    for i, (first, tag) in enumerate(tags):
        end = firsts[i + 1] if i + 1 < len(tags) else float("inf")
        k = bisect.bisect_left(nums, first)
        if k < len(nums) and nums[k] < end:
            kept.append([first, tag])
    return kept


# ---------------------------------------------------------------------------------------- meta


def _write_meta(w: _Writer, docs: list[_Doc]):
    """Per-unit filter values, in chunks of ``META_CHUNK`` numbers, all in one file (``data/f/``);
    returns its name and the facets.

    The file is ``{"dates": [...], "sets": [...], "chunks": [...]}``. A chunk is columnar (it
    compresses better), each column a packed list (``_pack_ints``): ``n`` 0 for no unit with this
    number, 1 for a unit without nämnd, else 2 + the nämnd's index; ``p`` the index of the unit's
    party set in ``sets`` (party indexes joined by "."); ``d`` 0 for no datum, else 1 + its index
    in ``dates``; ``y`` the year where it is not the datum's. Dates and sets are listed most
    frequent first, so the commonest take one character. One file, loaded with the page, because
    a query counts the facets of all its matches: with a file per chunk a common word needed
    nearly every chunk, one request each. The 163,577 units of the volume corpus in shuffled
    order: 400 kB gzipped, against 585 kB as JSON lists of values (the dates 395 kB of it).
    """
    namnder = sorted({d.unit["namnd"] for d in docs if d.unit["namnd"]})
    partier = sorted({p for d in docs for p in d.unit["parti"]})
    n_idx = {n: i + 2 for i, n in enumerate(namnder)}
    p_idx = {p: i for i, p in enumerate(partier)}
    party_sets = [".".join(str(p_idx[p]) for p in d.unit["parti"]) for d in docs]
    dates = _by_frequency(d.unit["datum"] for d in docs if d.unit["datum"])
    sets = _by_frequency(party_sets)
    d_idx = {x: i + 1 for i, x in enumerate(dates)}
    s_idx = {x: i for i, x in enumerate(sets)}
    chunks: dict[int, dict[str, Any]] = {}
    for d, party_set in zip(docs, party_sets, strict=True):
        c = chunks.setdefault(d.num // META_CHUNK, _empty_chunk())
        k, u = d.num % META_CHUNK, d.unit
        c["n"][k] = n_idx.get(u["namnd"], 1)
        c["p"][k] = s_idx[party_set]
        c["d"][k] = d_idx.get(u["datum"] or "", 0)
        if (u["year"] or "") != (u["datum"] or "")[:4]:
            c["y"][str(k)] = u["year"] or ""
    packed = [None if c is None else {**c, **{col: _pack_ints(c[col]) for col in "npd"}}
              for c in (chunks.get(i) for i in range(max(chunks, default=-1) + 1))]
    name = "f/" + w.jsonp("f", "", {"dates": dates, "sets": sets, "chunks": packed})
    facets = {"namnd": [[n, index.namnd_key(n)] for n in namnder], "parti": partier}
    return name, facets


def _by_frequency(values: Iterable[str]) -> list[str]:
    """The distinct values, the most frequent first (equally frequent ones in order)."""
    counts = Counter(values)
    return sorted(counts, key=lambda v: (-counts[v], v))


def _empty_chunk() -> dict[str, Any]:
    return {"n": [0] * META_CHUNK, "p": [0] * META_CHUNK, "d": [0] * META_CHUNK, "y": {}}


# -------------------------------------------------------------------------------------- shards


def _field_names(reader, chain: str) -> list[tuple[str, str]]:
    """``(whoosh field, short name)`` of every field a query scores on."""
    out = [(f"text_{f}", f) for f in analysis.chain(chain).fields if f"text_{f}" in reader.schema]
    return [*out, ("title", "title"), ("dnr", "dnr")]


def _field_postings(
    reader, fname: str, num_of: dict[int, int], positions: bool, lengths: str | None = None, span: Span = (None, None),
    plan: webupdate.Plan | None = None, live_df: bool = False,
) -> Iterator[tuple[bytes, list[Any] | None, list[int]]]:
    """``(term, postings, ghost segments)`` for every term of field ``fname``, in term order.
    The postings, None where no live unit holds the term: ``[df, doc deltas, tfs or 0 when all
    are 1, field length bytes, (position deltas per doc)]``; the lengths are those of the field
    ``lengths`` (default: the term's own field), df is whoosh's ``doc_frequency`` (with
    ``live_df``: the number of live units that hold the term). The ghost segments: those whose
    lexicon holds the term though none of their live units do (see ``_write_vocab``). Only the
    terms of ``span`` (from, before; None: no bound) are read, and of them only those that
    ``plan`` reads, where given (a tail term's postings only outside its settled segments, ``webupdate.Plan``).

    The segments' term tables are walked side by side in term order, each term read with the
    term info that comes with it: asking the whole index for each term's postings and document
    frequency looked every term up in every segment, twice (most of an export's time)."""
    leaves = [(i, leaf, offset) for i, (leaf, offset) in enumerate(reader.leaf_readers()) if fname in leaf.schema]
    streams = [_terms_of(i, leaf, offset, fname, span, plan.only if plan else None) for i, leaf, offset in leaves]
    length_of = {i: _field_lengths(leaf, lengths or fname) for i, leaf, _ in leaves}
    for tbytes, parts in itertools.groupby(heapq.merge(*streams), key=lambda part: part[0]):
        df = settled = 0
        rows: list[tuple] = []
        ghosts: list[int] = []
        tail = plan is not None and tbytes in plan.tails
        for _, i, offset, leaf, info in parts:
            df += info.doc_frequency()
            if tail and i in plan.settled:  # (no deleted unit holds a tail term: each unit it holds is live)
                plan.found.add(tbytes)
                settled += info.doc_frequency()
                continue
            held = len(rows)
            flen = length_of[i]
            for local, weight, value in _term_postings(leaf, fname, tbytes, info, positions):
                num = num_of.get(local + offset)
                if num is not None:
                    rows.append((num, weight, flen(local), _position_deltas(value) if positions else None))
            if len(rows) == held:
                ghosts.append(i)
        live = settled + len(rows)
        yield tbytes, _encode_rows(live if live_df else df, rows, positions) if live else None, ghosts


def _term_postings(leaf, fname: str, tbytes: bytes, info, values: bool) -> Iterator[tuple[int, float, Any]]:
    """``(document number in the segment, weight, value or None)`` of a segment's postings of a
    term, read from its term info (a single posting) or a block at a time (whoosh's per-posting
    matcher calls were most of an export's time)."""
    if info.is_inlined():
        ids, weights, vals = info.inlined_postings()
        return zip(ids, weights, vals if values else [None] * len(ids), strict=True)
    terms = leaf._terms
    m = terms._codec.postings_reader(terms._postfile, info, leaf.schema[fname].format, term=(fname, tbytes))
    out: list[tuple[int, float, Any]] = []
    for ids, vals in postings.blocks(m, values=values):
        m._read_weights()
        out.extend(zip(ids, m._weights, vals if values else [None] * len(ids), strict=True))
    return out


def _field_lengths(leaf, fname: str) -> Callable[[int], int]:
    """A document's length in field ``fname`` as whoosh stores it (one byte, ``length_to_byte``;
    0 for none), from the segment's whole lengths column."""
    table = whoosh_fixes._lengths_of(leaf._perdoc, fname)
    if not isinstance(table, bytes):
        return lambda doc: length_to_byte(leaf.doc_field_length(doc, fname, 0))
    n = len(table)
    return lambda doc: table[doc] if doc < n else 0


def _position_deltas(value: bytes) -> list[int]:
    """The position deltas of an encoded ``Positions`` value (``Positions.decode_positions``
    before it adds them up)."""
    if not value.endswith(b"."):
        value += b"."
    return list(pickle.loads(value[_INT_SIZE:]))


def _terms_of(
    i: int, leaf, offset: int, fname: str, span: Span, only: Collection[bytes] | None = None,
) -> Iterator[tuple[bytes, int, int, Any, Any]]:
    """``(term, i, the segment's first document number, its reader, the term's info)`` for each
    term of the ``i``-th segment's field in ``span`` (and in ``only``, where given), in term order
    (``i`` orders a term's segments)."""
    start, stop = span
    if only is not None and len(only) <= LOOKUP_TERMS:
        wanted = sorted(t for t in only if (start is None or t >= start) and (stop is None or t < stop))
        for tbytes, info in postings.some_field_terms(leaf, fname, wanted):
            yield tbytes, i, offset, leaf, info
        return
    for tbytes, info in postings.field_terms(leaf, fname, start or b""):
        if stop is not None and tbytes >= stop:
            return
        if only is None or tbytes in only:
            yield tbytes, i, offset, leaf, info


def _encode_rows(df: int, rows: list[tuple], positions: bool) -> list[Any]:
    """A term's postings as the page reads them, from ``(unit number, weight, length byte,
    position deltas)`` rows."""
    rows.sort(key=lambda r: r[0])
    deltas = _deltas([r[0] for r in rows])
    tfs = [_num(r[1]) for r in rows]
    post: list[Any] = [df, deltas, 0 if all(t == 1 for t in tfs) else tfs]
    post.append([r[2] for r in rows])
    if positions:
        post.append([r[3] for r in rows])
    return post


def _pair_postings(
    reader, num_of: dict[int, int], span: Span, plan: webupdate.Plan | None = None
) -> Iterator[tuple[bytes, list[Any] | None, list[int]]]:
    """Word pairs' postings as ``phrases.PairPhrase`` scores them: the units' ``text_stem``
    lengths, and as df the number of live units that hold the pair (``phrases.item_idfs``)."""
    return _field_postings(reader, PAIR_FIELD, num_of, True, STEM_FIELD, span, plan, live_df=True)


def _num(x: float) -> float | int:
    return int(x) if float(x).is_integer() else x


def _deltas(xs: list[int]) -> list[int]:
    return [xs[0]] + [b - a for a, b in itertools.pairwise(xs)] if xs else []


def _term_text(t: bytes | str) -> str:
    return t.decode("utf-8") if isinstance(t, bytes) else t


def _bucket_count(nkeys: int, state: dict[str, Any]) -> int:
    """Power-of-two bucket count; kept from the last export unless the vocabulary grew or shrank a lot."""
    prev = state.get("buckets")
    if prev and TERMS_PER_BUCKET / 4 <= nkeys / prev <= TERMS_PER_BUCKET * 4:
        return int(prev)
    nb = 1
    while nb * TERMS_PER_BUCKET < nkeys:
        nb *= 2
    return nb


@dataclass
class _Entries:
    """The terms' bucket entries (as JSON), ghost segments and diarienummer spellings."""

    entries: dict[str, str] = field(default_factory=dict)  # term -> its entry in a bucket, as JSON
    ghosts: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    dnrs: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    weights: dict[str, int] = field(default_factory=dict)  # term -> size of its weights' file, where it has one

    def add(self, other: _Entries) -> None:
        """Take in the entries of another span of terms."""
        self.entries.update(other.entries)
        self.weights.update(other.weights)
        self.ghosts.update(other.ghosts)
        for key, terms in other.dnrs.items():
            self.dnrs[key].extend(terms)


def _span_entries(
    reader, chain: str, num_of: dict[int, int], cut: int, w: _Writer, note: Callable[[int], None], span: Span,
    plan: webupdate.Plan | None = None,
) -> _Entries:
    """The entries of the terms in ``span`` (those that ``plan`` reads, where given): postings
    per (term, field), long ones written to files of their own (``_small_or_ref``); ``note`` is
    told how many terms are done.

    The fields' terms are read side by side in term order, so each term is finished (long
    postings written to a file of their own, the rest kept as the JSON its bucket will hold)
    before the next is read: the export never holds every term's postings as Python lists."""
    fields = [
        (short, _field_postings(reader, fname, num_of, fname == "text_stem", span=span, plan=plan))
        for fname, short in _field_names(reader, chain)
    ]
    if PAIR_FIELD in reader.schema:
        fields.append((analysis.PAIR, _pair_postings(reader, num_of, span, plan)))
    out = _Entries()
    merged = heapq.merge(*(_tagged(k, stream) for k, (_, stream) in enumerate(fields)))
    for tbytes, group in itertools.groupby(merged, key=lambda item: item[0]):
        term = _term_text(tbytes)
        posts = {}
        for _, k, post, extra in group:
            short = fields[k][0]
            if extra:
                out.ghosts[short, term] = extra
            if post is not None:
                posts[short] = post
        if not posts:
            continue
        if "dnr" in posts:
            out.dnrs[search.dnr_key(term)].append(term)
        if plan is not None and tbytes in plan.found:
            entry, weight_chars = _tail_entry(w, posts, plan.tails[tbytes])
        else:
            entry, weight_chars = _entry(w, posts, cut)
        out.entries[term] = _dumps(entry)
        if weight_chars:
            out.weights[term] = weight_chars
        if len(out.entries) % PROGRESS_EVERY == 0:
            note(len(out.entries))
    note(len(out.entries))
    return out


def _workers(units: int, asked: int | None) -> int:
    """How many processes read the terms' postings (forked: one where the system cannot fork)."""
    if "fork" not in multiprocessing.get_all_start_methods():
        return 1
    if asked is not None:
        return max(1, asked)
    return min(os.cpu_count() or 1, MAX_WORKERS) if units >= PARALLEL_UNITS else 1


def _term_entries(
    index_dir: Path, reader, chain: str, num_of: dict[int, int], cut: int, w: _Writer, note: Progress, workers: int,
    plan: webupdate.Plan | None = None,
) -> _Entries:
    """Every term's entry (of those ``plan`` reads, where given), the terms split into ``workers``
    spans of about as many terms each; this process reads the first, a forked process each other
    one (reading postings is most of an export: 203 of 244 s at the whole volume corpus in one
    process). A span whose process fails, or finds another generation of the index, is read here
    afterwards."""
    spans = _spans(reader, workers)
    if len(spans) == 1:
        return _span_entries(reader, chain, num_of, cut, w, lambda n: note("terms", n), spans[0], plan)
    ctx = multiprocessing.get_context("fork")
    index._die_with_parent_after_fork()  # killed, the exporter leaves no process writing behind
    counters = [ctx.Value("q", 0, lock=False) for _ in spans[1:]]
    sig = _generation(reader)
    jobs = []
    for span, counter in zip(spans[1:], counters, strict=True):
        recv, send = ctx.Pipe(duplex=False)
        proc = ctx.Process(target=_span_worker, args=(send, index_dir, sig, chain, num_of, cut, w.out, span, counter, plan), daemon=True)
        proc.start()
        send.close()
        jobs.append((proc, recv, span))
    others = lambda: sum(c.value for c in counters)  # noqa: E731
    try:
        out = _span_entries(reader, chain, num_of, cut, w, lambda n: note("terms", n + others()), spans[0], plan)
        done = len(out.entries)
        for proc, recv, span in jobs:
            while not recv.poll(PROGRESS_SECONDS):
                note("terms", done + others())
            try:
                result = recv.recv()
            except EOFError:  # the process died
                result = None
            proc.join()
            if result is None:
                part = _span_entries(reader, chain, num_of, cut, w, lambda n: None, span, plan)
            else:
                part, written, kept, nbytes, names = result
                w.written += written
                w.kept += kept
                w.nbytes += nbytes
                w.names |= names
            out.add(part)
            done += len(part.entries)
    finally:
        for proc, _, _ in jobs:  # after an error here: stop the others
            if proc.is_alive():
                proc.terminate()
            proc.join()
    note("terms", len(out.entries))
    return out


def _span_worker(send, index_dir: Path, sig: list[tuple[str, int]], chain: str, num_of: dict[int, int], cut: int,
                 out: Path, span: Span, counter, plan: webupdate.Plan | None = None) -> None:
    """In a forked process: the entries of ``span`` (with what was written) sent back, or None."""
    try:
        ix, _ = index.open_index(index_dir)  # its own files: a forked reader's share their offsets
        with ix.reader() as reader:
            if _generation(reader) != sig:
                send.send(None)
                return
            w = _Writer(out)
            part = _span_entries(reader, chain, num_of, cut, w, lambda n: setattr(counter, "value", n), span, plan)
            send.send((part, w.written, w.kept, w.nbytes, w.names))
    except Exception:  # the span is read again in the parent, which reports the error
        send.send(None)
    finally:
        send.close()


def _generation(reader) -> list[tuple[str, int]]:
    """The segments of a reader and their deleted documents: what makes document numbers alike."""
    return [(leaf.segment().segment_id(), leaf.segment().deleted_count()) for leaf, _ in reader.leaf_readers()
            if leaf.segment() is not None]


def _spans(reader, workers: int) -> list[Span]:
    """``workers`` spans of terms cut where the largest segment's stem terms are split evenly
    (a term's postings are read in the span holding it, across every field and segment)."""
    if workers <= 1:
        return [(None, None)]
    leaves = [leaf for leaf, _ in reader.leaf_readers() if leaf.segment() is not None and STEM_FIELD in leaf.schema]
    if not leaves:
        return [(None, None)]
    cuts = _even_terms(max(leaves, key=lambda leaf: leaf.doc_count_all()), STEM_FIELD, workers)
    bounds = [None, *sorted(set(cuts)), None]
    return list(itertools.pairwise(bounds))


def _even_terms(leaf, fname: str, parts: int) -> list[bytes]:
    """The terms that cut a segment's field into ``parts`` runs of as many terms, found by
    bisecting the term file's index of keys (whoosh 2.7.5's ``OrderedHashReader``, pinned)."""
    tindex = leaf._terms._tindex
    fieldnum = leaf._terms._fieldmap[fname]

    def key(i: int) -> bytes:
        return tindex.key_at(tindex._get_pos(tindex.indexbase + i * tindex.indexsize))

    keys = range(tindex.indexlen)
    lo = bisect.bisect_left(keys, pack_ushort(fieldnum), key=key)
    hi = bisect.bisect_left(keys, pack_ushort(fieldnum + 1), key=key)
    if hi - lo <= parts:
        return []
    return [key(lo + (hi - lo) * k // parts)[2:] for k in range(1, parts)]


def _write_shards(
    w: _Writer, found: _Entries, table: dict[str, analysis.Forms], tops: dict[str, list[list[int]]],
    state: dict[str, Any],
) -> tuple[list[str], int, int]:
    """Term shards: the terms' entries, the term table's entries per word, the words whose top
    hits are listed (``"l"``; the lists are in files of their own, ``_write_lists``), diarienummer
    spellings per dnr key, in buckets by hash. Returns the shards' hashes, the bucket count and
    the number of keys."""
    entries, dnrs = found.entries, found.dnrs
    keys = set(entries) | set(table) | set(dnrs)
    nb = _bucket_count(len(keys), state)
    buckets: list[dict[str, dict[str, Any]]] = [{} for _ in range(nb)]
    pairs: list[dict[str, dict[str, Any]]] = [{} for _ in range(nb)]
    for term, entry in entries.items():
        (pairs if in_pair_shard(term) else buckets)[fnv1a(term) % nb].setdefault("t", {})[term] = entry
    for word, forms in table.items():
        buckets[fnv1a(word) % nb].setdefault("w", {})[word] = termtable.encode(forms)
    for word in sorted(tops):
        buckets[fnv1a(word) % nb].setdefault("l", []).append(word)
    for key, values in dnrs.items():
        buckets[fnv1a(key) % nb].setdefault("d", {})[key] = sorted(values)
    names = [_write_bucket(w, i, _bucket_json(b), _bucket_json(p)) for i, (b, p) in enumerate(zip(buckets, pairs, strict=True))]
    return names, nb, len(keys)


def in_pair_shard(term: str) -> bool:
    """Whether a term's entry is in its bucket's pair shard (``data/q/``): a term of more than one
    word, as every word pair is (``phrases``); the page looks it up there by the same test."""
    return " " in term


def _write_bucket(w: _Writer, i: int, words: str, pairs: str) -> str:
    """Bucket ``i``'s term shard (``data/t/``) and pair shard (``data/q/``), both named by one hash
    of the two, which the root lists; returns it. A word's query loads only the first: the word
    pairs are most of a bucket's bytes (63 % gzipped at the whole corpus) and only a phrase reads
    them."""
    digest = hashlib.sha256(f"{words}\n{pairs}".encode()).hexdigest()[:SHARD_HASH_CHARS]
    for folder, body in ((TERM_SHARDS, words), (PAIR_SHARDS, pairs)):
        w.put(f"data/{folder}/{i}-{digest}.js", _wrap(f"{folder}/{i}-{digest}", body))
    return digest


def _top_lists(
    index_dir: Path, reader, chain: str, found: _Entries, table: dict[str, analysis.Forms], docs: list[_Doc],
    note: Progress, workers: int,
) -> dict[str, list[list[int]]]:
    """The listed top hits of the common words' queries (``toplists``), computed by the command
    line's search on the index being exported; none if that index has changed meanwhile (the
    page then scores every query itself)."""
    words = dict.fromkeys(itertools.chain(termtable.vocabulary(reader), table))
    wanted = toplists.candidates(words, toplists.page_forms(table, chain), found.weights)
    if not wanted or not _same_generation(index_dir, reader):
        return {}
    tops = toplists.top_hits(index_dir, wanted, {d.unit["id"]: d.num for d in docs}, workers=workers,
                             note=lambda n: note("top hits", n))
    return tops if _same_generation(index_dir, reader) else {}


def _write_lists(w: _Writer, tops: dict[str, list[list[int]]]) -> dict[str, Any] | None:
    """The listed top hits in ``LIST_FILE_WORDS``-word buckets by hash (``data/r/<bucket>-<tag>.js``,
    the tag a hash of every list), named in the root by their count and tag. Their scores change
    with every update of the index, so they are kept out of the term shards (whose listed words'
    shards would then all be new after an update) in small files of their own, all new instead
    (root: ``None`` if none)."""
    if not tops:
        return None
    n = 1
    while n * LIST_FILE_WORDS < len(tops):
        n *= 2
    buckets: list[dict[str, list[str]]] = [{} for _ in range(n)]
    for word, (nums, scores) in tops.items():
        buckets[fnv1a(word) % n][word] = [_pack_ints(nums), _pack_ints(scores)]
    bodies = [_dumps(b) for b in buckets]
    tag = hashlib.sha256("\n".join(bodies).encode("utf-8")).hexdigest()[:HASH_CHARS]
    for i, body in enumerate(bodies):
        w.put(f"data/r/{i}-{tag}.js", _wrap(f"r/{i}-{tag}", body))
    return {"files": n, "tag": tag, "hits": toplists.TOP_HITS}


def _same_generation(index_dir: Path, reader) -> bool:
    """Whether ``search`` reads the same segments in ``index_dir`` as ``reader``."""
    searcher, _ = search._Opened.searcher(index_dir)
    return _generation(searcher.reader()) == _generation(reader)


def _tagged(k: int, stream: Iterator[tuple[bytes, Any, list[int]]]) -> Iterator[tuple[bytes, int, Any, list[int]]]:
    """A field's terms with the field's place ``k`` after the term (it orders a term's fields)."""
    for tbytes, post, extra in stream:
        yield tbytes, k, post, extra


def _bucket_json(bucket: dict[str, dict[str, Any]]) -> str:
    """``_dumps(bucket)``, its term entries (``"t"``) being JSON already."""
    parts = []
    for key in sorted(bucket):
        if key == "t":
            inner = ",".join(f"{_dumps(term)}:{bucket['t'][term]}" for term in sorted(bucket["t"]))
            parts.append(f'"t":{{{inner}}}')
        else:
            parts.append(f"{_dumps(key)}:{_dumps(bucket[key])}")
    return "{" + ",".join(parts) + "}"


def _share_lists(posts: dict[str, Any]) -> dict[str, Any]:
    """A term's postings with the fold field's units and weights given by reference to the stem
    field's where they are the same -- as for most words: only a word with å/ä/ö/é folds to
    another's stem -- as ``[df, "stem", length byte differences]``. The fold field's lengths
    differ from the stem field's in about half of the units (a word with a digit is not folded,
    lemmas that fold alike count once), by a little, so the differences are mostly 0 and compress
    to a few bytes. A common word's postings are about a quarter smaller (``regering``: 160 kB
    gzipped, of which 67 kB the fold field's)."""
    stem, folded = posts.get("stem"), posts.get("fold")
    if not stem or not folded or folded[1] != stem[1] or folded[2] != stem[2]:
        return posts
    return {**posts, "fold": [folded[0], "stem", [a - b for a, b in zip(folded[3], stem[3], strict=True)]]}


def _share_units(posts: dict[str, Any]) -> dict[str, Any]:
    """A term's lists in the scored fields and the title over one list of units: where two or
    more are there, ``"*": [unit deltas of their union, [relative fields]]``, and each such
    field's units are given as the deltas of their places in the union (0: all of it). A common
    word's fields hold mostly the same units (``barn``: 8,051 in the stem field, 8,055 in the
    fold field, 6,557 exact), so its unit numbers are written once instead of five times.

    The exact and fold fields' weights and length bytes are given as differences from the stem
    field's for the same unit (0 where the stem field lacks it; weights 0 when every difference
    is): a unit's fields are of about the same length and mostly hold a word as often (not so
    the compound parts, whose differences compress worse than their values). ``barn``'s
    postings: 73 kB gzipped before, 46 kB after, with the length bytes (``_field_lengths``)."""
    lists = {f: p for f, p in posts.items() if f in UNION_FIELDS and not isinstance(p[1], str)}
    if len(lists) < 2:
        return posts
    docs = {f: list(itertools.accumulate(p[1])) for f, p in lists.items()}
    union = sorted(set().union(*docs.values()))
    place = {d: i for i, d in enumerate(union)}
    stem = lists.get("stem")
    base = None
    if stem is not None and _integral(stem[2]):
        ones = stem[2] or [1] * len(docs["stem"])
        base = {d: (t, b) for d, t, b in zip(docs["stem"], ones, stem[3], strict=True)}
    out = dict(posts)
    relative = []
    for f, p in lists.items():
        members = 0 if len(docs[f]) == len(union) else _places([place[d] for d in docs[f]], len(union))
        tfs, lbytes = p[2], p[3]
        if base is not None and f in RELATIVE_FIELDS and _integral(tfs):
            at = [base.get(d, (0, 0)) for d in docs[f]]
            diffs = [t - a[0] for t, a in zip(tfs or [1] * len(at), at, strict=True)]
            tfs = diffs if any(diffs) else 0
            lbytes = [b - a[1] for b, a in zip(lbytes, at, strict=True)]
            relative.append(f)
        out[f] = [p[0], members, tfs, lbytes, *p[4:]]
    out["*"] = [_deltas(union), sorted(relative)]
    return out


def _places(places: list[int], n: int) -> list[int] | str:
    """Ascending places among ``n`` as their deltas (packed later, ``_pack_ints``), or where they
    are one in ``BITMAP_FROM`` or more as a bitmap: ``BITMAP``, then a digit (``PACK_DIGITS``' first
    64) for each 6 places, place ``6k + j`` in bit ``j`` of digit ``k``. Gzipped, a set of places
    that dense is smaller so (a sample of 1,109 sets of 5,000 long terms: 13 % fewer bytes)."""
    if len(places) * BITMAP_FROM < n:
        return _deltas(places)
    digits = [0] * -(-n // 6)
    for i in places:
        digits[i // 6] |= 1 << (i % 6)
    return BITMAP + "".join(PACK_DIGITS[d] for d in digits)


def unpack_places(x: Any) -> list[int] | None:
    """The places a ``_places`` value stands for, packed or not (None for 0: all of them); the
    page's ``placesOf``."""
    if x == 0:
        return None
    if isinstance(x, str) and x[:1] == BITMAP:
        return [6 * k + j for k, ch in enumerate(x[1:]) for j in range(6) if _DIGIT_VALUE[ch] >> j & 1]
    return list(itertools.accumulate(unpack_ints(x)))


def _integral(tfs: list[Any] | int) -> bool:
    """Whether a list's weights are whole numbers (0: all 1), so differences of them are exact."""
    return tfs == 0 or all(isinstance(t, int) for t in tfs)


def _packed(posts: dict[str, Any]) -> dict[str, Any]:
    """A term's entry with its lists of whole numbers packed into strings (``_pack_ints``; the
    positions, lists of lists, by ``_pack_positions``); lists holding any other number stay lists."""
    out: dict[str, Any] = {}
    for f, p in posts.items():
        if f == "*":
            out[f] = [_pack_ints(p[0]), p[1]]
        else:
            positions = [_blocked_positions(x, p[2]) if f == "stem" else _pack_positions(x, p[2]) for x in p[4:]]
            out[f] = [p[0], *(_pack_ints(x) for x in p[1:4]), *positions]
    return out


class _Blocked(str):
    """A stem's packed positions (``_pack_positions``) with the same packed in blocks of ``size``
    units (``blocks``, ``block_size``), which ``_split_positions`` writes beside its file."""

    blocks: list[str]
    size: int


def _blocked_positions(xss: Any, tfs: list[Any] | int) -> Any:
    """``_pack_positions(xss, tfs)``, as a ``_Blocked`` where it holds ``POSITION_BLOCKS_FROM`` units or
    more: the page's proximity needs a common word's positions in a few of its units only (those
    whose rank it could change), which it then reads in blocks (``protokollsok.js``:
    ``positionsAt``). A rarer word's positions are read whole, beside its postings: its blocks
    would be many of them, and waiting for the scores to know which, then asking for some 35 files,
    made a query slower than reading the file (``kommunen budget``, ``kommun``'s 10,451 units:
    ~300 ms against ~170 in the benchmark, for 11 kB fewer, ``web-all-r25.md`` … ``-r27.md``);
    from 16,384 units on (``och``: 110,376) the file is large enough for the blocks to pay."""
    if not isinstance(xss, list) or len(xss) < max(POSITION_BLOCKS_FROM, POSITION_BLOCK + 1):
        return _pack_positions(xss, tfs)
    size = block_size(len(xss))
    blocks = [_pack_positions(xss[k : k + size], tfs if tfs == 0 else tfs[k : k + size]) for k in range(0, len(xss), size)]
    if not all(isinstance(b, str) and b[:1] == PACKED for b in blocks):  # (never: a count is the tf, no delta is negative)
        return _pack_positions(xss, tfs)
    whole = _Blocked(PACKED + "".join(b[1:] for b in blocks))  # the digits of one number do not depend on the others
    whole.blocks, whole.size = blocks, size
    return whole


def block_size(units: int) -> int:
    """How many units each block of a positions file of ``units`` units holds (the page's
    ``blockSize``): ``POSITION_BLOCK``, more where the file would have more than
    ``POSITION_BLOCKS_MAX`` blocks (``och``'s 110,376 units: 216 a block)."""
    return max(POSITION_BLOCK, -(-units // POSITION_BLOCKS_MAX))


def _pack_ints(xs: Any) -> Any:
    """A list of whole numbers as one string: each number's digits in base ``PACK_LAST`` (the
    last) and ``len(PACK_DIGITS) - PACK_LAST`` (the ones before it), so a number below
    ``PACK_LAST`` is one character; a list with a negative number is zigzag coded and starts
    with ``PACKED_SIGNED`` instead of ``PACKED``. A common word's postings are about a fifth
    smaller gzipped than as JSON numbers. Anything else (0, a field's name, a list with a
    fraction) is returned as it is."""
    if not isinstance(xs, list):
        return xs
    try:
        if xs and min(xs) < 0:
            return PACKED_SIGNED + _pack_digits([2 * x if x >= 0 else -2 * x - 1 for x in xs])
        return PACKED + _pack_digits(xs)
    except TypeError:  # a fraction cannot index the table nor be divided into digits
        return xs


def _pack_digits(xs: list[int]) -> str:
    table = _PACKED_SMALL
    if max(xs, default=0) < len(table):
        return "".join(map(table.__getitem__, xs))
    return "".join(table[x] if x < len(table) else _pack_number(x) for x in xs)


def _pack_positions(xss: Any, tfs: list[Any] | int) -> Any:
    """A term's position deltas per unit as one packed list (``_pack_ints``) of them all, one unit's
    after another's: a unit's number of positions is its tf (``tfs``; 0: each 1), which the page
    reads with the positions in any case. Without the counts between them the deltas gzip to about
    a quarter less (``kommun``'s positions in 10,451 units: 21.7 kB, 16.1 kB without). Where a unit's
    count is not its tf (never in this schema: whoosh's ``Positions`` weighs a posting by its
    number of positions) the lists are left as they are, which the page reads as well."""
    if not isinstance(xss, list) or not all(isinstance(xs, list) for xs in xss):
        return xss
    counts = [1] * len(xss) if tfs == 0 else tfs
    if len(counts) != len(xss) or any(len(xs) != t for xs, t in zip(xss, counts, strict=True)):
        return xss
    return _pack_ints([n for xs in xss for n in xs])


def _pack_number(n: int) -> str:
    base = len(PACK_DIGITS) - PACK_LAST
    n, last = divmod(n, PACK_LAST)
    digits = [PACK_DIGITS[last]]
    while n:
        n, d = divmod(n, base)
        digits.append(PACK_DIGITS[PACK_LAST + d])
    return "".join(reversed(digits))


_PACKED_SMALL = [_pack_number(n) for n in range(PACK_LAST * (len(PACK_DIGITS) - PACK_LAST) ** 2)]
_DIGIT_VALUE = {ch: d for d, ch in enumerate(PACK_DIGITS)}


def unpack_ints(packed: Any) -> Any:
    """The list a ``_pack_ints`` string stands for (anything else as it is); the page's ``ints``."""
    if not isinstance(packed, str) or packed[:1] not in (PACKED, PACKED_SIGNED):
        return packed
    base = len(PACK_DIGITS) - PACK_LAST
    out, acc = [], 0
    for ch in packed[1:]:
        d = _DIGIT_VALUE[ch]
        if d >= PACK_LAST:
            acc = acc * base + d - PACK_LAST
        else:
            out.append(acc * PACK_LAST + d)
            acc = 0
    if packed[0] == PACKED_SIGNED:
        out = [z // 2 if z % 2 == 0 else -(z + 1) // 2 for z in out]
    return out


def unpack_positions(packed: Any, tfs: list[Any] | int, n: int) -> Any:
    """The position deltas per unit a ``_pack_positions`` string stands for, given the tfs of its
    ``n`` units (0: each 1); anything else as it is. The page's ``decodePositions``."""
    flat = unpack_ints(packed)
    if flat is packed:
        return packed
    counts = [1] * n if tfs == 0 else [int(t) for t in tfs]
    starts = [0, *itertools.accumulate(counts)]
    if len(counts) != n or starts[-1] != len(flat):
        raise ValueError(f"{n} units' positions with tfs adding up to {starts[-1]}, not {len(flat)}")
    return [flat[a:b] for a, b in itertools.pairwise(starts)]


def _small_or_ref(w: _Writer, posts: dict[str, Any]) -> tuple[dict[str, Any] | list[Any], int]:
    """A term's postings as they go into its bucket, and the size of its weights' file (0: none).

    Small postings go inline. Long ones are written to files of their own (``data/p/<hash>.js``),
    so a bucket holds no common word's long lists and a query for a rare word that shares its
    bucket with a common one does not download them; the bucket then holds
    ``["p/<units>", {field: "p/<positions>"}, "p/<weights>"]``:

    - the units (``_units_and_weights``): the union and each field's document frequency (0 in a
      long term's part, ``_long_entry``) and places in it, which is all that counting the matches
      needs;
    - the positions (``text_stem``, ``text_pair``) where they are long, one file per field: only
      a phrase (or a query's proximity) reads them; named in the bucket, so a phrase loads them
      together with the postings instead of after them;
    - the weights and length bytes (and short positions), which only scoring needs: a common
      word's query whose top hits the bundle lists (``toplists``) does not load them; those of
      the exact field in a second file where they are long (``_weights_refs``).
    """
    inline = _inline(w, posts)
    if inline is not None:
        return inline, 0
    units, weights = _units_and_weights(_split_positions(w, posts))
    refs, weight_chars = _weights_refs(w, weights)
    return [_ref(w, _dumps(units)), _positions_refs(weights), refs], weight_chars


def _weights_refs(w: _Writer, weights: dict[str, Any]) -> tuple[str | list[str], int]:
    """The file of a term's weights and length bytes (``_units_and_weights``), or two where its
    exact field's (``SURFACE_FIELDS``) and the other fields' each weigh ``SURFACE_APART_CHARS`` or
    more: ``[the other fields', theirs]``; and their size. (Where the others' are few, the term is
    mostly an inflected form, searched as the query word itself: a file apart would only add a
    request, ``kommunen``'s 110 bytes.) A query word searches a term in the exact field only
    where the term is the word itself: ``kommunen`` searches ``kommun`` by its stem (and folded
    stem), compound parts and title, not as the exact word, which at the whole corpus leaves 1.8
    kB of ``kommun``'s 28 kB (gzipped) unread. (The page reads the first file with the second:
    the exact field's weights are differences from the stem field's.)"""
    surface = {f: p for f, p in weights.items() if f in SURFACE_FIELDS}
    rest = {f: p for f, p in weights.items() if f not in SURFACE_FIELDS}
    surface_body, rest_body = _dumps(surface), _dumps(rest)
    if min(len(surface_body), len(rest_body)) < SURFACE_APART_CHARS:
        body = _dumps(weights)
        return _ref(w, body), len(body)
    return [_ref(w, rest_body), _ref(w, surface_body)], len(rest_body) + len(surface_body)


def _inline(w: _Writer, posts: dict[str, Any]) -> dict[str, Any] | None:
    """Packed postings as they go into a bucket where they are short enough: as they are, or
    with their positions in files of their own where that makes them so; None where not."""
    if _fits(posts):
        return posts
    if _fits(_positions_named(posts)):
        return _split_positions(w, posts)
    return None


def _fits(posts: dict[str, Any]) -> bool:
    """Whether packed postings are short enough to go into a bucket as they are."""
    return len(_dumps(posts)) <= BIG_TERM_CHARS


def _positions_named(posts: dict[str, Any]) -> dict[str, Any]:
    """Packed postings as ``_split_positions`` makes them, as long, without writing a file."""
    name = "p/" + "0" * BIG_TERM_HASH_CHARS
    return {f: [*p[:4], name] if f != "*" and len(p) > 4 else p for f, p in posts.items()}


def _entry(w: _Writer, posts: dict[str, Any], cut: int) -> tuple[dict[str, Any] | list[Any], int]:
    """A term's entry in its bucket from its postings by field (``_field_postings``), and the size
    of its weights' files (0: none): small postings inline (``_inline``), long ones as
    ``_long_entry``."""
    packed = _packed(_share_units(_share_lists(posts)))
    inline = _inline(w, packed)
    if inline is not None:
        return inline, 0
    return _long_entry(w, posts, packed, cut)


def _long_entry(w: _Writer, posts: dict[str, Any], packed: dict[str, Any], cut: int) -> tuple[list[Any], int]:
    """A long term's entry: ``[units, {field: positions}, weights, {field: df}, recent]``.

    The first three name the files of its postings in the units numbered below ``cut``; the
    fourth gives the document frequencies, which change with every update and so are kept out of
    those files; ``recent``, only where the term is in units numbered from ``cut`` on, their
    postings as a small term's (inline) or as files again. An update gives its new units numbers
    past the cut, so it rewrites only the recent part of a common word's postings, not all of
    them. (Where every unit of the term is recent, the first three hold those.) ``packed``: the
    postings as ``_packed`` makes them, used as they are where no unit is recent."""
    dfs = {f: p[0] for f, p in posts.items()}
    if all(sum(p[1]) < cut for p in posts.values()):  # the deltas add up to the last unit's number
        parts = [{f: p if f == "*" else [0, *p[1:]] for f, p in packed.items()}]
    else:
        parts = [_packed(_share_units(_share_lists(part))) for part in _split_posts(posts, cut) if part]
    units, weights = _units_and_weights(_split_positions(w, parts[0]))
    refs, weight_chars = _weights_refs(w, weights)
    entry: list[Any] = [_ref(w, _dumps(units)), _positions_refs(weights), refs, dfs]
    if len(parts) > 1:
        recent, chars = _small_or_ref(w, parts[1])
        entry.append(recent)
        weight_chars += chars
    return entry, weight_chars


def _tail_entry(w: _Writer, posts: dict[str, Any], last: list[Any]) -> tuple[list[Any], int]:
    """A long term's entry (``_long_entry``) from its last one where only its units from the cut
    on are read (``webupdate.Plan``): the files of its postings below the cut as they were, its document
    frequencies and its recent part from ``posts`` (each field's df, the recent units' postings);
    and the size of its weights' files."""
    dfs = {f: p[0] for f, p in posts.items()}
    entry: list[Any] = [*last[:3], dfs]
    weight_chars = _keep_files(w, last[:3])
    recent = {f: [0, *p[1:]] for f, p in posts.items() if p[1]}
    if recent:
        part, chars = _small_or_ref(w, _packed(_share_units(_share_lists(recent))))
        entry.append(part)
        weight_chars += chars
    return entry, weight_chars


def _keep_files(w: _Writer, refs: list[Any]) -> int:
    """Keep the files a long entry's first three items name (units, positions, weights), as
    written; returns the size of the weights' (``_long_entry``'s ``weight_chars``)."""
    units, positions, weights = refs
    weights = [weights] if isinstance(weights, str) else weights
    for ref in (units, *positions.values(), *weights):
        if f"data/{ref}.js" not in w.names:
            w.keep(f"data/{ref}.js")
    return sum((w.out / f"data/{ref}.js").stat().st_size - len(_wrap(ref, "")) for ref in weights)


def _split_posts(posts: dict[str, Any], cut: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """A term's postings by field (``_encode_rows``) in two: those of the units numbered below
    ``cut`` and those from it on, each field's document frequency left out (0)."""
    below: dict[str, Any] = {}
    above: dict[str, Any] = {}
    for f, p in posts.items():
        nums = list(itertools.accumulate(p[1]))
        k = bisect.bisect_left(nums, cut)
        for part, at in ((below, slice(0, k)), (above, slice(k, None))):
            if not nums[at]:
                continue
            tfs = 0 if p[2] == 0 or all(t == 1 for t in p[2][at]) else p[2][at]
            part[f] = [0, _deltas(nums[at]), tfs, p[3][at], *(x[at] for x in p[4:])]
    return below, above


def _split_positions(w: _Writer, posts: dict[str, Any]) -> dict[str, Any]:
    """Packed postings with each field's positions (``text_stem``, ``text_pair``) in a file of
    its own, named where they were; a stem's in blocks too (``_write_blocks``)."""
    out = {}
    for f, p in posts.items():
        if f == "*" or len(p) <= 4:
            out[f] = p
            continue
        ref = _ref(w, _dumps(p[4]))
        if isinstance(p[4], _Blocked):
            _write_blocks(w, ref, p[4].blocks, p[4].size)
        out[f] = [*p[:4], ref]
    return out


def _write_blocks(w: _Writer, ref: str, blocks: list[str], size: int) -> None:
    """The blocks of the positions in file ``ref``, ``size`` units each, as
    ``<ref>-<first>-<end>.js``: the places of its units in the file's (the name says what it holds
    whatever the block size)."""
    first = 0
    for block in blocks:
        end = first + size
        name = f"{ref}-{first}-{end}"
        w.put(f"data/{name}.js", _wrap(name, _dumps(block)))
        first = end


def _positions_refs(weights: dict[str, Any]) -> dict[str, str]:
    """The positions' files named in the weights of ``_split_positions``'s postings, by field."""
    return {f: p[2] for f, p in weights.items() if len(p) > 2}


def _units_and_weights(posts: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """A term's postings split in two: ``"*"`` and each field's first two items (document
    frequency, units or places), and each field's rest (weights, length bytes, positions). The
    page puts each field's lists together again as ``[*units[f], *weights[f]]``."""
    units = {f: p if f == "*" else p[:2] for f, p in posts.items()}
    weights = {f: p[2:] for f, p in posts.items() if f != "*"}
    return units, weights


def _ref(w: _Writer, body: str) -> str:
    """``body`` written as ``data/p/<hash>.js``; its name as the page loads it."""
    return "p/" + w.jsonp_text("p", "", body, BIG_TERM_HASH_CHARS)


# ---------------------------------------------------------------------------------- vocabulary


def _segments(reader, docs: list[_Doc]) -> list[tuple[int, int]]:
    """``(first unit number, whoosh doc_count_all)`` per segment, in whoosh's order.

    whoosh expands a prefix query segment by segment, and how it scores the expansion depends on
    the segment (see ``protokollsok.js``: ``prefixPart``). Unit numbers follow whoosh's document
    order, so a segment's units are the numbers from its first number to the next segment's.
    """
    nums = [d.num for d in docs]
    docnums = [d.docnum for d in docs]
    out = []
    for leaf, offset in reader.leaf_readers():
        i = bisect.bisect_left(docnums, offset)
        out.append((nums[i] if i < len(nums) else (nums[-1] + 1 if nums else 0), leaf.doc_count_all()))
    return out


def _prefix_fields(reader, chain: str) -> list[tuple[str, str, float]]:
    """``(whoosh field, short name, boost)`` of the ``Prefix`` queries ``search`` builds for
    ``x*``: read from the query it builds, so the page cannot drift from it."""
    built = search._Builder(_NoSearcher(reader), chain).prefix("x")
    subs = built.subqueries if isinstance(built, wq.Or) else [built]
    return [(q.fieldname, q.fieldname.removeprefix("text_"), float(q.boost)) for q in subs]


class _NoSearcher:
    """Just enough of a searcher for ``search._Builder`` to build a prefix query."""

    def __init__(self, reader) -> None:
        self._reader = reader

    def reader(self):
        return self._reader


def _vocab_cut(term: str) -> bool:
    """Whether a vocabulary shard begins at ``term``: decided by the term alone (content-defined),
    so a new term changes only its own shard, not where the later shards begin."""
    return fnv1a("v" + term) % VOCAB_TERMS == 0


def _write_vocab(w: _Writer, reader, chain: str, ghosts: dict[tuple[str, str], list[int]], segs):
    """Vocabulary shards of the fields a prefix query expands in (``data/v/<field>-<hash>.js``).

    A shard is ``{"t": [terms], "x": {term: [segments]}}``, terms sorted by UTF-16 code units
    (JavaScript's string order). ``t`` lists every term of the field's lexicon, as whoosh's
    ``expand_prefix`` does. ``x`` names, for the rare term whose lexicon entry in a segment has no
    live unit (only deleted or bookkeeping documents), those segments: whoosh counts such a term
    when it expands a prefix in that segment, and the count decides how the segment is scored.
    The shards of the field "Menade du" looks words up in (``search._suggest``: the first prefix
    field) also carry ``df`` (``reader.doc_frequency``, which picks among the words one edit away)
    and ``cf`` (``reader.frequency``, which whoosh's corrector ranks by).

    Returns the root entries: ``prefix`` (field, boost pairs), ``vocab`` (per field the first term
    and hash of each shard), ``segs`` and ``suggest``.
    """
    leaves = reader.leaf_readers()
    out: dict[str, list[list[str]]] = {}
    prefix = []
    fields = _prefix_fields(reader, chain)
    suggest_field = fields[0][1]  # search._suggest: text_exact, or text_stem without it
    for fname, short, boost in fields:
        prefix.append([short, boost])
        if short in out:
            continue
        freqs = short == suggest_field
        in_segs: dict[str, list[int]] = defaultdict(list)
        df: dict[str, int] = defaultdict(int)  # reader.doc_frequency and reader.frequency, summed
        cf: dict[str, float] = defaultdict(int)  # over the segments in the same order
        for si, (leaf, _) in enumerate(leaves):
            if fname in leaf.schema:
                for t, info in postings.field_terms(leaf, fname):
                    term = _term_text(t)
                    in_segs[term].append(si)
                    if freqs:
                        df[term] += info.doc_frequency()
                        cf[term] += info.weight()
        shards: list[list[str]] = []
        cur: dict[str, Any] = {"t": [], "df": [], "cf": [], "x": {}}
        for term in sorted(in_segs, key=lambda t: t.encode("utf-16-be")):
            if cur["t"] and _vocab_cut(term):
                shards.append([cur["t"][0], w.jsonp("v", short, _no_empty(cur))])
                cur = {"t": [], "df": [], "cf": [], "x": {}}
            cur["t"].append(term)
            if freqs:
                cur["df"].append(df[term])
                cur["cf"].append(_num(cf[term]))
            extra = ghosts.get((short, term))
            if extra:
                cur["x"][term] = extra
        shards.append([cur["t"][0] if cur["t"] else "", w.jsonp("v", short, _no_empty(cur))])
        shards[0][0] = ""
        out[short] = shards
    suggest = {"field": suggest_field, "below": search.SUGGEST_BELOW, "letters": search._LETTERS}
    return {"prefix": prefix, "vocab": out, "segs": [list(s) for s in segs], "suggest": suggest}


def _no_empty(shard: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in shard.items() if v or k == "t"}


# ---------------------------------------------------------------------------------------- root


def _root(searcher, chain: str, docs, filters_name, shard_names, nb, facets) -> dict[str, Any]:
    reader = searcher.reader()
    fields = _field_names(reader, chain)
    weighting = searcher.weighting
    return {
        "v": FORMAT_VERSION,
        "chain": chain,
        "fields": [short for _, short in fields if short not in ("title", "dnr")],
        "N": searcher.doc_count_all(),
        "avgfl": {short: searcher.avg_field_length(f) or 1 for f, short in fields if short != "dnr"},
        "byteLengths": [byte_to_length(b) for b in range(256)],  # whoosh's length of a length byte
        "unionFields": list(UNION_FIELDS),  # a term's fields whose units "*" lists (_share_units)
        "surfaceFields": list(SURFACE_FIELDS),  # a long term's weights in these may be a file apart (_weights_refs)
        "pack": PACK_LAST,  # the digits that end a number in a packed list (_pack_ints)
        "B": getattr(weighting, "B", 0.75),
        "K1": getattr(weighting, "K1", 1.2),
        "boosts": {**schema.FIELD_BOOSTS, "title": schema.TITLE_BOOST},
        "proximity": {"slop": search.PROXIMITY_SLOP, "boost": search.PROXIMITY_BOOST},
        "positionBlock": POSITION_BLOCK,  # units per block of a stem's positions file (_write_blocks)
        "positionBlocksFrom": POSITION_BLOCKS_FROM,  # a file of fewer units has none
        "positionBlocksMax": POSITION_BLOCKS_MAX,  # nor more blocks than this (block_size)
        # phrases.plan's function-word stems, where the index has word pairs: every pair's
        # postings are in the pair shards (field "pair"), so a phrase is found and scored by its
        # pairs as on the command line, without the positions of its function words
        **({"pairs": sorted(analysis.pair_stems())} if PAIR_FIELD in reader.schema else {}),
        "units": len(docs),
        "buckets": nb,
        "shards": "".join(shard_names),  # bucket b's hash: characters b * shardHash ... (b + 1) * shardHash
        "shardHash": SHARD_HASH_CHARS,
        "metaChunk": META_CHUNK,
        "filters": filters_name,
        "namnd": facets["namnd"],
        "parti": facets["parti"],
    }


def _block_of_kept(sub: str, name: str, keep: set[str]) -> bool:
    """Whether ``data/<sub>/<name>`` is a block of a positions file that the bundle keeps
    (``_write_blocks``)."""
    block = _BLOCK_NAME.fullmatch(name) if sub == "p" else None
    return block is not None and f"data/p/{block[1]}.js" in keep


def _remove_stale(out: Path, keep: set[str], blocks_of_kept: bool = False) -> int:
    """Delete data files of earlier exports that the new root no longer names. With
    ``blocks_of_kept`` (an update that took entries from the last export, made with the same
    parameters), a kept positions file's blocks are kept with it: the update did not read them.
    Else only the blocks written now are (an older export's blocks of a file written alike may
    be of another size)."""
    removed = 0
    for sub in (TERM_SHARDS, PAIR_SHARDS, "p", "v", "f", "m", "h", "u", "r"):
        folder = out / "data" / sub
        if not folder.is_dir():
            continue
        for p in folder.iterdir():
            if f"data/{sub}/{p.name}" not in keep and not (blocks_of_kept and _block_of_kept(sub, p.name, keep)):
                p.unlink()
                removed += 1
        if sub in LEGACY_FOLDERS:
            folder.rmdir()
    return removed


# --------------------------------------------------------------------------------------- serve


class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves the bundle's files (nothing outside it, no folder listings) and ``/api/search``."""

    index_dir: Path
    bundle: Path

    def do_GET(self) -> None:
        url = urlsplit(self.path.encode("latin-1", "replace").decode("utf-8", "replace"))
        if url.path == "/api/search":
            self._api(parse_qs(url.query))
            return
        super().do_GET()

    def do_HEAD(self) -> None:
        if urlsplit(self.path).path == "/api/search":
            self.send_error(405)
            return
        super().do_HEAD()

    def translate_path(self, path: str) -> str:
        """The file for a URL path, or a path that does not exist when it would leave the bundle."""
        raw = urlsplit(path).path.encode("latin-1", "replace").decode("utf-8", "replace")
        rel = unquote(raw).lstrip("/")
        target = (self.bundle / rel).resolve()
        if target != self.bundle and self.bundle not in target.parents:
            return str(self.bundle / ".not-in-bundle" / "x")
        if target.is_dir():
            target = target / "index.html"
        return str(target)

    def list_directory(self, path):  # never list folders
        self.send_error(404)

    def _api(self, params: dict[str, list[str]]) -> None:
        one = {k: v[-1] for k, v in params.items() if v}
        try:
            result = search.search(
                self.index_dir,
                one.get("q", ""),
                limit=min(int(one.get("limit", "10") or 10), 100),
                namnd=params.get("namnd"),
                parti=params.get("parti"),
                date_from=one.get("from"),
                date_to=one.get("to"),
                sort=one.get("sort", "relevance"),
            )
            self._json(200, result.to_json())
        except ValueError:
            self._json(400, {"error": "limit must be a number"})
        except ProtokollsokError as e:
            self._json(400, {"error": str(e)})

    def _json(self, status: int, data: Any) -> None:
        body = json.dumps(data, ensure_ascii=False).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:  # quiet by default
        return


def make_server(index_dir: str | Path, bundle: str | Path, host: str = "127.0.0.1", port: int = 8080):
    """A threading HTTP server for an exported bundle and its index (``port`` 0 picks a free one)."""
    handler = type(
        "Handler",
        (_Handler,),
        {"index_dir": Path(index_dir), "bundle": Path(bundle).resolve()},
    )
    return http.server.ThreadingHTTPServer((host, port), partial(handler, directory=str(Path(bundle).resolve())))


def serve(
    index_dir: str | Path | None, out_dir: str | Path | None, host: str = "127.0.0.1", port: int = 8080, progress: Progress | None = None
) -> None:
    """Export the bundle (into ``out_dir`` or a temporary folder, telling ``progress`` as
    ``export_bundle`` does) and serve it with a JSON API."""
    import tempfile

    index_dir = Path(index_dir or index.default_index_dir())
    tmp = None
    if out_dir is None:
        tmp = tempfile.mkdtemp(prefix="protokollsok-web-")
        out_dir = tmp
    try:
        print(f"Exporting the page from {index_dir}/ into {out_dir} …", flush=True)
        report = export_bundle(index_dir, out_dir, progress=progress)
        getattr(progress, "finish", _no_finish)()  # a status line (cli._Status) is cleared first
        print(f"{report['written']} files written, {report['kept']} unchanged", flush=True)
        httpd = make_server(index_dir, out_dir, host, port)
        h, p = httpd.server_address[:2]
        print(f"Serving {out_dir} on http://{h}:{p}/ (API: /api/search?q=...) — Ctrl-C stops", flush=True)
        with httpd:
            httpd.serve_forever()
    finally:
        if tmp:
            shutil.rmtree(tmp, ignore_errors=True)
