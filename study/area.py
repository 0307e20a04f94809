"""LUTs and DSPs of the hardware behind each study row, from the synthesis cache.

A MAC configuration is the `mac` unit of `lpmac synth` (the sweep's point and cache, so a
row synthesized by `lpmac sweep seed-mac` is read back, not repeated). An HBFP row is the
systolic array's processing element (8x8 product + integer accumulator) as
benchmarks/gemm_area.py builds it: the PE only, without the FP32->BFP feeds and BFP->FP32
column accumulators that dominate a 16x4 array (docs/results/gemm_area.md). The float32
baseline is software and has no unit."""

from __future__ import annotations

from lpmac.config import GemmConfig, MacConfig

from .arith import parse_arith_spec

TARGET = "xcup"


def unit_area(spec: str) -> dict:
    """{'luts', 'dsps', 'area_unit', 'area_note'}; luts/dsps None where there is no unit or
    synthesis failed (the note says why)."""
    cfg = parse_arith_spec(spec)
    if cfg is None:
        return _blank("", "software baseline: no MAC unit")
    try:
        if isinstance(cfg, MacConfig):
            res = _mac(cfg)
            unit, note = "mac", ""
        else:
            res, width = _bfp_pe(cfg)
            unit = "gemm PE"
            note = f"PE only ({cfg.m}x{cfg.m} product, {width}-bit accumulator); no feeds"
    except Exception as err:  # synthesis trouble must not lose the trained results
        msg = str(err).strip().splitlines()
        return _blank("", f"synthesis failed: {msg[-1] if msg else type(err).__name__}")
    return {"luts": res["luts"], "dsps": res["dsps"], "area_unit": unit, "area_note": note}


def _blank(unit: str, note: str) -> dict:
    return {"luts": None, "dsps": None, "area_unit": unit, "area_note": note}


def _mac(cfg: MacConfig) -> dict:
    from lpmac.synth.presets import make_verilog
    from lpmac.synth.sweep import Point, cached_synthesize

    point = Point("mac", str(cfg), TARGET)
    verilog, top = make_verilog(point)
    return cached_synthesize(verilog, top, target=TARGET, unit="mac", config=str(cfg))


def _bfp_pe(cfg: GemmConfig) -> tuple[dict, int]:
    from lpmac.hdl.gemm import ProcessingElement, gemm_acc_width
    from lpmac.hdl.generate import Unit, to_verilog
    from lpmac.synth.sweep import cached_synthesize

    width = gemm_acc_width(cfg.m, cfg.T)
    what = f"HBFP PE: {cfg.m}x{cfg.m}-bit multiply, {width}-bit accumulator"
    verilog = to_verilog(
        Unit("pe", ProcessingElement(cfg.m, width, use_dsp=True), "area_pe", what, 1)
    )
    res = cached_synthesize(verilog, "area_pe", target=TARGET, unit="pe", config=what, use_dsp=True)
    return res, width
