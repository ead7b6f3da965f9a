"""Gabor filter-bank texture energies (Daugman, 1985; Jain & Farrokhnia, 1991)."""

from __future__ import annotations

import cv2
import numpy as np
import scipy.fft as sp_fft

from features._base import ImageFeature, as_pair, check_choice, check_number
from features._pooling import (
    check_stats,
    color_planes,
    grid_pool,
    grid_pool_names,
    plane_names,
)
from features._registry import register_feature


def gabor_sigma(wavelength: float, bandwidth: float) -> float:
    """Gaussian standard deviation of a Gabor filter of ``bandwidth`` octaves.

    ``sigma = wavelength / pi * sqrt(ln 2 / 2) * (2**b + 1) / (2**b - 1)``
    (about ``0.56 * wavelength`` for one octave).
    """
    b = 2.0**bandwidth
    return wavelength / np.pi * np.sqrt(np.log(2) / 2) * (b + 1) / (b - 1)


class Gabor(ImageFeature):
    """Local energy of a bank of Gabor filters, pooled over a grid of cells.

    The bank has ``orientations`` directions ``theta = k * pi / orientations``
    (the normal to the stripes, in image coordinates: ``theta = 0`` responds
    to vertical stripes) at each of ``wavelengths``.  Each filter is a
    quadrature pair from ``cv2.getGaborKernel`` (even: ``psi = 0``, its mean
    removed so flat regions give zero; odd: ``psi = pi / 2``), both divided by
    the sum of the Gaussian envelope; the local energy
    ``sqrt(even**2 + odd**2)`` of the image (scaled to [0, 1]) is the modulus
    of the complex Gabor response (Daugman's 2-D Gabor wavelet) and is about
    half the amplitude of a matching grating.  Every energy map is pooled
    over ``grid`` cells with ``stats`` (mean and standard deviation of the
    energy, Jain & Farrokhnia's texture features).  Filtering is done by FFT
    on a whole chunk of images at once (:meth:`energy_maps`; equal to
    ``cv2.filter2D`` with reflected borders, which the tests check).

    Parameters
    ----------
    orientations : int, default=8
        Number of filter directions over 0-180 degrees.
    wavelengths : sequence of float, default=(3.0, 6.0)
        Wavelengths of the sinusoid in pixels (frequencies ``1 / wavelength``),
        each at least 2 (the Nyquist limit).
    bandwidth : float, default=1.0
        Spatial-frequency bandwidth in octaves; sets the envelope's standard
        deviation (:func:`gabor_sigma`, ``0.56 * wavelength`` for one octave).
        Kernels are ``2 * ceil(3 * sigma) + 1`` pixels wide.
    aspect_ratio : float, default=0.5
        Spatial aspect ratio ``gamma`` of the envelope (along the stripes).
    grid : int or pair of int, default=(4, 4)
        Pooling cells (rows, cols).
    stats : sequence of {"mean", "std", "max"}, default=("mean", "std")
        Statistics of the energy per cell.
    color : {"gray", "per_channel"}, default="gray"
        For 3-channel input: filter the BT.601 luma, or each R, G, B channel
        (concatenated, three times the features).
    n_jobs : int, default=-1

    Attributes
    ----------
    kernels_ : list of (ndarray, ndarray)
        The (even, odd) float32 kernels, orientation-major within each
        wavelength (``wavelengths`` outer, ``orientations`` inner).
    input_shape_ : tuple of int
    n_features_out_ : int
        ``planes * len(wavelengths) * orientations * cells * len(stats)``.

    References
    ----------
    J. G. Daugman, "Uncertainty relation for resolution in space, spatial
    frequency, and orientation optimized by two-dimensional visual cortical
    filters", J. Opt. Soc. Am. A 2(7), 1985.  A. K. Jain and F. Farrokhnia,
    "Unsupervised texture segmentation using Gabor filters", Pattern
    Recognition 24(12), 1991.
    """

    def __init__(
        self,
        orientations=8,
        wavelengths=(3.0, 6.0),
        bandwidth=1.0,
        aspect_ratio=0.5,
        grid=(4, 4),
        stats=("mean", "std"),
        color="gray",
        n_jobs=-1,
    ):
        self.orientations = orientations
        self.wavelengths = wavelengths
        self.bandwidth = bandwidth
        self.aspect_ratio = aspect_ratio
        self.grid = grid
        self.stats = stats
        self.color = color
        self.n_jobs = n_jobs

    def _wavelengths(self) -> list[float]:
        wl = [self.wavelengths] if np.isscalar(self.wavelengths) else list(self.wavelengths)
        if not wl:
            raise ValueError("Gabor needs at least one wavelength, got wavelengths=()")
        return [float(check_number(v, "wavelengths entries", "Gabor", low=2)) for v in wl]

    def _validate_params(self):
        who = "Gabor"
        check_number(self.orientations, "orientations", who, low=1, integer=True)
        self._wavelengths()
        check_number(self.bandwidth, "bandwidth", who, low=0.1, high=4)
        check_number(self.aspect_ratio, "aspect_ratio", who, low=1e-3)
        as_pair(self.grid, "grid", who)
        check_stats(self.stats, "stats", who)
        check_choice(self.color, "color", ("gray", "per_channel"), who)

    def _min_size(self):
        return as_pair(self.grid, "grid", "Gabor")

    def _size_reason(self):
        return f" for grid={self.grid}"

    def _fit_images(self, X, y):
        self.kernels_ = []
        for wl in self._wavelengths():
            sigma = gabor_sigma(wl, float(self.bandwidth))
            half = int(np.ceil(3 * sigma))
            ksize = (2 * half + 1, 2 * half + 1)
            for k in range(int(self.orientations)):
                theta = k * np.pi / int(self.orientations)
                args = (ksize, sigma, theta, wl, float(self.aspect_ratio))
                even = cv2.getGaborKernel(*args, 0.0, cv2.CV_64F)
                odd = cv2.getGaborKernel(*args, np.pi / 2, cv2.CV_64F)
                # the envelope: the same kernel with an infinitely long wavelength
                env = cv2.getGaborKernel(ksize, sigma, theta, 1e12, float(self.aspect_ratio), 0.0)
                even = (even - even.mean()) / env.sum()
                odd = odd / env.sum()
                self.kernels_.append((even.astype(np.float32), odd.astype(np.float32)))

    def _map_names(self):
        return [
            f"l{wl:g}_o{k}" for wl in self._wavelengths() for k in range(int(self.orientations))
        ]

    def _n_features(self):
        g = as_pair(self.grid, "grid", "Gabor")
        n_stats = len(check_stats(self.stats, "stats", "Gabor"))
        return (
            len(plane_names(self.input_shape_, self.color))
            * len(self.kernels_)
            * g[0]
            * g[1]
            * n_stats
        )

    def _feature_names(self):
        g = as_pair(self.grid, "grid", "Gabor")
        stats = check_stats(self.stats, "stats", "Gabor")
        return [
            name
            for p in plane_names(self.input_shape_, self.color)
            for name in grid_pool_names(f"gabor_{p}", self._map_names(), g, stats)
        ]

    def energy_maps(self, X) -> np.ndarray:
        """(n, planes * n_kernels, H, W) float32 local energies of validated images ``X``.

        Each plane is padded by reflection (``cv2.BORDER_REFLECT_101``) by the
        largest kernel radius and Fourier transformed once; one inverse FFT
        per filter then gives its complex response ``even + 1j * odd``, equal
        to two ``cv2.filter2D`` calls with the same border.
        """
        n, h, w = X.shape[:3]
        half = max(e.shape[0] for e, _ in self.kernels_) // 2
        shape = (sp_fft.next_fast_len(h + 2 * half), sp_fft.next_fast_len(w + 2 * half))
        freq = []
        for even, odd in self.kernels_:
            pair = np.zeros((2, *shape), dtype=np.float32)
            s = even.shape[0]
            pair[0, :s, :s], pair[1, :s, :s] = even, odd
            # centre the kernel on the origin; conjugate: correlation, as filter2D
            pair = np.conj(sp_fft.fft2(np.roll(pair, (-(s // 2), -(s // 2)), axis=(1, 2))))
            freq.append((pair[0] + 1j * pair[1]).astype(np.complex64))
        n_planes = len(plane_names(X.shape, self.color))
        out = np.empty((n, n_planes * len(freq), h, w), dtype=np.float32)
        for p, plane in enumerate(color_planes(X, self.color)):
            img = plane.astype(np.float32) / np.float32(255.0)
            padded = np.pad(img, ((0, 0), (half, half), (half, half)), mode="reflect")
            spectrum = sp_fft.fft2(padded, s=shape, workers=1)
            for k, K in enumerate(freq):
                resp = sp_fft.ifft2(spectrum * K, workers=1)[:, half : half + h, half : half + w]
                np.abs(resp, out=out[:, p * len(freq) + k])
        return out

    def _transform_chunk(self, X):
        g = as_pair(self.grid, "grid", "Gabor")
        pooled = grid_pool(self.energy_maps(X), g, check_stats(self.stats, "stats", "Gabor"))
        return pooled.reshape(len(X), -1)


@register_feature("gabor", tags=("texture", "filter_bank"))
def gabor(**params) -> Gabor:
    """Gabor filter-bank energies pooled on a grid (Daugman 1985; Jain & Farrokhnia 1991)."""
    return Gabor(**params)
