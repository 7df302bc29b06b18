"""The ``Notation`` base class: one course's symbols for the engine's coordinates.

deltaprop stores W^l = ``net.weights[l-1]`` of shape (n_l, n_{l−1}), ``W[j, k]`` joining neuron
k of layer l−1 to neuron j of layer l, with the input as layer 0 and Python (0-based) neuron
indices. A preset translates those *engine coordinates* (layer ``l`` in 0..L, neurons ``j``,
``k`` from 0, example ``i`` from 0) into one course's symbols. The base class holds the symbol
logic every course shares (w, b, z, a, δ with a layer superscript and neuron subscripts, C as
the cost) and the pieces of an explanation in which courses differ (how a parameter is
described, the z line, the batch average, the layer view's matrices); each preset module
overrides what its course names or lays out differently.

Index letters
-------------
One letter never means two things in one derivation. Neurons are j (a neuron of layer l, and
the output neurons in the cost and in δ^L) and k (a neuron of layer l−1, the column of W^l);
j′ is a second output neuron (softmax's Jacobian); ``path_index`` counts the neurons of layer
l+1 in the sum over paths; ``example_letter`` counts the examples (Σ_x C_x, and the tags of the
per-example terms) and is never a neuron index; l counts layers (Σ_l ‖W^l‖²).

Training rows
-------------
An explanation calls a row of X a *training* example (Nielsen: a training input) only when it
is told that the rows are the training split (``Derivation.training``); otherwise it says
example.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from ..mathdoc import (
    ARROW,
    DELTA,
    EQ,
    HAD,
    LAMBDA,
    PLUS,
    SIGMA,
    SUM,
    TRANSPOSE,
    Code,
    M,
    frac,
    matrix,
    num,
    paren,
    partial,
    shape,
    shapes_of,
    sub_text,
    sup_text,
)

if TYPE_CHECKING:
    from ...activations import Activation


class Notation:
    """The symbols of one course, for a network with layer sizes ``sizes`` (engine numbering:
    input layer 0, output layer L = len(sizes) − 1; neurons and examples from 0).

    Subclasses set the class attributes and override the symbols that differ."""

    key = ""
    title = ""
    #: One line on the conventions, shown in every explanation's header: prose (str) and
    #: symbols (``M``), so that Markdown typesets the symbols (``summary`` is its text).
    summary_parts: tuple = ()
    #: The number the course gives the input layer, and its first neuron.
    input_layer = 0
    neuron_base = 0
    #: How a layer appears as a superscript: "paren" ^(l), "bracket" ^[l], "plain" ^l.
    sup_style = "paren"
    #: Drop a neuron subscript when the layer has a single neuron (3Blue1Brown's chain).
    drop_single_index = False
    #: Columns are examples (Ng DL) rather than rows (the engine) or single vectors.
    columns_are_examples = False
    #: The letter of the example in sums over the batch and lists of per-example terms.
    example_letter = "x"
    #: The letter of a neuron of layer l+1 in the sum over paths δ^l_j = Σ_i w_ij δ_i g'(z_j).
    path_index = "i"

    def __init__(self, sizes: Sequence[int]):
        self.sizes = [int(s) for s in sizes]
        self.L = len(self.sizes) - 1

    @property
    def summary(self) -> str:
        return "".join(p if isinstance(p, str) else p.text for p in self.summary_parts)

    # -- numbering ------------------------------------------------------------------------
    def layer_label(self, l: int) -> str:
        """The course's name for engine layer l (0 = input, L = output)."""
        return str(l + self.input_layer)

    def layer(self, l: int) -> str | M:
        """``layer_label`` for prose: a number as it is ("layer 2"), a symbol as math
        ("layer $L - 1$" in Markdown)."""
        s = self.layer_label(l)
        return s if s.isdigit() else M(s, s.replace("-", " - "))

    def sup(self, l: int) -> M:
        s = self.layer_label(l)
        if self.sup_style == "bracket":
            return M(f"^[{s}]", f"^{{[{s}]}}")
        if self.sup_style == "plain":
            return M(sup_text(s), f"^{{{s}}}")
        return M(f"^({s})", f"^{{({s})}}")

    def index(self, j: int | str) -> str:
        """A neuron index as the course counts it (str indices pass through unchanged)."""
        return j if isinstance(j, str) else str(int(j) + self.neuron_base)

    def sub(self, *indices: int | str) -> M:
        labels = [self.index(j) for j in indices]
        text = ",".join(labels)
        return M(sub_text(text), f"_{{{text}}}")

    def example_index(self, i: int) -> str:
        """Example i (a row of X, from 0) as the course counts examples."""
        return str(i + 1)

    def _one(self, l, j) -> M:
        if j is None or (self.drop_single_index and self.sizes[l] == 1):
            return M("")
        return self.sub(j)

    def _pair(self, l, j, k) -> M:
        if self.drop_single_index and self.sizes[l] == 1 and self.sizes[l - 1] == 1:
            return M("")
        return self.sub(j, k)

    # -- symbols (engine coordinates) -----------------------------------------------------
    def weight(self, l: int, j: int | str, k: int | str) -> M:
        """The weight W^l[j, k], from neuron k of layer l−1 to neuron j of layer l."""
        return M("w") + self.sup(l) + self._pair(l, j, k)

    def bias(self, l: int, j: int | str) -> M:
        return M("b") + self.sup(l) + self._one(l, j)

    def weight_matrix(self, l: int) -> M:
        return M("W") + self.sup(l)

    def bias_vector(self, l: int) -> M:
        return M("b") + self.sup(l)

    def z(self, l: int, j: int | str | None = None) -> M:
        return M("z") + self.sup(l) + self._one(l, j)

    def a(self, l: int, j: int | str | None = None) -> M:
        return M("a") + self.sup(l) + self._one(l, j)

    def delta(self, l: int, j: int | str | None = None) -> M:
        """δ^l_j = ∂C_x/∂z^l_j for one example."""
        return DELTA + self.sup(l) + self._one(l, j)

    def y(self, j: int | str | None = None) -> M:
        if j is None or (self.drop_single_index and self.sizes[-1] == 1):
            return M("y")
        return M("y") + self.sub(j)

    def cost(self) -> M:
        """The cost of the batch, averaged over the examples."""
        return M("C")

    def example_cost(self, i: int) -> M:
        """The cost of example i alone."""
        return M("C") + M(sub_text("x"), "_{x}")

    def _example_sum(self) -> M:
        """Σ_x, the sum over the examples of the batch."""
        x = self.example_letter
        return SUM + M(f"_{x}", f"_{{{x}}}")

    def _cost_of(self) -> M:
        """C_x: the cost of example x, x the example letter (the summand of the batch cost)."""
        x = self.example_letter
        return M(f"C_{x}", f"C_{{{x}}}")

    def batch_cost(self) -> M:
        """The batch cost as the average of the examples' costs (without the penalty)."""
        return frac("1", "m") + " " + self._example_sum() + " " + self._cost_of()

    def penalty(self) -> M:
        """The L2 penalty λ/(2m) Σ‖W‖² in the course's symbols (biases excluded)."""
        return frac(LAMBDA, "2m") + " " + SUM + M("_l ‖W^l‖²", r"_{l} \lVert W^{l} \rVert^2")

    def example(self, i: int, training: bool = False) -> str:
        """Prose naming example i (row i of X): a training example only when ``training``."""
        return "".join(p if isinstance(p, str) else p.text for p in self.example_parts(i, training))

    def example_parts(self, i: int, training: bool = False) -> list:
        """``example`` as parts, its symbols as ``M``."""
        return [f"{_training(training)}example ", M("x"), f" (row {i} of X)"]

    def example_tag(self, i: int) -> M:
        """A short label for example i in a list of per-example terms."""
        return M("x" + sub_text(self.example_index(i)), f"x_{{{self.example_index(i)}}}")

    def grad(self, of: M, wrt: M) -> M:
        return partial(of, wrt)

    def batch_grad_name(self, kind: str, l: int, j: int | str, k: int | str | None = None) -> M | None:
        """A course's own name for the averaged gradient (D, dW), or None."""
        return None

    def act(self, g: Activation, l: int) -> M:
        """The activation function of engine layer l."""
        if g.name == "softmax":
            return M("softmax", r"\operatorname{softmax}")
        if g.name == "sigmoid":
            return SIGMA
        return M(_ACT_NAMES.get(g.name, g.name), r"\operatorname{" + _ACT_NAMES.get(g.name, g.name) + "}")

    def act_prime(self, g: Activation, l: int) -> M:
        base = self.act(g, l)
        # g^{[1]}' would be a double superscript in LaTeX; prime the braced group instead
        latex = "{" + base.latex + "}'" if "^" in base.latex else base.latex + "'"
        return M(base.text + "'", latex)

    def input_note(self) -> list:
        """Parts of the note on an input a_k: what the course calls the input layer."""
        return ["the input ", M("x")]

    # -- matrix forms -----------------------------------------------------------------------
    def recurrence_form(self, l: int, g: Activation) -> list:
        """Lines (lists of parts) for δ^l from δ^{l+1} in the course's matrix form, with shapes."""
        n, n_next = self.sizes[l], self.sizes[l + 1]
        Wt = paren(self.weight_matrix(l + 1)) + TRANSPOSE
        form = (
            self.delta(l) + EQ + paren(Wt + " " + self.delta(l + 1)) + HAD + self.act_prime(g, l)
            + paren(self.z(l))
        )
        prime = self.act_prime(g, l) + paren(self.z(l))
        shapes = shapes_of((self.delta(l), (n,)), (Wt, (n, n_next)), (self.delta(l + 1), (n_next,)), (prime, (n,)))
        return [
            ["matrix form, one example as a column vector: ", form],
            ["shapes: ", *shapes, ": the transpose of ", self.weight_matrix(l + 1), " ",
             shape(n_next, n), " sends the errors of layer ", self.layer(l + 1),
             " back to layer ", self.layer(l)],
        ]

    def weight_grad_form(self, l: int, l2: bool) -> list:
        """Lines for the gradient of the whole W^l over a batch of m examples, with shapes."""
        n, n_prev = self.sizes[l], self.sizes[l - 1]
        per_example = self.delta(l) + " " + paren(self.a(l - 1)) + TRANSPOSE
        form = self.grad(self.cost(), self.weight_matrix(l)) + EQ + frac("1", "m") + " " + self._example_sum() + " " + per_example
        if l2:
            form = form + PLUS + frac(LAMBDA, "m") + " " + self.weight_matrix(l)
        return [
            [form],
            ["each example adds an outer product ", shape(n, 1), " ", shape(1, n_prev), ARROW, shape(n, n_prev)],
        ]

    def bias_grad_form(self, l: int) -> list:
        return [[self.grad(self.cost(), self.bias_vector(l)) + EQ + frac("1", "m") + " " + self._example_sum() + " " + self.delta(l)]]

    # -- how a course lays out an explanation ------------------------------------------------
    def parameter(self, kind: str, l: int, j: int | str, k: int | str | None = None) -> M:
        """The weight W^l[j, k] (``kind="weight"``) or the bias b^l[j] (``kind="bias"``)."""
        return self.weight(l, j, k) if kind == "weight" else self.bias(l, j)

    def describe_parameter(self, kind: str, l: int, j: int, k: int | None, ref: Code) -> list:
        """Parts of the sentence saying which array entry ``ref`` the parameter is, and where it sits."""
        param = self.parameter(kind, l, j, k)
        if kind == "weight":
            return [param, " is ", ref, f": it joins neuron {self.index(k)} of layer ", self.layer(l - 1),
                    f" to neuron {self.index(j)} of layer ", self.layer(l)]
        return [param, " is ", ref, f": the bias of neuron {self.index(j)} of layer ", self.layer(l)]

    def weight_matrix_shape(self, l: int) -> M:
        """The shape of the course's weight matrix of engine layer l: (n_l × n_{l−1})."""
        return shape(self.sizes[l], self.sizes[l - 1])

    def bias_unit(self, l: int) -> M | None:
        """The constant input a_0 = 1 of layer l that carries the bias, or None where the bias is
        a separate b (every course but Ng ML)."""
        return None

    def dz_dtheta(self, kind: str, l: int, k: int | str | None) -> M | None:
        """∂z_j^l/∂θ as a symbol: a_k^{l−1} for a weight; for a bias the bias unit, or None for
        the factor 1."""
        return self.a(l - 1, k) if kind == "weight" else self.bias_unit(l - 1)

    def _weighted_sum(self, q: int, j) -> M:
        """Σ_k w^q_{j,k} a^{q−1}_k."""
        return SUM + M("_k", "_{k}") + " " + self.weight(q, j, "k") + " " + self.a(q - 1, "k")

    def z_vector_form(self, q: int) -> tuple[M, list]:
        """z^q = W^q a^{q−1} + b^q for the whole layer q: the right-hand side, and the parts of a
        note on it (none here)."""
        return self.weight_matrix(q) + " " + self.a(q - 1) + PLUS + self.bias_vector(q), []

    def output_error_form(self, grad_a: M | None, g: Activation, L: int) -> tuple[M, list] | None:
        """δ^L in vector form for the general case δ^L = ∂C_x/∂a^L ⊙ g'(z^L): the right-hand
        side and the parts of a note, ``grad_a`` being the cost's ∂C_x/∂a^L in vector symbols
        (None where the cost states none); None where the course shows δ^L only neuron by
        neuron (every preset but Nielsen's)."""
        return None

    def z_line(self, q: int, j: int | str, value: float) -> list:
        """Parts of the line z^q_j = Σ_k w^q_{j,k} a^{q−1}_k + b^q_j = value (layer q−1 has more
        than one neuron)."""
        return [self.z(q, j) + EQ + self._weighted_sum(q, j) + PLUS + self.bias(q, j) + EQ + num(value)]

    def batch_average_line(self, kind: str, l: int, j: int, k: int | None, dz: M | None, l2: bool) -> list:
        """Parts of the line that writes the batch gradient as an average over the examples
        (``dz`` = ``dz_dtheta``; ``l2``: the (λ/m) w term applies)."""
        param = self.parameter(kind, l, j, k)
        return [self.grad(self.cost(), param) + EQ + frac("1", "m") + " " + self._example_sum() + " "
                + self.grad(self._cost_of(), param) + (PLUS + frac(LAMBDA, "m") + " " + param if l2 else M("")),
                ": every example adds its own term"]

    def batch_sum(self, kind: str, l: int, j: int, k: int | None) -> M:
        """The symbol of the sum of the examples' terms in the batch average."""
        return M("Σ", r"\Sigma")

    def errors_display(self, l: int, delta: np.ndarray) -> tuple[list, M]:
        """δ^l of every example (engine ``delta`` (m, n_l), a row per example): the line that
        introduces the matrix, and the matrix as the course lays it out."""
        m, n_l = delta.shape
        return [self.delta(l), " for every example, one row each ", shape(m, n_l), ", ", Code(f"deltas[{l - 1}]"), ":"], matrix(delta)

    def weight_matrix_grad(self, l: int) -> M:
        """The symbol of the gradient of the whole weight matrix of layer l."""
        return self.grad(self.cost(), self.weight_matrix(l))

    def weight_gradient_display(self, l: int, grad_W: np.ndarray, grad_b: np.ndarray) -> tuple[list, M]:
        """∂C/∂W^l (engine ``grad_W`` (n_l, n_{l−1})): the line that introduces it, and the matrix."""
        return [self.weight_matrix_grad(l) + " " + self.weight_matrix_shape(l), ":"], matrix(grad_W)



def _training(training: bool) -> str:
    """"training " before the word example when the rows are the training split, else nothing."""
    return "training " if training else ""


_ACT_NAMES = {"tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU", "identity": "id", "softmax": "softmax"}
