"""Bad command lines (docs/reliability.md#command-line): every one ends with exit code 2 and one
line `lpmac: error: ...` naming the problem, no traceback, nothing written, and no tool
started. Refusals happen before any work, so the whole file runs in seconds: no synthesis,
no simulation, no Verilog conversion (each is replaced by a function that fails the test).
A few run as real subprocesses, with a timeout, to check the installed entry point.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from lpmac import cli

CASES = []


def case(message: str, *argv: str) -> None:
    CASES.append(pytest.param(list(argv), message, id=" ".join(argv)[:80]))


NOT_A_FOLDER = "/etc/passwd/out"  # a path under a regular file: unwritable even for root
VALUES = "is not in the range"

# fmt: off
# --- generate: formats, presets, names, outputs, sizes, types ------------------------------
G = ("generate", "mul", "--fmt", "E5M2")
case("exponent bits must be in 2..8", "generate", "mul", "--fmt", "E9M2", "-o", "x.v")
case("exponent bits must be in 2..8", "generate", "mul", "--fmt", "E1M2", "-o", "x.v")
case("fraction bits must be in 1..23", "generate", "mul", "--fmt", "E5M0", "-o", "x.v")
case("fraction bits must be in 1..23", "generate", "mul", "--fmt", "E5M24", "-o", "x.v")
case("unknown format", "generate", "mul", "--fmt", "fp8", "-o", "x.v")
case("unknown format", "generate", "mul", "--fmt", "E5.2", "-o", "x.v")
case("empty format name", "generate", "mul", "--fmt", "", "-o", "x.v")
case("Missing option '--fmt'", "generate", "mul", "-o", "x.v")
case("Missing option '-o'", *G)
for bad in ("-1", "0", "7", "01", "cfg 1", "1.0", "six", "cfg-0", "CFG--1", ""):
    case("valid presets are 1..6", *G, "--cfg", bad, "-o", "x.v")
for bad in ("bad name", "1abc", "a-b", "", "x.y", "top$", "ünïcode", "a" * 1025):
    case("not a Verilog identifier" if len(bad) < 1025 else "over 1024", *G, "--name", bad,
         "-o", "x.v")
for keyword in ("module", "wire", "always", "logic"):
    case("is a Verilog keyword", *G, "--name", keyword, "-o", "x.v")
for out in ("x.json", "x", "x.txt", "x.V.json", "dir/x.vhd"):
    case("must end in .v or .sv", *G, "-o", out)
case("is a file, not a folder", *G, "-o", f"{NOT_A_FOLDER}/x.v")
case("is a directory", *G, "-o", ".")
case(VALUES, *G, "--latency", "9", "-o", "x.v")
case(VALUES, *G, "--latency", "-1", "-o", "x.v")
case("is not a valid integer", *G, "--latency", "two", "-o", "x.v")
case("is not one of", *G, "--round", "up", "-o", "x.v")
case("is not one of", *G, "--sub-in", "maybe", "-o", "x.v")
case("is not one of", *G, "--sub-out", "maybe", "-o", "x.v")
case("No such option", *G, "--fmax", "-o", "x.v")
case("No such command", "generate", "adder", "-o", "x.v")
case("must be a fixed-point format", "generate", "fixmul", "--fmt", "E5M2", "-o", "x.v")
case("fixed integer bits i", "generate", "fixmul", "--fmt", "Q0.8", "-o", "x.v")
case("fixed width i+f must be in 2..32", "generate", "fixmul", "--fmt", "Q20.20", "-o", "x.v")
case("is not one of", "generate", "fixmul", "--fmt", "Q8.8", "--round", "sr", "-o", "x.v")
case("exponent bits must be in 2..8", "generate", "acc", "--config", "E9M5", "-o", "x.v")
case("given twice", "generate", "acc", "--config", "E6M5:sr,bits=8,bits=4", "-o", "x.v")
case("more than one of the rounding modes", "generate", "acc", "--config", "E6M5:rz,rne",
     "-o", "x.v")
case("seed", "generate", "acc", "--config", "E6M5:sr,seed=0", "-o", "x.v")
case("bits", "generate", "acc", "--config", "E6M5:sr,bits=99", "-o", "x.v")
case("--in applies to float accumulators", "generate", "acc", "--config", "Q8.13", "--in",
     "E5M2", "-o", "x.v")
case("latency follows from its width", "generate", "acc", "--config", "E6M5:long",
     "--latency", "2", "-o", "x.v")
case("not in the range 1<=x<=8", "generate", "acc", "--config", "E6M5", "--latency", "0",
     "-o", "x.v")
case("not in the range 1<=x<=8", "generate", "mac", "--config", "E5M2:cfg5+E6M5",
     "--latency", "9", "-o", "x.v")
case("MUL+ACC", "generate", "mac", "--config", "E5M2:cfg5", "-o", "x.v")
case("valid presets are 1..6", "generate", "mac", "--config", "E5M2:cfg9+E6M5", "-o", "x.v")
case("rounding must be rne or rz", "generate", "convert", "--from", "fp32", "--to", "Q8.13",
     "--round", "sr", "-o", "x.v")
case("fixed->fixed", "generate", "convert", "--from", "Q8.8", "--to", "Q4.4", "-o", "x.v")
case("tobfp and frombfp", "generate", "convert", "--from", "BFP8/4", "--to", "fp32", "-o", "x.v")
case("fixed->float supports", "generate", "convert", "--from", "Q8.8", "--to", "fp32",
     "--round", "sr", "-o", "x.v")
case("Missing option '--to'", "generate", "convert", "--from", "fp32", "-o", "x.v")
case("tobfp too large to generate", "generate", "tobfp", "--fmt", "fp32", "--bfp",
     "BFP24/4096", "-o", "t.v")
case("BFP block length T", "generate", "tobfp", "--fmt", "fp32", "--bfp", "BFP8/0", "-o", "t.v")
case("must be a block floating-point format", "generate", "tobfp", "--fmt", "fp32", "--bfp",
     "E5M2", "-o", "t.v")
case("frombfp too large to generate", "generate", "frombfp", "--bfp", "BFP8/4096", "-o", "t.v")
case("BFP element bits m", "generate", "frombfp", "--bfp", "BFP1/8", "-o", "t.v")
case("gemm too large to generate", "generate", "gemm", "--rows", "64", "--cols", "64", "--mant",
     "8", "--tile", "4096", "-o", "g.v")
case("gemm too large to generate", "generate", "gemm", "--rows", "64", "--cols", "64", "-o",
     "g.v")
case("gemm too large to generate", "generate", "gemm", "--tile", "1024", "-o", "g.v")
case(VALUES, "generate", "gemm", "--rows", "0", "-o", "g.v")
case(VALUES, "generate", "gemm", "--cols", "65", "-o", "g.v")
case(VALUES, "generate", "gemm", "--mant", "1", "-o", "g.v")
case(VALUES, "generate", "gemm", "--tile", "5000", "-o", "g.v")
case("is not a floating-point format", "generate", "gemm", "--in", "Q8.8", "-o", "g.v")
case("is not one of", "generate", "gemm", "--round", "up", "-o", "g.v")
case("array too large to generate", "generate", "array", "--rows", "64", "--cols", "64",
     "--config", "E5M2:cfg5+E6M5", "-o", "a.v")
case("MUL+ACC", "generate", "array", "--config", "E5M2", "-o", "a.v")
case(VALUES, "generate", "array", "--rows", "0", "--config", "E5M2:cfg5+E6M5", "-o", "a.v")
case("system too large to generate", "generate", "system", "--rows", "64", "--cols", "64",
     "--config", "E5M2:cfg5+E6M5", "-o", "s.v")
case("exponent bits must be in 2..8", "generate", "system", "--config", "E5M2:cfg5+E9M5",
     "-o", "s.v")

# --- synth ----------------------------------------------------------------------------------
case("exponent bits must be in 2..8", "synth", "mul", "--fmt", "E9M2")
case("valid presets are 1..6", "synth", "mul", "--fmt", "E5M2", "--cfg", "-1")
case("is not one of", "synth", "mul", "--fmt", "E5M2", "--target", "vu9p")
case("--fmax needs --target ecp5", "synth", "mul", "--fmt", "E5M2", "--fmax")
case("gemm too large to synth", "synth", "gemm", "--rows", "32", "--cols", "32")
case("array too large to synth", "synth", "array", "--rows", "16", "--cols", "16", "--config",
     "E5M2:cfg5+E6M5")
case("system too large to synth", "synth", "system", "--rows", "64", "--cols", "64",
     "--config", "E5M2:cfg5+E6M5")
case("tobfp too large to synth", "synth", "tobfp", "--fmt", "fp32", "--bfp", "BFP8/512")
case("must be a fixed-point format", "synth", "fixmul", "--fmt", "fp16")
case("MUL+ACC", "synth", "mac", "--config", "E5M2+")

# --- sim --------------------------------------------------------------------------------------
S = ("sim", "mul", "--fmt", "E4M3")
case("over the limit of 16,777,216", *S, "--vectors", "1000000000000")
case("over the limit of 16,777,216", *S, "--vectors", "16_777_217")
for bad in ("0", "-5", "1e6", "abc", "", "1.5", "١٢"):
    case("--vectors takes a positive count", *S, "--vectors", bad)
case("exhaustive runs take at most 24 bits", "sim", "mul", "--fmt", "fp16", "--vectors",
     "exhaustive")
case(VALUES, *S, "--lanes", "0")
case(VALUES, *S, "--lanes", "2000")
case(VALUES, *S, "--seed", "-1")
case("is not a valid integer", *S, "--seed", "x")
case("is not one of", *S, "--simulator", "modelsim")
case("--matrices applies to gemm only", *S, "--matrices", "3")
case("gemm takes --matrices, not --vectors", "sim", "gemm", "--vectors", "5")
case(VALUES, "sim", "gemm", "--matrices", "0")
case(VALUES, "sim", "gemm", "--matrices", "5000")
case("gemm too large to sim", "sim", "gemm", "--rows", "64", "--cols", "64")
case("no co-simulation bench for array", "sim", "array", "--config", "E5M2:cfg5+E6M5")
case("system too large to sim", "sim", "system", "--rows", "64", "--cols", "64", "--config",
     "E5M2:cfg5+E6M5")
case("tobfp too large to sim", "sim", "tobfp", "--fmt", "fp32", "--bfp", "BFP8/1024")
case("rounding must be rne or rz", "sim", "convert", "--from", "fp32", "--to", "Q8.13",
     "--round", "sr")
case("MUL+ACC", "sim", "mac", "--config", "E5M2:cfg5")

# --- sweep ----------------------------------------------------------------------------------
case("name a preset", "sweep")
case("unknown preset 'seed-nope'", "sweep", "seed-nope")
case("not both", "sweep", "seed-mult", "--unit", "mul")
case("a preset defines its own points", "sweep", "seed-mult", "--fmt", "E5M2")
case("valid presets are 1..6", "sweep", "--unit", "mul", "--fmt", "E4M3", "--cfg", "0-9")
case("expected numbers like 1-6", "sweep", "--unit", "mul", "--fmt", "E4M3", "--cfg", "one")
case("a span holds at most 1024", "sweep", "--unit", "mul", "--fmt", "E4M3", "--cfg",
     "1-999999999")
case("exponent bits must be in 2..8", "sweep", "--unit", "acc", "--config", "E9M1")
case("nothing to sweep", "sweep", "--unit", "acc")
case("--cfg applies to --unit mul", "sweep", "--unit", "acc", "--config", "E6M5", "--cfg", "1")
case("unknown target 'vu9p'", "sweep", "seed-acc", "--target", "vu9p")
case("unknown target", "sweep", "seed-acc", "--target", ",")
case("--fmax needs ecp5", "sweep", "seed-mac", "--fmax")
case(VALUES, "sweep", "seed-mult", "-j", "0")
case(VALUES, "sweep", "seed-mult", "-j", "100")
case("is not one of", "sweep", "--unit", "adder", "--fmt", "E5M2")
case("gemm too large to synth", "sweep", "--unit", "gemm", "--config", "64x64:BFP8/24")
case("must be RxC", "sweep", "--unit", "gemm", "--config", "16:BFP8/24")
case("is a file, not a folder", "sweep", "seed-mult", "-o", NOT_A_FOLDER)
case("is a file, not a folder", "sweep", "--unit", "mul", "--fmt", "E5M2", "-o", NOT_A_FOLDER)

# --- run ----------------------------------------------------------------------------------------
case("exponent bits must be in 2..8", "run", "E5M2:cfg5+E9M5")
case("MUL+ACC", "run", "E5M2:cfg5")
case("step count", "run", "E5M2:cfg5+E6M5", "--vectors", "exhaustive")
case("not in the range 1<=x<=8", "run", "E5M2:cfg5+E6M5", "--latency", "0")
case("over the limit of 16,777,216", "run", "E5M2:cfg5+E6M5", "--vectors", "99999999999")
case("--vectors takes a positive count", "run", "E5M2:cfg5+E6M5", "--vectors", "0")
case("is a file, not a folder", "run", "E5M2:cfg5+E6M5", "-o", NOT_A_FOLDER)
case("is not one of", "run", "E5M2:cfg5+E6M5", "--target", "vu9p")
case("Missing argument 'CONFIG'", "run")
case("--fmax needs --target ecp5", "run", "E5M2:cfg5+E6M5", "--fmax")
case("--fmax needs --target ecp5", "run", "E5M2:cfg5+E6M5", "--fmax", "--target", "xc7")
case("drop --no-synth", "run", "E5M2:cfg5+E6M5", "--fmax", "--target", "ecp5", "--no-synth")

# --- golden -----------------------------------------------------------------------------------
case("over the limit of 65,536", "golden", "table", "fp32", "--field", "all")
case("over the limit of 65,536", "golden", "table", "fp32")
case("over the limit of 65,536", "golden", "table", "tf32", "--field", "all")
case("over the limit of 65,536", "golden", "table", "E11M52", "--field", "0")
case("exponent fields of E5M2 are 0..31", "golden", "table", "E5M2", "--field", "99")
case("exponent fields of E5M2 are 0..31", "golden", "table", "E5M2", "--field", "-1")
case("--field takes numbers", "golden", "table", "E5M2", "--field", "x")
case("exponent bits", "golden", "table", "E12M2")
case("is not one of", "golden", "table", "E5M2", "--sub-in", "maybe")
case("valid presets are 1..6", "golden", "mul", "E5M2:cfg9", "1", "2")
case("is not a valid float", "golden", "mul", "E5M2:cfg1", "abc", "2")
case("Missing argument", "golden", "mul", "E5M2:cfg1", "1")

# --- study --------------------------------------------------------------------------------------
case("exponent bits must be in 2..8", "study", "--config", "E9M2:cfg1+E6M5", "--no-synth")
case("is not 'seed-train'", "study", "nope")
case(VALUES, "study", "--epochs", "0", "--config", "float32")
case(VALUES, "study", "--seeds", "0", "--config", "float32")
case("nothing to study", "study")
case("not both", "study", "seed-train", "--config", "float32")
case("is not one of", "study", "--model", "transformer", "--config", "float32")
case("is a file, not a folder", "study", "--config", "float32", "--no-synth", "-o",
     NOT_A_FOLDER)
# fmt: on


def _forbid_work(monkeypatch):
    """Every tool and every expensive step fails the test if a refusal comes too late."""
    from lpmac.hdl import generate
    from lpmac.sim import runner
    from lpmac.synth import flow, sweep

    def must_not_run(*args, **kwargs):
        raise AssertionError("work started for a bad input")

    for module, name in (
        (runner, "build"),
        (flow, "synthesize"),
        (sweep, "run_sweep"),
        (generate, "to_verilog"),
        (generate, "write"),
    ):
        monkeypatch.setattr(module, name, must_not_run)
    import lpmac.study.runner as study_runner

    monkeypatch.setattr(study_runner, "run_all", must_not_run)


@pytest.mark.parametrize("argv, message", CASES)
def test_bad_command_line(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("LPMAC_SIMULATOR", raising=False)
    _forbid_work(monkeypatch)
    with pytest.raises(SystemExit) as exit_info:
        cli.main(argv)
    out, err = capsys.readouterr()
    assert exit_info.value.code == 2, (out, err)
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpmac: error: "), err
    assert message in lines[0], lines[0]
    assert "Traceback" not in out + err
    assert list(tmp_path.iterdir()) == [], "a refused command wrote files"


def test_enough_cases():
    assert len(CASES) >= 100
    commands = {argv[0] for argv, _ in (c.values[:2] for c in CASES)}
    assert commands == {"generate", "synth", "sim", "sweep", "run", "golden", "study"}


SUBPROCESS_CASES = [
    (["generate", "mul", "--fmt", "E5M2", "--name", "bad name", "-o", "bad.v"], "identifier"),
    (["generate", "mul", "--fmt", "E5M2", "-o", "x.json"], "must end in .v or .sv"),
    (["sim", "mul", "--fmt", "E4M3", "--vectors", "1000000000000"], "over the limit"),
    (["golden", "table", "fp32", "--field", "all"], "over the limit of 65,536"),
    (["generate", "gemm", "--rows", "64", "--cols", "64", "--tile", "4096", "-o", "g.v"], "large"),
    (["sim", "gemm", "--rows", "64", "--cols", "64"], "gemm too large to sim"),
]


@pytest.mark.parametrize("argv, message", SUBPROCESS_CASES, ids=[a[1] for a, _ in SUBPROCESS_CASES])
def test_bad_command_line_in_a_process(argv, message, tmp_path):
    """The installed entry point, in its own process, refuses within the timeout."""
    env = {k: v for k, v in os.environ.items() if k != "LPMAC_SIMULATOR"}
    proc = subprocess.run(
        [sys.executable, "-m", "lpmac.cli", *argv],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lpmac: error: ") and message in lines[0]
    assert "Traceback" not in proc.stdout + proc.stderr
    assert list(Path(tmp_path).iterdir()) == []


def _commands():
    import click

    def walk(command, path):
        yield path, command
        if isinstance(command, click.Group):
            ctx = click.Context(command)
            for name in command.list_commands(ctx):
                yield from walk(command.get_command(ctx, name), [*path, name])

    return list(walk(cli.cli, []))


@pytest.mark.parametrize("path", [p for p, _ in _commands()], ids=" ".join)
def test_every_option_appears_in_help(path, capsys):
    """`lpmac ... --help` lists every option of the command (--simulator and --matrices on
    `sim mul` were missing once)."""
    import click

    command = dict((tuple(p), c) for p, c in _commands())[tuple(path)]
    with pytest.raises(SystemExit) as exit_info:
        cli.main([*path, "--help"])
    out, _ = capsys.readouterr()
    assert exit_info.value.code == 0
    for param in command.params:
        if isinstance(param, click.Option):
            assert all(opt in out for opt in param.opts), (param.opts, out)


def test_synth_label_keeps_the_users_format(monkeypatch, capsys):
    """`synth mul --fmt fp16` reports fp16:cfg1 (not E5M10:cfg1); the module stays canonical."""
    from lpmac.synth import flow

    seen = {}

    def fake_synthesize(verilog, top, **kwargs):
        seen.update(kwargs, top=top)
        raise flow.SynthError("stopped by the test")

    monkeypatch.setattr(flow, "synthesize", fake_synthesize)
    with pytest.raises(SystemExit):
        cli.main(["synth", "mul", "--fmt", "fp16", "--cfg", "CFG-5"])
    capsys.readouterr()
    assert seen["config"] == "fp16:cfg5" and seen["top"] == "mul_E5M10_cfg5"
