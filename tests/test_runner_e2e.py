"""The runner end to end: quick profile on tiny subsets of the bundled samples."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from benchmarks.results import COLUMNS
from benchmarks.run import main


def test_list_prints_registries(capsys):
    assert main(["--list"]) == 0
    out = capsys.readouterr().out
    for word in ("features", "classifiers", "models", "datasets", "hog", "simple_convnet"):
        assert word in out
    assert main(["--list", "*svc*"]) == 0
    out = capsys.readouterr().out
    assert "linear_svc" in out and "simple_convnet" not in out


def test_dry_run_and_bad_method(capsys):
    assert main(["--dry-run", "--methods", "raw+*", "--datasets", "digits"]) == 0
    assert "raw+logreg" in capsys.readouterr().out
    with pytest.raises(SystemExit) as info:
        main(["--dry-run", "--methods", "hogg+logreg"])
    assert info.value.code == 2
    assert "did you mean hog" in capsys.readouterr().err


def test_quick_profile_end_to_end(tmp_path, capsys):
    out = tmp_path / "results"
    argv = [
        "--profile",
        "quick",
        "--n-train",
        "400",
        "--n-test",
        "200",
        "--out",
        str(out),
        "--run-id",
        "e2e",
        "--cache-dir",
        str(tmp_path / "cache"),
    ]
    assert main(argv) == 0
    csv = out / "e2e" / "results.csv"
    df = pd.read_csv(csv)
    assert list(df.columns) == list(COLUMNS)
    assert set(df["dataset"]) == {"mnist_sample", "cifar10_sample"}
    assert set(df["method"]) == {"raw+logreg", "hog+linear_svc", "simple_convnet"}
    assert df["error"].isna().all(), df["error"].tolist()
    assert (df["n_train"] == 400).all() and (df["n_test"] == 200).all()
    acc = df.set_index(["dataset", "method"])["accuracy"]
    # sane, not tuned: far above chance (10%) on 400 training images
    assert acc["mnist_sample", "raw+logreg"] > 0.75
    assert acc["mnist_sample", "hog+linear_svc"] > 0.85
    assert acc["mnist_sample", "simple_convnet"] > 0.5
    assert acc["cifar10_sample", "hog+linear_svc"] > 0.2
    for col in ("fit_s", "predict_images_per_s", "latency_batch1_ms", "peak_rss_mb", "n_params"):
        assert (df[col] > 0).all(), col
    cnn = df[df["method"] == "simple_convnet"].iloc[0]
    assert cnn["family"] == "cnn" and cnn["epochs_run"] == 4
    assert len(json.loads(cnn["history_json"])["history"]["loss"]) == 4
    # the same trained CNN through OpenCV's dnn module agrees with Keras
    assert abs(cnn["cv_dnn_accuracy"] - cnn["accuracy"]) <= 0.01
    assert cnn["cv_dnn_images_per_s"] > 0 and cnn["cv_dnn_latency_batch1_ms"] > 0
    report = (out / "e2e" / "report.md").read_text()
    assert "simple_convnet (cv2.dnn)" in report
    assert "bundled" in report.lower() and "hog+linear_svc" in report
    printed = capsys.readouterr().out
    assert "wrote" in printed

    # a resumed run has nothing left to do and keeps every row
    assert main(["--resume", str(out / "e2e")]) == 0
    assert "0 cells to run" in capsys.readouterr().out
    assert len(pd.read_csv(csv)) == len(df)
