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
from dataclasses import dataclass, field

import numpy as np

from lpmac import golden as g
from lpmac import units
from lpmac.config import MulConfig
from lpmac.formats import FixedFormat, FloatFormat
from lpmac.golden.bitops import from_signed
from lpmac.golden.convert import bfp_random_bits
from lpmac.hdl.generate import Unit, build, module_name, port_list, to_verilog

from . import vectors as vec
from .bundle import Elements, SideBySide
from .harness import Port, RunStats, run_vectors

DEFAULT_RANDOM = 200_000  # vectors for a unit whose input space is too large to enumerate
EXHAUSTIVE_MAX_BITS = 16  # enumerate every input when the inputs have at most this many bits


@dataclass
class BenchResult:
    unit: str
    config: str
    checked: int
    mismatches: int
    stats: RunStats
    failures: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0

    def summary(self) -> str:
        s = self.stats
        # checked / simulated seconds: a block converter's harness vector is a block of T checks
        line = (
            f"{self.unit} {self.config}: {self.checked:,} vectors checked, {self.mismatches:,} mismatches, "
            f"{self.checked / s.seconds:,.0f} vectors/s on {s.simulator}"
            f" (build {'cached' if s.cached else f'{s.build_seconds:.1f} s'})"
        )
        return "\n".join([line] + [f"  {f}" for f in self.failures])


def describe(bits, fmt) -> str:
    """'0x3d (1.25)' for one bit pattern of a float or fixed format."""
    b = int(bits)
    if fmt is None:
        return f"{b}"
    value = float(g.to_float(np.array([b], dtype=np.uint64), fmt)[0])
    return f"0x{b:0{(fmt.width + 3) // 4}x} ({value:.8g})"


def _same(expected: np.ndarray, got: np.ndarray, fmt) -> np.ndarray:
    same = expected == got
    if isinstance(fmt, FloatFormat) and fmt.has_nan:
        same |= np.isnan(g.to_float(expected, fmt)) & np.isnan(g.to_float(got, fmt))
    return same


def _check(
    kind: str,
    config: str,
    inputs: dict,
    in_fmts: dict,
    expected: dict,
    got: dict,
    out_fmts: dict,
    stats: RunStats,
    limit: int = 10,
    axes: tuple[str, str] = ("step", "lane"),
) -> BenchResult:
    bad = np.zeros(next(iter(expected.values())).shape, bool)
    for name, exp in expected.items():
        bad |= ~_same(exp, got[name], out_fmts.get(name))
    failures = []
    for index in zip(*np.nonzero(bad)):
        if len(failures) == limit:
            break
        ins = ", ".join(f"{n}={describe(v[index], in_fmts.get(n))}" for n, v in inputs.items())
        outs = ", ".join(
            f"{n}: expected {describe(expected[n][index], out_fmts.get(n))} "
            f"got {describe(got[n][index], out_fmts.get(n))}"
            for n in expected
        )
        where = (
            f"{axes[0]} {index[0]} {axes[1]} {index[1]}: "
            if len(index) == 2
            else f"vector {index[0]}: "
        )
        failures.append(f"{where}{ins} -> {outs}")
    return BenchResult(kind, config, int(bad.size), int(bad.sum()), stats, failures)


def _pipelined(
    verilog: str,
    unit: Unit,
    in_ports: list[Port],
    out_ports: list[Port],
    inputs: dict,
    latency: int,
    lanes: int,
    simulator: str | None,
    clocked: bool = False,
) -> tuple[dict, RunStats]:
    """Run an elementwise unit; with `latency` register stages (or `clocked`, for a unit with
    a clock but latency 0) the vectors stream through `lanes` columns, vector i at step
    i // lanes of lane i % lanes, and outputs are realigned to their inputs."""
    top, ports = unit.name, port_list(unit)
    if latency == 0 and not clocked:
        return run_vectors(
            verilog, top, in_ports, out_ports, inputs, ports=ports, lanes=lanes, simulator=simulator
        )
    lag = max(latency - 1, 0)  # the harness samples after the edge: out[k + latency - 1]
    n = len(next(iter(inputs.values())))
    steps = -(-n // lanes)
    columns = {}
    for name, values in inputs.items():
        padded = np.zeros((steps + lag) * lanes, np.uint64)
        padded[:n] = values
        columns[name] = padded.reshape(-1, lanes)
    outs, stats = run_vectors(
        verilog,
        top,
        in_ports,
        out_ports,
        columns,
        ports=ports,
        clocked=True,
        lanes=lanes,
        simulator=simulator,
    )
    return {k: v[lag:].reshape(-1)[:n] for k, v in outs.items()}, stats


def _sr_draws(valid: np.ndarray, lanes: int, latency: int) -> np.ndarray:
    """For each vector of a `_pipelined` stream, the index of the random value its output
    uses in its lane's generator sequence: the valid vectors before it in that lane. At
    latency 0 the output is combinational and sampled after the edge that stepped the
    generator, so a valid vector shows the value after its own."""
    n = len(valid)
    cols = np.zeros(-(-n // lanes) * lanes, np.int64)
    cols[:n] = valid
    cols = cols.reshape(-1, lanes)
    before = np.cumsum(cols, axis=0) - cols
    if latency == 0:
        before += cols
    return before.reshape(-1)[:n]


def _pairs(fmt_width: int, float_fmt: FloatFormat | None, n, rng):
    if n == "exhaustive" or (n is None and 2 * fmt_width <= EXHAUSTIVE_MAX_BITS):
        return vec.exhaustive_pairs(fmt_width)
    n = DEFAULT_RANDOM if n is None else int(n)
    if float_fmt is not None:
        return vec.product_pairs(float_fmt, n, rng)
    return rng.integers(0, 1 << fmt_width, n, dtype=np.uint64), rng.integers(
        0, 1 << fmt_width, n, dtype=np.uint64
    )


def bench_mul(unit, verilog, *, cfg, latency=0, use_dsp=True, vectors=None, rng, lanes, simulator):
    w = cfg.in_format.width
    a, b = _pairs(w, cfg.in_format, vectors, rng)
    ports = [Port("a", w), Port("b", w)]
    got, stats = _pipelined(
        verilog,
        unit,
        ports,
        [Port("p", cfg.out_format.width)],
        {"a": a, "b": b},
        latency,
        lanes,
        simulator,
    )
    return _check(
        "mul",
        str(cfg),
        {"a": a, "b": b},
        {"a": cfg.in_format, "b": cfg.in_format},
        {"p": g.fp_mul(a, b, cfg)},
        got,
        {"p": cfg.out_format},
        stats,
    )


def bench_fixmul(
    unit,
    verilog,
    *,
    fmt,
    rounding="rne",
    latency=0,
    use_dsp=True,
    vectors=None,
    rng,
    lanes,
    simulator,
):
    a, b = _pairs(fmt.width, None, vectors, rng)
    corners = vec.fixed_corners(fmt)
    ca, cb = (x.ravel() for x in np.meshgrid(corners, corners, indexing="ij"))
    a, b = np.concatenate([ca, a]), np.concatenate([cb, b])
    ports = [Port("a", fmt.width), Port("b", fmt.width)]
    got, stats = _pipelined(
        verilog,
        unit,
        ports,
        [Port("p", fmt.width)],
        {"a": a, "b": b},
        latency,
        lanes,
        simulator,
    )
    return _check(
        "fixmul",
        f"{fmt}:{rounding}",
        {"a": a, "b": b},
        {"a": fmt, "b": fmt},
        {"p": g.fixed_mul(a, b, fmt, rounding)},
        got,
        {"p": fmt},
        stats,
    )


def _unary_inputs(fmt, vectors, rng) -> np.ndarray:
    if vectors == "exhaustive" or (vectors is None and fmt.width <= EXHAUSTIVE_MAX_BITS):
        return np.arange(1 << fmt.width, dtype=np.uint64)
    n = DEFAULT_RANDOM if vectors is None else int(vectors)
    corners = vec.float_corners(fmt) if isinstance(fmt, FloatFormat) else vec.fixed_corners(fmt)
    return np.concatenate([corners, rng.integers(0, 1 << fmt.width, n, dtype=np.uint64)])


def bench_convert(
    unit,
    verilog,
    *,
    src,
    dst,
    mode="rne",
    saturate=False,
    sub_out="ieee",
    latency=0,
    sr_bits=8,
    sr_seed=1,
    vectors=None,
    rng,
    lanes,
    simulator,
):
    a = _unary_inputs(src, vectors, rng)
    ins, in_ports, outs = {"a": a}, [Port("a", src.width)], [Port("y", dst.width)]
    if mode == "sr":
        valid = (rng.random(len(a)) < 0.8).astype(np.uint64)
        ins["valid"] = valid
        in_ports.append(Port("valid", 1))
        draws = _sr_draws(valid, lanes, latency)
        u = g.random_bits(sr_seed, int(draws.max()) + 1, sr_bits)[draws]
        expected = {"y": g.convert(a, src, dst, "sr", sub_out, saturate=saturate, u=u, r=sr_bits)}
    elif isinstance(src, FloatFormat) and isinstance(dst, FixedFormat):
        y, invalid = g.to_fixed(a, src, dst, mode)
        expected = {"y": y, "invalid": invalid.astype(np.uint64)}
        outs.append(Port("invalid", 1))
    elif isinstance(src, FixedFormat):
        expected = {"y": g.from_fixed(a, src, dst, mode, sub_out)}
    else:
        expected = {"y": g.convert(a, src, dst, mode, sub_out, saturate=saturate)}
    got, stats = _pipelined(
        verilog, unit, in_ports, outs, ins, latency, lanes, simulator, clocked=mode == "sr"
    )
    return _check("convert", unit.config, ins, {"a": src}, expected, got, {"y": dst}, stats)


def _blocks(vectors, T: int) -> int:
    """Blocks for a block converter: `vectors` counts elements (default DEFAULT_RANDOM)."""
    return max(-(-(DEFAULT_RANDOM if vectors is None else int(vectors)) // T), 2)


def _element_check(kind, unit, inputs, in_fmts, expected, got, out_fmts, stats, T):
    """Compare (blocks, T) arrays; per-block ports (exp, special) are repeated per element,
    so `checked` counts element conversions."""

    def per_element(arrays):
        return {
            name: np.repeat(v[:, None], T, axis=1) if v.ndim == 1 else v
            for name, v in arrays.items()
        }

    return _check(
        kind,
        unit.config,
        per_element(inputs),
        in_fmts,
        per_element(expected),
        per_element(got),
        out_fmts,
        stats,
        axes=("block", "element"),
    )


def bench_tobfp(
    unit,
    verilog,
    *,
    fmt,
    bfp,
    mode="rne",
    latency=0,
    sr_bits=8,
    sr_seed=1,
    vectors=None,
    rng,
    lanes,
    simulator,
):
    T, block_lanes = bfp.T, max(lanes // bfp.T, 1)
    blocks = vec.bfp_blocks(fmt, bfp, _blocks(vectors, T), rng)
    exp_width = len(unit.component.exp)
    ins = {f"x{t}": blocks[:, t] for t in range(T)}
    in_ports = [Port(f"x{t}", fmt.width) for t in range(T)]
    u = None
    if mode == "sr":
        valid = (rng.random(len(blocks)) < 0.8).astype(np.uint64)
        ins["valid"] = valid
        in_ports.append(Port("valid", 1))
        draws = _sr_draws(valid, block_lanes, latency)
        u = bfp_random_bits((int(draws.max()) + 1,), T, sr_seed, sr_bits)[draws][:, None, :]
    outs = [Port("exp", exp_width), Port("special", 1)] + [Port(f"man{t}", bfp.m) for t in range(T)]
    got, stats = _pipelined(
        verilog,
        unit,
        in_ports,
        outs,
        ins,
        latency,
        block_lanes,
        simulator,
        clocked=mode == "sr",
    )
    ref = g.to_bfp(blocks, fmt, bfp, mode=mode, u=u, sr_bits=sr_bits)
    expected = {
        "exp": from_signed(ref.exp[:, 0], exp_width),
        "special": ref.special[:, 0].astype(np.uint64),
        "man": from_signed(ref.man[:, 0], bfp.m),
    }
    got = {
        "exp": got["exp"],
        "special": got["special"],
        "man": np.stack([got[f"man{t}"] for t in range(T)], 1),
    }
    out_fmts = {"exp": FixedFormat(exp_width, 0), "man": FixedFormat(bfp.m, 0)}
    return _element_check(
        "tobfp", unit, {"x": blocks}, {"x": fmt}, expected, got, out_fmts, stats, T
    )


def bench_frombfp(unit, verilog, *, bfp, dst, latency=0, vectors=None, rng, lanes, simulator):
    T, block_lanes, n = bfp.T, max(lanes // bfp.T, 1), _blocks(vectors, bfp.T)
    full = (-(1 << (bfp.exp_bits - 1)), (1 << (bfp.exp_bits - 1)) - 1)
    near = (max(full[0], dst.emin - dst.m - 2), min(full[1], dst.emax + 2))  # around dst's range
    parts = [
        vec.bfp_elements(bfp, n // 2, rng, *full),
        vec.bfp_elements(bfp, n - n // 2, rng, *near),
    ]
    exps, mans, specials = (np.concatenate(x) for x in zip(*parts))
    k = from_signed(mans, bfp.m)
    ins = {
        "exp": from_signed(exps, bfp.exp_bits),
        "special": specials.astype(np.uint64),
        **{f"man{t}": k[:, t] for t in range(T)},
    }
    in_ports = [Port("exp", bfp.exp_bits), Port("special", 1)] + [
        Port(f"man{t}", bfp.m) for t in range(T)
    ]
    got, stats = _pipelined(
        verilog,
        unit,
        in_ports,
        [Port(f"y{t}", dst.width) for t in range(T)],
        ins,
        latency,
        block_lanes,
        simulator,
    )
    expected = g.from_bfp(g.BfpBlocks(exps, mans, specials), bfp, dst).reshape(n, T)
    return _element_check(
        "frombfp",
        unit,
        {"exp": ins["exp"], "k": k, "special": ins["special"]},
        {"exp": FixedFormat(bfp.exp_bits, 0), "k": FixedFormat(bfp.m, 0)},
        {"y": expected},
        {"y": np.stack([got[f"y{t}"] for t in range(T)], 1)},
        {"y": dst},
        stats,
        T,
    )


def _sequence_controls(shape, rng) -> tuple[np.ndarray, np.ndarray]:
    """valid ~90 %, clear ~6 % (and always at step 0)."""
    valid = (rng.random(shape) < 0.9).astype(np.uint64)
    clear = (rng.random(shape) < 0.06).astype(np.uint64)
    clear[0] = 1
    return valid, clear


def _float_stream(fmt: FloatFormat, shape, rng) -> np.ndarray:
    """Accumulator inputs: mostly values within a few binades of each other (so sums cancel,
    round and tie), some from anywhere in the format, a few corners."""
    centre = fmt.bias + rng.integers(-3, 4, shape[1:])
    field = np.clip(centre + rng.integers(-4, 5, shape), 0, fmt.exp_all_ones - 1)
    near = vec.encode(fmt, rng.integers(0, 2, shape), field, rng.integers(0, 1 << fmt.m, shape))
    anywhere = rng.integers(0, 1 << fmt.width, shape, dtype=np.uint64)
    corners = rng.choice(vec.float_corners(fmt), shape)
    pick = rng.random(shape)
    return np.where(pick < 0.85, near, np.where(pick < 0.97, anywhere, corners))


def _steps(vectors, lanes: int) -> int:
    total = 12_800 if vectors is None else int(vectors)
    return max(-(-total // lanes), 2)


def bench_acc(unit, verilog, *, cfg, x_fmt=None, vectors=None, rng, lanes, simulator):
    steps = _steps(vectors, lanes)
    shape = (steps, lanes)
    valid, clear = _sequence_controls(shape, rng)
    if cfg.is_fixed:
        x = rng.integers(0, 1 << cfg.fmt.width, shape, dtype=np.uint64)
        small = rng.integers(
            0, 1 << max(cfg.fmt.width - 6, 1), shape, dtype=np.uint64
        )  # room before saturating
        x = np.where(
            rng.random(shape) < 0.8,
            g.from_float(
                g.to_float(small, cfg.fmt) * np.where(rng.random(shape) < 0.5, 1, -1), cfg.fmt
            ),
            x,
        )
        x_fmt_used = cfg.fmt
    else:
        x_fmt_used = cfg.fmt if x_fmt is None else x_fmt
        x = _float_stream(x_fmt_used, shape, rng)
    ins = {"x": x, "valid": valid, "clear": clear}
    ports = [Port("x", x_fmt_used.width), Port("valid", 1), Port("clear", 1)]
    got, stats = run_vectors(
        verilog,
        unit.name,
        ports,
        [Port("acc", cfg.fmt.width)],
        ins,
        ports=port_list(unit),
        clocked=True,
        lanes=lanes,
        simulator=simulator,
    )
    expected = g.accumulate(
        x,
        cfg,
        None if cfg.is_fixed else x_fmt_used,
        valid=valid.astype(bool),
        clear=clear.astype(bool),
        history=True,
    )
    return _check(
        "acc", str(cfg), ins, {"x": x_fmt_used}, {"acc": expected}, got, {"acc": cfg.fmt}, stats
    )


def bench_mac(unit, verilog, *, cfg, vectors=None, rng, lanes, simulator):
    steps = _steps(vectors, lanes)
    shape = (steps, lanes)
    valid, clear = _sequence_controls(shape, rng)
    fin = cfg.mul.in_format
    a, b = _float_stream(fin, shape, rng), _float_stream(fin, shape, rng)
    ins = {"a": a, "b": b, "valid": valid, "clear": clear}
    outs = [Port("acc", cfg.acc.fmt.width)] + ([Port("invalid", 1)] if cfg.acc.is_fixed else [])
    got, stats = run_vectors(
        verilog,
        unit.name,
        [Port("a", fin.width), Port("b", fin.width), Port("valid", 1), Port("clear", 1)],
        outs,
        ins,
        ports=port_list(unit),
        clocked=True,
        lanes=lanes,
        simulator=simulator,
    )
    res = g.mac(a, b, cfg, valid=valid.astype(bool), clear=clear.astype(bool), history=True)
    expected = {"acc": res.acc}
    if cfg.acc.is_fixed:
        expected["invalid"] = res.invalid.astype(np.uint64)
    return _check(
        "mac", str(cfg), ins, {"a": fin, "b": fin}, expected, got, {"acc": cfg.acc.fmt}, stats
    )


def _split_ports(bench, *ports):
    """Mark `bench` as driving a unit whose block ports `ports` are split into one port per
    element (bundle.Elements: the harness's ports are at most 64 bits)."""
    bench.split_ports = set(ports)
    return bench


_split_ports(bench_tobfp, "x", "man")
_split_ports(bench_frombfp, "man", "y")


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
    got, stats = _pipelined(
        verilog, unit, ins, outs, inputs, unit.latency, lanes, simulator, clocked=unit.clocked
    )
    expected = {name: np.asarray(v, np.uint64) for name, v in golden(inputs, **unit_kwargs).items()}
    return _check(unit.kind, unit.config, inputs, {}, expected, got, {}, stats)


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
    **unit_kwargs,
) -> BenchResult:
    """Generate unit `kind` from `unit_kwargs` (see lpmac.units), simulate, compare."""
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
    unit = build(kind, **unit_kwargs)
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
    a, b = _pairs(base.width, base, vectors, np.random.default_rng(seed))
    w = base.width
    outs = [Port(f"p{tag}", cfg.out_format.width) for tag, cfg in configs.items()]
    got, stats = _pipelined(
        verilog, side, [Port("a", w), Port("b", w)], outs, {"a": a, "b": b}, 0, lanes, simulator
    )
    return [
        _check(
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
