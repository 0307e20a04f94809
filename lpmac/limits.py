"""Documented size limits of the command line, checked from the configuration alone, before
anything is built (docs/reliability.md#command-line-limits).

Generating, simulating or synthesizing a design takes time that grows with its size; a size
far beyond what finishes in minutes used to look like a hang. Each limit below comes from a
cost estimate measured on the development machine (2 cores, loaded), and a refusal names the
estimate, the limit and the fix. Units not listed have bounded formats and need no limit.
"""

from __future__ import annotations

import re

from .errors import ConfigError, LimitError

__all__ = [
    "MAX_VECTORS",
    "MAX_EXHAUSTIVE_BITS",
    "MAX_TABLE_ROWS",
    "DESIGN_LIMITS",
    "design_cost",
    "check_design",
    "check_vectors",
    "check_module_name",
]

#: `lpmac sim --vectors` and `lpmac run --vectors`: vectors are built in memory (inputs,
#: expected and simulated outputs: about 100 bytes each), 2^24 is about 2 GiB and 10 s on
#: Verilator (several minutes on Icarus).
MAX_VECTORS = 1 << 24
#: `--vectors exhaustive`: every combination of the input bits, at most MAX_VECTORS of them.
MAX_EXHAUSTIVE_BITS = 24
#: `lpmac golden table --field all`: lines printed (2^16 = every encoding of a 16-bit format).
MAX_TABLE_ROWS = 1 << 16

# Estimated cost of building a design, in units of about 16 ms of Amaranth elaboration and
# Verilog conversion on the development machine (gemm 16x4 BFP8/24: 640 units, 10 s;
# gemm 32x32 BFP8/24: 4,000 units, 66 s; array 16x16: 256 PEs, 88 s; tobfp fp32 T=128:
# 4,096 input bits, 11 s), and the limit of each command (a flat simulation or synthesis
# compiles the whole design again, so their limits are lower).
DESIGN_LIMITS = {
    "gemm": {"generate": 8192, "sim": 2048, "synth": 2048},
    "array": {"generate": 256, "sim": 64, "synth": 64},
    "system": {"generate": 256, "sim": 64, "synth": 64},
    "tobfp": {"generate": 16384, "sim": 8192, "synth": 8192},
    "frombfp": {"generate": 16384, "sim": 8192, "synth": 8192},
}

_COST_TEXT = {
    "gemm": "5/2*rows*cols + (rows+cols)*tile",
    "array": "rows*cols processing elements",
    "system": "rows*cols processing elements",
    "tobfp": "T * element bits",
    "frombfp": "T * output bits",
}

_FIX = {
    "gemm": "use fewer rows/cols or a shorter --tile",
    "array": "use fewer --rows/--cols",
    "system": "use fewer --rows/--cols (lpmac sweep synthesizes large systems hierarchically)",
    "tobfp": "use a shorter block (BFPm/T with a smaller T) or a narrower --fmt",
    "frombfp": "use a shorter block (BFPm/T with a smaller T) or a narrower --to",
}


def design_cost(unit: str, kwargs: dict) -> int | None:
    """The cost estimate of `unit` built from its resolved keyword arguments (see
    DESIGN_LIMITS), or None for a unit without a size limit."""
    if unit == "gemm":
        rows, cols, tile = kwargs["rows"], kwargs["cols"], kwargs["cfg"].bfp.T
        return 5 * rows * cols // 2 + (rows + cols) * tile
    if unit in ("array", "system"):
        return kwargs["rows"] * kwargs["cols"]
    if unit == "tobfp":
        return kwargs["bfp"].T * kwargs["fmt"].width
    if unit == "frombfp":
        return kwargs["bfp"].T * kwargs["dst"].width
    return None


def check_design(unit: str, kwargs: dict, command: str = "generate") -> None:
    """LimitError when `unit` with `kwargs` is over the limit of `command`
    (generate, sim or synth)."""
    cost = design_cost(unit, kwargs)
    if cost is None:
        return
    limit = DESIGN_LIMITS[unit][command]
    if cost > limit:
        raise LimitError(
            f"{unit} too large to {command}: size {cost:,} ({_COST_TEXT[unit]}) is over the "
            f"limit of {limit:,} (larger designs take many minutes); {_FIX[unit]}"
        )


def check_vectors(count: int) -> int:
    """A vector count within 1..MAX_VECTORS, else LimitError."""
    if count > MAX_VECTORS:
        raise LimitError(
            f"--vectors {count:,} is over the limit of {MAX_VECTORS:,} per run (about 2 GiB "
            f"of vectors in memory); check more in several runs with different --seed"
        )
    return count


# Verilog-2005 (IEEE 1364) keywords and the SystemVerilog ones tools also reserve.
_KEYWORDS = frozenset(
    """always and assign automatic begin buf bufif0 bufif1 case casex casez cell cmos config
    deassign default defparam design disable edge else end endcase endconfig endfunction
    endgenerate endmodule endprimitive endspecify endtable endtask event for force forever
    fork function generate genvar highz0 highz1 if ifnone incdir include initial inout input
    instance integer join large liblist library localparam macromodule medium module nand
    negedge nmos nor noshowcancelled not notif0 notif1 or output parameter pmos posedge
    primitive pull0 pull1 pulldown pullup pulsestyle_onevent pulsestyle_ondetect rcmos real
    realtime reg release repeat rnmos rpmos rtran rtranif0 rtranif1 scalared showcancelled
    signed small specify specparam strong0 strong1 supply0 supply1 table task time tran
    tranif0 tranif1 tri tri0 tri1 triand trior trireg unsigned use uwire vectored wait wand
    weak0 weak1 while wire wor xnor xor bit byte class enum int interface logic longint
    package program shortint string struct typedef union unique void""".split()
)
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
MAX_NAME = 1024  # the length every Verilog tool must accept (IEEE 1364 3.7)


def check_module_name(name: str) -> str:
    """`name` if it is a plain Verilog identifier (letters, digits, _; not a keyword), else
    ConfigError naming the rule."""
    if not _IDENTIFIER.fullmatch(name):
        raise ConfigError(
            f"module name {name!r} is not a Verilog identifier: letters, digits and _, "
            f"starting with a letter or _ (e.g. my_mul)"
        )
    if name in _KEYWORDS:
        raise ConfigError(f"module name {name!r} is a Verilog keyword; choose another name")
    if len(name) > MAX_NAME:
        raise ConfigError(f"module name is {len(name)} characters, over {MAX_NAME}")
    return name
