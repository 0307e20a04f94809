"""Area of the 16x4 HBFP array (BFP8/24, fp32 in/out) versus a 16x4 systolic array of fp16
CFG-1 MACs, in the same open flow (issue 4; the HBFP paper claims 8.5x throughput per area
over an FP16 variant of its accelerator).

    python benchmarks/gemm_area.py [-j 2] [--target xcup] [--only NAME,...]

Both arrays do R·C = 64 MACs per cycle in their steady state, so at equal clock the
throughput-per-area ratio is the inverse area ratio (times each one's utilization, given in
docs/performance.md for the HBFP array). Whole arrays are synthesized flat, with DSPs allowed
and with -nodsp (every multiplier in LUTs: one currency for the whole design); their
building blocks are synthesized alone too, for the breakdown. Results print as they finish
and are kept per design in the sweep's result cache, so an interrupted run resumes.
"""

from __future__ import annotations

import argparse
import time
from concurrent.futures import ThreadPoolExecutor, as_completed

from lpmac.config import GemmConfig, MacConfig
from lpmac.hdl.accum import Mac
from lpmac.hdl.gemm import (
    BfpGemmArray,
    ColumnAccumulator,
    OperandFeed,
    ProcessingElement,
    gemm_acc_width,
)
from lpmac.hdl.generate import Unit, to_verilog
from lpmac.hdl.mac_array import MacArray
from lpmac.synth.flow import SynthError
from lpmac.synth.sweep import cached_synthesize

R, C = 16, 4
GEMM = GemmConfig.parse("BFP8/24")
ACC_W = gemm_acc_width(GEMM.m, GEMM.T)


def designs():
    """(name, what, builder(use_dsp), count in the array, DSP variants)."""
    both, one = (True, False), (True,)
    mac16, mac16_32 = MacConfig.parse("fp16:cfg1+fp16"), MacConfig.parse("fp16:cfg1+fp32")
    return [
        (
            "pe",
            f"HBFP PE: {GEMM.m}x{GEMM.m}-bit multiply, {ACC_W}-bit accumulator",
            lambda d: ProcessingElement(GEMM.m, ACC_W, use_dsp=d),
            R * C,
            both,
        ),
        (
            "colacc",
            f"HBFP column accumulator: BFP->fp32 + fp32 add, {R}-entry ring",
            lambda d: ColumnAccumulator(GEMM, R, ACC_W),
            C,
            one,
        ),
        (
            "feed_b",
            f"HBFP operand feed B: FloatToBfp of {GEMM.T} fp32 + {C} lanes",
            lambda d: OperandFeed(GEMM.in_fmt, GEMM.bfp, C),
            1,
            one,
        ),
        (
            "feed_a",
            f"HBFP operand feed A: FloatToBfp of {GEMM.T} fp32 + {R} lanes",
            lambda d: OperandFeed(GEMM.in_fmt, GEMM.bfp, R, tag_bits=2),
            1,
            one,
        ),
        ("mac16", "MAC fp16:cfg1+fp16", lambda d: Mac(mac16, use_dsp=d), R * C, both),
        ("mac16_32", "MAC fp16:cfg1+fp32", lambda d: Mac(mac16_32, use_dsp=d), R * C, both),
        (
            "hbfp",
            f"{R}x{C} HBFP array {GEMM} (fp32 in/out)",
            lambda d: BfpGemmArray(R, C, GEMM, use_dsp=d),
            1,
            both,
        ),
        (
            "array16",
            f"{R}x{C} MAC array fp16:cfg1+fp16",
            lambda d: MacArray(R, C, mac16, use_dsp=d),
            1,
            both,
        ),
        (
            "array16_32",
            f"{R}x{C} MAC array fp16:cfg1+fp32",
            lambda d: MacArray(R, C, mac16_32, use_dsp=d),
            1,
            both,
        ),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-j", "--jobs", type=int, default=2)
    parser.add_argument("--target", default="xcup")
    parser.add_argument("--only", default="", help="comma-separated design names (default: all)")
    args = parser.parse_args()
    only = set(filter(None, args.only.split(",")))
    jobs = []
    for name, what, make, count, variants in designs():
        if only and name not in only:
            continue
        # With DSPs forbidden the generators also build their multipliers from LUTs
        # (lpmac.hdl.multiply), as `lpmac synth --no-dsp` does.
        jobs += [
            (
                name,
                what,
                count,
                use_dsp,
                to_verilog(Unit(name, make(use_dsp), f"area_{name}", what, 1)),
            )
            for use_dsp in variants
        ]

    def run(job):
        name, what, count, use_dsp, text = job
        start = time.monotonic()
        try:
            res = cached_synthesize(
                text, f"area_{name}", target=args.target, unit=name, config=what, use_dsp=use_dsp
            )
        except SynthError as err:  # report it and go on with the other designs
            res = {"error": str(err).strip().splitlines()[-1]}
        return job, res, time.monotonic() - start

    print("| design | DSPs allowed | count | LUTs | FFs | DSPs | carry | synth s |")
    print("|---|---|---|---|---|---|---|---|", flush=True)
    with ThreadPoolExecutor(args.jobs) as pool:
        for fut in as_completed([pool.submit(run, job) for job in jobs]):
            (name, what, count, use_dsp, _), res, secs = fut.result()
            if "error" in res:
                print(
                    f"| {what} | {'yes' if use_dsp else 'no'} | {count} "
                    f"| failed: {res['error']} |||| {secs:.0f} |",
                    flush=True,
                )
                continue
            print(
                f"| {what} | {'yes' if use_dsp else 'no'} | {count} "
                f"| {res['luts']:,} | {res['ffs']:,} | {res['dsps']} "
                f"| {res['carry']} | {secs:.0f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
