"""One cocotb bench per unit: generated Verilog, simulated, against the golden model.

`run_bench(kind, **unit_kwargs)` builds the unit (as `lpmac.hdl.generate.build`), makes its
vectors (exhaustive when the input space is small, else corners + boundaries + random),
runs them through the lane-parallel harness and compares every output bit with
`lpmac.golden`; a NaN matches any NaN. Mismatches are reported as decoded values.
`run_mul_cfgs` checks several CFG presets of one input format in one design (one build).

The block converters (tobfp, frombfp) run behind `bundle.Elements` (one port per element:
the harness's ports are at most 64 bits) and their `lanes` counts elements, so a BFP8/32
converter with lanes=64 is 2 converters side by side; their vectors count elements too.

Stochastic rounding (convert and tobfp with mode="sr"): every harness lane is one copy of
the unit with the same seed, so lane j's k-th valid conversion must use the k-th value of
`golden.random_bits(seed)` (per element t of a block: of `lane_seed(seed, t)`), and an
invalid cycle shows the next value without consuming it. `valid` is ~80 % high."""

from __future__ import annotations

import functools

import numpy as np

from lpmac import golden as g
from lpmac import units
from lpmac.config import MulConfig
from lpmac.formats import FloatFormat
from lpmac.hdl.generate import Unit, build, module_name, port_list, to_verilog

from .bench_blocks import bench_frombfp, bench_tobfp
from .bench_common import (
    DEFAULT_RANDOM,
    EXHAUSTIVE_MAX_BITS,
    BenchResult,
    check,
    describe,
    pipelined,
)
from .bench_elementwise import bench_convert, bench_fixmul, bench_mul, product_pairs
from .bench_sequences import bench_acc, bench_mac
from .bundle import Elements, SideBySide
from .harness import Port

__all__ = [
    "BenchResult",
    "describe",
    "run_bench",
    "run_mul_cfgs",
    "bench_names",
    "bench_generic",
    "bench_mul",
    "bench_fixmul",
    "bench_convert",
    "bench_tobfp",
    "bench_frombfp",
    "bench_acc",
    "bench_mac",
    "DEFAULT_RANDOM",
    "EXHAUSTIVE_MAX_BITS",
]


def _all_values(widths: list[int]) -> list[np.ndarray]:
    """Every combination of values of ports this wide (the first port varies slowest)."""
    grids = np.meshgrid(*[np.arange(1 << w, dtype=np.uint64) for w in widths], indexing="ij")
    return [grid.ravel() for grid in grids]


def bench_generic(unit, verilog, *, golden, vectors=None, rng, lanes, simulator, **unit_kwargs):
    """The bench of an elementwise unit the registry declares with bench="generic": every
    input port driven with all values (<= 16 input bits, or `vectors="exhaustive"`) or
    `vectors` random ones, every output port compared with `golden(inputs, **unit_kwargs)`
    ({port: expected bits}). Pipelined units are realigned by their latency."""
    ports = [p for p in port_list(unit) if p["name"] not in ("clk", "rst")]
    ins = [Port(p["name"], p["width"]) for p in ports if p["direction"] == "input"]
    outs = [Port(p["name"], p["width"]) for p in ports if p["direction"] == "output"]
    total = sum(p.width for p in ins)
    if vectors == "exhaustive" or (vectors is None and total <= EXHAUSTIVE_MAX_BITS):
        values = _all_values([p.width for p in ins])
    else:
        n = DEFAULT_RANDOM if vectors is None else int(vectors)
        values = [rng.integers(0, 1 << p.width, n, dtype=np.uint64) for p in ins]
    inputs = {p.name: v for p, v in zip(ins, values)}
    got, stats = pipelined(
        verilog, unit, ins, outs, inputs, unit.latency, lanes, simulator, clocked=unit.clocked
    )
    expected = {name: np.asarray(v, np.uint64) for name, v in golden(inputs, **unit_kwargs).items()}
    return check(unit.kind, unit.config, inputs, {}, expected, got, {}, stats)


def bench_names() -> list[str]:
    """The units `run_bench` can check (a bench in their registry declaration)."""
    return [spec.name for spec in units.specs() if spec.bench is not None]


def run_bench(
    kind: str,
    *,
    vectors=None,
    seed: int = 2026,
    lanes: int = 64,
    simulator: str | None = None,
    built: Unit | None = None,
    **unit_kwargs,
) -> BenchResult:
    """Generate unit `kind` from `unit_kwargs` (see lpmac.units), simulate, compare. `built`:
    the unit already built from `unit_kwargs` (`lpmac sim` counts its input bits first)."""
    spec = units.get(kind)
    if spec.bench is None:
        raise ValueError(
            f"no bench for unit {kind!r}; benches exist for {', '.join(bench_names())}"
        )
    if lanes < 1:
        raise ValueError(f"lanes must be >= 1, got {lanes}")
    if spec.bench == "generic":
        bench = functools.partial(bench_generic, golden=units.load(spec.golden))
    else:
        bench = units.load(spec.bench)
    unit = built if built is not None else build(kind, **unit_kwargs)
    split = getattr(bench, "split_ports", None)
    if split:
        T = unit_kwargs["bfp"].T
        component = Elements(unit.component, split, T)
        unit = Unit(kind, component, f"{unit.name}_el", unit.config, unit.latency, {}, unit.clocked)
    verilog = to_verilog(unit)
    rng = np.random.default_rng(seed)
    return bench(
        unit, verilog, vectors=vectors, rng=rng, lanes=lanes, simulator=simulator, **unit_kwargs
    )


def run_mul_cfgs(
    fmt: FloatFormat | str,
    cfgs=range(1, 7),
    *,
    vectors=None,
    seed: int = 2026,
    lanes: int = 16,
    simulator: str | None = None,
) -> list[BenchResult]:
    """The CFG presets `cfgs` of input format `fmt` side by side in one design (one build,
    `bundle.SideBySide`: shared a, b; outputs p1..p6), all on the same vectors (exhaustive
    for an 8-bit format, as `bench_mul`); one BenchResult per preset, each compared with
    `golden.fp_mul` for its own MulConfig."""
    configs = {str(n): MulConfig.preset(fmt, n) for n in cfgs}
    if not configs:
        raise ValueError("run_mul_cfgs needs at least one CFG preset")
    if lanes < 1:
        raise ValueError(f"lanes must be >= 1, got {lanes}")
    components = {tag: build("mul", cfg=cfg).component for tag, cfg in configs.items()}
    base = MulConfig.preset(
        fmt, 1
    ).in_format  # ieee: the vectors are the same bits for every preset
    name = module_name(f"mul_{base}_cfgs{''.join(configs)}")
    side = Unit("mul", SideBySide(components), name, f"{base}:cfgs{','.join(configs)}")
    verilog = to_verilog(side)
    a, b = product_pairs(base.width, base, vectors, np.random.default_rng(seed))
    w = base.width
    outs = [Port(f"p{tag}", cfg.out_format.width) for tag, cfg in configs.items()]
    got, stats = pipelined(
        verilog, side, [Port("a", w), Port("b", w)], outs, {"a": a, "b": b}, 0, lanes, simulator
    )
    return [
        check(
            "mul",
            str(cfg),
            {"a": a, "b": b},
            {"a": cfg.in_format, "b": cfg.in_format},
            {"p": g.fp_mul(a, b, cfg)},
            {"p": got[f"p{tag}"]},
            {"p": cfg.out_format},
            stats,
        )
        for tag, cfg in configs.items()
    ]
