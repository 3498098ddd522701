"""The command line: the contract users' scripts rely on (commands, options, --json fields, exit codes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from protokollsok.cli import main

HIT_FIELDS = {"id", "score", "kind", "paragraf", "title", "namnd", "datum", "dnr", "parti", "source", "snippet", "highlights", "pages", "ocr"}
UNIT_FIELDS = {"id", "kind", "paragraf", "title", "namnd", "datum", "dnr", "parti", "source", "text", "ocr"}


def run(capsys, *args: str) -> tuple[int, str, str]:
    """Run the CLI in-process; return (exit code, stdout, stderr)."""
    with pytest.raises(SystemExit) as exc:
        main(list(args))
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_search_json_has_the_documented_fields(capsys, corpus_index):
    code, out, _ = run(capsys, "search", "vittnen", "--index", str(corpus_index), "--json")
    data = json.loads(out)
    assert code == 0
    assert set(data) == {"query", "total", "hits", "facets", "suggestion"}
    assert data["hits"] and all(set(h) == HIT_FIELDS for h in data["hits"])
    for h in data["hits"]:
        for s, e in h["highlights"]:
            assert 0 <= s < e <= len(h["snippet"])
    assert set(data["facets"]) == {"namnd", "parti", "year"}


def test_search_in_a_terminal_shows_where_each_hit_is(capsys, corpus_index):
    code, out, _ = run(capsys, "search", "vittnen", "--index", str(corpus_index), "--limit", "1", "--no-color")
    assert code == 0
    assert "Södermalms stadsdelsnämnd · 2023-10-19 · bilaga till § 23" in out
    assert "KS 2023/740" in out and "\x1b[" not in out


def test_hits_from_a_document_repaired_from_ocr_damage_say_so(capsys, corpus_index, expected):
    damaged = expected["ocr_repair"]["damaged"]["file"]
    clean = expected["ocr_repair"]["clean"]["file"]
    _, out, _ = run(capsys, "search", "stadsledningskontoret", "--index", str(corpus_index), "--json", "-n", "50")
    ocr = {(h["source"], h["ocr"]) for h in json.loads(out)["hits"] if h["source"] in (damaged, clean)}
    assert ocr == {(damaged, True), (clean, False)}
    _, text, _ = run(capsys, "search", "stadsledningskontoret", "--index", str(corpus_index), "-n", "50", "--no-color")
    marked = [block for block in text.split("\n\n") if "OCR-rättad text" in block]
    assert marked and all(damaged in block for block in marked)
    unit_id = next(h["id"] for h in json.loads(out)["hits"] if h["source"] == damaged)
    _, shown, _ = run(capsys, "show", unit_id, "--index", str(corpus_index), "--json")
    assert json.loads(shown)["ocr"] is True


def test_search_options_filter(capsys, corpus_index):
    _, out, _ = run(capsys, "search", "beslut", "--index", str(corpus_index), "--parti", "KD", "--from", "2023", "--json", "-n", "50")
    hits = json.loads(out)["hits"]
    assert hits and all("KD" in h["parti"] and h["datum"] >= "2023-01-01" for h in hits)


def test_show_prints_a_unit_in_full(capsys, corpus_index):
    code, out, _ = run(capsys, "show", "000_566486a7dd23fe0f.txt#§23", "--index", str(corpus_index), "--json")
    unit = json.loads(out)
    assert code == 0 and set(unit) >= UNIT_FIELDS
    assert unit["paragraf"] == 23 and "SÖD 2023/713" in unit["dnr"]


def test_show_of_an_unknown_id_is_one_line(capsys, corpus_index):
    code, _out, err = run(capsys, "show", "nope#§1", "--index", str(corpus_index))
    assert code == 1 and err.count("\n") == 1 and err.startswith("Error: no unit 'nope#§1'")


def test_stats_describes_the_index(capsys, corpus_index):
    _, out, _ = run(capsys, "stats", "--index", str(corpus_index), "--json")
    s = json.loads(out)
    assert s["files"] == len(list(Path(corpus_index).parent.joinpath("corpus").iterdir()))
    assert s["kinds"]["paragraf"] > 20 and "Södermalms stadsdelsnämnd" in s["namnder"]
    assert s["date_from"] <= s["date_to"]


def test_stats_counts_the_units_of_documents_repaired_from_ocr_damage(capsys, corpus_index, expected):
    damaged = expected["ocr_repair"]["damaged"]["file"]
    _, out, _ = run(capsys, "stats", "--index", str(corpus_index), "--json")
    assert json.loads(out)["ocr_units"] == len(expected["files"][damaged]["segments"])
    _, text, _ = run(capsys, "stats", "--index", str(corpus_index))
    assert f"OCR-rättad text: {len(expected['files'][damaged]['segments'])} units" in text


def test_export_web_says_what_it_wrote_and_keeps_stderr_quiet_off_a_terminal(capsys, corpus_index, tmp_path):
    code, out, err = run(capsys, "export-web", str(tmp_path / "web"), "--index", str(corpus_index))
    assert code == 0 and (tmp_path / "web" / "index.html").is_file()
    assert "files written" in out and err == ""


def test_a_long_run_on_a_terminal_shows_one_status_line_and_clears_it(monkeypatch, capsys):
    from protokollsok.cli import _Status

    monkeypatch.setattr(sys.stderr, "isatty", lambda: True)
    status = _Status("Exporting")
    status("units", 10_000)
    status("terms", 20_000)
    status.finish()
    err = capsys.readouterr().err
    assert "\rExporting: 10,000 units" in err and "\rExporting: 20,000 terms" in err
    assert err.endswith("\r") and "\n" not in err


def test_inspect_json_lists_the_units_of_a_file(capsys):
    seed = Path(__file__).resolve().parents[1] / "corpus" / "000_566486a7dd23fe0f.txt"
    code, out, _ = run(capsys, "inspect", str(seed), "--json")
    units = json.loads(out)
    assert code == 0 and [u["kind"] for u in units] == ["paragraf", "bilaga"]
    assert all(set(u) >= UNIT_FIELDS for u in units)


def test_inspect_of_a_bad_file_is_one_line(capsys, tmp_path):
    bad = tmp_path / "trasig.pdf"
    bad.write_bytes(b"%PDF-1.7\n garbage")
    code, _, err = run(capsys, "inspect", str(bad))
    assert code == 1 and err.count("\n") == 1 and "trasig.pdf" in err


def test_search_without_an_index_says_what_to_do(capsys, tmp_path):
    code, _, err = run(capsys, "search", "vittnen", "--index", str(tmp_path / "none"))
    assert code == 1
    assert err.strip() == f"Error: no index in {tmp_path / 'none'}/ — run `protokollsok index corpus/` first (or pass --index DIR)"


def test_a_bad_option_value_is_a_usage_error(capsys, corpus_index):
    code, _, err = run(capsys, "search", "x", "--index", str(corpus_index), "--sort", "alfabetisk")
    assert code == 2 and "alfabetisk" in err


def test_a_bad_date_is_one_line(capsys, corpus_index):
    code, _, err = run(capsys, "search", "x", "--index", str(corpus_index), "--from", "igår")
    assert code == 1 and err.count("\n") == 1 and "igår" in err


def test_index_reports_and_updates_incrementally(capsys, tmp_path):
    corpus = tmp_path / "c"
    corpus.mkdir()
    (corpus / "a.txt").write_text("§ 1 Budget\nKommunfullmäktige beslutar om budget.\n", encoding="utf-8")
    code, out, _ = run(capsys, "index", str(corpus), "--index", str(tmp_path / "i"))
    assert code == 0 and "1 added" in out and "1 unit indexed (1 §" in out and "1 file:" in out
    code, out, _ = run(capsys, "index", str(corpus), "--index", str(tmp_path / "i"))
    assert code == 0 and "1 unchanged" in out and "0 units indexed" in out
    (corpus / "b.txt").write_bytes(b"\x00\x01\x02binary\x00")
    code, out, _err = run(capsys, "index", str(corpus), "--index", str(tmp_path / "i"), "--json")
    report = json.loads(out)
    assert code == 1 and [f["source"] for f in report["failed"]] == ["b.txt"]


def test_the_installed_command_runs_as_a_process(corpus_index):
    proc = subprocess.run(
        [sys.executable, "-m", "protokollsok", "search", "tystnadskultur", "--index", str(corpus_index), "--json"],
        capture_output=True, text=True, check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["hits"][0]["id"] == "000_566486a7dd23fe0f.txt#bilaga1"


def test_a_hit_in_a_pdf_says_its_pages(capsys, tmp_path):
    import shutil

    pdf = Path(__file__).resolve().parent / "data" / "ingest" / "goteborg_granskning_planer_program_p3-4.pdf"
    (tmp_path / "c").mkdir()
    shutil.copy(pdf, tmp_path / "c" / pdf.name)
    run(capsys, "index", str(tmp_path / "c"), "--index", str(tmp_path / "i"), "-q")
    _, out, _ = run(capsys, "search", "stadsrevisionen", "--index", str(tmp_path / "i"), "--json")
    assert json.loads(out)["hits"][0]["pages"] == [1, 2]
    _, out, _ = run(capsys, "search", "stadsrevisionen", "--index", str(tmp_path / "i"), "--no-color")
    assert "s. 1–2" in out
