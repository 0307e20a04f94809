"""Long-K accumulation: the error of one emulated dot product against its exact value as K
grows, for float and fixed accumulators behind the same E5M2 CFG-5 multiplier.

Inputs are N(0, 1) samples rounded to E5M2; `same sign` takes their magnitudes (every partial
sum grows linearly, the case of a weight gradient over many positive activations), `mixed`
keeps the signs (partial sums grow like sqrt(K)). The exact value is the float64 sum of the
exact products; the error is relative to the sum of the products' magnitudes. A float
accumulator with m fraction bits stops growing once the partial sum exceeds about 2^(m+1)
products (stagnation); a fixed accumulator saturates at its bound.

    python -m lpmac.study.long_k -o docs/results/study-digits
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from lpmac.config import MacConfig
from lpmac.golden import from_float, matmul, to_float

CONFIGS = (
    "E5M2:cfg5+fp32",
    "E5M2:cfg5+E6M5",
    "E5M2:cfg5+E6M3",
    "E5M2:cfg5+E6M2",
    "E5M2:cfg5+Q8.13",
    "E5M2:cfg5+Q11.13",
)
KS = (16, 64, 256, 1024, 4096)


def relative_errors(config: str, k: int, same_sign: bool, outputs: int = 64, seed: int = 0):
    """Median and worst |emulated - exact| / sum_k |a_k b_k| over `outputs` dot products of
    length k (the sum of magnitudes, not |exact|, so that cancellation does not inflate it)."""
    cfg = MacConfig.parse(config)
    rng = np.random.default_rng([seed, k])
    fmt = cfg.mul.in_format
    a = rng.standard_normal((outputs, k))
    b = rng.standard_normal((k, 1))
    if same_sign:
        a, b = np.abs(a), np.abs(b)
    a_bits, b_bits = from_float(a, fmt), from_float(b, fmt)
    av, bv = to_float(a_bits, fmt), to_float(b_bits, fmt)
    exact = av @ bv
    got = to_float(matmul(a_bits, b_bits, cfg).acc, cfg.acc.fmt)
    err = np.abs(got - exact) / np.maximum(np.abs(av) @ np.abs(bv), 1e-300)
    return float(np.median(err)), float(err.max())


def table(configs=CONFIGS, ks=KS) -> str:
    lines = []
    for same_sign in (True, False):
        lines += [
            f"### {'same-sign' if same_sign else 'mixed-sign'} inputs: "
            "median (max) of |error| / sum |a·b|",
            "",
            "| config | " + " | ".join(f"K = {k}" for k in ks) + " |",
            "|---|" + "---|" * len(ks),
        ]
        for config in configs:
            cells = []
            for k in ks:
                med, worst = relative_errors(config, k, same_sign)
                cells.append(f"{100 * med:.3g} % ({100 * worst:.3g} %)")
            lines.append(f"| {config} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description="Long-K accumulation error table")
    parser.add_argument("-o", "--out", type=Path, default=Path("."))
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    intro = f"Produced by `python -m lpmac.study.long_k -o {args.out}`. " + __doc__.split("\n\n")[1]
    text = "# Long-K accumulation behind an E5M2 CFG-5 multiplier\n\n"
    text += intro.replace("\n", " ") + "\n\n" + table()
    (args.out / "long-k.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
