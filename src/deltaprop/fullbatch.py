"""Full-batch training: L-BFGS and Polak–Ribière conjugate gradient on the flat parameter vector.

Ng's course trains ex4 by handing ``fmincg`` the unrolled parameters θ and a function returning
J(θ) and ∂J/∂θ; this is the same with ``scipy.optimize.minimize`` (``method="L-BFGS-B"`` without
bounds for ``optimizer="lbfgs"``, ``method="CG"``, Polak–Ribière, for ``optimizer="cg"``):

    θ = [W^1 row-major, b^1, W^2, b^2, …]                      (``unroll``; ``roll`` undoes it)
    J(θ) = (1/n) Σ_x C_x + λ/(2n) Σ_l ‖W^l‖²                   (biases are not regularised)

``FlatCost`` evaluates both with ONE forward and backward pass over all the training rows (on
the rows ``prepare`` made, preprocessing applied once), and ``minimize`` gets them together
(``jac=True``). The pass is chosen by ``engine`` as for mini-batches: the fast step's fused
kernels without the update (``fastpath.FastCost``: no per-call allocation, no gather, equal to
``Network._backprop`` to rounding) for "auto" and "fast", ``Network._backprop`` itself for
"reference" and, under "auto", with sample weights.

``epochs`` counts the method's iterations (scipy's ``maxiter``; an iteration may take several
evaluations for its line search). The method stops earlier once max_i |∂J/∂θ_i| ≤ ``tol``
(scipy's ``gtol``; L-BFGS also stops when J no longer decreases at machine precision, ``ftol``
= ε). After each iteration the record (epoch = iteration, cost, accuracy, validation, time) is
added to the history, the callbacks run, early stopping may end the run (a ``StopIteration``
from scipy's callback) and the checkpoint is written, as in the mini-batch loop; Ctrl-C keeps
the last whole iteration; a cost or parameters that are no longer finite raise
``TrainingDiverged`` with the last good iteration's weights. The history's ``stop_reason`` is
"converged" when the method met its tolerance, "completed" when the iterations ran out, "stalled"
when the line search could lower J no further before either (scipy's precision-loss status).

Resuming (``fit(resume=...)``) restores the weights, the iteration count and the history, and
starts the method afresh from those weights: its memory (L-BFGS's curvature pairs, CG's search
direction) is not in the checkpoint, so a resumed run does not retrace an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterable, Sequence
from contextlib import closing
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np
from scipy.optimize import minimize

from . import targets
from .metrics import count_correct
from .sources import Source, read_blocks
from .training import Callback, Checkpointer, Trainer, TrainingData, TrainingDiverged, fast_engine
from .validation import is_finite

if TYPE_CHECKING:
    from .history import History
    from .network import Network
    from .optimizers import Optimizer

__all__ = ["unroll", "roll", "Objective", "FlatCost", "part_sums", "BlockCost", "ObjectiveStep", "objective", "FullBatchTrainer"]


def unroll(weights: Sequence[np.ndarray], biases: Sequence[np.ndarray]) -> np.ndarray:
    """θ: W^1 (row-major), b^1, W^2, b^2, … in one float64 vector (Ng's unrolled Θ)."""
    return np.concatenate([p.ravel() for pair in zip(weights, biases) for p in pair], dtype=np.float64)


def roll(net: Network, theta: np.ndarray) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """``unroll``'s inverse for ``net``'s layer sizes: (weights, biases) in the network's dtype
    (views of θ where that is float64: the network's setters copy them)."""
    weights, biases, at = [], [], 0
    for n_in, n_out in zip(net.sizes[:-1], net.sizes[1:]):
        weights.append(np.asarray(theta[at : at + n_out * n_in].reshape(n_out, n_in), dtype=net.dtype))
        at += n_out * n_in
        biases.append(np.asarray(theta[at : at + n_out], dtype=net.dtype))
        at += n_out
    return weights, biases


def assign(net: Network, theta: np.ndarray) -> None:
    """Copy θ into the network's live parameter arrays, with no check: the caller has checked
    that θ is finite (``Network.weights = ...`` validates and stages every array, twice the
    copying, on every evaluation)."""
    weights, biases = roll(net, theta)
    for live, new in zip([*net.weights, *net.biases], [*weights, *biases]):
        live[...] = new


class NotFinite(ArithmeticError):
    """An evaluation met a NaN or infinite cost or parameters (the run diverged)."""


class Objective:
    """What ``FullBatchTrainer`` minimises: θ ↦ (J(θ), ∂J/∂θ), with ``m`` (the rows),
    ``evaluations`` (calls so far) and ``last`` = (θ, cost, examples classified right) of the
    last call, so an iteration's record needs no extra pass (``at``). Subclasses compute
    ``_evaluate(θ)`` → (cost, gradient, correct): ``FlatCost`` in this process, and
    ``distributed.DaskCost`` from per-chunk sums on a Dask cluster."""

    def __init__(self, net: Network, m: int, l2: float):
        self.net, self.m, self.l2 = net, m, l2
        self.evaluations = 0
        self.last = None  # (θ, cost, correct)

    def __call__(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        if not is_finite(theta):
            raise NotFinite("the parameters overflowed to infinity or NaN")
        cost, grad, correct = self._evaluate(theta)
        self.evaluations += 1
        if not math.isfinite(cost):
            raise NotFinite(f"the cost became {cost}")
        self.last = (np.array(theta, copy=True), cost, correct)
        return cost, grad

    def _evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, int]:
        raise NotImplementedError

    def combine(self, theta: np.ndarray, parts: Iterable[tuple[float, np.ndarray, int]],
                weight: float | None = None) -> tuple[float, np.ndarray, int]:
        """J, ∂J/∂θ and the examples classified right from the SUMS over parts of the rows,
        (Σ_x C_x, Σ_x ∂C_x/∂θ, right) — each part's in its own precision (the network's dtype
        for the fast evaluation) — added in the order given, in float64: J = Σ/weight +
        λ/(2m) Σ_l ‖W^l‖², ∂J/∂θ = Σ/weight + (λ/m) W^l (biases not regularised); ``weight`` is
        m, or Σ_x w_x with sample weights. Sets the network's parameters to θ."""
        net, m, l2 = self.net, self.m, self.l2
        cost, grad, correct = 0.0, np.zeros(theta.size), 0
        for part_cost, part_grad, right in parts:
            cost += part_cost
            grad += part_grad
            correct += right
        weight = m if weight is None else weight
        cost /= weight
        grad /= weight
        assign(net, theta)
        if l2:
            cost += net._l2_term(l2, m)
            at = 0
            for W, b in zip(net.weights, net.biases):
                grad[at : at + W.size] += (l2 / m) * theta[at : at + W.size]
                at += W.size + b.size
        return cost, grad, correct

    def at(self, theta: np.ndarray) -> tuple[float, int]:
        """(cost, correct) at θ, from the last evaluation when it was there; sets the parameters."""
        if self.last is None or not np.array_equal(self.last[0], theta):
            self(theta)
        else:
            assign(self.net, theta)  # (finite: it was evaluated)
        return self.last[1], self.last[2]


class FlatCost(Objective):
    """θ ↦ (J(θ), ∂J/∂θ) on the whole training set (``data.X``, ``data.Y``, the sample weights),
    one forward and backward pass per call; sets the network's parameters to θ. Remembers the
    last evaluation (θ, cost, examples classified right) so the iteration's record needs no
    extra pass.

    ``engine`` picks the pass as ``training.make_step`` does: "reference" (``Network._backprop``),
    "fast" (``fastpath.FastCost``, the fast step's kernels on all the rows, equal to rounding)
    or "auto" (fast, except with sample weights, which only the reference supports)."""

    def __init__(self, net: Network, data: TrainingData, l2: float, engine: str = "auto"):
        super().__init__(net, data.X.shape[0], l2)
        self.data = data
        self.fast = None
        if fast_engine(engine, data.sample_weight):
            from .fastpath import FastCost

            self.fast = FastCost(net, l2, data.X, data.Y)

    def _evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, int]:
        net = self.net
        assign(net, theta)
        if self.fast is not None:
            cost, correct = self.fast()
            grad = self.fast.gradient.astype(np.float64)  # a copy: scipy keeps the previous gradient
        else:
            grads = net._backprop(self.data.X, self.data.Y, self.l2, self.data.sample_weight)
            cost, grad = float(grads.cost), unroll(grads.weights, grads.biases)
            correct = count_correct(grads.activations[-1], self.data.Y) if targets.is_classifier(net) else 0
        return cost, grad, correct


def part_sums(net: Network, fast: Any, a0: np.ndarray, Y: np.ndarray,
              w: np.ndarray | None = None) -> tuple[float, np.ndarray | float, int]:
    """(Σ_x C_x, Σ_x ∂C_x/∂θ, examples classified right) over the rows (a^0, Y) of one part of
    the training set (a block read from a source, a Dask chunk), without the L2 term, for
    ``Objective.combine``: by ``fast`` (a ``fastpath.FastCost`` whose buffers serve every part
    in turn) when given, else by ``Network._backprop``, then with the weights ``w`` (Σ_x w_x C_x,
    …; a part whose weights are all 0 adds nothing: its own mean would be 0/0). The gradient sum
    is in the network's dtype, at the parameters the network has."""
    m = a0.shape[0]
    classifier = targets.is_classifier(net)
    if fast is not None:
        fast.use(a0, Y)
        cost, right = fast()  # means over the part's rows: × m gives the sums
        return float(cost) * m, fast.gradient * fast.gradient.dtype.type(m), right if classifier else 0
    factor = m if w is None else float(np.sum(w, dtype=np.float64))
    if factor == 0:
        _, a = net.feedforward(a0, keep=False)
        return 0.0, 0.0, count_correct(a[-1], Y) if classifier else 0
    grads = net._backprop(a0, Y, 0.0, w)  # (weighted) means over the part's rows
    flat = np.concatenate([p.ravel() for pair in zip(grads.weights, grads.biases) for p in pair])
    flat *= flat.dtype.type(factor)
    return float(grads.cost) * factor, flat, count_correct(grads.activations[-1], Y) if classifier else 0


class BlockCost(Objective):
    """θ ↦ (J(θ), ∂J/∂θ) on a training set read block by block (``data.X`` a ``sources.Source``,
    as ``fit(..., shuffle="blocks")`` and any source not in memory give it): each evaluation
    reads the blocks in order (``sources.read_blocks``, ahead of the computation), evaluates each
    with the fused pass (``fastpath.FastCost.use``, one set of buffers for every block; with
    sample weights or ``engine="reference"``, ``Network._backprop``), and adds the blocks' sums
    in block order (``Objective.combine``), as the Dask chunks are added. X is never in memory
    whole: one block in use and the ones read ahead. J and ∂J/∂θ equal ``FlatCost``'s on the
    same rows to rounding, and are bit-identical for every source of the same rows."""

    def __init__(self, net: Network, data: TrainingData, l2: float, engine: str = "auto"):
        super().__init__(net, data.X.shape[0], l2)
        self.data = data
        self.fast = None
        if fast_engine(engine, data.sample_weight):
            from .fastpath import FastCost

            rows = min(data.block_size, self.m)
            dummy = np.zeros((rows, net.sizes[0]), net.dtype)
            self.fast = FastCost(net, 0.0, dummy, data.Y[:rows])  # buffers for a block; .use() gives it rows
            self.idle = dummy[:1]

    def _evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, int]:
        net, data = self.net, self.data
        assign(net, theta)
        w = data.sample_weight
        weight = None if w is None else float(np.sum(w, dtype=np.float64))
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"), \
                closing(read_blocks(data.X, data.block_size, data.block_inputs)) as blocks:
            parts = (part_sums(net, self.fast, a0, data.Y[start:stop], None if w is None else w[start:stop])
                     for start, stop, a0 in blocks)
            result = self.combine(theta, parts, weight)
        if self.fast is not None:
            self.fast.use(self.idle, data.Y[:1])  # let the last block's memory go
        return result


class ObjectiveStep:
    """``batch_size=None`` with a first-order optimizer on an ``Objective`` (rows read block by
    block, or per-chunk sums on a Dask cluster): the training loop's step interface, one step
    on the full-batch gradient; the batch is always every row."""

    def __init__(self, cost: Objective, optimizer: Optimizer):
        self.cost, self.optimizer = cost, optimizer

    def __call__(self, idx: np.ndarray) -> tuple[float, int]:
        net = self.cost.net
        try:
            value, grad = self.cost(unroll(net.weights, net.biases))
        except NotFinite:  # the loop's own check of the cost then stops the run as diverged
            return math.nan, 0
        weights, biases = roll(net, grad)
        params = [p for pair in zip(net.weights, net.biases) for p in pair]
        self.optimizer.step(params, [g for pair in zip(weights, biases) for g in pair])
        return value, self.cost.last[2]


def objective(net: Network, data: TrainingData, l2: float, engine: str = "auto") -> Objective:
    """The θ ↦ (J, ∂J/∂θ) function for ``data``: ``FlatCost`` on rows in memory, ``BlockCost`` on a
    source read block by block (both with ``engine``), or the data's own
    (``distributed.DaskData``: per-chunk sums on a Dask cluster), with the same interface."""
    own = getattr(data, "objective", None)
    if own is not None:
        return own(net, l2)
    return (BlockCost if isinstance(data.X, Source) else FlatCost)(net, data, l2, engine)


class FullBatchTrainer(Trainer):
    """``Trainer`` for a full-batch method (``optimizers.FullBatch``): ``run`` drives
    ``scipy.optimize.minimize`` instead of the mini-batch epochs (module docstring). ``engine``
    ("auto", "fast" or "reference") picks ``FlatCost``'s pass; ``fit`` sets it from its own."""

    engine = "auto"

    def diverged(self, last_good: dict, what: str) -> NoReturn:
        iteration = self.epoch
        self.restore(last_good)
        self.history.stop_reason = "diverged"
        self.net.history = self.history
        raise TrainingDiverged(
            f"{what} in iteration {iteration + 1}: {self.optimizer.name} diverged (the cost or the parameters "
            f"overflowed); the weights of iteration {self.epoch} were kept; try standardised inputs or a larger l2",
            self.history,
        )

    def run(self, data: TrainingData, callbacks: Sequence[Callback] = (), checkpointer: Checkpointer | None = None,
            patience: int | None = None, keep_best: bool = False) -> History:
        """The iterations, between the callbacks' begin and end (every started callback gets
        ``on_train_end``). Returns the History."""
        if self.cost_reference is None and checkpointer is not None:
            # (only checkpoints keep it, for a mini-batch run resumed from them: full-batch
            # divergence is a cost or parameters no longer finite)
            self.cost_reference = self.cost_before_training(data)
        with self.callbacks_running(callbacks):
            return self._iterations(data, callbacks, checkpointer, patience, keep_best)

    def _iterations(self, data, callbacks, checkpointer, patience, keep_best) -> History:
        from .fastpath import other_blas_single_threaded

        net = self.net
        fun = objective(net, data, self.l2, self.engine)
        m = fun.m
        last_good = self.snapshot()
        state = {"start": time.perf_counter(), "last_good": last_good}
        self.history.stop_reason = "completed"

        def end_of_iteration(intermediate_result):
            cost, correct = fun.at(intermediate_result.x)  # (FlatCost refuses what is not finite)
            record = {"epoch": self.epoch + 1, "cost": cost}
            if targets.is_classifier(net):
                record["accuracy"] = correct / m
            val = None if data.X_val is None else data.evaluate(net, data.X_val, data.Y_val)  # no penalty
            if val is not None and not math.isfinite(val["cost"]):
                raise NotFinite(f"the validation cost became {val['cost']}")
            self.epoch += 1
            self.optimizer.t = self.epoch
            stop = False
            if val is not None:
                stop = self.record_validation(record, val, keep_best, patience)
            now = time.perf_counter()
            record["time"], state["start"] = now - state["start"], now
            record["evaluations"] = fun.evaluations
            self.history.records.append(record)
            for cb in callbacks:
                cb.on_batch_end(self, 0, 1, cost)
            for cb in callbacks:
                stop = bool(cb.on_epoch_end(self, record)) or stop
            state["last_good"] = self.snapshot()
            if checkpointer is not None and checkpointer.due(self):
                checkpointer.write(self, state["last_good"])
            if stop:
                raise StopIteration

        remaining = self.epochs - self.epoch
        if remaining <= 0:
            net.history = self.history
            return self.history
        tol = self.optimizer.tol
        options = {"maxiter": remaining, "gtol": tol}
        if self.optimizer.name == "lbfgs":
            options["ftol"] = np.finfo(np.float64).eps
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"), other_blas_single_threaded():
                result = minimize(fun, unroll(net.weights, net.biases), jac=True, method=self.optimizer.scipy_method,
                                  callback=end_of_iteration, options=options)
        except KeyboardInterrupt:
            self.history.stop_reason = "interrupted"
            self.restore(state["last_good"])
            if checkpointer is not None:
                checkpointer.write(self, state["last_good"])
            net.history = self.history
            return self.history
        except NotFinite as exc:
            what = str(exc)
        else:
            what = None
        if what is not None:
            try:
                self.diverged(state["last_good"], what)
            except TrainingDiverged as exc:
                if checkpointer is not None:
                    checkpointer.write(self, state["last_good"])
                    exc.checkpoint = checkpointer.path
                raise
        self.restore(state["last_good"])  # the last whole iteration (scipy may end on a trial point)
        if self.history.stop_reason != "early_stopping":
            # met tol; the iterations ran out; or (scipy's status 2) the line search could lower J no further
            self.history.stop_reason = ("converged" if result.success else
                                        "completed" if self.epoch >= self.epochs else "stalled")
        best = self.best
        if keep_best and best["weights"] is not None and best["epoch"] != self.epoch:
            net.weights, net.biases = best["weights"], best["biases"]
        net.history = self.history
        return self.history
