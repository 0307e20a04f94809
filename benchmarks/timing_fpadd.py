"""LUTs, FFs, DSPs and ECP5 Fmax of the fp32 rne float adder FpAdd (hdl/fpadd.py) at each
pipeline latency (FP_ADD_CUTS), with the normaliser in LUTs and in DSPs: synth/flow.py
`synthesize` through the sweep's result cache, nextpnr-ecp5, LFE5U-25F speed 6, register to
register (the Fmax wrapper registers the inputs and outputs of a latency-0 adder too).

    .venv/bin/python benchmarks/timing_fpadd.py        # fp32, latency 0..len(FP_ADD_CUTS)+1
    .venv/bin/python benchmarks/timing_fpadd.py --latencies 4 5 --dsp 1 -o /tmp/fpadd.jsonl

Prints one Markdown row per point as it arrives (one synthesis at a time) and, with -o,
writes the rows as JSON lines."""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from lpmac.config import AccConfig
from lpmac.formats import parse_float_format
from lpmac.hdl.fpadd import FP_ADD_CUTS, FpAdd
from lpmac.hdl.generate import Unit, module_name, to_verilog
from lpmac.synth.sweep import cached_synthesize


def build(cfg: AccConfig, x_name: str | None, latency: int, use_dsp: bool) -> Unit:
    x_fmt = parse_float_format(x_name) if x_name else cfg.fmt
    add = FpAdd(cfg, x_fmt, use_dsp=use_dsp, latency=latency)
    x_tag = "" if x_fmt == cfg.fmt else f"_x{x_fmt}"
    name = module_name(f"fpadd_{cfg}{x_tag}_l{latency}") + ("" if use_dsp else "_nodsp")
    return Unit("fpadd", add, name, str(cfg), latency)


def measure(cfg: AccConfig, x_name: str | None, latency: int, use_dsp: bool) -> dict:
    unit = build(cfg, x_name, latency, use_dsp)
    verilog = to_verilog(unit)
    r = cached_synthesize(verilog, unit.name, target="ecp5", use_dsp=use_dsp, fmax=True)
    return {
        "unit": f"{cfg}@{x_name or cfg.fmt}",
        "latency": latency,
        "use_dsp": use_dsp,
        "cuts": list(FP_ADD_CUTS[:latency]),
        "verilog_sha256": hashlib.sha256(verilog.encode()).hexdigest(),
        **{k: r[k] for k in ("luts", "ffs", "dsps", "fmax_mhz", "seconds")},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config", default="fp32", help="accumulator AccConfig (default fp32)")
    parser.add_argument("--x", default=None, help="input format (default: the accumulator's)")
    parser.add_argument("--latencies", nargs="+", type=int, default=None)
    parser.add_argument("--dsp", nargs="+", type=int, choices=(0, 1), default=[0, 1])
    parser.add_argument("-o", "--out", type=Path, default=None, help="JSON-lines results")
    args = parser.parse_args()
    cfg = AccConfig.parse(args.config)
    latencies = args.latencies or range(len(FP_ADD_CUTS) + 2)
    rows = []
    print("| unit | use_dsp | latency | last cut | LUTs | FFs | DSPs | Fmax MHz |")
    print("|---|---|---|---|---|---|---|---|")
    for use_dsp in map(bool, args.dsp):
        for latency in latencies:
            row = measure(cfg, args.x, latency, use_dsp)
            rows.append(row)
            last = row["cuts"][-1] if row["cuts"] else "-"
            if latency > len(FP_ADD_CUTS):
                last = "output register"
            print(
                f"| FpAdd {row['unit']} | {int(use_dsp)} | {latency} | {last} | {row['luts']:,} "
                f"| {row['ffs']:,} | {row['dsps']} | {row['fmax_mhz']:.1f} |",
                flush=True,
            )
            if args.out:
                args.out.write_text("".join(json.dumps(r) + "\n" for r in rows))


if __name__ == "__main__":
    main()
