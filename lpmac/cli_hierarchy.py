"""`lpmac synth system|array|gemm`: synthesized block by block (synth/hierarchy.py) unless
--flat."""

from __future__ import annotations

import json

import click

__all__ = ["HIERARCHICAL_UNITS", "synth_hierarchical", "format_hierarchical"]

# Units made of many copies of a few blocks; flat synthesis of 16x4 takes 10-45 minutes.
HIERARCHICAL_UNITS = ("system", "array", "gemm")


def synth_hierarchical(built, target: str, use_dsp: bool, as_json: bool) -> None:
    """Synthesize `built` (a generate.Unit) hierarchically and print totals and blocks."""
    from lpmac.synth.flow import SynthError
    from lpmac.synth.hierarchy import hierarchical_synthesize

    try:
        result = hierarchical_synthesize(
            built.component, built.name, target=target, use_dsp=use_dsp
        )
    except SynthError as err:
        raise click.ClickException(str(err)) from None
    result = {"unit": built.kind, "config": built.config, "target": target, **result}
    click.echo(json.dumps(result, indent=2) if as_json else format_hierarchical(result))


def format_hierarchical(result: dict) -> str:
    """Totals as `lpmac synth` prints them, then what they are made of: the glue and one line
    per distinct block (instances x its own counts)."""
    sizes = ", ".join(f"{k} {v}" for k, v in result["luts_by_size"].items())
    rows = [
        ("unit", f"{result['unit']} {result['config']}"),
        ("target", result["target"]),
        ("LUTs", f"{result['luts']}" + (f"  ({sizes})" if sizes else "")),
        ("carry", result["carry"]),
        ("MUXF", result["muxf"]),
        ("FFs", result["ffs"]),
        ("DSPs", result["dsps"]),
        ("BRAM (18Kb)", result["brams"]),
        ("flow", "hierarchical (--flat for the exact flow; docs/results/hierarchy.md)"),
        ("seconds", f"{result['seconds']:.1f}"),
    ]
    lines = [f"{k:<12} {v}" for k, v in rows]
    glue = result["glue"]
    lines.append(f"{'glue':<12} {glue['luts']} LUTs, {glue['ffs']} FFs, {glue['dsps']} DSPs")
    for block in result["blocks"]:
        lines.append(
            f"{'block':<12} {block['count']} x {block['description']}: {block['luts']} LUTs, "
            f"{block['ffs']} FFs, {block['dsps']} DSPs"
        )
    return "\n".join(lines)
