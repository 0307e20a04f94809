"""Sweeps on a Dask cluster (lpmac.parallel): the same results as the serial run, a worker
killed mid-point, an interrupted client, and one-line errors for a bad, missing or unreachable
scheduler. Three cheap iCE40 points, a few seconds of Yosys each."""

import functools
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from lpmac import cli
from lpmac.parallel import SchedulerError, make_executor, parse_scheduler
from lpmac.synth import point_cache
from lpmac.synth.flow import flow_key
from lpmac.synth.presets import make_verilog
from lpmac.synth.sweep import Point, run_sweep, synth_point

distributed = pytest.importorskip(
    "distributed", reason='needs the extra: pip install "lpmac[dask]"'
)
cloudpickle = pytest.importorskip("cloudpickle")

POINTS = [
    Point("mul", "E4M3:cfg5", "ice40"),
    Point("fixmul", "Q6.6", "ice40"),
    Point("mul", "E5M2:cfg6", "ice40"),
]


def _same(rows):
    """Rows without the wall time, which differs from run to run."""
    return [{k: v for k, v in row.items() if k != "seconds"} for row in rows]


def _sweep(tmp: Path, **kwargs):
    return run_sweep(
        POINTS, make_verilog, tmp / "out", cache_dir=tmp / "cache", progress=False, **kwargs
    )


@pytest.fixture(scope="module")
def serial(tmp_path_factory):
    rows = _sweep(tmp_path_factory.mktemp("serial"), jobs=1)
    assert [r["status"] for r in rows] == ["ok"] * len(POINTS)
    return rows


@pytest.fixture
def cluster():
    with distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        silence_logs=logging.ERROR,
    ) as local:
        yield local


def test_local_cluster_gives_the_serial_results(serial, tmp_path):
    rows = _sweep(tmp_path, scheduler="local:2")
    assert _same(rows) == _same(serial)
    # The client wrote every point's cache entry; a re-run reads them back without a cluster.
    for point, row in zip(POINTS, rows):
        verilog, top = make_verilog(point)
        cached = point_cache.read(tmp_path / "cache", flow_key(verilog, top, target="ice40"))
        # + the derived throughput column, empty without Fmax (not stored in the cache)
        assert row == {**cached, "options": {}, "status": "ok", "mac_per_s_per_lut": None}
    assert _same(_sweep(tmp_path, jobs=1, worker=_must_not_run)) == _same(serial)


def _must_not_run(*args, **kwargs):
    raise AssertionError("a cached point was synthesized again")


def _kill_own_worker_once(marker: str, *args):
    """The first point to run kills the worker process running it; later calls synthesize."""
    try:
        fd = os.open(marker, os.O_CREAT | os.O_EXCL | os.O_WRONLY)
    except FileExistsError:
        return synth_point(*args)
    os.write(fd, str(os.getpid()).encode())
    os.close(fd)
    os.kill(os.getpid(), signal.SIGKILL)


def test_worker_killed_mid_point_loses_and_duplicates_nothing(serial, cluster, tmp_path):
    cloudpickle.register_pickle_by_value(sys.modules[__name__])  # workers cannot import tests/
    with distributed.Client(cluster, set_as_default=False) as client:
        worker_pids = set(client.run(os.getpid).values())
    marker = tmp_path / "killed"
    rows = _sweep(
        tmp_path,
        scheduler=cluster.scheduler_address,
        worker=functools.partial(_kill_own_worker_once, str(marker)),
    )
    killed = int(marker.read_text())
    assert killed in worker_pids and killed != os.getpid()
    with pytest.raises(ProcessLookupError):
        os.kill(killed, 0)
    assert _same(rows) == _same(serial)  # every point once, in order, with the serial counts
    assert len(list((tmp_path / "cache").glob("*.json"))) == len(POINTS)


_CLIENT = """
import sys
from pathlib import Path
from lpmac.synth.presets import make_verilog
from lpmac.synth.sweep import Point, run_sweep
tmp = Path(sys.argv[1])
points = [Point(u, c, "ice40") for u, c in {points}]
run_sweep(points, make_verilog, tmp / "out", jobs=1, cache_dir=tmp / "cache", progress=False)
"""


def test_interrupted_client_keeps_finished_points_and_resumes(serial, tmp_path):
    code = _CLIENT.format(points=[(p.unit, p.config) for p in POINTS])
    proc = subprocess.Popen([sys.executable, "-c", code, str(tmp_path)], stderr=subprocess.PIPE)
    cache = tmp_path / "cache"
    deadline = time.monotonic() + 300  # only so that a broken sweep cannot hang the suite
    while not list(cache.glob("*.json")) and proc.poll() is None:
        assert time.monotonic() < deadline, "no point finished"
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)  # Ctrl-C
    _, err = proc.communicate(timeout=120)
    assert proc.returncode != 0 and b"KeyboardInterrupt" in err
    kept = list(cache.glob("*.json"))
    assert 1 <= len(kept) < len(POINTS)
    assert not list(cache.glob(".*.tmp"))
    for entry in kept:
        assert point_cache.read(cache, entry.stem) is not None

    calls = []

    def counting(*args):
        calls.append(args[3:5])
        return synth_point(*args)

    rows = _sweep(tmp_path, jobs=1, worker=counting)
    assert _same(rows) == _same(serial)
    assert len(calls) == len(POINTS) - len(kept)  # the re-run only did what was missing


# --- one-line errors ------------------------------------------------------------------------
@pytest.mark.parametrize(
    "scheduler",
    ["", "locale", "local:", "local:0", "local:-1", "local:2.5", "local:999", "tcp://host",
     "tcp://:8786", "http://host:8786", "tcp://host:0", "tcp://host:70000", "host:8786", 3],
)  # fmt: skip
def test_bad_scheduler_names_the_valid_forms(scheduler):
    with pytest.raises(SchedulerError) as info:
        parse_scheduler(scheduler, 2)
    message = str(info.value)
    assert "'local:N'" in message and "tcp://host:port" in message and "\n" not in message


@pytest.mark.parametrize("jobs", [0, -1, 1.5, True, "2"])
def test_bad_jobs(jobs):
    with pytest.raises(SchedulerError, match="jobs must be an integer >= 1"):
        parse_scheduler(None, jobs)


def test_good_scheduler_forms():
    assert parse_scheduler(None, 3) == ("pool", 3)
    assert parse_scheduler("local", 3) == ("local", 3)
    assert parse_scheduler("local:4", 3) == ("local", 4)
    assert parse_scheduler(" tcp://10.0.0.5:8786 ", 1) == ("address", "tcp://10.0.0.5:8786")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_unreachable_scheduler_is_one_line(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"  # nothing listens there
    with pytest.raises(SchedulerError) as info:
        with make_executor(address, 1, connect_timeout=2):
            pass
    assert f"cannot reach the Dask scheduler {address}: " in str(info.value)
    assert "\n" not in str(info.value)


def test_a_port_that_is_not_dask_is_one_line():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        address = f"tcp://127.0.0.1:{server.getsockname()[1]}"

        def answer_http():
            conn, _ = server.accept()
            with conn:
                conn.sendall(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n" * 4)
                conn.recv(1)  # stay open until the client gives up

        thread = threading.Thread(target=answer_http, daemon=True)
        thread.start()
        with pytest.raises(SchedulerError) as info:
            with make_executor(address, 1, connect_timeout=5):
                pass
    assert f"cannot reach the Dask scheduler {address}: " in str(info.value)
    assert "\n" not in str(info.value)


def test_missing_dask_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "distributed", None)  # import distributed -> ImportError
    with pytest.raises(SchedulerError, match=r'pip install "lpmac\[dask\]"'):
        with make_executor("local:2", 1):
            pass


def test_local_pool_kinds():
    with make_executor(None, 2, threads=True) as pool:
        assert pool.submit(os.getpid).result() == os.getpid()
    with make_executor(None, 2) as pool:
        assert pool.submit(os.getpid).result() != os.getpid()


@pytest.mark.parametrize(
    "argv, message",
    [
        (["sweep", "seed-mult", "--scheduler", "local:0"], "expected 'local', 'local:N'"),
        (["sweep", "seed-mult", "--scheduler", "dask"], "unknown scheduler 'dask'"),
        (["sweep", "seed-mult", "-j", "2", "--scheduler", "tcp://x"], "unknown scheduler"),
    ],
)
def test_sweep_command_refuses_a_bad_scheduler(argv, message, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and message in err and len(err.strip().splitlines()) == 1
    assert not (tmp_path / "out").exists()
