"""The classifier registry: scikit-learn classifiers that follow a feature extractor."""

from __future__ import annotations

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.ensemble import HistGradientBoostingClassifier, RandomForestClassifier
from sklearn.kernel_approximation import Nystroem
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC
from sklearn.utils.validation import check_is_fitted

from benchmarks._linear import LinearSVM
from benchmarks.registry import Registry

#: Classifiers: ``factory(random_state=None, **params) -> ClassifierMixin``.
CLASSIFIERS: Registry[ClassifierMixin] = Registry("classifier")
register_classifier = CLASSIFIERS.register
list_classifiers = CLASSIFIERS.list


@register_classifier("logreg")
def logreg(random_state=None, C=1.0, max_iter=200, tol=1e-4, **params) -> ClassifierMixin:
    """Multinomial logistic regression (L-BFGS)."""
    return LogisticRegression(C=C, max_iter=max_iter, tol=tol, random_state=random_state, **params)


@register_classifier("linear_svc")
def linear_svc(random_state=None, C=1.0, solver="lbfgs", **params) -> ClassifierMixin:
    """Linear SVM, squared hinge, one-vs-rest; L-BFGS over BLAS (or ``solver="liblinear"``)."""
    return LinearSVM(C=C, solver=solver, **params)


@register_classifier("knn")
def knn(
    random_state=None, n_neighbors=5, weights="distance", n_jobs=-1, **params
) -> ClassifierMixin:
    """k-nearest neighbours (brute force, Euclidean)."""
    return KNeighborsClassifier(n_neighbors=n_neighbors, weights=weights, n_jobs=n_jobs, **params)


@register_classifier("random_forest")
def random_forest(random_state=None, n_estimators=200, n_jobs=-1, **params) -> ClassifierMixin:
    """Random forest (Breiman 2001)."""
    return RandomForestClassifier(
        n_estimators=n_estimators, n_jobs=n_jobs, random_state=random_state, **params
    )


@register_classifier("hist_gb")
def hist_gb(random_state=None, max_iter=200, learning_rate=0.1, **params) -> ClassifierMixin:
    """Histogram gradient boosting (LightGBM-style)."""
    return HistGradientBoostingClassifier(
        max_iter=max_iter, learning_rate=learning_rate, random_state=random_state, **params
    )


@register_classifier("sgd")
def sgd(random_state=None, loss="hinge", alpha=1e-4, max_iter=50, **params) -> ClassifierMixin:
    """Linear model trained by SGD, standardised inputs."""
    return make_pipeline(
        StandardScaler(),
        SGDClassifier(
            loss=loss, alpha=alpha, max_iter=max_iter, random_state=random_state, **params
        ),
    )


class RBFSVM(ClassifierMixin, BaseEstimator):
    """RBF-kernel SVM: exact ``SVC`` on small training sets, Nystroem + linear SVM otherwise.

    Parameters
    ----------
    C : float, default=10.0
    gamma : "scale" or float, default="scale"
        ``"scale"``: ``1 / (n_features * X.var())`` as in ``SVC``.
    max_exact_samples : int, default=10000
        Exact ``SVC`` when ``n_train <= max_exact_samples``.
    n_components : int, default=4000
        Nystroem landmarks for large training sets.
    random_state : int or None

    Attributes
    ----------
    solver_ : {"svc", "nystroem+linear"}
        Which solver ran.
    estimator_ : fitted estimator
    gamma_ : float
    """

    def __init__(
        self, C=10.0, gamma="scale", max_exact_samples=10000, n_components=4000, random_state=None
    ):
        self.C = C
        self.gamma = gamma
        self.max_exact_samples = max_exact_samples
        self.n_components = n_components
        self.random_state = random_state

    def fit(self, X, y):
        X = np.asarray(X, dtype=np.float32)
        if self.gamma == "scale":
            var = float(X.var())
            self.gamma_ = 1.0 / (X.shape[1] * var) if var > 0 else 1.0
        elif isinstance(self.gamma, (int, float)) and self.gamma > 0:
            self.gamma_ = float(self.gamma)
        else:
            raise ValueError(f"RBFSVM needs gamma='scale' or a positive number, got {self.gamma!r}")
        if len(X) <= self.max_exact_samples:
            self.solver_ = "svc"
            self.estimator_ = SVC(C=self.C, gamma=self.gamma_, kernel="rbf", cache_size=1000)
        else:
            self.solver_ = "nystroem+linear"
            self.estimator_ = make_pipeline(
                Nystroem(
                    gamma=self.gamma_,
                    n_components=min(self.n_components, len(X)),
                    random_state=self.random_state,
                ),
                LinearSVM(C=self.C / 10.0),
            )
        self.estimator_.fit(X, y)
        self.classes_ = self.estimator_.classes_
        return self

    def predict(self, X):
        check_is_fitted(self)
        return self.estimator_.predict(np.asarray(X, dtype=np.float32))

    def decision_function(self, X):
        check_is_fitted(self)
        return self.estimator_.decision_function(np.asarray(X, dtype=np.float32))


@register_classifier("rbf_svm")
def rbf_svm(random_state=None, **params) -> ClassifierMixin:
    """RBF SVM: exact SVC up to 10k training images, else Nystroem(4000) + linear SVM."""
    return RBFSVM(random_state=random_state, **params)
