"""Principal components of the pixels (eigen-images; Turk & Pentland, 1991)."""

from __future__ import annotations

import numpy as np
from sklearn.decomposition import PCA as _SkPCA

from features._base import LUMA, ImageFeature, check_number
from features._registry import register_feature


class PCAPixels(ImageFeature):
    """Projection of the pixels (scaled to [0, 1]) on their first principal components.

    Parameters
    ----------
    n_components : int, default=50
        Number of components kept; at most ``min(n_images, H * W * C)``.
    whiten : bool, default=False
        Scale each component to unit variance.
    grayscale : bool, default=False
        Use the BT.601 luma of 3-channel input instead of all three channels.
    random_state : int, RandomState or None, default=0
        Seed of the randomised SVD.

    Attributes
    ----------
    pca_ : sklearn.decomposition.PCA

    References
    ----------
    M. Turk and A. Pentland, "Eigenfaces for Recognition", Journal of
    Cognitive Neuroscience 3(1), 1991.
    """

    # One matrix product per chunk that BLAS already spreads over the cores: workers
    # on top made it 3x slower (results/features_bench/: 0.30-0.33 on 2 workers).
    _prefer = "inline"

    def __init__(self, n_components=50, whiten=False, grayscale=False, random_state=0):
        self.n_components = n_components
        self.whiten = whiten
        self.grayscale = grayscale
        self.random_state = random_state

    def _validate_params(self):
        check_number(self.n_components, "n_components", "PCAPixels", low=1, integer=True)

    def _pixels(self, X):
        if self.grayscale and X.shape[-1] == 3:
            X = X @ LUMA
        return X.reshape(len(X), -1).astype(np.float32) / np.float32(255.0)

    def _fit_images(self, X, y):
        d = int(np.prod(X.shape[1:3])) * (1 if self.grayscale else X.shape[3])
        limit = min(len(X), d)
        if self.n_components > limit:
            raise ValueError(
                f"PCAPixels needs n_components <= min(n_images, pixels) = {limit} "
                f"({len(X)} images of {d} values), got n_components={self.n_components}"
            )
        self.pca_ = _SkPCA(
            n_components=int(self.n_components),
            whiten=self.whiten,
            svd_solver="randomized" if self.n_components < 0.8 * limit else "full",
            random_state=self.random_state,
        ).fit(self._pixels(X))

    def _n_features(self):
        return self.pca_.n_components_

    def _feature_names(self):
        return [f"pca{i}" for i in range(self.n_features_out_)]

    def _transform_chunk(self, X):
        return self.pca_.transform(self._pixels(X)).astype(np.float32)


@register_feature("pca", tags=("any_size", "learned"))
def pca(**params) -> PCAPixels:
    """Principal components of the pixels (eigen-images, Turk & Pentland 1991)."""
    return PCAPixels(**params)
