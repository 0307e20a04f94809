"""Cycle model of the systolic HBFP GEMM array (hdl/gemm.py, "Cycle formula"): launch
schedule, total cycles, utilization. Plain Python, no hardware: the benches and benchmarks
check the array against it, and the LaunchController implements its recurrence."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "PUSH_DELAY",
    "OUT_DELAY",
    "COLUMN_ROUND_LATENCY",
    "COLUMN_ADD_LATENCY",
    "FEED_LATENCY",
    "gemm_acc_width",
    "tail_length",
    "GemmTiming",
    "launch_schedule",
    "gemm_performance",
]

# Cycles from a final launch L to the FIFO push of row 0 (L+T+C+PUSH_DELAY) and to its `c`
# beat (L+T+C+OUT_DELAY): PE C-1 of row 0 finishes at L+T+C, its registered readout follows,
# 3 register stages in ColumnAccumulator, 2 more through SyncFIFOBuffered.
PUSH_DELAY = 4
OUT_DELAY = 6

# The pipelined array (`BfpGemmArray(pipelined=True)`, for a high clock): each PE multiplies
# its registered operands and registers the product (+2 cycles), the column's BFP->FP stage
# has COLUMN_ROUND_LATENCY register stages and its float adder COLUMN_ADD_LATENCY; the column
# reads a row's accumulator entry one cycle before the adder and writes the sum back
# COLUMN_ADD_LATENCY cycles after, so consecutive readouts of one row must be at least
# COLUMN_ADD_LATENCY + 2 cycles apart (`GemmTiming.q`).
COLUMN_ROUND_LATENCY = 5
COLUMN_ADD_LATENCY = 7
# ... and the feeds' FloatToBfp has FEED_LATENCY register stages (hdl/gemm_feed.py
# FEED_CUTS): lane l's block is copied L+l, so up to lanes-1 of them hide behind the skew;
# beyond that a feed is full later, so the first launch and every slot are >= FEED_LATENCY + 1.
FEED_LATENCY = 4


def gemm_acc_width(m: int, T: int) -> int:
    """Signed width holding any exact tile dot product: |P| <= T*(2^(m-1)-1)^2."""
    kmax = (1 << (m - 1)) - 1
    return (T * kmax * kmax).bit_length() + 1


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
    pipelined: bool = False

    @property
    def q(self) -> int:
        """The shortest launch slot: max(R, C) (R readouts per column, C columns reading a row
        side register), and for the pipelined array at least the column's read-to-reuse
        distance of an accumulator entry (COLUMN_ADD_LATENCY + 2) and the feeds' converter
        latency + 1; a pipelined feed acts on a launch one cycle late and takes no block in
        that cycle, so there two more."""
        if not self.pipelined:
            return max(self.rows, self.cols)
        feed = max(self.rows, self.cols, FEED_LATENCY + 1) + 2
        return max(feed, COLUMN_ADD_LATENCY + 2)

    @property
    def push_delay(self) -> int:
        """Cycles from a final launch L (length n) to the FIFO push of row 0, minus n + C."""
        if not self.pipelined:
            return PUSH_DELAY
        # + the launch register, the PEs' operand and product registers
        return PUSH_DELAY + 3 + COLUMN_ROUND_LATENCY + COLUMN_ADD_LATENCY

    @property
    def out_delay(self) -> int:
        """As `push_delay`, to row 0's `c` beat (2 more cycles through the output FIFO)."""
        return self.push_delay + OUT_DELAY - PUSH_DELAY

    @property
    def period(self) -> int:
        """Cycles between the launches of a full K-tile and the next K-tile."""
        return max(self.T, self.q)

    @property
    def first_launch(self) -> int:
        """R (C) blocks load one per cycle; a pipelined feed is full FEED_LATENCY + 1 cycles
        after its first block at the earliest."""
        feed = FEED_LATENCY + 1 if self.pipelined else 0
        return max(self.rows, self.cols, feed)

    def shape(self, k_tail: int = 0) -> tuple[int, int]:
        """(length, slot) of a final K-tile with `k_tail` useful elements: it shifts `length` =
        min(T, max(t, R, C)) elements into the array (t = tail_length(T, k_tail)) and the next
        launch may follow `slot` = max(length, R, C) cycles later. (T, period) for a full tile."""
        q = self.q
        length = min(self.T, max(tail_length(self.T, k_tail), q))
        return length, max(length, q)

    def drain_after(self, length: int) -> int:
        """Cycles from a final launch of `length` to the end of its output tile's last `c` beat."""
        return length + self.cols + self.rows + self.out_delay

    @property
    def drain(self) -> int:
        """`drain_after` a full K-tile: T + C + R + 6 (+ the pipelined column's stages)."""
        return self.drain_after(self.T)

    def cycles(self, k_tiles: list[int], k_tails: list[int] | None = None) -> int:
        """Cycles from the first input beat to the last `c` beat (inclusive) for output tiles
        with the given K-tile counts (and `k_tail` inputs, default 0), streams always valid
        and ready."""
        launches = launch_schedule(self, k_tiles, k_tails)
        last_tail = k_tails[-1] if k_tails else 0
        return launches[-1] + self.drain_after(self.shape(last_tail)[0])

    def closed_form(self, launches: int) -> int:
        """max(R, C) + (n-1)·P + T + C + R + 6: `cycles` for full K-tiles when no credit
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
    output tile whose final launch was f with length n is popped at f+n+C+6+i."""
    R, C, P = timing.rows, timing.cols, timing.period
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
                pops += [t + length + C + timing.out_delay + i for i in range(R)]
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
    pipelined: bool = False,
) -> dict:
    """Cycle model of one M x N x K product (host protocol, streams always valid/ready,
    `k_tail` = K mod T unless `use_tail` is False): cycles, useful MACs M·N·K, utilization
    = MACs / (R·C·cycles), K-tile launches, `busy` (the sum of launch slots) and the cycles
    outside the steady state (fill + drain + credit stalls = cycles - busy)."""
    depth = 2 * rows if out_depth is None else out_depth
    timing = GemmTiming(rows, cols, T, depth, pipelined)
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
