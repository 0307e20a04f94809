"""The public golden functions of the arithmetic units: each validates its inputs once
(golden/validate.py) and calls the implementation, which trusts them.

The implementation modules (fpmul, accum, ...) call one another directly, so no hot loop
re-validates what the model made itself. `lpmac.golden` exports these wrappers; see
docs/reliability.md for what each kind of bad input gives.
"""

from __future__ import annotations

import functools

import numpy as np

from lpmac.config import FIXED_ROUND, AccConfig, MacConfig, MulConfig
from lpmac.errors import BitsError, ConfigError

from . import accum, fpmul
from .validate import (
    FIXED,
    FLOAT,
    Width,
    check_bits,
    check_bool,
    check_broadcast,
    check_choice,
    check_config,
    check_fits,
    check_flags,
    check_format,
)

__all__ = ["fp_mul", "fixed_mul", "fp_add", "fixed_add", "accumulate", "mac"]


def public(impl):
    """Give a validating wrapper the implementation's name and docstring."""

    def decorate(wrapper):
        module = wrapper.__module__
        wrapper = functools.wraps(impl)(wrapper)
        del wrapper.__wrapped__  # the signature shown is the wrapper's own
        wrapper.__module__ = module  # where the validation lives
        return wrapper

    return decorate


@public(fpmul.fp_mul)
def fp_mul(a_bits, b_bits, cfg: MulConfig) -> np.ndarray:
    cfg = check_config("cfg", cfg, MulConfig, func="fp_mul")
    a = check_bits("a_bits", a_bits, cfg.in_format, func="fp_mul")
    b = check_bits("b_bits", b_bits, cfg.in_format, func="fp_mul")
    check_broadcast("fp_mul", a_bits=a, b_bits=b)
    return fpmul.fp_mul(a, b, cfg)


@public(fpmul.fixed_mul)
def fixed_mul(a_bits, b_bits, fmt, rounding: str = "rne") -> np.ndarray:
    fmt = check_format("fmt", fmt, FIXED, func="fixed_mul")
    check_choice("rounding", rounding, FIXED_ROUND, func="fixed_mul")
    a = check_bits("a_bits", a_bits, fmt, func="fixed_mul")
    b = check_bits("b_bits", b_bits, fmt, func="fixed_mul")
    check_broadcast("fixed_mul", a_bits=a, b_bits=b)
    return fpmul.fixed_mul(a, b, fmt, rounding)


def _float_acc(cfg, func: str) -> AccConfig:
    cfg = check_config("cfg", cfg, AccConfig, func=func)
    if cfg.is_fixed:
        raise ConfigError(f"{func}: cfg {cfg} is a fixed-point accumulator; use fixed_add")
    return cfg


def _x_format(x_fmt, cfg: AccConfig, func: str):
    if x_fmt is None:
        return cfg.fmt
    if cfg.is_fixed:
        raise ConfigError(
            f"{func}: x_fmt applies to a float accumulator; {cfg} adds Qi.f inputs, pass None"
        )
    return check_format("x_fmt", x_fmt, FLOAT, func=func)


def _random_u(u, cfg: AccConfig, func: str):
    """The random bits of a stochastic-rounding step: required with sr, refused without."""
    if cfg.rounding != "sr":
        if u is not None:
            raise ConfigError(f"{func}: u is only used with stochastic rounding, cfg is {cfg}")
        return None
    if u is None:
        raise ConfigError(
            f"{func}: {cfg} rounds stochastically and needs the random bits u "
            f"(the top {cfg.sr_bits} bits of each xorshift32 step; see random_bits)"
        )
    return check_bits("u", u, Width(cfg.sr_bits, f"{cfg.sr_bits}-bit random values"), func=func)


@public(accum.fp_add)
def fp_add(acc_bits, x_bits, cfg: AccConfig, x_fmt=None, u=None) -> np.ndarray:
    cfg = _float_acc(cfg, "fp_add")
    x_fmt = _x_format(x_fmt, cfg, "fp_add")
    acc = check_bits("acc_bits", acc_bits, cfg.fmt, func="fp_add")
    x = check_bits("x_bits", x_bits, x_fmt, func="fp_add")
    u = _random_u(u, cfg, "fp_add")
    shapes = {"acc_bits": acc, "x_bits": x} | ({} if u is None else {"u": u})
    check_broadcast("fp_add", **shapes)
    return accum.fp_add(acc, x, cfg, x_fmt, u)


@public(accum.fixed_add)
def fixed_add(acc_bits, x_bits, fmt) -> np.ndarray:
    fmt = check_format("fmt", fmt, FIXED, func="fixed_add")
    acc = check_bits("acc_bits", acc_bits, fmt, func="fixed_add")
    x = check_bits("x_bits", x_bits, fmt, func="fixed_add")
    check_broadcast("fixed_add", acc_bits=acc, x_bits=x)
    return accum.fixed_add(acc, x, fmt)


def _controls(shape: tuple, valid, clear, history, func: str) -> tuple:
    """valid / clear flags broadcastable to the steps x lanes shape; history a bool."""
    check_bool("history", history, func=func)
    out = []
    for name, flags in (("valid", valid), ("clear", clear)):
        if flags is not None:
            flags = check_flags(name, flags, func=func)
            check_fits(func, name, flags, shape, "the inputs' shape (steps on axis 0)")
        out.append(flags)
    return tuple(out)


def _steps_axis(shape: tuple, func: str, what: str) -> None:
    if len(shape) < 1:
        raise BitsError(f"{func}: {what} needs a steps axis (axis 0), got a scalar")


@public(accum.accumulate)
def accumulate(xs, cfg: AccConfig, x_fmt=None, *, valid=None, clear=None, history=False):
    cfg = check_config("cfg", cfg, AccConfig, func="accumulate")
    x_fmt = _x_format(x_fmt, cfg, "accumulate")
    xs = check_bits("xs", xs, x_fmt, func="accumulate")
    _steps_axis(xs.shape, "accumulate", "xs")
    valid, clear = _controls(xs.shape, valid, clear, history, "accumulate")
    if cfg.is_fixed:
        x_fmt = None
    return accum.accumulate(xs, cfg, x_fmt, valid=valid, clear=clear, history=history)


@public(accum.mac)
def mac(as_, bs, cfg: MacConfig, *, valid=None, clear=None, history=False) -> accum.MacResult:
    cfg = check_config("cfg", cfg, MacConfig, func="mac")
    a = check_bits("as_", as_, cfg.mul.in_format, func="mac")
    b = check_bits("bs", bs, cfg.mul.in_format, func="mac")
    shape = check_broadcast("mac", as_=a, bs=b)
    _steps_axis(shape, "mac", "as_ and bs")
    valid, clear = _controls(shape, valid, clear, history, "mac")
    return accum.mac(a, b, cfg, valid=valid, clear=clear, history=history)
