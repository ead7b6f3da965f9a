"""Shape context descriptors of edge points (Belongie, Malik & Puzicha, 2002)."""

from __future__ import annotations

import cv2
import numpy as np
from sklearn.utils import check_random_state

from features._base import (
    ImageFeature,
    as_pair,
    cell_index_map,
    check_choice,
    check_number,
    to_gray,
)
from features._registry import register_feature
from features._vocabulary import assign_words, fit_vocabulary


def sample_edge_points(gray: np.ndarray, n_points: int, thresholds=(50, 150)):
    """Deterministically sample up to ``n_points`` Canny edge points per image.

    Edge pixels of ``cv2.Canny`` are taken in raster order and, when there
    are more than ``n_points``, ``n_points`` of them evenly spaced along that
    order are kept (no randomness, so equal images give equal samples).

    Returns
    -------
    points : ndarray of shape (n, n_points, 2), float32
        ``(x, y)`` pixel coordinates; rows past an image's count are zero.
    valid : ndarray of shape (n, n_points), bool
    """
    n = len(gray)
    points = np.zeros((n, n_points, 2), dtype=np.float32)
    valid = np.zeros((n, n_points), dtype=bool)
    lo, hi = thresholds
    for i, img in enumerate(gray):
        ys, xs = np.nonzero(cv2.Canny(np.ascontiguousarray(img), lo, hi))
        k = len(ys)
        if k > n_points:
            keep = np.linspace(0, k - 1, n_points).round().astype(int)
            ys, xs, k = ys[keep], xs[keep], n_points
        points[i, :k, 0] = xs
        points[i, :k, 1] = ys
        valid[i, :k] = True
    return points, valid


def shape_context_histograms(
    points: np.ndarray,
    valid: np.ndarray,
    n_r: int = 5,
    n_theta: int = 12,
    r_inner: float = 0.125,
    r_outer: float = 2.0,
) -> np.ndarray:
    """Log-polar shape context histogram of every point of a batch of point sets.

    For point ``i`` of an image, each other valid point ``j`` of the same
    image falls in one of ``n_r`` radial bins, log-spaced between
    ``r_inner`` and ``r_outer`` times the image's mean pairwise distance
    (nearer points go to the first bin, farther ones are not counted), and
    in one of ``n_theta`` bins of the angle of ``p_j - p_i`` (``x`` right,
    ``y`` down, from 0 to 2 pi).  Each histogram is divided by the number of
    points it counts, so it sums to 1 (0 when it counts none).  The work is
    NumPy on the whole (n, P, P) batch of pairs.

    Parameters
    ----------
    points : ndarray of shape (n, P, 2)
    valid : ndarray of shape (n, P), bool

    Returns
    -------
    ndarray of shape (n, P, n_r * n_theta), float32
        Radial bin major: column ``r * n_theta + t``; zero rows for invalid points.
    """
    n, p, _ = points.shape
    d = points[:, None, :, :] - points[:, :, None, :]  # d[m, i, j] = p_j - p_i
    r = np.hypot(d[..., 0], d[..., 1])
    pair = valid[:, :, None] & valid[:, None, :] & ~np.eye(p, dtype=bool)[None]
    n_pairs = pair.sum(axis=(1, 2))
    mean_r = np.where(n_pairs > 0, (r * pair).sum(axis=(1, 2)) / np.maximum(n_pairs, 1), 1.0)
    rn = r / mean_r[:, None, None].astype(np.float32)
    edges = np.logspace(np.log10(r_inner), np.log10(r_outer), n_r + 1)
    r_bin = np.clip(np.searchsorted(edges, rn, side="right") - 1, 0, None)
    theta = np.mod(np.arctan2(d[..., 1], d[..., 0]), 2 * np.pi)
    t_bin = np.minimum((theta * (n_theta / (2 * np.pi))).astype(np.int64), n_theta - 1)
    ok = pair & (rn < r_outer)
    n_bins = n_r * n_theta
    flat = (np.arange(n * p).reshape(n, p, 1) * n_bins + r_bin * n_theta + t_bin)[ok]
    hist = np.bincount(flat, minlength=n * p * n_bins).reshape(n, p, n_bins)
    counts = hist.sum(axis=-1, keepdims=True)
    return (hist / np.maximum(counts, 1)).astype(np.float32)


class ShapeContext(ImageFeature):
    """Shape contexts of sampled edge points, pooled on a grid or as a bag of words.

    Up to ``n_points`` edge points per image are sampled deterministically
    from ``cv2.Canny`` edges of the gray image (:func:`sample_edge_points`);
    each gets a log-polar histogram of the positions of the others
    (:func:`shape_context_histograms`: ``n_r`` log-radial by ``n_theta``
    angular bins, distances divided by the mean pairwise distance, so the
    descriptor is invariant to translation and scale).  The variable number
    of descriptors is pooled into a fixed layout over ``grid`` cells (by the
    point's position):

    ``encoding="grid"``
        the average shape context of the points in each cell (all-zero for
        a cell without points);
    ``encoding="bow"``
        the histogram of visual words in each cell divided by the image's
        point count, with a vocabulary of ``n_clusters`` words learnt by
        k-means on at most ``max_descriptors`` training descriptors
        (``random_state``).

    Parameters
    ----------
    n_points : int, default=64
        Edge points sampled per image (Belongie et al. used 100 on MNIST).
    n_r : int, default=5
        Log-radial bins.
    n_theta : int, default=12
        Angular bins.
    r_inner, r_outer : float, default=0.125, 2.0
        Radial range in units of the mean pairwise distance.
    canny_thresholds : pair of float, default=(50, 150)
        Hysteresis thresholds of ``cv2.Canny`` on the 0-255 gray image.
    encoding : {"grid", "bow"}, default="grid"
    grid : int or pair of int, default=(2, 2)
        Pooling cells (rows, cols).
    n_clusters : int, default=64
        Vocabulary size (``encoding="bow"``).
    max_descriptors : int, default=50000
        Training descriptors sampled for k-means (``encoding="bow"``).
    random_state : int, RandomState or None, default=0
        Seeds the k-means vocabulary (point sampling is deterministic).
    n_jobs : int, default=-1

    Attributes
    ----------
    vocabulary_ : ndarray of shape (n_clusters, n_r * n_theta) or None
        Word centres (``encoding="bow"``).
    input_shape_ : tuple of int
    n_features_out_ : int
        ``cells * n_r * n_theta`` (grid) or ``cells * n_clusters`` (bow).

    Notes
    -----
    Colour: edges are found on the BT.601 luma.  Images with fewer than two
    edge points give all-zero features.

    References
    ----------
    S. Belongie, J. Malik and J. Puzicha, "Shape Matching and Object
    Recognition Using Shape Contexts", IEEE TPAMI 24(4), 2002.
    """

    _default_chunk_size = 256

    def __init__(
        self,
        n_points=64,
        n_r=5,
        n_theta=12,
        r_inner=0.125,
        r_outer=2.0,
        canny_thresholds=(50, 150),
        encoding="grid",
        grid=(2, 2),
        n_clusters=64,
        max_descriptors=50000,
        random_state=0,
        n_jobs=-1,
    ):
        self.n_points = n_points
        self.n_r = n_r
        self.n_theta = n_theta
        self.r_inner = r_inner
        self.r_outer = r_outer
        self.canny_thresholds = canny_thresholds
        self.encoding = encoding
        self.grid = grid
        self.n_clusters = n_clusters
        self.max_descriptors = max_descriptors
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _validate_params(self):
        who = "ShapeContext"
        check_number(self.n_points, "n_points", who, low=2, integer=True)
        check_number(self.n_r, "n_r", who, low=1, integer=True)
        check_number(self.n_theta, "n_theta", who, low=1, integer=True)
        check_number(self.r_inner, "r_inner", who, low=1e-6)
        check_number(self.r_outer, "r_outer", who, low=1e-6)
        if not self.r_inner < self.r_outer:
            raise ValueError(
                f"{who} needs r_inner < r_outer, got r_inner={self.r_inner!r} and "
                f"r_outer={self.r_outer!r}"
            )
        th = self.canny_thresholds
        if np.isscalar(th) or len(th) != 2:
            raise ValueError(f"{who} needs canny_thresholds to be a (low, high) pair, got {th!r}")
        for v in th:
            check_number(v, "canny_thresholds entries", who, low=0)
        check_choice(self.encoding, "encoding", ("grid", "bow"), who)
        as_pair(self.grid, "grid", who)
        check_number(self.n_clusters, "n_clusters", who, low=1, integer=True)
        check_number(self.max_descriptors, "max_descriptors", who, low=1, integer=True)

    def _min_size(self):
        g = as_pair(self.grid, "grid", "ShapeContext")
        return max(3, g[0]), max(3, g[1])

    def _size_reason(self):
        return f" (Canny edges, grid={self.grid})"

    def describe(self, X):
        """Points (n, P, 2), validity (n, P) and histograms (n, P, n_r * n_theta) of ``X``."""
        points, valid = sample_edge_points(
            to_gray(X), int(self.n_points), tuple(float(v) for v in self.canny_thresholds)
        )
        hist = shape_context_histograms(
            points,
            valid,
            int(self.n_r),
            int(self.n_theta),
            float(self.r_inner),
            float(self.r_outer),
        )
        return points, valid, hist

    def _fit_images(self, X, y):
        self.vocabulary_ = None
        if self.encoding != "bow":
            return
        rng = check_random_state(self.random_state)
        order = rng.permutation(len(X))
        descs, total = [], 0
        for s in range(0, len(order), self._default_chunk_size):
            _, valid, hist = self.describe(X[np.sort(order[s : s + self._default_chunk_size])])
            descs.append(hist[valid])
            total += int(valid.sum())
            if total >= self.max_descriptors:
                break
        D = np.concatenate(descs)
        if len(D) == 0:
            raise ValueError(
                f"ShapeContext found no Canny edge points on the {len(X)} training images "
                f"with canny_thresholds={self.canny_thresholds!r}; lower the thresholds"
            )
        if len(D) > self.max_descriptors:
            D = D[np.sort(rng.choice(len(D), int(self.max_descriptors), replace=False))]
        self.vocabulary_ = fit_vocabulary(D, self.n_clusters, rng)

    def _n_bins(self):
        if self.encoding == "bow":
            return len(self.vocabulary_)
        return int(self.n_r) * int(self.n_theta)

    def _n_features(self):
        g = as_pair(self.grid, "grid", "ShapeContext")
        return g[0] * g[1] * self._n_bins()

    def _feature_names(self):
        g = as_pair(self.grid, "grid", "ShapeContext")
        if self.encoding == "bow":
            bins = [f"w{k}" for k in range(self._n_bins())]
        else:
            bins = [f"r{r}_t{t}" for r in range(int(self.n_r)) for t in range(int(self.n_theta))]
        return [
            f"sc_{self.encoding}_cell{i}_{j}_{b}"
            for i in range(g[0])
            for j in range(g[1])
            for b in bins
        ]

    def _transform_chunk(self, X):
        n, h, w = X.shape[:3]
        g = as_pair(self.grid, "grid", "ShapeContext")
        n_cells = g[0] * g[1]
        points, valid, hist = self.describe(X)
        cells = cell_index_map(h, w, g)[points[..., 1].astype(int), points[..., 0].astype(int)]
        if self.encoding == "grid":
            onehot = (cells[..., None] == np.arange(n_cells)) & valid[..., None]  # n, P, C
            sums = np.einsum("npc,npb->ncb", onehot.astype(np.float32), hist)
            counts = onehot.sum(axis=1)[..., None]
            return (sums / np.maximum(counts, 1)).reshape(n, -1).astype(np.float32)
        V = self.vocabulary_
        K = len(V)
        words = assign_words(hist.reshape(-1, hist.shape[-1]), V)[0].reshape(n, -1)
        flat = ((np.arange(n)[:, None] * n_cells + cells) * K + words)[valid]
        out = np.bincount(flat, minlength=n * n_cells * K).reshape(n, -1).astype(np.float32)
        return out / np.maximum(valid.sum(axis=1, keepdims=True), 1).astype(np.float32)


@register_feature("shape_context", tags=("shape", "keypoints"))
def shape_context(**params) -> ShapeContext:
    """Shape contexts of Canny edge points, grid-averaged or as visual words (Belongie et al. 2002)."""
    return ShapeContext(**params)


@register_feature(
    "shape_context_bow", tags=("shape", "keypoints", "learned"), default_params={"encoding": "bow"}
)
def shape_context_bow(**params) -> ShapeContext:
    """Bag of shape-context words on a grid, k-means vocabulary (Belongie et al. 2002)."""
    return ShapeContext(**params)
