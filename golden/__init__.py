"""Bit-accurate NumPy golden model of every lpmac unit (docs/spec.md).

All functions work on bit patterns (unsigned integer arrays) and are vectorised; each unit
is unpack -> compute exactly -> one shared round-and-pack (`rounding.round_pack`).

The functions exported here check their inputs once (golden/validate.py, docs/reliability.md):
bit patterns must be Python ints or integer arrays within [0, 2^width) of their format, else
`BitsTypeError` / `BitsError`; wrong configurations and formats raise `ConfigError` /
`FormatError`. The implementation modules (fpmul, accum, convert, ...) trust their inputs."""

from .accum import MacResult
from .api import accumulate, fixed_add, fixed_mul, fp_add, fp_mul, mac
from .api_convert import (
    bfp_gemm,
    convert,
    from_bfp,
    from_fixed,
    from_float,
    gemm_to_float,
    lane_seed,
    random_bits,
    round_pack,
    round_shift,
    to_bfp,
    to_fixed,
    to_float,
    unpack,
    xorshift32,
)
from .convert import BfpBlocks
from .matmul import matmul
from .raw import Raw

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
