"""hdl/fpmul.py and hdl/multiply.py in Amaranth's Python simulator.

`booth_multiply` against Python's exact integer product (exhaustive for 6- and 8-bit
operands, random for 11 and 24 bits), FpMul against the golden model for every CFG preset
on E4M3 and more formats (exhaustive, under `-m slow`; the default run has the cocotb
benches of every CFG) and for the LUT-only (`use_dsp=False`) significand product of wide
formats, FixedMul against an exact Fraction rounding. The cocotb benches
(tests/test_sim_benches.py) check the generated Verilog of the default configurations.
"""

from __future__ import annotations

import os
from fractions import Fraction

import numpy as np
import pytest
from amaranth.hdl import Cat, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import MulConfig
from lpmac.formats import FixedFormat
from lpmac.hdl.fpmul import FixedMul, FpMul
from lpmac.hdl.multiply import booth_multiply
from lpmac.sim import vectors as vec

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")
U64 = np.uint64


def run_comb(dut, ins, arrays, out) -> np.ndarray:
    """Apply each vector (one packed write) to a combinational unit and read `out`."""
    offsets = np.cumsum([0] + [len(p) for p in ins[:-1]])
    packed = sum(np.asarray(a, dtype=object) << int(o) for a, o in zip(arrays, offsets))
    got = np.zeros(len(arrays[0]), U64)
    port = Cat(*ins)

    async def bench(ctx):
        for i, v in enumerate(packed):
            ctx.set(port, int(v))
            got[i] = ctx.get(out)

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    return got


class Booth(wiring.Component):
    def __init__(self, w: int, v: int, signed_ops: bool):
        self.signed_ops = signed_ops
        super().__init__({"a": In(w), "b": In(v), "p": Out(w + v)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.p.eq(booth_multiply(m, self.a, self.b, signed_ops=self.signed_ops))
        return m


def _value(bits, w, signed_ops):
    bits = np.asarray(bits, dtype=object)
    return np.where(signed_ops & (bits >= 1 << (w - 1)), bits - (1 << w), bits)


BOOTH_CASES = [(6, 6, None), (7, 4, None), (11, 11, 300), (24, 24, 300)]
BOOTH_SLOW_CASES = [
    (8, 8, None),
    (8, 5, None),
    (5, 9, None),
    (11, 11, 20000),
    (24, 24, 20000),
    (13, 7, 20000),
]


@pytest.mark.parametrize("w,v,n", BOOTH_CASES)
@pytest.mark.parametrize("signed_ops", [False, True], ids=["unsigned", "signed"])
def test_booth_multiply(w, v, n, signed_ops):
    check_booth(w, v, n, signed_ops)


@pytest.mark.slow
@pytest.mark.parametrize("w,v,n", BOOTH_SLOW_CASES)
@pytest.mark.parametrize("signed_ops", [False, True], ids=["unsigned", "signed"])
def test_booth_multiply_slow(w, v, n, signed_ops):
    check_booth(w, v, n, signed_ops)


def check_booth(w, v, n, signed_ops):
    if n is None:
        a, b = (g.ravel() for g in np.meshgrid(np.arange(1 << w), np.arange(1 << v), indexing="ij"))
    else:
        rng = np.random.default_rng(w)
        a, b = rng.integers(0, 1 << w, n), rng.integers(0, 1 << v, n)
        extremes = [0, 1, (1 << (w - 1)) - 1, 1 << (w - 1), (1 << w) - 1]
        ea, eb = (g.ravel() for g in np.meshgrid(extremes, [x % (1 << v) for x in extremes]))
        a, b = np.concatenate([ea, a]), np.concatenate([eb, b])
    dut = Booth(w, v, signed_ops)
    got = run_comb(dut, [dut.a, dut.b], [a, b], dut.p)
    want = (_value(a, w, signed_ops) * _value(b, v, signed_ops)) % (1 << (w + v))
    bad = np.flatnonzero(got.astype(object) != want)
    assert bad.size == 0, [(int(a[i]), int(b[i]), int(got[i]), int(want[i])) for i in bad[:5]]


# Pairs per simulation run of an exhaustive space: bounds the object arrays run_comb builds.
CHUNK = 1 << 16


def check_fpmul(spec: str, use_dsp: bool, n: int | None = None) -> int:
    cfg = MulConfig.parse(spec)
    w = cfg.in_format.width
    if n is None:
        return sum(_check_fpmul(cfg, use_dsp, a, b) for a, b in vec.exhaustive_chunks(w, CHUNK))
    return _check_fpmul(
        cfg, use_dsp, *vec.product_pairs(cfg.in_format, n, np.random.default_rng(5))
    )


def _check_fpmul(cfg: MulConfig, use_dsp: bool, a: np.ndarray, b: np.ndarray) -> int:
    dut = FpMul(cfg, use_dsp=use_dsp)
    got = run_comb(dut, [dut.a, dut.b], [a, b], dut.p)
    want = golden.fp_mul(a, b, cfg)
    f = cfg.out_format
    same = got == want
    if f.has_nan:
        same |= np.isnan(golden.to_float(got, f)) & np.isnan(golden.to_float(want, f))
    bad = np.flatnonzero(~same)
    assert bad.size == 0, [
        (hex(int(a[i])), hex(int(b[i])), hex(int(got[i])), hex(int(want[i]))) for i in bad[:5]
    ]
    return a.size


@pytest.mark.slow
@pytest.mark.parametrize("cfg", range(1, 7))
def test_fpmul_e4m3_exhaustive(cfg):
    assert check_fpmul(f"E4M3:cfg{cfg}", use_dsp=True) == 1 << 16


@pytest.mark.parametrize("spec", ["fp32:cfg1", "fp16:cfg2", "bf16:cfg5"])
def test_fpmul_lut_only_wide(spec):
    assert check_fpmul(spec, use_dsp=False, n=400) >= 400


@pytest.mark.slow
@pytest.mark.parametrize(
    "spec", [f"{f}:cfg{c}" for f in ("fp32", "fp16", "bf16", "E5M3", "E6M3") for c in range(1, 7)]
)
def test_fpmul_lut_only_wide_slow(spec):
    assert check_fpmul(spec, use_dsp=False, n=5000) >= 5000


@pytest.mark.slow
@pytest.mark.parametrize("fmt", ["E5M2", "E4M3", "E3M4", "E2M5"])
@pytest.mark.parametrize("cfg", range(1, 7))
@pytest.mark.parametrize("use_dsp", [True, False], ids=["dsp", "lut"])
def test_fpmul_exhaustive_slow(fmt, cfg, use_dsp):
    assert check_fpmul(f"{fmt}:cfg{cfg}", use_dsp=use_dsp) == 1 << 16


def exact_fixmul(a, b, fmt: FixedFormat, rounding: str) -> np.ndarray:
    """Qi.f product rounded to f fraction bits (rne/rz) and saturated, from Fractions."""
    out = []
    for x, y in zip(_value(a, fmt.width, True), _value(b, fmt.width, True)):
        q = Fraction(int(x) * int(y), 1 << fmt.f)
        r = int(q) if rounding == "rz" else round(q)  # int() truncates toward zero; round() is rne
        r = min(max(r, fmt.min_int), fmt.max_int)
        out.append(r % (1 << fmt.width))
    return np.array(out, dtype=U64)


FIXMUL_CASES = [
    ("Q4.4", "rne", True, None),
    ("Q3.3", "rz", False, None),
    ("Q8.8", "rne", True, 2000),
    ("Q16.16", "rne", True, 1000),
    ("Q16.16", "rz", False, 200),
]
# n: None = every pair (exhaustive, streamed in chunks), "every" = every value of each operand
# once (`every_value_pairs`), an int = corner pairs + n random pairs. Amaranth's simulator runs
# the LUT-only fixed multipliers at about 1,700 (Q4.4), 530 (Q6.6) and 250 (Q8.8) pairs/s under
# load, so exhaustive stays at 16 input bits (2^16 pairs, under a minute): Q6.6's 2^24 pairs
# would take about 9 hours, Q8.8's 2^32 months (docs/performance.md, "The slow suite").
FIXMUL_SLOW_CASES = [
    ("Q4.4", "rz", False, None),
    ("Q5.3", "rne", False, None),
    ("Q8.8", "rz", False, "every"),
    ("Q6.6", "rne", False, "every"),
    ("Q16.16", "rne", False, 20000),
    ("Q1.15", "rne", True, 20000),
    ("Q12.4", "rz", True, 20000),
]


@pytest.mark.parametrize("spec,rounding,use_dsp,n", FIXMUL_CASES)
def test_fixmul(spec, rounding, use_dsp, n):
    check_fixmul(spec, rounding, use_dsp, n)


@pytest.mark.slow
@pytest.mark.parametrize("spec,rounding,use_dsp,n", FIXMUL_SLOW_CASES)
def test_fixmul_slow(spec, rounding, use_dsp, n):
    check_fixmul(spec, rounding, use_dsp, n)


def every_value_pairs(fmt: FixedFormat, rng: np.random.Generator):
    """Corner pairs, then every encoding of `a` once against a random permutation of every
    encoding as `b`: each value of each operand (so every saturation and rounding class of
    each operand) appears, in 2^width pairs instead of 2^(2 width)."""
    corners = vec.fixed_corners(fmt)
    ca, cb = (g.ravel() for g in np.meshgrid(corners, corners))
    every = np.arange(1 << fmt.width, dtype=U64)
    return np.concatenate([ca, every]), np.concatenate([cb, rng.permutation(every)])


def check_fixmul(spec, rounding, use_dsp, n):
    fmt = FixedFormat(*map(int, spec[1:].split(".")))
    rng = np.random.default_rng(fmt.width)
    if n is None:
        chunks = vec.exhaustive_chunks(fmt.width, CHUNK)
    elif n == "every":
        chunks = [every_value_pairs(fmt, rng)]
    else:
        corners = vec.fixed_corners(fmt)
        ca, cb = (g.ravel() for g in np.meshgrid(corners, corners))
        a = np.concatenate([ca, rng.integers(0, 1 << fmt.width, n, dtype=U64)])
        b = np.concatenate([cb, rng.integers(0, 1 << fmt.width, n, dtype=U64)])
        chunks = [(a, b)]
    for a, b in chunks:
        _check_fixmul(fmt, rounding, use_dsp, a, b)


def _check_fixmul(fmt, rounding, use_dsp, a, b):
    dut = FixedMul(fmt, rounding, use_dsp=use_dsp)
    got = run_comb(dut, [dut.a, dut.b], [a, b], dut.p)
    want = exact_fixmul(a, b, fmt, rounding)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, [
        (hex(int(a[i])), hex(int(b[i])), hex(int(got[i])), hex(int(want[i]))) for i in bad[:5]
    ]
