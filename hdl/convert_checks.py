"""Argument checks and pipeline placement shared by the converters (hdl/convert.py,
hdl/convert_bfp.py)."""

from __future__ import annotations

from amaranth.hdl import Shape

from lpmac.modes import SubIn, SubOut

__all__ = ["SUB_IN", "SUB_OUT"]

SUB_IN = tuple(SubIn)
SUB_OUT = tuple(SubOut)


def _check(what: str, value, allowed) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(map(str, allowed))}, got {value!r}")


def _check_sr(mode: str, sr_bits: int, sr_seed: int) -> None:
    if mode != "sr":
        return
    if not isinstance(sr_bits, int) or not 1 <= sr_bits <= 32:
        raise ValueError(f"sr_bits must be in 1..32, got {sr_bits!r}")
    if not isinstance(sr_seed, int) or not 1 <= sr_seed <= 0xFFFFFFFF:
        raise ValueError(f"sr_seed must be a nonzero 32-bit value, got {sr_seed!r}")


def _stages(latency: int) -> tuple[int, int]:
    """(input stages, output stages), as FpMul: one input register from latency 2 on."""
    first = 1 if latency >= 2 else 0
    return first, latency - first


def _signed_range(lo: int, hi: int) -> Shape:
    """A signed shape holding lo..hi (always signed, even when lo >= 0)."""
    return Shape.cast(range(min(lo, -1), max(hi, 0) + 1))
