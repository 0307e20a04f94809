"""The modes of the units as enums, and the one place their names are parsed.

Every member is a `StrEnum`: it equals, hashes and prints as its name, so configuration
strings (`E6M5:sr`, `round=none`), command-line choices and comparisons with plain strings
keep working, and `str(cfg)` round-trips unchanged. Subsets name what each unit accepts."""

from __future__ import annotations

from enum import StrEnum

from .errors import ConfigError

__all__ = [
    "Rounding",
    "SubIn",
    "SubOut",
    "Specials",
    "Target",
    "parse_mode",
    "MUL_ROUND",
    "ACC_ROUND",
    "ACC_MODES",
    "FIXED_ROUND",
    "CONVERT_ROUND",
    "NEAREST_ROUND",
    "GEMM_CLI_ROUND",
]


class Rounding(StrEnum):
    RNE = "rne"  # round to nearest, ties to even
    RNA = "rna"  # round to nearest, ties away from zero
    RZ = "rz"  # toward zero
    SR = "sr"  # stochastic (xorshift32, SPEC §6)
    NONE = "none"  # exact: a multiplier's wide product format
    LONG = "long"  # accumulator: exact wide fixed-point register, one rne at read-out


class SubIn(StrEnum):
    """Subnormal inputs of a multiplier."""

    IEEE = "ieee"
    AS_NORMAL = "as_normal"  # read as if the field were 1 (the seed's E5M2 table)
    FLUSH = "flush"


class SubOut(StrEnum):
    """Subnormal results."""

    IEEE = "ieee"
    FLUSH = "flush"


class Specials(StrEnum):
    """What the all-ones exponent field means (SPEC §1)."""

    IEEE = "ieee"  # inf and NaN
    INF_ONLY = "inf_only"  # only frac all ones is inf (CFG-4..6)
    FINITE = "finite"  # no specials


class Target(StrEnum):
    """Synthesis targets (FPGA families)."""

    XCUP = "xcup"  # Xilinx UltraScale+, as the reference ZCU104
    XC7 = "xc7"
    ECP5 = "ecp5"
    ICE40 = "ice40"


MUL_ROUND = (Rounding.RNE, Rounding.NONE)
ACC_ROUND = (Rounding.RNE, Rounding.RZ, Rounding.SR)  # a rounding at every step
ACC_MODES = ACC_ROUND + (Rounding.LONG,)  # float accumulators (docs: "Long accumulator")
FIXED_ROUND = (Rounding.RNE, Rounding.RZ)
CONVERT_ROUND = (Rounding.RNE, Rounding.RNA, Rounding.RZ, Rounding.SR)  # also BFP
NEAREST_ROUND = (Rounding.RNE, Rounding.RNA, Rounding.RZ)  # without a random source
GEMM_CLI_ROUND = (Rounding.RNE, Rounding.RNA, Rounding.SR)


def parse_mode(what: str, value, allowed, error: type[Exception] = ConfigError):
    """The member of `allowed` named `value` (a member or its name); `error` (ConfigError by
    default) "<what> must be one of a, b, got 'x'" otherwise."""
    for member in allowed:
        if value == member:
            return member
    raise error(f"{what} must be one of {', '.join(allowed)}, got {value!r}")


def names(allowed) -> list[str]:
    """The names of `allowed`, e.g. for click.Choice."""
    return [str(member) for member in allowed]
