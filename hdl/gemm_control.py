"""When a K-tile enters the HBFP GEMM array (hdl/gemm.py): the hardware form of the launch
recurrence of hdl/gemm_timing.py, with output-FIFO credits."""

from __future__ import annotations

from amaranth.hdl import Module, Mux, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from .gemm_timing import GemmTiming
from .pipeline import cut

__all__ = ["LaunchController"]


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
        Q = timing.q

        # Pipelined: the first-block strobe and its k_tiles / k_tail are registered (it depends
        # on the launch through the A stream's ready); a pipelined feed is full at least
        # FEED_LATENCY + 1 cycles after its first block, so the tags are still in time.
        inputs = {"first": self.a_first_block, "k_tiles": self.k_tiles, "k_tail": self.k_tail}
        inputs = cut(m, timing.pipelined, "sampled", inputs)
        k_tiles, k_tail, first_block = inputs["k_tiles"], inputs["k_tail"], inputs["first"]
        count = self._count_down if timing.pipelined else self._count_up
        opening, final, tail, updates, on_open, on_rest = count(k_tiles, k_tail)
        # GemmTiming.shape: length = min(T, max(t, Q)) with t = T for k_tail 0 or >= T.
        if T > Q:
            tail_length = Mux((tail == 0) | (tail >= T), T, Mux(tail > Q, tail, Q))
        else:
            tail_length = T
        with m.If(first_block):
            m.d.sync += [
                self.first.eq(opening),
                self.final.eq(final),
                *updates,
                self.length.eq(Mux(final, tail_length, T)),
            ]
            with m.If(opening):
                m.d.sync += on_open
            if on_rest:
                with m.Else():
                    m.d.sync += on_rest

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

    def _count_up(self, k_tiles, k_tail):
        """The K-tile whose first block is being taken: (opening its output tile, final in
        it, its output tile's k_tail, and the statements for that block / when it opens / when
        not). An index counts up to the K-tile count read with the output tile's first block."""
        T = self.timing.T
        kidx = Signal(self.ktile_bits)  # K-tile being loaded in its output tile
        k_total = Signal(self.ktile_bits)
        tail_saved = Signal(range(T + 1))
        kt = Mux(kidx == 0, k_tiles, k_total)
        tail = Mux(kidx == 0, k_tail, tail_saved)
        final = kidx + 1 >= kt
        updates = [kidx.eq(Mux(final, 0, kidx + 1))]
        return kidx == 0, final, tail, updates, [k_total.eq(k_tiles), tail_saved.eq(k_tail)], []

    def _count_down(self, k_tiles, k_tail):
        """As `_count_up`, for a high clock: a flag marks an output tile's first K-tile and a
        counter holds its K-tiles not yet opened, so `final` is a zero test, not a compare."""
        T = self.timing.T
        opening = Signal(init=1)
        left = Signal(self.ktile_bits)
        tail_saved = Signal(range(T + 1))
        final = Mux(opening, k_tiles[1:] == 0, left == 0)  # k_tiles 0 counts as 1
        tail = Mux(opening, k_tail, tail_saved)
        on_open = [left.eq(k_tiles - 2), tail_saved.eq(k_tail)]
        return opening, final, tail, [opening.eq(final)], on_open, [left.eq(left - 1)]
