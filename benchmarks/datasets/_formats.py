"""Readers for the on-disk formats of the built-in datasets.

Every reader returns an :class:`Arrays` (validated, read-only arrays plus class
names and fingerprint) or raises :class:`~benchmarks.datasets.DataError` naming
the file and what is wrong with it. Nothing here goes through ``keras.datasets``
and nothing calls plain :func:`pickle.load`:

* Keras ``.npz`` files are read with ``np.load(allow_pickle=False)``.
* IDX files (MNIST, Fashion-MNIST; gzip or raw) are parsed with NumPy.
* CIFAR-10 "python version" batches are pickles; they are read with
  :class:`NumpyOnlyUnpickler`, which refuses every global that a NumPy array
  does not need.
* Tarballs are read member by member, without extracting; archives with
  absolute or ``..`` member names or links are refused. :func:`safe_extract`
  is there for callers that need files on disk.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import tarfile
import zipfile
import zlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np

from benchmarks.datasets._base import DataError, fingerprint_arrays

__all__ = [
    "CIFAR10_CLASSES",
    "FASHION_MNIST_CLASSES",
    "IDX_NAMES",
    "MNIST_CLASSES",
    "Arrays",
    "NumpyOnlyUnpickler",
    "RefusedGlobalError",
    "make_arrays",
    "npz_is_slow",
    "read_cifar_binary",
    "read_cifar_python",
    "read_idx",
    "read_idx_set",
    "read_keras_npz",
    "safe_extract",
]

MNIST_CLASSES = tuple(str(i) for i in range(10))
FASHION_MNIST_CLASSES = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
CIFAR10_CLASSES = (
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
)

#: Role → official IDX file name (without ``.gz``), the same for MNIST and Fashion-MNIST.
IDX_NAMES = {
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}

_ROLES = ("x_train", "y_train", "x_test", "y_test")


@dataclass(frozen=True, eq=False)
class Arrays:
    """Validated, read-only arrays of one dataset (what a reader returns).

    Parameters
    ----------
    x_train, x_test : ndarray of shape (n, H, W, C), dtype uint8
    y_train, y_test : ndarray of shape (n,), dtype int64
    class_names : tuple of str
    fingerprint : str
        :func:`~benchmarks.datasets.fingerprint_arrays` of the four arrays.
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    class_names: tuple[str, ...]
    fingerprint: str

    def as_dict(self) -> dict[str, np.ndarray]:
        """The four arrays by key (``x_train`` ... ``y_test``)."""
        return {k: getattr(self, k) for k in _ROLES}


def _images(x: np.ndarray, key: str, where: str) -> np.ndarray:
    x = np.asarray(x)
    if x.dtype != np.uint8:
        raise DataError(
            f"{where}: {key} has dtype {x.dtype}; images must be uint8 (0-255). "
            f"Convert them with np.clip(x, 0, 255).astype(np.uint8) before saving."
        )
    if x.ndim == 3:
        x = x[..., np.newaxis]
    if x.ndim != 4 or x.shape[-1] not in (1, 3) or 0 in x.shape[1:]:
        raise DataError(
            f"{where}: {key} has shape {x.shape}; need (n, H, W) for gray-scale or "
            f"(n, H, W, C) with C = 1 or 3 (channels last)"
        )
    return x


def _labels(y: np.ndarray, key: str, where: str) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.dtype == bool):
        raise DataError(
            f"{where}: {key} has shape {y.shape} and dtype {y.dtype}; need integer "
            f"class indices of shape (n,)"
        )
    return y.astype(np.int64, copy=False)


def _readonly(a: np.ndarray) -> np.ndarray:
    if a.flags.writeable:
        a.flags.writeable = False
    return a


def make_arrays(
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    class_names: Iterable[str] | None,
    *,
    where: str,
    fingerprint: str | None = None,
) -> Arrays:
    """Validate, normalise and freeze the arrays of one dataset.

    Parameters
    ----------
    x_train, y_train, x_test, y_test : array-like
        Images ``(n, H, W)`` or ``(n, H, W, C)`` uint8 and integer labels
        ``(n,)`` or ``(n, 1)``.
    class_names : iterable of str or None
        ``None`` names the classes ``"0"``, ``"1"``, ... up to the largest label.
    where : str
        The file or spec the data came from, for error messages.
    fingerprint : str, optional
        Known fingerprint (from the decoded-array cache); computed when omitted.

    Returns
    -------
    Arrays

    Raises
    ------
    DataError
        On a wrong dtype, shape, length mismatch or out-of-range label.
    """
    xtr, xte = _images(x_train, "x_train", where), _images(x_test, "x_test", where)
    ytr, yte = _labels(y_train, "y_train", where), _labels(y_test, "y_test", where)
    for x, y, split in ((xtr, ytr, "train"), (xte, yte, "test")):
        if len(x) != len(y):
            raise DataError(
                f"{where}: x_{split} has {len(x)} images but y_{split} has {len(y)} labels"
            )
        if len(x) == 0:
            raise DataError(f"{where}: the {split} split is empty")
    if xtr.shape[1:] != xte.shape[1:]:
        raise DataError(
            f"{where}: train images are {xtr.shape[1:]} but test images are {xte.shape[1:]}"
        )
    top = int(max(ytr.max(), yte.max()))
    if class_names is None:
        names = tuple(str(i) for i in range(top + 1))
    else:
        names = tuple(str(c) for c in class_names)
    low = int(min(ytr.min(), yte.min()))
    if low < 0 or top >= len(names):
        raise DataError(
            f"{where}: labels range over {low}..{top} but there are {len(names)} class "
            f"names; labels must be in 0..{len(names) - 1}"
        )
    arrays = [_readonly(a) for a in (xtr, ytr, xte, yte)]
    return Arrays(
        *arrays, class_names=names, fingerprint=fingerprint or fingerprint_arrays(*arrays)
    )


def _corrupt(path: os.PathLike | str, err: BaseException, fix: str = "") -> DataError:
    fix = fix or "Copy or download the file again."
    return DataError(f"{path} is truncated or corrupt ({type(err).__name__}: {err}). {fix}")


# ---------------------------------------------------------------- Keras .npz


def npz_is_slow(path: os.PathLike | str) -> bool:
    """Whether ``path`` holds members compressed with LZMA or bzip2 (slow to decode)."""
    try:
        with zipfile.ZipFile(path) as zf:
            return any(
                i.compress_type in (zipfile.ZIP_LZMA, zipfile.ZIP_BZIP2) for i in zf.infolist()
            )
    except (OSError, zipfile.BadZipFile):
        return False


def read_keras_npz(
    path: os.PathLike | str, class_names: Iterable[str] | None = None
) -> tuple[Arrays, dict[str, str]]:
    """Read a Keras-style ``.npz`` (keys ``x_train``, ``y_train``, ``x_test``, ``y_test``).

    Parameters
    ----------
    path : path-like
    class_names : iterable of str, optional
        Used when the file has no ``class_names`` key.

    Returns
    -------
    arrays : Arrays
    strings : dict
        Scalar string members of the file (``title``, ``source``), if any.

    Raises
    ------
    DataError
        If the file is truncated, not an npz, needs pickle, or lacks a key.
    """
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in _ROLES if k not in z.files]
            if missing:
                raise DataError(
                    f"{path} lacks the key(s) {', '.join(missing)} (it has: "
                    f"{', '.join(z.files) or 'none'}); a dataset .npz needs x_train, y_train, "
                    f"x_test, y_test and optionally class_names"
                )
            data = {k: z[k] for k in _ROLES}
            if "class_names" in z.files:
                class_names = [str(c) for c in z["class_names"].tolist()]
            strings = {k: str(z[k]) for k in ("title", "source") if k in z.files and z[k].ndim == 0}
    except DataError:
        raise
    except ValueError as err:
        if "allow_pickle" in str(err):
            raise DataError(
                f"{path} stores Python objects (pickles), which cvbench refuses to load; "
                f"save plain arrays with np.savez_compressed (strings as a unicode array)"
            ) from err
        raise _corrupt(path, err) from err
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, KeyError) as err:
        raise _corrupt(path, err) from err
    return make_arrays(**data, class_names=class_names, where=str(path)), strings


# ---------------------------------------------------------------- IDX

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: os.PathLike | str) -> np.ndarray:
    """Parse one IDX file (gzip-compressed when the name ends in ``.gz``).

    The header is ``0x00 0x00 <type> <ndim>`` followed by ``ndim`` big-endian
    uint32 sizes; the payload must hold exactly ``prod(sizes)`` items.

    Raises
    ------
    DataError
        On a bad magic number, unknown type, or a payload of the wrong size.
    """
    path = Path(path)
    try:
        if path.name.endswith(".gz"):
            with gzip.open(path, "rb") as f:
                raw = f.read()
        else:
            raw = path.read_bytes()
    except (OSError, EOFError, zlib.error) as err:
        raise _corrupt(path, err) from err
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] not in _IDX_DTYPES:
        raise DataError(
            f"{path} is not an IDX file: magic bytes {raw[:4].hex() or 'missing'}, expected "
            f"00 00 <type> <ndim> (e.g. 00000803 for images, 00000801 for labels)"
        )
    dtype, ndim = _IDX_DTYPES[raw[2]], raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(
            f"{path} is truncated: {len(raw)} bytes, the IDX header alone needs {header}"
        )
    dims = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=ndim, offset=4))
    need = header + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
    if len(raw) != need:
        state = "truncated" if len(raw) < need else "too long"
        raise DataError(
            f"{path} is {state}: its header says shape {dims} ({need:,} bytes) but it has "
            f"{len(raw):,} bytes. Copy or download the file again."
        )
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def read_idx_set(files: Mapping[str, os.PathLike | str], class_names: tuple[str, ...]) -> Arrays:
    """Read the four IDX files of MNIST or Fashion-MNIST (``files``: role → path)."""
    data = {role: read_idx(files[role]) for role in _ROLES}
    for role in ("x_train", "x_test"):
        if data[role].ndim != 3:
            raise DataError(
                f"{files[role]} holds an array of shape {data[role].shape}; expected images "
                f"(n, rows, cols) — is it a labels file under an images name?"
            )
    for role in ("y_train", "y_test"):
        if data[role].ndim != 1:
            raise DataError(f"{files[role]} holds shape {data[role].shape}; expected labels (n,)")
    where = str(Path(files["x_train"]).parent)
    return make_arrays(**data, class_names=class_names, where=where)


# ---------------------------------------------------------------- safe pickles and tarballs


def _numpy_globals() -> dict[tuple[str, str], object]:
    try:  # NumPy >= 2
        from numpy._core.multiarray import _reconstruct
        from numpy._core.numeric import _frombuffer
    except ImportError:  # pragma: no cover - NumPy 1.x
        from numpy.core.multiarray import _reconstruct
        from numpy.core.numeric import _frombuffer
    allowed: dict[tuple[str, str], object] = {
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): __import__("_codecs").encode,  # bytes in protocol-2 pickles
    }
    for mod in ("numpy.core", "numpy._core"):
        allowed[(f"{mod}.multiarray", "_reconstruct")] = _reconstruct
        allowed[(f"{mod}.numeric", "_frombuffer")] = _frombuffer
    return allowed


class RefusedGlobalError(pickle.UnpicklingError):
    """A pickle asked for a global that :class:`NumpyOnlyUnpickler` does not allow."""


class NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickler that can rebuild NumPy arrays, lists, dicts and strings, nothing else.

    :meth:`find_class` resolves only ``numpy.ndarray``, ``numpy.dtype``,
    NumPy's array reconstructors and ``_codecs.encode``; any other global (for
    example ``os.system`` or ``builtins.eval``) raises
    :class:`RefusedGlobalError` (a :class:`pickle.UnpicklingError`), so a crafted file cannot run code.
    """

    _allowed: dict[tuple[str, str], object] | None = None

    def find_class(self, module: str, name: str) -> object:
        if NumpyOnlyUnpickler._allowed is None:
            NumpyOnlyUnpickler._allowed = _numpy_globals()
        try:
            return NumpyOnlyUnpickler._allowed[(module, name)]
        except KeyError:
            raise RefusedGlobalError(
                f"refusing to load global {module}.{name}: only NumPy arrays are allowed"
            ) from None


def _unpickle(data: bytes, where: str) -> dict[str, object]:
    try:
        obj = NumpyOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except RefusedGlobalError as err:
        raise DataError(f"{where}: refused to unpickle ({err}); this is not a CIFAR batch") from err
    except (
        pickle.UnpicklingError,
        EOFError,
        ValueError,
        TypeError,
        IndexError,
        AttributeError,
    ) as err:
        raise _corrupt(where, err) from err
    if not isinstance(obj, dict):
        raise DataError(f"{where}: expected a pickled dict, got {type(obj).__name__}")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def _unsafe_member(member: tarfile.TarInfo) -> str | None:
    """Why ``member`` could escape an extraction directory, or ``None``."""
    name = PurePosixPath(member.name)
    if name.is_absolute() or member.name.startswith(("/", "\\")) or ".." in name.parts:
        return f"member {member.name!r} has an absolute or '..' path"
    if member.issym() or member.islnk():
        target = PurePosixPath(member.linkname)
        if member.issym():
            target = name.parent / target
        if target.is_absolute() or ".." in _normalise(target).parts:
            return f"link {member.name!r} -> {member.linkname!r} points outside the archive"
    if member.isdev():
        return f"member {member.name!r} is a device file"
    return None


def _normalise(p: PurePosixPath) -> PurePosixPath:
    parts: list[str] = []
    for part in p.parts:
        if part == "..":
            if parts and parts[-1] != "..":
                parts.pop()
            else:
                parts.append("..")
        elif part not in (".", ""):
            parts.append(part)
    return PurePosixPath(*parts)


def _open_tar(path: Path) -> tarfile.TarFile:
    try:
        return tarfile.open(path, "r:*")
    except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
        raise _corrupt(path, err) from err


def read_tar_members(path: os.PathLike | str, wanted: Iterable[str]) -> dict[str, bytes]:
    """Read the regular files named ``wanted`` (posix paths) straight from a tarball.

    Raises
    ------
    DataError
        If the archive is corrupt, has an unsafe member (absolute or ``..``
        path, link pointing outside, device), a wanted member is a link, or a
        wanted member is missing.
    """
    path = Path(path)
    want = {str(_normalise(PurePosixPath(w))) for w in wanted}
    found: dict[str, bytes] = {}
    with _open_tar(path) as tar:
        try:
            for member in tar:
                why = _unsafe_member(member)
                if why:
                    raise DataError(f"{path}: refusing unsafe archive: {why}")
                name = str(_normalise(PurePosixPath(member.name)))
                if name in want:
                    if not member.isfile():
                        raise DataError(f"{path}: member {member.name!r} is not a regular file")
                    f = tar.extractfile(member)
                    assert f is not None
                    found[name] = f.read()
        except (tarfile.TarError, OSError, EOFError, zlib.error) as err:
            raise _corrupt(path, err) from err
    missing = sorted(want - set(found))
    if missing:
        raise DataError(f"{path} lacks the member(s) {', '.join(missing)}")
    return found


def safe_extract(path: os.PathLike | str, dest: os.PathLike | str) -> Path:
    """Extract tarball ``path`` into ``dest``, refusing members that would land outside it.

    Every member is checked first (absolute or ``..`` names, links pointing
    outside, devices); then ``tarfile``'s ``filter="data"`` is applied where
    the Python version has it, as a second line of defence.

    Returns
    -------
    Path
        ``dest`` resolved.

    Raises
    ------
    DataError
        If any member is unsafe or resolves outside ``dest``; nothing is extracted then.
    """
    path, dest = Path(path), Path(dest).resolve()
    with _open_tar(path) as tar:
        members = tar.getmembers()
        for m in members:
            why = _unsafe_member(m)
            if why is None and not (dest / m.name).resolve().is_relative_to(dest):
                why = f"member {m.name!r} resolves outside {dest}"
            if why:
                raise DataError(f"{path}: refusing to extract: {why}")
        dest.mkdir(parents=True, exist_ok=True)
        if hasattr(tarfile, "data_filter"):
            tar.extractall(dest, members=members, filter="data")
        else:  # pragma: no cover - Python without PEP 706 backports
            tar.extractall(dest, members=members)  # members were checked above
    return dest


# ---------------------------------------------------------------- CIFAR-10

_CIFAR_PY_DIR = "cifar-10-batches-py"
_CIFAR_PY_FILES = [*(f"data_batch_{i}" for i in range(1, 6)), "test_batch"]
_CIFAR_BIN_DIR = "cifar-10-batches-bin"
_CIFAR_BIN_FILES = [*(f"data_batch_{i}.bin" for i in range(1, 6)), "test_batch.bin"]
_CIFAR_RECORD = 1 + 32 * 32 * 3


def _member_reader(path: Path, subdir: str, names: list[str]) -> Callable[[], dict[str, bytes]]:
    """``() -> {name: bytes}`` for ``names`` in a tarball (under ``subdir/``) or directory."""
    if path.is_dir():

        def read_dir() -> dict[str, bytes]:
            out = {}
            for n in names:
                p = path / n
                if not p.is_file():
                    raise DataError(
                        f"{path} lacks {n}; an extracted {subdir}/ needs {', '.join(names)}"
                    )
                out[n] = p.read_bytes()
            return out

        return read_dir

    def read_tar() -> dict[str, bytes]:
        got = read_tar_members(path, [f"{subdir}/{n}" for n in names])
        return {n: got[f"{subdir}/{n}"] for n in names}

    return read_tar


def read_cifar_python(path: os.PathLike | str) -> Arrays:
    """Read CIFAR-10 "python version": ``cifar-10-python.tar.gz`` or ``cifar-10-batches-py/``.

    The batches are unpickled with :class:`NumpyOnlyUnpickler`.
    """
    path = Path(path)
    members = _member_reader(path, _CIFAR_PY_DIR, [*_CIFAR_PY_FILES, "batches.meta"])()
    xs, ys = [], []
    for name in _CIFAR_PY_FILES:
        where = f"{path}:{name}" if not path.is_dir() else str(path / name)
        batch = _unpickle(members[name], where)
        try:
            data = np.asarray(batch["data"], dtype=np.uint8)
            labels = np.asarray(batch["labels"], dtype=np.int64)
        except (KeyError, TypeError, ValueError) as err:
            raise DataError(
                f"{where}: not a CIFAR-10 batch ({err!r}); need 'data' and 'labels'"
            ) from err
        if data.ndim != 2 or data.shape[1] != 3072 or len(data) != len(labels):
            raise DataError(
                f"{where}: data has shape {data.shape} with {len(labels)} labels; a CIFAR-10 "
                f"batch has (n, 3072) uint8 and n labels"
            )
        xs.append(data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
        ys.append(labels)
    meta = _unpickle(members["batches.meta"], f"{path}:batches.meta")
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in meta.get("label_names", [])]
    return make_arrays(
        np.ascontiguousarray(np.concatenate(xs[:-1])),
        np.concatenate(ys[:-1]),
        np.ascontiguousarray(xs[-1]),
        ys[-1],
        names or CIFAR10_CLASSES,
        where=str(path),
    )


def read_cifar_binary(path: os.PathLike | str) -> Arrays:
    """Read CIFAR-10 "binary version": ``cifar-10-binary.tar.gz`` or ``cifar-10-batches-bin/``.

    Each batch is 10,000 records of one label byte and 3,072 pixel bytes
    (1,024 R, then G, then B, row-major).
    """
    path = Path(path)
    members = _member_reader(path, _CIFAR_BIN_DIR, [*_CIFAR_BIN_FILES, "batches.meta.txt"])()
    xs, ys = [], []
    for name in _CIFAR_BIN_FILES:
        raw = members[name]
        if len(raw) == 0 or len(raw) % _CIFAR_RECORD:
            raise DataError(
                f"{path}:{name} is truncated: {len(raw):,} bytes is not a whole number of "
                f"{_CIFAR_RECORD}-byte records. Copy or download the file again."
            )
        rec = np.frombuffer(raw, dtype=np.uint8).reshape(-1, _CIFAR_RECORD)
        ys.append(rec[:, 0].astype(np.int64))
        xs.append(rec[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1))
    names = [ln.strip() for ln in members["batches.meta.txt"].decode().splitlines() if ln.strip()]
    return make_arrays(
        np.ascontiguousarray(np.concatenate(xs[:-1])),
        np.concatenate(ys[:-1]),
        np.ascontiguousarray(xs[-1]),
        ys[-1],
        names or CIFAR10_CLASSES,
        where=str(path),
    )
