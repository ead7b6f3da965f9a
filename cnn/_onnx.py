"""ONNX export of trained CNNs and inference through OpenCV's ``cv2.dnn``.

Export uses Keras 3's own ``model.export(path, format="onnx")``, which on the
TensorFlow backend drives tf2onnx (on JAX, jax2onnx) (``tf2onnx`` and ``onnx`` must be
installed: ``pip install cvbench[onnx]``). Checked here with TensorFlow 2.21,
Keras 3.15, tf2onnx 1.17, onnx 1.23, protobuf 7: it works; OpenCV 5.1's
``cv2.dnn.readNetFromONNX`` then matches Keras to ~1e-7.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
        Without ``tf2onnx``/``onnx``, with the pip line that fixes it.

    References
    ----------
    ONNX: Open Neural Network Exchange, https://onnx.ai (2017-).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        import keras
        import onnx  # noqa: F401

        if keras.backend.backend() == "tensorflow":
            import tf2onnx  # noqa: F401
        elif keras.backend.backend() == "jax":
            import jax2onnx  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"ONNX export needs the onnx extras ({exc}); pip install 'tf2onnx>=1.16' "
            "'onnx>=1.15' (TensorFlow backend) or jax2onnx (JAX backend)"
        ) from exc
    with _quiet_tf2onnx():
        model.export(str(path), format="onnx", verbose=False, opset_version=opset_version)
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
