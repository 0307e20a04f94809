"""The long accumulator (golden/accum_long.py, docs/semantics.md "Long accumulator").

The loop-carried path is only a two's-complement adder of `LongPlan.width` bits (plus the
sticky flags): every input is unpacked and shifted to its place in the register in two
pipeline stages in front of the loop, and the register is read out (negate, normalise,
one rne `RoundPack`) in a pipeline behind it.

Pipeline (one input per cycle), registers at the end of each stage:
  1 `unpack`  sign, significand, shift amount, class flags of x
  2 `aligned` the signed term sig << (exp - lsb_exp) (0 for zeros, inf and NaN)
  3 `state`   R <- R + term (the only loop), NaN/+inf/-inf/overflow flags
  4 `magnitude` |R|, sign and the flags
  5 `normalized` |R| shifted to its leading one, and the shift count
  6 `acc`     the rounded result (RoundPack)
so `acc` read after the edge of cycle t + LATENCY - 1 is golden `accumulate(...,
history=True)[t]` for the input presented in cycle t."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal, signed
from amaranth.lib.wiring import In, Out

from lpmac.config import AccConfig
from lpmac.formats import FloatFormat
from lpmac.long_acc import LongPlan

from .checked import CheckedComponent
from .raw import Unpack
from .rounding import RoundPack, normalize

__all__ = ["LongAcc"]


class LongAcc(CheckedComponent):
    """Long accumulator: ports `x` (x_fmt), `valid`, `clear` -> `acc` (cfg.fmt), as FpAcc;
    `clear` acts before a same-cycle input. Latency LATENCY cycles (module notes)."""

    LATENCY = 6

    @staticmethod
    def check(cfg: AccConfig, x_fmt: FloatFormat | None = None):
        if not isinstance(cfg, AccConfig) or cfg.is_fixed or not cfg.is_long:
            raise ValueError(f"LongAcc needs a long float accumulator (e.g. E6M5:long), got {cfg}")

    def __init__(self, cfg: AccConfig, x_fmt: FloatFormat | None = None):
        self.cfg = cfg
        self.x_fmt = cfg.fmt if x_fmt is None else x_fmt
        self.plan = LongPlan.of(self.x_fmt)
        super().__init__(
            {"x": In(self.x_fmt.width), "valid": In(1), "clear": In(1), "acc": Out(cfg.fmt.width)}
        )

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

        # 2: align: the signed term on W bits.
        shifted = Signal(plan.input_bits)
        m.d.comb += shifted.eq(u_sig << u_shift)
        term = Signal(signed(W))
        a_nan, a_pos, a_neg, a_valid, a_clear = (
            Signal(name=f"a_{n}") for n in ("nan", "pos", "neg", "valid", "clear")
        )
        magnitude = Mux(u_skip, 0, shifted)
        m.d.sync += [
            term.eq(Mux(u_sign, -magnitude, magnitude)),
            a_nan.eq(u_nan),
            a_pos.eq(u_inf & ~u_sign),
            a_neg.eq(u_inf & u_sign),
            a_valid.eq(u_valid),
            a_clear.eq(u_clear),
        ]

        # 3: the loop. clear is applied after the adder (0 + term needs no overflow check).
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
                reg.eq(Mux(a_clear, term, Mux(wrapped, reg, total[:W]))),
                nan.eq((nan & keep) | a_nan),
                pos.eq((pos & keep) | a_pos),
                neg.eq((neg & keep) | a_neg),
                ovf.eq((ovf & keep) | (wrapped & ~a_clear)),
                # the sign of the first overflowing step (read only while ovf is set)
                ovf_neg.eq(Mux(ovf & keep, ovf_neg, total[W])),
            ]
        with m.Elif(a_clear):
            m.d.sync += [s.eq(0) for s in (reg, nan, pos, neg, ovf, ovf_neg)]

        # 4: magnitude and sign of the register, the class of the result.
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

        # 5: normalise |R| (leading one to the top) and register; 6: one rne rounding into
        # `acc`. (Its own cut rather than RoundPack's "normalized" cut, whose early-denormal
        # shift count is too narrow for a register this wide.)
        norm, lz = normalize(m, r_mag, W - 1, "read")
        n_sig, n_lz = Signal(W), Signal(len(lz))
        n_sign, n_zero, n_nan, n_inf = (
            Signal(name=f"n_{n}") for n in ("sign", "zero", "nan", "inf")
        )
        m.d.sync += [
            n_sig.eq(norm),
            n_lz.eq(lz),
            n_sign.eq(r_sign),
            n_zero.eq(r_zero),
            n_nan.eq(r_nan),
            n_inf.eq(r_inf),
        ]
        exp = Signal(range(plan.lsb_exp - W, 1))
        m.d.comb += exp.eq(plan.lsb_exp - n_lz)
        m.submodules.round = rnd = RoundPack(
            self.cfg.fmt,
            W,
            (plan.lsb_exp - (W - 1), plan.lsb_exp),
            max_lz=0,
            mode="rne",
            sub_out=self.cfg.sub_out,
        )
        m.d.comb += [
            rnd.sign.eq(n_sign),
            rnd.sig.eq(n_sig),
            rnd.exp.eq(exp),
            rnd.zero.eq(n_zero),
            rnd.inf.eq(n_inf),
            rnd.nan.eq(n_nan),
        ]
        m.d.sync += self.acc.eq(rnd.bits)
        return m
