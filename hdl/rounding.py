"""The one rounding implementation of the hardware, mirroring golden/rounding.py.

`RoundShift` rounds `mag >> shift` (rne, rna, rz, sr); `RoundPack` normalises an exact raw
value, denormalises it below 2^emin (or flushes), rounds it with a `RoundShift` and packs it
into a float format with the overflow and specials rules of SPEC §1. Every unit ends in one
of the two. Build-time knowledge (how many leading zeros the significand can have, the range
of the exponent, whether a sticky bit exists) is passed in so that no logic is spent on
cases that cannot happen.

Area notes (the LUT counts of docs/results/ depend on these choices):
* shifts are logarithmic stages, and the bits a right shift drops are OR-ed stage by stage
  into the sticky bit (no second shifter, no mask compare);
* a shift split into a build-time constant part and a variable part slices the constant
  part away instead of adding it to the shift amount;
* the rounding increment is added to the packed {exponent field, fraction}, so a carry out
  of the fraction bumps the exponent, turns the largest subnormal into the smallest normal
  and the largest finite value into the all-ones field without any extra logic.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac import modes
from lpmac.formats import FloatFormat

from .checked import CheckedComponent
from .pipeline import cut

MODES = modes.CONVERT_ROUND  # rne, rna, rz, sr
# Pipeline cut points inside RoundPack (see hdl/pipeline.py).
ROUND_PACK_CUTS = frozenset({"normalizing", "normalized", "denormalizing", "rounded"})


def _bits_for(n: int) -> int:
    return max(1, n.bit_length())


def shift_right_sticky(m: Module, value, amount, name: str = "srs"):
    """(value >> amount, OR of the bits shifted out) for an unsigned `amount` of any width.

    One stage per bit of `amount` up to the width of `value`; higher bits of `amount` mean
    "everything shifts out" and are OR-ed together into one last stage."""
    W = len(value)
    cur, sticky = value, Const(0, 1)
    stages = min(len(amount), _bits_for(W))
    for k in range(stages):
        s = 1 << k
        step = amount[k]
        dropped = cur[:s] != 0 if s < W else cur != 0
        nxt = Signal(W, name=f"{name}_s{k}")
        m.d.comb += nxt.eq(Mux(step, cur >> s, cur))
        sticky = sticky | (step & dropped)
        cur = nxt
    if len(amount) > stages:
        huge = amount[stages:] != 0
        nxt = Signal(W, name=f"{name}_all")
        m.d.comb += nxt.eq(Mux(huge, 0, cur))
        sticky = sticky | (huge & (cur != 0))
        cur = nxt
    return cur, sticky


def normalize(m: Module, value, max_lz: int, name: str = "norm"):
    """(value << lz, lz) with lz the leading zeros of `value`, for a caller that guarantees a
    nonzero `value` has at most `max_lz` of them: logarithmic stages from the widest, each
    shifting when the top 2^k bits are zero (the count comes out of the same stages)."""
    if max_lz <= 0:
        return value, Const(0, 1)
    cur, bits = normalize_stages(m, value, reversed(range(_bits_for(max_lz))), name)
    return cur, Cat(*reversed(bits))


def normalize_stages(m: Module, value, stages, name: str = "norm"):
    """The stages k of `normalize` (each shifting left by 2^k when the top 2^k bits are
    zero), in the order given: (shifted value, [zero-top bit of each stage])."""
    W = len(value)
    cur, bits = value, []
    for k in stages:
        s = 1 << k
        if s >= W:  # cannot shift by the whole width: that would be zero
            bits.append(Const(0, 1))
            continue
        zero_top = Signal(name=f"{name}_z{k}")
        m.d.comb += zero_top.eq(cur[W - s :] == 0)
        nxt = Signal(W, name=f"{name}_s{k}")
        m.d.comb += nxt.eq(Mux(zero_top, cur << s, cur))
        bits.append(zero_top)
        cur = nxt
    return cur, bits


class RoundShift(wiring.Component):
    """kept = round(mag * 2^-(fixed_shift + shift)), `inexact` when bits were discarded.

    `fixed_shift` is a build-time constant (sliced off, its bits go to sticky); `shift` the
    run-time part, 0 <= shift (anything beyond the width shifts everything out). Besides
    `kept` the unit outputs `trunc` (the kept bits before rounding) and `up` (the increment),
    so a packer can add the increment further up. With `sr` the magnitude rounds up iff
    floor(phi*2^r) + u >= 2^r (SPEC §6): the r bits right below the kept LSB are exactly
    floor(phi*2^r)."""

    def __init__(
        self,
        width: int,
        max_shift: int,
        mode: str,
        *,
        sr_bits: int = 0,
        has_sticky: bool = False,
        out_width: int | None = None,
        fixed_shift: int = 0,
    ):
        if mode not in MODES:
            raise ValueError(f"rounding mode must be one of {', '.join(MODES)}, got {mode!r}")
        if mode == "sr" and sr_bits <= 0:
            raise ValueError("stochastic rounding needs sr_bits >= 1")
        if not 0 <= fixed_shift < width:
            raise ValueError(
                f"fixed_shift must be in 0..{width - 1} (at least one kept bit), got {fixed_shift}"
            )
        self.width, self.mode, self.sr_bits = width, mode, sr_bits
        self.has_sticky, self.fixed_shift = has_sticky, fixed_shift
        self.window = sr_bits if mode == "sr" else 1  # remainder bits examined exactly
        self.max_shift = max_shift
        kept_width = width - fixed_shift
        self.out_width = kept_width + 1 if out_width is None else out_width
        ports = {
            "mag": In(width),
            "shift": In(_bits_for(max_shift)),
            "kept": Out(self.out_width),
            "trunc": Out(kept_width),
            "up": Out(1),
            "inexact": Out(1),
        }
        if has_sticky:
            ports["sticky"] = In(1)
        if mode == "sr":
            ports["u"] = In(sr_bits)
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        G, F = self.window, self.fixed_shift
        ext = Cat(Const(0, G), self.mag)  # G zero bits below the LSB
        # The constant part of the shift: mag's bits below the window go straight to sticky.
        sticky0 = self.mag[: F - G] != 0 if F > G else Const(0, 1)
        ext = ext[F:] if F else ext
        shifted, sticky1 = shift_right_sticky(m, ext, self.shift, "rs")
        kept, window = shifted[G:], shifted[:G]
        sticky = sticky0 | sticky1
        if self.has_sticky:
            sticky = sticky | self.sticky
        m.d.comb += self.inexact.eq((window != 0) | sticky)

        if self.mode == "rz":
            up = Const(0, 1)
        elif self.mode == "sr":
            up = (window + self.u)[G]  # carry out of r bits
        else:
            guard = window[G - 1]
            up = guard if self.mode == "rna" else guard & (sticky | kept[0])
        m.d.comb += [self.trunc.eq(kept), self.up.eq(up), self.kept.eq(kept + up)]
        return m


class RoundPack(CheckedComponent):
    """Encode (-1)^sign * (sig [+ sticky]) * 2^exp into `fmt` (SPEC §1), mirroring
    golden.round_pack: normalise, denormalise (ieee) or flush, round, pack, specials.

    `exp_range` bounds the `exp` input and `max_lz` the leading zeros of a nonzero `sig`; a
    zero value (sig = 0 and no sticky) must be flagged by `zero`. `cuts` (ROUND_PACK_CUTS)
    adds a register stage after normalisation (`normalized`) and/or between the rounding
    shift and the increment (`rounded`); each adds one cycle of latency. `early_overflow`
    decides overflow from the value before the increment (in parallel with it, for a
    `rounded` stage that ends in the increment's carry chain); same function."""

    @staticmethod
    def check(fmt, sig_width, exp_range, *, sub_out="ieee", cuts=frozenset(), **_) -> None:
        if sub_out not in ("ieee", "flush"):
            raise ValueError(f"sub_out must be ieee or flush, got {sub_out!r}")
        if not cuts <= ROUND_PACK_CUTS:
            raise ValueError(f"RoundPack cuts must be among {sorted(ROUND_PACK_CUTS)}, got {cuts}")

    def __init__(
        self,
        fmt: FloatFormat,
        sig_width: int,
        exp_range: tuple[int, int],
        *,
        max_lz: int | None = None,
        mode: str = "rne",
        sub_out: str = "ieee",
        has_sticky: bool = False,
        sr_bits: int = 0,
        saturate: bool = False,
        cuts: frozenset[str] = frozenset(),
        early_overflow: bool = False,
    ):
        self.cuts, self.early_overflow = cuts, early_overflow
        self.fmt, self.mode, self.sub_out, self.saturate = fmt, mode, sub_out, saturate
        self.sig_width, self.exp_range = sig_width, exp_range
        self.max_lz = sig_width - 1 if max_lz is None else min(max_lz, sig_width - 1)
        self.has_sticky, self.sr_bits = has_sticky, sr_bits
        ports = {
            "sign": In(1),
            "sig": In(sig_width),
            "exp": In(Shape.cast(range(min(exp_range[0], -1), max(exp_range[1], 1) + 1))),
            "zero": In(1),
            "inf": In(1),
            "nan": In(1),
            "bits": Out(fmt.width),
        }
        if has_sticky:
            ports["sticky"] = In(1)
        if mode == "sr":
            ports["u"] = In(sr_bits)
        super().__init__(ports)

    def _special(self, kind: str, sign) -> Cat:
        """inf / max / nan encodings (a format without NaN uses inf, without inf max finite)."""
        f = self.fmt
        if kind == "nan" and f.has_nan:
            return Const(((1 << f.e) - 1) << f.m | 1 << (f.m - 1), f.width)
        if kind in ("nan", "inf") and f.has_inf:
            mag = f.exp_all_ones << f.m | ((1 << f.m) - 1 if f.specials == "inf_only" else 0)
        else:
            mag = f.max_field << f.m | f.max_frac
        return Cat(Const(mag, f.width - 1), sign)

    def _overflow_parts(self, unrounded, eb, eb_hi: int) -> dict:
        """`early_overflow`: packed = unrounded + up exceeds the largest finite magnitude T iff
        unrounded > T (`beyond`, also when eb is past the all-ones field) or unrounded == T
        and up (`at_max`), both known before the increment."""
        f = self.fmt
        top = (1 << (f.e + f.m)) - 1
        largest = top - (1 << f.m) if f.specials == "ieee" else top - (f.specials == "inf_only")
        if f.specials == "ieee":
            beyond = unrounded[f.m :].all()
        elif f.specials == "inf_only":
            beyond = unrounded.all()
        else:
            beyond = Const(0, 1)
        if eb_hi > f.exp_all_ones:
            beyond = beyond | (eb > f.exp_all_ones)
        return {"beyond": beyond, "at_max": unrounded == largest}

    def _flags(self) -> dict:
        flags = {"sign": self.sign, "zero": self.zero, "inf": self.inf, "nan": self.nan}
        if self.has_sticky:
            flags["sticky"] = self.sticky
        if self.mode == "sr":
            flags["u"] = self.u
        return flags

    def _split_normalize(self, m: Module, sig, exp_offset: int, eb_bounds, with_below: bool):
        """The normaliser cut in two by the `normalizing` register: its upper (wide) stages
        before it, with exp + offset (and 1 - exp - offset) computed in parallel; its lower
        stages and the subtraction of the leading-zero count after it. Returns the values of
        the `normalized` cut: norm, eb, flags and, `with_below`, 1 - eb (as in elaborate)."""
        eb_min, eb_max = eb_bounds
        K = _bits_for(self.max_lz) if self.max_lz > 0 else 0
        low = K // 2  # stages 2^0 .. 2^(low-1) come after the cut
        cur, top = normalize_stages(m, sig, reversed(range(low, K)), "norm")
        exp_lo, exp_hi = (x + exp_offset for x in self.exp_range)  # exp + offset = eb + lz
        exp_c = Signal(Shape.cast(range(exp_lo, exp_hi + 1)))
        m.d.comb += exp_c.eq(self.exp + exp_offset)
        part = {"norm": cur, "lz_top": Cat(*reversed(top)), "exp_c": exp_c, **self._flags()}
        if with_below:
            below_c = Signal(Shape.cast(range(1 - exp_hi, 1 - exp_lo + 1)))  # 1 - eb - lz
            m.d.comb += below_c.eq((1 - exp_offset) - self.exp)
            part["below_c"] = below_c
        part = cut(m, True, "normalizing", part)
        norm, bottom = normalize_stages(m, part["norm"], reversed(range(low)), "norm")
        lz = Cat(*reversed(bottom), part["lz_top"]) if K else Const(0, 1)
        eb = Signal(Shape.cast(range(eb_min, eb_max + 1)))
        m.d.comb += eb.eq(part["exp_c"] - lz)
        values = {"norm": norm, "eb": eb, **{k: part[k] for k in self._flags()}}
        if with_below:
            below = Signal(Shape.cast(range(1 - eb_max, 1 - eb_min + 1)))  # = 1 - eb
            m.d.comb += below.eq(part["below_c"] + lz)
            values["below"] = below
        return values

    def elaborate(self, platform):
        m = Module()
        f, mb, e = self.fmt, self.fmt.m, self.fmt.e
        # Pad narrow significands so that m+1 bits can always be taken from the top.
        pad = max(0, mb + 1 - self.sig_width)
        W = self.sig_width + pad
        sig = Cat(Const(0, pad), self.sig) if pad else self.sig
        lo, hi = self.exp_range[0] - pad, self.exp_range[1] - pad

        # Biased exponent of the leading one: eb = exp + (W-1) - lz + bias.
        eb_lo, eb_hi = lo + W - 1 - self.max_lz + f.bias, hi + W - 1 + f.bias
        eb_min, eb_max = min(eb_lo, -1), max(eb_hi, f.exp_all_ones) + 1
        # Below 2^emin (eb < 1) with gradual underflow: shift right by 1 - eb more.
        denorm = self.sub_out == "ieee" and eb_lo < 1
        early = denorm and "normalized" in self.cuts
        max_d = 1 - eb_lo
        exp_offset = W - 1 - pad + f.bias
        if "normalizing" in self.cuts:
            before_cut = self._split_normalize(m, sig, exp_offset, (eb_min, eb_max), early)
        else:
            norm, lz = normalize(m, sig, self.max_lz)
            eb = Signal(Shape.cast(range(eb_min, eb_max + 1)))
            m.d.comb += eb.eq(self.exp + exp_offset - lz)
            before_cut = {"norm": norm, "eb": eb, **self._flags()}
            if early:
                # 1 - eb is computed before the cut, from exp and lz in parallel with eb
                # (not chained after it), so the stage after the cut starts without a carry
                # chain.
                below = Signal(Shape.cast(range(1 - eb_max, 1 - eb_min + 1)))  # = 1 - eb
                m.d.comb += below.eq((1 - exp_offset) - self.exp + lz)
                before_cut["below"] = below
        stage = cut(m, "normalized" in self.cuts, "normalized", before_cut)
        norm, eb = stage["norm"], stage["eb"]
        if early:
            tiny = stage["below"] > 0
            d = Signal(range(max_d + 1))
            m.d.comb += d.eq(Mux(tiny, stage["below"], 0))
        elif denorm:
            tiny = eb < 1
            d = Signal(range(max_d + 1))
            m.d.comb += d.eq(Mux(tiny, 1 - eb, 0))
        else:
            tiny, max_d, d = Const(0, 1), 0, Const(0, 1)
        if "denormalizing" in self.cuts:
            held = {"norm": norm, "d": d, "tiny": tiny, "eb": eb}
            stage = cut(m, True, "denormalizing", {**held, **{k: stage[k] for k in self._flags()}})
            norm, d, tiny, eb = (stage[k] for k in held)

        m.submodules.round = rnd = RoundShift(
            W,
            max_d,
            self.mode,
            sr_bits=self.sr_bits,
            has_sticky=self.has_sticky,
            fixed_shift=W - 1 - mb,
        )
        m.d.comb += [rnd.mag.eq(norm), rnd.shift.eq(d)]
        if self.has_sticky:
            m.d.comb += rnd.sticky.eq(stage["sticky"])
        if self.mode == "sr":
            m.d.comb += rnd.u.eq(stage["u"])

        # Pack {field, fraction} and add the increment there (see the module notes). A
        # subnormal result has field 0 and no hidden bit.
        field = Signal(e)
        m.d.comb += field.eq(Mux(tiny, 0, eb))
        late = {"trunc": rnd.trunc, "up": rnd.up, "field": field, "eb": eb}
        late.update({k: stage[k] for k in ("sign", "zero", "inf", "nan")})
        if self.early_overflow:
            late.update(self._overflow_parts(Cat(rnd.trunc[:mb], field), eb, eb_hi))
        stage = cut(m, "rounded" in self.cuts, "rounded", late)
        eb = stage["eb"]
        packed = Signal(e + mb + 1)
        m.d.comb += packed.eq(Cat(stage["trunc"][:mb], stage["field"]) + stage["up"])

        if self.sub_out == "flush" and eb_lo < 1:
            underflow = (eb < 0) | ((eb == 0) & ~packed[mb])  # rounded exponent field <= 0
        else:
            underflow = Const(0, 1)
        # packed > max finite, spelled out for the three specials policies (no comparator):
        # ieee stops below the all-ones field, inf_only at its all-ones fraction, finite at
        # the carry.
        carry, field_ones, frac_ones = packed[e + mb], packed[mb : e + mb].all(), packed[:mb].all()
        if self.early_overflow:
            overflow = stage["beyond"] | (stage["at_max"] & stage["up"])
        elif f.specials == "ieee":
            overflow = carry | field_ones
        elif f.specials == "inf_only":
            overflow = carry | (field_ones & frac_ones)
        else:
            overflow = carry
        if eb_hi > f.exp_all_ones and not self.early_overflow:
            overflow = overflow | (eb > f.exp_all_ones)
        sign = stage["sign"]
        to_inf = f.has_inf and self.mode != "rz" and not self.saturate

        with m.If(stage["nan"]):
            m.d.comb += self.bits.eq(self._special("nan", sign))
        with m.Elif(stage["inf"]):
            m.d.comb += self.bits.eq(self._special("max" if self.saturate else "inf", sign))
        with m.Elif(stage["zero"] | underflow):
            m.d.comb += self.bits.eq(Cat(Const(0, f.width - 1), sign))
        with m.Elif(overflow):
            m.d.comb += self.bits.eq(self._special("inf" if to_inf else "max", sign))
        with m.Else():
            m.d.comb += self.bits.eq(Cat(packed[: e + mb], sign))
        return m


def round_signed(
    m: Module,
    value,
    mag_width: int,
    exp,
    fmt: FloatFormat,
    exp_range: tuple[int, int],
    *,
    mode: str,
    sub_out: str,
    module: str,
    mag_name: str = "mag",
    nan=0,
    cuts: frozenset[str] = frozenset(),
    early_overflow: bool = False,
):
    """The float in `fmt` of a signed integer `value` times 2^`exp`: |value| on `mag_width`
    bits into one RoundPack (submodule `module`); zero is +0; `nan` forces NaN. `cuts`:
    RoundPack's register stages (ROUND_PACK_CUTS), and `magnitude` registers |value|, its
    sign and `exp` before RoundPack; each adds a cycle. `early_overflow`: RoundPack's."""
    if not cuts <= ROUND_PACK_CUTS | {"magnitude"}:
        raise ValueError(f"round_signed cuts must be among ROUND_PACK_CUTS or magnitude: {cuts}")
    mag = Signal(mag_width, name=mag_name)
    m.d.comb += mag.eq(Mux(value < 0, -value, value))
    flags = {"sign": value < 0, "mag": mag, "exp": exp, "zero": value == 0, "nan": nan}
    flags = cut(m, "magnitude" in cuts, f"{module}_magnitude", flags)
    m.submodules[module] = rp = RoundPack(
        fmt,
        mag_width,
        exp_range,
        max_lz=mag_width - 1,
        mode=mode,
        sub_out=sub_out,
        cuts=cuts - {"magnitude"},
        early_overflow=early_overflow,
    )
    m.d.comb += [
        rp.sign.eq(flags["sign"]),
        rp.sig.eq(flags["mag"]),
        rp.exp.eq(flags["exp"]),
        rp.zero.eq(flags["zero"]),
        rp.inf.eq(0),
        rp.nan.eq(flags["nan"]),
    ]
    return rp.bits
