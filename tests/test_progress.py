"""Progress of a fit: one live tqdm bar (verbose=1) or one plain line per epoch (verbose=2)."""

import io

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.progress import EpochLines, ProgressBar, epoch_line
from deltaprop.training import TrainingDiverged


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    return X, (X[:, 0] > 0).astype(int)


def classifier():
    return dp.Network([3, 6, 2], activation="tanh", output="softmax", cost="cross_entropy", seed=0)


def test_one_bar_per_fit_redrawn_in_place(data):
    """Through a real tqdm: carriage-return redraws of one line, closed at the end, not a line per epoch."""
    X, y = data
    out = io.StringIO()
    bar = ProgressBar(file=out)
    classifier().fit(X, y, epochs=20, validation=0.25, seed=0, callbacks=[bar])
    text = out.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n") and text.count("\r") >= 2
    last = text.rstrip("\n").split("\r")[-1]
    assert last.startswith("fit: 100%") and "20/20" in last and "epoch" in last
    assert "cost=" in last and "val_cost=" in last and "val_acc=" in last
    assert bar.bar is None  # closed


def test_the_bar_says_when_training_stopped_early_and_counts_earlier_epochs(data):
    X, y = data
    out = io.StringIO()
    classifier().fit(X, y, epochs=200, validation=0.25, seed=0, early_stopping=True, patience=2,
                     callbacks=[ProgressBar(desc="MLP", n_done=7, file=out)])
    last = out.getvalue().rstrip("\n").split("\r")[-1]
    assert last.startswith("MLP (after 7 epochs): early stopping, best epoch ") and "/200" in last


def test_the_bar_is_closed_when_training_diverges(data):
    X, _ = data
    net = dp.Network([3, 8, 1], activation="relu", output="identity", cost="quadratic", seed=0)
    out = io.StringIO()
    bar = ProgressBar(file=out)
    with pytest.raises(TrainingDiverged):
        net.fit(X, X[:, :1] * 1000, epochs=5, learning_rate=1e6, callbacks=[bar])
    text = out.getvalue()
    assert bar.bar is None and text.endswith("\n") and text.count("\n") == 1
    assert text.rstrip("\n").split("\r")[-1].startswith("fit: diverged:")


def test_epoch_lines_are_plain_and_flushed_one_per_epoch(data):
    X, y = data
    out = io.StringIO()
    history = classifier().fit(X, y, epochs=3, validation=0.25, seed=0, callbacks=[EpochLines(file=out)])
    lines = out.getvalue().splitlines()
    assert lines == [epoch_line(record, 3) for record in history]
    r = history[0]
    assert lines[0] == (f"epoch   1/3  cost {r['cost']:.4f}  acc {r['accuracy']:.2%}  val cost {r['val_cost']:.4f}  "
                        f"val acc {r['val_accuracy']:.2%}  {r['time']:.2f}s")
