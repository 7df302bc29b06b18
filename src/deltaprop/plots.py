"""Figures (matplotlib, drawn off-screen on a ``Figure`` with its own Agg canvas: the global
backend is left alone and nothing is shown)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from .atomic import atomic_write

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["learning_curves", "learning_curves_figure"]


def _figure(ncols):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * ncols, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def _given_axes(ax):
    """``ax`` as a list of one or two Axes, or a ValueError that says what it was."""
    from matplotlib.axes import Axes

    if isinstance(ax, Axes):
        return [ax]
    axes = list(ax) if isinstance(ax, Iterable) and not isinstance(ax, str) else None
    if axes is None or not 1 <= len(axes) <= 2 or not all(isinstance(a, Axes) for a in axes):
        what = type(ax).__name__
        if axes is not None:
            what += f" of {len(axes)} ({', '.join(sorted({type(a).__name__ for a in axes})) or 'empty'})"
        raise ValueError("learning_curves_figure: ax must be a matplotlib Axes or a pair of Axes "
                         f"(cost, accuracy), got {what}")
    return axes


def learning_curves(history: Iterable[Mapping[str, Any]], path: str | os.PathLike[str],
                    title: str | None = None) -> str:
    """Write the learning curves as a PNG: cost (left) and, for classifiers, accuracy (right).

    Parameters
    ----------
    history : History or iterable of dict
        The per-epoch records as ``fit`` returns them (``epoch``, ``cost``, and where measured
        ``val_cost``, ``accuracy``, ``val_accuracy``).
    path : str or os.PathLike
        Where the PNG goes. It is written atomically (temporary file, then rename).
    title : str, optional
        The figure's title.

    Returns
    -------
    str
        ``path``.
    """
    fig = learning_curves_figure(history, title)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    return str(path)


def learning_curves_figure(history: Iterable[Mapping[str, Any]], title: str | None = None,
                           ax: Axes | Iterable[Axes] | None = None) -> Figure:
    """Cost and, for classifiers, accuracy per epoch, training (solid) vs validation (dashed).

    Parameters
    ----------
    history : History or iterable of dict
        The per-epoch records as ``fit`` returns them (``epoch``, ``cost``, and where measured
        ``val_cost``, ``accuracy``, ``val_accuracy``).
    title : str, optional
        The figure's title (with ``ax``: the title of the cost panel).
    ax : matplotlib.axes.Axes or pair of Axes, optional
        Where to draw. One Axes gets the cost panel only; a pair ``(cost_ax, accuracy_ax)`` (such
        as ``fig.subplots(1, 2)``) gets both panels, the second left untouched when the history
        has no accuracy. Without it a new ``Figure`` is made, with its own Agg canvas, one panel
        per kind of curve.

    Returns
    -------
    matplotlib.figure.Figure
        The new figure, or ``ax``'s figure when ``ax`` is given. Epoch ticks are whole numbers.

    Raises
    ------
    ValueError
        When the history is empty, or ``ax`` is not an Axes or a pair of Axes.
    """
    records = list(history)
    if not records:
        raise ValueError("no history to plot: train for at least one epoch")
    epochs = [r["epoch"] for r in records]
    has_acc = any("accuracy" in r or "val_accuracy" in r for r in records)
    from matplotlib.ticker import MaxNLocator

    if ax is None:
        fig, axes = _figure(2 if has_acc else 1)
    else:
        axes = _given_axes(ax)
        fig = axes[0].figure
    panels = [("cost", "cost", axes[0])]
    if has_acc and len(axes) > 1:
        panels.append(("accuracy", "accuracy", axes[1]))
    for key, label, panel in panels:
        for prefix, name, style in (("", "training", "-"), ("val_", "validation", "--")):
            values = [r.get(prefix + key) for r in records]
            if any(v is not None for v in values):
                panel.plot(epochs, values, style, marker="o", markersize=3, label=name)
        panel.set_xlabel("epoch")
        panel.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # epochs are whole: no tick at 2.5
        panel.set_ylabel(label)
        panel.grid(alpha=0.3)
        panel.legend()
    if title and ax is None:
        fig.suptitle(title)
    elif title:
        axes[0].set_title(title)
    return fig
