"""Adders and accumulators (SPEC §3) and the full MAC.

`fp_add` is one correctly rounded step acc <- round_A(acc + x), the classic adder datapath
that hdl/fpadd.py's FpAdd builds: both significands on S = max(m_a, m_x) + 1 bits, the
operands ordered by magnitude, the smaller one shifted right to the bigger one's LSB minus
G guard bits (the bits it loses fold into a sticky bit), added or subtracted (never
negative), one round_pack. That is exact for every mode: after at most a one-bit
cancellation the rounding point still lies max(1, r) bits above the window's LSB, so the
sticky bit only ever decides ties and never changes floor(phi * 2^r); when the exponents
differ by at most one nothing is shifted out at all."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lpmac.adder import add_window
from lpmac.config import AccConfig, MacConfig
from lpmac.errors import ConfigError
from lpmac.formats import FixedFormat, FloatFormat

from .accum_long import accumulate_long, per_step
from .bitops import U64, bit_length, chunked, from_signed, low_mask, shl, shr, to_signed
from .convert import to_fixed
from .fpmul import fp_mul
from .raw import unpack
from .rounding import round_pack
from .xorshift import xorshift32


def fp_add(
    acc_bits, x_bits, cfg: AccConfig, x_fmt: FloatFormat | None = None, u=None
) -> np.ndarray:
    """One accumulator step: round(acc + x) into cfg.fmt with cfg.rounding and cfg.sub_out.

    `x_fmt` is the input's format (default: the accumulator's); both operands' subnormals
    read as IEEE. For stochastic rounding `u` holds the random bits (top cfg.sr_bits of the
    unit's xorshift32 state) of this step."""
    x_fmt = cfg.fmt if x_fmt is None else x_fmt
    if cfg.is_long:
        raise ConfigError(
            f"fp_add: {cfg} is a long accumulator, rounded once when read, not per step; "
            "use accumulate"
        )
    if cfg.rounding == "sr":
        if u is None:
            raise ConfigError("fp_add with stochastic rounding needs the random bits u")
        return chunked(_fp_add_sr, (acc_bits, x_bits, u), cfg, x_fmt)
    return chunked(_fp_add, (acc_bits, x_bits), cfg, x_fmt)


def _fp_add_sr(acc_bits, x_bits, u, cfg, x_fmt):
    return _fp_add(acc_bits, x_bits, cfg, x_fmt, u)


ZERO_EXP = int(np.iinfo(np.int64).min) // 2  # LSB weight of a zero operand: below all others


def _fp_add(acc_bits, x_bits, cfg: AccConfig, x_fmt: FloatFormat, u=None) -> np.ndarray:
    fmt = cfg.fmt
    r_bits = cfg.sr_bits if cfg.rounding == "sr" else 0
    S, G = add_window(fmt.m, x_fmt.m, r_bits)
    a = unpack(acc_bits, fmt)
    x = unpack(x_bits, x_fmt)
    nan = a.nan | x.nan | (a.inf & x.inf & (a.sign != x.sign))
    inf = ~nan & (a.inf | x.inf)
    inf_sign = np.where(a.inf, a.sign, x.sign)

    def operand(raw, f: FloatFormat):
        """Normalised S-bit significand (leading one at S-1) and its LSB weight; zeros lowest."""
        lz = np.where(raw.zero, 0, S - bit_length(raw.sig))
        e = np.where(raw.zero, ZERO_EXP, raw.exp - lz)
        return shl(raw.sig, lz), e

    a_sig, a_e = operand(a, fmt)
    x_sig, x_e = operand(x, x_fmt)
    a_sig, a_e, x_sig, x_e, a_sign, x_sign = np.broadcast_arrays(
        a_sig, a_e, x_sig, x_e, a.sign, x.sign
    )
    a_big = (a_e > x_e) | ((a_e == x_e) & (a_sig >= x_sig))  # |acc| >= |x|
    big_sig, big_e, big_sign = (
        np.where(a_big, p, q) for p, q in ((a_sig, x_sig), (a_e, x_e), (a_sign, x_sign))
    )
    small_sig, small_e, small_sign = (
        np.where(a_big, q, p) for p, q in ((a_sig, x_sig), (a_e, x_e), (a_sign, x_sign))
    )

    # Align the smaller operand to the bigger one's LSB, G bits further down.
    d = np.minimum(big_e - small_e, S + G + 1)  # a zero operand (huge d) shifts out entirely
    small_w = shl(small_sig, G)
    small_al, sticky = shr(small_w, d), (small_w & low_mask(d)) != 0
    big_al = shl(big_sig, G)
    sub = big_sign != small_sign
    with np.errstate(over="ignore"):  # NumPy scalars warn for the branch np.where drops
        mag = np.where(sub, big_al - small_al - sticky.astype(np.uint64), big_al + small_al)
    lsb = np.where(big_sig == 0, 0, big_e - G)  # both zero: any exponent

    exact_zero = (mag == 0) & ~sticky
    zero_sign = a.zero & x.zero & a.sign & x.sign  # -0 + -0 = -0, every other exact zero is +0
    sign = np.where(exact_zero, zero_sign, big_sign)
    sign = np.where(inf, inf_sign, np.where(nan, False, sign))
    return round_pack(
        sign,
        mag,
        lsb,
        fmt,
        cfg.rounding,
        cfg.sub_out,
        sticky=sticky,
        zero=exact_zero,
        inf=inf,
        nan=nan,
        u=u,
        r=r_bits,
    )


def fixed_add(acc_bits, x_bits, fmt: FixedFormat) -> np.ndarray:
    """Saturating Qi.f addition (SPEC §3)."""
    total = to_signed(acc_bits, fmt.width) + to_signed(x_bits, fmt.width)
    return from_signed(np.clip(total, fmt.min_int, fmt.max_int), fmt.width)


def accumulate(
    xs,
    cfg: AccConfig,
    x_fmt: FloatFormat | None = None,
    *,
    valid=None,
    clear=None,
    history: bool = False,
) -> np.ndarray:
    """Fold `xs` along axis 0 exactly as the hardware accumulator does, from +0.

    Other axes are independent lanes (one accumulator each, all with the same seed).
    Optional per-step `valid` (a step with valid=0 leaves the state alone) and `clear`
    (the state becomes +0 before this step's input is added). The xorshift32 generator
    steps once per valid input and is not reset by `clear`. Returns the final state, or
    with `history=True` the state after every step (shape of xs). A long cfg (`E6M5:long`)
    runs golden/accum_long.py: its state is the exact sum, read out rounded once."""
    if not cfg.is_fixed and cfg.is_long:
        return accumulate_long(xs, cfg, x_fmt, valid=valid, clear=clear, history=history)
    xs = np.asarray(xs, dtype=np.uint64)
    steps = xs.shape[0]
    valid, clear = per_step(valid, True, xs.shape), per_step(clear, False, xs.shape)
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
    acc: np.ndarray  # accumulator bit patterns
    invalid: np.ndarray  # sticky float->fixed invalid flag (always False for a float accumulator)


def mac(as_, bs, cfg: MacConfig, *, valid=None, clear=None, history: bool = False) -> MacResult:
    """acc <- acc + a*b along axis 0: multiplier, float->fixed converter if the accumulator
    is fixed (rounding cfg.acc.rounding), accumulator."""
    prods = fp_mul(as_, bs, cfg.mul)
    if cfg.acc.is_fixed:
        xs, bad = to_fixed(prods, cfg.mul.out_format, cfg.acc.fmt, cfg.acc.rounding)
        steps, resets = per_step(valid, True, bad.shape), per_step(clear, False, bad.shape)
        invalid = _sticky_flag(bad & steps, resets, history)
        return MacResult(
            accumulate(xs, cfg.acc, valid=valid, clear=clear, history=history), invalid
        )
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
