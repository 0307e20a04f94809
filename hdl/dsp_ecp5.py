"""ECP5 sysDSP: one MULT18X18D with its own input registers, instantiated.

Yosys maps a `*` to a combinational MULT18X18D, so a product between fabric registers pays
the multiplier's delay plus the routes into and out of the DSP. With the DSP's input
registers on (REG_INPUTA_CLK/REG_INPUTB_CLK = "CLK0", no pipeline or output register),
nextpnr-ecp5 times the path input registers -> multiplier -> fabric register, which clears
about 200 MHz where the fabric-register version stops near 147 MHz
(benchmarks/ecp5_dsp_registers.py, docs/results/timing.md "HBFP"). The mode with input
*and* output registers is not used: nextpnr does not time the multiplier between them.

`registered_product(..., primitive=True)` emits the instance (for ECP5 synthesis and for the
cocotb benches, which add lpmac's Verilog model sim/models/mult18x18d.v);
`primitive=False` builds the same cycle behaviour from registers and `*` for Amaranth's
simulator. Both reset their input registers with the sync domain's reset (RST0, synchronous),
like the fabric registers around them.
"""

from __future__ import annotations

from amaranth.hdl import ClockSignal, Const, Instance, Module, ResetSignal, Signal, signed

from .multiply import DSP_MAX_OPERAND

__all__ = ["ECP5_DSP_WIDTH", "registered_product"]

# MULT18X18D multiplies two 18-bit operands, each signed or unsigned, into a 36-bit product.
ECP5_DSP_WIDTH = 18


def _check_width(value, signed_ops: bool, what: str) -> None:
    limit = ECP5_DSP_WIDTH if signed_ops else DSP_MAX_OPERAND
    kind = "signed" if signed_ops else "unsigned"
    if len(value) > limit:
        raise ValueError(
            f"MULT18X18D operand {what} has {len(value)} bits; at most {limit} {kind} bits fit"
        )


def registered_product(
    m: Module, a, b, *, signed_ops: bool = False, primitive: bool = True, name: str = "dsp"
) -> Signal:
    """a*b one cycle later (sync domain): `a` and `b` pass the DSP's input registers, the
    multiplier is combinational after them. Unsigned operands of <= 17 bits or signed ones of
    <= 18 (ValueError otherwise); the result has len(a) + len(b) bits, signed if signed_ops."""
    _check_width(a, signed_ops, "a")
    _check_width(b, signed_ops, "b")
    width = len(a) + len(b)
    product = Signal(signed(width) if signed_ops else width, name=f"{name}_p")
    if not primitive:
        a_reg = Signal(a.shape() if signed_ops else len(a), name=f"{name}_a")
        b_reg = Signal(b.shape() if signed_ops else len(b), name=f"{name}_b")
        m.d.sync += [a_reg.eq(a), b_reg.eq(b)]
        if signed_ops:
            m.d.comb += product.eq(a_reg.as_signed() * b_reg.as_signed())
        else:
            m.d.comb += product.eq(a_reg * b_reg)
        return product
    a_ext = Signal(ECP5_DSP_WIDTH, name=f"{name}_ax")
    b_ext = Signal(ECP5_DSP_WIDTH, name=f"{name}_bx")
    p_full = Signal(2 * ECP5_DSP_WIDTH, name=f"{name}_px")
    # Sign- or zero-extension to the DSP's 18 bits, as the product of the extended operands
    # equals the product of the narrow ones.
    extend = (lambda v: v.as_signed()) if signed_ops else (lambda v: v.as_unsigned())
    m.d.comb += [a_ext.eq(extend(a)), b_ext.eq(extend(b)), product.eq(p_full[:width])]
    sign = Const(int(signed_ops), 1)
    ports = {f"i_A{i}": a_ext[i] for i in range(ECP5_DSP_WIDTH)}
    ports |= {f"i_B{i}": b_ext[i] for i in range(ECP5_DSP_WIDTH)}
    ports |= {f"i_C{i}": Const(0, 1) for i in range(ECP5_DSP_WIDTH)}
    ports |= {f"o_P{i}": p_full[i] for i in range(2 * ECP5_DSP_WIDTH)}
    ports |= {"i_SIGNEDA": sign, "i_SIGNEDB": sign, "i_SOURCEA": Const(0, 1)}
    ports |= {"i_SOURCEB": Const(0, 1), "i_CLK0": ClockSignal()}
    ports |= {f"i_CE{i}": Const(int(i == 0), 1) for i in range(4)}
    # RST0 is the domain's reset (RESETMODE "SYNC"): the input registers clear with the
    # fabric ones, so a unit behaves after a reset exactly as its all-fabric twin
    ports |= {f"i_RST{i}": ResetSignal() if i == 0 else Const(0, 1) for i in range(4)}
    ports |= {f"i_CLK{i}": Const(0, 1) for i in (1, 2, 3)}
    m.submodules[f"{name}_mult"] = Instance(
        "MULT18X18D",
        p_REG_INPUTA_CLK="CLK0",
        p_REG_INPUTB_CLK="CLK0",
        p_REG_PIPELINE_CLK="NONE",
        p_REG_OUTPUT_CLK="NONE",
        p_GSR="DISABLED",
        p_RESETMODE="SYNC",
        **ports,
    )
    return product
