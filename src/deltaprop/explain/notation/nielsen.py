"""Michael Nielsen's notation (*Neural Networks and Deep Learning*): layers and neurons from 1."""

from __future__ import annotations

from ..mathdoc import LAMBDA, SUM, M, frac, sub_text
from .base import Notation


class Nielsen(Notation):
    """Michael Nielsen, *Neural Networks and Deep Learning*: the input is layer 1, w^l_jk joins
    the k-th neuron of layer l−1 to the j-th of layer l (both counted from 1), b^l_j, z^l, a^l,
    δ^l_j = ∂C/∂z^l_j, C_x the cost of training input x and C = (1/n) Σ_x C_x; the weight
    matrix of layer l is w^l."""

    key = "nielsen"
    title = "Nielsen"
    summary = "the input is layer 1, neurons counted from 1, C_x the cost of training input x"
    input_layer = 1
    neuron_base = 1
    sup_style = "plain"

    def weight_matrix(self, l):
        return M("w") + self.sup(l)

    def example(self, i):
        return f"training input x = x{sub_text(str(i + 1))} (row {i} of X)"

    def example_cost(self, i):
        return M("C_x", "C_{x}")

    def penalty(self):
        return frac(LAMBDA, "2m") + " " + SUM + M("_w w²", r"_{w} w^2")
