"""Converters (SPEC §4), mirroring golden/convert.py unit by unit: unpack -> compute exactly
-> the shared RoundShift / RoundPack.

* `FloatToFloat`  float -> float (`golden.convert`)
* `FloatToFixed`  float -> Qi.f, saturating, with a per-input `invalid` (NaN) flag
  (`golden.to_fixed`)
* `FixedToFloat`  Qi.f -> float (`golden.from_fixed`)
* `FloatToBfp`    a block of T floats -> shared exponent + T elements (`golden.to_bfp`)
* `BfpToFloat`    shared exponent + T elements -> T floats (`golden.from_bfp`)

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

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import BfpFormat, FixedFormat, FloatFormat
from lpmac.modes import NEAREST_ROUND
from lpmac.xorshift import lane_seed

from .pipeline import delay
from .raw import Unpack, raw_max_lz
from .rounding import MODES, RoundPack, RoundShift
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

SUB_IN = ("ieee", "as_normal", "flush")
SUB_OUT = ("ieee", "flush")


def _check(what: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(map(str, allowed))}, got {value!r}")


def _check_latency(latency: int) -> None:
    if not isinstance(latency, int) or latency < 0:
        raise ValueError(f"latency must be an integer >= 0, got {latency!r}")


def _check_sr(mode: str, sr_bits: int, sr_seed: int) -> None:
    if mode != "sr":
        return
    if not isinstance(sr_bits, int) or not 1 <= sr_bits <= 32:
        raise ValueError(f"sr_bits must be in 1..32, got {sr_bits!r}")
    if not isinstance(sr_seed, int) or not 1 <= sr_seed <= 0xFFFFFFFF:
        raise ValueError(f"sr_seed must be a nonzero 32-bit value, got {sr_seed!r}")


def _stages(latency: int) -> tuple[int, int]:
    """(input stages, output stages), as FpMul: one input register from latency 2 on."""
    first = 1 if latency >= 2 else 0
    return first, latency - first


def _signed_range(lo: int, hi: int) -> Shape:
    """A signed shape holding lo..hi (always signed, even when lo >= 0)."""
    return Shape.cast(range(min(lo, -1), max(hi, 0) + 1))


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
        _check_latency(latency)
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
        _check_latency(latency)
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
        _check_latency(latency)
        self.src, self.dst, self.mode, self.sub_out, self.latency = src, dst, mode, sub_out, latency
        super().__init__({"a": In(src.width), "y": Out(dst.width)})

    def elaborate(self, platform):
        m = Module()
        src = self.src
        W = src.width
        in_st, out_st = _stages(self.latency)
        v = delay(m, self.a, in_st, "a").as_signed()
        mag = Signal(W)  # |min_int| = 2^(W-1) fits
        m.d.comb += mag.eq(Mux(v < 0, -v, v))
        m.submodules.round_pack = rp = RoundPack(
            self.dst, W, (-src.f, -src.f), max_lz=W - 1, mode=self.mode, sub_out=self.sub_out
        )
        m.d.comb += [
            rp.sign.eq(v < 0),
            rp.sig.eq(mag),
            rp.exp.eq(-src.f),
            rp.zero.eq(v == 0),
            rp.inf.eq(0),
            rp.nan.eq(0),
        ]
        m.d.comb += self.y.eq(delay(m, rp.bits, out_st, "y"))
        return m


def bfp_exp_range(fmt: FloatFormat) -> tuple[int, int]:
    """Range of the shared exponent E of blocks converted from `fmt`: [emin, largest finite
    exponent] (specials do not take part in E)."""
    return fmt.emin, fmt.max_field - fmt.bias


def bfp_exp_shape(fmt: FloatFormat) -> Shape:
    """Signed shape of `FloatToBfp.exp` for input format `fmt`."""
    return _signed_range(*bfp_exp_range(fmt))


def _max_tree(m: Module, values: list, name: str):
    """Largest of `values` (unsigned, equal widths), a balanced tree of comparisons."""
    level = 0
    while len(values) > 1:
        nxt = []
        for i in range(0, len(values) - 1, 2):
            s = Signal(len(values[i]), name=f"{name}_{level}_{i // 2}")
            m.d.comb += s.eq(Mux(values[i] >= values[i + 1], values[i], values[i + 1]))
            nxt.append(s)
        if len(values) % 2:
            nxt.append(values[-1])
        values, level = nxt, level + 1
    return values[0]


class FloatToBfp(wiring.Component):
    """One block of T floats per cycle -> BFP (`golden.to_bfp`, SPEC §4).

    Ports: `x` (T*width bits, element t in bits [t*w, (t+1)*w)), `exp` (the shared exponent
    E, signed, `bfp_exp_shape(fmt)`), `man` (T*m bits, element t a two's complement m-bit
    integer k in bits [t*m, (t+1)*m)), `special` (the block holds an inf or NaN; its
    elements are 0). E is the largest effective exponent of the block (field - bias for
    normals, emin for subnormals, zeros and specials); k = round(x / 2^(E-(m-2))) clamped
    to +-(2^(m-1)-1), each lane with its own RoundShift. With `mode="sr"`, lane t owns a
    xorshift32 seeded `lane_seed(sr_seed, lane_offset + t)`; all step once per block with
    `valid` (`golden.convert.bfp_random_bits(..., lane_offset)`)."""

    def __init__(
        self,
        fmt: FloatFormat,
        bfp: BfpFormat,
        mode: str = "rne",
        sr_bits: int = 8,
        sr_seed: int = 1,
        latency: int = 0,
        lane_offset: int = 0,
    ):
        _check("mode", mode, MODES)
        _check_sr(mode, sr_bits, sr_seed)
        _check_latency(latency)
        self.fmt, self.bfp, self.mode, self.latency = fmt, bfp, mode, latency
        if not isinstance(lane_offset, int) or lane_offset < 0:
            raise ValueError(f"lane_offset must be an integer >= 0, got {lane_offset!r}")
        self.sr_bits, self.sr_seed, self.lane_offset = sr_bits, sr_seed, lane_offset
        ports = {
            "x": In(bfp.T * fmt.width),
            "exp": Out(bfp_exp_shape(fmt)),
            "man": Out(bfp.T * bfp.m),
            "special": Out(1),
        }
        if mode == "sr":
            ports["valid"] = In(1)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        fmt, bfp, sr = self.fmt, self.bfp, self.mode == "sr"
        T, w, mb = bfp.T, fmt.width, bfp.m
        in_st, out_st = _stages(self.latency)
        x_in = delay(m, self.x, in_st, "x")
        if sr:
            step = delay(m, self.valid, in_st, "valid")

        # Biased effective exponent max(field, 1) per lane (1 = emin for subnormals and
        # zeros, and for specials, which take no part in E).
        lanes, eff, special = [], [], []
        for t in range(T):
            m.submodules[f"unpack{t}"] = up = Unpack(fmt, "ieee")
            bits = x_in[t * w : (t + 1) * w]
            m.d.comb += up.bits.eq(bits)
            field = bits[fmt.m : fmt.m + fmt.e]
            sp = Signal(name=f"special{t}")
            m.d.comb += sp.eq(up.raw.inf | up.raw.nan)
            e_t = Signal(fmt.e, name=f"eff{t}")
            m.d.comb += e_t.eq(Mux(sp | (field == 0), 1, field))
            lanes.append(up.raw)
            eff.append(e_t)
            special.append(sp)
        e_max = _max_tree(m, list(eff), "emax")

        # k = round(sig * 2^(exp - (E - (m_b - 2)))); exp = eff - m, so the right shift is
        # (E - eff) + c with c = m - (m_b - 2); a negative c is a constant left shift.
        c = fmt.m - (mb - 2)
        left, base = max(-c, 0), max(c, 0)
        width = fmt.m + 1 + left
        kmax = bfp.kmax
        mans = []
        for t, x in enumerate(lanes):
            m.submodules[f"round{t}"] = rnd = RoundShift(
                width, fmt.max_field - 1 + base, self.mode, sr_bits=self.sr_bits if sr else 0
            )
            m.d.comb += [
                rnd.mag.eq(Cat(Const(0, left), x.sig) if left else x.sig),
                rnd.shift.eq(e_max - eff[t] + base),
            ]
            if sr:
                m.submodules[f"rng{t}"] = rng = XorShift32(
                    lane_seed(self.sr_seed, self.lane_offset + t), self.sr_bits
                )
                m.d.comb += [rng.step.eq(step), rnd.u.eq(rng.u)]
            k = Signal(mb - 1, name=f"k{t}")
            m.d.comb += k.eq(Mux(rnd.kept > kmax, kmax, rnd.kept))
            man = Signal(mb, name=f"man{t}")
            m.d.comb += man.eq(Mux(special[t], 0, Mux(x.sign, -k, k)))
            mans.append(man)

        exp = Signal(self.exp.shape())
        m.d.comb += exp.eq(e_max - fmt.bias)
        m.d.comb += [
            self.exp.eq(delay(m, exp, out_st, "exp")),
            self.man.eq(delay(m, Cat(*mans), out_st, "man")),
            self.special.eq(delay(m, Cat(*special).any(), out_st, "special")),
        ]
        return m


class BfpToFloat(wiring.Component):
    """A BFP block -> T floats in `dst` (`golden.from_bfp`): element k with shared exponent E
    gives round(k * 2^(E-(m-2))) (`rne`, `rna` or `rz`; zero is +0); every element of a
    `special` block is NaN (encoded as `golden.from_bfp` does: in a format without NaN,
    inf / max finite with the sign of k).

    Ports: `exp` (signed, `bfp.exp_bits` bits), `man` (T*m bits, two's complement elements,
    element t in bits [t*m, (t+1)*m)), `special` -> `y` (T*width bits). `exp_range` promises
    a narrower range of E (e.g. `bfp_exp_range(fmt)` of the producing FloatToBfp) and saves
    logic; E outside it gives undefined results."""

    def __init__(
        self,
        bfp: BfpFormat,
        dst: FloatFormat,
        mode: str = "rne",
        sub_out: str = "ieee",
        latency: int = 0,
        exp_range: tuple[int, int] | None = None,
    ):
        _check("mode", mode, NEAREST_ROUND)
        _check("sub_out", sub_out, SUB_OUT)
        _check_latency(latency)
        full = (-(1 << (bfp.exp_bits - 1)), (1 << (bfp.exp_bits - 1)) - 1)
        if exp_range is None:
            exp_range = full
        if not full[0] <= exp_range[0] <= exp_range[1] <= full[1]:
            raise ValueError(
                f"exp_range must lie within {full} ({bfp.exp_bits}-bit exponent), got {exp_range}"
            )
        self.bfp, self.dst, self.mode, self.sub_out, self.latency = bfp, dst, mode, sub_out, latency
        self.exp_range = tuple(exp_range)
        super().__init__(
            {
                "exp": In(signed(bfp.exp_bits)),
                "man": In(bfp.T * bfp.m),
                "special": In(1),
                "y": Out(bfp.T * dst.width),
            }
        )

    def elaborate(self, platform):
        m = Module()
        bfp, dst = self.bfp, self.dst
        mb = bfp.m
        in_st, out_st = _stages(self.latency)
        exp = delay(m, self.exp, in_st, "exp").as_signed()
        man = delay(m, self.man, in_st, "man")
        special = delay(m, self.special, in_st, "special")

        lo, hi = self.exp_range
        scale_range = (lo - (mb - 2), hi - (mb - 2))
        scale = Signal(_signed_range(*scale_range))
        m.d.comb += scale.eq(exp - (mb - 2))
        outs = []
        for t in range(bfp.T):
            k = man[t * mb : (t + 1) * mb].as_signed()
            mag = Signal(mb, name=f"mag{t}")  # |-2^(m-1)| fits too
            m.d.comb += mag.eq(Mux(k < 0, -k, k))
            m.submodules[f"round_pack{t}"] = rp = RoundPack(
                dst, mb, scale_range, max_lz=mb - 1, mode=self.mode, sub_out=self.sub_out
            )
            m.d.comb += [
                rp.sign.eq(k < 0),
                rp.sig.eq(mag),
                rp.exp.eq(scale),
                rp.zero.eq(k == 0),
                rp.inf.eq(0),
                rp.nan.eq(special),
            ]
            outs.append(rp.bits)
        m.d.comb += self.y.eq(delay(m, Cat(*outs), out_st, "y"))
        return m
