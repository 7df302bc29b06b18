"""deltaprop.diagnose: each classic backprop mistake, written the way a learner writes it, is named.

The wrong gradients come from ``learner_backprop`` below: a small backpropagation written
independently of deltaprop (NumPy matrix code, examples as rows, its own sigmoid, tanh, softmax
and costs), with one or more mistakes switched on by keyword. None of them is built with the
module's own candidate generator.
"""

import numpy as np
import pytest

from deltaprop import Network
from deltaprop.diagnose import (
    KINDS,
    DiagnoseError,
    Diagnosis,
    Finding,
    diagnose,
    finding,
)


# ---------------------------------------------------------------------------- a learner's backprop
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


G = {  # g and g' as a learner writes them, g' as a function of z
    "sigmoid": (sigmoid, lambda z: sigmoid(z) * (1 - sigmoid(z))),
    "tanh": (np.tanh, lambda z: 1 - np.tanh(z) ** 2),
    "relu": (lambda z: np.maximum(z, 0), lambda z: (z > 0).astype(float)),
    "identity": (lambda z: z, lambda z: np.ones_like(z)),
}


def learner_backprop(net, X, Y, lam=0.0, sum_not_mean=False, regularized_bias=False, l2_coef=None,
                     derivative_at_activation=None, a_formula_at_z=None, missing_activation_derivative=None,
                     wrong_output_delta=False, quadratic_delta=False, sign=False, half=False,
                     double=False, general_form_typo=False, layer_shift=None, delta_shift=None, delta_noise=None, transposed=None, rng=None):
    """∂J/∂W^l and ∂J/∂b^l of ``net``'s cost (+ λ/(2m) Σ W²), with the mistakes asked for.

    Layer numbers in the keywords count from 1 (the engine's l)."""
    W = [np.array(w, dtype=float) for w in net.weights]
    b = [np.array(v, dtype=float) for v in net.biases]
    names = [g.name for g in net.g]
    cost = net.cost_name
    m, L = X.shape[0], len(W)
    a, z = [X], []
    for l in range(L):
        z.append(a[-1] @ W[l].T + b[l])
        a.append(softmax(z[-1]) if names[l] == "softmax" else G[names[l]][0](z[-1]))
    aL, zL = a[-1], z[-1]
    if cost in ("binary_cross_entropy", "cross_entropy"):
        delta = aL - Y
        if quadratic_delta:  # the quadratic cost's δ with cross-entropy
            delta = (aL - Y) * aL * (1 - aL)
        if general_form_typo:  # ∂C/∂a ⊙ σ'(z) with σ'(z) written a(1 + a)
            delta = (aL - Y) / (aL * (1 - aL)) * aL * (1 + aL)
    else:  # quadratic: C_x = Σ (a − y)²; half_quadratic: ½ Σ (a − y)²
        gp = G[names[-1]][1](zL)
        delta = (1 if cost == "half_quadratic" else 2) * (aL - Y) * gp
        if double:  # 2(a − y) with the ½ in the cost
            delta = 2 * (aL - Y) * gp
        if wrong_output_delta:
            delta = aL - Y
        if half:  # the ½ convention: ∂C/∂a = a − y
            delta = (aL - Y) * gp
        if derivative_at_activation == L:
            delta = 2 * (aL - Y) * G[names[-1]][1](aL)
    if sign:
        delta = -delta
    deltas = [None] * L
    deltas[L - 1] = delta
    for l in range(L - 2, -1, -1):  # layer l + 1
        up = deltas[l + 1] @ W[l + 1]
        gp = G[names[l]][1](z[l])
        if derivative_at_activation == l + 1:
            gp = G[names[l]][1](a[l + 1])  # sigmoidGradient(a) instead of sigmoidGradient(z)
        if a_formula_at_z == l + 1:
            gp = z[l] * (1 - z[l]) if names[l] == "sigmoid" else 1 - z[l] ** 2
        if missing_activation_derivative == l + 1:
            gp = 1.0
        deltas[l] = up * gp
        if delta_noise == l + 1:
            deltas[l] = deltas[l] + rng.normal(scale=0.1, size=deltas[l].shape)
    coef = lam / m if l2_coef is None else l2_coef
    grads_W, grads_b = [], []
    for l in range(L):
        a_prev = a[l + 1] if layer_shift == l + 1 else a[l]
        gW = (deltas[delta_shift] if delta_shift == l + 1 else deltas[l]).T @ a_prev
        gb = deltas[l].sum(axis=0)
        if not sum_not_mean:
            gW, gb = gW / m, gb / m
        gW = gW + coef * W[l]
        if regularized_bias:
            gb = gb + lam / m * b[l]
        if transposed == l + 1:
            gW = gW.T
        grads_W.append(gW)
        grads_b.append(gb)
    return grads_W, grads_b


# ---------------------------------------------------------------------------- the networks
def make(sizes, hidden, output, cost, seed, m=6):
    rng = np.random.default_rng(seed)
    net = Network(sizes, activation=hidden, output=output, cost=cost, seed=seed)
    net.biases = [rng.normal(scale=0.5, size=v.shape) for v in net.biases]
    X = rng.normal(size=(m, sizes[0]))
    if cost in ("quadratic", "half_quadratic"):
        Y = rng.normal(scale=0.5, size=(m, sizes[-1]))
    else:
        Y = np.eye(sizes[-1])[rng.integers(0, sizes[-1], m)]
    return net, X, Y


NETS = {
    "sigmoid-bce-2": ([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy"),
    "tanh-softmax-3": ([3, 6, 4, 2], "tanh", "softmax", "cross_entropy"),
    "tanh-identity-quadratic-2": ([3, 4, 2], "tanh", "identity", "quadratic"),
    "sigmoid-quadratic-3": ([4, 5, 3, 2], "sigmoid", "sigmoid", "quadratic"),
}


@pytest.fixture(params=sorted(NETS))
def net_data(request):
    sizes, hidden, output, cost = NETS[request.param]
    return make(sizes, hidden, output, cost, seed=sum(sizes))


def run(net, X, Y, lam=0.0, notation=None, names=None, **mistake):
    W, b = learner_backprop(net, X, Y, lam=lam, **mistake)
    return diagnose(net, X, Y, weights=W, biases=b, l2=lam, notation=notation, names=names)


def wrong(d: Diagnosis):
    return [f for f in d.findings if f.kind != "correct"]


# ---------------------------------------------------------------------------- correct
@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_correct_gradient_gives_ok_and_only_correct_findings(net_data, lam):
    net, X, Y = net_data
    d = run(net, X, Y, lam=lam)
    assert d.ok and d.kinds == ["correct"]
    L = net.n_layers
    assert [f.array for f in d.findings] == [n for l in range(1, L + 1) for n in (f"W{l}", f"b{l}")]
    assert all(abs(f.expected - f.given) < 1e-12 for f in d.findings)


def test_column_bias_and_float32_network_are_accepted(rng):
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=3)
    W, b = learner_backprop(net, X, Y)
    assert diagnose(net, X, Y, weights=W, biases=[v[:, None] for v in b]).ok
    net32 = net.copy(dtype="float32")
    W, b = learner_backprop(net32, X, Y)
    assert diagnose(net32, X, Y, weights=W, biases=b).ok


# ---------------------------------------------------------------------------- the scalar mistakes
@pytest.mark.parametrize("lam", [0.0, 0.7])
def test_sum_not_mean_on_every_array_with_factor_m(net_data, lam):
    net, X, Y = net_data
    d = run(net, X, Y, lam=lam, sum_not_mean=True, l2_coef=lam)  # Σ + λW: nothing divided by m
    assert d.kinds == ["sum_not_mean"]
    assert len(d.findings) == 2 * net.n_layers
    assert all(f.factor == X.shape[0] for f in d.findings)


def test_sum_not_mean_of_the_data_term_only(net_data):
    net, X, Y = net_data
    d = run(net, X, Y, lam=0.7, sum_not_mean=True)  # Σ δ aᵀ + (λ/m) W
    assert d.kinds == ["sum_not_mean"]
    assert all(f.evidence["scope"] in ("the data term", "the gradient") for f in d.findings)


def test_sign(net_data):
    net, X, Y = net_data
    d = run(net, X, Y, sign=True)
    assert d.kinds == ["sign"] and all(f.factor == -1 for f in d.findings)


@pytest.mark.parametrize("lam,coef,factor", [(0.7, "half", 0.5), (0.7, "lam", 6.0), (0.7, "m2", 1 / 6)])
def test_l2_scale_reports_the_multiplier(net_data, lam, coef, factor):
    net, X, Y = net_data
    m = X.shape[0]
    l2_coef = {"half": lam / (2 * m), "lam": lam, "m2": lam / m**2}[coef]
    d = run(net, X, Y, lam=lam, l2_coef=l2_coef)
    assert set(d.kinds) == {"correct", "l2_scale"}
    scaled = [f for f in d.findings if f.kind == "l2_scale"]
    assert [f.array for f in scaled] == [f"W{l}" for l in range(1, net.n_layers + 1)]
    assert all(f.factor == pytest.approx(factor) for f in scaled)


def test_missing_l2(net_data):
    net, X, Y = net_data
    d = run(net, X, Y, lam=0.7, l2_coef=0.0)
    assert [f.array for f in wrong(d)] == [f"W{l}" for l in range(1, net.n_layers + 1)]
    assert {f.kind for f in wrong(d)} == {"missing_l2"}


def test_regularized_bias(net_data):
    net, X, Y = net_data
    d = run(net, X, Y, lam=0.7, regularized_bias=True)
    assert [f.array for f in wrong(d)] == [f"b{l}" for l in range(1, net.n_layers + 1)]
    assert {(f.kind, f.factor) for f in wrong(d)} == {("regularized_bias", 1.0)}


def test_half_cost_is_the_missing_two_of_the_quadratic_cost():
    net, X, Y = make([3, 4, 2], "tanh", "identity", "quadratic", seed=9)
    d = run(net, X, Y, half=True)
    assert d.kinds == ["half_cost"] and {f.factor for f in d.findings} == {0.5}
    net, X, Y = make([4, 5, 3, 2], "sigmoid", "sigmoid", "quadratic", seed=10)
    d = run(net, X, Y, lam=0.7, half=True)  # (a − y) ⊙ σ'(z): every array is half the gradient
    assert d.kinds == ["half_cost"] and len(d.findings) == 6
    assert "has no ½" in d.findings[0].message


# ---------------------------------------------------------------------------- structural mistakes
def test_half_quadratic_output_without_g_prime_and_the_doubled_gradient():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "half_quadratic", seed=27)
    d = run(net, X, Y, wrong_output_delta=True, notation="nielsen")  # δ^L = a − y, no σ'(z)
    (f,) = d.findings
    assert (f.kind, f.evidence["pattern"], f.evidence["arrays"]) == ("wrong_output_delta", "a_minus_y",
                                                                      ["W2", "b2", "W1", "b1"])
    assert "σ'(z^3) is missing" in f.message and d.course == "nielsen"
    d = run(net, X, Y, double=True)  # 2(a − y) ⊙ σ'(z) although C has the ½
    assert d.kinds == ["half_cost"] and {f.factor for f in d.findings} == {2.0}
    assert "not 2(a − y)" in d.findings[0].message


@pytest.mark.parametrize("name", ["sigmoid-bce-2", "tanh-softmax-3", "sigmoid-quadratic-3"])
def test_derivative_at_activation_is_reported_once_at_its_layer(name):
    sizes, hidden, output, cost = NETS[name]
    net, X, Y = make(sizes, hidden, output, cost, seed=sum(sizes))
    k = net.n_layers - 1  # the last hidden layer: every layer below it is affected
    d = run(net, X, Y, lam=0.3, derivative_at_activation=k)
    assert wrong(d) == [f for f in d.findings if f.kind == "derivative_at_activation"]
    (f,) = wrong(d)
    assert f.evidence["layer"] == k and f.evidence["pattern"] == "g_prime_of_a"
    assert f.evidence["arrays"] == [n for l in range(k, 0, -1) for n in (f"W{l}", f"b{l}")]
    assert {g.array for g in d.findings if g.kind == "correct"} == {f"W{net.n_layers}", f"b{net.n_layers}"}


def test_derivative_at_activation_at_the_output_with_a_quadratic_cost():
    net, X, Y = make([4, 5, 3, 2], "sigmoid", "sigmoid", "quadratic", seed=11)
    d = run(net, X, Y, derivative_at_activation=3)
    assert d.kinds == ["derivative_at_activation"]
    assert d.findings[0].evidence["layer"] == 3 and len(d.findings[0].evidence["arrays"]) == 6


def test_derivative_formula_in_a_applied_to_z():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=12)
    d = run(net, X, Y, a_formula_at_z=1, notation="ng-ml")
    (f,) = wrong(d)
    assert f.kind == "derivative_at_activation" and f.evidence["pattern"] == "a_formula_at_z"
    assert "z(1 − z)" in f.message


def test_relu_derivative_at_activation_cannot_be_told_from_the_right_one():
    net, X, Y = make([4, 5, 3], "relu", "sigmoid", "binary_cross_entropy", seed=13)
    d = run(net, X, Y, derivative_at_activation=1)  # relu'(a) = [a > 0] = [z > 0] = relu'(z)
    assert d.ok


@pytest.mark.parametrize("name,k", [("sigmoid-bce-2", 1), ("tanh-softmax-3", 2), ("tanh-softmax-3", 1),
                                    ("sigmoid-quadratic-3", 2)])
def test_missing_activation_derivative_with_its_propagation(name, k):
    sizes, hidden, output, cost = NETS[name]
    net, X, Y = make(sizes, hidden, output, cost, seed=sum(sizes))
    d = run(net, X, Y, missing_activation_derivative=k)
    (f,) = wrong(d)
    assert f.kind == "missing_activation_derivative" and f.evidence["layer"] == k
    assert f.array == f"W{k}"
    assert f.evidence["layers"] == list(range(k, 0, -1))
    assert len([g for g in d.findings if g.kind == "correct"]) == 2 * (net.n_layers - k)


def test_wrong_output_delta_a_minus_y_with_a_quadratic_cost():
    net, X, Y = make([4, 5, 3, 2], "sigmoid", "sigmoid", "quadratic", seed=14)
    d = run(net, X, Y, lam=0.5, wrong_output_delta=True)
    assert d.kinds == ["wrong_output_delta"]
    (f,) = d.findings
    assert f.evidence["layer"] == 3 and f.evidence["pattern"] == "a_minus_y" and len(f.evidence["arrays"]) == 6


def test_wrong_output_delta_the_quadratic_delta_with_cross_entropy():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=15)
    d = run(net, X, Y, quadratic_delta=True, notation="ng-dl", names={"W": ["dW1", "dW2"], "b": ["db1", "db2"]})
    assert d.kinds == ["wrong_output_delta"] and d.findings[0].array == "dW2"
    assert "dZ^[2]" in d.findings[0].message and d.course == "ng-dl"


def test_layer_shift_on_a_square_layer():
    net, X, Y = make([3, 4, 4, 2], "sigmoid", "sigmoid", "binary_cross_entropy", seed=16)
    d = run(net, X, Y, layer_shift=2)  # a^2 where a^1 belongs in δ^2 (a^1)ᵀ
    (f,) = wrong(d)
    assert (f.kind, f.array, f.evidence["shift"]) == ("layer_shift", "W2", ("a", 2))
    assert set(d.kinds) == {"correct", "layer_shift"}


def test_layer_shift_the_delta_of_the_next_layer():
    net, X, Y = make([3, 4, 4, 2], "tanh", "softmax", "cross_entropy", seed=28)
    d = run(net, X, Y, delta_shift=1)  # δ^2 (a^0)ᵀ where δ^1 (a^0)ᵀ belongs
    (f,) = wrong(d)
    assert (f.kind, f.array, f.evidence["shift"]) == ("layer_shift", "W1", ("delta", 2))


def test_a_wrongly_written_general_output_delta_is_unknown_at_the_output_layer():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=29)
    d = run(net, X, Y, general_form_typo=True)
    (f,) = d.findings
    assert (f.kind, f.array, f.evidence["layer"]) == ("unknown", "W2", 2)
    assert f.evidence["arrays"] == ["W2", "b2", "W1", "b1"]


def test_transposed_non_square_and_square():
    net, X, Y = make([3, 4, 4, 2], "tanh", "sigmoid", "binary_cross_entropy", seed=17)
    for layer in (1, 2):  # W1 is 4 × 3, W2 is 4 × 4
        d = run(net, X, Y, transposed=layer)
        (f,) = wrong(d)
        assert (f.kind, f.array) == ("transposed", f"W{layer}")


def test_transposed_and_sum_not_mean_on_one_array():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=18)
    d = run(net, X, Y, transposed=1, sum_not_mean=True)
    assert [(f.kind, f.array) for f in d.findings if f.array == "W1"] == [("transposed", "W1"), ("sum_not_mean", "W1")]


def test_wrong_shape_names_the_expected_shape():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=19)
    W, b = learner_backprop(net, X, Y)
    d = diagnose(net, X, Y, weights=[W[0].ravel(), W[1]], biases=b)
    (f,) = wrong(d)
    assert (f.kind, f.array, f.evidence["expected_shape"]) == ("shape", "W1", (5, 4))
    assert "(5, 4)" in f.message


# ---------------------------------------------------------------------------- several at once, unknown
def test_two_mistakes_at_once_give_both_kinds():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=20)
    d = run(net, X, Y, lam=1.0, sum_not_mean=True, regularized_bias=True)
    assert set(d.kinds) == {"sum_not_mean", "regularized_bias"}
    assert {f.array for f in d.findings if f.kind == "regularized_bias"} == {"b1", "b2"}
    net, X, Y = make([3, 6, 4, 2], "tanh", "softmax", "cross_entropy", seed=21)
    d = run(net, X, Y, missing_activation_derivative=2, sign=True)
    assert set(d.kinds) == {"missing_activation_derivative", "sign"}


def test_ng_ml_theta_names_merge_the_parts_and_use_the_bias_column():
    net, X, Y = make([3, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=22, m=5)
    names = {"W": ["Theta1_grad", "Theta2_grad"], "b": ["Theta1_grad", "Theta2_grad"]}
    d = run(net, X, Y, lam=1.0, sum_not_mean=True, regularized_bias=True, notation="ng-ml", names=names)
    assert sorted((f.array, f.kind) for f in d.findings) == [
        ("Theta1_grad", "regularized_bias"), ("Theta1_grad", "sum_not_mean"),
        ("Theta2_grad", "regularized_bias"), ("Theta2_grad", "sum_not_mean")]
    reg = next(f for f in d.findings if f.kind == "regularized_bias")
    assert reg.index[1] == 0 and "column 0 (the bias)" in reg.message and "Θ^(1)" in reg.message
    assert "divide by m = 5" in next(f for f in d.findings if f.kind == "sum_not_mean").message


def test_noise_in_a_delta_is_unknown_at_the_first_wrong_layer():
    net, X, Y = make([3, 6, 4, 2], "tanh", "softmax", "cross_entropy", seed=23)
    W, b = learner_backprop(net, X, Y, delta_noise=2, rng=np.random.default_rng(0))
    d = diagnose(net, X, Y, weights=W, biases=b)
    (f,) = wrong(d)
    assert (f.kind, f.array, f.evidence["layer"]) == ("unknown", "W2", 2)
    assert f.evidence["arrays"] == ["W2", "b2", "W1", "b1"]
    assert {g.array for g in d.findings if g.kind == "correct"} == {"W3", "b3"}
    assert abs(f.given - f.expected) == pytest.approx(np.abs(W[1] - net.backward(X, Y).weights[1]).max())
    assert f.given == W[1][f.index]


def test_noise_in_one_array_leaves_the_others_correct(rng):
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=24)
    W, b = learner_backprop(net, X, Y)
    W[1] = W[1] + rng.normal(scale=1e-3, size=W[1].shape)
    d = diagnose(net, X, Y, weights=W, biases=b)
    assert [(f.kind, f.array) for f in wrong(d)] == [("unknown", "W2")]
    assert set(d.kinds) == {"correct", "unknown"}


def test_nan_in_a_gradient_is_unknown():
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=25)
    W, b = learner_backprop(net, X, Y)
    W[0][1, 2] = np.nan
    (f,) = wrong(diagnose(net, X, Y, weights=W, biases=b))
    assert f.kind == "unknown" and f.index == (1, 2) and "NaN" in f.message


# ---------------------------------------------------------------------------- the API
def test_api_finding_diagnosis_and_str():
    assert len(KINDS) == 16 and "bias_unit_delta" in KINDS and "unroll_order" in KINDS
    f = finding("unroll_order", "grad", "row-major", factor=None, pattern="C order")
    assert isinstance(f, Finding) and f.evidence == {"pattern": "C order"}
    d = Diagnosis(findings=[finding("correct", "W1", "fine"), f], course="ng-ml")
    assert not d.ok and d.kinds == ["correct", "unroll_order"]
    assert "grad: unroll_order: row-major" in str(d)
    with pytest.raises(DiagnoseError, match="unknown finding kind 'typo'"):
        finding("typo", "W1", "x")


@pytest.mark.parametrize("kwargs,message", [
    ({"weights": None, "biases": None}, "nothing to check"),
    ({"weights": [np.zeros((5, 4))]}, "weights must hold 2 arrays"),
    ({"weights": np.zeros((5, 4))}, "weights must be a list of 2 arrays"),
    ({"biases": [np.zeros(5), "abc"]}, r"biases\[1\] \(layer 2\) must be an array of numbers"),
    ({"weights": [np.zeros((5, 4)), np.zeros((3, 5))], "notation": "klingon"}, "unknown notation 'klingon'"),
    ({"weights": [np.zeros((5, 4)), np.zeros((3, 5))], "names": {"W": ["a"]}}, r"names\['W'\] must be a list of 2"),
])
def test_bad_calls_are_one_line_errors(kwargs, message):
    net, X, Y = make([4, 5, 3], "sigmoid", "sigmoid", "binary_cross_entropy", seed=26)
    with pytest.raises(DiagnoseError, match=message) as info:
        diagnose(net, X, Y, **kwargs)
    assert "\n" not in str(info.value)
