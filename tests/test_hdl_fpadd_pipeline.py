"""FpAdd's pipeline (hdl/fpadd.py FP_ADD_CUTS) in Amaranth's simulator: a new operand pair
(and sr random input `u`) enters every cycle and each result, read `latency` cycles later, is
compared with an independent reference at every latency 0..len(FP_ADD_CUTS)+1 (latencies
beyond a unit's `cut_plan` add output registers). fp32 rne against NumPy float32 addition
(SPEC's canonical NaN checked bit for bit); bf16, mixed formats, flush and sr against golden
`fp_add` (checked against the exact Fraction model in tests/test_hdl_accum.py). The `slow`
tests use far more vectors."""

from __future__ import annotations

import fraction_ref as fr
import numpy as np
import pytest
from amaranth.hdl import Cat, Fragment
from amaranth.sim import Simulator
from test_hdl_accum import _pack, corner_bits, fpadd_vectors, x_format

from lpmac import golden
from lpmac.config import AccConfig
from lpmac.hdl.fpadd import FP_ADD_CUTS, NORM_DSP_MIN_SIG, AddPlan, FpAdd

U64 = np.uint64
LATENCIES = range(len(FP_ADD_CUTS) + 2)
FP32_NAN = 0x7FC00000  # SPEC §1: sign 0, all-ones exponent, the fraction's top bit


def sim_stream(dut: FpAdd, ports, arrays) -> np.ndarray:
    """One vector per cycle into `ports`; `s` read `dut.latency` cycles after each went in
    (during the cycle, before its clock edge, so latency 0 reads the combinational result)."""
    packed = _pack(ports, arrays)
    inp, lat = Cat(*ports), dut.latency
    got = np.zeros(len(packed), U64)

    async def bench(ctx):
        for t in range(len(packed) + lat):
            ctx.set(inp, packed[t] if t < len(packed) else 0)
            if t >= lat:
                got[t - lat] = ctx.get(dut.s)
            if lat:  # latency 0 has no clock domain
                await ctx.tick()

    sim = Simulator(dut)
    if lat:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


def fp32_pairs(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Random fp32 pairs: corner x corner values, uniformly random encodings, subnormal and
    near-overflow operands, close exponents with opposite signs (cancellation), x = -acc
    nudged by a few ulps, and x = +-half an ulp of acc (ties, and one ulp above them)."""
    rng = np.random.default_rng(seed)
    k = n // 7

    def enc(sign, field, frac):
        return sign << 31 | field << 23 | frac

    def sign():
        return rng.integers(0, 2, k)

    def frac():
        return rng.integers(0, 1 << 23, k)

    corners = corner_bits(AccConfig.parse("fp32").fmt).astype(np.int64)
    a = [rng.choice(corners, k), rng.integers(0, 1 << 32, k)]
    x = [rng.choice(corners, k), rng.integers(0, 1 << 32, k)]
    a.append(enc(sign(), 0, frac()))  # subnormal + subnormal or anything
    x.append(np.where(rng.random(k) < 0.5, enc(sign(), 0, frac()), rng.integers(0, 1 << 32, k)))
    a.append(enc(sign(), rng.integers(0xFC, 0xFF, k), frac()))  # overflow
    x.append(enc(sign(), rng.integers(0xFC, 0xFF, k), frac()))
    field = rng.integers(0, 0xFF, k)  # exponents within 2 of each other, opposite signs
    a.append(enc(0, field, frac()))
    x.append(enc(1, np.clip(field + rng.integers(-2, 3, k), 0, 0xFE), frac()))
    base = rng.integers(0, 0xFF << 23, k)  # x = -acc, a few ulps off
    a.append(base)
    x.append(enc(1, 0, np.clip(base + rng.integers(-3, 4, k), 0, (0xFF << 23) - 1)))
    field = rng.integers(25, 0xFF, k)  # x = +-2^(e_acc - 24) (+ one ulp of x)
    a.append(enc(sign(), field, frac()))
    x.append(enc(sign(), field - 24, rng.integers(0, 2, k)))
    a, x = np.concatenate(a).astype(U64), np.concatenate(x).astype(U64)
    swap = rng.random(a.size) < 0.5  # either operand the bigger one
    return np.where(swap, x, a), np.where(swap, a, x)


def numpy_fp32_add(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    with np.errstate(all="ignore"):
        total = a.astype(np.uint32).view(np.float32) + x.astype(np.uint32).view(np.float32)
    bits = total.view(np.uint32).astype(U64)
    return np.where(np.isnan(total), U64(FP32_NAN), bits)


def check_fp32(latency: int, use_dsp: bool, n: int, seed: int):
    cfg = AccConfig.parse("fp32")
    a, x = fp32_pairs(n, seed)
    exp = numpy_fp32_add(a, x)
    dut = FpAdd(cfg, cfg.fmt, use_dsp=use_dsp, latency=latency)
    got = sim_stream(dut, [dut.acc, dut.x], [a, x])
    fr.assert_bits(
        got, exp, cfg.fmt, a, x, names=("acc", "x"), in_fmts=[cfg.fmt, cfg.fmt],
        what=f"FpAdd fp32 latency {latency} use_dsp={use_dsp} vs NumPy float32",
    )  # fmt: skip
    nan = exp == FP32_NAN
    assert nan.any() and (got[nan] == FP32_NAN).all()  # the canonical NaN, bit for bit


def check_golden(acc_spec: str, x_spec: str | None, latency: int, n: int, seed: int, dsp=False):
    cfg = AccConfig.parse(acc_spec)
    xf = x_format(x_spec, cfg)
    a, x, u = fpadd_vectors(cfg, xf, n, seed)
    exp = golden.fp_add(a, x, cfg, xf, u)
    dut = FpAdd(cfg, xf, use_dsp=dsp, latency=latency)
    ports, arrays = [dut.acc, dut.x], [a, x]
    if u is not None:
        ports.append(dut.u)
        arrays.append(u)
    got = sim_stream(dut, ports, arrays)
    fr.assert_bits(
        got, exp, cfg.fmt, *arrays, names=("acc", "x", "u"),
        in_fmts=[cfg.fmt, xf] + ([None] if u is not None else []),
        what=f"FpAdd {cfg} + x {xf} latency {latency}",
    )  # fmt: skip


@pytest.mark.parametrize("use_dsp", [False, True], ids=["lut", "dsp"])
@pytest.mark.parametrize("latency", LATENCIES)
def test_fp32_vs_numpy(latency, use_dsp):
    check_fp32(latency, use_dsp, n=560, seed=latency)


# bf16; E6M5 / E7M7 accumulators of multiplier outputs (with a capped normaliser), sr, flush,
# E4M3 fed fp16 (RoundPack normalises: the normaliser cuts are RoundPack's own), -inf, -fin.
GOLDEN_CASES = [
    ("bf16", None),  # a GEMM column's output format (the column adds in its own format)
    ("E6M5", "E5M2:cfg5"),
    ("E6M5:sr,bits=8,seed=5", None),
    ("E7M7:sr,bits=4,flush", "E5M2:cfg5"),
    ("E4M3:rz,flush", "fp16"),
    ("E6M5-inf", "E5M2:cfg5"),  # the other two overflow rules (SPEC §1 specials)
    ("E5M2-fin:sr,bits=4", None),
]


@pytest.mark.parametrize("latency", LATENCIES)
@pytest.mark.parametrize("acc_spec,x_spec", GOLDEN_CASES, ids=[f"{a}+{x}" for a, x in GOLDEN_CASES])
def test_narrow_vs_golden(acc_spec, x_spec, latency):
    check_golden(acc_spec, x_spec, latency, n=60, seed=latency)


def test_plan_covers_both_normalisers():
    """The cases above build both kinds: FpAdd's capped normaliser and RoundPack's own."""
    kinds = set()
    for acc_spec, x_spec in GOLDEN_CASES:
        cfg = AccConfig.parse(acc_spec)
        plan = AddPlan.of(
            cfg.fmt, x_format(x_spec, cfg), cfg.sr_bits if cfg.rounding == "sr" else 0
        )
        base = cfg.fmt.emin - (plan.width - 1) + plan.guard
        kinds.add(plan.exp_lo >= base)  # capped normaliser, as FpAdd._norm_cap decides
    assert kinds == {True, False}
    assert AccConfig.parse("fp32").fmt.m + 1 >= NORM_DSP_MIN_SIG  # fp32 dsp builds the DSP path


def test_latency_attribute_and_bad_latency():
    cfg = AccConfig.parse("fp32")
    for latency in (0, 3):
        dut = FpAdd(cfg, latency=latency)
        Fragment.get(dut, None)  # elaborates (no unused-elaboratable warning)
        assert dut.latency == latency
    for bad in (-1, 1.5, "2"):
        with pytest.raises(ValueError, match="latency"):
            FpAdd(cfg, latency=bad)


@pytest.mark.slow
@pytest.mark.parametrize("use_dsp", [False, True], ids=["lut", "dsp"])
@pytest.mark.parametrize("latency", LATENCIES)
def test_fp32_vs_numpy_slow(latency, use_dsp):
    check_fp32(latency, use_dsp, n=5000, seed=100 + latency)


SLOW_CASES = GOLDEN_CASES + [
    ("fp16", None),
    ("fp32:sr,bits=8,seed=5", None),
    ("fp32:rz,flush", "E5M2:cfg5"),
    ("E8M15", "bf16"),
]


@pytest.mark.slow
@pytest.mark.parametrize("latency", LATENCIES)
@pytest.mark.parametrize("acc_spec,x_spec", SLOW_CASES, ids=[f"{a}+{x}" for a, x in SLOW_CASES])
def test_vs_golden_slow(acc_spec, x_spec, latency):
    check_golden(acc_spec, x_spec, latency, n=3000, seed=100 + latency)
    if AccConfig.parse(acc_spec).fmt.m + 1 >= NORM_DSP_MIN_SIG:
        check_golden(acc_spec, x_spec, latency, n=3000, seed=200 + latency, dsp=True)
