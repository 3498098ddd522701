"""The path of the data for one file: read -> clean -> split -> describe."""

from __future__ import annotations

from pathlib import Path

from protokollsok import ingest, metadata, normalize, segment
from protokollsok.model import Document, Unit


def units_of(path: str | Path, source: str | None = None) -> tuple[Document, list[Unit]]:
    """Read one file and return its cleaned document and its search units.

    Raises ``ParseError`` (or its subclass ``NoText``) when the file cannot be used.
    """
    doc = normalize.clean_document(ingest.read(path, source))
    return doc, metadata.extract(doc, segment.split(doc))
