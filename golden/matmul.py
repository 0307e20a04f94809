"""MAC-array GEMM (SPEC §8): C[i, j] is golden `mac(A[i, :], B[:, j])` from +0, k = 0..K-1.

Reference implementation (to be replaced by the fast emulator of issue 13)."""

from __future__ import annotations

import numpy as np

from lpmac.config import MacConfig

from .accum import MacResult, mac


def matmul(a_bits, b_bits, cfg: MacConfig) -> MacResult:
    """A (M x K) times B (K x N) bit patterns through R x C MAC units: M x N accumulator bits."""
    a = np.asarray(a_bits, dtype=np.uint64)
    b = np.asarray(b_bits, dtype=np.uint64)
    return mac(a.T[:, :, None], b[:, None, :], cfg)
