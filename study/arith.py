"""The arithmetic a training run computes its GEMMs with (SPEC §8).

* `float32`: NumPy's float32 matmul, no emulation (the baseline).
* a MAC configuration (`E5M2:cfg5+E6M5`, `fp32:cfg1+fp32`, `E5M2:cfg5+Q8.13`...): FP32 operands
  converted to the multiplier's input format at the array edge (golden `convert`, rne by default
  or sr), the GEMM through `lpmac.golden.matmul` (each output the MAC's accumulator after
  k = 0..K-1 from +0), the accumulator converted to FP32 (exact for every accumulator up to
  fp32 / Q11.13 widths; rne otherwise).
* an HBFP configuration (`BFP8/24`...): `lpmac.golden.bfp_gemm` on FP32 operands.

Each backend counts what happens at the array edge per pass (`fwd`, `dgrad`, `wgrad`): inputs
that were nonzero in FP32 and became zero (underflow), outputs at a fixed accumulator's
saturation bound, outputs with the sticky `invalid` flag, non-finite outputs."""

from __future__ import annotations

import numpy as np

from lpmac.config import GemmConfig, MacConfig
from lpmac.formats import FP32, FixedFormat
from lpmac.golden import bfp_gemm, convert, gemm_to_float, matmul, to_float

from .choices import EDGE_ROUNDING

FLOAT32 = "float32"
PASSES = ("fwd", "dgrad", "wgrad")
_COUNTERS = ("inputs", "underflow", "outputs", "saturated", "invalid", "nonfinite")


def parse_arith_spec(spec: str):
    """'float32' -> None, 'BFPm/T...' -> GemmConfig, else MacConfig (ConfigError / FormatError,
    both ValueError, on a bad string)."""
    text = spec.strip()
    if text.lower() == FLOAT32:
        return None
    if text.upper().startswith("BFP"):
        return GemmConfig.parse(text)
    return MacConfig.parse(text)


class Arithmetic:
    """`matmul(a, b, kind)` for float32 a (M x K), b (K x N); counters per pass in `stats`."""

    name = FLOAT32

    def __init__(self):
        self.stats = {p: dict.fromkeys(_COUNTERS, 0) for p in PASSES}

    def matmul(self, a: np.ndarray, b: np.ndarray, kind: str = "fwd") -> np.ndarray:
        out = a @ b  # keeps the operands' dtype, so gradient checks can run in float64
        self._count_outputs(kind, out)
        return out

    def _count_outputs(self, kind, out, saturated=0, invalid=0):
        s = self.stats[kind]
        s["outputs"] += out.size
        s["saturated"] += int(saturated)
        s["invalid"] += int(invalid)
        s["nonfinite"] += int(out.size - np.count_nonzero(np.isfinite(out)))


class MacArithmetic(Arithmetic):
    def __init__(self, cfg: MacConfig, edge_rounding: str = "rne", seed: int = 1, sr_bits=8):
        super().__init__()
        if edge_rounding not in EDGE_ROUNDING:
            raise ValueError(
                f"edge rounding must be one of {', '.join(EDGE_ROUNDING)}, got {edge_rounding!r}"
            )
        self.cfg, self.name = cfg, str(cfg)
        self.edge_rounding, self.sr_bits = edge_rounding, sr_bits
        # sr at the edge: u from a PCG64 stream per run (the converter model, not the array's
        # xorshift lanes: the study needs reproducible runs, not an RTL twin of the feed).
        self.rng = np.random.default_rng([seed, 0x5EED])

    def to_input(self, x: np.ndarray, kind: str) -> np.ndarray:
        """FP32 values -> bit patterns of the multiplier's input format."""
        x32 = np.ascontiguousarray(x, dtype=np.float32)
        bits = x32.view(np.uint32).astype(np.uint64)
        fmt = self.cfg.mul.in_format
        if self.edge_rounding == "sr":
            u = self.rng.integers(0, 1 << self.sr_bits, size=bits.shape, dtype=np.uint64)
            out = convert(bits, FP32, fmt, "sr", u=u, r=self.sr_bits)
        else:
            out = convert(bits, FP32, fmt, self.edge_rounding)
        s = self.stats[kind]
        s["inputs"] += x32.size
        magnitude = np.uint64((1 << (fmt.width - 1)) - 1)
        s["underflow"] += int(np.count_nonzero((x32 != 0) & ((out & magnitude) == 0)))
        return out

    def matmul(self, a, b, kind="fwd"):
        res = matmul(self.to_input(a, kind), self.to_input(b, kind), self.cfg)
        fmt = self.cfg.acc.fmt
        out = to_float(res.acc, fmt).astype(np.float32)
        saturated = 0
        if isinstance(fmt, FixedFormat):  # at a bound: saturated (or, rarely, exactly there)
            acc = np.asarray(res.acc, dtype=np.uint64)
            bounds = [fmt.max_int, fmt.min_int & ((1 << fmt.width) - 1)]
            saturated = np.count_nonzero(np.isin(acc, np.array(bounds, dtype=np.uint64)))
        self._count_outputs(kind, out, saturated, np.count_nonzero(res.invalid))
        return out


class BfpArithmetic(Arithmetic):
    def __init__(self, cfg: GemmConfig):
        super().__init__()
        self.cfg, self.name = cfg, str(cfg)

    def matmul(self, a, b, kind="fwd"):
        a_bits, b_bits = (self._to_input(x, kind) for x in (a, b))
        out = gemm_to_float(bfp_gemm(a_bits, b_bits, self.cfg), self.cfg).astype(np.float32)
        self._count_outputs(kind, out)
        return out

    def _to_input(self, x, kind):
        bits = np.ascontiguousarray(x, dtype=np.float32).view(np.uint32).astype(np.uint64)
        self.stats[kind]["inputs"] += bits.size
        if self.cfg.in_fmt == FP32:
            return bits
        return convert(bits, FP32, self.cfg.in_fmt)


def make_arithmetic(spec: str, edge_rounding: str = "rne", seed: int = 1) -> Arithmetic:
    cfg = parse_arith_spec(spec)
    if cfg is None:
        return Arithmetic()
    if isinstance(cfg, GemmConfig):
        return BfpArithmetic(cfg)
    return MacArithmetic(cfg, edge_rounding, seed)
