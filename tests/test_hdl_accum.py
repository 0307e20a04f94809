"""hdl/accum.py against the golden model in Amaranth's Python simulator.

FpAdd: corner x corner pairs (signed zeros, subnormals, min normal, one, max finite, inf, NaN)
plus structured random pairs (exponents close together and far apart, cancellation, ties,
overflow, subnormal range, random u for sr) for several accumulator / input formats.
FpAcc, FixedAcc, Mac: random valid/clear sequences compared with golden `accumulate` /
`mac` (history=True) cycle by cycle. Every unit also converts to Verilog.

The default run keeps to ~1 min (the simulator does ~1k FpAdd evaluations/s); the `slow`
tests repeat everything with far more vectors.
"""

from __future__ import annotations

import os

import fraction_ref as fr
import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.hdl import Cat
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import AccConfig, MacConfig, MulConfig
from lpmac.formats import FixedFormat, FloatFormat, parse_format
from lpmac.hdl.accum import NORM_DSP_MIN_SIG, FixedAcc, FpAcc, FpAdd, Mac

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")

U64 = np.uint64


def x_format(spec: str | None, acc: AccConfig) -> FloatFormat:
    """None: the accumulator's format; 'E5M2:cfg5': that multiplier's output; else a format."""
    if spec is None:
        return acc.fmt
    if ":" in spec:
        return MulConfig.parse(spec).out_format
    return parse_format(spec)


# --------------------------------------------------------------------------- simulation
def _pack(ports, arrays):
    """One integer per vector holding every input (for a single ctx.set on a Cat)."""
    n = len(arrays[0])
    cols = [np.asarray(a, dtype=U64).tolist() for a in arrays]
    offs, off = [], 0
    for p in ports:
        offs.append(off)
        off += len(p)
    masks = [(1 << len(p)) - 1 for p in ports]
    return [sum((int(c[i]) & mk) << o for c, o, mk in zip(cols, offs, masks)) for i in range(n)]


def sim_comb(dut, ports, arrays, outs):
    """Apply each vector to a combinational unit and read `outs`."""
    packed = _pack(ports, arrays)
    inp = Cat(*ports)
    res = [np.zeros(len(packed), U64) for _ in outs]

    async def bench(ctx):
        for i, v in enumerate(packed):
            ctx.set(inp, v)
            for r, o in zip(res, outs):
                r[i] = ctx.get(o)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return res


def sim_seq(dut, ports, arrays, outs):
    """Clocked unit: cycle t sets the inputs, ticks, then reads `outs` (the state after the
    rising edge of cycle t). Also returns the outputs read right after reset."""
    packed = _pack(ports, arrays)
    inp = Cat(*ports)
    res = [np.zeros(len(packed), U64) for _ in outs]
    initial = []

    async def bench(ctx):
        initial.extend(ctx.get(o) for o in outs)
        for i, v in enumerate(packed):
            ctx.set(inp, v)
            await ctx.tick()
            for r, o in zip(res, outs):
                r[i] = ctx.get(o)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return res, initial


# --------------------------------------------------------------------------- vectors
def fbits(fmt: FloatFormat, sign, field, frac):
    sign, field, frac = (np.asarray(v).astype(U64) for v in (sign, field, frac))
    return (sign << U64(fmt.e + fmt.m)) | (field << U64(fmt.m)) | (frac & U64((1 << fmt.m) - 1))


def corner_bits(fmt: FloatFormat) -> np.ndarray:
    """Both signs of: 0, smallest/largest subnormal, min normal (+1 ulp), 1, 1.5, 2-ulp,
    max finite (-1 ulp), the top binade's first value, inf and NaN encodings."""
    m, full = fmt.m, (1 << fmt.m) - 1
    mags = [
        0,
        1,
        full,
        1 << m,
        (1 << m) | 1,
        fmt.bias << m,
        (fmt.bias << m) | (1 << (m - 1)),
        (fmt.bias << m) | full,
        (fmt.bias + 1) << m,
        fmt.max_field << m | fmt.max_frac,
        fmt.max_field << m | (fmt.max_frac - 1),
        (fmt.max_field << m) if fmt.max_field else 0,
        (fmt.max_field - 1) << m | full,
    ]
    if m >= 2:
        mags.append(2)
    if fmt.has_inf:
        mags.append(fmt.exp_all_ones << m | (full if fmt.specials == "inf_only" else 0))
    if fmt.has_nan:
        mags += [fmt.exp_all_ones << m | 1 << (m - 1), fmt.exp_all_ones << m | 1]
    mags = sorted(set(mags))
    return np.array(mags + [v | 1 << (fmt.width - 1) for v in mags], dtype=U64)


def structured_pairs(fmt: FloatFormat, xf: FloatFormat, n: int, rng, guard: int):
    """acc/x pairs whose exponents are mostly close (within the rounding window), with
    extra weight on cancellation, ties, overflow and the subnormal range."""
    ea = (1 << fmt.e) - 1
    kind = rng.choice(7, n, p=[0.25, 0.15, 0.15, 0.15, 0.1, 0.1, 0.1])
    # the acc exponent mostly lies where x's format can follow it (common exponent range)
    # (acc field f has exponent f - bias_a, which x encodes in field f - bias_a + bias_x)
    lo = max(0, fmt.bias - xf.bias)
    hi = min(ea, (1 << xf.e) - 1 - xf.bias + fmt.bias)
    field_a = np.where(
        rng.random(n) < 0.8, rng.integers(lo, max(lo, hi) + 1, n), rng.integers(0, ea + 1, n)
    )
    field_a = np.where(
        kind == 4, rng.integers(fmt.max_field - 1, fmt.max_field + 1, n), field_a
    )  # overflow
    field_a = np.where(kind == 5, rng.integers(0, 3, n), field_a)  # tiny
    sa = rng.integers(0, 2, n)
    frac_a = rng.integers(0, 1 << fmt.m, n, dtype=np.uint64)
    a = fbits(fmt, sa, field_a, frac_a)

    delta = np.select(
        [kind == 0, kind == 1],
        [rng.integers(-2, 3, n), rng.integers(-(guard + 4), guard + 5, n)],
        rng.integers(-3, 4, n),
    )
    # ties and half-ulp neighbours: x is a power of two (or one more bit) around acc's ulp
    tie_d = -(fmt.m + 1) + rng.integers(-2, 2, n)
    delta = np.where(kind == 3, tie_d, delta)
    field_x = np.clip(field_a - fmt.bias + delta + xf.bias, 0, (1 << xf.e) - 1)
    frac_x = rng.integers(0, 1 << xf.m, n, dtype=np.uint64)
    top_bit = np.where(rng.integers(0, 2, n) == 1, U64(1 << (xf.m - 1)), U64(0))
    frac_x = np.where(kind == 3, top_bit, frac_x)
    sx = np.where(rng.random(n) < 0.6, 1 - sa, sa)  # mostly effective subtraction
    x = fbits(xf, sx, field_x, frac_x)

    # cancellation: x = -a (converted to x's format toward zero), nudged by a few ulps
    canc = kind == 2
    neg_a = a ^ U64(1 << (fmt.width - 1))
    conv = golden.convert(neg_a, fmt, xf, "rz")
    nudged = conv.astype(np.int64) + rng.integers(-2, 3, n)
    lo, hi = (
        (conv >> U64(xf.width - 1)) << U64(xf.width - 1),
        ((conv >> U64(xf.width - 1)) + U64(1)) << U64(xf.width - 1),
    )
    nudged = np.clip(nudged, lo.astype(np.int64), hi.astype(np.int64) - 1).astype(U64)
    x = np.where(canc, nudged, x)
    # ... or the other way round, a = -x in acc's format (exact when acc is the wider one)
    canc2 = canc & (rng.random(n) < 0.5)
    x = np.where(canc2, fbits(xf, sx, field_x, frac_x), x)
    back = golden.convert(x ^ U64(1 << (xf.width - 1)), xf, fmt, "rz")
    a = np.where(canc2, back, a)

    # a slice of fully random bit patterns
    rand = kind == 6
    a = np.where(rand, rng.integers(0, 1 << fmt.width, n, dtype=np.uint64), a)
    x = np.where(rand, rng.integers(0, 1 << xf.width, n, dtype=np.uint64), x)
    return a, x


def fpadd_vectors(cfg: AccConfig, xf: FloatFormat, n_random: int, seed: int):
    rng = np.random.default_rng(seed)
    ca, cx = corner_bits(cfg.fmt), corner_bits(xf)
    a = np.repeat(ca, cx.size)
    x = np.tile(cx, ca.size)
    r_bits = cfg.sr_bits if cfg.rounding == "sr" else 0
    guard = cfg.fmt.m + 1 + max(2, r_bits)
    ra, rx = structured_pairs(cfg.fmt, xf, n_random, rng, guard)
    a, x = np.concatenate([a, ra]), np.concatenate([x, rx])
    u = None
    if r_bits:
        u = rng.integers(0, 1 << r_bits, a.size, dtype=np.uint64)
        # the extremes of u decide ties and near-ties deterministically
        u[: a.size // 8] = 0
        u[a.size // 8 : a.size // 4] = (1 << r_bits) - 1
    return a, x, u


# --------------------------------------------------------------------------- FpAdd
FPADD_CASES = [
    ("E6M5", None),
    ("E6M5:rz", None),
    ("E6M5:sr,bits=8,seed=5", None),
    ("E6M5:rne,flush", None),
    ("fp32", None),
    ("E7M7", "E4M3"),
    ("E6M5", "E5M2:cfg5"),
    ("fp32", "E5M2:cfg5"),
    ("E7M7:sr,bits=4,flush", "E5M2:cfg5"),
    ("E4M3:rz,flush", "fp16"),
]
FPADD_SLOW_CASES = FPADD_CASES + [
    ("fp32:sr,bits=32", None),
    ("E6M5:sr,bits=1", None),
    ("fp32:rz", "fp32:cfg3"),
    ("E5M2", "E8M7"),
    ("E3M2:sr,bits=4,flush", "E2M1:cfg4"),
    ("E6M5:rz,flush", "E5M2:cfg5"),
    ("bf16", "E4M3:cfg1"),
]


def check_fpadd(
    acc_spec: str, x_spec: str | None, n_random: int, seed: int = 0, use_dsp: bool = False
):
    cfg = AccConfig.parse(acc_spec)
    xf = x_format(x_spec, cfg)
    a, x, u = fpadd_vectors(cfg, xf, n_random, seed)
    exp = golden.fp_add(a, x, cfg, xf, u)
    dut = FpAdd(cfg, xf, use_dsp=use_dsp)
    ports, arrays = [dut.acc, dut.x], [a, x]
    if u is not None:
        ports.append(dut.u)
        arrays.append(u)
    (got,) = sim_comb(dut, ports, arrays, [dut.s])
    fmts = [cfg.fmt, xf] + ([None] if u is not None else [])
    fr.assert_bits(
        got,
        exp,
        cfg.fmt,
        *arrays,
        names=("acc", "x", "u"),
        in_fmts=fmts,
        what=f"FpAdd {cfg} + x {xf}",
    )
    return a, x, u, exp


@pytest.mark.parametrize("acc_spec,x_spec", FPADD_CASES, ids=[f"{a}+{x}" for a, x in FPADD_CASES])
def test_fpadd(acc_spec, x_spec):
    check_fpadd(acc_spec, x_spec, n_random=700)


# With DSPs the wide formats' normaliser is a product with a one-hot (NORM_DSP_MIN_SIG).
FPADD_DSP_CASES = [
    ("fp32", None),
    ("fp32:rz,flush", None),
    ("fp32:sr,bits=8,seed=5", None),
    ("fp32", "E5M2:cfg5"),
    ("E8M15", "bf16"),
]


@pytest.mark.parametrize(
    "acc_spec,x_spec", FPADD_DSP_CASES, ids=[f"{a}+{x}" for a, x in FPADD_DSP_CASES]
)
def test_fpadd_dsp(acc_spec, x_spec):
    assert AccConfig.parse(acc_spec).fmt.m + 1 >= NORM_DSP_MIN_SIG  # the DSP path is built
    check_fpadd(acc_spec, x_spec, n_random=1500, seed=3, use_dsp=True)


@pytest.mark.slow
@pytest.mark.parametrize(
    "acc_spec,x_spec", FPADD_SLOW_CASES, ids=[f"{a}+{x}" for a, x in FPADD_SLOW_CASES]
)
def test_fpadd_slow(acc_spec, x_spec):
    check_fpadd(acc_spec, x_spec, n_random=20000, seed=1)


@pytest.mark.parametrize(
    "acc_spec,x_spec",
    [("E6M5:sr,bits=8,seed=5", None), ("E7M7", "E4M3"), ("E6M5:rne,flush", "E5M2:cfg5")],
)
def test_golden_fp_add_is_exact(acc_spec, x_spec):
    """The golden adder the HDL mirrors agrees with the exact Fraction reference."""
    cfg = AccConfig.parse(acc_spec)
    xf = x_format(x_spec, cfg)
    a, x, u = fpadd_vectors(cfg, xf, 700, seed=0)
    got = golden.fp_add(a, x, cfg, xf, u)
    FA, FX = fr.ref_fmt(cfg.fmt), fr.ref_fmt(xf)
    r_bits = cfg.sr_bits if cfg.rounding == "sr" else 0
    exp = np.array(
        [
            fr.encode(
                fr.ref_add(fr.decode_c(int(p), FA), fr.decode_c(int(q), FX), FA.has_nan),
                FA,
                cfg.rounding,
                cfg.sub_out,
                u=int(u[i]) if r_bits else None,
                r=r_bits,
            )
            for i, (p, q) in enumerate(zip(a, x))
        ],
        dtype=U64,
    )
    fr.assert_bits(
        got, exp, FA, a, x, names=("acc", "x"), in_fmts=[FA, FX], what=f"golden fp_add {cfg}"
    )


def test_fpadd_special_rules():
    """Spot checks of the sign and specials rules on E6M5, by value."""
    cfg = AccConfig.parse("E6M5")
    f = cfg.fmt
    pz, nz, one, none_ = 0, 1 << 11, f.bias << 5, (f.bias << 5) | 1 << 11
    pinf, ninf, nan = 63 << 5, (63 << 5) | 1 << 11, (63 << 5) | 16
    pairs = [
        (nz, nz, nz),
        (pz, nz, pz),
        (nz, pz, pz),
        (one, none_, pz),
        (none_, one, pz),
        (pinf, ninf, None),
        (pinf, one, pinf),
        (ninf, pinf, None),
        (nan, one, None),
        (ninf, ninf, ninf),
    ]
    a = np.array([p[0] for p in pairs], U64)
    x = np.array([p[1] for p in pairs], U64)
    dut = FpAdd(cfg)
    (got,) = sim_comb(dut, [dut.acc, dut.x], [a, x], [dut.s])
    for (p, q, want), g in zip(pairs, got.tolist()):
        if want is None:
            assert fr.is_nan_bits(g, fr.ref_fmt(f)), (hex(p), hex(q), hex(g))
        else:
            assert g == want, (hex(p), hex(q), hex(g), hex(want))


# --------------------------------------------------------------------------- sequences
def random_stream(fmt: FloatFormat, n: int, rng, spread: int = 3, p_special: float = 0.02):
    """Values around 1 (exponent +-spread) of random sign, a few zeros/subnormals/specials."""
    field = np.clip(fmt.bias + rng.integers(-spread, spread + 1, n), 1, fmt.max_field)
    xs = fbits(fmt, rng.integers(0, 2, n), field, rng.integers(0, 1 << fmt.m, n, dtype=np.uint64))
    corners = corner_bits(fmt)
    pick = rng.random(n) < p_special
    return np.where(pick, rng.choice(corners, n), xs)


def control(n: int, rng, p_valid: float = 0.85, p_clear: float = 0.04):
    valid = (rng.random(n) < p_valid).astype(U64)
    clear = (rng.random(n) < p_clear).astype(U64)
    clear[n // 2] = 1  # clear with valid and without valid both occur
    valid[n // 2] = 1
    clear[n // 2 + 3], valid[n // 2 + 3] = 1, 0
    return valid, clear


def describe_any(bits, fmt) -> str:
    if isinstance(fmt, FixedFormat):
        v = int(bits)
        v = v - (1 << fmt.width) if v >> (fmt.width - 1) else v
        return f"{int(bits):#x}({v * 2.0**-fmt.f!r})"
    return fr.describe(int(bits), fr.ref_fmt(fmt))


def assert_sequence(got, exp, acc_fmt, inputs: dict, what: str, limit: int = 6):
    """Cycle-by-cycle comparison (any NaN accepted for NaN); on failure print the first
    mismatching cycles with their inputs and the state before them, decoded."""
    got, exp = np.asarray(got, U64), np.asarray(exp, U64)
    if isinstance(acc_fmt, FixedFormat):
        bad = got != exp
    else:
        F = fr.ref_fmt(acc_fmt)
        bad = np.where(fr.nan_mask(exp, F), ~fr.nan_mask(got, F), got != exp)
    if not bad.any():
        return
    idx = np.flatnonzero(bad)
    lines = [f"{what}: {idx.size} of {got.size} cycles differ (first at cycle {idx[0]})"]
    for t in idx[:limit]:
        prev = describe_any(exp[t - 1], acc_fmt) if t else "reset(+0)"
        ins = " ".join(
            f"{k}={describe_any(v[t], f) if f is not None else int(v[t])}"
            for k, (v, f) in inputs.items()
        )
        lines.append(
            f"  t={t}: state before {prev}, {ins}: expected {describe_any(exp[t], acc_fmt)} "
            f"got {describe_any(got[t], acc_fmt)}"
        )
    raise AssertionError("\n".join(lines))


FPACC_CASES = [
    ("E6M5", None),
    ("E6M5:sr,bits=8,seed=7", "E5M2:cfg5"),
    ("E6M5:rz,flush", None),
    ("fp32:sr,bits=12,seed=3", "E5M2:cfg5"),
    ("E7M7", "E4M3"),
]


def check_fpacc(acc_spec: str, x_spec: str | None, n: int, seed: int = 0, latency: int = 1):
    cfg = AccConfig.parse(acc_spec)
    xf = x_format(x_spec, cfg)
    rng = np.random.default_rng(seed)
    xs = random_stream(xf, n, rng)
    valid, clear = control(n, rng)
    exp = golden.accumulate(
        xs, cfg, xf, valid=valid.astype(bool), clear=clear.astype(bool), history=True
    )
    dut = FpAcc(cfg, xf, latency=latency)
    pad = latency - 1  # idle cycles that flush the input registers
    z = np.zeros(pad, U64)
    (got,), initial = sim_seq(
        dut,
        [dut.x, dut.valid, dut.clear],
        [np.concatenate([xs, z]), np.concatenate([valid, z]), np.concatenate([clear, z])],
        [dut.acc],
    )
    assert initial == [0], "the state after reset must be +0"
    assert_sequence(
        got[pad:],
        exp,
        cfg.fmt,
        {"x": (xs, xf), "valid": (valid, None), "clear": (clear, None)},
        f"FpAcc {cfg} x {xf} latency {latency}",
    )


@pytest.mark.parametrize("acc_spec,x_spec", FPACC_CASES, ids=[f"{a}+{x}" for a, x in FPACC_CASES])
def test_fpacc(acc_spec, x_spec):
    check_fpacc(acc_spec, x_spec, n=700)


def test_fpacc_latency2_sr():
    check_fpacc("E6M5:sr,bits=8,seed=9", None, n=300, seed=4, latency=2)


@pytest.mark.slow
@pytest.mark.parametrize("acc_spec,x_spec", FPACC_CASES, ids=[f"{a}+{x}" for a, x in FPACC_CASES])
def test_fpacc_slow(acc_spec, x_spec):
    check_fpacc(acc_spec, x_spec, n=20000, seed=1)


def check_fixedacc(spec: str, n: int, seed: int = 0, latency: int = 1):
    fmt = parse_format(spec)
    rng = np.random.default_rng(seed)
    # mostly small values, some huge ones that drive the sum into saturation
    small = rng.integers(-(1 << (fmt.width - 4)), 1 << (fmt.width - 4), n)
    big = rng.integers(fmt.min_int, fmt.max_int + 1, n)
    xs = golden.bitops.from_signed(np.where(rng.random(n) < 0.15, big, small), fmt.width)
    xs[:4] = [fmt.max_int, fmt.max_int, 1 << (fmt.width - 1), 1 << (fmt.width - 1)]
    valid, clear = control(n, rng)
    valid[:4] = 1
    clear[:4] = 0
    exp = golden.accumulate(
        xs, AccConfig(fmt), valid=valid.astype(bool), clear=clear.astype(bool), history=True
    )
    dut = FixedAcc(fmt, latency=latency)
    pad = latency - 1
    z = np.zeros(pad, U64)
    (got,), initial = sim_seq(
        dut,
        [dut.x, dut.valid, dut.clear],
        [np.concatenate([xs, z]), np.concatenate([valid, z]), np.concatenate([clear, z])],
        [dut.acc],
    )
    assert initial == [0]
    assert_sequence(
        got[pad:],
        exp,
        fmt,
        {"x": (xs, fmt), "valid": (valid, None), "clear": (clear, None)},
        f"FixedAcc {fmt} latency {latency}",
    )


@pytest.mark.parametrize("spec", ["Q8.13", "Q2.6"])
def test_fixedacc(spec):
    check_fixedacc(spec, n=1200)


def test_fixedacc_latency3():
    check_fixedacc("Q4.4", n=300, seed=2, latency=3)


# --------------------------------------------------------------------------- MAC
MAC_CASES = [
    "E5M2:cfg5+E6M5",
    "E5M2:cfg5+Q8.13",
    "E4M3:cfg1+fp32",
    "E5M2:cfg5+E6M5:sr,bits=8,seed=11",
    "E4M3:cfg1+Q8.13:rz",
]


def mac_operands(fmt: FloatFormat, n: int, rng):
    """Random patterns; most NaN/inf encodings are replaced by finite ones so that a NaN
    (sticky in a float accumulator) does not dominate the sequence."""
    bits = rng.integers(0, 1 << fmt.width, n, dtype=np.uint64)
    special = (bits >> U64(fmt.m)) & U64(fmt.exp_all_ones) == U64(fmt.exp_all_ones)
    keep = rng.random(n) < 0.1
    finite = bits & ~(U64(1) << U64(fmt.m + fmt.e - 1))  # clear the exponent MSB
    return np.where(special & ~keep, finite, bits)


def check_mac(spec: str, n: int, seed: int = 0, latency: int = 1):
    cfg = MacConfig.parse(spec)
    fin = cfg.mul.in_format
    rng = np.random.default_rng(seed)
    a, b = mac_operands(fin, n, rng), mac_operands(fin, n, rng)
    valid, clear = control(n, rng)
    exp = golden.mac(a, b, cfg, valid=valid.astype(bool), clear=clear.astype(bool), history=True)
    dut = Mac(cfg, latency=latency)
    outs = [dut.acc] + ([dut.invalid] if cfg.acc.is_fixed else [])
    pad = latency - 1
    z = np.zeros(pad, U64)
    got, initial = sim_seq(
        dut,
        [dut.a, dut.b, dut.valid, dut.clear],
        [np.concatenate([v, z]) for v in (a, b, valid, clear)],
        outs,
    )
    assert initial == [0] * len(outs)
    inputs = {"a": (a, fin), "b": (b, fin), "valid": (valid, None), "clear": (clear, None)}
    assert_sequence(got[0][pad:], exp.acc, cfg.acc.fmt, inputs, f"Mac {cfg} latency {latency}")
    if cfg.acc.is_fixed:
        flag = got[1][pad:].astype(bool)
        bad = np.flatnonzero(flag != exp.invalid)
        assert bad.size == 0, f"Mac {cfg}: invalid flag differs at cycles {bad[:10].tolist()}"
        if spec.startswith("E4M3:cfg1"):
            assert exp.invalid.any(), "the test sequence should raise the invalid flag"


@pytest.mark.parametrize("spec", MAC_CASES)
def test_mac(spec):
    check_mac(spec, n=500)


def test_mac_latency3():
    """A 2-stage multiplier pipeline in front of the accumulator (valid/clear delayed)."""
    check_mac("E4M3:cfg1+fp32", n=300, seed=5, latency=3)


@pytest.mark.slow
@pytest.mark.parametrize("spec", MAC_CASES)
def test_mac_slow(spec):
    check_mac(spec, n=20000, seed=1)


# --------------------------------------------------------------------------- Verilog
def _units():
    e6m5_in = MulConfig.parse("E5M2:cfg5").out_format
    yield "fpadd_fp32_sr", lambda: FpAdd(AccConfig.parse("fp32:sr,bits=8"))
    yield "fpadd_e6m5_x", lambda: FpAdd(AccConfig.parse("E6M5:rz,flush"), e6m5_in)
    yield "fpacc_e6m5_sr", lambda: FpAcc(AccConfig.parse("E6M5:sr"), e6m5_in)
    yield "fixacc_q8_13", lambda: FixedAcc(parse_format("Q8.13"))
    yield "mac_e5m2_e6m5", lambda: Mac(MacConfig.parse("E5M2:cfg5+E6M5"))
    yield "mac_e5m2_q8_13", lambda: Mac(MacConfig.parse("E5M2:cfg5+Q8.13"))


@pytest.mark.parametrize("name,make", list(_units()), ids=[n for n, _ in _units()])
def test_verilog(name, make):
    text = verilog.convert(make(), name=name, emit_src=False, strip_internal_attrs=True)
    assert f"module {name}(" in text
    assert "/work" not in text and "/tmp" not in text


def test_verilog_deterministic():
    make = lambda: FpAcc(AccConfig.parse("E6M5:sr,bits=8,seed=3"))  # noqa: E731
    one = verilog.convert(make(), name="acc", emit_src=False, strip_internal_attrs=True)
    two = verilog.convert(make(), name="acc", emit_src=False, strip_internal_attrs=True)
    assert one == two


def test_bad_configs():
    with pytest.raises(ValueError):
        FpAdd(AccConfig.parse("Q8.13"))
    with pytest.raises(ValueError):
        FpAcc(AccConfig.parse("E6M5"), latency=0)
    with pytest.raises(ValueError):
        FixedAcc(FloatFormat(5, 2))
    with pytest.raises(ValueError):
        Mac(MacConfig.parse("E5M2:cfg5+E6M5"), latency=0)
