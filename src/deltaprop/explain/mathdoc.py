"""The two-spelling mathematics and the small document model an explanation is written in.

``M`` holds one piece of mathematics twice: ``.text`` for the terminal (readable ASCII
super/subscripts such as ``w^(L-1)_{2,0}`` plus a few Unicode letters: δ Θ σ Σ ∂) and ``.latex``
for Markdown (``w^{(L-1)}_{2,0}``). ``num``, ``vector`` and ``matrix`` spell numbers; ``frac``,
``partial``, ``shape`` and the operator constants build formulas. ``Doc`` is a list of blocks
(title, heading, paragraph, item, display) that renders to plain text or to Markdown with
``$...$``. Nothing here knows about networks or courses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import ArrayLike

# ---------------------------------------------------------------------------- two spellings
class M:
    """A piece of mathematics in two spellings: ``text`` (terminal) and ``latex`` (Markdown).

    ``M + M`` and ``M + str`` concatenate both spellings (a str is the same in both).
    ``full``: (summary, values) of each vector the LaTeX abbreviates, in order, the values in
    text; the Markdown and HTML renderings offer each in a ``<details>`` element (``details``)."""

    __slots__ = ("text", "latex", "full")

    def __init__(self, text: str, latex: str | None = None, full: tuple = ()):
        self.text = text
        self.latex = text if latex is None else latex
        self.full = tuple(full)

    def __add__(self, other):
        other = as_m(other)
        return M(self.text + other.text, self.latex + other.latex, self.full + other.full)

    def __radd__(self, other):
        other = as_m(other)
        return M(other.text + self.text, other.latex + self.latex, other.full + self.full)

    def __repr__(self):
        return f"M({self.text!r}, {self.latex!r})"


def as_m(x: M | str | float) -> M:
    """M for an M, a str (same spelling in both) or a number (``num``)."""
    if isinstance(x, M):
        return x
    if isinstance(x, str):
        return M(x)
    return num(x)


def join(parts: Iterable[M | str], sep: M | str) -> M:
    """The parts joined by ``sep`` (both spellings)."""
    out = M("")
    for n, p in enumerate(parts):
        out = out + (sep if n else "") + p
    return out


def paren(x: M | str | float) -> M:
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


def frac(top: M | str | float, bottom: M | str | float) -> M:
    """top/bottom, or \\frac{top}{bottom}."""
    top, bottom = as_m(top), as_m(bottom)
    t_top = top.text if _atomic(top.text) else f"({top.text})"
    t_bottom = bottom.text if _atomic(bottom.text) else f"({bottom.text})"
    return M(f"{t_top}/{t_bottom}", rf"\frac{{{top.latex}}}{{{bottom.latex}}}")


def _atomic(text: str) -> bool:
    """True for one symbol or one number (needs no parentheses around it in a/b)."""
    return len(text) == 1 or text.isalpha() or text.isdigit() or bool(_NUMBER.fullmatch(text))


def of_example(symbol: M | str, tag: str = "i") -> M:
    """symbol(i) / {symbol}^{(i)}: a per-example value, braced so LaTeX has one superscript."""
    symbol = as_m(symbol)
    return M(f"{symbol.text}({tag})", f"{{{symbol.latex}}}^{{({tag})}}")


def partial(of: M | str, wrt: M | str) -> M:
    """∂of/∂wrt."""
    of, wrt = as_m(of), as_m(wrt)
    return M(f"∂{of.text}/∂{wrt.text}", rf"\frac{{\partial {of.latex}}}{{\partial {wrt.latex}}}")


def shape(*dims: int) -> M:
    """(3 × 5)."""
    return M("(" + " × ".join(str(d) for d in dims) + ")", r"(" + r" \times ".join(str(d) for d in dims) + ")")


def shapes_of(*factors: tuple[M | str, Sequence[int]]) -> list:
    """Parts of "δ^(l) is (3), (W^(l+1))ᵀ is (3 × 2), ...": each (symbol, dims) with its shape,
    so a learner sees which factor has which shape."""
    parts = []
    for n, (symbol, dims) in enumerate(factors):
        parts += [", " if n else "", symbol, " is ", shape(*dims)]
    return parts


# ---------------------------------------------------------------------------- numbers
#: Significant digits of intermediate numbers; the final gradient is shown with FINAL_DIGITS.
DIGITS = 6
FINAL_DIGITS = 12


def num(x: float, digits: int = DIGITS, wrap: bool = False) -> M:
    """A number: ``-0.0123`` / ``1.2e-07`` in text, ``1.2 \\times 10^{-7}`` in LaTeX.

    ``wrap=True`` puts a negative number in parentheses (for products: 0.5 · (-0.2)).
    Zero is ``0`` whatever its sign bit (−0.0 + 0.0 is 0.0)."""
    x = float(x) + 0.0
    s = f"{x:.{digits}g}"
    latex = s
    if "e" in s:
        mantissa, exponent = s.split("e")
        latex = rf"{mantissa} \times 10^{{{int(exponent)}}}"
    if wrap and s.startswith("-"):
        return M(f"({s})", rf"({latex})")
    return M(s, latex)


#: Entries of a vector the LaTeX shows in full; a longer one shows its first LATEX_HEAD and its
#: last entry around ⋯, and carries every value in ``M.full``.
LATEX_ITEMS = 6
LATEX_HEAD = 3


def vector(values: ArrayLike, digits: int = DIGITS, max_items: int = 10) -> M:
    """[0.1, -0.2, …, 0.3]: in text all entries up to ``max_items``, beyond that the first
    ``max_items − 2``, a count and the last; in LaTeX (Markdown, HTML) up to ``LATEX_ITEMS``,
    beyond that the first ``LATEX_HEAD`` and the last around ⋯, the full values in ``full``."""
    values = np.asarray(values, dtype=np.float64).ravel()
    n = values.size
    shown = [num(v, digits) for v in values]
    text = shown
    if n > max_items:
        text = shown[: max_items - 2] + [M(f"… ({n - max_items + 1} more) …"), shown[-1]]
    full = ()
    latex = shown
    if n > LATEX_ITEMS:
        latex = shown[:LATEX_HEAD] + [M("⋯", r"\cdots"), shown[-1]]
        full = ((f"all {n} values", "[" + ", ".join(v.text for v in shown) + "]"),)
    return M("[" + join(text, ", ").text + "]", r"\left[" + join(latex, ", ").latex + r"\right]", full)


def matrix(values: ArrayLike, digits: int = 4, max_rows: int = 6, max_cols: int = 6) -> M:
    """A matrix, large ones with their middle elided (⋯, ⋮); text is one line per row."""
    values = np.atleast_2d(np.asarray(values, dtype=np.float64))
    n_rows, n_cols = values.shape

    def pick(n, limit):
        if n <= limit:
            return list(range(n))
        return list(range(limit - 2)) + [None, n - 1]

    rows, cols = pick(n_rows, max_rows), pick(n_cols, max_cols)
    cells = [
        [("⋮" if r is None else "⋯") if (r is None or c is None) else f"{values[r, c] + 0.0:.{digits}g}" for c in cols]
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


def details(summary: str, values: str) -> str:
    """The full value of an abbreviated vector as one line of HTML (Markdown keeps it inline;
    ``deltaprop.report.mathhtml`` reads it back): ``<details><summary>…</summary><code>…</code></details>``."""
    return f"<details><summary>{summary}</summary><code>{values}</code></details>"


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
    if markdown:  # the full values of the abbreviated vectors, at the end of the line
        out += [" " + details(*f) for p in parts if isinstance(p, M) for f in p.full]
    return "".join(out)


class Doc:
    """A list of blocks (title, heading, paragraph, item, block matrix) that renders to
    terminal text (``text()``) or Markdown with LaTeX (``markdown()``).

    Each block is a list of parts: str (prose, the same in both), ``M`` (math: its text, or
    ``$latex$``) and ``Code`` (inline code). ``html()`` is the Markdown as HTML with MathML
    (``deltaprop.report.mathhtml``, the report's renderer: no MathJax, nothing fetched)."""

    def __init__(self):
        self.blocks: list[tuple[str, int, list]] = []

    def title(self, *parts: str | M | Code | float) -> None:
        self.blocks.append(("title", 0, list(parts)))

    def heading(self, *parts: str | M | Code | float) -> None:
        self.blocks.append(("heading", 0, list(parts)))

    def para(self, *parts: str | M | Code | float) -> None:
        self.blocks.append(("para", 0, list(parts)))

    def item(self, *parts: str | M | Code | float, level: int = 1) -> None:
        self.blocks.append(("item", level, list(parts)))

    def display(self, m: M, level: int = 1) -> None:
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

    def html(self) -> str:
        from ..report.mathhtml import markdown_to_html

        return markdown_to_html(self.markdown())
