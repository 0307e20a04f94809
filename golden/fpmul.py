"""Multipliers (SPEC §2): floating point for every knob combination, and fixed point."""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from lpmac.config import MulConfig
from lpmac.formats import FixedFormat

from .bitops import U64, chunked, from_signed, to_signed
from .raw import unpack
from .rounding import round_pack, round_shift


TABLE_MAX_WIDTH = 8   # input formats this narrow multiply through a table of all pairs


def fp_mul(a_bits, b_bits, cfg: MulConfig) -> np.ndarray:
    """p = a*b: unpack both (cfg.sub_in), multiply the significands exactly, one round_pack
    into cfg.out_format (rne, or exact for round=none: the wide format holds every product).

    8-bit formats read the product from a table of all 65,536 pairs computed by the same
    code (`_fp_mul`); wider ones are computed in cache-sized chunks."""
    w = cfg.in_format.width
    if w <= TABLE_MAX_WIDTH:
        mask = (1 << w) - 1
        index = (np.asarray(a_bits).astype(np.intp) & mask) << w
        index = index | (np.asarray(b_bits).astype(np.intp) & mask)   # broadcasts (no in-place |=)
        return _product_table(cfg).take(index)
    return chunked(_fp_mul, (a_bits, b_bits), cfg)


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
