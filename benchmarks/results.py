"""Result rows: the schema, and a run directory that keeps every finished row.

A run directory holds

- ``cells/<cell_id>.json``: one file per finished cell, written atomically the
  moment the cell ends (the durable record; a killed run loses nothing finished);
- ``results.csv``: every row, one per (dataset, method, seed), rebuilt atomically
  from ``cells/`` after each cell;
- ``report.md``: the markdown report (:mod:`benchmarks.report`);
- ``run.json``: the command line and resolved configuration of the run.
"""

from __future__ import annotations

import json
import math
import os
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import pandas as pd

__all__ = ["COLUMNS", "RunDir", "atomic_write_text"]

#: Column order of ``results.csv``: identity, config, metrics, environment, error.
COLUMNS: tuple[str, ...] = (
    # identity
    "run_id",
    "cell_id",
    "timestamp_utc",
    "git_commit",
    # config
    "dataset",
    "dataset_title",
    "data_source",
    "data_kind",
    "data_fingerprint",
    "image_shape",
    "n_classes",
    "n_train",
    "n_test",
    "method",
    "family",
    "feature",
    "classifier",
    "model",
    "params_json",
    "seed",
    "executor",
    # metrics
    "accuracy",
    "macro_f1",
    "train_accuracy",
    "n_features",
    "extract_s",
    "fit_s",
    "predict_s",
    "extract_images_per_s",
    "predict_images_per_s",
    "latency_batch1_ms",
    "n_params",
    "model_bytes",
    "peak_rss_mb",
    "feature_cache_hit",
    "epochs_run",
    "history_json",
    "solver",
    "cv_dnn_accuracy",
    "cv_dnn_images_per_s",
    "cv_dnn_latency_batch1_ms",
    "train_images_per_s",
    "time_to_target_s",
    "stopped_by",
    "resumed_epochs",
    "wall_s",
    # environment
    "python_version",
    "numpy_version",
    "sklearn_version",
    "skimage_version",
    "opencv_version",
    "pandas_version",
    "tensorflow_version",
    "keras_version",
    "jax_version",
    "torch_version",
    "keras_backend",
    "device",
    "cpu",
    "n_cpus",
    "memory_gb",
    "platform",
    # outcome
    "error",
)


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` so that readers see the old or the new file, never half."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~current_umask())  # mkstemp's 0600 would hide results from others
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def current_umask() -> int:
    """The process umask (read by setting and restoring it: os has no getter)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        return value.item()
    return value


class RunDir:
    """The directory of one run: durable per-cell rows, CSV and report.

    Parameters
    ----------
    path : path-like
        ``results/<run-id>``; created when missing.

    Notes
    -----
    ``cells/`` is the source of truth and is not committed.  A run directory
    that has a ``results.csv`` but no ``cells/`` (a committed run in a fresh
    clone) gets ``cells/`` rebuilt from the CSV first, so resuming or adding
    rows never drops the committed ones.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.cells = self.path / "cells"
        adopt = self.csv_path.exists() and not any(self.cells.glob("*.json"))
        self.cells.mkdir(parents=True, exist_ok=True)
        if adopt:
            self._adopt_csv()

    def _adopt_csv(self) -> None:
        """Write one ``cells/<cell_id>.json`` per row of an existing ``results.csv``."""
        try:
            frame = pd.read_csv(self.csv_path)
        except (OSError, ValueError) as exc:
            raise ValueError(
                f"cannot read {self.csv_path}: {exc}; restore it or start a new run"
            ) from exc
        if "cell_id" not in frame.columns:
            raise ValueError(f"{self.csv_path} has no cell_id column; is it a cvbench results.csv?")
        frame = frame.astype(object).where(frame.notna(), None)
        for record in frame.to_dict("records"):
            row = {k: _jsonable(record.get(k)) for k in COLUMNS}
            atomic_write_text(
                self.cells / f"{row['cell_id']}.json", json.dumps(row, indent=1, sort_keys=True)
            )

    def work_dir(self, cell_id: str) -> Path:
        """Scratch folder of an unfinished cell (a CNN's per-epoch checkpoint lives there)."""
        return self.cells / f"{cell_id}.partial"

    @property
    def csv_path(self) -> Path:
        return self.path / "results.csv"

    @property
    def report_path(self) -> Path:
        return self.path / "report.md"

    def add(self, row: Mapping[str, Any]) -> None:
        """Persist one finished row, then rebuild ``results.csv``.

        A row without error also removes the cell's work dir (:meth:`work_dir`),
        only now that the row is on disk; a failed cell keeps it, so that a
        rerun resumes from its checkpoint.
        """
        unknown = set(row) - set(COLUMNS)
        if unknown:
            raise ValueError(f"row has columns outside the schema: {sorted(unknown)}")
        record = {k: _jsonable(row.get(k)) for k in COLUMNS}
        atomic_write_text(
            self.cells / f"{row['cell_id']}.json", json.dumps(record, indent=1, sort_keys=True)
        )
        if not row.get("error"):  # the row is durable: the cell's scratch state can go
            shutil.rmtree(self.work_dir(row["cell_id"]), ignore_errors=True)
        self.write_csv()

    def rows(self) -> list[dict[str, Any]]:
        """Every persisted row, oldest first."""
        out = []
        for p in self.cells.glob("*.json"):
            try:
                out.append(json.loads(p.read_text(encoding="utf-8")))
            except (OSError, json.JSONDecodeError) as exc:
                raise ValueError(
                    f"cannot read result row {p}: {exc}; delete the file to rerun that cell"
                ) from exc
        return sorted(out, key=lambda r: (r.get("timestamp_utc") or "", r["cell_id"]))

    def finished(self) -> set[str]:
        """``cell_id`` of every row that ran without error (what a resume skips)."""
        return {r["cell_id"] for r in self.rows() if not r.get("error")}

    def frame(self) -> pd.DataFrame:
        """All rows as a DataFrame with the schema's columns."""
        return pd.DataFrame(self.rows(), columns=list(COLUMNS))

    def write_csv(self) -> Path:
        atomic_write_text(self.csv_path, self.frame().to_csv(index=False))
        return self.csv_path

    def write_json(self, name: str, payload: Mapping[str, Any] | Iterable[Any]) -> Path:
        path = self.path / name
        atomic_write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=str))
        return path
