"""FpMul with its significands in an ECP5 MULT18X18D's input registers (`ecp5_dsp=True`,
hdl/dsp_ecp5.py): against the golden model, in Amaranth's simulator (the behavioural
equivalent, `dsp_primitive=False`) and through cocotb on the generated Verilog with the
instance and lpmac's model (sim/models/mult18x18d.v); the DSP wrapper and the model alone
against Python integer products; the refused arguments."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.hdl import Module, Shape, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from test_pipeline import mismatches, run_pipelined

from lpmac import cli, golden
from lpmac.config import MulConfig
from lpmac.hdl.dsp_ecp5 import registered_product
from lpmac.hdl.fpmul import FpMul
from lpmac.hdl.generate import Unit, mul_unit, to_verilog
from lpmac.hdl.raw import raw_exp_range, raw_layout
from lpmac.sim import vectors as vec
from lpmac.sim.runner import available_simulators, with_models

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
U64 = np.uint64
LATENCIES = [4, 5, 6, 7]  # 4: the first latency with both the `operands` and `product` cuts
needs_verilator = pytest.mark.skipif(
    "verilator" not in available_simulators(), reason="Verilator not installed"
)


def all_pairs(width: int) -> tuple[np.ndarray, np.ndarray]:
    values = np.arange(1 << width, dtype=U64)
    return np.repeat(values, 1 << width), np.tile(values, 1 << width)


def assert_matches_golden(cfg, a, b, got):
    want = golden.fp_mul(a, b, cfg)
    bad = mismatches(got, want, cfg.out_format)
    assert bad.size == 0, [
        (hex(int(a[i])), hex(int(b[i])), hex(int(got[i])), hex(int(want[i]))) for i in bad[:5]
    ]


# --- Amaranth simulation (behavioural DSP) --------------------------------------------------


@pytest.mark.parametrize("latency", LATENCIES)
def test_e4m3_exhaustive_amaranth(latency):
    cfg = MulConfig.parse("E4M3:cfg1")
    a, b = all_pairs(cfg.in_format.width)
    dut = FpMul(cfg, latency=latency, ecp5_dsp=True, dsp_primitive=False)
    assert_matches_golden(cfg, a, b, run_pipelined(dut, [dut.a, dut.b], [a, b], dut.p, latency))


@pytest.mark.parametrize("latency", LATENCIES)
@pytest.mark.parametrize("spec", ["fp16:cfg1", "bf16:cfg1"])
def test_16bit_random_and_corners_amaranth(spec, latency):
    cfg = MulConfig.parse(spec)
    a, b = vec.product_pairs(cfg.in_format, 3000, np.random.default_rng(1806))
    dut = FpMul(cfg, latency=latency, ecp5_dsp=True, dsp_primitive=False)
    assert_matches_golden(cfg, a, b, run_pipelined(dut, [dut.a, dut.b], [a, b], dut.p, latency))


# --- the generated Verilog -------------------------------------------------------------------


def test_verilog_has_the_dsp_with_input_registers_only():
    unit = mul_unit(MulConfig.parse("fp16:cfg1"), 7, ecp5_dsp=True)
    text = to_verilog(unit)
    assert unit.name == "mul_E5M10_cfg1_l7_ecp5dsp"
    assert text.count("MULT18X18D #(") == 1
    for param in ('REG_INPUTA_CLK("CLK0")', 'REG_INPUTB_CLK("CLK0")', 'REG_OUTPUT_CLK("NONE")'):
        assert param in text
    assert 'REG_PIPELINE_CLK("NONE")' in text
    # The fabric `operands` registers keep everything but the 10 fraction bits of each
    # significand (the DSP registers those): the hidden bit, exponent, sign and 3 flags.
    fp16 = MulConfig.parse("fp16:cfg1").in_format
    kept = Shape.cast(raw_layout(11, *raw_exp_range(fp16))).width - 10
    assert kept == 1 + 6 + 1 + 3  # exponents -24..5: 6 bits signed
    assert f"reg [{kept - 1}:0] operands_a " in text
    assert f"reg [{kept - 1}:0] operands_b " in text


def test_with_models_adds_the_model_only_where_instantiated():
    text = to_verilog(mul_unit(MulConfig.parse("E4M3:cfg1"), 4, ecp5_dsp=True))
    plain = to_verilog(mul_unit(MulConfig.parse("E4M3:cfg1"), 4))
    assert with_models(plain) == plain
    combined = with_models(text)
    assert combined.startswith(text) and combined.count("module MULT18X18D") == 1
    assert with_models(combined) == combined  # already defined: not added twice


# --- refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "spec,latency,use_dsp,message",
    [
        ("fp32:cfg1", 7, True, "E4M3, fp16, bf16"),
        ("fp16:cfg1", 7, False, "use_dsp=True"),
        ("fp16:cfg1", 3, True, "latency >= 4"),
        ("E4M3:cfg1", 0, True, "latency >= 4"),
    ],
)
def test_refused_arguments(spec, latency, use_dsp, message):
    with pytest.raises(ValueError, match=message):
        FpMul(MulConfig.parse(spec), latency=latency, use_dsp=use_dsp, ecp5_dsp=True)


def test_registered_product_refuses_wide_operands():
    # The widths are checked before the module is touched (none is needed).
    with pytest.raises(ValueError, match="at most 17 unsigned"):
        registered_product(None, Signal(18), Signal(4))
    with pytest.raises(ValueError, match="at most 18 signed"):
        registered_product(None, Signal(19), Signal(4), signed_ops=True)


@pytest.mark.parametrize(
    "argv,message",
    [
        (["synth", "mul", "--fmt", "fp16", "--latency", "7", "--ecp5-dsp"], "--target ecp5"),
        (
            ["synth", "mul", "--fmt", "fp16", "--latency", "7", "--ecp5-dsp", "--target", "xcup"],
            "--target ecp5",
        ),
        (["generate", "mul", "--fmt", "fp32", "--latency", "7", "--ecp5-dsp"], "bf16"),
        (["generate", "mul", "--fmt", "fp16", "--latency", "3", "--ecp5-dsp"], "latency >= 4"),
        (["sim", "mul", "--fmt", "E4M3", "--latency", "2", "--ecp5-dsp"], "latency >= 4"),
        (
            ["generate", "mul", "--fmt", "fp16", "--latency", "7", "--ecp5-dsp", "--no-dsp"],
            "drop --no-dsp",
        ),
    ],
)
def test_cli_refusals_exit_2(argv, message, tmp_path, capsys):
    if argv[0] == "generate":
        argv = [*argv, "-o", str(tmp_path / "x.v")]
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, (out, err)
    assert message in err and len(err.strip().splitlines()) == 1, err
    assert not (tmp_path / "x.v").exists()


# --- cocotb: the instance and lpmac's MULT18X18D model -------------------------------------


class DspProbe(wiring.Component):
    """Two DSPs on one clock: an 18x18 signed and a 17x17 unsigned registered product."""

    def __init__(self, primitive: bool):
        self.primitive = primitive
        super().__init__({"a": In(18), "b": In(18), "ps": Out(36), "pu": Out(34)})

    def elaborate(self, platform):
        m = Module()
        a, b, prim = self.a, self.b, self.primitive
        ps = registered_product(m, a.as_signed(), b.as_signed(), signed_ops=True, primitive=prim)
        pu = registered_product(m, a[:17], b[:17], primitive=prim, name="dsp_u")
        m.d.comb += [self.ps.eq(ps), self.pu.eq(pu)]
        return m


def probe_vectors():
    rng = np.random.default_rng(1818)
    edges = np.array([0, 1, 2, 0x1FFFF, 0x20000, 0x20001, 0x3FFFF, 0x3FFFE, 0x10000], U64)
    ea, eb = (x.ravel() for x in np.meshgrid(edges, edges, indexing="ij"))
    ra, rb = rng.integers(0, 1 << 18, (2, 3000), dtype=np.int64).astype(U64)
    return np.concatenate([ea, ra]), np.concatenate([eb, rb])


def probe_expected(a, b):
    """Python integer products, as unsigned bit patterns of the output ports."""
    sa = [int(x) - (1 << 18) * (int(x) >> 17) for x in a]
    sb = [int(x) - (1 << 18) * (int(x) >> 17) for x in b]
    ps = np.array([(x * y) % (1 << 36) for x, y in zip(sa, sb)], U64)
    pu = np.array([(int(x) % (1 << 17)) * (int(y) % (1 << 17)) for x, y in zip(a, b)], U64)
    return ps, pu


def test_probe_amaranth_against_integers():
    a, b = probe_vectors()
    dut = DspProbe(primitive=False)
    ps, pu = probe_expected(a, b)
    np.testing.assert_array_equal(run_pipelined(dut, [dut.a, dut.b], [a, b], dut.ps, 1), ps)
    np.testing.assert_array_equal(run_pipelined(dut, [dut.a, dut.b], [a, b], dut.pu, 1), pu)


def probe_run(edit=lambda text: text):
    from lpmac.sim.bench_common import pipelined
    from lpmac.sim.harness import Port

    unit = Unit("probe", DspProbe(primitive=True), "dsp_probe", "probe", latency=1)
    a, b = probe_vectors()
    got, _ = pipelined(
        edit(to_verilog(unit)),
        unit,
        [Port("a", 18), Port("b", 18)],
        [Port("ps", 36), Port("pu", 34)],
        {"a": a, "b": b},
        1,
        64,
        "verilator",
    )
    return a, b, got


@needs_verilator
def test_probe_verilator_model_against_integers():
    a, b, got = probe_run()
    ps, pu = probe_expected(a, b)
    np.testing.assert_array_equal(got["ps"], ps)
    np.testing.assert_array_equal(got["pu"], pu)


@needs_verilator
@pytest.mark.slow
def test_model_refuses_other_modes():
    from lpmac.sim.runner import SimulationError

    def output_register(text):
        return text.replace('.REG_OUTPUT_CLK("NONE")', '.REG_OUTPUT_CLK("CLK0")')

    with pytest.raises(SimulationError, match="REG_OUTPUT_CLK must be"):
        probe_run(output_register)


def run_mul_bench(spec, latency, vectors):
    from lpmac.sim.benches import run_bench

    result = run_bench(
        "mul",
        cfg=MulConfig.parse(spec),
        latency=latency,
        ecp5_dsp=True,
        vectors=vectors,
        seed=2026,
        lanes=64,
        simulator="verilator",
    )
    assert result.ok, result.summary()
    return result


@needs_verilator
def test_e4m3_exhaustive_verilator():
    result = run_mul_bench("E4M3:cfg1", 7, None)  # 16 input bits: exhaustive by default
    assert "65,536 vectors" in result.summary()


@needs_verilator
@pytest.mark.slow
def test_fp16_random_verilator():
    result = run_mul_bench("fp16:cfg1", 7, 20_000)
    assert "0 mismatches" in result.summary()
