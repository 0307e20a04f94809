"""The pipelined FP->BFP path of the HBFP GEMM array in Amaranth's Python simulator, bit for bit
against the golden model (golden.to_bfp, verified against independent references in
test_golden_bfp.py / test_golden_convert.py):

* `FloatToBfp(cuts=...)` (hdl/convert_bfp.py): one block per cycle, back to back, the result of
  block i read `depth` cycles later, at every cut setting (each single cut, every prefix of
  TOBFP_PLAN, all of them, with input / output latency on top), rne / rna / rz / sr (with gaps
  in `valid`: the generators step once per valid block at the rounding stage), blocks with
  zeros, subnormals, ties, the clamp and specials;
* `OperandFeed(pipelined=True)` (hdl/gemm_feed.py): a testbench that plays the array's
  launch protocol (launch while `full`, lengths 1..T, launches >= max(length, lanes) apart,
  random stream gaps) and checks every emitted element, `last`, and the side registers
  against golden.to_bfp of the blocks in the order they were accepted; and the cycle at
  which `full` first rises (the cycle model's first launch).
"""

from __future__ import annotations

import gc
import itertools
import warnings
import zlib

import numpy as np
import pytest
from amaranth.hdl import UnusedElaboratable
from test_hdl_convert import bfp_blocks, check_bfp, pack, simulate

from lpmac import golden as G
from lpmac.formats import parse_format
from lpmac.golden.convert import bfp_random_bits
from lpmac.hdl.convert_bfp import TOBFP_CUTS, TOBFP_PLAN, FloatToBfp, tobfp_cuts

F = parse_format


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def run_cut_f2b(fmt, bfp, blocks, cuts, *, mode="rne", latency=0, valid=None, **kw):
    """Blocks back to back through FloatToBfp(cuts=cuts), checked against golden.to_bfp."""
    sr_bits, sr_seed, lane_offset = kw.get("sr_bits", 8), kw.get("sr_seed", 1), kw.get("off", 0)
    dut = FloatToBfp(
        fmt,
        bfp,
        mode=mode,
        sr_bits=sr_bits,
        sr_seed=sr_seed,
        latency=latency,
        lane_offset=lane_offset,
        cuts=cuts,
    )
    assert dut.depth == latency + len(set(cuts))
    inputs = {"x": [pack(b, fmt.width) for b in blocks]}
    u, rows = None, None
    if mode == "sr":
        valid = np.ones(len(blocks), np.int64) if valid is None else np.asarray(valid, np.int64)
        inputs["valid"] = valid
        before = np.concatenate([[0], np.cumsum(valid)[:-1]])
        u_all = bfp_random_bits((int(valid.sum()) + 1,), bfp.T, sr_seed, sr_bits, lane_offset)
        u = u_all[before][:, None, :]
        rows = [f" (valid={valid[i]}, generator step {before[i]})" for i in range(len(blocks))]
    res = simulate(dut, inputs, ["exp", "man", "special"], latency=dut.depth)
    got = list(zip(res["exp"], res["man"], res["special"]))
    ref = G.to_bfp(blocks, fmt, bfp, mode=mode, u=u, sr_bits=sr_bits, seed=sr_seed)
    what = f"FloatToBfp {fmt}->{bfp} {mode} cuts={sorted(cuts)} latency={latency}"
    return check_bfp(what, fmt, bfp, blocks, got, ref, rows)


SINGLE = [frozenset([c]) for c in TOBFP_CUTS]
PREFIXES = [tobfp_cuts(n) for n in range(1, len(TOBFP_PLAN) + 1)]


@pytest.mark.parametrize("cuts", SINGLE + PREFIXES, ids=lambda c: "+".join(sorted(c)))
def test_cuts_fp32_blocks_of_8(cuts):
    """The array's default blocks (fp32 -> BFP8/8, rne) at every single cut and plan prefix."""
    fmt, bfp = F("fp32"), F("BFP8/8")
    blocks = bfp_blocks(fmt, bfp, 30, rng_for("cut-fp32", sorted(cuts)))
    run_cut_f2b(fmt, bfp, blocks, cuts)


@pytest.mark.parametrize(
    "fmt,bfp,mode,cuts,latency",
    [
        ("fp32", "BFP8/32", "rna", TOBFP_CUTS, 0),
        ("fp32", "BFP8/8", "rz", ("tree", "shift"), 2),
        ("bf16", "BFP4/16", "rne", ("unpack", "align", "round"), 1),
        ("E5M2-inf", "BFP6/4", "rz", TOBFP_CUTS, 0),  # elements wider than the input: a left shift
        ("E4M3-fin", "BFP3/5", "rne", ("max", "round"), 3),
        ("fp16", "BFP12/3", "rna", ("tree", "max"), 0),
        ("E5M2", "BFP2/1", "rne", TOBFP_CUTS, 1),  # one element: a tree without levels
    ],
)
def test_cuts_formats(fmt, bfp, mode, cuts, latency):
    fmt, bfp = F(fmt), F(bfp)
    blocks = bfp_blocks(fmt, bfp, 20, rng_for("cut-fmt", fmt, bfp, mode))
    run_cut_f2b(fmt, bfp, blocks, cuts, mode=mode, latency=latency)


def test_cuts_every_e4m3_value():
    """Every E4M3 pattern in every lane of a BFP8/8 block, all cuts (shifts 0..7, the clamp,
    NaN lanes among finite ones)."""
    fmt, bfp = F("E4M3"), F("BFP8/8")
    rng = rng_for("cut-e4m3")
    lanes = rng.permutation(np.tile(np.arange(256, dtype=np.uint64), 2)).reshape(-1, 8)
    anchors = G.from_float(
        2.0 ** rng.integers(-6, 9, len(lanes)) * rng.choice([1.0, 1.875], len(lanes)), fmt
    )
    with_anchor = lanes.copy()
    with_anchor[:, 3] = anchors
    run_cut_f2b(fmt, bfp, np.concatenate([lanes, with_anchor]), TOBFP_CUTS)


@pytest.mark.parametrize(
    "cuts",
    [frozenset(c) for c in itertools.combinations(TOBFP_CUTS, 2)][::3] + [frozenset(TOBFP_CUTS)],
    ids=lambda c: "+".join(sorted(c)),
)
def test_cuts_sr_with_gaps(cuts):
    """sr: each block meets the random values of its place among the valid blocks, whatever
    the number of registers between the input and the rounding decision."""
    fmt, bfp = F("fp32"), F("BFP8/8")
    rng = rng_for("cut-sr", sorted(cuts))
    blocks = bfp_blocks(fmt, bfp, 12, rng)
    valid = (rng.random(len(blocks)) < 0.7).astype(np.int64)
    run_cut_f2b(fmt, bfp, blocks, cuts, mode="sr", valid=valid, sr_bits=8, sr_seed=0xBEEF, off=8)


def test_cuts_sr_latency_and_narrow_window():
    fmt, bfp = F("bf16"), F("BFP4/8")
    rng = rng_for("cut-sr-lat")
    blocks = bfp_blocks(fmt, bfp, 14, rng)
    valid = (rng.random(len(blocks)) < 0.8).astype(np.int64)
    run_cut_f2b(fmt, bfp, blocks, ("unpack", "shift"), mode="sr", latency=2, valid=valid, sr_bits=3)


def test_bad_cuts():
    fmt, bfp = F("fp32"), F("BFP8/8")
    with warnings.catch_warnings():  # half-built units are never elaborated
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match="cuts must be among"):
            FloatToBfp(fmt, bfp, cuts=("max", "bogus"))
        with pytest.raises(ValueError, match="cuts must be among"):
            FloatToBfp(fmt, bfp, cuts="max")
        gc.collect()
    with pytest.raises(ValueError, match="6 cut points"):
        tobfp_cuts(7)
