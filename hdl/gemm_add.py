"""The HBFP column's fused BFP->float accumulate (hdl/gemm_column.py): one rne step
s = fp_add(acc, x) of golden `bfp_gemm`, x = round_pack(p * 2^scale) (rne, IEEE subnormals).

`p` is the PE's exact tile product, |p| <= 2^(W-1) with W <= m+1 bits, so p * 2^scale is exact
in `fmt` wherever it is normal: the first rounding only acts below the subnormal grid 2^(emin-m)
and on overflow. The unit therefore skips a general RoundPack for x:

1. |p| is placed as an IEEE significand: normalised with a left shift capped at the
   subnormal grid, or, for a scale below the grid, shifted right onto it with rne (the only
   place where x rounds: it never reaches 2^emin); a tiny x that rounds to 0 keeps p's sign;
2. the biased exponent field follows, and a field past the largest finite one is x = inf
   (golden rounds x to inf before adding, which a plain exact sum would not);
3. the adder: FpAdd's datapath (hdl/accum.py) with x given unpacked instead of as bits, so
   neither x's packing (increment, specials) nor its unpacking is built.

`nan` forces x to NaN (a special block). Purely combinational.

Measured against what it replaces (docs/results/gemm_area.md): 794 LUTs against 716 for
round_signed + FpAdd (xcup, Yosys 0.70), so the column does not use it."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import FloatFormat

from .accum import AddPlan
from .normalize_capped import normalize_capped
from .raw import Unpack
from .rounding import RoundPack, shift_right_sticky

__all__ = ["BfpAccumulate"]


def _shape(lo: int, hi: int) -> Shape:
    return Shape.cast(range(min(lo, -1), max(hi, 1) + 1))


class BfpAccumulate(wiring.Component):
    """s = fp_add(acc, round_pack(p * 2^scale)) in `fmt`, both rne with IEEE subnormals.

    Ports: `acc` (fmt bits), `p` (signed p_width), `scale` (in `scale_range`), `nan` -> `s`."""

    def __init__(self, fmt: FloatFormat, p_width: int, scale_range: tuple[int, int]):
        if fmt.specials != "ieee":
            raise ValueError(f"BfpAccumulate needs an IEEE-specials format, got {fmt}")
        if not 2 <= p_width <= fmt.m + 1:
            raise ValueError(f"p_width must be 2..{fmt.m + 1} for {fmt}, got {p_width}")
        self.fmt, self.p_width, self.scale_range = fmt, p_width, scale_range
        self.plan = AddPlan.of(fmt, fmt, 0)
        super().__init__(
            {
                "acc": In(fmt.width),
                "p": In(signed(p_width)),
                "scale": In(_shape(*scale_range)),
                "nan": In(1),
                "s": Out(fmt.width),
            }
        )

    def _operand_x(self, m: Module):
        """(sign, S-bit significand, exponent E of its LSB, biased field, zero, inf) of x."""
        fmt, W, plan = self.fmt, self.p_width, self.plan
        S, grid = plan.sig, fmt.emin - fmt.m
        pad = S - W
        mag = Signal(W, name="x_mag")
        m.d.comb += mag.eq(Mux(self.p < 0, -self.p, self.p))
        # |p| << pad has LSB weight scale - pad; normal: shift its leading one to S-1, but no
        # LSB below the grid (cap); a scale with scale - pad < grid: exact right shift onto it.
        frame = Cat(Const(0, pad), mag)
        lo, hi = self.scale_range
        room = Signal(_shape(lo - pad - grid, hi - pad - grid), name="x_room")
        m.d.comb += room.eq(self.scale - pad - grid)
        cap = Signal(range(W), name="x_cap")
        m.d.comb += cap.eq(Mux(room < 0, 0, Mux(room > W - 1, W - 1, room)))
        left, lz = normalize_capped(m, frame, cap)
        sig = Signal(S, name="x_sig")
        if lo - pad < grid:
            # below the grid: shift right, rounding (rne) onto it; a value that rounds up
            # stays below 2^emin (|p| * 2^scale < 2^(W-1+grid-1))
            drop = Signal(range(S + 2), name="x_drop")
            m.d.comb += drop.eq(Mux(room >= 0, 0, Mux(-room > S + 1, S + 1, -room)))
            kept, sticky = shift_right_sticky(m, Cat(Const(0, 1), left), drop, "x_sub")
            m.d.comb += sig.eq(kept[1:] + (kept[0] & (sticky | kept[1])))
        else:
            m.d.comb += sig.eq(left)
        # Biased field of a normal x: its leading bit's weight scale - pad - lz + S - 1 + bias.
        off = S - 1 - pad + fmt.bias
        field = Signal(_shape(lo + off - (W - 1), hi + off), name="x_field")
        m.d.comb += field.eq(self.scale + off - lz)
        normal = sig[S - 1]
        zero = sig == 0  # also a tiny x rounded to (signed) zero
        inf = normal & (field > fmt.max_field)
        e = Signal(_shape(plan.exp_lo, plan.exp_hi), name="x_e")
        m.d.comb += e.eq(Mux(normal, field, 1) - (fmt.bias + fmt.m))
        enc = Cat(sig[: fmt.m], Mux(normal, field, 0)[: fmt.e])
        return self.p < 0, sig, e, enc, zero, inf

    def elaborate(self, platform):
        m = Module()
        fmt, plan = self.fmt, self.plan
        S, G = plan.sig, plan.guard
        m.submodules.unpack_acc = ua = Unpack(fmt, "ieee")
        m.d.comb += ua.bits.eq(self.acc)
        a = ua.raw
        exp_shape = _shape(plan.exp_lo, plan.exp_hi)
        a_sig, a_e = Signal(S, name="a_sig"), Signal(exp_shape, name="a_e")
        m.d.comb += [a_sig.eq(a.sig << (S - 1 - fmt.m)), a_e.eq(a.exp - (S - 1 - fmt.m))]
        x_sign, x_sig, x_e, x_enc, x_zero, x_inf = self._operand_x(m)
        x_nan = self.nan

        # |acc| >= |x|: x's (field, fraction) orders like an encoding (finite x only; an
        # infinite or NaN x decides the result through the flags).
        a_big = Signal()
        m.d.comb += a_big.eq(self.acc[:-1] >= x_enc)
        big_sig, small_sig = Signal(S), Signal(S)
        big_e, small_e = Signal(exp_shape), Signal(exp_shape)
        d = Signal(range(plan.exp_hi - plan.exp_lo + 1))
        big_sign, small_sign = Signal(), Signal()
        m.d.comb += [
            big_sig.eq(Mux(a_big, a_sig, x_sig)),
            small_sig.eq(Mux(a_big, x_sig, a_sig)),
            big_e.eq(Mux(a_big, a_e, x_e)),
            small_e.eq(Mux(a_big, x_e, a_e)),
            d.eq(big_e - small_e),
            big_sign.eq(Mux(a_big, a.sign, x_sign)),
            small_sign.eq(Mux(a_big, x_sign, a.sign)),
        ]
        small_al, sticky = shift_right_sticky(m, Cat(Const(0, G), small_sig), d, "align")
        big_al = Cat(Const(0, G), big_sig)
        sub = big_sign ^ small_sign
        mag = Signal(plan.width)
        flip = Signal(len(small_al))
        m.d.comb += flip.eq(small_al ^ sub.replicate(len(small_al)))
        m.d.comb += mag.eq(big_al + Cat(flip, sub) + (sub & ~sticky))

        nan = a.nan | x_nan | (a.inf & x_inf & (a.sign != x_sign))
        inf = ~nan & (a.inf | x_inf)
        inf_sign = Mux(a.inf, a.sign, x_sign)
        exact_zero = (mag == 0) & ~sticky
        zero_sign = a.zero & x_zero & a.sign & x_sign  # -0 + -0 = -0, any other exact zero +0
        sign = Signal()
        with m.If(nan):
            m.d.comb += sign.eq(0)
        with m.Elif(inf):
            m.d.comb += sign.eq(inf_sign)
        with m.Elif(exact_zero):
            m.d.comb += sign.eq(zero_sign)
        with m.Else():
            m.d.comb += sign.eq(big_sign)

        sig, exp, exp_range = self._normalize(m, mag, big_e)
        m.submodules.round_pack = rp = RoundPack(
            fmt, plan.width, exp_range, max_lz=1, mode="rne", sub_out="ieee", has_sticky=True
        )
        m.d.comb += [
            rp.sign.eq(sign),
            rp.sig.eq(sig),
            rp.exp.eq(exp),
            rp.sticky.eq(sticky),
            rp.zero.eq(exact_zero),
            rp.inf.eq(inf),
            rp.nan.eq(nan),
            self.s.eq(rp.bits),
        ]
        return m

    def _normalize(self, m: Module, mag, big_e):
        """FpAdd's capped normalisation (hdl/accum.py `FpAdd._normalize`, LUT variant): shift
        the sum left no further than to 2^emin, so RoundPack needs one-bit normalisers only."""
        plan, G, W = self.plan, self.plan.guard, self.plan.width
        base = self.fmt.emin - (W - 1) + G
        assert plan.exp_lo >= base  # same format on both sides: always true
        budget = Signal(range(plan.exp_hi - base + 1), name="norm_budget")
        m.d.comb += budget.eq(big_e - base)
        cap = Signal((W - 1).bit_length(), name="norm_cap")
        m.d.comb += cap.eq(Mux(budget > W - 1, W - 1, budget))
        cur, shift = normalize_capped(m, mag, cap)
        exp = Signal(_shape(self.fmt.emin - (W - 1), plan.exp_hi - G), name="norm_exp")
        m.d.comb += exp.eq(big_e - G - shift)
        return cur, exp, (self.fmt.emin - (W - 1), plan.exp_hi - G)
