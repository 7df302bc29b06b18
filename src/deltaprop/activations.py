"""Activation functions g, each with its derivative g' beside it.

An activation maps the weighted input of a layer to its activation, a = g(z), elementwise
(softmax excepted). Every class keeps the two formulas next to each other:

    value(z)          a = g(z)
    derivative(z, a)  g'(z), given z and the already computed a = g(z)

The derivative receives ``a`` so that it can reuse it where the formula allows, as the
courses write it: σ'(z) = σ(z)(1 − σ(z)) = a(1 − a) and tanh'(z) = 1 − a².

``backprop(z, a, grad_a)`` turns ∂C/∂a into ∂C/∂z. For the elementwise activations this is
the Hadamard product ∂C/∂a ⊙ g'(z) that appears in the backpropagation equations; softmax,
whose output j depends on every z_k, overrides it with the product by its Jacobian.

Arrays are batches: z and a have shape (m, n), one row per example.

Each class also carries what the rest of the library needs to know about it, so that adding an
activation is a change to this file only:

    derivative_formula()        g'(z) for display, (plain text, LaTeX), in terms of z and a
    Kernel                      the fast training step's in-place kernel (protocol in
                                ``kernels``); ``fast_kernel(constants)`` builds it
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from numpy.typing import NDArray
from scipy.special import expit

from . import kernels
from .kernels import _add, _greater, _maximum, _multiply, _subtract, _tanh

__all__ = [
    "Activation",
    "Sigmoid",
    "Tanh",
    "ReLU",
    "LeakyReLU",
    "Identity",
    "Softmax",
    "ACTIVATIONS",
    "get_activation",
]


class Activation:
    """Base class: subclasses define ``value`` and ``derivative`` (and, for the fast step, a
    nested ``Kernel``; without one the step calls ``value`` and ``backprop``)."""

    name = "activation"
    #: False for activations that only make sense on the output layer (softmax).
    hidden_ok = True

    def value(self, z: NDArray) -> NDArray:
        raise NotImplementedError

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        raise NotImplementedError

    def backprop(self, z: NDArray, a: NDArray, grad_a: NDArray) -> NDArray:
        """∂C/∂z = ∂C/∂a ⊙ g'(z), shapes (m, n)."""
        return grad_a * self.derivative(z, a)

    def derivative_formula(self) -> tuple[str, str]:
        """g'(z) for display as (plain text, LaTeX), in terms of z and a = g(z)."""
        return ("g'(z)", "g'(z)")

    def fast_kernel(self, constants: kernels.Constants) -> kernels.Kernel | None:
        """The fast step's in-place kernel (``kernels``) for this activation, built for the
        ``kernels.Constants`` of the network's dtype; None where the class defines no ``Kernel``
        itself. A subclass does not inherit its parent's kernel, because it may have changed
        the math the kernel hard-codes."""
        kernel = vars(type(self)).get("Kernel")
        return None if kernel is None else kernel(self, constants)

    def config(self) -> dict[str, Any]:
        """The JSON-able description that ``get_activation`` turns back into this object."""
        return {"name": self.name}

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Activation) and self.config() == other.config()

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.config().items())))

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


class Sigmoid(Activation):
    """σ(z) = 1 / (1 + e^(−z)),  σ'(z) = σ(z)(1 − σ(z)) = a(1 − a).

    Computed with SciPy's ``expit``, which never overflows and keeps full relative precision
    for very negative z (where 1 − σ would cancel).
    """

    name = "sigmoid"

    def value(self, z: NDArray) -> NDArray:
        return expit(z)

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        return a * (1.0 - a)

    def derivative_formula(self) -> tuple[str, str]:
        return ("a(1 − a)", "a(1 - a)")

    class Kernel(kernels.Kernel):
        """σ(z) = 0.5·tanh(0.5 z) + 0.5 (an identity: NumPy's tanh is vectorised, SciPy's
        ``expit`` a scalar loop, ~10× slower on large arrays), σ' = a(1 − a)."""

        def __init__(self, g, c):
            self.half, self.one = c.half, c.one

        def forward(self, z, a, tmp):
            half = self.half
            _multiply(a, half, a)
            _tanh(a, a)
            _multiply(a, half, a)
            _add(a, half, a)

        def forward_out(self, z, a, tmp):
            expit(z, a)  # the reference's own sigmoid; the output layer is small

        def backprop(self, z, a, delta, tmp):
            _subtract(self.one, a, tmp)  # 1 − a
            _multiply(tmp, a, tmp)  # a(1 − a)
            _multiply(delta, tmp, delta)

    @staticmethod
    def log_value(z: NDArray) -> NDArray:
        """log σ(z) = −softplus(−z), finite for every finite z."""
        return -np.logaddexp(0.0, -z)

    @staticmethod
    def log_complement(z: NDArray) -> NDArray:
        """log(1 − σ(z)) = log σ(−z) = −softplus(z)."""
        return -np.logaddexp(0.0, z)


class Tanh(Activation):
    """tanh(z) = (e^z − e^(−z)) / (e^z + e^(−z)),  tanh'(z) = 1 − tanh²(z) = 1 − a²."""

    name = "tanh"

    def value(self, z: NDArray) -> NDArray:
        return np.tanh(z)

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        return 1.0 - a * a

    def derivative_formula(self) -> tuple[str, str]:
        return ("1 − a²", "1 - a^2")

    class Kernel(kernels.Kernel):
        def __init__(self, g, c):
            self.one = c.one

        def forward(self, z, a, tmp):
            _tanh(a, a)

        def backprop(self, z, a, delta, tmp):
            _multiply(a, a, tmp)
            _subtract(self.one, tmp, tmp)  # 1 − a²
            _multiply(delta, tmp, delta)


class ReLU(Activation):
    """relu(z) = max(0, z),  relu'(z) = 1 if z > 0 else 0 (0 is taken at z = 0)."""

    name = "relu"

    def value(self, z: NDArray) -> NDArray:
        return np.maximum(z, 0.0)

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        return (z > 0).astype(z.dtype)

    def derivative_formula(self) -> tuple[str, str]:
        return ("1 if z > 0 else 0", r"1 \text{ if } z > 0 \text{ else } 0")

    class Kernel(kernels.Kernel):
        """relu' = [z > 0] = [a > 0] (a > 0 exactly where z > 0)."""

        def __init__(self, g, c):
            self.zero = c.zero

        def forward(self, z, a, tmp):
            _maximum(a, self.zero, out=a)

        def backprop(self, z, a, delta, tmp):
            _greater(a, self.zero, tmp)  # 1.0 where a > 0, else 0.0 (at a = 0 too, like derivative)
            _multiply(delta, tmp, delta)


class LeakyReLU(Activation):
    """leaky_relu(z) = z if z > 0 else αz,  leaky_relu'(z) = 1 if z > 0 else α (α = slope)."""

    name = "leaky_relu"

    def __init__(self, slope: float = 0.01):
        slope = float(slope)
        if not (0.0 <= slope < 1.0):
            raise ValueError(f"leaky_relu slope must be in [0, 1), got {slope}")
        self.slope = slope

    def value(self, z: NDArray) -> NDArray:
        return np.where(z > 0, z, self.slope * z)

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        return np.where(z > 0, 1.0, self.slope).astype(z.dtype)

    def derivative_formula(self) -> tuple[str, str]:
        return (f"1 if z > 0 else {self.slope:g}", rf"1 \text{{ if }} z > 0 \text{{ else }} {self.slope:g}")

    class Kernel(kernels.Kernel):
        """max(z, s·z), which is z if z > 0 else s·z for 0 ≤ s < 1; derivative 1 if a > 0 else s
        (with s ≥ 0, a > 0 exactly where z > 0)."""

        def __init__(self, g, c):
            self.zero = c.zero
            self.slope = c.scalar(g.slope)
            self.one_minus_slope = c.scalar(1.0 - g.slope)

        def forward(self, z, a, tmp):
            _multiply(a, self.slope, tmp)
            _maximum(a, tmp, out=a)

        def backprop(self, z, a, delta, tmp):
            _greater(a, self.zero, tmp)  # [a > 0] as 1.0 / 0.0
            _multiply(tmp, self.one_minus_slope, tmp)
            _add(tmp, self.slope, tmp)  # s + (1 − s)[a > 0]
            _multiply(delta, tmp, delta)

    def config(self) -> dict[str, Any]:
        return {"name": self.name, "slope": self.slope}

    def __repr__(self) -> str:
        return f"LeakyReLU(slope={self.slope})"


class Identity(Activation):
    """identity(z) = z (a linear layer),  identity'(z) = 1."""

    name = "identity"

    def value(self, z: NDArray) -> NDArray:
        return z.copy()

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        return np.ones_like(z)

    def backprop(self, z: NDArray, a: NDArray, grad_a: NDArray) -> NDArray:
        return grad_a.copy()

    def derivative_formula(self) -> tuple[str, str]:
        return ("1", "1")

    class Kernel(kernels.Kernel):
        """Nothing to do: a = z, ∂C/∂z = ∂C/∂a."""

        def __init__(self, g, c):
            pass

        def forward(self, z, a, tmp):
            pass

        def backprop(self, z, a, delta, tmp):
            pass


class Softmax(Activation):
    """softmax(z)_j = e^(z_j) / Σ_k e^(z_k), for the output layer only.

    Output j depends on every z_k, so the derivative is a Jacobian per example:
    ∂a_j/∂z_k = a_j (1[j = k] − a_k), that is diag(a) − a aᵀ, shape (m, n, n).
    ``backprop`` applies it without building it: ∂C/∂z_k = a_k (∂C/∂a_k − Σ_j ∂C/∂a_j a_j).
    """

    name = "softmax"
    hidden_ok = False

    def value(self, z: NDArray) -> NDArray:
        shifted = z - z.max(axis=1, keepdims=True)  # e^(z - max) never overflows
        e = np.exp(shifted)
        return e / e.sum(axis=1, keepdims=True)

    def derivative(self, z: NDArray, a: NDArray) -> NDArray:
        return a[:, :, None] * (np.eye(a.shape[1], dtype=a.dtype)[None] - a[:, None, :])

    def backprop(self, z: NDArray, a: NDArray, grad_a: NDArray) -> NDArray:
        return a * (grad_a - (grad_a * a).sum(axis=1, keepdims=True))

    def derivative_formula(self) -> tuple[str, str]:
        return ("g'(z)", "g'(z)")  # a Jacobian, not one number per neuron

    # No Kernel: softmax is only an output layer, and the costs' heads compute it there.

    @staticmethod
    def log_value(z: NDArray) -> NDArray:
        """log softmax(z)_j = z_j − log Σ_k e^(z_k), finite for every finite z."""
        zmax = z.max(axis=1, keepdims=True)
        return z - zmax - np.log(np.exp(z - zmax).sum(axis=1, keepdims=True))


ACTIVATIONS = {
    "sigmoid": Sigmoid,
    "tanh": Tanh,
    "relu": ReLU,
    "leaky_relu": LeakyReLU,
    "identity": Identity,
    "linear": Identity,
    "softmax": Softmax,
}


def get_activation(spec: str | Mapping[str, Any] | Activation) -> Activation:
    """The activation that ``spec`` names.

    Parameters
    ----------
    spec : str, dict or Activation
        A name ("sigmoid", "tanh", "relu", "leaky_relu", "identity"/"linear", "softmax"; any
        case), a config dict such as ``{"name": "leaky_relu", "slope": 0.1}`` (what
        ``Activation.config`` returns), or an instance, returned as it is.

    Returns
    -------
    Activation

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if isinstance(spec, Activation):
        return spec
    params = {}
    if isinstance(spec, Mapping):
        params = {k: v for k, v in spec.items() if k != "name"}
        spec = spec.get("name")
    if not isinstance(spec, str) or spec.lower() not in ACTIVATIONS:
        raise ValueError(
            f"unknown activation {spec!r}; expected one of: "
            + ", ".join(sorted(ACTIVATIONS))
        )
    return ACTIVATIONS[spec.lower()](**params)
