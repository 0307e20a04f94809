"""The shared exponent of a FloatToBfp block and each element's distance to it
(hdl/convert_bfp.py).

* `max_levels`      a balanced tree of comparisons (the pipelined converter: a register fits
                    between its levels);
* `bitwise_max`     the combinational converter's maximum, MSB first: bit b of the maximum is
                    the OR of bit b over the elements still tied with it on the bits above;
* `shift_amounts`   E - e saturated to the shifts that matter, from the ties `bitwise_max`
                    leaves after the high bits.

Area (fp32 blocks of 24 -> BFP8 on xcup, as the GEMM feeds build it: 1,697 LUTs with the
comparator tree and a full subtractor per element, 1,364 with these and the lanes of
convert_bfp.py): the bitwise maximum excludes specials by starting them untied (no
per-element multiplexer to a small exponent), and its ties on the high exponent bits give
each element most of "E - e < 2^n" for free, so the distance needs no full subtractor.
"""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal

__all__ = ["bitwise_max", "max_levels", "shift_amounts", "shift_low_bits"]


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


def bitwise_max(m: Module, values: list, excluded: list, tie_bit: int, name: str):
    """(maximum of the `values` whose `excluded` flag is clear, 0 when all are excluded;
    per value: not excluded and equal to the maximum on bits tie_bit and above).

    MSB first: bit b of the maximum is set when a value still tied on the bits above has
    it set, and a value without it then drops out. Per bit one wide OR and one gate per
    value, instead of a comparator and a multiplexer per pair."""
    width = len(values[0])
    tied = [~x for x in excluded]
    bits, ties = [], tied
    for b in reversed(range(width)):
        top = Signal(name=f"{name}_bit{b}")
        m.d.comb += top.eq(Cat(*(t & v[b] for t, v in zip(tied, values))).any())
        bits.append(top)
        nxt = []
        for i, (t, v) in enumerate(zip(tied, values)):
            s = Signal(name=f"{name}_tie{b}_{i}")
            m.d.comb += s.eq(t & (v[b] | ~top))
            nxt.append(s)
        tied = nxt
        if b == tie_bit:
            ties = tied
    return Cat(*reversed(bits)), ties


def shift_low_bits(window: int) -> int:
    """n such that shifts 0..2^n - 1 keep something of a `window`-bit value and every
    larger shift empties it (2^n >= window)."""
    return max(1, (window - 1).bit_length())


def shift_amounts(m: Module, e_max, values: list, ties: list, n: int, name: str) -> list:
    """Per value e: Cat(d mod 2^n, d >= 2^n) for d = e_max - e >= 0, where its `ties` flag
    says e and e_max agree on bits n and above: d < 2^n then, or when e's high bits are one
    less than e_max's and its low bits borrow. Meant for a RoundShift whose window is at
    most 2^n bits: the flag stands for "shift everything out"."""
    below = Signal(len(e_max) - n, name=f"{name}_hi_minus_1")  # shared by all values
    m.d.comb += below.eq(e_max[n:] - 1)
    amounts = []
    for i, (e, tie) in enumerate(zip(values, ties)):
        low, borrow = [], Const(0, 1)
        for j in range(n):  # a ripple borrow on n bits: plain gates, no carry chain
            diff = e_max[j] ^ e[j]
            low.append(diff ^ borrow)
            borrow = (~e_max[j] & e[j]) | (~diff & borrow)
        near = Signal(name=f"{name}{i}_near")
        m.d.comb += near.eq(tie | ((e[n:] == below) & borrow))
        amount = Signal(n + 1, name=f"{name}{i}")
        m.d.comb += amount.eq(Cat(*low, ~near))
        amounts.append(amount)
    return amounts
