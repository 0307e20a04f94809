"""The registry of units: each unit the command line, the sweeps and the benches know is
declared here once, as one `UnitSpec`.

A spec holds what every layer needs about a unit, by value where the core can hold it
(command-line options, configuration parsers, synthesis defaults, sweep axes) and by
reference ("module:attribute" strings) where it lives in a higher layer (the hdl builder,
the cocotb bench, the golden function), so the core never imports `golden`, `hdl` or `sim`:
the layer that needs a reference loads it (`load`). Tests and plug-ins may pass callables
instead of strings.

    lpmac.units            the built-in units (mul, fixmul, acc, mac, convert, ...), and
                           the entry the layers above use: importing it declares them
    lpmac.hdl.generate     build(kind, **kwargs) -> spec.builder
    lpmac.sim.benches      run_bench(kind, ...) -> spec.bench, or the generic bench
    lpmac.cli              one `generate|sim|synth <unit>` command per spec
    lpmac.synth.presets    grid sweeps: spec.grid, spec.synth_defaults
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from .errors import ConfigError

__all__ = ["UnitSpec", "register", "unregister", "get", "names", "specs", "load"]

Reference = str | Callable  # "package.module:attribute", or the object itself


@dataclass(frozen=True)
class UnitSpec:
    """Everything the layers above the core need to know about one unit.

    * `options()` -> fresh click options of `lpmac generate|sim|synth <name>`;
      `resolve(**values)` turns their values into the builder's keyword arguments.
    * `parse_point(config, use_dsp)` -> the same keyword arguments from one configuration
      string (sweep points, `lpmac run`); `example` shows one such string.
    * `builder(**kwargs)` -> `lpmac.hdl.generate.Unit` (component, module name, config).
    * `bench(unit, verilog, *, vectors, rng, lanes, simulator, **kwargs)` -> BenchResult;
      None: the generic elementwise bench of `lpmac.sim.benches`, which drives every input
      port with random (or all) values and compares every output port with
      `golden(inputs, **kwargs)` -> {output port: expected bits}.
    * `clocked`: the unit has clk/rst ports whatever its latency (accumulators, arrays).
    * `synth_defaults`: synthesis options the unit takes (`use_dsp`) with their defaults.
    * `grid(fmts, cfgs)` -> configuration strings of a sweep grid `--fmt ... --cfg ...`;
      `cfg_axis` says whether `--cfg` applies.
    * `sim_runner(kwargs, *, matrices, seed, simulator)` -> result with `.ok`, `.summary()`:
      `lpmac sim` for a unit that is not checked vector by vector (gemm); `sim_options` are
      the `lpmac sim` options it reads instead of --vectors/--lanes."""

    name: str
    help: str
    options: Callable[[], list]
    resolve: Callable[..., dict]
    parse_point: Callable[..., dict]
    example: str
    builder: Reference
    bench: Reference | None = None
    golden: Reference | None = None
    clocked: bool = False
    synth_defaults: dict = field(default_factory=dict)
    grid: Callable[[Sequence[str], Sequence[int]], list[str]] | None = None
    cfg_axis: bool = False
    sim_runner: Reference | None = None
    sim_options: tuple[str, ...] = ()


_REGISTRY: dict[str, UnitSpec] = {}


def register(spec: UnitSpec, *, replace: bool = False) -> UnitSpec:
    """Add `spec` (a second spec of the same name only with `replace`)."""
    if not isinstance(spec, UnitSpec):
        raise TypeError(f"register needs a UnitSpec, got {type(spec).__name__}")
    if spec.name in _REGISTRY and not replace:
        raise ConfigError(f"unit {spec.name!r} is already registered")
    _REGISTRY[spec.name] = spec
    return spec


def unregister(name: str) -> None:
    _REGISTRY.pop(name, None)


def get(name: str) -> UnitSpec:
    """The spec of unit `name`; ConfigError (a ValueError) listing the units otherwise."""
    if name not in _REGISTRY:
        raise ConfigError(f"unknown unit {name!r}; units are {', '.join(_REGISTRY)}")
    return _REGISTRY[name]


def names() -> list[str]:
    return list(_REGISTRY)


def specs() -> Iterator[UnitSpec]:
    return iter(list(_REGISTRY.values()))


def load(ref: Reference | None):
    """The object a reference names ("package.module:attribute"), or `ref` itself."""
    if ref is None or callable(ref):
        return ref
    module, _, attribute = ref.partition(":")
    return getattr(importlib.import_module(module), attribute)
