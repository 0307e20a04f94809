"""The lane-parallel cocotb harness against NumPy, on toy Amaranth designs.

Builds are cached in $LPMAC_CACHE_DIR/sim, so only the first run pays the Verilator compile.
"""

import os

import numpy as np
import pytest
from amaranth.back import verilog
from amaranth.hdl import Module, Mux
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.hdl.generate import component_ports
from lpmac.sim.harness import Port, _pack_lanes, _unpack_lanes, run_vectors
from lpmac.sim.runner import SimulatorNotFound, available_simulators, pick_simulator

# Read at conversion time: the bundled Yosys keeps the Verilog independent of the machine.
os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")


class Mul8(wiring.Component):
    a: In(8)
    b: In(8)
    p: Out(16)

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(self.a * self.b)
        return m


class Acc16(wiring.Component):
    """acc <= (clear ? 0 : acc) + (valid ? x : 0), wrapping at 16 bits."""

    x: In(8)
    valid: In(1)
    clear: In(1)
    acc: Out(16)

    def elaborate(self, platform):
        m = Module()
        base = Mux(self.clear, 0, self.acc)
        with m.If(self.valid):
            m.d.sync += self.acc.eq(base + self.x)
        with m.Else():
            m.d.sync += self.acc.eq(base)
        return m


def to_verilog(component, name):
    return verilog.convert(component, name=name, emit_src=False, strip_internal_attrs=True)


MUL8_PORTS = ([Port("a", 8), Port("b", 8)], [Port("p", 16)])
ACC16_PORTS = ([Port("x", 8), Port("valid", 1), Port("clear", 1)], [Port("acc", 16)])
# The modules' port lists, from the components' signatures (as the benches take them).
MUL8 = component_ports(Mul8(), clocked=False)
ACC16 = component_ports(Acc16(), clocked=True)


def simulators():
    found = available_simulators()
    if not found:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no simulator installed"))]
    return found


@pytest.mark.parametrize("simulator", simulators())
def test_mul8_exhaustive(simulator):
    a, b = (
        g.ravel()
        for g in np.meshgrid(
            np.arange(256, dtype=np.uint64), np.arange(256, dtype=np.uint64), indexing="ij"
        )
    )
    out, stats = run_vectors(
        to_verilog(Mul8(), "mul8"),
        "mul8",
        *MUL8_PORTS,
        {"a": a, "b": b},
        ports=MUL8,
        simulator=simulator,
    )
    np.testing.assert_array_equal(out["p"], a * b)
    assert stats.vectors == 65536 and stats.simulator == simulator


@pytest.mark.parametrize("simulator", simulators())
def test_mul8_from_file_partial_block_reuses_build(simulator, tmp_path):
    rng = np.random.default_rng(1)
    a, b = rng.integers(0, 256, size=(2, 1000), dtype=np.uint64)  # 1000 is not a multiple of 64
    path = tmp_path / "mul8.v"
    path.write_text(to_verilog(Mul8(), "mul8"))
    ab = {"a": a, "b": b}
    run_vectors(path.read_text(), "mul8", *MUL8_PORTS, ab, ports=MUL8, simulator=simulator)
    out, stats = run_vectors(path, "mul8", *MUL8_PORTS, ab, ports=MUL8, simulator=simulator)
    np.testing.assert_array_equal(out["p"], a * b)
    assert stats.cached


def acc16_reference(x, valid, clear):
    acc = np.zeros(x.shape[1], np.uint64)
    out = np.empty_like(x)
    for k in range(x.shape[0]):
        acc = np.where(clear[k], 0, acc) + np.where(valid[k], x[k], 0)
        out[k] = acc
    return out  # unwrapped, so a test can check that wrapping happened


@pytest.mark.parametrize("simulator", simulators())
def test_acc16_lanes_of_random_sequences(simulator):
    rng = np.random.default_rng(2)
    steps, sequences = 1000, 10  # 10 sequences on 4 lanes: 3 groups, each after a reset
    x = rng.integers(0, 256, size=(steps, sequences), dtype=np.uint64)
    valid = (rng.random((steps, sequences)) < 0.8).astype(np.uint64)
    clear = (rng.random((steps, sequences)) < 0.002).astype(np.uint64)
    out, stats = run_vectors(
        to_verilog(Acc16(), "acc16"),
        "acc16",
        *ACC16_PORTS,
        {"x": x, "valid": valid, "clear": clear},
        ports=ACC16,
        clocked=True,
        lanes=4,
        simulator=simulator,
    )
    expected = acc16_reference(x, valid, clear)
    assert expected.max() > 0xFFFF, "the sequences must exercise the 16-bit wrap"
    np.testing.assert_array_equal(out["acc"], expected & 0xFFFF)
    assert out["acc"].shape == (steps, sequences) and stats.vectors == steps * sequences


@pytest.mark.parametrize("width", [1, 3, 8, 13, 16, 64])
@pytest.mark.parametrize("lanes", [1, 5, 64])
def test_lane_packing_round_trip(width, lanes):
    rng = np.random.default_rng(width * 100 + lanes)
    values = rng.integers(0, 2**64, size=(7, lanes), dtype=np.uint64, endpoint=False)
    values &= np.uint64((1 << width) - 1)
    packed = _pack_lanes(values, width)
    assert packed.shape == (7, (lanes * width + 7) // 8)
    row = int.from_bytes(packed[3].tobytes(), "little")
    assert [(row >> (i * width)) & ((1 << width) - 1) for i in range(lanes)] == values[3].tolist()
    np.testing.assert_array_equal(_unpack_lanes(packed, width, lanes), values)


def test_unknown_simulator_is_reported():
    with pytest.raises(
        SimulatorNotFound,
        match=r"unknown simulator 'modelsim': choose one of "
        r"icarus, verilator",
    ):
        run_vectors(
            to_verilog(Mul8(), "mul8"),
            "mul8",
            *MUL8_PORTS,
            {"a": np.zeros(4, np.uint64), "b": np.zeros(4, np.uint64)},
            ports=MUL8,
            simulator="modelsim",
        )


def test_missing_icarus_names_what_to_install(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SimulatorNotFound, match=r"'icarus' unusable: iverilog/vvp not on PATH"):
        pick_simulator("icarus")


@pytest.mark.parametrize(
    "inputs, outputs, clocked, message",
    [
        (
            [Port("a", 8), Port("b", 8)],
            [Port("p", 8)],
            False,
            r"port 'p' is declared output of width 16, not output of width 8",
        ),
        ([Port("a", 8)], [Port("p", 16)], False, r"inputs of 'mul8' left undriven: b"),
        (
            [Port("a", 8), Port("p", 16)],
            [Port("b", 8)],
            False,
            r"port 'p' is declared output of width 16, not input of width 16",
        ),
        ([Port("a", 8), Port("b", 8)], [Port("p", 16)], True, r"module 'mul8' has no 'clk' port"),
    ],
)
def test_port_mistakes_are_caught_before_building(inputs, outputs, clocked, message):
    shape = (4, 2) if clocked else (4,)
    with pytest.raises(ValueError, match=message):
        run_vectors(
            to_verilog(Mul8(), "mul8"),
            "mul8",
            inputs,
            outputs,
            {p.name: np.zeros(shape, np.uint64) for p in inputs},
            ports=MUL8,
            clocked=clocked,
        )


def test_verilog_is_byte_identical_across_conversions():
    assert to_verilog(Mul8(), "mul8") == to_verilog(Mul8(), "mul8")
    assert to_verilog(Acc16(), "acc16") == to_verilog(Acc16(), "acc16")


def test_build_key_follows_cocotb_install(monkeypatch):
    """A Verilator build links cocotb's libraries by absolute path: one made from another
    virtualenv must not be reused."""
    from lpmac.sim import runner

    key = runner.build_key("module m; endmodule\n", "m", "verilator")
    assert runner.build_key("module m; endmodule\n", "m", "verilator") == key
    monkeypatch.setattr(
        runner, "_cocotb_libs", lambda: "/elsewhere/.venv/lib/python3.11/site-packages/cocotb/libs"
    )
    assert runner.build_key("module m; endmodule\n", "m", "verilator") != key
