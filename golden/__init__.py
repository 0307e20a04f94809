"""Bit-accurate NumPy golden model of every lpmac unit (SPEC.md).

All functions work on bit patterns (unsigned integer arrays) and are vectorised; each unit
is unpack -> compute exactly -> one shared round-and-pack (`rounding.round_pack`)."""

from .accum import MacResult, accumulate, fixed_add, fp_add, mac
from .convert import (
    BfpBlocks,
    convert,
    from_bfp,
    from_fixed,
    from_float,
    to_bfp,
    to_fixed,
    to_float,
)
from .fpmul import fixed_mul, fp_mul
from .gemm import bfp_gemm, gemm_to_float
from .matmul import matmul
from .raw import Raw, unpack
from .rounding import round_pack, round_shift
from .xorshift import lane_seed, random_bits, xorshift32

__all__ = [
    "to_float",
    "from_float",
    "fp_mul",
    "fixed_mul",
    "fp_add",
    "fixed_add",
    "accumulate",
    "mac",
    "matmul",
    "MacResult",
    "convert",
    "to_fixed",
    "from_fixed",
    "to_bfp",
    "from_bfp",
    "BfpBlocks",
    "bfp_gemm",
    "gemm_to_float",
    "xorshift32",
    "random_bits",
    "lane_seed",
    "unpack",
    "Raw",
    "round_pack",
    "round_shift",
]
