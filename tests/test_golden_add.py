"""Golden adders and accumulators (SPEC §3, §6) against independent references:

* `fp_add` rne/ieee on fp16, fp32 and bf16 against NumPy / ml_dtypes;
* `fp_add` with rne, rz, sr and sub_out ieee/flush, mixed input formats (the MAC's wide
  product formats), against the exact Fraction model (exhaustive for 8-bit formats);
* the sr rule of SPEC §6 with u from an xorshift32 written here; unbiasedness in expectation;
* `accumulate` with valid/clear masks, lanes, stochastic rounding;
* `fixed_add` against Python integers; `mac` end to end.
"""

from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from fraction_ref import (
    RF,
    XorShift32,
    accumulate_ref,
    add_bits,
    add_table,
    assert_bits,
    corner_values,
    cross,
    decode,
    fixed_round,
    mul_bits,
    nan_mask,
    pow2,
    random_patterns,
    ref_fmt,
    xorshift32_py,
)

from lpmac import AccConfig, FloatFormat, MacConfig, golden, parse_format

SEED = 777


# ----------------------------------------------------------------------------- helpers
def fmt(spec: str) -> FloatFormat:
    return parse_format(spec, derived=True)


def add_pairs(rng, accF: RF, xF: RF, n: int):
    """Operand pairs for an adder: uniform patterns, near exponents (every alignment
    distance around the precision), near-cancellation, tiny (subnormal results) and huge
    (overflow) operands."""
    A, X = [], []
    # uniform
    A.append(random_patterns(rng, accF, n))
    X.append(random_patterns(rng, xF, n))
    # acc near 1, x at a distance d binades (value-aligned across formats)
    a = random_patterns(rng, accF, n, centre_spread=3)
    a_field = ((a >> np.uint64(accF.m)) & np.uint64((1 << accF.e) - 1)).astype(np.int64)
    d = rng.integers(-(accF.m + 5), accF.m + 6, n)
    x_field = np.clip(a_field - accF.bias + xF.bias + d, 0, (1 << xF.e) - 2)
    x_frac = rng.integers(0, 1 << xF.m, n)
    x_sign = rng.integers(0, 2, n)
    A.append(a)
    X.append(((x_sign << (xF.e + xF.m)) | (x_field << xF.m) | x_frac).astype(np.uint64))
    # near-cancellation: x ~ -acc, equal exponent, fraction perturbed in the low bits
    a = random_patterns(rng, accF, n, centre_spread=4)
    a_field = ((a >> np.uint64(accF.m)) & np.uint64((1 << accF.e) - 1)).astype(np.int64)
    a_frac = (a & np.uint64((1 << accF.m) - 1)).astype(np.int64)
    a_sign = (a >> np.uint64(accF.e + accF.m)).astype(np.int64)
    x_field = np.clip(a_field - accF.bias + xF.bias + rng.integers(-1, 2, n), 1, (1 << xF.e) - 2)
    shift = xF.m - accF.m
    base = a_frac << shift if shift >= 0 else a_frac >> -shift
    x_frac = np.clip(base + rng.integers(-3, 4, n), 0, (1 << xF.m) - 1)
    A.append(a)
    X.append((((1 - a_sign) << (xF.e + xF.m)) | (x_field << xF.m) | x_frac).astype(np.uint64))
    # tiny: both in or near the subnormal range of the accumulator
    for F, L in ((accF, A), (xF, X)):
        lo = max(0, F.bias - (accF.bias - 1) - 2)
        field = np.clip(rng.integers(0, 4, n) + lo - (1 if lo else 0), 0, (1 << F.e) - 2)
        field = np.where(rng.random(n) < 0.4, 0, field)
        L.append(
            (
                (rng.integers(0, 2, n) << (F.e + F.m))
                | (field << F.m)
                | rng.integers(0, 1 << F.m, n)
            ).astype(np.uint64)
        )
    # huge: near the accumulator's max finite
    for F, L in ((accF, A), (xF, X)):
        top = min((1 << F.e) - 1, accF.emax + F.bias + 1) if F.e >= accF.e else (1 << F.e) - 1
        field = np.clip(top - rng.integers(0, 3, n), 1, (1 << F.e) - 1)
        L.append(
            (
                (rng.integers(0, 2, n) << (F.e + F.m))
                | (field << F.m)
                | rng.integers(0, 1 << F.m, n)
            ).astype(np.uint64)
        )
    return np.concatenate(A), np.concatenate(X)


def np_sum(a_bits, b_bits, dtype, udtype, via=np.float64):
    with np.errstate(all="ignore"):
        a = np.asarray(a_bits).astype(udtype).view(dtype).astype(via)
        b = np.asarray(b_bits).astype(udtype).view(dtype).astype(via)
        return (a + b).astype(dtype).view(udtype).astype(np.uint64)


def fp16_special_corners():
    F = RF.make(5, 10)
    return corner_values(
        F,
        [0, 1, 2, 10, 11, 14, 15, 16, 25, 26, 29, 30, 31],
        [0, 1, 2, 0x3FF, 0x3FE, 0x200, 0x1FF, 0x201],
    )


# ----------------------------------------------------------------------------- vs NumPy / ml_dtypes
def test_fp16_add_vs_numpy():
    """Exact sum in float64 (two fp16 values span at most 40 bits) and one rne cast."""
    rng = np.random.default_rng(SEED)
    F = RF.make(5, 10)
    cfg = AccConfig(fmt("fp16"))
    ca, cb = cross(fp16_special_corners())
    pa, pb = add_pairs(rng, F, F, 40_000)
    a, b = np.concatenate([ca, pa]), np.concatenate([cb, pb])
    exp = np_sum(a, b, np.float16, np.uint16)
    got = golden.fp_add(a, b, cfg)
    assert_bits(got, exp, F, a, b, in_fmts=[F, F], what="fp16 add vs NumPy")
    # literal signed-zero rules: x + (-x) = +0, (-0) + (-0) = -0, (-0) + (+0) = +0
    z = golden.fp_add(
        np.array([0x3C00, 0x8000, 0x8000, 0x0000, 0x8001]),
        np.array([0xBC00, 0x8000, 0x0000, 0x8000, 0x0001]),
        cfg,
    )
    assert z.tolist() == [0x0000, 0x8000, 0x0000, 0x0000, 0x0000]


def test_fp32_add_vs_numpy_float32():
    """NumPy's float32 addition is IEEE binary32 addition (rne, gradual underflow)."""
    rng = np.random.default_rng(SEED + 1)
    F = RF.make(8, 23)
    cfg = AccConfig(fmt("fp32"))
    corners = corner_values(
        F,
        [0, 1, 2, 23, 24, 25, 100, 126, 127, 128, 150, 151, 152, 253, 254, 255],
        [0, 1, 2, (1 << 23) - 1, (1 << 23) - 2, 1 << 22, (1 << 22) - 1, (1 << 22) + 1],
    )
    ca, cb = cross(corners)
    pa, pb = add_pairs(rng, F, F, 50_000)
    a, b = np.concatenate([ca, pa]), np.concatenate([cb, pb])
    exp = np_sum(a, b, np.float32, np.uint32, via=np.float32)
    got = golden.fp_add(a, b, cfg)
    assert_bits(got, exp, F, a, b, in_fmts=[F, F], what="fp32 add vs NumPy float32")


def test_bf16_add_vs_ml_dtypes():
    rng = np.random.default_rng(SEED + 2)
    F = RF.make(8, 7)
    cfg = AccConfig(fmt("bf16"))
    corners = corner_values(
        F,
        [0, 1, 2, 7, 8, 9, 126, 127, 128, 134, 135, 253, 254, 255],
        [0, 1, 2, 0x7F, 0x7E, 0x40, 0x3F, 0x41],
    )
    ca, cb = cross(corners)
    pa, pb = add_pairs(rng, F, F, 40_000)
    a, b = np.concatenate([ca, pa]), np.concatenate([cb, pb])
    exp = np_sum(a, b, ml_dtypes.bfloat16, np.uint16)
    assert_bits(
        golden.fp_add(a, b, cfg), exp, F, a, b, in_fmts=[F, F], what="bf16 add vs ml_dtypes"
    )


@pytest.mark.parametrize(
    "name, dtype", [("E5M2", ml_dtypes.float8_e5m2), ("E4M3", ml_dtypes.float8_e4m3)]
)
def test_8bit_add_exhaustive_vs_ml_dtypes(name, dtype):
    F = ref_fmt(fmt(name))
    a = np.repeat(np.arange(256, dtype=np.uint64), 256)
    b = np.tile(np.arange(256, dtype=np.uint64), 256)
    exp = np_sum(a, b, dtype, np.uint8)
    assert_bits(golden.fp_add(a, b, AccConfig(fmt(name))), exp, F, a, b, in_fmts=[F, F], what=name)


# ---------------------------------------------------------------------------- vs the Fraction model
@pytest.mark.parametrize(
    "rounding, sub_out", [("rne", "ieee"), ("rne", "flush"), ("rz", "ieee"), ("rz", "flush")]
)
@pytest.mark.parametrize("name", ["E5M2", "E4M3", "E5M2-inf", "E4M3-fin", "E3M4", "E2M5"])
def test_8bit_add_exhaustive_vs_fraction(name, rounding, sub_out):
    cfg = AccConfig(fmt(name), rounding, sub_out)
    F = ref_fmt(cfg.fmt)
    a = np.repeat(np.arange(256, dtype=np.uint64), 256)
    b = np.tile(np.arange(256, dtype=np.uint64), 256)
    exp = add_table(F, rounding, sub_out)
    assert_bits(golden.fp_add(a, b, cfg), exp, F, a, b, in_fmts=[F, F], what=str(cfg))


@pytest.mark.parametrize(
    "name, sub_out, r, u",
    [
        ("E5M2", "ieee", 8, 255),  # up iff phi >= 2^-8
        ("E5M2", "ieee", 8, 128),  # up iff phi >= 1/2
        ("E5M2", "flush", 8, 155),  # up iff floor(256 phi) >= 101
        ("E5M2", "ieee", 8, 0),  # never up (but overflow -> inf)
        ("E4M3", "ieee", 3, 5),  # up iff floor(8 phi) >= 3
        ("E4M3", "flush", 1, 1),  # up iff phi >= 1/2 (rna)
        ("E5M2-inf", "ieee", 2, 3),
    ],
)
def test_8bit_add_exhaustive_sr_fixed_u(name, sub_out, r, u):
    """Every pair under a fixed u (each u is one deterministic threshold on floor(phi 2^r))."""
    cfg = AccConfig(fmt(name), "sr", sub_out, r, 1)
    F = ref_fmt(cfg.fmt)
    a = np.repeat(np.arange(256, dtype=np.uint64), 256)
    b = np.tile(np.arange(256, dtype=np.uint64), 256)
    uu = np.full(a.size, u, np.uint64)
    assert_bits(
        golden.fp_add(a, b, cfg, u=uu),
        add_table(F, "sr", sub_out, u=u, r=r),
        F,
        a,
        b,
        in_fmts=[F, F],
        what=f"{name} sr r={r} u={u}",
    )
    if u == 0:
        # never rounds up, like rz, except that an overflow still gives inf (the mode is not rz)
        rz = add_table(F, "rz", sub_out)
        got = golden.fp_add(a, b, cfg, u=uu)
        same = ~nan_mask(rz, F) & ((rz & np.uint64(0x7F)) != np.uint64(0x7B))
        np.testing.assert_array_equal(got[same], rz[same])


@pytest.mark.slow
@pytest.mark.parametrize("r", [1, 3, 8])
def test_8bit_add_exhaustive_sr_random_u(r):
    """Every E5M2 pair with a random u per pair."""
    rng = np.random.default_rng(SEED + r)
    cfg = AccConfig(fmt("E5M2"), "sr", "ieee", r, 1)
    F = ref_fmt(cfg.fmt)
    a = np.repeat(np.arange(256, dtype=np.uint64), 256)
    b = np.tile(np.arange(256, dtype=np.uint64), 256)
    u = rng.integers(0, 1 << r, a.size).astype(np.uint64)
    exp = add_bits(a, b, F, F, "sr", "ieee", u=u, r=r)
    assert_bits(
        golden.fp_add(a, b, cfg, u=u),
        exp,
        F,
        a,
        b,
        u,
        names=("acc", "x", "u"),
        in_fmts=[F, F, None],
        what=f"E5M2 sr r={r}",
    )


# (accumulator format, input format, n per group): the MAC pairs of the seed's table and more
MIXED = [
    ("E5M2", "E5M2", 300),
    ("E6M5", "E6M5-inf", 400),  # E5M2:cfg5 products into an E6M5 accumulator
    ("E6M5-inf", "E6M5-inf", 300),
    ("E7M7", "E7M7-inf", 300),  # E6M3:cfg5
    ("fp16", "E6M5-inf", 300),
    ("bf16", "E6M7", 300),  # E5M3:cfg3
    ("fp16", "fp16", 400),
    ("fp32", "E9M47", 300),  # fp32:cfg3 products into fp32
    ("fp32", "fp32", 300),
    ("E5M2", "E6M5", 300),  # a wider input than the accumulator
    ("E4M3-fin", "E4M3", 300),  # inf/NaN inputs into a format without them
]


@pytest.mark.parametrize(
    "rounding, sub_out, r",
    [
        ("rne", "ieee", 0),
        ("rne", "flush", 0),
        ("rz", "ieee", 0),
        ("rz", "flush", 0),
        ("sr", "ieee", 8),
        ("sr", "flush", 5),
        ("sr", "ieee", 16),
    ],
)
@pytest.mark.parametrize("acc_name, x_name, n", MIXED)
def test_add_sampled_vs_fraction(acc_name, x_name, n, rounding, sub_out, r):
    rng = np.random.default_rng(abs(hash((acc_name, x_name, rounding, sub_out, r))) % 2**32)
    cfg = AccConfig(fmt(acc_name), rounding, sub_out, r or 8, 1)
    accF, xF = ref_fmt(cfg.fmt), ref_fmt(fmt(x_name))
    a, x = add_pairs(rng, accF, xF, n)
    u = rng.integers(0, 1 << r, a.size).astype(np.uint64) if rounding == "sr" else None
    exp = add_bits(a, x, accF, xF, rounding, sub_out, u=u, r=r)
    got = golden.fp_add(a, x, cfg, fmt(x_name), u=u)
    ins = (a, x) if u is None else (a, x, u)
    assert_bits(
        got,
        exp,
        accF,
        *ins,
        names=("acc", "x", "u"),
        in_fmts=[accF, xF, None],
        what=f"{cfg} + {x_name}",
    )


@pytest.mark.parametrize("r", [24, 32])
def test_fp32_sr_many_random_bits(r):
    """Long random-bit fields: phi is taken to r bits below the fp32 ulp (far below the
    operands' own bits when they are far apart)."""
    rng = np.random.default_rng(SEED + r)
    cfg = AccConfig(fmt("fp32"), "sr", "ieee", r, 5)
    F = ref_fmt(cfg.fmt)
    a, x = add_pairs(rng, F, F, 600)
    u = rng.integers(0, 1 << r, a.size, dtype=np.uint64)
    exp = add_bits(a, x, F, F, "sr", "ieee", u=u, r=r)
    assert_bits(
        golden.fp_add(a, x, cfg, u=u),
        exp,
        F,
        a,
        x,
        u,
        names=("acc", "x", "u"),
        in_fmts=[F, F, None],
        what=f"fp32 sr r={r}",
    )


def test_sr_rule_literals():
    """SPEC §6 on E6M5 with r = 4: 1 + 5/16 ulp rounds up iff floor(5/16 * 16) + u >= 16, i.e.
    u >= 11."""
    cfg = AccConfig(fmt("E6M5"), "sr", "ieee", 4, 1)
    F = ref_fmt(cfg.fmt)
    one = 31 << 5  # 1.0 in E6M5 (bias 31); ulp 2^-5
    x = encode_value(Fraction(5, 16) * pow2(-5), F)  # 5/16 ulp, exact in E6M5
    u = np.arange(16, dtype=np.uint64)
    got = golden.fp_add(np.full(16, one), np.full(16, x), cfg, u=u)
    assert got.tolist() == [one] * 11 + [one + 1] * 5
    # negative: the magnitude rounds (away from zero iff the rule fires)
    got = golden.fp_add(np.full(16, one | 1 << 11), np.full(16, x | 1 << 11), cfg, u=u)
    assert got.tolist() == [one | 1 << 11] * 11 + [(one + 1) | 1 << 11] * 5
    # phi below 2^-r never rounds up: 1/32 ulp with r = 4
    x = encode_value(Fraction(1, 32) * pow2(-5), F)
    assert golden.fp_add(np.full(16, one), np.full(16, x), cfg, u=u).tolist() == [one] * 16


def encode_value(q: Fraction, F: RF) -> int:
    from fraction_ref import encode, value_of

    return encode(value_of(q), F)


# ----------------------------------------------------------------------------- properties
@pytest.mark.parametrize("name", ["E5M2", "E4M3", "E5M2-inf", "E4M3-fin"])
@pytest.mark.parametrize(
    "rounding, sub_out", [("rne", "ieee"), ("rz", "flush"), ("rz", "ieee"), ("rne", "flush")]
)
def test_add_commutative_and_sign_symmetric(name, rounding, sub_out):
    cfg = AccConfig(fmt(name), rounding, sub_out)
    F = ref_fmt(cfg.fmt)
    a = np.repeat(np.arange(256, dtype=np.uint64), 256)
    b = np.tile(np.arange(256, dtype=np.uint64), 256)
    s = golden.fp_add(a, b, cfg)
    np.testing.assert_array_equal(s, golden.fp_add(b, a, cfg))
    neg = golden.fp_add(a ^ np.uint64(0x80), b ^ np.uint64(0x80), cfg)
    # the negated sum is the negated result, except NaN (canonical) and the +0 of an exact
    # cancellation x + (-x) (which is +0 whatever the signs)
    va = [decode(int(v), F) for v in range(256)]
    fin_ = np.array([v.kind == "fin" for v in va])
    inf_ = np.array([v.kind == "inf" for v in va])
    sgn = np.array([v.sign for v in va])
    val = np.array(
        [float(v.value()) if v.kind == "fin" else 0.0 for v in va]
    )  # exact for 8-bit formats
    ai, bi = a.astype(np.int64), b.astype(np.int64)
    both_zero_same_sign = (val[ai] == 0) & (val[bi] == 0) & (sgn[ai] == sgn[bi])
    exact_zero = fin_[ai] & fin_[bi] & (val[ai] + val[bi] == 0) & ~both_zero_same_sign
    # inf - inf in a format without NaN is +inf whatever the order of the signs (SPEC §1)
    inf_minus_inf = inf_[ai] & inf_[bi] & (sgn[ai] != sgn[bi])
    keep = nan_mask(s, F) | exact_zero | inf_minus_inf
    np.testing.assert_array_equal(np.where(keep, s, neg ^ np.uint64(0x80)), s)
    if not F.has_nan and F.has_inf:
        assert (s[inf_minus_inf] == 0x7F).all() and (neg[inf_minus_inf] == 0x7F).all()
    assert (s[exact_zero] == 0).all() and (neg[exact_zero] == 0).all()


def test_add_commutative_fp32():
    rng = np.random.default_rng(SEED + 3)
    F = RF.make(8, 23)
    a, b = add_pairs(rng, F, F, 20_000)
    for rounding in ("rne", "rz"):
        cfg = AccConfig(fmt("fp32"), rounding)
        np.testing.assert_array_equal(golden.fp_add(a, b, cfg), golden.fp_add(b, a, cfg))


# ----------------------------------------------------------------------------- accumulate
ACC_CASES = [
    ("E6M5", "E6M5-inf", "rne", "ieee", 8, 1),
    ("E6M5", "E6M5-inf", "rz", "flush", 8, 1),
    ("E6M5", "E6M5-inf", "sr", "ieee", 8, 7),
    ("E6M5", "E6M5-inf", "sr", "flush", 4, 0xDEADBEEF),
    ("fp16", "fp16", "rne", "flush", 8, 1),
    ("fp16", "E7M7", "sr", "ieee", 12, 3),
    ("E5M2", "E5M2", "rne", "ieee", 8, 1),
    ("E5M2", "E5M2", "sr", "ieee", 2, 99),
    ("bf16", "E6M5-inf", "sr", "ieee", 16, 12345),
]


@pytest.mark.parametrize("acc_name, x_name, rounding, sub_out, bits, seed", ACC_CASES)
def test_accumulate_vs_fraction(acc_name, x_name, rounding, sub_out, bits, seed):
    """Lanes of random sequences (with cancellations, overflow, subnormal sums), random
    valid and clear masks; the full history against the reference accumulator."""
    rng = np.random.default_rng(SEED + seed % 1000 + len(acc_name))
    cfg = AccConfig(fmt(acc_name), rounding, sub_out, bits, seed)
    accF, xF = ref_fmt(cfg.fmt), ref_fmt(fmt(x_name))
    steps, lanes = 48, 24
    pool_a, pool_x = add_pairs(rng, accF, xF, 60)
    xs = rng.choice(pool_x, (steps, lanes))
    # a few lanes: add then subtract the same values (cancellation back to zero)
    xs[steps // 2 :, :4] = xs[: steps // 2, :4] ^ np.uint64(1 << (xF.width - 1))
    valid = rng.random((steps, lanes)) < 0.85
    clear = rng.random((steps, lanes)) < 0.06
    valid[:, 4:6] = True
    clear[:, 4:6] = False
    got = golden.accumulate(xs, cfg, fmt(x_name), valid=valid, clear=clear, history=True)
    final = golden.accumulate(xs, cfg, fmt(x_name), valid=valid, clear=clear)
    np.testing.assert_array_equal(final, got[-1])
    for lane in range(lanes):
        exp = accumulate_ref(
            xs[:, lane].tolist(),
            accF,
            xF,
            rounding,
            sub_out,
            valid=valid[:, lane],
            clear=clear[:, lane],
            sr_bits=bits,
            sr_seed=seed,
        )
        assert_bits(
            got[:, lane],
            np.array(exp, np.uint64),
            accF,
            xs[:, lane],
            valid[:, lane].astype(np.uint64),
            clear[:, lane].astype(np.uint64),
            names=("x", "valid", "clear"),
            in_fmts=[xF, None, None],
            what=f"{cfg} lane {lane}",
        )


def test_accumulate_defaults_and_literals():
    cfg = AccConfig(fmt("fp16"))
    one = 0x3C00
    xs = np.array([one] * 5, np.uint64)
    assert golden.accumulate(xs, cfg).tolist() == 0x4500  # 5.0
    hist = golden.accumulate(xs, cfg, valid=[1, 0, 1, 1, 1], clear=[0, 0, 0, 1, 0], history=True)
    assert hist.tolist() == [0x3C00, 0x3C00, 0x4000, 0x3C00, 0x4000]
    # a clear on an invalid step still clears (the state is +0 after clear)
    hist = golden.accumulate(xs, cfg, valid=[1, 1, 0, 1, 1], clear=[0, 0, 1, 0, 0], history=True)
    assert hist.tolist() == [0x3C00, 0x4000, 0x0000, 0x3C00, 0x4000]
    # the starting state is +0: +0 + -0 = +0, so accumulating -0s gives +0; -1 + 1 = +0
    assert int(golden.accumulate(np.array([0x8000, 0x8000], np.uint64), cfg)) == 0x0000
    assert int(golden.accumulate(np.array([0xBC00, 0x3C00], np.uint64), cfg)) == 0x0000
    assert int(golden.accumulate(np.array([0x8000], np.uint64), cfg, valid=[0])) == 0x0000
    # rz: an inexact negative sum rounds toward zero; overflow gives max finite, not inf
    rz = AccConfig(fmt("fp16"), "rz")
    assert int(golden.accumulate(np.array([0xBC00, 0x9001], np.uint64), rz)) == 0xBC00  # -1 - tiny
    assert int(golden.accumulate(np.array([0x7BFF, 0x7BFF], np.uint64), rz)) == 0x7BFF
    assert int(golden.accumulate(np.array([0x7BFF, 0x7BFF], np.uint64), cfg)) == 0x7C00


def test_sr_generator_steps_once_per_valid_input():
    """The xorshift32 sequence: SPEC §6 on a known seed, and its use by accumulate: the same
    u sequence applied by hand through fp_add (steps only on valid inputs, never reset)."""
    # the first steps for seed 1, spelled out (and xorshift32_py agrees)
    seq, s = [], 1
    for _ in range(4):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        seq.append(s)
    assert seq[0] == 0x42021  # 1 ^ 1<<13 = 0x2001; >>17 adds nothing; ^ 0x2001<<5 = 0x42021
    x = 1
    for v in seq:
        x = xorshift32_py(x)
        assert x == v
    assert [int(v) for v in golden.random_bits(1, 4, 32)] == seq
    assert int(golden.xorshift32(np.uint32(1))) == seq[0]

    cfg = AccConfig(fmt("E6M5"), "sr", "ieee", 6, 4242)
    F = ref_fmt(cfg.fmt)
    rng = np.random.default_rng(5)
    xs = rng.choice(add_pairs(rng, F, F, 30)[1], 40)
    valid = rng.random(40) < 0.7
    clear = rng.random(40) < 0.1
    got = golden.accumulate(xs, cfg, valid=valid, clear=clear, history=True)
    gen, acc, manual = XorShift32(4242, 6), np.uint64(0), []
    for t in range(40):
        if clear[t]:
            acc = np.uint64(0)
        if valid[t]:
            acc = golden.fp_add(
                np.array([acc]), np.array([xs[t]]), cfg, u=np.array([gen.next_u()], np.uint64)
            )[0]
        manual.append(int(acc))
    assert got.tolist() == manual


# ----------------------------------------------------------------------------- sr statistics
def test_sr_single_rounding_unbiased():
    """Round the same exact sums N times with successive xorshift32 u values (r = 8): for a
    discarded fraction phi with at most r bits, E[result] = exact sum; the mean of N
    Bernoulli(phi) ulp steps has standard deviation ulp * sqrt(phi(1-phi)/N). Allow 5 sigma."""
    r, N = 8, 20_000
    cfg = AccConfig(fmt("E6M5"), "sr", "ieee", r, 1)
    F = ref_fmt(cfg.fmt)
    gen = XorShift32(0x1234567, r)
    u = np.array([gen.next_u() for _ in range(N)], np.uint64)
    one = 31 << 5
    for k in (1, 37, 128, 200, 252):  # at most 6 significant bits: x exact in E6M5
        phi = Fraction(k, 1 << r)
        x = encode_value(phi * pow2(-5), F)
        assert decode(x, F).mag == phi * pow2(-5)
        got = golden.fp_add(np.full(N, one), np.full(N, x), cfg, u=u)
        vals = golden.to_float(got, cfg.fmt)
        exact = 1 + float(phi) * 2**-5
        sigma = 2**-5 * np.sqrt(float(phi * (1 - phi)) / N)
        assert abs(vals.mean() - exact) <= 5 * sigma + 1e-15, (k, vals.mean(), exact, sigma)
        assert set(vals.tolist()) <= {1.0, 1 + 2**-5}


def test_sr_accumulation_unbiased_where_rne_drifts():
    """Accumulate N copies of a small x in fp16 (11 significant bits). rne stagnates or
    drifts once x is a small fraction of the ulp; sr is unbiased: S_N - N x = sum of the
    per-step rounding errors e_t with E[e_t | past] = 0 (phi has at most r bits here: x's
    lsb 2^-10 >= ulp * 2^-r for every ulp <= 2^-4 reached) and |e_t| < ulp_t, so
    Var(S_N) <= sum ulp_t^2 / 4. Allow 5 sigma per lane; rne must miss by > 10 sigma."""
    r, N = 8, 2000
    ks = [3, 5, 7, 13]
    xs_vals = [k * 2.0**-10 for k in ks]
    F = ref_fmt(fmt("fp16"))
    x_bits = np.array([encode_value(Fraction(k, 1024), F) for k in ks], np.uint64)
    xs = np.broadcast_to(x_bits, (N, len(ks)))
    sr = golden.accumulate(xs, AccConfig(fmt("fp16"), "sr", "ieee", r, 0xC0FFEE), history=True)
    rne = golden.accumulate(xs, AccConfig(fmt("fp16"), "rne", "ieee"))
    hist = golden.to_float(sr, fmt("fp16"))
    for j, v in enumerate(xs_vals):
        path = np.concatenate([[0.0], hist[:, j]])
        # ulp of the binade holding the exact sum acc_{t-1} + x (the larger of both ends)
        top = np.maximum(np.abs(path[1:]), np.abs(path[:-1]) + v)
        ulp = 2.0 ** (np.floor(np.log2(top)) - 10)
        assert 2.0**-10 >= ulp.max() * 2.0**-r
        sigma = np.sqrt((ulp**2).sum() / 4)
        err = path[-1] - N * v
        assert abs(err) <= 5 * sigma, (v, path[-1], N * v, sigma)
        rne_err = golden.to_float(rne[j : j + 1], fmt("fp16"))[0] - N * v
        assert abs(rne_err) > 10 * sigma, (
            "the test must distinguish sr from rne",
            v,
            rne_err,
            sigma,
        )


# ----------------------------------------------------------------------------- fixed point
@pytest.mark.parametrize("spec", ["Q8.13", "Q4.4", "Q16.16", "Q1.7", "Q2.0"])
def test_fixed_add_vs_python_ints(spec):
    q = parse_format(spec)
    w = q.width
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    rng = np.random.default_rng(SEED + w)
    if w <= 8:
        ra = np.repeat(np.arange(lo, hi + 1), 1 << w)
        rb = np.tile(np.arange(lo, hi + 1), 1 << w)
    else:
        edge = np.array([lo, lo + 1, -1, 0, 1, hi, hi - 1, hi // 2, lo // 2, hi // 2 + 1])
        ea, eb = np.meshgrid(edge, edge)
        ra = np.concatenate([ea.ravel(), rng.integers(lo, hi + 1, 50_000)])
        rb = np.concatenate([eb.ravel(), rng.integers(lo, hi + 1, 50_000)])
    mask = (1 << w) - 1
    got = golden.fixed_add((ra & mask).astype(np.uint64), (rb & mask).astype(np.uint64), q)
    exp = np.array(
        [max(lo, min(hi, x + y)) & mask for x, y in zip(ra.tolist(), rb.tolist())], np.uint64
    )
    bad = np.flatnonzero(got != exp)
    assert bad.size == 0, [(int(ra[i]), int(rb[i]), int(exp[i]), int(got[i])) for i in bad[:8]]


def test_fixed_accumulate_saturates():
    q = parse_format("Q8.13")
    cfg = AccConfig(q)
    big = int(100 * 2**13)
    xs = np.array(
        [
            big,
            big,
            (-big) & ((1 << 21) - 1),
            (-big) & ((1 << 21) - 1),
            (-big) & ((1 << 21) - 1),
            (-big) & ((1 << 21) - 1),
        ],
        np.uint64,
    )
    hist = golden.accumulate(xs, cfg, history=True)
    vals = [v - (1 << 21) if v >= 1 << 20 else v for v in hist.tolist()]
    # 100, 128-ulp (sat), 28-ulp, -72-ulp, -128 (sat), -128 (stays)
    assert vals == [
        big,
        (1 << 20) - 1,
        (1 << 20) - 1 - big,
        (1 << 20) - 1 - 2 * big,
        -(1 << 20),
        -(1 << 20),
    ]


# ----------------------------------------------------------------------------- MAC end to end
@pytest.mark.parametrize(
    "spec",
    [
        "E5M2:cfg5+E6M5",
        "E5M2:cfg5+E6M5:sr,bits=8,seed=7",
        "E4M3:cfg1+fp16:rz,flush",
        "E5M2:cfg5+Q8.13",
        "E5M2:cfg1+Q8.13:rz",
        "E4M3:cfg6+Q4.4",
    ],
)
def test_mac_vs_reference(spec):
    """mac = multiplier (Fraction model) -> [float->fixed] -> accumulator (Fraction model)."""
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(SEED + len(spec))
    steps, lanes = 40, 16
    a = rng.integers(0, 256, (steps, lanes)).astype(np.uint64)
    b = rng.integers(0, 256, (steps, lanes)).astype(np.uint64)
    a[:, :8] = np.where(
        rng.random((steps, 8)) < 0.9, a[:, :8] & np.uint64(0xF7), a[:, :8]
    )  # fewer huge values
    valid = rng.random((steps, lanes)) < 0.9
    clear = rng.random((steps, lanes)) < 0.05
    res = golden.mac(a, b, cfg, valid=valid, clear=clear, history=True)
    fi = ref_fmt(cfg.mul.fmt)
    fo = fi.wide() if cfg.mul.round == "none" else fi
    prods = mul_bits(a, b, fi, cfg.mul.sub_in, fo, cfg.mul.sub_out).reshape(steps, lanes)
    for lane in range(lanes):
        if cfg.acc.is_fixed:
            q = cfg.acc.fmt
            w, mask = q.width, (1 << q.width) - 1
            acc, flag, hist, flags = 0, False, [], []
            for t in range(steps):
                v = decode(int(prods[t, lane]), fo)
                if clear[t, lane]:
                    acc, flag = 0, False
                if valid[t, lane]:
                    if v.kind == "nan":
                        x, flag = 0, True
                    elif v.kind == "inf":
                        x = -(1 << (w - 1)) if v.sign else (1 << (w - 1)) - 1
                    else:
                        x = fixed_round(v.value(), q.f, q.i, cfg.acc.rounding)
                    acc = max(-(1 << (w - 1)), min((1 << (w - 1)) - 1, acc + x))
                hist.append(acc & mask)
                flags.append(flag)
            assert res.acc[:, lane].tolist() == hist, (spec, lane)
            assert res.invalid[:, lane].tolist() == flags, (spec, lane)
        else:
            accF = ref_fmt(cfg.acc.fmt)
            exp = accumulate_ref(
                prods[:, lane].tolist(),
                accF,
                fo,
                cfg.acc.rounding,
                cfg.acc.sub_out,
                valid=valid[:, lane],
                clear=clear[:, lane],
                sr_bits=cfg.acc.sr_bits,
                sr_seed=cfg.acc.sr_seed,
            )
            assert_bits(
                res.acc[:, lane],
                np.array(exp, np.uint64),
                accF,
                prods[:, lane],
                names=("p",),
                in_fmts=[fo],
                what=f"{spec} lane {lane}",
            )
            assert not res.invalid.any()


def test_fp_add_and_convert_broadcast():
    rng = np.random.default_rng(SEED + 11)
    for name in ("E5M2", "fp16"):
        cfg = AccConfig(fmt(name))
        F = ref_fmt(cfg.fmt)
        col = random_patterns(rng, F, 5)[:, None]
        row = random_patterns(rng, F, 6)[None, :]
        got = golden.fp_add(col, row, cfg)
        assert got.shape == (5, 6)
        a, b = np.broadcast_arrays(col, row)
        assert_bits(got, add_bits(a, b, F, F), F, a, b, in_fmts=[F, F], what=f"{name} broadcast")
        np.testing.assert_array_equal(
            golden.fp_add(row.ravel()[:1], row.ravel(), cfg),
            add_bits(np.broadcast_to(row.ravel()[:1], (6,)), row.ravel(), F, F),
        )
