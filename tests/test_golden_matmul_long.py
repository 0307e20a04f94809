"""The MAC-array emulator `golden.matmul` with long accumulators (`E6M5:long`) against golden
`mac` (golden/accum_long.py), bit for bit, and against an exact Fraction sum on a few PEs.

`check` (tests/test_golden_matmul.py) runs golden.matmul, the kernels on every numba
thread and the computed kernels alone (no product tables), and compares each with golden
`mac` per PE. The configurations cover both registers of golden/_matmul_long.py: one int64
(<= 63 bits: E4M3:cfg1, E5M2:cfg1, fp16:cfg1 products) and 32-bit limbs (E5M2:cfg5 85 bits,
bf16/fp32 products 278/294). Register overflow needs more than 2^16 maximal products: the
overflow test streams about 70,000 and checks the sticky flag, its sign and the priority of
NaN/inf, in tiles that must take the range-tested steps and in one that may not."""

from __future__ import annotations

import importlib

import numpy as np
import pytest
from test_accum_long import ref_long
from test_golden_matmul import check, operands, shape

from lpmac import golden
from lpmac.config import MacConfig
from lpmac.errors import ConfigError
from lpmac.golden.raw import unpack
from lpmac.long_acc import LongPlan
from lpmac.specials import special_encoding

U64 = np.uint64
matmul_module = importlib.import_module("lpmac.golden.matmul")
long_module = importlib.import_module("lpmac.golden._matmul_long")

INT64_REGISTERS = [
    "E4M3:cfg1+E7M7:long",
    "E5M2:cfg1+E6M5:long,flush",
    "E4M3:cfg3+E8M7:long",
    "fp16:cfg1+fp32:long",
]
LIMB_REGISTERS = [
    "E5M2:cfg5+E6M5:long",
    "E5M2:cfg3+E8M7:long",
    "E5M2:cfg6+E6M5:long,flush",
    "bf16:cfg1+fp32:long",
    "fp32:cfg1+fp32:long",
    "fp16:cfg4+E8M10:long",
]


def test_register_kinds():
    """The configurations above really take the two registers."""
    for spec in INT64_REGISTERS + LIMB_REGISTERS:
        plan = LongPlan.of(MacConfig.parse(spec).mul.out_format)
        narrow = plan.width <= long_module.INT64_MAX_WIDTH
        assert narrow == (spec in INT64_REGISTERS), (spec, plan.width)


@pytest.mark.parametrize("spec", INT64_REGISTERS + LIMB_REGISTERS)
def test_random_vs_golden_mac(spec):
    cfg = MacConfig.parse(spec)
    fmt = cfg.mul.in_format
    rng = np.random.default_rng(len(spec) * 5 + 1)
    spread = (-20, 20) if fmt.e == 8 else (-6, 4)  # wide exponents: long-range cancellations
    check(*operands(fmt, *shape(rng, 200), rng, spread=spread), cfg, min_finite=0.3)
    # and a few PEs against the exact sum of their products, rounded once (Fractions)
    A, B = operands(fmt, 3, 40, 3, rng, spread=spread)
    got = golden.matmul(A, B, cfg).acc
    for i, j in [(0, 0), (1, 2), (2, 1)]:
        prods = golden.fp_mul(A[i], B[:, j], cfg.mul)
        assert int(got[i, j]) == ref_long(prods, cfg.mul.out_format, cfg.acc), (spec, i, j)


@pytest.mark.parametrize("spec", ["E5M2:cfg5+E6M5:long", "E4M3:cfg1+E7M7:long"])
def test_past_one_tile_and_k_4096(spec):
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(4096)
    check(*operands(cfg.mul.in_format, 9, 50, 130, rng), cfg)
    check(*operands(cfg.mul.in_format, 2, 4096, 3, rng), cfg)


def _bits(fmt, value) -> int:
    return int(golden.from_float(np.array([value]), fmt, saturate=True)[0])


@pytest.mark.parametrize(
    "spec", ["E5M2:cfg5+E6M5:long", "E4M3:cfg1+E6M5:long", "fp16:cfg1+fp32:long"]
)
def test_corners(spec):
    """Signed zeros, subnormal products, cancellation of the largest values around a tiny
    one, ties at the read-out, NaN, +-inf and inf - inf, per PE against golden mac's last
    history step and the exact Fraction sum."""
    cfg = MacConfig.parse(spec)
    fmt = cfg.mul.in_format
    sign = 1 << (fmt.width - 1)
    one, big = _bits(fmt, 1.0), (fmt.max_field << fmt.m) | ((1 << fmt.m) - 1)
    big = big - 1 if fmt.specials == "ieee" and fmt.max_field == (1 << fmt.e) - 1 else big
    big = _bits(fmt, golden.to_float(np.array([big], U64), fmt)[0])  # largest finite
    tiny, nan = 1, (((1 << fmt.e) - 1) << fmt.m) | ((1 << fmt.m) - 1)
    inf = ((1 << fmt.e) - 1) << fmt.m if fmt.specials == "ieee" else nan
    rows = {
        "zeros": [sign, sign, sign, 0],
        "cancel": [big, tiny, big | sign, 0],
        "subnormal": [tiny, tiny, tiny | sign, tiny],
        "max": [big, big, big, big],
        "tie": [one, tiny, 0, 0],
        "specials": [one, nan, one, one],
    }
    cols = {
        "plus": [one, one, one, one],
        "minus": [sign | one] * 4,
        "mixed": [big, tiny, big, tiny | sign],
        "inf": [inf, one, inf | sign, one],
        "+inf": [one, big, inf, big | sign],
    }
    A = np.array(list(rows.values()), U64)
    B = np.array(list(cols.values()), U64).T
    want = golden.mac(A.T[:, :, None], B[:, None, :], cfg, history=True).acc[-1]
    got = golden.matmul(A, B, cfg)
    computed = matmul_module._run(A.astype(np.int64), B.astype(np.int64), cfg, use_tables=False)
    assert np.array_equal(got.acc, want) and np.array_equal(computed[0], want)
    assert not got.invalid.any()
    for i in range(A.shape[0]):
        for j in range(B.shape[1]):
            prods = golden.fp_mul(A[i], B[:, j], cfg.mul)
            assert int(want[i, j]) == ref_long(prods, cfg.mul.out_format, cfg.acc), (i, j)
    assert int(want[0, 0]) == 0  # -0 + -0 + -0 + 0 reads +0
    assert len(np.unique(want)) >= 8  # not a degenerate table


def _largest_product(cfg: MacConfig) -> tuple[int, int, int]:
    """(a, b, term): positive inputs whose product is the largest finite one (any pair of
    an 8-bit format, else of {1.0, max finite}), and that product in register units."""
    fmt, prod_fmt = cfg.mul.in_format, cfg.mul.out_format
    plan = LongPlan.of(prod_fmt)
    if fmt.width <= 8:
        values = np.arange(1 << (fmt.width - 1), dtype=U64)
    else:
        values = golden.from_float(np.array([1.0, 1e300]), fmt, saturate=True)
    a, b = (x.ravel() for x in np.meshgrid(values, values))
    raw = unpack(golden.fp_mul(a, b, cfg.mul), prod_fmt)
    terms = [
        int(sig) << int(exp - plan.lsb_exp) if sig and not (inf or nan) else 0
        for sig, exp, inf, nan in zip(raw.sig, raw.exp, raw.inf, raw.nan)
    ]
    best = int(np.argmax(np.array(terms, dtype=object)))
    return int(a[best]), int(b[best]), terms[best]


@pytest.mark.parametrize(
    "spec", ["E5M2:cfg5+fp32:long", "E4M3:cfg1+fp32:long", "bf16:cfg1+fp32:long"]
)
def test_register_overflow(spec):
    """Rows 0-3 share a tile that must step exactly past 2^16 products, row 4 (small random
    walk) has its own tile that may not. Row 0 overflows, row 1 cancels to +0, row 2 stops
    one product short of the range, row 3 overflows and then subtracts; column 1 flips
    every sign, column 2 ends with -inf (inf beats the overflow), column 3 meets a NaN."""
    cfg = MacConfig.parse(spec)
    fmt = cfg.mul.in_format
    sign = 1 << (fmt.width - 1)
    big_a, big_b, term = _largest_product(cfg)
    plan = LongPlan.of(cfg.mul.out_format)
    last_safe = (plan.limit - 1) // term  # products that fit
    K = 2 * ((last_safe + 2001) // 2)  # even: row 1 cancels
    alternate = np.where(np.arange(K) % 2 == 0, big_a, big_a | sign)
    A = np.zeros((5, K), U64)
    A[0] = big_a
    A[1] = alternate
    A[2, :last_safe] = big_a
    A[2, last_safe:] = alternate[1 : K - last_safe + 1]  # -big first: never past the edge
    A[3, : last_safe + 1] = big_a
    A[3, last_safe + 1 :] = big_a | sign
    rng = np.random.default_rng(7)
    A[4] = np.where(rng.random(K) < 0.5, big_a, big_a | sign)
    B = np.full((K, 4), big_b, U64)
    B[:, 1] |= sign
    B[K - 1, 2] = special_encoding(fmt, "inf", True)
    B[5, 3] = special_encoding(fmt, "inf", False)  # +inf and -inf: NaN (row 4: maybe)
    B[7, 3] = special_encoding(fmt, "inf", True)
    want = check(A, B, cfg, min_finite=0.0)
    values = golden.to_float(want.acc, cfg.acc.fmt)
    assert values[0, 0] == np.inf and values[0, 1] == -np.inf  # the overflow and its sign
    assert values[3, 0] == np.inf and values[3, 1] == -np.inf  # sticky after subtracting
    edge = float(term * (last_safe - 1)) * 2.0**plan.lsb_exp  # row 2 ends above this
    assert values[1, 0] == 0 and values[2, 0] >= edge and values[2, 1] <= -edge
    assert values[0, 2] == -np.inf and np.isinf(values[:, 2]).all()  # inf beats overflow
    assert np.isnan(values[:4, 3]).all()


def test_empty_dimensions_and_too_wide_registers():
    for spec in ["E5M2:cfg5+E6M5:long", "E4M3:cfg1+E7M7:long"]:
        cfg = MacConfig.parse(spec)
        out = golden.matmul(np.zeros((3, 0), U64), np.zeros((0, 2), U64), cfg)
        assert out.acc.tolist() == [[0, 0]] * 3 and not out.invalid.any()  # +0: nothing added
        assert golden.matmul(np.zeros((0, 4), U64), np.zeros((4, 2), U64), cfg).acc.shape == (0, 2)
    cfg = MacConfig.parse("fp32:cfg4+fp32:long")  # E9M47 products: a 575-bit register
    with pytest.raises(ConfigError, match="575-bit register") as info:
        golden.matmul(np.zeros((1, 1), U64), np.zeros((1, 1), U64), cfg)
    assert "\n" not in str(info.value)
