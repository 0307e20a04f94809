"""hdl/mac_array.py (the floating-point MAC array baseline of the GEMM area comparison) in
Amaranth's simulator: every PE's accumulator equals golden `mac` of its row of A and column
of B, bit for bit, for skewed host streams with gaps and a clear between two products."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import MacConfig
from lpmac.hdl.mac_array import MacArray

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
U64 = np.uint64


def run_array(dut: MacArray, products, valid_prob: float, seed: int):
    """Stream `products` [(A (R x K), B (K x C), bits)] one after the other, each starting with
    `clear`; returns the R x C accumulators read out after each product, and the inputs that
    were really applied (a gap repeats no element: valid=0 skips the cycle)."""
    R, C = dut.rows, dut.cols
    rng = np.random.default_rng(seed)
    results = []

    async def bench(ctx):
        for A, B in products:
            K = A.shape[1]
            # one schedule for the whole product: element k issues in cycle s[k] (gaps allowed)
            s = np.cumsum(1 + (rng.random(K) > valid_prob) * rng.integers(1, 3, K)) - 1
            horizon = int(s[-1]) + R + C + 2
            for t in range(horizon):
                for i in range(R):
                    k = np.flatnonzero(s + i == t)
                    ctx.set(dut.valid[i], int(k.size > 0))
                    ctx.set(dut.clear[i], int(k.size > 0 and k[0] == 0))
                    ctx.set(dut.a[i], int(A[i, k[0]]) if k.size else 0)
                for j in range(C):
                    k = np.flatnonzero(s + j == t)
                    ctx.set(dut.b[j], int(B[k[0], j]) if k.size else 0)
                await ctx.tick()
            for i in range(R):
                ctx.set(dut.valid[i], 0)
            out = np.zeros((R, C), U64)
            for i in range(R):
                ctx.set(dut.sel, i)
                out[i] = [ctx.get(dut.c[j]) for j in range(C)]
            results.append(out)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return results


@pytest.mark.parametrize(
    "spec,R,C,K",
    [
        ("E5M2:cfg5+E6M5", 2, 3, 12),
        ("fp16:cfg1+fp16", 3, 2, 9),
        ("E4M3:cfg1+Q8.8", 2, 2, 10),
    ],
)
def test_every_pe_is_golden_mac(spec, R, C, K):
    cfg = MacConfig.parse(spec)
    fmt = cfg.mul.in_format
    rng = np.random.default_rng(len(spec) * 31 + K)
    finite = lambda shape: (
        np.where(
            rng.random(shape) < 0.1,
            0,
            rng.integers(0, (fmt.max_field << fmt.m) | ((1 << fmt.m) - 1), shape),
        )
        | (rng.integers(0, 2, shape) << (fmt.width - 1))
    )
    products = [(finite((R, K)).astype(U64), finite((K, C)).astype(U64)) for _ in range(2)]
    got = run_array(MacArray(R, C, cfg), products, valid_prob=0.7, seed=K)
    for n, (A, B) in enumerate(products):
        a = np.repeat(A.T[:, :, None], C, axis=2)  # (K, R, C): step k, PE (i, j)
        b = np.repeat(B[:, None, :], R, axis=1)
        expected = golden.mac(a, b, cfg).acc
        assert np.array_equal(got[n], expected), f"product {n}:\n{got[n]}\nexpected\n{expected}"
        assert np.count_nonzero(expected) >= R * C // 2  # not a degenerate test


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match="rows >= 1 and cols >= 1"):
        MacArray(0, 4, MacConfig.parse("E5M2:cfg5+E6M5"))
