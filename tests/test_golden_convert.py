"""Golden converters (SPEC §4) and the float64 views against independent references:

* float -> float: ml_dtypes / NumPy casts (rne) exhaustively for fp16 sources, sampled for
  fp32; the Fraction model for rna / rz / sr, sub_out flush, saturate, inf_only and finite
  targets, subnormal input policies;
* float -> fixed (E6M5 -> Q8.13 exhaustively, rne / rz, inf, NaN -> 0 + invalid) and
  fixed -> float against Fractions / Python integers;
* to_float / from_float against exact Fraction decoding and encoding;
* round trips narrow -> wide -> narrow where exact.
"""

from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from fraction_ref import (
    NAN,
    RF,
    assert_bits,
    corner_values,
    decode,
    decode_c,
    encode,
    encode_c,
    fin,
    fixed_round,
    inf,
    nan_mask,
    pow2,
    random_patterns,
    ref_fmt,
    value_of,
)

from lpmac import FloatFormat, golden, parse_format

SEED = 4321


def fmt(spec: str) -> FloatFormat:
    return parse_format(spec, derived=True)


def ref_convert(
    bits, src: RF, dst: RF, mode="rne", sub_out="ieee", saturate=False, sub_in="ieee", u=None, r=0
):
    bits = np.asarray(bits, dtype=np.uint64).ravel()
    us = [None] * bits.size if u is None else np.asarray(u).ravel().tolist()
    out = [
        encode_c(decode_c(b, src, sub_in), dst, mode, sub_out, saturate=saturate, u=un, r=r)
        for b, un in zip(bits.tolist(), us)
    ]
    return np.array(out, dtype=np.uint64)


def all_bits(width):
    return np.arange(1 << width, dtype=np.uint64)


# -------------------------------------------------------------- float -> float vs ml_dtypes / NumPy
@pytest.mark.parametrize(
    "dst_name, dtype",
    [
        ("E4M3", ml_dtypes.float8_e4m3),
        ("E5M2", ml_dtypes.float8_e5m2),
        ("bf16", ml_dtypes.bfloat16),
    ],
)
def test_fp16_to_narrow_exhaustive_vs_ml_dtypes(dst_name, dtype):
    """Every fp16 value (65,536) cast with ml_dtypes (rne)."""
    src, dst = fmt("fp16"), fmt(dst_name)
    b = all_bits(16)
    with np.errstate(all="ignore"):
        exp = b.astype(np.uint16).view(np.float16).astype(dtype)
    exp = exp.view(np.uint8 if dst.width == 8 else np.uint16).astype(np.uint64)
    got = golden.convert(b, src, dst)
    assert_bits(got, exp, ref_fmt(dst), b, in_fmts=[ref_fmt(src)], what=f"fp16 -> {dst_name}")


def fp32_conversion_inputs(rng, target: RF, n=60_000):
    """fp32 patterns: uniform, clustered around the target's range (1.0 +- its exponent span),
    and around its boundaries (max finite, overflow threshold, min subnormal and half of it)."""
    F32 = RF.make(8, 23)
    span = (1 << (target.e - 1)) + target.m + 3
    parts = [
        random_patterns(rng, F32, n),
        random_patterns(rng, F32, n, centre_spread=span),
        random_patterns(rng, F32, n // 2, centre_spread=span, low_zero_bits=23 - target.m - 2),
    ]
    mf = float(max_finite_ref(target))
    edges = [
        mf,
        mf * (1 + 2.0 ** -(target.m + 1)),
        float(pow2(target.emin)),
        float(pow2(target.emin - target.m)),
        float(pow2(target.emin - target.m - 1)),
        1.0,
        0.0,
        float("inf"),
        float("nan"),
    ]
    e = np.array(edges, dtype=np.float32)
    around = np.concatenate([e.view(np.uint32).astype(np.int64) + d for d in range(-3, 4)])
    around = np.concatenate([around, around | (1 << 31)]) & 0xFFFFFFFF
    return np.concatenate(parts + [around.astype(np.uint64)])


def max_finite_ref(F: RF):
    from fraction_ref import max_finite

    return max_finite(F)


@pytest.mark.parametrize(
    "dst_name, dtype",
    [
        ("E5M2", ml_dtypes.float8_e5m2),
        ("E4M3", ml_dtypes.float8_e4m3),
        ("bf16", ml_dtypes.bfloat16),
        ("fp16", np.float16),
    ],
)
def test_fp32_to_narrow_vs_ml_dtypes(dst_name, dtype):
    rng = np.random.default_rng(SEED + len(dst_name))
    dst = fmt(dst_name)
    b = fp32_conversion_inputs(rng, ref_fmt(dst))
    with np.errstate(all="ignore"):
        exp = b.astype(np.uint32).view(np.float32).astype(dtype)
    exp = exp.view(np.uint8 if dst.width == 8 else np.uint16).astype(np.uint64)
    got = golden.convert(b, fmt("fp32"), dst)
    assert_bits(got, exp, ref_fmt(dst), b, in_fmts=[RF.make(8, 23)], what=f"fp32 -> {dst_name}")


def test_conversion_literals():
    fp32, e5m2, e4m3 = fmt("fp32"), fmt("E5M2"), fmt("E4M3")
    f = lambda *v: np.array(v, dtype=np.float32).view(np.uint32).astype(np.uint64)
    # 57344 is E5M2's max; 61440 is the tie between it and 65536 (even: overflow -> inf)
    assert golden.convert(f(57344, 61439, 61440, -61440), fp32, e5m2).tolist() == [
        0x7B,
        0x7B,
        0x7C,
        0xFC,
    ]
    assert golden.convert(f(61440, 1e9, np.inf), fp32, e5m2, saturate=True).tolist() == [
        0x7B,
        0x7B,
        0x7B,
    ]
    assert golden.convert(f(61440, 1e9, np.inf), fp32, e5m2, "rz").tolist() == [0x7B, 0x7B, 0x7C]
    # min subnormal 2^-16; 2^-17 is a tie with 0 (even -> 0), 1.5*2^-17 -> 2^-16
    assert golden.convert(
        f(2.0**-16, 2.0**-17, 1.5 * 2.0**-17, -(2.0**-17)), fp32, e5m2
    ).tolist() == [0x01, 0x00, 0x01, 0x80]
    assert golden.convert(f(2.0**-16, 2.0**-14), fp32, e5m2, sub_out="flush").tolist() == [
        0x00,
        0x04,
    ]
    # E4M3 (IEEE-like): max 240, 248 -> tie between 240 and 256 (even 256 -> inf)
    assert golden.convert(f(240, 247, 248), fp32, e4m3).tolist() == [0x77, 0x77, 0x78]
    nan = golden.convert(f(np.nan), fp32, e5m2)
    assert nan_mask(nan, RF.make(5, 2)).all()
    # targets without NaN: NaN -> +inf (inf_only) or +max (finite)
    assert golden.convert(f(np.nan), fp32, fmt("E5M2-inf")).tolist() == [0x7F]
    assert golden.convert(f(np.nan), fp32, fmt("E4M3-fin")).tolist() == [0x7F]
    # inf_only top binade: 65536, 81920, 98304 are finite; 106496 is the tie between 98304
    # (frac 10, even) and 114688 (frac 11 = the inf encoding): rne keeps 98304, above it -> inf
    assert golden.convert(
        f(65536, 81920, 98304, 106495, 106496, 106497), fp32, fmt("E5M2-inf")
    ).tolist() == [0x7C, 0x7D, 0x7E, 0x7E, 0x7E, 0x7F]
    assert golden.convert(f(106497, 1e30), fp32, fmt("E5M2-inf"), "rz").tolist() == [0x7E, 0x7E]


# ----------------------------------------------------------------------- float -> float vs Fraction
CONV_CASES = [
    # (src, dst, mode, sub_out, saturate, sub_in)
    ("fp16", "E5M2", "rna", "ieee", False, "ieee"),
    ("fp16", "E5M2", "rz", "ieee", False, "ieee"),
    ("fp16", "E4M3", "rne", "flush", False, "ieee"),
    ("fp16", "E4M3", "rne", "ieee", True, "ieee"),
    ("fp16", "E4M3-inf", "rne", "ieee", False, "ieee"),
    ("fp16", "E4M3-fin", "rne", "ieee", False, "ieee"),
    ("fp16", "E4M3-fin", "rz", "flush", False, "ieee"),
    ("fp16", "E5M2-inf", "rna", "flush", True, "ieee"),
    ("fp16", "E3M4", "rne", "ieee", False, "as_normal"),
    ("fp16", "E5M2", "rne", "ieee", False, "flush"),
    ("E6M5-inf", "E5M2", "rne", "ieee", False, "ieee"),
    ("E7M7", "fp16", "rz", "flush", False, "ieee"),
    ("E9M47", "fp32", "rne", "ieee", False, "ieee"),
    ("fp32", "E4M3", "rna", "ieee", True, "ieee"),
    ("fp32", "E2M1", "rne", "ieee", False, "ieee"),
    ("E5M2", "fp16", "rne", "ieee", False, "as_normal"),
]


@pytest.mark.parametrize("src_name, dst_name, mode, sub_out, saturate, sub_in", CONV_CASES)
def test_convert_vs_fraction(src_name, dst_name, mode, sub_out, saturate, sub_in):
    rng = np.random.default_rng(SEED + len(src_name) * 7 + len(dst_name))
    src, dst = ref_fmt(fmt(src_name)), ref_fmt(fmt(dst_name))
    if src.width <= 12:
        b = all_bits(src.width)
    else:
        span = (1 << (dst.e - 1)) + dst.m + 3
        b = np.concatenate(
            [
                random_patterns(rng, src, 4000),
                random_patterns(rng, src, 6000, centre_spread=span),
                corner_values(
                    src,
                    [
                        0,
                        1,
                        2,
                        (1 << src.e) - 2,
                        (1 << src.e) - 1,
                        src.bias + dst.emin - dst.m - 1,
                        src.bias + dst.emin,
                        src.bias + dst.emax,
                        src.bias + dst.emax + 1,
                    ],
                    [0, 1, (1 << src.m) - 1, 1 << (src.m - 1), (1 << (src.m - 1)) + 1],
                ),
            ]
        )
    exp = ref_convert(b, src, dst, mode, sub_out, saturate, sub_in)
    got = golden.convert(
        b, fmt(src_name), fmt(dst_name), mode, sub_out, saturate=saturate, sub_in=sub_in
    )
    assert_bits(
        got,
        exp,
        dst,
        b,
        in_fmts=[src],
        what=f"{src_name} -> {dst_name} {mode} {sub_out} sat={saturate}",
    )


@pytest.mark.parametrize("r", [1, 4, 8, 16])
def test_convert_sr_vs_fraction(r):
    rng = np.random.default_rng(SEED + r)
    src, dst = ref_fmt(fmt("fp16")), ref_fmt(fmt("E5M2"))
    b = np.concatenate(
        [random_patterns(rng, src, 6000, centre_spread=18), random_patterns(rng, src, 2000)]
    )
    u = rng.integers(0, 1 << r, b.size).astype(np.uint64)
    exp = ref_convert(b, src, dst, "sr", "ieee", u=u, r=r)
    got = golden.convert(b, fmt("fp16"), fmt("E5M2"), "sr", u=u, r=r)
    assert_bits(
        got, exp, dst, b, u, names=("x", "u"), in_fmts=[src, None], what=f"fp16 -> E5M2 sr r={r}"
    )


@pytest.mark.slow
@pytest.mark.parametrize("mode", ["rne", "rna", "rz"])
@pytest.mark.parametrize("sub_out", ["ieee", "flush"])
@pytest.mark.parametrize("dst_name", ["E4M3", "E5M2", "E4M3-inf", "E5M2-fin", "E3M4"])
def test_fp16_convert_exhaustive_slow(dst_name, mode, sub_out):
    src, dst = ref_fmt(fmt("fp16")), ref_fmt(fmt(dst_name))
    b = all_bits(16)
    assert_bits(
        golden.convert(b, fmt("fp16"), fmt(dst_name), mode, sub_out),
        ref_convert(b, src, dst, mode, sub_out),
        dst,
        b,
        in_fmts=[src],
    )


def test_convert_sign_symmetry():
    rng = np.random.default_rng(SEED)
    src = RF.make(8, 23)
    b = random_patterns(rng, src, 50_000, centre_spread=30)
    for dst_name in ("E5M2", "E4M3-inf", "E4M3-fin", "fp16"):
        dst = fmt(dst_name)
        for mode in ("rne", "rz", "rna"):
            p = golden.convert(b, fmt("fp32"), dst, mode)
            n = golden.convert(b ^ np.uint64(1 << 31), fmt("fp32"), dst, mode)
            nan = nan_mask(p, ref_fmt(dst))
            np.testing.assert_array_equal(np.where(nan, p, n ^ np.uint64(1 << (dst.width - 1))), p)


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize(
    "narrow, wide",
    [
        ("E5M2", "fp16"),
        ("E4M3", "fp16"),
        ("E4M3", "bf16"),
        ("fp16", "fp32"),
        ("bf16", "fp32"),
        ("E5M2-inf", "E6M5-inf"),
        ("E4M3-fin", "E5M3-fin"),
        ("E5M2", "E6M5"),
        ("E3M4", "fp16"),
        ("E2M1", "E4M3"),
    ],
)
def test_round_trip_narrow_wide_narrow(narrow, wide):
    """Every value of the narrow format is exact in the wide one: narrow -> wide is exact
    (checked against the Fraction decoding) and wide -> narrow gives back the same bits
    (NaN stays NaN)."""
    n, w = fmt(narrow), fmt(wide)
    N, W = ref_fmt(n), ref_fmt(w)
    b = all_bits(n.width)
    up = golden.convert(b, n, w)
    if (narrow, wide) in (("fp16", "fp32"), ("bf16", "fp32")):
        # NumPy / ml_dtypes widen exactly
        src_t = np.float16 if narrow == "fp16" else ml_dtypes.bfloat16
        with np.errstate(all="ignore"):
            ref = (
                b.astype(np.uint16).view(src_t).astype(np.float32).view(np.uint32).astype(np.uint64)
            )
        assert_bits(up, ref, W, b, in_fmts=[N], what=f"{narrow} -> {wide}")
    else:
        for x, y in zip(b.tolist(), up.tolist()):
            vx, vy = decode(x, N), decode(y, W)
            assert vx == vy or (vx.kind == "nan" and vy.kind == "nan"), (
                narrow,
                wide,
                hex(x),
                hex(y),
                vx,
                vy,
            )
    for mode in ("rne", "rz", "rna"):
        back = golden.convert(up, w, n, mode)
        nan = nan_mask(b, N)
        np.testing.assert_array_equal(back[~nan], b[~nan])
        assert nan_mask(back[nan], N).all()
    # and the float64 view is exact too
    vals = golden.to_float(b, n)
    np.testing.assert_array_equal(golden.from_float(vals, n)[~nan_mask(b, N)], b[~nan_mask(b, N)])


# ---------------------------------------------------------------------------- to_float / from_float
@pytest.mark.parametrize(
    "name", ["E5M2", "E4M3", "E5M2-inf", "E4M3-fin", "E2M1", "E6M5-inf", "E7M7", "fp16", "bf16"]
)
def test_to_float_exhaustive(name):
    f = fmt(name)
    F = ref_fmt(f)
    b = all_bits(f.width)
    got = golden.to_float(b, f)
    for x, y in zip(b.tolist(), got.tolist()):
        v = decode(x, F)
        if v.kind == "nan":
            assert y != y, (name, hex(x), y)
        elif v.kind == "inf":
            assert y == (-np.inf if v.sign else np.inf), (name, hex(x), y)
        else:
            assert Fraction(y) == v.value() and (np.signbit(y) == bool(v.sign)), (
                name,
                hex(x),
                y,
                v,
            )


@pytest.mark.parametrize("name", ["fp32", "E9M47", "E8M23-inf"])
def test_to_float_sampled_wide(name):
    rng = np.random.default_rng(SEED + 5)
    f = fmt(name)
    F = ref_fmt(f)
    b = np.concatenate(
        [
            random_patterns(rng, F, 20_000),
            corner_values(F, [0, 1, (1 << F.e) - 2, (1 << F.e) - 1], [0, 1, (1 << F.m) - 1]),
        ]
    )
    got = golden.to_float(b, f)
    for x, y in zip(b.tolist(), got.tolist()):
        v = decode(x, F)
        if v.kind == "nan":
            assert y != y
        elif v.kind == "inf":
            assert y == (-np.inf if v.sign else np.inf)
        else:
            assert Fraction(y) == v.value() and np.signbit(y) == bool(v.sign), (name, hex(x), y, v)
    if name == "fp32":
        with np.errstate(all="ignore"):
            ref = b.astype(np.uint32).view(np.float32).astype(np.float64)
        np.testing.assert_array_equal(got[~np.isnan(got)], ref[~np.isnan(got)])


def float64_samples(rng, n):
    F64 = RF.make(11, 52)
    vals = np.concatenate(
        [
            random_patterns(rng, F64, n, centre_spread=40).view(np.float64),
            random_patterns(rng, F64, n // 4).view(np.float64),
            np.array(
                [
                    0.0,
                    -0.0,
                    np.inf,
                    -np.inf,
                    np.nan,
                    1.0,
                    5e-324,
                    2.0**-1022,
                    1.7976931348623157e308,
                    65504.0,
                    65520.0,
                    65519.99,
                    2.0**-24,
                    2.0**-25,
                    3 * 2.0**-26,
                    57344.0,
                    61440.0,
                    240.0,
                    248.0,
                ]
            ),
        ]
    )
    return vals


@pytest.mark.parametrize(
    "name, mode, sub_out, saturate",
    [
        ("fp16", "rne", "ieee", False),
        ("fp16", "rz", "flush", False),
        ("E5M2", "rna", "ieee", True),
        ("E4M3-inf", "rne", "ieee", False),
        ("E4M3-fin", "rz", "ieee", False),
        ("bf16", "rne", "flush", False),
        ("E6M5-inf", "rne", "flush", False),
        ("fp32", "rne", "ieee", False),
    ],
)
def test_from_float_vs_fraction(name, mode, sub_out, saturate):
    rng = np.random.default_rng(SEED + len(name))
    f = fmt(name)
    F = ref_fmt(f)
    vals = float64_samples(rng, 8000)
    got = golden.from_float(vals, f, mode, sub_out, saturate=saturate)
    exp = []
    for v in vals.tolist():
        if v != v:
            val = NAN
        elif v in (np.inf, -np.inf):
            val = inf(v < 0)
        else:
            val = fin(int(np.signbit(v)), abs(Fraction(v)))
        exp.append(encode(val, F, mode, sub_out, saturate=saturate))
    assert_bits(
        got,
        np.array(exp, np.uint64),
        F,
        vals.view(np.uint64),
        in_fmts=[RF.make(11, 52)],
        what=f"from_float {name} {mode} {sub_out} sat={saturate}",
    )
    if name == "fp32" and mode == "rne":
        with np.errstate(all="ignore"):
            ref = vals.astype(np.float32).view(np.uint32).astype(np.uint64)
        assert_bits(
            got, ref, F, vals.view(np.uint64), in_fmts=[RF.make(11, 52)], what="from_float vs NumPy"
        )


def test_from_float_to_float_fixed():
    q = parse_format("Q8.13")
    vals = np.array(
        [
            0.0,
            1.0,
            -1.0,
            2.0**-13,
            -(2.0**-13),
            127.9998779296875,
            -128.0,
            200.0,
            -200.0,
            2.0**-14,
            3 * 2.0**-14,
            -(3 * 2.0**-14),
            np.inf,
            -np.inf,
        ]
    )
    bits = golden.from_float(vals, q)
    exp = [fixed_round(Fraction(v), 13, 8) for v in vals[:-2]] + [(1 << 20) - 1, -(1 << 20)]
    assert [b - (1 << 21) if b >= 1 << 20 else b for b in bits.tolist()] == exp
    np.testing.assert_array_equal(golden.to_float(bits, q), [e * 2.0**-13 for e in exp])


# ----------------------------------------------------------------------------- float -> fixed
TO_FIXED = [
    (s, d) for s in ("E6M5", "E6M5-inf", "E5M2") for d in ("Q8.13", "Q16.16", "Q4.4", "Q8.8")
] + [("E7M7", "Q8.13"), ("E7M7-inf", "Q16.16")]


@pytest.mark.parametrize("src_name, dst_name", TO_FIXED)
@pytest.mark.parametrize("mode", ["rne", "rz"])
def test_to_fixed_exhaustive(src_name, dst_name, mode):
    """Every source value: exact value rounded to f fraction bits (rne / rz toward zero),
    saturated; +-inf -> max / min; NaN -> 0 with the invalid flag."""
    src = fmt(src_name)
    S = ref_fmt(src)
    q = parse_format(dst_name)
    b = all_bits(src.width)
    got, invalid = golden.to_fixed(b, src, q, mode)
    mask = (1 << q.width) - 1
    exp, exp_invalid = [], []
    for x in b.tolist():
        v = decode(x, S)
        if v.kind == "nan":
            exp.append(0)
            exp_invalid.append(True)
            continue
        exp_invalid.append(False)
        if v.kind == "inf":
            exp.append((-(1 << (q.width - 1)) if v.sign else (1 << (q.width - 1)) - 1) & mask)
        else:
            exp.append(fixed_round(v.value(), q.f, q.i, mode) & mask)
    bad = np.flatnonzero(got != np.array(exp, np.uint64))
    assert bad.size == 0, [
        (describe_bits(int(b[i]), S), hex(exp[i]), hex(int(got[i]))) for i in bad[:8]
    ]
    assert invalid.tolist() == exp_invalid


def describe_bits(x, F):
    from fraction_ref import describe

    return describe(x, F)


def test_to_fixed_e6m5_literals():
    """Hand-checked E6M5 -> Q8.13 values (E6M5: bias 31, 6 significant bits)."""
    src, q = fmt("E6M5"), parse_format("Q8.13")
    enc = lambda sign, field, frac: sign << 11 | field << 5 | frac
    cases = [
        (enc(0, 31, 0), "rne", 1 << 13),  # 1.0
        (enc(1, 31, 0), "rne", -(1 << 13)),  # -1.0
        (
            enc(0, 31 + 7, 31),
            "rne",
            (1 << 20) - 1,
        ),  # 1.96875 * 128 = 252 -> saturates at 128 - 2^-13
        (enc(1, 31 + 7, 0), "rne", -(1 << 20)),  # -128 exactly representable
        (enc(1, 31 + 8, 0), "rne", -(1 << 20)),  # -256 saturates
        (enc(0, 31 - 14, 0), "rne", 0),  # 2^-14: tie between 0 and 2^-13 -> 0 (even)
        (enc(0, 31 - 14, 16), "rne", 2),  # 1.5 * 2^-14 = 0.75 ulp -> 1 ulp... see below
        (enc(0, 31 - 13, 16), "rne", 2),  # 1.5 * 2^-13: tie -> 2 (even)
        (enc(0, 31 - 13, 16), "rz", 1),
        (enc(1, 31 - 13, 16), "rz", -1),  # toward zero
        (enc(1, 31 - 13, 16), "rne", -2),
        (enc(0, 63, 0), "rne", (1 << 20) - 1),  # +inf -> max
        (enc(1, 63, 0), "rz", -(1 << 20)),  # -inf -> min
    ]
    cases[6] = (enc(0, 31 - 14, 16), "rne", 1)  # 0.75 ulp rounds to 1 ulp
    for bits, mode, raw in cases:
        got, inv = golden.to_fixed(np.array([bits], np.uint64), src, q, mode)
        assert int(got[0]) == raw & ((1 << 21) - 1), (hex(bits), mode, raw, int(got[0]))
        assert not inv[0]
    got, inv = golden.to_fixed(np.array([enc(0, 63, 1), enc(1, 63, 7)], np.uint64), src, q)
    assert got.tolist() == [0, 0] and inv.tolist() == [True, True]


def test_to_fixed_fp32_sampled():
    rng = np.random.default_rng(SEED + 9)
    src = RF.make(8, 23)
    q = parse_format("Q8.13")
    b = np.concatenate(
        [random_patterns(rng, src, 20_000, centre_spread=20), random_patterns(rng, src, 5000)]
    )
    for mode in ("rne", "rz"):
        got, invalid = golden.to_fixed(b, fmt("fp32"), q, mode)
        for x, g, inv in zip(b.tolist(), got.tolist(), invalid.tolist()):
            v = decode(x, src)
            if v.kind == "nan":
                assert g == 0 and inv
            elif v.kind == "inf":
                assert g == ((1 << 20) if v.sign else (1 << 20) - 1) and not inv
            else:
                assert g == fixed_round(v.value(), 13, 8, mode) & ((1 << 21) - 1) and not inv, (
                    hex(x),
                    mode,
                    g,
                )


# ----------------------------------------------------------------------------- fixed -> float
@pytest.mark.parametrize(
    "src_name, dst_name, mode, sub_out",
    [
        ("Q4.4", "E5M2", "rne", "ieee"),
        ("Q4.4", "E4M3", "rz", "ieee"),
        ("Q4.4", "E2M1", "rne", "ieee"),
        ("Q4.4", "E3M2", "rne", "flush"),
        ("Q4.4", "E2M1-fin", "rna", "ieee"),
        ("Q1.7", "E4M3", "rne", "flush"),
        ("Q8.13", "E6M5", "rne", "ieee"),
        ("Q8.13", "E5M2", "rne", "ieee"),
        ("Q8.13", "fp16", "rz", "ieee"),
        ("Q8.13", "E4M3", "rna", "flush"),
        ("Q16.16", "bf16", "rne", "ieee"),
        ("Q16.16", "fp32", "rne", "ieee"),
        ("Q16.16", "E5M2-inf", "rne", "ieee"),
    ],
)
def test_from_fixed_vs_fraction(src_name, dst_name, mode, sub_out):
    rng = np.random.default_rng(SEED + len(src_name + dst_name))
    q = parse_format(src_name)
    dst = fmt(dst_name)
    D = ref_fmt(dst)
    w = q.width
    if w <= 12:
        raw = np.arange(-(1 << (w - 1)), 1 << (w - 1))
    else:
        raw = np.concatenate(
            [
                rng.integers(-(1 << (w - 1)), 1 << (w - 1), 8000),
                rng.integers(-(1 << 12), 1 << 12, 4000),
                [-(1 << (w - 1)), (1 << (w - 1)) - 1, 0, 1, -1],
            ]
        )
    bits = (raw & ((1 << w) - 1)).astype(np.uint64)
    got = golden.from_fixed(bits, q, dst, mode, sub_out)
    exp = np.array(
        [encode(value_of(Fraction(int(k), 1 << q.f)), D, mode, sub_out) for k in raw.tolist()],
        np.uint64,
    )
    assert_bits(got, exp, D, raw, names=("raw",), what=f"{src_name} -> {dst_name} {mode} {sub_out}")
    assert int(golden.from_fixed(np.array([0], np.uint64), q, dst, mode, sub_out)[0]) == 0  # +0


def test_fixed_float_fixed_round_trip():
    """Q4.4 -> fp16 is exact (8 significant bits), and back gives the same bits."""
    q, h = parse_format("Q4.4"), fmt("fp16")
    b = all_bits(8)
    f = golden.from_fixed(b, q, h)
    back, inv = golden.to_fixed(f, h, q)
    np.testing.assert_array_equal(back, b)
    assert not inv.any()
    np.testing.assert_array_equal(golden.to_float(f, h), golden.to_float(b, q))
