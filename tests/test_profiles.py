"""Profiles, parameter rules and TOML grid files."""

from __future__ import annotations

import pytest

from benchmarks.profiles import PROFILES, ParamRule, RunPlan, deep_merge, load_config


def test_deep_merge_nests():
    assert deep_merge({"a": {"x": 1, "y": 2}, "b": 1}, {"a": {"y": 3}, "c": 4}) == {
        "a": {"x": 1, "y": 3},
        "b": 1,
        "c": 4,
    }


def test_rules_match_by_wildcards_in_order():
    plan = RunPlan(
        profile="t",
        description="",
        datasets=("mnist",),
        methods=("hog+logreg",),
        rules=(
            ParamRule(method="hog+*", params={"feature": {"orientations": 9}}),
            ParamRule(dataset="cifar*", method="hog+*", params={"feature": {"orientations": 12}}),
            ParamRule(method="*+logreg", params={"classifier": {"C": 2.0}}),
        ),
    )
    assert plan.params_for("mnist", "hog+logreg") == {
        "feature": {"orientations": 9},
        "classifier": {"C": 2.0},
    }
    assert plan.params_for("cifar10", "hog+linear_svc") == {"feature": {"orientations": 12}}


def test_profiles_exist_and_quick_is_offline():
    assert {"quick", "standard", "full"} <= set(PROFILES)
    assert all(d.endswith("_sample") for d in PROFILES["quick"].datasets)


def test_load_config(tmp_path):
    cfg = tmp_path / "grid.toml"
    cfg.write_text(
        """
[run]
profile = "standard"
datasets = ["digits"]
methods = ["raw+logreg"]
seeds = [0, 1]
n_train = 500

[[params]]
method = "raw+*"
classifier = { C = 0.25 }
"""
    )
    plan = load_config(cfg)
    assert plan.profile == "standard"
    assert plan.datasets == ("digits",) and plan.seeds == (0, 1) and plan.n_train == 500
    assert plan.params_for("digits", "raw+logreg")["classifier"]["C"] == 0.25


@pytest.mark.parametrize(
    "text, match",
    [
        ("[run]\nseeds = ['a']\n", "seeds must be a list of int"),
        ("[run]\nbogus = 1\n", "unknown \\[run\\] keys"),
        ("[rn]\n", "unknown top-level keys"),
        ("[run\n", "not valid TOML"),
        ("[run]\nn_train = -3\n", "positive integer"),
    ],
)
def test_bad_config_names_file_and_problem(tmp_path, text, match):
    cfg = tmp_path / "bad.toml"
    cfg.write_text(text)
    with pytest.raises(ValueError, match=match) as info:
        load_config(cfg)
    assert "bad.toml" in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        load_config(tmp_path / "nope.toml")
