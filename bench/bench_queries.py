"""The fixed query mix of the performance benchmark, shared by protokollsök and every peer.

Each query has a category; latency is reported per category (p50/p95 over all runs of all its
queries). Words were picked by their document frequency in the volume corpus (``bench/units.py``):
"rare" words occur in well under 1 % of the units, "common" ones in 1.5-30 %. Phrases of common
words (``"i enlighet med"``) are the slow case of a positional index.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Query:
    """One benchmark query: free text (``"..."`` marks a phrase) plus optional filters."""

    name: str
    category: str  # rare | common | phrase | phrase_common | filtered | dnr
    text: str
    filters: dict[str, str] = field(default_factory=dict)  # namnd, parti, dnr, date_from, date_to

    @property
    def words(self) -> list[str]:
        """The query's words without quotes."""
        return self.text.replace('"', " ").split()

    @property
    def is_phrase(self) -> bool:
        """True when the whole query is one quoted phrase."""
        t = self.text.strip()
        return len(t) > 2 and t[0] == t[-1] == '"'


QUERIES: tuple[Query, ...] = (
    Query("trängselskatt", "rare", "trängselskatt"),
    Query("vattenskoter", "rare", "vattenskoter"),
    Query("kameraövervakning", "rare", "kameraövervakning"),
    Query("hedersrelaterat", "rare", "hedersrelaterat"),
    Query("regeringen", "common", "regeringen"),
    Query("barn", "common", "barn"),
    Query("skolan", "common", "skolan"),
    Query("kommunen budget", "common", "kommunen budget"),
    Query("våld i nära relationer", "phrase", '"våld i nära relationer"'),
    Query("psykisk ohälsa", "phrase", '"psykisk ohälsa"'),
    Query("i enlighet med", "phrase_common", '"i enlighet med"'),
    Query("det är viktigt att", "phrase_common", '"det är viktigt att"'),
    Query("skolan parti=SD", "filtered", "skolan", {"parti": "SD"}),
    Query(
        "budget KF 2024",
        "filtered",
        "budget",
        {"namnd": "Kommunfullmäktige", "date_from": "2024-01-01", "date_to": "2024-12-31"},
    ),
    Query(
        "äldreomsorg 2010-2014",
        "filtered",
        "äldreomsorg",
        {"date_from": "2010-01-01", "date_to": "2014-12-31"},
    ),
    Query("dnr 1193/22", "dnr", "1193/22"),
    Query("dnr SLK-2025-00338", "dnr", "SLK-2025-00338"),
)

CATEGORIES: tuple[str, ...] = tuple(dict.fromkeys(q.category for q in QUERIES))
