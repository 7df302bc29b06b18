"""deltaprop.widgets, driven through the widgets' models (no browser, no kernel): moving the
slider moves one weight of a copy, the displayed cost is ``net.cost`` there, the prediction is
C + ∂C/∂w·Δw, and the network passed in never changes; the explorer shows ``explain``'s
derivation for what its controls pick. Both have a useful static display."""

import re
import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("ipywidgets", reason='ipywidgets is not installed (pip install "deltaprop[notebook]")')

import deltaprop  # noqa: E402
from conftest import shown_number  # noqa: E402
from deltaprop import widgets  # noqa: E402
from deltaprop.datasets import load_dataset  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    ds = load_dataset("digits", seed=0)
    X, y = ds.X_train[:60], ds.labels(ds.y_train[:60])
    net = deltaprop.Network([64, 8, 10], activation="sigmoid", output="softmax", cost="cross_entropy", seed=0)
    net.fit(X, y, epochs=2, seed=0)
    return net, X, y


def shown(nudge, row):
    """The number at the end of the readout's formula ``row`` (MathML, as displayed)."""
    formulas = re.findall(r'<td class="dp-formula">(.*?)</td>', nudge.readout.value, re.S)
    return shown_number(formulas[row])


@pytest.mark.parametrize("spec, sample, l2", [({"weight": (2, 3, 1)}, None, 0.0),
                                              ({"weight": (1, 0, 20)}, 4, 0.5),
                                              ({"bias": (2, 7)}, None, 0.0)])
def test_slider_moves_the_cost_to_net_cost_and_the_prediction_to_first_order(fitted, spec, sample, l2):
    net, X, y = fitted
    before = [W.copy() for W in net.weights] + [b.copy() for b in net.biases]
    nudge = widgets.nudge(net, X, y, **spec, sample=sample, l2=l2)
    e = deltaprop.explain(net, X, y, **spec, sample=sample, l2=l2)
    rows, cols = (X, y) if sample is None else (X[sample : sample + 1], y[sample : sample + 1])
    share = l2 if sample is None else l2 / len(X)
    c0 = net.cost(rows, cols, share)
    for dw in (0.7 * nudge.slider.max, -0.4 * nudge.slider.max, 0.0):
        nudge.slider.value = dw
        dw = nudge.slider.value  # (the slider's own rounding to its step)
        moved = net.copy()
        (moved.weights if "weight" in spec else moved.biases)[spec.get("weight", spec.get("bias"))[0] - 1][
            (spec["weight"][1:] if "weight" in spec else spec["bias"][1:])] += dw
        true = moved.cost(rows, cols, share)
        assert nudge.cost == pytest.approx(true, rel=1e-12)
        assert shown(nudge, 2) == pytest.approx(true, rel=1e-9)  # what the readout shows
        assert shown(nudge, 3) == pytest.approx(c0 + e.value * dw, rel=1e-9)
        assert nudge.explanation.derivation.theta == pytest.approx(e.derivation.theta + dw, abs=1e-15)
        after = [W for W in net.weights] + [b for b in net.biases]
        assert all(np.array_equal(a, b) for a, b in zip(before, after))  # the user's network: untouched
    assert nudge.slider.max > 0.1 and nudge.slider.min == -nudge.slider.max


def test_the_first_order_is_right_for_small_nudges_and_misses_curvature_for_large(fitted):
    net, X, y = fitted
    nudge = widgets.nudge(net, X, y, weight=(1, 2, 30), span=2.0)
    nudge.slider.value = 0.02
    small = abs(nudge.cost - nudge.prediction)
    nudge.slider.value = 2.0
    large = abs(nudge.cost - nudge.prediction)
    assert small < 1e-3 * large


def test_static_display_shows_the_numbers_and_the_derivation_at_delta_w_zero(fitted):
    net, X, y = fitted
    nudge = widgets.nudge(net, X, y, weight=(2, 3, 1))
    bundle = nudge._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle  # live in a kernel
    text = bundle["text/plain"]
    assert text.startswith("nudge w^(L)_{3,1}: Δw = 0") and "net.cost" in text
    assert str(deltaprop.explain(net, X, y, weight=(2, 3, 1))) in text  # the derivation, readable
    assert "<math" in bundle["text/html"] and "$" not in bundle["text/html"]
    assert repr(nudge) == text


def test_explorer_shows_explain_for_the_chosen_parameter_example_and_notation(fitted):
    net, X, y = fitted
    ex = widgets.explorer(net, X, y)
    assert str(ex.explanation) == str(deltaprop.explain(net, X, y, weight=(1, 0, 0)))
    ex.layer.value = 2
    assert list(ex.neuron.options) == list(range(10)) and len(ex.weight.options) == 8 + 1  # k, or the bias
    ex.neuron.value, ex.weight.value, ex.example.value, ex.notation.value = 6, ex.BIAS, 5, "nielsen"
    want = deltaprop.explain(net, X, y, bias=(2, 6), sample=5, notation="nielsen")
    assert str(ex.explanation) == str(want)
    assert "<math" in ex.derivation.value
    text = ex._repr_mimebundle_()["text/plain"]
    assert "example 5" in text and str(want) in text


def test_bad_arguments_are_explain_s_one_line_errors(fitted):
    net, X, y = fitted
    with pytest.raises(ValueError, match=r"neuron j of layer 2 \(size 10\)"):
        widgets.nudge(net, X, y, weight=(2, 10, 0))
    with pytest.raises(ValueError, match="span must be a positive number"):
        widgets.nudge(net, X, y, weight=(2, 0, 0), span=-1)


def test_a_clear_import_error_names_the_extra_when_ipywidgets_is_missing():
    code = ("import sys; sys.modules['ipywidgets'] = None\n"
            "import deltaprop, numpy as np\nfrom deltaprop import widgets\n"
            "net = deltaprop.Network([2, 2], seed=0)\n"
            "try:\n    widgets.nudge(net, np.zeros((1, 2)), np.zeros((1, 2)), weight=(1, 0, 0))\n"
            "except ImportError as exc:\n    print(exc)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert 'pip install "deltaprop[notebook]"' in out.stdout
    out = subprocess.run([sys.executable, "-c", "import deltaprop, sys; print('ipywidgets' in sys.modules)"],
                         capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "False"  # import deltaprop does not load ipywidgets


def test_nudge_takes_a_fitted_estimator_with_a_dataframe_and_string_labels():
    pd = pytest.importorskip("pandas")
    ds = load_dataset("digits", seed=0)
    X = pd.DataFrame(ds.X_train[:80], columns=[f"p{i}" for i in range(64)])
    y = np.array([f"digit {c}" for c in ds.labels(ds.y_train[:80])])
    clf = deltaprop.MLPClassifier(hidden_layer_sizes=(6,), epochs=3, random_state=0).fit(X, y)
    nudge = widgets.nudge(clf, X, y, weight=(1, 2, 30))
    nudge.slider.value = 0.5 * nudge.slider.max
    moved = clf.network_.copy(dtype="float64")
    moved.weights[0][2, 30] += nudge.slider.value
    assert nudge.cost == pytest.approx(moved.cost(X.to_numpy(), y), rel=1e-12)
