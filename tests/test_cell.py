"""One cell end to end on scikit-learn's bundled digits (no files needed)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from benchmarks.cell import CellConfig, count_parameters, measure_latency_ms, run_cell
from benchmarks.results import COLUMNS


def test_cell_id_is_stable_and_config_sensitive():
    a = CellConfig("digits", "raw+logreg", seed=0, params={"classifier": {"C": 1.0}})
    b = CellConfig("digits", "raw+logreg", seed=0, params={"classifier": {"C": 1.0}}, run_id="x")
    c = CellConfig("digits", "raw+logreg", seed=0, params={"classifier": {"C": 2.0}})
    assert a.cell_id == b.cell_id != c.cell_id
    assert a.cell_id.startswith("digits__raw+logreg__s0__")


def test_classical_cell_row(tmp_path):
    row = run_cell(CellConfig("digits", "raw+logreg", seed=0, cache_dir=str(tmp_path)))
    assert row["error"] == "", row["error"]
    assert set(row) <= set(COLUMNS)
    assert row["accuracy"] > 0.9 and 0.9 < row["macro_f1"] <= 1.0
    assert row["n_features"] == 64
    assert row["n_params"] >= 10 * 64 + 10  # logreg coefficients at least
    assert row["fit_s"] > 0 and row["extract_images_per_s"] > 0 and row["latency_batch1_ms"] > 0
    assert row["model_bytes"] > 0 and row["peak_rss_mb"] > 0
    assert row["dataset_title"] and row["data_kind"] == "full"
    assert json.loads(row["params_json"]) == {}


def test_failing_cell_becomes_error_row():
    row = run_cell(CellConfig("digits", "raw+logreg", params={"classifier": {"C": "oops"}}))
    assert row["error"].startswith(("InvalidParameterError", "ValueError", "TypeError"))
    assert row.get("accuracy") is None
    missing = run_cell(CellConfig("npz:/nonexistent/x.npz", "raw+logreg"))
    assert missing["error"] and "nonexistent" in missing["error"]


def test_count_parameters_pipeline_and_tree():
    from sklearn.tree import DecisionTreeClassifier

    from benchmarks.methods import build_method

    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, size=(60, 8, 8, 1), dtype=np.uint8)
    y = np.arange(60) % 3
    est = build_method("raw+logreg").fit(x, y)
    n = count_parameters(est)
    assert n >= 3 * 64 + 3 + 2 * 64  # coef + intercept + scaler mean and scale
    tree = DecisionTreeClassifier(random_state=0).fit(x.reshape(60, -1), y)
    assert count_parameters(tree) >= tree.tree_.node_count


def test_measure_latency_median_positive():
    calls = []
    ms = measure_latency_ms(lambda one: calls.append(one.shape), np.zeros((4, 2, 2, 1)), repeats=5)
    assert ms >= 0
    assert len(calls) == 3 + 5 and calls[0] == (1, 2, 2, 1)


@pytest.mark.parametrize("method", ["raw+logreg"])
def test_subset_sizes_are_honoured(method):
    row = run_cell(CellConfig("digits", method, seed=1, n_train=200, n_test=100))
    assert row["error"] == "", row["error"]
    assert (row["n_train"], row["n_test"], row["data_kind"]) == (200, 100, "subset")
