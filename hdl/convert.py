"""Converters (SPEC §4), mirroring golden/convert.py unit by unit: unpack -> compute exactly
-> the shared RoundShift / RoundPack.

* `FloatToFloat`  float -> float (`golden.convert`)
* `FloatToFixed`  float -> Qi.f, saturating, with a per-input `invalid` (NaN) flag
  (`golden.to_fixed`)
* `FixedToFloat`  Qi.f -> float (`golden.from_fixed`)
* `FloatToBfp`, `BfpToFloat`: block floating point, in hdl/convert_bfp.py (re-exported here)

Every unit takes `latency` register stages (0 = combinational), placed as in `FpMul`: with
latency >= 2 one stage registers the inputs, the other stages register the outputs. Every
output (flags included) has the same latency.

Stochastic rounding (`mode="sr"`): the unit owns xorshift32 generators (one per rounding
lane) and gets a `valid` input. A generator steps on each cycle whose conversion is valid
(SPEC §6: once per rounding performed); `valid` travels with the data through the input
register, so the n-th valid conversion always uses the n-th random value whatever the
latency. Outputs of cycles without `valid` are computed with the current random value but
do not consume it. Reset (`rst`) reloads the seeds. An `sr` unit therefore has a clock even
with latency 0.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import FixedFormat, FloatFormat
from lpmac.modes import NEAREST_ROUND

from .convert_bfp import BfpToFloat, FloatToBfp, bfp_exp_range, bfp_exp_shape
from .convert_checks import (
    SUB_IN,
    SUB_OUT,
    _check,
    _check_sr,
    _signed_range,
    _stages,
)
from .pipeline import check_latency, delay
from .raw import Unpack, raw_max_lz
from .rounding import MODES, RoundPack, RoundShift, round_signed
from .xorshift import XorShift32

__all__ = [
    "FloatToFloat",
    "FloatToFixed",
    "FixedToFloat",
    "FloatToBfp",
    "BfpToFloat",
    "bfp_exp_range",
    "bfp_exp_shape",
]


class FloatToFloat(wiring.Component):
    """`a` in `src` -> `y` in `dst`: the exact value rounded per SPEC §1 (`golden.convert`).

    NaN -> canonical NaN (+inf, or +max finite, where `dst` has no NaN / no inf);
    `saturate` maps overflow and inf to max finite. With `mode="sr"` there is a `valid`
    input: the unit's xorshift32 generator (seed `sr_seed`, `sr_bits` random bits) steps
    once per valid conversion."""

    def __init__(
        self,
        src: FloatFormat,
        dst: FloatFormat,
        mode: str = "rne",
        sub_out: str = "ieee",
        saturate: bool = False,
        sub_in: str = "ieee",
        sr_bits: int = 8,
        sr_seed: int = 1,
        latency: int = 0,
    ):
        _check("mode", mode, MODES)
        _check("sub_out", sub_out, SUB_OUT)
        _check("sub_in", sub_in, SUB_IN)
        _check_sr(mode, sr_bits, sr_seed)
        check_latency(latency)
        self.src, self.dst, self.mode, self.sub_out, self.saturate = (
            src,
            dst,
            mode,
            sub_out,
            saturate,
        )
        self.sub_in, self.sr_bits, self.sr_seed, self.latency = sub_in, sr_bits, sr_seed, latency
        ports = {"a": In(src.width), "y": Out(dst.width)}
        if mode == "sr":
            ports["valid"] = In(1)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        src, sr = self.src, self.mode == "sr"
        in_st, out_st = _stages(self.latency)
        m.submodules.unpack = up = Unpack(src, self.sub_in)
        m.d.comb += up.bits.eq(delay(m, self.a, in_st, "a"))
        x = up.raw

        m.submodules.round_pack = rp = RoundPack(
            self.dst,
            src.m + 1,
            up.exp_range,
            max_lz=raw_max_lz(src, self.sub_in),
            mode=self.mode,
            sub_out=self.sub_out,
            sr_bits=self.sr_bits if sr else 0,
            saturate=self.saturate,
        )
        m.d.comb += [
            rp.sign.eq(x.sign & ~x.nan),
            rp.sig.eq(x.sig),
            rp.exp.eq(x.exp),
            rp.zero.eq(x.zero),
            rp.inf.eq(x.inf),
            rp.nan.eq(x.nan),
        ]
        if sr:
            m.submodules.rng = rng = XorShift32(self.sr_seed, self.sr_bits)
            m.d.comb += [rng.step.eq(delay(m, self.valid, in_st, "valid")), rp.u.eq(rng.u)]
        m.d.comb += self.y.eq(delay(m, rp.bits, out_st, "y"))
        return m


class FloatToFixed(wiring.Component):
    """`a` in `src` -> `y` in Qi.f (`golden.to_fixed`): rounded to f fraction bits (`rne`,
    `rna` or `rz`), saturated to [min, max]; +-inf -> max / min; NaN -> 0.

    `invalid` is the per-input flag (the input is NaN), with the same latency as `y`; a
    sticky version belongs to the unit that consumes a stream of conversions."""

    def __init__(
        self,
        src: FloatFormat,
        dst: FixedFormat,
        mode: str = "rne",
        sub_in: str = "ieee",
        latency: int = 0,
    ):
        _check("mode", mode, NEAREST_ROUND)
        _check("sub_in", sub_in, SUB_IN)
        check_latency(latency)
        self.src, self.dst, self.mode, self.sub_in, self.latency = src, dst, mode, sub_in, latency
        super().__init__({"a": In(src.width), "y": Out(dst.width), "invalid": Out(1)})

    def elaborate(self, platform):
        m = Module()
        src, dst = self.src, self.dst
        W = dst.width
        in_st, out_st = _stages(self.latency)
        m.submodules.unpack = up = Unpack(src, self.sub_in)
        m.d.comb += up.bits.eq(delay(m, self.a, in_st, "a"))
        x = up.raw
        lo, hi = up.exp_range

        # The input's LSB weighs 2^p ulps of the fixed format, p = exp + f; the magnitude in
        # ulps is sig * 2^p. A normal input with p + m >= W - 1 is >= 2^(W-1) ulps and
        # saturates whatever the rounding. Every other nonzero input has p <= P (subnormals
        # share the smallest p), so sig * 2^P shifted right by P - p >= 0 covers them all.
        p_lo, p_hi = lo + dst.f, hi + dst.f
        P = W - 2 - src.m
        if self.sub_in == "ieee":
            P = max(P, p_lo)
        P = min(P, p_hi)
        left = max(P, 0)
        width = src.m + 1 + left
        p = Signal(_signed_range(p_lo, p_hi))
        m.d.comb += p.eq(x.exp + dst.f)
        sig = Mux(x.zero, 0, x.sig)  # Unpack leaves sig open for zeros
        huge = x.inf | (~x.zero & (p > P)) if p_hi > P else x.inf

        m.submodules.round = rnd = RoundShift(width, max(left - p_lo, 0), self.mode)
        m.d.comb += [
            rnd.mag.eq(Cat(Const(0, left), sig) if left else sig),
            rnd.shift.eq(Mux(p > P, 0, left - p)),
        ]
        # round() is monotone and 2^(W-1) is an integer: |x| saturates iff the rounded
        # magnitude is >= 2^(W-1) (-2^(W-1) exactly is min_int, the saturated value too).
        sat = huge | (rnd.kept >= (1 << (W - 1)))
        mag = rnd.kept[:W]
        limit = Mux(x.sign, Const(dst.min_int, signed(W)), Const(dst.max_int, signed(W)))
        value = Signal(W)
        with m.If(x.nan):
            m.d.comb += value.eq(0)
        with m.Elif(sat):
            m.d.comb += value.eq(limit)
        with m.Else():
            m.d.comb += value.eq(Mux(x.sign, -mag, mag))
        m.d.comb += [
            self.y.eq(delay(m, value, out_st, "y")),
            self.invalid.eq(delay(m, x.nan, out_st, "invalid")),
        ]
        return m


class FixedToFloat(wiring.Component):
    """`a` in Qi.f -> `y` in `dst` (`golden.from_fixed`): the exact value rounded per SPEC §1
    (`rne`, `rna` or `rz`; gradual underflow or flush); zero is +0."""

    def __init__(
        self,
        src: FixedFormat,
        dst: FloatFormat,
        mode: str = "rne",
        sub_out: str = "ieee",
        latency: int = 0,
    ):
        _check("mode", mode, NEAREST_ROUND)
        _check("sub_out", sub_out, SUB_OUT)
        check_latency(latency)
        self.src, self.dst, self.mode, self.sub_out, self.latency = src, dst, mode, sub_out, latency
        super().__init__({"a": In(src.width), "y": Out(dst.width)})

    def elaborate(self, platform):
        m = Module()
        src = self.src
        W = src.width
        in_st, out_st = _stages(self.latency)
        v = delay(m, self.a, in_st, "a").as_signed()
        # |v| on W bits: |min_int| = 2^(W-1) fits
        bits = round_signed(
            m,
            v,
            W,
            -src.f,
            self.dst,
            (-src.f, -src.f),
            mode=self.mode,
            sub_out=self.sub_out,
            module="round_pack",
        )
        m.d.comb += self.y.eq(delay(m, bits, out_st, "y"))
        return m
