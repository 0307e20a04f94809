"""Adding a unit is one declaration plus its golden and hdl code (docs/architecture.md, "Add a
unit"): a toy saturating adder, declared here, goes through `lpmac generate`, `lpmac sim`
(cocotb, exhaustive: 256 pairs) and `lpmac synth`, and into a sweep grid, with nothing else
changed. The golden function is NumPy on integers, independent of the Amaranth code."""

from __future__ import annotations

import json

import click
import numpy as np
import pytest
from amaranth.hdl import Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac import cli
from lpmac import units as registry
from lpmac.errors import ConfigError
from lpmac.hdl.generate import Unit, module_name
from lpmac.sim.runner import available_simulators


# --- golden file: the reference ------------------------------------------------------------
def sat_add_golden(inputs: dict, *, width: int, latency: int = 0) -> dict:
    """s = min(a + b, 2^width - 1) for unsigned a, b."""
    total = inputs["a"].astype(np.int64) + inputs["b"].astype(np.int64)
    return {"s": np.minimum(total, (1 << width) - 1).astype(np.uint64)}


def wrapping_golden(inputs: dict, *, width: int, latency: int = 0) -> dict:
    """A wrong reference (wraps instead of saturating), to see the bench catch it."""
    return {"s": (inputs["a"] + inputs["b"]) & np.uint64((1 << width) - 1)}


# --- hdl file: the component and its builder -----------------------------------------------
class SatAdd(wiring.Component):
    def __init__(self, width: int, latency: int = 0):
        self.width, self.latency = width, latency
        super().__init__({"a": In(width), "b": In(width), "s": Out(width)})

    def elaborate(self, platform):
        m = Module()
        total = self.a + self.b
        value = Mux(total[self.width], (1 << self.width) - 1, total[: self.width])
        if self.latency:
            m.d.sync += self.s.eq(value)
        else:
            m.d.comb += self.s.eq(value)
        return m


def sat_add_unit(width: int, latency: int = 0) -> Unit:
    name = module_name(f"satadd_w{width}") + (f"_l{latency}" if latency else "")
    return Unit("toy", SatAdd(width, latency), name, f"W{width}", latency)


# --- the one declaration ---------------------------------------------------------------------
def _options():
    return [
        click.Option(["--width"], type=click.IntRange(2, 16), default=4, show_default=True),
        click.Option(["--latency"], type=click.IntRange(0, 1), default=0, show_default=True),
    ]


def _point(config: str, use_dsp: bool = True) -> dict:
    if not config.startswith("W") or not config[1:].isdigit():
        raise ConfigError(f"toy config {config!r} must be Wn, e.g. W4")
    return {"width": int(config[1:]), "latency": 0}


def toy_spec(golden=sat_add_golden) -> registry.UnitSpec:
    return registry.UnitSpec(
        "toy",
        "Toy saturating adder (tests/test_toy_unit.py).",
        _options,
        lambda width, latency: {"width": width, "latency": latency},
        _point,
        "W4",
        sat_add_unit,
        bench="generic",
        golden=golden,
    )


@pytest.fixture
def toy():
    spec = registry.register(toy_spec())
    yield spec
    registry.unregister("toy")


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def test_generate_writes_verilog_and_ports(toy, tmp_path, capsys):
    code, out, _ = run_cli(["generate", "toy", "--width", "4", "-o", str(tmp_path / "t.v")], capsys)
    assert code == 0 and "toy W4: module satadd_w4" in out
    assert "module satadd_w4" in (tmp_path / "t.v").read_text()
    sidecar = json.loads((tmp_path / "t.json").read_text())
    assert sidecar["unit"] == "toy" and sidecar["config"] == "W4"
    assert [(p["name"], p["direction"], p["width"]) for p in sidecar["ports"]] == [
        ("a", "input", 4),
        ("b", "input", 4),
        ("s", "output", 4),
    ]


def test_unregistered_unit_has_no_command(capsys):
    code, _, err = run_cli(["generate", "toy", "-o", "x.v"], capsys)
    assert code == 2 and "No such command 'toy'" in err


@pytest.mark.skipif(not available_simulators(), reason="no simulator installed")
@pytest.mark.parametrize("latency", [0, 1])
def test_sim_checks_every_pair_against_golden(toy, capsys, latency):
    argv = ["sim", "toy", "--width", "4", "--latency", str(latency), "--lanes", "8"]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0, out
    assert "toy W4: 256 vectors checked, 0 mismatches" in out


@pytest.mark.skipif(not available_simulators(), reason="no simulator installed")
def test_sim_catches_a_wrong_golden(capsys):
    registry.register(toy_spec(wrapping_golden))
    try:
        code, out, _ = run_cli(["sim", "toy", "--width", "4", "--lanes", "8"], capsys)
    finally:
        registry.unregister("toy")
    # a + b overflows for 120 of the 256 pairs: there the saturating hardware differs
    assert code == 1 and "256 vectors checked, 120 mismatches" in out


def test_synth_counts_cells(toy, capsys):
    code, out, _ = run_cli(["synth", "toy", "--width", "4", "--json"], capsys)
    assert code == 0, out
    result = json.loads(out)
    assert result["unit"] == "toy" and result["config"] == "W4" and result["luts"] > 0


def test_sweep_grid_and_point_use_the_declaration(toy):
    from lpmac.synth import presets

    rows = presets.grid_rows("toy", configs=["W4", "W6"], targets=["xcup"])
    assert [r.point.config for r in rows] == ["W4", "W6"]
    text, name = presets.make_verilog(rows[1].point)
    assert name == "satadd_w6" and "module satadd_w6" in text
    with pytest.raises(ConfigError, match="toy config 'X4' must be Wn"):
        presets.grid_rows("toy", configs=["X4"])
