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
