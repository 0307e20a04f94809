"""Converters (SPEC §4): float<->float, float<->fixed, float<->BFP, and the views to and
from NumPy float64 (which is just a conversion to and from E11M52)."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from lpmac.formats import FP64, BfpFormat, FixedFormat, FloatFormat

from .bitops import U64, bit_length, from_signed, to_signed
from .raw import unpack
from .rounding import round_pack, round_shift
from .xorshift import lane_seed, random_bits


def convert(
    bits,
    src: FloatFormat,
    dst: FloatFormat,
    mode: str = "rne",
    sub_out: str = "ieee",
    *,
    saturate: bool = False,
    sub_in: str = "ieee",
    u=None,
    r: int = 0,
) -> np.ndarray:
    """Float -> float: the exact value rounded into `dst`; NaN -> NaN (or +inf / +max where
    `dst` has no NaN); `saturate` maps overflow and inf to max finite."""
    x = unpack(bits, src, sub_in)
    sign = x.sign & ~x.nan
    return round_pack(
        sign,
        x.sig,
        x.exp,
        dst,
        mode,
        sub_out,
        zero=x.zero,
        inf=x.inf,
        nan=x.nan,
        u=u,
        r=r,
        saturate=saturate,
    )


def to_float(bits, fmt: FloatFormat | FixedFormat, sub_in: str = "ieee") -> np.ndarray:
    """Bit patterns -> float64 values (exact for every supported format); `sub_in` is how
    float subnormals read (SPEC §1)."""
    if isinstance(fmt, FixedFormat):
        return to_signed(bits, fmt.width).astype(np.float64) * 2.0**-fmt.f
    return convert(bits, fmt, FP64, sub_in=sub_in).view(np.float64)


def from_float(
    values,
    fmt: FloatFormat | FixedFormat,
    mode: str = "rne",
    sub_out: str = "ieee",
    *,
    saturate: bool = False,
) -> np.ndarray:
    """float64 values -> bit patterns of `fmt` (one rounding, `mode`)."""
    b = np.ascontiguousarray(values, dtype=np.float64).view(np.uint64)
    if isinstance(fmt, FixedFormat):
        return to_fixed(b, FP64, fmt, mode)[0]
    return convert(b, FP64, fmt, mode, sub_out, saturate=saturate)


def to_fixed(bits, src: FloatFormat, dst: FixedFormat, mode: str = "rne", sub_in: str = "ieee"):
    """Float -> Qi.f: rounded to f fraction bits (rne or rz), saturated; +-inf -> max / min;
    NaN -> 0 with the `invalid` flag. Returns (fixed bit patterns, invalid)."""
    x = unpack(bits, src, sub_in)
    # Magnitudes at or above 2^(width+1) ulps saturate whatever the rounding.
    huge = x.inf | (x.exp + bit_length(x.sig) + dst.f > dst.width + 1)
    mag, _ = round_shift(x.sig, np.where(huge, 0, -dst.f - x.exp), mode)
    mag = np.where(huge, U64(1 << (dst.width + 1)), mag).astype(np.int64)
    val = np.clip(np.where(x.sign, -mag, mag), dst.min_int, dst.max_int)
    val = np.where(x.nan, 0, val)
    return from_signed(val, dst.width), x.nan


def from_fixed(
    bits, src: FixedFormat, dst: FloatFormat, mode: str = "rne", sub_out: str = "ieee"
) -> np.ndarray:
    """Qi.f -> float: the exact value rounded per SPEC §1; zero is +0."""
    v = to_signed(bits, src.width)
    return round_pack(
        v < 0, np.abs(v).astype(np.uint64), np.full(v.shape, -src.f), dst, mode, sub_out
    )


class BfpBlocks(NamedTuple):
    exp: np.ndarray  # int64 shared exponent E per block, shape (..., blocks)
    man: np.ndarray  # int64 elements k, shape (..., blocks, T)
    special: np.ndarray  # bool: the block held an inf or NaN, shape (..., blocks)


def bfp_random_bits(
    blocks_shape: tuple, T: int, seed: int, r: int, lane_offset: int = 0
) -> np.ndarray:
    """u for a T-lane block converter: lane l owns a generator seeded lane_seed(seed, l +
    lane_offset); all lanes step once per block, blocks taken in C order of blocks_shape."""
    seeds = np.array([lane_seed(seed, lane_offset + lane) for lane in range(T)], dtype=np.uint32)
    count = int(np.prod(blocks_shape))
    return random_bits(seeds, count, r).reshape(tuple(blocks_shape) + (T,))


def to_bfp(
    bits,
    fmt: FloatFormat,
    bfp: BfpFormat,
    axis: int = -1,
    mode: str = "rne",
    *,
    u=None,
    sr_bits: int = 8,
    seed: int = 1,
) -> BfpBlocks:
    """Float -> BFP blocks of bfp.T along `axis` (zero-padded at the end), SPEC §4.

    E is the largest effective exponent of the block (field - bias for normals, emin for
    subnormals and zeros); k = round(x / 2^(E-(m-2))) clamped to +-(2^(m-1)-1). Modes rne,
    rna, rz, sr; for sr, `u` (shape (..., blocks, T)) defaults to bfp_random_bits(seed)."""
    b = np.moveaxis(np.asarray(bits, dtype=np.uint64), axis, -1)
    T, n = bfp.T, b.shape[-1]
    nb = max(1, -(-n // T))
    b = np.concatenate([b, np.zeros(b.shape[:-1] + (nb * T - n,), np.uint64)], axis=-1)
    b = b.reshape(b.shape[:-1] + (nb, T))

    x = unpack(b, fmt)
    normal = x.sig >= U64(1 << fmt.m)
    eff = np.where(normal, x.exp + fmt.m, fmt.emin)
    special = (x.inf | x.nan).any(axis=-1)
    E = np.where(x.inf | x.nan, fmt.emin, eff).max(axis=-1)
    if mode == "sr" and u is None:
        u = bfp_random_bits(E.shape, T, seed, sr_bits)
    k, _ = round_shift(x.sig, (E[..., None] - (bfp.m - 2)) - x.exp, mode, u=u, r=sr_bits)
    k = np.minimum(k.astype(np.int64), bfp.kmax)
    k = np.where(x.sign, -k, k)
    k = np.where(x.inf | x.nan, 0, k)
    return BfpBlocks(E.astype(np.int64), k, special)


def from_bfp(
    blocks: BfpBlocks, bfp: BfpFormat, dst: FloatFormat, mode: str = "rne", sub_out: str = "ieee"
) -> np.ndarray:
    """BFP -> float per element: round(k * 2^(E-(m-2))); elements of a special block are NaN.
    Returns shape (..., blocks*T) (the padding included)."""
    k = blocks.man
    scale = np.broadcast_to((blocks.exp - (bfp.m - 2))[..., None], k.shape)
    nan = np.broadcast_to(blocks.special[..., None], k.shape)
    out = round_pack(
        k < 0, np.abs(k).astype(np.uint64), scale, dst, mode, sub_out, zero=k == 0, nan=nan
    )
    return out.reshape(k.shape[:-2] + (-1,))
