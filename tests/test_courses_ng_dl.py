"""deltaprop.courses.ng_dl: the deeplearning.ai Course 1 layout both ways, and its two checkers.

The learner's code below is written as the notebooks write it (examples as columns, the helper
functions of "Building your Deep Neural Network: Step by Step" and the planar notebook's
``backward_propagation``), once correctly and once per classic mistake.
"""

import numpy as np
import pytest

from deltaprop import Network
from deltaprop.courses import ng_dl


# ------------------------------------------------------------------ week 4, as a learner writes it
def sigmoid_backward(dA, cache):
    Z = cache
    s = 1 / (1 + np.exp(-Z))
    dZ = dA * s * (1 - s)
    return dZ


def relu_backward(dA, cache):
    Z = cache
    dZ = np.array(dA, copy=True)
    dZ[Z <= 0] = 0
    return dZ


def linear_backward(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    dW = 1.0 / m * np.dot(dZ, A_prev.T)
    db = 1.0 / m * np.sum(dZ, axis=1, keepdims=True)
    dA_prev = np.dot(W.T, dZ)
    return dA_prev, dW, db


def course_dAL(AL, Y):
    return -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))


def make_L_model_backward(linear_backward=linear_backward, relu_backward=relu_backward,
                          sigmoid_backward=sigmoid_backward, dAL_of=course_dAL, keys_2017=False):
    """The course's L_model_backward, with the learner's helpers plugged in."""

    def linear_activation_backward(dA, cache, activation):
        linear_cache, activation_cache = cache
        if activation == "relu":
            dZ = relu_backward(dA, activation_cache)
        elif activation == "sigmoid":
            dZ = sigmoid_backward(dA, activation_cache)
        return linear_backward(dZ, linear_cache)

    def L_model_backward(AL, Y, caches):
        grads = {}
        L = len(caches)
        Y = Y.reshape(AL.shape)
        dAL = dAL_of(AL, Y)
        shift = 1 if keys_2017 else 0  # the 2017 notebook stored dA^[l-1] as grads["dA" + str(l)]
        current_cache = caches[L - 1]
        dA_prev, dW, db = linear_activation_backward(dAL, current_cache, "sigmoid")
        grads["dA" + str(L - 1 + shift)], grads["dW" + str(L)], grads["db" + str(L)] = dA_prev, dW, db
        for l in reversed(range(L - 1)):
            current_cache = caches[l]
            dA_prev_temp, dW_temp, db_temp = linear_activation_backward(grads["dA" + str(l + 1 + shift)], current_cache, "relu")
            grads["dA" + str(l + shift)] = dA_prev_temp
            grads["dW" + str(l + 1)] = dW_temp
            grads["db" + str(l + 1)] = db_temp
        return grads

    return L_model_backward


def linear_backward_no_mean_dW(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), np.dot(dZ, A_prev.T), 1.0 / m * np.sum(dZ, axis=1, keepdims=True)


def linear_backward_no_mean_db(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), 1.0 / m * np.dot(dZ, A_prev.T), np.sum(dZ, axis=1, keepdims=True)


def linear_backward_no_keepdims(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), 1.0 / m * np.dot(dZ, A_prev.T), 1.0 / m * np.sum(dZ, axis=1)


def linear_backward_wrong_axis(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), 1.0 / m * np.dot(dZ, A_prev.T), 1.0 / m * np.sum(dZ, axis=0, keepdims=True)


def linear_backward_transposed(dZ, cache):
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), 1.0 / m * np.dot(A_prev, dZ.T), 1.0 / m * np.sum(dZ, axis=1, keepdims=True)


def linear_backward_descent_sign(dZ, cache):  # the update's minus written into the gradient
    A_prev, W, b = cache
    m = A_prev.shape[1]
    return np.dot(W.T, dZ), -1.0 / m * np.dot(dZ, A_prev.T), -1.0 / m * np.sum(dZ, axis=1, keepdims=True)


def relu_backward_no_mask(dA, cache):  # forgot dZ[Z <= 0] = 0
    return np.array(dA, copy=True)


def sigmoid_backward_no_derivative(dA, cache):
    return dA


ALL_DEEP = ["dA0", "dA1", "dA2", "dW1", "dW2", "dW3", "db1", "db2", "db3"]
# a wrong dAL is one finding on "dAL" that reaches every array (its evidence["arrays"])
WRONG_dAL = {a: "wrong_output_delta" for a in ["dAL", *ALL_DEEP]}
DEEP_CASES = {
    # name: (learner's function, {array: kind} expected for every array that has a finding)
    "correct": (make_L_model_backward(), {a: "correct" for a in ALL_DEEP}),
    "keys_2017": (make_L_model_backward(keys_2017=True),
                  {a: "correct" for a in ["dA1", "dA2", "dA3", "dW1", "dW2", "dW3", "db1", "db2", "db3"]}),
    "dW_without_1_over_m": (make_L_model_backward(linear_backward=linear_backward_no_mean_dW),
                            {**{a: "correct" for a in ALL_DEEP}, "dW1": "sum_not_mean", "dW2": "sum_not_mean",
                             "dW3": "sum_not_mean"}),
    "db_without_1_over_m": (make_L_model_backward(linear_backward=linear_backward_no_mean_db),
                            {**{a: "correct" for a in ALL_DEEP}, "db1": "sum_not_mean", "db2": "sum_not_mean",
                             "db3": "sum_not_mean"}),
    "db_without_keepdims": (make_L_model_backward(linear_backward=linear_backward_no_keepdims),
                            {**{a: "correct" for a in ALL_DEEP}, "db1": "shape", "db2": "shape", "db3": "shape"}),
    "db_summed_over_axis_0": (make_L_model_backward(linear_backward=linear_backward_wrong_axis),
                              {**{a: "correct" for a in ALL_DEEP}, "db1": "shape", "db2": "shape", "db3": "shape"}),
    "dW_transposed": (make_L_model_backward(linear_backward=linear_backward_transposed),
                      {**{a: "correct" for a in ALL_DEEP}, "dW1": "transposed", "dW2": "transposed",
                       "dW3": "transposed"}),
    "gradient_of_minus_J": (make_L_model_backward(linear_backward=linear_backward_descent_sign),
                            {**{a: "correct" for a in ALL_DEEP},
                             **{a: "sign" for a in ["dW1", "dW2", "dW3", "db1", "db2", "db3"]}}),
    "relu_backward_without_mask": (make_L_model_backward(relu_backward=relu_backward_no_mask),
                                   {"dA2": "correct", "dW3": "correct", "db3": "correct",
                                    "dW2": "missing_activation_derivative", "db2": "missing_activation_derivative",
                                    "dA1": "missing_activation_derivative"}),
    "sigmoid_backward_without_derivative": (make_L_model_backward(sigmoid_backward=sigmoid_backward_no_derivative),
                                            {a: "missing_activation_derivative" for a in ALL_DEEP}),
    "dAL_sign": (make_L_model_backward(dAL_of=lambda AL, Y: np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)),
                 WRONG_dAL),
    "dAL_typo_1_minus_Y_over_AL": (make_L_model_backward(dAL_of=lambda AL, Y: -(np.divide(Y, AL) - np.divide(1 - Y, AL))),
                                   WRONG_dAL),
    "dAL_is_AL_minus_Y": (make_L_model_backward(dAL_of=lambda AL, Y: AL - Y), WRONG_dAL),
    "dAL_sign_and_dW_without_1_over_m": (
        make_L_model_backward(linear_backward=linear_backward_no_mean_dW,
                              dAL_of=lambda AL, Y: np.divide(Y, AL) - np.divide(1 - Y, 1 - AL)),
        {**WRONG_dAL, **{a: ["wrong_output_delta", "sum_not_mean"] for a in ["dW1", "dW2", "dW3"]}}),
}


def by_array(diagnosis):
    """{array: [kinds]}: a finding names its array, and a mistake in dZ also the arrays it reaches
    (``evidence["arrays"]``, as ``deltaprop.diagnose`` reports one mistake once, where it is made)."""
    out = {}
    for f in diagnosis.findings:
        for array in dict.fromkeys([f.array, *f.evidence.get("arrays", [])]):
            out.setdefault(array, []).append(f.kind)
    return out


def assert_kinds(diagnosis, expected):
    """Every array in ``expected`` has exactly that kind (or those kinds), and no other kind appears."""
    found = by_array(diagnosis)
    allowed = set()
    for array, kinds in expected.items():
        kinds = [kinds] if isinstance(kinds, str) else kinds
        allowed.update(kinds)
        assert found.get(array) == kinds, (array, found, str(diagnosis))
    assert set(diagnosis.kinds) <= allowed, (found, str(diagnosis))


@pytest.mark.parametrize("case", list(DEEP_CASES))
def test_check_L_model_backward_names_each_mistake(case):
    fn, expected = DEEP_CASES[case]
    diagnosis = ng_dl.check_L_model_backward(fn)
    assert diagnosis.course == "ng-dl"
    assert_kinds(diagnosis, expected)
    assert diagnosis.ok == (case in ("correct", "keys_2017"))


def test_check_L_model_backward_wrong_dAL_evidence():
    fn = DEEP_CASES["dAL_sign"][0]
    (finding,) = ng_dl.check_L_model_backward(fn).findings
    assert finding.factor == -1.0
    assert "wrong sign" in finding.message and "dAL" in finding.message
    assert finding.given == pytest.approx(-finding.expected)  # of dZ3 = AL − Y
    assert finding.evidence["compared"] == "dZ3" and "dA0" in finding.evidence["arrays"]


def test_check_L_model_backward_shape_finding_says_the_expected_shape():
    d = ng_dl.check_L_model_backward(DEEP_CASES["db_without_keepdims"][0])
    (db1,) = [f for f in d.findings if f.array == "db1"]
    assert db1.evidence["expected_shape"] == (4, 1) and db1.evidence["given_shape"] == (4,)
    assert "keepdims=True" in db1.message and "values are right" in db1.message


def test_check_L_model_backward_reports_the_learner_index_layout():
    d = ng_dl.check_L_model_backward(DEEP_CASES["db_without_1_over_m"][0])
    (db2,) = [f for f in d.findings if f.array == "db2"]
    assert db2.index is not None and len(db2.index) == 2 and db2.index[1] == 0
    assert db2.given == pytest.approx(ng_dl.DEEP_M * db2.expected)


# ------------------------------------------------------------------ week 3, as a learner writes it
def make_backward_propagation(mistake=None):
    def backward_propagation(parameters, cache, X, Y):
        m = X.shape[1]
        W2 = parameters["W2"]
        A1 = cache["A1"]
        A2 = cache["A2"]
        Z1 = cache["Z1"]
        dZ2 = Y - A2 if mistake == "sign" else A2 - Y
        dW2 = (1 / m) * np.dot(dZ2, A1.T)
        db2 = (1 / m) * np.sum(dZ2, axis=1, keepdims=True)
        g_prime = {
            "no_g_prime": 1.0,
            "tanh_of_A1": 1 - np.power(np.tanh(A1), 2),
            "of_Z1": 1 - np.power(Z1, 2),
            "one_minus_A1": 1 - A1,
        }.get(mistake, 1 - np.power(A1, 2))
        dZ1 = np.dot(W2.T, dZ2) * g_prime
        dW1 = (1 / m) * np.dot(dZ1, X.T)
        db1 = (1 / m) * np.sum(dZ1, axis=1, keepdims=True)
        if mistake in ("no_mean_dW", "no_mean"):
            dW1, dW2 = np.dot(dZ1, X.T), np.dot(dZ2, A1.T)
        if mistake in ("no_mean_db", "no_mean"):
            db1, db2 = np.sum(dZ1, axis=1, keepdims=True), np.sum(dZ2, axis=1, keepdims=True)
        if mistake == "no_keepdims":
            db1, db2 = (1 / m) * np.sum(dZ1, axis=1), (1 / m) * np.sum(dZ2, axis=1)
        if mistake == "axis_0":
            db1, db2 = (1 / m) * np.sum(dZ1, axis=0, keepdims=True), (1 / m) * np.sum(dZ2, axis=0, keepdims=True)
        if mistake == "layer_shift":
            dW1 = (1 / m) * np.dot(dZ1, A1.T)  # A1 where A0 = X belongs
        if mistake == "transposed":
            dW1, dW2 = (1 / m) * np.dot(X, dZ1.T), (1 / m) * np.dot(A1, dZ2.T)
        return {"dW1": dW1, "db1": db1, "dW2": dW2, "db2": db2}

    return backward_propagation


ALL_PLANAR = ["dW1", "db1", "dW2", "db2"]
LOWER = {"dW2": "correct", "db2": "correct"}
PLANAR_CASES = {
    None: {a: "correct" for a in ALL_PLANAR},
    "no_mean_dW": {"dW1": "sum_not_mean", "dW2": "sum_not_mean", "db1": "correct", "db2": "correct"},
    "no_mean_db": {"db1": "sum_not_mean", "db2": "sum_not_mean", "dW1": "correct", "dW2": "correct"},
    "no_mean": {a: "sum_not_mean" for a in ALL_PLANAR},
    "no_keepdims": {"db1": "shape", "db2": "shape", "dW1": "correct", "dW2": "correct"},
    "axis_0": {"db1": "shape", "db2": "shape", "dW1": "correct", "dW2": "correct"},
    "no_g_prime": {**LOWER, "dW1": "missing_activation_derivative", "db1": "missing_activation_derivative"},
    "tanh_of_A1": {**LOWER, "dW1": "derivative_at_activation", "db1": "derivative_at_activation"},
    "of_Z1": {**LOWER, "dW1": "derivative_at_activation", "db1": "derivative_at_activation"},  # 1 − Z1²
    "one_minus_A1": {**LOWER, "dW1": "unknown", "db1": "unknown"},
    "layer_shift": {**LOWER, "db1": "correct", "dW1": "layer_shift"},
    "transposed": {"dW1": "transposed", "dW2": "transposed", "db1": "correct", "db2": "correct"},
    "sign": {a: "sign" for a in ALL_PLANAR},
}


@pytest.mark.parametrize("mistake", list(PLANAR_CASES), ids=lambda m: m or "correct")
def test_check_backward_propagation_names_each_mistake(mistake):
    diagnosis = ng_dl.check_backward_propagation(make_backward_propagation(mistake))
    assert diagnosis.course == "ng-dl"
    assert_kinds(diagnosis, PLANAR_CASES[mistake])
    assert diagnosis.ok == (mistake is None)


def test_check_backward_propagation_messages_use_course_names():
    d = ng_dl.check_backward_propagation(make_backward_propagation("no_mean_dW"))
    (dW1,) = [f for f in d.findings if f.array == "dW1"]
    assert dW1.factor == pytest.approx(ng_dl.PLANAR_M)
    assert "dW1" in str(d)


# ------------------------------------------------------------------ learner's code that does not fit
def test_checker_errors_are_one_line():
    def raises(AL, Y, caches):
        return {}["dA2"]

    with pytest.raises(ng_dl.NgDLError, match=r"L_model_backward\(AL, Y, caches\) raised KeyError"):
        ng_dl.check_L_model_backward(raises)
    with pytest.raises(ng_dl.NgDLError, match="must return the dict grads"):
        ng_dl.check_L_model_backward(lambda AL, Y, caches: (1, 2))
    with pytest.raises(ng_dl.NgDLError, match="lack dW1, db1"):
        ng_dl.check_backward_propagation(lambda p, c, X, Y: {"dW2": 0, "db2": 0})
    with pytest.raises(ng_dl.NgDLError, match="expected your function"):
        ng_dl.check_backward_propagation("backward_propagation")


def test_checker_does_not_let_the_learner_change_the_test_case():
    AL = ng_dl.L_model_backward_test_case()[0]

    def vandal(AL, Y, caches):
        grads = make_L_model_backward()(AL, Y, caches)
        AL[...] = 0.5
        caches[0][1][...] = 0.0
        return grads

    assert ng_dl.check_L_model_backward(vandal).ok
    again = ng_dl.L_model_backward_test_case()
    np.testing.assert_array_equal(again[0], AL)


# ------------------------------------------------------------------ the test cases themselves
def test_deep_test_case_exercises_both_branches_of_relu():
    AL, Y, caches = ng_dl.L_model_backward_test_case()
    assert [c[0][1].shape for c in caches] == [(4, 5), (3, 4), (1, 3)]
    assert AL.shape == Y.shape == (1, ng_dl.DEEP_M)
    for (_, _, _), Z in caches[:-1]:  # every hidden unit on both sides of relu's kink
        assert (Z > 0).any(axis=1).all() and (Z <= 0).any(axis=1).all()
    assert 0.1 < AL.min() and AL.max() < 0.9  # not saturated: every mistake shows in dZ3
    assert set(Y.ravel()) == {0.0, 1.0}


def test_planar_test_case_is_far_from_linear():
    parameters, cache, X, _ = ng_dl.backward_propagation_test_case()
    assert X.shape == (2, 3) and parameters["W1"].shape == (4, 2) and parameters["W2"].shape == (1, 4)
    assert np.abs(cache["A1"]).max() > 0.3  # 1 − A1² is not ≈ 1, so a missing tanh' shows


# ------------------------------------------------------------------ conversions
def params(sizes, seed=0):
    rng = np.random.default_rng(seed)
    return {k: v for l in range(1, len(sizes)) for k, v in
            ((f"W{l}", rng.standard_normal((sizes[l], sizes[l - 1]))), (f"b{l}", rng.standard_normal((sizes[l], 1))))}


def test_to_network_and_from_network_round_trip():
    p = params([5, 4, 3, 1])
    net = ng_dl.to_network(p)
    assert net.sizes == [5, 4, 3, 1] and [g.name for g in net.g] == ["relu", "relu", "sigmoid"]
    assert net.cost_name == "binary_cross_entropy"
    np.testing.assert_array_equal(net.weights[0], p["W1"])
    np.testing.assert_array_equal(net.biases[1], p["b2"][:, 0])
    back = ng_dl.from_network(net)
    assert list(back) == ["W1", "b1", "W2", "b2", "W3", "b3"]
    for k in p:
        assert back[k].shape == p[k].shape
        np.testing.assert_array_equal(back[k], p[k])
    other = Network([3, 2, 1], activation="tanh", output="sigmoid", cost="binary_cross_entropy", seed=4)
    again = ng_dl.to_network(ng_dl.from_network(other), activation="tanh")
    for a, b in zip(list(other.weights) + list(other.biases), list(again.weights) + list(again.biases)):
        np.testing.assert_array_equal(a, b)


def course_forward(X, parameters):
    """The notebook's L_model_forward, written out."""
    caches, A, L = [], X, len(parameters) // 2
    for l in range(1, L + 1):
        A_prev, W, b = A, parameters["W" + str(l)], parameters["b" + str(l)]
        Z = np.dot(W, A_prev) + b
        A = np.maximum(0, Z) if l < L else 1 / (1 + np.exp(-Z))
        caches.append(((A_prev, W, b), Z))
    return A, caches


def test_L_model_forward_matches_the_course():
    p = params([5, 4, 3, 1], seed=3)
    X = np.random.default_rng(9).standard_normal((5, 7))
    AL, caches = ng_dl.L_model_forward(X, p)
    want_AL, want_caches = course_forward(X, p)
    assert AL.shape == (1, 7)
    np.testing.assert_allclose(AL, want_AL, rtol=1e-12)
    assert len(caches) == 3
    for ((A_prev, W, b), Z), ((wA, wW, wb), wZ) in zip(caches, want_caches):
        for got, want in ((A_prev, wA), (W, wW), (b, wb), (Z, wZ)):
            assert got.shape == want.shape
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)


def test_forward_propagation_and_compute_cost_match_the_course():
    p = params([2, 4, 1], seed=5)
    X = np.random.default_rng(6).standard_normal((2, 6))
    Y = np.array([[1, 0, 1, 1, 0, 0]], dtype=float)
    A2, cache = ng_dl.forward_propagation(X, p)
    Z1 = p["W1"] @ X + p["b1"]
    A1 = np.tanh(Z1)
    Z2 = p["W2"] @ A1 + p["b2"]
    want = 1 / (1 + np.exp(-Z2))
    for key, value in {"Z1": Z1, "A1": A1, "Z2": Z2, "A2": want}.items():
        np.testing.assert_allclose(cache[key], value, rtol=1e-12)
    np.testing.assert_allclose(A2, want, rtol=1e-12)
    m = Y.shape[1]
    J = -1 / m * np.sum(np.multiply(np.log(A2), Y) + np.multiply(np.log(1 - A2), 1 - Y))
    assert ng_dl.compute_cost(A2, Y) == pytest.approx(J, rel=1e-12)
    net = ng_dl.to_network(p, activation="tanh")
    assert ng_dl.compute_cost(A2, Y.ravel()) == pytest.approx(net.cost(X.T, Y.T), rel=1e-12)


def central(f, x, eps=1e-6):
    g = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + eps
        up = f()
        x[i] = old - eps
        down = f()
        x[i] = old
        g[i] = (up - down) / (2 * eps)
    return g


def test_from_gradients_matches_central_differences():
    p = params([5, 4, 3, 1], seed=7)
    X = np.random.default_rng(8).standard_normal((5, 6))
    Y = np.array([[1, 0, 0, 1, 1, 0]], dtype=float)
    m = Y.shape[1]
    net = ng_dl.to_network(p)
    grads = ng_dl.from_gradients(net.backward(X.T, Y.T), p)
    assert list(grads) == ["dA2", "dW3", "db3", "dA1", "dW2", "db2", "dA0", "dW1", "db1"]
    J = lambda: ng_dl.compute_cost(course_forward(X, p)[0], Y)
    for l in (1, 2, 3):
        for k in (f"W{l}", f"b{l}"):
            assert grads["d" + k].shape == p[k].shape
            np.testing.assert_allclose(grads["d" + k], central(J, p[k]), rtol=1e-6, atol=1e-9)
    # dA^[l] = m ∂J/∂A^[l] (the course's dA is per example): perturb A^[l] and run the layers above
    _, caches = course_forward(X, p)
    for l in (0, 1, 2):
        A = caches[l][0][0].copy()  # A^[l] is layer l+1's A_prev

        def J_from_A(A=A, l=l):
            upper = {f"W{k - l}": p[f"W{k}"] for k in range(l + 1, 4)} | {f"b{k - l}": p[f"b{k}"] for k in range(l + 1, 4)}
            return ng_dl.compute_cost(course_forward(A, upper)[0], Y)

        assert grads[f"dA{l}"].shape == A.shape
        np.testing.assert_allclose(grads[f"dA{l}"], m * central(J_from_A, A), rtol=1e-6, atol=1e-9)
    assert "dA0" not in ng_dl.from_gradients(net.backward(X.T, Y.T))


@pytest.mark.parametrize("bad, message", [
    ({"W1": np.zeros((3, 2)), "b1": np.zeros(3)}, r"\['b1'\] has shape \(3,\), expected the column vector \(3, 1\)"),
    ({"W1": np.zeros((3, 2))}, "lacks b1"),
    ({"W1": np.zeros((3, 2)), "b1": np.zeros((3, 1)), "W2": np.zeros((1, 4)), "b2": np.zeros((1, 1))},
     r"\['W2'\] has shape \(1, 4\), expected \(n\^\[2\], 3\)"),
    ([np.zeros((3, 2))], "must be the course's dict"),
])
def test_bad_parameters_are_one_line_errors(bad, message):
    with pytest.raises(ng_dl.NgDLError, match=message):
        ng_dl.to_network(bad)


def test_examples_as_rows_is_a_one_line_error():
    p = params([5, 4, 1])
    with pytest.raises(ng_dl.NgDLError, match=r"X has shape \(7, 5\), expected \(5, m\): one column per example"):
        ng_dl.L_model_forward(np.zeros((7, 5)), p)


def test_checkers_take_the_learners_own_set_up():
    p = params([3, 2, 1], seed=11)
    X = np.random.default_rng(12).standard_normal((3, 5))
    Y = np.array([[0, 1, 1, 0, 1]], dtype=float)
    assert ng_dl.check_L_model_backward(make_L_model_backward(), parameters=p, X=X, Y=Y).ok
    wrong = ng_dl.check_L_model_backward(make_L_model_backward(linear_backward=linear_backward_no_mean_dW),
                                         parameters=p, X=X, Y=Y)
    assert {f.factor for f in wrong.findings if f.kind == "sum_not_mean"} == {5.0}
    assert ng_dl.check_backward_propagation(make_backward_propagation(), parameters=params([3, 2, 1]), X=X, Y=Y).ok
    with pytest.raises(ng_dl.NgDLError, match="give parameters, X and Y together"):
        ng_dl.check_L_model_backward(make_L_model_backward(), parameters=p)
    with pytest.raises(ng_dl.NgDLError, match="Y has 4 columns but X has 5 examples"):
        ng_dl.check_L_model_backward(make_L_model_backward(), parameters=p, X=X, Y=Y[:, :4])
