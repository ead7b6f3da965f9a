"""Shared machinery of the image feature extractors.

:class:`ImageFeature` implements the scikit-learn ``fit`` / ``transform``
protocol once: input validation, a preallocated float32 output and chunked
extraction over ``n_jobs`` workers with joblib.  A subclass only says what it
needs (:meth:`ImageFeature._min_size`), what it learns
(:meth:`ImageFeature._fit_images`), how many features it returns and how to
compute them for one chunk of images (:meth:`ImageFeature._transform_chunk`).
"""

from __future__ import annotations

import cv2
import numpy as np
from joblib import Parallel, delayed, effective_n_jobs
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from features._validation import check_images

#: Grey value weights (ITU-R BT.601 luma), shared by every extractor.
#: BT.601 luma weights (R, G, B), for the extractors that want float gray values.
LUMA = np.array([0.299, 0.587, 0.114], dtype=np.float32)


def to_gray(X: np.ndarray) -> np.ndarray:
    """Return uint8 luma images of shape (n, H, W) from (n, H, W, C) images.

    BT.601 weights (``LUMA``) in OpenCV's fixed-point ``cvtColor``, one call for
    the whole batch (4x faster than a float matrix product).
    """
    if X.shape[-1] == 1:
        return X[..., 0]
    n, h, w, _ = X.shape
    flat = np.ascontiguousarray(X, dtype=np.uint8).reshape(n * h, w, 3)
    return cv2.cvtColor(flat, cv2.COLOR_RGB2GRAY).reshape(n, h, w)


def as_pair(value, name: str, who: str) -> tuple[int, int]:
    """Read ``value`` (int or pair of ints) as a positive ``(rows, cols)`` pair.

    Raises
    ------
    ValueError
        Naming the parameter ``name`` of estimator ``who`` and what was given.
    """
    pair = (value, value) if np.isscalar(value) else tuple(value)
    if (
        len(pair) != 2
        or not all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in pair)
        or min(pair) < 1
    ):
        raise ValueError(
            f"{who} needs {name} to be a positive int or a pair of positive ints, got {value!r}"
        )
    return int(pair[0]), int(pair[1])


def check_choice(value, name: str, choices, who: str):
    """Raise a ValueError unless ``value`` is one of ``choices``; return it."""
    if value not in choices:
        raise ValueError(f"{who} needs {name} in {sorted(choices)!r}, got {value!r}")
    return value


def check_number(value, name: str, who: str, *, low=None, high=None, integer=False):
    """Raise a ValueError unless ``value`` is a number within ``[low, high]``."""
    ok_type = (int, np.integer) if integer else (int, float, np.integer, np.floating)
    if isinstance(value, bool) or not isinstance(value, ok_type):
        kind = "an int" if integer else "a number"
        raise ValueError(f"{who} needs {name} to be {kind}, got {value!r}")
    if (low is not None and value < low) or (high is not None and value > high):
        rng = f"[{low if low is not None else '-inf'}, {high if high is not None else 'inf'}]"
        raise ValueError(f"{who} needs {name} in {rng}, got {value!r}")
    return value


class ImageFeature(TransformerMixin, BaseEstimator):
    """Base class: validated, chunked, parallel image-to-vector transform.

    Subclasses store their keyword arguments in ``__init__`` (including
    ``n_jobs`` and ``chunk_size`` when they want them user-settable) and
    implement:

    ``_validate_params(self)``
        Check the hyper-parameters; raise ``ValueError`` naming what was given.
    ``_min_size(self) -> (int, int)``
        Smallest ``(H, W)`` the method accepts.
    ``_fit_images(self, X, y)``
        Learn from validated images (optional; default learns nothing).
    ``_n_features(self) -> int``
        Output width, available once ``input_shape_`` is set.
    ``_transform_chunk(self, X) -> ndarray (m, n_features) float32``
        Features of one chunk of validated images.
    ``_feature_names(self) -> list of str``
        One name per output column.

    Class attribute ``_prefer`` is ``"threads"`` for extractors whose work runs
    in C code that releases the GIL (OpenCV, NumPy on large arrays),
    ``"processes"`` for Python-heavy ones and ``"inline"`` for ones so cheap
    (a few microseconds per image) or already multi-threaded (BLAS) that
    workers only add overhead: ``n_jobs`` is then ignored.

    Attributes
    ----------
    input_shape_ : tuple of int
        ``(H, W, C)`` seen in ``fit``.
    n_features_out_ : int
        Number of output features.
    """

    _prefer = "threads"
    _default_chunk_size = 2048

    def _validate_params(self):
        return None

    def _min_size(self) -> tuple[int, int]:
        return (1, 1)

    def _fit_images(self, X, y):
        return None

    def _n_features(self) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _transform_chunk(self, X) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def _feature_names(self) -> list[str]:  # pragma: no cover - abstract
        raise NotImplementedError

    def fit(self, X, y=None):
        """Validate parameters and images, and learn what the method needs.

        Parameters
        ----------
        X : ndarray of shape (n, H, W, C) or (n, H, W), dtype uint8
        y : ignored unless the extractor is supervised
        """
        self._validate_params()
        X = check_images(X, estimator=self)
        self._check_size(X.shape[1:3])
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])
        self._fit_images(X, y)
        self.n_features_out_ = int(self._n_features())
        return self

    def _check_size(self, hw):
        mh, mw = self._min_size()
        if hw[0] < mh or hw[1] < mw:
            raise ValueError(
                f"{type(self).__name__} needs images of at least {mh}x{mw} pixels"
                f"{self._size_reason()}, got {hw[0]}x{hw[1]}"
            )

    def _size_reason(self) -> str:
        """Text appended to the too-small error, e.g. ``" for patch_size=6"``."""
        return ""

    def transform(self, X):
        """Extract features.

        Parameters
        ----------
        X : ndarray of shape (n, H, W, C) or (n, H, W), dtype uint8
            Images of the shape seen in ``fit``.

        Returns
        -------
        ndarray of shape (n, n_features_out_), dtype float32
        """
        check_is_fitted(self)
        X = check_images(X, estimator=self, expected_shape=self.input_shape_)
        return self._map_chunks(X)

    def _map_chunks(self, X) -> np.ndarray:
        """Run ``_transform_chunk`` over chunks into one preallocated matrix."""
        n = len(X)
        out = np.empty((n, self.n_features_out_), dtype=np.float32)
        chunk = int(getattr(self, "chunk_size", None) or self._default_chunk_size)
        bounds = [(s, min(s + chunk, n)) for s in range(0, n, chunk)]
        n_jobs = min(effective_n_jobs(getattr(self, "n_jobs", None)), len(bounds))
        if n_jobs <= 1 or self._prefer == "inline":
            for s, e in bounds:
                out[s:e] = self._transform_chunk(X[s:e])
            return out
        if self._prefer == "threads":

            def fill(s, e):
                out[s:e] = self._transform_chunk(X[s:e])

            Parallel(n_jobs=n_jobs, prefer="threads")(delayed(fill)(s, e) for s, e in bounds)
            return out
        results = Parallel(n_jobs=n_jobs, return_as="generator")(
            delayed(self._transform_chunk)(X[s:e]) for s, e in bounds
        )
        for (s, e), block in zip(bounds, results, strict=True):
            out[s:e] = block
        return out

    def get_feature_names_out(self, input_features=None):
        """Output feature names, one per column (``set_output`` uses them)."""
        check_is_fitted(self)
        return np.asarray(self._feature_names(), dtype=object)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.three_d_array = True
        return tags


def grid_bounds(n: int, parts: int) -> np.ndarray:
    """Integer edges splitting ``range(n)`` into ``parts`` near-equal cells."""
    return np.linspace(0, n, parts + 1).round().astype(int)


def cell_index_map(h: int, w: int, grid: tuple[int, int]) -> np.ndarray:
    """(h, w) int array: the grid cell (row-major) each pixel falls in."""
    rows = np.searchsorted(grid_bounds(h, grid[0])[1:], np.arange(h), side="right")
    cols = np.searchsorted(grid_bounds(w, grid[1])[1:], np.arange(w), side="right")
    return rows[:, None] * grid[1] + cols[None, :]


def cell_histograms(labels: np.ndarray, n_bins: int, grid: tuple[int, int]) -> np.ndarray:
    """Normalised histograms of integer ``labels`` (n, h, w) over a grid of cells.

    Returns float32 (n, n_cells * n_bins): for each cell (row-major) the
    fraction of its pixels with each label, computed with one ``bincount``.
    """
    n, h, w = labels.shape
    cells = cell_index_map(h, w, grid)
    n_cells = grid[0] * grid[1]
    flat = (
        np.arange(n)[:, None, None] * (n_cells * n_bins) + cells[None] * n_bins + labels
    ).ravel()
    hist = np.bincount(flat, minlength=n * n_cells * n_bins).reshape(n, n_cells, n_bins)
    counts = np.bincount(cells.ravel(), minlength=n_cells).astype(np.float32)
    return (hist / counts[None, :, None]).astype(np.float32).reshape(n, -1)


def filter_batch(images: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate every image of a (n, H, W) float32 batch with ``kernel``.

    Equivalent to ``cv2.filter2D(img, cv2.CV_32F, kernel)`` (border
    ``BORDER_REFLECT_101``) image by image, in one OpenCV call: each image is
    padded by the kernel radius, the padded images are stacked into one tall
    image, filtered, and cropped back, so no pixel sees a neighbouring image.
    """
    n, h, w = images.shape
    kh, kw = kernel.shape
    py, px = kh // 2, kw // 2
    padded = np.pad(images, ((0, 0), (py, py), (px, px)), mode="reflect")
    tall = padded.reshape(n * (h + 2 * py), w + 2 * px)
    res = cv2.filter2D(tall, cv2.CV_32F, kernel, borderType=cv2.BORDER_REFLECT_101)
    return res.reshape(n, h + 2 * py, w + 2 * px)[:, py : py + h, px : px + w]
