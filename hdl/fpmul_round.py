"""The multiplier's rounding step with one shifter: normalisation and denormalisation of the
exact significand product as a single right shift (issue 14 item 5).

RoundPack normalises the product left by its leading zeros lz, then shifts a result below
2^emin right by d = 1 - eb, two shifters in a row. When lz never exceeds W - 1 - m (W the
product's width: true for the multipliers whose subnormal squares vanish, where lz <= m + 1
and W = 2m + 2), the kept LSB of a normal result is product bit W - 1 - m - lz >= 0, and that
of a subnormal one bit 1 - m - bias - exp, which depends on the exponent alone. So the
product is shifted right once, by

    r = tiny ? (1 - m - bias - exp) : (W - 1 - m - lz),     tiny = eb < 1,

with lz from a priority encoder (no shifting) and the dropped bits in the sticky bit, then
rounded and packed as in RoundPack. Same function; xcup (INV counted) fp16 CFG-1 182 -> 153,
bf16 171 -> 154, fp32 407 -> 382 (+ 2 DSP); the 8-bit formats within ABC's noise.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Shape, Signal

from .normalize_capped import leading_zeros
from .rounding import RoundPack, RoundShift


def single_shift_applies(sig_width: int, max_lz: int, m: int, sub_out: str) -> bool:
    """Whether `JointRoundPack` can round this product: subnormal outputs (else there is
    no second shifter to save) and a normal result's kept LSB inside the product."""
    return sub_out == "ieee" and sig_width >= m + 1 and max_lz <= sig_width - 1 - m


class JointRoundPack(RoundPack):
    """RoundPack (same ports and function) for `single_shift_applies` products, rne/rna/rz,
    no sticky input, no pipeline cuts: one right shift instead of normaliser + denormaliser
    (module docstring)."""

    @staticmethod
    def check(fmt, sig_width, exp_range, *, sub_out="ieee", cuts=frozenset(), **kw) -> None:
        RoundPack.check(fmt, sig_width, exp_range, sub_out=sub_out, cuts=cuts, **kw)
        max_lz = kw.get("max_lz")
        max_lz = sig_width - 1 if max_lz is None else min(max_lz, sig_width - 1)
        if not single_shift_applies(sig_width, max_lz, fmt.m, sub_out):
            raise ValueError(
                f"JointRoundPack needs sub_out=ieee and max_lz <= {sig_width - 1 - fmt.m} "
                f"for a {sig_width}-bit significand into {fmt}"
            )
        if cuts or kw.get("has_sticky") or kw.get("mode") == "sr" or kw.get("early_overflow"):
            raise ValueError("JointRoundPack takes no cuts, sticky input, sr or early_overflow")

    def elaborate(self, platform):
        m = Module()
        f, mb, e = self.fmt, self.fmt.m, self.fmt.e
        W, (lo, hi) = self.sig_width, self.exp_range
        sig = self.sig
        exp_offset = W - 1 + f.bias  # eb = exp + exp_offset - lz
        eb_lo, eb_hi = lo + exp_offset - self.max_lz, hi + exp_offset
        lz = leading_zeros(m, sig, "lz", self.max_lz)
        eb = Signal(Shape.cast(range(min(eb_lo, -1), max(eb_hi, f.exp_all_ones) + 2)), name="eb")
        m.d.comb += eb.eq(self.exp + exp_offset - lz)
        tiny = eb < 1
        base = W - 1 - mb  # kept LSB of a normal result: base - lz
        r_tiny = Signal(Shape.cast(range(base + 1 - exp_offset - hi, base + 2 - exp_offset - lo)))
        m.d.comb += r_tiny.eq((base + 1 - exp_offset) - self.exp)
        r = Signal(range(max(base, base + 1 - exp_offset - lo) + 1), name="r")
        m.d.comb += r.eq(Mux(tiny, r_tiny, base - lz))  # tiny: r_tiny > base - lz >= 0

        m.submodules.round = rnd = RoundShift(W, (1 << len(r)) - 1, self.mode)
        m.d.comb += [rnd.mag.eq(sig), rnd.shift.eq(r)]
        # As RoundPack: the increment goes into the packed {field, fraction}.
        field = Signal(e)
        m.d.comb += field.eq(Mux(tiny, 0, eb))
        packed = Signal(e + mb + 1)
        m.d.comb += packed.eq(Cat(rnd.trunc[:mb], field) + rnd.up)
        flags = {"nan": self.nan, "inf": self.inf, "sign": self.sign}
        self._select(m, packed, eb, eb_hi, flags, self.zero)
        return m
