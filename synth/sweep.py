"""Generic design-space sweep: synthesize many points in parallel, cache each result, report.

Verilog is generated in the calling thread (generators need not be thread-safe or picklable);
Yosys runs in worker threads, each around a subprocess, so `jobs` gives real parallelism.
Each finished point is written to the cache at once, so an interrupted sweep loses nothing and
a re-run only synthesizes the missing points. Failures are recorded, not cached: the next run
retries them.
"""

from __future__ import annotations

import json
import os
import traceback
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from .flow import TARGETS, SynthError, cache_root, flow_key, synthesize
from .report import NUMERIC_FIELDS, write_reports

_SYNTH_OPTIONS = ("use_dsp", "extra_script", "fmax")


@dataclass(frozen=True)
class Point:
    """One thing to synthesize. `options` holds (name, value) pairs of `synthesize` keywords,
    e.g. `(("use_dsp", False),)`; the generator sees the whole point."""

    unit: str
    config: str
    target: str = "xcup"
    options: tuple = ()

    def __post_init__(self):
        if self.target not in TARGETS:
            raise ValueError(
                f"unknown target {self.target!r}; expected one of {', '.join(TARGETS)}"
            )
        for name, _ in self.options:
            if name not in _SYNTH_OPTIONS:
                raise ValueError(
                    f"unknown option {name!r}; expected one of {', '.join(_SYNTH_OPTIONS)}"
                )


def _row(point: Point, status: str, result: dict | None = None, error: str = "") -> dict:
    row = {
        "unit": point.unit,
        "config": point.config,
        "target": point.target,
        "options": dict(point.options),
        "status": status,
    }
    if result is not None:
        row.update({k: v for k, v in result.items() if k not in ("unit", "config", "target")})
    if error:
        row["error"] = error
    return row


def _tail(exc: BaseException, lines: int = 20) -> str:
    if isinstance(exc, SynthError):
        return str(exc)  # already ends with the tool's log tail
    return "\n".join("".join(traceback.format_exception(exc)).strip().splitlines()[-lines:])


def _write_atomic(path: Path, data: dict) -> None:
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(data, indent=1))
    tmp.replace(path)  # a crash never leaves a half-written cache entry


def _add_reference(row: dict, ref: dict) -> None:
    """Add the caller's columns; `ref_<field>` for a numeric field also yields `<field>_ratio`."""
    row.update(ref)
    for key, value in ref.items():
        name = key.removeprefix("ref_")
        if key.startswith("ref_") and name in NUMERIC_FIELDS:
            ours = row.get(name)
            row[f"{name}_ratio"] = round(ours / value, 3) if ours is not None and value else None


def cached_synthesize(verilog: str, top: str, *, cache_dir: Path | None = None, **options) -> dict:
    """`synthesize(verilog, top, **options).to_json()` through the sweep's result cache: a run
    with the same Verilog, flow script and tool versions is read back instead of repeated."""
    cache_dir = cache_dir or cache_root() / "sweep"
    cache_dir.mkdir(parents=True, exist_ok=True)
    flow = {k: v for k, v in options.items() if k in ("target", *_SYNTH_OPTIONS)}
    cache_file = cache_dir / f"{flow_key(verilog, top, **flow)}.json"
    if cache_file.exists():
        return json.loads(cache_file.read_text())
    result = synthesize(verilog, top, **options).to_json()
    _write_atomic(cache_file, result)
    return result


def run_sweep(
    points: list[Point],
    make_verilog: Callable[[Point], tuple[str, str]],
    out_dir: Path,
    *,
    jobs: int = 1,
    cache_dir: Path | None = None,
    progress: bool = True,
    reference: Callable[[Point], dict] | None = None,
    post: Callable[[list[dict]], None] | None = None,
    header: str = "",
) -> list[dict]:
    """Synthesize every point and write results.{csv,json,md,png} into `out_dir`.

    `make_verilog(point)` returns `(verilog, top)`. `reference(point)`, if given, returns extra
    columns (e.g. `{"ref_luts": 120}`, which also adds `luts_ratio` = ours / reference).
    `post(rows)` may add derived columns before the reports are written; `header` opens results.md.
    Returns one row per point, in order, with `status` "ok" or "failed" (plus `error`).
    The cache defaults to `cache_root()/sweep`.
    """
    cache_dir = cache_dir or cache_root() / "sweep"
    cache_dir.mkdir(parents=True, exist_ok=True)
    rows: list[dict | None] = [None] * len(points)
    pending: list[tuple[int, Future]] = []
    running: dict[str, Future] = {}  # by cache key, so duplicate points synthesize once

    def synth_and_cache(verilog: str, top: str, point: Point) -> dict:
        return cached_synthesize(
            verilog,
            top,
            cache_dir=cache_dir,
            target=point.target,
            unit=point.unit,
            config=point.config,
            **dict(point.options),
        )

    bar = tqdm(total=len(points), desc="synth", unit="pt", disable=not progress)
    pool = ThreadPoolExecutor(max_workers=jobs)
    try:
        for i, point in enumerate(points):
            try:
                verilog, top = make_verilog(point)
                key = flow_key(verilog, top, target=point.target, **dict(point.options))
            except Exception as exc:
                rows[i] = _row(point, "failed", error=_tail(exc))
                bar.update()
                continue
            cache_file = cache_dir / f"{key}.json"
            if cache_file.exists():
                rows[i] = _row(point, "ok", json.loads(cache_file.read_text()))
                bar.update()
                continue
            if key not in running:
                running[key] = pool.submit(synth_and_cache, verilog, top, point)
            running[key].add_done_callback(lambda _: bar.update())
            pending.append((i, running[key]))
        for i, future in pending:
            try:
                rows[i] = _row(points[i], "ok", future.result())
            except Exception as exc:
                rows[i] = _row(points[i], "failed", error=_tail(exc))
    finally:
        pool.shutdown(
            cancel_futures=True
        )  # on Ctrl-C: drop queued points, finished ones are cached
        bar.close()

    if reference is not None:
        for point, row in zip(points, rows):
            _add_reference(row, reference(point))
    if post is not None:
        post(rows)
    write_reports(rows, out_dir, header)
    return rows
