"""Multipliers (SPEC §2), mirroring golden/fpmul.py: unpack both operands, multiply the
significands exactly, one RoundPack into the output format.

Pipelines (in the spirit of FPnew's per-unit pipeline configuration): `latency = N` enables
the first N cut points of the unit's plan, each a register stage across the whole datapath
(hdl/pipeline.py), so the unit still takes one operand pair per cycle and its function is
unchanged; stages beyond the plan become output registers (more cycles, same Fmax).

FpMul (MUL_PLAN), in the order latency enables them (the order measured best on ECP5,
docs/results/timing.md: the rounding half is the longer one, so it is cut first):
  1 `product`    after the significand product (a registered DSP output), with the exponent
                 sum, the sign and the class flags;
  2 `normalized` inside RoundPack, after the leading-zero normalisation, the biased exponent
                 and the denormalising shift amount, before that shift and the rounding;
  3 `rounded`    inside RoundPack, after the rounding shift (kept bits, increment, exponent
                 field), before the increment add, the overflow/underflow tests and the
                 specials multiplexer;
  4 `operands`   after unpacking (registered DSP inputs: the raw significands, exponents and
                 flags of both operands);
  5 `normalizing` inside RoundPack's normaliser, after its upper (wide) shift stages, with
                 their leading-zero bits and exp + constant (the lower stages and the one
                 subtraction of the leading-zero count come after it);
  6 `partials`   only where the significand product is wider than one DSP block (fp32) or
                 built from Booth rows (`use_dsp=False`, >= 9 product bits): after the two
                 products of half of one significand by the other (each a DSP48, two
                 MULT18X18D and their adder, or half the Booth chain), before their adder;
  7 `denormalizing` inside RoundPack, after the denormalising shift amount (and the
                 subnormal flag), before the shift with sticky and the rounding decision.
So latency 1 cuts unpack+product | normalise+round+pack, 2 unpack+product | normalise |
round+pack, 3 unpack+product | normalise | shift | pack, 4 unpack | product | normalise |
shift | pack, 5 unpack | product | normalise (upper) | normalise (lower) | shift | pack; a
plan without `partials` has `denormalizing` as its 6th cut. Latency 0..4 build the same
hardware as before cuts 5..7 existed; fp32 keeps 2 DSP48E2 (xcup) and 4 MULT18X18D (ecp5)
with `partials`.

ECP5 registered DSP (`ecp5_dsp=True`, use_dsp only, significands of <= 17 bits, latency >= 4
so that both `operands` and `product` are cut): the significands cross the `operands` cut in
a MULT18X18D's own input registers (hdl/dsp_ecp5.py) instead of fabric registers, the rest of
the unpacked operands in fabric registers as before, and `product` stays a fabric register
after the DSP: the same cycles and results, but a path register -> multiplier -> register
that nextpnr-ecp5 times near 200 MHz. `dsp_primitive=False` swaps the instance for its
behavioural equivalent (Amaranth's simulator cannot run the primitive).

FixedMul (FIXED_MUL_PLAN): 1 `product`, 2 + `rounded` (after the rounding increment, before
saturation and the sign restore), 3 + `operands` (registered DSP inputs).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
from amaranth.lib import data
from amaranth.lib.wiring import In, Out

from lpmac.config import MulConfig
from lpmac.formats import FixedFormat

from .checked import CheckedComponent
from .dsp_ecp5 import registered_product
from .multiply import DSP_MAX_OPERAND, DSP_MIN_PRODUCT_BITS, multiply
from .pipeline import cut, cuts_for, delay
from .raw import Unpack, raw_max_lz
from .rounding import ROUND_PACK_CUTS, RoundPack, RoundShift

MUL_PLAN = (
    "product",
    "normalized",
    "rounded",
    "operands",
    "normalizing",
    "partials",
    "denormalizing",
)
FIXED_MUL_PLAN = ("product", "rounded", "operands")


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


class FpMul(CheckedComponent):
    """p = a*b for a MulConfig; `latency` register stages at the MUL_PLAN cut points.

    `use_dsp=False` builds the significand product from LUTs (`multiply.booth_multiply`)
    instead of leaving `*` to a DSP block; `ecp5_dsp=True` puts the significands into an
    instantiated MULT18X18D's input registers (module docstring)."""

    @staticmethod
    def check(
        cfg: MulConfig,
        latency: int = 0,
        use_dsp: bool = True,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
    ) -> None:
        cuts, _ = cuts_for(MUL_PLAN, latency)  # refuses latency < 0
        if not ecp5_dsp:
            return
        if not use_dsp:
            raise ValueError("ecp5_dsp needs use_dsp=True (it instantiates a MULT18X18D)")
        sig = cfg.in_format.m + 1
        if sig > DSP_MAX_OPERAND:
            raise ValueError(
                f"ecp5_dsp: the {sig}-bit significands of {cfg.in_format} do not fit one "
                f"MULT18X18D; valid formats have m <= {DSP_MAX_OPERAND - 1} (E4M3, fp16, bf16, ...)"
            )
        if not {"operands", "product"} <= cuts:
            raise ValueError(
                f"ecp5_dsp needs latency >= {MUL_PLAN.index('operands') + 1} (the `operands` "
                f"and `product` cuts: the DSP's input registers and the register after it), "
                f"got {latency}"
            )

    @property
    def plan(self) -> tuple[str, ...]:
        """MUL_PLAN without `partials` where the significand product is one DSP block or
        built from LUTs (there is then no adder between partial products to cut off)."""
        sig = self.cfg.in_format.m + 1
        if self.use_dsp:
            split = sig > DSP_MAX_OPERAND
        else:  # Booth rows (hdl/multiply.py): the cut halves their chain
            split = 2 * sig >= DSP_MIN_PRODUCT_BITS
        return MUL_PLAN if split else tuple(p for p in MUL_PLAN if p != "partials")

    def __init__(
        self,
        cfg: MulConfig,
        latency: int = 0,
        use_dsp: bool = True,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
    ):
        self.cfg, self.latency, self.use_dsp = cfg, latency, use_dsp
        self.ecp5_dsp, self.dsp_primitive = ecp5_dsp, dsp_primitive
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
        cuts, extra = cuts_for(self.plan, self.latency)
        m.submodules.unpack_a = ua = Unpack(fin, cfg.sub_in)
        m.submodules.unpack_b = ub = Unpack(fin, cfg.sub_in)
        m.d.comb += [ua.bits.eq(self.a), ub.bits.eq(self.b)]
        if self.ecp5_dsp:
            sig, a, b = self._ecp5_operands(m, ua.raw, ub.raw)
        else:
            ops = cut(m, "operands" in cuts, "operands", {"a": ua.raw, "b": ub.raw})
            a, b = ops["a"], ops["b"]
            if "partials" in cuts:
                sig, a, b = self._partial_products(m, a, b)
            else:
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
            cuts=cuts & ROUND_PACK_CUTS,
        )
        nan = a.nan | b.nan | (a.inf & b.zero) | (a.zero & b.inf)
        inf = ~nan & (a.inf | b.inf)
        product = {
            "sign": a.sign ^ b.sign,
            "sig": sig,
            "exp": a.exp + b.exp,
            "nan": nan,
            "inf": inf,
            "zero": ~nan & ~inf & zero,
        }
        product = cut(m, "product" in cuts, "product", product)
        m.d.comb += [getattr(rp, name).eq(value) for name, value in product.items()]
        m.d.comb += self.p.eq(delay(m, rp.bits, extra, "p"))
        return m

    def _ecp5_operands(self, m: Module, raw_a, raw_b):
        """The `operands` cut with the significands in the MULT18X18D's input registers: the
        product (a cycle later) and both raw records through fabric registers without their
        significand bits, except the hidden bit (the subnormal test reads it); the other
        significand bits read as zero after the cut and nothing uses them."""
        sig = registered_product(m, raw_a.sig, raw_b.sig, primitive=self.dsp_primitive, name="sig")
        hidden = self.cfg.in_format.m  # sig is the layout's first field: bit m is its top
        kept = {"a": raw_a.as_value()[hidden:], "b": raw_b.as_value()[hidden:]}
        kept = cut(m, True, "operands", kept)
        layout = raw_a.shape()
        a, b = (data.View(layout, Cat(Const(0, hidden), kept[k])) for k in ("a", "b"))
        return sig, a, b

    def _partial_products(self, m: Module, a, b):
        """a.sig * b.sig as two products of half of `a` by all of `b` (one DSP48 each, or two
        MULT18X18D and their adder), registered with both raw operands, then one adder."""
        half = (len(a.sig) + 1) // 2
        low = multiply(m, a.sig[:half], b.sig, use_dsp=self.use_dsp, name="sig_lo")
        high = multiply(m, a.sig[half:], b.sig, use_dsp=self.use_dsp, name="sig_hi")
        parts = cut(m, True, "partials", {"low": low, "high": high, "a": a, "b": b})
        sig = Signal(len(a.sig) + len(b.sig), name="sig_p")
        m.d.comb += sig.eq(parts["low"] + (parts["high"] << half))
        return sig, parts["a"], parts["b"]


class FixedMul(CheckedComponent):
    """Qi.f x Qi.f -> Qi.f: exact product rounded to f fraction bits (rne/rz), saturated."""

    @staticmethod
    def check(fmt: FixedFormat, rounding: str = "rne", latency: int = 0, use_dsp=True) -> None:
        cuts_for(FIXED_MUL_PLAN, latency)  # refuses latency < 0

    def __init__(
        self, fmt: FixedFormat, rounding: str = "rne", latency: int = 0, use_dsp: bool = True
    ):
        self.fmt, self.rounding, self.latency, self.use_dsp = fmt, rounding, latency, use_dsp
        super().__init__({"a": In(fmt.width), "b": In(fmt.width), "p": Out(fmt.width)})

    def elaborate(self, platform):
        m = Module()
        fmt = self.fmt
        W = fmt.width
        cuts, extra = cuts_for(FIXED_MUL_PLAN, self.latency)
        ops = cut(m, "operands" in cuts, "operands", {"a": self.a, "b": self.b})
        a, b = ops["a"].as_signed(), ops["b"].as_signed()
        # |a*b| <= 2^(2W-2): -2^(W-1) squared needs all 2W bits
        prod = multiply(m, a, b, signed_ops=True, use_dsp=self.use_dsp, name="prod").as_signed()
        prod = cut(m, "product" in cuts, "product", {"prod": prod})["prod"]
        neg = prod < 0
        mag = Signal(2 * W - 1)
        m.d.comb += mag.eq(Mux(neg, -prod, prod))
        m.submodules.round = rnd = RoundShift(2 * W - 1, fmt.f, self.rounding, out_width=2 * W)
        m.d.comb += [rnd.mag.eq(mag), rnd.shift.eq(fmt.f)]
        # Saturate in sign-magnitude form: |result| <= 2^(W-1) - 1, or 2^(W-1) when negative.
        rounded = cut(m, "rounded" in cuts, "rounded", {"kept": rnd.kept, "neg": neg})
        kept, neg = rounded["kept"], rounded["neg"]
        limit = Mux(neg, 1 << (W - 1), (1 << (W - 1)) - 1)
        sat = Mux(kept > limit, limit, kept)
        result = Mux(neg, -sat, sat)
        m.d.comb += self.p.eq(delay(m, result[:W], extra, "p"))
        return m
