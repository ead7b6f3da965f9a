"""Grid pooling of dense response maps, shared by the filter-bank extractors.

Used by :mod:`features._gabor`, :mod:`features._conv_kernels` and
:mod:`features._daisy`: a batch of maps ``(n, k, H, W)`` is reduced over a
grid of near-equal cells (the cells of :func:`features._base.grid_bounds`)
with one ``reduceat`` per axis, so the cost is a few passes over the maps.
"""

from __future__ import annotations

import numpy as np

from features._base import grid_bounds, to_gray

#: Statistics :func:`grid_pool` can compute per cell.
POOL_STATS = ("mean", "std", "max")


def grid_pool(maps: np.ndarray, grid: tuple[int, int], stats=("mean",)) -> np.ndarray:
    """Pool ``(n, k, H, W)`` maps over ``grid`` cells.

    Parameters
    ----------
    maps : ndarray of shape (n, k, H, W)
    grid : pair of int
        Cells (rows, cols); needs ``H >= grid[0]`` and ``W >= grid[1]``.
    stats : sequence of {"mean", "std", "max"}
        Per cell: the mean, the (population) standard deviation and the
        maximum of the map values.

    Returns
    -------
    ndarray of shape (n, k, grid[0] * grid[1], len(stats)), dtype float32
        Cells in row-major order.
    """
    n, k, h, w = maps.shape
    rb, cb = grid_bounds(h, grid[0]), grid_bounds(w, grid[1])

    def reduce(ufunc, a, **kw):
        return ufunc.reduceat(ufunc.reduceat(a, rb[:-1], axis=2, **kw), cb[:-1], axis=3, **kw)

    area = np.outer(np.diff(rb), np.diff(cb)).astype(np.float32)
    out = np.empty((n, k, grid[0], grid[1], len(stats)), dtype=np.float32)
    mean = None
    for s, stat in enumerate(stats):
        if stat in ("mean", "std") and mean is None:
            mean = reduce(np.add, maps) / area
        if stat == "mean":
            out[..., s] = mean
        elif stat == "std":  # two passes: the cell mean broadcast back to its pixels
            full = np.repeat(np.repeat(mean, np.diff(rb), axis=2), np.diff(cb), axis=3)
            out[..., s] = np.sqrt(reduce(np.add, np.square(maps - full)) / area)
        else:
            out[..., s] = reduce(np.maximum, maps)
    return out.reshape(n, k, grid[0] * grid[1], len(stats))


def grid_pool_names(prefix: str, map_names, grid: tuple[int, int], stats) -> list[str]:
    """Column names of ``grid_pool(...).reshape(n, -1)``: map, then cell, then stat."""
    return [
        f"{prefix}_{m}_cell{i}_{j}_{s}"
        for m in map_names
        for i in range(grid[0])
        for j in range(grid[1])
        for s in stats
    ]


def check_stats(stats, name: str, who: str) -> tuple[str, ...]:
    """Validate a non-empty sequence of distinct :data:`POOL_STATS` entries."""
    stats = (stats,) if isinstance(stats, str) else tuple(stats)
    if not stats or len(set(stats)) != len(stats) or not set(stats) <= set(POOL_STATS):
        raise ValueError(
            f"{who} needs {name} to be a non-empty sequence of distinct entries of "
            f"{list(POOL_STATS)}, got {stats!r}"
        )
    return stats


def plane_names(input_shape, color: str) -> list[str]:
    """Planes described for ``color``: ``["gray"]`` or ``["r", "g", "b"]`` (3-channel input)."""
    return ["r", "g", "b"] if input_shape[-1] == 3 and color == "per_channel" else ["gray"]


def color_planes(X: np.ndarray, color: str) -> list[np.ndarray]:
    """(n, H, W) uint8 planes of :func:`plane_names`: the BT.601 luma, or R, G and B."""
    if X.shape[-1] == 3 and color == "per_channel":
        return [X[..., i] for i in range(3)]
    return [to_gray(X)]
