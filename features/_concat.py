"""Concatenation of several registered extractors."""

from __future__ import annotations

import numpy as np

from features._base import ImageFeature
from features._registry import build_feature, register_feature


class Concat(ImageFeature):
    """Side-by-side features of several registered extractors.

    Parameters
    ----------
    parts : sequence of (name, params) pairs, default=(("hog", {}), ("lbp", {}))
        Registered feature names and keyword arguments (registry defaults are
        applied first).  Columns follow the order of ``parts``.
    n_jobs : int, default=-1
        Passed to every part that has ``n_jobs``.

    Attributes
    ----------
    extractors_ : list of fitted transformers

    References
    ----------
    Feature-level fusion, e.g. X. Wang, T. X. Han and S. Yan, "An HOG-LBP
    Human Detector with Partial Occlusion Handling", ICCV 2009.
    """

    def __init__(self, parts=(("hog", {}), ("lbp", {})), n_jobs=-1):
        self.parts = parts
        self.n_jobs = n_jobs

    def _validate_params(self):
        if not self.parts or not all(
            len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], dict) for p in self.parts
        ):
            raise ValueError(
                f"Concat needs parts as a non-empty sequence of (name, params) pairs, got {self.parts!r}"
            )

    def _build(self):
        ests = []
        for name, params in self.parts:
            est = build_feature(name, **params)
            if "n_jobs" in est.get_params() and "n_jobs" not in params:
                est.set_params(n_jobs=self.n_jobs)
            ests.append(est)
        return ests

    def _min_size(self):
        return (1, 1)

    def fit(self, X, y=None):
        """Fit every part on ``X`` (see :meth:`ImageFeature.fit`)."""
        self._validate_params()
        self.extractors_ = [e.fit(X, y) for e in self._build()]
        return super().fit(X, y)

    def _fit_images(self, X, y):
        return None

    def _n_features(self):
        return sum(e.n_features_out_ for e in self.extractors_)

    def _feature_names(self):
        return [
            f"{name}__{f}"
            for (name, _), e in zip(self.parts, self.extractors_, strict=True)
            for f in e.get_feature_names_out()
        ]

    def _map_chunks(self, X):
        out = np.empty((len(X), self.n_features_out_), dtype=np.float32)
        col = 0
        for e in self.extractors_:
            out[:, col : col + e.n_features_out_] = e.transform(X)
            col += e.n_features_out_
        return out


@register_feature("concat", tags=("fusion",))
def concat(**params) -> Concat:
    """Concatenation of registered extractors (feature-level fusion)."""
    return Concat(**params)
