"""The shared exponent of a FloatToBfp block and each element's distance to it
(hdl/convert_bfp.py).

* `max_levels`           a balanced tree of comparisons, level by level (the pipelined
                         converter puts a register between its halves);
* `max_of_included`      the largest value whose `excluded` flag is clear: the flag rides
                         inverted above the MSB, so no per-element multiplexer forces an
                         excluded value down (specials take no part in E; 1,518 -> 1,369
                         LUTs for the block below);
* `saturated_distance`   E - e as the shifts a RoundShift window can tell apart: d mod 2^n
                         and whether d reaches 2^n (everything shifted out);
* `align_saturated`      the element's alignment shift by such a distance, with its sticky.

Measured for fp32 blocks of 24 -> BFP8 on xcup (as the GEMM feeds build the converter; Yosys
0.70 synth_xilinx): an MSB-first bitwise maximum whose ties on the high exponent bits replace
most of the subtractor came to the same LUTs for that block (1,364 against 1,369) and to more
for fp32 blocks of 32 (1,969 against 1,835) and fp16 blocks of 24 (1,155 against 1,099), so
the tree stays.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal

__all__ = [
    "align_saturated",
    "max_levels",
    "max_of_included",
    "saturated_distance",
    "shift_low_bits",
]


def max_levels(m: Module, values: list, name: str, level: int, levels: int) -> list:
    """`levels` levels (from level `level` on) of a balanced tree of comparisons of
    `values` (unsigned, equal widths): the partial maxima."""
    while len(values) > 1 and levels > 0:
        nxt = []
        for i in range(0, len(values) - 1, 2):
            s = Signal(len(values[i]), name=f"{name}_{level}_{i // 2}")
            m.d.comb += s.eq(Mux(values[i] >= values[i + 1], values[i], values[i + 1]))
            nxt.append(s)
        if len(values) % 2:
            nxt.append(values[-1])
        values, level, levels = nxt, level + 1, levels - 1
    return values


def max_of_included(m: Module, values: list, excluded: list, name: str):
    """(largest of the `values` whose `excluded` flag is clear, whether there is one); the
    first is unspecified when every value is excluded."""
    keys = [Cat(v, ~x) for v, x in zip(values, excluded)]
    top = max_levels(m, keys, name, 0, len(keys))[0]
    return top[:-1], top[-1]


def shift_low_bits(window: int) -> int:
    """n such that shifts 0..2^n - 1 keep something of a `window`-bit value and every
    larger shift empties it (2^n >= window)."""
    return max(1, (window - 1).bit_length())


def saturated_distance(m: Module, e_max, e, n: int, name: str):
    """Cat(d mod 2^n, d >= 2^n) for d = e_max - e >= 0 (n below the width of e)."""
    d = Signal(len(e_max), name=f"{name}_full")
    m.d.comb += d.eq(e_max - e)
    out = Signal(n + 1, name=name)
    m.d.comb += out.eq(Cat(d[:n], d[n:] != 0))
    return out


def align_saturated(m: Module, hi, lo, amount, n: int, name: str):
    """(hi >> d, lo | the bits it drops) for `amount` = Cat(d mod 2^n, d >= 2^n), 2^n at
    least the width of `hi`. A shift by 2^n or more zeroes the window and the kept bits, so
    no mode rounds up and its dropped bits need not reach the sticky (one wide OR per lane
    saved). Largest stage first: 1,369 LUTs for fp32 BFP8/24 on xcup, 1,480 with
    shift_right_sticky's smallest first."""
    cur, sticky = hi, lo
    for k in reversed(range(n)):
        s = 1 << k
        nxt = Signal(len(hi), name=f"{name}_s{k}")
        m.d.comb += nxt.eq(Mux(amount[k], cur >> s, cur))
        sticky = sticky | (amount[k] & (cur[:s] != 0))
        cur = nxt
    aligned = Signal(len(hi), name=name)
    m.d.comb += aligned.eq(Mux(amount[n], 0, cur))
    return aligned, sticky
