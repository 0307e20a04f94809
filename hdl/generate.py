"""Verilog generation: configuration -> Amaranth component -> deterministic Verilog + JSON sidecar.

Module names are derived from the parameters (as FloPoCo and HardFloat name operators), e.g.
`mul_E5M2_cfg5`, `mac_E5M2_cfg5__E6M5`, `cvt_fp32_to_E5M2_rne`, unless the user gives one.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from dataclasses import dataclass, field

from amaranth.back import verilog
from amaranth.hdl import Shape
from amaranth.lib import wiring

from lpmac import __version__, units
from lpmac.config import AccConfig, GemmConfig, MacConfig, MulConfig
from lpmac.formats import BfpFormat, FixedFormat, FloatFormat


@dataclass
class Unit:
    """A unit ready to be converted: the component, its default module name and a description."""

    kind: str
    component: wiring.Component
    name: str
    config: str
    latency: int = 0
    extra: dict = field(default_factory=dict)
    clocked: bool = False  # clk/rst ports even at latency 0 (the registry's `clocked`, sr)


def module_name(text: str) -> str:
    """A Verilog identifier from a configuration string."""
    name = text.replace("+", "__").replace("/", "_").replace(".", "p").replace("-", "_")
    name = re.sub(r"[^A-Za-z0-9_]", "_", name)
    return name if re.match(r"[A-Za-z_]", name) else f"u_{name}"


def _suffix(latency: int, use_dsp: bool = True) -> str:
    return (f"_l{latency}" if latency else "") + ("" if use_dsp else "_nodsp")


def mul_unit(
    cfg: MulConfig, latency: int = 0, use_dsp: bool = True, ecp5_dsp: bool = False
) -> Unit:
    """`ecp5_dsp`: the significands in an instantiated MULT18X18D's input registers (ECP5
    only; the cocotb benches simulate it with lpmac's model, sim/models/mult18x18d.v)."""
    from .fpmul import FpMul

    return Unit(
        "mul",
        FpMul(cfg, latency, use_dsp, ecp5_dsp=ecp5_dsp),
        module_name(f"mul_{cfg}") + _suffix(latency, use_dsp) + ("_ecp5dsp" if ecp5_dsp else ""),
        str(cfg),
        latency,
        {"in_format": str(cfg.in_format), "out_format": str(cfg.out_format)}
        | ({"ecp5_dsp": True} if ecp5_dsp else {}),
    )


def fixmul_unit(
    fmt: FixedFormat, rounding: str = "rne", latency: int = 0, use_dsp: bool = True
) -> Unit:
    from .fpmul import FixedMul

    return Unit(
        "fixmul",
        FixedMul(fmt, rounding, latency, use_dsp),
        module_name(f"fixmul_{fmt}_{rounding}") + _suffix(latency, use_dsp),
        f"{fmt}:{rounding}",
        latency,
    )


def acc_unit(
    cfg: AccConfig, x_fmt: FloatFormat | None = None, latency: int | None = None, use_dsp=True
) -> Unit:
    """`latency` None: 1 (a long accumulator: the latency its width needs)."""
    from .accum import FixedAcc, FpAcc

    lat = 1 if latency is None else latency
    suffix = _suffix(0 if lat == 1 else lat, use_dsp or cfg.is_fixed)
    if cfg.is_fixed:
        name = module_name(f"acc_{cfg.fmt}") + suffix
        return Unit("acc", FixedAcc(cfg.fmt, lat), name, str(cfg), lat)
    x_fmt = cfg.fmt if x_fmt is None else x_fmt
    name = f"acc_{cfg}" + ("" if x_fmt == cfg.fmt else f"_x{x_fmt}")
    extra = {"x_format": str(x_fmt)}
    if cfg.is_long:
        from .accum_long import LongAcc

        unit = LongAcc(cfg, x_fmt)
        return Unit("acc", unit, module_name(name), str(cfg), unit.latency, extra)
    unit = FpAcc(cfg, x_fmt, lat, use_dsp)
    return Unit("acc", unit, module_name(name) + suffix, str(cfg), lat, extra)


def mac_unit(cfg: MacConfig, latency: int = 1, use_dsp: bool = True) -> Unit:
    from .accum import Mac

    unit = Mac(cfg, latency, use_dsp)
    return Unit("mac", unit, mac_unit_name(cfg, latency, use_dsp), str(cfg), unit.depth)


def mac_unit_name(cfg: MacConfig, latency: int = 1, use_dsp: bool = True) -> str:
    """mac_unit's module name (known before the unit is built)."""
    return module_name(f"mac_{cfg}") + _suffix(0 if latency == 1 else latency, use_dsp)


def convert_unit(
    src,
    dst,
    mode: str = "rne",
    *,
    saturate: bool = False,
    sub_out: str = "ieee",
    latency: int = 0,
    sr_bits: int = 8,
    sr_seed: int = 1,
) -> Unit:
    from . import convert as c

    tag = (
        f"cvt_{src}_to_{dst}_{mode}"
        + ("_sat" if saturate else "")
        + ("_flush" if sub_out == "flush" else "")
    )
    if isinstance(src, FloatFormat) and isinstance(dst, FloatFormat):
        comp = c.FloatToFloat(
            src, dst, mode, sub_out, saturate, sr_bits=sr_bits, sr_seed=sr_seed, latency=latency
        )
    elif isinstance(src, FloatFormat) and isinstance(dst, FixedFormat):
        comp = c.FloatToFixed(src, dst, mode, latency=latency)
    elif isinstance(src, FixedFormat) and isinstance(dst, FloatFormat):
        comp = c.FixedToFloat(src, dst, mode, sub_out, latency=latency)
    else:
        raise ValueError(
            f"no converter from {src} to {dst}: use float->float, float->fixed or fixed->float "
            "(tobfp/frombfp for block floating point)"
        )
    config = f"{src}->{dst}:{mode}"
    name = module_name(tag) + _suffix(latency)
    return Unit("convert", comp, name, config, latency, clocked=mode == "sr")


def tobfp_unit(
    fmt: FloatFormat,
    bfp: BfpFormat,
    mode: str = "rne",
    *,
    latency: int = 0,
    sr_bits: int = 8,
    sr_seed: int = 1,
) -> Unit:
    from .convert import FloatToBfp

    return Unit(
        "tobfp",
        FloatToBfp(fmt, bfp, mode, sr_bits=sr_bits, sr_seed=sr_seed, latency=latency),
        module_name(f"tobfp_{fmt}_{bfp}_{mode}") + _suffix(latency),
        f"{fmt}->{bfp}:{mode}",
        latency,
        clocked=mode == "sr",
    )


def frombfp_unit(bfp: BfpFormat, dst: FloatFormat, *, latency: int = 0) -> Unit:
    from .convert import BfpToFloat

    return Unit(
        "frombfp",
        BfpToFloat(bfp, dst, latency=latency),
        module_name(f"frombfp_{bfp}_{dst}") + _suffix(latency),
        f"{bfp}->{dst}",
        latency,
    )


def gemm_unit(
    rows: int,
    cols: int,
    cfg: GemmConfig,
    pipelined: bool = False,
    ecp5_dsp: bool = False,
    xcup_dsp: bool = False,
) -> Unit:
    from .gemm import BfpGemmArray

    comp = BfpGemmArray(rows, cols, cfg, pipelined=pipelined, ecp5_dsp=ecp5_dsp, xcup_dsp=xcup_dsp)
    name = module_name(f"gemm_{rows}x{cols}_{cfg}") + ("_pipe" if pipelined else "")
    name += "_ecp5dsp" if ecp5_dsp else ""
    name += "_xcupdsp" if xcup_dsp else ""
    return Unit("gemm", comp, name, f"{rows}x{cols}:{cfg}", 1)


def array_unit(rows: int, cols: int, cfg: MacConfig, use_dsp: bool = True) -> Unit:
    from .mac_array import MacArray

    array = MacArray(rows, cols, cfg, use_dsp)
    name = module_name(f"array_{rows}x{cols}_{cfg}") + _suffix(0, use_dsp)
    # latency: the PEs' MAC depth (1, or a long accumulator's pipeline)
    return Unit("array", array, name, f"{rows}x{cols}:{cfg}", array.depth)


def build(kind: str, **kwargs) -> Unit:
    """The unit `kind` (its registry builder, lpmac.units) for the resolved keyword arguments."""
    spec = units.get(kind)
    unit = units.load(spec.builder)(**kwargs)
    unit.clocked = unit.clocked or spec.clocked
    return unit


# A wire Amaranth adds for an array element of a shaped signal, `wire [31:0] \a__payload[0] ;`,
# and its one `assign`.
_ELEMENT_WIRE = re.compile(r"  wire (?:signed )?(?:\[\d+:\d+\] )?(\\\S+\[\d+\]) ;")
_ELEMENT_ASSIGN = re.compile(r"  assign (\\\S+\[\d+\])  = [^;]*;")


def strip_element_wires(text: str) -> str:
    """Drop the unread element wires (`\\x[3]`) Amaranth emits beside an array-shaped `x`.

    Yosys' ABC9 flow turns a multi-bit wire `x` into bits named `x[i]` when it reads its
    mapped netlist back, and a wire already called `x[0]` makes it fail with
    "Assert `count_id(wire->name) == 0'" (YosysHQ/yosys#4349; still in Yosys 0.70: the 16x4
    HBFP array did not synthesize). Other fields (`\\x.sign`) stay for waveform viewers."""
    # One module at a time: the names are local to a module.
    parts = re.split(r"(?<=\nendmodule\n)", text)
    return "".join(_strip_module_element_wires(part) for part in parts)


def _strip_module_element_wires(text: str) -> str:
    uses = Counter(re.findall(r"\\\S+", text))
    lines = text.split("\n")
    declared = {m.group(1) for line in lines if (m := _ELEMENT_WIRE.fullmatch(line))}
    assigned = Counter(m.group(1) for line in lines if (m := _ELEMENT_ASSIGN.fullmatch(line)))
    # Only copies: declared, assigned once, read nowhere.
    drop = {name for name in declared if assigned[name] == 1 and uses[name] == 2}
    keep = [
        line
        for line in lines
        if not (
            (m := _ELEMENT_WIRE.fullmatch(line) or _ELEMENT_ASSIGN.fullmatch(line))
            and m.group(1) in drop
        )
    ]
    return "\n".join(keep)


def to_verilog(unit: Unit, name: str | None = None) -> str:
    """Deterministic Verilog: the builtin Yosys, no source locations, no internal attributes,
    no array-element copies (`strip_element_wires`)."""
    os.environ["AMARANTH_USE_YOSYS"] = "builtin"
    text = verilog.convert(
        unit.component, name=name or unit.name, emit_src=False, strip_internal_attrs=True
    )
    return strip_element_wires(text)


def component_ports(component: wiring.Component, clocked: bool) -> list[dict]:
    """Ports of the top module converted from `component`, as Amaranth names them (signature
    path joined with '__'), after `clk` and `rst` when `clocked`."""
    ports = [{"name": name, "direction": "input", "width": 1} for name in ("clk", "rst") if clocked]
    for path, member, _ in component.signature.flatten(component):
        ports.append(
            {
                "name": "__".join(str(p) for p in path),
                "direction": "input" if member.flow == wiring.In else "output",
                "width": Shape.cast(member.shape).width,
            }
        )
    return ports


def port_list(unit: Unit) -> list[dict]:
    """Ports of the unit's top module (the sidecar's list, the harness's port check)."""
    return component_ports(unit.component, bool(unit.latency) or unit.clocked)


def sidecar(unit: Unit, name: str | None = None) -> dict:
    return {
        "module": name or unit.name,
        "unit": unit.kind,
        "config": unit.config,
        "latency": unit.latency,
        "ports": port_list(unit),
        "generator": f"lpmac {__version__}",
        **unit.extra,
    }


def write(unit: Unit, path: str, name: str | None = None) -> tuple[str, str]:
    """Write the Verilog and its JSON sidecar (same stem, .json); returns both paths."""
    text = to_verilog(unit, name)
    with open(path, "w") as f:
        f.write(text)
    json_path = os.path.splitext(path)[0] + ".json"
    with open(json_path, "w") as f:
        json.dump(sidecar(unit, name), f, indent=2)
        f.write("\n")
    return path, json_path
