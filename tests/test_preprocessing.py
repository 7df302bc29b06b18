import json

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from deltaprop.datasets import load_dataset
from deltaprop.preprocessing import Preprocessing, PreprocessingError, default_preprocessing


@pytest.fixture
def X(rng):
    X = rng.normal(loc=[1.0, -3.0, 50.0, 7.0], scale=[2.0, 0.5, 10.0, 1.0], size=(200, 4))
    X[:, 3] = 7.0  # a constant feature
    return X


def test_standardize_gives_zero_mean_unit_std_and_scale_one_for_constant_features(X):
    p = Preprocessing("standardize").fit(X)
    Z = p.transform(X)
    np.testing.assert_allclose(Z[:, :3].mean(axis=0), 0.0, atol=1e-12)
    np.testing.assert_allclose(Z[:, :3].std(axis=0), 1.0, rtol=1e-12)
    assert p.scale[3] == 1.0
    assert np.all(Z[:, 3] == 0.0)
    np.testing.assert_allclose(p.mean, X.mean(axis=0), rtol=1e-14)
    assert p.n_features == 4


def test_standardize_applies_training_statistics_to_new_data(X, rng):
    p = Preprocessing("standardize").fit(X)
    new = rng.normal(size=(3, 4))
    np.testing.assert_allclose(p.transform(new), (new - X.mean(0)) / np.where(X.std(0) > 0, X.std(0), 1.0))


def test_scale_divides_by_the_given_or_fitted_maximum():
    X = np.array([[0.0, 16.0], [8.0, 4.0]])
    given_max = Preprocessing("scale", max_value=16).fit(X)
    np.testing.assert_array_equal(given_max.transform(X), X / 16)
    fitted = Preprocessing("scale").fit(np.array([[-20.0, 5.0], [3.0, 1.0]]))
    assert fitted.max_value == 20.0
    np.testing.assert_array_equal(fitted.transform(X), X / 20)
    assert Preprocessing("scale").fit(np.zeros((2, 2))).max_value == 1.0


def test_none_is_the_identity_and_returns_a_copy(X):
    p = Preprocessing("none").fit(X)
    out = p.transform(X)
    np.testing.assert_array_equal(out, X)
    out[0, 0] = 123.0
    assert X[0, 0] != 123.0


def test_fit_transform_equals_fit_then_transform(X):
    np.testing.assert_array_equal(
        Preprocessing().fit_transform(X), Preprocessing().fit(X).transform(X)
    )


def test_float32_input_stays_float32_integers_become_float64(X):
    p = Preprocessing().fit(X)
    assert p.transform(X.astype(np.float32)).dtype == np.float32
    assert p.transform(X.astype(np.int64)).dtype == np.float64


def test_transform_checks_the_feature_count(X):
    p = Preprocessing().fit(X)
    with pytest.raises(ValueError, match=r"X has 3 features per example but .* fitted on 4"):
        p.transform(X[:, :3])
    with pytest.raises(ValueError, match=r"reshape\(1, -1\)"):
        p.transform(X[0])


def test_transform_before_fit_is_a_clear_error():
    with pytest.raises(PreprocessingError, match="not fitted yet; call fit"):
        Preprocessing("standardize").transform(np.ones((2, 2)))


@pytest.mark.parametrize(
    "bad, message",
    [
        (np.array([["a", "b"]]), "must be numeric"),
        (np.array([[1.0, np.nan]]), r"non-finite value at row 0, column 1"),
        (np.empty((0, 3)), "empty X"),
        (np.empty((5, 0)), r"no feature columns \(shape \(5, 0\)\)"),
    ],
)
def test_fit_rejects_bad_input(bad, message):
    with pytest.raises(PreprocessingError, match=message):
        Preprocessing().fit(bad)


def test_bad_kind_and_max_value():
    with pytest.raises(ValueError, match="unknown preprocessing 'minmax'; expected one of: standardize, scale, none"):
        Preprocessing("minmax")
    with pytest.raises(ValueError, match="max_value must be a positive"):
        Preprocessing("scale", max_value=0)
    with pytest.raises(ValueError, match="only applies to kind 'scale'"):
        Preprocessing("standardize", max_value=3)


@pytest.mark.parametrize("kind", ["standardize", "scale", "none"])
def test_state_round_trip_is_exact_and_json_able(X, kind, rng):
    p = Preprocessing(kind).fit(X)
    meta, arrays = p.to_state()
    json.dumps(meta)
    assert all(isinstance(a, np.ndarray) for a in arrays.values())
    q = Preprocessing.from_state(json.loads(json.dumps(meta)), arrays)
    assert q == p
    new = rng.normal(size=(5, 4))
    np.testing.assert_array_equal(q.transform(new), p.transform(new))


def test_equality_looks_at_the_statistics(X):
    p = Preprocessing().fit(X)
    q = Preprocessing().fit(X + 1.0)
    assert p != q
    assert p != Preprocessing("none").fit(X)
    assert p == p.copy()
    copy = p.copy()
    copy.mean[0] = 99.0
    assert p.mean[0] != 99.0 and copy != p


@pytest.mark.parametrize(
    "meta, arrays, message",
    [
        ({"kind": "whiten"}, {}, "unknown preprocessing 'whiten'"),
        ({"kind": "standardize", "n_features": 2}, {"mean": np.zeros(2)}, "missing its 'scale' array"),
        ({"kind": "standardize", "n_features": 2}, {"mean": np.zeros(3), "scale": np.ones(2)},
         r"'mean' must be a float array of shape \(2,\)"),
        ({"kind": "standardize", "n_features": 2}, {"mean": np.zeros(2), "scale": np.zeros(2)},
         "'scale' has non-finite or invalid values"),
        ({"kind": "scale", "n_features": 2, "max_value": -1}, {}, "max_value must be a positive"),
        ({"kind": "none", "n_features": "2"}, {}, "n_features must be a positive int"),
        ("standardize", {}, "must be a dict with a 'kind'"),
    ],
)
def test_from_state_rejects_inconsistent_state(meta, arrays, message):
    with pytest.raises(PreprocessingError, match=message):
        Preprocessing.from_state(meta, arrays)


def test_default_preprocessing_scales_images_and_standardizes_the_rest():
    digits = default_preprocessing(load_dataset("digits"))
    assert digits.kind == "scale" and digits.max_value == 16.0 and digits.n_features == 64
    moons_data = load_dataset("moons")
    moons = default_preprocessing(moons_data)
    assert moons.kind == "standardize"
    np.testing.assert_allclose(moons.transform(moons_data.X_train).mean(axis=0), 0.0, atol=1e-12)


@given(
    arrays(np.float64, st.tuples(st.integers(2, 20), st.integers(1, 5)),
           elements=st.floats(-1e6, 1e6, allow_nan=False))
)
def test_standardize_is_invertible(X):
    p = Preprocessing().fit(X)
    np.testing.assert_allclose(p.transform(X) * p.scale + p.mean, X, atol=1e-6 * (1 + np.abs(X).max()))


def test_standardize_measures_columns_beyond_float64_squares(rng):
    """Squares of 1e160 overflow float64 and squares of 1e-200 underflow: such columns are
    standardised in units of a power of two, so their statistics are right (and exact multiples
    for a power-of-two factor), while ordinary columns stay StandardScaler's, bit for bit."""
    from sklearn.preprocessing import StandardScaler

    base = rng.normal(loc=0.3, size=(300, 6))
    X = base * np.array([1e160, 1e300, 1e-200, 2.0**600, 1.0, 1e-3])
    p = Preprocessing("standardize").fit(X)
    assert np.isfinite(p.mean).all() and np.isfinite(p.scale).all()
    reference = Preprocessing("standardize").fit(base)
    factor = np.array([1e160, 1e300, 1e-200, 2.0**600])
    np.testing.assert_allclose(p.mean[:4], reference.mean[:4] * factor, rtol=1e-13)
    np.testing.assert_allclose(p.scale[:4], reference.scale[:4] * factor, rtol=1e-13)
    assert p.mean[3] == reference.mean[3] * 2.0**600 and p.scale[3] == reference.scale[3] * 2.0**600
    ordinary = StandardScaler().fit(X[:, 4:])
    np.testing.assert_array_equal(p.mean[4:], ordinary.mean_)
    np.testing.assert_array_equal(p.scale[4:], ordinary.scale_)
    np.testing.assert_allclose(p.transform(X)[:, :4], reference.transform(base)[:, :4], atol=1e-12)


def test_a_feature_near_1e160_trains_like_the_same_feature_near_1(tmp_path, rng):
    """The default preprocessing of a CSV standardises a column near 1e160 as it does the same
    column near 1, so the same network trains to the same weights (not to chance)."""
    import deltaprop as dp

    X = rng.normal(size=(200, 3))
    y = (X[:, 0] > 0).astype(int)  # the label hangs on the huge column
    nets = []
    for factor in (1.0, 1e160):
        path = tmp_path / f"data_{factor:g}.csv"
        rows = [",".join(repr(float(v)) for v in (x[0] * factor, x[1], x[2])) + f",{c}" for x, c in zip(X, y)]
        path.write_text("a,b,c,label\n" + "\n".join(rows) + "\n")
        ds = load_dataset(f"csv:{path}", seed=0)
        net = dp.Network([3, 8, 1], activation="tanh", output="sigmoid", cost="binary_cross_entropy", seed=0)
        net.preprocessing = default_preprocessing(ds)
        net.fit(ds.X_train, ds.labels(ds.y_train), epochs=20, learning_rate=0.5, optimizer="sgd", seed=0)
        nets.append((net, ds))
    (small, ds_small), (huge, ds_huge) = nets
    for W_small, W_huge in zip(small.weights, huge.weights):
        np.testing.assert_allclose(W_huge, W_small, atol=1e-9)
    assert huge.evaluate(ds_huge.X_test, ds_huge.labels(ds_huge.y_test))["accuracy"] > 0.9


def _fitted_on_small_spread():
    X = np.random.default_rng(0).normal(scale=0.5, size=(50, 3))
    return Preprocessing("standardize").fit(X)  # every scale < 1: 1.7e308 / scale is inf


def test_transform_refuses_values_it_takes_beyond_float64_naming_row_and_column():
    p = _fitted_on_small_spread()
    X = np.zeros((3, 3))
    X[2, 1] = 1.7e308
    with pytest.raises(PreprocessingError, match=r"^X row 2, column 1 \('b'\): 1\.7e\+308 is too large "
                       r"for the fitted standardize preprocessing .* is inf in float64"):
        p.transform(X, feature_names=["a", "b", "c"])
    with pytest.raises(PreprocessingError, match=r"^X row 2, column 1: 1\.7e\+308 is too large"):
        p.transform(X)
    with pytest.raises(PreprocessingError, match=r"^X row 0, column 0: .* is inf in float32"):
        p.transform(np.full((1, 3), 3e38, dtype=np.float32))
    scale = Preprocessing("scale", max_value=0.5).fit(X[:2])
    with pytest.raises(PreprocessingError, match=r"row 2, column 1: .*\(x / 0\.5 is inf"):
        scale.transform(X)
    with pytest.raises(PreprocessingError, match=r"non-finite value at row 0, column 2"):
        p.transform(np.array([[0.0, 0.0, np.nan]]))


@pytest.mark.parametrize("method", ["predict", "forward", "evaluate", "fit", "validation"])
def test_every_method_that_takes_X_refuses_inputs_that_overflow_its_preprocessing(method):
    """A network applies its preprocessing in every X-taking method; values it takes beyond
    float64 are refused there, not turned into NaN outputs or a 'smaller learning rate' hint."""
    import deltaprop as dp

    net = dp.Network([3, 4, 1], output="sigmoid", cost="binary_cross_entropy", seed=0)
    net.preprocessing = _fitted_on_small_spread()
    X = np.random.default_rng(1).normal(size=(6, 3))
    y = np.array([0, 1] * 3)
    bad = X.copy()
    bad[4, 2] = -1.7e308
    calls = {
        "predict": lambda: net.predict(bad),
        "forward": lambda: net.forward(bad),
        "evaluate": lambda: net.evaluate(bad, y),
        "fit": lambda: net.fit(bad, y, epochs=1),
        "validation": lambda: net.fit(X, y, epochs=1, validation=(bad, y)),
    }
    with pytest.raises(PreprocessingError, match=r"row 4, column 2.*too large for the fitted standardize"):
        calls[method]()
