"""Multipliers (SPEC §2): floating point for every knob combination, and fixed point."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lpmac.config import MulConfig
from lpmac.formats import FixedFormat

from .bitops import U64, as_u64, chunked, from_signed, to_signed
from .raw import unpack
from .rounding import round_pack, round_shift


TABLE_MAX_WIDTH = 8   # input formats this narrow multiply through a table of all pairs
FRACTION_TABLE_MAX_M = 10   # ... and rounding ones this narrow read normal products from a
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
        index = index | (np.asarray(b_bits).astype(np.intp) & mask)   # broadcasts (no in-place |=)
        return _product_table(cfg).take(index)
    if _fraction_table_applies(cfg):
        return chunked(_fp_mul_normal_fast, (a_bits, b_bits), cfg)
    return chunked(_fp_mul, (a_bits, b_bits), cfg)


def _fraction_table_applies(cfg: MulConfig) -> bool:
    f = cfg.in_format
    return cfg.round == "rne" and f.m <= FRACTION_TABLE_MAX_M and f.bias + 2 < f.exp_all_ones


@lru_cache(maxsize=16)
def _fraction_table(cfg: MulConfig) -> np.ndarray:
    """Bits of 1.fa * 1.fb (both exponent fields = bias) for every fraction pair (fa, fb)."""
    f = cfg.in_format
    every = np.arange(1 << (2 * f.m), dtype=np.uint64)
    one = U64(f.bias << f.m)
    return _fp_mul(one | (every >> U64(f.m)), one | (every & U64((1 << f.m) - 1)), cfg).view(np.int64)


def _fp_mul_normal_fast(a_bits, b_bits, cfg: MulConfig) -> np.ndarray:
    """Normal x normal: the table's product moved by the exponents (rounding to m+1 bits
    does not depend on them) when the result is normal; a signed zero when it lies below
    half the smallest subnormal (or flushes), inf when an IEEE result overflows. Subnormal
    and special inputs and results near the subnormal range go through `_fp_mul`."""
    f = cfg.in_format
    m, top = f.m, f.exp_all_ones
    a, b = np.broadcast_arrays(as_u64(a_bits), as_u64(b_bits))
    shape, a, b = a.shape, a.ravel(), b.ravel()
    a64, b64 = a.view(np.int64), b.view(np.int64)          # bit patterns < 2^63: free views
    frac = (1 << m) - 1
    ea, eb = (a64 >> m) & top, (b64 >> m) & top
    entry = _fraction_table(cfg).take(((a64 & frac) << m) | (b64 & frac))
    field = (entry >> m) + ea + eb - 2 * f.bias           # after rounding
    sign = (a64 ^ b64) & (1 << (f.width - 1))
    normal = ((field - 1).view(np.uint64) < top - 1)       # 1 <= field < top
    # rounded magnitude < 2^(field - bias + 1): at field <= -(m+1) below half the smallest subnormal
    zero = field <= (0 if cfg.sub_out == "flush" else -(m + 1))
    out = np.where(normal, sign | (field << m) | (entry & frac), sign)
    fast = normal | zero
    if f.specials == "ieee":                               # the all-ones field is inf, whatever the fraction
        over = field >= top
        out = np.where(over, sign | (top << m), out)
        fast |= over
    fast &= ((ea - 1).view(np.uint64) < top - 1) & ((eb - 1).view(np.uint64) < top - 1)
    out = out.view(np.uint64)
    slow = np.flatnonzero(~fast)
    if slow.size:
        out[slow] = _fp_mul(a[slow], b[slow], cfg)
    return out.reshape(shape)


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
    return round_pack(sign, a.sig * b.sig, a.exp + b.exp, cfg.out_format, "rne", cfg.sub_out,
                      zero=zero, inf=inf, nan=nan)


def fixed_mul(a_bits, b_bits, fmt: FixedFormat, rounding: str = "rne") -> np.ndarray:
    """Qi.f x Qi.f -> Qi.f: exact product rounded to f fraction bits, saturated (SPEC §2)."""
    prod = to_signed(a_bits, fmt.width) * to_signed(b_bits, fmt.width)   # |prod| <= 2^62
    mag, _ = round_shift(np.abs(prod).astype(np.uint64), fmt.f, rounding)
    # mag <= 2^(62-f) + 1 fits int64; saturate in the signed domain
    val = np.where(prod < 0, -mag.astype(np.int64), mag.astype(np.int64))
    return from_signed(np.clip(val, fmt.min_int, fmt.max_int), fmt.width)
