"""Command-line options, their resolution and configuration-string parsers of the built-in
units (declared in `lpmac.units`).

Each unit has `<unit>_options()` (fresh click options for `lpmac generate|sim|synth <unit>`),
`<unit>_resolve(**values)` (their values -> the builder's validated keyword arguments) and
`point_<unit>(config, use_dsp)` (the same keyword arguments from one configuration string,
the inverse of `lpmac.hdl.generate.Unit.config`: a sweep point is (unit, config string,
synthesis options))."""

from __future__ import annotations

import re

import click

from . import modes
from .config import AccConfig, GemmConfig, MacConfig, MulConfig
from .errors import ConfigError
from .formats import BfpFormat, FixedFormat, FloatFormat, parse_float_format, parse_format
from .modes import SubIn, SubOut, names


def _float(text: str, derived: bool = False) -> FloatFormat:
    return parse_float_format(text, derived=derived)


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


def latency_option():
    return click.Option(
        ["--latency"],
        type=click.IntRange(0, 8),
        default=0,
        show_default=True,
        help="Pipeline register stages (0 = combinational).",
    )


def round_option(choices):
    """--round for units whose rounding defaults to round-to-nearest-even."""
    return click.Option(
        ["--round", "rnd"], type=click.Choice(names(choices)), default="rne", show_default=True
    )


def mul_options():
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
            type=click.Choice(names(SubIn)),
            help="Override: subnormal inputs.",
        ),
        click.Option(
            ["--round", "rnd"],
            type=click.Choice(names(modes.MUL_ROUND)),
            help="Override: output rounding.",
        ),
        click.Option(
            ["--sub-out"], type=click.Choice(names(SubOut)), help="Override: subnormal outputs."
        ),
        latency_option(),
        click.Option(
            ["--no-dsp"], is_flag=True, help="Keep the significand product out of DSP blocks."
        ),
        click.Option(
            ["--ecp5-dsp"],
            is_flag=True,
            help="ECP5 only: the significands in a MULT18X18D's input registers "
            "(significands <= 17 bits, --latency >= 4).",
        ),
    ]


def mul_resolve(fmt, cfg, sub_in, rnd, sub_out, latency, no_dsp, ecp5_dsp=False):
    # Strictly 1..6, cfg1..cfg6 or CFG-1..CFG-6: `--cfg -1` is not CFG-1.
    match = re.fullmatch(r"(?:cfg-?)?([1-6])", str(cfg).strip(), re.IGNORECASE)
    if match is None:
        raise ConfigError(f"--cfg: valid presets are 1..6 (cfg1..cfg6, CFG-1..CFG-6), got {cfg!r}")
    preset = match.group(1)
    knobs = [f"cfg{preset}"] + [
        f"{k}={v}" for k, v in (("sub_in", sub_in), ("round", rnd), ("sub_out", sub_out)) if v
    ]
    resolved = {
        "cfg": (mul_cfg := MulConfig.parse(f"{fmt}:{','.join(knobs)}")),
        "latency": latency,
        "use_dsp": not no_dsp,
    }
    if not ecp5_dsp:  # the keyword only when asked: sweep points and benches as before
        return resolved
    # The hdl builder refuses these too; here they stop the command before any tool starts.
    if no_dsp:
        raise ConfigError("--ecp5-dsp puts the product into a DSP: drop --no-dsp")
    if mul_cfg.in_format.m > 16:
        raise ConfigError(
            f"--ecp5-dsp: the {mul_cfg.in_format.m + 1}-bit significands of {fmt} do not fit one "
            "MULT18X18D (at most 17 bits: E4M3, fp16, bf16, ...)"
        )
    if latency < 4:
        raise ConfigError(
            f"--ecp5-dsp needs --latency >= 4 (the DSP's input registers are the 4th pipeline "
            f"cut, `operands`), got {latency}"
        )
    return resolved | {"ecp5_dsp": True}


def fixmul_options():
    return [
        click.Option(
            ["--fmt"], required=True, help="Fixed format Qi.f (i includes the sign, 2<=i+f<=32)."
        ),
        round_option(modes.FIXED_ROUND),
        latency_option(),
        click.Option(["--no-dsp"], is_flag=True, help="Keep the product out of DSP blocks."),
    ]


def fixmul_resolve(fmt, rnd, latency, no_dsp):
    return {"fmt": _fixed(fmt, "--fmt"), "rounding": rnd, "latency": latency, "use_dsp": not no_dsp}


def acc_options():
    return [
        click.Option(
            ["--config", "spec"],
            required=True,
            help=(
                "Accumulator: E6M5, E6M5:rz, E6M5:rne,flush, E6M5:sr,bits=8,seed=3, Q8.13, "
                "E6M5:long (exact wide register, rounded once when read)."
            ),
        ),
        click.Option(
            ["--in", "x_fmt"],
            default=None,
            help="Input format (default: the accumulator's), e.g. E6M5-inf.",
        ),
        click.Option(
            ["--latency"],
            type=click.IntRange(1, 8),
            default=None,
            help=(
                "Cycles from an input to `acc` reflecting it, 1..8 (default 1; the extra "
                "stages register the input). A long accumulator's latency follows its width."
            ),
        ),
        no_dsp_option("Keep the wide float normaliser out of DSP blocks (LUTs only)."),
    ]


def no_dsp_option(help_text: str):
    return click.Option(["--no-dsp"], is_flag=True, help=help_text)


def acc_resolve(spec, x_fmt, latency=None, no_dsp=False):
    cfg = AccConfig.parse(spec)
    if x_fmt and cfg.is_fixed:
        raise ValueError(
            "--in applies to float accumulators only (a fixed accumulator adds Qi.f values)"
        )
    if cfg.is_long and latency is not None:
        raise ValueError(
            f"--latency: {cfg} is a long accumulator, whose latency follows from its width "
            "(drop --latency)"
        )
    return {
        "cfg": cfg,
        "x_fmt": _float(x_fmt, derived=True) if x_fmt else None,
        "latency": latency,
        "use_dsp": not no_dsp,
    }


def mac_options():
    return [
        click.Option(
            ["--config", "spec"],
            required=True,
            help="MUL+ACC, e.g. E5M2:cfg5+E6M5 or E5M2:cfg5+Q8.13.",
        ),
        click.Option(
            ["--latency"],
            type=click.IntRange(1, 8),
            default=1,
            show_default=True,
            help="Mac latency 1..8: latency - 1 pipeline stages inside the multiplier.",
        ),
        no_dsp_option("Keep the significand product and normaliser out of DSP blocks."),
    ]


def mac_resolve(spec, latency=1, no_dsp=False):
    return {"cfg": MacConfig.parse(spec), "latency": latency, "use_dsp": not no_dsp}


def convert_options():
    return [
        click.Option(["--from", "src"], required=True, help="Source format: EeMm or Qi.f."),
        click.Option(["--to", "dst"], required=True, help="Target format: EeMm or Qi.f."),
        round_option(modes.CONVERT_ROUND),
        click.Option(["--saturate"], is_flag=True, help="Overflow and inf give max finite."),
        click.Option(
            ["--sub-out"], type=click.Choice(names(SubOut)), default="ieee", show_default=True
        ),
        latency_option(),
    ]


def convert_resolve(src, dst, rnd, saturate, sub_out, latency):
    s, d = parse_format(src, derived=True), parse_format(dst)
    if isinstance(s, BfpFormat) or isinstance(d, BfpFormat):
        raise ValueError("BFP conversions are the units tobfp and frombfp")
    if isinstance(s, FixedFormat) and isinstance(d, FixedFormat):
        raise ValueError(
            "fixed->fixed is not a converter; use float->float, float->fixed or fixed->float"
        )
    if isinstance(d, FixedFormat) and rnd not in modes.FIXED_ROUND:
        raise ValueError(f"float->fixed rounding must be rne or rz, got {rnd}")
    if isinstance(s, FixedFormat) and rnd == modes.Rounding.SR:
        raise ValueError("fixed->float supports rne, rna and rz")
    return {
        "src": s,
        "dst": d,
        "mode": rnd,
        "saturate": saturate,
        "sub_out": sub_out,
        "latency": latency,
    }


def tobfp_options():
    return [
        click.Option(
            ["--fmt"], required=True, help="Element float format (EeMm, fp32, bf16, fp16)."
        ),
        click.Option(["--bfp"], default="BFP8/32", show_default=True, help="Block format BFPm/T."),
        round_option(modes.CONVERT_ROUND),
        latency_option(),
    ]


def tobfp_resolve(fmt, bfp, rnd, latency):
    return {"fmt": _float(fmt), "bfp": _bfp(bfp), "mode": rnd, "latency": latency}


def frombfp_options():
    return [
        click.Option(["--bfp"], default="BFP8/32", show_default=True, help="Block format BFPm/T."),
        click.Option(
            ["--to", "dst"], default="fp32", show_default=True, help="Target float format."
        ),
        latency_option(),
    ]


def frombfp_resolve(bfp, dst, latency):
    return {"bfp": _bfp(bfp), "dst": _float(dst), "latency": latency}


def gemm_options():
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
            type=click.Choice(names(modes.GEMM_CLI_ROUND)),
            default="rne",
            show_default=True,
        ),
        click.Option(
            ["--pipelined"],
            is_flag=True,
            help="Register stages in the PEs, feeds and columns for a high clock (same "
            "results, more cycles of latency; docs/results/timing.md).",
        ),
        click.Option(
            ["--ecp5-dsp"],
            is_flag=True,
            help="With --pipelined, ECP5 only: the PEs' operand registers inside instantiated "
            "MULT18X18D blocks (same cycles and results).",
        ),
        click.Option(
            ["--xcup-dsp"],
            is_flag=True,
            help="UltraScale+ (xcup) only: each PE's multiply-accumulate in one instantiated "
            "DSP48E2 accumulating in its P register, as Vivado infers it (same cycles and "
            "results).",
        ),
    ]


def gemm_resolve(
    rows, cols, mant, tile, in_fmt, out_fmt, rnd, pipelined=False, ecp5_dsp=False, xcup_dsp=False
):
    cfg = GemmConfig(BfpFormat(mant, tile), _float(in_fmt), _float(out_fmt), rnd)
    resolved = {"rows": rows, "cols": cols, "cfg": cfg, "pipelined": pipelined}
    if ecp5_dsp and xcup_dsp:
        raise ConfigError("--ecp5-dsp and --xcup-dsp are for different devices: give one")
    if xcup_dsp:  # BfpGemmArray refuses a BFP format whose MAC does not fit one DSP48E2
        return resolved | {"xcup_dsp": True}
    if not ecp5_dsp:
        return resolved
    if not pipelined:
        raise ConfigError(
            "--ecp5-dsp puts the pipelined PEs' operand registers into the DSPs: add --pipelined"
        )
    return resolved | {"ecp5_dsp": True}


# --- configuration strings --------------------------------------------------------------


def _split_mode(text: str, default: str) -> tuple[str, str]:
    body, _, mode = text.rpartition(":") if ":" in text else (text, "", default)
    return body, mode or default


def _arrow(text: str, what: str) -> tuple[str, str]:
    src, arrow, dst = text.partition("->")
    if not arrow or not src.strip() or not dst.strip():
        raise ValueError(f"{what} config {text!r} must be SRC->DST, e.g. E6M3->Q8.13:rne")
    return src.strip(), dst.strip()


def point_mul(config: str, use_dsp: bool = True) -> dict:
    return {"cfg": MulConfig.parse(config), "latency": 0, "use_dsp": use_dsp}


def point_fixmul(config: str, use_dsp: bool = True) -> dict:
    body, mode = _split_mode(config, "rne")
    return fixmul_resolve(body, mode, 0, not use_dsp)


def point_acc(config: str, use_dsp: bool = True) -> dict:
    spec, at, x_fmt = config.partition("@")  # 'E7M7@E7M7-inf': accumulate E7M7-inf inputs
    return acc_resolve(spec, x_fmt if at else None, no_dsp=not use_dsp)


def point_mac(config: str, use_dsp: bool = True) -> dict:
    return mac_resolve(config, no_dsp=not use_dsp)


def point_convert(config: str, use_dsp: bool = True) -> dict:
    body, mode = _split_mode(config, "rne") if config.count(":") else (config, "rne")
    src, dst = _arrow(body, "converter")
    return convert_resolve(src, dst, mode, False, "ieee", 0)


def point_tobfp(config: str, use_dsp: bool = True) -> dict:
    body, mode = _split_mode(config, "rne") if config.count(":") else (config, "rne")
    src, dst = _arrow(body, "tobfp")
    return tobfp_resolve(src, dst, mode, 0)


def point_frombfp(config: str, use_dsp: bool = True) -> dict:
    src, dst = _arrow(config, "frombfp")
    return frombfp_resolve(src, dst, 0)


def point_gemm(config: str, use_dsp: bool = True) -> dict:
    size, _, spec = config.partition(":")  # '16x4:BFP8/24:in=fp16'
    rows, x, cols = size.lower().partition("x")
    if not x or not rows.isdigit() or not cols.isdigit():
        raise ValueError(f"gemm config {config!r} must be RxC:BFPm/T[:options], e.g. 16x4:BFP8/24")
    return {"rows": int(rows), "cols": int(cols), "cfg": GemmConfig.parse(spec)}


# --- arrays of MAC units (array, system) -------------------------------------------------


def parse_sized_mac(text: str, what: str) -> tuple[int, int, MacConfig]:
    """'16x4:E5M2:cfg5+E6M5' -> (16, 4, MacConfig); ConfigError names the fault."""
    size, _, spec = text.partition(":")
    rows, x, cols = size.lower().partition("x")
    if not x or not rows.isdigit() or not cols.isdigit() or not spec:
        raise ConfigError(f"{what} config {text!r} must be RxC:MUL+ACC, e.g. 16x4:E5M2:cfg5+E6M5")
    if int(rows) < 1 or int(cols) < 1:
        raise ConfigError(f"{what} config {text!r}: rows and cols must be >= 1")
    return int(rows), int(cols), MacConfig.parse(spec)


def mac_array_options():
    return [
        click.Option(["--rows"], type=click.IntRange(1, 64), default=16, show_default=True),
        click.Option(["--cols"], type=click.IntRange(1, 64), default=4, show_default=True),
        click.Option(
            ["--config", "spec"], required=True, help="MAC of every PE, e.g. E5M2:cfg5+E6M5."
        ),
        click.Option(["--no-dsp"], is_flag=True, help="Keep the multipliers out of DSP blocks."),
    ]


def mac_array_resolve(rows, cols, spec, no_dsp):
    return {"rows": rows, "cols": cols, "cfg": MacConfig.parse(spec), "use_dsp": not no_dsp}


def point_array(config: str, use_dsp: bool = True) -> dict:
    rows, cols, cfg = parse_sized_mac(config, "array")
    return {"rows": rows, "cols": cols, "cfg": cfg, "use_dsp": use_dsp}


def point_system(config: str, use_dsp: bool = True) -> dict:
    rows, cols, cfg = parse_sized_mac(config, "system")
    return {"rows": rows, "cols": cols, "cfg": cfg, "use_dsp": use_dsp}
