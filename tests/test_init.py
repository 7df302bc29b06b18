import numpy as np
import pytest

import deltaprop as dp


@pytest.mark.parametrize(
    "init,expected_std",
    [
        ("nielsen", lambda n_in, n_out: 1 / np.sqrt(n_in)),
        ("he", lambda n_in, n_out: np.sqrt(2 / n_in)),
        ("glorot", lambda n_in, n_out: np.sqrt(6 / (n_in + n_out)) / np.sqrt(3)),
        ("ng", lambda n_in, n_out: np.sqrt(6) / np.sqrt(n_in + n_out) / np.sqrt(3)),
    ],
)
def test_initialiser_scale(init, expected_std):
    net = dp.Network([400, 300], init=init, seed=0)
    W = net.weights[0]
    assert W.std() == pytest.approx(expected_std(400, 300), rel=0.02)
    assert abs(W.mean()) < 0.01 * expected_std(400, 300) * 10


def test_uniform_initialisers_stay_in_their_range():
    r = np.sqrt(6 / 700)
    for init in ("glorot", "ng"):
        net = dp.Network([400, 300], init=init, seed=1)
        assert np.abs(net.weights[0]).max() <= r
    assert np.all(dp.Network([400, 300], init="glorot").biases[0] == 0)
    ng_bias = dp.Network([400, 300], init="ng", seed=1).biases[0]
    assert np.abs(ng_bias).max() <= r and np.count_nonzero(ng_bias) == 300  # Θ's bias column too


def test_default_init_depends_on_hidden_activation():
    assert dp.Network([3, 2], activation="relu").init == "he"
    assert dp.Network([3, 2], activation="sigmoid").init == "nielsen"


def test_generator_seed_is_used():
    a = dp.Network([3, 4], seed=np.random.default_rng(5))
    b = dp.Network([3, 4], seed=np.random.default_rng(5))
    np.testing.assert_array_equal(a.weights[0], b.weights[0])


def test_parameters_are_64_byte_aligned():
    net = dp.Network([33, 17, 5], seed=0, dtype="float32")
    for p in list(net.weights) + list(net.biases):
        assert p.ctypes.data % 64 == 0
