"""The derived MAC/s-per-LUT column (issue 18): results per cycle x Fmax / LUTs beside every
Fmax, empty (not zero) without one, never stored in the point cache; and `lpmac run --fmax`."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import pytest

from lpmac import cli, cli_run
from lpmac.synth import report
from lpmac.synth.flow import SynthResult


def _row(unit, config, luts, fmax=None, target="ecp5"):
    row = {"unit": unit, "config": config, "target": target, "options": {}, "status": "ok"}
    row.update(luts=luts, luts_by_size={"LUT4": luts}, carry=0, muxf=0, ffs=0, dsps=0, brams=0)
    row.update(fmax_mhz=fmax, yosys_version="Yosys fake", seconds=0.1)
    return row


def test_column_values_and_blanks(tmp_path):
    rows = [
        _row("mul", "E5M2:cfg5", 50, 100.0),  # 1 x 100e6 / 50
        _row("gemm", "2x2:BFP8/8", 1000, 20.0),  # 4 PEs x 20e6 / 1000
        _row("array", "4x4:E5M2:cfg5+E6M5", 3200, 25.0),  # 16 x 25e6 / 3200
        _row("acc", "Q8.13", 62, None, target="xcup"),  # no Fmax: empty, not 0
        {"unit": "mul", "config": "E4M3:cfg1", "target": "ecp5", "options": {}}
        | {"status": "failed", "error": "boom"},
    ]
    report.write_reports(rows, tmp_path)
    stored = json.loads((tmp_path / "results.json").read_text())
    assert [r.get("mac_per_s_per_lut", "absent") for r in stored] == [
        2_000_000,
        80_000,
        125_000,
        None,
        "absent",
    ]
    with (tmp_path / "results.csv").open() as f:
        table = list(csv.DictReader(f))
    assert [r["mac_per_s_per_lut"] for r in table] == ["2000000", "80000", "125000", "", ""]
    header = next(iter(csv.reader((tmp_path / "results.csv").open())))
    assert header.index("mac_per_s_per_lut") == header.index("fmax_mhz") + 1
    md = (tmp_path / "results.md").read_text()
    assert "| Fmax (MHz) | MAC/s per LUT |" in md
    assert "| 100.0 | 2,000,000 |" in md and "| 25.0 | 125,000 |" in md
    lines = md.splitlines()
    head = [c.strip() for c in next(x for x in lines if x.startswith("| unit")).split("|")]
    acc = [c.strip() for c in next(x for x in lines if "Q8.13" in x).split("|")]
    acc_cells = dict(zip(head, acc))
    assert (acc_cells["LUTs"], acc_cells["Fmax (MHz)"], acc_cells["MAC/s per LUT"]) == (
        "62",
        "",
        "",
    )
    assert report.THROUGHPUT_LEGEND in md


def test_no_fmax_no_column(tmp_path):
    report.write_reports([_row("mul", "E5M2:cfg5", 50, None, target="xcup")], tmp_path)
    md = (tmp_path / "results.md").read_text()
    assert "MAC/s per LUT" not in md and "Fmax" not in md
    assert json.loads((tmp_path / "results.json").read_text())[0]["mac_per_s_per_lut"] is None


def test_results_per_cycle():
    assert report.results_per_cycle("mac", "E5M2:cfg5+E6M5") == 1
    assert report.results_per_cycle("system", "16x4:E5M2:cfg5+Q8.13") == 64
    assert report.throughput_per_lut("mul", "E5M2:cfg5", 0.0, 10) == 0.0
    assert report.throughput_per_lut("mul", "E5M2:cfg5", 50.0, 0) is None
    with pytest.raises(ValueError, match="does not start with RxC"):
        report.results_per_cycle("gemm", "BFP8/24")


def test_sweep_fmax_real_ecp5(tmp_path, monkeypatch, capsys):
    """A real ecp5 grid point with --fmax: the column is Fmax x 1e6 / LUTs of its own row, and
    the point cache holds only the tool's result (the column is derived)."""
    monkeypatch.setenv("LPMAC_CACHE_DIR", str(tmp_path / "cache"))
    out = tmp_path / "out"
    argv = ["sweep", "--unit", "mul", "--fmt", "E5M2", "--cfg", "5", "--target", "ecp5"]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*argv, "--fmax", "-o", str(out), "--no-progress", "-j", "1"])
    assert exit_info.value.code == 0, capsys.readouterr().err
    (row,) = json.loads((out / "results.json").read_text())
    assert row["fmax_mhz"] > 20 and row["luts"] > 10
    assert row["mac_per_s_per_lut"] == round(row["fmax_mhz"] * 1e6 / row["luts"])
    assert "MAC/s per LUT" in (out / "results.md").read_text()
    (entry,) = (tmp_path / "cache" / "sweep").glob("*.json")
    assert "mac_per_s_per_lut" not in json.loads(entry.read_text())["result"]


def test_run_fmax_reports_fmax_and_per_lut(tmp_path, monkeypatch, capsys):
    """`lpmac run --target ecp5 --fmax`: the synthesis is asked for Fmax and the report prints
    it with MAC/s per LUT (bench and tools replaced: this checks the plumbing and the text)."""
    from lpmac.synth import flow

    asked = {}

    def fake_synthesize(verilog, top, *, target, unit, config, fmax=False, **options):
        asked.update(target=target, fmax=fmax, top=top)
        return SynthResult(
            unit,
            config,
            target,
            400,
            {"LUT4": 400},
            10,
            0,
            12,
            1,
            0,
            "Yosys fake",
            1.0,
            50.0,
            "nextpnr fake",
        )

    stats = SimpleNamespace(simulator="fake", vectors_per_second=1.0)
    bench = SimpleNamespace(stats=stats, checked=640, mismatches=0, ok=True, failures=[])
    monkeypatch.setattr(flow, "synthesize", fake_synthesize)
    monkeypatch.setattr(flow, "nextpnr_version", lambda: "nextpnr fake")
    monkeypatch.setattr(cli_run, "pick_simulator", lambda name: "fake")
    monkeypatch.setattr(cli_run, "run_unit_bench", lambda *a, **k: bench)
    argv = ["run", "E5M2:cfg5+E6M5", "--target", "ecp5", "--fmax", "-o", str(tmp_path / "r")]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    out = capsys.readouterr().out
    assert exit_info.value.code == 0
    assert asked == {"target": "ecp5", "fmax": True, "top": "mac_E5M2_cfg5__E6M5"}
    assert "Fmax 50.0 MHz" in out and "125,000 MAC/s per LUT" in out  # 50e6 / 400
    assert json.loads((tmp_path / "r" / "synth.json").read_text())["fmax_mhz"] == 50.0
