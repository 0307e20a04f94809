"""Unpacking: float bit patterns -> raw record, mirroring golden/raw.py.

The raw value of a finite input is (-1)^sign * sig * 2^exp, `sig` an unsigned integer of
m+1 bits and `exp` the weight of its LSB; class flags zero/inf/nan mark the rest. Unlike the
golden model, `sig` and `exp` are left unspecified for zeros and specials (as in HardFloat):
a unit that needs a zero significand masks it, the others save the logic."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Shape
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import FloatFormat


def raw_exp_range(fmt: FloatFormat, sub_in: str = "ieee") -> tuple[int, int]:
    """Smallest and largest `exp` (LSB weight) an unpacked finite value can have."""
    lo = {"ieee": fmt.emin, "as_normal": -fmt.bias, "flush": fmt.emin}[sub_in] - fmt.m
    hi = fmt.exp_all_ones - fmt.bias - fmt.m
    return lo, hi


def raw_layout(sig_width: int, exp_lo: int, exp_hi: int) -> data.StructLayout:
    return data.StructLayout(
        {
            "sig": sig_width,
            "exp": Shape.cast(range(min(exp_lo, -1), max(exp_hi, 1) + 1)),
            "sign": 1,
            "zero": 1,
            "inf": 1,
            "nan": 1,
        }
    )


def raw_max_lz(fmt: FloatFormat, sub_in: str) -> int:
    """Leading zeros a nonzero unpacked significand can have (m for IEEE subnormals)."""
    return fmt.m if sub_in == "ieee" else 0


class Unpack(wiring.Component):
    """`bits` in `fmt` -> `raw`; `sub_in`: ieee 0.frac*2^emin, as_normal 1.frac*2^-bias, flush 0."""

    def __init__(self, fmt: FloatFormat, sub_in: str = "ieee"):
        self.fmt, self.sub_in = fmt, sub_in
        self.exp_range = raw_exp_range(fmt, sub_in)
        super().__init__(
            {"bits": In(fmt.width), "raw": Out(raw_layout(fmt.m + 1, *self.exp_range))}
        )

    def elaborate(self, platform):
        m = Module()
        fmt, raw = self.fmt, self.raw
        frac = self.bits[: fmt.m]
        field = self.bits[fmt.m : fmt.m + fmt.e]
        top = field == fmt.exp_all_ones
        field_zero = field == 0

        if fmt.specials == "ieee":
            inf, nan = top & (frac == 0), top & (frac != 0)
        elif fmt.specials == "inf_only":
            inf, nan = top & (frac == (1 << fmt.m) - 1), 0
        else:
            inf, nan = 0, 0

        m.d.comb += [raw.sign.eq(self.bits[-1]), raw.inf.eq(inf), raw.nan.eq(nan)]
        if self.sub_in == "ieee":
            # A subnormal reads as 0.frac * 2^emin: hidden bit 0, exponent field taken as 1.
            m.d.comb += [
                raw.zero.eq(field_zero & (frac == 0)),
                raw.sig.eq(Mux(field_zero, frac, frac | (1 << fmt.m))),
                raw.exp.eq(Mux(field_zero, 1, field) - (fmt.bias + fmt.m)),
            ]
        elif self.sub_in == "as_normal":
            m.d.comb += [
                raw.zero.eq(field_zero & (frac == 0)),
                raw.sig.eq(frac | (1 << fmt.m)),
                raw.exp.eq(field - (fmt.bias + fmt.m)),
            ]
        else:  # flush: every exponent-field-0 encoding is a zero
            m.d.comb += [
                raw.zero.eq(field_zero),
                raw.sig.eq(frac | (1 << fmt.m)),
                raw.exp.eq(field - (fmt.bias + fmt.m)),
            ]
        return m
