"""Conformance tests for every registered feature extractor, plus HOG checks."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
from sklearn.base import clone

import features
from features import build_feature, list_features

#: Small settings so that every learned extractor fits in well under a second.
FAST_PARAMS = {
    "kmeans_patches": {"n_clusters": 16, "max_patches": 2000},
    "sift_bow": {"n_clusters": 16},
    "orb_bow": {"n_clusters": 16},
    "brief_bow": {"n_clusters": 16},
    "daisy_bow": {"n_clusters": 16},
    "pca": {"n_components": 8},
    "concat": {"parts": (("hog", {"pixels_per_cell": (8, 8)}), ("lbp", {}))},
}


def make_images(n=12, h=32, w=32, c=1, seed=0):
    """Deterministic synthetic images: noise plus random lines and circles."""
    rng = np.random.default_rng(seed)
    out = rng.integers(0, 40, size=(n, h, w, c), dtype=np.uint8)
    for img in out:
        for _ in range(3):
            color = tuple(int(v) for v in rng.integers(80, 256, size=c))
            p1 = tuple(int(v) for v in rng.integers(0, min(h, w), size=2))
            p2 = tuple(int(v) for v in rng.integers(0, min(h, w), size=2))
            cv2.line(img, p1, p2, color, 2)
            cv2.circle(img, p1, int(rng.integers(2, 8)), color, 1)
    return out


def build(name, **extra):
    return build_feature(name, **{**FAST_PARAMS.get(name, {}), **extra})


NAMES = list_features()


@pytest.fixture(scope="module")
def gray():
    return make_images(c=1)


@pytest.fixture(scope="module")
def color():
    return make_images(c=3, seed=1)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("channels", [1, 3])
def test_shape_dtype_names(name, channels):
    X = make_images(c=channels, seed=channels)
    y = np.arange(len(X)) % 3
    est = build(name).fit(X, y)
    F = est.transform(X)
    assert F.dtype == np.float32
    assert F.shape == (len(X), est.n_features_out_)
    assert np.isfinite(F).all()
    names = est.get_feature_names_out()
    assert len(names) == F.shape[1] and len(set(names)) == len(names)


@pytest.mark.parametrize("name", NAMES)
def test_deterministic_and_clone(name, gray):
    y = np.arange(len(gray)) % 3
    a = build(name, random_state=0) if "random_state" in build(name).get_params() else build(name)
    b = clone(a)
    assert b.get_params() == a.get_params()
    Fa = a.fit_transform(gray, y)
    Fb = b.fit(gray, y).transform(gray)
    np.testing.assert_array_equal(Fa, Fb)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if "any_size" not in features.get_feature(n).tags]
)
def test_too_small_image_is_a_clear_error(name):
    X = make_images(n=4, h=2, w=2)
    with pytest.raises(ValueError, match=r"at least \d+x\d+ pixels.*got 2x2"):
        build(name).fit(X, np.arange(4) % 2)


@pytest.mark.parametrize("name", NAMES)
def test_transform_checks_shape(name, gray):
    est = build(name).fit(gray, np.arange(len(gray)) % 3)
    with pytest.raises(ValueError, match="fitted on images of shape"):
        est.transform(make_images(n=2, h=40, w=40))


@pytest.mark.parametrize("name", NAMES)
def test_pandas_output(name, gray):
    pytest.importorskip("pandas")
    est = build(name).set_output(transform="pandas")
    df = est.fit_transform(gray, np.arange(len(gray)) % 3)
    assert list(df.columns) == list(est.get_feature_names_out())


def test_n_jobs_gives_same_result(gray):
    X = np.concatenate([gray] * 20)
    a = features.HOG(n_jobs=1).fit(X).transform(X)
    est = features.HOG(n_jobs=2).fit(X)
    est._default_chunk_size = 16
    np.testing.assert_array_equal(a, est.transform(X))


# --- against the reference libraries --------------------------------------------------


@pytest.mark.parametrize("method", ["default", "ror", "uniform", "nri_uniform"])
@pytest.mark.parametrize("P, R", [(8, 1.0), (8, 2.0), (12, 1.5), (16, 2.0)])
def test_lbp_codes_match_skimage(P, R, method, gray):
    from skimage.feature import local_binary_pattern

    g = gray[..., 0]
    ref = np.stack([local_binary_pattern(im, P, R, method) for im in g])
    # Same arithmetic as scikit-image; a float tie at an interpolated neighbour can
    # still flip one bit (measured: 2 of 12,288 pixels for P=8, R=1).
    assert np.mean(features.lbp_codes(g, P, R, method) != ref) < 1e-3


def test_lbp_histograms_are_cell_fractions(gray):
    F = features.LBP(grid=(2, 2)).fit_transform(gray)
    np.testing.assert_allclose(F.reshape(len(gray), 4, -1).sum(-1), 1, atol=1e-6)


def test_lbp_multiresolution_concatenates_each_radius(gray):
    multi = features.LBP(P=(8, 8), R=(1, 2), method="nri_uniform", grid=(2, 2)).fit(gray)
    parts = [
        features.LBP(P=8, R=r, method="nri_uniform", grid=(2, 2)).fit_transform(gray)
        for r in (1, 2)
    ]
    assert [len(b) for b in multi.bins_] == [59, 59]
    np.testing.assert_array_equal(multi.transform(gray), np.concatenate(parts, axis=1))
    assert features.LBP(P=16, R=(1, 2)).fit(gray).n_features_out_ == 2 * 16 * 18
    with pytest.raises(ValueError, match="one P per radius"):
        features.LBP(P=(8, 8, 8), R=(1, 2)).fit(gray)
    with pytest.raises(ValueError, match="P"):
        features.LBP(P=(8, 24), R=(1, 2)).fit(gray)


def test_bow_soft_hellinger_encoding(gray):
    hard = features.build_feature(
        "sift_bow", n_clusters=8, pyramid=(1,), assignment="hard", normalize="l1"
    ).fit(gray)
    F = hard.transform(gray)
    np.testing.assert_allclose(F.sum(1), 1, atol=1e-5)  # fractions of the image's descriptors
    soft = features.build_feature("sift_bow", n_clusters=8, pyramid=(1, 2)).fit(gray)
    assert soft.assignment == "soft" and soft.normalize == "hellinger" and soft.sigma_ > 0
    G = soft.transform(gray)
    np.testing.assert_allclose(np.linalg.norm(G, axis=1), 1, atol=1e-5)
    assert (G > 0).sum() > (F > 0).sum()  # soft votes spread over several words
    with pytest.raises(ValueError, match="rootsift"):
        features.build_feature("orb_bow", rootsift=True).fit(gray)


def test_haar_matches_skimage(gray):
    from skimage.feature import haar_like_feature
    from skimage.transform import integral_image

    est = features.Haar(n_features=300, normalize=False, random_state=1).fit(gray)
    coord = np.empty(len(est.feature_coord_), dtype=object)
    coord[:] = [[tuple(map(tuple, r)) for r in f] for f in est.feature_coord_]
    h, w = gray.shape[1:3]
    ref = np.stack(
        [
            haar_like_feature(integral_image(im), 0, 0, w, h, est.feature_type_, coord)
            for im in gray[..., 0]
        ]
    )
    np.testing.assert_array_equal(est.transform(gray), ref.astype(np.float32))


def test_cv_factory_errors():
    with pytest.raises(RuntimeError, match="unavailable in this OpenCV build"):
        features.cv_factory("SURF")
    assert features.cv_factory("BRIEF") is not None


# --- HOG ------------------------------------------------------------------------------


def test_hog_error_message_names_geometry():
    with pytest.raises(ValueError) as e:
        features.HOG().fit(make_images(n=2, h=6, w=6))
    assert str(e.value) == (
        "HOG needs images of at least 8x8 pixels for cells_per_block=(2, 2) and "
        "pixels_per_cell=(4, 4), got 6x6"
    )


@pytest.mark.parametrize(
    "params, match",
    [
        ({"orientations": 0}, "orientations"),
        ({"pixels_per_cell": (4, 0)}, "pixels_per_cell"),
        ({"color": "hsv"}, "color"),
        ({"backend": "cuda"}, "backend"),
        ({"block_norm": "L1"}, "only supports block_norm='L2-Hys'"),
        ({"backend": "skimage", "block_stride": 2}, "block_stride"),
    ],
)
def test_hog_param_errors(params, match, gray):
    with pytest.raises(ValueError, match=match):
        features.HOG(**params).fit(gray)


def test_hog_dims():
    g28 = make_images(n=2, h=28, w=28)
    c32 = make_images(n=2, h=32, w=32, c=3)
    assert features.HOG().fit(g28).n_features_out_ == 6 * 6 * 4 * 9
    assert features.HOG(pixels_per_cell=((4, 4), (7, 7))).fit(g28).n_features_out_ == 1620
    est = features.HOG(pixels_per_cell=((4, 4), (8, 8)), color="gray+per_channel").fit(c32)
    assert est.n_features_out_ == 8352
    assert features.HOG(color="max_gradient").fit(c32).n_features_out_ == 1764
    assert features.HOG(block_stride=2).fit(g28).n_features_out_ == 3 * 3 * 36


@pytest.mark.parametrize("color_mode, channels", [("gray", 1), ("max_gradient", 3)])
@pytest.mark.parametrize("cell", [4, 8])
def test_hog_backends_agree(color_mode, channels, cell):
    """Same geometry, order and L2-Hys normalisation; values differ only by OpenCV's
    trilinear vote interpolation, which cannot be switched off (its Gaussian block
    window can: a huge ``win_sigma`` makes it flat).  Measured correlations: 0.86 on
    MNIST digits, 0.87-0.91 on CIFAR-10, 0.88-0.91 on these blurred images."""
    X = make_images(n=40, c=channels, seed=3)
    X = np.stack([cv2.GaussianBlur(x, (3, 3), 0).reshape(x.shape) for x in X])
    kw = {"pixels_per_cell": cell, "color": color_mode}
    a = features.HOG(backend="opencv", win_sigma=1e4, **kw).fit_transform(X)
    b = features.HOG(backend="skimage", **kw).fit_transform(X)
    assert a.shape == b.shape
    assert np.corrcoef(a.ravel(), b.ravel())[0, 1] > 0.85
    per_image = [np.corrcoef(u, v)[0, 1] for u, v in zip(a, b, strict=True)]
    assert np.median(per_image) > 0.8
    # block-normalised: every block has unit L2 norm in both backends
    blocks_a = a.reshape(len(X), -1, 36)
    blocks_b = b.reshape(len(X), -1, 36)
    np.testing.assert_allclose(np.linalg.norm(blocks_a, axis=-1), 1, atol=2e-2)
    np.testing.assert_allclose(np.linalg.norm(blocks_b, axis=-1), 1, atol=2e-2)


def test_hog_deskew_changes_slanted_digit():
    img = np.zeros((1, 28, 28, 1), np.uint8)
    cv2.line(img[0], (10, 24), (18, 4), 255, 3)
    a = features.HOG().fit_transform(img)
    b = features.HOG(deskew=True).fit_transform(img)
    assert not np.allclose(a, b)


DATA_DIR = os.environ.get("CVBENCH_DATA_DIR")


@pytest.mark.needs_data
@pytest.mark.skipif(not DATA_DIR, reason="CVBENCH_DATA_DIR not set")
def test_hog_on_mnist_subset_is_accurate():
    from sklearn.svm import LinearSVC

    d = np.load(Path(DATA_DIR) / "mnist.npz")
    xtr, ytr = d["x_train"][:3000], d["y_train"][:3000]
    xte, yte = d["x_test"][:1000], d["y_test"][:1000]
    est = features.HOG().fit(xtr)
    clf = LinearSVC(C=1.0).fit(est.transform(xtr), ytr)
    assert clf.score(est.transform(xte), yte) > 0.93
