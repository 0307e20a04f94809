"""Validation of the golden model's public inputs, once, at the boundary.

Every public golden function takes bit patterns: a Python int or an array of an integer
dtype, each value within [0, 2^width) of its format. Anything else is refused with a
one-line message naming the function, the argument, its format, the valid range and the fix:
floats, bools, strings and objects raise `BitsTypeError` (a TypeError), negative or too-wide
integers `BitsError` (a ValueError). Nothing is truncated or masked silently. Internal calls
skip these checks (they pass arrays the model made itself).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lpmac.config import AccConfig, GemmConfig, MacConfig, MulConfig
from lpmac.errors import BitsError, BitsTypeError, ConfigError, FormatError, LimitError
from lpmac.formats import BfpFormat, FixedFormat, FloatFormat

__all__ = [
    "MAX_ELEMENTS",
    "Width",
    "check_flags",
    "check_seeds",
    "check_broadcast",
    "check_bool",
    "check_ints",
    "check_fits",
    "check_bits",
    "check_config",
    "check_format",
    "check_choice",
    "check_int",
    "check_elements",
    "check_reals",
]

# Largest array a golden call builds (outputs and tables): 2^28 uint64 values are 2 GiB.
MAX_ELEMENTS = 1 << 28

_FIX = "use lpmac.golden.from_float(x, fmt) to encode real numbers"


class Width(NamedTuple):
    """A plain unsigned field of `width` bits (a xorshift32 state, random bits u, a magnitude)
    standing in for a number format in check_bits' range check and message."""

    width: int
    label: str

    def __str__(self) -> str:
        return self.label


def _describe(value) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def check_bits(name: str, value, fmt, *, func: str) -> np.ndarray:
    """`value` as a uint64 array (0-d for a scalar) of `fmt` bit patterns, or a one-line
    BitsTypeError / BitsError naming `func`, the argument `name`, its format and the fix."""
    width = fmt.width
    top = (1 << width) - 1
    what = f"{func}: {name} must be integer bit patterns of {fmt} (0..{top})"
    if isinstance(fmt, Width):
        what = f"{func}: {name} must be integer {fmt} in 0..{top}"
    if isinstance(value, (bool, np.bool_)):
        raise BitsTypeError(f"{what}, got bool {value!r}; pass the int {int(value)}")
    if isinstance(value, int):  # a Python int may be wider than any NumPy integer
        if not 0 <= value <= top:
            raise BitsError(f"{what}, got {_describe(value)}; {_range_fix(value, fmt)}")
        return np.asarray(value, dtype=np.uint64)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):  # ragged nested lists, unconvertible objects
        got = type(value).__name__
        raise BitsTypeError(f"{what}, got a {got} that is not a rectangular array") from None
    kind = arr.dtype.kind
    if arr.size == 0 and isinstance(value, (list, tuple)):
        return arr.astype(np.uint64)  # NumPy reads [] as float64
    if kind == "O" and arr.ndim:
        arr = _object_ints(arr, what, fmt)
        kind = arr.dtype.kind
    if kind not in "iu":
        got = "bool" if kind == "b" else str(arr.dtype)
        if not isinstance(value, (np.ndarray, np.generic, list, tuple)):
            got = f"{type(value).__name__} {_describe(value)}"
        fix = _fix(fmt) if kind in "fc" else "pass integer bit patterns"
        raise BitsTypeError(f"{what}, got {got}; {fix}")
    # One pass over the data at most: unsigned values only need their maximum, and not even
    # that when the dtype is no wider than the format (uint8 patterns of E4M3).
    if arr.size and (kind == "i" or arr.dtype.itemsize * 8 > width):
        low = int(arr.min()) if kind == "i" else 0
        bad = low if low < 0 else int(arr.max())
        if bad < 0 or bad > top:
            raise BitsError(f"{what}, got {bad}; {_range_fix(bad, fmt)}")
    return arr if arr.dtype == np.uint64 else arr.astype(np.uint64)


def _fix(fmt) -> str:
    if isinstance(fmt, Width):
        return f"pass integers in 0..{(1 << fmt.width) - 1}"
    return _FIX


def _range_fix(bad: int, fmt) -> str:
    if isinstance(fmt, Width):
        return _fix(fmt)
    if bad < 0:
        return f"two's complement patterns are x & {hex((1 << fmt.width) - 1)}, or {_FIX}"
    return f"the format has {fmt.width} bits; {_FIX}"


def _object_ints(arr: np.ndarray, what: str, fmt) -> np.ndarray:
    """An object array (e.g. a list with a Python int >= 2^63) holding only ints."""
    flat = arr.ravel().tolist()
    for item in flat:
        if isinstance(item, bool) or not isinstance(item, (int, np.integer)):
            raise BitsTypeError(f"{what}, got an element {_describe(item)}; {_fix(fmt)}")
        if not 0 <= int(item) < 1 << fmt.width:
            raise BitsError(f"{what}, got {_describe(item)}; {_range_fix(int(item), fmt)}")
    return np.array([int(x) for x in flat], dtype=np.uint64).reshape(arr.shape)


_CONFIG_HINTS = {
    MulConfig: "MulConfig.parse('E5M2:cfg5')",
    AccConfig: "AccConfig.parse('E6M5:rz')",
    MacConfig: "MacConfig.parse('E5M2:cfg5+E6M5')",
    GemmConfig: "GemmConfig.parse('BFP8/24')",
}


def check_config(name: str, value, cls: type, *, func: str):
    """`value` if it is a `cls` (MulConfig, AccConfig, ...), else a one-line ConfigError."""
    if not isinstance(value, cls):
        hint = _CONFIG_HINTS.get(cls, cls.__name__)
        if isinstance(value, str):  # the user's own string, parsed
            hint = f"{cls.__name__}.parse({_describe(value)})"
        raise ConfigError(
            f"{func}: {name} must be a {cls.__name__}, got {type(value).__name__} "
            f"{_describe(value)}; build one with lpmac.{hint}"
        )
    return value


def check_format(name: str, value, classes: tuple, *, func: str):
    """`value` if it is one of the format classes, else a one-line FormatError."""
    if not isinstance(value, classes):
        names = " or ".join(c.__name__ for c in classes)
        raise FormatError(
            f"{func}: {name} must be a {names}, got {type(value).__name__} {_describe(value)}; "
            "build one with lpmac.parse_format('E5M2')"
        )
    return value


FLOAT = (FloatFormat,)
FIXED = (FixedFormat,)
FLOAT_OR_FIXED = (FloatFormat, FixedFormat)
BFP = (BfpFormat,)


def check_choice(name: str, value, allowed: tuple, *, func: str) -> str:
    """`value` if it is one of the `allowed` strings, else a one-line ConfigError."""
    if not isinstance(value, str) or value not in allowed:
        raise ConfigError(
            f"{func}: {name} must be one of {', '.join(allowed)}, got {_describe(value)}"
        )
    return value


def check_int(name: str, value, lo: int, hi: int, *, func: str) -> int:
    """A Python or NumPy integer (not bool) in lo..hi, else ConfigError (TypeError-free)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        got = _describe(value)
        raise ConfigError(f"{func}: {name} must be an integer in {lo}..{hi}, got {got}")
    if not lo <= int(value) <= hi:
        raise ConfigError(f"{func}: {name} must be in {lo}..{hi}, got {int(value)}")
    return int(value)


def check_elements(count: int, what: str, *, func: str) -> None:
    """Refuse a call that would build more than MAX_ELEMENTS values (LimitError)."""
    if count > MAX_ELEMENTS:
        raise LimitError(
            f"{func}: {what} would hold {count:,} values, over the limit of {MAX_ELEMENTS:,} "
            "(2 GiB); split the work into smaller calls"
        )


def check_reals(name: str, value, *, func: str) -> np.ndarray:
    """Real numbers for from_float: a Python/NumPy int or float, or an array of an integer or
    floating dtype (NaN and inf are valid floats), as float64; else BitsTypeError."""
    if isinstance(value, (bool, np.bool_)):
        raise BitsTypeError(f"{func}: {name} must be real numbers, got bool {value!r}")
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise BitsTypeError(f"{func}: {name} must be real numbers, got {first}") from None
    if arr.dtype.kind not in "iuf":
        got = "bool" if arr.dtype.kind == "b" else str(arr.dtype)
        if not isinstance(value, (np.ndarray, np.generic, list, tuple)):
            got = f"{type(value).__name__} {_describe(value)}"
        raise BitsTypeError(
            f"{func}: {name} must be real numbers (an int or float array), got {got}"
        )
    if arr.dtype.kind == "f" and arr.dtype.itemsize > 8:
        raise BitsTypeError(
            f"{func}: {name} is {arr.dtype}, which float64 would round first; "
            "pass float64 or narrower"
        )
    if arr.dtype.kind in "iu" and arr.size and int(np.abs(arr).max()) > 1 << 53:
        raise BitsError(
            f"{func}: {name} holds integers beyond 2^53, which float64 would round first; "
            "pass them as float64 if that rounding is intended"
        )
    return np.ascontiguousarray(arr, dtype=np.float64)


def check_flags(name: str, value, *, func: str) -> np.ndarray:
    """Per-step control flags (valid, clear, sticky, ...): bools, or integers 0 and 1."""
    if isinstance(value, (bool, np.bool_)):
        return np.asarray(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        try:
            arr = np.asarray(value)
        except (ValueError, TypeError):
            arr = None  # check_bits words the refusal
        if arr is not None and arr.dtype == bool:
            return arr
    return check_bits(name, value, Width(1, "flags"), func=func).astype(bool)


def check_seeds(name: str, value, *, func: str) -> np.ndarray:
    """xorshift32 seeds (SPEC §6: nonzero 32-bit), scalar or one per lane, as uint32; a bad
    seed is a configuration error (ConfigError), as in AccConfig and GemmConfig."""
    try:
        seeds = check_bits(name, value, Width(32, "xorshift32 seeds"), func=func)
    except (BitsError, BitsTypeError) as err:
        raise ConfigError(f"{err}".split("; ")[0] + "; seeds are 1..4294967295") from None
    if seeds.size and not seeds.all():
        raise ConfigError(f"{func}: {name} must be nonzero (1..4294967295), got 0")
    return seeds.astype(np.uint32)


def check_broadcast(func: str, **arrays) -> tuple:
    """The common shape of the named arrays, or a BitsError naming their shapes; refuses a
    result over MAX_ELEMENTS (LimitError)."""
    try:
        shape = np.broadcast_shapes(*(np.shape(a) for a in arrays.values()))
    except ValueError:
        shapes = " and ".join(f"{k} {np.shape(a)}" for k, a in arrays.items())
        raise BitsError(f"{func}: shapes {shapes} do not broadcast together") from None
    check_elements(int(np.prod(shape, dtype=object)), "the result", func=func)
    return shape


def check_bool(name: str, value, *, func: str) -> bool:
    """A switch (saturate, history): True or False, not 0/1 or a string."""
    if not isinstance(value, (bool, np.bool_)):
        raise ConfigError(f"{func}: {name} must be True or False, got {_describe(value)}")
    return bool(value)


def check_ints(name: str, value, lo: int, hi: int, *, func: str) -> np.ndarray:
    """Signed integer data (BFP elements and exponents, shifts) in lo..hi, as int64; floats,
    bools and objects raise BitsTypeError, values out of range BitsError."""
    what = f"{func}: {name} must be integers in {lo}..{hi}"
    if isinstance(value, (bool, np.bool_)):
        raise BitsTypeError(f"{what}, got bool {value!r}")
    if isinstance(value, int):
        if not lo <= value <= hi:
            raise BitsError(f"{what}, got {_describe(value)}")
        return np.asarray(value, dtype=np.int64)
    try:
        arr = np.asarray(value)
    except (ValueError, TypeError):
        raise BitsTypeError(f"{what}, got a {type(value).__name__} that is not an array") from None
    if arr.dtype.kind not in "iu":
        got = "bool" if arr.dtype.kind == "b" else str(arr.dtype)
        raise BitsTypeError(f"{what}, got {got}")
    if arr.size:
        low, high = int(arr.min()), int(arr.max())
        if low < lo or high > hi:
            raise BitsError(f"{what}, got {low if low < lo else high}")
    return arr.astype(np.int64)


def check_fits(func: str, name: str, value: np.ndarray, shape: tuple, what: str) -> None:
    """`value` must broadcast to `shape` (that of `what`), else BitsError."""
    try:
        np.broadcast_to(value, shape)
    except ValueError:
        raise BitsError(
            f"{func}: {name} of shape {np.shape(value)} does not broadcast to {what} {shape}"
        ) from None
