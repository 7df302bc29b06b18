"""Watching training from the inside: per-layer gradient norms, epoch by epoch.

``GradientNorms`` is a training callback. At the end of every epoch it runs one
``Network.backward`` on a fixed subset of the training data (at most ``max_rows`` rows, drawn
once, at construction, from a Generator seeded with ``seed``) and stores, in that epoch's
record of the history,

    record["grad_norms"] = {"W": [‖∂C/∂W^1‖, ..., ‖∂C/∂W^L‖], "b": [‖∂C/∂b^1‖, ..., ‖∂C/∂b^L‖]}

(Frobenius / Euclidean norms, layer 1 first). C is the *data* cost averaged over the subset,
without the L2 penalty: the penalty's gradient (λ/n) W^l is local to each layer and does not
travel backwards through the network, so leaving it out shows what backpropagation itself
delivers to each layer — with sigmoid hidden layers the early layers' norms are orders of
magnitude smaller (the vanishing gradient). The norms are measured after the epoch's last
update, with the weights the epoch ended with; the training itself is not touched (no random
numbers are drawn from the run's Generator, so resumed runs stay bit-identical).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .training import Callback
from .validation import as_generator

if TYPE_CHECKING:
    from .network import Network
    from .training import Trainer

__all__ = ["GradientNorms", "DEFAULT_MAX_ROWS"]

#: Rows of the training data the norms are measured on, at most.
DEFAULT_MAX_ROWS = 512


class GradientNorms(Callback):
    """Per-layer ‖∂C/∂W^l‖ and ‖∂C/∂b^l‖ at every epoch end, in ``record["grad_norms"]``.

    Parameters
    ----------
    X : array (m, n_0)
        Training inputs, raw as ``fit`` takes them (the network's preprocessing is applied).
    y : array
        Their class labels (m,) or targets (m, n_L), as ``fit`` takes them.
    max_rows : int
        Use at most this many rows: a subset drawn once without replacement (all rows when
        m ≤ max_rows, in their order).
    seed : int or numpy.random.Generator
        Where the subset comes from (never the global random state, never the run's Generator).
    """

    def __init__(self, X: ArrayLike, y: ArrayLike, max_rows: int = DEFAULT_MAX_ROWS,
                 seed: int | np.random.Generator = 0):
        if isinstance(max_rows, bool) or not isinstance(max_rows, (int, np.integer)) or max_rows < 1:
            raise ValueError(f"max_rows must be a positive integer, got {max_rows!r}")
        X = np.asarray(X)
        y = np.asarray(y)
        if X.ndim != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got shape {X.shape}")
        if len(y) != len(X):
            raise ValueError(f"X has {len(X)} rows but y has {len(y)}; they must match")
        if len(X) == 0:
            raise ValueError("X is empty: gradient norms need at least one training example")
        m = len(X)
        if m > max_rows:
            rows = np.sort(as_generator(seed).choice(m, size=int(max_rows), replace=False))
        else:
            rows = np.arange(m)
        #: The rows of X the norms are measured on.
        self.rows = rows
        self._X_raw = X[rows]
        self._y_raw = y[rows]
        self._X = self._Y = None

    def _prepare(self, net: Network) -> None:
        """a^0 and target rows once per run (the network's preprocessing and classes_ are fixed
        by then); ``norms`` then runs the four equations on them directly."""
        X, self._Y = net.check_XY(self._X_raw, self._y_raw)
        self._X = net.prepare_inputs(X)

    def on_train_begin(self, trainer: Trainer) -> None:
        self._prepare(trainer.net)  # fit has set the network's classes_ by now

    def norms(self, net: Network) -> dict[str, list[float]]:
        """{"W": [...], "b": [...]}: the norms for ``net``'s current parameters."""
        if self._X is None:
            self._prepare(net)
        grads = net._backprop(self._X, self._Y, 0.0)
        return {
            "W": [float(np.linalg.norm(g)) for g in grads.weights],
            "b": [float(np.linalg.norm(g)) for g in grads.biases],
        }

    def on_epoch_end(self, trainer: Trainer, record: dict[str, Any]) -> bool:
        record["grad_norms"] = self.norms(trainer.net)
        return False
