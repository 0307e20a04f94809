"""Every unit's generated Verilog under cocotb against lpmac.golden (sim/benches.py).

Each test asserts zero mismatches and the exact number of vectors it meant to check, so a
bench that silently checks nothing fails. The default matrix is sized for a 2-core machine:
Verilator builds (4-20 s each from an empty cache, keyed by the Verilog) dominate, so the
six CFG multipliers of a format share one design (`run_mul_cfgs`) and most benches use 1-4
lanes, where a build is cheapest. `pytest -m slow` adds the exhaustive 2^18 / 2^20
multiplier spaces and more configurations with more vectors.
"""

import gc
import warnings

import pytest
from amaranth.hdl import UnusedElaboratable
from test_cli import run_cli

from lpmac.config import ConfigError
from lpmac.formats import FloatFormat, parse_format
from lpmac.hdl.generate import build
from lpmac.sim import benches, runner
from lpmac.sim import vectors as vec
from lpmac.sim.bundle import SideBySide
from lpmac.units import parse_point

SIMULATORS = runner.available_simulators()
pytestmark = pytest.mark.skipif(not SIMULATORS, reason="no simulator installed")


def simulator():
    return "verilator" if "verilator" in SIMULATORS else SIMULATORS[0]  # Verilator is much faster


def check(result, expected_count):
    assert result.mismatches == 0, result.summary()
    assert result.checked == expected_count, result.summary()
    assert result.stats.vectors > 0


def bench(unit, config, count, *, vectors=None, lanes=4, **extra):
    """run_bench for a configuration string (lpmac.units.parse_point) plus builder options."""
    kwargs = {**parse_point(unit, config), **extra}
    result = benches.run_bench(unit, vectors=vectors, lanes=lanes, simulator=simulator(), **kwargs)
    check(result, count)
    return result


def corner_pairs(fmt):
    return len(vec.fixed_corners(parse_format(fmt))) ** 2


def unary_count(src, n):
    """Vectors of a converter bench: every input for n=None (<= 16 bits), else corners + n."""
    src = parse_format(src, derived=True)
    if n is None:
        return 1 << src.width
    corners = vec.float_corners(src) if isinstance(src, FloatFormat) else vec.fixed_corners(src)
    return len(corners) + n


def elements(n, bfp):
    """Element conversions of a block converter bench asked for n: whole blocks."""
    T = parse_format(bfp).T
    return -(-n // T) * T


# --------------------------------------------------------------------------- multipliers
@pytest.mark.parametrize("fmt", ["E4M3", "E5M2"])
def test_mul_every_cfg_exhaustive(fmt):
    results = benches.run_mul_cfgs(fmt, lanes=1, simulator=simulator())
    assert [r.config for r in results] == [f"{fmt}:cfg{n}" for n in range(1, 7)]
    for r in results:
        check(r, 65536)


@pytest.mark.parametrize("fmt", ["fp16", "bf16", "fp32"])
def test_mul_every_cfg_wide_random(fmt):
    """200k corner, boundary, tie and random pairs (vectors.product_pairs) for CFG-1..6."""
    results = benches.run_mul_cfgs(fmt, vectors=200_000, lanes=2, simulator=simulator())
    assert len(results) == 6
    for r in results:
        check(r, 200_000)


# --------------------------------------------------------------------------- fixed multipliers
def test_fixmul_q8_8_random():
    bench("fixmul", "Q8.8", corner_pairs("Q8.8") + 200_000, vectors=200_000)


def test_fixmul_q4_4_exhaustive():
    bench("fixmul", "Q4.4", corner_pairs("Q4.4") + 65536, lanes=1)


# --------------------------------------------------------------------------- accumulators, MAC
@pytest.mark.parametrize("config", ["E6M5", "E6M5:rz", "E6M5:sr,flush,bits=6,seed=7", "Q8.13"])
def test_acc(config):
    """12,800 steps in 4 lanes, ~6 % of them clears, ~10 % idle."""
    bench("acc", config, 12_800, vectors=12_800)


@pytest.mark.parametrize("config", ["E5M2:cfg5+E6M5", "E5M2:cfg5+Q8.13"])
def test_mac(config):
    bench("mac", config, 12_800, vectors=12_800)


@pytest.mark.parametrize(
    "unit,config,options",
    [
        ("acc", "E6M5", {"latency": 3}),
        ("acc", "Q8.13", {"latency": 2}),
        ("mac", "E5M2:cfg5+E6M5", {"latency": 3, "use_dsp": False}),
    ],
)
def test_sequences_at_latency(unit, config, options):
    """--latency / --no-dsp of acc and mac (the bench aligns outputs by the unit's latency)."""
    bench(unit, config, 6_400, vectors=6_400, **options)


# --------------------------------------------------------------------------- converters
@pytest.mark.parametrize(
    "config,n", [("fp32->E5M2", 200_000), ("E6M3->Q8.13", None), ("Q8.13->fp16", 200_000)]
)
def test_convert(config, n):
    bench("convert", config, unary_count(config.partition("->")[0], n), vectors=n)


@pytest.mark.parametrize("latency", [0, 2])
def test_convert_sr(latency):
    """Every fp16 pattern, ~80 % valid: the generator steps once per valid conversion."""
    bench("convert", "fp16->E4M3:sr", 65536, latency=latency, sr_bits=5, sr_seed=0x1234567)


def test_tobfp_mxint8():
    """fp32 -> BFP8/32 with rna (OCP MXINT8 on finite inputs): 1,000 blocks on one converter."""
    bench("tobfp", "fp32->BFP8/32:rna", 32_000, vectors=32_000, lanes=32)


def test_tobfp_sr():
    """bf16 -> BFP8/8 sr, latency 1: element t of every copy steps lane_seed(seed, t)."""
    bench(
        "tobfp",
        "bf16->BFP8/8:sr",
        40_000,
        vectors=40_000,
        lanes=16,
        latency=1,
        sr_bits=6,
        sr_seed=0xBEEF,
    )


def test_frombfp():
    """BFP8/16 -> fp32, half the blocks over the whole 8-bit exponent range."""
    bench("frombfp", "BFP8/16->fp32", 32_000, vectors=32_000, lanes=16)


@pytest.mark.parametrize(
    "argv,printed",
    [
        (
            ["tobfp", "--fmt", "fp32", "--bfp", "BFP8/32", "--round", "rna", "--lanes", "32"],
            "tobfp E8M23->BFP8/32:rna: 3,200 vectors",
        ),
        (
            ["frombfp", "--bfp", "BFP8/16", "--to", "fp32", "--lanes", "16"],
            "frombfp BFP8/16->E8M23: 3,200 vectors",
        ),
    ],
)
def test_sim_block_converter_commands(argv, printed, capsys):
    """`lpmac sim tobfp|frombfp` (the designs of test_tobfp_mxint8 / test_frombfp: builds
    reused)."""
    code, out, _ = run_cli(["sim", *argv, "--vectors", "3200", "--simulator", simulator()], capsys)
    assert code == 0, out
    assert f"{printed} checked, 0 mismatches" in out


# --------------------------------------------------------------------------- bad configurations
def test_bad_configurations_are_refused_before_any_simulator(monkeypatch):
    def must_not_run(*args, **kwargs):
        raise AssertionError("a simulator was started for a bad configuration")

    monkeypatch.setattr(runner, "build", must_not_run)
    monkeypatch.setattr(runner, "run_test", must_not_run)
    with pytest.raises(ValueError, match="no bench for unit 'gemm'; benches exist for mul, fixmul"):
        benches.run_bench("gemm", **parse_point("gemm", "4x4:BFP8/8"))
    with pytest.raises(ValueError, match="lanes must be >= 1, got 0"):
        benches.run_bench("mul", lanes=0, **parse_point("mul", "E4M3:cfg1"))
    with pytest.raises(ValueError, match="sr_seed must be a nonzero 32-bit value"):
        benches.run_bench("tobfp", sr_seed=0, **parse_point("tobfp", "fp32->BFP8/32:sr"))
    with pytest.raises(ConfigError, match="valid presets are 1..6"):
        benches.run_mul_cfgs("E4M3", cfgs=[1, 7])
    with pytest.raises(ValueError, match="fraction bits must be in 1..23"):
        benches.run_mul_cfgs("E4M24")
    with warnings.catch_warnings():  # the refused units are never elaborated
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match="side-by-side units must share their inputs"):
            SideBySide(
                {
                    "a": build("mul", **parse_point("mul", "E4M3:cfg1")).component,
                    "b": build("mul", **parse_point("mul", "fp16:cfg1")).component,
                }
            )
        gc.collect()


@pytest.mark.parametrize(
    "argv,message",
    [
        (
            ["sim", "tobfp", "--fmt", "fp32", "--bfp", "Q8.13"],
            "--bfp must be a block floating-point format",
        ),
        (["sim", "frombfp", "--bfp", "BFP1/4"], "BFP element bits m (sign included)"),
    ],
)
def test_bad_block_converter_options_exit_2(argv, message, capsys, monkeypatch):
    monkeypatch.setattr(runner, "build", lambda *a, **k: pytest.fail("a simulator was started"))
    code, out, err = run_cli(argv, capsys)
    assert code == 2 and len(err.strip().splitlines()) == 1 and message in err, err


# --------------------------------------------------------------------------- slow matrix
@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["E5M3", "E6M3"])
def test_mul_every_cfg_exhaustive_9_10_bits(fmt):
    count = 1 << (2 * parse_format(fmt).width)
    for r in benches.run_mul_cfgs(fmt, vectors="exhaustive", lanes=16, simulator=simulator()):
        check(r, count)


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["E2M1", "E3M2", "E3M4", "E2M5", "E5M2b10", "E8M3", "tf32"])
def test_mul_every_cfg_more_formats(fmt):
    width = parse_format(fmt).width
    n = None if width <= 8 else 1_000_000  # exhaustive up to 8 bits
    for r in benches.run_mul_cfgs(fmt, vectors=n, lanes=4, simulator=simulator()):
        check(r, 1 << 2 * width if n is None else n)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["E4M3:cfg3", "fp16:cfg1", "E5M2:cfg6"])
def test_mul_pipelined(config):
    fmt = parse_format(config.partition(":")[0])
    count = 65536 if fmt.width == 8 else 200_000
    bench("mul", config, count, vectors=None if count == 65536 else count, latency=3)


@pytest.mark.slow
@pytest.mark.parametrize("config", ["Q8.13", "Q16.16:rz", "Q2.6"])
def test_fixmul_slow(config):
    fmt = config.partition(":")[0]
    count = corner_pairs(fmt) + (65536 if parse_format(fmt).width == 8 else 1_000_000)
    bench("fixmul", config, count, vectors=None if parse_format(fmt).width == 8 else 1_000_000)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        "E6M5:rne,flush",
        "E6M5:sr,bits=8,seed=3",
        "E7M7@E7M7-inf",
        "fp16:rz",
        "E8M10:sr,bits=12,seed=99",
        "fp32",
        "Q16.16",
        "Q4.4",
    ],
)
def test_acc_slow(config):
    bench("acc", config, 200_000, vectors=200_000, lanes=16)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config",
    [
        "E4M3:cfg1+fp16",
        "E5M2:cfg6+E6M5:sr,bits=6,seed=5",
        "E4M3:cfg3+Q8.13:rz",
        "E5M2:cfg4+E6M5:flush",
        "bf16:cfg1+fp32",
    ],
)
def test_mac_slow(config):
    bench("mac", config, 200_000, vectors=200_000, lanes=16)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config,extra",
    [
        ("fp32->E4M3:rz", {}),
        ("bf16->E5M2", {"saturate": True}),
        ("fp16->E5M2", {"sub_out": "flush"}),
        ("fp16->Q8.13:rz", {}),
        ("Q16.16->fp32", {}),
        ("E6M5->E5M2:sr", {"latency": 3, "sr_bits": 3}),
        ("fp32->bf16:sr", {"latency": 1}),
        ("E6M3->Q8.13", {"latency": 2}),
    ],
)
def test_convert_slow(config, extra):
    src = config.partition("->")[0]
    n = None if parse_format(src, derived=True).width <= 16 else 1_000_000
    bench("convert", config, unary_count(src, n), vectors=n, lanes=16, **extra)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config,extra",
    [
        ("fp32->BFP8/32:rne", {}),
        ("fp32->BFP8/32:rz", {}),
        ("fp32->BFP8/32:sr", {"latency": 2}),
        ("fp16->BFP12/3:rna", {}),
        ("E4M3->BFP8/8:rne", {}),
        ("E5M2-inf->BFP6/4:sr", {"sr_bits": 4}),
    ],
)
def test_tobfp_slow(config, extra):
    bfp = config.partition("->")[2].partition(":")[0]
    bench("tobfp", config, elements(320_000, bfp), vectors=320_000, lanes=96, **extra)


@pytest.mark.slow
@pytest.mark.parametrize(
    "config,extra",
    [
        ("BFP8/32->fp32", {}),
        ("BFP8/32->bf16", {}),
        ("BFP8/8->E5M2", {"latency": 2}),
        ("BFP12/4->fp16", {}),
        ("BFP4/6->E3M2-fin", {}),
    ],
)
def test_frombfp_slow(config, extra):
    bfp = config.partition("->")[0]
    bench("frombfp", config, elements(240_000, bfp), vectors=240_000, lanes=96, **extra)
