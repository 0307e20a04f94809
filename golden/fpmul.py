"""Multipliers (SPEC §2): floating point for every knob combination, and fixed point."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lpmac.config import MulConfig
from lpmac.formats import FixedFormat

from .bitops import CHUNK, U64, as_u64, chunked, from_signed, to_signed
from .raw import unpack
from .rounding import round_pack, round_shift

TABLE_MAX_WIDTH = 8  # input formats this narrow multiply through a table of all pairs
FRACTION_TABLE_MAX_M = 10  # ... and rounding ones this narrow read normal products from a
# table of all fraction pairs (2^20 entries for fp16)


def fp_mul(a_bits, b_bits, cfg: MulConfig) -> np.ndarray:
    """p = a*b: unpack both (cfg.sub_in), multiply the significands exactly, one round_pack
    into cfg.out_format (rne, or exact for round=none: the wide format holds every product).

    8-bit formats read the product from a table of all 65,536 pairs computed by the same
    code (`_fp_mul`); wider ones are computed in cache-sized chunks, and for rounding
    formats up to m = 10 a normal product with a normal result takes its rounded
    significand from a table of all fraction pairs (also made by `_fp_mul`)."""
    w = cfg.in_format.width
    if w <= TABLE_MAX_WIDTH:
        mask = (1 << w) - 1
        index = (np.asarray(a_bits).astype(np.intp) & mask) << w
        index = index | (np.asarray(b_bits).astype(np.intp) & mask)  # broadcasts (no in-place |=)
        return _product_table(cfg).take(index)
    if _fraction_table_applies(cfg):
        return _fp_mul_by_fraction_table(a_bits, b_bits, cfg)
    return chunked(_fp_mul, (a_bits, b_bits), cfg)


def _fraction_table_applies(cfg: MulConfig) -> bool:
    f = cfg.in_format
    return cfg.round == "rne" and f.m <= FRACTION_TABLE_MAX_M and f.bias + 2 < f.exp_all_ones


@lru_cache(maxsize=16)
def _fraction_table(cfg: MulConfig) -> np.ndarray:
    """Bits of 1.fa * 1.fb (both exponent fields = bias) for every fraction pair (fa, fb),
    in the narrowest signed integer type that holds them (int16 for fp16: a 2 MB table)."""
    f = cfg.in_format
    every = np.arange(1 << (2 * f.m), dtype=np.uint64)
    one = U64(f.bias << f.m)
    bits = _fp_mul(one | (every >> U64(f.m)), one | (every & U64((1 << f.m) - 1)), cfg)
    return bits.astype(np.int16 if f.width <= 16 else np.int32)


def _fp_mul_by_fraction_table(a_bits, b_bits, cfg: MulConfig) -> np.ndarray:
    """Three passes, each over every element it concerns at once (small per-chunk subsets
    would cost more in NumPy call overhead than in arithmetic): `_normal_products` for all,
    `_other_products` for those whose inputs or result are not normal, `_fp_mul` (unpack and
    `round_pack`) for what is left: subnormal inputs and results, the other specials
    policies' top binade."""
    a, b = np.broadcast_arrays(as_u64(a_bits), as_u64(b_bits))
    shape, a, b = a.shape, a.ravel(), b.ravel()
    out, ok = _chunked_with_flag(_normal_products, a, b, cfg)
    rest = np.flatnonzero(~ok)
    if rest.size:
        ra, rb = a[rest], b[rest]
        r_out, r_done = _chunked_with_flag(_other_products, ra, rb, cfg)
        slow = np.flatnonzero(~r_done)
        if slow.size:
            r_out[slow] = chunked(_fp_mul, (ra[slow], rb[slow]), cfg).astype(np.int32)
        out[rest] = r_out
    return out.astype(np.uint64).reshape(shape)


def _chunked_with_flag(fn, a, b, cfg):
    out, flag = np.empty(a.size, np.int32), np.empty(a.size, bool)
    for i in range(0, a.size, CHUNK):
        out[i : i + CHUNK], flag[i : i + CHUNK] = fn(a[i : i + CHUNK], b[i : i + CHUNK], cfg)
    return out, flag


def _fields(a, b, cfg: MulConfig):
    f = cfg.in_format
    m, top = f.m, f.exp_all_ones
    a32, b32 = a.astype(np.int32), b.astype(np.int32)  # width <= 2 + 8 + 10 bits here
    frac = (1 << m) - 1
    fa, fb = a32 & frac, b32 & frac
    ea, eb = (a32 >> m) & top, (b32 >> m) & top
    entry = _fraction_table(cfg).take((fa << m) | fb)
    field = (entry >> m) + (ea + eb - 2 * f.bias)  # after rounding
    sign = (a32 ^ b32) & (1 << (f.width - 1))
    inputs_normal = ((ea - 1).view(np.uint32) < top - 1) & ((eb - 1).view(np.uint32) < top - 1)
    return fa, fb, ea, eb, entry, field, sign, inputs_normal


def _normal_products(a, b, cfg: MulConfig):
    """Normal x normal with a normal result: the table's product moved by the exponents
    (rounding to m+1 bits does not depend on them). Returns (bits, done)."""
    m, top = cfg.in_format.m, cfg.in_format.exp_all_ones
    _, _, _, _, entry, field, sign, inputs_normal = _fields(a, b, cfg)
    done = inputs_normal & ((field - 1).view(np.uint32) < top - 1)  # 1 <= field < top
    return sign | (field << m) | (entry & ((1 << m) - 1)), done


def _other_products(a, b, cfg: MulConfig):
    """A signed zero below half the smallest subnormal (or when it flushes), inf when an IEEE
    result overflows, IEEE NaN / inf / zero inputs. Returns (bits, done); subnormal inputs
    and subnormal results are not done: they go through the one rounding, `round_pack`."""
    f = cfg.in_format
    m, top, ieee = f.m, f.exp_all_ones, f.specials == "ieee"
    fa, fb, ea, eb, _, field, sign, inputs_normal = _fields(a, b, cfg)
    # rounded magnitude < 2^(field - bias + 1): at field <= -(m+1) below half the smallest subnormal
    zero = field <= (0 if cfg.sub_out == "flush" else -(m + 1))
    out = sign.copy()
    done = inputs_normal & zero
    if ieee:  # the all-ones field is inf, whatever the fraction
        over = inputs_normal & (field >= top)
        out[over] |= top << m
        done |= over
        flushed = cfg.sub_in == "flush"  # a subnormal input reads as zero
        a_zero, b_zero = (ea == 0) & ((fa == 0) | flushed), (eb == 0) & ((fb == 0) | flushed)
        a_inf, b_inf = (ea == top) & (fa == 0), (eb == top) & (fb == 0)
        nan = (
            ((ea == top) & (fa != 0))
            | ((eb == top) & (fb != 0))
            | (a_inf & b_zero)
            | (a_zero & b_inf)
        )
        inf = ~nan & (a_inf | b_inf)
        out = np.where(nan, (top << m) | (1 << (m - 1)), np.where(inf, sign | (top << m), out))
        done |= nan | inf | a_zero | b_zero  # a zero input: out is the signed zero
    return out, done


@lru_cache(maxsize=64)
def _product_table(cfg: MulConfig) -> np.ndarray:
    n = 1 << cfg.in_format.width
    every = np.arange(n * n, dtype=np.uint64)
    return _fp_mul(every >> U64(cfg.in_format.width), every & U64(n - 1), cfg)


def _fp_mul(a_bits, b_bits, cfg: MulConfig) -> np.ndarray:
    a = unpack(a_bits, cfg.in_format, cfg.sub_in)
    b = unpack(b_bits, cfg.in_format, cfg.sub_in)
    sign = a.sign ^ b.sign
    nan = a.nan | b.nan | (a.inf & b.zero) | (a.zero & b.inf)
    inf = ~nan & (a.inf | b.inf)
    zero = ~nan & ~inf & (a.zero | b.zero)
    # 0*inf in a format without NaN gives inf with the xor sign (SPEC §1).
    return round_pack(
        sign,
        a.sig * b.sig,
        a.exp + b.exp,
        cfg.out_format,
        "rne",
        cfg.sub_out,
        zero=zero,
        inf=inf,
        nan=nan,
    )


def fixed_mul(a_bits, b_bits, fmt: FixedFormat, rounding: str = "rne") -> np.ndarray:
    """Qi.f x Qi.f -> Qi.f: exact product rounded to f fraction bits, saturated (SPEC §2)."""
    prod = to_signed(a_bits, fmt.width) * to_signed(b_bits, fmt.width)  # |prod| <= 2^62
    mag, _ = round_shift(np.abs(prod).astype(np.uint64), fmt.f, rounding)
    # mag <= 2^(62-f) + 1 fits int64; saturate in the signed domain
    val = np.where(prod < 0, -mag.astype(np.int64), mag.astype(np.int64))
    return from_signed(np.clip(val, fmt.min_int, fmt.max_int), fmt.width)
