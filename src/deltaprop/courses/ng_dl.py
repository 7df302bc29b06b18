"""deeplearning.ai, *Neural Networks and Deep Learning* (Course 1): the course's layout, both ways.

The notebooks "Building your Deep Neural Network: Step by Step" (week 4) and "Planar data
classification with one hidden layer" (week 3) write, for layers l = 0 (input), 1, ..., L:

* ``parameters["W" + str(l)]`` = W^[l], shape (n^[l], n^[l-1]) — deltaprop's ``weights[l-1]``
  as it stands — and ``parameters["b" + str(l)]`` = b^[l], a column vector (n^[l], 1).
* Examples are the *columns*: X = A^[0] of shape (n^[0], m), Y of shape (1, m) (one sigmoid
  output for two classes) or (n^[L], m); deltaprop's rows are their transposes.
* Forward: Z^[l] = W^[l] A^[l-1] + b^[l], A^[l] = g^[l](Z^[l]), with LINEAR->RELU × (L−1) then
  LINEAR->SIGMOID (week 4) or one tanh hidden layer and a sigmoid output (week 3), and the cost
  J = −(1/m) Σ_i [y^(i) log a^[L](i) + (1 − y^(i)) log(1 − a^[L](i))] (binary cross-entropy).
* ``caches`` of ``L_model_forward``: a list with one ``(linear_cache, activation_cache)`` per
  layer, ``linear_cache = (A_prev, W, b)`` and ``activation_cache = Z``; the week-3 ``cache`` is
  the dict ``{"Z1", "A1", "Z2", "A2"}``.
* Backward (``L_model_backward(AL, Y, caches)`` → ``grads``): dAL = −(Y/AL − (1 − Y)/(1 − AL)),
  dZ^[l] = dA^[l] ⊙ g'(Z^[l]) (so dZ^[L] = AL − Y), dW^[l] = (1/m) dZ^[l] A^[l-1]ᵀ,
  db^[l] = (1/m) Σ_i dZ^[l] (``np.sum(dZ, axis=1, keepdims=True)``, shape (n^[l], 1)) and
  dA^[l-1] = W^[l]ᵀ dZ^[l]; the dict holds ``grads["dW" + str(l)]``, ``grads["db" + str(l)]``
  and ``grads["dA" + str(l - 1)]`` (dA0 … dA^[L-1]). Week 3: dZ2 = A2 − Y,
  dZ1 = W2ᵀ dZ2 * (1 − A1²).

In deltaprop's symbols dZ^[l] = (δ^l)ᵀ (one column per example, not divided by m), dW^[l] =
∂C/∂W^l and db^[l] = ∂C/∂b^l as a column. The checkers run the learner's function on a fixed,
seeded test case built by deltaprop's engine (``L_model_backward_test_case``,
``backward_propagation_test_case``) and explain what is wrong with ``deltaprop.diagnose``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from scipy.special import xlogy

from ..diagnose import Diagnosis, Finding, diagnose, finding
from ..network import Gradients, Network

__all__ = [
    "L_model_backward_test_case",
    "L_model_forward",
    "NgDLError",
    "backward_propagation_test_case",
    "check_L_model_backward",
    "check_backward_propagation",
    "compute_cost",
    "forward_propagation",
    "from_gradients",
    "from_network",
    "to_network",
]

COURSE = "ng-dl"
#: Finding kinds that come from a wrong dZ^[l]: dA^[l-1] = W^[l]ᵀ dZ^[l] shares them with dW^[l].
_DZ_KINDS = ("missing_activation_derivative", "derivative_at_activation", "wrong_output_delta", "unknown")


class NgDLError(ValueError):
    """Input in the course's layout that does not fit it (one line: what, where, what is expected)."""


# ---------------------------------------------------------------------------------- converters
def _array(value, name: str) -> np.ndarray:
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NgDLError(f"{name} must be a NumPy array of numbers, got {type(value).__name__}") from None
    return arr


def _layers(parameters, where: str = "parameters") -> tuple[list, list]:
    """[W^[1], ...], [b^[1] as (n,), ...] from the course's dict, its shapes checked."""
    if isinstance(parameters, Network):
        return list(parameters.weights), list(parameters.biases)
    if not isinstance(parameters, Mapping):
        raise NgDLError(f"{where} must be the course's dict {{'W1': ..., 'b1': ...}}, got {type(parameters).__name__}")
    L = sum(1 for k in parameters if isinstance(k, str) and k.startswith("W"))
    missing = [f"{s}{l}" for l in range(1, L + 1) for s in "Wb" if f"{s}{l}" not in parameters]
    if L == 0 or missing:
        raise NgDLError(f"{where} lacks {', '.join(missing) or 'W1, b1'}; expected W1, b1, ..., WL, bL")
    weights, biases = [], []
    for l in range(1, L + 1):
        W, b = _array(parameters[f"W{l}"], f"{where}['W{l}']"), _array(parameters[f"b{l}"], f"{where}['b{l}']")
        if W.ndim != 2 or (l > 1 and W.shape[1] != weights[-1].shape[0]):
            n_prev = "n^[0]" if l == 1 else weights[-1].shape[0]
            raise NgDLError(f"{where}['W{l}'] has shape {W.shape}, expected (n^[{l}], {n_prev})")
        if b.shape != (W.shape[0], 1):
            raise NgDLError(f"{where}['b{l}'] has shape {b.shape}, expected the column vector ({W.shape[0]}, 1)")
        if not (np.isfinite(W).all() and np.isfinite(b).all()):
            raise NgDLError(f"{where}['W{l}'] or ['b{l}'] holds NaN or infinity")
        weights.append(W)
        biases.append(b[:, 0])
    return weights, biases


def to_network(parameters: Mapping[str, ArrayLike] | Network, activation: str = "relu", output: str = "sigmoid",
               cost: str = "binary_cross_entropy") -> Network:
    """A deltaprop ``Network`` from the course's ``parameters`` dict (W1 (n_1, n_0), b1 (n_1, 1), ...).

    The default is week 4's LINEAR->RELU × (L−1) -> LINEAR->SIGMOID with binary cross-entropy;
    week 3's planar network is ``activation="tanh"``."""
    weights, biases = _layers(parameters)
    sizes = [weights[0].shape[1]] + [W.shape[0] for W in weights]
    net = Network(sizes, activation=activation, output=output, cost=cost, init="glorot", seed=0)
    net.weights, net.biases = weights, biases
    return net


def from_network(net: Network) -> dict[str, np.ndarray]:
    """The course's ``parameters`` dict (copies) of a ``Network``: W^[l] as it is, b^[l] as (n_l, 1)."""
    out = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases), start=1):
        out[f"W{l}"], out[f"b{l}"] = np.array(W, dtype=np.float64), np.array(b, dtype=np.float64).reshape(-1, 1)
    return out


def from_gradients(grads: Gradients, parameters: Mapping[str, ArrayLike] | Network | None = None) -> dict[str, np.ndarray]:
    """The course's ``grads`` dict of deltaprop ``Gradients``: dW^[l], db^[l] (n_l, 1) and, when the
    network's ``parameters`` (the dict or the ``Network``) are given, dA^[l-1] = W^[l]ᵀ dZ^[l]
    (n_{l-1}, m), with dZ^[l] = (δ^l)ᵀ. Keys in ``L_model_backward``'s order: dA^[L-1], dW^[L],
    db^[L], dA^[L-2], ...."""
    weights = None if parameters is None else _layers(parameters)[0]
    out = {}
    for l in range(len(grads.weights), 0, -1):
        if weights is not None:
            out[f"dA{l - 1}"] = (grads.deltas[l - 1] @ weights[l - 1]).T
        out[f"dW{l}"] = np.array(grads.weights[l - 1], dtype=np.float64)
        out[f"db{l}"] = np.array(grads.biases[l - 1], dtype=np.float64).reshape(-1, 1)
    return out


def _columns(X, n: int, name: str) -> np.ndarray:
    X = _array(X, name)
    if X.ndim != 2 or X.shape[0] != n:
        raise NgDLError(f"{name} has shape {X.shape}, expected ({n}, m): one column per example")
    if not np.isfinite(X).all():
        raise NgDLError(f"{name} holds NaN or infinity")
    return X


def _forward(net: Network, X):
    """(zs, activations) of the engine for course-layout X (n_0, m), in the engine's rows."""
    X = _columns(X, net.sizes[0], "X")
    return net.feedforward(np.ascontiguousarray(X.T))


def L_model_forward(X: ArrayLike, parameters: Mapping[str, ArrayLike]) -> tuple[np.ndarray, list[tuple[tuple[np.ndarray, np.ndarray, np.ndarray], np.ndarray]]]:
    """The course's ``L_model_forward``: (AL (n_L, m), caches), computed by deltaprop's engine.

    ``caches[l-1] = ((A_prev, W, b), Z)`` for layer l, as ``linear_activation_forward`` stores it."""
    net = to_network(parameters)
    zs, a = _forward(net, X)
    caches = [((a[l - 1].T, net.weights[l - 1].copy(), net.biases[l - 1].reshape(-1, 1).copy()), zs[l - 1].T)
              for l in range(1, net.n_layers + 1)]
    return a[-1].T, caches


def forward_propagation(X: ArrayLike, parameters: Mapping[str, ArrayLike]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Week 3's ``forward_propagation``: (A2, cache) with cache = {"Z1", "A1", "Z2", "A2"}
    (tanh hidden layer, sigmoid output), computed by deltaprop's engine."""
    net = to_network(parameters, activation="tanh")
    if net.n_layers != 2:
        raise NgDLError(f"parameters has {net.n_layers} layers; forward_propagation is the one-hidden-layer net (W1, b1, W2, b2)")
    zs, a = _forward(net, X)
    return a[2].T, {"Z1": zs[0].T, "A1": a[1].T, "Z2": zs[1].T, "A2": a[2].T}


def compute_cost(AL: ArrayLike, Y: ArrayLike) -> float:
    """J = −(1/m) Σ [Y log AL + (1 − Y) log(1 − AL)] (AL and Y of shape (1, m); Y is reshaped to
    AL's shape as the course does)."""
    AL = _array(AL, "AL")
    Y = _array(Y, "Y")
    if AL.ndim != 2 or Y.size != AL.size:
        raise NgDLError(f"AL has shape {AL.shape} and Y {Y.shape}; expected both (1, m)")
    Y = Y.reshape(AL.shape)
    return float(-(xlogy(Y, AL) + xlogy(1 - Y, 1 - AL)).sum() / AL.shape[1])


# ---------------------------------------------------------------------------------- test cases
def _draw(sizes, m: int, seed: int):
    rng = np.random.default_rng(seed)
    parameters = {}
    for l in range(1, len(sizes)):
        parameters[f"W{l}"] = rng.standard_normal((sizes[l], sizes[l - 1]))
        parameters[f"b{l}"] = rng.standard_normal((sizes[l], 1))
    X = rng.standard_normal((sizes[0], m))
    Y = (np.arange(m) % 2 == 0).astype(np.float64).reshape(1, m)  # 1, 0, 1, 0, ...: both classes
    return parameters, X, Y


#: The week-4 set-up: layer sizes [5, 4, 3, 1] (no W^[l] square, so a transposed dW shows in its
#: shape) and m = 6 examples (not a layer size, so a db summed over the wrong axis shows in its
#: shape), like the notebook's ``L_model_backward_test_case`` but consistent (the caches come
#: from a real forward pass). W, b, X drawn from ``default_rng(11)`` at unit scale, so that every
#: hidden unit has both Z > 0 and Z <= 0 (relu' = 0 matters) and AL stays in (0.1, 0.9);
#: Y = [[1, 0, 1, 0, 1, 0]].
DEEP_SIZES, DEEP_M, DEEP_SEED = (5, 4, 3, 1), 6, 11
#: The week-3 set-up: n_x = 2, n_h = 4, n_y = 1 and m = 3 as in ``backward_propagation_test_case``,
#: drawn from ``default_rng(2)`` at unit scale (not 0.01) so that 1 − A1² is far from 1.
PLANAR_SIZES, PLANAR_M, PLANAR_SEED = (2, 4, 1), 3, 2


def L_model_backward_test_case() -> tuple[np.ndarray, np.ndarray, list[Any]]:
    """(AL, Y, caches) of the week-4 set-up (``DEEP_SIZES``), as the notebook's test case returns them."""
    parameters, X, Y = _draw(DEEP_SIZES, DEEP_M, DEEP_SEED)
    AL, caches = L_model_forward(X, parameters)
    return AL, Y, caches


def backward_propagation_test_case() -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], np.ndarray, np.ndarray]:
    """(parameters, cache, X, Y) of the week-3 set-up (``PLANAR_SIZES``), as the notebook's."""
    parameters, X, Y = _draw(PLANAR_SIZES, PLANAR_M, PLANAR_SEED)
    return parameters, forward_propagation(X, parameters)[1], X, Y


# ---------------------------------------------------------------------------------- checkers
def _call(fn, signature: str, *args):
    if not callable(fn):
        raise NgDLError(f"expected your function {signature}, got {type(fn).__name__}")
    try:
        grads = fn(*copy.deepcopy(args))
    except Exception as exc:  # the learner's code: say where it failed, in one line
        raise NgDLError(f"{signature} raised {type(exc).__name__}: {exc}") from exc
    if not isinstance(grads, Mapping):
        raise NgDLError(f"{signature} must return the dict grads {{'dW1': ..., 'db1': ...}}, got {type(grads).__name__}")
    return grads


def _worst(expected, given):
    diff = np.abs(np.asarray(given) - expected)
    index = np.unravel_index(int(np.nanargmax(diff)) if np.isfinite(diff).any() else 0, expected.shape)
    return tuple(int(i) for i in index), float(expected[index]), float(np.asarray(given)[index])


def _close(a, b, rtol, atol) -> bool:
    return np.shape(a) == np.shape(b) and bool(np.allclose(a, b, rtol=rtol, atol=atol))


def _finding(kind, array, message, expected=None, given=None, **evidence) -> Finding:
    """A ``Finding``, with the worst element of ``given`` against ``expected`` where both are given."""
    if expected is not None and np.shape(expected) == np.shape(given):
        evidence["index"], evidence["expected"], evidence["given"] = _worst(expected, given)
    return finding(kind, array, message, **evidence)


def _layer_shift(truth, l, G, m, rtol, atol):
    """q where the learner's dW^[l] of a wrong shape is (1/m) dZ^[l] A^[q]ᵀ (A of the wrong layer;
    ``diagnose`` looks for it only where the shapes fit), or None."""
    for q, a in enumerate(truth.activations):
        D = truth.deltas[l - 1].T @ a / m
        if q != l - 1 and _close(G, D, rtol, atol):
            return q
    return None


def _check_grads(net, X, Y, grads, signature, l2=0.0, rtol=1e-5, atol=1e-9, reference=None):
    """The learner's dW/db (course layout) through ``deltaprop.diagnose``, everything named as the
    course names it; the course's own shape rules (db a column (n, 1); a dW with A of the wrong
    layer) found here. ``reference`` is (net, Y rows) to diagnose against instead (the learner's
    own dZ^[L], see ``_output_delta``)."""
    L = net.n_layers
    names = {"W": [f"dW{l}" for l in range(1, L + 1)], "b": [f"db{l}" for l in range(1, L + 1)]}
    missing = [k for k in names["W"] + names["b"] if k not in grads]
    if missing:
        raise NgDLError(f"the grads that {signature} returned lack {', '.join(missing)}; "
                        f"expected grads['dW' + str(l)] and grads['db' + str(l)] for l = 1..{L}")
    ref_net, ref_Y = reference or (net, Y)
    truth = ref_net.backward(X, ref_Y, l2=l2)
    m = X.shape[0]
    weights, biases, own, reshaped = [], [], [], set()
    for l, key in enumerate(names["W"], start=1):
        dW, shape = _array(grads[key], f"grads['{key}']"), truth.weights[l - 1].shape
        q = None if dW.shape in (shape, shape[::-1]) else _layer_shift(truth, l, dW, m, rtol, atol)
        weights.append(dW if q is None else None)
        if q is not None:
            own.append(_finding("layer_shift", key, f"{key} = (1/m) dZ^[{l}] A^[{q}]ᵀ uses A^[{q}] where A^[{l - 1}] "
                                f"belongs (shape {dW.shape}, expected {shape}): dW^[{l}] = (1/m) dZ^[{l}] A^[{l - 1}]ᵀ",
                                layer=l, pattern=f"a^{q}", expected_shape=shape, given_shape=dW.shape))
    for l, key in enumerate(names["b"], start=1):
        db, n = _array(grads[key], f"grads['{key}']"), net.sizes[l]
        if db.shape == (n, 1):
            biases.append(db)
            continue
        usable = db.shape == (n,)  # without keepdims: the values can still be checked
        if usable:
            reshaped.add(key)
        biases.append(db if usable else None)
        hint = "its values are right, " if usable and _close(db, truth.biases[l - 1], rtol, atol) else ""
        own.append(_finding("shape", key, f"{key} has shape {db.shape}, expected the column vector ({n}, 1): "
                            f"{hint}db^[{l}] = (1/m) np.sum(dZ^[{l}], axis=1, keepdims=True)",
                            layer=l, expected_shape=(n, 1), given_shape=db.shape))
    diagnosis = diagnose(ref_net, X, ref_Y, weights=weights, biases=biases, l2=l2, names=names,
                         notation=COURSE, rtol=rtol, atol=atol)
    found = [f for f in diagnosis.findings if not (f.array in reshaped and f.kind == "correct")]
    return found + own, truth


def _output_delta(net, X, Y, truth, dA_prev, rtol, atol):
    """A wrong dAL, found from the learner's dA^[L-1] = W^[L]ᵀ dZ^[L]: their dZ^[L] is recovered by
    one least-squares solve and compared with AL − Y. Returns (finding, reference), reference =
    (network, Y rows) whose engine gradients are those of a correct backward pass from the
    learner's own dZ^[L] (an identity output with the ½-quadratic cost has δ^L = Z^L − Y', so
    Y' = Z^L − dZ^[L] makes δ^L their dZ^[L] and leaves every layer below as it is); None when
    dA^[L-1] does not say (absent, of the wrong shape, right, not W^[L]ᵀ times anything) or when
    dAL is right and sigmoid_backward is not (``diagnose`` names that)."""
    L = net.n_layers
    W = net.weights[L - 1]
    if (dA_prev is None or np.shape(dA_prev) != (net.sizes[L - 1], X.shape[0]) or not np.isfinite(dA_prev).all()
            or np.linalg.matrix_rank(W) < W.shape[0]):
        return None
    dZ_true = truth.deltas[L - 1].T
    dZ = np.linalg.lstsq(W.T, dA_prev, rcond=None)[0]
    if _close(dA_prev, W.T @ dZ_true, rtol, atol) or not _close(W.T @ dZ, dA_prev, rtol, atol):
        return None
    AL, ZL, Yc = truth.activations[L].T, truth.zs[L - 1].T, Y.T
    dAL = -(Yc / AL - (1 - Yc) / (1 - AL))
    s = 1 / (1 + np.exp(-AL))
    if any(_close(dZ, d, rtol, atol) for d in (dAL, dAL * s * (1 - s), dAL * ZL * (1 - ZL))):
        return None  # σ' left out, σ'(A), the a(1 − a) formula at Z: a sigmoid_backward mistake
    ratio = np.divide(dZ, dZ_true, out=np.full_like(dZ, np.nan), where=dZ_true != 0)
    factor = float(ratio.flat[0]) if np.allclose(ratio, ratio.flat[0], rtol=rtol) else None
    right = "dAL = −(np.divide(Y, AL) − np.divide(1 − Y, 1 − AL))"
    if factor is not None and np.isclose(factor, -1, rtol=rtol):
        factor, pattern = -1.0, f"dAL has the wrong sign: {right}"
    elif factor is not None:
        pattern = f"dAL is {factor:.6g} times the right one: {right}"
    elif _close(dZ, dZ_true * AL * (1 - AL), rtol, atol):
        pattern = f"dAL = AL − Y is dZ^[{L}] itself, which sigmoid_backward then multiplies by σ'(Z^[{L}]) once more: {right}"
    else:
        pattern = f"it must be {right}"
    finding = _finding("wrong_output_delta", "dAL", f"dAL is wrong, so dZ^[{L}] is not A^[{L}] − Y and every dW, db, dA "
                       f"below it is off: {pattern}", expected=dZ_true, given=dZ, factor=factor, layer=L,
                       compared=f"dZ{L}", layers=list(range(L, 0, -1)),
                       arrays=[k for l in range(L, 0, -1) for k in (f"dA{l - 1}", f"dW{l}", f"db{l}")])
    config = net.config()
    config["activations"][-1], config["cost"] = {"name": "identity"}, "half_quadratic"
    own = Network.from_config(config)
    own.weights, own.biases = list(net.weights), list(net.biases)
    return finding, (own, truth.zs[L - 1] - dZ.T)


def _dA_findings(grads, net, truth, findings, rtol, atol, explained=None):
    """Findings for dA^[l-1] = W^[l]ᵀ dZ^[l], l = L..1, where the learner's grads hold them (the
    2017 notebook's keys, ``grads["dA" + str(l)]`` = dA^[l-1], are read as such). ``explained``:
    reference gradients whose dA are the learner's once their dZ^[L] is taken as given."""
    L = net.n_layers
    shift = f"dA{L}" in grads and "dA0" not in grads
    # the kind of the finding that explains dZ^[l]: on dW^[l]/db^[l], or reaching them from above
    dZ_kind = {}
    for f in findings:
        if f.kind in _DZ_KINDS:
            for a in [f.array, *f.evidence.get("arrays", [])]:
                dZ_kind.setdefault(a, f.kind)
    out = []
    for l in range(L, 0, -1):
        key = f"dA{l if shift else l - 1}"
        if key not in grads:
            continue
        given = _array(grads[key], f"grads['{key}']")
        expected = ((explained or truth).deltas[l - 1] @ net.weights[l - 1]).T
        dA = f"dA^[{l - 1}] = W^[{l}]ᵀ dZ^[{l}]"
        if _close(given, expected, rtol, atol):
            if explained is None:  # else it is right for the learner's dZ^[L], wrong only through it
                out.append(_finding("correct", key, f"{key} matches {dA}"))
        elif _close(given, expected.T, rtol, atol):
            out.append(_finding("transposed", key, f"{key} is transposed: {dA} has shape {expected.shape}",
                                layer=l, expected_shape=expected.shape))
        elif given.shape != expected.shape:
            out.append(_finding("shape", key, f"{key} has shape {given.shape}, expected {expected.shape}: {dA}",
                                layer=l, expected_shape=expected.shape, given_shape=given.shape))
        elif f"dW{l}" in dZ_kind or f"db{l}" in dZ_kind:
            kind = dZ_kind.get(f"dW{l}", dZ_kind.get(f"db{l}"))
            out.append(_finding(kind, key, f"{key} is off because dZ^[{l}] is ({kind}, as in dW{l} and db{l}): {dA}",
                                expected=expected, given=given, layer=l))
        elif _close(given, -expected, rtol, atol):
            out.append(_finding("sign", key, f"{key} has the wrong sign: {dA}",
                                expected=expected, given=given, factor=-1.0, layer=l))
        else:
            out.append(_finding("unknown", key, f"{key} is wrong and matches no known mistake: {dA}",
                                expected=expected, given=given, layer=l))
    return out


def _order(findings, L):
    """The findings in ``L_model_backward``'s order: dAL, then dA^[l-1], dW^[l], db^[l] for l = L..1."""
    rank = {"dAL": -1, f"dA{L}": 0}  # dA{L}: the 2017 keys
    for l in range(L, 0, -1):
        for k in (f"dA{l - 1}", f"dW{l}", f"db{l}"):
            rank.setdefault(k, len(rank))
    return sorted(findings, key=lambda f: rank.get(f.array, len(rank)))


def _setup(parameters, X, Y, sizes, m, seed, activation):
    """(parameters, X, Y, network): the course's test case, or the three given, checked."""
    if parameters is None and X is None and Y is None:
        parameters, X, Y = _draw(sizes, m, seed)
    elif parameters is None or X is None or Y is None:
        raise NgDLError("give parameters, X and Y together (or none of them for the course's test case)")
    net = to_network(parameters, activation=activation)
    X, Y = _columns(X, net.sizes[0], "X"), _columns(Y, net.sizes[-1], "Y")
    if Y.shape[1] != X.shape[1]:
        raise NgDLError(f"Y has {Y.shape[1]} columns but X has {X.shape[1]} examples; expected one label per column of X")
    return parameters, X, Y, net


def check_L_model_backward(fn: Callable[..., Mapping[str, ArrayLike]], *, parameters: Mapping[str, ArrayLike] | None = None,
                           X: ArrayLike | None = None, Y: ArrayLike | None = None, rtol: float = 1e-5,
                           atol: float = 1e-9) -> Diagnosis:
    """Run the learner's ``L_model_backward(AL, Y, caches)`` on the week-4 test case (or on
    ``parameters``, ``X`` (n_0, m) and ``Y`` (1, m) given together) and say what is wrong with each
    dW^[l], db^[l] and dA^[l-1]: a ``deltaprop.diagnose.Diagnosis`` with course "ng-dl".

    A wrong dAL is found first, from the learner's dA^[L-1]: one ``wrong_output_delta`` finding on
    "dAL" whose ``evidence["arrays"]`` are all the arrays it reaches. The dW and db are then
    diagnosed against a correct backward pass from the learner's own dZ^[L], so that only further
    mistakes add findings. (Without dA in grads, a dAL of the wrong sign reads as ``sign``.)"""
    parameters, X, Y, net = _setup(parameters, X, Y, DEEP_SIZES, DEEP_M, DEEP_SEED, "relu")
    AL, caches = L_model_forward(X, parameters)
    rows_X, rows_Y = np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T)
    signature = "L_model_backward(AL, Y, caches)"
    grads = _call(fn, signature, AL, Y, caches)
    L = net.n_layers
    truth = net.backward(rows_X, rows_Y)
    shift = f"dA{L}" in grads and "dA0" not in grads
    dA_key = f"dA{L if shift else L - 1}"
    dA_prev = _array(grads[dA_key], f"grads['{dA_key}']") if dA_key in grads else None
    found = _output_delta(net, rows_X, rows_Y, truth, dA_prev, rtol, atol)
    head, reference = ([], None) if found is None else ([found[0]], found[1])
    findings, used = _check_grads(net, rows_X, rows_Y, grads, signature, rtol=rtol, atol=atol, reference=reference)
    if reference is not None:  # arrays right for the learner's dZ^[L] are explained by it
        findings = [f for f in findings if f.kind != "correct"]
    findings += _dA_findings(grads, net, truth, findings, rtol, atol, explained=used if reference else None)
    return Diagnosis(findings=_order(head + findings, L), course=COURSE)


def check_backward_propagation(fn: Callable[..., Mapping[str, ArrayLike]], *, parameters: Mapping[str, ArrayLike] | None = None,
                               X: ArrayLike | None = None, Y: ArrayLike | None = None, rtol: float = 1e-5,
                               atol: float = 1e-9) -> Diagnosis:
    """Run the learner's week-3 ``backward_propagation(parameters, cache, X, Y)`` on the planar test
    case (or on ``parameters``, ``X``, ``Y`` given together) and say what is wrong with dW1, db1,
    dW2, db2: a ``deltaprop.diagnose.Diagnosis`` with course "ng-dl"."""
    parameters, X, Y, net = _setup(parameters, X, Y, PLANAR_SIZES, PLANAR_M, PLANAR_SEED, "tanh")
    _, cache = forward_propagation(X, parameters)
    signature = "backward_propagation(parameters, cache, X, Y)"
    grads = _call(fn, signature, from_network(net), cache, X, Y)
    findings, _ = _check_grads(net, np.ascontiguousarray(X.T), np.ascontiguousarray(Y.T), grads, signature,
                               rtol=rtol, atol=atol)
    return Diagnosis(findings=_order(findings, net.n_layers), course=COURSE)
