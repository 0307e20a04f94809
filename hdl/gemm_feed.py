"""The FP->BFP operand side of the HBFP GEMM array (hdl/gemm.py): block stream in, skewed
element lanes, exponents and special flags out."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out

from lpmac.formats import BfpFormat, FloatFormat

from .convert import FloatToBfp, bfp_exp_shape
from .convert_bfp import TOBFP_CUTS, tobfp_cuts

__all__ = ["OperandFeed", "FEED_CUTS", "mux_tree"]

# The converter cuts of a pipelined feed (k = 4): fp32 blocks of 8 -> BFP8 feeds of 2 and 4
# lanes reach 141-146 MHz on ECP5, 114-127 with the first 3 (benchmarks/timing_feed.py).
FEED_CUTS = tobfp_cuts(4)


def mux_tree(m: Module, values: list, index, name: str):
    """values[index] as a balanced tree of 2:1 multiplexers on the bits of `index` (an
    out-of-range index gives some element)."""
    level = 0
    while len(values) > 1:
        values = [
            Mux(index[level], values[i + 1], values[i]) if i + 1 < len(values) else values[i]
            for i in range(0, len(values), 2)
        ]
        level += 1
    out = Signal(len(values[0]), name=name)
    m.d.comb += out.eq(values[0])
    return out


class OperandFeed(wiring.Component):
    """FP->BFP front end of one side of the array (`lanes` = R for A, C for B).

    `blocks` carries one block of T floats per beat; a `FloatToBfp` (T lanes, seeds
    `lane_seed(sr_seed, lane_offset + l)`) converts it into load buffer `count`. `full`: all
    lanes loaded. On `launch` (only while full) lane l copies its buffer into its emission
    buffer at cycle L+l and emits elements 0..n-1 on `elem[l]` in cycles L+l+1..L+l+n
    (n = `length` at the launch, 1..T; `last[l]` with element n-1; elements n..T-1 are never
    emitted), zeros otherwise (`zero_idle=False`: anything; a PE's two operands are idle in
    the same cycles, so the array zeroes one side only); `tags` sampled at the launch and
    the block's exponent / special flag appear on `side_*[l]` from cycle L+l+n+1 until the
    next launch's. The buffers accept new blocks from the launch cycle on. The elements of a
    special block are unspecified (every result they touch is NaN). `serial_side`: one
    `side_*[0]` for all lanes, holding lane l's side in cycle L+l+n+1 only (when the array's
    column 0 reads row l out).

    `pipelined=True` registers the converter inside (`cuts`, default FEED_CUTS: k =
    len(cuts) cycles): a block accepted in cycle c reaches its load buffer at the end of
    cycle c+k. Lane l's buffer is read at the end of cycle S+l (launch S) and its block was
    accepted by cycle S-lanes+l, so k <= lanes-1 costs no cycle: `full` and every other
    port keep their timing. A larger k raises `full` d = k-(lanes-1) cycles later (in cycle
    a+1+d for a last block accepted in cycle a), so with an always-valid stream it rises at
    max(lanes, k+1) instead of lanes, and launch S+P needs P >= max(lanes, k+1). The double
    buffering holds for any k: the next K-tile's block for lane l is accepted at S+l at the
    earliest and written at the end of S+l+k, never before lane l's copy (end of S+l)."""

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
        zero_idle: bool = True,
        serial_side: bool = False,
        pipelined: bool = False,
        cuts=None,
    ):
        if cuts is not None and not pipelined:
            raise ValueError("OperandFeed cuts need pipelined=True")
        cuts = frozenset((FEED_CUTS if cuts is None else cuts) if pipelined else ())
        if not cuts <= frozenset(TOBFP_CUTS):
            raise ValueError(f"OperandFeed cuts must be among {', '.join(TOBFP_CUTS)}, got {cuts}")
        self.pipelined, self.cuts = pipelined, tuple(c for c in TOBFP_CUTS if c in cuts)
        self.conv_latency = len(cuts)  # k
        self.full_delay = max(0, self.conv_latency - (lanes - 1))  # d: the skew hides the rest
        self.fmt, self.bfp, self.lanes, self.mode = fmt, bfp, lanes, mode
        self.sr_bits, self.sr_seed, self.lane_offset, self.tag_bits = (
            sr_bits,
            sr_seed,
            lane_offset,
            tag_bits,
        )
        self.zero_idle, self.serial_side = zero_idle, serial_side
        self.exp_shape = bfp_exp_shape(fmt)
        ports = {
            "blocks": In(stream.Signature(data.ArrayLayout(fmt.width, bfp.T))),
            "full": Out(1),
            "first_block": Out(1),
            "launch": In(1),
            "length": In(range(1, bfp.T + 1)),
            "elem": Out(data.ArrayLayout(signed(bfp.m), lanes)),
            "last": Out(lanes),
        }
        side = 1 if serial_side else lanes
        ports["side_exp"] = Out(data.ArrayLayout(self.exp_shape, side))
        ports["side_special"] = Out(side)
        if tag_bits:
            ports["tags"] = In(tag_bits)
            ports["side_tags"] = Out(data.ArrayLayout(tag_bits, side))
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
            zero_special=False,  # the array makes every result of a special block NaN
            **({"cuts": self.cuts} if self.cuts else {}),
        )

        count = Signal(range(L + 1))
        accept = Signal()
        slot = Signal(range(L))
        if self.conv_latency:
            loaded = Signal()  # every buffer taken (or on its way through the converter)
            m.d.comb += loaded.eq(count == L)
        else:
            loaded = self.full
            m.d.comb += self.full.eq(count == L)
        # Unpipelined, a block is taken in the launch cycle too; pipelined, not (the launch
        # decision stays off the stream's ready, for the clock), so a launch slot is one cycle
        # longer than the loading (GemmTiming.q).
        ready = ~loaded if self.conv_latency else ~loaded | self.launch
        m.d.comb += [
            self.blocks.ready.eq(ready),
            accept.eq(self.blocks.valid & self.blocks.ready),
            slot.eq(Mux(loaded, 0, count)),
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
        write, write_slot = accept, slot
        if self.conv_latency:
            write, write_slot = self._write_pipe(m, accept, slot, loaded)
        for lane, buf in enumerate(bufs):
            with m.If(write & (write_slot == lane)):
                m.d.sync += [
                    buf.man.eq(conv.man),
                    buf.exp.eq(conv.exp),
                    buf.special.eq(conv.special),
                ]

        # start[l]: launch delayed l cycles (copy into emission buffer l).
        start = [self.launch]
        for lane in range(1, L):
            s = Signal(name=f"start{lane}")
            m.d.sync += s.eq(start[-1])
            start.append(s)
        # Lane 0 emits element `pos` while `active` (cycles L+1..L+n); lane l reads the same
        # (pos, active, last) l cycles later through a chain of registers, so each lane is a
        # T:1 read mux on a buffer that is written once per launch (no shift register, whose
        # load-or-shift mux costs a LUT per stored bit). `remaining` counts down from
        # `length` (launches are >= length cycles apart).
        remaining = Signal(range(T + 1))
        pos0 = Signal(range(T), name="pos0")
        with m.If(self.launch):
            m.d.sync += [remaining.eq(self.length), pos0.eq(0)]
        with m.Elif(remaining != 0):
            m.d.sync += [remaining.eq(remaining - 1), pos0.eq(pos0 + 1)]
        step = data.StructLayout({"pos": range(T), "active": 1, "last": 1})
        steps = [Signal(step, name="step0")]
        m.d.comb += [
            steps[0].pos.eq(pos0),
            steps[0].active.eq(remaining != 0),
            steps[0].last.eq(remaining == 1),
        ]
        for lane in range(1, L):
            s = Signal(step, name=f"step{lane}")
            m.d.sync += s.eq(steps[-1])
            steps.append(s)
        last = [s.last for s in steps]
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

        emits = []
        for lane, buf in enumerate(bufs):
            emit = Signal(buf_layout, name=f"emit{lane}")
            emits.append(emit)
            with m.If(start[lane]):
                m.d.sync += emit.eq(buf)
            elems = [emit.man[t * mb : (t + 1) * mb] for t in range(T)]
            picked = mux_tree(m, elems, steps[lane].pos, f"pick{lane}")
            if self.zero_idle:
                picked = Mux(steps[lane].active, picked, 0)
            m.d.comb += self.elem[lane].eq(picked)
            if self.serial_side:
                continue
            with m.If(last[lane]):
                m.d.sync += [
                    self.side_exp[lane].eq(emit.exp),
                    self.side_special[lane].eq(emit.special),
                ]
                if self.tag_bits:
                    m.d.sync += self.side_tags[lane].eq(tags[lane])
        if self.serial_side:
            # One side register for all lanes: the lanes' last elements leave in consecutive
            # cycles (launches are >= lanes cycles apart), so in cycle L+l+n+1 it holds lane
            # l's side, exactly when column 0 reads row l out; column j sees it j cycles
            # later through plain registers instead of a lanes:1 multiplexer per column.
            exp, special, tag = 0, 0, 0
            for lane, emit in enumerate(emits):
                exp = exp | Mux(last[lane], emit.exp, 0)
                special = special | (last[lane] & emit.special)
                if self.tag_bits:
                    tag = tag | Mux(last[lane], tags[lane], 0)
            m.d.sync += [self.side_exp[0].eq(exp), self.side_special[0].eq(special)]
            if self.tag_bits:
                m.d.sync += self.side_tags[0].eq(tag)
        return m

    def _write_pipe(self, m, accept, slot, loaded):
        """(accept, slot) k cycles late, when the block leaves the converter; `full` once
        every block is loaded in time for its lane's copy (no last block among the newest d
        stages of the pipe)."""
        L = self.lanes
        stages = []
        prev_accept, prev_slot = accept, slot
        for i in range(self.conv_latency):
            a, s = Signal(name=f"wr_accept{i + 1}"), Signal(range(L), name=f"wr_slot{i + 1}")
            m.d.sync += [a.eq(prev_accept), s.eq(prev_slot)]
            stages.append((a, s))
            prev_accept, prev_slot = a, s
        late = [a & (s == L - 1) for a, s in stages[: self.full_delay]]
        m.d.comb += self.full.eq(loaded & ~Cat(*late).any() if late else loaded)
        return stages[-1]
