"""Sizes of the long accumulator's register (docs/semantics.md "Long accumulator"), shared
by golden/accum_long.py and hdl/accum_long.py."""

from __future__ import annotations

from dataclasses import dataclass

from .errors import ConfigError
from .formats import FloatFormat

__all__ = ["KMAX_LOG2", "MAX_WIDTH", "LongPlan"]

KMAX_LOG2 = 16  # guard bits: 2^16 inputs of any magnitude between clears never overflow
# Widest register built: every format lpmac parses fits (E8M23 with fin specials: 295
# bits); the hardware keeps the loop short by carry-save segments, not by this bound.
MAX_WIDTH = 320


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
        width = input_bits + KMAX_LOG2 + 1
        if width > MAX_WIDTH:
            raise ConfigError(
                f"a long accumulator of {x_fmt} inputs needs a {width}-bit register, more than "
                f"the {MAX_WIDTH} built; use a narrower input format"
            )
        return cls(lsb_exp, input_bits, width)

    @property
    def limit(self) -> int:
        """Register range: -limit .. limit - 1."""
        return 1 << (self.width - 1)
