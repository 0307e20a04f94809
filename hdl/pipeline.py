"""Pipeline registers: `delay` (a chain of registers on one value) and the cut-point plans
of the units that place their `latency` registers inside the datapath.

A plan is an ordered tuple of cut-point names: `latency = N` enables the first N of them
(`cuts_for`), and stages beyond the plan's length become extra output registers, which add
cycles but cannot shorten a path (Yosys does not retime). Every cut registers every value
that crosses it, so a unit keeps one result per cycle and its exact function."""

from __future__ import annotations

from amaranth.hdl import Signal, Value


def delay(m, value, stages: int, name: str):
    """`value` delayed by `stages` registers in the sync domain (0: the value itself)."""
    for i in range(stages):
        reg = Signal(len(value), name=f"{name}_d{i + 1}")
        m.d.sync += reg.eq(value)
        value = reg
    return value


def register(m, value, name: str) -> Signal:
    """`value` through one register, keeping its shape (signedness included)."""
    shape = value.shape() if hasattr(value, "shape") else Value.cast(value).shape()
    reg = Signal(shape, name=name)  # a layout shape gives a register of the same struct view
    m.d.sync += reg.eq(value)
    return reg


def cut(m, enabled: bool, stage: str, values: dict) -> dict:
    """`values` (name -> value), each through one register `<stage>_<name>` when `enabled`."""
    if not enabled:
        return values
    return {name: register(m, v, f"{stage}_{name}") for name, v in values.items()}


def check_latency(latency: int, minimum: int = 0) -> None:
    """Refuse a `latency` argument that is not an integer >= `minimum`."""
    if not isinstance(latency, int) or latency < minimum:
        raise ValueError(f"latency must be an integer >= {minimum}, got {latency!r}")


def cuts_for(plan: tuple[str, ...], latency: int) -> tuple[frozenset[str], int]:
    """(the cut points enabled by `latency`, the number of extra output registers)."""
    if latency < 0:
        raise ValueError(f"latency must be >= 0, got {latency}")
    return frozenset(plan[:latency]), max(0, latency - len(plan))
