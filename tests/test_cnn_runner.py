"""CNN cells through the runner: time to accuracy, method variants, ablation and CIFAR configs."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

import cnn
from benchmarks.cell import CellConfig, run_cell
from benchmarks.methods import build_method, expand_methods, parse_method
from benchmarks.profiles import load_config
from benchmarks.results import COLUMNS
from benchmarks.run import build_cells, main

CONFIGS = Path(__file__).resolve().parents[1] / "benchmarks" / "configs"
TINY_BN = {"filters": [4, 8], "convs_per_block": 1}


def test_variant_names_parse_and_build_the_base_method():
    spec = parse_method("cnn_bn@no_batch_norm")
    assert (spec.family, spec.model, spec.variant, spec.base) == (
        "cnn",
        "cnn_bn",
        "no_batch_norm",
        "cnn_bn",
    )
    assert spec.name == "cnn_bn@no_batch_norm"
    assert parse_method("cnn_bn").variant is None
    classical = parse_method("hog+linear_svc@c1")
    assert (classical.feature, classical.classifier, classical.variant) == (
        "hog",
        "linear_svc",
        "c1",
    )
    est = build_method("cnn_bn@x", {"epochs": 1}, seed=0)
    assert est.model == "cnn_bn" and est.epochs == 1
    assert expand_methods(["cnn_bn@a,cnn_bn@b", "cnn_bn@a"]) == ["cnn_bn@a", "cnn_bn@b"]
    for bad in ("cnn_bn@", "cnn_bn@a@b", "cnn_bn@a b"):
        with pytest.raises(ValueError, match="variant"):
            parse_method(bad)
    with pytest.raises(KeyError, match="unknown model"):
        parse_method("cnn_bm@x")


def test_eval_test_each_epoch_gives_time_to_target_and_throughput(tmp_path):
    params = {
        "epochs": 3,
        "batch_size": 64,
        "eval_test_each_epoch": True,
        "accuracy_targets": [0.3, 0.999],
    }
    cfg = CellConfig("mnist_sample", "simple_convnet", params=params, n_train=300, n_test=100)
    row = run_cell(cfg)
    assert row["error"] == "", row["error"]
    assert set(row) <= set(COLUMNS)
    payload = json.loads(row["history_json"])
    assert payload["validation"] == "test"
    hist, times = payload["history"], payload["epoch_times_s"]
    assert len(hist["val_accuracy"]) == 3  # the test split after every epoch
    # the last epoch's test accuracy is the row's accuracy: same weights, same images
    assert hist["val_accuracy"][-1] == pytest.approx(row["accuracy"], abs=1e-6)
    tts = json.loads(row["time_to_target_s"])
    assert set(tts) == {"0.3", "0.999"} and tts["0.999"] is None
    assert tts["0.3"] == pytest.approx(cnn.time_to_accuracy(hist, times, 0.3), abs=1e-3)
    assert row["train_images_per_s"] > 0 and row["stopped_by"] is None

    plain = run_cell(
        CellConfig("mnist_sample", "simple_convnet", params={"epochs": 1}, n_train=300, n_test=100)
    )
    assert plain["error"] == "", plain["error"]
    assert plain.get("time_to_target_s") is None
    assert json.loads(plain["history_json"])["validation"] == "split"


def test_default_targets_by_image_kind():
    from benchmarks.cell import _accuracy_targets

    assert _accuracy_targets({}, (28, 28, 1)) == (0.99,)
    assert _accuracy_targets({}, (32, 32, 3)) == (0.90, 0.94)
    assert _accuracy_targets({"accuracy_targets": 0.5}, (32, 32, 3)) == (0.5,)
    with pytest.raises(ValueError, match="accuracy_targets"):
        _accuracy_targets({"accuracy_targets": [1.5]}, (28, 28, 1))


def test_ablation_toml_mirrors_ablation_configs():
    plan = load_config(CONFIGS / "ablation.toml")
    expected = cnn.ablation_configs()
    methods = expand_methods(plan.methods)
    assert [m.partition("@")[2] for m in methods] == list(expected)
    for method in methods:
        variant = method.partition("@")[2]
        params = plan.params_for("cifar10", method)
        assert params["model_params"] == expected[variant]["model_params"], variant
        assert params.get("augment") == expected[variant]["augment"], variant
        assert params["eval_test_each_epoch"] is True and "early_stopping" not in params


def test_cnn_cifar_toml_runs_one_model_per_dataset():
    plan = load_config(CONFIGS / "cnn_cifar.toml")
    cells = build_cells(plan, data_dir=None, cache_dir=None, run_id="r")
    assert [(c.dataset, c.method) for c in cells] == [
        ("mnist", "simple_convnet"),
        ("cifar10", "cnn_bn"),
    ]
    mnist, cifar = (c.params for c in cells)
    assert "skip" not in mnist and mnist["epochs"] == 15
    assert cifar["batch_size"] == 256 and cifar["optimizer"] == "adamw"
    assert cifar["lr_schedule"] == "one_cycle" and cifar["max_time_s"] <= 1800
    for p in (mnist, cifar):  # every parameter is a KerasClassifier keyword or the runner's
        build_method(
            cells[0].method,
            {k: v for k, v in p.items() if k not in ("eval_test_each_epoch", "accuracy_targets")},
        )


def test_ablation_run_writes_gap_table_plots_and_report(tmp_path, capsys):
    config = tmp_path / "abl.toml"
    config.write_text(
        f"""
[run]
datasets = ["mnist_sample"]
methods = ["cnn_bn@baseline", "cnn_bn@no_batch_norm", "raw+logreg"]
cv_dnn = false

[[params]]
method = "cnn_bn@*"
epochs = 2
batch_size = 64
eval_test_each_epoch = true
model_params = {{ filters = {TINY_BN["filters"]}, convs_per_block = 1 }}

[[params]]
method = "cnn_bn@no_batch_norm"
model_params = {{ batch_norm = false }}
"""
    )
    out = tmp_path / "results"
    argv = ["--config", str(config), "--n-train", "300", "--n-test", "100", "--executor", "inline"]
    argv += ["--out", str(out), "--run-id", "abl", "--cache-dir", str(tmp_path / "cache")]
    assert main(argv) == 0
    run = out / "abl"
    df = pd.read_csv(run / "results.csv")
    assert list(df.columns) == list(COLUMNS)
    assert df["error"].isna().all(), df["error"].tolist()
    cnn_rows = df[df["family"] == "cnn"]
    assert set(cnn_rows["model"]) == {"cnn_bn"} and len(cnn_rows) == 2
    assert cnn_rows["time_to_target_s"].notna().all() and (cnn_rows["train_images_per_s"] > 0).all()
    params = cnn_rows.set_index("method")["params_json"].map(json.loads)
    assert params["cnn_bn@no_batch_norm"]["model_params"]["batch_norm"] is False
    assert "batch_norm" not in params["cnn_bn@baseline"]["model_params"]
    pngs = sorted(p.name for p in (run / "plots").glob("*.png"))
    assert len([p for p in pngs if p.startswith("curve__")]) == 2
    assert "pareto__mnist_sample.png" in pngs and "ablation__mnist_sample__cnn_bn.png" in pngs
    report = (run / "report.md").read_text()
    assert "## Ablation: `cnn_bn` on `mnist_sample`" in report
    assert "| no_batch_norm" in report and "gap (train - test)" in report
    assert "](plots/ablation__mnist_sample__cnn_bn.png)" in report
    assert "](plots/pareto__mnist_sample.png)" in report
    assert "## Time to accuracy" in report and "## Learning curves" in report
    for rel in (
        line.split("](")[1].rstrip(")") for line in report.splitlines() if line.startswith("![")
    ):
        assert (run / rel).is_file(), rel
