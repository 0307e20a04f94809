"""Formats (SPEC §1) and configuration objects (SPEC §2–5): parsing, validation messages,
presets, derived output formats, string round trips, immutability.

Expected constants are written from docs/spec.md (and the seed's accumulator table), not read
from lpmac."""

import dataclasses

import pytest
from fraction_ref import RF, max_finite, pow2

from lpmac import (
    AccConfig,
    BfpFormat,
    ConfigError,
    FixedFormat,
    FloatFormat,
    FormatError,
    GemmConfig,
    MacConfig,
    MulConfig,
    parse_format,
)


# ----------------------------------------------------------------------------- formats
@pytest.mark.parametrize(
    "spec, e, m",
    [
        ("E5M2", 5, 2),
        ("e4m3", 4, 3),
        ("fp16", 5, 10),
        ("FP16", 5, 10),
        ("bf16", 8, 7),
        ("fp32", 8, 23),
        ("tf32", 8, 10),
        ("E2M1", 2, 1),
        ("E8M23", 8, 23),
        ("E6M3", 6, 3),
    ],
)
def test_parse_float_formats(spec, e, m):
    f = parse_format(spec)
    assert isinstance(f, FloatFormat)
    assert (f.e, f.m, f.bias, f.specials) == (e, m, 2 ** (e - 1) - 1, "ieee")
    assert f.width == 1 + e + m
    assert f.emin == 1 - f.bias
    assert f.emax == 2**e - 2 - f.bias


def test_parse_float_options():
    f = parse_format("E5M2-inf")
    assert (f.e, f.m, f.bias, f.specials) == (5, 2, 15, "inf_only")
    f = parse_format("E4M3-fin")
    assert f.specials == "finite"
    f = parse_format("E5M2b12")
    assert (f.bias, f.specials) == (12, "ieee")
    assert str(f) == "E5M2b12"
    f = parse_format("E5M2b12-inf")
    assert (f.bias, f.specials) == (12, "inf_only")


@pytest.mark.parametrize(
    "spec",
    [
        "E5M2",
        "E5M2-inf",
        "E4M3-fin",
        "E5M2b12",
        "E6M5-inf",
        "E8M23",
        "Q8.13",
        "Q16.16",
        "BFP8/24",
        "BFP4/32",
    ],
)
def test_format_string_round_trip(spec):
    f = parse_format(spec)
    assert str(f) == spec
    assert parse_format(str(f)) == f


@pytest.mark.parametrize(
    "spec, width, i, f",
    [("Q8.13", 21, 8, 13), ("Q16.16", 32, 16, 16), ("Q8.8", 16, 8, 8), ("Q6.6", 12, 6, 6)],
)
def test_parse_fixed(spec, width, i, f):
    q = parse_format(spec)
    assert isinstance(q, FixedFormat)
    assert (q.i, q.f, q.width) == (i, f, width)
    # SPEC §1: Q8.13 range is [-128, 128 - 2^-13]
    assert q.min_int == -(2 ** (width - 1)) and q.max_int == 2 ** (width - 1) - 1
    if spec == "Q8.13":
        assert q.min_int * 2.0**-13 == -128.0
        assert q.max_int * 2.0**-13 == 128 - 2.0**-13


def test_parse_bfp():
    b = parse_format("BFP8/24")
    assert isinstance(b, BfpFormat)
    assert (b.m, b.T) == (8, 24)
    assert b.kmax == 127  # symmetric |k| <= 2^(m-1)-1
    assert parse_format("BFP4/16").kmax == 7


@pytest.mark.parametrize(
    "fmt_args",
    [
        (5, 2, None, "ieee"),
        (5, 2, None, "inf_only"),
        (5, 2, None, "finite"),
        (4, 3, None, "ieee"),
        (4, 3, None, "finite"),
        (8, 23, None, "ieee"),
        (8, 7, None, "inf_only"),
        (5, 10, 7, "ieee"),
    ],
)
def test_max_finite_matches_spec_table(fmt_args):
    f = FloatFormat(*fmt_args)
    ref = max_finite(RF.make(*fmt_args))
    assert f.max_finite == float(ref)


def test_named_max_finite_values():
    # well-known numbers: fp16 65504, E5M2 57344, E4M3 (IEEE-like) 240, inf_only E5M2 98304
    assert parse_format("fp16").max_finite == 65504.0
    assert parse_format("E5M2").max_finite == 57344.0
    assert parse_format("E4M3").max_finite == 240.0
    assert parse_format("E5M2-inf").max_finite == 98304.0
    assert parse_format("E4M3-fin").max_finite == 480.0
    assert parse_format("fp32").max_finite == float((2 - pow2(-23)) * pow2(127))


@pytest.mark.parametrize(
    "spec, words",
    [
        ("E0M3", ["exponent", "0"]),
        ("E1M3", ["exponent", "1"]),
        ("E9M2", ["exponent", "9"]),
        ("E5M0", ["fraction", "0"]),
        ("E5M24", ["fraction", "24"]),
        ("E8M30", ["fraction", "30"]),
        ("Q0.0", ["fixed", "0"]),
        ("Q20.20", ["width"]),
        ("E5", ["unknown format", "E5"]),
        ("fp12", ["unknown format", "fp12"]),
        ("", ["empty"]),
        ("E5M2b99", ["bias", "99"]),
        ("E5M2-nan", ["special"]),
        ("BFP1/8", ["BFP", "1"]),
        ("BFP8/0", ["block length", "0"]),
    ],
)
def test_invalid_format_specs(spec, words):
    with pytest.raises(ValueError) as info:
        parse_format(spec)
    assert isinstance(info.value, FormatError)
    msg = str(info.value)
    for w in words:
        assert w.lower() in msg.lower(), (spec, msg)


def test_invalid_format_objects():
    with pytest.raises(FormatError, match="specials"):
        FloatFormat(5, 2, specials="nan_only")
    with pytest.raises(FormatError, match="bias"):
        FloatFormat(5, 2, bias=-1)
    with pytest.raises(FormatError, match="bias"):
        FloatFormat(5, 2, bias=32)
    with pytest.raises(FormatError, match="exponent"):
        FloatFormat(1, 2)
    with pytest.raises(FormatError, match="fraction"):
        FloatFormat(5, 0)
    with pytest.raises(FormatError, match="fixed"):
        FixedFormat(0, 8)


def test_formats_are_frozen():
    f = parse_format("E5M2")
    with pytest.raises(dataclasses.FrozenInstanceError):
        f.m = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_format("Q8.13").f = 3
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_format("BFP8/24").T = 3


# ----------------------------------------------------------------------------- MulConfig presets
# SPEC §2 table: (specials, sub_in, round, sub_out)
PRESET_TABLE = {
    1: ("ieee", "ieee", "rne", "ieee"),
    2: ("ieee", "ieee", "rne", "flush"),
    3: ("ieee", "ieee", "none", "flush"),
    4: ("inf_only", "ieee", "none", "flush"),
    5: ("inf_only", "as_normal", "none", "flush"),
    6: ("inf_only", "flush", "none", "flush"),
}


@pytest.mark.parametrize("n", range(1, 7))
@pytest.mark.parametrize(
    "spec, e, m", [("E5M2", 5, 2), ("E4M3", 4, 3), ("E6M3", 6, 3), ("fp16", 5, 10), ("fp32", 8, 23)]
)
def test_preset_knobs_and_out_format(n, spec, e, m):
    for cfg in (
        MulConfig.preset(spec, n),
        MulConfig.preset(parse_format(spec), f"cfg{n}"),
        MulConfig.preset(spec, f"CFG-{n}"),
        MulConfig.parse(f"{spec}:cfg{n}"),
    ):
        specials, sub_in, rnd, sub_out = PRESET_TABLE[n]
        assert (cfg.fmt.e, cfg.fmt.m, cfg.fmt.bias) == (e, m, 2 ** (e - 1) - 1)
        assert (cfg.fmt.specials, cfg.sub_in, cfg.round, cfg.sub_out) == PRESET_TABLE[n]
        assert cfg.preset_number == n
        out = cfg.out_format
        if rnd == "rne":
            assert (out.e, out.m, out.bias, out.specials) == (e, m, 2 ** (e - 1) - 1, specials)
        else:
            # E(e+1)M(2m+1) with the standard bias 2^e - 1, same specials
            assert (out.e, out.m, out.bias, out.specials) == (e + 1, 2 * m + 1, 2**e - 1, specials)


def test_named_out_formats():
    out = MulConfig.preset("E5M2", 5).out_format
    assert (out.e, out.m, out.bias, out.specials) == (6, 5, 31, "inf_only")
    assert str(out) == "E6M5-inf"
    out = MulConfig.preset("E6M3", 3).out_format
    assert (out.e, out.m, out.bias, out.specials) == (7, 7, 63, "ieee")
    assert str(out) == "E7M7"
    # the seed's multiplier/accumulator table: E6M2 -> E7M5, E5M3 -> E6M7, E5M1 -> E6M3
    for src, dst in (("E6M2", (7, 5)), ("E5M3", (6, 7)), ("E5M1", (6, 3)), ("E6M1", (7, 3))):
        out = MulConfig.preset(src, 5).out_format
        assert (out.e, out.m) == dst
    assert MulConfig.preset("fp32", 3).out_format.m == 47


@pytest.mark.parametrize("bad", [7, 0, "cfg7", "cfg0", "cfg", "seven", -1])
def test_unknown_preset_refused(bad):
    with pytest.raises(ConfigError) as info:
        MulConfig.preset("E5M2", bad)
    assert "1..6" in str(info.value)


@pytest.mark.parametrize("spec", ["E5M2:cfg7", "E5M2:cfg0"])
def test_unknown_preset_refused_in_strings(spec):
    with pytest.raises(ConfigError, match=r"1\.\.6"):
        MulConfig.parse(spec)
    with pytest.raises(ConfigError, match=r"1\.\.6"):
        MacConfig.parse(spec + "+E6M5")


def test_mulconfig_rejects_bad_knobs():
    f = parse_format("E5M2")
    with pytest.raises(ConfigError, match="sub_in"):
        MulConfig(f, sub_in="denormal")
    with pytest.raises(ConfigError, match="rounding"):
        MulConfig(f, round="rz")
    with pytest.raises(ConfigError, match="sub_out"):
        MulConfig(f, sub_out="gradual")
    with pytest.raises(ConfigError, match="unknown option"):
        MulConfig.parse("E5M2:cfg5,foo=1")
    with pytest.raises(ConfigError, match="more than one"):
        MulConfig.parse("E5M2:cfg5,cfg6")
    with pytest.raises(ValueError):
        MulConfig.parse("E9M2:cfg1")


@pytest.mark.parametrize(
    "spec",
    [
        "E5M2:cfg1",
        "E5M2:cfg5",
        "E4M3:cfg6",
        "fp16:cfg3",
        "E5M2:sub_in=flush,round=rne,sub_out=ieee",
        "E5M2-inf:sub_in=ieee,round=rne,sub_out=ieee",
        "E4M3-fin:sub_in=as_normal,round=none,sub_out=flush",
    ],
)
def test_mulconfig_round_trip(spec):
    cfg = MulConfig.parse(spec)
    assert MulConfig.parse(str(cfg)) == cfg
    assert str(MulConfig.parse(str(cfg))) == str(cfg)


def test_mulconfig_free_knobs_parse():
    cfg = MulConfig.parse("E5M2:sub_in=flush,round=rne,sub_out=ieee")
    assert (cfg.fmt.specials, cfg.sub_in, cfg.round, cfg.sub_out) == (
        "ieee",
        "flush",
        "rne",
        "ieee",
    )
    assert cfg.preset_number is None
    cfg = MulConfig.parse("E5M2:cfg5,sub_in=flush")  # CFG-5 with flushed inputs is CFG-6
    assert cfg == MulConfig.preset("E5M2", 6)
    assert str(cfg) == "E5M2:cfg6"
    cfg = MulConfig.parse("E5M2:cfg1,specials=inf_only")
    assert (cfg.fmt.specials, cfg.round, cfg.sub_out) == ("inf_only", "rne", "ieee")


# ---------------------------------------------------------------------------- AccConfig / MacConfig
@pytest.mark.parametrize(
    "spec, fields",
    [
        ("E6M5", ("rne", "ieee", 8, 1)),
        ("E6M5:rz", ("rz", "ieee", 8, 1)),
        ("E6M5:sr,bits=8,seed=7", ("sr", "ieee", 8, 7)),
        ("E6M5:rne,flush", ("rne", "flush", 8, 1)),
        ("E6M5:rz,flush", ("rz", "flush", 8, 1)),
        ("E8M7:sr,flush,bits=12,seed=12345", ("sr", "flush", 12, 12345)),
        ("Q8.13", ("rne", "ieee", 8, 1)),
        ("Q8.13:rz", ("rz", "ieee", 8, 1)),
    ],
)
def test_accconfig_parse_and_round_trip(spec, fields):
    cfg = AccConfig.parse(spec)
    assert (cfg.rounding, cfg.sub_out, cfg.sr_bits, cfg.sr_seed) == fields
    assert AccConfig.parse(str(cfg)) == cfg
    assert cfg.is_fixed == spec.startswith("Q")


def test_accconfig_canonical_strings():
    assert str(AccConfig.parse("E6M5")) == "E6M5"
    assert str(AccConfig.parse("E6M5:rne,flush")) == "E6M5:flush"
    assert str(AccConfig.parse("E6M5:sr,bits=8,seed=7")) == "E6M5:sr,bits=8,seed=7"
    assert str(AccConfig.parse("Q8.13")) == "Q8.13"


def test_accconfig_rejects():
    with pytest.raises(ConfigError, match="seed"):
        AccConfig.parse("E6M5:sr,seed=0")
    with pytest.raises(ConfigError, match="bits"):
        AccConfig.parse("E6M5:sr,bits=0")
    with pytest.raises(ConfigError, match="bits"):
        AccConfig.parse("E6M5:sr,bits=33")
    with pytest.raises(ConfigError, match="integer"):
        AccConfig.parse("E6M5:sr,bits=x")
    with pytest.raises(ConfigError, match="unknown option"):
        AccConfig.parse("E6M5:rna")
    with pytest.raises(ConfigError):
        AccConfig(parse_format("Q8.13"), "sr")
    with pytest.raises(ConfigError):
        AccConfig(parse_format("BFP8/24"))


@pytest.mark.parametrize(
    "spec",
    [
        "E5M2:cfg5+E6M5",
        "E5M2:cfg5+Q8.13",
        "E5M2:cfg5+E6M5:sr,bits=8,seed=7",
        "E5M2:cfg5+E6M5:rz,flush",
        "E4M3:cfg1+E5M10",
        "E6M3:cfg5+E7M7:sr,bits=4,seed=99",
        "E5M2:cfg5+Q8.13:rz",
    ],
)
def test_macconfig_round_trip(spec):
    cfg = MacConfig.parse(spec)
    assert str(cfg) == spec
    assert MacConfig.parse(str(cfg)) == cfg


def test_macconfig_fields():
    cfg = MacConfig.parse("E5M2:cfg5+Q8.13")
    assert cfg.mul == MulConfig.preset("E5M2", 5)
    assert cfg.acc.is_fixed and (cfg.acc.fmt.i, cfg.acc.fmt.f) == (8, 13)
    assert (cfg.product_format.e, cfg.product_format.m) == (6, 5)
    cfg = MacConfig.parse("E5M2:cfg5+E6M5:sr,bits=8,seed=7")
    assert (cfg.acc.rounding, cfg.acc.sr_bits, cfg.acc.sr_seed) == ("sr", 8, 7)
    with pytest.raises(ConfigError, match="MUL\\+ACC"):
        MacConfig.parse("E5M2:cfg5")


@pytest.mark.parametrize(
    "spec",
    [
        "BFP8/24",
        "BFP8/32:round=rna",
        "BFP8/24:in=bf16,out=fp32,round=sr,bits=8,seed=3",
        "BFP4/16:in=fp16,out=bf16",
        "BFP12/64:round=rz",
    ],
)
def test_gemmconfig_round_trip(spec):
    cfg = GemmConfig.parse(spec)
    assert GemmConfig.parse(str(cfg)) == cfg


def test_gemmconfig_fields():
    cfg = GemmConfig.parse("BFP8/24:in=bf16,out=fp32,round=sr,bits=8,seed=3")
    assert (cfg.m, cfg.T, cfg.rounding, cfg.sr_bits, cfg.sr_seed) == (8, 24, "sr", 8, 3)
    assert (cfg.in_fmt.e, cfg.in_fmt.m) == (8, 7) and (cfg.out_fmt.e, cfg.out_fmt.m) == (8, 23)
    assert str(GemmConfig.parse("BFP8/24")) == "BFP8/24"
    with pytest.raises(ConfigError):
        GemmConfig.parse("E5M2")
    with pytest.raises(ConfigError, match="rounding"):
        GemmConfig.parse("BFP8/24:round=up")


def test_configs_are_frozen():
    objs = [
        MulConfig.preset("E5M2", 5),
        AccConfig.parse("E6M5"),
        MacConfig.parse("E5M2:cfg5+E6M5"),
        GemmConfig.parse("BFP8/24"),
    ]
    for obj in objs:
        field = dataclasses.fields(obj)[0].name
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(obj, field, None)
    # hashable (frozen dataclasses): usable as cache keys
    assert len({MulConfig.preset("E5M2", 5), MulConfig.preset("E5M2", 5)}) == 1
