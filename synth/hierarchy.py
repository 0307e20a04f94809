"""Hierarchical synthesis: each distinct block once, the glue with the blocks as black boxes.

Flat synthesis of a 16x4 MAC array takes 10-45 minutes here, and 64x64 does not finish. An
array is mostly copies of a few blocks (PEs, converters, column FIFOs), so:

1. The design is elaborated with every instance of a *block class* replaced by an Amaranth
   `Instance` of a black box `blk_<Class>_<hash>`; the hash covers the class, the signature
   and the plain parameters (ints, strings, configs) of the instance, so equal blocks share
   a black box. That netlist plus a `(* blackbox *)` stub per block is the *glue*.
2. Each distinct block is converted alone (its first instance, as top `blk_...`) and
   synthesized; the glue is synthesized with the stubs. Both go through the sweep's point
   cache (`cached_synthesize`), so a PE synthesized for a 2x2 array is reused at 64x64.
3. Totals = glue + sum over blocks of (instances x block). Cells of the glue named after a
   black box are the instances themselves and are dropped from the glue's count.

What is lost against flat synthesis: optimisation across block boundaries (a block output
nobody reads still costs its logic, a register next to a DSP is not absorbed into it, ...).
docs/results/hierarchy.md measures the difference. `flat=True` runs the exact flat flow.
`verify=True` converts every instance, not just the first, and checks that instances sharing
a black box give the same Verilog (the hash judged equal what is equal).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import time
from dataclasses import dataclass, field
from pathlib import Path

from amaranth.back import verilog
from amaranth.hdl import (
    ClockSignal,
    Elaboratable,
    Fragment,
    Instance,
    ResetSignal,
    Signal,
    Value,
)
from amaranth.lib import wiring

from .sweep import cached_synthesize, synthesize_many

__all__ = ["default_block_classes", "hierarchical_synthesize", "HierarchyError"]

_SUMMED = ("luts", "carry", "muxf", "ffs", "dsps", "brams")
_PORT_DECL = re.compile(r"^\s*(input|output|inout)\s+(?:signed\s+)?(\[\d+:\d+\]\s+)?(\S+)\s*;")


class HierarchyError(ValueError):
    """A design cannot be split as asked (e.g. two instances that share a black box differ)."""


def default_block_classes() -> tuple[type, ...]:
    """PEs, converters and column units of the MAC system and of the HBFP array."""
    from amaranth.lib.fifo import SyncFIFOBuffered

    from lpmac.hdl.accum import Mac
    from lpmac.hdl.convert import FixedToFloat, FloatToBfp, FloatToFixed, FloatToFloat
    from lpmac.hdl.gemm import ColumnAccumulator, OperandFeed, ProcessingElement

    return (
        Mac,
        FloatToFloat,
        FloatToFixed,
        FixedToFloat,
        FloatToBfp,
        SyncFIFOBuffered,
        ProcessingElement,
        ColumnAccumulator,
        OperandFeed,
    )


# --------------------------------------------------------------------------- block identity
def _plain(value) -> str | None:
    """repr of a parameter that decides what a block elaborates to; None for ports, other
    elaboratables and anything whose repr names an object rather than a value."""
    if isinstance(value, (Value, Elaboratable, wiring.Signature)) or hasattr(value, "as_value"):
        return None
    text = repr(value)
    return None if " at 0x" in text or "(sig " in text else text


def block_key(obj) -> str:
    parts = [f"{type(obj).__module__}.{type(obj).__qualname__}"]
    if isinstance(obj, wiring.Component):
        parts.append(repr(obj.signature))
    for name, value in sorted(vars(obj).items()):
        if not name.startswith("_") and (text := _plain(value)) is not None:
            parts.append(f"{name}={text}")
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()


def _ports(obj) -> dict[str, Value]:
    """Port name (as the block's own Verilog names it) -> the instance's signal."""
    if isinstance(obj, wiring.Component):
        return {
            "__".join(str(p) for p in path): Value.cast(value)
            for path, _, value in obj.signature.flatten(obj)
        }
    return {v.name: v for k, v in vars(obj).items() if isinstance(v, Signal)}


def _convert(elaboratable, name: str, ports=None) -> str:
    from lpmac.hdl.generate import strip_element_wires

    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    text = verilog.convert(
        elaboratable, name=name, ports=ports, emit_src=False, strip_internal_attrs=True
    )
    return strip_element_wires(text)


def _port_decls(text: str, module: str) -> list[tuple[str, str, str]]:
    """(direction, range, name) of the ports of `module` in Yosys-written Verilog."""
    start = text.index(f"module {module}(")
    body = text[start : text.index("endmodule", start)]
    return [
        (m[1], (m[2] or "").strip(), m[3]) for m in map(_PORT_DECL.match, body.splitlines()) if m
    ]


@dataclass
class _Block:
    module: str
    description: str
    verilog: str
    ports: list[tuple[str, str, str]]
    count: int = 0
    result: dict = field(default_factory=dict)

    def stub(self) -> str:
        # names as Yosys wrote them (`\\final` escaped): an escaped name ends at whitespace
        names = ", ".join(f"{name} " for _, _, name in self.ports)
        decls = "".join(f"  {d} {r + ' ' if r else ''}{n} ;\n" for d, r, n in self.ports)
        return f"(* blackbox *)\nmodule {self.module}({names});\n{decls}endmodule\n"


def _describe(obj) -> str:
    params = [f"{k}={v}" for k, v in vars(obj).items() if not k.startswith("_") and _plain(v)]
    text = f"{type(obj).__name__}({', '.join(params)})"
    return text if len(text) <= 120 else text[:117] + "..."


class _Splitter:
    """Replaces block instances by black-box Instances while the top is converted."""

    def __init__(self, classes: tuple[type, ...], verify: bool):
        self.classes, self.verify = classes, verify
        self.blocks: dict[str, _Block] = {}
        self.active = True

    def fragment(self, obj, platform) -> Instance:
        key = block_key(obj)
        block = self.blocks.get(key)
        if block is None or self.verify:
            module = f"blk_{type(obj).__name__}_{key[:12]}"
            ports = None if isinstance(obj, wiring.Component) else list(_ports(obj).values())
            self.active = False  # the block itself is converted whole
            try:
                text = _convert(obj, module, ports)
            finally:
                self.active = True
            if block is None:
                block = _Block(module, _describe(obj), text, _port_decls(text, module))
                self.blocks[key] = block
            elif text != block.verilog:
                raise HierarchyError(
                    f"two instances of {block.description} share black box {module} but "
                    "convert to different Verilog: a parameter is missing from block_key"
                )
        else:
            # A repeated instance is not converted, but Amaranth warns "created but never used"
            # about an elaboratable that is never elaborated, whenever it is freed (often with
            # the caller's design, so no warnings scope here can cover it). Elaborating it is
            # the public way to use it; the fragment is dropped.
            self.active = False
            try:
                Fragment.get(obj, platform)
            finally:
                self.active = True
        block.count += 1
        signals = _ports(obj)
        args = []
        for direction, _, escaped in block.ports:
            name = escaped.removeprefix("\\")
            if name == "clk":
                args.append(("i", "clk", ClockSignal()))
            elif name == "rst":
                args.append(("i", "rst", ResetSignal()))
            else:
                args.append(("i" if direction == "input" else "o", name, signals[name]))
        return Instance(block.module, *args)


@contextlib.contextmanager
def _blackboxing(splitter: _Splitter):
    original = Fragment.get

    def get(obj, platform):
        if splitter.active and isinstance(obj, splitter.classes):
            return splitter.fragment(obj, platform)
        return original(obj, platform)

    Fragment.get = staticmethod(get)
    try:
        yield
    finally:
        Fragment.get = staticmethod(original)


# --------------------------------------------------------------------------- synthesis
def _totals(parts: list[tuple[int, dict]]) -> dict:
    total = {k: 0 for k in _SUMMED}
    by_size: dict[str, int] = {}
    cells: dict[str, int] = {}
    for n, result in parts:
        for k in _SUMMED:
            total[k] += n * result[k]
        for size, c in result["luts_by_size"].items():
            by_size[size] = by_size.get(size, 0) + n * c
        for cell, c in result["cells"].items():
            cells[cell] = cells.get(cell, 0) + n * c
    total["luts_by_size"] = dict(sorted(by_size.items()))
    total["cells"] = dict(sorted(cells.items()))
    return total


def split(component, top: str, classes: tuple[type, ...] | None = None, verify: bool = False):
    """(glue Verilog with the stubs, {key: _Block}) for `component` as module `top`."""
    splitter = _Splitter(classes or default_block_classes(), verify)
    with _blackboxing(splitter):
        glue = _convert(component, top)
    stubs = "".join(b.stub() for b in splitter.blocks.values())
    return glue + stubs, splitter.blocks


def hierarchical_synthesize(
    component,
    top: str,
    *,
    flat: bool = False,
    classes: tuple[type, ...] | None = None,
    target: str = "xcup",
    use_dsp: bool = True,
    jobs: int = 2,
    scheduler: str | None = None,
    verify: bool = False,
    cache_dir: Path | None = None,
) -> dict:
    """Synthesis counts of `component` (an Amaranth design, not yet elaborated) as `top`.

    Returns the summed fields (`luts`, `luts_by_size`, `carry`, `muxf`, `ffs`, `dsps`,
    `brams`, `cells`), `flow` ("hierarchical" or "flat"), `seconds` (wall time including
    conversion; cached points count as read) and, hierarchical, `glue` and `blocks` (module,
    description, count and its own counts). The glue and the blocks not in the cache run on
    `jobs` local threads or on `scheduler` (Dask, as `lpmac.parallel.make_executor`)."""
    start = time.monotonic()
    options = dict(target=target, use_dsp=use_dsp, cache_dir=cache_dir)
    if flat:
        result = cached_synthesize(_convert(component, top), top, **options)
        out = {k: result[k] for k in (*_SUMMED, "luts_by_size", "cells")}
        out.update(flow="flat", synth_seconds=result["seconds"])
        out["seconds"] = round(time.monotonic() - start, 2)
        return out

    glue_verilog, blocks = split(component, top, classes, verify)
    designs = [(glue_verilog, top)] + [(b.verilog, b.module) for b in blocks.values()]
    results = synthesize_many(designs, jobs=max(1, jobs), scheduler=scheduler, **options)
    glue = dict(results[0])
    glue["cells"] = {
        c: n for c, n in glue["cells"].items() if not any(c == b.module for b in blocks.values())
    }
    for block, result in zip(blocks.values(), results[1:]):
        block.result = result
    out = _totals([(1, glue)] + [(b.count, b.result) for b in blocks.values()])
    out["flow"] = "hierarchical"
    out["glue"] = {k: glue[k] for k in (*_SUMMED, "seconds")}
    out["blocks"] = [
        {
            "module": b.module,
            "description": b.description,
            "count": b.count,
            **{k: b.result[k] for k in (*_SUMMED, "seconds")},
        }
        for b in blocks.values()
    ]
    out["synth_seconds"] = round(sum(r["seconds"] for r in results), 2)
    out["seconds"] = round(time.monotonic() - start, 2)
    return out
