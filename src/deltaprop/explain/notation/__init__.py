"""Notation presets: the same parameter named the way each course names it, chosen by name.

deltaprop stores W^l = ``net.weights[l-1]`` of shape (n_l, n_{l−1}), ``W[j, k]`` joining neuron
k of layer l−1 to neuron j of layer l, with the input as layer 0 and Python (0-based) neuron
indices. Each preset translates those *engine coordinates* (layer ``l`` in 0..L, neurons ``j``,
``k`` from 0, example ``i`` from 0) into one course's symbols:

============  ===========  ============  =============================  =========================
preset        input layer  neurons from  weight of W^l[j, k]            bias, error, cost
============  ===========  ============  =============================  =========================
``3b1b``      L−L          0             w_jk^(L), layers counted back   b_j^(L), δ_j^(L), C_0, C
                                         from the output L
``nielsen``   1            1             w^{l+1}_{j+1,k+1}               b^l_j, δ^l_j, C_x, C
``ng-ml``     1            1             Θ^(l)_{j+1,k+1}: Θ^(l) maps     bias = Θ^(l)_{j+1,0} (the
                                         layer l to l+1, column 0 is     bias column, a_0 = 1),
                                         the bias unit                   δ^(l), Δ^(l), D^(l), J(Θ)
``ng-dl``     0            1             W^[l]_{j+1,k+1}                 b^[l]_j, dz^[l], dZ^[l],
                                                                         dW^[l], ℒ^(i), J
============  ===========  ============  =============================  =========================

Every symbol is an ``M`` (``deltaprop.explain.mathdoc``) with a terminal and a LaTeX spelling.
``base.Notation`` holds what the courses share; one module per preset overrides the rest
(``threeb1b``, ``nielsen``, ``ng_ml``, ``ng_dl``). ``NOTATIONS`` is the one registry, key -> class;
``get_notation(key, sizes)`` picks a preset for a network, ``notation_table()`` writes the table
in docs/notation.md.
"""

from __future__ import annotations

from collections.abc import Sequence

from .base import Notation
from .ng_dl import NgDL
from .ng_ml import NgML
from .nielsen import Nielsen
from .threeb1b import ThreeBlueOneBrown

__all__ = [
    "Notation",
    "ThreeBlueOneBrown",
    "Nielsen",
    "NgML",
    "NgDL",
    "NOTATIONS",
    "notation_key",
    "get_notation",
    "notation_table",
]

#: The registry: preset key -> class, in the order the courses are listed everywhere.
NOTATIONS = {cls.key: cls for cls in (ThreeBlueOneBrown, Nielsen, NgML, NgDL)}


def notation_key(name: object) -> str:
    """The registry key for ``name`` ("3b1b", "nielsen", "ng-ml", "ng-dl"; any case, ``_`` for
    ``-``), or a ValueError listing the choices."""
    key = str(name).lower().replace("_", "-") if isinstance(name, str) else None
    if key not in NOTATIONS:
        raise ValueError(f"unknown notation {name!r}; choose one of: {', '.join(NOTATIONS)}")
    return key


def get_notation(name: str | Notation, sizes: Sequence[int]) -> Notation:
    """The preset ``name`` (a key, or a Notation whose preset to reuse) for a network of ``sizes``."""
    if isinstance(name, Notation):
        return type(name)(sizes)
    return NOTATIONS[notation_key(name)](sizes)


# ---------------------------------------------------------------------------- the docs table
def notation_table(sizes: Sequence[int] = (4, 5, 3), layer: int = 2, j: int = 2, k: int = 0) -> str:
    """A Markdown table naming ``net.weights[layer-1][j, k]`` of a ``sizes`` network in every
    preset (docs/notation.md holds this table; a test keeps it in sync)."""
    header = (
        "| notation | the weight | in the terminal | joins | bias of that neuron | error of that neuron "
        "| cost of one example | cost of the batch | input layer | neurons from |"
    )
    lines = [header, "|" + "---|" * 10]
    engine = f"`net.weights[{layer - 1}][{j}, {k}]`"
    lines.append(
        f"| deltaprop arrays | {engine} | `W^{layer}[{j},{k}]` | `activations[{layer - 1}][:, {k}]` → "
        f"`activations[{layer}][:, {j}]` | `net.biases[{layer - 1}][{j}]` | `deltas[{layer - 1}][:, {j}]` "
        f"| row x of X | `net.cost(X, Y)` | 0 | 0 |"
    )
    for key, cls in NOTATIONS.items():
        n = cls(sizes)
        cells = [
            f"{n.title} (`{key}`)",
            f"${n.weight(layer, j, k).latex}$",
            f"`{n.weight(layer, j, k).text}`",
            f"${n.a(layer - 1, k).latex}$ → ${n.a(layer, j).latex}$",
            f"${n.bias(layer, j).latex}$",
            f"${n.delta(layer, j).latex}$",
            f"${n.example_cost(0).latex}$",
            f"${n.cost().latex}$",
            f"${n.a(0).latex}$",
            str(n.neuron_base),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
