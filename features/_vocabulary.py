"""Visual vocabularies: k-means words and hard or soft word assignment."""

from __future__ import annotations

import numpy as np
from sklearn.cluster import MiniBatchKMeans

_ASSIGNMENTS = ("hard", "soft")


def fit_vocabulary(descriptors: np.ndarray, n_clusters: int, rng: np.random.RandomState):
    """k-means words of a (m, d) descriptor sample; returns float32 (k, d), k <= n_clusters.

    MiniBatchKMeans (Sculley 2010) with three restarts, seeded from ``rng``.
    """
    k = min(int(n_clusters), len(descriptors))
    km = MiniBatchKMeans(n_clusters=k, batch_size=4096, n_init=3, random_state=rng.randint(2**31))
    return km.fit(descriptors).cluster_centers_.astype(np.float32)


def squared_distances(D: np.ndarray, V: np.ndarray) -> np.ndarray:
    """Squared Euclidean distances (m, k) between descriptors D and words V, clipped at 0."""
    d2 = (D * D).sum(1)[:, None] + (V * V).sum(1)[None] - 2 * (D @ V.T)
    return np.maximum(d2, 0, out=d2)


def soft_sigma(D: np.ndarray, V: np.ndarray) -> float:
    """Kernel width for soft assignment: RMS distance of descriptors to their nearest word."""
    return float(np.sqrt(max(np.mean(squared_distances(D, V).min(axis=1)), 1e-12)))


def assign_words(
    D: np.ndarray,
    V: np.ndarray,
    assignment: str = "hard",
    n_neighbors: int = 5,
    sigma: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Words and weights of each descriptor; each row of weights sums to 1.

    ``"hard"``: the nearest word, weight 1 (shapes (m, 1)).  ``"soft"``: the
    kernel codebook of van Gemert et al. (2008) restricted to the
    ``n_neighbors`` nearest words, weights proportional to
    ``exp(-d^2 / (2 sigma^2))`` (shapes (m, n_neighbors)).
    """
    d2 = squared_distances(D, V)
    if assignment == "hard":
        words = d2.argmin(axis=1)[:, None]
        return words, np.ones(words.shape, dtype=np.float32)
    a = min(int(n_neighbors), V.shape[0])
    words = np.argpartition(d2, a - 1, axis=1)[:, :a] if a < V.shape[0] else np.indices(d2.shape)[1]
    near = np.take_along_axis(d2, words, axis=1)
    logits = -(near - near.min(axis=1, keepdims=True)) / (2.0 * float(sigma) ** 2)
    weights = np.exp(logits)
    weights /= weights.sum(axis=1, keepdims=True)
    return words, weights.astype(np.float32)
