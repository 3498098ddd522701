"""Build ``src/protokollsok/data/wordfreq.tsv.gz``: word frequencies of clean Swedish public text.

Sources (all born-digital, none OCR'd), read from ``../shared/corpora`` and never copied:

- regeringen.se pages (markdown, front matter skipped);
- Riksdag interpellations from riksmöte 2001/02 on (the earlier ones were scanned and OCR'd);
- Göteborg's verbatim KF speeches.

A word is a run of letters (lower-cased). Counts below ``--min-count`` (3) are dropped; if the gzip
file would exceed ``--max-bytes`` the threshold is raised until it fits.

    .venv/bin/python scripts/build_wordfreq.py [--corpora ../shared/corpora]
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import re
import tarfile
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "src" / "protokollsok" / "data" / "wordfreq.tsv.gz"
WORD_RE = re.compile(r"[^\W\d_]+")
FIRST_CLEAN_RIKSMOTE = 2001  # interpellations before 2001/02 were OCR'd from paper


def words(text: str) -> Iterator[str]:
    """Lower-cased runs of letters."""
    return (m.group().lower() for m in WORD_RE.finditer(text))


def _strip_front_matter(text: str) -> str:
    if text.startswith("---"):
        end = text.find("\n---", 3)
        if end > 0:
            return text[end + 4 :]
    return text


def regeringen_texts(corpora: Path) -> Iterator[str]:
    """Body text of every regeringen.se markdown page."""
    for tar_path in sorted((corpora / "regeringen").glob("*.tar.gz")):
        with tarfile.open(tar_path) as tar:
            for member in tar:
                if member.isfile() and member.name.endswith(".md"):
                    fh = tar.extractfile(member)
                    if fh is not None:
                        yield _strip_front_matter(fh.read().decode("utf-8", "replace"))


def riksdagen_texts(corpora: Path) -> Iterator[str]:
    """Paragraphs of interpellations from the born-digital years."""
    for path in sorted((corpora / "riksdagen").glob("*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                doc = json.loads(line)
                if int(str(doc.get("riksmote", "0"))[:4]) >= FIRST_CLEAN_RIKSMOTE:
                    yield "\n".join(doc.get("stycken") or [])


def goteborg_texts(corpora: Path) -> Iterator[str]:
    """Göteborg KF speeches (the verbatim record)."""
    for path in sorted((corpora / "kommun" / "goteborg").glob("*anforanden*.jsonl.gz")):
        with gzip.open(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                yield json.loads(line).get("text") or ""


def count_words(corpora: Path) -> Counter[str]:
    """Word counts over all clean sources."""
    counts: Counter[str] = Counter()
    for source in (regeringen_texts, riksdagen_texts, goteborg_texts):
        for text in source(corpora):
            counts.update(words(text))
    return counts


def encode(counts: Counter[str], min_count: int) -> bytes:
    """The gzipped ``word<TAB>count`` lines, most frequent first."""
    buf = io.StringIO()
    for word, n in counts.most_common():
        if n < min_count:
            break
        buf.write(f"{word}\t{n}\n")
    return gzip.compress(buf.getvalue().encode("utf-8"), compresslevel=9, mtime=0)


def main() -> None:
    """Count, pick the lowest threshold that fits, write the file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpora", type=Path, default=ROOT.parent / "shared" / "corpora")
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--min-count", type=int, default=3)
    parser.add_argument("--max-bytes", type=int, default=1_500_000)
    args = parser.parse_args()
    counts = count_words(args.corpora)
    threshold = args.min_count
    data = encode(counts, threshold)
    while len(data) > args.max_bytes:
        threshold += 1
        data = encode(counts, threshold)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    kept = sum(1 for n in counts.values() if n >= threshold)
    print(f"{args.out}: {kept} words with count >= {threshold}, {len(data)} bytes")


if __name__ == "__main__":
    main()
