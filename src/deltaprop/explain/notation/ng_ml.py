"""Andrew Ng's *Machine Learning* notation: Θ^(l) with the bias as column 0, layers from 1."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..mathdoc import (
    ARROW,
    CDOT,
    EQ,
    LAMBDA,
    PLUS,
    SUM,
    THETA,
    TRANSPOSE,
    M,
    frac,
    matrix,
    num,
    of_example,
    paren,
    shape,
    sub_text,
)
from .base import Notation, _training

if TYPE_CHECKING:
    from ...activations import Activation
    from ..mathdoc import Code


class NgML(Notation):
    """Andrew Ng, *Machine Learning* (Coursera): layers 1..L with the input a^(1) = x; Θ^(l)
    maps layer l to layer l+1 and has a bias column: Θ^(l) is s_{l+1} × (s_l + 1), column 0
    multiplies the bias unit a_0^(l) = 1, so the bias of unit j is Θ^(l)_{j,0} (no separate b)
    and z^(l+1) = Θ^(l) a^(l) with the bias unit prepended to a^(l). Units j, k count from 1;
    i is the example (cost(i), the superscript (i)) and never a unit: the sum over paths runs
    over units p. δ^(l), the accumulator Δ^(l) = Σ_i δ^(l+1) (a^(l))ᵀ, D^(l) = ∂J/∂Θ^(l)
    = (1/m) Δ^(l) + (λ/m) Θ^(l) (column 0 unregularised), J(Θ)."""

    key = "ng-ml"
    title = "Ng ML"
    summary_parts = (
        "the input is layer 1, ", M("Θ^(l)", r"\Theta^{(l)}"), " maps layer ", M("l"), " to ", M("l+1"),
        " with the bias as column 0 (bias unit ", M("a_0^(l) = 1", "a_0^{(l)} = 1"), "), units counted from 1, examples ",
        M("(i)"), " from 1",
    )
    input_layer = 1
    neuron_base = 1
    sup_style = "paren"
    example_letter = "i"
    path_index = "p"

    def weight(self, l: int, j: int | str, k: int | str) -> M:
        # W^l maps engine layer l−1 (course layer l) to engine layer l: that is Θ^(l).
        return THETA + self.sup(l - 1) + self.sub(j, k)

    def bias(self, l: int, j: int | str) -> M:
        return THETA + self.sup(l - 1) + M(sub_text(f"{self.index(j)},0"), f"_{{{self.index(j)},0}}")

    def weight_matrix(self, l: int) -> M:
        return THETA + self.sup(l - 1)

    def bias_vector(self, l: int) -> M:
        return THETA + self.sup(l - 1) + M("_{:,0}", "_{:,0}")

    def bias_unit(self, l: int) -> M:
        """a_0^(l) = 1, the bias unit of (engine) layer l."""
        return M("a") + self.sup(l) + M("_0", "_{0}")

    def cost(self) -> M:
        return M("J(Θ)", r"J(\Theta)")

    def example_cost(self, i: int) -> M:
        return M("cost(i)", r"\mathrm{cost}(i)")

    def batch_cost(self) -> M:
        return frac("1", "m") + " " + SUM + M("_i cost(i)", r"_{i} \mathrm{cost}(i)")

    def penalty(self) -> M:
        return frac(LAMBDA, "2m") + " " + SUM + M("_l Σ_j Σ_{k≥1} (Θ^(l)_{j,k})²", r"_{l} \sum_{j} \sum_{k \geq 1} (\Theta^{(l)}_{j,k})^2")

    def example_parts(self, i: int, training: bool = False) -> list:
        return [f"{_training(training)}example ", M("(i)"), " with ", M(f"i = {i + 1}"),
                f" (row {i} of X; examples count from 1)"]

    def example_tag(self, i: int) -> M:
        return M(f"i={i + 1}", f"i={i + 1}")

    def _column(self, kind, k) -> str:
        """The column of Θ a parameter sits in: 0 for a bias, k (from 1) for a weight."""
        return "0" if kind == "bias" else self.index(k)

    def batch_grad_name(self, kind: str, l: int, j: int | str, k: int | str | None = None) -> M:
        idx = f"{self.index(j)},{self._column(kind, k)}"
        return M("D") + self.sup(l - 1) + M(sub_text(idx), f"_{{{idx}}}")

    def accumulator(self, l: int, j: int | str, col: str) -> M:
        idx = f"{self.index(j)},{col}"
        return M("Δ", r"\Delta") + self.sup(l - 1) + M(sub_text(idx), f"_{{{idx}}}")

    def act(self, g: Activation, l: int) -> M:
        return super().act(g, l) if g.name == "softmax" else M("g")

    def input_note(self) -> list:
        return ["the input ", M("x = a^(1)", "x = a^{(1)}")]

    def recurrence_form(self, l: int, g: Activation) -> list:
        s, s_next = self.sizes[l], self.sizes[l + 1]
        T = paren(self.weight_matrix(l + 1)) + TRANSPOSE
        form = self.delta(l) + EQ + T + " " + self.delta(l + 1) + M(" .* ", r" \mathbin{.*} ") + M("g'") + paren(self.z(l))
        return [
            ["matrix form, one example as a column vector: ", form],
            ["shapes: ", T, " is ", shape(s + 1, s_next), " (", THETA, " has the bias column), so ", T + " " + self.delta(l + 1),
             " has ", str(s + 1), " rows; the row of the bias unit ",
             self.bias_unit(l) + EQ + "1", " is dropped, leaving ", M(f"{s} = s") + M(sub_text(self.layer_label(l)), f"_{{{self.layer_label(l)}}}")],
        ]

    def weight_grad_form(self, l: int, l2: bool) -> list:
        s, s_prev = self.sizes[l], self.sizes[l - 1]
        D = M("D") + self.sup(l - 1)
        Delta = M("Δ", r"\Delta") + self.sup(l - 1)
        acc = Delta + M(" := ", " := ") + Delta + PLUS + self.delta(l) + " " + paren(self.a(l - 1)) + TRANSPOSE
        lines = [
            ["for ", M("i = 1..m", r"i = 1, \dots, m"), ": ", acc, " with ", self.a(l - 1), " including the bias unit ",
             self.bias_unit(l - 1) + EQ + "1", ": ", shape(s, 1) + " " + shape(1, s_prev + 1) + ARROW + shape(s, s_prev + 1)],
        ]
        jk = M("_{j,k}", "_{j,k}")
        reg = (PLUS + frac(LAMBDA, "m") + " " + self.weight_matrix(l) + jk) if l2 else M("")
        lines.append([D + jk + EQ + frac("1", "m") + " " + Delta + jk + reg,
                      *([" (for ", M("k ≥ 1", r"k \geq 1"), "; column ", M("k = 0"), ", the bias, is not regularised)"]
                        if l2 else [" (column 0 is the bias)"])])
        return lines

    def bias_grad_form(self, l: int) -> list:
        return [["the bias gradients are column 0 of ", M("D") + self.sup(l - 1), ": ",
                 M("D") + self.sup(l - 1) + M("_{j,0}", "_{j,0}") + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " "
                 + of_example(self.delta(l, "j")), " (the bias unit is 1 for every example)"]]

    # -- the bias column in an explanation -------------------------------------------------
    def describe_parameter(self, kind: str, l: int, j: int, k: int | None, ref: Code) -> list:
        param = self.parameter(kind, l, j, k)
        if kind == "weight":
            return [param, " is ", ref, ": column ", self.index(k), " of ", self.weight_matrix(l), " ",
                    self.weight_matrix_shape(l), " (column 0 is the bias column); it joins unit ",
                    self.index(k), " of layer ", self.layer(l - 1), " to unit ", self.index(j), " of layer ", self.layer(l)]
        return [param, " is ", ref, ": the bias of unit ", self.index(j), " of layer ", self.layer(l),
                ", column 0 of ", self.weight_matrix(l), " ", self.weight_matrix_shape(l),
                ", which multiplies the bias unit ", self.bias_unit(l - 1) + EQ + "1"]

    def weight_matrix_shape(self, l: int) -> M:
        """Θ has the bias column: s_{l+1} × (s_l + 1)."""
        return shape(self.sizes[l], self.sizes[l - 1] + 1)

    def z_vector_form(self, q: int) -> tuple[M, list]:
        """z^(l+1) = Θ^(l) a^(l), a^(l) with its bias unit: (s_{l+1} × (s_l + 1)) times (s_l + 1)."""
        s, s_prev = self.sizes[q], self.sizes[q - 1]
        return self.weight_matrix(q) + " " + self.a(q - 1), [
            " (", self.a(q - 1), " with the bias unit ", self.bias_unit(q - 1) + EQ + "1", " prepended: ",
            shape(s, s_prev + 1) + " " + shape(s_prev + 1) + ARROW + shape(s), ")"]

    def z_line(self, q: int, j: int | str, value: float) -> list:
        return [self.z(q, j) + EQ + self._weighted_sum(q, j) + EQ + num(value),
                " (", M("k"), " from 0: ", self.bias_unit(q - 1) + EQ + "1", " brings the bias)"]

    def batch_average_line(self, kind: str, l: int, j: int, k: int | None, dz: M | None, l2: bool) -> list:
        factor = of_example(dz) + CDOT if dz is not None else M("")
        return [self.batch_sum(kind, l, j, k) + EQ + SUM + M("_i", "_{i}") + " " + factor
                + of_example(self.delta(l, j)), ": the accumulator over the examples ", M("i = 1..m", r"i = 1, \dots, m")]

    def batch_sum(self, kind: str, l: int, j: int, k: int | None) -> M:
        return self.accumulator(l, j, self._column(kind, k))

    def weight_gradient_display(self, l: int, grad_W: np.ndarray, grad_b: np.ndarray) -> tuple[list, M]:
        D = np.concatenate([grad_b[:, None], grad_W], axis=1)
        return [M("D") + self.sup(l - 1) + " " + self.weight_matrix_shape(l), ", column 0 the bias:"], matrix(D)
