"""Render a derivation (``derive.py``) as a ``Doc`` in one course's notation.

``render_parameter`` lays out ∂C/∂θ for one parameter in four or five steps:

1. the forward values on the path: a_k^{l−1}, z_j^l, a_j^l, ..., a^L, y and the cost;
2. the output error δ^L = ∂C_x/∂z^L, with the closed form a − y where the cost and the
   output activation cancel (sigmoid + binary cross-entropy, softmax + cross-entropy);
3. the backward recurrence down to layer l, δ_j^l = (Σ_i w_ij^{l+1} δ_i^{l+1}) · g'(z_j^l), term by
   term (3Blue1Brown's sum over paths), and in matrix form with its shapes;
4. ∂C/∂w_jk^l = a_k^{l−1} δ_j^l (averaged over the batch, plus (λ/m) w_jk^l with L2), next to
   the central-difference estimate and their relative error.

``render_layer`` shows one layer for a batch, ``sensitivity_text`` / ``sensitivity_markdown``
the ranked table. Every symbol comes from the ``Notation`` passed in: where the courses differ
(Ng ML's bias column, Ng DL's examples as columns) the preset's own method says how, so
nothing here asks which course it is writing for. Every number comes from the derivation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .derive import Derivation, LayerDerivation
from .mathdoc import (
    CDOT,
    EPS,
    EQ,
    FINAL_DIGITS,
    HAD,
    LAMBDA,
    MINUS,
    PLUS,
    SUM,
    TRANSPOSE,
    Code,
    Doc,
    M,
    _render_parts,
    frac,
    num,
    paren,
    partial,
    shape,
    shapes_of,
    vector,
)
from .notation import Notation, get_notation

if TYPE_CHECKING:
    from .results import Sensitivity

#: Terms of a sum shown one by one; beyond this the largest are shown and the rest elided.
MAX_TERMS = 8
#: Output neurons whose δ^L is worked out one by one.
MAX_OUTPUT_ROWS = 10


# ============================================================================ one parameter
def _param_symbol(d: Derivation, n: Notation) -> M:
    return n.parameter(d.kind, d.l, d.j, d.k)


def engine_ref(kind: str, l: int, j: int, k: int | None = None) -> str:
    """The array entry in deltaprop: ``net.weights[l-1][j, k]`` or ``net.biases[l-1][j]``."""
    if kind == "weight":
        return f"net.weights[{l - 1}][{j}, {k}]"
    return f"net.biases[{l - 1}][{j}]"


def _cost_symbol(d, n: Notation) -> M:
    return n.cost() if d.sample is None else n.example_cost(d.x0)


def _sizes_text(sizes) -> str:
    return "-".join(str(s) for s in sizes)


def _act_label(g) -> str:
    return g.name if g.name != "leaky_relu" else f"leaky_relu(slope={g.slope:g})"


def _derivative_value(g, z, a) -> float:
    return float(g.derivative(np.array([[z]]), np.array([[a]]))[0, 0])


def _largest(terms):
    """The indices of the terms to show one by one (all, or the MAX_TERMS largest |term| in
    that order) and the sum of the rest (None when every term is shown)."""
    if terms.size <= MAX_TERMS:
        return np.arange(terms.size), None
    order = np.argsort(-np.abs(terms), kind="stable")[:MAX_TERMS]
    rest = np.ones(terms.size, bool)
    rest[order] = False
    return order, float(np.sum(terms[rest]))


def _vec_or_scalar(values) -> M:
    values = np.asarray(values)
    return num(values[0]) if values.size == 1 else vector(values)


def render_parameter(d: Derivation, n: Notation) -> Doc:
    """The derivation of ∂C/∂θ, step by step, in notation ``n``."""
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
    cost = _cost_symbol(d, n)
    grad = n.grad(cost, _param_symbol(d, n))
    alias = n.batch_grad_name(d.kind, d.l, d.j, d.k) if d.sample is None else None
    title = grad if alias is None else alias + EQ + grad
    what = "weight" if d.kind == "weight" else "bias"
    whose = f"the cost of {('this example' if d.sample is not None else 'the batch')}"
    doc.title(title, f": how {whose} changes with one {what}")
    acts = " → ".join(_act_label(g) for g in d.activations)
    doc.para(
        f"network {_sizes_text(d.sizes)} ({acts}; {d.cost_function.name} cost)"
        + (", explained in float64" if d.dtype != "float64" else ""),
        f"; notation: {n.title}, ", *n.summary_parts,
    )
    doc.para(*n.describe_parameter(d.kind, d.l, d.j, d.k, Code(engine_ref(d.kind, d.l, d.j, d.k))))
    m = M(f"m = {d.m}")
    lam = LAMBDA + EQ + M(f"{d.l2:g}")
    if d.sample is not None:
        parts = ["for ", *n.example_parts(d.x0, d.training), " of the batch of ", m]
        if d.l2:
            share = M("λ/(2m) Σ‖W‖²", r"\frac{\lambda}{2m} \sum \lVert W \rVert^2")
            parts += ["; its cost carries its share ", share, " of the L2 penalty (", lam + ", " + m, ")"]
        doc.para(*parts)
    else:
        doc.para("averaged over the batch of ", m, " examples", *([" with L2 ", lam] if d.l2 else []),
                 f"; steps 1–{3 if d.l < L else 2} follow ", *n.example_parts(d.x0, d.training))


# ---------------------------------------------------------------------------- forward
def _z_line(d, n, q, j) -> list:
    """z^q_j = Σ_k w^q_{j,k} a^{q−1}_k + b^q_j = value (with the numbers when there is one input)."""
    if d.sizes[q - 1] == 1:
        w, a_prev, b = d.W[q][j, 0], d.a[q - 1][0], d.b[q][j]
        form = n.weight(q, j, 0) + " " + n.a(q - 1, 0) + PLUS + n.bias(q, j)
        numbers = num(w) + CDOT + num(a_prev, wrap=True) + PLUS + num(b, wrap=True)
        return [n.z(q, j) + EQ + form + EQ + numbers + EQ + num(d.z[q][j])]
    return n.z_line(q, j, d.z[q][j])


def _forward_section(doc, d, n, step):
    L = len(d.sizes) - 1
    l, j = d.l, d.j
    doc.heading(f"{step}. Forward pass")
    if d.kind == "weight":
        note = [" (", *n.input_note(), ")"] if l - 1 == 0 else []
        doc.item(n.a(l - 1, d.k) + EQ + num(d.a[l - 1][d.k]), *note)
    elif n.bias_unit(l - 1) is not None:
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
        zq, note = n.z_vector_form(q)
        doc.item(n.z(q) + EQ + zq + EQ + vector(d.z[q]), *note)
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
    """C_x as the cost states it (``Cost.formula``), or the cost's name where it states none."""
    L = len(d.sizes) - 1
    s = M("") if d.sizes[-1] == 1 else SUM + M("_j", "_{j}") + " "
    formula = d.cost_function.formula(n.a(L, "j"), n.y("j"), s)
    return M(d.cost_function.name) if formula is None else formula


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
                _grad_a_formula(d, n),
                " and ", n.act_prime(g, L) + paren(n.z(L, "j")) + EQ + n.a(L, "j") + paren(M("1") + MINUS + n.a(L, "j")),
                " cancel, so ", n.delta(L) + EQ + n.a(L) + MINUS + n.y(),
            ]
        else:
            reason = [
                "softmax + cross-entropy: ",
                partial(cx, n.a(L, "j'")) + EQ + M("−y_j'/a_j'", r"-y_{j'}/a_{j'}"),
                " and ", M("∂a_j'/∂z_j = a_j'(1[j'=j] − a_j)", r"\partial a_{j'}/\partial z_j = a_{j'}(1[j'=j] - a_j)"),
                ", so ", M("δ_j = a_j Σ_j' y_j' − y_j = a_j − y_j", r"\delta_j = a_j \sum_{j'} y_{j'} - y_j = a_j - y_j"),
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
            M("∂a_j'/∂z_j = a_j'(1[j'=j] − a_j)", r"\partial a_{j'}/\partial z_j = a_{j'}(1[j'=j] - a_j)"), "), so ",
            n.delta(L, "j") + EQ + n.a(L, "j") + paren(partial(cx, n.a(L, "j")) + MINUS + M("s")),
            " with ", M("s = Σ_j' a_j' ∂C/∂a_j'", r"s = \sum_{j'} a_{j'} \, \partial C/\partial a_{j'}") + EQ + num(s),
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
            " with ", _grad_a_formula(d, n), " and ", n.act_prime(g, L) + paren(M("z")) + EQ + M(*g.derivative_formula()),
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
    form = None if closed or g.name == "softmax" else n.output_error_form(_grad_a_vector(d, n), g, L)
    if form is not None:
        doc.item(n.delta(L) + EQ + form[0] + EQ + _vec_or_scalar(delta), *form[1])
    elif d.l < L and d.sizes[L] > 1:
        doc.item(n.delta(L) + EQ + vector(delta))


def _grad_a_rhs(d, n, j) -> M:
    """∂C_x/∂a^L_j as the cost states it (``Cost.grad_formula``: 2(a_j − y_j), (a_j − y_j)/(a_j(1 − a_j)),
    −y_j/a_j), or the symbol ∂C_x/∂a_j where it states none."""
    L = len(d.sizes) - 1
    a = n.a(L, j)
    formula = d.cost_function.grad_formula(a, n.y(j))
    return partial(n.example_cost(d.x0), a) if formula is None else formula


def _grad_a_vector(d, n) -> M | None:
    """∂C_x/∂a^L for the whole output layer, as the cost states it (2(a^L − y), (a^L − y)), or None."""
    L = len(d.sizes) - 1
    return d.cost_function.grad_formula(n.a(L), n.y())


def _grad_a_formula(d, n) -> M:
    L = len(d.sizes) - 1
    return partial(n.example_cost(d.x0), n.a(L, "j")) + EQ + _grad_a_rhs(d, n, "j")


# ---------------------------------------------------------------------------- δ^l, l < L
def _backward_section(doc, d, n, step):
    L = len(d.sizes) - 1
    doc.heading(f"{step}. Backward, layer by layer down to layer ", n.layer(d.l))
    for q in range(L - 1, d.l - 1, -1):
        g = d.activations[q - 1]
        if q == d.l:
            _path_sum(doc, d, n, q, d.j)
            for line in n.recurrence_form(q, g):
                doc.item(*line)
            doc.item(
                "in deltaprop (rows are examples): ",
                Code(f"deltas[{q - 1}] = (deltas[{q}] @ net.weights[{q}]) * g'(zs[{q - 1}])"),
                ", ", shape("m", d.sizes[q + 1]) + M(" @ ") + shape(d.sizes[q + 1], d.sizes[q]) + M(" → ", r" \to ")
                + shape("m", d.sizes[q]), ": no transpose needed",
            )
        elif d.sizes[q] == 1:
            _path_sum(doc, d, n, q, 0)
        else:
            Wt = paren(n.weight_matrix(q + 1)) + TRANSPOSE
            prime = n.act_prime(g, q) + paren(n.z(q))
            doc.item(
                n.delta(q) + EQ + paren(Wt + " " + n.delta(q + 1)) + HAD + prime + EQ + vector(d.delta[q]),
                "; shapes: ", *shapes_of((n.delta(q), (d.sizes[q],)), (Wt, (d.sizes[q], d.sizes[q + 1])),
                                         (n.delta(q + 1), (d.sizes[q + 1],)), (prime, (d.sizes[q],))),
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
        p = n.path_index
        inner = SUM + M(f"_{p}", f"_{{{p}}}") + " " + n.weight(q + 1, p, j) + " " + n.delta(q + 1, p)
        doc.item(
            n.delta(q, j) + EQ + paren(inner) + CDOT + gp_sym,
            f": the sum over the {n_next} neurons of layer ", n.layer(q + 1), ", one path each",
        )
    order, elided = _largest(terms)
    for i in order:
        tag = M(f"{n.path_index}={n.index(int(i))}: ", f"{n.path_index}={n.index(int(i))}:\\;") if n_next > 1 else M("")
        doc.item(
            tag + n.weight(q + 1, int(i), j) + CDOT + n.delta(q + 1, int(i)) + EQ
            + num(w_col[i]) + CDOT + num(delta_next[i], wrap=True) + EQ + num(terms[i]),
            level=2,
        )
    total = float(np.sum(terms))
    if elided is not None:
        doc.item(f"… {n_next - MAX_TERMS} smaller terms, together ", num(elided), level=2)
    if n_next > 1:
        doc.item(M("Σ", r"\Sigma") + EQ + num(total), f" (all {n_next} terms)", level=2)
    gp = _derivative_value(g, d.z[q][j], d.a[q][j])
    doc.item(
        gp_sym + EQ + M(*g.derivative_formula()) + EQ + num(gp),
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
    dz = n.dz_dtheta(d.kind, l, d.k)
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
    for reason in _zero_factors(d, n):
        doc.item(*reason, level=2)
    if d.kind == "weight" and d.l2 > 0:
        doc.item(
            "L2: ", PLUS + frac(LAMBDA, "m") + " " + param + EQ + frac(num(d.l2), num(d.m)) + CDOT
            + num(d.theta, wrap=True) + EQ + num(d.l2 / d.m * d.theta),
            f" (m = {d.m}, the batch this example belongs to)", level=2,
        )
    return n.grad(n.example_cost(d.x0), param)


def _zero_factors(d, n) -> list:
    """Why a_k δ_j is 0, one line per zero factor: an input or neuron that outputs 0, a neuron
    whose g'(z) is 0 (a ReLU with z < 0), or an error that the layer above sends back as 0."""
    l, j = d.l, d.j
    reasons = []
    if d.kind == "weight" and d.a[l - 1][d.k] == 0:
        k = d.k
        who = [f"input {n.index(k)} is 0"] if l == 1 else [f"neuron {n.index(k)} of layer ", n.layer(l - 1), " outputs 0"]
        reasons.append(["the factor ", n.a(l - 1, k), " is 0: ", *who, " for this example"])
    if d.delta[l][j] != 0:
        return reasons
    g = d.activations[l - 1]
    z, a = d.z[l][j], d.a[l][j]
    gp_sym = n.act_prime(g, l) + paren(n.z(l, j))
    L = len(d.sizes) - 1
    if g.name != "softmax" and _derivative_value(g, z, a) == 0:
        sign = " < 0" if z < 0 else (" = 0" if z == 0 else "")
        reasons.append(["the factor ", n.delta(l, j), f" is 0: neuron {n.index(j)} of layer ", n.layer(l), " is inactive: ",
                        n.z(l, j) + EQ + num(z) + M(sign), ", so ", gp_sym + EQ + "0"])
    elif l < L:
        reasons.append(["the factor ", n.delta(l, j), " is 0: the errors that layer ", n.layer(l + 1),
                        " sends back to this neuron sum to 0"])
    else:
        reasons.append(["the factor ", n.delta(l, j), " is 0: this output already matches its target"])
    return reasons


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
    doc.item("nudging ", param, " by ", EPS, " changes ", cost, " by about ", num(d.value) + CDOT + EPS, ": ", meaning)


def _batch_average(doc, d, n, param, dz) -> M:
    """(1/m) Σ_x a_k(x) δ_j(x) [+ (λ/m) w], term by term; returns the symbol of the result."""
    l, j, k = d.l, d.j, d.k
    terms = d.a_col * d.d_col
    m = d.m
    reg = d.kind == "weight" and d.l2 > 0
    doc.item(*n.batch_average_line(d.kind, l, j, k, dz, reg))
    order, elided = _largest(terms)
    for x in order:
        x = int(x)
        body = (num(d.a_col[x]) + CDOT if dz is not None else M("")) + num(d.d_col[x], wrap=dz is not None)
        doc.item(n.example_tag(x) + M(": ", r":\;") + body + (EQ + num(terms[x]) if dz is not None else M("")), level=2)
    if elided is not None:
        doc.item(f"… {m - MAX_TERMS} smaller terms, together ", num(elided), level=2)
    total = float(np.sum(terms))
    sum_sym = n.batch_sum(d.kind, l, j, k)
    doc.item(sum_sym + EQ + num(total), f" (all {m} examples)", level=2)
    mean = total / m
    doc.item(frac("1", "m") + " " + sum_sym + EQ + num(total) + M(" / ") + str(m) + EQ + num(mean), level=2)
    if reg:
        doc.item(PLUS + frac(LAMBDA, "m") + " " + param + EQ + frac(num(d.l2), num(m)) + CDOT + num(d.theta, wrap=True)
                 + EQ + num(d.l2 / m * d.theta), level=2)
    elif d.l2 > 0 and d.kind == "bias":
        doc.item("biases are not regularised: no ", LAMBDA, " term", level=2)
    alias = n.batch_grad_name(d.kind, l, j, k)
    return alias if alias is not None else n.grad(n.cost(), param)


# ============================================================================ one layer
def render_layer(e: LayerDerivation, n: Notation) -> Doc:
    """One layer for the batch in notation ``n``: δ^l of every example, ∂C/∂W^l, ∂C/∂b^l."""
    l = e.layer
    L = len(e.sizes) - 1
    m = e.delta.shape[0]
    n_l, n_prev = e.sizes[l], e.sizes[l - 1]
    doc = Doc()
    doc.title("Layer ", n.layer(l), ": ", n.weight_matrix(l) + " " + n.weight_matrix_shape(l), ", a batch of ", M(f"m = {m}"))
    doc.para(
        f"network {_sizes_text(e.sizes)} ({e.cost_name} cost); notation: {n.title}, ", *n.summary_parts, "; arrays: ",
        Code(f"net.weights[{l - 1}]"), ", ", Code(f"net.biases[{l - 1}]"),
    )
    doc.heading("1. The errors ", n.delta(l), " of every example")
    g = e.activations[l - 1]
    if l == L:
        doc.item(n.delta(l), " comes from the cost and the output activation (", e.cost_name, ", ", g.name, ")")
    else:
        for line in n.recurrence_form(l, g):
            doc.item(*line)
    line, values = n.errors_display(l, e.delta)
    doc.item(*line)
    doc.display(values)
    doc.heading("2. The weight gradient")
    for line in n.weight_grad_form(l, e.l2 > 0):
        doc.item(*line)
    doc.item(
        "in deltaprop (rows are examples): ", Code(f"grad_W = deltas[{l - 1}].T @ activations[{l - 1}] / m"
                                                   + (f" + l2 / m * net.weights[{l - 1}]" if e.l2 else "")),
        ", ", shape(n_l, "m") + M(" @ ") + shape("m", n_prev) + M(" → ", r" \to ") + shape(n_l, n_prev),
    )
    line, values = n.weight_gradient_display(l, e.grad_W, e.grad_b)
    doc.item(*line)
    doc.display(values)
    doc.heading("3. The bias gradient")
    for line in n.bias_grad_form(l):
        doc.item(*line)
    doc.item("values: ", vector(e.grad_b))
    return doc


# ============================================================================ the ranking
def _sensitivity_intro(s, markdown: bool = False) -> str:
    """One paragraph: how many, of how many, the cost, and why the largest pay most; every
    symbol as math (typeset in Markdown)."""
    cost = get_notation(s.notation, [1, 1]).cost()
    grad = M("∂C/∂θ", r"\partial C/\partial\theta")
    step = M("θ ← θ − η ", r"\theta \leftarrow \theta - \eta \, ") + grad
    parts = [f"The {len(s.rows)} largest ", "|" + grad + "|", f" of {s.n_params} parameters (cost ",
             cost + EQ + num(s.cost), f" on a batch of {s.m}"]
    if s.l2:
        parts += [", L2 ", LAMBDA + EQ + M(f"{s.l2:g}")]
    parts += ["). A step ", step, " lowers ", cost, " by about ", M("η ", r"\eta \, ") + paren(grad) + M("²", "^2"),
              ", so these nudges pay most."]
    return _render_parts(parts, markdown)


def _sensitivity_cells(s, markdown: bool) -> list:
    out = []
    for r, row in enumerate(s.rows, start=1):
        name = f"${row.latex}$" if markdown else row.name
        engine = f"`{row.engine}`" if markdown else row.engine
        out.append((str(r), name, engine, f"{row.gradient + 0.0:.6g}", row.direction))
    return out


def sensitivity_text(s: Sensitivity) -> str:
    """A ``Sensitivity`` as an aligned terminal table under its one-paragraph introduction."""
    head = ("rank", "parameter", "array entry", "∂C/∂θ", "nudge it to")
    rows = [head] + _sensitivity_cells(s, False)
    widths = [max(len(r[c]) for r in rows) for c in range(5)]
    lines = [_sensitivity_intro(s), ""]
    for r in rows:
        lines.append("  ".join(r[c].rjust(widths[c]) if c in (0, 3) else r[c].ljust(widths[c]) for c in range(5)).rstrip())
    return "\n".join(lines) + "\n"


def sensitivity_markdown(s: Sensitivity) -> str:
    """A ``Sensitivity`` as a Markdown table with LaTeX symbols."""
    lines = [_sensitivity_intro(s, markdown=True), "",
             r"| rank | parameter | array entry | $\partial C/\partial\theta$ | nudge it to |",
             "|---:|---|---|---:|---|"]
    for r in _sensitivity_cells(s, True):
        lines.append("| " + " | ".join(r) + " |")
    return "\n".join(lines) + "\n"


def sensitivity_html(s: Sensitivity) -> str:
    """A ``Sensitivity`` as an HTML table, the symbols and the introduction's math in MathML
    (``deltaprop.report.mathhtml``, from the Markdown's LaTeX)."""
    from html import escape

    from ..report.mathhtml import inline_to_html, latex_to_mathml

    intro = sensitivity_markdown(s).split("\n", 1)[0]
    head = ("rank", "parameter", "array entry", latex_to_mathml(r"\partial C/\partial\theta"), "nudge it to")
    rows = []
    for r, row in enumerate(s.rows, start=1):
        cells = (str(r), latex_to_mathml(row.latex), f"<code>{escape(row.engine)}</code>",
                 f"{row.gradient + 0.0:.6g}", escape(row.direction))
        rows.append("<tr>" + "".join(f"<td>{c}</td>" for c in cells) + "</tr>")
    return (
        f'<div class="deltaprop-sensitivity"><p>{inline_to_html(intro)}</p><table><thead><tr>'
        + "".join(f"<th>{h}</th>" for h in head) + "</tr></thead><tbody>" + "".join(rows) + "</tbody></table></div>"
    )
