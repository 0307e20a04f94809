"""The float adder `FpAdd` (SPEC §3), mirroring golden `fp_add`: one correctly rounded step
s = round_A(acc + x) with the golden model's decomposition: unpack both operands (IEEE
subnormals), align them on a bounded window (when their leading bits are >= 2 binades apart
the small operand's bits far below the rounding point fold into a sticky bit, otherwise the
sum is exact), add or subtract, one `RoundPack`. The window width is fixed at build time from
the two formats (`AddPlan`). Combinational, or pipelined at the FP_ADD_CUTS cut points.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib.wiring import In, Out

from lpmac.adder import add_window
from lpmac.config import AccConfig
from lpmac.formats import FloatFormat

from .checked import CheckedComponent
from .normalize_capped import (
    DSP_A_BITS,
    normalize_capped,
    normalize_capped_dsp,
    shift_right_sticky_dsp,
)
from .pipeline import check_latency, cut, cuts_for, delay
from .raw import Unpack, raw_exp_range
from .rounding import ROUND_PACK_CUTS, RoundPack, normalize, shift_right_sticky

__all__ = ["AddPlan", "FP_ADD_CUTS", "FpAdd", "NORM_DSP_MIN_SIG"]

# With DSPs allowed, the adder's normalising shift is a DSP product from this common
# significand width on (fp32: 24); narrower formats keep the LUT shifter (the reference's
# E6M5..E7M7 accumulators use no DSP, and there the shifter is small).
NORM_DSP_MIN_SIG = 16

# FpAdd's pipeline cut points in the order `latency` enables them (see FpAdd): each prefix
# is the best set of that size found for fp32 on ECP5 (benchmarks/timing_fpadd.py).
FP_ADD_CUTS = (
    "normalizing",
    "aligning",
    "exponent",
    "added",
    "swapped",
    "normalized",
    "rounded",
    "normalizing_late",
    "aligned",
    "denormalizing",
)


@dataclass(frozen=True)
class AddPlan:
    """Build-time sizes of the adder datapath for accumulator format `fmt` and input `x_fmt`.

    Both significands are placed on S = max(m_a, m_x) + 1 bits (leading one at S-1 for a
    normal value); E is the weight of that S-bit significand's LSB. The smaller operand is
    aligned to the bigger one's LSB with G extra bits below it (plus sticky), so the sum has
    S + G + 1 bits with LSB weight E_big - G. G keeps the result's rounding point at least
    max(1, r) bits above the window's LSB even after a one-bit cancellation (r: sr bits)."""

    sig: int  # S, common significand width
    guard: int  # G
    exp_lo: int  # range of E (the S-bit LSB weight) over both operands
    exp_hi: int
    normalize_acc: bool  # normalise this operand's subnormals so magnitudes order by (E, sig)
    normalize_x: bool

    @property
    def width(self) -> int:
        """Width of the sum magnitude fed to RoundPack."""
        return self.sig + self.guard + 1

    @classmethod
    def of(cls, fmt: FloatFormat, x_fmt: FloatFormat, r_bits: int) -> AddPlan:
        S, guard = add_window(fmt.m, x_fmt.m, r_bits)
        # Magnitudes order as (E, sig) when both formats' subnormals share one E (same emin).
        # Otherwise the format with the higher emin has its subnormals normalised, and both
        # are when that would reach below the other format's emin.
        norm_a = norm_x = False
        if fmt.emin != x_fmt.emin:
            hi_fmt, lo_fmt = (fmt, x_fmt) if fmt.emin > x_fmt.emin else (x_fmt, fmt)
            both = hi_fmt.emin - hi_fmt.m < lo_fmt.emin
            norm_a = both or hi_fmt is fmt
            norm_x = both or hi_fmt is x_fmt
        lo_a, hi_a = raw_exp_range(fmt, "ieee")
        lo_x, hi_x = raw_exp_range(x_fmt, "ieee")
        lo_a -= (S - 1 - fmt.m) + (fmt.m if norm_a else 0)
        lo_x -= (S - 1 - x_fmt.m) + (x_fmt.m if norm_x else 0)
        hi_a -= S - 1 - fmt.m
        hi_x -= S - 1 - x_fmt.m
        return cls(S, guard, min(lo_a, lo_x), max(hi_a, hi_x), norm_a, norm_x)


def _exp_shape(lo: int, hi: int) -> Shape:
    return Shape.cast(range(min(lo, -1), max(hi, 1) + 1))


def _pick(values: dict, names) -> dict:
    return {name: values[name] for name in names}


class FpAdd(CheckedComponent):
    """s = round(acc + x) into cfg.fmt (mode cfg.rounding, cfg.sub_out), golden `fp_add`.

    Ports: `acc` (cfg.fmt), `x` (x_fmt, default cfg.fmt), `u` (cfg.sr_bits random bits,
    only when cfg.rounding == "sr") -> `s` (cfg.fmt). Combinational with `latency=0`.

    The classic datapath: order the operands by magnitude, shift the smaller one right by
    the exponent difference (the bits it loses fold into sticky), add or subtract (the
    difference is never negative), normalise no further than to 2^emin (`_normalize`), one
    RoundPack (round, pack). `use_dsp`: the normalising shift of a wide significand
    (>= NORM_DSP_MIN_SIG bits) is a product with a one-hot in DSP blocks. `align_dsp` (at
    latency 0 or without the `aligning` cut): the alignment shift's low bits are one DSP
    product (`shift_right_sticky_dsp`); off by default, which keeps FpAcc's and Mac's Verilog.

    Pipeline: `latency=N` enables the first N cut points of `cut_plan` (FP_ADD_CUTS, see
    hdl/pipeline.py); `s` then reflects the operands (and `u`) applied N cycles earlier, one
    result per cycle. The cut points, in datapath order:
      `swapped`   operands unpacked and ordered by magnitude, exponent difference d;
      `aligning`  inside the alignment shifter (after its shifts by 8 and more);
      `aligned`   the small operand aligned, its sticky bit;
      `added`     the sum;
      `normalizing`, `normalizing_late`  inside the normaliser: halfway with the first
                  alone, at two thirds and one third with both (DSP normaliser: before and
                  after the product);
      `normalized`  after the normaliser (shift amount, before the exponent's subtraction);
      `exponent`  RoundPack's `normalized` cut: after its biased exponent (and 1 - it);
      `denormalizing`, `rounded`  RoundPack's own.
    When RoundPack normalises (no capped normaliser, see `_normalize`), `normalizing` and
    `normalized` are RoundPack's own and `exponent` and `normalizing_late` are left out of
    `cut_plan`. Every value crossing a cut is registered (specials flags, signs, sticky,
    exponent, normaliser cap, `u`); stages beyond the plan are output registers. With any
    cut, a few paths are rearranged, same function: both exponent differences beside the
    magnitude compare, the normaliser's cap computed beside the alignment and tested by
    equality, RoundPack's `early_overflow`; latency 0 keeps the combinational netlist (and
    FpAcc's and Mac's Verilog) unchanged."""

    @staticmethod
    def check(
        cfg: AccConfig,
        x_fmt: FloatFormat | None = None,
        use_dsp: bool = False,
        latency: int = 0,
        *,
        align_dsp: bool = False,
    ):
        check_latency(latency)
        if cfg.is_fixed:
            raise ValueError(f"FpAdd needs a float accumulator format, got {cfg.fmt}")
        if x_fmt is not None and not isinstance(x_fmt, FloatFormat):
            raise ValueError(f"FpAdd input format must be a FloatFormat, got {x_fmt!r}")

    def __init__(
        self,
        cfg: AccConfig,
        x_fmt: FloatFormat | None = None,
        use_dsp: bool = False,
        latency: int = 0,
        *,
        align_dsp: bool = False,
    ):
        x_fmt = cfg.fmt if x_fmt is None else x_fmt
        self.cfg, self.fmt, self.x_fmt, self.use_dsp = cfg, cfg.fmt, x_fmt, use_dsp
        self.align_dsp = align_dsp
        self.latency = latency
        self.r_bits = cfg.sr_bits if cfg.rounding == "sr" else 0
        self.plan = AddPlan.of(cfg.fmt, x_fmt, self.r_bits)
        # The sum is normalised here, no further than to 2^emin, when no result can lie
        # below the format's normal range by more than the sum's width (see `_normalize`).
        W = self.plan.width
        self.norm_base = cfg.fmt.emin - (W - 1) + self.plan.guard
        self.capped = self.plan.exp_lo >= self.norm_base
        # RoundPack's exponent and a third part of the normaliser are cuts of their own only
        # after a capped normaliser.
        only_capped = {"exponent", "normalizing_late"}
        self.cut_plan = tuple(c for c in FP_ADD_CUTS if self.capped or c not in only_capped)
        ports = {"acc": In(cfg.fmt.width), "x": In(x_fmt.width), "s": Out(cfg.fmt.width)}
        if self.r_bits:
            ports["u"] = In(self.r_bits)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        fmt, xf, plan = self.fmt, self.x_fmt, self.plan
        S, G = plan.sig, plan.guard
        cuts, extra = cuts_for(self.cut_plan, self.latency)
        m.submodules.unpack_acc = ua = Unpack(fmt, "ieee")
        m.submodules.unpack_x = ux = Unpack(xf, "ieee")
        m.d.comb += [ua.bits.eq(self.acc), ux.bits.eq(self.x)]
        a, x = ua.raw, ux.raw
        exp_shape = _exp_shape(plan.exp_lo, plan.exp_hi)
        force_zero_low = plan.normalize_acc or plan.normalize_x or fmt.emin != xf.emin

        def operand(raw, f: FloatFormat, normal: bool, name: str):
            """(S-bit significand, E): the significand's top at S-1, zeros at the lowest E."""
            sig, e = Signal(S, name=f"{name}_sig"), Signal(exp_shape, name=f"{name}_e")
            up = S - 1 - f.m
            if normal:
                nsig, lz = normalize(m, raw.sig, f.m, name=f"{name}_n")
                m.d.comb += [sig.eq(nsig << up), e.eq(raw.exp - up - lz)]
            else:
                m.d.comb += [sig.eq(raw.sig << up), e.eq(raw.exp - up)]
            if force_zero_low:  # a zero must order below every other value
                lowest = Signal(exp_shape, name=f"{name}_el")
                m.d.comb += lowest.eq(Mux(raw.zero, plan.exp_lo, e))
                e = lowest
            return sig, e

        a_sig, a_e = operand(a, fmt, plan.normalize_acc, "a")
        x_sig, x_e = operand(x, xf, plan.normalize_x, "x")

        # |acc| >= |x|: compare (E, sig) as one number; for two formats with the same fields
        # and bias that is the encodings' magnitude bits (IEEE order).
        a_big = Signal()
        if (fmt.e, fmt.m, fmt.bias) == (xf.e, xf.m, xf.bias):
            m.d.comb += a_big.eq(self.acc[:-1] >= self.x[:-1])
        else:
            off = Shape.cast(range(plan.exp_hi - plan.exp_lo + 1)).width
            a_key, x_key = Signal(off + S), Signal(off + S)
            m.d.comb += [
                a_key.eq(Cat(a_sig, a_e - plan.exp_lo)),
                x_key.eq(Cat(x_sig, x_e - plan.exp_lo)),
            ]
            m.d.comb += a_big.eq(a_key >= x_key)

        big_sig, small_sig = Signal(S), Signal(S)
        big_e, small_e = Signal(exp_shape), Signal(exp_shape)
        d = Signal(range(plan.exp_hi - plan.exp_lo + 1))
        big_sign, small_sign = Signal(), Signal()
        m.d.comb += [
            big_sig.eq(Mux(a_big, a_sig, x_sig)),
            small_sig.eq(Mux(a_big, x_sig, a_sig)),
            big_e.eq(Mux(a_big, a_e, x_e)),
            small_e.eq(Mux(a_big, x_e, a_e)),
            # Pipelined: both differences beside the comparison instead of after the swap.
            d.eq(Mux(a_big, a_e - x_e, x_e - a_e) if cuts else big_e - small_e),
            big_sign.eq(Mux(a_big, a.sign, x.sign)),
            small_sign.eq(Mux(a_big, x.sign, a.sign)),
        ]
        # What the later stages need besides the magnitudes, each registered at every cut.
        side = {
            "big_e": big_e,
            "big_sign": big_sign,
            "nan": a.nan | x.nan | (a.inf & x.inf & (a.sign != x.sign)),
            "inf_any": a.inf | x.inf,
            "inf_sign": Mux(a.inf, a.sign, x.sign),
            "zero_sign": a.zero & x.zero & a.sign & x.sign,  # -0 + -0 = -0, other zeros +0
        }
        if self.r_bits:
            side["u"] = self.u
        ops = {"big_sig": big_sig, "small_sig": small_sig, "d": d, "sub": big_sign ^ small_sign}
        stage = cut(m, "swapped" in cuts, "swapped", {**ops, **side})
        side = _pick(stage, side)

        # Align the smaller operand to the bigger one's LSB, G bits further down.
        ops = {"big_sig": stage["big_sig"], "sub": stage["sub"]}
        small = Cat(Const(0, G), stage["small_sig"])
        if "aligning" in cuts:  # the shifter's wide stages, the cut, then its narrow ones
            small_al, sticky = shift_right_sticky(
                m, small, Cat(Const(0, 3), stage["d"][3:]), "align"
            )
            ops = {**ops, "small_al": small_al, "d_low": stage["d"][:3]}
            stage = cut(m, True, "aligning", {**ops, "sticky_hi": sticky, **side})
            side = _pick(stage, side)
            small_al, sticky_lo = shift_right_sticky(
                m, stage["small_al"], stage["d_low"], "align_lo"
            )
            sticky = stage["sticky_hi"] | sticky_lo
            ops = _pick(stage, ["big_sig", "sub"])
        elif self.align_dsp and len(small) <= DSP_A_BITS:
            small_al, sticky = shift_right_sticky_dsp(m, small, stage["d"], "align")
        else:
            small_al, sticky = shift_right_sticky(m, small, stage["d"], "align")
        # With cuts, the normaliser's cap is computed here, beside the (second half of the)
        # alignment and off the normaliser's path; at latency 0 where it always was, after the
        # sum (this keeps the combinational adder's Verilog byte-identical).
        cap = self._norm_cap(m, side["big_e"]) if cuts else None
        if cap is not None:
            side["cap"] = cap
        ops["small_al"] = small_al
        side = {"sticky": sticky, **side}
        stage = cut(m, "aligned" in cuts, "aligned", {**ops, **side})
        big_al = Cat(Const(0, G), stage["big_sig"])
        small_al, sub = stage["small_al"], stage["sub"]
        mag = Signal(plan.width)
        # One adder: big - small - sticky = big + ~small + ~sticky (mod 2^width).
        flip = Signal(len(small_al))
        m.d.comb += flip.eq(small_al ^ sub.replicate(len(small_al)))
        m.d.comb += mag.eq(big_al + Cat(flip, sub) + (sub & ~stage["sticky"]))
        side = _pick(stage, side)
        stage = cut(m, "added" in cuts, "added", {"mag": mag, **side})
        mag, sticky, nan = stage["mag"], stage["sticky"], stage["nan"]

        inf = ~nan & stage["inf_any"]
        exact_zero = (mag == 0) & ~sticky
        sign = Signal()
        with m.If(nan):
            m.d.comb += sign.eq(0)
        with m.Elif(inf):
            m.d.comb += sign.eq(stage["inf_sign"])
        with m.Elif(exact_zero):
            m.d.comb += sign.eq(stage["zero_sign"])
        with m.Else():
            m.d.comb += sign.eq(stage["big_sign"])

        late = {"sign": sign, "sticky": sticky, "zero": exact_zero, "inf": inf, "nan": nan}
        if self.r_bits:
            late["u"] = stage["u"]
        cap = stage.get("cap") if cuts else self._norm_cap(m, stage["big_e"])
        sig, exp, exp_range, max_lz, late = self._normalize(m, mag, stage["big_e"], cap, cuts, late)
        rp_cuts = cuts & ROUND_PACK_CUTS
        if self.capped:  # the normaliser was ours; RoundPack's `normalized` cut: `exponent`
            rp_cuts -= {"normalizing", "normalized"}
            rp_cuts |= {"normalized"} if "exponent" in cuts else set()
        m.submodules.round_pack = rp = RoundPack(
            fmt,
            plan.width,
            exp_range,
            max_lz=max_lz,
            mode=self.cfg.rounding,
            sub_out=self.cfg.sub_out,
            has_sticky=True,
            sr_bits=self.r_bits,
            cuts=rp_cuts,
            early_overflow=bool(cuts),
        )
        m.d.comb += [
            rp.sign.eq(late["sign"]),
            rp.sig.eq(sig),
            rp.exp.eq(exp),
            rp.sticky.eq(late["sticky"]),
            rp.zero.eq(late["zero"]),
            rp.inf.eq(late["inf"]),
            rp.nan.eq(late["nan"]),
            self.s.eq(delay(m, rp.bits, extra, "s")),
        ]
        if self.r_bits:
            m.d.comb += rp.u.eq(late["u"])
        return m

    def _norm_cap(self, m: Module, big_e):
        """The normaliser's cap from the bigger operand's exponent, or None when RoundPack
        normalises (`_normalize`)."""
        plan, W, base = self.plan, self.plan.width, self.norm_base
        if not self.capped:
            return None
        # Shifting left by `budget` puts weight 2^emin on the top bit: budget = big_e - base.
        budget = Signal(range(plan.exp_hi - base + 1), name="norm_budget")
        m.d.comb += budget.eq(big_e - base)
        cap = Signal((W - 1).bit_length(), name="norm_cap")
        # shifts beyond W - 1 never happen for a nonzero sum
        m.d.comb += cap.eq(Mux(budget > W - 1, W - 1, budget))
        return cap

    def _normalize(self, m: Module, mag, big_e, cap, cuts: frozenset, late: dict):
        """(sig, exp, exp_range, max_lz, late) for RoundPack from the sum `mag` *
        2^(big_e - G); `late` (RoundPack's other inputs) comes back through the same cuts.

        A subtraction within one binade can cancel completely, so the sum may need a left
        shift by up to width - 1. When no result can lie below the accumulator format's
        normal range by more than that (`_norm_cap`'s budget is >= 0), the shift is done here
        and stops where the leading bit's weight reaches 2^emin (`cap`): a subnormal result
        then already sits at its place and RoundPack needs a one-bit normaliser and a one-bit
        denormalising shift instead of a full one each. Otherwise RoundPack does it all."""
        plan, G, W = self.plan, self.plan.guard, self.plan.width
        if not self.capped:
            return mag, big_e - G, (plan.exp_lo - G, plan.exp_hi - G), None, late
        carry = {"big_e": big_e, **late}
        split, late_split = "normalizing" in cuts, "normalizing_late" in cuts
        if self.use_dsp and self.plan.sig >= NORM_DSP_MIN_SIG:
            names = ("normalizing" if split else None, "normalizing_late" if late_split else None)
            cur, shift, carry = normalize_capped_dsp(m, mag, cap, *names, carry=carry)
        else:  # a cut in front of the stage halfway down, or one third and two thirds down
            K = len(cap)
            at = {K // 2: "normalizing"} if split else {}
            if late_split:
                at = {2 * K // 3: "normalizing"} if split else {}
                at[K // 3] = "normalizing_late"
            fast = bool(cuts)  # the combinational adder keeps its comparator (same netlist)
            cur, shift, carry = normalize_capped(m, mag, cap, at, carry, cap_by_equality=fast)
        # The exponent's carry chain comes after the `normalized` cut, off the normaliser's.
        staged = cut(m, "normalized" in cuts, "normalized", {"cur": cur, "shift": shift, **carry})
        exp = Signal(_exp_shape(self.fmt.emin - (W - 1), plan.exp_hi - G), name="norm_exp")
        m.d.comb += exp.eq(staged["big_e"] - G - staged["shift"])
        # A result below 2^emin keeps leading zeros with exp at its lowest: RoundPack's
        # one-bit normalise + one-bit denormalise reads it as the subnormal it is.
        exp_range = (self.fmt.emin - (W - 1), plan.exp_hi - G)
        return staged["cur"], exp, exp_range, 1, _pick(staged, late)
