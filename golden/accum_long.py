"""The long accumulator (`E6M5:long`, docs/semantics.md "Long accumulator").

The state is the exact sum of the inputs as a two's-complement integer R, in units of
q = 2^(emin_x - m_x), the LSB of every finite input of format x_fmt, on `LongPlan.width`
bits (lpmac/long_acc.py): the largest finite input plus KMAX_LOG2 guard bits plus a
sign. Beside it sit sticky flags: NaN, +inf, -inf and register overflow (with the sign
of the step that overflowed).
The accumulator's value is read out by ONE rne `round_pack` into cfg.fmt (cfg.sub_out):
so the result of K <= 2^KMAX_LOG2 inputs is their exact sum rounded once.

Lanes hold Python integers (object arrays): the register is wider than 64 bits for most
formats (E6M5 inputs: 84 bits)."""

from __future__ import annotations

import numpy as np

from lpmac.config import AccConfig
from lpmac.formats import FloatFormat
from lpmac.long_acc import KMAX_LOG2, LongPlan

from .raw import unpack
from .rounding import round_pack, special_bits

__all__ = ["KMAX_LOG2", "LongPlan", "accumulate_long", "per_step", "read_out"]

READ_BITS = 62  # read-out keeps this many leading bits of |R| (+ sticky) for round_pack


def per_step(flags, default: bool, shape) -> np.ndarray:
    """A per-step `valid`/`clear` argument as a bool array of `shape` (None: `default`)."""
    return np.broadcast_to(np.asarray(default if flags is None else flags, bool), shape)


def _register_terms(x_bits, x_fmt: FloatFormat, plan: LongPlan):
    """Each input as a signed Python int in register units, and its class flags."""
    raw = unpack(np.asarray(x_bits, dtype=np.uint64), x_fmt)
    shift = (raw.exp - plan.lsb_exp).astype(object)  # >= 0 for every finite input
    sig = raw.sig.astype(object)
    mag = np.vectorize(lambda s, k: int(s) << int(k), otypes=[object])(sig, shift)
    term = np.where(raw.sign, -mag, mag)
    return term, raw.nan, raw.inf & ~raw.sign, raw.inf & raw.sign


def read_out(reg, nan, pos_inf, neg_inf, ovf, ovf_neg, cfg: AccConfig, plan: LongPlan):
    """Round the register (object array of ints) and flags once into cfg.fmt (rne)."""
    reg = np.asarray(reg, dtype=object)
    mag = np.abs(reg)
    length = np.vectorize(lambda v: int(v).bit_length(), otypes=[np.int64])(mag)
    drop = np.maximum(length - READ_BITS, 0)
    sig = np.vectorize(lambda v, d: int(v) >> int(d), otypes=[np.uint64])(mag, drop)
    sticky = np.vectorize(lambda v, d: int(v) & ((1 << int(d)) - 1) != 0, otypes=[bool])(mag, drop)
    negative = np.vectorize(lambda v: int(v) < 0, otypes=[bool])(reg)
    nan = np.asarray(nan, bool) | (pos_inf & neg_inf)
    inf = ~nan & (pos_inf | neg_inf)
    sign = np.where(nan, False, np.where(inf, neg_inf, negative))  # NaN as fp_add: +
    out = round_pack(
        sign,
        sig,
        plan.lsb_exp + drop,
        cfg.fmt,
        "rne",
        cfg.sub_out,
        sticky=sticky,
        zero=length == 0,
        inf=inf,
        nan=nan,
    )
    overflow = ~nan & ~inf & np.asarray(ovf, bool)
    return np.where(overflow, special_bits(cfg.fmt, ovf_neg, "inf"), out)


def accumulate_long(
    xs,
    cfg: AccConfig,
    x_fmt: FloatFormat | None = None,
    *,
    valid=None,
    clear=None,
    history: bool = False,
) -> np.ndarray:
    """golden `accumulate` for a long cfg: same arguments, shapes and valid/clear rules;
    the value (final or after every step with `history`) is the register read out."""
    x_fmt = cfg.fmt if x_fmt is None else x_fmt
    plan = LongPlan.of(x_fmt)
    xs = np.asarray(xs, dtype=np.uint64)
    valid, clear = per_step(valid, True, xs.shape), per_step(clear, False, xs.shape)
    terms, x_nan, x_pos, x_neg = _register_terms(xs, x_fmt, plan)
    lanes = xs.shape[1:]
    reg = np.zeros(lanes, dtype=object)
    flags = {k: np.zeros(lanes, bool) for k in ("nan", "pos", "neg", "ovf", "ovf_neg")}
    out = np.empty_like(xs) if history else None
    for t in range(xs.shape[0]):
        keep = ~clear[t]
        reg = np.where(keep, reg, 0)
        for k in flags:
            flags[k] = flags[k] & keep
        step = valid[t]
        total = reg + terms[t] * step.astype(object)  # object: ints wider than 64 bits
        wrapped = (total >= plan.limit) | (total < -plan.limit)
        new_ovf = wrapped & ~flags["ovf"]
        flags["ovf_neg"] = np.where(new_ovf, total < 0, flags["ovf_neg"])
        flags["ovf"] = flags["ovf"] | wrapped
        reg = np.where(wrapped, reg, total)  # an overflowing step leaves the register alone
        flags["nan"] = flags["nan"] | (step & x_nan[t])
        flags["pos"] = flags["pos"] | (step & x_pos[t])
        flags["neg"] = flags["neg"] | (step & x_neg[t])
        if history:
            out[t] = _read(reg, flags, cfg, plan)
    return out if history else _read(reg, flags, cfg, plan)


def _read(reg, flags: dict, cfg: AccConfig, plan: LongPlan) -> np.ndarray:
    return read_out(
        reg, flags["nan"], flags["pos"], flags["neg"], flags["ovf"], flags["ovf_neg"], cfg, plan
    )
