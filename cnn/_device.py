"""Which Keras backend and device this process trains on."""

from __future__ import annotations

import keras

__all__ = ["accelerator", "describe_device"]


def accelerator() -> tuple[str, str, str]:
    """Return ``(backend, platform, device_name)`` for the first device Keras uses.

    ``platform`` is "gpu", "tpu" or "cpu"; ``device_name`` is e.g.
    "NVIDIA H200" (empty when unknown, and for CPUs).
    """
    backend = keras.backend.backend()
    platform, name = "cpu", ""
    try:
        if backend == "tensorflow":
            import tensorflow as tf

            gpus = tf.config.list_physical_devices("GPU")
            if gpus:
                platform = "gpu"
                name = tf.config.experimental.get_device_details(gpus[0]).get("device_name", "")
        elif backend == "jax":
            import jax

            dev = jax.devices()[0]
            platform = dev.platform
            name = "" if platform == "cpu" else getattr(dev, "device_kind", "")
        elif backend == "torch":
            import torch

            if torch.cuda.is_available():
                platform, name = "gpu", torch.cuda.get_device_name(0)
    except Exception:  # device probing must never break a run
        pass
    return backend, platform, name


def describe_device() -> str:
    """One-line backend + device, e.g. "tensorflow cpu" or "jax gpu NVIDIA H200"."""
    return " ".join(p for p in accelerator() if p)
