"""Explain one gradient with the network's own numbers, in the learner's notation.

``explain(net, X, Y, weight=(l, j, k))`` answers "where does ∂C/∂w_jk^l come from?" for
``net.weights[l-1][j, k]`` (``bias=(l, j)``: ``net.biases[l-1][j]``), laying out

1. the forward values on the path: a_k^{l−1}, z_j^l, a_j^l, ..., a^L, y and the cost;
2. the output error δ^L = ∂C_x/∂z^L, with the closed form a − y where the cost and the
   output activation cancel (sigmoid + binary cross-entropy, softmax + cross-entropy);
3. the backward recurrence down to layer l, δ_j^l = (Σ_i w_ij^{l+1} δ_i^{l+1}) · g'(z_j^l), term by
   term (3Blue1Brown's sum over paths), and in matrix form with its shapes;
4. ∂C/∂w_jk^l = a_k^{l−1} δ_j^l (averaged over the batch, plus (λ/m) w_jk^l with L2), next to
   the central-difference estimate and their relative error.

Every number is the engine's: the gradient is read from ``net.backward`` and the values on
the path from the same call (its ``zs``, ``activations`` and ``deltas``); ``explain`` only
adds the central difference, which costs two evaluations of the cost.

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

from dataclasses import dataclass, field

import numpy as np

from .gradcheck import relative_error as _relative_error
from .validation import check_l2
from .notation import (
    CDOT,
    EPS,
    EQ,
    HAD,
    LAMBDA,
    MINUS,
    PLUS,
    SUM,
    TRANSPOSE,
    Code,
    Doc,
    M,
    NgDL,
    NgML,
    Notation,
    frac,
    get_notation,
    matrix,
    num,
    of_example,
    paren,
    partial,
    shape,
    vector,
    FINAL_DIGITS,
)

__all__ = [
    "explain",
    "Explanation",
    "explain_layer",
    "LayerExplanation",
    "sensitivity",
    "Sensitivity",
    "SensitivityRow",
    "NOTATION_CHOICES",
    "demo_chain",
]

NOTATION_CHOICES = ("3b1b", "nielsen", "ng-ml", "ng-dl")
#: Terms of a sum shown one by one; beyond this the largest are shown and the rest elided.
MAX_TERMS = 8
#: Output neurons whose δ^L is worked out one by one.
MAX_OUTPUT_ROWS = 10


# ============================================================================ validation
def _check_network(net):
    if not (hasattr(net, "backward") and hasattr(net, "sizes") and hasattr(net, "weights")):
        raise TypeError(f"net must be a deltaprop Network, got {type(net).__name__}")


def _check_index(value, low, high, what):
    """An int in low..high (inclusive) or a ValueError naming the valid range."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)):
        raise ValueError(f"{what} must be an integer in {low}..{high}, got {value!r}")
    value = int(value)
    if not low <= value <= high:
        raise ValueError(f"{what} = {value} is out of range; valid: {low}..{high}")
    return value


def _check_parameter(net, weight, bias):
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
    l = _check_index(spec[0], 1, L, f"layer l (weights[l-1], counted from 1; the network has {L})")
    j = _check_index(spec[1], 0, net.sizes[l] - 1, f"neuron j of layer {l} (size {net.sizes[l]})")
    k = None
    if kind == "weight":
        k = _check_index(
            spec[2], 0, net.sizes[l - 1] - 1, f"neuron k of layer {l - 1} (size {net.sizes[l - 1]})"
        )
    return kind, l, j, k


def _check_notation(notation):
    key = str(notation).lower().replace("_", "-") if isinstance(notation, str) else None
    if key not in NOTATION_CHOICES:
        raise ValueError(f"unknown notation {notation!r}; choose one of: {', '.join(NOTATION_CHOICES)}")
    return key


def _check_eps(eps) -> float:
    eps = float(eps)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    return eps


def _check_sample(sample, m):
    if sample is None:
        return None
    return _check_index(sample, 0, m - 1, f"sample (a row of X; the batch has {m})")


def _float64_network(net):
    """``net`` itself when it is float64, else a float64 copy (same layers, same numbers)."""
    if net.dtype == np.float64:
        return net
    copy = type(net).from_config({**net.config(), "dtype": "float64"})
    copy.weights = list(net.weights)
    copy.biases = list(net.biases)
    return copy


# ============================================================================ numbers
def _central_difference(net, kind, l, index, X, Y, l2, eps) -> float:
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
class _Derivation:
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


def _derive(net, X, Y, kind, l, j, k, sample, l2, eps) -> _Derivation:
    work = _float64_network(net)
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
    numeric = float(_central_difference(work, kind, l, index, Xe, Ye, l2e, eps))
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
    return _Derivation(
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
    )


# ============================================================================ the result
class _Rendered:
    """A result that renders itself from ``_doc()``: text for the terminal, Markdown with LaTeX
    for notebooks (Jupyter calls ``_repr_markdown_``)."""

    def __str__(self) -> str:
        return self._doc().text()

    def to_markdown(self) -> str:
        return self._doc().markdown()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


@dataclass
class Explanation(_Rendered):
    """∂C/∂θ for one parameter θ, with its derivation (``str()``: terminal text,
    ``to_markdown()``: Markdown with LaTeX, displayed by Jupyter via ``_repr_markdown_``).

    ``value`` is the engine's gradient (``net.backward``), ``numeric`` the central difference
    (C(θ + ε) − C(θ − ε)) / 2ε in float64, ``relative_error`` = |value − numeric| /
    (|value| + |numeric|)."""

    value: float
    numeric: float
    relative_error: float
    kind: str  # "weight" or "bias"
    layer: int
    j: int
    k: int | None
    sample: int | None
    notation: str
    l2: float
    eps: float
    _derivation: _Derivation = field(repr=False)

    @property
    def name(self) -> str:
        """The parameter's symbol in the chosen notation (plain text)."""
        return _param_symbol(self._derivation, self._notation()).text

    def _notation(self) -> Notation:
        return get_notation(self.notation, self._derivation.sizes)

    def _doc(self) -> Doc:
        return _render_parameter(self._derivation, self._notation())



def explain(
    net,
    X,
    Y,
    weight=None,
    bias=None,
    sample=None,
    notation: str = "3b1b",
    l2: float = 0.0,
    eps: float = 1e-5,
) -> Explanation:
    """Explain ∂C/∂w_jk^l (``weight=(l, j, k)``, the entry ``net.weights[l-1][j, k]``) or
    ∂C/∂b_j^l (``bias=(l, j)``, ``net.biases[l-1][j]``) with the numbers of this network.

    X is (m, n_0), Y is (m, n_L). ``sample=i`` explains the cost of example X[i] alone,
    ``sample=None`` the cost averaged over the batch. ``notation`` is "3b1b", "nielsen",
    "ng-ml" or "ng-dl"; ``l2`` is λ of the penalty λ/(2m) Σ‖W‖² (see the module docstring for
    its share in one example's cost); ``eps`` the step of the central difference.
    """
    _check_network(net)
    kind, l, j, k = _check_parameter(net, weight, bias)
    key = _check_notation(notation)
    l2 = check_l2(l2)
    eps = _check_eps(eps)
    d = _derive(net, X, Y, kind, l, j, k, sample, l2, eps)
    return Explanation(
        value=d.value,
        numeric=d.numeric,
        relative_error=d.relative_error,
        kind=kind,
        layer=l,
        j=j,
        k=k,
        sample=d.sample,
        notation=key,
        l2=l2,
        eps=eps,
        _derivation=d,
    )


# ============================================================================ rendering
def _param_symbol(d, n: Notation) -> M:
    return n.weight(d.l, d.j, d.k) if d.kind == "weight" else n.bias(d.l, d.j)


def _engine_ref(kind, l, j, k=None) -> str:
    if kind == "weight":
        return f"net.weights[{l - 1}][{j}, {k}]"
    return f"net.biases[{l - 1}][{j}]"


def _cost_symbol(d, n: Notation) -> M:
    return n.cost() if d.sample is None else n.example_cost(d.x0)


def _sizes_text(sizes) -> str:
    return "-".join(str(s) for s in sizes)


def _act_label(g) -> str:
    return g.name if g.name != "leaky_relu" else f"leaky_relu(slope={g.slope:g})"


def _derivative_formula(g) -> M:
    """g'(z) in terms of z and a = g(z), as the activation module states it."""
    if g.name == "sigmoid":
        return M("a(1 − a)", "a(1 - a)")
    if g.name == "tanh":
        return M("1 − a²", "1 - a^2")
    if g.name == "relu":
        return M("1 if z > 0 else 0", r"1 \text{ if } z > 0 \text{ else } 0")
    if g.name == "leaky_relu":
        return M(f"1 if z > 0 else {g.slope:g}", rf"1 \text{{ if }} z > 0 \text{{ else }} {g.slope:g}")
    if g.name == "identity":
        return M("1")
    return M("g'(z)")


def _derivative_value(g, z, a) -> float:
    return float(g.derivative(np.array([[z]]), np.array([[a]]))[0, 0])


def _vec_or_scalar(values) -> M:
    values = np.asarray(values)
    return num(values[0]) if values.size == 1 else vector(values)


def _render_parameter(d: _Derivation, n: Notation) -> Doc:
    doc = Doc()
    _header(doc, d, n)
    step = 1
    _forward_section(doc, d, n, step)
    step += 1
    _output_section(doc, d, n, step)
    L = len(d.sizes) - 1
    if d.l < L:
        step += 1
        _backward_section(doc, d, n, step)
    step += 1
    _gradient_section(doc, d, n, step)
    return doc


# ---------------------------------------------------------------------------- header
def _header(doc, d, n):
    L = len(d.sizes) - 1
    param = _param_symbol(d, n)
    cost = _cost_symbol(d, n)
    grad = n.grad(cost, param)
    alias = n.batch_grad_name(d.kind, d.l, d.j, d.k) if d.sample is None else None
    title = grad if alias is None else alias + EQ + grad
    what = "weight" if d.kind == "weight" else "bias"
    whose = f"the cost of {('this example' if d.sample is not None else 'the batch')}"
    doc.title(title, f": how {whose} changes with one {what}")
    acts = " → ".join(_act_label(g) for g in d.activations)
    doc.para(
        f"network {_sizes_text(d.sizes)} ({acts}; {d.cost_function.name} cost)"
        + (", explained in float64" if d.dtype != "float64" else ""),
        f"; notation: {n.title}, {n.summary}",
    )
    ref = Code(_engine_ref(d.kind, d.l, d.j, d.k))
    lab = n.layer_label
    if d.kind == "weight":
        if isinstance(n, NgML):
            doc.para(
                param, " is ", ref, ": column ", n.index(d.k), " of ", n.weight_matrix(d.l), " ",
                shape(d.sizes[d.l], d.sizes[d.l - 1] + 1), " (column 0 is the bias column); it joins unit ",
                n.index(d.k), " of layer ", lab(d.l - 1), " to unit ", n.index(d.j), " of layer ", lab(d.l),
            )
        else:
            doc.para(
                param, " is ", ref, f": it joins neuron {n.index(d.k)} of layer {lab(d.l - 1)} to neuron "
                f"{n.index(d.j)} of layer {lab(d.l)}",
            )
    else:
        if isinstance(n, NgML):
            doc.para(
                param, " is ", ref, ": the bias of unit ", n.index(d.j), " of layer ", lab(d.l),
                ", column 0 of ", n.weight_matrix(d.l), " ", shape(d.sizes[d.l], d.sizes[d.l - 1] + 1),
                ", which multiplies the bias unit ", n.bias_unit(d.l - 1), " = 1",
            )
        else:
            doc.para(param, " is ", ref, f": the bias of neuron {n.index(d.j)} of layer {lab(d.l)}")
    if d.sample is not None:
        text = f"for {n.example(d.x0)} of the batch of m = {d.m}"
        if d.l2:
            text += f"; its cost carries its share λ/(2m) Σ‖W‖² of the L2 penalty (λ = {d.l2:g}, m = {d.m})"
        doc.para(text)
    else:
        doc.para(
            f"averaged over the batch of m = {d.m} examples"
            + (f" with L2 λ = {d.l2:g}" if d.l2 else "")
            + f"; steps 1–{3 if d.l < L else 2} follow {n.example(d.x0)}"
        )


# ---------------------------------------------------------------------------- forward
def _z_line(d, n, q, j) -> list:
    """z^q_j = Σ_k w^q_{j,k} a^{q−1}_k + b^q_j = value (with the numbers when there is one input)."""
    z_sym = n.z(q, j)
    if d.sizes[q - 1] == 1:
        w, a_prev, b = d.W[q][j, 0], d.a[q - 1][0], d.b[q][j]
        form = n.weight(q, j, 0) + " " + n.a(q - 1, 0) + PLUS + n.bias(q, j)
        numbers = num(w) + CDOT + num(a_prev, wrap=True) + PLUS + num(b, wrap=True)
        return [z_sym + EQ + form + EQ + numbers + EQ + num(d.z[q][j])]
    if isinstance(n, NgML):
        form = SUM + M("_k", "_{k}") + " " + n.weight(q, j, "k") + " " + n.a(q - 1, "k")
        return [z_sym + EQ + form + EQ + num(d.z[q][j]), " (k from 0: ", n.bias_unit(q - 1), " = 1 brings the bias)"]
    form = SUM + M("_k", "_{k}") + " " + n.weight(q, j, "k") + " " + n.a(q - 1, "k") + PLUS + n.bias(q, j)
    return [z_sym + EQ + form + EQ + num(d.z[q][j])]


def _forward_section(doc, d, n, step):
    L = len(d.sizes) - 1
    l, j = d.l, d.j
    doc.heading(f"{step}. Forward pass")
    if d.kind == "weight":
        note = f" ({n.input_note()})" if l - 1 == 0 else ""
        doc.item(n.a(l - 1, d.k) + EQ + num(d.a[l - 1][d.k]), note)
    elif isinstance(n, NgML):
        doc.item(n.bias_unit(l - 1) + EQ + "1", " (the bias unit)")
    doc.item(*_z_line(d, n, l, j))
    g = d.activations[l - 1]
    if g.name == "softmax":
        doc.item(n.a(l, j) + EQ + M("softmax", r"\operatorname{softmax}") + paren(n.z(l)) + n.sub(j) + EQ + num(d.a[l][j]))
    else:
        doc.item(n.a(l, j) + EQ + n.act(g, l) + paren(n.z(l, j)) + EQ + num(d.a[l][j]))
    for q in range(l + 1, L + 1):
        g = d.activations[q - 1]
        if d.sizes[q] == 1:
            doc.item(*_z_line(d, n, q, 0))
            doc.item(n.a(q, 0) + EQ + n.act(g, q) + paren(n.z(q, 0)) + EQ + num(d.a[q][0]))
            continue
        zq = n.weight_matrix(q) + " " + n.a(q - 1) + PLUS + n.bias_vector(q)
        doc.item(n.z(q) + EQ + zq + EQ + vector(d.z[q]))
        doc.item(n.a(q) + EQ + n.act(g, q) + paren(n.z(q)) + EQ + vector(d.a[q]))
    doc.item(n.y() + EQ + _vec_or_scalar(d.y), " (the target)")
    cost = n.example_cost(d.x0)
    doc.item(cost + EQ + _cost_formula(d, n) + EQ + num(d.example_data_cost))
    if d.l2:
        doc.item("with its share of the L2 penalty: ", cost + PLUS + n.penalty() + EQ + num(d.example_cost))
    if d.sample is None:
        doc.item("the batch: ", n.cost() + EQ + n.batch_cost() + (PLUS + n.penalty() if d.l2 else M(""))
                 + EQ + num(d.batch_cost))


def _cost_formula(d, n) -> M:
    L = len(d.sizes) - 1
    a, y = n.a(L, "j"), n.y("j")
    single = d.sizes[-1] == 1
    s = M("") if single else SUM + M("_j", "_{j}") + " "
    name = d.cost_function.name
    if name == "quadratic":
        return s + paren(a + MINUS + y) + M("²", "^2")
    if name == "binary_cross_entropy":
        return M("−", "-") + s + M("[") + y + M(" log ", r" \log ") + a + PLUS + paren(M("1") + MINUS + y) + M(" log", r" \log") + paren(M("1") + MINUS + a) + M("]")
    if name == "cross_entropy":
        return M("−", "-") + s + y + M(" log ", r" \log ") + a
    return M(name)


# ---------------------------------------------------------------------------- δ^L
def _output_rows(d):
    """Output neurons to work out one by one: j alone when θ is in the output layer."""
    L = len(d.sizes) - 1
    if d.l == L:
        return [d.j], 0
    n_out = d.sizes[L]
    shown = list(range(min(n_out, MAX_OUTPUT_ROWS)))
    return shown, n_out - len(shown)


def _output_section(doc, d, n, step):
    L = len(d.sizes) - 1
    g = d.activations[-1]
    cost = d.cost_function
    cx = n.example_cost(d.x0)
    doc.heading(f"{step}. Output error ", n.delta(L) + EQ + partial(cx, n.z(L)))
    a, z, y, delta = d.a[L], d.z[L], d.y, d.delta[L]
    rows, hidden = _output_rows(d)
    closed = cost.closed_form_output is not None and cost.closed_form_output == g.name
    if closed:
        if g.name == "sigmoid":
            reason = [
                "sigmoid + binary cross-entropy: ",
                partial(cx, n.a(L, "j")) + EQ + frac(paren(n.a(L, "j") + MINUS + n.y("j")), n.a(L, "j") + paren(M("1") + MINUS + n.a(L, "j"))),
                " and ", n.act_prime(g, L) + paren(n.z(L, "j")) + EQ + n.a(L, "j") + paren(M("1") + MINUS + n.a(L, "j")),
                " cancel, so ", n.delta(L) + EQ + n.a(L) + MINUS + n.y(),
            ]
        else:
            reason = [
                "softmax + cross-entropy: ",
                partial(cx, n.a(L, "j")) + EQ + M("−y_j/a_j", r"-y_j/a_j"),
                " and ", M("∂a_j/∂z_k = a_j(1[j=k] − a_k)", r"\partial a_j/\partial z_k = a_j(1[j=k] - a_k)"),
                ", so ", M("δ_k = a_k Σ_j y_j − y_k = a_k − y_k", r"\delta_k = a_k \sum_j y_j - y_k = a_k - y_k"),
                " because the targets of an example sum to 1",
            ]
        doc.item(*reason)
        for i in rows:
            doc.item(
                n.delta(L, i) + EQ + n.a(L, i) + MINUS + n.y(i) + EQ + num(a[i]) + MINUS + num(y[i], wrap=True)
                + EQ + num(delta[i]),
                level=2,
            )
    elif g.name == "softmax":
        grad_a = cost.grad_a(a[None], y[None])[0]
        s = float(np.dot(a, grad_a))
        doc.item(
            _grad_a_formula(d, n), "; softmax mixes the outputs (",
            M("∂a_i/∂z_j = a_i(1[i=j] − a_j)", r"\partial a_i/\partial z_j = a_i(1[i=j] - a_j)"), "), so ",
            n.delta(L, "j") + EQ + n.a(L, "j") + paren(partial(cx, n.a(L, "j")) + MINUS + M("s")),
            " with ", M("s = Σ_i a_i ∂C/∂a_i", r"s = \sum_i a_i \, \partial C/\partial a_i") + EQ + num(s),
        )
        for i in rows:
            doc.item(
                n.delta(L, i) + EQ + num(a[i]) + CDOT + paren(num(grad_a[i]) + MINUS + num(s, wrap=True)) + EQ + num(delta[i]),
                level=2,
            )
    else:
        grad_a = cost.grad_a(a[None], y[None])[0]
        doc.item(
            n.delta(L, "j") + EQ + partial(cx, n.a(L, "j")) + CDOT + n.act_prime(g, L) + paren(n.z(L, "j")),
            " with ", _grad_a_formula(d, n), " and ", n.act_prime(g, L) + paren(M("z")) + EQ + _derivative_formula(g),
        )
        for i in rows:
            gp = _derivative_value(g, z[i], a[i])
            doc.item(
                n.delta(L, i) + EQ + num(grad_a[i]) + CDOT + num(gp, wrap=True) + EQ + num(delta[i]),
                "   with ", n.z(L, i) + EQ + num(z[i]) + ", " + n.a(L, i) + EQ + num(a[i]),
                level=2,
            )
    if hidden:
        doc.item(f"… and {hidden} more output neurons the same way", level=2)
    if d.l < L and d.sizes[L] > 1:
        doc.item(n.delta(L) + EQ + vector(delta))


def _grad_a_rhs(d, n, j) -> M:
    """∂C_x/∂a^L_j as a formula: 2(a_j − y_j), (a_j − y_j)/(a_j(1 − a_j)), −y_j/a_j."""
    L = len(d.sizes) - 1
    a, y = n.a(L, j), n.y(j)
    name = d.cost_function.name
    if name == "quadratic":
        return M("2") + paren(a + MINUS + y)
    if name == "binary_cross_entropy":
        return frac(paren(a + MINUS + y), a + paren(M("1") + MINUS + a))
    if name == "cross_entropy":
        return M("−", "-") + frac(y, a)
    return partial(n.example_cost(d.x0), a)


def _grad_a_formula(d, n) -> M:
    L = len(d.sizes) - 1
    return partial(n.example_cost(d.x0), n.a(L, "j")) + EQ + _grad_a_rhs(d, n, "j")


# ---------------------------------------------------------------------------- δ^l, l < L
def _backward_section(doc, d, n, step):
    L = len(d.sizes) - 1
    doc.heading(f"{step}. Backward, layer by layer down to layer {n.layer_label(d.l)}")
    for q in range(L - 1, d.l - 1, -1):
        g = d.activations[q - 1]
        if q == d.l:
            _path_sum(doc, d, n, q, d.j)
            for line in n.recurrence_form(q, g):
                doc.item(*line)
            doc.item(
                "in deltaprop (rows are examples): ",
                Code(f"deltas[{q - 1}] = (deltas[{q}] @ net.weights[{q}]) * g'(zs[{q - 1}])"),
                ", ", shape("m", d.sizes[q + 1]), " @ ", shape(d.sizes[q + 1], d.sizes[q]), M(" → ", r" \to "),
                shape("m", d.sizes[q]), ": no transpose needed",
            )
        elif d.sizes[q] == 1:
            _path_sum(doc, d, n, q, 0)
        else:
            Wt = paren(n.weight_matrix(q + 1)) + TRANSPOSE
            doc.item(
                n.delta(q) + EQ + paren(Wt + " " + n.delta(q + 1)) + HAD + n.act_prime(g, q) + paren(n.z(q))
                + EQ + vector(d.delta[q]),
                "  ", shape(d.sizes[q]), " = ", shape(d.sizes[q], d.sizes[q + 1]), " ", shape(d.sizes[q + 1]),
            )


def _path_sum(doc, d, n, q, j):
    """δ^q_j = (Σ_i w^{q+1}_{i,j} δ^{q+1}_i) · g'(z^q_j), term by term."""
    g = d.activations[q - 1]
    w_col = d.W[q + 1][:, j]
    delta_next = d.delta[q + 1]
    terms = w_col * delta_next
    n_next = terms.size
    gp_sym = n.act_prime(g, q) + paren(n.z(q, j))
    if n_next == 1:
        inner = n.weight(q + 1, 0, j) + " " + n.delta(q + 1, 0)
        doc.item(n.delta(q, j) + EQ + inner + CDOT + gp_sym, ": the one path from this neuron to the cost")
    else:
        inner = SUM + M("_i", "_{i}") + " " + n.weight(q + 1, "i", j) + " " + n.delta(q + 1, "i")
        doc.item(
            n.delta(q, j) + EQ + paren(inner) + CDOT + gp_sym,
            f": the sum over the {n_next} neurons of layer {n.layer_label(q + 1)}, one path each",
        )
    order = np.arange(n_next)
    if n_next > MAX_TERMS:
        order = np.argsort(-np.abs(terms), kind="stable")[:MAX_TERMS]
    for i in order:
        tag = M(f"i={n.index(int(i))}: ", f"i={n.index(int(i))}:\\;") if n_next > 1 else M("")
        doc.item(
            tag + n.weight(q + 1, int(i), j) + CDOT + n.delta(q + 1, int(i)) + EQ
            + num(w_col[i]) + CDOT + num(delta_next[i], wrap=True) + EQ + num(terms[i]),
            level=2,
        )
    total = float(np.sum(terms))
    if n_next > MAX_TERMS:
        rest = np.ones(n_next, bool)
        rest[order] = False
        doc.item(
            f"… {n_next - MAX_TERMS} smaller terms, together ", num(float(np.sum(terms[rest]))), level=2
        )
    if n_next > 1:
        doc.item(M("Σ", r"\Sigma") + EQ + num(total), f" (all {n_next} terms)", level=2)
    gp = _derivative_value(g, d.z[q][j], d.a[q][j])
    doc.item(
        gp_sym + EQ + _derivative_formula(g) + EQ + num(gp),
        "   with ", n.z(q, j) + EQ + num(d.z[q][j]) + ", " + n.a(q, j) + EQ + num(d.a[q][j]),
        level=2,
    )
    doc.item(n.delta(q, j) + EQ + num(total) + CDOT + num(gp, wrap=True) + EQ + num(d.delta[q][j]), level=2)


# ---------------------------------------------------------------------------- the gradient
def _gradient_section(doc, d, n, step):
    """∂C/∂θ = ∂z_j/∂θ · δ_j, for one example or averaged, then the numerical check."""
    l, j = d.l, d.j
    param = _param_symbol(d, n)
    doc.heading(f"{step}. The gradient")
    dz = _dz_dtheta(d, n)
    per_example = (dz + CDOT if dz is not None else M("")) + n.delta(l, j)
    _chain_rule(doc, d, n, param, per_example, dz)
    if d.sample is not None:
        final = _one_example(doc, d, n, param, per_example, dz)
    else:
        final = _batch_average(doc, d, n, param, dz)
    if d.kind == "weight" and d.sizes[l] * d.sizes[l - 1] > 1:
        form = n.weight_grad_form(l, d.l2 > 0)
        doc.item("the whole matrix at once: ", *form[0])
        for line in form[1:]:
            doc.item(*line, level=2)
    doc.item(final + EQ + num(d.value, FINAL_DIGITS), "   ← net.backward")
    _numerical_check(doc, d, n, param)


def _dz_dtheta(d, n):
    """∂z_j/∂θ as a symbol: a_k^{l−1} for a weight, the bias unit (Ng ML) or None (1) for a bias."""
    if d.kind == "weight":
        return n.a(d.l - 1, d.k)
    if isinstance(n, NgML):
        return n.bias_unit(d.l - 1)
    return None


def _chain_rule(doc, d, n, param, per_example, dz):
    """∂C_x/∂θ = ∂z/∂θ · ∂C_x/∂z, and in the output layer 3Blue1Brown's three factors."""
    L = len(d.sizes) - 1
    l, j, k = d.l, d.j, d.k
    cx = n.example_cost(d.x0)
    since = n.z(l, j) + M(" = … + ", r" = \dots + ") + param
    if d.kind == "weight":
        since = since + " " + n.a(l - 1, k) + M(" + …", r" + \dots")
    elif dz is not None:
        since = since + CDOT + "1"
    doc.item(
        n.grad(cx, param) + EQ + partial(n.z(l, j), param) + CDOT + partial(cx, n.z(l, j)) + EQ + per_example,
        "   since ", since,
    )
    g_out = d.activations[-1]
    closed = d.cost_function.closed_form_output == g_out.name
    if l < L or d.kind != "weight" or g_out.name == "softmax" or closed:
        return
    grad_a = float(d.cost_function.grad_a(d.a[L][None], d.y[None])[0, j])
    gp = _derivative_value(g_out, d.z[L][j], d.a[L][j])
    a_prev = d.a[l - 1][k]
    doc.item(
        "the three factors of the chain rule: ",
        partial(n.z(l, j), param) + CDOT + partial(n.a(l, j), n.z(l, j)) + CDOT + partial(cx, n.a(l, j))
        + EQ + n.a(l - 1, k) + CDOT + n.act_prime(g_out, l) + paren(n.z(l, j)) + CDOT + _grad_a_rhs(d, n, j)
        + EQ + num(a_prev) + CDOT + num(gp) + CDOT + num(grad_a, wrap=True) + EQ + num(a_prev * gp * grad_a),
        level=2,
    )


def _one_example(doc, d, n, param, per_example, dz) -> M:
    """a_k δ_j with the numbers [+ (λ/m) w, m the batch size]; returns the result's symbol."""
    l, j = d.l, d.j
    delta = d.delta[l][j]
    if dz is not None:
        a_val = d.a[l - 1][d.k] if d.kind == "weight" else 1.0
        doc.item(per_example + EQ + num(a_val) + CDOT + num(delta, wrap=True) + EQ + num(a_val * delta), level=2)
    else:
        doc.item(per_example + EQ + num(delta), level=2)
    if d.kind == "weight" and d.l2 > 0:
        doc.item(
            "L2: ", PLUS + frac(LAMBDA, "m") + " " + param + EQ + frac(num(d.l2), num(d.m)) + CDOT
            + num(d.theta, wrap=True) + EQ + num(d.l2 / d.m * d.theta),
            f" (m = {d.m}, the batch this example belongs to)", level=2,
        )
    return n.grad(n.example_cost(d.x0), param)


def _numerical_check(doc, d, n, param):
    """The central difference, the relative error, and what the sign means."""
    cost = _cost_symbol(d, n)
    plus = cost + M("(θ+ε)", r"(\theta+\varepsilon)")
    minus = cost + M("(θ−ε)", r"(\theta-\varepsilon)")
    doc.item(
        "central difference ", frac(plus + MINUS + minus, M("2ε", r"2\varepsilon")),
        " with ", EPS + EQ + num(d.eps), ": ", num(d.numeric, FINAL_DIGITS),
    )
    doc.item(
        "relative error ", M("|g − g_num| / (|g| + |g_num|)", r"|g - g_{num}| / (|g| + |g_{num}|)")
        + EQ + num(d.relative_error, 2),
    )
    if d.value > 0:
        meaning = "increasing it raises the cost; gradient descent moves it down"
    elif d.value < 0:
        meaning = "increasing it lowers the cost; gradient descent moves it up"
    else:
        meaning = "a small nudge leaves the cost unchanged"
    doc.item("nudging ", param, " by ε changes ", cost, " by about ", num(d.value), CDOT + EPS, ": ", meaning)


def _batch_average(doc, d, n, param, dz) -> M:
    """(1/m) Σ_x a_k(x) δ_j(x) [+ (λ/m) w], term by term; returns the symbol of the result."""
    l, j, k = d.l, d.j, d.k
    terms = d.a_col * d.d_col
    m = d.m
    reg = d.kind == "weight" and d.l2 > 0
    if isinstance(n, NgML):
        col = "0" if d.kind == "bias" else n.index(k)
        acc = n.accumulator(l, j, col)
        doc.item(acc + EQ + SUM + M("_i", "_{i}") + " " + (of_example(dz) + CDOT if dz is not None else M(""))
                 + of_example(n.delta(l, j)), ": the accumulator over the examples i = 1..m")
    elif isinstance(n, NgDL):
        if d.kind == "weight":
            doc.item(n.batch_grad_name("weight", l, j, k) + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " "
                     + M("dZ") + n.sup(l) + n.sub(j, "i") + " " + M("A") + n.sup(l - 1) + n.sub(k, "i"),
                     " = ", frac("1", "m"), M(" (dZ", " (dZ") + n.sup(l) + " " + paren(M("A") + n.sup(l - 1)) + TRANSPOSE + M(")") + n.sub(j, k))
        else:
            doc.item(n.batch_grad_name("bias", l, j) + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " " + M("dZ") + n.sup(l) + n.sub(j, "i"))
    else:
        doc.item(n.grad(n.cost(), param) + EQ + frac("1", "m") + " " + SUM + M("_x", "_{x}") + " " + n.grad(M("C_x"), param)
                 + (PLUS + frac(LAMBDA, "m") + " " + param if reg else M("")), ": every example adds its own term")
    order = np.arange(m)
    if m > MAX_TERMS:
        order = np.argsort(-np.abs(terms), kind="stable")[:MAX_TERMS]
    for x in order:
        x = int(x)
        body = (num(d.a_col[x]) + CDOT if dz is not None else M("")) + num(d.d_col[x], wrap=dz is not None)
        doc.item(n.example_tag(x) + M(": ", r":\;") + body + (EQ + num(terms[x]) if dz is not None else M("")), level=2)
    if m > MAX_TERMS:
        rest = np.ones(m, bool)
        rest[order] = False
        doc.item(f"… {m - MAX_TERMS} smaller terms, together ", num(float(np.sum(terms[rest]))), level=2)
    total = float(np.sum(terms))
    sum_sym = n.accumulator(l, j, "0" if d.kind == "bias" else n.index(k)) if isinstance(n, NgML) else M("Σ", r"\Sigma")
    doc.item(sum_sym + EQ + num(total), f" (all {m} examples)", level=2)
    mean = total / m
    doc.item(frac("1", "m") + " " + sum_sym + EQ + num(total) + M(" / ") + str(m) + EQ + num(mean), level=2)
    if reg:
        doc.item(PLUS + frac(LAMBDA, "m") + " " + param + EQ + frac(num(d.l2), num(m)) + CDOT + num(d.theta, wrap=True)
                 + EQ + num(d.l2 / m * d.theta), level=2)
    elif d.l2 > 0 and d.kind == "bias":
        doc.item("biases are not regularised: no λ term", level=2)
    alias = n.batch_grad_name(d.kind, l, j, k)
    return alias if alias is not None else n.grad(n.cost(), param)


# ============================================================================ the demo
def demo_chain():
    """3Blue1Brown's chain of one neuron per layer: sizes [1, 1, 1, 1] (3 weights, 3 biases),
    sigmoid everywhere, quadratic cost C_0 = (a^(L) − y)², one example x = 0.7 with y = 1.

    Returns (net, X, Y); ``explain(net, X, Y, weight=(3, 0, 0), sample=0)`` explains w^(L)."""
    from .network import Network

    net = Network([1, 1, 1, 1], activation="sigmoid", cost="quadratic", seed=0)
    net.weights = [[[0.9]], [[-1.3]], [[2.1]]]
    net.biases = [[0.1], [0.4], [-0.6]]
    X = np.array([[0.7]])
    Y = np.array([[1.0]])
    return net, X, Y


# ============================================================================ layer view
@dataclass
class LayerExplanation(_Rendered):
    """δ^l, ∂C/∂W^l and ∂C/∂b^l of one layer for a batch (engine layout: ``delta`` (m, n_l),
    ``grad_W`` (n_l, n_{l−1}), ``grad_b`` (n_l,)), with ``str()`` and ``to_markdown()``."""

    layer: int
    notation: str
    l2: float
    delta: np.ndarray
    grad_W: np.ndarray
    grad_b: np.ndarray
    cost: float
    _sizes: list = field(repr=False)
    _activations: list = field(repr=False)
    _cost_name: str = field(repr=False)

    def _doc(self) -> Doc:
        return _render_layer(self, get_notation(self.notation, self._sizes))



def explain_layer(net, X, Y, layer, notation: str = "3b1b", l2: float = 0.0) -> LayerExplanation:
    """The whole of layer ``layer`` (W^l = ``net.weights[layer-1]``) for the batch X, Y: δ^l for
    every example, ∂C/∂W^l as a matrix product with its shapes, ∂C/∂b^l; numbers from one
    ``net.backward(X, Y, l2)``."""
    _check_network(net)
    L = net.n_layers
    l = _check_index(layer, 1, L, f"layer (weights[layer-1], counted from 1; the network has {L})")
    key = _check_notation(notation)
    l2 = check_l2(l2)
    work = _float64_network(net)
    X, Y = work.check_XY(X, Y)
    grads = work.backward(X, Y, l2=l2)
    return LayerExplanation(
        layer=l,
        notation=key,
        l2=l2,
        delta=grads.deltas[l - 1].copy(),
        grad_W=grads.weights[l - 1].copy(),
        grad_b=grads.biases[l - 1].copy(),
        cost=float(grads.cost),
        _sizes=list(work.sizes),
        _activations=list(work.activations),
        _cost_name=work.cost_function.name,
    )


def _render_layer(e: LayerExplanation, n: Notation) -> Doc:
    l = e.layer
    L = len(e._sizes) - 1
    m = e.delta.shape[0]
    n_l, n_prev = e._sizes[l], e._sizes[l - 1]
    doc = Doc()
    doc.title("Layer ", n.layer_label(l), ": ", n.weight_matrix(l), " ", shape(n_l, n_prev if not isinstance(n, NgML) else n_prev + 1),
              f", a batch of m = {m}")
    doc.para(
        f"network {_sizes_text(e._sizes)} ({e._cost_name} cost); notation: {n.title}, {n.summary}; arrays: ",
        Code(f"net.weights[{l - 1}]"), ", ", Code(f"net.biases[{l - 1}]"),
    )
    doc.heading("1. The errors ", n.delta(l), " of every example")
    g = e._activations[l - 1]
    if l == L:
        doc.item(n.delta(l), " comes from the cost and the output activation (", e._cost_name, ", ", g.name, ")")
    else:
        for line in n.recurrence_form(l, g):
            doc.item(*line)
    if isinstance(n, NgDL):
        doc.item(M("dZ") + n.sup(l) + " " + shape(n_l, m), ", examples as columns:")
        doc.display(matrix(e.delta.T))
    else:
        doc.item(n.delta(l), " for every example, one row each ", shape(m, n_l), ", ", Code(f"deltas[{l - 1}]"), ":")
        doc.display(matrix(e.delta))
    doc.heading("2. The weight gradient")
    for line in n.weight_grad_form(l, e.l2 > 0):
        doc.item(*line)
    doc.item(
        "in deltaprop (rows are examples): ", Code(f"grad_W = deltas[{l - 1}].T @ activations[{l - 1}] / m"
                                                   + (f" + l2 / m * net.weights[{l - 1}]" if e.l2 else "")),
        ", ", shape(n_l, "m"), " @ ", shape("m", n_prev), M(" → ", r" \to "), shape(n_l, n_prev),
    )
    if isinstance(n, NgML):
        D = np.concatenate([e.grad_b[:, None], e.grad_W], axis=1)
        doc.item(M("D") + n.sup(l - 1) + " " + shape(n_l, n_prev + 1), ", column 0 the bias:")
        doc.display(matrix(D))
    else:
        name = n.batch_grad_name("weight", l, 0, 0)
        name = M("dW") + n.sup(l) if isinstance(n, NgDL) else n.grad(n.cost(), n.weight_matrix(l))
        doc.item(name + " " + shape(n_l, n_prev), ":")
        doc.display(matrix(e.grad_W))
    doc.heading("3. The bias gradient")
    for line in n.bias_grad_form(l):
        doc.item(*line)
    doc.item("values: ", vector(e.grad_b))
    return doc


# ============================================================================ sensitivity
@dataclass
class SensitivityRow:
    """One parameter: its name in the notation, engine layer (from 1), indices, ∂C/∂θ and the
    direction a small nudge should take to decrease the cost."""

    name: str
    latex: str
    kind: str  # "weight" or "bias"
    layer: int
    indices: tuple
    gradient: float
    direction: str  # "decrease", "increase" or "none"

    @property
    def engine(self) -> str:
        return _engine_ref(self.kind, self.layer, *self.indices)


@dataclass
class Sensitivity:
    """The parameters ranked by |∂C/∂θ| (which nudges decrease the cost most)."""

    rows: list
    cost: float
    n_params: int
    m: int
    notation: str
    l2: float

    def _table(self, markdown: bool) -> list:
        out = []
        for r, row in enumerate(self.rows, start=1):
            name = f"${row.latex}$" if markdown else row.name
            engine = f"`{row.engine}`" if markdown else row.engine
            out.append((str(r), name, engine, f"{row.gradient:.6g}", row.direction))
        return out

    def _intro(self) -> str:
        cost = get_notation(self.notation, [1, 1]).cost().text
        return (
            f"The {len(self.rows)} largest |∂C/∂θ| of {self.n_params} parameters "
            f"(cost {cost} = {self.cost:.6g} on a batch of {self.m}"
            + (f", L2 λ = {self.l2:g}" if self.l2 else "")
            + "). A step θ ← θ − η ∂C/∂θ lowers C by about η (∂C/∂θ)², so these nudges pay most."
        )

    def __str__(self) -> str:
        head = ("rank", "parameter", "array entry", "∂C/∂θ", "nudge it to")
        rows = [head] + self._table(False)
        widths = [max(len(r[c]) for r in rows) for c in range(5)]
        lines = [self._intro(), ""]
        for r in rows:
            lines.append("  ".join(r[c].rjust(widths[c]) if c in (0, 3) else r[c].ljust(widths[c]) for c in range(5)).rstrip())
        return "\n".join(lines) + "\n"

    def to_markdown(self) -> str:
        lines = [self._intro().replace("∂C/∂θ", r"$\partial C/\partial\theta$"), "",
                 r"| rank | parameter | array entry | $\partial C/\partial\theta$ | nudge it to |",
                 "|---:|---|---|---:|---|"]
        for r in self._table(True):
            lines.append("| " + " | ".join(r) + " |")
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


def sensitivity(net, X, Y, top: int = 10, l2: float = 0.0, notation: str = "3b1b") -> Sensitivity:
    """Rank every weight and bias by |∂C/∂θ| for the batch X, Y (one ``net.backward``); the
    ``top`` largest, each with the direction that decreases the cost (against the gradient)."""
    _check_network(net)
    if isinstance(top, (bool, np.bool_)) or not isinstance(top, (int, np.integer)) or top < 1:
        raise ValueError(f"top must be a positive integer, got {top!r}")
    key = _check_notation(notation)
    l2 = check_l2(l2)
    work = _float64_network(net)
    X, Y = work.check_XY(X, Y)
    grads = work.backward(X, Y, l2=l2)
    n = get_notation(key, work.sizes)
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
    rows = []
    for pos in best:
        a = int(np.searchsorted(offsets, pos, side="right") - 1)
        kind, l, shp = where[a]
        idx = tuple(int(i) for i in np.unravel_index(int(pos - offsets[a]), shp))
        sym = n.weight(l, *idx) if kind == "weight" else n.bias(l, *idx)
        g = float(everything[pos])
        direction = "decrease" if g > 0 else ("increase" if g < 0 else "none")
        rows.append(SensitivityRow(sym.text, sym.latex, kind, l, idx, g, direction))
    return Sensitivity(rows=rows, cost=float(grads.cost), n_params=int(everything.size), m=X.shape[0], notation=key, l2=l2)
