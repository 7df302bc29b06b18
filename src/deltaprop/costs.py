"""Cost functions C and the output error δ^L = ∂C/∂z^L.

Every cost is averaged over the m examples of a batch, C = (1/m) Σ_x C_x, and summed over the
n_L outputs of one example. A cost provides

    per_example(z, a, y)        C_x for every row, shape (m,), without log(0) or overflow;
    value(z, a, y, g, weights)  the averaged cost C (a float); with sample weights w_x the
                                weighted mean C = Σ_x w_x C_x / Σ_x w_x;
    grad_a(a, y)                ∂C_x/∂a for one example per row, shape (m, n_L) (not divided by m);
    formula(a, y, sum_over_j)   C_x for display, and
    grad_formula(a, y)          ∂C_x/∂a_j for display: ``explain``'s two-spelling ``M`` objects
                                built from the notation's symbols (None in the base class).

The output error of one example is the chain rule through the output activation g:

    δ^L = ∂C_x/∂z^L = ∂C_x/∂a^L ⊙ g'(z^L)                          (general form)

For two pairs the factors cancel and δ^L is exactly a^L − y (``output_delta`` uses it):

* sigmoid + binary cross-entropy: ∂C/∂a = (a − y) / (a(1 − a)) and σ'(z) = a(1 − a);
* softmax + categorical cross-entropy: ∂C/∂a_j = −y_j / a_j and ∂a_j/∂z_k = a_j(1[j=k] − a_k),
  so δ_k = −y_k + a_k Σ_j y_j = a_k − y_k because each row of y sums to 1.

The closed form is not only shorter, it is exact where the general form is not: when a
sigmoid saturates, a(1 − a) rounds to 0 and the general form would give 0 / 0.

Each cost also carries the fast training step's fused output layer for the outputs it has a
closed form or a kernel for: a nested ``Head`` (protocol in ``kernels``), built by
``fast_head(g, constants)``; every other pair goes through ``GenericHead`` (its own methods).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import expit

from . import kernels
from .activations import Activation, Sigmoid, Softmax
from .kernels import _divide, _dot, _exp, _log, _logaddexp, _multiply, _negative, _subtract, _vdot, row_max

if TYPE_CHECKING:
    from .explain.mathdoc import M

__all__ = [
    "Cost",
    "Quadratic",
    "HalfQuadratic",
    "BinaryCrossEntropy",
    "CategoricalCrossEntropy",
    "COSTS",
    "get_cost",
    "output_delta",
]


class Cost:
    """Base class for costs; see the module docstring for the formulas."""

    name = "cost"
    #: Output activations this cost accepts (None: any).
    outputs: tuple[str, ...] | None = None
    #: The output activation for which δ^L = a − y exactly (None: none).
    closed_form_output: str | None = None

    def per_example(self, z: NDArray, a: NDArray, y: NDArray) -> NDArray:
        raise NotImplementedError

    def value(self, z: NDArray, a: NDArray, y: NDArray, g: Activation | None = None,
              weights: ArrayLike | None = None) -> float:
        """C = (1/m) Σ_x C_x, or Σ_x w_x C_x / Σ_x w_x with sample weights."""
        c = self.per_example(z, a, y)
        if weights is None:
            return float(c.mean())
        return float(np.dot(weights, c) / np.sum(weights, dtype=np.float64))

    def grad_a(self, a: NDArray, y: NDArray) -> NDArray:
        raise NotImplementedError

    def formula(self, a: M, y: M, sum_over_j: M) -> M | None:
        """C_x of one example for display, as an ``explain.mathdoc.M`` (text and LaTeX) built from
        the notation's symbols: ``a`` and ``y`` are the M of a_j^L and y_j, ``sum_over_j`` the M
        written before the summand (``Σ_j `` or, for a single output, an empty M). None here:
        ``explain`` then shows the cost's name. A subclass imports ``mathdoc`` inside the method,
        so that importing this module does not import the explain package."""
        return None

    def grad_formula(self, a: M, y: M) -> M | None:
        """∂C_x/∂a_j for display, an ``M`` in the symbols ``a`` = a_j^L and ``y`` = y_j (as
        ``formula``). None here: ``explain`` then shows the symbol ∂C_x/∂a_j itself."""
        return None

    def accepts(self, g: Activation) -> bool:
        """Whether this cost can follow output activation g."""
        return self.outputs is None or g.name in self.outputs

    def check_output(self, g: Activation) -> None:
        """Raise ValueError if this cost cannot follow output activation g."""
        if not self.accepts(g):
            raise ValueError(
                f"cost {self.name!r} needs a {' or '.join(self.outputs)} output layer, "
                f"got {g.name!r}; pass output={self.outputs[0]!r}"
            )

    def check_targets(self, Y: NDArray) -> None:
        """Raise ValueError if targets Y (m, n_L) are outside this cost's domain."""

    def fast_head(self, g: Activation, constants: kernels.Constants) -> kernels.Head | None:
        """The fast step's fused output layer (``kernels``) for this cost after output g, built
        for the ``kernels.Constants`` of the network's dtype; None where the class defines no
        ``Head`` itself or its head does not cover g (then ``GenericHead``). A subclass does not
        inherit its parent's head, because it may have changed the math the head hard-codes."""
        head = vars(type(self)).get("Head")
        return None if head is None else head.build(g, constants)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


def _check_unit_interval(Y, needs: str, hint: str = "") -> None:
    if Y.size and (Y.min() < 0 or Y.max() > 1):
        raise ValueError(f"{needs}, got values in [{Y.min():g}, {Y.max():g}]{hint}")


class Quadratic(Cost):
    """C = (1/m) Σ_x Σ_j (a_j − y_j)²,  ∂C_x/∂a = 2(a − y)  (3Blue1Brown's C_0 = (a − y)²)."""

    name = "quadratic"

    def per_example(self, z: NDArray, a: NDArray, y: NDArray) -> NDArray:
        diff = a - y
        return np.einsum("ij,ij->i", diff, diff, dtype=np.float64)

    def grad_a(self, a: NDArray, y: NDArray) -> NDArray:
        return 2.0 * (a - y)

    def formula(self, a: M, y: M, sum_over_j: M) -> M | None:
        from .explain.mathdoc import MINUS, M, paren

        return sum_over_j + paren(a + MINUS + y) + M("²", "^2")

    def grad_formula(self, a: M, y: M) -> M | None:
        from .explain.mathdoc import MINUS, M, paren

        return M("2") + paren(a + MINUS + y)

    class Head(kernels.Head):
        """C_x = Σ_k (a_k − y_k)² after softmax or any output with a kernel: Δ^L = 2(a − y) ⊙ g'(z)
        by the kernel, or for softmax the Jacobian product a ⊙ (u − Σ_k u_k a_k) with
        u = 2(a − y) (``activations.Softmax``). With ``half`` (``HalfQuadratic.Head``) C_x is
        ½ Σ_k (a_k − y_k)² and u = a − y."""

        half = False

        @classmethod
        def build(cls, g, c):
            if type(g) is Softmax:
                return cls(None, c)
            kernel = g.fast_kernel(c)
            return None if kernel is None else cls(kernel, c)

        def __init__(self, kernel, c):
            self.kernel, self.two = kernel, c.two

        def __call__(self, ws, scale):
            z, a, delta, Y, tmp, R = ws.z_out, ws.a_out, ws.delta_out, ws.Yb, ws.tmp_out, ws.R
            kernel = self.kernel
            if kernel is None:  # softmax: a = e^(z − max) / Σ_k e^(z_k − max)
                row_max(ws, z)
                _subtract(z, R, a)
                _exp(a, a)
                _dot(a, ws.ones_out, R)
                _divide(a, R, a)
            else:
                kernel.forward_out(z, a, tmp)
            _subtract(a, Y, delta)  # a − y
            cost = float(_vdot(delta, delta))
            if self.half:
                cost *= 0.5  # and u = ∂C_x/∂a = a − y as it stands
            else:
                _multiply(delta, self.two, delta)  # u = ∂C_x/∂a = 2(a − y)
            if kernel is None:
                _multiply(delta, a, tmp)
                _dot(tmp, ws.ones_out, R)  # Σ_k u_k a_k per row
                _subtract(delta, R, delta)
                _multiply(delta, a, delta)
            else:
                kernel.backprop(z, a, delta, tmp)
            _multiply(delta, scale, delta)
            return cost


class HalfQuadratic(Cost):
    """C = (1/m) Σ_x ½ Σ_j (a_j − y_j)²,  ∂C_x/∂a = a − y  (Nielsen's C = 1/(2n) Σ_x ‖y − a‖²).

    Half the quadratic cost, so every gradient is half of ``Quadratic``'s (L2 aside): plain SGD at
    α here takes the quadratic cost's steps at α/2. The output error is δ^L = (a − y) ⊙ g'(z^L),
    which is a − y itself for an identity output.
    """

    name = "half_quadratic"

    def per_example(self, z: NDArray, a: NDArray, y: NDArray) -> NDArray:
        diff = a - y
        return 0.5 * np.einsum("ij,ij->i", diff, diff, dtype=np.float64)

    def grad_a(self, a: NDArray, y: NDArray) -> NDArray:
        return a - y

    def formula(self, a: M, y: M, sum_over_j: M) -> M | None:
        from .explain.mathdoc import MINUS, M, paren

        return M("½ ", r"\frac{1}{2} ") + sum_over_j + paren(a + MINUS + y) + M("²", "^2")

    def grad_formula(self, a: M, y: M) -> M | None:
        from .explain.mathdoc import MINUS, paren

        return paren(a + MINUS + y)

    class Head(Quadratic.Head):
        """``Quadratic.Head`` with C_x = ½ Σ_k (a_k − y_k)²: Δ^L = (a − y) ⊙ g'(z) by the kernel, or
        for softmax a ⊙ (u − Σ_k u_k a_k) with u = a − y."""

        half = True


class BinaryCrossEntropy(Cost):
    """C = −(1/m) Σ_x Σ_k [y_k log a_k + (1 − y_k) log(1 − a_k)]  (Ng's J(Θ), K sigmoid outputs).

    ∂C_x/∂a = (a − y) / (a(1 − a)). With a = σ(z) the logs are computed from z as
    log a = −softplus(−z) and log(1 − a) = −softplus(z), so a saturated sigmoid (a rounded to
    exactly 0 or 1) still gives the true, finite cost.
    """

    name = "binary_cross_entropy"
    outputs = ("sigmoid",)
    closed_form_output = "sigmoid"

    def per_example(self, z: NDArray, a: NDArray, y: NDArray) -> NDArray:
        log_a, log_1ma = Sigmoid.log_value(z), Sigmoid.log_complement(z)
        return -(np.sum(y * log_a, axis=1, dtype=np.float64) + np.sum((1 - y) * log_1ma, axis=1, dtype=np.float64))

    def grad_a(self, a: NDArray, y: NDArray) -> NDArray:
        return (a - y) / (a * (1.0 - a))

    def formula(self, a: M, y: M, sum_over_j: M) -> M | None:
        from .explain.mathdoc import MINUS, PLUS, M, paren

        log = M(" log", r" \log")
        return (M("−", "-") + sum_over_j + M("[") + y + log + " " + a
                + PLUS + paren(M("1") + MINUS + y) + log + paren(M("1") + MINUS + a) + M("]"))

    def grad_formula(self, a: M, y: M) -> M | None:
        from .explain.mathdoc import MINUS, M, frac, paren

        return frac(paren(a + MINUS + y), a + paren(M("1") + MINUS + a))

    class Head(kernels.Head):
        """After a sigmoid: Δ^L = a − y, and C_x = Σ_k [y_k softplus(−z_k) + (1 − y_k) softplus(z_k)]
        (= −y log a − (1−y) log(1−a), finite even where a rounds to 0 or 1, as ``per_example``)."""

        @classmethod
        def build(cls, g, c):
            return cls(c) if type(g) is Sigmoid else None

        def __init__(self, c):
            self.zero, self.one = c.zero, c.one

        def __call__(self, ws, scale):
            z, a, delta, Y, tmp = ws.z_out, ws.a_out, ws.delta_out, ws.Yb, ws.tmp_out
            expit(z, a)  # the reference's own sigmoid; the output layer is small
            _negative(z, tmp)
            _logaddexp(self.zero, tmp, tmp)  # softplus(−z) = −log a
            cost = float(_vdot(Y, tmp))
            _logaddexp(self.zero, z, tmp)  # softplus(z) = −log(1 − a)
            _subtract(self.one, Y, delta)  # 1 − y (delta is free until the last two lines)
            cost += float(_vdot(delta, tmp))
            _subtract(a, Y, delta)
            _multiply(delta, scale, delta)
            return cost

    def check_targets(self, Y: NDArray) -> None:
        _check_unit_interval(Y, "binary_cross_entropy needs targets in [0, 1]",
                             "; use the quadratic cost for other targets")


class CategoricalCrossEntropy(Cost):
    """C = −(1/m) Σ_x Σ_k y_k log a_k  (softmax outputs; each row of y a distribution).

    ∂C_x/∂a_k = −y_k / a_k. With a = softmax(z), log a_k = z_k − log Σ_j e^(z_j) is computed
    from z, so no a_k that rounds to 0 ever reaches a log.
    """

    name = "cross_entropy"
    outputs = ("softmax",)
    closed_form_output = "softmax"

    def per_example(self, z: NDArray, a: NDArray, y: NDArray) -> NDArray:
        return -np.sum(y * Softmax.log_value(z), axis=1, dtype=np.float64)

    def grad_a(self, a: NDArray, y: NDArray) -> NDArray:
        return -y / a

    def formula(self, a: M, y: M, sum_over_j: M) -> M | None:
        from .explain.mathdoc import M

        return M("−", "-") + sum_over_j + y + M(" log ", r" \log ") + a

    def grad_formula(self, a: M, y: M) -> M | None:
        from .explain.mathdoc import M, frac

        return M("−", "-") + frac(y, a)

    class Head(kernels.Head):
        """After a softmax: C_x = −Σ_k y_k log a_k and Δ^L = a − y. log a = (z − max) −
        log Σ_k e^(z_k − max) (log-softmax, as ``per_example``; the max keeps exp from
        overflowing) gives both the cost and a = e^(log a); the row maxima come from argmax,
        which is also the predicted class."""

        predicts = True

        @classmethod
        def build(cls, g, c):
            return cls() if type(g) is Softmax else None

        def __call__(self, ws, scale):
            z, a, delta, Y, R = ws.z_out, ws.a_out, ws.delta_out, ws.Yb, ws.R
            row_max(ws, z)
            _subtract(z, R, z)  # z − max, every entry ≤ 0
            _exp(z, a)
            _dot(a, ws.ones_out, R)  # Σ_k e^(z_k − max) per row, as a matrix–vector product
            _log(R, R)
            _subtract(z, R, z)  # log a
            _exp(z, a)  # a = softmax(z)
            cost = -float(_vdot(Y, z))
            _subtract(a, Y, delta)
            _multiply(delta, scale, delta)
            return cost

    def check_targets(self, Y: NDArray) -> None:
        _check_unit_interval(Y, "cross_entropy needs targets in [0, 1] (one-hot rows or probabilities)")
        sums = Y.sum(axis=1, dtype=np.float64)
        bad = np.flatnonzero(np.abs(sums - 1.0) > 1e-6 * Y.shape[1])
        if bad.size:
            i = int(bad[0])
            raise ValueError(
                f"cross_entropy needs each target row to sum to 1 (one-hot or a distribution); "
                f"row {i} sums to {sums[i]:g}"
            )


COSTS = {
    "quadratic": Quadratic,
    "mse": Quadratic,
    "half_quadratic": HalfQuadratic,
    "binary_cross_entropy": BinaryCrossEntropy,
    "bce": BinaryCrossEntropy,
    "cross_entropy": CategoricalCrossEntropy,
    "categorical_cross_entropy": CategoricalCrossEntropy,
}


def get_cost(spec: str | Cost) -> Cost:
    """The cost that ``spec`` names.

    Parameters
    ----------
    spec : str or Cost
        A name, any case: "quadratic" ("mse"), "half_quadratic", "binary_cross_entropy" ("bce"),
        "cross_entropy" ("categorical_cross_entropy"); or an instance, returned as it is.

    Returns
    -------
    Cost

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if isinstance(spec, Cost):
        return spec
    if not isinstance(spec, str) or spec.lower() not in COSTS:
        raise ValueError(
            f"unknown cost {spec!r}; expected one of: quadratic, half_quadratic, binary_cross_entropy, "
            "cross_entropy"
        )
    return COSTS[spec.lower()]()


def output_delta(cost: Cost, g: Activation, z: NDArray, a: NDArray, y: NDArray) -> NDArray:
    """The output error δ^L = ∂C_x/∂z^L, one row per example.

    a − y for the matched pairs (sigmoid + binary cross-entropy, softmax + cross-entropy), else
    the general form ∂C/∂a ⊙ g'(z) (see the module docstring).

    Parameters
    ----------
    cost : Cost
    g : Activation
        The output layer's activation.
    z, a, y : ndarray, shape (m, n_L)
        The output layer's weighted inputs z^L, its activations a^L = g(z^L), and the targets.

    Returns
    -------
    ndarray, shape (m, n_L)
        δ^L (not divided by m).
    """
    if cost.closed_form_output == g.name:
        return a - y
    return g.backprop(z, a, cost.grad_a(a, y))


class GenericHead(kernels.Head):
    """The fast step's output layer for any (cost, output activation) without a ``Head``: their
    own methods (which allocate)."""

    def __init__(self, cost, g):
        self.cost, self.g = cost, g

    def __call__(self, ws, scale):
        z, a, delta, Y = ws.z_out, ws.a_out, ws.delta_out, ws.Yb
        a[...] = self.g.value(z)
        cost = float(self.cost.value(z, a, Y, self.g)) * z.shape[0]
        delta[...] = output_delta(self.cost, self.g, z, a, Y)
        _multiply(delta, scale, delta)
        return cost
