"""Every registered classifier fits and predicts; rbf_svm reports its solver."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_classification

from benchmarks.classifiers import CLASSIFIERS, list_classifiers


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(
        n_samples=300, n_features=20, n_informative=10, n_classes=3, random_state=0
    )
    return X.astype(np.float32), y


#: Small settings so the test is quick (OpenMP-threaded hist_gb is slow on busy cores).
FAST = {
    "hist_gb": {"max_iter": 10},
    "random_forest": {"n_estimators": 20},
    "sgd": {"max_iter": 1000},
}


@pytest.mark.parametrize("name", list_classifiers())
def test_fit_predict(name, data):
    X, y = data
    clf = CLASSIFIERS.build(name, random_state=0, **FAST.get(name, {}))
    clf = clone(clf).fit(X[:200], y[:200])
    assert clf.predict(X[200:]).shape == (100,)
    assert clf.score(X[200:], y[200:]) > 0.5


def test_required_names():
    assert {"logreg", "linear_svc", "knn", "random_forest", "hist_gb", "sgd", "rbf_svm"} <= set(
        list_classifiers()
    )


def test_rbf_svm_switches_solver(data):
    X, y = data
    exact = CLASSIFIERS.build("rbf_svm", random_state=0).fit(X, y)
    approx = CLASSIFIERS.build(
        "rbf_svm", random_state=0, max_exact_samples=100, n_components=150
    ).fit(X, y)
    assert exact.solver_ == "svc" and approx.solver_ == "nystroem+linear"
    assert approx.score(X, y) > 0.8
    with pytest.raises(ValueError, match="gamma"):
        CLASSIFIERS.build("rbf_svm", gamma="auto").fit(X, y)


def test_linear_svm_lbfgs_solves_liblinear_problem(data):
    from benchmarks._linear import LinearSVM, _squared_hinge

    X, y = data
    a = LinearSVM(C=0.5, tol=1e-10, max_iter=5000).fit(X, y)
    b = LinearSVM(C=0.5, solver="liblinear", tol=1e-8, max_iter=5000).fit(X, y)
    assert a.solver_ == "lbfgs" and b.solver_ == "liblinear"
    Y = np.where(y[:, None] == np.arange(3), 1.0, -1.0).astype(np.float32)

    def objective(m):
        w = np.vstack([m.coef_.T, m.intercept_[None]]).astype(np.float64).ravel()
        return _squared_hinge(w, X, Y, 0.5, 1)[0]

    # the same primal problem: L-BFGS reaches liblinear's optimum
    assert objective(a) <= objective(b) * (1 + 1e-4)
    assert np.mean(a.predict(X) == b.predict(X)) > 0.98


def test_linear_svm_binary_and_errors(data):
    from benchmarks._linear import LinearSVM

    X, y = data
    yb = np.where(y == 1, "yes", "no")
    clf = LinearSVM().fit(X, yb)
    assert clf.decision_function(X).shape == (len(X),)
    assert set(clf.predict(X)) <= {"yes", "no"} and clf.score(X, yb) > 0.7
    with pytest.raises(ValueError, match="solver"):
        LinearSVM(solver="newton").fit(X, y)
    with pytest.raises(ValueError, match="C > 0"):
        LinearSVM(C=0).fit(X, y)
    with pytest.raises(ValueError, match="2 classes"):
        LinearSVM().fit(X, np.zeros(len(X)))
