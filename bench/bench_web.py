"""The web bundle against Pagefind over the same units: bundle size, bytes per query, time to results.

Both sides index the same units of the volume corpus (``bench/units.py``) in the same run:

- protokollsök: ``index.index_units`` then ``web.export_bundle``;
- Pagefind (PyPI ``pagefind[extended]``, Swedish stemming): one custom record per unit with its
  title, text, and nämnd / parti / year as filters, written with ``PagefindIndex.write_files``.

Both bundles are served from one local HTTP server that gzips text files on the fly (as static hosts
do; Pagefind's own files are already compressed). For each query a fresh Chromium page loads the
search library; then the query runs through the library's JS API until the top 10 results' data
are in memory (protokollsök: ``protokollsok.engine.search``; Pagefind: ``pagefind.search`` plus
``data()`` of the first 10). Reported per query: bytes transferred for the query (after the page
and library are loaded), the page's bytes before the query, and the time to the top 10 results.
The shared mix (``bench_queries``) gives the medians; ``EXTRA_QUERIES`` (words with a function word)
are measured after it and reported in a table of their own.

Pagefind runs in a Python that has it installed (``--pagefind-python``; default: this one).
Run: ``.venv/bin/python bench/bench_web.py --limit 5000 --pagefind-python /tmp/pfvenv/bin/python``.
"""

from __future__ import annotations

import argparse
import gzip
import html
import http.server
import io
import itertools
import os
import platform
import shutil
import statistics
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from functools import partial
from pathlib import Path
from typing import ClassVar

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from bench_queries import QUERIES, Query  # noqa: E402
from protokollsok import index, schema, web  # noqa: E402
from protokollsok.index import index_units  # noqa: E402
from units import DEFAULT_CORPORA, iter_units, read_cache  # noqa: E402

CHROMIUM = "/usr/bin/chromium"

# Not in the shared mix (``bench_queries``, which the other benchmarks use too), reported apart:
# unquoted words with a function word, which every unit nearly holds (``och``: 110,376 of 163,577).
EXTRA_QUERIES: tuple[Query, ...] = (
    Query("skolan och förskolan", "function_word", "skolan och förskolan"),
    Query("barn och unga", "function_word", "barn och unga"),
    Query("regeringen anser att", "function_word", "regeringen anser att"),
)
GZIP_TYPES = (".js", ".html", ".css", ".json")

OURS_PAGE = """<!doctype html><meta charset="utf-8"><title>bench</title>
<div id="protokollsok"></div><script src="ours/protokollsok.js" defer></script>"""

PF_PAGE = """<!doctype html><meta charset="utf-8"><title>bench</title>
<script type="module">
const pf = await import("/pagefind/pagefind.js");
await pf.options({});
await pf.init();
window.pf = pf;
window.pfReady = true;
</script>"""

OURS_QUERY = """async ([q, f]) => {
  const t0 = performance.now();
  const r = await window.protokollsok.engine.search(q, f);
  return {ms: performance.now() - t0, total: r.total, top: r.hits.map(h => h.unit.id)};
}"""

PF_QUERY = """async ([q, f]) => {
  const t0 = performance.now();
  const r = await window.pf.search(q, {filters: f});
  const data = await Promise.all(r.results.slice(0, 10).map(x => x.data()));
  return {ms: performance.now() - t0, total: r.results.length, top: data.map(d => d.url)};
}"""



class GzipHandler(http.server.SimpleHTTPRequestHandler):
    """Static files; text files gzipped when the browser accepts it, as a static host would."""

    cache: ClassVar[dict[str, bytes]] = {}

    def send_head(self):
        path = self.translate_path(self.path)
        if not path.endswith(GZIP_TYPES) or "gzip" not in self.headers.get("Accept-Encoding", "") or not Path(path).is_file():
            return super().send_head()
        body = self.cache.get(path)
        if body is None:
            body = self.cache[path] = gzip.compress(Path(path).read_bytes(), 6)
        self.send_response(200)
        self.send_header("Content-Type", self.guess_type(path))
        self.send_header("Content-Encoding", "gzip")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        return io.BytesIO(body)

    def log_message(self, *args) -> None:
        return


def folder_size(path: Path) -> tuple[int, int, int]:
    """(files, bytes, gzipped bytes) of a folder."""
    files = [p for p in path.rglob("*") if p.is_file()]
    raw = sum(p.stat().st_size for p in files)
    gz = sum(len(gzip.compress(p.read_bytes(), 6)) if p.suffix in GZIP_TYPES else p.stat().st_size for p in files)
    return len(files), raw, gz


def build_ours(units, out: Path, reuse: bool = False) -> dict:
    t0 = time.monotonic()
    if not (reuse and _current_index(out / "ix")):
        shutil.rmtree(out / "ix", ignore_errors=True)
        index_units(out / "ix", units, parallel=True)  # as `index` rebuilds many files
    t1 = time.monotonic()
    report = web.export_bundle(out / "ix", out / "site" / "ours")
    t2 = time.monotonic()
    return {"index_s": t1 - t0, "export_s": t2 - t1, "terms": report["terms"]}


def _current_index(index_dir: Path) -> bool:
    """Whether ``index_dir`` holds an index of this version's schema (one of an older version is
    not reused: it lacks what the schema has added since)."""
    info = index.read_info(index_dir)
    return info is not None and info.schema_version == schema.SCHEMA_VERSION


def unit_html(u) -> str:
    """One unit as the HTML page Pagefind indexes: title, text and nämnd / parti / year filters."""
    s, m = u.segment, u.meta
    filters = [("namnd", m.namnd)] if m.namnd else []
    filters += [("parti", p) for p in m.parti]
    filters += [("year", m.datum[:4])] if m.datum else []
    spans = "".join(f'<span data-pagefind-filter="{k}">{html.escape(v)}</span>' for k, v in filters)
    return (
        f'<!doctype html><html lang="sv"><head><meta charset="utf-8"><title>{html.escape(s.title or s.id)}</title></head>'
        f"<body><main data-pagefind-body><h1>{html.escape(s.title or s.id)}</h1>"
        f'<div hidden>{spans}</div><p>{html.escape(s.text)}</p></main></body></html>'
    )


def build_pagefind(units, out: Path, python: str) -> dict:
    """Write one HTML page per unit and run the Pagefind CLI (extended: Swedish stemming) over them."""
    src = out / "pagefind-src"
    if src.exists():
        shutil.rmtree(src)
    for i, u in enumerate(units):
        page = src / "u" / f"{i // 1000}" / f"{i}.html"
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(unit_html(u), encoding="utf-8")
    bundle = out / "site" / "pagefind"
    if bundle.exists():  # Pagefind leaves an earlier run's index files beside its new ones
        shutil.rmtree(bundle)
    t0 = time.monotonic()
    subprocess.run(
        [python, "-m", "pagefind", "--site", str(src), "--output-path", str(bundle), "--force-language", "sv", "--quiet"],
        check=True,
    )
    return {"index_s": time.monotonic() - t0}


def our_filters(q: Query) -> dict:
    f = {k: v for k, v in q.filters.items() if k in ("namnd", "parti")}
    if "date_from" in q.filters:
        f["from"] = q.filters["date_from"]
    if "date_to" in q.filters:
        f["to"] = q.filters["date_to"]
    return f


def pagefind_filters(q: Query) -> dict:
    f: dict = {k: v for k, v in q.filters.items() if k in ("namnd", "parti")}
    if "date_from" in q.filters:
        lo, hi = int(q.filters["date_from"][:4]), int(q.filters.get("date_to", "2030")[:4])
        f["year"] = {"any": [str(y) for y in range(lo, hi + 1)]}
    return f


def measure(browser, base: str, page_html: str, ready: str, js: str, q: Query, filters: dict) -> dict:
    """One cold run of one query: bytes on the wire before and for the query, and the time to results."""
    context = browser.new_context()  # an empty cache: every query starts cold
    page = context.new_page()
    sizes: list[int] = []
    started = [0]

    def done(request) -> None:
        s = request.sizes()
        sizes.append(s["responseBodySize"] + s["responseHeadersSize"])

    page.on("request", lambda _: started.__setitem__(0, started[0] + 1))
    page.on("requestfinished", done)
    page.on("requestfailed", lambda _: sizes.append(0))
    page.goto(base + page_html)
    page.wait_for_function(ready, timeout=60_000)
    _settle(page, started, sizes)
    before = sum(sizes)
    res = page.evaluate(js, [q.text, filters])
    _settle(page, started, sizes)
    after = sum(sizes)
    context.close()
    return {"ms": res["ms"], "total": res["total"], "query_bytes": after - before, "page_bytes": before}


def _settle(page, started: list[int], finished: list[int], quiet_ms: int = 250) -> None:
    """Wait until every request the page has made is finished (or failed) and none has begun for
    ``quiet_ms``: so a file is counted with the page or with the query by when it was asked for,
    not by when the browser got round to reporting it (Pagefind's 1.1 MB library was counted
    with the query in some runs of a slow VM)."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        seen = started[0]
        page.wait_for_timeout(quiet_ms)
        if started[0] == seen and len(finished) >= seen:
            return


def run_queries(site: Path, repeat: int, queries: tuple[Query, ...] = QUERIES) -> list[dict]:
    from playwright.sync_api import sync_playwright

    (site / "ours.html").write_text(OURS_PAGE, encoding="utf-8")
    (site / "pf.html").write_text(PF_PAGE, encoding="utf-8")
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(GzipHandler, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    rows = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        for q in queries:
            ours = [measure(browser, base, "ours.html", "() => window.protokollsok && window.protokollsok.engine"
                            " && document.getElementById('protokollsok').dataset.ready === 'true'",
                            OURS_QUERY, q, our_filters(q)) for _ in range(repeat)]
            pf = [measure(browser, base, "pf.html", "() => window.pfReady === true", PF_QUERY, q, pagefind_filters(q))
                  for _ in range(repeat)]
            rows.append({"query": q.name, "category": q.category, "ours": summarise(ours), "pagefind": summarise(pf)})
            print(f"{q.name:32} ours {rows[-1]['ours']}  pagefind {rows[-1]['pagefind']}", flush=True)
        browser.close()
    httpd.shutdown()
    return rows


def summarise(runs: list[dict]) -> dict:
    return {
        "ms": round(statistics.median(r["ms"] for r in runs), 1),
        "query_bytes": int(statistics.median(r["query_bytes"] for r in runs)),
        "page_bytes": int(statistics.median(r["page_bytes"] for r in runs)),
        "cold_bytes": int(statistics.median(r["page_bytes"] + r["query_bytes"] for r in runs)),
        "total": runs[0]["total"],
    }


def med(rows: list[dict], side: str, key: str) -> int:
    return int(statistics.median(r[side][key] for r in rows))


def kb(n: int) -> str:
    return f"{n / 1024:,.1f} kB"


def query_table(rows: list[dict]) -> list[str]:
    """The per-query lines of the report."""
    lines = [
        "| query | category | ours ms | ours bytes (query / cold) | ours hits | Pagefind ms | Pagefind bytes (query / cold) | Pagefind hits |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        o, p = r["ours"], r["pagefind"]
        lines.append(f"| {r['query']} | {r['category']} | {o['ms']} | {kb(o['query_bytes'])} / {kb(o['cold_bytes'])} | {o['total']} | "
                     f"{p['ms']} | {kb(p['query_bytes'])} / {kb(p['cold_bytes'])} | {p['total']} |")
    return lines


def write_report(path: Path, args, n_units: int, builds: dict, sizes: dict, rows: list[dict], extra: list[dict]) -> None:

    lines = [
        "# Web bundle vs Pagefind",
        "",
        f"Run {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC on {platform.node()} ({platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}), Chromium headless.",
        f"Command: `.venv/bin/python bench/bench_web.py{'' if args.limit is None else f' --limit {args.limit}'} "
        f"--repeat {args.repeat}{' --reuse-index' if args.reuse_index else ''}"
        f"{f' --units-cache {args.units_cache}' if args.units_cache else ''} --out {args.out} --results {args.results}"
        f" --pagefind-python {args.pagefind_python}`",
        (f"Units: the {n_units:,} units of `{args.units_cache}` (a cache of `bench/units.py`)." if args.units_cache
         else f"Units: the first {n_units:,} units of `bench/units.py` (all five sources, interleaved)."),
        "",
        "| | protokollsök | Pagefind |",
        "|---|---|---|",
        f"| build (s) | index {builds['ours']['index_s']:.1f} + export {builds['ours']['export_s']:.1f} | {builds['pagefind']['index_s']:.1f} |",
        f"| distinct terms + table words | {builds['ours']['terms']:,} | |",
        f"| bundle files | {sizes['ours'][0]:,} | {sizes['pagefind'][0]:,} |",
        f"| bundle size (raw / gzipped text) | {kb(sizes['ours'][1])} / {kb(sizes['ours'][2])} | {kb(sizes['pagefind'][1])} / {kb(sizes['pagefind'][2])} |",
        f"| median page + library before a query | {kb(med(rows, 'ours', 'page_bytes'))} | {kb(med(rows, 'pagefind', 'page_bytes'))} |",
        f"| median bytes for the query | {kb(med(rows, 'ours', 'query_bytes'))} | {kb(med(rows, 'pagefind', 'query_bytes'))} |",
        f"| median bytes, cold page + query | {kb(med(rows, 'ours', 'cold_bytes'))} | {kb(med(rows, 'pagefind', 'cold_bytes'))} |",
        f"| median time to top 10 (ms) | {statistics.median(r['ours']['ms'] for r in rows):.1f} | {statistics.median(r['pagefind']['ms'] for r in rows):.1f} |",
        f"| worst time to top 10 (ms) | {max(r['ours']['ms'] for r in rows):.1f} | {max(r['pagefind']['ms'] for r in rows):.1f} |",
        "",
        "Per query (median of the runs; bytes are those transferred for the query after the page loaded):",
        "",
        *query_table(rows),
    ]
    if extra:
        lines += ["", "Not in the mix above (nor in its medians): words with a function word, unquoted "
                  "(`EXTRA_QUERIES`), measured the same way:", "", *query_table(extra)]
    lines += ["", "Hit counts differ by design: Pagefind ranks any-word matches and stems only; protokollsök "
              "requires every word and adds lemmas, folding and compound parts.", ""]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(lines), encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--limit", type=int, default=None, help="units to index (default: the whole corpus)")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--out", type=Path, default=HERE / "out" / "web")
    ap.add_argument("--results", type=Path, default=HERE / "results" / "web.md")
    ap.add_argument("--pagefind-python", default=sys.executable)
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    ap.add_argument("--reuse-index", action="store_true", help="keep OUT/ix from a run with the same --limit (rebuilt when an older schema made it)")
    ap.add_argument("--units-cache", type=Path, default=None,
                    help="read the units from a JSONL cache of bench/units.py (e.g. the one bench_all.py writes); "
                         "with --reuse-index, OUT/ix must hold exactly these units")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    if args.units_cache:
        units = list(itertools.islice(read_cache(args.units_cache), args.limit))
    else:
        units = list(iter_units(args.corpora, limit=args.limit))
    print(f"{len(units)} units", flush=True)
    builds = {"ours": build_ours(units, args.out, args.reuse_index), "pagefind": build_pagefind(units, args.out, args.pagefind_python)}
    print(builds, flush=True)
    site = args.out / "site"
    sizes = {"ours": folder_size(site / "ours"), "pagefind": folder_size(site / "pagefind")}
    print(sizes, flush=True)
    rows = run_queries(site, args.repeat)
    extra = run_queries(site, args.repeat, EXTRA_QUERIES)
    write_report(args.results, args, len(units), builds, sizes, rows, extra)
    print(f"wrote {args.results}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
