"""Adders, accumulators and the MAC (SPEC §3), mirroring golden/accum.py.

`FpAdd` (hdl/fpadd.py, re-exported here) is one correctly rounded step s = round_A(acc + x).

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

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lpmac.config import AccConfig, MacConfig
from lpmac.formats import FixedFormat, FloatFormat

from .accum_long import LongAcc
from .checked import CheckedComponent
from .convert import FloatToFixed
from .fpadd import FP_ADD_CUTS, NORM_DSP_MIN_SIG, AddPlan, FpAdd
from .fpmul import FpMul
from .pipeline import check_latency, delay
from .xorshift import XorShift32

__all__ = ["AddPlan", "FP_ADD_CUTS", "FpAdd", "FpAcc", "FixedAcc", "Mac", "NORM_DSP_MIN_SIG"]


class FpAcc(CheckedComponent):
    """Float accumulator (golden `accumulate`): registered state `acc` in cfg.fmt.

    Ports: `x` (x_fmt), `valid`, `clear` -> `acc`. Reset and `clear` give +0; `clear`
    acts before a same-cycle input (acc <- 0 + x). A step with `valid` gives
    acc <- round(acc + x); with sr the unit's xorshift32 (seed cfg.sr_seed) steps once per
    valid input and is not reset by `clear`. `latency` >= 1 cycles from an input to the
    output reflecting it (latency-1 input register stages)."""

    @staticmethod
    def check(
        cfg: AccConfig, x_fmt: FloatFormat | None = None, latency: int = 1, use_dsp: bool = True
    ):
        check_latency(latency, 1)
        if cfg.is_fixed:
            raise ValueError(f"FpAcc needs a float accumulator format, got {cfg.fmt}; use FixedAcc")
        if cfg.is_long:
            raise ValueError(f"FpAcc rounds every step; {cfg} is built by LongAcc (accum_long)")

    def __init__(
        self,
        cfg: AccConfig,
        x_fmt: FloatFormat | None = None,
        latency: int = 1,
        use_dsp: bool = True,
    ):
        self.cfg, self.latency, self.use_dsp = cfg, latency, use_dsp
        self.x_fmt = cfg.fmt if x_fmt is None else x_fmt
        super().__init__(
            {"x": In(self.x_fmt.width), "valid": In(1), "clear": In(1), "acc": Out(cfg.fmt.width)}
        )

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        stages = self.latency - 1
        x = delay(m, self.x, stages, "x")
        valid = delay(m, self.valid, stages, "valid")
        clear = delay(m, self.clear, stages, "clear")

        # With DSPs, a wide significand's alignment shift is a product too (as its
        # normalising shift is): the HBFP array's column adder is built the same way.
        align_dsp = self.use_dsp and cfg.fmt.m + 1 >= NORM_DSP_MIN_SIG
        m.submodules.add = add = FpAdd(cfg, self.x_fmt, self.use_dsp, align_dsp=align_dsp)
        m.d.comb += [add.acc.eq(Mux(clear, 0, self.acc)), add.x.eq(x)]
        if cfg.rounding == "sr":
            m.submodules.rng = rng = XorShift32(cfg.sr_seed, cfg.sr_bits)
            m.d.comb += [rng.step.eq(valid), add.u.eq(rng.u)]
        with m.If(valid):
            m.d.sync += self.acc.eq(add.s)
        with m.Elif(clear):
            m.d.sync += self.acc.eq(0)
        return m


class FixedAcc(CheckedComponent):
    """Saturating Qi.f accumulator (golden `fixed_add` / `accumulate`): `x`, `valid`,
    `clear` -> registered `acc`, same timing as FpAcc."""

    @staticmethod
    def check(fmt: FixedFormat, latency: int = 1):
        check_latency(latency, 1)
        if not isinstance(fmt, FixedFormat):
            raise ValueError(f"FixedAcc needs a Qi.f format, got {fmt!r}")

    def __init__(self, fmt: FixedFormat, latency: int = 1):
        self.fmt, self.latency = fmt, latency
        super().__init__(
            {"x": In(fmt.width), "valid": In(1), "clear": In(1), "acc": Out(fmt.width)}
        )

    def elaborate(self, platform):
        m = Module()
        W = self.fmt.width
        stages = self.latency - 1
        x = delay(m, self.x, stages, "x")
        valid = delay(m, self.valid, stages, "valid")
        clear = delay(m, self.clear, stages, "clear")

        # The adder sees the raw state; `clear` is applied after it (0 + x = x needs no
        # saturation), which keeps the clear gating out of the carry chain's inputs.
        total = Signal(signed(W + 1))
        m.d.comb += total.eq(self.acc.as_signed() + x.as_signed())
        # The W+1-bit sum overflows W bits iff its top two bits differ; the top bit is the
        # true sign, so it picks the limit (max_int = 0111..., min_int = 1000...).
        overflow = total[W] != total[W - 1]
        limit = Cat((~total[W]).replicate(W - 1), total[W])
        sat = Mux(overflow, limit, total[:W])
        with m.If(valid):
            m.d.sync += self.acc.eq(Mux(clear, x, sat))
        with m.Elif(clear):
            m.d.sync += self.acc.eq(0)
        return m


class Mac(CheckedComponent):
    """acc <- acc + a*b (golden `mac`): FpMul -> [FloatToFixed when the accumulator is
    fixed] -> FpAcc / FixedAcc.

    Ports: `a`, `b` (cfg.mul.in_format), `valid`, `clear` -> `acc` (cfg.acc.fmt), plus
    `invalid` (sticky, set by a valid NaN product converted to fixed, held until `clear`)
    for a fixed accumulator.

    Pipeline boundary: with `latency=1` (default) the multiplier and the converter are
    combinational and feed the accumulator's adder in the same cycle; the only register is
    the accumulator state (and the `invalid` flag), so `acc` after the edge of cycle t is
    golden `mac(..., history=True).acc[t]`. `latency=L > 1` gives the multiplier L-1
    pipeline stages (FpMul's own `latency`) and delays `valid`/`clear` to match.

    A long accumulator (`E5M2:cfg5+E6M5:long`) is hdl/accum_long.py's LongAcc, whose own
    pipeline adds cycles: `depth` is the total, from an input to `acc` reflecting it."""

    @staticmethod
    def check(cfg: MacConfig, latency: int = 1, use_dsp: bool = True):
        check_latency(latency, 1)

    def __init__(self, cfg: MacConfig, latency: int = 1, use_dsp: bool = True):
        self.cfg, self.latency, self.use_dsp = cfg, latency, use_dsp
        self.depth = latency  # cycles from an input to `acc` reflecting it
        if not cfg.acc.is_fixed and cfg.acc.is_long:
            self.depth = latency - 1 + LongAcc.latency_for(cfg.mul.out_format)
        fin = cfg.mul.in_format
        ports = {
            "a": In(fin.width),
            "b": In(fin.width),
            "valid": In(1),
            "clear": In(1),
            "acc": Out(cfg.acc.fmt.width),
        }
        if cfg.acc.is_fixed:
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
            m.submodules.convert = conv = FloatToFixed(
                cfg.mul.out_format, cfg.acc.fmt, mode=cfg.acc.rounding, sub_in="ieee", latency=0
            )
            m.submodules.acc = acc = FixedAcc(cfg.acc.fmt)
            m.d.comb += [conv.a.eq(mul.p), acc.x.eq(conv.y)]
            # Sticky until clear; clear acts before the same cycle's event (golden _sticky_flag).
            m.d.sync += self.invalid.eq((self.invalid & ~clear) | (conv.invalid & valid))
        elif cfg.acc.is_long:
            m.submodules.acc = acc = LongAcc(cfg.acc, cfg.mul.out_format)
            m.d.comb += acc.x.eq(mul.p)
        else:
            m.submodules.acc = acc = FpAcc(cfg.acc, cfg.mul.out_format, use_dsp=self.use_dsp)
            m.d.comb += acc.x.eq(mul.p)
        m.d.comb += [acc.valid.eq(valid), acc.clear.eq(clear), self.acc.eq(acc.acc)]
        return m
