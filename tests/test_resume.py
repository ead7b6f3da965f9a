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
