"""The markdown report of a run, made with pandas from ``results.csv``."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["ablation_table", "render_report", "summarize", "time_to_target_table", "write_report"]

#: Columns of the per-dataset tables: (source column, header).
_TABLE = (
    ("method", "method"),
    ("accuracy", "accuracy"),
    ("macro_f1", "macro-F1"),
    ("train_accuracy", "train acc"),
    ("n_features", "features"),
    ("extract_s", "extract s"),
    ("fit_s", "fit s"),
    ("train_images_per_s", "train img/s"),
    ("extract_images_per_s", "extract img/s"),
    ("predict_images_per_s", "predict img/s"),
    ("latency_batch1_ms", "batch-1 ms"),
    ("n_params", "params"),
    ("model_mb", "model MB"),
    ("peak_rss_mb", "peak RSS MB"),
)


def _cv_dnn_rows(ok: pd.DataFrame) -> pd.DataFrame:
    """A ``<model> (cv2.dnn)`` row for each CNN row measured through OpenCV's dnn module."""
    if "cv_dnn_accuracy" not in ok:
        return ok.iloc[:0]
    cv = ok[pd.to_numeric(ok["cv_dnn_accuracy"], errors="coerce").notna()].copy()
    if cv.empty:
        return cv
    cv["method"] = cv["method"] + " (cv2.dnn)"
    cv["accuracy"] = cv["cv_dnn_accuracy"]
    cv["predict_images_per_s"] = cv["cv_dnn_images_per_s"]
    cv["latency_batch1_ms"] = cv["cv_dnn_latency_batch1_ms"]
    for col in ("macro_f1", "train_accuracy", "fit_s", "train_images_per_s", "peak_rss_mb"):
        cv[col] = float("nan")
    return cv


def summarize(df: pd.DataFrame) -> pd.DataFrame:
    """One line per (dataset, method): accuracy mean (± std over seeds) and median costs.

    Failed rows are excluded; sorted by dataset, then accuracy (best first).
    """
    ok = df[df["error"].fillna("") == ""].copy()
    if ok.empty:
        return ok
    ok = pd.concat([ok, _cv_dnn_rows(ok)], ignore_index=True)
    ok["model_mb"] = pd.to_numeric(ok["model_bytes"], errors="coerce") / 2**20
    if "train_images_per_s" not in ok:  # rows written before the column existed
        ok["train_images_per_s"] = float("nan")
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


def ablation_table(df: pd.DataFrame) -> pd.DataFrame:
    """One line per ``base@variant`` method and dataset: train/test accuracy, gap, fit s.

    Means over seeds of the successful rows; columns ``dataset``, ``base``,
    ``variant``, ``train_accuracy``, ``test_accuracy``, ``gap`` (train - test),
    ``fit_s``, ``n_seeds``, in the run's order. Empty when no method has a variant.
    """
    cols = ["dataset", "base", "variant", "train_accuracy", "test_accuracy", "gap", "fit_s"]
    ok = df[(df["error"].fillna("") == "") & df["method"].astype(str).str.contains("@")].copy()
    if ok.empty:
        return pd.DataFrame(columns=[*cols, "n_seeds"])
    ok[["base", "variant"]] = ok["method"].str.split("@", n=1, expand=True)
    for c in ("train_accuracy", "accuracy", "fit_s"):
        ok[c] = pd.to_numeric(ok[c], errors="coerce")
    g = ok.groupby(["dataset", "base", "variant"], sort=False)
    out = g[["train_accuracy", "accuracy", "fit_s"]].mean()
    out["n_seeds"] = g["seed"].nunique()
    out = out.reset_index().rename(columns={"accuracy": "test_accuracy"})
    out["gap"] = out["train_accuracy"] - out["test_accuracy"]
    return out[[*cols, "n_seeds"]]


def time_to_target_table(df: pd.DataFrame) -> pd.DataFrame:
    """CNN rows with ``time_to_target_s``: one column ``to XX%`` per target (s, or "not reached")."""
    if "time_to_target_s" not in df:
        return pd.DataFrame()
    ok = df[(df["error"].fillna("") == "") & df["time_to_target_s"].notna()]
    lines = []
    for r in ok.to_dict("records"):
        line = {"dataset": r["dataset"], "method": r["method"], "seed": r["seed"]}
        for target, secs in json.loads(r["time_to_target_s"]).items():
            key = f"to {100 * float(target):g}% s"
            line[key] = "not reached" if secs is None else f"{secs:,.1f}"
        line["test acc"] = f"{100 * float(r['accuracy']):.2f}%"
        line["epochs"] = "" if pd.isna(r.get("epochs_run")) else f"{int(r['epochs_run'])}"
        ips = r.get("train_images_per_s")
        line["train img/s"] = "" if ips is None or pd.isna(ips) else f"{float(ips):,.0f}"
        line["fit s"] = f"{float(r['fit_s']):,.1f}"
        stop = r.get("stopped_by")
        line["stopped by"] = "" if stop is None or pd.isna(stop) else str(stop)
        resumed = r.get("resumed_epochs")
        if resumed is not None and not pd.isna(resumed) and int(resumed) > 0:
            note = f"(resumed after epoch {int(resumed)})"
            line["stopped by"] = f"{line['stopped by']} {note}".strip()
        lines.append(line)
    if not lines:
        return pd.DataFrame()
    out = pd.DataFrame(lines).fillna("")
    targets = sorted(
        (c for c in out.columns if c.startswith("to ")), key=lambda c: float(c.split()[1][:-1])
    )
    head = ["dataset", "method", "seed"]
    return out[head + targets + [c for c in out.columns if c not in head and c not in targets]]


def _image(run_dir: Path | None, rel: str, alt: str) -> list[str]:
    """``![alt](rel)`` when ``run_dir/rel`` exists (nothing without a run directory)."""
    if run_dir is None or not (run_dir / rel).is_file():
        return []
    return ["", f"![{alt}]({rel})"]


def render_report(
    df: pd.DataFrame, meta: Mapping[str, Any], run_dir: str | os.PathLike | None = None
) -> str:
    """Markdown for the rows ``df`` of one run; ``meta`` is the run's ``run.json``.

    With ``run_dir``, the PNGs of :mod:`benchmarks.plots` found there are embedded.
    """
    from benchmarks import plots

    run_dir = Path(run_dir) if run_dir is not None else None
    lines = [f"# cvbench report: {meta.get('run_id', '')}", ""]
    lines += [
        f"- command: `{meta.get('command', '')}`",
        f"- profile: {meta.get('profile', '')} ({meta.get('description', '')})",
        f"- started (UTC): {meta.get('started_utc', '')}; cells: {len(df)}"
        f" ({int((df['error'].fillna('') != '').sum())} failed)",
    ]
    planned = len(meta.get("cells", ())) or len(df)
    if len(df) < planned:
        lines.append(
            f"- **incomplete**: {len(df)} of {planned} planned cells have a row; "
            f"finish with `python -m benchmarks.run --resume <this run directory>`"
        )
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
        lines += _image(run_dir, plots.pareto_plot_name(dataset), f"accuracy vs speed, {dataset}")
    tta = time_to_target_table(df)
    if len(tta):
        lines += [
            "",
            "## Time to accuracy (DAWNBench style)",
            "",
            "Training seconds (test-split evaluation excluded) until the test accuracy, "
            "measured after every epoch, first reached each target; fit s includes those "
            "evaluations.",
            "",
            tta.to_markdown(index=False, disable_numparse=True),
        ]
    abl = ablation_table(df)
    for (dataset, base), sub in abl.groupby(["dataset", "base"], sort=False):
        table = pd.DataFrame(
            {
                "variant": sub["variant"],
                "train accuracy": (100 * sub["train_accuracy"]).map(lambda v: f"{v:.2f}%"),
                "test accuracy": (100 * sub["test_accuracy"]).map(lambda v: f"{v:.2f}%"),
                "gap (train - test)": (100 * sub["gap"]).map(lambda v: f"{v:+.2f} pts"),
                "fit s": sub["fit_s"].map(lambda v: f"{v:,.1f}"),
                "seeds": sub["n_seeds"],
            }
        )
        lines += ["", f"## Ablation: `{base}` on `{dataset}`", ""]
        lines.append(
            table.to_markdown(index=False, disable_numparse=True, colalign=["left"] + ["right"] * 5)
        )
        lines += _image(run_dir, plots.ablation_plot_name(dataset, base), f"{base} ablation gap")
    if run_dir is not None:
        curves = []
        ok = df[df["error"].fillna("") == ""]
        for r in ok.to_dict("records"):
            img = _image(
                run_dir, plots.curve_plot_name(r["cell_id"]), f"learning curve {r['method']}"
            )
            if img:
                curves += ["", f"### {r['method']} on `{r['dataset']}`, seed {r['seed']}", *img]
        if curves:
            lines += ["", "## Learning curves", *curves]
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
        "(or CNN) training alone; train img/s is a CNN's steady-state training throughput "
        "(epochs after the first). Extract img/s is test-set feature extraction; predict img/s is "
        "end-to-end inference from pixels at full batch; batch-1 ms is the median latency of one "
        "image through the fitted method (Keras fast path for CNNs). Params counts the numbers "
        "the fitted model stores; model MB is its pickled (classical) or weight (CNN) size; "
        "peak RSS is the cell process's high-water mark. A `(cv2.dnn)` line is the same trained "
        "CNN exported to ONNX and run by OpenCV's dnn module. A method `base@variant` is "
        "`base` with the variant's parameters (an ablation); its gap is train acc minus "
        "test accuracy. Plots are under `plots/` (`python -m benchmarks.report RUN_DIR "
        "--plots` redraws them). Every row, with its parameters and "
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
    atomic_write_text(path, render_report(df, meta, run_dir=run_dir))
    return path


def main(argv=None) -> int:
    """``python -m benchmarks.report RUN_DIR``: re-render ``report.md`` from ``results.csv``."""
    import argparse
    import json

    p = argparse.ArgumentParser(prog="python -m benchmarks.report", description=main.__doc__)
    p.add_argument("run_dir", type=Path)
    p.add_argument(
        "--plots", action="store_true", help="also (re)draw the PNGs under RUN_DIR/plots/"
    )
    args = p.parse_args(argv)
    meta_path = args.run_dir / "run.json"
    if not (args.run_dir / "results.csv").is_file():
        p.error(f"{args.run_dir} has no results.csv; pass a run directory such as results/<run-id>")
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    if args.plots:
        from benchmarks.plots import write_plots

        write_plots(args.run_dir)
    print(write_report(args.run_dir, meta))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
