"""Encodings of the special results of a float format (SPEC §1), shared by the golden model
and the hardware: inf, the largest finite value and NaN, as each specials policy has them."""

from __future__ import annotations

from .formats import FloatFormat

__all__ = ["SPECIAL_KINDS", "special_encoding"]

SPECIAL_KINDS = ("inf", "max", "nan")


def special_encoding(fmt: FloatFormat, kind: str, negative: bool = False) -> int:
    """Bits of 'inf', 'max' (largest finite) or 'nan' with the given sign.

    NaN is the canonical quiet NaN (sign bit clear) where the format has NaN; a format
    without NaN encodes NaN as inf with the given sign (SPEC §1: invalid operations give inf
    there); one without inf (`finite`) uses max finite instead."""
    if kind not in SPECIAL_KINDS:
        raise ValueError(f"special kind must be one of {', '.join(SPECIAL_KINDS)}, got {kind!r}")
    if kind == "nan" and fmt.has_nan:
        return fmt.exp_all_ones << fmt.m | 1 << (fmt.m - 1)
    if kind in ("nan", "inf") and fmt.has_inf:
        frac = (1 << fmt.m) - 1 if fmt.specials == "inf_only" else 0
        mag = fmt.exp_all_ones << fmt.m | frac
    else:
        mag = fmt.max_field << fmt.m | fmt.max_frac
    return (1 << (fmt.width - 1) if negative else 0) | mag
