"""Seeding of the xorshift32 generators of SPEC §6, shared by the golden model and the hardware.

A rounding unit with several lanes (a block converter's elements, the PEs of a MAC array)
gives each lane its own generator; lane `lane` starts from `lane_seed(seed, lane)`."""

from __future__ import annotations

GOLDEN_RATIO_32 = 0x9E3779B9


def lane_seed(seed: int, lane: int) -> int:
    """Seed of lane `lane` of a multi-lane rounding unit (lane 0 keeps `seed`); never zero."""
    s = (seed ^ (GOLDEN_RATIO_32 * lane)) & 0xFFFFFFFF
    return s if s else GOLDEN_RATIO_32
