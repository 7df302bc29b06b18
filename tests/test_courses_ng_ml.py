"""deltaprop.courses.ng_ml: Andrew Ng's ex4 layout both ways, nnCostFunction, and the checker.

The learner's code below is written as ex4's Python ports write it: nn_params read back with
Octave's column-major reshape, a per-example ``for t = 1:m`` loop or the vectorised form, grad
unrolled as [Theta1_grad(:); Theta2_grad(:)]. Each classic mistake is one marked line.
"""

import numpy as np
import pytest
import scipy.io

from deltaprop.courses import ng_ml
from deltaprop.courses.ng_ml import NgMLError


# ---------------------------------------------------------------------------- the learner's code
def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_gradient(z):
    g = sigmoid(z)
    return g * (1 - g)


def nn_cost_loop(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_, mistake=None):
    """nnCostFunction with the course's recommended ``for t = 1:m`` loop."""
    n1 = hidden_layer_size * (input_layer_size + 1)
    Theta1 = nn_params[:n1].reshape(hidden_layer_size, input_layer_size + 1, order="F")
    Theta2 = nn_params[n1:].reshape(num_labels, hidden_layer_size + 1, order="F")
    m = X.shape[0]
    J = 0.0
    Delta1 = np.zeros((hidden_layer_size + (mistake == "bias_delta"), input_layer_size + 1))
    Delta2 = np.zeros_like(Theta2)
    for t in range(m):
        a1 = np.concatenate([[1.0], X[t]])
        z2 = Theta1 @ a1
        a2 = np.concatenate([[1.0], sigmoid(z2)])
        z3 = Theta2 @ a2
        a3 = sigmoid(z3)
        yk = (np.arange(1, num_labels + 1) == y[t]).astype(float)
        J += np.sum(-yk * np.log(a3) - (1 - yk) * np.log(1 - a3))
        d3 = a3 - yk
        if mistake == "bias_delta":
            d2 = (Theta2.T @ d3) * sigmoid_gradient(np.concatenate([[1.0], z2]))  # δ_0 kept
        else:
            d2 = (Theta2.T @ d3)[1:] * sigmoid_gradient(z2)
        Delta2 += np.outer(d3, a2)
        Delta1 += np.outer(d2, a1)
    scale = 1.0 if mistake == "no_mean" else 1.0 / m  # "no_mean": Δ never divided by m
    J = J * scale + lambda_ / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
    Theta1_grad = Delta1 * scale
    Theta2_grad = Delta2 * scale
    if mistake != "bias_delta":
        Theta1_grad[:, 1:] += lambda_ / m * Theta1[:, 1:]
    Theta2_grad[:, 1:] += lambda_ / m * Theta2[:, 1:]
    return J, np.concatenate([Theta1_grad.ravel(order="F"), Theta2_grad.ravel(order="F")])


def nn_cost_vectorised(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_,
                       mistake=()):
    """nnCostFunction vectorised over the m examples; ``mistake`` names the wrong lines."""
    mistake = (mistake,) if isinstance(mistake, str) else mistake
    order = "C" if "row_major_both" in mistake else "F"
    n1 = hidden_layer_size * (input_layer_size + 1)
    Theta1 = nn_params[:n1].reshape(hidden_layer_size, input_layer_size + 1, order=order)
    Theta2 = nn_params[n1:].reshape(num_labels, hidden_layer_size + 1, order=order)
    m = X.shape[0]
    Y = np.eye(num_labels)[y - 1]
    a1 = np.hstack([np.ones((m, 1)), X])
    z2 = a1 @ Theta1.T
    a2 = np.hstack([np.ones((m, 1)), sigmoid(z2)])
    z3 = a2 @ Theta2.T
    a3 = sigmoid(z3)

    reg_cols = slice(0, None) if "regularized_bias_J" in mistake else slice(1, None)
    J = np.sum(-Y * np.log(a3) - (1 - Y) * np.log(1 - a3)) / m
    J_reg = lambda_ / m if "J_lambda_over_m" in mistake else lambda_ / (2 * m)
    J += J_reg * (np.sum(Theta1[:, reg_cols] ** 2) + np.sum(Theta2[:, reg_cols] ** 2))

    d3 = a3 - Y
    if "sign" in mistake:
        d3 = Y - a3
    if "output_sigmoid_gradient" in mistake:
        d3 = (a3 - Y) * sigmoid_gradient(z3)  # the quadratic cost's δ^(3), not the course's
    if "no_sigmoid_gradient" in mistake:
        d2 = d3 @ Theta2[:, 1:]
    elif "sigmoid_gradient_of_a" in mistake:
        d2 = (d3 @ Theta2[:, 1:]) * sigmoid_gradient(a2[:, 1:])  # a(1−a) of σ(a), not of z
    else:
        d2 = (d3 @ Theta2[:, 1:]) * sigmoid_gradient(z2)
    Delta1 = d2.T @ a1
    Delta2 = d3.T @ a2

    mean = 1.0 if "no_mean" in mistake else 1.0 / m
    reg = lambda_ / m
    if "half_lambda_grad" in mistake:
        reg = lambda_ / (2 * m)
    if "no_lambda_grad" in mistake:
        reg = 0.0
    cols = slice(0, None) if "regularized_bias" in mistake else slice(1, None)
    Theta1_grad = Delta1 * mean
    Theta2_grad = Delta2 * mean
    Theta1_grad[:, cols] += reg * Theta1[:, cols]
    Theta2_grad[:, cols] += reg * Theta2[:, cols]
    if "transposed" in mistake:
        Theta1_grad = Theta1_grad.T  # (s_1 + 1, s_2): a1ᵀ d2 instead of d2ᵀ a1
    if "row_major" in mistake or "row_major_both" in mistake:
        return J, np.concatenate([Theta1_grad.ravel(), Theta2_grad.ravel()])
    return J, np.concatenate([Theta1_grad.ravel(order="F"), Theta2_grad.ravel(order="F")])


def learner(mistake=(), loop=False):
    if loop:
        return lambda *args: nn_cost_loop(*args, mistake=mistake)
    return lambda *args: nn_cost_vectorised(*args, mistake=mistake)


def kinds_by_array(diagnosis):
    out = {}
    for f in diagnosis.findings:
        out.setdefault(f.array, set()).add(f.kind)
    return out


# ---------------------------------------------------------------------------- layout
def test_unroll_and_reshape_follow_octave_column_major_order():
    # Octave: reshape(1:6, 2, 3) = [1 3 5; 2 4 6], and A(:) reads it back column by column.
    (T,) = ng_ml.reshape(np.arange(1, 7), [2, 2])
    np.testing.assert_array_equal(T, [[1, 3, 5], [2, 4, 6]])
    rng = np.random.default_rng(0)
    thetas = [rng.normal(size=(5, 4)), rng.normal(size=(3, 6)), rng.normal(size=(2, 4))]
    vector = ng_ml.unroll(thetas)
    np.testing.assert_array_equal(vector, np.concatenate([T.ravel(order="F") for T in thetas]))
    back = ng_ml.reshape(vector, [3, 5, 3, 2])
    for a, b in zip(back, thetas):
        np.testing.assert_array_equal(a, b)
    assert [T.shape for T in back] == ng_ml.theta_shapes([3, 5, 3, 2]) == [(5, 4), (3, 6), (2, 4)]


def test_reshape_of_a_wrong_length_says_what_the_sizes_need():
    with pytest.raises(NgMLError, match=r"nn_params has 37 elements; sizes \[3, 5, 3\] need 38 = 5×4 \(Theta1\) \+ 3×6 \(Theta2\)"):
        ng_ml.reshape(np.zeros(37), [3, 5, 3])


def test_debug_initialize_weights_is_the_course_sin_fill_column_by_column():
    # W = reshape(sin(1:numel(W)), size(W)) / 10 with W of size (fan_out, 1 + fan_in)
    W = ng_ml.debug_initialize_weights(2, 1)
    np.testing.assert_allclose(W, np.array([[np.sin(1), np.sin(3)], [np.sin(2), np.sin(4)]]) / 10)
    assert ng_ml.debug_initialize_weights(5, 3).shape == (5, 4)
    s = ng_ml.debug_setup()
    np.testing.assert_array_equal(s["y"], [2, 3, 1, 2, 3])  # 1 + mod(1:m, num_labels)'
    assert s["X"].shape == (5, 3) and s["nn_params"].shape == (38,)


def test_to_network_and_from_network_round_trip_with_the_bias_column_first():
    rng = np.random.default_rng(1)
    thetas = [rng.normal(size=(4, 3)), rng.normal(size=(3, 5))]
    net = ng_ml.to_network(thetas)
    assert net.sizes == [2, 4, 3]
    np.testing.assert_array_equal(net.weights[0], thetas[0][:, 1:])
    np.testing.assert_array_equal(net.biases[1], thetas[1][:, 0])
    for a, b in zip(ng_ml.from_network(net), thetas):
        np.testing.assert_array_equal(a, b)
    same = ng_ml.to_network(ng_ml.unroll(thetas), [2, 4, 3])
    np.testing.assert_array_equal(same.weights[1], net.weights[1])
    # predict.m: the label 1..K of the largest output
    X = rng.normal(size=(6, 2))
    a3 = sigmoid(np.hstack([np.ones((6, 1)), sigmoid(np.hstack([np.ones((6, 1)), X]) @ thetas[0].T)]) @ thetas[1].T)
    np.testing.assert_array_equal(net.predict(X), a3.argmax(axis=1) + 1)


def test_to_network_refuses_thetas_that_do_not_chain():
    with pytest.raises(NgMLError, match=r"shapes \[\(4, 3\), \(3, 4\)\]; sizes \[2, 4, 3\] need \[\(4, 3\), \(3, 5\)\]"):
        ng_ml.to_network([np.zeros((4, 3)), np.zeros((3, 4))])
    with pytest.raises(NgMLError, match="needs sizes"):
        ng_ml.to_network(np.zeros(38))


def test_from_gradients_is_the_course_layout_of_the_engine_gradients():
    s = ng_ml.debug_setup()
    net = ng_ml.to_network([s["Theta1"], s["Theta2"]])
    grads = net.backward(s["X"], np.eye(3)[s["y"] - 1], l2=1.0)
    T1, T2 = ng_ml.from_gradients(grads)
    np.testing.assert_array_equal(T1[:, 0], grads.biases[0])
    np.testing.assert_array_equal(T2[:, 1:], grads.weights[1])
    np.testing.assert_array_equal(ng_ml.from_gradients(grads, unrolled=True), ng_ml.unroll([T1, T2]))


# ---------------------------------------------------------------------------- nnCostFunction
# checkNNGradients(3) in ex4.m (λ = 3): the published analytic = numerical gradient
CHECK_NN_GRADIENTS_LAMBDA_3 = [
    -9.2783e-03, 8.8991e-03, -8.3601e-03, 7.6281e-03, -6.7480e-03, -1.6768e-02, 3.9433e-02,
    5.9336e-02, 2.4764e-02, -3.2688e-02, -6.0174e-02, -3.1961e-02, 2.4923e-02, 5.9772e-02,
    3.8641e-02, -1.7370e-02, -5.7566e-02, -4.5196e-02, 9.1459e-03, 5.4610e-02, 3.1454e-01,
    1.1106e-01, 9.7401e-02, 1.1868e-01, 3.8193e-05, 3.3693e-02, 2.0399e-01, 1.1715e-01,
    7.5480e-02, 1.2570e-01, -4.0759e-03, 1.6968e-02, 1.7634e-01, 1.1313e-01, 8.6163e-02,
    1.3229e-01, -4.5296e-03, 1.5005e-03,
]


def test_nn_cost_function_gives_check_nn_gradients_published_gradient():
    s = ng_ml.debug_setup()
    J, grad = ng_ml.nn_cost_function(s["nn_params"], 3, 5, 3, s["X"], s["y"], 3)
    assert grad.shape == (38,)
    np.testing.assert_allclose(grad, CHECK_NN_GRADIENTS_LAMBDA_3, rtol=5e-4, atol=1e-8)


def test_nn_cost_function_gives_the_forum_test_case_published_numbers():
    # ex4 forum test: nn = [1:18]/10, X = cos([1 2; 3 4; 5 6]), y = [4; 2; 3], 2-2-4 network
    nn = np.arange(1, 19) / 10
    X = np.cos(np.array([[1, 2], [3, 4], [5, 6]]))
    y = np.array([[4], [2], [3]])  # Octave's column vector
    J0, _ = ng_ml.nn_cost_function(nn, 2, 2, 4, X, y, 0)
    J3, grad3 = ng_ml.nn_cost_function(nn, 2, 2, 4, X, y, 3)
    assert round(J0, 4) == 7.4070
    assert round(J3, 3) == 16.457
    np.testing.assert_allclose(grad3, [0.76614, 0.97990, 0.27246, 0.36416, 0.47507, 0.54614, 0.88342,
                                       0.56876, 0.58467, 0.59814, 1.55931, 1.54462, 1.55631, 1.71189,
                                       1.97834, 1.96892, 1.95977, 2.12233], atol=6e-6)


@pytest.mark.parametrize("lambda_", [0, 3])
def test_nn_cost_function_equals_an_independent_numpy_port(lambda_):
    s = ng_ml.debug_setup()
    args = (s["nn_params"], 3, 5, 3, s["X"], s["y"], lambda_)
    J, grad = ng_ml.nn_cost_function(*args)
    for port in (nn_cost_loop, nn_cost_vectorised):
        J_ref, grad_ref = port(*args)
        assert J == pytest.approx(J_ref, rel=1e-12)
        np.testing.assert_allclose(grad, grad_ref, rtol=1e-10, atol=1e-14)


def test_nn_cost_function_with_more_layers_matches_central_differences():
    rng = np.random.default_rng(2)
    sizes = [4, 5, 3, 3]
    nn = rng.normal(scale=0.5, size=sum(r * c for r, c in ng_ml.theta_shapes(sizes)))
    X, y = rng.normal(size=(7, 4)), rng.integers(1, 4, size=7)
    J, grad = ng_ml.nn_cost_function(nn, 4, None, 3, X, y, 1.5, sizes=sizes)
    eps = 1e-5
    numeric = np.empty_like(nn)
    for i in range(nn.size):
        e = np.zeros_like(nn)
        e[i] = eps
        numeric[i] = (ng_ml.nn_cost_function(nn + e, 4, None, 3, X, y, 1.5, sizes=sizes)[0]
                      - ng_ml.nn_cost_function(nn - e, 4, None, 3, X, y, 1.5, sizes=sizes)[0]) / (2 * eps)
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


@pytest.mark.parametrize("change, message", [
    (dict(X=np.hstack([np.ones((5, 1)), ng_ml.debug_setup()["X"]])), r"X must have shape \(m, 3\).*no bias column"),
    (dict(y=np.array([0, 1, 2, 0, 1])), r"y\(1\) = 0: labels must be 1..K = 1..3"),
    (dict(lambda_=-1), r"lambda_ .* must be a number ≥ 0, got -1"),
    (dict(nn_params=np.zeros(37)), r"nn_params has 37 elements"),
])
def test_nn_cost_function_refuses_input_outside_the_course_layout_in_one_line(change, message):
    s = ng_ml.debug_setup()
    args = dict(nn_params=s["nn_params"], input_layer_size=3, hidden_layer_size=5, num_labels=3,
                X=s["X"], y=s["y"], lambda_=0)
    args.update(change)
    with pytest.raises(NgMLError, match=message) as info:
        ng_ml.nn_cost_function(**args)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------- check_nn_gradients
@pytest.mark.parametrize("loop", [True, False])
@pytest.mark.parametrize("lambda_", [0, 3])
def test_the_correct_nn_cost_function_is_diagnosed_correct(loop, lambda_):
    d = ng_ml.check_nn_gradients(learner(loop=loop), lambda_=lambda_)
    assert d.ok, str(d)
    assert d.course == "ng-ml"
    assert kinds_by_array(d) == {"J": {"correct"}, "Theta1_grad": {"correct"}, "Theta2_grad": {"correct"}}


def test_an_octave_style_column_grad_is_read_as_the_vector():
    def column(*args):
        J, grad = nn_cost_vectorised(*args)
        return np.array([[J]]), grad.reshape(-1, 1)

    assert ng_ml.check_nn_gradients(column, lambda_=3).ok


# (mistake, loop?, λ, the findings expected: {array: {kinds}})
MISTAKES = [
    ("no_mean", True, 0, {"J": {"sum_not_mean"}, "Theta1_grad": {"sum_not_mean"}, "Theta2_grad": {"sum_not_mean"}}),
    ("regularized_bias", False, 3, {"J": {"correct"}, "Theta1_grad": {"regularized_bias"}, "Theta2_grad": {"regularized_bias"}}),
    (("regularized_bias", "regularized_bias_J"), False, 3,
     {"J": {"regularized_bias"}, "Theta1_grad": {"regularized_bias"}, "Theta2_grad": {"regularized_bias"}}),
    ("half_lambda_grad", False, 3, {"J": {"correct"}, "Theta1_grad": {"l2_scale"}, "Theta2_grad": {"l2_scale"}}),
    ("no_lambda_grad", False, 3, {"J": {"correct"}, "Theta1_grad": {"missing_l2"}, "Theta2_grad": {"missing_l2"}}),
    ("sigmoid_gradient_of_a", False, 0, {"J": {"correct"}, "Theta1_grad": {"derivative_at_activation"}, "Theta2_grad": {"correct"}}),
    ("no_sigmoid_gradient", False, 0, {"J": {"correct"}, "Theta1_grad": {"missing_activation_derivative"}, "Theta2_grad": {"correct"}}),
    ("J_lambda_over_m", False, 3, {"J": {"l2_scale"}, "Theta1_grad": {"correct"}, "Theta2_grad": {"correct"}}),
    ("sign", False, 0, {"J": {"correct"}, "Theta1_grad": {"sign"}, "Theta2_grad": {"sign"}}),
    ("bias_delta", True, 0, {"J": {"correct"}, "Theta1_grad": {"bias_unit_delta"}, "Theta2_grad": {"correct"}}),
    ("row_major", False, 3, {"J": {"correct"}, "Theta1_grad": {"unroll_order"}, "Theta2_grad": {"unroll_order"}}),
    ("row_major_both", False, 3, {"J": {"unroll_order"}, "Theta1_grad": {"unroll_order"}, "Theta2_grad": {"unroll_order"}}),
    ("transposed", False, 0, {"J": {"correct"}, "Theta1_grad": {"unroll_order"}, "Theta2_grad": {"correct"}}),
    (("no_mean", "regularized_bias"), False, 3,
     {"J": {"correct"}, "Theta1_grad": {"sum_not_mean", "regularized_bias"}, "Theta2_grad": {"sum_not_mean", "regularized_bias"}}),
    (("row_major", "no_lambda_grad"), False, 3,
     {"J": {"correct"}, "Theta1_grad": {"unroll_order", "missing_l2"}, "Theta2_grad": {"unroll_order", "missing_l2"}}),
]


def test_a_wrong_output_delta_is_named_at_theta2_and_reaches_theta1():
    d = ng_ml.check_nn_gradients(learner("output_sigmoid_gradient"))
    assert kinds_by_array(d) == {"J": {"correct"}, "Theta2_grad": {"wrong_output_delta"}}, str(d)
    (f,) = [f for f in d.findings if f.kind == "wrong_output_delta"]
    assert f.evidence["arrays"] == ["Theta2_grad", "Theta1_grad"]
    assert "δ^(3) = a^(3) − y" in f.message


def test_a_grad_with_nan_is_unknown_on_its_theta():
    def nan_grad(*args):
        J, grad = nn_cost_vectorised(*args)
        grad[30] = np.nan
        return J, grad

    d = ng_ml.check_nn_gradients(nan_grad)
    assert kinds_by_array(d) == {"J": {"correct"}, "Theta1_grad": {"correct"}, "Theta2_grad": {"unknown"}}, str(d)


@pytest.mark.parametrize("mistake, loop, lambda_, expected", MISTAKES, ids=lambda v: v if isinstance(v, str) else None)
def test_each_classic_mistake_is_named_on_the_right_array(mistake, loop, lambda_, expected):
    d = ng_ml.check_nn_gradients(learner(mistake, loop=loop), lambda_=lambda_)
    assert not d.ok
    assert kinds_by_array(d) == expected, str(d)


def test_a_learner_function_that_does_not_return_j_and_grad_is_refused_in_one_line():
    with pytest.raises(NgMLError, match=r"must return \(J, grad\).*returned float"):
        ng_ml.check_nn_gradients(lambda *args: 1.0)


def test_a_grad_of_the_wrong_length_or_none_is_a_shape_finding():
    d = ng_ml.check_nn_gradients(lambda *args: (nn_cost_vectorised(*args)[0], np.zeros(30)))
    assert kinds_by_array(d) == {"J": {"correct"}, "grad": {"shape"}}
    assert "38" in next(f.message for f in d.findings if f.array == "grad")
    d = ng_ml.diagnose_grad(None, J=np.zeros(3))
    assert kinds_by_array(d) == {"J": {"shape"}, "grad": {"shape"}}


# ---------------------------------------------------------------------------- .mat files
def test_load_mat_reads_ex4weights_style_thetas(tmp_path):
    rng = np.random.default_rng(3)
    Theta1, Theta2 = rng.normal(size=(25, 401)), rng.normal(size=(10, 26))
    path = tmp_path / "ex4weights.mat"
    scipy.io.savemat(path, {"Theta1": Theta1, "Theta2": Theta2})
    data = ng_ml.load_mat(path)
    np.testing.assert_array_equal(data["Theta1"], Theta1)
    net = ng_ml.to_network([data["Theta1"], data["Theta2"]])
    assert net.sizes == [400, 25, 10]
    for a, b in zip(ng_ml.from_network(net), (Theta1, Theta2)):
        np.testing.assert_array_equal(a, b)


def test_a_saved_grad_round_trips_and_is_diagnosed(tmp_path):
    s = ng_ml.debug_setup()
    J, grad = nn_cost_vectorised(s["nn_params"], 3, 5, 3, s["X"], s["y"], 3, mistake="no_lambda_grad")
    path = tmp_path / "mygrad.mat"
    # what Octave's `save -v7 mygrad.mat J grad lambda` holds: a 1×1 J, a 38×1 grad, a 1×1 lambda
    scipy.io.savemat(path, {"J": np.array([[J]]), "grad": grad.reshape(-1, 1), "lambda": np.array([[3.0]])})
    data = ng_ml.load_mat(path, keys=("J", "grad"))
    assert data["grad"].shape == (38,) and data["J"] == J and data["lambda"] == 3.0
    d = ng_ml.diagnose_grad(data["grad"], data["J"], lambda_=data["lambda"])
    assert kinds_by_array(d) == {"J": {"correct"}, "Theta1_grad": {"missing_l2"}, "Theta2_grad": {"missing_l2"}}


def test_octave_save_lines_are_checknngradients_setup_and_a_v7_save():
    lines = ng_ml.OCTAVE_SAVE_LINES.splitlines()
    assert "Theta1 = debugInitializeWeights(hidden_layer_size, input_layer_size);" in lines
    assert "y = 1 + mod(1:m, num_labels)';" in lines
    assert "nn_params = [Theta1(:) ; Theta2(:)];" in lines
    assert lines[-1] == "save -v7 mygrad.mat J grad lambda"


@pytest.mark.parametrize("content, message", [
    (None, r"no such file|No such file"),
    (b"# Created by Octave 6.4.0\n# name: J\n# type: scalar\n2.1\n", r"Octave's text format.*save -v7"),
    (b"not a mat file at all, just some text bytes that go on long enough" * 3, r"not a MATLAB/Octave .mat file"),
])
def test_load_mat_refuses_unreadable_files_in_one_line(tmp_path, content, message):
    path = tmp_path / "mygrad.mat"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(NgMLError, match=message) as info:
        ng_ml.load_mat(path)
    assert "\n" not in str(info.value) and "mygrad.mat" in str(info.value)


def test_load_mat_names_the_missing_variable(tmp_path):
    path = tmp_path / "mygrad.mat"
    scipy.io.savemat(path, {"J": 2.1, "gradient": np.zeros((38, 1))})
    with pytest.raises(NgMLError, match=r"has no variable 'grad' \(it holds: J, gradient\)"):
        ng_ml.load_mat(path, keys=("J", "grad"))
    with pytest.raises(NgMLError, match=r"holds neither Theta1 .* nor grad"):
        ng_ml.load_mat(path)
    scipy.io.savemat(path, {"J": np.zeros((2, 2)), "grad": np.zeros((38, 1))})
    with pytest.raises(NgMLError, match=r"J must be one number \(1×1\), got shape \(2, 2\)"):
        ng_ml.load_mat(path)
