"""README.md stays true: its feature example registers and runs through the runner."""

from __future__ import annotations

import importlib
import re
import sys
from pathlib import Path

import features
from benchmarks.cell import CellConfig, run_cell
from benchmarks.run import main

README = Path(__file__).resolve().parents[1] / "README.md"


def test_readme_feature_example_runs(tmp_path, monkeypatch, capsys):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    example = next(b for b in blocks if "register_feature" in b)
    (tmp_path / "readme_feature.py").write_text(example)
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        importlib.import_module("readme_feature")
        assert "my_feature" in features.list_features()
        row = run_cell(CellConfig("digits", "my_feature+logreg", n_train=300, n_test=100))
        assert row["error"] == "", row["error"]
        assert row["accuracy"] > 0.2 and row["n_features"] == 16
        # the README's one command, through a fresh process per cell (--import reaches it)
        argv = [
            "--import",
            "readme_feature",
            "--datasets",
            "digits",
            "--methods",
            "my_feature+logreg",
            "--n-train",
            "300",
            "--n-test",
            "100",
            "--out",
            str(tmp_path / "out"),
            "--run-id",
            "r",
        ]
        assert main(argv) == 0
        assert "my_feature+logreg" in (tmp_path / "out" / "r" / "report.md").read_text()
    finally:
        if "my_feature" in features.FEATURES:
            features.FEATURES.unregister("my_feature")
        sys.modules.pop("readme_feature", None)


def test_readme_test_command_is_what_ci_runs():
    command = re.search(r"```bash\n(python -m pytest)\n```", README.read_text()).group(1)
    ci = (README.parent / ".ci" / "run").read_text()
    assert command in ci
