"""Explain one gradient with the network's own numbers, in the learner's notation.

``explain(net, X, Y, weight=(l, j, k))`` answers "where does ∂C/∂w_jk^l come from?" for
``net.weights[l-1][j, k]`` (``bias=(l, j)``: ``net.biases[l-1][j]``), laying out the forward
values on the path, the output error δ^L, the backward recurrence down to layer l, and
∂C/∂w_jk^l = a_k^{l−1} δ_j^l next to its central-difference estimate. ``explain_layer`` shows a
whole layer for a batch, ``sensitivity`` ranks every parameter by |∂C/∂θ|.

Every number is the engine's: the gradient and the values on the path come from one
``net.backward`` call (its ``zs``, ``activations`` and ``deltas``); ``explain`` only adds the
central difference, which costs two evaluations of the cost.

The package, numbers first:

    derive.py     the numbers: argument checks, one backward, central differences, float64 copy
    render.py     a derivation as a Doc in one notation (the steps of the chain rule)
    results.py    explain / explain_layer / sensitivity and the views they return
    mathdoc.py    M (text and LaTeX spellings), num / vector / matrix, the Doc model
    notation/     the course presets (3b1b, nielsen, ng-ml, ng-dl) and their registry
"""

from .notation import NOTATIONS
from .results import (
    Explanation,
    LayerExplanation,
    Sensitivity,
    SensitivityRow,
    demo_chain,
    explain,
    explain_layer,
    sensitivity,
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

#: The notation keys ``explain`` accepts, in the registry's order.
NOTATION_CHOICES = tuple(NOTATIONS)
