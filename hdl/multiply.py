"""Integer multipliers: DSP blocks where the synthesis tool would use them, otherwise a
radix-4 Booth array laid out for LUT6 + carry-chain FPGAs.

Yosys maps a `*` of two small operands to LUTs poorly (an 8x8 product takes 114 LUTs on
UltraScale+, a 24x24 one 1,252). `booth_multiply` builds the product row by row: each row is
one Booth digit of `a` (a multiple -2..2 of `b`, at most one LUT per bit: the digit's three
bits and two bits of `b` select the partial-product bit, the sixth input is the partial sum
it is added to) summed into a partial sum whose two lowest bits are then final, so every
row's adder is only about as wide as `b` (8x8: 53 LUTs, 24x24: 357; see
docs/results/qor.md). The rows form a chain, which trades depth for area.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed, unsigned
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = [
    "BoothMultiplier",
    "booth_multiply",
    "multiply",
    "DSP_MIN_PRODUCT_BITS",
    "DSP_MAX_OPERAND",
]

# Yosys's synth_xilinx maps a multiplier to DSP48 only when its product has at least this
# many bits (DSP_Y_MINWIDTH in its mul2dsp call); narrower ones become LUT logic anyway.
DSP_MIN_PRODUCT_BITS = 9
# Widest unsigned operand one DSP block of every target multiplies (ECP5 MULT18X18D: 18 bits
# signed); a wider product is split over several blocks and an adder tree.
DSP_MAX_OPERAND = 17


class BoothMultiplier(wiring.Component):
    """p = a*b (both unsigned, or both two's complement), exact, from LUTs and carry chains.

    A component of its own rather than inline logic: in Yosys's flow the Booth rows then map
    far better (a 24x24 product inside FpMul fp32: 696 LUTs for the whole multiplier against
    1,004 inline)."""

    def __init__(self, a_width: int, b_width: int, signed_ops: bool = False):
        self.signed_ops = signed_ops
        shape = signed if signed_ops else unsigned
        super().__init__(
            {"a": In(shape(a_width)), "b": In(shape(b_width)), "p": Out(shape(a_width + b_width))}
        )

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(booth_multiply(m, self.a, self.b, signed_ops=self.signed_ops))
        return m


def booth_multiply(m: Module, a, b, *, signed_ops: bool = False, name: str = "booth") -> Signal:
    """Exact a*b (both unsigned, or both two's complement) as a Signal of len(a)+len(b) bits."""
    W, V = len(a), len(b)
    if signed_ops:
        rows = (W + 1) // 2
        ae = Cat(Const(0, 1), a, a[-1], a[-1])  # a_{-1} = 0, sign-extended
        be = b.as_signed()
    else:
        rows = (W + 2) // 2  # a zero digit on top keeps it >= 0
        ae = Cat(Const(0, 1), a, Const(0, 2))
        be = Cat(b, Const(0, 1)).as_signed()
    H = V + 3  # live partial-sum width, signed
    partial, final_bits = None, []
    for k in range(rows):
        b0, b1, b2 = ae[2 * k], ae[2 * k + 1], ae[2 * k + 2]
        one = b0 ^ b1  # digit = -2*b2 + b1 + b0
        two = (b2 & ~b1 & ~b0) | (~b2 & b1 & b0)
        neg = b2 & ~(b1 & b0)
        mag = Signal(signed(V + 2), name=f"{name}_mag{k}")
        m.d.comb += mag.eq(Mux(one, be, Mux(two, be << 1, 0)))
        row = Signal(signed(V + 2), name=f"{name}_row{k}")
        m.d.comb += row.eq(mag ^ neg.replicate(V + 2).as_signed())  # -mag - 1 when neg; +neg below
        total = Signal(signed(H), name=f"{name}_sum{k}")
        total.attrs["keep"] = 1  # keep the chain: no merging into one adder tree
        m.d.comb += total.eq(row + neg if partial is None else (partial >> 2) + row + neg)
        final_bits.append(total[:2])
        partial = total
    product = Signal(W + V, name=f"{name}_p")
    m.d.comb += product.eq(Cat(*final_bits[:-1], partial))
    return product


def multiply(
    m: Module, a, b, *, signed_ops: bool = False, use_dsp: bool = True, name: str = "mul"
) -> Signal:
    """a*b: the tool's `*` when `use_dsp` and the product is wide enough for a DSP block, or
    when it is narrower than that (Yosys does well on those, e.g. 13 LUTs for the 3-bit
    fractions of two normal E4M3 values); otherwise `booth_multiply`."""
    W, V = len(a), len(b)
    if use_dsp or W + V < DSP_MIN_PRODUCT_BITS:
        product = Signal(signed(W + V) if signed_ops else W + V, name=f"{name}_p")
        m.d.comb += product.eq(a.as_signed() * b.as_signed() if signed_ops else a * b)
        return product
    m.submodules[name] = unit = BoothMultiplier(W, V, signed_ops)
    m.d.comb += [unit.a.eq(a), unit.b.eq(b)]
    return unit.p
