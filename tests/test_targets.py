"""deltaprop.targets: labels compared as the values they are, and the one task rule."""

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import defaults, targets
from deltaprop.targets import TargetError

BIG = [2**53, 2**53 + 1, 2**63 - 1, -(2**63)]


def test_integer_labels_stay_exact_up_to_int64():
    parsed = targets.parse_labels([str(v) for v in BIG] * 2)
    assert parsed.dtype == np.int64 and parsed.tolist() == BIG * 2
    classes, index = targets.encode(parsed)
    assert classes.tolist() == sorted(BIG)  # 2^53 and 2^53 + 1 are two classes
    assert targets.decode(classes, index).tolist() == BIG * 2
    with pytest.raises(TargetError, match="outside the 64-bit integer range"):
        targets.parse_labels(["1", str(2**63)])


def test_labels_match_given_classes_exactly():
    classes = np.array([2**53, 2**53 + 1], dtype=np.int64)
    assert targets.encode(np.array([2**53 + 1, 2**53]), classes)[1].tolist() == [1, 0]
    # through float64 2^53 + 1 would become 2^53: the encoding must not go that way
    with pytest.raises(TargetError, match="not one of the classes"):
        targets.encode(np.array([2**53 + 2]), classes)
    # whole floats meet integer classes exactly; fractions never do
    assert targets.encode(np.array([1.0, 0.0]), np.array([0, 1]))[1].tolist() == [1, 0]
    with pytest.raises(TargetError, match="label 0.5"):
        targets.encode(np.array([0.5]), np.array([0, 1]))
    with pytest.raises(TargetError, match="'a'"):
        targets.encode(np.array(["a"]), np.array([0, 1]))


def test_two_spellings_of_one_number_are_refused_not_merged():
    with pytest.raises(TargetError, match=r"'1' and '1.0' are the same number"):
        targets.parse_labels(["1", "0", "1.0"])
    assert targets.parse_labels(["1.5", "0.25"]).dtype == np.float64
    assert targets.parse_labels(["True", "false"]).tolist() == [True, False]
    assert targets.parse_labels(["cat", "1"]).tolist() == ["cat", "1"]


@pytest.mark.parametrize("y, task", [
    (np.arange(25), "classification"),  # any number of integer classes
    (np.array(["a", "b"]), "classification"),
    (np.array([True, False]), "classification"),
    (np.array([1.0, 2.0, 3.0]), "classification"),
    (np.array([0.5, 1.25]), "regression"),
    (np.array([[0, 1], [1, 1]]), "multilabel"),
    (np.array([[0.5, 1.0], [2.0, 3.0]]), "regression"),
])
def test_infer_task(y, task):
    assert targets.infer_task(y) == task


@pytest.mark.parametrize("task, k, output, cost, expected, n_out", [
    ("classification", 2, None, None, ("sigmoid", "binary_cross_entropy"), 1),
    ("classification", 2, "softmax", None, ("softmax", "cross_entropy"), 2),
    ("classification", 10, None, None, ("softmax", "cross_entropy"), 10),
    ("classification", 10, None, "quadratic", ("sigmoid", "quadratic"), 10),
    ("classification", 10, None, "binary_cross_entropy", ("sigmoid", "binary_cross_entropy"), 10),
    ("multilabel", None, None, None, ("sigmoid", "binary_cross_entropy"), 3),
    ("regression", None, None, None, ("identity", "quadratic"), 3),
])
def test_head_is_one_rule(task, k, output, cost, expected, n_out):
    got = targets.head(task, k, output, cost)
    assert got == expected
    assert targets.n_outputs(task, k, got[0], n_targets=3) == n_out


def test_cli_and_estimator_build_the_same_head():
    """The task rule lives in one place: the CLI's network and the estimator's agree."""
    from deltaprop.cli.train import build_network
    from deltaprop.datasets import load_dataset

    for name, target in (("moons", "binary"), ("digits", "multiclass")):
        ds = load_dataset(name, seed=0)
        opts = {**defaults.TRAIN, "layers": "4"}
        net = build_network(opts, ds)
        clf = dp.MLPClassifier(hidden_layer_sizes=(4,), epochs=1).fit(ds.X_train, ds.labels(ds.y_train))
        assert net.sizes[-1] == clf.network_.sizes[-1]
        assert net.g[-1].name == clf.network_.g[-1].name and net.cost_name == clf.network_.cost_name


def test_network_without_training_import():
    """network, training and model files form no import cycle: network's module level imports
    neither, and its methods reach training only in the ``fit`` convenience."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(dp.network.__file__).read_text())
    top = {n.module for n in tree.body if isinstance(n, ast.ImportFrom)}
    assert not top & {"training", "modelfile"} and "targets" not in top  # `from . import targets`
    uses = [f.name for f in ast.walk(tree) if isinstance(f, ast.FunctionDef)
            for n in ast.walk(f) if isinstance(n, ast.ImportFrom) and n.module == "training"]
    assert uses == ["fit"]


def test_fit_on_25_integer_classes_trains_a_classifier():
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(25) * 7, 8)  # 25 integer labels 0, 7, ..., 168
    X = rng.normal(size=(200, 3)) + y[:, None] / 50.0
    net = dp.Network([3, 8, 25], activation="tanh", output="softmax", cost="cross_entropy", seed=0)
    net.fit(X, y, epochs=2, batch_size=16, seed=0)
    assert net.classes_.tolist() == list(range(0, 175, 7))
    assert set(net.predict(X).tolist()) <= set(net.classes_.tolist())


def test_a_batch_is_not_a_class_list():
    """Without classes_, backward/cost read integer labels as class indices (one output: the
    value itself), never as "the sorted labels of this batch"."""
    X = np.random.default_rng(0).normal(size=(6, 2))
    one = dp.Network([2, 3, 1], output="sigmoid", cost="binary_cross_entropy", seed=0)
    assert one.cost(X, np.ones(6)) == pytest.approx(one.cost(X, np.ones((6, 1))), abs=1e-15)
    three = dp.Network([2, 3, 3], output="softmax", cost="cross_entropy", seed=0)
    np.testing.assert_array_equal(three.backward(X, [2] * 6).deltas[-1], three.backward(X, dp.one_hot([2] * 6, 3)).deltas[-1])
    with pytest.raises(TargetError, match="not class indices 0..2"):
        three.cost(X, [5] * 6)


@pytest.mark.parametrize("labels, shown", [(np.zeros(8, dtype=int), "0"), (np.array(["cat"] * 8), "'cat'")])
def test_one_class_is_refused_by_name_wherever_it_is_first_seen(labels, shown):
    """scikit-learn's wording: one class is nothing to tell apart. Not a later 'row 0 sums to 0',
    a model whose predictions index past classes_, or a silent one-class fit."""
    message = rf"^only one class \({shown}\) in y: classification needs at least two"
    with pytest.raises(TargetError, match=message):
        targets.infer_task(labels)
    with pytest.raises(TargetError, match="^only one class in y: classification needs at least two"):
        targets.head("classification", 1)
    X = np.random.default_rng(0).normal(size=(8, 2))
    for sizes, output, cost in (([2, 3, 2], "softmax", "cross_entropy"), ([2, 3, 1], "sigmoid", "binary_cross_entropy")):
        net = dp.Network(sizes, output=output, cost=cost, seed=0)
        with pytest.raises(TargetError, match=message):
            targets.prepare(net, labels, fit_classes=True)
        with pytest.raises(TargetError, match=message):
            net.fit(X, labels, epochs=1)
        assert net.classes_ is None  # the failed fit left the network as it was


def test_a_constant_numeric_target_points_to_regression():
    assert targets.infer_task(np.full(5, 2.5)) == "regression"  # not whole: regression, as before
    with pytest.raises(TargetError, match=r"^only one class \(3\.0\) in y: classification needs at "
                       r"least two; for a constant numeric target set the task to regression$"):
        targets.infer_task(np.full(5, 3.0))


@pytest.mark.parametrize("call", [
    lambda net, X: net.fit(X, None, epochs=1),
    lambda net, X: targets.as_labels(None),
    lambda net, X: targets.infer_task(None),
])
def test_labels_that_are_none_are_named(call):
    net = dp.Network([2, 3, 3], output="softmax", cost="cross_entropy", seed=0)
    with pytest.raises(TargetError, match=r"^y is None; expected class labels \(m,\) or target rows \(m, k\)$"):
        call(net, np.zeros((3, 2)))


def test_a_missing_label_among_labels_is_named_by_its_index():
    net = dp.Network([2, 3, 3], output="softmax", cost="cross_entropy", seed=0)
    X = np.zeros((3, 2))
    for y in ([1, None, 2], np.array([1, None, 2], dtype=object), ["a", None, "b"], np.array(["a", np.nan, "b"], dtype=object)):
        with pytest.raises(TargetError, match=r"^y\[1\] is (None|nan): every example needs a label"):
            net.fit(X, y, epochs=1)
    with pytest.raises(TargetError, match=r"numbers, strings or booleans of one kind, got an object array of float, int"):
        targets.as_labels(np.array([1, 2.5], dtype=object))
