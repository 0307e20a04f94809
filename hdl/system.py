"""A MAC-array *system* (SPEC §8): the R x C `MacArray` with the surroundings the HBFP array
(hdl/gemm.py `BfpGemmArray`) also has, so that both kinds are measured alike by area.

    a (R x fp32) -> R x FloatToFloat(fp32 -> in, rne) -> R input registers --+
    b (C x fp32) -> C x FloatToFloat(fp32 -> in, rne) -> C input registers --+-> MacArray R x C
                                                                                   | sel
    c (rows of C x fp32) <- C x SyncFIFOBuffered(2R+1) <- C x acc -> fp32 <- C readout registers

* Input side: one fp32 -> input-format converter per row and per column feed (combinational,
  then a register, as the HBFP feeds convert into load buffers). None when the input format
  is fp32 itself (the FP32 system has no converter).
* Output side, the HBFP array's: per column one readout register (its `ColumnAccumulator`
  stage 0), one accumulator -> fp32 converter (`FloatToFloat`, or `FixedToFloat` for a fixed
  accumulator; its BFP -> FP unit; none for an fp32 accumulator) and one `SyncFIFOBuffered` of
  2R+1 entries (its `out_fifo`); a `c` beat pops one entry of every column FIFO.

Host protocol (skewed as MacArray's): element k of row i of A on `a[i]` with `valid[i]`
(`clear[i]` on k = 0, `last[i]` on k = K-1) in cycle s_k + i, element k of column j of B on
`b[j]` in cycle s_k + j (gaps with valid = 0 allowed, s increasing). Row i of the result is
read out in cycle t_i + C + depth, t_i being the cycle of `last[i]` and `depth` the PEs'
(MacArray.depth: 1, or a long accumulator's pipeline): all C accumulators of the row are final
then and `sel` picks the row. So row i may begin its next dot product at the earliest
in cycle t_i + C (C - 1 idle cycles), else column 0 would be overwritten before the readout.
The rows of an output tile arrive on `c` in order 0..R-1, element j = column j: golden
`convert(mac(convert(A[i, :]), convert(B[:, j])))`. The FIFOs hold 2R rows; `overflow` is
set (sticky until reset) if a row arrives at a full FIFO (a consumer that stalls too long).
"""

from __future__ import annotations

from amaranth.hdl import Cat, Module, Signal
from amaranth.lib import data, fifo, stream, wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import MacConfig
from lpmac.formats import FP32, FloatFormat
from lpmac.unit_options import point_system

from .checked import CheckedComponent
from .convert import FixedToFloat, FloatToFloat
from .mac_array import MacArray

__all__ = ["MacSystem", "FP32", "system_point", "system_unit"]


def input_converter(fmt: FloatFormat) -> FloatToFloat | None:
    """fp32 -> `fmt`, rne (golden `convert(x, FP32, fmt, "rne")`); None for fp32 itself."""
    return None if fmt == FP32 else FloatToFloat(FP32, fmt, "rne")


def output_converter(cfg: MacConfig) -> wiring.Component | None:
    """Accumulator -> fp32, rne; None for an fp32 accumulator."""
    fmt = cfg.acc.fmt
    if cfg.acc.is_fixed:
        return FixedToFloat(fmt, FP32, "rne")
    return None if fmt == FP32 else FloatToFloat(fmt, FP32, "rne")


class MacSystem(CheckedComponent):
    @staticmethod
    def check(rows: int, cols: int, cfg: MacConfig, use_dsp: bool = True):
        if rows < 1 or cols < 1:
            raise ValueError(f"a MAC system needs rows >= 1 and cols >= 1, got {rows} x {cols}")

    def __init__(self, rows: int, cols: int, cfg: MacConfig, use_dsp: bool = True):
        self.rows, self.cols, self.cfg, self.use_dsp = rows, cols, cfg, use_dsp
        self.out_depth = 2 * rows  # as BfpGemmArray's default
        self._array = MacArray(rows, cols, cfg, use_dsp=use_dsp)
        self.depth = self._array.depth  # cycles from a PE's input to its accumulator
        super().__init__(
            {
                "a": In(data.ArrayLayout(32, rows)),
                "valid": In(rows),
                "clear": In(rows),
                "last": In(rows),
                "b": In(data.ArrayLayout(32, cols)),
                "c": Out(stream.Signature(data.ArrayLayout(32, cols))),
                "overflow": Out(1),
            }
        )

    def _feed(self, m: Module, name: str, value, fmt: FloatFormat) -> Signal:
        """Convert one fp32 operand feed and register it."""
        conv = input_converter(fmt)
        if conv is not None:
            m.submodules[f"cvt_{name}"] = conv
            m.d.comb += conv.a.eq(value)
            value = conv.y
        reg = Signal(fmt.width, name=f"{name}_q")
        m.d.sync += reg.eq(value)
        return reg

    def elaborate(self, platform):
        m = Module()
        R, C, cfg = self.rows, self.cols, self.cfg
        fin = cfg.mul.in_format
        m.submodules.array = arr = self._array

        # Input side: converters and registers; valid/clear/last registered alongside.
        valid_q, clear_q, last_q = Signal(R), Signal(R), Signal(R)
        m.d.sync += [valid_q.eq(self.valid), clear_q.eq(self.clear), last_q.eq(self.last)]
        m.d.comb += [arr.valid.eq(valid_q), arr.clear.eq(clear_q)]
        for i in range(R):
            m.d.comb += arr.a[i].eq(self._feed(m, f"a{i}", self.a[i], fin))
        for j in range(C):
            m.d.comb += arr.b[j].eq(self._feed(m, f"b{j}", self.b[j], fin))

        # Row i is final in every column C + depth - 1 cycles after its last element entered
        # column 0 (the PE in column C - 1 sees it C - 1 cycles later).
        done = Signal(R)
        line = last_q & valid_q
        for stage in range(C + arr.depth - 1):
            nxt = Signal(R, name=f"done_line{stage}")
            m.d.sync += nxt.eq(line)
            line = nxt
        m.d.comb += done.eq(line)
        for i in range(R):  # the skew makes at most one row done per cycle
            with m.If(done[i]):
                m.d.comb += arr.sel.eq(i)

        # Output side: readout register, converter and FIFO per column.
        w_acc = cfg.acc.fmt.width
        read_valid = Signal()
        m.d.sync += read_valid.eq(done.any())
        fifos = []
        for j in range(C):
            held = Signal(w_acc, name=f"read{j}")
            m.d.sync += held.eq(arr.c[j])
            conv = output_converter(cfg)
            value = held
            if conv is not None:
                m.submodules[f"cvt_c{j}"] = conv
                m.d.comb += conv.a.eq(held)
                value = conv.y
            m.submodules[f"out_fifo{j}"] = q = fifo.SyncFIFOBuffered(
                width=32, depth=self.out_depth + 1
            )
            m.d.comb += [
                q.w_en.eq(read_valid),
                q.w_data.eq(value),
                q.r_en.eq(self.c.valid & self.c.ready),
                self.c.payload[j].eq(q.r_data),
            ]
            fifos.append(q)
        m.d.comb += self.c.valid.eq(Cat(q.r_rdy for q in fifos).all())
        with m.If(read_valid & ~Cat(q.w_rdy for q in fifos).all()):
            m.d.sync += self.overflow.eq(1)
        return m


def system_point(config: str, use_dsp: bool = True) -> dict:
    """Builder keyword arguments for a system point (the registry's `parse_point`)."""
    return point_system(config, use_dsp)


def system_unit(rows: int, cols: int, cfg: MacConfig, use_dsp: bool = True):
    """The `system` unit: MacSystem as module system_RxC_<cfg>[_nodsp]."""
    from .generate import Unit, module_name

    system = MacSystem(rows, cols, cfg, use_dsp)
    return Unit(
        "system",
        system,
        module_name(f"system_{rows}x{cols}_{cfg}") + ("" if use_dsp else "_nodsp"),
        f"{rows}x{cols}:{cfg}",
        system.depth,  # the PEs' MAC depth, as for `array`
        {"in_format": "fp32", "out_format": "fp32", "rows": rows, "cols": cols},
    )
