"""Andrew Ng's *Deep Learning Specialization* notation: W^[l], dz^[l], examples as columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ..mathdoc import EQ, LAMBDA, PLUS, SUM, TRANSPOSE, Code, M, frac, matrix, of_example, paren, shape, shapes_of
from .base import Notation, _training

if TYPE_CHECKING:
    import numpy as np

    from ...activations import Activation


class NgDL(Notation):
    """Andrew Ng, *Deep Learning Specialization*: the input is A^[0] = X, W^[l] of shape
    (n^[l], n^[l−1]) and b^[l], examples are the *columns* (X is (n_x, m)), Z^[l] = W^[l] A^[l−1]
    + b^[l]; for one example dz^[l] = ∂ℒ/∂z^[l] (dZ^[l] stacks them as columns), dA^[l−1] =
    W^[l]ᵀ dZ^[l], dW^[l] = (1/m) dZ^[l] A^[l−1]ᵀ, db^[l] = (1/m) Σ_i dZ^[l](i); ℒ^(i) is the loss
    of example (i) and J = (1/m) Σ_i ℒ^(i). Units j, k count from 1; i is only ever the
    example (the sum over paths runs over units p)."""

    key = "ng-dl"
    title = "Ng DL"
    summary_parts = ("the input is ", M("A^[0] = X", "A^{[0]} = X"), ", examples are columns, units counted from 1, examples ",
                     M("(i)"), " from 1")
    input_layer = 0
    neuron_base = 1
    sup_style = "bracket"
    columns_are_examples = True
    example_letter = "i"
    path_index = "p"

    def weight(self, l: int, j: int | str, k: int | str) -> M:
        return M("W") + self.sup(l) + self._pair(l, j, k)

    def delta(self, l: int, j: int | str | None = None) -> M:
        return M("dz") + self.sup(l) + self._one(l, j)

    def cost(self) -> M:
        return M("J")

    def batch_cost(self) -> M:
        return frac("1", "m") + " " + SUM + M("_i ℒ^(i)", r"_{i} \mathcal{L}^{(i)}")

    def penalty(self) -> M:
        return frac(LAMBDA, "2m") + " " + SUM + M("_l ‖W^[l]‖²_F", r"_{l} \lVert W^{[l]} \rVert_F^2")

    def example_cost(self, i: int) -> M:
        return M("ℒ^(i)", r"\mathcal{L}^{(i)}")

    def example_parts(self, i: int, training: bool = False) -> list:
        return [f"{_training(training)}example ", M("(i)"), " with ", M(f"i = {i + 1}"),
                f" (column {i + 1} of X, row {i} of deltaprop's X)"]

    def example_tag(self, i: int) -> M:
        return M(f"i={i + 1}", f"i={i + 1}")

    def batch_grad_name(self, kind: str, l: int, j: int | str, k: int | str | None = None) -> M:
        if kind == "bias":
            return M("db") + self.sup(l) + self.sub(j)
        return M("dW") + self.sup(l) + self.sub(j, k)

    def act(self, g: Activation, l: int) -> M:
        return super().act(g, l) if g.name == "softmax" else M("g") + self.sup(l)

    def input_note(self) -> list:
        return ["the input ", M("x = a^[0]", "x = a^{[0]}")]

    def recurrence_form(self, l: int, g: Activation) -> list:
        n, n_next = self.sizes[l], self.sizes[l + 1]
        dA = M("dA") + self.sup(l)
        dZ_next = M("dZ") + self.sup(l + 1)
        T = paren(M("W") + self.sup(l + 1)) + TRANSPOSE
        return [
            ["matrix form, examples as columns: ", dA + EQ + T + " " + dZ_next, ", ",
             M("dZ") + self.sup(l) + EQ + dA + M(" * ", r" * ") + self.act_prime(g, l) + paren(M("Z") + self.sup(l))],
            ["shapes: ", *shapes_of((dA, (n, "m")), (T, (n, n_next)), (dZ_next, (n_next, "m"))),
             ": the transpose of ", M("W") + self.sup(l + 1), " ", shape(n_next, n),
             " carries the errors of layer ", self.layer(l + 1), " back to layer ", self.layer(l)],
        ]

    def weight_grad_form(self, l: int, l2: bool) -> list:
        n, n_prev = self.sizes[l], self.sizes[l - 1]
        form = self.weight_matrix_grad(l) + EQ + frac("1", "m") + " " + M("dZ") + self.sup(l) + " " + paren(M("A") + self.sup(l - 1)) + TRANSPOSE
        if l2:
            form = form + PLUS + frac(LAMBDA, "m") + " " + M("W") + self.sup(l)
        shapes = shapes_of((M("dZ") + self.sup(l), (n, "m")), (paren(M("A") + self.sup(l - 1)) + TRANSPOSE, ("m", n_prev)),
                           (self.weight_matrix_grad(l), (n, n_prev)))
        return [[form], ["shapes: ", *shapes]]

    def bias_grad_form(self, l: int) -> list:
        return [[M("db") + self.sup(l) + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " " + of_example(M("dZ") + self.sup(l)),
                 ", ", Code("np.sum(dZ, axis=1, keepdims=True) / m"), ", shape ", shape(self.sizes[l], 1)]]

    # -- examples as columns in an explanation ---------------------------------------------
    def batch_average_line(self, kind: str, l: int, j: int, k: int | None, dz: M | None, l2: bool) -> list:
        dZ = M("dZ") + self.sup(l)
        if kind == "bias":
            return [self.batch_grad_name("bias", l, j) + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " "
                    + dZ + self.sub(j, "i")]
        A_prev = M("A") + self.sup(l - 1)
        return [self.batch_grad_name("weight", l, j, k) + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " "
                + dZ + self.sub(j, "i") + " " + A_prev + self.sub(k, "i"),
                EQ + frac("1", "m") + M(" (dZ", " (dZ") + self.sup(l) + " " + paren(A_prev) + TRANSPOSE + M(")") + self.sub(j, k)]

    def errors_display(self, l: int, delta: np.ndarray) -> tuple[list, M]:
        m, n_l = delta.shape
        return [M("dZ") + self.sup(l) + " " + shape(n_l, m), ", examples as columns:"], matrix(delta.T)

    def weight_matrix_grad(self, l: int) -> M:
        return M("dW") + self.sup(l)
