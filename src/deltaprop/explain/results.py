"""The public entry points and what they return: views that hold numbers and render on demand.

``explain`` checks its arguments, takes one derivation from ``derive.py`` and returns an
``Explanation``: the derivation plus the chosen notation's key. Rendering (``str()``,
``to_markdown()``, Jupyter's ``_repr_markdown_``) happens when asked, through ``render.py``, so
``dataclasses.replace(e, notation="ng-ml")`` shows the same numbers in another course's notation.
``explain_layer`` and ``LayerExplanation`` do the same for one layer; ``sensitivity`` ranks
every parameter and names each in the notation.

In a notebook each view offers text/html (``_repr_html_``: the Markdown turned into HTML with
MathML by ``deltaprop.report.mathhtml``, the report's renderer, so an HTML export viewed offline
shows typeset math and no ``$``; Jupyter and nbconvert's HTML export prefer text/html),
text/markdown (``_repr_markdown_``, for Markdown consumers) and text/plain = ``str()``
(``_repr_pretty_``). There is no ``_repr_latex_``: a derivation is prose with math in it, not
one formula, and nbconvert's LaTeX/PDF export converts the Markdown (its ``$...$`` included).

Every entry point takes a ``Network`` or a fitted ``MLPClassifier`` / ``MLPRegressor``
(``gradcheck.model_network``), and targets as the network takes them: class labels (m,) or
target rows (m, n_L).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..gradcheck import model_network
from ..validation import check_l2
from . import render
from .derive import (
    Derivation,
    LayerDerivation,
    check_eps,
    check_layer,
    check_parameter,
    check_top,
    derive,
    derive_layer,
    rank_gradients,
)
from .mathdoc import Doc
from .notation import Notation, get_notation, notation_key

if TYPE_CHECKING:
    from ..network import Network
    from ..sklearn import MLPClassifier, MLPRegressor


def _pretty(self, p, cycle) -> None:
    """IPython's text/plain: ``str()``. (IPython takes the first class in the MRO that defines
    ``_repr_pretty_`` or ``__repr__``, so each class with a ``__repr__`` sets this itself.)"""
    p.text(str(self))


class _Displayed:
    """IPython's displays of a result: text/html ``to_html()`` (MathML), text/markdown
    ``to_markdown()`` (LaTeX); text/plain is ``str()`` (``_pretty``)."""

    def _repr_html_(self) -> str:
        return self.to_html()

    def _repr_markdown_(self) -> str:
        return self.to_markdown()


class _View(_Displayed):
    """A result that renders itself from ``_doc()``: text for the terminal, Markdown with LaTeX
    and HTML with MathML for notebooks. ``repr`` shows the ``_shown`` attributes (a compact
    summary for lists and debuggers; IPython shows ``str()``)."""

    _shown: tuple = ()

    def __str__(self) -> str:
        return self._doc().text()

    def to_markdown(self) -> str:
        return self._doc().markdown()

    def to_html(self) -> str:
        return f'<div class="deltaprop-explain">{self._doc().html()}</div>'

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{a}={getattr(self, a)!r}" for a in self._shown) + ")"

    _repr_pretty_ = _pretty


def _read(name: str, doc: str | None = None) -> property:
    """A read-only attribute of a view: ``self.derivation.<name>``."""
    return property(lambda self: getattr(self.derivation, name), doc=doc or f"``derivation.{name}``")


# ============================================================================ one parameter
@dataclass(repr=False)
class Explanation(_View):
    """∂C/∂θ for one parameter θ, with its derivation (``str()``: terminal text,
    ``to_markdown()``: Markdown with LaTeX, displayed by Jupyter via ``_repr_markdown_``).

    ``value`` is the engine's gradient (``net.backward``), ``numeric`` the central difference
    (C(θ + ε) − C(θ − ε)) / 2ε in float64, ``relative_error`` = |value − numeric| /
    (|value| + |numeric|). ``notation`` is the key of the preset it renders in."""

    derivation: Derivation
    notation: str

    _shown = ("value", "numeric", "relative_error", "kind", "layer", "j", "k", "sample", "notation", "l2", "eps")

    value = _read("value", "∂C/∂θ from net.backward")
    numeric = _read("numeric", "the central difference (C(θ + ε) − C(θ − ε)) / 2ε")
    relative_error = _read("relative_error", "|value − numeric| / (|value| + |numeric|)")
    kind = _read("kind", '"weight" or "bias"')
    layer = _read("l", "the engine layer l of W^l, counted from 1")
    j = _read("j")
    k = _read("k")
    sample = _read("sample", "the row of X whose cost is explained, or None for the batch")
    l2 = _read("l2")
    eps = _read("eps")

    @property
    def name(self) -> str:
        """The parameter's symbol in the chosen notation (plain text)."""
        d = self.derivation
        return self._notation().parameter(d.kind, d.l, d.j, d.k).text

    def _notation(self) -> Notation:
        return get_notation(self.notation, self.derivation.sizes)

    def _doc(self) -> Doc:
        return render.render_parameter(self.derivation, self._notation())


def explain(
    net: Network | MLPClassifier | MLPRegressor,
    X: ArrayLike,
    Y: ArrayLike,
    weight: Sequence[int] | None = None,
    bias: Sequence[int] | None = None,
    sample: int | None = None,
    notation: str = "3b1b",
    l2: float = 0.0,
    eps: float = 1e-5,
    training: bool = False,
) -> Explanation:
    """Explain ∂C/∂w_jk^l (``weight=(l, j, k)``, the entry ``net.weights[l-1][j, k]``) or
    ∂C/∂b_j^l (``bias=(l, j)``, ``net.biases[l-1][j]``) with the numbers of this network.

    ``net`` is a ``Network`` or a fitted ``MLPClassifier`` / ``MLPRegressor``. X is (m, n_0),
    Y class labels (m,) or target rows (m, n_L). ``sample=i`` explains the cost of example X[i] alone,
    ``sample=None`` the cost averaged over the batch. ``notation`` is "3b1b", "nielsen",
    "ng-ml" or "ng-dl"; ``l2`` is λ of the penalty λ/(2m) Σ‖W‖² (see ``deltaprop.explain.derive``
    for its share in one example's cost); ``eps`` the step of the central difference;
    ``training``: the rows of X are training examples (the text then calls them so).
    """
    net, X = model_network(net, X)
    kind, l, j, k = check_parameter(net, weight, bias)
    key = notation_key(notation)
    l2 = check_l2(l2)
    eps = check_eps(eps)
    derivation = derive(net, X, Y, kind, l, j, k, sample, l2, eps, training=bool(training))
    return Explanation(derivation=derivation, notation=key)


def demo_chain() -> tuple[Network, NDArray[np.float64], NDArray[np.float64]]:
    """3Blue1Brown's chain of one neuron per layer: sizes [1, 1, 1, 1] (3 weights, 3 biases),
    sigmoid everywhere, quadratic cost C_0 = (a^(L) − y)², one example x = 0.7 with y = 1.

    Returns (net, X, Y); ``explain(net, X, Y, weight=(3, 0, 0), sample=0)`` explains w^(L)."""
    from ..network import Network

    net = Network([1, 1, 1, 1], activation="sigmoid", cost="quadratic", seed=0)
    net.weights = [[[0.9]], [[-1.3]], [[2.1]]]
    net.biases = [[0.1], [0.4], [-0.6]]
    X = np.array([[0.7]])
    Y = np.array([[1.0]])
    return net, X, Y


# ============================================================================ one layer
@dataclass(repr=False)
class LayerExplanation(_View):
    """δ^l, ∂C/∂W^l and ∂C/∂b^l of one layer for a batch (engine layout: ``delta`` (m, n_l),
    ``grad_W`` (n_l, n_{l−1}), ``grad_b`` (n_l,)), with ``str()`` and ``to_markdown()``."""

    derivation: LayerDerivation
    notation: str

    _shown = ("layer", "notation", "l2", "delta", "grad_W", "grad_b", "cost")

    layer = _read("layer")
    l2 = _read("l2")
    delta = _read("delta", "δ^l of every example, (m, n_l)")
    grad_W = _read("grad_W", "∂C/∂W^l, (n_l, n_{l−1})")
    grad_b = _read("grad_b", "∂C/∂b^l, (n_l,)")
    cost = _read("cost")

    def _doc(self) -> Doc:
        return render.render_layer(self.derivation, get_notation(self.notation, self.derivation.sizes))


def explain_layer(net: Network | MLPClassifier | MLPRegressor, X: ArrayLike, Y: ArrayLike, layer: int,
                  notation: str = "3b1b", l2: float = 0.0) -> LayerExplanation:
    """The whole of layer ``layer`` (W^l = ``net.weights[layer-1]``) for the batch X, Y: δ^l for
    every example, ∂C/∂W^l as a matrix product with its shapes, ∂C/∂b^l; numbers from one
    ``net.backward(X, Y, l2)``. ``net`` and Y as for ``explain``."""
    net, X = model_network(net, X)
    l = check_layer(net, layer)
    key = notation_key(notation)
    l2 = check_l2(l2)
    return LayerExplanation(derivation=derive_layer(net, X, Y, l, l2), notation=key)


# ============================================================================ every parameter
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
        return render.engine_ref(self.kind, self.layer, *self.indices)


@dataclass
class Sensitivity(_Displayed):
    """The parameters ranked by |∂C/∂θ| (which nudges decrease the cost most): ``str()`` a
    table, ``to_markdown()`` a Markdown table, ``to_html()`` an HTML table with MathML."""

    rows: list
    cost: float
    n_params: int
    m: int
    notation: str
    l2: float

    def __str__(self) -> str:
        return render.sensitivity_text(self)

    def to_markdown(self) -> str:
        return render.sensitivity_markdown(self)

    def to_html(self) -> str:
        return render.sensitivity_html(self)

    _repr_pretty_ = _pretty


def sensitivity(net: Network | MLPClassifier | MLPRegressor, X: ArrayLike, Y: ArrayLike, top: int = 10, l2: float = 0.0, notation: str = "3b1b") -> Sensitivity:
    """Rank every weight and bias by |∂C/∂θ| for the batch X, Y (one ``net.backward``); the
    ``top`` largest, each with the direction that decreases the cost (against the gradient).
    ``net`` and Y as for ``explain``."""
    net, X = model_network(net, X)
    top = check_top(top)
    key = notation_key(notation)
    l2 = check_l2(l2)
    ranked = rank_gradients(net, X, Y, top, l2)
    n = get_notation(key, ranked.sizes)
    rows = []
    for kind, l, idx, g, direction in ranked.entries:
        symbol = n.parameter(kind, l, *idx)
        rows.append(SensitivityRow(symbol.text, symbol.latex, kind, l, idx, g, direction))
    return Sensitivity(rows=rows, cost=ranked.cost, n_params=ranked.n_params, m=ranked.m, notation=key, l2=l2)
