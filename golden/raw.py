"""Unpacking: bit patterns -> raw record (sign, exact significand and exponent, class flags).

The raw value of a finite input is (-1)^sign * sig * 2^exp with `sig` an unsigned integer;
this is the form every unit computes on (as Berkeley HardFloat's raw floats), and the one
`rounding.round_pack` takes back to bits."""

from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np

from lpmac.errors import ConfigError
from lpmac.formats import FloatFormat

from .bitops import U64, as_u64


class Raw(NamedTuple):
    sign: np.ndarray  # bool
    sig: np.ndarray  # uint64, 0 for zeros and specials
    exp: np.ndarray  # int64, weight of sig's LSB
    zero: np.ndarray  # bool
    inf: np.ndarray  # bool
    nan: np.ndarray  # bool


TABLE_MAX_WIDTH = 16  # formats this narrow decode through a table of all their encodings


def unpack(bits, fmt: FloatFormat, sub_in: str = "ieee") -> Raw:
    """Decode `fmt` bit patterns; `sub_in` is how subnormal inputs read (SPEC §1):
    ieee 0.frac*2^emin, as_normal 1.frac*2^-bias (CFG-5), flush +-0 (CFG-6)."""
    if fmt.width <= TABLE_MAX_WIDTH:
        index = (np.asarray(bits) & ((1 << fmt.width) - 1)).astype(
            np.intp
        )  # one cast for six lookups
        return Raw(*(column.take(index) for column in _decode_table(fmt, sub_in)))
    return _decode(bits, fmt, sub_in)


@lru_cache(maxsize=64)
def _decode_table(fmt: FloatFormat, sub_in: str) -> Raw:
    return _decode(np.arange(1 << fmt.width, dtype=np.uint64), fmt, sub_in)


def _decode(bits, fmt: FloatFormat, sub_in: str) -> Raw:
    b = as_u64(bits)
    m = fmt.m
    frac = b & U64((1 << m) - 1)
    field = ((b >> U64(m)) & U64(fmt.exp_all_ones)).astype(np.int64)
    sign = ((b >> U64(m + fmt.e)) & U64(1)).astype(bool)
    hidden = U64(1 << m)

    top = field == fmt.exp_all_ones
    if fmt.specials == "ieee":
        inf, nan = top & (frac == 0), top & (frac != 0)
    elif fmt.specials == "inf_only":
        inf, nan = top & (frac == U64((1 << m) - 1)), np.zeros_like(top)
    else:
        inf = nan = np.zeros_like(top)
    special = inf | nan

    subnormal = (field == 0) & (frac != 0)
    zero = (field == 0) & (frac == 0)
    if sub_in == "flush":
        zero = zero | subnormal
    normal = ~special & ~zero & ~subnormal

    sig = np.where(normal, hidden | frac, U64(0))
    exp = np.where(normal, field - fmt.bias - m, 0).astype(np.int64)
    if sub_in == "ieee":
        sig = np.where(subnormal, frac, sig)
        exp = np.where(subnormal, fmt.emin - m, exp)
    elif sub_in == "as_normal":
        sig = np.where(subnormal, hidden | frac, sig)
        exp = np.where(subnormal, -fmt.bias - m, exp)
    elif sub_in != "flush":
        raise ConfigError(f"sub_in must be ieee, as_normal or flush, got {sub_in!r}")
    return Raw(sign, sig, exp, zero, inf, nan)
