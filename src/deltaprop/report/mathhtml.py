"""An explanation's Markdown (``Explanation.to_markdown()``) as HTML with MathML, made in Python.

``explain`` writes a small, regular subset of Markdown (see ``notation.Doc.markdown``):

* ``#### title``, ``**heading**``, plain paragraphs;
* list items ``- ...``, nested by two spaces per level;
* display formulas ``$$...$$`` on their own (indented) line;
* inline ``$latex$`` and ``` `code` ``` inside any of those;
* at the end of a line, ``<details><summary>…</summary><code>…</code></details>``: the full
  values of a vector the formula abbreviates (``mathdoc.details``), read back and re-escaped
  here, so nothing in the Markdown is passed through as raw HTML.

``markdown_to_html`` turns exactly that into HTML; every formula becomes MathML through
``latex2mathml`` (no JavaScript, nothing fetched when the page is viewed: browsers render
MathML themselves). Conversions are cached: the same formula recurs across parameters,
examples and notations.
"""

from __future__ import annotations

import functools
import html
import re

__all__ = ["latex_to_mathml", "markdown_to_html", "inline_to_html"]

_ENTITY = re.compile(r"&#x([0-9A-Fa-f]+);")
_KEEP_ESCAPED = {"<": "&lt;", ">": "&gt;", "&": "&amp;"}
# latex2mathml nests an mrow inside the mo of \mathbin{...}; make that a plain operator.
_NESTED_MO = re.compile(r"<mo([^>]*)><mrow>(?:<mtext>|<mo>)([^<]*)(?:</mtext>|</mo>)</mrow></mo>")
_INLINE = re.compile(r"\$([^$]+)\$|`([^`]+)`")
_DETAILS = re.compile(r" ?<details><summary>([^<]*)</summary><code>([^<]*)</code></details>")
_XMLNS = ' xmlns="http://www.w3.org/1998/Math/MathML"'


def _unescape_entities(markup: str) -> str:
    """&#x02202; -> ∂ (the file is UTF-8), keeping <, > and & escaped: a third of the size."""

    def char(match):
        c = chr(int(match.group(1), 16))
        return _KEEP_ESCAPED.get(c, c)

    return _ENTITY.sub(char, markup)


# Numbers (0.963168, 57, 10) stand alone in explain's LaTeX: values, indices, exponents. A
# formula is converted once with each replaced by a placeholder letter, then the numbers are
# put back as <mn>: the same formula with other numbers (other examples, other parameters)
# costs no second conversion (tests check the result equals a direct conversion).
_NUMBER = re.compile(r"(?<![\\A-Za-z\d.])\d+(?:\.\d+)?(?![\w.])")
# One placeholder letter per number of the formula (CJK ideographs: one token each, as <mi>),
# since MathML may order them differently from the LaTeX (msubsup: subscript first).
_PLACEHOLDERS = [chr(0x4E00 + i) for i in range(512)]
_PLACEHOLDER_RANGE = re.compile("[\u4e00-\u51ff]")


def latex_to_mathml(latex: str, display: bool = False) -> str:
    """One LaTeX formula as a ``<math>`` element (``display=True``: a block formula)."""
    numbers = _NUMBER.findall(latex)
    if not numbers or len(numbers) > len(_PLACEHOLDERS) or _PLACEHOLDER_RANGE.search(latex):
        return _convert(latex, display)
    counter = iter(_PLACEHOLDERS)
    template = _convert(_NUMBER.sub(lambda m: next(counter), latex), display)
    value = dict(zip(_PLACEHOLDERS, numbers))
    out, n = re.subn("<mi>([\u4e00-\u51ff])</mi>", lambda m: f"<mn>{value[m.group(1)]}</mn>", template)
    if n != len(numbers) or _PLACEHOLDER_RANGE.search(out):  # a placeholder not kept alone
        return _convert(latex, display)
    return out


@functools.lru_cache(maxsize=65536)
def _convert(latex: str, display: bool) -> str:
    from latex2mathml.converter import convert

    tex = latex.replace(r"\mathbin{.*}", r"\mathbin{\text{.*}}")
    try:
        markup = convert(tex, display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - a formula the converter cannot read is shown as source
        return f'<code class="tex">{html.escape(latex)}</code>'
    markup = _unescape_entities(markup).replace(_XMLNS, "")
    markup = _NESTED_MO.sub(r"<mo\1>\2</mo>", markup)
    return markup


def inline_to_html(text: str) -> str:
    """Prose with ``$math$`` and `` `code` `` spans: escaped prose, MathML, <code>; the
    ``<details>`` of abbreviated vectors (module docstring) at the end, their text escaped."""
    shown = [
        f"<details><summary>{html.escape(summary, quote=False)}</summary><code>{html.escape(values, quote=False)}</code></details>"
        for summary, values in _DETAILS.findall(text)
    ]
    text = _DETAILS.sub("", text)
    out, pos = [], 0
    for match in _INLINE.finditer(text):
        out.append(html.escape(text[pos : match.start()], quote=False))
        math, code = match.groups()
        if math is not None:
            out.append(latex_to_mathml(math))
        else:
            out.append(f"<code>{html.escape(code, quote=False)}</code>")
        pos = match.end()
    out.append(html.escape(text[pos:], quote=False))
    return "".join(out + shown)


def _item_class(text: str) -> str:
    if "← net.backward" in text:
        return ' class="engine-value"'
    if text.startswith("central difference"):
        return ' class="numeric-check"'
    return ""


def markdown_to_html(markdown: str) -> str:
    """The Markdown of ``Explanation.to_markdown()`` (or ``LayerExplanation``) as HTML.

    The title becomes <h4>, headings <h5>, items nested <ul>, display formulas block MathML.
    The item with the engine's value (``← net.backward``) gets ``class="engine-value"``."""
    out: list[str] = []
    depth = 0  # open <ul> levels
    open_item = [False] * 16  # an <li> is open at this level

    def close_to(level):
        nonlocal depth
        while depth > level:
            if open_item[depth]:
                out.append("</li>")
                open_item[depth] = False
            out.append("</ul>")
            depth -= 1

    def open_to(level):
        nonlocal depth
        while depth < level:
            if depth and not open_item[depth]:  # a nested list needs an <li> around it
                out.append("<li>")
                open_item[depth] = True
            out.append("<ul>")
            depth += 1

    for line in markdown.splitlines():
        if not line.strip():
            continue
        stripped = line.lstrip(" ")
        indent = len(line) - len(stripped)
        if stripped.startswith("- "):
            level = indent // 2 + 1
            close_to(level)
            open_to(level)
            if open_item[level]:
                out.append("</li>")
            body = stripped[2:]
            out.append(f"<li{_item_class(body)}>{inline_to_html(body)}")
            open_item[level] = True
            continue
        if stripped.startswith("$$") and stripped.endswith("$$") and len(stripped) > 4:
            # inside the open <li> when there is one (a matrix under its item), else on its own
            out.append(f'<div class="display">{latex_to_mathml(stripped[2:-2], display=True)}</div>')
            continue
        close_to(0)
        if stripped.startswith("#### "):
            out.append(f"<h4>{inline_to_html(stripped[5:])}</h4>")
        elif stripped.startswith("**") and stripped.endswith("**") and len(stripped) > 4:
            out.append(f"<h5>{inline_to_html(stripped[2:-2])}</h5>")
        else:
            out.append(f"<p>{inline_to_html(stripped)}</p>")
    close_to(0)
    return "".join(out)
