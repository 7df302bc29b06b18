"""The scikit-learn estimators: scikit-learn's own estimator checks, the conventions they do not
cover (parameters stored unchanged, warm starts and partial_fit that keep the optimizer's
state, model files, pickling), every target kind, and the tools users combine them with
(Pipeline, cross_val_score, GridSearchCV)."""

import inspect
import io
import pickle
import re
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_digits, load_wine, make_multilabel_classification
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import GridSearchCV, cross_val_score, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import deltaprop
import deltaprop.sklearn as dsk
from deltaprop.optimizers import Adam, Momentum
from deltaprop.sklearn import MLPClassifier, MLPRegressor, expected_failed_checks
from deltaprop.training import TrainingDiverged

# Most fits here are short: their ConvergenceWarnings are noise (the tests of the warning catch
# it themselves).
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")

# ----------------------------------------------------------------------------- estimator checks
# The defaults pass every check; the other settings cover mini-batches, tanh, L2, SGD with a
# quadratic cost, Momentum, leaky ReLU, early stopping and float32. What they are expected to
# fail, and why, comes from deltaprop.sklearn.expected_failed_checks.
CHECKED = [
    MLPClassifier(),
    MLPRegressor(),
    MLPClassifier(hidden_layer_sizes=(8, 8), activation="tanh", batch_size=16, epochs=50, l2=0.1),
    MLPClassifier(hidden_layer_sizes=(16,), activation="sigmoid", cost="quadratic",
                  optimizer="sgd", learning_rate=0.5, epochs=100),
    MLPClassifier(hidden_layer_sizes=(16, 16), activation={"name": "leaky_relu", "slope": 0.1},
                  optimizer=Momentum(0.002), epochs=100),
    MLPRegressor(hidden_layer_sizes=(16, 16), activation=["tanh", "relu"], learning_rate=0.01, epochs=100),
    MLPRegressor(early_stopping=True, dtype="float32"),
]


@parametrize_with_checks(CHECKED, expected_failed_checks=expected_failed_checks)
def test_sklearn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # R² of 1-row validation sets
        check(estimator)


def test_defaults_have_no_expected_failures():
    assert expected_failed_checks(MLPClassifier()) == {}
    assert expected_failed_checks(MLPRegressor()) == {}
    assert "check_regressors_train" in expected_failed_checks(MLPRegressor(early_stopping=True))


# ----------------------------------------------------------------------------- data
@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X / 16.0, y, test_size=0.25, random_state=0, stratify=y)


@pytest.fixture(scope="module")
def cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)


def _regression(n=300, n_out=1, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.uniform(-2, 2, size=(n, 3))
    Y = np.column_stack([np.sin(X[:, 0]) + X[:, 1] * X[:, 2], np.cos(X[:, 1]) - X[:, 0]])[:, :n_out]
    return X, (Y[:, 0] if n_out == 1 else Y)


def _weights(est):
    return [W.copy() for W in est.network_.weights] + [b.copy() for b in est.network_.biases]


def _assert_same_weights(a, b):
    for p, q in zip(_weights(a), _weights(b)):
        np.testing.assert_array_equal(p, q)


# ----------------------------------------------------------------------------- the API
def test_import_paths():
    assert deltaprop.MLPClassifier is dsk.MLPClassifier
    assert deltaprop.MLPRegressor is dsk.MLPRegressor


def test_constructor_stores_parameters_unchanged_and_fit_does_not_touch_them():
    opt = Adam(0.01)
    rng = np.random.default_rng(0)
    est = MLPClassifier(hidden_layer_sizes=[5], activation="tanh", optimizer=opt, epochs=3,
                        random_state=rng, dtype=np.float32, batch_size=7)
    params = est.get_params()
    assert params["hidden_layer_sizes"] == [5] and params["optimizer"] is opt
    assert params["random_state"] is rng and params["dtype"] is np.float32
    X, y = load_digits(return_X_y=True)
    est.fit(X[:100], y[:100])
    assert est.optimizer is opt and opt.t == 0 and opt.state["m"] is None  # a copy was trained
    assert est.optimizer_ is not opt and est.optimizer_.t == 3 * 15
    assert est.hidden_layer_sizes == [5] and est.network_.dtype == np.float32
    assert set(MLPClassifier().get_params()) == {
        "hidden_layer_sizes", "activation", "output", "cost", "init", "optimizer", "learning_rate",
        "batch_size", "epochs", "l2", "early_stopping", "validation_fraction", "patience", "tol",
        "restore_best", "shuffle", "block_size", "random_state", "dtype", "verbose", "warm_start",
    }


def test_fitted_attributes(digits):
    X_train, X_test, y_train, y_test = digits
    est = MLPClassifier(hidden_layer_sizes=(32,), epochs=15, batch_size=32, random_state=0).fit(X_train, y_train)
    assert isinstance(est.network_, deltaprop.Network)
    assert est.network_.sizes == [64, 32, 10]
    np.testing.assert_array_equal(est.classes_, np.arange(10))
    assert est.n_features_in_ == 64 and est.n_outputs_ == 10 and est.out_activation_ == "softmax"
    assert est.n_iter_ == 15 == len(est.loss_curve_)
    assert est.loss_curve_[-1] < est.loss_curve_[0]
    assert est.validation_scores_ is None and est.validation_loss_curve_ is None
    assert est.best_epoch_ is None and est.stop_reason_ == "completed"
    assert est.score(X_test, y_test) > 0.9
    assert not hasattr(est, "feature_names_in_")


def test_predict_before_fit_raises():
    with pytest.raises(NotFittedError):
        MLPClassifier().predict(np.zeros((2, 3)))
    with pytest.raises(NotFittedError):
        MLPRegressor().predict(np.zeros((2, 3)))


# ----------------------------------------------------------------------------- target kinds
def test_binary_classification_one_sigmoid_output(cancer):
    X_train, X_test, y_train, y_test = cancer
    labels = np.array(["benign", "malignant"])
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), epochs=30, batch_size=32, random_state=0))
    model.fit(X_train, labels[y_train])
    est = model[-1]
    assert est.network_.sizes[-1] == 1 and est.out_activation_ == "sigmoid"
    assert est.network_.cost_name == "binary_cross_entropy"
    np.testing.assert_array_equal(est.classes_, labels)
    proba = model.predict_proba(X_test)
    assert proba.shape == (len(X_test), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert model.score(X_test, labels[y_test]) > 0.95
    np.testing.assert_array_equal(model.predict(X_test), labels[proba.argmax(axis=1)])


def test_binary_with_softmax_output_has_two_outputs(cancer):
    X_train, _, y_train, _ = cancer
    est = MLPClassifier(output="softmax", hidden_layer_sizes=(4,), epochs=2, random_state=0)
    est.fit(StandardScaler().fit_transform(X_train), y_train)
    assert est.network_.sizes[-1] == 2 and est.network_.cost_name == "cross_entropy"


def test_multiclass_in_a_pipeline(digits):
    X_train, X_test, y_train, y_test = digits
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(64,), epochs=30, random_state=0))
    assert model.fit(X_train, y_train).score(X_test, y_test) > 0.95


def test_multilabel_classification():
    X, Y = make_multilabel_classification(n_samples=400, n_features=10, n_classes=4, random_state=0)
    X = StandardScaler().fit_transform(X)
    est = MLPClassifier(hidden_layer_sizes=(32,), epochs=100, random_state=0).fit(X[:300], Y[:300])
    assert est.network_.sizes[-1] == 4 and est.out_activation_ == "sigmoid"
    assert est.network_.cost_name == "binary_cross_entropy" and est.network_.classes_ is None
    np.testing.assert_array_equal(est.classes_, np.arange(4))
    proba = est.predict_proba(X[300:])
    assert proba.shape == (100, 4) and ((proba > 0) & (proba < 1)).all()
    pred = est.predict(X[300:])
    assert pred.shape == (100, 4) and pred.dtype.kind == "i"
    np.testing.assert_array_equal(pred, (proba > 0.5).astype(int))
    # per-label accuracy well above always predicting each label's majority value
    majority = np.maximum(Y[300:].mean(axis=0), 1 - Y[300:].mean(axis=0)).mean()
    assert (pred == Y[300:]).mean() > majority + 0.1
    with pytest.raises(ValueError, match="sigmoid"):
        MLPClassifier(output="softmax").fit(X, Y)


@pytest.mark.parametrize("n_out", [1, 2])
def test_regression_single_and_multi_output(n_out):
    X, y = _regression(n_out=n_out)
    est = MLPRegressor(hidden_layer_sizes=(32, 32), epochs=150, learning_rate=0.01, random_state=0)
    est.fit(X[:250], y[:250])
    assert est.network_.sizes == [3, 32, 32, n_out] and est.out_activation_ == "identity"
    assert est.network_.cost_name == "quadratic" and not hasattr(est, "classes_")
    pred = est.predict(X[250:])
    assert pred.shape == y[250:].shape
    assert est.score(X[250:], y[250:]) > 0.9


def test_regression_column_vector_target_predicts_1d():
    X, y = _regression()
    a = MLPRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    b = MLPRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y[:, None])
    assert b.predict(X).shape == (len(X),)
    np.testing.assert_allclose(a.predict(X), b.predict(X))


def test_predict_log_proba_is_finite_where_probabilities_round_to_zero():
    net = deltaprop.Network([1, 3], output="softmax", cost="cross_entropy", seed=0)
    net.weights[0] = np.array([[0.0], [800.0], [-800.0]])
    net.biases[0] = np.zeros(3)
    net.classes_ = np.array(["a", "b", "c"])
    est = MLPClassifier.from_network(net)
    X = np.array([[1.0], [-1.0]])
    proba, log_proba = est.predict_proba(X), est.predict_log_proba(X)
    assert proba[0, 0] == 0.0 and proba[0, 2] == 0.0  # e^-800 underflows
    np.testing.assert_allclose(log_proba[0], [-800.0, 0.0, -1600.0])
    np.testing.assert_array_equal(est.predict(X), ["b", "c"])
    # a single sigmoid output: log(1 − σ(z)) from z, not from 1 − σ(z) = 0
    net1 = deltaprop.Network([1, 1], output="sigmoid", cost="binary_cross_entropy", seed=0)
    net1.weights[0], net1.biases[0], net1.classes_ = np.array([[50.0]]), np.zeros(1), np.array([0, 1])
    est1 = MLPClassifier.from_network(net1)
    np.testing.assert_allclose(est1.predict_log_proba(np.array([[1.0]])), [[-50.0, -np.log1p(np.exp(-50.0))]])


# ----------------------------------------------------------------------------- vs scikit-learn's MLP
@pytest.mark.parametrize("kind", ["classifier", "regressor"])
def test_one_epoch_matches_sklearn_mlp_with_the_documented_l2_mapping(kind):
    """The README's and the benchmark's mapping, checked step for step: scikit-learn's
    per-batch penalty α/(2 m_b)‖W‖² is deltaprop's λ = α n/m_b (classifier); its squared loss
    has a ½, so the regressor needs λ = 2 α n/m_b and, with plain SGD, half the learning rate."""
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor

    rng = np.random.default_rng(0)
    n, m_b, alpha, lr = 40, 8, 0.5, 0.05
    X = rng.normal(size=(n, 3))
    sk_kw = dict(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0,
                 learning_rate_init=lr, alpha=alpha, batch_size=m_b, shuffle=False, random_state=0)
    if kind == "classifier":
        y = np.arange(n) % 3
        sk = SkClassifier(**sk_kw).partial_fit(X, y, classes=[0, 1, 2])
        net = deltaprop.Network([3, 5, 3], activation="tanh", output="softmax", cost="cross_entropy")
        net.classes_ = np.array([0, 1, 2])
        make, l2, dp_lr = MLPClassifier, alpha * n / m_b, lr
    else:
        y = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
        sk = SkRegressor(**sk_kw).partial_fit(X, y)
        net = deltaprop.Network([3, 5, 2], activation="tanh", output="identity", cost="quadratic")
        make, l2, dp_lr = MLPRegressor, 2 * alpha * n / m_b, lr / 2
    net.weights = [W.T for W in sk.coefs_]  # the same starting point
    net.biases = list(sk.intercepts_)
    est = make.from_network(net, optimizer="sgd", learning_rate=dp_lr, l2=l2, batch_size=m_b, shuffle=False)
    sk.partial_fit(X, y)  # one more epoch each
    est.partial_fit(X, y)
    for W, coef in zip(est.network_.weights, sk.coefs_):
        np.testing.assert_allclose(W, coef.T, rtol=1e-10, atol=1e-12)
    for b, intercept in zip(est.network_.biases, sk.intercepts_):
        np.testing.assert_allclose(b, intercept, rtol=1e-10, atol=1e-12)


def test_half_quadratic_regressor_matches_sklearn_mlp_with_its_own_learning_rate():
    """scikit-learn's regressor trains on ½ Σ_j (a_j − y_j)² (its output error is a − y):
    ``cost="half_quadratic"`` follows it step for step with the same learning rate and the
    classifier's λ = α n/m_b, where the quadratic cost needs half the rate and twice the λ."""
    from sklearn.neural_network import MLPRegressor as SkRegressor

    rng = np.random.default_rng(1)
    n, m_b, alpha, lr = 40, 8, 0.5, 0.05
    X = rng.normal(size=(n, 3))
    y = np.column_stack([np.sin(X[:, 0]), X[:, 1] * X[:, 2]])
    sk = SkRegressor(hidden_layer_sizes=(5,), activation="tanh", solver="sgd", momentum=0.0,
                     learning_rate_init=lr, alpha=alpha, batch_size=m_b, shuffle=False,
                     random_state=0).partial_fit(X, y)
    net = deltaprop.Network([3, 5, 2], activation="tanh", output="identity", cost="half_quadratic")
    net.weights = [W.T for W in sk.coefs_]
    net.biases = list(sk.intercepts_)
    est = MLPRegressor.from_network(net, cost="half_quadratic", optimizer="sgd", learning_rate=lr,
                                    l2=alpha * n / m_b, batch_size=m_b, shuffle=False)
    sk.partial_fit(X, y)
    est.partial_fit(X, y)
    assert est.network_.cost_name == "half_quadratic"
    for W, coef in zip(est.network_.weights, sk.coefs_):
        np.testing.assert_allclose(W, coef.T, rtol=1e-10, atol=1e-12)
    for b, intercept in zip(est.network_.biases, sk.intercepts_):
        np.testing.assert_allclose(b, intercept, rtol=1e-10, atol=1e-12)


def test_half_quadratic_with_twice_the_learning_rate_trains_like_quadratic():
    """The ½ halves every gradient: plain SGD at 2α on half_quadratic takes the quadratic cost's
    steps at α, and its loss curve is half the quadratic's (without L2)."""
    X, y = _regression(n=60)
    kw = dict(hidden_layer_sizes=(6,), optimizer="sgd", batch_size=10, epochs=4, random_state=0)
    quad = MLPRegressor(cost="quadratic", learning_rate=0.01, **kw).fit(X, y)
    half = MLPRegressor(cost="half_quadratic", learning_rate=0.02, **kw).fit(X, y)
    assert half.network_.cost_name == "half_quadratic" and half.get_params()["cost"] == "half_quadratic"
    for p, q in zip(_weights(half), _weights(quad)):
        np.testing.assert_allclose(p, q, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(half.loss_curve_, 0.5 * np.array(quad.loss_curve_), rtol=1e-12)
    assert half.score(X, y) == pytest.approx(quad.score(X, y), rel=1e-10)


def test_classifier_accepts_half_quadratic(cancer):
    X_train, X_test, y_train, y_test = cancer
    est = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), cost="half_quadratic",
                                                        output="sigmoid", epochs=30, random_state=0))
    est.fit(X_train, y_train)
    net = est[-1].network_
    assert net.cost_name == "half_quadratic" and net.activations[-1].name == "sigmoid" and net.sizes[-1] == 1
    assert est.score(X_test, y_test) > 0.9


# ----------------------------------------------------------------------------- sample weights
def test_integer_sample_weights_equal_repeated_examples():
    X, y = load_wine(return_X_y=True)
    X = StandardScaler().fit_transform(X)[:120]
    y = y[:120]
    w = np.random.default_rng(0).integers(0, 4, len(y))
    kw = dict(hidden_layer_sizes=(8,), epochs=20, batch_size=400, random_state=0)
    weighted = MLPClassifier(**kw).fit(X, y, sample_weight=w)
    repeated = MLPClassifier(**kw).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), rtol=1e-9, atol=1e-12)
    unweighted = MLPClassifier(**kw).fit(X, y)
    assert not np.allclose(weighted.predict_proba(X), unweighted.predict_proba(X), rtol=1e-6)


def test_sample_weight_shifts_a_regressor():
    X = np.zeros((40, 1))
    y = np.r_[np.zeros(20), np.ones(20)]
    w = np.r_[np.ones(20), 3 * np.ones(20)]
    est = MLPRegressor(hidden_layer_sizes=(), epochs=300, learning_rate=0.05, random_state=0)
    assert est.fit(X, y, sample_weight=w).predict(X[:1])[0] == pytest.approx(0.75, abs=0.01)
    assert est.fit(X, y).predict(X[:1])[0] == pytest.approx(0.5, abs=0.01)


def test_bad_sample_weights():
    X, y = np.random.default_rng(0).normal(size=(10, 2)), np.arange(10) % 2
    est = MLPClassifier(hidden_layer_sizes=(2,), epochs=1)
    with pytest.raises(ValueError, match="≥ 0"):
        est.fit(X, y, sample_weight=-np.ones(10))
    with pytest.raises(ValueError, match="shape"):
        est.fit(X, y, sample_weight=np.ones(9))
    with pytest.raises(ValueError, match="zero"):
        est.fit(X, y, sample_weight=np.zeros(10))
    with pytest.raises(ValueError, match="2 classes with non-zero sample_weight"):
        est.fit(X, y, sample_weight=y.astype(float))


# ----------------------------------------------------------------------------- continuing training
def test_partial_fit_keeps_the_optimizer_state(digits):
    X, _, y, _ = digits
    X, y = X[:300], y[:300]
    kw = dict(hidden_layer_sizes=(16,), batch_size=32, random_state=3)
    once = MLPClassifier(epochs=3, **kw).fit(X, y)
    chunked = MLPClassifier(**kw)
    for _ in range(3):
        chunked.partial_fit(X, y, classes=np.arange(10))
    # the same Generator stream and Adam's moments carried over: bit for bit the same weights
    _assert_same_weights(once, chunked)
    assert chunked.n_iter_ == 3 and chunked.optimizer_.t == once.optimizer_.t == 3 * 10
    assert chunked.loss_curve_ == once.loss_curve_
    # a fresh Adam at each call (what scikit-learn's MLP does on warm starts) ends elsewhere
    reset = MLPClassifier(**kw)
    for _ in range(3):
        reset.partial_fit(X, y, classes=np.arange(10))
        reset.optimizer_ = None
    assert not np.allclose(_weights(reset)[0], _weights(once)[0])


def test_partial_fit_errors():
    X, y = np.random.default_rng(0).normal(size=(20, 3)), np.arange(20) % 3
    est = MLPClassifier(hidden_layer_sizes=(4,))
    with pytest.raises(ValueError, match="classes must be passed"):
        est.partial_fit(X, y)
    est.partial_fit(X[:5], y[:5] % 2, classes=[0, 1, 2])  # a chunk may lack classes
    assert est.network_.sizes[-1] == 3
    with pytest.raises(ValueError, match="not the same"):
        est.partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="label 7"):
        est.partial_fit(X, np.full(20, 7))
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :2], y)
    reg = MLPRegressor(hidden_layer_sizes=(4,)).partial_fit(X, y.astype(float))
    assert reg.n_iter_ == 1
    with pytest.raises(ValueError, match="target column"):
        reg.partial_fit(X, np.ones((20, 2)))


def test_warm_start_continues_network_optimizer_and_random_stream():
    X, y = _regression()
    kw = dict(hidden_layer_sizes=(8,), batch_size=50, random_state=1)
    straight = MLPRegressor(epochs=5, **kw).fit(X, y)
    warm = MLPRegressor(epochs=3, warm_start=True, **kw).fit(X, y)
    warm.set_params(epochs=2).fit(X, y)
    _assert_same_weights(straight, warm)
    assert warm.n_iter_ == 5 and warm.loss_curve_ == straight.loss_curve_
    assert warm.optimizer_.t == 5 * 6
    # changed learning rate: applied to the optimizer in use, its moments kept
    warm.set_params(learning_rate=1e-4, epochs=1).fit(X, y)
    assert warm.optimizer_.learning_rate == 1e-4 and warm.optimizer_.t == 6 * 6
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        warm.set_params(hidden_layer_sizes=(9,)).fit(X, y)
    # without warm_start, fit starts over
    cold = MLPRegressor(epochs=3, **kw).fit(X, y)
    cold.fit(X, y)
    assert cold.n_iter_ == 3


def test_warm_start_applies_new_optimizer_settings_and_keeps_its_state():
    X, y = _regression(n=60)
    est = MLPRegressor(hidden_layer_sizes=(4,), epochs=2, batch_size=20, optimizer=Adam(0.01),
                       warm_start=True, random_state=0).fit(X, y)
    moments = est.optimizer_.state["m"][0].copy()
    est.set_params(optimizer=Adam(0.002, beta1=0.5), epochs=1).fit(X, y)
    assert est.optimizer_.t == 9 and est.optimizer_.hyperparameters()["beta1"] == 0.5
    assert est.optimizer_.learning_rate == 0.002 and not np.array_equal(est.optimizer_.state["m"][0], moments)
    est.set_params(optimizer="sgd", learning_rate=0.01).fit(X, y)  # another kind: a fresh one
    assert est.optimizer_.name == "sgd" and est.optimizer_.t == 3
    with pytest.raises(ValueError, match="learning_rate"):
        est.set_params(learning_rate=-1.0).fit(X, y)


def test_warm_start_classifier_rejects_new_labels():
    X, y = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 3
    est = MLPClassifier(hidden_layer_sizes=(3,), epochs=2, warm_start=True).fit(X, y)
    est.fit(X[y < 2], y[y < 2])  # a subset of the classes is fine
    with pytest.raises(ValueError, match="not one of the classes"):
        est.fit(X, y + 1)


# ----------------------------------------------------------------------------- early stopping
def test_early_stopping_curves_and_best_epoch(digits):
    X, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(64,), learning_rate=0.01, epochs=200, early_stopping=True,
                        patience=4, random_state=0).fit(X, y)
    assert est.stop_reason_ == "early_stopping" and est.n_iter_ < 200
    assert len(est.validation_scores_) == len(est.validation_loss_curve_) == est.n_iter_
    assert est.best_epoch_ == int(np.argmin(est.validation_loss_curve_)) + 1
    assert est.n_iter_ == est.best_epoch_ + 4
    assert 0.9 < max(est.validation_scores_) <= 1.0
    assert est.network_.history[-1]["epoch"] == est.n_iter_


def test_restore_best_keeps_the_best_epochs_weights():
    X, y = _regression(n=200, seed=1)
    kw = dict(hidden_layer_sizes=(64,), learning_rate=0.05, epochs=60, early_stopping=True,
              patience=3, random_state=0)
    best = MLPRegressor(**kw).fit(X, y)
    last = MLPRegressor(**{**kw, "restore_best": False}).fit(X, y)  # the same run, last weights
    assert last.n_iter_ == best.n_iter_ > best.best_epoch_
    assert not np.allclose(best.predict(X), last.predict(X))


# ----------------------------------------------------------------------------- verbose
def test_verbose_2_prints_a_line_per_epoch_from_the_estimator_only(capsys, digits):
    X, _, y, _ = digits
    MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, y)
    assert capsys.readouterr() == ("", "")
    MLPClassifier(hidden_layer_sizes=(8,), epochs=3, early_stopping=True, patience=1,
                  random_state=0, verbose=2).fit(X, y)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Epoch 1/3, loss = ")
    assert "validation loss = " in lines[0] and "validation score = " in lines[0]
    assert lines[-1].startswith("Validation loss did not improve for 1 epochs") or len(lines) == 3
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0, verbose=2, warm_start=True)
    est.fit(X, y)
    capsys.readouterr()
    est.fit(X, y)
    assert capsys.readouterr().out.splitlines()[0].startswith("Epoch 3 (1/2 of this fit), loss = ")
    deltaprop.Network([64, 8, 10], output="softmax", cost="cross_entropy", seed=0).fit(X, y, epochs=2)
    assert capsys.readouterr().out == ""


def test_verbose_1_shows_one_live_bar_per_fit_not_a_line_per_epoch(capsys, digits):
    X, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=30, random_state=0, verbose=1, warm_start=True)
    est.fit(X, y)
    out, err = capsys.readouterr()
    assert out == ""  # (today's 30 printed lines)
    # tqdm's text bar (stderr, outside a notebook): redrawn in place with \r, one final newline
    assert err.count("\n") == 1 and "MLPClassifier" in err and "30/30" in err and "cost=" in err
    est.fit(X, y)  # a warm start: a new bar over this fit's epochs, saying where the run stands
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "MLPClassifier (after 30 epochs)" in err and "30/30" in err
    MLPRegressor(hidden_layer_sizes=(4,), random_state=0, verbose=1).partial_fit(*_regression(n=50))
    out, err = capsys.readouterr()
    assert out == "" and "MLPRegressor" in err and "1/1" in err


# ----------------------------------------------------------------------------- DataFrames
def test_feature_names_from_a_dataframe():
    pd = pytest.importorskip("pandas")
    X, y = load_wine(return_X_y=True, as_frame=True)
    est = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0))
    est.fit(X, y)
    mlp = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0).fit(X, y)
    np.testing.assert_array_equal(mlp.feature_names_in_, X.columns)
    with pytest.warns(UserWarning, match="feature names"):
        mlp.predict(X.to_numpy())
    assert isinstance(pd.Series(mlp.predict(X)), pd.Series)


# ----------------------------------------------------------------------------- model selection
def test_cross_val_score_and_grid_search():
    X, y = load_wine(return_X_y=True)
    model = make_pipeline(StandardScaler(), MLPClassifier(hidden_layer_sizes=(16,), epochs=40, batch_size=16,
                                                          learning_rate=0.01, random_state=0))
    scores = cross_val_score(model, X, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.9
    grid = GridSearchCV(model, {"mlpclassifier__hidden_layer_sizes": [(2,), (16,)],
                                "mlpclassifier__l2": [0.0, 1.0]}, cv=3)
    grid.fit(X, y)
    assert set(grid.best_params_) == {"mlpclassifier__hidden_layer_sizes", "mlpclassifier__l2"}
    assert grid.best_estimator_[-1].network_.sizes[1] == grid.best_params_["mlpclassifier__hidden_layer_sizes"][0]
    assert grid.best_score_ > 0.9


def test_clone_is_unfitted_with_the_same_parameters(digits):
    X, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=2, random_state=0).fit(X, y)
    twin = clone(est)
    assert twin.get_params() == est.get_params() and not hasattr(twin, "network_")


# ----------------------------------------------------------------------------- randomness
def test_random_state_int_generator_and_none():
    X, y = _regression(n=100)
    kw = dict(hidden_layer_sizes=(8,), epochs=3, batch_size=10)
    a = MLPRegressor(random_state=5, **kw).fit(X, y)
    b = MLPRegressor(random_state=5, **kw).fit(X, y)
    _assert_same_weights(a, b)
    gen = np.random.default_rng(5)
    g = MLPRegressor(random_state=gen, **kw)
    first = g.fit(X, y).predict(X)
    assert not np.allclose(g.fit(X, y).predict(X), first)  # the Generator's stream moved on
    twin = MLPRegressor(random_state=np.random.default_rng(5), **kw).fit(X, y)
    np.testing.assert_array_equal(twin.predict(X), first)
    rs = MLPRegressor(random_state=np.random.RandomState(0), **kw).fit(X, y)
    assert rs.n_iter_ == 3
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    MLPRegressor(random_state=None, **kw).fit(X, y)
    np.testing.assert_array_equal(np.random.get_state()[1], before)  # global state untouched


# ----------------------------------------------------------------------------- model files and pickle
def test_deltaprop_save_and_load_round_trip(tmp_path, digits):
    X, X_test, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(16,), epochs=5, random_state=0).fit(X, y)
    path = deltaprop.save(est.network_, tmp_path / "model.npz")
    np.load(path, allow_pickle=False).close()  # a plain .npz, no pickle
    back = MLPClassifier.load(path)
    np.testing.assert_array_equal(back.predict_proba(X_test), est.predict_proba(X_test))
    assert back.hidden_layer_sizes == (16,) and back.activation == "relu"
    assert back.n_iter_ == 5 and back.loss_curve_ == est.loss_curve_
    np.testing.assert_array_equal(back.classes_, est.classes_)
    # the network alone works too, and deltaprop.load gives it back
    np.testing.assert_array_equal(deltaprop.load(path).predict(X_test), est.predict(X_test))
    with pytest.raises(ValueError, match="classifier"):
        MLPRegressor.load(path)


def test_estimator_save_keeps_hyperparameters_and_feature_names(tmp_path):
    pytest.importorskip("pandas")
    X, y = load_wine(return_X_y=True, as_frame=True)
    X = (X - X.mean()) / X.std()
    est = MLPClassifier(hidden_layer_sizes=(8, 4), activation={"name": "leaky_relu", "slope": 0.2},
                        optimizer=Momentum(0.05, momentum=0.8), epochs=30, early_stopping=True,
                        patience=50, random_state=0).fit(X, y)
    path = est.save(tmp_path / "wine.npz")
    back = MLPClassifier.load(path)
    params = back.get_params()
    opt = params.pop("optimizer")
    assert isinstance(opt, Momentum) and opt.hyperparameters() == {"learning_rate": 0.05, "momentum": 0.8}
    expected = est.get_params()
    expected.pop("optimizer")
    assert params == expected
    np.testing.assert_array_equal(back.feature_names_in_, X.columns)
    assert back.best_epoch_ == est.best_epoch_
    assert back.validation_loss_curve_ == est.validation_loss_curve_
    np.testing.assert_array_equal(back.predict(X), est.predict(X))
    with pytest.raises(ValueError, match="MLPClassifier"):
        MLPRegressor.load(path)


def test_regressor_and_multilabel_files(tmp_path):
    X, Y = _regression(n_out=2)
    reg = MLPRegressor(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(X, Y)
    back = MLPRegressor.load(deltaprop.save(reg.network_, tmp_path / "reg.npz"))
    np.testing.assert_array_equal(back.predict(X), reg.predict(X))
    Xm, Ym = make_multilabel_classification(n_samples=50, n_classes=3, random_state=0)
    ml = MLPClassifier(hidden_layer_sizes=(8,), epochs=3, random_state=0).fit(Xm, Ym)
    back = MLPClassifier.load(deltaprop.save(ml.network_, tmp_path / "ml.npz"))
    np.testing.assert_array_equal(back.predict(Xm), ml.predict(Xm))
    with pytest.raises(ValueError, match="MLPRegressor"):
        MLPClassifier.load(tmp_path / "reg.npz")


def test_from_network_wraps_a_network_trained_by_deltaprop(digits):
    X, X_test, y, y_test = digits
    net = deltaprop.Network([64, 32, 10], activation="tanh", output="softmax", cost="cross_entropy", seed=0)
    net.fit(X, y, epochs=10, optimizer="adam", learning_rate=0.01, seed=0)
    est = MLPClassifier.from_network(net, epochs=2)
    assert est.network_ is not net and est.hidden_layer_sizes == (32,) and est.activation == "tanh"
    np.testing.assert_array_equal(est.predict(X_test), net.predict(X_test))
    assert est.score(X_test, y_test) > 0.9 and est.n_iter_ == 10
    est.set_params(warm_start=True).fit(X, y)  # continues training: 10 + 2 epochs
    assert est.n_iter_ == 12
    with pytest.raises(ValueError, match="hidden_layer_sizes"):
        MLPClassifier.from_network(net, hidden_layer_sizes=(5,))
    with pytest.raises(ValueError, match="MLPRegressor"):
        MLPClassifier.from_network(deltaprop.Network([2, 1], output="identity"))


def test_pickle_and_joblib_keep_predictions_and_optimizer_state(tmp_path, digits):
    X, X_test, y, _ = digits
    kw = dict(hidden_layer_sizes=(16,), epochs=2, random_state=0, warm_start=True)
    est = MLPClassifier(**kw).fit(X, y)
    restored = pickle.loads(pickle.dumps(est))
    np.testing.assert_array_equal(restored.predict_proba(X_test), est.predict_proba(X_test))
    est.fit(X, y)
    restored.fit(X, y)  # Adam's moments and the random stream travelled with the pickle
    _assert_same_weights(est, restored)
    joblib.dump(est, tmp_path / "est.joblib")
    mapped = joblib.load(tmp_path / "est.joblib", mmap_mode="r")
    np.testing.assert_array_equal(mapped.predict(X_test), est.predict(X_test))
    mapped.partial_fit(X, y)  # writable again after a read-only memory map
    buf = io.BytesIO()
    joblib.dump(MLPRegressor(), buf)  # unfitted estimators pickle as well


# ----------------------------------------------------------------------------- errors
@pytest.mark.parametrize(
    "params, match",
    [
        (dict(hidden_layer_sizes=(0,)), "hidden_layer_sizes"),
        (dict(hidden_layer_sizes="big"), "hidden_layer_sizes"),
        (dict(epochs=0), "epochs"),
        (dict(batch_size=0), "batch_size"),
        (dict(batch_size="max"), "batch_size"),
        (dict(optimizer="rmsprop"), "optimizer"),
        (dict(optimizer=Adam(0.01), learning_rate=0.1), "learning_rate"),
        (dict(learning_rate=-1.0), "learning_rate"),
        (dict(l2=-1.0), "l2"),
        (dict(dtype="float16"), "dtype"),
        (dict(random_state="seed"), "random_state"),
        (dict(early_stopping=True, validation_fraction=1.5), "validation_fraction"),
        (dict(patience=0, early_stopping=True), "patience"),
        (dict(output="tanh"), "MLPRegressor"),
        (dict(cost="cross_entropy", output="sigmoid"), "softmax"),
        (dict(activation="swish"), "activation"),
        (dict(verbose=-1), "verbose"),
        (dict(tol=-1.0), "tol"),
        (dict(tol="small"), "tol"),
    ],
)
def test_bad_hyperparameters_raise_at_fit(params, match):
    est = MLPClassifier(**params)  # the constructor never validates (scikit-learn's rule)
    with pytest.raises(ValueError, match=match):
        est.fit(np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2)


def test_a_failed_refit_leaves_the_fitted_estimator_as_it_was():
    X, y = np.random.default_rng(0).normal(size=(30, 2)), np.arange(30) % 3
    est = MLPClassifier(hidden_layer_sizes=(3,), epochs=2, random_state=0).fit(X, y)
    before = est.predict_proba(X)
    for bad in (dict(output="tanh"), dict(l2=-1.0), dict(learning_rate=0.0)):
        with pytest.raises(ValueError):
            clone(est).set_params(**bad)  # the constructor and set_params never validate
            est.set_params(**bad).fit(X, y % 2)
        est.set_params(output=None, l2=0.0, learning_rate=None)
    np.testing.assert_array_equal(est.classes_, [0, 1, 2])
    np.testing.assert_array_equal(est.predict_proba(X), before)


def test_bad_targets():
    X = np.zeros((6, 2))
    with pytest.raises(ValueError, match="Unknown label type"):
        MLPClassifier().fit(X, np.linspace(0, 1, 6))
    with pytest.raises(ValueError, match="1 class"):
        MLPClassifier().fit(X, np.ones(6))
    with pytest.raises(ValueError, match="binary_cross_entropy"):
        MLPRegressor(output="sigmoid", cost="binary_cross_entropy").fit(X, np.full(6, 3.0))


def test_divergence_raises_and_keeps_the_epochs_that_ran():
    X, y = _regression()
    est = MLPRegressor(optimizer="sgd", learning_rate=10.0, epochs=50, random_state=0)
    with pytest.raises(TrainingDiverged, match="smaller learning rate"):
        est.fit(X * 100, y)
    assert len(est.loss_curve_) == est.n_iter_ < 50


# ----------------------------------------------------------------------------- scikit-learn's names
@pytest.mark.parametrize(
    "name, use",
    [("max_iter", "epochs="), ("learning_rate_init", "learning_rate="), ("alpha", "l2="),
     ("solver", "optimizer="), ("n_iter_no_change", "patience="), ("loss", "cost=")],
)
@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_scikit_learns_mlp_names_say_what_to_use(Estimator, name, use):
    where = re.escape(f"{Estimator.__name__}() got unexpected keyword argument {name!r} (use {use}")
    with pytest.raises(TypeError, match=where) as raised:  # (was: _BaseMLP.__init__() got ...)
        Estimator(**{name: 5})
    message = str(raised.value)
    assert isinstance(raised.value, ValueError) and "\n" not in message
    assert message.endswith("Its parameters are: " + ", ".join(Estimator._get_param_names()))


def test_unknown_parameters_are_named_in_the_constructor_and_set_params():
    with pytest.raises(TypeError, match=r"'epoch' \(did you mean epochs=\?\), 'colour'\. Its"):
        MLPClassifier(hidden_layer_sizes=(3,), epoch=3, colour="red")
    with pytest.raises(ValueError, match=r"MLPClassifier\.set_params\(\) .*'max_iter' \(use epochs=\)"):
        MLPClassifier().set_params(epochs=3, max_iter=3)
    search = GridSearchCV(MLPClassifier(hidden_layer_sizes=(2,)), {"max_iter": [5]}, cv=2)
    with pytest.raises(ValueError, match=r"'max_iter' \(use epochs=\)"):
        search.fit(np.random.default_rng(0).normal(size=(20, 2)), np.arange(20) % 2)
    # the explicit signature is what get_params, clone and help() read
    assert sorted(inspect.signature(MLPRegressor).parameters) == MLPRegressor._get_param_names()
    assert clone(MLPRegressor(epochs=7, tol=0.1)).get_params()["tol"] == 0.1


def test_every_constructor_parameter_is_annotated_and_documented():
    doc = MLPClassifier.__doc__
    for p in inspect.signature(MLPClassifier).parameters.values():
        assert p.kind is p.POSITIONAL_OR_KEYWORD and p.annotation is not p.empty, p.name
        assert re.search(rf"^    {p.name} : .+, default=", doc, re.M), f"{p.name} undocumented"
    for method in (MLPClassifier.fit, MLPClassifier.partial_fit, MLPClassifier.predict_proba,
                   MLPClassifier.predict_log_proba, MLPClassifier.predict, MLPRegressor.fit,
                   MLPRegressor.partial_fit, MLPRegressor.predict, MLPClassifier.save,
                   MLPClassifier.load, MLPClassifier.from_network, MLPClassifier.set_params):
        signature = inspect.signature(method)
        assert signature.return_annotation is not signature.empty, method.__qualname__
        assert all(p.annotation is not p.empty for p in signature.parameters.values()
                   if p.name not in ("self", "cls")), method.__qualname__
        assert "Parameters\n        ----------" in method.__doc__, method.__qualname__


# ----------------------------------------------------------------------------- ConvergenceWarning
def _quiet_fit(est, X, y, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        return est.fit(X, y, **kw)


def test_convergence_warning_when_the_epochs_run_out_while_the_loss_improves(digits):
    X, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=5, random_state=0)
    with pytest.warns(ConvergenceWarning) as caught:  # (was: no warning)
        est.fit(X, y)
    [warning] = caught
    assert str(warning.message) == (
        "MLPClassifier: maximum epochs (5) reached and the optimization hasn't converged yet: "
        "the training loss was still improving by more than tol=0.0001 within patience=10 epochs; "
        "increase epochs to train longer."
    )
    assert warning.filename == __file__  # points at the caller's fit
    with pytest.warns(ConvergenceWarning, match="MLPRegressor: maximum epochs"):
        MLPRegressor(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(*_regression(n=60))


@pytest.mark.parametrize("epochs, warns", [(4, True), (5, False), (20, False)])
def test_convergence_follows_scikit_learns_rule_on_tol_and_patience(epochs, warns):
    # With a tol larger than any improvement every epoch after the first is "no improvement":
    # scikit-learn's MLP has converged once more than n_iter_no_change (here patience=3) epochs
    # in a row did not improve, i.e. after 1 + 3 + 1 epochs, not after 1 + 3.
    X, y = _regression(n=60)
    est = MLPRegressor(hidden_layer_sizes=(4,), epochs=epochs, patience=3, tol=1e3, random_state=0)
    if warns:
        with pytest.warns(ConvergenceWarning, match="tol=1000 within patience=3"):
            est.fit(X, y)
    else:
        _quiet_fit(est, X, y)
    assert est.n_iter_ == epochs  # deltaprop never stops on the training loss


def test_no_convergence_warning_after_early_stopping_or_from_partial_fit(digits):
    X, _, y, _ = digits
    est = MLPClassifier(hidden_layer_sizes=(8,), epochs=200, early_stopping=True, patience=1,
                        random_state=0)
    _quiet_fit(est, X, y)
    assert est.stop_reason_ == "early_stopping"
    with pytest.warns(ConvergenceWarning, match="the validation loss was still improving"):
        est.set_params(epochs=2, patience=10).fit(X, y)  # early stopping on, but the epochs ran out
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        MLPClassifier(hidden_layer_sizes=(8,)).partial_fit(X, y, classes=np.unique(y)).partial_fit(X, y)


# ----------------------------------------------------------------------------- float32
def test_float32_estimators_return_float32_like_scikit_learns_mlp():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 3))
    targets = {
        "binary": (X[:, 0] > 0).astype(int),
        "multiclass": np.digitize(X[:, 0], [-0.5, 0.5]),
        "multilabel": np.column_stack([X[:, 0] > 0, X[:, 1] > 0]).astype(int),
    }
    for kind, y in targets.items():
        clf = MLPClassifier(hidden_layer_sizes=(4,), epochs=3, dtype="float32", random_state=0).fit(X, y)
        wide = MLPClassifier(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, y)
        for method in ("predict_proba", "predict_log_proba"):
            assert getattr(clf, method)(X.astype(np.float32)).dtype == np.float32, (kind, method)  # (was float64)
            assert getattr(clf, method)(X).dtype == np.float64, (kind, method)  # as scikit-learn
            assert getattr(wide, method)(X.astype(np.float32)).dtype == np.float64, (kind, method)
        if kind != "multilabel":
            np.testing.assert_allclose(clf.predict_proba(X.astype(np.float32)).sum(axis=1), 1, rtol=1e-6)
        assert clf.predict(X.astype(np.float32)).dtype == clf.classes_.dtype
    X_r, y_r = _regression(n=60, n_out=2)
    reg = MLPRegressor(hidden_layer_sizes=(4,), epochs=3, dtype="float32", random_state=0).fit(X_r, y_r)
    assert reg.predict(X_r.astype(np.float32)).dtype == np.float32  # (was float64)
    assert reg.predict(X_r).dtype == np.float64
    np.testing.assert_allclose(reg.predict(X_r.astype(np.float32)), reg.predict(X_r), rtol=1e-6)


# ---------------------------------------------------------------------------- full-batch optimizers
@pytest.mark.filterwarnings("error::sklearn.exceptions.ConvergenceWarning")
@pytest.mark.parametrize("optimizer", ["lbfgs", "cg"])
def test_full_batch_optimizers_fit_digits(optimizer):
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X / 16, y, test_size=0.3, random_state=0, stratify=y)
    clf = MLPClassifier(hidden_layer_sizes=(32,), optimizer=optimizer, epochs=400, l2=1.0, tol=1e-3,
                        random_state=0).fit(X_train, y_train)
    assert clf.stop_reason_ == "converged" and clf.n_iter_ < 400 == clf.epochs
    assert clf.score(X_test, y_test) > 0.93
    assert len(clf.loss_curve_) == clf.n_iter_


def test_full_batch_optimizer_out_of_iterations_warns_once():
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(16,), optimizer="lbfgs", epochs=3, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        clf.fit(X, y)
    found = [w for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert len(found) == 1 and "lbfgs" in str(found[0].message)
    assert clf.n_iter_ == 3 and len(clf.loss_curve_) == 3 and clf.stop_reason_ == "completed"


def test_full_batch_optimizer_mistakes_are_one_line_errors():
    X, y = load_digits(return_X_y=True)
    with pytest.raises(ValueError, match="takes no learning_rate"):
        MLPClassifier(optimizer="lbfgs", learning_rate=0.1).fit(X, y)
    with pytest.raises(ValueError, match="partial_fit needs a mini-batch optimizer"):
        MLPClassifier(optimizer="cg").partial_fit(X, y, classes=np.arange(10))


def test_batch_size_none_is_full_batch_gradient_descent():
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(8,), batch_size=None, epochs=2, random_state=0).fit(X, y)
    assert clf.n_iter_ == 2 and clf.network_.history[0]["epoch"] == 1


# ---------------------------------------------------------------- shuffle="blocks": row-sliceable sources


class _NoArray:
    """A row-sliceable source (shape, dtype, slices) that refuses to be loaded whole."""

    def __init__(self, X):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype

    def __getitem__(self, key):
        assert isinstance(key, slice), f"read by slices only, got {key!r}"
        return self.X[key]

    def __array__(self, *args, **kwargs):
        raise AssertionError("the whole source was loaded")


def _block_data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 5)).astype(np.float32)
    return X, (X[:, 0] > 0).astype(int) + (X[:, 1] > 1)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_fit_on_an_h5py_dataset_with_shuffle_blocks_gives_the_weights_of_the_array_in_ram(Estimator, tmp_path):
    h5py = pytest.importorskip("h5py")
    X, y = _block_data()
    y = y if Estimator is MLPClassifier else X[:, 0] * 2.0
    with h5py.File(tmp_path / "X.h5", "w") as f:
        f.create_dataset("X", data=X, chunks=(61, 5))
    params = dict(hidden_layer_sizes=(4,), epochs=3, batch_size=32, shuffle="blocks", block_size=100, random_state=3)
    with h5py.File(tmp_path / "X.h5", "r") as f:
        on_disk = Estimator(**params).fit(f["X"], y)
    in_ram = Estimator(**params).fit(X, y)
    assert on_disk.n_features_in_ == 5 and not hasattr(on_disk, "feature_names_in_")
    for a, b in zip([*on_disk.network_.weights, *on_disk.network_.biases], [*in_ram.network_.weights, *in_ram.network_.biases]):
        assert np.array_equal(a, b)
    assert on_disk.loss_curve_ == in_ram.loss_curve_
    shuffled = Estimator(**{**params, "shuffle": True, "block_size": None}).fit(X, y)
    assert not np.array_equal(shuffled.network_.weights[0], in_ram.network_.weights[0])


def test_fit_with_shuffle_blocks_reads_a_source_by_slices_without_loading_it_whole():
    X, y = _block_data()
    est = MLPClassifier(hidden_layer_sizes=(4,), epochs=2, batch_size=32, shuffle="blocks", block_size=128,
                        random_state=0).fit(_NoArray(X), y)
    assert est.n_iter_ == 2 and est.n_features_in_ == 5
    est.set_params(warm_start=True).fit(_NoArray(X), y)  # a second fit checks the feature count, reads nothing
    with pytest.raises(ValueError, match="X has 4 features, but MLPClassifier is expecting 5"):
        est.fit(_NoArray(X[:, :4]), y)


@pytest.mark.parametrize("Estimator", [MLPClassifier, MLPRegressor])
def test_predict_and_score_read_a_source_by_slices_and_equal_the_array_in_ram(Estimator, tmp_path):
    """predict, predict_proba, predict_log_proba and score on a source not in memory read it
    block by block (never whole) and give exactly what the same rows in RAM give."""
    from deltaprop import defaults

    X, y = _block_data()
    y = y if Estimator is MLPClassifier else X[:, 0] * 2.0
    est = Estimator(hidden_layer_sizes=(4,), epochs=3, random_state=0).fit(X, y)
    np.save(tmp_path / "X.npy", X)
    sources = [_NoArray(X), np.load(tmp_path / "X.npy", mmap_mode="r")]
    methods = ["predict", "predict_proba", "predict_log_proba"] if Estimator is MLPClassifier else ["predict"]
    import unittest.mock

    with unittest.mock.patch.object(defaults, "BLOCK_BYTES", 4 * 5 * 128):  # blocks of 128 rows
        for source in sources:
            for method in methods:
                got, expected = getattr(est, method)(source), getattr(est, method)(X)
                assert got.dtype == expected.dtype and np.array_equal(got, expected), (type(source), method)
            assert est.score(source, y) == est.score(X, y)
    with pytest.raises(ValueError, match=f"X has 4 features, but {Estimator.__name__} is expecting 5"):
        est.predict(_NoArray(X[:, :4]))
    from sklearn.exceptions import NotFittedError

    with pytest.raises(NotFittedError):
        Estimator().predict(_NoArray(X))


@pytest.mark.parametrize("params, X_of, message", [
    (dict(shuffle="block"), None, "shuffle must be True, False or 'blocks', got 'block'"),
    (dict(block_size=100), None, "block_size=100 applies only with shuffle='blocks'"),
    (dict(shuffle="blocks", block_size=0), None, "block_size must be a positive integer, got 0"),
    (dict(shuffle="blocks", early_stopping=True), None, "early_stopping holds out rows of X in memory"),
    (dict(shuffle="blocks"), lambda X: _NoArray(X[:, 0]), r"X must be 2-D \(n_samples, n_features\), got a _NoArray of shape \(600,\)"),
    (dict(shuffle="blocks"), lambda X: _NoArray(X.astype(str)), "X must be numeric, got a _NoArray of dtype <U"),
    (dict(shuffle="blocks"), lambda X: _NoArray(X[:500]), "X has 500 examples but y has 600"),
])
def test_shuffle_blocks_and_block_size_are_checked_at_fit_with_one_line_errors(params, X_of, message):
    X, y = _block_data()
    est = MLPClassifier(hidden_layer_sizes=(3,), epochs=1, **params)  # stored unchanged, checked at fit
    assert est.get_params()["shuffle"] == params.get("shuffle", True)
    with pytest.raises(ValueError, match=message):
        est.fit(_NoArray(X) if X_of is None else X_of(X), y)


def test_the_networks_history_says_why_the_estimators_fit_ended():
    X, y = load_digits(return_X_y=True)
    clf = MLPClassifier(hidden_layer_sizes=(16,), early_stopping=True, patience=3, optimizer="sgd",
                        learning_rate=0.3, epochs=200, random_state=0).fit(X[:600], y[:600])
    assert clf.stop_reason_ == "early_stopping"
    assert (clf.network_.history.stop_reason, clf.network_.history.best_epoch) == ("early_stopping", clf.best_epoch_)
