"""Left shifts that normalise a sum no further than a run-time cap (FpAdd, hdl/fpadd.py):
(mag << L, L) for L = min(leading zeros of mag, cap), as a LUT multiplexer tree
(`normalize_capped`) or as a product with a one-hot 2^L in DSP blocks
(`normalize_capped_dsp`). Both take optional pipeline cuts (hdl/pipeline.py `cut`) that
register their partial state together with the caller's `carry` values. Also a right shift
with sticky whose low bits are a DSP product (`shift_right_sticky_dsp`, FpAdd's `align_dsp`)."""

from __future__ import annotations

from amaranth.hdl import Cat, Const, Module, Mux, Signal

from .pipeline import cut
from .rounding import shift_right_sticky

__all__ = [
    "normalize_capped",
    "normalize_capped_dsp",
    "dsp_product",
    "dsp_left_shift",
    "leading_zeros",
    "shift_right_sticky_dsp",
]

DSP_A_BITS = 26  # unsigned bits of a DSP48E2 multiplier's wide (27-bit signed) input
DSP_B_BITS = 17  # unsigned bits of a DSP48E2 multiplier's narrow (18-bit signed) input
DSP_FINE_BITS = 4  # shift bits a one-hot of at most DSP_B_BITS positions covers


def dsp_product(m: Module, value, onehot, name: str):
    """value * onehot for a one-hot (or zero) `onehot`: one DSP48 product (26 x 17 unsigned)
    per 17 bits of the one-hot; only one of them is nonzero, so they combine with an OR."""
    product = Const(0, len(value) + len(onehot))
    for c, lo in enumerate(range(0, len(onehot), DSP_B_BITS)):
        chunk = onehot[lo : lo + DSP_B_BITS]
        part = Signal(len(value) + len(chunk), name=f"{name}_p{c}")
        m.d.comb += part.eq(value * chunk)
        product = product | (part << lo)
    return product


def normalize_capped(
    m: Module,
    mag,
    cap,
    cuts: dict | None = None,
    carry: dict | None = None,
    *,
    cap_by_equality: bool = False,
):
    """(mag << L, L, carry) for L = min(leading zeros of mag, cap), in LUTs: bit k of L is set
    when the top 2^k bits are zero and the shift so far plus 2^k stays within `cap` (greedy
    from the widest stage). `cuts` {k: stage name}: a register stage in front of stage k,
    holding the partial shift, the shift bits so far, `cap` and the `carry` values (returned
    as they come out of the last cut).

    The shift so far (sf, a multiple of 2^(k+1)) never exceeds cap, so sf + 2^k <= cap iff
    cap[k] is set or sf's bits differ from cap[k+1:]: `cap_by_equality` tests that (no carry
    chain, for a pipelined adder) instead of the comparison (the combinational adder's)."""
    W = len(mag)
    cur, bits, carry = mag, [], dict(carry or {})
    for k in reversed(range(len(cap))):
        if cuts and k in cuts:
            held = {"cur": cur, "cap": cap, **{f"b{j}": b for j, b in enumerate(bits)}}
            staged = cut(m, True, cuts[k], {**held, **carry})
            cur, cap = staged["cur"], staged["cap"]
            bits = [staged[f"b{j}"] for j in range(len(bits))]
            carry = {name: staged[name] for name in carry}
        s = 1 << k
        if cap_by_equality:
            room = cap[k] | (Cat(*reversed(bits)) != cap[k + 1 :]) if bits else cap[k:].any()
        else:
            above = Cat(Const(0, 1), *reversed(bits))  # (shift so far) >> k
            room = above + 1 <= cap[k:]
        step = Signal(name=f"norm_b{k}")
        m.d.comb += step.eq((cur[W - s :] == 0) & room)
        nxt = Signal(W, name=f"norm_s{k}")
        m.d.comb += nxt.eq(Mux(step, cur << s, cur))
        bits.append(step)
        cur = nxt
    return cur, Cat(*reversed(bits)), carry


def normalize_capped_dsp(
    m: Module,
    mag,
    cap,
    cut_name: str | None = None,
    product_cut: str | None = None,
    carry: dict | None = None,
):
    """(mag << L, L, carry) for L = min(leading zeros of mag, cap) as a DSP product.

    Bit-reversed, mag's leading one is the lowest set bit, which r & -r isolates on a
    carry chain; a one at `cap` stops it there. That one-hot is 2^L: the product with
    mag's low W - 1 bits (mag's top bit is set only when L = 0) in DSP48 pieces.
    `cut_name`: a register stage between the one-hot and the product; `product_cut`: one
    after the product (each with the `carry` values)."""
    W = len(mag)
    carry = dict(carry or {})
    rev = Signal(W, name="norm_rev")
    m.d.comb += rev.eq(Cat(*reversed(list(mag))) | (Const(1, W) << cap))
    onehot = Signal(W, name="norm_onehot")
    m.d.comb += onehot.eq(rev & -rev)
    shift = Signal(cap.shape(), name="norm_shift")
    m.d.comb += shift.eq(
        Cat(*(Cat(*(onehot[j] for j in range(W) if j >> b & 1)).any() for b in range(len(cap))))
    )
    if cut_name is not None:
        staged = cut(m, True, cut_name, {"mag": mag, "onehot": onehot, "shift": shift, **carry})
        mag, onehot, shift = staged["mag"], staged["onehot"], staged["shift"]
        carry = {name: staged[name] for name in carry}
    low = mag[: W - 1]
    product = dsp_product(m, low, onehot, "norm")
    top = mag[W - 1]
    if product_cut is not None:
        values = {"product": product[:W], "top": top, "shift": shift, **carry}
        staged = cut(m, True, product_cut, values)
        product, top, shift = staged["product"], staged["top"], staged["shift"]
        carry = {name: staged[name] for name in carry}
    out = Signal(W, name="norm_out")
    m.d.comb += out.eq(product[:W] | (top << (W - 1)))
    return out, shift, carry


def shift_right_sticky_dsp(m: Module, value, amount, name: str):
    """(value >> amount, OR of the bits shifted out), as `shift_right_sticky` gives it, for a
    `value` of at most DSP_A_BITS bits: the low DSP_FINE_BITS bits of `amount` as one DSP
    product value * 2^(15 - amount[:4]) (the bits below 2^15 are the ones shifted out), the
    rest as shift_right_sticky's LUT stages (a shift by 16, everything beyond)."""
    W, top = len(value), (1 << DSP_FINE_BITS) - 1
    fine = amount[:DSP_FINE_BITS]
    onehot = Signal(top + 1, name=f"{name}_onehot")
    m.d.comb += onehot.eq(Cat(*(fine == top - i for i in range(top + 1))))
    product = Signal(W + top + 1, name=f"{name}_product")
    m.d.comb += product.eq(value * onehot)
    coarse = Cat(Const(0, DSP_FINE_BITS), amount[DSP_FINE_BITS:])
    shifted, sticky = shift_right_sticky(m, product[top:], coarse, name)
    return shifted, sticky | (product[:top] != 0)


def leading_zeros(m: Module, value, name: str = "lz") -> Signal:
    """Leading zeros of a nonzero `value` (zero gives len(value) - 1): a priority encoder,
    no shifting (mapped smaller than a normaliser's zero-test stages when nothing needs the
    shifted value)."""
    W = len(value)
    count = Const(W - 1, range(W))
    for i in reversed(range(W - 1)):
        count = Mux(value[W - 1 - i], i, count)
    lz = Signal(range(W), name=name)
    m.d.comb += lz.eq(count)
    return lz


def dsp_left_shift(m: Module, value, shift, width: int, low: int, name: str):
    """((value << shift)[low:width], OR of (value << shift)[:low]): the shift's low 4 bits as
    a product with a one-hot in one DSP block, its multiples of 16 as a choice between the
    product's windows (and of the product's bits below `low` for the OR)."""
    fine = Signal(16, name=f"{name}_fine")
    m.d.comb += fine.eq(Cat(*(shift[:4] == i for i in range(16))))
    product = Signal(len(value) + 16, name=f"{name}_product")
    m.d.comb += product.eq(value * fine)
    out = Signal(width - low, name=f"{name}_shifted")
    below = Signal(name=f"{name}_below")
    with m.Switch(shift[4:]):
        for k in range((width - 1 >> 4) + 1):
            with m.Case(k):
                window = Cat(Const(0, 16 * k), product)
                m.d.comb += [out.eq(window[low:width]), below.eq(window[:low] != 0)]
    return out, below
