"""Block floating point (SPEC §1, §4, §5) against hand-computed blocks, a reference converter
written here from SPEC §4, a slow Python-loop HBFP GEMM (exact Fractions / Python ints), and
the analytic error bound of HBFP against a float64 matrix product."""

import numpy as np
import pytest
from fraction_ref import (
    NAN,
    RF,
    assert_bits,
    decode,
    encode,
    floor_log2,
    pow2,
    ref_add,
    ref_fmt,
    round_ratio,
    value_of,
)

from lpmac import BfpFormat, FloatFormat, GemmConfig, golden, parse_format

SEED = 99
FP32 = FloatFormat(8, 23)


def f32_bits(values):
    return np.asarray(values, dtype=np.float32).view(np.uint32).astype(np.uint64)


# -------------------------------------------------------------------- reference converter (SPEC §4)
def ref_block(bits, F: RF, m: int, mode: str, us=None, r: int = 0):
    """One block: (E, [k], special). E = largest effective exponent (field - bias for
    normals, emin for subnormals and zeros; emin for an all-zero block), k = round(x /
    2^(E-(m-2))) on the magnitude, clamped to +-(2^(m-1)-1)."""
    vals = [decode(int(b), F) for b in bits]
    special = any(v.kind != "fin" for v in vals)
    E = F.emin
    for v in vals:
        if v.kind == "fin" and v.mag != 0:
            E = max(E, floor_log2(v.mag))  # = field - bias for a normal; < emin for a subnormal
    kmax = (1 << (m - 1)) - 1
    ks = []
    for idx, v in enumerate(vals):
        if v.kind != "fin":
            ks.append(None)
            continue
        t = v.mag / pow2(E - (m - 2))
        k = round_ratio(t.numerator, t.denominator, mode, None if us is None else int(us[idx]), r)
        k = min(k, kmax)
        ks.append(-k if v.sign else k)
    return E, ks, special


def ref_gemm(A, B, F: RF, m: int, T: int, outF: RF, mode: str = "rne"):
    """SPEC §5 literally: Python loops, exact integer tile dot products, one rne conversion
    of each tile to the output format, rne accumulation over tiles from +0."""
    M, K = A.shape
    N = B.shape[1]
    tiles = max(1, -(-K // T))
    pad = lambda v: list(v) + [0] * (tiles * T - len(v))
    Ap = [pad(A[i].tolist()) for i in range(M)]
    Bp = [pad(B[:, j].tolist()) for j in range(N)]
    ablk = [
        [ref_block(Ap[i][t * T : (t + 1) * T], F, m, mode) for t in range(tiles)] for i in range(M)
    ]
    bblk = [
        [ref_block(Bp[j][t * T : (t + 1) * T], F, m, mode) for t in range(tiles)] for j in range(N)
    ]
    C = np.zeros((M, N), np.uint64)
    for i in range(M):
        for j in range(N):
            if any(blk[2] for blk in ablk[i]) or any(blk[2] for blk in bblk[j]):
                C[i, j] = encode(NAN, outF)
                continue
            acc = 0  # +0
            for t in range(tiles):
                ea, ka, _ = ablk[i][t]
                eb, kb, _ = bblk[j][t]
                P = sum(x * y for x, y in zip(ka, kb))
                tile = encode(value_of(P * pow2(ea + eb - 2 * (m - 2))), outF, "rne")
                acc = encode(
                    ref_add(decode(acc, outF), decode(tile, outF), outF.has_nan), outF, "rne"
                )
            C[i, j] = acc
    return C


# ---------------------------------------------------------------------- hand-computed MXINT8 blocks
def test_mxint8_hand_blocks():
    """OCP MXINT8: m = 8 (|k| <= 127), T = 32, rna; fp32 inputs. Scale 2^(E-6)."""
    bfp = BfpFormat(8, 32)
    blocks = [
        # block 0: max |x| = 3.984375 = 1.9921875 * 2^1 -> E = 1, scale 2^-5
        (
            [
                1.0,
                0.5,
                -0.25,
                3.0,
                3.96875,
                3.984375,
                -3.984375,
                2.0**-6,
                5 * 2.0**-6,
                -5 * 2.0**-6,
                3 * 2.0**-6,
                2.0**-7,
                0.0,
                -0.0,
                1.5,
                -2.0,
            ],
            1,
            [32, 16, -8, 96, 127, 127, -127, 1, 3, -3, 2, 0, 0, 0, 48, -64],
        ),
        #   3.96875 / 2^-5 = 127; 3.984375 -> 127.5 -> rna 128 -> clamped to 127 (and -127);
        #   2^-6 -> 0.5 -> rna 1; 5*2^-6 -> 2.5 -> 3; 3*2^-6 -> 1.5 -> 2; 2^-7 -> 0.25 -> 0
        # block 1: max |x| = 1.75 * 2^-10 -> E = -10, scale 2^-16
        (
            [
                2.0**-10,
                1.75 * 2.0**-10,
                -1.5 * 2.0**-12,
                2.0**-17,
                2.0**-18,
                -(2.0**-17),
                1.0 * 2.0**-16,
            ],
            -10,
            [64, 112, -24, 1, 0, -1, 1],
        ),
        # block 2: all zeros -> E = emin = -126
        ([0.0, -0.0], -126, [0, 0]),
        # block 3: only fp32 subnormals -> E = emin = -126, scale 2^-132
        ([2.0**-127, 2.0**-149, 3 * 2.0**-133, -(2.0**-128), 2.0**-133], -126, [32, 0, 2, -16, 1]),
        # block 4: E = 0; 1.9999999 (largest fp32 below 2) -> 127.99999 -> 128 -> 127
        (
            [-1.0, 0.5, float(np.nextafter(np.float32(2), np.float32(0))), 0.0078125],
            0,
            [-64, 32, 127, 1],
        ),
        # block 5: one large value dominates: 2^20 -> E = 20; 1.0 -> 2^-14 -> 0; 2^14 -> 1;
        # 1.5*2^14 -> 2 (rna)
        ([2.0**20, 1.0, 2.0**14, 1.5 * 2.0**14, -(2.0**19), 2.0**13], 20, [64, 0, 1, 2, -32, 1]),
    ]
    x = np.zeros((len(blocks), 32), np.float32)
    for n, (vals, _, _) in enumerate(blocks):
        x[n, : len(vals)] = vals
    got = golden.to_bfp(f32_bits(x), FP32, bfp, axis=-1, mode="rna")
    assert got.exp.shape == (len(blocks), 1) and got.man.shape == (len(blocks), 1, 32)
    for n, (_vals, E, ks) in enumerate(blocks):
        assert int(got.exp[n, 0]) == E, (n, int(got.exp[n, 0]), E)
        assert got.man[n, 0, : len(ks)].tolist() == ks, (n, got.man[n, 0, : len(ks)].tolist(), ks)
        assert not got.man[n, 0, len(ks) :].any()
        assert not got.special[n, 0]
    # the same blocks with rne differ exactly on the ties (0.5 -> 0, 2.5 -> 2, 127.5 -> 128 -> 127)
    rne = golden.to_bfp(f32_bits(x), FP32, bfp, axis=-1, mode="rne")
    assert rne.man[0, 0, :16].tolist() == [
        32,
        16,
        -8,
        96,
        127,
        127,
        -127,
        0,
        2,
        -2,
        2,
        0,
        0,
        0,
        48,
        -64,
    ]
    assert rne.man[1, 0, :7].tolist() == [64, 112, -24, 0, 0, 0, 1]
    # rz: toward zero
    rz = golden.to_bfp(f32_bits(x), FP32, bfp, axis=-1, mode="rz")
    assert rz.man[0, 0, :16].tolist() == [
        32,
        16,
        -8,
        96,
        127,
        127,
        -127,
        0,
        2,
        -2,
        1,
        0,
        0,
        0,
        48,
        -64,
    ]
    # back to fp32: k * 2^(E-6) exactly
    back = golden.to_float(golden.from_bfp(got, bfp, FP32), FP32).reshape(len(blocks), 32)
    for n, (_vals, E, ks) in enumerate(blocks):
        assert back[n, : len(ks)].tolist() == [k * 2.0 ** (E - 6) for k in ks]


def test_special_blocks():
    bfp = BfpFormat(8, 4)
    x = np.array(
        [
            [1.0, 2.0, np.inf, 0.5],
            [1.0, -np.inf, 0, 0],
            [np.nan, 0, 0, 0],
            [1.0, 2.0, 3.0, 4.0],
            [0, 0, 0, 0],
        ],
        np.float32,
    )
    got = golden.to_bfp(f32_bits(x), FP32, bfp)
    assert got.special[:, 0].tolist() == [True, True, True, False, False]
    assert int(got.exp[3, 0]) == 2 and got.man[3, 0].tolist() == [16, 32, 48, 64]
    assert int(got.exp[4, 0]) == -126
    back = golden.from_bfp(got, bfp, FP32)
    vals = golden.to_float(back, FP32).reshape(5, 4)
    assert np.isnan(vals[:3]).all() and vals[3].tolist() == [1.0, 2.0, 3.0, 4.0]


def test_blocks_along_axis_and_padding():
    """K = 10 split into T = 4 blocks along axis 0 (the last zero-padded)."""
    rng = np.random.default_rng(SEED)
    bfp = BfpFormat(6, 4)
    x = (rng.standard_normal((10, 3)) * 4).astype(np.float32)
    got = golden.to_bfp(f32_bits(x), FP32, bfp, axis=0, mode="rne")
    assert got.exp.shape == (3, 3) and got.man.shape == (3, 3, 4)
    F = ref_fmt(FP32)
    for col in range(3):
        padded = list(f32_bits(x[:, col]).tolist()) + [0, 0]
        for blk in range(3):
            E, ks, sp = ref_block(padded[4 * blk : 4 * blk + 4], F, 6, "rne")
            assert int(got.exp[col, blk]) == E and got.man[col, blk].tolist() == ks


# ----------------------------------------------------------------------- converter vs the reference
@pytest.mark.parametrize("in_name", ["fp32", "bf16", "fp16", "E4M3"])
@pytest.mark.parametrize("m, T", [(8, 32), (4, 8), (2, 3), (12, 16), (24, 5)])
@pytest.mark.parametrize("mode", ["rne", "rna", "rz", "sr"])
def test_to_bfp_vs_reference(in_name, m, T, mode):
    rng = np.random.default_rng(SEED + m * 100 + T + len(mode) + len(in_name))
    f = parse_format(in_name)
    F = ref_fmt(f)
    nblk = 40
    # finite patterns: each block's exponents spread over a window (within-block dynamic range)
    base = rng.integers(0, (1 << F.e) - 1, (nblk, 1))
    field = np.clip(base - rng.integers(0, F.m + m + 3, (nblk, T)), 0, (1 << F.e) - 2)
    field = np.where(rng.random((nblk, T)) < 0.1, 0, field)  # zeros / subnormals
    frac = rng.integers(0, 1 << F.m, (nblk, T))
    sign = rng.integers(0, 2, (nblk, T))
    bits = ((sign << (F.e + F.m)) | (field << F.m) | frac).astype(np.uint64)
    bits[0] = 0  # an all-zero block
    bits[1, 0] = ((1 << F.e) - 1) << F.m  # an inf block
    r = 5
    u = rng.integers(0, 1 << r, (nblk, T)).astype(np.uint64) if mode == "sr" else None
    got = golden.to_bfp(
        bits, f, BfpFormat(m, T), mode=mode, u=None if u is None else u[:, None, :], sr_bits=r
    )
    assert got.man.shape == (nblk, 1, T) and got.exp.shape == (nblk, 1)
    for n in range(nblk):
        E, ks, sp = ref_block(bits[n].tolist(), F, m, mode, None if u is None else u[n], r)
        assert bool(got.special[n, 0]) == sp
        if sp:
            continue  # E and k of a special block are not defined by SPEC
        assert int(got.exp[n, 0]) == E, (n, E, int(got.exp[n, 0]))
        assert got.man[n, 0].tolist() == ks, (
            n,
            [hex(b) for b in bits[n].tolist()],
            ks,
            got.man[n, 0].tolist(),
        )


@pytest.mark.parametrize(
    "dst_name, mode, sub_out",
    [
        ("fp32", "rne", "ieee"),
        ("E5M2", "rne", "ieee"),
        ("fp16", "rz", "flush"),
        ("E4M3-inf", "rna", "ieee"),
    ],
)
def test_from_bfp_vs_fraction(dst_name, mode, sub_out):
    rng = np.random.default_rng(SEED + 3)
    bfp = BfpFormat(8, 16)
    x = (rng.standard_normal((20, 16)) * np.exp2(rng.integers(-30, 30, (20, 1)))).astype(np.float32)
    blocks = golden.to_bfp(f32_bits(x), FP32, bfp)
    dst = parse_format(dst_name)
    D = ref_fmt(dst)
    got = golden.from_bfp(blocks, bfp, dst, mode, sub_out)
    exp = []
    for n in range(20):
        E = int(blocks.exp[n, 0])
        for k in blocks.man[n, 0].tolist():
            exp.append(encode(value_of(k * pow2(E - 6)), D, mode, sub_out))
    assert_bits(got.ravel(), np.array(exp, np.uint64), D, what=f"from_bfp -> {dst_name}")


# -------------------------------------------------------------------- GEMM vs the Python-loop model
def random_matrix(rng, shape, F: RF, *, zeros=0.1, subnormals=0.05, spread=6):
    """Finite patterns: magnitudes around 1 with a per-row exponent offset (blocks with
    different shared exponents), some zeros, negatives and subnormals."""
    rows, cols = shape
    offset = rng.integers(-spread, spread + 1, (rows, 1))
    field = np.clip(F.bias + offset + rng.integers(-4, 3, shape), 1, (1 << F.e) - 2)
    frac = rng.integers(0, 1 << F.m, shape)
    sign = rng.integers(0, 2, shape)
    bits = (sign << (F.e + F.m)) | (field << F.m) | frac
    bits = np.where(
        rng.random(shape) < subnormals,
        (sign << (F.e + F.m)) | rng.integers(1, 1 << F.m, shape),
        bits,
    )
    bits = np.where(rng.random(shape) < zeros, sign << (F.e + F.m), bits)
    return bits.astype(np.uint64)


GEMM_CASES = [
    # (spec, M, K, N)
    ("BFP8/32", 4, 70, 3),  # 3 K-tiles, K not a multiple of T
    ("BFP8/24", 3, 24, 4),  # exactly one tile
    ("BFP8/24:round=rna", 3, 50, 3),
    ("BFP4/5:in=bf16,out=fp16", 5, 23, 4),
    ("BFP6/8:in=fp16,out=bf16,round=rz", 4, 30, 5),
    ("BFP12/16:in=fp32,out=E5M2", 3, 40, 3),  # output overflow / rounding in a tiny format
    ("BFP2/4", 3, 9, 3),  # k in {-1, 0, 1}
    ("BFP24/256", 2, 300, 2),  # 2(m-1) + log2 T > 53: the int64 path
]


@pytest.mark.parametrize("spec, M, K, N", GEMM_CASES)
def test_bfp_gemm_vs_python_loops(spec, M, K, N):
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(SEED + M * K * N)
    F = ref_fmt(cfg.in_fmt)
    A = random_matrix(rng, (M, K), F)
    B = random_matrix(rng, (N, K), F).T.copy()
    A[0, : min(K, 5)] = 0  # partly zero rows and a fully zero tile
    if K > cfg.T:
        A[-1, : cfg.T] = 0
    got = golden.bfp_gemm(A, B, cfg)
    exp = ref_gemm(A, B, F, cfg.m, cfg.T, ref_fmt(cfg.out_fmt), cfg.rounding)
    assert_bits(got, exp, ref_fmt(cfg.out_fmt), what=spec)


def test_bfp_gemm_inf_and_nan_blocks():
    """An inf in A's block (i, t) makes row i of C NaN; a NaN in B's block (t, j) makes
    column j NaN; everything else is unaffected."""
    cfg = GemmConfig.parse("BFP8/8")
    rng = np.random.default_rng(SEED + 1)
    F = ref_fmt(FP32)
    A = random_matrix(rng, (4, 20), F)
    B = random_matrix(rng, (3, 20), F).T.copy()
    A[2, 17] = f32_bits([np.inf])[0]  # tile 2 of row 2
    B[9, 1] = f32_bits([np.nan])[0]  # tile 1 of column 1
    got = golden.bfp_gemm(A, B, cfg)
    vals = golden.gemm_to_float(got, cfg)
    nan = np.zeros((4, 3), bool)
    nan[2, :] = True
    nan[:, 1] = True
    assert (np.isnan(vals) == nan).all()
    exp = ref_gemm(A, B, F, 8, 8, F)
    assert_bits(got, exp, F, what="gemm with special blocks")


def test_bfp_gemm_small_hand_example():
    """m = 4 (|k| <= 7), T = 2, K = 3 (two tiles, the second padded):
    A = [[1, 0.75, 3]], B = [1.5, -0.5, 0.25]^T.
    Tile 0: A block [1, 0.75]: E = 0, scale 2^-2 -> k = [4, 3]; B block [1.5, -0.5]: E = 0 ->
    [6, -2]; P = 24 - 6 = 18, scale 2^-4 -> 1.125 (exact: 1.5 - 0.375 = 1.125).
    Tile 1: A [3, 0]: E = 1, scale 2^-1 -> [6, 0]; B [0.25, 0]: E = -2, scale 2^-4 -> [4, 0];
    P = 24, scale 2^-5 -> 0.75. C = 1.875."""
    cfg = GemmConfig(BfpFormat(4, 2))
    A = f32_bits([[1.0, 0.75, 3.0]])
    B = f32_bits([[1.5], [-0.5], [0.25]])
    assert golden.gemm_to_float(golden.bfp_gemm(A, B, cfg), cfg).tolist() == [[1.875]]
    # a value that does not fit: A = [1, 0.1] -> 0.1 / 2^-2 = 0.4 -> 0: C = 1 * 1.5 = 1.5
    A = f32_bits([[1.0, 0.1, 0.0]])
    assert golden.gemm_to_float(golden.bfp_gemm(A, B, cfg), cfg).tolist() == [[1.5]]


# --------------------------------------------------------------------------- error bound vs float64
@pytest.mark.parametrize(
    "m, T, mode", [(8, 32, "rne"), (8, 24, "rna"), (6, 16, "rne"), (12, 64, "rz"), (8, 32, "sr")]
)
def test_bfp_gemm_error_bound(m, T, mode):
    """|C - A.B| within the analytic HBFP bound, A.B in float64.

    For an element x of a block with shared exponent E the step is s = 2^(E-(m-2)); since
    |x| < 2^(E+1) = (kmax + 1) s, the conversion error is
        delta(x) <= s/2 (rne, rna; sr and rz: < s) unless clamping (|x| > (kmax + 1/2) s):
        then |x| - kmax s < s.
    Per tile t:  |sum a b - P_t s_a s_b| <= D_t = sum_k (|a| db + da |b| + da db),
                 |P_t s_a s_b| <= S_t = sum_k |a||b| + D_t.
    P_t is rounded once into the output format (relative error <= u = 2^-(p) with p the
    output precision m_out + 1, plus half the smallest subnormal eta), then accumulated over
    the tiles with rne: step t errs by
        <= u |acc_{t-1} + tile_t| + eta <= u (1+u)^t sum_{tau<=t} S_tau + eta.
    The float64 reference itself errs by <= K 2^-53 sum |a||b|."""
    cfg = GemmConfig(BfpFormat(m, T), rounding=mode)
    rng = np.random.default_rng(SEED + m + T)
    M, K, N = 6, 3 * T - 5, 5
    a = (rng.standard_normal((M, K)) * np.exp2(rng.integers(-8, 9, (M, 1)))).astype(np.float32)
    b = (rng.standard_normal((K, N)) * np.exp2(rng.integers(-8, 9, (1, N)))).astype(np.float32)
    a[0, :T] = 0.0
    C = golden.gemm_to_float(golden.bfp_gemm(f32_bits(a), f32_bits(b), cfg), cfg)
    A, B = a.astype(np.float64), b.astype(np.float64)
    ref = A @ B
    kmax = 2 ** (m - 1) - 1
    u_out, eta = 2.0**-24, 2.0**-150
    tiles = -(-K // T)

    def steps(blocks):  # blocks: (..., T) float64 -> s per block, delta per element
        mx = np.abs(blocks).max(axis=-1, keepdims=True)
        _, ex = np.frexp(mx)  # mx = f * 2^ex, f in [0.5, 1)
        E = np.where(mx > 0, ex - 1, -126)  # floor(log2 max|x|); emin for zero blocks
        E = np.maximum(E, -126)
        s = np.exp2(E - (m - 2))
        half = s / 2 if mode in ("rne", "rna") else s
        return np.maximum(half, np.abs(blocks) - kmax * s)

    pad = tiles * T - K
    Ab = np.pad(A, ((0, 0), (0, pad))).reshape(M, tiles, T)
    Bb = np.pad(B, ((0, pad), (0, 0))).T.reshape(N, tiles, T)
    dA, dB = steps(Ab), steps(Bb)
    bound = np.zeros((M, N))
    for i in range(M):
        for j in range(N):
            D = (np.abs(Ab[i]) * dB[j] + dA[i] * np.abs(Bb[j]) + dA[i] * dB[j]).sum(axis=-1)
            S = (np.abs(Ab[i]) * np.abs(Bb[j])).sum(axis=-1) + D
            acc = np.cumsum(S) * (1 + u_out) ** np.arange(1, tiles + 1)
            bound[i, j] = D.sum() + u_out * S.sum() + u_out * acc.sum() + 2 * tiles * eta
    absprod = np.abs(A) @ np.abs(B)
    bound += K * 2.0**-53 * absprod
    err = np.abs(C - ref)
    assert (err <= bound).all(), (err / np.maximum(bound, 1e-300)).max()
    # the bound is meaningful (measured: 2-3 x 2^-(m-2) sum |a||b| for rne/rna, 5-6 x for rz/sr,
    # while a wrong scale would err by ~100%), and the error is not 0
    assert (bound <= 8 * 2.0 ** -(m - 2) * absprod + 1e-30).all()
    assert err.max() > 0
