"""Per-feature input preprocessing, fitted on the training set and saved with the model.

Kinds
-----
* ``"standardize"``  x' = (x − mean) / scale, with mean and standard deviation per feature from
  the training X (scikit-learn's ``StandardScaler``; a constant feature gets scale 1). A column
  whose values are beyond 2^±256 is measured in units of a power of two near its largest |x|
  (exact: such a scaling changes no bits), so the variance neither overflows (1e160² is beyond
  float64) nor underflows; the statistics are then multiplied back (a constant such column
  gets that unit as its scale).
* ``"scale"``        x' = x / max_value, one constant for every feature (16 for the 8×8 digits,
  255 for MNIST pixels); fitted as the largest |x| of the training X unless given.
* ``"none"``         x' = x.

X is a batch of shape (m, n_features), one example per row. ``transform`` refuses a batch whose
preprocessed values are not finite (a NaN, or a value the preprocessing takes beyond float64),
naming the row and the column. The fitted state is a JSON-able ``meta`` dict plus named arrays
(``to_state`` / ``from_state``), which ``deltaprop.modelfile`` stores in the model file.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import closing
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .validation import is_finite

if TYPE_CHECKING:
    from .datasets import Dataset

__all__ = ["Preprocessing", "PreprocessingError", "KINDS", "default_preprocessing"]

KINDS = ("standardize", "scale", "none")


class PreprocessingError(ValueError):
    """Bad preprocessing arguments, input or saved state."""


class Preprocessing:
    """Input preprocessing of one kind (see the module docstring).

    Attributes after ``fit``: ``n_features``; for "standardize" ``mean`` and ``scale`` (float64
    arrays of shape (n_features,)); for "scale" ``max_value`` (a positive float).
    """

    def __init__(self, kind: str = "standardize", max_value: float | None = None):
        if kind not in KINDS:
            raise PreprocessingError(
                f"unknown preprocessing {kind!r}; expected one of: {', '.join(KINDS)}"
            )
        if max_value is not None:
            if kind != "scale":
                raise PreprocessingError(f"max_value only applies to kind 'scale', not {kind!r}")
            max_value = _positive(max_value)
        self.kind = kind
        self.max_value = max_value
        self.n_features: int | None = None
        self.mean: np.ndarray | None = None
        self.scale: np.ndarray | None = None

    # ------------------------------------------------------------------ fitting
    def fit(self, X: ArrayLike, block_size: int | None = None) -> Preprocessing:
        """Learn the statistics of training inputs X (m, n_features); returns self.

        X may be any row-sliceable source (``deltaprop.sources``: a memory map, an h5py or Zarr
        array, a Dask array): the statistics come from one pass over blocks of ``block_size``
        rows (default ``sources.default_block_size``), combined exactly as scikit-learn's
        ``StandardScaler.partial_fit`` does (Chan et al.'s pairwise update of mean and
        variance), so X is never read whole; data of one block gives what ``fit`` on all of it
        gives."""
        from .sources import Source, default_block_size, is_source, read_blocks

        if not is_source(X):
            X = _as_batch(X, "X")  # (a list) its message for a wrong shape or dtype
        if np.dtype(X.dtype).kind not in "biuf":
            raise PreprocessingError(f"X must be numeric, got an array of dtype {X.dtype}")
        if len(X.shape) != 2:
            hint = " (for one example use X.reshape(1, -1))" if len(X.shape) == 1 else ""
            raise PreprocessingError(f"X must be 2-D (n_samples, n_features), got shape {tuple(X.shape)}{hint}")
        source = Source(X)
        if source.shape[0] == 0:
            raise PreprocessingError("cannot fit preprocessing on an empty X (0 rows)")
        if source.shape[1] == 0:
            raise PreprocessingError(
                f"cannot fit preprocessing on X with no feature columns (shape {source.shape}); "
                "expected at least one column"
            )
        self.n_features = int(source.shape[1])
        statistics = _Statistics(self.kind)
        with closing(read_blocks(source, block_size or default_block_size(self.n_features))) as blocks:
            for start, stop, block in blocks:
                block = _as_batch(block, "X")
                if not is_finite(block):
                    row, col = np.argwhere(~np.isfinite(block))[0]
                    raise PreprocessingError(f"X has a non-finite value at row {start + row}, column {col}")
                statistics.add(block)
        if self.kind == "standardize":
            self.mean, self.scale = statistics.standardize()
        elif self.kind == "scale" and self.max_value is None:
            peak = float(statistics.peak.max())
            self.max_value = peak if peak > 0 else 1.0
        return self

    @property
    def fitted(self) -> bool:
        """Whether ``transform`` can run (always for "none" and for "scale" with max_value)."""
        if self.kind == "standardize":
            return self.mean is not None
        if self.kind == "scale":
            return self.max_value is not None
        return True

    def check_fitted(self) -> None:
        """A PreprocessingError unless ``fit`` has run (the statistics are the training data's)."""
        if not self.fitted:
            raise PreprocessingError(
                f"this {self.kind!r} preprocessing is not fitted yet; call fit(X_train) first "
                "(one streaming pass, also over a memmap, h5py, Zarr or Dask array)"
            )

    def transform(self, X: ArrayLike, feature_names: Sequence[str] | None = None,
                  rows: np.ndarray | None = None) -> np.ndarray:
        """The preprocessed batch, shape (m, n_features); float32 input stays float32,
        anything else becomes float64. A value that is not finite after preprocessing (NaN, or
        too large for the fitted statistics) is a PreprocessingError naming its row and column
        (and its name from ``feature_names``, when given; ``rows`` numbers X's rows for it)."""
        self.check_fitted()
        X = _as_batch(X, "X")
        if self.n_features is not None and X.shape[1] != self.n_features:
            raise PreprocessingError(
                f"X has {X.shape[1]} features per example but the preprocessing was fitted on "
                f"{self.n_features}; expected shape (n_samples, {self.n_features})"
            )
        with np.errstate(over="ignore", invalid="ignore"):  # refused below, with its place
            if self.kind == "standardize":
                out = X - self.mean.astype(X.dtype)
                out /= self.scale.astype(X.dtype)
            elif self.kind == "scale":
                out = X / X.dtype.type(self.max_value)
            else:
                out = X.copy()
        if not is_finite(out):  # also catches a NaN or infinity in X: it stays one
            raise PreprocessingError(self._not_finite(X, out, feature_names, rows))
        return out

    def _not_finite(self, X, out, feature_names, rows=None) -> str:
        """The message for the first entry of ``out`` (= transform(X)) that is not finite."""
        row, col = (int(i) for i in np.argwhere(~np.isfinite(out))[0])
        where = row if rows is None else int(rows[row])
        if not np.isfinite(X[row, col]):
            return f"X has a non-finite value at row {where}, column {col}"
        names = list(feature_names) if feature_names is not None else []
        column = f"column {col}" + (f" ({names[col]!r})" if col < len(names) else "")
        if self.kind == "standardize":
            how = f"(x − mean) / scale with mean {self.mean[col]:g} and scale {self.scale[col]:g}"
        else:
            how = f"x / {self.max_value:g}"
        return (
            f"X row {where}, {column}: {float(X[row, col]):g} is too large for the fitted {self.kind} "
            f"preprocessing ({how} is {out[row, col]} in {X.dtype}); expected values of the "
            f"training data's magnitude"
        )

    def fit_transform(self, X: ArrayLike) -> np.ndarray:
        return self.fit(X).transform(X)

    # ------------------------------------------------------------------ saving
    def to_state(self) -> tuple[dict, dict]:
        """(meta, arrays): meta is JSON-able ({"kind", "n_features", "max_value"}), arrays maps
        names to float64 arrays ({"mean", "scale"} for "standardize", else empty)."""
        meta = {"kind": self.kind, "n_features": self.n_features, "max_value": self.max_value}
        arrays = {}
        if self.kind == "standardize" and self.mean is not None:
            arrays = {"mean": self.mean.copy(), "scale": self.scale.copy()}
        return meta, arrays

    @classmethod
    def from_state(cls, meta: dict, arrays: dict) -> "Preprocessing":
        """The inverse of ``to_state``; raises PreprocessingError on inconsistent state."""
        if not isinstance(meta, dict) or "kind" not in meta:
            raise PreprocessingError(f"preprocessing state must be a dict with a 'kind', got {meta!r}")
        kind = meta["kind"]
        new = cls(kind, meta.get("max_value") if kind == "scale" else None)
        n = meta.get("n_features")
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
            raise PreprocessingError(f"preprocessing n_features must be a positive int, got {n!r}")
        new.n_features = n
        if kind == "standardize":
            if n is None:
                return new  # saved before fitting
            for key in ("mean", "scale"):
                if key not in arrays:
                    raise PreprocessingError(f"standardize preprocessing is missing its {key!r} array")
                arr = np.asarray(arrays[key])
                if arr.shape != (n,) or arr.dtype.kind != "f":
                    raise PreprocessingError(
                        f"preprocessing {key!r} must be a float array of shape ({n},), "
                        f"got {arr.dtype} {arr.shape}"
                    )
                if not np.isfinite(arr).all() or (key == "scale" and np.any(arr <= 0)):
                    raise PreprocessingError(f"preprocessing {key!r} has non-finite or invalid values")
            new.mean = np.array(arrays["mean"], dtype=np.float64)
            new.scale = np.array(arrays["scale"], dtype=np.float64)
        return new

    def copy(self) -> "Preprocessing":
        return type(self).from_state(*self.to_state())

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Preprocessing):
            return NotImplemented
        if (self.kind, self.n_features, self.max_value) != (other.kind, other.n_features, other.max_value):
            return False
        return all(
            (a is None and b is None) or (a is not None and b is not None and np.array_equal(a, b))
            for a, b in ((self.mean, other.mean), (self.scale, other.scale))
        )

    __hash__ = None

    def __repr__(self) -> str:
        extra = f", max_value={self.max_value}" if self.kind == "scale" else ""
        return f"Preprocessing({self.kind!r}{extra}, n_features={self.n_features})"


def _positive(value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise PreprocessingError(f"max_value must be a positive number, got {value!r}") from None
    if not np.isfinite(value) or value <= 0:
        raise PreprocessingError(f"max_value must be a positive finite number, got {value}")
    return value


class _Statistics:
    """Per-column statistics of X accumulated block by block: the largest |x| (``peak``) and,
    for "standardize", mean and variance by ``StandardScaler.partial_fit``. A column whose
    values are beyond 2^±256 is fed in units of a power of two near its largest |x| so far
    (exact); when that unit grows, the mean and variance so far are rescaled to it (also exact,
    being powers of two), so the result is that of one pass in the final unit."""

    def __init__(self, kind: str):
        self.peak = self.unit = self.scaler = None
        if kind == "standardize":
            from sklearn.preprocessing import StandardScaler

            self.scaler = StandardScaler()

    def add(self, X: np.ndarray) -> None:
        peak = np.maximum(X.max(axis=0), -X.min(axis=0)).astype(np.float64)
        self.peak = peak if self.peak is None else np.maximum(self.peak, peak)
        if self.scaler is None:
            return
        extreme = (self.peak > 2.0**256) | ((self.peak < 2.0**-256) & (self.peak > 0))
        unit = np.where(extreme, np.ldexp(1.0, np.frexp(self.peak)[1] - 1), 1.0)  # X / unit in (-2, 2)
        if self.unit is not None and not np.array_equal(unit, self.unit):
            ratio = self.unit / unit
            self.scaler.mean_ = self.scaler.mean_ * ratio
            self.scaler.var_ = self.scaler.var_ * ratio * ratio
        self.unit = unit
        self.scaler.partial_fit(X / unit if extreme.any() else X)

    def standardize(self) -> tuple[np.ndarray, np.ndarray]:
        """(mean, scale) per column as scikit-learn's StandardScaler finds them (a constant
        feature has scale 1, or in an extreme column its unit)."""
        return (np.asarray(self.scaler.mean_ * self.unit, dtype=np.float64),
                np.asarray(self.scaler.scale_ * self.unit, dtype=np.float64))


def _as_batch(X, name: str) -> np.ndarray:
    """X as a 2-D float array (float32 kept, everything else float64)."""
    arr = np.asarray(X)
    if arr.dtype.kind not in "biuf":
        raise PreprocessingError(f"{name} must be numeric, got an array of dtype {arr.dtype}")
    arr = arr.astype(np.float32 if arr.dtype == np.float32 else np.float64, copy=False)
    if arr.ndim != 2:
        hint = " (for one example use X.reshape(1, -1))" if arr.ndim == 1 else ""
        raise PreprocessingError(f"{name} must be 2-D (n_samples, n_features), got shape {arr.shape}{hint}")
    return arr


def default_preprocessing(dataset: Dataset, kind: str | None = None) -> Preprocessing:
    """The preprocessing for a ``deltaprop.datasets.Dataset``, fitted on its X_train.

    Without ``kind``, pixel data (``dataset.pixel_max`` set: recognised by its values — uint8,
    or whole numbers in [0, 255] — whatever its shape) gets "scale" by the largest pixel value
    (16 for digits, 255 for MNIST-like images) and everything else (toy sets, tabular CSV, NPZ)
    "standardize". ``kind`` ("standardize", "scale" or "none") overrides; "scale" of pixel data
    divides by its nominal largest value, of other data by its largest |x|."""
    if kind is None:
        kind = "scale" if dataset.pixel_max is not None else "standardize"
    if kind not in KINDS:
        raise PreprocessingError(f"unknown preprocessing {kind!r}; expected one of: {', '.join(KINDS)}")
    max_value = dataset.pixel_max if kind == "scale" else None
    return Preprocessing(kind, max_value=max_value).fit(dataset.X_train)
