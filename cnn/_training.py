"""Training helpers: input pipeline, augmentation, LR schedules, callbacks.

Everything here is backend-agnostic Keras 3 except the input pipeline, which
uses ``tf.data`` when TensorFlow is importable (it is with tensorflow-cpu
installed, whatever ``KERAS_BACKEND`` says) and a Keras ``PyDataset`` of NumPy
batches otherwise (e.g. a GPU image with JAX but no TensorFlow).
"""

from __future__ import annotations

import math
import time

import keras
import numpy as np

__all__ = [
    "BatchTimeBudget",
    "ArrayBatches",
    "EpochTimer",
    "FitScheduleToBudget",
    "OneCycle",
    "TimeBudget",
    "make_augmentation",
    "make_dataset",
    "make_schedule",
    "time_to_accuracy",
]


def make_augmentation(augment, input_shape, seed=None):
    """Build a Keras preprocessing-layer pipeline for training-time augmentation.

    Parameters
    ----------
    augment : None, str, dict or keras.layers.Layer
        None/"none": no augmentation. "flip_translate" (CIFAR default):
        horizontal flip + random whole-pixel translation by up to
        ``translate`` of the size with zero fill (default 0.125 = 4 px at
        32x32: the pad-4-and-crop of He et al.).
        "translate" (digits: no flip). A dict ``{"flip": bool, "translate":
        float, "rotate": float, "zoom": float}`` picks each one. A layer is
        used as is.
    input_shape : tuple of int
        ``(H, W, C)``.
    seed : int, optional
        Seed of the random layers.

    Returns
    -------
    keras.Sequential or None

    References
    ----------
    K. He et al., "Deep Residual Learning for Image Recognition", CVPR 2016
    (4-pixel padding + random 32x32 crop + horizontal flip on CIFAR-10).
    """
    if augment is None or augment == "none":
        return None
    if isinstance(augment, keras.layers.Layer):
        return augment
    presets = {
        "flip_translate": {"flip": True, "translate": 0.125},
        "translate": {"flip": False, "translate": 0.1},
    }
    if isinstance(augment, str):
        if augment not in presets:
            raise ValueError(f"augment must be None, a dict, a layer or one of {sorted(presets)}")
        augment = presets[augment]
    unknown = set(augment) - {"flip", "translate", "rotate", "zoom"}
    if unknown:
        raise ValueError(f"unknown augmentation keys {sorted(unknown)}")
    L = keras.layers
    steps = []
    if augment.get("flip"):
        steps.append(L.RandomFlip("horizontal", seed=seed))
    if augment.get("translate"):
        t = float(augment["translate"])
        # nearest: whole-pixel shifts with zero fill, i.e. pad-and-crop. The
        # layer's default, bilinear, resamples at fractional offsets and blurs
        # nearly every training image (a Laplacian's variance on CIFAR-10 falls
        # to 57% of the original), which sharp test images then do not match.
        steps.append(
            L.RandomTranslation(t, t, fill_mode="constant", interpolation="nearest", seed=seed)
        )
    if augment.get("rotate"):
        steps.append(L.RandomRotation(float(augment["rotate"]), fill_mode="constant", seed=seed))
    if augment.get("zoom"):
        z = float(augment["zoom"])
        steps.append(L.RandomZoom(z, z, fill_mode="constant", seed=seed))
    if not steps:
        return None
    return keras.Sequential([keras.Input(shape=tuple(input_shape)), *steps], name="augment")


def make_dataset(X, y, batch_size, *, shuffle=False, augment_layer=None, seed=None):
    """Feed uint8 images to ``fit``: shuffle, scale to [0, 1], augment, batch, prefetch.

    Images stay uint8 in memory (4x smaller than float32); scaling and
    augmentation run per batch on the ``tf.data`` CPU threads, overlapping
    with training (``prefetch(AUTOTUNE)``).

    Parameters
    ----------
    X : ndarray of uint8, shape (n, H, W, C)
    y : ndarray of int, shape (n,), optional
    batch_size : int
    shuffle : bool
        Reshuffle every epoch (buffer = whole set).
    augment_layer : keras.Layer, optional
        Applied with ``training=True`` after scaling.
    seed : int, optional

    Returns
    -------
    tf.data.Dataset, or an :class:`ArrayBatches` (a ``keras.utils.PyDataset``
    doing the same steps in NumPy and the Keras backend) where TensorFlow is
    not installed.
    """
    try:
        import tensorflow as tf
    except ImportError:
        return ArrayBatches(
            X, y, batch_size, shuffle=shuffle, augment_layer=augment_layer, seed=seed
        )
    ds = tf.data.Dataset.from_tensor_slices((X, y) if y is not None else X)
    if shuffle:
        ds = ds.shuffle(len(X), seed=seed, reshuffle_each_iteration=True)
    ds = ds.batch(batch_size)
    # Call the preprocessing layers one by one: inside tf.data each switches
    # to TensorFlow ops whatever the backend, a Sequential around them does not
    # (with KERAS_BACKEND=jax it would try JAX ops on symbolic tf.Tensors).
    steps = _augment_steps(augment_layer)

    def prep(x, *rest):
        x = tf.cast(x, tf.float32) / 255.0
        for layer in steps:
            x = layer(x, training=True)
        return (x, *rest)

    ds = ds.map(prep, num_parallel_calls=tf.data.AUTOTUNE)
    return ds.prefetch(tf.data.AUTOTUNE)


def _augment_steps(augment_layer) -> list:
    if augment_layer is None:
        return []
    if isinstance(augment_layer, keras.Sequential):
        return list(augment_layer.layers)
    return [augment_layer]


class ArrayBatches(keras.utils.PyDataset):
    """Batches of uint8 images as a Keras ``PyDataset``, for machines without TensorFlow.

    The same steps as the ``tf.data`` pipeline of :func:`make_dataset`: a new
    permutation every epoch (``shuffle``), scaling to [0, 1], then the Keras
    preprocessing layers with ``training=True``, run by the active backend
    (on a GPU with JAX they run on the device). Batches are prepared by
    ``workers`` threads ahead of the training step.

    Parameters
    ----------
    X : ndarray of uint8, shape (n, H, W, C)
    y : ndarray of int, shape (n,), optional
    batch_size : int
    shuffle : bool, default=False
    augment_layer : keras.Layer, optional
    seed : int, optional
        Seed of the permutations.
    workers : int, default=2
        Threads preparing batches (``keras.utils.PyDataset``).
    """

    def __init__(
        self, X, y, batch_size, *, shuffle=False, augment_layer=None, seed=None, workers=2
    ):
        super().__init__(workers=workers, use_multiprocessing=False, max_queue_size=8)
        self.X, self.y = X, y
        self.batch_size = int(batch_size)
        self.shuffle = shuffle
        self.steps = _augment_steps(augment_layer)
        self._rng = np.random.default_rng(seed)
        self._order = self._rng.permutation(len(X)) if shuffle else np.arange(len(X))

    def __len__(self):
        return math.ceil(len(self.X) / self.batch_size)

    def __getitem__(self, index):
        idx = np.sort(self._order[index * self.batch_size : (index + 1) * self.batch_size])
        x = self.X[idx].astype(np.float32) * np.float32(1.0 / 255.0)
        for layer in self.steps:
            x = keras.ops.convert_to_numpy(layer(x, training=True))
        return x if self.y is None else (x, self.y[idx])

    def on_epoch_end(self):
        if self.shuffle:
            self._order = self._rng.permutation(len(self.X))


@keras.saving.register_keras_serializable(package="cvbench")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """One-cycle learning rate: linear warm-up to ``max_lr``, cosine anneal down.

    Parameters
    ----------
    max_lr : float
    total_steps : int
    pct_start : float, default=0.25
        Fraction of steps spent warming up.
    div_factor : float, default=25
        Start at ``max_lr / div_factor``.
    final_div_factor : float, default=1e4
        End at ``max_lr / (div_factor * final_div_factor)``.

    References
    ----------
    L. N. Smith and N. Topin, "Super-Convergence: Very Fast Training of Neural
    Networks Using Large Learning Rates", 2017 (arXiv:1708.07120).
    """

    def __init__(self, max_lr, total_steps, pct_start=0.25, div_factor=25.0, final_div_factor=1e4):
        self.max_lr = float(max_lr)
        self.total_steps = int(total_steps)
        self.pct_start = float(pct_start)
        self.div_factor = float(div_factor)
        self.final_div_factor = float(final_div_factor)
        # A variable, not a constant, so that a TensorFlow train function reads
        # it at every step and :meth:`set_total_steps` re-plans the cycle. (A
        # jitted JAX step bakes it in at trace time: there it stays fixed.)
        self.total_var = keras.Variable(
            float(self.total_steps), dtype="float32", trainable=False, name="one_cycle_total"
        )

    def set_total_steps(self, total_steps: int) -> None:
        """Re-plan the cycle to end after ``total_steps`` (e.g. to fit a time budget)."""
        self.total_steps = int(max(1, total_steps))
        self.total_var.assign(float(self.total_steps))

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        total = ops.convert_to_tensor(self.total_var)
        up = ops.maximum(1.0, self.pct_start * total)
        down = ops.maximum(1.0, total - up)
        lo = self.max_lr / self.div_factor
        end = lo / self.final_div_factor
        warm = lo + (self.max_lr - lo) * step / up
        t = ops.clip((step - up) / down, 0.0, 1.0)
        anneal = end + (self.max_lr - end) * 0.5 * (1.0 + ops.cos(math.pi * t))
        return ops.where(step < up, warm, anneal)

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div_factor": self.div_factor,
            "final_div_factor": self.final_div_factor,
        }


def make_schedule(kind, learning_rate: float, total_steps: int, warmup_steps: int = 0):
    """Learning-rate schedule by name.

    Parameters
    ----------
    kind : {None, "constant", "cosine", "one_cycle", "step"}
        "cosine": cosine decay to 0 with optional linear warm-up (Loshchilov &
        Hutter 2017); "one_cycle": :class:`OneCycle` peaking at
        ``learning_rate``; "step": x0.1 at 50% and 75% of the steps (He et
        al. 2016).
    learning_rate : float
        Peak (or constant) rate.
    total_steps : int
        Optimizer steps in the whole run (epochs x batches per epoch).
    warmup_steps : int, default=0
        For "cosine".

    Returns
    -------
    float or keras.optimizers.schedules.LearningRateSchedule

    References
    ----------
    I. Loshchilov and F. Hutter, "SGDR: Stochastic Gradient Descent with Warm
    Restarts", ICLR 2017.
    """
    total_steps = max(1, int(total_steps))
    if kind in (None, "constant"):
        return float(learning_rate)
    if kind == "cosine":
        warmup_steps = min(int(warmup_steps), total_steps - 1)
        if warmup_steps:
            return keras.optimizers.schedules.CosineDecay(
                learning_rate / 100.0,
                total_steps - warmup_steps,
                warmup_target=learning_rate,
                warmup_steps=warmup_steps,
            )
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps)
    if kind == "one_cycle":
        return OneCycle(learning_rate, total_steps)
    if kind == "step":
        b = [max(1, total_steps // 2), max(2, (3 * total_steps) // 4)]
        return keras.optimizers.schedules.PiecewiseConstantDecay(
            b, [learning_rate, learning_rate * 0.1, learning_rate * 0.01]
        )
    raise ValueError(f"lr_schedule must be None, 'cosine', 'one_cycle' or 'step', got {kind!r}")


class EpochTimer(keras.callbacks.Callback):
    """Record per-epoch wall seconds (training only and with validation).

    Has no per-batch hook: a Keras callback with one makes ``fit`` turn the
    logs into Python floats after every batch, which synchronises the device
    each step (it also declares ``async_safe``).

    Attributes
    ----------
    train_s : list of float
        From epoch start to the start of validation (or epoch end).
    epoch_s : list of float
        Whole epoch including validation.
    """

    async_safe = True

    def __init__(self):
        super().__init__()
        self.train_s, self.epoch_s = [], []
        self._t0 = self._t_test = None

    def on_epoch_begin(self, epoch, logs=None):
        self._t0, self._t_test = time.perf_counter(), None

    def on_test_begin(self, logs=None):
        if self._t0 is not None and self._t_test is None:
            self._t_test = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        t = time.perf_counter()
        self.train_s.append((self._t_test or t) - self._t0)
        self.epoch_s.append(t - self._t0)
        self._t0 = None

    def get_state(self) -> dict:
        """What a resumed fit needs (:class:`cnn._checkpoint.EpochCheckpoint`)."""
        return {"train_s": list(self.train_s), "epoch_s": list(self.epoch_s)}

    def set_state(self, state: dict) -> None:
        self.train_s, self.epoch_s = list(state["train_s"]), list(state["epoch_s"])


class TimeBudget(keras.callbacks.Callback):
    """Stop training at an epoch end once ``max_time_s`` would be exceeded.

    Checked after every epoch only, and predictively: training stops when
    the elapsed time plus the last epoch's wall time passes the budget. No
    per-batch hook, so it never forces a device sync (safe on JAX, whose
    train step donates the buffers the logs refer to).

    Attributes
    ----------
    steps : list of int or None
        Optimizer steps per epoch (``None``: not counted, whole epochs).
    stopped : bool
    elapsed_before_s : float
        Seconds spent by earlier, interrupted fits of the same training
        (restored by :meth:`set_state`); they count against the budget.
    """

    async_safe = True

    def __init__(self, max_time_s: float):
        super().__init__()
        self.max_time_s = float(max_time_s)
        self.stopped = False
        self.steps = None
        self.elapsed_before_s = 0.0
        self._t0 = self._te = None

    def elapsed_s(self) -> float:
        """Training wall seconds so far, earlier interrupted fits included."""
        return self.elapsed_before_s + (time.perf_counter() - self._t0)

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._te = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        if self.elapsed_s() + (now - self._te) > self.max_time_s:
            self.stopped = True
            self.model.stop_training = True

    def get_state(self) -> dict:
        """What a resumed fit needs (:class:`cnn._checkpoint.EpochCheckpoint`)."""
        steps = None if self.steps is None else list(self.steps)
        return {"elapsed_s": self.elapsed_s(), "steps": steps, "stopped": self.stopped}

    def set_state(self, state: dict) -> None:
        self.elapsed_before_s = float(state["elapsed_s"])
        self.stopped = bool(state["stopped"])
        if self.steps is not None and state["steps"] is not None:
            self.steps = list(state["steps"])


class BatchTimeBudget(TimeBudget):
    """:class:`TimeBudget` that also checks after every batch (TensorFlow backend).

    The epoch in progress ends early and is still validated, so every
    recorded epoch has validation numbers. Dispatched asynchronously
    (``async_safe``), so the check does not synchronise the device; the stop
    may lag a step or two.
    """

    def __init__(self, max_time_s: float):
        super().__init__(max_time_s)
        self.steps = []

    def on_epoch_begin(self, epoch, logs=None):
        super().on_epoch_begin(epoch, logs)
        self.steps.append(0)

    def on_train_batch_end(self, batch, logs=None):
        self.steps[-1] = batch + 1
        if self.elapsed_s() >= self.max_time_s:
            self.stopped = True
            self.model.stop_training = True


class FitScheduleToBudget(keras.callbacks.Callback):
    """Shrink a :class:`OneCycle` so that it ends inside a wall-time budget.

    After every epoch, the epochs still affordable are estimated from the
    mean wall time of the last three epochs after the first, plus 5%
    (validation included; the first epoch also pays tracing/compilation, so
    the first estimate is conservative); the schedule is re-planned to end with the last
    affordable epoch, and training stops there. TensorFlow backend only: a
    jitted JAX train step reads the schedule's length once, at trace time.

    Parameters
    ----------
    schedule : OneCycle
    max_time_s : float
    steps_per_epoch : int
    epochs : int
        Upper bound (the ``fit`` epochs).

    References
    ----------
    L. N. Smith and N. Topin, "Super-Convergence", 2017 (arXiv:1708.07120);
    C. Coleman et al., "DAWNBench", 2017 (training to a fixed time budget).
    """

    async_safe = True

    def __init__(self, schedule, max_time_s, steps_per_epoch, epochs):
        super().__init__()
        self.schedule = schedule
        self.max_time_s = float(max_time_s)
        self.steps_per_epoch = int(steps_per_epoch)
        self.epochs = int(epochs)
        self.planned_epochs = int(epochs)
        self.elapsed_before_s = 0.0
        self._t0 = self._te = None
        self._walls = []

    def on_train_begin(self, logs=None):
        self._t0 = time.perf_counter()

    def on_epoch_begin(self, epoch, logs=None):
        self._te = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        now = time.perf_counter()
        self._walls.append(now - self._te)
        steady = self._walls[1:] or self._walls
        per_epoch = 1.05 * float(np.mean(steady[-3:]))  # 5% margin for noise
        done = epoch + 1
        elapsed = self.elapsed_before_s + (now - self._t0)
        left = int((self.max_time_s - elapsed) // per_epoch)
        self.planned_epochs = max(done, min(self.epochs, done + left))
        self.schedule.set_total_steps(self.planned_epochs * self.steps_per_epoch)
        if done >= self.planned_epochs:
            self.model.stop_training = True

    def get_state(self) -> dict:
        """What a resumed fit needs (:class:`cnn._checkpoint.EpochCheckpoint`)."""
        elapsed = self.elapsed_before_s + (time.perf_counter() - self._t0)
        return {"elapsed_s": elapsed, "walls": list(self._walls), "planned": self.planned_epochs}

    def set_state(self, state: dict) -> None:
        """Restore the plan, and the schedule's length with it."""
        self.elapsed_before_s = float(state["elapsed_s"])
        self._walls = list(state["walls"])
        self.planned_epochs = int(state["planned"])
        self.schedule.set_total_steps(self.planned_epochs * self.steps_per_epoch)


def time_to_accuracy(history, epoch_times_s, target: float, key: str = "val_accuracy"):
    """Seconds of training until ``history[key]`` first reaches ``target`` (DAWNBench style).

    Parameters
    ----------
    history : dict of list
        Per-epoch metrics (``KerasClassifier.history_``).
    epoch_times_s : list of float
        Per-epoch training seconds (``KerasClassifier.epoch_times_s_``);
        evaluation time is not counted.
    target : float
        Accuracy in [0, 1], e.g. 0.99 (MNIST) or 0.94 (CIFAR-10).
    key : str, default="val_accuracy"
        Pass the test set as ``validation_data`` to ``fit`` to get test accuracy here.

    Returns
    -------
    float or None
        Cumulative seconds at the end of the first epoch reaching the target,
        or None if never reached.

    References
    ----------
    C. Coleman et al., "DAWNBench: An End-to-End Deep Learning Benchmark and
    Competition", NIPS ML Systems Workshop 2017.
    """
    acc = history.get(key, [])
    total = 0.0
    for a, t in zip(acc, epoch_times_s, strict=False):
        total += t
        if a >= target:
            return total
    return None
