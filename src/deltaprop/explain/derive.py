"""The numbers of an explanation, read from ``net.backward``; nothing here renders.

``derive`` runs one ``net.backward`` and keeps, for the worked example, the values on the path
of one parameter: a^{l−1}, z^l, a^l, ..., a^L, y, δ^l ... δ^L and the weights they pass through
(engine layout, copies), the gradient, and its central-difference estimate. ``derive_layer``
keeps one layer's δ, ∂C/∂W and ∂C/∂b for the batch, ``rank_gradients`` every parameter's
gradient ranked by size. The argument checks of the public functions live here too.

One example or the batch
------------------------
``sample=None`` explains C = (1/m) Σ_x C_x + λ/(2m) Σ_l ‖W^l‖², the cost ``net.backward(X, Y, l2)``
differentiates; steps 1–3 are shown for the first example. ``sample=i`` explains the cost of
example i alone. With L2 that cost carries its share of the penalty of the batch of m examples,

    C_x = C_x^data + λ/(2m) Σ_l ‖W^l‖²,    ∂C_x/∂w = a_k δ_j + (λ/m) w,

so that averaging C_x over the batch gives C exactly and the batch gradient is the average of
the per-example ones. (This is ``net.backward(X[i:i+1], Y[i:i+1], l2=λ/m)``: a one-example batch
with λ/m in place of λ.)

The central difference
----------------------
(C(θ + ε) − C(θ − ε)) / 2ε has a truncation error ε² C‴(θ)/6 and a rounding error of about
u·|C|/ε (u ≈ 1.1e-16); ε = 1e-5 balances the two (≈ (3u)^(1/3)), so the estimate agrees with
the exact gradient to ~1e-10 absolute. A gradient much smaller than that is not resolved by
any two-point difference, and its relative error then measures rounding, not the math.

A float32 network is explained through a float64 copy (the exactness path). A float64 network
is perturbed in place for the two cost evaluations and restored exactly.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from ..gradcheck import relative_error as _relative_error

if TYPE_CHECKING:
    from ..network import Network


# ============================================================================ argument checks
def check_network(net: object) -> None:
    if not (hasattr(net, "backward") and hasattr(net, "sizes") and hasattr(net, "weights")):
        raise TypeError(f"net must be a deltaprop Network, got {type(net).__name__}")


def check_index(value: object, low: int, high: int, what: str) -> int:
    """An int in low..high (inclusive) or a ValueError naming the valid range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer in {low}..{high}, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{what} = {value} is out of range; valid: {low}..{high}")
    return value


def check_parameter(net: Network, weight: Sequence[int] | None,
                    bias: Sequence[int] | None) -> tuple[str, int, int, int | None]:
    """('weight', l, j, k) or ('bias', l, j, None) with every index in range."""
    if (weight is None) == (bias is None):
        raise ValueError(
            "give exactly one of weight=(l, j, k) or bias=(l, j)"
            + ("; got both" if weight is not None else "; got neither")
        )
    L = net.n_layers
    kind, spec, arity = ("weight", weight, 3) if weight is not None else ("bias", bias, 2)
    example = "(l, j, k)" if kind == "weight" else "(l, j)"
    try:
        spec = tuple(spec)
    except TypeError:
        raise ValueError(f"{kind} must be a tuple {example}, got {spec!r}") from None
    if len(spec) != arity:
        raise ValueError(f"{kind} must be a tuple {example}, got {spec!r}")
    l = check_index(spec[0], 1, L, f"layer l (weights[l-1], counted from 1; the network has {L})")
    j = check_index(spec[1], 0, net.sizes[l] - 1, f"neuron j of layer {l} (size {net.sizes[l]})")
    k = None
    if kind == "weight":
        k = check_index(
            spec[2], 0, net.sizes[l - 1] - 1, f"neuron k of layer {l - 1} (size {net.sizes[l - 1]})"
        )
    return kind, l, j, k


def check_layer(net: Network, layer: int) -> int:
    L = net.n_layers
    return check_index(layer, 1, L, f"layer (weights[layer-1], counted from 1; the network has {L})")


def check_eps(eps: float) -> float:
    eps = float(eps)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    return eps


def check_top(top: int) -> int:
    if isinstance(top, (bool, np.bool_)) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    return int(top)


def _check_sample(sample, m):
    if sample is None:
        return None
    return check_index(sample, 0, m - 1, f"sample (a row of X; the batch has {m})")


# ============================================================================ the float64 copy
def float64_network(net: Network) -> Network:
    """``net`` itself when it is float64, else a float64 copy (same layers, same numbers, same
    preprocessing and classes: the input contract holds on the copy too)."""
    if net.dtype == np.float64:
        return net
    return net.copy(dtype="float64")


def _backward(net, X, Y, l2):
    """(the float64 network, X, Y checked, the Gradients of ``backward(X, Y, l2)``)."""
    work = float64_network(net)
    X, Y = work.check_XY(X, Y)
    return work, X, Y, work.backward(X, Y, l2=l2)


# ============================================================================ one parameter
def central_difference(net: Network, kind: str, l: int, index: tuple[int, ...], X: ArrayLike, Y: ArrayLike,
                       l2: float, eps: float) -> float:
    """(C(θ + ε) − C(θ − ε)) / (2ε) for θ = the one parameter; θ is restored exactly."""
    theta = (net.weights if kind == "weight" else net.biases)[l - 1]
    original = theta[index]
    try:
        theta[index] = original + eps
        c_plus = net.cost(X, Y, l2)
        theta[index] = original - eps
        c_minus = net.cost(X, Y, l2)
    finally:
        theta[index] = original
    return (c_plus - c_minus) / (2.0 * eps)


@dataclass
class Derivation:
    """The numbers of one explanation (copies, engine layout: rows of the worked example)."""

    sizes: list
    activations: list  # Activation objects, activations[l-1] for layer l
    cost_function: object
    kind: str
    l: int
    j: int
    k: int | None
    sample: int | None
    x0: int  # the worked example (a row of X)
    m: int
    l2: float
    eps: float
    theta: float  # the parameter's value
    a: dict  # layer -> a^layer of the worked example, layers l-1..L
    z: dict  # layer -> z^layer, layers l..L
    delta: dict  # layer -> δ^layer, layers l..L
    y: np.ndarray
    W: dict  # layer -> W^layer (copies), layers l..L
    b: dict  # layer -> b^layer
    example_data_cost: float  # C_x of the worked example, without L2
    example_cost: float  # C_x with its L2 share λ/(2m) Σ‖W‖²
    batch_cost: float
    a_col: np.ndarray | None  # a_k^{l−1} over the batch (sample=None; ones for a bias)
    d_col: np.ndarray | None  # δ_j^l over the batch (sample=None)
    value: float
    numeric: float
    relative_error: float
    dtype: str
    #: Whether the rows of X are training examples: only then does the text say "training".
    training: bool = False


def derive(net: Network, X: ArrayLike, Y: ArrayLike, kind: str, l: int, j: int, k: int | None, sample: int | None,
           l2: float, eps: float, training: bool = False) -> Derivation:
    """The numbers behind ∂C/∂θ for θ = W^l[j, k] (``kind="weight"``) or b^l[j] (``"bias"``),
    for the batch (``sample=None``) or example ``sample`` alone (module docstring);
    ``training``: the rows of X are training examples (the text then says so)."""
    work = float64_network(net)
    X, Y = work.check_XY(X, Y)
    m = X.shape[0]
    sample = _check_sample(sample, m)
    if sample is None:
        Xe, Ye, l2e = X, Y, l2
    else:  # one example, with its share λ/m of the batch's penalty (module docstring)
        Xe, Ye, l2e = X[sample : sample + 1], Y[sample : sample + 1], l2 / m
    grads = work.backward(Xe, Ye, l2=l2e)
    index = (j, k) if kind == "weight" else (j,)
    value = float((grads.weights if kind == "weight" else grads.biases)[l - 1][index])
    numeric = float(central_difference(work, kind, l, index, Xe, Ye, l2e, eps))
    L = work.n_layers
    row = 0  # the worked example's row in grads (the one row, or the first of the batch)
    gL = work.activations[-1]
    z_out, a_out = grads.zs[-1][row : row + 1], grads.activations[-1][row : row + 1]
    data_cost = work.cost_function.value(z_out, a_out, Ye[row : row + 1], gL)
    example_cost = data_cost + work._l2_term(l2, m)  # λ/(2m) Σ‖W‖², m = the batch
    theta = float((work.weights if kind == "weight" else work.biases)[l - 1][index])
    a_col = d_col = None
    if sample is None:
        d_col = grads.deltas[l - 1][:, j].copy()
        a_col = grads.activations[l - 1][:, k].copy() if kind == "weight" else np.ones(m)
    return Derivation(
        sizes=list(work.sizes),
        activations=list(work.activations),
        cost_function=work.cost_function,
        kind=kind,
        l=l,
        j=j,
        k=k,
        sample=sample,
        x0=0 if sample is None else sample,
        m=m,
        l2=l2,
        eps=eps,
        theta=theta,
        a={q: grads.activations[q][row].copy() for q in range(l - 1, L + 1)},
        z={q: grads.zs[q - 1][row].copy() for q in range(l, L + 1)},
        delta={q: grads.deltas[q - 1][row].copy() for q in range(l, L + 1)},
        y=Ye[row].copy(),
        W={q: np.array(work.weights[q - 1]) for q in range(l, L + 1)},
        b={q: np.array(work.biases[q - 1]) for q in range(l, L + 1)},
        example_data_cost=float(data_cost),
        example_cost=float(example_cost),
        batch_cost=float(grads.cost) if sample is None else float("nan"),
        a_col=a_col,
        d_col=d_col,
        value=value,
        numeric=numeric,
        relative_error=_relative_error(value, numeric),
        dtype=net.dtype.name,
        training=bool(training),
    )


# ============================================================================ one layer
@dataclass
class LayerDerivation:
    """One layer l for a batch, engine layout: ``delta`` (m, n_l), ``grad_W`` (n_l, n_{l−1}),
    ``grad_b`` (n_l,), the batch cost, and the network's sizes, activations and cost name."""

    layer: int
    l2: float
    delta: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    cost: float
    sizes: list
    activations: list
    cost_name: str


def derive_layer(net: Network, X: ArrayLike, Y: ArrayLike, l: int, l2: float) -> LayerDerivation:
    """δ^l, ∂C/∂W^l and ∂C/∂b^l from one ``net.backward(X, Y, l2)``."""
    work, X, Y, grads = _backward(net, X, Y, l2)
    return LayerDerivation(
        layer=l,
        l2=l2,
        delta=grads.deltas[l - 1].copy(),
        grad_W=grads.weights[l - 1].copy(),
        grad_b=grads.biases[l - 1].copy(),
        cost=float(grads.cost),
        sizes=list(work.sizes),
        activations=list(work.activations),
        cost_name=work.cost_function.name,
    )


# ============================================================================ every parameter
@dataclass
class RankedGradients:
    """The ``top`` largest |∂C/∂θ|: ``entries`` of (kind, layer, indices, gradient, direction),
    the direction being the nudge that decreases the cost ("decrease", "increase" or "none")."""

    entries: list
    sizes: list
    cost: float
    n_params: int
    m: int
    l2: float


def rank_gradients(net: Network, X: ArrayLike, Y: ArrayLike, top: int, l2: float) -> RankedGradients:
    """Every weight and bias ranked by |∂C/∂θ| from one ``net.backward(X, Y, l2)`` (ties by
    position, weights of a layer before its biases)."""
    work, X, Y, grads = _backward(net, X, Y, l2)
    flat, where = [], []
    for l, (gW, gb) in enumerate(zip(grads.weights, grads.biases), start=1):
        flat += [gW.ravel(), gb]
        where += [("weight", l, gW.shape), ("bias", l, gb.shape)]
    sizes = [a.size for a in flat]
    everything = np.concatenate(flat)
    top = min(int(top), everything.size)
    best = np.argpartition(-np.abs(everything), top - 1)[:top]
    best = best[np.lexsort((best, -np.abs(everything[best])))]  # by |g|, ties by position
    offsets = np.cumsum([0] + sizes)
    entries = []
    for pos in best:
        a = int(np.searchsorted(offsets, pos, side="right") - 1)
        kind, l, shp = where[a]
        idx = tuple(int(i) for i in np.unravel_index(int(pos - offsets[a]), shp))
        g = float(everything[pos])
        direction = "decrease" if g > 0 else ("increase" if g < 0 else "none")
        entries.append((kind, l, idx, g, direction))
    return RankedGradients(entries=entries, sizes=list(work.sizes), cost=float(grads.cost),
                           n_params=int(everything.size), m=X.shape[0], l2=l2)
