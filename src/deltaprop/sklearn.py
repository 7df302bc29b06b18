"""scikit-learn estimators on deltaprop's engine: ``MLPClassifier`` and ``MLPRegressor``.

They follow scikit-learn's estimator conventions (``get_params``/``set_params``, ``fit`` returns
self, fitted attributes end in ``_``, inputs validated with ``validate_data``), so they work in
``Pipeline``, ``cross_val_score`` and ``GridSearchCV``, and they pass scikit-learn's own
estimator checks (``tests/test_sklearn.py``): with the default hyperparameters every check
passes; ``expected_failed_checks(estimator)`` lists, with the reason, the few that some
non-default hyperparameters (mini-batches, early stopping, float32) are expected to fail.

What deltaprop adds to scikit-learn's own MLP: any cost and output activation of the engine
(``cost="quadratic"``, ``activation="leaky_relu"`` or ``{"name": "leaky_relu", "slope": 0.1}``,
per-layer lists), a validation-loss curve, restore-best-weights early stopping, ``float32``,
one live progress bar per fit (``verbose=1``; ``verbose=2`` prints a line per epoch),
``warm_start`` and ``partial_fit`` that keep the optimizer's state (Adam's moments) between
calls, safe model files (``deltaprop.save``, no pickle) and the trained ``network_``, a plain
``deltaprop.Network`` that ``explain``, ``gradcheck`` and the CLI read.

How the targets reach the network
---------------------------------
* binary classification: one sigmoid output with binary cross-entropy (``output="softmax"``
  gives two softmax outputs with cross-entropy instead);
* multi-class: one softmax output per class, cross-entropy, one-hot targets;
* multi-label (y an indicator matrix (n_samples, n_labels)): one sigmoid output per label,
  binary cross-entropy; ``predict`` thresholds each probability at 0.5;
* regression: one identity output per target column, quadratic cost
  C = (1/m) Σ_x Σ_j (a_j − y_j)² (no ½, unlike scikit-learn's squared loss);
  ``cost="half_quadratic"`` is C = (1/m) Σ_x ½ Σ_j (a_j − y_j)², the gradients scikit-learn's
  regressor trains with.

``l2`` is deltaprop's λ of the whole training set: J = (1/n) Σ_x C_x + λ/(2n) Σ_l ‖W^l‖²
(every mini-batch step adds (λ/n) W). scikit-learn's ``alpha`` is a per-batch penalty
α/(2 m_b) Σ‖W‖², so λ = α n / m_b for classifiers and for ``half_quadratic`` regressors, and
λ = 2 α n / m_b with half the learning rate for quadratic regressors (deltaprop's quadratic cost
is twice scikit-learn's; see ``benchmarks/sklearn_compare.py``).

Randomness: ``random_state`` is None (fresh OS entropy, never NumPy's global state), an int
(every ``fit`` is then reproducible), a ``numpy.random.Generator`` (used and advanced, like a
``RandomState`` in scikit-learn) or a ``numpy.random.RandomState`` (a seed is drawn from it).
It initialises the weights, draws the validation split and shuffles the mini-batches;
``warm_start`` and ``partial_fit`` continue the same stream.

Model files: ``deltaprop.save(est.network_, path)`` writes the network (weights, classes,
training history) without pickle; ``est.save(path)`` does the same and also stores the
estimator's hyperparameters and feature names. ``MLPClassifier.load(path)`` /
``MLPRegressor.load(path)`` read either kind of file back into a fitted estimator;
``from_network(net)`` wraps a Network trained elsewhere (e.g. by ``deltaprop train``).
Plain ``pickle``/``joblib`` work too, and keep the optimizer's state.

scikit-learn's conventions beyond the estimator checks: a ``fit`` that runs out of epochs
before the training loss stops improving by ``tol`` warns with
``sklearn.exceptions.ConvergenceWarning`` (``partial_fit`` never does); an unknown keyword
argument raises ``UnknownParameterError`` naming it, with the deltaprop name for scikit-learn's
(``max_iter`` -> ``epochs``, ``alpha`` -> ``l2``, ...); a ``dtype="float32"`` estimator
returns float32 for float32 inputs.

Output: only ``verbose > 0`` shows anything, from this layer (training callbacks:
``deltaprop.progress.ProgressBar`` for ``verbose=1``, ``_ProgressPrinter`` for ``verbose >= 2``);
the engine never prints.
"""

from __future__ import annotations

import copy
import difflib
import functools
import json
import numbers
import warnings
from collections.abc import Sequence
from contextlib import closing
from os import PathLike
from pathlib import Path
from typing import Any, Literal, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils.multiclass import check_classification_targets, type_of_target, unique_labels
from sklearn.utils.validation import check_is_fitted, column_or_1d

try:  # scikit-learn >= 1.6
    from sklearn.utils.validation import validate_data as _validate_data
except ImportError:  # pragma: no cover - older scikit-learn

    def _validate_data(estimator, *args, **kwargs):
        return estimator._validate_data(*args, **kwargs)


from .activations import Sigmoid, Softmax, get_activation
from .costs import get_cost
from .modelfile import load as _load_network
from .modelfile import read_header as _read_header
from .modelfile import save as _save_network
from .network import Network
from .optimizers import FULL_BATCH, OPTIMIZERS, FullBatch, Optimizer, get_optimizer, is_full_batch
from . import defaults, targets
from .progress import ProgressBar
from .history import History
from .training import Callback
from .training import fit as _train
from .validation import as_generator, check_l2, check_sample_weight

__all__ = ["MLPClassifier", "MLPRegressor", "UnknownParameterError", "expected_failed_checks"]


def expected_failed_checks(estimator: BaseEstimator) -> dict[str, str]:
    """The scikit-learn estimator checks that ``estimator`` is expected to fail.

    For ``parametrize_with_checks(..., expected_failed_checks=expected_failed_checks)`` or
    ``check_estimator``. With the default hyperparameters both estimators pass every check (the
    dict is empty).

    Parameters
    ----------
    estimator : MLPClassifier or MLPRegressor
        The estimator, with the hyperparameters to be checked.

    Returns
    -------
    dict of str to str
        The name of each check of ``sklearn.utils.estimator_checks`` expected to fail, with the
        reason.
    """
    params = estimator.get_params(deep=False)
    failed = {}
    if params["batch_size"] != "auto" or params["early_stopping"]:
        failed["check_sample_weight_equivalence_on_dense_data"] = (
            "weighting an example by k equals repeating it k times only when every step sees the "
            "whole training set (batch_size='auto' covers the check's 15 to 45 rows in one batch): "
            "with smaller mini-batches or a validation split the repeated data set is cut into "
            "different batches and held-out rows than the weighted one"
        )
    if str(params["dtype"]) == "float32":
        reason = (
            "float32 rounding (about 1e-7 relative) reaches the check's tolerance (rtol=1e-7): "
            "BLAS sums a batch of a different size or order in a different order"
        )
        failed["check_sample_weight_equivalence_on_dense_data"] = reason
        failed["check_methods_subset_invariance"] = reason
    if params["early_stopping"] and isinstance(estimator, RegressorMixin):
        failed["check_regressors_train"] = (
            "the check wants a training R² above 0.5 on noisy data (one informative feature of "
            "ten, noise 20); early stopping ends at the best validation loss, before the network "
            "fits the training noise (training R² about 0.39 with the check's random_state=0)"
        )
    return failed


_DTYPES = ("float64", "float32")
_Estimator = TypeVar("_Estimator", bound="_BaseMLP")  # the class a classmethod is called on
_HEADER_KEY = "sklearn_estimator"  # where ``save`` keeps the estimator's hyperparameters


class UnknownParameterError(TypeError, ValueError):
    """A keyword argument that is not a parameter of the estimator.

    A ``TypeError``, as Python raises for an unexpected keyword argument (the constructor), and
    a ``ValueError``, as scikit-learn's ``set_params`` raises for an invalid parameter.
    """


#: scikit-learn's MLP parameters that deltaprop's estimators name or do differently.
_SKLEARN_NAMES = {
    "max_iter": "use epochs=",
    "learning_rate_init": "use learning_rate=",
    "alpha": "use l2=, deltaprop's λ of the whole training set: the module docstring converts",
    "solver": "use optimizer=: 'adam', 'sgd', 'momentum', 'lbfgs', 'cg' or a deltaprop.optimizers instance",
    "n_iter_no_change": "use patience=",
    "loss": "use cost=: 'half_quadratic' is scikit-learn's 'squared_error'",
    "momentum": "use optimizer=deltaprop.optimizers.Momentum(learning_rate, momentum=...)",
    "beta_1": "use optimizer=deltaprop.optimizers.Adam(learning_rate, beta1=...)",
    "beta_2": "use optimizer=deltaprop.optimizers.Adam(learning_rate, beta2=...)",
    "epsilon": "use optimizer=deltaprop.optimizers.Adam(learning_rate, epsilon=...)",
    "nesterovs_momentum": "deltaprop's Momentum is classical momentum, there is no Nesterov variant",
    "power_t": "deltaprop keeps the learning rate constant, there is no 'invscaling' schedule",
    "max_fun": "optimizer='lbfgs' counts iterations (epochs=), not function evaluations",
}


def _unknown_parameters(where: str, names, valid) -> UnknownParameterError:
    """The error for keyword arguments ``names`` that are not among ``valid``: each with what to
    use instead (scikit-learn's MLP names, close spellings), then the valid names."""
    parts = []
    for name in names:
        hint = _SKLEARN_NAMES.get(name)
        if hint is None:
            close = difflib.get_close_matches(name, valid, n=1)
            hint = f"did you mean {close[0]}=?" if close else None
        parts.append(f"{name!r} ({hint})" if hint else repr(name))
    plural = "s" if len(parts) > 1 else ""
    return UnknownParameterError(
        f"{where} got unexpected keyword argument{plural} {', '.join(parts)}. "
        f"Its parameters are: {', '.join(valid)}"
    )


def _reject_unknown_parameters(init):
    """An estimator's ``__init__`` that raises ``UnknownParameterError`` for a keyword argument
    that is not a parameter, naming the estimator and what to use instead, where Python would
    raise a bare TypeError naming the private base class. scikit-learn forbids ``**kwargs`` in
    the signature (``get_params`` and its estimator checks read it); ``functools.wraps`` keeps
    the explicit one, which ``inspect.signature`` (and so scikit-learn and ``help``) reads."""

    @functools.wraps(init)
    def checked_init(self, *args, **params):
        valid = self._get_param_names()
        unknown = [name for name in params if name not in valid]
        if unknown:
            raise _unknown_parameters(f"{type(self).__name__}()", unknown, valid)
        init(self, *args, **params)

    return checked_init


def _still_improving(losses, tol: float, patience: int) -> bool:
    """scikit-learn's convergence rule for its stochastic solvers (``_fit_stochastic``), at the
    end of a loss curve: an epoch does not improve when its loss is above the lowest loss before
    it minus ``tol``; training has converged once more than ``patience`` epochs in a row have not
    improved."""
    best, stale = np.inf, 0
    for loss in losses:
        stale = stale + 1 if loss > best - tol else 0
        best = min(best, loss)
    return stale <= patience


def _make_rng(random_state) -> np.random.Generator:
    """A Generator from ``random_state``: None (OS entropy), int or Generator (through
    ``validation.as_generator``, the one home of seeds), or a legacy RandomState (scikit-learn's
    convention: four draws from it seed a Generator)."""
    if isinstance(random_state, np.random.RandomState):
        random_state = np.random.default_rng(random_state.randint(0, 2**31 - 1, size=4))
    try:
        return as_generator(random_state)
    except ValueError:
        raise ValueError(
            "random_state must be None, a non-negative int, a numpy.random.Generator or a "
            f"numpy.random.RandomState, got {random_state!r}"
        ) from None


def _positive_int(name, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")
    return int(value)


def _hidden_sizes(value) -> tuple:
    if isinstance(value, numbers.Integral) and not isinstance(value, bool):
        value = (value,)
    try:
        sizes = tuple(value)
    except TypeError:
        sizes = None
    if sizes is None or any(
        isinstance(s, bool) or not isinstance(s, numbers.Integral) or s < 1 for s in sizes
    ):
        raise ValueError(
            "hidden_layer_sizes must be a tuple of positive integers, one per hidden layer, "
            f"such as (100,) or (64, 32), or () for none; got {value!r}"
        )
    return tuple(int(s) for s in sizes)


def _is_streamed(X) -> bool:
    """Whether X is a row-sliceable source that ``fit(shuffle="blocks")`` reads block by block
    rather than an array in memory: a memory map, an h5py or Zarr array, a Dask array
    (``sources.out_of_core``; a DataFrame goes through ``validate_data``)."""
    from .sources import out_of_core

    return out_of_core(X)


def _output_z(net: Network, X: np.ndarray) -> np.ndarray:
    """z^L (m, n_L) in float64 for prepared inputs X: the output layer's weighted input, from
    which the estimators compute probabilities and log-probabilities without log(0)."""
    zs, _ = net.feedforward(X, keep=False)  # the network's one forward pass
    return np.asarray(zs[-1], dtype=np.float64)


def _sigmoid(z):
    # σ(z) = exp(log σ(z)): exact in both tails (1 − σ(z) is never formed)
    return np.exp(Sigmoid.log_value(z))


def _json_params(params: dict) -> dict:
    """The hyperparameters that can go into a JSON header (an Optimizer instance as its name and
    hyperparameters; anything else that is not JSON-able is left out and inferred on load)."""
    out = {}
    for key, value in params.items():
        if isinstance(value, Optimizer):
            value = {"optimizer": value.name, **value.hyperparameters()}
        elif isinstance(value, tuple):
            value = list(value)
        try:
            json.dumps(value)
        except (TypeError, ValueError):
            continue
        out[key] = value
    return out


class _ProgressPrinter(Callback):
    """The estimators' ``verbose >= 2`` output: one line per epoch, and why training stopped
    (``verbose=1`` shows a ``deltaprop.progress.ProgressBar`` instead)."""

    def __init__(self, n_done: int, epochs: int, patience: int, restore_best: bool):
        self.n_done, self.epochs = n_done, epochs
        self.patience, self.restore_best = patience, restore_best

    def on_epoch_end(self, trainer, record):
        if self.n_done:  # a warm start or partial_fit: the running count, then this call's
            line = f"Epoch {self.n_done + trainer.epoch} ({trainer.epoch}/{self.epochs} of this fit)"
        else:
            line = f"Epoch {trainer.epoch}/{self.epochs}"
        line += f", loss = {record['cost']:.8f}"
        if "val_cost" in record:
            line += f", validation loss = {record['val_cost']:.8f}"
        if "val_score" in record:
            line += f", validation score = {record['val_score']:.6f}"
        print(f"{line}  ({record.get('time', 0.0):.2f}s)", flush=True)
        return False

    def on_train_end(self, trainer):
        history = trainer.history
        if history.stop_reason == "early_stopping":
            best = history.best_epoch
            restored = (
                f"; restored the weights of epoch {self.n_done + best}"
                if best is not None and best != trainer.epoch and self.restore_best
                else ""
            )
            print(
                f"Validation loss did not improve for {self.patience} epochs: "
                f"stopped after epoch {self.n_done + trainer.epoch}{restored}.",
                flush=True,
            )


class _Recorder(Callback):
    """Collects the epoch records and adds the validation score (accuracy or R², weighted by
    the validation sample weights) to each; runs before ``_ProgressPrinter``."""

    def __init__(self, estimator, X_val, Y_val, w_val):
        self.estimator = estimator
        self.X_val, self.Y_val, self.w_val = X_val, Y_val, w_val
        self.records = []

    def on_epoch_end(self, trainer, record):
        if self.X_val is not None:
            record["val_score"] = float(
                self.estimator._score_prepared(trainer.net, self.X_val, self.Y_val, self.w_val)
            )
        self.records.append(record)
        return False


class _BaseMLP(BaseEstimator):
    """What the classifier and the regressor share: hyperparameters, the fit loop around
    ``deltaprop.training.fit``, model files and pickling. Not public."""

    @_reject_unknown_parameters
    def __init__(
        self,
        hidden_layer_sizes: int | Sequence[int] = defaults.ESTIMATOR["hidden_layer_sizes"],
        activation: str | dict | list = defaults.ESTIMATOR["activation"],
        output: str | dict | None = None,
        cost: str | None = None,
        init: str | None = None,
        optimizer: str | Optimizer = defaults.ESTIMATOR["optimizer"],
        learning_rate: float | None = None,
        batch_size: int | Literal["auto"] | None = defaults.ESTIMATOR["batch_size"],
        epochs: int = defaults.ESTIMATOR["epochs"],
        l2: float = defaults.ESTIMATOR["l2"],
        early_stopping: bool = False,
        validation_fraction: float = defaults.ESTIMATOR["validation_fraction"],
        patience: int = defaults.ESTIMATOR["patience"],
        tol: float = defaults.ESTIMATOR["tol"],
        restore_best: bool = True,
        shuffle: bool | Literal["blocks"] = True,
        block_size: int | None = None,
        random_state: int | np.random.Generator | np.random.RandomState | None = None,
        dtype: DTypeLike = "float64",
        verbose: int = 0,
        warm_start: bool = False,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.output = output
        self.cost = cost
        self.init = init
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.epochs = epochs
        self.l2 = l2
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.patience = patience
        self.tol = tol
        self.restore_best = restore_best
        self.shuffle = shuffle
        self.block_size = block_size
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose
        self.warm_start = warm_start

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False  # the engine multiplies dense arrays
        return tags

    def set_params(self: _Estimator, **params: Any) -> _Estimator:
        """Set parameters, as scikit-learn's ``set_params`` (used by ``GridSearchCV``).

        Parameters
        ----------
        **params : dict
            Parameter names (those of the constructor) and their new values.

        Returns
        -------
        self
            The estimator. A name that is not a parameter raises ``UnknownParameterError`` (a
            ``ValueError``) that says what to use for scikit-learn's MLP names.
        """
        valid = self._get_param_names()
        unknown = [name for name in params if name not in valid]  # (no nested estimators)
        if unknown:
            raise _unknown_parameters(f"{type(self).__name__}.set_params()", unknown, valid)
        return super().set_params(**params)

    # ------------------------------------------------------------------ hyperparameters
    def _dtype_name(self) -> str:
        try:
            name = np.dtype(self.dtype).name
        except TypeError:
            name = None
        if name not in _DTYPES:
            raise ValueError(f"dtype must be 'float64' or 'float32', got {self.dtype!r}")
        return name

    def _check_hyperparameters(self):
        """Validate what the engine does not validate itself (it checks l2, learning_rate,
        patience, activation, cost and init names with its own clear messages)."""
        _hidden_sizes(self.hidden_layer_sizes)
        _positive_int("epochs", self.epochs)
        _positive_int("patience", self.patience)
        check_l2(self.l2)
        if not (isinstance(self.batch_size, str) and self.batch_size == "auto") and self.batch_size is not None:
            _positive_int("batch_size", self.batch_size)
        if self.early_stopping:
            vf = self.validation_fraction
            if isinstance(vf, bool) or not isinstance(vf, numbers.Real) or not 0.0 < vf < 1.0:
                raise ValueError(f"validation_fraction must be a number in (0, 1), got {vf!r}")
        if isinstance(self.shuffle, str) and self.shuffle != "blocks":
            raise ValueError(f"shuffle must be True, False or 'blocks', got {self.shuffle!r}")
        if self.block_size is not None:
            if self.shuffle != "blocks":
                raise ValueError(f"block_size={self.block_size!r} applies only with shuffle='blocks' "
                                 f"(shuffle is {self.shuffle!r})")
            _positive_int("block_size", self.block_size)
        if not isinstance(self.verbose, bool) and (
            not isinstance(self.verbose, numbers.Integral) or self.verbose < 0
        ):
            raise ValueError(f"verbose must be a non-negative integer, got {self.verbose!r}")
        tol = self.tol
        if isinstance(tol, bool) or not isinstance(tol, numbers.Real) or not 0.0 <= tol < np.inf:
            raise ValueError(f"tol must be a non-negative number, got {tol!r}")
        if isinstance(self.optimizer, Optimizer):
            if self.learning_rate is not None:
                raise ValueError(
                    "learning_rate is set twice: give it to the optimizer instance "
                    f"({self.optimizer!r}) or pass optimizer by name, not both"
                )
        elif not (isinstance(self.optimizer, str) and self.optimizer.lower() in {**OPTIMIZERS, **FULL_BATCH}):
            raise ValueError(
                f"optimizer must be one of {', '.join({**OPTIMIZERS, **FULL_BATCH})} or a "
                f"deltaprop.optimizers.Optimizer instance, got {self.optimizer!r}"
            )
        elif self.optimizer.lower() in FULL_BATCH and self.learning_rate is not None:
            raise ValueError(
                f"optimizer={self.optimizer!r} takes no learning_rate (its line search picks the step), "
                f"got learning_rate={self.learning_rate!r}; leave it None"
            )
        self._dtype_name()

    def _new_optimizer(self) -> Optimizer:
        if isinstance(self.optimizer, Optimizer):
            opt = copy.deepcopy(self.optimizer)  # the parameter itself is never changed
            opt.load_state_dict({"t": np.array(0)})  # a fresh start for a fresh network
            return opt
        if self.optimizer.lower() in FULL_BATCH:  # tol is scipy's gtol, as scikit-learn's lbfgs has it
            return get_optimizer(self.optimizer.lower(), tol=max(float(self.tol), np.finfo(np.float64).tiny))
        return get_optimizer(self.optimizer.lower(), self.learning_rate)

    def _continued_optimizer(self) -> Optimizer:
        """The optimizer for a warm start or partial_fit: the one in use, state and all. Changed
        hyperparameters (``learning_rate``, or those of an Optimizer instance) are applied to it;
        a different kind of optimizer starts afresh."""
        current = getattr(self, "optimizer_", None)
        if isinstance(self.optimizer, Optimizer):
            wanted, settings = self.optimizer.name, self.optimizer.hyperparameters()
        else:
            wanted = self.optimizer.lower()
            settings = {} if self.learning_rate is None else {"learning_rate": self.learning_rate}
        if current is None or current.name != wanted or isinstance(current, FullBatch):
            return self._new_optimizer()  # (a full-batch method keeps nothing between fits)
        checked = get_optimizer(wanted, **settings).hyperparameters()  # validates the values
        for key in settings:
            setattr(current, key, checked[key])
        return current

    def _network_spec(self, n_features: int, n_outputs: int, target_type=None) -> dict:
        """The network the hyperparameters describe for this task."""
        output, cost = self._head(target_type)
        sizes = [n_features, *_hidden_sizes(self.hidden_layer_sizes), n_outputs]
        return {"sizes": sizes, "output": output, "cost": cost, "dtype": self._dtype_name()}

    def _build_network(self, spec: dict, rng) -> Network:
        return Network(
            spec["sizes"],
            activation=self.activation,
            output=spec["output"],
            cost=spec["cost"],
            init=self.init,
            seed=rng,
            dtype=spec["dtype"],
        )

    def _check_same_network(self, spec: dict):
        """A warm start or partial_fit continues the existing network: refuse changed
        architecture hyperparameters instead of silently ignoring them."""
        net = self.network_
        cfg = net.config()
        problems = []
        if list(spec["sizes"][1:-1]) != list(net.sizes[1:-1]):
            problems.append(f"hidden_layer_sizes {tuple(spec['sizes'][1:-1])} != {tuple(net.sizes[1:-1])}")
        if spec["sizes"][-1] != net.sizes[-1]:
            problems.append(f"{spec['sizes'][-1]} outputs != {net.sizes[-1]}")
        if spec["dtype"] != cfg["dtype"]:
            problems.append(f"dtype {spec['dtype']!r} != {cfg['dtype']!r}")
        if get_cost(spec["cost"]).name != cfg["cost"]:
            problems.append(f"cost {spec['cost']!r} != {cfg['cost']!r}")
        if get_activation(spec["output"]).config() != cfg["activations"][-1]:
            problems.append(f"output {spec['output']!r} != {cfg['activations'][-1]['name']!r}")
        hidden = cfg["activations"][:-1]
        if hidden:
            try:
                probe = Network._build_activations(self.activation, spec["output"], len(hidden) + 1)
                wanted = [g.config() for g in probe[:-1]]
            except ValueError as exc:
                wanted = str(exc)
            if wanted != hidden:
                problems.append(f"activation {self.activation!r} != {[h['name'] for h in hidden]}")
        if problems:
            raise ValueError(
                f"{type(self).__name__} continues training its existing network (warm_start or "
                "partial_fit), but the hyperparameters now describe a different one: "
                + "; ".join(problems)
                + ". Set warm_start=False and call fit to start a new network."
            )

    # ------------------------------------------------------------------ fitting
    def _check_sample_weight(self, sample_weight, n: int):
        if sample_weight is None:
            return None
        if isinstance(sample_weight, numbers.Number):
            sample_weight = np.full(n, float(sample_weight))
        return check_sample_weight(np.asarray(sample_weight), n)

    def _fit(self, X, y, sample_weight=None, incremental=False, classes=None):
        self._check_hyperparameters()
        full_batch = is_full_batch(self.optimizer)
        if incremental and full_batch:
            name = self.optimizer if isinstance(self.optimizer, str) else self.optimizer.name
            raise ValueError(f"partial_fit needs a mini-batch optimizer (sgd, momentum or adam); "
                             f"optimizer={name!r} is a full-batch method: use fit")
        continuing = hasattr(self, "network_") and (incremental or self.warm_start)
        streamed = self.shuffle == "blocks" and _is_streamed(X)
        if streamed:  # read block by block in fit: check the shape and dtype, read nothing
            X, y = self._validate_source(X, y, reset=not continuing)
        else:
            X, y = self._validate_Xy(X, y, reset=not continuing)
        n = X.shape[0]
        sample_weight = self._check_sample_weight(sample_weight, n)
        Y, target_attributes = self._encode_targets(y, continuing, classes, incremental, sample_weight)
        spec = self._network_spec(X.shape[1], Y.shape[1], target_attributes.get("_target_type"))

        # everything that can fail on bad hyperparameters runs before any attribute changes
        if continuing:
            self._check_same_network(spec)
            optimizer = self._continued_optimizer()
            if getattr(self, "_rng", None) is None:
                self._rng = _make_rng(self.random_state)
        else:
            optimizer = self._new_optimizer()
            rng = _make_rng(self.random_state)
            self.network_ = self._build_network(spec, rng)
            self._rng = rng
            self.n_iter_ = 0
            self.best_epoch_ = None
            self.network_.history = []
        for name, value in target_attributes.items():
            setattr(self, name, value)
        self.optimizer_ = optimizer
        self.n_outputs_ = Y.shape[1]
        self._set_network_classes()
        names = getattr(self, "feature_names_in_", None)
        self.network_.feature_names = None if names is None else [str(f) for f in names]
        self.out_activation_ = self.network_.activations[-1].name

        # validation split (fit with early_stopping only, as in scikit-learn)
        X_val = Y_val = w_val = None
        X_train, Y_train, w_train = X, Y, sample_weight
        if self.early_stopping and not incremental:
            if streamed:
                raise ValueError("early_stopping holds out rows of X in memory; with shuffle='blocks' on a "
                                 f"{type(X).__name__} source pass early_stopping=False (or X as an array)")
            X_train, Y_train, w_train, X_val, Y_val, w_val = self._split(X, Y, sample_weight)

        epochs = 1 if incremental else _positive_int("epochs", self.epochs)
        m = X_train.shape[0]
        auto = defaults.ESTIMATOR["max_auto_batch"]
        if self.batch_size is None or full_batch:
            batch_size = None  # all the rows (lbfgs and cg ignore batch_size, as in scikit-learn)
        else:
            batch_size = min(auto, m) if self.batch_size == "auto" else min(int(self.batch_size), m)
        recorder = _Recorder(
            self,
            None if X_val is None else self.network_.prepare_inputs(X_val, "validation X"),
            Y_val,
            w_val,
        )
        callbacks = [recorder]
        if self.verbose >= 2:
            callbacks.append(
                _ProgressPrinter(self.n_iter_, epochs, self.patience, bool(self.restore_best))
            )
        elif self.verbose:
            callbacks.append(ProgressBar(desc=type(self).__name__, n_done=self.n_iter_))
        n_done = self.n_iter_
        previous = list(self.network_.history or [])
        history = None
        try:
            history = _train(
                self.network_,
                X_train,
                Y_train,
                epochs=epochs,
                batch_size=batch_size,
                optimizer=optimizer,
                l2=self.l2,
                validation=None if X_val is None else (X_val, Y_val),
                shuffle="blocks" if self.shuffle == "blocks" else bool(self.shuffle),
                block_size=self.block_size,
                seed=self._rng,
                callbacks=callbacks,
                early_stopping=bool(self.early_stopping) and not incremental,
                patience=self.patience,
                restore_best=bool(self.restore_best),
                sample_weight=w_train,
            )
        finally:
            # also after a TrainingDiverged: the curves show the epochs that ran
            new = [dict(r, epoch=n_done + i) for i, r in enumerate(recorder.records, start=1)]
            if history is not None:  # the whole run's History: the records, why it ended, its best epoch
                reason, best = history.stop_reason, None if history.best_epoch is None else n_done + history.best_epoch
            else:  # (training raised: a divergence after the new records, or bad arguments before any)
                reason, best = "diverged" if new else getattr(self.network_.history, "stop_reason", "completed"), None
            self.network_.history = History(previous + new, reason, best)
            self._update_curves()
        if history.best_epoch is not None:
            self.best_epoch_ = n_done + history.best_epoch
        self.stop_reason_ = history.stop_reason
        if not incremental and history.stop_reason in ("completed", "stalled"):
            self._warn_unless_converged(epochs, full_batch and history.stop_reason)
        return self

    def _warn_unless_converged(self, epochs: int, full_batch: str | bool = False):
        """scikit-learn's ConvergenceWarning when all the epochs ran (partial_fit never warns):
        with early stopping, the validation loss was still reaching new lows within ``patience``
        epochs; otherwise the training loss had not gone more than ``patience`` epochs in a row
        without improving by more than ``tol`` (``_still_improving``). deltaprop does not stop
        on the training loss, so the rule is applied to where the run ended. A full-batch method
        (lbfgs, cg) warns whenever it ended without meeting ``tol``, as scikit-learn's lbfgs."""
        if full_batch:
            name = self.optimizer_.name
            if full_batch == "stalled":
                warnings.warn(f"{type(self).__name__}: {name} stopped after {self.n_iter_} iterations without "
                              f"meeting tol={self.tol:g}: its line search could lower the loss no further "
                              "(precision loss); try a larger tol or l2.", ConvergenceWarning, stacklevel=4)
                return
            why = f"{name} had not reached max |gradient| <= tol={self.tol:g}"
        elif self.early_stopping:
            why = f"the validation loss was still improving within patience={self.patience} epochs"
        elif _still_improving(self.loss_curve_, float(self.tol), self.patience):
            why = (
                f"the training loss was still improving by more than tol={self.tol:g} within "
                f"patience={self.patience} epochs"
            )
        else:
            return
        warnings.warn(
            f"{type(self).__name__}: maximum epochs ({epochs}) reached and the optimization "
            f"hasn't converged yet: {why}; increase epochs to train longer.",
            ConvergenceWarning,
            stacklevel=4,
        )

    def _update_curves(self):
        """loss_curve_, validation_loss_curve_, validation_scores_ and n_iter_ from the epoch
        records kept in ``network_.history`` (so they survive a model file)."""
        records = list(self.network_.history or [])
        self.n_iter_ = len(records)
        self.loss_curve_ = [float(r.get("cost", np.nan)) for r in records]
        if any("val_cost" in r for r in records):
            self.validation_loss_curve_ = [float(r.get("val_cost", np.nan)) for r in records]
            self.validation_scores_ = [float(r.get("val_score", np.nan)) for r in records]
        else:
            self.validation_loss_curve_ = None
            self.validation_scores_ = None

    def _validate_source(self, X, y, reset):
        """``_validate_Xy`` for a row-sliceable source X that ``fit`` streams (a memory map, an
        h5py or Zarr array, a Dask array): its shape, dtype and feature count are checked as
        ``validate_data`` checks them, without reading it (``validate_data`` would load it whole)."""
        shape = self._source_shape(X, reset)
        classifier = isinstance(self, ClassifierMixin)
        y = _validate_data(self, y=y, multi_output=True, y_numeric=not classifier)
        if classifier and y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        if len(y) != shape[0]:
            raise ValueError(f"X has {shape[0]} examples but y has {len(y)}; they must match")
        return X, y

    def _source_shape(self, X, reset):
        """A streamed X's shape, checked (2-D, numeric, not empty, ``n_features_in_``) without reading it."""
        shape = tuple(X.shape)
        if len(shape) != 2:
            raise ValueError(f"X must be 2-D (n_samples, n_features), got a {type(X).__name__} of shape {shape}")
        if np.dtype(X.dtype).kind not in "biuf":
            raise ValueError(f"X must be numeric, got a {type(X).__name__} of dtype {X.dtype}")
        if shape[0] < 1 or shape[1] < 1:
            raise ValueError(f"X of shape {shape} is empty; expected at least one example and one feature")
        if reset:
            self.n_features_in_ = shape[1]
            if hasattr(self, "feature_names_in_"):
                del self.feature_names_in_
        elif shape[1] != self.n_features_in_:
            raise ValueError(f"X has {shape[1]} features, but {type(self).__name__} is expecting "
                             f"{self.n_features_in_} features as input.")
        return shape

    def _split(self, X, Y, w):
        stratify = self._stratify_labels(Y)
        seed = int(self._rng.integers(2**31 - 1))
        idx = np.arange(X.shape[0])
        try:
            try:
                tr, va = train_test_split(
                    idx, test_size=self.validation_fraction, random_state=seed, stratify=stratify
                )
            except ValueError:
                if stratify is None:
                    raise
                # too few examples to stratify (fewer validation rows than classes): plain split
                tr, va = train_test_split(idx, test_size=self.validation_fraction, random_state=seed)
        except ValueError as exc:
            raise ValueError(
                f"cannot hold out validation_fraction={self.validation_fraction} of "
                f"{X.shape[0]} examples for early stopping: {exc}"
            ) from None
        pick = lambda a, i: None if a is None else a[i]  # noqa: E731
        return X[tr], Y[tr], pick(w, tr), X[va], Y[va], pick(w, va)

    def _stratify_labels(self, Y):
        return None

    def _set_network_classes(self):
        pass

    # ------------------------------------------------------------------ prediction helpers
    def _z(self, X) -> tuple[np.ndarray, np.dtype]:
        """(z^L in float64, the dtype of the outputs) for raw inputs X. The outputs, computed
        from z^L, are returned in NumPy's promotion of the inputs' dtype and the network's, as
        scikit-learn's MLP returns them: float32 when both are, float64 for float64 inputs
        (which scikit-learn's estimator checks require; other inputs count as float64, as
        ``validate_data`` converts them). A row-sliceable source not in memory (a memory map, an
        h5py or Zarr array, a Dask array) is checked as ``fit`` checks it and read block by block
        (``Network``'s block reader): never loaded whole."""
        check_is_fitted(self, "network_")
        net = self.network_
        if _is_streamed(X):
            self._source_shape(X, reset=False)
            from .sources import Source

            with closing(net._source_blocks(Source(X))) as blocks:
                parts = [_output_z(net, a0) for _, _, a0 in blocks]
            dtype = np.float32 if np.dtype(X.dtype) == np.float32 else np.float64
            return np.concatenate(parts), np.result_type(dtype, net.dtype)
        X = _validate_data(self, X, reset=False, dtype=[np.float64, np.float32])
        return _output_z(net, net.prepare_inputs(X)), np.result_type(X.dtype, net.dtype)

    # ------------------------------------------------------------------ model files
    def save(self, path: str | PathLike[str]) -> Path:
        """Write the fitted network with ``deltaprop.save`` (an .npz plus a JSON header, no pickle).

        The header also holds this estimator's hyperparameters, feature names and best epoch;
        ``load`` reads it back.

        Parameters
        ----------
        path : str or os.PathLike
            The model file to write.

        Returns
        -------
        pathlib.Path
            The path written.
        """
        check_is_fitted(self, "network_")
        meta = {
            "estimator": type(self).__name__,
            "params": _json_params(self.get_params(deep=False)),
            "feature_names_in": (
                [str(f) for f in self.feature_names_in_] if hasattr(self, "feature_names_in_") else None
            ),
            "best_epoch": self.best_epoch_,
        }
        return _save_network(self.network_, path, extra_meta={_HEADER_KEY: meta})

    @classmethod
    def load(cls: type[_Estimator], path: str | PathLike[str]) -> _Estimator:
        """A fitted estimator from a model file, without pickle.

        The file is one written by ``est.save(path)`` or ``deltaprop.save(est.network_, path)``,
        or any deltaprop model file of the right kind: hyperparameters not stored in the file
        are inferred from the network or take their defaults. The optimizer's state is not in a
        model file: a warm start after ``load`` starts a fresh optimizer (pickle keeps it).

        Parameters
        ----------
        path : str or os.PathLike
            The model file.

        Returns
        -------
        MLPClassifier or MLPRegressor
            A fitted estimator of this class.
        """
        net = _load_network(path)
        meta = _read_header(path).get(_HEADER_KEY)
        params, feature_names, best_epoch = {}, None, None
        if isinstance(meta, dict):
            kind = meta.get("estimator")
            if kind is not None and kind != cls.__name__:
                raise ValueError(f"{path} holds a {kind}, not a {cls.__name__}; use {kind}.load")
            params = dict(meta.get("params") or {})
            opt = params.get("optimizer")
            if isinstance(opt, dict):
                opt = dict(opt)
                name = opt.pop("optimizer", None)
                if name in {**OPTIMIZERS, **FULL_BATCH}:
                    params["optimizer"] = {**OPTIMIZERS, **FULL_BATCH}[name](**opt)
                else:
                    del params["optimizer"]
            if isinstance(params.get("hidden_layer_sizes"), list):
                params["hidden_layer_sizes"] = tuple(params["hidden_layer_sizes"])
            valid = cls._get_param_names()
            params = {k: v for k, v in params.items() if k in valid}
            feature_names = meta.get("feature_names_in")
            best_epoch = meta.get("best_epoch")
        est = cls.from_network(net, copy=False, **params)
        if feature_names is not None:
            est.feature_names_in_ = np.asarray(feature_names, dtype=object)
        if best_epoch is not None:
            est.best_epoch_ = int(best_epoch)
        return est

    @classmethod
    def from_network(cls: type[_Estimator], network: Network, copy: bool = True, **params: Any) -> _Estimator:
        """A fitted estimator around a trained ``deltaprop.Network``.

        For ``deltaprop.load(path)``, ``deltaprop train``'s model or ``est.network_``. The
        architecture hyperparameters (``hidden_layer_sizes``, ``activation``, ``output``,
        ``cost``, ``dtype``) are read from the network; its ``preprocessing``, if any, is
        applied to the inputs as ``Network.predict`` does.

        Parameters
        ----------
        network : deltaprop.Network
            The trained network.
        copy : bool, default=True
            Wrap a copy of the network (False: the network itself).
        **params
            The other hyperparameters (``epochs``, ``learning_rate``, ...) for later warm
            starts; architecture ones must describe this very network.

        Returns
        -------
        MLPClassifier or MLPRegressor
            A fitted estimator of this class.
        """
        if not isinstance(network, Network):
            raise ValueError(f"from_network needs a deltaprop Network, got {type(network).__name__}")
        net = network.copy() if copy else network
        est = cls(**{**cls._params_from_network(net), **params})
        est._adopt(net)
        # hyperparameters given here must describe this very network
        spec = est._network_spec(net.sizes[0], net.sizes[-1], getattr(est, "_target_type", None))
        est._check_same_network(spec)
        return est

    @classmethod
    def _params_from_network(cls, net: Network) -> dict:
        cfg = net.config()
        hidden = cfg["activations"][:-1]

        def spec(conf):
            plain = get_activation(conf["name"]).config()
            return conf["name"] if conf == plain else dict(conf)

        if not hidden:
            activation = "relu"
        elif all(h == hidden[0] for h in hidden):
            activation = spec(hidden[0])
        else:
            activation = [spec(h) for h in hidden]
        return {
            "hidden_layer_sizes": tuple(net.sizes[1:-1]),
            "activation": activation,
            "output": spec(cfg["activations"][-1]),
            "cost": cfg["cost"],
            "dtype": cfg["dtype"],
        }

    def _adopt(self, net: Network):
        self.network_ = net
        self.n_features_in_ = net.sizes[0]
        self.out_activation_ = net.activations[-1].name
        self.n_outputs_ = net.sizes[-1]
        self.network_.history = list(net.history or [])
        self._update_curves()
        vals = self.validation_loss_curve_
        self.best_epoch_ = None
        if vals is not None and not np.all(np.isnan(vals)):
            self.best_epoch_ = int(np.nanargmin(vals)) + 1
        self.stop_reason_ = None

    # ------------------------------------------------------------------ pickling
    def __setstate__(self, state):
        super().__setstate__(state)
        # Fresh, writable, aligned arrays (joblib may hand back read-only memory maps).
        if isinstance(self.__dict__.get("network_"), Network):
            self.network_ = self.network_.copy()
        opt = self.__dict__.get("optimizer_")
        if isinstance(opt, Optimizer):
            opt.load_state_dict({k: np.array(v, copy=True) for k, v in opt.state_dict().items()})


class MLPClassifier(ClassifierMixin, _BaseMLP):
    """A feed-forward network classifier trained by backpropagation (deltaprop's engine).

    Binary, multi-class and multi-label (y an indicator matrix) classification.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Neurons per hidden layer; ``()`` for none (logistic / softmax regression).
    activation : str, dict or list, default="relu"
        Hidden activation: "sigmoid", "tanh", "relu", "leaky_relu", "identity", a config such
        as ``{"name": "leaky_relu", "slope": 0.1}``, or a list with one per hidden layer.
    output : {"sigmoid", "softmax"} or None, default=None
        Output activation; None chooses a single sigmoid for binary problems, softmax for
        multi-class and one sigmoid per label for multi-label.
    cost : str or None, default=None
        "cross_entropy" (softmax), "binary_cross_entropy" (sigmoid), "quadratic" or
        "half_quadratic" (½ of the quadratic); None chooses the cross-entropy that matches the
        output.
    init : str or None, default=None
        Weight initialiser ("nielsen", "glorot", "he", "ng"); None: He for ReLU-family hidden
        layers, Nielsen's N(0, 1/n_in) otherwise.
    optimizer : {"adam", "sgd", "momentum", "lbfgs", "cg"} or deltaprop.optimizers.Optimizer, default="adam"
        An instance is a template (e.g. ``Momentum(0.05, momentum=0.95)``): fit uses a copy.
        "lbfgs" and "cg" (Polak–Ribière conjugate gradient) are full-batch methods
        (``deltaprop.fullbatch``): each epoch is one iteration over all the rows, stopping once
        max |∂J/∂θ| ≤ ``tol``; they take no learning_rate, ignore batch_size and have no
        partial_fit.
    learning_rate : float or None, default=None
        α; None: the optimizer's default (``deltaprop.defaults.LEARNING_RATE``: 0.001 for Adam,
        0.1 for SGD, 0.05 for momentum).
    batch_size : int, "auto" or None, default="auto"
        Examples per mini-batch; "auto" is min(200, n_samples), as in scikit-learn; None: all
        of them (full-batch gradient descent, one step per epoch).
    epochs : int, default=200
        Passes over the training data per ``fit`` (``partial_fit`` makes one).
    l2 : float, default=0.0
        λ of the whole training set's cost, J = (1/n) Σ C_x + λ/(2n) Σ‖W‖².
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the training data (stratified) and stop once the
        validation loss has not improved for ``patience`` epochs.
    validation_fraction : float, default=0.1
        The fraction of the training data held out for early stopping.
    patience : int, default=10
        Epochs without a lower validation loss before early stopping ends the fit; also
        scikit-learn's ``n_iter_no_change`` in the convergence rule (see ``tol``).
    tol : float, default=1e-4
        scikit-learn's convergence tolerance: a ``fit`` that runs all its epochs warns
        (``sklearn.exceptions.ConvergenceWarning``) unless the training loss went more than
        ``patience`` epochs in a row without improving by more than ``tol``; with early
        stopping, unless early stopping ended it. deltaprop never stops on the training loss.
        With optimizer "lbfgs" or "cg" it is the gradient tolerance instead: stop once
        max |∂J/∂θ| ≤ tol (scipy's ``gtol``, as scikit-learn's lbfgs), warn if it was not met.
    restore_best : bool, default=True
        With early stopping, end with the weights of the best validation epoch.
    shuffle : bool or "blocks", default=True
        Shuffle the examples every epoch. "blocks": ``fit`` reads X block by block — a memory
        map, an h5py or Zarr array, a Dask array, never loaded whole (only its shape and dtype
        are checked) — visiting the blocks in a random order and the rows of each in a random
        order (``deltaprop.sources``); every source gives the same weights from one seed.
        Early stopping needs X in memory.
    block_size : int or None, default=None
        Rows per block for ``shuffle="blocks"`` (default: ``sources.default_block_size``, 16 MiB
        of float32 inputs).
    random_state : None, int, numpy.random.Generator or numpy.random.RandomState, default=None
        The weights, the validation split and the shuffles (see the module docstring).
    dtype : {"float64", "float32"}, default="float64"
        The dtype the network trains and predicts in. ``predict_proba``, ``predict_log_proba``
        and ``MLPRegressor.predict`` return float32 when it and X are float32, float64 otherwise
        (NumPy's promotion, as scikit-learn's MLP).
    verbose : int, default=0
        0 is quiet; 1 shows one live progress bar per fit (``deltaprop.progress.ProgressBar``,
        through ``tqdm.auto``: it updates in place in a terminal and in Jupyter); 2 or more
        prints one line per epoch (loss, validation loss and score, time).
    warm_start : bool, default=False
        ``fit`` continues the existing network and optimizer state instead of starting anew.

    Attributes
    ----------
    network_ : deltaprop.Network
        The trained network (``deltaprop.save(est.network_, path)`` saves it).
    classes_ : ndarray
        Class labels (for multi-label: 0 .. n_labels − 1).
    n_features_in_ : int;  feature_names_in_ : ndarray (when fitted on a DataFrame)
    n_outputs_ : int;  out_activation_ : str
    loss_curve_ : list of float
        Training cost of every epoch (mean mini-batch cost, L2 term included), across warm
        starts and partial_fit calls.
    validation_loss_curve_, validation_scores_ : list of float or None
        Validation cost and accuracy per epoch (NaN for epochs without a validation split);
        None when no epoch had one.
    n_iter_ : int
        Epochs trained since the network was created (= len(loss_curve_)).
    best_epoch_ : int or None
        The epoch (counted like n_iter_) with the lowest validation loss in the last fit.
    stop_reason_ : str
        "completed", "early_stopping" or "diverged" for the last fit.
    optimizer_ : deltaprop.optimizers.Optimizer
        The optimizer with its state (kept by warm_start, partial_fit and pickle).

    Raises
    ------
    UnknownParameterError
        (a ``TypeError``) for a keyword argument that is not a parameter, naming it and, for
        scikit-learn's MLP names, what to use instead (``max_iter`` -> ``epochs``, ``alpha`` ->
        ``l2``, ``learning_rate_init`` -> ``learning_rate``, ``solver`` -> ``optimizer``,
        ``n_iter_no_change`` -> ``patience``).

    See Also
    --------
    MLPRegressor : the regressor on the same engine.
    sklearn.neural_network.MLPClassifier : scikit-learn's own, whose defaults these follow.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from deltaprop import MLPClassifier
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = MLPClassifier(hidden_layer_sizes=(32,), epochs=30, random_state=0).fit(X / 16, y)
    >>> clf.predict(X[:3] / 16)
    array([0, 1, 2])
    """

    # ------------------------------------------------------------------ tags
    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_label = True
        return tags

    def _more_tags(self):  # pragma: no cover - scikit-learn < 1.6
        return {"multilabel": True}

    # ------------------------------------------------------------------ public API
    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> MLPClassifier:
        """Train the network for ``epochs`` epochs (fewer with early stopping).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 label indicator matrix for multi-label classification.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            The weight of each example's cost.

        Returns
        -------
        self : MLPClassifier
            The fitted estimator.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When all the epochs ran and training had not converged (see ``tol``).
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def partial_fit(
        self,
        X: ArrayLike,
        y: ArrayLike,
        sample_weight: ArrayLike | None = None,
        classes: ArrayLike | None = None,
    ) -> MLPClassifier:
        """One epoch over (X, y), continuing the network and the optimizer's state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or a 0/1 label indicator matrix.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            The weight of each example's cost.
        classes : array-like of shape (n_classes,) or None, default=None
            Every label that will ever occur; required on the first call unless y is a
            label indicator matrix.

        Returns
        -------
        self : MLPClassifier
            The estimator (never a ConvergenceWarning, as in scikit-learn).
        """
        if not hasattr(self, "network_"):
            if classes is None and not self._is_indicator(y):
                raise ValueError(
                    "classes must be passed on the first call to partial_fit: every class "
                    "label that will occur, e.g. classes=np.unique(y_all)"
                )
        elif classes is not None and self._target_type != "multilabel-indicator":
            if not np.array_equal(unique_labels(classes), self.classes_):
                raise ValueError(
                    f"classes={list(classes)!r} is not the same as on the first call to "
                    f"partial_fit, which was {list(self.classes_)!r}"
                )
        return self._fit(X, y, sample_weight=sample_weight, incremental=True, classes=classes)

    def predict_proba(self, X: ArrayLike) -> np.ndarray:
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            The probability of each class (for multi-label, of each label); float32 when X and
            the network (``dtype="float32"``) are, as in scikit-learn.
        """
        z, dtype = self._z(X)
        return self._proba_from_z(z).astype(dtype, copy=False)

    def predict_log_proba(self, X: ArrayLike) -> np.ndarray:
        """The log of ``predict_proba``, computed from z^L (finite where a probability rounds to 0).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples, n_classes) or (n_samples, n_labels)
            Log-probabilities, in the dtype of ``predict_proba``.
        """
        z, dtype = self._z(X)
        out = self.network_.activations[-1].name
        if self._target_type == "multilabel-indicator":
            log_p = Sigmoid.log_value(z)
        elif out == "softmax":
            log_p = Softmax.log_value(z)
        elif z.shape[1] == 1:
            log_p = np.hstack([Sigmoid.log_complement(z), Sigmoid.log_value(z)])
        else:
            with np.errstate(divide="ignore"):
                log_p = np.log(self._proba_from_z(z))
        return log_p.astype(dtype, copy=False)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted classes.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_labels)
            Class labels, or the 0/1 indicator matrix for multi-label.
        """
        proba = self.predict_proba(X)
        if self._target_type == "multilabel-indicator":
            return (proba > 0.5).astype(self.classes_.dtype)
        return self.classes_[np.argmax(proba, axis=1)]

    # ------------------------------------------------------------------ internals
    def _proba_from_z(self, z):
        out = self.network_.activations[-1].name
        if self._target_type == "multilabel-indicator":
            return _sigmoid(z)
        if out == "softmax":
            return np.exp(Softmax.log_value(z))
        if z.shape[1] == 1:
            return np.hstack([_sigmoid(-z), _sigmoid(z)])
        p = _sigmoid(z)  # one sigmoid per class (one-vs-rest): normalised
        return p / p.sum(axis=1, keepdims=True)

    @staticmethod
    def _is_indicator(y):
        return type_of_target(y) == "multilabel-indicator"

    def _validate_Xy(self, X, y, reset):
        X, y = _validate_data(
            self, X, y, reset=reset, dtype=[np.float64, np.float32], multi_output=True
        )
        if y.ndim == 2 and y.shape[1] == 1:
            y = column_or_1d(y, warn=True)
        return X, y

    def _head(self, target_type):
        """(output activation, cost) for the task: ``deltaprop.targets.head``, the rule the CLI
        uses too (see the class docstring)."""
        output = self.output
        if output is not None and output not in ("sigmoid", "softmax"):
            raise ValueError(
                f"MLPClassifier's output must be 'sigmoid', 'softmax' or None (automatic), got "
                f"{output!r}; for other output activations use MLPRegressor"
            )
        cost = None if self.cost is None else get_cost(self.cost).name
        if target_type == "multilabel-indicator":
            return targets.head("multilabel", None, output, cost)
        return targets.head("classification", 2 if target_type == "binary" else None, output, cost)

    def _encode_targets(self, y, continuing, classes, incremental, sample_weight):
        """(Y, attributes): targets as network rows, and the target attributes (classes_, the
        target type) that ``_fit`` sets once nothing else can fail."""
        if continuing:
            labels = self.classes_
            if self._target_type == "multilabel-indicator":
                if not self._is_indicator(y) or y.shape[1] != len(self.classes_):
                    raise ValueError(
                        f"y must be a label indicator matrix with {len(self.classes_)} columns, "
                        "as in the earlier fit"
                    )
                target_type = self._target_type
            else:
                check_classification_targets(y)
                if self._is_indicator(y) or y.ndim != 1:
                    raise ValueError("y must be class labels (n_samples,), as in the earlier fit")
                target_type = self._target_type
        else:
            if np.asarray(y).dtype == object and np.ndim(y) == 1:
                targets.as_labels(y)  # names a missing label (None, NaN) by its index
            check_classification_targets(y)
            target_type = type_of_target(y)
            if target_type == "multilabel-indicator":
                labels = np.arange(y.shape[1])
            elif target_type in ("binary", "multiclass"):
                given = y if classes is None else classes
                unique_labels(given)  # scikit-learn's checks of mixed label types, with its messages
                labels = targets.classes_of(given)
                if classes is not None:
                    self._label_indices(labels, y)  # every label of y must be in classes
                if len(labels) < 2:
                    raise ValueError(
                        "MLPClassifier needs examples of at least 2 classes in y; got 1 class: "
                        f"{np.asarray(labels)[0].item()!r}"
                    )
                target_type = "binary" if len(labels) == 2 else "multiclass"
            else:
                raise ValueError(
                    f"MLPClassifier supports binary, multi-class and multi-label (indicator "
                    f"matrix) targets, got {target_type!r} targets"
                )

        output, _ = self._head(target_type)
        if target_type == "multilabel-indicator":
            Y = np.asarray(y, dtype=np.float64)
        else:
            index = self._label_indices(labels, y)
            if not (continuing or incremental) and sample_weight is not None:
                weighted = np.bincount(index, weights=sample_weight, minlength=len(labels))
                if np.count_nonzero(weighted > 0) < 2:
                    raise ValueError(
                        "MLPClassifier needs examples of at least 2 classes with non-zero "
                        f"sample_weight; only class {labels[int(np.argmax(weighted))]!r} has any weight"
                    )
            n_out = targets.n_outputs("classification", len(labels), output)
            Y = targets.target_rows(index, n_out)
        return Y, {"classes_": labels, "_target_type": target_type}

    @staticmethod
    def _label_indices(classes, y):
        """Index of each label of y in ``classes`` (exact: ``deltaprop.targets.encode``)."""
        try:
            return targets.encode(y, classes)[1]
        except targets.TargetError as exc:
            raise ValueError(f"{exc} known to this MLPClassifier") from None

    def _set_network_classes(self):
        # The network knows its labels (saved in model files, used by Network.predict and the
        # CLI); a multi-label network has none: its outputs are independent probabilities.
        self.network_.classes_ = (
            None if self._target_type == "multilabel-indicator" else np.asarray(self.classes_)
        )

    def _stratify_labels(self, Y):
        if self._target_type == "multilabel-indicator":
            return None
        labels = targets.predicted_index(Y)  # the class of each target row
        counts = np.bincount(labels)
        return labels if counts[counts > 0].min() >= 2 else None

    def _score_prepared(self, net, X, Y, w):
        """Validation accuracy (subset accuracy for multi-label) on prepared X, encoded Y."""
        if w is not None and not w.sum() > 0:
            return np.nan
        proba = self._proba_from_z(_output_z(net, X))
        if self._target_type == "multilabel-indicator":
            return accuracy_score(Y > 0.5, proba > 0.5, sample_weight=w)
        truth = targets.predicted_index(Y)
        return accuracy_score(truth, proba.argmax(axis=1), sample_weight=w)

    def _adopt(self, net):
        out = net.activations[-1].name
        if out not in ("sigmoid", "softmax"):
            raise ValueError(
                f"this network's output layer is {out!r}, not a classifier's (sigmoid or "
                "softmax); use MLPRegressor.from_network"
            )
        n_out = net.sizes[-1]
        if net.classes_ is None:
            if out != "sigmoid":
                raise ValueError(
                    "this softmax network has no classes_; set network.classes_ to its labels "
                    "before MLPClassifier.from_network"
                )
            self._target_type = "multilabel-indicator"
            self.classes_ = np.arange(n_out)
        else:
            classes = np.asarray(net.classes_)
            if len(classes) != (2 if n_out == 1 else n_out):
                raise ValueError(
                    f"the network has {n_out} output(s) but {len(classes)} classes_ {list(classes)!r}"
                )
            self.classes_ = classes
            self._target_type = "binary" if len(classes) == 2 else "multiclass"
        super()._adopt(net)


class MLPRegressor(RegressorMixin, _BaseMLP):
    """A feed-forward network regressor trained by backpropagation (deltaprop's engine).

    Single- and multi-output regression (y of shape (n_samples,) or (n_samples, n_targets)).

    The parameters are those of ``MLPClassifier`` except:

    output : str or None, default=None
        Output activation; None is "identity" (a linear output). Any of the engine's
        activations works, e.g. "sigmoid" for targets in (0, 1).
    cost : str or None, default=None
        None is "quadratic", C = (1/m) Σ_x Σ_j (a_j − y_j)²; "half_quadratic" is
        C = (1/m) Σ_x ½ Σ_j (a_j − y_j)², ∂C_x/∂a = a − y.

    Attributes are those of ``MLPClassifier`` without ``classes_``; ``validation_scores_``
    holds the validation R² of every epoch.

    See Also
    --------
    MLPClassifier : the classifier, with every parameter described.
    sklearn.neural_network.MLPRegressor : scikit-learn's own.
    """

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _more_tags(self):  # pragma: no cover - scikit-learn < 1.6
        return {"multioutput": True}

    def fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> MLPRegressor:
        """Train the network for ``epochs`` epochs (fewer with early stopping).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The targets.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            The weight of each example's cost.

        Returns
        -------
        self : MLPRegressor
            The fitted estimator.

        Warns
        -----
        sklearn.exceptions.ConvergenceWarning
            When all the epochs ran and training had not converged (see ``tol``).
        """
        return self._fit(X, y, sample_weight=sample_weight)

    def partial_fit(self, X: ArrayLike, y: ArrayLike, sample_weight: ArrayLike | None = None) -> MLPRegressor:
        """One epoch over (X, y), continuing the network and the optimizer's state.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            The targets.
        sample_weight : array-like of shape (n_samples,) or None, default=None
            The weight of each example's cost.

        Returns
        -------
        self : MLPRegressor
            The estimator (never a ConvergenceWarning, as in scikit-learn).
        """
        return self._fit(X, y, sample_weight=sample_weight, incremental=True)

    def predict(self, X: ArrayLike) -> np.ndarray:
        """Predicted targets.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            (n_samples,) for one output; float32 when X and the network
            (``dtype="float32"``) are, as in scikit-learn.
        """
        z, dtype = self._z(X)
        out = self.network_.activations[-1].value(z).astype(dtype, copy=False)
        return out.ravel() if out.shape[1] == 1 else out

    def _validate_Xy(self, X, y, reset):
        return _validate_data(
            self, X, y, reset=reset, dtype=[np.float64, np.float32], multi_output=True, y_numeric=True
        )

    def _encode_targets(self, y, continuing, classes, incremental, sample_weight):
        Y = np.asarray(y, dtype=np.float64)
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)
        if continuing and Y.shape[1] != self.network_.sizes[-1]:
            raise ValueError(
                f"y has {Y.shape[1]} target column(s) but the network was trained with "
                f"{self.network_.sizes[-1]}"
            )
        return Y, {}

    def _head(self, target_type=None):
        """(output activation, cost): identity and quadratic unless chosen."""
        output = "identity" if self.output is None else self.output
        cost = "quadratic" if self.cost is None else self.cost
        return output, cost

    def _score_prepared(self, net, X, Y, w):
        if X.shape[0] < 2 or (w is not None and not w.sum() > 0):
            return np.nan  # R² needs two examples with weight
        pred = net.activations[-1].value(_output_z(net, X))
        return r2_score(Y, pred, sample_weight=w)

    def _adopt(self, net):
        if net.classes_ is not None:
            raise ValueError(
                "this network is a classifier (it has classes_); use MLPClassifier.from_network"
            )
        super()._adopt(net)
