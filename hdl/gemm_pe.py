"""The multiply-accumulate core of the HBFP GEMM array (hdl/gemm.py): one processing element
per output, R x C of them in a systolic grid with a one-hot column readout."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .checked import CheckedComponent
from .dsp_ecp5 import registered_product
from .dsp_xcup import accumulate_product, check_dsp48e2_mac
from .multiply import multiply

__all__ = ["ProcessingElement", "SystolicArray"]


class ProcessingElement(CheckedComponent):
    """One MAC per cycle: `acc <- (last_out ? 0 : acc) + a_in*b_in` (exact, signed).

    `a_in`, `last_in` move on to `a_out`, `last_out` and `b_in` to `b_out` through registers.
    In the cycle with `last_out` set, `acc` holds the dot product of the K-tile that ended
    with the `last_in` element; `result` holds it in the next cycle and is +0 otherwise.

    `pipelined`: the multiplier reads the PE's own `a_out`/`b_out` registers (placed beside
    its DSP block, instead of a wire from the neighbour or the feed) and its product is
    registered before the addition, so everything on the accumulator side happens two cycles
    later: `acc` holds the dot product in the cycle with `finished` set (two cycles after
    `last_out`), `result` in the cycle after that. `a_out`, `b_out`, `last_out` keep their
    timing (the systolic flow). `ecp5_dsp` (pipelined only): the operand registers in front of
    the multiplier are an instantiated MULT18X18D's own input registers (hdl/dsp_ecp5.py;
    `dsp_primitive=False`: the same cycle behaviour from registers, for Amaranth's simulator).
    `xcup_dsp`: the multiplier, its operand and product registers (pipelined) and `acc` are an
    instantiated DSP48E2 with its post-adder accumulating (hdl/dsp_xcup.py; UltraScale+; same
    cycles; `dsp_primitive=False` as above)."""

    @staticmethod
    def check(
        m,
        acc_width,
        use_dsp=True,
        pipelined=False,
        ecp5_dsp=False,
        dsp_primitive=True,
        xcup_dsp=False,
    ):
        if ecp5_dsp and not (pipelined and use_dsp):
            raise ValueError(
                "ecp5_dsp (the PEs' MULT18X18D input registers) needs pipelined=True and "
                "use_dsp=True"
            )
        if xcup_dsp and not use_dsp:
            raise ValueError("xcup_dsp (the PEs' DSP48E2 accumulators) needs use_dsp=True")
        if xcup_dsp and ecp5_dsp:
            raise ValueError("the PEs take ecp5_dsp or xcup_dsp, not both")
        if xcup_dsp:
            check_dsp48e2_mac(m, m, acc_width)

    def __init__(
        self,
        m: int,
        acc_width: int,
        use_dsp: bool = True,
        pipelined: bool = False,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
        xcup_dsp: bool = False,
    ):
        self.m, self.acc_width, self.use_dsp, self.pipelined = m, acc_width, use_dsp, pipelined
        self.ecp5_dsp, self.dsp_primitive, self.xcup_dsp = ecp5_dsp, dsp_primitive, xcup_dsp
        extra = {"finished": Out(1)} if pipelined else {}
        super().__init__(
            {
                "a_in": In(signed(m)),
                "b_in": In(signed(m)),
                "last_in": In(1),
                "a_out": Out(signed(m)),
                "b_out": Out(signed(m)),
                "last_out": Out(1),
                "acc": Out(signed(acc_width)),
                "result": Out(signed(acc_width)),
                **extra,
            }
        )

    def elaborate(self, platform):
        m = Module()
        product = None if self.xcup_dsp else self._product(m)
        finished = self.last_out
        if self.pipelined:  # the product is two register stages later than a_in, b_in
            late = Signal(name="last_late")
            m.d.sync += [late.eq(self.last_out), self.finished.eq(late)]
            finished = self.finished
        if self.xcup_dsp:
            acc = accumulate_product(
                m,
                self.a_in,
                self.b_in,
                finished,
                acc_width=self.acc_width,
                registered=self.pipelined,
                primitive=self.dsp_primitive,
                name="mac",
            )
            m.d.comb += self.acc.eq(acc)
        else:
            m.d.sync += self.acc.eq(Mux(finished, 0, self.acc) + product)
        m.d.sync += [
            self.a_out.eq(self.a_in),
            self.b_out.eq(self.b_in),
            self.last_out.eq(self.last_in),
            # the finished product one cycle later, +0 otherwise: a register with a
            # synchronous reset (no LUT), so the column readout is a plain OR
            self.result.eq(Mux(finished, self.acc, 0)),
        ]
        return m

    def _product(self, m: Module):
        """a*b in the fabric or an inferred DSP, registered when pipelined."""
        # |a|, |b| <= 2^(m-1) - 1, so the product fits 2m - 1 bits
        if self.ecp5_dsp:  # a_in, b_in through the DSP's input registers: a_out * b_out
            product = registered_product(
                m, self.a_in, self.b_in, signed_ops=True, primitive=self.dsp_primitive, name="prod"
            )
        else:
            a, b = (self.a_out, self.b_out) if self.pipelined else (self.a_in, self.b_in)
            product = multiply(m, a, b, signed_ops=True, use_dsp=self.use_dsp, name="prod")
        product = product[: 2 * self.m - 1].as_signed()
        if not self.pipelined:
            return product
        registered = Signal(signed(2 * self.m - 1), name="prod_r")
        m.d.sync += registered.eq(product)
        return registered


class SystolicArray(wiring.Component):
    """R x C ProcessingElements: A lanes enter at the left of each row (with the `last`
    flag), B lanes at the top of each column. Column j's readout in each cycle is the
    `result` of the PE whose `last_out` was set the cycle before (at most one per column,
    given launches >= R cycles apart; the others' are +0, so it is an OR): `done[j]` (one-hot
    over rows, 0 when idle) and `result[j]`. `pipelined` PEs give both two cycles later."""

    def __init__(self, rows: int, cols: int, m: int, acc_width: int, **pe_options):
        """`pe_options`: ProcessingElement's keyword arguments (use_dsp, pipelined, ...)."""
        ProcessingElement.check(m, acc_width, **pe_options)
        self.rows, self.cols, self.m, self.acc_width = rows, cols, m, acc_width
        self.pe_options = pe_options
        self.pipelined = pe_options.get("pipelined", False)
        super().__init__(
            {
                "a": In(data.ArrayLayout(signed(m), rows)),
                "last": In(rows),
                "b": In(data.ArrayLayout(signed(m), cols)),
                "done": Out(data.ArrayLayout(rows, cols)),
                "result": Out(data.ArrayLayout(signed(acc_width), cols)),
            }
        )

    def elaborate(self, platform):
        m = Module()
        R, C = self.rows, self.cols
        pe = [
            [ProcessingElement(self.m, self.acc_width, **self.pe_options) for _ in range(C)]
            for _ in range(R)
        ]
        for i in range(R):
            for j in range(C):
                m.submodules[f"pe_{i}_{j}"] = pe[i][j]
                left, up = (pe[i][j - 1] if j else None), (pe[i - 1][j] if i else None)
                m.d.comb += [
                    pe[i][j].a_in.eq(left.a_out if left else self.a[i]),
                    pe[i][j].last_in.eq(left.last_out if left else self.last[i]),
                    pe[i][j].b_in.eq(up.b_out if up else self.b[j]),
                ]
        for j in range(C):
            result = 0
            for i in range(R):
                result = result | pe[i][j].result
            flags = [pe[i][j].finished if self.pipelined else pe[i][j].last_out for i in range(R)]
            m.d.sync += self.done[j].eq(Cat(*flags))
            m.d.comb += self.result[j].eq(result)
        return m
