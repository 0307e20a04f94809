"""Long accumulators (`E6M5:long`) in the MAC-array emulator (golden/matmul.py).

Each PE holds the exact sum R of its products as an integer in units of 2^lsb_exp (golden/
accum_long.py's register, `LongPlan` of the product format) plus sticky flags; the result is
golden `read_out` of R and the flags, so the one rounding is golden's own. Every product is
exact in the multiplier's output format, so its term is an integer (sig << shift, signed):
- registers of at most 63 bits (E4M3:cfg1, fp16:cfg1 products) add terms in one int64 and
  test the register's range at every step (|R| + |term| < 2^63 always);
- wider registers are LIMB_BITS-bit limbs in int64 words, added to without carrying: a
  computed term as two or three limb-aligned pieces, a table's term (sig < 2^15) as one
  value sig << (shift mod 32) into the limb of its LSB. The limbs are carried every CHUNK
  steps (before any word could overflow). The range needs no test in the first
  2^KMAX_LOG2 steps from +0; after that, at every chunk, if any PE of the tile could leave
  it within the chunk, the tile runs the chunk one carried, range-tested step at a time.
A step that leaves the range sets the overflow flag (with its sign) and leaves R alone; R
is never read again (read_out gives inf), so the emulator stops adding to such a PE.
Eight-bit inputs read each pair's term (or its limb index and pieces) and its class flags
from tables built with golden `unpack` from golden `fp_mul`'s product table."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from lpmac.config import MacConfig
from lpmac.long_acc import KMAX_LOG2, LongPlan

from ._matmul_kernels import COLS, ROWS, _tile_bounds, _tiles
from ._matmul_scalar import fmt_tuple, fp_mul, shr, unpack
from .accum_long import read_out
from .raw import unpack as golden_unpack

__all__ = ["long_matmul", "LIMB_BITS", "CHUNK", "INT64_MAX_WIDTH"]

LIMB_BITS = 32
LIMB_MASK = (1 << LIMB_BITS) - 1
CHUNK = 1 << KMAX_LOG2  # steps between range checks (the first CHUNK from +0 cannot overflow)
INT64_MAX_WIDTH = 63  # registers this narrow live in one int64
TABLE_SIG_BITS = 15  # a table term sig << (< 32) times CHUNK steps stays below 2^62
NAN, POS_INF, NEG_INF, OVF, OVF_NEG = 1, 2, 4, 8, 16  # bits of a PE's flags


def long_matmul(a, b, cfg: MacConfig, products: np.ndarray) -> np.ndarray:
    """Accumulator patterns (uint64, M x N) of int64 A (M x K) and B (K x N) through PEs
    with a long accumulator; `products` is golden fp_mul's 2^16-pair table (8-bit inputs)
    or empty (then every product is computed with the scalar port)."""
    mul = cfg.mul
    prod_fmt = mul.out_format
    plan = LongPlan.of(prod_fmt)
    mul_args = (
        mul.in_format.width,
        fmt_tuple(mul.in_format, mul.sub_in),
        fmt_tuple(prod_fmt),
        mul.sub_out == "flush",
    )
    tables = products.size and prod_fmt.m + 1 <= TABLE_SIG_BITS
    raw = golden_unpack(products, prod_fmt) if tables else None
    classes = _classes(raw) if raw is not None else np.zeros(0, np.uint8)
    if plan.width <= INT64_MAX_WIDTH:
        terms = _terms(raw, plan) if raw is not None else np.zeros(0, np.int64)
        reg, flags = long64_kernel(a, b, terms, classes, *mul_args, plan.lsb_exp, plan.limit)
    else:
        pieces = _pieces(raw, plan) if raw is not None else np.zeros((0, 2), np.int64)
        limbs, flags = limb_kernel(
            a, b, pieces, classes, *mul_args, plan.lsb_exp, plan.input_bits, _limbs(plan)
        )
        reg = np.zeros(flags.shape, dtype=object)
        for index in range(limbs.shape[2]):  # the exact sum as Python ints
            reg += limbs[:, :, index].astype(object) << (LIMB_BITS * index)
    bit = lambda flag: (flags & flag) != 0  # noqa: E731
    out = read_out(reg, bit(NAN), bit(POS_INF), bit(NEG_INF), bit(OVF), bit(OVF_NEG), cfg.acc, plan)
    return np.asarray(out, dtype=np.uint64)


def _limbs(plan: LongPlan) -> int:
    """Limbs per register: up to the one of the largest term's top bit (q = input_bits //
    LIMB_BITS), the next one and one more for a term's third piece; the top two hold every
    sum the range lets through (and one step beyond it)."""
    return plan.input_bits // LIMB_BITS + 3


def _classes(raw) -> np.ndarray:
    return (
        raw.nan * NAN + (raw.inf & ~raw.sign) * POS_INF + (raw.inf & raw.sign) * NEG_INF
    ).astype(np.uint8)


def _terms(raw, plan: LongPlan) -> np.ndarray:
    """Signed term of each product in register units (narrow registers: < 2^47)."""
    shift = np.where(raw.sig == 0, 0, raw.exp - plan.lsb_exp)
    mag = (raw.sig << shift.astype(np.uint64)).astype(np.int64)
    return np.where(raw.sign, -mag, mag)


def _pieces(raw, plan: LongPlan) -> np.ndarray:
    """(limb index, signed value) of each product's term: the term is value << (32 * index),
    value = +-sig << (shift mod 32) < 2^(TABLE_SIG_BITS + 31)."""
    shift = np.where(raw.sig == 0, 0, raw.exp - plan.lsb_exp)
    index, offset = shift // LIMB_BITS, (shift % LIMB_BITS).astype(np.uint64)
    value = (raw.sig << offset).astype(np.int64)
    return np.stack([index, np.where(raw.sign, -value, value)], 1)


@njit(cache=True)
def _product(a, b, in_fmt, prod_fmt, mul_flush, lsb_exp):
    """(sign, sig, shift, class flags) of the product a*b: the term is +-sig << shift."""
    p = fp_mul(a, b, in_fmt, prod_fmt, mul_flush)
    sign, sig, exp, _zero, inf, nan = unpack(p, prod_fmt)
    cls = (NAN if nan else 0) | ((NEG_INF if sign else POS_INF) if inf else 0)
    return sign, sig, (exp - lsb_exp) if sig != 0 else 0, cls


@njit(parallel=True, cache=True)
def long64_kernel(A, B, terms, classes, in_width, in_fmt, prod_fmt, mul_flush, lsb_exp, limit):
    """Registers of <= 63 bits: R <- R + term unless that leaves -limit .. limit - 1."""
    M, K = A.shape
    N = B.shape[1]
    regs = np.zeros((M, N), np.int64)
    flags = np.zeros((M, N), np.uint8)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        reg = np.zeros((ROWS, COLS), np.int64)
        flag = np.zeros((ROWS, COLS), np.uint8)
        for k in range(K):
            for i in range(i0, i1):
                a = A[i, k]
                for j in range(j0, j1):
                    if terms.size:
                        index = (a << in_width) | B[k, j]
                        term, cls = terms[index], classes[index]
                    else:
                        sign, sig, shift, cls = _product(
                            a, B[k, j], in_fmt, prod_fmt, mul_flush, lsb_exp
                        )
                        term = -(sig << shift) if sign else sig << shift
                    total = reg[i - i0, j - j0] + term
                    if total >= limit or total < -limit:
                        if flag[i - i0, j - j0] & OVF == 0:
                            cls |= OVF | (OVF_NEG if total < 0 else 0)
                    else:
                        reg[i - i0, j - j0] = total
                    flag[i - i0, j - j0] |= cls
        regs[i0:i1, j0:j1] = reg[: i1 - i0, : j1 - j0]
        flags[i0:i1, j0:j1] = flag[: i1 - i0, : j1 - j0]
    return regs, flags


@njit(cache=True)
def _add_pieces(limbs, index, low, high, top, sign):
    """Add (sign = +-1) the pieces low, high, top at limbs[index], [index + 1], [index + 2]."""
    limbs[index] += sign * low
    if high != 0:
        limbs[index + 1] += sign * high
    if top != 0:
        limbs[index + 2] += sign * top


@njit(cache=True)
def _split(sig, shift):
    """(limb index, low, high, top): sig << shift as three limb-aligned pieces."""
    offset = shift & (LIMB_BITS - 1)
    low = (sig << offset) & LIMB_MASK
    rest = shr(sig, LIMB_BITS - offset)
    return shift // LIMB_BITS, low, rest & LIMB_MASK, shr(rest, LIMB_BITS)


@njit(cache=True)
def _carry_top(limbs, q):
    """Carry the limbs (all but the last into 0 .. 2^32 - 1) and return floor(R / 2^(32q))."""
    n = limbs.size
    for index in range(n - 1):
        carry = limbs[index] >> LIMB_BITS
        limbs[index] -= carry << LIMB_BITS
        limbs[index + 1] += carry
    top = limbs[n - 1]
    for index in range(n - 2, q - 1, -1):  # wraps in int64; the true value is small
        top = (top << LIMB_BITS) + limbs[index]
    return top


@njit(cache=True)
def _chunk_is_safe(reg, flag, rows, cols, q, steps, ib_above_base, range_above_base):
    """Carry every register of the tile; True if none can leave the range in `steps` more
    steps: |R| < (|T| + 1) * 2^(32q) and each step adds less than 2^input_bits."""
    safe = True
    for i in range(rows):
        for j in range(cols):
            limbs = reg[i, j]
            if flag[i, j] & OVF:
                limbs[:] = 0  # never read again
                continue
            top = abs(_carry_top(limbs, q))
            if top + 1 + (steps << ib_above_base) > (1 << range_above_base):
                safe = False
    return safe


@njit(cache=True)
def _table_chunk(A, B, pieces, classes, in_width, reg, flag, i0, i1, j0, j1, k0, k1):
    """Steps k0 .. k1 - 1 of a tile from the pair table, none near the range's edge."""
    for k in range(k0, k1):
        for i in range(i0, i1):
            row = A[i, k] << in_width
            for j in range(j0, j1):
                index = row | B[k, j]
                reg[i - i0, j - j0, pieces[index, 0]] += pieces[index, 1]
                flag[i - i0, j - j0] |= classes[index]


@njit(parallel=True, cache=True)
def limb_kernel(A, B, pieces, classes, in_width, in_fmt, prod_fmt, mul_flush, lsb_exp,
                input_bits, n_limbs):  # fmt: skip
    """Registers wider than 63 bits as n_limbs 32-bit limbs (see the module docstring)."""
    M, K = A.shape
    N = B.shape[1]
    q = n_limbs - 3  # limb of the largest term's top bit
    ib_above_base = input_bits - LIMB_BITS * q
    range_above_base = input_bits + KMAX_LOG2 - LIMB_BITS * q  # limit = 2^(that + 32q)
    regs = np.zeros((M, N, n_limbs), np.int64)
    flags = np.zeros((M, N), np.uint8)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        reg = np.zeros((ROWS, COLS, n_limbs), np.int64)
        flag = np.zeros((ROWS, COLS), np.uint8)
        for k0 in range(0, K, CHUNK):
            k1 = min(k0 + CHUNK, K)
            safe = k0 == 0 or _chunk_is_safe(
                reg, flag, i1 - i0, j1 - j0, q, k1 - k0, ib_above_base, range_above_base
            )
            if safe and pieces.shape[0]:  # the common case: one add per step
                _table_chunk(A, B, pieces, classes, in_width, reg, flag, i0, i1, j0, j1, k0, k1)
                continue
            for k in range(k0, k1):
                for i in range(i0, i1):
                    a = A[i, k]
                    for j in range(j0, j1):
                        limbs = reg[i - i0, j - j0]
                        if pieces.shape[0]:
                            index = (a << in_width) | B[k, j]
                            cls = classes[index]
                            at, low, high, top, sign = pieces[index, 0], pieces[index, 1], 0, 0, 1
                        else:
                            negative, sig, shift, cls = _product(
                                a, B[k, j], in_fmt, prod_fmt, mul_flush, lsb_exp
                            )
                            at, low, high, top = _split(sig, shift)
                            sign = -1 if negative else 1
                        if safe:
                            _add_pieces(limbs, at, low, high, top, sign)
                        elif flag[i - i0, j - j0] & OVF == 0:  # one carried, tested step
                            _add_pieces(limbs, at, low, high, top, sign)
                            above = _carry_top(limbs, q) >> range_above_base
                            if above != 0 and above != -1:
                                _add_pieces(limbs, at, low, high, top, -sign)
                                cls |= OVF | (OVF_NEG if above < 0 else 0)
                        flag[i - i0, j - j0] |= cls
        regs[i0:i1, j0:j1] = reg[: i1 - i0, : j1 - j0]
        flags[i0:i1, j0:j1] = flag[: i1 - i0, : j1 - j0]
    return regs, flags
