"""Where cells run: in this process, or each in a fresh process.

An executor maps :func:`benchmarks.cell.run_cell` over configs and yields each
row as soon as its cell finishes, so the runner can persist it at once. Cells
are pure functions of their config, so any executor with ``submit`` (a Dask
``Client`` later) fits the same interface.
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any, Protocol

from benchmarks.cell import CellConfig, run_cell

__all__ = ["EXECUTORS", "Executor", "InlineExecutor", "ProcessExecutor", "make_executor"]


class Executor(Protocol):
    name: str

    def map(self, configs: Iterable[CellConfig]) -> Iterator[dict[str, Any]]: ...


class InlineExecutor:
    """Run every cell in this process (fast start; peak RSS is the process's)."""

    name = "inline"

    def map(self, configs: Iterable[CellConfig]) -> Iterator[dict[str, Any]]:
        for cfg in configs:
            yield run_cell(replace(cfg, executor=self.name))


def _exit_with_parent(parent_pid: int, poll_s: float = 1.0) -> None:
    """Pool initializer: end this cell process when the runner that spawned it dies.

    A killed runner must not leave an orphaned cell computing for hours; the
    runner's finished rows are already on disk and ``--resume`` reruns the rest.
    """
    import os
    import threading
    import time

    def watch() -> None:
        while True:
            time.sleep(poll_s)
            if os.getppid() != parent_pid:
                os._exit(1)

    threading.Thread(target=watch, name="cvbench-parent-watch", daemon=True).start()


class ProcessExecutor:
    """Run each cell in a fresh spawned process, one at a time.

    Isolates cells: ``peak_rss_mb`` is the cell's own, state cannot leak
    between cells (Keras sessions, thread pools), and a cell that crashes the
    interpreter (killed for memory, a segfault in a native library) becomes an
    error row while the sweep goes on.
    """

    name = "process"

    def map(self, configs: Iterable[CellConfig]) -> Iterator[dict[str, Any]]:
        ctx = multiprocessing.get_context("spawn")
        for cfg in configs:
            cfg = replace(cfg, executor=self.name)
            with ProcessPoolExecutor(
                max_workers=1,
                mp_context=ctx,
                initializer=_exit_with_parent,
                initargs=(os.getpid(),),
            ) as pool:
                try:
                    yield pool.submit(run_cell, cfg).result()
                except BrokenProcessPool as exc:
                    yield _crash_row(cfg, exc)


def _crash_row(cfg: CellConfig, exc: BaseException) -> dict[str, Any]:
    return {
        "run_id": cfg.run_id,
        "cell_id": cfg.cell_id,
        "dataset": cfg.dataset,
        "method": cfg.method,
        "seed": cfg.seed,
        "executor": cfg.executor,
        "timestamp_utc": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "error": f"cell process died: {type(exc).__name__}: {exc} "
        "(killed for memory? try --n-train or fewer features)",
    }


EXECUTORS = {"inline": InlineExecutor, "process": ProcessExecutor}


def make_executor(name: str) -> Executor:
    try:
        return EXECUTORS[name]()
    except KeyError:
        raise ValueError(
            f"--executor must be one of {', '.join(EXECUTORS)}, got {name!r}"
        ) from None
