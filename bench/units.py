"""Stream the shared volume corpus as ``protokollsok.model.Unit``s, in a fixed, mixed order.

The volume corpus (``../shared/corpora``, see its ``SOURCES.md``) is read straight from its
archives, never copied into the repository:

=============  ==========================================================  =======
source         unit                                                        ~count
=============  ==========================================================  =======
riksdagen      one paragraph (``stycken[k]``) of an interpellation          114 k
regeringen     one regeringen.se page (markdown)                            24 k
anforanden     one Göteborg KF speech                                       20 k
paragrafer     one Göteborg KF/KS protokoll §                               4 k
botkyrka       one Botkyrka vård- och omsorg document (markdown)            1.1 k
=============  ==========================================================  =======

The sources are interleaved in proportion to their sizes (a deterministic weighted round robin);
within a source the records keep their archive order, which is chronological. ``shuffled`` puts
the whole corpus in a fixed pseudo-random order instead, so that the first 10,000 units span every
source *and* every year (the benchmark's nested samples of 10k, 50k, all are prefixes of it).

Run ``python bench/units.py [--limit N]`` to print counts and sizes per source.
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import re
import sys
import tarfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from protokollsok.model import Metadata, Segment, Unit

DEFAULT_CORPORA = Path(__file__).resolve().parents[2] / "shared" / "corpora"

RIKSDAGEN_JSONL = "riksdagen/riksdagen_interpellationer_199495-202324.jsonl.gz"
REGERINGEN_TAR = "regeringen/regeringen_se_rattsliga_dokument_remisser_uppdrag_md.tar.gz"
ANFORANDEN_JSONL = "kommun/goteborg/goteborg_kf_anforanden_2023-2026.jsonl.gz"
PARAGRAFER_JSONL = "kommun/goteborg/goteborg_kf_ks_paragrafer_2023-2026.jsonl.gz"
BOTKYRKA_TAR = "kommun/botkyrka/botkyrka_vard_omsorg_styrdokument_md.tar.gz"
MEETINGS_TAR = "kommun/goteborg/goteborg_kf_ks_protokoll_txt_2023-2026.tar.gz"

# Expected unit counts (SOURCES.md); used only as interleaving weights.
WEIGHTS = {
    "riksdagen": 114_088,
    "regeringen": 24_168,
    "anforanden": 20_271,
    "paragrafer": 3_936,
    "botkyrka": 1_143,
}
ORGAN_PREFIX = {"Kommunfullmäktige": "kf", "Kommunstyrelsen": "ks"}
_FRONT_MATTER = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_TITLE_LINE = re.compile(r'^title:\s*"?(.*?)"?\s*$', re.M)
_H1 = re.compile(r"^#\s+(.+)$", re.M)


def make_unit(
    uid: str,
    source: str,
    text: str,
    *,
    title: str = "",
    kind: str = "dokument",
    paragraf: int | None = None,
    meta: Metadata | None = None,
) -> Unit:
    """A Unit whose segment is the whole ``text`` (offsets 0..len, lines 1..n)."""
    lines = (1, text.count("\n") + 1)
    seg = Segment(uid, source, kind, paragraf, title, text, 0, len(text), lines)
    return Unit(seg, meta or Metadata())


def _jsonl(path: Path) -> Iterator[dict]:
    with gzip.open(path, "rt", encoding="utf-8") as f:
        for line in f:
            if line.strip():
                yield json.loads(line)


def _tar_texts(path: Path, suffix: str) -> Iterator[tuple[str, str]]:
    """``(member name, text)`` of every file in a .tar.gz ending in ``suffix``, in archive order."""
    with tarfile.open(path, "r|gz") as tar:
        for m in tar:
            if m.isfile() and m.name.endswith(suffix):
                f = tar.extractfile(m)
                if f is not None:
                    yield m.name, f.read().decode("utf-8", errors="replace")


def _party(code: str | None) -> tuple[str, ...]:
    return (code.upper(),) if code else ()


def riksdagen_units(corpora: Path) -> Iterator[Unit]:
    """One unit per non-empty interpellation paragraph; parti = the asker's party."""
    for rec in _jsonl(corpora / RIKSDAGEN_JSONL):
        people = rec.get("personer") or []
        parti = _party(people[0].get("parti")) if people else ()
        datum = (rec.get("datum") or {}).get("sent")
        meta = Metadata(namnd="Riksdagen", datum=datum, parti=parti, doctype="interpellation")
        for k, text in enumerate(rec.get("stycken") or [], start=1):
            if text.strip():
                uid = f"riksdagen/{rec['id']}#stycke{k}"
                yield make_unit(uid, f"riksdagen/{rec['id']}", text, title=rec.get("titel", ""), meta=meta)


def _front_matter(text: str) -> tuple[str, str]:
    """``(title, body)`` of a markdown file with optional YAML front matter."""
    m = _FRONT_MATTER.match(text)
    if not m:
        return "", text
    t = _TITLE_LINE.search(m.group(1))
    return (t.group(1) if t else ""), text[m.end() :]


def regeringen_units(corpora: Path) -> Iterator[Unit]:
    """One unit per regeringen.se page; the title is its first ``#`` heading."""
    for name, text in _tar_texts(corpora / REGERINGEN_TAR, ".md"):
        h1 = _H1.search(text)
        parts = name.split("/")
        doctype = parts[-4] if len(parts) >= 4 else None
        meta = Metadata(namnd="Regeringen", doctype=doctype)
        source = name.removeprefix("g0vse-data/")
        yield make_unit(f"regeringen/{source}#dokument", f"regeringen/{source}", text,
                        title=h1.group(1) if h1 else "", meta=meta)


def anforanden_units(corpora: Path) -> Iterator[Unit]:
    """One unit per Göteborg KF speech: nämnd, datum and the speaker's party."""
    for rec in _jsonl(corpora / ANFORANDEN_JSONL):
        title = f"{rec.get('arende_titel') or ''} — {rec.get('talare') or ''}"
        meta = Metadata(namnd=rec.get("organ"), datum=rec.get("datum"),
                        parti=_party(rec.get("parti")), doctype="yttrandeprotokoll")
        source = f"goteborg/anforanden/{rec['id'].rsplit('-', 1)[0]}"
        yield make_unit(f"goteborg/anforanden/{rec['id']}", source, rec.get("text") or "",
                        title=title, meta=meta)


def meeting_name(organ: str, datum: str) -> str:
    """``kf-2025-06-18``: the meeting file stem the protokoll tarball uses."""
    return f"{ORGAN_PREFIX.get(organ, organ.lower())}-{datum}"


def paragraf_units(corpora: Path, exclude_meetings: frozenset[str] = frozenset()) -> Iterator[Unit]:
    """One unit per Göteborg KF/KS protokoll §, with nämnd, datum, § number and dnr."""
    for rec in _jsonl(corpora / PARAGRAFER_JSONL):
        meeting = meeting_name(rec["organ"], rec["datum"])
        if meeting in exclude_meetings:
            continue
        nr = rec.get("paragraf_nr")
        number = int(nr) if nr and str(nr).isdigit() else None
        dnr = (rec["dnr"],) if rec.get("dnr") else ()
        meta = Metadata(dnr=dnr, namnd=rec["organ"], datum=rec["datum"], doctype="protokoll")
        source = f"goteborg/{meeting}.txt"
        yield make_unit(f"{source}#§{nr}", source, rec.get("fulltext") or "", title=rec.get("rubrik", ""),
                        kind="paragraf", paragraf=number, meta=meta)


def botkyrka_units(corpora: Path) -> Iterator[Unit]:
    """One unit per Botkyrka document (no §): the front matter's title and the body."""
    for name, text in _tar_texts(corpora / BOTKYRKA_TAR, ".md"):
        title, body = _front_matter(text)
        meta = Metadata(namnd="Botkyrka vård- och omsorgsnämnd", doctype="styrdokument")
        yield make_unit(f"botkyrka/{name}#dokument", f"botkyrka/{name}", body, title=title, meta=meta)


def interleave(streams: dict[str, Iterable[Unit]], weights: dict[str, int]) -> Iterator[Unit]:
    """Merge streams so each appears in proportion to its weight (deterministic; ties by order)."""
    its = {k: iter(v) for k, v in streams.items()}
    taken = dict.fromkeys(its, 0)
    while its:
        name = min(its, key=lambda k: ((taken[k] + 1) / weights[k], list(weights).index(k)))
        try:
            unit = next(its[name])
        except StopIteration:
            del its[name]
            continue
        taken[name] += 1
        yield unit


def iter_units(
    corpora: Path = DEFAULT_CORPORA,
    limit: int | None = None,
    exclude_meetings: Iterable[str] = (),
) -> Iterator[Unit]:
    """The volume corpus as units, mixed in a fixed order; at most ``limit`` of them.

    ``exclude_meetings`` (e.g. ``{"kf-2025-06-18"}``) leaves out that meeting's §§, so that the
    incremental benchmark can add the meeting as a new file.
    """
    corpora = Path(corpora)
    excl = frozenset(exclude_meetings)
    makers: dict[str, Callable[[], Iterator[Unit]]] = {
        "riksdagen": lambda: riksdagen_units(corpora),
        "regeringen": lambda: regeringen_units(corpora),
        "anforanden": lambda: anforanden_units(corpora),
        "paragrafer": lambda: paragraf_units(corpora, excl),
        "botkyrka": lambda: botkyrka_units(corpora),
    }
    streams = {k: _lazy(make) for k, make in makers.items()}
    for n, unit in enumerate(interleave(streams, WEIGHTS)):
        if limit is not None and n >= limit:
            return
        yield unit


def shuffled(units: Iterable[Unit], seed: int = 6) -> list[Unit]:
    """All ``units`` in a fixed pseudo-random order (holds the whole corpus in memory, ~0.5 GB)."""
    out = list(units)
    random.Random(seed).shuffle(out)
    return out


def _lazy(make: Callable[[], Iterator[Unit]]) -> Iterator[Unit]:
    yield from make()


def meeting_text(corpora: Path, meeting: str) -> str:
    """The plain text of one Göteborg meeting (``kf-2025-06-18``) from the protokoll tarball."""
    for name, text in _tar_texts(Path(corpora) / MEETINGS_TAR, f"/{meeting}.txt"):
        del name
        return text
    raise FileNotFoundError(f"{meeting}.txt is not in {MEETINGS_TAR}")


def unit_to_record(unit: Unit) -> dict:
    """A unit as one JSON object (the cache format of ``bench_all``)."""
    return unit.to_json()


def unit_from_record(rec: dict) -> Unit:
    """The inverse of ``unit_to_record``."""
    seg = Segment(rec["id"], rec["source"], rec["kind"], rec["paragraf"], rec["title"], rec["text"],
                  0, len(rec["text"]), tuple(rec["lines"]))
    meta = Metadata(tuple(rec["dnr"]), rec["namnd"], rec["datum"], tuple(rec["parti"]), rec["doctype"],
                    rec.get("ocr", False))
    return Unit(seg, meta)


def write_cache(units: Iterable[Unit], path: Path) -> int:
    """Write units as JSON lines; returns how many."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = 0
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        for u in units:
            f.write(json.dumps(unit_to_record(u), ensure_ascii=False) + "\n")
            n += 1
    tmp.replace(path)
    return n


def read_cache(path: Path) -> Iterator[Unit]:
    """Stream units back from a cache written by ``write_cache``."""
    with open(path, encoding="utf-8") as f:
        for line in f:
            yield unit_from_record(json.loads(line))


def _summary(units: Iterable[Unit]) -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for u in units:
        key = u.id.split("/", 1)[0]
        if key == "goteborg":
            key = "anforanden" if "/anforanden/" in u.id else "paragrafer"
        s = out.setdefault(key, {"units": 0, "bytes": 0})
        s["units"] += 1
        s["bytes"] += len(u.segment.text.encode("utf-8"))
    return out


@dataclass
class _Args:
    corpora: Path
    limit: int | None


def main(argv: list[str] | None = None) -> int:
    """Print unit counts and text sizes per source."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA)
    p.add_argument("--limit", type=int, default=None)
    a = p.parse_args(argv, namespace=_Args(DEFAULT_CORPORA, None))
    if not a.corpora.is_dir():
        print(f"error: no corpora at {a.corpora}", file=sys.stderr)
        return 1
    summary = _summary(iter_units(a.corpora, a.limit))
    for k, s in summary.items():
        print(f"{k:12} {s['units']:8,} units {s['bytes'] / 1e6:8.1f} MB")
    total = sum(s["units"] for s in summary.values())
    print(f"{'total':12} {total:8,} units {sum(s['bytes'] for s in summary.values()) / 1e6:8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
