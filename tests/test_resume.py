"""A killed run loses nothing it finished, and --resume completes it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd


def test_killed_run_resumes_without_losing_rows(tmp_path):
    out = tmp_path / "results"
    argv = [
        sys.executable, "-m", "benchmarks.run", "--datasets", "digits",
        "--methods", "raw+logreg,raw+knn,raw+sgd,raw+random_forest", "--seeds", "0,1",
        "--out", str(out), "--run-id", "k", "--executor", "inline", "--no-cache",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cells = out / "k" / "cells"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and len(list(cells.glob("*.json"))) < 2:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    first = {p.name: p.read_text() for p in cells.glob("*.json")}
    assert 2 <= len(first) < 8, "the kill should land mid-run"

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--resume", str(out / "k"), "--executor", "inline"],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert f"{8 - len(first)} cells to run" in done.stdout
    for name, text in first.items():  # finished rows are kept as they were
        assert (cells / name).read_text() == text
    df = pd.read_csv(out / "k" / "results.csv")
    assert len(df) == 8 and df["error"].isna().all()
    assert len(json.loads((out / "k" / "run.json").read_text())["cells"]) == 8


def test_cell_process_ends_when_the_runner_is_killed(tmp_path):
    """No orphan: killing the runner also ends the cell process it spawned."""
    import psutil

    out = tmp_path / "results"
    argv = [
        sys.executable, "-m", "benchmarks.run", "--datasets", "digits",
        "--methods", "raw+random_forest", "--out", str(out), "--run-id", "o", "--no-cache",
    ]  # fmt: skip
    # a cell that runs long enough to be killed mid-way
    cfg = tmp_path / "slow.toml"
    cfg.write_text(
        '[[params]]\nmethod = "raw+random_forest"\nclassifier = { n_estimators = 20000 }\n'
    )
    proc = psutil.Popen(
        [*argv, "--config", str(cfg)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    deadline = time.monotonic() + 120
    children = []
    while time.monotonic() < deadline and not children:
        children = [c for c in proc.children(recursive=True) if "spawn" in " ".join(c.cmdline())]
        time.sleep(0.1)
    assert children, "the runner should have spawned a cell process"
    proc.kill()
    proc.wait()
    gone, alive = psutil.wait_procs(children, timeout=15)
    for p in alive:
        p.kill()
    assert not alive, "the cell process outlived its runner"


def test_killed_cnn_cell_resumes_after_its_last_epoch(tmp_path):
    """A kill mid-training loses at most the epoch in progress: --resume goes on from the last."""
    out = tmp_path / "results"
    cfg = tmp_path / "cnn.toml"
    cfg.write_text(
        '[run]\ndatasets = ["mnist_sample"]\nmethods = ["simple_convnet"]\ncv_dnn = false\n'
        '[[params]]\nmethod = "simple_convnet"\nepochs = 6\nbatch_size = 32\n'
        "validation_split = 0.0\neval_test_each_epoch = true\ncheckpoint_every_s = 0\n"
    )
    argv = [
        sys.executable, "-m", "benchmarks.run", "--config", str(cfg), "--out", str(out),
        "--run-id", "c", "--n-train", "1000", "--n-test", "200", "--no-cache",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    cells = out / "c" / "cells"
    deadline = time.monotonic() + 180
    latest = []
    while time.monotonic() < deadline and not latest and proc.poll() is None:
        latest = list(cells.glob("*.partial/checkpoint/latest"))
        time.sleep(0.02)
    proc.send_signal(signal.SIGKILL)  # the cell process follows its runner
    proc.wait()
    assert latest, "the cell should have written an epoch checkpoint before the kill"
    assert not list(cells.glob("*.json")), "the kill should land mid-training"

    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.run", "--resume", str(out / "c")],
        env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    row = pd.read_csv(out / "c" / "results.csv").iloc[0]
    assert row["error"] != row["error"]  # NaN: no error
    assert 1 <= row["resumed_epochs"] < 6 and row["epochs_run"] == 6
    assert not list(cells.glob("*.partial")), "the finished cell's work dir is gone"
    assert f"(resumed after epoch {row['resumed_epochs']})" in (out / "c" / "report.md").read_text()
