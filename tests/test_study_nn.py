"""Study layers and the emulated GEMM path: gradients against finite differences, im2col
against a direct convolution, the array-edge GEMM against golden `mac` and NumPy float32."""

import numpy as np
import pytest

from lpmac.config import MacConfig
from lpmac.golden import from_float, mac, to_float
from lpmac.study.arith import Arithmetic, MacArithmetic, make_arithmetic
from lpmac.study.nn import Conv2d, build_model, im2col, softmax_cross_entropy


def _to64(model):
    for layer, name in model.parameters():
        layer.params[name] = layer.params[name].astype(np.float64)


@pytest.mark.parametrize("name,shape", [("mlp", (1, 4, 4)), ("cnn", (2, 6, 6))])
def test_gradients_match_finite_differences(name, shape):
    rng = np.random.default_rng(3)
    model = build_model(name, shape, 5, rng, width=8)
    _to64(model)
    arith = Arithmetic()
    x = rng.standard_normal((4,) + shape)
    y = rng.integers(0, 5, 4)

    def loss_at():
        return softmax_cross_entropy(model.forward(x, arith), y)[0]

    _, dlogits = softmax_cross_entropy(model.forward(x, arith), y)
    dx = model.backward_to_input(dlogits, arith)
    checks = [(layer.params[n], layer.grads[n]) for layer, n in model.parameters()] + [(x, dx)]
    for value, grad in checks:
        flat, gflat = value.reshape(-1), grad.reshape(-1)
        for i in rng.choice(flat.size, size=min(12, flat.size), replace=False):
            old = flat[i]
            flat[i] = old + 1e-6
            up = loss_at()
            flat[i] = old - 1e-6
            down = loss_at()
            flat[i] = old
            assert (up - down) / 2e-6 == pytest.approx(gflat[i], rel=1e-4, abs=1e-7)


def test_im2col_convolution_equals_direct_loop():
    rng = np.random.default_rng(5)
    n, c, h, w, k, out = 2, 3, 5, 4, 3, 4
    x = rng.standard_normal((n, c, h, w))
    conv = Conv2d(c, out, k, rng)
    weight = conv.params["w"].astype(np.float64)
    conv.params = {"w": weight, "b": np.zeros(out)}
    got = conv.forward(x, Arithmetic())
    kernel = weight.reshape(c, k, k, out)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    want = np.zeros((n, out, h, w))
    for b in range(n):
        for o in range(out):
            for i in range(h):
                for j in range(w):
                    want[b, o, i, j] = np.sum(xp[b, :, i : i + k, j : j + k] * kernel[..., o])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
    assert im2col(x, k).shape == (n * h * w, c * k * k)


def _operands(rng, m, k, n):
    """Values spanning normal, subnormal-for-E5M2, tiny, large, zero and negative."""
    scale = 2.0 ** rng.integers(-20, 8, size=(m, k))
    a = (rng.standard_normal((m, k)) * scale).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    a[0, :3] = [0.0, -0.0, 3e-6]
    return a, b


@pytest.mark.parametrize("spec", ["E5M2:cfg5+E6M5", "E5M2:cfg5+Q8.13", "E4M3:cfg1+E6M3:rz"])
def test_emulated_gemm_equals_golden_mac_per_output(spec):
    """Edge conversion (from_float of the float64 value) then golden `mac` over k = 0..K-1 for
    each output, one by one, against the study's batched path."""
    cfg = MacConfig.parse(spec)
    rng = np.random.default_rng(11)
    a, b = _operands(rng, 3, 17, 4)
    got = MacArithmetic(cfg).matmul(a, b)
    fmt = cfg.mul.in_format
    a_bits = from_float(a.astype(np.float64), fmt)
    b_bits = from_float(b.astype(np.float64), fmt)
    for i in range(3):
        for j in range(4):
            acc = mac(a_bits[i, :], b_bits[:, j], cfg).acc
            want = np.float32(to_float(np.atleast_1d(acc), cfg.acc.fmt)[0])
            assert got[i, j] == want or (np.isnan(got[i, j]) and np.isnan(want))


def test_fp32_mac_gemm_equals_sequential_numpy_float32():
    """fp32:cfg1+fp32 is IEEE single multiply then add, rne, in k order from +0."""
    rng = np.random.default_rng(2)
    a, b = _operands(rng, 4, 33, 3)
    got = make_arithmetic("fp32:cfg1+fp32").matmul(a, b)
    want = np.zeros((4, 3), np.float32)
    for k in range(a.shape[1]):
        want = want + a[:, k : k + 1] * b[k : k + 1, :]  # float32 product, float32 sum
    np.testing.assert_array_equal(got, want)


def test_edge_counts_underflow_and_saturation():
    arith = make_arithmetic("E5M2:cfg5+Q4.13")
    a = np.array([[1e-9, 100.0]], np.float32)  # 1e-9 is below E5M2's smallest subnormal
    b = np.array([[1.0], [1.0]], np.float32)
    out = arith.matmul(a, b, "fwd")
    stats = arith.stats["fwd"]
    assert stats["underflow"] == 1 and stats["inputs"] == 4
    assert stats["saturated"] == 1 and out[0, 0] == 8 - 2.0**-13  # Q4.13 maximum


def test_sr_edge_rounding_is_seeded():
    a = np.random.default_rng(0).standard_normal((4, 8)).astype(np.float32)
    b = np.random.default_rng(1).standard_normal((8, 2)).astype(np.float32)
    runs = [make_arithmetic("E5M2:cfg5+E6M5", "sr", seed=s).matmul(a, b) for s in (1, 1, 2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], runs[2])
    with pytest.raises(ValueError, match="edge rounding"):
        make_arithmetic("E5M2:cfg5+E6M5", "rna")
