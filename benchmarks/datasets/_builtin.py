"""The built-in datasets: MNIST, Fashion-MNIST, CIFAR-10, digits and the bundled samples.

Each official dataset lists the file layouts it accepts in a searched
directory (first match wins, official formats before the CIFAR-10 JPEG copy)
and the official files it can download. See :mod:`._sources` for the order of
directories.
"""

from __future__ import annotations

import importlib.resources
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchmarks.datasets._base import DataError, DataNotFoundError, Dataset, register_dataset
from benchmarks.datasets._cache import cache_root, cached_arrays, file_sha256, memoised, stat_key
from benchmarks.datasets._formats import (
    CIFAR10_CLASSES,
    FASHION_MNIST_CLASSES,
    IDX_NAMES,
    MNIST_CLASSES,
    Arrays,
    make_arrays,
    npz_is_slow,
    read_cifar_binary,
    read_cifar_python,
    read_idx_set,
    read_keras_npz,
)
from benchmarks.datasets._sources import download_dir, fetch, search_places

__all__ = ["BUILTINS", "Builtin", "bundled_path", "load_builtin", "make_dataset"]


# ---------------------------------------------------------------- loading one found source


def _load_npz(path: str, class_names: tuple[str, ...], cache: str) -> Arrays:
    p = Path(path)
    if npz_is_slow(p):
        return cached_arrays(
            p.name, file_sha256(p), lambda: read_keras_npz(p, class_names)[0], cache_dir=cache
        )
    return read_keras_npz(p, class_names)[0]


def _load_tar(path: str, reader: Callable[[Path], Arrays], cache: str) -> Arrays:
    p = Path(path)
    return cached_arrays(p.name, file_sha256(p), lambda: reader(p), cache_dir=cache)


def _load_idx(files: tuple[tuple[str, str], ...], class_names: tuple[str, ...]) -> Arrays:
    return read_idx_set(dict(files), class_names)


@dataclass(frozen=True)
class Layout:
    """One way a dataset can be stored in a searched directory.

    Parameters
    ----------
    fmt : {"npz", "idx", "cifar-py", "cifar-bin"}
    names : tuple of str
        Accepted relative paths (for ``"idx"``: sub-directories, ``""`` = the
        directory itself, each holding the four IDX files, ``.gz`` or raw).
    title : str
        :attr:`Dataset.title` when loaded from this layout.
    class_names : tuple of str
    """

    fmt: str
    names: tuple[str, ...]
    title: str
    class_names: tuple[str, ...]

    def accepted(self) -> str:
        """The accepted names, for the not-found message."""
        if self.fmt == "idx":
            files = ", ".join(f"{n}[.gz]" for n in IDX_NAMES.values())
            where = " or ".join(f"{s}/" if s else "the folder itself" for s in self.names)
            return f"the four IDX files ({files}) in {where}"
        suffix = "/ (extracted folder)" if self.fmt.startswith("cifar") else ""
        return " or ".join(
            f"{n}{suffix if not n.endswith(('.gz', '_archive')) else ''}" for n in self.names
        )

    def locate(self, root: Path) -> tuple[object | None, str]:
        """``(found, note)``: what to load from ``root`` (or ``None``) and why not."""
        if self.fmt == "idx":
            notes = []
            for sub in self.names:
                d = root / sub
                files = {}
                for role, base in IDX_NAMES.items():
                    for cand in (d / f"{base}.gz", d / base):
                        if cand.is_file():
                            files[role] = str(cand)
                            break
                if len(files) == 4:
                    return tuple(sorted(files.items())), ""
                if files:
                    missing = [f"{IDX_NAMES[r]}[.gz]" for r in IDX_NAMES if r not in files]
                    notes.append(
                        f"{d}/ has only {len(files)} of the 4 IDX files, missing {', '.join(missing)}"
                    )
            return None, "; ".join(notes)
        for n in self.names:
            p = root / n
            if p.is_file() or (self.fmt.startswith("cifar") and p.is_dir()):
                return str(p), ""
        return None, ""

    def load(self, found: object, cache_dir: str | os.PathLike | None) -> Arrays:
        """Read what :meth:`locate` found (memoised in-process, slow formats cached on disk)."""
        cache = str(cache_root(cache_dir))
        if self.fmt == "idx":
            files = found  # tuple of (role, path)
            key = tuple(stat_key(p) for _, p in files)  # type: ignore[union-attr]
            return memoised(_load_idx, key, files, self.class_names)
        path = str(found)
        if self.fmt == "npz":
            return memoised(_load_npz, stat_key(path), path, self.class_names, cache)
        reader = read_cifar_python if self.fmt == "cifar-py" else read_cifar_binary
        if Path(path).is_dir():
            return memoised(reader, stat_key(path), Path(path))
        return memoised(_load_tar, stat_key(path), path, reader, cache)

    def where(self, found: object) -> str:
        """The path shown in :attr:`Dataset.source`."""
        if self.fmt == "idx":
            paths = [p for _, p in found]  # type: ignore[union-attr]
            return f"{Path(paths[0]).parent}/ ({', '.join(sorted(Path(p).name for p in paths))})"
        return str(found)


@dataclass(frozen=True)
class Download:
    """Official files of a dataset: ``files`` are ``(url, file name, sha256)``."""

    files: tuple[tuple[str, str, str | None], ...]
    subdir: str
    layout: Layout

    def describe(self) -> str:
        urls = [u for u, _, _ in self.files]
        if len(urls) == 1:
            return urls[0]
        base = urls[0].rsplit("/", 1)[0] + "/"
        if not all(u.startswith(base) for u in urls):
            return ", ".join(urls)
        return f"{base}{{{','.join(u[len(base) :] for u in urls)}}}"


@dataclass(frozen=True)
class Builtin:
    """A built-in dataset: accepted layouts, in order, and its official download."""

    name: str
    title: str
    layouts: tuple[Layout, ...]
    download: Download | None


_KERAS_BASE = "https://storage.googleapis.com/tensorflow/tf-keras-datasets/"

_MNIST_NPZ = Layout("npz", ("mnist.npz",), "MNIST", MNIST_CLASSES)
_FASHION_IDX = Layout(
    "idx", ("fashion-mnist", "fashion_mnist"), "Fashion-MNIST", FASHION_MNIST_CLASSES
)
_CIFAR_PY_TAR = Layout(
    "cifar-py",
    ("cifar-10-python.tar.gz", "cifar-10-batches-py.tar.gz", "cifar-10-batches-py-target_archive"),
    "CIFAR-10",
    CIFAR10_CLASSES,
)

MNIST = Builtin(
    "mnist",
    "MNIST",
    (_MNIST_NPZ, Layout("idx", ("", "mnist"), "MNIST", MNIST_CLASSES)),
    # SHA-256 of the Keras mnist.npz, as pinned by keras.datasets.mnist.
    Download(
        (
            (
                _KERAS_BASE + "mnist.npz",
                "mnist.npz",
                "731c5ac602752760c8e48fbffcf8c3b850d9dc2a2aedcf2cc48468fc17b673d1",
            ),
        ),
        "",
        _MNIST_NPZ,
    ),
)

FASHION_MNIST = Builtin(
    "fashion_mnist",
    "Fashion-MNIST",
    (
        Layout(
            "npz",
            ("fashion-mnist.npz", "fashion_mnist.npz"),
            "Fashion-MNIST",
            FASHION_MNIST_CLASSES,
        ),
        _FASHION_IDX,
    ),
    # keras.datasets.fashion_mnist pins no checksum. These SHA-256 values are the
    # ones published for the upstream zalandoresearch/fashion-mnist gzip files
    # (whose MD5s 8d4fb7e6..., 25c81989..., bef4ecab..., bb300cfd... are in the
    # upstream README); the Keras mirror serves the same bytes. A mismatch
    # therefore raises rather than loading unknown data.
    Download(
        tuple(
            (_KERAS_BASE + f"{IDX_NAMES[role]}.gz", f"{IDX_NAMES[role]}.gz", sha)
            for role, sha in (
                ("y_train", "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845"),
                ("x_train", "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84"),
                ("y_test", "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5"),
                ("x_test", "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073"),
            )
        ),
        "fashion-mnist",
        _FASHION_IDX,
    ),
)

CIFAR10 = Builtin(
    "cifar10",
    "CIFAR-10",
    (
        _CIFAR_PY_TAR,
        Layout(
            "cifar-py",
            ("cifar-10-batches-py", "cifar-10-batches-py-target/cifar-10-batches-py"),
            "CIFAR-10",
            CIFAR10_CLASSES,
        ),
        Layout(
            "cifar-bin",
            ("cifar-10-binary.tar.gz", "cifar-10-batches-bin"),
            "CIFAR-10",
            CIFAR10_CLASSES,
        ),
        Layout("npz", ("cifar10-jpeg.npz",), "CIFAR-10 (JPEG copy)", CIFAR10_CLASSES),
    ),
    # SHA-256 of cifar-10-python.tar.gz, as pinned by keras.datasets.cifar10.
    Download(
        (
            (
                "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz",
                "cifar-10-python.tar.gz",
                "6d958be074577803d12ecdefd02955f39262c83c16fe9348329d7fe0b5c001ce",
            ),
        ),
        "",
        _CIFAR_PY_TAR,
    ),
)

#: The file-backed built-in datasets by name.
BUILTINS = {b.name: b for b in (MNIST, FASHION_MNIST, CIFAR10)}


def make_dataset(name: str, title: str, arrays: Arrays, source: str, kind: str = "full") -> Dataset:
    """Wrap validated :class:`Arrays` into a :class:`Dataset`."""
    return Dataset(
        name=name,
        title=title,
        x_train=arrays.x_train,
        y_train=arrays.y_train,
        x_test=arrays.x_test,
        y_test=arrays.y_test,
        class_names=arrays.class_names,
        source=source,
        kind=kind,  # type: ignore[arg-type]
        fingerprint=arrays.fingerprint,
    )


def load_builtin(
    builtin: Builtin,
    *,
    data_dir: str | os.PathLike | None = None,
    download: bool = True,
    cache_dir: str | os.PathLike | None = None,
) -> Dataset:
    """Find ``builtin`` in the searched places, else download it.

    Raises
    ------
    DataError
        A file was found (or downloaded) but is unusable.
    DataNotFoundError
        Nothing was found and no download succeeded; the message lists every
        place looked and how to supply the data.
    """
    looked = []
    for place in search_places(data_dir, cache_dir):
        if place.path is None:
            looked.append(f"  - {place.label}: {place.how}")
            continue
        if not place.path.is_dir():
            looked.append(f"  - {place.label} {place.path} ({place.how}): no such directory")
            continue
        notes = []
        for layout in builtin.layouts:
            found, note = layout.locate(place.path)
            if found is not None:
                arrays = layout.load(found, cache_dir)
                source = f"{place.label} {layout.where(found)}"
                return make_dataset(builtin.name, layout.title, arrays, source)
            if note:
                notes.append(note)
        extra = f" [{'; '.join(notes)}]" if notes else ""
        looked.append(f"  - {place.label} {place.path} ({place.how}): no accepted file{extra}")

    dl = builtin.download
    if dl is not None and download:
        target = download_dir(cache_dir) / dl.subdir
        try:
            for url, fname, sha in dl.files:
                dest = target / fname
                if not (dest.is_file() and sha is not None and file_sha256(dest) == sha):
                    fetch(url, dest, sha)
        except OSError as err:
            looked.append(f"  - download {dl.describe()} -> {target}: failed ({err})")
        else:
            found, _ = dl.layout.locate(target)
            if found is None:  # pragma: no cover - fetch wrote the files just now
                raise DataError(f"downloaded {dl.describe()} to {target} but cannot find it there")
            arrays = dl.layout.load(found, cache_dir)
            return make_dataset(builtin.name, dl.layout.title, arrays, f"download {dl.describe()}")
    elif dl is not None:
        looked.append(f"  - download {dl.describe()}: not tried (download=False)")

    raise DataNotFoundError(
        f"{builtin.title} ({builtin.name!r}) not found. Looked in:\n"
        + "\n".join(looked)
        + "\nAccepted in each folder: "
        + "; or ".join(layout.accepted() for layout in builtin.layouts)
        + ".\nTo supply it: pass --data-dir DIR (or data_dir=DIR), or set CVBENCH_DATA_DIR=DIR, "
        f"for a folder holding one of the files above; or copy them into "
        f"{search_places()[1].path}; or allow the download (network access)."
    )


# ---------------------------------------------------------------- registered factories


@register_dataset("mnist", tags=("gray", "official"))
def mnist(data_dir=None, download=True, cache_dir=None) -> Dataset:
    """MNIST handwritten digits, 60,000 + 10,000 gray 28x28 (official files)."""
    return load_builtin(MNIST, data_dir=data_dir, download=download, cache_dir=cache_dir)


@register_dataset("fashion_mnist", tags=("gray", "official"))
def fashion_mnist(data_dir=None, download=True, cache_dir=None) -> Dataset:
    """Fashion-MNIST (Zalando), 60,000 + 10,000 gray 28x28 (official files)."""
    return load_builtin(FASHION_MNIST, data_dir=data_dir, download=download, cache_dir=cache_dir)


@register_dataset("cifar10", tags=("color", "official"))
def cifar10(data_dir=None, download=True, cache_dir=None) -> Dataset:
    """CIFAR-10, 50,000 + 10,000 RGB 32x32 (official files, else the JPEG copy)."""
    return load_builtin(CIFAR10, data_dir=data_dir, download=download, cache_dir=cache_dir)


#: Train/test split of ``digits``: stratified, test fraction and seed fixed so the
#: dataset (and its fingerprint) is always the same.
DIGITS_TEST_SIZE = 0.2
DIGITS_SPLIT_SEED = 0


def _digits_arrays() -> Arrays:
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    d = load_digits()
    x = np.round(d.images * (255.0 / 16.0)).astype(np.uint8)[..., np.newaxis]
    y = d.target.astype(np.int64)
    xtr, xte, ytr, yte = train_test_split(
        x, y, test_size=DIGITS_TEST_SIZE, stratify=y, random_state=DIGITS_SPLIT_SEED
    )
    return make_arrays(xtr, ytr, xte, yte, [str(c) for c in d.target_names], where="load_digits")


@register_dataset("digits", tags=("gray", "bundled"))
def digits(data_dir=None, download=True, cache_dir=None) -> Dataset:
    """scikit-learn 8x8 digits (1,797 images, values 0-16 scaled to 0-255), 80/20 split."""
    arrays = memoised(_digits_arrays, "digits")
    return make_dataset(
        "digits",
        "digits (scikit-learn 8x8)",
        arrays,
        f"scikit-learn load_digits (stratified {1 - DIGITS_TEST_SIZE:.0%}/{DIGITS_TEST_SIZE:.0%} "
        f"split, seed {DIGITS_SPLIT_SEED})",
    )


def bundled_path(filename: str) -> Path:
    """Path of a bundled sample file in ``benchmarks/data/`` (may not exist)."""
    return Path(str(importlib.resources.files("benchmarks").joinpath("data", filename)))


def _bundled(name: str, filename: str, title: str, class_names: tuple[str, ...]) -> Dataset:
    path = bundled_path(filename)
    if not path.is_file():
        raise DataNotFoundError(
            f"bundled sample {filename} is missing from {path.parent}; regenerate it with "
            f"`python scripts/make_quick_data.py --data-dir DIR` (DIR holding mnist.npz and "
            f"cifar10-jpeg.npz) or reinstall cvbench"
        )
    arrays, strings = memoised(read_keras_npz, stat_key(path), path, class_names)
    title = strings.get("title", title)
    source = strings.get("source", f"bundled sample of {title}")
    return make_dataset(name, title, arrays, f"{source} [{path}]", kind="bundled sample")


@register_dataset("mnist_sample", tags=("gray", "bundled"))
def mnist_sample(data_dir=None, download=True, cache_dir=None) -> Dataset:
    """Bundled MNIST sample (2,000 train / 1,000 test), no download needed."""
    return _bundled("mnist_sample", "mnist_sample.npz", "MNIST", MNIST_CLASSES)


@register_dataset("cifar10_sample", tags=("color", "bundled"))
def cifar10_sample(data_dir=None, download=True, cache_dir=None) -> Dataset:
    """Bundled CIFAR-10 sample (2,000 / 1,000, from the JPEG copy), no download needed."""
    return _bundled("cifar10_sample", "cifar10_sample.npz", "CIFAR-10 (JPEG copy)", CIFAR10_CLASSES)
