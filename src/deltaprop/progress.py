"""Progress of a fit: one live display (``fit(..., verbose=1)``, the estimators' ``verbose=1``),
or one plain line per epoch (``fit(..., verbose=2)``, Keras's convention; ``deltaprop train``
where stdout is not a terminal).

``ProgressBar`` is a training callback drawn by ``tqdm.auto``: in a terminal one line that
updates in place (on stderr), in Jupyter a widget that updates in place (``tqdm.notebook``;
without ipywidgets, a text line that Jupyter redraws), never one output line per epoch. It
shows the epochs done out of ``epochs`` and, after each, the last epoch's cost, validation
cost and validation accuracy; when training ends early it says why.

Library calls are quiet by default (scikit-learn's convention): nothing is shown unless a
caller asks for it. ``tqdm`` is imported when the first bar is made, not at ``import deltaprop``.

``EpochLines`` writes ``epoch_line(record, epochs)`` after each epoch, e.g.

    epoch   3/30  cost 0.4521  acc 88.12%  val cost 0.5012  val acc 86.00%  0.02s

plain text (no cursor or colour codes), flushed, so a pipe, a log file or a notebook cell shows
each line when its epoch ends.
"""

from __future__ import annotations

import html
from typing import IO, TYPE_CHECKING

from .training import Callback

if TYPE_CHECKING:
    from .training import Trainer

__all__ = ["ProgressBar", "EpochLines", "epoch_line", "describe"]

_SHOWN = (("cost", "cost"), ("val_cost", "val_cost"), ("val_accuracy", "val_acc"), ("val_score", "val_score"))


class ProgressBar(Callback):
    """A live bar over the epochs of one fit.

    Parameters
    ----------
    desc : str
        The bar's label ("fit" by default).
    n_done : int
        Epochs trained before this fit (a warm start or ``partial_fit``): the bar counts this
        fit's epochs and the label says where the run stands.
    file : file-like, optional
        Where a text bar is written (stderr by default, as tqdm does).
    """

    def __init__(self, desc: str = "fit", n_done: int = 0, file: IO[str] | None = None):
        self.desc, self.n_done, self.file = desc, int(n_done), file
        self.bar = None
        self.handle = None  # the notebook output the bar lives in (Jupyter only)

    def on_train_begin(self, trainer: Trainer) -> None:
        from tqdm.auto import tqdm

        label = self.desc if not self.n_done else f"{self.desc} (after {self.n_done} epochs)"
        options = dict(total=trainer.epochs, initial=trainer.epoch, desc=label, unit="epoch", file=self.file,
                       leave=True, dynamic_ncols=True)
        self.handle = None
        if self.file is None and any(c.__module__ == "tqdm.notebook" for c in tqdm.__mro__):  # Jupyter, ipywidgets
            from IPython.display import display

            self.bar = tqdm(**options, display=False)
            self.handle = display(self.bar.container, display_id=True)  # replaced by the final line at the end
        else:
            self.bar = tqdm(**options)

    def on_epoch_end(self, trainer: Trainer, record: dict) -> bool:
        if self.bar is not None:
            self.bar.set_postfix({name: f"{record[key]:.4g}" for key, name in _SHOWN if key in record},
                                 refresh=False)
            self.bar.update(trainer.epoch - self.bar.n)
        return False

    def on_train_end(self, trainer: Trainer) -> None:
        if self.bar is None:
            return
        reason = trainer.history.stop_reason
        if reason == "early_stopping":
            best = trainer.history.best_epoch
            self.bar.set_description_str(f"{self.bar.desc}: early stopping" + (
                f", best epoch {self.n_done + best}" if best is not None else ""), refresh=False)
        elif reason != "completed":
            self.bar.set_description_str(f"{self.bar.desc}: {reason}", refresh=False)
        final = self.bar.format_meter(**self.bar.format_dict)
        self.bar.close()
        if self.handle is not None:  # a saved notebook (no widget state) then shows the end, not "0/N"
            self.handle.update(_FinalLine(final))
        self.bar = None


class _FinalLine:
    """The bar's last line as a notebook output (HTML and plain text)."""

    def __init__(self, text: str):
        self.text = text

    def _repr_html_(self) -> str:
        return f'<pre class="deltaprop-progress">{html.escape(self.text)}</pre>'

    def __repr__(self) -> str:
        return self.text


def describe(record: dict) -> str:
    """An epoch's numbers on one line: ``cost 0.4521  acc 88.12%  val cost 0.5012  val acc 86.00%  0.02s``
    (what the record has)."""
    parts = [f"cost {record['cost']:.4f}"]
    if "accuracy" in record:
        parts.append(f"acc {record['accuracy']:.2%}")
    if "val_cost" in record:
        parts.append(f"val cost {record['val_cost']:.4f}")
    if "val_accuracy" in record:
        parts.append(f"val acc {record['val_accuracy']:.2%}")
    if "time" in record:
        parts.append(f"{record['time']:.2f}s")
    return "  ".join(parts)


def epoch_line(record: dict, epochs: int) -> str:
    """``epoch   3/30  `` and ``describe(record)``."""
    return f"epoch {record['epoch']:>3}/{epochs}  {describe(record)}"


class EpochLines(Callback):
    """One plain line per epoch, ``epoch_line``, written to ``file`` (stdout by default, as
    Keras's ``verbose=2`` and scikit-learn's ``verbose`` write) and flushed."""

    def __init__(self, file: IO[str] | None = None):
        self.file = file

    def on_epoch_end(self, trainer: Trainer, record: dict) -> bool:
        print(epoch_line(record, trainer.epochs), file=self.file, flush=True)
        return False
