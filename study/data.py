"""Data sets for the study: scikit-learn's bundled digits (no download) or a user's .npz.

Images are returned as float32 N x C x H x W, standardised with the training set's
per-channel mean and standard deviation; labels as int64 0..classes-1. A flat data set
(N x D) has no image shape and trains the MLP only."""

from __future__ import annotations

import hashlib
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .choices import DIGITS

_NPZ_KEYS = ("x_train", "y_train", "x_test", "y_test")


class DatasetError(ValueError):
    """A missing, unreadable or mis-shaped data set file."""


@dataclass(frozen=True)
class Dataset:
    name: str
    x_train: np.ndarray  # float32, N x C x H x W (images) or N x D (flat)
    y_train: np.ndarray  # int64
    x_test: np.ndarray
    y_test: np.ndarray
    classes: int
    fingerprint: str  # identifies the data for the run cache

    @property
    def is_image(self) -> bool:
        return self.x_train.ndim == 4

    @property
    def features(self) -> int:
        return int(np.prod(self.x_train.shape[1:]))


def load_dataset(source: str | Path = DIGITS) -> Dataset:
    """`"digits"` or a path to an .npz with x_train, y_train, x_test, y_test."""
    if str(source) == DIGITS:
        return load_digits_split()
    return load_npz(Path(source))


def load_digits_split(test_fraction: float = 0.2) -> Dataset:
    """The 1,797 8x8 digits, a fixed stratified split (80 / 20, random_state 0)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    digits = load_digits()
    x = digits.images.astype(np.float32)[:, None, :, :]  # N x 1 x 8 x 8, values 0..16
    y = digits.target.astype(np.int64)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=0, stratify=y
    )
    return _finish(DIGITS, x_train, y_train, x_test, y_test, f"sklearn-digits-{test_fraction}")


def load_npz(path: Path) -> Dataset:
    if not path.is_file():
        raise DatasetError(f"data set {path}: no such file (expected an .npz with {_keys()})")
    try:
        with np.load(path, allow_pickle=False) as npz:
            missing = [k for k in _NPZ_KEYS if k not in npz.files]
            if missing:
                raise DatasetError(
                    f"data set {path}: missing array(s) {', '.join(missing)} (needs {_keys()})"
                )
            arrays = {k: npz[k] for k in _NPZ_KEYS}
    except DatasetError:
        raise
    except (OSError, ValueError, zipfile.BadZipFile, EOFError) as err:
        first = str(err).splitlines()[0] if str(err) else type(err).__name__
        raise DatasetError(f"data set {path}: not a readable .npz ({first})") from None
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    x_train, x_test = (_images(arrays[k], k, path) for k in ("x_train", "x_test"))
    y_train, y_test = (_labels(arrays[k], k, path) for k in ("y_train", "y_test"))
    for x, y, split in ((x_train, y_train, "train"), (x_test, y_test, "test")):
        if len(x) != len(y):
            raise DatasetError(f"data set {path}: x_{split} has {len(x)} rows, y_{split} {len(y)}")
        if len(x) == 0:
            raise DatasetError(f"data set {path}: x_{split} is empty")
    if x_train.shape[1:] != x_test.shape[1:]:
        raise DatasetError(
            f"data set {path}: x_train samples are {x_train.shape[1:]}, x_test {x_test.shape[1:]}"
        )
    return _finish(path.name, x_train, y_train, x_test, y_test, f"npz-{digest}")


def _keys() -> str:
    return ", ".join(_NPZ_KEYS)


def _images(x: np.ndarray, key: str, path: Path) -> np.ndarray:
    """N x D (flat), N x H x W x C or N x C x H x W (channels: the axis of size 1, 3 or 4
    found first after N, else the last one) -> float32 N x D or N x C x H x W."""
    if x.dtype.kind not in "uif" or x.dtype.kind == "b":
        raise DatasetError(f"data set {path}: {key} must be numeric, got dtype {x.dtype}")
    if x.ndim == 3:  # N x H x W grey images
        x = x[:, None]
    elif x.ndim == 4:
        if x.shape[1] not in (1, 3, 4) and x.shape[3] in (1, 3, 4):
            x = x.transpose(0, 3, 1, 2)  # N x H x W x C -> N x C x H x W
    elif x.ndim != 2:
        raise DatasetError(
            f"data set {path}: {key} has shape {x.shape}; expected N x D, N x H x W, "
            "N x H x W x C or N x C x H x W"
        )
    x = np.ascontiguousarray(x, dtype=np.float32)
    if not np.isfinite(x).all():
        raise DatasetError(f"data set {path}: {key} holds NaN or infinite values")
    return x


def _labels(y: np.ndarray, key: str, path: Path) -> np.ndarray:
    y = np.squeeze(y) if y.ndim == 2 and 1 in y.shape else y
    if y.ndim != 1 or y.dtype.kind not in "iu":
        raise DatasetError(
            f"data set {path}: {key} must be integer class labels of shape (N,), "
            f"got {y.dtype} {y.shape}"
        )
    if len(y) and y.min() < 0:
        raise DatasetError(f"data set {path}: {key} has negative labels")
    return y.astype(np.int64)


def _finish(name, x_train, y_train, x_test, y_test, fingerprint) -> Dataset:
    """Standardise per channel (images) or per feature (flat) with training statistics."""
    axes = (0, 2, 3) if x_train.ndim == 4 else (0,)
    mean = x_train.mean(axis=axes, keepdims=True, dtype=np.float64)
    std = x_train.std(axis=axes, keepdims=True, dtype=np.float64)
    std = np.where(std > 0, std, 1.0)

    def norm(x):
        return ((x - mean) / std).astype(np.float32)

    classes = int(max(y_train.max(), y_test.max())) + 1
    return Dataset(name, norm(x_train), y_train, norm(x_test), y_test, classes, fingerprint)
