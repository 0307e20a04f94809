"""synth/hierarchy.py: splitting a design into black-boxed blocks and glue, and summing the
blocks' synthesis results, checked against flat synthesis of the same design."""

from __future__ import annotations

import gc
import warnings

import pytest
from amaranth import Module, Signal
from amaranth.hdl import Fragment, UnusedElaboratable
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

from lpmac.config import MacConfig
from lpmac.hdl.system import MacSystem
from lpmac.synth.flow import synthesize
from lpmac.synth.hierarchy import HierarchyError, _convert, hierarchical_synthesize, split


class Adder(wiring.Component):
    def __init__(self, width: int):
        self.width = width
        super().__init__({"a": In(width), "b": In(width), "s": Out(width + 1)})

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.s.eq(self.a + self.b)
        return m


class HiddenAdder(Adder):
    """An adder whose behaviour depends on a private attribute the block key cannot see."""

    def __init__(self, width: int, offset: int):
        super().__init__(width)
        self._offset = offset

    def elaborate(self, platform):
        m = Module()
        m.d.comb += self.s.eq(self.a + self.b + self._offset)
        return m


class Top(wiring.Component):
    """Three adders (two 8-bit, one 6-bit) between registers, each on its own rotation of the
    inputs, so flat synthesis has nothing to share or fold across the adders' boundaries."""

    def __init__(self, adder=lambda w, n: Adder(w)):
        self.adder = adder
        super().__init__({"x": In(8), "y": In(8), "z": Out(9)})

    def elaborate(self, platform):
        m = Module()
        sums = []
        for n, width in enumerate((8, 8, 6)):
            m.submodules[f"add{n}"] = add = self.adder(width, n)
            q = Signal(width + 1, name=f"q{n}")
            xq, yq = Signal(width, name=f"xq{n}"), Signal(width, name=f"yq{n}")
            m.d.sync += [xq.eq(self.x.rotate_left(n)), yq.eq(self.y.rotate_right(n))]
            m.d.comb += [add.a.eq(xq), add.b.eq(yq)]
            m.d.sync += q.eq(add.s)
            sums.append(q)
        m.d.comb += self.z.eq(sums[0] ^ sums[1] ^ sums[2])
        return m


@pytest.fixture(autouse=True)
def _private_cache(tmp_path, monkeypatch):  # keep work dirs out of the user's ~/.cache/lpmac
    monkeypatch.setenv("LPMAC_CACHE_DIR", str(tmp_path / "cache"))


def test_split_shares_equal_blocks_and_leaves_stubs():
    glue, blocks = split(Top(), "top", classes=(Adder,), verify=True)
    counts = sorted((b.count, b.description) for b in blocks.values())
    assert counts == [(1, "Adder(width=6)"), (2, "Adder(width=8)")]
    assert glue.count("(* blackbox *)") == 2
    for b in blocks.values():
        assert glue.count(f"\n  {b.module} ") == b.count  # instantiations in the glue
        assert "assign" not in b.stub()


class OwnedAdders(wiring.Component):
    """Three equal adders made in the constructor, as MacArray makes its PEs: they live as
    long as the design, after split() has returned."""

    def __init__(self):
        self.adders = [Adder(8) for _ in range(3)]
        super().__init__({"x": In(8), "z": Out(9)})

    def elaborate(self, platform):
        m = Module()
        for n, add in enumerate(self.adders):
            m.submodules[f"add{n}"] = add
            m.d.comb += [add.a.eq(self.x), add.b.eq(n)]
        m.d.comb += self.z.eq(self.adders[0].s ^ self.adders[1].s ^ self.adders[2].s)
        return m


def test_repeated_blocks_leave_no_unused_elaboratable():
    """A repeated block is black-boxed, not converted; split() still uses it (by public
    means), so freeing the design later says nothing about elaboratables never used."""
    gc.collect()  # garbage of earlier tests is not this design's
    gc.disable()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", UnusedElaboratable)
            Fragment.get(Adder(1), None)  # Amaranth reports unused ones once one is elaborated
            design = OwnedAdders()
            _, blocks = split(design, "top", classes=(Adder,))
            del design
            gc.collect()
    finally:
        gc.enable()
    assert [(b.count, b.description) for b in blocks.values()] == [(3, "Adder(width=8)")]
    assert [str(w.message) for w in caught if w.category is UnusedElaboratable] == []


@pytest.mark.filterwarnings("ignore::amaranth.hdl.UnusedElaboratable")
def test_verify_refuses_blocks_that_differ_in_a_hidden_parameter():
    with pytest.raises(HierarchyError, match="missing from block_key"):
        split(Top(lambda w, n: HiddenAdder(w, n)), "top", classes=(HiddenAdder,), verify=True)
    gc.collect()  # the refused design's last adder was never elaborated: freed under the filter


def test_totals_are_glue_plus_blocks_and_equal_flat():
    hier = hierarchical_synthesize(Top(), "top", classes=(Adder,), jobs=1)
    flat = hierarchical_synthesize(Top(), "top", flat=True)
    adder8 = synthesize(_convert(Adder(8), "a8"), "a8")
    adder6 = synthesize(_convert(Adder(6), "a6"), "a6")
    assert adder8.luts > 0 and adder6.luts > 0
    glue = hier["glue"]
    assert hier["luts"] == glue["luts"] + 2 * adder8.luts + adder6.luts
    assert hier["carry"] == glue["carry"] + 2 * adder8.carry + adder6.carry
    # the blocks have no registers; the rotated input registers merge into one per x, y bit
    assert hier["ffs"] == glue["ffs"] == 8 + 8 + 9 + 9 + 7
    assert not any(c.startswith("blk_") for c in hier["cells"])
    for field in ("luts", "carry", "ffs", "dsps"):
        assert hier[field] == flat[field], field


def test_system_split_counts():
    cfg = MacConfig.parse("E5M2:cfg5+Q8.13")
    _, blocks = split(MacSystem(2, 3, cfg), "sys", verify=True)
    counts = {b.description.split("(")[0]: b.count for b in blocks.values()}
    # 2 row + 3 column input converters share one black box; 3 output converters, 3 FIFOs
    assert counts == {"Mac": 6, "FloatToFloat": 5, "FixedToFloat": 3, "SyncFIFOBuffered": 3}


# The aim (3 %) is missed on this one since FpAdd's capped normaliser (qor.md change 8):
# 1,436 hierarchical against 1,387 flat LUTs (+3.5 %, docs/results/hierarchy.md). Strict:
# the test fails as soon as the two flows agree within 3 % again.
_MISSED = pytest.mark.xfail(
    strict=True, reason="hierarchical +3.5 % on the 2x2 E5M2:cfg5+E6M5 system (hierarchy.md)"
)


@pytest.mark.slow
@pytest.mark.parametrize("spec", [pytest.param("E5M2:cfg5+E6M5", marks=_MISSED), "E5M2:cfg5+Q8.13"])
def test_system_hierarchical_within_3_percent_of_flat(spec):
    cfg = MacConfig.parse(spec)
    hier = hierarchical_synthesize(MacSystem(2, 2, cfg), "sys", jobs=1)
    flat = hierarchical_synthesize(MacSystem(2, 2, cfg), "sys", flat=True)
    assert abs(hier["luts"] - flat["luts"]) <= 0.03 * flat["luts"]
    assert abs(hier["ffs"] - flat["ffs"]) <= 0.03 * flat["ffs"]
    assert hier["dsps"] == flat["dsps"]
