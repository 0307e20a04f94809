"""Layers for NumPy training: every GEMM through an `Arithmetic`, everything else in FP32.

Dense and Conv2d (im2col, 'same' padding, stride 1) call `arith.matmul` for the forward
product, the gradient with respect to their input (`dgrad`) and the weight gradient
(`wgrad`); ReLU, max pooling, softmax cross-entropy and the bias terms stay in the input's
float dtype (float32 in training, float64 in the gradient checks)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .arith import Arithmetic
from .choices import MODELS


class Layer:
    need_dx = True  # False for the first layer with weights: its input gradient is unused

    def __init__(self):
        self.params, self.grads = {}, {}

    def forward(self, x, arith: Arithmetic, train: bool = True):
        raise NotImplementedError

    def backward(self, dy, arith: Arithmetic):
        raise NotImplementedError


class Dense(Layer):
    def __init__(self, n_in: int, n_out: int, rng: np.random.Generator):
        super().__init__()
        w = rng.standard_normal((n_in, n_out)) * np.sqrt(2.0 / n_in)  # He init
        self.params = {"w": w.astype(np.float32), "b": np.zeros(n_out, np.float32)}

    def forward(self, x, arith, train=True):
        self.x = x
        return arith.matmul(x, self.params["w"], "fwd") + self.params["b"]

    def backward(self, dy, arith):
        self.grads = {"w": arith.matmul(self.x.T, dy, "wgrad"), "b": dy.sum(axis=0)}
        if not self.need_dx:
            return None
        return arith.matmul(dy, self.params["w"].T, "dgrad")


def im2col(x: np.ndarray, k: int) -> np.ndarray:
    """N x C x H x W -> (N*H*W) x (C*k*k) patches with zero padding k//2 ('same')."""
    n, c, h, w = x.shape
    p = k // 2
    xp = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)))
    win = sliding_window_view(xp, (k, k), axis=(2, 3))  # N x C x H x W x k x k
    return win.transpose(0, 2, 3, 1, 4, 5).reshape(n * h * w, c * k * k)


def col2im(cols: np.ndarray, shape: tuple, k: int) -> np.ndarray:
    """The adjoint of im2col: sum each patch gradient back onto the input positions."""
    n, c, h, w = shape
    p = k // 2
    patches = cols.reshape(n, h, w, c, k, k)
    dxp = np.zeros((n, c, h + 2 * p, w + 2 * p), cols.dtype)
    for i in range(k):
        for j in range(k):
            dxp[:, :, i : i + h, j : j + w] += patches[:, :, :, :, i, j].transpose(0, 3, 1, 2)
    return dxp[:, :, p : p + h, p : p + w]


class Conv2d(Layer):
    """k x k convolution, stride 1, 'same' padding, as one GEMM: patches (N*H*W x C*k*k) times
    weights (C*k*k x out). The weight gradient's K is N*H*W: the long dot products."""

    def __init__(self, c_in: int, c_out: int, k: int, rng: np.random.Generator):
        super().__init__()
        self.k = k
        fan_in = c_in * k * k
        w = rng.standard_normal((fan_in, c_out)) * np.sqrt(2.0 / fan_in)
        self.params = {"w": w.astype(np.float32), "b": np.zeros(c_out, np.float32)}

    def forward(self, x, arith, train=True):
        self.shape = x.shape
        self.cols = im2col(x, self.k)
        y = arith.matmul(self.cols, self.params["w"], "fwd") + self.params["b"]
        n, _, h, w = x.shape
        return y.reshape(n, h, w, -1).transpose(0, 3, 1, 2)

    def backward(self, dy, arith):
        dy2 = dy.transpose(0, 2, 3, 1).reshape(-1, dy.shape[1])
        self.grads = {"w": arith.matmul(self.cols.T, dy2, "wgrad"), "b": dy2.sum(axis=0)}
        if not self.need_dx:
            return None
        return col2im(arith.matmul(dy2, self.params["w"].T, "dgrad"), self.shape, self.k)


class ReLU(Layer):
    def forward(self, x, arith, train=True):
        self.mask = x > 0
        return np.where(self.mask, x, 0).astype(x.dtype)

    def backward(self, dy, arith):
        return np.where(self.mask, dy, 0).astype(dy.dtype)


class MaxPool2(Layer):
    """2 x 2 max pooling, stride 2 (odd trailing rows / columns dropped); the gradient goes to
    the first maximum of each window."""

    def forward(self, x, arith, train=True):
        n, c, h, w = x.shape
        self.shape = x.shape
        win = x[:, :, : h // 2 * 2, : w // 2 * 2].reshape(n, c, h // 2, 2, w // 2, 2)
        win = win.transpose(0, 1, 2, 4, 3, 5).reshape(n, c, h // 2, w // 2, 4)
        self.arg = win.argmax(axis=-1)
        return np.take_along_axis(win, self.arg[..., None], axis=-1)[..., 0]

    def backward(self, dy, arith):
        n, c, h, w = self.shape
        win = np.zeros(dy.shape + (4,), dy.dtype)
        np.put_along_axis(win, self.arg[..., None], dy[..., None], axis=-1)
        win = win.reshape(n, c, h // 2, w // 2, 2, 2).transpose(0, 1, 2, 4, 3, 5)
        dx = np.zeros(self.shape, dy.dtype)
        dx[:, :, : h // 2 * 2, : w // 2 * 2] = win.reshape(n, c, h // 2 * 2, w // 2 * 2)
        return dx


class Flatten(Layer):
    def forward(self, x, arith, train=True):
        self.shape = x.shape
        return x.reshape(x.shape[0], -1)

    def backward(self, dy, arith):
        return dy.reshape(self.shape)


def softmax_cross_entropy(logits: np.ndarray, labels: np.ndarray):
    """Mean cross-entropy and its gradient with respect to the logits."""
    with np.errstate(invalid="ignore", over="ignore"):  # an overflowed forward gives NaN loss
        z = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(z)
        p = e / e.sum(axis=1, keepdims=True)
    n = len(labels)
    loss = -np.log(np.maximum(p[np.arange(n), labels], np.finfo(p.dtype).tiny)).mean()
    grad = p.copy()
    grad[np.arange(n), labels] -= 1
    return float(loss), grad / n


class Sequential:
    def __init__(self, layers: list[Layer]):
        self.layers = layers
        first = next((i for i, layer in enumerate(layers) if layer.params), len(layers))
        for layer in layers[: first + 1]:
            layer.need_dx = False

    def backward_to_input(self, dy, arith):
        """Also the gradient with respect to the model's input (gradient checks)."""
        for layer in self.layers:
            layer.need_dx = True
        return self.backward(dy, arith)

    def forward(self, x, arith, train=True):
        for layer in self.layers:
            x = layer.forward(x, arith, train)
        return x

    def backward(self, dy, arith):
        for layer in reversed(self.layers):
            if dy is None:
                break
            dy = layer.backward(dy, arith)
        return dy

    def parameters(self):
        """(layer, name) pairs in a fixed order."""
        return [(layer, name) for layer in self.layers for name in sorted(layer.params)]


def build_model(
    name: str, in_shape: tuple, classes: int, rng: np.random.Generator, width: int = 64
) -> Sequential:
    """mlp: flatten, dense(width), relu, dense(classes).
    cnn: conv3x3(width/8) relu pool, conv3x3(width/4) relu pool, flatten, dense(classes)."""
    if name == "mlp":
        features = int(np.prod(in_shape))
        return Sequential(
            [Flatten(), Dense(features, width, rng), ReLU(), Dense(width, classes, rng)]
        )
    if name == "cnn":
        if len(in_shape) != 3:
            raise ValueError(f"the cnn model needs images (C x H x W), got samples of {in_shape}")
        c, h, w = in_shape
        c1, c2 = max(1, width // 8), max(1, width // 4)
        return Sequential(
            [
                Conv2d(c, c1, 3, rng),
                ReLU(),
                MaxPool2(),
                Conv2d(c1, c2, 3, rng),
                ReLU(),
                MaxPool2(),
                Flatten(),
                Dense(c2 * (h // 4) * (w // 4), classes, rng),
            ]
        )
    raise ValueError(f"unknown model {name!r}; models are {', '.join(MODELS)}")
