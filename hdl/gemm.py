"""HBFP GEMM (SPEC §5) on an R x C output-stationary systolic array, bit-exact to
`golden.bfp_gemm(a, b, cfg, array=(R, C))`.

Architecture (the HBFP paper's Figure 2: FP->BFP units, fixed-point MatMul with wide
accumulators, BFP->FP units, then FP accumulation across tiles)::

       a (A blocks) --> OperandFeed(A) --R lanes--> +-------------------+
                          FloatToBfp, R load          |  SystolicArray    |
                          buffers, R shift-out regs   |  R x C PEs        |--C column readouts-->
       b (B blocks) --> OperandFeed(B) --C lanes--> |  a right, b down  |   ColumnAccumulator x C
                                                      +-------------------+   (BFP->FP, FpAdd,
                                                                               R-entry ring)
                                                                                   |
                    c (rows of C results) <-- C x SyncFIFOBuffered <-- finished entries

* `OperandFeed` (one per side): the input stream carries one BFP block (T floats) per beat.
  A `FloatToBfp` converts it (combinationally) into a load buffer, one lane per beat. When
  both feeds hold a full K-tile (R A blocks, C B blocks) the controller *launches* it: lane l
  copies its load buffer into its shift-out register at cycle L+l (the systolic skew) and
  shifts one m-bit element per cycle into the array, zeros afterwards; the load buffers
  refill from the launch cycle on (double buffering). The block's exponent and special flag
  move to the lane's *side register* when its last element leaves (cycle L+l+T), where the
  readout finds them.
* `ProcessingElement`: `acc <- (last_out ? 0 : acc) + a*b`, a and b passed on through
  registers; a one-bit `last` flag travels with the A elements. The exact accumulator has
  `gemm_acc_width(m, T)` = bits of T*(2^(m-1)-1)^2 plus sign = 2m-1+ceil(log2 T) bits (one
  less than 2m+ceil(log2 T) because BFP elements are symmetric). In the cycle after a PE has
  added the last product of a K-tile, `last_out` is set and `acc` holds the tile's exact P;
  the next K-tile overwrites it in that same cycle's update, so PEs never stop.
* Column readout: PE (i, j) holds its P in cycle L+i+j+T+1, so column j's P values appear
  one per cycle for i = 0..R-1. A one-hot OR-mux (select = `last_out`) hands them to the
  column's `ColumnAccumulator`, together with the row side of i (ea, A special, first/final
  K-tile flags) and the column side (eb, B special).
* `ColumnAccumulator` (one per column, 3 stages): register the readout; `RoundPack`
  P*2^(ea+eb-2(m-2)) into the output format (rne, the BFP->FP unit); `FpAdd` it to the row's
  accumulator entry (+0 on the first K-tile), rne, golden `fp_add`. The R accumulators of the
  column form a ring that rotates once per readout, so the head is always the entry of the
  row being read out. A sticky special bit per entry gives NaN (SPEC §5.4). For the final
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
launched at L is pushed into the FIFO at L+T+C+3+i and leaves on `c` at L+T+C+5+i. So
    cycles = max(R, C) + (n - 1)·P + T + C + R + 5      (last `c` beat at cycles - 1)
    fill = max(R, C) + 1 (first MAC at cycle L_0+1), steady state P cycles per K-tile
    (T MACs per PE: utilization T/P, 100 % when T >= max(R, C)), drain T + C + R + 4
    after the last launch; no per-output-tile overhead.
These hold for full K-tiles (K a multiple of T). A short final K-tile (`k_tail`) of length
n_t = min(T, max(k_tail, R, C)) takes n_t instead of P cycles, and instead of T in the drain:
each output tile with a tail saves P - max(n_t, R, C) cycles (`GemmTiming.shape`).
The final K-tile of output tile u waits until the FIFO (depth D = `out_depth`, default 2R)
has R credits: with an always-ready consumer, output tile u-D//R's last row must have left
by then, i.e. L_final(u) >= L_final(u - D//R) + T + C + R + 5. With D = 2R this never binds
when 2·k_tiles·P >= T + C + R + 5, which holds whenever K >= 8·max(R, C).
`launch_schedule` evaluates the recurrence exactly; the tests check it against simulation.
"""

from __future__ import annotations

from dataclasses import dataclass

from amaranth.hdl import Cat, Module, Mux, Shape, Signal, signed
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import AccConfig, GemmConfig
from lpmac.formats import BfpFormat, FloatFormat
from lpmac.specials import special_encoding

from .accum import FpAdd
from .convert import FloatToBfp, bfp_exp_range, bfp_exp_shape
from .multiply import multiply
from .rounding import RoundPack

__all__ = [
    "ProcessingElement",
    "OperandFeed",
    "SystolicArray",
    "ColumnAccumulator",
    "LaunchController",
    "BfpGemmArray",
    "gemm_unit",
    "gemm_acc_width",
    "gemm_performance",
    "GemmTiming",
    "launch_schedule",
]

# Cycles from a final launch L to the FIFO push of row 0 (L+T+C+PUSH_DELAY) and to its `c`
# beat (L+T+C+OUT_DELAY): readout at L+T+C (PE C-1), 3 register stages in ColumnAccumulator,
# 2 more through SyncFIFOBuffered.
PUSH_DELAY = 3
OUT_DELAY = 5


def gemm_acc_width(m: int, T: int) -> int:
    """Signed width holding any exact tile dot product: |P| <= T*(2^(m-1)-1)^2."""
    kmax = (1 << (m - 1)) - 1
    return (T * kmax * kmax).bit_length() + 1


# --------------------------------------------------------------------------- timing model
def tail_length(T: int, k_tail: int) -> int:
    """Useful K-elements in an output tile's last K-tile for the `k_tail` input (0 or >= T:
    a full tile of T)."""
    return T if k_tail <= 0 or k_tail >= T else k_tail


@dataclass(frozen=True)
class GemmTiming:
    """Cycle model of a BfpGemmArray (see the module docstring)."""

    rows: int
    cols: int
    T: int
    out_depth: int

    @property
    def period(self) -> int:
        """Cycles between the launches of a full K-tile and the next K-tile."""
        return max(self.T, self.rows, self.cols)

    @property
    def first_launch(self) -> int:
        return max(self.rows, self.cols)

    def shape(self, k_tail: int = 0) -> tuple[int, int]:
        """(length, slot) of a final K-tile with `k_tail` useful elements: it shifts `length` =
        min(T, max(t, R, C)) elements into the array (t = tail_length(T, k_tail)) and the next
        launch may follow `slot` = max(length, R, C) cycles later. (T, period) for a full tile."""
        q = max(self.rows, self.cols)
        length = min(self.T, max(tail_length(self.T, k_tail), q))
        return length, max(length, q)

    def drain_after(self, length: int) -> int:
        """Cycles from a final launch of `length` to the end of its output tile's last `c` beat."""
        return length + self.cols + self.rows + OUT_DELAY

    @property
    def drain(self) -> int:
        """`drain_after` a full K-tile: T + C + R + 5."""
        return self.drain_after(self.T)

    def cycles(self, k_tiles: list[int], k_tails: list[int] | None = None) -> int:
        """Cycles from the first input beat to the last `c` beat (inclusive) for output tiles
        with the given K-tile counts (and `k_tail` inputs, default 0), streams always valid
        and ready."""
        launches = launch_schedule(self, k_tiles, k_tails)
        last_tail = k_tails[-1] if k_tails else 0
        return launches[-1] + self.drain_after(self.shape(last_tail)[0])

    def closed_form(self, launches: int) -> int:
        """max(R, C) + (n-1)·P + T + C + R + 5: `cycles` for full K-tiles when no credit
        stall occurs."""
        return self.first_launch + (launches - 1) * self.period + self.drain

    def busy(self, k_tiles: list[int], k_tails: list[int] | None = None) -> int:
        """Sum of the launch slots: the cycles of the steady state (no fill, drain or stall)."""
        total = 0
        for u, kt in enumerate(k_tiles):
            total += (max(kt, 1) - 1) * self.period + self.shape(k_tails[u] if k_tails else 0)[1]
        return total


def launch_schedule(
    timing: GemmTiming, k_tiles: list[int], k_tails: list[int] | None = None
) -> list[int]:
    """Launch cycle of every K-tile (all output tiles in order), streams always valid/ready.

    L_0 = max(R, C), L_k >= L_{k-1} + slot_{k-1} (P after a full K-tile, `GemmTiming.shape`
    after a final one); a final K-tile also waits until the FIFO credits cover its R rows:
    credits = D - R·(final launches so far) + rows popped before the cycle, and row i of the
    output tile whose final launch was f with length n is popped at f+n+C+5+i."""
    R, C, T, P = timing.rows, timing.cols, timing.T, timing.period
    launches, pops = [], []
    reserved = 0
    slot = 0
    for u, kt in enumerate(k_tiles):
        n = max(kt, 1)
        for k in range(n):
            t = launches[-1] + slot if launches else timing.first_launch
            slot = P
            if k == n - 1:
                length, slot = timing.shape(k_tails[u] if k_tails else 0)
                need = R * (reserved + 1) - timing.out_depth  # pops required before t
                if need > 0:
                    t = max(t, sorted(pops)[need - 1] + 1)
                reserved += 1
                pops += [t + length + C + OUT_DELAY + i for i in range(R)]
            launches.append(t)
    return launches


def gemm_performance(
    rows: int,
    cols: int,
    T: int,
    M: int,
    N: int,
    K: int,
    out_depth: int | None = None,
    *,
    use_tail: bool = True,
) -> dict:
    """Cycle model of one M x N x K product (host protocol, streams always valid/ready,
    `k_tail` = K mod T unless `use_tail` is False): cycles, useful MACs M·N·K, utilization
    = MACs / (R·C·cycles), K-tile launches, `busy` (the sum of launch slots) and the cycles
    outside the steady state (fill + drain + credit stalls = cycles - busy)."""
    timing = GemmTiming(rows, cols, T, 2 * rows if out_depth is None else out_depth)
    tiles = -(-M // rows) * -(-N // cols)
    k_tiles = max(1, -(-K // T))
    tail = K % T if use_tail else 0
    counts, tails = [k_tiles] * tiles, [tail] * tiles
    cycles = timing.cycles(counts, tails)
    busy = timing.busy(counts, tails)
    launches = tiles * k_tiles
    return {
        "cycles": cycles,
        "macs": M * N * K,
        "utilization": M * N * K / (rows * cols * cycles),
        "launches": launches,
        "period": timing.period,
        "busy": busy,
        "overhead": cycles - busy,
        "closed_form": tail == 0 and cycles == timing.closed_form(launches),
    }


# --------------------------------------------------------------------------- components
class ProcessingElement(wiring.Component):
    """One MAC per cycle: `acc <- (last_out ? 0 : acc) + a_in*b_in` (exact, signed).

    `a_in`, `last_in` move on to `a_out`, `last_out` and `b_in` to `b_out` through registers.
    In the cycle with `last_out` set, `acc` holds the dot product of the K-tile that ended
    with the `last_in` element."""

    def __init__(self, m: int, acc_width: int, use_dsp: bool = True):
        self.m, self.acc_width, self.use_dsp = m, acc_width, use_dsp
        super().__init__(
            {
                "a_in": In(signed(m)),
                "b_in": In(signed(m)),
                "last_in": In(1),
                "a_out": Out(signed(m)),
                "b_out": Out(signed(m)),
                "last_out": Out(1),
                "acc": Out(signed(acc_width)),
            }
        )

    def elaborate(self, platform):
        m = Module()
        # |a|, |b| <= 2^(m-1) - 1, so the product fits 2m - 1 bits
        product = multiply(
            m, self.a_in, self.b_in, signed_ops=True, use_dsp=self.use_dsp, name="prod"
        )
        product = product[: 2 * self.m - 1].as_signed()
        m.d.sync += [
            self.acc.eq(Mux(self.last_out, 0, self.acc) + product),
            self.a_out.eq(self.a_in),
            self.b_out.eq(self.b_in),
            self.last_out.eq(self.last_in),
        ]
        return m


class SystolicArray(wiring.Component):
    """R x C ProcessingElements: A lanes enter at the left of each row (with the `last`
    flag), B lanes at the top of each column. Column j's readout in each cycle is the `acc`
    of the PE whose `last_out` is set (at most one per column, given launches >= R cycles
    apart): `done[j]` (one-hot over rows, 0 when idle) and `result[j]`."""

    def __init__(self, rows: int, cols: int, m: int, acc_width: int, use_dsp: bool = True):
        self.rows, self.cols, self.m, self.acc_width, self.use_dsp = (
            rows,
            cols,
            m,
            acc_width,
            use_dsp,
        )
        super().__init__(
            {
                "a": In(data.ArrayLayout(signed(m), rows)),
                "last": In(rows),
                "b": In(data.ArrayLayout(signed(m), cols)),
                "done": Out(data.ArrayLayout(rows, cols)),
                "result": Out(data.ArrayLayout(signed(acc_width), cols)),
            }
        )

    def elaborate(self, platform):
        m = Module()
        R, C = self.rows, self.cols
        pe = [
            [ProcessingElement(self.m, self.acc_width, self.use_dsp) for _ in range(C)]
            for _ in range(R)
        ]
        for i in range(R):
            for j in range(C):
                m.submodules[f"pe_{i}_{j}"] = pe[i][j]
                left, up = (pe[i][j - 1] if j else None), (pe[i - 1][j] if i else None)
                m.d.comb += [
                    pe[i][j].a_in.eq(left.a_out if left else self.a[i]),
                    pe[i][j].last_in.eq(left.last_out if left else self.last[i]),
                    pe[i][j].b_in.eq(up.b_out if up else self.b[j]),
                ]
        for j in range(C):
            result = 0
            for i in range(R):
                result = result | Mux(pe[i][j].last_out, pe[i][j].acc, 0)
            m.d.comb += [
                self.done[j].eq(Cat(pe[i][j].last_out for i in range(R))),
                self.result[j].eq(result),
            ]
        return m


class OperandFeed(wiring.Component):
    """FP->BFP front end of one side of the array (`lanes` = R for A, C for B).

    `blocks` carries one block of T floats per beat; a `FloatToBfp` (T lanes, seeds
    `lane_seed(sr_seed, lane_offset + l)`) converts it into load buffer `count`. `full`: all
    lanes loaded. On `launch` (only while full) lane l copies its buffer into its shift-out
    register at cycle L+l and emits elements 0..n-1 on `elem[l]` in cycles L+l+1..L+l+n
    (n = `length` at the launch, 1..T; `last[l]` with element n-1; elements n..T-1 are never
    emitted), zeros otherwise; `tags` sampled at the launch and the block's exponent /
    special flag appear on `side_*[l]` from cycle L+l+n+1 until the next launch's. The
    buffers accept new blocks from the launch cycle on."""

    def __init__(
        self,
        fmt: FloatFormat,
        bfp: BfpFormat,
        lanes: int,
        mode: str = "rne",
        *,
        sr_bits: int = 8,
        sr_seed: int = 1,
        lane_offset: int = 0,
        tag_bits: int = 0,
    ):
        self.fmt, self.bfp, self.lanes, self.mode = fmt, bfp, lanes, mode
        self.sr_bits, self.sr_seed, self.lane_offset, self.tag_bits = (
            sr_bits,
            sr_seed,
            lane_offset,
            tag_bits,
        )
        self.exp_shape = bfp_exp_shape(fmt)
        ports = {
            "blocks": In(stream.Signature(data.ArrayLayout(fmt.width, bfp.T))),
            "full": Out(1),
            "first_block": Out(1),
            "launch": In(1),
            "length": In(range(1, bfp.T + 1)),
            "elem": Out(data.ArrayLayout(signed(bfp.m), lanes)),
            "last": Out(lanes),
            "side_exp": Out(data.ArrayLayout(self.exp_shape, lanes)),
            "side_special": Out(lanes),
        }
        if tag_bits:
            ports["tags"] = In(tag_bits)
            ports["side_tags"] = Out(data.ArrayLayout(tag_bits, lanes))
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        L, T, mb = self.lanes, self.bfp.T, self.bfp.m
        m.submodules.to_bfp = conv = FloatToBfp(
            self.fmt,
            self.bfp,
            self.mode,
            sr_bits=self.sr_bits,
            sr_seed=self.sr_seed,
            latency=0,
            lane_offset=self.lane_offset,
        )

        count = Signal(range(L + 1))
        accept = Signal()
        slot = Signal(range(L))
        m.d.comb += [
            self.full.eq(count == L),
            self.blocks.ready.eq(~self.full | self.launch),
            accept.eq(self.blocks.valid & self.blocks.ready),
            slot.eq(Mux(self.full, 0, count)),
            self.first_block.eq(slot == 0),
            conv.x.eq(self.blocks.payload.as_value()),
        ]
        if self.mode == "sr":
            m.d.comb += conv.valid.eq(accept)
        with m.If(self.launch):
            m.d.sync += count.eq(accept)
        with m.Elif(accept):
            m.d.sync += count.eq(count + 1)

        buf_layout = data.StructLayout({"man": T * mb, "exp": self.exp_shape, "special": 1})
        bufs = [Signal(buf_layout, name=f"load{lane}") for lane in range(L)]
        for lane, buf in enumerate(bufs):
            with m.If(accept & (slot == lane)):
                m.d.sync += [
                    buf.man.eq(conv.man),
                    buf.exp.eq(conv.exp),
                    buf.special.eq(conv.special),
                ]

        # start[l]: launch delayed l cycles (copy into shift-out register l).
        start = [self.launch]
        for lane in range(1, L):
            s = Signal(name=f"start{lane}")
            m.d.sync += s.eq(start[-1])
            start.append(s)
        # last[0]: launch delayed `length` cycles (a down-counter: launches are >= length
        # cycles apart); last[l]: last[0] delayed l cycles, with the tags of that launch.
        remaining = Signal(range(T + 1))
        with m.If(self.launch):
            m.d.sync += remaining.eq(self.length)
        with m.Elif(remaining != 0):
            m.d.sync += remaining.eq(remaining - 1)
        last = [Signal(name="last0")]
        m.d.comb += last[0].eq(remaining == 1)
        for lane in range(1, L):
            s = Signal(name=f"last{lane}")
            m.d.sync += s.eq(last[-1])
            last.append(s)
        m.d.comb += self.last.eq(Cat(*last))
        if self.tag_bits:
            launch_tags = Signal(self.tag_bits)
            with m.If(self.launch):
                m.d.sync += launch_tags.eq(self.tags)
            tags = [launch_tags]
            for lane in range(1, L):
                s = Signal(self.tag_bits, name=f"tags{lane}")
                m.d.sync += s.eq(tags[-1])
                tags.append(s)

        for lane, buf in enumerate(bufs):
            shift = Signal(T * mb, name=f"shift{lane}")
            hold_exp = Signal(self.exp_shape, name=f"hold_exp{lane}")
            hold_special = Signal(name=f"hold_special{lane}")
            with m.If(start[lane]):
                m.d.sync += [shift.eq(buf.man), hold_exp.eq(buf.exp), hold_special.eq(buf.special)]
            with m.Elif(last[lane]):
                m.d.sync += shift.eq(0)  # a short K-tile: its unused elements never enter
            with m.Else():
                m.d.sync += shift.eq(shift >> mb)
            m.d.comb += self.elem[lane].eq(shift[:mb])
            with m.If(last[lane]):
                m.d.sync += [
                    self.side_exp[lane].eq(hold_exp),
                    self.side_special[lane].eq(hold_special),
                ]
                if self.tag_bits:
                    m.d.sync += self.side_tags[lane].eq(tags[lane])
        return m


class ColumnAccumulator(wiring.Component):
    """BFP->FP conversion and float accumulation across K-tiles for one column of the array
    (the HBFP paper's BFP-to-FP unit and FP accumulation; one per column, shared by the R
    rows, whose readouts of a K-tile arrive one per cycle).

    Stage 0 registers the readout (`valid`, `p`, `row` one-hot) with the row side it selects
    (`row_exp`, `row_special`, `first`, `final` of that row's K-tile) and the column side
    (`col_exp`, `col_special`). Stage 1: x = RoundPack(p * 2^(row_exp + col_exp - 2(m-2)))
    into cfg.out_fmt, rne. Stage 2: ring head <- FpAdd(first ? +0 : head, x) (rne) and the ring
    of R entries rotates; a sticky special bit rides along. For the final K-tile of an output
    tile, `push` is set the next cycle with the row's finished value in `value` (the output
    format's NaN for a special entry)."""

    def __init__(self, cfg: GemmConfig, rows: int, acc_width: int):
        self.cfg, self.rows, self.acc_width = cfg, rows, acc_width
        self.exp_shape = bfp_exp_shape(cfg.in_fmt)
        super().__init__(
            {
                "valid": In(1),
                "p": In(signed(acc_width)),
                "row": In(rows),
                "row_exp": In(data.ArrayLayout(self.exp_shape, rows)),
                "row_special": In(rows),
                "first": In(rows),
                "final": In(rows),
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

        # Stage 0: the readout and both sides, registered (one-hot OR-mux over the rows).
        row_exp, row_special, first, final = 0, 0, 0, 0
        for i in range(R):
            row_exp = row_exp | Mux(self.row[i], self.row_exp[i], 0)
            row_special = row_special | (self.row[i] & self.row_special[i])
            first = first | (self.row[i] & self.first[i])
            final = final | (self.row[i] & self.final[i])
        v0, p0, e0, sp0, first0, final0 = (
            Signal(name="v0"),
            Signal(signed(self.acc_width), name="p0"),
            Signal(Shape.cast(range(scale_range[0], scale_range[1] + 1)), name="scale0"),
            Signal(name="special0"),
            Signal(name="first0"),
            Signal(name="final0"),
        )
        m.d.sync += [
            v0.eq(self.valid),
            p0.eq(self.p),
            e0.eq(row_exp + self.col_exp - 2 * (mb - 2)),
            sp0.eq(row_special | self.col_special),
            first0.eq(first),
            final0.eq(final),
        ]

        # Stage 1: BFP -> float (rne), the HBFP paper's BFP-to-FP unit.
        mag_w = self.acc_width - 1
        mag = Signal(mag_w)
        m.d.comb += mag.eq(Mux(p0 < 0, -p0, p0))
        m.submodules.to_float = rp = RoundPack(
            fmt, mag_w, scale_range, max_lz=mag_w - 1, mode="rne", sub_out="ieee"
        )
        m.d.comb += [
            rp.sign.eq(p0 < 0),
            rp.sig.eq(mag),
            rp.exp.eq(e0),
            rp.zero.eq(p0 == 0),
            rp.inf.eq(0),
            rp.nan.eq(0),
        ]
        v1, x1, sp1, first1, final1 = (
            Signal(name="v1"),
            Signal(fmt.width, name="x1"),
            Signal(name="special1"),
            Signal(name="first1"),
            Signal(name="final1"),
        )
        m.d.sync += [v1.eq(v0), x1.eq(rp.bits), sp1.eq(sp0), first1.eq(first0), final1.eq(final0)]

        # Stage 2: float accumulation in a ring of R entries (head = entry 0 = this row's).
        entry = data.StructLayout({"bits": fmt.width, "special": 1})
        ring = [Signal(entry, name=f"ring{i}") for i in range(R)]
        m.submodules.add = add = FpAdd(AccConfig(fmt, "rne"), fmt)
        special = Signal()
        m.d.comb += [
            add.acc.eq(Mux(first1, 0, ring[0].bits)),
            add.x.eq(x1),
            special.eq((~first1 & ring[0].special) | sp1),
        ]
        with m.If(v1):
            for i in range(R - 1):
                m.d.sync += ring[i].eq(ring[i + 1])
            m.d.sync += [ring[R - 1].bits.eq(add.s), ring[R - 1].special.eq(special)]
        nan = special_encoding(fmt, "nan")
        m.d.sync += [self.push.eq(v1 & final1), self.value.eq(Mux(special, nan, add.s))]
        return m


class LaunchController(wiring.Component):
    """Decides when a K-tile enters the array and what it is.

    `first`/`final` (the K-tile opens / closes its output tile) and `length` (elements to
    shift in: T, or `GemmTiming.shape(k_tail)` for a final K-tile) are set when the first A
    block of a K-tile is accepted (`a_first_block`); `k_tiles` and `k_tail` are read with the
    first block of an output tile (k_tiles 0 counts as 1, k_tail 0 means T). `launch` = both
    feeds full, the previous launch's slot (P, or max(length, R, C) after a final K-tile)
    elapsed, and for a final K-tile `rows` output credits: the FIFO has `out_depth` rows, a
    final launch reserves `rows`, each `pop` returns one."""

    def __init__(self, timing: GemmTiming, ktile_bits: int):
        self.timing, self.ktile_bits = timing, ktile_bits
        T = timing.T
        super().__init__(
            {
                "k_tiles": In(ktile_bits),
                "k_tail": In(range(T + 1)),
                "a_first_block": In(1),
                "a_full": In(1),
                "b_full": In(1),
                "pop": In(1),
                "launch": Out(1),
                "first": Out(1),
                "final": Out(1),
                "length": Out(range(1, T + 1), init=T),
            }
        )

    def elaborate(self, platform):
        m = Module()
        timing = self.timing
        T, R, P = timing.T, timing.rows, timing.period
        Q = max(timing.rows, timing.cols)

        kidx = Signal(self.ktile_bits)  # K-tile being loaded in its output tile
        k_total = Signal(self.ktile_bits)
        tail_saved = Signal(range(T + 1))
        kt = Mux(kidx == 0, self.k_tiles, k_total)
        tail = Mux(kidx == 0, self.k_tail, tail_saved)
        final = kidx + 1 >= kt
        # GemmTiming.shape: length = min(T, max(t, Q)) with t = T for k_tail 0 or >= T.
        if T > Q:
            tail_length = Mux((tail == 0) | (tail >= T), T, Mux(tail > Q, tail, Q))
        else:
            tail_length = T
        with m.If(self.a_first_block):
            m.d.sync += [
                self.first.eq(kidx == 0),
                self.final.eq(final),
                kidx.eq(Mux(final, 0, kidx + 1)),
                self.length.eq(Mux(final, tail_length, T)),
            ]
            with m.If(kidx == 0):
                m.d.sync += [k_total.eq(self.k_tiles), tail_saved.eq(self.k_tail)]

        # slot = max(length, Q): `length` itself when T > Q (then length >= Q), else P = Q.
        gap = Signal(range(P))
        free = Signal(range(timing.out_depth + 1), init=timing.out_depth)
        m.d.comb += self.launch.eq(
            self.a_full & self.b_full & (gap == 0) & (~self.final | (free >= R))
        )
        with m.If(self.launch):
            m.d.sync += gap.eq((self.length if T > Q else P) - 1)
        with m.Elif(gap != 0):
            m.d.sync += gap.eq(gap - 1)
        m.d.sync += free.eq(free - Mux(self.launch & self.final, R, 0) + self.pop)
        return m


class BfpGemmArray(wiring.Component):
    """The R x C systolic HBFP GEMM unit (see the module docstring for ports and timing).

    `out_depth` rows of output FIFO (default 2R, at least R); `ktile_bits` the width of
    `k_tiles`."""

    def __init__(
        self,
        rows: int,
        cols: int,
        cfg: GemmConfig,
        *,
        out_depth: int | None = None,
        ktile_bits: int = 16,
        use_dsp: bool = True,
    ):
        if rows < 1 or cols < 1:
            raise ValueError(f"the array needs rows, cols >= 1, got {rows} x {cols}")
        out_depth = 2 * rows if out_depth is None else out_depth
        if out_depth < rows:
            raise ValueError(f"out_depth must be >= rows ({rows}), got {out_depth}")
        self.rows, self.cols, self.cfg = rows, cols, cfg
        self.out_depth, self.ktile_bits, self.use_dsp = out_depth, ktile_bits, use_dsp
        self.acc_width = gemm_acc_width(cfg.m, cfg.T)
        self.timing = GemmTiming(rows, cols, cfg.T, out_depth)
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
            cfg.in_fmt, cfg.bfp, R, cfg.rounding, tag_bits=2, **sr
        )
        m.submodules.feed_b = fb = OperandFeed(
            cfg.in_fmt, cfg.bfp, C, cfg.rounding, lane_offset=cfg.T, **sr
        )
        m.submodules.array = arr = SystolicArray(R, C, cfg.m, self.acc_width, self.use_dsp)

        wiring.connect(m, wiring.flipped(self.a), fa.blocks)
        wiring.connect(m, wiring.flipped(self.b), fb.blocks)

        m.submodules.control = ctl = LaunchController(self.timing, self.ktile_bits)
        m.d.comb += [
            ctl.k_tiles.eq(self.k_tiles),
            ctl.k_tail.eq(self.k_tail),
            ctl.a_first_block.eq(fa.blocks.valid & fa.blocks.ready & fa.first_block),
            ctl.a_full.eq(fa.full),
            ctl.b_full.eq(fb.full),
            ctl.pop.eq(self.c.valid & self.c.ready),
            fa.launch.eq(ctl.launch),
            fb.launch.eq(ctl.launch),
            fa.tags.eq(Cat(ctl.first, ctl.final)),
            fa.length.eq(ctl.length),
            fb.length.eq(ctl.length),
        ]

        m.d.comb += [arr.a.eq(fa.elem), arr.last.eq(fa.last), arr.b.eq(fb.elem)]

        # Columns: BFP->FP and accumulation, each into its own FIFO; a `c` beat takes one
        # entry of every column FIFO (column C-1 pushes row i last, at L+n+C+3+i).
        tags = fa.side_tags
        fifos = []
        for j in range(C):
            m.submodules[f"col{j}"] = col = ColumnAccumulator(cfg, R, self.acc_width)
            # SyncFIFOBuffered refuses a write while its output register is refilling (level
            # may then be depth - 1): one spare entry keeps `out_depth` credits writable.
            m.submodules[f"out_fifo{j}"] = q = fifo.SyncFIFOBuffered(
                width=cfg.out_fmt.width, depth=self.out_depth + 1
            )
            m.d.comb += [
                col.valid.eq(arr.done[j] != 0),
                col.p.eq(arr.result[j]),
                col.row.eq(arr.done[j]),
                col.row_exp.eq(fa.side_exp),
                col.row_special.eq(fa.side_special),
                col.first.eq(Cat(tags[i][0] for i in range(R))),
                col.final.eq(Cat(tags[i][1] for i in range(R))),
                col.col_exp.eq(fb.side_exp[j]),
                col.col_special.eq(fb.side_special[j]),
                q.w_en.eq(col.push),
                q.w_data.eq(col.value),
                q.r_en.eq(self.c.valid & self.c.ready),
                self.c.payload[j].eq(q.r_data),
            ]
            fifos.append(q)
        m.d.comb += self.c.valid.eq(Cat(q.r_rdy for q in fifos).all())
        return m


def gemm_unit(rows: int, cols: int, cfg: GemmConfig) -> BfpGemmArray:
    """The CLI's builder: an R x C BfpGemmArray for `cfg` (module name gemm_RxC_<cfg>)."""
    return BfpGemmArray(rows, cols, cfg)
