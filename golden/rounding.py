"""The one rounding implementation of the golden model (SPEC §1 "Encoding a result", §6).

`round_shift` rounds an unsigned integer magnitude to a coarser grid; `round_pack` takes an
exact raw value (sign, sig, exp[, sticky]) and encodes it into a float format with gradual
underflow or flush, overflow to inf or max finite, and the specials policy of the format.
Every unit (multipliers, adders, converters, GEMM) ends in one of these two functions.
"""

from __future__ import annotations

import numpy as np

from lpmac.errors import ConfigError
from lpmac.formats import FloatFormat
from lpmac.specials import special_encoding

from .bitops import ONE, U64, bit_length, low_mask, shl, shr

MODES = ("rne", "rna", "rz", "sr")


def round_shift(mag, shift, mode: str, *, sticky=None, u=None, r: int = 0):
    """Round `mag * 2^-shift` to an integer; returns (rounded uint64, inexact bool).

    `mag` is uint64, `shift` int64 (<= 0 means exact left shift). `sticky` marks a magnitude
    that is really slightly above `mag` (bits discarded further down); it needs
    `shift >= max(1, r)` to be exact, which every caller guarantees. Stochastic rounding
    (`sr`) rounds the magnitude up iff floor(phi * 2^r) + u >= 2^r, phi the discarded
    fraction in ulps and u the top r bits of the unit's xorshift32 state (SPEC §6)."""
    mag = np.asarray(mag, dtype=np.uint64)
    shift = np.broadcast_to(np.asarray(shift, dtype=np.int64), mag.shape)
    sticky = np.zeros(mag.shape, bool) if sticky is None else np.asarray(sticky, bool)
    right = np.maximum(shift, 0)
    kept = np.where(shift > 0, shr(mag, right), shl(mag, np.maximum(-shift, 0)))
    rem = mag & low_mask(right)
    inexact = (rem != 0) | sticky
    if mode == "rz":
        return kept, inexact
    if mode == "sr":
        if u is None or r <= 0:
            raise ConfigError("stochastic rounding needs random bits u and their count r")
        # floor(phi * 2^r) = rem >> (shift - r) (or rem << (r - shift) for a short remainder)
        phi_r = np.where(right >= r, shr(rem, right - r), shl(rem, np.maximum(r - right, 0)))
        up = (phi_r + np.asarray(u, dtype=np.uint64)) >= U64(1 << r)
    else:
        guard = (shr(mag, np.maximum(right - 1, 0)) & ONE).astype(bool) & (right > 0)
        below = ((rem & low_mask(np.maximum(right - 1, 0))) != 0) | sticky
        if mode == "rne":
            up = guard & (below | (kept & ONE).astype(bool))
        elif mode == "rna":
            up = guard
        else:
            raise ConfigError(f"rounding mode must be one of {', '.join(MODES)}, got {mode!r}")
    return kept + up.astype(np.uint64), inexact


def special_bits(fmt: FloatFormat, sign, kind: str) -> np.ndarray:
    """Encodings of 'inf', 'max' (largest finite) and 'nan' with the given sign, as uint64
    arrays of `sign`'s shape (the encodings themselves: `lpmac.specials.special_encoding`)."""
    sign = np.asarray(sign, bool)
    negative = U64(special_encoding(fmt, kind, negative=True))
    return np.where(sign, negative, U64(special_encoding(fmt, kind)))


def round_pack(
    sign,
    sig,
    exp,
    fmt: FloatFormat,
    mode: str = "rne",
    sub_out: str = "ieee",
    *,
    sticky=None,
    zero=None,
    inf=None,
    nan=None,
    u=None,
    r: int = 0,
    saturate: bool = False,
) -> np.ndarray:
    """Encode the exact value (-1)^sign * (sig [+ sticky]) * 2^exp into `fmt` (SPEC §1).

    `sub_out=ieee` rounds on the format's grid (gradual underflow); `flush` rounds to m
    fraction bits with an unbounded exponent, then flushes magnitudes below 2^emin to a
    signed zero. Overflow gives inf if the format has it and the mode is not rz (and not
    `saturate`), otherwise max finite. `zero`, `inf`, `nan` flag special inputs; an exact
    zero takes the given sign. A nonzero value that rounds or flushes to zero keeps its sign.
    """
    sign = np.asarray(sign, bool)
    sig = np.asarray(sig, dtype=np.uint64)
    exp = np.asarray(exp, dtype=np.int64)
    m = fmt.m

    top = exp + bit_length(sig) - 1  # weight of the leading one
    lsb = top - m  # keep m+1 significant bits
    if sub_out == "ieee":
        lsb = np.maximum(lsb, fmt.emin - m)  # subnormal grid below 2^emin
    elif sub_out != "flush":
        raise ConfigError(f"sub_out must be ieee or flush, got {sub_out!r}")
    kept, _ = round_shift(sig, lsb - exp, mode, sticky=sticky, u=u, r=r)

    carry = kept >> U64(m + 1) != 0  # rounding up to 2^(m+1): one more binade
    kept = np.where(carry, kept >> ONE, kept)
    lsb = lsb + carry

    normal = kept >= U64(1 << m)
    field = np.where(normal, lsb + m + fmt.bias, 0)
    frac = kept & U64((1 << m) - 1)
    underflow = (kept == 0) | (sub_out == "flush") & (field <= 0)
    overflow = ~underflow & (
        (field > fmt.max_field) | (field == fmt.max_field) & (frac > U64(fmt.max_frac))
    )

    sign_bit = np.where(sign, U64(1 << (fmt.width - 1)), U64(0))
    out = sign_bit | (np.maximum(field, 0).astype(np.uint64) << U64(m)) | frac
    out = np.where(underflow, sign_bit, out)
    to_inf = fmt.has_inf and mode != "rz" and not saturate
    out = np.where(overflow, special_bits(fmt, sign, "inf" if to_inf else "max"), out)

    if zero is not None:
        out = np.where(zero, sign_bit, out)
    if inf is not None:
        out = np.where(inf, special_bits(fmt, sign, "max" if saturate else "inf"), out)
    if nan is not None:
        out = np.where(nan, special_bits(fmt, sign, "nan"), out)
    return out
