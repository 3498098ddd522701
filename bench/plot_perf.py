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


def _cpu_p95(key: str):
    def value(res: dict) -> float | None:
        ms = res.get("query", {}).get("cpu_ms") if key == "query" else res.get("e2e_cpu_ms")
        return pct(_all_samples(ms), 95) if ms else None

    return value


def plot(result: dict, dest: Path) -> None:
    """Three panels (build s, in-process p95 ms, end-to-end p95 ms) against units, log scales;
    solid lines wall time, dashed lines CPU time (the machine is shared)."""
    panels = [
        ("full build (s)", lambda r: r["build"]["seconds"], lambda r: r["build"].get("cpu_seconds")),
        ("query p95 in process (ms)", _in_process_p95, _cpu_p95("query")),
        ("query p95 end to end (ms)", _e2e_p95, _cpu_p95("e2e")),
    ]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.5))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for ax, (title, wall, cpu) in zip(axes, panels, strict=True):
        for i, (peer, (xs, ys)) in enumerate(_series(result, wall).items()):
            color = colors[i % len(colors)]
            width = 2.5 if peer == "protokollsok" else 1.2
            ax.plot(xs, ys, marker="o", label=peer, linewidth=width, color=color)
            cx, cy = _series(result, cpu).get(peer, ([], []))
            if cy:
                ax.plot(cx, cy, marker="x", linestyle="--", linewidth=width * 0.7, color=color)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel("units in the index")
        ax.set_title(f"{title}; dashed: CPU time")
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
