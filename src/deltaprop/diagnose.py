"""Which classic backpropagation mistake explains a learner's wrong gradients.

``diagnose(net, X, Y, weights=..., biases=..., l2=λ)`` compares the learner's ∂J/∂W^l and
∂J/∂b^l with the engine's (``net.backward``) and, where they differ, names the mistake by
*recomputing* each candidate wrong gradient from the engine's own intermediates z^l, a^l, δ^l
and matching the learner's numbers to rounding error. It never guesses from the size of an
error: a finding is made only when a candidate reproduces every number of the array.

The correct gradients (network.py's four equations, Ng's L2 convention J += λ/(2m) Σ‖W^l‖²):

    grad_W^l = α·D_W^l + β·W^l    D_W^l = (1/m) Σ_x δ^l (a^{l−1})ᵀ      α = 1, β = λ/m
    grad_b^l = α·D_b^l + β·b^l    D_b^l = (1/m) Σ_x δ^l                 α = 1, β = 0
    δ^L = ∂C/∂a^L ⊙ g'(z^L)  (a^L − y for sigmoid + binary cross-entropy, softmax + cross-entropy)
    δ^l = (W^{l+1})ᵀ δ^{l+1} ⊙ g'(z^l)

Method
------
1. *Candidate errors δ^l.* The layers are walked in backpropagation order, l = L, ..., 1. At
   each layer a few candidate δ^l are built from the δ^{l+1} that explained the layer above, so
   a mistake made at layer k is carried into every layer below it exactly as the learner's own
   code carries it (and is reported once, at layer k, with the layers it reaches). The engine's
   δ^{l+1} is tried as well, for code that makes a mistake in one array but propagates the
   right δ. Candidates equal to the correct δ^l up to a scalar are dropped (the scalar is
   found in step 3).
2. *Candidate data gradients.* From each δ^l: D_W^l and D_b^l, and for ``layer_shift`` the same
   products with an a^q (q ≠ l−1) or a δ^p (p ≠ l) whose shape fits.
3. *Clean factors.* For a learner array G and a candidate D every α = s·m^p·h (s = ±1,
   p ∈ {−1, 0, 1}, h ∈ {½, 1, 2}) and every β = r·λ/m with r = 0 or one of those values is
   tried against ‖G − αD − βR‖ ≤ rtol·max(‖G‖, ‖αD + βR‖) + atol, with R = W^l for weights and
   b^l for biases (λ > 0 only). Only these named factors count: an α of 0.37 is no match. Of
   the matches the simplest (fewest findings) is kept; at a layer, the candidate δ^l whose
   arrays need the fewest findings in all (the correct δ^l first on ties).
4. What no candidate explains is ``unknown``, reported once for the first wrong layer in
   backpropagation order (the highest l): the arrays below it that are wrong too, because
   everything below a wrong δ is, are listed in its evidence.

Kinds (``KINDS``) and how each is recognised
--------------------------------------------
correct                        G = the engine's gradient (within rtol, atol).
transposed                     Gᵀ has the expected shape and matches (a square layer: only when
                               G itself matches nothing and Gᵀ does).
sum_not_mean                   α = m: Σ_x instead of (1/m) Σ_x (factor m); α = 1/m: divided
                               by m twice (factor 1/m).
regularized_bias               grad_b = D_b + r·(λ/m)·b^l, r ≠ 0 (factor r; 1 for λ/m·b).
l2_scale                       grad_W = α·D_W + r·(λ/m)·W^l with r ∉ {0, 1, α}: λ/(2m) (r = ½),
                               λ (r = m), λ/m² (r = 1/m), 2λ/m (r = 2), ... (factor r).
missing_l2                     λ > 0 and r = 0: no (λ/m)·W^l term.
derivative_at_activation       δ^k with g' evaluated at a instead of z: g'(a^k), e.g. σ'(a) =
                               σ(a)(1 − σ(a)), the sigmoid applied to σ(z) once more, or
                               1 − tanh²(a); or the formula in a applied to z, a(1 − a) → z(1 − z),
                               1 − a² → 1 − z². relu' (and leaky relu', identity') is the same at a
                               as at z, so the mistake changes nothing there and is not recognisable.
missing_activation_derivative  δ^k = (W^{k+1})ᵀ δ^{k+1} without ⊙ g'(z^k); at the output,
                               δ^L = ∂C/∂a^L without ⊙ g'(z^L) (when that is not a − y).
wrong_output_delta             δ^L = a^L − y with a cost/output pair for which it is not
                               ∂C/∂z^L (e.g. quadratic + sigmoid); or, conversely, the quadratic
                               cost's (a^L − y) ⊙ g'(z^L) with a cross-entropy pair. Any other
                               wrong spelling of ∂C/∂a ⊙ g'(z) is ``unknown`` (at layer L). With
                               ``half_quadratic`` ∂C/∂a = a − y, so δ^L = a − y without g' is
                               this kind (the message says the g' is missing).
sign                           α = −1: the gradient of −C.
half_cost                      α = ½ or 2: the ½ convention of the quadratic cost
                               (``quadratic`` has no ½, ``half_quadratic`` has it).
layer_shift                    δ^l (a^q)ᵀ with q ≠ l − 1 (a^l on a square layer, a^{l−2}, ...)
                               or δ^p (a^{l−1})ᵀ, Σ δ^p with p ≠ l: the a or δ of the wrong layer.
bias_unit_delta, unroll_order  Ng ML layout mistakes; ``deltaprop.courses.ng_ml`` detects them.
shape                          a shape that is neither the expected one nor its transpose.
unknown                        wrong, and no candidate reproduces it (or NaN/infinity).

A structural mistake (derivative_at_activation, missing_activation_derivative,
wrong_output_delta) is one finding at its layer; the arrays it makes wrong (its layer and those
below) are ``evidence["arrays"]`` and get no finding of their own unless they have a mistake of
their own. r = α (for weights) is the whole gradient scaled, λ term included: only α's kinds are
reported (``evidence["scope"]`` "the whole gradient"). Findings on one array combine: Ng's Θ grad = Σ_i (not the mean) + (λ/m)·Θ with the bias column
gives ``sum_not_mean`` on both parts and ``regularized_bias`` on the bias part.

Limits: the α/β search cannot tell apart factors that coincide (m = 2 makes "m" and "2" the same:
for a quadratic cost it is read as ``half_cost``, otherwise as ``sum_not_mean``; m = 1 hides
``sum_not_mean``); a zero b^l hides ``regularized_bias``; an array of one or two numbers gives
few equations, so a coincidental match is possible there. Mistakes in the forward pass are
outside this module (they show up as ``unknown``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .explain.notation import NOTATIONS, Notation, get_notation, notation_key
from .validation import check_l2

if TYPE_CHECKING:
    from .network import Network

__all__ = ["KINDS", "DiagnoseError", "Diagnosis", "Finding", "diagnose", "finding"]

KINDS = ("correct", "transposed", "sum_not_mean", "regularized_bias", "l2_scale", "missing_l2",
         "derivative_at_activation", "missing_activation_derivative", "wrong_output_delta", "sign",
         "half_cost", "layer_shift", "bias_unit_delta", "unroll_order", "shape", "unknown")

#: Courses without a notation preset of their own (their messages use the base symbols).
_PLAIN_COURSES = ("cs231n",)


class DiagnoseError(ValueError):
    """A call of ``diagnose`` that cannot be carried out (what was wrong, and what is expected)."""


@dataclass(frozen=True)
class Finding:
    """One thing found about one of the learner's arrays."""

    kind: str  # one of KINDS
    array: str  # the learner's name of the array: "W2", "Theta1_grad", "dW1", "b1", ...
    message: str  # one or two sentences, in the course's notation
    expected: float | None = None  # the correct value of the worst element
    given: float | None = None  # the learner's value there
    index: tuple | None = None  # that element's index, in the array as the learner gave it
    factor: float | None = None  # m for sum_not_mean, ½ or 2 for half_cost, −1 for sign, r for l2_scale ...
    evidence: dict = field(default_factory=dict)  # {"layer": l, "pattern": ..., "arrays": [...], ...}


@dataclass
class Diagnosis:
    """The findings on the learner's gradients; a correct array has one ``correct`` finding."""

    findings: list
    course: str | None = None  # "ng-ml" | "ng-dl" | "nielsen" | "cs231n" | None

    @property
    def ok(self) -> bool:
        """True iff every finding is ``correct``."""
        return all(f.kind == "correct" for f in self.findings)

    @property
    def kinds(self) -> list:
        """The distinct kinds, in the order of the findings."""
        return list(dict.fromkeys(f.kind for f in self.findings))

    def __str__(self) -> str:
        head = "correct" if self.ok else f"wrong: {', '.join(k for k in self.kinds if k != 'correct')}"
        lines = [head]
        for f in self.findings:
            lines.append(f"{f.array}: {f.kind}: {f.message}")
            if f.expected is not None and f.given is not None:
                where = "" if f.index is None else f" at {f.index}"
                lines.append(f"    worst element{where}: expected {f.expected:.6g}, given {f.given:.6g}"
                             + ("" if f.factor is None else f"; factor {f.factor:g}"))
            elif f.factor is not None:
                lines.append(f"    factor {f.factor:g}")
        return "\n".join(lines)


_FIELDS = ("expected", "given", "index", "factor")


def finding(kind: str, array: str, message: str, **evidence_fields: Any) -> Finding:
    """A ``Finding``: ``expected``, ``given``, ``index``, ``factor`` (and ``evidence``) are taken
    as the fields of that name; every other keyword goes into ``evidence``."""
    if kind not in KINDS:
        raise DiagnoseError(f"unknown finding kind {kind!r}; expected one of: {', '.join(KINDS)}")
    fields = {k: evidence_fields.pop(k) for k in _FIELDS if k in evidence_fields}
    evidence = dict(evidence_fields.pop("evidence", {}) or {})
    evidence.update(evidence_fields)
    return Finding(kind=kind, array=str(array), message=str(message), evidence=evidence, **fields)


# ============================================================================ the engine's numbers
@dataclass
class _Pass:
    """The engine's forward and backward pass in float64: ``zs[l-1]`` = z^l, ``a[l]`` = a^l,
    ``deltas[l-1]`` = δ^l (one row per example), ``grad_W``/``grad_b`` the correct gradients."""

    m: int
    L: int
    sizes: list
    g: list
    cost: object
    Y: np.ndarray
    W: list
    b: list
    zs: list
    a: list
    deltas: list
    grad_W: list
    grad_b: list
    l2: float
    rtol: float
    atol: float


def _engine_pass(net, X, Y, l2, rtol, atol) -> _Pass:
    net64 = net if net.dtype == np.float64 else net.copy(dtype="float64")
    grads = net64.backward(X, Y, l2=l2)
    X_rows, Y_rows = net64.check_XY(X, Y)
    arrays = list(grads.weights) + list(grads.biases) + list(grads.deltas)
    if not all(np.isfinite(x).all() for x in arrays):
        raise DiagnoseError("the engine's own gradient is not finite for these X and Y (the forward pass "
                            "overflows): diagnose needs inputs for which backpropagation is finite")
    return _Pass(m=X_rows.shape[0], L=net64.n_layers, sizes=list(net64.sizes),
                 g=list(net64.g), cost=net64.cost_function, Y=np.asarray(Y_rows, dtype=np.float64),
                 W=[np.array(W) for W in net64.weights], b=[np.array(b) for b in net64.biases],
                 zs=list(grads.zs), a=list(grads.activations), deltas=list(grads.deltas),
                 grad_W=list(grads.weights), grad_b=list(grads.biases), l2=l2, rtol=rtol, atol=atol)


# ============================================================================ candidate errors δ^l
@dataclass
class _Delta:
    """A candidate δ^l: ``kind`` None for the right formula (given the δ^{l+1} it came from)."""

    kind: str | None
    pattern: str
    delta: np.ndarray


def _delta_variants(p: _Pass, l: int, upstream=None) -> list:
    """The candidate δ^l of layer l (a mirror of ``Network._backprop``, one mistake each).

    ``upstream`` is δ^{l+1} W^{l+1} (rows = examples) for a hidden layer, None for the output
    layer. Patterns: "correct"; "no_g_prime" (⊙ g'(z) left out); "g_prime_of_a" (g' evaluated at
    a); "a_formula_at_z" (g' written in a, evaluated at z); at the output also "a_minus_y" and
    "quadratic_delta" ((a − y) ⊙ g'(z) with a cross-entropy pair)."""
    g, z, a = p.g[l - 1], p.zs[l - 1], p.a[l]
    with np.errstate(all="ignore"):
        if upstream is None:  # (1) δ^L = ∂C/∂a ⊙ g'(z^L)
            grad_a = p.cost.grad_a(a, p.Y)
            found = [_Delta(None, "correct", p.deltas[l - 1])]
            if p.cost.closed_form_output == g.name:
                found.append(_Delta("wrong_output_delta", "quadratic_delta", g.backprop(z, a, a - p.Y)))
            else:
                found.append(_Delta("wrong_output_delta", "a_minus_y", a - p.Y))
            found.append(_Delta("missing_activation_derivative", "no_g_prime", grad_a))
        else:  # (2) δ^l = δ^{l+1} W^{l+1} ⊙ g'(z^l)
            grad_a = upstream
            found = [_Delta(None, "correct", g.backprop(z, a, upstream)),
                     _Delta("missing_activation_derivative", "no_g_prime", upstream)]
        found.append(_Delta("derivative_at_activation", "g_prime_of_a", g.backprop(a, g.value(a), grad_a)))
        if g.name != "softmax":
            found.append(_Delta("derivative_at_activation", "a_formula_at_z", grad_a * g.derivative(z, z)))
    return _distinct(found, p.rtol)


def _distinct(found: list, rtol: float) -> list:
    """The correct candidate and those that differ from it by more than a scalar (and from each
    other), all finite."""
    keep = [found[0]]
    d0 = found[0].delta.ravel()
    n0 = float(d0 @ d0)
    for cand in found[1:]:
        d = cand.delta.ravel()
        if not np.isfinite(d).all():
            continue
        scale = float(d @ d0) / n0 if n0 > 0 else 0.0
        if np.linalg.norm(d - scale * d0) <= rtol * np.linalg.norm(d) + 1e-300:
            continue  # a multiple of the correct δ: the factor search finds it
        if any(np.allclose(d, k.delta.ravel(), rtol=rtol, atol=0) for k in keep[1:]):
            continue
        keep.append(cand)
    return keep


def _data_gradients(p: _Pass, l: int, part: str, delta, shifts: bool) -> list:
    """[(shift, D)]: D_W^l = (1/m) δᵀ a^{l−1} or D_b^l = (1/m) Σ δ, and with ``shifts`` the
    layer_shift candidates (("a", q) or ("delta", q)) whose shapes fit."""
    m, a, sizes = p.m, p.a, p.sizes
    if part == "b":
        out = [(None, delta.sum(axis=0) / m)]
        if shifts:
            out += [(("delta", q), p.deltas[q - 1].sum(axis=0) / m)
                    for q in range(1, p.L + 1) if q != l and sizes[q] == sizes[l]]
        return out
    out = [(None, delta.T @ a[l - 1] / m)]
    if shifts:
        out += [(("a", q), delta.T @ a[q] / m) for q in range(p.L + 1) if q != l - 1 and sizes[q] == sizes[l - 1]]
        out += [(("delta", q), p.deltas[q - 1].T @ a[l - 1] / m)
                for q in range(1, p.L + 1) if q != l and sizes[q] == sizes[l]]
    return out


# ============================================================================ clean factors
@dataclass(frozen=True)
class _Factor:
    """α = sign · m^power · half."""

    value: float
    sign: int
    power: int
    half: float

    @property
    def count(self) -> int:
        return int(self.sign < 0) + int(self.power != 0) + int(self.half != 1)


def _factors(m: int, half_first: bool) -> list:
    """The clean factors, simplest first, one per distinct value (1 first)."""
    items = []
    for s in (1, -1):
        for pw in (0, 1, -1):
            for h in (1.0, 0.5, 2.0):
                items.append(_Factor(s * float(m) ** pw * h, s, pw, h))

    def order(f):
        # among equal counts: half before mean for a quadratic cost (m = 2 makes them collide)
        return (f.count, f.sign < 0, (f.half != 1) if not half_first else (f.power != 0))

    out = []
    for f in sorted(items, key=order):
        if not any(np.isclose(f.value, k.value, rtol=1e-12, atol=0) for k in out):
            out.append(f)
    return out


@dataclass
class _Match:
    """How one learner array is explained: the count of findings it needs, and what they are."""

    count: int
    shift: tuple | None  # the layer_shift, if any
    alpha: _Factor
    r: _Factor | None  # the λ multiplier (None: β = 0)
    r_index: int  # −1: β = 0; else the index of r in the factor list
    alpha_index: int
    transposed: bool
    lam: bool  # whether β was searched (λ > 0)

    @property
    def confirms(self) -> bool:
        """Whether the match confirms the candidate δ^l it was built from (a δ-shift does not)."""
        return self.shift is None or self.shift[0] == "a"


def _match_array(p: _Pass, l: int, part: str, G, shape, candidates, factors) -> _Match | None:
    """The simplest match of the learner array G (float64, as given) to one of ``candidates``
    [(shift, D)] with clean α and β (module docstring, step 3), or None."""
    orientations = []
    if G.shape == shape:
        orientations.append((G, False))
    if part == "W" and G.ndim == 2 and G.T.shape == shape:
        orientations.append((G.T, True))
    lam = p.l2 > 0
    R = (p.W if part == "W" else p.b)[l - 1].ravel() if lam else None
    coef = p.l2 / p.m
    A = np.array([f.value for f in factors])
    nA = len(A)
    if lam:
        B = np.concatenate([[0.0], A * coef])
        # count of the β term: weights: 0 for r = 1 or r = α (the whole gradient scaled), 1 else
        # (missing_l2 for r = 0, l2_scale otherwise); biases: 0 for r = 0, 1 else (regularized_bias)
        rows, cols = np.arange(nA)[:, None], np.arange(-1, nA)[None, :]
        if part == "W":
            count_B = np.where((cols == 0) | (cols == rows), 0, 1)
        else:
            count_B = np.where(cols == -1, 0, 1) + 0 * rows
    else:
        B = np.array([0.0])
        count_B = np.zeros((nA, 1), dtype=int)
    count_A = np.array([f.count for f in factors])[:, None]
    tried = []
    for G_o, transposed in orientations:
        g = G_o.ravel()
        gg = float(g @ g)
        gr, rr = (float(g @ R), float(R @ R)) if lam else (0.0, 0.0)
        for n, (shift, D) in enumerate(candidates):
            d = D.ravel()
            gd, dd = float(g @ d), float(d @ d)
            dr = float(d @ R) if lam else 0.0
            a_, b_ = A[:, None], B[None, :]
            h2 = a_ * a_ * dd + 2 * a_ * b_ * dr + b_ * b_ * rr
            res2 = np.maximum(gg - 2 * a_ * gd - 2 * b_ * gr + h2, 0.0)
            thr = p.rtol * np.sqrt(np.maximum(gg, h2)) + p.atol
            screen = res2 <= (10 * thr) ** 2 + 1e-13 * (gg + a_ * a_ * dd + b_ * b_ * rr)
            counts = count_A + count_B + int(shift is not None) + int(transposed)
            for i, j in zip(*np.nonzero(screen)):
                tried.append((int(counts[i, j]), int(transposed), n, i, j, g, d, G_o, shift))
    for count, transposed, n, i, j, g, d, G_o, shift in sorted(tried, key=lambda t: t[:5]):
        H = A[i] * d + (B[j] * R if lam else 0.0)
        if np.linalg.norm(g - H) <= p.rtol * max(np.linalg.norm(g), np.linalg.norm(H)) + p.atol:
            r_index = j - 1 if lam else -1
            return _Match(count=count, shift=shift, alpha=factors[i],
                          r=factors[r_index] if r_index >= 0 else None, r_index=r_index, alpha_index=i,
                          transposed=bool(transposed), lam=lam)
    return None


# ============================================================================ the course's words
class _Words:
    """The symbols of the messages, in the notation of one course (engine layers l = 0..L)."""

    def __init__(self, key, net, m: int, l2: float):
        self.key = key
        self.n = get_notation(key, net.sizes) if key in NOTATIONS else Notation(net.sizes)
        self.g = list(net.g)
        self.cost_name = net.cost_function.name
        self.m, self.l2, self.L = m, l2, net.n_layers

    def sup(self, l):
        return self.n.sup(l).text

    def layer(self, l):
        return self.n.layer_label(l)

    def W(self, l):
        return self.n.weight_matrix(l).text

    def b(self, l):
        return self.n.bias_vector(l).text

    def delta(self, l):
        return ("dZ" + self.sup(l)) if self.key == "ng-dl" else self.n.delta(l).text

    def a(self, l):
        return ("A" + self.sup(l)) if self.key == "ng-dl" else self.n.a(l).text

    def z(self, l):
        return ("Z" + self.sup(l)) if self.key == "ng-dl" else self.n.z(l).text

    def gprime(self, l):
        return self.n.act_prime(self.g[l - 1], l).text

    def C(self):
        return self.n.cost().text

    def grad(self, part, l):
        if self.key == "ng-ml":
            D = "D" + self.n.sup(l - 1).text
            return D if part == "W" else f"{D} column 0 (the bias)"
        if self.key == "ng-dl":
            return ("dW" if part == "W" else "db") + self.sup(l)
        return f"∂{self.C()}/∂{self.W(l) if part == 'W' else self.b(l)}"

    def data(self, part, l):
        """The summed data term as the course writes it: Σ_x δ^l (a^{l−1})ᵀ or Σ_x δ^l."""
        d, a = self.delta(l), self.a(l - 1)
        if self.key == "ng-dl":
            return f"{d} {a}ᵀ" if part == "W" else f"np.sum({d}, axis=1)"
        s = "Σ_i" if self.key == "ng-ml" else "Σ_x"
        return f"{s} {d} ({a})ᵀ" if part == "W" else f"{s} {d}"

    @staticmethod
    def coefficient(f: _Factor) -> str:
        """r·λ/m spelled out: λ/(2m), λ, λ/m², 2λ/m, −λ/m, ..."""
        top = ("2λ" if f.half == 2 else "λ")
        power = 1 - f.power  # of m in the denominator
        bottom = {0: "", 1: "m", 2: "m²"}[power]
        if f.half == 0.5:
            bottom = f"(2{bottom})" if bottom else "2"
        text = f"{top}/{bottom}" if bottom else top
        return ("−" if f.sign < 0 else "") + text


# ============================================================================ messages
def _scalar_messages(w: _Words, part, l, name, match: _Match) -> list:
    """[(kind, factor, message, evidence)] for the α and β of a match."""
    out = []
    f, m = match.alpha, w.m
    whole = part == "W" and match.lam and match.r_index == match.alpha_index and f.count > 0
    scope = {"scope": "the whole gradient" if whole
             else ("the data term" if match.lam and part == "W" else "the gradient")}
    data = w.data(part, l)
    if f.power == 1:
        if w.key == "ng-dl":
            text = f"{name} = {data} without 1/m: divide by m = {m}"
        else:
            text = f"{name} is {data} instead of (1/m) {data}: divide by m = {m}"
        if whole:
            text += f" (the λ term too: all of {name} is m times too large)"
        out.append(("sum_not_mean", float(m), text, scope))
    elif f.power == -1:
        text = f"{name} is divided by m twice, (1/m²) {data} instead of (1/m) {data}: multiply by m = {m}"
        out.append(("sum_not_mean", 1.0 / m, text, scope))
    if f.half != 1:
        if f.half == 0.5:
            why = (f"{w.C()} = (1/m) Σ (a − y)² has no ½, so ∂C/∂a = 2(a − y) (for the ½ form use "
                   "cost='half_quadratic')" if w.cost_name == "quadratic" else "a stray factor ½")
            text = f"{name} is half of {w.grad(part, l)}: {why}"
        else:
            why = ("with the ½ in C = (1/(2m)) Σ ‖a − y‖², ∂C/∂a = a − y, not 2(a − y)"
                   if w.cost_name == "half_quadratic" else "a stray factor 2")
            text = f"{name} is twice {w.grad(part, l)}: {why}"
        out.append(("half_cost", f.half, text, scope))
    if f.sign < 0:
        text = (f"{name} has the wrong sign: it is the gradient of −{w.C()} (y − a in place of a − y?), so a "
                "descent step would climb the cost")
        out.append(("sign", -1.0, text, scope))
    if not match.lam or (part == "W" and match.r_index == match.alpha_index):
        return out
    lam = f"λ = {w.l2:g}, m = {m}"
    if part == "W":
        W = w.W(l)
        if match.r is None:
            cols = " (columns j ≥ 1)" if w.key == "ng-ml" else ""
            out.append(("missing_l2", 0.0, f"{name} lacks the regularisation term (λ/m) {W}{cols} ({lam})", {}))
        elif match.r_index != 0:
            r = match.r
            text = (f"{name} adds {w.coefficient(r)}·{W} instead of (λ/m)·{W} ({lam}): the regularisation "
                    f"term is {r.value:g} times the right one")
            out.append(("l2_scale", r.value, text, {"coefficient": w.coefficient(r)}))
    elif match.r is not None:
        r, b = match.r, w.b(l)
        if w.key == "ng-ml":
            text = f"{w.grad('W', l)} column 0 (the bias) is regularised: {w.coefficient(r)}·{b} must not be added"
        else:
            text = f"{name} adds {w.coefficient(r)}·{b} ({lam}): biases are not regularised"
        out.append(("regularized_bias", r.value, text, {"coefficient": w.coefficient(r)}))
    return out


def _shift_message(w: _Words, part, l, name, shift) -> str:
    what, q = shift
    if what == "a":
        return (f"{name} uses {w.a(q)} where {w.a(l - 1)} belongs: {w.grad(part, l)} = (1/m) "
                f"{w.data(part, l)}")
    return (f"{name} uses {w.delta(q)} (layer {w.layer(q)}) where {w.delta(l)} belongs: "
            f"{w.grad(part, l)} = (1/m) {w.data(part, l)}")


def _g_prime_explanation(w: _Words, l, pattern) -> str:
    name = w.g[l - 1].name
    if pattern == "g_prime_of_a":
        return {"sigmoid": "σ(a)(1 − σ(a)) applies the sigmoid to a = σ(z) once more; σ'(z) = a(1 − a)",
                "tanh": "1 − tanh²(a) applies tanh to a = tanh(z) once more; tanh'(z) = 1 − a²"}.get(
            name, f"{name}' at a is not {name}' at z")
    return {"sigmoid": "z(1 − z) is the formula a(1 − a) with z in place of a",
            "tanh": "1 − z² is the formula 1 − a² with z in place of a"}.get(name, "the formula in a applied to z")


def _structural_message(w: _Words, l, cand: _Delta) -> str:
    d, gp, z, a = w.delta(l), w.gprime(l), w.z(l), w.a(l)
    L = w.L
    if cand.kind == "derivative_at_activation":
        at = f"{gp}({a})" if cand.pattern == "g_prime_of_a" else f"{gp}'s a-formula at {z}"
        return f"{d} uses {at} instead of {gp}({z}): {_g_prime_explanation(w, l, cand.pattern)}"
    if cand.kind == "missing_activation_derivative":
        if l == L:
            return f"{d} = ∂{w.C()}/∂{a} lacks the factor ⊙ {gp}({z})"
        return (f"{d} lacks the factor ⊙ {gp}({z}): {d} = ({w.W(l + 1)})ᵀ {w.delta(l + 1)} ⊙ {gp}({z})")
    g_name = w.g[l - 1].name
    if cand.pattern == "a_minus_y":
        extra = f" (the factor ⊙ {gp}({z}) is missing)" if w.cost_name == "half_quadratic" else ""
        return (f"{d} = {a} − y is ∂C/∂z only for a sigmoid output with binary cross-entropy or softmax with "
                f"cross-entropy; with the {w.cost_name} cost and a {g_name} output {d} = ∂{w.C()}/∂{a} ⊙ "
                f"{gp}({z}){extra}")
    return (f"{d} = ({a} − y) ⊙ {gp}({z}) is the quadratic cost's; with {w.cost_name} and a {g_name} output "
            f"{gp} cancels: {d} = {a} − y")


# ============================================================================ the diagnosis
def _learner_arrays(values, L: int, what: str) -> list:
    if values is None:
        return [None] * L
    if isinstance(values, np.ndarray) or not isinstance(values, (list, tuple)):
        raise DiagnoseError(f"{what} must be a list of {L} arrays, one per layer (W^1 first); "
                            f"got {type(values).__name__}")
    if len(values) != L:
        raise DiagnoseError(f"{what} must hold {L} arrays, one per layer of the network; got {len(values)}")
    out = []
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        try:
            arr = np.array(v, dtype=np.float64)
        except (TypeError, ValueError):
            raise DiagnoseError(f"{what}[{i}] (layer {i + 1}) must be an array of numbers; "
                                f"got {type(v).__name__}") from None
        out.append(arr)
    return out


def _check_names(names, L: int) -> dict:
    out = {"W": [f"W{l}" for l in range(1, L + 1)], "b": [f"b{l}" for l in range(1, L + 1)]}
    if names is None:
        return out
    if not isinstance(names, dict) or not set(names) <= {"W", "b"}:
        raise DiagnoseError(f"names must be a dict with keys 'W' and/or 'b', each a list of {L} names; got {names!r}")
    for key, value in names.items():
        if not isinstance(value, (list, tuple)) or len(value) != L or not all(isinstance(s, str) for s in value):
            raise DiagnoseError(f"names[{key!r}] must be a list of {L} strings, one per layer; got {value!r}")
        out[key] = list(value)
    return out


def _course(notation):
    if notation is None:
        return None, None
    if isinstance(notation, str) and notation.lower() in _PLAIN_COURSES:
        return None, notation.lower()
    try:
        key = notation_key(notation)
    except ValueError:
        raise DiagnoseError(f"unknown notation {notation!r}; choose one of: {', '.join(NOTATIONS)}, "
                            f"{', '.join(_PLAIN_COURSES)} or None") from None
    return key, key if key != "3b1b" else None


def _worst(G, E, k: int = 1):
    """The k elements where G and E differ most: [(index, expected, given)]."""
    diff = np.abs(G - E)
    diff = np.where(np.isfinite(diff), diff, np.inf)
    flat = np.argsort(diff, axis=None, kind="stable")[::-1][:k]
    return [(tuple(int(i) for i in np.unravel_index(n, G.shape)), float(E.flat[n]), float(G.flat[n]))
            for n in flat]


@dataclass
class _Array:
    part: str  # "W" or "b"
    l: int
    name: str
    G: np.ndarray  # as given (float64)
    E: np.ndarray  # the engine's gradient, in the shape of G where that is possible
    shape: tuple  # the expected shape (deltaprop layout)
    usable: bool  # its shape lets it be analysed
    given_shape: tuple  # the shape the learner gave ((n_l, 1) for a column bias)


def diagnose(net: Network, X: ArrayLike, Y: ArrayLike, weights: Sequence[ArrayLike | None] | None = None,
             biases: Sequence[ArrayLike | None] | None = None, l2: float = 0.0, *,
             names: Mapping[str, Sequence[str]] | None = None, notation: str | Notation | None = None,
             rtol: float = 1e-5, atol: float = 1e-9) -> Diagnosis:
    """The learner's gradients vs the engine's: which classic mistake explains the difference.

    Parameters
    ----------
    net : Network
        The network whose gradients the learner computed.
    X : array_like, shape (m, n_0)
        Raw inputs (the network's preprocessing is applied).
    Y : array_like
        Class labels (m,) or target rows (m, n_L).
    weights : list of L array_like or None, optional
        The learner's ∂J/∂W^l, each expected (n_l, n_{l−1}) (a transposed or otherwise wrong
        shape is itself a finding). None, or a None entry: not checked.
    biases : list of L array_like or None, optional
        The learner's ∂J/∂b^l, each (n_l,) or (n_l, 1). None, or a None entry: not checked.
    l2 : float, default 0.0
        λ in Ng's convention, J += λ/(2m) Σ‖W^l‖².
    names : dict, optional
        ``{"W": [L names], "b": [L names]}``, how the arrays are called in the findings
        (default "W1".."WL", "b1".."bL").
    notation : str or Notation, optional
        "3b1b", "nielsen", "ng-ml", "ng-dl" or a ``Notation`` (the symbols of the messages; it
        also sets ``Diagnosis.course``), "cs231n" (base symbols) or None.
    rtol, atol : float
        How close (in norm) a recomputed candidate must come to the learner's array.

    Returns
    -------
    Diagnosis
        The findings (the module docstring says how each kind is recognised).

    Raises
    ------
    DiagnoseError
        For arguments that cannot be checked (nothing given, wrong count of arrays, bad names,
        tolerances or notation).
    """
    L = net.n_layers
    key, course = _course(notation)
    l2 = check_l2(l2)
    rtol, atol = float(rtol), float(atol)
    if not (rtol > 0 and atol >= 0 and np.isfinite(rtol) and np.isfinite(atol)):
        raise DiagnoseError(f"rtol must be > 0 and atol ≥ 0, got rtol={rtol!r}, atol={atol!r}")
    given = {"W": _learner_arrays(weights, L, "weights"), "b": _learner_arrays(biases, L, "biases")}
    if all(G is None for part in given.values() for G in part):
        raise DiagnoseError("nothing to check: pass the learner's gradients as weights=[...] and/or biases=[...]")
    names = _check_names(names, L)
    p = _engine_pass(net, X, Y, l2, rtol, atol)
    words = _Words(key, net, p.m, l2)
    factors = _factors(p.m, half_first=p.cost.name in ("quadratic", "half_quadratic"))

    arrays = _given_arrays(p, given, names)
    report = _Report(words, key, names)
    hyp = None  # the δ^{l+1} that explained the layer above (None: the output layer is next)
    hyp_is_engine = True  # whether that δ^{l+1} is the engine's
    origins = []  # the evidence of structural findings still propagating down
    open_unknown = None  # the evidence of an unknown whose layer's δ nothing confirmed
    for l in range(L, 0, -1):
        for arr in arrays[l]:
            if not arr.usable:
                report.add(l, arr, "shape", f"{arr.name} has shape {arr.G.shape}; expected {arr.shape}, the shape "
                           f"of {words.W(l) if arr.part == 'W' else words.b(l)}", expected_shape=arr.shape,
                           given_shape=arr.G.shape)
        usable = [arr for arr in arrays[l] if arr.usable and np.isfinite(arr.G).all()]
        upstreams = [None] if l == L else [hyp @ p.W[l]] + ([] if hyp_is_engine else [p.deltas[l] @ p.W[l]])
        option, cand, matches = _explain_layer(p, l, usable, upstreams, factors)
        confirmed = any(mt.confirms for mt in matches.values() if mt is not None)
        if option == 1:  # the engine's δ^{l+1} explains this layer: the mistakes above stop here
            origins, hyp_is_engine = [], True
        affected = [arr.name for arr in usable if matches[arr.part] is not None and matches[arr.part].confirms]
        if confirmed and cand.kind is None and not hyp_is_engine:
            for ev in origins:
                ev["arrays"] += [n for n in affected if n not in ev["arrays"]]
                ev["layers"].append(l)
        if confirmed and cand.kind is not None:
            top = next(arr for arr in usable if matches[arr.part] is not None)
            origins.append(report.add(l, top, cand.kind, _structural_message(words, l, cand), pattern=cand.pattern,
                                      arrays=list(affected), layers=[l]).evidence)
            hyp_is_engine = False
        if confirmed:
            open_unknown = None
        for arr in usable:
            if matches[arr.part] is not None:
                report.array_findings(l, arr, matches[arr.part], correct=cand.kind is None and hyp_is_engine)
        wrong = [arr for arr in arrays[l] if arr.usable and matches.get(arr.part) is None]
        if wrong and open_unknown is not None:  # below a wrong δ: wrong too, and said once
            open_unknown["arrays"] += [arr.name for arr in wrong]
            open_unknown["layers"].append(l)
        elif wrong:
            evidence = report.unknown(l, wrong).evidence
            open_unknown = None if confirmed else evidence
        hyp = cand.delta  # unconfirmed: the right formula; the engine's δ is tried below as well
    return Diagnosis(findings=report.findings(), course=course)


def _given_arrays(p: _Pass, given: dict, names: dict) -> dict:
    """{l: [_Array]} for the learner's arrays of each layer (W first)."""
    out = {}
    for l in range(1, p.L + 1):
        out[l] = []
        for part, E in (("W", p.grad_W[l - 1]), ("b", p.grad_b[l - 1])):
            G = given[part][l - 1]
            if G is None:
                continue
            given_shape, shape = G.shape, E.shape
            if part == "b" and G.shape == (shape[0], 1):
                G = G.reshape(shape)
            usable = G.shape == shape or (part == "W" and G.ndim == 2 and G.T.shape == shape)
            if usable and G.shape != shape:
                E = E.T
            out[l].append(_Array(part, l, names[part][l - 1], G, E, shape, usable, given_shape))
    return out


def _explain_layer(p: _Pass, l: int, usable: list, upstreams: list, factors: list):
    """The best explanation of layer l's arrays: (option, candidate δ^l, {part: _Match or None}).

    Option 0 builds the candidates from the δ^{l+1} that explained the layer above, option 1
    from the engine's. Best: the fewest unexplained arrays, then the fewest findings, then
    option 0, then the right formula."""
    best = None
    for option, upstream in enumerate(upstreams):
        for i, cand in enumerate(_delta_variants(p, l, upstream)):
            matches = {arr.part: _match_array(p, l, arr.part, arr.G, arr.shape,
                                              _data_gradients(p, l, arr.part, cand.delta, shifts=(i == 0)), factors)
                       for arr in usable}
            missing = sum(mt is None for mt in matches.values())
            count = int(cand.kind is not None) + sum(mt.count for mt in matches.values() if mt is not None)
            if best is None or (missing, count, option, i) < best[0]:
                best = ((missing, count, option, i), option, cand, matches)
    return best[1:]


class _Report:
    """The findings as they are made, each with the worst element of its array."""

    def __init__(self, words: _Words, key, names):
        self.words, self.key, self.names = words, key, names
        self.found = []  # (layer, order, Finding)

    def add(self, l, arr: _Array, kind, message, factor=None, **evidence) -> Finding:
        fields = {}
        if arr.usable:
            index, expected, given = _worst(arr.G, arr.E)[0]
            fields = {"index": self._layout_index(arr, index), "expected": expected, "given": given}
        evidence.setdefault("layer", l)
        f = finding(kind, arr.name, message, factor=factor, evidence=evidence, **fields)
        self.found.append((l, len(self.found), f))
        return f

    def _layout_index(self, arr: _Array, index: tuple) -> tuple:
        """The index in the array as the learner gave it; in Ng's Θ (W and b of a layer under one
        name, notation "ng-ml") the bias is column 0."""
        if self.key == "ng-ml" and self.names["W"][arr.l - 1] == self.names["b"][arr.l - 1] \
                and arr.G.shape == arr.shape:
            return (index[0], index[1] + 1) if arr.part == "W" else (index[0], 0)
        return index + (0,) if len(arr.given_shape) == len(index) + 1 else index

    def array_findings(self, l, arr: _Array, mt: _Match, correct: bool):
        """The findings of one explained array: transposed, layer_shift, the factors; or correct."""
        w = self.words
        if mt.transposed:
            self.add(l, arr, "transposed", f"{arr.name} is transposed: it has shape {arr.G.shape}, "
                     f"{w.grad(arr.part, l)} has the shape of {w.W(l)}, {arr.shape}", expected_shape=arr.shape)
        if mt.shift is not None:
            self.add(l, arr, "layer_shift", _shift_message(w, arr.part, l, arr.name, mt.shift),
                     pattern=f"{mt.shift[0]}^{mt.shift[1]}", shift=mt.shift)
        for kind, factor, text, ev in _scalar_messages(w, arr.part, l, arr.name, mt):
            self.add(l, arr, kind, text, factor=factor, **ev)
        if mt.count == 0 and correct:
            self.add(l, arr, "correct", f"{arr.name} matches {w.grad(arr.part, l)}")

    def unknown(self, l, wrong: list) -> Finding:
        """One ``unknown`` for the arrays of layer l that nothing explains (the first named)."""
        first, w = wrong[0], self.words
        worst = _worst(first.G, first.E, k=3)
        if np.isfinite(first.G).all():
            where = ", ".join(f"{i}: expected {e:.6g}, given {g:.6g}" for i, e, g in worst)
            text = (f"{first.name} is wrong and matches no known mistake; layer {w.layer(l)} is the first wrong "
                    f"layer in backpropagation order (check {w.delta(l)} and {w.grad(first.part, l)} there); the "
                    f"largest differences are at {where}")
            pattern = "unknown"
        else:
            text = f"{first.name} holds NaN or infinity (log(0) or a division by zero?) at {worst[0][0]}"
            pattern = "not finite"
        return self.add(l, first, "unknown", text, arrays=[arr.name for arr in wrong], layers=[l],
                        worst=worst, pattern=pattern)

    def findings(self) -> list:
        """In layer order (W1, b1, W2, ...), merged (``_merge``)."""
        return _merge([f for _, _, f in sorted(self.found, key=lambda t: t[:2])])


def _merge(findings: list) -> list:
    """One finding per (array, kind, factor), and no ``correct`` beside a wrong finding on the same
    array (W and b parts under one name, as in Ng's Θ)."""
    wrong_arrays = {f.array for f in findings if f.kind != "correct"}
    out, seen = [], set()
    for f in findings:
        if f.kind == "correct" and f.array in wrong_arrays:
            continue
        k = (f.array, f.kind, f.factor)
        if k in seen:
            continue
        seen.add(k)
        out.append(f)
    return out
