"""User-supplied datasets: ``npz:PATH`` and ``folder:PATH`` specs."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from benchmarks.datasets._base import DataError, DataNotFoundError, Dataset
from benchmarks.datasets._builtin import make_dataset
from benchmarks.datasets._cache import cache_root, cached_arrays, file_sha256, memoised, stat_key
from benchmarks.datasets._formats import Arrays, make_arrays, npz_is_slow, read_keras_npz

__all__ = [
    "FOLDER_CACHE_MIN_IMAGES",
    "FOLDER_TEST_SIZE",
    "IMAGE_SUFFIXES",
    "load_folder",
    "load_npz",
]

#: File name endings read as images in ``folder:`` datasets (others are ignored).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp", ".pgm", ".ppm", ".pbm")
#: Test fraction and seed of the stratified split when a folder has no train/ and test/.
FOLDER_TEST_SIZE = 0.2
FOLDER_SPLIT_SEED = 0
#: Folders with at least this many images are cached decoded on disk.
FOLDER_CACHE_MIN_IMAGES = 2000


def _existing(path: str, spec: str, want_dir: bool) -> Path:
    p = Path(path).expanduser()
    ok = p.is_dir() if want_dir else p.is_file()
    if not path or not ok:
        what = "a directory" if want_dir else "a file"
        raise DataNotFoundError(
            f"{spec!r}: {p.resolve() if path else '(empty path)'} is not {what}; "
            f"give an existing path after the colon"
        )
    return p.resolve()


def _read_npz_file(path: str, cache: str) -> tuple[Arrays, dict[str, str]]:
    p = Path(path)
    if npz_is_slow(p):
        arrays = cached_arrays(
            p.name, file_sha256(p), lambda: read_keras_npz(p)[0], cache_dir=cache
        )
        with np.load(p, allow_pickle=False) as z:  # decodes only the small string members
            strings = {k: str(z[k]) for k in ("title", "source") if k in z.files and z[k].ndim == 0}
        return arrays, strings
    return read_keras_npz(p)


def load_npz(path: str, *, cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Load ``npz:PATH``: a Keras-style ``.npz`` (``x_train``, ``y_train``, ``x_test``, ``y_test``).

    Optional keys: ``class_names`` (unicode array), ``title`` (string). Images
    must be uint8 ``(n, H, W)`` or ``(n, H, W, C)``. Files with LZMA or bzip2
    members are decoded once and cached (see :mod:`._cache`).
    """
    p = _existing(path, f"npz:{path}", want_dir=False)
    arrays, strings = memoised(_read_npz_file, stat_key(p), str(p), str(cache_root(cache_dir)))
    return make_dataset(f"npz:{path}", strings.get("title", p.name), arrays, f"npz {p}")


def _read_image(path: Path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if img is None:
        raise DataError(f"{path}: OpenCV cannot read this image (corrupt or unsupported format)")
    if img.dtype != np.uint8:
        raise DataError(f"{path}: pixel type is {img.dtype}; folder datasets need 8-bit images")
    if img.ndim == 2:
        return img[..., np.newaxis]
    if img.shape[2] == 1:
        return img
    if img.shape[2] == 3:
        return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
    if img.shape[2] == 4:  # alpha is dropped
        return cv2.cvtColor(img, cv2.COLOR_BGRA2RGB)
    raise DataError(f"{path}: {img.shape[2]} channels; need 1 (gray), 3 (colour) or 4 (with alpha)")


def _class_dirs(root: Path) -> list[Path]:
    return sorted(d for d in root.iterdir() if d.is_dir() and not d.name.startswith("."))


def _image_files(d: Path) -> list[Path]:
    return sorted(
        f
        for f in d.iterdir()
        if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in IMAGE_SUFFIXES
    )


def _read_classes(root: Path, classes: list[str], first: list) -> tuple[np.ndarray, np.ndarray]:
    """Read ``root/<class>/*`` for each class; ``first`` holds ``[path, shape]`` of image one."""
    xs, ys = [], []
    for label, name in enumerate(classes):
        d = root / name
        files = _image_files(d) if d.is_dir() else []
        for f in files:
            img = _read_image(f)
            if not first:
                first.extend([f, img.shape])
            elif img.shape != first[1]:
                raise DataError(
                    f"{f} is {img.shape[1]}x{img.shape[0]} with {img.shape[2]} channel(s), but "
                    f"{first[0]} is {first[1][1]}x{first[1][0]} with {first[1][2]}; all images of "
                    f"a folder dataset must share one size and channel count (resize them first)"
                )
            xs.append(img)
            ys.append(label)
    if not xs:
        raise DataError(f"{root}: no images ({', '.join(IMAGE_SUFFIXES)}) in the class folders")
    return np.stack(xs), np.asarray(ys, dtype=np.int64)


def _read_folder(root: str) -> Arrays:
    from sklearn.model_selection import train_test_split

    r = Path(root)
    first: list = []
    train, test = r / "train", r / "test"
    if train.is_dir() and test.is_dir():
        classes = [d.name for d in _class_dirs(train)]
        extra = sorted({d.name for d in _class_dirs(test)} - set(classes))
        if extra:
            raise DataError(
                f"{test} has class folder(s) {', '.join(extra)} that {train} lacks; "
                f"train/ must have a folder for every class"
            )
        if not classes:
            raise DataError(f"{train} has no class sub-folders; need train/<class>/<image>")
        xtr, ytr = _read_classes(train, classes, first)
        xte, yte = _read_classes(test, classes, first)
    else:
        dirs = _class_dirs(r)
        if not dirs:
            raise DataError(
                f"{r} has no class sub-folders; need {r}/<class>/<image> or "
                f"{r}/train/<class>/<image> and {r}/test/<class>/<image>"
            )
        classes = [d.name for d in dirs]
        x, y = _read_classes(r, classes, first)
        try:
            xtr, xte, ytr, yte = train_test_split(
                x, y, test_size=FOLDER_TEST_SIZE, stratify=y, random_state=FOLDER_SPLIT_SEED
            )
        except ValueError as err:
            raise DataError(
                f"{r}: cannot split {len(y)} images of {len(classes)} classes into a stratified "
                f"{1 - FOLDER_TEST_SIZE:.0%}/{FOLDER_TEST_SIZE:.0%} train/test split ({err}); "
                f"add images or give train/ and test/ folders"
            ) from err
    return make_arrays(xtr, ytr, xte, yte, classes, where=str(r))


def _listing_key(root: Path) -> tuple[str, int]:
    files = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    h = hashlib.sha256()
    for p in files:
        st = p.stat()
        h.update(f"{p.relative_to(root)}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest(), len(files)


def _load_folder_arrays(root: str, cache: str) -> Arrays:
    key, n = _listing_key(Path(root))
    if n >= FOLDER_CACHE_MIN_IMAGES:
        return cached_arrays(
            f"folder-{Path(root).name}", key, lambda: _read_folder(root), cache_dir=cache
        )
    return _read_folder(root)


def load_folder(path: str, *, cache_dir: str | os.PathLike | None = None) -> Dataset:
    """Load ``folder:PATH``: one sub-folder of images per class.

    Either ``PATH/train/<class>/`` and ``PATH/test/<class>/``, or
    ``PATH/<class>/`` split into train and test by a stratified split
    (test fraction :data:`FOLDER_TEST_SIZE`, seed :data:`FOLDER_SPLIT_SEED`).
    Class names are the folder names, sorted; labels follow that order. Images
    are read with ``cv2.imread(IMREAD_UNCHANGED)``: gray gives ``C = 1``, colour
    is converted BGR → RGB (alpha dropped); all must share one size.
    """
    p = _existing(path, f"folder:{path}", want_dir=True)
    key = _listing_key(p)
    arrays = memoised(_load_folder_arrays, key, str(p), str(cache_root(cache_dir)))
    return make_dataset(f"folder:{path}", p.name, arrays, f"folder {p}")
