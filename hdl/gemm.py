"""HBFP GEMM (SPEC §5) on an R x C output-stationary systolic array, bit-exact to
`golden.bfp_gemm(a, b, cfg, array=(R, C))`.

One file per component: gemm_feed.py (OperandFeed), gemm_pe.py (ProcessingElement,
SystolicArray), gemm_column.py (ColumnAccumulator), gemm_control.py (LaunchController),
gemm_timing.py (the cycle model below, plain Python); this module wires them together
(BfpGemmArray) and re-exports them all.

Architecture (the HBFP paper's Figure 2: FP->BFP units, fixed-point MatMul with wide
accumulators, BFP->FP units, then FP accumulation across tiles)::

       a (A blocks) --> OperandFeed(A) --R lanes--> +-------------------+
                          FloatToBfp, R load          |  SystolicArray    |
                          + R emission buffers        |  R x C PEs        |--C column readouts-->
       b (B blocks) --> OperandFeed(B) --C lanes--> |  a right, b down  |   ColumnAccumulator x C
                                                      +-------------------+   (BFP->FP, FpAdd,
                                                                               R-entry ring)
                                                                                   |
                    c (rows of C results) <-- C x SyncFIFOBuffered <-- finished entries

* `OperandFeed` (one per side): the input stream carries one BFP block (T floats) per beat.
  A `FloatToBfp` converts it (combinationally) into a load buffer, one lane per beat. When
  both feeds hold a full K-tile (R A blocks, C B blocks) the controller *launches* it: lane l
  copies its load buffer into its emission buffer at cycle L+l (the systolic skew) and reads
  one m-bit element per cycle out of it into the array through a T:1 multiplexer (zeros
  afterwards on the B side; the A side need not zero, a PE's operands are idle together);
  the load buffers refill from the launch cycle on (double buffering). Buffers that are only
  ever loaded whole cost flip-flops, no LUTs; a shift-out register's load-or-shift choice
  cost a LUT per stored bit. The block's exponent and special flag move to the lane's *side
  register* when its last element leaves (cycle L+l+T), where the readout finds them. The
  converter keeps the stream's rate of one block per beat (A needs R blocks per launch
  period, 16 in 24 cycles at 16x16, so a narrower converter would stall it); it is built
  lean instead: each element's run-time shifter is m_b + 1 bits wide (the constant part of
  the shift only feeds the sticky bit), rounding, sign and clamp are one adder, and a
  special block's elements are left unspecified (its results are NaN anyway).
* `ProcessingElement`: `acc <- (last_out ? 0 : acc) + a*b`, a and b passed on through
  registers; a one-bit `last` flag travels with the A elements. The exact accumulator has
  `gemm_acc_width(m, T)` = bits of T*(2^(m-1)-1)^2 plus sign = 2m-1+ceil(log2 T) bits (one
  less than 2m+ceil(log2 T) because BFP elements are symmetric). In the cycle after a PE has
  added the last product of a K-tile, `last_out` is set and `acc` holds the tile's exact P;
  the next K-tile overwrites it in that same cycle's update, so PEs never stop.
* Column readout: PE (i, j) holds its P in cycle L+i+j+T+1 and in the next cycle in its
  `result` register (+0 in every other cycle: a register with a synchronous reset), so
  column j's P values appear one per cycle for i = 0..R-1 and the readout is a plain OR of
  the column's `result`s. It goes to the column's `ColumnAccumulator` with the row side of
  i (ea, A special, final K-tile flag: the A feed's one serial side register,
  delayed per column) and the column side (eb, B special).
* `ColumnAccumulator` (one per column, 3 stages): register the readout; `RoundPack`
  P*2^(ea+eb-2(m-2)) into the output format (rne, the BFP->FP unit); `FpAdd` it to the row's
  accumulator entry, rne, golden `fp_add` (an entry restarts at +0 after its final K-tile,
  so a first K-tile adds to +0). The R accumulators of the column form a ring that rotates
  once per readout, so the head is always the entry of the row being read out. A sticky
  special bit per entry gives NaN (SPEC §5.4). For the final
  K-tile of an output tile each finished entry goes into the column's output FIFO the next
  cycle, while the ring already accumulates the next output tile (the drain overlaps the
  fill). One float unit per column, not per PE or per row: the R readouts of a column come
  one per cycle, so C units serve the R·C PEs (a 16x4 array has 4).
* Output: a `c` beat (one row of C results) pops one entry from each of the C column FIFOs;
  row i is complete when column C-1 has pushed it.
* `LaunchController`: tags each K-tile first/final within its output tile (from `k_tiles`),
  launches K-tiles at most every `P = max(T, R, C)` cycles (T: shift-out registers; R: one
  readout per column per cycle; C: the row side registers hold ea for C columns' readouts;
  loading R A blocks and C B blocks, one per cycle, takes R and C cycles anyway), and
  launches a final K-tile only when the column FIFOs have R free entries each (credits returned per
  popped row), so results never overflow whatever the consumer does.

Streams (amaranth.lib.stream, valid/ready; payloads are arrays, element 0 in the LSBs)
* `a`: one block of T floats (cfg.in_fmt) per beat: T consecutive K-elements of one row of A.
* `b`: one block of T floats per beat: T consecutive K-elements of one column of B.
* `c`: one row of an output tile per beat, C floats in cfg.out_fmt (element j = column j).
* `k_tiles` (plain input, `ktile_bits` wide): K-tiles of the output tile, sampled when the
  first A block of each output tile is accepted (0 counts as 1).
* `k_tail` (plain input, 0..T, sampled with `k_tiles`): K mod T, the useful elements of the
  output tile's last K-tile (0 or T: a full one). The host still sends full blocks (zero
  padded, so the shared exponents and the sr random values are those of the padded block);
  the array shifts only max(k_tail, R, C) (at most T) elements of that K-tile in, which is
  exact because the rest are +0, and launches the next K-tile that much sooner.
Host protocol for C = A.B (M x K times K x N): pad K to a multiple of T, M to R and N to C
with +0; for each output tile (p, q), row-major: for t in K-tiles: send the R A blocks
A[pR+i, tT:(t+1)T] (i = 0..R-1) on `a` and the C B blocks B[tT:(t+1)T, qC+j] on `b`; receive
R beats on `c` (rows i = 0..R-1). `a` and `b` are independent streams. With sr this is the
block order that `golden.bfp_gemm(..., array=(R, C))` defines.

Cycle formula (every stream always valid/ready; cycle 0 = the first `a`/`b` beat; `n` K-tile
launches in total over all output tiles). Launch k happens at
    L_0 = max(R, C),   L_k = L_{k-1} + P   (P = max(T, R, C))
unless held by the output credits (below). Row i of an output tile whose final K-tile
launched at L is pushed into the FIFO at L+T+C+4+i and leaves on `c` at L+T+C+6+i. So
    cycles = max(R, C) + (n - 1)·P + T + C + R + 6      (last `c` beat at cycles - 1)
    fill = max(R, C) + 1 (first MAC at cycle L_0+1), steady state P cycles per K-tile
    (T MACs per PE: utilization T/P, 100 % when T >= max(R, C)), drain T + C + R + 5
    after the last launch; no per-output-tile overhead.
These hold for full K-tiles (K a multiple of T). A short final K-tile (`k_tail`) of length
n_t = min(T, max(k_tail, R, C)) takes n_t instead of P cycles, and instead of T in the drain:
each output tile with a tail saves P - max(n_t, R, C) cycles (`GemmTiming.shape`).
The final K-tile of output tile u waits until the FIFO (depth D = `out_depth`, default 2R)
has R credits: with an always-ready consumer, output tile u-D//R's last row must have left
by then, i.e. L_final(u) >= L_final(u - D//R) + T + C + R + 6. With D = 2R this never binds
when 2·k_tiles·P >= T + C + R + 6, which holds whenever K >= 8·max(R, C).
`launch_schedule` evaluates the recurrence exactly; the tests check it against simulation.

Pipelined (`pipelined=True`, for a high clock; same results, gemm_timing.py's constants):
* each feed's FloatToBfp has FEED_LATENCY register stages (gemm_feed.py), and a pipelined
  feed takes no block in a launch cycle (the launch stays off the stream's ready);
* each PE multiplies its own `a_out`/`b_out` registers and registers the product (+2 cycles
  to every readout; the side registers are delayed to match);
* each column registers |P|, converts it in a RoundPack with 4 register stages and adds it
  with `FpAdd(latency=COLUMN_ADD_LATENCY)`; the R accumulator entries become an addressed
  store (read one cycle before the adder, written when the sum leaves it);
* the LaunchController samples the first-block strobe and `k_tiles`/`k_tail` one cycle late
  and counts K-tiles down; the feeds act on its launch one cycle after it (a register).
In the cycle model max(R, C) becomes q = max(max(R, C, FEED_LATENCY + 1) + 2,
COLUMN_ADD_LATENCY + 2) in the period P = max(T, q) and in the slots and lengths of final
K-tiles (a row's accumulator entry is read again only after its sum is written back), the
first launch is max(R, C, FEED_LATENCY + 1), and the drain is T + C + R + 6 + 3 +
COLUMN_ROUND_LATENCY + COLUMN_ADD_LATENCY (`GemmTiming(..., pipelined=True)`). With T >= q
(e.g. BFP8/24 on 16x4 or 16x16) the steady state is unchanged: T MACs per PE per T cycles.
`ecp5_dsp` puts the PEs' operand registers into MULT18X18D blocks (ECP5; same cycles).
`xcup_dsp` puts each PE's multiply-accumulate into one DSP48E2 (UltraScale+; same cycles).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import GemmConfig

from .checked import CheckedComponent
from .gemm_column import ColumnAccumulator
from .gemm_control import LaunchController
from .gemm_feed import OperandFeed
from .gemm_pe import ProcessingElement, SystolicArray
from .gemm_timing import (
    OUT_DELAY,
    PUSH_DELAY,
    GemmTiming,
    gemm_acc_width,
    gemm_performance,
    launch_schedule,
    tail_length,
)
from .pipeline import cut, delay

__all__ = [
    "ProcessingElement",
    "OperandFeed",
    "SystolicArray",
    "ColumnAccumulator",
    "LaunchController",
    "BfpGemmArray",
    "gemm_acc_width",
    "gemm_performance",
    "GemmTiming",
    "launch_schedule",
    "tail_length",
    "PUSH_DELAY",
    "OUT_DELAY",
]


class BfpGemmArray(CheckedComponent):
    """The R x C systolic HBFP GEMM unit (see the module docstring for ports and timing).

    `out_depth` rows of output FIFO (default 2R, at least R); `ktile_bits` the width of
    `k_tiles`. `pipelined`: register stages inside the PEs (product), the feeds' converters
    and the columns (BFP->FP and the float adder) for a high clock, same results; the cycle
    model is `GemmTiming(..., pipelined=True)` (a longer drain, launch slots of at least
    COLUMN_ADD_LATENCY + 2 cycles). `ecp5_dsp` (with `pipelined`): the PEs' multiplier operand
    registers are instantiated MULT18X18D input registers (ECP5 only; same cycles, same results;
    `dsp_primitive=False` builds them from registers for Amaranth's simulator). `xcup_dsp`:
    each PE's multiply-accumulate is an instantiated DSP48E2 accumulating in its P register
    (UltraScale+ only, hdl/dsp_xcup.py; plain or pipelined; same cycles, same results)."""

    @staticmethod
    def check(
        rows: int,
        cols: int,
        cfg: GemmConfig,
        *,
        out_depth: int | None = None,
        ktile_bits: int = 16,
        use_dsp: bool = True,
        pipelined: bool = False,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
        xcup_dsp: bool = False,
    ):
        if rows < 1 or cols < 1:
            raise ValueError(f"the array needs rows, cols >= 1, got {rows} x {cols}")
        if out_depth is not None and out_depth < rows:
            raise ValueError(f"out_depth must be >= rows ({rows}), got {out_depth}")
        pe = dict(use_dsp=use_dsp, pipelined=pipelined, ecp5_dsp=ecp5_dsp, xcup_dsp=xcup_dsp)
        ProcessingElement.check(cfg.m, gemm_acc_width(cfg.m, cfg.T), **pe)

    def __init__(
        self,
        rows: int,
        cols: int,
        cfg: GemmConfig,
        *,
        out_depth: int | None = None,
        ktile_bits: int = 16,
        use_dsp: bool = True,
        pipelined: bool = False,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
        xcup_dsp: bool = False,
    ):
        out_depth = 2 * rows if out_depth is None else out_depth
        self.rows, self.cols, self.cfg = rows, cols, cfg
        self.out_depth, self.ktile_bits, self.use_dsp = out_depth, ktile_bits, use_dsp
        self.pipelined, self.ecp5_dsp, self.dsp_primitive = pipelined, ecp5_dsp, dsp_primitive
        self.xcup_dsp = xcup_dsp
        self.acc_width = gemm_acc_width(cfg.m, cfg.T)
        self.timing = GemmTiming(rows, cols, cfg.T, out_depth, pipelined)
        super().__init__(
            {
                "a": In(stream.Signature(data.ArrayLayout(cfg.in_fmt.width, cfg.T))),
                "b": In(stream.Signature(data.ArrayLayout(cfg.in_fmt.width, cfg.T))),
                "k_tiles": In(ktile_bits),
                "k_tail": In(range(cfg.T + 1)),
                "c": Out(stream.Signature(data.ArrayLayout(cfg.out_fmt.width, cols))),
            }
        )

    def elaborate(self, platform):
        m = Module()
        cfg, R, C = self.cfg, self.rows, self.cols
        sr = dict(sr_bits=cfg.sr_bits, sr_seed=cfg.sr_seed)
        m.submodules.feed_a = fa = OperandFeed(
            cfg.in_fmt,
            cfg.bfp,
            R,
            cfg.rounding,
            tag_bits=1,
            zero_idle=False,
            serial_side=True,
            pipelined=self.pipelined,
            **sr,
        )
        m.submodules.feed_b = fb = OperandFeed(
            cfg.in_fmt, cfg.bfp, C, cfg.rounding, lane_offset=cfg.T, pipelined=self.pipelined, **sr
        )
        m.submodules.array = arr = SystolicArray(
            R,
            C,
            cfg.m,
            self.acc_width,
            use_dsp=self.use_dsp,
            pipelined=self.pipelined,
            ecp5_dsp=self.ecp5_dsp,
            dsp_primitive=self.dsp_primitive,
            xcup_dsp=self.xcup_dsp,
        )

        wiring.connect(m, wiring.flipped(self.a), fa.blocks)
        wiring.connect(m, wiring.flipped(self.b), fb.blocks)

        m.submodules.control = ctl = LaunchController(self.timing, self.ktile_bits)
        # Pipelined: the feeds act on a launch one cycle after the controller decides it (a
        # register, not the decision's logic, drives both feeds across the chip).
        launch = {"go": ctl.launch, "final": ctl.final, "length": ctl.length}
        launch = cut(m, self.pipelined, "launch", launch)
        m.d.comb += [
            ctl.k_tiles.eq(self.k_tiles),
            ctl.k_tail.eq(self.k_tail),
            ctl.a_first_block.eq(fa.blocks.valid & fa.blocks.ready & fa.first_block),
            ctl.a_full.eq(fa.full),
            ctl.b_full.eq(fb.full),
            ctl.pop.eq(self.c.valid & self.c.ready),
            fa.launch.eq(launch["go"]),
            fb.launch.eq(launch["go"]),
            fa.tags.eq(launch["final"]),
            fa.length.eq(launch["length"]),
            fb.length.eq(launch["length"]),
        ]

        m.d.comb += [arr.a.eq(fa.elem), arr.last.eq(fa.last), arr.b.eq(fb.elem)]

        # Columns: BFP->FP and accumulation, each into its own FIFO; a `c` beat takes one
        # entry of every column FIFO (column C-1 pushes row i last, at L+n+C+4+i). Column j
        # reads row i out j+1 cycles after the A feed's serial side register shows it (the
        # PEs register their readout): it gets that register j+1 cycles late, and the B
        # side one cycle late. Pipelined PEs (operand and product registers) read out two
        # cycles later still: two more registers on both sides keep the pairs.
        late = 2 if self.pipelined else 0
        row_side = [Cat(fa.side_exp[0], fa.side_special[0], fa.side_tags[0])]
        row_side = [delay(m, row_side[0], late, "row_side")]
        for j in range(C):
            late = Signal(len(row_side[0]), name=f"row_side{j}")
            m.d.sync += late.eq(row_side[-1])
            row_side.append(late)
        exp_w = len(fa.side_exp[0])
        col_side = []
        for j in range(C):
            late = Signal(exp_w + 1, name=f"col_side{j}")
            side = Cat(fb.side_exp[j], fb.side_special[j])
            m.d.sync += late.eq(delay(m, side, 2, f"col_side{j}") if self.pipelined else side)
            col_side.append(late)
        fifos = []
        for j in range(C):
            m.submodules[f"col{j}"] = col = ColumnAccumulator(
                cfg, R, self.acc_width, self.pipelined, use_dsp=self.use_dsp
            )
            # SyncFIFOBuffered refuses a write while its output register is refilling (level
            # may then be depth - 1): one spare entry keeps `out_depth` credits writable.
            m.submodules[f"out_fifo{j}"] = q = fifo.SyncFIFOBuffered(
                width=cfg.out_fmt.width, depth=self.out_depth + 1
            )
            m.d.comb += [
                col.valid.eq(arr.done[j] != 0),
                col.p.eq(arr.result[j]),
                col.row_exp.eq(row_side[j + 1][:exp_w]),
                col.row_special.eq(row_side[j + 1][exp_w]),
                col.final.eq(row_side[j + 1][exp_w + 1]),
                col.col_exp.eq(col_side[j][:exp_w]),
                col.col_special.eq(col_side[j][exp_w]),
                q.w_en.eq(col.push),
                q.w_data.eq(col.value),
                q.r_en.eq(self.c.valid & self.c.ready),
                self.c.payload[j].eq(q.r_data),
            ]
            fifos.append(q)
        m.d.comb += self.c.valid.eq(Cat(q.r_rdy for q in fifos).all())
        return m
