"""deltaprop.courses.nielsen: Nielsen's layout both ways, his conventions, and check_backprop.

The learner's code below is written as his network.py / network2.py write it (column vectors,
``backprop(x, y)`` per example, the cost classes of network2), with one switch per classic
mistake, so that the checker is run on the code a reader of the book writes.
"""

import numpy as np
import pytest

from conftest import by_array
from deltaprop.courses import nielsen
from deltaprop.courses.nielsen import NielsenError


# ------------------------------------------------------------------ the learner's network.py
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


class Network:
    """network.py: C = 1/(2n) Σ ‖y − a‖², δ^L = (a − y) ⊙ σ'(z^L); each of ``mistakes`` switches one line."""

    mistakes = ()

    def __init__(self, sizes):
        rng = np.random.default_rng(1)
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) for x, y in zip(sizes[:-1], sizes[1:])]

    def feedforward(self, a):
        for b, w in zip(self.biases, self.weights):
            a = sigmoid(np.dot(w, a) + b)
        return a

    def update_mini_batch(self, mini_batch, eta):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [w - (eta / len(mini_batch)) * nw for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]

    def output_error(self, z, a, y):
        if "wrong_output_delta" in self.mistakes:  # a − y, as if the cost were cross-entropy
            return self.cost_derivative(a, y)
        if "derivative_at_output_activation" in self.mistakes:
            return self.cost_derivative(a, y) * sigmoid_prime(a)
        return self.cost_derivative(a, y) * sigmoid_prime(z)

    def backprop(self, x, y):
        mistakes = self.mistakes
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        activation = x
        activations = [x]
        zs = []
        for b, w in zip(self.biases, self.weights):
            z = np.dot(w, activation) + b
            zs.append(z)
            activation = sigmoid(z)
            activations.append(activation)
        delta = self.output_error(zs[-1], activations[-1], y)
        nabla_b[-1] = self.bias_gradient(delta)
        nabla_w[-1] = self.weight_gradient(delta, activations[-2])
        for l in range(2, self.num_layers):
            z = zs[-l]
            sp = sigmoid_prime(activations[-l]) if "derivative_at_activation" in mistakes else sigmoid_prime(z)
            if "weights_not_transposed" in mistakes:
                delta = np.dot(self.weights[-l + 1], delta) * sp
            elif "missing_activation_derivative" in mistakes:
                delta = np.dot(self.weights[-l + 1].transpose(), delta)
            else:
                delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = self.bias_gradient(delta)
            nabla_w[-l] = self.weight_gradient(delta, activations[-l - 1])
        if "swapped" in mistakes:
            return (nabla_w, nabla_b)
        return (nabla_b, nabla_w)

    def bias_gradient(self, delta):
        if "flat_bias" in self.mistakes:  # from a vectorised mini-batch version: (n,), not (n, 1)
            return np.sum(delta, axis=1)
        return delta

    def weight_gradient(self, delta, activation):
        if "transposed" in self.mistakes:
            return np.dot(activation, delta.transpose())
        return np.dot(delta, activation.transpose())

    def cost_derivative(self, output_activations, y):
        if "half_cost" in self.mistakes:  # C_x = ‖y − a‖² without the ½
            return 2 * (output_activations - y)
        if "sign" in self.mistakes:
            return y - output_activations
        return output_activations - y


def learner(*mistakes, base=Network):
    """The learner's Network class, with these mistakes."""
    return type("Network", (base,), {"mistakes": mistakes})


# ------------------------------------------------------------------ the learner's network2.py
class QuadraticCost:
    @staticmethod
    def fn(a, y):
        return 0.5 * np.linalg.norm(a - y) ** 2

    @staticmethod
    def delta(z, a, y):
        return (a - y) * sigmoid_prime(z)


class CrossEntropyCost:
    @staticmethod
    def fn(a, y):
        return np.sum(np.nan_to_num(-y * np.log(a) - (1 - y) * np.log(1 - a)))

    @staticmethod
    def delta(z, a, y):
        return a - y


class Network2(Network):
    """network2.py: the cost a class with ``fn`` and ``delta``; L2 in the update, not in backprop."""

    def __init__(self, sizes, cost=CrossEntropyCost):
        self.num_layers = len(sizes)
        self.sizes = sizes
        rng = np.random.default_rng(2)
        self.biases = [rng.standard_normal((y, 1)) for y in sizes[1:]]
        self.weights = [rng.standard_normal((y, x)) / np.sqrt(x) for x, y in zip(sizes[:-1], sizes[1:])]
        self.cost = cost

    def output_error(self, z, a, y):
        return self.cost.delta(z, a, y)

    def update_mini_batch(self, mini_batch, eta, lmbda, n):
        nabla_b = [np.zeros(b.shape) for b in self.biases]
        nabla_w = [np.zeros(w.shape) for w in self.weights]
        for x, y in mini_batch:
            delta_nabla_b, delta_nabla_w = self.backprop(x, y)
            nabla_b = [nb + dnb for nb, dnb in zip(nabla_b, delta_nabla_b)]
            nabla_w = [nw + dnw for nw, dnw in zip(nabla_w, delta_nabla_w)]
        self.weights = [(1 - eta * (lmbda / n)) * w - (eta / len(mini_batch)) * nw
                        for w, nw in zip(self.weights, nabla_w)]
        self.biases = [b - (eta / len(mini_batch)) * nb for b, nb in zip(self.biases, nabla_b)]


def cost_with(delta):
    """A network2 cost class whose ``delta`` is the learner's."""
    return type("CrossEntropyCost", (CrossEntropyCost,), {"delta": staticmethod(delta)})


# network2's QuadraticCost with the cross-entropy's delta: BP1's σ'(z^L) dropped
QuadraticWithoutSigmaPrime = type("QuadraticCost", (QuadraticCost,), {"delta": staticmethod(lambda z, a, y: a - y)})


def network2_with(cost):
    """network2's Network, constructed by the checker as Network(sizes), with this cost."""
    class Learner(Network2):
        def __init__(self, sizes):
            super().__init__(sizes, cost=cost)
    return Learner


# ------------------------------------------------------------------ set-ups
def parameters(sizes=(3, 4, 2), seed=0):
    rng = np.random.default_rng(seed)
    biases = [rng.standard_normal((n, 1)) for n in sizes[1:]]
    weights = [rng.standard_normal((n_out, n_in)) for n_in, n_out in zip(sizes[:-1], sizes[1:])]
    return biases, weights


def example(sizes=(3, 4, 2), seed=5):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (sizes[0], 1))
    y = np.zeros((sizes[-1], 1))
    y[1] = 1.0
    return x, y


def his(base=Network, sizes=(3, 4, 2), cost=CrossEntropyCost):
    """An instance of the learner's (correct) network with the fixed parameters."""
    obj = Network2(list(sizes), cost=cost) if base is Network2 else base(list(sizes))
    obj.biases, obj.weights = parameters(sizes)
    return obj


ALL = ("nabla_w[0]", "nabla_w[1]", "nabla_b[0]", "nabla_b[1]")
HIDDEN = ("nabla_w[0]", "nabla_b[0]")


# ------------------------------------------------------------------ conversions
def test_to_network_from_his_lists_round_trips_and_runs_his_forward_pass():
    biases, weights = parameters()
    net = nielsen.to_network((biases, weights))
    assert net.sizes == [3, 4, 2] and [g.name for g in net.g] == ["sigmoid", "sigmoid"]
    assert net.cost_name == "half_quadratic"
    back_b, back_w = nielsen.from_network(net)
    for got, want in zip(back_b + back_w, biases + weights):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, want)
    x, _ = example()
    np.testing.assert_allclose(net.forward(x.T).T, his().feedforward(x), rtol=1e-12)


def test_to_network_maps_his_cost_names_and_classes():
    biases, weights = parameters()
    assert nielsen.to_network((biases, weights), cost="cross_entropy").cost_name == "binary_cross_entropy"
    assert nielsen.to_network((biases, weights), cost=CrossEntropyCost).cost_name == "binary_cross_entropy"
    assert nielsen.to_network((biases, weights), cost=QuadraticCost).cost_name == "half_quadratic"
    assert nielsen.to_network(([b.ravel() for b in biases], weights)).sizes == [3, 4, 2]


def test_to_network_from_sizes_draws_network2s_default_initialisation_from_the_seed():
    a, b = nielsen.to_network([784, 30, 10], seed=3), nielsen.to_network([784, 30, 10], seed=3)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert abs(a.weights[0].std() * np.sqrt(784) - 1) < 0.05  # w ~ N(0, 1/n_in)
    assert abs(a.biases[0].std() - 1) < 0.5 and a.biases[0].any()  # b ~ N(0, 1), not zeros


@pytest.mark.parametrize("spec, message", [
    (([np.zeros((4, 1))], [np.zeros((4, 3)), np.zeros((2, 4))]), "1 biases and 2 weights"),
    (([np.zeros((4, 1)), np.zeros((2, 1))], [np.zeros((4, 3)), np.zeros((2, 5))]), r"weights\[1\] has shape \(2, 5\)"),
    (([np.zeros((1, 4)), np.zeros((2, 1))], [np.zeros((4, 3)), np.zeros((2, 4))]), r"biases\[0\] must be a column vector of shape \(4, 1\)"),
    (([np.zeros((4, 1))], [np.zeros(4)]), r"weights\[0\] must be a 2-D array"),
    (([np.zeros((4, 1))], [[["a"]]]), r"weights\[0\] must be an array of numbers"),
    ("network", "sizes .* or the pair"),
    ([3], "at least two positive layer sizes"),
])
def test_to_network_refuses_malformed_input_in_one_line(spec, message):
    with pytest.raises(NielsenError, match=message) as info:
        nielsen.to_network(spec)
    assert "\n" not in str(info.value)


def test_to_network_refuses_an_unknown_cost():
    with pytest.raises(NielsenError, match="'quadratic' .*'cross_entropy'.*got 'mse'"):
        nielsen.to_network([3, 2], cost="mse")
    with pytest.raises(NielsenError, match="LogLikelihoodCost; expected network2's QuadraticCost or CrossEntropyCost"):
        nielsen.to_network([3, 2], cost=type("LogLikelihoodCost", (), {}))


# ------------------------------------------------------------------ his conventions, computed by deltaprop
@pytest.mark.parametrize("cost, his_cost", [("quadratic", QuadraticCost), ("cross_entropy", CrossEntropyCost)])
def test_backprop_equals_his_backprop_for_one_example(cost, his_cost):
    biases, weights = parameters()
    x, y = example()
    nabla_b, nabla_w = nielsen.backprop(nielsen.to_network((biases, weights), cost=cost), x, y)
    want_b, want_w = his(base=Network2, cost=his_cost).backprop(x, y)
    for got, want in zip(nabla_b + nabla_w, want_b + want_w):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("cost, his_cost", [("quadratic", QuadraticCost), ("cross_entropy", CrossEntropyCost)])
def test_backprop_equals_central_differences_of_his_cost(cost, his_cost):
    biases, weights = parameters()
    x, y = example()
    nabla_b, nabla_w = nielsen.backprop(nielsen.to_network((biases, weights), cost=cost), x, y)

    def C_x(b, w):  # his cost of one example: ½‖a − y‖² (network.py) or network2's CrossEntropyCost.fn
        net = Network2([3, 4, 2])
        net.biases, net.weights = b, w
        return his_cost.fn(net.feedforward(x), y)

    eps = 1e-6
    for params, nabla in ((biases, nabla_b), (weights, nabla_w)):
        for arr, grad in zip(params, nabla):
            numeric = np.zeros_like(arr)
            for idx in np.ndindex(arr.shape):
                old = arr[idx]
                arr[idx] = old + eps
                plus = C_x(biases, weights)
                arr[idx] = old - eps
                minus = C_x(biases, weights)
                arr[idx] = old
                numeric[idx] = (plus - minus) / (2 * eps)
            np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_from_gradients_of_a_mini_batch_is_the_sum_of_his_backprops_without_the_l2_term():
    biases, weights = parameters()
    net = nielsen.to_network((biases, weights))
    rng = np.random.default_rng(7)
    xs, ys = rng.uniform(size=(5, 3, 1)), rng.uniform(size=(5, 2, 1))
    nabla_b, nabla_w = nielsen.from_gradients(net.backward(xs[:, :, 0], ys[:, :, 0], l2=3.0))
    learner_net = his()
    sums = [np.zeros_like(a) for a in biases + weights]
    for x, y in zip(xs, ys):
        b, w = learner_net.backprop(x, y)
        sums = [s + a for s, a in zip(sums, b + w)]
    for got, want in zip(nabla_b + nabla_w, sums):
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("lmbda", [0.0, 5.0])
def test_update_mini_batch_is_his_update_with_l2_over_the_training_set_size(lmbda):
    biases, weights = parameters()
    net = nielsen.to_network((biases, weights), cost="cross_entropy")
    rng = np.random.default_rng(8)
    mini_batch = [(rng.uniform(size=(3, 1)), rng.uniform(size=(2, 1))) for _ in range(4)]
    nielsen.update_mini_batch(net, mini_batch, eta=0.5, lmbda=lmbda, n=50)
    reference = his(base=Network2, cost=CrossEntropyCost)
    reference.update_mini_batch(mini_batch, 0.5, lmbda, 50)
    got_b, got_w = nielsen.from_network(net)
    for got, want in zip(got_b + got_w, reference.biases + reference.weights):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_update_mini_batch_needs_n_for_regularisation():
    net = nielsen.to_network(parameters())
    with pytest.raises(NielsenError, match="lmbda=0.1 needs n"):
        nielsen.update_mini_batch(net, [example()], eta=1.0, lmbda=0.1)


def test_backprop_refuses_x_of_the_wrong_shape():
    with pytest.raises(NielsenError, match=r"x must be a column vector of shape \(3, 1\).*got shape \(1, 3\)"):
        nielsen.backprop(nielsen.to_network(parameters()), np.zeros((1, 3)), np.zeros((2, 1)))


# ------------------------------------------------------------------ check_backprop
@pytest.mark.parametrize("network", [
    Network,
    network2_with(CrossEntropyCost),
    network2_with(QuadraticCost),
    Network2,  # network2's default cost, CrossEntropyCost
], ids=["network.py", "network2 cross-entropy", "network2 quadratic", "network2 default"])
def test_check_backprop_finds_his_own_backprop_correct(network):
    diagnosis = nielsen.check_backprop(network)
    assert diagnosis.ok, str(diagnosis)
    assert diagnosis.course == "nielsen"
    assert {f.array for f in diagnosis.findings} == set(ALL)


def test_check_backprop_takes_an_instance_or_its_bound_backprop_and_puts_its_parameters_back():
    net = Network([3, 5, 4, 2])
    before = [a.copy() for a in net.biases + net.weights]
    for given in (net, net.backprop):
        diagnosis = nielsen.check_backprop(given)
        assert diagnosis.ok, str(diagnosis)
        assert {f.array for f in diagnosis.findings} >= {"nabla_w[2]", "nabla_b[2]"}
    for got, want in zip(net.biases + net.weights, before):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("network, expected", [
    # δ^L = a − y with the quadratic cost: the σ'(z^L) of BP1 missing; every layer below inherits it
    (learner("wrong_output_delta"), {a: ["wrong_output_delta"] for a in ALL}),
    (network2_with(QuadraticWithoutSigmaPrime), {a: ["wrong_output_delta"] for a in ALL}),
    # σ'(a) for σ'(z): in BP2 only (the hidden layer), or in BP1 (then everything)
    (learner("derivative_at_activation"), {a: ["derivative_at_activation"] for a in HIDDEN}),
    (learner("derivative_at_output_activation"), {a: ["derivative_at_activation"] for a in ALL}),
    # BP2 without ⊙ σ'(z^l)
    (learner("missing_activation_derivative"), {a: ["missing_activation_derivative"] for a in HIDDEN}),
    # np.dot(a, δᵀ) for np.dot(δ, aᵀ): nabla_w[i] comes out (n_in, n_out)
    (learner("transposed"), {"nabla_w[0]": ["transposed"], "nabla_w[1]": ["transposed"]}),
    # nabla_b as (n,) where his biases are (n, 1) columns
    (learner("flat_bias"), {"nabla_b[0]": ["shape"], "nabla_b[1]": ["shape"]}),
    # 2(a − y): the quadratic cost without Nielsen's ½
    (learner("half_cost"), {a: ["half_cost"] for a in ALL}),
    # y − a: the gradient of −C
    (learner("sign"), {a: ["sign"] for a in ALL}),
    (network2_with(cost_with(lambda z, a, y: y - a)), {a: ["sign"] for a in ALL}),
    # (nabla_w, nabla_b): the values right, the order not
    (learner("swapped"), {"backprop": ["shape"]}),
    # σ'(a) in BP2 and 2(a − y) in BP1: both
    (learner("half_cost", "derivative_at_activation"),
     {"nabla_w[1]": ["half_cost"], "nabla_b[1]": ["half_cost"],
      "nabla_w[0]": ["derivative_at_activation", "half_cost"], "nabla_b[0]": ["derivative_at_activation", "half_cost"]}),
], ids=["wrong_output_delta", "wrong_output_delta network2", "derivative_at_activation hidden",
        "derivative_at_activation output", "missing_activation_derivative", "transposed", "shape nabla_b",
        "half_cost", "sign", "sign network2", "swapped", "two mistakes"])
def test_check_backprop_names_the_mistake(network, expected):
    diagnosis = nielsen.check_backprop(network)
    assert not diagnosis.ok
    found = by_array(diagnosis)
    assert found == expected, str(diagnosis)
    for f in diagnosis.findings:
        assert f.message and "\n" not in f.message


def test_check_backprop_gives_the_worst_element_and_factor():
    diagnosis = nielsen.check_backprop(learner("half_cost"))
    f = next(f for f in diagnosis.findings if f.array == "nabla_w[1]")
    assert f.kind == "half_cost" and f.factor == pytest.approx(2.0)
    assert f.given == pytest.approx(2 * f.expected)


def test_check_backprop_reports_a_crash_in_backprop_in_one_line():
    # np.dot(w^{l+1}, δ) without the transpose: (2, 4) · (2, 1) cannot be multiplied
    with pytest.raises(NielsenError, match=r"backprop\(x, y\) raised ValueError: .*x is a \(3, 1\) column") as info:
        nielsen.check_backprop(learner("weights_not_transposed"))
    assert "\n" not in str(info.value)


def test_check_backprop_refuses_what_it_cannot_run():
    with pytest.raises(NielsenError, match="needs the Network class"):
        nielsen.check_backprop(lambda x, y: None)
    with pytest.raises(NielsenError, match="must return the pair"):
        nielsen.check_backprop(type("Network", (Network,), {"backprop": lambda self, x, y: None}))
    with pytest.raises(NielsenError, match="the network's cost is LogLikelihoodCost; expected network2's"):
        nielsen.check_backprop(network2_with(type("LogLikelihoodCost", (CrossEntropyCost,), {})))
    assert nielsen.check_backprop(network2_with(type("LogLikelihoodCost", (CrossEntropyCost,), {})),
                                  cost="cross_entropy").ok
