"""A training run's history: the per-epoch records ``fit`` returns and ``net.history`` holds.

A leaf module (it imports nothing of deltaprop's), so that the network can hold a ``History``
without importing the training loop.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, KeysView
from typing import TYPE_CHECKING, overload

if TYPE_CHECKING:
    import pandas

__all__ = ["History"]


class History(list):
    """What ``fit`` returns, and ``net.history`` holds: the list of per-epoch records, and why
    training stopped. (A leaf module: the network holds one
    without importing the training loop, which fills it.)

    A record is a dict: ``epoch``, ``cost`` (the mean mini-batch cost, with the L2 penalty),
    ``accuracy`` (classifiers), ``learning_rate``, ``time`` (seconds) and, with validation data,
    ``val_cost`` and ``val_accuracy``; callbacks may add keys of their own (``grad_norms``).

    Read it as a dict of lists (Keras's ``history.history``): ``history["val_cost"]`` is that
    value for every epoch (None where an epoch has none), ``keys()``, ``"cost" in history``; or
    as the list of records it is: ``len(history)``, ``history[-1]``, ``for record in history``
    (so it is JSON-able, and equal to a list of the same records, as ``net.history`` was).
    ``to_pandas()`` gives a DataFrame indexed by epoch. ``History(records)`` wraps a list of
    records (e.g. from a model file).

    ``stop_reason`` is "completed", "early_stopping", "interrupted" or "diverged", and for the
    full-batch methods (lbfgs, cg) also "converged" (the tolerance was met) or "stalled";
    ``best_epoch`` the epoch of the lowest validation cost (None without validation data).
    """

    def __init__(self, records: Iterable[dict] = (), stop_reason: str = "completed", best_epoch: int | None = None):
        super().__init__(records)
        for i, record in enumerate(self):
            if not isinstance(record, dict):
                raise ValueError(f"History records must be dicts (one per epoch), got {type(record).__name__} at {i}")
        self.stop_reason = stop_reason
        self.best_epoch = best_epoch

    @property
    def records(self) -> list:
        """The records: the History itself (a list)."""
        return self

    @records.setter
    def records(self, records: Iterable[dict]) -> None:
        self[:] = list(records)

    # ------------------------------------------------------------------ as a dict of lists
    def keys(self) -> KeysView:
        """The record keys, in the order they first appear."""
        return dict.fromkeys(k for r in self for k in r).keys()

    def items(self) -> list:
        """``[(key, history[key]), ...]`` for every key."""
        return [(k, self[k]) for k in self.keys()]

    def __contains__(self, key) -> bool:
        return key in self.keys() if isinstance(key, str) else super().__contains__(key)

    @overload
    def __getitem__(self, key: str) -> list: ...
    @overload
    def __getitem__(self, key: int) -> dict: ...
    @overload
    def __getitem__(self, key: slice) -> list: ...

    def __getitem__(self, key):
        if isinstance(key, str):
            if key not in self:
                raise KeyError(f"{key!r}: no epoch of this history has it; its keys: {', '.join(self.keys()) or 'none (no epochs)'}")
            return [r.get(key) for r in self]
        return super().__getitem__(key)

    def copy(self) -> "History":
        """An independent copy (each record copied)."""
        return History([dict(r) for r in self], self.stop_reason, self.best_epoch)

    def to_pandas(self) -> pandas.DataFrame:
        """The records as a ``pandas.DataFrame``, one row per epoch, indexed by ``epoch``."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError("History.to_pandas() needs pandas, which is not installed: pip install pandas") from None
        frame = pd.DataFrame(self, columns=list(self.keys()) or ["epoch"])
        return frame.set_index("epoch") if "epoch" in frame.columns else frame

    # ------------------------------------------------------------------ display
    def __repr__(self) -> str:
        n = len(self)
        text = (f"History({n} epoch{'' if n == 1 else 's'}, stop_reason={self.stop_reason!r}, "
                f"best_epoch={self.best_epoch!r}")
        if self:
            last = self[-1]
            shown = [f"{k} {last[k]:.4g}" for k in _SHOWN if isinstance(last.get(k), (int, float))]
            text += ("; last: " + ", ".join(shown)) if shown else ""
        return text + ")"

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(repr(self))

    def _repr_html_(self) -> str:
        """A compact table (epoch, costs, accuracies, time, learning rate); with more than
        ``2 * _HTML_EDGE + 2`` epochs the first and last ``_HTML_EDGE`` and a row for the rest."""
        columns = [k for k in _COLUMNS if k in self]
        head = "".join(f"<th>{html.escape(_COLUMNS[k])}</th>" for k in columns)
        rows = list(self)
        n, edge = len(rows), _HTML_EDGE
        if n > 2 * edge + 2:
            rows = rows[:edge] + [None] + rows[-edge:]
        body = []
        for row in rows:
            if row is None:
                body.append(f'<tr><td colspan="{len(columns)}" style="text-align:center">'
                            f"… {n - 2 * edge} more epochs …</td></tr>")
                continue
            record = row
            style = ' style="font-weight:bold"' if record.get("epoch") == self.best_epoch else ""
            cells = "".join(f'<td style="text-align:right">{_cell(k, record.get(k))}</td>' for k in columns)
            body.append(f"<tr{style}>{cells}</tr>")
        caption = f"History: {n} epoch{'' if n == 1 else 's'}, {self.stop_reason.replace('_', ' ')}"
        if self.best_epoch is not None:
            caption += f", best epoch {self.best_epoch} (bold)"
        return (f'<table class="deltaprop-history"><caption>{html.escape(caption)}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>")


#: What ``History``'s displays show, in this order: record key -> column title.
_COLUMNS = {"epoch": "epoch", "cost": "cost", "val_cost": "val_cost", "accuracy": "accuracy",
            "val_accuracy": "val_accuracy", "time": "time (s)", "learning_rate": "learning rate"}
_SHOWN = ("cost", "accuracy", "val_cost", "val_accuracy")  # the repr's "last:" values
_HTML_EDGE = 5  # epochs shown at each end of a long history's table


def _cell(key: str, value) -> str:
    """One value of the HTML table, formatted for its column."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return "" if value is None else html.escape(str(value))
    if key == "epoch":
        return str(value)
    if key.endswith("accuracy"):
        return f"{value:.2%}"
    if key == "time":
        return f"{value:.2f}"
    if key == "learning_rate":
        return f"{value:g}"
    return f"{value:.4f}"
