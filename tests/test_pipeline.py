"""Pipelined multipliers (hdl/pipeline.py cut points) in Amaranth's Python simulator.

One operand pair enters every cycle, back to back, and the result of pair i must appear
exactly `latency` cycles later, equal to the golden model (FpMul: golden.fp_mul; FixedMul:
an exact Fraction rounding) — random and corner vectors, fixed seeds. The cocotb benches
(tests/test_sim_benches.py) run the same units as Verilog."""

from __future__ import annotations

import os
from fractions import Fraction

import fraction_ref as fr
import numpy as np
import pytest
from amaranth.back import rtlil
from amaranth.hdl import Cat
from amaranth.sim import Simulator
from test_hdl_mul import exact_fixmul

from lpmac import golden
from lpmac.config import MulConfig
from lpmac.formats import FixedFormat, parse_float_format
from lpmac.hdl.fpmul import FIXED_MUL_PLAN, MUL_PLAN, FixedMul, FpMul
from lpmac.hdl.pipeline import cuts_for
from lpmac.hdl.rounding import ROUND_PACK_CUTS, RoundPack
from lpmac.sim import vectors as vec

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
U64 = np.uint64
LATENCIES = range(9)  # 0..7 cover MUL_PLAN (7 cuts for fp32), 8 one output register


def run_pipelined(dut, ins, arrays, out, latency: int) -> np.ndarray:
    """Feed vector i in cycle i and read the output of vector i in cycle i + latency."""
    offsets = np.cumsum([0] + [len(p) for p in ins[:-1]])
    packed = sum(np.asarray(a, dtype=object) << int(o) for a, o in zip(arrays, offsets))
    n = len(packed)
    got = np.zeros(n, U64)
    port = Cat(*ins)

    async def bench(ctx):
        for cycle in range(n + latency):
            # After the last vector, keep feeding others: the pipeline must not mix them in.
            ctx.set(port, int(packed[cycle % n]))
            if cycle >= latency:
                got[cycle - latency] = ctx.get(out)
            if latency:
                await ctx.tick()

    sim = Simulator(dut)
    if latency:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


def mismatches(got, want, fmt) -> np.ndarray:
    same = got == want
    if fmt.has_nan:
        same |= np.isnan(golden.to_float(got, fmt)) & np.isnan(golden.to_float(want, fmt))
    return np.flatnonzero(~same)


@pytest.mark.parametrize("latency", LATENCIES)
@pytest.mark.parametrize(
    "spec,n",
    [
        ("E4M3:cfg1", 200),
        ("E4M3:cfg2", 200),
        ("E5M2:cfg5", 200),
        ("fp16:cfg1", 150),
        ("bf16:cfg1", 100),
        ("fp32:cfg1", 60),
    ],
)
def test_fpmul_pipelined(spec, n, latency):
    cfg = MulConfig.parse(spec)
    a, b = vec.product_pairs(cfg.in_format, n, np.random.default_rng(18))
    dut = FpMul(cfg, latency=latency)
    got = run_pipelined(dut, [dut.a, dut.b], [a, b], dut.p, latency)
    want = golden.fp_mul(a, b, cfg)
    bad = mismatches(got, want, cfg.out_format)
    assert bad.size == 0, [
        (hex(int(a[i])), hex(int(b[i])), hex(int(got[i])), hex(int(want[i]))) for i in bad[:5]
    ]


@pytest.mark.parametrize("latency", [0, 5, 6, 7])
@pytest.mark.parametrize("spec,n", [("fp16:cfg1", 150), ("E4M3:cfg1", 200)])
def test_fpmul_pipelined_without_dsp(spec, n, latency):
    """LUT products: fp16's Booth rows split in two halves at the `partials` cut."""
    cfg = MulConfig.parse(spec)
    a, b = vec.product_pairs(cfg.in_format, n, np.random.default_rng(19))
    dut = FpMul(cfg, latency=latency, use_dsp=False)
    got = run_pipelined(dut, [dut.a, dut.b], [a, b], dut.p, latency)
    bad = mismatches(got, golden.fp_mul(a, b, cfg), cfg.out_format)
    assert bad.size == 0, [(hex(int(a[i])), hex(int(b[i])), hex(int(got[i]))) for i in bad[:5]]


@pytest.mark.parametrize("latency", range(4))
@pytest.mark.parametrize("spec,rounding", [("Q4.4", "rne"), ("Q8.8", "rz")])
def test_fixmul_pipelined(spec, rounding, latency):
    fmt = FixedFormat(*map(int, spec[1:].split(".")))
    rng = np.random.default_rng(18)
    corners = vec.fixed_corners(fmt)
    ca, cb = (g.ravel() for g in np.meshgrid(corners, corners))
    a = np.concatenate([ca, rng.integers(0, 1 << fmt.width, 300, dtype=U64)])
    b = np.concatenate([cb, rng.integers(0, 1 << fmt.width, 300, dtype=U64)])
    dut = FixedMul(fmt, rounding, latency=latency)
    got = run_pipelined(dut, [dut.a, dut.b], [a, b], dut.p, latency)
    want = exact_fixmul(a, b, fmt, rounding)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [(int(a[i]), int(b[i]), int(got[i]), int(want[i])) for i in bad[:5]]


@pytest.mark.parametrize("latency", range(9))
@pytest.mark.parametrize(
    "spec,use_dsp", [("fp16:cfg1", True), ("fp32:cfg1", True), ("fp16:cfg1", False)]
)
def test_fpmul_registers_at_the_planned_cuts(spec, use_dsp, latency):
    """The registers sit at the documented cut points, extra stages at the output; only a
    product wider than one DSP block, or built from Booth rows, has the `partials` cut."""
    dut = FpMul(MulConfig.parse(spec), latency=latency, use_dsp=use_dsp)
    split = spec == "fp32:cfg1" or not use_dsp
    assert dut.plan == (MUL_PLAN if split else tuple(p for p in MUL_PLAN if p != "partials"))
    text = rtlil.convert(dut)
    enabled, extra = cuts_for(dut.plan, latency)
    for point in MUL_PLAN:
        assert (f"{point}_" in text) == (point in enabled), point
    assert ("p_d1" in text) == (extra > 0)


def test_fixmul_registers_at_the_planned_cuts():
    text = rtlil.convert(FixedMul(FixedFormat(8, 8), latency=len(FIXED_MUL_PLAN)))
    assert all(f"{point}_" in text for point in FIXED_MUL_PLAN)
    assert "p_d1" not in text


def test_bad_latency_and_cuts():
    with pytest.raises(ValueError, match="latency must be >= 0"):
        FpMul(MulConfig.parse("fp16:cfg1"), latency=-1)
    with pytest.raises(ValueError, match="latency must be >= 0"):
        FixedMul(FixedFormat(8, 8), latency=-1)
    fmt = MulConfig.parse("fp16:cfg1").out_format
    with pytest.raises(ValueError, match="RoundPack cuts must be among"):
        RoundPack(fmt, 22, (-50, 30), cuts=frozenset({"product"}))


@pytest.mark.parametrize("exp_range", [(-90, -20), (-35, -35)])
@pytest.mark.parametrize(
    "cuts",
    [
        frozenset(),
        frozenset({"normalized"}),
        frozenset({"normalizing"}),
        frozenset({"normalizing", "rounded"}),
        frozenset({"denormalizing"}),
        frozenset({"normalized", "denormalizing"}),
        ROUND_PACK_CUTS,
    ],
)
def test_roundpack_wide_significand_against_golden(cuts, exp_range):
    """A significand far wider than the format (an 84-bit sum into E6M5, as a long
    accumulator reads out) with an exponent deep below emin: the early `1 - eb` of the
    normalized cut must cover the whole exponent range (it once took a bit width for it)."""
    fmt = parse_float_format("E6M5")
    rng = np.random.default_rng(7)
    shifts = rng.integers(0, 84, 300)
    sigs = [1 << int(s) | (int(rng.integers(0, 1 << 62)) << int(s)) >> 62 for s in shifts]
    sigs += [1 << 35]
    lo, hi = exp_range
    exps = [int(e) for e in rng.integers(lo, hi + 1, len(sigs) - 1)] + [-35]
    dut = RoundPack(fmt, 84, exp_range, cuts=cuts)
    latency = len(cuts)
    ins = [dut.sig, dut.exp]
    got = run_pipelined(
        dut, ins, [sigs, [e & ((1 << len(dut.exp)) - 1) for e in exps]], dut.bits, latency
    )
    ref = fr.ref_fmt(fmt)
    want = [fr.encode(fr.fin(0, Fraction(s) * Fraction(2) ** e), ref) for s, e in zip(sigs, exps)]
    assert [int(x) for x in got] == want
