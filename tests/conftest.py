"""Shared pytest fixtures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def real_data_dir() -> Path:
    """``$CVBENCH_DATA_DIR`` with the real dataset files; skips the test when unset or absent.

    Session-scoped so it reads the environment before any test's monkeypatching.
    """
    env = os.environ.get("CVBENCH_DATA_DIR")
    if not env or not Path(env).is_dir():
        pytest.skip("needs the real dataset files: set CVBENCH_DATA_DIR to their folder")
    return Path(env)


@pytest.fixture(scope="session")
def user_cache_dir() -> Path:
    """The user's decoded-array cache (``$CVBENCH_CACHE_DIR`` or ``~/.cache/cvbench``).

    For tests on the real files, so slow decodes happen once across runs.
    """
    env = os.environ.get("CVBENCH_CACHE_DIR")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "cvbench"


@pytest.fixture
def isolated_data_env(tmp_path_factory, monkeypatch):
    """No data-dir, an empty Keras cache and cache dir, and no network for dataset loaders.

    Returns the ``(keras_home, cache_dir)`` paths. Downloads fail with a
    ``URLError`` unless a test replaces ``benchmarks.datasets._sources.urlopen``.
    """
    import urllib.error

    from benchmarks.datasets import _cache, _sources

    root = tmp_path_factory.mktemp("data-env")
    keras_home, cache = root / "keras", root / "cache"
    monkeypatch.delenv("CVBENCH_DATA_DIR", raising=False)
    monkeypatch.setenv("KERAS_HOME", str(keras_home))
    monkeypatch.setenv("CVBENCH_CACHE_DIR", str(cache))

    def no_network(url, *args, **kwargs):
        raise urllib.error.URLError("network disabled in tests")

    monkeypatch.setattr(_sources, "urlopen", no_network)
    _cache.memoised.cache_clear()
    yield keras_home, cache
    _cache.memoised.cache_clear()
