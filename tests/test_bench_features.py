"""The feature benchmark script measures every extractor and writes its table."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "bench_features.py"


def _load_script():
    spec = importlib.util.spec_from_file_location("bench_features", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_bench_features_rows_and_files(tmp_path):
    mod = _load_script()
    out = tmp_path / "bench"
    rows = mod.main(
        ["--n", "64", "--fit-n", "64", "--repeats", "1", "--only", "[hl]*", "--kinds", "mnist"]
        + ["--data-dir", str(tmp_path / "absent"), "--out", str(out)]
    )
    by_name = {r["feature"]: r for r in rows}
    assert {"hog", "lbp", "haar"} <= set(by_name)
    for name in ("hog", "lbp", "haar"):  # each has a direct library call to compare with
        row = by_name[name]
        assert row["ips_1core"] > 0 and row["ips_direct"] > 0 and row["ratio_vs_direct"] > 0
    text = (out / "features_bench.md").read_text()
    assert "uniform noise" in text and "| lbp |" in text
    with open(out / "features_bench.csv", newline="") as f:
        assert [r["feature"] for r in csv.DictReader(f)] == [r["feature"] for r in rows]
