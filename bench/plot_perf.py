"""Plot build time and query latency (p95) against corpus size, one line per system."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_report import _all_samples, pct


def _series(result: dict, value) -> dict[str, tuple[list[int], list[float]]]:
    out: dict[str, tuple[list[int], list[float]]] = {}
    for size in result["sizes"].values():
        for peer, res in size["peers"].items():
            v = value(res)
            if v is None:
                continue
            xs, ys = out.setdefault(peer, ([], []))
            xs.append(size["units"])
            ys.append(v)
    return out


def _in_process_p95(res: dict) -> float | None:
    ms = res.get("query", {}).get("ms")
    return pct(_all_samples(ms), 95) if ms else None


def _e2e_p95(res: dict) -> float | None:
    ms = res.get("e2e_ms")
    return pct(_all_samples(ms), 95) if ms else None


def plot(result: dict, dest: Path) -> None:
    """Three panels (build s, in-process p95 ms, end-to-end p95 ms) against units, log scales."""
    panels = [
        ("full build (s)", lambda r: r["build"]["seconds"]),
        ("query p95 in process (ms)", _in_process_p95),
        ("query p95 end to end (ms)", _e2e_p95),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    for ax, (title, value) in zip(axes, panels, strict=True):
        for peer, (xs, ys) in _series(result, value).items():
            ax.plot(xs, ys, marker="o", label=peer, linewidth=2.5 if peer == "protokollsok" else 1.2)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("units in the index")
        ax.set_title(title)
        ax.grid(True, which="both", alpha=0.3)
    axes[0].legend(fontsize=8)
    mode = "quick mode" if result.get("quick") else "full mode"
    fig.suptitle(f"protokollsök and peers, {result['machine']['date_utc']} ({mode})")
    fig.tight_layout()
    fig.savefig(dest, dpi=90)
    plt.close(fig)


if __name__ == "__main__":
    src = Path(sys.argv[1])
    plot(json.loads(src.read_text(encoding="utf-8")), src.with_suffix(".png"))
