"""The BFP->FP output side of the HBFP GEMM array (hdl/gemm.py): per column, conversion of the
exact tile products and float accumulation across K-tiles."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Shape, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import AccConfig, GemmConfig
from lpmac.specials import special_encoding

from .convert import bfp_exp_range, bfp_exp_shape
from .fpadd import FpAdd
from .gemm_feed import mux_tree
from .gemm_timing import COLUMN_ADD_LATENCY, COLUMN_ROUND_LATENCY
from .gemm_tofloat import biased_lead_exp_range, fits, signed_to_float
from .pipeline import delay
from .rounding import ROUND_PACK_CUTS, round_signed

__all__ = ["ColumnAccumulator"]


class ColumnAccumulator(wiring.Component):
    """BFP->FP conversion and float accumulation across K-tiles for one column of the array
    (the HBFP paper's BFP-to-FP unit and FP accumulation; one per column, shared by the R
    rows, whose readouts of a K-tile arrive one per cycle).

    Stage 0 registers the readout (`valid`, `p`) with the side of the row being read out
    (`row_exp`, `row_special`, `final` of that row's K-tile: the A feed's serial side
    register, delayed by the column index) and the column side (`col_exp`, `col_special`).
    Stage 1: x = RoundPack(p * 2^(row_exp + col_exp - 2(m-2)))
    into cfg.out_fmt, rne. Stage 2: ring head <- FpAdd(head, x) (rne) and the ring
    of R entries rotates; a sticky special bit rides along. For the final K-tile of an output
    tile, `push` is set the next cycle with the row's finished value in `value` (the output
    format's NaN for a special entry) and the entry restarts at +0 (entries start at +0 after
    reset), so the next output tile's first K-tile computes FpAdd(+0, x) as golden does.

    `pipelined` (for a high clock): stage 1 is a RoundPack with COLUMN_ROUND_LATENCY register
    stages and the adder has COLUMN_ADD_LATENCY, so the loop through the adder cannot close
    in one cycle. The R entries are then an addressed store instead of a ring: a row counter
    (readouts come in row order) selects the entry, which is read into a register beside x
    and written back when the sum leaves the adder; the array's launch slots keep readouts
    of one row COLUMN_ADD_LATENCY + 2 cycles apart (GemmTiming.q). `push`/`value` come
    COLUMN_ROUND_LATENCY + COLUMN_ADD_LATENCY cycles later than unpipelined.

    Unpipelined, when the output format has IEEE specials and holds the whole product
    (BFP8/24 into fp32), stage 1 is `signed_to_float` (hdl/gemm_tofloat.py: one shift instead
    of RoundPack's normalising and denormalising ones; `fast_convert=False` keeps RoundPack).
    `use_dsp` (DSP48E2 allowed): that shift is a product in one DSP block and the adder's
    alignment shift too (FpAdd `align_dsp`), 2 DSPs per column."""

    def __init__(
        self,
        cfg: GemmConfig,
        rows: int,
        acc_width: int,
        pipelined: bool = False,
        use_dsp: bool = False,
        fast_convert: bool = True,
    ):
        self.cfg, self.rows, self.acc_width, self.pipelined = cfg, rows, acc_width, pipelined
        self.use_dsp = use_dsp
        # x from a shorter path (hdl/gemm_tofloat.py) when the output format allows it.
        self.fast = fast_convert and not pipelined and fits(cfg.out_fmt, acc_width - 1)
        self.exp_shape = bfp_exp_shape(cfg.in_fmt)
        super().__init__(
            {
                "valid": In(1),
                "p": In(signed(acc_width)),
                "row_exp": In(self.exp_shape),
                "row_special": In(1),
                "final": In(1),
                "col_exp": In(self.exp_shape),
                "col_special": In(1),
                "push": Out(1),
                "value": Out(cfg.out_fmt.width),
            }
        )

    def elaborate(self, platform):
        m = Module()
        cfg, R = self.cfg, self.rows
        fmt, mb = cfg.out_fmt, cfg.m
        lo, hi = bfp_exp_range(cfg.in_fmt)
        scale_range = (2 * lo - 2 * (mb - 2), 2 * hi - 2 * (mb - 2))
        mag_w = self.acc_width - 1
        # The fast path takes c = s + bias + W - 1 (the same adder, another constant).
        offset = biased_lead_exp_range(fmt, mag_w, (0, 0))[0] if self.fast else 0
        scale_range = (scale_range[0] + offset, scale_range[1] + offset)

        # Stage 0: the readout and both sides, registered.
        row_exp, row_special, final = self.row_exp, self.row_special, self.final
        v0, p0, e0, sp0, final0 = (
            Signal(name="v0"),
            Signal(signed(self.acc_width), name="p0"),
            Signal(Shape.cast(range(scale_range[0], scale_range[1] + 1)), name="scale0"),
            Signal(name="special0"),
            Signal(name="final0"),
        )
        m.d.sync += [
            v0.eq(self.valid),
            p0.eq(self.p),
            e0.eq(row_exp + self.col_exp - (2 * (mb - 2) - offset)),
            sp0.eq(row_special | self.col_special),
            final0.eq(final),
        ]

        # Stage 1: BFP -> float (rne), the HBFP paper's BFP-to-FP unit.
        cuts = ROUND_PACK_CUTS | {"magnitude"} if self.pipelined else frozenset()
        assert len(cuts) == (COLUMN_ROUND_LATENCY if self.pipelined else 0)
        x1 = Signal(fmt.width, name="x1")
        if self.fast:  # drives x1 itself
            signed_to_float(m, p0, mag_w, e0, fmt, x1, "dsp" if self.use_dsp else "lut")
        else:
            x1_bits = round_signed(
                m,
                p0,
                mag_w,
                e0,
                fmt,
                scale_range,
                mode="rne",
                sub_out="ieee",
                module="to_float",
                cuts=cuts,
                early_overflow=self.pipelined,
            )
        if self.pipelined:  # the flags wait for RoundPack's register stages
            late = delay(m, Cat(v0, sp0, final0), len(cuts), "flags")
            v0, sp0, final0 = late[0], late[1], late[2]
        v1, sp1, final1 = Signal(name="v1"), Signal(name="special1"), Signal(name="final1")
        x1_next = [] if self.fast else [x1.eq(x1_bits)]
        m.d.sync += [v1.eq(v0), *x1_next, sp1.eq(sp0), final1.eq(final0)]
        if self.pipelined:
            self._store(m, v1, x1, sp1, final1, v0)
            return m

        # Stage 2: float accumulation in a ring of R entries (head = entry 0 = this row's).
        # An entry restarts at +0 (not special) after its final K-tile, so a first K-tile
        # adds to +0 without a first flag or a multiplexer (a flip-flop's synchronous reset).
        entry = data.StructLayout({"bits": fmt.width, "special": 1})
        ring = [Signal(entry, name=f"ring{i}") for i in range(R)]
        acc_cfg = AccConfig(fmt, "rne")
        m.submodules.add = add = FpAdd(acc_cfg, fmt, align_dsp=self.use_dsp)
        special = Signal()
        m.d.comb += [
            add.acc.eq(ring[0].bits),
            add.x.eq(x1),
            special.eq(ring[0].special | sp1),
        ]
        with m.If(v1):
            for i in range(R - 1):
                m.d.sync += ring[i].eq(ring[i + 1])
            with m.If(final1):
                m.d.sync += ring[R - 1].eq(0)
            with m.Else():
                m.d.sync += [ring[R - 1].bits.eq(add.s), ring[R - 1].special.eq(special)]
        nan = special_encoding(fmt, "nan")
        m.d.sync += [self.push.eq(v1 & final1), self.value.eq(Mux(special, nan, add.s))]
        return m

    def _store(self, m: Module, v1, x1, sp1, final1, v_in):
        """Stage 2 of the pipelined column: entries in an addressed store, a pipelined adder.

        `v_in` is the valid bit entering the x1 register: the entry of the row it belongs to
        is read in the same cycle into `acc1`, so the adder sees (acc1, x1) together."""
        R, fmt = self.rows, self.cfg.out_fmt
        entry = data.StructLayout({"bits": fmt.width, "special": 1})
        store = [Signal(entry, name=f"entry{i}") for i in range(R)]
        row_in = Signal(range(R), name="row_in")  # readouts arrive in row order 0..R-1
        with m.If(v_in):
            m.d.sync += row_in.eq(Mux(row_in == R - 1, 0, row_in + 1))
        acc1, row1 = Signal(entry, name="acc1"), Signal(range(R), name="row1")
        read = mux_tree(m, [e.as_value() for e in store], row_in, "read")
        m.d.sync += [acc1.eq(read), row1.eq(row_in)]

        m.submodules.add = add = FpAdd(AccConfig(fmt, "rne"), fmt, latency=COLUMN_ADD_LATENCY)
        m.d.comb += [add.acc.eq(acc1.bits), add.x.eq(x1)]
        s = add.s
        late = delay(m, Cat(v1, final1, acc1.special | sp1, row1), COLUMN_ADD_LATENCY, "sum")
        v2, final2, special2, row2 = late[0], late[1], late[2], late[3:]
        with m.If(v2):
            for i in range(R):
                with m.If(row2 == i):
                    with m.If(final2):
                        m.d.sync += store[i].eq(0)
                    with m.Else():
                        m.d.sync += [store[i].bits.eq(s), store[i].special.eq(special2)]
        nan = special_encoding(fmt, "nan")
        m.d.sync += [self.push.eq(v2 & final2), self.value.eq(Mux(special2, nan, s))]
