"""Checks of the gabor, conv_kernels, daisy and shape_context extractors and of the feature cache.

The registry conformance tests of ``tests/test_features.py`` cover these
extractors too (shape, dtype, names, determinism, size errors).
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest

import features
from features import extract_features
from features._base import filter_batch
from features._extract import cache_key


def grating(theta, wavelength=6.0, size=32):
    """uint8 sinusoid whose stripes have normal (cos theta, sin theta) in (x, y-down)."""
    r, c = np.mgrid[:size, :size]
    phase = 2 * np.pi * (c * np.cos(theta) + r * np.sin(theta)) / wavelength
    return (127.5 + 120 * np.cos(phase)).astype(np.uint8)[None]


def digits(n=6, size=28, seed=0):
    """Small synthetic 'digits': thick strokes on black."""
    rng = np.random.default_rng(seed)
    out = np.zeros((n, size, size), np.uint8)
    for img in out:
        cv2.ellipse(img, (14, 14), (int(rng.integers(4, 9)), 10), 0, 0, 360, 255, 2)
        cv2.line(img, (6, 24), (22, int(rng.integers(3, 10))), 255, 2)
    return out


# --- gabor ----------------------------------------------------------------------------


def test_gabor_orientation_selectivity():
    est = features.Gabor(orientations=8, wavelengths=(6.0,), grid=1, stats=("mean",))
    est.fit(np.zeros((1, 32, 32), np.uint8))
    for k in range(8):
        energy = est.transform(grating(k * np.pi / 8))[0]
        assert energy.argmax() == k
        # tuned: every other direction responds at least 3x less (45-degree gratings
        # are the least clean on the pixel grid: measured ratio 3.7)
        assert energy[k] > 3 * np.delete(energy, k).max()
    # a flat image has no energy (even kernels are zero-mean)
    assert np.allclose(est.transform(np.full((1, 32, 32), 200, np.uint8)), 0, atol=1e-6)


def test_gabor_fft_matches_filter2d():
    X = digits(n=3)[..., None]
    est = features.Gabor(wavelengths=(3.0, 5.0), orientations=4).fit(X)
    maps = est.energy_maps(X)
    img = X[..., 0].astype(np.float32) / 255
    for k, (even, odd) in enumerate(est.kernels_):
        ref = np.hypot(filter_batch(img, even), filter_batch(img, odd))
        single = cv2.filter2D(img[0], cv2.CV_32F, even, borderType=cv2.BORDER_REFLECT_101)
        np.testing.assert_allclose(filter_batch(img, even)[0], single, atol=1e-6)
        np.testing.assert_allclose(maps[:, k], ref, atol=1e-5)


def test_gabor_dims_and_params():
    g28, c32 = np.zeros((2, 28, 28), np.uint8), np.zeros((2, 32, 32, 3), np.uint8)
    assert features.Gabor().fit(g28).n_features_out_ == 2 * 8 * 16 * 2
    assert features.Gabor(color="per_channel").fit(c32).n_features_out_ == 3 * 512
    with pytest.raises(ValueError, match="wavelengths entries.*got 1.5"):
        features.Gabor(wavelengths=(1.5,)).fit(g28)
    with pytest.raises(ValueError, match="stats"):
        features.Gabor(stats=("median",)).fit(g28)


# --- conv_kernels ---------------------------------------------------------------------


def test_conv_kernels_vertical_edge_is_sobel_x():
    img = np.zeros((1, 16, 16), np.uint8)
    img[:, :, 8:] = 255
    est = features.ConvKernels(grid=1, stats=("max",)).fit(img)
    F = dict(zip(est.kernels, est.transform(img)[0], strict=True))
    assert max(F, key=F.get) == "sobel_x"
    assert F["sobel_x"] == pytest.approx(1.0)  # positive weights sum to 1
    assert F["sobel_y"] == pytest.approx(0.0, abs=1e-6)
    # and a horizontal edge is sobel_y
    est_t = est.transform(img.transpose(0, 2, 1).copy())[0]
    assert est.kernels[int(est_t.argmax())] == "sobel_y"


def test_conv_kernels_split_keeps_polarity():
    img = np.zeros((1, 16, 16), np.uint8)
    img[:, :, 8:] = 255  # dark to bright: positive sobel_x
    est = features.ConvKernels(kernels=("sobel_x",), rectify="split", grid=1, stats=("max",))
    pos, neg = est.fit(img).transform(img)[0]
    assert pos == pytest.approx(1.0) and neg == pytest.approx(0.0)
    pos, neg = est.transform(255 - img)[0]
    assert pos == pytest.approx(0.0) and neg == pytest.approx(1.0)


def test_conv_kernels_matches_filter2d_and_pooling():
    X = digits(n=2, size=16)
    est = features.ConvKernels(kernels=("laplacian",), grid=(2, 2), stats=("max", "mean", "std"))
    F = est.fit(X).transform(X).reshape(2, 4, 3)
    k = features._conv_kernels.kernel_matrix("laplacian")
    for i, img in enumerate(X.astype(np.float32) / 255):
        r = np.abs(cv2.filter2D(img, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT_101))
        cells = [r[:8, :8], r[:8, 8:], r[8:, :8], r[8:, 8:]]
        ref = [[c.max(), c.mean(), c.std()] for c in cells]
        np.testing.assert_allclose(F[i], ref, atol=1e-5)
    assert features.ConvKernels().fit(X).n_features_out_ == 9 * 16 * 2


# --- daisy ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kw",
    [
        {"step": 4, "radius": 5, "rings": 2, "histograms": 6, "orientations": 8},
        {"step": 3, "radius": 4, "rings": 3, "histograms": 5, "orientations": 6},
    ],
)
@pytest.mark.parametrize("normalization", ["l1", "l2", "daisy", "off"])
def test_daisy_matches_skimage(kw, normalization):
    from skimage.feature import daisy

    X = digits(n=2)
    ref = np.stack([daisy(im, normalization=normalization, **kw) for im in X])
    ours = features.daisy_descriptors(X, normalization=normalization, **kw)
    assert ours.shape == ref.shape
    np.testing.assert_allclose(ours, ref, rtol=1e-4, atol=1e-6 * np.abs(ref).max())


def test_daisy_pooling_and_dims():
    X = digits(n=2)
    flat = features.Daisy(pooling=None).fit(X)
    assert flat.grid_shape_ == (5, 5) and flat.n_features_out_ == 25 * 104
    pooled = features.Daisy(pooling=(2, 2)).fit(X)
    assert pooled.n_features_out_ == 4 * 104
    D = flat.transform(X).reshape(2, 5, 5, 104)
    # grid_bounds(5, 2) == [0, 2, 5]: first cell averages rows/cols 0-1
    np.testing.assert_allclose(
        pooled.transform(X).reshape(2, 4, 104)[:, 0], D[:, :2, :2].mean(axis=(1, 2)), rtol=1e-5
    )
    c32 = np.zeros((2, 32, 32, 3), np.uint8)
    assert features.Daisy().fit(c32).n_features_out_ == 416
    assert features.Daisy(color="per_channel").fit(c32).n_features_out_ == 3 * 416


def test_daisy_too_small_for_radius_is_clear():
    with pytest.raises(ValueError) as e:
        features.Daisy(radius=15, pooling=None).fit(np.zeros((2, 28, 28), np.uint8))
    assert str(e.value) == (
        "Daisy needs images of at least 31x31 pixels for radius=15 (descriptors need "
        "radius pixels on every side), step=4 and pooling=None, got 28x28"
    )


# --- shape_context --------------------------------------------------------------------


def test_shape_context_histograms_sum_to_one():
    X = digits(n=4)
    est = features.ShapeContext(n_points=40).fit(X)
    points, valid, hist = est.describe(X[..., None])
    assert hist.shape == (4, 40, 60)
    assert valid.all()  # these digits have more than 40 edge points
    np.testing.assert_allclose(hist.sum(-1), 1, atol=1e-6)
    # grid encoding: averages of histograms, so each non-empty cell sums to 1 too
    cells = est.transform(X).reshape(4, 4, 60).sum(-1)
    assert np.all((np.abs(cells - 1) < 1e-5) | (cells == 0))


def test_shape_context_bins_by_hand():
    # three collinear points on x: from the middle, one at angle 0 and one at pi
    pts = np.array([[[0, 0], [4, 0], [8, 0]]], np.float32)
    valid = np.ones((1, 3), bool)
    h = features.shape_context_histograms(pts, valid, n_r=5, n_theta=12).reshape(3, 5, 12)
    # mean pairwise distance = (4 + 8 + 4) * 2 / 6 = 16 / 3; 4 / (16/3) = 0.75, 8 / (16/3) = 1.5
    edges = np.logspace(np.log10(0.125), np.log10(2.0), 6)
    r075 = np.searchsorted(edges, 0.75, side="right") - 1
    r150 = np.searchsorted(edges, 1.5, side="right") - 1
    assert h[1, r075, 0] == 0.5 and h[1, r075, 6] == 0.5
    assert h[0, r075, 0] == 0.5 and h[0, r150, 0] == 0.5
    assert h[2, r075, 6] == 0.5 and h[2, r150, 6] == 0.5
    # invalid points neither count nor get a histogram
    valid[0, 2] = False
    h = features.shape_context_histograms(pts, valid).reshape(3, -1)
    assert h[2].sum() == 0 and h[0].sum() == pytest.approx(1)


def test_shape_context_sampling_is_deterministic_and_scale_invariant():
    X = digits(n=3)
    a = features.ShapeContext(n_points=30).fit(X).transform(X)
    b = features.ShapeContext(n_points=30).fit(X[::-1]).transform(X)
    np.testing.assert_array_equal(a, b)
    # a blank image has no edges: all-zero features, no error
    blank = np.zeros((1, 28, 28), np.uint8)
    assert not features.ShapeContext().fit(X).transform(blank).any()
    for kw in ({"encoding": "bow", "n_clusters": 8},):
        F = features.ShapeContext(**kw).fit(X).transform(X)
        np.testing.assert_allclose(F.sum(1), 1, atol=1e-5)  # word counts / points


def test_shape_context_param_errors():
    X = digits(n=2)
    with pytest.raises(ValueError, match="r_inner < r_outer"):
        features.ShapeContext(r_inner=3.0).fit(X)
    with pytest.raises(ValueError, match="canny_thresholds"):
        features.ShapeContext(canny_thresholds=50).fit(X)
    with pytest.raises(ValueError, match="found no Canny edge points"):
        features.ShapeContext(encoding="bow").fit(np.zeros((2, 28, 28), np.uint8))


# --- the feature cache of extract_features --------------------------------------------


@pytest.fixture()
def split():
    X = digits(n=8)
    return X[:6], np.arange(6) % 2, X[6:]


def test_cache_hit_miss_and_invalidation(tmp_path, split):
    xtr, ytr, xte = split
    est = features.ConvKernels(grid=2)
    a = extract_features(est, xtr, ytr, xte, dataset_fingerprint="d1", cache_dir=str(tmp_path))
    assert not a.cache_hit and len(list(tmp_path.glob("*.joblib"))) == 1
    b = extract_features(est, xtr, ytr, xte, dataset_fingerprint="d1", cache_dir=str(tmp_path))
    assert (
        b.cache_hit and b.fit_transform_s == a.fit_transform_s
    )  # timing of the computation that filled it
    np.testing.assert_array_equal(a.train, b.train)
    np.testing.assert_array_equal(a.test, b.test)
    # n_jobs changes speed only: same entry
    c = extract_features(
        features.ConvKernels(grid=2, n_jobs=1),
        xtr,
        ytr,
        xte,
        dataset_fingerprint="d1",
        cache_dir=str(tmp_path),
    )
    assert c.cache_hit
    # a changed parameter or data fingerprint misses and writes a new entry
    d = extract_features(
        features.ConvKernels(grid=3),
        xtr,
        ytr,
        xte,
        dataset_fingerprint="d1",
        cache_dir=str(tmp_path),
    )
    e = extract_features(est, xtr, ytr, xte, dataset_fingerprint="d2", cache_dir=str(tmp_path))
    assert not d.cache_hit and not e.cache_hit
    assert d.train.shape[1] != a.train.shape[1]
    assert len(list(tmp_path.glob("*.joblib"))) == 3
    assert cache_key(est, "d1", xtr, ytr, xte) != cache_key(est, "d1", xtr, ytr[::-1], xte)


def test_cache_dir_none_never_writes(tmp_path, split, monkeypatch):
    xtr, ytr, xte = split
    monkeypatch.chdir(tmp_path)

    def boom(*args, **kwargs):  # pragma: no cover - must not be called
        raise AssertionError("wrote a cache entry")

    monkeypatch.setattr(features._extract, "_atomic_dump", boom)
    a = extract_features(features.ConvKernels(), xtr, ytr, xte, dataset_fingerprint="d1")
    b = extract_features(features.ConvKernels(), xtr, ytr, xte, dataset_fingerprint="d1")
    assert not a.cache_hit and not b.cache_hit
    assert list(tmp_path.iterdir()) == []


def test_corrupt_cache_entry_is_recomputed(tmp_path, split):
    xtr, ytr, xte = split
    est = features.ConvKernels(grid=2)
    a = extract_features(est, xtr, ytr, xte, dataset_fingerprint="d1", cache_dir=str(tmp_path))
    (entry,) = tmp_path.glob("*.joblib")
    entry.write_bytes(b"not a joblib file")
    b = extract_features(est, xtr, ytr, xte, dataset_fingerprint="d1", cache_dir=str(tmp_path))
    assert not b.cache_hit
    np.testing.assert_array_equal(a.train, b.train)
    # the entry was rewritten and is a hit again
    c = extract_features(est, xtr, ytr, xte, dataset_fingerprint="d1", cache_dir=str(tmp_path))
    assert c.cache_hit
    np.testing.assert_array_equal(a.test, c.test)


def test_assign_words_hard_and_soft():
    from features._vocabulary import assign_words, soft_sigma

    rng = np.random.default_rng(0)
    V = rng.normal(size=(6, 4)).astype(np.float32)
    D = (V[[0, 3, 5]] + 0.01 * rng.normal(size=(3, 4))).astype(np.float32)
    words, w = assign_words(D, V)
    assert words.ravel().tolist() == [0, 3, 5] and (w == 1).all()
    assert 0 < soft_sigma(D, V) < 0.1  # RMS distance to the nearest word
    words, w = assign_words(D, V, "soft", n_neighbors=3, sigma=10.0)
    assert words.shape == w.shape == (3, 3)
    np.testing.assert_allclose(w.sum(1), 1, rtol=1e-6)
    assert (words == np.array([[0], [3], [5]])).any(axis=1).all()
    # a wide kernel spreads the weight, a narrow one puts it all on the nearest word
    assert w.max() < 0.5
    _, sharp = assign_words(D, V, "soft", n_neighbors=3, sigma=1e-3)
    np.testing.assert_allclose(sharp.max(1), 1, atol=1e-6)
