"""Rich displays of explain, explain_layer, sensitivity and gradcheck (issue 14).

Each result offers text/html with its math as MathML made in Python (no ``$`` left for MathJax:
an HTML export viewed offline shows typeset math), text/markdown, and a text/plain that is the
readable ``str()``. Long vectors are abbreviated in Markdown and HTML with every value one click
away in a ``<details>`` element. The HTML is checked by parsing it, not by string matching.
"""

import re
from html.parser import HTMLParser

import numpy as np
import pytest
from IPython.lib.pretty import pretty

import deltaprop as dp
from deltaprop.datasets import load_dataset
from deltaprop.explain import NOTATION_CHOICES


class Parsed(HTMLParser):
    """Tags, the text of every <math>, <details> (summary, code) and table rows of an HTML string."""

    def __init__(self, markup):
        super().__init__()
        self.tags, self.details, self.rows, self.stack, self.text = [], [], [], [], []
        self.feed(markup)

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.stack.append([tag, ""])
        if tag == "tr":
            self.rows.append([])

    def handle_endtag(self, tag):
        name, text = self.stack.pop()
        assert name == tag, f"<{name}> closed by </{tag}>"
        if self.stack:
            self.stack[-1][1] += text
        if tag == "details":
            summary, code = self._details
            self.details.append((summary, code))
        elif tag in ("summary", "code") and any(t == "details" for t, _ in self.stack):
            self._details = (text, "") if tag == "summary" else (self._details[0], text)
        elif tag in ("td", "th"):
            self.rows[-1].append(text)

    def handle_data(self, data):
        self.text.append(data)
        if self.stack:
            self.stack[-1][1] += data


def digits_case(n=50):
    ds = load_dataset("digits")
    return dp.Network([64, 16, 10], seed=0), ds.X_train[:n], ds.y_train[:n]


def test_an_explanation_is_html_with_mathml_and_plain_text_is_its_str():
    net, X, y = digits_case()
    e = dp.explain(net, X, y, weight=(1, 3, 5))
    markup = e._repr_html_()
    page = Parsed(markup)
    assert page.tags.count("math") > 40
    assert "$" not in markup and "\\frac" not in markup  # nothing left for MathJax
    assert pretty(e) == str(e)  # IPython's text/plain
    assert e._repr_markdown_() == e.to_markdown()


def test_a_10_wide_vector_is_abbreviated_with_every_value_in_details():
    net, X, y = digits_case()
    e = dp.explain(net, X, y, weight=(1, 3, 5))
    z = net.backward(X[:1], dp.one_hot(y[:1], 10)).zs[-1][0]
    page = Parsed(e._repr_html_())
    full = [code for summary, code in page.details if summary == "all 10 values"]
    assert len(full) >= 3  # z^L, a^L, y, δ^L
    assert np.allclose([float(v) for v in full[0].strip("[]").split(",")], z, rtol=1e-5)
    # the formula itself shows the first three, ⋯ and the last
    md = e.to_markdown()
    z_line = next(line for line in md.splitlines() if line.startswith("- $z^{(L)} ="))
    assert z_line.count(r"\cdots") == 1 and "<details>" in z_line
    assert z_line.split("<details>")[0].count(",") == 4
    assert "(10 more)" not in str(e) and "1.31819" in str(e)  # the terminal keeps all 10


def test_a_layer_view_abbreviates_its_bias_gradient_and_has_matrices_in_mathml():
    net, X, y = digits_case()
    view = dp.explain_layer(net, X, y, layer=1)
    markup = view._repr_html_()
    page = Parsed(markup)
    assert "$" not in markup and page.tags.count("math") > 10 and "mtable" in page.tags
    (values,) = [code for summary, code in page.details if summary == "all 16 values"]
    assert np.allclose([float(v) for v in values.strip("[]").split(",")], view.grad_b, rtol=1e-5)
    assert pretty(view) == str(view)


def test_sensitivity_is_an_html_table_with_mathml_symbols():
    net, X, y = digits_case()
    s = dp.sensitivity(net, X, y, top=4)
    markup = s._repr_html_()
    page = Parsed(markup)
    assert "$" not in markup
    assert [r[0] for r in page.rows[1:]] == ["1", "2", "3", "4"]
    assert page.tags.count("math") >= 4 + 4  # each parameter, and the intro's symbols
    assert [r[2] for r in page.rows[1:]] == [row.engine for row in s.rows]
    assert pretty(s) == str(s)
    assert "θ ←" not in re.sub(r"\$[^$]*\$", "", s.to_markdown())  # the intro's math is typeset


def test_gradcheck_displays_its_table_not_its_arrays():
    net, X, y = digits_case(20)
    gc = dp.gradcheck(net, X, y, max_checks=10)
    text = pretty(gc)
    assert text == str(gc) and len(text.splitlines()) == len(gc.arrays) + 2
    assert "array(" not in text and "passed at tolerance 1e-06" in text
    page = Parsed(gc._repr_html_())
    assert page.rows[0][:3] == ["array", "checked", "relative error"]
    assert [r[0] for r in page.rows[1:]] == ["W1", "b1", "W2", "b2"]
    assert {r[3] for r in page.rows[1:]} == {"ok"} and "math" in page.tags


def test_gradcheck_marks_a_failing_array():
    from test_gradcheck import BrokenNetwork

    rng = np.random.default_rng(0)
    net = BrokenNetwork([3, 4, 2], seed=0)
    gc = dp.gradcheck(net, rng.normal(size=(5, 3)), dp.one_hot(rng.integers(0, 2, 5), 2))
    rows = Parsed(gc._repr_html_()).rows[1:]
    assert rows[0][0] == "W1" and rows[0][3] == "FAIL" and rows[1][3] == "ok"
    assert "FAILED at tolerance" in str(gc)


def test_the_backward_shapes_line_names_each_factor():
    """A middle layer's recurrence used to end "(3) = (3 × 1) (1)" with nothing saying which is which."""
    net = dp.Network([2, 3, 1, 1], activation="sigmoid", seed=0)
    X, Y = np.array([[0.5, -0.2]]), np.array([[1.0]])
    e = dp.explain(net, X, Y, weight=(1, 0, 0), sample=0)
    text = str(e)
    assert "(3) = (3 × 1) (1)" not in text
    assert "shapes: δ^(L-2) is (3), (W^(L-1))ᵀ is (3 × 1), δ^(L-1) is (1), σ'(z^(L-2)) is (3)" in text


def _prose(markdown):
    """The Markdown without its math, code and details: what a reader sees as prose."""
    markdown = re.sub(r"<details>.*?</details>", "", markdown)
    return re.sub(r"\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", "", markdown)


@pytest.mark.parametrize("notation", NOTATION_CHOICES)
def test_no_plain_text_math_in_the_prose_of_any_preset(notation):
    rng = np.random.default_rng(0)
    net = dp.Network([3, 4, 3, 2], activation="tanh", seed=0)
    X, Y = rng.normal(size=(4, 3)), dp.one_hot(rng.integers(0, 2, 4), 2)
    docs = [
        dp.explain(net, X, Y, weight=(1, 1, 2), notation=notation, l2=0.5).to_markdown(),
        dp.explain(net, X, Y, bias=(2, 0), notation=notation, sample=1, l2=0.5).to_markdown(),
        dp.explain_layer(net, X, Y, layer=1, notation=notation, l2=0.5).to_markdown(),
        dp.sensitivity(net, X, Y, notation=notation, l2=0.5).to_markdown(),
    ]
    for md in docs:
        prose = _prose(md)
        for symbol in ("λ", "ε", "Θ", "δ", "σ", "∂", "θ", "η", "^", "_", " = ", "L-", "1..m"):
            assert symbol not in prose, (symbol, [line for line in prose.splitlines() if symbol in line])


# ----------------------------------------------------------------------------- estimators and labels
pytestmark = pytest.mark.filterwarnings("ignore:.*maximum epochs.*reached")


@pytest.fixture(scope="module")
def fitted():
    ds = load_dataset("digits")
    names = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    clf = dp.MLPClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(ds.X_train, names[ds.y_train])
    return clf, ds.X_train[:20], names[ds.y_train[:20]]


def test_explain_sensitivity_and_gradcheck_take_a_fitted_classifier_and_its_labels(fitted):
    clf, X, labels = fitted
    net = clf.network_
    Y = dp.one_hot(np.searchsorted(clf.classes_, labels), len(clf.classes_))
    assert dp.explain(clf, X, labels, weight=(1, 0, 3)).value == dp.explain(net, X, Y, weight=(1, 0, 3)).value
    assert np.array_equal(dp.explain_layer(clf, X, labels, layer=2).grad_W, dp.explain_layer(net, X, Y, layer=2).grad_W)
    assert dp.sensitivity(clf, X, labels).rows == dp.sensitivity(net, X, Y).rows
    assert dp.gradcheck(clf, X, labels).per_array == dp.gradcheck(net, X, Y).per_array


def test_an_estimator_validates_X_as_its_predict_does(fitted):
    pd = pytest.importorskip("pandas")
    ds = load_dataset("digits")
    names = [f"pixel{i}" for i in range(64)]
    frame = pd.DataFrame(ds.X_train[:30], columns=names)
    clf = dp.MLPRegressor(hidden_layer_sizes=(4,), epochs=2, random_state=0).fit(frame, ds.y_train[:30].astype(float))
    e = dp.explain(clf, frame, ds.y_train[:30].astype(float), weight=(1, 0, 0))
    assert e.value == dp.explain(clf.network_, ds.X_train[:30], ds.y_train[:30].astype(float), weight=(1, 0, 0)).value
    renamed = frame.rename(columns={"pixel0": "other"})
    with pytest.raises(ValueError, match="feature names"):
        dp.explain(clf, renamed, ds.y_train[:30].astype(float), weight=(1, 0, 0))


@pytest.mark.parametrize("call", [
    lambda m, X, y: dp.explain(m, X, y, weight=(1, 0, 0)),
    lambda m, X, y: dp.explain_layer(m, X, y, layer=1),
    lambda m, X, y: dp.sensitivity(m, X, y),
    lambda m, X, y: dp.gradcheck(m, X, y),
])
def test_an_unfitted_estimator_is_a_not_fitted_error(call):
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError, match=r"this MLPClassifier is not fitted yet .*call fit\(X, y\) first") as info:
        call(dp.MLPClassifier(), np.zeros((2, 3)), np.array([0, 1]))
    assert "\n" not in str(info.value)
    with pytest.raises(TypeError, match="must be a deltaprop Network or a fitted deltaprop MLPClassifier"):
        call([[1.0]], np.zeros((2, 3)), np.array([0, 1]))
