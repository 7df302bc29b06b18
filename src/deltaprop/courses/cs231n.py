"""Stanford CS231n's two-layer net (assignment 1 ``TwoLayerNet``, assignment 2 ``fc_net.TwoLayerNet``) ⇄ deltaprop.

CS231n's layout and symbols
---------------------------
* ``X`` (N, D): N examples as rows, as in deltaprop; ``y`` (N,) the class indices 0..C−1.
* ``params``: ``W1`` (D, H), ``b1`` (H,), ``W2`` (H, C), ``b2`` (C,) (and ``W3``, ``b3``, ... for
  ``FullyConnectedNet``'s deeper nets). The weights multiply from the right,

      hidden = max(0, X W1 + b1)        scores = hidden W2 + b2        (N, C)

  so deltaprop's W^l (n_l, n_{l−1}) is ``W{l}.T``; the biases are the same vectors.
* The softmax loss, averaged over the N examples, plus the regularisation of the weights
  (never the biases), in one of two conventions:

      reg_convention="sum"    loss += reg · (ΣW1² + ΣW2²)        dW += 2·reg·W   (assignment 1)
      reg_convention="half"   loss += 0.5·reg · (ΣW1² + ΣW2²)    dW += reg·W     (assignment 2)

  In deltaprop's convention, J += λ/(2N) Σ W², "sum" is λ = 2·N·reg and "half" is λ = N·reg.
* ``grads`` has the keys of ``params`` and their shapes: ``grads["W1"]`` = dW1 (D, H), ... The
  backward pass in the course's names: dscores = (probs − one_hot(y)) / N (deltaprop's δ^L / N),
  dW2 = hidden.T dscores, dhidden = dscores W2.T, dhidden[hidden ≤ 0] = 0 (the ReLU mask),
  dW1 = X.T dhidden.

deltaprop's network for it: ``Network([D, H, C], activation="relu", output="softmax",
cost="cross_entropy")``. The converters ``to_network(params)``, ``from_network(net)`` → params,
``from_gradients(grads)`` → grads; ``loss(params, X, y, reg, reg_convention)`` is the course's
``loss`` computed by deltaprop; ``check_loss(model)`` runs the learner's ``TwoLayerNet.loss``
and says what is wrong with it.
"""

from __future__ import annotations

import inspect
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..diagnose import Diagnosis, Finding, diagnose
from ..network import Gradients, Network
from ..validation import as_generator, check_l2

__all__ = ["CS231nError", "REG_CONVENTIONS", "to_network", "from_network", "from_gradients", "loss", "check_loss"]

REG_CONVENTIONS = ("sum", "half")

#: ``check_loss``'s set-up: the sizes of the assignment's toy model (non-square: D ≠ H ≠ C ≠ N).
INPUT_SIZE, HIDDEN_SIZE, NUM_CLASSES, NUM_INPUTS = 4, 10, 3, 5


class CS231nError(ValueError):
    """CS231n-layout input that cannot be converted or checked (one line: what, where, expected)."""


# ---------------------------------------------------------------------------------- converters
def _array(value, name: str) -> np.ndarray:
    try:
        return np.array(value, dtype=np.float64)
    except (TypeError, ValueError) as exc:
        raise CS231nError(f"{name} must be an array of numbers: {exc}") from None


def _check_params(params, what="params"):
    """[(W1, b1), (W2, b2), ...] checked: W{l} (n_{l−1}, n_l) chaining, b{l} (n_l,)."""
    if not isinstance(params, dict) or "W1" not in params:
        raise CS231nError(f"{what} must be a dict with W1, b1, W2, b2 as in TwoLayerNet.params, got {type(params).__name__}"
                          + ("" if not isinstance(params, dict) else f" with keys {sorted(params)}"))
    layers, l = [], 1
    while f"W{l}" in params:
        if f"b{l}" not in params:
            raise CS231nError(f"{what} has W{l} but no b{l}")
        W, b = _array(params[f"W{l}"], f"{what}['W{l}']"), _array(params[f"b{l}"], f"{what}['b{l}']")
        if W.ndim != 2:
            raise CS231nError(f"{what}['W{l}'] must be 2-D (inputs, outputs), got shape {W.shape}")
        if layers and W.shape[0] != layers[-1][0].shape[1]:
            raise CS231nError(f"{what}['W{l}'] has shape {W.shape}; its rows must be the {layers[-1][0].shape[1]} "
                              f"columns of W{l - 1} {layers[-1][0].shape}")
        if b.shape != (W.shape[1],):
            raise CS231nError(f"{what}['b{l}'] must have shape ({W.shape[1]},) like the columns of W{l} {W.shape}, got {b.shape}")
        layers.append((W, b))
        l += 1
    if len(layers) < 2:
        raise CS231nError(f"{what} needs at least W1, b1, W2, b2 (a hidden layer and the scores)")
    return layers


def to_network(params: dict[str, ArrayLike]) -> Network:
    """A deltaprop ``Network`` (ReLU hidden layers, softmax + cross-entropy) from CS231n's
    ``params`` {"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,), ...}: W^l = W{l}.T."""
    layers = _check_params(params)
    sizes = [layers[0][0].shape[0]] + [W.shape[1] for W, _ in layers]
    net = Network(sizes, activation="relu", output="softmax", cost="cross_entropy", init="he", seed=0)
    net.weights = [W.T for W, _ in layers]
    net.biases = [b for _, b in layers]
    return net


def from_network(net: Network) -> dict[str, np.ndarray]:
    """CS231n's ``params`` from a ``Network``: copies, W{l} = (W^l)ᵀ of shape (n_{l−1}, n_l)."""
    if not isinstance(net, Network):
        raise CS231nError(f"from_network needs a deltaprop Network, got {type(net).__name__}")
    return _course_layout(net.weights, net.biases)


def from_gradients(grads: Gradients) -> dict[str, np.ndarray]:
    """CS231n's ``grads`` dict from deltaprop ``Gradients``: dW{l} = (∂J/∂W^l)ᵀ, db{l} = ∂J/∂b^l
    (the averaged loss and, when ``backward`` had l2, the reg term)."""
    try:
        weights, biases = grads.weights, grads.biases
    except AttributeError:
        raise CS231nError(f"from_gradients needs the Gradients of Network.backward, got {type(grads).__name__}") from None
    return _course_layout(weights, biases)


def _course_layout(weights, biases) -> dict:
    out = {}
    for l, (W, b) in enumerate(zip(weights, biases), start=1):
        out[f"W{l}"], out[f"b{l}"] = np.array(W.T), np.array(b)
    return out


def _check_reg(reg, reg_convention) -> float:
    if reg_convention not in REG_CONVENTIONS:
        raise CS231nError(f"reg_convention must be 'sum' (reg·ΣW², assignment 1) or 'half' (0.5·reg·ΣW², "
                          f"assignment 2), got {reg_convention!r}")
    try:
        return check_l2(reg)  # the same rule as deltaprop's λ
    except ValueError:
        raise CS231nError(f"reg must be a non-negative number, got {reg!r}") from None


def _l2(reg, N: int, reg_convention: str) -> float:
    """deltaprop's λ for CS231n's reg on N examples (module docstring)."""
    return (2.0 if reg_convention == "sum" else 1.0) * N * _check_reg(reg, reg_convention)


def _inputs(net: Network, X) -> np.ndarray:
    X = _array(X, "X")
    if X.ndim != 2 or X.shape[1] != net.sizes[0]:
        raise CS231nError(f"X must have shape (N, {net.sizes[0]}) (one example per row, D = W1's rows), got {X.shape}")
    return X


def _one_hot(net: Network, y, N: int) -> np.ndarray:
    """The one-hot rows of y (N,), class indices in 0..C−1, checked."""
    y = np.asarray(y)
    C = net.sizes[-1]
    if y.shape != (N,) or not np.issubdtype(y.dtype, np.integer) or (y.size and (y.min() < 0 or y.max() >= C)):
        raise CS231nError(f"y must hold {N} class indices in 0..{C - 1} (one per row of X), got "
                          f"{y.dtype} of shape {y.shape}")
    Y = np.zeros((N, C))
    Y[np.arange(N), y] = 1.0
    return Y


def loss(params: dict[str, ArrayLike], X: ArrayLike, y: ArrayLike | None = None, reg: float = 0.0,
         reg_convention: str = "half") -> np.ndarray | tuple[float, dict[str, np.ndarray]]:
    """CS231n's ``TwoLayerNet.loss`` computed by deltaprop.

    Parameters
    ----------
    params : dict
        ``{"W1": (D, H), "b1": (H,), "W2": (H, C), "b2": (C,), ...}`` as in ``TwoLayerNet.params``.
    X : array_like, shape (N, D)
        One example per row.
    y : array_like of int, shape (N,), optional
        Class indices 0..C−1; None: return the scores (as the course's ``loss`` does).
    reg : float, default 0.0
        The regularisation strength.
    reg_convention : {"half", "sum"}, default "half"
        loss += 0.5·reg·ΣW² ("half", assignment 2) or reg·ΣW² ("sum", assignment 1).

    Returns
    -------
    scores : ndarray, shape (N, C)
        When ``y`` is None.
    (loss, grads) : (float, dict)
        Otherwise: the softmax loss averaged over N plus the reg term, and grads with params'
        keys and shapes.
    """
    net = to_network(params)
    X = _inputs(net, X)
    if y is None:
        zs, _ = net.feedforward(X)
        return zs[-1]
    grads = net.backward(X, _one_hot(net, y, X.shape[0]), l2=_l2(reg, X.shape[0], reg_convention))
    return grads.cost, from_gradients(grads)


# ---------------------------------------------------------------------------------- the checker
def _learner(model, reg):
    """The learner's model: an instance of their ``TwoLayerNet``, built from the class with the
    set-up's sizes by the assignment's signature, or the instance given."""
    if not isinstance(model, type):
        return model
    D, H, C = INPUT_SIZE, HIDDEN_SIZE, NUM_CLASSES
    try:
        parameters = inspect.signature(model).parameters
    except (TypeError, ValueError):
        parameters = {}
    try:
        if "input_dim" in parameters:  # assignment 2, fc_net.TwoLayerNet
            return model(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=1e-3, reg=reg)
        return model(D, H, C)  # assignment 1: TwoLayerNet(input_size, hidden_size, output_size, std=1e-4)
    except Exception as exc:
        raise CS231nError(f"{model.__name__}({D}, {H}, {C}) raised {type(exc).__name__}: {exc}") from exc


def _call_loss(obj, X, y, reg):
    """The learner's loss(X, y): reg passed (assignment 1) or set as self.reg (assignment 2)."""
    method = getattr(obj, "loss", None)
    if not callable(method) or not isinstance(getattr(obj, "params", None), dict):
        raise CS231nError("check_loss needs a TwoLayerNet class or instance with a params dict and a loss(X, y) method; "
                          f"got {type(obj).__name__}")
    try:
        takes_reg = "reg" in inspect.signature(method).parameters
    except (TypeError, ValueError):
        takes_reg = False
    saved = getattr(obj, "reg", None)
    try:
        if takes_reg:
            return method(X, y, reg=reg), "sum"
        obj.reg = reg
        return method(X, y), "half"
    except Exception as exc:
        raise CS231nError(f"loss(X, y) raised {type(exc).__name__}: {exc} (X {X.shape}, y {y.shape}, "
                          f"W1 {obj.params['W1'].shape}, W2 {obj.params['W2'].shape})") from exc
    finally:
        if not takes_reg:
            obj.reg = saved


def _messages(convention):
    """The course's wording for each kind of finding: {kind: template}, {dname} = dW1, db2, ..."""
    reg_loss, reg_grad = (("reg * np.sum(W * W)", "2 * reg * W") if convention == "sum"
                          else ("0.5 * reg * np.sum(W * W)", "reg * W"))
    return {
        "correct": "{dname} is right",
        "sum_not_mean": "{dname} is N = {N} times too large: the loss averages over the N examples, so dscores /= N",
        "l2_scale": f"{{dname}}'s reg term is scaled wrongly: with loss += {reg_loss} (reg_convention "
                    f"{convention!r}) the gradient gains {reg_grad}",
        "missing_l2": f"{{dname}} lacks the reg term: with loss += {reg_loss} the gradient gains {reg_grad}",
        "regularized_bias": "{dname} has a reg term: the loss regularises only the weights, never the biases",
        "missing_activation_derivative": "{dname} misses the ReLU's mask: hidden = np.maximum(0, X.dot(W1) + b1), "
                                         "so dhidden[hidden <= 0] = 0 before dW1 and db1",
        "sign": "{dname} has the wrong sign: dscores = probs minus 1 at each correct class (the gradient of the "
                "loss, not of −loss)",
        "wrong_output_delta": "{dname} is wrong from dscores on: for the softmax loss dscores = (probs − one_hot(y)) / N",
    }


def _check_arrays(grads, layers):
    """The learner's grads → deltaprop layout: (weights, biases, findings of the course layout,
    the arrays given transposed)."""
    if not isinstance(grads, dict):
        raise CS231nError(f"loss(X, y) must return (loss, grads) with grads a dict like params, got {type(grads).__name__}")
    weights, biases, layout, transposed = [], [], [], set()
    for l, (W, b) in enumerate(layers, start=1):
        for key in (f"W{l}", f"b{l}"):
            if key not in grads:
                raise CS231nError(f"grads has no {key!r}; it needs the keys of params: {sorted(f'{k}{i}' for i in range(1, len(layers) + 1) for k in 'Wb')}")
        dW, db = _array(grads[f"W{l}"], f"grads['W{l}']"), _array(grads[f"b{l}"], f"grads['b{l}']")
        if dW.shape == W.shape:
            weights.append(dW.T)
        elif dW.shape == W.shape[::-1]:
            weights.append(dW)  # already deltaprop's (n_l, n_{l−1})
            transposed.add(f"W{l}")
        else:
            weights.append(dW.T if dW.ndim == 2 else dW)
            layout.append(Finding(kind="shape", array=f"W{l}",
                                  message=f"dW{l} has shape {dW.shape}; it must have W{l}'s shape {W.shape}",
                                  evidence={"expected_shape": W.shape, "shape": dW.shape}))
        if db.shape != b.shape:
            layout.append(Finding(kind="shape", array=f"b{l}",
                                  message=f"db{l} has shape {db.shape}; it must have b{l}'s shape {b.shape} "
                                          "(np.sum(..., axis=0) without keepdims)",
                                  evidence={"expected_shape": b.shape, "shape": db.shape}))
            db = db.reshape(b.shape) if db.size == b.size else db
        biases.append(db)
    return weights, biases, layout, transposed


def _loss_finding(given, expected, data_loss, N, convention):
    def close(a, b):
        return bool(np.isclose(a, b, rtol=1e-6, atol=1e-9))

    if close(given, expected):
        kind, message = "correct", f"loss is right (reg_convention {convention!r})"
    elif close(given, expected + (N - 1) * data_loss):
        kind, message = "sum_not_mean", f"loss is the sum over the N = {N} examples; the data loss is their mean (/= N)"
    else:
        kind, message = "unknown", (f"loss is {given:.8g}; the softmax loss with reg_convention {convention!r} is "
                                    f"{expected:.8g}")
    return Finding(kind=kind, array="loss", message=message, expected=float(expected), given=float(given),
                   evidence={"reg_convention": convention})


def check_loss(model: type | Any, reg: float = 0.1, reg_convention: str | None = None, *,
               seed: int | np.random.Generator = 0) -> Diagnosis:
    """What is wrong with the learner's ``TwoLayerNet.loss``, as a ``deltaprop.diagnose.Diagnosis``.

    ``model`` is their ``TwoLayerNet`` class (built as ``TwoLayerNet(input_dim=4, hidden_dim=10,
    num_classes=3, ...)`` for assignment 2's signature, else ``TwoLayerNet(4, 10, 3)`` as in
    assignment 1) or an instance with a ``params`` dict (its own sizes). Its params are set to
    a fixed seeded set-up (an instance's own are put back afterwards), ``loss`` is called on
    N = 5 examples — ``loss(X, y, reg=reg)`` (assignment 1) or ``loss(X, y)`` with
    ``self.reg = reg`` (assignment 2) — and the loss and grads are compared with deltaprop's.

    ``reg_convention`` ("sum": reg·ΣW², "half": 0.5·reg·ΣW²) is, when None, the one the
    learner's loss value matches; if it matches neither, the assignment's: "sum" for a
    ``loss(X, y, reg)``, "half" for ``self.reg``. The findings name the arrays "loss", "W1",
    "b1", "W2", "b2" and speak of dscores, dW1, ... A dW of shape (H, D) for W (D, H) is
    ``transposed``.
    """
    reg = _check_reg(reg, "half" if reg_convention is None else reg_convention)
    obj = _learner(model, reg)
    own = getattr(obj, "params", None)
    if not isinstance(own, dict) or "W1" not in own:
        raise CS231nError(f"check_loss needs a TwoLayerNet with a params dict (W1, b1, W2, b2); got {type(obj).__name__}")
    own_layers = _check_params(own, "the model's params")
    sizes = [own_layers[0][0].shape[0]] + [W.shape[1] for W, _ in own_layers]
    rng = as_generator(seed)
    params = {}
    for l, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:]), start=1):
        params[f"W{l}"] = 0.1 * rng.standard_normal((n_in, n_out))
        params[f"b{l}"] = 0.1 * rng.standard_normal(n_out)
    N = NUM_INPUTS
    X = 10.0 * rng.standard_normal((N, sizes[0]))
    y = np.arange(N) % sizes[-1]

    saved = dict(own)
    try:
        obj.params.update({k: v.copy() for k, v in params.items()})
        out, assignment_convention = _call_loss(obj, X, y.copy(), reg)
    finally:
        obj.params.clear()
        obj.params.update(saved)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise CS231nError(f"loss(X, y) must return (loss, grads), got {type(out).__name__}")
    given_loss, grads = out
    try:
        given_loss = float(given_loss)
    except (TypeError, ValueError):
        raise CS231nError(f"loss(X, y) returned {type(given_loss).__name__} as the loss; expected a number") from None

    data_loss = loss(params, X, y, 0.0)[0]
    expected = {c: loss(params, X, y, reg, c)[0] for c in REG_CONVENTIONS}
    convention = reg_convention
    if convention is None:
        matches = [c for c in REG_CONVENTIONS if np.isclose(given_loss, expected[c], rtol=1e-6, atol=1e-9)]
        convention = matches[0] if len(matches) == 1 or (matches and reg == 0) else assignment_convention

    layers = _check_params(params)
    net = to_network(params)
    Y = _one_hot(net, y, N)
    weights, biases, layout, transposed = _check_arrays(grads, layers)
    names = {"W": [f"W{l}" for l in range(1, len(layers) + 1)], "b": [f"b{l}" for l in range(1, len(layers) + 1)]}
    diagnosis = diagnose(net, X, Y, weights=weights, biases=biases, l2=_l2(reg, N, convention), names=names,
                         notation="cs231n")

    owned = {f.array for f in layout}
    templates = _messages(convention)
    findings = [_loss_finding(given_loss, expected[convention], data_loss, N, convention)] + layout
    for f in diagnosis.findings:
        if f.array in owned and f.kind in ("correct", "shape"):
            continue
        if f.array in transposed and f.kind == "correct":
            continue
        index = f.index
        if f.array.startswith("W") and f.array not in transposed and index is not None and len(index) == 2:
            index = tuple(index[::-1])  # the learner's (D, H) layout
        template = templates.get(f.kind)
        if f.kind == "sum_not_mean" and f.factor != N:
            template = None  # divided by N twice: the engine's message says so
        message = f.message if template is None else template.format(dname=f"d{f.array}", N=N)
        findings.append(replace(f, message=message, index=index))
    for name in sorted(transposed):
        l = int(name[1:])
        two = len(layers) == 2
        source = "X" if l == 1 else ("hidden" if two else f"h{l - 1}")
        upstream = "dscores" if l == len(layers) else ("dhidden" if two else f"dh{l}")
        findings.append(Finding(kind="transposed", array=name,
                                message=f"d{name} has shape {layers[l - 1][0].shape[::-1]}, the transpose of {name} "
                                        f"{layers[l - 1][0].shape}: d{name} = {source}.T.dot({upstream})",
                                evidence={"expected_shape": layers[l - 1][0].shape}))
    order = ["loss"] + [f"{k}{l}" for l in range(1, len(layers) + 1) for k in "Wb"]
    findings.sort(key=lambda f: order.index(f.array) if f.array in order else len(order))
    return Diagnosis(findings=findings, course="cs231n")
