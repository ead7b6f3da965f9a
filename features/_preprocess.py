"""Image preprocessing shared by several extractors."""

from __future__ import annotations

import cv2
import numpy as np

from features._base import to_gray


def deskew(X: np.ndarray) -> np.ndarray:
    """Remove the slant of each image with a moments-based shear.

    The shear that makes the second-order central moment ``mu11`` zero
    (``x' = x + (mu11 / mu02) * (y - H / 2)``), as in the OpenCV digits
    sample and LeCun et al.'s deslanting of MNIST.  Colour images are sheared
    with the moments of their luma.

    Parameters
    ----------
    X : ndarray of shape (n, H, W, C), dtype uint8

    Returns
    -------
    ndarray of shape (n, H, W, C), dtype uint8
    """
    n, h, w, c = X.shape
    gray = to_gray(X)
    out = np.empty_like(X)
    flags = cv2.WARP_INVERSE_MAP | cv2.INTER_LINEAR
    for i in range(n):
        m = cv2.moments(gray[i])
        if abs(m["mu02"]) < 1e-2:
            out[i] = X[i]
            continue
        skew = m["mu11"] / m["mu02"]
        M = np.float32([[1, skew, -0.5 * h * skew], [0, 1, 0]])
        warped = cv2.warpAffine(X[i], M, (w, h), flags=flags)
        out[i] = warped.reshape(h, w, c)
    return out
