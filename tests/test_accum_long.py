"""The long accumulator (`E6M5:long`): golden/accum_long.py against an exact reference.

The reference (tests/fraction_ref.py, independent of golden/) decodes every input to a
Fraction, sums exactly, and encodes the sum once with rne; NaN and infinities follow
docs/semantics.md "Long accumulator". E5M2 sums are also checked with ml_dtypes (the exact
sum is a float64, which ml_dtypes rounds once)."""

from __future__ import annotations

from fractions import Fraction

import ml_dtypes
import numpy as np
import pytest
from fraction_ref import NAN, decode, encode, inf, ref_fmt, value_of

from lpmac import AccConfig, MacConfig, MulConfig, golden
from lpmac.config import ConfigError
from lpmac.formats import parse_float_format
from lpmac.golden.accum_long import KMAX_LOG2, LongPlan


def ref_long(xs, x_fmt, cfg: AccConfig) -> int:
    """Bits of the exact sum of the inputs `xs` (ints) rounded once into cfg.fmt."""
    X, A = ref_fmt(x_fmt), ref_fmt(cfg.fmt)
    values = [decode(int(b), X) for b in xs]
    if any(v.kind == "nan" for v in values):
        return encode(NAN, A)
    signs = {v.sign for v in values if v.kind == "inf"}
    if len(signs) == 2:
        return encode(NAN, A)
    if signs:
        return encode(inf(signs.pop()), A)
    total = sum((v.value() for v in values), Fraction(0))
    return encode(value_of(total), A, "rne", cfg.sub_out)


def finite_patterns(rng, fmt, shape, *, p_special=0.0):
    """Random encodings of `fmt`: mostly finite, a share of them small (cancellations and
    subnormals), a share `p_special` of any pattern (NaN/inf included)."""
    X = ref_fmt(fmt)
    bits = rng.integers(0, 1 << fmt.width, size=shape, dtype=np.uint64)
    finite = np.array([decode(int(b), X).kind == "fin" for b in bits.ravel()]).reshape(shape)
    small = rng.integers(0, 1 << (fmt.m + 2), size=shape, dtype=np.uint64)
    small |= rng.integers(0, 2, size=shape, dtype=np.uint64) << np.uint64(fmt.width - 1)
    keep_any = rng.random(shape) < p_special
    out = np.where(finite | keep_any, bits, small)
    return np.where(rng.random(shape) < 0.3, small, out)


CASES = [
    ("E6M5:long", "E6M5"),
    ("E6M5:long", "E6M5-inf"),
    ("E7M7:long", "E7M7"),
    ("E6M5:long,flush", "E6M5"),
    ("E8M23:long", "E5M2"),
]


@pytest.mark.parametrize("spec, x_name", CASES)
def test_random_streams_vs_fraction_sum(spec, x_name):
    cfg, x_fmt = AccConfig.parse(spec), parse_float_format(x_name)
    rng = np.random.default_rng(18)
    steps, lanes = 60, 6
    xs = finite_patterns(rng, x_fmt, (steps, lanes), p_special=0.02)
    hist = golden.accumulate(xs, cfg, x_fmt, history=True)
    for lane in range(lanes):
        for t in range(steps):
            want = ref_long(xs[: t + 1, lane], x_fmt, cfg)
            assert int(hist[t, lane]) == want, (spec, x_name, lane, t)


@pytest.mark.parametrize("steps", [1, 7, 300])
def test_e5m2_sum_vs_ml_dtypes(steps):
    cfg, fmt = AccConfig.parse("E5M2:long"), parse_float_format("E5M2")
    rng = np.random.default_rng(steps)
    xs = finite_patterns(rng, fmt, (steps, 40))
    xs = np.where((xs & 0x7C) == 0x7C, xs & 0x83, xs)  # no NaN/inf: floats sum them
    exact = xs.astype(np.uint8).view(ml_dtypes.float8_e5m2).astype(np.float64).sum(axis=0)
    want = exact.astype(ml_dtypes.float8_e5m2).view(np.uint8)
    got = golden.accumulate(xs, cfg)
    np.testing.assert_array_equal(got, want)


def test_corners_e6m5():
    cfg = AccConfig.parse("E6M5:long")
    fmt = cfg.fmt
    pos_zero, neg_zero = 0, 1 << 11
    max_finite = (62 << 5) | 31
    tiny = 1  # smallest subnormal
    one = 31 << 5
    nan = (63 << 5) | 16
    pinf, ninf = 63 << 5, (1 << 11) | (63 << 5)
    neg = 1 << 11
    streams = {
        "zeros": [neg_zero, neg_zero],  # the register is exact: -0 + -0 reads +0
        "cancel": [max_finite, tiny, max_finite | neg],  # exact: the tiny survives
        "overflow": [max_finite, max_finite],
        "overflow back": [max_finite, max_finite, max_finite | neg],
        "subnormals": [tiny] * 33,
        "one minus": [one, tiny | neg],
        "nan": [one, nan, one],
        "inf": [pinf, max_finite | neg, max_finite | neg],
        "-inf": [one, ninf],
        "inf-inf": [pinf, ninf],
    }
    for name, stream in streams.items():
        xs = np.array(stream, dtype=np.uint64)
        assert int(golden.accumulate(xs, cfg)) == ref_long(stream, fmt, cfg), name
    # literal values of a few of them
    assert int(golden.accumulate(np.array(streams["zeros"], np.uint64), cfg)) == pos_zero
    assert int(golden.accumulate(np.array(streams["cancel"], np.uint64), cfg)) == tiny
    assert int(golden.accumulate(np.array(streams["inf-inf"], np.uint64), cfg)) == nan
    assert int(golden.accumulate(np.array(streams["-inf"], np.uint64), cfg)) == ninf
    overflow_back = golden.accumulate(np.array(streams["overflow back"], np.uint64), cfg)
    assert int(overflow_back) == max_finite  # rne per step would have stuck at inf


def test_valid_and_clear():
    cfg, x_fmt = AccConfig.parse("E6M5:long"), parse_float_format("E6M5")
    rng = np.random.default_rng(5)
    steps, lanes = 80, 4
    xs = finite_patterns(rng, x_fmt, (steps, lanes), p_special=0.05)
    valid = rng.random((steps, lanes)) < 0.7
    clear = rng.random((steps, lanes)) < 0.08
    hist = golden.accumulate(xs, cfg, valid=valid, clear=clear, history=True)
    for lane in range(lanes):
        taken = []
        for t in range(steps):
            if clear[t, lane]:
                taken = []  # clear acts before this step's input, and resets NaN/inf flags
            if valid[t, lane]:
                taken.append(int(xs[t, lane]))
            assert int(hist[t, lane]) == ref_long(taken, x_fmt, cfg), (lane, t)


def test_mac_dispatches_to_long():
    cfg = MacConfig.parse("E5M2:cfg5+E6M5:long")
    rng = np.random.default_rng(3)
    a = rng.integers(0, 256, size=(50, 5), dtype=np.uint64)
    b = rng.integers(0, 256, size=(50, 5), dtype=np.uint64)
    prods = golden.fp_mul(a, b, cfg.mul)  # the verified multiplier, then an exact sum
    got = golden.mac(a, b, cfg).acc
    for lane in range(5):
        want = ref_long(prods[:, lane], cfg.mul.out_format, cfg.acc)
        assert int(got[lane]) == want


def test_register_overflow_is_sticky_inf():
    """Beyond 2^KMAX_LOG2 maximal inputs the register overflows: the result is inf of the
    overflowing sign, until clear."""
    cfg, x_fmt = AccConfig.parse("E8M23:long"), parse_float_format("E2M1")
    plan = LongPlan.of(x_fmt)
    max_units = 6  # E2M1: max finite 3 = 6 units of 2^-1
    assert (plan.lsb_exp, plan.width) == (-1, 3 + KMAX_LOG2 + 1)
    steps = plan.limit // max_units + 1
    xs = np.full(steps + 2, 0b0101, dtype=np.uint64)  # +3
    xs[-2] = 0b1101  # -3 after the overflow does not bring it back
    clear = np.zeros(steps + 2, bool)
    hist = golden.accumulate(xs, cfg, x_fmt, clear=clear, history=True)
    plus_inf = 0xFF << 23
    assert int(hist[steps - 2]) == encode(value_of(Fraction(3 * (steps - 1))), ref_fmt(cfg.fmt))
    assert [int(v) for v in hist[steps - 1 :]] == [plus_inf] * 3
    clear[-1] = True
    assert int(golden.accumulate(xs, cfg, x_fmt, clear=clear)) == encode(
        value_of(Fraction(3)), ref_fmt(cfg.fmt)
    )


def test_config_and_refusals():
    for spec in ("E6M5:long", "E6M5:long,flush", "E7M7:long"):
        cfg = AccConfig.parse(spec)
        assert cfg.is_long and str(cfg) == spec and AccConfig.parse(str(cfg)) == cfg
    assert not AccConfig.parse("E6M5").is_long
    for bad in ("Q8.13:long", "E6M5:long,rz"):
        with pytest.raises(ConfigError):
            AccConfig.parse(bad)
    with pytest.raises(ConfigError, match="long accumulator"):
        golden.fp_add(np.uint64(0), np.uint64(0), AccConfig.parse("E6M5:long"))


def test_register_width_limit(monkeypatch):
    """fp32 inputs need 294 bits (built); a register above MAX_WIDTH is refused in one line."""
    from lpmac import long_acc

    assert LongPlan.of(parse_float_format("fp32")).width == 294 <= long_acc.MAX_WIDTH
    monkeypatch.setattr(long_acc, "MAX_WIDTH", 200)
    with pytest.raises(ConfigError, match="294-bit register, more than the 200") as err:
        LongPlan.of(parse_float_format("fp32"))
    assert "\n" not in str(err.value)


def test_matmul_long_equals_exact_sums():
    cfg = MacConfig.parse("E5M2:cfg5+E6M5:long")
    rng = np.random.default_rng(9)
    a = rng.integers(0, 256, size=(3, 20), dtype=np.uint64)
    b = rng.integers(0, 256, size=(20, 4), dtype=np.uint64)
    got = golden.matmul(a, b, cfg).acc
    for i in range(3):
        for j in range(4):
            prods = golden.fp_mul(a[i], b[:, j], cfg.mul)
            assert int(got[i, j]) == ref_long(prods, cfg.mul.out_format, cfg.acc), (i, j)


# --------------------------------------------------------------------------- hardware
def _sim_streams(dut, streams: list, steps: int, lag: int) -> np.ndarray:
    """`dut` in Amaranth's simulator: each input port of `streams` [(port, values)] takes its
    value of cycle t, `acc` is read lag - 1 edges later (idle zeros are fed while the
    pipeline drains)."""
    from amaranth.sim import Simulator

    got = np.zeros(steps, dtype=np.uint64)

    async def bench(ctx):
        seen = []
        for t in range(steps + lag):
            for port, values in streams:  # a list: Amaranth signals are not hashable
                ctx.set(port, int(values[t]) if t < steps else 0)
            await ctx.tick()
            seen.append(ctx.get(dut.acc))
        got[:] = seen[lag - 1 : lag - 1 + steps]

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(bench)
    sim.run()
    return got


def _sim_long(cfg: AccConfig, x_fmt, xs, valid, clear):
    """LongAcc: inputs of cycle t, `acc` read latency - 1 edges later."""
    from lpmac.hdl.accum_long import LongAcc

    dut = LongAcc(cfg, x_fmt)
    streams = [(dut.x, xs), (dut.valid, valid), (dut.clear, clear)]
    return _sim_streams(dut, streams, len(xs), dut.latency)


def band_patterns(rng, fmt, steps, width=4):
    """Finite values with exponent fields within `width` of the bias, both signs: sums
    that cancel and round, rather than one term dominating."""
    field = rng.integers(fmt.bias - width, fmt.bias + width, size=steps, dtype=np.uint64)
    frac = rng.integers(0, 1 << fmt.m, size=steps, dtype=np.uint64)
    sign = rng.integers(0, 2, size=steps, dtype=np.uint64) << np.uint64(fmt.width - 1)
    return sign | (field << np.uint64(fmt.m)) | frac


@pytest.mark.parametrize(
    "spec, x_name, steps, seed, band",
    [
        ("E6M5:long", "E5M2:cfg5", 300, 1, False),
        ("E6M5:long", "E5M2:cfg5", 400, 3, True),
        ("E7M7:long", "E7M7", 200, 2, False),
        ("E7M7:long", "E7M7", 400, 4, True),
        ("E6M5:long,flush", "E6M5", 200, 5, False),
        ("E5M2:long", "E5M2", 300, 6, True),
        ("E8M23:long", "E5M2", 200, 7, False),
        ("E8M23:long", "E8M23", 300, 8, False),  # two carry-save segments (295 bits)
        ("E8M23:long", "E8M23", 300, 9, True),
        ("bf16:long,flush", "bf16", 200, 10, False),
    ],
)
def test_hdl_long_acc_vs_golden(spec, x_name, steps, seed, band):
    cfg = AccConfig.parse(spec)
    x_fmt = MulConfig.parse(x_name).out_format if ":" in x_name else parse_float_format(x_name)
    rng = np.random.default_rng(seed)
    if band:
        xs = band_patterns(rng, x_fmt, steps)
    else:
        xs = finite_patterns(rng, x_fmt, steps, p_special=0.01)
    valid = rng.random(steps) < 0.8
    clear = rng.random(steps) < 0.02
    want = golden.accumulate(xs, cfg, x_fmt, valid=valid, clear=clear, history=True)
    got = _sim_long(cfg, x_fmt, xs, valid, clear)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} mismatches, first at step {bad[:5]}"


@pytest.mark.parametrize("segment_bits", [24, 40])
def test_hdl_long_acc_many_segments(monkeypatch, segment_bits):
    """Short segments (E6M5-inf: 86 bits in 4 or 3) exercise the carry-save loop and the
    read-out's carry resolution over several stages."""
    from lpmac.hdl import accum_long

    monkeypatch.setattr(accum_long, "SEGMENT_BITS", segment_bits)
    cfg, x_fmt = AccConfig.parse("E6M5:long"), MulConfig.parse("E5M2:cfg5").out_format
    assert len(accum_long.segment_sizes(LongPlan.of(x_fmt).width + 1)) >= 3
    rng = np.random.default_rng(segment_bits)
    steps = 400
    xs = np.where(
        rng.random(steps) < 0.5,
        band_patterns(rng, x_fmt, steps),
        finite_patterns(rng, x_fmt, steps, p_special=0.01),
    )
    valid = rng.random(steps) < 0.85
    clear = rng.random(steps) < 0.03
    want = golden.accumulate(xs, cfg, x_fmt, valid=valid, clear=clear, history=True)
    got = _sim_long(cfg, x_fmt, xs, valid, clear)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} mismatches, first at step {bad[:5]}"


def test_hdl_long_acc_corners():
    """Overflow to inf and back by cancellation, NaN/inf flags and clear, in hardware."""
    cfg = AccConfig.parse("E6M5:long")
    max_finite, tiny, neg = (62 << 5) | 31, 1, 1 << 11
    xs = np.array(
        [max_finite, tiny, max_finite, max_finite | neg, max_finite | neg, 63 << 5, neg | 63 << 5]
        + [1, 0, neg, (63 << 5) | 3, 5],
        dtype=np.uint64,
    )
    clear = np.zeros(len(xs), bool)
    clear[[7, 11]] = True
    valid = np.ones(len(xs), bool)
    want = golden.accumulate(xs, cfg, valid=valid, clear=clear, history=True)
    got = _sim_long(cfg, cfg.fmt, xs, valid, clear)
    np.testing.assert_array_equal(got, want)


def test_hdl_refusals_and_verilog():
    from amaranth.back import verilog

    from lpmac.hdl.accum import FpAcc
    from lpmac.hdl.accum_long import LongAcc

    with pytest.raises(ValueError, match="LongAcc"):
        FpAcc(AccConfig.parse("E6M5:long"))
    with pytest.raises(ValueError, match="long float accumulator"):
        LongAcc(AccConfig.parse("E6M5"))
    dut = LongAcc(AccConfig.parse("E6M5:long"), MulConfig.parse("E5M2:cfg5").out_format)
    text = verilog.convert(dut, name="long_acc")
    assert "module long_acc" in text and "reg" in text


@pytest.mark.parametrize("spec, x_name", [("E6M5:long", "E5M2:cfg5"), ("E7M7:long", "E7M7")])
def test_cosim_long_acc(spec, x_name):
    """The generated Verilog in the cocotb harness (sim/bench_sequences.py bench_acc, which
    waits the unit's latency - 1 extra cycles for the answer) against golden `accumulate`."""
    from lpmac.sim import benches, runner

    if not runner.available_simulators():
        pytest.skip("no simulator installed")
    x_fmt = MulConfig.parse(x_name).out_format if ":" in x_name else parse_float_format(x_name)
    result = benches.run_bench("acc", cfg=AccConfig.parse(spec), x_fmt=x_fmt, vectors=4000, lanes=8)
    assert result.checked == 4000 and result.mismatches == 0


@pytest.mark.parametrize("latency", [1, 3])
def test_hdl_mac_long_vs_golden(latency):
    """Mac with a long accumulator: FpMul (latency - 1 stages) -> LongAcc; `acc` answers
    `depth` cycles after the inputs."""
    from lpmac.hdl.accum import Mac

    cfg = MacConfig.parse("E5M2:cfg5+E6M5:long")
    rng = np.random.default_rng(40 + latency)
    steps = 300
    a = rng.integers(0, 256, size=steps, dtype=np.uint64)
    b = rng.integers(0, 256, size=steps, dtype=np.uint64)
    valid = rng.random(steps) < 0.85
    clear = rng.random(steps) < 0.03
    want = golden.mac(a, b, cfg, valid=valid, clear=clear, history=True).acc
    dut = Mac(cfg, latency=latency)
    streams = [(dut.a, a), (dut.b, b), (dut.valid, valid), (dut.clear, clear)]
    got = _sim_streams(dut, streams, steps, dut.depth)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} mismatches, first at step {bad[:5]}"


def test_cosim_mac_long():
    from lpmac.sim import benches, runner

    if not runner.available_simulators():
        pytest.skip("no simulator installed")
    result = benches.run_bench(
        "mac", cfg=MacConfig.parse("E5M2:cfg5+E6M5:long"), vectors=4000, lanes=8
    )
    assert result.checked == 4000 and result.mismatches == 0
