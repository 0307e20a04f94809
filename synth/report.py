"""Sweep reports: results.csv, results.json, results.md and results.png from result rows.

A row is a dict as `run_sweep` returns it; keys beyond the standard ones (e.g. reference
columns added by the caller) become extra columns after the standard ones. `mac_per_s_per_lut`
is derived here from Fmax and LUTs (`add_throughput`), never stored in the point cache.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

from matplotlib.figure import Figure  # Figure without pyplot renders with Agg, no global backend

NUMERIC_FIELDS = (
    "luts",
    "carry",
    "muxf",
    "ffs",
    "dsps",
    "brams",
    "fmax_mhz",
    "mac_per_s_per_lut",
)
_HEAD = ("unit", "config", "target", "options", "status")
_TAIL = ("seconds", "yosys_version", "nextpnr_version")
_NESTED = ("luts_by_size", "cells")  # only in results.json
_MD_NAMES = {
    "luts": "LUTs",
    "carry": "carry",
    "muxf": "MUXF",
    "ffs": "FFs",
    "dsps": "DSPs",
    "brams": "BRAM",
    "fmax_mhz": "Fmax (MHz)",
    "mac_per_s_per_lut": "MAC/s per LUT",
}


# Printed under every table: what the LUTs column counts (flow.py's _LUT_CELLS).
LUT_LEGEND = (
    "LUTs = LUT1..LUT6 + INV cells (+ SRL shift registers, one LUT each); results.csv and "
    "results.json break them down by cell."
)


# Units whose configuration starts with their size `RxC:`: R x C processing elements, each
# doing one MAC per cycle at full rate.
ARRAY_UNITS = ("array", "gemm", "system")
# Printed under tables with an Fmax column: what the throughput column counts.
THROUGHPUT_LEGEND = (
    "MAC/s per LUT = results per cycle x Fmax / LUTs, at full rate (one input accepted every "
    "cycle): one result (product, sum, MAC step, conversion) per cycle for a single unit, "
    "R x C MACs per cycle for an R x C array (array, gemm, system); empty without an Fmax."
)


def results_per_cycle(unit: str, config: str) -> int:
    """Results a unit delivers per cycle at full rate: R x C for an `RxC:...` array, else 1."""
    if unit in ARRAY_UNITS:
        rows, x, cols = config.split(":")[0].lower().partition("x")
        if x and rows.isdigit() and cols.isdigit():
            return int(rows) * int(cols)
        raise ValueError(f"{unit} config {config!r} does not start with RxC:")
    return 1


def throughput_per_lut(unit: str, config: str, fmax_mhz, luts) -> float | None:
    """MAC/s per LUT (results per cycle x Fmax / LUTs); None without an Fmax or a LUT count."""
    if fmax_mhz is None or not luts:
        return None
    return results_per_cycle(unit, config) * fmax_mhz * 1e6 / luts


def add_throughput(rows: list[dict]) -> None:
    """Set `mac_per_s_per_lut` (whole MAC/s per LUT, None without Fmax) on every row that has
    a result; derived at report time from `fmax_mhz` and `luts`."""
    for row in rows:
        if "luts" in row:
            value = throughput_per_lut(row["unit"], row["config"], row.get("fmax_mhz"), row["luts"])
            row["mac_per_s_per_lut"] = None if value is None else round(value)


def lut_cell_order(name: str) -> tuple:
    """LUT1..LUT6, then INV, then the rest (SRLs) by name: the order of breakdowns."""
    if name.startswith("LUT") and name[3:].isdigit():
        return (0, int(name[3:]), "")
    return (1, 0, "") if name == "INV" else (2, 0, name)


def _options(row: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in row["options"].items())


def _extra_columns(rows: list[dict]) -> list[str]:
    known = {*_HEAD, *NUMERIC_FIELDS, *_TAIL, *_NESTED, "error"}
    extra: dict[str, None] = {}  # ordered set, in first-seen order
    for row in rows:
        extra.update(dict.fromkeys(k for k in row if k not in known))
    return list(extra)


def write_csv(rows: list[dict], path: Path) -> None:
    lut_sizes = sorted(
        {size for row in rows for size in row.get("luts_by_size", {})}, key=lut_cell_order
    )
    columns = [
        *_HEAD,
        "luts",
        *lut_sizes,
        *NUMERIC_FIELDS[1:],
        *_TAIL,
        *_extra_columns(rows),
        "error",
    ]
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, columns, extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, **row.get("luts_by_size", {}), "options": _options(row)})


def _md_columns(rows: list[dict]) -> list[str]:
    """Standard columns, each numeric field followed by its reference and ratio when rows carry
    them (`ref_luts`, `luts_ratio`), then the remaining extra columns; empty columns dropped."""
    extra = _extra_columns(rows)
    columns = ["unit", "config", "target", "options"]
    for name in NUMERIC_FIELDS:
        columns += [c for c in (name, f"ref_{name}", f"{name}_ratio") if c == name or c in extra]
    columns += [c for c in extra if c not in columns]
    keep = [
        c
        for c in columns
        if c in ("unit", "config", "luts")
        or any(r.get(c) not in (None, "", {}) for r in rows)
        or (c == "options" and any(r["options"] for r in rows))
    ]
    return keep + ["status"]


def write_markdown(rows: list[dict], path: Path, header: str = "") -> None:
    columns = _md_columns(rows)
    names = [
        _MD_NAMES.get(c)
        or (
            f"ref {_MD_NAMES[c[4:]]}"
            if c.startswith("ref_") and c[4:] in _MD_NAMES
            else f"{_MD_NAMES[c[:-6]]} ours/ref"
            if c.endswith("_ratio") and c[:-6] in _MD_NAMES
            else c
        )
        for c in columns
    ]
    lines = [header.rstrip() + "\n"] if header else []
    lines += ["| " + " | ".join(names) + " |", "|" + "---|" * len(columns)]
    for row in rows:
        cells = {**row, "options": _options(row)}
        if row["status"] == "failed":
            cells["status"] = "failed: " + (row["error"].splitlines() or [""])[-1]
        if cells.get("mac_per_s_per_lut") is not None:
            cells["mac_per_s_per_lut"] = f"{cells['mac_per_s_per_lut']:,}"
        text = ("" if cells.get(c) is None else str(cells[c]).replace("|", "\\|") for c in columns)
        lines.append("| " + " | ".join(text) + " |")
    lines += ["", LUT_LEGEND]
    if "mac_per_s_per_lut" in columns:
        lines += ["", THROUGHPUT_LEGEND]
    path.write_text("\n".join(lines) + "\n")


def write_plot(rows: list[dict], path: Path) -> None:
    """Horizontal bars of LUTs per point; a second bar per point when rows carry `ref_luts`."""
    labels = [
        "/".join(filter(None, (r["unit"], r["config"], r["target"], _options(r)))) for r in rows
    ]
    ours = [r.get("luts") or 0 for r in rows]
    refs = [r.get("ref_luts") for r in rows]
    has_ref = any(v is not None for v in refs)
    fig = Figure(figsize=(8, 1.5 + 0.35 * len(rows)), layout="constrained")
    ax = fig.add_subplot()
    pos = range(len(rows))
    height = 0.4 if has_ref else 0.8
    ours_pos = [p - height / 2 * has_ref for p in pos]
    ax.barh(ours_pos, ours, height, label="ours (open flow)")
    if has_ref:
        ax.barh([p + height / 2 for p in pos], [v or 0 for v in refs], height, label="reference")
        ax.legend()
    for p, row in zip(ours_pos, rows):
        if row["status"] == "failed":
            ax.text(0, p, " failed", va="center", color="red")
    ax.set_yticks(list(pos), labels)
    ax.invert_yaxis()  # first point on top, as in the tables
    ax.set_xlabel("LUTs")
    fig.savefig(path, dpi=100)


def write_reports(rows: list[dict], out_dir: Path, header: str = "") -> dict[str, Path]:
    """Write all four reports into `out_dir`; return their paths by format. `header` (Markdown,
    e.g. the title and the command that produced the sweep) opens results.md. Adds the derived
    `mac_per_s_per_lut` to `rows` (add_throughput)."""
    add_throughput(rows)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths = {ext: out_dir / f"results.{ext}" for ext in ("csv", "json", "md", "png")}
    write_csv(rows, paths["csv"])
    paths["json"].write_text(json.dumps(rows, indent=1) + "\n")
    write_markdown(rows, paths["md"], header)
    write_plot(rows, paths["png"])
    return paths


def format_result(result) -> str:
    """A SynthResult as a short human-readable table."""
    by_size = sorted(result.luts_by_size.items(), key=lambda kv: lut_cell_order(kv[0]))
    sizes = ", ".join(f"{k} {v}" for k, v in by_size)
    rows = [
        ("unit", f"{result.unit} {result.config}"),
        ("target", result.target),
        ("LUTs", f"{result.luts}" + (f"  ({sizes})" if sizes else "")),
        ("carry", result.carry),
        ("MUXF", result.muxf),
        ("FFs", result.ffs),
        ("DSPs", result.dsps),
        ("BRAM (18Kb)", result.brams),
    ]
    if result.fmax_mhz is not None:
        rows.append(("Fmax", f"{result.fmax_mhz:.1f} MHz"))
        per_lut = throughput_per_lut(result.unit, result.config, result.fmax_mhz, result.luts)
        if per_lut is not None:
            per_cycle = results_per_cycle(result.unit, result.config)
            rows.append(("MAC/s / LUT", f"{per_lut:,.0f}  ({per_cycle} per cycle x Fmax / LUTs)"))
    rows += [("tool", result.yosys_version), ("seconds", f"{result.seconds:.1f}")]
    return "\n".join(f"{k:<12} {v}" for k, v in rows)
