"""results.csv / results.json / results.md / results.png of a study."""

from __future__ import annotations

import csv
import json
from pathlib import Path

from matplotlib.figure import Figure  # no pyplot: renders with Agg, no global backend

COLUMNS = [
    ("config", "config"),
    ("model", "model"),
    ("loss_scaling", "loss scaling"),
    ("edge_rounding", "edge rounding"),
    ("batch", "batch"),
    ("luts", "MAC LUTs"),
    ("dsps", "MAC DSPs"),
    ("system_luts", "16x4 system LUTs"),
    ("acc_mean", "test acc % (mean)"),
    ("acc_std", "std"),
    ("delta_vs_float32", "Δ vs float32"),
    ("seeds", "seeds"),
    ("train_seconds", "train s / run"),
    ("skipped_steps", "skipped steps"),
    ("dgrad_underflow_pct", "dgrad inputs → 0 %"),
    ("wgrad_underflow_pct", "wgrad inputs → 0 %"),
    ("fwd_saturated_pct", "fwd sat. %"),
    ("dgrad_saturated_pct", "dgrad sat. %"),
    ("wgrad_saturated_pct", "wgrad sat. %"),
    ("note", "note"),
]


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}" if abs(value) < 1e4 else f"{value:,.0f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}" if value >= 10000 else str(value)
    return str(value).replace("|", "\\|")


def write_csv(rows: list[dict], path: Path) -> None:
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow([key for key, _ in COLUMNS] + ["acc_runs"])
        for r in rows:
            values = [r.get(key) for key, _ in COLUMNS]
            writer.writerow(["" if v is None else v for v in values] + [r.get("acc_runs")])


def write_markdown(rows: list[dict], path: Path, header: str = "") -> None:
    # Columns that are empty in every row (e.g. saturation without fixed accumulators) go.
    cols = [(k, t) for k, t in COLUMNS if any(r.get(k) not in (None, "", 0, 0.0) for r in rows)]
    cols = [c for c in COLUMNS if c in cols or c[0] in ("config", "system_luts", "acc_mean")]
    lines = [header.rstrip(), ""] if header else []
    lines.append("| " + " | ".join(t for _, t in cols) + " |")
    lines.append("|" + "---|" * len(cols))
    for r in rows:
        lines.append("| " + " | ".join(_cell(r.get(k)) for k, _ in cols) + " |")
    path.write_text("\n".join(lines) + "\n")


def write_plot(rows: list[dict], path: Path, title: str = "") -> None:
    """Test accuracy (mean, std as error bar) against MAC LUTs for the study's main rows (no
    per-row overrides; the targeted experiments are in the table); the float32 baseline,
    which has no unit, is a dashed line. A row whose area is not a whole MAC (an HBFP PE)
    gets a hollow marker."""
    fig = Figure(figsize=(8, 5), layout="constrained")
    ax = fig.add_subplot()
    main = [r for r in rows if not r.get("overrides")]
    # Collapsed rows (near chance) would squash the axis: listed in a note instead.
    good = [r["acc_mean"] for r in main if r["acc_mean"] >= 50]
    floor = max(0.0, min(good) - 3) if good else 0.0
    below = [r for r in main if r.get("luts") and r["acc_mean"] < floor]
    placed = [r for r in main if r.get("luts") and r not in below]
    for r in placed:
        partial = r.get("area_unit") not in (None, "", "mac")
        dsps = f", {r['dsps']} DSP" if r.get("dsps") else ""
        ax.errorbar(
            r["luts"],
            r["acc_mean"],
            yerr=r["acc_std"],
            fmt="o",
            mfc="none" if partial else None,
            capsize=3,
            label=f"{r['config']}{' (PE only)' if partial else ''}: {r['luts']} LUTs{dsps}",
        )
    for r in main:
        if not r.get("luts") and r["config"] == "float32":
            ax.axhline(
                r["acc_mean"],
                color="grey",
                linestyle="--",
                linewidth=1,
                label=f"float32 (software): {r['acc_mean']:.2f} %",
            )
    frontier = _pareto([r for r in placed if r.get("area_unit") == "mac"])
    if len(frontier) > 1:
        ax.plot(
            [r["luts"] for r in frontier],
            [r["acc_mean"] for r in frontier],
            color="tab:red",
            linewidth=1,
            label="Pareto front (MAC units)",
        )
    if below:
        text = "below the axis: " + ", ".join(
            f"{r['config']} ({r['luts']} LUTs) {r['acc_mean']:.1f} %" for r in below
        )
        ax.annotate(text, (0.01, 0.01), xycoords="axes fraction", fontsize=8, color="tab:red")
    ax.set_ylim(floor, 100)
    ax.legend(loc="lower left", bbox_to_anchor=(0.0, 0.05), fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("LUTs of one MAC unit (Yosys synth_xilinx xcup)")
    ax.set_ylabel("test accuracy (%), mean ± std over seeds")
    ax.set_title(title or "Accuracy against MAC area")
    ax.grid(True, which="both", alpha=0.3)
    fig.savefig(path, dpi=120)


def _pareto(rows: list[dict]) -> list[dict]:
    """Rows no other row beats in both LUTs (fewer) and accuracy (higher), by LUTs."""
    best, front = float("-inf"), []
    for r in sorted(rows, key=lambda r: (r["luts"], -r["acc_mean"])):
        if r["acc_mean"] > best:
            front.append(r)
            best = r["acc_mean"]
    return front


def write_reports(rows: list[dict], out_dir: Path, header: str = "", title: str = "") -> None:
    out_dir.mkdir(parents=True, exist_ok=True)
    write_csv(rows, out_dir / "results.csv")
    (out_dir / "results.json").write_text(json.dumps(rows, indent=1) + "\n")
    write_markdown(rows, out_dir / "results.md", header)
    write_plot(rows, out_dir / "results.png", title)
