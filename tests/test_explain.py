"""explain / explain_layer / sensitivity: the numbers are the engine's, and the text shows them.

Golden files under tests/golden/ hold the rendered text of a fixed tiny network in every
notation. After an intended change to the rendering, regenerate them with

    DELTAPROP_UPDATE_GOLDEN=1 python -m pytest tests/test_explain.py -k golden

and review the diff. The relative error (rounding noise, ~1e-10) is masked in the comparison.
"""

import dataclasses
import os
import re
from pathlib import Path

import numpy as np
import pytest

from conftest import HIDDEN, make_targets, randomise_biases
from deltaprop import Network, costs
from deltaprop.explain import (
    Explanation,
    LayerExplanation,
    Sensitivity,
    demo_chain,
    explain,
    explain_layer,
    sensitivity,
)
from deltaprop.explain.mathdoc import num
from deltaprop.explain.notation import get_notation

GOLDEN = Path(__file__).parent / "golden"
NOTATIONS = ["3b1b", "nielsen", "ng-ml", "ng-dl"]
# (output activation, cost) pairs the issue asks for, each under every hidden activation
PAIRS = [
    ("sigmoid", "quadratic"),
    ("identity", "quadratic"),
    ("softmax", "quadratic"),
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
]
CASES = [(h, o, c) for h in HIDDEN for o, c in PAIRS]
NUMBER = r"(-?\d+(?:\.\d+)?(?:e[-+]\d+)?)"


def make_case(hidden, output, cost, sizes=(3, 4, 3, 2), m=5, seed=7):
    rng = np.random.default_rng(seed)
    net = Network(list(sizes), activation=hidden, output=output, cost=cost, seed=1)
    randomise_biases(net, rng)  # nonzero biases: no ReLU on its kink
    X = rng.normal(size=(m, sizes[0]))
    Y = make_targets(rng, output, cost, m, sizes[-1])
    return net, X, Y


def every_parameter(net):
    for l in range(1, net.n_layers + 1):
        for j in range(net.sizes[l]):
            yield {"bias": (l, j)}
            for k in range(net.sizes[l - 1]):
                yield {"weight": (l, j, k)}


def engine_gradient(grads, spec):
    if "weight" in spec:
        l, j, k = spec["weight"]
        return grads.weights[l - 1][j, k]
    l, j = spec["bias"]
    return grads.biases[l - 1][j]


def assert_agrees_with_central_difference(e):
    """Relative error < 1e-6; a gradient below 1e-4 is held to an absolute 1e-9 instead, since
    a two-point difference resolves the gradient only to ~1e-10 (docstring of deltaprop.explain.derive)."""
    if abs(e.value) >= 1e-4:
        assert e.relative_error < 1e-6, (e.value, e.numeric)
    else:
        assert abs(e.value - e.numeric) < 1e-9, (e.value, e.numeric)


def last_number(line):
    return float(re.findall(NUMBER, line)[-1])


def line_starting(text, prefix):
    for line in text.splitlines():
        if line.strip().startswith(prefix):
            return line.strip()
    raise AssertionError(f"no line starts with {prefix!r} in:\n{text}")


# ----------------------------------------------------------------------------- the numbers
@pytest.mark.parametrize("hidden,output,cost", CASES)
@pytest.mark.parametrize("l2", [0.0, 0.7])
def test_value_is_backwards_number_and_agrees_with_central_differences(hidden, output, cost, l2):
    net, X, Y = make_case(hidden, output, cost)
    m = len(X)
    batch = net.backward(X, Y, l2=l2)
    sample = 2
    one = net.backward(X[sample : sample + 1], Y[sample : sample + 1], l2=l2 / m)
    for spec in every_parameter(net):
        e = explain(net, X, Y, l2=l2, **spec)
        assert abs(e.value - engine_gradient(batch, spec)) <= 1e-12
        assert_agrees_with_central_difference(e)
        e1 = explain(net, X, Y, sample=sample, l2=l2, **spec)
        assert abs(e1.value - engine_gradient(one, spec)) <= 1e-12
        assert_agrees_with_central_difference(e1)


@pytest.mark.parametrize("hidden,output,cost", CASES)
def test_printed_numbers_are_the_engines(hidden, output, cost):
    """Parse the rendered text: the path's a, z, δ, the gradient and the central difference."""
    net, X, Y = make_case(hidden, output, cost)
    l, j, k, i = 1, 2, 1, 3
    for l2, sample in ((0.0, i), (0.7, None)):
        e = explain(net, X, Y, weight=(l, j, k), sample=sample, l2=l2)
        text = str(e)
        n = get_notation("3b1b", net.sizes)
        row = 0 if sample is None else i
        zs, acts = net.feedforward(X)
        grads = net.backward(X, Y)
        # forward values on the path
        assert last_number(line_starting(text, n.a(l - 1, k).text + " =")) == pytest.approx(X[row, k], rel=1e-5)
        assert last_number(line_starting(text, n.z(l, j).text + " =")) == pytest.approx(zs[l - 1][row, j], rel=1e-5)
        assert last_number(line_starting(text, n.a(l, j).text + " =")) == pytest.approx(acts[l][row, j], rel=1e-5)
        # δ_j^l at the end of the sum over paths
        delta_lines = [s.strip() for s in text.splitlines() if s.strip().startswith(n.delta(l, j).text + " = ")]
        assert last_number(delta_lines[-1]) == pytest.approx(grads.deltas[l - 1][row, j], rel=1e-5, abs=1e-12)
        # the result, printed to 12 significant digits, and the central difference
        printed = last_number(next(s for s in text.splitlines() if "← net.backward" in s).split("←")[0])
        assert printed == pytest.approx(e.value, rel=1e-11, abs=1e-15)
        numeric = last_number(line_starting(text, "central difference"))
        assert numeric == pytest.approx(e.numeric, rel=1e-11, abs=1e-15)
        assert last_number(line_starting(text, "relative error")) == pytest.approx(e.relative_error, rel=0.05, abs=1e-300)
        markdown = e.to_markdown()
        assert num(e.value, 12).latex in markdown and num(e.value, 12).text in text


def test_per_example_gradients_average_to_the_batch_gradient_with_l2():
    """The L2 share of one example (λ/(2m) Σ‖W‖²) makes the batch value their exact average."""
    net, X, Y = make_case("tanh", "sigmoid", "binary_cross_entropy")
    m = len(X)
    for spec in ({"weight": (2, 1, 3)}, {"bias": (3, 0)}):
        batch = explain(net, X, Y, l2=0.9, **spec).value
        per_example = [explain(net, X, Y, sample=i, l2=0.9, **spec).value for i in range(m)]
        assert np.mean(per_example) == pytest.approx(batch, rel=1e-12, abs=1e-15)


def test_the_sum_over_paths_shows_the_largest_terms_and_an_exact_total():
    rng = np.random.default_rng(3)
    net = Network([6, 30, 20], activation="tanh", output="sigmoid", cost="quadratic", seed=2)
    randomise_biases(net, rng)
    X, Y = rng.normal(size=(4, 6)), rng.random((4, 20))
    e = explain(net, X, Y, weight=(1, 7, 2), sample=1)
    text = str(e)
    assert "12 smaller terms, together" in text
    assert "(all 20 terms)" in text
    grads = net.backward(X[1:2], Y[1:2])
    terms = net.weights[1][:, 7] * grads.deltas[1][0]
    total = float(re.search("Σ = " + NUMBER, text).group(1))
    assert total == pytest.approx(terms.sum(), rel=1e-5)
    shown = [last_number(s) for s in text.splitlines() if s.strip().startswith("i=")]
    assert len(shown) == 8
    assert sorted(np.abs(shown), reverse=True) == list(np.abs(shown))
    np.testing.assert_allclose(shown, terms[np.argsort(-np.abs(terms))[:8]], rtol=1e-5)
    elided = last_number(line_starting(text, "… 12 smaller terms"))
    assert sum(shown) + elided == pytest.approx(total, rel=1e-4)


def test_the_batch_average_lists_examples_and_elides_the_rest():
    net, X, Y = make_case("sigmoid", "softmax", "cross_entropy", m=20)
    e = explain(net, X, Y, weight=(2, 0, 1), notation="3b1b", l2=0.3)
    text = str(e)
    assert "12 smaller terms" in text and "(all 20 examples)" in text
    assert "λ/m" in text and "1/m Σ" in text


def test_closed_forms_are_named_with_their_reason():
    text = str(explain(*make_case("tanh", "sigmoid", "binary_cross_entropy"), weight=(3, 0, 1), sample=0))
    assert "sigmoid + binary cross-entropy" in text and "cancel" in text and "δ^(L) = a^(L) − y" in text
    text = str(explain(*make_case("tanh", "softmax", "cross_entropy"), weight=(3, 0, 1), sample=0))
    assert "softmax + cross-entropy" in text and "sum to 1" in text
    text = str(explain(*make_case("tanh", "sigmoid", "quadratic"), weight=(3, 0, 1), sample=0))
    assert "2(a^(L)_j − y_j)" in text and "σ'(z) = a(1 − a)" in text
    text = str(explain(*make_case("relu", "softmax", "quadratic"), weight=(2, 0, 1), sample=0))
    assert "softmax mixes the outputs" in text


def test_the_recurrence_shows_the_matrix_form_with_shapes_and_the_transpose():
    net, X, Y = make_case("sigmoid", "sigmoid", "quadratic", sizes=(4, 5, 3))
    text = str(explain(net, X, Y, weight=(1, 2, 0), sample=0, notation="nielsen"))
    assert "δ^2 = ((w^3)ᵀ δ^3) ⊙ σ'(z^2)" in text
    # each factor is named with its shape (not a bare "(5) = (5 × 3) (3) ⊙ (5)")
    assert "shapes: δ^2 is (5), (w^3)ᵀ is (5 × 3), δ^3 is (3), σ'(z^2) is (5)" in text
    assert "deltas[0] = (deltas[1] @ net.weights[1])" in text


def test_ng_ml_rendering_uses_theta_with_the_bias_column_and_1_based_layers():
    net, X, Y = make_case("sigmoid", "sigmoid", "binary_cross_entropy", sizes=(4, 5, 3))
    text = str(explain(net, X, Y, weight=(2, 2, 0), notation="ng-ml", l2=0.5))
    # net.weights[1][2, 0]: Θ^(2) maps layer 2 to layer 3, units from 1, column 0 = bias
    assert text.startswith("D^(2)_{3,1} = ∂J(Θ)/∂Θ^(2)_{3,1}")
    assert "Θ^(2)_{3,1} is net.weights[1][2, 0]: column 1 of Θ^(2) (3 × 6) (column 0 is the bias column)" in text
    assert "joins unit 1 of layer 2 to unit 3 of layer 3" in text
    assert "a^(2)_1 = " in text and "δ^(3)_3 = a^(3)_3 − y_3" in text
    assert "Δ^(2)_{3,1} = Σ_i" in text and "D^(2)_{j,k} = 1/m Δ^(2)_{j,k} + λ/m Θ^(2)_{j,k} (for k ≥ 1" in text
    assert "w^" not in text and "b^" not in text  # no separate b in Θ notation
    bias = str(explain(net, X, Y, bias=(2, 2), notation="ng-ml", sample=0))
    assert "Θ^(2)_{3,0} is net.biases[1][2]" in bias and "bias unit a^(2)_0 = 1" in bias
    hidden = str(explain(net, X, Y, weight=(1, 0, 0), notation="ng-ml", sample=0))
    assert "a^(1)_1 = " in hidden and "(the input x = a^(1))" in hidden
    assert "(Θ^(2))ᵀ is (6 × 3) (Θ has the bias column)" in hidden
    assert "the row of the bias unit a^(2)_0 = 1 is dropped" in hidden


def test_ng_dl_rendering_has_columns_as_examples():
    net, X, Y = make_case("relu", "softmax", "cross_entropy", sizes=(4, 5, 3))
    text = str(explain(net, X, Y, weight=(1, 2, 0), notation="ng-dl"))
    assert text.startswith("dW^[1]_{3,1} = ∂J/∂W^[1]_{3,1}")
    assert "dA^[1] = (W^[2])ᵀ dZ^[2]" in text and "shapes: dA^[1] is (5 × m), (W^[2])ᵀ is (5 × 3), dZ^[2] is (3 × m)" in text
    assert "dW^[1] = 1/m dZ^[1] (A^[0])ᵀ" in text


def test_3b1b_demo_chain_explains_w_L_with_three_factors():
    net, X, Y = demo_chain()
    assert net.sizes == [1, 1, 1, 1] and net.n_params == 6
    e = explain(net, X, Y, weight=(3, 0, 0), sample=0)
    text = str(e)
    assert text.startswith("∂C_0/∂w^(L): ")
    assert "z^(L) = w^(L) a^(L-1) + b^(L) = 2.1 · " in text
    assert "C_0 = (a^(L) − y)² = " in text
    assert "a^(L-1) · σ'(z^(L)) · 2(a^(L) − y)" in text
    assert e.value == net.backward(X, Y).weights[2][0, 0]


def test_float32_networks_are_explained_in_float64_and_nothing_changes():
    net, X, Y = make_case("sigmoid", "softmax", "cross_entropy")
    net32 = net.copy(dtype="float32")
    before = [W.copy() for W in net32.weights]
    e = explain(net32, X, Y, weight=(1, 0, 0))
    assert "explained in float64" in str(e)
    net64 = net.copy()
    net64.weights = list(net32.weights)
    net64.biases = list(net32.biases)
    assert e.value == pytest.approx(net64.backward(X, Y).weights[0][0, 0], rel=1e-12)
    for W, W0 in zip(net32.weights, before):
        np.testing.assert_array_equal(W, W0)


def test_explain_restores_the_perturbed_parameter_bit_for_bit():
    net, X, Y = make_case("tanh", "identity", "quadratic")
    before = [W.copy() for W in net.weights] + [b.copy() for b in net.biases]
    explain(net, X, Y, weight=(2, 1, 1))
    explain(net, X, Y, bias=(1, 0), sample=0)
    for now, then in zip(list(net.weights) + list(net.biases), before):
        np.testing.assert_array_equal(now, then)


def test_markdown_and_jupyter_repr():
    net, X, Y = make_case("sigmoid", "softmax", "cross_entropy")
    for notation in NOTATIONS:
        e = explain(net, X, Y, weight=(1, 1, 1), notation=notation, l2=0.2)
        md = e.to_markdown()
        assert e._repr_markdown_() == md
        assert md.startswith("#### $")
        assert "$$" not in md.replace("  $$", "")  # no empty math between two $...$
        for segment in re.findall(r"\$([^$]+)\$", md):
            assert segment.count("{") == segment.count("}"), segment
        assert isinstance(e, Explanation) and e.name == get_notation(notation, net.sizes).weight(1, 1, 1).text


# ----------------------------------------------------------------------------- validation
@pytest.fixture
def small():
    return make_case("sigmoid", "sigmoid", "quadratic", sizes=(4, 5, 3))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"weight": (3, 0, 0)}, r"layer l .* = 3 is out of range; valid: 1\.\.2"),
        ({"weight": (0, 0, 0)}, r"valid: 1\.\.2"),
        ({"weight": (2, 3, 0)}, r"neuron j of layer 2 \(size 3\) = 3 is out of range; valid: 0\.\.2"),
        ({"weight": (2, 0, 5)}, r"neuron k of layer 1 \(size 5\) = 5 is out of range; valid: 0\.\.4"),
        ({"bias": (1, 5)}, r"valid: 0\.\.4"),
        ({"weight": (1, 0)}, r"weight must be a tuple \(l, j, k\)"),
        ({"bias": (1, 0, 0)}, r"bias must be a tuple \(l, j\)"),
        ({"weight": (1, 0, 0), "bias": (1, 0)}, "exactly one of weight=.* or bias=.*; got both"),
        ({}, "exactly one of .*; got neither"),
        ({"weight": (1.5, 0, 0)}, "must be an integer"),
        ({"weight": (1, 0, 0), "notation": "goodfellow"}, "unknown notation 'goodfellow'; choose one of: 3b1b, nielsen, ng-ml, ng-dl"),
        ({"weight": (1, 0, 0), "sample": 5}, r"sample .* = 5 is out of range; valid: 0\.\.4"),
        ({"weight": (1, 0, 0), "sample": -1}, r"valid: 0\.\.4"),
        ({"weight": (1, 0, 0), "l2": -1}, "l2 must be a non-negative number"),
        ({"weight": (1, 0, 0), "eps": 0}, "eps must be a positive number"),
    ],
)
def test_bad_arguments_say_what_is_valid(small, kwargs, message):
    net, X, Y = small
    with pytest.raises(ValueError, match=message):
        explain(net, X, Y, **kwargs)


def test_bad_data_is_reported_by_the_engines_checks(small):
    net, X, Y = small
    with pytest.raises(ValueError, match="features per example"):
        explain(net, X[:, :3], Y, weight=(1, 0, 0))
    with pytest.raises(ValueError, match="same length"):
        explain(net, X, Y[:2], weight=(1, 0, 0))


# ----------------------------------------------------------------------------- layer view
@pytest.mark.parametrize("notation", NOTATIONS)
def test_explain_layer_numbers_are_backwards(small, notation):
    net, X, Y = small
    for layer in (1, 2):
        view = explain_layer(net, X, Y, layer=layer, notation=notation, l2=0.4)
        grads = net.backward(X, Y, l2=0.4)
        assert isinstance(view, LayerExplanation)
        np.testing.assert_array_equal(view.delta, grads.deltas[layer - 1])
        np.testing.assert_array_equal(view.grad_W, grads.weights[layer - 1])
        np.testing.assert_array_equal(view.grad_b, grads.biases[layer - 1])
        text = str(view)
        assert f"grad_W = deltas[{layer - 1}].T @ activations[{layer - 1}] / m" in text
        assert view._repr_markdown_() == view.to_markdown()


def test_explain_layer_in_each_course(small):
    net, X, Y = small
    ml = str(explain_layer(net, X, Y, layer=1, notation="ng-ml"))
    assert "D^(1) (5 × 5), column 0 the bias:" in ml  # Θ^(1) is 5 × (4 + 1)
    after = ml.split("D^(1) (5 × 5), column 0 the bias:")[1]
    first_row = next(s for s in after.splitlines() if s.strip().startswith("["))
    grads = net.backward(X, Y)
    assert float(first_row.strip(" []").split()[0]) == pytest.approx(grads.biases[0][0], rel=1e-3)
    dl = str(explain_layer(net, X, Y, layer=1, notation="ng-dl"))
    assert "dZ^[1] (5 × 5), examples as columns:" in dl and "dW^[1] = 1/m dZ^[1] (A^[0])ᵀ" in dl
    assert "np.sum(dZ, axis=1, keepdims=True) / m" in dl
    b3 = str(explain_layer(net, X, Y, layer=2, notation="3b1b"))
    assert "each example adds an outer product (3 × 1) (1 × 5) → (3 × 5)" in b3


def test_explain_layer_validates(small):
    net, X, Y = small
    with pytest.raises(ValueError, match=r"layer .* = 3 is out of range; valid: 1\.\.2"):
        explain_layer(net, X, Y, layer=3)
    with pytest.raises(ValueError, match="unknown notation"):
        explain_layer(net, X, Y, layer=1, notation="x")


# ----------------------------------------------------------------------------- sensitivity
def test_sensitivity_ranks_by_absolute_gradient(small):
    net, X, Y = small
    result = sensitivity(net, X, Y, top=7, l2=0.1, notation="ng-dl")
    assert isinstance(result, Sensitivity) and len(result.rows) == 7
    grads = net.backward(X, Y, l2=0.1)
    everything = np.concatenate([np.concatenate([gW.ravel(), gb]) for gW, gb in zip(grads.weights, grads.biases)])
    assert result.n_params == net.n_params == everything.size
    expected = np.sort(np.abs(everything))[::-1][:7]
    np.testing.assert_array_equal([abs(r.gradient) for r in result.rows], expected)
    for row in result.rows:
        source = grads.weights if row.kind == "weight" else grads.biases
        assert source[row.layer - 1][row.indices] == row.gradient
        assert row.direction == ("decrease" if row.gradient > 0 else "increase")
        n = get_notation("ng-dl", net.sizes)
        symbol = n.weight(row.layer, *row.indices) if row.kind == "weight" else n.bias(row.layer, *row.indices)
        assert row.name == symbol.text
    text, md = str(result), result.to_markdown()
    assert result.rows[0].name in text and result.rows[0].engine in text
    assert md.count("\n| ") == 8  # header + 7 rows
    assert result._repr_markdown_() == md


def test_sensitivity_top_is_clipped_and_validated(small):
    net, X, Y = small
    assert len(sensitivity(net, X, Y, top=10_000).rows) == net.n_params
    with pytest.raises(ValueError, match="top must be a positive integer"):
        sensitivity(net, X, Y, top=0)


# ----------------------------------------------------------------------------- golden files
def golden_case(cost="quadratic"):
    """A fixed 3-3-2 network: tanh hidden, sigmoid outputs, quadratic cost, 3 examples."""
    net = Network([3, 3, 2], activation="tanh", output="sigmoid", cost=cost, seed=0)
    net.weights = [
        [[0.5, -0.25, 0.75], [-0.5, 1.0, 0.25], [0.125, 0.375, -0.625]],
        [[1.0, -0.75, 0.5], [-0.25, 0.5, 1.25]],
    ]
    net.biases = [[0.1, -0.2, 0.3], [-0.1, 0.2]]
    X = np.array([[1.0, 0.5, -1.0], [0.0, -0.5, 2.0], [0.25, 1.5, 0.5]])
    Y = np.array([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]])
    return net, X, Y


def mask_noise(text):
    """The relative error of a central difference is rounding noise: mask it. Keep 8
    significant digits of the central difference itself (its later digits are noise too)."""
    text = re.sub(r"(relative error .*?= )[^$\n]+", r"\1<noise>", text)
    return re.sub(
        r"(central difference .*: \$?)(-?\d+\.\d+)", lambda g: g.group(1) + f"{float(g.group(2)):.8g}", text
    )


def check_golden(name, actual):
    path = GOLDEN / name
    actual = mask_noise(actual)
    if os.environ.get("DELTAPROP_UPDATE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"missing {path}; create it with DELTAPROP_UPDATE_GOLDEN=1"
    assert actual == path.read_text(encoding="utf-8")


@pytest.mark.parametrize("notation", NOTATIONS)
def test_golden_weight_one_example(notation):
    net, X, Y = golden_case()
    check_golden(f"weight_sample_{notation}.txt", str(explain(net, X, Y, weight=(1, 2, 1), sample=1, notation=notation)))


@pytest.mark.parametrize("notation", NOTATIONS)
def test_golden_bias_batch_markdown(notation):
    net, X, Y = golden_case()
    check_golden(f"bias_batch_l2_{notation}.md", explain(net, X, Y, bias=(1, 0), notation=notation, l2=0.5).to_markdown())


@pytest.mark.parametrize("notation", NOTATIONS)
def test_golden_layer(notation):
    net, X, Y = golden_case()
    check_golden(f"layer_{notation}.txt", str(explain_layer(net, X, Y, layer=1, notation=notation)))


def test_golden_sensitivity_and_demo():
    net, X, Y = golden_case()
    check_golden("sensitivity_3b1b.txt", str(sensitivity(net, X, Y, top=5)))
    chain, x, y = demo_chain()
    check_golden("demo_3b1b.txt", str(explain(chain, x, y, weight=(3, 0, 0), sample=0)))


@pytest.mark.skipif("half_quadratic" not in costs.COSTS, reason="the cost half_quadratic does not exist yet")
def test_golden_nielsen_half_quadratic():
    net, X, Y = golden_case("half_quadratic")
    check_golden("weight_sample_nielsen_half_quadratic.txt",
                 str(explain(net, X, Y, weight=(1, 2, 1), sample=1, notation="nielsen")))


# ----------------------------------------------------------------------------- each course's own conventions
#: The letter each preset gives the example; it must never index a neuron in the same text.
EXAMPLE_LETTER = {"3b1b": "x", "nielsen": "x", "ng-ml": "i", "ng-dl": "i"}
#: A neuron-indexed symbol (weight, bias, z, a, δ, y, D, Δ; not Ng DL's dZ and A, whose second
#: subscript is the example column) and its subscript.
UNIT_SYMBOL = re.compile(
    r"(?<![A-Za-z∇])(?:w|W|Θ|a|z|δ|dz|b|y|D|Δ)(?:\^\([^)]*\)|\^\[[^\]]*\]|\^\{[^}]*\}|\^[^\s_{(\[])?_(\{[^}]*\}|\w'?)"
)


def unit_letters(text):
    """Letters used as neuron indices: in the subscripts of neuron symbols, and the tags of the
    terms of a sum over paths ("i=1: w^(L)_{1,2} · ...")."""
    letters = set()
    for sub in UNIT_SYMBOL.findall(text):
        for token in sub.strip("{}").split(","):
            token = token.split("≥")[0]
            if token and not token.isdigit() and token != ":":
                letters.add(token)
    letters |= set(re.findall(r"(?m)^\s*([a-z])=\d+: (?:w|W|Θ)", text))
    return letters


def example_letters(text):
    """Letters used for the example: the header, the cost of one example C_x, sums of the
    examples' costs, the tags of the per-example terms, Ng's "for i = 1..m"."""
    letters = set(re.findall(r"example ([a-z]) = \d|example \(([a-z])\) with|input ([a-z]) = [a-z]_\d", text))
    letters = {c for group in letters for c in group if c}
    letters |= set(re.findall(r"\bC_([a-z])\b", text))
    letters |= set(re.findall(r"Σ_([a-z]) (?:C|cost\(|ℒ|∂C|∂ℒ|∂cost)", text))
    letters |= set(re.findall(r"(?m)^\s*([a-z])=\d+: (?![wWΘ])", text))
    letters |= set(re.findall(r"(?m)^\s*([a-z])_\d+: ", text))
    letters |= set(re.findall(r"for ([a-z]) = 1\.\.m", text))
    return letters


def many_explanations(notation):
    """Explanations of weights and biases in every layer of a deeper network, for one example
    and for the batch, with and without L2, for several output/cost pairs; plus layer views."""
    for output, cost in (("sigmoid", "quadratic"), ("softmax", "cross_entropy"), ("softmax", "quadratic"),
                         ("sigmoid", "binary_cross_entropy"), ("identity", "quadratic")):
        net, X, Y = make_case("tanh", output, cost, sizes=(3, 4, 3, 2), m=4)
        for spec in ({"weight": (1, 2, 1)}, {"bias": (2, 1)}, {"weight": (3, 1, 0)}, {"bias": (3, 0)}):
            for sample, l2 in ((None, 0.3), (2, 0.0)):
                yield str(explain(net, X, Y, notation=notation, sample=sample, l2=l2, **spec))
        for layer in (1, 3):
            yield str(explain_layer(net, X, Y, layer=layer, notation=notation, l2=0.3))


@pytest.mark.parametrize("notation", NOTATIONS)
def test_no_index_letter_is_both_the_example_and_a_neuron(notation):
    """One symbol names the example everywhere in a derivation (the header, the cost average,
    the per-example terms) and it never indexes a neuron in the same text."""
    letter = EXAMPLE_LETTER[notation]
    for text in many_explanations(notation):
        examples, units = example_letters(text), unit_letters(text)
        assert examples <= {letter}, (examples, text)
        assert letter not in units, (units, text)
        assert "l" not in units  # l counts layers (Σ_l ‖W^l‖²)


def test_softmax_jacobian_uses_a_second_output_letter_not_k():
    """k is a neuron of layer l−1 (z_j = Σ_k w_jk a_k); softmax's second output neuron is j′."""
    for notation in NOTATIONS:
        for output, cost in (("softmax", "cross_entropy"), ("softmax", "quadratic")):
            text = str(explain(*make_case("tanh", output, cost), weight=(3, 0, 1), sample=0, notation=notation))
            assert "Σ_k " in text  # the z line: k is layer l−1
            assert not re.search(r"(?<![\w^])[δaz]_[ik]\b", text), text
            assert "∂a_j'/∂z_j = a_j'(1[j'=j] − a_j)" in text


def test_3b1b_calls_the_example_x_in_the_header_the_average_and_the_terms():
    net, X, Y = golden_case()
    text = str(explain(net, X, Y, weight=(1, 2, 1), notation="3b1b"))
    assert "follow example x = 0 (row 0 of X)" in text
    assert "C = 1/m Σ_x C_x = " in text and "1/m Σ_x ∂C_x/∂w^(L-1)_{2,1}" in text
    assert [line.split(":")[0].strip() for line in text.splitlines() if re.match(r"\s+x=\d:", line)] == ["x=0", "x=1", "x=2"]
    assert "Σ_k w^(L-1)_{2,k} a^(L-2)_k" in text  # k: only ever a neuron
    assert "C_k" not in text and "example k" not in text and not re.search(r"(?m)^\s*k=", text)
    assert str(explain(net, X, Y, weight=(1, 2, 1), sample=2, notation="3b1b")).startswith("∂C_2/∂w^(L-1)_{2,1}")


def test_ng_ml_writes_theta_times_a_with_the_bias_unit_and_consistent_shapes():
    net, X, Y = make_case("sigmoid", "sigmoid", "binary_cross_entropy", sizes=(4, 5, 3, 2))
    text = str(explain(net, X, Y, weight=(1, 2, 0), notation="ng-ml", sample=0))
    assert "_{:,0}" not in text  # no Θ_{:,0} added to Θ a: the bias unit carries the bias
    for q, theta in ((3, 2), (4, 3)):  # z^(3) = Θ^(2) a^(2), z^(4) = Θ^(3) a^(3)
        line = line_starting(text, f"z^({q}) = Θ^({theta}) a^({theta}) = [")
        assert f"(a^({theta}) with the bias unit a^({theta})_0 = 1 prepended: " in line
        s_next, cols, rows, out = map(int, re.search(r"\((\d+) × (\d+)\) \((\d+)\) → \((\d+)\)\)$", line).groups())
        assert (s_next, cols) == (net.sizes[q - 1], net.sizes[q - 2] + 1)  # s_{l+1} × (s_l + 1)
        assert rows == cols and out == s_next  # times (s_l + 1): a^(l) with a_0 = 1
    assert "Σ_p Θ^(2)_{p,3} δ^(3)_p" in text and "p=1: Θ^(2)_{1,3}" in text  # units p, never i
    assert "example (i) with i = 1" in text
    batch = str(explain(net, X, Y, weight=(1, 2, 0), notation="ng-ml", l2=0.5))
    assert "Σ_l Σ_j Σ_{k≥1} (Θ^(l)_{j,k})²" in batch and "for i = 1..m: Δ^(1)" in batch


@pytest.mark.skipif("half_quadratic" not in costs.COSTS, reason="the cost half_quadratic does not exist yet")
def test_nielsen_half_quadratic_shows_a_minus_y_hadamard_sigma_prime():
    for l in (1, 2):  # δ^L in every explanation, hidden layer or output layer
        net, X, Y = make_case("sigmoid", "sigmoid", "half_quadratic", sizes=(3, 4, 2))
        text = str(explain(net, X, Y, weight=(l, 1, 0), sample=1, notation="nielsen"))
        line = line_starting(text, "δ^3 = ∇_a C_x ⊙ σ'(z^3) = (a^3 − y) ⊙ σ'(z^3) = [")
        delta = [float(v) for v in line.split("[")[1].split("]")[0].split(",")]
        np.testing.assert_allclose(delta, net.backward(X[1:2], Y[1:2]).deltas[-1][0], rtol=1e-5)
        assert "C_x = ½ Σ_j (a^3_j − y_j)²" in text and "2(a" not in text


def test_nielsen_writes_bp1_and_keeps_the_factor_2_of_the_quadratic_cost():
    net, X, Y = make_case("sigmoid", "sigmoid", "quadratic", sizes=(3, 4, 2))
    text = str(explain(net, X, Y, weight=(1, 1, 0), sample=1, notation="nielsen"))
    line = line_starting(text, "δ^3 = ∇_a C_x ⊙ σ'(z^3) = 2(a^3 − y) ⊙ σ'(z^3) = [")  # no ½: the 2 stays
    assert line.endswith("(BP1)")
    for notation in ("3b1b", "ng-ml", "ng-dl"):  # the other courses write δ^L neuron by neuron
        assert "⊙ σ'(z" not in str(explain(net, X, Y, weight=(1, 1, 0), sample=1, notation=notation)).split("3. ")[0]


def test_training_example_only_for_rows_said_to_be_training_rows():
    net, X, Y = golden_case()
    said = {"3b1b": "training example x = 1", "nielsen": "training input x = x_2", "ng-ml": "training example (i) with i = 2",
            "ng-dl": "training example (i) with i = 2"}
    for notation in NOTATIONS:
        for sample in (1, None):
            e = explain(net, X, Y, weight=(1, 2, 1), sample=sample, notation=notation)
            assert "training" not in str(e) and "training" not in e.to_markdown()  # the caller did not say
        e = explain(net, X, Y, weight=(1, 2, 1), sample=1, notation=notation)
        told = dataclasses.replace(e, derivation=dataclasses.replace(e.derivation, training=True))
        assert said[notation] in str(told) and str(told).count("training") == 1
        assert "training" not in str(explain_layer(net, X, Y, layer=1, notation=notation))


def test_cli_calls_only_the_train_split_training_examples(tmp_path, capsys):
    from deltaprop import modelfile, one_hot
    from deltaprop.cli import main
    from deltaprop.datasets import load_dataset
    from deltaprop.preprocessing import default_preprocessing

    ds = load_dataset("digits", seed=0)
    net = Network([64, 8, 10], activation="sigmoid", cost="quadratic", seed=3)
    net.classes_ = np.asarray(ds.classes)
    net.preprocessing = default_preprocessing(ds)
    path = modelfile.save(net, tmp_path / "model.npz",
                          extra_meta={"training": {"options": {"dataset": "digits", "seed": 0, "test_fraction": 0.2}}})

    def run(*args):
        with pytest.raises(SystemExit) as exit_info:
            main(["explain", str(path), "--weight", "2:3,1", "--sample", "4", "--notation", "nielsen", *args])
        out, err = capsys.readouterr()
        assert exit_info.value.code == 0, err
        return out

    train = run()
    assert "for training input x = x_5 (row 4 of X)" in train
    e = explain(net, ds.X_train, one_hot(ds.y_train, 10), weight=(2, 3, 1), sample=4, notation="nielsen")
    assert train == str(e).replace("for input x", "for training input x")  # the same numbers
    test = run("--split", "test")
    assert "for input x = x_5 (row 4 of X)" in test and "training" not in test


# ---------------------------------------------------------------------------- zero gradients
def dead_relu_case():
    """A 3-2-1 ReLU network whose hidden neuron 0 is off (z < 0) and whose input 1 is 0."""
    net = Network([3, 2, 1], activation="relu", output="sigmoid", cost="binary_cross_entropy", seed=0)
    net.weights[0][...] = [[1.0, 0.5, 0.0], [0.25, 1.0, 1.0]]
    net.biases[0][...] = [-2.0, 0.5]
    X = np.array([[0.5, 0.0, 1.0]])
    return net, X, np.array([[1.0]])


def test_a_zero_gradient_prints_0_not_minus_0():
    net, X, Y = dead_relu_case()
    # δ^1_0 is −0.0 (a negative error times ReLU' = 0): the product a · δ is printed as 0
    e = explain(net, X, Y, sample=0, weight=(1, 0, 0))
    assert e.value == 0
    for text in (str(e), e.to_markdown()):
        assert not re.search(r"[−-]0(?![.\d])", text), text
    assert num(-0.0).text == num(-0.0).latex == "0"


@pytest.mark.parametrize("notation", NOTATIONS)
def test_a_zero_factor_is_named_with_its_reason(notation):
    net, X, Y = dead_relu_case()
    e = explain(net, X, Y, sample=0, weight=(1, 0, 2), notation=notation)
    n = get_notation(notation, net.sizes)
    assert f"neuron {n.index(0)} of layer {n.layer_label(1)} is inactive" in str(e)
    layer = n.layer(1) if isinstance(n.layer(1), str) else f"${n.layer(1).latex}$"  # a symbol as math
    assert f"neuron {n.index(0)} of layer {layer} is inactive" in e.to_markdown()
    assert "< 0, so " in str(e)
    inputs = explain(net, X, Y, sample=0, weight=(1, 1, 1), notation=notation)
    assert f"input {n.index(1)} is 0" in str(inputs)
    # a non-zero gradient has no such line
    assert "is inactive" not in str(explain(net, X, Y, sample=0, weight=(1, 1, 2), notation=notation))
