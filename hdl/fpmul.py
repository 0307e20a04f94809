"""Multipliers (SPEC §2), mirroring golden/fpmul.py: unpack both operands, multiply the
significands exactly, one RoundPack into the output format."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import MulConfig
from lpmac.formats import FixedFormat

from .multiply import multiply
from .pipeline import delay
from .raw import Unpack, raw_max_lz
from .rounding import RoundPack, RoundShift


def subnormal_squares_vanish(cfg: MulConfig) -> bool:
    """Whether a product of two IEEE subnormal inputs always encodes as a signed zero: its
    magnitude is below 2^(2 emin), which flushes (below the output's 2^emin) or rounds to
    zero (not above half the smallest subnormal) — true for CFG-1/2 of every standard-bias
    format (bias >= m + 2), false for the exact wide outputs of CFG-3/4."""
    f, out = cfg.in_format, cfg.out_format
    if cfg.sub_in != "ieee":
        return False
    limit = out.emin if cfg.sub_out == "flush" else out.emin - out.m - 1
    return 2 * f.emin <= limit


class FpMul(wiring.Component):
    """p = a*b for a MulConfig; `latency` register stages (0 = combinational).

    `use_dsp=False` builds the significand product from LUTs (`multiply.booth_multiply`)
    instead of leaving `*` to a DSP block."""

    def __init__(self, cfg: MulConfig, latency: int = 0, use_dsp: bool = True):
        if latency < 0:
            raise ValueError(f"latency must be >= 0, got {latency}")
        self.cfg, self.latency, self.use_dsp = cfg, latency, use_dsp
        super().__init__(
            {
                "a": In(cfg.in_format.width),
                "b": In(cfg.in_format.width),
                "p": Out(cfg.out_format.width),
            }
        )

    def elaborate(self, platform):
        m = Module()
        cfg = self.cfg
        fin = cfg.in_format
        m.submodules.unpack_a = ua = Unpack(fin, cfg.sub_in)
        m.submodules.unpack_b = ub = Unpack(fin, cfg.sub_in)
        a_in, b_in = (
            delay(m, self.a, 1 if self.latency >= 2 else 0, "a"),
            delay(m, self.b, 1 if self.latency >= 2 else 0, "b"),
        )
        m.d.comb += [ua.bits.eq(a_in), ub.bits.eq(b_in)]
        a, b = ua.raw, ub.raw

        sig = multiply(m, a.sig, b.sig, use_dsp=self.use_dsp, name="sig")
        lo, hi = ua.exp_range
        max_lz = raw_max_lz(fin, cfg.sub_in)
        zero = a.zero | b.zero
        if max_lz and subnormal_squares_vanish(cfg):
            # Only one operand can be subnormal in a nonzero result: the product then has at
            # most m+1 leading zeros instead of 2m+1 (a shallower normaliser).
            a_sub, b_sub = ~a.sig[fin.m] & ~a.zero, ~b.sig[fin.m] & ~b.zero
            zero = zero | (a_sub & b_sub)
            prod_lz = max_lz + 1
        else:
            prod_lz = 2 * max_lz + 1
        m.submodules.round_pack = rp = RoundPack(
            cfg.out_format,
            len(sig),
            (2 * lo, 2 * hi),
            max_lz=prod_lz,
            mode="rne",
            sub_out=cfg.sub_out,
        )
        nan = a.nan | b.nan | (a.inf & b.zero) | (a.zero & b.inf)
        inf = ~nan & (a.inf | b.inf)
        m.d.comb += [
            rp.sign.eq(a.sign ^ b.sign),
            rp.sig.eq(sig),
            rp.exp.eq(a.exp + b.exp),
            rp.nan.eq(nan),
            rp.inf.eq(inf),
            rp.zero.eq(~nan & ~inf & zero),
        ]
        out_stages = self.latency - (1 if self.latency >= 2 else 0)
        m.d.comb += self.p.eq(delay(m, rp.bits, out_stages, "p"))
        return m


class FixedMul(wiring.Component):
    """Qi.f x Qi.f -> Qi.f: exact product rounded to f fraction bits (rne/rz), saturated."""

    def __init__(
        self, fmt: FixedFormat, rounding: str = "rne", latency: int = 0, use_dsp: bool = True
    ):
        self.fmt, self.rounding, self.latency, self.use_dsp = fmt, rounding, latency, use_dsp
        super().__init__({"a": In(fmt.width), "b": In(fmt.width), "p": Out(fmt.width)})

    def elaborate(self, platform):
        m = Module()
        fmt = self.fmt
        W = fmt.width
        a = delay(m, self.a, 1 if self.latency >= 2 else 0, "a").as_signed()
        b = delay(m, self.b, 1 if self.latency >= 2 else 0, "b").as_signed()
        # |a*b| <= 2^(2W-2): -2^(W-1) squared needs all 2W bits
        prod = multiply(m, a, b, signed_ops=True, use_dsp=self.use_dsp, name="prod").as_signed()
        neg = prod < 0
        mag = Signal(2 * W - 1)
        m.d.comb += mag.eq(Mux(neg, -prod, prod))
        m.submodules.round = rnd = RoundShift(2 * W - 1, fmt.f, self.rounding, out_width=2 * W)
        m.d.comb += [rnd.mag.eq(mag), rnd.shift.eq(fmt.f)]
        # Saturate in sign-magnitude form: |result| <= 2^(W-1) - 1, or 2^(W-1) when negative.
        limit = Mux(neg, 1 << (W - 1), (1 << (W - 1)) - 1)
        sat = Mux(rnd.kept > limit, limit, rnd.kept)
        result = Mux(neg, -sat, sat)
        out_stages = self.latency - (1 if self.latency >= 2 else 0)
        m.d.comb += self.p.eq(delay(m, result[:W], out_stages, "p"))
        return m
