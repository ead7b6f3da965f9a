"""Per-epoch training checkpoints, so that an interrupted ``fit`` resumes where it stopped.

A long CNN cell (two hours of ResNet-20 on a CPU) must not lose its finished
epochs when the process is killed. :class:`EpochCheckpoint` snapshots the
whole training state after every epoch, atomically, and
:meth:`EpochCheckpoint.restore` puts it back before the next ``fit``.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import keras
import numpy as np

from benchmarks.results import atomic_write_text, current_umask

__all__ = ["EpochCheckpoint", "training_fingerprint"]

_WEIGHTS = "model.weights.h5"
_STATE = "state.json"
_LATEST = "latest"


def training_fingerprint(params: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> str:
    """Digest of what a checkpoint is only valid for: the hyper-parameters and the data.

    Parameters
    ----------
    params : dict
        The estimator's hyper-parameters (operational ones left out by the caller).
    X : ndarray of uint8, shape (n, H, W, C)
        Training images; hashed whole (about 0.1 s for 50,000 CIFAR images).
    y : ndarray of shape (n,)

    Returns
    -------
    str
        16 hex digits.
    """
    h = hashlib.sha256()
    # a Keras layer given as ``augment`` has no stable repr: its type stands in for it
    h.update(json.dumps(params, sort_keys=True, default=lambda o: type(o).__name__).encode())
    h.update(repr((X.shape, str(X.dtype), y.shape)).encode())
    h.update(np.ascontiguousarray(X).data)
    h.update(np.ascontiguousarray(y).data)
    return h.hexdigest()[:16]


class EpochCheckpoint(keras.callbacks.Callback):
    """Snapshot weights, optimizer state, history and callback state after every epoch.

    Each snapshot is a folder ``epoch-NNNN/`` holding ``model.weights.h5``
    (Keras' weights file, optimizer variables and step counter included) and
    ``state.json`` (the per-epoch logs, the state of every callback in
    ``parts``, whether training was told to stop, and the fingerprint). It is
    written under a temporary name and renamed, then the file ``latest`` is
    replaced atomically to point at it, and older snapshots are removed: a
    kill at any moment leaves the previous snapshot or the new one, never half
    of one. Put this callback last, so that the parts have recorded the epoch.

    Parameters
    ----------
    directory : path-like
        Where the snapshots live; created on the first save.
    fingerprint : str
        :func:`training_fingerprint` of the training; a snapshot with another
        fingerprint is refused by :meth:`restore`.
    parts : dict of str to keras.callbacks.Callback
        Callbacks with ``get_state() -> dict`` and ``set_state(dict)`` (the
        epoch timer, time budgets, the schedule fitter).
    every_s : float, default=0
        Least wall seconds between two snapshots: epochs that end sooner are
        not saved, except the one at which training is told to stop. 0 saves
        after every epoch. Bounds the cost of short epochs (a GPU epoch of a
        few seconds against ~0.1 s per snapshot of a 6.5M-parameter model);
        a kill then loses at most ``every_s`` seconds of training.

    Attributes
    ----------
    history : dict of list of float
        Every epoch's logs, restored epochs first.
    epochs_done : int
        Epochs finished, restored ones included.
    restored_epochs : int
        Epochs that came from a snapshot (0 for a fresh start).
    restored_state : dict or None
        The ``state.json`` that :meth:`restore` read.
    """

    def __init__(self, directory, fingerprint: str, parts: Mapping[str, Any], every_s: float = 0.0):
        super().__init__()
        self.directory = Path(directory)
        self.fingerprint = str(fingerprint)
        self.parts = dict(parts)
        self.every_s = float(every_s)
        self._last_save = None
        self.history: dict[str, list[float]] = {}
        self.epochs_done = 0
        self.restored_epochs = 0
        self.restored_state: dict[str, Any] | None = None

    # ------------------------------------------------------------- restore
    def latest(self) -> Path | None:
        """The newest complete snapshot folder, or None."""
        pointer = self.directory / _LATEST
        if not pointer.is_file():
            return None
        snap = self.directory / pointer.read_text(encoding="utf-8").strip()
        return snap if (snap / _STATE).is_file() and (snap / _WEIGHTS).is_file() else None

    def restore(self, model: keras.Model) -> int:
        """Load the newest snapshot into ``model`` (compiled) and the parts.

        Returns
        -------
        int
            The epoch to resume at (``initial_epoch`` of ``fit``); 0 when
            there is no snapshot.

        Raises
        ------
        ValueError
            The snapshot belongs to another training (other hyper-parameters
            or data): the message names the folder to delete.
        """
        snap = self.latest()
        if snap is None:
            return 0
        state = json.loads((snap / _STATE).read_text(encoding="utf-8"))
        if state.get("fingerprint") != self.fingerprint:
            raise ValueError(
                f"checkpoint_dir {self.directory} holds a checkpoint of another training "
                f"(other hyper-parameters or data: fingerprint {state.get('fingerprint')}, "
                f"this fit {self.fingerprint}); delete that folder or pass another checkpoint_dir"
            )
        if model.optimizer is not None and not model.optimizer.built:
            model.optimizer.build(model.trainable_variables)
        model.load_weights(snap / _WEIGHTS)
        for name, part in self.parts.items():
            part.set_state(state["parts"][name])
        self.history = {k: list(v) for k, v in state["history"].items()}
        self.epochs_done = self.restored_epochs = int(state["epochs_done"])
        self.restored_state = state
        return self.epochs_done

    @property
    def restored_stop(self) -> bool:
        """Whether the restored training had already been told to stop (budget, plan)."""
        return bool(self.restored_state and self.restored_state.get("stop_training"))

    # ---------------------------------------------------------------- save
    def on_train_begin(self, logs=None):
        self._last_save = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(float(v))
        self.epochs_done = epoch + 1
        now = time.perf_counter()
        due = self._last_save is None or now - self._last_save >= self.every_s
        if due or getattr(self.model, "stop_training", False):
            self.save()
            self._last_save = time.perf_counter()

    def save(self) -> Path:
        """Write the snapshot of the current state; returns its folder."""
        self.directory.mkdir(parents=True, exist_ok=True)
        name = f"epoch-{self.epochs_done:04d}"
        state = {
            "fingerprint": self.fingerprint,
            "epochs_done": self.epochs_done,
            "history": self.history,
            "parts": {k: p.get_state() for k, p in self.parts.items()},
            "stop_training": bool(getattr(self.model, "stop_training", False)),
        }
        tmp = Path(tempfile.mkdtemp(dir=self.directory, prefix=f".{name}."))
        try:
            tmp.chmod(0o777 & ~current_umask())  # mkdtemp's 0700: as a plain mkdir
            self.model.save_weights(tmp / _WEIGHTS)
            (tmp / _STATE).write_text(json.dumps(state), encoding="utf-8")
            for f in (tmp / _WEIGHTS, tmp / _STATE):
                with open(f, "rb") as fh:
                    os.fsync(fh.fileno())
            final = self.directory / name
            if final.exists():
                shutil.rmtree(final)
            os.replace(tmp, final)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        atomic_write_text(self.directory / _LATEST, name)
        for old in self.directory.glob("epoch-*"):
            if old.name != name:
                shutil.rmtree(old, ignore_errors=True)
        return final

    def clear(self) -> None:
        """Remove the snapshots (after a completed fit)."""
        shutil.rmtree(self.directory, ignore_errors=True)
