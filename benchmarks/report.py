"""The markdown report of a run, made with pandas from ``results.csv``."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["render_report", "summarize", "write_report"]

#: Columns of the per-dataset tables: (source column, header).
_TABLE = (
    ("method", "method"),
    ("accuracy", "accuracy"),
    ("macro_f1", "macro-F1"),
    ("train_accuracy", "train acc"),
    ("n_features", "features"),
    ("extract_s", "extract s"),
    ("fit_s", "fit s"),
    ("extract_images_per_s", "extract img/s"),
    ("predict_images_per_s", "predict img/s"),
    ("latency_batch1_ms", "batch-1 ms"),
    ("n_params", "params"),
    ("model_mb", "model MB"),
    ("peak_rss_mb", "peak RSS MB"),
)


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """One line per (dataset, method): accuracy mean (± std over seeds) and median costs.

    Failed rows are excluded; sorted by dataset, then accuracy (best first).
    """
    ok = df[df["error"].fillna("") == ""].copy()
    if ok.empty:
        return ok
    ok["model_mb"] = pd.to_numeric(ok["model_bytes"], errors="coerce") / 2**20
    numeric = [c for c, _ in _TABLE if c != "method"]
    for c in numeric:
        ok[c] = pd.to_numeric(ok[c], errors="coerce")
    grouped = ok.groupby(["dataset", "method"], sort=False)
    summary = grouped[numeric].median()
    summary["accuracy"] = grouped["accuracy"].mean()
    summary["accuracy_std"] = grouped["accuracy"].std(ddof=1)
    summary["n_seeds"] = grouped["seed"].nunique()
    summary = summary.reset_index()
    return summary.sort_values(["dataset", "accuracy"], ascending=[True, False], kind="stable")


def _fmt_table(summary: pd.DataFrame) -> str:
    table = pd.DataFrame()
    multi_seed = (summary["n_seeds"] > 1).any()
    for col, header in _TABLE:
        s = summary[col]
        if col == "method":
            table[header] = s
        elif col in ("accuracy", "macro_f1", "train_accuracy"):
            pct = (100 * s).map(lambda v: "" if pd.isna(v) else f"{v:.2f}%")
            if col == "accuracy" and multi_seed:
                std = (100 * summary["accuracy_std"]).map(
                    lambda v: "" if pd.isna(v) else f" ± {v:.2f}"
                )
                pct = pct + std + summary["n_seeds"].map(lambda n: f" (n={n})")
            table[header] = pct
        elif col in ("n_features", "n_params"):
            table[header] = s.map(lambda v: "" if pd.isna(v) else f"{int(v):,}")
        elif col.endswith("_per_s"):
            table[header] = s.map(lambda v: "" if pd.isna(v) else f"{v:,.0f}")
        elif col == "latency_batch1_ms":
            table[header] = s.map(lambda v: "" if pd.isna(v) else f"{v:.3g}")
        else:
            table[header] = s.map(lambda v: "" if pd.isna(v) else f"{v:,.2f}")
    return table.to_markdown(
        index=False, disable_numparse=True, colalign=["left"] + ["right"] * (len(_TABLE) - 1)
    )


def render_report(df: pd.DataFrame, meta: Mapping[str, Any]) -> str:
    """Markdown for the rows ``df`` of one run; ``meta`` is the run's ``run.json``."""
    lines = [f"# cvbench report: {meta.get('run_id', '')}", ""]
    lines += [
        f"- command: `{meta.get('command', '')}`",
        f"- profile: {meta.get('profile', '')} ({meta.get('description', '')})",
        f"- started (UTC): {meta.get('started_utc', '')}; cells: {len(df)}"
        f" ({int((df['error'].fillna('') != '').sum())} failed)",
    ]
    env = df.iloc[0] if len(df) else {}
    if len(df):
        lines += [
            f"- machine: {env.get('cpu', '')}, {env.get('n_cpus', '')} cores, "
            f"{env.get('memory_gb', '')} GB, {env.get('platform', '')}",
            f"- software: Python {env.get('python_version', '')}, NumPy {env.get('numpy_version', '')}, "
            f"scikit-learn {env.get('sklearn_version', '')}, scikit-image {env.get('skimage_version', '')}, "
            f"OpenCV {env.get('opencv_version', '')}, Keras {env.get('keras_version', '')} "
            f"(backend {env.get('keras_backend', '')}), TensorFlow {env.get('tensorflow_version', '')}",
            f"- code: git commit `{env.get('git_commit', '')}`",
        ]
    lines += ["", "## Data", ""]
    data_cols = [
        "dataset",
        "dataset_title",
        "data_kind",
        "n_train",
        "n_test",
        "image_shape",
        "data_source",
    ]
    data = df[df["dataset_title"].notna()][data_cols].drop_duplicates(
        ["dataset", "n_train", "n_test"]
    )
    for d in data.itertuples(index=False):
        lines.append(
            f"- `{d.dataset}`: {d.dataset_title}, {d.data_kind}, {int(d.n_train):,} train / "
            f"{int(d.n_test):,} test images of {d.image_shape}; source: {d.data_source}"
        )
    if data.empty:
        lines.append("No dataset loaded.")
    summary = summarize(df)
    for dataset in dict.fromkeys(df["dataset"]):
        sub = summary[summary["dataset"] == dataset] if len(summary) else summary
        title = df.loc[df["dataset"] == dataset, "dataset_title"].dropna()
        lines += ["", f"## {title.iloc[0] if len(title) else dataset} (`{dataset}`)", ""]
        if len(sub):
            lines.append(_fmt_table(sub))
        else:
            lines.append("No successful cell.")
    failed = df[df["error"].fillna("") != ""]
    if len(failed):
        lines += ["", "## Failed cells", ""]
        lines.append(failed[["dataset", "method", "seed", "error"]].to_markdown(index=False))
    lines += [
        "",
        "## Reading this report",
        "",
        "Accuracy and macro-F1 are on the test split; train acc is on up to 5,000 training "
        "images. Extract s is feature extraction over train and test; fit s is the classifier "
        "(or CNN) training alone. Extract img/s is test-set feature extraction; predict img/s is "
        "end-to-end inference from pixels at full batch; batch-1 ms is the median latency of one "
        "image through the fitted method (Keras fast path for CNNs). Params counts the numbers "
        "the fitted model stores; model MB is its pickled (classical) or weight (CNN) size; "
        "peak RSS is the cell process's high-water mark. Every row, with its parameters and "
        "environment, is in `results.csv`.",
        "",
    ]
    return "\n".join(lines)


def write_report(run_dir: str | os.PathLike, meta: Mapping[str, Any]) -> Path:
    """Render ``run_dir/results.csv`` into ``run_dir/report.md`` (atomically)."""
    from benchmarks.results import atomic_write_text

    run_dir = Path(run_dir)
    df = pd.read_csv(run_dir / "results.csv", dtype={"error": str, "git_commit": str})
    path = run_dir / "report.md"
    atomic_write_text(path, render_report(df, meta))
    return path


def main(argv=None) -> int:
    """``python -m benchmarks.report RUN_DIR``: re-render ``report.md`` from ``results.csv``."""
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=main.__doc__)
    p.add_argument("run_dir", type=Path)
    args = p.parse_args(argv)
    meta_path = args.run_dir / "run.json"
    if not (args.run_dir / "results.csv").is_file():
        p.error(f"{args.run_dir} has no results.csv; pass a run directory such as results/<run-id>")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    print(write_report(args.run_dir, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
