"""On-disk cache of decoded arrays for slow formats, and in-process memoisation.

Slow sources (LZMA ``.npz`` such as ``cifar10-jpeg.npz``, CIFAR tarballs, big
image folders) are decoded once and stored as uncompressed ``.npy`` files in::

    <cache root>/arrays/<source name>-<key>/{x_train,y_train,x_test,y_test,class_names}.npy
                                            meta.json

The cache root is the ``cache_dir`` argument, else ``$CVBENCH_CACHE_DIR``, else
``~/.cache/cvbench``. For a file the key is the first 24 hex digits of the
SHA-256 of its bytes (about 0.15 s for the 141 MB CIFAR JPEG copy, and robust
to copies, touches and renames); for a folder it is a hash of every file's
relative path, size and mtime. An entry is written to a temporary directory
and moved into place with :func:`os.replace`, ``meta.json`` last, so an
interrupted write never leaves a half entry; an unreadable entry is rebuilt.
Cached arrays are opened with ``mmap_mode="r"`` (read-only, loaded lazily).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Callable, Hashable
from pathlib import Path

import numpy as np

from benchmarks.datasets._formats import Arrays, make_arrays

__all__ = ["cache_root", "cached_arrays", "file_sha256", "memoised", "stat_key"]

#: Bump when the layout of an entry changes; old entries are then ignored.
CACHE_VERSION = 1
_KEYS = ("x_train", "y_train", "x_test", "y_test")


def cache_root(cache_dir: str | os.PathLike | None = None) -> Path:
    """``cache_dir``, else ``$CVBENCH_CACHE_DIR``, else ``~/.cache/cvbench``."""
    if cache_dir is not None:
        return Path(cache_dir).expanduser()
    env = os.environ.get("CVBENCH_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cvbench"


def file_sha256(path: str | os.PathLike) -> str:
    """Hex SHA-256 of a file's bytes, read in 4 MiB chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def stat_key(path: str | os.PathLike) -> tuple:
    """Hashable ``(path, size, mtime_ns)`` of a file, or of every file under a directory."""
    p = Path(path).resolve()
    if p.is_dir():
        return (str(p), *sorted(stat_key(c) for c in p.rglob("*") if c.is_file()))
    st = p.stat()
    return (str(p), st.st_size, st.st_mtime_ns)


def _read_entry(entry: Path, where: str) -> Arrays | None:
    try:
        meta = json.loads((entry / "meta.json").read_text())
        if meta.get("version") != CACHE_VERSION:
            return None
        arrays = {k: np.load(entry / f"{k}.npy", mmap_mode="r", allow_pickle=False) for k in _KEYS}
        names = np.load(entry / "class_names.npy", allow_pickle=False).tolist()
        for k in _KEYS:
            if list(arrays[k].shape) != meta["shapes"][k]:
                return None
        return make_arrays(
            **arrays, class_names=names, where=where, fingerprint=meta["fingerprint"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def _write_entry(entry: Path, arrays: Arrays) -> None:
    entry.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{entry.name}.", suffix=".tmp", dir=entry.parent))
    try:
        for k, a in arrays.as_dict().items():
            np.save(tmp / f"{k}.npy", np.ascontiguousarray(a))
        np.save(tmp / "class_names.npy", np.asarray(arrays.class_names, dtype=str))
        meta = {
            "version": CACHE_VERSION,
            "fingerprint": arrays.fingerprint,
            "shapes": {k: list(a.shape) for k, a in arrays.as_dict().items()},
        }
        (tmp / "meta.json.tmp").write_text(json.dumps(meta))
        os.replace(tmp / "meta.json.tmp", tmp / "meta.json")
        if entry.exists():  # a stale or broken entry: replace it
            shutil.rmtree(entry, ignore_errors=True)
        try:
            os.replace(tmp, entry)
        except OSError:  # another process won the race; its entry is as good as ours
            pass
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def cached_arrays(
    name: str, key: str, build: Callable[[], Arrays], *, cache_dir: str | os.PathLike | None = None
) -> Arrays:
    """Return the cached decode of ``name``/``key``, or ``build()`` it and store it.

    Parameters
    ----------
    name : str
        Human part of the entry name (the source file name).
    key : str
        Content key (SHA-256 of the file, or a hash of a folder listing).
    build : callable
        ``() -> Arrays``; called on a cache miss.
    cache_dir : path-like, optional
        Cache root; see :func:`cache_root`.

    Notes
    -----
    A cache that cannot be written (read-only disk, no space) is not an error:
    the freshly decoded arrays are returned anyway.
    """
    entry = cache_root(cache_dir) / "arrays" / f"{name}-{key[:24]}"
    hit = _read_entry(entry, where=f"cache {entry}")
    if hit is not None:
        return hit
    arrays = build()
    try:
        _write_entry(entry, arrays)
    except OSError:
        return arrays
    return _read_entry(entry, where=f"cache {entry}") or arrays


@functools.lru_cache(maxsize=6)
def _memo(func: Callable[..., object], key: Hashable, args: tuple) -> object:
    return func(*args)


def memoised(func: Callable[..., Arrays], key: Hashable, *args: Hashable) -> Arrays:
    """``func(*args)``, remembered in-process under ``(func, key, args)``.

    ``key`` should change when the source changes (use :func:`stat_key`). The
    returned arrays are read-only, so sharing them between callers is safe.
    """
    return _memo(func, key, args)  # type: ignore[return-value]


memoised.cache_clear = _memo.cache_clear  # type: ignore[attr-defined]
