"""HBFP GEMM (SPEC §5): BFP tiles along K, exact integer dot products, float accumulation."""

from __future__ import annotations

import math

import numpy as np

from lpmac.config import AccConfig, GemmConfig

from .accum import fp_add
from .convert import bfp_random_bits, to_bfp, to_float
from .rounding import round_pack, special_bits


def bfp_gemm(a_bits, b_bits, cfg: GemmConfig) -> np.ndarray:
    """C = A.B for A (M x K) and B (K x N) bit patterns in cfg.in_fmt; returns C in cfg.out_fmt.

    1. tile t of row i of A and of column j of B are BFP blocks (exponents ea[i,t], eb[t,j]);
    2. P[i,j,t] = sum_k ka*kb exactly, scale 2^(ea+eb-2(m-2));
    3. P -> out format (rne), accumulated over t = 0, 1, ... with rne from +0;
    4. any special block feeding C[i,j] makes it NaN.
    With sr conversion the A converter's T lanes step once per A block in tile-major order
    (t, then i), and the B converter's (lanes seeded after A's) once per B block (t, then j)."""
    a = np.asarray(a_bits, dtype=np.uint64)
    b = np.asarray(b_bits, dtype=np.uint64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[0]:
        raise ValueError(f"bfp_gemm needs A (M x K) and B (K x N), got {a.shape} and {b.shape}")
    M, K = a.shape
    N = b.shape[1]
    T, m = cfg.T, cfg.m
    tiles = max(1, -(-K // T))
    ua = ub = None
    if cfg.rounding == "sr":
        ua = bfp_random_bits((tiles, M), T, cfg.sr_seed, cfg.sr_bits).transpose(1, 0, 2)
        ub = bfp_random_bits((tiles, N), T, cfg.sr_seed, cfg.sr_bits, lane_offset=T).transpose(1, 0, 2)
    A = to_bfp(a, cfg.in_fmt, cfg.bfp, axis=1, mode=cfg.rounding, u=ua, sr_bits=cfg.sr_bits)
    B = to_bfp(b.T, cfg.in_fmt, cfg.bfp, axis=1, mode=cfg.rounding, u=ub, sr_bits=cfg.sr_bits)

    acc_cfg = AccConfig(cfg.out_fmt, "rne")
    acc = np.zeros((M, N), np.uint64)
    # float64 BLAS is exact while sum |ka*kb| < 2^53; otherwise use int64 (exact to 2^63).
    exact_in_f64 = 2 * (m - 1) + math.ceil(math.log2(T)) <= 53
    for t in range(tiles):
        ka, kb = A.man[:, t, :], B.man[:, t, :]
        if exact_in_f64:
            P = (ka.astype(np.float64) @ kb.T.astype(np.float64)).astype(np.int64)
        else:
            P = ka @ kb.T
        scale = A.exp[:, t][:, None] + B.exp[:, t][None, :] - 2 * (m - 2)
        tile = round_pack(P < 0, np.abs(P).astype(np.uint64), scale, cfg.out_fmt, "rne", "ieee", zero=P == 0)
        acc = fp_add(acc, tile, acc_cfg)
    special = A.special.any(axis=1)[:, None] | B.special.any(axis=1)[None, :]
    return np.where(special, special_bits(cfg.out_fmt, np.zeros((M, N), bool), "nan"), acc)


def gemm_to_float(c_bits, cfg: GemmConfig) -> np.ndarray:
    """View bfp_gemm's output bit patterns as float64."""
    return to_float(c_bits, cfg.out_fmt)
