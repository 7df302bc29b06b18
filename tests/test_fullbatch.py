"""Full-batch training: optimizer="lbfgs" / "cg" through scipy.optimize.minimize, and batch_size=None."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import deltaprop as dp
from deltaprop.training import Callback, TrainingDiverged, prepare

pytestmark = pytest.mark.fast


def _digits(m, classes=10):
    X, y = load_digits(return_X_y=True)
    keep = y < classes
    return X[keep][:m] / 16.0, y[keep][:m]


def _flat(net, X, y, l2):
    """(J, ∂J/∂θ) at the network's parameters, through the public fit-data path."""
    from deltaprop.fullbatch import FlatCost, unroll

    fun = FlatCost(net, prepare(net, X, y), l2)
    return fun, unroll(net.weights, net.biases)


def test_the_flat_cost_and_gradient_match_central_differences():
    rng = np.random.default_rng(3)
    X, y = rng.normal(size=(20, 4)), rng.integers(0, 3, size=20)
    net = dp.Network([4, 5, 3], activation="tanh", output="softmax", seed=1)
    net.classes_ = np.arange(3)
    fun, theta = _flat(net, X, y, l2=0.7)
    cost, grad = fun(theta)
    assert cost == pytest.approx(net.cost(X, np.eye(3)[y], l2=0.7), rel=1e-12)
    eps = 1e-6
    numeric = np.array([(fun(theta + eps * e)[0] - fun(theta - eps * e)[0]) / (2 * eps) for e in np.eye(theta.size)])
    np.testing.assert_allclose(grad, numeric, rtol=1e-6, atol=1e-9)


def test_unroll_is_ngs_theta_and_roll_undoes_it():
    from deltaprop.fullbatch import roll, unroll

    net = dp.Network([3, 4, 2], seed=0)
    theta = unroll(net.weights, net.biases)
    expected = np.concatenate([net.weights[0].ravel(), net.biases[0], net.weights[1].ravel(), net.biases[1]])
    np.testing.assert_array_equal(theta, expected)
    weights, biases = roll(net, theta)
    for a, b in zip([*weights, *biases], [*net.weights, *net.biases]):
        np.testing.assert_array_equal(a, b)


def test_cg_and_lbfgs_reach_the_same_optimum_of_regularised_logistic_regression():
    # Ng's ex3: one-vs-all logistic regression, no hidden layer, λ > 0: a strictly convex J
    X, y = _digits(120)
    found = {}
    for method in ("lbfgs", "cg"):
        net = dp.Network([64, 10], output="sigmoid", cost="binary_cross_entropy", seed=0)
        history = net.fit(X, y, epochs=2000, optimizer=method, l2=30.0, tol=1e-10)
        fun, theta = _flat(net, X, y, 30.0)
        cost, grad = fun(theta)
        assert np.abs(grad).max() < 1e-7
        assert history[-1]["cost"] == pytest.approx(cost, abs=1e-12)
        found[method] = theta, cost
    np.testing.assert_allclose(found["lbfgs"][0], found["cg"][0], rtol=0, atol=1e-6)
    assert found["lbfgs"][1] == pytest.approx(found["cg"][1], abs=1e-6)


@pytest.mark.parametrize("method", ["lbfgs", "cg"])
def test_with_a_hidden_layer_each_method_converges_to_its_tol(method):
    X, y = _digits(150, classes=3)
    net = dp.Network([64, 8, 3], activation="tanh", output="softmax", seed=2)
    history = net.fit(X, y, epochs=5000, optimizer=method, l2=1.0, tol=1e-5)
    assert history.stop_reason == "converged"
    fun, theta = _flat(net, X, y, 1.0)
    assert np.abs(fun(theta)[1]).max() <= 1e-5
    assert net.history.stop_reason == "converged" and len(history) < 5000


@pytest.mark.parametrize("method", ["lbfgs", "cg"])
def test_epochs_count_iterations_with_one_record_each(method):
    X, y = _digits(200)
    net = dp.Network([64, 16, 10], output="softmax", seed=0)
    seen = []

    class Count(dp.training.Callback):
        def on_epoch_end(self, trainer, record):
            seen.append(trainer.epoch)

    history = net.fit(X[:150], y[:150], epochs=3, optimizer=method, validation=(X[150:], y[150:]), callbacks=[Count()])
    assert [r["epoch"] for r in history] == [1, 2, 3] and seen == [1, 2, 3]
    assert history.stop_reason == "completed"
    for r in history:
        assert {"cost", "accuracy", "val_cost", "val_accuracy", "time"} <= set(r)
    costs = [r["cost"] for r in history]
    assert costs == sorted(costs, reverse=True)  # a line search never raises J
    assert history[-1]["cost"] == pytest.approx(net.cost(X[:150], np.eye(10)[y[:150]]), rel=1e-12)


def test_the_monitors_and_the_progress_bar_run_unchanged(capsys):
    import io

    from deltaprop.monitor import GradientNorms
    from deltaprop.progress import ProgressBar
    from deltaprop.snapshots import ParameterSnapshots

    X, y = _digits(100)
    net = dp.Network([64, 8, 10], output="softmax", seed=0)
    out = io.StringIO()
    history = net.fit(X, y, epochs=2, optimizer="lbfgs",
                      callbacks=[GradientNorms(X, y), ParameterSnapshots(), ProgressBar(file=out)])
    assert len(history) == 2 and "2/2" in out.getvalue()
    assert all(len(r) > 5 for r in history)  # the monitors added their fields


def test_early_stopping_ends_an_lbfgs_run():
    X, y = _digits(300)
    noise = np.random.default_rng(0).permutation(y[200:])  # labels the training data cannot predict
    net = dp.Network([64, 32, 10], output="softmax", seed=0)
    history = net.fit(X[:200], y[:200], epochs=500, optimizer="lbfgs", validation=(X[200:], noise),
                      early_stopping=True, patience=3, tol=1e-12)
    assert history.stop_reason == "early_stopping"
    assert len(history) == history.best_epoch + 3 < 500


def test_ctrl_c_keeps_the_last_whole_iteration():
    X, y = _digits(100)
    net = dp.Network([64, 8, 10], output="softmax", seed=0)
    kept = []

    class Interrupt(dp.training.Callback):
        def on_epoch_end(self, trainer, record):
            if trainer.epoch == 3:
                raise KeyboardInterrupt
            kept.append([np.array(W) for W in trainer.net.weights])

    history = net.fit(X, y, epochs=10, optimizer="cg", callbacks=[Interrupt()])
    assert history.stop_reason == "interrupted" and len(history) == 2
    for W, W2 in zip(net.weights, kept[-1]):
        np.testing.assert_array_equal(W, W2)


def test_checkpoint_and_resume_restart_the_method_from_the_saved_weights(tmp_path):
    X, y = _digits(150)
    path = tmp_path / "ckpt.npz"
    net = dp.Network([64, 8, 10], output="softmax", seed=0)
    net.fit(X, y, epochs=3, optimizer="lbfgs", checkpoint=path)
    saved = [np.array(W) for W in net.weights]
    again = dp.Network([64, 8, 10], output="softmax", seed=5)
    history = again.fit(X, y, epochs=6, optimizer="lbfgs", resume=path)
    assert [r["epoch"] for r in history] == [1, 2, 3, 4, 5, 6]
    assert history[3]["cost"] < history[2]["cost"]  # it went on from iteration 3's weights
    with pytest.raises(ValueError, match="trained with optimizer 'lbfgs', not 'cg'"):
        dp.Network([64, 8, 10], output="softmax").fit(X, y, epochs=6, optimizer="cg", resume=path)
    assert not np.array_equal(saved[0], again.weights[0])


def test_a_cost_that_overflows_raises_training_diverged():
    X, y = _digits(50)
    net = dp.Network([64, 8, 10], activation="identity", output="identity", cost="quadratic", seed=0)
    with pytest.raises(TrainingDiverged, match="lbfgs diverged"):
        net.fit(X * 1e160, np.eye(10)[y], epochs=5, optimizer="lbfgs")


def test_full_batch_gradient_descent_is_one_step_per_epoch_on_all_rows():
    X, y = _digits(90)
    net = dp.Network([64, 8, 10], output="softmax", seed=0)
    expected = net.copy()
    grads = expected.backward(X, np.eye(10)[y], l2=0.5)
    history = net.fit(X, y, epochs=1, batch_size=None, optimizer="sgd", learning_rate=0.3, l2=0.5, engine="reference")
    for W, W0, gW in zip(net.weights, expected.weights, grads.weights):
        np.testing.assert_allclose(W, W0 - 0.3 * gW, rtol=0, atol=1e-14)
    assert history[0]["cost"] == pytest.approx(grads.cost, rel=1e-12)
    assert net.fit(X, y, epochs=2, batch_size=None, optimizer="adam").stop_reason == "completed"


@pytest.mark.parametrize("kwargs,message", [
    (dict(optimizer="lbfgs", momentum=0.9), "an option of optimizer 'momentum', but the optimizer is 'lbfgs'"),
    (dict(optimizer="cg", learning_rate=0.1), "optimizer 'cg' takes no learning_rate"),
    (dict(optimizer="sgd", tol=1e-3), "an option of optimizer 'lbfgs' and 'cg', but the optimizer is 'sgd'"),
    (dict(optimizer="lbfgs", tol=0), "tol must be a positive number"),
])
def test_bad_combinations_get_one_line_errors(kwargs, message):
    X, y = _digits(30)
    with pytest.raises(ValueError) as info:  # (FitArgumentError is a ValueError)
        dp.Network([64, 10]).fit(X, y, epochs=1, **kwargs)
    assert message in str(info.value) and "\n" not in str(info.value)


def test_lbfgs_on_the_fast_evaluation_follows_the_reference_path(monkeypatch):
    # fit(engine=) picks FlatCost's pass ("auto": fastpath.FastCost); both give the same run to rounding
    from deltaprop import fullbatch

    used = []
    real_init = fullbatch.FlatCost.__init__

    def spy(self, *args, **kwargs):  # records which pass each run used; the work is the real one
        real_init(self, *args, **kwargs)
        used.append(self.fast is not None)

    monkeypatch.setattr(fullbatch.FlatCost, "__init__", spy)
    X, y = _digits(200)
    runs = {}
    for engine in ("reference", "auto"):
        net = dp.Network([64, 20, 10], activation="relu", output="softmax", init="glorot", seed=4)
        history = net.fit(X, y, epochs=15, optimizer="lbfgs", l2=0.5, tol=1e-12, engine=engine)
        runs[engine] = net, history
    (ref, h_ref), (fast, h_fast) = runs["reference"], runs["auto"]
    assert used == [False, True]  # the reference pass, then the fused one
    assert len(h_fast) == len(h_ref) == 15
    np.testing.assert_allclose(h_fast["cost"], h_ref["cost"], rtol=1e-9)
    assert h_fast["evaluations"] == h_ref["evaluations"] and h_fast["accuracy"] == h_ref["accuracy"]
    for a, b in zip([*fast.weights, *fast.biases], [*ref.weights, *ref.biases]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8 * float(np.max(np.abs(b))))


def test_fit_engine_reaches_the_full_batch_evaluation():
    """``fit(engine=...)`` picks the full-batch pass as it picks the mini-batch step."""
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    X, y = X[:200] / 16.0, y[:200]
    nets = {}
    for engine in ("reference", "fast"):
        nets[engine] = dp.Network([64, 12, 10], output="softmax", seed=1)
        nets[engine].fit(X, y, optimizer="lbfgs", epochs=6, l2=0.3, engine=engine)
    for a, b in zip([*nets["fast"].weights, *nets["fast"].biases], [*nets["reference"].weights, *nets["reference"].biases]):
        np.testing.assert_allclose(a, b, rtol=0, atol=1e-8)
    with pytest.raises(ValueError, match="engine must be 'auto', 'fast' or 'reference'"):
        dp.Network([64, 12, 10], output="softmax").fit(X, y, optimizer="lbfgs", epochs=2, engine="turbo")


def test_scipys_own_blas_runs_single_threaded_during_the_method_and_numpys_is_left_alone():
    """SciPy's bundled OpenBLAS spins against NumPy's while minimize runs (4× slower per
    evaluation on 2 cores): it is held at one thread for the method, and restored after."""
    from threadpoolctl import ThreadpoolController

    from deltaprop.fastpath import _numpys_own, _scipys_own

    def threads():
        return {lib.filepath: lib.num_threads for lib in ThreadpoolController().lib_controllers if lib.user_api == "blas"}

    before = threads()
    others = [path for path in before if _scipys_own(path) and not _numpys_own(path)]
    if not others or all(before[path] == 1 for path in others):
        pytest.skip("no second BLAS with more than one thread (SciPy and NumPy share one, or one core)")
    seen = []

    class Look(Callback):
        def on_epoch_end(self, trainer, record):
            seen.append(threads())

    X, y = _digits(200, classes=3)
    dp.Network([X.shape[1], 5, 3], seed=0).fit(X, y, epochs=3, optimizer="lbfgs", callbacks=[Look()])
    assert seen and all(during[path] == 1 for during in seen for path in others)
    assert all(during[path] == before[path] for during in seen for path in before if path not in others)
    assert threads() == before
