"""Fixed convolution kernels as features: edge and line detectors, rectified and pooled."""

from __future__ import annotations

import numpy as np

from features._base import ImageFeature, as_pair, check_choice, filter_batch
from features._pooling import (
    check_stats,
    color_planes,
    grid_pool,
    grid_pool_names,
    plane_names,
)
from features._registry import register_feature

#: The fixed 3x3 kernels (correlation, rows top to bottom; x to the right, y down).
KERNELS = {
    "sobel_x": ((-1, 0, 1), (-2, 0, 2), (-1, 0, 1)),
    "sobel_y": ((-1, -2, -1), (0, 0, 0), (1, 2, 1)),
    "sobel_d45": ((-2, -1, 0), (-1, 0, 1), (0, 1, 2)),
    "sobel_d135": ((0, 1, 2), (-1, 0, 1), (-2, -1, 0)),
    "laplacian": ((0, 1, 0), (1, -4, 1), (0, 1, 0)),
    "line_h": ((-1, -1, -1), (2, 2, 2), (-1, -1, -1)),
    "line_v": ((-1, 2, -1), (-1, 2, -1), (-1, 2, -1)),
    "line_d45": ((-1, -1, 2), (-1, 2, -1), (2, -1, -1)),
    "line_d135": ((2, -1, -1), (-1, 2, -1), (-1, -1, 2)),
}


def kernel_matrix(name: str) -> np.ndarray:
    """Kernel ``name`` of :data:`KERNELS` as float32, scaled so its positive weights sum to 1.

    Responses to images in [0, 1] then lie in [-1, 1].
    """
    k = np.asarray(KERNELS[name], dtype=np.float32)
    return k / k[k > 0].sum()


class ConvKernels(ImageFeature):
    """Rectified responses of fixed edge and line kernels, pooled over a grid.

    The "convolution as a feature" idea without learning: the image (scaled
    to [0, 1]) is correlated with fixed 3x3 kernels (Sobel x / y and
    diagonals, the 4-neighbour Laplacian, and the classic horizontal,
    vertical and diagonal line detectors, see :data:`KERNELS`), each scaled so
    its positive weights sum to 1; responses are rectified and pooled (max
    and/or mean) over ``grid`` cells, like one fixed convolutional layer with
    a ReLU and spatial pooling.  Each kernel is one ``cv2.filter2D`` call on
    the whole chunk (:func:`features._base.filter_batch`, reflected borders).

    Parameters
    ----------
    kernels : sequence of str, default=all of KERNELS
        Kernel names, in output order.
    rectify : {"abs", "split"}, default="abs"
        ``"abs"``: ``|r|``, one map per kernel (edge of either polarity);
        ``"split"``: ``max(r, 0)`` and ``max(-r, 0)``, two maps per kernel
        (keeps the polarity, as a ReLU on the kernel and its negation).
    stats : sequence of {"max", "mean", "std"}, default=("max", "mean")
        Pooling statistics per cell.
    grid : int or pair of int, default=(4, 4)
        Pooling cells (rows, cols).
    color : {"gray", "per_channel"}, default="gray"
        For 3-channel input: the BT.601 luma, or each R, G, B channel.
    n_jobs : int, default=-1

    Attributes
    ----------
    input_shape_ : tuple of int
    n_features_out_ : int
        ``planes * maps * cells * len(stats)`` with ``maps = len(kernels)``
        (twice that for ``rectify="split"``).

    References
    ----------
    I. Sobel and G. Feldman, "A 3x3 isotropic gradient operator for image
    processing", 1968 (in R. Duda and P. Hart, Pattern Classification and
    Scene Analysis, Wiley, 1973).  R. C. Gonzalez and R. E. Woods, Digital
    Image Processing, 3rd ed., Prentice Hall, 2008, section 10.2 (line and
    edge detection masks).  Y. LeCun, L. Bottou, Y. Bengio and P. Haffner,
    "Gradient-based learning applied to document recognition", Proc. IEEE
    86(11), 1998 (convolution, rectification and pooling as features).
    """

    def __init__(
        self,
        kernels=tuple(KERNELS),
        rectify="abs",
        stats=("max", "mean"),
        grid=(4, 4),
        color="gray",
        n_jobs=-1,
    ):
        self.kernels = kernels
        self.rectify = rectify
        self.stats = stats
        self.grid = grid
        self.color = color
        self.n_jobs = n_jobs

    def _kernels(self) -> list[str]:
        return [self.kernels] if isinstance(self.kernels, str) else list(self.kernels)

    def _validate_params(self):
        who = "ConvKernels"
        names = self._kernels()
        if not names or len(set(names)) != len(names):
            raise ValueError(
                f"{who} needs kernels to be a non-empty sequence of distinct names, "
                f"got {self.kernels!r}"
            )
        for k in names:
            check_choice(k, "kernels entries", tuple(KERNELS), who)
        check_choice(self.rectify, "rectify", ("abs", "split"), who)
        check_stats(self.stats, "stats", who)
        as_pair(self.grid, "grid", who)
        check_choice(self.color, "color", ("gray", "per_channel"), who)

    def _min_size(self):
        g = as_pair(self.grid, "grid", "ConvKernels")
        return max(3, g[0]), max(3, g[1])

    def _size_reason(self):
        return f" (3x3 kernels, grid={self.grid})"

    def _map_names(self):
        if self.rectify == "abs":
            return self._kernels()
        return [f"{k}{s}" for k in self._kernels() for s in ("+", "-")]

    def _n_features(self):
        g = as_pair(self.grid, "grid", "ConvKernels")
        n_stats = len(check_stats(self.stats, "stats", "ConvKernels"))
        n_planes = len(plane_names(self.input_shape_, self.color))
        return n_planes * len(self._map_names()) * g[0] * g[1] * n_stats

    def _feature_names(self):
        g = as_pair(self.grid, "grid", "ConvKernels")
        stats = check_stats(self.stats, "stats", "ConvKernels")
        return [
            name
            for p in plane_names(self.input_shape_, self.color)
            for name in grid_pool_names(f"conv_{p}", self._map_names(), g, stats)
        ]

    def response_maps(self, X) -> np.ndarray:
        """(n, planes * maps, H, W) float32 rectified responses of validated images ``X``."""
        planes = color_planes(X, self.color)
        n, h, w = planes[0].shape
        names = self._kernels()
        per = 1 if self.rectify == "abs" else 2
        maps = np.empty((n, len(planes) * len(names) * per, h, w), dtype=np.float32)
        m = 0
        for plane in planes:
            img = plane.astype(np.float32) / np.float32(255.0)
            for name in names:
                r = filter_batch(img, kernel_matrix(name))
                if self.rectify == "abs":
                    np.abs(r, out=maps[:, m])
                else:
                    np.maximum(r, 0, out=maps[:, m])
                    np.maximum(-r, 0, out=maps[:, m + 1])
                m += per
        return maps

    def _transform_chunk(self, X):
        g = as_pair(self.grid, "grid", "ConvKernels")
        stats = check_stats(self.stats, "stats", "ConvKernels")
        return grid_pool(self.response_maps(X), g, stats).reshape(len(X), -1)


@register_feature("conv_kernels", tags=("gradient", "filter_bank"))
def conv_kernels(**params) -> ConvKernels:
    """Fixed Sobel / Laplacian / line kernels, rectified and grid-pooled (convolution as a feature)."""
    return ConvKernels(**params)
