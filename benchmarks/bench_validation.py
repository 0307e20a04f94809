"""Cost of the golden model's boundary validation: `check_bits` alone, and the public
`fp_mul` (validating both operands) against the trusted implementation it wraps.

    python benchmarks/bench_validation.py
"""

from __future__ import annotations

import time

import numpy as np

from lpmac import golden
from lpmac.config import MulConfig
from lpmac.golden.fpmul import fp_mul as fp_mul_unchecked
from lpmac.golden.validate import check_bits


def best_of(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main(n: int = 10_000_000) -> None:
    rng = np.random.default_rng(0)
    for spec in ("E4M3:cfg1", "fp16:cfg1"):
        cfg = MulConfig.parse(spec)
        w = cfg.in_format.width
        a = rng.integers(0, 1 << w, n, dtype=np.uint64)
        b = rng.integers(0, 1 << w, n, dtype=np.uint64)
        fp_mul_unchecked(a[:4], b[:4], cfg)  # build tables outside the timing
        t_check = best_of(lambda a=a, cfg=cfg: check_bits("a_bits", a, cfg.in_format, func="x"))
        t_raw = best_of(lambda a=a, b=b, cfg=cfg: fp_mul_unchecked(a, b, cfg))
        t_pub = best_of(lambda a=a, b=b, cfg=cfg: golden.fp_mul(a, b, cfg))
        print(
            f"{spec:<10} {n:,} uint64: check_bits {t_check * 1e3:.1f} ms, "
            f"fp_mul unchecked {t_raw * 1e3:.1f} ms, public {t_pub * 1e3:.1f} ms "
            f"({(t_pub / t_raw - 1) * 100:+.1f} %)"
        )


if __name__ == "__main__":
    main()
