"""The command line: parse options, call the library, format output, map errors to exit codes.

Exit codes: 0 success; 1 an error (one line ``Error: <what> — <how to fix>``), or ``index`` committed
but some files failed, or ``check`` found differences; 2 a usage error (click).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from protokollsok import __version__
from protokollsok.errors import ProtokollsokError

INDEX_HELP = "Index folder (default: $PROTOKOLLSOK_INDEX or index/)."
_verbose = False


def _index_option(f):
    return click.option(
        "--index", "index_dir", type=click.Path(file_okay=False, path_type=Path), help=INDEX_HELP
    )(f)


def _emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="protokollsok")
@click.option("--verbose", "-v", is_flag=True, help="Show tracebacks for errors.")
def cli(verbose: bool) -> None:
    """protokollsök: search Swedish municipal protokoll per § and per bilaga."""
    global _verbose
    _verbose = verbose


# ---------------------------------------------------------------------------------------- index


class _Bar:
    """A progress bar on stderr for long runs (only on a terminal)."""

    def __init__(self, quiet: bool) -> None:
        self.quiet = quiet
        self.bar = None

    def start(self, total: int) -> None:
        if self.quiet or total < 20 or not sys.stderr.isatty():
            return
        self.bar = click.progressbar(length=total, label="Indexing", file=sys.stderr, width=30)
        self.bar.__enter__()

    def advance(self, source: str) -> None:
        if self.bar is not None:
            self.bar.update(1)

    def finish(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


class _Status:
    """One line on stderr that a long run rewrites as it goes (only on a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.on = sys.stderr.isatty()
        self.shown = False

    def __call__(self, stage: str, done: int) -> None:
        if self.on:
            sys.stderr.write(f"\r{self.label}: {done:,} {stage}   ")
            sys.stderr.flush()
            self.shown = True

    def finish(self) -> None:
        if self.shown:
            sys.stderr.write("\r" + " " * 60 + "\r")
            sys.stderr.flush()


@cli.command("index")
@click.argument("corpus", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@click.option("--full", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option("--verify", is_flag=True, help="Hash every file, not only those whose size or time changed.")
@click.option("--chain", default=None, help="Analysis chain (default: full; for evaluation).")
@click.option("--quiet", "-q", is_flag=True, help="Only the summary line.")
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.option("--watch", is_flag=True, help="Keep running: update the index when files appear, change or vanish.")
@click.option("--interval", default=5.0, show_default=True, type=click.FloatRange(0.1), help="Seconds between looks at the corpus (--watch).")
def index_cmd(
    corpus: Sequence[Path], index_dir: Path | None, full: bool, verify: bool, chain: str | None,
    quiet: bool, as_json: bool, watch: bool, interval: float,
) -> int:
    """Index CORPUS folders or files (default: $PROTOKOLLSOK_CORPUS or corpus/).

    Updates only what changed since the last run; exit code 1 when some files failed
    (the index is still committed and consistent).
    """
    from protokollsok.index import Progress, build_index

    if watch:
        from protokollsok import index as idx

        idx.watch(
            list(corpus) or None, index_dir, interval=interval,
            on_report=lambda r: click.echo(_summary(r)),
            on_error=lambda e: click.echo(f"Error: {e}", err=True),
        )
        return 0
    bar = _Bar(quiet or as_json)
    progress = Progress()
    progress.start, progress.advance, progress.finish = bar.start, bar.advance, bar.finish
    report = build_index(list(corpus) or None, index_dir, full=full, chain=chain, verify=verify, progress=progress)
    if as_json:
        _emit_json(
            {
                "files": report.files_seen,
                "added": report.added,
                "replaced": report.replaced,
                "removed": report.removed,
                "unchanged": report.unchanged,
                "failed": [{"source": s, "reason": r} for s, r in report.failed],
                "skipped": [{"source": s, "reason": r} for s, r in report.skipped],
                "warnings": [{"source": s, "message": m} for s, m in report.warnings],
                "units": report.units,
                "paragrafer": report.paragrafer,
                "bilagor": report.bilagor,
                "dokument": report.dokument,
                "seconds": round(report.seconds, 3),
            }
        )
    else:
        for source, reason in report.failed:
            click.echo(f"failed: {source}: {reason}", err=True)
        for source, why in report.skipped:
            click.echo(f"skipped: {source}: {why}", err=True)
        for source, message in report.warnings:
            click.echo(f"warning: {source}: {message}", err=True)
        click.echo(_summary(report))
    return 0 if report.ok else 1


def _summary(r) -> str:
    return (
        f"{_counted(r.files_seen, 'file')}: {len(r.added)} added, {len(r.replaced)} replaced, "
        f"{len(r.removed)} removed, {r.unchanged} unchanged, {len(r.skipped)} skipped, "
        f"{len(r.failed)} failed; "
        f"{_counted(r.units, 'unit')} indexed ({r.paragrafer} §, {r.bilagor} bilagor, {r.dokument} dokument); "
        f"{_counted(len(r.warnings), 'warning')}; {r.seconds:.1f} s"
    )


def _counted(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


# --------------------------------------------------------------------------------------- search


@cli.command("search")
@click.argument("query", nargs=-1, required=True)
@_index_option
@click.option("--limit", "-n", default=10, show_default=True, type=click.IntRange(0, 1000))
@click.option("--namnd", multiple=True, help="Only this nämnd (part of its name, å/ä/ö optional).")
@click.option("--parti", multiple=True, help="Only units where this party appears (S, M, KD, ...).")
@click.option("--dnr", multiple=True, help="Only units with this diarienummer.")
@click.option("--from", "date_from", help="From this date (2023, 2023-05 or 2023-05-17).")
@click.option("--to", "date_to", help="Up to this date (inclusive).")
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance", show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for scripts.")
@click.option("--color/--no-color", default=None, help="Highlight matches (default: on a terminal).")
def search_cmd(
    query: Sequence[str], index_dir: Path | None, limit: int, namnd: Sequence[str],
    parti: Sequence[str], dnr: Sequence[str], date_from: str | None, date_to: str | None,
    sort: str, as_json: bool, color: bool | None,
) -> int:
    """Search the index. QUERY: words (all must match), "a phrase", a OR b, -word, prefix*,
    nämnd:X parti:KD dnr:"KS 2023/740" datum:2023 or datum:2023-01-01..2023-06-30;
    a diarienummer such as KS 2023/740 on its own finds the units that carry it."""
    from protokollsok.search import search

    result = search(
        index_dir, " ".join(query), limit=limit, namnd=list(namnd), parti=list(parti),
        dnr=list(dnr), date_from=date_from, date_to=date_to, sort=sort,
    )
    if as_json:
        _emit_json(result.to_json())
        return 0
    click.echo(_format_result(result), color=color)
    return 0


def _format_result(result) -> str:
    lines = [f"{result.total} träffar för {result.query!r}" if result.total != 1 else f"1 träff för {result.query!r}"]
    if result.suggestion:
        lines.append(f"Menade du: {result.suggestion}")
    facets = _format_facets(result.facets)
    if facets:
        lines.append(facets)
    for n, h in enumerate(result.hits, 1):
        lines.append("")
        lines.append(f"{n}. " + click.style(_heading(h), bold=True))
        ocr = "OCR-rättad text: kontrollera citat mot originalet" if h.ocr else ""
        detail = " · ".join(x for x in (", ".join(h.dnr), ", ".join(h.parti), h.id, ocr) if x)
        lines.append("   " + click.style(detail, fg="bright_black"))
        lines.append("   " + _highlight(h.snippet, h.highlights))
    return "\n".join(lines)


def _heading(h) -> str:
    where = {"paragraf": f"§ {h.paragraf}", "bilaga": f"bilaga till § {h.paragraf}"}.get(h.kind, h.kind)
    if h.kind == "bilaga" and h.paragraf is None:
        where = "bilaga"
    parts = [h.namnd or "okänd nämnd", h.datum or "datum saknas", where]
    if h.pages:
        first, last = h.pages
        parts.append(f"s. {first}" if first == last else f"s. {first}–{last}")
    return " · ".join(parts) + (f" — {h.title}" if h.title else "")


def _highlight(snippet: str, spans: Sequence[tuple[int, int]]) -> str:
    out, last = [], 0
    for s, e in spans:
        out.append(snippet[last:s])
        out.append(click.style(snippet[s:e], bold=True, fg="yellow"))
        last = e
    out.append(snippet[last:])
    return "".join(out)


def _format_facets(facets: dict[str, list[tuple[str, int]]]) -> str:
    names = {"namnd": "nämnd", "parti": "parti", "year": "år"}
    parts = []
    for key, label in names.items():
        values = facets.get(key) or []
        if values:
            parts.append(f"{label}: " + ", ".join(f"{v} {n}" for v, n in values[:6]))
    return " | ".join(parts)


# ------------------------------------------------------------------------------ show and stats


@cli.command("show")
@click.argument("unit_id")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def show_cmd(unit_id: str, index_dir: Path | None, as_json: bool) -> int:
    """Print one unit (an id from `search`) in full with its metadata."""
    from protokollsok.search import get_unit

    unit = get_unit(index_dir, unit_id)
    if unit is None:
        raise ProtokollsokError(f"no unit {unit_id!r} in the index", "copy an id from `protokollsok search`")
    if as_json:
        _emit_json(unit)
        return 0
    for key in ("id", "kind", "paragraf", "title", "namnd", "datum", "dnr", "parti", "doctype", "source", "lines", "pages"):
        value = unit.get(key)
        if isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        if value not in (None, ""):
            click.echo(f"{key:>9}: {value}")
    if unit.get("ocr"):
        click.echo(f"{'ocr':>9}: OCR-rättad text: kontrollera citat mot originalet")
    click.echo("")
    click.echo(unit["text"])
    return 0


@cli.command("stats")
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def stats_cmd(index_dir: Path | None, as_json: bool) -> int:
    """Describe the index: units, nämnder, parties, date range."""
    from protokollsok.search import stats

    s = stats(index_dir)
    if as_json:
        _emit_json(s)
        return 0
    kinds = ", ".join(f"{n} {k}" for k, n in s["kinds"].items())
    click.echo(f"index {s['index']} (chain {s['chain']}): {s['units']} units ({kinds}) from {s['files']} files")
    click.echo(f"datum: {s['date_from'] or '-'} .. {s['date_to'] or '-'}")
    click.echo("nämnder: " + ("; ".join(f"{k} {n}" for k, n in s["namnder"].items()) or "-"))
    click.echo("partier: " + (", ".join(f"{k} {n}" for k, n in s["partier"].items()) or "-"))
    if s["ocr_units"]:
        click.echo(f"OCR-rättad text: {s['ocr_units']} units (from documents repaired from OCR damage)")
    return 0


# ----------------------------------------------------------------------------- inspect and check


@cli.command("inspect")
@click.argument("file", type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print JSON (a list of units).")
def inspect_cmd(file: Path, as_json: bool) -> int:
    """Show the units a FILE yields, with their metadata (nothing is indexed)."""
    from protokollsok.pipeline import units_of

    doc, units = units_of(file, file.name)
    if as_json:
        _emit_json([u.to_json() for u in units])
        return 0
    for w in doc.warnings:
        click.echo(f"warning: {file}: {w}", err=True)
    click.echo(f"{file}: {doc.format}, {len(units)} units")
    for u in units:
        m = u.meta
        click.echo("")
        click.echo(click.style(f"{u.id}  [{u.segment.kind}]  {u.segment.title}", bold=True))
        click.echo(f"  nämnd: {m.namnd or '-'}   datum: {m.datum or '-'}   doctype: {m.doctype or '-'}")
        click.echo(f"  dnr: {', '.join(m.dnr) or '-'}   parti: {', '.join(m.parti) or '-'}")
        pages = f", s. {u.segment.pages[0]}-{u.segment.pages[1]}" if u.segment.pages else ""
        click.echo(f"  rader {u.segment.lines[0]}-{u.segment.lines[1]}{pages}, {len(u.segment.text)} tecken")
    return 0


@cli.command("check")
@click.argument("corpus", nargs=-1, type=click.Path(path_type=Path))
@_index_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def check_cmd(corpus: Sequence[Path], index_dir: Path | None, as_json: bool) -> int:
    """Verify index, manifest and corpus against each other; exit 0 only when they agree."""
    from protokollsok.index import check

    r = check(list(corpus) or None, index_dir)
    problems = r.differences()
    if as_json:
        _emit_json(
            {
                "ok": r.ok,
                "files": r.files,
                "units": r.units,
                **{k.replace(" ", "_"): v for k, v in problems.items()},
                "failed": [{"source": s, "reason": why} for s, why in r.failed],
                "empty": [{"source": s, "reason": why} for s, why in r.empty],
            }
        )
    else:
        for label, items in problems.items():
            for item in items:
                click.echo(f"{label}: {item}")
        for note in r.notes():
            click.echo(note)
        verdict = "agree" if r.ok else "differ — run `protokollsok index` to bring the index up to date"
        click.echo(f"{r.files} files, {r.units} units: index, manifest and corpus {verdict}")
    return 0 if r.ok else 1


# ------------------------------------------------------------------------------------------- web


@cli.command("export-web")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@_index_option
def export_web_cmd(out: Path, index_dir: Path | None) -> int:
    """Write a static search page with the index as content-hashed shards into OUT."""
    from protokollsok import web

    status = _Status("Exporting")
    try:
        report = web.export_bundle(index_dir, out, progress=status)
    finally:
        status.finish()
    reused = f", {report['reused']} terms' entries as they were" if report.get("reused") else ""
    click.echo(
        f"{out}: {report.get('written', 0)} files written, {report.get('kept', 0)} unchanged{reused}, "
        f"{report.get('bytes', 0) / 1e6:.1f} MB in all; open {out}/index.html"
    )
    return 0


@cli.command("serve")
@_index_option
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="Bundle folder (default: a temporary one).")
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to bind (0.0.0.0 to share on a network).")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535), help="Port (0 picks a free one).")
def serve_cmd(index_dir: Path | None, out: Path | None, host: str, port: int) -> int:
    """Serve the search page and a JSON API (/api/search?q=...) on HOST:PORT."""
    from protokollsok import web

    web.serve(index_dir, out, host, port, progress=_Status("Exporting"))
    return 0


# ----------------------------------------------------------------------------------------- main


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point: one line per error, exit codes as documented in the module docstring."""
    # numpy (searches with many postings, the index's posting arrays) uses no BLAS here, and
    # OpenBLAS starting a thread per core made its import ~0.05 s slower; a command's own process only.
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    try:
        rv = cli.main(args=list(argv) if argv is not None else None, prog_name="protokollsok", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as e:
        e.show()
        sys.exit(e.exit_code)
    except ProtokollsokError as e:
        if _verbose:
            traceback.print_exc()
        click.echo(f"Error: {e}", err=True)
        sys.exit(1)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)
    except BrokenPipeError:  # `protokollsok search x | head`
        with contextlib.suppress(OSError):
            sys.stdout = open(os.devnull, "w")  # noqa: SIM115
        sys.exit(0)
    except Exception as e:  # a bug: still one line, the traceback with --verbose
        if _verbose or os.environ.get("PROTOKOLLSOK_DEBUG"):
            traceback.print_exc()
        click.echo(f"Error: internal error: {type(e).__name__}: {e} (run with --verbose for details)", err=True)
        sys.exit(1)
    sys.exit(rv if isinstance(rv, int) else 0)
