"""Raw pixels as features."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from features._base import LUMA
from features._registry import register_feature
from features._validation import check_images


class RawPixels(TransformerMixin, BaseEstimator):
    """Flattened pixel intensities scaled to [0, 1].

    Parameters
    ----------
    grayscale : bool, default=False
        Average RGB channels to one (ITU-R BT.601 luma) before flattening.

    Notes
    -----
    The baseline every feature method must beat: the classifier sees the image
    itself, ``H * W * C`` values per image.
    """

    def __init__(self, grayscale: bool = False):
        self.grayscale = grayscale

    def fit(self, X, y=None):
        X = check_images(X, estimator=self)
        self.input_shape_ = X.shape[1:]
        self.n_features_out_ = int(np.prod(self._out_shape(X.shape[1:])))
        return self

    def _out_shape(self, shape):
        h, w, c = shape
        return (h, w, 1) if (self.grayscale and c == 3) else (h, w, c)

    def transform(self, X):
        check_is_fitted(self)
        X = check_images(X, estimator=self, expected_shape=self.input_shape_)
        if self.grayscale and X.shape[-1] == 3:
            X = X @ LUMA
        return (X.reshape(len(X), -1).astype(np.float32)) / np.float32(255.0)

    def get_feature_names_out(self, input_features=None):
        check_is_fitted(self)
        h, w, c = self._out_shape(self.input_shape_)
        return np.array(
            [f"raw_y{i}_x{j}_c{k}" for i in range(h) for j in range(w) for k in range(c)],
            dtype=object,
        )


@register_feature("raw", tags=("any_size",))
def raw(**params) -> RawPixels:
    """Raw pixels scaled to [0, 1] (the baseline)."""
    return RawPixels(**params)
