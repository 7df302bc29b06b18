"""Michael Nielsen's notation (*Neural Networks and Deep Learning*): layers and neurons from 1."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..mathdoc import EQ, HAD, LAMBDA, SUM, M, frac, paren, sub_text
from .base import Notation, _training

if TYPE_CHECKING:
    from ...activations import Activation


class Nielsen(Notation):
    """Michael Nielsen, *Neural Networks and Deep Learning*: the input is layer 1, w^l_jk joins
    the k-th neuron of layer l−1 to the j-th of layer l (both counted from 1), b^l_j, z^l, a^l,
    δ^l_j = ∂C/∂z^l_j, C_x the cost of input x and C = (1/n) Σ_x C_x; the weight matrix of
    layer l is w^l. δ^L = ∇_a C ⊙ σ'(z^L) is his equation (BP1); with his ½ quadratic cost
    (``cost="half_quadratic"``) ∇_a C = a^L − y, the ``cost_derivative`` of his network.py.
    He calls the rows of the training data *training inputs*; an explanation does too, only
    when told that its rows are the training split."""

    key = "nielsen"
    title = "Nielsen"
    summary_parts = ("the input is layer 1, neurons counted from 1, ", M("C_x", "C_{x}"), " the cost of input ", M("x"))
    input_layer = 1
    neuron_base = 1
    sup_style = "plain"

    def weight_matrix(self, l: int) -> M:
        return M("w") + self.sup(l)

    def example_parts(self, i: int, training: bool = False) -> list:
        return [f"{_training(training)}input ", M(f"x = x{sub_text(str(i + 1))}", f"x = x_{{{i + 1}}}"), f" (row {i} of X)"]

    def example_cost(self, i: int) -> M:
        return M("C_x", "C_{x}")

    def penalty(self) -> M:
        return frac(LAMBDA, "2m") + " " + SUM + M("_w w²", r"_{w} w^2")

    def output_error_form(self, grad_a: M | None, g: Activation, L: int) -> tuple[M, list]:
        """(BP1): δ^L = ∇_a C ⊙ σ'(z^L), then ∇_a C spelled out, e.g. (a^L − y) ⊙ σ'(z^L)."""
        factor = self.act_prime(g, L) + paren(self.z(L))
        form = M("∇_a C_x", r"\nabla_a C_x") + HAD + factor
        if grad_a is not None:
            form = form + EQ + grad_a + HAD + factor
        return form, [" (BP1)"]
