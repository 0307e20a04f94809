"""Generic cocotb test run by lpmac.sim.harness (a simulator-side module, not a pytest file).

It reads the JSON spec named by $LPMAC_SIM_SPEC: ``rows`` rows of lane-packed inputs (.npy,
uint8, one little-endian row per step) to drive onto the wide ports of ``<top>_lanes`` and
output .npy files to fill. Rows are streamed in blocks so memory stays flat on huge runs.

Timing per row (one clock period is 2 ns of simulated time):
  combinational: write inputs, wait 1 ns, sample outputs.
  clocked:       clk=0 and write inputs, wait 1 ns, clk=1, wait 1 ns, sample outputs.
When ``reset`` is set, every segment of ``segment`` rows starts with one extra cycle with
rst=1 and all inputs 0, whose outputs are not sampled.
"""

import json
import os
import time
from pathlib import Path

import cocotb
import numpy as np
from cocotb.triggers import Timer

_BLOCK_ROWS = 4096


def _row_ints(block: np.ndarray) -> list[int]:
    data, width = block.tobytes(), block.shape[1]
    return [int.from_bytes(data[i : i + width], "little") for i in range(0, len(data), width)]


@cocotb.test()
async def drive_vectors(dut):
    spec_path = Path(os.environ["LPMAC_SIM_SPEC"])
    spec = json.loads(spec_path.read_text())
    folder = spec_path.parent
    rows, segment = spec["rows"], spec["segment"]
    clocked, reset = spec["clocked"], spec["reset"]
    ins = [
        (getattr(dut, p["name"]), np.load(folder / p["file"], mmap_mode="r"))
        for p in spec["inputs"]
    ]
    outs = [
        (
            p["name"],
            getattr(dut, p["name"]),
            np.lib.format.open_memmap(
                folder / p["file"], mode="w+", dtype=np.uint8, shape=(rows, p["nbytes"])
            ),
        )
        for p in spec["outputs"]
    ]
    half = Timer(1, "ns")
    clk = dut.clk if clocked else None
    if clocked:
        clk.value = 0
        await half

    start = time.perf_counter()
    for first in range(0, rows, _BLOCK_ROWS):
        last = min(rows, first + _BLOCK_ROWS)
        drives = [(handle, _row_ints(data[first:last])) for handle, data in ins]
        sampled = [bytearray() for _ in outs]
        for i in range(last - first):
            if reset and (first + i) % segment == 0:
                dut.rst.value = 1
                for handle, _ in drives:
                    handle.value = 0
                clk.value = 0
                await half
                clk.value = 1
                await half
                dut.rst.value = 0
            if clocked:
                clk.value = 0
            for handle, values in drives:
                handle.value = values[i]
            await half
            if clocked:
                clk.value = 1
                await half
            for (name, handle, data), buf in zip(outs, sampled):
                try:
                    buf += handle.value.to_unsigned().to_bytes(data.shape[1], "little")
                except ValueError:
                    raise ValueError(
                        f"output {name!r} is not 0/1 at row {first + i}: {handle.value}"
                    ) from None
        for (_, _, data), buf in zip(outs, sampled):
            data[first:last] = np.frombuffer(buf, np.uint8).reshape(last - first, -1)
    seconds = time.perf_counter() - start

    for _, _, data in outs:
        data.flush()
    (folder / spec["stats"]).write_text(json.dumps({"seconds": seconds}))
