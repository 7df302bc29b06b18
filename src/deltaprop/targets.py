"""Targets: the one home of labels ↔ ``classes_`` ↔ class indices ↔ target rows, and the task rule.

Every part of deltaprop that meets a target goes through this module: ``Network.fit`` and
``evaluate``, the estimators, the data sets, the CLI, the gradient monitor, explain and the report.

Labels are compared as the values they are, never through float: integers stay exact up to
int64 (2⁵³ + 1 and 2⁶³ − 1 are classes of their own), strings stay strings, booleans booleans.

The task rule
-------------
``infer_task(y)`` — what a target array asks for when nobody says:

* 1-D integers, strings or booleans → ``"classification"``, whatever the number (≥ 2) of classes;
  1-D floats → ``"classification"`` when every value is a whole number, else ``"regression"``;
* 2-D integers or booleans holding only 0 and 1 → ``"multilabel"`` (an indicator matrix);
* any other 2-D numbers → ``"regression"`` (one output per column);
* class labels with one distinct value → a TargetError ("only one class (…) in y"), here, in
  ``head`` (n_classes = 1) and when ``prepare`` fits ``classes_``: one class is nothing to learn.

``head(task, n_classes, output, cost)`` — the output activation and cost for a task:

=====================  ===========================  =========================================
task                   default output, cost          output neurons
=====================  ===========================  =========================================
classification, K = 2  sigmoid, binary_cross_entropy  1 (a = P(second class)); softmax: 2
classification, K > 2  softmax, cross_entropy         K
multilabel             sigmoid, binary_cross_entropy  one per label
regression             identity, quadratic            one per target column
=====================  ===========================  =========================================

A given cost picks its matching output (cross_entropy → softmax, binary_cross_entropy →
sigmoid, quadratic → sigmoid for classes as in 3Blue1Brown); a given output picks its matching
cost. For K classes the target rows are one-hot (y[i, index_i] = 1); with one sigmoid output
the row is the single number index_i ∈ {0, 1}.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

if TYPE_CHECKING:
    from .activations import Activation
    from .costs import Cost
    from .network import Network

__all__ = [
    "TASKS",
    "TargetError",
    "infer_task",
    "check_task",
    "parse_labels",
    "as_labels",
    "classes_of",
    "encode",
    "decode",
    "one_hot",
    "target_rows",
    "predicted_index",
    "head",
    "n_outputs",
    "is_classifier",
    "prepare",
]

TASKS = ("classification", "multilabel", "regression")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_INTEGER_TEXT = re.compile(r"[+-]?\d+")


class TargetError(ValueError):
    """Targets that cannot be used as given; the message says what was wrong and where."""


# ---------------------------------------------------------------------------- the task rule
def check_task(task: str | None) -> str | None:
    """``task`` as one of TASKS (None stays None), or a TargetError."""
    if task is None:
        return None
    key = str(task).strip().lower().replace("_", "-")
    key = {"multi-label": "multilabel", "classifier": "classification", "regressor": "regression"}.get(key, key)
    if key not in TASKS:
        raise TargetError(f"task must be one of {', '.join(TASKS)}, got {task!r}")
    return key


def _whole(values: np.ndarray) -> bool:
    return bool(values.size == 0 or (np.isfinite(values).all() and np.all(values == np.round(values))))


def infer_task(y: ArrayLike, where: str = "y") -> str:
    """The task that targets ``y`` ask for (see the module docstring). Labels that would be
    classes but hold only one distinct value are a TargetError: nothing to tell apart."""
    y = _given(y, where)
    kind = _kind(y)
    if y.ndim == 1 or (y.ndim == 2 and y.shape[1] == 1 and kind in "USOb"):
        if kind == "f" and not _whole(y):
            return "regression"
        if kind == "O":
            as_labels(y, where)  # the message that names the bad label
        if y.size and not (y != y.flat[0]).any():
            hint = "; for a constant numeric target set the task to regression" if kind in "iuf" else ""
            raise TargetError(f"{_one_class(y.flat[0], where)}{hint}")
        return "classification"
    if y.ndim == 2:
        if kind in "USO":
            raise TargetError(f"text targets must be one label per example (1-D), got shape {y.shape}")
        if kind == "b" or (kind in "iu" and y.size and np.isin(y, (0, 1)).all()):
            return "multilabel"
        return "regression"
    raise TargetError(f"targets must be labels (m,) or rows (m, k), got shape {y.shape}")


def head(task: str, n_classes: int | None = None, output: str | Activation | None = None,
         cost: str | Cost | None = None) -> tuple[str, str]:
    """(output activation, cost) for ``task`` (see the table in the module docstring).

    ``output`` and ``cost`` are names (or None for the default); a given one picks its match.
    Only the names of the two standard heads are checked here; ``Network`` validates the rest."""
    task = check_task(task)
    output = None if output is None else _name(output)
    cost = None if cost is None else _name(cost)
    if task == "classification" and n_classes is not None and n_classes < 2:
        if n_classes == 1:
            raise TargetError("only one class in y: classification needs at least two")
        raise TargetError(f"classification needs at least two classes, got n_classes={n_classes}")
    if task == "regression":
        return output or "identity", cost or "quadratic"
    if task == "multilabel" and output == "softmax":
        raise TargetError(
            "multi-label targets need one independent sigmoid output per label; softmax makes "
            "the outputs compete. Use output='sigmoid' (or leave it out)"
        )
    if output is None:
        if cost == "cross_entropy":
            output = "softmax"
        elif cost in ("binary_cross_entropy", "quadratic", "half_quadratic") or task == "multilabel" or n_classes == 2:
            output = "sigmoid"
        else:
            output = "softmax"
    if cost is None:
        cost = {"softmax": "cross_entropy", "sigmoid": "binary_cross_entropy"}.get(output, "quadratic")
    return output, cost


def n_outputs(task: str, n_classes: int | None, output: str | Activation, n_targets: int = 1) -> int:
    """Output neurons for ``task``: 1 for two classes on one sigmoid, K for K classes,
    one per label (multi-label) or per target column (regression)."""
    task = check_task(task)
    if task == "classification":
        return 1 if n_classes == 2 and _name(output) != "softmax" else int(n_classes)
    return int(n_targets)


def _one_class(label, where: str = "y") -> str:
    """The message for labels that hold a single class (scikit-learn's wording)."""
    label = label.item() if isinstance(label, np.generic) else label
    return f"only one class ({label!r}) in {where}: classification needs at least two"


def _given(y, where: str) -> np.ndarray:
    """y as an array, or a TargetError when it is None."""
    if y is None:
        raise TargetError(f"{where} is None; expected class labels (m,) or target rows (m, k)")
    return np.asarray(y)


def _name(spec) -> str:
    name = spec if isinstance(spec, str) else getattr(spec, "name", spec)
    if isinstance(name, dict):
        name = name.get("name")
    return str(name).strip().lower().replace("-", "_")


# ---------------------------------------------------------------------------- labels
def _kind(y: np.ndarray) -> str:
    """The dtype kind, with object arrays of strings reported as text ("U")."""
    if y.dtype.kind == "O":
        if all(isinstance(v, str) for v in y.flat):
            return "U"
        if all(isinstance(v, (bool, np.bool_)) for v in y.flat):
            return "b"
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, (bool, np.bool_)) for v in y.flat):
            return "i"
        return "O"
    return y.dtype.kind


def parse_labels(cells: Iterable[Any], where: str = "labels") -> np.ndarray:
    """Labels from text cells (a CSV column), each kept as the value it spells.

    * every cell an integer literal → int64, exactly (no float on the way: "9007199254740993"
      stays 9007199254740993; outside int64 is an error);
    * every cell a number → float64; two different spellings of one number ("1" and "1.0") are
      an error, since they would silently become one class;
    * "true"/"false" in any case → bool;
    * anything else → strings, as written (surrounding spaces removed)."""
    text = [str(c).strip() for c in cells]
    if text and all(_INTEGER_TEXT.fullmatch(t) for t in text):
        values = [int(t) for t in text]
        out = [v for v in values if not _INT64_MIN <= v <= _INT64_MAX]
        if out:
            raise TargetError(f"{where}: the label {out[0]} is outside the 64-bit integer range")
        return np.array(values, dtype=np.int64)
    if text and all(t.lower() in ("true", "false") for t in text):
        return np.array([t.lower() == "true" for t in text], dtype=bool)
    try:
        floats = np.array([float(t) for t in text], dtype=np.float64)
    except ValueError:
        return np.array(text, dtype=str)
    if not np.isfinite(floats).all():
        bad = text[int(np.flatnonzero(~np.isfinite(floats))[0])]
        raise TargetError(f"{where}: the label {bad!r} is not a finite number")
    spellings: dict[float, str] = {}
    for t, v in zip(text, floats.tolist()):
        first = spellings.setdefault(v, t)
        if first != t:
            raise TargetError(
                f"{where}: {first!r} and {t!r} are the same number written two ways; as classes "
                f"they would silently merge. Write every label one way"
            )
    return floats


def as_labels(y: ArrayLike, where: str = "y") -> np.ndarray:
    """1-D class labels as a NumPy array of their own kind (int64, float64, bool or str);
    whole-valued floats become exact int64, object arrays of strings become str arrays."""
    y = _given(y, where)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim != 1:
        raise TargetError(
            f"{where}: class labels must be one per example (a 1-D array), got shape {y.shape} "
            f"(for one-hot rows pass y.argmax(axis=1))"
        )
    kind = _kind(y)
    if kind == "U":
        return y.astype(str)
    if kind == "b":
        return y.astype(bool)
    if kind in "iu":
        if y.dtype.kind == "u" and y.size and int(y.max()) > _INT64_MAX:
            raise TargetError(f"{where}: the label {int(y.max())} is outside the 64-bit integer range")
        return np.asarray([int(v) for v in y], dtype=np.int64) if y.dtype.kind == "O" else y.astype(np.int64)
    if kind == "f":
        if not np.isfinite(y).all():
            raise TargetError(f"{where}: labels contain NaN or infinity")
        if _whole(y) and (y.size == 0 or (np.abs(y) < 2.0**63).all()):
            return y.astype(np.int64)
        return y.astype(np.float64)
    if kind == "O":
        for i, v in enumerate(y):
            if v is None or (isinstance(v, float) and not np.isfinite(v)):
                raise TargetError(f"{where}[{i}] is {v!r}: every example needs a label (a number, string or boolean)")
        types = ", ".join(sorted({type(v).__name__ for v in y}))
        raise TargetError(
            f"{where}: labels must be numbers, strings or booleans of one kind, got an object array of {types}"
        )
    raise TargetError(f"{where}: labels must be numbers, strings or booleans, got dtype {y.dtype}")


def classes_of(y: ArrayLike, where: str = "y") -> np.ndarray:
    """The sorted distinct labels of ``y`` (what ``classes_`` holds)."""
    return np.unique(as_labels(y, where))


def encode(y: ArrayLike, classes: ArrayLike | None = None, where: str = "y") -> tuple[np.ndarray, np.ndarray]:
    """(classes, index): ``classes[index] == y`` exactly; ``classes`` from y when not given.

    A label that is not one of the given classes is a TargetError naming it."""
    labels = as_labels(y, where)
    if classes is None:
        classes, index = np.unique(labels, return_inverse=True)
        return classes, index.reshape(-1).astype(np.intp)
    classes = np.asarray(classes)
    known = as_labels(classes, "classes_") if classes.size else classes
    index = np.zeros(labels.shape[0], dtype=np.intp)
    ok = np.zeros(labels.shape[0], dtype=bool)
    comparable = known.size and (
        known.dtype.kind == labels.dtype.kind
        or (known.dtype.kind in "if" and labels.dtype.kind in "if")
    )
    if labels.size and comparable:
        probe = labels
        if known.dtype.kind == "i" and labels.dtype.kind == "f":
            ok_values = (labels == np.round(labels)) & (np.abs(labels) < 2.0**63)
            probe = np.where(ok_values, labels, 0).astype(np.int64)
        elif known.dtype.kind == "f" and labels.dtype.kind == "i":
            probe = labels.astype(np.float64)
        sorter = np.argsort(known, kind="stable")
        pos = np.clip(np.searchsorted(known, probe, sorter=sorter), 0, len(known) - 1)
        index = sorter[pos]
        ok = known[index] == probe
        if known.dtype.kind == "i" and labels.dtype.kind == "f":
            ok &= ok_values
    if labels.size and not ok.all():
        bad = labels[~ok][0]
        raise TargetError(
            f"{where} contains the label {bad.item()!r}, which is not one of the classes "
            f"{classes.tolist()!r}"
        )
    return classes, index.astype(np.intp)


def decode(classes: ArrayLike, index: ArrayLike) -> np.ndarray:
    """The labels ``classes[index]``."""
    return np.asarray(classes)[np.asarray(index, dtype=np.intp)]


def one_hot(labels: ArrayLike, n_classes: int | None = None, dtype: DTypeLike = "float64") -> np.ndarray:
    """Class labels as target rows: y[i, labels[i]] = 1, every other entry 0.

    Parameters
    ----------
    labels : array_like of int, shape (m,)
        Integer class labels 0 .. n_classes−1 (whole-valued floats are accepted).
    n_classes : int, optional
        The number of columns; None: ``max(labels) + 1``.
    dtype : dtype, default "float64"
        The dtype of the rows.

    Returns
    -------
    ndarray, shape (m, n_classes)

    Raises
    ------
    ValueError
        When ``labels`` is not 1-D, holds non-integers, or a label is outside 0 .. n_classes−1.
    """
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


def target_rows(index: ArrayLike, n_outputs: int, dtype: DTypeLike = "float64") -> np.ndarray:
    """The network's target rows for class indices: one-hot rows (m, K), or for one sigmoid
    output the column of indices (m, 1) with values in {0, 1}."""
    index = np.asarray(index)
    if n_outputs == 1:
        return index.astype(dtype).reshape(-1, 1)
    return one_hot(index, n_outputs, dtype=dtype)


def predicted_index(A: np.ndarray) -> np.ndarray:
    """The predicted class index of each row of outputs A: argmax, or a > 0.5 for one output."""
    if A.shape[1] == 1:
        return (A[:, 0] > 0.5).astype(np.intp)
    return A.argmax(axis=1)


# ---------------------------------------------------------------------------- a network's targets
def is_classifier(net: Network | Any) -> bool:
    """Whether ``net`` predicts classes: it knows its ``classes_``."""
    return getattr(net, "classes_", None) is not None


def prepare(net: Network, y: ArrayLike, fit_classes: bool = False) -> np.ndarray:
    """Targets Y of shape (m, n_L) for ``net`` from class labels or target rows.

    * y of shape (m, k): target rows, used as given — regression targets, multi-label
      indicators, or your own one-hot rows.
    * y of shape (m,) on a classifier (``classes_`` set): class labels, encoded exactly against
      ``classes_`` into ``target_rows``.
    * y of shape (m,) on a network without ``classes_``: with ``fit_classes`` (training) the
      sorted labels of y become ``classes_``; otherwise (a batch is not a class list) integers
      are class indices 0..n_L−1 (for one output: the target value itself), and text or
      boolean labels are taken in their sorted order.
    """
    y = _given(y, "y")
    n_out = net.sizes[-1]
    if y.ndim == 2:
        return _numeric_rows(y, net.dtype)
    if y.ndim != 1:
        raise TargetError(f"y must be class labels of shape (m,) or targets (m, {n_out}), got {y.shape}")
    text = _kind(y) in "USOb"
    classes = net.classes_
    if classes is None and not (fit_classes or text):
        if n_out == 1:
            return _numeric_rows(y.reshape(-1, 1), net.dtype)
        index = as_labels(y)
        if index.dtype.kind != "i" or (index.size and (index.min() < 0 or index.max() >= n_out)):
            raise TargetError(
                f"y holds labels that are not class indices 0..{n_out - 1} of this network's {n_out} "
                f"outputs, and the network has no classes_ to map them; set net.classes_ or pass "
                f"target rows (m, {n_out}), e.g. deltaprop.one_hot(y, {n_out})"
            )
        return target_rows(index, n_out, dtype=net.dtype)
    if classes is None and n_out == 1 and not text and getattr(net, "cost_name", None) != "binary_cross_entropy":
        return _numeric_rows(y.reshape(-1, 1), net.dtype)  # fit on one numeric output: regression
    if classes is None:
        classes = classes_of(y)
        if fit_classes and len(classes) == 1:
            raise TargetError(_one_class(classes[0]))
        expected = 2 if n_out == 1 else n_out
        if len(classes) > expected:
            raise TargetError(
                f"y has {len(classes)} classes but the output layer has {n_out} neuron(s); "
                f"expected at most {expected} classes"
            )
    classes, index = encode(y, classes)
    if len(classes) != (2 if n_out == 1 else n_out) and (is_classifier(net) or fit_classes):
        hint = "" if is_classifier(net) else (
            f" (if some classes are absent from y, set net.classes_ to all {n_out} labels first)")
        raise TargetError(
            f"the network has {n_out} output(s) but {len(classes)} classes_ {classes.tolist()!r}{hint}"
        )
    if fit_classes and net.classes_ is None:
        net.classes_ = classes
    return target_rows(index, n_out, dtype=net.dtype)


def _numeric_rows(y: np.ndarray, dtype) -> np.ndarray:
    try:
        return np.asarray(y, dtype=dtype)
    except (TypeError, ValueError) as exc:
        raise TargetError(f"y must be numeric target rows: {exc}") from None
