"""deltaprop.courses.cs231n: the two-layer net's layout both ways, its loss, and check_loss.

The learner's ``TwoLayerNet`` below is written as the assignments write it (params dict, W1 of
shape (D, H), scores = max(0, X W1 + b1) W2 + b2, the softmax loss averaged over N), with one
switch per classic mistake.
"""

import numpy as np
import pytest

from conftest import by_array
from deltaprop.courses import cs231n
from deltaprop.courses.cs231n import CS231nError


# ------------------------------------------------------------------ the learner's two-layer net
class TwoLayerNet:
    """Assignment 1: ``TwoLayerNet(input_size, hidden_size, output_size, std)``, loss(X, y, reg)
    with loss += reg·ΣW² (or 0.5·reg·ΣW², ``half = True``, the older version)."""

    mistakes = ()
    half = False

    def __init__(self, input_size, hidden_size, output_size, std=1e-4):
        rng = np.random.default_rng(0)
        self.params = {
            "W1": std * rng.standard_normal((input_size, hidden_size)),
            "b1": np.zeros(hidden_size),
            "W2": std * rng.standard_normal((hidden_size, output_size)),
            "b2": np.zeros(output_size),
        }

    def loss(self, X, y=None, reg=0.0):
        return self._loss(X, y, reg)

    def _loss(self, X, y, reg):
        mistakes = self.mistakes
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        N, D = X.shape
        hidden = np.maximum(0, X.dot(W1) + b1)
        scores = hidden.dot(W2) + b2
        if y is None:
            return scores

        shifted = scores - np.max(scores, axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= np.sum(probs, axis=1, keepdims=True)
        data_loss = -np.sum(np.log(probs[np.arange(N), y]))
        if "loss_not_averaged" not in mistakes:
            data_loss /= N
        scale = 0.5 if self.half else 1.0
        loss = data_loss + scale * reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        # the gradient of the reg term: 2·reg·W for reg·ΣW², reg·W for 0.5·reg·ΣW²
        reg_grad = 2 * scale * reg
        if "reg_times_W" in mistakes:
            reg_grad = reg
        if "two_reg_times_W" in mistakes:
            reg_grad = 2 * reg
        if "reg_over_N" in mistakes:
            reg_grad /= N
        if "missing_reg" in mistakes:
            reg_grad = 0.0

        dscores = probs.copy()
        dscores[np.arange(N), y] -= 1
        if "sign" in mistakes:
            dscores = -dscores
        if "sum_not_mean" not in mistakes:
            dscores /= N
        grads = {}
        grads["W2"] = hidden.T.dot(dscores) + reg_grad * W2
        grads["b2"] = np.sum(dscores, axis=0)
        dhidden = dscores.dot(W2.T)
        if "mask_hidden_below_zero" in mistakes:  # hidden is never < 0: no mask at all
            dhidden[hidden < 0] = 0
        elif "missing_relu_mask" not in mistakes:
            dhidden[hidden <= 0] = 0
        grads["W1"] = X.T.dot(dhidden) + reg_grad * W1
        if "dW1_transposed" in mistakes:
            grads["W1"] = dhidden.T.dot(X) + reg_grad * W1.T
        grads["b1"] = np.sum(dhidden, axis=0, keepdims="db1_keepdims" in mistakes)
        if "regularized_bias" in mistakes:
            grads["b1"] = grads["b1"] + reg_grad * b1
            grads["b2"] = grads["b2"] + reg_grad * b2
        return loss, grads


class FcTwoLayerNet(TwoLayerNet):
    """Assignment 2 (fc_net.py): ``TwoLayerNet(input_dim, hidden_dim, num_classes, weight_scale,
    reg)``, loss(X, y) with self.reg and loss += 0.5·reg·ΣW²."""

    half = True

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10, weight_scale=1e-3, reg=0.0):
        super().__init__(input_dim, hidden_dim, num_classes, std=weight_scale)
        self.reg = reg

    def loss(self, X, y=None):
        return self._loss(X, y, self.reg)


def learner(*mistakes, base=TwoLayerNet, half=None):
    return type("TwoLayerNet", (base,), {"mistakes": mistakes, "half": base.half if half is None else half})


# ------------------------------------------------------------------ set-ups
def toy(D=4, H=10, C=3, N=5, seed=0):
    rng = np.random.default_rng(seed)
    params = {"W1": 0.1 * rng.standard_normal((D, H)), "b1": 0.1 * rng.standard_normal(H),
              "W2": 0.1 * rng.standard_normal((H, C)), "b2": 0.1 * rng.standard_normal(C)}
    X = 10 * rng.standard_normal((N, D))
    y = np.array([0, 1, 2, 2, 1])[:N] % C
    return params, X, y


WEIGHTS, BIASES, ALL = ("W1", "W2"), ("b1", "b2"), ("W1", "b1", "W2", "b2")


# ------------------------------------------------------------------ conversions and the loss
def test_to_network_and_back_round_trips_params_in_the_course_layout():
    params, X, _ = toy()
    net = cs231n.to_network(params)
    assert net.sizes == [4, 10, 3] and [g.name for g in net.g] == ["relu", "softmax"]
    assert net.weights[0].shape == (10, 4)  # deltaprop's W^1 = W1.T
    back = cs231n.from_network(net)
    assert sorted(back) == ["W1", "W2", "b1", "b2"]
    for key in params:
        assert back[key].shape == params[key].shape
        np.testing.assert_array_equal(back[key], params[key])
    scores = TwoLayerNet.__new__(TwoLayerNet)
    scores.params = params
    np.testing.assert_allclose(cs231n.loss(params, X), scores.loss(X), rtol=1e-12)


@pytest.mark.parametrize("reg", [0.0, 0.05])
@pytest.mark.parametrize("base, convention", [(TwoLayerNet, "sum"), (FcTwoLayerNet, "half")])
def test_loss_equals_the_course_numpy_loss(base, convention, reg):
    params, X, y = toy()
    reference = base(4, 10, 3)
    reference.params = {k: v.copy() for k, v in params.items()}
    reference.reg = reg
    want_loss, want = reference.loss(X, y, reg=reg) if base is TwoLayerNet else reference.loss(X, y)
    got_loss, got = cs231n.loss(params, X, y, reg=reg, reg_convention=convention)
    assert got_loss == pytest.approx(want_loss, rel=1e-12)
    assert sorted(got) == sorted(want)
    for key in want:
        assert got[key].shape == want[key].shape
        np.testing.assert_allclose(got[key], want[key], rtol=1e-10, atol=1e-14)


def test_loss_with_a_deeper_net_takes_w3_b3():
    params, X, y = toy()
    rng = np.random.default_rng(4)
    params["W2"], params["b2"] = 0.1 * rng.standard_normal((10, 6)), 0.1 * rng.standard_normal(6)
    params["W3"], params["b3"] = 0.1 * rng.standard_normal((6, 3)), 0.1 * rng.standard_normal(3)
    _, grads = cs231n.loss(params, X, y, reg=0.1, reg_convention="sum")
    assert grads["W3"].shape == (6, 3) and grads["b2"].shape == (6,)
    eps = 1e-6
    params["W1"][2, 3] += eps
    plus = cs231n.loss(params, X, y, reg=0.1, reg_convention="sum")[0]
    params["W1"][2, 3] -= 2 * eps
    minus = cs231n.loss(params, X, y, reg=0.1, reg_convention="sum")[0]
    assert grads["W1"][2, 3] == pytest.approx((plus - minus) / (2 * eps), rel=1e-5)


@pytest.mark.parametrize("change, message", [
    (lambda p: p.pop("b2"), "has W2 but no b2"),
    (lambda p: p.update(W2=np.zeros((9, 3))), r"params\['W2'\] has shape \(9, 3\); its rows must be the 10 columns of W1"),
    (lambda p: p.update(b1=np.zeros((10, 1))), r"params\['b1'\] must have shape \(10,\)"),
    (lambda p: p.update(W1=np.zeros(4)), r"params\['W1'\] must be 2-D"),
    (lambda p: [p.pop("W2"), p.pop("b2")], "at least W1, b1, W2, b2"),
])
def test_to_network_refuses_malformed_params_in_one_line(change, message):
    params, _, _ = toy()
    change(params)
    with pytest.raises(CS231nError, match=message) as info:
        cs231n.to_network(params)
    assert "\n" not in str(info.value)


def test_loss_refuses_bad_labels_reg_and_convention():
    params, X, y = toy()
    with pytest.raises(CS231nError, match=r"y must hold 5 class indices in 0..2"):
        cs231n.loss(params, X, np.array([0, 1, 3, 2, 1]))
    with pytest.raises(CS231nError, match=r"X must have shape \(N, 4\)"):
        cs231n.loss(params, X.T, y)
    with pytest.raises(CS231nError, match="reg_convention must be 'sum'.*or 'half'.*got 'l2'"):
        cs231n.loss(params, X, y, reg=0.1, reg_convention="l2")
    with pytest.raises(CS231nError, match="reg must be a non-negative number, got -1"):
        cs231n.loss(params, X, y, reg=-1)


# ------------------------------------------------------------------ check_loss
@pytest.mark.parametrize("model", [
    TwoLayerNet, FcTwoLayerNet, learner(half=True), TwoLayerNet(4, 7, 2), FcTwoLayerNet(6, 5, 4)
], ids=["assignment 1", "assignment 2", "assignment 1, 0.5 reg", "instance", "assignment 2 instance"])
def test_check_loss_finds_the_course_loss_correct(model):
    diagnosis = cs231n.check_loss(model)
    assert diagnosis.ok, str(diagnosis)
    assert diagnosis.course == "cs231n"
    assert {f.array for f in diagnosis.findings} == {"loss", *ALL}


def test_check_loss_reads_the_reg_convention_from_the_loss_value():
    for model, convention in ((TwoLayerNet, "sum"), (FcTwoLayerNet, "half"), (learner(half=True), "half")):
        loss_finding = cs231n.check_loss(model).findings[0]
        assert loss_finding.array == "loss" and loss_finding.evidence["reg_convention"] == convention


def test_check_loss_puts_an_instances_params_and_reg_back():
    model = FcTwoLayerNet(4, 10, 3, reg=0.7)
    before = {k: v.copy() for k, v in model.params.items()}
    cs231n.check_loss(model, reg=0.1)
    assert model.reg == 0.7
    for key, value in before.items():
        np.testing.assert_array_equal(model.params[key], value)


@pytest.mark.parametrize("model, reg, expected", [
    # dscores not divided by N (the loss itself averaged)
    (learner("sum_not_mean"), 0.1, {a: ["sum_not_mean"] for a in ALL}),
    # loss += reg·ΣW² but dW += reg·W (assignment 2's gradient with assignment 1's loss)
    (learner("reg_times_W"), 0.1, {a: ["l2_scale"] for a in WEIGHTS}),
    # loss += 0.5·reg·ΣW² but dW += 2·reg·W (assignment 1's gradient in assignment 2)
    (learner("two_reg_times_W", base=FcTwoLayerNet), 0.1, {a: ["l2_scale"] for a in WEIGHTS}),
    # dW += 2·reg·W / N
    (learner("reg_over_N"), 0.1, {a: ["l2_scale"] for a in WEIGHTS}),
    # the reg term in the loss, none in the gradient
    (learner("missing_reg"), 0.1, {a: ["missing_l2"] for a in WEIGHTS}),
    # db += 2·reg·b
    (learner("regularized_bias"), 0.1, {a: ["regularized_bias"] for a in BIASES}),
    # dhidden without the ReLU mask, or masked where hidden < 0 (never)
    (learner("missing_relu_mask"), 0.1, {a: ["missing_activation_derivative"] for a in ("W1", "b1")}),
    (learner("mask_hidden_below_zero"), 0.1, {a: ["missing_activation_derivative"] for a in ("W1", "b1")}),
    # dW1 = dhidden.T.dot(X): shape (H, D)
    (learner("dW1_transposed"), 0.1, {"W1": ["transposed"]}),
    # db1 = np.sum(dhidden, axis=0, keepdims=True): shape (1, H)
    (learner("db1_keepdims"), 0.1, {"b1": ["shape"]}),
    # dscores = one_hot(y) − probs: the gradient of −loss
    (learner("sign"), 0.0, {a: ["sign"] for a in ALL}),
    # two at once: dscores not divided by N, and the biases regularised
    (learner("sum_not_mean", "regularized_bias"), 0.1,
     {"W1": ["sum_not_mean"], "W2": ["sum_not_mean"],
      "b1": ["regularized_bias", "sum_not_mean"], "b2": ["regularized_bias", "sum_not_mean"]}),
    # the loss summed over N, the gradients right
    (learner("loss_not_averaged"), 0.1, {"loss": ["sum_not_mean"]}),
], ids=["sum_not_mean", "l2_scale reg·W", "l2_scale 2·reg·W", "l2_scale reg/N", "missing_l2", "regularized_bias",
        "missing relu mask", "mask hidden < 0", "transposed", "shape db1", "sign", "two mistakes",
        "loss not averaged"])
def test_check_loss_names_the_mistake(model, reg, expected):
    diagnosis = cs231n.check_loss(model, reg=reg)
    assert not diagnosis.ok
    assert by_array(diagnosis) == expected, str(diagnosis)
    for f in diagnosis.findings:
        assert f.message and "\n" not in f.message


def test_check_loss_speaks_the_course_language():
    diagnosis = cs231n.check_loss(learner("sum_not_mean"))
    f = next(f for f in diagnosis.findings if f.array == "W1")
    assert "dW1" in f.message and "dscores /= N" in f.message
    transposed = next(f for f in cs231n.check_loss(learner("dW1_transposed")).findings if f.array == "W1")
    assert "(10, 4)" in transposed.message and "X.T.dot(dhidden)" in transposed.message
    mask = next(f for f in cs231n.check_loss(learner("missing_relu_mask")).findings if f.array == "W1")
    assert "dhidden[hidden <= 0] = 0" in mask.message


def test_check_loss_with_a_given_convention_judges_the_other_one_wrong():
    diagnosis = cs231n.check_loss(FcTwoLayerNet, reg_convention="sum")  # 0.5·reg·ΣW² judged as reg·ΣW²
    found = by_array(diagnosis)
    assert found["loss"] == ["unknown"] and found["W1"] == ["l2_scale"] and found["W2"] == ["l2_scale"]


def test_check_loss_reports_a_crash_in_loss_in_one_line():
    def loss(self, X, y=None, reg=0.0):
        return np.dot(X, self.params["W2"])

    with pytest.raises(CS231nError, match=r"loss\(X, y\) raised ValueError: .*X \(5, 4\)") as info:
        cs231n.check_loss(type("TwoLayerNet", (TwoLayerNet,), {"loss": loss}))
    assert "\n" not in str(info.value)


def test_check_loss_refuses_what_it_cannot_run():
    with pytest.raises(CS231nError, match="params dict"):
        cs231n.check_loss(object())
    with pytest.raises(CS231nError, match="must return \\(loss, grads\\)"):
        cs231n.check_loss(type("TwoLayerNet", (TwoLayerNet,), {"loss": lambda self, X, y=None, reg=0.0: 1.0}))
    no_b2 = type("TwoLayerNet", (TwoLayerNet,), {
        "loss": lambda self, X, y=None, reg=0.0: (1.0, {k: v for k, v in TwoLayerNet.loss(self, X, y, reg)[1].items() if k != "b2"})})
    with pytest.raises(CS231nError, match="grads has no 'b2'"):
        cs231n.check_loss(no_b2)
    with pytest.raises(CS231nError, match="reg_convention must be"):
        cs231n.check_loss(TwoLayerNet, reg_convention="full")
