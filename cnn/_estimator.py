"""A scikit-learn classifier that trains a registered Keras CNN."""

from __future__ import annotations

import time

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.model_selection import train_test_split
from sklearn.utils.validation import check_is_fitted

from cnn._checkpoint import EpochCheckpoint, training_fingerprint
from cnn._device import accelerator
from cnn._registry import get_model
from cnn._training import (
    BatchTimeBudget,
    EpochTimer,
    FitScheduleToBudget,
    OneCycle,
    TimeBudget,
    make_augmentation,
    make_dataset,
    make_schedule,
)
from features._validation import check_images

__all__ = ["KerasClassifier"]

_HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy")


class KerasClassifier(ClassifierMixin, BaseEstimator):
    """Train a CNN from :data:`cnn.MODELS` on uint8 images, sklearn style.

    ``X`` is uint8 of shape ``(n, H, W, C)`` (or ``(n, H, W)``); the
    estimator scales pixels to [0, 1] itself, in the input pipeline, so the
    Keras model (and its ONNX export) takes float32 inputs in [0, 1].

    Parameters
    ----------
    model : str, default="simple_convnet"
        Registered builder name (:func:`cnn.list_models`).
    model_params : dict, optional
        Keyword arguments for the builder (its hyper-parameters).
    epochs : int, default=12
    batch_size : int, default=128
    optimizer : {"adam", "adamw", "sgd"}, default="adam"
        "sgd" uses Nesterov momentum ``momentum``.
    learning_rate : float, default=1e-3
        Peak rate when a schedule is used.
    lr_schedule : {None, "cosine", "one_cycle", "step"}, default=None
        See :func:`cnn.make_schedule`; laid out over ``epochs``. With
        ``max_time_s``, "one_cycle" is re-planned after every epoch to end
        within the budget (:class:`cnn._training.FitScheduleToBudget`;
        TensorFlow backend); otherwise a schedule is cut off unfinished when
        the budget runs out.
    warmup_epochs : float, default=0
        Linear warm-up for "cosine".
    weight_decay : float, default=0.0
        Decoupled weight decay for "adamw" / "sgd" (Keras optimizer option).
    momentum : float, default=0.9
        For "sgd".
    validation_split : float, default=0.1
        Stratified held-out fraction of the training data for per-epoch
        ``val_*`` metrics (ignored when ``validation_data`` is given to
        ``fit``; 0 = none).
    augment : None, str, dict or keras.layers.Layer, default=None
        Training-time augmentation (:func:`cnn.make_augmentation`), applied
        in the input pipeline with Keras preprocessing layers.
    early_stopping : int, optional
        Patience in epochs on ``monitor``; best weights are restored.
    monitor : str, default="val_loss"
    max_time_s : float, optional
        Wall-second budget for training: checked after every batch on the
        TensorFlow backend, after every epoch (predictively) on the others,
        where a per-batch Keras hook would synchronise the device each step.
    mixed_precision : {"auto", True, False} or str, default="auto"
        "auto": "mixed_bfloat16" on a GPU, float32 otherwise; True means
        "mixed_bfloat16"; a string is used as the Keras dtype policy.
    jit_compile : {"auto", True, False}, default="auto"
        Passed to ``model.compile`` (Keras' "auto" uses XLA on GPU/JAX, not on
        TensorFlow CPU).
    deterministic : bool, default=False
        Deterministic ops (TensorFlow: ``enable_op_determinism``; torch:
        ``use_deterministic_algorithms``; JAX on GPU needs
        ``XLA_FLAGS=--xla_gpu_deterministic_ops=true`` before start-up).
    predict_batch_size : int, default=512
        Chunk size of ``predict``; each chunk goes through the fast
        ``predict_on_batch`` path (batch-1 calls cost ~1 ms, not ~60 ms).
    random_state : int, optional
        Seed given once to ``keras.utils.set_random_seed`` in ``fit``; None
        draws one, stored in ``seed_`` either way.
    verbose : int, default=0
        Keras ``fit`` verbosity.
    callbacks : list of keras.callbacks.Callback, optional
        Extra callbacks for ``fit`` (e.g. ``keras.callbacks.CSVLogger``),
        run after the estimator's own.
    checkpoint_dir : str or path-like, optional
        Folder for a snapshot of the training after every epoch (weights,
        optimizer state, history, time spent; :class:`cnn._checkpoint.EpochCheckpoint`).
        If it holds the snapshot of an interrupted ``fit`` with the same
        hyper-parameters and data, ``fit`` resumes after its last epoch; time
        already spent counts against ``max_time_s``. Resumed training is
        statistically, not bitwise, the same (data order and augmentation
        are drawn from ``seed_`` plus the epochs done), and ``early_stopping``
        restarts its patience. Removed when
        ``fit`` completes. A snapshot of another training raises ``ValueError``.
    checkpoint_every_s : float, default=60.0
        Least training seconds between two snapshots (0: after every epoch);
        a kill loses at most this much training, and short epochs (on a GPU)
        do not pay for a snapshot each.

    Attributes
    ----------
    model_ : keras.Model
    classes_ : ndarray
    history_ : dict of list of float
        ``loss``, ``accuracy``, ``val_loss``, ``val_accuracy`` per epoch
        (``val_*`` empty without validation data), plus ``learning_rate``
        when Keras logs it.
    epoch_times_s_ : list of float
        Training wall seconds per epoch (validation excluded).
    epoch_wall_s_ : list of float
        Whole-epoch wall seconds (validation included).
    n_params_ : int
    model_bytes_ : int
        Sum of ``nbytes`` of all weights (trainable and not).
    train_images_per_s_ : float
        Steady-state training throughput (epochs after the first, which
        includes tracing/compilation; the first if only one ran).
    fit_time_s_ : float
    seed_ : int
    backend_, device_ : str
    dtype_policy_ : str
    stopped_by_ : {None, "early_stopping", "time_budget"}
    resumed_epochs_ : int
        Epochs restored from ``checkpoint_dir`` (0: trained from scratch).
    resumed_fit_s_ : float
        Training wall seconds of the interrupted fits that were resumed.

    References
    ----------
    F. Chollet et al., Keras 3, https://keras.io (2023).
    """

    def __init__(
        self,
        model="simple_convnet",
        model_params=None,
        epochs=12,
        batch_size=128,
        optimizer="adam",
        learning_rate=1e-3,
        lr_schedule=None,
        warmup_epochs=0,
        weight_decay=0.0,
        momentum=0.9,
        validation_split=0.1,
        augment=None,
        early_stopping=None,
        monitor="val_loss",
        max_time_s=None,
        mixed_precision="auto",
        jit_compile="auto",
        deterministic=False,
        predict_batch_size=512,
        random_state=None,
        verbose=0,
        callbacks=None,
        checkpoint_dir=None,
        checkpoint_every_s=60.0,
    ):
        self.model = model
        self.model_params = model_params
        self.epochs = epochs
        self.batch_size = batch_size
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.lr_schedule = lr_schedule
        self.warmup_epochs = warmup_epochs
        self.weight_decay = weight_decay
        self.momentum = momentum
        self.validation_split = validation_split
        self.augment = augment
        self.early_stopping = early_stopping
        self.monitor = monitor
        self.max_time_s = max_time_s
        self.mixed_precision = mixed_precision
        self.jit_compile = jit_compile
        self.deterministic = deterministic
        self.predict_batch_size = predict_batch_size
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.checkpoint_dir = checkpoint_dir
        self.checkpoint_every_s = checkpoint_every_s

    # ------------------------------------------------------------------ fit
    def _policy(self, platform: str) -> str:
        mp = self.mixed_precision
        if mp == "auto":
            return "mixed_bfloat16" if platform == "gpu" else "float32"
        if mp is True:
            return "mixed_bfloat16"
        if mp is False or mp is None:
            return "float32"
        return str(mp)

    def _make_optimizer(self, lr):
        name = self.optimizer
        if name == "adam":
            return keras.optimizers.Adam(lr)
        if name == "adamw":
            return keras.optimizers.AdamW(lr, weight_decay=self.weight_decay or 0.004)
        if name == "sgd":
            return keras.optimizers.SGD(
                lr, momentum=self.momentum, nesterov=True, weight_decay=self.weight_decay or None
            )
        raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {name!r}")

    def _set_determinism(self, backend: str) -> None:
        if not self.deterministic:
            return
        if backend == "tensorflow":
            import tensorflow as tf

            tf.config.experimental.enable_op_determinism()
        elif backend == "torch":
            import torch

            torch.use_deterministic_algorithms(True)

    def fit(self, X, y, validation_data=None):
        """Build and train the model.

        Parameters
        ----------
        X : ndarray of uint8, shape (n, H, W, C) or (n, H, W)
        y : array-like of shape (n,)
        validation_data : tuple (X_val, y_val), optional
            Evaluated after every epoch instead of a ``validation_split``
            hold-out (pass the test set for time-to-accuracy curves).

        Returns
        -------
        self
        """
        X = check_images(X, estimator=self)
        y = np.asarray(y)
        if y.shape != (len(X),):
            raise ValueError(f"y must have shape ({len(X)},), got {y.shape}")
        for name in ("epochs", "batch_size", "predict_batch_size"):
            v = getattr(self, name)
            if not isinstance(v, (int, np.integer)) or v < 1:
                raise ValueError(f"{name} must be a positive int, got {v!r}")
        if not 0.0 <= self.validation_split < 1.0:
            raise ValueError(f"validation_split must be in [0, 1), got {self.validation_split!r}")
        get_model(self.model)  # unknown names fail before any work

        seed = self.random_state
        if seed is None:
            seed = int(np.random.SeedSequence().generate_state(1)[0] % (2**31 - 1))
        self.seed_ = int(seed)
        keras.utils.set_random_seed(self.seed_)
        backend, platform, name = accelerator()
        self._set_determinism(backend)
        self.backend_ = backend
        self.device_ = " ".join(p for p in (platform, name) if p)

        self.classes_, y_idx = np.unique(y, return_inverse=True)
        y_idx = y_idx.astype(np.int32)
        self.input_shape_ = tuple(int(s) for s in X.shape[1:])

        if validation_data is not None:
            X_tr, y_tr = X, y_idx
            X_val = check_images(
                validation_data[0], estimator=self, expected_shape=self.input_shape_
            )
            y_val = np.searchsorted(self.classes_, np.asarray(validation_data[1])).astype(np.int32)
        elif self.validation_split > 0:
            n_val = max(1, int(round(self.validation_split * len(X))))
            strat = y_idx if n_val >= len(self.classes_) else None
            try:
                X_tr, X_val, y_tr, y_val = train_test_split(
                    X, y_idx, test_size=n_val, random_state=self.seed_, stratify=strat
                )
            except ValueError:  # too few per class to stratify
                X_tr, X_val, y_tr, y_val = train_test_split(
                    X, y_idx, test_size=n_val, random_state=self.seed_
                )
        else:
            X_tr, y_tr, X_val, y_val = X, y_idx, None, None

        policy = self._policy(platform)
        self.dtype_policy_ = policy
        previous = keras.config.dtype_policy().name
        keras.config.set_dtype_policy(policy)
        try:
            model = get_model(self.model).build(
                input_shape=self.input_shape_,
                num_classes=len(self.classes_),
                **(self.model_params or {}),
            )
        finally:
            keras.config.set_dtype_policy(previous)

        steps_per_epoch = int(np.ceil(len(X_tr) / self.batch_size))
        lr = make_schedule(
            self.lr_schedule,
            self.learning_rate,
            steps_per_epoch * self.epochs,
            warmup_steps=int(self.warmup_epochs * steps_per_epoch),
        )
        model.compile(
            optimizer=self._make_optimizer(lr),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            jit_compile=self.jit_compile,
        )

        timer = EpochTimer()
        callbacks = [timer]
        budget = None
        if self.max_time_s is not None:
            # Per-batch checks only where they cost no device sync (TensorFlow).
            budget_cls = BatchTimeBudget if backend == "tensorflow" else TimeBudget
            budget = budget_cls(self.max_time_s)
            callbacks.append(budget)
        fitter = None
        if self.max_time_s is not None and isinstance(lr, OneCycle) and backend == "tensorflow":
            fitter = FitScheduleToBudget(lr, self.max_time_s, steps_per_epoch, self.epochs)
            callbacks.append(fitter)
        stopper = None
        if self.early_stopping:
            monitor = self.monitor if X_val is not None else self.monitor.removeprefix("val_")
            stopper = keras.callbacks.EarlyStopping(
                monitor=monitor, patience=int(self.early_stopping), restore_best_weights=True
            )
            callbacks.append(stopper)
        callbacks.extend(self.callbacks or ())
        checkpoint, initial_epoch = None, 0
        if self.checkpoint_dir is not None:
            parts = {"timer": timer, "budget": budget, "fitter": fitter}
            checkpoint = EpochCheckpoint(
                self.checkpoint_dir,
                self._fingerprint(X_tr, y_tr, X_val, y_val),
                {k: v for k, v in parts.items() if v is not None},
                every_s=self.checkpoint_every_s,
            )
            callbacks.append(checkpoint)  # last: the parts have recorded the epoch
            initial_epoch = checkpoint.restore(model)
        self.resumed_epochs_ = initial_epoch
        self.resumed_fit_s_ = float(sum(timer.epoch_s))

        # a resumed fit draws new data orders and augmentations (seed moved on
        # by the epochs done) instead of replaying those of the first epochs
        data_seed = self.seed_ + initial_epoch
        aug = make_augmentation(self.augment, self.input_shape_, seed=data_seed)
        train = make_dataset(
            X_tr, y_tr, self.batch_size, shuffle=True, augment_layer=aug, seed=data_seed
        )
        val = None
        if X_val is not None:
            val = make_dataset(X_val, y_val, self.predict_batch_size)

        t0 = time.perf_counter()
        history = {}
        if initial_epoch < self.epochs and not (checkpoint and checkpoint.restored_stop):
            history = model.fit(
                train,
                epochs=self.epochs,
                initial_epoch=initial_epoch,
                shuffle=False,  # the input pipeline reshuffles every epoch itself
                validation_data=val,
                callbacks=callbacks,
                verbose=self.verbose,
            ).history
        self.fit_time_s_ = self.resumed_fit_s_ + time.perf_counter() - t0
        if checkpoint is not None:
            history = checkpoint.history  # restored epochs, then this fit's
            checkpoint.clear()

        self.model_ = model
        self.history_ = {k: [float(v) for v in history.get(k, [])] for k in _HISTORY_KEYS}
        if "learning_rate" in history:
            self.history_["learning_rate"] = [float(v) for v in history["learning_rate"]]
        self.epoch_times_s_ = [float(t) for t in timer.train_s]
        self.epoch_wall_s_ = [float(t) for t in timer.epoch_s]
        full = int(np.ceil(len(X_tr) / self.batch_size))
        counted = budget is not None and budget.steps is not None
        self.epoch_steps_ = list(budget.steps) if counted else [full] * len(timer.train_s)
        self.n_params_ = int(model.count_params())
        self.model_bytes_ = int(sum(np.asarray(w).nbytes for w in model.get_weights()))
        self.train_images_per_s_ = self._throughput(len(X_tr))
        self.stopped_by_ = None
        if budget is not None and budget.stopped:
            self.stopped_by_ = "time_budget"
        elif fitter is not None and fitter.planned_epochs < self.epochs:
            self.stopped_by_ = "time_budget"
        elif stopper is not None and stopper.stopped_epoch > 0:
            self.stopped_by_ = "early_stopping"
        return self

    def _fingerprint(self, X_tr, y_tr, X_val, y_val) -> str:
        """What a checkpoint is valid for: hyper-parameters, training and validation data."""
        operational = {
            "verbose",
            "callbacks",
            "checkpoint_dir",
            "checkpoint_every_s",
            "predict_batch_size",
        }
        params = {k: v for k, v in self.get_params().items() if k not in operational}
        if X_val is not None:
            params["validation"] = training_fingerprint({}, X_val, y_val)
        return training_fingerprint(params, X_tr, y_tr)

    def _throughput(self, n_train: int) -> float:
        times, steps = self.epoch_times_s_, self.epoch_steps_
        full = int(np.ceil(n_train / self.batch_size))
        idx = [i for i in range(1, len(times)) if steps[i] == full] or [0]
        imgs = sum(min(steps[i] * self.batch_size, n_train) for i in idx)
        secs = sum(times[i] for i in idx)
        return float(imgs / secs) if secs > 0 else float("nan")

    # -------------------------------------------------------------- predict
    def _scaled(self, X) -> np.ndarray:
        X = check_images(X, estimator=self, expected_shape=self.input_shape_)
        return X.astype(np.float32) * np.float32(1.0 / 255.0)

    def predict_proba(self, X):
        """Class probabilities, shape ``(n, n_classes)``, via ``predict_on_batch`` chunks."""
        check_is_fitted(self, "model_")
        X = check_images(X, estimator=self, expected_shape=self.input_shape_)
        bs = self.predict_batch_size
        out = [
            np.asarray(self.model_.predict_on_batch(self._scaled(X[i : i + bs])))
            for i in range(0, len(X), bs)
        ]
        return np.concatenate(out).astype(np.float32, copy=False)

    def predict(self, X):
        """Predicted labels (from ``classes_``)."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def describe_device(self) -> str:
        """Backend and device of the fit, e.g. "tensorflow cpu" (before fit: this process's)."""
        if hasattr(self, "backend_"):
            return f"{self.backend_} {self.device_}".strip()
        from cnn._device import describe_device

        return describe_device()

    # ------------------------------------------------------------- export
    def float32_model(self) -> keras.Model:
        """The fitted model in float32 (rebuilt with the same weights if trained mixed)."""
        check_is_fitted(self, "model_")
        if self.dtype_policy_ == "float32":
            return self.model_
        previous = keras.config.dtype_policy().name
        keras.config.set_dtype_policy("float32")
        try:
            m = get_model(self.model).build(
                input_shape=self.input_shape_,
                num_classes=len(self.classes_),
                **(self.model_params or {}),
            )
        finally:
            keras.config.set_dtype_policy(previous)
        m.set_weights([np.asarray(w, dtype=np.float32) for w in self.model_.get_weights()])
        m(np.zeros((1, *self.input_shape_), np.float32), training=False)
        return m

    def export_onnx(self, path):
        """Write the fitted model to ONNX (input: float32 NHWC in [0, 1]); returns the path."""
        from cnn._onnx import export_onnx

        return export_onnx(self.float32_model(), path)

    def to_cv_dnn(self, path, **kwargs):
        """Export to ``path`` and return a loaded :class:`cnn.CvDnnClassifier`."""
        from cnn._onnx import CvDnnClassifier

        self.export_onnx(path)
        return CvDnnClassifier(path, self.classes_, self.input_shape_, **kwargs).fit()
