"""Dense DAISY descriptors (Tola, Lepetit & Fua, 2010), pooled."""

from __future__ import annotations

import math

import numpy as np
from scipy.ndimage import gaussian_filter

from features._base import ImageFeature, as_pair, check_choice, check_number, grid_bounds
from features._pooling import color_planes, plane_names
from features._registry import register_feature

_NORMS = ("l1", "l2", "daisy", "off")


def daisy_descriptors(
    gray: np.ndarray,
    step: int = 4,
    radius: int = 15,
    rings: int = 3,
    histograms: int = 8,
    orientations: int = 8,
    normalization: str = "l1",
) -> np.ndarray:
    """Dense DAISY descriptors of a (n, H, W) uint8 batch, as ``skimage.feature.daisy``.

    The same computation as scikit-image (forward-difference gradients,
    orientation maps weighted by a von Mises kernel of concentration
    ``orientations / pi``, Gaussian smoothing with ``mode="reflect"``, ring
    samples at rounded offsets, the same normalisations and descriptor layout)
    on the whole batch at once, in float32: Gaussian smoothing runs once per
    ring on the (n, orientations, H, W) stack instead of per image and map.

    Returns
    -------
    ndarray of shape (n, P, Q, (rings * histograms + 1) * orientations), float32
        ``P = ceil((H - 2 * radius) / step)`` rows and ``Q`` columns of
        descriptors centred at ``radius + step * i``; per descriptor the centre
        histogram, then ring by ring each of its ``histograms`` histograms.
    """
    n, h, w = gray.shape
    img = gray.astype(np.float32) / np.float32(255.0)
    dx = np.zeros_like(img)
    dy = np.zeros_like(img)
    dx[:, :, :-1] = np.diff(img, axis=2)
    dy[:, :-1, :] = np.diff(img, axis=1)
    mag = np.hypot(dx, dy)
    ori = np.arctan2(dy, dx)
    angles = np.array(
        [2 * o * np.pi / orientations - np.pi for o in range(orientations)], dtype=np.float32
    )
    kappa = np.float32(orientations / np.pi)
    hist = np.exp(kappa * np.cos(ori[:, None] - angles[None, :, None, None])) * mag[:, None]
    sigmas = [radius * (i + 1) / (2.0 * rings) for i in range(rings)]
    ring_radii = [radius * (i + 1) / float(rings) for i in range(rings)]
    smooth = [gaussian_filter(hist, (0, 0, s, s), mode="reflect", truncate=4.0) for s in sigmas]
    ys = radius + step * np.arange(math.ceil((h - 2 * radius) / step))
    xs = radius + step * np.arange(math.ceil((w - 2 * radius) / step))
    parts = [smooth[0][:, :, ys[:, None], xs[None, :]]]
    for i in range(rings):
        for j in range(histograms):
            t = 2 * np.pi * j / histograms
            oy = int(round(ring_radii[i] * math.sin(t)))
            ox = int(round(ring_radii[i] * math.cos(t)))
            parts.append(smooth[i][:, :, ys[:, None] + oy, xs[None, :] + ox])
    # parts: (n, O, P, Q) each -> (n, P, Q, parts, O)
    desc = np.stack(parts, axis=1).transpose(0, 3, 4, 1, 2)
    desc = np.ascontiguousarray(desc).reshape(n, len(ys), len(xs), -1)
    if normalization != "off":
        desc += np.float32(1e-10)
        if normalization == "l1":
            desc /= desc.sum(axis=-1, keepdims=True)
        elif normalization == "l2":
            desc /= np.sqrt(np.square(desc).sum(axis=-1, keepdims=True))
        else:  # "daisy": each histogram to unit L2 norm
            d = desc.reshape(*desc.shape[:3], -1, orientations)
            d /= np.sqrt(np.square(d).sum(axis=-1, keepdims=True))
    return desc


class Daisy(ImageFeature):
    """Dense DAISY descriptors, averaged over a coarse grid or flattened.

    DAISY descriptors (Tola et al. 2010) are computed densely every ``step``
    pixels with :func:`daisy_descriptors`, a batched float32 reimplementation
    of ``skimage.feature.daisy`` (equal to it up to float32 rounding; the test
    suite checks it).  Each descriptor stacks ``orientations``-bin gradient
    orientation histograms at its centre and at ``histograms`` points on each
    of ``rings`` rings, smoothed by Gaussians that widen with the ring radius.
    The ``P x Q`` descriptors of an image are averaged over ``pooling`` cells
    (by descriptor centre) or, with ``pooling=None``, all concatenated.

    Parameters
    ----------
    step : int, default=4
        Distance in pixels between descriptor centres.
    radius : int, default=5
        Radius R of the outermost ring in pixels; the descriptor needs R
        pixels on every side, so images must be at least ``2 * R + 1`` pixels
        (the scikit-image default R=15 does not fit 28x28 or 32x32 images).
    rings : int, default=2
        Number of rings Q.
    histograms : int, default=6
        Histograms per ring T.
    orientations : int, default=8
        Orientation bins per histogram H.
    normalization : {"l1", "l2", "daisy", "off"}, default="l1"
        Per descriptor L1 or L2 norm, per histogram L2 norm (``"daisy"``,
        Tola et al.'s choice), or none.
    pooling : int, pair of int or None, default=(2, 2)
        Cells (rows, cols) over which descriptors are averaged; ``None``
        concatenates every descriptor (``P * Q * D`` features).
    color : {"gray", "per_channel"}, default="gray"
        For 3-channel input: descriptors of the BT.601 luma, or of each R,
        G, B channel (concatenated).
    n_jobs : int, default=-1

    Attributes
    ----------
    grid_shape_ : tuple of int
        ``(P, Q)`` descriptors per image.
    input_shape_ : tuple of int
    n_features_out_ : int
        ``planes * cells * (rings * histograms + 1) * orientations`` with
        ``cells = pooling[0] * pooling[1]`` (or ``P * Q`` without pooling).

    References
    ----------
    E. Tola, V. Lepetit and P. Fua, "DAISY: An Efficient Dense Descriptor
    Applied to Wide-Baseline Stereo", IEEE TPAMI 32(5), 2010.
    """

    _default_chunk_size = 512

    def __init__(
        self,
        step=4,
        radius=5,
        rings=2,
        histograms=6,
        orientations=8,
        normalization="l1",
        pooling=(2, 2),
        color="gray",
        n_jobs=-1,
    ):
        self.step = step
        self.radius = radius
        self.rings = rings
        self.histograms = histograms
        self.orientations = orientations
        self.normalization = normalization
        self.pooling = pooling
        self.color = color
        self.n_jobs = n_jobs

    def _validate_params(self):
        who = "Daisy"
        for name in ("step", "radius", "rings", "histograms", "orientations"):
            check_number(getattr(self, name), name, who, low=1, integer=True)
        check_choice(self.normalization, "normalization", _NORMS, who)
        if self.pooling is not None:
            as_pair(self.pooling, "pooling", who)
        check_choice(self.color, "color", ("gray", "per_channel"), who)

    def _pool(self):
        return (1, 1) if self.pooling is None else as_pair(self.pooling, "pooling", "Daisy")

    def _min_size(self):
        # at least one descriptor per pooling cell: P = ceil((H - 2R) / step) >= rows
        return tuple(2 * self.radius + (g - 1) * self.step + 1 for g in self._pool())

    def _size_reason(self):
        return (
            f" for radius={self.radius} (descriptors need radius pixels on every side), "
            f"step={self.step} and pooling={self.pooling}"
        )

    def _fit_images(self, X, y):
        h, w = self.input_shape_[:2]
        r, s = int(self.radius), int(self.step)
        self.grid_shape_ = (math.ceil((h - 2 * r) / s), math.ceil((w - 2 * r) / s))

    def _desc_dim(self):
        return (int(self.rings) * int(self.histograms) + 1) * int(self.orientations)

    def _cells(self):
        return self.grid_shape_ if self.pooling is None else self._pool()

    def _n_features(self):
        c = self._cells()
        return len(plane_names(self.input_shape_, self.color)) * c[0] * c[1] * self._desc_dim()

    def _feature_names(self):
        parts = ["c"] + [
            f"r{i}h{j}" for i in range(int(self.rings)) for j in range(int(self.histograms))
        ]
        cell = "y{}_x{}" if self.pooling is None else "cell{}_{}"
        c = self._cells()
        return [
            f"daisy_{p}_{cell.format(i, j)}_{part}_o{o}"
            for p in plane_names(self.input_shape_, self.color)
            for i in range(c[0])
            for j in range(c[1])
            for part in parts
            for o in range(int(self.orientations))
        ]

    def _transform_chunk(self, X):
        out = []
        for plane in color_planes(X, self.color):
            d = daisy_descriptors(
                plane,
                int(self.step),
                int(self.radius),
                int(self.rings),
                int(self.histograms),
                int(self.orientations),
                self.normalization,
            )
            if self.pooling is not None:
                g = self._pool()
                rb, cb = grid_bounds(d.shape[1], g[0]), grid_bounds(d.shape[2], g[1])
                d = np.stack(
                    [
                        d[:, rb[i] : rb[i + 1], cb[j] : cb[j + 1]].mean(axis=(1, 2))
                        for i in range(g[0])
                        for j in range(g[1])
                    ],
                    axis=1,
                )
            out.append(d.reshape(len(X), -1))
        return np.concatenate(out, axis=1).astype(np.float32, copy=False)


@register_feature("daisy", tags=("gradient", "dense"))
def daisy(**params) -> Daisy:
    """Dense DAISY descriptors averaged on a coarse grid (Tola et al. 2010)."""
    return Daisy(**params)
