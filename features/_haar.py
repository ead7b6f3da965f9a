"""Haar-like features on integral images (Viola & Jones, 2001)."""

from __future__ import annotations

import numpy as np
from sklearn.utils import check_random_state

from features._base import ImageFeature, check_choice, check_number, to_gray
from features._registry import register_feature

#: Sign of each rectangle's sum, in ``skimage.feature.haar_like_feature_coord`` order.
_SIGNS = {
    "type-2-x": (-1, 1),
    "type-2-y": (-1, 1),
    "type-3-x": (-1, 1, -1),
    "type-3-y": (-1, 1, -1),
    "type-4": (-1, 1, -1, 1),
}
#: Smallest (rows, cols) window holding one feature of each type.
_MIN_SIZE = {
    "type-2-x": (1, 2),
    "type-2-y": (2, 1),
    "type-3-x": (1, 3),
    "type-3-y": (3, 1),
    "type-4": (2, 2),
}


def _enumerate(feature_type: str, h: int, w: int) -> np.ndarray:
    """All (row, col, rect_height, rect_width) of one feature type in an h x w window."""
    units_r = (
        2 if feature_type in ("type-2-y", "type-4") else 3 if feature_type == "type-3-y" else 1
    )
    units_c = (
        2 if feature_type in ("type-2-x", "type-4") else 3 if feature_type == "type-3-x" else 1
    )
    out = []
    for rh in range(1, h // units_r + 1):
        for rw in range(1, w // units_c + 1):
            r, c = np.mgrid[0 : h - units_r * rh + 1, 0 : w - units_c * rw + 1]
            out.append(
                np.stack([r.ravel(), c.ravel(), np.full(r.size, rh), np.full(r.size, rw)], 1)
            )
    return np.concatenate(out) if out else np.zeros((0, 4), dtype=int)


def _rects(feature_type: str, r: int, c: int, rh: int, rw: int) -> list:
    """Rectangles ``[[(r0, c0), (r1, c1)], ...]`` in scikit-image's order."""
    r, c, rh, rw = int(r), int(c), int(rh), int(rw)

    def box(i, j):  # the rectangle i rows and j columns of rectangles away
        return [(r + i * rh, c + j * rw), (r + (i + 1) * rh - 1, c + (j + 1) * rw - 1)]

    cells = {
        "type-2-x": [(0, 0), (0, 1)],
        "type-2-y": [(0, 0), (1, 0)],
        "type-3-x": [(0, 0), (0, 1), (0, 2)],
        "type-3-y": [(0, 0), (1, 0), (2, 0)],
        "type-4": [(0, 0), (0, 1), (1, 1), (1, 0)],
    }[feature_type]
    return [box(i, j) for i, j in cells]


class Haar(ImageFeature):
    """Haar-like rectangle features of the whole image, computed on integral images.

    ``fit`` enumerates every feature of the requested types over the image
    (the set ``skimage.feature.haar_like_feature_coord`` lists) and draws ``n_features`` of
    them with ``random_state``; ``transform`` evaluates them on the batch's
    integral images with one matrix product (each feature is a signed sum of
    at most 16 integral-image corners).  With ``normalize=False`` the values
    equal ``skimage.feature.haar_like_feature`` on the same coordinates.

    Parameters
    ----------
    n_features : int, default=2000
        Features drawn at random from all those of ``feature_types``.
    feature_types : sequence of str, default=all five
        Among ``"type-2-x", "type-2-y", "type-3-x", "type-3-y", "type-4"``.
    normalize : bool, default=True
        Divide each value by 255 times the feature's pixel count, so that it
        is a difference of mean intensities in [-1, 1]; ``False`` gives raw
        rectangle-sum differences on 0-255 pixels.
    color : {"gray", "per_channel"}, default="gray"
        3-channel input: features of the BT.601 luma, or of each channel
        (concatenated, ``3 * n_features`` values).
    random_state : int, RandomState or None, default=0
    n_jobs : int, default=-1

    Attributes
    ----------
    feature_coord_ : list
        The drawn features' rectangles ``[[(r0, c0), (r1, c1)], ...]``.
    feature_type_ : ndarray of str
    weights_ : ndarray of shape ((H + 1) * (W + 1), n_features), float32
        Signed corner weights on the zero-padded integral image.

    References
    ----------
    P. Viola and M. Jones, "Rapid Object Detection using a Boosted Cascade of
    Simple Features", CVPR 2001.
    """

    def __init__(
        self,
        n_features=2000,
        feature_types=("type-2-x", "type-2-y", "type-3-x", "type-3-y", "type-4"),
        normalize=True,
        color="gray",
        random_state=0,
        n_jobs=-1,
    ):
        self.n_features = n_features
        self.feature_types = feature_types
        self.normalize = normalize
        self.color = color
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _validate_params(self):
        check_number(self.n_features, "n_features", "Haar", low=1, integer=True)
        types = [self.feature_types] if isinstance(self.feature_types, str) else self.feature_types
        if not types:
            raise ValueError("Haar needs at least one feature type, got feature_types=()")
        for t in types:
            check_choice(t, "feature_types entries", tuple(_SIGNS), "Haar")
        check_choice(self.color, "color", ("gray", "per_channel"), "Haar")

    def _types(self):
        return (
            [self.feature_types]
            if isinstance(self.feature_types, str)
            else list(self.feature_types)
        )

    def _min_size(self):
        need = [_MIN_SIZE[t] for t in self._types()]
        return max(r for r, _ in need), max(c for _, c in need)

    def _size_reason(self):
        return f" for feature_types={self.feature_types}"

    def _fit_images(self, X, y):
        h, w = self.input_shape_[:2]
        geoms = [(t, _enumerate(t, h, w)) for t in self._types()]
        counts = np.array([len(g) for _, g in geoms])
        rng = check_random_state(self.random_state)
        k = min(int(self.n_features), int(counts.sum()))
        flat = np.sort(rng.choice(int(counts.sum()), size=k, replace=False))
        which = np.searchsorted(np.cumsum(counts), flat, side="right")
        offsets = flat - np.concatenate([[0], np.cumsum(counts)])[which]
        self.feature_type_ = np.asarray([geoms[i][0] for i in which])
        self.feature_coord_ = [
            _rects(geoms[i][0], *geoms[i][1][o]) for i, o in zip(which, offsets, strict=True)
        ]
        W = np.zeros(((h + 1) * (w + 1), k), dtype=np.float32)
        for j, (rects, t) in enumerate(zip(self.feature_coord_, self.feature_type_, strict=True)):
            area = 0
            for (r0, c0), (r1, c1), s in zip(*zip(*rects, strict=True), _SIGNS[t], strict=True):
                for r, c, sign in (
                    (r1 + 1, c1 + 1, 1),
                    (r0, c1 + 1, -1),
                    (r1 + 1, c0, -1),
                    (r0, c0, 1),
                ):
                    W[r * (w + 1) + c, j] += s * sign
                area += (r1 - r0 + 1) * (c1 - c0 + 1)
            if self.normalize:
                W[:, j] /= 255.0 * area
        self.weights_ = W

    def _planes(self):
        return (
            ["r", "g", "b"]
            if self.input_shape_[2] == 3 and self.color == "per_channel"
            else ["gray"]
        )

    def _n_features(self):
        return len(self._planes()) * self.weights_.shape[1]

    def _feature_names(self):
        return [
            f"haar_{p}_{t}_{j}" for p in self._planes() for j, t in enumerate(self.feature_type_)
        ]

    def _transform_chunk(self, X):
        planes = [to_gray(X)] if self._planes() == ["gray"] else [X[..., c] for c in range(3)]
        n, h, w = planes[0].shape
        parts = []
        for p in planes:
            # float32 is exact here: integral values stay below 2**24 for <= 256x256 images
            ii = np.zeros((n, h + 1, w + 1), dtype=np.float32)
            np.cumsum(np.cumsum(p, axis=1, dtype=np.float32), axis=2, out=ii[:, 1:, 1:])
            parts.append(ii.reshape(n, -1) @ self.weights_)
        return np.concatenate(parts, axis=1)


@register_feature("haar", tags=("haar",))
def haar(**params) -> Haar:
    """Haar-like rectangle features on integral images (Viola & Jones 2001)."""
    return Haar(**params)
