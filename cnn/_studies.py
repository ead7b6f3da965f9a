"""The cnn_bn ablation grid and the learning-curve / ablation plots."""

from __future__ import annotations

import time

import numpy as np

__all__ = ["ablation_configs", "plot_ablation", "plot_learning_curves", "run_ablation"]


def ablation_configs(baseline=None) -> dict[str, dict]:
    """One-switch-at-a-time variants of a cnn_bn baseline.

    Parameters
    ----------
    baseline : dict, optional
        ``model_params`` of the baseline (default: cnn_bn defaults, i.e.
        BatchNorm on, no dropout, no L2, He-normal init, 2x2 max pooling,
        global-average head) and no augmentation.

    Returns
    -------
    dict
        Name -> ``{"model_params": ..., "augment": ...}``; ``"baseline"``
        first, then ``no_batch_norm``, ``dropout``, ``l2``, ``glorot_init``,
        ``average_pool``, ``global_max_head``, ``flatten_head``, ``augment``.

    References
    ----------
    S. Ioffe and C. Szegedy, "Batch Normalization", ICML 2015; N. Srivastava
    et al., "Dropout", JMLR 2014; K. He et al., ICCV 2015 (initialization).
    """
    base = {
        "batch_norm": True,
        "dropout": 0.0,
        "l2": 0.0,
        "initializer": "he_normal",
        "pooling": "max",
        "head": "global_average",
        **(baseline or {}),
    }
    switches = {
        "no_batch_norm": {"batch_norm": not base["batch_norm"]},
        "dropout": {"dropout": 0.0 if base["dropout"] else 0.25},
        "l2": {"l2": 0.0 if base["l2"] else 5e-4},
        "glorot_init": {"initializer": "glorot_uniform"},
        "average_pool": {"pooling": "average"},
        "global_max_head": {"head": "global_max"},
        "flatten_head": {"head": "flatten"},
    }
    out = {"baseline": {"model_params": base, "augment": None}}
    for name, change in switches.items():
        out[name] = {"model_params": {**base, **change}, "augment": None}
    out["augment"] = {"model_params": base, "augment": "flip_translate"}
    return out


def run_ablation(X, y, X_test, y_test, configs=None, **est_params) -> list[dict]:
    """Train every configuration; rows with train/test accuracy and their gap.

    Parameters
    ----------
    X, y, X_test, y_test : arrays
        uint8 images and labels.
    configs : dict, optional
        From :func:`ablation_configs` (default: its default grid).
    **est_params
        Shared :class:`cnn.KerasClassifier` parameters (epochs, schedule...).

    Returns
    -------
    list of dict
        ``config``, ``n_params``, ``train_accuracy`` (on ``X`` in inference
        mode), ``test_accuracy``, ``gap`` (train - test), ``fit_s``.
    """
    from cnn._estimator import KerasClassifier

    rows = []
    for name, cfg in (configs or ablation_configs()).items():
        est = KerasClassifier(model="cnn_bn", **{**est_params, **cfg})
        t = time.perf_counter()
        est.fit(X, y)
        fit_s = time.perf_counter() - t
        tr = float(np.mean(est.predict(X) == y))
        te = float(np.mean(est.predict(X_test) == y_test))
        rows.append(
            {
                "config": name,
                "n_params": est.n_params_,
                "train_accuracy": tr,
                "test_accuracy": te,
                "gap": tr - te,
                "fit_s": fit_s,
            }
        )
    return rows


def plot_learning_curves(history, epoch_times_s=None, ax=None, title=""):
    """Train/validation loss and accuracy per epoch (or per cumulative second).

    Parameters
    ----------
    history : dict of list
        ``KerasClassifier.history_``.
    epoch_times_s : list of float, optional
        If given, the x axis is cumulative training seconds.
    ax : pair of matplotlib Axes, optional

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(1, 2, figsize=(9, 3.5))
    else:
        fig = ax[0].figure
    n = len(history["loss"])
    x = np.cumsum(epoch_times_s[:n]) if epoch_times_s is not None else np.arange(1, n + 1)
    for i, metric in enumerate(("loss", "accuracy")):
        ax[i].plot(x, history[metric], "o-", label=f"train {metric}")
        if history.get(f"val_{metric}"):
            ax[i].plot(x, history[f"val_{metric}"], "s-", label=f"val {metric}")
        ax[i].set_xlabel("seconds" if epoch_times_s is not None else "epoch")
        ax[i].set_ylabel(metric)
        ax[i].legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def plot_ablation(rows, ax=None):
    """Grouped bars of train and test accuracy per ablation configuration."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    if ax is None:
        fig, ax = plt.subplots(figsize=(max(6, len(rows)), 3.5))
    else:
        fig = ax.figure
    x = np.arange(len(rows))
    ax.bar(x - 0.2, [r["train_accuracy"] for r in rows], 0.4, label="train")
    ax.bar(x + 0.2, [r["test_accuracy"] for r in rows], 0.4, label="test")
    ax.set_xticks(x, [r["config"] for r in rows], rotation=30, ha="right")
    ax.set_ylabel("accuracy")
    ax.legend()
    fig.tight_layout()
    return fig
