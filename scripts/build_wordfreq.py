"""Build ``src/protokollsok/data/wordfreq.tsv.gz`` and ``contexts.tsv.gz`` from clean Swedish text.

Sources (all born-digital, none OCR'd), read from ``../shared/corpora`` and never copied:

- regeringen.se pages (markdown, front matter skipped);
- Riksdag interpellations from riksmöte 2001/02 on (the earlier ones were scanned and OCR'd);
- Göteborg's verbatim KF speeches.

A word is a run of letters (lower-cased). Counts below ``--min-count`` (3) are dropped; if the gzip
file would exceed ``--max-bytes`` the threshold is raised until it fits.

``contexts.tsv.gz`` serves the OCR repair of words that are words either way (``for``/``för``,
``bor``/``bör``, ``har``/``här``): words of at least ``AMBIGUOUS_MIN`` occurrences that differ only
in å/ä/ö (they coincide once å/ä become ``a`` and ö ``o``) form a group, and for every member the
script counts its left and right neighbours, themselves folded that way (``<s>`` marks a sentence
boundary, ``<num>`` a number other than 1). ``i`` and ``1`` get the same treatment, since OCR
reads one for the other. Lines are ``U<TAB>word<TAB><TAB>count`` (the word's own count),
``L<TAB>left<TAB>word<TAB>count`` and ``R<TAB>word<TAB>right<TAB>count``; pairs seen fewer than
``CONTEXT_MIN`` times are dropped.

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
CONTEXTS_OUT = OUT.with_name("contexts.tsv.gz")
WORD_RE = re.compile(r"[^\W\d_]+")
TOKEN_RE = re.compile(r"[^\W\d_]+|\d+|[.!?:;]")
BOUNDARY = "<s>"
NUMBER = "<num>"
ONE_OR_I = {"1", "i"}  # OCR reads a lone ``i`` as ``1``: both get contexts too
FOLD = str.maketrans("åäö", "aao")
AMBIGUOUS_MIN = 20
CONTEXT_MIN = 2
FIRST_CLEAN_RIKSMOTE = 2001  # interpellations before 2001/02 were OCR'd from paper


def words(text: str) -> Iterator[str]:
    """Lower-cased runs of letters."""
    found = (m.group().lower() for m in WORD_RE.finditer(text))
    return (w for w in found if w.isalpha())  # the class also holds ½ and ¹


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


def clean_texts(corpora: Path) -> Iterator[str]:
    """Every clean text, source after source."""
    for source in (regeringen_texts, riksdagen_texts, goteborg_texts):
        yield from source(corpora)


def count_words(corpora: Path) -> Counter[str]:
    """Word counts over all clean sources."""
    counts: Counter[str] = Counter()
    for text in clean_texts(corpora):
        counts.update(words(text))
    return counts


def ambiguous_words(counts: Counter[str]) -> set[str]:
    """Frequent words that share their å/ä/ö-folded form with another frequent word."""
    groups: dict[str, list[str]] = {}
    for word, n in counts.items():
        if n >= AMBIGUOUS_MIN:
            groups.setdefault(word.translate(FOLD), []).append(word)
    return {w for members in groups.values() if len(members) > 1 for w in members}


def _token(raw: str) -> str:
    if raw.isalpha():
        return raw.lower()
    if raw.isdigit():
        return raw if raw == "1" else NUMBER
    return BOUNDARY


def tokens(text: str) -> list[str]:
    """Lower-cased words, ``1``, ``<num>`` for other numbers, ``<s>`` for sentence punctuation."""
    return [_token(m.group()) for m in TOKEN_RE.finditer(text)]


def count_contexts(corpora: Path, targets: set[str]) -> Counter[tuple[str, str, str]]:
    """``(side, left-or-word, word-or-right)`` counts around every target word."""
    pairs: Counter[tuple[str, str, str]] = Counter()
    for text in clean_texts(corpora):
        toks = [BOUNDARY, *tokens(text), BOUNDARY]
        for i in range(1, len(toks) - 1):
            if toks[i] in targets:
                pairs["U", toks[i], ""] += 1
                pairs["L", toks[i - 1].translate(FOLD), toks[i]] += 1
                pairs["R", toks[i], toks[i + 1].translate(FOLD)] += 1
    return pairs


def encode_contexts(pairs: Counter[tuple[str, str, str]]) -> bytes:
    """The gzipped context lines, most frequent first."""
    lines = (f"{s}\t{a}\t{b}\t{n}\n" for (s, a, b), n in pairs.most_common() if n >= CONTEXT_MIN)
    return gzip.compress("".join(lines).encode("utf-8"), compresslevel=9, mtime=0)


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
    targets = ambiguous_words(counts) | ONE_OR_I
    contexts = encode_contexts(count_contexts(args.corpora, targets))
    contexts_out = args.out.with_name(CONTEXTS_OUT.name)
    contexts_out.write_bytes(contexts)
    print(f"{contexts_out}: contexts of {len(targets)} ambiguous words, {len(contexts)} bytes")


if __name__ == "__main__":
    main()
