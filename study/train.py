"""One training run: a model, a data set, an arithmetic, a seed -> test accuracy.

SGD with momentum on FP32 master weights; the loss gradient is multiplied by the loss scale
before the backward GEMMs and the weight gradients divided by it (in FP32) before the update.
Loss scaling (`LossScaling`):
* `none`, or `static:S` (S a power of two): a fixed scale; no step is ever skipped.
* `dynamic[:S]` (Micikevicius et al. 2018, what the reference used): start at S (default 2^10);
  a step whose gradients are not finite, or whose GEMMs raised the MAC's sticky `invalid`
  flag, is skipped and the scale halved; after `growth` good steps in a row it doubles.
* `dynamic-sat[:S]`: as dynamic, and an output of a backward GEMM at a fixed accumulator's
  saturation bound also counts as an overflow (a saturation flag the array does not have
  today; the experiment says whether it would be worth adding).
Deterministic: initialisation, shuffling and the edge converter's sr draws come from
generators seeded by the run's seed."""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass

import numpy as np

from .arith import PASSES, make_arithmetic
from .choices import EDGE_ROUNDING
from .data import Dataset
from .nn import build_model, softmax_cross_entropy

SCALING_KINDS = ("none", "static", "dynamic", "dynamic-sat")
MAX_SCALE = 2.0**24


@dataclass(frozen=True)
class LossScaling:
    kind: str = "dynamic"
    scale: float = 2.0**10
    growth: int = 100  # good steps before the dynamic scale doubles

    @classmethod
    def parse(cls, text: str) -> LossScaling:
        kind, _, value = text.strip().lower().partition(":")
        if kind not in SCALING_KINDS:
            raise ValueError(
                f"loss scaling {text!r}: expected none, static:S, dynamic[:S] or dynamic-sat[:S]"
            )
        if kind == "none":
            return cls("none", 1.0)
        if kind == "static" and not value:
            raise ValueError(f"loss scaling {text!r}: static needs a scale, e.g. static:1024")
        try:
            scale = float(value) if value else cls.scale
        except ValueError:
            raise ValueError(f"loss scaling {text!r}: scale must be a number") from None
        if not (scale > 0 and np.log2(scale).is_integer()):
            raise ValueError(f"loss scaling {text!r}: scale must be a power of two, got {scale}")
        return cls(kind, scale)

    def __str__(self) -> str:
        if self.kind == "none":
            return "none"
        return f"{self.kind}:{int(self.scale) if self.scale >= 1 else self.scale}"


@dataclass(frozen=True)
class RunSpec:
    """Everything that determines a run's numbers (and its cache key)."""

    config: str
    model: str = "mlp"
    epochs: int = 20
    seed: int = 0
    batch: int = 32
    lr: float = 0.05
    momentum: float = 0.9
    width: int = 64
    loss_scaling: str = "dynamic"
    edge_rounding: str = "rne"

    def __post_init__(self):
        LossScaling.parse(self.loss_scaling)
        if self.edge_rounding not in EDGE_ROUNDING:
            raise ValueError(
                f"edge rounding must be one of {', '.join(EDGE_ROUNDING)}, "
                f"got {self.edge_rounding!r}"
            )
        for name in ("epochs", "batch", "width"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")

    def to_json(self) -> dict:
        return asdict(self)


def _lr_at(spec: RunSpec, epoch: int) -> float:
    """Cosine decay from lr to lr/20 over the run."""
    return spec.lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * epoch / spec.epochs)))


def accuracy(model, arith, x, y, batch: int = 256) -> float:
    correct = 0
    for i in range(0, len(x), batch):
        logits = model.forward(x[i : i + batch], arith, train=False)
        correct += int(np.count_nonzero(logits.argmax(axis=1) == y[i : i + batch]))
    return correct / len(x)


def train_run(spec: RunSpec, data: Dataset, progress=None) -> dict:
    """Train and evaluate; `progress(epoch, loss)` is called after each epoch."""
    # A run that overflows (static scaling, a narrow format) is a result, not a warning.
    with np.errstate(over="ignore", invalid="ignore"):
        return _train(spec, data, progress)


def _train(spec: RunSpec, data: Dataset, progress) -> dict:
    scaling = LossScaling.parse(spec.loss_scaling)
    rng = np.random.default_rng(spec.seed)
    arith = make_arithmetic(spec.config, spec.edge_rounding, seed=spec.seed + 1)
    model = build_model(spec.model, data.x_train.shape[1:], data.classes, rng, spec.width)
    params = model.parameters()
    velocity = {id(layer.params[n]): np.zeros_like(layer.params[n]) for layer, n in params}
    scale, good_steps, skipped, steps = scaling.scale, 0, 0, 0
    losses, scales = [], []
    start = time.monotonic()
    n = len(data.x_train)
    for epoch in range(spec.epochs):
        lr = _lr_at(spec, epoch)
        order = rng.permutation(n)
        total, batches = 0.0, 0
        for i in range(0, n, spec.batch):
            idx = order[i : i + spec.batch]
            logits = model.forward(data.x_train[idx], arith)
            loss, dlogits = softmax_cross_entropy(logits, data.y_train[idx])
            before = _overflow_counts(arith)
            model.backward((dlogits * np.float32(scale)).astype(np.float32), arith)
            grads = [layer.grads[name] / np.float32(scale) for layer, name in params]
            steps += 1
            if scaling.kind.startswith("dynamic"):
                overflow = _overflow_counts(arith) != before
                if scaling.kind == "dynamic":
                    overflow = overflow[:2]
                if any(overflow) or not all(np.isfinite(g).all() for g in grads):
                    skipped += 1
                    scale, good_steps = max(scale / 2, 2.0**-24), 0
                    continue
                good_steps += 1
                if good_steps >= scaling.growth:
                    scale, good_steps = min(scale * 2, MAX_SCALE), 0
            for (layer, name), g in zip(params, grads):
                p = layer.params[name]
                v = velocity[id(p)]
                v *= np.float32(spec.momentum)
                v += g.astype(np.float32)
                p -= np.float32(lr) * v
            total += loss
            batches += 1
        losses.append(total / batches if batches else float("nan"))
        scales.append(scale)
        if progress is not None:
            progress(epoch + 1, losses[-1])
    seconds = time.monotonic() - start
    test_acc = accuracy(model, arith, data.x_test, data.y_test)
    return {
        "spec": spec.to_json(),
        "test_acc": test_acc,
        "train_loss": losses,
        "loss_scale": scales,
        "steps": steps,
        "skipped_steps": skipped,
        "train_seconds": round(seconds, 3),
        "stats": {p: dict(arith.stats[p]) for p in PASSES},
    }


def _overflow_counts(arith) -> tuple:
    """Backward-pass counters whose change means an overflow: non-finite outputs, invalid
    flags, saturated fixed accumulators (used by dynamic-sat only)."""
    s = [arith.stats[p] for p in ("dgrad", "wgrad")]
    return np.array(
        [
            sum(x["nonfinite"] for x in s),
            sum(x["invalid"] for x in s),
            sum(x["saturated"] for x in s),
        ]
    )
