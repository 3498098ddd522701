"""A minimal search command for the Python peers, for end-to-end (fresh process) timing.

``python bench/peers/cli.py PEER INDEX_DIR QUERY_NAME`` runs one query of ``bench_queries`` and
prints the hit ids, one per line: the peer's import, open and query, as a user's command would.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench_queries import QUERIES
from peers import load


def main(argv: list[str]) -> int:
    """Run one named query against one peer's index."""
    peer, index_dir, name = argv
    query = next(q for q in QUERIES if q.name == name)
    search = load(peer).open_searcher(Path(index_dir))
    for hit in search(query):
        print(hit)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
