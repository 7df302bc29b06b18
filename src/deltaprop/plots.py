"""Figures (matplotlib, drawn off-screen with the Agg backend; nothing is shown)."""

from __future__ import annotations

from .atomic import atomic_write

__all__ = ["learning_curves"]


def _figure(ncols):
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt, plt.subplots(1, ncols, figsize=(5.2 * ncols, 3.8), constrained_layout=True)


def learning_curves(history, path, title: str | None = None) -> str:
    """Cost (left) and, for classifiers, accuracy (right) per epoch, training vs validation.

    ``history`` is a list of per-epoch dicts as ``fit`` returns them. The PNG is written
    atomically (temporary file, then rename). Returns the path.
    """
    records = list(history)
    if not records:
        raise ValueError("no history to plot: train for at least one epoch")
    epochs = [r["epoch"] for r in records]
    has_acc = any("accuracy" in r or "val_accuracy" in r for r in records)
    plt, (fig, axes) = _figure(2 if has_acc else 1)
    axes = axes if has_acc else [axes]
    panels = [("cost", "cost", axes[0])] + ([("accuracy", "accuracy", axes[1])] if has_acc else [])
    for key, label, ax in panels:
        for prefix, name, style in (("", "training", "-"), ("val_", "validation", "--")):
            values = [r.get(prefix + key) for r in records]
            if any(v is not None for v in values):
                ax.plot(epochs, values, style, marker="o", markersize=3, label=name)
        ax.set_xlabel("epoch")
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    try:
        with atomic_write(path, "wb") as fh:
            fig.savefig(fh, format="png", dpi=110)
    finally:
        plt.close(fig)
    return str(path)
