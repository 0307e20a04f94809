"""Lane-parallel vector harness: run NumPy vectors through generated Verilog under cocotb.

Every cocotb read or write costs ~8 us whatever the signal width, so the harness wraps
``lanes`` copies of the design in a generated ``<top>_lanes`` module whose ports are the
lanes' ports side by side (lane i of port p at bits [i*w, (i+1)*w) of a lanes*w wide port).
One write then drives ``lanes`` vectors. Vectors and results cross to the simulator process
as .npy files named in a JSON spec.

Timing (see also ``cocotb_vectors``), per step k of ``vectors[name][k]``:

* combinational (``clocked=False``): inputs are written, 1 ns later every output is sampled.
* clocked (``clocked=True``): with clk low the step's inputs are written; 1 ns later clk
  rises; 1 ns after the edge every output is sampled into ``outputs[name][k]``. So out[k] is
  the state after the k-th rising edge, which registered in[k] (plus any combinational path
  from in[k]). A design with d register stages from input to output shows in[k] at out[k+d-1].
  With ``reset=True`` one extra cycle with rst=1 and all inputs 0 precedes step 0 (rst is
  synchronous, active-high, Amaranth's default); its outputs are not returned.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from . import runner

__all__ = ["Port", "RunStats", "lanes_wrapper", "run_vectors"]

_BENCH_MODULE = "lpmac.sim.cocotb_vectors"
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*\Z")
_PACK_VALUES = 1 << 20  # values packed per NumPy pass: bounds temporary memory


@dataclass(frozen=True)
class Port:
    name: str
    width: int


@dataclass(frozen=True)
class RunStats:
    vectors: int  # N (combinational) or steps * L (clocked)
    seconds: float  # the drive/sample loop inside the simulator, without start-up
    vectors_per_second: float
    simulator: str
    build_seconds: float  # compile time, or cache look-up time when cached
    cached: bool
    wall_seconds: float  # the whole run_vectors call, packing and simulator start-up included


def _read_sources(verilog: str | os.PathLike | Sequence[os.PathLike]) -> str:
    if isinstance(verilog, str):
        return verilog
    paths = [verilog] if isinstance(verilog, os.PathLike) else list(verilog)
    return "\n".join(Path(p).read_text() for p in paths)


def _check_ports(
    declared: Sequence[dict],
    top: str,
    inputs: list[Port],
    outputs: list[Port],
    clocked: bool,
    reset: bool,
) -> bool:
    """Validate the port lists against the ports of module `top` (`declared`: dicts with
    name, direction, width, as `lpmac.hdl.generate.port_list` gives them from the
    component's signature); return whether it has an rst port."""
    ports = {p["name"]: (p["direction"], int(p["width"])) for p in declared}
    harness_driven = {"clk", "rst"} if clocked else set()
    for direction, given in (("input", inputs), ("output", outputs)):
        for port in given:
            if not _IDENT.match(port.name):
                raise ValueError(f"port name {port.name!r} is not a plain Verilog identifier")
            if not 1 <= port.width <= 64:
                raise ValueError(f"port {port.name!r}: width {port.width} outside 1..64")
            if port.name not in ports:
                raise ValueError(f"module {top!r} has no port {port.name!r}")
            if port.name in harness_driven:
                raise ValueError(f"port {port.name!r} is driven by the harness: leave it out")
            # Verilator's WIDTH lint is off, so a wrong width would be silently truncated.
            if ports[port.name] != (direction, port.width):
                raise ValueError(
                    f"port {port.name!r} is declared {ports[port.name][0]} of width "
                    f"{ports[port.name][1]}, not {direction} of width {port.width}"
                )
    undriven = (
        {name for name, (direction, _) in ports.items() if direction == "input"}
        - {p.name for p in inputs}
        - harness_driven
    )
    if undriven:
        raise ValueError(
            f"inputs of {top!r} left undriven: {', '.join(sorted(undriven))}; list "
            f"them in `inputs`" + ("" if clocked else " or set clocked=True")
        )
    if clocked and "clk" not in ports:
        raise ValueError(f"clocked=True but module {top!r} has no 'clk' port")
    if clocked and reset and "rst" not in ports:
        raise ValueError(f"reset=True but module {top!r} has no 'rst' port")
    return "rst" in ports


def lanes_wrapper(
    top: str,
    inputs: list[Port],
    outputs: list[Port],
    lanes: int,
    *,
    clk: bool = False,
    rst: bool = False,
) -> str:
    """Verilog of module ``<top>_lanes``: `lanes` copies of `top` behind side-by-side ports."""
    shared = (["clk"] if clk else []) + (["rst"] if rst else [])
    lines = [f"module {top}_lanes({', '.join(shared + [p.name for p in inputs + outputs])});"]
    lines += [f"  input {name};" for name in shared]
    lines += [f"  input [{lanes * p.width - 1}:0] {p.name};" for p in inputs]
    lines += [f"  output [{lanes * p.width - 1}:0] {p.name};" for p in outputs]
    # Connect by name: Amaranth's header port order is not declaration order.
    conns = [f".{name}({name})" for name in shared]
    conns += [f".{p.name}({p.name}[i * {p.width} +: {p.width}])" for p in inputs + outputs]
    lines += [
        "  genvar i;",
        f"  generate for (i = 0; i < {lanes}; i = i + 1) begin : lane",
        f"    {top} dut ({', '.join(conns)});",
        "  end endgenerate",
        "endmodule",
    ]
    return "\n".join(lines) + "\n"


def _pack_lanes(values: np.ndarray, width: int) -> np.ndarray:
    """(rows, lanes) values -> (rows, ceil(lanes*width/8)) uint8, little-endian rows."""
    rows, lanes = values.shape
    le = np.ascontiguousarray(values, dtype="<u8").view(np.uint8).reshape(rows, lanes, 8)
    bits = np.unpackbits(le[:, :, : (width + 7) // 8], axis=2, count=width, bitorder="little")
    return np.packbits(bits.reshape(rows, lanes * width), axis=1, bitorder="little")


def _unpack_lanes(packed: np.ndarray, width: int, lanes: int) -> np.ndarray:
    """Inverse of _pack_lanes: (rows, nbytes) uint8 -> (rows, lanes) uint64."""
    rows, nbytes = packed.shape
    padded = np.zeros((rows, nbytes + 9), np.uint8)  # room for the last lane's 9-byte window
    padded[:, :nbytes] = packed
    out = np.empty((rows, lanes), np.uint64)
    mask = np.uint64((1 << width) - 1)
    # Lanes r, r+8, r+16... start at the same bit offset in a byte, `width` bytes apart: read
    # each such group as one strided 9-byte window per value instead of bit by bit.
    for r in range(min(8, lanes)):
        first, shift = divmod(r * width, 8)
        window = np.lib.stride_tricks.as_strided(
            padded[:, first:],
            shape=(rows, len(range(r, lanes, 8)), 9),
            strides=(padded.strides[0], width, 1),
            writeable=False,
        )
        values = np.ascontiguousarray(window[:, :, :8]).view("<u8")[:, :, 0]
        if shift:
            values = (values >> np.uint64(shift)) | (
                window[:, :, 8].astype(np.uint64) << np.uint64(64 - shift)
            )
        out[:, r::8] = values & mask
    return out


def _block_rows(lanes: int) -> int:
    return max(1, _PACK_VALUES // lanes)


def _write_packed(path: Path, rows: np.ndarray, width: int) -> None:
    """Pack (rows, lanes) values block by block straight into an .npy file."""
    lanes = rows.shape[1]
    out = np.lib.format.open_memmap(
        path, mode="w+", dtype=np.uint8, shape=(rows.shape[0], (lanes * width + 7) // 8)
    )
    step = _block_rows(lanes)
    for first in range(0, rows.shape[0], step):
        out[first : first + step] = _pack_lanes(rows[first : first + step], width)
    out.flush()


def _read_packed(path: Path, width: int, lanes: int) -> np.ndarray:
    packed = np.load(path, mmap_mode="r")
    rows = np.empty((packed.shape[0], lanes), np.uint64)
    step = _block_rows(lanes)
    for first in range(0, packed.shape[0], step):
        rows[first : first + step] = _unpack_lanes(packed[first : first + step], width, lanes)
    return rows


def _checked_vectors(
    vectors: dict[str, np.ndarray], inputs: list[Port], clocked: bool
) -> dict[str, np.ndarray]:
    names, given = {p.name for p in inputs}, set(vectors)
    if given != names:
        raise ValueError(
            f"vectors must have exactly the input ports: missing "
            f"{sorted(names - given)}, unexpected {sorted(given - names)}"
        )
    arrays = {p.name: np.asarray(vectors[p.name]) for p in inputs}
    shapes = {a.shape for a in arrays.values()}
    ndim = 2 if clocked else 1
    if len(shapes) != 1 or len(next(iter(shapes))) != ndim:
        raise ValueError(
            f"input vectors need one common shape of "
            f"{'(steps, L)' if clocked else '(N,)'}; got {sorted(shapes)}"
        )
    if 0 in next(iter(shapes)):
        raise ValueError("no vectors to simulate")
    for port in inputs:
        a = arrays[port.name]
        if a.dtype.kind not in "uib":
            raise ValueError(f"vectors[{port.name!r}] must be integers, not {a.dtype}")
        if a.dtype.kind == "i" and a.min() < 0:
            raise ValueError(
                f"vectors[{port.name!r}] has negative values: pass two's complement as uint64"
            )
        if int(a.max()) >> port.width:
            raise ValueError(f"vectors[{port.name!r}] has values >= 2**{port.width}")
    return arrays


def _to_rows(a: np.ndarray, lanes: int, clocked: bool) -> np.ndarray:
    """Lay vectors out as (rows, lanes): rows are simulation steps, zero-padded."""
    if not clocked:
        flat = np.ascontiguousarray(a, dtype=np.uint64)  # a view when `a` is uint64 already
        if flat.size % lanes:
            flat = np.concatenate([flat, np.zeros(-flat.size % lanes, np.uint64)])
        return flat.reshape(-1, lanes)
    # Sequences beyond `lanes` run as further groups, one after another, each after a reset.
    steps, sequences = a.shape
    groups = -(-sequences // lanes)
    padded = np.zeros((steps, groups * lanes), np.uint64)
    padded[:, :sequences] = a
    return padded.reshape(steps, groups, lanes).transpose(1, 0, 2).reshape(groups * steps, lanes)


def _from_rows(rows: np.ndarray, shape: tuple[int, ...], clocked: bool) -> np.ndarray:
    if not clocked:
        return rows.reshape(-1)[: shape[0]]
    steps, sequences = shape
    lanes = rows.shape[1]
    groups = rows.shape[0] // steps
    return rows.reshape(groups, steps, lanes).transpose(1, 0, 2).reshape(steps, -1)[:, :sequences]


def run_vectors(
    verilog: str | os.PathLike | Sequence[os.PathLike],
    top: str,
    inputs: list[Port],
    outputs: list[Port],
    vectors: dict[str, np.ndarray],
    *,
    ports: Sequence[dict],
    clocked: bool = False,
    lanes: int = 64,
    simulator: str | None = None,
    reset: bool = True,
) -> tuple[dict[str, np.ndarray], RunStats]:
    """Simulate module `top` on `vectors` and return its outputs and run statistics.

    `verilog` is Verilog text, or a path or list of paths to Verilog files. `vectors` maps
    every input port to unsigned integers (< 2**width): shape (N,) when combinational, split
    across `lanes` copies of the design; shape (steps, L) when clocked, one column per
    independent sequence. Outputs come back as uint64 arrays of the same shape. Clocked
    designs need a `clk` port (and `rst` when `reset`); `reset` is ignored when
    combinational. `ports` lists every port of `top` (name, direction, width), taken from
    the component's signature (`lpmac.hdl.generate.port_list` / `component_ports`): the
    port lists are checked against it before anything is built. Timing is described in the
    module docstring.
    """
    wall_start = time.perf_counter()
    if lanes < 1:
        raise ValueError(f"lanes must be >= 1, got {lanes}")
    if not _IDENT.match(top):
        raise ValueError(f"top {top!r} is not a plain Verilog identifier")
    if not inputs or not outputs:
        raise ValueError("need at least one input port (it sets the step count) and one output")
    source = _read_sources(verilog)
    reset = reset and clocked
    has_rst = _check_ports(ports, top, inputs, outputs, clocked, reset)
    arrays = _checked_vectors(vectors, inputs, clocked)
    shape = next(iter(arrays.values())).shape
    if clocked and not reset and shape[1] > lanes:
        raise ValueError(
            f"{shape[1]} sequences run in groups of lanes={lanes}, which need "
            f"reset=True to start from a clean state: raise lanes or set reset"
        )
    simulator = runner.pick_simulator(simulator)

    wrapper = lanes_wrapper(top, inputs, outputs, lanes, clk=clocked, rst=clocked and has_rst)
    built = runner.build(source + "\n" + wrapper, f"{top}_lanes", simulator)

    run_dir = Path(tempfile.mkdtemp(prefix="lpmac-run-"))
    spec = {
        "clocked": clocked,
        "reset": reset,
        "stats": "stats.json",
        "inputs": [],
        "outputs": [
            {"name": p.name, "nbytes": (lanes * p.width + 7) // 8, "file": f"out_{p.name}.npy"}
            for p in outputs
        ],
    }
    for port in inputs:
        rows = _to_rows(arrays[port.name], lanes, clocked)
        _write_packed(run_dir / f"in_{port.name}.npy", rows, port.width)
        spec["inputs"].append({"name": port.name, "file": f"in_{port.name}.npy"})
    spec["rows"] = rows.shape[0]
    spec["segment"] = shape[0] if clocked else rows.shape[0]
    (run_dir / "spec.json").write_text(json.dumps(spec))

    runner.run_test(built, _BENCH_MODULE, run_dir, {"LPMAC_SIM_SPEC": str(run_dir / "spec.json")})
    results = {
        p.name: _from_rows(
            _read_packed(run_dir / f"out_{p.name}.npy", p.width, lanes), shape, clocked
        )
        for p in outputs
    }
    seconds = json.loads((run_dir / "stats.json").read_text())["seconds"]
    shutil.rmtree(run_dir)  # kept when the run fails, for its log

    count = int(np.prod(shape))
    stats = RunStats(
        vectors=count,
        seconds=seconds,
        vectors_per_second=count / seconds,
        simulator=simulator,
        build_seconds=built.seconds,
        cached=built.cached,
        wall_seconds=time.perf_counter() - wall_start,
    )
    return results, stats
