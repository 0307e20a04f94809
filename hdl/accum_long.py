"""The long accumulator (golden/accum_long.py, docs/semantics.md "Long accumulator").

The loop-carried path is only an adder (plus the sticky flags): every input is unpacked,
shifted to its place in the register and turned into a one's-complement term in three
pipeline stages in front of the loop, and the register is read out (carries resolved,
negate, normalise, one rne `RoundPack`) in a pipeline behind it.

The register has Wr = `LongPlan.width` + 1 bits (one above the range, so the step that
first leaves the range is still exact and the overflow flag can be found at read-out). It
is kept carry-save in n = ceil(Wr / SEGMENT_BITS) segments (E6M5/E7M7 inputs: 1, fp32: 2):
each segment adds its slice of the term and the carry out of its lower neighbour from the
cycle before, so the loop's carry chain is one segment long whatever the width.

Pipeline (one input per cycle), registers at the end of each stage:
  1       `u_*`      sign, significand, shift amount, class flags of x
  2       `shifted`  the magnitude sig << (exp - lsb_exp) (0 for zeros, inf and NaN)
  3       `term`     the term in one's complement on Wr bits, 0 unless valid (+1: `a_inc`)
  4       `seg*`     segments <- segments + term + carries (the only loop), NaN/inf flags
  +n-1    `resolve*` the pending carries added in, one segment per stage
  5..+n-1 `mag*`     the register overflow flag (sticky), |R| one segment per stage
  6..     `norm*`    |R| shifted to its leading one, one shift-by-2^k stage per piece (P =
                     `pieces`, 7 for E6M5/E7M7 inputs), plus one register between the zero
                     test and the mux of each stage shifting by >= SPLIT_ZERO_TEST bits (S of
                     them: 1 for E7M7); the last keeps the top bits RoundPack needs plus a
                     sticky bit, and the exponent instead of the count
  then    RoundPack's `rounded` cut (between its rounding shift and the increment) and `acc`
so with `latency` = 7 + P + S + 2(n - 1) (14 for E6M5-inf, 15 for E7M7, 18 for fp32 inputs),
`acc` read after the edge of cycle t + latency - 1 is golden `accumulate(..., history=True)[t]`
for the input of cycle t."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal
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
# The loop's carry chain is at most this long: wider registers (fp32 inputs: 295 bits) are
# carry-save segments whose carries are added in the next cycle (and resolved at read-out).
SEGMENT_BITS = 160


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
        resolve = 2 * (len(segment_sizes(LongPlan.of(x_fmt).width + 1)) - 1)
        return 7 + min(cls.NORMALIZE_PIECES, len(stages)) + splits + resolve

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

        # 2: align the magnitude; 3: the term in one's complement on Wr bits (sign-extended,
        # 0 unless valid); its +1 is the loop's carry into the lowest segment.
        shifted = Signal(plan.input_bits)
        m.d.sync += shifted.eq(Mux(u_skip, 0, u_sig << u_shift))
        late = {"sign": u_sign, "nan": u_nan, "inf": u_inf, "valid": u_valid, "clear": u_clear}
        late = cut(m, True, "aligned", late)
        Wr = W + 1  # one bit more than the range: the first overflowing sum is still exact
        term = Signal(Wr)
        a_inc, a_nan, a_pos, a_neg, a_valid, a_clear = (
            Signal(name=f"a_{n}") for n in ("inc", "nan", "pos", "neg", "valid", "clear")
        )
        neg_term = late["sign"] & late["valid"]
        m.d.sync += [
            term.eq(Mux(late["valid"], shifted, 0) ^ neg_term.replicate(Wr)),
            a_inc.eq(neg_term),
            a_nan.eq(late["nan"]),
            a_pos.eq(late["inf"] & ~late["sign"]),
            a_neg.eq(late["inf"] & late["sign"]),
            a_valid.eq(late["valid"]),
            a_clear.eq(late["clear"]),
        ]

        # 4: the loop, carry-save over segments of at most SEGMENT_BITS: each segment adds
        # its slice of the term and the carry its lower neighbour registered in the cycle
        # before, so the carry chain is one segment long. R = sum of the segments and the
        # pending carries (mod 2^Wr). clear drops the state and the pending carries.
        sizes = segment_sizes(Wr)
        segs = [Signal(n, name=f"seg{i}") for i, n in enumerate(sizes)]
        carries = [Signal(name=f"carry{i}") for i in range(len(sizes) - 1)]
        keep = ~a_clear
        lo = 0
        for i, (seg, n) in enumerate(zip(segs, sizes)):
            cin = a_inc if i == 0 else carries[i - 1] & keep
            total = Signal(n + 1, name=f"seg{i}_sum")
            m.d.comb += total.eq(Mux(a_clear, 0, seg) + term[lo : lo + n] + cin)
            m.d.sync += seg.eq(total[:n])
            if i < len(carries):
                m.d.sync += carries[i].eq(total[n])
            lo += n
        nan, pos, neg = (Signal(name=n) for n in ("s_nan", "s_pos", "s_neg"))
        with m.If(a_valid):
            m.d.sync += [
                nan.eq((nan & keep) | a_nan),
                pos.eq((pos & keep) | a_pos),
                neg.eq((neg & keep) | a_neg),
            ]
        with m.Elif(a_clear):
            m.d.sync += [s.eq(0) for s in (nan, pos, neg)]
        s_clear = Signal()  # the clear of the step the segments now reflect
        m.d.sync += s_clear.eq(a_clear)

        # 5..: resolve the pending carries, one segment per stage (none for one segment);
        # then the register overflow (sticky: R out of the W-bit range at any step since
        # the clear, with the sign of the first such step) and |R|, one segment per stage.
        side = {"nan": nan, "pos": pos, "neg": neg, "clear": s_clear}
        parts, side = _ripple(m, segs, [Const(0, 1)] + carries, None, side, "resolve")
        r = Cat(*parts)
        out_of_range = r[Wr - 1] != r[Wr - 2]
        ovf, ovf_neg = Signal(name="s_ovf"), Signal(name="s_ovf_neg")
        held = ovf & ~side["clear"]
        ovf_now, ovf_neg_now = held | out_of_range, Mux(held, ovf_neg, r[Wr - 1])
        m.d.sync += [ovf.eq(ovf_now), ovf_neg.eq(ovf_neg_now)]
        negative = r[Wr - 1]
        parts = [p ^ negative.replicate(len(p)) for p in parts]
        nan, pos, neg = side["nan"], side["pos"], side["neg"]
        any_nan = nan | (pos & neg)
        any_inf = ~any_nan & (pos | neg)
        flags = {
            "sign": Mux(any_nan, 0, Mux(any_inf, neg, Mux(ovf_now, ovf_neg_now, negative))),
            "zero": r == 0,
            "nan": any_nan,
            "inf": any_inf | (ovf_now & ~any_nan),  # a register overflow reads as inf
        }
        adds = [negative] + [Const(0, 1)] * (len(sizes) - 1)
        parts, flags = _ripple(m, parts, adds, True, flags, "mag")
        r_mag = Cat(*parts)[:W]
        r_sign, r_zero, r_nan, r_inf = (flags[k] for k in ("sign", "zero", "nan", "inf"))

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


def segment_sizes(width: int) -> list[int]:
    """The loop's segments (LSB first): as few as keep each within SEGMENT_BITS, equal."""
    count = -(-width // SEGMENT_BITS)
    base, extra = divmod(width, count)
    return [base + (1 if i < extra else 0) for i in range(count)]


def _ripple(m: Module, parts: list, adds: list, first: bool | None, side: dict, name: str):
    """Add the 1-bit `adds[i]` into `parts[i]` and ripple the carries up, one part per
    registered stage (mod 2^total width); `side` travels along. `first`: whether the lowest
    part has an add (else it is already final and the stages start at the second part)."""
    parts, adds, carry = list(parts), list(adds), Const(0, 1)
    start = 0 if first else 1
    for i in range(start, len(parts)):
        total = Signal(len(parts[i]) + 1, name=f"{name}{i}_sum")
        m.d.comb += total.eq(parts[i] + adds[i] + carry)
        values = {f"p{j}": p for j, p in enumerate(parts)} | {f"p{i}": total[: len(parts[i])]}
        values |= {f"a{j}": adds[j] for j in range(i + 1, len(parts))}  # the later adds wait
        values |= {f"side_{k}": v for k, v in side.items()} | {"carry": total[-1]}
        staged = cut(m, True, f"{name}{i}", values)
        parts = [staged[f"p{j}"] for j in range(len(parts))]
        adds = [staged.get(f"a{j}", Const(0, 1)) for j in range(len(parts))]
        side = {k: staged[f"side_{k}"] for k in side}
        carry = staged["carry"]
    return parts, side


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
