"""Sweep points: grids from command-line lists, and the presets that reproduce the reference
slides' tables (docs/reference.md, from the seed document; Vitis HLS 2020.2 + Vivado, ZCU104)
with the reference's numbers beside ours.

A point names its unit by one configuration string (`lpmac.units.parse_point`), so a cached
result, a CSV row and a command line all say the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from lpmac import units
from lpmac.limits import check_design
from lpmac.units import parse_point

from .point_cache import warn
from .sweep import Point


@dataclass(frozen=True)
class Row:
    """A preset row: the point, the reference's LUT/DSP numbers (None where the slides give none)
    and a note saying what the reference row is."""

    point: Point
    ref_luts: int | None = None
    ref_dsps: int | None = None
    note: str = ""

    def reference(self) -> dict:
        return {"ref_luts": self.ref_luts, "ref_dsps": self.ref_dsps, "note": self.note}


def _mul(fmt: str, cfg: int = 1, ref=(None, None), note: str = "", dsp: bool = True) -> Row:
    options = () if dsp else (("use_dsp", False),)
    return Row(Point("mul", f"{fmt}:cfg{cfg}", options=options), *ref, note)


def _unit(unit: str, config: str, ref=(None, None), note: str = "") -> Row:
    return Row(Point(unit, config), *ref, note)


# Reference multiplier table ("I/O precision | LUTs | DSPs"): CFG-1 floats, fixed rounded to
# the input type.
SEED_MULT = [
    _mul("fp32", ref=(987, 0), note="FP32 (no DSP)", dsp=False),
    _mul("fp32", ref=(374, 2), note="FP32"),
    _mul("fp16", ref=(195, 1), note="FP16"),
    _mul("bf16", ref=(180, 1), note="bfloat16"),
    _mul("E6M3", ref=(115, 0), note="E6M3 (CFG-1)"),
    _mul("E5M3", ref=(86, 0), note="E5M3 (CFG-1)"),
    _mul("E4M3", ref=(78, 0), note="E4M3 (CFG-1)"),
    _unit("fixmul", "Q16.16", (279, 4), "Q16.16"),
    _unit("fixmul", "Q8.8", (106, 1), "Q8.8"),
    _unit("fixmul", "Q7.7", (93, 1), "Q7.7"),
    _unit("fixmul", "Q6.6", (81, 1), "Q6.6"),
]

# The slides plot CFG-1..6 (the figure is lost in the text copy) and state "over 50% area
# reduction going from CFG-1 to CFG-5/CFG-6"; the CFG-1 rows of the multiplier table are given.
_CFG1_REF = {"E4M3": 78, "E5M3": 86, "E6M3": 115}
SEED_CFG = [
    _mul(
        fmt,
        cfg,
        (_CFG1_REF.get(fmt), 0) if cfg == 1 and fmt in _CFG1_REF else (None, None),
        "table: CFG-1" if cfg == 1 and fmt in _CFG1_REF else "",
    )
    for fmt in ("E4M3", "E5M2", "E5M3", "E6M3")
    for cfg in range(1, 7)
]

# Reference accumulator table: the accumulator adds the CFG-5 multiplier's products, so a float
# accumulator EaMb takes the product format (no NaN encoding after CFG-4) as its input.
_ACC_ROWS = [
    ("fp32", "fp32", (189, 2), "FP32 (FP32 products)"),
    ("E7M7", "E6M3", (255, 0), "E7M7 (E6M3 CFG-5 products)"),
    ("E7M5", "E6M2", (185, 0), "E7M5 (E6M2 CFG-5 products)"),
    ("E7M3", "E6M1", (187, 0), "E7M3 (E6M1 CFG-5 products)"),
    ("E6M7", "E5M3", (242, 0), "E6M7 (E5M3 CFG-5 products)"),
    ("E6M5", "E5M2", (187, 0), "E6M5 (E5M2 CFG-5 products)"),
    ("E6M3", "E5M1", (165, 0), "E6M3 (E5M1 CFG-5 products)"),
]
SEED_ACC = [
    _unit("acc", acc if src == "fp32" else f"{acc}@{acc}-inf", ref, note)
    for acc, src, ref, note in _ACC_ROWS
]
SEED_ACC += [
    _unit("acc", q, (ref, 0), q)
    for q, ref in (("Q16.16", 89), ("Q8.13", 55), ("Q8.8", 43), ("Q7.7", 35), ("Q6.6", 32))
]
SEED_ACC += [
    _unit(
        "convert",
        "E7M7-inf->Q8.13",
        (116, 0),
        "converter to Q8.13 in the E6M3/E7M7 row: the product format",
    ),
    _unit("convert", "E6M3->Q8.13", (116, 0), "the same reference row read as E6M3 -> Q8.13"),
]

# Full MACs. The slides give MACs only as system totals (16x4 array, 42,640 / 43,471 LUTs); the
# per-unit reference is the sum of its parts where the tables give them.
SEED_MAC = [
    _unit(
        "mac", "E5M2:cfg5+E6M5", (None, 0), "parts: E5M2 CFG-5 mult (not tabulated) + E6M5 acc 187"
    ),
    _unit(
        "mac",
        "E5M2:cfg5+Q8.13",
        (None, 0),
        "parts: E5M2 CFG-5 mult (not tabulated) + converter + Q8.13 acc 55",
    ),
    _unit(
        "mac",
        "fp32:cfg1+fp32",
        (374 + 189, 2 + 2),
        "sum of parts: FP32 mult 374+2 DSP, FP32 acc 189+2 DSP",
    ),
    _mul("E5M2", 5, note="part: multiplier"),
    _unit("acc", "E6M5@E6M5-inf", (187, 0), "part: accumulator"),
    _unit("convert", "E6M5-inf->Q8.13", note="part: product -> Q8.13 converter"),
    _unit("acc", "Q8.13", (55, 0), "part: accumulator"),
]

# The reference's 16x4 systems (fp32 feeds and results; docs/reference.md) and the HBFP array
# of the same shape. Synthesized hierarchically (synth/system_presets.py, synth/hierarchy.py):
# flat, one 16x4 system takes 10-45 minutes.
SEED_SYSTEM = [
    _unit("system", "16x4:fp32:cfg1+fp32", (58420, 320), "FP32 system"),
    _unit("system", "16x4:E5M2:cfg5+E6M5", (42640, 0), "E5M2 (CFG-5) + E6M5"),
    _unit("system", "16x4:E5M2:cfg5+Q8.13", (43471, 0), "E5M2 (CFG-5) + Q8.13"),
    _unit("system", "16x4:E5M2:cfg5+Q11.13", (44876, 0), "E5M2 (CFG-5) + Q11.13"),
    _unit("gemm", "16x4:BFP8/24", note="HBFP BFP8/24 array (not in the reference)"),
]

PRESETS: dict[str, tuple[str, list[Row]]] = {
    "seed-mult": (
        "Multipliers of the reference table (FP32 with and without DSP, FP16, bfloat16, "
        "CFG-1 E6M3/E5M3/E4M3, fixed Q16.16..Q6.6)",
        SEED_MULT,
    ),
    "seed-cfg": (
        "CFG-1..6 multipliers for E4M3, E5M2, E5M3, E6M3 (reference: >50% reduction CFG-1 "
        "-> CFG-5/6)",
        SEED_CFG,
    ),
    "seed-acc": ("Accumulators of the reference table and the converter to Q8.13", SEED_ACC),
    "seed-mac": ("Full MAC units E5M2:cfg5+E6M5, E5M2:cfg5+Q8.13, FP32, and their parts", SEED_MAC),
    "seed-system": (
        "The reference's 16x4 MAC systems (FP32; E5M2 CFG-5 + E6M5, Q8.13, Q11.13) and the "
        "HBFP BFP8/24 array, synthesized hierarchically, with each system's LUTs against the "
        "FP32 system beside the reference's",
        SEED_SYSTEM,
    ),
}

# Presets whose points are whole systems: synthesized block by block (synth/system_presets.py).
HIERARCHICAL_PRESETS = frozenset({"seed-system"})


def preset_rows(name: str, target: str = "xcup") -> list[Row]:
    if name not in PRESETS:
        raise ValueError(f"unknown preset {name!r}; presets are {', '.join(PRESETS)}")
    return [
        Row(
            Point(r.point.unit, r.point.config, target, r.point.options),
            r.ref_luts,
            r.ref_dsps,
            r.note,
        )
        for r in PRESETS[name][1]
    ]


def with_fmax(row: Row) -> Row:
    """The same row, also placed and routed for Fmax (ecp5 points only)."""
    point = Point(
        row.point.unit, row.point.config, row.point.target, row.point.options + (("fmax", True),)
    )
    return Row(point, row.ref_luts, row.ref_dsps, row.note)


_MAX_RANGE = 1024


def parse_range(text: str) -> list[int]:
    """'1-6' or '1,3,5' or '1-3,5' -> sorted unique integers."""
    values: set[int] = set()
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, dash, hi = part.partition("-")
        if not lo.isdigit() or (dash and not hi.isdigit()):
            raise ValueError(f"range {text!r}: expected numbers like 1-6 or 1,3,5")
        if int(hi if dash else lo) - int(lo) > _MAX_RANGE:  # '1-999999999' is not a grid
            raise ValueError(f"range {text!r}: a span holds at most {_MAX_RANGE} numbers")
        values.update(range(int(lo), int(hi if dash else lo) + 1))
    if not values:
        raise ValueError(f"range {text!r} is empty")
    return sorted(values)


def grid_rows(
    unit: str,
    *,
    fmts: list[str] = (),
    cfgs: list[int] = (),
    configs: list[str] = (),
    targets: list[str] = ("xcup",),
    use_dsp: bool = True,
) -> list[Row]:
    """Cross product of formats x CFGs (mul), formats (fixmul) or explicit config strings, x
    targets. Every point is validated here (configuration and the synthesis size limit of
    lpmac.limits), so a bad grid fails before anything is synthesized. Points that name the
    same design in other words (`fp16` and `E5M10`, `E5M2,E5M2`) are kept once, first
    spelling first, with a warning: each design is synthesized and listed once."""
    spec = units.get(unit)
    if cfgs and not spec.cfg_axis:
        users = [s.name for s in units.specs() if s.cfg_axis]
        raise ValueError(f"--cfg applies to --unit {', '.join(users)} only")
    if fmts:
        configs = spec.grid(fmts, cfgs) if spec.grid else list(fmts)
    if not configs:
        raise ValueError(f"nothing to sweep: give --fmt (and --cfg) or --config for --unit {unit}")
    options = () if use_dsp else (("use_dsp", False),)
    rows, seen, repeated = [], {}, []
    for config in configs:
        kwargs = parse_point(unit, config, use_dsp)
        check_design(unit, kwargs, "synth")
        design = repr(sorted(kwargs.items()))
        if design in seen:
            repeated.append(f"{config} = {seen[design]}" if config != seen[design] else config)
            continue
        seen[design] = config
        rows += [Row(Point(unit, config, t, options)) for t in dict.fromkeys(targets)]
    if repeated or len(set(targets)) < len(targets):
        warn(f"repeated grid point(s) kept once: {'; '.join(repeated) or 'targets'}")
    return rows


def make_verilog(point: Point) -> tuple[str, str]:
    from lpmac.hdl.generate import build, to_verilog

    unit = build(
        point.unit,
        **parse_point(point.unit, point.config, dict(point.options).get("use_dsp", True)),
    )
    return to_verilog(unit), unit.name


def add_cfg1_ratio(rows: list[dict]) -> None:
    """For multiplier rows: `luts_vs_cfg1` = LUTs / LUTs of CFG-1 for the same format, target
    and synthesis options (a LUT-only row is compared with the LUT-only CFG-1)."""

    def key(r):
        return r["config"].split(":")[0], r["target"], tuple(sorted(r["options"].items()))

    cfg1 = {
        key(r): r.get("luts")
        for r in rows
        if r["unit"] == "mul" and r["config"].endswith(":cfg1") and r["status"] == "ok"
    }
    for r in rows:
        if r["unit"] != "mul" or r["status"] != "ok":
            continue
        base = cfg1.get(key(r))
        if base:
            r["luts_vs_cfg1"] = round(r["luts"] / base, 3)
