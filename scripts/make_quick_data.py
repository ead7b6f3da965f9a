"""Write the bundled quick-run samples ``benchmarks/data/{mnist,cifar10}_sample.npz``.

Each sample is a stratified, seeded subset (2,000 train / 1,000 test images by
default) of the full dataset, written as an ``.npz`` with LZMA-compressed members
(``np.load`` reads it as usual; CIFAR pixels take 7.1 MB this way against 8.5 MB
with ``np.savez_compressed``'s deflate, and the bytes are reproducible) under the
usual keys (``x_train``, ``y_train``, ``x_test``, ``y_test``, ``class_names``)
plus ``title`` and ``source`` strings that record where it came from; CIFAR-10
is taken from whatever :func:`benchmarks.datasets.load_dataset` finds, which
for the shared data folder is the JPEG copy (``cifar10-jpeg.npz``).

Usage (with cvbench installed, e.g. ``pip install -e .``)::

    python scripts/make_quick_data.py --data-dir /work/shared/datasets
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import zipfile
from pathlib import Path

import numpy as np

from benchmarks.datasets import load_dataset, stratified_subset
from benchmarks.datasets._builtin import bundled_path

#: (registry name, output file)
SAMPLES = (("mnist", "mnist_sample.npz"), ("cifar10", "cifar10_sample.npz"))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 22):
            h.update(chunk)
    return h.hexdigest()


def write_npz_lzma(path: Path, **arrays: np.ndarray) -> None:
    """``np.savez`` with LZMA-compressed members and fixed timestamps (reproducible bytes)."""
    with zipfile.ZipFile(path, "w") as zf:
        for key, value in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asanyarray(value), allow_pickle=False)
            info = zipfile.ZipInfo(f"{key}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_LZMA
            zf.writestr(info, buf.getvalue())


def make_sample(name: str, out: Path, *, data_dir, n_train: int, n_test: int, seed: int) -> Path:
    """Write one sample file and return its path.

    Parameters
    ----------
    name : str
        Registered dataset name (``"mnist"``, ``"cifar10"``).
    out : Path
        Output ``.npz``.
    data_dir : path-like or None
        Folder with the full files (``None``: ``$CVBENCH_DATA_DIR``).
    n_train, n_test : int
        Sample sizes.
    seed : int
        Seed of the stratified subsets.
    """
    ds = load_dataset(name, data_dir=data_dir, download=False)
    x_train, y_train = stratified_subset(ds.x_train, ds.y_train, n_train, seed)
    x_test, y_test = stratified_subset(ds.x_test, ds.y_test, n_test, seed)
    src_path = Path(ds.source.split(" ", 1)[1]) if " " in ds.source else None
    digest = f", sha256 {_sha256(src_path)}" if src_path is not None and src_path.is_file() else ""
    source = (
        f"bundled sample of {ds.title}: stratified subset (seed {seed}) of {n_train} train / "
        f"{n_test} test images from {src_path.name if src_path else ds.source}{digest}, "
        f"full-data fingerprint {ds.fingerprint}"
    )
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(f".{out.name}.tmp.npz")
    write_npz_lzma(
        tmp,
        x_train=x_train,
        y_train=y_train.astype(np.uint8),
        x_test=x_test,
        y_test=y_test.astype(np.uint8),
        class_names=np.asarray(ds.class_names, dtype=str),
        title=np.asarray(ds.title),
        source=np.asarray(source),
    )
    os.replace(tmp, out)
    return out


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--data-dir",
        default=os.environ.get("CVBENCH_DATA_DIR"),
        help="folder with mnist.npz and cifar10-jpeg.npz (default: $CVBENCH_DATA_DIR)",
    )
    parser.add_argument(
        "--out-dir", type=Path, default=None, help="default: the package's benchmarks/data/"
    )
    parser.add_argument("--n-train", type=int, default=2000)
    parser.add_argument("--n-test", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not args.data_dir:
        parser.error("give --data-dir DIR or set CVBENCH_DATA_DIR (folder with the full files)")
    for name, fname in SAMPLES:
        path = make_sample(
            name,
            (args.out_dir / fname) if args.out_dir else bundled_path(fname),
            data_dir=args.data_dir,
            n_train=args.n_train,
            n_test=args.n_test,
            seed=args.seed,
        )
        print(f"{path}: {path.stat().st_size / 1e6:.2f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
