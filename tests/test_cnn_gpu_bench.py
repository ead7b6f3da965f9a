"""The GPU benchmark script runs end to end on the CPU with --smoke."""

from __future__ import annotations

import csv
import importlib.util
import json
import os
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
pytest.importorskip("keras")

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "gpu_bench.py"
DATA_DIR = os.environ.get("CVBENCH_DATA_DIR")


def _load_script():
    spec = importlib.util.spec_from_file_location("gpu_bench", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _check(rows, out):
    assert [(r["dataset"], r["model"]) for r in rows] == [
        ("mnist", "simple_convnet"),
        ("cifar10", "resnet20"),
        ("cifar10", "resnet9"),
    ]
    with open(out, newline="") as f:
        read = list(csv.DictReader(f))
    assert len(read) == 3
    for r in read:
        assert r["backend"] and r["device"]
        assert 0.0 <= float(r["test_accuracy"]) <= 1.0
        assert float(r["infer_images_per_s_b1024"]) > 0 and float(r["latency_b1_ms"]) > 0
        assert isinstance(json.loads(r["time_to_target_s"]), dict)
        assert len(json.loads(r["epoch_test_accuracy"])) == int(r["epochs_run"]) == 1
    assert int(read[1]["n_params"]) == 271_098 and int(read[2]["n_params"]) == 6_577_600


def test_gpu_bench_only_selects_cells(tmp_path):
    out = tmp_path / "rows.csv"
    rows = _load_script().main(["--smoke", "--synthetic", "--only", "mnist", "--out", str(out)])
    assert [r["model"] for r in rows] == ["simple_convnet"]


def test_gpu_bench_smoke_synthetic(tmp_path):
    out = tmp_path / "rows.csv"
    rows = _load_script().main(["--smoke", "--synthetic", "--out", str(out)])
    _check(rows, out)


@pytest.mark.needs_data
@pytest.mark.skipif(not DATA_DIR, reason="CVBENCH_DATA_DIR not set")
@pytest.mark.slow
def test_gpu_bench_smoke_real_data(tmp_path):
    out = tmp_path / "rows.csv"
    rows = _load_script().main(["--smoke", "--data-dir", DATA_DIR, "--out", str(out)])
    _check(rows, out)
