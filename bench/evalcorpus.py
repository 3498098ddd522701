"""Materialise the evaluation corpus for the search-quality benchmark, and read its units.

The eval corpus is a folder (default ``bench/out/evalcorpus/``, untracked) built from the shared,
read-only corpora::

    goteborg/<kf|ks>-YYYY-MM-DD.txt        91 KF/KS meeting files (one § after another)
    jonkoping/barn-och-utbildningsnamnden-YYYY-MM-DD.md   2 complete protokoll
    botkyrka/<verksamhet>/<file>.md        1,143 Botkyrka vård- och omsorg documents (no §)

Unit ids follow the product's scheme: ``<relative path>#§<n>`` for a §, ``<relative path>#dokument``
for a file without §.  ``iter_units`` reads the units independently of the product (Göteborg from
the pre-split ``paragrafer`` jsonl, Jönköping by its ``§ N`` headings, Botkyrka one per file) so
that the judged query set can be pooled and checked without the product's own splitter.

Run ``python bench/evalcorpus.py [--corpora DIR] [--out DIR]``; a second run writes nothing.
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import shutil
import sys
import tarfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
DEFAULT_CORPORA = Path(__file__).resolve().parents[1].parent / "shared" / "corpora"
DEFAULT_OUT = BENCH / "out" / "evalcorpus"

GOTEBORG_TAR = "kommun/goteborg/goteborg_kf_ks_protokoll_txt_2023-2026.tar.gz"
GOTEBORG_JSONL = "kommun/goteborg/goteborg_kf_ks_paragrafer_2023-2026.jsonl.gz"
BOTKYRKA_TAR = "kommun/botkyrka/botkyrka_vard_omsorg_styrdokument_md.tar.gz"
JONKOPING_DIR = "kommun/jonkoping"

ORGAN_PREFIX = {"Kommunfullmäktige": "kf", "Kommunstyrelsen": "ks"}

# A § heading in the Jönköping markdown: "## **§ 26**", "§ 52", "## § 59", "- § 57" on a line alone.
_JKP_PARAGRAF = re.compile(r"^(?:#+\s*)?(?:-\s*)?\**\s*§\s*(\d+)\s*\**\s*$")


@dataclass(frozen=True)
class EvalUnit:
    """One search unit of the eval corpus, as the judges read it."""

    id: str
    source: str  # path relative to the eval corpus root
    title: str
    text: str
    meta: dict[str, object] = field(default_factory=dict)


def _write_if_changed(dest: Path, data: bytes) -> bool:
    """Write ``data`` to ``dest`` unless it already holds exactly that; True if written."""
    if dest.is_file() and dest.read_bytes() == data:
        return False
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(dest)
    return True


def _tar_members(tar_path: Path, prefix: str) -> Iterator[tuple[str, bytes]]:
    """Yield ``(path below prefix, bytes)`` for the regular files under ``prefix/`` in a tarball."""
    with tarfile.open(tar_path, "r:gz") as tar:
        for member in tar:
            if not member.isfile():
                continue
            parts = Path(member.name).parts
            if not parts or parts[0] != prefix or any(p in ("", ".", "..") for p in parts):
                continue
            if parts[-1].startswith("."):
                continue
            fh = tar.extractfile(member)
            if fh is None:
                continue
            yield "/".join(parts[1:]), fh.read()


def wanted_files(corpora: Path) -> Iterator[tuple[str, bytes]]:
    """Yield ``(relative path in the eval corpus, bytes)`` for every file of the eval corpus."""
    for rel, data in _tar_members(corpora / GOTEBORG_TAR, "goteborg_protokoll_txt"):
        if rel.endswith(".txt"):
            yield f"goteborg/{rel}", data
    for path in sorted((corpora / JONKOPING_DIR).glob("*.md")):
        yield f"jonkoping/{path.name}", path.read_bytes()
    for rel, data in _tar_members(corpora / BOTKYRKA_TAR, "botkyrka_vard_omsorg"):
        if rel.endswith(".md"):
            yield f"botkyrka/{rel}", data


def materialise(corpora: Path = DEFAULT_CORPORA, out: Path = DEFAULT_OUT) -> dict[str, int]:
    """Build (or bring up to date) the eval corpus in ``out``; return counts written/unchanged/removed.

    Idempotent: files already holding the right bytes are left alone, and files in ``out`` that are
    not part of the eval corpus are removed (only below the three source folders).
    """
    counts = {"written": 0, "unchanged": 0, "removed": 0}
    keep: set[str] = set()
    for rel, data in wanted_files(corpora):
        keep.add(rel)
        if _write_if_changed(out / rel, data):
            counts["written"] += 1
        else:
            counts["unchanged"] += 1
    for top in ("goteborg", "jonkoping", "botkyrka"):
        root = out / top
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*"), reverse=True):
            rel = path.relative_to(out).as_posix()
            if path.is_file() and rel not in keep:
                path.unlink()
                counts["removed"] += 1
            elif path.is_dir() and not any(path.iterdir()):
                shutil.rmtree(path)
    return counts


def goteborg_unit_id(organ: str, datum: str, paragraf_nr: str | int) -> str:
    """``Kommunfullmäktige, 2023-01-26, 12`` -> ``goteborg/kf-2023-01-26.txt#§12``."""
    return f"goteborg/{ORGAN_PREFIX[organ]}-{datum}.txt#§{int(paragraf_nr)}"


def goteborg_units(corpora: Path = DEFAULT_CORPORA) -> Iterator[EvalUnit]:
    """The Göteborg §§ from the pre-split jsonl, with their parser-derived fields as ``meta``."""
    with gzip.open(corpora / GOTEBORG_JSONL, "rt", encoding="utf-8") as fh:
        for line in fh:
            row = json.loads(line)
            uid = goteborg_unit_id(row["organ"], row["datum"], row["paragraf_nr"])
            meta = {k: v for k, v in row.items() if k not in ("fulltext", "rubrik")}
            yield EvalUnit(uid, uid.split("#")[0], row.get("rubrik") or "", row["fulltext"], meta)


def split_jonkoping(source: str, text: str) -> Iterator[EvalUnit]:
    """Split one Jönköping protokoll at its ``§ N`` headings (the text before the first is dropped).

    A "Forts § N" line continues the open §; the table of contents (``|§|26|...``) is not a heading.
    """
    front = re.match(r"---\n(.*?)\n---\n", text, re.S)
    meta: dict[str, object] = {}
    if front:
        for ln in front.group(1).splitlines():
            key, _, val = ln.partition(":")
            meta[key.strip()] = val.strip().strip('"')
    lines = text.splitlines()
    starts = [(i, int(m.group(1))) for i, ln in enumerate(lines) if (m := _JKP_PARAGRAF.match(ln))]
    for k, (i, nr) in enumerate(starts):
        end = starts[k + 1][0] if k + 1 < len(starts) else len(lines)
        body = "\n".join(lines[i:end])
        title = next((ln.strip(" #*") for ln in lines[i + 1 : end] if ln.strip(" #*")), "")
        yield EvalUnit(f"{source}#§{nr}", source, title, body, {**meta, "paragraf_nr": nr})


def botkyrka_title(text: str, fallback: str) -> str:
    """The ``title`` from a Botkyrka file's YAML front matter, else ``fallback``."""
    m = re.search(r'^title:\s*"?(.*?)"?\s*$', text[:2000], re.M)
    return m.group(1) if m else fallback


def iter_units(corpora: Path = DEFAULT_CORPORA) -> Iterator[EvalUnit]:
    """Every unit of the eval corpus, read straight from the shared corpora."""
    yield from goteborg_units(corpora)
    for path in sorted((corpora / JONKOPING_DIR).glob("*.md")):
        yield from split_jonkoping(f"jonkoping/{path.name}", path.read_text(encoding="utf-8"))
    for rel, data in _tar_members(corpora / BOTKYRKA_TAR, "botkyrka_vard_omsorg"):
        if not rel.endswith(".md"):
            continue
        text = data.decode("utf-8")
        source = f"botkyrka/{rel}"
        verksamhet = rel.split("/")[0]
        title = botkyrka_title(text, Path(rel).stem)
        yield EvalUnit(f"{source}#dokument", source, title, text, {"verksamhet": verksamhet})


def main(argv: list[str] | None = None) -> int:
    """CLI: materialise the eval corpus and print what was done."""
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--corpora", type=Path, default=DEFAULT_CORPORA, help="the shared corpora folder")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the eval corpus")
    args = ap.parse_args(argv)
    if not (args.corpora / GOTEBORG_TAR).is_file():
        print(f"Error: no corpora in {args.corpora} — pass --corpora DIR", file=sys.stderr)
        return 1
    counts = materialise(args.corpora, args.out)
    print(
        f"eval corpus in {args.out}: {counts['written']} written, "
        f"{counts['unchanged']} unchanged, {counts['removed']} removed"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
