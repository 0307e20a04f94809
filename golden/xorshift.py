"""The xorshift32 generator of SPEC §6 (x ^= x<<13; x ^= x>>17; x ^= x<<5).

A rounding unit owns one generator and steps it once per rounding it performs; the
random value `u` is the top `r` bits of the new state."""

from __future__ import annotations

import numpy as np

from lpmac.errors import ConfigError
from lpmac.xorshift import lane_seed

_M32 = np.uint32(0xFFFFFFFF)

__all__ = ["lane_seed", "random_bits", "xorshift32"]


def xorshift32(state):
    """One step on a uint32 scalar or array."""
    x = np.asarray(state, dtype=np.uint32)
    x = x ^ (x << np.uint32(13))
    x = x ^ (x >> np.uint32(17))
    x = x ^ (x << np.uint32(5))
    return x


def random_bits(seed, steps: int, r: int) -> np.ndarray:
    """u values of `steps` successive roundings: shape (steps,) + shape(seed), uint64.

    `seed` may be an array (one generator per lane, all stepped together)."""
    state = np.asarray(seed, dtype=np.uint32)
    if np.any(state == 0):
        raise ConfigError("xorshift32 seed must be nonzero")
    out = np.empty((steps,) + state.shape, dtype=np.uint64)
    for t in range(steps):
        state = xorshift32(state)
        out[t] = state >> np.uint32(32 - r)
    return out
