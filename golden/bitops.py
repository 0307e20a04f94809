"""Vectorised bit manipulation on uint64/int64 arrays, safe for any shift amount.

NumPy's shifts are undefined for amounts >= 64 and refuse to mix uint64 with int64, so
every shift in the golden model goes through these helpers."""

from __future__ import annotations

import numpy as np

U64 = np.uint64
ONE = np.uint64(1)


def as_u64(x) -> np.ndarray:
    return np.asarray(x).astype(np.uint64)


def shr(x: np.ndarray, s) -> np.ndarray:
    """x >> s for s >= 0 (0 when s >= 64)."""
    s = np.asarray(s, dtype=np.int64)
    out = np.right_shift(x, np.minimum(s, 63).astype(np.uint64))
    return np.where(s >= 64, U64(0), out)


def shl(x: np.ndarray, s) -> np.ndarray:
    """x << s for s >= 0 (callers guarantee the result fits)."""
    s = np.asarray(s, dtype=np.int64)
    out = np.left_shift(x, np.minimum(s, 63).astype(np.uint64))
    return np.where(s >= 64, U64(0), out)


def low_mask(s) -> np.ndarray:
    """2^s - 1 for 0 <= s (all ones when s >= 64)."""
    s = np.asarray(s, dtype=np.int64)
    return np.where(s >= 64, ~U64(0), shl(np.ones_like(s, dtype=np.uint64), s) - ONE)


def bit_length(x: np.ndarray) -> np.ndarray:
    """Number of significant bits of each uint64 (0 for 0), as int64."""
    x = as_u64(x)
    _, n = np.frexp(x.astype(np.float64))
    n = n.astype(np.int64)
    # float64 rounding can carry into the next power of two above 2^53: correct it.
    too_big = (n > 0) & (shr(x, np.maximum(n - 1, 0)) == 0)
    return n - too_big


def to_signed(bits: np.ndarray, width: int) -> np.ndarray:
    """Two's complement `width`-bit patterns -> int64."""
    b = as_u64(bits) & U64((1 << width) - 1)
    v = b.astype(np.int64)
    return np.where(v >= (1 << (width - 1)), v - (1 << width), v)


def from_signed(values: np.ndarray, width: int) -> np.ndarray:
    """int64 -> `width`-bit two's complement patterns (uint64)."""
    return np.asarray(values, dtype=np.int64).astype(np.uint64) & U64((1 << width) - 1)


CHUNK = 1 << 14  # elements per step of an elementwise op: keeps the temporaries in cache


def chunked(fn, arrays: tuple, *args, **kwargs) -> np.ndarray:
    """fn(*arrays, *args) on broadcast arrays, evaluated CHUNK elements at a time."""
    arrays = np.broadcast_arrays(*(np.asarray(x) for x in arrays))
    shape = arrays[0].shape
    if arrays[0].size <= CHUNK:
        return fn(*arrays, *args, **kwargs)
    flat = [x.reshape(-1) for x in arrays]
    first = fn(*(x[:CHUNK] for x in flat), *args, **kwargs)
    out = np.empty(flat[0].shape, first.dtype)
    out[:CHUNK] = first
    for i in range(CHUNK, flat[0].size, CHUNK):
        out[i : i + CHUNK] = fn(*(x[i : i + CHUNK] for x in flat), *args, **kwargs)
    return out.reshape(shape)
