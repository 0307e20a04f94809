"""hdl/gemm_tofloat.py (the column's BFP->float step) against golden `round_pack`, bit for bit:
every scale of BFP8/24's range (and a little beyond) with products at the edges (0, ±1, ±max,
-2^(W-1)+1, powers of two, all-ones, ties on the subnormal grid) and random ones, each
shifter (greedy capped normaliser, barrel shifter, DSP product), fp32 and a narrower IEEE
format with and without padding below the product."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.hdl import Elaboratable, Module, Signal, signed
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.formats import FloatFormat, parse_format
from lpmac.hdl.gemm_tofloat import biased_lead_exp_range, fits, signed_to_float

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")


class Harness(Elaboratable):
    def __init__(self, fmt: FloatFormat, W: int, scale_range, shifter: str):
        self.fmt, self.W, self.shifter = fmt, W, shifter
        lo, hi = biased_lead_exp_range(fmt, W, scale_range)
        self.p = Signal(signed(W + 1))
        self.c = Signal(range(lo, hi + 1))
        self.bits = Signal(fmt.width)

    def elaborate(self, platform):
        m = Module()
        signed_to_float(m, self.p, self.W, self.c, self.fmt, self.bits, self.shifter)
        return m


def products(W: int, rng) -> list[int]:
    top = (1 << W) - 1
    edge = [0, 1, 2, 3, 5, top, top - 1, 1 << (W - 1), (1 << (W - 1)) + 1, 0b1011 << (W - 5)]
    edge += [1 << k for k in range(W)] + [(1 << k) - 1 for k in range(2, W)]
    edge += [3 << k for k in range(W - 2)]  # ties once shifted onto the grid
    vals = edge + [int(v) for v in rng.integers(1, top + 1, 24)]
    return sorted({v for x in vals for v in (x, -x)})


def run(fmt: FloatFormat, W: int, scales: range, shifter: str, seed: int):
    rng = np.random.default_rng(seed)
    dut = Harness(fmt, W, (scales.start, scales.stop - 1), shifter)
    off = biased_lead_exp_range(fmt, W, (0, 0))[0]
    ps = products(W, rng)
    cases = [(p, s) for s in scales for p in ps]
    got = []

    async def bench(ctx):
        for p, s in cases:
            ctx.set(dut.p, p)
            ctx.set(dut.c, s + off)
            await ctx.tick()
            got.append(ctx.get(dut.bits))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    p = np.array([c[0] for c in cases], dtype=np.int64)
    s = np.array([c[1] for c in cases], dtype=np.int64)
    exp = golden.round_pack(
        (p < 0).astype(np.uint64), np.abs(p).astype(np.uint64), s, fmt, "rne", "ieee", zero=p == 0
    )
    exp = np.asarray(exp, dtype=np.uint64)
    bad = np.nonzero(np.array(got, dtype=np.uint64) != exp)[0]
    assert bad.size == 0, [(int(p[i]), int(s[i]), hex(got[i]), hex(int(exp[i]))) for i in bad[:5]]


@pytest.mark.parametrize("shifter", ["greedy", "lut", "dsp"])
def test_fp32_bfp8_scales(shifter):
    # BFP8/24: W = 19, s = row_exp + col_exp - 12 over [-264, 242]; a few more each side.
    fp32 = parse_format("fp32")
    assert fits(fp32, 19)
    run(fp32, 19, range(-272, 250), shifter, seed=1)


def test_narrow_format_full_width():
    # W = m + 1: no padding below the product, overflow and tiny paths both reachable.
    fmt = parse_format("E5M10")
    assert fits(fmt, 11) and not fits(fmt, 12)
    for shifter in ("greedy", "lut", "dsp"):
        run(fmt, 11, range(-40, 30), shifter, seed=2)
        run(fmt, 7, range(-40, 30), shifter, seed=3)  # pad = 4


@pytest.mark.parametrize("case", [0, 1, 4])  # test_hdl_gemm's CASES with fp32 out
def test_array_with_dsp_column(monkeypatch, case):
    """The array with its columns built with use_dsp (DSP shifters in the BFP->float step and
    in the adder's alignment), bit for bit against golden.bfp_gemm (test_hdl_gemm's check)."""
    import functools

    from test_hdl_gemm import CASES, check_case

    import lpmac.hdl.gemm as gemm

    column = functools.partial(gemm.ColumnAccumulator, use_dsp=True)
    monkeypatch.setattr(gemm, "ColumnAccumulator", column)
    check_case(*CASES[case])
