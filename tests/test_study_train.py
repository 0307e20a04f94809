"""Study training runs: loss scaling, determinism, the run cache, data files, the command."""

import json
from dataclasses import replace

import numpy as np
import pytest
from click.testing import CliRunner

from lpmac.study.command import study
from lpmac.study.data import Dataset, DatasetError, load_dataset, load_npz
from lpmac.study.runner import run_all
from lpmac.study.train import LossScaling, RunSpec, train_run


@pytest.fixture(scope="module")
def small():
    """200 training and 100 test digits: a few hundred ms per emulated epoch."""
    d = load_dataset()
    return Dataset(
        "small",
        d.x_train[:200],
        d.y_train[:200],
        d.x_test[:100],
        d.y_test[:100],
        d.classes,
        "small",
    )


def test_loss_scaling_parse():
    assert LossScaling.parse("none").scale == 1
    assert LossScaling.parse("static:1024") == LossScaling("static", 1024.0)
    assert LossScaling.parse("dynamic-sat:64").kind == "dynamic-sat"
    for bad in ("static", "static:1000", "dynamic:x", "adaptive"):
        with pytest.raises(ValueError):
            LossScaling.parse(bad)


def test_dynamic_scaling_backs_off_from_overflow(small):
    """2^24 times the loss gradient overflows E5M2 (max 57344) at the array edge: dynamic
    scaling skips those steps and halves the scale until the gradients are finite; a static
    scale of 2^24 does not skip and ends in NaN weights."""
    spec = RunSpec("E5M2:cfg5+E6M5", epochs=2, batch=50, loss_scaling="dynamic:16777216")
    res = train_run(spec, small)
    assert res["skipped_steps"] >= 1
    assert res["loss_scale"][-1] < 2.0**24
    assert np.isfinite(res["train_loss"]).all() and res["test_acc"] > 0.3
    static = train_run(replace(spec, loss_scaling="static:16777216"), small)
    assert static["skipped_steps"] == 0 and np.isnan(static["train_loss"][-1])


def test_loss_scaling_lifts_gradients_out_of_underflow(small):
    spec = RunSpec("E4M3:cfg5+E6M5", epochs=1, batch=50, loss_scaling="none")
    plain = train_run(spec, small)["stats"]["dgrad"]
    scaled = train_run(replace(spec, loss_scaling="static:1024"), small)["stats"]["dgrad"]
    assert plain["inputs"] == scaled["inputs"]
    assert scaled["underflow"] < plain["underflow"] / 4


def test_dynamic_sat_sees_fixed_accumulator_saturation(small):
    """Q4.13 saturates at 8: plain dynamic scaling never notices, dynamic-sat backs off."""
    spec = RunSpec("E5M2:cfg5+Q4.13", epochs=1, batch=50, loss_scaling="dynamic:4096")
    assert train_run(spec, small)["skipped_steps"] == 0
    assert train_run(replace(spec, loss_scaling="dynamic-sat:4096"), small)["skipped_steps"] > 0


def test_long_accumulator_trains(small):
    """A long accumulator (exact sums, one rounding; golden.matmul's long kernels) runs a
    study epoch: every GEMM emulated, finite outputs, and it learns."""
    res = train_run(RunSpec("E5M2:cfg5+E6M5:long", epochs=1, batch=50), small)
    fwd = res["stats"]["fwd"]
    assert fwd["inputs"] > 0 and fwd["outputs"] > 0 and fwd["nonfinite"] == 0
    assert np.isfinite(res["train_loss"]).all() and res["test_acc"] > 0.2


@pytest.mark.parametrize("config", ["E5M2:cfg5+Q8.13", "float32"])
def test_same_seed_same_numbers(small, config):
    spec = RunSpec(config, epochs=2, batch=50, model="cnn", width=16, edge_rounding="sr")
    a, b = train_run(spec, small), train_run(spec, small)
    for res in (a, b):
        res.pop("train_seconds")
    assert a == b
    other = train_run(replace(spec, seed=1), small)
    assert other["train_loss"] != a["train_loss"]


def test_study_resumes_from_cached_runs(tmp_path):
    specs = [RunSpec(c, epochs=1, seed=s) for c in ("float32", "E5M2:cfg5+E6M5") for s in (0, 1)]
    first = run_all(specs, "digits", tmp_path, progress=False)
    files = sorted((tmp_path / "runs").glob("*.json"))
    assert len(files) == 4 and not any(r["cached"] for r in first)
    files[0].unlink()  # as if the study had been interrupted before this run finished
    second = run_all(specs, "digits", tmp_path, progress=False)
    assert sum(not r["cached"] for r in second) == 1
    for a, b in zip(first, second):
        assert a["test_acc"] == b["test_acc"] and a["train_loss"] == b["train_loss"]
    assert not list((tmp_path / "runs").glob(".*tmp"))


def test_parallel_runs_equal_serial_runs(tmp_path):
    """Two worker processes; this process has run numba kernels (OpenMP) in earlier tests,
    after which a forked pool would abort."""
    specs = [RunSpec("float32", epochs=2, seed=s) for s in (0, 1, 2)]
    serial = run_all(specs, "digits", tmp_path / "serial", progress=False)
    parallel = run_all(specs, "digits", tmp_path / "parallel", jobs=2, progress=False)
    for a, b in zip(serial, parallel):
        assert a["spec"] == b["spec"] and a["train_loss"] == b["train_loss"]
        assert a["test_acc"] == b["test_acc"] and not b["cached"]


def _npz(path, **arrays):
    np.savez(path, **arrays)
    return path


def test_npz_layouts(tmp_path):
    rng = np.random.default_rng(0)
    nhwc = rng.random((6, 5, 4, 3)).astype(np.float32)
    y = np.array([0, 1, 2, 0, 1, 2])
    d = load_npz(_npz(tmp_path / "c.npz", x_train=nhwc, y_train=y, x_test=nhwc[:2], y_test=y[:2]))
    assert d.x_train.shape == (6, 3, 5, 4) and d.is_image and d.classes == 3
    raw = nhwc.transpose(0, 3, 1, 2)[:, 1]
    assert np.allclose(d.x_train[:, 1] * raw.std() + raw.mean(), raw, atol=1e-5)
    flat = load_npz(
        _npz(
            tmp_path / "f.npz",
            x_train=nhwc.reshape(6, -1),
            y_train=y,
            x_test=nhwc[:2].reshape(2, -1),
            y_test=y[:2],
        )
    )
    assert flat.x_train.shape == (6, 60) and not flat.is_image


def test_bad_dataset_files(tmp_path):
    x, y = np.zeros((4, 2, 2)), np.zeros(4, int)
    (tmp_path / "text.npz").write_text("not a zip")
    cases = {
        tmp_path / "missing.npz": "no such file",
        tmp_path / "text.npz": "not a readable .npz",
        _npz(tmp_path / "nokey.npz", x_train=x, y_train=y, x_test=x): "missing array",
        _npz(
            tmp_path / "5d.npz", x_train=x[..., None, None, None], y_train=y, x_test=x, y_test=y
        ): "has shape",
        _npz(tmp_path / "len.npz", x_train=x, y_train=y[:3], x_test=x, y_test=y): "rows",
        _npz(tmp_path / "lab.npz", x_train=x, y_train=y + 0.5, x_test=x, y_test=y): "labels",
        _npz(
            tmp_path / "hw.npz", x_train=x, y_train=y, x_test=np.zeros((4, 3, 3)), y_test=y
        ): "samples are",
    }
    for path, message in cases.items():
        with pytest.raises(DatasetError, match=message):
            load_npz(path)
        result = CliRunner().invoke(
            study, ["--config", "float32", "--dataset", str(path), "-o", str(tmp_path / "o")]
        )
        assert result.exit_code == 2, result.output
        assert message in result.output and len(result.output.strip().splitlines()) == 1
    assert issubclass(DatasetError, ValueError)


def test_command_writes_reports_and_refuses_bad_input(tmp_path):
    runner = CliRunner()
    out = tmp_path / "o"
    args = [
        "--config",
        "float32",
        "--config",
        "E5M2:cfg5+Q8.13",
        "--epochs",
        "1",
        "--seeds",
        "2",
        "--no-synth",
        "--no-progress",
        "-o",
        str(out),
    ]
    result = runner.invoke(study, args)
    assert result.exit_code == 0, result.output
    rows = json.loads((out / "results.json").read_text())
    assert [r["config"] for r in rows] == ["float32", "E5M2:cfg5+Q8.13"]
    assert rows[0]["delta_vs_float32"] == 0 and len(rows[1]["acc_runs"]) == 2
    assert (out / "results.png").stat().st_size > 0
    assert "E5M2:cfg5+Q8.13" in (out / "results.md").read_text()
    for bad in (
        ["--config", "E5M2:cfg9+E6M5"],
        ["--config", "float32", "--loss-scaling", "x"],
        ["seed-train", "--config", "float32"],
        [],
    ):
        result = runner.invoke(study, bad + ["-o", str(out)])
        assert result.exit_code == 2 and len(result.output.strip().splitlines()) == 1, bad
