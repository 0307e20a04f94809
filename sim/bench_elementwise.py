"""Benches of the elementwise units: multipliers (mul, fixmul) and converters (convert)."""

from __future__ import annotations

import numpy as np

from lpmac import golden as g
from lpmac.formats import FixedFormat, FloatFormat

from . import vectors as vec
from .bench_common import DEFAULT_RANDOM, EXHAUSTIVE_MAX_BITS, check, pipelined, sr_draws
from .harness import Port


def product_pairs(fmt_width: int, float_fmt: FloatFormat | None, n, rng):
    if n == "exhaustive" or (n is None and 2 * fmt_width <= EXHAUSTIVE_MAX_BITS):
        return vec.exhaustive_pairs(fmt_width)
    n = DEFAULT_RANDOM if n is None else int(n)
    if float_fmt is not None:
        return vec.product_pairs(float_fmt, n, rng)
    return rng.integers(0, 1 << fmt_width, n, dtype=np.uint64), rng.integers(
        0, 1 << fmt_width, n, dtype=np.uint64
    )


def bench_mul(
    unit,
    verilog,
    *,
    cfg,
    latency=0,
    use_dsp=True,
    ecp5_dsp=False,
    vectors=None,
    rng,
    lanes,
    simulator,
):
    w = cfg.in_format.width
    a, b = product_pairs(w, cfg.in_format, vectors, rng)
    ports = [Port("a", w), Port("b", w)]
    got, stats = pipelined(
        verilog,
        unit,
        ports,
        [Port("p", cfg.out_format.width)],
        {"a": a, "b": b},
        latency,
        lanes,
        simulator,
    )
    return check(
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
    a, b = product_pairs(fmt.width, None, vectors, rng)
    corners = vec.fixed_corners(fmt)
    ca, cb = (x.ravel() for x in np.meshgrid(corners, corners, indexing="ij"))
    a, b = np.concatenate([ca, a]), np.concatenate([cb, b])
    ports = [Port("a", fmt.width), Port("b", fmt.width)]
    got, stats = pipelined(
        verilog,
        unit,
        ports,
        [Port("p", fmt.width)],
        {"a": a, "b": b},
        latency,
        lanes,
        simulator,
    )
    return check(
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
        draws = sr_draws(valid, lanes, latency)
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
    got, stats = pipelined(
        verilog, unit, in_ports, outs, ins, latency, lanes, simulator, clocked=mode == "sr"
    )
    return check("convert", unit.config, ins, {"a": src}, expected, got, {"y": dst}, stats)
