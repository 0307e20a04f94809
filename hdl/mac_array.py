"""An R x C output-stationary systolic array of floating-point (or fixed) MAC units: the
baseline that the HBFP array (hdl/gemm.py) is compared with in area (docs/results/gemm_area.md).

PE (i, j) is one `Mac(cfg)` (hdl/accum.py: multiplier, [float->fixed], accumulator) plus
registers that pass `a` (with its `valid`/`clear` flags) to the right and `b` down, so the
array does R·C MACs per cycle, as BfpGemmArray does in its steady state. The host skews the
inputs as every systolic array needs: element k of row i of A on `a[i]` (with `valid[i]`,
and `clear[i]` on the first element of a dot product) in cycle k+i, element k of column j of
B on `b[j]` in cycle k+j; PE (i, j) then sees both in cycle k+i+j and its accumulator is
golden `mac(A[i, :], B[:, j])` from cycle K+i+j+depth-1 on, `depth` being the PE's Mac.depth:
1 (the accumulator register) for rne/rz/sr/fixed accumulators, the whole pipeline of
hdl/accum_long.py's LongAcc for a long one (`E5M2:cfg5+E6M5:long`: 14). The hand-over is the
same for every accumulator: a long PE takes one input per cycle and only reads out later.
`sel` reads out row `sel` (C accumulators, combinationally), which is what the output side of
an array needs at least.

Stochastic rounding: every PE owns its accumulator's xorshift32; PE (i, j) is lane i*C + j,
seeded `lane_seed(cfg.acc.sr_seed, i*C + j)` (lpmac/xorshift.py), the seeding golden
`matmul` emulates (docs/semantics.md). Other configurations give every PE `cfg` unchanged.
"""

from __future__ import annotations

from dataclasses import replace

from amaranth.hdl import Module, Signal
from amaranth.lib import data, wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import MacConfig
from lpmac.xorshift import lane_seed

from .accum import Mac

__all__ = ["MacArray", "pe_config"]


def pe_config(cfg: MacConfig, row: int, col: int, cols: int) -> MacConfig:
    """The configuration of PE (row, col) of an array `cols` wide: with sr its own seed
    lane_seed(cfg.acc.sr_seed, row*cols + col), otherwise `cfg` itself."""
    if cfg.acc.is_fixed or cfg.acc.rounding != "sr":
        return cfg
    return replace(cfg, acc=replace(cfg.acc, sr_seed=lane_seed(cfg.acc.sr_seed, row * cols + col)))


def _check_shape(rows, cols, cfg) -> None:
    for name, n in (("rows", rows), ("cols", cols)):
        if isinstance(n, bool) or not isinstance(n, int) or n < 1:
            raise ValueError(f"a MAC array needs rows >= 1 and cols >= 1, got {name}={n!r}")
    if not isinstance(cfg, MacConfig):
        raise TypeError(
            f"MacArray needs a MacConfig, got {type(cfg).__name__}; "
            "use MacConfig.parse('E5M2:cfg5+E6M5')"
        )


class MacArray(wiring.Component):
    def __new__(cls, rows: int, cols: int, cfg: MacConfig, *args, src_loc_at: int = 0, **kw):
        # Refuse before the object exists, so no half-built array warns "created but never used".
        _check_shape(rows, cols, cfg)
        return super().__new__(cls, src_loc_at=src_loc_at + 1)

    def __init__(self, rows: int, cols: int, cfg: MacConfig, use_dsp: bool = True):
        self.rows, self.cols, self.cfg, self.use_dsp = rows, cols, cfg, use_dsp
        self._macs = [
            [Mac(pe_config(cfg, i, j, cols), use_dsp=use_dsp) for j in range(cols)]
            for i in range(rows)
        ]
        self.depth = self._macs[0][0].depth  # cycles from a PE's input to its `acc`
        w_in, w_acc = cfg.mul.in_format.width, cfg.acc.fmt.width
        super().__init__(
            {
                "a": In(data.ArrayLayout(w_in, rows)),
                "valid": In(rows),
                "clear": In(rows),
                "b": In(data.ArrayLayout(w_in, cols)),
                "sel": In(range(rows)),
                "c": Out(data.ArrayLayout(w_acc, cols)),
            }
        )

    def elaborate(self, platform):
        m = Module()
        R, C, w_in = self.rows, self.cols, self.cfg.mul.in_format.width
        macs = self._macs
        a_in = [[None] * C for _ in range(R)]
        b_in = [[None] * C for _ in range(R)]
        for i in range(R):
            for j in range(C):
                mac = macs[i][j]
                m.submodules[f"pe_{i}_{j}"] = mac
                if j == 0:
                    a_in[i][j] = (self.a[i], self.valid[i], self.clear[i])
                else:  # registered hand-over from the left neighbour
                    a, v, c = (
                        Signal(w_in, name=f"a_{i}_{j}"),
                        Signal(name=f"valid_{i}_{j}"),
                        Signal(name=f"clear_{i}_{j}"),
                    )
                    la, lv, lc = a_in[i][j - 1]
                    m.d.sync += [a.eq(la), v.eq(lv), c.eq(lc)]
                    a_in[i][j] = (a, v, c)
                if i == 0:
                    b_in[i][j] = self.b[j]
                else:  # registered hand-over from the neighbour above
                    b = Signal(w_in, name=f"b_{i}_{j}")
                    m.d.sync += b.eq(b_in[i - 1][j])
                    b_in[i][j] = b
                a, v, c = a_in[i][j]
                m.d.comb += [mac.a.eq(a), mac.valid.eq(v), mac.clear.eq(c), mac.b.eq(b_in[i][j])]
        with m.Switch(self.sel):
            for i in range(R):
                with m.Case(i):
                    m.d.comb += [self.c[j].eq(macs[i][j].acc) for j in range(C)]
        return m
