"""GradientNorms: per-layer ‖∂C/∂W^l‖, ‖∂C/∂b^l‖ at every epoch end, in the history."""

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.monitor import GradientNorms
from deltaprop.training import Callback


@pytest.fixture
def data():
    rng = np.random.default_rng(7)
    X = rng.normal(size=(700, 5))
    y = (X[:, 0] + X[:, 1] * X[:, 2] > 0).astype(int)
    return X, y


def new_net(activation="sigmoid"):
    return dp.Network([5, 6, 4, 2], activation=activation, output="softmax", cost="cross_entropy", seed=3)


class Snapshot(Callback):
    """Copies the parameters at every epoch end (after GradientNorms ran)."""

    def __init__(self):
        self.params = []

    def on_epoch_end(self, trainer, record):
        self.params.append(([W.copy() for W in trainer.net.weights], [b.copy() for b in trainer.net.biases]))
        return False


def test_norms_are_the_norms_of_backward_on_the_subset_each_epoch(data):
    X, y = data
    net = new_net()
    monitor = GradientNorms(X, y, max_rows=200, seed=5)
    snap = Snapshot()
    history = net.fit(X, y, epochs=4, batch_size=32, learning_rate=0.5, l2=1.0, seed=0,
                      callbacks=[monitor, snap])
    assert len(monitor.rows) == 200 and len(set(monitor.rows.tolist())) == 200
    Y = dp.one_hot(y[monitor.rows], 2)
    for record, (Ws, bs) in zip(history.records, snap.params):
        probe = new_net()
        probe.weights, probe.biases = Ws, bs
        grads = probe.backward(X[monitor.rows], Y)  # the data cost, no L2 term
        assert record["grad_norms"]["W"] == pytest.approx([np.linalg.norm(g) for g in grads.weights], rel=1e-12)
        assert record["grad_norms"]["b"] == pytest.approx([np.linalg.norm(g) for g in grads.biases], rel=1e-12)
    # the norms change as the network learns
    assert history.records[0]["grad_norms"]["W"] != history.records[-1]["grad_norms"]["W"]


def test_norms_use_the_networks_preprocessing(data):
    from deltaprop.preprocessing import Preprocessing

    X, y = data
    X = X * 50 + 10
    net = new_net()
    net.preprocessing = Preprocessing("standardize").fit(X)
    monitor = GradientNorms(X, y, max_rows=1000)
    history = net.fit(X, y, epochs=1, batch_size=64, seed=0, callbacks=[monitor])
    grads = net.backward(X, dp.one_hot(y, 2))  # raw X: backward applies the preprocessing
    assert history.records[0]["grad_norms"]["W"] == pytest.approx([np.linalg.norm(g) for g in grads.weights], rel=1e-12)


def test_training_is_unchanged_by_the_monitor(data):
    X, y = data
    plain, watched = new_net("tanh"), new_net("tanh")
    plain.fit(X, y, epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01, seed=4)
    watched.fit(X, y, epochs=3, batch_size=16, optimizer="adam", learning_rate=0.01, seed=4,
                callbacks=[GradientNorms(X, y, max_rows=64, seed=1)])
    for a, b in zip(list(plain.weights) + list(plain.biases), list(watched.weights) + list(watched.biases)):
        np.testing.assert_array_equal(a, b)
    assert "grad_norms" not in plain.history[0] and "grad_norms" in watched.history[0]


def test_subset_is_seeded_and_leaves_global_random_state_alone(data):
    X, y = data
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    a = GradientNorms(X, y, max_rows=100, seed=9)
    b = GradientNorms(X, y, max_rows=100, seed=9)
    c = GradientNorms(X, y, max_rows=100, seed=10)
    np.testing.assert_array_equal(np.random.get_state()[1], before)
    np.testing.assert_array_equal(a.rows, b.rows)
    assert not np.array_equal(a.rows, c.rows)
    assert np.all(np.diff(a.rows) > 0)
    small = GradientNorms(X[:50], y[:50], max_rows=512)
    np.testing.assert_array_equal(small.rows, np.arange(50))


def test_sigmoid_stack_shows_smaller_gradients_in_early_layers():
    """The vanishing-gradient picture the report plots: a deep sigmoid network at
    initialisation passes much less gradient to its first layer than to its last."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 8))
    y = (X.sum(axis=1) > 0).astype(int)
    net = dp.Network([8, 16, 16, 16, 16, 2], activation="sigmoid", output="softmax",
                     cost="cross_entropy", seed=0)
    net.classes_ = np.array([0, 1])  # as fit would set them
    norms = GradientNorms(X, y).norms(net)
    assert norms["W"][0] < norms["W"][-1] / 10


@pytest.mark.parametrize("args,message", [
    (dict(max_rows=0), "max_rows must be a positive integer"),
    (dict(max_rows=2.5), "max_rows must be a positive integer"),
])
def test_bad_arguments(data, args, message):
    X, y = data
    with pytest.raises(ValueError, match=message):
        GradientNorms(X, y, **args)


def test_mismatched_or_empty_data(data):
    X, y = data
    with pytest.raises(ValueError, match="X has 700 rows but y has 10"):
        GradientNorms(X, y[:10])
    with pytest.raises(ValueError, match="X is empty"):
        GradientNorms(X[:0], y[:0])
    with pytest.raises(ValueError, match="2-D"):
        GradientNorms(X[0], y[:5])
