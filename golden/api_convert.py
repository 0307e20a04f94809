"""The public golden converters, GEMM, xorshift32 and building blocks, validated once at the
boundary (golden/validate.py) before the trusted implementation runs; see golden/api.py."""

from __future__ import annotations

import numpy as np

from lpmac.config import BFP_ROUND, SR_BITS, SUB_IN, SUB_OUT, GemmConfig
from lpmac.errors import BitsError, BitsTypeError, ConfigError
from lpmac.formats import FloatFormat

from . import convert as cv
from . import gemm, raw, rounding
from . import xorshift as xs
from .api import public
from .bitops import bit_length
from .validate import (
    BFP,
    FIXED,
    FLOAT,
    FLOAT_OR_FIXED,
    Width,
    check_bits,
    check_bool,
    check_broadcast,
    check_choice,
    check_config,
    check_elements,
    check_fits,
    check_flags,
    check_format,
    check_int,
    check_ints,
    check_reals,
    check_seeds,
)

__all__ = [
    "convert",
    "to_float",
    "from_float",
    "to_fixed",
    "from_fixed",
    "to_bfp",
    "from_bfp",
    "bfp_gemm",
    "gemm_to_float",
    "xorshift32",
    "random_bits",
    "lane_seed",
    "unpack",
    "round_shift",
    "round_pack",
]

NEAREST_OR_RZ = ("rne", "rna", "rz")  # the modes of a converter without a random source
SEED_MAX = 0xFFFFFFFF
EXP_LIMIT = 1 << 30  # |exponent| of raw values and BFP blocks: far beyond every format


def _sr_operands(mode: str, u, r, func: str):
    """(u, r) of a stochastic rounding, required with sr and refused without."""
    if mode != "sr":
        if u is not None or r != 0:
            raise ConfigError(f"{func}: u and r are only used with mode='sr', mode is {mode!r}")
        return None, 0
    r = check_int("r", r, *SR_BITS, func=func)
    if u is None:
        raise ConfigError(f"{func}: mode='sr' needs the random bits u (top r bits per rounding)")
    return check_bits("u", u, Width(r, f"{r}-bit random values"), func=func), r


@public(cv.convert)
def convert(
    bits,
    src,
    dst,
    mode="rne",
    sub_out="ieee",
    *,
    saturate=False,
    sub_in="ieee",
    u=None,
    r=0,
):
    check_format("src", src, FLOAT, func="convert")
    check_format("dst", dst, FLOAT, func="convert")
    check_choice("mode", mode, rounding.MODES, func="convert")
    check_choice("sub_out", sub_out, SUB_OUT, func="convert")
    check_choice("sub_in", sub_in, SUB_IN, func="convert")
    check_bool("saturate", saturate, func="convert")
    b = check_bits("bits", bits, src, func="convert")
    u, r = _sr_operands(mode, u, r, "convert")
    check_broadcast("convert", bits=b, **({} if u is None else {"u": u}))
    return cv.convert(b, src, dst, mode, sub_out, saturate=saturate, sub_in=sub_in, u=u, r=r)


@public(cv.to_float)
def to_float(bits, fmt, sub_in="ieee"):
    check_format("fmt", fmt, FLOAT_OR_FIXED, func="to_float")
    check_choice("sub_in", sub_in, SUB_IN, func="to_float")
    if sub_in != "ieee" and not isinstance(fmt, FloatFormat):
        raise ConfigError(f"to_float: sub_in={sub_in!r} applies to float formats, not {fmt}")
    return cv.to_float(check_bits("bits", bits, fmt, func="to_float"), fmt, sub_in)


@public(cv.from_float)
def from_float(values, fmt, mode="rne", sub_out="ieee", *, saturate=False):
    check_format("fmt", fmt, FLOAT_OR_FIXED, func="from_float")
    check_choice("mode", mode, NEAREST_OR_RZ, func="from_float")
    check_choice("sub_out", sub_out, SUB_OUT, func="from_float")
    check_bool("saturate", saturate, func="from_float")
    if sub_out != "ieee" and not isinstance(fmt, FloatFormat):
        raise ConfigError(f"from_float: sub_out={sub_out!r} applies to float formats, not {fmt}")
    x = check_reals("values", values, func="from_float")
    check_elements(x.size, "values", func="from_float")
    return cv.from_float(x, fmt, mode, sub_out, saturate=saturate)


@public(cv.to_fixed)
def to_fixed(bits, src, dst, mode="rne", sub_in="ieee"):
    check_format("src", src, FLOAT, func="to_fixed")
    check_format("dst", dst, FIXED, func="to_fixed")
    check_choice("mode", mode, NEAREST_OR_RZ, func="to_fixed")
    check_choice("sub_in", sub_in, SUB_IN, func="to_fixed")
    return cv.to_fixed(check_bits("bits", bits, src, func="to_fixed"), src, dst, mode, sub_in)


@public(cv.from_fixed)
def from_fixed(bits, src, dst, mode="rne", sub_out="ieee"):
    check_format("src", src, FIXED, func="from_fixed")
    check_format("dst", dst, FLOAT, func="from_fixed")
    check_choice("mode", mode, NEAREST_OR_RZ, func="from_fixed")
    check_choice("sub_out", sub_out, SUB_OUT, func="from_fixed")
    b = check_bits("bits", bits, src, func="from_fixed")
    return cv.from_fixed(b, src, dst, mode, sub_out)


@public(cv.to_bfp)
def to_bfp(bits, fmt, bfp, axis=-1, mode="rne", *, u=None, sr_bits=8, seed=1):
    check_format("fmt", fmt, FLOAT, func="to_bfp")
    check_format("bfp", bfp, BFP, func="to_bfp")
    check_choice("mode", mode, BFP_ROUND, func="to_bfp")
    sr_bits = check_int("sr_bits", sr_bits, *SR_BITS, func="to_bfp")
    seed = check_int("seed", seed, 1, SEED_MAX, func="to_bfp")
    b = check_bits("bits", bits, fmt, func="to_bfp")
    if b.ndim == 0:
        raise BitsError("to_bfp: bits needs at least one axis to cut into blocks, got a scalar")
    axis = check_int("axis", axis, -b.ndim, b.ndim - 1, func="to_bfp") % b.ndim
    rest = b.shape[:axis] + b.shape[axis + 1 :]
    blocks = rest + (max(1, -(-b.shape[axis] // bfp.T)), bfp.T)
    check_elements(int(np.prod(blocks, dtype=object)), "the padded blocks", func="to_bfp")
    if u is not None:
        if mode != "sr":
            raise ConfigError(f"to_bfp: u is only used with mode='sr', mode is {mode!r}")
        u = check_bits("u", u, Width(sr_bits, f"{sr_bits}-bit random values"), func="to_bfp")
        check_fits("to_bfp", "u", u, blocks, "the blocks (..., blocks, T)")
    return cv.to_bfp(b, fmt, bfp, axis, mode, u=u, sr_bits=sr_bits, seed=seed)


@public(cv.from_bfp)
def from_bfp(blocks, bfp, dst, mode="rne", sub_out="ieee"):
    check_format("bfp", bfp, BFP, func="from_bfp")
    check_format("dst", dst, FLOAT, func="from_bfp")
    check_choice("mode", mode, NEAREST_OR_RZ, func="from_bfp")
    check_choice("sub_out", sub_out, SUB_OUT, func="from_bfp")
    if not isinstance(blocks, tuple) or len(blocks) != 3:
        raise BitsTypeError(
            f"from_bfp: blocks must be BfpBlocks(exp, man, special), got {type(blocks).__name__}"
        )
    half = 1 << (bfp.m - 1)  # elements are m-bit two's complement
    man = check_ints("blocks.man", blocks[1], -half, half - 1, func="from_bfp")
    if man.ndim == 0 or man.shape[-1] != bfp.T:
        raise BitsError(f"from_bfp: blocks.man must end in an axis of T={bfp.T}, got {man.shape}")
    exp = check_ints("blocks.exp", blocks[0], -EXP_LIMIT, EXP_LIMIT, func="from_bfp")
    special = check_flags("blocks.special", blocks[2], func="from_bfp")
    check_fits("from_bfp", "blocks.exp", exp, man.shape[:-1], "the blocks")
    check_fits("from_bfp", "blocks.special", special, man.shape[:-1], "the blocks")
    return cv.from_bfp(cv.BfpBlocks(exp, man, special), bfp, dst, mode, sub_out)


@public(gemm.bfp_gemm)
def bfp_gemm(a_bits, b_bits, cfg, array=None):
    cfg = check_config("cfg", cfg, GemmConfig, func="bfp_gemm")
    a = check_bits("a_bits", a_bits, cfg.in_fmt, func="bfp_gemm")
    b = check_bits("b_bits", b_bits, cfg.in_fmt, func="bfp_gemm")
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise BitsError(f"bfp_gemm: needs A (M x K) and B (K x N), got {a.shape} and {b.shape}")
    (M, K), N = a.shape, b.shape[1]
    tiles = max(1, -(-K // cfg.T))
    for what, count in (
        ("C", M * N),
        ("A's blocks", M * tiles * cfg.T),
        ("B's", N * tiles * cfg.T),
    ):
        check_elements(count, what, func="bfp_gemm")
    if array is not None:
        if not isinstance(array, (tuple, list)) or len(array) != 2:
            raise ConfigError(f"bfp_gemm: array must be (rows, cols) or None, got {array!r}")
        R = check_int("array rows", array[0], 1, 1 << 16, func="bfp_gemm")
        C = check_int("array cols", array[1], 1, 1 << 16, func="bfp_gemm")
        if cfg.rounding == "sr":  # random values for every block of every output tile
            P, Q = max(1, -(-M // R)), max(1, -(-N // C))
            per_tile = tiles * (R + C) * cfg.T
            check_elements(P * Q * per_tile, "the random values", func="bfp_gemm")
        array = (R, C)
    return gemm.bfp_gemm(a, b, cfg, array)


@public(gemm.gemm_to_float)
def gemm_to_float(c_bits, cfg):
    cfg = check_config("cfg", cfg, GemmConfig, func="gemm_to_float")
    return gemm.gemm_to_float(check_bits("c_bits", c_bits, cfg.out_fmt, func="gemm_to_float"), cfg)


@public(xs.xorshift32)
def xorshift32(state):
    return xs.xorshift32(check_bits("state", state, Width(32, "uint32 states"), func="xorshift32"))


@public(xs.random_bits)
def random_bits(seed, steps, r):
    seeds = check_seeds("seed", seed, func="random_bits")
    steps = check_int("steps", steps, 0, 1 << 40, func="random_bits")
    r = check_int("r", r, *SR_BITS, func="random_bits")
    check_elements(steps * max(seeds.size, 1), "the random values", func="random_bits")
    return xs.random_bits(seeds, steps, r)


@public(xs.lane_seed)
def lane_seed(seed, lane):
    seed = check_int("seed", seed, 1, SEED_MAX, func="lane_seed")
    return xs.lane_seed(seed, check_int("lane", lane, 0, SEED_MAX, func="lane_seed"))


@public(raw.unpack)
def unpack(bits, fmt, sub_in="ieee"):
    check_format("fmt", fmt, FLOAT, func="unpack")
    check_choice("sub_in", sub_in, SUB_IN, func="unpack")
    return raw.unpack(check_bits("bits", bits, fmt, func="unpack"), fmt, sub_in)


_MAG = Width(64, "uint64 magnitudes")


@public(rounding.round_shift)
def round_shift(mag, shift, mode, *, sticky=None, u=None, r=0):
    check_choice("mode", mode, rounding.MODES, func="round_shift")
    mag = check_bits("mag", mag, _MAG, func="round_shift")
    shift = check_ints("shift", shift, -63, EXP_LIMIT, func="round_shift")
    check_fits("round_shift", "shift", shift, mag.shape, "mag")
    if mag.size and (bit_length(mag) - np.minimum(shift, 0)).max() > 64:
        raise BitsError("round_shift: mag shifted left by -shift does not fit 64 bits")
    if sticky is not None:
        sticky = check_flags("sticky", sticky, func="round_shift")
        check_fits("round_shift", "sticky", sticky, mag.shape, "mag")
    u, r = _sr_operands(mode, u, r, "round_shift")
    return rounding.round_shift(mag, shift, mode, sticky=sticky, u=u, r=r)


@public(rounding.round_pack)
def round_pack(
    sign,
    sig,
    exp,
    fmt,
    mode="rne",
    sub_out="ieee",
    *,
    sticky=None,
    zero=None,
    inf=None,
    nan=None,
    u=None,
    r=0,
    saturate=False,
):
    check_format("fmt", fmt, FLOAT, func="round_pack")
    check_choice("mode", mode, rounding.MODES, func="round_pack")
    check_choice("sub_out", sub_out, SUB_OUT, func="round_pack")
    check_bool("saturate", saturate, func="round_pack")
    arrays = {
        "sign": check_flags("sign", sign, func="round_pack"),
        "sig": check_bits("sig", sig, _MAG, func="round_pack"),
        "exp": check_ints("exp", exp, -EXP_LIMIT, EXP_LIMIT, func="round_pack"),
    }
    flags = {"sticky": sticky, "zero": zero, "inf": inf, "nan": nan}
    for name, value in flags.items():
        if value is not None:
            flags[name] = arrays[name] = check_flags(name, value, func="round_pack")
    u, r = _sr_operands(mode, u, r, "round_pack")
    if u is not None:
        arrays["u"] = u
    check_broadcast("round_pack", **arrays)
    sign, sig, exp = arrays["sign"], arrays["sig"], arrays["exp"]
    return rounding.round_pack(
        sign, sig, exp, fmt, mode, sub_out, **flags, u=u, r=r, saturate=saturate
    )
