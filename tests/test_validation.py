"""deltaprop.validation: the checks at the public boundaries say what was wrong and where."""

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.validation import check_inputs


@pytest.mark.parametrize("X, message", [
    (None, r"^X is None; expected an array of shape \(n_samples, 3\)$"),
    (np.empty((5, 0)), r"^X has no feature columns \(shape \(5, 0\)\) but the network's input layer has 3"),
    ([[], []], r"^X has no feature columns \(shape \(2, 0\)\)"),
    ([], r"^X must be 2-D with shape \(n_samples, 3\), got shape \(0,\)$"),  # no reshape(1, -1) hint
])
def test_check_inputs_names_the_real_problem(X, message):
    with pytest.raises(ValueError, match=message):
        check_inputs(X, 3, np.float64)


def test_a_non_finite_input_is_placed_by_row_column_and_feature_name():
    X = np.zeros((3, 3))
    X[2, 1] = np.inf
    with pytest.raises(ValueError, match=r"^X contains inf at \[2, 1\] \(feature 'b'\); NaN and infinity"):
        check_inputs(X, 3, np.float64, feature_names=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"^X contains inf at \[2, 1\]; NaN and infinity"):
        check_inputs(X, 3, np.float64)


@pytest.mark.parametrize("method", ["predict", "fit"])
def test_network_methods_refuse_x_none_and_no_columns(method):
    net = dp.Network([3, 4, 2], output="softmax", cost="cross_entropy", seed=0)
    call = {"predict": lambda X: net.predict(X), "fit": lambda X: net.fit(X, [0, 1, 0, 1, 0], epochs=1)}[method]
    with pytest.raises(ValueError, match=r"^X is None; expected an array of shape \(n_samples, 3\)$"):
        call(None)
    with pytest.raises(ValueError, match=r"^X has no feature columns \(shape \(5, 0\)\)"):
        call(np.empty((5, 0)))
