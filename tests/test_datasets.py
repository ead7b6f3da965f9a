"""Tests of the datasets layer on tiny files written in every accepted format."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import io
import os
import pickle
import tarfile
import time
import urllib.request
import zipfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from benchmarks.datasets import (
    DataError,
    DataNotFoundError,
    Dataset,
    _builtin,
    _cache,
    _formats,
    _sources,
    fingerprint_arrays,
    list_datasets,
    load_dataset,
    stratified_subset,
)
from benchmarks.datasets._formats import NumpyOnlyUnpickler, read_tar_members, safe_extract

RNG = np.random.default_rng(1234)
N_TRAIN, N_TEST = 40, 20


@pytest.fixture(autouse=True)
def _isolated(isolated_data_env):
    """Every test: no data-dir, empty Keras cache and cache dir, no network."""
    return isolated_data_env


def _gray(n_train=N_TRAIN, n_test=N_TEST, size=28):
    return {
        "x_train": RNG.integers(0, 256, (n_train, size, size), dtype=np.uint8),
        "y_train": np.arange(n_train, dtype=np.uint8) % 10,
        "x_test": RNG.integers(0, 256, (n_test, size, size), dtype=np.uint8),
        "y_test": np.arange(n_test, dtype=np.uint8) % 10,
    }


def _color(n_train=N_TRAIN, n_test=N_TEST):
    return {
        "x_train": RNG.integers(0, 256, (n_train, 32, 32, 3), dtype=np.uint8),
        "y_train": np.arange(n_train) % 10,
        "x_test": RNG.integers(0, 256, (n_test, 32, 32, 3), dtype=np.uint8),
        "y_test": np.arange(n_test) % 10,
    }


def _fingerprint(a):
    x_tr, x_te = a["x_train"], a["x_test"]
    if x_tr.ndim == 3:
        x_tr, x_te = x_tr[..., None], x_te[..., None]
    y_tr, y_te = (np.asarray(a[k], dtype=np.int64) for k in ("y_train", "y_test"))
    return fingerprint_arrays(x_tr, y_tr, x_te, y_te)


# ---------------------------------------------------------------- writers of the official formats


def _idx_bytes(a: np.ndarray) -> bytes:
    header = bytes([0, 0, 0x08, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes()
    return header + np.ascontiguousarray(a, dtype=np.uint8).tobytes()


def write_idx(folder: Path, arrays: dict, gz: bool = True) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for role, base in _formats.IDX_NAMES.items():
        raw = _idx_bytes(arrays[role])
        if gz:
            (folder / f"{base}.gz").write_bytes(gzip.compress(raw))
        else:
            (folder / base).write_bytes(raw)
    return folder


def _cifar_batches(arrays: dict) -> dict[str, np.ndarray]:
    """CIFAR batch layout: 5 train batches + test, rows of 3,072 planar R, G, B bytes."""
    planar = {
        k: arrays[k].transpose(0, 3, 1, 2).reshape(len(arrays[k]), -1)
        for k in ("x_train", "x_test")
    }
    out = {}
    for i, (xb, yb) in enumerate(
        zip(
            np.array_split(planar["x_train"], 5), np.array_split(arrays["y_train"], 5), strict=True
        ),
        start=1,
    ):
        out[f"data_batch_{i}"] = (xb, yb)
    out["test_batch"] = (planar["x_test"], arrays["y_test"])
    return out


def cifar_python_files(arrays: dict) -> dict[str, bytes]:
    files = {}
    for name, (x, y) in _cifar_batches(arrays).items():
        batch = {b"batch_label": name.encode(), b"labels": [int(v) for v in y], b"data": x}
        files[name] = pickle.dumps(batch, protocol=2)
    meta = {b"label_names": [c.encode() for c in _formats.CIFAR10_CLASSES], b"num_vis": 3072}
    files["batches.meta"] = pickle.dumps(meta, protocol=2)
    return files


def cifar_binary_files(arrays: dict) -> dict[str, bytes]:
    files = {}
    for name, (x, y) in _cifar_batches(arrays).items():
        rec = np.concatenate([np.asarray(y, dtype=np.uint8)[:, None], x], axis=1)
        files[f"{name}.bin"] = rec.tobytes()
    files["batches.meta.txt"] = ("\n".join(_formats.CIFAR10_CLASSES) + "\n\n").encode()
    return files


def write_tar(path: Path, files: dict[str, bytes], prefix: str) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{prefix}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def write_dir(folder: Path, files: dict[str, bytes]) -> Path:
    folder.mkdir(parents=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder


def write_lzma_npz(path: Path, arrays: dict) -> Path:
    """An .npz whose members are LZMA-compressed, like cifar10-jpeg.npz."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_LZMA) as zf:
        for k, a in arrays.items():
            buf = io.BytesIO()
            np.lib.format.write_array(buf, np.asarray(a), allow_pickle=False)
            zf.writestr(f"{k}.npy", buf.getvalue())
    return path


# ---------------------------------------------------------------- MNIST / Fashion-MNIST formats


def test_mnist_keras_npz_from_data_dir(tmp_path):
    a = _gray()
    np.savez_compressed(tmp_path / "mnist.npz", **a)
    ds = load_dataset("mnist", data_dir=tmp_path)
    assert isinstance(ds, Dataset)
    assert (ds.title, ds.kind, ds.name) == ("MNIST", "full", "mnist")
    assert ds.source == f"data-dir {tmp_path.resolve() / 'mnist.npz'}"
    assert ds.x_train.shape == (N_TRAIN, 28, 28, 1) and ds.x_train.dtype == np.uint8
    assert ds.y_train.dtype == np.int64 and ds.x_test.shape == (N_TEST, 28, 28, 1)
    assert ds.class_names == tuple(str(i) for i in range(10))
    assert ds.fingerprint == _fingerprint(a)
    np.testing.assert_array_equal(ds.x_train[..., 0], a["x_train"])


@pytest.mark.parametrize("gz", [True, False], ids=["gz", "raw"])
def test_mnist_idx_files_give_the_same_fingerprint_as_npz(tmp_path, gz):
    a = _gray()
    write_idx(tmp_path, a, gz=gz)
    ds = load_dataset("mnist", data_dir=tmp_path)
    assert ds.fingerprint == _fingerprint(a)
    assert "train-images-idx3-ubyte" in ds.source and ds.source.startswith("data-dir ")
    np.testing.assert_array_equal(ds.y_test, a["y_test"])


def test_fashion_mnist_idx_in_subfolder_and_npz(tmp_path):
    a = _gray()
    write_idx(tmp_path / "idx" / "fashion-mnist", a)
    ds = load_dataset("fashion_mnist", data_dir=tmp_path / "idx")
    assert ds.title == "Fashion-MNIST" and ds.class_names[9] == "Ankle boot"
    np.savez_compressed(tmp_path / "fashion-mnist.npz", **a)
    ds2 = load_dataset("fashion-mnist", data_dir=tmp_path)  # '-' is read as '_'
    assert ds2.fingerprint == ds.fingerprint == _fingerprint(a)


def test_partial_idx_set_is_reported(tmp_path):
    write_idx(tmp_path, _gray())
    (tmp_path / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataNotFoundError, match=r"only 3 of the 4 IDX files, missing t10k-labels"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


@pytest.mark.parametrize("cut", [3, 10, 500])
def test_truncated_idx_is_a_data_error(tmp_path, cut):
    write_idx(tmp_path, _gray())
    p = tmp_path / "train-images-idx3-ubyte.gz"
    raw = gzip.decompress(p.read_bytes())
    p.write_bytes(gzip.compress(raw[:cut]))
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz.*(truncated|not an IDX)"):
        load_dataset("mnist", data_dir=tmp_path)


def test_truncated_gzip_stream_is_a_data_error(tmp_path):
    write_idx(tmp_path, _gray())
    p = tmp_path / "train-images-idx3-ubyte.gz"
    p.write_bytes(p.read_bytes()[:-200])
    with pytest.raises(DataError, match=r"train-images-idx3-ubyte\.gz is truncated or corrupt"):
        load_dataset("mnist", data_dir=tmp_path)


def test_truncated_npz_is_a_data_error(tmp_path):
    np.savez_compressed(tmp_path / "mnist.npz", **_gray())
    p = tmp_path / "mnist.npz"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(DataError, match=r"mnist\.npz is truncated or corrupt"):
        load_dataset("mnist", data_dir=tmp_path)


# ---------------------------------------------------------------- source resolution


def test_env_data_dir_then_keras_cache_order(tmp_path, monkeypatch, _isolated):
    keras_home, _ = _isolated
    a, b = _gray(), _gray()
    (keras_home / "datasets").mkdir(parents=True)
    np.savez_compressed(keras_home / "datasets" / "mnist.npz", **a)
    ds = load_dataset("mnist")
    assert ds.source == f"keras cache {(keras_home / 'datasets' / 'mnist.npz').resolve()}"
    assert ds.fingerprint == _fingerprint(a)

    np.savez_compressed(tmp_path / "mnist.npz", **b)
    monkeypatch.setenv("CVBENCH_DATA_DIR", str(tmp_path))
    assert load_dataset("mnist").fingerprint == _fingerprint(b)  # env before keras cache
    other = tmp_path / "other"
    other.mkdir()
    np.savez_compressed(other / "mnist.npz", **a)
    assert (
        load_dataset("mnist", data_dir=other).source == f"data-dir {other.resolve() / 'mnist.npz'}"
    )


def test_nothing_found_lists_every_place_and_the_fix(tmp_path, _isolated):
    keras_home, _ = _isolated
    with pytest.raises(DataNotFoundError) as info:
        load_dataset("mnist", data_dir=tmp_path / "missing")
    msg = str(info.value)
    assert f"data-dir {(tmp_path / 'missing').resolve()}" in msg and "no such directory" in msg
    assert f"keras cache {(keras_home / 'datasets').resolve()}" in msg
    assert "download https://storage.googleapis.com/tensorflow/tf-keras-datasets/mnist.npz" in msg
    assert "network disabled in tests" in msg
    assert "mnist.npz" in msg and "train-images-idx3-ubyte[.gz]" in msg
    assert "--data-dir" in msg and "CVBENCH_DATA_DIR" in msg


def test_no_download_says_so(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"cifar-10-python\.tar\.gz: not tried") as info:
        load_dataset("cifar10", download=False)
    assert "data-dir: not set" in str(info.value) and "cifar10-jpeg.npz" in str(info.value)


# ---------------------------------------------------------------- downloads (no network)


def _serve_locally(monkeypatch, builtin_attr: str, path: Path, sha: str | None):
    """Point a built-in dataset's download at ``path`` through a file:// URL."""
    builtin = getattr(_builtin, builtin_attr)
    dl = builtin.download
    files = ((path.as_uri(), dl.files[0][1], sha),)
    monkeypatch.setattr(
        _builtin,
        builtin_attr,
        dataclasses.replace(builtin, download=dataclasses.replace(dl, files=files)),
    )
    monkeypatch.setattr(_sources, "urlopen", urllib.request.urlopen)


def test_download_success_is_verified_and_kept(tmp_path, monkeypatch):
    a = _gray()
    served = tmp_path / "served.npz"
    np.savez_compressed(served, **a)
    sha = hashlib.sha256(served.read_bytes()).hexdigest()
    _serve_locally(monkeypatch, "MNIST", served, sha)
    cache = tmp_path / "dl"
    ds = load_dataset("mnist", cache_dir=cache)
    assert ds.source == f"download {served.as_uri()}"
    assert ds.fingerprint == _fingerprint(a)
    assert (cache / "mnist.npz").read_bytes() == served.read_bytes()
    assert not list(cache.glob("*.part-*"))
    # the next load finds the downloaded file instead of downloading again
    assert (
        load_dataset("mnist", cache_dir=cache).source
        == f"cache-dir {cache.resolve() / 'mnist.npz'}"
    )


def test_download_checksum_mismatch(tmp_path, monkeypatch):
    served = tmp_path / "served.npz"
    np.savez_compressed(served, **_gray())
    actual = hashlib.sha256(served.read_bytes()).hexdigest()
    _serve_locally(monkeypatch, "MNIST", served, "0" * 64)
    with pytest.raises(DataError) as info:
        load_dataset("mnist", cache_dir=tmp_path / "dl")
    msg = str(info.value)
    assert "SHA-256 mismatch for mnist.npz" in msg and "0" * 64 in msg and actual in msg
    assert not list((tmp_path / "dl").iterdir())  # neither the file nor a .part is left


def test_truncated_download(tmp_path, monkeypatch):
    class Short(io.BytesIO):
        headers = {"Content-Length": "1000"}

    monkeypatch.setattr(_sources, "urlopen", lambda url, timeout: Short(b"x" * 600))
    with pytest.raises(DataError, match=r"truncated: got 600 of 1,000 bytes"):
        _sources.fetch("https://example.invalid/mnist.npz", tmp_path / "mnist.npz", None)
    assert not list(tmp_path.iterdir())


def test_unreachable_download_fails_fast_and_clearly(tmp_path, monkeypatch):
    monkeypatch.setattr(_sources, "urlopen", urllib.request.urlopen)
    _serve_locally(monkeypatch, "MNIST", tmp_path / "absent.npz", "0" * 64)
    t = time.perf_counter()
    with pytest.raises(DataNotFoundError, match=r"download file://.*absent\.npz -> .*: failed"):
        load_dataset("mnist", cache_dir=tmp_path / "dl")
    assert time.perf_counter() - t < 5


# ---------------------------------------------------------------- CIFAR-10 formats


def _cifar_layouts(tmp_path: Path, a: dict) -> dict[str, Path]:
    py, bn = cifar_python_files(a), cifar_binary_files(a)
    out = {}
    for key, make in {
        "py-tar": lambda d: write_tar(d / "cifar-10-python.tar.gz", py, "cifar-10-batches-py"),
        "py-dir": lambda d: write_dir(d / "cifar-10-batches-py", py),
        "bin-tar": lambda d: write_tar(d / "cifar-10-binary.tar.gz", bn, "cifar-10-batches-bin"),
        "bin-dir": lambda d: write_dir(d / "cifar-10-batches-bin", bn),
    }.items():
        d = tmp_path / key
        d.mkdir()
        make(d)
        out[key] = d
    return out


def test_cifar_official_formats_agree(tmp_path):
    a = _color()
    for key, d in _cifar_layouts(tmp_path, a).items():
        ds = load_dataset("cifar10", data_dir=d)
        assert ds.title == "CIFAR-10", key
        assert ds.x_train.shape == (N_TRAIN, 32, 32, 3)
        assert ds.class_names == _formats.CIFAR10_CLASSES
        assert ds.fingerprint == _fingerprint(a), key
        np.testing.assert_array_equal(ds.x_test, a["x_test"])


def test_cifar_tarball_is_cached_decoded(tmp_path, monkeypatch, _isolated):
    _, cache = _isolated
    d = _cifar_layouts(tmp_path, _color())["py-tar"]
    first = load_dataset("cifar10", data_dir=d)
    entries = list((cache / "arrays").iterdir())
    assert len(entries) == 1 and entries[0].name.startswith("cifar-10-python.tar.gz-")
    assert (entries[0] / "meta.json").is_file() and not list((cache / "arrays").glob(".*tmp"))
    _cache.memoised.cache_clear()
    monkeypatch.setattr(_builtin, "read_cifar_python", pytest.fail)  # must not be decoded again
    again = load_dataset("cifar10", data_dir=d)
    assert again.fingerprint == first.fingerprint
    assert not again.x_train.flags.writeable


def test_prefers_official_cifar_over_jpeg_copy(tmp_path):
    a, jpeg = _color(), _color()
    d = tmp_path / "both"
    d.mkdir()
    write_lzma_npz(
        d / "cifar10-jpeg.npz", {**jpeg, "class_names": np.array(_formats.CIFAR10_CLASSES)}
    )
    only_jpeg = load_dataset("cifar10", data_dir=d)
    assert only_jpeg.title == "CIFAR-10 (JPEG copy)" and only_jpeg.fingerprint == _fingerprint(jpeg)
    write_tar(d / "cifar-10-python.tar.gz", cifar_python_files(a), "cifar-10-batches-py")
    official = load_dataset("cifar10", data_dir=d)
    assert official.title == "CIFAR-10" and official.fingerprint == _fingerprint(a)


def test_lzma_npz_cache_is_atomic_and_rebuilt_when_broken(tmp_path, monkeypatch, _isolated):
    _, cache = _isolated
    a = _color()
    write_lzma_npz(tmp_path / "cifar10-jpeg.npz", a)
    ds = load_dataset("cifar10", data_dir=tmp_path)
    (entry,) = (cache / "arrays").iterdir()
    assert sorted(p.name for p in entry.iterdir()) == sorted(
        ["x_train.npy", "y_train.npy", "x_test.npy", "y_test.npy", "class_names.npy", "meta.json"]
    )
    # a broken entry (e.g. a half-written file from elsewhere) is detected and rebuilt
    (entry / "x_train.npy").write_bytes(b"\x93NUMPY broken")
    _cache.memoised.cache_clear()
    assert load_dataset("cifar10", data_dir=tmp_path).fingerprint == ds.fingerprint
    # an interrupted write leaves no entry behind
    _cache.memoised.cache_clear()
    monkeypatch.setattr(_cache, "cache_root", lambda cache_dir=None: tmp_path / "c2")

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(_cache.np, "save", boom)
    with pytest.raises(KeyboardInterrupt):
        _cache.cached_arrays(
            "x", "k" * 24, lambda: _formats.make_arrays(**a, class_names=None, where="t")
        )
    assert not list((tmp_path / "c2" / "arrays").iterdir())


def test_truncated_cifar_files(tmp_path):
    d = _cifar_layouts(tmp_path, _color())
    tar = d["py-tar"] / "cifar-10-python.tar.gz"
    tar.write_bytes(tar.read_bytes()[:-300])
    with pytest.raises(DataError, match=r"cifar-10-python\.tar\.gz is truncated or corrupt"):
        load_dataset("cifar10", data_dir=d["py-tar"])
    batch = d["bin-dir"] / "cifar-10-batches-bin" / "data_batch_3.bin"
    batch.write_bytes(batch.read_bytes()[:-5])
    with pytest.raises(DataError, match=r"data_batch_3\.bin is truncated"):
        load_dataset("cifar10", data_dir=d["bin-dir"])
    pick = d["py-dir"] / "cifar-10-batches-py" / "test_batch"
    pick.write_bytes(pick.read_bytes()[:100])
    with pytest.raises(DataError, match=r"test_batch is truncated or corrupt"):
        load_dataset("cifar10", data_dir=d["py-dir"])


# ---------------------------------------------------------------- hostile files


class _Evil:
    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_malicious_pickle_is_refused(tmp_path):
    marker = tmp_path / "pwned"
    payload = pickle.dumps({b"data": _Evil(marker), b"labels": [0]}, protocol=2)
    with pytest.raises(
        pickle.UnpicklingError, match=r"refusing to load global (posix|os|nt)\.system"
    ):
        NumpyOnlyUnpickler(io.BytesIO(payload)).load()
    files = cifar_python_files(_color())
    files["data_batch_2"] = payload
    d = tmp_path / "d"
    d.mkdir()
    write_tar(d / "cifar-10-python.tar.gz", files, "cifar-10-batches-py")
    with pytest.raises(DataError, match=r"data_batch_2: refused to unpickle"):
        load_dataset("cifar10", data_dir=d)
    for evil in (b"cbuiltins\neval\n(S'1'\ntR.", b"cos\nsystem\n(S'true'\ntR."):
        with pytest.raises(pickle.UnpicklingError, match="refusing"):
            NumpyOnlyUnpickler(io.BytesIO(evil)).load()
    assert not marker.exists()


def _tar_with(path: Path, member: tarfile.TarInfo, data: bytes = b"x") -> Path:
    with tarfile.open(path, "w:gz") as tar:
        if member.isfile():
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
        else:
            tar.addfile(member)
    return path


def _member(name, kind=tarfile.REGTYPE, link=""):
    m = tarfile.TarInfo(name)
    m.type, m.linkname = kind, link
    return m


@pytest.mark.parametrize(
    "member",
    [
        _member("../escaped"),
        _member("cifar-10-batches-py/../../escaped"),
        _member("/tmp/escaped-absolute"),
        _member("cifar-10-batches-py/link", tarfile.SYMTYPE, "../../etc/passwd"),
        _member("cifar-10-batches-py/abs", tarfile.SYMTYPE, "/etc/passwd"),
        _member("cifar-10-batches-py/hard", tarfile.LNKTYPE, "../outside"),
    ],
    ids=["dotdot", "nested-dotdot", "absolute", "symlink-out", "symlink-abs", "hardlink-out"],
)
def test_path_traversal_is_refused(tmp_path, member):
    tar = _tar_with(tmp_path / "evil.tar.gz", member)
    dest = tmp_path / "out" / "inner"
    with pytest.raises(DataError, match="refusing"):
        safe_extract(tar, dest)
    with pytest.raises(DataError, match="refusing unsafe archive"):
        read_tar_members(tar, ["cifar-10-batches-py/data_batch_1"])
    assert not (tmp_path / "out").exists() and not (tmp_path / "escaped").exists()
    d = tmp_path / "data"
    d.mkdir()
    os.replace(tar, d / "cifar-10-python.tar.gz")
    with pytest.raises(DataError, match="refusing unsafe archive"):
        load_dataset("cifar10", data_dir=d)


def test_safe_extract_extracts_a_benign_tarball(tmp_path):
    files = cifar_binary_files(_color())
    tar = write_tar(tmp_path / "cifar-10-binary.tar.gz", files, "cifar-10-batches-bin")
    out = safe_extract(tar, tmp_path / "out")
    assert sorted(p.name for p in (out / "cifar-10-batches-bin").iterdir()) == sorted(files)


def test_npz_with_pickled_objects_is_refused(tmp_path):
    a = {**_gray(), "class_names": np.array([{"x": 1}] * 10, dtype=object)}
    np.savez(tmp_path / "obj.npz", **a)
    with pytest.raises(DataError, match=r"stores Python objects"):
        load_dataset(f"npz:{tmp_path / 'obj.npz'}")


# ---------------------------------------------------------------- generic specs


def test_npz_spec(tmp_path):
    a = {**_color(), "class_names": np.array([f"c{i}" for i in range(10)])}
    np.savez_compressed(tmp_path / "mine.npz", **a, title=np.array("My data"))
    ds = load_dataset(f"npz:{tmp_path / 'mine.npz'}")
    assert (ds.title, ds.kind, ds.class_names[3]) == ("My data", "full", "c3")
    assert ds.source == f"npz {tmp_path.resolve() / 'mine.npz'}"
    np.savez_compressed(tmp_path / "plain.npz", **_gray())
    ds = load_dataset(f"npz:{tmp_path / 'plain.npz'}")
    assert ds.title == "plain.npz" and ds.image_shape == (28, 28, 1) and ds.n_classes == 10


def test_npz_spec_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match=r"is not a file"):
        load_dataset(f"npz:{tmp_path / 'nope.npz'}")
    np.savez(tmp_path / "bad.npz", x_train=np.zeros((2, 4, 4), np.uint8))
    with pytest.raises(DataError, match=r"lacks the key\(s\) y_train, x_test, y_test"):
        load_dataset(f"npz:{tmp_path / 'bad.npz'}")
    np.savez(tmp_path / "f.npz", **{**_gray(), "x_train": np.zeros((N_TRAIN, 28, 28), np.float32)})
    with pytest.raises(DataError, match=r"x_train has dtype float32; images must be uint8"):
        load_dataset(f"npz:{tmp_path / 'f.npz'}")
    with pytest.raises(KeyError, match=r"generic specs start with npz: or folder:"):
        load_dataset("zip:/x")
    with pytest.raises(KeyError, match=r"did you mean mnist"):
        load_dataset("mnits")


def _write_image(path: Path, img: np.ndarray) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    assert cv2.imwrite(str(path), img)


def test_folder_spec_with_train_test(tmp_path):
    for split, n in (("train", 3), ("test", 2)):
        for cls, bgr in (("blue", (255, 0, 0)), ("red", (0, 0, 255))):
            for i in range(n):
                _write_image(tmp_path / split / cls / f"{i}.png", np.full((6, 5, 3), bgr, np.uint8))
    (tmp_path / "train" / "red" / "notes.txt").write_text("ignored")
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.class_names == ("blue", "red") and ds.x_train.shape == (6, 6, 5, 3)
    assert ds.x_test.shape == (4, 6, 5, 3) and ds.source == f"folder {tmp_path.resolve()}"
    red = ds.x_train[ds.y_train == 1][0, 0, 0]
    np.testing.assert_array_equal(red, [255, 0, 0])  # BGR on disk -> RGB in memory


def test_folder_spec_flat_is_split_stratified_and_gray(tmp_path):
    for cls in ("a", "b", "c"):
        for i in range(10):
            _write_image(tmp_path / cls / f"{i:02d}.png", np.full((4, 4), i * 20, np.uint8))
    ds = load_dataset(f"folder:{tmp_path}")
    assert ds.x_train.shape == (24, 4, 4, 1) and ds.x_test.shape == (6, 4, 4, 1)
    assert np.bincount(ds.y_test).tolist() == [2, 2, 2]
    _cache.memoised.cache_clear()
    assert load_dataset(f"folder:{tmp_path}").fingerprint == ds.fingerprint


def test_folder_spec_size_mismatch_names_both_files(tmp_path):
    _write_image(tmp_path / "a" / "1.png", np.zeros((4, 4), np.uint8))
    _write_image(tmp_path / "b" / "2.png", np.zeros((5, 4), np.uint8))
    with pytest.raises(DataError) as info:
        load_dataset(f"folder:{tmp_path}")
    msg = str(info.value)
    assert str(tmp_path / "a" / "1.png") in msg and str(tmp_path / "b" / "2.png") in msg
    assert "4x5" in msg and "4x4" in msg


def test_folder_spec_errors(tmp_path):
    with pytest.raises(DataNotFoundError, match="is not a directory"):
        load_dataset(f"folder:{tmp_path / 'none'}")
    with pytest.raises(DataError, match="no class sub-folders"):
        load_dataset(f"folder:{tmp_path}")
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "bad.png").write_bytes(b"not a png")
    with pytest.raises(DataError, match=r"bad\.png: OpenCV cannot read"):
        load_dataset(f"folder:{tmp_path}")


# ---------------------------------------------------------------- digits, samples, subsets


def test_digits():
    ds = load_dataset("digits")
    assert ds.title == "digits (scikit-learn 8x8)" and ds.kind == "full"
    assert ds.x_train.shape[1:] == (8, 8, 1) and len(ds.y_train) + len(ds.y_test) == 1797
    assert ds.x_train.dtype == np.uint8 and ds.x_train.max() == 255
    assert abs(len(ds.y_test) / 1797 - 0.2) < 0.01
    _cache.memoised.cache_clear()
    assert load_dataset("digits").fingerprint == ds.fingerprint


@pytest.mark.parametrize(
    ("name", "shape", "title"),
    [
        ("mnist_sample", (28, 28, 1), "MNIST"),
        ("cifar10_sample", (32, 32, 3), "CIFAR-10 (JPEG copy)"),
    ],
)
def test_bundled_samples(name, shape, title):
    ds = load_dataset(name)
    assert ds.kind == "bundled sample" and ds.title == title
    assert ds.x_train.shape == (2000, *shape) and ds.x_test.shape == (1000, *shape)
    assert ds.source.startswith(f"bundled sample of {title}")
    assert np.bincount(ds.y_train).min() >= 150 and ds.n_classes == 10
    sub = load_dataset(name, n_train=100, n_test=50)
    assert sub.kind == "bundled sample" and len(sub.y_train) == 100


def test_arrays_are_read_only(tmp_path):
    np.savez_compressed(tmp_path / "mnist.npz", **_gray())
    ds = load_dataset("mnist", data_dir=tmp_path)
    for a in (ds.x_train, ds.y_train, ds.x_test, ds.y_test):
        with pytest.raises(ValueError, match="read-only"):
            a[0] = 1
    assert load_dataset("mnist", data_dir=tmp_path).x_train is ds.x_train  # memoised


def test_subset_is_stratified_seeded_and_fingerprinted():
    full = load_dataset("digits")
    a = load_dataset("digits", n_train=500, n_test=100, seed=3)
    b = load_dataset("digits", n_train=500, n_test=100, seed=3)
    c = load_dataset("digits", n_train=500, n_test=100, seed=4)
    assert a.kind == "subset" and a.x_train.shape == (500, 8, 8, 1) and len(a.y_test) == 100
    assert a.fingerprint == b.fingerprint != c.fingerprint != full.fingerprint
    assert a.fingerprint == fingerprint_arrays(a.x_train, a.y_train, a.x_test, a.y_test)
    expected = np.bincount(full.y_train) / len(full.y_train) * 500
    assert np.abs(np.bincount(a.y_train) - expected).max() <= 1
    assert "stratified subset 500/100, seed 3" in a.source
    only_train = load_dataset("digits", n_train=100)
    assert len(only_train.y_test) == len(full.y_test) and only_train.kind == "subset"
    assert load_dataset("digits", n_train=len(full.y_train)).kind == "full"


def test_subset_size_errors():
    with pytest.raises(ValueError, match=r"n_train=5000 but digits .* has only 1437 train images"):
        load_dataset("digits", n_train=5000)
    with pytest.raises(ValueError, match="cannot hold all 10 classes"):
        load_dataset("digits", n_test=5)
    with pytest.raises(ValueError, match=r"integer in 1\.\.10"):
        stratified_subset(np.zeros(10), np.arange(10) % 2, 0, seed=0)


@settings(max_examples=40, deadline=None)
@given(
    counts=st.lists(st.integers(1, 30), min_size=2, max_size=6),
    frac=st.floats(0.05, 1.0),
    seed=st.integers(0, 2**31),
)
def test_stratified_subset_property(counts, frac, seed):
    y = np.repeat(np.arange(len(counts)), counts)
    x = np.arange(len(y)) * 10
    n = max(len(counts), round(frac * len(y)))
    xs, ys = stratified_subset(x, y, n, seed)
    assert len(ys) == n and set(ys) == set(y)  # every class kept
    np.testing.assert_array_equal(xs // 10, np.sort(xs // 10))  # original order, no repeats
    assert len(set(xs.tolist())) == n
    np.testing.assert_array_equal(ys, y[xs // 10])
    np.testing.assert_array_equal(stratified_subset(x, y, n, seed)[0], xs)


def test_list_datasets():
    assert list_datasets() == [
        "cifar10",
        "cifar10_sample",
        "digits",
        "fashion_mnist",
        "mnist",
        "mnist_sample",
    ]
    assert list_datasets("*sample") == ["cifar10_sample", "mnist_sample"]


# ---------------------------------------------------------------- the real files


@pytest.mark.needs_data
def test_real_mnist(real_data_dir):
    if not (real_data_dir / "mnist.npz").is_file():
        pytest.skip(f"no mnist.npz in {real_data_dir}")
    ds = load_dataset("mnist", data_dir=real_data_dir)
    assert ds.x_train.shape == (60000, 28, 28, 1) and ds.x_test.shape == (10000, 28, 28, 1)
    assert np.bincount(ds.y_test).tolist() == [
        980,
        1135,
        1032,
        1010,
        982,
        892,
        958,
        1028,
        974,
        1009,
    ]
    sub = load_dataset("mnist", data_dir=real_data_dir, n_train=2000, n_test=1000)
    assert sub.kind == "subset" and np.bincount(sub.y_train).min() > 150


@pytest.mark.needs_data
def test_real_fashion_mnist(real_data_dir):
    if not (real_data_dir / "fashion-mnist.npz").is_file():
        pytest.skip(f"no fashion-mnist.npz in {real_data_dir}")
    ds = load_dataset("fashion_mnist", data_dir=real_data_dir)
    assert ds.x_train.shape == (60000, 28, 28, 1)
    assert np.bincount(ds.y_train).tolist() == [6000] * 10


@pytest.mark.slow
@pytest.mark.needs_data
def test_real_cifar10_jpeg_copy(real_data_dir, user_cache_dir):
    if not (real_data_dir / "cifar10-jpeg.npz").is_file():
        pytest.skip(f"no cifar10-jpeg.npz in {real_data_dir}")
    # the user's cache, so the ~11 s decode happens once, not in every test run
    ds = load_dataset("cifar10", data_dir=real_data_dir, cache_dir=user_cache_dir)
    assert ds.title == "CIFAR-10 (JPEG copy)" and ds.x_train.shape == (50000, 32, 32, 3)
    assert np.bincount(ds.y_test).tolist() == [1000] * 10
    assert ds.class_names == _formats.CIFAR10_CLASSES
