"""Michael Nielsen, *Neural Networks and Deep Learning* (``network.py``, ``network2.py``) ⇄ deltaprop.

Nielsen's layout and symbols
----------------------------
* The input is layer 1: ``sizes = [n_1, ..., n_L]``, so ``weights[i]`` is w^{i+2} and
  ``biases[i]`` is b^{i+2}. w^l_jk joins neuron k of layer l−1 to neuron j of layer l, so
  ``weights[i]`` has shape (n_{i+2}, n_{i+1}): the same orientation as deltaprop's W^{i+1}.
* ``biases[i]`` is a column vector, shape (n, 1); deltaprop's b is (n,).
* One example x is a column (n_1, 1), its desired output y a column (n_L, 1); z^l = w^l a^{l−1}
  + b^l, a^l = σ(z^l), sigmoid in every layer. deltaprop's batches are rows: X = x.T.
* The backpropagation equations: (BP1) δ^L = ∇_a C ⊙ σ'(z^L); (BP2) δ^l = ((w^{l+1})ᵀ δ^{l+1})
  ⊙ σ'(z^l); (BP3) ∂C/∂b^l_j = δ^l_j; (BP4) ∂C/∂w^l_jk = a^{l−1}_k δ^l_j.

His costs, and deltaprop's names for them
-----------------------------------------
* ``network.py`` (and ``network2.QuadraticCost``): C = 1/(2n) Σ_x ‖y(x) − a^L(x)‖², so
  C_x = ½ Σ_j (a_j − y_j)², ∇_a C_x = a − y and δ^L = (a^L − y) ⊙ σ'(z^L):
  deltaprop's ``cost="half_quadratic"`` (``to_network(..., cost="quadratic")``).
* ``network2.CrossEntropyCost``: C = −(1/n) Σ_x Σ_j [y_j ln a_j + (1 − y_j) ln(1 − a_j)],
  δ^L = a^L − y: deltaprop's ``"binary_cross_entropy"`` (``cost="cross_entropy"``).
* ``backprop(x, y)`` returns (nabla_b, nabla_w) = (∂C_x/∂b^l, ∂C_x/∂w^l) of ONE example, with
  no 1/n: deltaprop's ``Gradients`` of a batch of m = 1. ``update_mini_batch`` sums them over
  the mini-batch and steps w → w − (η/len(mini_batch)) Σ_x nabla_w: the mean gradient, as
  deltaprop's, with the learning rate η.
* L2 (``network2``): C = C_0 + λ/(2n) Σ_w w² with n the size of the *training set*. ``backprop``
  ignores it; the update applies it: w → (1 − ηλ/n) w − (η/len(mini_batch)) Σ_x nabla_w, biases
  unregularised. In deltaprop's convention (λ'/(2m) Σ W² on a batch of m) that is
  λ' = λ · len(mini_batch) / n.

The converters: ``to_network(sizes or (biases, weights), cost)``, ``from_network(net)`` →
(biases, weights), ``from_gradients(grads)`` → (nabla_b, nabla_w); ``backprop(net, x, y)`` and
``update_mini_batch(net, mini_batch, eta, lmbda, n)`` are his two methods computed by deltaprop.
``check_backprop(Network)`` runs the learner's ``backprop`` and says what is wrong with it.
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..diagnose import Diagnosis, Finding, diagnose
from ..network import Gradients, Network
from ..optimizers import SGD
from ..validation import as_generator

__all__ = [
    "NielsenError",
    "to_network",
    "from_network",
    "from_gradients",
    "backprop",
    "update_mini_batch",
    "check_backprop",
]

#: Nielsen's cost (``to_network``'s name, or his cost class's name) -> deltaprop's cost.
COSTS = {"quadratic": "half_quadratic", "cross_entropy": "binary_cross_entropy"}
_COST_CLASSES = {"QuadraticCost": "quadratic", "CrossEntropyCost": "cross_entropy"}

#: ``check_backprop``'s set-up: non-square layers, so that a transposed array shows.
SIZES = (3, 4, 2)


class NielsenError(ValueError):
    """Nielsen-layout input that cannot be converted or checked (one line: what, where, expected)."""


# ---------------------------------------------------------------------------------- converters
def _cost_key(cost) -> str:
    """"quadratic" or "cross_entropy" from a name or one of network2's cost classes (or instances)."""
    if isinstance(cost, str):
        if cost in COSTS:
            return cost
        raise NielsenError(f"cost must be 'quadratic' (network.py) or 'cross_entropy' (network2.py), got {cost!r}")
    name = cost.__name__ if isinstance(cost, type) else type(cost).__name__
    if name not in _COST_CLASSES:
        raise NielsenError(
            f"the network's cost is {name}; expected network2's QuadraticCost or CrossEntropyCost "
            "(or pass cost='quadratic' or 'cross_entropy')"
        )
    return _COST_CLASSES[name]


def _array(value, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise NielsenError(f"{name} must be an array of numbers: {exc}") from None


def _is_sizes(spec) -> bool:
    if isinstance(spec, np.ndarray) and spec.ndim == 1:
        spec = spec.tolist()
    return isinstance(spec, (list, tuple)) and all(
        isinstance(s, (int, np.integer)) and not isinstance(s, bool) for s in spec
    )


def _check_parameters(spec):
    """(biases, weights) in Nielsen's layout, checked: float64 copies, biases as columns."""
    try:
        biases, weights = spec
        biases, weights = list(biases), list(weights)
    except (TypeError, ValueError):
        raise NielsenError(
            "to_network takes sizes (a list of ints, e.g. [784, 30, 10]) or the pair "
            "(biases, weights) of network.py's lists"
        ) from None
    if not weights or len(biases) != len(weights):
        raise NielsenError(
            f"biases and weights need one array per layer after the input, got {len(biases)} biases "
            f"and {len(weights)} weights"
        )
    weights = [_array(w, f"weights[{i}]") for i, w in enumerate(weights)]
    biases = [_array(b, f"biases[{i}]") for i, b in enumerate(biases)]
    for i, (b, w) in enumerate(zip(biases, weights)):
        if w.ndim != 2:
            raise NielsenError(f"weights[{i}] must be a 2-D array (n_out, n_in), got shape {w.shape}")
        if i and w.shape[1] != weights[i - 1].shape[0]:
            raise NielsenError(
                f"weights[{i}] has shape {w.shape}; its columns must be the {weights[i - 1].shape[0]} "
                f"neurons of the layer before (the rows of weights[{i - 1}], shape {weights[i - 1].shape})"
            )
        if b.shape not in ((w.shape[0], 1), (w.shape[0],)):
            raise NielsenError(
                f"biases[{i}] must be a column vector of shape ({w.shape[0]}, 1) like weights[{i}]'s "
                f"{w.shape[0]} rows, got shape {b.shape}"
            )
    return [b.reshape(-1, 1) for b in biases], weights


def to_network(spec: Sequence[int] | tuple[Sequence[ArrayLike], Sequence[ArrayLike]], cost: str | Any = "quadratic",
               seed: int | np.random.Generator | None = None) -> Network:
    """A deltaprop ``Network`` (sigmoid in every layer) from Nielsen's ``sizes`` or his
    ``(biases, weights)`` lists (biases (n, 1) columns, ``weights[i]`` (n_{i+2}, n_{i+1})).

    ``cost``: "quadratic" (``network.py``, C_x = ½‖a − y‖² → deltaprop "half_quadratic") or
    "cross_entropy" (``network2.CrossEntropyCost`` → "binary_cross_entropy"); network2's cost
    classes are accepted too. From ``sizes`` the parameters are drawn as network2's
    ``default_weight_initializer`` draws them (w ~ N(0, 1/n_in), b ~ N(0, 1)), from ``seed``.
    """
    cost = COSTS[_cost_key(cost)]
    if _is_sizes(spec):
        sizes = [int(s) for s in spec]
        if len(sizes) < 2 or min(sizes) < 1:
            raise NielsenError(f"sizes must list at least two positive layer sizes, e.g. [784, 30, 10]; got {sizes}")
        rng = as_generator(seed)
        biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
        weights = [rng.standard_normal((n_out, n_in)) / np.sqrt(n_in) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    else:
        biases, weights = _check_parameters(spec)
        sizes = [weights[0].shape[1]] + [w.shape[0] for w in weights]
    net = Network(sizes, activation="sigmoid", cost=cost, init="nielsen", seed=0)
    net.weights = weights
    net.biases = [b.reshape(-1) for b in biases]
    return net


def from_network(net: Network) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(biases, weights) in Nielsen's layout: copies, biases as (n, 1) columns."""
    if not isinstance(net, Network):
        raise NielsenError(f"from_network needs a deltaprop Network, got {type(net).__name__}")
    return [b.reshape(-1, 1).copy() for b in net.biases], [W.copy() for W in net.weights]


def from_gradients(grads: Gradients) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(nabla_b, nabla_w) from deltaprop ``Gradients``: Σ_x δ^l and Σ_x δ^l (a^{l−1})ᵀ over the
    batch's examples, what ``update_mini_batch`` adds up from ``backprop``; for one example
    exactly ``backprop(x, y)`` (the mean gradient of m = 1). Built from the per-example δ^l and
    a^l, so without the L2 term, which Nielsen applies in the update, not in ``backprop``."""
    try:
        deltas, activations = grads.deltas, grads.activations
    except AttributeError:
        raise NielsenError(f"from_gradients needs the Gradients of Network.backward, got {type(grads).__name__}") from None
    nabla_b = [d.sum(axis=0).reshape(-1, 1) for d in deltas]
    nabla_w = [d.T @ a for d, a in zip(deltas, activations[:-1])]
    return nabla_b, nabla_w


def _columns(value, n: int, name: str) -> np.ndarray:
    """Examples as columns (n, m), Nielsen's x and y; a 1-D vector is one column."""
    arr = _array(value, name)
    if arr.ndim == 1:
        arr = arr.reshape(-1, 1)
    if arr.ndim != 2 or arr.shape[0] != n:
        raise NielsenError(f"{name} must be a column vector of shape ({n}, 1) (or {n} rows, one column per example), got shape {arr.shape}")
    return arr


def backprop(net: Network, x: ArrayLike, y: ArrayLike) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """Nielsen's ``backprop(x, y)`` computed by deltaprop: (nabla_b, nabla_w) for the example x
    (n_1, 1) with desired output y (n_L, 1); for several columns, their sum (``from_gradients``)."""
    x = _columns(x, net.sizes[0], "x")
    y = _columns(y, net.sizes[-1], "y")
    if x.shape[1] != y.shape[1]:
        raise NielsenError(f"x has {x.shape[1]} columns (examples) but y has {y.shape[1]}")
    return from_gradients(net.backward(x.T, y.T))


def update_mini_batch(net: Network, mini_batch: Iterable[tuple[ArrayLike, ArrayLike]], eta: float, lmbda: float = 0.0,
                      n: int | None = None) -> Gradients:
    """Nielsen's ``update_mini_batch``: one gradient-descent step on ``net`` (in place) for the
    list of (x, y) column pairs, w → (1 − ηλ/n) w − (η/len(mini_batch)) Σ_x nabla_w and
    b → b − (η/len(mini_batch)) Σ_x nabla_b (``network.py``: λ = 0). ``n`` is the size of the
    whole training set (network2's regularisation λ/(2n) Σ w²). Returns the step's ``Gradients``."""
    pairs = list(mini_batch)
    if not pairs:
        raise NielsenError("mini_batch is empty; expected a list of (x, y) column pairs")
    if lmbda and (n is None or n <= 0):
        raise NielsenError(f"lmbda={lmbda} needs n, the number of training examples (network2's λ/(2n) Σ w²)")
    X = np.hstack([_columns(x, net.sizes[0], f"mini_batch[{i}] x") for i, (x, _) in enumerate(pairs)])
    Y = np.hstack([_columns(y, net.sizes[-1], f"mini_batch[{i}] y") for i, (_, y) in enumerate(pairs)])
    grads = net.backward(X.T, Y.T, l2=lmbda * len(pairs) / n if lmbda else 0.0)
    params = [p for W, b in zip(net.weights, net.biases) for p in (W, b)]
    SGD(eta).step(params, [g for gW, gb in zip(grads.weights, grads.biases) for g in (gW, gb)])
    return grads


# ---------------------------------------------------------------------------------- the checker
def _learner(network, sizes):
    """(the object whose biases/weights we set, its backprop, the sizes) for a class, an
    instance or a bound ``backprop``."""
    if isinstance(network, type):
        try:
            obj = network(list(sizes))
        except Exception as exc:
            raise NielsenError(f"{network.__name__}({list(sizes)}) raised {type(exc).__name__}: {exc}") from exc
        return obj, obj.backprop if hasattr(obj, "backprop") else None, list(sizes)
    if inspect.ismethod(network):
        obj, method = network.__self__, network
    else:
        obj, method = network, getattr(network, "backprop", None)
    if not callable(method) or not hasattr(obj, "weights"):
        raise NielsenError(
            "check_backprop needs the Network class of network.py/network2.py, an instance of it, "
            f"or its bound backprop method; got {type(network).__name__}"
        )
    weights = list(obj.weights)
    return obj, method, [np.shape(weights[0])[1]] + [np.shape(w)[0] for w in weights]


def _nablas(out, shapes_b, shapes_w):
    """The learner's (nabla_b, nabla_w) as float arrays, and a finding if they came swapped."""
    L = len(shapes_w)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise NielsenError(f"backprop(x, y) must return the pair (nabla_b, nabla_w), got {type(out).__name__}")
    first, second = out
    lists = []
    for name, arrays in (("nabla_b", first), ("nabla_w", second)):
        try:
            arrays = list(arrays)
        except TypeError:
            raise NielsenError(f"backprop(x, y) returned {type(arrays).__name__} for {name}; expected a list of {L} arrays") from None
        if len(arrays) != L:
            raise NielsenError(f"backprop(x, y) returned {len(arrays)} arrays in {name}; the network has {L} layers after the input")
        lists.append([_array(a, f"{name}[{i}]") for i, a in enumerate(arrays)])
    nabla_b, nabla_w = lists
    swapped = [a.shape for a in nabla_b] == shapes_w and [a.shape for a in nabla_w] == shapes_b
    return (nabla_w, nabla_b) if swapped else (nabla_b, nabla_w), swapped


def _merge(diagnoses, layout, course):
    """One Diagnosis from the per-example ones: each (array, kind) once (with the first example it
    showed in), an array's "correct" dropped where some example found it wrong, and the course's
    layout findings first (they replace the engine's "correct"/"shape" of their arrays)."""
    owned = {f.array for f in layout}
    found = {}
    for i, diagnosis in enumerate(diagnoses):
        for f in diagnosis.findings:
            if f.array in owned and f.kind in ("correct", "shape"):
                continue
            found.setdefault((f.array, f.kind), replace(f, evidence={**f.evidence, "example": i}))
    wrong = owned | {array for array, kind in found if kind != "correct"}
    kept = [f for (array, kind), f in found.items() if kind != "correct" or array not in wrong]
    return Diagnosis(findings=list(layout) + kept, course=course)


def check_backprop(network: type | Any, *, cost: str | Any | None = None, sizes: Sequence[int] | None = None,
                   n_examples: int = 3, seed: int | np.random.Generator = 0) -> Diagnosis:
    """What is wrong with the learner's ``backprop(x, y)``, as a ``deltaprop.diagnose.Diagnosis``.

    ``network`` is the ``Network`` class of their ``network.py`` or ``network2.py`` (built as
    ``Network(sizes)``, by default sizes [3, 4, 2]), an instance of it (its own sizes), or its
    bound ``backprop`` method. Its ``biases`` and ``weights`` are set to a fixed seeded set-up
    (an instance's own are put back afterwards), ``backprop(x, y)`` is called for
    ``n_examples`` single examples (x a (n_1, 1) column in [0, 1), y a one-hot column), and each
    (nabla_b, nabla_w) is compared with deltaprop's ∂C_x/∂b, ∂C_x/∂w. The cost is read from
    the network: none (``network.py``) is the ½ quadratic cost, network2's ``self.cost`` is
    ``QuadraticCost`` or ``CrossEntropyCost``; ``cost="quadratic"|"cross_entropy"`` overrides.

    Arrays are named ``nabla_w[0]``, ``nabla_b[0]``, ... in the findings; Nielsen's layout adds
    two of its own: a ``nabla_b[i]`` that is not a column like ``biases[i]`` (``shape``), and
    (nabla_w, nabla_b) returned in the wrong order (``shape``, on ``backprop``).
    """
    if int(n_examples) < 1:
        raise NielsenError(f"n_examples must be at least 1, got {n_examples}")
    obj, method, sizes = _learner(network, SIZES if sizes is None else sizes)
    if method is None:
        raise NielsenError(f"{type(obj).__name__} has no backprop method")
    if cost is None:  # network2 keeps its cost class (with fn and delta) in self.cost; network.py has none
        cost = getattr(obj, "cost", None)
        cost = cost if hasattr(cost, "delta") else "quadratic"
    key = _cost_key(cost)
    rng = as_generator(seed)
    biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    net = to_network((biases, weights), cost=key)
    shapes_b, shapes_w = [b.shape for b in biases], [w.shape for w in weights]
    L = len(weights)
    names = {"W": [f"nabla_w[{i}]" for i in range(L)], "b": [f"nabla_b[{i}]" for i in range(L)]}

    saved = None if isinstance(network, type) else (obj.biases, obj.weights)
    diagnoses, layout = [], {}
    try:
        for _ in range(int(n_examples)):
            x = rng.uniform(0.0, 1.0, (sizes[0], 1))
            y = np.zeros((sizes[-1], 1))
            y[rng.integers(sizes[-1])] = 1.0
            obj.biases, obj.weights = [b.copy() for b in biases], [w.copy() for w in weights]
            try:
                out = method(x.copy(), y.copy())
            except Exception as exc:
                raise NielsenError(
                    f"backprop(x, y) raised {type(exc).__name__}: {exc} (x is a {x.shape} column, y a "
                    f"{y.shape} column, weights {shapes_w}, biases {shapes_b})"
                ) from exc
            (nabla_b, nabla_w), swapped = _nablas(out, shapes_b, shapes_w)
            if swapped:
                layout.setdefault("backprop", Finding(
                    kind="shape", array="backprop",
                    message="backprop(x, y) returned (nabla_w, nabla_b); Nielsen's order is (nabla_b, nabla_w), "
                            "the order update_mini_batch unpacks",
                    evidence={"pattern": "swapped"}))
            for i, (nb, shape) in enumerate(zip(nabla_b, shapes_b)):
                if nb.shape != shape:
                    layout.setdefault(names["b"][i], Finding(
                        kind="shape", array=names["b"][i],
                        message=f"nabla_b[{i}] has shape {nb.shape}; ∂C_x/∂b^{i + 2} = δ^{i + 2} is a column "
                                f"like self.biases[{i}], shape {shape} (update_mini_batch adds the two)",
                        evidence={"expected_shape": shape, "shape": nb.shape}))
                    if nb.size == shape[0]:
                        nabla_b[i] = nb.reshape(shape)  # the values are still checked
            diagnoses.append(diagnose(net, x.T, y.T, weights=nabla_w, biases=nabla_b, names=names,
                                      notation="nielsen"))
    finally:
        if saved is not None:
            obj.biases, obj.weights = saved
    return _merge(diagnoses, list(layout.values()), "nielsen")
