"""What an update's web export takes from the last export (``web.export_bundle``).

The last export's ``data/state.json`` records its segments (their documents, deleted documents
and unit numbers), the term shards it wrote, its weights' sizes and what its entries and listed top
hits were made with (``record``). From that, ``reuse`` finds what the next export can take as it
is: the entries of the terms that neither a changed segment nor a deleted unit holds (a removed
or changed unit's old version stays in its segment, deleted, until a merge: ``postings.holding``
finds its terms), the files of their long postings, and (where the index is as it was) the listed
top hits; and how the other terms are read (``Plan``): a long term the new units hold only in the
segments past the cut (``web._tail_entry``). Where the record cannot vouch for a term, it is read
as a first export reads it: the bundle is byte for byte the one an export reading everything
writes (``tests/test_web_update.py``).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from protokollsok import postings, search, toplists, web

_P_REF = re.compile(r'"(p/[0-9a-f]+)"')  # a long term's files, as its entry names them (``web._ref``)


@dataclass
class Plan:
    """The terms an update's export reads (``only``). Of the long terms among them whose units
    below the cut are as they were (``tails``: their last entries; none that a deleted unit
    holds), it reads the postings only outside the ``settled`` segments (kept ones,
    ``_kept_segments``, whose units are all below the cut) and their document frequencies from
    every segment; ``found``: the tail terms that a settled segment holds, whose entries
    ``web._tail_entry`` makes from the last ones."""

    only: set[bytes]
    tails: dict[bytes, list[Any]] = field(default_factory=dict)
    settled: frozenset[int] = frozenset()
    found: set[bytes] = field(default_factory=set)


@dataclass
class Reuse:
    """What an update's export takes from the last export: the entries of the terms that no
    changed segment holds (their postings, numbers and lengths are as they were), the files of
    their long postings and their weights' sizes; ``plan``: how the other terms are read."""

    plan: Plan
    entries: dict[str, str]
    weights: dict[str, int]
    files: set[str]
    dnrs: set[str]  # those of the entries with postings in the dnr field
    lists: dict[str, list[list[int]]] | None = None  # the listed top hits, where the index is as it was
    deleted: dict[int, list[int]] = field(default_factory=dict)  # a kept segment's deleted documents, by place
    held: dict[int, set[bytes]] = field(default_factory=dict)  # the terms those hold
    ghosts: dict[tuple[str, str], list[int]] = field(default_factory=dict)  # of the terms not read (``web._write_vocab``)


def _entry_params() -> str:
    """What a term's entry is made with besides its postings and the cut."""
    params = [web.FORMAT_VERSION, web.BIG_TERM_CHARS, web.BIG_TERM_HASH_CHARS, web.PACK_DIGITS, web.PACK_LAST,
              web.UNION_FIELDS, web.RELATIVE_FIELDS, web.POSITION_BLOCK, web.POSITION_BLOCKS_FROM, web.POSITION_BLOCKS_MAX,
              web.SURFACE_FIELDS, web.SURFACE_APART_CHARS, web.BITMAP, web.BITMAP_FROM]
    return hashlib.sha256(repr(params).encode("utf-8")).hexdigest()[:web.HASH_CHARS]


def _segment_records(reader, num_of: dict[int, int]) -> list[list[Any]]:
    """``[segment id, documents, deleted documents, unit numbers]`` per segment, the numbers as
    runs (``_runs``) over its documents: a segment whose record is the same in two exports gives
    every term the same postings; one whose live documents have the numbers they had, every term
    that none of its deleted documents holds (``_kept_segments``)."""
    out = []
    for leaf, offset in reader.leaf_readers():
        seg = leaf.segment()
        if seg is None:
            continue
        nums = [num_of.get(offset + doc, -1) for doc in range(leaf.doc_count_all())]
        out.append([seg.segment_id(), leaf.doc_count_all(), seg.deleted_count(), _runs(nums)])
    return out


def _runs(nums: list[int]) -> list[int]:
    """``[first document, its number, length, ...]`` for each run of documents numbered one after
    another (-1, a deleted or bookkeeping document's, in none)."""
    runs: list[int] = []
    for doc, num in enumerate(nums):
        if num < 0:
            continue
        if runs and runs[-3] + runs[-1] == doc and runs[-2] + runs[-1] == num:
            runs[-1] += 1
        else:
            runs += [doc, num, 1]
    return runs


def _numbers(runs: Any, docs: int) -> list[int] | None:
    """The unit number of each of ``docs`` documents (-1: none) from their ``_runs``; None where
    they are not runs of as many documents."""
    nums = [-1] * docs
    try:
        for k in range(0, len(runs), 3):
            doc, num, length = (int(x) for x in runs[k : k + 3])
            if min(doc, num) < 0 or length < 1 or doc + length > docs:
                return None
            nums[doc : doc + length] = range(num, num + length)
    except (TypeError, ValueError):
        return None
    return nums


def _list_params() -> str:
    """What the listed top hits are made with besides the index: their parameters and the code
    that searches (this package's)."""
    h = hashlib.sha256(repr([toplists.TOP_HITS, toplists.MIN_WEIGHT_CHARS, web.LIST_FILE_WORDS]).encode("utf-8"))
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.read_bytes())
    return h.hexdigest()[:web.HASH_CHARS]


def record(reader, chain: str, num_of: dict[int, int], shard_names: list[str], entries: web._Entries,
           found: Reuse | None) -> dict[str, Any]:
    """What the next export needs to know to take this one's entries and lists (``reuse``);
    ``found``: what this export took from the last, if anything."""
    return {"params": _entry_params(), "segments": _segment_records(reader, num_of), "shards": "".join(shard_names),
            "weights": entries.weights, "lists": _list_params(), "deleted": _deleted_records(reader, chain, entries.ghosts, found)}


def _deleted_records(
    reader, chain: str, ghosts: dict[tuple[str, str], list[int]], found: Reuse | None
) -> dict[str, dict[str, Any]]:
    """By segment id, for each segment with deleted documents: ``{"docs", "terms", "ghosts"}``,
    those documents, the terms they hold (``postings.holding``, or as ``found`` has them) and those
    of the terms that no live unit there holds, so that the next export reads only the terms of
    documents deleted since (``reuse``)."""
    out = {}
    for i, (leaf, _) in enumerate(reader.leaf_readers()):
        seg = leaf.segment()
        if seg is None or not seg.deleted_count():
            continue
        if found is not None and i in found.held:
            docs, terms = found.deleted[i], found.held[i]
        else:
            docs = [doc for doc in range(leaf.doc_count_all()) if leaf.is_deleted(doc)]
            terms = {t for f in _fields(reader, chain) if f in leaf.schema for t in postings.holding(leaf, f, docs)}
        out[seg.segment_id()] = {"docs": docs, "terms": sorted(web._term_text(t) for t in terms),
                                 "ghosts": sorted([short, term] for (short, term), places in ghosts.items() if i in places)}
    return out


def _fields(reader, chain: str) -> list[str]:
    """The whoosh fields of an entry's postings."""
    return [f for f, _ in web._field_names(reader, chain)] + ([web.PAIR_FIELD] if web.PAIR_FIELD in reader.schema else [])


def _last_deleted(last: Any, docs: list[int]) -> tuple[set[int], set[bytes], list[list[str]]] | None:
    """A kept segment's record of its deleted documents at the last export (``_deleted_records``):
    those documents, the terms they hold and their ghost terms; None where there is none, or it is
    not one of documents all deleted now."""
    if not isinstance(last, dict):
        return None
    try:
        then = {int(d) for d in last["docs"]}
        terms = {str(t).encode("utf-8") for t in last["terms"]}
        ghosts = [[str(short), str(term)] for short, term in last["ghosts"]]
    except (KeyError, TypeError, ValueError):
        return None
    return (then, terms, ghosts) if then <= set(docs) else None


def reuse(out: Path, state: dict[str, Any], reader, chain: str, numbering: web._Numbering) -> Reuse | None:
    """What this export can take from the last one as it is, or None (all made again).

    Taken where the last export left a record of its segments and entries (``record``) with the
    same entry parameters and cut. A segment of the last export still there with its live units
    numbered as they were (``_kept_segments``; units may have been deleted since) gives a term
    the postings it had, unless one of its deleted units holds the term; a term that no other
    segment holds has the postings, document frequencies and numbers it had. The terms of every
    other segment are read again, and those its deleted units hold (``Plan``). The listed top
    hits are taken where every segment is as it was (their scores change with any other)."""
    prev = state.get("reuse")
    if not web.REUSE or not isinstance(prev, dict) or prev.get("params") != _entry_params() or state.get("cut") != numbering.cut:
        return None
    num_of = {d.docnum: d.num for d in numbering.docs}
    leaves = [(i, leaf, offset) for i, (leaf, offset) in enumerate(reader.leaf_readers()) if leaf.segment() is not None]
    records = _segment_records(reader, num_of)
    kept = _kept_segments(prev.get("segments"), leaves, records, {d.num for d in numbering.docs})
    if not kept:
        return None
    root = _read_data(out / "data" / "root.js")
    found = _old_entries(out, root, prev.get("shards"))
    if found is None:
        return None
    old, dnrs = found
    fields = _fields(reader, chain)
    read = {t for i, leaf, _ in leaves if i not in kept for f in fields if f in leaf.schema for t, _ in postings.field_terms(leaf, f)}
    held: dict[int, set[bytes]] = {}  # the terms of each kept segment's deleted units
    carried: list[tuple[int, list[list[str]]]] = []
    last_deleted = prev.get("deleted") if isinstance(prev.get("deleted"), dict) else {}
    for i, leaf, _ in leaves:
        if not kept.get(i):
            continue
        was = _last_deleted(last_deleted.get(leaf.segment().segment_id()), kept[i])
        then, terms, ghosts = was if was is not None else (set(), set(), [])
        since = [doc for doc in kept[i] if doc not in then]  # (the others' terms have the entries they had)
        fresh = {t for f in fields if f in leaf.schema for t in postings.holding(leaf, f, since)}
        read |= fresh
        held[i] = terms | fresh
        carried.append((i, ghosts))
    entries: dict[str, str] = {}
    files: set[str] = set()
    for term, entry in old.items():
        if term.encode("utf-8") in read:
            continue
        refs = [f"data/{ref}.js" for ref in _P_REF.findall(entry)]
        if all((out / ref).is_file() for ref in refs):
            entries[term] = entry
            files.update(refs)
        else:
            read.add(term.encode("utf-8"))
    weights = {t: n for t, n in prev.get("weights", {}).items() if t in entries}
    plan = Plan(read)
    settled = _settled(leaves, num_of, kept, numbering.cut)
    if settled is not None:
        plan.settled = settled
        # (not a term a deleted unit holds: a settled segment's postings count as live unread, and
        # its postings below the cut may have changed, or become too few for files of their own)
        plan.tails = _tails(out, read.difference(*held.values()), old)
    same_index = records == prev.get("segments") and prev.get("lists") == _list_params()
    lists = _old_lists(out, root) if same_index else None
    taken = Reuse(plan, entries, weights, files, {t for t in dnrs if t in entries}, lists,
                  {i: kept[i] for i in held}, held)
    for i, ghosts in carried:  # (a term read gets its ghost segments from the reading)
        for short, term in ghosts:
            if term.encode("utf-8") not in read:
                taken.ghosts.setdefault((short, term), []).append(i)
    return taken


def _kept_segments(
    last: Any, leaves: list[tuple[int, Any, int]], records: list[list[Any]], live: set[int]
) -> dict[int, list[int]] | None:
    """The segments (by place) of the last export's record (``last``) that are still there with
    their live units numbered as they were, each with its deleted documents now; None where the
    record cannot vouch for the terms of the others: where ``last`` is not such a record, or a
    segment it names is gone (merged) having had deleted documents, or with a unit not live now
    (the terms only those held, and their share of document frequencies, went with the merge, and
    no segment tells which they were). A bookkeeping document holds none of the exported fields'
    terms."""
    if not isinstance(last, list) or not all(isinstance(r, list) and len(r) == 4 and isinstance(r[0], str) for r in last):
        return None
    by_id = {r[0]: r for r in last}
    kept: dict[int, list[int]] = {}
    for (i, leaf, _), record in zip(leaves, records, strict=True):
        was = by_id.get(record[0])
        if was is None or was[1] != record[1]:
            continue
        del by_id[record[0]]  # there (its terms are read where it is not kept)
        then, now = _numbers(was[3], record[1]), _numbers(record[3], record[1])
        if then is None or now is None:
            return None
        deleted = [doc for doc in range(record[1]) if leaf.is_deleted(doc)] if record[2] else []
        gone = set(deleted)
        if all(a == b for doc, (a, b) in enumerate(zip(then, now, strict=True)) if doc not in gone):
            kept[i] = deleted
    for was in by_id.values():  # segments gone
        nums = _numbers(was[3], was[1]) if isinstance(was[1], int) else None
        if nums is None or was[2] or any(n >= 0 and n not in live for n in nums):
            return None
    return kept


def _settled(leaves: list[tuple[int, Any, int]], num_of: dict[int, int], kept: dict[int, list[int]], cut: int) -> frozenset[int] | None:
    """The kept segments (by place, ``_kept_segments``) whose units are all below the cut, where
    every unit below the cut is in one of them; else None."""
    settled = set()
    for i, leaf, offset in leaves:
        nums = [n for doc in range(leaf.doc_count_all()) if (n := num_of.get(offset + doc)) is not None]
        if i in kept and all(n < cut for n in nums):
            settled.add(i)
        elif any(n < cut for n in nums):
            return None
    return frozenset(settled)


def _tails(out: Path, read: set[bytes], old: dict[str, str]) -> dict[bytes, list[Any]]:
    """The last entries of the long terms among ``read`` whose files are all in the bundle."""
    tails = {}
    for tbytes in read:
        entry = old.get(tbytes.decode("utf-8"))
        refs = _P_REF.findall(entry) if entry is not None and entry.startswith("[") else None
        if refs and all((out / f"data/{ref}.js").is_file() for ref in refs):
            tails[tbytes] = json.loads(entry)
    return tails


def take(entries: web._Entries, found: Reuse, w: web._Writer) -> None:
    """Add the reused entries to those made now, their files to what the bundle keeps."""
    entries.entries.update(found.entries)
    entries.weights.update(found.weights)
    for term in found.dnrs:
        entries.dnrs[search.dnr_key(term)].append(term)
    entries.ghosts.update(found.ghosts)
    for name in found.files:
        w.keep(name)


def _old_entries(out: Path, root: Any, shards: Any) -> tuple[dict[str, str], set[str]] | None:
    """Every term's entry (as JSON) in the term and pair shards that ``root`` (the bundle's ``root.js``)
    names, and the terms spelling a diarienummer there, where it names those of ``shards`` (the
    last export's); None where it does not or a shard cannot be read."""
    if not isinstance(root, dict) or not isinstance(shards, str) or root.get("shards") != shards:
        return None
    entries: dict[str, str] = {}
    dnrs: set[str] = set()
    try:
        chars = int(root.get("shardHash", web.SHARD_HASH_CHARS))
        for b in range(len(shards) // chars):
            name = f"{b}-{shards[b * chars : (b + 1) * chars]}.js"
            bucket = _read_data(out / "data" / web.TERM_SHARDS / name)
            pairs = _read_data(out / "data" / web.PAIR_SHARDS / name)
            for term, entry in itertools.chain(bucket.get("t", {}).items(), pairs.get("t", {}).items()):
                entries[term] = web._dumps(entry)
            for spellings in bucket.get("d", {}).values():
                dnrs.update(spellings)
    except (AttributeError, TypeError, ValueError):  # a shard gone or not as written
        return None
    return entries, dnrs


def _old_lists(out: Path, root: dict[str, Any]) -> dict[str, list[list[int]]] | None:
    """The listed top hits that ``root`` names (``web._write_lists``), or None where it names none or
    one of their files cannot be read."""
    spec = root.get("lists")
    if not isinstance(spec, dict) or spec.get("hits") != toplists.TOP_HITS:
        return None
    tops = {}
    try:
        for i in range(int(spec.get("files", 0))):
            for word, (nums, scores) in _read_data(out / "data" / "r" / f"{i}-{spec.get('tag')}.js").items():
                tops[word] = [web.unpack_ints(nums), web.unpack_ints(scores)]
    except (AttributeError, TypeError, ValueError):  # a file gone or not as written
        return None
    return tops


def _read_data(path: Path) -> Any:
    """The data of a bundle file (``web._wrap``), or None where it cannot be read."""
    try:
        text = path.read_text(encoding="utf-8")
        return json.loads(text[text.index(",") + 1 : text.rindex(")")])
    except (OSError, ValueError):
        return None
