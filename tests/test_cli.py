"""The command line as a user runs it: in a subprocess, reading its output and files."""

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.modelfile import load, load_checkpoint

FAST = ["--layers", "16", "--epochs", "3"]


def run(*args, cwd=None, timeout=240):
    return subprocess.run(
        [sys.executable, "-m", "deltaprop", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=timeout,
        env={**os.environ, "COLUMNS": "120"},
    )


def arrays(net):
    return list(net.weights) + list(net.biases)


def test_default_run_trains_digits_to_97_percent(tmp_path):
    start = time.perf_counter()
    result = run("train", cwd=tmp_path)
    elapsed = time.perf_counter() - start
    assert result.returncode == 0, result.stderr
    out = tmp_path / "runs" / "latest"
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["test"]["accuracy"] >= 0.97
    assert f"test accuracy {metrics['test']['accuracy']:.2%}" in result.stdout
    assert len(metrics["history"]) == 40
    assert {"train", "validation", "test"} <= set(metrics)
    assert metrics["seed"] == 0 and metrics["command"].startswith("deltaprop train")
    assert "numpy" in metrics["versions"]
    assert (out / "learning_curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert load(out / "model.npz").sizes == [64, 128, 10]
    assert elapsed < 600  # generous: the point is "it finishes"; speed lives in benchmarks


def test_interrupt_then_resume_equals_uninterrupted(tmp_path):
    args = ["--layers", "16", "--epochs", "60", "--optimizer", "momentum", "--seed", "3"]
    assert run("train", *args, "--out", tmp_path / "straight").returncode == 0
    out = tmp_path / "interrupted"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deltaprop", "train", *args, "--out", str(out), "--checkpoint-every", "1"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    ckpt = out / "checkpoint.npz"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.02)
    proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    if proc.returncode == 0:
        pytest.skip("the run finished before the interrupt arrived")
    assert proc.returncode == 130, stderr
    assert "--resume" in stdout and "Traceback" not in stderr
    epoch = load_checkpoint(ckpt).meta["epoch"]
    assert 1 <= epoch < 60
    resumed = run("train", "--out", out, "--resume")
    assert resumed.returncode == 0, resumed.stderr
    a, b = load(tmp_path / "straight" / "model.npz"), load(out / "model.npz")
    for x, y in zip(arrays(a), arrays(b)):
        np.testing.assert_array_equal(x, y)


def test_sigterm_checkpoints_like_ctrl_c(tmp_path):
    """timeout, docker stop and batch schedulers send SIGTERM: the run keeps its last whole epoch
    in a checkpoint, exits 143 and prints the resume command; no temporary file is left."""
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deltaprop", "train", "--layers", "32", "--epochs", "400", "--out", str(out)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )
    deadline = time.time() + 120
    seen = 0
    while proc.poll() is None and time.time() < deadline:  # epoch 2 printed: epoch 1 is whole
        seen += proc.stdout.readline().startswith("epoch")
        if seen == 2:
            break
    proc.send_signal(signal.SIGTERM)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 143, stderr
    assert "terminated after epoch" in stdout and "--resume" in stdout and "Traceback" not in stderr
    assert 1 <= load_checkpoint(out / "checkpoint.npz").meta["epoch"] < 400
    assert not [p.name for p in out.iterdir() if p.name.endswith(".tmp")]


def test_killed_run_leaves_a_loadable_checkpoint(tmp_path):
    out = tmp_path / "run"
    proc = subprocess.Popen(
        [sys.executable, "-m", "deltaprop", "train", "--layers", "32", "--epochs", "400",
         "--out", str(out), "--checkpoint-every", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    ckpt = out / "checkpoint.npz"
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.02)
    time.sleep(0.3)  # let it write a few more checkpoints, then kill it mid-run
    proc.kill()
    proc.wait()
    state = load_checkpoint(ckpt)
    assert state.meta["epoch"] >= 1
    assert state.net.sizes == [64, 32, 10]
    info = run("info", ckpt)
    assert info.returncode == 0, info.stderr


def test_predict_and_round_trip(tmp_path):
    out = tmp_path / "run"
    assert run("train", *FAST, "--out", out).returncode == 0
    net = load(out / "model.npz")
    X = np.random.default_rng(0).uniform(0, 16, size=(7, 64))
    np.savez(tmp_path / "inputs.npz", X=X)
    result = run("predict", out / "model.npz", tmp_path / "inputs.npz", "--proba")
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert lines[0].startswith("label,p_0")
    labels = [int(line.split(",")[0]) for line in lines[1:]]
    assert labels == net.predict(X).tolist()
    csv_path = tmp_path / "inputs.csv"
    csv_path.write_text(",".join(net.feature_names) + "\n" + "\n".join(",".join(map(str, r)) for r in X) + "\n")
    result = run("predict", out / "model.npz", csv_path, "-o", tmp_path / "pred.csv")
    assert result.returncode == 0, result.stderr
    # columns named otherwise cannot be matched to the model's: a one-line error naming one
    other = tmp_path / "other.csv"
    other.write_text(",".join(f"f{i}" for i in range(64)) + "\n" + "\n".join(",".join(map(str, r)) for r in X) + "\n")
    refused = run("predict", out / "model.npz", other)
    assert refused.returncode == 2 and "has no column 'pixel_0_0'" in refused.stderr
    assert [int(v) for v in (tmp_path / "pred.csv").read_text().split()[1:]] == labels
    again = load(out / "model.npz")
    np.testing.assert_array_equal(again.predict_proba(X), net.predict_proba(X))


def test_evaluate_info_gradcheck(tmp_path):
    out = tmp_path / "run"
    assert run("train", *FAST, "--out", out).returncode == 0
    ev = run("evaluate", out / "model.npz", "--json")
    assert ev.returncode == 0, ev.stderr
    report = json.loads(ev.stdout)
    metrics = json.loads((out / "metrics.json").read_text())
    assert report["accuracy"] == pytest.approx(metrics["test"]["accuracy"])
    cm = np.array(report["confusion_matrix"])
    assert cm.shape == (10, 10) and cm.sum() == report["n"]
    assert np.trace(cm) / cm.sum() == pytest.approx(report["accuracy"])
    info = run("info", out / "model.npz")
    assert info.returncode == 0 and "64-16-10" in info.stdout and "1210 parameters" in info.stdout
    gc = run("gradcheck", "--sizes", "4,5,3", "--output", "softmax", "--cost", "cross_entropy")
    assert gc.returncode == 0 and "max relative error" in gc.stdout
    gc = run("gradcheck", out / "model.npz", "--samples", "3")
    assert gc.returncode == 0, gc.stderr


def test_training_on_csv_and_toy_sets(tmp_path):
    rng = np.random.default_rng(0)
    X = rng.normal(size=(120, 3))
    y = np.where(X[:, 0] + X[:, 1] > 0, "yes", "no")
    csv_path = tmp_path / "data.csv"
    csv_path.write_text("a,b,label,c\n" + "\n".join(f"{r[0]},{r[1]},{lab},{r[2]}" for r, lab in zip(X, y)) + "\n")
    result = run("train", "--dataset", f"csv:{csv_path}", "--label", "label", *FAST, "--out", tmp_path / "csv")
    assert result.returncode == 0, result.stderr
    assert list(load(tmp_path / "csv" / "model.npz").classes_) == ["no", "yes"]
    result = run("train", "--dataset", "moons", "--layers", "8", "--epochs", "2", "--out", tmp_path / "moons")
    assert result.returncode == 0, result.stderr


def test_train_in_a_notebook_cell_prints_plain_epoch_lines(tmp_path):
    """``!deltaprop train`` in Jupyter: ipykernel sets FORCE_COLOR=1 and stdout is a pipe. The
    live bar is for real terminals only: here one plain line per epoch, no escape codes at all."""
    result = subprocess.run(
        [sys.executable, "-m", "deltaprop", "train", *FAST, "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=240, env={**os.environ, "FORCE_COLOR": "1", "COLUMNS": "120"},
    )
    assert result.returncode == 0, result.stderr
    assert "\x1b" not in result.stdout + result.stderr and "\r" not in result.stdout + result.stderr
    epochs = [line for line in result.stdout.splitlines() if line.startswith("epoch")]
    assert [line[:12] for line in epochs] == ["epoch   1/3 ", "epoch   2/3 ", "epoch   3/3 "]
    assert all(" val acc " in line for line in epochs)
    assert result.stdout.splitlines()[0].startswith("deltaprop train  digits: ")  # (bold on a terminal)


def test_divergence_is_a_clear_error(tmp_path):
    result = run("train", "--layers", "16", "--optimizer", "sgd", "--learning-rate", "1e9",
                 "--cost", "quadratic", "--output", "identity", "--epochs", "5", "--out", tmp_path)
    assert result.returncode == 2
    assert "smaller learning rate" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("args,message", [
    (["train", "--dataset", "nosuch"], "unknown data set 'nosuch'"),
    (["train", "--layers", "16,x"], "--layers must be comma-separated"),
    (["train", "--activation", "sigmod", "--epochs", "1"], "unknown activation 'sigmod'"),
    (["train", "--optimizer", "rmsprop"], "unknown optimizer 'rmsprop'"),
    (["train", "--learning-rate", "-1"], "learning_rate must be a positive number"),
    (["train", "--batch-size", "0"], "batch_size must be an integer"),
    (["train", "--cost", "binary_cross_entropy", "--output", "softmax"], "needs a sigmoid output layer"),
    (["train", "--dataset", "csv:/nonexistent/file.csv"], "/nonexistent/file.csv"),
    (["train", "--resume", "--out", "/nonexistent/dir"], "no checkpoint"),
    (["evaluate", "/nonexistent/model.npz"], "/nonexistent/model.npz"),
    (["info", "README_NOT_A_MODEL.txt"], "README_NOT_A_MODEL.txt"),
    (["gradcheck"], "nothing to check: give a MODEL file, or --layers 5"),
    (["train", "--out", "README_NOT_A_MODEL.txt", "--epochs", "1"], "README_NOT_A_MODEL.txt"),
])
def test_user_mistakes_get_one_line_errors(tmp_path, args, message):
    (tmp_path / "README_NOT_A_MODEL.txt").write_text("hello")
    result = run(*args, cwd=tmp_path)
    assert result.returncode == 2, (result.stdout, result.stderr)
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_help_reads_well():
    result = run("train", "--help")
    assert result.returncode == 0
    for option in ("--dataset", "--layers", "--activation", "--cost", "--epochs", "--batch-size",
                   "--learning-rate", "--optimizer", "--l2", "--seed", "--out", "--checkpoint-every", "--resume"):
        assert option in result.stdout


def test_train_and_gradcheck_with_the_half_quadratic_cost(tmp_path):
    out = tmp_path / "moons"
    result = run("train", "--dataset", "moons", "--cost", "half_quadratic", "--output", "sigmoid",
                 "--epochs", "2", "--out", out)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((out / "metrics.json").read_text())
    assert metrics["network"]["cost"] == "half_quadratic" and len(metrics["history"]) == 2
    net = load(out / "model.npz")
    assert net.cost_name == "half_quadratic" and net.activations[-1].name == "sigmoid"
    X, Y = np.random.default_rng(0).normal(size=(4, 2)), np.ones((4, 1))
    assert net.cost(X, Y) == pytest.approx(0.5 * np.mean(np.sum((net.forward(X) - Y) ** 2, axis=1)), rel=1e-12)
    gc = run("gradcheck", "--sizes", "4,5,3", "--output", "identity", "--cost", "half_quadratic")
    assert gc.returncode == 0, gc.stderr
    assert "(half_quadratic)" in gc.stdout and "max relative error" in gc.stdout
    assert "half_quadratic" in run("train", "--help").stdout


def test_every_command_writes_plain_text_into_a_notebook_pipe(tmp_path):
    """FORCE_COLOR=1 with a pipe (ipykernel's ``!deltaprop ...``): no escape codes from any command."""
    env = {**os.environ, "FORCE_COLOR": "1", "COLUMNS": "120"}
    train = subprocess.run([sys.executable, "-m", "deltaprop", "train", *FAST, "--out", str(tmp_path), "--quiet"],
                           capture_output=True, text=True, timeout=240, env=env)
    assert train.returncode == 0, train.stderr
    for args in (["info", tmp_path], ["evaluate", tmp_path], ["explain", tmp_path, "--weight", "1:0,0"],
                 ["gradcheck", "--sizes", "3,4,2"]):
        result = subprocess.run([sys.executable, "-m", "deltaprop", *map(str, args)], capture_output=True, text=True,
                                timeout=240, env=env)
        assert result.returncode == 0, (args, result.stderr)
        assert "\x1b" not in result.stdout + result.stderr, args


def test_train_with_lbfgs_and_info_shows_it(tmp_path):
    out = tmp_path / "lbfgs"
    result = run("train", "--optimizer", "lbfgs", "--epochs", "5", "--layers", "16", "--out", out)
    assert result.returncode == 0, result.stderr
    assert "lbfgs full batch" in result.stdout
    metrics = json.loads((out / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["history"]] == [1, 2, 3, 4, 5]
    info = run("info", out / "model.npz")
    assert info.returncode == 0 and "lbfgs (full batch)" in info.stdout and "batch all" in info.stdout
    assert "α=None" not in info.stdout


def test_full_batch_options_on_the_command_line(tmp_path):
    assert "all" in run("train", "--help").stdout and "lbfgs" in run("train", "--help").stdout
    result = run("train", "--batch-size", "all", "--epochs", "2", "--layers", "8", "--out", tmp_path / "gd")
    assert result.returncode == 0, result.stderr
    assert "batch all" in result.stdout
    for args, message in [(["--optimizer", "cg", "--learning-rate", "0.1"], "takes no --learning-rate"),
                          (["--optimizer", "lbfgs", "--batch-size", "16"], "leave out --batch-size"),
                          (["--batch-size", "many"], "--batch-size must be a positive integer or 'all'")]:
        bad = run("train", *args, "--epochs", "1", "--out", tmp_path / "bad")
        assert bad.returncode == 2 and message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
