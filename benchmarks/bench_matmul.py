"""Speed of the MAC-array emulator `golden.matmul` beside golden `mac` and NumPy float32.

    python benchmarks/bench_matmul.py                 # default shapes, Markdown table
    python benchmarks/bench_matmul.py --cold          # first call with an empty numba cache
    python benchmarks/bench_matmul.py --shape 512 1024 512 --repeat 5
    python benchmarks/bench_matmul.py --long          # the long-accumulator rows only

For each configuration: the first call (numba compile or cache load + the tables), then the
best of --repeat calls of an M x K x N GEMM in M MAC/s (M*K*N / seconds), golden `mac` on a
smaller GEMM (it runs one NumPy step per k), and NumPy float32 matmul of the emulator's shape.
Inputs are N(0, 1) values encoded with from_float. The load average is printed with the
table: the machine may be shared.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

CONFIGS = [
    ("E5M2:cfg5+E6M5", "fast"),
    ("E5M2:cfg5+Q8.13", "fast"),
    ("E4M3:cfg1+E6M5", "fast"),
    ("fp32:cfg1+fp32", "fast"),
    ("E5M2:cfg5+E6M5:sr", "wide"),
    ("E5M2:cfg5+E6M5:long", "fast"),  # 85-bit register: 32-bit limbs, product table
    ("E4M3:cfg1+E7M7:long", "fast"),  # 34-bit register: one int64, product table
    ("fp16:cfg1+fp32:long", "wide"),  # 57-bit register, computed products
    ("bf16:cfg1+fp32:long", "wide"),  # 278-bit register: limbs, computed products
]


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--shape", nargs=3, type=int, metavar=("M", "K", "N"), default=None,
                   help="GEMM shape for every config (default 256x1024x256, 128x512x128 for "
                        "sr and --config)")  # fmt: skip
    p.add_argument("--golden-shape", nargs=3, type=int, default=(64, 256, 64))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--cold", action="store_true", help="empty numba cache: first call compiles")
    p.add_argument("--config", action="append", help="a MAC config (repeatable)")
    p.add_argument("--long", action="store_true", help="only the long-accumulator configs")
    return p.parse_args(argv)


def best_time(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main(argv=None) -> None:
    args = parse_args(argv)
    if args.cold:  # before numba is imported: it reads the variable once
        os.environ["NUMBA_CACHE_DIR"] = tempfile.mkdtemp(prefix="lpmac-numba-")
    import numpy as np

    from lpmac.config import MacConfig

    configs = [(c, "wide") for c in args.config] if args.config else CONFIGS
    if args.long:
        configs = [(c, kind) for c, kind in configs if c.endswith(":long")]
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}, "
          f"{os.cpu_count()} CPUs, numba threads: {_threads()}")  # fmt: skip
    print()
    print("| config | shape | first call s | emulator M MAC/s | golden mac M MAC/s "
          "| NumPy f32 M MAC/s | emulator / golden |")  # fmt: skip
    print("|---|---|---:|---:|---:|---:|---:|")
    rng = np.random.default_rng(0)
    for spec, kind in configs:
        shape = args.shape or ((256, 1024, 256) if kind == "fast" else (128, 512, 128))
        print(measure(spec, MacConfig.parse(spec), shape, args, rng), flush=True)
    print()
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def measure(spec: str, cfg, shape, args, rng) -> str:
    import numpy as np

    from lpmac import golden

    M, K, N = shape
    fmt = cfg.mul.in_format
    A = golden.from_float(rng.standard_normal((M, K)), fmt)
    B = golden.from_float(rng.standard_normal((K, N)), fmt)
    t = time.perf_counter()
    golden.matmul(A[:2, :2], B[:2, :2], cfg)
    first = time.perf_counter() - t
    emu = M * K * N / best_time(lambda: golden.matmul(A, B, cfg), args.repeat) / 1e6
    gm, gk, gn = args.golden_shape
    a, b = A[:gm, :gk], B[:gk, :gn]
    ref = gm * gk * gn / best_time(lambda: golden.mac(a.T[:, :, None], b[:, None, :], cfg), 1)
    fa, fb = rng.standard_normal((M, K), np.float32), rng.standard_normal((K, N), np.float32)
    f32 = M * K * N / best_time(lambda: fa @ fb, args.repeat) / 1e6
    return (
        f"| {spec} | {M}x{K}x{N} | {first:.2f} | {emu:,.1f} | {ref / 1e6:.2f} "
        f"| {f32:,.0f} | {emu / (ref / 1e6):,.0f}x |"
    )


def _threads() -> int:
    import numba

    return numba.get_num_threads()


if __name__ == "__main__":
    main()
