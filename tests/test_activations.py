import numpy as np
import pytest

from deltaprop.activations import (
    ACTIVATIONS,
    LeakyReLU,
    ReLU,
    Sigmoid,
    Softmax,
    Tanh,
    get_activation,
)
from test_registry import ELEMENTWISE  # generated from the registry


def test_sigmoid_known_values():
    g = Sigmoid()
    z = np.array([[0.0, 1.0, -1.0]])
    a = g.value(z)
    np.testing.assert_allclose(a, [[0.5, 0.7310585786300049, 0.2689414213699951]], rtol=1e-15)
    d = g.derivative(z, a)
    assert d[0, 0] == 0.25
    np.testing.assert_allclose(d[0, 1:], [0.196612, 0.196612], atol=5e-7)


def test_sigmoid_matches_textbook_formula_and_never_overflows():
    z = np.linspace(-30, 30, 601).reshape(1, -1)
    np.testing.assert_allclose(Sigmoid().value(z), 1 / (1 + np.exp(-z)), rtol=1e-13, atol=1e-300)
    with np.errstate(over="raise"):
        a = Sigmoid().value(np.array([[-1e308, 1e308]]))
    assert a.tolist() == [[0.0, 1.0]]


def test_tanh_relu_leaky_known_values():
    z = np.array([[-2.0, -0.5, 0.5, 2.0]])
    assert Tanh().derivative(z, Tanh().value(z))[0, 1] == pytest.approx(1 - np.tanh(-0.5) ** 2)
    assert ReLU().value(z).tolist() == [[0, 0, 0.5, 2.0]]
    assert ReLU().derivative(z, ReLU().value(z)).tolist() == [[0, 0, 1, 1]]
    leaky = LeakyReLU(0.1)
    np.testing.assert_allclose(leaky.value(z), [[-0.2, -0.05, 0.5, 2.0]])
    np.testing.assert_allclose(leaky.derivative(z, leaky.value(z)), [[0.1, 0.1, 1, 1]])


@pytest.mark.parametrize("name", ELEMENTWISE)
def test_derivative_matches_central_difference(name, rng):
    g = get_activation(name)
    z = rng.normal(scale=2, size=(6, 5))
    z[np.abs(z) < 1e-3] = 0.5  # keep away from the ReLU kink
    eps = 1e-6
    numeric = (g.value(z + eps) - g.value(z - eps)) / (2 * eps)
    np.testing.assert_allclose(g.derivative(z, g.value(z)), numeric, rtol=1e-7, atol=1e-9)


def test_softmax_rows_sum_to_one_and_survive_huge_inputs():
    z = np.array([[1000.0, 0.0, -1000.0], [1.0, 2.0, 3.0]])
    with np.errstate(over="raise", invalid="raise"):
        a = Softmax().value(z)
    np.testing.assert_allclose(a.sum(axis=1), 1.0)
    assert a[0, 0] == 1.0
    e = np.exp([1.0, 2.0, 3.0])
    np.testing.assert_allclose(a[1], e / e.sum(), rtol=1e-15)


def test_softmax_jacobian_matches_central_difference_and_backprop(rng):
    g = Softmax()
    z = rng.normal(size=(4, 5))
    a = g.value(z)
    J = g.derivative(z, a)  # (m, n, n), J[i, j, k] = ∂a_j/∂z_k
    eps = 1e-6
    for k in range(5):
        dz = np.zeros_like(z)
        dz[:, k] = eps
        numeric = (g.value(z + dz) - g.value(z - dz)) / (2 * eps)
        np.testing.assert_allclose(J[:, :, k], numeric, rtol=1e-7, atol=1e-10)
    grad_a = rng.normal(size=(4, 5))
    np.testing.assert_allclose(g.backprop(z, a, grad_a), np.einsum("mj,mjk->mk", grad_a, J), atol=1e-14)


def test_elementwise_backprop_is_hadamard_product(rng):
    for name in ELEMENTWISE:
        g = get_activation(name)
        z = rng.normal(size=(3, 4))
        a = g.value(z)
        grad_a = rng.normal(size=(3, 4))
        np.testing.assert_array_equal(g.backprop(z, a, grad_a), grad_a * g.derivative(z, a))


def test_log_helpers_are_stable():
    z = np.array([[-800.0, 0.0, 800.0]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        np.testing.assert_allclose(Sigmoid.log_value(z), [[-800.0, np.log(0.5), 0.0]])
        np.testing.assert_allclose(Sigmoid.log_complement(z), [[0.0, np.log(0.5), -800.0]])
        np.testing.assert_allclose(Softmax.log_value(z), [[-1600.0, -800.0, 0.0]])


def test_unknown_activation_names_the_choices():
    with pytest.raises(ValueError, match="unknown activation 'sigmod'.*sigmoid"):
        get_activation("sigmod")


def test_config_round_trip():
    for name in ACTIVATIONS:
        g = get_activation(name)
        assert get_activation(g.config()) == g
    assert get_activation({"name": "leaky_relu", "slope": 0.2}).slope == 0.2
    with pytest.raises(ValueError, match="slope"):
        LeakyReLU(1.5)
