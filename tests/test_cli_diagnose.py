"""``deltaprop diagnose``: a learner's own solution file, run the way the course checks it."""

import json
import os
import shutil
import subprocess
import sys
import textwrap

import numpy as np
import pytest

ENV = {**os.environ, "COLUMNS": "120"}


def cli(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "deltaprop", "diagnose", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=120, env=ENV)


def solution(tmp_path, name, source):
    path = tmp_path / name
    path.write_text(textwrap.dedent(source), encoding="utf-8")
    return path


NG_ML = """
import numpy as np

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def nnCostFunction(nn_params, input_layer_size, hidden_layer_size, num_labels, X, y, lambda_):
    n1 = hidden_layer_size * (input_layer_size + 1)
    Theta1 = nn_params[:n1].reshape((hidden_layer_size, input_layer_size + 1), order="F")
    Theta2 = nn_params[n1:].reshape((num_labels, hidden_layer_size + 1), order="F")
    m = X.shape[0]
    a1 = np.hstack([np.ones((m, 1)), X])
    z2 = a1 @ Theta1.T
    a2 = np.hstack([np.ones((m, 1)), sigmoid(z2)])
    a3 = sigmoid(a2 @ Theta2.T)
    Y = np.eye(num_labels)[np.asarray(y).ravel().astype(int) - 1]
    J = -np.sum(Y * np.log(a3) + (1 - Y) * np.log(1 - a3)) / m
    J += lambda_ / (2 * m) * (np.sum(Theta1[:, 1:] ** 2) + np.sum(Theta2[:, 1:] ** 2))
    d3 = a3 - Y
    d2 = (d3 @ Theta2)[:, 1:] * sigmoid(z2) * (1 - sigmoid(z2))
    Theta1_grad = d2.T @ a1 / DIVIDE
    Theta2_grad = d3.T @ a2 / DIVIDE
    Theta1_grad[:, 1:] += lambda_ / m * Theta1[:, 1:]
    Theta2_grad[:, 1:] += lambda_ / m * Theta2[:, 1:]
    return J, np.concatenate([Theta1_grad.ravel(order="F"), Theta2_grad.ravel(order="F")])
"""

NIELSEN = """
import numpy as np

def sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))

def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))

class Network(object):
    def __init__(self, sizes):
        self.num_layers = len(sizes)
        self.sizes = sizes
        self.biases = [np.random.randn(y, 1) for y in sizes[1:]]
        self.weights = [np.random.randn(y, x) for x, y in zip(sizes[:-1], sizes[1:])]

    def backprop(self, x, y):
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
        delta = self.cost_derivative(activations[-1], y) OUTPUT_FACTOR
        nabla_b[-1] = delta
        nabla_w[-1] = np.dot(delta, activations[-2].transpose())
        for l in range(2, self.num_layers):
            sp = sigmoid_prime(zs[-l])
            delta = np.dot(self.weights[-l + 1].transpose(), delta) * sp
            nabla_b[-l] = delta
            nabla_w[-l] = np.dot(delta, activations[-l - 1].transpose())
        return (nabla_b, nabla_w)

    def cost_derivative(self, output_activations, y):
        return output_activations - y
"""

NG_DL = """
import numpy as np

def L_model_backward(AL, Y, caches):
    grads = {}
    L = len(caches)
    m = AL.shape[1]
    Y = Y.reshape(AL.shape)
    dAL = -(np.divide(Y, AL) - np.divide(1 - Y, 1 - AL))
    dA = dAL
    for l in reversed(range(L)):
        (A_prev, W, b), Z = caches[l]
        if l == L - 1:
            s = 1 / (1 + np.exp(-Z))
            dZ = dA * s * (1 - s)
        else:
            dZ = np.array(dA, copy=True)
            dZ[Z <= 0] = 0
        grads["dW" + str(l + 1)] = np.dot(dZ, A_prev.T) / m
        grads["db" + str(l + 1)] = np.sum(dZ, axis=1, keepdims=True) / m
        dA = np.dot(W.T, dZ)
        grads["dA" + str(l)] = dA
    return grads
"""

CS231N = """
import numpy as np

class TwoLayerNet(object):
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        self.params = {"W1": weight_scale * np.random.randn(input_dim, hidden_dim), "b1": np.zeros(hidden_dim),
                       "W2": weight_scale * np.random.randn(hidden_dim, num_classes), "b2": np.zeros(num_classes)}
        self.reg = reg

    def loss(self, X, y=None):
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        hidden = np.maximum(0, X @ W1 + b1)
        scores = hidden @ W2 + b2
        if y is None:
            return scores
        N = X.shape[0]
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted) / np.exp(shifted).sum(axis=1, keepdims=True)
        loss = -np.log(probs[np.arange(N), y]).mean() + 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        dscores /= DIVIDE
        grads = {"W2": hidden.T @ dscores + self.reg * W2, "b2": dscores.sum(axis=0)}
        dhidden = dscores @ W2.T
        dhidden[hidden <= 0] = 0
        grads["W1"] = X.T @ dhidden + self.reg * W1
        grads["b1"] = dhidden.sum(axis=0)
        return loss, grads
"""


@pytest.mark.parametrize("course, name, source, right, wrong, kind", [
    ("ng-ml", "nnCostFunction.py", NG_ML, ("DIVIDE", "m"), ("DIVIDE", "1"), "sum_not_mean"),
    ("nielsen", "network.py", NIELSEN, ("OUTPUT_FACTOR", "* sigmoid_prime(zs[-1])"), ("OUTPUT_FACTOR", ""),
     "wrong_output_delta"),
    ("ng-dl", "dnn_utils.py", NG_DL, ("/ m", "/ m"), ("np.dot(dZ, A_prev.T) / m", "np.dot(dZ, A_prev.T)"),
     "sum_not_mean"),
    ("cs231n", "fc_net.py", CS231N, ("DIVIDE", "N"), ("DIVIDE", "1"), "sum_not_mean"),
])
def test_a_learners_file_is_diagnosed_in_the_course_notation(tmp_path, course, name, source, right, wrong, kind):
    good = solution(tmp_path / "good", name, source.replace(*right)) if (tmp_path / "good").mkdir() is None else None
    bad = solution(tmp_path / "bad", name, source.replace(*wrong)) if (tmp_path / "bad").mkdir() is None else None
    ok = cli(good, "--course", course)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    found = cli(bad, "--course", course)
    assert found.returncode == 1, found.stdout + found.stderr
    assert kind in found.stdout
    as_json = json.loads(cli(bad, "--course", course, "--json").stdout)
    assert as_json["ok"] is False and kind in {f["kind"] for f in as_json["findings"]}


def test_ng_ml_with_lambda_and_the_regularised_bias_column(tmp_path):
    mistake = NG_ML.replace("DIVIDE", "m").replace("Theta1_grad[:, 1:] += lambda_ / m * Theta1[:, 1:]",
                                                   "Theta1_grad += lambda_ / m * Theta1")
    path = solution(tmp_path, "nnCostFunction.py", mistake)
    assert cli(path, "--course", "ng-ml").returncode == 0  # λ = 0: the mistake does not show
    found = cli(path, "--course", "ng-ml", "--lambda", "3")
    assert found.returncode == 1 and "regularized_bias" in found.stdout and "Theta1_grad" in found.stdout


def test_octave_grad_saved_to_a_mat_file(tmp_path):
    from scipy.io import savemat

    from deltaprop.courses import ng_ml

    setup = ng_ml.debug_setup()
    J, grad = ng_ml.nn_cost_function(setup["nn_params"], 3, 5, 3, setup["X"], setup["y"], 0.0)
    savemat(tmp_path / "right.mat", {"J": J, "grad": grad.reshape(-1, 1), "lambda": 0.0})
    savemat(tmp_path / "summed.mat", {"J": J * 5, "grad": grad.reshape(-1, 1) * 5, "lambda": 0.0})
    assert cli("--course", "ng-ml", "--grad", tmp_path / "right.mat").returncode == 0
    summed = cli("--course", "ng-ml", "--grad", tmp_path / "summed.mat")
    assert summed.returncode == 1 and "sum_not_mean" in summed.stdout


@pytest.mark.skipif(shutil.which("octave-cli") or shutil.which("octave"), reason="Octave is installed here")
def test_an_octave_file_without_octave_prints_the_lines_to_save_the_gradient(tmp_path):
    path = solution(tmp_path, "nnCostFunction.m", "function [J grad] = nnCostFunction(varargin)\nend\n")
    result = cli(path, "--course", "ng-ml")
    assert result.returncode == 2 and result.stderr.startswith("error:")
    assert "octave-cli is not installed" in result.stderr and "save -v7 mygrad.mat" in result.stderr
    assert "--grad mygrad.mat" in result.stderr and "Traceback" not in result.stderr


def test_errors_in_the_learners_code_name_their_line_and_lazy_imports_work(tmp_path):
    helper = solution(tmp_path, "ex4helpers.py", "import numpy as np\n\ndef sigmoid(z):\n    return 1 / (1 + np.exp(-z))\n")
    lazy = NG_ML.replace("DIVIDE", "m").replace("    n1 = hidden_layer_size", "    from ex4helpers import sigmoid\n    n1 = hidden_layer_size")
    assert cli(solution(tmp_path, "lazy.py", lazy), "--course", "ng-ml").returncode == 0 and helper.exists()
    crash = NG_ML.replace("DIVIDE", "m").replace("    m = X.shape[0]", "    m = X.shape[0]\n    X[m + 1]")
    result = cli(solution(tmp_path, "crash.py", crash), "--course", "ng-ml")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "IndexError" in result.stderr and "of crash.py" in result.stderr
    exits = solution(tmp_path, "exits.py", "import sys\nsys.exit(0)\n")
    result = cli(exits, "--course", "ng-ml")
    assert result.returncode == 2 and "sys.exit(0)" in result.stderr


def test_what_cannot_be_checked_is_a_one_line_error(tmp_path):
    nothing = solution(tmp_path, "empty.py", "x = 1\n")
    broken = solution(tmp_path, "broken.py", "import numpy as np\n\ndef f(:\n")
    raising = solution(tmp_path, "raising.py", "x = 1\nraise RuntimeError('my bug')\n")
    for args, message in (
        ((nothing, "--course", "ng-ml"), "defines none of nnCostFunction, nn_cost_function"),
        ((broken, "--course", "ng-ml"), "SyntaxError"),
        ((raising, "--course", "nielsen"), "(line 2 of raising.py): RuntimeError: my bug"),
        ((nothing, "--course", "coursera"), "--course must be one of"),
        ((tmp_path / "missing.py", "--course", "ng-dl"), "no such file"),
        (("--course", "nielsen", "--grad", tmp_path / "x.mat"), "--grad takes the J and grad"),
    ):
        result = cli(*args)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert result.stderr.startswith("error:") and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert message in result.stderr, (message, result.stderr)
    assert np  # (numpy is what the learner's files import)


def test_ng_ml_on_the_courses_own_weights_and_data_from_mat_files(tmp_path):
    """ex4's --mat ex4weights.mat --mat ex4data1.mat (here smaller, same variables)."""
    from scipy.io import savemat

    rng = np.random.default_rng(0)
    savemat(tmp_path / "weights.mat", {"Theta1": rng.normal(size=(6, 11)) * 0.3, "Theta2": rng.normal(size=(4, 7)) * 0.3})
    savemat(tmp_path / "data.mat", {"X": rng.normal(size=(40, 10)), "y": (np.arange(40) % 4 + 1).reshape(-1, 1)})
    mats = ["--mat", tmp_path / "weights.mat", "--mat", tmp_path / "data.mat"]
    right = solution(tmp_path, "right.py", NG_ML.replace("DIVIDE", "m"))
    summed = solution(tmp_path, "summed.py", NG_ML.replace("DIVIDE", "1"))
    assert cli(right, "--course", "ng-ml", "--lambda", "1", *mats).returncode == 0
    found = cli(summed, "--course", "ng-ml", *mats)
    assert found.returncode == 1 and "divide by m = 40" in found.stdout
    only_weights = cli(right, "--course", "ng-ml", "--mat", tmp_path / "weights.mat")
    assert only_weights.returncode == 2 and "hold no X and y" in only_weights.stderr
