"""Host side of the systolic BFP GEMM (hdl/gemm.py): block streams for a list of products,
result reassembly, and the valid/ready schedule that sim/cocotb_gemm.py (simulator side)
plays against the generated Verilog.

`host_streams` lays products out as hdl/gemm.py's host protocol requires (pad K to T, M to R,
N to C; output tiles row-major; per K-tile R A blocks and C B blocks). `Handshakes` decides
the pseudo-random valid/ready gaps cycle by cycle; the same schedule drives the Amaranth
simulation in tests/test_hdl_gemm.py.

"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

U64 = np.uint64


@dataclass
class HostStreams:
    a_blocks: np.ndarray  # (nA, T) A blocks in stream order
    a_ktiles: np.ndarray  # (nA,) k_tiles to drive with each A block
    a_ktails: np.ndarray  # (nA,) k_tail (K mod T) to drive with each A block
    b_blocks: np.ndarray  # (nB, T)
    tiles: list  # (job, p, q) per output tile, in order
    beats: int  # c beats expected (R per output tile)


def host_streams(jobs, R: int, C: int, T: int) -> HostStreams:
    """Streams for products `jobs` = [(A bits (M x K), B bits (K x N)), ...] back to back."""
    a_blocks, a_kt, a_tail, b_blocks, tiles = [], [], [], [], []
    for n, (a, b) in enumerate(jobs):
        a, b = np.asarray(a, U64), np.asarray(b, U64)
        M, K = a.shape
        N = b.shape[1]
        nk = max(1, -(-K // T))
        P, Q = max(1, -(-M // R)), max(1, -(-N // C))
        ap = np.zeros((P * R, nk * T), U64)
        ap[:M, :K] = a
        bp = np.zeros((nk * T, Q * C), U64)
        bp[:K, :N] = b
        for p in range(P):
            for q in range(Q):
                tiles.append((n, p, q))
                for t in range(nk):
                    for i in range(R):
                        a_blocks.append(ap[p * R + i, t * T : (t + 1) * T])
                        a_kt.append(nk)
                        a_tail.append(K % T)
                    for j in range(C):
                        b_blocks.append(bp[t * T : (t + 1) * T, q * C + j])
    return HostStreams(
        np.array(a_blocks, U64).reshape(-1, T),
        np.array(a_kt, np.int64),
        np.array(a_tail, np.int64),
        np.array(b_blocks, U64).reshape(-1, T),
        tiles,
        R * len(tiles),
    )


def assemble(c_rows: np.ndarray, jobs, streams: HostStreams, R: int, C: int) -> list:
    """`c` beats (beats, C) -> one C matrix (M x N) per job."""
    outs = []
    for a, b in jobs:
        M, N = np.shape(a)[0], np.shape(b)[1]
        P, Q = max(1, -(-M // R)), max(1, -(-N // C))
        outs.append(np.zeros((P * R, Q * C), U64))
    for u, (n, p, q) in enumerate(streams.tiles):
        outs[n][p * R : (p + 1) * R, q * C : (q + 1) * C] = c_rows[u * R : (u + 1) * R]
    return [o[: np.shape(a)[0], : np.shape(b)[1]] for o, (a, b) in zip(outs, jobs)]


def pack(values, width: int) -> int:
    """Array elements (element 0 in the LSBs) -> one integer."""
    out = 0
    for k, v in enumerate(values):
        out |= int(v) << (k * width)
    return out


def unpack(value: int, width: int, count: int) -> list[int]:
    mask = (1 << width) - 1
    return [(value >> (k * width)) & mask for k in range(count)]


class Handshakes:
    """Per-cycle valid/ready choices of the host: `valid_a/valid_b` offer the next block with
    probabilities pa/pb (while blocks remain), `ready_c` with probability pc."""

    def __init__(
        self, streams: HostStreams, pa: float = 1.0, pb: float = 1.0, pc: float = 1.0, seed: int = 0
    ):
        self.s, self.pa, self.pb, self.pc = streams, pa, pb, pc
        self.rng = np.random.default_rng(seed)
        self.ia = self.ib = 0
        self.rows: list[int] = []
        self.cycle = 0
        self.first_in = None  # cycle of the first a or b beat
        self.c_cycles: list[int] = []

    def inputs(self) -> dict:
        """The inputs of this cycle: {name: int}."""
        s, r = self.s, self.rng.random(3)
        va = self.ia < len(s.a_blocks) and r[0] < self.pa
        vb = self.ib < len(s.b_blocks) and r[1] < self.pb
        ia, ib = min(self.ia, len(s.a_blocks) - 1), min(self.ib, len(s.b_blocks) - 1)
        self._va, self._vb = va, vb
        return {
            "a_valid": int(va),
            "a_payload": s.a_blocks[ia],
            "k_tiles": int(s.a_ktiles[ia]),
            "k_tail": int(s.a_ktails[ia]),
            "b_valid": int(vb),
            "b_payload": s.b_blocks[ib],
            "c_ready": int(r[2] < self.pc),
        }

    def edge(self, a_ready: int, b_ready: int, c_valid: int, c_ready: int, c_payload) -> None:
        """Account for the handshakes of this cycle (values sampled before the clock edge)."""
        if self._va and a_ready:
            self.ia += 1
        if self._vb and b_ready:
            self.ib += 1
        if self.first_in is None and ((self._va and a_ready) or (self._vb and b_ready)):
            self.first_in = self.cycle
        if c_valid and c_ready:
            self.rows.append(c_payload)
            self.c_cycles.append(self.cycle)
        self.cycle += 1

    @property
    def done(self) -> bool:
        return len(self.rows) >= self.s.beats
