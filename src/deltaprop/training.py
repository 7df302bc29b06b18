"""The training loop: shuffled mini-batches, gradient steps, history, callbacks.

One epoch of mini-batch gradient descent, as in the seeds:

    shuffle the m training examples (a permutation drawn from the run's Generator)
    for each mini-batch (X_b, Y_b) of ``batch_size`` rows:
        backpropagation gives ∂C/∂W^l and ∂C/∂b^l averaged over the batch (+ (λ/m_b) W^l)
        the optimizer updates the parameters (SGD: W ← W − α ∂C/∂W)

The reported training cost of an epoch is the mean of its mini-batch costs. After each epoch
the validation cost and accuracy are measured, callbacks run (progress display, checkpoints),
early stopping may end the run, and a NaN or infinite cost — or an epoch's mean cost above
``defaults.DIVERGENCE_FACTOR`` times the cost before training — stops it with
``TrainingDiverged`` (the network keeps the weights of the last good epoch, and with
``checkpoint=`` they are written there, so the run can resume with a smaller learning rate).
Each epoch's record states the learning rate it was trained with (it may change on resume).

Resuming from a checkpoint restores the weights, the optimizer's state, the Generator's state
and the history, so an interrupted-then-resumed run ends with exactly the weights of an
uninterrupted one.

``shuffle="blocks"`` reads X — any row-sliceable source: a memory map, an h5py or Zarr array, a
Dask array — one block of ``block_size`` rows at a time (``deltaprop.sources``), the blocks in a
random order and the rows of each in a random order, the next block read on a background thread
while the current one trains; nothing reads the whole source (inputs are checked and
preprocessed block by block, a held-out validation split is a set of row indices, evaluated
block by block). The targets (m × n_L) are held in memory. A mini-batch may span two blocks: the
epoch's order is cut into ``batch_size`` rows as with ``shuffle=True``. There, Ctrl-C keeps (and
checkpoints) the state at the start of the latest block, with its position in the epoch (the
block and row reached), and resuming continues from that row, bit-identical to a run that was
never interrupted.

``batch_size=None`` makes one batch of all the rows (full-batch gradient descent); the
full-batch methods ``optimizer="lbfgs"`` and ``"cg"`` run in ``deltaprop.fullbatch`` instead,
with the same records, callbacks, checkpoints and divergence rule, one iteration per epoch.
"""

from __future__ import annotations

import difflib
import inspect
from contextlib import closing, contextmanager
import math
import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from numpy.typing import ArrayLike

from . import defaults, targets
from .metrics import count_correct
from .history import History
from .optimizers import FULL_BATCH, OPTIMIZERS, FullBatch, get_optimizer, is_full_batch
from .sources import (BlockReader, Source, SourceError, block_order, default_block_size, is_source, out_of_core,
                      read_blocks)
from .validation import as_generator, check_finite, check_l2, check_sample_weight, is_finite

if TYPE_CHECKING:
    from .modelfile import Checkpoint
    from .network import Network
    from .optimizers import Optimizer

#: A train step: the batch's row indices -> (its cost, how many it classified right).
Step = Callable[[np.ndarray], tuple[float, int]]
PathLike = str | os.PathLike

__all__ = [
    "fit",
    "FitArgumentError",
    "FIT_KEYWORDS",
    "RENAMED",
    "History",
    "Callback",
    "Checkpointer",
    "TrainingDiverged",
    "Trainer",
    "TrainingData",
    "prepare",
]


class TrainingDiverged(ValueError):
    """The cost became NaN, infinite or far above its value before training; ``history`` holds
    the epochs before it, ``checkpoint`` the path where this run wrote the last good epoch
    (None when it was given no checkpoint path)."""

    def __init__(self, message: str, history: History | None = None, checkpoint: PathLike | None = None):
        super().__init__(message)
        self.history = history
        self.checkpoint = checkpoint


class Callback:
    """Hooks called by ``fit``. ``on_epoch_end`` may return True to stop training."""

    def on_train_begin(self, trainer: Trainer) -> None:
        pass

    def on_batch_end(self, trainer: Trainer, batch: int, n_batches: int, cost: float) -> None:
        pass

    def on_epoch_end(self, trainer: Trainer, record: dict) -> bool | None:
        return False

    def on_train_end(self, trainer: Trainer) -> None:
        pass


# ---------------------------------------------------------------------------- checkpoints
class Checkpointer(Callback):
    """Writes a checkpoint every ``every`` epochs and at the end (``every=None``: only on Ctrl-C),
    and on Ctrl-C one of the last whole epoch. With ``every_blocks`` (``shuffle="blocks"``) it
    also writes one inside each epoch at the start of every ``every_blocks``-th block: the
    position reached, from which ``resume`` continues bit-identically, so a run killed outright
    (SIGKILL, a lost machine) loses at most that many blocks of work. (Also as a callback.)

    The file holds the weights, the optimizer's state, the Generator's state, the epoch, the
    history and the early-stopping state (best cost and weights); ``fit(..., resume=path)``
    continues from it. Writes are atomic. ``fit`` drives its own Checkpointer (``checkpoint=``)
    after the other callbacks, so the file includes what they add to the epoch's record.
    """

    def __init__(self, path: PathLike, every: int | None = 1, extra_meta: dict | None = None,
                 every_blocks: int | None = None):
        if every is not None and int(every) < 1:
            raise ValueError(f"checkpoint every must be a positive number of epochs, got {every!r}")
        if every_blocks is not None and (isinstance(every_blocks, bool) or not isinstance(every_blocks, (int, np.integer))
                                         or every_blocks < 1):
            raise ValueError(f"checkpoint_blocks must be a positive number of blocks, got {every_blocks!r}")
        self.path = path
        self.every = None if every is None else int(every)
        self.every_blocks = None if every_blocks is None else int(every_blocks)
        self.extra_meta = extra_meta or {}
        self.last_written_epoch = None
        self.wrote = False  # whether this run has written the file yet

    def due(self, trainer: Trainer) -> bool:
        return self.every is not None and (trainer.epoch % self.every == 0 or trainer.epoch == trainer.epochs)

    def block_due(self, block: int) -> bool:
        """Whether to write at the start of the epoch's block number ``block`` (0 is the epoch's start)."""
        return self.every_blocks is not None and block > 0 and block % self.every_blocks == 0

    def on_epoch_end(self, trainer: Trainer, record: dict) -> bool:
        if self.due(trainer):
            self.write(trainer)
        return False

    def write(self, trainer: Trainer, snapshot: dict | None = None) -> None:
        from .modelfile import save_checkpoint

        snap = snapshot or trainer.snapshot()
        position = snap.get("position")  # a state inside an epoch (shuffle="blocks"), or None
        if position is None and snap["epoch"] == self.last_written_epoch:
            return
        net = trainer.net.copy()  # the live network may be mid-epoch; write the snapshot's state
        net.weights, net.biases = snap["weights"], snap["biases"]
        net.history = snap["history"]
        best = snap["best"]
        meta = {
            "epoch": snap["epoch"],
            "rng_state": snap["rng_state"],
            "early_stopping": {k: best[k] for k in ("cost", "since", "epoch")},
            "settings": trainer.settings,
            "cost_reference": trainer.cost_reference if math.isfinite(trainer.cost_reference or math.inf) else None,
            **self.extra_meta,
        }
        if position is not None:
            meta["position"] = position
        arrays = {}
        if best["weights"] is not None:
            for l, (W, b) in enumerate(zip(best["weights"], best["biases"]), start=1):
                arrays[f"best_W{l}"], arrays[f"best_b{l}"] = W, b
        save_checkpoint(self.path, net, snap["optimizer"], meta, arrays)
        # (a state inside an epoch is not that epoch's end: the next whole-epoch write must happen)
        self.last_written_epoch = snap["epoch"] if position is None else None
        self.wrote = True


# ---------------------------------------------------------------------------- the loop
class Trainer:
    """State of one ``fit`` run, what callbacks see: ``net``, ``optimizer``, ``epoch`` (epochs
    completed), ``epochs``, ``history``, ``rng``, ``settings``, and ``best`` (the lowest
    validation cost so far, the epochs since, and a copy of that epoch's weights)."""

    def __init__(self, net: Network, optimizer: Optimizer, epochs: int, batch_size: int, l2: float,
                 rng: np.random.Generator, settings: dict):
        self.net = net
        self.optimizer = optimizer
        self.epochs = epochs
        self.batch_size = batch_size
        self.l2 = l2
        self.rng = rng
        self.settings = settings
        self.epoch = 0
        self.history = History()
        self.best = {"cost": math.inf, "since": 0, "epoch": None, "weights": None, "biases": None}
        self.cost_reference = None  # the cost before training (see cost_before_training)
        self.cost_bound = math.inf  # DIVERGENCE_FACTOR × cost_reference, set by run()
        self.resumed_epoch = None  # the epoch a checkpoint gave, if resumed
        self.block_checkpointers: list[Checkpointer] = []  # run()'s, for the mid-epoch checkpoints
        # shuffle="blocks": where the next epoch begins when a checkpoint stopped inside one, and
        # the state at the start of the running epoch's latest block (what Ctrl-C keeps)
        self.position: dict | None = None
        self.mid: dict | None = None
        self.progress = {"batch": 0, "total": 0.0, "correct": 0}  # the running epoch's so far

    def snapshot(self) -> dict:
        """A copy of everything a checkpoint needs, taken at the end of an epoch."""
        return {
            "epoch": self.epoch,
            "weights": [np.array(W, copy=True) for W in self.net.weights],
            "biases": [np.array(b, copy=True) for b in self.net.biases],
            "optimizer": {k: np.array(v, copy=True) for k, v in self.optimizer.state_dict().items()},
            "rng_state": self.rng.bit_generator.state,
            "history": [dict(r) for r in self.history.records],
            "best": dict(self.best),  # its weight arrays are never changed in place
            "position": self.position,
        }

    def restore(self, snap: dict) -> None:
        self.net.weights, self.net.biases = snap["weights"], snap["biases"]
        self.optimizer.load_state_dict(snap["optimizer"])
        self.rng.bit_generator.state = snap["rng_state"]
        self.epoch = snap["epoch"]
        self.history.records = [dict(r) for r in snap["history"]]
        self.best = dict(snap["best"])
        self.history.best_epoch = self.best["epoch"]
        self.position = snap.get("position")

    def diverged(self, last_good: dict, what: str) -> NoReturn:
        """Restore ``last_good`` (the last whole epoch) and raise ``TrainingDiverged``."""
        epoch = self.epoch
        self.restore(last_good)
        self.history.stop_reason = "diverged"
        self.net.history = self.history
        rate = self.optimizer.learning_rate
        raise TrainingDiverged(
            f"{what} in epoch {epoch + 1}: training diverged; try a smaller learning rate (now "
            f"{rate:g}, e.g. {rate / 10:g}); the weights of epoch {self.epoch} were kept",
            self.history,
        )

    def cost_before_training(self, data: "TrainingData") -> float:
        """The reference for divergence, measured once when a run starts (a resumed run keeps
        its own, from the checkpoint): the larger of the network's cost then — with the L2
        penalty λ/(2n) Σ‖W‖², as the epoch costs have it — and the cost of the output z^L = 0
        (log K for K softmax classes, K log 2 for K sigmoids, mean Σ_j y_j² for a linear
        output), on at most 1024 training rows taken evenly (no random draw, so the run's
        Generator is untouched)."""
        net, m = self.net, data.X.shape[0]
        if isinstance(data.X, Source):
            # a source: its first rows, one read; a bad row there is reported when training reaches it
            rows = np.arange(min(m, 1024, data.block_size))
            try:
                X = data.block_inputs(data.X.read(0, len(rows)), 0)
            except SourceError:
                X = None
        else:
            rows = np.unique(np.linspace(0, m - 1, num=min(m, 1024)).astype(np.intp))
            X = data.X[rows]
        Y = data.Y[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            now = math.nan if X is None else net.evaluate_prepared(X, Y, l2=self.l2 * len(rows) / m)["cost"]  # λ/(2n)
            z = np.zeros(Y.shape, dtype=net.dtype)
            zero = net.cost_function.value(z, net.g[-1].value(z), Y, net.g[-1])
        scale = max(c for c in (now, zero, 0.0) if math.isfinite(c))
        return scale if scale > 0 else 1.0

    def run_epoch(self, step: Step, batches: Iterable[np.ndarray], m: int, callbacks: Sequence[Callback],
                  last_good: dict, begun: dict | None = None) -> dict:
        """One pass over the ``m`` training examples, a mini-batch step for each of ``batches``
        (row indices; ``epoch_batches``), continuing the sums of ``begun`` (a position inside the
        epoch from a checkpoint) when given.

        Returns the epoch's record: the mean batch cost, for classifiers the fraction of
        examples classified right, and the learning rate. A NaN or infinite cost, a mean cost
        above ``cost_bound``, or parameters that are no longer finite after the last step,
        restore ``last_good`` and raise ``TrainingDiverged``."""
        n_batches = -(-m // self.batch_size)
        begun = begun or {}
        total, correct = float(begun.get("total", 0.0)), int(begun.get("correct", 0))
        self.progress = {"batch": int(begun.get("batch", 0)), "total": total, "correct": correct}
        for b, idx in enumerate(batches, start=self.progress["batch"]):
            cost, n_correct = step(idx)
            if not math.isfinite(cost):
                self.diverged(last_good, f"the cost became {cost} in batch {b + 1}")
            total += cost * len(idx)
            correct += n_correct
            self.progress = {"batch": b + 1, "total": total, "correct": correct}
            for cb in callbacks:
                cb.on_batch_end(self, b, n_batches, cost)
        if not all(is_finite(p) for p in (*self.net.weights, *self.net.biases)):
            self.diverged(last_good, "the parameters overflowed to infinity or NaN")
        cost = total / m
        if cost > self.cost_bound:
            factor = self.cost_bound / defaults.DIVERGENCE_FACTOR
            self.diverged(last_good, f"the mean cost {cost:.3g} is more than {defaults.DIVERGENCE_FACTOR:g} "
                                     f"times the cost before training ({factor:.3g})")
        self.epoch += 1
        record = {"epoch": self.epoch, "cost": cost}
        if targets.is_classifier(self.net):
            record["accuracy"] = correct / m
        record["learning_rate"] = self.optimizer.learning_rate
        return record

    def run(self, step: Step, data: TrainingData, callbacks: Sequence[Callback] = (),
            checkpointer: Checkpointer | None = None, shuffle: bool | str = True,
            patience: int | None = None, keep_best: bool = False) -> History:
        """The epochs: shuffle (a permutation from ``rng``), ``run_epoch``, validation, callbacks,
        checkpoint; stop early after ``patience`` epochs without a lower validation cost (None:
        never); on Ctrl-C keep (and checkpoint) the last whole epoch. Returns the History.

        Every callback whose ``on_train_begin`` ran gets ``on_train_end`` however the run ends
        (completed, stopped early, interrupted, diverged or failed), so a progress bar is closed."""
        last_good = self.snapshot()
        # (epoch_batches writes the mid-epoch ones: fit's own checkpointer, and any given as a callback)
        self.block_checkpointers = [c for c in (checkpointer, *callbacks)
                                    if isinstance(c, Checkpointer) and c.every_blocks is not None]
        if self.cost_reference is None:
            self.cost_reference = self.cost_before_training(data)
        self.cost_bound = defaults.DIVERGENCE_FACTOR * self.cost_reference
        with self.callbacks_running(callbacks):
            return self._epochs(step, data, callbacks, checkpointer, shuffle, patience, keep_best, last_good)

    @contextmanager
    def callbacks_running(self, callbacks: Sequence[Callback]) -> Iterator[None]:
        """``on_train_begin`` of each callback, then the run; ``on_train_end`` of every callback
        whose ``on_train_begin`` ran, however the run ends."""
        started = []
        try:
            for cb in callbacks:
                cb.on_train_begin(self)
                started.append(cb)
            yield
        finally:
            for cb in started:
                cb.on_train_end(self)

    def _epochs(self, step, data, callbacks, checkpointer, shuffle, patience, keep_best, last_good) -> History:
        """``run``'s loop over the epochs, between the callbacks' begin and end."""
        net, m = self.net, data.X.shape[0]
        try:
            with np.errstate(over="ignore", invalid="ignore"):  # divergence is checked per batch
                while self.epoch < self.epochs:
                    start = time.perf_counter()
                    begun, self.position = self.position, None
                    with closing(self.epoch_batches(step, data, shuffle, begun)) as batches:
                        record = self.run_epoch(step, batches, m, callbacks, last_good, begun)
                    self.mid = None
                    stop = False
                    if data.X_val is not None:
                        val = data.evaluate(net, data.X_val, data.Y_val)  # data cost, no penalty
                        if not math.isfinite(val["cost"]):
                            self.diverged(last_good, f"the validation cost became {val['cost']}")
                        stop = self.record_validation(record, val, keep_best, patience)
                    record["time"] = time.perf_counter() - start
                    self.history.records.append(record)
                    for cb in callbacks:
                        stop = bool(cb.on_epoch_end(self, record)) or stop
                    last_good = self.snapshot()  # after the callbacks: their additions count too
                    if checkpointer is not None and checkpointer.due(self):
                        checkpointer.write(self, last_good)
                    if stop:
                        break
        except KeyboardInterrupt:  # keep the last whole epoch, or with shuffle="blocks" the last block start
            self.history.stop_reason = "interrupted"
            kept = self.mid or last_good
            self.restore(kept)
            if checkpointer is not None:
                checkpointer.write(self, kept)
        except SourceError:  # a block that cannot be read or used: keep the last whole epoch
            self.restore(last_good)
            net.history = self.history
            raise
        except TrainingDiverged as exc:  # the network is back at last_good: keep that on disk
            if checkpointer is not None:
                resumed_state = (last_good["epoch"] == self.resumed_epoch and not checkpointer.wrote
                                 and os.path.exists(checkpointer.path))
                if not resumed_state:  # (else the file it was resumed from, unwritten since, holds it already)
                    checkpointer.write(self, last_good)
                exc.checkpoint = checkpointer.path
            raise
        best = self.best
        if keep_best and best["weights"] is not None and best["epoch"] != self.epoch:
            net.weights, net.biases = best["weights"], best["biases"]
        net.history = self.history
        return self.history

    def epoch_batches(self, step: Step, data: TrainingData, shuffle: bool | str,
                      begun: dict | None = None) -> Iterator[np.ndarray]:
        """One epoch's mini-batches, as row indices for ``step``: of a permutation of all the
        rows from ``rng`` (``shuffle=True``), of the rows in order (False), or, for
        ``shuffle="blocks"``, of ``sources.block_order``: each block is read once (on a
        background thread, ahead of the training) and handed to the step with ``step.use``, and a
        batch that spans two blocks is gathered from both.

        With "blocks", the state at the first batch boundary of each block is kept in ``mid``
        with its ``position`` (the Generator's state when the epoch began, the block reached —
        its index in the epoch's order — and the rows of it done); ``begun``, such a position
        from a checkpoint, continues the epoch there."""
        m, size = data.X.shape[0], self.batch_size
        if shuffle != "blocks":
            order = self.rng.permutation(m) if shuffle else np.arange(m)
            for start in range(0, m, size):
                yield order[start : start + size]
            return
        if begun is not None:
            self.rng.bit_generator.state = begun["rng_state"]
        epoch_state = self.rng.bit_generator.state
        first, done = (int(begun["block"]), int(begun["row"])) if begun is not None else (0, 0)
        spans, perms = block_order(self.rng, m, data.block_size)
        for _ in range(first):  # (drawn as the interrupted epoch drew them)
            next(perms)
        Y, w = data.Y, data.sample_weight
        pieces, n_pieces = [], 0  # the start of a batch that continues in the next block
        idle = (np.empty((0, data.X.shape[1]), self.net.dtype), Y[:0], None)  # the step between blocks

        def gathered():
            step.use(*(None if parts[0] is None else np.concatenate(parts) for parts in zip(*pieces)))
            return np.arange(n_pieces)

        with BlockReader(data.X, spans[first:], data.block_inputs) as reader:
            read = iter(reader)
            for j in range(first, len(spans)):
                start, X_block = next(read)  # (not zip: its result tuple would keep the last block alive)
                perm = next(perms)
                Y_block = Y[start : start + len(perm)]
                w_block = None if w is None else w[start : start + len(perm)]
                block = (X_block, Y_block, w_block)
                at_row = done if j == first else 0
                perm = perm[at_row:]
                if n_pieces:  # complete the batch begun in the blocks before
                    take = perm[: size - n_pieces]
                    pieces.append(tuple(None if a is None else a[take] for a in block))
                    n_pieces += len(take)
                    if n_pieces < size:
                        continue
                    yield gathered()
                    pieces, n_pieces, perm = [], 0, perm[len(take):]
                    at_row += len(take)
                self.mid = {**self.snapshot(), "position": {"rng_state": epoch_state, "block": j, "row": at_row,
                                                            **self.progress}}
                for checkpointer in self.block_checkpointers if j > first else ():
                    if checkpointer.block_due(j):
                        checkpointer.write(self, self.mid)
                step.use(*block)
                whole = len(perm) - len(perm) % size
                for at in range(0, whole, size):
                    yield perm[at : at + size]
                if whole < len(perm):
                    rest = perm[whole:]
                    pieces = [tuple(None if a is None else a[rest] for a in block)]
                    n_pieces = len(rest)
                # let the block go before the next is taken (the reader then reads one more ahead)
                X_block = block = None
                step.use(*idle)
        if n_pieces:
            yield gathered()

    def resume(self, resume: PathLike | Checkpoint) -> None:
        """Continue from a checkpoint (a path or a loaded ``Checkpoint``): weights, optimizer
        state, Generator state, epoch, history and early-stopping state."""
        from .modelfile import load_checkpoint

        ckpt = load_checkpoint(resume) if not hasattr(resume, "meta") else resume
        where = "the checkpoint" if hasattr(resume, "meta") else f"checkpoint {resume}"
        net = self.net
        if list(ckpt.net.sizes) != list(net.sizes) or ckpt.net.config()["activations"] != net.config()["activations"]:
            raise ValueError(
                f"{where} is for a network {ckpt.net.sizes} "
                f"({', '.join(g.name for g in ckpt.net.g)}), not this one {net.sizes}"
            )
        saved_opt = ckpt.meta.get("settings", {}).get("optimizer")
        if saved_opt is not None and saved_opt != self.optimizer.name:
            raise ValueError(f"{where} was trained with optimizer {saved_opt!r}, not {self.optimizer.name!r}")
        early = ckpt.meta.get("early_stopping") or {}
        layers = range(1, net.n_layers + 1)
        has_best = all(f"best_W{l}" in ckpt.arrays and f"best_b{l}" in ckpt.arrays for l in layers)
        best = {
            "cost": float(early.get("cost", math.inf)),
            "since": int(early.get("since", 0)),
            "epoch": early.get("epoch"),
            "weights": [ckpt.arrays[f"best_W{l}"] for l in layers] if has_best else None,
            "biases": [ckpt.arrays[f"best_b{l}"] for l in layers] if has_best else None,
        }
        self.restore({
            "epoch": int(ckpt.meta["epoch"]),
            "weights": list(ckpt.net.weights),
            "biases": list(ckpt.net.biases),
            "optimizer": ckpt.optimizer_state,
            "rng_state": ckpt.meta["rng_state"],
            "history": ckpt.net.history,
            "best": best,
            "position": self._check_position(ckpt.meta, where),
        })
        self.resumed_epoch = self.epoch
        reference = ckpt.meta.get("cost_reference")
        # a checkpoint from before the reference was recorded: no bound (its cost now is no reference)
        self.cost_reference = float(reference) if isinstance(reference, (int, float)) else math.inf
        if ckpt.net.classes_ is not None:
            net.classes_ = ckpt.net.classes_

    def _check_position(self, meta: dict, where: str) -> dict | None:
        """A checkpoint's position inside an epoch (shuffle="blocks"), checked: it continues
        only a run with the same shuffle, block_size and batch_size."""
        position = meta.get("position")
        if position is None:
            return None
        keys = ("block", "row", "batch", "correct")
        try:
            ok = all(isinstance(position[k], int) and position[k] >= 0 for k in keys)
            ok = ok and isinstance(position["total"], (int, float))
            np.random.PCG64().state = position["rng_state"] if ok else None
        except (KeyError, TypeError, ValueError):
            ok = False
        if not ok:
            raise ValueError(f"{where} has an invalid position inside epoch {int(meta['epoch']) + 1}: expected "
                             "rng_state, block, row, batch, total and correct")
        saved = meta.get("settings") or {}
        wanted = {k: self.settings.get(k) for k in ("shuffle", "block_size", "batch_size")}
        if {k: saved.get(k) for k in wanted} != wanted:
            given = ", ".join(f"{k}={saved.get(k)!r}" for k in wanted)
            raise ValueError(f"{where} stopped inside epoch {int(meta['epoch']) + 1}: resume it with the same {given}")
        return position

    def record_validation(self, record: dict, val: dict, keep_best: bool, patience: int | None) -> bool:
        """Put the validation cost (and accuracy) into the epoch's ``record``, track the best
        epoch, and return whether early stopping ends the run (``patience`` epochs since it)."""
        record["val_cost"] = val["cost"]
        if val["accuracy"] is not None:
            record["val_accuracy"] = val["accuracy"]
        since_best = self.track_validation(val["cost"], keep_best)
        if patience is not None and since_best >= patience:
            self.history.stop_reason = "early_stopping"
            return True
        return False

    def track_validation(self, val_cost: float, keep_best: bool) -> int:
        """Note the epoch's validation cost; returns the epochs since the best one."""
        if val_cost < self.best["cost"]:
            weights = [np.array(W, copy=True) for W in self.net.weights] if keep_best else None
            biases = [np.array(b, copy=True) for b in self.net.biases] if keep_best else None
            self.best = {"cost": val_cost, "since": 0, "epoch": self.epoch, "weights": weights, "biases": biases}
            self.history.best_epoch = self.epoch
        else:
            self.best = {**self.best, "since": self.best["since"] + 1}
        return self.best["since"]


class ReferenceStep:
    """One gradient step on the batch ``X[idx], Y[idx]``: ``Network.backward``'s equations, then
    the optimizer. The readable definition that the fast path (``fastpath``) is tested against.

    Calling it returns the batch's cost and how many of its examples the network classified
    right before the step (0 for regression)."""

    def __init__(self, net, optimizer, l2, X, Y, batch_size, sample_weight=None):
        self.net, self.optimizer, self.l2 = net, optimizer, l2
        self.X, self.Y = X, Y
        self.sample_weight = sample_weight
        self.n_examples = X.shape[0]

    def use(self, X, Y, sample_weight=None) -> None:
        """Take the rows ``idx`` from (X, Y) and these weights from now on: a block of the data
        set in memory (``shuffle="blocks"``); λ stays that of the whole data set's n examples."""
        self.X, self.Y, self.sample_weight = X, Y, sample_weight

    def __call__(self, idx):
        X_batch, Y_batch = self.X[idx], self.Y[idx]
        w_batch = None if self.sample_weight is None else self.sample_weight[idx]
        # λ belongs to the whole training set's cost J = (1/n) Σ C_x + λ/(2n) Σ‖W‖², so a batch
        # of m_b examples gets the penalty gradient (λ/n) W: backprop's λ' with λ'/m_b = λ/n.
        l2_batch = self.l2 * len(X_batch) / self.n_examples
        if w_batch is not None and not w_batch.sum() > 0:
            return 0.0, self._right(self.net._output(X_batch), Y_batch)  # all weights 0: no step
        grads = self.net._backprop(X_batch, Y_batch, l2_batch, w_batch)
        params = [p for pair in zip(self.net.weights, self.net.biases) for p in pair]
        grad_list = [g for pair in zip(grads.weights, grads.biases) for g in pair]
        self.optimizer.step(params, grad_list)
        return grads.cost, self._right(grads.activations[-1], Y_batch)

    def _right(self, A, Y) -> int:
        return count_correct(A, Y) if targets.is_classifier(self.net) else 0


#: fit's ``engine``: the fused fast path, the reference path, or the fast one where it applies
ENGINES = ("auto", "fast", "reference")


def fast_engine(engine: str, sample_weight: Any = None) -> bool:
    """Whether ``engine`` takes the fused fast path (``fastpath``): "fast", or "auto" without
    sample weights (only the reference path takes those). Checked: one of ``ENGINES``, and
    "fast" with sample weights is refused. The one home of the choice, for the train step and
    for every full-batch evaluation (in memory, block by block, on Dask workers)."""
    if engine not in ENGINES:
        raise ValueError(f"engine must be 'auto', 'fast' or 'reference', got {engine!r}")
    if sample_weight is not None:
        if engine == "fast":
            raise ValueError("engine='fast' does not support sample_weight; use engine='auto'")
        return False
    return engine != "reference"


def make_step(engine, net, optimizer, l2, X, Y, batch_size, sample_weight=None):
    """The train-step callable for ``engine``: "reference" (``ReferenceStep``), "fast"
    (``fastpath.FastStep``) or "auto" (fast when available; sample weights use the reference)."""
    if fast_engine(engine, sample_weight):
        try:
            from .fastpath import FastStep
        except ImportError:
            if engine == "fast":
                raise
        else:
            return FastStep(net, optimizer, l2, X, Y, batch_size)
    return ReferenceStep(net, optimizer, l2, X, Y, batch_size, sample_weight)


@dataclass
class TrainingData:
    """What ``prepare`` makes of fit's arguments: a^0 rows (preprocessed, the network's dtype)
    and target rows for training and (optionally) validation, and the training sample weights."""

    X: np.ndarray | Source
    Y: np.ndarray
    X_val: np.ndarray | Source | None = None
    Y_val: np.ndarray | None = None
    sample_weight: np.ndarray | None = None
    #: For ``shuffle="blocks"`` (X and X_val are raw ``Source`` rows, prepared block by block).
    block_size: int | None = None
    net: Network | None = None

    def block_inputs(self, block: np.ndarray, start: int, source: Source | None = None) -> np.ndarray:
        """a^0 for rows ``start:`` of ``source`` (X) read as ``block``: checked, preprocessed;
        a NaN is a ``SourceError`` naming its row (of the source)."""
        source = self.X if source is None else source
        try:
            return self.net.prepare_inputs(block, source.name, source.row_numbers(start, start + len(block)))
        except ValueError as exc:
            raise SourceError(str(exc)) from None

    def evaluate(self, net: Network, X: np.ndarray | Source, Y: np.ndarray) -> dict:
        """``net.evaluate_prepared`` on X, a^0 rows or a ``Source`` (then block by block: the
        cost is the mean over all rows of the blocks' mean costs weighted by their rows)."""
        if not isinstance(X, Source):
            return net.evaluate_prepared(X, Y)
        m, total, right = X.shape[0], 0.0, 0
        prepare = lambda block, start: self.block_inputs(block, start, X)  # noqa: E731
        with closing(read_blocks(X, self.block_size, prepare)) as blocks:
            for start, stop, a0 in blocks:
                part = net.evaluate_prepared(a0, Y[start:stop])
                total += part["cost"] * (stop - start)
                right += round((part["accuracy"] or 0.0) * (stop - start))
        return {"cost": total / m, "accuracy": right / m if targets.is_classifier(net) else None}


def training_targets(net: Network, y: ArrayLike, m: int) -> np.ndarray:
    """The training labels/targets as target rows (``targets.prepare``, which sets
    ``net.classes_`` when unknown), checked: m rows, n_L columns, finite, valid for the cost."""
    Y = targets.prepare(net, y, fit_classes=True)
    if Y.shape[0] != m:
        raise ValueError(f"X has {m} examples but y has {Y.shape[0]}; they must match")
    if Y.shape[1] != net.sizes[-1]:
        raise ValueError(f"y must have {net.sizes[-1]} columns to match the output layer, got {Y.shape[1]}")
    check_finite(Y, "y")
    net.cost_function.check_targets(Y)
    return Y


def validation_targets(net: Network, y_val: ArrayLike, m_val: int) -> np.ndarray:
    """The validation labels/targets as target rows (the training classes), m_val of them."""
    Y_val = targets.prepare(net, y_val)
    if Y_val.shape[0] != m_val:
        raise ValueError("validation X and y have different lengths")
    net.cost_function.check_targets(Y_val)
    return Y_val


def _validation_pair(validation) -> tuple:
    try:
        X_val, y_val = validation
    except (TypeError, ValueError):
        raise ValueError("validation must be (X_val, y_val) or a fraction such as 0.1") from None
    return X_val, y_val


def prepare(net: Network, X: ArrayLike, y: ArrayLike, validation: tuple[ArrayLike, ArrayLike] | float | None = None,
            sample_weight: ArrayLike | None = None, seed: int | None = None) -> TrainingData:
    """Raw inputs and labels/targets → ``TrainingData`` (the input contract of ``network``:
    ``net.preprocessing`` is applied; labels are encoded by ``deltaprop.targets``, which sets
    ``net.classes_`` when it is not yet known — and leaves it unset if anything here fails).

    ``validation`` is ``(X_val, y_val)``, a fraction of X held out (stratified for classes, with
    the int ``seed``), or None."""
    X = net.prepare_inputs(X, "X")
    had_classes = net.classes_ is not None
    try:
        Y = training_targets(net, y, X.shape[0])
        data = TrainingData(X, Y, sample_weight=check_sample_weight(sample_weight, X.shape[0]))
        if isinstance(validation, (float, int)) and not isinstance(validation, bool):
            return _hold_out(net, data, validation, seed)
        if validation is not None:
            X_val, y_val = _validation_pair(validation)
            data.X_val = net.prepare_inputs(X_val, "validation X")
            data.Y_val = validation_targets(net, y_val, data.X_val.shape[0])
        return data
    except ValueError:
        if not had_classes:
            net.classes_ = None  # a failed fit leaves the network as it was
        raise


def prepare_blocks(net: Network, X: Any, y: ArrayLike, validation: tuple[Any, ArrayLike] | float | None = None,
                   sample_weight: ArrayLike | None = None, seed: int | None = None,
                   block_size: int | None = None) -> TrainingData:
    """``prepare`` for ``shuffle="blocks"``: X (and a validation X) stay row-sliceable sources,
    read and prepared block by block as training reaches them (``TrainingData.block_inputs``);
    only their shapes are checked here. Labels/targets are read whole and encoded."""
    source = _input_source(net, X, "X")
    had_classes = net.classes_ is not None
    try:
        Y = training_targets(net, np.asarray(y), source.shape[0])
        block_size = default_block_size(source.n_features) if block_size is None else block_size
        data = TrainingData(source, Y, sample_weight=check_sample_weight(sample_weight, source.shape[0]),
                            block_size=block_size, net=net)
        if isinstance(validation, (float, int)) and not isinstance(validation, bool):
            train, val = _split(net, Y, validation, seed)
            train, val = np.sort(train), np.sort(val)
            w = data.sample_weight
            data.X, data.Y, data.sample_weight = source.subset(train), Y[train], None if w is None else w[train]
            data.X_val, data.Y_val = source.subset(val), Y[val]
        elif validation is not None:
            X_val, y_val = _validation_pair(validation)
            data.X_val = _input_source(net, X_val, "validation X")
            data.Y_val = validation_targets(net, np.asarray(y_val), data.X_val.shape[0])
        return data
    except ValueError:
        if not had_classes:
            net.classes_ = None  # a failed fit leaves the network as it was
        raise


def _input_source(net: Network, X: Any, name: str) -> Source:
    """X as a ``Source`` of raw inputs for ``net``, its shape checked (nothing read)."""
    if X is None:
        raise ValueError(f"{name} is None; expected an array of shape (n_samples, {net.sizes[0]})")
    source = Source(X if is_source(X) else np.asarray(X), name=name)
    if np.dtype(source.array.dtype).kind not in "biuf":
        raise ValueError(f"{name} must be numeric (an array of numbers), got dtype {source.array.dtype}")
    if source.shape[0] == 0:
        raise ValueError(f"{name} is an empty batch (0 rows); expected at least one example")
    if source.n_features != net.sizes[0]:
        raise ValueError(f"{name} has {source.n_features} features per example but the network's input layer "
                         f"has {net.sizes[0]}; expected shape (n_samples, {net.sizes[0]})")
    return source


def _split(net, Y: np.ndarray, fraction, seed) -> tuple[np.ndarray, np.ndarray]:
    """(train, validation) row indices: ``fraction`` held out, stratified by class when every
    class has two examples."""
    from sklearn.model_selection import train_test_split

    fraction = float(fraction)
    if not 0.0 < fraction < 1.0:
        raise ValueError(f"validation fraction must be in (0, 1), got {fraction!r}")
    stratify = None
    if targets.is_classifier(net):
        labels = targets.predicted_index(Y)  # the class of each target row
        counts = np.bincount(labels)
        if counts[counts > 0].min() >= 2:
            stratify = labels
    return train_test_split(np.arange(Y.shape[0]), test_size=fraction, random_state=seed, stratify=stratify)


def _hold_out(net, data: TrainingData, fraction, seed) -> TrainingData:
    """Hold out ``fraction`` of the rows as validation data (by index; stratified by class when
    every class has two examples)."""
    train, val = _split(net, data.Y, fraction, seed)
    w = data.sample_weight
    return TrainingData(data.X[train], data.Y[train], data.X[val], data.Y[val], None if w is None else w[train])


def _split_seed(seed_int: int | None, validation, rng: np.random.Generator) -> int | None:
    """The seed of a held-out validation fraction: the int seed, else one integer drawn from the
    run's Generator (so a Generator seed gives the same split every time, and NumPy's global
    random state is never used); None when no fraction is held out."""
    if not isinstance(validation, (float, int)) or isinstance(validation, bool):
        return seed_int
    return seed_int if seed_int is not None else int(rng.integers(2**31 - 1))


def _check_int(name, value, minimum=1):
    try:
        ivalue = int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}") from None
    if ivalue != value or ivalue < minimum:
        raise ValueError(f"{name} must be an integer ≥ {minimum}, got {value!r}")
    return ivalue


def fit(
    net: Network,
    X: ArrayLike,
    y: ArrayLike,
    epochs: int = defaults.FIT["epochs"],
    batch_size: int | None = defaults.FIT["batch_size"],
    learning_rate: float | None = None,
    optimizer: str | Optimizer = defaults.FIT["optimizer"],
    l2: float = defaults.FIT["l2"],
    validation: tuple[ArrayLike, ArrayLike] | float | None = None,
    shuffle: bool | str = True,
    block_size: int | None = None,
    seed: int | np.random.Generator | None = None,
    callbacks: Iterable[Callback] = (),
    early_stopping: bool = False,
    patience: int = defaults.FIT["patience"],
    restore_best: bool = True,
    checkpoint: PathLike | None = None,
    checkpoint_every: int | None = 1,
    checkpoint_meta: dict | None = None,
    checkpoint_blocks: int | None = None,
    resume: PathLike | Checkpoint | None = None,
    engine: str = "auto",
    sample_weight: ArrayLike | None = None,
    verbose: int = 0,
    client: Any = None,
    **optimizer_options: Any,
) -> History:
    """Train ``net`` by mini-batch gradient descent; see the module docstring, and
    ``Network.fit`` (the same function, as a method) for every parameter in numpydoc form.

    ``l2`` is the λ of the whole training set's cost, J = (1/n) Σ_x C_x + λ/(2n) Σ_l ‖W^l‖²
    (Ng's J(Θ), Nielsen's regularised cost), so every mini-batch step adds (λ/n) W^l to the
    batch's gradient, as in Nielsen's update W ← (1 − αλ/n) W − (α/m_b) Σ_x ∂C_x/∂W.
    Epoch records hold the mean batch cost (with the penalty) and the validation data cost.

    X (m, n_0) are raw inputs (``net.preprocessing`` is applied if set); y are class labels
    (m,) or targets (m, n_L). ``validation`` is ``(X_val, y_val)`` or a fraction of X held out
    (stratified). ``optimizer`` is "sgd", "momentum", "adam", "lbfgs" or "cg" (extra keyword arguments such as
    ``momentum=0.9`` or ``beta1`` go to it; α defaults to ``deltaprop.defaults.LEARNING_RATE``).
    ``early_stopping`` stops after ``patience`` epochs without a lower validation cost and, with
    ``restore_best``, restores the best weights. ``checkpoint`` is a path written every
    ``checkpoint_every`` epochs (None: only on Ctrl-C) and, with ``shuffle="blocks"``, also
    inside each epoch at every ``checkpoint_blocks``-th block; ``resume`` a checkpoint path (or
    loaded checkpoint) to continue from, mid-epoch included. ``engine`` picks the train step: "reference"
    (``Network.backward`` plus the optimizer), "fast" (``fastpath``, same updates to rounding) or
    "auto". ``sample_weight`` (m,) weighs each example's cost: a batch's cost is Σ w_x C_x / Σ w_x.
    ``batch_size=None`` is full-batch gradient descent: one step per epoch over all the rows.
    ``shuffle="blocks"`` streams X (any row-sliceable source) in blocks of ``block_size`` rows
    (default ``defaults.BLOCK_BYTES`` of float32 inputs; see the module docstring); the
    full-batch methods read X whole, as before.
    ``optimizer="lbfgs"`` or ``"cg"`` (Polak–Ribière conjugate gradient) minimise J over the flat
    parameter vector with ``scipy.optimize.minimize`` instead (``deltaprop.fullbatch``): each epoch
    is one iteration on all the rows, ``tol=`` (default 1e-5) stops once max |∂J/∂θ| ≤ tol, there
    is no learning rate, batch_size and shuffle do not apply (``engine`` picks the evaluation: the
    fused ``fastpath.FastCost`` or ``Network._backprop``), and a resumed run restarts
    the method from the checkpoint's weights (its curvature memory is not saved).
    With a Dask array X, a full-batch method (lbfgs, cg, or ``batch_size=None``) and a
    ``dask.distributed`` Client (``client=``, or the running one), the cost and gradient are
    per-chunk sums on the workers (``deltaprop.distributed``), bit-identical for any number of
    workers; without a Client, X is read as any other source.
    ``verbose``: 0 shows nothing (the default), 1 one live progress bar (``progress.ProgressBar``),
    2 one plain line per epoch on stdout (``progress.EpochLines``). Returns the History (also
    stored as ``net.history``). A keyword argument that neither fit nor the chosen optimizer
    takes is refused by name (``FitArgumentError``), with the name meant where it is another
    library's (``max_iter`` → ``epochs``).

    The work is two steps: ``prepare`` (arguments → ``TrainingData``) and ``Trainer.run``.
    """
    epochs = _check_int("epochs", epochs)
    batch_size = None if batch_size is None else _check_int("batch_size", batch_size)
    # (a full-batch method reads a source not in memory block by block by itself: fullbatch.BlockCost)
    reads_blocks = shuffle == "blocks" or ((batch_size is None or is_full_batch(optimizer)) and out_of_core(X))
    shuffle = _check_shuffle(shuffle, block_size, reads_blocks)
    block_size = None if block_size is None else _check_int("block_size", block_size)
    patience = _check_int("patience", patience)
    verbose = _check_verbose(verbose)
    l2 = check_l2(l2)
    check_fit_keywords(optimizer, optimizer_options)
    opt = get_optimizer(optimizer, learning_rate, **optimizer_options)
    seed_int = int(seed) if isinstance(seed, (int, np.integer)) and not isinstance(seed, bool) else None
    rng = as_generator(seed)
    full_batch = isinstance(opt, FullBatch)
    whole_batch = full_batch or batch_size is None  # every evaluation or step on all the rows
    cluster = None
    if whole_batch:
        from . import distributed  # (light: Dask is imported only for a Dask X)

        if distributed.is_dask_array(X) and distributed.running_client(client) is not None:
            cluster = distributed
        elif client is not None:
            raise ValueError("client= is for a Dask array X with a full-batch method (lbfgs, cg or batch_size=None)")
    elif client is not None:
        raise ValueError("client= takes the full-batch methods (lbfgs, cg or batch_size=None); mini-batches "
                         "stream a Dask X's blocks with shuffle='blocks'")
    if checkpoint_blocks is not None and (shuffle != "blocks" or whole_batch or checkpoint is None):
        raise ValueError(f"checkpoint_blocks={checkpoint_blocks!r} writes checkpoints inside an epoch of shuffle='blocks' "
                         "mini-batches: give checkpoint= and shuffle='blocks' with a mini-batch method")
    if cluster is not None:
        data = cluster.prepare(net, X, y, validation, sample_weight, client, engine)
    elif reads_blocks:
        data = prepare_blocks(net, X, y, validation, sample_weight, _split_seed(seed_int, validation, rng), block_size)
    else:
        data = prepare(net, X, y, validation, sample_weight, _split_seed(seed_int, validation, rng))
    if early_stopping and data.X_val is None:
        raise ValueError("early_stopping needs validation data: pass validation=(X_val, y_val) or a fraction")
    blocks = isinstance(data.X, Source)
    if full_batch:
        batch_size, shuffle = None, False
    elif blocks and whole_batch:
        shuffle = False  # (BlockCost reads the blocks in order: nothing is drawn)
    settings = {
        "epochs": epochs, "batch_size": batch_size, "optimizer": opt.name, **opt.hyperparameters(),
        "l2": l2, "shuffle": shuffle, "seed": seed_int,
    }
    if blocks:
        settings["block_size"] = data.block_size
    if full_batch:
        from .fullbatch import FullBatchTrainer

        trainer = FullBatchTrainer(net, opt, epochs, None, l2, rng, settings)
        trainer.engine = engine
    else:
        batch_size = data.X.shape[0] if batch_size is None else batch_size
        trainer = Trainer(net, opt, epochs, batch_size, l2, rng, settings)
    if resume is not None:
        trainer.resume(resume)
    checkpointer = None
    if checkpoint is not None:  # written by the loop itself, after the other callbacks
        checkpointer = Checkpointer(checkpoint, every=checkpoint_every, extra_meta=checkpoint_meta,
                                    every_blocks=checkpoint_blocks)
    keep_best = early_stopping and restore_best
    callbacks = list(callbacks)
    if verbose:  # last, so that it shows what the other callbacks add to a record
        from .progress import EpochLines, ProgressBar

        callbacks.append(ProgressBar() if verbose == 1 else EpochLines())
    run = dict(callbacks=callbacks, checkpointer=checkpointer, patience=patience if early_stopping else None,
               keep_best=keep_best)
    if cluster is not None:
        try:
            if full_batch:
                return trainer.run(data, **run)
            return trainer.run(cluster.full_batch_step(data, net, opt, l2), data, shuffle=False, **run)
        finally:
            data.close()
    if full_batch:
        return trainer.run(data, **run)
    if blocks and whole_batch:  # batch_size=None on rows read block by block: BlockCost's full gradient
        from .fullbatch import ObjectiveStep, objective

        return trainer.run(ObjectiveStep(objective(net, data, l2, engine), opt), data, shuffle=False, **run)
    X_step = data.X
    if isinstance(X_step, Source):  # the step takes its rows from each block (step.use); until then,
        X_step = np.broadcast_to(np.zeros(net.sizes[0], net.dtype), X_step.shape)  # n rows, no memory
    step = make_step(engine, net, opt, l2, X_step, data.Y, batch_size, data.sample_weight)
    return trainer.run(step, data, shuffle=shuffle, **run)


# ---------------------------------------------------------------------------- fit's arguments
class FitArgumentError(TypeError, ValueError):
    """A keyword argument that ``fit`` does not take: a TypeError, as Python's own for an
    unexpected keyword, and a ValueError, as deltaprop's other input errors (the CLI and the
    estimators report those on one line)."""


#: fit's own keyword arguments, in order: its signature is the one home of them.
FIT_KEYWORDS = tuple(name for name, p in inspect.signature(fit).parameters.items()
                     if p.kind is p.POSITIONAL_OR_KEYWORD and name not in ("net", "X", "y"))

#: Names other libraries and courses use (scikit-learn, Keras, PyTorch, Nielsen, cs231n), and ours.
RENAMED = {
    "max_iter": "epochs", "n_epochs": "epochs", "num_epochs": "epochs", "n_iter": "epochs", "nb_epoch": "epochs",
    "epoch": "epochs",
    "learning_rate_init": "learning_rate", "lr": "learning_rate", "eta": "learning_rate", "step_size": "learning_rate",
    "alpha": "l2", "lmbda": "l2", "lambda_": "l2", "lam": "l2", "reg": "l2", "weight_decay": "l2",
    "batch": "batch_size", "mini_batch_size": "batch_size", "minibatch_size": "batch_size",
    "validation_data": "validation", "evaluation_data": "validation", "validation_split": "validation",
    "validation_fraction": "validation",
    "random_state": "seed", "n_iter_no_change": "patience", "restore_best_weights": "restore_best",
    "solver": "optimizer", "callback": "callbacks", "sample_weights": "sample_weight", "verbosity": "verbose",
    "beta_1": "beta1", "beta_2": "beta2", "eps": "epsilon",
}
#: Where the other library's name means something else than the same word here.
_NOTES = {"alpha": " (scikit-learn's alpha is the L2 penalty λ; the step size α is learning_rate=)"}


def optimizer_keywords(optimizer: str | Optimizer) -> tuple:
    """The options ``fit`` passes on to ``optimizer`` (a name): its constructor's arguments
    after the learning rate; none for an ``Optimizer`` instance (it has its own already)."""
    cls = {**OPTIMIZERS, **FULL_BATCH}.get(optimizer.lower()) if isinstance(optimizer, str) else None
    if cls is None:
        return ()
    return tuple(name for name in inspect.signature(cls.__init__).parameters if name not in ("self", "learning_rate"))


def check_fit_keywords(optimizer: str | Optimizer, options: dict) -> None:
    """Refuse, by name, a keyword argument that neither fit nor ``optimizer`` takes."""
    if isinstance(optimizer, str) and optimizer.lower() not in {**OPTIMIZERS, **FULL_BATCH}:
        return  # get_optimizer says what the optimizer names are
    takes = optimizer_keywords(optimizer)
    for name in options:
        if name not in takes:
            raise FitArgumentError(_unexpected(name, optimizer, takes))


def _unexpected(name: str, optimizer, takes: tuple) -> str:
    chosen = repr(optimizer.lower()) if isinstance(optimizer, str) else f"{type(optimizer).__name__}(...)"
    also = f"; optimizer {chosen} also takes {', '.join(takes)}" if takes else ""
    valid = f"(valid: {', '.join(FIT_KEYWORDS)}{also})"
    owners = [key for key in {**OPTIMIZERS, **FULL_BATCH} if name in optimizer_keywords(key)]
    if owners:
        where = ("pass it to that instance" if not isinstance(optimizer, str) else
                 f"choose it with optimizer={owners[0]!r}")
        return (f"fit() got keyword argument {name!r}, an option of optimizer {' and '.join(map(repr, owners))}, "
                f"but the optimizer is {chosen}: {where} {valid}")
    message = f"fit() got an unexpected keyword argument {name!r}"
    if name in RENAMED:
        return f"{message}; use {RENAMED[name]}={_NOTES.get(name, '')} {valid}"
    close = difflib.get_close_matches(name, FIT_KEYWORDS + takes, n=1)
    return f"{message}{f'; did you mean {close[0]}=?' if close else ''} {valid}"


def _check_shuffle(shuffle, block_size, reads_blocks: bool = False) -> bool | str:
    """"blocks", or True/False (anything else by its truth value, as before); ``block_size``
    only where X is read in blocks (with "blocks", or a full-batch method on a source not in
    memory)."""
    if isinstance(shuffle, str) and shuffle != "blocks":
        raise ValueError(f"shuffle must be True, False or 'blocks', got {shuffle!r}")
    if block_size is not None and not reads_blocks:
        raise ValueError(f"block_size={block_size!r} applies only with shuffle='blocks' (shuffle is {shuffle!r})")
    return shuffle if shuffle == "blocks" else bool(shuffle)


def _check_verbose(verbose) -> int:
    """0, 1 or 2 (or more, as 2); True is 1."""
    if isinstance(verbose, (int, np.integer)) and verbose >= 0:
        return int(verbose)
    raise ValueError(f"verbose must be 0 (nothing shown), 1 (a progress bar) or 2 (a line per epoch), got {verbose!r}")
