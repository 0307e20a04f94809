"""The long accumulator (golden/accum_long.py, docs/semantics.md "Long accumulator").

The loop-carried path is only a two's-complement adder of `LongPlan.width` bits (plus the
sticky flags): every input is unpacked, shifted to its place in the register and negated in
three pipeline stages in front of the loop, and the register is read out (negate, normalise,
one rne `RoundPack`) in a pipeline behind it.

Pipeline (one input per cycle), registers at the end of each stage:
  1       `u_*`     sign, significand, shift amount, class flags of x
  2       `shifted` the magnitude sig << (exp - lsb_exp) (0 for zeros, inf and NaN)
  3       `term`    the signed term on W bits
  4       `reg`     R <- R + term (the only loop), NaN/+inf/-inf/overflow flags
  5       `r_mag`   |R|, sign and the flags
  6..     `norm*`   |R| shifted to its leading one, one shift-by-2^k stage per piece (P =
                    `pieces`, 7 for E6M5/E7M7 inputs), plus one register between the zero
                    test and the mux of each stage shifting by >= SPLIT_ZERO_TEST bits (S of
                    them: 1 for E7M7); the last keeps the top bits RoundPack needs plus a
                    sticky bit, and the exponent instead of the count
  then    RoundPack's `rounded` cut (between its rounding shift and the increment) and `acc`
so with `latency` = 7 + P + S (14 for E6M5-inf, 15 for E7M7 inputs), `acc` read after the
edge of cycle t + latency - 1 is golden `accumulate(..., history=True)[t]` for the input of
cycle t."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lpmac.config import AccConfig
from lpmac.formats import FloatFormat
from lpmac.long_acc import LongPlan

from .checked import CheckedComponent
from .pipeline import cut
from .raw import Unpack
from .rounding import RoundPack

__all__ = ["LongAcc"]

# Normaliser stages shifting by at least this many bits register their zero test before
# their shift mux (its select fans out to the whole register: E7M7 inputs, W = 150).
SPLIT_ZERO_TEST = 128


class LongAcc(CheckedComponent):
    """Long accumulator: ports `x` (x_fmt), `valid`, `clear` -> `acc` (cfg.fmt), as FpAcc;
    `clear` acts before a same-cycle input. `latency` cycles (module notes)."""

    NORMALIZE_PIECES = 7  # at most this many registered pieces of the read-out's shift

    @staticmethod
    def check(cfg: AccConfig, x_fmt: FloatFormat | None = None):
        if not isinstance(cfg, AccConfig) or cfg.is_fixed or not cfg.is_long:
            raise ValueError(f"LongAcc needs a long float accumulator (e.g. E6M5:long), got {cfg}")

    def __init__(self, cfg: AccConfig, x_fmt: FloatFormat | None = None):
        self.cfg = cfg
        self.x_fmt = cfg.fmt if x_fmt is None else x_fmt
        self.plan = LongPlan.of(self.x_fmt)
        self.pieces = min(self.NORMALIZE_PIECES, len(_shift_stages(self.plan.width)))
        self.latency = self.latency_for(self.x_fmt)
        super().__init__(
            {"x": In(self.x_fmt.width), "valid": In(1), "clear": In(1), "acc": Out(cfg.fmt.width)}
        )

    @classmethod
    def latency_for(cls, x_fmt: FloatFormat) -> int:
        """Cycles from an input to `acc` (the module notes' stages: 7 + P + S)."""
        stages = _shift_stages(LongPlan.of(x_fmt).width)
        splits = sum(1 << k >= SPLIT_ZERO_TEST for k in stages)
        return 7 + min(cls.NORMALIZE_PIECES, len(stages)) + splits

    def elaborate(self, platform):
        m = Module()
        fx, plan = self.x_fmt, self.plan
        W = plan.width

        # 1: unpack, shift amount relative to the register's LSB.
        m.submodules.unpack = unpack = Unpack(fx)
        m.d.comb += unpack.bits.eq(self.x)
        raw = unpack.raw
        max_shift = fx.exp_all_ones - fx.bias - fx.m - plan.lsb_exp
        u_sig = Signal(fx.m + 1)
        u_shift = Signal(range(max_shift + 1))
        u_sign, u_skip, u_nan, u_inf, u_valid, u_clear = (
            Signal(name=f"u_{n}") for n in ("sign", "skip", "nan", "inf", "valid", "clear")
        )
        m.d.sync += [
            u_sig.eq(raw.sig),
            u_shift.eq(raw.exp - plan.lsb_exp),
            u_sign.eq(raw.sign),
            u_skip.eq(raw.zero | raw.inf | raw.nan),  # their sig/exp are unspecified
            u_nan.eq(raw.nan),
            u_inf.eq(raw.inf),
            u_valid.eq(self.valid),
            u_clear.eq(self.clear),
        ]

        # 2: align the magnitude; 3: negate it into the signed term on W bits.
        shifted = Signal(plan.input_bits)
        m.d.sync += shifted.eq(Mux(u_skip, 0, u_sig << u_shift))
        late = {"sign": u_sign, "nan": u_nan, "inf": u_inf, "valid": u_valid, "clear": u_clear}
        late = cut(m, True, "aligned", late)
        term = Signal(signed(W))
        a_nan, a_pos, a_neg, a_valid, a_clear = (
            Signal(name=f"a_{n}") for n in ("nan", "pos", "neg", "valid", "clear")
        )
        m.d.sync += [
            term.eq(Mux(late["sign"], -shifted, shifted)),
            a_nan.eq(late["nan"]),
            a_pos.eq(late["inf"] & ~late["sign"]),
            a_neg.eq(late["inf"] & late["sign"]),
            a_valid.eq(late["valid"]),
            a_clear.eq(late["clear"]),
        ]

        # 4: the loop. clear is applied after the adder (0 + term needs no overflow check).
        reg = Signal(signed(W))
        nan, pos, neg, ovf, ovf_neg = (
            Signal(name=n) for n in ("s_nan", "s_pos", "s_neg", "s_ovf", "s_ovf_neg")
        )
        total = Signal(signed(W + 1))
        m.d.comb += total.eq(reg + term)
        wrapped = total[W] != total[W - 1]
        keep = ~a_clear
        with m.If(a_valid):
            m.d.sync += [
                # after an overflow R is never read again before a clear (the flag reads as
                # inf), so it may wrap: the loop stays a plain adder
                reg.eq(Mux(a_clear, term, total[:W])),
                nan.eq((nan & keep) | a_nan),
                pos.eq((pos & keep) | a_pos),
                neg.eq((neg & keep) | a_neg),
                ovf.eq((ovf & keep) | (wrapped & ~a_clear)),
                # the sign of the first overflowing step (read only while ovf is set)
                ovf_neg.eq(Mux(ovf & keep, ovf_neg, total[W])),
            ]
        with m.Elif(a_clear):
            m.d.sync += [s.eq(0) for s in (reg, nan, pos, neg, ovf, ovf_neg)]

        # 5: magnitude and sign of the register, the class of the result.
        r_mag = Signal(W)
        r_sign, r_zero, r_nan, r_inf = (
            Signal(name=f"r_{n}") for n in ("sign", "zero", "nan", "inf")
        )
        any_nan = nan | (pos & neg)
        any_inf = ~any_nan & (pos | neg)
        m.d.sync += [
            r_mag.eq(Mux(reg[W - 1], -reg, reg)),
            r_sign.eq(Mux(any_nan, 0, Mux(any_inf, neg, Mux(ovf, ovf_neg, reg[W - 1])))),
            r_zero.eq(reg == 0),
            r_nan.eq(any_nan),
            r_inf.eq(any_inf | (ovf & ~any_nan)),  # a register overflow reads as inf
        ]

        # 6..5+pieces: normalise |R| (leading one to the top) in registered pieces;
        # then one rne rounding into `acc`. (Not RoundPack's one "normalized" cut: a register
        # this wide needs its normaliser split over several stages to keep the clock.)
        flags = {"sign": r_sign, "zero": r_zero, "nan": r_nan, "inf": r_inf}
        # RoundPack needs the m+1 result bits, a guard bit, the denormalising shift below
        # emin (at most emin_A - lsb_exp) and one more bit above the sticky of the rest.
        fa = self.cfg.fmt
        keep = min(W, fa.m + 3 + max(0, fa.emin - plan.lsb_exp))
        n_sig, sticky, exp, flags = _staged_normalize(
            m, r_mag, flags, self.pieces, plan.lsb_exp, keep
        )
        n_sign, n_zero, n_nan, n_inf = (flags[k] for k in ("sign", "zero", "nan", "inf"))
        low = plan.lsb_exp + W - keep  # exponent of the kept bits' LSB, before the shift
        m.submodules.round = rnd = RoundPack(
            fa,
            keep,
            (low - (W - 1), low),
            max_lz=0,
            mode="rne",
            sub_out=self.cfg.sub_out,
            has_sticky=True,
            cuts=frozenset({"rounded"}),
        )
        m.d.comb += [
            rnd.sticky.eq(sticky),
            rnd.sign.eq(n_sign),
            rnd.sig.eq(n_sig),
            rnd.exp.eq(exp),
            rnd.zero.eq(n_zero),
            rnd.inf.eq(n_inf),
            rnd.nan.eq(n_nan),
        ]
        m.d.sync += self.acc.eq(rnd.bits)
        return m


def _shift_stages(width: int) -> list[int]:
    """The k of the normaliser's shift-by-2^k stages for `width` bits, widest first."""
    return [k for k in reversed(range(max(1, (width - 1).bit_length()))) if (1 << k) < width]


def _staged_normalize(m: Module, value, flags: dict, pieces: int, lsb_exp: int, keep: int):
    """(top `keep` bits of value << lz, sticky of the rest, exponent of the kept LSB, flags)
    as hdl/rounding.py `normalize` (nonzero value: leading one to the top; any lz up to
    len - 1), its logarithmic shift stages split into `pieces` groups with a register after
    each (the exponent is registered, not lz, so that RoundPack starts from it); `flags`
    travel along through the same registers."""
    W = len(value)
    ks = _shift_stages(W)
    size, extra = divmod(len(ks), pieces)
    groups, start = [], 0
    for i in range(pieces):
        end = start + size + (1 if i < extra else 0)
        groups.append(ks[start:end])
        start = end
    cur, bits, exp, sticky = value, {}, None, None
    for index, group in enumerate(groups):
        last = index == len(groups) - 1
        for k in group:
            s = 1 << k
            zero_top = Signal(name=f"norm_z{k}")
            m.d.comb += zero_top.eq(cur[W - s :] == 0)
            if s >= SPLIT_ZERO_TEST:  # test and shift in separate cycles
                carried = cut(m, True, f"norm_t{k}", {"cur": cur, "z": zero_top, **flags})
                carried |= cut(m, True, f"norm_t{k}", {f"lz{j}": b for j, b in bits.items()})
                cur, zero_top = carried.pop("cur"), carried.pop("z")
                bits = {j: carried.pop(f"lz{j}") for j in list(bits)}
                flags = carried
            shifted = Signal(W, name=f"norm_s{k}")
            m.d.comb += shifted.eq(Mux(zero_top, cur << s, cur))
            bits[k], cur = zero_top, shifted
        if last:
            lz = Cat(*(bits.get(k, Const(0, 1)) for k in range(max(bits) + 1)))
            exp = Signal(range(lsb_exp - W, lsb_exp + W + 1), name="norm_exp")
            sticky = Signal(name="norm_sticky")
            top = Signal(keep, name="norm_top")
            m.d.sync += [
                exp.eq(lsb_exp + (W - keep) - lz),
                top.eq(cur[W - keep :]),
                sticky.eq(cur[: W - keep] != 0 if keep < W else 0),
            ]
            cur = top
        else:
            staged = Signal(W, name=f"norm{index}")
            m.d.sync += staged.eq(cur)
            cur = staged
            for k, bit in list(bits.items()):
                bits[k] = Signal(name=f"norm{index}_lz{k}")
                m.d.sync += bits[k].eq(bit)
        for name, flag in list(flags.items()):
            flags[name] = Signal(name=f"norm{index}_{name}")
            m.d.sync += flags[name].eq(flag)
    return cur, sticky, exp, flags
