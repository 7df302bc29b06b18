"""Notation presets: the same parameter named the way each course names it.

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

Every symbol comes in two spellings, an ``M`` with ``.text`` for the terminal (readable ASCII
super/subscripts such as ``w^(L-1)_{2,0}`` plus a few Unicode letters: δ Θ σ Σ ∂) and ``.latex``
for Markdown (``w^{(L-1)}_{2,0}``). ``Doc`` is the small document model both the explanation
and the layer view are written in; it renders to plain text or to Markdown with ``$...$``.
"""

from __future__ import annotations

import re

import numpy as np

__all__ = [
    "M",
    "Code",
    "Doc",
    "num",
    "vector",
    "matrix",
    "Notation",
    "ThreeBlueOneBrown",
    "Nielsen",
    "NgML",
    "NgDL",
    "NOTATIONS",
    "get_notation",
    "notation_table",
]


# ---------------------------------------------------------------------------- two spellings
class M:
    """A piece of mathematics in two spellings: ``text`` (terminal) and ``latex`` (Markdown).

    ``M + M`` and ``M + str`` concatenate both spellings (a str is the same in both)."""

    __slots__ = ("text", "latex")

    def __init__(self, text: str, latex: str | None = None):
        self.text = text
        self.latex = text if latex is None else latex

    def __add__(self, other):
        other = as_m(other)
        return M(self.text + other.text, self.latex + other.latex)

    def __radd__(self, other):
        other = as_m(other)
        return M(other.text + self.text, other.latex + self.latex)

    def __repr__(self):
        return f"M({self.text!r}, {self.latex!r})"


def as_m(x) -> M:
    """M for an M, a str (same spelling in both) or a number (``num``)."""
    if isinstance(x, M):
        return x
    if isinstance(x, str):
        return M(x)
    return num(x)


def join(parts, sep) -> M:
    """The parts joined by ``sep`` (both spellings)."""
    out = M("")
    for n, p in enumerate(parts):
        out = out + (sep if n else "") + p
    return out


def paren(x) -> M:
    return "(" + as_m(x) + ")"


def sup_text(s: str) -> str:
    """``^3`` for one character, ``^{12}`` otherwise (plain text)."""
    return f"^{s}" if len(s) == 1 else f"^{{{s}}}"


def sub_text(s: str) -> str:
    return f"_{s}" if len(s) == 1 else f"_{{{s}}}"


_NUMBER = re.compile(r"-?[0-9.]+(e[-+]?[0-9]+)?")

#: Operators and letters.
EQ = M(" = ")
APPROX = M(" ≈ ", r" \approx ")
CDOT = M(" · ", r" \cdot ")
HAD = M(" ⊙ ", r" \odot ")
PLUS = M(" + ")
MINUS = M(" − ", " - ")
TIMES = M(" × ", r" \times ")
SUM = M("Σ", r"\sum")
TRANSPOSE = M("ᵀ", r"^{\top}")
ELLIPSIS = M("…", r"\dots")
PARTIAL = M("∂", r"\partial ")
EPS = M("ε", r"\varepsilon")
LAMBDA = M("λ", r"\lambda")
SIGMA = M("σ", r"\sigma")
DELTA = M("δ", r"\delta")
THETA = M("Θ", r"\Theta")
ARROW = M(" → ", r" \to ")


def frac(top, bottom) -> M:
    """top/bottom, or \\frac{top}{bottom}."""
    top, bottom = as_m(top), as_m(bottom)
    t_top = top.text if _atomic(top.text) else f"({top.text})"
    t_bottom = bottom.text if _atomic(bottom.text) else f"({bottom.text})"
    return M(f"{t_top}/{t_bottom}", rf"\frac{{{top.latex}}}{{{bottom.latex}}}")


def _atomic(text: str) -> bool:
    """True for one symbol or one number (needs no parentheses around it in a/b)."""
    return len(text) == 1 or text.isalpha() or text.isdigit() or bool(_NUMBER.fullmatch(text))


def of_example(symbol, tag: str = "i") -> M:
    """symbol(i) / {symbol}^{(i)}: a per-example value, braced so LaTeX has one superscript."""
    symbol = as_m(symbol)
    return M(f"{symbol.text}({tag})", f"{{{symbol.latex}}}^{{({tag})}}")


def partial(of, wrt) -> M:
    """∂of/∂wrt."""
    of, wrt = as_m(of), as_m(wrt)
    return M(f"∂{of.text}/∂{wrt.text}", rf"\frac{{\partial {of.latex}}}{{\partial {wrt.latex}}}")


def shape(*dims) -> M:
    """(3 × 5)."""
    return M("(" + " × ".join(str(d) for d in dims) + ")", r"(" + r" \times ".join(str(d) for d in dims) + ")")


# ---------------------------------------------------------------------------- numbers
#: Significant digits of intermediate numbers; the final gradient is shown with FINAL_DIGITS.
DIGITS = 6
FINAL_DIGITS = 12


def num(x, digits: int = DIGITS, wrap: bool = False) -> M:
    """A number: ``-0.0123`` / ``1.2e-07`` in text, ``1.2 \\times 10^{-7}`` in LaTeX.

    ``wrap=True`` puts a negative number in parentheses (for products: 0.5 · (-0.2))."""
    x = float(x)
    s = f"{x:.{digits}g}"
    latex = s
    if "e" in s:
        mantissa, exponent = s.split("e")
        latex = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    if wrap and s.startswith("-"):
        return M(f"({s})", rf"({latex})")
    return M(s, latex)


def vector(values, digits: int = DIGITS, max_items: int = 10) -> M:
    """[0.1, -0.2, …, 0.3]; with more than ``max_items`` entries the middle is elided."""
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    if n <= max_items:
        shown = [num(v, digits) for v in values]
    else:
        head = [num(v, digits) for v in values[: max_items - 2]]
        shown = head + [M(f"… ({n - max_items + 1} more) …", r"\dots"), num(values[-1], digits)]
    inner = join(shown, ", ")
    return M("[" + inner.text + "]", r"\left[" + inner.latex + r"\right]")


def matrix(values, digits: int = 4, max_rows: int = 6, max_cols: int = 6) -> M:
    """A matrix, large ones with their middle elided (⋯, ⋮); text is one line per row."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    n_rows, n_cols = values.shape

    def pick(n, limit):
        if n <= limit:
            return list(range(n))
        return list(range(limit - 2)) + [None, n - 1]

    rows, cols = pick(n_rows, max_rows), pick(n_cols, max_cols)
    cells = [
        [("⋮" if r is None else "⋯") if (r is None or c is None) else f"{values[r, c]:.{digits}g}" for c in cols]
        for r in rows
    ]
    width = max(len(c) for row in cells for c in row)
    text = "\n".join("[ " + "  ".join(c.rjust(width) for c in row) + " ]" for row in cells)

    def cell_latex(r, c):
        if r is None and c is None:
            return r"\ddots"
        if r is None:
            return r"\vdots"
        if c is None:
            return r"\cdots"
        return num(values[r, c], digits).latex

    latex_rows = [" & ".join(cell_latex(r, c) for c in cols) for r in rows]
    latex = r"\begin{bmatrix}" + r" \\ ".join(latex_rows) + r"\end{bmatrix}"
    return M(text, latex)


# ---------------------------------------------------------------------------- documents
class Code:
    """Inline code (an engine reference such as ``net.weights[1][2, 0]``)."""

    __slots__ = ("code",)

    def __init__(self, code: str):
        self.code = code


def _render_parts(parts, markdown: bool) -> str:
    """Prose as is, math as text or ``$latex$``; adjacent math parts share one ``$...$``."""
    out, math = [], []

    def flush():
        if math:
            out.append("$" + "".join(math) + "$")
            math.clear()

    for p in parts:
        if isinstance(p, (int, float, np.floating, np.integer)):
            p = num(p)
        if isinstance(p, M):
            if markdown:
                math.append(p.latex)
            else:
                out.append(p.text)
            continue
        flush()
        if isinstance(p, Code):
            out.append(f"`{p.code}`" if markdown else p.code)
        else:
            out.append(str(p))
    flush()
    return "".join(out)


class Doc:
    """A list of blocks (title, heading, paragraph, item, block matrix) that renders to
    terminal text (``text()``) or Markdown with LaTeX (``markdown()``).

    Each block is a list of parts: str (prose, the same in both), ``M`` (math: its text, or
    ``$latex$``) and ``Code`` (inline code)."""

    def __init__(self):
        self.blocks: list[tuple[str, int, list]] = []

    def title(self, *parts):
        self.blocks.append(("title", 0, list(parts)))

    def heading(self, *parts):
        self.blocks.append(("heading", 0, list(parts)))

    def para(self, *parts):
        self.blocks.append(("para", 0, list(parts)))

    def item(self, *parts, level: int = 1):
        self.blocks.append(("item", level, list(parts)))

    def display(self, m: M, level: int = 1):
        """A multi-line formula (a matrix): indented lines in text, ``$$...$$`` in Markdown."""
        self.blocks.append(("display", level, [m]))

    def text(self) -> str:
        lines = []
        for kind, level, parts in self.blocks:
            body = _render_parts(parts, markdown=False)
            if kind == "heading":
                lines += ["", body]
            elif kind in ("item", "display"):
                pad = "   " * level
                lines += [pad + line for line in body.split("\n")]
            else:
                lines.append(body)
        return "\n".join(lines) + "\n"

    def markdown(self) -> str:
        lines = []
        previous = None
        for kind, level, parts in self.blocks:
            if previous in ("item", "display") and kind not in ("item", "display"):
                lines.append("")
            if kind == "title":
                lines += [f"#### {_render_parts(parts, True)}", ""]
            elif kind == "heading":
                lines += [f"**{_render_parts(parts, True)}**", ""]
            elif kind == "para":
                lines += [_render_parts(parts, True), ""]
            elif kind == "item":
                lines.append("  " * (level - 1) + "- " + _render_parts(parts, True))
            else:  # display
                lines.append("  " * (level - 1) + "  $$" + parts[0].latex + "$$")
            previous = kind
        while lines and lines[-1] == "":
            lines.pop()
        return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------- presets
class Notation:
    """The symbols of one course, for a network with layer sizes ``sizes`` (engine numbering:
    input layer 0, output layer L = len(sizes) − 1; neurons and examples from 0).

    Subclasses set the class attributes and override the symbols that differ."""

    key = ""
    title = ""
    #: One line on the conventions, shown in every explanation's header.
    summary = ""
    #: The number the course gives the input layer, and its first neuron.
    input_layer = 0
    neuron_base = 0
    #: How a layer appears as a superscript: "paren" ^(l), "bracket" ^[l], "plain" ^l.
    sup_style = "paren"
    #: Drop a neuron subscript when the layer has a single neuron (3Blue1Brown's chain).
    drop_single_index = False
    #: Columns are examples (Ng DL) rather than rows (the engine) or single vectors.
    columns_are_examples = False

    def __init__(self, sizes):
        self.sizes = [int(s) for s in sizes]
        self.L = len(self.sizes) - 1

    # -- numbering ------------------------------------------------------------------------
    def layer_label(self, l: int) -> str:
        """The course's name for engine layer l (0 = input, L = output)."""
        return str(l + self.input_layer)

    def sup(self, l: int) -> M:
        s = self.layer_label(l)
        if self.sup_style == "bracket":
            return M(f"^[{s}]", f"^{{[{s}]}}")
        if self.sup_style == "plain":
            return M(sup_text(s), f"^{{{s}}}")
        return M(f"^({s})", f"^{{({s})}}")

    def index(self, j) -> str:
        """A neuron index as the course counts it (str indices pass through unchanged)."""
        return j if isinstance(j, str) else str(int(j) + self.neuron_base)

    def sub(self, *indices) -> M:
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
    def weight(self, l: int, j, k) -> M:
        """The weight W^l[j, k], from neuron k of layer l−1 to neuron j of layer l."""
        return M("w") + self.sup(l) + self._pair(l, j, k)

    def bias(self, l: int, j) -> M:
        return M("b") + self.sup(l) + self._one(l, j)

    def weight_matrix(self, l: int) -> M:
        return M("W") + self.sup(l)

    def bias_vector(self, l: int) -> M:
        return M("b") + self.sup(l)

    def z(self, l: int, j=None) -> M:
        return M("z") + self.sup(l) + self._one(l, j)

    def a(self, l: int, j=None) -> M:
        return M("a") + self.sup(l) + self._one(l, j)

    def delta(self, l: int, j=None) -> M:
        """δ^l_j = ∂C_x/∂z^l_j for one example."""
        return DELTA + self.sup(l) + self._one(l, j)

    def y(self, j=None) -> M:
        if j is None or (self.drop_single_index and self.sizes[-1] == 1):
            return M("y")
        return M("y") + self.sub(j)

    def cost(self) -> M:
        """The cost of the batch, averaged over the examples."""
        return M("C")

    def example_cost(self, i: int) -> M:
        """The cost of example i alone."""
        return M("C") + M(sub_text("x"), "_{x}")

    def batch_cost(self) -> M:
        """The batch cost as the average of the examples' costs (without the penalty)."""
        return frac("1", "m") + " " + SUM + M("_x C_x", "_{x} C_{x}")

    def penalty(self) -> M:
        """The L2 penalty λ/(2m) Σ‖W‖² in the course's symbols (biases excluded)."""
        return frac(LAMBDA, "2m") + " " + SUM + M("_l ‖W^l‖²", r"_{l} \lVert W^{l} \rVert^2")

    def example(self, i: int) -> str:
        """Prose naming example i (row i of X)."""
        return f"example x = row {i} of X"

    def example_tag(self, i: int) -> M:
        """A short label for example i in a list of per-example terms."""
        return M("x" + sub_text(self.example_index(i)), f"x_{{{self.example_index(i)}}}")

    def grad(self, of: M, wrt: M) -> M:
        return partial(of, wrt)

    def batch_grad_name(self, kind: str, l: int, j, k=None) -> M | None:
        """A course's own name for the averaged gradient (D, dW), or None."""
        return None

    def act(self, g, l: int) -> M:
        """The activation function of engine layer l."""
        if g.name == "softmax":
            return M("softmax", r"\operatorname{softmax}")
        if g.name == "sigmoid":
            return SIGMA
        return M(_ACT_NAMES.get(g.name, g.name), r"\operatorname{" + _ACT_NAMES.get(g.name, g.name) + "}")

    def act_prime(self, g, l: int) -> M:
        base = self.act(g, l)
        # g^{[1]}' would be a double superscript in LaTeX; prime the braced group instead
        latex = "{" + base.latex + "}'" if "^" in base.latex else base.latex + "'"
        return M(base.text + "'", latex)

    def input_note(self) -> str:
        return "the input x"

    # -- matrix forms -----------------------------------------------------------------------
    def recurrence_form(self, l: int, g) -> list:
        """Lines (lists of parts) for δ^l from δ^{l+1} in the course's matrix form, with shapes."""
        n, n_next = self.sizes[l], self.sizes[l + 1]
        Wt = paren(self.weight_matrix(l + 1)) + TRANSPOSE
        form = (
            self.delta(l) + EQ + paren(Wt + " " + self.delta(l + 1)) + HAD + self.act_prime(g, l)
            + paren(self.z(l))
        )
        shapes = shape(n) + EQ + shape(n, n_next) + " " + shape(n_next) + HAD + shape(n)
        return [
            ["matrix form, one example as a column vector: ", form],
            ["shapes: ", shapes, f": the transpose of ", self.weight_matrix(l + 1), " ",
             shape(n_next, n), " sends the errors of layer ", self.layer_label(l + 1),
             " back to layer ", self.layer_label(l)],
        ]

    def weight_grad_form(self, l: int, l2: bool) -> list:
        """Lines for the gradient of the whole W^l over a batch of m examples, with shapes."""
        n, n_prev = self.sizes[l], self.sizes[l - 1]
        per_example = self.delta(l) + " " + paren(self.a(l - 1)) + TRANSPOSE
        form = self.grad(self.cost(), self.weight_matrix(l)) + EQ + frac("1", "m") + " " + SUM + M("_x", "_{x}") + " " + per_example
        if l2:
            form = form + PLUS + frac(LAMBDA, "m") + " " + self.weight_matrix(l)
        return [
            [form],
            ["each example adds an outer product ", shape(n, 1), " ", shape(1, n_prev), ARROW, shape(n, n_prev)],
        ]

    def bias_grad_form(self, l: int) -> list:
        return [[self.grad(self.cost(), self.bias_vector(l)) + EQ + frac("1", "m") + " " + SUM + M("_x", "_{x}") + " " + self.delta(l)]]


_ACT_NAMES = {"tanh": "tanh", "relu": "ReLU", "leaky_relu": "LeakyReLU", "identity": "id", "softmax": "softmax"}


class ThreeBlueOneBrown(Notation):
    """3Blue1Brown, chapter 4 ("Backpropagation calculus"): layers counted back from the output
    L (a^(L−1) feeds a^(L)), neurons from 0 (a_0^(L−1)), w_jk^(L), b_j^(L), z^(L), C_0 the cost
    of the first example and C the average; δ^(L) = ∂C_0/∂z^(L) names the video's chain-rule
    product ∂a/∂z · ∂C/∂a. Single-neuron layers drop their subscript, as in the video's chain."""

    key = "3b1b"
    title = "3Blue1Brown"
    summary = "layers counted back from the output L (L-1, L-2, ...), neurons from 0, C_k the cost of example k"
    input_layer = 0
    neuron_base = 0
    sup_style = "paren"
    drop_single_index = True

    def layer_label(self, l):
        return "L" if l == self.L else f"L-{self.L - l}"

    def sup(self, l):
        s = self.layer_label(l)
        return M(f"^({s})", f"^{{({s.replace('-', ' - ')})}}" if "-" in s else f"^{{({s})}}")

    def example_index(self, i):
        return str(i)

    def example_cost(self, i):
        return M(f"C{sub_text(str(i))}", f"C_{{{i}}}")

    def batch_cost(self):
        return frac("1", "m") + " " + SUM + M("_k C_k", "_{k} C_{k}")

    def example(self, i):
        return f"example k = {i} (row {i} of X)"

    def example_tag(self, i):
        return M(f"k={i}", f"k={i}")

    def input_note(self):
        return "the input layer"


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


class NgML(Notation):
    """Andrew Ng, *Machine Learning* (Coursera): layers 1..L with the input a^(1) = x; Θ^(l)
    maps layer l to layer l+1 and has a bias column: Θ^(l) is s_{l+1} × (s_l + 1), column 0
    multiplies the bias unit a_0^(l) = 1, so the bias of unit j is Θ^(l)_{j,0} (no separate b).
    Units count from 1. δ^(l), the accumulator Δ^(l) = Σ_i δ^(l+1) (a^(l))ᵀ, D^(l) = ∂J/∂Θ^(l)
    = (1/m) Δ^(l) + (λ/m) Θ^(l) (column 0 unregularised), cost(i) for example i, J(Θ)."""

    key = "ng-ml"
    title = "Ng ML"
    summary = (
        "the input is layer 1, Θ^(l) maps layer l to l+1 with the bias as column 0 "
        "(bias unit a_0 = 1), units counted from 1, examples (i) from 1"
    )
    input_layer = 1
    neuron_base = 1
    sup_style = "paren"

    def weight(self, l, j, k):
        # W^l maps engine layer l−1 (course layer l) to engine layer l: that is Θ^(l).
        return THETA + self.sup(l - 1) + self.sub(j, k)

    def bias(self, l, j):
        return THETA + self.sup(l - 1) + M(sub_text(f"{self.index(j)},0"), f"_{{{self.index(j)},0}}")

    def weight_matrix(self, l):
        return THETA + self.sup(l - 1)

    def bias_vector(self, l):
        return THETA + self.sup(l - 1) + M("_{:,0}", "_{:,0}")

    def bias_unit(self, l) -> M:
        """a_0^(l) = 1, the bias unit of (engine) layer l."""
        return M("a") + self.sup(l) + M("_0", "_{0}")

    def cost(self):
        return M("J(Θ)", r"J(\Theta)")

    def example_cost(self, i):
        return M("cost(i)", r"\mathrm{cost}(i)")

    def batch_cost(self):
        return frac("1", "m") + " " + SUM + M("_i cost(i)", r"_{i} \mathrm{cost}(i)")

    def penalty(self):
        return frac(LAMBDA, "2m") + " " + SUM + M("_l Σ_i Σ_{j≥1} (Θ^(l)_{ij})²", r"_{l} \sum_{i} \sum_{j \geq 1} (\Theta^{(l)}_{ij})^2")

    def example(self, i):
        return f"example (i) with i = {i + 1} (row {i} of X; examples count from 1)"

    def example_tag(self, i):
        return M(f"i={i + 1}", f"i={i + 1}")

    def batch_grad_name(self, kind, l, j, k=None):
        col = "0" if kind == "bias" else self.index(k)
        idx = f"{self.index(j)},{col}"
        return M("D") + self.sup(l - 1) + M(sub_text(idx), f"_{{{idx}}}")

    def accumulator(self, l, j, col: str) -> M:
        idx = f"{self.index(j)},{col}"
        return M("Δ", r"\Delta") + self.sup(l - 1) + M(sub_text(idx), f"_{{{idx}}}")

    def act(self, g, l):
        return super().act(g, l) if g.name == "softmax" else M("g")

    def input_note(self):
        return "the input x = a^(1)"

    def recurrence_form(self, l, g):
        s, s_next = self.sizes[l], self.sizes[l + 1]
        T = paren(self.weight_matrix(l + 1)) + TRANSPOSE
        form = self.delta(l) + EQ + T + " " + self.delta(l + 1) + M(" .* ", r" \mathbin{.*} ") + M("g'") + paren(self.z(l))
        return [
            ["matrix form, one example as a column vector: ", form],
            ["shapes: ", T, " is ", shape(s + 1, s_next), " (Θ has the bias column), so ", T, " ",
             self.delta(l + 1), " has ", str(s + 1), " rows; the row of the bias unit ",
             self.bias_unit(l), " = 1 is dropped, leaving ", M(f"{s} = s") + M(sub_text(self.layer_label(l)), f"_{{{self.layer_label(l)}}}")],
        ]

    def weight_grad_form(self, l, l2):
        s, s_prev = self.sizes[l], self.sizes[l - 1]
        D = M("D") + self.sup(l - 1)
        Delta = M("Δ", r"\Delta") + self.sup(l - 1)
        acc = Delta + M(" := ", " := ") + Delta + PLUS + self.delta(l) + " " + paren(self.a(l - 1)) + TRANSPOSE
        lines = [
            ["for i = 1..m: ", acc, " with ", self.a(l - 1), " including the bias unit ", self.bias_unit(l - 1), " = 1: ",
             shape(s, 1), " ", shape(1, s_prev + 1), ARROW, shape(s, s_prev + 1)],
        ]
        reg = (PLUS + frac(LAMBDA, "m") + " " + self.weight_matrix(l) + M("_{ij}", "_{ij}")) if l2 else M("")
        lines.append([D + M("_{ij}", "_{ij}") + EQ + frac("1", "m") + " " + Delta + M("_{ij}", "_{ij}") + reg,
                      " (for j ≥ 1; column j = 0, the bias, is not regularised)" if l2 else " (column 0 is the bias)"])
        return lines

    def bias_grad_form(self, l):
        return [["the bias gradients are column 0 of ", M("D") + self.sup(l - 1), ": ",
                 M("D") + self.sup(l - 1) + M("_{j,0}", "_{j,0}") + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " "
                 + of_example(self.delta(l, "j")), " (the bias unit is 1 for every example)"]]


class NgDL(Notation):
    """Andrew Ng, *Deep Learning Specialization*: the input is A^[0] = X, W^[l] of shape
    (n^[l], n^[l−1]) and b^[l], examples are the *columns* (X is (n_x, m)), Z^[l] = W^[l] A^[l−1]
    + b^[l]; for one example dz^[l] = ∂ℒ/∂z^[l] (dZ^[l] stacks them as columns), dA^[l−1] =
    W^[l]ᵀ dZ^[l], dW^[l] = (1/m) dZ^[l] A^[l−1]ᵀ, db^[l] = (1/m) Σ_i dZ^[l](i); ℒ^(i) is the loss
    of example (i) and J = (1/m) Σ_i ℒ^(i). Units count from 1."""

    key = "ng-dl"
    title = "Ng DL"
    summary = "the input is A^[0] = X, examples are columns, units counted from 1, examples (i) from 1"
    input_layer = 0
    neuron_base = 1
    sup_style = "bracket"
    columns_are_examples = True

    def weight(self, l, j, k):
        return M("W") + self.sup(l) + self._pair(l, j, k)

    def delta(self, l, j=None):
        return M("dz") + self.sup(l) + self._one(l, j)

    def cost(self):
        return M("J")

    def batch_cost(self):
        return frac("1", "m") + " " + SUM + M("_i ℒ^(i)", r"_{i} \mathcal{L}^{(i)}")

    def penalty(self):
        return frac(LAMBDA, "2m") + " " + SUM + M("_l ‖W^[l]‖²_F", r"_{l} \lVert W^{[l]} \rVert_F^2")

    def example_cost(self, i):
        return M("ℒ^(i)", r"\mathcal{L}^{(i)}")

    def example(self, i):
        return f"example (i) with i = {i + 1} (column {i + 1} of X, row {i} of deltaprop's X)"

    def example_tag(self, i):
        return M(f"i={i + 1}", f"i={i + 1}")

    def batch_grad_name(self, kind, l, j, k=None):
        if kind == "bias":
            return M("db") + self.sup(l) + self.sub(j)
        return M("dW") + self.sup(l) + self.sub(j, k)

    def act(self, g, l):
        return super().act(g, l) if g.name == "softmax" else M("g") + self.sup(l)

    def input_note(self):
        return "the input x = a^[0]"

    def recurrence_form(self, l, g):
        n, n_next = self.sizes[l], self.sizes[l + 1]
        dA = M("dA") + self.sup(l)
        dZ_next = M("dZ") + self.sup(l + 1)
        T = paren(M("W") + self.sup(l + 1)) + TRANSPOSE
        return [
            ["matrix form, examples as columns: ", dA + EQ + T + " " + dZ_next, ", ",
             M("dZ") + self.sup(l) + EQ + dA + M(" * ", r" * ") + self.act_prime(g, l) + paren(M("Z") + self.sup(l))],
            ["shapes: ", shape(n, "m") + EQ + shape(n, n_next) + " " + shape(n_next, "m"),
             ": the transpose of ", M("W") + self.sup(l + 1), " ", shape(n_next, n),
             " carries the errors of layer ", self.layer_label(l + 1), " back to layer ", self.layer_label(l)],
        ]

    def weight_grad_form(self, l, l2):
        n, n_prev = self.sizes[l], self.sizes[l - 1]
        dW = M("dW") + self.sup(l)
        form = dW + EQ + frac("1", "m") + " " + M("dZ") + self.sup(l) + " " + paren(M("A") + self.sup(l - 1)) + TRANSPOSE
        if l2:
            form = form + PLUS + frac(LAMBDA, "m") + " " + M("W") + self.sup(l)
        return [[form], ["shapes: ", shape(n, "m"), " ", shape("m", n_prev), ARROW, shape(n, n_prev)]]

    def bias_grad_form(self, l):
        return [[M("db") + self.sup(l) + EQ + frac("1", "m") + " " + SUM + M("_i", "_{i}") + " " + of_example(M("dZ") + self.sup(l)),
                 ", ", Code("np.sum(dZ, axis=1, keepdims=True) / m"), ", shape ", shape(self.sizes[l], 1)]]


NOTATIONS = {cls.key: cls for cls in (ThreeBlueOneBrown, Nielsen, NgML, NgDL)}


def get_notation(name, sizes) -> Notation:
    """The preset ``name`` ("3b1b", "nielsen", "ng-ml", "ng-dl") for a network of ``sizes``."""
    if isinstance(name, Notation):
        return type(name)(sizes)
    key = str(name).lower().replace("_", "-") if isinstance(name, str) else None
    if key not in NOTATIONS:
        raise ValueError(f"unknown notation {name!r}; expected one of: {', '.join(NOTATIONS)}")
    return NOTATIONS[key](sizes)


# ---------------------------------------------------------------------------- the docs table
def notation_table(sizes=(4, 5, 3), layer: int = 2, j: int = 2, k: int = 0) -> str:
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
