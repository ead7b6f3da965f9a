"""Provenance: code version, library versions and machine of a run."""

from __future__ import annotations

import functools
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import psutil

__all__ = ["collect_environment", "git_commit"]

_DISTRIBUTIONS = {
    "numpy": "numpy_version",
    "scikit-learn": "sklearn_version",
    "scikit-image": "skimage_version",
    "opencv-contrib-python-headless": "opencv_version",
    "pandas": "pandas_version",
    "keras": "keras_version",
    "tensorflow-cpu": "tensorflow_version",
    "tensorflow": "tensorflow_version",
    "jax": "jax_version",
    "torch": "torch_version",
}


def git_commit(path: str | os.PathLike | None = None) -> str:
    """``git rev-parse HEAD`` of the checkout holding ``path``, ``+dirty`` when modified.

    Returns ``"unknown"`` outside a git checkout (an installed wheel, say).
    """
    where = Path(path or Path(__file__).resolve().parent)
    try:
        head = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=where, capture_output=True, text=True, timeout=10
        )
        if head.returncode != 0:
            return "unknown"
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=where,
            capture_output=True,
            text=True,
            timeout=10,
        )
        return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@functools.lru_cache(maxsize=1)
def collect_environment() -> dict[str, str | int]:
    """Library versions and machine facts, without importing the heavy libraries.

    Keys are result-row columns: ``python_version``, ``<lib>_version``,
    ``keras_backend``, ``cpu``, ``n_cpus``, ``memory_gb``, ``platform``, ``git_commit``.
    """
    env: dict[str, str | int] = {
        "git_commit": git_commit(),
        "python_version": platform.python_version(),
        "platform": f"{platform.system()} {platform.release()} {platform.machine()}",
        "cpu": _cpu_model(),
        "n_cpus": os.cpu_count() or 0,
        "memory_gb": round(psutil.virtual_memory().total / 2**30, 1),
        "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
    }
    for dist, column in _DISTRIBUTIONS.items():
        if env.get(column):
            continue
        try:
            env[column] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            env.setdefault(column, "")
    env["executable"] = sys.executable
    return env
