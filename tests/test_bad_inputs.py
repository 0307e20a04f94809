"""Bad inputs to the Python API (docs/reliability.md): every one is refused with the documented
class of lpmac.errors, a one-line message naming the problem, no warning and no change to the
caller's arrays; none is truncated, masked or read as something else. Valid inputs of every
accepted kind still give the bits of an independent reference (ml_dtypes, literal values).

The command-line half of issue 15 lives beside these cases in tests/test_cli.py.
"""

from __future__ import annotations

import copy
import warnings

import ml_dtypes
import numpy as np
import pytest

from lpmac import (
    AccConfig,
    BfpFormat,
    BitsError,
    BitsTypeError,
    ConfigError,
    FixedFormat,
    FloatFormat,
    FormatError,
    GemmConfig,
    LimitError,
    LpmacError,
    MacConfig,
    MulConfig,
    golden,
    parse_format,
)

FP32, E5M2, E6M5 = parse_format("fp32"), parse_format("E5M2"), parse_format("E6M5")
Q8_8, Q8_13, BFP8_4 = parse_format("Q8.8"), parse_format("Q8.13"), parse_format("BFP8/4")
MUL = MulConfig.parse("E5M2:cfg1")
ACC, ACC_SR, ACC_FIXED = (AccConfig.parse(s) for s in ("E6M5", "E6M5:sr,bits=8", "Q8.13"))
MAC = MacConfig.parse("E5M2:cfg5+E6M5")
GEMM = GemmConfig.parse("BFP8/4")
XS = np.arange(12, dtype=np.uint64).reshape(4, 3)  # 4 steps x 3 lanes of E6M5 patterns
ONE_FP32 = np.array([0x3F800000, 0x40000000], dtype=np.uint64)
BIG = 1 << 15  # (BIG x 1) times (1 x BIG) would make 2^30 results, over the 2^28 limit

CASES = []
G = golden  # short names keep one case to a line
B, T, C, F, L = BitsError, BitsTypeError, ConfigError, FormatError, LimitError


def case(name: str, cls: type, text: str, fn, *args, **kwargs) -> None:
    CASES.append(pytest.param(fn, args, kwargs, cls, text, id=name))


# fmt: off
# --- format names and format objects --------------------------------------------------------
case("format-empty", F, "empty format name", parse_format, "")
case("format-blank", F, "empty format name", parse_format, "   ")
case("format-none", F, "is a string, got NoneType", parse_format, None)
case("format-int", F, "is a string, got int", parse_format, 5)
case("format-E9M2", F, "exponent bits must be in 2..8", parse_format, "E9M2")
case("format-E1M2", F, "exponent bits must be in 2..8", parse_format, "E1M2")
case("format-E5M0", F, "fraction bits must be in 1..23", parse_format, "E5M0")
case("format-E5M24", F, "fraction bits must be in 1..23", parse_format, "E5M24")
case("format-bias", F, "bias of E5M2 must be an integer in 0..31", parse_format, "E5M2b99")
case("format-suffix", F, "unknown format 'E5M2-nan'", parse_format, "E5M2-nan")
case("format-fp8", F, "unknown format 'fp8'", parse_format, "fp8")
case("format-dot", F, "unknown format 'E5.2'", parse_format, "E5.2")
case("format-Q8", F, "unknown format 'Q8'", parse_format, "Q8")
case("format-Q0.8", F, "fixed integer bits i", parse_format, "Q0.8")
case("format-Q20.20", F, "fixed width i+f must be in 2..32", parse_format, "Q20.20")
case("format-BFP1", F, "BFP element bits m", parse_format, "BFP1/8")
case("format-BFP-T0", F, "BFP block length T", parse_format, "BFP8/0")
case("format-BFP-T5000", F, "must be an integer in 1..4096", parse_format, "BFP8/5000")
case("FloatFormat-float-e", F, "float exponent bits e", FloatFormat, 5.0, 2)
case("FloatFormat-bool-e", F, "got True", FloatFormat, True, 2)
case("FloatFormat-specials", F, "specials must be one of", FloatFormat, 5, 2, None, "x")
case("FixedFormat-negative-f", F, "fixed fraction bits f", FixedFormat, 8, -1)
case("BfpFormat-T0", F, "BFP block length T", BfpFormat, 8, 0)

# --- configuration strings and objects ------------------------------------------------------
case("mul-cfg7", C, "valid presets are 1..6", MulConfig.parse, "E5M2:cfg7")
case("mul-cfg0", C, "valid presets are 1..6", MulConfig.parse, "E5M2:cfg0")
case("mul-two-presets", C, "more than one CFG preset", MulConfig.parse, "E5M2:cfg1,cfg2")
case("mul-round-rz", C, "output rounding must be one of rne, none", MulConfig.parse,
    "E5M2:round=rz")
case("mul-duplicate-key", C, "option sub_in= given twice", MulConfig.parse,
    "E5M2:sub_in=ieee,sub_in=flush")
case("mul-specials", C, "specials must be one of", MulConfig.parse, "E5M2:specials=nan")
case("mul-fixed-format", F, "is not a floating-point format", MulConfig.parse, "Q8.8")
case("mul-unknown-option", C, "unknown option(s) foo", MulConfig.parse, "E5M2:foo")
case("mul-parse-none", C, "MulConfig.parse needs a string", MulConfig.parse, None)
case("mul-preset-7", C, "unknown CFG preset 7", MulConfig.preset, "E5M2", 7)
case("mul-preset-bool", C, "unknown CFG preset True", MulConfig.preset, "E5M2", True)
case("mul-preset-minus1", C, "unknown CFG preset -1", MulConfig.preset, "E5M2", -1)
case("mul-fixed-object", C, "must be a FloatFormat", MulConfig, Q8_8)
case("mul-wide-object", C, "out of range", MulConfig, FloatFormat(9, 2))
case("acc-duplicate-bits", C, "option bits= given twice", AccConfig.parse, "E6M5:sr,bits=8,bits=4")
case("acc-two-roundings", C, "more than one of the rounding modes rz, rne", AccConfig.parse,
    "E6M5:rz,rne")
case("acc-same-flag-twice", C, "option rz given twice", AccConfig.parse, "E6M5:rz,rz")
case("acc-two-sub-out", C, "more than one of the subnormal modes", AccConfig.parse,
    "E6M5:flush,ieee")
case("acc-bits-0", C, "bits must be in 1..32, got 0", AccConfig.parse, "E6M5:sr,bits=0")
case("acc-bits-33", C, "bits must be in 1..32", AccConfig.parse, "E6M5:sr,bits=33")
case("acc-bits-word", C, "bits= needs an integer", AccConfig.parse, "E6M5:bits=eight")
case("acc-seed-0", C, "seed must be in 1..", AccConfig.parse, "E6M5:sr,seed=0")
case("acc-seed-negative", C, "got -1", AccConfig.parse, "E6M5:sr,seed=-1")
case("acc-seed-2^32", C, "got 4294967296", AccConfig.parse, "E6M5:sr,seed=4294967296")
case("acc-fixed-sr", C, "converter) rounding must be one of rne, rz", AccConfig.parse, "Q8.13:sr")
case("acc-bfp", C, "must be EeMm or Qi.f", AccConfig.parse, "BFP8/24")
case("acc-bool-bits", C, "got True", AccConfig, E6M5, "sr", "ieee", True)
case("acc-parse-bytes", C, "AccConfig.parse needs a string", AccConfig.parse, b"E6M5")
case("mac-no-plus", C, "a MAC config is MUL+ACC", MacConfig.parse, "E5M2:cfg5")
case("mac-empty-acc", C, "a MAC config is MUL+ACC", MacConfig.parse, "E5M2:cfg5+")
case("mac-bad-acc", F, "exponent bits", MacConfig.parse, "E5M2:cfg5+E9M5")
case("mac-strings", C, "needs a MulConfig and an AccConfig", MacConfig, "E5M2", "E6M5")
case("gemm-not-bfp", C, "starts with BFPm/T", GemmConfig.parse, "E5M2")
case("gemm-fixed-in", F, "not a floating-point format", GemmConfig.parse, "BFP8/24:in=Q8.8")
case("gemm-round", C, "rounding must be one of", GemmConfig.parse, "BFP8/24:round=rtz")
case("gemm-duplicate-in", C, "option in= given twice", GemmConfig.parse, "BFP8/24:in=fp16,in=bf16")
case("gemm-parse-bytes", C, "GemmConfig.parse needs a string", GemmConfig.parse, b"BFP8/24")

# --- bit patterns: kinds and ranges ---------------------------------------------------------
FROM_FLOAT = "use lpmac.golden.from_float"
FP_MUL_FLOAT = "fp_mul: a_bits must be integer bit patterns of E5M2 (0..255), got float32; "
case("fp_mul-float32", T, FP_MUL_FLOAT + FROM_FLOAT, G.fp_mul, np.float32(1.5), 3, MUL)
case("fp_mul-float-array", T, "got float64", G.fp_mul, np.array([1.5, 2]), 3, MUL)
case("fp_mul-nan", T, "got float64", G.fp_mul, np.array([np.nan]), 3, MUL)
case("fp_mul-bool", T, "got bool True", G.fp_mul, True, 1, MUL)
case("fp_mul-bool-array", T, "b_bits", G.fp_mul, 1, np.array([True]), MUL)
case("fp_mul-negative", B, "got -1; two's complement", G.fp_mul, -1, 1, MUL)
case("fp_mul-too-wide", B, "got 256; the format has 8 bits", G.fp_mul, 256, 1, MUL)
case("fp_mul-negative-array", B, "got -5", G.fp_mul, np.array([1, -5]), 1, MUL)
case("fp_mul-uint16-wide", B, "got 300", G.fp_mul, np.array([300], np.uint16), 1, MUL)
case("fp_mul-huge-int", B, "got 1180591620717411303424", G.fp_mul, 2**70, 1, MUL)
case("fp_mul-huge-in-list", B, "got 18446744073709551616", G.fp_mul, [2**64], 1, MUL)
case("fp_mul-str", T, "got str '1.5'", G.fp_mul, "1.5", 1, MUL)
case("fp_mul-none", T, "got NoneType None", G.fp_mul, None, 1, MUL)
case("fp_mul-list-none", T, "got an element None", G.fp_mul, [1, None], 1, MUL)
case("fp_mul-ragged", T, "not a rectangular array", G.fp_mul, [[1], [1, 2]], 1, MUL)
case("fp_mul-complex", T, "got complex", G.fp_mul, 1 + 2j, 1, MUL)
case("fp_mul-shapes", B, "a_bits (3,) and b_bits (4,) do not broadcast", G.fp_mul, np.zeros(3,
    int), np.zeros(4, int), MUL)
case("fp_mul-cfg-string", C, "cfg must be a MulConfig, got str", G.fp_mul, 1, 1, "E5M2:cfg1")
case("fp_mul-acc-config", C, "cfg must be a MulConfig, got AccConfig", G.fp_mul, 1, 1, ACC)
case("fp_mul-broadcast-limit", L, "over the limit of 268,435,456", G.fp_mul, np.zeros((BIG, 1),
    np.uint8), np.zeros((1, BIG), np.uint8), MUL)
case("fixed_mul-wide", B, "of Q8.8 (0..65535), got 65536", G.fixed_mul, 1 << 16, 1, Q8_8)
case("fixed_mul-negative", B, "x & 0xffff", G.fixed_mul, -1, 1, Q8_8)
case("fixed_mul-sr", C, "rounding must be one of rne, rz", G.fixed_mul, 1, 1, Q8_8, "sr")
case("fixed_mul-float-format", F, "fmt must be a FixedFormat", G.fixed_mul, 1, 1, E5M2)
case("fixed_mul-float", T, "got float 1.0", G.fixed_mul, 1.0, 1, Q8_8)
case("fp_add-float-array", T, "acc_bits must be integer bit patterns of E6M5", G.fp_add,
    np.array([1.5]), 1, ACC)
case("fp_add-float-x", T, "x_bits", G.fp_add, 1, np.float32(2), ACC)
case("fp_add-too-wide", B, "got 4096", G.fp_add, 1, 4096, ACC)
case("fp_add-fixed-cfg", C, "use fixed_add", G.fp_add, 1, 1, ACC_FIXED)
case("fp_add-sr-no-u", C, "needs the random bits u", G.fp_add, 1, 1, ACC_SR)
case("fp_add-sr-wide-u", B, "u must be integer 8-bit random values in 0..255, got 256", G.fp_add,
    1, 1, ACC_SR, None, 256)
case("fp_add-u-without-sr", C, "u is only used with stochastic rounding", G.fp_add, 1, 1, ACC,
    None, 3)
case("fp_add-x_fmt-string", F, "x_fmt must be a FloatFormat", G.fp_add, 1, 1, ACC, "E5M2")
case("fixed_add-float", T, "got float 1.0", G.fixed_add, 1.0, 1, Q8_13)
case("fixed_add-wide", B, "got 2097152", G.fixed_add, 1 << 21, 0, Q8_13)

# --- sequences: accumulate, mac -------------------------------------------------------------
case("accumulate-scalar", B, "needs a steps axis", G.accumulate, 5, ACC)
case("accumulate-float", T, "xs must be", G.accumulate, XS * 0.5, ACC)
case("accumulate-valid-float", T, "valid must be integer flags", G.accumulate, XS, ACC,
    valid=np.full(XS.shape, 0.5))
case("accumulate-valid-2", B, "valid must be integer flags in 0..1, got 2", G.accumulate, XS, ACC,
    valid=np.full(XS.shape, 2))
case("accumulate-clear-shape", B, "clear of shape (5,) does not broadcast", G.accumulate, XS, ACC,
    clear=np.ones(5, bool))
case("accumulate-history", C, "history must be True or False", G.accumulate, XS, ACC, history="yes")
case("accumulate-fixed-x_fmt", C, "x_fmt applies to a float accumulator", G.accumulate, XS,
    ACC_FIXED, E6M5)
case("mac-float32", T, "as_ must be integer bit patterns", G.mac, np.ones((2, 2), np.float32),
    np.ones((2, 2), np.uint8), MAC)
case("mac-scalars", B, "as_ and bs needs a steps axis", G.mac, 1, 1, MAC)
case("mac-mul-config", C, "cfg must be a MacConfig, got MulConfig", G.mac, [1], [1], MUL)

# --- converters -----------------------------------------------------------------------------
case("convert-float", T, "bits must be integer bit patterns of E8M23", G.convert, 1.5, FP32, E5M2)
case("convert-sr-no-u", C, "mode='sr' needs the random bits u", G.convert, ONE_FP32, FP32, E5M2,
    "sr", r=8)
case("convert-mode", C, "mode must be one of rne, rna, rz, sr, got 'rtz'", G.convert, ONE_FP32,
    FP32, E5M2, "rtz")
case("convert-sub_out", C, "sub_out must be one of ieee, flush", G.convert, ONE_FP32, FP32, E5M2,
    sub_out="denormal")
case("convert-dst-string", F, "dst must be a FloatFormat, got str", G.convert, ONE_FP32, FP32,
    "E5M2")
case("convert-saturate-string", C, "saturate must be True or False", G.convert, ONE_FP32, FP32,
    E5M2, saturate="yes")
case("convert-r-40", C, "r must be in 1..32, got 40", G.convert, ONE_FP32, FP32, E5M2, "sr", u=[1,
    2], r=40)
case("convert-u-without-sr", C, "only used with mode='sr'", G.convert, ONE_FP32, FP32, E5M2, u=3,
    r=8)
case("to_fixed-sr", C, "mode must be one of rne, rna, rz", G.to_fixed, ONE_FP32, FP32, Q8_13, "sr")
case("to_fixed-fixed-src", F, "src must be a FloatFormat, got FixedFormat", G.to_fixed, 1, Q8_13,
    Q8_13)
case("from_fixed-float", T, "got float64", G.from_fixed, np.array([0.25]), Q8_13, FP32)
case("from_fixed-wide", B, "of Q8.13 (0..2097151)", G.from_fixed, 1 << 21, Q8_13, FP32)
case("to_float-float32", T, FROM_FLOAT, G.to_float, np.float32(1), FP32)
case("to_float-negative", B, "got -1", G.to_float, -1, FP32)
case("to_float-fixed-sub_in", C, "sub_in='flush' applies to float formats", G.to_float, 1, Q8_8,
    "flush")
case("to_float-format-string", F, "fmt must be a FloatFormat or FixedFormat", G.to_float, 1, "fp32")
case("from_float-str", T, "values must be real numbers", G.from_float, "1.5", E5M2)
case("from_float-bool", T, "got bool True", G.from_float, True, E5M2)
case("from_float-complex", T, "got complex128", G.from_float, np.array([1 + 1j]), E5M2)
case("from_float-sr", C, "mode must be one of rne, rna, rz", G.from_float, 1.5, E5M2, "sr")
case("from_float-fixed-flush", C, "sub_out='flush' applies to float formats", G.from_float, 1.5,
    Q8_8, "rne", "flush")
case("from_float-big-int", B, "integers beyond 2^53", G.from_float, np.array([2**60 + 1]), FP32)
case("to_bfp-scalar", B, "needs at least one axis", G.to_bfp, 5, FP32, BFP8_4)
case("to_bfp-float32", T, "got float32", G.to_bfp, np.ones(8, np.float32), FP32, BFP8_4)
case("to_bfp-axis", C, "axis must be in -1..0, got 3", G.to_bfp, ONE_FP32, FP32, BFP8_4, 3)
case("to_bfp-mode", C, "mode must be one of rne, rna, rz, sr", G.to_bfp, ONE_FP32, FP32, BFP8_4,
    mode="none")
case("to_bfp-seed-0", C, "seed must be in 1..4294967295, got 0", G.to_bfp, ONE_FP32, FP32, BFP8_4,
    mode="sr", seed=0)
case("to_bfp-u-without-sr", C, "u is only used with mode='sr'", G.to_bfp, ONE_FP32, FP32, BFP8_4,
    u=np.zeros((1, 4), np.uint8))
case("to_bfp-u-shape", B, "u of shape (3, 4) does not broadcast", G.to_bfp, ONE_FP32, FP32,
    BFP8_4, mode="sr", u=np.zeros((3, 4), np.uint8))
case("to_bfp-bfp-string", F, "bfp must be a BfpFormat", G.to_bfp, ONE_FP32, FP32, "BFP8/4")
BLOCK_EXP, BLOCK_MAN, BLOCK_SPECIAL = np.array([0]), np.array([[1, 2, 3, 4]]), np.array([False])
case("from_bfp-element-128", B, "blocks.man must be integers in -128..127, got 128", G.from_bfp,
    G.BfpBlocks(BLOCK_EXP, BLOCK_MAN * 32, BLOCK_SPECIAL), BFP8_4, FP32)
case("from_bfp-float-man", T, "blocks.man must be integers", G.from_bfp, G.BfpBlocks(BLOCK_EXP,
    BLOCK_MAN * 0.5, BLOCK_SPECIAL), BFP8_4, FP32)
case("from_bfp-T", B, "must end in an axis of T=4, got (1, 3)", G.from_bfp, G.BfpBlocks(BLOCK_EXP,
    BLOCK_MAN[:, :3], BLOCK_SPECIAL), BFP8_4, FP32)
case("from_bfp-string", T, "blocks must be BfpBlocks(exp, man, special), got str", G.from_bfp,
    "blocks", BFP8_4, FP32)
case("from_bfp-float-special", T, "blocks.special", G.from_bfp, G.BfpBlocks(BLOCK_EXP, BLOCK_MAN,
    np.array([0.5])), BFP8_4, FP32)

# --- GEMM -----------------------------------------------------------------------------------
case("bfp_gemm-float32", T, "a_bits must be integer bit patterns of E8M23", G.bfp_gemm,
    np.ones((2, 2), np.float32), np.ones((2, 2), np.float32), GEMM)
case("bfp_gemm-vector", B, "needs A (M x K) and B (K x N), got (2,) and (2, 2)", G.bfp_gemm,
    ONE_FP32, np.ones((2, 2), np.uint32), GEMM)
case("bfp_gemm-K", B, "got (2, 3) and (2, 2)", G.bfp_gemm, np.ones((2, 3), np.uint32), np.ones((2,
    2), np.uint32), GEMM)
case("bfp_gemm-cfg-string", C, "cfg must be a GemmConfig", G.bfp_gemm, np.ones((2, 2), np.uint32),
    np.ones((2, 2), np.uint32), "BFP8/4")
case("bfp_gemm-array-0", C, "array rows must be in 1..65536, got 0", G.bfp_gemm, np.ones((2, 2),
    np.uint32), np.ones((2, 2), np.uint32), GEMM, (0, 4))
case("bfp_gemm-array-int", C, "array must be (rows, cols) or None, got 4", G.bfp_gemm, np.ones((2,
    2), np.uint32), np.ones((2, 2), np.uint32), GEMM, 4)
case("bfp_gemm-limit", L, "C would hold 1,073,741,824 values", G.bfp_gemm, np.zeros((BIG, 1),
    np.uint32), np.zeros((1, BIG), np.uint32), GEMM)
case("gemm_to_float-float", T, "c_bits", G.gemm_to_float, 1.0, GEMM)

# --- random bits and building blocks --------------------------------------------------------
case("xorshift32-negative", B, "state must be integer uint32 states", G.xorshift32, -1)
case("xorshift32-float", T, "got float 1.5", G.xorshift32, 1.5)
case("random_bits-seed-0", C, "seed must be nonzero", G.random_bits, 0, 4, 8)
case("random_bits-seed-negative", C, "got -1", G.random_bits, -1, 4, 8)
case("random_bits-seed-2^32", C, "got 4294967296", G.random_bits, 2**32, 4, 8)
case("random_bits-seed-float", C, "got float 1.5", G.random_bits, 1.5, 4, 8)
case("random_bits-seed-lane-0", C, "nonzero", G.random_bits, [1, 0], 4, 8)
case("random_bits-steps", C, "steps must be in 0..", G.random_bits, 1, -1, 8)
case("random_bits-r", C, "r must be in 1..32, got 0", G.random_bits, 1, 4, 0)
case("random_bits-limit", L, "over the limit", G.random_bits, 1, 10**9, 8)
case("lane_seed-0", C, "seed must be in 1..4294967295", G.lane_seed, 0, 1)
case("lane_seed-lane", C, "lane must be in 0..", G.lane_seed, 1, -1)
case("unpack-float", T, "got float 1.0", G.unpack, 1.0, FP32)
case("unpack-sub_in", C, "sub_in must be one of ieee, as_normal, flush", G.unpack, 1, FP32,
    "denormal")
case("round_shift-float", T, "mag", G.round_shift, np.array([1.5]), 1, "rne")
case("round_shift-mode", C, "mode must be one of", G.round_shift, 1, 1, "rtz")
case("round_shift-overflow", B, "does not fit 64 bits", G.round_shift, 1 << 60, -8, "rne")
case("round_pack-float-sig", T, "sig", G.round_pack, False, 1.0, 0, FP32)
case("round_pack-float-exp", T, "exp must be integers", G.round_pack, False, 1, 0.5, FP32)
case("round_pack-sign-2", B, "sign must be integer flags in 0..1, got 2", G.round_pack, 2, 1, 0,
    FP32)
case("round_pack-sr-no-u", C, "needs the random bits u", G.round_pack, False, 1, 0, FP32, "sr", r=8)
# fmt: on


def _snapshot(values):
    return [copy.deepcopy(v) for v in values]


def _same(before, after) -> bool:
    if isinstance(before, np.ndarray):
        return before.dtype == after.dtype and np.array_equal(before, after, equal_nan=True)
    if isinstance(before, tuple):
        return all(_same(b, a) for b, a in zip(before, after))
    return True


@pytest.mark.parametrize("fn, args, kwargs, cls, text", CASES)
def test_bad_input_is_refused_with_one_line(fn, args, kwargs, cls, text):
    before = _snapshot(list(args) + list(kwargs.values()))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(LpmacError) as info:
            fn(*args, **kwargs)
    err = info.value
    assert type(err) is cls, f"{type(err).__name__}: {err}"
    message = str(err)
    assert "\n" not in message and message.strip() == message and message
    assert text in message, message
    assert not caught, [str(w.message) for w in caught]
    after = list(args) + list(kwargs.values())
    assert all(_same(b, a) for b, a in zip(before, after)), "an input was modified"


def test_enough_cases():
    assert len(CASES) >= 80


def test_hierarchy_is_the_builtin_one():
    """`except ValueError` / `except TypeError` keep working; one base catches everything."""
    for cls in (FormatError, ConfigError, BitsError, LimitError):
        assert issubclass(cls, LpmacError) and issubclass(cls, ValueError)
    assert issubclass(BitsTypeError, LpmacError) and issubclass(BitsTypeError, TypeError)
    from lpmac.config import ConfigError as config_error
    from lpmac.formats import FormatError as format_error

    assert config_error is ConfigError and format_error is FormatError


def test_same_wrong_input_same_class_everywhere():
    """A float array where bit patterns belong is a BitsTypeError in every public function
    (fp_add used to raise TypeError from NumPy and the others truncated it)."""
    floats = np.array([1.5, 2.0])
    calls = [
        lambda: golden.fp_mul(floats, 0, MUL),
        lambda: golden.fp_add(floats, 0, ACC),
        lambda: golden.fixed_mul(floats, 0, Q8_8),
        lambda: golden.fixed_add(floats, 0, Q8_8),
        lambda: golden.accumulate(floats, ACC),
        lambda: golden.mac(floats, [0, 0], MAC),
        lambda: golden.convert(floats, FP32, E5M2),
        lambda: golden.to_fixed(floats, FP32, Q8_8),
        lambda: golden.from_fixed(floats, Q8_8, FP32),
        lambda: golden.to_float(floats, FP32),
        lambda: golden.to_bfp(floats, FP32, BFP8_4),
        lambda: golden.bfp_gemm(floats[None, :], floats[:, None], GEMM),
        lambda: golden.gemm_to_float(floats, GEMM),
        lambda: golden.unpack(floats, FP32),
        lambda: golden.xorshift32(floats),
    ]
    for call in calls:
        with pytest.raises(BitsTypeError, match="got float64"):
            call()


# --- accepted inputs: every kind gives the reference bits ------------------------------------
E5M2_REF = ml_dtypes.float8_e5m2


def _e5m2_product(a: int, b: int) -> int:
    """Independent reference: ml_dtypes decodes, float32 multiplies exactly, one cast rounds."""
    pa, pb = (np.array([x], np.uint8).view(E5M2_REF).astype(np.float32) for x in (a, b))
    return int((pa * pb).astype(E5M2_REF).view(np.uint8)[0])


@pytest.mark.parametrize(
    "kind",
    ["python-int", "uint8", "int64", "uint64", "list", "tuple", "numpy-scalar", "object-ints"],
)
def test_every_integer_kind_is_accepted(kind):
    a, b = 0x3D, 0x46  # 1.25 * 6.0 = 7.5, a tie in E5M2 (1.111b): to even, 8.0
    wrap = {
        "python-int": lambda x: x,
        "uint8": lambda x: np.array([x], np.uint8),
        "int64": lambda x: np.array([x], np.int64),
        "uint64": lambda x: np.array([x], np.uint64),
        "list": lambda x: [x],
        "tuple": lambda x: (x,),
        "numpy-scalar": np.int16,
        "object-ints": lambda x: np.array([x], dtype=object),
    }[kind]
    got = np.asarray(golden.fp_mul(wrap(a), wrap(b), MUL)).reshape(-1)
    assert got.dtype == np.uint64
    assert int(got[0]) == _e5m2_product(a, b) == 0x48  # 8.0 = 1.0 * 2^3


def test_edges_of_the_range_are_accepted():
    """0 and 2^width - 1 pass; for 64-bit fp64 views every uint64 does."""
    assert int(golden.fp_mul(0xFF, 0, MUL)) == int(golden.fp_mul(0xFF, 0x3C, MUL))  # NaN stays NaN
    assert golden.to_float(np.array([0x7F800000], np.uint32), FP32)[0] == np.inf
    assert golden.fp_mul([], [], MUL).shape == (0,)
    assert golden.from_float(np.array([np.nan, -np.inf]), E5M2).tolist() == [0x7E, 0xFC]
    assert golden.random_bits(np.uint32(0xFFFFFFFF), 1, 8).shape == (1,)


def test_int_valid_flags_and_numpy_ints_are_accepted():
    ones = golden.from_float(np.ones(4), E6M5).reshape(4, 1)
    with_ints = golden.accumulate(ones, ACC, valid=np.array([1, 0, 1, 1]).reshape(4, 1))
    assert golden.to_float(with_ints, E6M5).tolist() == [3.0]
    c = golden.bfp_gemm(
        np.array([[0x3F800000]]), np.array([[0x40000000]]), GEMM, array=(np.int64(2), 2)
    )
    assert golden.gemm_to_float(c, GEMM).tolist() == [[2.0]]
