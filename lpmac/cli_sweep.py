"""`lpmac sweep`: many points (a preset or a grid) synthesized in parallel, cached, resumable."""

from __future__ import annotations

import sys

import click

from .cli_common import UserError, writable_dir
from .config import ConfigError
from .formats import FormatError
from .modes import Target
from .units import names as unit_names


class UnitChoice(click.Choice):
    """The registered unit names, read when the command line is parsed."""

    def __init__(self):
        super().__init__(())

    @property
    def choices(self):
        return tuple(unit_names())

    @choices.setter
    def choices(self, _):
        pass


# --- sweep ------------------------------------------------------------------------------


@click.command()
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
    help=(
        "Grid: comma-separated unit configurations, e.g. E6M5,E7M7@E7M7-inf (acc), "
        "E6M3->Q8.13 (convert)."
    ),
)
@click.option(
    "--target",
    default="xcup",
    show_default=True,
    help="Comma-separated targets: xcup, xc7, ecp5, ice40.",
)
@click.option("--no-dsp", is_flag=True, help="Grid: keep multipliers out of DSP blocks.")
@click.option(
    "--fmax",
    is_flag=True,
    help="ecp5 points: also place and route (nextpnr-ecp5); adds Fmax and MAC/s per LUT.",
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
    ours/reference beside ours: seed-mult, seed-cfg, seed-acc, seed-mac, and seed-system
    (the 16x4 systems, synthesized hierarchically: each distinct block once)."""
    import shlex
    from pathlib import Path

    from lpmac.parallel import SchedulerError, parse_scheduler
    from lpmac.synth import presets
    from lpmac.synth.flow import yosys_version
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
                f"name a preset ({', '.join(presets.PRESETS)}) or a grid (--unit mul --fmt "
                f"E4M3 --cfg 1-6)"
            )
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None
    hierarchical = preset in presets.HIERARCHICAL_PRESETS
    if fmax:
        if hierarchical:
            raise UserError(
                f"--fmax: {preset} is synthesized block by block, with no place and route"
            )
        if "ecp5" not in targets:
            raise UserError(
                "--fmax needs ecp5 among the targets (the open place-and-route flow is "
                "nextpnr-ecp5)"
            )
        rows = [presets.with_fmax(r) if r.point.target == "ecp5" else r for r in rows]
    out = writable_dir(out_dir or Path("sweeps") / (preset or unit))  # before any synthesis
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
            "Reference: Vitis HLS 2020.2 + Vivado, Xilinx ZCU104 "
            "(docs/reference.md, from the seed document); "
            "`ours/ref` = our count / the reference's.\n"
        )
    click.echo(
        f"{len(rows)} points -> {out}/ (cached points are instant; Ctrl-C keeps finished points)",
        err=True,
    )
    try:
        if hierarchical:
            result = _run_hierarchical(rows, out, jobs, scheduler, header)
        else:
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
        f"{len(result) - len(failed)} ok, {len(failed)} failed; wrote {out}/results.csv, "
        f".json, .md, .png"
    )
    if failed:
        sys.exit(1)


def _run_hierarchical(rows, out, jobs, scheduler, header) -> list[dict]:
    """A preset of whole systems: each row synthesized block by block (synth/hierarchy.py)."""
    from lpmac.synth.system_presets import SEED_SYSTEM_NOTES, run_system_sweep

    header += (
        "Synthesized hierarchically: each distinct block (PE, converter, FIFO) once, totals = "
        "glue + instances x block (docs/results/hierarchy.md compares with flat).\n\n"
        + SEED_SYSTEM_NOTES
    )
    result = run_system_sweep(rows, out, jobs=jobs, scheduler=scheduler, header=header)
    for row in result:
        click.echo(f"{row['unit']} {row['config']}: {row['status']}", err=True)
    return result


def _list(text):
    return [x.strip() for x in text.split(",") if x.strip()] if text else []
