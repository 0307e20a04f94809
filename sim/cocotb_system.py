"""The cocotb test that drives the MAC-array system's Verilog (hdl/system.py) cycle by cycle
from the inputs sim/system_bench.py precomputed, and records every `c` beat.

Spec ($LPMAC_SYSTEM_SPEC, JSON: rows, cols) sits beside inputs.npz (arrays a, valid, clear,
last, b, ready per cycle); outputs: c_rows.npy (beats x C) and stats.json (overflow flag).
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from lpmac.sim.cocotb_common import reset
from lpmac.sim.gemm_streams import U64, pack, unpack

try:  # the cocotb side, only when running under a simulator
    import cocotb
    from cocotb.triggers import Timer
except ImportError:  # pragma: no cover
    cocotb = None


if cocotb is not None:

    @cocotb.test()
    async def drive_system(dut):
        spec_path = Path(os.environ["LPMAC_SYSTEM_SPEC"])
        spec = json.loads(spec_path.read_text())
        x = np.load(spec_path.parent / "inputs.npz")
        C = spec["cols"]
        half = Timer(1, "ns")
        await reset(dut, ("a", "valid", "clear", "last", "b", "c__ready"), half)

        beats = []
        for t in range(len(x["ready"])):
            dut.a.value = pack(x["a"][t], 32)
            dut.valid.value = pack(x["valid"][t], 1)
            dut.clear.value = pack(x["clear"][t], 1)
            dut.last.value = pack(x["last"][t], 1)
            dut.b.value = pack(x["b"][t], 32)
            dut.c__ready.value = int(x["ready"][t])
            await half
            if x["ready"][t] and int(dut.c__valid.value):
                v = int(dut.c__payload.value)
                beats.append(unpack(v, 32, C))
            dut.clk.value = 1
            await half
            dut.clk.value = 0

        np.save(spec_path.parent / "c_rows.npy", np.array(beats, U64).reshape(-1, C))
        (spec_path.parent / "stats.json").write_text(
            json.dumps({"overflow": int(dut.overflow.value)})
        )
