"""The training report from Python: ``deltaprop.report(net, X, y, history=...)``.

The page is the one ``deltaprop report RUN_DIR`` writes, made by the same builder
(``builder.build_report``): the network (or a fitted estimator's ``network_``), the data X, y
it is explained on, and the history of its training. The result shows itself inline in a
notebook (an ``<iframe srcdoc=...>`` holding the whole page: it fetches nothing) and
``.save(path)`` writes the page atomically.

    rep = deltaprop.report(net, X, y)     # a notebook cell's last expression: the page, inline
    rep.save("report.html")

(The builder reads a run directory; until it takes a network and data directly, the network
and the history are written to a temporary one, removed when the page is made.)
"""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np
from numpy.typing import ArrayLike

from .builder import MAX_DERIVED_PARAMETERS, N_EXAMPLES, Run, build_report

__all__ = ["Report", "ReportError", "report"]

#: Height of the inline frame, in CSS pixels (the page scrolls inside it).
FRAME_HEIGHT = 800


class ReportError(ValueError):
    """The arguments of ``deltaprop.report`` cannot make a report; the message says which."""


class Report:
    """One report page: ``html`` (the whole document, a str), ``title``; shown inline by
    Jupyter (``_repr_html_``), written by ``save(path)``."""

    def __init__(self, html_text: str, title: str):
        self.html = html_text
        self.title = title

    def _repr_html_(self) -> str:
        return (f'<iframe title="{html.escape(self.title)}" srcdoc="{html.escape(self.html, quote=True)}" '
                f'style="width: 100%; height: {FRAME_HEIGHT}px; border: 1px solid #ddd;"></iframe>')

    def save(self, path: str | os.PathLike) -> Path:
        """Write the page to ``path`` atomically (a reader sees the old file or the whole new
        one); returns the path."""
        from ..atomic import atomic_write_text

        path = Path(path)
        atomic_write_text(path, self.html)
        return path

    def __repr__(self) -> str:
        return (f"<{self.title}: one self-contained HTML page, {len(self.html.encode('utf-8')) / 1e6:.1f} MB; "
                ".save(path) writes it>")


def report(model: Any, X: ArrayLike, y: ArrayLike, history: Any = None, *, X_test: ArrayLike | None = None,
           y_test: ArrayLike | None = None, name: str = "data", examples: int | Sequence[int] = N_EXAMPLES,
           max_parameters: int = MAX_DERIVED_PARAMETERS) -> Report:
    """The training report of ``model`` (a ``Network`` or a fitted ``MLPClassifier`` /
    ``MLPRegressor``) on the data X, y.

    Parameters
    ----------
    model : Network or fitted estimator
    X, y : array-like
        The examples the derivations explain (raw inputs, as ``fit`` takes them) and their
        class labels (or target rows).
    history : History or list of dict, optional
        The per-epoch records for the learning curves; default the model's own (``net.history``,
        the last ``fit``).
    X_test, y_test : array-like, optional
        Held-out data for the confusion matrix (classifiers).
    name : str
        What the page calls the data set.
    examples, max_parameters
        As for ``deltaprop report``: how many examples (or which rows of X) get stored
        derivations, and at most how many parameters.
    """
    from ..explain.derive import check_network

    net = getattr(model, "network_", model)
    check_network(net)
    records, stop_reason, best_epoch = _history(net.history if history is None else history)
    ds = _dataset(net, X, y, X_test, y_test, str(name))
    metrics = {"command": "deltaprop.report(...) in Python", "history": records, "stop_reason": stop_reason,
               "best_epoch": best_epoch}
    run = Run(run_dir=None, model_path=None, net=net, header={}, metrics=metrics)  # in memory: no files
    page = build_report(run, ds, examples=examples, max_parameters=max_parameters)
    return Report(page, f"deltaprop report: {ds.name}, network {'-'.join(map(str, net.sizes))}")


def _history(history):
    """(records, stop_reason, best_epoch) of a ``History`` or a list of per-epoch dicts."""
    records = getattr(history, "records", history)
    try:
        records = [dict(r) for r in records]
    except (TypeError, ValueError):
        raise ReportError(f"history must be a History or a list of per-epoch dicts, got {type(history).__name__}") from None
    for i, r in enumerate(records):
        if not all(isinstance(r.get(key), (int, float)) and not isinstance(r.get(key), bool) for key in ("epoch", "cost")):
            raise ReportError(f"history entry {i} must have a numeric 'epoch' and 'cost', got {r!r:.120}")
    return records, getattr(history, "stop_reason", None), getattr(history, "best_epoch", None)


def _dataset(net, X, y, X_test, y_test, name):
    """The data as the builder's ``Dataset``: X, y the training split, X_test, y_test the test
    split (empty when not given); for a classifier, y as indices into ``net.classes_``."""
    from ..datasets import Dataset, pixel_range, square_image_shape
    from ..targets import TargetError, encode, is_classifier, predicted_index

    def split(X, y, where):
        if X is None:
            return np.empty((0, net.sizes[0])), np.empty((0,) if is_classifier(net) else (0, net.sizes[-1]))
        X, Y = net.check_XY(X, y)  # the network's own checks: a one-line ValueError naming what is wrong
        X = np.asarray(X, dtype=np.float64)
        if not is_classifier(net):
            return X, np.asarray(Y, dtype=np.float64)
        if np.ndim(y) == 2:  # target rows: the index of each row's class
            return X, predicted_index(np.asarray(Y)).astype(np.int64)
        try:
            return X, encode(y, net.classes_, where)[1].astype(np.int64)
        except TargetError as exc:
            raise ReportError(str(exc)) from None

    if (X_test is None) != (y_test is None):
        raise ReportError("give both X_test and y_test, or neither")
    X_train, y_train = split(X, y, "y")
    X_te, y_te = split(X_test, y_test, "y_test")
    pixel_max = pixel_range(X_train)  # pixel data (by its values) in a square: images
    image = square_image_shape(X_train.shape[1]) if pixel_max else None
    return Dataset(
        name, X_train, y_train, X_train[:0], y_train[:0], X_te, y_te,
        task="classification" if is_classifier(net) else "regression",
        classes=np.asarray(net.classes_) if is_classifier(net) else None,
        feature_names=None if net.feature_names is None else list(net.feature_names),
        image_shape=image, pixel_max=pixel_max if image else None,
    )
