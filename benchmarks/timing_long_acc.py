"""LUTs, FFs and ECP5 Fmax of the long accumulator (issue 18) next to the rne one, alone and
in a MAC at MAC latency 1..3 (the multiplier's pipeline; `lpmac synth mac` has no
--latency, so this builds the units directly and runs the same flow: synth/flow.py
`synthesize`, nextpnr-ecp5, LFE5U-25F speed 6, register to register).

    .venv/bin/python benchmarks/timing_long_acc.py

Prints one Markdown row per unit; the synthesis cache makes repeated runs free."""

from __future__ import annotations

from lpmac.config import AccConfig, MacConfig
from lpmac.formats import parse_float_format
from lpmac.hdl.accum import Mac
from lpmac.hdl.generate import Unit, acc_unit, module_name, to_verilog
from lpmac.synth.flow import synthesize

ACCS = [
    ("E6M5", "E6M5-inf"),
    ("E6M5:long", "E6M5-inf"),
    ("E7M7", "E7M7-inf"),
    ("E7M7:long", "E7M7-inf"),
    ("E7M7:long", "E7M7"),
    ("fp32:long", "fp32"),  # 295-bit register: two carry-save segments
]
MACS = [("E5M2:cfg5+E6M5", 1)] + [("E5M2:cfg5+E6M5:long", lat) for lat in (1, 2, 3)]


def row(what: str, unit: Unit) -> str:
    r = synthesize(to_verilog(unit), unit.name, target="ecp5", fmax=True).to_json()
    per_100 = 100 * r["fmax_mhz"] / r["luts"]
    return (
        f"| {what} | {unit.latency} | {r['luts']:,} | {r['ffs']:,} | {r['carry']} "
        f"| {r['fmax_mhz']:.1f} | {per_100:.1f} |"
    )


def main() -> None:
    print("| unit | latency | LUTs | FFs | carry | Fmax MHz | MHz per 100 LUTs |")
    print("|---|---|---|---|---|---|---|")
    for spec, x_name in ACCS:
        unit = acc_unit(AccConfig.parse(spec), parse_float_format(x_name))
        print(row(f"acc {spec} @ {x_name}", unit), flush=True)
    for spec, latency in MACS:
        cfg = MacConfig.parse(spec)
        mac = Mac(cfg, latency=latency)
        name = module_name(f"mac_{cfg}_l{latency}")
        print(row(f"mac {spec} (Mac latency {latency})", Unit("mac", mac, name, spec, mac.depth)))


if __name__ == "__main__":
    main()
