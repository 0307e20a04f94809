"""Scalar numba ports of the golden units the MAC-array emulator computes directly: unpack,
round_shift, round_pack, fp_mul (`_fp_mul`), fp_add (`_fp_add`), to_fixed and xorshift32.

Line for line the NumPy code of raw.py, rounding.py, fpmul.py, accum.py and convert.py on
one element, in int64 (every significand, window and pattern here fits in 58 bits), so
tests/test_golden_matmul.py checks each against its golden original bit for bit. A format
travels as the tuple (e, m, bias, specials, sub_in) of small ints followed by its special
encodings from lpmac.specials (`fmt_tuple`), so the specials policy is not restated here."""

from __future__ import annotations

import numpy as np
from numba import njit
from numba.cpython.unsafe.numbers import leading_zeros

from lpmac import adder
from lpmac.formats import FloatFormat
from lpmac.specials import SPECIAL_KINDS, special_encoding

from . import accum

SPECIALS_CODE = {"ieee": 0, "inf_only": 1, "finite": 2}
SUB_IN_CODE = {"ieee": 0, "as_normal": 1, "flush": 2}
MODE_CODE = {"rne": 0, "rz": 1, "sr": 2}
ZERO_EXP = accum.ZERO_EXP  # LSB weight of a zero operand in the adder
MASK32 = 0xFFFFFFFF


def fmt_tuple(fmt: FloatFormat, sub_in: str = "ieee") -> tuple:
    """(e, m, bias, specials, sub_in, then the encodings of +inf, -inf, +max, -max, +nan, -nan)."""
    specials = tuple(
        special_encoding(fmt, kind, negative) for kind in SPECIAL_KINDS for negative in (0, 1)
    )
    return (fmt.e, fmt.m, fmt.bias, SPECIALS_CODE[fmt.specials], SUB_IN_CODE[sub_in]) + specials


@njit(cache=True)
def bit_length(x):
    if x == 0:
        return 0
    return 64 - np.int64(leading_zeros(np.uint64(x)))


@njit(cache=True)
def shr(x, s):
    return x >> s if s < 64 else 0


@njit(cache=True)
def low_mask(s):
    return (1 << s) - 1 if s < 63 else -1  # -1: all ones (int64)


@njit(cache=True)
def unpack(bits, fmt):
    """(sign, sig, exp, zero, inf, nan) of one pattern (raw.py `_decode`)."""
    e, m, bias, specials, sub_in = fmt[:5]
    all_ones = (1 << e) - 1
    frac = bits & ((1 << m) - 1)
    field = (bits >> m) & all_ones
    sign = (bits >> (m + e)) & 1
    top = field == all_ones
    inf = False
    nan = False
    if specials == 0:
        inf = top and frac == 0
        nan = top and frac != 0
    elif specials == 1:
        inf = top and frac == (1 << m) - 1
    subnormal = field == 0 and frac != 0
    zero = field == 0 and frac == 0
    if sub_in == 2:
        zero = zero or subnormal
    sig = 0
    exp = 0
    if not (inf or nan or zero or subnormal):
        sig = (1 << m) | frac
        exp = field - bias - m
    elif subnormal and sub_in == 0:
        sig = frac
        exp = 1 - bias - m
    elif subnormal and sub_in == 1:
        sig = (1 << m) | frac
        exp = -bias - m
    return sign, sig, exp, zero, inf, nan


@njit(cache=True)
def round_shift(mag, shift, mode, sticky, u, r):
    """round(mag * 2^-shift) to an integer (rounding.py `round_shift`)."""
    right = max(shift, 0)
    if shift > 0:
        kept = shr(mag, right)
    else:
        kept = mag << (-shift) if -shift < 64 else 0
    rem = mag & low_mask(right)
    if mode == 1:
        return kept
    if mode == 2:
        phi_r = shr(rem, right - r) if right >= r else rem << (r - right)
        return kept + (1 if phi_r + u >= (1 << r) else 0)
    guard = right > 0 and (shr(mag, max(right - 1, 0)) & 1) == 1
    below = (rem & low_mask(max(right - 1, 0))) != 0 or sticky
    return kept + (1 if guard and (below or (kept & 1) == 1) else 0)


@njit(cache=True)
def special_bits(fmt, sign, kind):
    """kind 0 inf, 1 max finite, 2 nan (rounding.py `special_bits`), from fmt_tuple."""
    return fmt[5 + 2 * kind + sign]


@njit(cache=True)
def round_pack(sign, sig, exp, fmt, mode, flush, sticky, zero, inf, nan, u, r):
    """Encode (-1)^sign * (sig [+ sticky]) * 2^exp (rounding.py `round_pack`, no saturate)."""
    e, m, bias, specials, _ = fmt[:5]
    if nan:
        return special_bits(fmt, sign, 2)
    if inf:
        return special_bits(fmt, sign, 0)
    sign_bit = sign << (e + m)
    if zero:
        return sign_bit
    lsb = exp + bit_length(sig) - 1 - m
    if not flush:
        lsb = max(lsb, 1 - bias - m)
    kept = round_shift(sig, lsb - exp, mode, sticky, u, r)
    if kept >> (m + 1) != 0:
        kept >>= 1
        lsb += 1
    field = lsb + m + bias if kept >= 1 << m else 0
    frac = kept & ((1 << m) - 1)
    if kept == 0 or (flush and field <= 0):
        return sign_bit
    if (field << m | frac) > fmt[7]:  # beyond the largest finite magnitude (+max)
        return special_bits(fmt, sign, 0 if specials != 2 and mode != 1 else 1)
    return sign_bit | (max(field, 0) << m) | frac


@njit(cache=True)
def fp_mul(a, b, in_fmt, out_fmt, flush):
    """Product bits (fpmul.py `_fp_mul`); in_fmt carries the multiplier's sub_in."""
    sa, ga, ea, za, ia, na = unpack(a, in_fmt)
    sb, gb, eb, zb, ib, nb = unpack(b, in_fmt)
    nan = na or nb or (ia and zb) or (za and ib)
    inf = not nan and (ia or ib)
    zero = not nan and not inf and (za or zb)
    return round_pack(sa ^ sb, ga * gb, ea + eb, out_fmt, 0, flush, False, zero, inf, nan, 0, 0)


add_window = njit(cache=True)(adder.add_window)  # (S, G) of the adder, lpmac/adder.py


@njit(cache=True)
def _operand(sig, exp, zero, s):
    """Normalised s-bit significand and its LSB weight; zeros lowest."""
    if zero:
        return sig, ZERO_EXP
    lz = s - bit_length(sig)
    return sig << lz, exp - lz


@njit(cache=True)
def fp_add(acc, x, acc_fmt, x_fmt, mode, flush, u, r):
    """round(acc + x) into acc_fmt (accum.py `_fp_add`); r = sr bits (0 unless sr)."""
    s, g = add_window(acc_fmt[1], x_fmt[1], r)
    sa, ga, ea, za, ia, na = unpack(acc, acc_fmt)
    sx, gx, ex, zx, ix, nx = unpack(x, x_fmt)
    nan = na or nx or (ia and ix and sa != sx)
    inf = not nan and (ia or ix)
    if nan or inf:
        return round_pack(0 if nan else (sa if ia else sx), 0, 0, acc_fmt, mode, flush,
                          False, False, inf, nan, u, r)  # fmt: skip
    a_sig, a_e = _operand(ga, ea, za, s)
    x_sig, x_e = _operand(gx, ex, zx, s)
    if a_e > x_e or (a_e == x_e and a_sig >= x_sig):
        big_sig, big_e, big_sign, small_sig, small_e, small_sign = a_sig, a_e, sa, x_sig, x_e, sx
    else:
        big_sig, big_e, big_sign, small_sig, small_e, small_sign = x_sig, x_e, sx, a_sig, a_e, sa
    d = min(big_e - small_e, s + g + 1)
    small_w = small_sig << g
    small_al = shr(small_w, d)
    sticky = (small_w & low_mask(d)) != 0
    big_al = big_sig << g
    if big_sign != small_sign:
        mag = big_al - small_al - (1 if sticky else 0)
    else:
        mag = big_al + small_al
    lsb = 0 if big_sig == 0 else big_e - g
    exact_zero = mag == 0 and not sticky
    sign = (1 if za and zx and sa == 1 and sx == 1 else 0) if exact_zero else big_sign
    return round_pack(sign, mag, lsb, acc_fmt, mode, flush, sticky, exact_zero, False, False, u, r)


@njit(cache=True)
def to_fixed(bits, src_fmt, width, f, mode):
    """(signed value, invalid) of convert.py `to_fixed` (sub_in of src_fmt, rne or rz)."""
    sign, sig, exp, zero, inf, nan = unpack(bits, src_fmt)
    if nan:
        return 0, True
    if inf or exp + bit_length(sig) + f > width + 1:
        mag = 1 << (width + 1)
    else:
        mag = round_shift(sig, -f - exp, mode, False, 0, 0)
    val = -mag if sign else mag
    return min(max(val, -(1 << (width - 1))), (1 << (width - 1)) - 1), False


@njit(cache=True)
def xorshift32(x):
    x ^= (x << 13) & MASK32
    x ^= x >> 17
    x ^= (x << 5) & MASK32
    return x
