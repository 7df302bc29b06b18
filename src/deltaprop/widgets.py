"""Notebook widgets: nudge one weight and watch the cost; pick any parameter and read its derivation.

    from deltaprop import widgets
    widgets.nudge(net, X, Y, weight=(2, 0, 3))   # a slider for Δw: C(w + Δw) next to C + ∂C/∂w·Δw
    widgets.explorer(net, X, Y)                  # layer, neuron, weight or bias, example, notation

They need ipywidgets (``pip install "deltaprop[notebook]"``), imported when a widget is made,
not by ``import deltaprop``. Every number is the engine's: the cost is ``net.cost`` with the
weight moved, the gradient and the derivation come from ``deltaprop.explain`` (which also takes
a fitted estimator and class labels). ``nudge`` moves the weight of a float64 copy of the
network, never the network you pass in.

Without a kernel (a notebook exported to HTML, a viewer that does not run widgets) each shows
its current state as a static display: the numbers at the slider's value (Δw = 0 when it was
made) and the derivation, as HTML with MathML and as readable text.
"""

from __future__ import annotations

import html
from types import ModuleType
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from .explain import NOTATION_CHOICES, explain
from .gradcheck import model_network
from .explain.mathdoc import CDOT, EQ, FINAL_DIGITS, MINUS, PLUS, M, num, paren
from .explain.notation import get_notation

if TYPE_CHECKING:
    from .explain import Explanation
    from .network import Network

__all__ = ["nudge", "Nudge", "explorer", "Explorer", "INSTALL_HINT"]

INSTALL_HINT = 'pip install "deltaprop[notebook]"'
#: Slider positions on each side of Δw = 0.
STEPS = 100


def _ipywidgets():
    try:
        import ipywidgets
    except ImportError:
        raise ImportError(f"deltaprop.widgets needs ipywidgets, which is not installed: {INSTALL_HINT}") from None
    return ipywidgets


def _explanation_html(e: Explanation) -> str:
    """The explanation's HTML (MathML)."""
    return e._repr_html_()


def _math_html(m: M) -> str:
    from .report.mathhtml import latex_to_mathml

    return latex_to_mathml(m.latex)


class _Display:
    """A widget with a static fallback: Jupyter gets the live widget's view and, for viewers
    without a kernel, ``_static_html()`` and ``_static_text()`` (also the ``repr``)."""

    widget = None

    def _repr_mimebundle_(self, include=None, exclude=None):
        data = dict(self.widget._repr_mimebundle_(include=include, exclude=exclude) or {})
        data["text/plain"] = self._static_text()
        data["text/html"] = self._static_html()
        return data

    def __repr__(self) -> str:
        return self._static_text()


# ============================================================================ nudge
def _span(theta: float, gradient: float) -> float:
    """Half the slider's range: twice the weight, or the step of ten times the gradient (a large
    learning rate's), at least 0.5 (where the first order visibly parts from the cost), rounded
    up to 1, 2 or 5 × 10^n."""
    want = max(2 * abs(theta), 10 * abs(gradient), 0.5)
    power = 10.0 ** np.floor(np.log10(want))
    return float(next(f * power for f in (1, 2, 5, 10) if f * power >= want))


class Nudge(_Display):
    """``nudge``'s widget: ``slider`` (Δw), ``readout`` and ``derivation`` (HTML widgets),
    ``widget`` (the box holding them). After each move: ``cost`` = C(w + Δw) (``net.cost`` of
    the copy), ``prediction`` = C + ∂C/∂w·Δw (``base_cost``, ``gradient`` at Δw = 0), and
    ``explanation``, the ``Explanation`` at w + Δw."""

    def __init__(self, ipw: ModuleType, work: Network, X: ArrayLike, Y: ArrayLike, first: Explanation,
                 span: float | None, notation: str, l2: float):
        d = first.derivation
        self._work, self._X, self._Y, self._l2 = work, X, Y, l2
        self._spec = {"weight": (d.l, d.j, d.k)} if d.kind == "weight" else {"bias": (d.l, d.j)}
        self._sample, self._m, self._notation = d.sample, d.m, notation
        self._array = (work.weights if d.kind == "weight" else work.biases)[d.l - 1]
        self._index = (d.j, d.k) if d.kind == "weight" else (d.j,)
        self.theta, self.gradient = float(d.theta), float(d.value)
        self._n = n = get_notation(notation, d.sizes)
        self._symbol = n.parameter(d.kind, d.l, d.j, d.k)
        self._cost_symbol = n.cost() if d.sample is None else n.example_cost(d.sample)
        self.base_cost = self._cost()
        if span is None:
            span = _span(self.theta, self.gradient)
        elif not (isinstance(span, (int, float)) and not isinstance(span, bool) and np.isfinite(span) and span > 0):
            raise ValueError(f"nudge: span must be a positive number (the slider's Δw runs from −span to span), got {span!r}")
        self.slider = ipw.FloatSlider(value=0.0, min=-float(span), max=float(span), step=float(span) / STEPS,
                                      description="Δw", readout_format=".4g", continuous_update=True,
                                      layout=ipw.Layout(width="32em"))
        self.readout = ipw.HTML()
        self.derivation = ipw.HTML()
        self.widget = ipw.VBox([self.slider, self.readout, self.derivation])
        self.slider.observe(lambda change: self._update(float(change["new"])), names="value")
        self._update(0.0)

    def _cost(self) -> float:
        """``net.cost`` of the copy at its current weights: the batch, or example ``sample``
        alone with its share λ/m of the penalty (as ``explain`` defines it)."""
        if self._sample is None:
            return float(self._work.cost(self._X, self._Y, self._l2))
        i = self._sample
        return float(self._work.cost(self._X[i : i + 1], self._Y[i : i + 1], self._l2 / self._m))

    def _update(self, dw: float) -> None:
        self._array[self._index] = self.theta + dw
        self.dw = dw
        self.cost = self._cost()
        self.prediction = self.base_cost + self.gradient * dw
        self.explanation = explain(self._work, self._X, self._Y, **self._spec, sample=self._sample,
                                   notation=self._notation, l2=self._l2)
        self.readout.value = self._readout_html()
        self.derivation.value = _explanation_html(self.explanation)

    def _lines(self) -> list:
        """The readout, one formula per line: Δw, w + Δw, C(w + Δw) and C + ∂C/∂w·Δw."""
        w, C = self._symbol, self._cost_symbol
        dw_sym = M("Δ", r"\Delta ") + w
        moved = w + PLUS + dw_sym
        grad = self._n.grad(C, w)
        big = lambda x: num(x, FINAL_DIGITS)  # noqa: E731
        return [
            (dw_sym + EQ + num(self.dw), "the slider"),
            (moved + EQ + num(self.theta) + PLUS + num(self.dw, wrap=True) + EQ + num(self.theta + self.dw), ""),
            (C + paren(moved) + EQ + big(self.cost), "net.cost, the true cost"),
            (C + PLUS + grad + CDOT + dw_sym + EQ + num(self.base_cost) + PLUS + num(self.gradient, wrap=True) + CDOT
             + num(self.dw, wrap=True) + EQ + big(self.prediction), "first order, from the gradient at Δw = 0"),
            (C + paren(moved) + MINUS + paren(C + PLUS + grad + CDOT + dw_sym) + EQ + big(self.cost - self.prediction),
             "what the first order misses"),
        ]

    def _readout_html(self) -> str:
        rows = "".join(f'<tr><td class="dp-formula">{_math_html(m)}</td><td class="dp-note">{html.escape(note)}</td></tr>'
                       for m, note in self._lines())
        return f'<table class="deltaprop-nudge">{rows}</table>'

    def _static_html(self) -> str:
        return (f"<div><p>Nudging {_math_html(self._symbol)} (Δw = {self.dw:.4g}; the slider needs a running "
                f"kernel)</p>{self._readout_html()}{_explanation_html(self.explanation)}</div>")

    def _static_text(self) -> str:
        head = f"nudge {self._symbol.text}: Δw = {self.dw:.4g} (the slider runs from {self.slider.min:.4g} to {self.slider.max:.4g} in a live kernel)"
        lines = "\n".join(f"  {m.text}" + (f"   ({note})" if note else "") for m, note in self._lines())
        return f"{head}\n{lines}\n\n{self.explanation}"


def nudge(net: Any, X: ArrayLike, Y: ArrayLike, weight: tuple[int, int, int] | None = None,
          bias: tuple[int, int] | None = None, *, sample: int | None = None, notation: str = "3b1b",
          l2: float = 0.0, span: float | None = None) -> Nudge:
    """A slider that moves one weight (``weight=(l, j, k)``, ``net.weights[l-1][j, k]``) or bias
    (``bias=(l, j)``) by Δw and shows, live, the true cost C(w + Δw) (``net.cost``), the
    first-order prediction C + ∂C/∂w·Δw next to it, and ``explain``'s derivation at w + Δw.

    ``net`` is a ``Network`` or a fitted estimator; X, Y the batch (Y class labels or target
    rows); ``sample=i`` nudges example i's cost alone; ``notation`` and ``l2`` as for
    ``explain``. ``span``: the slider runs from −span to span (default: of the order of the
    weight and of ten times its gradient). The network passed in is never changed: the slider
    moves a float64 copy's weight."""
    ipw = _ipywidgets()
    network, X = model_network(net, X, "nudge")  # a Network, or an estimator's (X checked as its predict does)
    first = explain(network, X, Y, weight=weight, bias=bias, sample=sample, notation=notation, l2=l2)  # checks the rest
    work = network.copy(dtype="float64")
    return Nudge(ipw, work, X, Y, first, span, first.notation, first.l2)


# ============================================================================ explorer
class Explorer(_Display):
    """``explorer``'s widget: the controls ``layer``, ``neuron``, ``weight`` (k, or ``BIAS``
    for the bias), ``example`` (a row, or ``BATCH``) and ``notation``; ``derivation`` (an
    HTML widget) shows ``explanation``, the current ``Explanation``."""

    BIAS = BATCH = -1  # (a Dropdown's value None means "nothing chosen")

    def __init__(self, ipw: ModuleType, model: Any, X: ArrayLike, Y: ArrayLike, first: Explanation, l2: float):
        d = first.derivation
        self._model, self._X, self._Y, self._l2, self._sizes = model, X, Y, l2, list(d.sizes)
        L = len(self._sizes) - 1
        self.layer = ipw.Dropdown(options=[(f"{l}" + (" (output)" if l == L else ""), l) for l in range(1, L + 1)],
                                  value=d.l, description="layer l")
        self.neuron = ipw.Dropdown(description="neuron j")
        self.weight = ipw.Dropdown(description="weight k")
        self.example = ipw.Dropdown(options=[("the batch", self.BATCH)] + [(f"row {i}", i) for i in range(d.m)],
                                    value=self.BATCH, description="example")
        self.notation = ipw.Dropdown(options=list(NOTATION_CHOICES), value=first.notation, description="notation")
        self.derivation = ipw.HTML()
        self._choices(d.l)
        controls = ipw.HBox([self.layer, self.neuron, self.weight]), ipw.HBox([self.example, self.notation])
        self.widget = ipw.VBox([*controls, self.derivation])
        self.layer.observe(lambda change: self._choices(change["new"]), names="value")
        for control in (self.neuron, self.weight, self.example, self.notation):
            control.observe(lambda change: self._update(), names="value")
        self._update()

    def _choices(self, l: int) -> None:
        """The neurons j of layer l and the inputs k from layer l − 1 (and the bias)."""
        self._changing = True
        j, k = self.neuron.value, self.weight.value
        self.neuron.options = list(range(self._sizes[l]))
        self.neuron.value = j if j is not None and j < self._sizes[l] else 0
        self.weight.options = [(str(i), i) for i in range(self._sizes[l - 1])] + [("bias", self.BIAS)]
        self.weight.value = k if k is not None and k < self._sizes[l - 1] else 0
        self._changing = False
        self._update()

    def _update(self) -> None:
        if getattr(self, "_changing", False) or not hasattr(self, "widget"):
            return
        l, j, k = self.layer.value, self.neuron.value, self.weight.value
        spec = {"bias": (l, j)} if k == self.BIAS else {"weight": (l, j, k)}
        sample = None if self.example.value == self.BATCH else self.example.value
        self.explanation = explain(self._model, self._X, self._Y, **spec, sample=sample,
                                   notation=self.notation.value, l2=self._l2)
        self.derivation.value = _explanation_html(self.explanation)

    def _static_html(self) -> str:
        return (f"<div><p>{html.escape(self._where())} (the controls need a running kernel)</p>"
                f"{_explanation_html(self.explanation)}</div>")

    def _where(self) -> str:
        e = self.explanation
        of = "the batch" if e.sample is None else f"example {e.sample}"
        return f"deltaprop explorer: {e.name} for {of}, notation {e.notation}"

    def _static_text(self) -> str:
        return f"{self._where()} (the controls need a running kernel)\n\n{self.explanation}"


def explorer(net: Any, X: ArrayLike, Y: ArrayLike, *, notation: str = "3b1b", l2: float = 0.0) -> Explorer:
    """Controls to pick a layer, a neuron j, a weight k (or the bias), an example (or the
    batch) and the notation (3b1b, nielsen, ng-ml, ng-dl), showing ``explain``'s derivation of
    that parameter's gradient. ``net`` is a ``Network`` or a fitted estimator; Y class labels
    or target rows. It starts at w_00 of layer 1 for the batch."""
    ipw = _ipywidgets()
    first = explain(net, X, Y, weight=(1, 0, 0), notation=notation, l2=l2)  # checks the model and the data
    return Explorer(ipw, net, X, Y, first, first.l2)
