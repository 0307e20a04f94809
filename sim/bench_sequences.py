"""Benches of the units with state (acc, mac): random sequences with valid/clear controls,
one per harness lane, against the golden model's history."""

from __future__ import annotations

import numpy as np

from lpmac import golden as g
from lpmac.formats import FloatFormat
from lpmac.hdl.generate import port_list

from . import vectors as vec
from .bench_common import check
from .harness import Port, run_vectors


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


def _idle_tail(values: np.ndarray, steps: int) -> np.ndarray:
    """`values` followed by `steps` idle cycles (zeros: no valid, no clear)."""
    if steps == 0:
        return values
    return np.concatenate([values, np.zeros((steps,) + values.shape[1:], values.dtype)])


def _run_lagged(unit, verilog, in_ports, out_ports, ins, lanes, simulator):
    """run_vectors on a clocked sequence unit, aligned so output step i answers input step i:
    a long accumulator (LongAcc) answers lag - 1 cycles later, so the inputs get that many
    idle steps and the outputs lose their first lag - 1."""
    lag = max(unit.latency, 1)
    got, stats = run_vectors(
        verilog,
        unit.name,
        in_ports,
        out_ports,
        {name: _idle_tail(value, lag - 1) for name, value in ins.items()},
        ports=port_list(unit),
        clocked=True,
        lanes=lanes,
        simulator=simulator,
    )
    return {name: value[lag - 1 :] for name, value in got.items()}, stats


def _steps(vectors, lanes: int) -> int:
    total = 12_800 if vectors is None else int(vectors)
    return max(-(-total // lanes), 2)


def bench_acc(
    unit,
    verilog,
    *,
    cfg,
    x_fmt=None,
    latency=None,
    use_dsp=True,
    vectors=None,
    rng,
    lanes,
    simulator,
):
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
    got, stats = _run_lagged(
        unit, verilog, ports, [Port("acc", cfg.fmt.width)], ins, lanes, simulator
    )
    expected = g.accumulate(
        x,
        cfg,
        None if cfg.is_fixed else x_fmt_used,
        valid=valid.astype(bool),
        clear=clear.astype(bool),
        history=True,
    )
    return check(
        "acc", str(cfg), ins, {"x": x_fmt_used}, {"acc": expected}, got, {"acc": cfg.fmt}, stats
    )


def bench_mac(unit, verilog, *, cfg, latency=1, use_dsp=True, vectors=None, rng, lanes, simulator):
    steps = _steps(vectors, lanes)
    shape = (steps, lanes)
    valid, clear = _sequence_controls(shape, rng)
    fin = cfg.mul.in_format
    a, b = _float_stream(fin, shape, rng), _float_stream(fin, shape, rng)
    ins = {"a": a, "b": b, "valid": valid, "clear": clear}
    outs = [Port("acc", cfg.acc.fmt.width)] + ([Port("invalid", 1)] if cfg.acc.is_fixed else [])
    in_ports = [Port("a", fin.width), Port("b", fin.width), Port("valid", 1), Port("clear", 1)]
    got, stats = _run_lagged(unit, verilog, in_ports, outs, ins, lanes, simulator)
    res = g.mac(a, b, cfg, valid=valid.astype(bool), clear=clear.astype(bool), history=True)
    expected = {"acc": res.acc}
    if cfg.acc.is_fixed:
        expected["invalid"] = res.invalid.astype(np.uint64)
    return check(
        "mac", str(cfg), ins, {"a": fin, "b": fin}, expected, got, {"acc": cfg.acc.fmt}, stats
    )
