"""Sizes of the long accumulator's register (docs/semantics.md "Long accumulator"), shared
by golden/accum_long.py and hdl/accum_long.py."""

from __future__ import annotations

from dataclasses import dataclass

from .formats import FloatFormat

__all__ = ["KMAX_LOG2", "LongPlan"]

KMAX_LOG2 = 16  # guard bits: 2^16 inputs of any magnitude between clears never overflow


@dataclass(frozen=True)
class LongPlan:
    """The register of a long accumulator fed with inputs of format `x_fmt`."""

    lsb_exp: int  # the register counts units of 2^lsb_exp = 2^(emin_x - m_x)
    input_bits: int  # bits of the largest finite input magnitude in those units
    width: int  # register width: input_bits + KMAX_LOG2 + 1 (sign)

    @classmethod
    def of(cls, x_fmt: FloatFormat) -> LongPlan:
        lsb_exp = x_fmt.emin - x_fmt.m
        top_exp = x_fmt.max_field - x_fmt.bias  # weight of the largest finite leading one
        input_bits = top_exp - lsb_exp + 1
        return cls(lsb_exp, input_bits, input_bits + KMAX_LOG2 + 1)

    @property
    def limit(self) -> int:
        """Register range: -limit .. limit - 1."""
        return 1 << (self.width - 1)
