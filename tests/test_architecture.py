"""The package layers (docs/architecture.md), checked on the source: every import, lazy ones
inside functions included, goes to the same layer or one below.

    core (lpmac/)  ->  golden/ | hdl/  ->  sim/ | synth/  ->  study/  ->  CLI (lpmac/cli.py)

golden and hdl never import each other, nor sim and synth. Also: the special encodings the
two sides share live in core, and the registry declares every unit once."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
FOLDERS = {"lpmac": "core", "golden": "golden", "hdl": "hdl", "sim": "sim", "synth": "synth"}
FOLDERS["study"] = "study"
PACKAGES = {"lpmac": "core", "lpmac.golden": "golden", "lpmac.hdl": "hdl", "lpmac.sim": "sim"}
PACKAGES |= {"lpmac.synth": "synth", "lpmac.study": "study"}
ALLOWED = {
    "core": {"core"},
    "golden": {"core", "golden"},
    "hdl": {"core", "hdl"},
    "sim": {"core", "golden", "hdl", "sim"},
    "synth": {"core", "golden", "hdl", "synth"},
    "study": {"core", "golden", "hdl", "sim", "synth", "study"},
    "cli": {"core", "golden", "hdl", "sim", "synth", "study", "cli"},
}


def _layer_of_module(name: str) -> str | None:
    """Layer of an absolute module name inside lpmac (None for third-party modules)."""
    if name == "lpmac.cli":
        return "cli"
    for package in sorted(PACKAGES, key=len, reverse=True):
        if name == package or name.startswith(package + "."):
            return PACKAGES[package]
    return None


def _package_of(path: Path) -> str:
    folder = path.relative_to(ROOT).parts[0]
    return "lpmac" if folder == "lpmac" else f"lpmac.{folder}"


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in the file, relative ones resolved."""
    package = _package_of(path)
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            # `from lpmac import golden` imports the package lpmac.golden
            found += [(node.lineno, f"{module}.{alias.name}") for alias in node.names]
            found.append((node.lineno, module))
    return found


def _sources():
    for folder, layer in FOLDERS.items():
        for path in sorted((ROOT / folder).rglob("*.py")):
            if path.name == "cli.py" and folder == "lpmac":
                layer = "cli"
            yield path, layer


def layer_violations() -> list[str]:
    problems = []
    for path, layer in _sources():
        for line, module in _imports(path):
            target = _layer_of_module(module)
            if target is not None and target not in ALLOWED[layer]:
                where = path.relative_to(ROOT)
                problems.append(f"{where}:{line}: {layer} imports {module} ({target})")
    return sorted(set(problems))


def test_layers_import_only_downwards():
    assert layer_violations() == []


def test_the_check_sees_relative_lazy_and_package_imports(tmp_path, monkeypatch):
    """The checker itself: a lazy relative import of golden from hdl is caught."""
    fake = tmp_path / "hdl"
    fake.mkdir()
    (fake / "bad.py").write_text(
        "def f():\n    from ..golden import rounding\n    from lpmac import sim\n"
    )
    monkeypatch.setitem(globals(), "ROOT", tmp_path)
    modules = {m for _, m in _imports(fake / "bad.py")}
    assert "lpmac.golden.rounding" in modules and "lpmac.sim" in modules
    assert _layer_of_module("lpmac.golden.rounding") == "golden"
    assert _layer_of_module("lpmac.sim") == "sim" and _layer_of_module("numpy") is None


def test_special_encodings_are_core_and_golden_reexports_them():
    from lpmac.formats import FloatFormat
    from lpmac.golden.rounding import special_bits
    from lpmac.specials import special_encoding

    e5m2 = FloatFormat(5, 2)
    # literal encodings (SPEC §1): canonical NaN ignores the sign, inf_only's inf is frac 11
    assert special_encoding(e5m2, "nan", negative=True) == 0x7E
    assert special_encoding(e5m2, "inf", negative=True) == 0xFC
    assert special_encoding(e5m2, "max") == 0x7B
    inf_only = e5m2.with_specials("inf_only")
    assert special_encoding(inf_only, "nan", negative=True) == 0xFF
    assert special_encoding(inf_only, "max") == 0x7E
    assert special_encoding(e5m2.with_specials("finite"), "inf") == 0x7F
    got = special_bits(e5m2, np.array([True, False]), "inf")
    assert got.dtype == np.uint64 and got.tolist() == [0xFC, 0x7C]
    with pytest.raises(ValueError, match="special kind must be one of inf, max, nan"):
        special_encoding(e5m2, "zero")


def test_every_unit_is_declared_once_and_complete():
    from lpmac import units as registry

    names = registry.names()
    assert len(names) == len(set(names))
    assert {"mul", "fixmul", "acc", "mac", "convert", "tobfp", "frombfp", "gemm", "array"} <= set(
        names
    )
    for spec in registry.specs():
        kwargs = spec.parse_point(spec.example.split(" or ")[0])
        assert kwargs, spec.name
        assert callable(registry.load(spec.builder)), spec.name
        if spec.bench not in (None, "generic"):
            assert callable(registry.load(spec.bench)), spec.name
        if spec.golden is not None:
            assert callable(registry.load(spec.golden)), spec.name


def test_modes_are_enums_parsed_in_one_place():
    from lpmac.config import AccConfig, MulConfig
    from lpmac.errors import ConfigError
    from lpmac.modes import Rounding, SubIn, Target
    from lpmac.synth.flow import TARGETS

    cfg = MulConfig.parse("E5M2:sub_in=as_normal,round=none,sub_out=flush")
    assert cfg.sub_in is SubIn.AS_NORMAL and cfg.round is Rounding.NONE
    assert str(cfg) == "E5M2:sub_in=as_normal,round=none,sub_out=flush"  # round-trips
    assert str(AccConfig.parse("E6M5:sr,flush,bits=6,seed=7")) == "E6M5:sr,flush,bits=6,seed=7"
    assert AccConfig.parse("E6M5:rz") == AccConfig.parse("E6M5:rz")
    rz = AccConfig.parse("E6M5:rz")  # the parsed mode is the enum member, equal to the text
    assert rz.rounding is Rounding.RZ and rz == AccConfig(rz.fmt, "rz") != AccConfig(rz.fmt)
    with pytest.raises(ConfigError, match="accumulator rounding must be one of rne, rz, sr"):
        AccConfig(MulConfig.parse("E5M2").fmt, "rna")
    assert tuple(TARGETS) == tuple(Target)


def test_no_private_amaranth_api():
    """Name-mangled Amaranth internals (`_MustUse__silence`) and `amaranth.hdl._ir` break with
    any Amaranth release; hdl/checked.py refuses arguments before a component exists."""
    found = []
    for folder in ("lpmac", "golden", "hdl", "sim", "synth", "study"):
        for path in sorted((ROOT / folder).rglob("*.py")):
            text = path.read_text()
            for needle in ("_MustUse__", "hdl._ir", "import _ir", ", _ir"):
                if needle in text:
                    found.append(f"{path.relative_to(ROOT)}: {needle}")
    assert found == []
