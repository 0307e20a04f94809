"""The column's BFP->float step (hdl/gemm_column.py) for an output format whose significand
holds the whole tile product: x = round_rne(p * 2^s) into an IEEE-specials format, bit for bit
what `round_signed` gives, with less logic.

With W = |p|'s width <= m + 1, p * 2^s is exact whenever its lowest bit lies on the format's
grid (>= 2^(emin - m)). With c = s + bias + W - 1 (the biased exponent p would have with no
leading zeros) the result is |p| * 2^min(lz, c - 1) on the grid: normalised (L = lz) when
normal, at its place when subnormal, shifted right with rne when c <= 0 ("tiny"). One left
shift does all three: |p| at the bottom of K + W bits (K fraction bits) shifted left by
K + min(lz, c - 1), clamped at 0. The field is c - L - 1 + (the shifted value's top bit), one
adder; the rne increment only ever acts on a tiny result; overflow is decided on the field
alone (a normal result is exact), as the output register's synchronous set/reset. The shift
is a greedy capped normaliser, a barrel shifter after a priority encoder, or a product with a
one-hot in one DSP48E2 (`dsp_left_shift`). `fits` says when the unit applies.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed

from lpmac.formats import FloatFormat

from .normalize_capped import dsp_left_shift, leading_zeros, normalize_capped

__all__ = ["fits", "biased_lead_exp_range", "signed_to_float"]


def fits(fmt: FloatFormat, mag_width: int) -> bool:
    """Whether `signed_to_float` applies: IEEE specials and |p| fits the significand."""
    return fmt.specials == "ieee" and mag_width <= fmt.m + 1


def biased_lead_exp_range(fmt: FloatFormat, mag_width: int, scale_range) -> tuple[int, int]:
    """Range of c = s + bias + W - 1 (the input `c` of `signed_to_float`) for s in
    scale_range."""
    off = fmt.bias + mag_width - 1
    return scale_range[0] + off, scale_range[1] + off


def signed_to_float(
    m: Module, value, mag_width: int, c, fmt: FloatFormat, out, shifter: str = "greedy"
):
    """Register `out` <- bits of round_rne(value * 2^s) in `fmt` for the signed integer
    `value` (|value| < 2^mag_width) and c = s + bias + mag_width - 1; zero is +0. `shifter`:
    "greedy" (normalize_capped), "lut" (leading zeros, then a barrel shift) or "dsp" (leading
    zeros, then `dsp_left_shift`)."""
    W, M, E = mag_width, fmt.m, fmt.e
    pad = M + 1 - W  # |value| << pad is the significand with its top bit at the hidden bit
    sign, zero = value[-1], value == 0
    mag = Signal(W, name="tf_mag")  # ones' complement plus the sign: one carry chain
    m.d.comb += mag.eq((value[:W] ^ sign.replicate(W)) + sign)

    # |value| at the bottom of K + W bits, K = W + pad + 1 fraction bits below it: a left
    # shift by K + min(lz, c - 1) (capped at K + c - 1, clamped at 0) puts Y = |value| *
    # 2^min(lz, c - 1) in the top W bits and its fraction below, enough for rne on the grid.
    K = W + pad + 1
    wide = K + W
    cap = Signal(range(wide), name="tf_cap")
    lowered = K - 1 + c
    m.d.comb += cap.eq(Mux(lowered < 0, 0, Mux(lowered > wide - 1, wide - 1, lowered)))
    if shifter == "greedy":
        shifted, shift, _ = normalize_capped(m, Cat(mag, Const(0, K)), cap)
    else:
        lz = leading_zeros(m, mag, "tf_lz")
        shift = Signal(range(wide), name="tf_shift")
        m.d.comb += shift.eq(Mux(lz + K < cap, lz + K, cap))
        if shifter == "dsp":
            top, below = dsp_left_shift(m, mag, shift, wide, K - pad - 1, "tf")
            shifted = Cat(Const(0, K - pad - 2), below, top)  # the OR stands for the bits
        else:
            shifted = Signal(wide, name="tf_shifted")
            m.d.comb += shifted.eq(mag << shift)
    hidden = shifted[wide - 1]
    tiny = (c < 1) | zero  # zero shifts to 0 and packs as the tiny +0
    # A normal result: field = c - lz; one in the subnormal range: 0 = c - (c - 1) - 1.
    field = Signal(signed(len(c) + 2), name="tf_field")
    m.d.comb += field.eq(c + K - 1 + hidden - shift)

    # The fraction: Y's W - 1 bits below the hidden bit and pad bits more, rne on them (only a
    # tiny result has nonzero bits below; its increment reaches the field only when pad = 0).
    exact = shifted[K - pad : wide - 1]
    guard = shifted[K - pad - 1]
    sticky = shifted[: K - pad - 1] != 0
    rounded = Signal(M + 1, name="tf_rounded")
    m.d.comb += rounded.eq(exact + (guard & (sticky | exact[0])))
    exp_field = Signal(E, name="tf_exp")
    m.d.comb += exp_field.eq(Mux(tiny, rounded[M], field))
    overflow = ~tiny & (field >= (1 << E) - 1)
    # Registered, overflow's infinity as the flip-flops' synchronous set/reset (no LUTs).
    m.d.sync += out.eq(Cat(rounded[:M], exp_field, sign))
    with m.If(overflow):
        m.d.sync += out[: E + M].eq(((1 << E) - 1) << M)
