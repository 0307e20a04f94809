"""The `lpmac` command line.

Bad user input (an impossible format, an unknown CFG, a missing simulator...) prints one
line `lpmac: error: ...` naming the problem and the valid range, and exits with status 2.
"""

from __future__ import annotations

import sys

import click

from .config import AccConfig, ConfigError, GemmConfig, MacConfig, MulConfig
from .formats import FixedFormat, FormatError, parse_float_format, parse_format


class UserError(click.ClickException):
    """A problem with the user's input: one line, exit code 2."""

    exit_code = 2


def _parse(kind, text: str):
    try:
        return kind(text)
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def mul_config(fmt: str, cfg: str | None, sub_in, rnd, sub_out) -> MulConfig:
    """A MulConfig from --fmt/--cfg plus optional knob overrides."""
    preset = str(cfg).lower().removeprefix("cfg") if cfg else None
    spec = fmt + ":" + ",".join(filter(None, [
        f"cfg{preset}" if preset else None,
        f"sub_in={sub_in}" if sub_in else None, f"round={rnd}" if rnd else None,
        f"sub_out={sub_out}" if sub_out else None]))
    return _parse(MulConfig.parse, spec)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="lpmac")
def cli():
    """lpmac: low-precision MAC hardware generator, golden model, co-simulation and synthesis."""


# --- generate ---------------------------------------------------------------------------

def _output_options(f):
    f = click.option("-o", "--output", required=True, type=click.Path(dir_okay=False),
                     help="Verilog file to write (a .json sidecar is written beside it).")(f)
    f = click.option("--name", default=None, help="Top module name (default: derived from the configuration).")(f)
    return f


def _mul_knob_options(f):
    f = click.option("--sub-out", type=click.Choice(["ieee", "flush"]), default=None, help="Override: subnormal outputs.")(f)
    f = click.option("--round", "rnd", type=click.Choice(["rne", "none"]), default=None, help="Override: output rounding.")(f)
    f = click.option("--sub-in", type=click.Choice(["ieee", "as_normal", "flush"]), default=None,
                     help="Override: subnormal inputs.")(f)
    f = click.option("--cfg", default="1", show_default=True, help="Preset CFG-1..6 of the reference slides.")(f)
    f = click.option("--fmt", required=True, help="Input format EeMm (2<=e<=8, 1<=m<=23) or fp16/bf16/fp32/tf32.")(f)
    return f


def _emit(unit, output: str, name: str | None):
    from lpmac.hdl import generate as gen
    try:
        vpath, jpath = gen.write(unit, output, name)
    except OSError as err:
        raise UserError(f"cannot write {output}: {err.strerror}") from None
    click.echo(f"{unit.kind} {unit.config}: module {name or unit.name} -> {vpath} (+ {jpath})")


@cli.group()
def generate():
    """Generate the Verilog of one unit (deterministic; JSON sidecar with ports and config)."""


@generate.command("mul")
@_mul_knob_options
@click.option("--latency", type=click.IntRange(0, 8), default=0, show_default=True, help="Pipeline registers.")
@click.option("--no-dsp", is_flag=True, help="Keep the significand product in LUTs.")
@_output_options
def generate_mul(fmt, cfg, sub_in, rnd, sub_out, latency, no_dsp, output, name):
    """Floating-point multiplier a*b -> p."""
    from lpmac.hdl.generate import mul_unit
    _emit(mul_unit(mul_config(fmt, cfg, sub_in, rnd, sub_out), latency, not no_dsp), output, name)


@generate.command("fixmul")
@click.option("--fmt", required=True, help="Fixed format Qi.f (i includes the sign, 2<=i+f<=32).")
@click.option("--round", "rnd", type=click.Choice(["rne", "rz"]), default="rne", show_default=True)
@click.option("--latency", type=click.IntRange(0, 8), default=0, show_default=True)
@click.option("--no-dsp", is_flag=True)
@_output_options
def generate_fixmul(fmt, rnd, latency, no_dsp, output, name):
    """Fixed-point multiplier Qi.f x Qi.f -> Qi.f (rounded, saturated)."""
    from lpmac.hdl.generate import fixmul_unit
    f = _parse(parse_format, fmt)
    if not isinstance(f, FixedFormat):
        raise UserError(f"{fmt!r} is not a fixed-point format Qi.f")
    _emit(fixmul_unit(f, rnd, latency, not no_dsp), output, name)


@generate.command("acc")
@click.option("--config", "spec", required=True, help="Accumulator, e.g. E6M5, E6M5:rz, E6M5:sr,bits=8,seed=3, Q8.13.")
@click.option("--in", "x_fmt", default=None, help="Input format (default: the accumulator's), e.g. E6M5-inf.")
@_output_options
def generate_acc(spec, x_fmt, output, name):
    """Accumulator acc <- acc + x (float: rne/rz/sr; fixed: saturating)."""
    from lpmac.hdl.generate import acc_unit
    cfg = _parse(AccConfig.parse, spec)
    x = _parse(lambda t: parse_float_format(t, derived=True), x_fmt) if x_fmt else None
    _emit(acc_unit(cfg, x), output, name)


@generate.command("mac")
@click.option("--config", "spec", required=True, help="MUL+ACC, e.g. E5M2:cfg5+E6M5 or E5M2:cfg5+Q8.13.")
@_output_options
def generate_mac(spec, output, name):
    """Multiply-accumulate unit (multiplier, float->fixed converter if needed, accumulator)."""
    from lpmac.hdl.generate import mac_unit
    _emit(mac_unit(_parse(MacConfig.parse, spec)), output, name)


@generate.command("convert")
@click.option("--from", "src", required=True, help="Source format (EeMm or Qi.f).")
@click.option("--to", "dst", required=True, help="Target format (EeMm or Qi.f).")
@click.option("--round", "rnd", type=click.Choice(["rne", "rna", "rz", "sr"]), default="rne", show_default=True)
@click.option("--saturate", is_flag=True, help="Overflow and inf give max finite.")
@click.option("--sub-out", type=click.Choice(["ieee", "flush"]), default="ieee", show_default=True)
@click.option("--latency", type=click.IntRange(0, 8), default=0, show_default=True)
@_output_options
def generate_convert(src, dst, rnd, saturate, sub_out, latency, output, name):
    """Converter float->float, float->fixed or fixed->float."""
    from lpmac.hdl.generate import convert_unit
    s = _parse(lambda t: parse_format(t, derived=True), src)
    d = _parse(parse_format, dst)
    if isinstance(d, FixedFormat) and rnd not in ("rne", "rz"):
        raise UserError(f"float->fixed rounding must be rne or rz, got {rnd}")
    _emit(_parse(lambda _: convert_unit(s, d, rnd, saturate=saturate, sub_out=sub_out, latency=latency), ""),
          output, name)


# --- golden -----------------------------------------------------------------------------

@cli.group()
def golden():
    """Evaluate the bit-accurate golden model from the command line."""


def _show(bits, fmt) -> str:
    from lpmac import golden as g
    import numpy as np
    value = float(g.to_float(np.array([bits], dtype=np.uint64), fmt)[0])
    width = fmt.width
    return f"{value!r:>24}  0x{int(bits):0{(width + 3) // 4}x}  0b{int(bits):0{width}b}"


@golden.command("mul")
@click.argument("config")
@click.argument("a", type=float)
@click.argument("b", type=float)
def golden_mul(config, a, b):
    """Multiply two real numbers (first rounded to the input format) with CONFIG, e.g. E5M2:cfg5."""
    import numpy as np
    from lpmac import golden as g
    cfg = _parse(MulConfig.parse, config)
    ab = g.from_float(np.array([a, b]), cfg.in_format)
    p = g.fp_mul(ab[:1], ab[1:], cfg)[0]
    click.echo(f"a = {_show(ab[0], cfg.in_format)}   ({cfg.in_format})")
    click.echo(f"b = {_show(ab[1], cfg.in_format)}")
    click.echo(f"p = {_show(p, cfg.out_format)}   ({cfg.out_format})")


@golden.command("table")
@click.argument("fmt")
@click.option("--sub-in", type=click.Choice(["ieee", "as_normal", "flush"]), default="ieee", show_default=True)
@click.option("--field", "fields", default="0,top", show_default=True,
              help="Exponent fields to list: comma-separated numbers, 'top' for all ones, or 'all'.")
def golden_table(fmt, sub_in, fields):
    """List the values of FMT's encodings (e.g. the seed's E5M2 table: E5M2-inf --sub-in as_normal)."""
    import numpy as np
    from lpmac import golden as g
    f = _parse(lambda t: parse_float_format(t, derived=True), fmt)
    if fields == "all":
        rows = range(1 << f.e)
    else:
        try:
            rows = [f.exp_all_ones if x.strip() == "top" else int(x) for x in fields.split(",")]
        except ValueError:
            raise UserError(f"--field takes numbers, 'top' or 'all', got {fields!r}") from None
        if any(not 0 <= r <= f.exp_all_ones for r in rows):
            raise UserError(f"exponent fields of {f} are 0..{f.exp_all_ones}")
    for field in rows:
        bits = np.array([(field << f.m) | frac for frac in range(1 << f.m)], dtype=np.uint64)
        values = g.to_float(bits, f, sub_in)
        for frac, v in zip(range(1 << f.m), values):
            click.echo(f"field {field:>3}  frac b{frac:0{f.m}b}  {float(v)!r}")


def main(argv=None):
    try:
        cli.main(args=argv, prog_name="lpmac", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("lpmac: interrupted", err=True)
        sys.exit(130)
    except click.ClickException as err:
        click.echo(f"lpmac: error: {err.format_message()}", err=True)
        sys.exit(2 if isinstance(err, (UserError, click.UsageError)) else err.exit_code)
    except (FormatError, ConfigError) as err:
        click.echo(f"lpmac: error: {err}", err=True)
        sys.exit(2)
    sys.exit(0)


if __name__ == "__main__":
    main()
