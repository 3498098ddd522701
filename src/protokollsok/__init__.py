"""protokollsök: full-text search for Swedish municipal records.

The library is usable without the CLI::

    from protokollsok import build_index, search
"""

from __future__ import annotations

from protokollsok import lazy_imports

lazy_imports.install()  # before anything imports whoosh

__version__ = "0.1.0"

__all__ = ["__version__", "build_index", "search"]


def __getattr__(name: str):  # lazy: importing the package must not import whoosh
    if name == "build_index":
        from protokollsok.index import build_index

        return build_index
    if name == "search":
        from protokollsok.search import search

        return search
    raise AttributeError(name)
