"""`lpmac study`: train under MAC configurations and tabulate accuracy against MAC area.

    lpmac study seed-train -o docs/results/study-digits
    lpmac study --config E5M2:cfg5+E6M5 --config float32 --model cnn --dataset cifar10.npz \
        --epochs 30 --seeds 3 -o out/cifar -j 2
"""

from __future__ import annotations

import platform
import shlex
import sys
import time
from pathlib import Path

import click

from .choices import DIGITS, EDGE_ROUNDING, MODELS
from .presets import PRESETS


class StudyError(click.ClickException):
    """Bad input: one line, exit code 2."""

    exit_code = 2


def _check(rows, base, dataset: str, scheduler, jobs) -> None:
    """Validate everything before the first run, so a typo costs no training time."""
    from .arith import parse_arith_spec
    from .data import load_dataset
    from .train import LossScaling

    try:
        _check_scheduler(scheduler, jobs)
        for config, overrides in rows:
            parse_arith_spec(config)
            if "loss_scaling" in overrides:
                LossScaling.parse(overrides["loss_scaling"])
        data = load_dataset(dataset)
    except ValueError as err:
        raise StudyError(str(err)) from None
    if base.model == "cnn" and not data.is_image:
        raise StudyError(f"--model cnn needs images; {dataset} holds flat samples (use mlp)")


def _check_scheduler(scheduler, jobs) -> None:
    try:
        from lpmac.parallel import parse_scheduler
    except ImportError:  # no executor seam in this tree: the study runs serially
        return
    parse_scheduler(scheduler, jobs)


@click.command(
    "study", help="Train a model under MAC configurations; accuracy against MAC LUTs/DSPs."
)
@click.argument("preset", required=False, type=click.Choice(sorted(PRESETS)))
@click.option("--config", "configs", multiple=True, help="MAC config, BFPm/T or float32.")
@click.option("--model", type=click.Choice(MODELS), default="mlp", show_default=True)
@click.option("--dataset", default=DIGITS, show_default=True, help="digits or PATH.npz.")
@click.option("--epochs", type=click.IntRange(1), default=20, show_default=True)
@click.option("--seeds", type=click.IntRange(1), default=3, show_default=True)
@click.option("--batch", type=click.IntRange(1), default=32, show_default=True)
@click.option("--lr", type=click.FloatRange(min=0, min_open=True), default=0.05, show_default=True)
@click.option(
    "--width",
    type=click.IntRange(1),
    default=64,
    show_default=True,
    help="Hidden units (mlp); conv channels are width/8 and width/4 (cnn).",
)
@click.option(
    "--loss-scaling",
    default="dynamic",
    show_default=True,
    help="none, static:S, dynamic[:S] or dynamic-sat[:S].",
)
@click.option(
    "--edge-rounding",
    type=click.Choice(EDGE_ROUNDING),
    default="rne",
    show_default=True,
    help="FP32 -> input format at the array edge.",
)
@click.option(
    "-o",
    "--out",
    "out_dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("study-out"),
    show_default=True,
)
@click.option("-j", "--jobs", type=click.IntRange(1), default=1, show_default=True)
@click.option("--scheduler", default=None, help="Executor of lpmac.parallel (e.g. a dask address).")
@click.option("--no-synth", is_flag=True, help="Do not synthesize; leave LUT/DSP columns blank.")
@click.option("--no-progress", is_flag=True)
def study(
    preset,
    configs,
    model,
    dataset,
    epochs,
    seeds,
    batch,
    lr,
    width,
    loss_scaling,
    edge_rounding,
    out_dir,
    jobs,
    scheduler,
    no_synth,
    no_progress,
):
    # Training and synthesis pull in numba, scikit-learn and matplotlib: imported only here.
    from .area import unit_area
    from .data import load_dataset
    from .report import write_reports
    from .runner import expand, run_all, summarize
    from .train import RunSpec

    if preset and configs:
        raise StudyError(f"give either the preset {preset!r} or --config, not both")
    if not preset and not configs:
        raise StudyError("nothing to study: give a preset (seed-train) or --config CFG ...")
    rows = [(c, o) for c, o, _ in PRESETS[preset][1]] if preset else [(c, {}) for c in configs]
    notes = [n for _, _, n in PRESETS[preset][1]] if preset else [""] * len(rows)
    try:
        base = RunSpec(
            "float32", model, epochs, 0, batch, lr, 0.9, width, loss_scaling, edge_rounding
        )
    except ValueError as err:
        raise StudyError(str(err)) from None
    _check(rows, base, dataset, scheduler, jobs)
    from lpmac.cli_common import writable_dir

    writable_dir(out_dir)  # a read-only -o is one line before training, not a traceback after

    start = time.monotonic()
    specs = expand(rows, base, seeds)
    results = run_all(
        specs, dataset, out_dir, jobs=jobs, scheduler=scheduler, progress=not no_progress
    )
    table = summarize(rows, results, seeds)
    areas = {}
    for row, note in zip(table, notes):
        if no_synth:
            row.update(luts=None, dsps=None)
        else:
            areas.setdefault(row["config"], unit_area(row["config"]))
            area = areas[row["config"]]
            row.update(luts=area["luts"], dsps=area["dsps"], area_unit=area["area_unit"])
            note = "; ".join(filter(None, [note, area["area_note"]]))
        row["system_luts"] = None  # the 16x4 MacSystem is not synthesized here yet
        row["note"] = note
    wall = time.monotonic() - start
    trained = sum(r["train_seconds"] for r in results)
    header = _header(preset, dataset, base, seeds, wall, trained)
    write_reports(
        table,
        out_dir,
        header,
        f"{preset or 'study'}: {load_dataset(dataset).name}, "
        f"{model}, {epochs} epochs, {seeds} seeds",
    )
    click.echo(f"{len(table)} rows, {len(specs)} runs in {wall:.0f} s -> {out_dir}/results.md")


def _header(preset, dataset, base, seeds: int, wall: float, trained: float) -> str:
    args = sys.argv[1:]
    args = args[1:] if args[:1] == ["study"] else args  # `lpmac study ...` or the bare command
    command = "lpmac study " + shlex.join(args)
    title = preset or "study"
    return "\n".join(
        [
            f"# {title}",
            "",
            f"Produced by `{command}` ({platform.machine()}, Python "
            f"{platform.python_version()}): this invocation {wall:.0f} s of wall time; "
            f"training of all runs {trained:.0f} s (the runs' own seconds, including runs "
            "read back from the output directory's runs/).",
            f"Data: {dataset}; model {base.model} (width {base.width}); {base.epochs} epochs, "
            f"batch {base.batch} unless the row says otherwise, SGD momentum {base.momentum}, "
            f"lr {base.lr} with cosine decay; seeds 0..{seeds - 1}; edge rounding "
            f"{base.edge_rounding}.",
            "MAC LUTs/DSPs: one MAC unit, Yosys `synth_xilinx -family xcup` (the sweep cache); "
            "16x4 system LUTs are not measured yet. `dgrad/wgrad inputs → 0 %`: FP32 operands "
            "that were nonzero and became zero at the array edge; `sat. %`: outputs of a fixed "
            "accumulator at its saturation bound. Δ vs float32: against the float32 row trained "
            "the same way (same batch), in percentage points.",
        ]
    )


if __name__ == "__main__":
    study()
