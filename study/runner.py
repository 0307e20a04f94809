"""A study: every (configuration, seed) run, each cached in the output directory as soon as
it finishes (temp file + os.replace), so an interrupted study resumes where it stopped; then
one row per configuration with its area and accuracy over the seeds."""

from __future__ import annotations

import contextlib
import hashlib
import json
import statistics
from concurrent.futures import as_completed
from dataclasses import replace
from functools import lru_cache
from pathlib import Path

from tqdm import tqdm

from lpmac.atomic_io import write_json_atomic

from .arith import FLOAT32, PASSES
from .data import load_dataset
from .train import RunSpec, train_run

CACHE_VERSION = 1  # bump when a change alters the numbers of a run with the same spec


@lru_cache(maxsize=4)
def _dataset(source: str):
    return load_dataset(source)


def run_key(spec: RunSpec, fingerprint: str) -> str:
    text = json.dumps([CACHE_VERSION, fingerprint, spec.to_json()], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def run_cached(spec: RunSpec, source: str, runs_dir: str, show_progress: bool = False) -> dict:
    """The run's result from `runs_dir`, or train it and store it there (serial path)."""
    cached = _load_cached(spec, source, runs_dir)
    if cached is not None:
        return cached
    result = train_uncached(spec, source, show_progress)
    _store(spec, source, runs_dir, result)
    return result


def _run_path(spec: RunSpec, source: str, runs_dir: str) -> Path:
    return Path(runs_dir) / f"{run_key(spec, _dataset(source).fingerprint)}.json"


def _load_cached(spec: RunSpec, source: str, runs_dir: str) -> dict | None:
    path = _run_path(spec, source, runs_dir)
    if not path.exists():
        return None
    try:
        result = json.loads(path.read_text())
    except (OSError, ValueError):
        return None  # a damaged entry is retrained and rewritten
    if not isinstance(result, dict):
        return None
    result["cached"] = True
    return result


def _store(spec: RunSpec, source: str, runs_dir: str, result: dict) -> None:
    stored = {k: v for k, v in result.items() if k != "cached"}
    # a crash never leaves a half-written result
    write_json_atomic(_run_path(spec, source, runs_dir), stored)


def train_uncached(spec: RunSpec, source: str, show_progress: bool = False) -> dict:
    """Train one run and return its result; writes nothing. A top-level function of picklable
    arguments, so any executor (processes, Dask workers on other machines) can call it: the
    client alone writes the run cache, so workers need no shared file system."""
    _single_threaded_kernels()
    data = _dataset(source)
    bar = tqdm(
        total=spec.epochs,
        desc=f"{spec.config} seed {spec.seed}",
        unit="epoch",
        leave=False,
        disable=not show_progress,
    )

    def progress(epoch, loss):
        bar.set_postfix(epoch=epoch, loss=f"{loss:.4f}")
        bar.update()

    try:
        result = train_run(spec, data, progress)
    finally:
        bar.close()
    result["dataset"] = data.name
    result["cached"] = False
    return result


def _single_threaded_kernels() -> None:
    """A training step's GEMMs are small (tens of thousands of MACs): a parallel numba region
    costs more than it saves there, ten times more on a loaded machine (measured 32x64x64
    E5M2 -> E6M5: 3 ms on one thread, 30 ms on two). Runs go in parallel instead (-j)."""
    try:
        import numba
    except ImportError:
        return
    numba.set_num_threads(1)


@contextlib.contextmanager
def _executor(scheduler: str | None, jobs: int):
    """None (serial) for one job; a local pool of `jobs` processes started with `spawn`; or
    lpmac.parallel's executor for a Dask scheduler. Not a forked pool: once numba's OpenMP
    threading layer has run in this process (the serial path, a test), fork() in it aborts
    ("fork() called from a process already using GNU OpenMP")."""
    if scheduler is None and jobs <= 1:
        yield None
        return
    from lpmac.parallel import make_executor

    with make_executor(scheduler, jobs) as pool:
        yield pool


def run_all(
    specs: list[RunSpec],
    source: str,
    out_dir: Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    progress: bool = True,
) -> list[dict]:
    """Results of every spec, in order."""
    runs_dir = Path(out_dir) / "runs"
    runs_dir.mkdir(parents=True, exist_ok=True)
    _dataset(source)  # a bad data set fails here, once, before any run starts
    results: list[dict | None] = [None] * len(specs)
    bar = tqdm(total=len(specs), desc="study", unit="run", disable=not progress)
    try:
        with _executor(scheduler, jobs) as pool:
            if pool is None:
                for i, spec in enumerate(specs):
                    results[i] = run_cached(spec, source, str(runs_dir), progress)
                    bar.update()
            else:
                todo = []
                for i, spec in enumerate(specs):
                    results[i] = _load_cached(spec, source, str(runs_dir))
                    if results[i] is None:
                        todo.append(i)
                    else:
                        bar.update()
                futures = {pool.submit(train_uncached, specs[i], source): i for i in todo}
                for future in as_completed(futures):
                    i = futures[future]
                    results[i] = future.result()
                    _store(specs[i], source, str(runs_dir), results[i])  # as each one finishes
                    bar.update()
    finally:
        bar.close()
    return results


def expand(rows: list[tuple[str, dict]], base: RunSpec, seeds: int) -> list[RunSpec]:
    """(config, overrides) rows x seeds 0..seeds-1 -> run specs."""
    return [
        replace(base, config=config, seed=seed, **overrides)
        for config, overrides in rows
        for seed in range(seeds)
    ]


def summarize(rows: list[tuple[str, dict]], results: list[dict], seeds: int) -> list[dict]:
    """One table row per study row: accuracy mean/std over seeds, training seconds, diagnostics."""
    table = []
    for r, (config, overrides) in enumerate(rows):
        runs = results[r * seeds : (r + 1) * seeds]
        accs = [100 * x["test_acc"] for x in runs]
        spec = runs[0]["spec"]
        row = {
            "config": config,
            "model": spec["model"],
            "loss_scaling": spec["loss_scaling"],
            "edge_rounding": spec["edge_rounding"],
            "batch": spec["batch"],
            "seeds": len(runs),
            "acc_mean": round(statistics.fmean(accs), 2),
            "acc_std": round(statistics.stdev(accs), 2) if len(accs) > 1 else 0.0,
            "acc_runs": [round(a, 2) for a in accs],
            "train_seconds": round(statistics.fmean(x["train_seconds"] for x in runs), 1),
            "skipped_steps": round(statistics.fmean(x["skipped_steps"] for x in runs), 1),
            "final_loss": round(statistics.fmean(x["train_loss"][-1] for x in runs), 4),
        }
        for p in PASSES:
            s = [x["stats"][p] for x in runs]
            inputs, outputs = sum(x["inputs"] for x in s), sum(x["outputs"] for x in s)
            row[f"{p}_underflow_pct"] = _pct(sum(x["underflow"] for x in s), inputs)
            row[f"{p}_saturated_pct"] = _pct(sum(x["saturated"] for x in s), outputs)
        row["overrides"] = {k: v for k, v in overrides.items()}
        table.append(row)
    for t in table:
        base = _baseline(table, t)
        t["delta_vs_float32"] = round(t["acc_mean"] - base["acc_mean"], 2) if base else None
    return table


def _baseline(table: list[dict], row: dict) -> dict | None:
    """The float32 row trained like `row` (same batch, model... overrides; loss scaling and
    edge rounding aside, which do not change float32), else the plain float32 row."""

    def training(r):
        skip = ("loss_scaling", "edge_rounding")
        return {k: v for k, v in r["overrides"].items() if k not in skip}

    floats = [t for t in table if t["config"] == FLOAT32]
    same = [t for t in floats if training(t) == training(row)]
    plain = [t for t in floats if not t["overrides"]]
    return (same or plain or [None])[0]


def _pct(part: int, whole: int) -> float | None:
    return round(100 * part / whole, 3) if whole else None
