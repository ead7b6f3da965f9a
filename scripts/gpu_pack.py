#!/usr/bin/env python
"""Carry datasets to a machine that takes at most ~64 MiB per call, and rebuild them there.

The device tool copies the working tree (tracked files plus ``carry`` paths,
64 MiB in all) to the GPU machine on every call, and nothing else reaches it:
``../shared/datasets`` stays behind, and ``cifar10-jpeg.npz`` alone is 141 MB.
``pack`` re-encodes each dataset's images as lossless WebP (CIFAR-10: about
1.55 kB an image, 93 MB in all, against 141 MB as LZMA npz), then cuts the
bytes into parts and groups them into folders ``call-1/``, ``call-2/``, ...
of at most ``--call-mb`` each, one folder per device call; ``unpack``, on the
other side, checks every part's SHA-256, decodes, checks the decoded arrays'
fingerprint against the original's, and writes the ``.npz`` files that the
project's loader reads (same file names as in the data folder)::

    python scripts/gpu_pack.py pack --data-dir ../shared/datasets --out .gpu
    # on the device, each call carrying one .gpu/call-K, copying it to /tmp/parts
    python scripts/gpu_pack.py unpack /tmp/parts --into /tmp/data

The rebuilt arrays are bit-identical to the originals (``unpack`` refuses
anything else), so rows made there have the same ``data_fingerprint``.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

SPLITS = ("train", "test")
#: Bytes of one part; parts are packed greedily into the call folders.
PART_BYTES = 4_000_000


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def encode_images(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Lossless WebP bytes of every image: ``(blob uint8, offsets int64 of shape (n + 1,))``.

    Gray images travel as three equal channels (WebP has no gray mode; its
    colour transforms make the copies nearly free).
    """
    import cv2

    if x.ndim != 4 or x.shape[-1] not in (1, 3) or x.dtype != np.uint8:
        raise ValueError(f"images must be uint8 (n, H, W, 1 or 3), got {x.dtype} {x.shape}")
    chunks, offsets = [], [0]
    for img in x:
        bgr = np.repeat(img, 3, axis=-1) if img.shape[-1] == 1 else img[..., ::-1]
        ok, buf = cv2.imencode(".webp", bgr, [cv2.IMWRITE_WEBP_QUALITY, 101])  # >100: lossless
        if not ok:
            raise RuntimeError("OpenCV could not encode WebP (built without libwebp?)")
        chunks.append(buf.tobytes())
        offsets.append(offsets[-1] + len(chunks[-1]))
    return np.frombuffer(b"".join(chunks), np.uint8), np.asarray(offsets, np.int64)


def decode_images(blob: np.ndarray, offsets: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    """Inverse of :func:`encode_images` for images of ``shape`` ``(n, H, W, C)``."""
    import cv2

    out = np.empty(shape, np.uint8)
    for i in range(shape[0]):
        bgr = cv2.imdecode(blob[offsets[i] : offsets[i + 1]], cv2.IMREAD_COLOR)
        if bgr is None:
            raise ValueError(f"image {i} does not decode as WebP")
        out[i] = bgr[..., :1] if shape[-1] == 1 else bgr[..., ::-1]
    return out


def _source_file(data) -> str:
    """The data folder's file name that the loader found (e.g. ``cifar10-jpeg.npz``)."""
    prefix = "data-dir "
    if not (data.source.startswith(prefix) and data.source.endswith(".npz")):
        raise SystemExit(
            f"{data.name}: pack reads datasets found as .npz files in --data-dir; "
            f"this one came from {data.source!r}"
        )
    return Path(data.source[len(prefix) :]).name


def pack(names, data_dir, out: Path, call_mb: float, reserve_mb: float = 0.0) -> list[Path]:
    """Write ``out/call-K/`` folders holding every dataset's parts and manifests.

    Parameters
    ----------
    names : list of str
        Built-in dataset names (``mnist``, ``cifar10``, ...).
    data_dir : str
        Folder with the dataset files.
    out : Path
        Emptied first.
    call_mb : float
        Most megabytes (10^6 bytes) in one ``call-K`` folder.
    reserve_mb : float, default=0
        Room kept free in ``call-1`` (for wheels carried by the same call).

    Returns
    -------
    list of Path
        The ``call-K`` folders, in order.
    """
    import shutil

    from benchmarks.datasets import load_dataset

    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    limit = int(call_mb * 1e6)
    if limit < PART_BYTES + int(reserve_mb * 1e6) + 100_000:
        raise SystemExit(f"--call-mb {call_mb} is too small: a part alone is {PART_BYTES / 1e6} MB")
    calls: list[list[tuple[str, bytes]]] = [[]]
    room = [limit - int(reserve_mb * 1e6)]
    for name in names:
        data = load_dataset(name, data_dir=data_dir)
        members = {"class_names": np.asarray(data.class_names)}
        for split in SPLITS:
            x, y = getattr(data, f"x_{split}"), getattr(data, f"y_{split}")
            blob, offsets = encode_images(x)
            members.update({f"blob_{split}": blob, f"offsets_{split}": offsets, f"y_{split}": y})
        buf = io.BytesIO()
        np.savez(buf, **members)
        payload = buf.getvalue()
        manifest = {
            "name": name,
            "file": _source_file(data),
            "fingerprint": data.fingerprint,
            "shapes": {s: list(getattr(data, f"x_{s}").shape) for s in SPLITS},
            "sha256": _sha256(payload),
            "parts": [],
        }
        for k, start in enumerate(range(0, len(payload), PART_BYTES)):
            chunk = payload[start : start + PART_BYTES]
            part = f"{name}.part-{k:03d}"
            manifest["parts"].append({"file": part, "sha256": _sha256(chunk)})
            if len(chunk) > room[-1]:
                calls.append([])
                room.append(limit)
            calls[-1].append((part, chunk))
            room[-1] -= len(chunk)
        calls[0].append((f"{name}.json", json.dumps(manifest, indent=1).encode()))
    folders = []
    for i, files in enumerate(calls, start=1):
        folder = out / f"call-{i}"
        folder.mkdir()
        for fname, data in files:
            (folder / fname).write_bytes(data)
        folders.append(folder)
    return folders


def unpack(parts_dir: Path, into: Path) -> list[Path]:
    """Rebuild every dataset whose manifest is in ``parts_dir``; returns the written files."""
    from benchmarks.datasets._base import fingerprint_arrays

    manifests = sorted(parts_dir.glob("*.json"))
    if not manifests:
        raise SystemExit(f"{parts_dir}: no <dataset>.json manifest; copy call-1 there first")
    into.mkdir(parents=True, exist_ok=True)
    written = []
    for mpath in manifests:
        m = json.loads(mpath.read_text())
        chunks = []
        for part in m["parts"]:
            p = parts_dir / part["file"]
            if not p.is_file():
                raise SystemExit(f"{m['name']}: part {p} is missing; copy every call-K folder")
            chunk = p.read_bytes()
            if _sha256(chunk) != part["sha256"]:
                raise SystemExit(f"{p}: SHA-256 mismatch (truncated copy?); copy it again")
            chunks.append(chunk)
        payload = b"".join(chunks)
        if _sha256(payload) != m["sha256"]:
            raise SystemExit(f"{m['name']}: reassembled bytes do not match the manifest")
        with np.load(io.BytesIO(payload), allow_pickle=False) as z:
            arrays = {"class_names": z["class_names"]}
            for s in SPLITS:
                shape = tuple(m["shapes"][s])
                arrays[f"x_{s}"] = decode_images(z[f"blob_{s}"], z[f"offsets_{s}"], shape)
                arrays[f"y_{s}"] = z[f"y_{s}"]
        got = fingerprint_arrays(
            arrays["x_train"], arrays["y_train"], arrays["x_test"], arrays["y_test"]
        )
        if got != m["fingerprint"]:
            raise SystemExit(
                f"{m['name']}: decoded fingerprint {got} differs from the original "
                f"{m['fingerprint']}; the WebP round trip was not lossless here"
            )
        dest = into / m["file"]
        np.savez(dest, **arrays)
        written.append(dest)
        print(f"{m['name']}: {dest} ({dest.stat().st_size / 1e6:.1f} MB, fingerprint {got})")
    return written


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="command", required=True)
    pk = sub.add_parser("pack", help="datasets -> call-K folders of parts")
    pk.add_argument("--datasets", default="mnist,cifar10", help="comma-separated names")
    pk.add_argument("--data-dir", required=True)
    pk.add_argument("--out", type=Path, default=Path(".gpu"))
    pk.add_argument("--call-mb", type=float, default=50.0, help="most MB per call folder")
    pk.add_argument("--reserve-mb", type=float, default=3.0, help="room left in call-1 (wheels)")
    up = sub.add_parser("unpack", help="parts -> the data folder's .npz files")
    up.add_argument("parts_dir", type=Path)
    up.add_argument("--into", type=Path, required=True)
    args = p.parse_args(argv)
    if args.command == "pack":
        for folder in pack(
            args.datasets.split(","), args.data_dir, args.out, args.call_mb, args.reserve_mb
        ):
            size = sum(f.stat().st_size for f in folder.iterdir())
            print(
                f"{folder}: {size / 1e6:.1f} MB ({', '.join(sorted(f.name for f in folder.iterdir()))})"
            )
    else:
        unpack(args.parts_dir, args.into)
    return 0


if __name__ == "__main__":
    sys.exit(main())
