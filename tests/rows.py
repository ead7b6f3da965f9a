"""A minimal result row for tests of results, reports and plots (imported as ``rows``)."""

from __future__ import annotations

from typing import Any


def result_row(cell_id: str, method: str, acc: float, seed: int = 0, **columns: Any) -> dict:
    """One row of a digits run; ``columns`` add or override schema columns."""
    return {
        "run_id": "r",
        "cell_id": cell_id,
        "timestamp_utc": f"2026-01-01T00:00:0{seed}Z",
        "dataset": "digits",
        "dataset_title": "digits",
        "data_kind": "full",
        "data_source": "scikit-learn",
        "n_train": 100,
        "n_test": 50,
        "image_shape": "8x8x1",
        "method": method,
        "seed": seed,
        "accuracy": acc,
        "macro_f1": acc,
        "fit_s": 1.0,
        "error": "",
        **columns,
    }
