"""index: incremental by default, atomic, and bad input never stops a run or loses what was indexed."""

from __future__ import annotations

import errno
import json
import os
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from protokollsok import index, pipeline
from protokollsok.errors import ProtokollsokError
from protokollsok.index import build_index, check, open_index
from protokollsok.search import search

SHARED = Path(__file__).resolve().parents[2] / "shared"
IMAGE_ONLY_PDF = (
    SHARED / "corpora/kommun/goteborg/pdf/"
    "Stadsrevisionens_rapportsammandrag_Granskning_av_arbetet_mot_hedersrelaterat_vald_och_fortryck.pdf"
)


def protokoll(namnd: str, *paragrafer: tuple[int, str, str]) -> str:
    """A tiny protokoll: a heading and one § per (number, title, text)."""
    parts = [f"{namnd}\nProtokoll 2024-03-12\n"]
    parts += [f"§ {n} {title}\n{text}\n" for n, title, text in paragrafer]
    return "\n".join(parts)


FILES = {
    "ks-1.txt": protokoll(
        "Kommunstyrelsen",
        (1, "Val av justerare", "Anna Andersson utses att justera protokollet."),
        (2, "Ny simhall", "Kommunstyrelsen beslutar att bygga en simhall i centrum."),
    ),
    "bun-1.txt": protokoll(
        "Barn- och utbildningsnämnden",
        (5, "Skolskjuts", "Nämnden beslutar om skolskjuts för elever i Norrby."),
    ),
    "sub/tn-1.txt": protokoll(
        "Tekniska nämnden",
        (7, "Cykelbana", "Nämnden godkänner en cykelbana längs ån."),
        (8, "Gatubelysning", "Nämnden beslutar om ny gatubelysning."),
    ),
}


def write(root: Path, name: str, text: str) -> Path:
    p = root / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(text, encoding="utf-8")
    return p


@pytest.fixture
def corpus(tmp_path) -> Path:
    root = tmp_path / "corpus"
    for name, text in FILES.items():
        write(root, name, text)
    return root


@pytest.fixture
def ix(tmp_path) -> Path:
    return tmp_path / "index"


def stored(index_dir: Path) -> dict[str, dict]:
    """Every stored document of the current generation, by id (units and manifest entries)."""
    whoosh_ix, _ = open_index(index_dir)
    with whoosh_ix.searcher() as s:
        return {d["id"]: d for d in s.all_stored_fields()}


def unit_ids(index_dir: Path) -> set[str]:
    return {i for i, d in stored(index_dir).items() if d.get("doctype") != "file"}


def hit_ids(index_dir: Path, query: str) -> set[str]:
    return {h.id for h in search(index_dir, query, limit=100, facets=False, suggest=False).hits}


def count_parses(monkeypatch) -> list[str]:
    """Record the source of every file the pipeline is asked to parse."""
    parsed: list[str] = []
    real = pipeline.units_of

    def spy(path, source=None):
        parsed.append(source)
        return real(path, source)

    monkeypatch.setattr(pipeline, "units_of", spy)
    return parsed


# ------------------------------------------------------------------------------- follow the corpus


def test_first_run_adds_every_file_and_its_units_are_searchable(corpus, ix):
    report = build_index([corpus], ix)
    assert sorted(report.added) == sorted(FILES)
    assert report.ok and report.files_seen == len(FILES)
    assert report.paragrafer == 5
    assert hit_ids(ix, "simhall") == {"ks-1.txt#§2"}
    assert hit_ids(ix, "cykelbana") == {"sub/tn-1.txt#§7"}


def test_rerun_over_an_unchanged_corpus_parses_nothing_and_writes_nothing(corpus, ix, monkeypatch):
    build_index([corpus], ix)
    before = {p.name: p.stat().st_mtime_ns for p in ix.iterdir() if p.name != index.LOCK_FILE}
    parsed = count_parses(monkeypatch)
    report = build_index([corpus], ix)
    assert parsed == []
    assert report.unchanged == len(FILES)
    assert not (report.added or report.replaced or report.removed or report.failed)
    after = {p.name: p.stat().st_mtime_ns for p in ix.iterdir() if p.name != index.LOCK_FILE}
    assert after == before


def test_a_new_file_is_added_and_only_it_is_parsed(corpus, ix, monkeypatch):
    build_index([corpus], ix)
    write(corpus, "ks-2.txt", protokoll("Kommunstyrelsen", (3, "Bibliotek", "Ett nytt bibliotek byggs.")))
    parsed = count_parses(monkeypatch)
    report = build_index([corpus], ix)
    assert parsed == ["ks-2.txt"]
    assert report.added == ["ks-2.txt"] and report.unchanged == len(FILES)
    assert hit_ids(ix, "bibliotek") == {"ks-2.txt#§3"}
    assert hit_ids(ix, "simhall") == {"ks-1.txt#§2"}


def test_a_changed_file_is_replaced_and_search_follows(corpus, ix):
    build_index([corpus], ix)
    write(corpus, "ks-1.txt", protokoll("Kommunstyrelsen", (2, "Ny ishall", "Kommunstyrelsen bygger en ishall.")))
    report = build_index([corpus], ix)
    assert report.replaced == ["ks-1.txt"]
    assert hit_ids(ix, "ishall") == {"ks-1.txt#§2"}
    assert hit_ids(ix, "simhall") == set()
    assert "ks-1.txt#§1" not in unit_ids(ix)  # the § that disappeared from the file is gone


def test_a_deleted_file_is_removed_with_all_its_units(corpus, ix):
    build_index([corpus], ix)
    (corpus / "sub/tn-1.txt").unlink()
    report = build_index([corpus], ix)
    assert report.removed == ["sub/tn-1.txt"]
    assert not any(i.startswith("sub/tn-1.txt") for i in stored(ix))
    assert hit_ids(ix, "cykelbana") == set()


def test_a_renamed_file_moves_its_units_to_the_new_name(corpus, ix):
    build_index([corpus], ix)
    (corpus / "bun-1.txt").rename(corpus / "bun-2024.txt")
    report = build_index([corpus], ix)
    assert report.removed == ["bun-1.txt"] and report.added == ["bun-2024.txt"]
    assert hit_ids(ix, "skolskjuts") == {"bun-2024.txt#§5"}
    assert check([corpus], ix).ok


def test_a_touched_file_with_the_same_bytes_is_not_parsed(corpus, ix, monkeypatch):
    build_index([corpus], ix)
    st = (corpus / "ks-1.txt").stat()
    os.utime(corpus / "ks-1.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 5 * 10**9))
    parsed = count_parses(monkeypatch)
    report = build_index([corpus], ix)
    assert parsed == [] and report.unchanged == len(FILES)
    assert check([corpus], ix).ok


def test_search_with_facets_keeps_working_after_many_incremental_updates(corpus, ix):
    build_index([corpus], ix)
    for k in range(6):
        write(corpus, f"extra-{k}.txt", protokoll("Kulturnämnden", (k + 20, "Ärende", f"Nämnden beslutar om ärende {k}.")))
        write(corpus, "bun-1.txt", FILES["bun-1.txt"] + f"\nOmgång {k}.\n")
        build_index([corpus], ix)  # each run commits a new small segment
    result = search(ix, "nämnden", limit=100, facets=True, suggest=False)
    assert {h.id for h in result.hits} >= {f"extra-{k}.txt#§{k + 20}" for k in range(6)}
    assert dict(result.facets["namnd"])["Kulturnämnden"] == 6


def test_full_rebuild_equals_the_incremental_result_and_leaves_one_generation(corpus, ix, tmp_path):
    build_index([corpus], ix)
    write(corpus, "ks-1.txt", FILES["ks-1.txt"].replace("simhall", "ishall"))
    (corpus / "bun-1.txt").unlink()
    build_index([corpus], ix)
    incremental = stored(ix)
    old_gen = index.read_info(ix).indexname
    report = build_index([corpus], ix, full=True)
    assert sorted(report.added) == ["ks-1.txt", "sub/tn-1.txt"]
    assert index.read_info(ix).indexname != old_gen
    assert not any(old_gen in p.name for p in ix.iterdir())
    assert stored(ix) == incremental


# --------------------------------------------------------------------------------------- bad input


def make_bad_corpus(root: Path) -> dict[str, str]:
    """A corpus of every kind of bad input beside one good file; returns name -> what it is."""
    root.mkdir(parents=True, exist_ok=True)
    kinds = {
        "good.txt": "good",
        "empty.txt": "empty",
        "blank.md": "whitespace only",
        "binary.txt": "binary",
        "truncated.pdf": "truncated PDF",
        "notzip.docx": "not a docx",
        "huge.txt": "oversized (sparse, 100 MB)",
        "cp1252.txt": "wrongly encoded",
        "garbage.html": "binary with an html ending",
        "locked.txt": "unreadable (mode 000)",
        "vanishing.txt": "vanishes mid-run",
    }
    write(root, "good.txt", FILES["ks-1.txt"])
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text("   \n\n\t\n", encoding="utf-8")
    (root / "binary.txt").write_bytes(bytes(range(256)) * 40)
    (root / "truncated.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R")
    (root / "notzip.docx").write_bytes(b"PK\x03\x04 this is not really a zip archive")
    with open(root / "huge.txt", "wb") as f:
        f.truncate(100 * 1024 * 1024)
    (root / "cp1252.txt").write_bytes(
        protokoll("Miljönämnden", (4, "Återvinning", "Nämnden beslutar om återvinningsstation.")).encode("cp1252")
    )
    (root / "garbage.html").write_bytes(b"\x00\x01\x02<html>\xff\xfe" * 100)
    write(root, "locked.txt", FILES["bun-1.txt"])
    (root / "locked.txt").chmod(0)
    write(root, "vanishing.txt", FILES["sub/tn-1.txt"])
    (root / "loop-a.txt").symlink_to("loop-b.txt")
    (root / "loop-b.txt").symlink_to("loop-a.txt")
    (root / "dangling.md").symlink_to("gone.md")
    kinds.update({"loop-a.txt": "symlink loop", "loop-b.txt": "symlink loop", "dangling.md": "broken link"})
    (root / "subdir").mkdir()
    (root / "subdir" / "back").symlink_to("..")  # a folder loop
    if IMAGE_ONLY_PDF.exists():
        shutil.copy(IMAGE_ONLY_PDF, root / "image-only.pdf")
        kinds["image-only.pdf"] = "image-only PDF"
    return kinds


def vanish_during_run(monkeypatch, victim: str) -> None:
    """Delete ``victim`` after discovery, just before the pipeline reads it."""
    real = pipeline.units_of

    def units_of(path, source=None):
        if source == victim:
            Path(path).unlink(missing_ok=True)
        return real(path, source)

    monkeypatch.setattr(pipeline, "units_of", units_of)


def accounted(report) -> list[str]:
    """Every file a report names, once per outcome."""
    return [*report.added, *report.replaced, *[s for s, _ in report.failed], *[s for s, _ in report.skipped]]


def test_a_bad_input_corpus_never_stops_the_run_and_every_file_is_accounted_for(tmp_path, monkeypatch):
    root, ix = tmp_path / "bad", tmp_path / "index"
    kinds = make_bad_corpus(root)
    vanish_during_run(monkeypatch, "vanishing.txt")
    report = build_index([root], ix)
    names = accounted(report)
    assert sorted(names) == sorted(kinds), "each file in exactly one outcome"
    assert report.files_seen == len(kinds) - 3  # the links lead to no file
    assert dict(report.failed)["dangling.md"] == "broken link: its target gone.md does not exist"
    assert "good.txt" in report.added and not report.ok
    reasons = dict(report.failed + report.skipped)
    assert "vanishing.txt" in dict(report.failed)
    assert all(reasons[n].strip() for n in kinds if n != "good.txt" and n in reasons)
    assert all("\n" not in r for r in reasons.values()), "one line per file"
    assert hit_ids(ix, "simhall") == {"good.txt#§2"}


_endings = st.sampled_from([".txt", ".md", ".html", ".pdf", ".docx"])
_contents = st.one_of(
    st.binary(max_size=3000),
    st.text(max_size=2000).map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.text(max_size=500).map(lambda t: ("§ 1 " + t).encode("utf-8", "replace")),
    st.sampled_from([b"%PDF-1.4\n", b"PK\x03\x04", b"<html><body>", b"\xef\xbb\xbf", b""]).flatmap(
        lambda head: st.binary(max_size=1000).map(lambda tail: head + tail)
    ),
)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(files=st.lists(st.tuples(_endings, _contents), min_size=1, max_size=6))
def test_any_bytes_under_any_ending_are_accounted_for_and_never_crash_the_run(tmp_path, files):
    root = tmp_path / f"fuzz{len(list(tmp_path.iterdir()))}"
    root.mkdir()
    for k, (ending, data) in enumerate(files):
        (root / f"f{k}{ending}").write_bytes(data)
    report = build_index([root], root.with_suffix(".index"))
    assert sorted(accounted(report)) == sorted(f"f{k}{e}" for k, (e, _) in enumerate(files))
    assert all(r and "\n" not in r for _, r in report.failed + report.skipped)
    assert check([root], root.with_suffix(".index")).ok


def test_a_rerun_does_not_read_unchanged_bad_files_again_but_still_reports_them(tmp_path, monkeypatch):
    root, ix = tmp_path / "bad", tmp_path / "index"
    kinds = make_bad_corpus(root)
    (root / "vanishing.txt").unlink()
    del kinds["vanishing.txt"]
    first = build_index([root], ix)
    parsed = count_parses(monkeypatch)
    second = build_index([root], ix)
    failed_first = {s for s, _ in first.failed}
    readable_failures = {s for s in failed_first if os.access(root / s, os.R_OK)}
    assert not readable_failures & set(parsed), "an unchanged failed file is not parsed again"
    assert {s for s, _ in second.failed} == failed_first
    assert second.unchanged + len(second.failed) + len(second.added) == len(kinds)
    assert check([root], ix).ok


def test_a_changed_file_that_now_fails_keeps_its_previous_units(corpus, ix):
    build_index([corpus], ix)
    (corpus / "ks-1.txt").write_bytes(bytes(range(256)) * 40)
    report = build_index([corpus], ix)
    assert [s for s, _ in report.failed] == ["ks-1.txt"]
    assert hit_ids(ix, "simhall") == {"ks-1.txt#§2"}
    assert check([corpus], ix).changed == ["ks-1.txt"]  # the index holds the previous version


def test_a_failed_file_that_is_repaired_is_indexed(corpus, ix):
    (corpus / "new.txt").write_bytes(bytes(range(256)) * 40)
    first = build_index([corpus], ix)
    assert "new.txt" in dict(first.failed)
    write(corpus, "new.txt", protokoll("Kulturnämnden", (9, "Konsthall", "En konsthall öppnar.")))
    second = build_index([corpus], ix)
    assert second.added == ["new.txt"] and second.ok
    assert hit_ids(ix, "konsthall") == {"new.txt#§9"}


def test_a_file_emptied_of_text_loses_its_units(corpus, ix):
    build_index([corpus], ix)
    (corpus / "ks-1.txt").write_bytes(b"")
    report = build_index([corpus], ix)
    assert "ks-1.txt" in dict(report.skipped) and report.ok
    assert hit_ids(ix, "simhall") == set()
    assert check([corpus], ix).ok


# ------------------------------------------------------------------------ atomic, even on failure


def test_a_full_disk_leaves_the_index_as_it_was_and_says_so_in_one_line(corpus, ix, monkeypatch):
    build_index([corpus], ix)
    before = stored(ix)
    write(corpus, "ks-2.txt", protokoll("Kommunstyrelsen", (3, "Bibliotek", "Ett nytt bibliotek byggs.")))
    from whoosh.filedb.filestore import FileStorage

    real_create = FileStorage.create_file

    def full_disk(self, name, *args, **kwargs):
        if name.endswith(".seg") or ".toc" in name:
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_create(self, name, *args, **kwargs)

    monkeypatch.setattr(FileStorage, "create_file", full_disk)
    with pytest.raises(ProtokollsokError) as e:
        build_index([corpus], ix)
    assert "disk is full" in str(e.value) and "\n" not in str(e.value)
    assert stored(ix) == before
    monkeypatch.undo()
    assert build_index([corpus], ix).added == ["ks-2.txt"]
    assert check([corpus], ix).ok


def test_an_index_folder_that_cannot_be_created_is_one_clear_error(corpus, tmp_path):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x", encoding="utf-8")
    with pytest.raises(ProtokollsokError, match="cannot write to the index folder") as e:
        build_index([corpus], blocker / "index")
    assert "\n" not in str(e.value)


def test_a_bug_in_a_stage_fails_that_file_only(corpus, ix, monkeypatch):
    real = pipeline.units_of

    def buggy(path, source=None):
        if source == "bun-1.txt":
            raise ZeroDivisionError("division by zero")
        return real(path, source)

    monkeypatch.setattr(pipeline, "units_of", buggy)
    report = build_index([corpus], ix)
    assert dict(report.failed) == {"bun-1.txt": "internal error: ZeroDivisionError: division by zero"}
    assert sorted(report.added) == ["ks-1.txt", "sub/tn-1.txt"]
    monkeypatch.setattr(pipeline, "units_of", real)  # the bug is fixed: the file is retried
    assert build_index([corpus], ix).added == ["bun-1.txt"]


def test_two_corpus_folders_with_the_same_name_are_refused_not_mixed(tmp_path):
    for parent in ("a", "b"):
        write(tmp_path / parent / "corpus", "x.txt", FILES["ks-1.txt"])
    roots = [tmp_path / "a" / "corpus", tmp_path / "b" / "corpus"]
    with pytest.raises(ProtokollsokError, match="both called corpus"):
        build_index(roots, tmp_path / "index")


def test_several_corpus_folders_get_their_folder_name_as_prefix(tmp_path):
    write(tmp_path / "ks", "p.txt", FILES["ks-1.txt"])
    write(tmp_path / "bun", "p.txt", FILES["bun-1.txt"])
    roots = [tmp_path / "ks", tmp_path / "bun", tmp_path / "ks"]  # the same folder twice counts once
    report = build_index(roots, tmp_path / "index")
    assert sorted(report.added) == ["bun/p.txt", "ks/p.txt"]
    assert hit_ids(tmp_path / "index", "simhall") == {"ks/p.txt#§2"}


def test_leftovers_of_killed_runs_are_swept_on_the_next_run(corpus, ix):
    build_index([corpus], ix)
    current = index.read_info(ix).indexname
    junk = [
        "_g1234abcd_1.toc",  # a full rebuild that never switched
        "g1234abcd_x1y2z3.seg",
        f"_{current}_9.toc.1700000000.5",  # a TOC never renamed
        f".{index.META_FILE}.tmp",
    ]
    for name in junk:
        (ix / name).write_bytes(b"junk")
    (ix / f"{current}.tmp").mkdir()  # whoosh's temporary folder
    (ix / f"{current}_orphan0segment.seg").write_bytes(b"junk")  # no TOC refers to it
    (ix / "notes.txt").write_text("not ours", encoding="utf-8")
    build_index([corpus], ix)
    names = {p.name for p in ix.iterdir()}
    assert not names & {*junk, f"{current}.tmp", f"{current}_orphan0segment.seg"}
    assert "notes.txt" in names  # only index files are touched
    assert hit_ids(ix, "simhall") == {"ks-1.txt#§2"}


def test_an_index_whose_files_were_deleted_by_hand_is_rebuilt(corpus, ix):
    build_index([corpus], ix)
    for p in ix.iterdir():
        if p.suffix in (".toc", ".seg"):
            p.unlink()
    report = build_index([corpus], ix)
    assert str(ix) in dict(report.warnings)
    assert sorted(report.added) == sorted(FILES)
    assert check([corpus], ix).ok


def test_an_index_of_another_version_is_rebuilt_with_a_notice(corpus, ix):
    build_index([corpus], ix)
    meta = ix / index.META_FILE
    data = json.loads(meta.read_text(encoding="utf-8"))
    meta.write_text(json.dumps({**data, "schema_version": data["schema_version"] - 1}), encoding="utf-8")
    report = build_index([corpus], ix)
    assert "rebuilt from scratch" in dict(report.warnings)[str(ix)]
    assert sorted(report.added) == sorted(FILES)  # every file described again
    assert index.read_info(ix).schema_version == data["schema_version"]
    assert build_index([corpus], ix).warnings == []  # once


def test_a_first_run_publishes_an_index_that_opens_before_any_file_is_parsed(corpus, ix, monkeypatch):
    seen: list[int] = []
    real = pipeline.units_of

    def look(path, source=None):
        if not seen:
            whoosh_ix, _ = open_index(ix)  # opens, consistent (empty) while the first run parses
            seen.append(whoosh_ix.doc_count())
        return real(path, source)

    monkeypatch.setattr(pipeline, "units_of", look)
    build_index([corpus], ix)
    assert seen == [0]


# ------------------------------------------------------------------------------------ CLI and watch


def protokollsok_cmd(*args: str) -> subprocess.CompletedProcess:
    exe = Path(sys.executable).with_name("protokollsok")
    return subprocess.run([str(exe), *args], capture_output=True, text=True, check=False)


def test_index_exits_0_when_all_is_good_and_1_when_some_file_failed(corpus, ix):
    ok = protokollsok_cmd("index", str(corpus), "--index", str(ix))
    assert ok.returncode == 0, ok.stderr
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4 cut short")
    bad = protokollsok_cmd("index", str(corpus), "--index", str(ix))
    assert bad.returncode == 1
    assert [line for line in bad.stderr.splitlines() if "broken.pdf" in line]
    assert "Traceback" not in bad.stderr
    assert hit_ids(ix, "simhall") == {"ks-1.txt#§2"}  # committed despite the failure


def test_watch_reindexes_when_a_file_appears(corpus, ix):
    reports = []
    added = threading.Event()

    def on_report(r):
        reports.append(r)
        if len(reports) == 1:
            write(corpus, "ks-9.txt", protokoll("Kommunstyrelsen", (4, "Badplats", "En ny badplats.")))
            added.set()

    index.watch([corpus], ix, interval=0.05, on_report=on_report, stop=lambda: len(reports) >= 2)
    assert added.is_set()
    assert sorted(reports[0].added) == sorted(FILES)
    assert reports[1].added == ["ks-9.txt"]
    assert hit_ids(ix, "badplats") == {"ks-9.txt#§4"}


def test_a_rebuild_written_by_one_process_per_core_equals_one_written_by_one(corpus, tmp_path, monkeypatch):
    monkeypatch.setenv("PROTOKOLLSOK_PARALLEL_FROM", "1")
    parallel = build_index([corpus], tmp_path / "parallel", full=True)
    monkeypatch.setenv("PROTOKOLLSOK_PARALLEL_FROM", "1000000")
    single = build_index([corpus], tmp_path / "single", full=True)
    assert (parallel.units, parallel.added) == (single.units, single.added)
    for word in ("simhall", "budget", "beslut"):
        assert hit_ids(tmp_path / "parallel", word) == hit_ids(tmp_path / "single", word)
    assert check([corpus], tmp_path / "parallel").ok


def _children(pid: int) -> list[int]:
    """Live processes whose parent is ``pid`` (from /proc; Linux)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_killing_a_parallel_rebuild_leaves_no_writer_processes_behind(tmp_path):
    import signal
    import time

    corpus = tmp_path / "c"
    corpus.mkdir()
    for k in range(60):
        write(corpus, f"m{k}.txt", protokoll("Kulturnämnden", *[(n, f"Ärende {n}", "Nämnden beslutar. " * 200) for n in range(1, 6)]))
    exe = Path(sys.executable).with_name("protokollsok")
    env = {**os.environ, "PROTOKOLLSOK_PARALLEL_FROM": "1"}
    proc = subprocess.Popen([str(exe), "index", str(corpus), "--index", str(tmp_path / "i"), "--full"], env=env)
    deadline = time.monotonic() + 60
    while not (workers := _children(proc.pid)) and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.05)
    if not workers:
        pytest.skip("the rebuild finished before its writer processes could be seen")
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    time.sleep(2)
    alive = [w for w in workers if Path(f"/proc/{w}").exists() and "Z" not in Path(f"/proc/{w}/stat").read_text().rsplit(")", 1)[1].split()[0]]
    assert alive == []


def test_every_commit_is_on_disk_before_its_toc_is_published(corpus, ix, monkeypatch):
    """A power cut must leave the last published state: when whoosh renames a new TOC into place,
    the TOC and every segment of its generation have been flushed (fsync), and the folder is
    flushed right after the rename, as after the switch of ``protokollsok.json``."""
    events: list[tuple] = []
    real_fsync, real_rename, real_replace = os.fsync, os.rename, os.replace

    def fsync(fd: int) -> None:
        events.append(("fsync", Path(f"/proc/self/fd/{fd}").readlink().name))
        real_fsync(fd)

    def rename(src, dst, *args, **kwargs) -> None:
        dst = Path(dst)
        if dst.suffix == ".toc":
            generation = dst.name.split("_")[1]
            segments = {p.name for p in dst.parent.glob(f"{generation}_*.seg")}
            events.append(("publish", dst.name, Path(src).name, segments))
        real_rename(src, dst, *args, **kwargs)

    def replace(src, dst, *args, **kwargs) -> None:
        events.append(("switch", Path(dst).name))
        real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    monkeypatch.setattr(os, "replace", replace)
    build_index([corpus], ix)
    write(corpus, "ks-2.txt", protokoll("Kommunstyrelsen", (3, "Budget", "Kommunstyrelsen fastställer budgeten.")))
    build_index([corpus], ix)  # an incremental commit too

    published = [i for i, e in enumerate(events) if e[0] == "publish"]
    assert len(published) >= 3  # the empty first index, the first run's units, the update
    assert any(events[i][3] for i in published)  # not vacuous: segments were there to flush
    for i in published:
        _, _, temp_toc, segments = events[i]
        flushed = {e[1] for e in events[:i] if e[0] == "fsync"}
        assert segments | {temp_toc} <= flushed, segments - flushed
        assert events[i + 1] == ("fsync", ix.name)  # the folder
    switches = [i for i, e in enumerate(events) if e == ("switch", index.META_FILE)]
    assert switches and all(events[i - 1][0] == "fsync" and events[i + 1] == ("fsync", ix.name) for i in switches)


def test_fields_are_indexed_as_whoosh_indexes_them_from_tokens(tmp_path, monkeypatch):
    """The schema indexes the analysed forms straight into postings (no whoosh token objects, a
    unit's terms per field handed to the posting pool at once, an ID's value as its term): the
    same terms, frequencies, weights, positions and field lengths as whoosh's own path."""
    from whoosh import fields, writing

    from conftest import all_postings, volume_units
    from protokollsok import schema, whoosh_writer

    units = volume_units(200)
    index.index_units(tmp_path / "direct", units)
    monkeypatch.setattr(fields.FieldType, "index", schema._whoosh_index)
    monkeypatch.setattr(writing.SegmentWriter, "add_document", whoosh_writer._whoosh_add_document)
    index.index_units(tmp_path / "tokens", units)

    ours, theirs = all_postings(tmp_path / "direct"), all_postings(tmp_path / "tokens")
    assert ours == theirs
    assert {f for f, _ in ours} >= {"title", "text_stem", "text_pair", "text_exact", "id", "source", "datum", "parti"}
    lengths = []
    for path in (tmp_path / "direct", tmp_path / "tokens"):
        ix, _ = open_index(path)
        with ix.reader() as r:
            lengths.append([r.doc_field_length(d, f) for d in range(r.doc_count_all()) for f in schema.text_fields("full")])
    assert lengths[0] == lengths[1]


def _arrays(path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in Path(path).glob("*.arrays")}


def test_a_parallel_rebuild_writes_each_segments_arrays_in_a_process_of_its_own(tmp_path, monkeypatch):
    """One process per core writes the posting arrays of a rebuild's segments; what a process
    fails to write, the indexer writes itself, and the files are those one process writes."""
    from conftest import volume_units
    from protokollsok import posting_arrays

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: a rebuild writes one segment")
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", 8)  # arrays for a small corpus's terms
    units = volume_units(400)
    index.index_units(tmp_path / "i", units, parallel=True)
    written = _arrays(tmp_path / "i")
    assert len(written) >= 2  # a segment per writing process
    ix, _ = open_index(tmp_path / "i")
    for name in written:
        (tmp_path / "i" / name).unlink()
    assert sorted(posting_arrays.write_missing(tmp_path / "i", ix)) == sorted(written)
    assert _arrays(tmp_path / "i") == written

    parent = os.getpid()
    real = posting_arrays.write_missing

    def dies_in_a_forked_process(index_dir, ix, only=None):
        if os.getpid() != parent:
            os._exit(1)
        return real(index_dir, ix, only)

    monkeypatch.setattr(posting_arrays, "write_missing", dies_in_a_forked_process)
    index.index_units(tmp_path / "j", units, parallel=True)
    assert len(_arrays(tmp_path / "j")) == len(written)


def test_a_rebuild_whose_array_processes_cannot_start_writes_the_arrays_itself(tmp_path, monkeypatch):
    import multiprocessing.process

    from conftest import volume_units
    from protokollsok import posting_arrays

    if (os.cpu_count() or 1) < 2:
        pytest.skip("one core: a rebuild writes one segment")
    monkeypatch.setattr(posting_arrays, "MIN_POSTINGS", 8)
    index.index_units(tmp_path / "i", volume_units(400), parallel=True)
    written = _arrays(tmp_path / "i")
    assert len(written) >= 2  # a segment per writing process
    for name in written:
        (tmp_path / "i" / name).unlink()

    def cannot_fork(self):
        raise OSError(12, "Cannot allocate memory")

    monkeypatch.setattr(multiprocessing.process.BaseProcess, "start", cannot_fork)
    ix, _ = open_index(tmp_path / "i")
    index._write_posting_arrays(ix, parallel=True)
    assert _arrays(tmp_path / "i") == written
