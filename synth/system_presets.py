"""The `seed-system` preset: the reference's 16x4 systems (docs/reference.md, the seed:
FP32 58,420 LUT + 320 DSP; E5M2 (CFG-5) + E6M5 42,640 LUT + 0 DSP (0.730x); + Q8.13 43,471
(0.744x); + Q11.13 44,876 (0.768x)) and the HBFP BFP8/24 array of the same shape, synthesized
hierarchically (synth/hierarchy.py) or flat, with each system's ratio to the FP32 system
beside the reference's.

The rows are PRESETS["seed-system"] (synth/presets.py); `lpmac sweep seed-system` and
benchmarks/system_area.py seed both run them through `run_system_sweep`.
"""

from __future__ import annotations

import json
from pathlib import Path

from .hierarchy import hierarchical_synthesize
from .presets import SEED_SYSTEM, Row
from .report import write_reports
from .sweep import Point

__all__ = [
    "SEED_SYSTEM",
    "SEED_SYSTEM_NOTES",
    "make_component",
    "run_system_sweep",
    "lutram_luts",
]

FP32_CONFIG = "16x4:fp32:cfg1+fp32"
_REF_FP32_LUTS = 58420

# What results.md says about the seed-system table (lpmac sweep and benchmarks/system_area.py).
SEED_SYSTEM_NOTES = (
    "A system (hdl/system.py, SPEC §8) is the 16x4 MacArray with fp32 -> input-format "
    "converters on the 16 row and 4 column feeds, and per column a readout register, an "
    "accumulator -> fp32 converter and a 33-entry FIFO: the output side of the HBFP array "
    "(`gemm`, last row), which already takes and gives fp32. `lutram_luts`: LUTs used as "
    "distributed RAM by the FIFOs (RAM32M16 = 8 LUTs), not included in LUTs. "
    "`luts_vs_fp32` is ours against our FP32 system, `ref_luts_vs_fp32` the reference's. "
    "blocks.json lists the blocks and glue each total is made of.\n\n"
    "Why our ratios are far below the reference's 0.73-0.77: the reference's systems carry "
    "about 22,000-27,000 LUTs beyond their MAC units (58,420 - 64 x (374 + 189) = 22,388 "
    "for FP32, whose units it tabulates), the same for every format, which pulls every "
    "ratio toward 1. Ours carry 1,600-3,300 LUTs of surroundings (converters, readout, "
    "FIFOs, glue), so the ratio is nearly the MAC units' ratio: an E5M2 CFG-5 MAC is "
    "189-232 LUTs and no DSP, the fp32 MAC 853 LUTs + 5 DSPs (the reference's fp32 "
    "parts: 563 LUTs + 4 DSPs, see qor.md; its FP32 system has 320 DSPs, 5 per MAC, as "
    "ours). The LP rows use 0 DSPs as the reference's do.\n"
)

# LUTs a Xilinx LUT-RAM cell occupies in a SLICEM (UG574): the flow counts them as cells only.
_LUTRAM_LUTS = {
    "RAM16X1D": 2,
    "RAM32X1D": 2,
    "RAM64X1D": 2,
    "RAM128X1D": 4,
    "RAM32X1S": 1,
    "RAM64X1S": 1,
    "RAM128X1S": 2,
    "RAM256X1S": 4,
    "RAM32M": 4,
    "RAM64M": 4,
    "RAM32M16": 8,
    "RAM64M8": 8,
}


def lutram_luts(cells: dict[str, int]) -> int:
    """LUTs used as distributed RAM (the column FIFOs), not included in `luts`."""
    return sum(n * _LUTRAM_LUTS.get(cell, 0) for cell, n in cells.items())


def make_component(point: Point):
    """(component, top module name) for a `system` or `gemm` point."""
    use_dsp = dict(point.options).get("use_dsp", True)
    if point.unit == "system":
        from lpmac.hdl.system import system_point, system_unit

        unit = system_unit(**system_point(point.config, use_dsp))
    elif point.unit == "gemm":
        from lpmac.hdl.generate import build
        from lpmac.units import parse_point

        unit = build("gemm", **parse_point("gemm", point.config, use_dsp))
    else:
        raise ValueError(f"seed-system points are `system` or `gemm`, not {point.unit!r}")
    return unit.component, unit.name


def run_system_sweep(
    rows: list[Row],
    out_dir: Path | None,
    *,
    flat: bool = False,
    jobs: int = 2,
    scheduler: str | None = None,
    header: str = "",
    cache_dir: Path | None = None,
) -> list[dict]:
    """Synthesize every row (hierarchically unless `flat`) and, with `out_dir`, write
    results.{csv,json,md,png} and blocks.json (glue and blocks per row): LUT/FF/DSP/BRAM,
    LUT-RAM LUTs, the ratio to the FP32 system (`luts_vs_fp32`) and the reference's
    (`ref_luts_vs_fp32`). Each row's blocks run on `jobs` threads or on `scheduler` (Dask)."""
    out, blocks = [], []
    for row in rows:
        point = row.point
        use_dsp = dict(point.options).get("use_dsp", True)
        record = {
            "unit": point.unit,
            "config": point.config,
            "target": point.target,
            "options": dict(point.options),
        }
        try:
            component, top = make_component(point)
            result = hierarchical_synthesize(
                component,
                top,
                flat=flat,
                target=point.target,
                use_dsp=use_dsp,
                jobs=jobs,
                scheduler=scheduler,
                cache_dir=cache_dir,
            )
        except Exception as exc:  # one failed row must not lose the others
            record.update(status="failed", error=f"{type(exc).__name__}: {exc}"[-2000:])
            out.append(record)
            continue
        record["status"] = "ok"
        record.update({k: v for k, v in result.items() if k not in ("glue", "blocks")})
        record["lutram_luts"] = lutram_luts(result["cells"])
        record.update(row.reference())
        if row.ref_luts:
            record["luts_ratio"] = round(record["luts"] / row.ref_luts, 3)
        record["ref_luts_vs_fp32"] = (
            round(row.ref_luts / _REF_FP32_LUTS, 3) if row.ref_luts else None
        )
        if "blocks" in result:
            blocks.append(
                {"config": point.config, "glue": result["glue"], "blocks": result["blocks"]}
            )
        out.append(record)
    fp32 = {  # per target: a multi-target sweep compares within its target
        r["target"]: r["luts"] for r in out if r["config"] == FP32_CONFIG and r["status"] == "ok"
    }
    for record in out:
        if record["target"] in fp32 and record["status"] == "ok":
            record["luts_vs_fp32"] = round(record["luts"] / fp32[record["target"]], 3)
    if out_dir is not None:
        write_reports(out, Path(out_dir), header)
        if blocks:  # what each hierarchical total is made of
            (Path(out_dir) / "blocks.json").write_text(json.dumps(blocks, indent=1) + "\n")
    return out
