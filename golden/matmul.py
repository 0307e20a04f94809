"""MAC-array GEMM (SPEC §8): the fast emulator of an output-stationary array of MAC units.

`matmul(a_bits, b_bits, cfg)` gives C[i, j] = golden `mac(A[i, :], B[:, j], cfg)`: the
products A[i, k] * B[k, j] for k = 0..K-1 in that order folded into an accumulator that
starts from +0, as PE (i, j) of hdl/mac_array.py's `MacArray` does. With stochastic
rounding every PE owns its xorshift32: element (i, j) of an M x N result is lane i*N + j,
seeded `lane_seed(cfg.acc.sr_seed, i*N + j)` and stepped once per product, so the
emulator of an M x N GEMM equals an M x N MacArray (docs/semantics.md).

The work runs in numba kernels (golden/_matmul_kernels.py), parallel over tiles of PEs:
- 8-bit inputs read every product from a table of all 2^16 pairs made by golden `fp_mul`;
- a float accumulator with rne/rz whose (accumulator, product) pair fits in
  SUM_TABLE_MAX_BITS bits reads each step from a table of all pairs made by golden
  `fp_add` (at most 2^24 entries, 32 MiB for accumulators up to 16 bits, 64 MiB above);
- a fixed accumulator with 8-bit inputs reads the converted product and its NaN flag from
  a 2^16-pair table made by golden `fp_mul` + `to_fixed`, then adds with saturation;
- everything else (wider inputs or accumulators, sr) computes fp_mul / fp_add / to_fixed
  with scalar ports of the golden code (golden/_matmul_scalar.py);
- a long accumulator (`E6M5:long`) sums each PE's exact products as integers (int64, or
  32-bit limbs for registers over 63 bits) and reads the sum out with golden `read_out`
  (golden/_matmul_long.py); products come from the 8-bit product table or the scalar port.
Tables are built once per configuration and kept (`lru_cache`, TABLE_CACHE_SIZE each)."""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import replace
from functools import lru_cache

import numba
import numpy as np

from lpmac.config import AccConfig, MacConfig, MulConfig
from lpmac.errors import BitsError
from lpmac.formats import FP32, FloatFormat
from lpmac.xorshift import GOLDEN_RATIO_32

from . import _matmul_kernels as kernels
from ._matmul_long import long_matmul
from ._matmul_scalar import MODE_CODE, fmt_tuple
from .accum import MacResult, fp_add
from .bitops import to_signed
from .convert import to_fixed
from .fpmul import fp_mul
from .validate import check_bits, check_config, check_elements

__all__ = ["matmul", "pe_seeds", "SUM_TABLE_MAX_BITS", "TABLE_CACHE_SIZE"]

PRODUCT_TABLE_MAX_WIDTH = 8  # input formats this narrow multiply through a 2^16-pair table
SUM_TABLE_MAX_BITS = 24  # accumulator + product bits of the largest sum table
TABLE_CACHE_SIZE = 4  # tables kept per kind (sum tables: <= 4 x 64 MiB)
# Below this many MACs (about 1 ms of work) one thread does it all: waking numba's workers
# costs more, and on a loaded machine a parallel call waits for its slowest thread.
SERIAL_MAX_MACS = 1 << 20
_FUNC = "golden.matmul"


def matmul(a_bits, b_bits, cfg: MacConfig) -> MacResult:
    """A (M x K) times B (K x N), bit patterns of cfg.mul.in_format, through an M x N array
    of MAC units: MacResult(acc, invalid), both M x N (uint64 accumulator patterns, and
    the sticky float->fixed NaN flag of a fixed accumulator, always False for a float one)."""
    cfg = check_config("cfg", cfg, MacConfig, func=_FUNC)
    fmt = cfg.mul.in_format
    a = _matrix("a_bits", a_bits, fmt, "M x K")
    b = _matrix("b_bits", b_bits, fmt, "K x N")
    (M, K), N = a.shape, b.shape[1]
    if b.shape[0] != K:
        raise BitsError(
            f"{_FUNC}: a_bits is {M} x {K} but b_bits is {b.shape[0]} x {N}; "
            "the inner dimensions must match (A is M x K, B is K x N)"
        )
    check_elements(M * N, f"the {M} x {N} result", func=_FUNC)
    cost = 1 if cfg == BINARY32 or _uses_tables(cfg) else 16  # computed steps: ~16x slower
    with _threads(1 if M * N * K * cost < SERIAL_MAX_MACS else None):
        acc, invalid = _run(a.astype(np.int64), b.astype(np.int64), cfg)
    return MacResult(acc.astype(np.uint64), invalid)


@contextmanager
def _threads(count: int | None):
    """numba's thread count for this thread's parallel kernels (None: leave it)."""
    if count is None:
        yield
        return
    before = numba.get_num_threads()
    numba.set_num_threads(count)
    try:
        yield
    finally:
        numba.set_num_threads(before)


def _uses_tables(cfg: MacConfig) -> bool:
    """Does the configuration run on the product (and sum) tables alone?"""
    if cfg.mul.in_format.width > PRODUCT_TABLE_MAX_WIDTH:
        return False
    if cfg.acc.is_fixed or cfg.acc.is_long:
        return True
    pair = cfg.acc.fmt.width + cfg.mul.out_format.width
    return cfg.acc.rounding != "sr" and pair <= SUM_TABLE_MAX_BITS


def _matrix(name: str, value, fmt: FloatFormat, shape: str) -> np.ndarray:
    arr = check_bits(name, value, fmt, func=_FUNC)
    if arr.ndim != 2:
        raise BitsError(
            f"{_FUNC}: {name} must be a 2-D {shape} array of {fmt} bit patterns, got shape "
            f"{arr.shape}; reshape it (e.g. x.reshape(1, -1) for a vector)"
        )
    return np.ascontiguousarray(arr)


def pe_seeds(seed: int, rows: int, cols: int) -> np.ndarray:
    """xorshift32 seeds of an rows x cols array: PE (i, j) is lane i*cols + j, seeded
    lpmac.xorshift.lane_seed(seed, i*cols + j) (vectorised; never zero)."""
    lanes = np.arange(rows * cols, dtype=np.uint64).reshape(rows, cols)
    seeds = (np.uint64(seed) ^ (np.uint64(GOLDEN_RATIO_32) * lanes)) & np.uint64(0xFFFFFFFF)
    return np.where(seeds == 0, np.uint64(GOLDEN_RATIO_32), seeds).astype(np.int64)


def _run(a, b, cfg: MacConfig, use_tables: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """(acc, invalid) of int64 A and B; use_tables=False computes every product and step
    with the scalar ports, without tables or the binary32 path (the tests run both ways)."""
    mul, acc = cfg.mul, cfg.acc
    w = mul.in_format.width
    prod_fmt = mul.out_format
    narrow = use_tables and w <= PRODUCT_TABLE_MAX_WIDTH
    no_invalid = np.zeros((a.shape[0], b.shape[1]), np.bool_)
    if not acc.is_fixed and acc.is_long:
        products = _product_table(mul) if narrow else np.empty(0, np.uint16)
        return long_matmul(a, b, cfg, products), no_invalid
    if use_tables and cfg == BINARY32 and _binary32_works():
        return _binary32(a, b), no_invalid
    if acc.is_fixed and narrow:
        values, bad = _fixed_pair_table(mul, acc)
        return kernels.fixed_table_kernel(a, b, w, values, bad, acc.fmt.width)
    products = _product_table(mul) if narrow else np.empty(0, np.uint16)
    mul_args = (
        w,
        products,
        fmt_tuple(mul.in_format, mul.sub_in),
        fmt_tuple(prod_fmt),
        mul.sub_out == "flush",
    )
    if acc.is_fixed:
        mode = MODE_CODE[acc.rounding]
        return kernels.fixed_kernel(a, b, *mul_args, acc.fmt.width, acc.fmt.f, mode)
    if narrow and _uses_tables(cfg):
        sums = _sum_table(replace(acc, sr_bits=8, sr_seed=1), prod_fmt)
        return kernels.table_kernel(a, b, w, products, sums, prod_fmt.width), no_invalid
    sr = acc.rounding == "sr"
    seeds = pe_seeds(acc.sr_seed, *no_invalid.shape) if sr else np.zeros((0, 0), np.int64)
    out = kernels.float_kernel(
        a,
        b,
        *mul_args,
        fmt_tuple(acc.fmt),
        MODE_CODE[acc.rounding],
        acc.sub_out == "flush",
        acc.sr_bits,
        seeds,
    )
    return out, no_invalid


BINARY32 = MacConfig(MulConfig(FP32), AccConfig(FP32))
_CANONICAL_NAN = 0x7FC00000  # golden's NaN: positive, quiet bit only


def _binary32(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """fp32:cfg1+fp32 on the CPU's float32 (see binary32_kernel), NaNs made canonical."""
    out = kernels.binary32_kernel(
        a.astype(np.uint32).view(np.float32), b.astype(np.uint32).view(np.float32)
    )
    bits = out.view(np.uint32).astype(np.int64)
    return np.where(np.isnan(out), _CANONICAL_NAN, bits)


@lru_cache(maxsize=1)
def _binary32_works() -> bool:
    """False if something in this process set flush-to-zero / denormals-are-zero (e.g. a
    library built with -ffast-math): then fp32 takes the exact scalar port instead."""
    tiny = np.full(64, 2.0**-140, np.float32)  # subnormal in binary32
    got = kernels.binary32_probe(tiny, np.full(64, 0.5, np.float32))
    return bool(np.all(got == np.float32(2.0**-140 * 1.5)))


def _all_pairs(width_hi: int, width_lo: int) -> tuple[np.ndarray, np.ndarray]:
    every = np.arange(1 << (width_hi + width_lo), dtype=np.uint64)
    return every >> np.uint64(width_lo), every & np.uint64((1 << width_lo) - 1)


@lru_cache(maxsize=TABLE_CACHE_SIZE)
def _product_table(mul: MulConfig) -> np.ndarray:
    """fp_mul of every pair (a << w | b): 2^16 product patterns (at most 15 bits)."""
    w = mul.in_format.width
    return fp_mul(*_all_pairs(w, w), mul).astype(np.uint16)


@lru_cache(maxsize=TABLE_CACHE_SIZE)
def _sum_table(acc: AccConfig, prod_fmt: FloatFormat) -> np.ndarray:
    """fp_add of every (acc << pw | p): the accumulator's next state for each product."""
    table = fp_add(*_all_pairs(acc.fmt.width, prod_fmt.width), acc, prod_fmt)
    return table.astype(np.uint16 if acc.fmt.width <= 16 else np.uint32)


@lru_cache(maxsize=TABLE_CACHE_SIZE)
def _fixed_pair_table(mul: MulConfig, acc: AccConfig) -> tuple[np.ndarray, np.ndarray]:
    """(signed fixed value, NaN flag) of to_fixed(fp_mul(a, b)) for every pair (a << w | b)."""
    w = mul.in_format.width
    bits, bad = to_fixed(fp_mul(*_all_pairs(w, w), mul), mul.out_format, acc.fmt, acc.rounding)
    return to_signed(bits, acc.fmt.width).astype(np.int32), bad
