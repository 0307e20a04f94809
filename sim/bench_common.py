"""What every unit bench shares: the result, the bit-exact comparison with decoded mismatch
reports (a NaN matches any NaN), and the run of an elementwise or pipelined unit through the
lane-parallel harness (outputs realigned to their inputs)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from lpmac import golden as g
from lpmac.formats import FloatFormat
from lpmac.hdl.generate import Unit, port_list

from .harness import Port, RunStats, run_vectors

DEFAULT_RANDOM = 200_000  # vectors for a unit whose input space is too large to enumerate
EXHAUSTIVE_MAX_BITS = 16  # enumerate every input when the inputs have at most this many bits


@dataclass
class BenchResult:
    unit: str
    config: str
    checked: int
    mismatches: int
    stats: RunStats
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def summary(self) -> str:
        s = self.stats
        # checked / simulated seconds: a block converter's harness vector is a block of T checks
        line = (
            f"{self.unit} {self.config}: {self.checked:,} vectors checked, "
            f"{self.mismatches:,} mismatches, "
            f"{self.checked / s.seconds:,.0f} vectors/s on {s.simulator}"
            f" (build {'cached' if s.cached else f'{s.build_seconds:.1f} s'})"
        )
        return "\n".join([line] + [f"  {f}" for f in self.failures])


def describe(bits, fmt) -> str:
    """'0x3d (1.25)' for one bit pattern of a float or fixed format."""
    b = int(bits)
    if fmt is None:
        return f"{b}"
    value = float(g.to_float(np.array([b], dtype=np.uint64), fmt)[0])
    return f"0x{b:0{(fmt.width + 3) // 4}x} ({value:.8g})"


def same_bits(expected: np.ndarray, got: np.ndarray, fmt) -> np.ndarray:
    same = expected == got
    if isinstance(fmt, FloatFormat) and fmt.has_nan:
        same |= np.isnan(g.to_float(expected, fmt)) & np.isnan(g.to_float(got, fmt))
    return same


def check(
    kind: str,
    config: str,
    inputs: dict,
    in_fmts: dict,
    expected: dict,
    got: dict,
    out_fmts: dict,
    stats: RunStats,
    limit: int = 10,
    axes: tuple[str, str] = ("step", "lane"),
) -> BenchResult:
    bad = np.zeros(next(iter(expected.values())).shape, bool)
    for name, exp in expected.items():
        bad |= ~same_bits(exp, got[name], out_fmts.get(name))
    failures = []
    for index in zip(*np.nonzero(bad)):
        if len(failures) == limit:
            break
        ins = ", ".join(f"{n}={describe(v[index], in_fmts.get(n))}" for n, v in inputs.items())
        outs = ", ".join(
            f"{n}: expected {describe(expected[n][index], out_fmts.get(n))} "
            f"got {describe(got[n][index], out_fmts.get(n))}"
            for n in expected
        )
        where = (
            f"{axes[0]} {index[0]} {axes[1]} {index[1]}: "
            if len(index) == 2
            else f"vector {index[0]}: "
        )
        failures.append(f"{where}{ins} -> {outs}")
    return BenchResult(kind, config, int(bad.size), int(bad.sum()), stats, failures)


def pipelined(
    verilog: str,
    unit: Unit,
    in_ports: list[Port],
    out_ports: list[Port],
    inputs: dict,
    latency: int,
    lanes: int,
    simulator: str | None,
    clocked: bool = False,
) -> tuple[dict, RunStats]:
    """Run an elementwise unit; with `latency` register stages (or `clocked`, for a unit with
    a clock but latency 0) the vectors stream through `lanes` columns, vector i at step
    i // lanes of lane i % lanes, and outputs are realigned to their inputs."""
    top, ports = unit.name, port_list(unit)
    if latency == 0 and not clocked:
        return run_vectors(
            verilog, top, in_ports, out_ports, inputs, ports=ports, lanes=lanes, simulator=simulator
        )
    lag = max(latency - 1, 0)  # the harness samples after the edge: out[k + latency - 1]
    n = len(next(iter(inputs.values())))
    steps = -(-n // lanes)
    columns = {}
    for name, values in inputs.items():
        padded = np.zeros((steps + lag) * lanes, np.uint64)
        padded[:n] = values
        columns[name] = padded.reshape(-1, lanes)
    outs, stats = run_vectors(
        verilog,
        top,
        in_ports,
        out_ports,
        columns,
        ports=ports,
        clocked=True,
        lanes=lanes,
        simulator=simulator,
    )
    return {k: v[lag:].reshape(-1)[:n] for k, v in outs.items()}, stats


def sr_draws(valid: np.ndarray, lanes: int, latency: int) -> np.ndarray:
    """For each vector of a `_pipelined` stream, the index of the random value its output
    uses in its lane's generator sequence: the valid vectors before it in that lane. At
    latency 0 the output is combinational and sampled after the edge that stepped the
    generator, so a valid vector shows the value after its own."""
    n = len(valid)
    cols = np.zeros(-(-n // lanes) * lanes, np.int64)
    cols[:n] = valid
    cols = cols.reshape(-1, lanes)
    before = np.cumsum(cols, axis=0) - cols
    if latency == 0:
        before += cols
    return before.reshape(-1)[:n]
