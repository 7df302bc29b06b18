"""The seams between features, where one fact used to live in several places and a wrong number
came out with exit 0: column order in predict, labels through float, the task rule, the input
contract on a loaded model, pixel data by value, and the split that explain and the report use."""

import json
import os
import subprocess
import sys

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import defaults
from deltaprop.datasets import load_dataset, load_recorded
from deltaprop.modelfile import load, read_header

FAST = ["--layers", "16", "--epochs", "3"]


def run(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "deltaprop", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )


def write_csv(path, header, rows):
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(map(str, r)) for r in rows) + "\n")
    return path


def digits_csv(path, label_first=True):
    """scikit-learn's digits as a Kaggle-style CSV: the label in column 0, then pixel0..63."""
    ds = load_dataset("digits", seed=0, test_fraction=0, validation_fraction=0)
    X, y = ds.X_train.astype(int), ds.labels(ds.y_train)
    names = [f"pixel{i}" for i in range(64)]
    if label_first:
        return write_csv(path, ["label", *names], [[lab, *row] for lab, row in zip(y, X)])
    return write_csv(path, [*names, "label"], [[*row, lab] for lab, row in zip(y, X)])


def predicted_labels(result):
    assert result.returncode == 0, result.stderr
    return [line.split(",")[0] for line in result.stdout.strip().splitlines()[1:]]


def test_label_first_and_reordered_csv_predict_as_evaluate_scores(tmp_path):
    data = digits_csv(tmp_path / "train.csv")
    out = tmp_path / "run"
    trained = run("train", "--dataset", f"csv:{data}", "--label", "label", *FAST, "--out", out)
    assert trained.returncode == 0, trained.stderr
    net = load(out / "model.npz")
    assert net.feature_names == [f"pixel{i}" for i in range(64)]
    # (the data file is not beside the model, so the user confirms it: deltaprop.recorded)
    evaluated = json.loads(run("evaluate", out / "model.npz", "--dataset", f"csv:{data}", "--json").stdout)

    ds = load_recorded(read_header(out / "model.npz")["training"]["options"])
    truth = [str(v) for v in ds.labels(ds.y_test)]
    X = ds.X_test.astype(int)
    names = ds.feature_names
    # Kaggle's layout (label first) and a shuffled column order: the same predictions
    as_kaggle = write_csv(tmp_path / "kaggle.csv", ["label", *names], [[t, *r] for t, r in zip(truth, X)])
    order = np.random.default_rng(0).permutation(64)
    shuffled = write_csv(tmp_path / "shuffled.csv", [names[i] for i in order], X[:, order])
    for path in (as_kaggle, shuffled):
        result = run("predict", out / "model.npz", path)
        labels = predicted_labels(result)
        accuracy = np.mean([p == t for p, t in zip(labels, truth)])
        assert accuracy == pytest.approx(evaluated["accuracy"], abs=1e-12)
    assert "ignoring 1 column(s) the model was not trained on: label" in run(
        "predict", out / "model.npz", as_kaggle).stderr
    # a missing column is a one-line error naming it
    missing = write_csv(tmp_path / "missing.csv", names[1:], X[:, 1:])
    refused = run("predict", out / "model.npz", missing)
    assert refused.returncode == 2 and "has no column 'pixel0'" in refused.stderr


def test_array_models_need_the_exact_column_count(tmp_path):
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(120, 5)), rng.integers(0, 2, 120)
    np.savez(tmp_path / "d.npz", X=X, y=y)
    out = tmp_path / "run"
    assert run("train", "--dataset", f"npz:{tmp_path / 'd.npz'}", *FAST, "--out", out).returncode == 0
    net = load(out / "model.npz")
    assert net.feature_names == [f"x{i}" for i in range(5)]
    headerless = tmp_path / "six.csv"
    headerless.write_text("\n".join(",".join(map(str, r)) for r in np.hstack([X, y[:, None]])[:4]) + "\n")
    refused = run("predict", out / "model.npz", headerless)
    assert refused.returncode == 2 and "expects exactly 5 features" in refused.stderr
    exact = tmp_path / "five.csv"
    exact.write_text("\n".join(",".join(map(str, r)) for r in X[:4]) + "\n")  # no header: 4 rows, all data
    assert len(predicted_labels(run("predict", out / "model.npz", exact))) == 4


@pytest.mark.parametrize("labels", [[2**53, 2**53 + 1, 2**63 - 1]])
def test_int64_labels_round_trip_exactly_through_the_cli(tmp_path, labels):
    rng = np.random.default_rng(0)
    index = np.repeat(np.arange(3), 40)
    X = index[:, None] * 3.0 + rng.normal(scale=0.3, size=(120, 2))
    rows = [[*x, labels[i]] for x, i in zip(X, index)]
    data = write_csv(tmp_path / "big.csv", ["a", "b", "label"], rows)
    out = tmp_path / "run"
    trained = run("train", "--dataset", f"csv:{data}", "--layers", "8", "--epochs", "20", "--out", out)
    assert trained.returncode == 0, trained.stderr
    net = load(out / "model.npz")
    assert net.classes_.dtype == np.int64 and net.classes_.tolist() == labels
    inputs = write_csv(tmp_path / "in.csv", ["a", "b"], X)
    predicted = predicted_labels(run("predict", out / "model.npz", inputs))
    assert {int(p) for p in predicted} <= set(labels)
    right = np.mean([int(p) == labels[i] for p, i in zip(predicted, index)])
    assert right > 0.9


def test_25_integer_classes_train_a_classifier_and_task_overrides(tmp_path):
    rng = np.random.default_rng(0)
    index = np.repeat(np.arange(25), 12)
    X = np.stack([np.cos(index / 4.0), np.sin(index / 4.0)], axis=1) * (1 + index[:, None] / 25)
    data = write_csv(tmp_path / "many.csv", ["u", "v", "label"], [[*x, 3 * i] for x, i in zip(X + rng.normal(scale=0.01, size=X.shape), index)])
    out = tmp_path / "run"
    trained = run("train", "--dataset", f"csv:{data}", *FAST, "--out", out)
    assert trained.returncode == 0, trained.stderr
    assert "task classification (inferred: integer labels are classes" in trained.stdout
    net = load(out / "model.npz")
    assert net.sizes[-1] == 25 and net.g[-1].name == "softmax" and len(net.classes_) == 25
    regression = run("train", "--dataset", f"csv:{data}", *FAST, "--task", "regression", "--out", tmp_path / "r")
    assert regression.returncode == 0, regression.stderr
    assert "task regression (chosen explicitly)" in regression.stdout
    assert load(tmp_path / "r" / "model.npz").classes_ is None
    # the recorded task travels with the run: evaluate reloads the data as regression targets
    evaluated = run("evaluate", tmp_path / "r" / "model.npz", "--dataset", f"csv:{data}", "--json")
    assert evaluated.returncode == 0, evaluated.stderr
    assert json.loads(evaluated.stdout)["accuracy"] is None
    # a task that the data cannot have is a one-line error, not ignored
    for args in (["--dataset", "moons", "--task", "regression"], ["--dataset", f"csv:{data}", "--task", "multilabel"]):
        refused = run("train", *args, *FAST, "--out", tmp_path / "x")
        assert refused.returncode == 2 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr


def test_one_and_one_point_zero_labels_are_an_error_not_one_class(tmp_path):
    data = write_csv(tmp_path / "mixed.csv", ["x", "label"], [[0, "1"], [1, "1.0"], [2, "0"], [3, "0"]])
    result = run("train", "--dataset", f"csv:{data}", *FAST, "--out", tmp_path / "run")
    assert result.returncode == 2 and "'1' and '1.0' are the same number" in result.stderr


def test_loaded_model_means_the_same_x_everywhere(tmp_path):
    """On a model trained by the CLI with standardisation, evaluate, cost, backward and explain
    take the same raw X and agree to 1e-12."""
    out = tmp_path / "run"
    trained = run("train", *FAST, "--preprocessing", "standardize", "--out", out)
    assert trained.returncode == 0, trained.stderr
    net = load(out / "model.npz")
    assert net.preprocessing.kind == "standardize"
    ds = load_recorded(read_header(out / "model.npz")["training"]["options"])
    X, labels = ds.X_test, ds.labels(ds.y_test)
    Y = dp.one_hot(ds.y_test, 10)
    evaluated = net.evaluate(X, labels)["cost"]
    assert net.cost(X, Y) == pytest.approx(evaluated, abs=1e-12)
    assert net.cost(X, labels) == pytest.approx(evaluated, abs=1e-12)
    assert net.backward(X, Y).cost == pytest.approx(evaluated, abs=1e-12)
    e = dp.explain(net, X, labels, weight=(1, 0, 20))
    assert e.derivation.batch_cost == pytest.approx(evaluated, abs=1e-12)
    assert e.derivation.a[0][20] == pytest.approx(net.prepare_inputs(X)[0, 20], abs=1e-12)  # a^0 is preprocessed
    assert dp.gradcheck(net, X[:20], Y[:20]).max_relative_error < 1e-6
    assert dp.sensitivity(net, X, Y).cost == pytest.approx(evaluated, abs=1e-12)
    assert dp.explain_layer(net, X, Y, layer=2).cost == pytest.approx(evaluated, abs=1e-12)
    net32 = net.copy(dtype="float32")  # explained through a float64 copy: same preprocessing
    e32 = dp.explain(net32, X, labels, weight=(1, 0, 20))
    assert e32.derivation.batch_cost == pytest.approx(net32.evaluate(X, labels)["cost"], rel=1e-5)


def test_flattened_uint8_images_get_pixel_scaling_like_image_shaped_ones(tmp_path):
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, size=(60, 28, 28)).astype(np.uint8)
    y = rng.integers(0, 3, 60)
    np.savez(tmp_path / "flat.npz", X=images.reshape(60, -1), y=y)
    np.savez(tmp_path / "square.npz", X=images, y=y)
    flat, square = (load_dataset(f"npz:{tmp_path / n}.npz", seed=0) for n in ("flat", "square"))
    assert flat.pixel_max == square.pixel_max == 255.0 and flat.image_shape == (28, 28)
    from deltaprop.preprocessing import default_preprocessing

    for ds in (flat, square):
        prep = default_preprocessing(ds)
        assert prep.kind == "scale" and prep.max_value == 255.0
        assert prep.transform(ds.X_train).max() <= 1.0
    out = tmp_path / "run"
    trained = run("train", "--dataset", f"npz:{tmp_path / 'flat.npz'}", *FAST, "--out", out)
    assert trained.returncode == 0, trained.stderr
    assert "inputs: x / 255 (default: pixel data)" in trained.stdout
    assert load(out / "model.npz").preprocessing.max_value == 255.0
    forced = run("train", "--dataset", f"npz:{tmp_path / 'flat.npz'}", *FAST, "--preprocessing", "none",
                 "--out", tmp_path / "none")
    assert forced.returncode == 0, forced.stderr
    assert load(tmp_path / "none" / "model.npz").preprocessing.kind == "none"


def test_explain_and_report_show_the_same_number_for_the_same_weight(tmp_path):
    out = tmp_path / "run"
    trained = run("train", *FAST, "--out", out)
    assert trained.returncode == 0, trained.stderr
    from deltaprop.report.builder import _derivations, choose_examples
    from deltaprop.report.mathhtml import markdown_to_html

    net = load(out / "model.npz")
    ds = load_recorded(read_header(out / "model.npz")["training"]["options"])
    row = choose_examples(net, ds, 1)[0]
    X, y = ds.split(defaults.EXPLAIN_SPLIT)
    grad = net.backward(X[row : row + 1], ds.labels(y)[row : row + 1]).weights[1]
    j, k = (int(i) for i in np.unravel_index(np.abs(grad).argmax(), grad.shape))  # a live path
    from_report = _derivations(net, ds, [f"w-2-{j}-{k}"], [row])[0][f"w-2-{j}-{k}"][0]["3b1b"]
    explained = run("explain", out / "model.npz", "--weight", f"2:{j},{k}", "--sample", row)
    assert explained.returncode == 0, explained.stderr
    e = dp.explain(net, X, ds.labels(y), weight=(2, j, k), sample=row, training=True)  # train split rows
    assert e.value != 0
    assert explained.stdout == str(e)  # the CLI's default split is the report's
    assert from_report == markdown_to_html(e.to_markdown())


def test_predict_headers_by_name_numeric_names_and_old_models(tmp_path, capsys):
    """A header row is read as one when it spells the model's names (even numeric ones); a model
    file from before names keeps the old rule: one extra last column is ignored, with a note."""
    from deltaprop.cli.predict import read_inputs

    numeric = write_csv(tmp_path / "n.csv", ["2", "1", "3"], [[20, 10, 30], [21, 11, 31]])
    X = read_inputs(numeric, 3, ["1", "2", "3"])
    np.testing.assert_array_equal(X, [[10, 20, 30], [11, 21, 31]])  # by name, in the model's order
    headerless = write_csv(tmp_path / "h.csv", ["5", "6", "7"], [[8, 9, 10]])
    assert read_inputs(headerless, 3, None).shape == (2, 3)  # no names: the first row is data
    old = write_csv(tmp_path / "old.csv", ["a", "b", "label"], [[1, 2, 0], [3, 4, 1]])
    np.testing.assert_array_equal(read_inputs(old, 2, None), [[1, 2], [3, 4]])
    assert "records no column names; ignoring the last column 'label'" in capsys.readouterr().err
