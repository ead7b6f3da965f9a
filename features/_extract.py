"""Run a feature extractor over train and test images, timed."""

from __future__ import annotations

import hashlib
import inspect
import json
import os
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import joblib
import numpy as np
from sklearn.base import TransformerMixin, clone

#: Bump to invalidate every cached feature matrix (e.g. after a change in
#: shared code that the per-module source hash cannot see).
CACHE_FORMAT = 1

#: Parameters that change speed, never values; left out of the cache key.
_SPEED_ONLY_PARAMS = ("n_jobs", "chunk_size", "verbose")


@dataclass(frozen=True)
class Extraction:
    """Features of one (extractor, dataset) pair and what they cost.

    Attributes
    ----------
    train, test : ndarray of shape (n, n_features), dtype float32
    extractor : TransformerMixin
        The fitted extractor.
    fit_transform_s : float
        Wall seconds of ``fit_transform`` on the training images; on a cache hit,
        the seconds measured when the entry was computed.
    transform_s : float
        Wall seconds of ``transform`` on the test images (likewise on a hit).
    cache_hit : bool
        Whether both matrices came from the on-disk cache.
    """

    train: np.ndarray
    test: np.ndarray
    extractor: TransformerMixin
    fit_transform_s: float
    transform_s: float
    cache_hit: bool = False


def extract_features(
    extractor: TransformerMixin,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    *,
    dataset_fingerprint: str | None = None,
    cache_dir: str | None = None,
) -> Extraction:
    """Fit ``extractor`` on the training images and transform both splits.

    Parameters
    ----------
    extractor : TransformerMixin
        Unfitted extractor; it is cloned, never modified.
    x_train, x_test : ndarray of shape (n, H, W, C), dtype uint8
    y_train : ndarray of shape (n,)
        Passed to ``fit`` for supervised extractors.
    dataset_fingerprint : str, optional
        Content fingerprint of the data; with ``cache_dir`` enables the cache.
    cache_dir : str, optional
        Directory of the feature cache; ``None`` disables caching.  Entries
        are keyed by :func:`cache_key` and written atomically (temporary file
        then rename), so concurrent runs never read a half-written entry.
    """
    path = None
    if cache_dir is not None and dataset_fingerprint is not None:
        path = (
            Path(cache_dir)
            / f"{cache_key(extractor, dataset_fingerprint, x_train, y_train, x_test)}.joblib"
        )
        if path.exists():
            try:
                cached = joblib.load(path)
            except Exception:  # a corrupt or incompatible entry is recomputed
                cached = None
            if cached is not None:
                return Extraction(
                    cached["train"],
                    cached["test"],
                    cached["extractor"],
                    float(cached.get("fit_transform_s", float("nan"))),
                    float(cached.get("transform_s", float("nan"))),
                    cache_hit=True,
                )
    est = clone(extractor)
    t0 = time.perf_counter()
    f_train = np.asarray(est.fit_transform(x_train, y_train), dtype=np.float32)
    t1 = time.perf_counter()
    f_test = np.asarray(est.transform(x_test), dtype=np.float32)
    t2 = time.perf_counter()
    if path is not None:
        _atomic_dump(
            {
                "train": f_train,
                "test": f_test,
                "extractor": est,
                "fit_transform_s": t1 - t0,
                "transform_s": t2 - t1,
            },
            path,
        )
    return Extraction(f_train, f_test, est, t1 - t0, t2 - t1)


def cache_key(extractor, dataset_fingerprint, x_train, y_train, x_test) -> str:
    """Hex key of one cached extraction.

    Made from the dataset fingerprint, the split shapes, a hash of the labels,
    the extractor's class, its parameters (``get_params(deep=True)`` without
    the speed-only ones such as ``n_jobs``) and the source code of the module
    that defines the extractor and of the shared base (so editing an extractor
    invalidates its entries), plus :data:`CACHE_FORMAT`.
    """
    cls = type(extractor)
    params = {
        k: v
        for k, v in extractor.get_params(deep=True).items()
        if k.rsplit("__", 1)[-1] not in _SPEED_ONLY_PARAMS
    }
    sources = []
    for mod_name in (cls.__module__, "features._base", "features._preprocess"):
        mod = __import__(mod_name, fromlist=["_"])
        try:
            sources.append(hashlib.sha256(inspect.getsource(mod).encode()).hexdigest())
        except (OSError, TypeError):
            sources.append(mod_name)
    y = np.ascontiguousarray(np.asarray(y_train))
    blob = json.dumps(
        {
            "format": CACHE_FORMAT,
            "dataset": dataset_fingerprint,
            "shapes": [list(np.shape(x_train)), list(np.shape(x_test))],
            "labels": hashlib.sha256(y.tobytes()).hexdigest(),
            "class": f"{cls.__module__}.{cls.__qualname__}",
            "params": {k: repr(v) for k, v in sorted(params.items())},
            "code": sources,
        },
        sort_keys=True,
    )
    return f"{cls.__name__.lower()}-{hashlib.sha256(blob.encode()).hexdigest()[:24]}"


def _atomic_dump(obj, path: Path) -> None:
    """Write ``obj`` with joblib to a temporary file, then rename it into place."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(obj, tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
