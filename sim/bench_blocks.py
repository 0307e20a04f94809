"""Benches of the block converters (tobfp, frombfp). Their block ports are wider than the
harness's 64 bits, so they run behind `bundle.Elements` (one port per element; `split_ports`
on each bench names them) and `lanes` and `vectors` count elements."""

from __future__ import annotations

import numpy as np

from lpmac import golden as g
from lpmac.formats import FixedFormat
from lpmac.golden.bitops import from_signed
from lpmac.golden.convert import bfp_random_bits

from . import vectors as vec
from .bench_common import DEFAULT_RANDOM, check, pipelined, sr_draws
from .harness import Port


def _blocks(vectors, T: int) -> int:
    """Blocks for a block converter: `vectors` counts elements (default DEFAULT_RANDOM)."""
    return max(-(-(DEFAULT_RANDOM if vectors is None else int(vectors)) // T), 2)


def _elementcheck(kind, unit, inputs, in_fmts, expected, got, out_fmts, stats, T):
    """Compare (blocks, T) arrays; per-block ports (exp, special) are repeated per element,
    so `checked` counts element conversions."""

    def per_element(arrays):
        return {
            name: np.repeat(v[:, None], T, axis=1) if v.ndim == 1 else v
            for name, v in arrays.items()
        }

    return check(
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
        draws = sr_draws(valid, block_lanes, latency)
        u = bfp_random_bits((int(draws.max()) + 1,), T, sr_seed, sr_bits)[draws][:, None, :]
    outs = [Port("exp", exp_width), Port("special", 1)] + [Port(f"man{t}", bfp.m) for t in range(T)]
    got, stats = pipelined(
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
    return _elementcheck(
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
    got, stats = pipelined(
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
    return _elementcheck(
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


def _split_ports(bench, *ports):
    """Mark `bench` as driving a unit whose block ports `ports` are split into one port per
    element (bundle.Elements: the harness's ports are at most 64 bits)."""
    bench.split_ports = set(ports)
    return bench


_split_ports(bench_tobfp, "x", "man")
_split_ports(bench_frombfp, "man", "y")
