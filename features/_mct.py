"""Modified census transform histograms (Fröba & Ernst, 2004)."""

from __future__ import annotations

import numpy as np

from features._base import ImageFeature, as_pair, cell_histograms, check_choice, to_gray
from features._registry import register_feature


def mct_codes(gray: np.ndarray) -> np.ndarray:
    """9-bit modified census codes of a (n, H, W) uint8 batch.

    Bit ``k`` of the code of a pixel is 1 when the ``k``-th pixel of its 3x3
    neighbourhood (row-major, centre included) is brighter than the
    neighbourhood mean.  Borders are replicated.  Codes lie in 0-510 (511,
    all nine above the mean, cannot occur).
    """
    n, h, w = gray.shape
    p = np.pad(gray.astype(np.int32), ((0, 0), (1, 1), (1, 1)), mode="edge")
    shifts = [p[:, i : i + h, j : j + w] for i in range(3) for j in range(3)]
    total = sum(shifts)
    code = np.zeros((n, h, w), dtype=np.int64)
    for k, s in enumerate(shifts):  # s > mean  <=>  9 s > sum
        code |= (9 * s > total).astype(np.int64) << k
    return code


class MCT(ImageFeature):
    """Histograms of modified census transform codes over a grid of cells.

    Parameters
    ----------
    grid : int or pair of int, default=(3, 3)
        Cells (rows, cols), 512 bins each.
    color : {"gray", "per_channel"}, default="gray"
        3-channel input: codes of the BT.601 luma, or of each channel.
    n_jobs : int, default=-1

    References
    ----------
    B. Fröba and A. Ernst, "Face Detection with the Modified Census
    Transform", IEEE FG 2004.
    """

    def __init__(self, grid=(3, 3), color="gray", n_jobs=-1):
        self.grid = grid
        self.color = color
        self.n_jobs = n_jobs

    def _validate_params(self):
        as_pair(self.grid, "grid", "MCT")
        check_choice(self.color, "color", ("gray", "per_channel"), "MCT")

    def _min_size(self):
        g = as_pair(self.grid, "grid", "MCT")
        return max(3, g[0]), max(3, g[1])

    def _size_reason(self):
        return f" (3x3 neighbourhoods, grid={self.grid})"

    def _planes(self):
        return (
            ["r", "g", "b"]
            if self.input_shape_[2] == 3 and self.color == "per_channel"
            else ["gray"]
        )

    def _n_features(self):
        g = as_pair(self.grid, "grid", "MCT")
        return len(self._planes()) * g[0] * g[1] * 512

    def _feature_names(self):
        g = as_pair(self.grid, "grid", "MCT")
        return [
            f"mct_{p}_cell{i}_{j}_code{b}"
            for p in self._planes()
            for i in range(g[0])
            for j in range(g[1])
            for b in range(512)
        ]

    def _transform_chunk(self, X):
        planes = [to_gray(X)] if self._planes() == ["gray"] else [X[..., c] for c in range(3)]
        grid = as_pair(self.grid, "grid", "MCT")
        return np.concatenate([cell_histograms(mct_codes(p), 512, grid) for p in planes], axis=1)


@register_feature("mct", tags=("texture",))
def mct(**params) -> MCT:
    """Modified census transform histograms on a grid (Fröba & Ernst 2004)."""
    return MCT(**params)
