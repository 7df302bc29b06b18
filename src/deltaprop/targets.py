"""Targets: class labels to one-hot rows and back."""

from __future__ import annotations

import numpy as np

__all__ = ["one_hot"]


def one_hot(labels, n_classes: int | None = None, dtype="float64") -> np.ndarray:
    """Rows y with y[i, labels[i]] = 1, shape (m, n_classes), for integer labels 0..n_classes−1."""
    labels = np.asarray(labels)
    if labels.ndim != 1:
        raise ValueError(f"labels must be 1-D (one integer per example), got shape {labels.shape}")
    if labels.size and not np.issubdtype(labels.dtype, np.integer):
        as_int = labels.astype(np.int64) if np.issubdtype(labels.dtype, np.number) else None
        if as_int is None or not np.array_equal(as_int, labels):
            raise ValueError("labels must be integers 0 .. n_classes-1")
        labels = as_int
    if n_classes is None:
        n_classes = int(labels.max()) + 1 if labels.size else 0
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise ValueError(
            f"labels must lie in 0 .. {n_classes - 1}, got values in "
            f"[{labels.min()}, {labels.max()}]"
        )
    Y = np.zeros((labels.size, n_classes), dtype=dtype)
    Y[np.arange(labels.size), labels] = 1
    return Y
