"""Figures (matplotlib, drawn off-screen on a ``Figure`` with its own Agg canvas: the global
backend is left alone and nothing is shown)."""

from __future__ import annotations

from .atomic import atomic_write

__all__ = ["learning_curves", "learning_curves_figure"]


def _figure(ncols):
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(5.2 * ncols, 3.8), layout="constrained")
    FigureCanvasAgg(fig)
    return fig, fig.subplots(1, ncols, squeeze=False)[0]


def learning_curves(history, path, title: str | None = None) -> str:
    """Cost (left) and, for classifiers, accuracy (right) per epoch, training vs validation.

    ``history`` is a list of per-epoch dicts as ``fit`` returns them. The PNG is written
    atomically (temporary file, then rename). Returns the path.
    """
    fig = learning_curves_figure(history, title)
    with atomic_write(path, "wb") as fh:
        fig.savefig(fh, format="png", dpi=110)
    return str(path)


def learning_curves_figure(history, title: str | None = None):
    """The matplotlib ``Figure`` that ``learning_curves`` saves (whole-number epoch ticks)."""
    records = list(history)
    if not records:
        raise ValueError("no history to plot: train for at least one epoch")
    epochs = [r["epoch"] for r in records]
    has_acc = any("accuracy" in r or "val_accuracy" in r for r in records)
    from matplotlib.ticker import MaxNLocator

    fig, axes = _figure(2 if has_acc else 1)
    panels = [("cost", "cost", axes[0])] + ([("accuracy", "accuracy", axes[1])] if has_acc else [])
    for key, label, ax in panels:
        for prefix, name, style in (("", "training", "-"), ("val_", "validation", "--")):
            values = [r.get(prefix + key) for r in records]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True, steps=[1, 2, 5, 10]))  # epochs are whole: no tick at 2.5
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    return fig
