"""Cycles and utilization of the systolic BFP GEMM array (hdl/gemm.py).

    python benchmarks/bench_gemm.py             # the model table (GemmTiming, verified cycle model)
    python benchmarks/bench_gemm.py --simulate  # plus one product per array size under Verilator:
                                                # bit-exact check and measured cycles vs the model

Output: Markdown tables (paste into docs/performance.md). The simulated products take
minutes per array size on a 2-core machine (the 16x16 Verilog is the slowest to build);
Ctrl-C keeps the rows already printed.
"""

from __future__ import annotations

import argparse

import numpy as np

from lpmac.config import GemmConfig
from lpmac.hdl.gemm import gemm_performance

ARRAYS = [(4, 4), (8, 8), (16, 4), (16, 16)]


def model_table(tiles=(16, 24)) -> None:
    print(
        "| R×C | T | M×N×K | output tiles × K-tiles | cycles | M·N·K / (R·C) | utilization "
        "| fill+drain+stalls |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for R, C in ARRAYS:
        q = max(R, C)
        for T in tiles:
            for M, N, K in ((R, C, 8 * q), (256, 256, 8 * q), (256, 256, 512)):
                p = gemm_performance(R, C, T, M, N, K)
                out_tiles = -(-M // R) * -(-N // C)
                print(
                    f"| {R}×{C} | {T} | {M}×{N}×{K} | {out_tiles} × {p['launches'] // out_tiles} "
                    f"| {p['cycles']:,} | {M * N * K // (R * C):,} | {p['utilization']:.2%} "
                    f"| {p['overhead']} |",
                    flush=True,
                )


def simulate(spec: str, seed: int) -> None:
    from lpmac.sim.gemm_bench import operands, run_gemm_bench

    cfg = GemmConfig.parse(spec)
    print(
        f"\n{spec}, one product per array, K = 8·max(R, C), "
        "streams always valid/ready for the cycle count "
        "(and once more with random gaps), Verilator:\n"
    )
    print(
        "| R×C | M×N×K | mismatches | measured cycles | model | utilization | build s | total s |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for R, C in ARRAYS:
        rng = np.random.default_rng(seed)
        M, N, K = 4 * R, 4 * C, 8 * max(R, C)
        job = operands(rng, (M, K), (K, N), cfg)
        res = run_gemm_bench(R, C, cfg, jobs=[job], seed=seed, simulator="verilator")
        print(
            f"| {R}×{C} | {M}×{N}×{K} | {res.mismatches} of {res.elements:,} | {res.cycles:,} "
            f"| {res.model_cycles:,} | {res.utilization:.2%} | {res.build_seconds:.0f}"
            f"{' (cached)' if res.cached else ''} | {res.seconds:.0f} |",
            flush=True,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--simulate", action="store_true", help="also run one product per array size in Verilator"
    )
    parser.add_argument(
        "--config",
        default="BFP8/24",
        help="GemmConfig for --simulate (default BFP8/24, fp32 in/out)",
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    model_table()
    if args.simulate:
        simulate(args.config, args.seed)


if __name__ == "__main__":
    main()
