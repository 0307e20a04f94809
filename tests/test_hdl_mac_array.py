"""hdl/mac_array.py (the floating-point MAC array baseline of the GEMM area comparison) in
Amaranth's simulator: every PE's accumulator equals golden `mac` of its row of A and column
of B, bit for bit, for skewed host streams with gaps and a clear between two products; and
a 4 x 4 array equals the emulator `golden.matmul` (sr included: PE (i, j) seeded
lane_seed(seed, i*4 + j)) with 0 mismatches. Long accumulators (`E6M5:long`): PEs of
MacArray.depth cycles, checked against golden.matmul and, cycle by cycle, against golden
`mac(..., history=True)` shifted by i + j + depth."""

from __future__ import annotations

import gc
import os
import warnings
from dataclasses import replace

import numpy as np
import pytest
from amaranth.hdl import Fragment
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import MacConfig
from lpmac.hdl.mac_array import MacArray, pe_config
from lpmac.xorshift import lane_seed

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
            horizon = int(s[-1]) + R + C + dut.depth + 1  # the last PE's result is out
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
        ("E5M2:cfg5+E6M5:long", 2, 2, 10),
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


def gemm_operands(fmt, R, K, C, rng):
    """Normal values over a wide range (from_float), 10 % signed zeros, 10 % subnormals."""

    def draw(shape):
        bits = golden.from_float(
            rng.standard_normal(shape) * 2.0 ** rng.integers(-5, 3, shape), fmt, saturate=True
        )
        sign = U64(1 << (fmt.width - 1)) * rng.integers(0, 2, shape).astype(U64)
        kind = rng.random(shape)
        sub = sign | rng.integers(1, 1 << fmt.m, shape).astype(U64)
        return np.where(kind < 0.1, sign, np.where(kind < 0.2, sub, bits)).astype(U64)

    return draw((R, K)), draw((K, C))


@pytest.mark.parametrize(
    "spec,K",
    [
        ("E5M2:cfg5+E6M5", 64),
        ("E4M3:cfg1+Q8.13", 64),
        ("E5M2:cfg5+E6M5:sr,bits=8,seed=5", 80),
        ("E4M3:cfg2+E6M5:rz", 64),
    ],
)
def test_4x4_array_equals_the_emulator(spec, K):
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(K + len(spec))
    A, B = gemm_operands(cfg.mul.in_format, 4, K, 4, rng)
    (got,) = run_array(MacArray(4, 4, cfg), [(A, B)], valid_prob=0.8, seed=K)
    emulated = golden.matmul(A, B, cfg).acc
    assert np.count_nonzero(got != emulated) == 0, f"array\n{got}\nemulator\n{emulated}"
    for i, j in [(0, 0), (1, 3), (3, 2)]:  # and PE by PE from golden mac with its own seed
        assert got[i, j] == golden.mac(A[i], B[:, j], pe_config(cfg, i, j, 4)).acc
    assert len(np.unique(got)) >= 8  # not a degenerate test
    if cfg.acc.rounding == "sr":  # the seeding matters: one shared seed would differ
        shared = golden.mac(A.T[:, :, None], B[:, None, :], cfg).acc
        assert np.count_nonzero(shared != got) > 0


@pytest.mark.parametrize("spec,K", [("E5M2:cfg5+E6M5:long", 24), ("E4M3:cfg1+E7M7:long", 16)])
def test_long_accumulator_array(spec, K):
    """3 x 3 long PEs: the readout of every PE in every cycle, with no gaps, is golden
    `mac(..., history=True)` of its row and column delayed by i + j + depth (a history that
    changes at every step: one cycle early or late fails); then it holds; the final
    matrix equals golden.matmul with 0 mismatches."""
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(K)
    A, B = gemm_operands(cfg.mul.in_format, 3, K, 3, rng)
    A[0, 3], A[1, 5] = A[0, 3] | U64(0x7F), U64(0)  # a top-binade value and a zero
    dut = MacArray(3, 3, cfg)
    assert dut.depth > 1
    horizon = K + 4 + dut.depth + 1
    seen = np.zeros((horizon, 3, 3), U64)

    async def bench(ctx):
        for t in range(horizon):
            for i in range(3):  # read the state left by cycle t - 1, then drive cycle t
                ctx.set(dut.sel, i)
                seen[t, i] = [ctx.get(dut.c[j]) for j in range(3)]
            for n in range(3):
                k = t - n  # row n of A and column n of B, skewed by n
                ctx.set(dut.valid[n], int(0 <= k < K))
                ctx.set(dut.clear[n], int(k == 0))
                ctx.set(dut.a[n], int(A[n, k]) if 0 <= k < K else 0)
                ctx.set(dut.b[n], int(B[k, n]) if 0 <= k < K else 0)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    history = golden.mac(A.T[:, :, None], B[:, None, :], cfg, history=True).acc
    for i in range(3):
        for j in range(3):
            first = i + j + dut.depth  # the cycle that reads the state after input k = 0
            assert np.array_equal(seen[first : first + K, i, j], history[:, i, j]), (i, j)
            assert np.all(seen[first + K :, i, j] == history[-1, i, j])
    emulated = golden.matmul(A, B, cfg).acc
    assert np.count_nonzero(seen[-1] != emulated) == 0, f"array\n{seen[-1]}\nemulator\n{emulated}"
    assert len(np.unique(seen[-1])) >= 6  # not a degenerate test


def test_pe_config_seeds_only_sr():
    sr = MacConfig.parse("E5M2:cfg5+E6M5:sr,seed=7")
    assert pe_config(sr, 2, 1, 4) == replace(sr, acc=replace(sr.acc, sr_seed=lane_seed(7, 9)))
    assert pe_config(sr, 0, 0, 4) == sr  # lane 0 keeps the seed
    for spec in ["E5M2:cfg5+E6M5", "E5M2:cfg5+Q8.13"]:
        assert pe_config(MacConfig.parse(spec), 3, 3, 4) == MacConfig.parse(spec)


@pytest.mark.parametrize(
    "rows,cols,cfg,error,match",
    [
        (0, 4, "E5M2:cfg5+E6M5", ValueError, "rows >= 1 and cols >= 1, got rows=0"),
        (2, -1, "E5M2:cfg5+E6M5", ValueError, "got cols=-1"),
        (2.0, 2, "E5M2:cfg5+E6M5", ValueError, "got rows=2.0"),
        (2, 2, "E5M2:cfg5+E6M5", TypeError, "needs a MacConfig, got str"),
    ],
)
def test_bad_shape_is_refused_without_a_warning(rows, cols, cfg, error, match):
    cfg = MacConfig.parse(cfg) if error is ValueError else cfg
    Fragment.get(MacArray(1, 1, MacConfig.parse("E5M2:cfg5+E6M5")), None)  # arms the warning
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(error, match=match):
            MacArray(rows, cols, cfg)
        gc.collect()
    assert not [w for w in caught if "never used" in str(w.message)]
