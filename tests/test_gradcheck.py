import numpy as np
import pytest

import deltaprop as dp
from conftest import PAIRINGS, make_targets, randomise_biases


@pytest.mark.parametrize("hidden", ["sigmoid", "tanh", "relu", "leaky_relu", "identity"])
@pytest.mark.parametrize("output,cost", PAIRINGS)
def test_gradcheck_passes_for_every_pairing(hidden, output, cost):
    rng = np.random.default_rng(0)
    net = randomise_biases(dp.Network([4, 5, 3], activation=hidden, output=output, cost=cost, seed=1), rng)
    X = rng.normal(size=(6, 4))
    Y = make_targets(rng, output, cost, 6, 3)
    result = dp.gradcheck(net, X, Y, l2=0.5)
    assert result.max_relative_error < 1e-7, str(result)
    assert [c.name for c in result.arrays] == ["W1", "b1", "W2", "b2"]
    assert result.passed()


class BrokenNetwork(dp.Network):
    """A network whose backward forgets g'(z) in the hidden layers: gradcheck must notice."""

    def _backprop(self, X, Y, l2, sample_weight=None):
        grads = super()._backprop(X, Y, l2, sample_weight)
        grads.weights[0] = grads.weights[0] * 1.01
        return grads


def test_gradcheck_detects_a_wrong_gradient():
    rng = np.random.default_rng(0)
    net = BrokenNetwork([3, 4, 2], activation="tanh", seed=0)
    X, Y = rng.normal(size=(5, 3)), rng.normal(size=(5, 2))
    result = dp.gradcheck(net, X, Y)
    assert result.per_array["W1"] > 1e-3
    assert result.per_array["W2"] < 1e-8
    assert not result.passed()


def test_gradcheck_samples_large_arrays_and_leaves_the_network_alone():
    rng = np.random.default_rng(0)
    net = dp.Network([100, 30, 10], output="softmax", cost="cross_entropy", seed=0, dtype="float32")
    before = [W.copy() for W in net.weights]
    X = rng.normal(size=(8, 100))
    Y = np.eye(10)[rng.integers(0, 10, 8)]
    result = dp.gradcheck(net, X, Y, max_checks=20)
    w1 = result.arrays[0]
    assert (w1.checked, w1.total) == (20, 3000)
    assert len({tuple(i) for i in w1.indices}) == 20
    assert result.max_relative_error < 1e-7  # checked in float64 even for a float32 network
    for W, B in zip(net.weights, before):
        np.testing.assert_array_equal(W, B)
    assert "max relative error" in str(result)


def test_relative_error_definition():
    from deltaprop.gradcheck import relative_error

    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert relative_error([1.0], [-1.0]) == 1.0
    assert relative_error([3.0, 4.0], [3.0, 4.0 + 1e-6]) == pytest.approx(1e-6 / 10)


def test_gradcheck_rejects_bad_eps():
    net = dp.Network([2, 1])
    with pytest.raises(ValueError, match="eps must be a positive number"):
        dp.gradcheck(net, np.ones((1, 2)), np.ones((1, 1)), eps=0)
