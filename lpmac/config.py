"""Configuration objects of the units (SPEC §2–5).

Frozen dataclasses, validated at construction with precise messages, so that the golden
model, the generators and the benches can trust them. Each has a compact string form that
`parse()` reads back, for the command line:

    MulConfig   E5M2:cfg5                 E5M2:sub_in=flush,round=rne,sub_out=ieee
    AccConfig   E6M5    E6M5:rz    E6M5:sr,bits=8,seed=7    E6M5:rne,flush    Q8.13
                E6M5:long (exact wide register, rounded once when read)
    MacConfig   E5M2:cfg5+E6M5            E5M2:cfg5+Q8.13
    GemmConfig  BFP8/24                   BFP8/24:in=bf16,out=fp32,round=sr,bits=8,seed=3
"""

from __future__ import annotations

from dataclasses import dataclass

from . import modes
from .errors import ConfigError
from .formats import (
    BfpFormat,
    FixedFormat,
    FloatFormat,
    FormatError,
    parse_float_format,
    parse_format,
)
from .modes import SubIn, SubOut, parse_mode

__all__ = ["ConfigError", "MulConfig", "AccConfig", "MacConfig", "GemmConfig", "CFG_PRESETS"]

# The modes each configuration accepts (lpmac.modes: enums that print as these names).
SUB_IN = tuple(SubIn)
MUL_ROUND = modes.MUL_ROUND
SUB_OUT = tuple(SubOut)
ACC_ROUND = modes.ACC_ROUND
ACC_MODES = modes.ACC_MODES
FIXED_ROUND = modes.FIXED_ROUND
BFP_ROUND = modes.CONVERT_ROUND
SR_BITS = (1, 32)

# SPEC §2: (specials, subnormal inputs, output rounding, subnormal output); cumulative presets.
CFG_PRESETS = {
    1: ("ieee", "ieee", "rne", "ieee"),
    2: ("ieee", "ieee", "rne", "flush"),
    3: ("ieee", "ieee", "none", "flush"),
    4: ("inf_only", "ieee", "none", "flush"),
    5: ("inf_only", "as_normal", "none", "flush"),
    6: ("inf_only", "flush", "none", "flush"),
}


def _choice(config, field: str, what: str, allowed: tuple) -> None:
    """Parse the mode `field` of the frozen `config` into its enum member (lpmac.modes)."""
    object.__setattr__(config, field, parse_mode(what, getattr(config, field), allowed))


def _check_sr(bits: int, seed: int) -> None:
    if not _plain_int(bits) or not SR_BITS[0] <= bits <= SR_BITS[1]:
        raise ConfigError(
            f"stochastic rounding bits must be in {SR_BITS[0]}..{SR_BITS[1]}, got {bits!r}"
        )
    if not _plain_int(seed) or not 1 <= seed <= 0xFFFFFFFF:
        raise ConfigError(f"xorshift32 seed must be in 1..{0xFFFFFFFF} (nonzero), got {seed!r}")


def _plain_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)  # True is not 1 bit


def _spec_text(spec, what: str) -> str:
    if not isinstance(spec, str):
        raise ConfigError(f"{what}.parse needs a string, got {type(spec).__name__} {spec!r}")
    return spec


def _split_options(text: str) -> tuple[list[str], dict[str, str]]:
    """'rz,bits=8' -> (['rz'], {'bits': '8'}); an option given twice is refused, not
    silently overridden by the last one."""
    flags, keys = [], {}
    for token in filter(None, (t.strip() for t in text.split(","))):
        if "=" in token:
            key, value = (s.strip() for s in token.split("=", 1))
            if key.lower() in keys:
                raise ConfigError(f"option {key.lower()}= given twice in {text!r}")
            keys[key.lower()] = value
        elif token.lower() in flags:
            raise ConfigError(f"option {token.lower()} given twice in {text!r}")
        else:
            flags.append(token.lower())
    return flags, keys


def _int_option(keys: dict, name: str, default: int, spec: str) -> int:
    if name not in keys:
        return default
    try:
        return int(keys.pop(name), 0)
    except ValueError:
        raise ConfigError(f"{spec!r}: option {name}= needs an integer") from None


def _no_leftovers(spec: str, flags: list, keys: dict) -> None:
    if flags or keys:
        extra = ", ".join(flags + [f"{k}=" for k in keys])
        raise ConfigError(f"{spec!r}: unknown option(s) {extra}")


@dataclass(frozen=True)
class MulConfig:
    """Floating-point multiplier `a*b -> p` (SPEC §2).

    The four knobs: `fmt.specials` (ieee/inf_only/finite), `sub_in` (ieee/as_normal/flush),
    `round` (rne into EeMm, or none: exact into the wide E(e+1)M(2m+1)) and `sub_out`
    (ieee/flush)."""

    fmt: FloatFormat
    sub_in: str = "ieee"
    round: str = "rne"
    sub_out: str = "ieee"

    def __post_init__(self):
        if not isinstance(self.fmt, FloatFormat):
            raise ConfigError(f"multiplier input format must be a FloatFormat, got {self.fmt!r}")
        if not self.fmt.is_user_format:
            raise ConfigError(
                f"multiplier input format {self.fmt} out of range: need 2<=e<=8 and 1<=m<=23"
            )
        _choice(self, "sub_in", "subnormal input mode sub_in", SUB_IN)
        _choice(self, "round", "multiplier output rounding", MUL_ROUND)
        _choice(self, "sub_out", "subnormal output mode sub_out", SUB_OUT)

    @classmethod
    def preset(cls, fmt: FloatFormat | str, cfg: int | str) -> MulConfig:
        """CFG-1..6 of the reference slides for input format `fmt`."""
        if isinstance(fmt, str):
            fmt = parse_float_format(fmt)
        number = _preset_number(cfg)
        specials, sub_in, rnd, sub_out = CFG_PRESETS[number]
        return cls(fmt.with_specials(specials), sub_in, rnd, sub_out)

    @property
    def specials(self) -> str:
        return self.fmt.specials

    @property
    def in_format(self) -> FloatFormat:
        return self.fmt

    @property
    def out_format(self) -> FloatFormat:
        """EeMm when rounding, else the wide exact format E(e+1)M(2m+1) with bias 2*bias+1
        (= the standard bias 2^e - 1 for standard-bias inputs), same specials."""
        f = self.fmt
        if self.round == "rne":
            return f
        return FloatFormat(f.e + 1, 2 * f.m + 1, 2 * f.bias + 1, f.specials)

    @property
    def preset_number(self) -> int | None:
        knobs = (self.specials, self.sub_in, self.round, self.sub_out)
        return next((n for n, p in CFG_PRESETS.items() if p == knobs), None)

    def __str__(self) -> str:
        n = self.preset_number
        if n is not None:
            return f"{self.fmt.with_specials('ieee')}:cfg{n}"
        return f"{self.fmt}:sub_in={self.sub_in},round={self.round},sub_out={self.sub_out}"

    @classmethod
    def parse(cls, spec: str) -> MulConfig:
        fmt_text, _, opts = _spec_text(spec, "MulConfig").partition(":")
        fmt = parse_float_format(fmt_text)
        flags, keys = _split_options(opts)
        cfgs = [f for f in flags if f.startswith("cfg")]
        if len(cfgs) > 1:
            raise ConfigError(f"{spec!r}: more than one CFG preset")
        base = cls.preset(fmt, cfgs[0]) if cfgs else cls(fmt)
        flags = [f for f in flags if not f.startswith("cfg")]
        specials = keys.pop("specials", base.specials)
        sub_in = keys.pop("sub_in", base.sub_in)
        rnd = keys.pop("round", base.round)
        sub_out = keys.pop("sub_out", base.sub_out)
        _no_leftovers(spec, flags, keys)
        try:
            fmt = base.fmt.with_specials(specials)
        except FormatError as err:
            raise ConfigError(f"{spec!r}: {err}") from None
        return cls(fmt, sub_in, rnd, sub_out)


def _preset_number(cfg: int | str) -> int:
    text = str(cfg).strip().lower()
    if text.startswith("cfg"):  # 'cfg5', 'CFG-5'; a bare '-1' is not CFG-1
        text = text[3:].removeprefix("-")
    if not text.isdigit() or int(text) not in CFG_PRESETS:
        raise ConfigError(f"unknown CFG preset {cfg!r}; valid presets are 1..6 (cfg1..cfg6)")
    return int(text)


@dataclass(frozen=True)
class AccConfig:
    """Accumulator (SPEC §3): float `acc <- round(acc + x)` or fixed saturating
    `acc <- sat(acc + x)`.

    For a fixed accumulator `rounding` (rne or rz) is that of the float->fixed converter a
    MAC places in front of it; `sub_out` and the stochastic-rounding fields are float only."""

    fmt: FloatFormat | FixedFormat
    rounding: str = "rne"
    sub_out: str = "ieee"
    sr_bits: int = 8
    sr_seed: int = 1

    def __post_init__(self):
        if isinstance(self.fmt, FloatFormat):
            if not self.fmt.is_user_format:
                raise ConfigError(
                    f"accumulator format {self.fmt} out of range: need 2<=e<=8 and 1<=m<=23"
                )
            _choice(self, "rounding", "accumulator rounding", ACC_MODES)
        elif isinstance(self.fmt, FixedFormat):
            _choice(self, "rounding", "fixed accumulator (converter) rounding", FIXED_ROUND)
        else:
            raise ConfigError(f"accumulator format must be EeMm or Qi.f, got {self.fmt}")
        _choice(self, "sub_out", "subnormal output mode sub_out", SUB_OUT)
        _check_sr(self.sr_bits, self.sr_seed)

    @property
    def is_fixed(self) -> bool:
        return isinstance(self.fmt, FixedFormat)

    @property
    def is_long(self) -> bool:
        """Exact wide fixed-point register, rounded (rne) once when read (`E6M5:long`)."""
        return self.rounding == modes.Rounding.LONG

    def __str__(self) -> str:
        opts = []
        if self.rounding != "rne":
            opts.append(self.rounding)
        if self.sub_out != "ieee":
            opts.append(self.sub_out)
        if self.rounding == "sr":
            opts += [f"bits={self.sr_bits}", f"seed={self.sr_seed}"]
        return f"{self.fmt}" + (":" + ",".join(opts) if opts else "")

    @classmethod
    def parse(cls, spec: str) -> AccConfig:
        fmt_text, _, opts = _spec_text(spec, "AccConfig").partition(":")
        fmt = parse_format(fmt_text)
        flags, keys = _split_options(opts)
        for kind, choices in (("rounding modes", ACC_MODES), ("subnormal modes", SUB_OUT)):
            if len(given := [f for f in flags if f in choices]) > 1:
                raise ConfigError(f"{spec!r}: more than one of the {kind} {', '.join(given)}")
        rounding = next((f for f in flags if f in ACC_MODES), "rne")
        sub_out = next((f for f in flags if f in SUB_OUT), "ieee")
        flags = [f for f in flags if f not in (rounding, sub_out)]
        bits = _int_option(keys, "bits", 8, spec)
        seed = _int_option(keys, "seed", 1, spec)
        _no_leftovers(spec, flags, keys)
        return cls(fmt, rounding, sub_out, bits, seed)


@dataclass(frozen=True)
class MacConfig:
    """Multiplier + accumulator; a float->fixed converter sits between them when the
    accumulator is fixed point (SPEC §4)."""

    mul: MulConfig
    acc: AccConfig

    def __post_init__(self):
        if not isinstance(self.mul, MulConfig) or not isinstance(self.acc, AccConfig):
            raise ConfigError("MacConfig needs a MulConfig and an AccConfig")

    @property
    def product_format(self) -> FloatFormat:
        return self.mul.out_format

    def __str__(self) -> str:
        return f"{self.mul}+{self.acc}"

    @classmethod
    def parse(cls, spec: str) -> MacConfig:
        mul_text, plus, acc_text = _spec_text(spec, "MacConfig").partition("+")
        if not plus or not acc_text.strip():
            raise ConfigError(
                f"{spec!r}: a MAC config is MUL+ACC, e.g. E5M2:cfg5+E6M5 or E5M2:cfg5+Q8.13"
            )
        return cls(MulConfig.parse(mul_text), AccConfig.parse(acc_text))


@dataclass(frozen=True)
class GemmConfig:
    """HBFP GEMM (SPEC §5): BFP blocks of `bfp.T` elements of `bfp.m` bits along K."""

    bfp: BfpFormat
    in_fmt: FloatFormat = FloatFormat(8, 23)
    out_fmt: FloatFormat = FloatFormat(8, 23)
    rounding: str = "rne"
    sr_bits: int = 8
    sr_seed: int = 1

    def __post_init__(self):
        if not isinstance(self.bfp, BfpFormat):
            raise ConfigError(f"GEMM needs a BFP format BFPm/T, got {self.bfp!r}")
        for name, fmt in (("input", self.in_fmt), ("output", self.out_fmt)):
            if not isinstance(fmt, FloatFormat) or not fmt.is_user_format:
                raise ConfigError(
                    f"GEMM {name} format must be EeMm with 2<=e<=8, 1<=m<=23, got {fmt}"
                )
        _choice(self, "rounding", "BFP conversion rounding", BFP_ROUND)
        _check_sr(self.sr_bits, self.sr_seed)

    @property
    def m(self) -> int:
        return self.bfp.m

    @property
    def T(self) -> int:
        return self.bfp.T

    def __str__(self) -> str:
        opts = []
        if self.in_fmt != FloatFormat(8, 23):
            opts.append(f"in={self.in_fmt}")
        if self.out_fmt != FloatFormat(8, 23):
            opts.append(f"out={self.out_fmt}")
        if self.rounding != "rne":
            opts.append(f"round={self.rounding}")
        if self.rounding == "sr":
            opts += [f"bits={self.sr_bits}", f"seed={self.sr_seed}"]
        return f"{self.bfp}" + (":" + ",".join(opts) if opts else "")

    @classmethod
    def parse(cls, spec: str) -> GemmConfig:
        bfp_text, _, opts = _spec_text(spec, "GemmConfig").partition(":")
        bfp = parse_format(bfp_text)
        if not isinstance(bfp, BfpFormat):
            raise ConfigError(f"{spec!r}: a GEMM config starts with BFPm/T, e.g. BFP8/24")
        flags, keys = _split_options(opts)
        in_fmt = parse_float_format(keys.pop("in", "fp32"))
        out_fmt = parse_float_format(keys.pop("out", "fp32"))
        rounding = keys.pop("round", "rne")
        bits = _int_option(keys, "bits", 8, spec)
        seed = _int_option(keys, "seed", 1, spec)
        _no_leftovers(spec, flags, keys)
        return cls(bfp, in_fmt, out_fmt, rounding, bits, seed)
