"""Area of the R x C HBFP array (BFP8/24, fp32 in/out) against the fp16:cfg1+fp32 MAC system of
the same shape (hdl/system.py: the MacArray with the same fp32 surroundings), in the same flow
(issue 14 item 4; the HBFP paper claims 8.5x throughput per area over an FP16 variant).

    python benchmarks/gemm_area.py [-j 2] [--shapes 16x4,16x16] [--json out.json]

With DSPs allowed the array is measured twice: with `xcup_dsp` (each PE's multiply-accumulate
in one instantiated DSP48E2, as Vivado maps it; Yosys 0.70 maps only the product on xcup) and
as Yosys infers it.

Flow: hierarchical synthesis (lpmac.synth.hierarchy: each distinct block once, the glue with the
blocks as black boxes; docs/results/hierarchy.md validates it against flat), synth_xilinx for
xcup, with DSPs allowed and with -nodsp; LUTs = LUT1..LUT6 + INV (+ SRL). Both kinds do R·C
MACs per cycle in their steady state; throughput per LUT takes the HBFP array at its cycle
model's utilisation on an M x N x K = 256 x 256 x 512 product and the MAC system at 100 %.
The conversion share is a `FloatToBfp` as the feeds build it, synthesized alone, times two.
Blocks and glue go through the sweep's point cache, so a re-run is quick.
"""

from __future__ import annotations

import argparse
import json

from lpmac.config import GemmConfig, MacConfig
from lpmac.hdl.convert import FloatToBfp
from lpmac.hdl.gemm import BfpGemmArray, gemm_performance
from lpmac.hdl.system import MacSystem
from lpmac.synth.hierarchy import _convert, hierarchical_synthesize
from lpmac.synth.sweep import cached_synthesize

GEMM = GemmConfig.parse("BFP8/24")
MAC = MacConfig.parse("fp16:cfg1+fp32")
PRODUCT = (256, 256, 512)


def conversion_luts(use_dsp: bool) -> int:
    """LUTs of one feed's FloatToBfp (as OperandFeed builds it)."""
    conv = FloatToBfp(GEMM.in_fmt, GEMM.bfp, GEMM.rounding, zero_special=False)
    res = cached_synthesize(
        _convert(conv, "area_tobfp"), "area_tobfp", target="xcup", use_dsp=use_dsp
    )
    return res["luts"]


def measure(rows: int, cols: int, use_dsp: bool, jobs: int, xcup_dsp: bool = False) -> dict:
    hbfp = hierarchical_synthesize(
        BfpGemmArray(rows, cols, GEMM, use_dsp=use_dsp, xcup_dsp=xcup_dsp),
        f"gemm_{rows}x{cols}",
        use_dsp=use_dsp,
        jobs=jobs,
    )
    system = hierarchical_synthesize(
        MacSystem(rows, cols, MAC, use_dsp=use_dsp),
        f"system_{rows}x{cols}",
        use_dsp=use_dsp,
        jobs=jobs,
    )
    util = gemm_performance(rows, cols, GEMM.T, *PRODUCT)["utilization"]
    conv = 2 * conversion_luts(use_dsp)
    return {
        "shape": f"{rows}x{cols}",
        "use_dsp": use_dsp,
        "xcup_dsp": xcup_dsp,
        "hbfp": hbfp,
        "system": system,
        "utilization": util,
        "conversion_luts": conv,
        "conversion_share": conv / hbfp["luts"],
        "ratio": system["luts"] / hbfp["luts"] * util,
    }


# (use_dsp, xcup_dsp): DSPs allowed with each PE's MAC in an instantiated DSP48E2 (what Vivado
# infers; Yosys 0.70 leaves the accumulator in LUTs on xcup), DSPs allowed as Yosys infers
# them, no DSPs. The MAC system is the same in both DSP rows.
DSP_MODES = ((True, True), (True, False), (False, False))


def _mode(r: dict) -> str:
    if not r["use_dsp"]:
        return "no"
    return "yes, PE MACs in DSP48E2 (--xcup-dsp)" if r["xcup_dsp"] else "yes, as inferred"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--shapes", default="16x4,16x16")
    parser.add_argument("--json", default="", help="also write every result to this file")
    args = parser.parse_args()
    shapes = [tuple(int(v) for v in s.split("x")) for s in args.shapes.split(",")]
    print(
        "| shape | DSPs allowed | HBFP LUTs | FFs | DSPs | system LUTs | FFs | DSPs "
        "| HBFP util. | throughput/LUT HBFP : system | conversion share |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|---|", flush=True)
    results = []
    for rows, cols in shapes:
        for use_dsp, xcup_dsp in DSP_MODES:
            r = measure(rows, cols, use_dsp, args.jobs, xcup_dsp)
            results.append(r)
            h, s = r["hbfp"], r["system"]
            print(
                f"| {r['shape']} | {_mode(r)} | {h['luts']:,} | {h['ffs']:,} "
                f"| {h['dsps']} | {s['luts']:,} | {s['ffs']:,} | {s['dsps']} "
                f"| {r['utilization']:.2%} | {r['ratio']:.2f}x "
                f"| {r['conversion_share']:.1%} ({r['conversion_luts']:,}) |",
                flush=True,
            )
    for r in results:
        print(f"\nHBFP {r['shape']} DSPs {_mode(r)}: glue", end=" ")
        print(f"{r['hbfp']['glue']['luts']:,} LUTs")
        for b in r["hbfp"]["blocks"]:
            print(f"  {b['count']} x {b['luts']:,} LUTs {b['dsps']} DSP  {b['description']}")
    if args.json:
        with open(args.json, "w") as out:
            json.dump(results, out, indent=1)


if __name__ == "__main__":
    main()
