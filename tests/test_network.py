"""The engine: backward's gradients against central differences, PyTorch, and a step by hand."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import deltaprop as dp
from conftest import make_targets, randomise_biases
from test_registry import HIDDEN, PAIRINGS  # generated from the registries


def central_differences(net, X, Y, l2, eps=1e-6):
    """Every ∂C/∂θ by (C(θ+ε) − C(θ−ε)) / 2ε, written independently of gradcheck."""
    out = []
    for params in (net.weights, net.biases):
        grads = []
        for theta in params:
            g = np.zeros_like(theta)
            for pos in np.ndindex(theta.shape):
                old = theta[pos]
                theta[pos] = old + eps
                plus = net.cost(X, Y, l2)
                theta[pos] = old - eps
                minus = net.cost(X, Y, l2)
                theta[pos] = old
                g[pos] = (plus - minus) / (2 * eps)
            grads.append(g)
        out.append(grads)
    return out


def rel_err(a, b):
    return np.linalg.norm(a - b) / max(np.linalg.norm(a) + np.linalg.norm(b), 1e-300)


@st.composite
def architectures(draw):
    depth = draw(st.integers(1, 4))  # weight layers
    sizes = [draw(st.integers(1, 6)) for _ in range(depth + 1)]
    hidden = draw(st.sampled_from(HIDDEN))
    output, cost = draw(st.sampled_from(PAIRINGS))
    if output == "softmax" and sizes[-1] == 1:
        sizes[-1] = 3
    m = draw(st.integers(1, 7))
    l2 = draw(st.sampled_from([0.0, 0.7]))
    seed = draw(st.integers(0, 2**31))
    return sizes, hidden, output, cost, m, l2, seed


def build(sizes, hidden, output, cost, m, seed):
    rng = np.random.default_rng(seed)
    net = dp.Network(sizes, activation=hidden, output=output, cost=cost, seed=seed, init="glorot")
    randomise_biases(net, rng)
    X = rng.normal(size=(m, sizes[0]))
    Y = make_targets(rng, output, cost, m, sizes[-1])
    return net, X, Y


@settings(max_examples=60)
@given(architectures())
def test_backward_matches_central_differences(arch):
    sizes, hidden, output, cost, m, l2, seed = arch
    net, X, Y = build(sizes, hidden, output, cost, m, seed)
    grads = net.backward(X, Y, l2=l2)
    numeric_W, numeric_b = central_differences(net, X, Y, l2)
    for analytic, numeric in zip(grads.weights + grads.biases, numeric_W + numeric_b):
        assert analytic.shape == numeric.shape
        assert rel_err(analytic, numeric) < 1e-7, (analytic, numeric)
    assert grads.cost == pytest.approx(net.cost(X, Y, l2), rel=1e-15)




def torch_gradients(net, X, Y, l2):
    """The same cost built from PyTorch's own functions, differentiated by autograd."""
    import torch
    import torch.nn.functional as F

    Ws = [torch.tensor(W, dtype=torch.float64, requires_grad=True) for W in net.weights]
    bs = [torch.tensor(b, dtype=torch.float64, requires_grad=True) for b in net.biases]
    a = torch.tensor(X, dtype=torch.float64)
    y = torch.tensor(Y, dtype=torch.float64)
    funcs = {
        "sigmoid": torch.sigmoid,
        "tanh": torch.tanh,
        "relu": torch.relu,
        "leaky_relu": lambda z: F.leaky_relu(z, 0.01),
        "identity": lambda z: z,
        "softmax": lambda z: torch.softmax(z, dim=1),
    }
    m = X.shape[0]
    z = None
    for W, b, g in zip(Ws, bs, net.activations):
        z = F.linear(a, W, b)
        a = funcs[g.name](z)
    name = net.cost_function.name
    if name == "quadratic":
        C = ((a - y) ** 2).sum() / m
    elif name == "half_quadratic":
        C = 0.5 * F.mse_loss(a, y, reduction="sum") / m
    elif name == "binary_cross_entropy":
        C = F.binary_cross_entropy_with_logits(z, y, reduction="sum") / m
    else:
        C = -(y * torch.log_softmax(z, dim=1)).sum() / m
    C = C + l2 / (2 * m) * sum((W**2).sum() for W in Ws)
    C.backward()
    return C.item(), [W.grad.numpy() for W in Ws], [b.grad.numpy() for b in bs]


@settings(max_examples=60)
@given(architectures())
def test_backward_matches_pytorch_autograd(arch):
    pytest.importorskip("torch")
    sizes, hidden, output, cost, m, l2, seed = arch
    net, X, Y = build(sizes, hidden, output, cost, m, seed)
    grads = net.backward(X, Y, l2=l2)
    C, tW, tb = torch_gradients(net, X, Y, l2)
    assert grads.cost == pytest.approx(C, rel=1e-12, abs=1e-14)
    for ours, theirs in zip(grads.weights + grads.biases, tW + tb):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("output", ["sigmoid", "identity", "tanh"])
def test_half_quadratic_matches_central_differences_and_pytorch(output):
    """C = (1/m) Σ_x ½ Σ_j (a_j − y_j)² in float64, with L2: backward against central
    differences and against autograd of 0.5 · mse_loss(reduction="sum") / m."""
    pytest.importorskip("torch")
    net, X, Y = build([3, 4, 2], "tanh", output, "half_quadratic", 5, 11)
    assert net.cost_function.name == "half_quadratic"
    grads = net.backward(X, Y, l2=0.3)
    numeric_W, numeric_b = central_differences(net, X, Y, 0.3)
    for analytic, numeric in zip(grads.weights + grads.biases, numeric_W + numeric_b):
        assert rel_err(analytic, numeric) < 1e-7, (analytic, numeric)
    C, tW, tb = torch_gradients(net, X, Y, 0.3)
    assert grads.cost == pytest.approx(C, rel=1e-12)
    for ours, theirs in zip(grads.weights + grads.biases, tW + tb):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("output", ["sigmoid", "identity", "tanh", "relu", "softmax"])
def test_half_quadratic_gradient_is_exactly_half_the_quadratic(output):
    """The same network and data: the cost, every δ^l and every gradient are exactly half of the
    quadratic cost's (without L2, whose gradient does not depend on the cost); for an identity
    output δ^L is a − y itself."""
    quad, X, Y = build([3, 5, 4], "sigmoid", output, "quadratic", 6, 2)
    half, X_half, Y_half = build([3, 5, 4], "sigmoid", output, "half_quadratic", 6, 2)
    for p, q in zip([*half.weights, *half.biases, X_half, Y_half], [*quad.weights, *quad.biases, X, Y]):
        np.testing.assert_array_equal(p, q)
    g_quad, g_half = quad.backward(X, Y), half.backward(X, Y)
    assert g_half.cost == 0.5 * g_quad.cost
    for h, q in zip(g_half.weights + g_half.biases + g_half.deltas, g_quad.weights + g_quad.biases + g_quad.deltas):
        np.testing.assert_array_equal(h, 0.5 * q)
    if output == "identity":
        np.testing.assert_array_equal(g_half.deltas[-1], g_half.activations[-1] - Y)


@pytest.mark.parametrize("output,cost", PAIRINGS)
def test_batched_gradient_is_mean_of_per_example_gradients(output, cost, rng):
    net, X, Y = build([4, 5, 3], "tanh", output, cost, 6, 7)
    batch = net.backward(X, Y, l2=0.0)
    singles = [net.backward(X[i : i + 1], Y[i : i + 1]) for i in range(6)]
    for l in range(net.n_layers):
        np.testing.assert_allclose(batch.weights[l], np.mean([s.weights[l] for s in singles], axis=0), atol=1e-15)
        np.testing.assert_allclose(batch.biases[l], np.mean([s.biases[l] for s in singles], axis=0), atol=1e-15)
        # δ^l is per example: row i of the batch's δ is example i's δ
        np.testing.assert_allclose(batch.deltas[l], np.vstack([s.deltas[l] for s in singles]), atol=1e-15)


def test_l2_adds_lambda_over_m_times_w_and_spares_biases():
    net, X, Y = build([3, 4, 2], "sigmoid", "sigmoid", "binary_cross_entropy", 5, 3)
    plain, reg = net.backward(X, Y), net.backward(X, Y, l2=2.0)
    for l in range(2):
        np.testing.assert_allclose(reg.weights[l] - plain.weights[l], (2.0 / 5) * net.weights[l], atol=1e-15)
        np.testing.assert_array_equal(reg.biases[l], plain.biases[l])
    penalty = 2.0 / (2 * 5) * sum((W**2).sum() for W in net.weights)
    assert reg.cost == pytest.approx(plain.cost + penalty, rel=1e-14)


def test_one_sgd_step_worked_by_hand():
    """A 2-2-1 sigmoid network, quadratic cost C = (a − y)², one example, α = 0.5.

    W¹ = [[0.1, 0.2], [0.3, 0.4]], b¹ = [0, 0], W² = [[0.5, 0.6]], b² = [0], x = [1, 2], y = 1.
    Forward:  z¹ = W¹x = [0.5, 1.1];  a¹ = σ(z¹) = [0.622459, 0.750260]
              z² = 0.5·0.622459 + 0.6·0.750260 = 0.761386;  a² = σ(z²) = 0.681655
    Output:   δ² = 2(a² − y)·σ'(z²) = 2(−0.318345)(0.681655·0.318345) = −0.138163
    Hidden:   δ¹ = (W²)ᵀδ² ⊙ σ'(z¹) = [0.5, 0.6]·(−0.138163) ⊙ [0.235004, 0.187370]
                 = [−0.016234, −0.015533]
    Gradients: ∂C/∂W² = δ² a¹ᵀ = [−0.086001, −0.103658];  ∂C/∂b² = −0.138163
               ∂C/∂W¹ = δ¹ xᵀ = [[−0.016234, −0.032469], [−0.015533, −0.031065]]
    Step:     W² ← W² − 0.5 ∂C/∂W² = [0.543000, 0.651829];  b² ← 0.069082
              W¹ ← [[0.108117, 0.216234], [0.307766, 0.415533]];  b¹ ← [0.008117, 0.007766]
    """
    net = dp.Network([2, 2, 1], activation="sigmoid", cost="quadratic")
    net.weights = [[[0.1, 0.2], [0.3, 0.4]], [[0.5, 0.6]]]
    net.biases = [[0.0, 0.0], [0.0]]
    X, Y = np.array([[1.0, 2.0]]), np.array([[1.0]])
    g = net.backward(X, Y)
    np.testing.assert_allclose(g.deltas[1], [[-0.138163]], atol=1e-6)
    np.testing.assert_allclose(g.deltas[0], [[-0.016234, -0.015533]], atol=1e-6)
    np.testing.assert_allclose(g.weights[1], [[-0.086001, -0.103658]], atol=1e-6)
    np.testing.assert_allclose(g.weights[0], [[-0.016234, -0.032469], [-0.015533, -0.031065]], atol=1e-6)

    from deltaprop.optimizers import SGD

    params = [net.weights[0], net.biases[0], net.weights[1], net.biases[1]]
    SGD(0.5).step(params, [g.weights[0], g.biases[0], g.weights[1], g.biases[1]])
    np.testing.assert_allclose(net.weights[1], [[0.543000, 0.651829]], atol=1e-6)
    np.testing.assert_allclose(net.biases[1], [0.069082], atol=1e-6)
    np.testing.assert_allclose(net.weights[0], [[0.108117, 0.216234], [0.307766, 0.415533]], atol=1e-6)
    np.testing.assert_allclose(net.biases[0], [0.008117, 0.007766], atol=1e-6)


def test_mazur_step_by_step_example_with_the_half_quadratic_cost():
    """Matt Mazur's "A Step by Step Backpropagation Example": a 2-2-2 sigmoid network,
    E_total = Σ ½ (target − out)², one example, η = 0.5 (his learning rate, no halving)."""
    net = dp.Network([2, 2, 2], activation="sigmoid", cost="half_quadratic")
    net.weights = [[[0.15, 0.20], [0.25, 0.30]], [[0.40, 0.45], [0.50, 0.55]]]
    net.biases = [[0.35, 0.35], [0.60, 0.60]]
    X, Y = np.array([[0.05, 0.10]]), np.array([[0.01, 0.99]])
    g = net.backward(X, Y)
    assert g.cost == pytest.approx(0.298371109, abs=1e-9)
    assert g.weights[1][0, 0] == pytest.approx(0.082167041, abs=1e-9)  # ∂E_total/∂w5
    from deltaprop.optimizers import SGD

    SGD(0.5).step([net.weights[0], net.weights[1]], [g.weights[0], g.weights[1]])
    np.testing.assert_allclose(net.weights[1], [[0.35891648, 0.408666186], [0.511301270, 0.561370121]], atol=1e-8)
    np.testing.assert_allclose(net.weights[0], [[0.149780716, 0.19956143], [0.24975114, 0.29950229]], atol=1e-8)


def test_closed_form_output_error_is_a_minus_y():
    net, X, Y = build([3, 4], "sigmoid", "sigmoid", "binary_cross_entropy", 5, 1)
    g = net.backward(X, Y)
    np.testing.assert_array_equal(g.deltas[-1], g.activations[-1] - Y)
    net, X, Y = build([3, 4], "sigmoid", "softmax", "cross_entropy", 5, 1)
    g = net.backward(X, Y)
    np.testing.assert_array_equal(g.deltas[-1], g.activations[-1] - Y)
    net, X, Y = build([3, 4], "sigmoid", "sigmoid", "quadratic", 5, 1)
    g = net.backward(X, Y)
    a = g.activations[-1]
    np.testing.assert_allclose(g.deltas[-1], 2 * (a - Y) * a * (1 - a), rtol=1e-14)


def test_saturated_outputs_give_finite_exact_costs_and_gradients():
    net = dp.Network([1, 2], activation="sigmoid", cost="binary_cross_entropy")
    net.weights = [[[1e4], [-1e4]]]
    X, Y = np.array([[1.0]]), np.array([[0.0, 1.0]])  # both outputs saturated and wrong
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        g = net.backward(X, Y)
    assert g.cost == pytest.approx(2e4)  # −log σ(−1e4) − log σ(−1e4) = 2·1e4
    np.testing.assert_array_equal(g.weights[0], [[1.0], [-1.0]])
    net = dp.Network([1, 3], activation="sigmoid", output="softmax", cost="cross_entropy")
    net.weights = [[[1e5], [0.0], [-1e5]]]
    with np.errstate(over="raise", divide="raise", invalid="raise"):
        c = net.cost(np.array([[1.0]]), np.array([[0.0, 0.0, 1.0]]))
    assert c == pytest.approx(2e5)


def test_shapes_and_layout():
    net = dp.Network([784, 16, 16, 10], seed=0)
    assert [W.shape for W in net.weights] == [(16, 784), (16, 16), (10, 16)]
    assert [b.shape for b in net.biases] == [(16,), (16,), (10,)]
    X = np.random.default_rng(0).random((5, 784))
    assert net.forward(X).shape == (5, 10)
    g = net.backward(X, np.eye(10)[:5])
    assert [d.shape for d in g.deltas] == [(5, 16), (5, 16), (5, 10)]
    assert [a.shape for a in g.activations] == [(5, 784), (5, 16), (5, 16), (5, 10)]
    assert [z.shape for z in g.zs] == [(5, 16), (5, 16), (5, 10)]
    # W[j, k] joins neuron k of layer l−1 to neuron j of layer l
    net = dp.Network([2, 3], activation="identity")
    net.weights = [np.zeros((3, 2))]
    net.weights[0][2, 1] = 1.0
    assert net.forward(np.array([[0.0, 5.0]])).tolist() == [[0.0, 0.0, 5.0]]


def test_float32_path_matches_float64():
    net64, X, Y = build([6, 5, 4, 3], "tanh", "softmax", "cross_entropy", 8, 11)
    net32 = net64.copy(dtype="float32")
    g32, g64 = net32.backward(X, Y), net64.backward(X, Y)
    assert net32.forward(X).dtype == np.float32
    for a, b in zip(g32.weights + g32.biases, g64.weights + g64.biases):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


def test_seeded_initialisation_is_reproducible():
    a = dp.Network([5, 4, 3], seed=3)
    b = dp.Network([5, 4, 3], seed=3)
    c = dp.Network([5, 4, 3], seed=4)
    np.testing.assert_array_equal(a.weights[0], b.weights[0])
    assert not np.array_equal(a.weights[0], c.weights[0])


def test_activation_list_one_name_per_layer():
    net = dp.Network([3, 4, 4, 2], activation=["relu", "tanh"], output="softmax", cost="cross_entropy")
    assert [g.name for g in net.activations] == ["relu", "tanh", "softmax"]
    net = dp.Network([3, 4, 2], activation=["relu", "sigmoid"])
    assert [g.name for g in net.activations] == ["relu", "sigmoid"]


# ------------------------------------------------------------------ bad input
@pytest.fixture
def small():
    return dp.Network([3, 4, 2], activation="sigmoid", cost="binary_cross_entropy", seed=0)


@pytest.mark.parametrize(
    "X,Y,message",
    [
        (np.ones((2, 4)), np.ones((2, 2)), r"has 4 features per example but the network's input layer has 3"),
        (np.ones((3, 3)), np.ones((2, 2)), r"X has 3 examples but Y has 2"),
        (np.array([[1.0, np.nan, 0.0]]), np.ones((1, 2)), r"X contains nan at \[0, 1\]"),
        (np.array([[1.0, np.inf, 0.0]]), np.ones((1, 2)), r"X contains inf at \[0, 1\]"),
        (np.ones((1, 3)), np.array([[0.0, np.nan]]), r"Y contains nan at \[0, 1\]"),
        (np.ones((0, 3)), np.ones((0, 2)), r"empty batch"),
        (np.ones((2, 3)), np.array([[0.0, 2.0], [1.0, 0.0]]), r"binary_cross_entropy needs targets in \[0, 1\]"),
        (np.ones(3), np.ones((1, 2)), r"must be 2-D.*X.reshape\(1, -1\)"),
        (np.ones((2, 3)), np.ones((2, 3)), r"Y must have shape \(n_samples, 2\)"),
        (np.ones((3, 3)), np.array([0, 1, 2]), r"not class indices 0\.\.1 .*has no classes_"),
        ([["a", "b", "c"]], np.ones((1, 2)), r"X must be numeric"),
    ],
)
def test_bad_input_gets_a_clear_error(small, X, Y, message):
    with pytest.raises(ValueError, match=message):
        small.backward(X, Y)
    with pytest.raises(ValueError, match=message):
        small.cost(X, Y)


def test_cross_entropy_targets_must_be_distributions():
    net = dp.Network([2, 3], output="softmax", cost="cross_entropy")
    with pytest.raises(ValueError, match="row 1 sums to 2"):
        net.backward(np.ones((2, 2)), np.array([[1.0, 0, 0], [1.0, 1.0, 0]]))


@pytest.mark.parametrize(
    "kwargs,message",
    [
        (dict(activation="sigmod"), r"unknown activation 'sigmod'"),
        (dict(cost="hinge"), r"unknown cost 'hinge'.*quadratic"),
        (dict(activation="softmax"), r"softmax can only be the output layer's activation \(layer 1 is hidden\)"),
        (dict(output="tanh", cost="binary_cross_entropy"), r"needs a sigmoid output layer, got 'tanh'"),
        (dict(output="sigmoid", cost="cross_entropy"), r"needs a softmax output layer"),
        (dict(init="lecun"), r"unknown init 'lecun'"),
        (dict(dtype="float16"), r"dtype must be 'float32' or 'float64'"),
        (dict(activation=["relu"] * 5), r"activation lists 5 names"),
    ],
)
def test_bad_construction_gets_a_clear_error(kwargs, message):
    with pytest.raises(ValueError, match=message):
        dp.Network([3, 4, 2], **kwargs)


@pytest.mark.parametrize("sizes", [[3], [3, 0, 2], "abc", [3, -1]])
def test_bad_sizes(sizes):
    with pytest.raises(ValueError, match="sizes|neuron"):
        dp.Network(sizes)


def test_assigning_weights_checks_shape_and_values(small):
    with pytest.raises(ValueError, match=r"weights\[0\] \(W\^1\) must have shape \(4, 3\), got \(3, 4\)"):
        small.weights[0] = np.zeros((3, 4))
    with pytest.raises(ValueError, match=r"biases\[1\] \(b\^2\) must have shape \(2,\), got \(3,\)"):
        small.biases[1] = np.zeros(3)
    with pytest.raises(ValueError, match=r"contains nan"):
        small.weights[1] = np.full((2, 4), np.nan)
    with pytest.raises(ValueError, match="expected 2 arrays"):
        small.weights = [np.zeros((4, 3))]
    small.weights[1] = np.arange(8.0).reshape(2, 4)
    assert small.weights[1][1, 3] == 7.0


def test_negative_l2_rejected(small):
    with pytest.raises(ValueError, match="l2 must be a non-negative number"):
        small.backward(np.ones((1, 3)), np.ones((1, 2)), l2=-1)


# ------------------------------------------------------------------ sample weights
@pytest.mark.parametrize("output,cost", PAIRINGS)
def test_weighted_gradients_match_central_differences(output, cost):
    net, X, Y = build([4, 5, 3], "tanh", output, cost, 6, 5)
    w = np.random.default_rng(1).uniform(0, 3, 6)
    result = dp.gradcheck(net, X, Y, l2=0.4, sample_weight=w)
    assert result.max_relative_error < 1e-7, str(result)


def test_integer_weights_equal_repeated_examples():
    net, X, Y = build([3, 4, 2], "sigmoid", "sigmoid", "binary_cross_entropy", 3, 2)
    weighted = net.backward(X, Y, sample_weight=[2, 0, 1])
    repeated = net.backward(X[[0, 0, 2]], Y[[0, 0, 2]])
    assert weighted.cost == pytest.approx(repeated.cost, rel=1e-14)
    for a, b in zip(weighted.weights + weighted.biases, repeated.weights + repeated.biases):
        np.testing.assert_allclose(a, b, rtol=1e-13, atol=1e-16)
    unit = net.backward(X, Y, sample_weight=np.ones(3))
    plain = net.backward(X, Y)
    for a, b in zip(unit.weights, plain.weights):
        np.testing.assert_allclose(a, b, rtol=1e-14)


@pytest.mark.parametrize("w,message", [
    ([1.0, 2.0], r"sample_weight must have shape \(3,\)"),
    ([1.0, -1.0, 1.0], "must be ≥ 0"),
    ([0.0, 0.0, 0.0], "must not be all zero"),
    ([1.0, np.nan, 1.0], "sample_weight contains nan"),
])
def test_bad_sample_weight(small, w, message):
    with pytest.raises(ValueError, match=message):
        small.backward(np.ones((3, 3)), np.ones((3, 2)), sample_weight=w)


def test_a_prediction_that_overflows_the_forward_pass_is_refused_not_nan():
    """Inputs within float64 whose forward pass overflows (inf − inf in a hidden layer) used to
    give NaN outputs and label 0 with no error."""
    rng = np.random.default_rng(0)
    net = dp.Network([2, 4, 4, 2], activation="relu", output="softmax", cost="cross_entropy", seed=0)
    net.fit(rng.normal(size=(50, 2)), np.arange(50) % 2, epochs=2, seed=0)
    huge = np.array([[1.0, 1.0], [1.7e308, -1.7e308]])
    for method in (net.predict, net.predict_proba, net.forward):
        with np.errstate(over="ignore", invalid="ignore"), pytest.raises(ValueError, match="row 1 of X is not finite"):
            method(huge)
    assert net.predict(huge[:1]).shape == (1,)


# ---------------------------------------------------------------------------- issue 14: displays
def test_summary_is_a_layer_table_in_text_and_html():
    net = dp.Network([4, 8, 3], activation="relu", output="softmax", cost="cross_entropy", seed=0, dtype="float32")
    summary = net.summary()
    assert str(summary) == repr(summary) == "\n".join([
        "Network 4-8-3",
        "─" * 58,
        "layer  n_{l-1} → n_l  activation  W^l     b^l   parameters",
        "─" * 58,
        "    1          4 → 8  relu        (8, 4)  (8,)          40",
        "    2          8 → 3  softmax     (3, 8)  (3,)          27",
        "─" * 58,
        "total parameters 67   cost cross_entropy   dtype float32",
    ])
    from IPython.lib.pretty import pretty

    assert pretty(summary) == str(summary)
    page = summary._repr_html_()
    assert page.startswith('<table class="deltaprop-network"><caption>Network 4-8-3</caption>')
    rows = [[c.split("<")[0] for c in row.split('">')[1:]] for row in page.split("<tbody>")[1].split("</tbody>")[0].split("<tr>")[1:]]
    assert rows == [["1", "4 → 8", "relu", "(8, 4)", "(8,)", "40"], ["2", "8 → 3", "softmax", "(3, 8)", "(3,)", "27"]]
    assert ">67</td>" in page and "cost cross_entropy, dtype float32" in page
    assert net._repr_html_() == page
    assert "\n" not in repr(net) and repr(net).startswith("Network(sizes=[4, 8, 3]")


def test_summary_counts_large_layers_with_separators():
    text = str(dp.Network([784, 100, 10], seed=0).summary())
    assert "784 → 100" in text and "78,500" in text and "total parameters 79,510   cost quadratic   dtype float64" in text


def test_net_history_is_a_history_after_fit_copy_and_model_file(tmp_path):
    from deltaprop.modelfile import load, save

    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(40, 3)), rng.integers(0, 2, 40)
    net = dp.Network([3, 4, 2], output="softmax", cost="cross_entropy", seed=0)
    net.fit(X, y, epochs=3, seed=0)
    copy = net.copy()
    back = load(save(net, tmp_path / "m.npz"))
    for history in (net.history, copy.history, back.history):
        assert isinstance(history, dp.History) and history["epoch"] == [1, 2, 3]
    assert back.history == net.history and copy.history is not net.history
    fresh = dp.Network([3, 2], seed=0)
    assert isinstance(fresh.history, dp.History) and len(fresh.history) == 0
    fresh.history = [{"epoch": 1, "cost": 0.5}]  # as a model file or an estimator assigns it
    assert fresh.history["cost"] == [0.5]
