"""The command line's conventions (issue 15, part): help texts, piped output, honest lines."""

import os
import subprocess
import sys

import pytest

FAST = ["--layers", "16", "--epochs", "3"]
COMMANDS = ["train", "evaluate", "predict", "info", "gradcheck", "explain", "report", "diagnose"]


def cli(*args, columns=80):
    return subprocess.run([sys.executable, "-m", "deltaprop", *map(str, args)], capture_output=True, text=True,
                          timeout=240, env={**os.environ, "COLUMNS": str(columns)})


@pytest.mark.parametrize("command", COMMANDS)
def test_help_shows_flags_without_placeholders_and_defaults_verbatim(command):
    text = cli(command, "--help", columns=200).stdout
    assert text.startswith("Usage: deltaprop " + command)
    assert "<bool>" not in text and "<str>" not in text and "<int>" not in text and "<float>" not in text
    usage = text.splitlines()[0]
    assert "{" not in usage and "}" not in usage  # Usage: deltaprop evaluate [OPTIONS] MODEL, as click and git write it
    assert "<path>" not in text and "<file>" not in text  # arguments are named, not typed


def test_usage_names_required_and_optional_arguments_plainly():
    assert cli("evaluate", "--help").stdout.splitlines()[0] == "Usage: deltaprop evaluate [OPTIONS] MODEL"
    assert cli("predict", "--help").stdout.splitlines()[0] == "Usage: deltaprop predict [OPTIONS] MODEL INPUT"
    lines = cli("evaluate", "--help").stdout.splitlines()
    assert any(line.split()[:2] == ["MODEL", "A"] for line in lines)  # "MODEL  A model file …"


def test_bracketed_default_texts_survive_in_help():
    evaluate = " ".join(cli("evaluate", "--help", columns=200).stdout.split())  # (help wraps at 80)
    assert "[default: the one the model was trained on]" in evaluate
    assert "[default: the training run's]" in evaluate
    assert "[default: test]" in evaluate


def test_piped_output_at_80_columns_breaks_no_path(tmp_path):
    out = tmp_path / "a-rather-long-directory-name-for-a-run" / "with-a-subdirectory"
    result = cli("train", *FAST, "--out", out, columns=80)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert any(str(out / "model.npz") in line and str(out / "learning_curves.png") in line for line in lines)
    assert any(line.startswith("next: deltaprop explain") for line in lines)
    assert any(line.startswith("network ") and "seed 0" in line for line in lines)


def test_early_stopping_is_said_in_train_and_info(tmp_path):
    out = tmp_path / "run"
    result = cli("train", "--early-stopping", "--patience", "3", "--epochs", "200", "--out", out)
    assert result.returncode == 0, result.stderr
    line = next(l for l in result.stdout.splitlines() if l.startswith("early stopping after epoch"))
    stopped, best = int(line.split("epoch ")[1].split(":")[0]), int(line.split("weights of epoch ")[1].split(" ")[0])
    assert best < stopped < 200 and "not improved for 3 epochs" in line
    info = cli("info", out / "model.npz").stdout
    assert f"stopped early; the weights are those of epoch {best}" in info
    assert "training    digits, adam α=0.001, batch 16" in info


def test_info_prints_labels_without_numpy_reprs(tmp_path):
    data = tmp_path / "d.csv"
    data.write_text("a,b,label\n" + "".join(f"{i % 7},{i % 5},{'cat' if i % 2 else 'dog'}\n" for i in range(60)))
    out = tmp_path / "run"
    assert cli("train", "--dataset", f"csv:{data}", *FAST, "--out", out).returncode == 0
    info = cli("info", out / "model.npz").stdout
    assert "classes     ['cat', 'dog']" in info and "np." not in info


def test_layers_are_hidden_sizes_in_train_and_gradcheck_and_sizes_are_all(tmp_path):
    train = cli("train", "--layers", "64,32,10", "--epochs", "1", "--out", tmp_path / "run")
    assert train.returncode == 0 and "network 64-64-32-10-10" in train.stdout
    assert "--layers gives the hidden layers only" in train.stderr and "pass --layers 32" in train.stderr
    hidden = cli("gradcheck", "--layers", "5")
    assert hidden.returncode == 0 and "gradient check of 4-5-3" in hidden.stdout
    full = cli("gradcheck", "--sizes", "2,6,4,2")
    assert full.returncode == 0 and "gradient check of 2-6-4-2" in full.stdout
    nothing = cli("gradcheck")
    assert nothing.returncode == 2 and "not both" not in nothing.stderr and "nothing to check" in nothing.stderr
    both = cli("gradcheck", "--layers", "5", "--sizes", "4,5,3")
    assert both.returncode == 2 and "not --layers and --sizes" in both.stderr


@pytest.mark.parametrize("args, message", [
    (["--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'; expected one of: sgd, momentum, adam"),
    (["--activation", "softmax"], "use --output softmax"),
    (["--dataset", "moons", "--label", "y"], "--label chooses the label column of a csv: data set"),
    (["--dataset", "moons", "--data-dir", "."], "--data-dir is where the MNIST / Fashion-MNIST IDX files are"),
    (["--threads", "0"], "--threads must be at least 1"),
])
def test_misleading_messages_are_replaced_and_nothing_is_printed_first(tmp_path, args, message):
    result = cli("train", *args, "--out", tmp_path / "run")
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert result.stdout == "" and "output='softmax'" not in result.stderr  # no header before the error
    assert not (tmp_path / "run").exists()


def test_a_run_directory_is_accepted_where_a_model_file_is(tmp_path):
    out = tmp_path / "run"
    assert cli("train", *FAST, "--threads", "1", "--out", out).returncode == 0
    for args in (("evaluate", out), ("info", out), ("explain", out, "--weight", "1:0,0")):
        result = cli(*args)
        assert result.returncode == 0, (args, result.stderr)
    text = tmp_path / "notes.npz"
    text.write_text("hello\n")
    info = cli("info", text)
    assert info.returncode == 2 and "allow_pickle" not in info.stderr and "zip archive" in info.stderr


def test_predict_says_where_it_wrote(tmp_path):
    out = tmp_path / "run"
    assert cli("train", *FAST, "--out", out).returncode == 0
    from sklearn.datasets import load_digits

    X = load_digits().data[:5]
    np = pytest.importorskip("numpy")
    np.savez(tmp_path / "x.npz", X=X)
    result = cli("predict", out, tmp_path / "x.npz", "-o", tmp_path / "p.csv")
    assert result.returncode == 0, result.stderr
    assert f"wrote {tmp_path / 'p.csv'} (5 rows)" in result.stdout
