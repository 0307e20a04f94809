"""Fmax against area of the HBFP GEMM array and its blocks, plain and `pipelined` (issue 18):
LUTs, FFs, DSPs and ECP5 Fmax (nextpnr-ecp5, LFE5U-25F speed 6, register to register through
the Fmax wrapper of synth/flow.py, DSPs allowed), one row per (design, pipelined).

    .venv/bin/python benchmarks/timing_gemm.py -o docs/results/timing_gemm.jsonl
    .venv/bin/python benchmarks/timing_gemm.py --designs pe column2 -o /tmp/t.jsonl

Designs (BFP8/8: fp32 in and out, T = 8, rne, the config of `lpmac synth gemm --rows 2 --cols 2
--tile 8 --mant 8`): `pe` one ProcessingElement; `column2` a ColumnAccumulator for 2 rows;
`feed_a2` / `feed_b2` the array's A / B OperandFeed with 2 lanes; `array2x2` / `array4x4` the
whole BfpGemmArray (= `lpmac synth gemm --rows R --cols C --tile 8 --target ecp5 --flat
[--pipelined]`); `+dsp`: pipelined with `--ecp5-dsp` (the PEs' operand registers inside the
MULT18X18D blocks). Each row records the sha256 of the Verilog and the commit; a rerun recomputes
the rows whose Verilog changed. Synthesis goes through the sweep's result cache. On ECP5 every
LUT is a LUT4 (inverters included), so `luts` is LUT1..6 + INV by construction. `MAC/s per
LUT` for the arrays = R*C MACs per cycle (steady state, T >= max(R, C)) x Fmax / LUTs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
from pathlib import Path

from amaranth.back import verilog

from lpmac.config import GemmConfig
from lpmac.hdl.gemm import (
    BfpGemmArray,
    ColumnAccumulator,
    OperandFeed,
    ProcessingElement,
    gemm_acc_width,
)
from lpmac.hdl.generate import strip_element_wires
from lpmac.synth.flow import SynthError
from lpmac.synth.sweep import cached_synthesize

CFG = GemmConfig.parse("BFP8/8")
DESIGNS = (
    "pe",
    "column2",
    "feed_a2",
    "feed_b2",
    "array2x2",
    "array4x4",
    "pe+dsp",
    "array2x2+dsp",
    "array4x4+dsp",
)
MACS_PER_CYCLE = {"array2x2": 4, "array4x4": 16}


def _feed(lanes: int, side: str, pipelined: bool) -> OperandFeed:
    kwargs = dict(sr_bits=CFG.sr_bits, sr_seed=CFG.sr_seed)
    if side == "a":
        kwargs.update(tag_bits=1, zero_idle=False, serial_side=True)
    else:
        kwargs.update(lane_offset=CFG.T)
    return OperandFeed(CFG.in_fmt, CFG.bfp, lanes, CFG.rounding, pipelined=pipelined, **kwargs)


def component(design: str, pipelined: bool):
    """`+dsp`: pipelined with the PEs' operand registers in MULT18X18D blocks (--ecp5-dsp)."""
    acc_width = gemm_acc_width(CFG.m, CFG.T)
    design, dsp = design.removesuffix("+dsp"), design.endswith("+dsp")
    if design == "pe":
        return ProcessingElement(CFG.m, acc_width, True, pipelined, dsp)
    if design == "column2":
        return ColumnAccumulator(CFG, 2, acc_width, pipelined)
    if design.startswith("feed_"):
        return _feed(int(design[-1]), design[5], pipelined)
    rows, cols = (int(x) for x in design.removeprefix("array").split("x"))
    return BfpGemmArray(rows, cols, CFG, pipelined=pipelined, ecp5_dsp=dsp)


def verilog_of(design: str, pipelined: bool) -> tuple[str, str, str]:
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    top = f"{design.replace('+dsp', '_ecp5dsp')}{'_pipe' if pipelined else ''}"
    text = verilog.convert(
        component(design, pipelined), name=top, emit_src=False, strip_internal_attrs=True
    )
    text = strip_element_wires(text)
    return text, top, hashlib.sha256(text.encode()).hexdigest()


def commit() -> str:
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "lpmac", "hdl"]).returncode
    return (head.stdout.strip() or "unknown") + ("-dirty" if dirty else "")


def run_point(design: str, pipelined: bool, head: str) -> dict:
    text, top, sha = verilog_of(design, pipelined)
    row = {"design": design, "pipelined": pipelined, "verilog_sha256": sha, "commit": head}
    try:
        result = cached_synthesize(text, top, target="ecp5", fmax=True, use_dsp=True)
    except SynthError as err:
        return {**row, "error": str(err).strip().splitlines()[-1][:200]}
    keep = ("luts", "ffs", "dsps", "carry", "fmax_mhz", "seconds")
    return {**row, **{k: result[k] for k in keep}}


def table(rows: list[dict]) -> str:
    lines = [
        "| design | pipelined | LUTs | FFs | DSPs | Fmax MHz | MAC/s per LUT |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {d: i for i, d in enumerate(DESIGNS)}
    for r in sorted(rows, key=lambda r: (order.get(r["design"], 99), r["pipelined"])):
        yes = "yes" if r["pipelined"] else "no"
        if "error" in r:
            lines.append(f"| {r['design']} | {yes} | {r['error']} |||||")
            continue
        macs = MACS_PER_CYCLE.get(r["design"].removesuffix("+dsp"))
        per_lut = f"{macs * r['fmax_mhz'] * 1e6 / r['luts']:,.0f}" if macs else "–"
        lines.append(
            f"| {r['design']} | {yes} | {r['luts']:,} | {r['ffs']:,} | {r['dsps']} "
            f"| {r['fmax_mhz']:.1f} | {per_lut} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--designs", nargs="+", choices=DESIGNS, default=list(DESIGNS))
    parser.add_argument("--plain-only", action="store_true", help="skip the pipelined rows")
    parser.add_argument("-o", "--out", type=Path, required=True, help="JSON-lines results")
    args = parser.parse_args()
    rows = [json.loads(x) for x in args.out.read_text().splitlines()] if args.out.exists() else []
    have = {(r["design"], r["pipelined"]): r for r in rows}
    head = commit()
    for design in args.designs:
        builds = (False,) if args.plain_only else (False, True)
        for pipelined in (True,) if design.endswith("+dsp") else builds:
            old = have.get((design, pipelined))
            if old and old.get("verilog_sha256") == verilog_of(design, pipelined)[2]:
                continue
            row = run_point(design, pipelined, head)
            have[(design, pipelined)] = row
            args.out.write_text("".join(json.dumps(r) + "\n" for r in have.values()))
            what = row.get("error") or f"{row['fmax_mhz']} MHz, {row['luts']} LUTs"
            print(f"{design} pipelined={pipelined}: {what}", flush=True)
    print(f"\n{table(list(have.values()))}")


if __name__ == "__main__":
    main()
