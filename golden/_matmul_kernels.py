"""numba kernels of the MAC-array emulator (golden/matmul.py): C[i, j] = mac(A[i, :], B[:, j]).

Each kernel splits the M x N outputs into tiles of ROWS x COLS processing elements; tiles
run in parallel (prange) and every PE folds its K products in order k = 0..K-1 from +0,
exactly as golden `accumulate` does. A and B arrive as int64 bit patterns (A row-major
M x K, B row-major K x N), the result as int64 patterns and a bool `invalid`."""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from ._matmul_scalar import fp_add, fp_mul, to_fixed, xorshift32

ROWS, COLS = 4, 64  # a tile: 4 rows of A share each B row while it sits in L1


@njit(cache=True)
def _tiles(M, N):
    return ((M + ROWS - 1) // ROWS) * ((N + COLS - 1) // COLS)


@njit(cache=True)
def _tile_bounds(t, M, N):
    col_tiles = (N + COLS - 1) // COLS
    i0, j0 = (t // col_tiles) * ROWS, (t % col_tiles) * COLS
    return i0, min(i0 + ROWS, M), j0, min(j0 + COLS, N)


@njit(parallel=True, cache=True)
def table_kernel(A, B, in_width, products, sums, prod_width):
    """Narrow float accumulator, rne or rz: acc <- sums[acc << prod_width | p] with
    p = products[a << in_width | b] (both tables made by the golden model)."""
    M, K = A.shape
    N = B.shape[1]
    out = np.zeros((M, N), np.int64)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        acc = np.zeros((ROWS, COLS), np.int64)
        for k in range(K):
            for i in range(i0, i1):
                row = A[i, k] << in_width
                for j in range(j0, j1):
                    p = products[row | B[k, j]]
                    acc[i - i0, j - j0] = sums[(acc[i - i0, j - j0] << prod_width) | p]
        out[i0:i1, j0:j1] = acc[: i1 - i0, : j1 - j0]
    return out


@njit(parallel=True, cache=True)
def fixed_table_kernel(A, B, in_width, values, bad, acc_width):
    """Fixed accumulator with 8-bit inputs: values/bad[a << in_width | b] are the converted
    product (signed) and its NaN flag; saturating add, sticky invalid."""
    M, K = A.shape
    N = B.shape[1]
    lo, hi = -(1 << (acc_width - 1)), (1 << (acc_width - 1)) - 1
    out = np.zeros((M, N), np.int64)
    flags = np.zeros((M, N), np.bool_)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        acc = np.zeros((ROWS, COLS), np.int64)
        inv = np.zeros((ROWS, COLS), np.bool_)
        for k in range(K):
            for i in range(i0, i1):
                row = A[i, k] << in_width
                for j in range(j0, j1):
                    index = row | B[k, j]
                    acc[i - i0, j - j0] = min(max(acc[i - i0, j - j0] + values[index], lo), hi)
                    inv[i - i0, j - j0] |= bad[index]
        out[i0:i1, j0:j1] = acc[: i1 - i0, : j1 - j0]
        flags[i0:i1, j0:j1] = inv[: i1 - i0, : j1 - j0]
    return out & ((1 << acc_width) - 1), flags


@njit(cache=True)
def _product(a, b, in_width, products, in_fmt, prod_fmt, mul_flush):
    if products.size:
        return products[(a << in_width) | b]
    return fp_mul(a, b, in_fmt, prod_fmt, mul_flush)


@njit(parallel=True, cache=True)
def float_kernel(A, B, in_width, products, in_fmt, prod_fmt, mul_flush, acc_fmt, mode, flush,
                 sr_bits, seeds):  # fmt: skip
    """Float accumulator, any rounding: products from the table (if not empty) or fp_mul,
    then fp_add; with sr (mode 2) PE (i, j) steps its own xorshift32 from seeds[i, j] once
    per product and rounds with the top sr_bits of the new state."""
    M, K = A.shape
    N = B.shape[1]
    r = sr_bits if mode == 2 else 0
    out = np.zeros((M, N), np.int64)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        acc = np.zeros((ROWS, COLS), np.int64)
        state = np.zeros((ROWS, COLS), np.int64)
        if mode == 2:
            state[: i1 - i0, : j1 - j0] = seeds[i0:i1, j0:j1]
        for k in range(K):
            for i in range(i0, i1):
                a = A[i, k]
                for j in range(j0, j1):
                    p = _product(a, B[k, j], in_width, products, in_fmt, prod_fmt, mul_flush)
                    u = 0
                    if mode == 2:
                        s = xorshift32(state[i - i0, j - j0])
                        state[i - i0, j - j0] = s
                        u = s >> (32 - r)
                    acc[i - i0, j - j0] = fp_add(
                        acc[i - i0, j - j0], p, acc_fmt, prod_fmt, mode, flush, u, r
                    )
        out[i0:i1, j0:j1] = acc[: i1 - i0, : j1 - j0]
    return out


@njit(parallel=True, cache=True)
def fixed_kernel(A, B, in_width, products, in_fmt, prod_fmt, mul_flush, acc_width, acc_f, mode):
    """Fixed accumulator, any input width: fp_mul (or the product table), to_fixed,
    saturating add, sticky invalid."""
    M, K = A.shape
    N = B.shape[1]
    lo, hi = -(1 << (acc_width - 1)), (1 << (acc_width - 1)) - 1
    out = np.zeros((M, N), np.int64)
    flags = np.zeros((M, N), np.bool_)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        acc = np.zeros((ROWS, COLS), np.int64)
        inv = np.zeros((ROWS, COLS), np.bool_)
        for k in range(K):
            for i in range(i0, i1):
                a = A[i, k]
                for j in range(j0, j1):
                    p = _product(a, B[k, j], in_width, products, in_fmt, prod_fmt, mul_flush)
                    x, nan = to_fixed(p, prod_fmt, acc_width, acc_f, mode)
                    acc[i - i0, j - j0] = min(max(acc[i - i0, j - j0] + x, lo), hi)
                    inv[i - i0, j - j0] |= nan
        out[i0:i1, j0:j1] = acc[: i1 - i0, : j1 - j0]
        flags[i0:i1, j0:j1] = inv[: i1 - i0, : j1 - j0]
    return out & ((1 << acc_width) - 1), flags


@njit(parallel=True, cache=True)
def binary32_kernel(A, B):
    """IEEE binary32 multiply (rne) and add (rne) in the CPU's float32 arithmetic: the
    product of two binary32 values rounded once, then acc + p rounded once, both correctly
    rounded with gradual underflow, which is golden fp_mul / fp_add for fp32:cfg1+fp32
    (NaNs leave with the CPU's payload; the caller makes them canonical)."""
    M, K = A.shape
    N = B.shape[1]
    out = np.zeros((M, N), np.float32)
    for t in prange(_tiles(M, N)):
        i0, i1, j0, j1 = _tile_bounds(t, M, N)
        acc = np.zeros((ROWS, COLS), np.float32)
        for k in range(K):
            for i in range(i0, i1):
                a = A[i, k]
                for j in range(j0, j1):
                    p = a * B[k, j]
                    acc[i - i0, j - j0] = acc[i - i0, j - j0] + p
        out[i0:i1, j0:j1] = acc[: i1 - i0, : j1 - j0]
    return out


@njit(parallel=True, cache=True)
def binary32_probe(x, y):
    """x * y + x per element on every worker thread (subnormal results must survive)."""
    out = np.empty(x.size, np.float32)
    for i in prange(x.size):
        out[i] = x[i] * y[i] + x[i]
    return out
