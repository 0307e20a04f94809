"""The float adder's window (SPEC §3), shared by golden/accum.py, its numba port
(golden/_matmul_scalar.py) and hdl/accum.py's `AddPlan`."""

from __future__ import annotations

__all__ = ["add_window"]


def add_window(acc_m: int, x_m: int, r_bits: int) -> tuple[int, int]:
    """(S, G): the common significand width and the guard bits below the bigger operand's LSB
    (plain ints, so golden/_matmul_scalar.py compiles this same function with numba). G keeps
    the rounding point at least max(1, r) bits above the window's LSB after a one-bit
    cancellation (r: sr bits)."""
    S = max(acc_m, x_m) + 1
    return S, max(1, acc_m + 2 + max(1, r_bits) - S)
