"""hdl/system.py (the MAC-array system: fp32 feeds -> converters -> MacArray -> converters ->
column FIFOs) in Amaranth's simulator against the golden model chain: golden `convert`
fp32 -> input format, golden `mac` per PE, golden `convert` / `from_fixed` back to fp32,
checked against NumPy float32 where the whole chain is exact."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import MacConfig
from lpmac.hdl.system import FP32, MacSystem
from lpmac.sim.system_bench import expected_rows, fp32_operands

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
U64 = np.uint64


def run_system(dut: MacSystem, products, seed: int, ready_prob: float = 0.8):
    """Stream the products back to back (each row starts its next product C cycles after its
    last element, the earliest the protocol allows) with random gaps and a consumer that is
    not always ready; returns the `c` beats (C values each) and the overflow flag."""
    R, C = dut.rows, dut.cols
    rng = np.random.default_rng(seed)
    schedule, start = [], 0  # per product: issue cycle of element k (before the skew)
    for A, _ in products:
        K = A.shape[1]
        s = start + np.cumsum(1 + (rng.random(K) > 0.7) * rng.integers(1, 3, K)) - 1
        schedule.append(s)
        start = int(s[-1]) + C
    horizon = start + R + C + dut.depth + 4 * R + 20
    beats = []

    async def bench(ctx):
        for t in range(horizon):
            for i in range(R):
                ctx.set(dut.valid[i], 0)
                ctx.set(dut.clear[i], 0)
                ctx.set(dut.last[i], 0)
                ctx.set(dut.a[i], 0)
            for j in range(C):
                ctx.set(dut.b[j], 0)
            for (A, B), s in zip(products, schedule):
                for i in range(R):
                    k = np.flatnonzero(s + i == t)
                    if k.size:
                        ctx.set(dut.valid[i], 1)
                        ctx.set(dut.clear[i], int(k[0] == 0))
                        ctx.set(dut.last[i], int(k[0] == len(s) - 1))
                        ctx.set(dut.a[i], int(A[i, k[0]]))
                for j in range(C):
                    k = np.flatnonzero(s + j == t)
                    if k.size:
                        ctx.set(dut.b[j], int(B[k[0], j]))
            ready = int(rng.random() < ready_prob)
            ctx.set(dut.c.ready, ready)
            if ready and ctx.get(dut.c.valid):
                beats.append([ctx.get(dut.c.payload[j]) for j in range(C)])
            await ctx.tick()
        beats.append(ctx.get(dut.overflow))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    overflow = beats.pop()
    return np.array(beats, dtype=U64).reshape(-1, C), overflow


CONFIGS = [
    "E5M2:cfg5+E6M5",
    "E5M2:cfg5+Q8.13",
    "E4M3:cfg1+Q11.13",
    "fp16:cfg1+fp32",
    "E5M2:cfg5+E6M5:long",
]


def test_sr_system_seeds_every_pe_as_golden_matmul():
    """Stochastic rounding: PE (i, j) owns generator lane_seed(seed, i*C + j), which
    golden.matmul (an R x C product is one array tile) models; one product from reset."""
    cfg = MacConfig.parse("E5M2:cfg5+E6M5:sr,bits=6,seed=9")
    R, C, K = 3, 2, 11
    rng = np.random.default_rng(17)
    A, B = fp32_operands(rng, (R, K)), fp32_operands(rng, (K, C))
    got, overflow = run_system(MacSystem(R, C, cfg), [(A, B)], seed=4)
    a = golden.convert(A, FP32, cfg.mul.in_format, "rne")
    b = golden.convert(B, FP32, cfg.mul.in_format, "rne")
    expected = golden.convert(golden.matmul(a, b, cfg).acc, cfg.acc.fmt, FP32, "rne")
    assert overflow == 0 and np.array_equal(got, expected)
    # the seeds matter: one generator for every PE would give other bits here
    shared = expected_rows(A, B, cfg)
    assert not np.array_equal(shared, expected)


@pytest.mark.parametrize("spec", CONFIGS)
@pytest.mark.parametrize("R,C", [(2, 2), (4, 4)])
def test_system_is_golden_chain(spec, R, C):
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(R * 7 + C + len(spec))
    products = []
    for K in (9, 6, 12):
        products.append((fp32_operands(rng, (R, K)), fp32_operands(rng, (K, C))))
    got, overflow = run_system(MacSystem(R, C, cfg), products, seed=R + C)
    expected = np.concatenate([expected_rows(A, B, cfg) for A, B in products])
    assert overflow == 0
    assert got.shape == expected.shape, f"{got.shape[0]} rows out, {expected.shape[0]} expected"
    mismatches = np.argwhere(got != expected)
    assert mismatches.size == 0, f"{len(mismatches)} mismatches, first at {mismatches[0]}"
    assert np.count_nonzero(expected) >= expected.size // 2  # not a degenerate test


def test_fp32_system_matches_numpy_float32_for_exact_sums():
    """Independent of the golden model: small integers make every fp32 product and sum exact,
    so the fp32 system's results equal NumPy's float32 matmul."""
    cfg = MacConfig.parse("fp32:cfg1+fp32")
    rng = np.random.default_rng(5)
    A = rng.integers(-64, 64, (2, 10)).astype(np.float32)
    B = rng.integers(-64, 64, (10, 3)).astype(np.float32)
    bits = lambda x: x.view(np.uint32).astype(U64)
    got, overflow = run_system(MacSystem(2, 3, cfg), [(bits(A), bits(B))], seed=1)
    assert overflow == 0
    assert np.array_equal(got, bits(A @ B))


def test_overflow_flag_when_the_consumer_never_reads():
    cfg = MacConfig.parse("E5M2:cfg5+E6M5")
    rng = np.random.default_rng(3)
    products = [(fp32_operands(rng, (2, 3)), fp32_operands(rng, (3, 2))) for _ in range(3)]
    got, overflow = run_system(MacSystem(2, 2, cfg), products, seed=2, ready_prob=0.0)
    assert len(got) == 0 and overflow == 1  # 6 rows into 4 + 1 entries


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match="rows >= 1 and cols >= 1"):
        MacSystem(2, 0, MacConfig.parse("E5M2:cfg5+E6M5"))


@pytest.mark.parametrize(
    "spec,R,C",
    [
        ("E5M2:cfg5+E6M5", 4, 4),
        ("E5M2:cfg5+Q8.13", 2, 2),
        ("fp16:cfg1+fp32", 2, 3),
        ("E5M2:cfg5+E6M5:long", 2, 2),
    ],
)
def test_system_verilog_under_cocotb(spec, R, C):
    """The generated Verilog (not Amaranth's model of it) under cocotb: 0 mismatches."""
    from lpmac.sim import runner
    from lpmac.sim.system_bench import run_system_bench

    if not runner.available_simulators():
        pytest.skip("no HDL simulator (Verilator or Icarus)")
    result = run_system_bench(R, C, MacConfig.parse(spec), products=4, seed=R * C)
    assert result.elements == 4 * R * C
    assert (result.mismatches, result.overflow) == (0, 0)
