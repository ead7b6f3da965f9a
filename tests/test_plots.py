"""Plots of a run: learning curves, Pareto front, ablation gaps; never fatal."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
from rows import result_row

from benchmarks import plots
from benchmarks.report import ablation_table, render_report
from benchmarks.results import COLUMNS, RunDir


def _row(cell_id, method, acc, ips, train_acc=None, history=True, seed=0):
    row = result_row(
        cell_id,
        method,
        acc,
        seed=seed,
        train_accuracy=train_acc if train_acc is not None else min(1.0, acc + 0.02),
        predict_images_per_s=ips,
        fit_s=2.0,
    )
    if history:
        hist = {
            "loss": [1.0, 0.5],
            "accuracy": [0.6, 0.8],
            "val_loss": [1.1, 0.7],
            "val_accuracy": [0.55, acc],
        }
        row["history_json"] = json.dumps(
            {"history": hist, "epoch_times_s": [1.0, 0.5], "validation": "test"}
        )
        row["time_to_target_s"] = json.dumps({"0.95": 1.5 if acc >= 0.95 else None})
        row["train_images_per_s"] = 200.0
    return row


def _frame(tmp_path):
    run = RunDir(tmp_path)
    run.add(_row("a", "raw+logreg", 0.90, 5e4, history=False))
    run.add(_row("b", "hog+linear_svc", 0.95, 2e3, history=False))
    run.add(_row("c", "pca+logreg", 0.85, 1e3, history=False))  # dominated by a and b
    run.add(_row("d", "cnn_bn@baseline", 0.97, 500.0, train_acc=1.0))
    run.add(_row("e", "cnn_bn@no_batch_norm", 0.92, 600.0, train_acc=0.99))
    return run.frame()


def test_pareto_front_mask():
    acc = np.array([0.90, 0.95, 0.85, 0.97, 0.92])
    ips = np.array([5e4, 2e3, 1e3, 500.0, 600.0])
    assert plots.pareto_front(acc, ips).tolist() == [True, True, False, True, False]


def test_write_plots_and_report_embeds_them(tmp_path):
    df = _frame(tmp_path)
    written = plots.write_plots(tmp_path, df)
    names = sorted(p.name for p in written)
    assert names == sorted(
        ["curve__d.png", "curve__e.png", "pareto__digits.png", "ablation__digits__cnn_bn.png"]
    )
    for p in written:
        assert p.parent == tmp_path / "plots" and p.read_bytes()[:4] == b"\x89PNG"
    table = ablation_table(df)
    assert table["variant"].tolist() == ["baseline", "no_batch_norm"]
    assert np.allclose(table["gap"], [0.03, 0.07])
    text = render_report(df, {"run_id": "r"}, run_dir=tmp_path)
    assert "![accuracy vs speed, digits](plots/pareto__digits.png)" in text
    assert "](plots/ablation__digits__cnn_bn.png)" in text and "](plots/curve__d.png)" in text
    assert "| baseline" in text and "+3.00 pts" in text and "+7.00 pts" in text
    assert "## Time to accuracy" in text and "not reached" in text and "to 95% s" in text
    # without a run directory (or before the plots exist) nothing is embedded
    assert "![" not in render_report(df, {"run_id": "r"})


def test_a_failing_plot_warns_and_the_rest_go_on(tmp_path, capsys):
    df = _frame(tmp_path)
    df.loc[df["cell_id"] == "d", "history_json"] = "{not json"
    written = plots.write_plots(tmp_path, df)
    assert "curve__e.png" in {p.name for p in written} and "curve__d.png" not in {
        p.name for p in written
    }
    err = capsys.readouterr().err
    assert "warning: plot 'learning curve digits cnn_bn@baseline seed=0' failed" in err
    # an unreadable run directory is a warning too, not an exception
    assert plots.write_plots(tmp_path / "missing") == []
    assert "warning: plots of" in capsys.readouterr().err


def test_report_without_new_columns_still_renders(tmp_path):
    df = _frame(tmp_path).drop(columns=["train_images_per_s", "time_to_target_s"])
    assert "## Ablation" in render_report(df, {})
    assert set(COLUMNS) >= {"train_images_per_s", "time_to_target_s", "stopped_by"}
    assert isinstance(pd.DataFrame(), pd.DataFrame)
