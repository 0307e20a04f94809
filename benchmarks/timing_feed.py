"""Fmax and area of the GEMM array's operand feed alone (hdl/gemm_feed.py `OperandFeed`), with
the combinational FloatToBfp against the pipelined one (`pipelined=True`): LUTs, FFs and ECP5
Fmax (nextpnr-ecp5, LFE5U-25F speed 6, register to register through the Fmax wrapper of
synth/flow.py, which registers every input and output of the unit).

    .venv/bin/python benchmarks/timing_feed.py                    # 2 and 4 lanes, both sides
    .venv/bin/python benchmarks/timing_feed.py --lanes 2 --sides b --modes 0 1

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
from lpmac.hdl.gemm_feed import OperandFeed
from lpmac.hdl.generate import strip_element_wires
from lpmac.synth.sweep import cached_synthesize

CFG = GemmConfig.parse("BFP8/8")


def build_feed(side: str, lanes: int, pipelined: bool, cfg: GemmConfig = CFG) -> OperandFeed:
    """One side's feed as hdl/gemm.py builds it (plus `pipelined`)."""
    sr = dict(sr_bits=cfg.sr_bits, sr_seed=cfg.sr_seed)
    extra = {"pipelined": True} if pipelined else {}
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


def feed_verilog(side: str, lanes: int, pipelined: bool) -> tuple[str, str]:
    """(Verilog, top name) of one point, converted as hdl/generate.py's to_verilog does."""
    from amaranth.back import verilog

    top = f"feed_{side}{lanes}_{'pipe' if pipelined else 'comb'}"
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    text = verilog.convert(
        build_feed(side, lanes, pipelined), name=top, emit_src=False, strip_internal_attrs=True
    )
    return strip_element_wires(text), top


def run_point(side: str, lanes: int, pipelined: bool) -> dict:
    text, top = feed_verilog(side, lanes, pipelined)
    start = time.monotonic()
    res = cached_synthesize(text, top, target="ecp5", use_dsp=True, fmax=True)
    return {
        "side": side,
        "lanes": lanes,
        "pipelined": pipelined,
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
    parser.add_argument("--json", help="append rows (JSON lines) to this file")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()}")
    print("| side | lanes | pipelined | LUTs | FFs | Fmax MHz | wall s |")
    print("|---|---|---|---|---|---|---|")
    for lanes in args.lanes:
        for side in args.sides:
            for mode in args.modes:
                row = run_point(side, lanes, bool(mode))
                print(
                    f"| {side} | {lanes} | {row['pipelined']} | {row['luts']:,} | {row['ffs']:,} "
                    f"| {row['fmax_mhz']} | {row['wall_s']} |",
                    flush=True,
                )
                if args.json:
                    with open(args.json, "a") as out:
                        out.write(json.dumps(row) + "\n")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
