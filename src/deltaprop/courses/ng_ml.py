"""Andrew Ng, *Machine Learning* (Coursera, ex4): the course's layout both ways, and a checker
that tells a learner what is wrong with their ``nnCostFunction``.

The course's symbols and layout (ex4.pdf, ``nnCostFunction.m``, ``checkNNGradients.m``)
--------------------------------------------------------------------------------------
Layers are numbered 1 (input) to L (output); layer l has s_l units, the bias unit not counted,
and s_L = K = ``num_labels``. ``sizes = [s_1, ..., s_L]`` is deltaprop's ``sizes``.

* X has shape (m, s_1): one example per row, *without* the bias column; the course adds
  a_0^(1) = 1 itself: a^(1) = [1; x].
* Θ^(l) has shape (s_{l+1}, s_l + 1); its first column multiplies the bias unit a_0^(l) = 1:

      z^(l+1) = Θ^(l) a^(l),   a^(l+1) = [1; g(z^(l+1))],   h_Θ(x) = a^(L) = g(z^(L)),  g = sigmoid

  so Θ^(l) = [b^l | W^l]: deltaprop's W^l = ``Theta[:, 1:]``, b^l = ``Theta[:, 0]`` (Θ^(l) and
  W^l carry the same l; Ng's layer l is deltaprop's layer l − 1).
* Labels y are 1..K (ex4's digit 0 is label 10), recoded as the rows y_k = [y = k].
* J(Θ) = (1/m) Σ_i Σ_k [−y_k log(h_Θ(x^(i))_k) − (1 − y_k) log(1 − h_Θ(x^(i))_k)]
         + λ/(2m) Σ_l Σ_{j, k≥1} (Θ_jk^(l))²           (column 0, the bias column, not regularised)
  = deltaprop's ``Network(sizes, activation="sigmoid", output="sigmoid",
  cost="binary_cross_entropy")`` with ``l2=λ``.
* Backpropagation: δ^(L) = a^(L) − y;  δ^(l) = (Θ^(l))ᵀ δ^(l+1) .* g'(z^(l)) with δ_0^(l) (the
  bias unit's) dropped;  Δ^(l) += δ^(l+1) (a^(l))ᵀ;  D^(l) = ``Theta{l}_grad`` = (1/m) Δ^(l)
  + (λ/m) Θ^(l) outside column 0. The bias column of D^(l) is deltaprop's ∂J/∂b^l.
* Parameters travel unrolled: ``nn_params = [Theta1(:); Theta2(:)]`` and ``grad =
  [Theta1_grad(:); Theta2_grad(:)]``. Octave's ``(:)`` and ``reshape`` are column-major:
  NumPy's ``ravel(order="F")`` and ``reshape(..., order="F")`` (``unroll``, ``reshape``).
"""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from ..diagnose import Diagnosis, diagnose, finding
from ..network import Gradients, Network

__all__ = [
    "NgMLError",
    "OCTAVE_SAVE_LINES",
    "theta_shapes",
    "unroll",
    "reshape",
    "debug_initialize_weights",
    "debug_setup",
    "to_network",
    "from_network",
    "from_gradients",
    "nn_cost_function",
    "check_nn_gradients",
    "diagnose_grad",
    "load_mat",
]

COURSE = "ng-ml"

#: The Octave lines that save J and grad of the learner's nnCostFunction.m on checkNNGradients'
#: set-up (and λ) to mygrad.mat, for ``deltaprop diagnose --course ng-ml --grad mygrad.mat``.
OCTAVE_SAVE_LINES = """\
input_layer_size = 3; hidden_layer_size = 5; num_labels = 3; m = 5;
lambda = 0;   % or 3, as in ex4.m's checkNNGradients(lambda)
Theta1 = debugInitializeWeights(hidden_layer_size, input_layer_size);
Theta2 = debugInitializeWeights(num_labels, hidden_layer_size);
X = debugInitializeWeights(m, input_layer_size - 1);
y = 1 + mod(1:m, num_labels)';
nn_params = [Theta1(:) ; Theta2(:)];
[J, grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda);
save -v7 mygrad.mat J grad lambda"""


class NgMLError(ValueError):
    """Input that does not follow the course's layout (one line: what, where, what is expected)."""


# ---------------------------------------------------------------------------- layout
def _check_sizes(sizes) -> list:
    try:
        sizes = [int(s) for s in sizes]
    except (TypeError, ValueError):
        raise NgMLError(
            f"sizes must be the units per layer [s_1, ..., s_L], e.g. [400, 25, 10]; got {sizes!r}") from None
    if len(sizes) < 2 or min(sizes) < 1:
        raise NgMLError(f"sizes must list at least 2 layers of at least 1 unit each, e.g. [400, 25, 10]; got {sizes}")
    return sizes


def theta_shapes(sizes: Iterable[int]) -> list[tuple[int, int]]:
    """The shape (s_{l+1}, s_l + 1) of each Θ^(l) for ``sizes = [s_1, ..., s_L]``."""
    sizes = _check_sizes(sizes)
    return [(n_out, n_in + 1) for n_in, n_out in zip(sizes[:-1], sizes[1:])]


def _shapes_text(shapes) -> str:
    return " + ".join(f"{r}×{c} (Theta{l})" for l, (r, c) in enumerate(shapes, start=1))


def unroll(thetas: Iterable[ArrayLike]) -> np.ndarray:
    """``[Theta1(:); Theta2(:); ...]``: each Θ^(l) column by column (Octave's order), one 1-D vector."""
    arrays = [np.asarray(T, dtype=np.float64) for T in thetas]
    for l, T in enumerate(arrays, start=1):
        if T.ndim != 2:
            raise NgMLError(f"Theta{l} must be a matrix (s_{{l+1}}, s_l + 1), got shape {T.shape}")
    return np.concatenate([T.ravel(order="F") for T in arrays]) if arrays else np.zeros(0)


def reshape(nn_params: ArrayLike, sizes: Sequence[int], order: str = "F") -> list[np.ndarray]:
    """The Θ^(l) of ``sizes`` from the unrolled vector, as nnCostFunction.m's ``reshape`` reads
    them (column-major; ``order="C"`` reads row by row, the NumPy default, for comparison)."""
    shapes = theta_shapes(sizes)
    vector = _as_vector(nn_params)
    expected = sum(r * c for r, c in shapes)
    if vector is None or vector.size != expected:
        got = np.shape(nn_params) if vector is None else vector.size
        raise NgMLError(
            f"nn_params has {got} elements; sizes {list(sizes)} need {expected} = {_shapes_text(shapes)}"
        )
    thetas, start = [], 0
    for r, c in shapes:
        thetas.append(vector[start:start + r * c].reshape((r, c), order=order).copy())
        start += r * c
    return thetas


def _as_vector(values):
    """A 1-D float vector from a vector of any orientation ((n,), (n, 1), (1, n)); None when
    ``values`` is not one (a matrix, nothing numeric)."""
    if values is None:
        return None
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if arr.ndim > 2 or (arr.ndim == 2 and min(arr.shape) > 1):
        return None
    return arr.reshape(-1)


def debug_initialize_weights(fan_out: int, fan_in: int) -> np.ndarray:
    """The course's ``debugInitializeWeights``: W = reshape(sin(1:numel(W)), size(W)) / 10 with
    W of size (fan_out, 1 + fan_in), filled column by column as Octave's ``reshape`` does."""
    fan_out, fan_in = int(fan_out), int(fan_in)
    if fan_out < 1 or fan_in < 0:
        raise NgMLError(f"debug_initialize_weights needs fan_out ≥ 1 and fan_in ≥ 0, got ({fan_out}, {fan_in})")
    shape = (fan_out, 1 + fan_in)
    return np.sin(np.arange(1, shape[0] * shape[1] + 1)).reshape(shape, order="F") / 10


def debug_setup() -> dict[str, Any]:
    """checkNNGradients.m's small problem, its variables by their Octave names: s_1 = 3, s_2 = 5,
    K = 3, m = 5, Θ and X from ``debug_initialize_weights``, y = 1 + mod(1:m, K)'."""
    input_layer_size, hidden_layer_size, num_labels, m = 3, 5, 3, 5
    Theta1 = debug_initialize_weights(hidden_layer_size, input_layer_size)
    Theta2 = debug_initialize_weights(num_labels, hidden_layer_size)
    return {
        "input_layer_size": input_layer_size,
        "hidden_layer_size": hidden_layer_size,
        "num_labels": num_labels,
        "m": m,
        "Theta1": Theta1,
        "Theta2": Theta2,
        "nn_params": unroll([Theta1, Theta2]),
        "X": debug_initialize_weights(m, input_layer_size - 1),
        "y": 1 + np.arange(1, m + 1) % num_labels,
    }


def setup_from_mat(*paths: str | os.PathLike[str]) -> dict[str, Any]:
    """A problem in ``debug_setup()``'s form from the course's own .mat files: Θ^(1), Θ^(2), …
    (ex4weights.mat) and X, y (ex4data1.mat), given as one or more files (``load_mat``)."""
    found = {}
    for path in paths:
        found.update(load_mat(path, keys=()))
    thetas = [found[f"Theta{l}"] for l in range(1, 10) if f"Theta{l}" in found]
    if len(thetas) > 2:
        raise NgMLError(f"{len(thetas)} Θ matrices: the course's checks (and this one) take ex4's one hidden layer")
    missing = [name for name, ok in (("Theta1, Theta2", len(thetas) >= 2), ("X", "X" in found), ("y", "y" in found))
               if not ok]
    if missing:
        raise NgMLError(f"{', '.join(map(str, paths))} hold no {' and '.join(missing)}: give the weights "
                        f"(ex4weights.mat) and the data (ex4data1.mat)")
    sizes = [thetas[0].shape[1] - 1] + [t.shape[0] for t in thetas]
    to_network(thetas)  # the shapes must chain
    X = _check_X(found["X"], sizes[0])
    return {
        "input_layer_size": sizes[0], "hidden_layer_size": sizes[1], "num_labels": sizes[-1],
        "m": X.shape[0], "nn_params": unroll(thetas), "X": X, "y": np.asarray(found["y"]).reshape(-1),
        **{f"Theta{l}": t for l, t in enumerate(thetas, start=1)},
    }


# ---------------------------------------------------------------------------- conversions
def to_network(params: Sequence[ArrayLike] | ArrayLike, sizes: Sequence[int] | None = None) -> Network:
    """A deltaprop ``Network`` (sigmoid units, binary cross-entropy: the course's J) from the
    course's Θ^(l): a list of matrices (``sizes`` inferred) or the unrolled ``nn_params``
    (``sizes`` required). Its ``classes_`` are the labels 1..K, so ``net.predict`` answers as
    ex4's ``predict.m``."""
    if not _is_theta_list(params):
        if sizes is None:
            raise NgMLError("to_network needs sizes=[s_1, ..., s_L] to reshape an unrolled nn_params")
        thetas = reshape(params, sizes)
    else:
        thetas = [np.asarray(T, dtype=np.float64) for T in params]
        for l, T in enumerate(thetas, start=1):
            if T.shape[1] < 2:
                raise NgMLError(f"Theta{l} must be a matrix (s_{l + 1}, s_{l} + 1) with its bias column first, "
                                f"got shape {T.shape}")
        inferred = [thetas[0].shape[1] - 1] + [T.shape[0] for T in thetas]
        if sizes is None:
            sizes = inferred
        expected = theta_shapes(sizes)
        got = [T.shape for T in thetas]
        if got != expected:
            raise NgMLError(f"the Theta matrices have shapes {got}; sizes {list(sizes)} need {expected} "
                            "(s_{l+1}, s_l + 1)")
    sizes = _check_sizes(sizes)
    net = Network(sizes, activation="sigmoid", output="sigmoid", cost="binary_cross_entropy", seed=0)
    net.weights = [T[:, 1:] for T in thetas]
    net.biases = [T[:, 0] for T in thetas]
    if sizes[-1] > 1:
        net.classes_ = np.arange(1, sizes[-1] + 1)
    return net


def _is_theta_list(params) -> bool:
    return isinstance(params, (list, tuple)) and len(params) > 0 and all(np.ndim(T) == 2 for T in params)


def from_network(net: Network) -> list[np.ndarray]:
    """The course's [Θ^(1), ..., Θ^(L−1)] of a ``Network``: Θ^(l) = [b^l | W^l]."""
    return [np.column_stack([b, W]) for W, b in zip(net.weights, net.biases)]


def from_gradients(grads: Gradients, unrolled: bool = False) -> list[np.ndarray] | np.ndarray:
    """The course's D^(l) = ``Theta{l}_grad`` = [∂J/∂b^l | ∂J/∂W^l] of a deltaprop ``Gradients``;
    with ``unrolled=True`` the vector ``[Theta1_grad(:); Theta2_grad(:); ...]``."""
    thetas = [np.column_stack([gb, gW]) for gW, gb in zip(grads.weights, grads.biases)]
    return unroll(thetas) if unrolled else thetas


def _check_lambda(lambda_) -> float:
    try:
        value = float(lambda_)
    except (TypeError, ValueError):
        value = float("nan")
    if not np.isfinite(value) or value < 0:
        raise NgMLError(f"lambda_ (the regularisation λ) must be a number ≥ 0, got {lambda_!r}")
    return value


def _label_rows(y, num_labels: int, m: int) -> np.ndarray:
    """The rows y_k = [y = k] for labels 1..K given as (m,) or Octave's column (m, 1)."""
    labels = _as_vector(y)
    if labels is None or labels.size != m:
        raise NgMLError(f"y must hold one label per row of X, shape ({m},) or ({m}, 1); got shape {np.shape(y)}")
    bad = np.flatnonzero((labels != np.round(labels)) | (labels < 1) | (labels > num_labels))
    if bad.size:
        i = int(bad[0])
        raise NgMLError(
            f"y({i + 1}) = {labels[i]:g}: labels must be 1..K = 1..{num_labels} (num_labels), as in ex4 "
            "(digit 0 is label 10)"
        )
    return np.eye(num_labels)[labels.astype(np.intp) - 1]


def _check_X(X, input_layer_size: int) -> np.ndarray:
    try:
        X = np.asarray(X, dtype=np.float64)
    except (TypeError, ValueError):
        raise NgMLError(f"X must be a numeric matrix (m, {input_layer_size}), got {type(X).__name__}") from None
    if X.ndim != 2 or X.shape[1] != input_layer_size:
        hint = ""
        if X.ndim == 2 and X.shape[1] == input_layer_size + 1 and np.all(X[:, 0] == 1):
            hint = ": its first column is all ones, but ex4's X has no bias column (nnCostFunction adds it)"
        raise NgMLError(f"X must have shape (m, {input_layer_size}) (input_layer_size columns), got {X.shape}{hint}")
    return X


def _layer_sizes(input_layer_size, hidden_layer_size, num_labels, sizes) -> list:
    if sizes is None:
        return _check_sizes([input_layer_size, hidden_layer_size, num_labels])
    sizes = _check_sizes(sizes)
    if sizes[0] != int(input_layer_size) or sizes[-1] != int(num_labels):
        raise NgMLError(
            f"sizes {sizes} must start with input_layer_size = {input_layer_size} and end with "
            f"num_labels = {num_labels}"
        )
    return sizes


def nn_cost_function(nn_params: ArrayLike, input_layer_size: int, hidden_layer_size: int, num_labels: int,
                     X: ArrayLike, y: ArrayLike, lambda_: float, sizes: Sequence[int] | None = None,
                     ) -> tuple[float, np.ndarray]:
    """The course's ``[J grad] = nnCostFunction(nn_params, input_layer_size, hidden_layer_size,
    num_labels, X, y, lambda)``, computed by deltaprop's engine: J(Θ) and the unrolled
    ``grad = [Theta1_grad(:); Theta2_grad(:)]`` (1-D). X (m, s_1) without the bias column, y the
    labels 1..K. ``sizes=[s_1, ..., s_L]`` gives any number of layers (``hidden_layer_size`` is
    then not used)."""
    sizes = _layer_sizes(input_layer_size, hidden_layer_size, num_labels, sizes)
    lam = _check_lambda(lambda_)
    net = to_network(nn_params, sizes)
    X = _check_X(X, sizes[0])
    grads = net.backward(X, _label_rows(y, sizes[-1], X.shape[0]), l2=lam)
    return grads.cost, from_gradients(grads, unrolled=True)


# ---------------------------------------------------------------------------- the checker
def check_nn_gradients(cost_function: Callable[..., tuple[Any, Any]], lambda_: float = 0,
                       setup: dict[str, Any] | None = None) -> Diagnosis:
    """Run the learner's Python ``nnCostFunction`` as checkNNGradients.m does and say what is
    wrong with its J and grad.

    Calls ``cost_function(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y,
    lambda_)`` on ``debug_setup()`` (s_1 = 3, s_2 = 5, K = 3, m = 5; nn_params unrolled
    column-major, X (5, 3) without the bias column, y the labels (5,) as integers 1..3), expects
    ``(J, grad)`` back and returns ``diagnose_grad(grad, J, lambda_)``: a
    ``deltaprop.diagnose.Diagnosis`` whose findings name "J", "Theta1_grad", "Theta2_grad" (or
    "grad" for the vector's layout). Exceptions raised by the learner's function propagate.
    ``setup``: another problem in ``debug_setup()``'s form, e.g. ``setup_from_mat`` of ex4's own
    ex4weights.mat and ex4data1.mat."""
    lam = _check_lambda(lambda_)
    s = debug_setup() if setup is None else setup
    out = cost_function(s["nn_params"].copy(), s["input_layer_size"], s["hidden_layer_size"],
                        s["num_labels"], s["X"].copy(), s["y"].copy(), lam)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise NgMLError(
            f"the cost function must return (J, grad) as the course's [J grad] = nnCostFunction(...) "
            f"does; it returned {type(out).__name__}"
            + (f" of length {len(out)}" if isinstance(out, (tuple, list)) else "")
        )
    J, grad = out
    return diagnose_grad(grad, J, lam, setup=s)


def diagnose_grad(grad: ArrayLike, J: float | None = None, lambda_: float = 0,
                  setup: dict[str, Any] | None = None) -> Diagnosis:
    """What is wrong with ``grad`` (and J) from nnCostFunction on checkNNGradients' set-up
    (``debug_setup()``, the lines of ``OCTAVE_SAVE_LINES``) with regularisation λ = ``lambda_``.

    First the vector's layout: its length (38 = 5×4 + 3×6; longer by s_1 + 1 = 4 when δ_0^(2) of
    the bias unit was kept: ``bias_unit_delta``; any other length: ``shape``) and its order (a
    Θ_grad unrolled row by row, or a transposed one, instead of Octave's column-major ``(:)``;
    nn_params read back row by row: ``unroll_order``). Then the Θ_grad matrices it holds, through
    ``deltaprop.diagnose.diagnose`` (each mistake recomputed from the engine's intermediates), and
    J against the course's J(Θ). Findings name "J", "Theta1_grad", "Theta2_grad" (or "grad").
    ``setup``: the problem the grad was computed on, in ``debug_setup()``'s form (default: that)."""
    lam = _check_lambda(lambda_)
    s = debug_setup() if setup is None else setup
    sizes = [s["input_layer_size"], s["hidden_layer_size"], s["num_labels"]]
    X, Y = s["X"], _label_rows(s["y"], s["num_labels"], s["m"])
    findings = [] if J is None else _diagnose_cost(J, s["nn_params"], sizes, X, Y, lam)
    findings += _diagnose_vector(grad, s["nn_params"], sizes, X, Y, lam)
    return Diagnosis(findings=findings, course=COURSE)


_ORDER_MESSAGES = {  # (how Θ^(l) was read from nn_params, how Theta{l}_grad was unrolled)
    ("F", "C"): "{g} is unrolled row by row (NumPy's default ravel, or a transposed {g}); Octave's "
                "{g}(:) goes column by column: use ravel(order='F')",
    ("C", "C"): "{t} is read from nn_params and {g} unrolled row by row (NumPy's default order); the "
                "course's reshape and (:) go column by column: use order='F' in both",
    ("C", "F"): "{t} is read from nn_params row by row (NumPy's default reshape); Octave's reshape "
                "fills it column by column: use reshape(..., order='F')",
}


def _layouts(n_given: int, sizes):
    """The ways a vector of n_given numbers can hold the Θ_grad of ``sizes``, most likely first:
    (Θ^(l) with an extra first row δ_0, the order nn_params was read in, each Θ_grad's order)."""
    L = len(sizes) - 1
    shapes = theta_shapes(sizes)
    for extra in _subsets(range(L - 1)):  # only Θ^(l) below the output gets δ_0^(l+1)'s row
        if sum((r + (l in extra)) * c for l, (r, c) in enumerate(shapes)) != n_given:
            continue
        for read in "FC":
            for writes in sorted(itertools.product("FC", repeat=L), key=lambda w: w.count("C")):
                yield extra, read, writes


def _subsets(items):
    items = list(items)
    return [list(c) for k in range(len(items) + 1) for c in itertools.combinations(items, k)]


def _diagnose_vector(grad, nn_params, sizes, X, Y, lam) -> list:
    shapes = theta_shapes(sizes)
    n = sum(r * c for r, c in shapes)
    vector = _as_vector(grad)
    expected = f"the unrolled vector [Theta1_grad(:); Theta2_grad(:)] of {n} numbers = {_shapes_text(shapes)}"
    if vector is None:
        return [finding("shape", "grad", f"grad must be {expected}; got {_describe(grad)}",
                         evidence={"expected_shape": (n,)})]
    order = {f"Theta{l}_grad": l for l in range(1, len(shapes) + 1)}
    first = None
    for extra, read, writes in _layouts(vector.size, sizes):
        layout, grads, start = [], [], 0
        for l, ((r, c), write) in enumerate(zip(shapes, writes), start=1):
            t, g = f"Theta{l}", f"Theta{l}_grad"
            rows = r + (l - 1 in extra)
            block = vector[start:start + rows * c].reshape((rows, c), order=write)
            start += rows * c
            grads.append(block[1:] if l - 1 in extra else block)
            if l - 1 in extra:
                layout.append(finding(
                    "bias_unit_delta", g, f"{g} has {rows} rows, not {r}: δ_0^({l + 1}), the bias unit's error, "
                    f"was kept when Δ^({l}) += δ^({l + 1}) (a^({l}))ᵀ was summed; drop it: δ^({l + 1})(2:end)",
                    evidence={"layer": l, "expected_shape": (r, c), "given_shape": (rows, c)}))
            if (read, write) != ("F", "F"):
                layout.append(finding("unroll_order", g, _ORDER_MESSAGES[read, write].format(t=t, g=g),
                                       evidence={"layer": l, "read": read, "unrolled": write}))
        found = _with_layout(layout, _diagnose_thetas(to_network(reshape(nn_params, sizes, read), sizes),
                                                      X, Y, lam, grads))
        found.sort(key=lambda f: order.get(f.array, 0))  # Theta1_grad's findings, then Theta2_grad's, ...
        if all(f.kind not in ("unknown", "shape") for f in found):
            return found
        first = first or found
    if first is not None:
        return first
    return [finding("shape", "grad", f"grad has {vector.size} numbers; expected {expected}",
                     evidence={"expected_shape": (n,), "given_shape": np.shape(grad)})]


def _with_layout(layout, found) -> list:
    """Layout and Θ_grad findings together: an array with a layout finding drops its ``correct``
    and says so in the layout finding."""
    arrays = {f.array for f in layout}
    rest = [f for f in found if not (f.kind == "correct" and f.array in arrays)]
    right = {f.array for f in found if f.kind == "correct"}
    layout = [replace(f, message=f"{f.message} (apart from that, {f.array} is right)") if f.array in right else f
              for f in layout]
    return layout + rest


def _describe(values) -> str:
    if values is None:
        return "None"
    try:
        return f"shape {np.shape(np.asarray(values, dtype=np.float64))}"
    except (TypeError, ValueError):
        return type(values).__name__


def _diagnose_thetas(net, X, Y, lam, theta_grads) -> list:
    """Findings on Theta{l}_grad: deltaprop's ``diagnose`` on its parts [∂J/∂b^l | ∂J/∂W^l], both
    under the one name (``diagnose`` then gives indices in Θ's layout and merges the parts)."""
    names = [f"Theta{l}_grad" for l in range(1, len(theta_grads) + 1)]
    d = diagnose(net, X, Y, weights=[T[:, 1:] for T in theta_grads], biases=[T[:, 0] for T in theta_grads],
                 l2=lam, names={"W": names, "b": names}, notation=COURSE)
    # the two parts of one Θ share a name: list each array once in a finding's evidence
    return [replace(f, evidence={**f.evidence, "arrays": list(dict.fromkeys(f.evidence["arrays"]))})
            if "arrays" in f.evidence else f for f in d.findings]


def _cost_candidates(net, X, Y, lam):
    """(kinds, J) of the correct J(Θ) and of each classic mistake, recomputed from its terms."""
    m = X.shape[0]
    data = net.cost(X, Y)
    reg_w = sum(float(np.sum(W ** 2)) for W in net.weights) * lam / (2 * m)
    reg_b = sum(float(np.sum(b ** 2)) for b in net.biases) * lam / (2 * m)
    correct = data + reg_w
    out = [((), correct), (("sum_not_mean",), m * correct), (("sum_not_mean",), m * data + reg_w),
           (("sign",), -correct)]
    if lam > 0:
        out += [(("regularized_bias",), correct + reg_b), (("missing_l2",), data)]
        out += [(("l2_scale",), data + c * reg_w) for c in (2, 0.5, 1 / m, 2 / m, m, 2 * m)]
        out += [(("sum_not_mean", "regularized_bias"), m * data + reg_w + reg_b),
                (("sum_not_mean", "regularized_bias"), m * (correct + reg_b))]
    return correct, out


def _diagnose_cost(J, nn_params, sizes, X, Y, lam) -> list:
    """Findings on J against the course's J(Θ) (and against Θ read row by row from nn_params)."""
    value = _as_vector(J)
    if value is None or value.size != 1:
        return [finding("shape", "J", f"J must be one number, the cost J(Θ); got {_describe(J)}",
                         evidence={"expected_shape": ()})]
    given = float(value[0])
    m = X.shape[0]
    correct = None
    for read in "FC":
        target, candidates = _cost_candidates(to_network(reshape(nn_params, sizes, read), sizes), X, Y, lam)
        correct = target if correct is None else correct
        kinds = next((k for k, c in candidates if np.isclose(given, c, rtol=1e-6, atol=1e-12)), None)
        if kinds is not None:
            kinds = kinds if read == "F" else ("unroll_order",) + kinds
            break
    where = f"J = {given:.6g}, J(Θ) = {correct:.6g} (λ = {lam:g})"
    if kinds == ():
        return [finding("correct", "J", f"J matches J(Θ) = {correct:.6g} (λ = {lam:g})",
                        expected=correct, given=given)]
    messages = {
        "unroll_order": "J is the cost of Θ read from nn_params row by row (NumPy's default reshape); "
                        "Octave's reshape fills Θ column by column: use reshape(..., order='F')",
        "sum_not_mean": f"J is not divided by m = {m}: J(Θ) = (1/m) Σ_i Σ_k [...]",
        "sign": "J has the wrong sign: J(Θ) = (1/m) Σ_i Σ_k [−y_k log(h_Θ(x)_k) − (1 − y_k) "
                "log(1 − h_Θ(x)_k)]",
        "regularized_bias": "the regularisation term includes the bias column Θ^(l)(:,1): λ/(2m) Σ_l Σ_j Σ_k≥1 "
                            "(Θ_jk^(l))² leaves it out",
        "missing_l2": "J has no regularisation term λ/(2m) Σ_l Σ_j Σ_k≥1 (Θ_jk^(l))²",
        "l2_scale": "the regularisation term is scaled wrongly: it is λ/(2m) Σ_l Σ_j Σ_k≥1 (Θ_jk^(l))²",
    }
    if kinds is None:
        return [finding("unknown", "J", f"{where} on checkNNGradients' set-up: no known mistake gives your value",
                         expected=correct, given=given)]
    return [finding(k, "J", f"{where}: {messages[k]}", expected=correct, given=given,
                     factor=float(m) if k == "sum_not_mean" else (-1.0 if k == "sign" else None))
            for k in kinds]


# ---------------------------------------------------------------------------- .mat files
def load_mat(path: str | os.PathLike[str], keys: Iterable[str] | None = None) -> dict[str, Any]:
    """The course's variables from an Octave/MATLAB .mat file (``scipy.io.loadmat``): Theta1,
    Theta2, ... (ex4weights.mat: Theta1 (25, 401), Theta2 (10, 26)) as matrices; grad as a 1-D
    vector, J and lambda as floats; X and y (ex4data1.mat) with y 1-D. ``keys`` lists the variables
    that must be there (default: Theta1 or grad). Octave writes its own text format unless told
    ``save -v7``."""
    from scipy.io import loadmat
    from scipy.io.matlab import MatReadError

    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise NgMLError(f"cannot read {path}: {exc.strerror or exc}") from None
    if head.startswith(b"# Created by Octave") or head.startswith(b"# name:"):
        raise NgMLError(f"{path} is in Octave's text format, which SciPy cannot read; save it with "
                        "save -v7 (e.g. save -v7 mygrad.mat J grad lambda)")
    try:
        raw = loadmat(path)
    except NotImplementedError:
        raise NgMLError(f"{path} is a MATLAB v7.3 (HDF5) file; save it with -v7 (save -v7 {path} ...)") from None
    except (MatReadError, ValueError, TypeError, IndexError, OSError) as exc:
        raise NgMLError(f"{path} is not a MATLAB/Octave .mat file ({exc}); save it with save -v7") from None
    held = sorted(k for k in raw if not k.startswith("__"))
    wanted = list(keys) if keys is not None else None
    if wanted is None:
        if "Theta1" not in raw and "grad" not in raw:
            raise NgMLError(f"{path} holds neither Theta1 (ex4weights.mat) nor grad (mygrad.mat); it holds: "
                            f"{', '.join(held) or 'nothing'}")
    else:
        missing = [k for k in wanted if k not in raw]
        if missing:
            raise NgMLError(f"{path} has no variable {missing[0]!r} (it holds: {', '.join(held) or 'nothing'}); "
                            f"expected {', '.join(wanted)}")
    out = {}
    l = 1
    while f"Theta{l}" in raw:
        out[f"Theta{l}"] = _mat_value(raw[f"Theta{l}"], path, f"Theta{l}", "matrix")
        l += 1
    for name, kind in (("grad", "vector"), ("J", "scalar"), ("lambda", "scalar"), ("X", "matrix"), ("y", "vector")):
        if name in raw:
            out[name] = _mat_value(raw[name], path, name, kind)
    for name in wanted or ():
        out.setdefault(name, raw[name])
    return out


def _mat_value(value, path, name, kind):
    try:
        arr = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise NgMLError(f"{path}: {name} must be numeric, got a MATLAB {type(value).__name__}") from None
    if kind == "matrix":
        if arr.ndim != 2:
            raise NgMLError(f"{path}: {name} must be a matrix, got shape {arr.shape}")
        return arr
    vector = _as_vector(arr)
    if vector is None or (kind == "scalar" and vector.size != 1):
        expected = "one number (1×1)" if kind == "scalar" else "a vector (n×1)"
        raise NgMLError(f"{path}: {name} must be {expected}, got shape {arr.shape}")
    return float(vector[0]) if kind == "scalar" else vector
