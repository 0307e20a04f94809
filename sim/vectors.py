"""Test vectors generated from the formats: exhaustive spaces, corner cases, boundaries.

For a float format the corners are the encodings where arithmetic changes behaviour (signed
zeros, the subnormal range and its edges, min/max normal, one, max finite, infinities,
NaNs); for a product, pairs whose exponents sum to the underflow and overflow boundaries,
and pairs whose exact product is a rounding tie."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from lpmac.errors import LimitError
from lpmac.formats import FixedFormat, FloatFormat


def encode(fmt: FloatFormat, sign, field, frac) -> np.ndarray:
    sign, field, frac = (np.asarray(x, dtype=np.uint64) for x in (sign, field, frac))
    return sign << np.uint64(fmt.width - 1) | field << np.uint64(fmt.m) | frac


def float_corners(fmt: FloatFormat) -> np.ndarray:
    """Distinct corner encodings of `fmt`, both signs."""
    top, fmax = fmt.exp_all_ones, (1 << fmt.m) - 1
    fields_fracs = [
        (0, 0),
        (0, 1),
        (0, 2),
        (0, fmax >> 1),
        (0, fmax),  # zero, subnormals
        (1, 0),
        (1, 1),
        (1, fmax),
        (2, 0),  # min normal region
        (fmt.bias, 0),
        (fmt.bias, 1),
        (fmt.bias, fmax),
        (fmt.bias - 1, fmax),  # around one
        (top - 1, 0),
        (top - 1, fmax - 1),
        (top - 1, fmax),  # top finite binade
        (top, 0),
        (top, 1),
        (top, 1 << (fmt.m - 1)),
        (top, fmax - 1),
        (top, fmax),  # inf/NaN/inf_only
    ]
    values = [encode(fmt, s, f, fr) for s in (0, 1) for f, fr in fields_fracs if 0 <= f <= top]
    return np.unique(np.array(values, dtype=np.uint64))


def float_random(fmt: FloatFormat, n: int, rng: np.random.Generator) -> np.ndarray:
    return rng.integers(0, 1 << fmt.width, n, dtype=np.uint64)


def product_pairs(
    fmt: FloatFormat, n: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """About n pairs for a multiplier: all corner pairs, corners x random, exponent sums at the
    underflow and overflow boundaries, rounding ties, and uniform random bit patterns."""
    corners = float_corners(fmt)
    ca, cb = (x.ravel() for x in np.meshgrid(corners, corners, indexing="ij"))
    parts_a, parts_b = [ca], [cb]
    k = max(n // 8, 1)
    r = float_random(fmt, k, rng)
    c = rng.choice(corners, k)
    parts_a += [c, r]
    parts_b += [r, c]

    # Boundaries: e_a + e_b (unbiased) lands near emin - m (underflow) or emax (overflow).
    ea = rng.integers(1, fmt.exp_all_ones, k)
    for target in (fmt.emin - fmt.m - 1, fmt.emin, fmt.emax):
        eb = np.clip(
            target - (ea - fmt.bias) + rng.integers(-2, 3, k) + fmt.bias, 0, fmt.exp_all_ones - 1
        )
        parts_a.append(encode(fmt, rng.integers(0, 2, k), ea, rng.integers(0, 1 << fmt.m, k)))
        parts_b.append(encode(fmt, rng.integers(0, 2, k), eb, rng.integers(0, 1 << fmt.m, k)))

    # Ties: an odd significand times 1.5 (or 1.25) drops one or two bits that are often 10..0.
    sig_a = rng.integers(0, 1 << fmt.m, k) | 1
    frac_b = np.where(rng.integers(0, 2, k) == 1, 1 << (fmt.m - 1), 1 << max(fmt.m - 2, 0))
    parts_a.append(encode(fmt, rng.integers(0, 2, k), rng.integers(1, fmt.exp_all_ones, k), sig_a))
    parts_b.append(encode(fmt, rng.integers(0, 2, k), np.full(k, fmt.bias), frac_b))

    rest = max(n - sum(len(p) for p in parts_a), 0)
    parts_a.append(float_random(fmt, rest, rng))
    parts_b.append(float_random(fmt, rest, rng))
    return np.concatenate(parts_a), np.concatenate(parts_b)


# One call returns at most this many pairs (2 x 128 MiB of uint64): a 16-bit operand space,
# 2^32 pairs, would need 64 GiB at once; stream it with `exhaustive_chunks` instead.
MAX_EXHAUSTIVE_PAIRS = 1 << 24
EXHAUSTIVE_CHUNK = 1 << 20  # pairs per chunk of `exhaustive_chunks`: 16 MiB for both operands


def exhaustive_pairs(
    width: int, start: int = 0, stop: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs `start` to `stop` - 1 (default: all 2^(2 width)) of two `width`-bit operands, pair
    i being (a, b) = (i >> width, i & (2^width - 1)). At most MAX_EXHAUSTIVE_PAIRS at once
    (else LimitError): larger spaces go through `exhaustive_chunks`."""
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"exhaustive_pairs: width must be a positive int, not {width!r}")
    total = 1 << (2 * width)
    stop = total if stop is None else stop
    if not 0 <= start <= stop <= total:
        raise ValueError(
            f"exhaustive_pairs: need 0 <= start <= stop <= 2^{2 * width}, got {start}, {stop}"
        )
    if stop - start > MAX_EXHAUSTIVE_PAIRS:
        raise LimitError(
            f"exhaustive_pairs: {stop - start} pairs at once is over the limit of "
            f"{MAX_EXHAUSTIVE_PAIRS}; iterate exhaustive_chunks({width}) instead"
        )
    index = np.arange(start, stop, dtype=np.uint64)
    return index >> np.uint64(width), index & np.uint64((1 << width) - 1)


def exhaustive_chunks(
    width: int, chunk: int = EXHAUSTIVE_CHUNK
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Every pair of two `width`-bit operands, in `exhaustive_pairs` order, `chunk` pairs at a
    time (the last chunk may be shorter): memory stays bounded whatever the width."""
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ValueError(f"exhaustive_chunks: chunk must be a positive int, not {chunk!r}")
    exhaustive_pairs(width, 0, 0)  # validates width
    chunk, total = min(chunk, MAX_EXHAUSTIVE_PAIRS), 1 << (2 * width)
    for start in range(0, total, chunk):
        yield exhaustive_pairs(width, start, min(start + chunk, total))


def fixed_corners(fmt: FixedFormat) -> np.ndarray:
    lo, hi = fmt.min_int, fmt.max_int
    one = 1 << fmt.f
    values = [
        0,
        1,
        -1,
        2,
        -2,
        one,
        -one,
        one + 1,
        -(one + 1),
        hi,
        lo,
        hi - 1,
        lo + 1,
        hi // 2,
        lo // 2,
        1 << max(fmt.f - 1, 0),
        -(1 << max(fmt.f - 1, 0)),
    ]
    values = [v for v in values if lo <= v <= hi]
    mask = (1 << fmt.width) - 1
    return np.unique(np.array([v & mask for v in values], dtype=np.uint64))


def bfp_blocks(fmt: FloatFormat, bfp, n: int, rng: np.random.Generator) -> np.ndarray:
    """(n, bfp.T) bit patterns of `fmt` for a float -> BFP converter: mostly blocks whose
    elements sit 0..m+3 binades below the block maximum (so they round, underflow to 0 and,
    with lost bits set to 10..0 +-1, tie), a quarter of those with an all-ones maximum (the
    element clamp); some with a corner (zero, subnormal, max finite, inf, NaN) in one lane;
    subnormal-and-zero blocks; uniform random bit patterns."""
    T, m = bfp.T, fmt.m
    shape = (n, T)
    top = rng.integers(1, fmt.max_field + 1, (n, 1))
    below = rng.integers(0, bfp.m + 4, shape) * (rng.random(shape) < 0.7)
    below[np.arange(n), rng.integers(0, T, n)] = 0  # one lane holds the maximum
    frac = rng.integers(0, 1 << m, shape, dtype=np.uint64)
    frac = np.where((below == 0) & (rng.random((n, 1)) < 0.25), np.uint64((1 << m) - 1), frac)
    # An element loses `lost` low bits (golden.to_bfp: shift by E - exp - (bfp.m - 2)).
    lost = below + m - (bfp.m - 2)
    d = np.clip(lost, 1, m).astype(np.uint64)
    half = np.uint64(1) << (d - np.uint64(1))
    tie = half + rng.integers(-1, 2, shape).astype(np.int64).astype(
        np.uint64
    )  # 10..0 and its neighbours
    tied = (frac >> d << d) | (tie & ((np.uint64(1) << d) - np.uint64(1)))
    frac = np.where((lost >= 1) & (lost <= m) & (rng.random(shape) < 0.3), tied, frac)
    blocks = encode(fmt, rng.integers(0, 2, shape), np.clip(top - below, 0, None), frac)

    kind = rng.random(n)
    corner = (kind < 0.1)[:, None] & (np.arange(T) == rng.integers(0, T, (n, 1)))
    blocks = np.where(corner, rng.choice(float_corners(fmt), shape), blocks)
    tiny = encode(
        fmt,
        rng.integers(0, 2, shape),
        0,
        rng.integers(0, 1 << m, shape) * (rng.random(shape) < 0.7),
    )
    blocks = np.where(((kind >= 0.1) & (kind < 0.15))[:, None], tiny, blocks)
    return np.where((kind >= 0.85)[:, None], float_random(fmt, n * T, rng).reshape(shape), blocks)


def bfp_elements(bfp, n: int, rng: np.random.Generator, e_lo: int, e_hi: int):
    """n BFP blocks for a BFP -> float converter: (exponents (n,) in [e_lo, e_hi], elements
    (n, T) as int64 from -2^(m-1) to 2^(m-1)-1 with 10 % zeros, special flags (n,) 10 %
    set); block 0 holds +-kmax, +-1 and 0, blocks 0 and 1 take e_lo and e_hi."""
    T = bfp.T
    exps = rng.integers(e_lo, e_hi + 1, n)
    mans = rng.integers(-(1 << (bfp.m - 1)), 1 << (bfp.m - 1), (n, T))
    mans[rng.random((n, T)) < 0.1] = 0
    mans[0] = [(bfp.kmax, -bfp.kmax, 1, -1, 0)[t % 5] for t in range(T)]
    exps[:2] = [e_lo, e_hi][:n]
    return exps, mans, rng.random(n) < 0.1
