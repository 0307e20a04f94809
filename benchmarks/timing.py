"""Fmax against area of the pipelined multipliers (issue 18): LUTs, FFs and ECP5 Fmax for
latency 0..N, one `lpmac synth mul --target ecp5 --json` run per point (nextpnr-ecp5,
LFE5U-25F speed 6, register to register through the Fmax wrapper of synth/flow.py).

    .venv/bin/python benchmarks/timing.py -o /tmp/timing.jsonl            # the default matrix
    .venv/bin/python benchmarks/timing.py --units fp16:cfg1 --latencies 0 3 -o /tmp/t.jsonl

Each result is appended to the JSON-lines file as it arrives (a rerun skips the points it
already holds, and the synthesis cache makes repeated points free); the Markdown table of
everything in the file is printed at the end. `luts` is the flow's LUT count: on ECP5 every
LUT is a LUT4 (inverters included), so it is LUT1..6 + INV by construction.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

UNITS = ["E4M3:cfg1", "E5M2:cfg5", "fp16:cfg1", "bf16:cfg1", "fp32:cfg1"]
LATENCIES = [0, 1, 2, 3, 4]
LPMAC = str(Path(sys.executable).with_name("lpmac"))


def run_point(unit: str, latency: int) -> dict:
    fmt, cfg = unit.split(":cfg")
    cmd = [LPMAC, "synth", "mul", "--fmt", fmt, "--cfg", cfg, "--latency", str(latency)]
    cmd += ["--target", "ecp5", "--fmax", "--json"]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode:
        raise SystemExit(f"{' '.join(cmd)} failed: {done.stderr.strip().splitlines()[-1:]}")
    result = json.loads(done.stdout)
    keep = ("luts", "luts_by_size", "ffs", "dsps", "carry", "fmax_mhz", "seconds")
    return {"unit": unit, "latency": latency, **{k: result[k] for k in keep}}


def table(rows: list[dict]) -> str:
    lines = [
        "| unit | latency | LUTs | FFs | DSPs | Fmax MHz | MHz per 100 LUTs |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {u: i for i, u in enumerate(UNITS)}
    for r in sorted(rows, key=lambda r: (order.get(r["unit"], 99), r["unit"], r["latency"])):
        per = 100 * r["fmax_mhz"] / r["luts"] if r["luts"] else float("nan")
        lines.append(
            f"| mul {r['unit']} | {r['latency']} | {r['luts']} | {r['ffs']} | {r['dsps']} "
            f"| {r['fmax_mhz']:.1f} | {per:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--units", nargs="+", default=UNITS, help="FMT:cfgN multipliers")
    parser.add_argument("--latencies", nargs="+", type=int, default=LATENCIES)
    parser.add_argument("--jobs", type=int, default=2, help="points run at the same time")
    parser.add_argument("-o", "--out", type=Path, required=True, help="JSON-lines results")
    args = parser.parse_args()
    rows = [json.loads(x) for x in args.out.read_text().splitlines()] if args.out.exists() else []
    have = {(r["unit"], r["latency"]) for r in rows}
    todo = [(u, n) for u in args.units for n in args.latencies if (u, n) not in have]
    with ThreadPoolExecutor(args.jobs) as pool, args.out.open("a") as out:
        for row in pool.map(lambda p: run_point(*p), todo):
            out.write(json.dumps(row) + "\n")
            out.flush()
            rows.append(row)
            print(f"{row['unit']} latency {row['latency']}: {row['fmax_mhz']} MHz", flush=True)
    print(table(rows))


if __name__ == "__main__":
    main()
