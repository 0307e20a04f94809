"""What the `lpmac` commands share: the one-line user error (exit code 2), resolving a unit's
options through the registry, picking a simulator, running a unit's bench."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import click

from . import limits, units
from .config import ConfigError
from .errors import LimitError
from .formats import FormatError
from .modes import Target, names


class UserError(click.ClickException):
    """A problem with the user's input: one line, exit code 2."""

    exit_code = 2


# Option settings shared by `lpmac sim|synth <unit>` (click.Option) and `lpmac run`
# (click.option): one text each.
SIMULATOR_OPTION = dict(
    type=click.Choice(["icarus", "verilator"]),
    default=None,
    help="Default: $LPMAC_SIMULATOR, else Verilator when usable (the fastest), else Icarus.",
)
TARGET_OPTION = dict(
    type=click.Choice(names(Target)),
    default="xcup",
    show_default=True,
    help="FPGA family of the synthesis (xcup = UltraScale+, as the reference ZCU104).",
)


def resolve(unit: str, values: dict, command: str = "generate") -> dict:
    """Click values -> validated configuration objects within the size limits of `command`
    (lpmac.limits); bad input becomes a UserError."""
    try:
        kwargs = units.get(unit).resolve(**values)
        limits.check_design(unit, kwargs, command)
        return kwargs
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def build_unit(unit: str, values: dict, command: str = "generate"):
    from lpmac.hdl.generate import build

    kwargs = resolve(unit, values, command)
    try:
        return build(unit, **kwargs), kwargs
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None


def parse_vectors(text):
    """--vectors: a count in 1..lpmac.limits.MAX_VECTORS (underscores allowed), 'exhaustive'
    or None."""
    if text is None or text == "exhaustive":
        return text
    digits = text.replace("_", "")
    n = int(digits) if digits.isascii() and digits.isdigit() else 0
    if n < 1:
        raise UserError(f"--vectors takes a positive count or 'exhaustive', got {text!r}")
    try:
        return limits.check_vectors(n)
    except LimitError as err:
        raise UserError(str(err)) from None


def writable_dir(path) -> Path:
    """Make sure files can be written in folder `path` (created if missing) before any work:
    a read-only place is one line, not a traceback after minutes of synthesis."""
    path = Path(path)
    blocker = next((a for a in (path, *path.parents) if a.exists()), None)
    if blocker is not None and not blocker.is_dir():
        raise UserError(f"cannot write to {str(path)!r}: {str(blocker)!r} is a file, not a folder")
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".lpmac-write-test-"):
            pass
    except OSError as err:
        raise UserError(
            f"cannot write to {str(path)!r}: {err.strerror or err}; choose another -o"
        ) from None
    return path


def writable_file(path, suffixes: tuple[str, ...] = ()) -> Path:
    """`path` can be written (its folder is created if missing, an existing file must be a
    writable file), has one of `suffixes`; checked before any work."""
    path = Path(path)
    if suffixes and path.suffix.lower() not in suffixes:
        raise UserError(
            f"output {str(path)!r} must end in {' or '.join(suffixes)} "
            f"(the sidecar is written beside it as .json)"
        )
    if path.exists() and (not path.is_file() or not os.access(path, os.W_OK)):
        raise UserError(f"cannot write {str(path)!r}: not a writable file; choose another -o")
    writable_dir(path.parent)
    return path


def pick_simulator(name):
    from lpmac.sim import runner

    try:
        return runner.pick_simulator(name)
    except runner.SimulatorNotFound as err:
        raise UserError(str(err)) from None


def simulator_note(unit: str, simulator: str, asked) -> str:
    """The line saying which simulator runs, why, and what a first build costs."""
    why = "" if asked else " (the fastest installed; --simulator or $LPMAC_SIMULATOR to choose)"
    first = (
        "; a design's first Verilator build takes about a minute, later runs reuse it"
        if simulator == "verilator"
        else ""
    )
    return f"{unit}: simulating on {simulator}{why}{first} ..."


def run_unit_bench(
    unit: str, kwargs: dict, *, vectors=None, seed=2026, lanes=None, simulator=None, built=None
):
    """`built`: the unit already built from `kwargs`, simulated instead of a second build."""
    from lpmac.sim import benches

    asked, simulator = simulator, pick_simulator(simulator)
    if lanes is None:
        lanes = 64 if simulator == "verilator" else 8
    click.echo(simulator_note(unit, simulator, asked), err=True)
    try:
        return benches.run_bench(
            unit,
            vectors=vectors,
            seed=seed,
            lanes=lanes,
            simulator=simulator,
            built=built,
            **kwargs,
        )
    except (FormatError, ConfigError, ValueError) as err:
        raise UserError(str(err)) from None
