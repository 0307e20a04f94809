"""The cocotb bench of the MAC-array system (hdl/system.py) against the golden chain.

`run_system_bench(R, C, cfg)` generates the system's Verilog, builds it (cached, as every
bench in lpmac.sim.runner), plays products through it with the host protocol of hdl/system.py
(per-cycle inputs precomputed here, driven by sim/cocotb_system.py inside the simulator, with
random gaps on the feeds and a consumer that is not always ready) and compares every `c`
element with golden `convert(mac(convert(A), convert(B)))` (fp32 -> input format, golden
`mac` per PE, accumulator -> fp32).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from lpmac import golden
from lpmac.config import MacConfig
from lpmac.formats import FP32

U64 = np.uint64


def fp32_operands(rng, shape) -> np.ndarray:
    """fp32 bit patterns: signed normals 2^-12..2^12 (some round to the input format's
    subnormals or overflow in it), 10 % zeros."""
    values = rng.choice([-1, 1], shape) * 2.0 ** rng.uniform(-12, 12, shape)
    values = np.where(rng.random(shape) < 0.1, 0.0, values).astype(np.float32)
    return values.view(np.uint32).astype(U64)


def expected_rows(A, B, cfg: MacConfig) -> np.ndarray:
    """The golden chain for one product: R x C fp32 bit patterns."""
    fin, acc = cfg.mul.in_format, cfg.acc.fmt
    a = golden.convert(A, FP32, fin, "rne")
    b = golden.convert(B, FP32, fin, "rne")
    R, C = A.shape[0], B.shape[1]
    acc_bits = golden.mac(
        np.repeat(a.T[:, :, None], C, axis=2), np.repeat(b[:, None, :], R, axis=1), cfg
    ).acc
    if cfg.acc.is_fixed:
        return golden.from_fixed(acc_bits, acc, FP32, "rne")
    return golden.convert(acc_bits, acc, FP32, "rne")


def schedule(products, R: int, C: int, seed: int, ready_prob: float = 0.8, depth: int = 1) -> dict:
    """Per-cycle inputs for `products` = [(A (R x K), B (K x C)), ...]: each row starts its
    next product C cycles after its last element (the earliest hdl/system.py allows), random
    gaps inside a product. Returns arrays a, valid, clear, last (cycles x R), b (cycles x C),
    ready (cycles,)."""
    rng = np.random.default_rng(seed)
    issue, start = [], 0  # per product: cycle of element k before the skew
    for A, _ in products:
        K = A.shape[1]
        s = start + np.cumsum(1 + (rng.random(K) > 0.7) * rng.integers(1, 3, K)) - 1
        issue.append(s)
        start = int(s[-1]) + C
    cycles = start + 5 * R + C + 20 + depth  # depth: the PEs' (MacArray.depth)
    out = {
        "a": np.zeros((cycles, R), U64),
        "valid": np.zeros((cycles, R), np.int64),
        "clear": np.zeros((cycles, R), np.int64),
        "last": np.zeros((cycles, R), np.int64),
        "b": np.zeros((cycles, C), U64),
        "ready": (rng.random(cycles) < ready_prob).astype(np.int64),
    }
    for (A, B), s in zip(products, issue):
        K = len(s)
        for i in range(R):
            out["a"][s + i, i] = A[i]
            out["valid"][s + i, i] = 1
            out["clear"][s[0] + i, i] = 1
            out["last"][s[-1] + i, i] = 1
        for j in range(C):
            out["b"][s + j, j] = B[:K, j]
    return out


@dataclass
class SystemBenchResult:
    rows: int
    cols: int
    config: str
    simulator: str
    products: int
    elements: int
    mismatches: int
    overflow: int
    seconds: float


def run_system_bench(
    rows: int,
    cols: int,
    cfg: MacConfig,
    *,
    products: int = 4,
    seed: int = 1,
    simulator: str | None = None,
) -> SystemBenchResult:
    from lpmac.hdl.generate import to_verilog
    from lpmac.hdl.system import system_unit

    from . import runner

    start = time.monotonic()
    simulator = runner.pick_simulator(simulator)
    unit = system_unit(rows, cols, cfg)
    built = runner.build(to_verilog(unit), unit.name, simulator)
    rng = np.random.default_rng(seed)
    jobs = []
    for _ in range(products):
        K = int(rng.integers(1, 4 * max(rows, cols) + 1))
        jobs.append((fp32_operands(rng, (rows, K)), fp32_operands(rng, (K, cols))))
    inputs = schedule(jobs, rows, cols, seed, depth=unit.component.depth)
    with tempfile.TemporaryDirectory(prefix="lpmac-system-") as tmp:
        run_dir = Path(tmp)
        np.savez(run_dir / "inputs.npz", **inputs)
        spec = {"rows": rows, "cols": cols}
        (run_dir / "spec.json").write_text(json.dumps(spec))
        runner.run_test(
            built,
            "lpmac.sim.cocotb_system",
            run_dir,
            {"LPMAC_SYSTEM_SPEC": str(run_dir / "spec.json")},
        )
        got = np.load(run_dir / "c_rows.npy")
        overflow = json.loads((run_dir / "stats.json").read_text())["overflow"]
    expected = np.concatenate([expected_rows(A, B, cfg) for A, B in jobs])
    if got.shape != expected.shape:
        mismatches = expected.size  # rows lost or extra: nothing lines up
    else:
        mismatches = int(np.count_nonzero(got != expected))
    return SystemBenchResult(
        rows,
        cols,
        str(cfg),
        simulator,
        products,
        int(expected.size),
        mismatches,
        int(overflow),
        round(time.monotonic() - start, 2),
    )
