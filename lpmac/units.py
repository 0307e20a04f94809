"""The units a user can name on the command line, with their options, defined once.

`lpmac generate|sim|synth <unit> [options]` all read the same options; each unit's
`resolve` turns them into validated configuration objects (the keyword arguments of the
unit's builder in `lpmac.hdl.generate` and of its bench in `lpmac.sim.benches`)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import click

from .config import AccConfig, GemmConfig, MacConfig, MulConfig
from .formats import BfpFormat, FixedFormat, FloatFormat, parse_float_format, parse_format


@dataclass(frozen=True)
class UnitSpec:
    name: str
    help: str
    options: Callable[[], list[click.Option]]  # fresh click options per command
    resolve: Callable[..., dict]  # click values -> builder keyword arguments


def _float(text: str, what: str, derived: bool = False) -> FloatFormat:
    fmt = parse_float_format(text, derived=derived)
    return fmt


def _fixed(text: str, what: str) -> FixedFormat:
    fmt = parse_format(text)
    if not isinstance(fmt, FixedFormat):
        raise ValueError(f"{what} must be a fixed-point format Qi.f (2<=i+f<=32), got {text!r}")
    return fmt


def _bfp(text: str) -> BfpFormat:
    fmt = parse_format(text)
    if not isinstance(fmt, BfpFormat):
        raise ValueError(f"--bfp must be a block floating-point format BFPm/T, got {text!r}")
    return fmt


def _latency():
    return click.Option(
        ["--latency"],
        type=click.IntRange(0, 8),
        default=0,
        show_default=True,
        help="Pipeline register stages (0 = combinational).",
    )


def _mul_options():
    return [
        click.Option(
            ["--fmt"],
            required=True,
            help="Input format EeMm (2<=e<=8, 1<=m<=23) or fp16/bf16/fp32/tf32.",
        ),
        click.Option(
            ["--cfg"],
            default="1",
            show_default=True,
            help="Preset CFG-1..6 of the reference slides.",
        ),
        click.Option(
            ["--sub-in"],
            type=click.Choice(["ieee", "as_normal", "flush"]),
            help="Override: subnormal inputs.",
        ),
        click.Option(
            ["--round", "rnd"],
            type=click.Choice(["rne", "none"]),
            help="Override: output rounding.",
        ),
        click.Option(
            ["--sub-out"], type=click.Choice(["ieee", "flush"]), help="Override: subnormal outputs."
        ),
        _latency(),
        click.Option(
            ["--no-dsp"], is_flag=True, help="Keep the significand product out of DSP blocks."
        ),
    ]


def _mul_resolve(fmt, cfg, sub_in, rnd, sub_out, latency, no_dsp):
    preset = str(cfg).lower().removeprefix("cfg")
    knobs = [f"cfg{preset}"] + [
        f"{k}={v}" for k, v in (("sub_in", sub_in), ("round", rnd), ("sub_out", sub_out)) if v
    ]
    return {
        "cfg": MulConfig.parse(f"{fmt}:{','.join(knobs)}"),
        "latency": latency,
        "use_dsp": not no_dsp,
    }


def _fixmul_options():
    return [
        click.Option(
            ["--fmt"], required=True, help="Fixed format Qi.f (i includes the sign, 2<=i+f<=32)."
        ),
        click.Option(
            ["--round", "rnd"], type=click.Choice(["rne", "rz"]), default="rne", show_default=True
        ),
        _latency(),
        click.Option(["--no-dsp"], is_flag=True, help="Keep the product out of DSP blocks."),
    ]


def _fixmul_resolve(fmt, rnd, latency, no_dsp):
    return {"fmt": _fixed(fmt, "--fmt"), "rounding": rnd, "latency": latency, "use_dsp": not no_dsp}


def _acc_options():
    return [
        click.Option(
            ["--config", "spec"],
            required=True,
            help="Accumulator: E6M5, E6M5:rz, E6M5:rne,flush, E6M5:sr,bits=8,seed=3, Q8.13.",
        ),
        click.Option(
            ["--in", "x_fmt"],
            default=None,
            help="Input format (default: the accumulator's), e.g. E6M5-inf.",
        ),
    ]


def _acc_resolve(spec, x_fmt):
    cfg = AccConfig.parse(spec)
    if x_fmt and cfg.is_fixed:
        raise ValueError(
            "--in applies to float accumulators only (a fixed accumulator adds Qi.f values)"
        )
    return {"cfg": cfg, "x_fmt": _float(x_fmt, "--in", derived=True) if x_fmt else None}


def _mac_options():
    return [
        click.Option(
            ["--config", "spec"],
            required=True,
            help="MUL+ACC, e.g. E5M2:cfg5+E6M5 or E5M2:cfg5+Q8.13.",
        )
    ]


def _mac_resolve(spec):
    return {"cfg": MacConfig.parse(spec)}


def _convert_options():
    return [
        click.Option(["--from", "src"], required=True, help="Source format: EeMm or Qi.f."),
        click.Option(["--to", "dst"], required=True, help="Target format: EeMm or Qi.f."),
        click.Option(
            ["--round", "rnd"],
            type=click.Choice(["rne", "rna", "rz", "sr"]),
            default="rne",
            show_default=True,
        ),
        click.Option(["--saturate"], is_flag=True, help="Overflow and inf give max finite."),
        click.Option(
            ["--sub-out"], type=click.Choice(["ieee", "flush"]), default="ieee", show_default=True
        ),
        _latency(),
    ]


def _convert_resolve(src, dst, rnd, saturate, sub_out, latency):
    s, d = parse_format(src, derived=True), parse_format(dst)
    if isinstance(s, BfpFormat) or isinstance(d, BfpFormat):
        raise ValueError("BFP conversions are the units tobfp and frombfp")
    if isinstance(s, FixedFormat) and isinstance(d, FixedFormat):
        raise ValueError(
            "fixed->fixed is not a converter; use float->float, float->fixed or fixed->float"
        )
    if isinstance(d, FixedFormat) and rnd not in ("rne", "rz"):
        raise ValueError(f"float->fixed rounding must be rne or rz, got {rnd}")
    if isinstance(s, FixedFormat) and rnd == "sr":
        raise ValueError("fixed->float supports rne, rna and rz")
    return {
        "src": s,
        "dst": d,
        "mode": rnd,
        "saturate": saturate,
        "sub_out": sub_out,
        "latency": latency,
    }


def _tobfp_options():
    return [
        click.Option(
            ["--fmt"], required=True, help="Element float format (EeMm, fp32, bf16, fp16)."
        ),
        click.Option(["--bfp"], default="BFP8/32", show_default=True, help="Block format BFPm/T."),
        click.Option(
            ["--round", "rnd"],
            type=click.Choice(["rne", "rna", "rz", "sr"]),
            default="rne",
            show_default=True,
        ),
        _latency(),
    ]


def _tobfp_resolve(fmt, bfp, rnd, latency):
    return {"fmt": _float(fmt, "--fmt"), "bfp": _bfp(bfp), "mode": rnd, "latency": latency}


def _frombfp_options():
    return [
        click.Option(["--bfp"], default="BFP8/32", show_default=True, help="Block format BFPm/T."),
        click.Option(
            ["--to", "dst"], default="fp32", show_default=True, help="Target float format."
        ),
        _latency(),
    ]


def _frombfp_resolve(bfp, dst, latency):
    return {"bfp": _bfp(bfp), "dst": _float(dst, "--to"), "latency": latency}


def _gemm_options():
    return [
        click.Option(["--rows"], type=click.IntRange(1, 64), default=16, show_default=True),
        click.Option(["--cols"], type=click.IntRange(1, 64), default=4, show_default=True),
        click.Option(
            ["--mant"],
            type=click.IntRange(2, 24),
            default=8,
            show_default=True,
            help="BFP element bits m (sign included).",
        ),
        click.Option(
            ["--tile"],
            type=click.IntRange(1, 4096),
            default=24,
            show_default=True,
            help="K-tile length T (block size).",
        ),
        click.Option(["--in", "in_fmt"], default="fp32", show_default=True),
        click.Option(["--out", "out_fmt"], default="fp32", show_default=True),
        click.Option(
            ["--round", "rnd"],
            type=click.Choice(["rne", "rna", "sr"]),
            default="rne",
            show_default=True,
        ),
    ]


def _gemm_resolve(rows, cols, mant, tile, in_fmt, out_fmt, rnd):
    cfg = GemmConfig(BfpFormat(mant, tile), _float(in_fmt, "--in"), _float(out_fmt, "--out"), rnd)
    return {"rows": rows, "cols": cols, "cfg": cfg}


UNITS: dict[str, UnitSpec] = {
    u.name: u
    for u in [
        UnitSpec(
            "mul",
            "Floating-point multiplier a*b -> p (CFG-1..6 or free knobs).",
            _mul_options,
            _mul_resolve,
        ),
        UnitSpec(
            "fixmul",
            "Fixed-point multiplier Qi.f x Qi.f -> Qi.f (rounded, saturated).",
            _fixmul_options,
            _fixmul_resolve,
        ),
        UnitSpec(
            "acc",
            "Accumulator acc <- acc + x (float rne/rz/sr, or fixed saturating).",
            _acc_options,
            _acc_resolve,
        ),
        UnitSpec(
            "mac",
            "MAC unit: multiplier, float->fixed converter if needed, accumulator.",
            _mac_options,
            _mac_resolve,
        ),
        UnitSpec(
            "convert",
            "Converter float->float, float->fixed or fixed->float.",
            _convert_options,
            _convert_resolve,
        ),
        UnitSpec(
            "tobfp",
            "Float -> BFP block converter (T values per cycle).",
            _tobfp_options,
            _tobfp_resolve,
        ),
        UnitSpec("frombfp", "BFP block -> floats converter.", _frombfp_options, _frombfp_resolve),
        UnitSpec("gemm", "Systolic BFP GEMM array (HBFP).", _gemm_options, _gemm_resolve),
    ]
}


# --- unit configuration strings (sweep points, `lpmac run`) -------------------------------
# The inverse of `lpmac.hdl.generate.Unit.config`: one string names one unit completely, so a
# sweep point is (unit, config string, synthesis options).


def _split_mode(text: str, default: str) -> tuple[str, str]:
    body, _, mode = text.rpartition(":") if ":" in text else (text, "", default)
    return body, mode or default


def _arrow(text: str, what: str) -> tuple[str, str]:
    src, arrow, dst = text.partition("->")
    if not arrow or not src.strip() or not dst.strip():
        raise ValueError(f"{what} config {text!r} must be SRC->DST, e.g. E6M3->Q8.13:rne")
    return src.strip(), dst.strip()


def _point_mul(config: str, use_dsp: bool = True) -> dict:
    return {"cfg": MulConfig.parse(config), "latency": 0, "use_dsp": use_dsp}


def _point_fixmul(config: str, use_dsp: bool = True) -> dict:
    body, mode = _split_mode(config, "rne")
    return _fixmul_resolve(body, mode, 0, not use_dsp)


def _point_acc(config: str, use_dsp: bool = True) -> dict:
    spec, at, x_fmt = config.partition("@")  # 'E7M7@E7M7-inf': accumulate E7M7-inf inputs
    return _acc_resolve(spec, x_fmt if at else None)


def _point_mac(config: str, use_dsp: bool = True) -> dict:
    return {"cfg": MacConfig.parse(config)}


def _point_convert(config: str, use_dsp: bool = True) -> dict:
    body, mode = _split_mode(config, "rne") if config.count(":") else (config, "rne")
    src, dst = _arrow(body, "converter")
    return _convert_resolve(src, dst, mode, False, "ieee", 0)


def _point_tobfp(config: str, use_dsp: bool = True) -> dict:
    body, mode = _split_mode(config, "rne") if config.count(":") else (config, "rne")
    src, dst = _arrow(body, "tobfp")
    return _tobfp_resolve(src, dst, mode, 0)


def _point_frombfp(config: str, use_dsp: bool = True) -> dict:
    src, dst = _arrow(config, "frombfp")
    return _frombfp_resolve(src, dst, 0)


def _point_gemm(config: str, use_dsp: bool = True) -> dict:
    size, _, spec = config.partition(":")  # '16x4:BFP8/24:in=fp16'
    rows, x, cols = size.lower().partition("x")
    if not x or not rows.isdigit() or not cols.isdigit():
        raise ValueError(f"gemm config {config!r} must be RxC:BFPm/T[:options], e.g. 16x4:BFP8/24")
    return {"rows": int(rows), "cols": int(cols), "cfg": GemmConfig.parse(spec)}


POINT_PARSERS: dict[str, Callable[..., dict]] = {
    "mul": _point_mul,
    "fixmul": _point_fixmul,
    "acc": _point_acc,
    "mac": _point_mac,
    "convert": _point_convert,
    "tobfp": _point_tobfp,
    "frombfp": _point_frombfp,
    "gemm": _point_gemm,
}

POINT_EXAMPLES = {
    "mul": "E4M3:cfg1",
    "fixmul": "Q8.8",
    "acc": "E6M5 or E7M7@E7M7-inf",
    "mac": "E5M2:cfg5+E6M5",
    "convert": "E6M3->Q8.13",
    "tobfp": "fp32->BFP8/32:rne",
    "frombfp": "BFP8/32->fp32",
    "gemm": "16x4:BFP8/24",
}


def parse_point(unit: str, config: str, use_dsp: bool = True) -> dict:
    """Builder keyword arguments for `unit` named by one configuration string (see
    POINT_EXAMPLES); raises ValueError (or a subclass) naming what is wrong."""
    if unit not in POINT_PARSERS:
        raise ValueError(f"unknown unit {unit!r}; units are {', '.join(POINT_PARSERS)}")
    return POINT_PARSERS[unit](config, use_dsp)
