"""The fit loop: learning, history, early stopping, checkpoints, resume, divergence."""

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.optimizers import SGD, Adam, Momentum
from deltaprop.training import Callback, TrainingDiverged, fit


@pytest.fixture
def blobs():
    rng = np.random.default_rng(0)
    centers = np.array([[0, 0], [3, 3], [0, 3]])
    y = rng.integers(0, 3, 300)
    X = centers[y] + rng.normal(scale=0.6, size=(300, 2))
    return X, np.array(["a", "b", "c"])[y]


def new_net(**kw):
    return dp.Network([2, 8, 3], activation="tanh", output="softmax", cost="cross_entropy", seed=1, **kw)


def test_fit_learns_and_records_history(blobs):
    X, y = blobs
    net = new_net()
    before = net.evaluate(X, y)  # classes unknown yet -> classes from y
    history = net.fit(X, y, epochs=15, batch_size=16, learning_rate=0.3, validation=0.2, seed=0)
    assert list(net.classes_) == ["a", "b", "c"]
    assert len(history) == 15 and history.stop_reason == "completed"
    assert set(history[0]) >= {"epoch", "cost", "accuracy", "val_cost", "val_accuracy", "time"}
    assert history["cost"][-1] < history["cost"][0] / 3
    after = net.evaluate(X, y)
    assert after["accuracy"] > 0.95 and after["cost"] < before["cost"]
    assert set(net.predict(X[:5])) <= {"a", "b", "c"}
    np.testing.assert_allclose(net.predict_proba(X[:5]).sum(axis=1), 1.0)


def test_sgd_epoch_equals_manual_minibatch_descent(blobs):
    """fit with shuffle=False is exactly W ← W − α ∂C/∂W over consecutive mini-batches."""
    X, y = blobs
    X = X[:40]
    net, manual = new_net(), new_net()
    net.fit(X, y[:40], epochs=2, batch_size=16, learning_rate=0.5, shuffle=False, engine="reference")
    Y = dp.one_hot(np.searchsorted(["a", "b", "c"], y[:40]), 3)
    for _ in range(2):
        for start in range(0, 40, 16):
            g = manual.backward(X[start : start + 16], Y[start : start + 16])
            for W, gW, b, gb in zip(manual.weights, g.weights, manual.biases, g.biases):
                W -= 0.5 * gW
                b -= 0.5 * gb
    for W, M in zip(net.weights, manual.weights):
        np.testing.assert_allclose(W, M, rtol=1e-13)


def test_l2_in_fit_is_lambda_over_n(blobs):
    """With λ, each step adds (λ/n) W for a training set of n examples (Nielsen's decay)."""
    X, y = blobs
    X = X[:32]
    Y = dp.one_hot(np.searchsorted(["a", "b", "c"], y[:32]), 3)
    net, manual = new_net(), new_net()
    net.fit(X, Y, epochs=1, batch_size=8, learning_rate=0.1, l2=2.0, shuffle=False, engine="reference")
    for start in range(0, 32, 8):
        g = manual.backward(X[start : start + 8], Y[start : start + 8])
        for W, gW, b, gb in zip(manual.weights, g.weights, manual.biases, g.biases):
            W -= 0.1 * (gW + (2.0 / 32) * W)
            b -= 0.1 * gb
    for W, M in zip(net.weights, manual.weights):
        np.testing.assert_allclose(W, M, rtol=1e-13)


def test_momentum_and_adam_follow_their_formulas():
    theta, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    p = theta.copy()
    opt = Momentum(0.1, momentum=0.9)
    opt.step([p], [g])
    opt.step([p], [g])
    v1 = -0.1 * g
    v2 = 0.9 * v1 - 0.1 * g
    np.testing.assert_allclose(p, theta + v1 + v2)
    p = theta.copy()
    opt = Adam(0.01)
    m = v = 0
    expected = theta.copy()
    for t in (1, 2, 3):
        opt.step([p], [g])
        m = 0.9 * m + 0.1 * g
        v = 0.999 * v + 0.001 * g * g
        expected = expected - 0.01 * (m / (1 - 0.9**t)) / (np.sqrt(v / (1 - 0.999**t)) + 1e-8)
    np.testing.assert_allclose(p, expected, rtol=1e-12)
    state = opt.state_dict()
    fresh = Adam(0.01)
    fresh.load_state_dict(state)
    a, b = p.copy(), p.copy()
    opt.step([a], [g])
    fresh.step([b], [g])
    np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("kwargs,message", [
    (dict(learning_rate=-1), "learning_rate must be a positive number"),
    (dict(epochs=0), "epochs must be an integer"),
    (dict(batch_size=2.5), "batch_size must be an integer"),
    (dict(optimizer="rmsprop"), "unknown optimizer 'rmsprop'"),
    (dict(early_stopping=True), "early_stopping needs validation data"),
    (dict(validation=1.5), r"validation fraction must be in \(0, 1\)"),
])
def test_fit_rejects_bad_arguments(blobs, kwargs, message):
    X, y = blobs
    with pytest.raises(ValueError, match=message):
        new_net().fit(X, y, **kwargs)


def test_fit_rejects_more_classes_than_outputs(blobs):
    X, _ = blobs
    with pytest.raises(ValueError, match="y has 4 classes but the output layer has 3"):
        new_net().fit(X, np.arange(300) % 4)


def test_early_stopping_restores_the_best_weights(blobs):
    X, y = blobs
    rng = np.random.default_rng(3)
    y_noisy = y.copy()
    y_noisy[:150] = rng.choice(["a", "b", "c"], 150)  # noisy labels make validation cost rise
    net = dp.Network([2, 64, 3], activation="relu", output="softmax", cost="cross_entropy", seed=0)
    seen = {}

    class Spy(Callback):
        def on_epoch_end(self, trainer, record):
            seen[trainer.epoch] = [W.copy() for W in trainer.net.weights]

    h = net.fit(X, y_noisy, epochs=200, batch_size=8, learning_rate=0.2, optimizer="momentum",
                validation=(X[200:], y[200:]), early_stopping=True, patience=3, seed=0, callbacks=[Spy()])
    assert h.stop_reason == "early_stopping"
    assert len(h) == h.best_epoch + 3
    assert h["val_cost"][h.best_epoch - 1] == min(h["val_cost"])
    for W, B in zip(net.weights, seen[h.best_epoch]):
        np.testing.assert_array_equal(W, B)


class InterruptAt(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_batch_end(self, trainer, batch, n_batches, cost):
        if trainer.epoch == self.epoch and batch == 2:
            raise KeyboardInterrupt


@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_interrupt_then_resume_is_bit_identical(blobs, tmp_path, optimizer):
    X, y = blobs
    kw = dict(epochs=6, batch_size=16, learning_rate=0.05, optimizer=optimizer, seed=7, validation=0.2)
    straight = new_net()
    straight.fit(X, y, **kw)
    ckpt = tmp_path / "ckpt.npz"
    first = new_net()
    h = first.fit(X, y, checkpoint=ckpt, checkpoint_every=None, callbacks=[InterruptAt(3)], **kw)
    assert h.stop_reason == "interrupted" and len(h) == 3
    resumed = new_net()
    h2 = resumed.fit(X, y, checkpoint=ckpt, resume=ckpt, **kw)
    assert len(h2) == 6 and h2["cost"][:3] == h["cost"]
    for a, b in zip(list(straight.weights) + list(straight.biases), list(resumed.weights) + list(resumed.biases)):
        np.testing.assert_array_equal(a, b)


def test_divergence_stops_and_keeps_the_last_good_checkpoint(blobs, tmp_path):
    X, y = blobs
    net = dp.Network([2, 8, 3], activation="relu", output="identity", cost="quadratic", seed=0)
    Y = dp.one_hot(np.searchsorted(["a", "b", "c"], y), 3)
    ckpt = tmp_path / "ckpt.npz"
    net.fit(X, Y, epochs=2, learning_rate=0.01, checkpoint=ckpt, seed=0)
    good = ckpt.read_bytes()
    from deltaprop.modelfile import load_checkpoint

    saved = load_checkpoint(ckpt)
    with pytest.raises(TrainingDiverged, match="smaller learning rate") as info:
        net.fit(X, Y, epochs=5, learning_rate=1e6, checkpoint=ckpt, resume=ckpt, seed=0)
    assert info.value.history.stop_reason == "diverged"
    assert ckpt.read_bytes() == good
    for W, S in zip(net.weights, saved.net.weights):
        np.testing.assert_array_equal(W, S)  # the weights of the last good epoch (2)


def test_resume_rejects_another_architecture(blobs, tmp_path):
    X, y = blobs
    ckpt = tmp_path / "c.npz"
    new_net().fit(X, y, epochs=1, checkpoint=ckpt)
    other = dp.Network([2, 5, 3], output="softmax", cost="cross_entropy")
    with pytest.raises(ValueError, match="is for a network"):
        other.fit(X, y, epochs=2, resume=ckpt)


def test_regression_targets(blobs):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    y = X[:, 0] - 2 * X[:, 1]
    net = dp.Network([2, 8, 1], activation="tanh", output="identity", seed=0)
    net.fit(X, y, epochs=40, batch_size=16, learning_rate=0.05, seed=0)
    assert net.classes_ is None
    assert net.evaluate(X, y)["accuracy"] is None
    assert net.evaluate(X, y)["cost"] < 0.05
    assert net.predict(X[:3]).shape == (3, 1)


def test_fit_with_sample_weight_equals_repeating_examples(blobs):
    """Integer weights in one full batch give the same steps as repeating the examples."""
    X, y = blobs
    X, y = X[:20], y[:20]
    w = np.arange(20) % 3
    repeated = np.repeat(np.arange(20), w)
    a, b = new_net(), new_net()
    a.fit(X, y, epochs=3, batch_size=20, learning_rate=0.3, sample_weight=w, shuffle=False)
    b.fit(X[repeated], y[repeated], epochs=3, batch_size=len(repeated), learning_rate=0.3, shuffle=False)
    for p, q in zip(a.weights, b.weights):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-15)


def test_resume_after_the_best_epoch_keeps_the_early_stopping_state(tmp_path):
    """Interrupted after the best epoch but before early stopping fires, the resumed run must
    stop at the same epoch and restore the same best weights as the uninterrupted one."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X = X[:600] / 16
    y = y[:600]

    def net():
        return dp.Network([64, 32, 10], activation="relu", output="softmax", cost="cross_entropy", seed=0)

    kw = dict(epochs=40, batch_size=16, learning_rate=0.01, optimizer="adam", validation=0.3, seed=1,
              early_stopping=True, patience=2)
    straight = net()
    h = straight.fit(X, y, **kw)
    assert h.stop_reason == "early_stopping"
    best, stopped = h.best_epoch, len(h)
    assert stopped == best + 2
    ckpt = tmp_path / "c.npz"
    first = net()
    first.fit(X, y, checkpoint=ckpt, checkpoint_every=None, callbacks=[InterruptAt(best + 1)], **kw)
    resumed = net()
    h2 = resumed.fit(X, y, checkpoint=ckpt, resume=ckpt, **kw)
    assert (h2.stop_reason, h2.best_epoch, len(h2)) == ("early_stopping", best, stopped)
    for a, b in zip(list(straight.weights) + list(straight.biases), list(resumed.weights) + list(resumed.biases)):
        np.testing.assert_array_equal(a, b)


def test_checkpoint_history_includes_what_callbacks_add(blobs, tmp_path):
    class Tag(Callback):
        def on_epoch_end(self, trainer, record):
            record["tag"] = trainer.epoch

    X, y = blobs
    ckpt = tmp_path / "c.npz"
    new_net().fit(X, y, epochs=3, checkpoint=ckpt, checkpoint_every=None, callbacks=[Tag(), InterruptAt(2)])
    from deltaprop.modelfile import load_checkpoint

    saved = load_checkpoint(ckpt)
    assert [r["tag"] for r in saved.net.history] == [1, 2]
    assert saved.meta["epoch"] == 2


def test_parameters_that_overflow_count_as_divergence():
    """One full batch per epoch: the cost is measured before the step, so only the check of the
    parameters after the step can notice that they overflowed."""
    X = np.array([[1e3, -1e3], [2e3, 5e2]])
    Y = np.array([[1.0], [0.0]])
    net = dp.Network([2, 1], activation="identity", cost="quadratic", seed=0)
    with pytest.raises(TrainingDiverged, match="parameters overflowed") as info:
        net.fit(X, Y, epochs=50, batch_size=2, learning_rate=1e307, optimizer="sgd", shuffle=False)
    assert np.isfinite(net.cost(X, Y))
    assert info.value.history.stop_reason == "diverged"


def test_failed_fit_leaves_classes_unset(blobs):
    X, y = blobs
    net = new_net()
    with pytest.raises(ValueError, match="X has 300 examples but y has 299"):
        net.fit(X, y[:299])
    assert net.classes_ is None
    with pytest.raises(ValueError, match="y must have 3 columns to match the output layer, got 1"):
        net.fit(X, np.zeros((300, 1)))
