"""The converter units of hdl/convert.py against the golden model (golden/convert.py),
in Amaranth's Python simulator, bit for bit (NaN included: the canonical encoding).

Exhaustive where the input space is small (every 8-bit float into several targets, every
E6M5 into Q8.13 and into 8-bit floats, every Q6.6 into E5M2); random plus corner vectors
(zeros, subnormals, min/max, inf, NaN, the rounding ties and the overflow / underflow
thresholds of the target) for the wide formats; BFP blocks built to hit zeros, subnormals,
ties, the element clamp and special blocks; stochastic rounding checked against the
golden generator sequence with gaps in `valid`. Longer sweeps are marked `slow`.
"""

from __future__ import annotations

import gc
import warnings
import zlib

import numpy as np
import pytest
from amaranth.hdl import ClockDomain, Elaboratable, Module, UnusedElaboratable
from amaranth.sim import Simulator

from lpmac import golden as G
from lpmac.formats import BfpFormat, FixedFormat, FloatFormat, parse_format
from lpmac.golden.bitops import from_signed
from lpmac.golden.convert import bfp_random_bits
from lpmac.hdl.convert import (
    BfpToFloat,
    FixedToFloat,
    FloatToBfp,
    FloatToFixed,
    FloatToFloat,
    bfp_exp_range,
)
from lpmac.hdl.convert_bfp import TOBFP_CUTS

F = parse_format


# --------------------------------------------------------------------------- simulation
class _WithReset(Elaboratable):
    """Wraps a unit with an explicit sync domain so that a testbench can drive `rst`."""

    def __init__(self, dut):
        self.dut, self.cd = dut, ClockDomain("sync")

    def elaborate(self, platform):
        m = Module()
        m.domains.sync = self.cd
        m.submodules.dut = self.dut
        return m


def simulate(
    dut, inputs: dict, outputs: list[str], *, latency: int = 0, reset_at: int | None = None
):
    """One input vector per cycle; returns {output: list of ints}, entry i being the result
    of input i (read `latency` cycles later, just before the clock edge). Units with a
    clock (latency or `valid`) run with one; `reset_at` pulses rst during that cycle."""
    n = len(next(iter(inputs.values())))
    clocked = latency > 0 or hasattr(dut, "valid")
    top = _WithReset(dut) if reset_at is not None else dut
    ins = [(getattr(dut, p), v) for p, v in inputs.items()]
    outs = [(o, getattr(dut, o)) for o in outputs]
    res = {o: [] for o in outputs}

    async def bench(ctx):
        for i in range(n + latency):
            for sig, vals in ins:
                ctx.set(sig, int(vals[i]) if i < n else 0)
            if reset_at is not None:
                ctx.set(top.cd.rst, int(i == reset_at))
            if i >= latency:
                for o, sig in outs:
                    res[o].append(ctx.get(sig))
            if clocked:
                await ctx.tick()

    sim = Simulator(top)
    if clocked:
        sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return res


# --------------------------------------------------------------------------- messages
def show(bits, fmt) -> str:
    """A bit pattern with its value: '0x7b=57344.0'."""
    bits = int(bits)
    if fmt is None:
        return str(bits)
    if isinstance(fmt, FixedFormat):
        v = bits - (1 << fmt.width) if bits >> (fmt.width - 1) else bits
        return f"0x{bits:0{(fmt.width + 3) // 4}x}={v / 2.0**fmt.f!r}"
    val = float(G.to_float(np.array([bits], dtype=np.uint64), fmt)[0])
    return f"0x{bits:0{(fmt.width + 3) // 4}x}={val!r}"


def check(
    what: str, a, a_fmt, expected, got, out_fmt, *, extra: dict | None = None, limit: int = 10
):
    """Fail with decoded input / expected / got for the first mismatches."""
    expected = np.asarray(expected, dtype=np.uint64)
    got = np.asarray([int(g) for g in got], dtype=np.uint64)
    bad = np.flatnonzero(expected != got)
    extra = extra or {}
    if len(bad):
        lines = [f"{what}: {len(bad)} of {len(expected)} vectors differ"]
        for i in bad[:limit]:
            more = "".join(f", {k}={v[i]}" for k, v in extra.items())
            lines.append(
                f"  #{i}: in {show(a[i], a_fmt)}{more} -> expected {show(expected[i], out_fmt)}, "
                f"got {show(got[i], out_fmt)}"
            )
        pytest.fail("\n".join(lines))
    return len(expected)


# --------------------------------------------------------------------------- vectors
def rng_for(*key) -> np.random.Generator:
    """A generator seeded from the test's parameters: reproducible, different per case."""
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def all_bits(fmt) -> np.ndarray:
    return np.arange(1 << fmt.width, dtype=np.uint64)


def float_corners(fmt: FloatFormat) -> np.ndarray:
    """Zeros, subnormal extremes, normal extremes, one, inf/NaN patterns, both signs."""
    m, ones = fmt.m, fmt.exp_all_ones
    mags = [
        0,
        1,
        2,
        (1 << m) - 1,
        1 << m,
        (1 << m) | 1,
        (2 << m) - 1,  # zero, subnormals, min normal
        fmt.bias << m,
        (fmt.bias << m) | 1,  # 1.0 and its successor
        (fmt.max_field << m) | fmt.max_frac,
        (fmt.max_field << m) | (fmt.max_frac - 1),  # max finite
        (fmt.max_field << m),
        ones << m,
        (ones << m) | 1,
        (ones << m) | (1 << (m - 1)),
        (ones << m) | ((1 << m) - 1),
    ]  # top binade: inf / NaN patterns
    mags = [x for x in mags if 0 <= x < 1 << (fmt.width - 1)]
    sign = 1 << (fmt.width - 1)
    return np.array(sorted(set(mags + [x | sign for x in mags])), dtype=np.uint64)


def random_floats(fmt: FloatFormat, n: int, rng, e_lo: int, e_hi: int) -> np.ndarray:
    """n patterns: a quarter uniform over all bits, the rest with unbiased exponents in
    [e_lo, e_hi] (clipped to the format's fields, field 0 = subnormals) and random fractions."""
    q = n // 4
    uni = rng.integers(0, 1 << fmt.width, q, dtype=np.uint64)
    lo = int(np.clip(e_lo + fmt.bias, 0, fmt.exp_all_ones))
    hi = int(np.clip(e_hi + fmt.bias, 0, fmt.exp_all_ones))
    field = rng.integers(lo, hi + 1, n - q).astype(np.uint64)
    frac = rng.integers(0, 1 << fmt.m, n - q, dtype=np.uint64)
    sign = rng.integers(0, 2, n - q).astype(np.uint64)
    body = (sign << np.uint64(fmt.width - 1)) | (field << np.uint64(fmt.m)) | frac
    return np.concatenate([uni, body])


def neighbours(bits: np.ndarray, fmt, span: int = 2) -> np.ndarray:
    """Each pattern and its magnitude neighbours +-1..span (same sign, kept in range)."""
    out = [bits]
    sign = bits & np.uint64(1 << (fmt.width - 1))
    mag = (bits & ~sign).astype(np.int64)
    for d in range(1, span + 1):
        for s in (d, -d):
            v = np.clip(mag + s, 0, (1 << (fmt.width - 1)) - 1).astype(np.uint64)
            out.append(sign | v)
    return np.unique(np.concatenate(out))


def float_thresholds(src: FloatFormat, dst: FloatFormat) -> np.ndarray:
    """`src` patterns at and around every value of the small format `dst` and every midpoint
    between neighbours (rounding ties), the overflow threshold (midpoint between max finite
    and the next binade value) and the underflow ones (half the smallest subnormal)."""
    vals = G.to_float(all_bits(dst), dst)
    vals = np.unique(np.abs(vals[np.isfinite(vals)]))
    top_ulp = 2.0 ** (dst.max_field - dst.bias - dst.m)
    vals = np.concatenate([vals, [vals[-1] + top_ulp, 2.0 ** (dst.emin - dst.m - 1)]])
    pts = np.concatenate([vals, (vals[:-1] + vals[1:]) / 2])
    pts = np.concatenate([pts, -pts])
    bits = G.from_float(pts, src, "rz")
    return neighbours(bits, src, 2)


def fixed_thresholds(src: FloatFormat, dst: FixedFormat, rng, n: int) -> np.ndarray:
    """`src` patterns at and around fixed grid points and midpoints (random, plus the ends
    of the range, half an ulp, and the saturation thresholds)."""
    k = rng.integers(dst.min_int, dst.max_int + 1, n).astype(np.float64)
    ends = np.array(
        [
            0,
            1,
            2,
            3,
            dst.max_int - 1,
            dst.max_int,
            dst.min_int,
            dst.min_int + 1,
            dst.max_int + 1,
            dst.max_int + 2,
            2 * dst.max_int,
        ],
        dtype=np.float64,
    )
    k = np.concatenate([k, ends, -ends])
    pts = np.concatenate([k, k + 0.5, k - 0.5, k + 0.25]) * 2.0**-dst.f
    return neighbours(G.from_float(pts, src, "rz"), src, 1)


# --------------------------------------------------------------------------- float -> float
def run_f2f(src, dst, a, latency: int = 0, **kw):
    dut = FloatToFloat(src, dst, latency=latency, **kw)
    got = simulate(dut, {"a": a}, ["y"], latency=latency)["y"]
    exp = G.convert(
        a,
        src,
        dst,
        kw.get("mode", "rne"),
        kw.get("sub_out", "ieee"),
        saturate=kw.get("saturate", False),
        sub_in=kw.get("sub_in", "ieee"),
    )
    return check(f"FloatToFloat {src}->{dst} {kw} latency={latency}", a, src, exp, got, dst)


F2F_SMALL = [
    ("E4M3", "fp16", {}),
    ("E4M3", "fp32", {}),
    ("E4M3", "E5M2", {}),
    ("E4M3", "E5M2", {"mode": "rz"}),
    ("E4M3", "E3M2", {"mode": "rna"}),
    ("E4M3", "E3M2", {"sub_out": "flush"}),
    ("E4M3", "E2M1", {"saturate": True}),
    ("E4M3", "E4M3-fin", {}),
    ("E4M3", "E3M4-inf", {"mode": "rna"}),
    ("E5M2", "E4M3", {}),
    ("E5M2", "E4M3", {"mode": "rz"}),
    ("E5M2", "E4M3", {"mode": "rna"}),
    ("E5M2", "E4M3", {"sub_out": "flush"}),
    ("E5M2", "E4M3", {"saturate": True}),
    ("E5M2", "E4M3-fin", {"mode": "rz", "sub_out": "flush"}),
    ("E5M2", "E2M3b0", {}),
    ("E5M2", "bf16", {}),
    ("E5M2", "E3M1-inf", {"sub_out": "flush", "saturate": True}),
    ("E5M2-inf", "E4M3", {"sub_in": "as_normal"}),
    ("E5M2-inf", "E4M3", {"sub_in": "flush"}),
    ("E4M3-fin", "E5M2-inf", {"sub_in": "as_normal", "mode": "rna"}),
    # a wide exponent field with a small bias: RoundPack once packed a too narrow field
    ("E2M1-inf", "E5M1b2-fin", {}),
    ("E3M2", "E7M2b4", {"sub_out": "flush"}),
]


@pytest.mark.parametrize(
    "src,dst,kw",
    F2F_SMALL,
    ids=lambda x: (
        str(x) if not isinstance(x, dict) else ",".join(f"{k}={v}" for k, v in x.items()) or "rne"
    ),
)
def test_float_to_float_exhaustive_small(src, dst, kw):
    src, dst = F(src), F(dst)
    assert run_f2f(src, dst, all_bits(src), **kw) == 1 << src.width


@pytest.mark.parametrize(
    "dst,kw",
    [
        ("E4M3", {}),
        ("E5M2", {"mode": "rz"}),
        ("E5M2", {"sub_out": "flush"}),
        ("E3M2", {"mode": "rna", "saturate": True}),
        ("fp16", {}),
    ],
)
def test_float_to_float_exhaustive_e6m5(dst, kw):
    src = F("E6M5")
    assert run_f2f(src, F(dst), all_bits(src), **kw) == 4096


@pytest.mark.parametrize(
    "kw",
    [{}, {"mode": "rna"}, {"mode": "rz"}, {"sub_out": "flush"}, {"saturate": True}],
    ids=["rne", "rna", "rz", "flush", "saturate"],
)
def test_fp32_to_e5m2(kw):
    src, dst = F("fp32"), F("E5M2")
    rng = rng_for("fp32-e5m2", kw)
    a = np.concatenate(
        [
            float_corners(src),
            float_thresholds(src, dst),
            random_floats(src, 1500, rng, dst.emin - dst.m - 4, dst.emax + 3),
        ]
    )
    run_f2f(src, dst, a, **kw)


@pytest.mark.parametrize(
    "kw",
    [{}, {"mode": "rna"}, {"mode": "rz"}, {"sub_out": "flush"}, {"saturate": True}],
    ids=["rne", "rna", "rz", "flush", "saturate"],
)
def test_fp16_to_e4m3(kw):
    src, dst = F("fp16"), F("E4M3")
    rng = rng_for("fp16-e4m3", kw)
    a = np.concatenate(
        [
            float_corners(src),
            float_thresholds(src, dst),
            random_floats(src, 1500, rng, dst.emin - dst.m - 4, dst.emax + 3),
        ]
    )
    run_f2f(src, dst, a, **kw)


@pytest.mark.parametrize("src,dst", [("bf16", "fp16"), ("fp32", "bf16"), ("fp16", "E5M2-inf")])
def test_float_to_float_wide_random(src, dst):
    src, dst = F(src), F(dst)
    rng = rng_for("wide", src, dst)
    a = np.concatenate(
        [float_corners(src), random_floats(src, 1200, rng, dst.emin - dst.m - 4, dst.emax + 3)]
    )
    run_f2f(src, dst, a)


@pytest.mark.slow
@pytest.mark.parametrize(
    "kw",
    [{}, {"mode": "rna"}, {"mode": "rz"}, {"sub_out": "flush"}, {"saturate": True}],
    ids=["rne", "rna", "rz", "flush", "saturate"],
)
@pytest.mark.parametrize("src,dst", [("fp16", "E4M3"), ("fp16", "E5M2"), ("bf16", "E5M2")])
def test_float_to_float_exhaustive_16bit(src, dst, kw):
    src, dst = F(src), F(dst)
    assert run_f2f(src, dst, all_bits(src), **kw) == 65536


# --------------------------------------------------------------------------- stochastic rounding
def run_f2f_sr(src, dst, a, valid, *, latency=0, sr_bits=8, sr_seed=1, reset_at=None, **kw):
    """Drive a stream with gaps in `valid`; every output (valid or not) must be the golden
    result with the u the generator holds at that point: the k-th valid conversion takes the
    k-th random value, an idle cycle shows the next one without consuming it.

    `reset_at`: rst is high during that cycle. The edge ending it reloads the seed and
    clears the pipeline registers, so inputs c-latency+1..c are not checked; inputs from
    c+1 on restart the random sequence."""
    dut = FloatToFloat(src, dst, mode="sr", sr_bits=sr_bits, sr_seed=sr_seed, latency=latency, **kw)
    got = np.array(
        simulate(dut, {"a": a, "valid": valid}, ["y"], latency=latency, reset_at=reset_at)["y"],
        dtype=np.uint64,
    )
    valid = np.asarray(valid, dtype=np.int64)
    before = np.concatenate([[0], np.cumsum(valid)[:-1]])  # valid conversions before each one
    keep = np.ones(len(a), bool)
    if reset_at is not None:
        idx = np.arange(len(a))
        keep = (idx <= reset_at - latency) | (idx > reset_at)
        before = np.where(idx > reset_at, before - before[reset_at + 1], before)
    us = G.random_bits(sr_seed, int(valid.sum()) + 1, sr_bits)
    exp = G.convert(
        a,
        src,
        dst,
        "sr",
        kw.get("sub_out", "ieee"),
        saturate=kw.get("saturate", False),
        sub_in=kw.get("sub_in", "ieee"),
        u=us[before],
        r=sr_bits,
    )
    return check(
        f"FloatToFloat sr {src}->{dst} {kw} latency={latency} bits={sr_bits} seed={sr_seed}",
        a[keep],
        src,
        exp[keep],
        got[keep],
        dst,
        extra={"valid": valid[keep], "u": us[before][keep], "step": before[keep]},
    )


@pytest.mark.parametrize("latency", [0, 1, 2, 3])
def test_float_to_float_sr_stream(latency):
    src, dst = F("fp16"), F("E4M3")
    rng = rng_for("sr", latency)
    a = np.concatenate(
        [float_thresholds(src, dst), random_floats(src, 600, rng, dst.emin - 6, dst.emax + 2)]
    )
    a = rng.permutation(a)[:1500]
    valid = (rng.random(len(a)) < 0.8).astype(np.int64)
    run_f2f_sr(src, dst, a, valid, latency=latency, sr_seed=0x1234567)


@pytest.mark.parametrize(
    "src,dst,kw",
    [
        ("E5M2", "E3M1", {}),
        ("E4M3", "E2M1", {"sub_out": "flush"}),
        ("E5M2", "E4M3", {"saturate": True}),
        ("E6M5", "E5M2", {}),
    ],
)
@pytest.mark.parametrize("sr_bits", [1, 3, 8])
def test_float_to_float_sr_exhaustive(src, dst, kw, sr_bits):
    """Every input, several times over (so each meets several random values)."""
    src, dst = F(src), F(dst)
    rng = rng_for("sr-exh", src, dst, kw, sr_bits)
    reps = 2 if src.width > 8 else 4
    a = np.concatenate([rng.permutation(all_bits(src)) for _ in range(reps)])[:4096]
    run_f2f_sr(
        src, dst, a, np.ones(len(a), np.int64), sr_bits=sr_bits, sr_seed=sr_bits * 77 + 5, **kw
    )


@pytest.mark.parametrize("latency", [0, 2])
def test_float_to_float_sr_reset_reloads_seed(latency):
    src, dst = F("E5M2"), F("E3M1")
    a = np.tile(all_bits(src)[:64], 3)
    valid = np.ones(len(a), np.int64)
    run_f2f_sr(src, dst, a, valid, latency=latency, reset_at=100, sr_seed=99)


def test_float_to_float_sr_matches_golden_default_sequence():
    """With valid always high, the unit reproduces golden.convert driven by
    golden.random_bits(seed) from the start, as the SPEC §6 generator defines it."""
    src, dst = F("fp32"), F("E5M2")
    rng = rng_for("sr-golden")
    a = random_floats(src, 800, rng, dst.emin - 5, dst.emax + 1)
    dut = FloatToFloat(src, dst, mode="sr", sr_bits=5, sr_seed=2024)
    got = simulate(dut, {"a": a, "valid": np.ones(len(a))}, ["y"])["y"]
    exp = G.convert(a, src, dst, "sr", u=G.random_bits(2024, len(a), 5), r=5)
    check("FloatToFloat sr fp32->E5M2 bits=5 seed=2024", a, src, exp, got, dst)


# --------------------------------------------------------------------------- float -> fixed
def run_f2x(src, dst, a, latency: int = 0, **kw):
    dut = FloatToFixed(src, dst, latency=latency, **kw)
    res = simulate(dut, {"a": a}, ["y", "invalid"], latency=latency)
    exp, inv = G.to_fixed(a, src, dst, kw.get("mode", "rne"), kw.get("sub_in", "ieee"))
    what = f"FloatToFixed {src}->{dst} {kw} latency={latency}"
    n = check(what, a, src, exp, res["y"], dst)
    check(what + " [invalid flag]", a, src, inv.astype(np.uint64), res["invalid"], None)
    return n


F2X_SMALL = [
    ("E4M3", "Q8.13", {}),
    ("E4M3", "Q8.13", {"mode": "rz"}),
    ("E5M2", "Q8.13", {}),
    ("E5M2", "Q8.13", {"mode": "rz"}),
    ("E5M2", "Q8.13", {"mode": "rna"}),
    ("E5M2", "Q2.6", {}),
    ("E5M2", "Q16.0", {"mode": "rz"}),
    ("E4M3", "Q1.7", {}),
    ("E4M3", "Q32.0", {}),
    ("E5M2", "Q2.30", {}),
    ("E3M2", "Q1.31", {"mode": "rz"}),
    ("E2M3b0", "Q1.4", {}),
    ("E5M2-inf", "Q8.13", {"sub_in": "as_normal"}),
    ("E5M2-inf", "Q8.13", {"sub_in": "flush"}),
    ("E4M3-fin", "Q4.4", {"sub_in": "as_normal", "mode": "rz"}),
]


@pytest.mark.parametrize(
    "src,dst,kw",
    F2X_SMALL,
    ids=lambda x: (
        str(x) if not isinstance(x, dict) else ",".join(f"{k}={v}" for k, v in x.items()) or "rne"
    ),
)
def test_float_to_fixed_exhaustive_small(src, dst, kw):
    src = F(src)
    assert run_f2x(src, F(dst), all_bits(src), **kw) == 1 << src.width


@pytest.mark.parametrize("mode", ["rne", "rz"])
def test_e6m5_to_q8_13_exhaustive(mode):
    src = F("E6M5")
    assert run_f2x(src, F("Q8.13"), all_bits(src), mode=mode) == 4096


@pytest.mark.parametrize("src", ["fp32", "fp16", "bf16"])
@pytest.mark.parametrize("mode", ["rne", "rz"])
def test_float_to_q8_13_random(src, mode):
    src, dst = F(src), F("Q8.13")
    rng = rng_for("f2x", src, mode)
    a = np.concatenate(
        [
            float_corners(src),
            fixed_thresholds(src, dst, rng, 120),
            random_floats(src, 800, rng, -dst.f - 3, dst.i + 2),
        ]
    )
    run_f2x(src, dst, a, mode=mode)


@pytest.mark.slow
@pytest.mark.parametrize("sub_in", ["ieee", "as_normal", "flush"])
@pytest.mark.parametrize("mode", ["rne", "rna", "rz"])
@pytest.mark.parametrize(
    "src,dst",
    [
        ("E6M5", "Q8.13"),
        ("E6M5-inf", "Q4.4"),
        ("fp16", "Q8.13"),
        ("fp16", "Q16.16"),
        ("bf16", "Q8.13"),
    ],
)
def test_float_to_fixed_exhaustive_slow(src, dst, mode, sub_in):
    src = F(src)
    assert run_f2x(src, F(dst), all_bits(src), mode=mode, sub_in=sub_in) == 1 << src.width


# --------------------------------------------------------------------------- fixed -> float
def run_x2f(src, dst, a, latency: int = 0, **kw):
    dut = FixedToFloat(src, dst, latency=latency, **kw)
    got = simulate(dut, {"a": a}, ["y"], latency=latency)["y"]
    exp = G.from_fixed(a, src, dst, kw.get("mode", "rne"), kw.get("sub_out", "ieee"))
    return check(f"FixedToFloat {src}->{dst} {kw} latency={latency}", a, src, exp, got, dst)


@pytest.mark.parametrize(
    "dst,kw",
    [
        ("E5M2", {}),
        ("E5M2", {"mode": "rz"}),
        ("E5M2", {"mode": "rna"}),
        ("E5M2", {"sub_out": "flush"}),
        ("E4M3", {}),
        ("E2M1", {}),
        ("E3M2-fin", {"sub_out": "flush"}),
        ("E5M2-inf", {"mode": "rz"}),
        ("E7M2b8", {}),
    ],
)
def test_q6_6_exhaustive(dst, kw):
    src = F("Q6.6")
    assert run_x2f(src, F(dst), all_bits(src), **kw) == 4096


def fixed_corners(fmt: FixedFormat, rng, n: int) -> np.ndarray:
    w = fmt.width
    special = [0, 1, 2, 3, fmt.max_int, fmt.max_int - 1, fmt.min_int, fmt.min_int + 1, -1, -2, -3]
    special += [s * (1 << k) + d for k in range(w - 1) for s in (1, -1) for d in (-1, 0, 1)]
    special = [v for v in special if fmt.min_int <= v <= fmt.max_int]
    # random magnitudes spread over every bit length
    lens = rng.integers(1, w, n)
    mags = (rng.integers(0, 1 << 62, n, dtype=np.int64) >> (62 - lens + 1)) | (1 << (lens - 1))
    vals = np.where(rng.integers(0, 2, n) == 1, -mags, mags)
    return from_signed(np.concatenate([np.array(special, dtype=np.int64), vals]), w)


@pytest.mark.parametrize(
    "src,dst,kw",
    [
        ("Q8.13", "fp16", {}),
        ("Q8.13", "E4M3", {}),
        ("Q8.13", "E5M2", {"sub_out": "flush", "mode": "rz"}),
        ("Q16.16", "fp32", {}),
        ("Q32.0", "bf16", {"mode": "rna"}),
        ("Q1.31", "E4M3", {}),
        ("Q2.0", "E2M1", {}),
    ],
)
def test_fixed_to_float_random(src, dst, kw):
    src = F(src)
    a = fixed_corners(src, rng_for("x2f", src, dst, kw), 800)
    run_x2f(src, F(dst), a, **kw)


@pytest.mark.slow
@pytest.mark.parametrize(
    "dst,kw", [("fp16", {}), ("E4M3", {}), ("E5M2", {"mode": "rz", "sub_out": "flush"})]
)
def test_q8_5_exhaustive_slow(dst, kw):
    src = F("Q8.5")
    assert run_x2f(src, F(dst), all_bits(src), **kw) == 8192


# --------------------------------------------------------------------------- float -> BFP
def pack(lanes, width: int) -> int:
    out = 0
    for t, v in enumerate(lanes):
        out |= (int(v) & ((1 << width) - 1)) << (t * width)
    return out


def unpack_lanes(word: int, width: int, n: int, signed: bool = False) -> list[int]:
    vals = [(int(word) >> (t * width)) & ((1 << width) - 1) for t in range(n)]
    if signed:
        vals = [v - (1 << width) if v >> (width - 1) else v for v in vals]
    return vals


def bfp_blocks(fmt: FloatFormat, bfp: BfpFormat, n: int, rng) -> np.ndarray:
    """(n', T) blocks: random values at random scales with a per-lane spread (so elements
    underflow to 0), zeros and -0, subnormals, rounding ties and clamp cases built on the
    block's maximum, an inf block, a -inf block, a NaN block, max finite."""
    T, m = bfp.T, fmt.m
    lo, hi = fmt.emin - m, fmt.max_field - fmt.bias
    scale = rng.integers(lo, hi + 1, (n, 1)).astype(np.float64)
    spread = rng.integers(0, bfp.m + 4, (n, T)) * (rng.random((n, T)) < 0.5)
    vals = rng.standard_normal((n, T)) * 2.0 ** (scale - spread)
    vals[rng.random((n, T)) < 0.05] = 0.0
    blocks = [G.from_float(np.clip(vals, -fmt.max_finite, fmt.max_finite), fmt)]
    # exact ties and near-ties of the element grid, and the clamp: the block max is 2^e
    # (lane 0) or just below 2^(e+1)
    e = rng.integers(fmt.emin, hi, (n, 1))
    unit = 2.0 ** (e - (bfp.m - 2))
    k = rng.integers(-bfp.kmax, bfp.kmax, (n, T)).astype(np.float64)
    frac = rng.choice([0.5, 0.25, 0.75, 0.0, 0.5 + 2.0**-10], (n, T))
    tie = np.copysign(np.abs(k) + frac, k) * unit
    tie[:, 0] = np.where(rng.random(n) < 0.5, 2.0 ** e[:, 0], (2 - 2.0**-m) * 2.0 ** e[:, 0])
    blocks.append(G.from_float(np.clip(tie, -fmt.max_finite, fmt.max_finite), fmt))
    sign = np.uint64(1 << (fmt.width - 1))
    sub = rng.integers(0, 1 << m, (4, T), dtype=np.uint64) | (
        rng.integers(0, 2, (4, T)).astype(np.uint64) * sign
    )
    sub[1, 0] = np.uint64(1 << m)  # min normal with subnormals
    zeros = np.zeros((2, T), np.uint64)
    zeros[1, ::2] = sign  # -0
    inf_bits = (fmt.exp_all_ones << m) | ((1 << m) - 1 if fmt.specials == "inf_only" else 0)
    specials = blocks[0][:3].copy()
    if fmt.has_inf:
        specials[0, T // 2] = inf_bits
        specials[1, 0] = inf_bits | int(sign)
    if fmt.has_nan:
        specials[2, T - 1] = (fmt.exp_all_ones << m) | 1
    maxb = blocks[0][3:4].copy()
    maxb[0, 0] = (fmt.max_field << m) | fmt.max_frac
    return np.concatenate(blocks + [sub, zeros, specials, maxb])


def check_bfp(what, fmt, bfp, blocks, got, ref, extra_rows=None):
    """got: list of (exp, man word, special); ref: golden BfpBlocks of shape (n, 1, ...)."""
    T = bfp.T
    lines = []
    for i, (e, man, sp) in enumerate(got):
        k = unpack_lanes(man, bfp.m, T, signed=True)
        ek, kk, sk = int(ref.exp[i, 0]), [int(v) for v in ref.man[i, 0]], bool(ref.special[i, 0])
        if e != ek or k != kk or bool(sp) != sk:
            lanes = [t for t in range(T) if k[t] != kk[t]]
            head = (
                f"  block #{i}{extra_rows[i] if extra_rows else ''}: E expected {ek} got {e}; "
                f"special expected {sk} got {bool(sp)}"
            )
            detail = [
                f"      lane {t}: in {show(blocks[i][t], fmt)} -> k expected {kk[t]}, got {k[t]}"
                for t in lanes[:4]
            ]
            lines += [head] + detail
    if lines:
        pytest.fail(
            f"{what}: {sum(1 for ln in lines if ln.startswith('  block'))} of {len(got)} "
            "blocks differ\n" + "\n".join(lines[:40])
        )
    return len(got)


def run_f2b(
    fmt,
    bfp,
    blocks,
    mode="rne",
    latency=0,
    valid=None,
    sr_bits=8,
    sr_seed=1,
    lane_offset=0,
    cuts=(),
):
    """Blocks back to back through FloatToBfp (register stages `latency` and `cuts`),
    checked against golden.to_bfp."""
    dut = FloatToBfp(
        fmt,
        bfp,
        mode=mode,
        sr_bits=sr_bits,
        sr_seed=sr_seed,
        latency=latency,
        lane_offset=lane_offset,
        **({"cuts": cuts} if cuts else {}),
    )
    assert dut.depth == latency + len(set(cuts))
    inputs = {"x": [pack(b, fmt.width) for b in blocks]}
    if mode == "sr":
        valid = np.ones(len(blocks), np.int64) if valid is None else np.asarray(valid, np.int64)
        inputs["valid"] = valid
    res = simulate(dut, inputs, ["exp", "man", "special"], latency=dut.depth)
    got = list(zip(res["exp"], res["man"], res["special"]))
    u, rows = None, None
    if mode == "sr":
        before = np.concatenate([[0], np.cumsum(valid)[:-1]])
        u_all = bfp_random_bits((int(valid.sum()) + 1,), bfp.T, sr_seed, sr_bits, lane_offset)
        u = u_all[before][:, None, :]
        rows = [f" (valid={valid[i]}, generator step {before[i]})" for i in range(len(blocks))]
    ref = G.to_bfp(blocks, fmt, bfp, mode=mode, u=u, sr_bits=sr_bits, seed=sr_seed)
    return check_bfp(
        f"FloatToBfp {fmt}->{bfp} {mode} latency={latency} cuts={sorted(cuts)} "
        f"seed={sr_seed} lane_offset={lane_offset}",
        fmt,
        bfp,
        blocks,
        got,
        ref,
        rows,
    )


@pytest.mark.parametrize(
    "fmt,bfp,mode",
    [
        ("fp32", "BFP8/32", "rna"),
        ("fp32", "BFP8/32", "rne"),
        ("fp32", "BFP8/32", "rz"),
        ("bf16", "BFP4/16", "rne"),
        ("E4M3", "BFP8/8", "rna"),
        ("E5M2-inf", "BFP6/4", "rz"),
        ("E4M3-fin", "BFP3/5", "rne"),
        ("fp16", "BFP12/3", "rna"),
        ("E5M2", "BFP2/1", "rne"),
    ],
)
def test_float_to_bfp(fmt, bfp, mode):
    fmt, bfp = F(fmt), F(bfp)
    rng = rng_for("f2b", fmt, bfp, mode)
    blocks = bfp_blocks(fmt, bfp, 24 if bfp.T >= 16 else 60, rng)
    run_f2b(fmt, bfp, blocks, mode)


def test_float_to_bfp_every_e4m3_value():
    """Every E4M3 pattern in every lane position of a BFP8/8 block, against several block
    maxima (so each meets shifts 0..7 and the clamp)."""
    fmt, bfp = F("E4M3"), F("BFP8/8")
    rng = rng_for("f2b-e4m3")
    lanes = rng.permutation(np.tile(all_bits(fmt), 2)).reshape(-1, 8)
    anchors = G.from_float(
        2.0 ** rng.integers(-6, 9, len(lanes)) * rng.choice([1.0, 1.875], len(lanes)), fmt
    )
    with_anchor = lanes.copy()
    with_anchor[:, 3] = anchors
    run_f2b(fmt, bfp, np.concatenate([lanes, with_anchor]), "rne")


@pytest.mark.parametrize("cuts", [(), TOBFP_CUTS])
@pytest.mark.parametrize("mode", ["rne", "rna"])
def test_float_to_bfp_every_distance(mode, cuts):
    """fp32 -> BFP8/24 (the GEMM feeds' converter): the block maximum's field at every
    residue mod 8 and at the ends of the range, the other lanes 0..22 fields below it (so
    the distances 0..7 cross every boundary of the exponent's high bits, 8 and beyond shift
    everything out), frac all ones (the clamp), ties and random; then specials among them
    and blocks of nothing but specials (E = emin)."""
    fmt, bfp = F("fp32"), F("BFP8/24")
    rng = rng_for("f2b-distance", mode)
    T, m = bfp.T, fmt.m
    tops = [*range(1, 26), *range(120, 136), *range(235, 255)]
    fracs = [(1 << m) - 1, 1 << (m - 8), 3 << (m - 9), 0]
    blocks = []
    for top in tops:
        for _ in range(2):
            field = np.maximum(top - rng.permutation(T), 0).astype(np.uint64)
            field[0] = top
            frac = rng.integers(0, 1 << m, T, dtype=np.uint64)
            pick = rng.random(T) < 0.5
            frac[pick] = rng.choice(np.array(fracs, np.uint64), int(pick.sum()))
            sign = rng.integers(0, 2, T, dtype=np.uint64)
            blocks.append((sign << np.uint64(31)) | (field << np.uint64(m)) | frac)
    blocks = np.array(blocks)
    special = blocks[rng.choice(len(blocks), 40, replace=False)].copy()
    lanes = rng.integers(0, T, (40, 2))
    for row, (a, b) in zip(special, lanes):
        row[a] = np.uint64(0xFF << m)  # inf
        row[b] = np.uint64(0xFF << m | 1)  # NaN
    only = np.full((2, T), np.uint64(0xFF << m))
    only[1, ::2] = np.uint64(0x1FF << m | 5)  # -NaN
    run_f2b(fmt, bfp, np.concatenate([blocks, special, only]), mode, cuts=cuts)


@pytest.mark.parametrize("latency", [0, 2])
def test_float_to_bfp_sr(latency):
    """BFP8/32 sr: lane t steps the generator lane_seed(seed, t) once per valid block."""
    fmt, bfp = F("fp32"), F("BFP8/32")
    rng = rng_for("f2b-sr", latency)
    blocks = bfp_blocks(fmt, bfp, 12, rng)
    valid = (rng.random(len(blocks)) < 0.75).astype(np.int64)
    run_f2b(fmt, bfp, blocks, "sr", latency=latency, valid=valid, sr_bits=8, sr_seed=0xBEEF)


def test_float_to_bfp_sr_lane_offset():
    """lane_offset L seeds lane t with lane_seed(seed, L + t) (the B side of a GEMM)."""
    fmt, bfp = F("E5M2"), F("BFP6/4")
    rng = rng_for("f2b-sr-offset")
    blocks = bfp_blocks(fmt, bfp, 10, rng)
    run_f2b(
        fmt,
        bfp,
        blocks,
        "sr",
        valid=(rng.random(len(blocks)) < 0.8).astype(np.int64),
        sr_bits=4,
        sr_seed=3,
        lane_offset=4,
    )


def test_float_to_bfp_sr_wide_window():
    """E4M3 -> BFP8/8 with an 8-bit sr window: the shifts that matter (0..15) need every
    exponent bit, so the distance is the plain E - e (no high bits left to tie on)."""
    fmt, bfp = F("E4M3"), F("BFP8/8")
    rng = rng_for("f2b-sr-wide")
    run_f2b(fmt, bfp, bfp_blocks(fmt, bfp, 40, rng), "sr", sr_bits=8, sr_seed=7)


def test_float_to_bfp_sr_matches_golden_default():
    """With every block valid the unit reproduces golden.to_bfp(mode='sr', seed=...) as is."""
    fmt, bfp = F("bf16"), F("BFP4/8")
    rng = rng_for("f2b-sr-default")
    blocks = bfp_blocks(fmt, bfp, 30, rng)
    dut = FloatToBfp(fmt, bfp, mode="sr", sr_bits=6, sr_seed=31)
    res = simulate(
        dut,
        {"x": [pack(b, fmt.width) for b in blocks], "valid": np.ones(len(blocks))},
        ["exp", "man", "special"],
    )
    # golden on the whole stream at once: blocks of one row, taken in order
    ref = G.to_bfp(blocks.reshape(-1), fmt, bfp, mode="sr", sr_bits=6, seed=31)
    ref = G.BfpBlocks(ref.exp[:, None], ref.man[:, None, :], ref.special[:, None])
    check_bfp(
        "FloatToBfp bf16->BFP4/8 sr (golden default sequence)",
        fmt,
        bfp,
        blocks,
        list(zip(res["exp"], res["man"], res["special"])),
        ref,
    )


# --------------------------------------------------------------------------- BFP -> float
def run_b2f(bfp, dst, exps, mans, specials, mode="rne", sub_out="ieee", latency=0, exp_range=None):
    dut = BfpToFloat(bfp, dst, mode=mode, sub_out=sub_out, latency=latency, exp_range=exp_range)
    T = bfp.T
    res = simulate(
        dut,
        {"exp": exps, "man": [pack(r, bfp.m) for r in mans], "special": specials},
        ["y"],
        latency=latency,
    )
    blocks = G.BfpBlocks(
        np.asarray(exps, np.int64), np.asarray(mans, np.int64), np.asarray(specials, bool)
    )
    exp = G.from_bfp(blocks, bfp, dst, mode, sub_out).reshape(-1)
    got = np.array(
        [v for word in res["y"] for v in unpack_lanes(word, dst.width, T)], dtype=np.uint64
    )
    k = np.asarray(mans, np.int64).reshape(-1)
    kin = from_signed(k, bfp.m)
    extra = {"E": np.repeat(exps, T), "special": np.repeat(specials, T)}
    return check(
        f"BfpToFloat {bfp}->{dst} {mode} {sub_out} latency={latency}",
        kin,
        FixedFormat(bfp.m, 0),
        exp,
        got,
        dst,
        extra=extra,
    )


def random_bfp(bfp: BfpFormat, n: int, rng, e_lo: int, e_hi: int):
    T = bfp.T
    exps = rng.integers(e_lo, e_hi + 1, n)
    mans = rng.integers(-(1 << (bfp.m - 1)), 1 << (bfp.m - 1), (n, T))  # -2^(m-1) included
    mans[rng.random((n, T)) < 0.1] = 0
    mans[0, :] = [(bfp.kmax, -bfp.kmax, 1, -1, 0)[t % 5] for t in range(T)]
    specials = (rng.random(n) < 0.1).astype(np.int64)
    exps[:2] = [e_lo, e_hi]
    return exps, mans, specials


@pytest.mark.parametrize(
    "bfp,dst,mode,sub_out",
    [
        ("BFP8/32", "fp32", "rne", "ieee"),
        ("BFP8/8", "bf16", "rne", "ieee"),
        ("BFP8/8", "E5M2", "rne", "ieee"),
        ("BFP8/8", "E5M2", "rz", "flush"),
        ("BFP8/8", "E4M3", "rna", "ieee"),
        ("BFP12/4", "fp16", "rne", "flush"),
        ("BFP4/6", "E3M2-fin", "rne", "ieee"),
        ("BFP8/4", "E5M2-inf", "rna", "flush"),
        ("BFP2/3", "E2M1", "rne", "ieee"),
        ("BFP4/4", "E8M2b20", "rne", "ieee"),
    ],
)
def test_bfp_to_float(bfp, dst, mode, sub_out):
    bfp, dst = F(bfp), F(dst)
    rng = rng_for("b2f", bfp, dst, mode, sub_out)
    n = 40 if bfp.T >= 32 else 150
    full = (-(1 << (bfp.exp_bits - 1)), (1 << (bfp.exp_bits - 1)) - 1)
    # half the blocks over the whole exponent range, half around the target's range
    e1 = random_bfp(bfp, n // 2, rng, *full)
    e2 = random_bfp(
        bfp, n - n // 2, rng, max(full[0], dst.emin - dst.m - 2), min(full[1], dst.emax + 2)
    )
    exps, mans, specials = (np.concatenate([x, y]) for x, y in zip(e1, e2))
    run_b2f(bfp, dst, exps, mans, specials, mode, sub_out)


def test_bfp_roundtrip_fp32():
    """to_bfp blocks (golden) through BfpToFloat with the narrowed exponent range."""
    fmt, bfp = F("fp32"), F("BFP8/16")
    rng = rng_for("roundtrip")
    blocks = bfp_blocks(fmt, bfp, 20, rng)
    ref = G.to_bfp(blocks, fmt, bfp, mode="rna")
    run_b2f(
        bfp,
        fmt,
        ref.exp[:, 0],
        ref.man[:, 0],
        ref.special[:, 0].astype(np.int64),
        exp_range=bfp_exp_range(fmt),
    )


# --------------------------------------------------------------------------- pipelines
@pytest.mark.parametrize("latency", [1, 2, 3])
def test_latency(latency):
    rng = rng_for("latency", latency)
    src = F("E5M2")
    a = rng.permutation(all_bits(src))
    run_f2f(src, F("E4M3"), a, latency=latency, mode="rna")
    run_f2x(
        F("E6M5"),
        F("Q8.13"),
        rng.permutation(np.arange(4096, dtype=np.uint64))[:300],
        latency=latency,
    )
    run_x2f(
        F("Q6.6"),
        F("E5M2"),
        rng.permutation(np.arange(4096, dtype=np.uint64))[:300],
        latency=latency,
    )
    fmt, bfp = F("bf16"), F("BFP8/4")
    run_f2b(fmt, bfp, bfp_blocks(fmt, bfp, 12, rng), "rne", latency=latency)
    blocks = bfp_blocks(fmt, bfp, 12, rng)
    run_f2b(
        fmt,
        bfp,
        blocks,
        "sr",
        latency=latency,
        valid=(rng.random(len(blocks)) < 0.7).astype(np.int64),
    )
    exps, mans, specials = random_bfp(bfp, 30, rng, -40, 40)
    run_b2f(bfp, F("E5M2"), exps, mans, specials, latency=latency)


# --------------------------------------------------------------------------- random configurations
def _random_float(rng, max_width: int) -> FloatFormat:
    while True:
        e, m = int(rng.integers(2, 6)), int(rng.integers(1, 5))
        if 1 + e + m <= max_width:
            bias = int(rng.integers(0, 1 << e)) if rng.random() < 0.3 else None
            return FloatFormat(e, m, bias, str(rng.choice(["ieee", "inf_only", "finite"])))


def _random_configuration(seed: int) -> int:
    """Every unit on random small formats (odd biases, every specials policy), exhaustive
    over the source where it is a float."""
    rng = rng_for("random-config", seed)
    src, dst = _random_float(rng, 9), _random_float(rng, 12)
    mode = str(rng.choice(["rne", "rna", "rz"]))
    sub_out, sub_in = (
        str(rng.choice(["ieee", "flush"])),
        str(rng.choice(["ieee", "as_normal", "flush"])),
    )
    saturate = bool(rng.random() < 0.3)
    n = run_f2f(
        src, dst, all_bits(src), mode=mode, sub_out=sub_out, saturate=saturate, sub_in=sub_in
    )
    a = np.tile(all_bits(src), 2)
    n += run_f2f_sr(
        src,
        dst,
        a,
        (rng.random(len(a)) < 0.8).astype(np.int64),
        sr_bits=int(rng.integers(1, 10)),
        sr_seed=int(rng.integers(1, 1 << 32)),
        sub_out=sub_out,
        saturate=saturate,
        sub_in=sub_in,
    )
    fx = FixedFormat(int(rng.integers(1, 12)), int(rng.integers(1, 12)))
    n += run_f2x(src, fx, all_bits(src), mode=str(rng.choice(["rne", "rna", "rz"])), sub_in=sub_in)
    fx = FixedFormat(int(rng.integers(2, 7)), int(rng.integers(0, 6)))
    n += run_x2f(fx, dst, all_bits(fx), mode=mode, sub_out=sub_out)
    bfp = BfpFormat(int(rng.integers(2, 12)), int(rng.integers(1, 6)))
    n += run_f2b(
        src,
        bfp,
        bfp_blocks(src, bfp, 20, rng),
        str(rng.choice(["rne", "rna", "rz", "sr"])),
        latency=int(rng.integers(0, 3)),
        sr_bits=int(rng.integers(1, 9)),
        sr_seed=int(rng.integers(1, 1000)),
    )
    bfp = BfpFormat(bfp.m, bfp.T, int(rng.integers(2, 9)))
    full = (-(1 << (bfp.exp_bits - 1)), (1 << (bfp.exp_bits - 1)) - 1)
    n += run_b2f(bfp, dst, *random_bfp(bfp, 40, rng, *full), mode, sub_out)
    return n


@pytest.mark.parametrize("seed", range(12))
def test_random_configurations(seed):
    _random_configuration(seed)


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(12, 112))
def test_random_configurations_slow(seed):
    _random_configuration(seed)


# --------------------------------------------------------------------------- parameters
def test_bad_parameters():
    with warnings.catch_warnings():  # half-built units are never elaborated
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match="mode"):
            FloatToFloat(F("E5M2"), F("E4M3"), mode="up")
        with pytest.raises(ValueError, match="mode"):
            FloatToFixed(F("E5M2"), F("Q8.13"), mode="sr")
        with pytest.raises(ValueError, match="sub_out"):
            FixedToFloat(F("Q8.13"), F("E5M2"), sub_out="daz")
        with pytest.raises(ValueError, match="latency"):
            FloatToBfp(F("fp32"), F("BFP8/32"), latency=-1)
        with pytest.raises(ValueError, match="seed"):
            FloatToBfp(F("fp32"), F("BFP8/32"), mode="sr", sr_seed=0)
        with pytest.raises(ValueError, match="exp_range"):
            BfpToFloat(F("BFP8/32"), F("fp32"), exp_range=(-200, 0))
        assert not hasattr(FloatToFloat(F("E5M2"), F("E4M3")), "valid")
        assert hasattr(FloatToFloat(F("E5M2"), F("E4M3"), mode="sr"), "valid")
        gc.collect()


# --------------------------------------------------------------------------- Verilog
VERILOG_UNITS = {
    "f2f": (lambda: FloatToFloat(F("fp32"), F("E5M2")), {"a": 32, "y": 8}, False),
    "f2f_sr": (
        lambda: FloatToFloat(F("fp16"), F("E4M3"), mode="sr", latency=2),
        {"a": 16, "y": 8, "valid": 1},
        True,
    ),
    "f2x": (
        lambda: FloatToFixed(F("E6M5"), F("Q8.13"), mode="rz"),
        {"a": 12, "y": 21, "invalid": 1},
        False,
    ),
    "f2x_l1": (
        lambda: FloatToFixed(F("fp32"), F("Q8.13"), latency=1),
        {"a": 32, "y": 21, "invalid": 1},
        True,
    ),
    "x2f": (lambda: FixedToFloat(F("Q6.6"), F("E5M2")), {"a": 12, "y": 8}, False),
    "f2b": (
        lambda: FloatToBfp(F("fp32"), F("BFP8/32"), mode="rna"),
        {"x": 32 * 32, "exp": 8, "man": 32 * 8, "special": 1},
        False,
    ),
    "f2b_sr": (
        lambda: FloatToBfp(F("bf16"), F("BFP8/4"), mode="sr", latency=1),
        {"x": 64, "exp": 8, "man": 32, "special": 1, "valid": 1},
        True,
    ),
    "b2f": (
        lambda: BfpToFloat(F("BFP8/8"), F("bf16"), latency=2),
        {"exp": 8, "man": 64, "special": 1, "y": 128},
        True,
    ),
}


@pytest.mark.parametrize("name", list(VERILOG_UNITS))
def test_verilog(name, monkeypatch):
    from amaranth.back import verilog

    monkeypatch.setenv("AMARANTH_USE_YOSYS", "builtin")
    make, ports, clocked = VERILOG_UNITS[name]
    text = verilog.convert(make(), name=name, emit_src=False, strip_internal_attrs=True)
    assert f"module {name}(" in text
    header = text[text.index(f"module {name}(") :]
    header = header[: header.index("endmodule")]
    for port, width in ports.items():
        decl = f"[{width - 1}:0] {port};" if width > 1 else f" {port};"
        assert any(
            decl in line and ("input" in line or "output" in line) for line in header.splitlines()
        ), f"{name}: port {port} ({width} bits) not found"
    assert ("input clk;" in header) == clocked and ("input rst;" in header) == clocked
    if name == "x2f":
        assert text == verilog.convert(make(), name=name, emit_src=False, strip_internal_attrs=True)
