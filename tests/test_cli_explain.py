"""``deltaprop explain``: the demo chain, a saved model, and one-line errors (run in-process)."""

import re

import numpy as np
import pytest

from deltaprop.cli import main
from deltaprop.explain import demo_chain, explain, explain_layer, sensitivity


def run(capsys, *args):
    """(exit code, stdout, stderr) of ``deltaprop ARGS``."""
    with pytest.raises(SystemExit) as exit_info:
        main(list(args))
    out, err = capsys.readouterr()
    return exit_info.value.code, out, err


def backward_value(text):
    line = next(s for s in text.splitlines() if "← net.backward" in s)
    return float(re.findall(r"-?\d+\.\d+(?:e[-+]\d+)?", line.split("←")[0])[-1])


# ----------------------------------------------------------------------------- --demo
def test_demo_explains_w_L_of_the_one_neuron_chain(capsys):
    code, out, err = run(capsys, "explain", "--demo")
    assert code == 0 and err == ""
    net, X, Y = demo_chain()
    assert out == str(explain(net, X, Y, weight=(3, 0, 0), sample=0))
    assert out.startswith("∂C_0/∂w^(L): ")
    assert backward_value(out) == pytest.approx(net.backward(X, Y).weights[2][0, 0], rel=1e-11)


def test_demo_in_other_notations_and_markdown(capsys):
    code, out, _ = run(capsys, "explain", "--demo", "--notation", "ng-ml", "--format", "markdown")
    assert code == 0
    assert out.startswith("#### $\\frac{\\partial \\mathrm{cost}(i)}{\\partial \\Theta^{(3)}_{1,1}}$")
    code, out, _ = run(capsys, "explain", "--demo", "--bias", "1:0", "--notation", "nielsen")
    assert code == 0 and out.startswith("∂C_x/∂b^2_1: ")
    code, out, _ = run(capsys, "explain", "--demo", "--weight", "1:0,0", "--l2", "0.5")
    assert code == 0 and "λ/m w^(L-2)" in out


def test_demo_layer_and_sensitivity(capsys):
    net, X, Y = demo_chain()
    code, out, _ = run(capsys, "explain", "--demo", "--layer", "2")
    assert code == 0 and out == str(explain_layer(net, X, Y, layer=2))
    code, out, _ = run(capsys, "explain", "--demo", "--sensitivity", "--top", "3")
    assert code == 0 and out == str(sensitivity(net, X, Y, top=3))


@pytest.mark.parametrize(
    "args, message",
    [
        (["--demo", "--weight", "2:0,0", "--bias", "2:0"], "give one of --weight, --bias, --layer or --sensitivity"),
        (["--demo", "--weight", "2:0"], "--weight must look like L:J,K"),
        (["--demo", "--weight", "x:1,2"], "--weight must look like L:J,K"),
        (["--demo", "--bias", "2:0,1"], "--bias must look like L:J"),
        (["--demo", "--weight", "4:0,0"], r"layer l .* = 4 is out of range; valid: 1\.\.3"),
        (["--demo", "--weight", "1:1,0"], r"valid: 0\.\.0"),
        (["--demo", "--sample", "1"], r"sample .* = 1 is out of range; valid: 0\.\.0"),
        (["--demo", "--notation", "goodfellow"], "unknown notation 'goodfellow'; choose one of: 3b1b, nielsen, ng-ml, ng-dl"),
        (["--demo", "--format", "html"], "--format must be text or markdown"),
        (["--demo", "--l2", "-1"], "l2 must be a non-negative number"),
        (["--demo", "--dataset", "digits"], "--demo has its own single example"),
        (["model.npz", "--demo"], "--demo builds its own network"),
        (["--weight", "1:0,0"], "give a MODEL file"),
        (["--demo", "--layer", "1", "--sample", "0"], "--layer explains the batch"),
    ],
)
def test_mistakes_are_one_line_errors(capsys, args, message):
    code, out, err = run(capsys, "explain", *args)
    assert code == 2 and out == ""
    assert err.startswith("error: ") and err.count("\n") == 1
    assert re.search(message, err), err


# ----------------------------------------------------------------------------- MODEL
@pytest.fixture
def model_file(tmp_path):
    """A 64-8-10 digits classifier saved with its preprocessing and its training options."""
    modelfile = pytest.importorskip("deltaprop.modelfile")
    datasets = pytest.importorskip("deltaprop.datasets")
    preprocessing = pytest.importorskip("deltaprop.preprocessing")
    from deltaprop import Network

    ds = datasets.load_dataset("digits", seed=0)
    net = Network([64, 8, 10], activation="relu", output="softmax", cost="cross_entropy", seed=3)
    rng = np.random.default_rng(0)
    net.biases = [rng.normal(scale=0.3, size=b.shape) for b in net.biases]
    net.classes_ = np.asarray(ds.classes)
    net.preprocessing = preprocessing.default_preprocessing(ds)
    with_dataset = modelfile.save(
        net, tmp_path / "model.npz",
        extra_meta={"training": {"options": {"dataset": "digits", "seed": 0, "test_fraction": 0.2}}},
    )
    without = modelfile.save(net, tmp_path / "bare.npz")
    return with_dataset, without, net, ds


def test_model_weight_of_one_test_example(capsys, model_file):
    from deltaprop import one_hot

    path, _, net, ds = model_file
    X = net.prepare_inputs(ds.X_test)
    Y = one_hot(ds.y_test, 10)
    k = int(np.argmax(net.feedforward(X[4:5])[1][1][0]))  # a ReLU that is on for this example
    code, out, err = run(capsys, "explain", str(path), "--weight", f"2:3,{k}", "--sample", "4", "--notation", "ng-dl",
                         "--split", "test")
    assert code == 0, err
    e = explain(net, ds.X_test, Y, weight=(2, 3, k), sample=4, notation="ng-dl")  # raw X: the input contract
    assert out == str(e)
    expected = net.backward(ds.X_test[4:5], Y[4:5]).weights[1][3, k]
    assert expected != 0
    assert backward_value(out) == pytest.approx(expected, rel=1e-11)


def test_model_bias_averaged_over_the_training_split_by_default(capsys, model_file):
    path, _, _, ds = model_file
    code, out, err = run(capsys, "explain", str(path), "--bias", "1:2", "--l2", "0.1")
    assert code == 0, err
    assert f"averaged over the batch of m = {len(ds.X_train)} examples with L2 λ = 0.1" in out
    code, out, err = run(capsys, "explain", str(path), "--bias", "1:2", "--split", "test")
    assert code == 0, err
    assert f"averaged over the batch of m = {len(ds.X_test)} examples" in out


def test_model_without_recorded_dataset_needs_dataset(capsys, model_file):
    _, bare, _, _ = model_file
    code, _, err = run(capsys, "explain", str(bare), "--weight", "1:0,0")
    assert code == 2 and "does not record the data set" in err and "--dataset" in err
    code, out, err = run(capsys, "explain", str(bare), "--weight", "1:0,0", "--dataset", "digits", "--sample", "0")
    assert code == 0, err
    assert out.startswith("∂C_0/∂w^(L-1)_{0,0}")


def test_model_needs_something_to_explain(capsys, model_file):
    path, _, _, _ = model_file
    code, _, err = run(capsys, "explain", str(path))
    assert code == 2 and "say what to explain" in err


def test_model_layer_and_sensitivity(capsys, model_file):
    path, _, _, _ = model_file
    code, out, err = run(capsys, "explain", str(path), "--layer", "1", "--notation", "ng-ml")
    assert code == 0, err
    assert "D^(1) (8 × 65), column 0 the bias:" in out
    code, out, err = run(capsys, "explain", str(path), "--sensitivity", "--top", "4", "--format", "markdown")
    assert code == 0, err
    assert out.count("\n| ") == 5
