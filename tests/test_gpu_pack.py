"""scripts/gpu_pack.py: datasets cut into call-sized parts come back bit-identical."""

from __future__ import annotations

import importlib.util
import shutil
from pathlib import Path

import numpy as np
import pytest

from benchmarks.datasets import load_dataset

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_pack.py"


@pytest.fixture(scope="module")
def gpu_pack():
    spec = importlib.util.spec_from_file_location("gpu_pack", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.fixture
def data_dir(tmp_path):
    """A data folder with small Keras-format MNIST and CIFAR-10 (JPEG copy) files."""
    rng = np.random.default_rng(0)
    d = tmp_path / "data"
    d.mkdir()
    digits = (rng.random((900, 28, 28)) ** 8 * 255).astype(np.uint8)  # mostly dark
    np.savez(
        d / "mnist.npz",  # enough for gpu_bench --smoke (512 / 256)
        x_train=digits[:600],
        y_train=np.arange(600) % 10,
        x_test=digits[600:],
        y_test=np.arange(300) % 10,
    )
    photos = rng.integers(0, 256, (90, 32, 32, 3), dtype=np.uint8)
    np.savez(
        d / "cifar10-jpeg.npz",
        x_train=photos[:60],
        y_train=np.arange(60) % 10,
        x_test=photos[60:],
        y_test=np.arange(30) % 10,
    )
    return d


def test_pack_unpack_round_trip_is_bit_identical(gpu_pack, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_pack, "PART_BYTES", 40_000)
    calls = gpu_pack.pack(["mnist", "cifar10"], str(data_dir), tmp_path / "gpu", call_mb=0.15)
    assert len(calls) > 1, "random CIFAR images should need several calls at 150 kB each"
    for folder in calls:
        assert sum(f.stat().st_size for f in folder.iterdir()) <= 150_000
    assert {"mnist.json", "cifar10.json"} <= {f.name for f in calls[0].iterdir()}

    parts = tmp_path / "parts"  # what the device calls copy together
    parts.mkdir()
    for folder in calls:
        for f in folder.iterdir():
            shutil.copy(f, parts)
    written = gpu_pack.unpack(parts, tmp_path / "rebuilt")
    assert sorted(p.name for p in written) == ["cifar10-jpeg.npz", "mnist.npz"]
    for name in ("mnist", "cifar10"):
        a = load_dataset(name, data_dir=str(data_dir))
        b = load_dataset(name, data_dir=str(tmp_path / "rebuilt"))
        assert a.fingerprint == b.fingerprint and a.title == b.title
        np.testing.assert_array_equal(a.x_train, b.x_train)
        np.testing.assert_array_equal(a.y_test, b.y_test)


def test_unpack_refuses_damaged_or_missing_parts(gpu_pack, data_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(gpu_pack, "PART_BYTES", 40_000)
    (call,) = gpu_pack.pack(["cifar10"], str(data_dir), tmp_path / "gpu", call_mb=10)
    part = sorted(call.glob("cifar10.part-*"))[1]
    part.write_bytes(part.read_bytes()[:-1])
    with pytest.raises(SystemExit, match="SHA-256 mismatch"):
        gpu_pack.unpack(call, tmp_path / "out")
    part.unlink()
    with pytest.raises(SystemExit, match="is missing"):
        gpu_pack.unpack(call, tmp_path / "out")
    with pytest.raises(SystemExit, match="no <dataset>.json manifest"):
        gpu_pack.unpack(tmp_path, tmp_path / "out")


def test_device_script_receives_parts_call_by_call_then_benches(
    gpu_pack, data_dir, tmp_path, monkeypatch
):
    """scripts/gpu_device.sh on a copy of the tree: two 'calls', then a smoke bench."""
    import os
    import subprocess
    import sys

    repo = SCRIPT.parents[1]
    tree = tmp_path / "tree"  # a copy holding what one device call would see
    shutil.copytree(repo / "scripts", tree / "scripts")
    for pkg in ("benchmarks", "cnn", "features"):
        shutil.copytree(repo / pkg, tree / pkg, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(gpu_pack, "PART_BYTES", 40_000)
    calls = gpu_pack.pack(["mnist", "cifar10"], str(data_dir), tmp_path / "packed", call_mb=0.15)
    assert len(calls) >= 2
    bindir = tmp_path / "bin"  # python3 on PATH is this interpreter (the GPU image's is)
    bindir.mkdir()
    (bindir / "python3").write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
    (bindir / "python3").chmod(0o755)
    env = {
        **os.environ,
        "PATH": f"{bindir}{os.pathsep}{os.environ['PATH']}",
        "CVBENCH_PARTS_DIR": str(tmp_path / "parts"),
        "CVBENCH_GPU_DATA": str(tmp_path / "data-rebuilt"),
        "OUT": str(tmp_path / "out"),
        "KERAS_BACKEND": "tensorflow",
    }
    (tmp_path / "out").mkdir()
    for i, folder in enumerate(calls, start=1):
        if (tree / ".gpu").exists():
            shutil.rmtree(tree / ".gpu")
        shutil.copytree(folder, tree / ".gpu" / folder.name)  # this call carries one folder
        last = i == len(calls)
        argv = [
            "bash",
            "scripts/gpu_device.sh",
            *(["bench", "--smoke", "--only", "mnist"] if last else ["receive"]),
        ]
        done = subprocess.run(argv, cwd=tree, env=env, capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
    assert (tmp_path / "data-rebuilt" / "mnist.npz").is_file()
    rows = (tmp_path / "out" / "gpu_bench.csv").read_text().splitlines()
    assert len(rows) == 2 and rows[1].startswith("mnist,simple_convnet,tensorflow")
