"""The exported page in real headless Chromium (Debian's chromium driven by Python playwright):
results as you type, the seeds' expected hits, filters with counts, sort, shareable URLs, escaping,
keyboard use, file:// and embedding. Screenshots go to test-artifacts/ (gitignored)."""

from __future__ import annotations

import re
import shutil
import threading
from pathlib import Path
from urllib.parse import urlencode

import pytest

from protokollsok import search, web
from protokollsok.index import index_units

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
ARTIFACTS = ROOT / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")


def key(hit_attrs: dict) -> list:
    """A hit as expected.json names units: [source, kind, paragraf]."""
    par = hit_attrs["paragraf"]
    return [hit_attrs["source"], hit_attrs["kind"], int(par) if par else None]


@pytest.fixture(scope="module")
def browser():
    sync_api = pytest.importorskip("playwright.sync_api")
    if not CHROMIUM.exists():
        pytest.skip("Debian's chromium is not installed")
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=["--no-sandbox"])
        yield b
        b.close()


def start_server(index_dir: Path, bundle: Path):
    httpd = web.make_server(index_dir, bundle, "127.0.0.1", 0)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, f"http://127.0.0.1:{httpd.server_address[1]}/"


@pytest.fixture(scope="module")
def site(seed_index, tmp_path_factory):
    bundle = tmp_path_factory.mktemp("web") / "bundle"
    web.export_bundle(seed_index, bundle)
    httpd, url = start_server(seed_index, bundle)
    yield url, bundle
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture
def page(browser):
    pg = browser.new_page()
    errors: list[str] = []
    pg.on("pageerror", lambda e: errors.append(str(e)))
    yield pg
    pg.close()
    assert not errors, errors


def hits(pg) -> list[dict]:
    return pg.eval_on_selector_all(
        ".ps-hit",
        "els => els.map(e => ({id: e.dataset.id, source: e.dataset.source, kind: e.dataset.kind,"
        " paragraf: e.dataset.paragraf, datum: e.dataset.datum}))",
    )


def settle(pg) -> None:
    """Wait until the page has answered the latest input."""
    pg.wait_for_function("() => { const h = document.getElementById('protokollsok');"
                         " return h.dataset.ready === 'true' && !h.hasAttribute('aria-busy'); }")
    pg.wait_for_timeout(250)
    pg.wait_for_function("() => !document.getElementById('protokollsok').hasAttribute('aria-busy')")


def type_query(pg, text: str) -> None:
    pg.fill("#ps-q", "")
    pg.type("#ps-q", text, delay=15)
    settle(pg)


def cli_ids(index_dir: Path, query: str, **filters) -> list[str]:
    return [h.id for h in search.search(index_dir, query, **filters).hits]


def test_typing_vittnen_shows_seed_000s_bilaga_first(site, page, expected):
    url, _ = site
    page.goto(url)
    settle(page)
    type_query(page, "vittnen")
    want = next(s for s in expected["searches"] if s["query"] == "vittnen" and not s.get("filters"))
    assert key(hits(page)[0]) == want["top1"]
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-vittnen.png"), full_page=True)


def test_a_hit_from_a_document_repaired_from_ocr_damage_says_so(site, page, expected):
    url, _ = site
    page.goto(url)
    settle(page)
    type_query(page, "stadsledningskontoret")
    damaged = expected["ocr_repair"]["damaged"]["file"]
    shown = page.eval_on_selector_all(".ps-hit", "els => els.map(e => [e.dataset.source, e.dataset.ocr,"
                                      " e.querySelector('.ps-ocr') ? e.querySelector('.ps-ocr').textContent : null])")
    assert {s for s, _, _ in shown} >= {damaged, expected["ocr_repair"]["clean"]["file"]}
    for source, flag, note in shown:
        assert flag == ("true" if source == damaged else "false")
        assert (note is not None and "OCR-rättad" in note) == (source == damaged)


def test_the_phrase_shows_the_three_expected_units(site, page, expected):
    url, _ = site
    want = next(s for s in expected["searches"] if s["query"] == '"våld i nära relationer"')
    page.goto(url)
    settle(page)
    type_query(page, want["query"])
    found = hits(page)
    assert sorted(key(h) for h in found[:3]) == sorted(want["top3_set"])
    marked = page.eval_on_selector_all(".ps-hit mark", "ms => ms.map(m => m.textContent)")
    assert len(marked) >= 3  # highlighted snippets: the phrase as one mark, never a lone "i"
    assert all(re.fullmatch(r"våld\w*\s+i\s+nära\s+relation\w*", m, re.IGNORECASE) for m in marked), marked
    page.screenshot(path=str(ARTIFACTS / "web-search.png"), full_page=True)


def test_a_shared_url_runs_its_query_and_the_page_top_10_equals_the_cli(site, page, seed_index, expected):
    url, _ = site
    for s in expected["searches"]:
        filters = {("from" if k == "from" else k): v for k, v in (s.get("filters") or {}).items()}
        params = {"q": s["query"], **{k: v for k, v in filters.items() if k in ("parti", "namnd")}}
        if "from" in filters:
            params["q"] += f" datum:{filters['from']}.."
        page.goto(url + "?" + urlencode(params))
        settle(page)
        cli = cli_ids(seed_index, s["query"], parti=filters.get("parti"), namnd=filters.get("namnd"),
                      date_from=filters.get("from"))
        assert [h["id"] for h in hits(page)] == cli, s


def test_a_prefix_query_shows_the_clis_hits_with_the_words_marked(site, page, seed_index):
    url, _ = site
    page.goto(url)
    settle(page)
    type_query(page, "samverk*")
    cli = search.search(seed_index, "samverk*")
    assert cli.total > 1
    assert [h["id"] for h in hits(page)] == [h.id for h in cli.hits]
    assert page.inner_text(".ps-status") == f"{cli.total} träffar"
    marked = page.eval_on_selector_all(".ps-hit mark", "ms => ms.map(m => m.textContent.toLowerCase())")
    assert marked and all(m.startswith("samverk") for m in marked)


def test_menade_du_offers_the_clis_suggestion_and_runs_it_when_clicked(site, page, seed_index):
    url, _ = site
    page.goto(url)
    settle(page)
    type_query(page, "samverkn")
    cli = search.search(seed_index, "samverkn")
    assert cli.total == 0 and cli.suggestion == "samverkan"
    assert page.inner_text(".ps-suggest") == f"Menade du: {cli.suggestion}"
    page.click(".ps-suggest a")
    settle(page)
    assert page.input_value("#ps-q") == cli.suggestion
    assert [h["id"] for h in hits(page)] == cli_ids(seed_index, cli.suggestion)
    assert "q=samverkan" in page.url
    assert page.locator(".ps-suggest").is_hidden()  # enough hits: nothing to suggest
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "web-menade-du.png"), full_page=True)


def test_filters_show_counts_narrow_the_hits_and_enter_the_url(site, page, seed_index):
    url, _ = site
    page.goto(url + "?q=samverkan")
    settle(page)
    options = page.eval_on_selector_all("#ps-parti option", "os => os.map(o => o.textContent)")
    assert any(o.startswith("KD (") for o in options)
    page.select_option("#ps-parti", "KD")
    settle(page)
    assert "parti=KD" in page.url
    assert [h["id"] for h in hits(page)] == cli_ids(seed_index, "samverkan", parti="KD")
    years = page.eval_on_selector_all("#ps-ar option", "os => os.map(o => o.value).filter(Boolean)")
    page.select_option("#ps-ar", years[0])
    settle(page)
    assert f"ar={years[0]}" in page.url
    assert all(h["datum"].startswith(years[0]) for h in hits(page))
    nämnder = page.eval_on_selector_all("#ps-namnd option", "os => os.map(o => o.value).filter(Boolean)")
    assert nämnder


def test_sort_by_date_puts_the_newest_first(site, page, seed_index):
    url, _ = site
    page.goto(url + "?q=samverkan")
    settle(page)
    page.select_option("#ps-sort", "date")
    settle(page)
    dates = [h["datum"] for h in hits(page) if h["datum"]]
    assert len(dates) > 1 and dates == sorted(dates, reverse=True)
    assert "sort=date" in page.url
    assert [h["id"] for h in hits(page)] == cli_ids(seed_index, "samverkan", sort="date")


def test_keyboard_and_screen_reader_labels(site, page):
    url, _ = site
    page.goto(url + "?q=samverkan")
    settle(page)
    for control in ("ps-q", "ps-namnd", "ps-parti", "ps-ar", "ps-sort"):
        assert page.locator(f"label[for='{control}']").count() == 1, control
    assert page.get_attribute(".ps-status", "aria-live") == "polite"
    assert page.get_attribute("form", "role") == "search"
    page.focus("#ps-q")
    page.keyboard.press("ArrowDown")
    assert page.evaluate("document.activeElement.closest('.ps-hit') !== null")
    page.keyboard.press("ArrowUp")
    assert page.evaluate("document.activeElement.id") == "ps-q"
    assert page.locator("html[lang='sv']").count() == 1


def test_document_markup_renders_as_text(browser, tmp_path):
    from test_web_export import HOSTILE, hostile_unit

    index_units(tmp_path / "ix", [hostile_unit()])
    web.export_bundle(tmp_path / "ix", tmp_path / "out")
    pg = browser.new_page()
    # both words: the snippet's passage then spans the whole text, markup included
    pg.goto((tmp_path / "out" / "index.html").as_uri() + "?q=budget%20hemtj%C3%A4nst")
    settle(pg)
    hit = pg.locator(".ps-hit").first
    text = hit.inner_text()
    assert "<script>" in text and "<img" in text and "<b>budget</b>" in text
    assert "<i>rubrik</i>" in text
    assert pg.locator(".ps-hit script, .ps-hit img, .ps-hit b, .ps-hit i").count() == 0
    assert pg.evaluate("window.__xss === undefined")
    assert HOSTILE.startswith("Beslut")
    pg.close()


def test_the_page_works_from_a_file_url_and_on_a_phone(browser, site):
    _, bundle = site
    pg = browser.new_page(viewport={"width": 375, "height": 740})
    pg.goto((bundle / "index.html").as_uri() + "?q=vittnen")
    settle(pg)
    assert hits(pg)
    assert pg.evaluate("document.documentElement.scrollWidth") <= 375
    ARTIFACTS.mkdir(exist_ok=True)
    pg.screenshot(path=str(ARTIFACTS / "web-phone.png"), full_page=True)
    pg.close()


def test_the_embed_example_works_with_two_lines_and_in_an_iframe(browser, site, tmp_path):
    _, bundle = site
    shutil.copytree(bundle, tmp_path / "web-out")
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "embed-example.html", tmp_path / "docs" / "embed-example.html")
    pg = browser.new_page()
    pg.goto((tmp_path / "docs" / "embed-example.html").as_uri() + "?q=vittnen")
    settle(pg)
    assert hits(pg)
    frame = pg.frames[1]
    frame.fill("#ps-q", "vittnen")
    frame.wait_for_selector(".ps-hit")
    assert frame.locator(".ps-hit").count() >= 1
    pg.close()
