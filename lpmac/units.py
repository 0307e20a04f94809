"""The built-in units, each declared once (`lpmac.registry.UnitSpec`).

A declaration names the unit's command-line options and configuration-string parser
(`lpmac.unit_options`), its hdl builder, its bench and golden function (by reference: the
core imports neither), its synthesis defaults and sweep axes. `lpmac generate|sim|synth`,
grid sweeps, `lpmac.hdl.generate.build` and `lpmac.sim.benches.run_bench` all read them.
Adding a unit: one `register(UnitSpec(...))` plus its golden and hdl files
(docs/architecture.md walks through it)."""

from __future__ import annotations

from . import unit_options as o
from .registry import UnitSpec, get, load, names, register, specs, unregister

# The registry's functions, for the layers above: `from lpmac import units; units.get("mul")`
# (importing this module is what declares the built-in units).
__all__ = ["parse_point", "UnitSpec", "get", "load", "names", "register", "specs", "unregister"]

_GEN = "lpmac.hdl.generate"
_BENCH = "lpmac.sim.benches"  # re-exports every bench (bench_elementwise, _blocks, ...)
_DSP = {"use_dsp": True}


def _mul_grid(fmts, cfgs) -> list[str]:
    return [f"{f}:cfg{c}" for f in fmts for c in (cfgs or [1])]


for _spec in [
    UnitSpec(
        "mul",
        "Floating-point multiplier a*b -> p (CFG-1..6 or free knobs).",
        o.mul_options,
        o.mul_resolve,
        o.point_mul,
        "E4M3:cfg1",
        f"{_GEN}:mul_unit",
        f"{_BENCH}:bench_mul",
        "lpmac.golden:fp_mul",
        synth_defaults=_DSP,
        grid=_mul_grid,
        cfg_axis=True,
    ),
    UnitSpec(
        "fixmul",
        "Fixed-point multiplier Qi.f x Qi.f -> Qi.f (rounded, saturated).",
        o.fixmul_options,
        o.fixmul_resolve,
        o.point_fixmul,
        "Q8.8",
        f"{_GEN}:fixmul_unit",
        f"{_BENCH}:bench_fixmul",
        "lpmac.golden:fixed_mul",
        synth_defaults=_DSP,
    ),
    UnitSpec(
        "acc",
        "Accumulator acc <- acc + x (float rne/rz/sr, or fixed saturating).",
        o.acc_options,
        o.acc_resolve,
        o.point_acc,
        "E6M5 or E7M7@E7M7-inf",
        f"{_GEN}:acc_unit",
        f"{_BENCH}:bench_acc",
        "lpmac.golden:accumulate",
        synth_defaults=_DSP,
        clocked=True,
    ),
    UnitSpec(
        "mac",
        "MAC unit: multiplier, float->fixed converter if needed, accumulator.",
        o.mac_options,
        o.mac_resolve,
        o.point_mac,
        "E5M2:cfg5+E6M5",
        f"{_GEN}:mac_unit",
        f"{_BENCH}:bench_mac",
        "lpmac.golden:mac",
        synth_defaults=_DSP,
        clocked=True,
    ),
    UnitSpec(
        "convert",
        "Converter float->float, float->fixed or fixed->float.",
        o.convert_options,
        o.convert_resolve,
        o.point_convert,
        "E6M3->Q8.13",
        f"{_GEN}:convert_unit",
        f"{_BENCH}:bench_convert",
        "lpmac.golden:convert",
    ),
    UnitSpec(
        "tobfp",
        "Float -> BFP block converter (T values per cycle).",
        o.tobfp_options,
        o.tobfp_resolve,
        o.point_tobfp,
        "fp32->BFP8/32:rne",
        f"{_GEN}:tobfp_unit",
        f"{_BENCH}:bench_tobfp",
        "lpmac.golden:to_bfp",
    ),
    UnitSpec(
        "frombfp",
        "BFP block -> floats converter.",
        o.frombfp_options,
        o.frombfp_resolve,
        o.point_frombfp,
        "BFP8/32->fp32",
        f"{_GEN}:frombfp_unit",
        f"{_BENCH}:bench_frombfp",
        "lpmac.golden:from_bfp",
    ),
    UnitSpec(
        "gemm",
        "Systolic BFP GEMM array (HBFP).",
        o.gemm_options,
        o.gemm_resolve,
        o.point_gemm,
        "16x4:BFP8/24",
        f"{_GEN}:gemm_unit",
        golden="lpmac.golden:bfp_gemm",
        clocked=True,
        sim_runner="lpmac.sim.gemm_bench:run_gemm_command",
        sim_options=("matrices",),
    ),
    UnitSpec(
        "array",
        "R x C systolic array of MAC units (the baseline of the HBFP array).",
        o.mac_array_options,
        o.mac_array_resolve,
        o.point_array,
        "4x4:E5M2:cfg5+E6M5",
        f"{_GEN}:array_unit",
        golden="lpmac.golden:matmul",
        clocked=True,
        synth_defaults=_DSP,
    ),
    UnitSpec(
        "system",
        "MAC system: fp32 feeds, converters, MAC array, readout and output FIFOs.",
        o.mac_array_options,
        o.mac_array_resolve,
        o.point_system,
        "16x4:E5M2:cfg5+E6M5",
        "lpmac.hdl.system:system_unit",
        clocked=True,
        synth_defaults=_DSP,
    ),
]:
    register(_spec)


def parse_point(unit: str, config: str, use_dsp: bool = True) -> dict:
    """Builder keyword arguments for `unit` named by one configuration string (each spec's
    `example`); raises ValueError (or a subclass) naming what is wrong."""
    return get(unit).parse_point(config, use_dsp)
