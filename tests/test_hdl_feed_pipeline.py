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
from amaranth.sim import Simulator
from test_hdl_convert import bfp_blocks, pack, run_f2b

from lpmac import golden as G
from lpmac.formats import parse_format
from lpmac.golden.convert import bfp_random_bits
from lpmac.hdl.convert_bfp import TOBFP_CUTS, TOBFP_PLAN, FloatToBfp, tobfp_cuts
from lpmac.hdl.gemm_feed import FEED_CUTS, OperandFeed
from lpmac.hdl.gemm_timing import GemmTiming

F = parse_format


def rng_for(*key) -> np.random.Generator:
    return np.random.default_rng(zlib.crc32("|".join(map(str, key)).encode()))


def run_cut_f2b(fmt, bfp, blocks, cuts, *, mode="rne", latency=0, valid=None, **kw):
    """test_hdl_convert's FloatToBfp check (golden.to_bfp) with register stages `cuts`."""
    off = kw.pop("off", 0)
    return run_f2b(fmt, bfp, blocks, mode, latency, valid, lane_offset=off, cuts=cuts, **kw)


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


# --------------------------------------------------------------------------- OperandFeed
def play_feed(feed: OperandFeed, blocks, rng, *, p_valid=1.0, p_wait=0.0, lengths=None):
    """Offer `blocks` (in order) on `feed.blocks` (valid with probability p_valid), launch
    whenever `full` and the previous launch is max(length, lanes) cycles old (held one more
    cycle with probability p_wait), lengths from `lengths` (default T). Returns (records of
    every cycle, launches as (cycle, first block, length, tag), acceptance cycles)."""
    L, T = feed.lanes, feed.bfp.T
    tiles = len(blocks) // L
    lengths = [T] * tiles if lengths is None else lengths
    packed = [pack(b, feed.fmt.width) for b in blocks]
    cycles = []
    launches, accepted = [], []

    async def bench(ctx):
        cycle, prev, nxt = 0, None, 0  # prev: (launch cycle, length) of the last launch
        while len(launches) < tiles or cycle < launches[-1][0] + L + T + 3:
            full = ctx.get(feed.full)
            gap_ok = prev is None or cycle - prev[0] >= max(prev[1], L)
            go = full and gap_ok and len(launches) < tiles and rng.random() >= p_wait
            n = lengths[len(launches)] if go else T
            tag = int(rng.integers(0, 2)) if feed.tag_bits else 0
            ctx.set(feed.launch, int(go))
            ctx.set(feed.length, n)
            if feed.tag_bits:
                ctx.set(feed.tags, tag)
            valid = nxt < len(blocks) and rng.random() < p_valid
            ctx.set(feed.blocks.valid, int(valid))
            ctx.set(feed.blocks.payload.as_value(), packed[min(nxt, len(blocks) - 1)])
            if valid and ctx.get(feed.blocks.ready):
                accepted.append(cycle)
                nxt += 1
            if go:
                launches.append((cycle, len(launches) * L, n, tag))
                prev = (cycle, n)
            side = len(feed.side_special)
            cycles.append(
                {
                    "full": full,
                    "elem": [ctx.get(feed.elem[lane]) for lane in range(L)],
                    "last": ctx.get(feed.last),
                    "exp": [ctx.get(feed.side_exp[i]) for i in range(side)],
                    "special": [ctx.get(feed.side_special[i]) for i in range(side)],
                    "tags": [ctx.get(feed.side_tags[i]) for i in range(side)]
                    if feed.tag_bits
                    else None,
                }
            )
            cycle += 1
            assert cycle < 40 * len(blocks) + 100, "the feed stopped launching"
            await ctx.tick()

    sim = Simulator(feed)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(accepted) == len(blocks) and len(launches) == tiles
    return cycles, launches, accepted


def check_feed(feed: OperandFeed, blocks, cycles, launches, ref):
    """Every emitted element, `last` and side value against golden (`ref`: to_bfp of the
    blocks in acceptance order); idle elements zero when `zero_idle`."""
    L = feed.lanes
    emitting = {}  # (cycle, lane) -> (block, element, is last)
    for S, first, n, _ in launches:
        for lane in range(L):
            for e in range(n):
                emitting[S + lane + 1 + e, lane] = (first + lane, e, e == n - 1)
    for c, rec in enumerate(cycles):
        for lane in range(L):
            job = emitting.get((c, lane))
            last = (rec["last"] >> lane) & 1
            assert last == (job is not None and job[2]), f"cycle {c} lane {lane}: last={last}"
            if job is None:
                if feed.zero_idle:
                    assert rec["elem"][lane] == 0, f"cycle {c} lane {lane}: idle element"
                continue
            j, e, _ = job
            if not ref.special[j, 0]:
                want = int(ref.man[j, 0, e])
                assert rec["elem"][lane] == want, (
                    f"cycle {c} lane {lane}: block {j} element {e}: {rec['elem'][lane]} != {want}"
                )
    for i, (S, first, n, tag) in enumerate(launches):
        for lane in range(L):
            j, c0 = first + lane, S + lane + n + 1
            if feed.serial_side:  # lane l's side in cycle S+l+n+1 only
                span, slot = [c0], 0
            else:  # from S+l+n+1 until the next launch's side arrives
                end = len(cycles)
                if i + 1 < len(launches):
                    end = launches[i + 1][0] + lane + launches[i + 1][2] + 1
                span, slot = range(c0, end), lane
            for c in span:
                rec = cycles[c]
                got = (rec["exp"][slot], rec["special"][slot])
                want = (int(ref.exp[j, 0]), int(ref.special[j, 0]))
                assert got == want, f"cycle {c} lane {lane}: block {j} side {got} != {want}"
                if feed.tag_bits:
                    assert rec["tags"][slot] == tag, f"cycle {c} lane {lane}: tag"


def golden_blocks(feed: OperandFeed, blocks):
    """golden.to_bfp of the blocks in acceptance order (sr: block j takes generator step j)."""
    fmt, bfp = feed.fmt, feed.bfp
    u = None
    if feed.mode == "sr":
        u = bfp_random_bits((len(blocks),), bfp.T, feed.sr_seed, feed.sr_bits, feed.lane_offset)
        u = u[:, None, :]
    return G.to_bfp(blocks, fmt, bfp, mode=feed.mode, u=u, sr_bits=feed.sr_bits, seed=feed.sr_seed)


def feed_case(spec, lanes, side, cuts, mode, *, tiles, p_valid, p_wait, seed):
    fmt, bfp = (F(x) for x in spec.split(">"))
    sides = {
        "a": dict(tag_bits=1, zero_idle=False, serial_side=True),
        "b": dict(lane_offset=bfp.T),
    }
    pipe = {} if cuts is None else dict(pipelined=True, cuts=cuts)
    feed = OperandFeed(fmt, bfp, lanes, mode, sr_bits=6, sr_seed=0x1234, **sides[side], **pipe)
    rng = rng_for("feed", spec, lanes, side, sorted(cuts or ()), mode, seed)
    blocks = bfp_blocks(fmt, bfp, 4 * tiles * lanes, rng)
    blocks = blocks[rng.permutation(len(blocks))[: tiles * lanes]]
    # The serial side register needs lengths >= min(T, lanes), as the array's lengths are
    # (GemmTiming.shape), or lanes' last elements of consecutive launches could meet.
    shortest = min(bfp.T, lanes) if side == "a" else 1
    lengths = [int(n) for n in rng.integers(shortest, bfp.T + 1, tiles)]
    cycles, launches, accepted = play_feed(
        feed, blocks, rng, p_valid=p_valid, p_wait=p_wait, lengths=lengths
    )
    check_feed(feed, blocks, cycles, launches, golden_blocks(feed, blocks))
    return feed, cycles, launches


FEED_CASES = [  # spec, lanes, side, cuts (None: the combinational converter), mode
    ("fp32>BFP8/8", 2, "b", FEED_CUTS, "rne"),  # k = 4 > lanes - 1: `full` waits
    ("fp32>BFP8/8", 4, "a", FEED_CUTS, "rne"),
    ("fp32>BFP8/8", 5, "b", FEED_CUTS, "rne"),  # k = lanes - 1: hidden by the skew
    ("fp32>BFP8/8", 3, "a", None, "rne"),  # the testbench on the unpipelined feed
    ("E5M2>BFP6/4", 3, "b", TOBFP_CUTS, "sr"),  # k = 6, sr in acceptance order
    ("E4M3>BFP5/3", 1, "a", ("tree", "round"), "sr"),
    ("bf16>BFP4/2", 2, "b", ("align",), "rna"),  # k = 1 = lanes - 1
]


@pytest.mark.parametrize("spec,lanes,side,cuts,mode", FEED_CASES)
def test_feed_matches_golden(spec, lanes, side, cuts, mode):
    feed_case(spec, lanes, side, cuts, mode, tiles=6, p_valid=0.8, p_wait=0.3, seed=0)


@pytest.mark.parametrize("lanes", [1, 2, 3, 5])
@pytest.mark.parametrize("k", [0, 1, 2, 4, 6])
def test_feed_full_timing(lanes, k):
    """Always-valid stream, launch as soon as allowed: `full` first rises at max(lanes, k+1)
    and launches follow every max(n, lanes, k+1) cycles, one more when pipelined (k > 0: no
    block is taken in a launch cycle), with the right elements."""
    cuts = TOBFP_PLAN[:k] if k else None
    feed, cycles, launches = feed_case(
        "E5M2>BFP6/2", lanes, "b", cuts, "rne", tiles=4, p_valid=1.0, p_wait=0.0, seed=1
    )
    first = next(c for c, rec in enumerate(cycles) if rec["full"])
    assert first == max(lanes, k + 1) == launches[0][0]
    starts = [S for S, *_ in launches]
    for S, nxt, (_, _, n, _) in zip(starts, starts[1:], launches):
        loading = max(lanes, k + 1) + (1 if k else 0)
        assert nxt - S == max(n, loading), (starts, [x[2] for x in launches])


@pytest.mark.slow
@pytest.mark.parametrize("lanes,side", [(2, "a"), (4, "b"), (8, "a"), (16, "b")])
@pytest.mark.parametrize("mode", ["rne", "sr"])
def test_feed_matches_golden_long(lanes, side, mode):
    """Many K-tiles of the array's blocks through the pipelined feed, stream gaps and late
    launches."""
    feed_case(
        "fp32>BFP8/8", lanes, side, FEED_CUTS, mode, tiles=40, p_valid=0.9, p_wait=0.2, seed=2
    )


# --------------------------------------------------------------------------- in the array
class PipelinedFeedTiming(GemmTiming):
    """The cycle model with both feeds pipelined by k cycles (and nothing else pipelined):
    max(R, C) becomes max(R, C, k+1) in the first launch and max(R, C, k+1) + 1 in the
    period and a final K-tile's slot (a pipelined feed takes no block in a launch cycle);
    lengths and the drain stay. hdl/gemm_timing.py's `pipelined` model is this plus the
    column's minimum slot."""

    def __init__(self, rows, cols, T, out_depth, k):
        super().__init__(rows, cols, T, out_depth)
        object.__setattr__(self, "k", k)

    @property
    def loading(self) -> int:
        return max(self.rows, self.cols, self.k + 1) + 1

    @property
    def period(self) -> int:
        return max(self.T, self.loading)

    @property
    def first_launch(self) -> int:
        return max(self.rows, self.cols, self.k + 1)

    def shape(self, k_tail: int = 0) -> tuple[int, int]:
        length, slot = super().shape(k_tail)
        return length, max(slot, self.loading)


def _forced_feed(cuts):
    """OperandFeed pipelined with `cuts` whatever the (unpipelined) array asks for."""
    return lambda *args, **kwargs: OperandFeed(*args, **{**kwargs, "pipelined": True, "cuts": cuts})


ARRAY_CASES = [  # spec, R, C, shapes, out_depth, cuts
    ("BFP4/4:in=E5M2,out=E5M2", 2, 2, [(4, 12, 4)], None, FEED_CUTS),  # k+1 > T: period 5
    ("BFP4/8:in=E5M2,out=E5M2", 2, 3, [(4, 13, 5), (2, 9, 3)], None, FEED_CUTS),  # tails
    ("BFP4/6:in=E5M2,out=E5M2", 3, 2, [(5, 14, 4), (3, 4, 2)], 3, TOBFP_CUTS),  # credits
    ("BFP4/2:in=E5M2,out=E5M2", 4, 3, [(8, 6, 6)], None, ("tree", "align")),  # k=2: hidden in A
    ("BFP8/8:round=sr,bits=6,seed=7", 2, 2, [(3, 17, 3)], None, FEED_CUTS),  # fp32, sr
    ("BFP8/8", 5, 5, [(5, 16, 5)], None, FEED_CUTS),  # k = lanes - 1: the model unchanged
]


@pytest.mark.parametrize("spec,R,C,shapes,depth,cuts", ARRAY_CASES)
def test_array_with_pipelined_feeds(monkeypatch, spec, R, C, shapes, depth, cuts):
    """BfpGemmArray with both feeds pipelined (the coordinator's wiring, patched in here):
    golden.bfp_gemm bit for bit, and every `c` beat in the cycle PipelinedFeedTiming gives."""
    import test_hdl_gemm as tg

    from lpmac.config import GemmConfig
    from lpmac.hdl import gemm as gemm_module
    from lpmac.sim.gemm_bench import operands

    monkeypatch.setattr(gemm_module, "OperandFeed", _forced_feed(cuts))
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(zlib.crc32(spec.encode()))
    jobs = [operands(rng, (M, K), (K, N), cfg) for M, K, N in shapes]
    dut = gemm_module.BfpGemmArray(R, C, cfg, out_depth=depth)
    got, hs = tg.run_amaranth(dut, jobs)
    for out, (a, b) in zip(got, jobs):
        tg.assert_bits_equal(out, G.bfp_gemm(a, b, cfg, array=(R, C)), cfg)
    timing = PipelinedFeedTiming(R, C, cfg.T, dut.out_depth, len(cuts))
    counts, tails = tg.k_tile_plan(shapes, R, C, cfg.T)
    assert hs.first_in == 0 and hs.c_cycles == tg.c_beat_cycles(timing, counts, tails)


@pytest.mark.slow
@pytest.mark.parametrize("spec,R,C", [("BFP8/8:round=sr,bits=8,seed=3", 3, 2), ("BFP8/8", 4, 4)])
def test_array_with_pipelined_feeds_gaps(monkeypatch, spec, R, C):
    """Larger products with stream gaps and a slow consumer: golden.bfp_gemm bit for bit."""
    import test_hdl_gemm as tg

    from lpmac.config import GemmConfig
    from lpmac.hdl import gemm as gemm_module
    from lpmac.sim.gemm_bench import operands, with_specials

    monkeypatch.setattr(gemm_module, "OperandFeed", _forced_feed(None))
    cfg = GemmConfig.parse(spec)
    rng = np.random.default_rng(zlib.crc32(f"gaps {spec}".encode()))
    a, b = with_specials(rng, *operands(rng, (9, 45), (45, 7), cfg), cfg.in_fmt)
    (got,), _ = tg.run_amaranth(gemm_module.BfpGemmArray(R, C, cfg), [(a, b)], 0.7, 0.6, 0.5)
    expected = G.bfp_gemm(a, b, cfg, array=(R, C))
    assert tg.finite_fraction(expected, cfg) >= 0.25  # not a degenerate test
    tg.assert_bits_equal(got, expected, cfg)


def test_feed_bad_arguments():
    fmt, bfp = F("fp32"), F("BFP8/8")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UnusedElaboratable)
        with pytest.raises(ValueError, match="need pipelined=True"):
            OperandFeed(fmt, bfp, 2, cuts=("align",))
        with pytest.raises(ValueError, match="cuts must be among"):
            OperandFeed(fmt, bfp, 2, pipelined=True, cuts=("align", "bogus"))
        gc.collect()
    feed = OperandFeed(fmt, bfp, 3, pipelined=True)
    assert (feed.cuts, feed.conv_latency, feed.full_delay) == (
        ("unpack", "tree", "align", "shift"),
        4,
        2,
    )
    Simulator(feed)  # elaborates
