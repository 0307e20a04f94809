"""Fmax and area of the GEMM array's operand feed alone (hdl/gemm_feed.py `OperandFeed`), with
the combinational FloatToBfp against the pipelined one (`pipelined=True`): LUTs, FFs and ECP5
Fmax (nextpnr-ecp5, LFE5U-25F speed 6, register to register through the Fmax wrapper of
synth/flow.py, which registers every input and output of the unit).

    .venv/bin/python benchmarks/timing_feed.py                    # 2 and 4 lanes, both sides
    .venv/bin/python benchmarks/timing_feed.py --lanes 2 --sides b --modes 0 1
    .venv/bin/python benchmarks/timing_feed.py --modes 1 --cuts 3   # tobfp_cuts(3), k = 3

The feeds are built as BfpGemmArray builds them for `lpmac synth gemm --rows R --cols C
--tile 8` (GemmConfig BFP8/8, fp32 in, rne): side `a` (R lanes, a final-tile tag, the serial
side register, no idle zeros) and side `b` (C lanes, lane_offset T). Points run one at a time
(one synthesis job) through the sweep's result cache, so a rerun of an unchanged design is read
back; each row records the sha256 of the Verilog.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import time

from lpmac.config import GemmConfig
from lpmac.hdl.convert_bfp import tobfp_cuts
from lpmac.hdl.gemm_feed import FEED_CUTS, OperandFeed
from lpmac.hdl.generate import strip_element_wires
from lpmac.synth.sweep import cached_synthesize

CFG = GemmConfig.parse("BFP8/8")


def build_feed(
    side: str, lanes: int, pipelined: bool, cuts: int | None = None, cfg: GemmConfig = CFG
) -> OperandFeed:
    """One side's feed as hdl/gemm.py builds it, plus `pipelined` (with the first `cuts`
    cut points of TOBFP_PLAN; None: FEED_CUTS)."""
    sr = dict(sr_bits=cfg.sr_bits, sr_seed=cfg.sr_seed)
    extra = {}
    if pipelined:
        extra = {"pipelined": True, "cuts": FEED_CUTS if cuts is None else tobfp_cuts(cuts)}
    if side == "a":
        return OperandFeed(
            cfg.in_fmt,
            cfg.bfp,
            lanes,
            cfg.rounding,
            tag_bits=1,
            zero_idle=False,
            serial_side=True,
            **sr,
            **extra,
        )
    return OperandFeed(cfg.in_fmt, cfg.bfp, lanes, cfg.rounding, lane_offset=cfg.T, **sr, **extra)


def feed_verilog(
    side: str, lanes: int, pipelined: bool, cuts: int | None = None
) -> tuple[str, str]:
    """(Verilog, top name) of one point, converted as hdl/generate.py's to_verilog does."""
    from amaranth.back import verilog

    feed = build_feed(side, lanes, pipelined, cuts)
    kind = f"pipe{feed.conv_latency}" if pipelined else "comb"
    top = f"feed_{side}{lanes}_{kind}"
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    text = verilog.convert(feed, name=top, emit_src=False, strip_internal_attrs=True)
    return strip_element_wires(text), top


def run_point(side: str, lanes: int, pipelined: bool, cuts: int | None = None) -> dict:
    text, top = feed_verilog(side, lanes, pipelined, cuts)
    start = time.monotonic()
    res = cached_synthesize(text, top, target="ecp5", use_dsp=True, fmax=True)
    return {
        "side": side,
        "lanes": lanes,
        "pipelined": pipelined,
        "k": len(FEED_CUTS if cuts is None else tobfp_cuts(cuts)) if pipelined else 0,
        "luts": res["luts"],
        "ffs": res["ffs"],
        "fmax_mhz": res["fmax_mhz"],
        "wall_s": round(time.monotonic() - start, 1),
        "verilog_sha256": hashlib.sha256(text.encode()).hexdigest(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lanes", nargs="+", type=int, default=[2, 4])
    parser.add_argument("--sides", nargs="+", choices=("a", "b"), default=["a", "b"])
    parser.add_argument("--modes", nargs="+", type=int, choices=(0, 1), default=[0, 1])
    parser.add_argument("--cuts", type=int, default=None, help="pipelined: tobfp_cuts(N)")
    parser.add_argument("--json", help="append rows (JSON lines) to this file")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print("| side | lanes | k | LUTs | FFs | Fmax MHz | wall s |")
    print("|---|---|---|---|---|---|---|")
    for lanes in args.lanes:
        for side in args.sides:
            for mode in args.modes:
                row = run_point(side, lanes, bool(mode), args.cuts)
                print(
                    f"| {side} | {lanes} | {row['k']} | {row['luts']:,} | {row['ffs']:,} "
                    f"| {row['fmax_mhz']} | {row['wall_s']} |",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "a") as out:
                        out.write(json.dumps(row) + "\n")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
