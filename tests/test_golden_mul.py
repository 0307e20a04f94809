"""Golden floating-point and fixed-point multipliers (SPEC §2) against independent references:

* CFG-1 fp16 / fp32 against NumPy (exact float64 product, one correctly rounded cast),
  bf16, E5M2 and E4M3 against ml_dtypes (all 65,536 pairs for the 8-bit formats);
* CFG-2..6 and free knob combinations against the exact Fraction model of
  tests/fraction_ref.py (exhaustive for 8-bit inputs, sampled for wider ones);
* the seed's E5M2 encoding table, literally;
* properties: commutativity, sign symmetry, exactness of CFG-3..6;
* the fixed-point multiplier against Python integers.
"""

import ml_dtypes
import numpy as np
import pytest
from fraction_ref import (
    RF,
    assert_bits,
    corner_values,
    cross,
    decode,
    max_finite,
    mul_bits,
    mul_table,
    nan_mask,
    pow2,
    random_patterns,
    ref_fmt,
    ref_mul,
)

from lpmac import MulConfig, golden, parse_format

SEED = 20240611


# ----------------------------------------------------------------------------- helpers
def all_pairs(width: int):
    n = 1 << width
    v = np.arange(n, dtype=np.uint64)
    return np.repeat(v, n), np.tile(v, n)


def ref_formats(cfg: MulConfig):
    """(input RF, output RF) derived from SPEC §2 (not from cfg.out_format)."""
    fi = ref_fmt(cfg.fmt)
    return fi, (fi.wide() if cfg.round == "none" else fi)


def fp16_corners():
    F = RF.make(5, 10)
    fields = [0, 1, 2, 3, 6, 7, 8, 13, 14, 15, 16, 17, 22, 23, 24, 28, 29, 30, 31]
    fracs = [0, 1, 2, 3, 0x200, 0x3FF, 0x3FE, 0x155, 0x2AA, 0x100, 0x201]
    return corner_values(F, fields, fracs)


def fp32_corners():
    F = RF.make(8, 23)
    fields = [
        0,
        1,
        2,
        24,
        25,
        26,
        50,
        51,
        52,
        63,
        64,
        65,
        102,
        103,
        104,
        126,
        127,
        128,
        190,
        191,
        192,
        253,
        254,
        255,
    ]
    fracs = [
        0,
        1,
        2,
        3,
        1 << 22,
        (1 << 23) - 1,
        (1 << 23) - 2,
        0x2AAAAA,
        0x555555,
        0x400001,
        1 << 21,
    ]
    return corner_values(F, fields, fracs)


def tie_pairs(rng, F: RF, n: int):
    """a with an odd significand times b = ±{1.5, 1.25, 1.75} * 2^k: the product then has
    one or two bits below the ulp, so a large share are exact ties."""
    a = random_patterns(rng, F, n, centre_spread=(1 << (F.e - 1)) - 2) | np.uint64(1)
    frac_b = rng.choice([1 << (F.m - 1), 1 << (F.m - 2), 3 << (F.m - 2)], n)
    sign_b = rng.integers(0, 2, n)
    field_b = np.clip(
        F.bias + rng.integers(-(1 << (F.e - 1)) + 2, (1 << (F.e - 1)) - 1, n), 1, (1 << F.e) - 2
    )
    b = ((sign_b << (F.e + F.m)) | (field_b << F.m) | frac_b).astype(np.uint64)
    return a, b


def numpy_product(a_bits, b_bits, dtype, udtype):
    """Exact product in float64 (it fits: 2*(m+1) <= 53 bits, exponents in range) and one
    correctly rounded cast to the target type."""
    with np.errstate(all="ignore"):
        a = np.asarray(a_bits).astype(udtype).view(dtype).astype(np.float64)
        b = np.asarray(b_bits).astype(udtype).view(dtype).astype(np.float64)
        return (a * b).astype(dtype).view(udtype).astype(np.uint64)


# ----------------------------------------------------------------------- CFG-1 vs NumPy / ml_dtypes
@pytest.mark.parametrize(
    "name, dtype", [("E5M2", ml_dtypes.float8_e5m2), ("E4M3", ml_dtypes.float8_e4m3)]
)
def test_cfg1_8bit_exhaustive_vs_ml_dtypes(name, dtype):
    cfg = MulConfig.preset(name, 1)
    F = ref_fmt(cfg.fmt)
    a, b = all_pairs(8)
    exp = numpy_product(a, b, dtype, np.uint8)
    got = fp_mul_checked(a, b, cfg)
    assert_bits(got, exp, F, a, b, in_fmts=[F, F], what=f"{name} CFG-1 vs ml_dtypes")
    assert nan_mask(exp, F).sum() > 0 and (exp == 0).sum() > 0  # the table does exercise specials


def fp_mul_checked(a, b, cfg):
    got = golden.fp_mul(a, b, cfg)
    assert got.dtype == np.uint64 and got.shape == np.broadcast(a, b).shape
    return got


def test_cfg1_fp16_vs_numpy():
    rng = np.random.default_rng(SEED)
    F = RF.make(5, 10)
    cfg = MulConfig.preset("fp16", 1)
    ca, cb = cross(fp16_corners())
    ta, tb = tie_pairs(rng, F, 50_000)
    a = np.concatenate(
        [
            ca,
            random_patterns(rng, F, 100_000),
            random_patterns(rng, F, 100_000, 8, 0),
            random_patterns(rng, F, 50_000, 12, 6),
            ta,
        ]
    )
    b = np.concatenate(
        [
            cb,
            random_patterns(rng, F, 100_000),
            random_patterns(rng, F, 100_000, 8, 0),
            random_patterns(rng, F, 50_000, 12, 6),
            tb,
        ]
    )
    exp = numpy_product(a, b, np.float16, np.uint16)
    got = fp_mul_checked(a, b, cfg)
    assert_bits(got, exp, F, a, b, in_fmts=[F, F], what="fp16 CFG-1 vs NumPy")


@pytest.mark.slow
def test_cfg1_fp16_exhaustive_vs_numpy():
    """All 2^32 fp16 pairs, 64 values of a against every b at a time (5-10 minutes)."""
    F = RF.make(5, 10)
    cfg = MulConfig.preset("fp16", 1)
    every = np.arange(1 << 16, dtype=np.uint64)
    rows = 64
    b = np.tile(every, rows)
    for first in range(0, 1 << 16, rows):
        a = np.repeat(every[first : first + rows], 1 << 16)
        assert_bits(
            golden.fp_mul(a, b, cfg),
            numpy_product(a, b, np.float16, np.uint16),
            F,
            a,
            b,
            in_fmts=[F, F],
            what=f"fp16 CFG-1 vs NumPy, a in [{first:#06x}, {first + rows:#06x})",
        )


def test_fp16_tie_and_boundary_literals():
    """A few hand-checked products (exact ties, overflow and underflow boundaries)."""
    cfg = MulConfig.preset("fp16", 1)
    cases = [
        (0x3C01, 0x3E00, 0x3E02),  # (1+2^-10)*1.5 = 1.5+2^-10+2^-11: tie, 0x3E01 odd -> up
        (0x3C03, 0x3E00, 0x3E04),  # (1+3*2^-10)*1.5 = 1.5+4*2^-10+2^-11: tie, 0x3E04 even -> stays
        (0x3C01, 0x3C01, 0x3C02),  # (1+2^-10)^2 = 1+2^-9+2^-20 -> 0x3C02
        (0x7BFF, 0x3C00, 0x7BFF),  # max * 1
        (0x7BFF, 0x3C01, 0x7C00),  # 65504*(1+2^-10) = 65567.97 > 65520 -> inf
        (0x5BFF, 0x5BFF, 0x7BFE),  # 255.875^2 = 65472.02 -> 65472
        (0x0400, 0x3800, 0x0200),  # min normal / 2 -> subnormal, exact
        (0x0001, 0x3800, 0x0000),  # 2^-25: tie between 0 and 2^-24 -> 0 (even), sign kept
        (0x8001, 0x3800, 0x8000),
        (0x0001, 0x3A00, 0x0001),  # 0.75 * 2^-24 -> 2^-24
        (0x0001, 0x3E00, 0x0002),  # 1.5 * 2^-24: tie -> 2 (even)
        (0x0003, 0x3800, 0x0002),  # 1.5 * 2^-24 via 3 * 2^-25: tie -> 2
        (0x8000, 0x3C00, 0x8000),  # -0 * 1 = -0
        (0x8000, 0x8000, 0x0000),  # -0 * -0 = +0
        (0x7C00, 0xBC00, 0xFC00),  # inf * -1 = -inf
    ]
    a, b, exp = (np.array(x, dtype=np.uint64) for x in zip(*cases))
    np.testing.assert_array_equal(golden.fp_mul(a, b, cfg), exp)
    np.testing.assert_array_equal(
        numpy_product(a, b, np.float16, np.uint16), exp
    )  # the literals are right
    nan = golden.fp_mul(
        np.array([0x7C00, 0x0000, 0x7E00, 0x7C01]), np.array([0x0000, 0xFC00, 0x3C00, 0x3C00]), cfg
    )
    assert nan_mask(nan, RF.make(5, 10)).all()


def test_cfg1_fp32_vs_numpy():
    rng = np.random.default_rng(SEED + 1)
    F = RF.make(8, 23)
    cfg = MulConfig.preset("fp32", 1)
    ca, cb = cross(fp32_corners())
    ta, tb = tie_pairs(rng, F, 50_000)
    a = np.concatenate(
        [
            ca,
            random_patterns(rng, F, 100_000),
            random_patterns(rng, F, 100_000, 70),
            random_patterns(rng, F, 50_000, 100, 12),
            ta,
        ]
    )
    b = np.concatenate(
        [
            cb,
            random_patterns(rng, F, 100_000),
            random_patterns(rng, F, 100_000, 70),
            random_patterns(rng, F, 50_000, 100, 12),
            tb,
        ]
    )
    exp = numpy_product(a, b, np.float32, np.uint32)
    got = fp_mul_checked(a, b, cfg)
    assert_bits(got, exp, F, a, b, in_fmts=[F, F], what="fp32 CFG-1 vs NumPy")
    # the corner set reaches both ends: finite x finite overflowing to inf, nonzero x nonzero
    # underflowing to a signed zero
    expo = np.uint64(0x7F800000)
    finite = ((ca & expo) != expo) & ((cb & expo) != expo)
    nonzero = ((ca & np.uint64(0x7FFFFFFF)) != 0) & ((cb & np.uint64(0x7FFFFFFF)) != 0)
    mag = exp[: ca.size] & np.uint64(0x7FFFFFFF)
    assert (finite & (mag == expo)).any() and (finite & nonzero & (mag == 0)).any()


def test_cfg1_bf16_vs_ml_dtypes():
    rng = np.random.default_rng(SEED + 2)
    F = RF.make(8, 7)
    cfg = MulConfig.preset("bf16", 1)
    corners = corner_values(
        F,
        [
            0,
            1,
            2,
            3,
            30,
            31,
            32,
            60,
            61,
            62,
            63,
            64,
            65,
            126,
            127,
            128,
            190,
            191,
            192,
            253,
            254,
            255,
        ],
        [0, 1, 2, 0x40, 0x7F, 0x7E, 0x55, 0x41],
    )
    ca, cb = cross(corners)
    ta, tb = tie_pairs(rng, F, 30_000)
    a = np.concatenate(
        [ca, random_patterns(rng, F, 100_000), random_patterns(rng, F, 100_000, 70), ta]
    )
    b = np.concatenate(
        [cb, random_patterns(rng, F, 100_000), random_patterns(rng, F, 100_000, 70), tb]
    )
    exp = numpy_product(a, b, ml_dtypes.bfloat16, np.uint16)
    assert_bits(
        fp_mul_checked(a, b, cfg), exp, F, a, b, in_fmts=[F, F], what="bf16 CFG-1 vs ml_dtypes"
    )


# ----------------------------------------------------------------------- CFG-2..6: exhaustive 8-bit
_TABLES = {}


def ref_table(cfg: MulConfig):
    """Exhaustive Fraction reference of an 8-bit multiplier configuration (cached)."""
    if cfg not in _TABLES:
        fi, fo = ref_formats(cfg)
        _TABLES[cfg] = mul_table(fi, cfg.sub_in, fo, cfg.sub_out)
    return _TABLES[cfg]


@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("name", ["E5M2", "E4M3"])
def test_cfg_8bit_exhaustive_vs_fraction(name, n):
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    a, b = all_pairs(8)
    got = fp_mul_checked(a, b, cfg)
    assert_bits(got, ref_table(cfg), fo, a, b, in_fmts=[fi, fi], what=f"{name} CFG-{n}")


FREE_KNOBS = [
    # (specials, sub_in, round, sub_out)
    ("inf_only", "ieee", "rne", "ieee"),
    ("inf_only", "as_normal", "rne", "ieee"),
    ("inf_only", "flush", "rne", "flush"),
    ("finite", "ieee", "rne", "ieee"),
    ("finite", "as_normal", "none", "flush"),
    ("finite", "ieee", "none", "ieee"),
    ("ieee", "as_normal", "rne", "ieee"),
    ("ieee", "flush", "rne", "ieee"),
    ("ieee", "ieee", "none", "ieee"),
    ("inf_only", "ieee", "none", "ieee"),
]


@pytest.mark.parametrize("knobs", FREE_KNOBS, ids=lambda k: "-".join(k))
@pytest.mark.parametrize("name", ["E5M2", "E4M3"])
def test_free_knobs_8bit_exhaustive(name, knobs):
    specials, sub_in, rnd, sub_out = knobs
    cfg = MulConfig(parse_format(name).with_specials(specials), sub_in, rnd, sub_out)
    fi, fo = ref_formats(cfg)
    a, b = all_pairs(8)
    assert_bits(
        fp_mul_checked(a, b, cfg),
        ref_table(cfg),
        fo,
        a,
        b,
        in_fmts=[fi, fi],
        what=f"{name} {knobs}",
    )


@pytest.mark.parametrize("name", ["E2M1", "E3M2", "E2M5", "E6M1", "E3M4", "E5M2b8", "E4M3b3"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_other_small_formats_exhaustive(name, n):
    """Extreme small formats (and non-standard biases) exhaustively: e=2 has no normal
    binade between emin and emax beyond one, m=1 makes inf_only's top binade a single value."""
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    if n >= 3 and not parse_format(name).standard_bias:
        # SPEC's wide format bias for a non-standard input bias: the value range must
        # keep every product exact, i.e. bias 2*bias+1 (standard inputs: 2^e - 1).
        fo = RF(fi.e + 1, 2 * fi.m + 1, 2 * fi.bias + 1, fi.specials)
    a, b = all_pairs(fi.width)
    assert_bits(
        fp_mul_checked(a, b, cfg),
        mul_table(fi, cfg.sub_in, fo, cfg.sub_out),
        fo,
        a,
        b,
        in_fmts=[fi, fi],
        what=f"{name} CFG-{n}",
    )


# ---------------------------------------------------------------------------- sampled wider formats
@pytest.mark.parametrize(
    "name, n_random",
    [("E5M3", 2000), ("E6M3", 2000), ("fp16", 1500), ("bf16", 1000), ("fp32", 1000)],
)
@pytest.mark.parametrize("n", [2, 3, 4, 5, 6])
def test_cfg_sampled_vs_fraction(name, n_random, n):
    rng = np.random.default_rng(SEED + 10 * n + len(name))
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    # corners: zeros, subnormals, min normal, 1.0, the top binades (inf_only's extra values),
    # specials; crossed with each other, plus random pairs (uniform and near 1.0)
    top = (1 << fi.e) - 1
    corners = corner_values(
        fi,
        [0, 1, fi.bias - 1, fi.bias, top - 1, top],
        [0, 1, (1 << fi.m) - 1, (1 << fi.m) - 2, 1 << (fi.m - 1)],
    )
    ca, cb = cross(corners)
    a = np.concatenate(
        [ca, random_patterns(rng, fi, n_random), random_patterns(rng, fi, n_random, 3)]
    )
    b = np.concatenate(
        [cb, random_patterns(rng, fi, n_random), random_patterns(rng, fi, n_random, 3)]
    )
    exp = mul_bits(a, b, fi, cfg.sub_in, fo, cfg.sub_out)
    assert_bits(fp_mul_checked(a, b, cfg), exp, fo, a, b, in_fmts=[fi, fi], what=f"{name} CFG-{n}")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["E5M3", "E6M3", "E3M4", "E6M2"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_cfg_9bit_exhaustive_slow(name, n):
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    a, b = all_pairs(fi.width)
    assert_bits(
        fp_mul_checked(a, b, cfg),
        mul_table(fi, cfg.sub_in, fo, cfg.sub_out),
        fo,
        a,
        b,
        in_fmts=[fi, fi],
        what=f"{name} CFG-{n}",
    )


# ---------------------------------------------------------------------------- the seed's E5M2 table
def test_e5m2_seed_table_top_binade():
    """Exponent field 31, frac 00/01/10/11: conventional (CFG-1..3) inf/NaN/NaN/NaN; custom
    (CFG-4..6) 65,536 / 81,920 / 98,304 / inf. Checked via products by 1.0 in the wide
    output format and via to_float."""
    one = 0b0_01111_00
    top = [0b0_11111_00, 0b0_11111_01, 0b0_11111_10, 0b0_11111_11]
    for n in (4, 5, 6):
        cfg = MulConfig.preset("E5M2", n)
        p = golden.fp_mul(np.array(top), np.full(4, one), cfg)
        vals = golden.to_float(p, cfg.out_format)
        assert vals.tolist() == [65536.0, 81920.0, 98304.0, float("inf")]
        # the wide format E6M5 (bias 31) encodes them exactly: 2^16 * 1.00, 1.01, 1.10
        assert p.tolist() == [
            (16 + 31) << 5 | 0b00000,
            (16 + 31) << 5 | 0b01000,
            (16 + 31) << 5 | 0b10000,
            0b111111_11111,
        ]
        pn = golden.fp_mul(np.array(top) | 0x80, np.full(4, one), cfg)
        assert golden.to_float(pn, cfg.out_format).tolist() == [
            -65536.0,
            -81920.0,
            -98304.0,
            float("-inf"),
        ]
    for n in (1, 2, 3):
        cfg = MulConfig.preset("E5M2", n)
        vals = golden.to_float(golden.fp_mul(np.array(top), np.full(4, one), cfg), cfg.out_format)
        assert vals[0] == np.inf and np.isnan(vals[1:]).all()
    inf_only = parse_format("E5M2-inf")
    assert golden.to_float(np.array(top), inf_only).tolist() == [
        65536.0,
        81920.0,
        98304.0,
        float("inf"),
    ]
    t = golden.to_float(np.array(top), parse_format("E5M2"))
    assert t[0] == np.inf and np.isnan(t[1:]).all()


def test_e5m2_seed_table_subnormals():
    """Subnormal frac 00/01/10/11 (exponent field 0): ieee (CFG-1..4) 0, 1.53e-5, 3.05e-5,
    4.58e-5 = 0, 2^-16, 2^-15, 3*2^-16; as_normal (CFG-5) 0, 3.81e-5, 4.58e-5, 5.34e-5 =
    0, 5*2^-17, 3*2^-16, 7*2^-17; flush (CFG-6) 0."""
    one = 0b0_01111_00
    subs = np.array([0b00, 0b01, 0b10, 0b11])
    ieee = [0.0, 2.0**-16, 2.0**-15, 3 * 2.0**-16]
    as_normal = [0.0, 5 * 2.0**-17, 3 * 2.0**-16, 7 * 2.0**-17]
    expected = {1: ieee, 2: ieee, 3: ieee, 4: ieee, 5: as_normal, 6: [0.0] * 4}
    rounded = {1: [0.0, 1.53e-5, 3.05e-5, 4.58e-5], 5: [0.0, 3.81e-5, 4.58e-5, 5.34e-5]}
    for n, vals in expected.items():
        cfg = MulConfig.preset("E5M2", n)
        # the decoded input (golden's unpack with the configuration's sub_in policy)
        raw = golden.unpack(subs, cfg.fmt, cfg.sub_in)
        dec = [int(s) * 2.0 ** int(e) for s, e in zip(raw.sig, raw.exp)]
        assert dec == vals, (n, dec)
        if n in rounded:
            np.testing.assert_allclose(dec, rounded[n], rtol=5e-3)  # the slide's 3-digit numbers
        if n == 2:
            continue  # CFG-2 rounds into E5M2 with flush: the products below 2^-14 vanish
        p = golden.fp_mul(subs, np.full(4, one), cfg)
        got = golden.to_float(p, cfg.out_format)
        assert got.tolist() == vals, (n, got)
        # negative subnormals give negative values (-0 under CFG-6: the sign of a product is kept)
        pn = golden.fp_mul(subs | 0x80, np.full(4, one), cfg)
        gn = golden.to_float(pn, cfg.out_format)
        assert gn.tolist() == [-v for v in vals] and np.signbit(gn).all()
    # CFG-2 (rne into E5M2, flush): the subnormal products by 1.0 are below 2^-14: flushed
    cfg2 = MulConfig.preset("E5M2", 2)
    assert golden.fp_mul(subs, np.full(4, one), cfg2).tolist() == [0, 0, 0, 0]
    # CFG-1 keeps them exactly (gradual underflow)
    assert golden.fp_mul(subs, np.full(4, one), MulConfig.preset("E5M2", 1)).tolist() == [
        0,
        1,
        2,
        3,
    ]


# ----------------------------------------------------------------------------- properties
ALL_8BIT_CFGS = [MulConfig.preset(name, n) for name in ("E5M2", "E4M3") for n in range(1, 7)] + [
    MulConfig(parse_format(name).with_specials(k[0]), *k[1:])
    for name in ("E5M2", "E4M3")
    for k in FREE_KNOBS
]


@pytest.mark.parametrize("cfg", ALL_8BIT_CFGS, ids=str)
def test_commutative_and_sign_symmetric_8bit(cfg):
    fi, fo = ref_formats(cfg)
    a, b = all_pairs(8)
    p = golden.fp_mul(a, b, cfg)
    np.testing.assert_array_equal(p, golden.fp_mul(b, a, cfg))
    sa, so = np.uint64(0x80), np.uint64(1 << (fo.width - 1))
    nan = nan_mask(p, fo)
    for neg in (golden.fp_mul(a ^ sa, b, cfg), golden.fp_mul(a, b ^ sa, cfg)):
        np.testing.assert_array_equal(np.where(nan, p, neg ^ so), p)
        assert (nan_mask(neg, fo) == nan).all()
    np.testing.assert_array_equal(golden.fp_mul(a ^ sa, b ^ sa, cfg), p)


@pytest.mark.parametrize("name", ["fp16", "bf16", "fp32", "E6M3", "E5M3"])
@pytest.mark.parametrize("n", [1, 2, 3, 4, 5, 6])
def test_commutative_and_sign_symmetric_sampled(name, n):
    rng = np.random.default_rng(SEED + 99)
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    a = np.concatenate([random_patterns(rng, fi, 20_000), random_patterns(rng, fi, 20_000, 4)])
    b = np.concatenate([random_patterns(rng, fi, 20_000), random_patterns(rng, fi, 20_000, 4)])
    p = golden.fp_mul(a, b, cfg)
    np.testing.assert_array_equal(p, golden.fp_mul(b, a, cfg))
    nan = nan_mask(p, fo)
    neg = golden.fp_mul(a ^ np.uint64(1 << (fi.width - 1)), b, cfg)
    np.testing.assert_array_equal(np.where(nan, p, neg ^ np.uint64(1 << (fo.width - 1))), p)


@pytest.mark.parametrize(
    "name",
    [
        "E5M2",
        "E4M3",
        "E2M1",
        "E3M2",
        pytest.param("E5M3", marks=pytest.mark.slow),
        pytest.param("E6M3", marks=pytest.mark.slow),
        pytest.param("E3M4", marks=pytest.mark.slow),
    ],
)
@pytest.mark.parametrize("n", [3, 4, 5, 6])
def test_wide_products_exact_when_finite_and_not_flushed(name, n):
    """CFG-3..6: the output equals the exact product whenever it is finite and nonzero (a
    zero output is allowed only for an exact zero or a flushed subnormal x subnormal
    product below 2^emin of the wide format; inf only for inf_only top-binade overflow).
    Under CFG-5 every finite product is an exact *normal* number. Non-negative operands
    (the sign rule is checked by test_commutative_and_sign_symmetric_8bit)."""
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    half = 1 << (fi.width - 1)
    a, b = (x.astype(np.uint64) for x in np.divmod(np.arange(half * half), half))
    p = golden.fp_mul(a, b, cfg)
    vals = [decode(x, fi, cfg.sub_in) for x in range(half)]
    outs = {}
    for ai, bi, pi in zip(a.tolist(), b.tolist(), p.tolist()):
        exact = ref_mul(vals[ai], vals[bi], fo.has_nan)
        if pi not in outs:
            outs[pi] = decode(pi, fo)
        got = outs[pi]
        if exact.kind != "fin":
            assert got.kind == exact.kind or (
                exact.kind == "nan" and not fo.has_nan and got.kind == "inf"
            )
            continue
        if got.kind == "inf":
            # overflow: SPEC §2, only inf_only inputs from the top binade can exceed max finite
            assert (
                fo.specials == "inf_only" and exact.mag > max_finite(fo) and got.sign == exact.sign
            )
            continue
        if got.kind == "fin" and got.mag == 0 and exact.mag != 0:
            assert n != 5, (
                hex(ai),
                hex(bi),
                "CFG-5: every finite product is an exact normal number",
            )
            assert exact.mag < pow2(fo.emin), (hex(ai), hex(bi), "only sub-emin products may flush")
            continue
        assert got == exact, (hex(ai), hex(bi), hex(pi), exact, got)
        if n == 5 and exact.mag != 0:
            assert (pi >> fo.m) & ((1 << fo.e) - 1) != 0, (
                hex(ai),
                hex(bi),
                "CFG-5 product must be normal",
            )


# ----------------------------------------------------------------------------- fixed point
@pytest.mark.parametrize(
    "spec, rounding",
    [
        ("Q8.13", "rne"),
        ("Q8.13", "rz"),
        ("Q4.4", "rne"),
        ("Q4.4", "rz"),
        ("Q16.16", "rne"),
        ("Q2.6", "rne"),
        ("Q1.7", "rne"),
        ("Q8.0", "rne"),
    ],
)
def test_fixed_mul_vs_python_ints(spec, rounding):
    fmt = parse_format(spec)
    w = fmt.width
    rng = np.random.default_rng(SEED + w)
    lo, hi = -(1 << (w - 1)), (1 << (w - 1)) - 1
    if w <= 8:
        raw_a, raw_b = (x.astype(np.int64) - (1 << (w - 1)) for x in all_pairs(w))
    else:
        edge = np.array(
            [
                lo,
                lo + 1,
                -1,
                0,
                1,
                hi,
                hi - 1,
                1 << fmt.f,
                -(1 << fmt.f),
                (1 << fmt.f) + 1,
                3,
                -3,
                1 << (fmt.f - 1) if fmt.f else 1,
                -(1 << (fmt.f - 1)) if fmt.f else -1,
            ],
            dtype=np.int64,
        )
        ea, eb = (x.astype(np.int64) for x in np.meshgrid(edge, edge))
        small = rng.integers(-(1 << (fmt.f + 2)), 1 << (fmt.f + 2), (2, 30_000))
        raw_a = np.concatenate([ea.ravel(), rng.integers(lo, hi + 1, 30_000), small[0]])
        raw_b = np.concatenate([eb.ravel(), rng.integers(lo, hi + 1, 30_000), small[1]])
    mask = (1 << w) - 1
    a_bits = (raw_a & mask).astype(np.uint64)
    b_bits = (raw_b & mask).astype(np.uint64)
    got = golden.fixed_mul(a_bits, b_bits, fmt, rounding)
    exp = []
    for x, y in zip(raw_a.tolist(), raw_b.tolist()):
        prod = x * y  # value prod * 2^-2f, exact
        mag, rem = divmod(abs(prod), 1 << fmt.f)
        if rounding == "rne" and fmt.f:
            half = 1 << (fmt.f - 1)
            if rem > half or (rem == half and mag % 2 == 1):
                mag += 1
        r = -mag if prod < 0 else mag
        exp.append(max(lo, min(hi, r)) & mask)
    exp = np.array(exp, dtype=np.uint64)
    bad = np.flatnonzero(got != exp)
    assert bad.size == 0, [
        (int(raw_a[i]), int(raw_b[i]), int(exp[i]), int(got[i])) for i in bad[:8]
    ]


def test_fixed_mul_literals():
    q = parse_format("Q8.13")
    enc = lambda v: int(round(v * 2**13)) & ((1 << 21) - 1)
    cases = [
        (1.5, 2.0, 3.0),
        (-1.5, 2.0, -3.0),
        (100.0, 100.0, 128 - 2**-13),
        (-100.0, 100.0, -128.0),
        (-128.0, -128.0, 128 - 2**-13),
        (2**-13, 0.5, 0.0),  # 2^-14: tie -> 0 (even)
        (3 * 2**-13, 0.5, 2 * 2**-13),  # 1.5 ulp: tie -> 2 (even)
        (-(3 * 2**-13), 0.5, -(2 * 2**-13)),
    ]
    for x, y, z in cases:
        assert int(golden.fixed_mul(np.array([enc(x)]), np.array([enc(y)]), q)[0]) == enc(z), (
            x,
            y,
            z,
        )
    # rz: 1.5 ulp -> 1 ulp, -1.5 ulp -> -1 ulp (toward zero)
    assert int(golden.fixed_mul(np.array([enc(3 * 2**-13)]), np.array([enc(0.5)]), q, "rz")[0]) == 1
    assert int(
        golden.fixed_mul(np.array([enc(-3 * 2**-13)]), np.array([enc(0.5)]), q, "rz")[0]
    ) == enc(-(2**-13))


# ----------------------------------------------------------------------------- array handling
@pytest.mark.parametrize("name", ["E5M2", "E4M3", "fp16", "E5M3"])
@pytest.mark.parametrize("n", [1, 5])
def test_fp_mul_broadcasts_like_numpy(name, n):
    """Vectorised API: operands broadcast (column x row, length-1 arrays, scalars), for the
    8-bit table path as for the computed one."""
    cfg = MulConfig.preset(name, n)
    fi, fo = ref_formats(cfg)
    rng = np.random.default_rng(SEED + 5)
    col = random_patterns(rng, fi, 7)[:, None]
    row = random_patterns(rng, fi, 9)[None, :]
    got = golden.fp_mul(col, row, cfg)
    assert got.shape == (7, 9)
    a, b = np.broadcast_arrays(col, row)
    exp = mul_bits(a, b, fi, cfg.sub_in, fo, cfg.sub_out).reshape(7, 9)
    assert_bits(got, exp, fo, a, b, in_fmts=[fi, fi], what=f"{name} CFG-{n} broadcast")
    one = row[:, :1].ravel()  # shape (1,)
    np.testing.assert_array_equal(
        golden.fp_mul(one, row.ravel(), cfg),
        exp_row := mul_bits(
            np.broadcast_to(one, (9,)), row.ravel(), fi, cfg.sub_in, fo, cfg.sub_out
        ),
    )
    np.testing.assert_array_equal(golden.fp_mul(int(one[0]), row.ravel(), cfg), exp_row)
    np.testing.assert_array_equal(
        golden.fp_mul(row.ravel(), one, cfg),
        mul_bits(row.ravel(), np.broadcast_to(one, (9,)), fi, cfg.sub_in, fo, cfg.sub_out),
    )
