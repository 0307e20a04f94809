"""Adders, accumulators and the MAC (SPEC §3), mirroring golden/accum.py.

`FpAdd` is one correctly rounded step s = round_A(acc + x) with the golden model's
decomposition: unpack both operands (IEEE subnormals), align them on a bounded window (when
their leading bits are >= 2 binades apart the small operand's bits far below the rounding
point fold into a sticky bit, otherwise the sum is exact), add or subtract, one `RoundPack`.
The window width is fixed at build time from the two formats (`AddPlan`).

`FpAcc` / `FixedAcc` hold the state in a register; `Mac` is FpMul -> [FloatToFixed] ->
accumulator.

Timing (all units): the sync domain's rising edge at the end of cycle t loads the state, so
with `latency=1` the `acc` output during cycle t+1 (read after `ctx.tick()` of cycle t)
equals golden `accumulate(..., history=True)[t]` / `mac(..., history=True).acc[t]`. Each
latency cycle above one is one more register stage in front of the accumulator (input
registers for FpAcc/FixedAcc, multiplier pipeline stages for Mac); the state loop itself
always closes in one cycle, so a new input can be accepted every cycle.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import AccConfig, MacConfig
from lpmac.formats import FixedFormat, FloatFormat

from .fpmul import FpMul
from .pipeline import delay
from .raw import Unpack, raw_exp_range
from .rounding import RoundPack, leading_zeros
from .xorshift import XorShift32

__all__ = ["AddPlan", "FpAdd", "FpAcc", "FixedAcc", "Mac"]


@dataclass(frozen=True)
class AddPlan:
    """Build-time sizes of the adder datapath for accumulator format `fmt` and input `x_fmt`.

    With S = max(m_a, m_x) + 1 (widest significand) and G = guard_bits, every aligned
    operand is below 2^D with D = max(S + 1, G + 1): when the operands are within one
    binade the window starts at the lower LSB (at most S + 1 bits up to the big operand's
    top); otherwise it starts at most G + 1 bits below the big operand's top (or at its
    LSB if that is lower). The sum needs D + 1 bits."""

    guard_bits: int     # m + 1 + max(2, r): bits kept below the big operand's top
    sig: int            # S, common significand width
    D: int              # aligned operands are < 2^D
    exp_lo: int         # range of every LSB weight (operand exponents and the window LSB)
    exp_hi: int

    @property
    def width(self) -> int:
        """Width of the sum magnitude fed to RoundPack."""
        return self.D + 1

    @classmethod
    def of(cls, fmt: FloatFormat, x_fmt: FloatFormat, r_bits: int) -> "AddPlan":
        guard = fmt.m + 1 + max(2, r_bits)
        S = max(fmt.m, x_fmt.m) + 1
        lo_a, hi_a = raw_exp_range(fmt, "ieee")
        lo_x, hi_x = raw_exp_range(x_fmt, "ieee")
        return cls(guard, S, max(S + 1, guard + 1), min(lo_a, lo_x), max(hi_a, hi_x))


def _exp_shape(lo: int, hi: int) -> Shape:
    return Shape.cast(range(min(lo, -1), max(hi, 1) + 1))


class FpAdd(wiring.Component):
    """s = round(acc + x) into cfg.fmt (mode cfg.rounding, cfg.sub_out), golden `fp_add`.

    Ports: `acc` (cfg.fmt), `x` (x_fmt, default cfg.fmt), `u` (cfg.sr_bits random bits,
    only when cfg.rounding == "sr") -> `s` (cfg.fmt). Purely combinational."""

    def __init__(self, cfg: AccConfig, x_fmt: FloatFormat | None = None):
        if cfg.is_fixed:
            _reject(self, f"FpAdd needs a float accumulator format, got {cfg.fmt}")
        x_fmt = cfg.fmt if x_fmt is None else x_fmt
        if not isinstance(x_fmt, FloatFormat):
            _reject(self, f"FpAdd input format must be a FloatFormat, got {x_fmt!r}")
        self.cfg, self.fmt, self.x_fmt = cfg, cfg.fmt, x_fmt
        self.r_bits = cfg.sr_bits if cfg.rounding == "sr" else 0
        self.plan = AddPlan.of(cfg.fmt, x_fmt, self.r_bits)
        ports = {"acc": In(cfg.fmt.width), "x": In(x_fmt.width), "s": Out(cfg.fmt.width)}
        if self.r_bits:
            ports["u"] = In(self.r_bits)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        fmt, xf, plan = self.fmt, self.x_fmt, self.plan
        S, D, G = plan.sig, plan.D, plan.guard_bits
        m.submodules.unpack_acc = ua = Unpack(fmt, "ieee")
        m.submodules.unpack_x = ux = Unpack(xf, "ieee")
        m.d.comb += [ua.bits.eq(self.acc), ux.bits.eq(self.x)]
        a, x = ua.raw, ux.raw

        # Exponent arithmetic: LSB weights lie in [exp_lo, exp_hi], tops up to S above.
        span = plan.exp_hi - plan.exp_lo + S + G + 4
        exp_shape = _exp_shape(plan.exp_lo - G - 2, plan.exp_hi + S + 2)
        diff_shape = Shape.cast(range(-span, span + 1))

        def operand(raw, mb, name):
            """(sig masked to 0 for zeros, significant bits of sig)."""
            sig = Signal(S, name=f"{name}_sig")
            m.d.comb += sig.eq(Mux(raw.zero, 0, raw.sig))
            lz = leading_zeros(m, raw.sig, mb)             # IEEE subnormals: up to m zeros
            nbits = Signal(range(S + 1), name=f"{name}_nbits")
            m.d.comb += nbits.eq(Mux(raw.zero, 0, (mb + 1) - lz))
            return sig, nbits

        a_sig, a_nbits = operand(a, fmt.m, "a")
        x_sig, x_nbits = operand(x, xf.m, "x")

        # A zero operand takes the other's exponent so that alignment never shifts a real value.
        a_exp, x_exp = Signal(exp_shape), Signal(exp_shape)
        m.d.comb += [a_exp.eq(Mux(a.zero, x.exp, a.exp)), x_exp.eq(Mux(x.zero, a_exp, x.exp))]
        a_top, x_top = Signal(exp_shape), Signal(exp_shape)
        m.d.comb += [a_top.eq(a_exp + a_nbits), x_top.eq(x_exp + x_nbits)]
        a_big = Signal()
        m.d.comb += a_big.eq(a_top >= x_top)

        big_sig, small_sig = Signal(S), Signal(S)
        big_exp, small_exp, big_top, small_top = (Signal(exp_shape, name=n) for n in
                                                  ("big_exp", "small_exp", "big_top", "small_top"))
        big_sign, small_sign = Signal(), Signal()
        m.d.comb += [
            big_sig.eq(Mux(a_big, a_sig, x_sig)), small_sig.eq(Mux(a_big, x_sig, a_sig)),
            big_exp.eq(Mux(a_big, a_exp, x_exp)), small_exp.eq(Mux(a_big, x_exp, a_exp)),
            big_top.eq(Mux(a_big, a_top, x_top)), small_top.eq(Mux(a_big, x_top, a_top)),
            big_sign.eq(Mux(a_big, a.sign, x.sign)), small_sign.eq(Mux(a_big, x.sign, a.sign)),
        ]

        # Window LSB (golden: lsb = far ? max(low, min(big_exp, big_top-1-G)) : low).
        low = Signal(exp_shape)
        m.d.comb += low.eq(Mux(big_exp < small_exp, big_exp, small_exp))
        far_apart = Signal()
        m.d.comb += far_apart.eq(big_top - small_top >= 2)
        cut = Signal(exp_shape)
        m.d.comb += cut.eq(Mux(big_exp < big_top - 1 - G, big_exp, big_top - 1 - G))
        lsb = Signal(exp_shape)
        m.d.comb += lsb.eq(Mux(far_apart & (cut > low), cut, low))

        # Align: big_sig << (big_exp - lsb), 0 <= shift <= D-1; the small operand is placed
        # S bits higher in an extended window so that the bits shifted out land in [0, S).
        big_shift = Signal(range(D))
        m.d.comb += big_shift.eq(big_exp - lsb)
        big_al = Signal(signed(D + 2))
        m.d.comb += big_al.eq((big_sig << big_shift)[:D])

        small_pos = Signal(diff_shape)                      # small_exp - lsb + S
        m.d.comb += small_pos.eq(small_exp - lsb + S)
        small_shift = Signal(range(D + S))
        m.d.comb += small_shift.eq(Mux(small_pos < 0, 0, small_pos))
        wide = Signal(S + D + S)
        m.d.comb += wide.eq(small_sig << small_shift)
        small_al = Signal(signed(D + 2))
        sticky = Signal()
        with m.If(small_pos < 0):                           # every bit is below the window
            m.d.comb += [small_al.eq(0), sticky.eq(small_sig != 0)]
        with m.Else():
            m.d.comb += [small_al.eq(wide[S:S + D]), sticky.eq(wide[:S] != 0)]

        sub = big_sign ^ small_sign
        total = Signal(signed(D + 2))
        m.d.comb += total.eq(Mux(sub, big_al - small_al - sticky, big_al + small_al))
        neg = total < 0
        mag = Signal(D + 1)
        m.d.comb += mag.eq(Mux(neg, -total, total))

        nan = a.nan | x.nan | (a.inf & x.inf & (a.sign != x.sign))
        inf = ~nan & (a.inf | x.inf)
        inf_sign = Mux(a.inf, a.sign, x.sign)
        exact_zero = (mag == 0) & ~sticky
        zero_sign = a.zero & x.zero & a.sign & x.sign       # -0 + -0 = -0, any other exact zero +0
        sign = Signal()
        with m.If(nan):
            m.d.comb += sign.eq(0)
        with m.Elif(inf):
            m.d.comb += sign.eq(inf_sign)
        with m.Elif(exact_zero):
            m.d.comb += sign.eq(zero_sign)
        with m.Else():
            m.d.comb += sign.eq(Mux(neg, ~big_sign, big_sign))

        # The sum cancels completely when the operands are within one binade: default max_lz.
        m.submodules.round_pack = rp = RoundPack(
            fmt, plan.width, (plan.exp_lo, plan.exp_hi), mode=self.cfg.rounding,
            sub_out=self.cfg.sub_out, has_sticky=True, sr_bits=self.r_bits)
        m.d.comb += [
            rp.sign.eq(sign), rp.sig.eq(mag), rp.exp.eq(lsb), rp.sticky.eq(sticky),
            rp.zero.eq(exact_zero), rp.inf.eq(inf), rp.nan.eq(nan),
            self.s.eq(rp.bits),
        ]
        if self.r_bits:
            m.d.comb += rp.u.eq(self.u)
        return m


def _reject(unit, message: str):
    """Raise ValueError from a constructor without Amaranth's 'created but never used'
    warning for the half-built object."""
    unit._MustUse__silence = True
    raise ValueError(message)


def _check_latency(unit, latency: int, minimum: int) -> None:
    if not isinstance(latency, int) or latency < minimum:
        _reject(unit, f"latency must be an integer >= {minimum}, got {latency!r}")


class FpAcc(wiring.Component):
    """Float accumulator (golden `accumulate`): registered state `acc` in cfg.fmt.

    Ports: `x` (x_fmt), `valid`, `clear` -> `acc`. Reset and `clear` give +0; `clear`
    acts before a same-cycle input (acc <- 0 + x). A step with `valid` gives
    acc <- round(acc + x); with sr the unit's xorshift32 (seed cfg.sr_seed) steps once per
    valid input and is not reset by `clear`. `latency` >= 1 cycles from an input to the
    output reflecting it (latency-1 input register stages)."""

    def __init__(self, cfg: AccConfig, x_fmt: FloatFormat | None = None, latency: int = 1):
        _check_latency(self, latency, 1)
        if cfg.is_fixed:
            _reject(self, f"FpAcc needs a float accumulator format, got {cfg.fmt}; use FixedAcc")
        self.cfg, self.latency = cfg, latency
        self.x_fmt = cfg.fmt if x_fmt is None else x_fmt
        super().__init__({"x": In(self.x_fmt.width), "valid": In(1), "clear": In(1),
                          "acc": Out(cfg.fmt.width)})

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        stages = self.latency - 1
        x = delay(m, self.x, stages, "x")
        valid = delay(m, self.valid, stages, "valid")
        clear = delay(m, self.clear, stages, "clear")

        m.submodules.add = add = FpAdd(cfg, self.x_fmt)
        m.d.comb += [add.acc.eq(Mux(clear, 0, self.acc)), add.x.eq(x)]
        if cfg.rounding == "sr":
            m.submodules.rng = rng = XorShift32(cfg.sr_seed, cfg.sr_bits)
            m.d.comb += [rng.step.eq(valid), add.u.eq(rng.u)]
        with m.If(valid):
            m.d.sync += self.acc.eq(add.s)
        with m.Elif(clear):
            m.d.sync += self.acc.eq(0)
        return m


class FixedAcc(wiring.Component):
    """Saturating Qi.f accumulator (golden `fixed_add` / `accumulate`): `x`, `valid`,
    `clear` -> registered `acc`, same timing as FpAcc."""

    def __init__(self, fmt: FixedFormat, latency: int = 1):
        _check_latency(self, latency, 1)
        if not isinstance(fmt, FixedFormat):
            _reject(self, f"FixedAcc needs a Qi.f format, got {fmt!r}")
        self.fmt, self.latency = fmt, latency
        super().__init__({"x": In(fmt.width), "valid": In(1), "clear": In(1), "acc": Out(fmt.width)})

    def elaborate(self, platform):
        m = Module()
        W = self.fmt.width
        stages = self.latency - 1
        x = delay(m, self.x, stages, "x")
        valid = delay(m, self.valid, stages, "valid")
        clear = delay(m, self.clear, stages, "clear")

        base = Mux(clear, 0, self.acc.as_signed())
        total = Signal(signed(W + 1))
        m.d.comb += total.eq(base + x.as_signed())
        lo, hi = self.fmt.min_int, self.fmt.max_int
        sat = Mux(total > hi, Const(hi, signed(W + 1)), Mux(total < lo, Const(lo, signed(W + 1)), total))
        with m.If(valid):
            m.d.sync += self.acc.eq(sat[:W])
        with m.Elif(clear):
            m.d.sync += self.acc.eq(0)
        return m


def _float_to_fixed():
    """hdl/convert.py's FloatToFixed (written separately); None while it does not exist."""
    try:
        from .convert import FloatToFixed
    except ImportError:
        return None
    return FloatToFixed


class Mac(wiring.Component):
    """acc <- acc + a*b (golden `mac`): FpMul -> [FloatToFixed when the accumulator is
    fixed] -> FpAcc / FixedAcc.

    Ports: `a`, `b` (cfg.mul.in_format), `valid`, `clear` -> `acc` (cfg.acc.fmt), plus
    `invalid` (sticky, set by a valid NaN product converted to fixed, held until `clear`)
    for a fixed accumulator.

    Pipeline boundary: with `latency=1` (default) the multiplier and the converter are
    combinational and feed the accumulator's adder in the same cycle; the only register is
    the accumulator state (and the `invalid` flag), so `acc` after the edge of cycle t is
    golden `mac(..., history=True).acc[t]`. `latency=L > 1` gives the multiplier L-1
    pipeline stages (FpMul's own `latency`) and delays `valid`/`clear` to match."""

    def __init__(self, cfg: MacConfig, latency: int = 1, use_dsp: bool = True):
        _check_latency(self, latency, 1)
        self.cfg, self.latency, self.use_dsp = cfg, latency, use_dsp
        fin = cfg.mul.in_format
        ports = {"a": In(fin.width), "b": In(fin.width), "valid": In(1), "clear": In(1),
                 "acc": Out(cfg.acc.fmt.width)}
        if cfg.acc.is_fixed:
            if _float_to_fixed() is None:
                raise NotImplementedError("a fixed-point MAC needs FloatToFixed from hdl/convert.py")
            ports["invalid"] = Out(1)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        stages = self.latency - 1
        m.submodules.mul = mul = FpMul(cfg.mul, latency=stages, use_dsp=self.use_dsp)
        m.d.comb += [mul.a.eq(self.a), mul.b.eq(self.b)]
        valid = delay(m, self.valid, stages, "valid")
        clear = delay(m, self.clear, stages, "clear")

        if cfg.acc.is_fixed:
            FloatToFixed = _float_to_fixed()
            m.submodules.convert = conv = FloatToFixed(cfg.mul.out_format, cfg.acc.fmt,
                                                       mode=cfg.acc.rounding, sub_in="ieee", latency=0)
            m.submodules.acc = acc = FixedAcc(cfg.acc.fmt)
            m.d.comb += [conv.a.eq(mul.p), acc.x.eq(conv.y)]
            # Sticky until clear; clear acts before the same cycle's event (golden _sticky_flag).
            m.d.sync += self.invalid.eq((self.invalid & ~clear) | (conv.invalid & valid))
        else:
            m.submodules.acc = acc = FpAcc(cfg.acc, cfg.mul.out_format)
            m.d.comb += acc.x.eq(mul.p)
        m.d.comb += [acc.valid.eq(valid), acc.clear.eq(clear), self.acc.eq(acc.acc)]
        return m
