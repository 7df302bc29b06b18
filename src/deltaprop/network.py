"""A fully connected feed-forward network and backpropagation, as the classic derivations state it.

Layout (the one convention of the whole library)
------------------------------------------------
Layers are numbered l = 0 (input), 1, ..., L (output); ``sizes = [n_0, n_1, ..., n_L]``.

* W^l = ``weights[l-1]`` has shape (n_l, n_{l-1}): ``W[j, k]`` = w_jk^l joins neuron k of layer
  l−1 to neuron j of layer l (3Blue1Brown, Nielsen). b^l = ``biases[l-1]`` has shape (n_l,).
* A batch of m examples is the rows of X, shape (m, n_0), as in NumPy and scikit-learn. For one
  example z^l = W^l a^{l−1} + b^l; for the batch, with one row per example,

      Z^l = A^{l−1} (W^l)ᵀ + b^l        A^l = g^l(Z^l)         (shapes (m, n_l))

The four equations (δ^l = ∂C_x/∂z^l, one row per example x; C = (1/m) Σ_x C_x)
-------------------------------------------------------------------------------
1. δ^L = ∂C_x/∂a^L ⊙ g'(z^L)     (= a^L − y for sigmoid + binary cross-entropy and for
                                    softmax + cross-entropy: see ``costs``)
2. δ^l = (W^{l+1})ᵀ δ^{l+1} ⊙ g'(z^l);   batched: Δ^l = (Δ^{l+1} W^{l+1}) ⊙ g'(Z^l)
3. ∂C/∂W^l = (1/m) Σ_x δ^l (a^{l−1})ᵀ;   batched: (1/m) (Δ^l)ᵀ A^{l−1}, shape (n_l, n_{l−1})
4. ∂C/∂b^l = (1/m) Σ_x δ^l,               shape (n_l,)

With L2 regularisation λ (Andrew Ng's convention) the cost gains λ/(2m) Σ_l ‖W^l‖² and each
∂C/∂W^l gains (λ/m) W^l; biases are never regularised.

The input contract (the same X means the same thing everywhere)
----------------------------------------------------------------
Every public method that takes X — ``forward``, ``cost``, ``backward``, ``predict``,
``predict_proba``, ``evaluate``, ``fit``, and ``deltaprop.gradcheck``, ``explain``,
``explain_layer``, ``sensitivity`` — takes *raw* inputs, in the units of the data. A network's
``preprocessing`` (the standardisation or pixel scaling fitted when it was trained and saved
with it) is part of the model: each of those methods applies it first, so a^0 = the
preprocessed X, and ``Gradients.activations[0]`` is that a^0. ``net.prepare_inputs(X)`` gives
a^0 for your own use. A network without preprocessing (the default) uses X as given.

Targets Y are target rows (m, n_L) — one-hot rows for classes — or, for a classifier (a network
with ``classes_``), class labels (m,), encoded by ``deltaprop.targets``.
"""

from __future__ import annotations

import html
import os
from collections.abc import Callable, Iterable, Sequence
from contextlib import closing
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from . import defaults, targets
from .activations import Activation, get_activation
from .costs import Cost, get_cost, output_delta
from .history import History
from .init import default_init, get_initialiser
from .metrics import count_correct
from .sources import Source, default_block_size, out_of_core, read_blocks
from .validation import (
    as_generator,
    aligned_empty,
    as_float_array,
    check_finite,
    check_inputs,
    check_l2,
    check_sample_weight,
    check_targets,
    is_finite,
)

if TYPE_CHECKING:  # (names for the annotations only: the network imports nothing above it)
    from .modelfile import Checkpoint
    from .optimizers import Optimizer
    from .training import Callback

__all__ = ["Network", "Gradients", "ParameterList", "NetworkSummary", "History"]


_DTYPES = {"float32": np.float32, "float64": np.float64}


@dataclass
class Gradients:
    """What ``Network.backward`` returns. Lists follow Nielsen's ``backprop``:

    * ``weights[l-1]`` = ∂C/∂W^l (n_l, n_{l−1});  ``biases[l-1]`` = ∂C/∂b^l (n_l,)
    * ``deltas[l-1]`` = δ^l, one row per example (m, n_l), *not* divided by m
    * ``zs[l-1]`` = z^l (m, n_l);  ``activations[l]`` = a^l (m, n_l), ``activations[0]`` = X
    * ``cost`` = C (with the L2 term when l2 > 0), a float
    """

    cost: float
    weights: list
    biases: list
    deltas: list
    activations: list
    zs: list
    l2: float = 0.0


@dataclass(frozen=True, repr=False)
class NetworkSummary:
    """What ``Network.summary()`` returns: ``rows`` holds, per layer l, (l, n_{l−1}, n_l,
    activation name, shape of W^l, shape of b^l, parameters). ``str()`` (and the repr) is the
    text table; notebooks show ``_repr_html_``, the same table in HTML."""

    rows: tuple
    total: int
    cost: str
    dtype: str

    HEADER = ("layer", "n_{l-1} → n_l", "activation", "W^l", "b^l", "parameters")
    _RIGHT = (True, True, False, False, False, True)  # right-aligned columns (numbers)

    @property
    def sizes(self) -> list:
        return [self.rows[0][1]] + [row[2] for row in self.rows]

    def _title(self) -> str:
        return f"Network {'-'.join(map(str, self.sizes))}"

    def _cells(self) -> list:
        return [(str(l), f"{n_in} → {n_out}", name, str(W), str(b), f"{n:,}")
                for l, n_in, n_out, name, W, b, n in self.rows]

    def __str__(self) -> str:
        table = [self.HEADER, *self._cells()]
        widths = [max(len(row[i]) for row in table) for i in range(len(self.HEADER))]
        lines = ["  ".join(c.rjust(w) if right else c.ljust(w) for c, w, right in zip(row, widths, self._RIGHT)).rstrip()
                 for row in table]
        rule = "─" * max(map(len, lines))
        footer = f"total parameters {self.total:,}   cost {self.cost}   dtype {self.dtype}"
        return "\n".join([self._title(), rule, lines[0], rule, *lines[1:], rule, footer])

    __repr__ = __str__

    def _repr_pretty_(self, p, cycle: bool) -> None:
        p.text(str(self))

    def _repr_html_(self) -> str:
        esc = html.escape
        head = ("<th>layer l</th><th>n<sub>l−1</sub> → n<sub>l</sub></th><th>activation</th>"
                "<th>W<sup>l</sup></th><th>b<sup>l</sup></th><th>parameters</th>")
        body = "".join(
            "<tr>" + "".join(f'<td style="text-align:{"right" if right else "left"}">{esc(c)}</td>'
                             for c, right in zip(row, self._RIGHT)) + "</tr>"
            for row in self._cells()
        )
        foot = (f'<tr><td colspan="5">total parameters</td><td style="text-align:right">{self.total:,}</td></tr>'
                f'<tr><td colspan="6">cost {esc(self.cost)}, dtype {esc(self.dtype)}</td></tr>')
        return (f'<table class="deltaprop-network"><caption>{esc(self._title())}</caption>'
                f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody><tfoot>{foot}</tfoot></table>")


class ParameterList:
    """The list of W^l (or b^l) arrays of a network. Reading gives the live arrays; assigning
    ``net.weights[i] = array`` checks the shape and copies the values in place."""

    def __init__(self, arrays: Iterable[np.ndarray], kind: str):
        self._arrays = list(arrays)
        self._kind = kind  # "weights" or "biases"

    def __len__(self):
        return len(self._arrays)

    def __iter__(self):
        return iter(self._arrays)

    def __getitem__(self, i):
        return self._arrays[i]

    def __setitem__(self, i, value):
        if isinstance(i, slice):
            raise TypeError(f"assign {self._kind} one layer at a time")
        n = len(self._arrays)
        if not -n <= i < n:
            raise IndexError(f"{self._kind} index {i} out of range for {n} layers")
        target = self._arrays[i]
        layer = (i % n) + 1
        symbol = "W" if self._kind == "weights" else "b"
        arr = as_float_array(value, target.dtype, f"{self._kind}[{i % n}]")
        if arr.shape != target.shape:
            raise ValueError(
                f"{self._kind}[{i % n}] ({symbol}^{layer}) must have shape {target.shape}, "
                f"got {arr.shape}"
            )
        check_finite(arr, f"{self._kind}[{i % n}]")
        target[...] = arr

    def __repr__(self):
        return f"ParameterList({self._kind}: {[a.shape for a in self._arrays]})"


class Network:
    """A fully connected feed-forward network trained by backpropagation.

    Parameters
    ----------
    sizes : list of int
        Neurons per layer, input layer first, e.g. ``[784, 16, 16, 10]``.
    activation : str or list of str
        The hidden layers' activation ("sigmoid", "tanh", "relu", "leaky_relu", "identity"), or
        a list with one name per layer: n_layers − 1 names for the hidden layers, or one per
        layer including the output.
    output : str, optional
        The output layer's activation (adds "softmax"); default: the same as the hidden layers.
    cost : str
        "quadratic" (Σ (a − y)²), "half_quadratic" (½ Σ (a − y)², Nielsen's), "binary_cross_entropy"
        (sigmoid output) or "cross_entropy" (softmax output).
    init : str, optional
        "nielsen", "glorot"/"xavier", "he" or "ng" (see ``deltaprop.init``); default He for
        ReLU-family hidden layers, Nielsen otherwise.
    seed : int or numpy.random.Generator, optional
        Where the initial weights come from.
    dtype : "float64" or "float32"
        float64 is the exactness path (gradient checks), float32 the speed path.
    """

    def __init__(
        self,
        sizes: Sequence[int],
        activation: str | Sequence[str] = "sigmoid",
        output: str | None = None,
        cost: str = "quadratic",
        init: str | Callable | None = None,
        seed: int | np.random.Generator | None = None,
        dtype: DTypeLike = "float64",
    ):
        sizes = self._check_sizes(sizes)
        n_layers = len(sizes) - 1
        self.sizes = sizes
        if str(dtype) not in _DTYPES:
            raise ValueError(f"dtype must be 'float32' or 'float64', got {dtype!r}")
        self.dtype = np.dtype(_DTYPES[str(dtype)])
        #: The activation *functions*, g^l = ``g[l-1]`` (objects with ``value`` and ``derivative``);
        #: the activation *values* a^l are ``Gradients.activations[l]``.
        self.g: list[Activation] = self._build_activations(activation, output, n_layers)
        self.cost_function: Cost = get_cost(cost)
        self.cost_function.check_output(self.g[-1])
        if init is None:
            init = default_init(self.g[0].name)
        self.init = init if isinstance(init, str) else getattr(init, "__name__", "custom")
        initialiser = get_initialiser(init)
        rng = as_generator(seed)
        weights, biases = [], []
        for n_in, n_out in zip(sizes[:-1], sizes[1:]):
            W, b = initialiser(n_in, n_out, rng, self.dtype)
            weights.append(self._aligned_copy(W))
            biases.append(self._aligned_copy(b))
        self._weights = ParameterList(weights, "weights")
        self._biases = ParameterList(biases, "biases")
        #: Class labels when the network is a classifier (set by ``fit`` or by the user).
        self.classes_ = None
        #: Per-feature preprocessing (set by training / data loading), saved with the model and
        #: applied by every method that takes X (the input contract above).
        self.preprocessing = None
        #: Names of the input features, in the order of the input layer (set by training and the
        #: CLI, saved with the model; ``deltaprop predict`` selects CSV columns by them).
        self.feature_names = None
        #: Training history of the last ``fit``: a ``deltaprop.History`` (see the property).
        self.history = []

    # ------------------------------------------------------------------ construction helpers
    @staticmethod
    def _check_sizes(sizes):
        try:
            sizes = [int(s) for s in sizes]
        except (TypeError, ValueError):
            raise ValueError(f"sizes must be a list of positive integers, got {sizes!r}") from None
        if len(sizes) < 2:
            raise ValueError(
                f"sizes needs at least an input and an output layer, e.g. [4, 3, 2]; got {sizes}"
            )
        if any(s < 1 for s in sizes):
            raise ValueError(f"every layer needs at least one neuron, got sizes {sizes}")
        return sizes

    @staticmethod
    def _build_activations(activation, output, n_layers):
        if isinstance(activation, (list, tuple)):
            names = [get_activation(a) for a in activation]
            if len(names) == n_layers:
                if output is not None and get_activation(output) != names[-1]:
                    raise ValueError(
                        f"activation lists {n_layers} names (one per layer, output included) "
                        f"and output={output!r} disagrees with its last name"
                    )
                acts = names
            elif len(names) == n_layers - 1:
                last = output if output is not None else (names[-1] if names else "sigmoid")
                acts = names + [get_activation(last)]
            else:
                raise ValueError(
                    f"activation lists {len(names)} names but the network has {n_layers - 1} "
                    f"hidden and 1 output layer; give {n_layers - 1} or {n_layers} names"
                )
        else:
            hidden = get_activation(activation)
            acts = [hidden] * (n_layers - 1) + [get_activation(output if output is not None else hidden)]
        for l, g in enumerate(acts[:-1], start=1):
            if not g.hidden_ok:
                raise ValueError(
                    f"{g.name} can only be the output layer's activation (layer {l} is hidden); "
                    f"use output={g.name!r} and a hidden activation such as 'sigmoid' or 'relu'"
                )
        return acts

    def _aligned_copy(self, arr):
        out = aligned_empty(arr.shape, self.dtype)
        out[...] = arr
        return out

    # ------------------------------------------------------------------ parameters
    @property
    def weights(self) -> ParameterList:
        """[W^1, ..., W^L]; ``weights[l-1][j, k]`` = w_jk^l, shape (n_l, n_{l−1})."""
        return self._weights

    @weights.setter
    def weights(self, arrays):
        self._assign_all(self._weights, arrays)

    @property
    def biases(self) -> ParameterList:
        """[b^1, ..., b^L]; ``biases[l-1]`` has shape (n_l,)."""
        return self._biases

    @biases.setter
    def biases(self, arrays):
        self._assign_all(self._biases, arrays)

    @staticmethod
    def _assign_all(target: ParameterList, arrays):
        """Assign every layer, or (on any invalid array) none of them."""
        arrays = list(arrays)
        if len(arrays) != len(target):
            raise ValueError(f"expected {len(target)} arrays (one per layer), got {len(arrays)}")
        staged = ParameterList([np.empty_like(t) for t in target], target._kind)
        for i, arr in enumerate(arrays):
            staged[i] = arr  # validates shape and values
        for live, new in zip(target, staged):
            live[...] = new

    @property
    def history(self) -> History:
        """The last ``fit``'s ``deltaprop.History``: per-epoch records, with dict-of-lists access
        (``net.history["val_cost"]``). Assigning a list of records (a model file's) wraps it."""
        return self._history

    @history.setter
    def history(self, records: Iterable[dict] | None) -> None:
        self._history = records if isinstance(records, History) else History(records or [])

    @property
    def activations(self) -> list:
        """The activation functions g^l, ``activations[l-1]`` for layer l: the same list as ``g``."""
        return self.g

    @property
    def n_layers(self) -> int:
        """L, the number of weight layers (the input layer is not counted)."""
        return len(self.sizes) - 1

    @property
    def n_params(self) -> int:
        return sum(W.size + b.size for W, b in zip(self.weights, self.biases))

    @property
    def cost_name(self) -> str:
        return self.cost_function.name

    def config(self) -> dict:
        """Everything but the arrays, as JSON-able values (the model file's header)."""
        return {
            "sizes": list(self.sizes),
            "activations": [g.config() for g in self.g],
            "cost": self.cost_function.name,
            "dtype": self.dtype.name,
            "init": self.init,
        }

    @classmethod
    def from_config(cls, config: dict) -> "Network":
        acts = config["activations"]
        net = cls(
            config["sizes"],
            activation=acts[:-1] if len(acts) > 1 else acts[0],
            output=acts[-1],
            cost=config["cost"],
            dtype=config.get("dtype", "float64"),
            init="glorot",  # placeholder values; the caller assigns the real parameters
            seed=0,
        )
        net.init = config.get("init", net.init)
        return net

    def copy(self, dtype: DTypeLike | None = None) -> Network:
        """An independent copy, optionally converted to another dtype."""
        config = self.config()
        if dtype is not None:
            config["dtype"] = str(np.dtype(dtype))
        new = type(self).from_config(config)
        new.weights = [W for W in self.weights]
        new.biases = [b for b in self.biases]
        new.classes_ = None if self.classes_ is None else np.array(self.classes_, copy=True)
        new.preprocessing = None if self.preprocessing is None else self.preprocessing.copy()
        new.feature_names = None if self.feature_names is None else list(self.feature_names)
        new.history = self.history.copy()
        return new

    def __repr__(self) -> str:
        acts = ", ".join(g.name for g in self.g)
        return (
            f"Network(sizes={self.sizes}, activations=[{acts}], cost={self.cost_name!r}, "
            f"dtype={self.dtype.name!r})"
        )

    def summary(self) -> "NetworkSummary":
        """A layer table (Keras's ``model.summary()``): for each layer l, n_{l−1} → n_l, the
        activation, the shapes of W^l and b^l and their parameter count; then the total, the
        cost function and the dtype. ``str()`` of it is the text table; in a notebook it shows
        as an HTML table (as the network itself does)."""
        rows = tuple(
            (l, self.sizes[l - 1], self.sizes[l], g.name, W.shape, b.shape, W.size + b.size)
            for l, (W, b, g) in enumerate(zip(self.weights, self.biases, self.g), start=1)
        )
        return NetworkSummary(rows, self.n_params, self.cost_name, self.dtype.name)

    def _repr_html_(self) -> str:
        return self.summary()._repr_html_()

    def check_X(self, X: ArrayLike, name: str = "X", rows: np.ndarray | None = None) -> np.ndarray:
        """Raw inputs X checked (shape (m, n_0), finite): an array of the network's dtype, or
        float64 while there is preprocessing still to apply. ``rows`` numbers X's rows in the
        messages (a block of a larger source)."""
        return check_inputs(X, self.sizes[0], self.dtype if self.preprocessing is None else np.float64, name,
                            self.feature_names, rows)

    def check_XY(self, X: ArrayLike, Y: ArrayLike) -> tuple[np.ndarray, np.ndarray]:
        """Raw inputs X and targets checked: (X, Y) with Y the target rows (m, n_L); 1-D class
        labels are encoded by ``deltaprop.targets.prepare`` (against ``classes_``, or the
        sorted labels of Y while the network has none)."""
        X = self.check_X(X)
        Y = check_targets(targets.prepare(self, Y), X.shape[0], self.sizes[-1], self.dtype)
        self.cost_function.check_targets(Y)
        return X, Y

    def prepare_inputs(self, X: ArrayLike, name: str = "X", rows: np.ndarray | None = None) -> np.ndarray:
        """a^0 for raw inputs X: checked, passed through ``preprocessing`` (the standardisation
        or scaling saved with the model, if any), C-contiguous in the network's dtype; ``rows``
        numbers X's rows in the messages."""
        return np.ascontiguousarray(self._network_inputs(self.check_X(X, name, rows), rows))

    # ------------------------------------------------------------------ training and prediction
    def fit(
        self,
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
        checkpoint: str | os.PathLike | None = None,
        checkpoint_every: int | None = 1,
        checkpoint_meta: dict | None = None,
        checkpoint_blocks: int | None = None,
        resume: str | os.PathLike | Checkpoint | None = None,
        engine: str = "auto",
        sample_weight: ArrayLike | None = None,
        verbose: int = 0,
        client: Any = None,
        **optimizer_options: Any,
    ) -> History:
        """Train by mini-batch gradient descent (``deltaprop.training.fit``).

        Parameters
        ----------
        X : array-like (m, n_0)
            Raw inputs (``preprocessing`` is applied).
        y : array-like (m,) or (m, n_L)
            Class labels (sets ``classes_`` when the network has none) or target rows.
        epochs : int
            Passes over the training set.
        batch_size : int or None
            Examples per mini-batch; None: the whole training set (full-batch gradient descent,
            one step per epoch).
        learning_rate : float, optional
            The step size α (default: ``deltaprop.defaults.LEARNING_RATE`` for the optimizer).
        optimizer : {"sgd", "momentum", "adam", "lbfgs", "cg"} or Optimizer
            The update rule (``deltaprop.optimizers``). "lbfgs" and "cg" (Polak–Ribière, as Ng's
            ``fmincg``) minimise the whole training set's J(Θ) with ``scipy.optimize.minimize``
            (``deltaprop.fullbatch``): an epoch is one iteration, no learning rate, no batches.
        l2 : float
            λ of J = (1/n) Σ_x C_x + λ/(2n) Σ_l ‖W^l‖² (biases are not regularised).
        validation : (X_val, y_val) or float, optional
            Validation data, or the fraction of X to hold out (stratified for classes).
        shuffle : bool or "blocks"
            Shuffle the examples every epoch (True: one permutation of all the rows). "blocks":
            read X block by block — any row-sliceable source (a memory map, an h5py or Zarr
            array, a Dask array), never loaded whole — visiting the blocks in a random order and
            the rows of each in a random order (``deltaprop.sources``); the same seed gives the
            same weights whatever the source.
        block_size : int, optional
            Rows per block for ``shuffle="blocks"`` (default: 16 MiB of float32 inputs,
            ``deltaprop.defaults.BLOCK_BYTES``).
        seed : int or numpy.random.Generator, optional
            Where the shuffling (and a held-out split) comes from.
        callbacks : list of Callback
            Hooks run at the start, after every batch and epoch, and at the end.
        early_stopping : bool
            Stop after ``patience`` epochs without a lower validation cost.
        patience : int
            Epochs without improvement before early stopping.
        restore_best : bool
            With early stopping, end with the weights of the best epoch.
        checkpoint : path, optional
            A checkpoint file written every ``checkpoint_every`` epochs and on Ctrl-C.
        checkpoint_every : int or None
            Epochs between checkpoints (None: only on Ctrl-C).
        checkpoint_meta : dict, optional
            Extra JSON-able values stored in the checkpoint.
        checkpoint_blocks : int, optional
            With ``shuffle="blocks"``, also write the checkpoint inside each epoch at the start
            of every ``checkpoint_blocks``-th block: a run killed outright resumes from there,
            bit-identically, losing at most that many blocks.
        resume : path or Checkpoint, optional
            Continue from this checkpoint (weights, optimizer, Generator and history).
        engine : {"auto", "fast", "reference"}
            The train step: ``Network.backward`` plus the optimizer ("reference"), the fused
            ``fastpath`` ("fast", the same updates to rounding) or the fast one when available.
        sample_weight : array-like (m,), optional
            Weights of the examples' costs: a batch's cost is Σ w_x C_x / Σ w_x.
        verbose : int
            0 shows nothing; 1 a live progress bar (a line on stderr that updates in place, a
            widget in Jupyter); 2 one plain line per epoch on stdout.
        client : dask.distributed.Client, optional
            With a Dask array X and a full-batch method (lbfgs, cg or ``batch_size=None``): the
            cluster whose workers compute the cost and gradient as per-chunk sums (default: the
            running Client, if any; ``deltaprop.distributed``).
        **optimizer_options
            The chosen optimizer's own options: ``momentum`` (momentum), ``beta1``, ``beta2``,
            ``epsilon`` (adam), ``tol`` (lbfgs, cg: stop once every |∂J/∂θ_i| ≤ tol, default
            1e-5). Any other name is refused, naming it and the valid ones.

        Returns
        -------
        History
            The per-epoch records and why training stopped; also stored as ``net.history``.
        """
        # (The one place the network reaches the training loop, which builds on it: imported
        # here, when called, so that ``network`` itself depends on nothing above it.)
        from .training import fit

        return fit(
            self, X, y, epochs=epochs, batch_size=batch_size, learning_rate=learning_rate,
            optimizer=optimizer, l2=l2, validation=validation, shuffle=shuffle, block_size=block_size, seed=seed,
            callbacks=callbacks, early_stopping=early_stopping, patience=patience,
            restore_best=restore_best, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
            checkpoint_meta=checkpoint_meta, checkpoint_blocks=checkpoint_blocks, resume=resume, engine=engine,
            sample_weight=sample_weight, verbose=verbose, client=client, **optimizer_options,
        )

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities (m, n_classes) for raw inputs X; needs ``classes_``."""
        if self.classes_ is None:
            raise ValueError("predict_proba needs a classifier: this network has no classes_ (fit it on class labels)")
        a = self._finite_output(X)
        if a.shape[1] == 1:
            return np.hstack([1.0 - a, a])
        return a

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Class labels (m,) for a classifier (argmax of a^L, or a > 0.5 for one output);
        the output activations (m, n_L) otherwise. X are raw inputs."""
        a = self._finite_output(X)
        if self.classes_ is None:
            return a
        return targets.decode(self.classes_, targets.predicted_index(a))

    def evaluate(self, X: ArrayLike, y: ArrayLike, l2: float = 0.0) -> dict:
        """{"cost": C, "accuracy": fraction right or None} on raw inputs X and labels/targets y;
        ``cost`` is exactly ``net.cost(X, y, l2)``. X may be a source not in memory (a memory
        map, an h5py or Zarr array, a Dask array): it is then read block by block, and the cost
        is the blocks' mean costs weighted by their rows (equal to rounding)."""
        l2 = check_l2(l2)
        if not _streamed(X):
            X, Y = self.check_XY(X, y)
            return self.evaluate_prepared(self._network_inputs(X), Y, l2)
        source = Source(X)
        m = source.shape[0]
        Y = check_targets(targets.prepare(self, np.asarray(y)), m, self.sizes[-1], self.dtype)
        self.cost_function.check_targets(Y)
        total, right = 0.0, 0
        with closing(self._source_blocks(source)) as blocks:  # (a bad block ends the reader at once)
            for start, stop, a0 in blocks:
                part = self.evaluate_prepared(a0, Y[start:stop])
                total += part["cost"] * (stop - start)
                right += round((part["accuracy"] or 0.0) * (stop - start))
        accuracy = right / m if targets.is_classifier(self) else None
        return {"cost": total / m + self._l2_term(l2, m), "accuracy": accuracy}

    def evaluate_prepared(self, a0: np.ndarray, Y: np.ndarray, l2: float = 0.0) -> dict:
        """``evaluate`` for inputs already preprocessed (a^0, the network's dtype) and target rows
        Y: the training loop's validation step."""
        zs, activations = self.feedforward(a0)
        cost = self.cost_function.value(zs[-1], activations[-1], Y, self.g[-1])
        cost += self._l2_term(l2, a0.shape[0])
        accuracy = None
        if targets.is_classifier(self):
            accuracy = count_correct(activations[-1], Y) / a0.shape[0]
        return {"cost": float(cost), "accuracy": accuracy}

    def _network_inputs(self, X, rows: np.ndarray | None = None) -> np.ndarray:
        """a^0 for raw inputs already checked by ``check_X``."""
        if self.preprocessing is None:
            return X
        return np.ascontiguousarray(self.preprocessing.transform(X, self.feature_names, rows), dtype=self.dtype)

    def _output(self, X):
        """a^L for a^0 = X: the forward pass, keeping only its last layer."""
        zs, a = self.feedforward(X, keep=False)
        return a[-1]

    # ------------------------------------------------------------------ the math
    def feedforward(self, X: np.ndarray, keep: bool = True) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The forward pass, the one every method uses: returns (zs, activations).

        ``zs[l-1]`` = Z^l = A^{l−1} (W^l)ᵀ + b^l and ``activations[l]`` = A^l = g(Z^l),
        ``activations[0]`` = X; all of shape (m, n_l). X is a^0, already checked and
        preprocessed. With ``keep=False`` only the last z and a are kept (prediction: no memory
        for the layers below), as one-element lists.
        """
        a = X
        zs, activations = [], [X]
        for W, b, g in zip(self.weights, self.biases, self.g):
            z = a @ W.T + b
            a = g.value(z)
            if keep:
                zs.append(z)
                activations.append(a)
        return (zs, activations) if keep else ([z], [a])

    def forward(self, X: ArrayLike) -> np.ndarray:
        """The output activations a^L, shape (m, n_L), for raw inputs X of shape (m, n_0)."""
        return self._finite_output(X)

    def _source_blocks(self, source: Source):
        """(start, stop, a^0) of each block of a source, in order."""
        def prepare(block, start):
            return self.prepare_inputs(block, "X", source.row_numbers(start, start + len(block)))

        yield from read_blocks(source, default_block_size(source.n_features), prepare)

    def _finite_output(self, X, first_row: int = 0) -> np.ndarray:
        """a^L for raw inputs X (read block by block from a source not in memory), refused (one
        line, naming the row) where the forward pass overflowed: a prediction is never NaN."""
        if _streamed(X):
            source = Source(X)
            if source.shape[0] == 0:
                self.check_X(np.empty(source.shape))  # its message for an empty X
            with closing(self._source_blocks(source)) as blocks:
                return np.concatenate([self._finite_output_of(a0, start) for start, _, a0 in blocks])
        return self._finite_output_of(self.prepare_inputs(X), first_row)

    def _finite_output_of(self, a0: np.ndarray, first_row: int = 0) -> np.ndarray:
        a = self._output(a0)
        if not is_finite(a):
            row = first_row + int(np.flatnonzero(~np.isfinite(a).all(axis=1))[0])
            raise ValueError(
                f"the network's output for row {row} of X is not finite: its inputs are too large "
                f"for this network (the forward pass overflows {self.dtype.name}); expected values "
                "of the training data's magnitude"
            )
        return a

    def _l2_term(self, l2: float, m: int) -> float:
        """λ/(2m) Σ_l ‖W^l‖² (biases excluded)."""
        if l2 == 0:
            return 0.0
        total = sum(float(np.einsum("ij,ij->", W, W, dtype=np.float64)) for W in self.weights)
        return l2 / (2.0 * m) * total

    def cost(self, X: ArrayLike, Y: ArrayLike, l2: float = 0.0, sample_weight: ArrayLike | None = None) -> float:
        """C = (1/m) Σ_x C_x + λ/(2m) Σ_l ‖W^l‖², exactly the function ``backward`` differentiates.

        With ``sample_weight`` w (m,), the data term is the weighted mean Σ_x w_x C_x / Σ_x w_x."""
        l2 = check_l2(l2)
        X, Y = self.check_XY(X, Y)
        w = check_sample_weight(sample_weight, X.shape[0])
        zs, activations = self.feedforward(self._network_inputs(X))
        data_cost = self.cost_function.value(zs[-1], activations[-1], Y, self.g[-1], w)
        return data_cost + self._l2_term(l2, X.shape[0])

    def backward(self, X: ArrayLike, Y: ArrayLike, l2: float = 0.0, sample_weight: ArrayLike | None = None) -> Gradients:
        """Backpropagation for a batch: the forward pass, then equations 1–4 (module docstring).

        X has shape (m, n_0), Y shape (m, n_L) (one-hot rows for classification). Returns a
        ``Gradients`` with ∂C/∂W^l, ∂C/∂b^l, δ^l per example, and the z^l and a^l of the pass.

        With ``sample_weight`` w (m,) the cost is Σ_x w_x C_x / Σ_x w_x (+ the L2 term), so the
        averages in equations 3 and 4 become weighted: ∂C/∂W^l = Σ_x w_x δ^l (a^{l−1})ᵀ / Σ_x w_x.
        δ^l stays the per-example ∂C_x/∂z^l.
        """
        l2 = check_l2(l2)
        X, Y = self.check_XY(X, Y)
        w = check_sample_weight(sample_weight, X.shape[0])
        return self._backprop(self._network_inputs(X), Y, l2, w)

    def _backprop(self, X, Y, l2: float, sample_weight=None) -> Gradients:
        """``backward`` on a^0 = X already preprocessed and checked (arrays of the network's
        dtype): the forward pass, then the four equations, one step each."""
        m, L = X.shape[0], self.n_layers
        g, W = self.g, self.weights  # g[l-1] is the function g^l, W[l-1] the matrix W^l
        zs, a = self.feedforward(X)  # zs[l-1] = z^l, a[l] = a^l (values)
        delta = [None] * L  # delta[l-1] = δ^l, one row per example

        # (1) δ^L = ∂C/∂a^L ⊙ g'(z^L)   (a^L − y for the matched pairs, see costs.output_delta)
        delta[L - 1] = output_delta(self.cost_function, g[L - 1], zs[L - 1], a[L], Y)
        # (2) δ^l = (W^{l+1})ᵀ δ^{l+1} ⊙ g'(z^l); with rows as examples: (δ^{l+1} W^{l+1}) ⊙ g'(z^l)
        for l in range(L - 1, 0, -1):
            delta[l - 1] = g[l - 1].backprop(zs[l - 1], a[l], delta[l] @ W[l])
        # (3) ∂C/∂W^l = (1/m) Σ_x δ^l (a^{l−1})ᵀ + (λ/m) W^l    (4) ∂C/∂b^l = (1/m) Σ_x δ^l
        # (weighted: w_x / Σ w in place of 1/m)
        grad_W, grad_b = [], []
        for l in range(1, L + 1):
            if sample_weight is None:
                gW, gb = (delta[l - 1].T @ a[l - 1]) / m, delta[l - 1].sum(axis=0) / m
            else:
                d = delta[l - 1] * (sample_weight / sample_weight.sum()).astype(X.dtype)[:, None]
                gW, gb = d.T @ a[l - 1], d.sum(axis=0)
            if l2:
                gW += (l2 / m) * W[l - 1]
            grad_W.append(gW)
            grad_b.append(gb)

        data_cost = self.cost_function.value(zs[-1], a[L], Y, g[L - 1], sample_weight)
        return Gradients(
            cost=data_cost + self._l2_term(l2, m),
            weights=grad_W,
            biases=grad_b,
            deltas=delta,
            activations=a,
            zs=zs,
            l2=l2,
        )


def _streamed(X) -> bool:
    """Whether X is a row-sliceable source not in memory, read block by block (``sources.out_of_core``)."""
    return out_of_core(X)
