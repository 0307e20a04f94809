"""The xorshift32 generator of SPEC §6 in hardware, mirroring golden/xorshift.py."""

from __future__ import annotations

from amaranth.hdl import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out


def xorshift32_next(x):
    """One step as a combinational expression on a 32-bit value."""
    x = (x ^ (x << 13))[:32]
    x = x ^ (x >> 17)
    return (x ^ (x << 5))[:32]


class XorShift32(wiring.Component):
    """A rounding unit's generator: `u` is the top `r` bits of the next state; the state
    advances to it on a cycle with `step` (one per rounding performed). Reset loads `seed`."""

    def __init__(self, seed: int, r: int):
        if not 1 <= seed <= 0xFFFFFFFF:
            raise ValueError(f"xorshift32 seed must be in 1..{0xFFFFFFFF}, got {seed}")
        self.seed, self.r = seed, r
        super().__init__({"step": In(1), "u": Out(r)})

    def elaborate(self, platform):
        m = Module()
        state = Signal(32, init=self.seed)
        nxt = Signal(32)
        m.d.comb += [nxt.eq(xorshift32_next(state)), self.u.eq(nxt[32 - self.r :])]
        with m.If(self.step):
            m.d.sync += state.eq(nxt)
        return m
