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


# ---------------------------------------------------------------------------- issue 14: Python UX
def diverging(blobs):
    """A network and targets that fit(learning_rate=1e6) drives to an infinite cost in epoch 1."""
    X, y = blobs
    net = dp.Network([2, 8, 3], activation="relu", output="identity", cost="quadratic", seed=0)
    return net, X, dp.one_hot(np.searchsorted(["a", "b", "c"], y), 3)


def test_fit_verbose_0_shows_nothing(blobs, capfd):
    X, y = blobs
    new_net().fit(X, y, epochs=3, validation=0.2, seed=0, verbose=0)
    new_net().fit(X, y, epochs=3, seed=0)  # the default
    assert capfd.readouterr() == ("", "")


def test_fit_verbose_1_draws_one_bar_that_updates_in_place(blobs, capfd):
    X, y = blobs
    new_net().fit(X, y, epochs=12, validation=0.2, seed=0, verbose=1)
    out, err = capfd.readouterr()
    assert out == ""
    assert err.count("\n") == 1 and err.endswith("\n")  # one line, redrawn with carriage returns
    assert "\r" in err and "12/12" in err and "val_cost=" in err


def test_fit_verbose_2_prints_one_plain_line_per_epoch(blobs, capsys):
    X, y = blobs
    new_net().fit(X, y, epochs=4, validation=0.2, seed=0, verbose=2)
    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert err == "" and len(lines) == 4 and "\r" not in out and "\x1b" not in out
    for epoch, line in enumerate(lines, start=1):
        assert line.startswith(f"epoch   {epoch}/4  cost ") and "val cost" in line and "val acc" in line


@pytest.mark.parametrize("verbose", [-1, 1.5, "1", None])
def test_verbose_must_be_a_non_negative_integer(blobs, verbose):
    X, y = blobs
    with pytest.raises(ValueError, match=r"^verbose must be 0 \(nothing shown\), 1 \(a progress bar\) or 2 .*, got ") as info:
        new_net().fit(X, y, epochs=1, verbose=verbose)
    assert "\n" not in str(info.value)


def test_on_train_end_runs_when_training_diverges(blobs):
    """A callback that opened something (a progress bar) gets to close it."""

    class Ends(Callback):
        reasons = []

        def on_train_end(self, trainer):
            self.reasons.append(trainer.history.stop_reason)

    net, X, Y = diverging(blobs)
    with pytest.raises(TrainingDiverged):
        net.fit(X, Y, epochs=5, learning_rate=1e6, seed=0, callbacks=[Ends()])
    assert Ends.reasons == ["diverged"]
    assert net.history.stop_reason == "diverged" and isinstance(net.history, dp.History)


@pytest.mark.parametrize("given,hint", [
    ({"max_iter": 5}, "'max_iter'; use epochs="),
    ({"n_epochs": 5}, "'n_epochs'; use epochs="),
    ({"learning_rate_init": 0.1}, "'learning_rate_init'; use learning_rate="),
    ({"lr": 0.1}, "'lr'; use learning_rate="),
    ({"alpha": 0.1}, "'alpha'; use l2="),
    ({"batch": 8}, "'batch'; use batch_size="),
    ({"random_state": 0}, "'random_state'; use seed="),
    ({"batch_sizes": 8}, "'batch_sizes'; did you mean batch_size=?"),
    ({"beta1": 0.8}, "'beta1', an option of optimizer 'adam', but the optimizer is 'sgd': choose it with optimizer='adam'"),
    ({"momentum": 0.5}, "'momentum', an option of optimizer 'momentum', but the optimizer is 'sgd'"),
])
def test_unknown_keyword_arguments_are_refused_by_name(blobs, given, hint):
    X, y = blobs
    net = new_net()
    with pytest.raises(dp.training.FitArgumentError) as info:
        net.fit(X, y, epochs=1, **given)
    message = str(info.value)
    assert message.startswith("fit() got ") and hint in message and "\n" not in message
    assert "(valid: epochs, batch_size, learning_rate, optimizer, l2, validation" in message and "verbose" in message
    assert isinstance(info.value, TypeError) and isinstance(info.value, ValueError)
    assert len(net.history) == 0  # refused before training


def test_optimizer_options_are_accepted_by_their_optimizer_only(blobs):
    X, y = blobs
    net = new_net()
    net.fit(X, y, epochs=1, optimizer="adam", beta1=0.8, beta2=0.99, epsilon=1e-7, seed=0)
    net.fit(X, y, epochs=1, optimizer="momentum", momentum=0.5, seed=0)
    with pytest.raises(TypeError, match=r"'epsilon', an option of optimizer 'adam', but the optimizer is 'momentum'.*"
                                        r"optimizer 'momentum' also takes momentum\)"):
        net.fit(X, y, epochs=1, optimizer="momentum", epsilon=1e-7)
    with pytest.raises(TypeError, match=r"'beta1', an option of optimizer 'adam', but the optimizer is Adam\(\.\.\.\): "
                                        r"pass it to that instance"):
        net.fit(X, y, epochs=1, optimizer=Adam(0.01), beta1=0.8)


def test_network_fit_has_the_signature_and_docstring_of_fit():
    import inspect

    method = list(inspect.signature(dp.Network.fit).parameters.values())[1:]  # less self
    function = list(inspect.signature(fit).parameters.values())[1:]  # less net
    assert [(p.name, p.kind, p.default) for p in method] == [(p.name, p.kind, p.default) for p in function]
    assert "verbose" in [p.name for p in method] and "kwargs" not in [p.name for p in method]
    doc = inspect.getdoc(dp.Network.fit)
    assert "Parameters\n----------" in doc and "Returns\n-------" in doc
    for p in method:
        assert (f"\n{p.name} :" in doc) if p.kind is p.POSITIONAL_OR_KEYWORD else (f"\n**{p.name}" in doc), p.name


def test_history_reads_as_a_dict_of_lists_and_as_the_list_of_records(blobs):
    import json

    X, y = blobs
    net = new_net()
    history = net.fit(X, y, epochs=6, validation=0.2, seed=0)
    assert net.history is history and isinstance(history, dp.History)
    assert list(history.keys()) == ["epoch", "cost", "accuracy", "learning_rate", "val_cost", "val_accuracy", "time"]
    assert "val_cost" in history and "grad_norms" not in history
    assert history["epoch"] == [1, 2, 3, 4, 5, 6] and len(history["val_cost"]) == 6
    assert dict(history.items())["cost"] == history["cost"]
    assert history[0]["epoch"] == 1 and history[-1]["epoch"] == 6 and [r["epoch"] for r in history[1:3]] == [2, 3]
    assert [r["epoch"] for r in history] == history["epoch"] and len(history) == 6
    assert json.loads(json.dumps(history)) == history == [dict(r) for r in history]  # JSON-able, a list
    with pytest.raises(KeyError, match="'val_loss': no epoch of this history has it; its keys: epoch, cost"):
        history["val_loss"]


def test_history_from_a_list_of_records():
    history = dp.History([{"epoch": 1, "cost": 0.5}, {"epoch": 2, "cost": 0.25, "val_cost": 0.3}])
    assert history["val_cost"] == [None, 0.3] and history.stop_reason == "completed" and history.best_epoch is None
    copy = history.copy()
    copy[0]["cost"] = 9.0
    assert history[0]["cost"] == 0.5 and isinstance(copy, dp.History)
    with pytest.raises(ValueError, match="History records must be dicts \\(one per epoch\\), got int at 1"):
        dp.History([{"epoch": 1}, 2])


def test_history_repr_is_one_readable_line():
    records = [{"epoch": e, "cost": 1 / e, "accuracy": 0.5, "val_cost": 2 / e, "time": 0.1} for e in range(1, 31)]
    history = dp.History(records, stop_reason="early_stopping", best_epoch=27)
    assert repr(history) == ("History(30 epochs, stop_reason='early_stopping', best_epoch=27; "
                             "last: cost 0.03333, accuracy 0.5, val_cost 0.06667)")
    from IPython.lib.pretty import pretty

    assert pretty(history) == repr(history)
    assert repr(dp.History()) == "History(0 epochs, stop_reason='completed', best_epoch=None)"


def test_history_html_table_shows_the_first_and_last_epochs_of_a_long_run():
    records = [{"epoch": e, "cost": 1 / e, "val_cost": 2 / e, "accuracy": 0.5, "val_accuracy": 0.25,
                "time": 0.01, "learning_rate": 0.1, "grad_norms": {"W": [1.0]}} for e in range(1, 31)]
    page = dp.History(records, best_epoch=3)._repr_html_()
    heads = ["epoch", "cost", "val_cost", "accuracy", "val_accuracy", "time (s)", "learning rate"]
    assert page.startswith("<table") and "".join(f"<th>{h}</th>" for h in heads) in page
    assert page.count("<tr") == 1 + 5 + 1 + 5 and "… 20 more epochs …" in page
    cells = [c.split("<")[0] for c in page.split('style="text-align:right">')[1:]]
    epochs = [cells[i] for i in range(0, len(cells), 7)]
    assert epochs == ["1", "2", "3", "4", "5", "26", "27", "28", "29", "30"]
    assert cells[:7] == ["1", "1.0000", "2.0000", "50.00%", "25.00%", "0.01", "0.1"]
    assert '<tr style="font-weight:bold"><td style="text-align:right">3<' in page  # the best epoch
    short = dp.History(records[:12])._repr_html_()
    assert short.count("<tr") == 13 and "more epochs" not in short


def test_history_to_pandas_is_indexed_by_epoch(blobs, monkeypatch):
    import sys

    X, y = blobs
    history = new_net().fit(X, y, epochs=3, validation=0.2, seed=0)
    frame = history.to_pandas()
    assert frame.index.name == "epoch" and list(frame.index) == [1, 2, 3]
    assert list(frame.columns) == ["cost", "accuracy", "learning_rate", "val_cost", "val_accuracy", "time"]
    assert frame["val_cost"].tolist() == history["val_cost"]
    monkeypatch.setitem(sys.modules, "pandas", None)  # pandas not installed
    with pytest.raises(ImportError, match=r"^History.to_pandas\(\) needs pandas, which is not installed: pip install pandas$"):
        history.to_pandas()


def test_a_generator_seed_gives_the_same_validation_split_every_time(blobs):
    X, y = blobs
    costs = []
    for _ in range(2):
        net = new_net()
        costs.append(net.fit(X, y, epochs=2, validation=0.3, seed=np.random.default_rng(5))["val_cost"])
    assert costs[0] == costs[1]
