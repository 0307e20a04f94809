"""UltraScale+ DSP48E2 as a multiply-accumulator, instantiated.

Yosys 0.70 maps a `*` to a DSP48E2 on xcup but leaves an accumulator `acc <= acc + a*b` in
LUTs and a carry chain (its DSP packing pass handles DSP48E1, not DSP48E2: `acc <= acc + a*b`
is one DSP48E1 and no LUT for xc7, one DSP48E2 and a LUT per accumulator bit for xcup).
Vivado puts such an accumulator into the DSP's post-adder and P register. The HBFP array's PEs
are exactly that (`acc <= (restart ? 0 : acc) + a*b`), so `--xcup-dsp` instantiates the
DSP48E2 in the mode Vivado would infer:

* X and Y select the multiplier M = A * B (A 27-bit, B 18-bit, both signed; ALUMODE 0000:
  P = Z + X + Y), Z selects P (accumulate) or 0 (restart), W is 0: OPMODE 0x025 or 0x005,
  not registered (OPMODEREG 0); the restart flag drives OPMODE[5] through the DSP's own
  inverter (IS_OPMODE_INVERTED 0x020), so the fabric spends no LUT on it;
* `registered=False`: A, B and M are not registered (AREG = BREG = MREG = 0), P is (PREG 1):
  `acc` is a register holding `(restart ? 0 : acc) + a*b` of the previous cycle;
* `registered=True`: A and B pass the DSP's input registers and M its product register
  (AREG = BREG = MREG = 1), so `restart` applies to the product of the inputs two cycles
  earlier (the pipelined PE's timing);
* every register clears with the sync domain's reset (RSTA/RSTB/RSTM/RSTP, synchronous),
  like the fabric registers it replaces.

`primitive=False` builds the same cycle behaviour from registers, `*` and `+` for Amaranth's
simulator; the cocotb benches simulate the instance with lpmac's model sim/models/dsp48e2.v.
"""

from __future__ import annotations

from amaranth.hdl import ClockSignal, Const, Instance, Module, Mux, ResetSignal, Signal, signed

__all__ = [
    "DSP48E2_A_WIDTH",
    "DSP48E2_B_WIDTH",
    "DSP48E2_P_WIDTH",
    "accumulate_product",
    "check_dsp48e2_mac",
]

DSP48E2_A_WIDTH = 27  # the multiplier's A operand (the A port has 30 bits)
DSP48E2_B_WIDTH = 18
DSP48E2_P_WIDTH = 48

OPMODE_ACCUMULATE = 0b00_010_01_01  # W = 0, Z = P, Y = M, X = M
OPMODE_RESTART = 0b00_000_01_01  # W = 0, Z = 0, Y = M, X = M
# The two differ in OPMODE[5] only, which is high to accumulate: the pin is inverted inside
# the DSP (IS_OPMODE_INVERTED), so `restart` drives it directly, with no inverter LUT.
RESTART_BIT = 5
assert OPMODE_ACCUMULATE ^ OPMODE_RESTART == 1 << RESTART_BIT


def check_dsp48e2_mac(a_bits: int, b_bits: int, acc_width: int) -> None:
    """ValueError unless signed operands of a_bits and b_bits and an acc_width-bit accumulator
    fit one DSP48E2 (27 x 18 bits, 48-bit P)."""
    for what, bits, limit in (("a", a_bits, DSP48E2_A_WIDTH), ("b", b_bits, DSP48E2_B_WIDTH)):
        if bits > limit:
            raise ValueError(
                f"DSP48E2 operand {what} has {bits} bits; at most {limit} signed bits fit"
            )
    if not 1 <= acc_width <= DSP48E2_P_WIDTH:
        raise ValueError(
            f"a {acc_width}-bit accumulator does not fit the DSP48E2's 48-bit P register"
        )


def accumulate_product(
    m: Module,
    a,
    b,
    restart,
    *,
    acc_width: int,
    registered: bool = False,
    primitive: bool = True,
    name: str = "dsp",
) -> Signal:
    """The DSP's P register, low `acc_width` bits, signed: `(restart ? 0 : P) + a*b` (signed
    a, b), with a, b through the DSP's input and product registers when `registered` (see the
    module docstring). ValueError for operands wider than 27 / 18 bits or acc_width > 48."""
    check_dsp48e2_mac(len(a), len(b), acc_width)
    acc = Signal(signed(acc_width), name=f"{name}_acc")
    if not primitive:
        if registered:
            a_reg = Signal(signed(len(a)), name=f"{name}_a")
            b_reg = Signal(signed(len(b)), name=f"{name}_b")
            product = Signal(signed(len(a) + len(b)), name=f"{name}_m")
            m.d.sync += [
                a_reg.eq(a.as_signed()),
                b_reg.eq(b.as_signed()),
                product.eq(a_reg * b_reg),
            ]
        else:
            product = a.as_signed() * b.as_signed()
        m.d.sync += acc.eq(Mux(restart, 0, acc) + product)
        return acc
    a_ext = Signal(30, name=f"{name}_ax")
    b_ext = Signal(DSP48E2_B_WIDTH, name=f"{name}_bx")
    opmode = Signal(9, name=f"{name}_opmode")
    p_full = Signal(DSP48E2_P_WIDTH, name=f"{name}_p")
    m.d.comb += [
        a_ext.eq(a.as_signed()),
        b_ext.eq(b.as_signed()),
        opmode.eq(OPMODE_RESTART | (restart << RESTART_BIT)),
        # P modulo 2^acc_width is the acc_width-bit accumulator's value
        acc.eq(p_full[:acc_width]),
    ]
    reg = int(registered)
    params = dict(AREG=reg, BREG=reg, ACASCREG=reg, BCASCREG=reg, MREG=reg, PREG=1)
    params |= dict(CREG=0, DREG=0, ADREG=0, OPMODEREG=0, ALUMODEREG=0, INMODEREG=0)
    params |= dict(CARRYINREG=0, CARRYINSELREG=0)
    params |= dict(USE_MULT="MULTIPLY", USE_SIMD="ONE48", AMULTSEL="A", BMULTSEL="B")
    params |= dict(A_INPUT="DIRECT", B_INPUT="DIRECT", PREADDINSEL="A")
    params |= dict(USE_PATTERN_DETECT="NO_PATDET", IS_OPMODE_INVERTED=Const(1 << RESTART_BIT, 9))
    reset, one, zero = ResetSignal(), Const(1, 1), Const(0, 1)
    ports = dict(i_A=a_ext, i_B=b_ext, i_OPMODE=opmode, i_CLK=ClockSignal(), o_P=p_full)
    ports |= dict(i_ALUMODE=Const(0, 4), i_INMODE=Const(0, 5), i_CARRYINSEL=Const(0, 3))
    ports |= dict(i_C=Const(0, 48), i_D=Const(0, 27), i_ACIN=Const(0, 30), i_BCIN=Const(0, 18))
    ports |= dict(i_PCIN=Const(0, 48), i_CARRYIN=zero, i_CARRYCASCIN=zero, i_MULTSIGNIN=zero)
    ports |= {f"i_CE{r}": one for r in ("A2", "B2", "M", "P")}
    ports |= {f"i_CE{r}": zero for r in ("A1", "B1", "AD", "ALUMODE", "C", "CARRYIN")}
    ports |= {f"i_CE{r}": zero for r in ("CTRL", "D", "INMODE")}
    ports |= {f"i_RST{r}": reset for r in ("A", "B", "M", "P")}
    ports |= {f"i_RST{r}": zero for r in ("ALLCARRYIN", "ALUMODE", "C", "CTRL", "D", "INMODE")}
    m.submodules[f"{name}_dsp"] = Instance(
        "DSP48E2", **{f"p_{k}": v for k, v in params.items()}, **ports
    )
    return acc
