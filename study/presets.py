"""The `seed-train` preset: the reference's MAC rows (docs/reference.md, "Systems":
ResNet-20 / CIFAR-10 and ResNet-50 / Imagewoof) on digits, plus the rows that show where
the MAC choice matters. A row is (config, RunSpec overrides, note)."""

from __future__ import annotations

SEED_TRAIN_MAIN = [
    ("fp32:cfg1+fp32", {}, "reference FP32 MAC: 91.85 % (ResNet-20), 57.57 % (ResNet-50)"),
    ("E5M2:cfg5+E6M5", {}, "reference: 91.04 % (ResNet-20), 59.79 % (ResNet-50)"),
    ("E5M2:cfg5+Q8.13", {}, "reference: 90.95 % (ResNet-20), 10.92 % (ResNet-50)"),
    ("E5M2:cfg5+Q11.13", {}, "reference: n/a (ResNet-20), 59.38 % (ResNet-50)"),
    ("BFP8/24", {}, "HBFP, fp32 in/out"),
    ("float32", {}, "NumPy float32, no emulation (baseline)"),
]

SEED_TRAIN_EXPERIMENTS = [
    ("E5M2:cfg5+E6M5", {"loss_scaling": "none"}, "loss scaling: off"),
    ("E4M3:cfg5+E6M5", {"loss_scaling": "none"}, "loss scaling: off, narrower exponent"),
    ("E4M3:cfg5+E6M5", {}, "loss scaling: dynamic, narrower exponent"),
    ("E5M2:cfg5+Q8.13", {"loss_scaling": "static:65536"}, "fixed acc. saturates: scale too big"),
    ("E5M2:cfg5+Q8.13", {"loss_scaling": "dynamic-sat"}, "dynamic scaling that sees saturation"),
    ("E5M2:cfg5+Q4.13", {}, "fixed acc. too narrow: forward saturates"),
    ("E5M2:cfg5+E6M2", {}, "narrow float accumulator"),
    ("E5M2:cfg5+E6M2", {"batch": 256}, "narrow float acc., long K (weight grad K = 256)"),
    ("E5M2:cfg5+E6M5", {"batch": 256}, "long K (weight grad K = 256)"),
    ("float32", {"batch": 256}, "baseline for the batch-256 rows"),
]

PRESETS = {
    "seed-train": (
        "The reference's MAC rows (fp32, E5M2 CFG-5 + E6M5 / Q8.13 / Q11.13), BFP8/24 and "
        "float32, then targeted rows: loss scaling, fixed-accumulator saturation, narrow and "
        "long-K float accumulation",
        SEED_TRAIN_MAIN + SEED_TRAIN_EXPERIMENTS,
    ),
}
