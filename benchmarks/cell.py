"""One benchmark cell: (dataset, method, seed) → one result row.

:func:`run_cell` is a pure function of its :class:`CellConfig` (up to timing
noise): it loads the data, builds the method, fits, evaluates and measures, and
returns a flat row. It never raises for a failing method: the row carries the
error instead, so a sweep goes on.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import pickle
import re
import resource
import statistics
import sys
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["CellConfig", "count_parameters", "measure_latency_ms", "run_cell"]


@dataclass(frozen=True)
class CellConfig:
    """Everything that determines one cell.

    Parameters
    ----------
    dataset : str
        Dataset name or spec (``"mnist"``, ``"npz:/data/x.npz"``, ``"folder:/data/imgs"``).
    method : str
        ``"feature+classifier"`` or a CNN model name.
    seed : int, default=0
        Seeds the subset draw and every seeded component.
    params : dict, default={}
        Method parameters (see :func:`benchmarks.methods.build_method`).
    n_train, n_test : int or None
        Stratified subset sizes; ``None`` uses the whole split.
    data_dir : str or None
        Directory searched first for dataset files.
    cache_dir : str or None
        Feature / decoded-data cache; ``None`` disables the feature cache.
    run_id : str, default=""
        Written into the row.
    executor : str, default="inline"
        How the cell was run (``"process"``: a fresh process per cell); written into the row.
    latency_repeats : int, default=30
        Single-image predictions timed for ``latency_batch1_ms``.
    train_eval_max : int, default=5000
        Training images (a fixed stratified draw) scored for ``train_accuracy``.
    cv_dnn : bool, default=False
        For CNN cells: also export the trained model to ONNX and measure
        inference through OpenCV's ``cv2.dnn`` (accuracy, images/s, batch-1
        latency) beside Keras's. Uses tf2onnx and onnx.
    imports : tuple of str, default=()
        Modules imported before the cell runs, so that components they register
        (a user's own feature method) exist in a fresh cell process too.
    work_dir : str or None, default=None
        Scratch folder that outlives an interrupted cell: a CNN keeps its
        per-epoch checkpoint there (``checkpoint/``), so that rerunning the
        cell resumes training after the last finished epoch. Where, not what:
        not part of :attr:`cell_id`. The runner sets it to
        ``<run dir>/cells/<cell_id>.partial`` and removes it once the cell's
        row is on disk (:meth:`benchmarks.results.RunDir.add`).
    """

    dataset: str
    method: str
    seed: int = 0
    params: Mapping[str, Any] = field(default_factory=dict)
    n_train: int | None = None
    n_test: int | None = None
    data_dir: str | None = None
    cache_dir: str | None = None
    run_id: str = ""
    executor: str = "inline"
    latency_repeats: int = 30
    train_eval_max: int = 5000
    cv_dnn: bool = False
    imports: tuple[str, ...] = ()
    work_dir: str | None = None

    @property
    def cell_id(self) -> str:
        """Stable id of what is measured (not of where or how it runs)."""
        ident = {
            "dataset": self.dataset,
            "method": self.method,
            "seed": self.seed,
            "params": self.params,
            "n_train": self.n_train,
            "n_test": self.n_test,
        }
        digest = hashlib.sha256(json.dumps(ident, sort_keys=True).encode()).hexdigest()[:10]
        slug = re.sub(r"[^A-Za-z0-9_.+-]+", "-", f"{self.dataset}__{self.method}")[-80:]
        return f"{slug}__s{self.seed}__{digest}"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def measure_latency_ms(
    predict: Callable[[np.ndarray], Any],
    x: np.ndarray,
    *,
    repeats: int = 30,
    warmup: int = 3,
    budget_s: float = 5.0,
) -> float:
    """Median wall milliseconds of ``predict`` on one image, after warm-up.

    Cycles through the images of ``x`` one at a time; stops early after
    ``budget_s`` seconds of timed calls (at least 3 are always timed).
    """
    for i in range(warmup):
        predict(x[i % len(x)][None])
    times: list[float] = []
    spent = 0.0
    for i in range(repeats):
        one = x[i % len(x)][None]
        t0 = time.perf_counter()
        predict(one)
        dt = time.perf_counter() - t0
        times.append(dt)
        spent += dt
        if spent > budget_s and len(times) >= 3:
            break
    return 1000.0 * statistics.median(times)


def count_parameters(estimator: Any) -> int:
    """Numbers a fitted scikit-learn estimator stores (arrays and tree nodes).

    Counts every numeric array among the fitted attributes of each step,
    recursing into pipelines and ensembles; a decision tree counts its node
    values plus split feature and threshold per node. Keras models report their
    own count through ``n_params_``.
    """
    seen: set[int] = set()

    def walk(obj: Any) -> int:
        if id(obj) in seen or obj is None:
            return 0
        seen.add(id(obj))
        if hasattr(obj, "n_params_"):
            return int(obj.n_params_)
        if hasattr(obj, "steps"):
            return sum(walk(step) for _, step in obj.steps if not isinstance(step, str))
        total = 0
        tree = getattr(obj, "tree_", None)
        if tree is not None and hasattr(tree, "node_count"):
            total += int(tree.value.size + 2 * tree.node_count)
        for name, value in vars(obj).items():
            if not name.endswith("_") and not name.startswith("_fit"):
                continue
            if isinstance(value, np.ndarray) and value.dtype.kind in "fiuc":
                total += value.size
            elif isinstance(value, (list, tuple)):
                total += sum(walk(v) for v in value if hasattr(v, "get_params"))
            elif hasattr(value, "get_params") and hasattr(value, "fit"):
                total += walk(value)
        return total

    return walk(estimator)


def _peak_rss_mb() -> float:
    """High-water resident memory of this process, in MiB.

    On Linux this is ``VmHWM`` of ``/proc/self/status``, the peak of this
    process's own address space. ``ru_maxrss`` is not used there: Linux carries
    it across ``fork`` + ``exec``, so a cell process spawned by a parent that
    holds TensorFlow would report the parent's size.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
    except OSError:
        pass
    scale = 1024.0 if sys.platform != "darwin" else 1024.0 * 1024.0  # KiB on Linux, B on macOS
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale


def _train_eval_indices(y: np.ndarray, n_max: int, seed: int) -> np.ndarray:
    if len(y) <= n_max:
        return np.arange(len(y))
    from sklearn.model_selection import train_test_split

    idx, _ = train_test_split(
        np.arange(len(y)), train_size=n_max, stratify=y, random_state=seed + 7919
    )
    return np.sort(idx)


def _base_row(cfg: CellConfig) -> dict[str, Any]:
    from benchmarks.environment import collect_environment

    row: dict[str, Any] = dict(collect_environment())
    row.pop("executable", None)
    row.update(
        run_id=cfg.run_id,
        cell_id=cfg.cell_id,
        dataset=cfg.dataset,
        method=cfg.method,
        params_json=json.dumps(cfg.params, sort_keys=True),
        seed=cfg.seed,
        executor=cfg.executor,
        device="cpu",
    )
    return row


def run_cell(cfg: CellConfig) -> dict[str, Any]:
    """Run one cell and return its result row (see :data:`benchmarks.results.COLUMNS`).

    Failures of any step become a row whose ``error`` holds the exception type,
    message and the innermost frame; the metrics are left empty.
    """
    t_start = time.perf_counter()
    row = _base_row(cfg)
    try:
        for module in cfg.imports:
            importlib.import_module(module)
        row.update(_run(cfg, row))
        row["error"] = ""
    except Exception as exc:  # a failing cell becomes a row, and the sweep goes on
        tb = traceback.extract_tb(exc.__traceback__)
        where = f" ({tb[-1].filename}:{tb[-1].lineno})" if tb else ""
        row["error"] = f"{type(exc).__name__}: {exc}{where}"
    row["peak_rss_mb"] = round(_peak_rss_mb(), 1)
    row["wall_s"] = round(time.perf_counter() - t_start, 3)
    row["timestamp_utc"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return row


def _run(cfg: CellConfig, row: dict[str, Any]) -> dict[str, Any]:
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.pipeline import Pipeline

    from benchmarks.datasets import load_dataset
    from benchmarks.methods import build_method, parse_method

    spec = parse_method(cfg.method)
    row.update(
        family=spec.family, feature=spec.feature, classifier=spec.classifier, model=spec.model
    )
    data = load_dataset(
        cfg.dataset,
        data_dir=cfg.data_dir,
        n_train=cfg.n_train,
        n_test=cfg.n_test,
        seed=cfg.seed,
        cache_dir=cfg.cache_dir,
    )
    row.update(
        dataset_title=data.title,
        data_source=data.source,
        data_kind=data.kind,
        data_fingerprint=data.fingerprint,
        image_shape="x".join(map(str, data.image_shape)),
        n_classes=data.n_classes,
        n_train=len(data.y_train),
        n_test=len(data.y_test),
    )
    estimator = build_method(cfg.method, _estimator_params(spec, cfg.params), seed=cfg.seed)
    x_tr, y_tr, x_te, y_te = data.x_train, data.y_train, data.x_test, data.y_test
    out: dict[str, Any] = {}

    if isinstance(estimator, Pipeline) and estimator.steps[0][0] == "features":
        from sklearn.base import clone

        from features import extract_features

        ex = extract_features(
            estimator.steps[0][1],
            x_tr,
            y_tr,
            x_te,
            dataset_fingerprint=data.fingerprint,
            cache_dir=cfg.cache_dir,
        )
        head = Pipeline(
            [(n, clone(s) if not isinstance(s, str) else s) for n, s in estimator.steps[1:]]
        )
        t0 = time.perf_counter()
        head.fit(ex.train, y_tr)
        fit_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        pred = head.predict(ex.test)
        predict_s = time.perf_counter() - t0
        fitted = Pipeline([("features", ex.extractor), *head.steps])
        idx = _train_eval_indices(y_tr, cfg.train_eval_max, cfg.seed)
        train_pred = head.predict(ex.train[idx])
        infer_s = ex.transform_s + predict_s
        out.update(
            n_features=ex.train.shape[1],
            extract_s=ex.fit_transform_s + ex.transform_s,
            extract_images_per_s=len(y_te) / ex.transform_s if ex.transform_s > 0 else None,
            predict_images_per_s=len(y_te) / infer_s if infer_s > 0 else None,
            feature_cache_hit=bool(ex.cache_hit),
            model_bytes=len(pickle.dumps(fitted, protocol=pickle.HIGHEST_PROTOCOL)),
            solver=getattr(head.steps[-1][1], "solver_", None),
        )
    else:
        eval_test = spec.family == "cnn" and bool(cfg.params.get("eval_test_each_epoch", False))
        fit_kwargs = {"validation_data": (x_te, y_te)} if eval_test else {}
        if cfg.work_dir and "checkpoint_dir" in estimator.get_params():
            estimator.set_params(checkpoint_dir=str(Path(cfg.work_dir) / "checkpoint"))
        t0 = time.perf_counter()
        estimator.fit(x_tr, y_tr, **fit_kwargs)
        # a resumed fit: add the training time of the interrupted attempts
        fit_s = time.perf_counter() - t0 + getattr(estimator, "resumed_fit_s_", 0.0)
        # warm-up: an untimed pass traces the predict function for every chunk
        # shape, so that predict_s is steady-state inference (returns NumPy:
        # the device is synchronised)
        estimator.predict(x_te)
        t0 = time.perf_counter()
        pred = estimator.predict(x_te)
        predict_s = time.perf_counter() - t0
        fitted = estimator
        idx = _train_eval_indices(y_tr, cfg.train_eval_max, cfg.seed)
        train_pred = estimator.predict(x_tr[idx])
        history = getattr(estimator, "history_", None)
        if hasattr(estimator, "describe_device"):
            row["device"] = estimator.describe_device()
        else:
            try:
                import cnn

                row["device"] = cnn.describe_device()
            except Exception:
                pass
        if cfg.cv_dnn:
            out.update(_cv_dnn_metrics(estimator, x_te, y_te, cfg.latency_repeats))
        out.update(
            predict_images_per_s=len(y_te) / predict_s if predict_s > 0 else None,
            model_bytes=getattr(estimator, "model_bytes_", None),
            epochs_run=len(history["loss"]) if history else None,
            history_json=json.dumps(
                {
                    "history": history,
                    "epoch_times_s": getattr(estimator, "epoch_times_s_", None),
                    # what the val_* metrics were measured on: "test" (every test
                    # image after each epoch), "split" (a held-out training slice)
                    "validation": "test"
                    if eval_test
                    else ("split" if history.get("val_loss") else None),
                },
                default=float,
            )
            if history
            else None,
            train_images_per_s=_finite(getattr(estimator, "train_images_per_s_", None)),
            stopped_by=getattr(estimator, "stopped_by_", None),
            resumed_epochs=getattr(estimator, "resumed_epochs_", None),
        )
        if eval_test and history:
            from cnn import time_to_accuracy

            targets = _accuracy_targets(cfg.params, data.image_shape)
            out["time_to_target_s"] = json.dumps(
                {
                    f"{t:g}": _round(
                        time_to_accuracy(history, estimator.epoch_times_s_, t, key="val_accuracy")
                    )
                    for t in targets
                }
            )

    out.update(
        accuracy=float(accuracy_score(y_te, pred)),
        macro_f1=float(f1_score(y_te, pred, average="macro")),
        train_accuracy=float(accuracy_score(y_tr[idx], train_pred)),
        fit_s=fit_s,
        predict_s=predict_s,
        n_params=count_parameters(fitted),
        latency_batch1_ms=measure_latency_ms(fitted.predict, x_te, repeats=cfg.latency_repeats),
    )
    return out


#: Keys of a CNN method's params read by the runner, not by :class:`cnn.KerasClassifier`.
#:
#: ``eval_test_each_epoch`` (bool, default false): pass the test split to ``fit``
#: as ``validation_data``, so that ``history_json``'s ``val_*`` metrics are test
#: metrics after every epoch and ``time_to_target_s`` can be measured
#: (DAWNBench style). Training then uses every training image (the
#: estimator's ``validation_split`` is ignored) and makes no decision from
#: the test metrics, except that ``early_stopping`` (off unless set) would then
#: monitor the test split: request both only knowingly. Evaluating the test
#: split costs wall time inside a ``max_time_s`` budget (it is excluded from
#: ``time_to_target_s``, which counts training seconds only).
#:
#: ``accuracy_targets`` (list of float): targets of ``time_to_target_s``;
#: default 0.99 for gray images, 0.90 and 0.94 for colour (CIFAR-like) ones.
CNN_RUNNER_PARAMS = ("eval_test_each_epoch", "accuracy_targets")


def _estimator_params(spec, params: Mapping[str, Any]) -> dict[str, Any]:
    """``params`` without the runner's own keys (:data:`CNN_RUNNER_PARAMS`) for a CNN."""
    if spec.family != "cnn":
        return dict(params)
    return {k: v for k, v in params.items() if k not in CNN_RUNNER_PARAMS}


def _accuracy_targets(params: Mapping[str, Any], image_shape) -> tuple[float, ...]:
    targets = params.get("accuracy_targets")
    if targets is None:
        color = len(image_shape) == 3 and image_shape[-1] == 3
        return (0.90, 0.94) if color else (0.99,)
    targets = [targets] if isinstance(targets, (int, float)) else list(targets)
    if not targets or not all(isinstance(t, (int, float)) and 0 < t <= 1 for t in targets):
        raise ValueError(f"accuracy_targets must be accuracies in (0, 1], got {targets!r}")
    return tuple(float(t) for t in targets)


def _finite(value) -> float | None:
    return float(value) if value is not None and np.isfinite(value) else None


def _round(value: float | None) -> float | None:
    return None if value is None else round(float(value), 3)


def _cv_dnn_metrics(estimator, x_test, y_test, latency_repeats: int) -> dict[str, Any]:
    """Export a fitted CNN to ONNX and time its inference through ``cv2.dnn``."""
    import tempfile

    from sklearn.metrics import accuracy_score

    with tempfile.TemporaryDirectory(prefix="cvbench-onnx-") as tmp:
        net = estimator.to_cv_dnn(Path(tmp) / "model.onnx")
        net.predict(x_test[:8])  # warm-up: first forward allocates the graph
        t0 = time.perf_counter()
        pred = net.predict(x_test)
        seconds = time.perf_counter() - t0
        latency = measure_latency_ms(net.predict, x_test, repeats=latency_repeats)
    return {
        "cv_dnn_accuracy": float(accuracy_score(y_test, pred)),
        "cv_dnn_images_per_s": len(y_test) / seconds if seconds > 0 else None,
        "cv_dnn_latency_batch1_ms": latency,
    }
