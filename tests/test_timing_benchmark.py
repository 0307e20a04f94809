"""benchmarks/timing.py keeps its JSON-lines rows honest: a row whose recorded Verilog sha256
differs from the generator's (or that has none, as the first multiplier rows) is recomputed,
an up-to-date row is kept, and --refresh recomputes everything asked for. Synthesis is
replaced by a fake that counts calls; the Verilog and its sha are the real generator's."""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
from pathlib import Path

import pytest

from lpmac.config import MulConfig
from lpmac.hdl.generate import mul_unit, to_verilog

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "timing.py"


@pytest.fixture
def timing(monkeypatch):
    spec = importlib.util.spec_from_file_location("timing_benchmark", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    calls = []

    def fake(verilog, top, **options):
        calls.append(top)
        result = {"luts": 40, "luts_by_size": {"LUT4": 40}, "ffs": 0, "dsps": 1, "carry": 2}
        return result | {"fmax_mhz": 80.0, "seconds": 0.1}

    monkeypatch.setattr(module, "cached_synthesize", fake)
    module.calls = calls
    return module


def _main(timing, monkeypatch, *argv):
    monkeypatch.setattr(sys, "argv", ["timing.py", *argv])
    timing.main()


def test_stale_rows_recomputed_fresh_rows_kept(timing, monkeypatch, tmp_path, capsys):
    out = tmp_path / "t.jsonl"
    sha = hashlib.sha256(to_verilog(mul_unit(MulConfig.parse("E5M2:cfg5"), 1)).encode())
    old = {"luts": 1, "ffs": 0, "dsps": 0, "fmax_mhz": 1.0}
    rows = [
        {"unit": "E5M2:cfg5", "latency": 0, **old},  # first-format row: no kind, no sha
        {"kind": "mul", "unit": "E5M2:cfg5", "latency": 1, "verilog_sha256": sha.hexdigest()} | old,
        {"kind": "mul", "unit": "E5M2:cfg5", "latency": 2, "verilog_sha256": "0" * 64} | old,
    ]
    out.write_text("".join(json.dumps(r) + "\n" for r in rows))
    _main(timing, monkeypatch, "--units", "E5M2:cfg5", "--latencies", "0", "1", "2", "-o", str(out))
    assert sorted(timing.calls) == ["mul_E5M2_cfg5", "mul_E5M2_cfg5_l2"]
    assert "Verilog changed since the row" in capsys.readouterr().out
    stored = {r["latency"]: r for r in map(json.loads, out.read_text().splitlines())}
    assert len(stored) == 3 and stored[1]["luts"] == 1  # the up-to-date row kept as it was
    assert stored[0]["luts"] == 40 and stored[0]["kind"] == "mul"  # replaced, not duplicated
    assert stored[2]["verilog_sha256"] != "0" * 64

    timing.calls.clear()
    _main(timing, monkeypatch, "--units", "E5M2:cfg5", "--latencies", "1", "-o", str(out))
    assert timing.calls == []
    _main(
        timing, monkeypatch, "--units", "E5M2:cfg5", "--latencies", "1", "--refresh", "-o", str(out)
    )
    assert timing.calls == ["mul_E5M2_cfg5_l1"]
    table = capsys.readouterr().out
    assert "| mul E5M2:cfg5 | 1 | 40 | 0 | 1 | 80.0 | 2,000,000 |" in table  # 80e6 / 40
