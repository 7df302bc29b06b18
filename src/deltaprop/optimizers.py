"""Optimizers: the only place where parameters change.

Each optimizer updates a list of parameter arrays in place from their gradients ∂C/∂θ:

* ``SGD``       θ ← θ − α ∂C/∂θ                               (the seeds' gradient descent)
* ``Momentum``  v ← μ v − α ∂C/∂θ;  θ ← θ + v                   (classical momentum)
* ``Adam``      m ← β₁ m + (1 − β₁) g;  v ← β₂ v + (1 − β₂) g²;
                θ ← θ − α m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ), v̂ = v / (1 − β₂ᵗ)   (Kingma & Ba 2015)

The parameter list is [W^1, b^1, W^2, b^2, ...]; state arrays follow the same order, so
``state_dict()`` / ``load_state_dict()`` round-trip through a checkpoint file exactly.

Two full-batch methods take no steps of their own: ``LBFGS`` and ``CG`` (Polak–Ribière
nonlinear conjugate gradient, as Ng's ``fmincg``) name how ``deltaprop.fullbatch`` minimises the
whole training set's cost J(θ) over the flat parameter vector with ``scipy.optimize.minimize``;
their line search picks the step, so they have no learning rate, only a tolerance ``tol``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray

from . import defaults

__all__ = ["Optimizer", "SGD", "Momentum", "Adam", "FullBatch", "LBFGS", "CG", "OPTIMIZERS", "FULL_BATCH",
           "get_optimizer", "is_full_batch"]


def _check_positive(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a positive number, got {value!r}") from None
    if not (np.isfinite(value) and value > 0):
        raise ValueError(f"{name} must be a positive number, got {value!r}")
    return value


def _check_fraction(name: str, value) -> float:
    try:
        value = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if not (0.0 <= value < 1.0):
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return value


class Optimizer:
    """Base class: ``step(params, grads)`` changes ``params`` in place."""

    name = "optimizer"

    def __init__(self, learning_rate: float):
        self.learning_rate = _check_positive("learning_rate", learning_rate)
        self.t = 0  # steps taken

    def step(self, params: Sequence[NDArray], grads: Sequence[NDArray]) -> None:
        """One update of every array of ``params`` (in place) from its gradient in ``grads``."""
        self.t += 1
        self._update(params, grads)

    def _update(self, params: Sequence[NDArray], grads: Sequence[NDArray]) -> None:
        raise NotImplementedError

    def hyperparameters(self) -> dict[str, float]:
        """The constructor's arguments, by name."""
        return {"learning_rate": self.learning_rate}

    def state_dict(self) -> dict[str, NDArray]:
        """Arrays of the optimizer's state (for checkpoints), keyed by name."""
        return {"t": np.array(self.t, dtype=np.int64)}

    def load_state_dict(self, state: Mapping[str, ArrayLike]) -> None:
        """Restore what ``state_dict`` returned (a checkpoint's arrays)."""
        self.t = int(state["t"]) if "t" in state else 0

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.hyperparameters().items())
        return f"{type(self).__name__}({args})"


class SGD(Optimizer):
    """θ ← θ − α ∂C/∂θ."""

    name = "sgd"

    def _update(self, params: Sequence[NDArray], grads: Sequence[NDArray]) -> None:
        for theta, grad in zip(params, grads):
            theta -= self.learning_rate * grad


class _Stateful(Optimizer):
    """An optimizer that keeps one or more arrays per parameter, created on the first step."""

    slots: tuple[str, ...] = ()

    def __init__(self, learning_rate: float):
        super().__init__(learning_rate)
        self.state = {slot: None for slot in self.slots}

    def _ensure_state(self, params: Sequence[NDArray]) -> None:
        for slot in self.slots:
            if self.state[slot] is None:
                self.state[slot] = [np.zeros_like(p) for p in params]

    def state_dict(self) -> dict[str, NDArray]:
        out = super().state_dict()
        for slot in self.slots:
            for i, arr in enumerate(self.state[slot] or []):
                out[f"{slot}{i}"] = arr
        return out

    def load_state_dict(self, state: Mapping[str, ArrayLike]) -> None:
        super().load_state_dict(state)
        for slot in self.slots:
            keys = sorted((k for k in state if k.startswith(slot) and k[len(slot):].isdigit()),
                          key=lambda k: int(k[len(slot):]))
            self.state[slot] = [np.array(state[k], copy=True) for k in keys] or None


class Momentum(_Stateful):
    """v ← μ v − α ∂C/∂θ;  θ ← θ + v  (μ = ``momentum``)."""

    name = "momentum"
    slots = ("velocity",)

    def __init__(self, learning_rate: float, momentum: float = 0.9):
        super().__init__(learning_rate)
        self.momentum = _check_fraction("momentum", momentum)

    def hyperparameters(self) -> dict[str, float]:
        return {"learning_rate": self.learning_rate, "momentum": self.momentum}

    def _update(self, params: Sequence[NDArray], grads: Sequence[NDArray]) -> None:
        self._ensure_state(params)
        for theta, grad, v in zip(params, grads, self.state["velocity"]):
            v *= self.momentum
            v -= self.learning_rate * grad
            theta += v


class Adam(_Stateful):
    """Adam with bias correction (module docstring); defaults β₁ = 0.9, β₂ = 0.999, ε = 1e-8."""

    name = "adam"
    slots = ("m", "v")

    def __init__(self, learning_rate: float, beta1: float = 0.9, beta2: float = 0.999, epsilon: float = 1e-8):
        super().__init__(learning_rate)
        self.beta1 = _check_fraction("beta1", beta1)
        self.beta2 = _check_fraction("beta2", beta2)
        self.epsilon = _check_positive("epsilon", epsilon)

    def hyperparameters(self) -> dict[str, float]:
        return {
            "learning_rate": self.learning_rate,
            "beta1": self.beta1,
            "beta2": self.beta2,
            "epsilon": self.epsilon,
        }

    def corrected_rates(self, t: int) -> tuple[float, float]:
        """The bias correction folded into two numbers for step t (t = 1, 2, ...):
        θ − α m̂/(√v̂ + ε) = θ − α̂ m/(√v + ε̂) with α̂ = α √(1 − β₂ᵗ)/(1 − β₁ᵗ), ε̂ = ε √(1 − β₂ᵗ).
        Python floats (math.sqrt), so float32 parameters stay float32 in the products."""
        root = math.sqrt(1 - self.beta2**t)
        return self.learning_rate * root / (1 - self.beta1**t), self.epsilon * root

    def _update(self, params: Sequence[NDArray], grads: Sequence[NDArray]) -> None:
        self._ensure_state(params)
        b1, b2 = self.beta1, self.beta2
        step, eps_hat = self.corrected_rates(self.t)
        for theta, g, m, v in zip(params, grads, self.state["m"], self.state["v"]):
            m *= b1
            m += (1 - b1) * g
            v *= b2
            v += (1 - b2) * (g * g)
            theta -= step * m / (np.sqrt(v) + eps_hat)  # α̂ m/(√v + ε̂) (corrected_rates)


class FullBatch(Optimizer):
    """A full-batch method (``deltaprop.fullbatch``): ``scipy.optimize.minimize(method=scipy_method)``
    on J(θ) over all the training rows, one iteration per epoch. ``tol`` stops it once the largest
    |∂J/∂θ_i| is at most ``tol`` (scipy's ``gtol``, the same ∞-norm for both methods). ``t``
    counts the iterations; nothing else is kept: the method's memory (L-BFGS's curvature pairs,
    CG's search direction) lives only inside one ``minimize`` call."""

    scipy_method = ""
    learning_rate = None  # the line search picks the step

    def __init__(self, tol: float = 1e-5):
        self.tol = _check_positive("tol", tol)
        self.t = 0

    def _update(self, params: Sequence[NDArray], grads: Sequence[NDArray]) -> None:
        raise TypeError(f"optimizer {self.name!r} is a full-batch method: it has no step, fit() runs it")

    def hyperparameters(self) -> dict[str, float]:
        return {"tol": self.tol}


class LBFGS(FullBatch):
    """Limited-memory BFGS (scipy's ``L-BFGS-B`` without bounds), as scikit-learn's ``solver="lbfgs"``."""

    name = "lbfgs"
    scipy_method = "L-BFGS-B"


class CG(FullBatch):
    """Polak–Ribière nonlinear conjugate gradient (scipy's ``CG``), as Ng's ``fmincg``."""

    name = "cg"
    scipy_method = "CG"


OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adam": Adam}
#: The full-batch methods, by name (``deltaprop.fullbatch``).
FULL_BATCH = {"lbfgs": LBFGS, "cg": CG}


def is_full_batch(spec: str | Optimizer) -> bool:
    """Whether an optimizer (a name, any case, or an instance) is a full-batch method."""
    return isinstance(spec, FullBatch) or (isinstance(spec, str) and spec.lower() in FULL_BATCH)


def get_optimizer(spec: str | Optimizer, learning_rate: float | None = None, **kwargs: float) -> Optimizer:
    """The optimizer that ``spec`` names.

    Parameters
    ----------
    spec : str or Optimizer
        "sgd", "momentum", "adam", or the full-batch "lbfgs" or "cg", any case; an instance is
        returned as it is (and the other arguments are ignored).
    learning_rate : float, optional
        The step size α; None: the optimizer's default (``defaults.learning_rate``).
    **kwargs : float
        The optimizer's other hyperparameters: ``momentum`` (Momentum); ``beta1``, ``beta2``,
        ``epsilon`` (Adam); ``tol`` (LBFGS, CG).

    Returns
    -------
    Optimizer

    Raises
    ------
    ValueError
        For an unknown name, a hyperparameter out of its range, or a learning rate for a
        full-batch method.
    """
    if isinstance(spec, Optimizer):
        return spec
    if isinstance(spec, str) and spec.lower() in FULL_BATCH:
        if learning_rate is not None:
            raise ValueError(f"optimizer {spec.lower()!r} takes no learning_rate (its line search picks the step, "
                             f"got {learning_rate!r}); leave it unset, or use sgd, momentum or adam")
        return FULL_BATCH[spec.lower()](**kwargs)
    if not isinstance(spec, str) or spec.lower() not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {spec!r}; expected one of: sgd, momentum, adam, lbfgs, cg")
    if learning_rate is None:
        learning_rate = defaults.learning_rate(spec)  # the one table of default step sizes
    return OPTIMIZERS[spec.lower()](learning_rate, **kwargs)
