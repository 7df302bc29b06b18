"""Full-batch cost and gradient as ordered per-chunk sums on a Dask cluster.

A full-batch method's J(θ) and ∂J/∂θ are sums over the training rows (``deltaprop.fullbatch``):

    J(θ)     = (1/m) Σ_c Σ_{x ∈ chunk c} C_x            + λ/(2m) Σ_l ‖W^l‖²
    ∂J/∂θ    = (1/m) Σ_c Σ_{x ∈ chunk c} ∂C_x/∂θ        + (λ/m) W^l   (biases not regularised)

so with X a Dask array on a ``dask.distributed`` cluster each chunk's inner sums are computed on
the worker that holds the chunk, and only θ and the chunk sums travel:

* ``prepare`` finds the chunks' workers (``Client.who_has``) and starts one ``ChunkSums`` actor
  on each of them, built from that worker's chunks (X's rows, y's rows chunked alike): it applies
  the network's preprocessing and target encoding there, once, and keeps the arrays. X is never
  gathered to the client. Preprocessing not yet fitted gets its statistics from the data with
  Dask's own (deterministic, chunk-wise) reductions.
* Each evaluation sends θ once to every actor (an actor call carries its arguments straight to
  its worker: one message per worker, no scheduler round trip); each chunk returns
  (Σ_x C_x, Σ_x ∂C_x/∂θ, examples classified right) — the SUM over its rows, from the same
  fused evaluation as one process (``fastpath.FastCost``) — and the client adds them in chunk-index order in
  float64, divides by m and adds the L2 term once (``DaskCost``). The chunk sums do not depend on
  which worker made them, and their order is fixed, so J and ∂J/∂θ are bit-identical for 1, 2 or
  3 workers, and equal to the single-process full-batch gradient to rounding.

Measured (2 local single-threaded worker processes, θ of 79,510 floats; issue 13, and again by
``benchmarks/scale.py``: 8.4 / 10.4 ms against 24 / 29 ms on a loaded 2-core machine): an actor
round trip 4.4 ms min / 6.7 ms median; the same through tasks on a scattered θ
(``client.scatter(theta, broadcast=True)`` then one task per chunk) 20 / 31 ms: the scheduler's part. Actors it is; their
price is that a worker lost mid-fit loses its actor (the fit fails; rerun it, or resume from its
checkpoint).

Mini-batch methods on a Dask array are not this module's: they stream the array's blocks
(``shuffle="blocks"``); ``fit`` here refuses them with a pointer there. Hyperparameter search on a
cluster needs nothing from here: joblib's Dask backend runs ``GridSearchCV`` over the estimators
(docs/scale.md).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

from . import targets
from .fullbatch import Objective, ObjectiveStep, part_sums, roll
from .sources import Source, default_block_size, out_of_core
from .training import TrainingData, fast_engine, validation_targets
from .validation import check_finite

if TYPE_CHECKING:
    import dask.array
    from distributed import Client
    from numpy.typing import ArrayLike

    from .history import History
    from .network import Network
    from .optimizers import Optimizer

__all__ = ["DistributedError", "is_dask_array", "get_client", "running_client", "full_batch_step", "prepare", "DaskData", "DaskCost", "ChunkSums", "fit"]


class DistributedError(ValueError):
    """Arguments that the Dask full-batch path cannot take (no cluster, mini-batches, …)."""


def is_dask_array(X: Any) -> bool:
    """Whether X is a ``dask.array.Array`` (without importing Dask when it is not loaded)."""
    import sys

    da = sys.modules.get("dask.array")
    return da is not None and isinstance(X, da.Array)


def get_client(client: Client | None = None) -> Client:
    """``client``, else the running ``dask.distributed`` Client (``distributed.get_client()``)."""
    if client is not None:
        return client
    try:
        from distributed import get_client as running
    except ImportError:
        raise DistributedError("X is a Dask array but dask.distributed is not installed; "
                               "install deltaprop[scale] (or pass a NumPy array)") from None
    try:
        return running()
    except ValueError:
        raise DistributedError("X is a Dask array but no dask.distributed Client is running: start one "
                               "(distributed.Client(ADDRESS)) or pass client=") from None


def running_client(client: Client | None = None) -> Client | None:
    """``client``, else the running ``dask.distributed`` Client, else None (none running, or
    dask.distributed not installed): whether ``training.fit`` takes the cluster path."""
    if client is not None:
        return client
    try:
        return get_client()
    except DistributedError:
        return None


def full_batch_step(data: DaskData, net: Network, optimizer: Optimizer, l2: float) -> ObjectiveStep:
    """The training loop's step for ``batch_size=None`` with a first-order optimizer on the
    cluster: one step on the full-batch gradient of the chunk sums."""
    return ObjectiveStep(data.objective(net, l2), optimizer)


class ChunkSums:
    """A Dask actor on one worker: the preprocessed rows and target rows of that worker's chunks
    (built there from the chunks themselves), and ``sums(θ)``, each chunk's sums at θ.

    A chunk is evaluated by ``fastpath.FastCost`` (the fused passes of one process's full-batch
    evaluation, equal to ``Network._backprop`` to rounding), one evaluator whose buffers —
    sized for the largest chunk — serve every chunk in turn; ``engine="reference"`` takes
    ``Network._backprop`` itself. Measured on 1M × 784 rows (784-100-10 float32, 2 workers):
    the reference pass allocated its activations for every chunk and evaluation, and an L-BFGS
    iteration took 1.15× as long as one process with both cores."""

    def __init__(self, net: Network, X_chunks: list, y_chunks: list, starts: list, engine: str = "auto"):
        self.net = net
        self.chunks = []
        for X, y, start in zip(X_chunks, y_chunks, starts):
            try:
                A0 = net.prepare_inputs(X, "X")
                Y = targets.prepare(net, y)
                check_finite(Y, "y")
                net.cost_function.check_targets(Y)
            except ValueError as exc:  # say where: the chunk's first row
                raise DistributedError(f"in the chunk of rows from {start}: {exc}") from None
            if Y.shape[0] != A0.shape[0]:
                raise DistributedError(f"the chunk of rows from {start} has {A0.shape[0]} rows of X but "
                                       f"{Y.shape[0]} of y; chunk y as X")
            self.chunks.append((A0, Y))
        self.fast = None
        if fast_engine(engine) and self.chunks:
            from .fastpath import FastCost

            self.fast = FastCost(net, 0.0, *max(self.chunks, key=lambda chunk: chunk[0].shape[0]))

    def sums(self, theta: np.ndarray) -> list[tuple[float, np.ndarray, int]]:
        """Per chunk (Σ_x C_x, Σ_x ∂C_x/∂θ in the network's dtype, classified right), no L2 term."""
        net = self.net
        net.weights, net.biases = roll(net, theta)  # (into the live arrays the fast evaluator reads)
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return [part_sums(net, self.fast, A0, Y) for A0, Y in self.chunks]


class _Rows:
    """Rows of a Dask array gathered on demand and prepared (``prepare``'s few reference rows
    for the divergence scale): ``shape`` and ``rows[idx]``, never the whole array."""

    def __init__(self, client, array, prepare_rows):
        self.client, self.array, self.prepare_rows, self.shape = client, array, prepare_rows, array.shape

    def __getitem__(self, idx):
        return self.prepare_rows(np.asarray(self.client.compute(self.array[np.asarray(idx)]).result()))


@dataclass
class DaskData(TrainingData):
    """``training.TrainingData`` for a Dask X: ``X`` and ``Y`` (``_Rows``) give the shape and, row
    by row, a few prepared rows; the actors hold the rest. ``objective`` makes the ``DaskCost``."""

    actors: list = field(default_factory=list)  # [(actor, chunk indices)], one per worker
    futures: list = field(default_factory=list)  # the actors' futures: an actor lives while its future is held
    n_chunks: int = 0

    def objective(self, net: Network, l2: float) -> DaskCost:
        return DaskCost(net, self, l2)

    def close(self) -> None:
        """Let the actors go (their workers free the chunks' preprocessed copies)."""
        self.actors, self.futures = [], []


class DaskCost(Objective):
    """θ ↦ (J(θ), ∂J/∂θ) from the actors' chunk sums, added in chunk order (module docstring)."""

    def __init__(self, net: Network, data: DaskData, l2: float):
        super().__init__(net, data.X.shape[0], l2)
        self.data = data

    def _evaluate(self, theta: np.ndarray) -> tuple[float, np.ndarray, int]:
        theta = np.ascontiguousarray(theta, dtype=np.float64)
        sent = theta.astype(self.net.dtype, copy=False)  # what the workers' weights are made of: half the bytes in float32
        calls = [(actor.sums(sent), chunks) for actor, chunks in self.data.actors]  # all at once
        by_chunk = [None] * self.data.n_chunks
        for call, chunks in calls:
            for index, sums in zip(chunks, call.result()):
                by_chunk[index] = sums
        return self.combine(theta, by_chunk)  # chunk-index order, float64


def prepare(net: Network, X: dask.array.Array, y: ArrayLike, validation: tuple[ArrayLike, ArrayLike] | None = None,
            sample_weight: ArrayLike | None = None, client: Client | None = None, engine: str = "auto") -> DaskData:
    """Dask X (and y: a Dask array, chunked by rows as X or rechunked to it, or a NumPy array,
    chunked alike) → ``DaskData``, with one ``ChunkSums`` actor per worker holding X's chunks
    (``engine`` as ``fit``'s: "reference" evaluates them with ``Network._backprop``).
    ``validation`` is (X_val, y_val), gathered and prepared on the client (it is small), or read
    there block by block at each evaluation when X_val is a source not in memory."""
    import dask.array as da
    from distributed import futures_of, wait

    fast_engine(engine)  # (checked here, before the actors are made)
    client = get_client(client)
    if sample_weight is not None:
        raise DistributedError("sample_weight is not supported with a Dask X yet; leave it out")
    if validation is not None and not isinstance(validation, tuple):
        raise DistributedError("validation with a Dask X must be (X_val, y_val); a held-out fraction "
                               "would need the rows on the client")
    if X.ndim != 2 or X.shape[1] != net.sizes[0]:
        raise DistributedError(f"X must have shape (n_samples, {net.sizes[0]}), got {X.shape}")
    if any(math.isnan(n) for n in X.shape):
        raise DistributedError("X has unknown chunk sizes; call X.compute_chunk_sizes() first")
    X = X.rechunk({1: -1}) if X.numblocks[1] > 1 else X
    y = y.rechunk({0: X.chunks[0]}) if is_dask_array(y) else da.from_array(np.asarray(y), chunks=(X.chunks[0],)
                                                                           + tuple((n,) for n in np.shape(y)[1:]))
    if y.shape[0] != X.shape[0]:
        raise DistributedError(f"X has {X.shape[0]} examples but y has {y.shape[0]}; they must match")
    if y.ndim == 2 and y.numblocks[1] > 1:
        y = y.rechunk({1: -1})
    had_classes = net.classes_ is not None
    try:
        if y.ndim == 1 and not had_classes:  # the label set decides the classes, as all of y would
            targets.prepare(net, np.asarray(client.compute(da.unique(y)).result()), fit_classes=True)
        if net.preprocessing is not None:  # as in memory: the statistics come from Preprocessing.fit,
            net.preprocessing.check_fitted()  # one home (net.preprocessing.fit(X) streams a Dask X)
        X, y = client.persist([X, y])  # computed on the workers (no work if it was persisted)
        keys = {f.key: f for f in futures_of([X, y])}
        x_chunks = [keys[k] for k in _flat_keys(X)]
        y_chunks = [keys[k] for k in _flat_keys(y)]
        wait(x_chunks + y_chunks)  # where they are is known once they are there
        starts = np.concatenate([[0], np.cumsum(X.chunks[0])[:-1]]).tolist()
        holder = {key: sorted(workers)[0] for key, workers in client.who_has(x_chunks).items()}
        per_worker: dict[str, list[int]] = {}
        for index, future in enumerate(x_chunks):
            per_worker.setdefault(holder[future.key], []).append(index)
        worker_net = net.copy()
        worker_net.history = None
        actors, futures = [], []
        for worker, chunks in per_worker.items():
            future = client.submit(ChunkSums, worker_net, [x_chunks[i] for i in chunks],
                                   [y_chunks[i] for i in chunks], [starts[i] for i in chunks], engine,
                                   actor=True, workers=[worker], allow_other_workers=False, pure=False)
            futures.append(future)
            actors.append((future.result(), chunks))
        data = DaskData(_Rows(client, X, lambda rows: net.prepare_inputs(rows, "X")),
                        _Rows(client, y, lambda rows: targets.prepare(net, rows)),
                        actors=actors, futures=futures, n_chunks=len(x_chunks))
        if validation is not None:
            try:
                X_val, y_val = (client.compute(v).result() if is_dask_array(v) else v for v in validation)
            except (TypeError, ValueError):
                raise DistributedError("validation must be (X_val, y_val)") from None
            if out_of_core(X_val):  # (a split read from disk: evaluated block by block on the client)
                data.X_val, data.net = Source(X_val, name="validation X"), net
                data.block_size = default_block_size(data.X_val.n_features)
            else:
                data.X_val = net.prepare_inputs(X_val, "validation X")
            data.Y_val = validation_targets(net, y_val, data.X_val.shape[0])
        return data
    except ValueError:
        if not had_classes:
            net.classes_ = None
        raise


def _flat_keys(array) -> list:
    from dask.core import flatten

    return list(flatten(array.__dask_keys__()))


def fit(net: Network, X: dask.array.Array, y: ArrayLike, *, client: Client | None = None, optimizer: str = "lbfgs", batch_size: int | None = None,
        **kwargs: Any) -> History:
    """``training.fit`` on a ``dask.distributed`` cluster (the running Client, or ``client=``), for
    a Dask X: the full-batch methods (``optimizer="lbfgs"`` — the default here — or ``"cg"``, or
    ``batch_size=None`` with a first-order optimizer), with the cost and gradient as per-chunk sums
    on the workers (module docstring). ``training.fit`` takes this path by itself when X is a Dask
    array, the method is full-batch and a Client is running; this function also insists on it: a
    mini-batch method is refused (it streams X's blocks instead: ``fit(..., shuffle="blocks")``)."""
    from .optimizers import is_full_batch
    from .training import fit as training_fit

    if not is_dask_array(X):
        raise DistributedError(f"X must be a Dask array for the cluster path, got {type(X).__name__}")
    get_client(client)  # a clear error when no cluster is there
    full_batch = is_full_batch(optimizer)
    if batch_size is not None and not full_batch:
        raise DistributedError(
            f"batch_size={batch_size} on a Dask X: mini-batch methods stream its blocks with shuffle=\"blocks\" "
            f"(training.fit); the cluster path takes full-batch methods only (optimizer='lbfgs' or 'cg', or batch_size=None)")
    return training_fit(net, X, y, client=client, optimizer=optimizer, batch_size=batch_size, **kwargs)