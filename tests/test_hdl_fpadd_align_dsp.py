"""FpAdd's `align_dsp` option (the alignment shift's low bits as a DSP product,
hdl/normalize_capped.py `shift_right_sticky_dsp`) against golden `fp_add`, bit for bit: fp32
operand pairs at every exponent difference 0..40 and far apart, both signs (cancellation),
subnormals, zeros, infinities and NaN; with and without the DSP normaliser."""

from __future__ import annotations

import os

import numpy as np
import pytest
from amaranth.sim import Simulator

from lpmac import golden
from lpmac.config import AccConfig
from lpmac.formats import parse_format
from lpmac.hdl.fpadd import FpAdd

os.environ.setdefault("AMARANTH_USE_YOSYS", "builtin")

FP32 = parse_format("fp32")


def operand_pairs(rng, n: int):
    sign = lambda: int(rng.integers(0, 2)) << 31  # noqa: E731
    frac = lambda: int(rng.integers(0, 1 << 23))  # noqa: E731
    pairs = []
    for _ in range(n):
        ea = int(rng.integers(0, 255))
        d = int(rng.integers(0, 41)) if rng.random() < 0.8 else int(rng.integers(0, 255))
        eb = max(0, min(254, ea + (d if rng.random() < 0.5 else -d)))
        a = sign() | ea << 23 | frac()
        b = sign() | eb << 23 | (frac() if rng.random() < 0.7 else (a & 0x7FFFFF))
        pairs.append((a, b))
    specials = [0, 1 << 31, 0x7F800000, 0xFF800000, 0x7FC00000, 1, 0x807FFFFF, 0x7F7FFFFF]
    pairs += [(a, b) for a in specials for b in specials]
    pairs += [(0x3F800000, 0xBF7FFFFF), (0x00800000, 0x807FFFFF), (0x4B000001, 0xCB000000)]
    # ties to even (down and up), a subnormal sum carrying into the normal range, overflow
    pairs += [(0x3F800000, 0x33800000), (0x3F800001, 0x33800000), (0xBF800001, 0xB3800000)]
    pairs += [(0x007FFFFF, 0x00000001), (0x7F7FFFFF, 0x73000000), (0x7F7FFFFF, 0x72FFFFFF)]
    return pairs


@pytest.mark.parametrize("use_dsp", [False, True])
def test_align_dsp_matches_golden(use_dsp):
    cfg = AccConfig(FP32, "rne")
    dut = FpAdd(cfg, use_dsp=use_dsp, align_dsp=True)
    pairs = operand_pairs(np.random.default_rng(11), 4000)
    got = []

    async def bench(ctx):
        for a, b in pairs:
            ctx.set(dut.acc, a)
            ctx.set(dut.x, b)
            got.append(ctx.get(dut.s))

    sim = Simulator(dut)
    sim.add_testbench(bench)
    sim.run()
    acc = np.array([p[0] for p in pairs], dtype=np.uint64)
    x = np.array([p[1] for p in pairs], dtype=np.uint64)
    exp = np.asarray(golden.fp_add(acc, x, cfg), dtype=np.uint64)
    bad = np.nonzero(np.array(got, dtype=np.uint64) != exp)[0]
    assert bad.size == 0, [(hex(pairs[i][0]), hex(pairs[i][1]), hex(got[i])) for i in bad[:5]]
