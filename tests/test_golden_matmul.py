"""The MAC-array emulator `golden.matmul` against golden `mac`, bit for bit.

Every case runs golden.matmul (small products on one thread), the same kernels on every
numba thread, and the computed kernels alone (numba ports of fp_mul / fp_add / to_fixed,
no tables, no float32 path), and compares each with golden `mac` of A[i, :] and B[:, j]
from +0. Inputs mix normal values
over a wide range, zeros of both signs and subnormals; row 0 of A and column 0 of B also
hold arbitrary patterns (NaN, inf, the top binade), so specials reach some PEs and leave
the others finite. With sr the reference steps one golden xorshift32 per PE, seeded
lane_seed(sr_seed, i*N + j); a few PEs are also checked against golden `mac` with that seed."""

from __future__ import annotations

import importlib
from dataclasses import replace

import numpy as np
import pytest

from lpmac import golden
from lpmac.config import MacConfig
from lpmac.errors import BitsError, BitsTypeError, ConfigError
from lpmac.xorshift import lane_seed

U64 = np.uint64
matmul_module = importlib.import_module("lpmac.golden.matmul")  # the package exports the function


def patterns(fmt, shape, rng, spread=(-6, 4), specials=True):
    """Bit patterns of `fmt`: normals N(0,1) * 2^[spread], 10 % signed zeros, 10 %
    subnormals; with `specials`, a quarter of row/column 0 (see `operands`) arbitrary."""
    values = rng.standard_normal(shape) * 2.0 ** rng.integers(*spread, shape)
    bits = golden.from_float(values, fmt, saturate=True)
    sign = U64(1 << (fmt.width - 1)) * rng.integers(0, 2, shape).astype(U64)
    kind = rng.random(shape)
    sub = rng.integers(1, 1 << fmt.m, shape).astype(U64)
    bits = np.where(kind < 0.1, sign, np.where(kind < 0.2, sign | sub, bits))
    return bits.astype(U64)


def operands(fmt, M, K, N, rng, specials=True, spread=(-6, 4)):
    A = patterns(fmt, (M, K), rng, spread)
    B = patterns(fmt, (K, N), rng, spread)
    if specials:
        any_bits = lambda n: rng.integers(0, 1 << fmt.width, n).astype(U64)
        hit_a, hit_b = rng.random(K) < 0.25, rng.random(K) < 0.25
        A[0, hit_a] = any_bits(hit_a.sum())
        B[hit_b, 0] = any_bits(hit_b.sum())
    return A, B


def seeded(cfg: MacConfig, seed: int) -> MacConfig:
    return replace(cfg, acc=replace(cfg.acc, sr_seed=seed))


def reference(A, B, cfg: MacConfig):
    """golden mac of every PE; with sr one golden xorshift32 per PE (lane i*N + j)."""
    if cfg.acc.rounding != "sr":
        return golden.mac(A.T[:, :, None], B[:, None, :], cfg)
    M, N = A.shape[0], B.shape[1]
    prods = golden.fp_mul(A.T[:, :, None], B[:, None, :], cfg.mul)
    seeds = [[lane_seed(cfg.acc.sr_seed, i * N + j) for j in range(N)] for i in range(M)]
    state = np.array(seeds, dtype=np.uint32)
    acc = np.zeros((M, N), U64)
    for k in range(A.shape[1]):  # golden accumulate's loop, with a generator per lane
        state = golden.xorshift32(state)
        u = (state >> np.uint32(32 - cfg.acc.sr_bits)).astype(U64)
        acc = golden.fp_add(acc, prods[k], cfg.acc, cfg.mul.out_format, u)
    return golden.MacResult(acc, np.zeros((M, N), bool))


def check(A, B, cfg: MacConfig, min_finite: float = 0.5):
    want = reference(A, B, cfg)
    got = golden.matmul(A, B, cfg)
    assert got.acc.dtype == U64 and got.invalid.dtype == bool
    assert got.acc.shape == got.invalid.shape == (A.shape[0], B.shape[1])
    a, b = A.astype(np.int64), B.astype(np.int64)
    # golden.matmul runs small products on one thread; _run uses every numba thread
    parallel = matmul_module._run(a, b, cfg)
    computed = matmul_module._run(a, b, cfg, use_tables=False)
    runs = (("matmul", got.acc, got.invalid), ("parallel", *parallel), ("computed", *computed))
    for name, acc, invalid in runs:
        bad = np.argwhere(acc.astype(U64) != want.acc)
        assert bad.size == 0, f"{cfg} {name}: {len(bad)} mismatches, first at {bad[0]}"
        assert np.array_equal(invalid, want.invalid), f"{cfg} {name}: invalid flags differ"
    if cfg.acc.rounding == "sr":  # the per-PE seeding, straight from golden mac
        N = B.shape[1]
        for i, j in {(0, 0), (A.shape[0] - 1, N - 1), (A.shape[0] // 2, N // 2)}:
            pe = golden.mac(A[i], B[:, j], seeded(cfg, lane_seed(cfg.acc.sr_seed, i * N + j)))
            assert got.acc[i, j] == pe.acc, f"{cfg}: PE ({i}, {j}) is not golden mac"
    fmt = cfg.acc.fmt
    if not cfg.acc.is_fixed:  # a test of mostly NaN / inf outputs would prove little
        values = golden.to_float(want.acc, fmt)[1:, 1:]  # the PEs the specials do not reach
        assert np.isfinite(values).mean() >= min_finite and np.count_nonzero(values) > 0
    return want


def shape(rng, k_max=160):
    return int(rng.integers(2, 9)), int(rng.integers(1, k_max)), int(rng.integers(2, 9))


# Narrow enough that most sum tables stay small (2^24 golden fp_adds take seconds each);
# test_large_matrices adds E6M5:rz and E5M10:flush for every CFG.
FLOAT_ACCS = ["E6M5", "E5M4:rz", "E4M6:flush", "E6M5:sr,bits=4,seed=9", "E8M7:sr"]


@pytest.mark.parametrize("fmt", ["E5M2", "E4M3", "E3M4"])
@pytest.mark.parametrize("cfg_n", range(1, 7))
def test_8bit_inputs_float_accumulators(fmt, cfg_n):
    rng = np.random.default_rng(cfg_n * 7 + len(fmt))
    for acc in FLOAT_ACCS:
        cfg = MacConfig.parse(f"{fmt}:cfg{cfg_n}+{acc}")
        spread = (-3, 1) if fmt == "E3M4" else (-6, 4)  # E3M4 overflows above 15.5
        check(*operands(cfg.mul.in_format, *shape(rng), rng, spread=spread), cfg)


@pytest.mark.parametrize("fmt", ["E5M2", "E4M3"])
@pytest.mark.parametrize("cfg_n", range(1, 7))
def test_8bit_inputs_fixed_accumulators(fmt, cfg_n):
    rng = np.random.default_rng(cfg_n * 11 + len(fmt))
    saw_invalid = saw_saturation = False
    for acc in ["Q8.13", "Q11.13", "Q8.13:rz", "Q4.4"]:
        cfg = MacConfig.parse(f"{fmt}:cfg{cfg_n}+{acc}")
        want = check(*operands(cfg.mul.in_format, *shape(rng), rng, spread=(-8, 6)), cfg)
        saw_invalid |= bool(want.invalid.any())
        top = golden.to_float(want.acc, cfg.acc.fmt)
        saw_saturation |= bool(np.any(np.abs(top) >= 2.0 ** (cfg.acc.fmt.i - 1) - 1))
    assert saw_saturation  # Q4.4 saturates
    if fmt == "E4M3" and cfg_n <= 3:  # only IEEE formats have NaN products
        assert saw_invalid


@pytest.mark.parametrize(
    "spec",
    [f"fp16:cfg{n}+fp32" for n in range(1, 7)]
    + [
        "fp16:cfg1+E8M7:flush",
        "fp16:cfg3+E6M5:sr,bits=8,seed=3",
        "bf16:cfg1+Q11.13",
        "bf16:cfg5+Q8.13:rz",
        "fp32:cfg1+fp32",
        "fp32:cfg1+fp32:rz",
        "fp32:cfg1+fp32:sr,bits=12,seed=5",
        "fp32:cfg2+fp32:flush",
        "fp32:cfg3+fp32",
        "fp32:cfg6+E8M10",
        "E8M10:sub_in=as_normal,round=rne,sub_out=ieee+fp16",
        "E2M1:cfg1+E3M2:rz",
        "E6M9:cfg4+Q16.16",
    ],
)
def test_wide_and_odd_formats(spec):
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(len(spec))
    fmt = cfg.mul.in_format
    spread = (-20, 20) if fmt.e == 8 and not cfg.acc.is_fixed and cfg.acc.fmt.e == 8 else (-6, 2)
    M, K, N = shape(rng, 120)
    if fmt.e == 2:  # E2M1 (max 3) into E3M2 (max 14): short sums of small values
        spread, K = (-2, 0), min(K, 6)
    check(*operands(fmt, M, K, N, rng, spread=spread), cfg, min_finite=0.3)


@pytest.mark.parametrize(
    "spec", ["E5M2:cfg5+E6M5", "E5M2:cfg5+Q8.13", "E4M3:cfg1+E6M5:sr", "E4M3:cfg1+E6M5:rz"]
)
def test_k_4096(spec):
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(4096)
    check(*operands(cfg.mul.in_format, 2, 4096, 3, rng), cfg)


def test_tiles_and_lanes_past_one_tile():
    """More rows and columns than one tile (4 x 64 PEs): tiles and sr lanes stay in place."""
    rng = np.random.default_rng(5)
    for spec in ["E5M2:cfg5+E6M5", "E5M2:cfg5+E6M5:sr,seed=12345", "E4M3:cfg2+Q8.13"]:
        cfg = MacConfig.parse(spec)
        check(*operands(cfg.mul.in_format, 9, 23, 130, rng), cfg)


def test_pe_seeds_are_lane_seeds():
    for seed in (1, 7, 0x9E3779B9, 0xFFFFFFFF):
        seeds = matmul_module.pe_seeds(seed, 5, 7)
        want = [[lane_seed(seed, i * 7 + j) for j in range(7)] for i in range(5)]
        assert seeds.tolist() == want
    assert 0 not in matmul_module.pe_seeds(0x9E3779B9, 1, 3)  # lane 1 would be zero


def test_empty_dimensions():
    cfg = MacConfig.parse("E5M2:cfg5+E6M5")
    out = golden.matmul(np.zeros((3, 0), U64), np.zeros((0, 2), U64), cfg)
    assert out.acc.tolist() == [[0, 0]] * 3 and not out.invalid.any()
    assert golden.matmul(np.zeros((0, 4), U64), np.zeros((4, 2), U64), cfg).acc.shape == (0, 2)


def test_accepts_any_integer_dtype_and_lists():
    cfg = MacConfig.parse("E4M3:cfg1+E6M5")
    A, B = operands(cfg.mul.in_format, 3, 10, 4, np.random.default_rng(2))
    want = golden.matmul(A, B, cfg).acc
    assert np.array_equal(golden.matmul(A.astype(np.uint8), B.astype(np.int16), cfg).acc, want)
    assert np.array_equal(golden.matmul(A.tolist(), B.tolist(), cfg).acc, want)
    assert np.array_equal(golden.matmul(np.asfortranarray(A), B, cfg).acc, want)


CFG = MacConfig.parse("E5M2:cfg5+E6M5")
GOOD = np.zeros((2, 3), U64)


@pytest.mark.parametrize(
    "a,b,cfg,error,message",
    [
        (GOOD.astype(float), GOOD.T, CFG, BitsTypeError, "a_bits .*E5M2.*float64.*from_float"),
        (GOOD, GOOD.T.astype(bool), CFG, BitsTypeError, "b_bits .*got bool"),
        (GOOD - 1.5, GOOD.T, CFG, BitsTypeError, "a_bits"),
        (np.full((2, 3), -1), GOOD.T, CFG, BitsError, "a_bits .*got -1"),
        (GOOD, np.full((3, 2), 256), CFG, BitsError, r"b_bits .*0\.\.255.*got 256"),
        (GOOD[0], GOOD.T, CFG, BitsError, r"a_bits must be a 2-D M x K .*shape \(3,\)"),
        (GOOD, GOOD.T[None], CFG, BitsError, "b_bits must be a 2-D K x N"),
        (GOOD, GOOD, CFG, BitsError, "a_bits is 2 x 3 but b_bits is 2 x 3"),
        (GOOD, GOOD.T, "E5M2:cfg5+E6M5", ConfigError, "cfg must be a MacConfig.*parse"),
    ],
)
def test_refusals(a, b, cfg, error, message):
    with pytest.raises(error, match=message) as info:
        golden.matmul(a, b, cfg)
    assert "\n" not in str(info.value) and "golden.matmul" in str(info.value)


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec",
    [
        "E5M2:cfg5+E6M5",
        "E5M2:cfg5+Q8.13",
        "E5M2:cfg5+Q11.13",
        "E4M3:cfg1+E6M5",
        "E4M3:cfg1+E6M5:sr",
        "E5M2:cfg1+E8M7:rz",
        "fp16:cfg1+fp32",
        "fp32:cfg1+fp32",
        "fp32:cfg1+fp32:sr",
    ],
)
def test_large_matrices(spec):
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(99)
    for M, K, N in [(16, 4096, 16), (70, 257, 67)]:
        check(*operands(cfg.mul.in_format, M, K, N, rng), cfg, min_finite=0.3)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["E5M2", "E4M3"])
@pytest.mark.parametrize("cfg_n", range(1, 7))
def test_8bit_inputs_wide_sum_tables(fmt, cfg_n):
    rng = np.random.default_rng(cfg_n * 13 + len(fmt))
    for acc in ["E6M5:rz", "E5M10:flush", "E5M10:rz"]:
        cfg = MacConfig.parse(f"{fmt}:cfg{cfg_n}+{acc}")
        check(*operands(cfg.mul.in_format, *shape(rng, 400), rng), cfg)


def test_binary32_edges():
    """fp32:cfg1+fp32 (computed on the CPU's float32): subnormal and overflowing products,
    exact cancellation to +0, +0 + -0, inf - inf, NaN inputs of any payload and sign."""
    cfg = MacConfig.parse("fp32:cfg1+fp32")
    f32 = lambda x: np.asarray(x, np.float32).view(np.uint32).astype(U64)
    tiny, big = 2.0**-70, 2.0**100
    A = f32(
        [
            [tiny, -tiny * 1.5, 3.0, -3.0],  # subnormal products, then 3 - 3
            [big, big, -big, 1.0],  # overflow to inf
            [-0.0, -0.0, -0.0, -0.0],  # -0 products into +0
            [1.0, 2.0**-24, 2.0**-24, 2.0**-24],  # ties at 1 + 2^-24
            [big, -big, 0.0, 0.0],  # inf - inf
        ]
    )
    B = f32([[tiny, big, 1.0], [tiny, big, 2.0], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]])
    B[3, 2] = 0xFFC12345  # a negative NaN with a payload: every PE of column 2
    want = check(A, B, cfg, min_finite=0.0)
    assert want.acc[0, 0] == 0 and want.acc[2, 0] == 0  # +0, not -0
    assert want.acc[1, 1] == 0x7F800000 and want.acc[4, 1] == 0x7FC00000
    assert np.all(want.acc[:, 2] == 0x7FC00000)  # golden's one NaN
