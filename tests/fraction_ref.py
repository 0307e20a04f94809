"""Exact reference model of the lpmac arithmetic, written from docs/spec.md with Python Fractions.

This module is deliberately independent of `golden/`: it uses only the four numbers that
define a float format (e, m, bias, specials) and derives everything else from SPEC §1 —
decoding with a subnormal-input policy, and encoding an exact rational value into any float
format with rne / rna / rz / sr, gradual underflow or flush, the overflow rule, the specials
policy and the signed-zero rules. It is slow but obviously correct; the tests call it per
unique value and cache.

A decoded value is a `V(kind, sign, mag)`: kind 'fin' (mag a non-negative Fraction, signed
zeros kept through `sign`), 'inf' or 'nan' (mag None).
"""

from __future__ import annotations

import functools
from fractions import Fraction
from typing import NamedTuple

import numpy as np

__all__ = [
    "RF",
    "ref_fmt",
    "V",
    "round_ratio",
    "NAN",
    "inf",
    "fin",
    "pow2",
    "floor_log2",
    "decode",
    "encode",
    "max_finite",
    "min_normal",
    "round_int",
    "ref_mul",
    "ref_add",
    "xorshift32_py",
    "XorShift32",
    "value_of",
    "fixed_round",
    "is_nan_bits",
    "decode_c",
    "encode_c",
    "nan_mask",
    "mul_bits",
    "mul_table",
    "describe",
    "assert_bits",
    "add_bits",
    "accumulate_ref",
    "add_table",
    "corner_values",
    "cross",
    "random_patterns",
]


class RF(NamedTuple):
    """A float format EeMm as SPEC §1 defines it."""

    e: int
    m: int
    bias: int
    specials: str = "ieee"

    @staticmethod
    def make(e: int, m: int, bias: int | None = None, specials: str = "ieee") -> RF:
        return RF(e, m, (1 << (e - 1)) - 1 if bias is None else bias, specials)

    @property
    def width(self) -> int:
        return 1 + self.e + self.m

    @property
    def emin(self) -> int:
        return 1 - self.bias

    @property
    def emax(self) -> int:
        return (1 << self.e) - 2 - self.bias

    @property
    def has_inf(self) -> bool:
        return self.specials in ("ieee", "inf_only")

    @property
    def has_nan(self) -> bool:
        return self.specials == "ieee"

    def wide(self) -> RF:
        """SPEC §2: the exact product format E(e+1)M(2m+1), standard bias 2^e - 1, same specials."""
        return RF(self.e + 1, 2 * self.m + 1, (1 << self.e) - 1, self.specials)


def ref_fmt(fmt) -> RF:
    """RF from anything carrying e, m, bias, specials (e.g. lpmac's FloatFormat)."""
    if isinstance(fmt, RF):
        return fmt
    return RF.make(fmt.e, fmt.m, fmt.bias, fmt.specials)


class V(NamedTuple):
    kind: str  # 'fin', 'inf', 'nan'
    sign: int  # 0 or 1
    mag: Fraction | None

    def value(self) -> Fraction:
        assert self.kind == "fin"
        return -self.mag if self.sign else self.mag

    @property
    def is_zero(self) -> bool:
        return self.kind == "fin" and self.mag == 0


NAN = V("nan", 0, None)


def inf(sign: int) -> V:
    return V("inf", int(sign), None)


def fin(sign: int, mag: Fraction) -> V:
    return V("fin", int(sign), Fraction(mag))


def value_of(q: Fraction) -> V:
    """A signed finite V from a Fraction (zero becomes +0)."""
    q = Fraction(q)
    return V("fin", int(q < 0), abs(q))


def pow2(k: int) -> Fraction:
    return Fraction(1 << k) if k >= 0 else Fraction(1, 1 << -k)


def floor_log2(x: Fraction) -> int:
    """floor(log2(x)) for x > 0, exactly."""
    p, q = x.numerator, x.denominator
    assert p > 0 and q > 0
    n = p.bit_length() - q.bit_length()
    ok = (p >= q << n) if n >= 0 else ((p << -n) >= q)
    return n if ok else n - 1


def max_finite(F: RF) -> Fraction:
    """SPEC §1 table."""
    if F.specials == "ieee":
        return (2 - pow2(-F.m)) * pow2(F.emax)
    if F.specials == "inf_only":
        return (2 - pow2(1 - F.m)) * pow2(F.emax + 1)
    if F.specials == "finite":
        return (2 - pow2(-F.m)) * pow2(F.emax + 1)
    raise ValueError(F.specials)


def min_normal(F: RF) -> Fraction:
    return pow2(F.emin)


_max_finite_c = functools.lru_cache(maxsize=None)(max_finite)
pow2 = functools.lru_cache(maxsize=4096)(pow2)


# --------------------------------------------------------------------------- decoding
def decode(bits: int, F: RF, sub_in: str = "ieee") -> V:
    """SPEC §1: the value a bit pattern denotes; `sub_in` ieee / as_normal / flush."""
    bits = int(bits)
    e, m = F.e, F.m
    sign = (bits >> (e + m)) & 1
    field = (bits >> m) & ((1 << e) - 1)
    frac = bits & ((1 << m) - 1)
    ones = (1 << e) - 1
    if field == ones:
        if F.specials == "ieee":
            return inf(sign) if frac == 0 else NAN
        if F.specials == "inf_only" and frac == (1 << m) - 1:
            return inf(sign)
        # otherwise a normal value (inf_only with another frac, or finite)
    if field == 0:
        if frac == 0:
            return fin(sign, Fraction(0))
        if sub_in == "ieee":
            return fin(sign, frac * pow2(F.emin - m))
        if sub_in == "as_normal":
            return fin(sign, ((1 << m) + frac) * pow2(-F.bias - m))
        if sub_in == "flush":
            return fin(sign, Fraction(0))
        raise ValueError(sub_in)
    return fin(sign, ((1 << m) + frac) * pow2(field - F.bias - m))


def is_nan_bits(bits: int, F: RF) -> bool:
    return decode(bits, F).kind == "nan"


# --------------------------------------------------------------------------- rounding
def round_ratio(num: int, den: int, mode: str, u: int | None = None, r: int = 0) -> int:
    """Round num/den >= 0 to an integer (SPEC §1 modes, §6 for sr), in integers."""
    assert num >= 0 and den > 0
    fl, rem = divmod(num, den)
    if rem == 0 or mode == "rz":
        # sr with phi = 0: floor(0 * 2^r) + u >= 2^r never holds (u < 2^r)
        return fl
    if mode == "rne":
        return fl + 1 if 2 * rem > den or (2 * rem == den and fl % 2 == 1) else fl
    if mode == "rna":
        return fl + 1 if 2 * rem >= den else fl
    if mode == "sr":
        assert u is not None and r > 0 and 0 <= u < (1 << r)
        return fl + 1 if (rem << r) // den + u >= (1 << r) else fl
    raise ValueError(mode)


def round_int(t: Fraction, mode: str, u: int | None = None, r: int = 0) -> int:
    """Round a non-negative rational t to an integer (SPEC §1 modes, §6 for sr)."""
    t = Fraction(t)
    return round_ratio(t.numerator, t.denominator, mode, u, r)


def _max_bits(F: RF, sign: int) -> int:
    ones = (1 << F.e) - 1
    if F.specials == "ieee":
        mag = ((ones - 1) << F.m) | ((1 << F.m) - 1)
    elif F.specials == "inf_only":
        mag = (ones << F.m) | ((1 << F.m) - 2)
    else:
        mag = (ones << F.m) | ((1 << F.m) - 1)
    return (sign << (F.e + F.m)) | mag


def _inf_bits(F: RF, sign: int) -> int:
    ones = (1 << F.e) - 1
    frac = (1 << F.m) - 1 if F.specials == "inf_only" else 0
    return (sign << (F.e + F.m)) | (ones << F.m) | frac


def encode(
    v: V,
    F: RF,
    mode: str = "rne",
    sub_out: str = "ieee",
    *,
    saturate: bool = False,
    u: int | None = None,
    r: int = 0,
) -> int:
    """Encode an exact value into F (SPEC §1 "Encoding a result").

    The caller has already decided the sign of exact zeros (product: xor; sum: +0 unless
    -0 + -0). NaN: the canonical NaN, or +inf where F has no NaN (+max finite where F has
    neither). Infinity: ±inf, or ±max finite with `saturate` or in a format without inf."""
    F = ref_fmt(F)
    e, m = F.e, F.m
    if v.kind == "nan":
        if F.has_nan:
            return (((1 << e) - 1) << m) | (1 << (m - 1))
        return _inf_bits(F, 0) if F.has_inf else _max_bits(F, 0)
    if v.kind == "inf":
        if F.has_inf and not saturate:
            return _inf_bits(F, v.sign)
        return _max_bits(F, v.sign)
    x, sign = v.mag, v.sign
    sbit = sign << (e + m)
    if x == 0:
        return sbit
    E = floor_log2(x)
    if sub_out == "ieee":
        q_exp = max(E, F.emin) - m  # the format's grid (gradual underflow)
    elif sub_out == "flush":
        q_exp = E - m  # m fraction bits, unbounded exponent
    else:
        raise ValueError(sub_out)
    # n = round(x / 2^q_exp); the result is y = n * 2^q_exp
    num, den = x.numerator, x.denominator
    if q_exp >= 0:
        den <<= q_exp
    else:
        num <<= -q_exp
    n = round_ratio(num, den, mode, u, r)
    if n == 0:
        return sbit
    y = n * pow2(q_exp)
    if sub_out == "flush" and y < pow2(F.emin):
        return sbit
    if y > _max_finite_c(F):
        if F.has_inf and mode != "rz" and not saturate:
            return _inf_bits(F, sign)
        return _max_bits(F, sign)
    if y < pow2(F.emin):
        frac = y / pow2(F.emin - m)
        assert frac.denominator == 1
        return sbit | int(frac)
    Ey = floor_log2(y)
    field = Ey + F.bias
    sig = y / pow2(Ey - m)
    assert sig.denominator == 1 and (1 << m) <= sig < (2 << m)
    assert 1 <= field <= (1 << e) - 1
    return sbit | (field << m) | (int(sig) - (1 << m))


# --------------------------------------------------------------------------- operations
def ref_mul(a: V, b: V, out_has_nan: bool) -> V:
    """Exact product value (SPEC §1/§2): NaN for NaN inputs and 0*inf (±inf, sign xor, in a
    format without NaN); a zero product keeps the xor of the signs."""
    sign = a.sign ^ b.sign
    if a.kind == "nan" or b.kind == "nan":
        return NAN
    if (a.kind == "inf" and b.is_zero) or (b.kind == "inf" and a.is_zero):
        return NAN if out_has_nan else inf(sign)
    if a.kind == "inf" or b.kind == "inf":
        return inf(sign)
    return fin(sign, a.mag * b.mag)


def ref_add(a: V, b: V, out_has_nan: bool) -> V:
    """Exact sum value: NaN for NaN inputs and inf - inf (+inf in a format without NaN);
    an exact zero sum is +0 except (-0) + (-0) = -0."""
    if a.kind == "nan" or b.kind == "nan":
        return NAN
    if a.kind == "inf" and b.kind == "inf" and a.sign != b.sign:
        return NAN if out_has_nan else inf(0)
    if a.kind == "inf":
        return a
    if b.kind == "inf":
        return b
    s = a.value() + b.value()
    if s == 0:
        return fin(1 if (a.sign and b.sign and a.mag == 0 and b.mag == 0) else 0, Fraction(0))
    return value_of(s)


# --------------------------------------------------------------------------- xorshift32
M32 = 0xFFFFFFFF


def xorshift32_py(x: int) -> int:
    """SPEC §6: x ^= x<<13; x ^= x>>17; x ^= x<<5 on 32 bits."""
    x ^= (x << 13) & M32
    x ^= x >> 17
    x ^= (x << 5) & M32
    return x & M32


class XorShift32:
    """One rounding unit's generator: `next_u()` steps once and returns the top r bits."""

    def __init__(self, seed: int, r: int):
        assert seed != 0
        self.state, self.r = seed & M32, r

    def next_u(self) -> int:
        self.state = xorshift32_py(self.state)
        return self.state >> (32 - self.r)


# --------------------------------------------------------------------------- fixed point
def fixed_round(q: Fraction, f: int, i: int, mode: str = "rne") -> int:
    """Exact value q -> raw two's complement integer of Qi.f: round the magnitude to f
    fraction bits (rne, or rz toward zero), then saturate to [-2^(i+f-1), 2^(i+f-1)-1]."""
    w = i + f
    mag = round_int(abs(q) * (1 << f), mode)
    raw = -mag if q < 0 else mag
    return max(-(1 << (w - 1)), min((1 << (w - 1)) - 1, raw))


# --------------------------------------------------------------------------- table helpers
# (pure-Python loops with caches; numpy only to hand arrays to and from the tests)
decode_c = functools.lru_cache(maxsize=None)(decode)
encode_c = functools.lru_cache(maxsize=None)(encode)


def nan_mask(bits, F: RF) -> np.ndarray:
    """Vectorised SPEC §1 NaN test (ieee specials only have NaN)."""
    F = ref_fmt(F)
    b = np.asarray(bits, dtype=np.uint64)
    if not F.has_nan:
        return np.zeros(b.shape, bool)
    field = (b >> np.uint64(F.m)) & np.uint64((1 << F.e) - 1)
    frac = b & np.uint64((1 << F.m) - 1)
    return (field == np.uint64((1 << F.e) - 1)) & (frac != 0)


def mul_bits(
    a_bits, b_bits, F: RF, sub_in: str, outF: RF, sub_out: str, mode: str = "rne"
) -> np.ndarray:
    """Reference multiplier on arrays of bit patterns: decode (sub_in), exact product,
    encode into outF (one rounding `mode`, `sub_out`)."""
    a_bits = np.asarray(a_bits, dtype=np.uint64).ravel()
    b_bits = np.asarray(b_bits, dtype=np.uint64).ravel()
    out = np.empty(a_bits.shape, np.uint64)
    for n, (a, b) in enumerate(zip(a_bits.tolist(), b_bits.tolist())):
        p = ref_mul(decode_c(a, F, sub_in), decode_c(b, F, sub_in), outF.has_nan)
        out[n] = encode_c(p, outF, mode, sub_out)
    return out


def mul_table(F: RF, sub_in: str, outF: RF, sub_out: str, mode: str = "rne") -> np.ndarray:
    """All 2^w x 2^w products of a small format, index a * 2^w + b.

    Computed for non-negative operands only, then extended by the sign rule of a product
    (the exact value's sign is the xor of the signs, every mode here is symmetric), except
    that a NaN result stays the canonical NaN (sign 0)."""
    half = 1 << (F.width - 1)
    vals = [decode(b, F, sub_in) for b in range(half)]
    pos = np.empty((half, half), np.uint64)
    for i, a in enumerate(vals):
        for j, b in enumerate(vals):
            pos[i, j] = encode_c(ref_mul(a, b, outF.has_nan), outF, mode, sub_out)
    sbit = np.uint64(1 << (outF.e + outF.m))
    neg = np.where(nan_mask(pos, outF), pos, pos ^ sbit)
    top = np.concatenate([pos, neg], axis=1)  # a >= 0: b >= 0 | b < 0
    bottom = np.concatenate([neg, pos], axis=1)  # a < 0
    return np.concatenate([top, bottom], axis=0).ravel()


def describe(bits: int, F: RF, sub_in: str = "ieee") -> str:
    v = decode(int(bits), F, sub_in)
    if v.kind != "fin":
        return f"{int(bits):#x}({'-' if v.sign else '+'}{v.kind})"
    return f"{int(bits):#x}({'-' if v.sign else '+'}{v.mag})"


def assert_bits(
    got, exp, F: RF, *inputs, names=("a", "b", "c"), in_fmts=None, limit: int = 8, what: str = ""
):
    """got == exp bit for bit, except that any NaN of F is accepted where exp is NaN.
    On failure, lists the first mismatches with their inputs (hex and exact values)."""
    F = ref_fmt(F)
    got = np.asarray(got, dtype=np.uint64).ravel()
    exp = np.asarray(exp, dtype=np.uint64).ravel()
    assert got.shape == exp.shape, (got.shape, exp.shape)
    exp_nan = nan_mask(exp, F)
    bad = np.where(exp_nan, ~nan_mask(got, F), got != exp)
    if bad.any():
        idx = np.flatnonzero(bad)
        lines = [
            f"{what}: {idx.size} of {got.size} results differ "
            f"(format E{F.e}M{F.m} b{F.bias} {F.specials})"
        ]
        for i in idx[:limit]:
            ins = []
            for k, arr in enumerate(inputs):
                arr = np.asarray(arr).ravel()
                fmt_k = in_fmts[k] if in_fmts else None
                val = int(arr[i]) if arr.dtype.kind in "ui" else arr[i]
                ins.append(f"{names[k]}={describe(val, fmt_k) if fmt_k is not None else val}")
            lines.append(
                f"  {' '.join(ins)}: expected {describe(exp[i], F)} got {describe(got[i], F)}"
            )
        raise AssertionError("\n".join(lines))


def add_bits(
    acc_bits, x_bits, accF: RF, xF: RF, mode: str = "rne", sub_out: str = "ieee", u=None, r: int = 0
) -> np.ndarray:
    """Reference adder on arrays: round_accF(acc + x), both operands' subnormals read as IEEE;
    `u` (array) holds the stochastic-rounding bits of each addition."""
    acc_bits = np.asarray(acc_bits, dtype=np.uint64).ravel()
    x_bits = np.asarray(x_bits, dtype=np.uint64).ravel()
    us = [None] * acc_bits.size if u is None else np.asarray(u).ravel().tolist()
    out = np.empty(acc_bits.shape, np.uint64)
    for n, (a, x, un) in enumerate(zip(acc_bits.tolist(), x_bits.tolist(), us)):
        s = ref_add(decode_c(a, accF, "ieee"), decode_c(x, xF, "ieee"), accF.has_nan)
        out[n] = encode_c(
            s, accF, mode, sub_out, u=un if mode == "sr" else None, r=r if mode == "sr" else 0
        )
    return out


def accumulate_ref(
    xs,
    accF: RF,
    xF: RF,
    mode: str = "rne",
    sub_out: str = "ieee",
    *,
    valid=None,
    clear=None,
    sr_bits: int = 8,
    sr_seed: int = 1,
) -> list:
    """One accumulator lane (SPEC §3/§6): state +0; per step, `clear` resets the state to +0
    before the step's input; a valid input x gives acc <- round(acc + x). With sr the unit's
    xorshift32 steps once per valid input (it is not reset by clear). Returns the state after
    every step (bit patterns)."""
    steps = len(xs)
    valid = [True] * steps if valid is None else list(valid)
    clear = [False] * steps if clear is None else list(clear)
    gen = XorShift32(sr_seed, sr_bits) if mode == "sr" else None
    acc = 0
    hist = []
    for t in range(steps):
        if clear[t]:
            acc = 0
        if valid[t]:
            s = ref_add(decode_c(acc, accF, "ieee"), decode_c(int(xs[t]), xF, "ieee"), accF.has_nan)
            if gen is not None:
                acc = encode_c(s, accF, "sr", sub_out, u=gen.next_u(), r=sr_bits)
            else:
                acc = encode_c(s, accF, mode, sub_out)
        hist.append(acc)
    return hist


# --------------------------------------------------------------------------- test data
def corner_values(F: RF, fields, fracs) -> np.ndarray:
    """Bit patterns with the given exponent fields and fractions, both signs."""
    out = set()
    for f in fields:
        if not 0 <= f < (1 << F.e):
            continue
        for fr in fracs:
            fr %= 1 << F.m
            for s in (0, 1):
                out.add((s << (F.e + F.m)) | (f << F.m) | fr)
    return np.array(sorted(out), dtype=np.uint64)


def cross(values):
    v = np.asarray(values, dtype=np.uint64)
    return np.repeat(v, v.size), np.tile(v, v.size)


def random_patterns(rng, F: RF, n: int, centre_spread: int | None = None, low_zero_bits: int = 0):
    """Random bit patterns: uniform, or with the exponent field near the bias (products stay
    in range) and/or fractions whose low bits are zero (many exact results and ties)."""
    sign = rng.integers(0, 2, n, dtype=np.int64)
    if centre_spread is None:
        field = rng.integers(0, 1 << F.e, n, dtype=np.int64)
    else:
        field = np.clip(
            F.bias + rng.integers(-centre_spread, centre_spread + 1, n), 0, (1 << F.e) - 1
        )
    frac = rng.integers(0, 1 << F.m, n, dtype=np.int64)
    frac = (frac >> low_zero_bits) << low_zero_bits
    return ((sign << (F.e + F.m)) | (field << F.m) | frac).astype(np.uint64)


def add_table(
    F: RF, mode: str = "rne", sub_out: str = "ieee", u: int | None = None, r: int = 0
) -> np.ndarray:
    """All 2^w x 2^w sums round_F(a + b) of a small format (index a * 2^w + b), one fixed
    `u` for sr. Every finite value of F is an integer multiple of Q = 2^(emin-m), so the
    exact sums are integer additions; each distinct nonzero sum is encoded once. Specials
    and zero sums go through ref_add (NaN, inf - inf, the signed-zero rules)."""
    n = 1 << F.width
    vals = [decode(b, F) for b in range(n)]
    Q = pow2(F.emin - F.m)
    ints = []
    for v in vals:
        if v.kind == "fin":
            k = v.value() / Q
            assert k.denominator == 1
            ints.append(int(k))
        else:
            ints.append(None)
    cache = {}
    out = []
    sbit = 1 << (F.e + F.m)
    for a, ia in zip(vals, ints):
        for b, ib in zip(vals, ints):
            if ia is None or ib is None or ia + ib == 0:
                out.append(encode(ref_add(a, b, F.has_nan), F, mode, sub_out, u=u, r=r))
                continue
            s = ia + ib
            res = cache.get(abs(s))  # encode(-v) = encode(v) with the sign bit (SPEC §1)
            if res is None:
                res = cache[abs(s)] = encode(fin(0, abs(s) * Q), F, mode, sub_out, u=u, r=r)
            out.append(res | sbit if s < 0 else res)
    return np.array(out, dtype=np.uint64)
