"""The cocotb bench of the systolic BFP GEMM array (hdl/gemm.py) against `golden.bfp_gemm`.

`run_gemm_bench(R, C, cfg)` generates the array's Verilog, builds it (cached, as every bench
in lpmac.sim.runner), streams a list of products through it with the host protocol of
hdl/gemm.py (sim/cocotb_gemm.py drives the streams inside the simulator) and compares every
output bit with `golden.bfp_gemm(a, b, cfg, array=(R, C))`. Each product is played twice:
once with random valid/ready gaps on all three streams (flow control), once with the streams
always valid/ready, where the cycle of the last `c` beat must equal `GemmTiming.cycles`.

The operand generator makes what a GEMM bench must cover: exponents spread over many
binades inside a block (so the shared exponent truncates small elements), zeros of both
signs, subnormals, negatives, M and N not multiples of R and C, K not a multiple of T (a
short final K-tile), and in one product a NaN block and an inf block (SPEC §5.4).
"""

from __future__ import annotations

import json
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from lpmac import golden
from lpmac.config import GemmConfig
from lpmac.formats import FloatFormat

from .gemm_streams import assemble, host_streams

U64 = np.uint64


# --------------------------------------------------------------------------- operands
def wide_matrix(
    rng,
    shape,
    fmt: FloatFormat,
    spread=None,
    center=None,
    out: FloatFormat | None = None,
    p_zero=0.1,
    p_sub=0.06,
) -> np.ndarray:
    """Random encodings: exponents within +-spread binades of `center` (by default sized
    so that most dot products stay finite in `fmt` and in the output format `out`), so
    blocks mix large and tiny values; subnormals, +0 and -0, both signs; no inf/NaN."""
    limit = min(fmt.bias, (out or fmt).bias)
    if spread is None:
        spread = max(2, min(12, fmt.bias // 2, (out or fmt).bias // 3))
    if center is None:
        center = int(rng.integers(-(limit // 4), limit // 4 + 1))
    exp_field = np.clip(
        fmt.bias + center + rng.integers(-spread, spread + 1, shape), 1, fmt.max_field
    )
    exp_field = np.where(rng.random(shape) < p_sub, 0, exp_field)
    frac = rng.integers(0, 1 << fmt.m, shape)
    sign = rng.integers(0, 2, shape).astype(U64) << U64(fmt.width - 1)
    bits = sign | (exp_field.astype(U64) << U64(fmt.m)) | frac.astype(U64)
    return np.where(rng.random(shape) < p_zero, sign, bits).astype(U64)


def operands(rng, shape_a, shape_b, cfg: GemmConfig, **kw) -> tuple[np.ndarray, np.ndarray]:
    return (
        wide_matrix(rng, shape_a, cfg.in_fmt, out=cfg.out_fmt, **kw),
        wide_matrix(rng, shape_b, cfg.in_fmt, out=cfg.out_fmt, **kw),
    )


def with_specials(rng, a, b, fmt: FloatFormat) -> tuple[np.ndarray, np.ndarray]:
    """Put a NaN (where the format has one) into A and an inf into B."""
    a, b = a.copy(), b.copy()
    top = fmt.exp_all_ones << fmt.m
    if fmt.specials == "ieee":
        a[rng.integers(a.shape[0]), rng.integers(a.shape[1])] = top | 1
        b[rng.integers(b.shape[0]), rng.integers(b.shape[1])] = top | (1 << (fmt.width - 1))
    elif fmt.specials == "inf_only":
        b[rng.integers(b.shape[0]), rng.integers(b.shape[1])] = top | ((1 << fmt.m) - 1)
    return a, b


def random_products(
    rows: int, cols: int, cfg: GemmConfig, count: int, rng
) -> list[tuple[np.ndarray, np.ndarray]]:
    """`count` products with M, N not multiples of R, C (when R, C > 1), 1..6 K-tiles with a
    short final one; the first product carries a NaN and an inf block."""
    T, jobs = cfg.T, []
    for n in range(count):
        M = int(rng.integers(1, 3 * rows + 1)) + (rows > 1) * (n == 0)
        N = int(rng.integers(1, 3 * cols + 1)) + (cols > 1) * (n == 0)
        K = int(rng.integers(T * (n % 3), T * (n % 3 + 3))) + 1
        a, b = operands(rng, (M, K), (K, N), cfg)
        if n == 0:
            a, b = with_specials(rng, a, b, cfg.in_fmt)
        jobs.append((a, b))
    return jobs


# --------------------------------------------------------------------------- running
@dataclass
class GemmRun:
    outputs: list  # one C matrix (bit patterns) per product
    c_cycles: list[int]  # cycle of every `c` beat (cycle 0 = the first input beat)
    cycles: int  # first input beat .. last `c` beat, inclusive


def _build(
    rows: int,
    cols: int,
    cfg: GemmConfig,
    simulator: str | None,
    pipelined: bool = False,
    ecp5_dsp: bool = False,
    xcup_dsp: bool = False,
):
    from amaranth.back import verilog

    from lpmac.hdl.gemm import BfpGemmArray

    from . import runner

    simulator = runner.pick_simulator(simulator)
    name = f"gemm_{rows}x{cols}_bench"
    array = BfpGemmArray(rows, cols, cfg, pipelined=pipelined, ecp5_dsp=ecp5_dsp, xcup_dsp=xcup_dsp)
    text = verilog.convert(array, name=name, emit_src=False, strip_internal_attrs=True)
    return runner.build(text, name, simulator)


def play(
    built,
    rows: int,
    cols: int,
    cfg: GemmConfig,
    jobs,
    gaps=(1.0, 1.0, 1.0),
    seed: int = 0,
    max_cycles: int | None = None,
) -> GemmRun:
    """Stream the products `jobs` through a built array once; gaps = probabilities that the
    host offers an `a` / `b` beat and accepts a `c` beat in a cycle."""
    from . import runner

    streams = host_streams(jobs, rows, cols, cfg.T)
    if max_cycles is None:
        max_cycles = 50_000 + 40 * (len(streams.a_blocks) + len(streams.b_blocks)) * max(
            rows, cols, cfg.T
        )
    with tempfile.TemporaryDirectory(prefix="lpmac-gemm-") as tmp:
        run_dir = Path(tmp)
        np.save(run_dir / "a_blocks.npy", streams.a_blocks)
        np.save(run_dir / "a_ktiles.npy", streams.a_ktiles)
        np.save(run_dir / "a_ktails.npy", streams.a_ktails)
        np.save(run_dir / "b_blocks.npy", streams.b_blocks)
        pa, pb, pc = gaps
        spec = {
            "beats": streams.beats,
            "in_width": cfg.in_fmt.width,
            "out_width": cfg.out_fmt.width,
            "cols": cols,
            "pa": pa,
            "pb": pb,
            "pc": pc,
            "seed": seed,
            "max_cycles": max_cycles,
        }
        (run_dir / "spec.json").write_text(json.dumps(spec))
        runner.run_test(
            built, "lpmac.sim.cocotb_gemm", run_dir, {"LPMAC_GEMM_SPEC": str(run_dir / "spec.json")}
        )
        rows_out = np.load(run_dir / "c_rows.npy")
        stats = json.loads((run_dir / "stats.json").read_text())
    c_cycles = [c - stats["first_in"] for c in stats["c_cycles"]]
    return GemmRun(assemble(rows_out, jobs, streams, rows, cols), c_cycles, c_cycles[-1] + 1)


def describe_mismatches(got, expected, cfg: GemmConfig, limit: int = 8) -> list[str]:
    """One line per mismatching element: position, got and expected as bits and values."""
    lines = []
    for i, j in np.argwhere(got != expected)[:limit]:
        g, e = golden.gemm_to_float(np.array([got[i, j], expected[i, j]], U64), cfg)
        lines.append(
            f"C[{i},{j}]: got {int(got[i, j]):#x} ({g:.8g}), "
            f"expected {int(expected[i, j]):#x} ({e:.8g})"
        )
    return lines


@dataclass
class GemmBenchResult:
    rows: int
    cols: int
    config: str
    simulator: str
    matrices: int  # products checked (each played with gaps and without)
    elements: int  # output elements compared (both plays)
    mismatches: int
    cycles: int  # always-valid/ready play: first input beat .. last `c` beat
    model_cycles: int  # GemmTiming.cycles for the same products
    macs: int  # useful MACs: sum of M·N·K
    build_seconds: float
    cached: bool
    seconds: float
    failures: list[str] = field(default_factory=list)

    @property
    def utilization(self) -> float:
        return self.macs / (self.rows * self.cols * self.cycles)

    @property
    def ok(self) -> bool:
        return self.mismatches == 0 and self.cycles == self.model_cycles

    def summary(self) -> str:
        line = (
            f"gemm {self.rows}x{self.cols} {self.config}: {self.matrices} matrices checked "
            f"({self.elements:,} elements, with and without stream gaps), "
            f"{self.mismatches:,} mismatches; "
            f"{self.cycles:,} cycles (model {self.model_cycles:,}), {self.macs:,} MACs, "
            f"utilization {self.utilization:.1%}; {self.simulator}, "
            f"build {'cached' if self.cached else f'{self.build_seconds:.1f} s'}, "
            f"{self.seconds:.1f} s"
        )
        return "\n".join([line] + [f"  {f}" for f in self.failures])


def run_gemm_bench(
    rows: int,
    cols: int,
    cfg: GemmConfig,
    *,
    matrices: int | None = None,
    seed: int = 2026,
    simulator: str | None = None,
    jobs=None,
    pipelined: bool = False,
    ecp5_dsp: bool = False,
    xcup_dsp: bool = False,
) -> GemmBenchResult:
    """Check `matrices` random products (default 3), or the given `jobs` [(A bits, B bits)]."""
    from lpmac.hdl.gemm import GemmTiming

    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    if jobs is None:
        jobs = random_products(rows, cols, cfg, matrices or 3, rng)
    built = _build(rows, cols, cfg, simulator, pipelined, ecp5_dsp, xcup_dsp)
    expected = [golden.bfp_gemm(a, b, cfg, array=(rows, cols)) for a, b in jobs]
    mismatches, elements, failures = 0, 0, []
    timed = None
    for gaps, play_seed in (((0.7, 0.7, 0.6), seed), ((1.0, 1.0, 1.0), 0)):
        run = play(built, rows, cols, cfg, jobs, gaps, play_seed)
        for n, (got, exp) in enumerate(zip(run.outputs, expected)):
            bad = int(np.count_nonzero(got != exp))
            mismatches += bad
            elements += exp.size
            if bad:
                failures += [
                    f"product {n} ({'gaps' if gaps[0] < 1 else 'no gaps'}): {line}"
                    for line in describe_mismatches(got, exp, cfg)
                ]
        if gaps[0] == 1.0:
            timed = run
    timing = GemmTiming(rows, cols, cfg.T, 2 * rows, pipelined)
    counts, tails = [], []
    for a, b in jobs:
        (M, K), N = a.shape, b.shape[1]
        tiles = -(-M // rows) * -(-N // cols)
        counts += [max(1, -(-K // cfg.T))] * tiles
        tails += [K % cfg.T] * tiles
    model = timing.cycles(counts, tails)
    if timed.cycles != model:
        failures.append(f"cycle count {timed.cycles} differs from the model's {model}")
    macs = sum(a.shape[0] * a.shape[1] * b.shape[1] for a, b in jobs)
    return GemmBenchResult(
        rows,
        cols,
        f"{cfg}{' pipelined' if pipelined else ''}{' ecp5-dsp' if ecp5_dsp else ''}"
        f"{' xcup-dsp' if xcup_dsp else ''}",
        built.simulator,
        len(jobs),
        elements,
        mismatches,
        timed.cycles,
        model,
        macs,
        built.seconds,
        built.cached,
        time.perf_counter() - start,
        failures,
    )


def run_gemm_command(
    kwargs: dict, *, matrices: int | None = None, seed: int = 2026, simulator: str | None = None
) -> GemmBenchResult:
    """`lpmac sim gemm` (the registry's sim_runner): the builder's keyword arguments."""
    return run_gemm_bench(
        kwargs["rows"],
        kwargs["cols"],
        kwargs["cfg"],
        matrices=matrices,
        seed=seed,
        simulator=simulator,
        pipelined=kwargs.get("pipelined", False),
        ecp5_dsp=kwargs.get("ecp5_dsp", False),
        xcup_dsp=kwargs.get("xcup_dsp", False),
    )
