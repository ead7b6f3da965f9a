"""PNG plots of a run, written under ``RUN_DIR/plots/`` and embedded by the report.

- ``curve__<cell_id>.png``: per CNN row, loss and accuracy per epoch (train and
  validation, or test when the cell ran with ``eval_test_each_epoch``), from
  ``history_json``;
- ``pareto__<dataset>.png``: per dataset, test accuracy against inference
  images/s (log x), one point per method (median over seeds), Pareto front
  highlighted;
- ``ablation__<dataset>__<base>.png``: per dataset and base method with
  ``base@variant`` rows, train and test accuracy per variant and their gap.

Figures are drawn on :class:`matplotlib.figure.Figure` objects (Agg canvas, no
pyplot, no display). :func:`write_plots` never raises: a failing plot prints a
warning naming it and the others go on.
"""

from __future__ import annotations

import json
import os
import re
import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "PLOTS_DIR",
    "ablation_plot_name",
    "curve_plot_name",
    "pareto_front",
    "pareto_plot_name",
    "plot_ablation_gap",
    "plot_learning_curve",
    "plot_pareto",
    "write_plots",
]

#: Sub-directory of the run directory that holds the PNGs.
PLOTS_DIR = "plots"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.+-]+", "-", str(text)).strip("-")[-80:] or "x"


def curve_plot_name(cell_id: str) -> str:
    """Run-directory-relative path of a row's learning-curve PNG."""
    return f"{PLOTS_DIR}/curve__{_slug(cell_id)}.png"


def pareto_plot_name(dataset: str) -> str:
    return f"{PLOTS_DIR}/pareto__{_slug(dataset)}.png"


def ablation_plot_name(dataset: str, base: str) -> str:
    return f"{PLOTS_DIR}/ablation__{_slug(dataset)}__{_slug(base)}.png"


def _ok(df: pd.DataFrame) -> pd.DataFrame:
    return df[df["error"].fillna("") == ""]


def _figure(w: float, h: float):
    from matplotlib.figure import Figure

    return Figure(figsize=(w, h), dpi=100)


def _history(row) -> dict | None:
    raw = row.get("history_json") if hasattr(row, "get") else None
    if not isinstance(raw, str) or not raw:
        return None
    payload = json.loads(raw)
    return payload if payload.get("history", {}).get("loss") else None


def plot_learning_curve(row, path: str | os.PathLike) -> Path:
    """Loss and accuracy per epoch of one CNN row (``history_json``) into ``path``."""
    payload = _history(row)
    if payload is None:
        raise ValueError(f"row {row.get('cell_id')} has no per-epoch history")
    hist = payload["history"]
    held_out = "test" if payload.get("validation") == "test" else "val"
    epochs = np.arange(1, len(hist["loss"]) + 1)
    fig = _figure(9, 3.5)
    axes = fig.subplots(1, 2)
    for ax, metric in zip(axes, ("loss", "accuracy"), strict=True):
        ax.plot(epochs, hist[metric], "o-", label=f"train {metric}")
        if hist.get(f"val_{metric}"):
            ax.plot(epochs, hist[f"val_{metric}"], "s-", label=f"{held_out} {metric}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(metric)
        ax.grid(alpha=0.3)
        ax.legend()
    title = f"{row.get('method')} on {row.get('dataset')}, seed {row.get('seed')}"
    times = payload.get("epoch_times_s") or []
    if times:
        title += f" ({sum(times):.1f} s training)"
    fig.suptitle(title)
    return _save(fig, path)


def pareto_front(accuracy, speed) -> np.ndarray:
    """Boolean mask of the points no other point beats on both accuracy and speed."""
    acc, spd = np.asarray(accuracy, float), np.asarray(speed, float)
    mask = np.zeros(len(acc), bool)
    best = -np.inf
    for i in sorted(range(len(acc)), key=lambda i: (-spd[i], -acc[i])):
        if acc[i] > best:
            mask[i], best = True, acc[i]
    return mask


def plot_pareto(summary: pd.DataFrame, path: str | os.PathLike, title: str = "") -> Path:
    """Accuracy against ``predict_images_per_s`` (log x) of a dataset's summary lines.

    ``summary`` has ``method``, ``accuracy`` and ``predict_images_per_s``
    (:func:`benchmarks.report.summarize`, one dataset).
    """
    s = summary.dropna(subset=["accuracy", "predict_images_per_s"])
    s = s[s["predict_images_per_s"] > 0]
    if s.empty:
        raise ValueError("no method with both accuracy and predict_images_per_s")
    front = pareto_front(s["accuracy"], s["predict_images_per_s"])
    fig = _figure(7, 4.5)
    ax = fig.subplots()
    ax.scatter(s["predict_images_per_s"][~front], 100 * s["accuracy"][~front], c="0.6", label="")
    f = s[front].sort_values("predict_images_per_s")
    ax.plot(
        f["predict_images_per_s"], 100 * f["accuracy"], "o-", c="C3", label="Pareto front", zorder=3
    )
    for r in s.itertuples(index=False):
        ax.annotate(
            r.method,
            (r.predict_images_per_s, 100 * r.accuracy),
            textcoords="offset points",
            xytext=(4, 3),
            fontsize=7,
        )
    ax.set_xscale("log")
    ax.set_xlabel("inference images/s (log)")
    ax.set_ylabel("test accuracy (%)")
    ax.grid(alpha=0.3, which="both")
    ax.legend(loc="best")
    ax.set_title(title or "accuracy vs inference speed")
    return _save(fig, path)


def plot_ablation_gap(table: pd.DataFrame, path: str | os.PathLike, title: str = "") -> Path:
    """Train and test accuracy per variant, and the gap (train - test), as bars.

    ``table`` has ``variant``, ``train_accuracy``, ``test_accuracy`` and ``gap``
    (:func:`benchmarks.report.ablation_table`, one dataset and base).
    """
    if table.empty:
        raise ValueError("no ablation variant to plot")
    x = np.arange(len(table))
    fig = _figure(max(6.0, 0.9 * len(table) + 2), 5.5)
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[2, 1])
    top.bar(x - 0.2, 100 * table["train_accuracy"], 0.4, label="train")
    top.bar(x + 0.2, 100 * table["test_accuracy"], 0.4, label="test")
    top.set_ylabel("accuracy (%)")
    lo = 100 * min(table["train_accuracy"].min(), table["test_accuracy"].min())
    top.set_ylim(max(0.0, lo - 5), 100)
    top.legend(loc="lower right")
    top.grid(alpha=0.3, axis="y")
    gap = 100 * table["gap"]
    bottom.bar(x, gap, 0.5, color=["C3" if g > 0 else "C2" for g in gap])
    bottom.axhline(0, c="k", lw=0.8)
    bottom.set_ylabel("gap (points)")
    bottom.set_xticks(x, table["variant"], rotation=30, ha="right")
    bottom.grid(alpha=0.3, axis="y")
    top.set_title(title or "ablation: train vs test accuracy")
    return _save(fig, path)


def _save(fig, path: str | os.PathLike) -> Path:
    """Lay out ``fig`` and write it to ``path`` (parent folders created)."""
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    return path


def _attempt(name: str, make: Callable[[], Path], written: list[Path]) -> None:
    try:
        written.append(make())
    except Exception as exc:  # a plot never kills a run
        print(f"warning: plot {name} failed: {type(exc).__name__}: {exc}", file=sys.stderr)


def write_plots(run_dir: str | os.PathLike, df: pd.DataFrame | None = None) -> list[Path]:
    """Write every plot of a run into ``run_dir/plots/``; returns the PNGs written.

    ``df`` defaults to ``run_dir/results.csv``. Never raises: each failing plot
    (or an unreadable CSV) prints ``warning: plot NAME failed: ...`` to stderr.
    """
    run_dir = Path(run_dir)
    written: list[Path] = []
    try:
        from benchmarks.report import ablation_table, summarize

        if df is None:
            df = pd.read_csv(run_dir / "results.csv", dtype={"error": str, "git_commit": str})
        ok = _ok(df)
        summary = summarize(df)
    except Exception as exc:
        print(f"warning: plots of {run_dir} failed: {type(exc).__name__}: {exc}", file=sys.stderr)
        return written
    for _, row in ok.iterrows():
        if not isinstance(row.get("history_json"), str):
            continue
        name = f"'learning curve {row['dataset']} {row['method']} seed={row['seed']}'"
        _attempt(
            name,
            lambda row=row: plot_learning_curve(row, run_dir / curve_plot_name(row["cell_id"])),
            written,
        )
    for dataset in dict.fromkeys(ok["dataset"]):
        sub = summary[summary["dataset"] == dataset]
        _attempt(
            f"'pareto {dataset}'",
            lambda sub=sub, d=dataset: plot_pareto(
                sub, run_dir / pareto_plot_name(d), title=f"{d}: accuracy vs inference speed"
            ),
            written,
        )
    table = ablation_table(df)
    for (dataset, base), sub in table.groupby(["dataset", "base"], sort=False):
        _attempt(
            f"'ablation {dataset} {base}'",
            lambda sub=sub, d=dataset, b=base: plot_ablation_gap(
                sub, run_dir / ablation_plot_name(d, b), title=f"{b} ablation on {d}"
            ),
            written,
        )
    return written
