"""ONNX export of fitted CNNs and inference through cv2.dnn."""

from __future__ import annotations

import os

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

pytest.importorskip("onnx")
cv2 = pytest.importorskip("cv2")
keras = pytest.importorskip("keras")
cnn = pytest.importorskip("cnn")

if keras.backend.backend() == "tensorflow":
    pytest.importorskip("tf2onnx")
elif keras.backend.backend() == "jax":  # exported by tf2onnx in a TensorFlow subprocess
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")

pytestmark = pytest.mark.filterwarnings("ignore:In the future `np.object`:FutureWarning")


def _data(n=128, shape=(16, 16, 3), seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (n, *shape)).astype(np.uint8), rng.integers(0, 3, n)


@pytest.mark.parametrize(
    "model, params",
    [
        ("simple_convnet", {}),
        ("resnet20", {"depth": 8}),  # BatchNorm + option-A shortcut (custom layer)
    ],
)
def test_cv_dnn_matches_keras(tmp_path, model, params):
    X, y = _data()
    est = cnn.KerasClassifier(
        model=model, model_params=params, epochs=1, batch_size=32, random_state=0
    ).fit(X, y + 5)
    net = est.to_cv_dnn(tmp_path / f"{model}.onnx", batch_size=50)
    assert (tmp_path / f"{model}.onnx").stat().st_size > 1000
    ref = est.predict_proba(X)
    got = net.predict_proba(X)
    assert got.shape == ref.shape
    np.testing.assert_allclose(got, ref, atol=1e-4)
    np.testing.assert_array_equal(net.predict(X), est.predict(X))
    np.testing.assert_allclose(net.predict_proba(X[:1]), ref[:1], atol=1e-4)  # batch 1


def test_cv_dnn_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError):
        cnn.CvDnnClassifier(tmp_path / "none.onnx", [0, 1], (8, 8, 1)).fit()
