"""ONNX export of trained CNNs and inference through OpenCV's ``cv2.dnn``.

Export uses Keras 3's own ``model.export(path, format="onnx")``. On the
TensorFlow backend that drives tf2onnx (``tf2onnx`` and ``onnx`` must be
installed); checked with TensorFlow 2.21, Keras 3.15, tf2onnx 1.17, onnx 1.23:
OpenCV 5.1's ``cv2.dnn.readNetFromONNX`` then matches Keras to ~1e-7. On torch
it drives ``torch.onnx``, whose graphs OpenCV also reads. On JAX, Keras uses
jax2onnx, which lowers max pooling to a 4-D ``MaxPool`` that OpenCV 5.1 refuses
("attribute_proto.ints_size() == 1 || ... == 3"), so a JAX-trained model is
saved as ``.keras`` and exported by tf2onnx in a TensorFlow subprocess instead
(TensorFlow is a cvbench dependency; without it the export raises).
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin

from features._validation import check_images

__all__ = ["CvDnnClassifier", "export_onnx"]


@contextlib.contextmanager
def _quiet_tf2onnx():
    """Silence tf2onnx's per-node warnings ("Removed Mul ...") during export."""
    log = logging.getLogger("tf2onnx")
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def export_onnx(model, path, opset_version=None) -> Path:
    """Write a Keras model (float32 dtype policy) to an ONNX file.

    Parameters
    ----------
    model : keras.Model
        Called at least once (any fitted model is). Its input is NHWC float32.
    path : str or Path
    opset_version : int, optional
        Default: the backend's default (tf2onnx picks one OpenCV reads).

    Returns
    -------
    Path

    Raises
    ------
    ImportError
        Without ``tf2onnx``/``onnx`` (or, on JAX, TensorFlow), with the pip
        line that fixes it.
    RuntimeError
        When the TensorFlow subprocess that exports a JAX-trained model fails
        (its stderr is in the message).

    References
    ----------
    ONNX: Open Neural Network Exchange, https://onnx.ai (2017-).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        return _export_through_tensorflow(model, path, opset_version)
    try:
        import onnx  # noqa: F401

        if backend == "tensorflow":
            import tf2onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs the onnx extras ({exc}); pip install 'tf2onnx>=1.16' 'onnx>=1.15'"
        ) from exc
    with _quiet_tf2onnx():
        model.export(str(path), format="onnx", verbose=False, opset_version=opset_version)
    return path


_EXPORT_IN_TENSORFLOW = """
import sys, keras, numpy as np
import cnn  # registers the custom layers
from cnn._onnx import export_onnx
opset = int(sys.argv[3]) if sys.argv[3] else None
model = keras.models.load_model(sys.argv[1], compile=False)
model(np.zeros((1, *model.input_shape[1:]), "float32"))  # export needs a called model
export_onnx(model, sys.argv[2], opset)
"""


def _export_through_tensorflow(model, path: Path, opset_version) -> Path:
    """Save ``model`` as ``.keras`` and export it with tf2onnx under TensorFlow."""
    import importlib.util

    if importlib.util.find_spec("tensorflow") is None:
        raise ImportError(
            "ONNX export of a JAX-trained model goes through tf2onnx, which needs "
            "TensorFlow in this environment; pip install tensorflow-cpu tf2onnx onnx"
        )
    with tempfile.TemporaryDirectory(prefix="cvbench-export-") as tmp:
        saved = Path(tmp) / "model.keras"
        model.save(saved)
        root = str(Path(__file__).resolve().parents[1])  # cnn importable as in this process
        pythonpath = os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH")) if p)
        env = {
            **os.environ,
            "KERAS_BACKEND": "tensorflow",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "PYTHONPATH": pythonpath,
        }
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                _EXPORT_IN_TENSORFLOW,
                str(saved),
                str(path),
                "" if opset_version is None else str(int(opset_version)),
            ],
            env=env,
            capture_output=True,
            text=True,
        )
    if proc.returncode != 0 or not path.exists():
        raise RuntimeError(
            f"ONNX export through TensorFlow failed (exit {proc.returncode}): "
            f"{proc.stderr.strip()[-2000:]}"
        )
    return path


class CvDnnClassifier(ClassifierMixin, BaseEstimator):
    """Predict with an exported ONNX CNN through ``cv2.dnn`` (no Keras needed).

    Takes uint8 images like :class:`cnn.KerasClassifier` and scales them to
    [0, 1] the same way, so predictions match the Keras model.

    Parameters
    ----------
    onnx_path : str or Path
    classes : array-like
        Label of each output column (``KerasClassifier.classes_``).
    input_shape : tuple of int
        ``(H, W, C)`` the model was trained on.
    batch_size : int, default=512
        Images per ``forward`` call.
    backend : int, optional
        ``cv2.dnn.DNN_BACKEND_*`` (default: OpenCV's own, CPU target).

    References
    ----------
    G. Bradski, "The OpenCV Library", Dr. Dobb's Journal, 2000; OpenCV dnn
    module, https://docs.opencv.org/.
    """

    def __init__(self, onnx_path, classes, input_shape, batch_size=512, backend=None):
        self.onnx_path = onnx_path
        self.classes = classes
        self.input_shape = input_shape
        self.batch_size = batch_size
        self.backend = backend

    def fit(self, X=None, y=None):
        """Load the network (no training)."""
        import cv2

        if not os.path.exists(self.onnx_path):
            raise FileNotFoundError(f"no ONNX file at {self.onnx_path}")
        self.net_ = cv2.dnn.readNetFromONNX(str(self.onnx_path))
        if self.backend is not None:
            self.net_.setPreferableBackend(self.backend)
        self.classes_ = np.asarray(self.classes)
        self.input_shape_ = tuple(int(s) for s in self.input_shape)
        return self

    def predict_proba(self, X):
        """Class probabilities, shape ``(n, n_classes)``."""
        if not hasattr(self, "net_"):
            self.fit()
        X = check_images(X, estimator=self, expected_shape=self.input_shape_)
        out = []
        for i in range(0, len(X), self.batch_size):
            blob = np.ascontiguousarray(X[i : i + self.batch_size], dtype=np.float32)
            blob *= np.float32(1.0 / 255.0)
            self.net_.setInput(blob)
            out.append(np.array(self.net_.forward(), dtype=np.float32).reshape(len(blob), -1))
        return np.concatenate(out)

    def predict(self, X):
        """Predicted labels."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
