"""The multiply-accumulate core of the HBFP GEMM array (hdl/gemm.py): one processing element
per output, R x C of them in a systolic grid with a one-hot column readout."""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Mux, Signal, signed
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from .checked import CheckedComponent
from .dsp_ecp5 import registered_product
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
    `dsp_primitive=False`: the same cycle behaviour from registers, for Amaranth's simulator)."""

    @staticmethod
    def check(m, acc_width, use_dsp=True, pipelined=False, ecp5_dsp=False, dsp_primitive=True):
        if ecp5_dsp and not (pipelined and use_dsp):
            raise ValueError("a PE's ecp5_dsp needs pipelined=True and use_dsp=True")

    def __init__(
        self,
        m: int,
        acc_width: int,
        use_dsp: bool = True,
        pipelined: bool = False,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
    ):
        self.m, self.acc_width, self.use_dsp, self.pipelined = m, acc_width, use_dsp, pipelined
        self.ecp5_dsp, self.dsp_primitive = ecp5_dsp, dsp_primitive
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
        # |a|, |b| <= 2^(m-1) - 1, so the product fits 2m - 1 bits
        if self.ecp5_dsp:  # a_in, b_in through the DSP's input registers: a_out * b_out
            product = registered_product(
                m, self.a_in, self.b_in, signed_ops=True, primitive=self.dsp_primitive, name="prod"
            )
        else:
            a, b = (self.a_out, self.b_out) if self.pipelined else (self.a_in, self.b_in)
            product = multiply(m, a, b, signed_ops=True, use_dsp=self.use_dsp, name="prod")
        product = product[: 2 * self.m - 1].as_signed()
        finished = self.last_out
        if self.pipelined:
            registered = Signal(signed(2 * self.m - 1), name="prod_r")
            late = Signal(name="last_late")
            m.d.sync += [
                registered.eq(product),
                late.eq(self.last_out),
                self.finished.eq(late),
            ]
            product, finished = registered, self.finished
        m.d.sync += [
            self.acc.eq(Mux(finished, 0, self.acc) + product),
            self.a_out.eq(self.a_in),
            self.b_out.eq(self.b_in),
            self.last_out.eq(self.last_in),
            # the finished product one cycle later, +0 otherwise: a register with a
            # synchronous reset (no LUT), so the column readout is a plain OR
            self.result.eq(Mux(finished, self.acc, 0)),
        ]
        return m


class SystolicArray(wiring.Component):
    """R x C ProcessingElements: A lanes enter at the left of each row (with the `last`
    flag), B lanes at the top of each column. Column j's readout in each cycle is the
    `result` of the PE whose `last_out` was set the cycle before (at most one per column,
    given launches >= R cycles apart; the others' are +0, so it is an OR): `done[j]` (one-hot
    over rows, 0 when idle) and `result[j]`. `pipelined` PEs give both two cycles later."""

    def __init__(
        self,
        rows: int,
        cols: int,
        m: int,
        acc_width: int,
        use_dsp: bool = True,
        pipelined: bool = False,
        ecp5_dsp: bool = False,
        dsp_primitive: bool = True,
    ):
        self.rows, self.cols, self.m, self.acc_width = rows, cols, m, acc_width
        self.use_dsp, self.pipelined = use_dsp, pipelined
        self.ecp5_dsp, self.dsp_primitive = ecp5_dsp, dsp_primitive
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
            [
                ProcessingElement(
                    self.m,
                    self.acc_width,
                    self.use_dsp,
                    self.pipelined,
                    self.ecp5_dsp,
                    self.dsp_primitive,
                )
                for _ in range(C)
            ]
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
