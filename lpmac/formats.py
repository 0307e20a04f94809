"""Number formats of SPEC §1: floating point EeMm, fixed point Qi.f, block floating point BFPm/T.

Every format is a frozen dataclass validated at construction; a bad format raises
`FormatError` (a `ValueError`) whose message names the field and its valid range.
Each format has a compact string form that `parse_format` reads back.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from .errors import FormatError
from .modes import Specials, parse_mode

__all__ = [
    "FormatError",
    "FloatFormat",
    "FixedFormat",
    "BfpFormat",
    "parse_format",
    "parse_float_format",
    "SPECIALS",
    "FLOAT_ALIASES",
    "FP64",
]

SPECIALS = tuple(Specials)
_SPECIALS_SUFFIX = {"ieee": "", "inf_only": "-inf", "finite": "-fin"}

# User-facing float range (SPEC §1). Formats derived internally may be wider: the exact
# product of a multiplier, E(e+1)M(2m+1), reaches E9M47 for fp32, and the golden model
# views IEEE binary64 as E11M52 to convert from and to NumPy floats.
USER_E = (2, 8)
USER_M = (1, 23)
DERIVED_E = (2, 11)
DERIVED_M = (1, 52)
# Fixed point: an exact product of two Qi.f values must fit in a signed 64-bit integer.
FIXED_WIDTH = (2, 32)

FLOAT_ALIASES = {"fp32": (8, 23), "bf16": (8, 7), "fp16": (5, 10), "tf32": (8, 10)}


def _check_range(what: str, value: int, lo: int, hi: int) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or not lo <= value <= hi:
        raise FormatError(f"{what} must be an integer in {lo}..{hi}, got {value!r}")


@dataclass(frozen=True)
class FloatFormat:
    """Binary floating point: 1 sign bit, `e` exponent bits, `m` fraction bits.

    `specials` decides what the all-ones exponent field means (SPEC §1 table):
    `ieee` (inf and NaN), `inf_only` (only frac all ones is inf; CFG-4..6) or `finite`.
    """

    e: int
    m: int
    bias: int | None = None
    specials: str = "ieee"

    def __post_init__(self):
        _check_range("float exponent bits e", self.e, *DERIVED_E)
        _check_range("float fraction bits m", self.m, *DERIVED_M)
        if self.bias is None:
            object.__setattr__(self, "bias", (1 << (self.e - 1)) - 1)
        # Any bias keeps every finite value's exponent within int64 comfortably; require that
        # the format holds 1.0's neighbourhood sensibly: 0 <= bias <= 2^e - 1.
        _check_range(f"bias of E{self.e}M{self.m}", self.bias, 0, (1 << self.e) - 1)
        specials = parse_mode("specials", self.specials, SPECIALS, FormatError)
        object.__setattr__(self, "specials", specials)

    # --- derived constants ------------------------------------------------------------
    @property
    def width(self) -> int:
        return 1 + self.e + self.m

    @property
    def exp_all_ones(self) -> int:
        return (1 << self.e) - 1

    @property
    def emin(self) -> int:
        """Exponent of the smallest normal number."""
        return 1 - self.bias

    @property
    def emax(self) -> int:
        """Exponent of the largest IEEE-normal binade (field 2^e - 2); `inf_only`/`finite` add
        one."""
        return (1 << self.e) - 2 - self.bias

    @property
    def has_inf(self) -> bool:
        return self.specials in ("ieee", "inf_only")

    @property
    def has_nan(self) -> bool:
        return self.specials == "ieee"

    @property
    def max_field(self) -> int:
        """Largest exponent field of a finite value."""
        return self.exp_all_ones - 1 if self.specials == "ieee" else self.exp_all_ones

    @property
    def max_frac(self) -> int:
        """Largest fraction field at `max_field` (inf_only reserves frac all ones for inf)."""
        full = (1 << self.m) - 1
        return full - 1 if self.specials == "inf_only" else full

    @property
    def max_finite(self) -> float:
        return (1 + self.max_frac / (1 << self.m)) * 2.0 ** (self.max_field - self.bias)

    @property
    def standard_bias(self) -> bool:
        return self.bias == (1 << (self.e - 1)) - 1

    def with_specials(self, specials: str) -> FloatFormat:
        return replace(self, specials=specials)

    @property
    def is_user_format(self) -> bool:
        return USER_E[0] <= self.e <= USER_E[1] and USER_M[0] <= self.m <= USER_M[1]

    def __str__(self) -> str:
        bias = "" if self.standard_bias else f"b{self.bias}"
        return f"E{self.e}M{self.m}{bias}{_SPECIALS_SUFFIX[self.specials]}"


FP64 = FloatFormat(11, 52)  # NumPy's float64, the golden model's bridge to real numbers
FP32 = FloatFormat(8, 23)  # IEEE binary32: the FP32 side of converters, systems and training


@dataclass(frozen=True)
class FixedFormat:
    """Two's complement fixed point Qi.f: `i` integer bits including the sign, `f` fraction bits."""

    i: int
    f: int

    def __post_init__(self):
        _check_range("fixed integer bits i (sign included)", self.i, 1, FIXED_WIDTH[1])
        _check_range("fixed fraction bits f", self.f, 0, FIXED_WIDTH[1] - 1)
        if not FIXED_WIDTH[0] <= self.i + self.f <= FIXED_WIDTH[1]:
            raise FormatError(
                f"fixed width i+f must be in {FIXED_WIDTH[0]}..{FIXED_WIDTH[1]}, "
                f"got Q{self.i}.{self.f} ({self.i + self.f} bits)"
            )

    @property
    def width(self) -> int:
        return self.i + self.f

    @property
    def min_int(self) -> int:
        """Smallest raw integer (the value is raw * 2^-f)."""
        return -(1 << (self.width - 1))

    @property
    def max_int(self) -> int:
        return (1 << (self.width - 1)) - 1

    def __str__(self) -> str:
        return f"Q{self.i}.{self.f}"


@dataclass(frozen=True)
class BfpFormat:
    """Block floating point BFPm/T: T elements of m-bit two's complement (sign included)
    sharing one exponent; |k| <= 2^(m-1) - 1 (symmetric, as OCP MX)."""

    m: int
    T: int
    exp_bits: int = field(default=8)

    def __post_init__(self):
        _check_range("BFP element bits m (sign included)", self.m, 2, 24)
        _check_range("BFP block length T", self.T, 1, 4096)
        _check_range("BFP shared-exponent bits", self.exp_bits, 2, 16)

    @property
    def kmax(self) -> int:
        return (1 << (self.m - 1)) - 1

    def __str__(self) -> str:
        return f"BFP{self.m}/{self.T}"


_FLOAT_RE = re.compile(r"^E(\d+)M(\d+)(?:B(\d+))?(?:-(INF|FIN|IEEE))?$")
_FIXED_RE = re.compile(r"^Q(\d+)\.(\d+)$")
_BFP_RE = re.compile(r"^BFP(\d+)/(\d+)$")
_SUFFIX_SPECIALS = {"INF": "inf_only", "FIN": "finite", "IEEE": "ieee", None: "ieee"}

_HELP = (
    "expected EeMm (2<=e<=8, 1<=m<=23; optional bias 'bN' and specials suffix '-inf' or '-fin'), "
    "fp32/bf16/fp16/tf32, Qi.f (2<=i+f<=32) or BFPm/T"
)


def parse_float_format(spec: str, *, derived: bool = False) -> FloatFormat:
    """Parse a float format name; `derived=True` admits the wide internal formats (up to E11M52)."""
    fmt = parse_format(spec, derived=derived)
    if not isinstance(fmt, FloatFormat):
        raise FormatError(
            f"{spec!r} is not a floating-point format; expected EeMm or fp32/bf16/fp16/tf32"
        )
    return fmt


def parse_format(spec: str, *, derived: bool = False) -> FloatFormat | FixedFormat | BfpFormat:
    """Read a format name: 'E5M2', 'E5M2-inf', 'E5M2b12', 'fp16', 'Q8.13', 'BFP8/24'."""
    if not isinstance(spec, str):
        raise FormatError(f"a format name is a string, got {type(spec).__name__} {spec!r}; {_HELP}")
    if not spec.strip():
        raise FormatError(f"empty format name; {_HELP}")
    text = spec.strip()
    key = text.lower()
    if key in FLOAT_ALIASES:
        return FloatFormat(*FLOAT_ALIASES[key])
    upper = text.upper()
    if m := _FLOAT_RE.match(upper):
        e, mm = int(m.group(1)), int(m.group(2))
        lo_e, hi_e = DERIVED_E if derived else USER_E
        lo_m, hi_m = DERIVED_M if derived else USER_M
        if not lo_e <= e <= hi_e:
            raise FormatError(f"{spec!r}: exponent bits must be in {lo_e}..{hi_e}, got {e}")
        if not lo_m <= mm <= hi_m:
            raise FormatError(f"{spec!r}: fraction bits must be in {lo_m}..{hi_m}, got {mm}")
        bias = int(m.group(3)) if m.group(3) is not None else None
        return FloatFormat(e, mm, bias, _SUFFIX_SPECIALS[m.group(4)])
    if m := _FIXED_RE.match(upper):
        return FixedFormat(int(m.group(1)), int(m.group(2)))
    if m := _BFP_RE.match(upper):
        return BfpFormat(int(m.group(1)), int(m.group(2)))
    raise FormatError(f"unknown format {spec!r}; {_HELP}")
