"""Wrappers that let the lane-parallel harness run units it cannot drive as they are.

* `SideBySide`: several units with the same inputs behind one set of shared input ports,
  each unit's outputs renamed with its tag (`p` of tag `1` -> `p1`). One Verilator build
  (10-30 s) then checks several configurations, e.g. the six CFG multipliers of one format.
* `Elements`: a unit whose block ports are wider than the harness's 64-bit limit (a BFP
  block of T values) with each such port split into T element ports (`x` -> `x0`..`x{T-1}`).

Both only wire ports: the units inside are the real generated components."""

from __future__ import annotations

from amaranth.hdl import Cat, Module
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["SideBySide", "Elements"]


def _ports(unit: wiring.Component, flow) -> dict:
    return {
        name: member.shape for name, member in unit.signature.members.items() if member.flow == flow
    }


class SideBySide(wiring.Component):
    """`units` ({tag: component}) sharing every input; output `o` of unit `tag` is `o{tag}`."""

    def __init__(self, units: dict[str, wiring.Component]):
        if not units:
            raise ValueError("SideBySide needs at least one unit")
        self.units = dict(units)
        inputs = _ports(next(iter(self.units.values())), In)
        for tag, unit in self.units.items():
            if _ports(unit, In) != inputs:
                raise ValueError(
                    f"unit {tag!r} has inputs {_ports(unit, In)}, the first one {inputs}: "
                    "side-by-side units must share their inputs"
                )
        outputs = {
            f"{name}{tag}": Out(shape)
            for tag, unit in self.units.items()
            for name, shape in _ports(unit, Out).items()
        }
        super().__init__({**{name: In(shape) for name, shape in inputs.items()}, **outputs})

    def elaborate(self, platform):
        m = Module()
        for tag, unit in self.units.items():
            m.submodules[f"u{tag}"] = unit
            m.d.comb += [getattr(unit, name).eq(getattr(self, name)) for name in _ports(unit, In)]
            m.d.comb += [
                getattr(self, f"{name}{tag}").eq(getattr(unit, name)) for name in _ports(unit, Out)
            ]
        return m


class Elements(wiring.Component):
    """`unit` with each port named in `split` cut into `count` equal element ports
    (element t = bits [t*w, (t+1)*w) of the block port, w = width / count); other ports
    are passed through unchanged."""

    def __init__(self, unit: wiring.Component, split: set[str], count: int):
        self.unit, self.split, self.count = unit, set(split), count
        ports = {}
        for name, member in unit.signature.members.items():
            flow = In if member.flow == In else Out
            if name not in self.split:
                ports[name] = flow(member.shape)
                continue
            width = len(getattr(unit, name))
            if width % count:
                raise ValueError(
                    f"port {name!r} ({width} bits) does not split into {count} elements"
                )
            ports.update({f"{name}{t}": flow(width // count) for t in range(count)})
        super().__init__(ports)

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = unit = self.unit
        for name, member in unit.signature.members.items():
            inner = getattr(unit, name)
            if name not in self.split:
                outer = getattr(self, name)
                m.d.comb += inner.eq(outer) if member.flow == In else outer.eq(inner)
                continue
            parts = [getattr(self, f"{name}{t}") for t in range(self.count)]
            if member.flow == In:
                m.d.comb += inner.eq(Cat(*parts))
            else:
                w = len(inner) // self.count
                m.d.comb += [part.eq(inner[t * w : (t + 1) * w]) for t, part in enumerate(parts)]
        return m
