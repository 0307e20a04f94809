"""Fmax against area of multipliers, accumulators and MACs at their latencies (issue 18): LUTs,
FFs, DSPs and ECP5 Fmax (nextpnr-ecp5, LFE5U-25F speed 6, register to register through the
Fmax wrapper of synth/flow.py), one point per (kind, unit, latency).

    .venv/bin/python benchmarks/timing.py -o docs/results/timing.jsonl            # multipliers
    .venv/bin/python benchmarks/timing.py --kind acc -o docs/results/timing.jsonl
    .venv/bin/python benchmarks/timing.py --kind mac --latencies 1 2 3 -o docs/results/timing.jsonl
    .venv/bin/python benchmarks/timing.py --units fp16:cfg1 --latencies 0 3 -o /tmp/t.jsonl
    .venv/bin/python benchmarks/timing.py --ecp5-dsp --jobs 1 -o docs/results/timing.jsonl

Units: mul `FMT:cfgN` (= `lpmac synth mul --fmt FMT --cfg N --latency L --target ecp5`); acc
`CONFIG@INPUT` or `CONFIG` (latency 1 = `lpmac synth acc --config CONFIG --in INPUT --target
ecp5`; latency L > 1 is FpAcc/FixedAcc(latency=L), L-1 input register stages); mac `MUL+ACC`
(Mac(cfg, latency=L): the multiplier gets L-1 pipeline stages; latency 1 = `lpmac synth mac
--config MUL+ACC --target ecp5`). Each row records the sha256 of the generated Verilog and the
commit it was measured at; a rerun regenerates the Verilog of every point asked for and
recomputes the rows whose sha differs (or that have none), so a generator change never leaves
a stale row; `--refresh` recomputes every point asked for. Rows go to the JSON-lines file as
they arrive (rewritten in place, one row per point); Markdown tables of everything in the
file are printed at the end. Synthesis goes through the sweep's result cache, so an unchanged
design is read back. `--ecp5-dsp` (kind `mul_ecp5dsp`, rows of their own) measures the
multipliers with their significands in a MULT18X18D's input registers (`lpmac synth mul ...
--ecp5-dsp --target ecp5`, latency >= 4). `luts` is the flow's LUT count: on ECP5 every LUT
is a LUT4 (inverters included), so it is LUT1..6 + INV by construction. `MAC/s per LUT` =
results per cycle (one for each unit here) x Fmax / LUTs.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from lpmac.config import AccConfig, MacConfig, MulConfig
from lpmac.formats import parse_float_format
from lpmac.hdl.generate import Unit, acc_unit, module_name, mul_unit, to_verilog
from lpmac.synth.flow import SynthError
from lpmac.synth.sweep import cached_synthesize

UNITS = {
    "mul": ["E4M3:cfg1", "E5M2:cfg5", "fp16:cfg1", "bf16:cfg1", "fp32:cfg1"],
    # Float accumulators fed by E5M2 CFG-5 products (E6M5-inf) and by E4M3 CFG-1 products
    # (E4M3); the seed table's own E7M7@E7M7-inf and fp32; the fixed Q8.13 and Q11.13.
    "acc": [
        *(f"{a}@E6M5-inf" for a in ("E6M5", "E7M7", "fp16", "bf16", "fp32")),
        *(f"{a}@E4M3" for a in ("E6M5", "E7M7", "fp16", "bf16", "fp32")),
        "E7M7@E7M7-inf",
        "fp32",
        "Q8.13",
        "Q11.13",
    ],
    "mac": [
        "E5M2:cfg5+E6M5",
        "E5M2:cfg5+Q8.13",
        "E5M2:cfg5+Q11.13",
        "fp32:cfg1+fp32",
        "E4M3:cfg1+E6M5",
    ],
    "mul_ecp5dsp": ["E4M3:cfg1", "fp16:cfg1", "bf16:cfg1"],
}
LATENCIES = {"mul": [0, 1, 2, 3, 4], "acc": [1], "mac": [1, 2, 3], "mul_ecp5dsp": [6, 7]}
KINDS = tuple(UNITS)


def build(kind: str, unit: str, latency: int) -> Unit:
    """The unit of one point, named as the CLI names it where the CLI can build it."""
    if kind == "mul":
        return mul_unit(MulConfig.parse(unit), latency)
    if kind == "mul_ecp5dsp":
        return mul_unit(MulConfig.parse(unit), latency, ecp5_dsp=True)
    if kind == "acc":
        spec, _, x_name = unit.partition("@")
        cfg = AccConfig.parse(spec)
        x_fmt = parse_float_format(x_name) if x_name else None
        if latency == 1:
            return acc_unit(cfg, x_fmt)
        from lpmac.hdl.accum import FixedAcc, FpAcc

        acc = FixedAcc(cfg.fmt, latency) if cfg.is_fixed else FpAcc(cfg, x_fmt, latency)
        # acc_unit's name (hdl/generate.py) + the latency
        x_tag = "" if cfg.is_fixed or x_fmt in (None, cfg.fmt) else f"_x{x_fmt}"
        name = module_name(f"acc_{cfg.fmt if cfg.is_fixed else cfg}{x_tag}_l{latency}")
        return Unit("acc", acc, name, str(cfg), latency)
    if kind == "mac":
        from lpmac.hdl.accum import Mac

        cfg = MacConfig.parse(unit)
        mac = Mac(cfg, latency=latency)
        name = module_name(f"mac_{cfg}") + (f"_l{latency}" if latency > 1 else "")
        return Unit("mac", mac, name, str(cfg), mac.depth)
    raise ValueError(f"unknown kind {kind!r}; kinds are {', '.join(KINDS)}")


def verilog_sha(kind: str, unit: str, latency: int) -> tuple[str, str, str]:
    """(verilog, top, sha256 of the Verilog) of one point."""
    built = build(kind, unit, latency)
    verilog = to_verilog(built)
    return verilog, built.name, hashlib.sha256(verilog.encode()).hexdigest()


def commit() -> str:
    """HEAD, with `-dirty` when the generators (lpmac/, hdl/) differ from it in the tree."""
    head = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD", "--", "lpmac", "hdl"]).returncode
    return (head.stdout.strip() or "unknown") + ("-dirty" if dirty else "")


def run_point(kind: str, unit: str, latency: int, head: str) -> dict:
    verilog, top, sha = verilog_sha(kind, unit, latency)
    row = {"kind": kind, "unit": unit, "latency": latency, "verilog_sha256": sha, "commit": head}
    try:
        result = cached_synthesize(
            verilog, top, target="ecp5", fmax=True, unit=kind, config=unit, use_dsp=True
        )
    except SynthError as err:  # e.g. a design that does not fit the LFE5U-25F
        return {**row, "error": str(err).strip().splitlines()[-1][:200]}
    keep = ("luts", "luts_by_size", "ffs", "dsps", "carry", "fmax_mhz", "seconds")
    return {**row, **{k: result[k] for k in keep}}


def row_key(row: dict) -> tuple:
    return row.get("kind", "mul"), row["unit"], row["latency"]  # old mul rows have no kind


def mac_per_s_per_lut(row: dict) -> float | None:
    """One result per cycle x Fmax / LUTs; None without an Fmax."""
    if row.get("fmax_mhz") is None or not row.get("luts"):
        return None
    return row["fmax_mhz"] * 1e6 / row["luts"]


def table(rows: list[dict], kind: str) -> str:
    lines = [
        "| unit | latency | LUTs | FFs | DSPs | Fmax MHz | MAC/s per LUT |",
        "|---|---|---|---|---|---|---|",
    ]
    order = {u: i for i, u in enumerate(UNITS[kind])}
    mine = [r for r in rows if row_key(r)[0] == kind]
    for r in sorted(mine, key=lambda r: (order.get(r["unit"], 99), r["unit"], r["latency"])):
        if "error" in r:
            lines.append(f"| {kind} {r['unit']} | {r['latency']} | {r['error']} ||||||")
            continue
        per_lut = mac_per_s_per_lut(r)
        lines.append(
            f"| {kind} {r['unit']} | {r['latency']} | {r['luts']:,} | {r['ffs']:,} "
            f"| {r['dsps']} | {r['fmax_mhz']:.1f} | {per_lut:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kind", choices=KINDS, default="mul")
    parser.add_argument(
        "--ecp5-dsp", action="store_true", help="multipliers with the registered MULT18X18D"
    )
    parser.add_argument("--units", nargs="+", default=None, help="default: the kind's matrix")
    parser.add_argument("--latencies", nargs="+", type=int, default=None)
    parser.add_argument("--jobs", type=int, default=2, help="points run at the same time")
    parser.add_argument("--refresh", action="store_true", help="recompute every point asked for")
    parser.add_argument("-o", "--out", type=Path, required=True, help="JSON-lines results")
    args = parser.parse_args()
    if args.ecp5_dsp:
        if args.kind != "mul":
            parser.error("--ecp5-dsp applies to --kind mul")
        args.kind = "mul_ecp5dsp"
    units = args.units or UNITS[args.kind]
    latencies = args.latencies or LATENCIES[args.kind]
    rows = [json.loads(x) for x in args.out.read_text().splitlines()] if args.out.exists() else []
    have = {row_key(r): r for r in rows}
    todo = []
    for unit in units:
        for latency in latencies:
            key = (args.kind, unit, latency)
            old = have.get(key)
            if args.refresh or old is None:
                todo.append(key)
            elif old.get("verilog_sha256") != verilog_sha(*key)[2]:
                print(f"{' '.join(map(str, key))}: Verilog changed since the row, recomputing")
                todo.append(key)
    head = commit()
    with ThreadPoolExecutor(args.jobs) as pool:
        for row in pool.map(lambda k: run_point(*k, head), todo):
            have[row_key(row)] = row
            args.out.write_text("".join(json.dumps(r) + "\n" for r in have.values()))
            what = row.get("error") or f"{row['fmax_mhz']} MHz, {row['luts']} LUTs"
            print(f"{row['kind']} {row['unit']} latency {row['latency']}: {what}", flush=True)
    for kind in KINDS:
        if any(row_key(r)[0] == kind for r in have.values()):
            print(f"\n{table(list(have.values()), kind)}")


if __name__ == "__main__":
    main()
