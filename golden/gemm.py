"""HBFP GEMM (SPEC §5): BFP tiles along K, exact integer dot products, float accumulation."""

from __future__ import annotations

import math

import numpy as np

from lpmac.config import AccConfig, GemmConfig
from lpmac.errors import BitsError, ConfigError

from .accum import fp_add
from .convert import BfpBlocks, bfp_random_bits, to_bfp, to_float
from .rounding import round_pack, special_bits


def bfp_gemm(a_bits, b_bits, cfg: GemmConfig, array: tuple[int, int] | None = None) -> np.ndarray:
    """C = A.B for A (M x K) and B (K x N) bit patterns in cfg.in_fmt; returns C in cfg.out_fmt.

    1. tile t of row i of A and of column j of B are BFP blocks (exponents ea[i,t], eb[t,j]);
    2. P[i,j,t] = sum_k ka*kb exactly, scale 2^(ea+eb-2(m-2));
    3. P -> out format (rne), accumulated over t = 0, 1, ... with rne from +0;
    4. any special block feeding C[i,j] makes it NaN.

    Stochastic rounding (cfg.rounding == "sr") draws one random value per converted block:
    the A converter's T lanes (seeded lane_seed(seed, l)) step once per A block and the B
    converter's (seeded lane_seed(seed, T + l)) once per B block, both from reset, in the
    order the blocks are converted:
    * `array=None`: every block once, in tile-major order: A blocks (t, then row i), B blocks
      (t, then column j).
    * `array=(R, C)`: the order of the R x C systolic array (hdl/gemm.py) fed by its host:
      A is zero-padded to a multiple of R rows and B to a multiple of C columns; output tiles
      (p, q) of R x C results are computed in row-major order (p outer); for each, the A
      converter takes the blocks of rows pR..pR+R-1 in order (t, then i) and the B converter
      those of columns qC..qC+C-1 in order (t, then j). A block is thus converted again (with
      fresh random values) for every output tile that uses it, and padding blocks consume
      random values too. Without sr, `array` changes nothing."""
    a = np.asarray(a_bits, dtype=np.uint64)
    b = np.asarray(b_bits, dtype=np.uint64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise BitsError(f"bfp_gemm needs A (M x K) and B (K x N), got {a.shape} and {b.shape}")
    M, K = a.shape
    N = b.shape[1]
    T = cfg.T
    tiles = max(1, -(-K // T))
    if cfg.rounding != "sr":
        A = to_bfp(a, cfg.in_fmt, cfg.bfp, axis=1, mode=cfg.rounding)
        B = to_bfp(b.T, cfg.in_fmt, cfg.bfp, axis=1, mode=cfg.rounding)
        return _gemm_blocks(A, B, cfg)
    if array is None:
        ua = bfp_random_bits((tiles, M), T, cfg.sr_seed, cfg.sr_bits)
        ub = bfp_random_bits((tiles, N), T, cfg.sr_seed, cfg.sr_bits, lane_offset=T)
        return _gemm_blocks(_sr_blocks(a, ua, cfg), _sr_blocks(b.T, ub, cfg), cfg)

    R, C = array
    if R < 1 or C < 1:
        raise ConfigError(f"array must be (rows, cols) >= 1, got {array}")
    P, Q = max(1, -(-M // R)), max(1, -(-N // C))
    a_pad = np.zeros((P * R, K), np.uint64)
    a_pad[:M] = a
    bt_pad = np.zeros((Q * C, K), np.uint64)
    bt_pad[:N] = b.T
    ua = bfp_random_bits((P, Q, tiles, R), T, cfg.sr_seed, cfg.sr_bits)
    ub = bfp_random_bits((P, Q, tiles, C), T, cfg.sr_seed, cfg.sr_bits, lane_offset=T)
    out = np.zeros((P * R, Q * C), np.uint64)
    for p in range(P):
        for q in range(Q):
            A = _sr_blocks(a_pad[p * R : (p + 1) * R], ua[p, q], cfg)
            B = _sr_blocks(bt_pad[q * C : (q + 1) * C], ub[p, q], cfg)
            out[p * R : (p + 1) * R, q * C : (q + 1) * C] = _gemm_blocks(A, B, cfg)
    return out[:M, :N]


def _sr_blocks(rows, u, cfg: GemmConfig) -> BfpBlocks:
    """Rows of A (or of B.T) as BFP blocks, rounded with u drawn tile-major (tiles, rows, T)."""
    u = u.transpose(1, 0, 2)
    return to_bfp(rows, cfg.in_fmt, cfg.bfp, axis=1, mode="sr", u=u, sr_bits=cfg.sr_bits)


def _gemm_blocks(A: BfpBlocks, B: BfpBlocks, cfg: GemmConfig) -> np.ndarray:
    """Steps 2-4 for converted rows of A (M, tiles, T) and columns of B (N, tiles, T)."""
    m = cfg.m
    M, N, tiles = A.man.shape[0], B.man.shape[0], A.man.shape[1]
    acc_cfg = AccConfig(cfg.out_fmt, "rne")
    acc = np.zeros((M, N), np.uint64)
    # float64 BLAS is exact while sum |ka*kb| < 2^53; otherwise use int64 (exact to 2^63).
    exact_in_f64 = 2 * (m - 1) + math.ceil(math.log2(cfg.T)) <= 53
    for t in range(tiles):
        ka, kb = A.man[:, t, :], B.man[:, t, :]
        if exact_in_f64:
            P = (ka.astype(np.float64) @ kb.T.astype(np.float64)).astype(np.int64)
        else:
            P = ka @ kb.T
        scale = A.exp[:, t][:, None] + B.exp[:, t][None, :] - 2 * (m - 2)
        tile = round_pack(
            P < 0, np.abs(P).astype(np.uint64), scale, cfg.out_fmt, "rne", "ieee", zero=P == 0
        )
        acc = fp_add(acc, tile, acc_cfg)
    special = A.special.any(axis=1)[:, None] | B.special.any(axis=1)[None, :]
    return np.where(special, special_bits(cfg.out_fmt, np.zeros((M, N), bool), "nan"), acc)


def gemm_to_float(c_bits, cfg: GemmConfig) -> np.ndarray:
    """View bfp_gemm's output bit patterns as float64."""
    return to_float(c_bits, cfg.out_fmt)
