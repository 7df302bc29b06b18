"""3Blue1Brown's notation (chapter 4, "Backpropagation calculus"): layers counted back from the output."""

from __future__ import annotations

from ..mathdoc import M, sub_text
from .base import Notation, _training


class ThreeBlueOneBrown(Notation):
    """3Blue1Brown, chapter 4 ("Backpropagation calculus"): layers counted back from the output
    L (a^(L−1) feeds a^(L)), neurons j, k from 0 (a_0^(L−1)), w_jk^(L), b_j^(L), z^(L), C_0 the
    cost of the first example, C_x of example x and C = (1/m) Σ_x C_x (the video sums over the
    examples with k, its letter for the neurons of layer L−1 too; here k is only a neuron);
    δ^(L) = ∂C_0/∂z^(L) names the video's chain-rule product ∂a/∂z · ∂C/∂a. Single-neuron
    layers drop their subscript, as in the video's chain."""

    key = "3b1b"
    title = "3Blue1Brown"
    summary_parts = ("layers counted back from the output ", M("L"), " (", M("L-1, L-2, ...", r"L - 1, L - 2, \dots"),
                     "), neurons from 0, ", M("C_x", "C_{x}"), " the cost of example ", M("x"), " (", M("C_0", "C_{0}"),
                     " the first)")
    input_layer = 0
    neuron_base = 0
    sup_style = "paren"
    drop_single_index = True

    def layer_label(self, l: int) -> str:
        return "L" if l == self.L else f"L-{self.L - l}"

    def sup(self, l: int) -> M:
        s = self.layer_label(l)
        return M(f"^({s})", f"^{{({s.replace('-', ' - ')})}}" if "-" in s else f"^{{({s})}}")

    def example_index(self, i: int) -> str:
        return str(i)

    def example_cost(self, i: int) -> M:
        return M(f"C{sub_text(str(i))}", f"C_{{{i}}}")

    def example_parts(self, i: int, training: bool = False) -> list:
        return [f"{_training(training)}example ", M(f"x = {i}"), f" (row {i} of X)"]

    def example_tag(self, i: int) -> M:
        return M(f"x={i}", f"x={i}")

    def input_note(self) -> list:
        return ["the input layer"]
