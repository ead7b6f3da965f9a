"""Input checks shared by every extractor."""

from __future__ import annotations

import numpy as np


def check_images(X, *, estimator=None, expected_shape=None, min_size=None) -> np.ndarray:
    """Validate a batch of images and return it as a uint8 array (n, H, W, C).

    Parameters
    ----------
    X : array-like of shape (n, H, W, C) or (n, H, W)
        ``uint8`` images; a 3-D batch is read as gray-scale (``C=1``).
    estimator : object, optional
        Named in error messages.
    expected_shape : tuple of int, optional
        ``(H, W, C)`` seen in ``fit``; a different shape in ``transform`` raises.
    min_size : tuple of int, optional
        ``(min_H, min_W)`` the method needs.
    """
    who = type(estimator).__name__ if estimator is not None else "input"
    X = np.asarray(X)
    if X.ndim == 3:
        X = X[..., None]
    if X.ndim != 4:
        raise ValueError(
            f"{who} needs images of shape (n, H, W, C) or (n, H, W), got an array of shape {X.shape}"
        )
    if X.dtype != np.uint8:
        raise ValueError(
            f"{who} needs uint8 images (0-255), got dtype {X.dtype}; convert with "
            "np.clip(x, 0, 255).astype(np.uint8)"
        )
    if X.shape[-1] not in (1, 3):
        raise ValueError(f"{who} needs 1 or 3 channels, got {X.shape[-1]} (shape {X.shape})")
    if len(X) == 0:
        raise ValueError(f"{who} got an empty batch (shape {X.shape})")
    if expected_shape is not None and tuple(X.shape[1:]) != tuple(expected_shape):
        raise ValueError(
            f"{who} was fitted on images of shape {tuple(expected_shape)}, got {tuple(X.shape[1:])}"
        )
    if min_size is not None:
        mh, mw = min_size
        if X.shape[1] < mh or X.shape[2] < mw:
            raise ValueError(
                f"{who} needs images of at least {mh}x{mw} pixels, got {X.shape[1]}x{X.shape[2]}"
            )
    return X
