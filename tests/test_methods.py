"""Method names compose registries into scikit-learn estimators."""

from __future__ import annotations

import pytest
from sklearn.pipeline import Pipeline

from benchmarks.methods import all_method_names, build_method, expand_methods, parse_method


def test_parse_classical_and_cnn():
    spec = parse_method("hog+linear_svc")
    assert (spec.family, spec.feature, spec.classifier) == ("classical", "hog", "linear_svc")
    spec = parse_method("simple_convnet")
    assert (spec.family, spec.model) == ("cnn", "simple_convnet")


@pytest.mark.parametrize(
    "name, match",
    [
        ("hogg+linear_svc", "unknown feature 'hogg'.*did you mean hog"),
        ("hog+linear_svm", "unknown classifier 'linear_svm'"),
        ("simple_convent", "unknown model 'simple_convent'"),
        ("hog+raw+logreg", "more than one"),
    ],
)
def test_bad_names_raise_clearly(name, match):
    with pytest.raises((KeyError, ValueError), match=match):
        parse_method(name)


def test_expand_wildcards_and_lists():
    names = expand_methods(["raw+logreg,hog+*", "simple_convnet", "raw+logreg"])
    assert names[0] == "raw+logreg"
    assert "hog+linear_svc" in names and "simple_convnet" in names
    assert len(names) == len(set(names))
    assert set(expand_methods(["*"])) == set(all_method_names())
    with pytest.raises(KeyError, match="matches no registered method"):
        expand_methods(["nothing*"])


def test_build_classical_pipeline_and_seed():
    est = build_method("hog+logreg", {"classifier": {"C": 0.5}}, seed=3)
    assert isinstance(est, Pipeline)
    assert [n for n, _ in est.steps] == ["features", "scale", "clf"]
    assert est.named_steps["clf"].C == 0.5
    assert est.named_steps["clf"].random_state == 3
    with pytest.raises(ValueError, match="take the keys"):
        build_method("hog+logreg", {"clasifier": {}})
