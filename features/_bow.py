"""Bags of visual words over local descriptors (Csurka et al., 2004)."""

from __future__ import annotations

import cv2
import numpy as np
from sklearn.cluster import MiniBatchKMeans
from sklearn.utils import check_random_state

from features._base import ImageFeature, check_choice, check_number, to_gray
from features._cv import cv_factory
from features._registry import register_feature

#: Per descriptor: OpenCV extractor (name, params), detector for
#: ``keypoints="detect"`` and the border in pixels (at ``upscale``) inside
#: which OpenCV drops keypoints.
_DESCRIPTORS = {
    "sift": {"extractor": ("SIFT", {}), "detector": ("SIFT", {}), "binary": False},
    "orb": {
        "extractor": ("ORB", {"edgeThreshold": 15, "patchSize": 15}),
        "detector": ("ORB", {"edgeThreshold": 15, "patchSize": 15, "fastThreshold": 5}),
        "binary": True,
    },
    "brief": {
        "extractor": ("BRIEF", {"bytes": 32}),
        "detector": ("FAST", {"threshold": 10}),
        "binary": True,
    },
}


class BagOfVisualWords(ImageFeature):
    """Histogram of quantised local descriptors with spatial-pyramid pooling.

    Local descriptors (SIFT, ORB or BRIEF, computed by OpenCV) are taken at a
    dense grid of keypoints or at detected ones on the gray image (upsampled by
    ``upscale`` first, since ORB and BRIEF need wide patches); ``fit`` learns a
    vocabulary of ``n_clusters`` words with k-means on at most
    ``max_descriptors`` descriptors; ``transform`` assigns each descriptor to
    its nearest word and counts words in the cells of each pyramid level
    (Lazebnik et al. 2006), each histogram divided by the image's descriptor
    count.  Binary descriptors are unpacked to 0/1 bits, so Euclidean k-means
    is Hamming-consistent.

    Parameters
    ----------
    descriptor : {"sift", "orb", "brief"}, default="sift"
    keypoints : {"dense", "detect"}, default="dense"
        A regular grid every ``step`` pixels, or the descriptor's detector
        (SIFT: DoG; ORB: oriented FAST; BRIEF: FAST).
    step : int, default=4
        Grid step in original-image pixels (dense keypoints).
    size : float, default=8.0
        Keypoint diameter in original-image pixels (dense keypoints).
    upscale : int, default=1
        Integer upsampling factor applied before description.
    n_clusters : int, default=200
        Vocabulary size.
    pyramid : sequence of int, default=(1, 2)
        Grid sides of the spatial pyramid levels (``(1,)``: plain BoW).
    max_descriptors : int, default=100000
        Descriptors sampled for k-means.
    random_state : int, RandomState or None, default=0
    n_jobs : int, default=-1

    Notes
    -----
    Colour: descriptors are computed on the BT.601 luma.  Images without
    descriptors get all-zero histograms.

    References
    ----------
    G. Csurka, C. Dance, L. Fan, J. Willamowski and C. Bray, "Visual
    Categorization with Bags of Keypoints", ECCV Workshop on Statistical
    Learning in Computer Vision, 2004.  S. Lazebnik, C. Schmid and J. Ponce,
    "Beyond Bags of Features: Spatial Pyramid Matching", CVPR 2006.
    """

    _default_chunk_size = 512

    def __init__(
        self,
        descriptor="sift",
        keypoints="dense",
        step=4,
        size=8.0,
        upscale=1,
        n_clusters=200,
        pyramid=(1, 2),
        max_descriptors=100000,
        random_state=0,
        n_jobs=-1,
    ):
        self.descriptor = descriptor
        self.keypoints = keypoints
        self.step = step
        self.size = size
        self.upscale = upscale
        self.n_clusters = n_clusters
        self.pyramid = pyramid
        self.max_descriptors = max_descriptors
        self.random_state = random_state
        self.n_jobs = n_jobs

    def _validate_params(self):
        who = type(self).__name__
        check_choice(self.descriptor, "descriptor", tuple(_DESCRIPTORS), who)
        check_choice(self.keypoints, "keypoints", ("dense", "detect"), who)
        check_number(self.step, "step", who, low=1, integer=True)
        check_number(self.size, "size", who, low=1e-3)
        check_number(self.upscale, "upscale", who, low=1, high=16, integer=True)
        check_number(self.n_clusters, "n_clusters", who, low=1, integer=True)
        check_number(self.max_descriptors, "max_descriptors", who, low=1, integer=True)
        if not self.pyramid or not all(
            isinstance(p, (int, np.integer)) and p >= 1 for p in self.pyramid
        ):
            raise ValueError(
                f"{who} needs pyramid to be a sequence of positive ints, got {self.pyramid!r}"
            )
        spec = _DESCRIPTORS[self.descriptor]
        cv_factory(spec["extractor"][0], **spec["extractor"][1])  # fails early if unavailable

    def _min_size(self):
        return (8, 8)

    def _size_reason(self):
        return f" for {self.descriptor} descriptors"

    def _describe(self, gray):
        """Per image: (xy in original pixels (m, 2), descriptors (m, d) float32)."""
        spec = _DESCRIPTORS[self.descriptor]
        ext = cv_factory(spec["extractor"][0], **spec["extractor"][1])
        det = (
            cv_factory(spec["detector"][0], **spec["detector"][1])
            if self.keypoints == "detect"
            else None
        )
        u = int(self.upscale)
        h, w = gray.shape[1:]
        grid = [
            cv2.KeyPoint(float(x * u), float(y * u), float(self.size * u))
            for y in np.arange(self.step / 2, h, self.step)
            for x in np.arange(self.step / 2, w, self.step)
        ]
        out = []
        for img in gray:
            if u > 1:
                img = cv2.resize(img, (w * u, h * u), interpolation=cv2.INTER_LINEAR)
            kps = det.detect(img, None) if det is not None else grid
            kps, desc = ext.compute(img, kps) if len(kps) else ((), None)
            if desc is None or len(kps) == 0:
                out.append((np.zeros((0, 2), np.float32), None))
                continue
            if spec["binary"]:
                desc = np.unpackbits(desc, axis=1)
            xy = np.array([k.pt for k in kps], dtype=np.float32) / u
            out.append((xy, desc.astype(np.float32)))
        return out

    def _fit_images(self, X, y):
        rng = check_random_state(self.random_state)
        gray = to_gray(X)
        order = rng.permutation(len(gray))
        descs, total, i = [], 0, 0
        while i < len(order) and total < self.max_descriptors:
            batch = order[i : i + 256]
            for _, d in self._describe(gray[batch]):
                if d is not None:
                    descs.append(d)
                    total += len(d)
            i += 256
        if not descs:
            raise ValueError(
                f"{type(self).__name__} found no {self.descriptor} descriptors on the "
                f"{len(X)} training images of {X.shape[1]}x{X.shape[2]}; use keypoints='dense', "
                "a larger upscale or larger images"
            )
        D = np.concatenate(descs)
        if len(D) > self.max_descriptors:
            D = D[rng.choice(len(D), int(self.max_descriptors), replace=False)]
        k = min(int(self.n_clusters), len(D))
        self.vocabulary_ = (
            MiniBatchKMeans(
                n_clusters=k, batch_size=4096, n_init=3, random_state=rng.randint(2**31)
            )
            .fit(D)
            .cluster_centers_.astype(np.float32)
        )

    def _n_features(self):
        return len(self.vocabulary_) * sum(p * p for p in self.pyramid)

    def _feature_names(self):
        return [
            f"bow_{self.descriptor}_l{p}_cell{i}_{j}_w{k}"
            for p in self.pyramid
            for i in range(p)
            for j in range(p)
            for k in range(len(self.vocabulary_))
        ]

    def _transform_chunk(self, X):
        h, w = X.shape[1:3]
        K = len(self.vocabulary_)
        V = self.vocabulary_
        vv = (V * V).sum(1)
        out = np.zeros((len(X), self.n_features_out_), dtype=np.float32)
        for i, (xy, d) in enumerate(self._describe(to_gray(X))):
            if d is None:
                continue
            words = np.argmin(vv[None] - 2 * d @ V.T, axis=1)
            col = 0
            for p in self.pyramid:
                cy = np.minimum((xy[:, 1] * p / h).astype(int), p - 1)
                cx = np.minimum((xy[:, 0] * p / w).astype(int), p - 1)
                idx = (cy * p + cx) * K + words
                out[i, col : col + p * p * K] = np.bincount(idx, minlength=p * p * K) / len(d)
                col += p * p * K
        return out


@register_feature("sift_bow", tags=("keypoints", "learned"))
def sift_bow(**params) -> BagOfVisualWords:
    """Bag of dense SIFT words with a spatial pyramid (Csurka et al. 2004; Lowe 2004)."""
    return BagOfVisualWords(**{"descriptor": "sift", **params})


@register_feature(
    "orb_bow", tags=("keypoints", "learned"), default_params={"upscale": 3, "step": 3, "size": 5.0}
)
def orb_bow(**params) -> BagOfVisualWords:
    """Bag of ORB words with a spatial pyramid (Rublee et al. 2011) on 3x upsampled images."""
    return BagOfVisualWords(**{"descriptor": "orb", **params})


@register_feature(
    "brief_bow", tags=("keypoints", "learned"), default_params={"upscale": 4, "step": 3}
)
def brief_bow(**params) -> BagOfVisualWords:
    """Bag of BRIEF words with a spatial pyramid (Calonder et al. 2010) on 4x upsampled images."""
    return BagOfVisualWords(**{"descriptor": "brief", **params})
