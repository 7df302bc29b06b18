"""Checks at the public boundaries: clear ValueErrors that say what was wrong and what is expected."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

__all__ = ["as_generator", "as_float_array", "check_inputs", "check_targets", "check_finite", "is_finite", "check_l2", "check_sample_weight", "aligned_empty"]


def as_generator(seed: int | np.random.Generator | None) -> np.random.Generator:
    """The one way a seed becomes randomness: a ``numpy.random.Generator`` is used as it is (its
    stream continues), an int (or None, fresh entropy) seeds a new one. Never the global state."""
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not (seed is None or isinstance(seed, (int, np.integer))):
        raise ValueError(f"seed must be an int, None or a numpy.random.Generator, got {seed!r}")
    if seed is not None and seed < 0:
        raise ValueError(f"seed must be a non-negative int, got {seed}")
    return np.random.default_rng(seed)


def as_float_array(values: ArrayLike, dtype: DTypeLike, name: str) -> np.ndarray:
    """``values`` as an array of ``dtype``, or a ValueError naming ``name``."""
    try:
        return np.asarray(values, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric (an array of numbers): {exc}") from None


def is_finite(arr: np.ndarray) -> bool:
    """True when ``arr`` holds no NaN or infinity.

    A NaN or ±inf anywhere makes the sum non-finite, and the sum needs no array-sized temporary
    (np.isfinite(arr) allocates one boolean per entry); only when the sum is not finite (which a
    huge but finite array can also cause) does the exact element-wise test run."""
    with np.errstate(over="ignore", invalid="ignore"):
        if np.isfinite(arr.sum()):
            return True
    return bool(np.isfinite(arr).all())


def check_finite(arr: np.ndarray, name: str) -> None:
    """Raise ValueError pointing at the first NaN or infinity in ``arr``."""
    if not is_finite(arr):
        bad = np.argwhere(~np.isfinite(arr))[0]
        where = ", ".join(str(int(i)) for i in bad)
        raise ValueError(
            f"{name} contains {arr[tuple(bad)]} at [{where}]; NaN and infinity are not allowed"
        )


def check_l2(l2: float) -> float:
    """λ as a float, or a ValueError unless it is a finite number ≥ 0."""
    try:
        value = float(l2)
    except (TypeError, ValueError):
        raise ValueError(f"l2 must be a non-negative number, got {l2!r}") from None
    if not np.isfinite(value) or value < 0:
        raise ValueError(f"l2 must be a non-negative number, got {l2!r}")
    return value


def check_sample_weight(sample_weight: ArrayLike | None, m: int) -> np.ndarray | None:
    """Sample weights as a float64 array of shape (m,), each ≥ 0 and finite, not all 0;
    None stays None (every example weighs 1)."""
    if sample_weight is None:
        return None
    w = as_float_array(sample_weight, np.float64, "sample_weight")
    if w.ndim != 1 or w.shape[0] != m:
        raise ValueError(f"sample_weight must have shape ({m},), one weight per example, got {w.shape}")
    check_finite(w, "sample_weight")
    if (w < 0).any():
        raise ValueError(f"sample_weight must be ≥ 0, got {w.min():g} at index {int(w.argmin())}")
    if not w.sum() > 0:
        raise ValueError("sample_weight must not be all zero")
    return w


def check_inputs(X: ArrayLike, n_features: int, dtype: DTypeLike, name: str = "X",
                 feature_names: Sequence[str] | None = None, rows: np.ndarray | None = None) -> np.ndarray:
    """X as a (m, n_features) array of ``dtype`` with m ≥ 1 and only finite values; the message
    for a NaN or infinity gives its [row, column] (and the column's name from ``feature_names``,
    when given); ``rows`` numbers X's rows for that message (a block of a larger source: the
    rows of the source it holds)."""
    expected = f"expected an array of shape (n_samples, {n_features})"
    if X is None:
        raise ValueError(f"{name} is None; {expected}")
    X = as_float_array(X, dtype, name)
    if X.ndim != 2:
        hint = " (for one example use X.reshape(1, -1))" if X.ndim == 1 and X.size else ""
        raise ValueError(
            f"{name} must be 2-D with shape (n_samples, {n_features}), got shape {X.shape}{hint}"
        )
    if X.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (0 rows); expected at least one example")
    if X.shape[1] == 0:
        raise ValueError(
            f"{name} has no feature columns (shape {X.shape}) but the network's input layer has "
            f"{n_features}; {expected}"
        )
    if X.shape[1] != n_features:
        raise ValueError(
            f"{name} has {X.shape[1]} features per example but the network's input layer "
            f"has {n_features}; expected shape (n_samples, {n_features})"
        )
    if not is_finite(X):
        row, col = (int(i) for i in np.argwhere(~np.isfinite(X))[0])
        names = list(feature_names) if feature_names is not None else []
        feature = f" (feature {names[col]!r})" if col < len(names) else ""
        where = row if rows is None else int(rows[row])
        raise ValueError(
            f"{name} contains {X[row, col]} at [{where}, {col}]{feature}; NaN and infinity are not allowed"
        )
    return X


def check_targets(Y: ArrayLike, m: int, n_outputs: int, dtype: DTypeLike, name: str = "Y") -> np.ndarray:
    """Y as a (m, n_outputs) array; a 1-D Y is accepted when there is one output."""
    Y = as_float_array(Y, dtype, name)
    if Y.ndim == 1 and n_outputs == 1:
        Y = Y.reshape(-1, 1)
    if Y.ndim != 2 or Y.shape[1] != n_outputs:
        hint = ""
        if Y.ndim == 1:
            hint = f"; for class labels use deltaprop.one_hot(labels, {n_outputs})"
        raise ValueError(
            f"{name} must have shape (n_samples, {n_outputs}) to match the output layer, "
            f"got shape {Y.shape}{hint}"
        )
    if Y.shape[0] != m:
        raise ValueError(
            f"X has {m} examples but {name} has {Y.shape[0]}; they must have the same length"
        )
    check_finite(Y, name)
    return Y


def aligned_empty(shape: int | tuple[int, ...], dtype: DTypeLike, alignment: int = 64) -> np.ndarray:
    """An uninitialised C-contiguous array whose data starts on an ``alignment``-byte boundary.

    NumPy only guarantees 16 bytes; BLAS kernels and in-place updates run faster on 64.
    """
    dtype = np.dtype(dtype)
    nbytes = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
    raw = np.empty(nbytes + alignment, dtype=np.uint8)
    offset = (-raw.ctypes.data) % alignment
    return raw[offset : offset + nbytes].view(dtype).reshape(shape)
