"""Block floating-point converters (SPEC §4, hdl/convert.py's conventions for latency and
stochastic rounding):

* `FloatToBfp`    a block of T floats -> shared exponent + T elements (`golden.to_bfp`)
* `BfpToFloat`    shared exponent + T elements -> T floats (`golden.from_bfp`)

`FloatToBfp(cuts=...)` places registers inside the datapath (TOBFP_CUTS, in dataflow order):
`unpack` after the per-element unpack (before the exponent maximum tree), `tree` halfway
through the tree (after ceil(levels/2) of its ceil(log2 T) levels), `max` after it, `align`
after each element's shift amount E - e, `shift` after the alignment shift itself, `round`
after the rounding decision (before the one adder of rounding, sign and clamp). TOBFP_PLAN
orders them by what they buy on ECP5 for fp32 blocks of 8 (`tobfp_cuts(n)`: the first n).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal, signed
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import BfpFormat, FloatFormat
from lpmac.modes import NEAREST_ROUND
from lpmac.xorshift import lane_seed

from .bfp_exponent import (
    align_saturated,
    max_levels,
    max_of_included,
    saturated_distance,
    shift_low_bits,
)
from .convert_checks import SUB_OUT, _check, _check_sr, _signed_range, _stages
from .pipeline import check_latency, cut, cuts_for, delay
from .raw import Unpack
from .rounding import MODES, RoundShift, round_signed, shift_right_sticky
from .xorshift import XorShift32

__all__ = [
    "FloatToBfp",
    "BfpToFloat",
    "TOBFP_CUTS",
    "TOBFP_PLAN",
    "bfp_exp_range",
    "bfp_exp_shape",
    "tobfp_cuts",
]

TOBFP_CUTS = ("unpack", "tree", "max", "align", "shift", "round")  # dataflow order
# `tobfp_cuts(n)`: the first n. fp32 blocks of 8 -> BFP8 alone on ECP5 (LFE5U-25F speed 6):
# n = 0..6 reach 47, 68, 104, 136, 146, 142, 142 MHz (the halves of the maximum tree limit).
TOBFP_PLAN = ("align", "tree", "unpack", "shift", "round", "max")


def tobfp_cuts(n: int) -> frozenset[str]:
    """The first `n` cut points of TOBFP_PLAN (n in 0..6)."""
    cuts, extra = cuts_for(TOBFP_PLAN, n)
    if extra:
        raise ValueError(f"FloatToBfp has {len(TOBFP_PLAN)} cut points, got {n}")
    return cuts


def bfp_exp_range(fmt: FloatFormat) -> tuple[int, int]:
    """Range of the shared exponent E of blocks converted from `fmt`: [emin, largest finite
    exponent] (specials do not take part in E)."""
    return fmt.emin, fmt.max_field - fmt.bias


def bfp_exp_shape(fmt: FloatFormat) -> Shape:
    """Signed shape of `FloatToBfp.exp` for input format `fmt`."""
    return _signed_range(*bfp_exp_range(fmt))


class FloatToBfp(wiring.Component):
    """One block of T floats per cycle -> BFP (`golden.to_bfp`, SPEC §4).

    Ports: `x` (T*width bits, element t in bits [t*w, (t+1)*w)), `exp` (the shared exponent
    E, signed, `bfp_exp_shape(fmt)`), `man` (T*m bits, element t a two's complement m-bit
    integer k in bits [t*m, (t+1)*m)), `special` (the block holds an inf or NaN; its
    elements are 0). E is the largest effective exponent of the block (field - bias for
    normals, emin for subnormals, zeros and specials); k = round(x / 2^(E-(m-2))) clamped
    to +-(2^(m-1)-1), each lane with its own RoundShift. With `mode="sr"`, lane t owns a
    xorshift32 seeded `lane_seed(sr_seed, lane_offset + t)`; all step once per block with
    `valid` (`golden.convert.bfp_random_bits(..., lane_offset)`). `zero_special=False`
    leaves the elements of a special block unspecified (a consumer that turns every result
    of such a block into NaN, like the GEMM array, needs no zeros there).

    `latency` adds input / output registers (hdl/convert.py's rule); `cuts` (names from
    TOBFP_CUTS, e.g. `tobfp_cuts(n)`) adds registers inside the datapath, one cycle each:
    results appear `depth` = latency + len(cuts) cycles after their block. The generators
    step with `valid` at the rounding stage, so with sr every block still meets the random
    values of its own position among the valid blocks."""

    def __init__(
        self,
        fmt: FloatFormat,
        bfp: BfpFormat,
        mode: str = "rne",
        sr_bits: int = 8,
        sr_seed: int = 1,
        latency: int = 0,
        lane_offset: int = 0,
        zero_special: bool = True,
        cuts=frozenset(),
    ):
        _check("mode", mode, MODES)
        _check_sr(mode, sr_bits, sr_seed)
        check_latency(latency)
        if isinstance(cuts, str) or not frozenset(cuts) <= frozenset(TOBFP_CUTS):
            raise ValueError(f"FloatToBfp cuts must be among {', '.join(TOBFP_CUTS)}, got {cuts!r}")
        self.fmt, self.bfp, self.mode, self.latency = fmt, bfp, mode, latency
        self.cuts = tuple(c for c in TOBFP_CUTS if c in frozenset(cuts))  # a stable repr
        self.depth = latency + len(self.cuts)
        if not isinstance(lane_offset, int) or lane_offset < 0:
            raise ValueError(f"lane_offset must be an integer >= 0, got {lane_offset!r}")
        self.sr_bits, self.sr_seed, self.lane_offset = sr_bits, sr_seed, lane_offset
        self.zero_special = zero_special
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
        # zeros); specials take no part in E (1 in the maximum), and their elements are
        # masked or unspecified, so their own shift may use the raw field.
        lanes, eff, special = [], [], []
        for t in range(T):
            m.submodules[f"unpack{t}"] = up = Unpack(fmt, "ieee")
            bits = x_in[t * w : (t + 1) * w]
            m.d.comb += up.bits.eq(bits)
            field = bits[fmt.m : fmt.m + fmt.e]
            sp = Signal(name=f"special{t}")
            m.d.comb += sp.eq(up.raw.inf | up.raw.nan)
            e_t = Signal(fmt.e, name=f"eff{t}")
            m.d.comb += e_t.eq(Cat(field[0] | (field == 0), field[1:]))  # max(field, 1)
            lanes.append(up.raw)
            eff.append(e_t)
            special.append(sp)
        if self.cuts:
            self._pipelined(m, lanes, eff, special, step if sr else None, out_st)
            return m

        # k = round(sig * 2^(exp - (E - (m_b - 2)))); exp = eff - m, so the right shift is
        # (E - eff) + c with c = m - (m_b - 2); a negative c is a constant left shift.
        c = fmt.m - (mb - 2)
        left, base = max(-c, 0), max(c, 0)
        width = fmt.m + 1 + left
        kmax = bfp.kmax
        # Shifts of 2^n or more empty RoundShift's run-time window (G + m + 1 + left - base
        # bits): each lane needs E - eff mod 2^n and whether it reaches 2^n.
        n = shift_low_bits(width - base + (self.sr_bits if sr else 1))
        top, any_finite = max_of_included(m, eff, special, "emax")
        e_max = Signal(fmt.e, name="e_max")  # emin (field 1) when every element is special
        m.d.comb += e_max.eq(Mux(any_finite, top, 1))
        if n < fmt.e:
            amounts = [saturated_distance(m, e_max, e, n, f"amount{t}") for t, e in enumerate(eff)]
        else:
            amounts = [e_max - e for e in eff]
        mans = []
        for t, x in enumerate(lanes):
            # The constant part `base` of the shift is sliced off (those bits only feed the
            # sticky), so each lane's run-time shifter is m_b + window bits wide, not m + 1.
            mag = Cat(Const(0, left), x.sig) if left else x.sig
            if n < fmt.e:
                rnd = self._align_round(m, mag, base, amounts[t], n, t)
            else:
                m.submodules[f"round{t}"] = rnd = RoundShift(
                    width,
                    fmt.max_field - 1,
                    self.mode,
                    sr_bits=self.sr_bits if sr else 0,
                    fixed_shift=base,
                )
                m.d.comb += [rnd.mag.eq(mag), rnd.shift.eq(amounts[t])]
            if sr:
                m.submodules[f"rng{t}"] = rng = XorShift32(
                    lane_seed(self.sr_seed, self.lane_offset + t), self.sr_bits
                )
                m.d.comb += [rng.step.eq(step), rnd.u.eq(rng.u)]
            # trunc has m_b - 1 bits, so only trunc = kmax can round past kmax (the clamp
            # then drops the increment), and +-(trunc + up) is one adder: (trunc ^ s) + (up ^ s).
            # trunc = mag[base:] >> shift, so kmax (all ones) needs shift 0: the clamp is
            # decided before the shifter, beside it (1,447 -> 1,369 LUTs for fp32 BFP8/24).
            at_kmax = (amounts[t] == 0) & (mag[base:] == kmax)
            up = Signal(name=f"up{t}")
            m.d.comb += up.eq(rnd.up & ~at_kmax)
            man = Signal(mb, name=f"man{t}")
            m.d.comb += man.eq((rnd.trunc ^ x.sign.replicate(mb)) + (up ^ x.sign))
            if self.zero_special:
                man = Mux(special[t], 0, man)
            mans.append(man)

        exp = Signal(self.exp.shape())
        m.d.comb += exp.eq(e_max - fmt.bias)
        m.d.comb += [
            self.exp.eq(delay(m, exp, out_st, "exp")),
            self.man.eq(delay(m, Cat(*mans), out_st, "man")),
            self.special.eq(delay(m, Cat(*special).any(), out_st, "special")),
        ]
        return m

    def _align_round(self, m, mag, base, amount, n, t):
        """RoundShift(mag >> base, `amount`) for an amount Cat(d mod 2^n, d >= 2^n) (see
        bfp_exponent.saturated_distance): `align_saturated`, then a rounding decision with no
        run-time shift."""
        G = self.sr_bits if self.mode == "sr" else 1  # RoundShift's window
        ext = Cat(Const(0, G), mag)
        lo = mag[: base - G] != 0 if base > G else Const(0, 1)
        hi = ext[base:] if base else ext
        aligned, sticky = align_saturated(m, hi, lo, amount, n, f"align{t}")
        m.submodules[f"round{t}"] = rnd = RoundShift(
            len(hi),
            0,
            self.mode,
            sr_bits=G if self.mode == "sr" else 0,
            has_sticky=True,
            fixed_shift=G,
        )
        m.d.comb += [rnd.mag.eq(aligned), rnd.shift.eq(0), rnd.sticky.eq(sticky)]
        return rnd

    def _pipelined(self, m, lanes, eff, special, step, out_st):
        """The datapath of `elaborate` with the registers of `self.cuts`: the same function,
        with the alignment shift and the rounding decision of each lane's RoundShift split
        apart (the decision is a RoundShift with no run-time shift) so a cut fits between.
        It keeps the plain forms (specials forced to 1 before the tree, full distance, clamp
        after the shift): elaborate's smaller ones cost it Fmax (ECP5, fp32 blocks of 8,
        tobfp_cuts(4): 144 -> 114 MHz, tobfp_cuts(3): 141 -> 119 MHz)."""
        fmt, bfp, sr, cuts = self.fmt, self.bfp, self.mode == "sr", self.cuts
        T, mb, kmax = bfp.T, bfp.m, bfp.kmax
        c = fmt.m - (mb - 2)
        left, base = max(-c, 0), max(c, 0)
        G = self.sr_bits if sr else 1  # RoundShift's window
        # Values crossing each cut, by name; a special block only needs its per-lane flags
        # when its elements are zeroed.
        vals = {} if step is None else {"valid": step}
        if self.zero_special:
            vals.update({f"special{t}": special[t] for t in range(T)})
        else:
            vals["special"] = Cat(*special).any()
        for t, x in enumerate(lanes):
            # RoundShift's constant part of the shift: bits below the window only feed sticky.
            mag = Cat(Const(0, left), x.sig) if left else x.sig
            ext = Cat(Const(0, G), mag)
            vals[f"lo{t}"] = mag[: base - G] != 0 if base > G else Const(0, 1)
            vals[f"hi{t}"] = ext[base:] if base else ext
            vals[f"sign{t}"] = x.sign
            vals[f"eff{t}"] = eff[t]
            e_m = Signal(fmt.e, name=f"eff_max{t}")  # specials take no part in E
            m.d.comb += e_m.eq(Mux(special[t], 1, eff[t]))
            vals[f"effmax{t}"] = e_m
        vals = cut(m, "unpack" in cuts, "unpack", vals)

        half = -(-(T - 1).bit_length() // 2)  # ceil(levels / 2)
        part = max_levels(m, [vals.pop(f"effmax{t}") for t in range(T)], "emax", 0, half)
        vals.update({f"part{i}": p for i, p in enumerate(part)})
        vals = cut(m, "tree" in cuts, "tree", vals)
        part = [vals.pop(f"part{i}") for i in range(len(part))]
        vals["emax"] = max_levels(m, part, "emax", half, T)[0]
        vals = cut(m, "max" in cuts, "max", vals)

        for t in range(T):
            amount = Signal(fmt.e, name=f"amount{t}")
            m.d.comb += amount.eq(vals["emax"] - vals.pop(f"eff{t}"))
            vals[f"amount{t}"] = amount
        vals = cut(m, "align" in cuts, "align", vals)

        for t in range(T):
            shifted, sticky = shift_right_sticky(
                m, vals.pop(f"hi{t}"), vals.pop(f"amount{t}"), f"align{t}"
            )
            vals[f"shifted{t}"] = shifted
            vals[f"sticky{t}"] = vals.pop(f"lo{t}") | sticky
        vals = cut(m, "shift" in cuts, "shift", vals)

        for t in range(T):
            shifted = vals.pop(f"shifted{t}")
            m.submodules[f"round{t}"] = rnd = RoundShift(
                len(shifted), 0, self.mode, sr_bits=G if sr else 0, has_sticky=True, fixed_shift=G
            )
            m.d.comb += [
                rnd.mag.eq(shifted),
                rnd.shift.eq(0),
                rnd.sticky.eq(vals.pop(f"sticky{t}")),
            ]
            if sr:
                m.submodules[f"rng{t}"] = rng = XorShift32(
                    lane_seed(self.sr_seed, self.lane_offset + t), self.sr_bits
                )
                m.d.comb += [rng.step.eq(vals["valid"]), rnd.u.eq(rng.u)]
            vals[f"trunc{t}"] = rnd.trunc
            vals[f"up{t}"] = rnd.up & (rnd.trunc != kmax)  # see elaborate: the clamp
        vals.pop("valid", None)
        vals = cut(m, "round" in cuts, "round", vals)

        mans = []
        for t in range(T):
            sign = vals[f"sign{t}"]
            man = Signal(mb, name=f"man{t}")
            m.d.comb += man.eq((vals[f"trunc{t}"] ^ sign.replicate(mb)) + (vals[f"up{t}"] ^ sign))
            if self.zero_special:
                man = Mux(vals[f"special{t}"], 0, man)
            mans.append(man)
        any_special = Cat(*(vals[f"special{t}"] for t in range(T))) if self.zero_special else None
        exp = Signal(self.exp.shape())
        m.d.comb += exp.eq(vals["emax"] - fmt.bias)
        m.d.comb += [
            self.exp.eq(delay(m, exp, out_st, "exp")),
            self.man.eq(delay(m, Cat(*mans), out_st, "man")),
            self.special.eq(
                delay(
                    m,
                    any_special.any() if self.zero_special else vals["special"],
                    out_st,
                    "special",
                )
            ),
        ]


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
        check_latency(latency)
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
            # |k| on m bits: |-2^(m-1)| fits too
            bits = round_signed(
                m,
                k,
                mb,
                scale,
                dst,
                scale_range,
                mode=self.mode,
                sub_out=self.sub_out,
                module=f"round_pack{t}",
                mag_name=f"mag{t}",
                nan=special,
            )
            outs.append(bits)
        m.d.comb += self.y.eq(delay(m, Cat(*outs), out_st, "y"))
        return m
