"""Images/s of every extractor on one core and on two, next to a direct library call.

Usage::

    flock /tmp/cvbench-heavy.lock python scripts/bench_features.py \\
        [--n 2000] [--repeats 3] [--only 'hog*'] [--out results/features_bench]

For every registered extractor and both image kinds (MNIST 28x28x1 and
CIFAR-10 32x32x3, real images when the files are found, uniform noise
otherwise), with registry defaults, the script fits on the first ``--fit-n`` images
(learned vocabularies only need enough descriptors; the fit is not what is
measured) and reports the median over ``--repeats`` of ``transform`` throughput with
``n_jobs=1`` and ``n_jobs=2`` (the speed-up), and, where one exists, the
throughput of a direct call of the library function doing the same work
(the ``ratio`` column is ours with one core over the direct call, > 1 means
faster).  All timed code runs with BLAS, OpenMP and OpenCV pinned to one
thread each, so the only parallelism is the extractor's ``n_jobs``; the
batch is split into 4 chunks so that ``n_jobs=2`` has work to share (the
default chunk of 2048 images would leave one chunk for 2,000 images).
``--out DIR`` writes ``features_bench.md`` and ``features_bench.csv`` there.
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import time
from pathlib import Path

import cv2
import numpy as np
from threadpoolctl import threadpool_limits

import features
from features._base import as_pair, to_gray

COLUMNS = [
    "feature",
    "input",
    "dim",
    "fit_s",
    "ips_1core",
    "ips_2core",
    "speedup_2core",
    "direct",
    "ips_direct",
    "ratio_vs_direct",
]


def median_seconds(fn, repeats: int) -> float:
    """Median wall seconds of ``fn()`` over ``repeats`` calls."""
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return float(np.median(times))


# --- direct library calls doing the same work as an extractor ----------------------------


def _gray_each(imgs):
    """Per image, as a direct caller would: OpenCV's BT.601 luma for colour images."""
    for img in imgs:
        yield cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 and img.shape[2] == 3 else img


def _direct_hog(est, X):
    cell = est._cells()[0]
    (_, _), (wh, ww) = est._grid(cell)
    bh, bw = as_pair(est.cells_per_block, "cells_per_block", "HOG")
    sh, sw = est._stride()
    hog = cv2.HOGDescriptor(
        (ww, wh),
        (bw * cell[1], bh * cell[0]),
        (sw * cell[1], sh * cell[0]),
        (cell[1], cell[0]),
        est.orientations,
    )
    imgs = X[..., 0] if X.shape[-1] == 1 else X
    return (
        "cv2.cvtColor + cv2.HOGDescriptor.compute",
        imgs,
        lambda batch: [hog.compute(g) for g in _gray_each(batch)],
    )


def _direct_lbp(est, X):
    from skimage.feature import local_binary_pattern

    gray = to_gray(X)
    gy, gx = as_pair(est.grid, "grid", "LBP")
    scales = [(P, R, len(bins)) for (P, R), bins in zip(est._scales(), est.bins_, strict=True)]

    def run(imgs):
        for g in imgs:
            for P, R, n_bins in scales:
                codes = local_binary_pattern(g, P, R, est.method).astype(np.int64)
                for rows in np.array_split(codes, gy, axis=0):
                    for cell in np.array_split(rows, gx, axis=1):
                        np.bincount(cell.ravel(), minlength=n_bins)

    return "skimage local_binary_pattern + cell bincount", gray, run


def _direct_haar(est, X):
    from skimage.feature import haar_like_feature
    from skimage.transform import integral_image

    gray = to_gray(X)[:50]  # scikit-image is slow: a few images are enough
    coord = np.empty(len(est.feature_coord_), dtype=object)
    coord[:] = [[tuple(map(tuple, r)) for r in f] for f in est.feature_coord_]
    h, w = gray.shape[1:]

    def run(imgs):
        for g in imgs:
            haar_like_feature(integral_image(g), 0, 0, w, h, est.feature_type_, coord)

    return "skimage haar_like_feature (50 images)", gray, run


def _direct_sift(est, X):
    """OpenCV's own bag of words: dense SIFT, nearest word by brute force, L1 histogram."""
    h, w = X.shape[1:3]
    sift = cv2.SIFT_create()
    kps = [
        cv2.KeyPoint(float(x), float(y), float(est.size))
        for y in np.arange(est.step / 2, h, est.step)
        for x in np.arange(est.step / 2, w, est.step)
    ]
    bow = cv2.xfeatures2d.BOWImgDescriptorExtractor(sift, cv2.BFMatcher(cv2.NORM_L2))
    bow.setVocabulary(est.vocabulary_)
    imgs = X[..., 0] if X.shape[-1] == 1 else X
    run = lambda batch: [bow.compute(g, kps) for g in _gray_each(batch)]  # noqa: E731
    return "cv2.xfeatures2d.BOWImgDescriptorExtractor (SIFT)", imgs, run


def _filter2d_all(kernels):
    def run(imgs):
        for g in imgs:
            for k in kernels:
                cv2.filter2D(g, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT_101)

    return run


def _direct_gabor(est, X):
    gray = to_gray(X).astype(np.float32) / 255
    kernels = [k for pair in est.kernels_ for k in pair]
    return "cv2.filter2D per image (even + odd)", gray, _filter2d_all(kernels)


def _direct_conv(est, X):
    """Per image: cv2.filter2D, rectify, then each cell's max and mean (cv2 reductions)."""
    gray = to_gray(X).astype(np.float32) / 255
    kernels = [features._conv_kernels.kernel_matrix(k) for k in est._kernels()]
    gy, gx = as_pair(est.grid, "grid", "ConvKernels")
    h, w = gray.shape[1:]
    rows = np.linspace(0, h, gy + 1).astype(int)
    cols = np.linspace(0, w, gx + 1).astype(int)
    cells = [
        (slice(rows[i], rows[i + 1]), slice(cols[j], cols[j + 1]))
        for i in range(gy)
        for j in range(gx)
    ]

    def run(imgs):
        for g in imgs:
            for k in kernels:
                r = np.abs(cv2.filter2D(g, cv2.CV_32F, k, borderType=cv2.BORDER_REFLECT_101))
                for cell in cells:
                    cv2.minMaxLoc(r[cell])
                    cv2.mean(r[cell])

    return "cv2.filter2D + abs + per-cell max/mean, per image", gray, run


def _direct_daisy(est, X):
    from skimage.feature import daisy

    gray = to_gray(X)
    kw = {k: getattr(est, k) for k in ("step", "radius", "rings", "histograms", "orientations")}

    def run(imgs):
        for g in imgs:
            daisy(g, normalization=est.normalization, **kw)

    return "skimage.feature.daisy", gray, run


#: Rows with a direct library call: label -> (registered name, parameters, call).
#: The default sift_bow (soft assignment, pyramid, Hellinger) has no library
#: equivalent, so its comparison row uses the encoding OpenCV's helper implements.
_SIFT_HARD = {"assignment": "hard", "pyramid": (1,), "normalize": "l1", "rootsift": False}
DIRECT = {
    "hog": _direct_hog,
    "lbp": _direct_lbp,
    "haar": _direct_haar,
    "sift_bow[hard,1x1,l1]": _direct_sift,
    "gabor": _direct_gabor,
    "conv_kernels": _direct_conv,
    "daisy": _direct_daisy,
}


# --- data --------------------------------------------------------------------------------


def load_images(kind: str, n: int, data_dir: Path) -> tuple[np.ndarray, str]:
    """``n`` training images of dataset ``kind`` (a stratified subset) and their source.

    Loaded with :func:`benchmarks.datasets.load_dataset` from ``data_dir`` (or
    the Keras cache; never downloads); uniform noise of that shape when it is absent.
    """
    from benchmarks.datasets import DataNotFoundError, load_dataset

    try:
        data = load_dataset(kind, data_dir=data_dir, n_train=n, n_test=10, seed=0, download=False)
    except DataNotFoundError:
        shape = (28, 28) if kind == "mnist" else (32, 32, 3)
        rng = np.random.default_rng(0)
        noise = rng.integers(0, 256, size=(n, *shape), dtype=np.uint8)
        return features.check_images(noise), "uniform noise"
    return features.check_images(data.x_train), f"{data.title}, {data.source}"


# --- measurement -------------------------------------------------------------------------


def _transform(est, X, n_jobs):
    if "n_jobs" in est.get_params():
        est.set_params(n_jobs=n_jobs)
    return est.transform(X)


def bench_one(name: str, X: np.ndarray, repeats: int, fit_n: int, params=None, label=None) -> dict:
    """One row for extractor ``name`` (with ``params``) on images ``X``, fitted on ``fit_n``.

    ``label`` names the row (default ``name``) and picks its direct call in :data:`DIRECT`.
    """
    n = len(X)
    label_row = label or name
    est = features.build_feature(name, **(params or {}))
    t = time.perf_counter()
    est.fit(X[:fit_n])
    fit_s = time.perf_counter() - t
    est.chunk_size = math.ceil(n / 4)  # ImageFeature reads this; 4 chunks for 2 workers
    with threadpool_limits(limits=1):
        s1 = median_seconds(lambda: _transform(est, X, 1), repeats)
        s2 = median_seconds(lambda: _transform(est, X, 2), repeats)
        label, imgs, direct = "-", None, None
        if label_row in DIRECT:
            label, imgs, run = DIRECT[label_row](est, X)
            direct = len(imgs) / median_seconds(lambda: run(imgs), repeats)
    shape = "x".join(str(s) for s in est.input_shape_)
    return {
        "feature": label_row,
        "input": shape,
        "dim": est.n_features_out_,
        "fit_s": round(fit_s, 2),
        "ips_1core": round(n / s1),
        "ips_2core": round(n / s2),
        "speedup_2core": round(s1 / s2, 2),
        "direct": label,
        "ips_direct": round(direct) if direct else "",
        "ratio_vs_direct": round((n / s1) / direct, 2) if direct else "",
    }


def markdown(rows: list[dict], header: str) -> str:
    lines = [header, "", "| " + " | ".join(COLUMNS) + " |", "|" + "---|" * len(COLUMNS)]
    lines += ["| " + " | ".join(str(r[c]) for c in COLUMNS) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=2000, help="images per kind (default 2000)")
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats, median (default 3)")
    ap.add_argument(
        "--fit-n", type=int, default=500, help="images to fit on (default 500; fit is not timed)"
    )
    ap.add_argument("--only", default="*", help="shell pattern of extractor names")
    ap.add_argument("--kinds", default="mnist,cifar10", help="comma-separated image kinds")
    ap.add_argument(
        "--data-dir",
        type=Path,
        default=Path(os.environ.get("CVBENCH_DATA_DIR", "/work/shared/datasets")),
    )
    ap.add_argument("--out", type=Path, default=None, help="write features_bench.{md,csv} here")
    args = ap.parse_args(argv)
    cv2.setNumThreads(1)
    rows, sources = [], []
    fmt = "{feature:18s} {input:8s} {dim:>6} {fit_s:>6} {ips_1core:>8} {ips_2core:>8} {speedup_2core:>5} {ips_direct:>8} {ratio_vs_direct:>6}"
    print(fmt.format(**{c: c[:8] for c in COLUMNS}))
    for kind in args.kinds.split(","):
        X, src = load_images(kind, args.n, args.data_dir)
        sources.append(f"{kind}: {len(X)} images {X.shape[1:]} from {src}")
        jobs = [(name, None, None) for name in features.list_features(args.only)]
        if "sift_bow" in features.list_features(args.only):
            jobs.append(("sift_bow", _SIFT_HARD, "sift_bow[hard,1x1,l1]"))
        for name, params, label in jobs:
            row = bench_one(name, X, args.repeats, args.fit_n, params, label)
            rows.append(row)
            print(fmt.format(**row), flush=True)
    header = (
        f"# Feature extraction throughput (images/s, median of {args.repeats})\n\n"
        f"{platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, "
        f"OpenCV {cv2.__version__}, NumPy {np.__version__}; BLAS/OpenMP/OpenCV pinned to one "
        f"thread; transform only (fitted on the first {args.fit_n} images, fit_s informative), 4 chunks per batch.\n\n"
        + "\n".join(f"- {s}" for s in sources)
        + "\n\n`ratio_vs_direct`: ours on one core / the direct library call on one core."
    )
    if args.out is not None:
        args.out.mkdir(parents=True, exist_ok=True)
        (args.out / "features_bench.md").write_text(markdown(rows, header))
        with open(args.out / "features_bench.csv", "w", newline="") as f:
            writer = csv.DictWriter(f, fieldnames=COLUMNS)
            writer.writeheader()
            writer.writerows(rows)
        print(f"wrote {args.out / 'features_bench.md'} and features_bench.csv")
    return rows


if __name__ == "__main__":
    main()
