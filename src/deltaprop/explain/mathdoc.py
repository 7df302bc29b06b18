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

import numpy as np

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
