"""A one-vs-rest squared-hinge linear SVM solved in the primal by L-BFGS over BLAS."""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted, validate_data

_SOLVERS = ("lbfgs", "liblinear")


def _squared_hinge(w, X, Y, C, fit_intercept):
    """Objective and gradient of sum_k 0.5 ||w_k||^2 + C sum_i max(0, 1 - y_ik f_k(x_i))^2."""
    d, k = X.shape[1], Y.shape[1]
    W = w.reshape(d + fit_intercept, k)
    W32 = W.astype(np.float32)
    scores = X @ W32[:d]
    if fit_intercept:
        scores += W32[d]
    margin = 1.0 - Y * scores
    np.maximum(margin, 0.0, out=margin)
    reg = W[:d]
    f = 0.5 * float(np.sum(reg * reg)) + C * float(np.sum(margin.astype(np.float64) ** 2))
    G = margin
    G *= -2.0 * C * Y  # d loss / d score
    grad = np.empty_like(W)
    grad[:d] = reg + (X.T @ G)
    if fit_intercept:
        grad[d] = G.sum(axis=0, dtype=np.float64)
    return f, grad.ravel()


class LinearSVM(ClassifierMixin, BaseEstimator):
    """L2-regularised squared-hinge linear SVM, one-vs-rest.

    Solves the same primal problem as ``LinearSVC(loss="squared_hinge",
    penalty="l2")`` (one binary problem per class, ``C`` summed over samples,
    intercept not regularised), so ``C`` values carry over.  ``"lbfgs"``
    minimises all classes' objectives at once with L-BFGS: each step is two
    float32 matrix products with the data, which BLAS runs on every core,
    while liblinear's coordinate descent is single-threaded and slow on wide
    dense features (tens of thousands of rows by thousands of columns).

    Parameters
    ----------
    C : float, default=1.0
        Inverse regularisation strength (positive).
    solver : {"lbfgs", "liblinear"}, default="lbfgs"
        ``"liblinear"`` delegates to ``sklearn.svm.LinearSVC(dual=False)``.
    tol : float, default=1e-5
        L-BFGS stops when the relative decrease of the objective falls below it.
    max_iter : int, default=1000
        Maximum L-BFGS iterations.
    fit_intercept : bool, default=True

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
    coef_ : ndarray of shape (n_classes, n_features) or (1, n_features)
    intercept_ : ndarray of shape (n_classes,) or (1,)
    n_iter_ : int
    solver_ : str
        ``"lbfgs"`` or ``"liblinear"``: the solver that ran.

    References
    ----------
    R.-E. Fan, K.-W. Chang, C.-J. Hsieh, X.-R. Wang and C.-J. Lin,
    "LIBLINEAR: A Library for Large Linear Classification", JMLR 9, 2008
    (the primal problem); D. C. Liu and J. Nocedal, "On the limited memory
    BFGS method for large scale optimization", Math. Programming 45, 1989.
    """

    def __init__(self, C=1.0, solver="lbfgs", tol=1e-5, max_iter=1000, fit_intercept=True):
        self.C = C
        self.solver = solver
        self.tol = tol
        self.max_iter = max_iter
        self.fit_intercept = fit_intercept

    def fit(self, X, y):
        if self.solver not in _SOLVERS:
            raise ValueError(f"LinearSVM needs solver in {_SOLVERS}, got solver={self.solver!r}")
        if not (isinstance(self.C, (int, float)) and self.C > 0):
            raise ValueError(f"LinearSVM needs C > 0, got C={self.C!r}")
        X, y = validate_data(self, X, y, dtype=np.float32, order="C")
        enc = LabelEncoder().fit(y)
        self.classes_ = enc.classes_
        if len(self.classes_) < 2:
            raise ValueError(f"LinearSVM needs at least 2 classes, got {len(self.classes_)}")
        self.solver_ = self.solver
        if self.solver == "liblinear":
            svc = LinearSVC(
                C=self.C, dual=False, tol=self.tol, max_iter=self.max_iter,
                fit_intercept=self.fit_intercept,
            ).fit(X, y)  # fmt: skip
            self.coef_, self.intercept_ = svc.coef_, svc.intercept_
            self.n_iter_ = int(np.max(svc.n_iter_))
            return self
        codes = enc.transform(y)
        k = 1 if len(self.classes_) == 2 else len(self.classes_)
        if k == 1:
            Y = np.where(codes == 1, 1.0, -1.0).astype(np.float32)[:, None]
        else:
            Y = np.full((len(y), k), -1.0, dtype=np.float32)
            Y[np.arange(len(y)), codes] = 1.0
        fi = int(bool(self.fit_intercept))
        w0 = np.zeros((X.shape[1] + fi) * k)
        res = minimize(
            _squared_hinge,
            w0,
            args=(X, Y, float(self.C), fi),
            jac=True,
            method="L-BFGS-B",
            options={"maxiter": int(self.max_iter), "ftol": float(self.tol), "gtol": 0.0},
        )
        W = res.x.reshape(X.shape[1] + fi, k)
        self.coef_ = np.ascontiguousarray(W[: X.shape[1]].T, dtype=np.float32)
        self.intercept_ = W[X.shape[1]].astype(np.float32) if fi else np.zeros(k, np.float32)
        self.n_iter_ = int(res.nit)
        return self

    def decision_function(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        scores = X @ self.coef_.T + self.intercept_
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        scores = self.decision_function(X)
        idx = (scores > 0).astype(int) if scores.ndim == 1 else scores.argmax(axis=1)
        return self.classes_[idx]
