"""One executor seam for sweeps and studies: a local pool, or a Dask cluster.

`make_executor(scheduler, jobs)` yields a `concurrent.futures.Executor`:
- `None`: the local pool of `jobs` workers (threads with `threads=True`, for work that is a
  subprocess anyway, such as a Yosys run; processes otherwise);
- `"local"` or `"local:N"`: a `dask.distributed.LocalCluster` of N worker processes (N = `jobs`
  when omitted), one thread each, closed on exit;
- `"tcp://host:port"` (or `tls://`): an existing Dask scheduler (`dask scheduler`).

Dask is an optional extra (`pip install "lpmac[dask]"`) and is imported only when asked for.
Functions given to a Dask executor must be picklable (top-level functions of plain values).
A worker process that dies mid-task is replaced and its task rerun by the scheduler.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import re
from collections.abc import Iterator
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor

from .errors import LpmacError

__all__ = ["SchedulerError", "parse_scheduler", "make_executor", "CONNECT_TIMEOUT"]

FORMS = "'local', 'local:N' (N worker processes, 1..256), or a scheduler address tcp://host:port"
CONNECT_TIMEOUT = 10.0  # seconds before an unreachable scheduler is reported
_MAX_LOCAL_WORKERS = 256
_ADDRESS = re.compile(r"^(tcp|tls)://[^\s/:]+:\d{1,5}$")
_EXTRA = 'pip install "lpmac[dask]"'


class SchedulerError(LpmacError, ValueError):
    """A scheduler string that names no executor, a missing Dask, or an unreachable cluster."""


def parse_scheduler(scheduler: str | None, jobs: int = 1) -> tuple[str, int | str | None]:
    """("pool", jobs), ("local", n_workers) or ("address", address); one-line errors."""
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise SchedulerError(f"jobs must be an integer >= 1, got {jobs!r}")
    if scheduler is None:
        return "pool", jobs
    if not isinstance(scheduler, str):
        raise SchedulerError(f"scheduler must be a string ({FORMS}), got {scheduler!r}")
    text = scheduler.strip()
    if text == "local":
        return "local", jobs
    if text.startswith("local:"):
        count = text.removeprefix("local:")
        if not count.isdigit() or not 1 <= int(count) <= _MAX_LOCAL_WORKERS:
            raise SchedulerError(f"scheduler {scheduler!r}: expected {FORMS}")
        return "local", int(count)
    if _ADDRESS.match(text) and 0 < int(text.rsplit(":", 1)[1]) < 65536:
        return "address", text
    raise SchedulerError(f"unknown scheduler {scheduler!r}: expected {FORMS}")


def _distributed():
    try:
        import distributed
    except ImportError:
        raise SchedulerError(f"--scheduler needs Dask: {_EXTRA}") from None
    return distributed


@contextlib.contextmanager
def _closing(executor: Executor) -> Iterator[Executor]:
    """Wait for the work on a normal exit; on an exception (Ctrl-C included) drop what has not
    started, so finished results are kept and nothing new begins."""
    try:
        yield executor
    except BaseException:
        if isinstance(executor, (ThreadPoolExecutor, ProcessPoolExecutor)):
            executor.shutdown(wait=True, cancel_futures=True)
        else:
            executor.shutdown(wait=False)  # Dask: cancels what is pending or running
        raise
    executor.shutdown(wait=True)


@contextlib.contextmanager
def make_executor(
    scheduler: str | None,
    jobs: int = 1,
    *,
    threads: bool = False,
    connect_timeout: float = CONNECT_TIMEOUT,
) -> Iterator[Executor]:
    """A `concurrent.futures.Executor` for `scheduler` (see the module docstring), closed on
    exit. Raises SchedulerError (a ValueError) for a bad string, a missing Dask or a scheduler
    that does not answer within `connect_timeout` seconds."""
    kind, value = parse_scheduler(scheduler, jobs)
    if kind == "pool":
        if threads:
            pool = ThreadPoolExecutor(max_workers=value)
        else:
            # spawn, not fork: fork() aborts in a process that has run numba's OpenMP threads
            pool = ProcessPoolExecutor(value, mp_context=multiprocessing.get_context("spawn"))
        with _closing(pool) as pool:
            yield pool
        return
    distributed = _distributed()
    if kind == "local":
        with _local_client(distributed, value) as client, _closing(_executor(client)) as pool:
            yield pool
        return
    try:
        # A probe first: a Client that fails half-way leaves a finalizer that blocks for 20 s.
        _probe(value, connect_timeout)
        client = distributed.Client(value, timeout=connect_timeout, set_as_default=False)
    except Exception as err:  # refused, timed out, or something that is not Dask answered
        if isinstance(err, TimeoutError):
            reason = f"no answer within {connect_timeout:g} s"
        elif isinstance(err, OSError):
            reason = str(err).splitlines()[0] if str(err) else type(err).__name__
        else:
            reason = "what answered there does not speak Dask's protocol"
        raise SchedulerError(
            f"cannot reach the Dask scheduler {value}: {reason}; "
            "is `dask scheduler` running there and the port open?"
        ) from None
    with client, _closing(_executor(client)) as pool:
        yield pool


def _probe(address: str, timeout: float) -> None:
    """Open and close one Dask connection (handshake included) within `timeout` seconds."""
    from distributed.comm import connect

    async def attempt():
        comm = await asyncio.wait_for(connect(address, timeout=timeout), timeout)
        await comm.close()

    # In a thread of its own, so that a caller already inside an event loop (Jupyter) can wait.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, attempt()).result()


@contextlib.contextmanager
def _local_client(distributed, n_workers: int):
    # No dashboard: a second sweep on the same machine would fight for port 8787.
    cluster = distributed.LocalCluster(
        n_workers=n_workers,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    )
    with cluster, distributed.Client(cluster, set_as_default=False) as client:
        yield client


def _executor(client) -> Executor:
    # pure=False: a task is never merged with another client's task of the same arguments.
    return client.get_executor(pure=False)
