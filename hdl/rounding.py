"""The one rounding implementation of the hardware, mirroring golden/rounding.py.

`RoundShift` rounds `mag >> shift` (rne, rna, rz, sr); `RoundPack` normalises an exact raw
value, denormalises it below 2^emin (or flushes), rounds it with a `RoundShift` and packs it
into a float format with the overflow and specials rules of SPEC §1. Every unit ends in one
of the two. Build-time knowledge (how many leading zeros the significand can have, the range
of the exponent, whether a sticky bit exists) is passed in so that no logic is spent on
cases that cannot happen.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import FloatFormat

MODES = ("rne", "rna", "rz", "sr")


def _bits_for(n: int) -> int:
    return max(1, n.bit_length())


class RoundShift(wiring.Component):
    """kept = round(mag * 2^-shift) for 0 <= shift; `inexact` when bits were discarded.

    With `sr` the magnitude rounds up iff floor(phi*2^r) + u >= 2^r (SPEC §6): the r bits
    right below the kept LSB are exactly floor(phi*2^r)."""

    def __init__(self, width: int, max_shift: int, mode: str, *, sr_bits: int = 0,
                 has_sticky: bool = False, out_width: int | None = None):
        if mode not in MODES:
            raise ValueError(f"rounding mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "sr" and sr_bits <= 0:
            raise ValueError("stochastic rounding needs sr_bits >= 1")
        self.width, self.mode, self.sr_bits = width, mode, sr_bits
        self.has_sticky = has_sticky
        self.window = sr_bits if mode == "sr" else 1            # remainder bits examined exactly
        self.max_shift = min(max_shift, width + self.window)    # shifting further changes nothing
        self.out_width = width + 1 if out_width is None else out_width
        ports = {"mag": In(width), "shift": In(_bits_for(max_shift)),
                 "kept": Out(self.out_width), "inexact": Out(1)}
        if has_sticky:
            ports["sticky"] = In(1)
        if mode == "sr":
            ports["u"] = In(sr_bits)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        W, G = self.width, self.window
        shift = Signal(_bits_for(self.max_shift))
        m.d.comb += shift.eq(Mux(self.shift > self.max_shift, self.max_shift, self.shift))
        ext = Cat(Const(0, G), self.mag)                          # G zero bits below the LSB
        shifted = Signal(W + G)
        m.d.comb += shifted.eq(ext >> shift)
        kept, window = shifted[G:], shifted[:G]
        # Anything below the window was discarded: compare with the unshifted value.
        dropped = Signal()
        m.d.comb += dropped.eq((shifted << shift)[:W + G] != ext)
        sticky = dropped | self.sticky if self.has_sticky else dropped
        m.d.comb += self.inexact.eq((window != 0) | sticky)

        if self.mode == "rz":
            up = 0
        elif self.mode == "sr":
            up = (window + self.u)[G]                             # carry out of r bits
        else:
            guard = window[G - 1]
            if self.mode == "rna":
                up = guard
            else:
                up = guard & (sticky | kept[0])
        m.d.comb += self.kept.eq(kept + up)
        return m


def leading_zeros(m: Module, value, max_lz: int) -> Signal:
    """Leading zeros of `value`, counted only up to `max_lz` (the caller's guarantee)."""
    W = len(value)
    lz = Signal(range(max_lz + 1))
    if max_lz > 0:
        m.d.comb += lz.eq(max_lz)
        for i in reversed(range(max_lz)):                         # priority: the top bit wins
            with m.If(value[W - 1 - i]):
                m.d.comb += lz.eq(i)
    return lz


class RoundPack(wiring.Component):
    """Encode (-1)^sign * (sig [+ sticky]) * 2^exp into `fmt` (SPEC §1), mirroring
    golden.round_pack: normalise, denormalise (ieee) or flush, round, pack, specials.

    `exp_range` bounds the `exp` input and `max_lz` the leading zeros of a nonzero `sig`."""

    def __init__(self, fmt: FloatFormat, sig_width: int, exp_range: tuple[int, int], *,
                 max_lz: int | None = None, mode: str = "rne", sub_out: str = "ieee",
                 has_sticky: bool = False, sr_bits: int = 0, saturate: bool = False):
        if sub_out not in ("ieee", "flush"):
            raise ValueError(f"sub_out must be ieee or flush, got {sub_out!r}")
        self.fmt, self.mode, self.sub_out, self.saturate = fmt, mode, sub_out, saturate
        self.sig_width, self.exp_range = sig_width, exp_range
        self.max_lz = sig_width - 1 if max_lz is None else min(max_lz, sig_width - 1)
        self.has_sticky, self.sr_bits = has_sticky, sr_bits
        ports = {
            "sign": In(1), "sig": In(sig_width), "exp": In(Shape.cast(range(min(exp_range[0], -1), max(exp_range[1], 1) + 1))),
            "zero": In(1), "inf": In(1), "nan": In(1),
            "bits": Out(fmt.width),
        }
        if has_sticky:
            ports["sticky"] = In(1)
        if mode == "sr":
            ports["u"] = In(sr_bits)
        super().__init__(ports)

    def _special(self, kind: str, sign) -> Cat:
        """inf / max / nan encodings (a format without NaN uses inf, without inf max finite)."""
        f = self.fmt
        if kind == "nan" and f.has_nan:
            return Const(((1 << f.e) - 1) << f.m | 1 << (f.m - 1), f.width)
        if kind in ("nan", "inf") and f.has_inf:
            mag = f.exp_all_ones << f.m | ((1 << f.m) - 1 if f.specials == "inf_only" else 0)
        else:
            mag = f.max_field << f.m | f.max_frac
        return Cat(Const(mag, f.width - 1), sign)

    def elaborate(self, platform):
        m = Module()
        f, mb = self.fmt, self.fmt.m
        # Pad narrow significands so that m+1 bits can always be taken from the top.
        pad = max(0, mb + 1 - self.sig_width)
        W = self.sig_width + pad
        sig = Cat(Const(0, pad), self.sig) if pad else self.sig
        exp = self.exp - pad

        lz = leading_zeros(m, sig, self.max_lz)
        norm = Signal(W)
        m.d.comb += norm.eq(sig << lz)
        top = Signal(Shape.cast(range(self.exp_range[0] - pad - self.max_lz - 1, self.exp_range[1] + W + 1)))
        m.d.comb += top.eq(exp + (W - 1) - lz)                     # weight of the leading one

        # Right shift that leaves m+1 bits, plus the denormalisation below 2^emin (ieee).
        base = W - 1 - mb
        if self.sub_out == "ieee" and self.exp_range[0] - pad + (W - 1 - self.max_lz) < f.emin:
            tiny = top < f.emin
            denorm = Mux(tiny, f.emin - top, 0)
            e_norm = Mux(tiny, f.emin, top) + f.bias               # exponent field before carry
            max_denorm = f.emin - (self.exp_range[0] - pad - self.max_lz + W - 1)
        else:
            denorm, e_norm, max_denorm = 0, top + f.bias, 0

        m.submodules.round = rnd = RoundShift(W, base + max(0, max_denorm), self.mode, sr_bits=self.sr_bits,
                                              has_sticky=self.has_sticky, out_width=mb + 2)
        m.d.comb += [rnd.mag.eq(norm), rnd.shift.eq(base + denorm)]
        if self.has_sticky:
            m.d.comb += rnd.sticky.eq(self.sticky)
        if self.mode == "sr":
            m.d.comb += rnd.u.eq(self.u)

        rounded = rnd.kept
        carry = rounded[mb + 1]
        field = Signal(Shape.cast(range(self.exp_range[0] - pad - self.max_lz + f.bias - 2,
                                        self.exp_range[1] + W + f.bias + 3)))
        m.d.comb += field.eq(Mux(carry, e_norm + 1, Mux(rounded[mb], e_norm, 0)))
        frac = Mux(carry, 0, rounded[:mb])

        underflow = field <= 0 if self.sub_out == "flush" else Const(0)
        overflow = (field > f.max_field) | ((field == f.max_field) & (frac > f.max_frac))
        sign = self.sign
        # `field` may be narrower than e bits (a small bias and a narrow input range): slicing
        # would then drop bits and move the sign; assigning extends it to exactly e bits.
        field_bits = Signal(f.e)
        m.d.comb += field_bits.eq(field)
        normal_bits = Cat(frac, field_bits, sign)
        to_inf = f.has_inf and self.mode != "rz" and not self.saturate

        with m.If(self.nan):
            m.d.comb += self.bits.eq(self._special("nan", sign))
        with m.Elif(self.inf):
            m.d.comb += self.bits.eq(self._special("max" if self.saturate else "inf", sign))
        with m.Elif(self.zero | underflow):
            m.d.comb += self.bits.eq(Cat(Const(0, f.width - 1), sign))
        with m.Elif(overflow):
            m.d.comb += self.bits.eq(self._special("inf" if to_inf else "max", sign))
        with m.Else():
            m.d.comb += self.bits.eq(normal_bits)
        return m
