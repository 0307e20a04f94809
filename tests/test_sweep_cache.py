"""The sweep's point cache under damage, and the sweep runner's input handling.

Every damaged entry (truncated, empty, not JSON, not text, another schema, another point's
entry, a changed number) gives one warning line naming the file and the freshly synthesized
result, never a traceback and never the damaged numbers; the file is rewritten good. The
reference result comes from `synthesize` itself, outside the cache. The design is an 8-bit
adder on iCE40, about a second of Yosys.
"""

import hashlib
import json

import pytest

from lpmac import cli
from lpmac.synth import point_cache
from lpmac.synth.flow import flow_key, synthesize
from lpmac.synth.sweep import Point, cached_synthesize, run_sweep, split_configs, synth_point
from lpmac.units import parse_point

ADDER = (
    "module add(input [7:0] a, input [7:0] b, output [8:0] s);\n  assign s = a + b;\nendmodule\n"
)
KEY = flow_key(ADDER, "add", target="ice40")


def _counts(result: dict) -> dict:
    return {k: v for k, v in result.items() if k not in ("seconds", "unit", "config")}


@pytest.fixture(scope="module")
def fresh():
    """The adder's counts from Yosys, and a good cache entry for them."""
    result = synthesize(ADDER, "add", target="ice40").to_json()
    # 8 LUT4 + 8 SB_CARRY, one per bit (test_synth_flow measures the same 8 LUTs for its adder)
    assert (result["luts"], result["carry"]) == (8, 8)
    return result


@pytest.fixture
def good_entry(fresh, tmp_path):
    assert point_cache.write(tmp_path, KEY, fresh)
    return json.loads(point_cache.entry_path(tmp_path, KEY).read_text())


def _resigned(entry: dict, key: str = KEY) -> dict:
    """The entry with a checksum that matches its (changed) key and result."""
    canonical = json.dumps({"key": key, "result": entry["result"]}, sort_keys=True,
                           separators=(",", ":"))  # fmt: skip
    return {**entry, "key": key, "sha256": hashlib.sha256(canonical.encode()).hexdigest()}


def _changed_luts(entry):
    return {**entry, "result": {**entry["result"], "luts": entry["result"]["luts"] + 1}}


DAMAGE = {  # name -> (entry -> bytes written in its place, words the warning contains)
    "truncated": (lambda e: json.dumps(e, indent=1).encode()[:200], "not valid JSON"),
    "empty": (lambda e: b"", "not valid JSON"),
    "not JSON": (lambda e: b"luts = 8\n", "not valid JSON"),
    "not text": (lambda e: b"\xff\xfe\x00\x9c" * 8, "cannot read"),
    "a JSON list": (lambda e: b"[1, 2]", "no schema"),
    "bare result (no schema)": (lambda e: json.dumps(e["result"]).encode(), "no schema"),
    "another schema": (lambda e: json.dumps({**e, "schema": 0}).encode(), "schema 0, expected"),
    "no checksum": (lambda e: json.dumps({**e, "sha256": None}).encode(), "no result or checksum"),
    "number changed": (lambda e: json.dumps(_changed_luts(e)).encode(), "checksum mismatch"),
    "another point's entry": (
        lambda e: json.dumps(_resigned(e, "0" * 64)).encode(),
        "another point's name",
    ),
    "field of the wrong type": (
        lambda e: json.dumps(_resigned({**e, "result": {**e["result"], "luts": "8"}})).encode(),
        "field 'luts'",
    ),
}


@pytest.mark.parametrize("damage", DAMAGE)
def test_damaged_entry_is_named_and_recomputed(damage, fresh, good_entry, tmp_path, capsys):
    path = point_cache.entry_path(tmp_path, KEY)
    spoil, words = DAMAGE[damage]
    path.write_bytes(spoil(good_entry))
    result = cached_synthesize(ADDER, "add", cache_dir=tmp_path, target="ice40")
    assert _counts(result) == _counts(fresh)
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and str(path) in warning and words in warning
    assert warning.startswith("lpmac: warning: ") and warning.rstrip().endswith("recomputing")
    assert _counts(point_cache.read(tmp_path, KEY)) == _counts(fresh)  # rewritten good
    assert capsys.readouterr().err == ""


def test_sweep_never_reports_a_changed_entry_as_ok(fresh, good_entry, tmp_path, capsys):
    path = point_cache.entry_path(tmp_path / "cache", KEY)
    path.parent.mkdir()
    path.write_text(json.dumps(_changed_luts(good_entry)))
    rows = run_sweep(
        [Point("add", "8", "ice40")],
        lambda point: (ADDER, "add"),
        tmp_path / "out",
        cache_dir=tmp_path / "cache",
        progress=False,
    )
    assert rows[0]["status"] == "ok" and rows[0]["luts"] == fresh["luts"]
    assert f"cache file {path} rejected: checksum mismatch" in capsys.readouterr().err


def test_unwritable_cache_warns_and_keeps_the_result(fresh, tmp_path, capsys):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache directory should be")
    result = cached_synthesize(ADDER, "add", cache_dir=blocked, target="ice40")
    assert _counts(result) == _counts(fresh)
    warning = capsys.readouterr().err
    assert warning.count("\n") == 1 and "result not cached" in warning and str(blocked) in warning


def test_repeated_points_are_synthesized_and_listed_once(fresh, tmp_path, capsys):
    calls = []

    def counting(*args):
        calls.append(args[3:5])
        return synth_point(*args)

    point = Point("add", "8", "ice40")
    other_name = Point("add", "eight", "ice40")  # the same design under another name
    rows = run_sweep(
        [point, point, other_name, point],
        lambda p: (ADDER, "add"),
        tmp_path / "out",
        cache_dir=tmp_path / "cache",
        progress=False,
        worker=counting,
    )
    assert calls == [("add", "8")]
    assert [(r["config"], r["status"], r["luts"]) for r in rows] == [
        ("8", "ok", fresh["luts"]),
        ("eight", "ok", fresh["luts"]),
    ]
    assert "2 repeated point(s) dropped (add 8 ice40)" in capsys.readouterr().err


# --- the sweep command's options -----------------------------------------------------------
@pytest.mark.parametrize(
    "text, configs",
    [
        ("E6M5:sr,bits=8,seed=3", ["E6M5:sr,bits=8,seed=3"]),
        ("E6M5:sr,bits=8,seed=3,Q8.13", ["E6M5:sr,bits=8,seed=3", "Q8.13"]),
        ("E6M5,E6M5:rz,Q8.13", ["E6M5", "E6M5:rz", "Q8.13"]),
        ("E6M5:sr,fp32", ["E6M5:sr", "fp32"]),
        ("E4M3:cfg1,round=none,E5M2:cfg5", ["E4M3:cfg1,round=none", "E5M2:cfg5"]),
        ("E6M3->Q8.13, E7M7-inf->Q8.13:rz", ["E6M3->Q8.13", "E7M7-inf->Q8.13:rz"]),
        ("16x4:BFP8/24:in=fp16,8x8:BFP8/24", ["16x4:BFP8/24:in=fp16", "8x8:BFP8/24"]),
        (",,", []),
        (None, []),
    ],
)
def test_config_lists_keep_each_configurations_options(text, configs):
    assert split_configs(text) == configs


def test_documented_sr_accumulator_parses_as_one_point():
    (config,) = split_configs("E6M5:sr,bits=8,seed=3")
    cfg = parse_point("acc", config)["cfg"]
    assert (cfg.rounding, cfg.sr_bits, cfg.sr_seed) == ("sr", 8, 3)


@pytest.mark.parametrize(
    "argv",
    [
        ["sweep", "--unit", "acc", "--config", "E6M5", "--cfg", "5"],
        ["sweep", "--unit", "mul", "--config", "E4M3:cfg1", "--cfg", "5"],
        ["sweep", "--unit", "fixmul", "--fmt", "Q8.8", "--cfg", "2"],
    ],
)
def test_cfg_outside_a_mul_format_grid_is_refused(argv, capsys, tmp_path):
    with pytest.raises(SystemExit) as info:
        cli.main([*argv, "-o", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert info.value.code == 2 and "--cfg applies to --unit mul with --fmt" in err
    assert len(err.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_synthesize_many_once_per_design_through_the_cache(fresh, tmp_path, monkeypatch):
    from lpmac.synth import sweep

    calls = []

    def counting(verilog, top, **options):
        calls.append(top)
        return synthesize(verilog, top, **options)

    monkeypatch.setattr(sweep, "synthesize", counting)
    subtractor = ADDER.replace("a + b", "a - b")
    designs = [(ADDER, "add"), (ADDER, "add"), (subtractor, "add")]
    first = sweep.synthesize_many(designs, jobs=2, cache_dir=tmp_path, target="ice40")
    assert len(calls) == 2 and _counts(first[0]) == _counts(fresh) and first[1] == first[0]
    direct = synthesize(subtractor, "add", target="ice40").to_json()
    assert _counts(first[2]) == _counts(direct)
    again = sweep.synthesize_many(designs, jobs=2, cache_dir=tmp_path, target="ice40")
    assert again == first and len(calls) == 2  # all read back from the cache
