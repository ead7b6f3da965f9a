"""Datasets: one :func:`load_dataset` for built-in, bundled and user-supplied data.

Specs
-----
``mnist``, ``fashion_mnist``, ``cifar10``
    Official files from ``--data-dir``/``$CVBENCH_DATA_DIR``, the Keras cache
    or a verified download (see :mod:`benchmarks.datasets._sources`).
``digits``
    scikit-learn's 8x8 digits, no files needed.
``mnist_sample``, ``cifar10_sample``
    Small samples bundled in ``benchmarks/data/``.
``npz:PATH``, ``folder:PATH``
    Your own data (see :func:`load_npz` and :func:`load_folder`).

Every :class:`Dataset` holds read-only uint8 images ``(n, H, W, C)`` and int64
labels, says where it came from (:attr:`Dataset.source`) and carries a content
fingerprint.
"""

from __future__ import annotations

import os

import numpy as np

from benchmarks.datasets import _builtin  # noqa: F401  (registers the built-in datasets)
from benchmarks.datasets._base import (
    DATASETS,
    DataError,
    DataNotFoundError,
    Dataset,
    fingerprint_arrays,
    register_dataset,
)
from benchmarks.datasets._builtin import make_dataset
from benchmarks.datasets._formats import make_arrays
from benchmarks.datasets._generic import load_folder, load_npz

__all__ = [
    "DATASETS",
    "GENERIC_PREFIXES",
    "DataError",
    "DataNotFoundError",
    "Dataset",
    "fingerprint_arrays",
    "list_datasets",
    "load_dataset",
    "load_folder",
    "load_npz",
    "register_dataset",
    "stratified_subset",
]

#: Spec prefixes for user data, in addition to the registered names.
GENERIC_PREFIXES = ("npz:", "folder:")


def list_datasets(pattern: str = "*") -> list[str]:
    """Sorted registered dataset names matching a shell-style ``pattern``.

    The generic specs ``npz:PATH`` and ``folder:PATH`` are not listed.
    """
    return DATASETS.list(pattern)


def stratified_subset(
    x: np.ndarray, y: np.ndarray, n: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """``n`` samples of ``(x, y)`` with class proportions kept, chosen by ``seed``.

    Parameters
    ----------
    x : ndarray of shape (N, ...)
    y : ndarray of shape (N,)
        Class labels.
    n : int
        Number of samples wanted, ``1 <= n <= N``; ``n == N`` returns the inputs.
    seed : int
        Random seed; the same inputs and seed always give the same subset.

    Returns
    -------
    x_sub, y_sub : ndarray
        Read-only, in their original relative order.

    Raises
    ------
    ValueError
        If ``n`` is out of range or too small to hold every class.

    Notes
    -----
    Every class gets one sample, and the other ``n - n_classes`` are shared
    out in proportion to the class sizes (largest remainder), so the class
    proportions match the input's to within one sample; the members of each
    class are drawn with ``numpy.random.default_rng(seed)``.
    """
    y = np.asarray(y)
    total = len(y)
    if len(x) != total:
        raise ValueError(f"x has {len(x)} samples but y has {total} labels")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= total:
        raise ValueError(f"subset size must be an integer in 1..{total}, got {n!r}")
    if n == total:
        return x, y
    classes, inverse, counts = np.unique(y, return_inverse=True, return_counts=True)
    k = len(classes)
    if n < k:
        raise ValueError(
            f"a stratified subset of {n} cannot hold all {k} classes; ask for at least {k} samples"
        )
    # one per class, the rest by largest remainder in proportion to what is left
    share = (n - k) * (counts.astype(np.int64) - 1)
    quota, remainder = np.divmod(share, total - k)
    order = np.argsort(-remainder, kind="stable")
    quota[order[: n - k - int(quota.sum())]] += 1
    quota += 1
    rng = np.random.default_rng(seed)
    idx = np.concatenate(
        [rng.choice(np.flatnonzero(inverse == c), q, replace=False) for c, q in enumerate(quota)]
    )
    idx = np.sort(idx)
    xs, ys = x[idx], y[idx]
    xs.flags.writeable = False
    ys.flags.writeable = False
    return xs, ys


def _subset(ds: Dataset, n_train: int | None, n_test: int | None, seed: int) -> Dataset:
    parts = {}
    for split, n in (("train", n_train), ("test", n_test)):
        x, y = getattr(ds, f"x_{split}"), getattr(ds, f"y_{split}")
        if n is not None and n > len(y):
            raise ValueError(
                f"n_{split}={n} but {ds.title} has only {len(y)} {split} images; "
                f"pass --n-{split} {len(y)} or less, or omit it for all"
            )
        parts[split] = (x, y) if n is None else stratified_subset(x, y, n, seed)
    if all(parts[s][0] is getattr(ds, f"x_{s}") for s in parts):
        return ds
    arrays = make_arrays(*parts["train"], *parts["test"], ds.class_names, where=ds.name)
    kind = "bundled sample" if ds.kind == "bundled sample" else "subset"
    sizes = f"stratified subset {len(arrays.y_train)}/{len(arrays.y_test)}, seed {seed}"
    return make_dataset(ds.name, ds.title, arrays, f"{ds.source} ({sizes})", kind=kind)


def load_dataset(
    spec: str,
    *,
    data_dir: str | os.PathLike | None = None,
    n_train: int | None = None,
    n_test: int | None = None,
    seed: int = 0,
    download: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> Dataset:
    """Load a dataset by registered name or generic spec.

    Parameters
    ----------
    spec : str
        A name from :func:`list_datasets` (``"mnist"``; ``-`` is read as ``_``),
        ``"npz:PATH"`` or ``"folder:PATH"``.
    data_dir : path-like, optional
        Directory searched first for official files (``--data-dir``); default
        ``$CVBENCH_DATA_DIR``.
    n_train, n_test : int, optional
        Take a stratified, seeded subset of this many train/test images; the
        result then has ``kind="subset"`` and the subset's fingerprint.
    seed : int, default 0
        Seed of the subsets.
    download : bool, default True
        Allow downloading official files when no local copy is found.
    cache_dir : path-like, optional
        Root of the decoded-array cache (default ``$CVBENCH_CACHE_DIR`` or
        ``~/.cache/cvbench``); downloads also go here when it is given.

    Returns
    -------
    Dataset

    Raises
    ------
    KeyError
        Unknown dataset name (with suggestions).
    DataNotFoundError
        No source has the data; the message lists each place looked.
    DataError
        A file was found but is unusable.
    ValueError
        ``n_train``/``n_test`` larger than available or too small.

    Examples
    --------
    >>> ds = load_dataset("digits", n_train=100, n_test=50)
    >>> ds.kind, ds.x_train.shape
    ('subset', (100, 8, 8, 1))
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ValueError(f"dataset spec must be a non-empty string, got {spec!r}")
    spec = spec.strip()
    if spec.startswith("npz:"):
        ds = load_npz(spec[4:], cache_dir=cache_dir)
    elif spec.startswith("folder:"):
        ds = load_folder(spec[7:], cache_dir=cache_dir)
    else:
        name = spec.lower().replace("-", "_")
        if name not in DATASETS and ":" in spec:
            raise KeyError(
                f"unknown dataset spec {spec!r}: generic specs start with "
                f"{' or '.join(GENERIC_PREFIXES)}, e.g. npz:/data/my.npz"
            )
        ds = DATASETS.build(name, data_dir=data_dir, download=download, cache_dir=cache_dir)
    return _subset(ds, n_train, n_test, seed)
