"""Throughput of the golden model, with the obvious ml_dtypes/NumPy alternative timed in the
same run for the standard formats.

    python benchmarks/bench_golden.py            # full sizes of issue #2 (10^7 products...)
    python benchmarks/bench_golden.py --quick    # 10x smaller
"""

from __future__ import annotations

import argparse
import time

import ml_dtypes
import numpy as np

from lpmac import AccConfig, GemmConfig, MulConfig
from lpmac import golden as g


def best_of(fn, repeat: int = 3) -> float:
    best = float("inf")
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def reference_mul(dtype):
    """The obvious path: cast to float32, multiply, cast back (exact product, one rounding)."""

    def run(a, b):
        with np.errstate(all="ignore"):  # NaN and inf patterns are part of the random input
            return (a.view(dtype).astype(np.float32) * b.view(dtype).astype(np.float32)).astype(
                dtype
            )

    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    rng = np.random.default_rng(2026)
    n = 10**7 // scale
    print(f"fp_mul on {n:,} random pairs (best of 3, one core)")
    print(f"{'config':<12} {'golden M/s':>11} {'reference M/s':>14} {'ratio':>6}")
    for spec, dtype in (
        ("E5M2:cfg5", None),
        ("E4M3:cfg1", ml_dtypes.float8_e4m3),
        ("E5M2:cfg1", ml_dtypes.float8_e5m2),
        ("fp16:cfg1", np.float16),
        ("bf16:cfg1", ml_dtypes.bfloat16),
    ):
        cfg = MulConfig.parse(spec)
        w = cfg.in_format.width
        store = np.uint8 if w <= 8 else np.uint16
        a = rng.integers(0, 1 << w, n, dtype=np.uint64)
        b = rng.integers(0, 1 << w, n, dtype=np.uint64)
        g.fp_mul(a[:4], b[:4], cfg)  # build tables outside the timing
        t_golden = best_of(lambda a=a, b=b, cfg=cfg: g.fp_mul(a, b, cfg))
        line = f"{spec:<12} {n / t_golden / 1e6:>11.1f}"
        if dtype is not None:
            a_s, b_s, ref = a.astype(store), b.astype(store), reference_mul(dtype)
            t_ref = best_of(lambda ref=ref, a_s=a_s, b_s=b_s: ref(a_s, b_s))
            line += f" {n / t_ref / 1e6:>14.1f} {t_golden / t_ref:>6.2f}"
        else:
            line += f" {'(no reference)':>14}"
        print(line)

    steps, lanes = 64, 10**6 // scale
    x = rng.standard_normal((steps, lanes)).astype(np.float32).view(np.uint32).astype(np.uint64)
    for spec in ("fp32", "E6M5", "E6M5:sr,bits=8"):
        cfg = AccConfig.parse(spec)
        xs = (
            x
            if spec == "fp32"
            else g.from_float(g.to_float(x, AccConfig.parse("fp32").fmt), cfg.fmt)
        )
        t = best_of(lambda xs=xs, cfg=cfg: g.accumulate(xs, cfg), repeat=1)
        print(
            f"accumulate {spec:<16} {lanes:,} lanes x {steps} steps: "
            f"{steps * lanes / t / 1e6:.2f} M adds/s ({t:.1f} s)"
        )

    size = 256 // (2 if args.quick else 1)
    cfg = GemmConfig.parse("BFP8/24")
    A = rng.standard_normal((size, size)).astype(np.float32).view(np.uint32).astype(np.uint64)
    B = rng.standard_normal((size, size)).astype(np.float32).view(np.uint32).astype(np.uint64)
    t = best_of(lambda: g.bfp_gemm(A, B, cfg))
    print(
        f"bfp_gemm {size}x{size}x{size} BFP8/24: {t * 1e3:.0f} ms ({size**3 / t / 1e6:.0f} M MAC/s)"
    )


if __name__ == "__main__":
    main()
