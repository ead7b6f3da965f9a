"""Single-layer k-means patch features (Coates, Lee & Ng, 2011)."""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils import check_random_state

from features._base import ImageFeature, as_pair, check_number
from features._registry import register_feature


class KMeansPatches(ImageFeature):
    """Coates et al.'s single-layer network: k-means on whitened patches, triangle code, pooling.

    ``fit`` draws ``max_patches`` random ``patch_size`` patches (all channels),
    normalises each for brightness and contrast, learns a ZCA whitening and
    runs k-means (``MiniBatchKMeans``) for ``n_clusters`` centroids.
    ``transform`` encodes every patch at ``stride`` with the triangle
    activation ``max(0, mean_k(z) - z_k)`` (``z_k``: distance to centroid
    ``k``) and sum-pools the codes over ``pooling`` regions (quadrants by
    default), giving ``pooling[0] * pooling[1] * n_clusters`` features.

    Parameters
    ----------
    n_clusters : int, default=400
        Dictionary size K.
    patch_size : int, default=6
        Receptive field w (square patches).
    stride : int, default=1
        Step between encoded patches.
    pooling : int or pair of int, default=(2, 2)
        Pooling regions (rows, cols).
    whiten : bool, default=True
        ZCA whitening of the normalised patches.
    zca_epsilon : float, default=0.1
        Regulariser of the whitening (on patches normalised to unit variance).
    max_patches : int, default=100000
        Random training patches for k-means.
    random_state : int, RandomState or None, default=0
    n_jobs : int, default=-1

    Notes
    -----
    Colour: patches hold all channels of the input (``w * w * C`` values).

    References
    ----------
    A. Coates, H. Lee and A. Y. Ng, "An Analysis of Single-Layer Networks in
    Unsupervised Feature Learning", AISTATS 2011.
    """

    _default_chunk_size = 256

    def __init__(
        self,
        n_clusters=400,
        patch_size=6,
        stride=1,
        pooling=(2, 2),
        whiten=True,
        zca_epsilon=0.1,
        max_patches=100000,
        random_state=0,
        n_jobs=-1,
    ):
        self.n_clusters = n_clusters
        self.patch_size = patch_size
        self.stride = stride
        self.pooling = pooling
        self.whiten = whiten
        self.zca_epsilon = zca_epsilon
        self.max_patches = max_patches
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _validate_params(self):
        who = "KMeansPatches"
        check_number(self.n_clusters, "n_clusters", who, low=1, integer=True)
        check_number(self.patch_size, "patch_size", who, low=1, integer=True)
        check_number(self.stride, "stride", who, low=1, integer=True)
        check_number(self.zca_epsilon, "zca_epsilon", who, low=0)
        check_number(self.max_patches, "max_patches", who, low=1, integer=True)
        as_pair(self.pooling, "pooling", who)

    def _min_size(self):
        p = as_pair(self.pooling, "pooling", "KMeansPatches")
        return self.patch_size + p[0] - 1, self.patch_size + p[1] - 1

    def _size_reason(self):
        return f" for patch_size={self.patch_size} and pooling={self.pooling}"

    def _normalise(self, P):
        P = P - P.mean(axis=1, keepdims=True)
        # Coates et al. add 10 to the variance of 0-255 patches: 10 / 255**2 on [0, 1]
        P /= np.sqrt(P.var(axis=1, keepdims=True) + 10.0 / 255.0**2)
        return P

    def _patches(self, X):
        """(n, rows, cols, w*w*C) float32 normalised patches of images in [0, 1]."""
        w, s = int(self.patch_size), int(self.stride)
        v = sliding_window_view(X, (w, w), axis=(1, 2))[:, ::s, ::s]  # n, r, c, C, w, w
        n, r, c = v.shape[:3]
        P = v.transpose(0, 1, 2, 4, 5, 3).reshape(n * r * c, -1).astype(np.float32) / 255.0
        return self._normalise(P), (n, r, c)

    def _fit_images(self, X, y):
        rng = check_random_state(self.random_state)
        w = int(self.patch_size)
        n, h, wd, ch = X.shape
        m = int(self.max_patches)
        ii, rr, cc = (
            rng.randint(0, n, m),
            rng.randint(0, h - w + 1, m),
            rng.randint(0, wd - w + 1, m),
        )
        offs = np.arange(w)
        P = X[
            ii[:, None, None],
            rr[:, None, None] + offs[None, :, None],
            cc[:, None, None] + offs[None, None, :],
        ]  # m, w, w, C
        P = self._normalise(P.reshape(m, -1).astype(np.float32) / 255.0)
        self.mean_ = P.mean(axis=0)
        if self.whiten:
            cov = np.cov(P - self.mean_, rowvar=False)
            d, V = np.linalg.eigh(cov)
            self.whitening_ = (
                V @ np.diag(1.0 / np.sqrt(np.maximum(d, 0) + self.zca_epsilon)) @ V.T
            ).astype(np.float32)
        else:
            self.whitening_ = np.eye(P.shape[1], dtype=np.float32)
        Z = (P - self.mean_) @ self.whitening_
        k = min(int(self.n_clusters), len(Z))
        km = MiniBatchKMeans(
            n_clusters=k, batch_size=4096, n_init=3, max_iter=100, random_state=rng.randint(2**31)
        ).fit(Z)
        self.centroids_ = km.cluster_centers_.astype(np.float32)

    def _n_features(self):
        p = as_pair(self.pooling, "pooling", "KMeansPatches")
        return p[0] * p[1] * len(self.centroids_)

    def _feature_names(self):
        p = as_pair(self.pooling, "pooling", "KMeansPatches")
        return [
            f"kmeans_pool{i}_{j}_k{k}"
            for i in range(p[0])
            for j in range(p[1])
            for k in range(len(self.centroids_))
        ]

    def _transform_chunk(self, X):
        P, (n, r, c) = self._patches(X)
        Z = (P - self.mean_) @ self.whitening_
        C = self.centroids_
        d2 = (Z * Z).sum(1, keepdims=True) - 2 * Z @ C.T + (C * C).sum(1)[None]
        dist = np.sqrt(np.maximum(d2, 0, out=d2), out=d2)
        act = np.maximum(dist.mean(axis=1, keepdims=True) - dist, 0).reshape(n, r, c, -1)
        pr, pc = as_pair(self.pooling, "pooling", "KMeansPatches")
        rb = np.linspace(0, r, pr + 1).round().astype(int)
        cb = np.linspace(0, c, pc + 1).round().astype(int)
        pooled = [
            act[:, rb[i] : rb[i + 1], cb[j] : cb[j + 1]].sum(axis=(1, 2))
            for i in range(pr)
            for j in range(pc)
        ]
        return np.concatenate(pooled, axis=1).astype(np.float32)


@register_feature("kmeans_patches", tags=("learned",))
def kmeans_patches(**params) -> KMeansPatches:
    """K-means dictionary on whitened patches, triangle encoding (Coates et al. 2011)."""
    return KMeansPatches(**params)
