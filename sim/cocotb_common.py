"""Helpers shared by the simulator-side cocotb modules (sim/cocotb_*.py); no tests here."""

from __future__ import annotations


async def reset(dut, inputs, half) -> None:
    """Zero `inputs`, hold rst high for two clock cycles (`half` = half a period), release."""
    dut.clk.value = 0
    dut.rst.value = 1
    for name in inputs:
        getattr(dut, name).value = 0
    for _ in range(2):
        await half
        dut.clk.value = 1
        await half
        dut.clk.value = 0
    dut.rst.value = 0
