"""An interrupted CNN fit resumes after its last finished epoch (estimator and runner cell)."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest

from benchmarks.cell import CellConfig, run_cell
from benchmarks.datasets import load_dataset
from benchmarks.methods import build_method
from cnn import KerasClassifier
from cnn._checkpoint import EpochCheckpoint


class Interrupted(Exception):
    pass


class InterruptAt(keras.callbacks.Callback):
    """Raise at the start of epoch ``epoch`` (as a kill would), keeping the weights then."""

    def __init__(self, epoch):
        super().__init__()
        self.epoch = epoch
        self.weights = self.iterations = None

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.epoch:
            self.weights = [np.array(w) for w in self.model.get_weights()]
            self.iterations = int(self.model.optimizer.iterations)
            raise Interrupted(f"interrupted at epoch {epoch}")


class InterruptAtEnd(keras.callbacks.Callback):
    """Raise after the last epoch's checkpoint, before ``fit`` returns."""

    def on_train_end(self, logs=None):
        raise Interrupted("interrupted after the last epoch")


class Capture(keras.callbacks.Callback):
    """Weights and step counter at the start of the (resumed) fit."""

    def on_train_begin(self, logs=None):
        self.weights = [np.array(w) for w in self.model.get_weights()]
        self.iterations = int(self.model.optimizer.iterations)


@pytest.fixture(scope="module")
def digits():
    data = load_dataset("mnist_sample", n_train=256, n_test=64, seed=0)
    return data.x_train, data.y_train


BASE = dict(
    model="simple_convnet",
    epochs=4,
    batch_size=64,
    validation_split=0.0,
    learning_rate=3e-3,
    lr_schedule="one_cycle",
    random_state=0,
    checkpoint_every_s=0.0,  # a snapshot after every epoch
)


def test_interrupted_fit_resumes_with_weights_optimizer_and_history(tmp_path, digits):
    X, y = digits
    ckpt = tmp_path / "ckpt"
    stop = InterruptAt(2)
    with pytest.raises(Interrupted):
        KerasClassifier(**BASE, checkpoint_dir=ckpt, callbacks=[stop]).fit(X, y)
    assert (ckpt / "latest").read_text() == "epoch-0002"
    assert [p.name for p in ckpt.glob("epoch-*")] == ["epoch-0002"]

    capture = Capture()
    est = KerasClassifier(**BASE, checkpoint_dir=ckpt, callbacks=[capture]).fit(X, y)
    # the resumed fit starts from the interrupted one's exact state ...
    assert capture.iterations == stop.iterations == 2 * 4  # 256 images / 64 per batch
    for a, b in zip(capture.weights, stop.weights, strict=True):
        np.testing.assert_array_equal(a, b)
    # ... runs only the epochs that were left, and reports all of them
    assert est.resumed_epochs_ == 2
    assert len(est.history_["loss"]) == len(est.epoch_times_s_) == 4
    assert est.resumed_fit_s_ > 0 and est.fit_time_s_ > est.resumed_fit_s_
    assert int(est.model_.optimizer.iterations) == 4 * 4
    assert not ckpt.exists(), "a completed fit removes its checkpoint"
    assert est.score(X, y) > 0.5


def test_a_fit_killed_after_its_last_epoch_does_not_train_again(tmp_path, digits):
    X, y = digits
    ckpt = tmp_path / "ckpt"
    with pytest.raises(Interrupted):
        KerasClassifier(**BASE, checkpoint_dir=ckpt, callbacks=[InterruptAtEnd()]).fit(X, y)
    capture = Capture()
    est = KerasClassifier(**BASE, checkpoint_dir=ckpt, callbacks=[capture]).fit(X, y)
    assert est.resumed_epochs_ == 4
    assert not hasattr(capture, "iterations"), "no epoch was left to train"
    assert len(est.history_["loss"]) == 4
    assert int(est.model_.optimizer.iterations) == 16


def test_a_checkpoint_of_another_training_is_refused(tmp_path, digits):
    X, y = digits
    ckpt = tmp_path / "ckpt"
    with pytest.raises(Interrupted):
        KerasClassifier(**BASE, checkpoint_dir=ckpt, callbacks=[InterruptAt(1)]).fit(X, y)
    other = {**BASE, "learning_rate": 1e-3}
    with pytest.raises(ValueError, match=r"another training.*delete that folder"):
        KerasClassifier(**other, checkpoint_dir=ckpt).fit(X, y)
    with pytest.raises(ValueError, match="another training"):
        KerasClassifier(**BASE, checkpoint_dir=ckpt).fit(X[:128], y[:128])
    # operational parameters do not invalidate it
    est = KerasClassifier(**BASE, checkpoint_dir=ckpt, verbose=0, predict_batch_size=32)
    assert est.fit(X, y).resumed_epochs_ == 1


def test_time_budget_counts_the_interrupted_attempts(tmp_path, digits):
    X, y = digits
    ckpt = tmp_path / "ckpt"
    kw = {**BASE, "epochs": 50, "max_time_s": 3600.0}
    with pytest.raises(Interrupted):
        KerasClassifier(**kw, checkpoint_dir=ckpt, callbacks=[InterruptAt(2)]).fit(X, y)
    state = json.loads((ckpt / "epoch-0002" / "state.json").read_text())
    parts = state["parts"]
    assert parts["budget"]["elapsed_s"] > 0
    tensorflow = keras.backend.backend() == "tensorflow"
    if tensorflow:  # the one-cycle is re-planned to the budget on TensorFlow only
        assert parts["fitter"]["planned"] == 50
    # pretend the interrupted attempts used up the whole budget: the resumed
    # fit must stop at once (after one step on TensorFlow, whose budget is
    # checked per batch; after one epoch elsewhere), where a budget restarting
    # from zero would train on for 48 epochs
    for part in ("budget", "fitter"):
        if part in parts:
            parts[part]["elapsed_s"] = kw["max_time_s"]
    (ckpt / "epoch-0002" / "state.json").write_text(json.dumps(state))
    est = KerasClassifier(**kw, checkpoint_dir=ckpt).fit(X, y)
    assert len(est.history_["loss"]) == 3 and est.stopped_by_ == "time_budget"
    assert est.epoch_steps_ == [4, 4, 1 if tensorflow else 4]
    assert est.resumed_fit_s_ == pytest.approx(sum(state["parts"]["timer"]["epoch_s"]))


def test_snapshot_is_atomic_and_keeps_only_the_newest(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    cb = EpochCheckpoint(tmp_path / "c", "f" * 16, parts={})
    cb.set_model(model)
    assert cb.latest() is None and cb.restore(model) == 0
    for epoch in range(3):
        cb.on_epoch_end(epoch, {"loss": 1.0 / (epoch + 1)})
    assert sorted(p.name for p in (tmp_path / "c").iterdir()) == ["epoch-0003", "latest"]
    # a snapshot folder left half-written (no state.json) is not taken
    (tmp_path / "c" / "latest").write_text("epoch-0009")
    assert cb.latest() is None


def test_runner_cell_resumes_from_its_work_dir(tmp_path):
    """The row of a resumed cell says so and counts the earlier training time."""
    params = {"epochs": 3, "batch_size": 64, "validation_split": 0.0, "checkpoint_every_s": 0}
    cfg = CellConfig(
        "mnist_sample",
        "simple_convnet",
        params=params,
        n_train=256,
        n_test=64,
        work_dir=str(tmp_path / "work"),
    )
    assert cfg.cell_id == CellConfig(**{**cfg.to_dict(), "work_dir": None}).cell_id
    # an earlier attempt of this very cell, killed after 2 epochs
    data = load_dataset("mnist_sample", n_train=256, n_test=64, seed=0)
    est = build_method("simple_convnet", params, seed=0)
    est.set_params(checkpoint_dir=str(tmp_path / "work" / "checkpoint"), callbacks=[InterruptAt(2)])
    with pytest.raises(Interrupted):
        est.fit(data.x_train, data.y_train)

    row = run_cell(cfg)
    assert row["error"] == "", row["error"]
    assert row["resumed_epochs"] == 2 and row["epochs_run"] == 3
    assert len(json.loads(row["history_json"])["epoch_times_s"]) == 3
    assert not (tmp_path / "work" / "checkpoint").exists(), "the completed fit removed it"


def test_snapshots_are_spaced_by_every_s_but_the_stopping_epoch_is_kept(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.1), loss="mse")
    cb = EpochCheckpoint(tmp_path / "c", "f" * 16, parts={}, every_s=3600.0)
    cb.set_model(model)
    cb.on_train_begin()
    for epoch in range(3):
        cb.on_epoch_end(epoch, {"loss": 1.0})
    assert cb.latest() is None, "no snapshot within the first hour"
    model.stop_training = True  # a budget or plan stops training here
    cb.on_epoch_end(3, {"loss": 0.5})
    assert cb.latest().name == "epoch-0004"
