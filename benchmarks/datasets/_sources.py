"""Where dataset files are looked for, and the checked download of official files.

Resolution order for a built-in dataset (first hit wins; a file that is found
but broken raises :class:`DataError` instead of falling through):

1. the ``data_dir`` argument (``--data-dir``), else ``$CVBENCH_DATA_DIR``;
2. the Keras cache, ``$KERAS_HOME/datasets`` (default ``~/.keras/datasets``);
3. ``cache_dir`` when one is given (that is where downloads go then);
4. a download of the official files, verified by SHA-256, into ``cache_dir``
   or else the Keras cache.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from benchmarks.datasets._base import DataError

__all__ = [
    "DOWNLOAD_TIMEOUT",
    "Place",
    "download_dir",
    "fetch",
    "keras_datasets_dir",
    "search_places",
]

#: Seconds to wait for a server before giving up on a download.
DOWNLOAD_TIMEOUT = 10.0

#: Opens URLs; tests replace it to serve local bytes.
urlopen = urllib.request.urlopen


@dataclass(frozen=True)
class Place:
    """A directory searched for data files.

    Parameters
    ----------
    label : str
        Prefix of :attr:`Dataset.source` (``"data-dir"``, ``"keras cache"``, ``"cache-dir"``).
    path : Path or None
        The directory; ``None`` when not configured.
    how : str
        How it was chosen, for error messages (``"data_dir argument"``, ...).
    """

    label: str
    path: Path | None
    how: str


def keras_datasets_dir() -> Path:
    """``$KERAS_HOME/datasets``, default ``~/.keras/datasets``."""
    home = os.environ.get("KERAS_HOME")
    return (Path(home).expanduser() if home else Path.home() / ".keras") / "datasets"


def download_dir(cache_dir: str | os.PathLike | None = None) -> Path:
    """Where downloads are written: ``cache_dir`` if given, else the Keras cache."""
    return Path(cache_dir).expanduser() if cache_dir is not None else keras_datasets_dir()


def search_places(
    data_dir: str | os.PathLike | None = None, cache_dir: str | os.PathLike | None = None
) -> list[Place]:
    """The directories searched, in order (see the module docstring)."""
    if data_dir is not None:
        first = Place("data-dir", Path(data_dir).expanduser().resolve(), "data_dir / --data-dir")
    elif os.environ.get("CVBENCH_DATA_DIR"):
        env = Path(os.environ["CVBENCH_DATA_DIR"]).expanduser().resolve()
        first = Place("data-dir", env, "$CVBENCH_DATA_DIR")
    else:
        first = Place("data-dir", None, "not set (pass --data-dir or set CVBENCH_DATA_DIR)")
    how = "$KERAS_HOME/datasets" if os.environ.get("KERAS_HOME") else "~/.keras/datasets"
    places = [first, Place("keras cache", keras_datasets_dir().resolve(), how)]
    if cache_dir is not None:
        places.append(Place("cache-dir", Path(cache_dir).expanduser().resolve(), "cache_dir"))
    return places


def fetch(url: str, dest: Path, sha256: str | None, *, timeout: float | None = None) -> Path:
    """Download ``url`` to ``dest``, verifying length and SHA-256, atomically.

    The bytes go to ``dest.part-<pid>`` first and are moved to ``dest`` only
    once complete and verified, so an interrupted download leaves nothing.

    Parameters
    ----------
    url : str
    dest : Path
    sha256 : str or None
        Expected hex digest; ``None`` when no official checksum is known
        (the caller then checks the file's structure).
    timeout : float, optional
        Socket timeout in seconds (default :data:`DOWNLOAD_TIMEOUT`).

    Returns
    -------
    Path
        ``dest``.

    Raises
    ------
    OSError
        (``urllib.error.URLError``, ``TimeoutError``) when the server cannot be reached.
    DataError
        When the download is truncated or its SHA-256 differs.
    """
    tmp = dest.with_name(f"{dest.name}.part-{os.getpid()}")
    h, n = hashlib.sha256(), 0
    try:
        with urlopen(url, timeout=DOWNLOAD_TIMEOUT if timeout is None else timeout) as r:
            length = r.headers.get("Content-Length") if getattr(r, "headers", None) else None
            dest.parent.mkdir(parents=True, exist_ok=True)
            with open(tmp, "wb") as f:
                try:
                    while chunk := r.read(1 << 20):
                        f.write(chunk)
                        h.update(chunk)
                        n += len(chunk)
                except http.client.IncompleteRead as err:
                    raise DataError(
                        f"download of {url} to {dest} was cut off after {n:,} bytes ({err}); "
                        f"try again, or fetch the file by hand and pass --data-dir"
                    ) from err
        if length is not None and n != int(length):
            raise DataError(
                f"download of {url} to {dest} is truncated: got {n:,} of {int(length):,} "
                f"bytes; try again, or fetch the file by hand and pass --data-dir"
            )
        digest = h.hexdigest()
        if sha256 is not None and digest != sha256.lower():
            raise DataError(
                f"SHA-256 mismatch for {dest.name} downloaded from {url}: expected {sha256}, "
                f"got {digest}. The file was not kept; try again, or fetch it by hand, "
                f"check it with sha256sum and pass --data-dir"
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return dest
