"""Result rows: schema, durable per-cell files, CSV and report."""

from __future__ import annotations

import pandas as pd
import pytest
from rows import result_row

from benchmarks.report import render_report, summarize
from benchmarks.results import COLUMNS, RunDir, atomic_write_text


def _row(cell_id, method, acc, seed=0, error=""):
    return result_row(cell_id, method, acc, seed=seed, error=error)


def test_schema_is_snake_case_and_unique():
    assert len(COLUMNS) == len(set(COLUMNS))
    assert all(c == c.lower() and " " not in c for c in COLUMNS)
    for needed in (
        "accuracy",
        "macro_f1",
        "fit_s",
        "peak_rss_mb",
        "git_commit",
        "error",
        "params_json",
    ):
        assert needed in COLUMNS


def test_rundir_persists_each_row_and_rebuilds_csv(tmp_path):
    run = RunDir(tmp_path / "run")
    run.add(_row("a", "raw+logreg", 0.9))
    run.add(_row("b", "hog+logreg", 0.95, seed=1))
    run.add(_row("c", "hog+linear_svc", float("nan"), seed=2, error="ValueError: boom"))
    df = pd.read_csv(run.csv_path)
    assert list(df.columns) == list(COLUMNS)
    assert len(df) == 3
    assert run.finished() == {"a", "b"}
    # a fresh RunDir on the same path sees the same rows (what --resume relies on)
    assert RunDir(tmp_path / "run").finished() == {"a", "b"}


def test_rundir_adopts_a_committed_csv_without_cells(tmp_path):
    import shutil

    run = RunDir(tmp_path / "run")
    run.add(_row("a", "raw+logreg", 0.9))
    run.add(_row("c", "hog+linear_svc", float("nan"), seed=2, error="ValueError: boom"))
    before = pd.read_csv(run.csv_path)
    shutil.rmtree(run.cells)  # what a fresh clone of a committed run looks like
    again = RunDir(tmp_path / "run")
    assert again.finished() == {"a"}  # the failed cell is still rerun by --resume
    again.add(_row("d", "pca+logreg", 0.8, seed=3))
    after = pd.read_csv(run.csv_path)
    assert list(after["cell_id"]) == ["a", "c", "d"]  # nothing committed was dropped
    pd.testing.assert_frame_equal(after.iloc[:2], before)
    with open(tmp_path / "bad.csv", "w") as f:
        f.write("x,y\n1,2\n")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad.csv").rename(tmp_path / "bad" / "results.csv")
    with pytest.raises(ValueError, match="no cell_id column"):
        RunDir(tmp_path / "bad")


def test_row_outside_schema_is_refused(tmp_path):
    with pytest.raises(ValueError, match="outside the schema"):
        RunDir(tmp_path).add({"cell_id": "x", "acuracy": 1.0})


def test_corrupt_cell_file_names_the_file(tmp_path):
    run = RunDir(tmp_path)
    (run.cells / "bad.json").write_text("{not json")
    with pytest.raises(ValueError, match="bad.json"):
        run.rows()


def test_atomic_write_leaves_no_temp_files(tmp_path):
    target = tmp_path / "f.txt"
    atomic_write_text(target, "one")
    atomic_write_text(target, "two")
    assert target.read_text() == "two"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["f.txt"]


def test_report_sorts_by_accuracy_and_lists_failures(tmp_path):
    run = RunDir(tmp_path)
    run.add(_row("a", "raw+logreg", 0.90))
    run.add(_row("b", "hog+logreg", 0.97))
    run.add(_row("b1", "hog+logreg", 0.95, seed=1))
    run.add(_row("c", "hog+linear_svc", None, error="ValueError: boom"))
    df = run.frame()
    summary = summarize(df)
    assert list(summary["method"]) == ["hog+logreg", "raw+logreg"]
    assert summary.iloc[0]["accuracy"] == pytest.approx(0.96)
    text = render_report(df, {"run_id": "r", "command": "python -m benchmarks.run"})
    assert text.index("hog+logreg") < text.index("raw+logreg")
    assert "96.00% ± 1.41 (n=2)" in text
    assert "## Failed cells" in text and "ValueError: boom" in text


def test_report_adds_cv_dnn_line_for_cnn_rows(tmp_path):
    run = RunDir(tmp_path)
    row = _row("k", "simple_convnet", 0.99)
    row.update(cv_dnn_accuracy=0.989, cv_dnn_images_per_s=9000.0, cv_dnn_latency_batch1_ms=0.1)
    run.add(row)
    summary = summarize(run.frame())
    cv = summary[summary["method"] == "simple_convnet (cv2.dnn)"].iloc[0]
    assert cv["accuracy"] == pytest.approx(0.989)
    assert cv["predict_images_per_s"] == pytest.approx(9000.0)
    assert pd.isna(cv["fit_s"])


def test_report_says_when_a_run_is_incomplete(tmp_path):
    run = RunDir(tmp_path)
    run.add(_row("a", "raw+logreg", 0.9))
    meta = {"run_id": "r", "cells": [{"cell_id": "a"}, {"cell_id": "b"}, {"cell_id": "c"}]}
    assert "1 of 3 planned cells" in render_report(run.frame(), meta)
    meta["cells"] = meta["cells"][:1]
    assert "incomplete" not in render_report(run.frame(), meta)


def test_atomic_write_gives_files_the_umask_mode(tmp_path):
    """Like open(): not mkstemp's owner-only 0600, so shared result folders stay readable."""
    import os

    old = os.umask(0o022)
    try:
        atomic_write_text(tmp_path / "a.csv", "x\n")
    finally:
        os.umask(old)
    assert (tmp_path / "a.csv").stat().st_mode & 0o777 == 0o644
