"""What the `lpmac` commands share: the one-line user error (exit code 2), resolving a unit's
options through the registry, picking a simulator, running a unit's bench."""

from __future__ import annotations

import click

from . import units
from .config import ConfigError
from .formats import FormatError


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


def parse_vectors(text):
    """--vectors: a positive count (underscores allowed), 'exhaustive' or None."""
    if text is None or text == "exhaustive":
        return text
    try:
        n = int(text.replace("_", ""))
    except ValueError:
        n = 0
    if n < 1:
        raise UserError(f"--vectors takes a positive count or 'exhaustive', got {text!r}")
    return n


def pick_simulator(name):
    from lpmac.sim import runner

    try:
        return runner.pick_simulator(name)
    except runner.SimulatorNotFound as err:
        raise UserError(str(err)) from None


def run_unit_bench(unit: str, kwargs: dict, *, vectors=None, seed=2026, lanes=None, simulator=None):
    from lpmac.sim import benches

    simulator = pick_simulator(simulator)
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
