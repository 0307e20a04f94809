"""SHA-256 of the generated Verilog of every preset sweep point and a few extra units.

Used to show that a refactoring leaves the hardware byte-identical:

    python benchmarks/verilog_hashes.py > before.txt   # on the old tree
    python benchmarks/verilog_hashes.py > after.txt    # on the new one
    diff before.txt after.txt
"""

from __future__ import annotations

import hashlib

from lpmac.synth.presets import PRESETS, make_verilog
from lpmac.synth.sweep import Point

EXTRA = [
    Point("mul", "E5M2:cfg5"),
    Point("mul", "fp16:cfg1"),
    Point("mul", "E4M3:cfg3"),
    Point("mac", "E5M2:cfg5+Q11.13"),
    Point("acc", "E6M5:sr,bits=8,seed=3"),
    Point("acc", "E6M5:rz"),
    Point("convert", "fp32->E5M2:rne"),
    Point("convert", "fp32->E4M3:sr"),
    Point("tobfp", "fp32->BFP8/24:rne"),
    Point("frombfp", "BFP8/24->fp32"),
    Point("gemm", "2x2:BFP8/8"),
    Point("gemm", "4x4:BFP8/24:in=fp16"),
]


def main() -> None:
    points = [row.point for _, rows in PRESETS.values() for row in rows] + EXTRA
    seen = set()
    for p in points:
        key = (p.unit, p.config, p.options)
        if key in seen:
            continue
        seen.add(key)
        text, name = make_verilog(p)
        digest = hashlib.sha256(text.encode()).hexdigest()[:16]
        print(f"{p.unit:8} {p.config:28} {dict(p.options)!s:22} {name:40} {digest}")


if __name__ == "__main__":
    main()
