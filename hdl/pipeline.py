"""Pipeline registers."""

from __future__ import annotations

from amaranth.hdl import Module, Signal


def delay(m: Module, value, stages: int, name: str):
    """`value` delayed by `stages` registers in the sync domain (0: the value itself)."""
    for i in range(stages):
        reg = Signal(len(value), name=f"{name}_d{i + 1}")
        m.d.sync += reg.eq(value)
        value = reg
    return value
