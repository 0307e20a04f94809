"""Adders and accumulators (SPEC §3) and the full MAC.

`fp_add` is one correctly rounded step acc <- round_A(acc + x). The exact sum is formed in
int64 after aligning both operands; when their leading bits are >= 2 binades apart, the
smaller operand's bits far below the rounding point are folded into a sticky bit. That is
exact for every mode: the sum keeps at least max(2, r) bits below the rounding point, so the
sticky bit can only decide ties and never changes floor(phi * 2^r)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lpmac.config import AccConfig, MacConfig
from lpmac.formats import FixedFormat, FloatFormat

from .bitops import U64, bit_length, chunked, from_signed, low_mask, shl, shr, to_signed
from .convert import to_fixed
from .fpmul import fp_mul
from .raw import unpack
from .rounding import round_pack
from .xorshift import xorshift32


def fp_add(acc_bits, x_bits, cfg: AccConfig, x_fmt: FloatFormat | None = None, u=None) -> np.ndarray:
    """One accumulator step: round(acc + x) into cfg.fmt with cfg.rounding and cfg.sub_out.

    `x_fmt` is the input's format (default: the accumulator's); both operands' subnormals
    read as IEEE. For stochastic rounding `u` holds the random bits (top cfg.sr_bits of the
    unit's xorshift32 state) of this step."""
    x_fmt = cfg.fmt if x_fmt is None else x_fmt
    if cfg.rounding == "sr":
        if u is None:
            raise ValueError("fp_add with stochastic rounding needs the random bits u")
        return chunked(_fp_add_sr, (acc_bits, x_bits, u), cfg, x_fmt)
    return chunked(_fp_add, (acc_bits, x_bits), cfg, x_fmt)


def _fp_add_sr(acc_bits, x_bits, u, cfg, x_fmt):
    return _fp_add(acc_bits, x_bits, cfg, x_fmt, u)


def _fp_add(acc_bits, x_bits, cfg: AccConfig, x_fmt: FloatFormat, u=None) -> np.ndarray:
    fmt = cfg.fmt
    a = unpack(acc_bits, fmt)
    x = unpack(x_bits, x_fmt)
    a_sig, a_exp, a_sign, x_sig, x_exp, x_sign = np.broadcast_arrays(a.sig, a.exp, a.sign, x.sig, x.exp, x.sign)

    nan = a.nan | x.nan | (a.inf & x.inf & (a.sign != x.sign))
    inf = ~nan & (a.inf | x.inf)
    inf_sign = np.where(a.inf, a.sign, x.sign)
    both_zero = a.zero & x.zero

    # A zero operand takes the other's exponent so that alignment never shifts a real value.
    a_exp = np.where(a.zero, x_exp, a_exp)
    x_exp = np.where(x.zero, a_exp, x_exp)
    a_top = a_exp + bit_length(a_sig)
    x_top = x_exp + bit_length(x_sig)
    a_big = a_top >= x_top
    big_sig, big_exp, big_top, big_sign = (np.where(a_big, p, q) for p, q in
                                           ((a_sig, x_sig), (a_exp, x_exp), (a_top, x_top), (a_sign, x_sign)))
    small_sig, small_exp, small_sign = (np.where(a_big, q, p) for p, q in
                                        ((a_sig, x_sig), (a_exp, x_exp), (a_sign, x_sign)))

    r_bits = cfg.sr_bits if cfg.rounding == "sr" else 0
    guard_bits = fmt.m + 1 + max(2, r_bits)        # precision + bits below the rounding point
    low = np.minimum(big_exp, small_exp)
    small_top = np.where(a_big, x_top, a_top)
    far_apart = big_top - small_top >= 2         # then |sum| >= 2^(big_top-2): little cancellation
    lsb = np.where(far_apart, np.maximum(low, np.minimum(big_exp, big_top - 1 - guard_bits)), low)

    big_al = shl(big_sig, big_exp - lsb)
    drop = np.maximum(lsb - small_exp, 0)
    small_al = np.where(drop > 0, shr(small_sig, drop), shl(small_sig, np.maximum(small_exp - lsb, 0)))
    sticky = (small_sig & low_mask(drop)) != 0

    sub = big_sign != small_sign
    big_i, small_i = big_al.astype(np.int64), small_al.astype(np.int64)
    total = np.where(sub, big_i - small_i - sticky, big_i + small_i)
    sign = np.where(total < 0, ~big_sign, big_sign)
    mag = np.abs(total).astype(np.uint64)

    exact_zero = (mag == 0) & ~sticky
    zero_sign = both_zero & a.sign & x.sign          # -0 + -0 = -0, every other exact zero is +0
    sign = np.where(exact_zero, zero_sign, sign)
    sign = np.where(inf, inf_sign, np.where(nan, False, sign))
    return round_pack(sign, mag, lsb, fmt, cfg.rounding, cfg.sub_out, sticky=sticky,
                      zero=exact_zero, inf=inf, nan=nan, u=u, r=r_bits)


def fixed_add(acc_bits, x_bits, fmt: FixedFormat) -> np.ndarray:
    """Saturating Qi.f addition (SPEC §3)."""
    total = to_signed(acc_bits, fmt.width) + to_signed(x_bits, fmt.width)
    return from_signed(np.clip(total, fmt.min_int, fmt.max_int), fmt.width)


def accumulate(xs, cfg: AccConfig, x_fmt: FloatFormat | None = None, *, valid=None, clear=None,
               history: bool = False) -> np.ndarray:
    """Fold `xs` along axis 0 exactly as the hardware accumulator does, from +0.

    Other axes are independent lanes (one accumulator each, all with the same seed).
    Optional per-step `valid` (a step with valid=0 leaves the state alone) and `clear`
    (the state becomes +0 before this step's input is added). The xorshift32 generator
    steps once per valid input and is not reset by `clear`. Returns the final state, or
    with `history=True` the state after every step (shape of xs)."""
    xs = np.asarray(xs, dtype=np.uint64)
    steps = xs.shape[0]
    valid = np.ones(xs.shape, bool) if valid is None else np.broadcast_to(np.asarray(valid, bool), xs.shape)
    clear = np.zeros(xs.shape, bool) if clear is None else np.broadcast_to(np.asarray(clear, bool), xs.shape)
    acc = np.zeros(xs.shape[1:], dtype=np.uint64)
    out = np.empty_like(xs) if history else None
    sr = not cfg.is_fixed and cfg.rounding == "sr"
    if sr:
        state = np.full(xs.shape[1:], cfg.sr_seed, dtype=np.uint32)
    for t in range(steps):
        acc = np.where(clear[t], U64(0), acc)
        if cfg.is_fixed:
            new = fixed_add(acc, xs[t], cfg.fmt)
        else:
            u = None
            if sr:
                stepped = xorshift32(state)
                u = (stepped >> np.uint32(32 - cfg.sr_bits)).astype(np.uint64)
                state = np.where(valid[t], stepped, state)
            new = fp_add(acc, xs[t], cfg, x_fmt, u)
        acc = np.where(valid[t], new, acc)
        if history:
            out[t] = acc
    return out if history else acc


class MacResult(NamedTuple):
    acc: np.ndarray       # accumulator bit patterns
    invalid: np.ndarray   # sticky float->fixed invalid flag (always False for a float accumulator)


def mac(as_, bs, cfg: MacConfig, *, valid=None, clear=None, history: bool = False) -> MacResult:
    """acc <- acc + a*b along axis 0: multiplier, float->fixed converter if the accumulator
    is fixed (rounding cfg.acc.rounding), accumulator."""
    prods = fp_mul(as_, bs, cfg.mul)
    if cfg.acc.is_fixed:
        xs, bad = to_fixed(prods, cfg.mul.out_format, cfg.acc.fmt, cfg.acc.rounding)
        steps = np.ones(bad.shape, bool) if valid is None else np.broadcast_to(np.asarray(valid, bool), bad.shape)
        resets = np.zeros(bad.shape, bool) if clear is None else np.broadcast_to(np.asarray(clear, bool), bad.shape)
        invalid = _sticky_flag(bad & steps, resets, history)
        return MacResult(accumulate(xs, cfg.acc, valid=valid, clear=clear, history=history), invalid)
    acc = accumulate(prods, cfg.acc, cfg.mul.out_format, valid=valid, clear=clear, history=history)
    return MacResult(acc, np.zeros(acc.shape, bool))


def _sticky_flag(events, clears, history: bool):
    """A flag set by `events` and held until the next clear (which acts before the event)."""
    flag = np.zeros(events.shape[1:], bool)
    out = np.empty(events.shape, bool)
    for t in range(events.shape[0]):
        flag = (flag & ~clears[t]) | events[t]
        out[t] = flag
    return out if history else flag
