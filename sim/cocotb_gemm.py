"""Simulator side of the GEMM bench (a cocotb test module, run by lpmac.sim.gemm_bench inside
the simulator, not a pytest file): `drive_gemm` plays the host streams of
sim/gemm_streams.py with pseudo-random valid/ready gaps, reacting to the DUT's ready/valid
every cycle, and records every `c` beat with its cycle.

Spec ($LPMAC_GEMM_SPEC, JSON) names .npy files in its folder: a_blocks (nA, T), a_ktiles
(nA,), a_ktails (nA,), b_blocks (nB, T) (uint64 bit patterns), the count of `c` beats to
collect, T, C, the element widths and the gap probabilities; outputs: c_rows (beats, C) and
stats.json (cycle numbers).
"""

import json
import os
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Timer

from lpmac.sim.cocotb_common import reset
from lpmac.sim.gemm_streams import U64, Handshakes, HostStreams, pack, unpack


@cocotb.test()
async def drive_gemm(dut):
    spec_path = Path(os.environ["LPMAC_GEMM_SPEC"])
    spec = json.loads(spec_path.read_text())
    folder = spec_path.parent
    streams = HostStreams(
        np.load(folder / "a_blocks.npy"),
        np.load(folder / "a_ktiles.npy"),
        np.load(folder / "a_ktails.npy"),
        np.load(folder / "b_blocks.npy"),
        [],
        spec["beats"],
    )
    w_in, w_out, C = spec["in_width"], spec["out_width"], spec["cols"]
    hs = Handshakes(streams, spec["pa"], spec["pb"], spec["pc"], spec["seed"])
    a_packed = [pack(blk, w_in) for blk in streams.a_blocks]
    b_packed = [pack(blk, w_in) for blk in streams.b_blocks]
    half = Timer(1, "ns")

    inputs = ("a__valid", "b__valid", "c__ready", "k_tiles", "k_tail", "a__payload", "b__payload")
    await reset(dut, inputs, half)

    limit = spec["max_cycles"]
    while not hs.done and hs.cycle < limit:
        x = hs.inputs()
        dut.a__valid.value = x["a_valid"]
        dut.a__payload.value = a_packed[min(hs.ia, len(a_packed) - 1)]
        dut.k_tiles.value = x["k_tiles"]
        dut.k_tail.value = x["k_tail"]
        dut.b__valid.value = x["b_valid"]
        dut.b__payload.value = b_packed[min(hs.ib, len(b_packed) - 1)]
        dut.c__ready.value = x["c_ready"]
        await half
        c_valid = int(dut.c__valid.value)
        payload = int(dut.c__payload.value) if c_valid and x["c_ready"] else 0
        hs.edge(int(dut.a__ready.value), int(dut.b__ready.value), c_valid, x["c_ready"], payload)
        dut.clk.value = 1
        await half
        dut.clk.value = 0

    rows = np.array([unpack(v, w_out, C) for v in hs.rows], U64).reshape(-1, C)
    np.save(folder / "c_rows.npy", rows)
    (folder / "stats.json").write_text(
        json.dumps(
            {
                "first_in": hs.first_in,
                "c_cycles": hs.c_cycles,
                "cycles": hs.cycle,
                "a_taken": hs.ia,
                "b_taken": hs.ib,
            }
        )
    )
    assert hs.done, f"only {len(hs.rows)} of {streams.beats} c beats in {limit} cycles"
