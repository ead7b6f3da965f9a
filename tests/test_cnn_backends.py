"""The runner, KerasClassifier and the ONNX / cv2.dnn path under the other Keras 3 backends.

Each case runs in a fresh interpreter, because ``KERAS_BACKEND`` is read once
when keras is first imported. A backend that is not installed is skipped (CI
installs neither); with ``pip install jax`` or torch the cases run for real.
"""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = {"jax": "jax", "torch": "torch"}


@pytest.mark.parametrize("backend", sorted(BACKENDS))
def test_runner_trains_a_cnn_cell_on_another_backend(backend, tmp_path):
    if importlib.util.find_spec(BACKENDS[backend]) is None:
        pytest.skip(f"{backend} is not installed (pip install {BACKENDS[backend]})")
    env = {**os.environ, "KERAS_BACKEND": backend, "PYTHONWARNINGS": "ignore"}
    cmd = [
        sys.executable,
        "-m",
        "benchmarks.run",
        "--datasets",
        "mnist_sample",
        "--methods",
        "simple_convnet",
        "--n-train",
        "400",
        "--n-test",
        "200",
        "--executor",
        "inline",
        "--out",
        str(tmp_path),
        "--run-id",
        backend,
        "--no-cache",
    ]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(tmp_path / backend / "results.csv", keep_default_na=False)
    assert len(rows) == 1
    row = rows.iloc[0]
    assert row["error"] == "", row["error"]
    assert row["keras_backend"] == backend
    assert str(row["device"]).startswith(backend)
    # 12 epochs on 400 digits: far above the 10% of chance on 200 held-out ones
    assert row["accuracy"] > 0.6, row["accuracy"]
    # the CLI measures cv2.dnn on the ONNX export (on JAX: tf2onnx in a TF subprocess)
    assert abs(float(row["cv_dnn_accuracy"]) - float(row["accuracy"])) <= 0.01


# The GPU image has JAX but no TensorFlow: hide TensorFlow and run the GPU script.
_WITHOUT_TF = """
import runpy, sys


class NoTensorFlow:  # `import tensorflow` fails as if it were not installed
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in ("tensorflow", "tf2onnx", "tf_keras"):
            raise ModuleNotFoundError(f"No module named {name!r}")


sys.meta_path.insert(0, NoTensorFlow())
sys.argv = ["gpu_bench.py", *sys.argv[1:]]
runpy.run_path("scripts/gpu_bench.py", run_name="__main__")
assert "tensorflow" not in sys.modules
"""


def test_gpu_script_runs_on_jax_without_tensorflow(tmp_path):
    if importlib.util.find_spec("jax") is None:
        pytest.skip("jax is not installed (pip install jax)")
    out = tmp_path / "rows.csv"
    env = {**os.environ, "KERAS_BACKEND": "jax", "PYTHONWARNINGS": "ignore"}
    cmd = [sys.executable, "-c", _WITHOUT_TF, "--smoke", "--synthetic", "--out", str(out)]
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    rows = pd.read_csv(out)
    # resnet20 trains with flip + translate augmentation through ArrayBatches
    assert list(rows["model"]) == ["simple_convnet", "resnet20", "resnet9"]
    assert set(rows["backend"]) == {"jax"}
    assert (rows["epochs_run"] == 1).all()
