"""The data contract every loader returns."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Literal

import numpy as np

from benchmarks.registry import Registry

__all__ = [
    "DATASETS",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "fingerprint_arrays",
    "register_dataset",
]

#: Which kind of data a row was measured on; printed at the top of each report.
DataKind = Literal["full", "subset", "bundled sample"]


class DataError(ValueError):
    """A data file exists but is unusable (wrong checksum, truncated, bad layout)."""


class DataNotFoundError(FileNotFoundError):
    """No source could supply the data; the message lists every place looked."""


@dataclass(frozen=True, eq=False)
class Dataset:
    """Train and test images of one image-classification dataset.

    Parameters
    ----------
    name : str
        Registry name or spec it was loaded from (``"mnist"``, ``"npz:/p/x.npz"``).
    title : str
        Human name for reports (``"CIFAR-10 (JPEG copy)"``).
    x_train, x_test : ndarray of shape (n, H, W, C), dtype uint8
        Images; ``C`` is 1 for gray-scale and 3 for RGB.
    y_train, y_test : ndarray of shape (n,), dtype int64
        Labels in ``range(len(class_names))``.
    class_names : tuple of str
        Name of each label.
    source : str
        Where the data came from, e.g. ``"data-dir /x/mnist.npz"``,
        ``"keras cache ~/.keras/datasets/mnist.npz"``, ``"download <url>"``,
        ``"bundled sample"``.
    kind : {"full", "subset", "bundled sample"}
        Full official split, a (stratified) subset of it, or the package's sample.
    fingerprint : str
        SHA-256 over the array bytes and shapes (16 hex digits); equal data gives
        an equal fingerprint whatever file format it came from.
    """

    name: str
    title: str
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    source: str
    kind: DataKind
    fingerprint: str

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """``(H, W, C)`` of one image."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    @property
    def n_classes(self) -> int:
        return len(self.class_names)


def fingerprint_arrays(*arrays: np.ndarray) -> str:
    """SHA-256 (first 16 hex digits) of the shapes, dtypes and bytes of ``arrays``."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(memoryview(a).cast("B"))
    return h.hexdigest()[:16]


#: Built-in datasets: ``factory(data_dir=None, download=True, cache_dir=None) -> Dataset``.
DATASETS: Registry = Registry("dataset")
register_dataset = DATASETS.register
