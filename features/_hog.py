"""Histograms of oriented gradients (Dalal & Triggs, 2005)."""

from __future__ import annotations

import cv2
import numpy as np

from features._base import ImageFeature, as_pair, check_choice, check_number, to_gray
from features._preprocess import deskew as deskew_images
from features._registry import register_feature

_COLORS = ("gray", "max_gradient", "per_channel", "gray+per_channel")
_BACKENDS = ("opencv", "skimage")
_NORMS = ("L1", "L1-sqrt", "L2", "L2-Hys")


class HOG(ImageFeature):
    """Histograms of oriented gradients over a dense grid of overlapping blocks.

    Gradients are taken with the centred ``[-1, 0, 1]`` filter, each pixel
    votes its gradient magnitude into one of ``orientations`` unsigned
    orientation bins (0-180 degrees) of its cell, and the cell histograms of
    every block of ``cells_per_block`` cells are concatenated and normalised.
    Blocks slide by ``block_stride`` cells.  Several cell sizes may be given;
    their descriptors are concatenated (multi-scale HOG).

    Parameters
    ----------
    orientations : int, default=9
        Orientation bins per cell.
    pixels_per_cell : int, pair of int, or sequence of pairs, default=(4, 4)
        Cell size ``(rows, cols)`` in pixels; a sequence such as
        ``((4, 4), (7, 7))`` concatenates one HOG per cell size.
    cells_per_block : int or pair of int, default=(2, 2)
        Block size in cells.
    block_stride : int or pair of int, optional
        Step between blocks, in cells; ``None`` means one cell (Dalal & Triggs'
        default, and the only stride scikit-image supports).
    block_norm : {"L2-Hys", "L2", "L1", "L1-sqrt"}, default="L2-Hys"
        Block normalisation; the OpenCV backend only implements ``"L2-Hys"``
        (L2, clip at 0.2, renormalise).
    gamma_correction : bool, default=False
        Square-root gamma compression of the intensities before gradients.
    color : {"gray", "max_gradient", "per_channel", "gray+per_channel"}, default="gray"
        Colour handling for 3-channel input: ``"gray"`` computes HOG on the
        BT.601 luma; ``"max_gradient"`` takes at each pixel the gradient of the
        channel with the largest magnitude (Dalal & Triggs' choice; one
        descriptor); ``"per_channel"`` concatenates one descriptor per R, G and
        B channel; ``"gray+per_channel"`` concatenates luma, R, G and B (four
        descriptors).  Gray-scale input always gives one descriptor.
    deskew : bool, default=False
        Shear each image so its second-order moment ``mu11`` is zero first
        (helps on handwritten digits).
    win_sigma : float, optional
        Standard deviation of OpenCV's Gaussian block window; ``None`` uses
        OpenCV's default ``(block_w + block_h) / 8`` pixels.  Ignored by the
        scikit-image backend, which has no window.
    backend : {"opencv", "skimage"}, default="opencv"
        ``cv2.HOGDescriptor`` (fast; trilinear vote interpolation and a
        Gaussian block window) or ``skimage.feature.hog`` (hard cell
        assignment, no window).  Both use the same geometry and the same output
        order: blocks in row-major order, then cells in row-major order within
        the block, then orientation bins.
    n_jobs : int, optional
        Parallel workers for ``transform`` (``-1``: all cores).

    Attributes
    ----------
    input_shape_ : tuple of int
    n_features_out_ : int

    Notes
    -----
    When the image is not a whole number of cells or block steps, the grid
    covers the top-left part of the image that fits (as scikit-image does);
    gradients are still computed on the full image.

    References
    ----------
    N. Dalal and B. Triggs, "Histograms of Oriented Gradients for Human
    Detection", CVPR 2005.
    """

    def __init__(
        self,
        orientations=9,
        pixels_per_cell=(4, 4),
        cells_per_block=(2, 2),
        block_stride=None,
        block_norm="L2-Hys",
        gamma_correction=False,
        color="gray",
        deskew=False,
        win_sigma=None,
        backend="opencv",
        n_jobs=-1,
    ):
        self.orientations = orientations
        self.pixels_per_cell = pixels_per_cell
        self.cells_per_block = cells_per_block
        self.block_stride = block_stride
        self.block_norm = block_norm
        self.gamma_correction = gamma_correction
        self.color = color
        self.deskew = deskew
        self.win_sigma = win_sigma
        self.backend = backend
        self.n_jobs = n_jobs

    @property
    def _prefer(self):
        return "threads" if self.backend == "opencv" else "processes"

    def _cells(self) -> list[tuple[int, int]]:
        ppc = self.pixels_per_cell
        if np.isscalar(ppc) or (len(ppc) == 2 and all(np.isscalar(v) for v in ppc)):
            ppc = [ppc]
        if len(ppc) == 0:
            raise ValueError("HOG needs at least one cell size in pixels_per_cell, got ()")
        return [as_pair(p, "pixels_per_cell", "HOG") for p in ppc]

    def _validate_params(self):
        who = "HOG"
        check_number(self.orientations, "orientations", who, low=1, integer=True)
        self._cells()
        as_pair(self.cells_per_block, "cells_per_block", who)
        if self.block_stride is not None:
            as_pair(self.block_stride, "block_stride", who)
        check_choice(self.block_norm, "block_norm", _NORMS, who)
        check_choice(self.color, "color", _COLORS, who)
        check_choice(self.backend, "backend", _BACKENDS, who)
        if self.backend == "opencv" and self.block_norm != "L2-Hys":
            raise ValueError(
                f"HOG with backend='opencv' only supports block_norm='L2-Hys', got "
                f"{self.block_norm!r}; use backend='skimage' for other norms"
            )
        if self.backend == "skimage" and self._stride() != (1, 1):
            raise ValueError(
                "HOG with backend='skimage' only supports block_stride=None or (1, 1) "
                f"(one cell), got {self.block_stride!r}"
            )
        if self.win_sigma is not None:
            check_number(self.win_sigma, "win_sigma", who, low=1e-6)

    def _stride(self):
        return (
            (1, 1)
            if self.block_stride is None
            else as_pair(self.block_stride, "block_stride", "HOG")
        )

    def _min_size(self):
        bh, bw = as_pair(self.cells_per_block, "cells_per_block", "HOG")
        cells = self._cells()
        return max(bh * c[0] for c in cells), max(bw * c[1] for c in cells)

    def _size_reason(self):
        return (
            f" for cells_per_block={self.cells_per_block} and "
            f"pixels_per_cell={self.pixels_per_cell}"
        )

    def _grid(self, cell):
        """Blocks (rows, cols) and covered window (rows, cols) for one cell size."""
        h, w = self.input_shape_[:2]
        bh, bw = as_pair(self.cells_per_block, "cells_per_block", "HOG")
        sh, sw = self._stride()
        nby = (h // cell[0] - bh) // sh + 1
        nbx = (w // cell[1] - bw) // sw + 1
        win = ((nby - 1) * sh * cell[0] + bh * cell[0], (nbx - 1) * sw * cell[1] + bw * cell[1])
        return (nby, nbx), win

    def _planes(self) -> list[str]:
        if self.input_shape_[2] == 1 or self.color == "gray":
            return ["gray"]
        return {
            "max_gradient": ["max"],
            "per_channel": ["r", "g", "b"],
            "gray+per_channel": ["gray", "r", "g", "b"],
        }[self.color]

    def _n_features(self):
        bh, bw = as_pair(self.cells_per_block, "cells_per_block", "HOG")
        per_plane = sum(
            int(np.prod(self._grid(c)[0])) * bh * bw * self.orientations for c in self._cells()
        )
        return per_plane * len(self._planes())

    def _feature_names(self):
        bh, bw = as_pair(self.cells_per_block, "cells_per_block", "HOG")
        names = []
        for cell in self._cells():
            (nby, nbx), _ = self._grid(cell)
            for plane in self._planes():
                names += [
                    f"hog_c{cell[0]}x{cell[1]}_{plane}_by{i}_bx{j}_cy{k}_cx{m}_o{o}"
                    for i in range(nby)
                    for j in range(nbx)
                    for k in range(bh)
                    for m in range(bw)
                    for o in range(self.orientations)
                ]
        return names

    def _plane_images(self, X):
        """Yield the (n, H, W[, 3]) uint8 arrays that each give one descriptor."""
        if self.deskew:
            X = deskew_images(X)
        for plane in self._planes():
            if plane == "gray":
                yield to_gray(X)
            elif plane == "max":
                yield X
            else:
                yield X[..., "rgb".index(plane)]

    def _transform_chunk(self, X):
        out = np.empty((len(X), self.n_features_out_), dtype=np.float32)
        col = 0
        planes = list(self._plane_images(X))
        for cell in self._cells():
            for imgs in planes:
                block = (
                    self._hog_opencv(imgs, cell)
                    if self.backend == "opencv"
                    else self._hog_skimage(imgs, cell)
                )
                out[:, col : col + block.shape[1]] = block
                col += block.shape[1]
        return out

    def _hog_opencv(self, imgs, cell):
        bh, bw = as_pair(self.cells_per_block, "cells_per_block", "HOG")
        sh, sw = self._stride()
        (nby, nbx), (wh, ww) = self._grid(cell)
        hog = cv2.HOGDescriptor(
            (ww, wh),
            (bw * cell[1], bh * cell[0]),
            (sw * cell[1], sh * cell[0]),
            (cell[1], cell[0]),
            int(self.orientations),
            1,
            -1.0 if self.win_sigma is None else float(self.win_sigma),
            cv2.HOGDescriptor_L2Hys,
            0.2,
            bool(self.gamma_correction),
            64,
            False,
        )
        d = hog.getDescriptorSize()
        res = np.empty((len(imgs), d), dtype=np.float32)
        loc = ((0, 0),)
        stride = (cell[1], cell[0])
        for i in range(len(imgs)):
            res[i] = hog.compute(imgs[i], stride, (0, 0), loc).ravel()
        # OpenCV orders blocks and cells column-major: (bx, by, cx, cy, bin).
        res = res.reshape(len(imgs), nbx, nby, bw, bh, self.orientations)
        return res.transpose(0, 2, 1, 4, 3, 5).reshape(len(imgs), d)

    def _hog_skimage(self, imgs, cell):
        from skimage.feature import hog

        channel_axis = -1 if imgs.ndim == 4 else None
        return np.stack(
            [
                hog(
                    img,
                    orientations=int(self.orientations),
                    pixels_per_cell=cell,
                    cells_per_block=as_pair(self.cells_per_block, "cells_per_block", "HOG"),
                    block_norm=self.block_norm,
                    transform_sqrt=bool(self.gamma_correction),
                    feature_vector=True,
                    channel_axis=channel_axis,
                ).astype(np.float32)
                for img in imgs.astype(np.float32)
            ]
        )


@register_feature(
    "hog",
    tags=("gradient", "dense"),
    default_params={},
)
def hog(**params) -> HOG:
    """Histograms of oriented gradients (Dalal & Triggs 2005), OpenCV or scikit-image."""
    return HOG(**params)
