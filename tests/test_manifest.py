"""manifest: what is indexed, and how the corpus differs from it."""

from __future__ import annotations

import os
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st
from whoosh import index as windex

from protokollsok import manifest, schema
from protokollsok.manifest import EMPTY, FAILED, OK, FileEntry, Found


def _file(tmp_path: Path, name: str, data: bytes) -> Found:
    p = tmp_path / name
    p.write_bytes(data)
    f = manifest.found(p, name)
    assert f is not None
    return f


def _entry(f: Found, *, status: str = OK, reason: str = "", ids: tuple[str, ...] = ()) -> FileEntry:
    return FileEntry(f.source, manifest.sha256_of(f.path), f.size, f.mtime_ns, ids, status, reason)


def test_a_file_not_in_the_manifest_is_added(tmp_path):
    f = _file(tmp_path, "a.txt", "§ 1 Budget".encode())
    changes = manifest.diff({}, [f])
    assert changes.added == [f]
    assert not (changes.changed or changes.unchanged or changes.removed)


def test_same_size_and_mtime_is_unchanged_without_reading_the_file(tmp_path):
    f = _file(tmp_path, "a.txt", "§ 1 Budget".encode())
    entry = _entry(f)
    f.path.unlink()  # reading it now would fail: the diff must not need to
    changes = manifest.diff({"a.txt": entry}, [f])
    assert changes.unchanged == ["a.txt"]
    assert changes.empty


def test_new_bytes_make_a_changed_file(tmp_path):
    f = _file(tmp_path, "a.txt", "§ 1 Budget".encode())
    entry = _entry(f)
    f2 = _file(tmp_path, "a.txt", "§ 1 Budget och skola".encode())
    assert manifest.diff({"a.txt": entry}, [f2]).changed == [f2]


def test_verify_hashes_even_when_size_and_mtime_match(tmp_path):
    f = _file(tmp_path, "a.txt", b"aaaa")
    entry = _entry(f)
    f.path.write_bytes(b"bbbb")
    os.utime(f.path, ns=(f.mtime_ns, f.mtime_ns))
    same_stat = manifest.found(f.path, "a.txt")
    assert manifest.diff({"a.txt": entry}, [same_stat]).unchanged == ["a.txt"]
    assert manifest.diff({"a.txt": entry}, [same_stat], verify=True).changed == [same_stat]


def test_a_touched_file_with_the_same_bytes_is_unchanged_and_its_entry_refreshed(tmp_path):
    f = _file(tmp_path, "a.txt", b"samma text")
    entry = _entry(f, ids=("a.txt#§1",))
    os.utime(f.path, ns=(f.mtime_ns + 10**9, f.mtime_ns + 10**9))
    touched = manifest.found(f.path, "a.txt")
    changes = manifest.diff({"a.txt": entry}, [touched])
    assert changes.unchanged == ["a.txt"]
    [refreshed] = changes.touched
    assert refreshed.mtime_ns == touched.mtime_ns
    assert refreshed.unit_ids == entry.unit_ids
    assert not changes.empty  # the refreshed entry is worth a commit


def test_files_gone_from_the_corpus_are_removed(tmp_path):
    f = _file(tmp_path, "a.txt", b"x")
    g = _file(tmp_path, "b.txt", b"y")
    changes = manifest.diff({"a.txt": _entry(f), "b.txt": _entry(g)}, [g])
    assert changes.removed == ["a.txt"]


def test_an_unchanged_failed_file_is_not_retried(tmp_path):
    f = _file(tmp_path, "bad.pdf", b"%PDF-1.4 trunc")
    entry = _entry(f, status=FAILED, reason="truncated PDF")
    changes = manifest.diff({"bad.pdf": entry}, [f])
    assert changes.still_failed == [entry]
    assert not (changes.added or changes.changed or changes.unchanged)


def test_a_failed_file_that_changed_is_retried(tmp_path):
    f = _file(tmp_path, "bad.pdf", b"%PDF-1.4 trunc")
    entry = _entry(f, status=FAILED, reason="truncated PDF")
    fixed = _file(tmp_path, "bad.pdf", b"%PDF-1.4 now complete, longer")
    assert manifest.diff({"bad.pdf": entry}, [fixed]).changed == [fixed]


def test_a_file_found_twice_is_counted_once(tmp_path):
    f = _file(tmp_path, "a.txt", b"x")
    changes = manifest.diff({}, [f, f])
    assert changes.added == [f]


def test_entries_round_trip_through_the_index_with_their_status(tmp_path):
    ix = windex.create_in(str(tmp_path), schema.build_schema("full"), indexname="m")
    entries = [
        FileEntry("a.txt", "ab" * 32, 10, 123, ("a.txt#§1", "a.txt#§2")),
        FileEntry("b.pdf", "cd" * 32, 20, 456, (), FAILED, "truncated PDF: no end of file"),
        FileEntry("c.pdf", "ef" * 32, 30, 789, (), EMPTY, "no text layer (a scanned image?)"),
    ]
    with ix.writer() as w:
        for e in entries:
            w.add_document(**manifest.entry_document(e))
    with ix.searcher() as s:
        assert manifest.load(s) == {e.source: e for e in entries}


_names = st.sampled_from(["a.txt", "b.txt", "c.md", "d.pdf", "e.html"])


@settings(max_examples=60, deadline=None)
@given(
    indexed=st.dictionaries(_names, st.sampled_from([OK, FAILED, EMPTY]), max_size=5),
    present=st.dictionaries(_names, st.booleans(), max_size=5),
)
def test_every_found_file_lands_in_exactly_one_outcome(tmp_path_factory, indexed, present):
    """present: name -> whether its bytes are the indexed ones (False: rewritten)."""
    tmp = tmp_path_factory.mktemp("m")
    entries, files = {}, []
    for name, status in indexed.items():
        f = _file(tmp, name, b"indexed " + name.encode())
        entries[name] = _entry(f, status=status, reason="r" if status != OK else "")
    for name, same in present.items():
        data = b"indexed " + name.encode() if same else b"rewritten, longer " + name.encode()
        files.append(_file(tmp, name, data))
    changes = manifest.diff(entries, files)
    buckets = [
        *(f.source for f in changes.added),
        *(f.source for f in changes.changed),
        *changes.unchanged,
        *(e.source for e in changes.still_failed),
    ]
    assert sorted(buckets) == sorted(present)
    assert set(changes.removed) == set(indexed) - set(present)
