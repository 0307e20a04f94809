"""hdl/gemm_add.py (the HBFP column's fused BFP->fp32 accumulate) against the golden model's
two roundings: x = golden round_pack(p * 2^scale) (rne, IEEE subnormals), then golden
fp_add(acc, x) (rne), bit for bit in Amaranth's simulator. Vectors: random fp32 accumulators
(any bits, subnormals, zeros of both signs, inf, NaN, and values that cancel x), p over the
full signed range (0, +-1, +-max, -2^(W-1)), scales over the whole range and dense around the
subnormal grid (where the first rounding acts) and the overflow threshold."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.sim import Simulator

from lpmac.config import AccConfig, GemmConfig
from lpmac.formats import FP32
from lpmac.golden.accum import fp_add
from lpmac.golden.rounding import round_pack, special_bits
from lpmac.hdl.convert import bfp_exp_range
from lpmac.hdl.gemm import gemm_acc_width
from lpmac.hdl.gemm_add import BfpAccumulate

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
U64 = np.uint64
GRID = FP32.emin - FP32.m  # -149


def golden_step(acc, p, scale, nan):
    x = round_pack(p < 0, np.abs(p).astype(U64), scale, FP32, "rne", "ieee", zero=p == 0)
    x = np.where(nan, special_bits(FP32, np.zeros(len(p), bool), "nan"), x)
    return fp_add(acc.astype(U64), x, AccConfig(FP32, "rne"))


def vectors(n: int, width: int, scale_range, seed: int):
    rng = np.random.default_rng(seed)
    lo, hi = scale_range
    top = 1 << (width - 1)
    kind = rng.integers(0, 4, n)
    p = np.where(
        kind == 0,
        rng.choice(np.array([0, 1, -1, top - 1, -(top - 1), -top, 2, -2, 3, top // 2]), n),
        rng.integers(-top, top, n) >> rng.integers(0, width, n),
    )
    near = rng.integers(-width - 6, width + 6, n)
    pick = rng.integers(0, 4, n)
    scale = np.select(
        [pick == 0, pick == 1, pick == 2],
        [GRID + near, FP32.emax + 1 - (width - 1) + near // 2, rng.integers(lo, hi + 1, n)],
        rng.integers(-160, 60, n),
    )
    scale = np.clip(scale, lo, hi)
    # acc: random bits, small values, specials, or minus x (rounded) plus a few ulps.
    x = round_pack(p < 0, np.abs(p).astype(U64), scale, FP32, "rne", "ieee", zero=p == 0)
    a_kind = rng.integers(0, 6, n)
    specials = np.array([0, 1 << 31, 0x7F800000, 0xFF800000, 0x7FC00000, 0x00000001, 0x80800000])
    acc = np.select(
        [a_kind == 0, a_kind == 1, a_kind == 2, a_kind == 3],
        [
            rng.integers(0, 1 << 32, n),
            rng.integers(0, 1 << 25, n) | (rng.integers(0, 2, n) << 31),
            rng.choice(specials, n),
            (x.astype(np.int64) ^ (1 << 31)) + rng.integers(-3, 4, n),
        ],
        x.astype(np.int64) + rng.integers(-(1 << 24), 1 << 24, n),
    )
    acc = acc & 0xFFFFFFFF
    nan = rng.random(n) < 0.03
    return acc.astype(U64), p.astype(np.int64), scale.astype(np.int64), nan


def simulate(dut: BfpAccumulate, acc, p, scale, nan):
    out = np.zeros(len(p), U64)

    async def bench(ctx):
        for i in range(len(p)):
            ctx.set(dut.acc, int(acc[i]))
            ctx.set(dut.p, int(p[i]))
            ctx.set(dut.scale, int(scale[i]))
            ctx.set(dut.nan, int(nan[i]))
            out[i] = ctx.get(dut.s)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return out


def column_unit(spec: str) -> tuple[BfpAccumulate, int, tuple[int, int]]:
    """The unit as the array's column builds it for GemmConfig `spec`."""
    cfg = GemmConfig.parse(spec)
    lo, hi = bfp_exp_range(cfg.in_fmt)
    scale_range = (2 * lo - 2 * (cfg.m - 2), 2 * hi - 2 * (cfg.m - 2))
    width = gemm_acc_width(cfg.m, cfg.T)
    return BfpAccumulate(cfg.out_fmt, width, scale_range), width, scale_range


@pytest.mark.parametrize("spec,n,seed", [("BFP8/24", 6000, 1), ("BFP8/8", 3000, 2)])
def test_fused_step_matches_golden(spec, n, seed):
    dut, width, scale_range = column_unit(spec)
    acc, p, scale, nan = vectors(n, width, scale_range, seed)
    got = simulate(dut, acc, p, scale, nan)
    want = golden_step(acc, p, scale, nan)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [
        (hex(acc[i]), p[i], scale[i], nan[i], hex(got[i]), hex(want[i])) for i in bad[:5]
    ]


def test_subnormal_grid_rounding_is_exercised():
    """The vectors hit the first rounding (p * 2^scale not on the 2^-149 grid), its ties, and
    both overflow and exact-x cancellation, so the test above can fail on them."""
    _, width, scale_range = column_unit("BFP8/24")
    acc, p, scale, nan = vectors(6000, width, scale_range, 1)
    off_grid = (scale < GRID) & (p % (2.0 ** (GRID - scale).clip(0, 62)) != 0)
    x = round_pack(p < 0, np.abs(p).astype(U64), scale, FP32, "rne", "ieee", zero=p == 0)
    assert off_grid.sum() > 200
    assert ((x & 0x7FFFFFFF) == 0x7F800000).sum() > 50  # x overflowed to inf
    assert (golden_step(acc, p, scale, nan) & 0x7FFFFFFF == 0).sum() > 50  # cancellation


def test_bad_widths_rejected():
    with pytest.raises(ValueError):
        BfpAccumulate(FP32, 26, (-10, 10))
