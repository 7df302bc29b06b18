"""The parameters as they were at the end of chosen epochs: what the report animates.

``ParameterSnapshots`` is a training callback. At the end of epoch 1, of every ``every``-th
epoch and of the last one it stores a copy of W^l and b^l in that epoch's record,

    record["parameters"] = {"float32": base64 of W^1, b^1, ..., W^L, b^L unrolled}

(each W^l row by row, then b^l: the unrolled parameter vector of Ng's course, in float32 —
2.7 KB of text for 500 parameters, where JSON numbers would take ten times that)

so the snapshots travel with the history: into checkpoints (a resumed run keeps the earlier
ones), model files and ``metrics.json``. ``deltaprop train`` adds it for small networks on 2-D
data (``wanted``), where the report draws the decision boundary at each stored epoch.
``read_snapshots`` takes them back out of a history, checking every shape against the network
(a history may come from a file: nothing in it is trusted).
"""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Iterable, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .network import Network
from .training import Callback, Trainer

__all__ = ["ParameterSnapshots", "read_snapshots", "pack", "unpack", "wanted", "MAX_PARAMETERS", "MAX_SNAPSHOTS", "KEY"]

#: The record key the snapshots are stored under.
KEY = "parameters"
#: Networks with more parameters than this get no snapshots (they would swell the history).
MAX_PARAMETERS = 2000
#: At most about this many epochs get a snapshot (every ``ceil(epochs / MAX_SNAPSHOTS)``-th).
MAX_SNAPSHOTS = 25
def wanted(net: Network) -> bool:
    """Whether ``deltaprop train`` stores snapshots for ``net``: 2 inputs (the report can draw
    its decision boundary) and at most ``MAX_PARAMETERS`` parameters."""
    return net.sizes[0] == 2 and net.n_params <= MAX_PARAMETERS


def pack(weights: Iterable[ArrayLike], biases: Iterable[ArrayLike]) -> dict[str, str]:
    """The parameters as a snapshot record: ``{"float32": base64 of the unrolled vector}``."""
    flat = np.concatenate([np.ravel(p) for W, b in zip(weights, biases) for p in (W, b)]).astype("<f4")
    return {"float32": base64.b64encode(flat.tobytes()).decode("ascii")}


def unpack(snapshot: dict, sizes: Sequence[int]) -> tuple[list[NDArray], list[NDArray]] | None:
    """``(weights, biases)`` (float64) from a snapshot record for a network of ``sizes``, or
    None when it is not one: wrong length, not base64, or values that are not finite."""
    try:
        raw = base64.b64decode(snapshot["float32"], validate=True)
    except (KeyError, TypeError, ValueError, binascii.Error):
        return None
    n = sum(sizes[l + 1] * (sizes[l] + 1) for l in range(len(sizes) - 1))
    if len(raw) != 4 * n:
        return None
    flat = np.frombuffer(raw, dtype="<f4").astype(np.float64)
    if not np.isfinite(flat).all():
        return None
    weights, biases, at = [], [], 0
    for l in range(len(sizes) - 1):
        rows, cols = sizes[l + 1], sizes[l]
        weights.append(flat[at : at + rows * cols].reshape(rows, cols))
        at += rows * cols
        biases.append(flat[at : at + rows])
        at += rows
    return weights, biases


class ParameterSnapshots(Callback):
    """Store the parameters in the records of epoch 1, every ``every``-th epoch and the last
    (when early stopping ends the run: that epoch, and the best epoch whose weights are kept)
    (``every=None``: chosen so that about ``MAX_SNAPSHOTS`` epochs get one)."""

    def __init__(self, every: int | None = None):
        if every is not None and (isinstance(every, bool) or int(every) != every or every < 1):
            raise ValueError(f"every must be a positive number of epochs or None, got {every!r}")
        self.every = every

    def on_epoch_end(self, trainer: Trainer, record: dict) -> bool:
        every = self.every or max(1, math.ceil(trainer.epochs / MAX_SNAPSHOTS))
        e = trainer.epoch
        stopping = trainer.history.stop_reason == "early_stopping"  # (decided before the callbacks run)
        if e == 1 or e % every == 0 or e == trainer.epochs or stopping:
            record[KEY] = pack(trainer.net.weights, trainer.net.biases)
        best = getattr(trainer, "best", None) or {}
        if stopping and best.get("weights") is not None:  # the weights the run will end with
            kept = next((r for r in trainer.history.records if r.get("epoch") == best["epoch"]), None)
            if kept is not None and KEY not in kept:
                kept[KEY] = pack(best["weights"], best["biases"])
        return False


def read_snapshots(history: Iterable[dict] | None, sizes: Sequence[int]
                   ) -> list[tuple[int, list[NDArray], list[NDArray]]]:
    """``[(epoch, weights, biases), ...]`` from the records of ``history`` that hold a snapshot
    of a network of ``sizes`` (others are skipped: a history may come from a file). Epochs
    ascending, each once."""
    out = {}
    for rec in history or []:
        if not isinstance(rec, dict) or not isinstance(rec.get(KEY), dict):
            continue
        epoch = rec.get("epoch")
        params = unpack(rec[KEY], list(sizes))
        if params is not None and isinstance(epoch, int) and not isinstance(epoch, bool):
            out[epoch] = (epoch, *params)
    return [out[e] for e in sorted(out)]
