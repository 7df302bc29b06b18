"""Faults a user meets: full disks, file-size limits, signals (one, two, kill -9), two runs on one
directory, blow-ups, crafted labels and recorded paths. Each runs in bounded time and skips
where the operating system does not allow the fault."""

import contextlib
import errno
import json
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from deltaprop.atomic import atomic_write, atomic_write_text
from deltaprop.modelfile import load_checkpoint, read_header

FAST = ["--layers", "16", "--epochs", "3", "--quiet"]
ENV = {**os.environ, "COLUMNS": "120"}


def cli(*args, cwd=None, timeout=240, preexec_fn=None):
    return subprocess.run(
        [sys.executable, "-m", "deltaprop", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=timeout, env=ENV, preexec_fn=preexec_fn,
    )


def start(*args):
    return subprocess.Popen(
        [sys.executable, "-m", "deltaprop", *map(str, args)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=ENV,
    )


def wait_for_epochs(proc, n, timeout=120):
    """Read the plain epoch lines of a piped ``train`` until ``n`` have been printed."""
    deadline, seen = time.time() + timeout, 0
    while proc.poll() is None and time.time() < deadline and seen < n:
        seen += proc.stdout.readline().startswith("epoch")
    assert seen >= n, "the run did not reach its epochs in time"


def snapshot(directory):
    return {p.name: p.read_bytes() for p in sorted(directory.iterdir()) if p.is_file()}


def temporary_files(directory):
    return [p.name for p in directory.rglob("*") if p.name.endswith(".tmp") or p.name.startswith(".deltaprop-staging-")]


def one_line_error(result):
    assert result.stderr.startswith("error:"), result.stderr
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------- atomic writes
def test_an_interrupt_during_a_write_is_delivered_after_it(tmp_path):
    """Ctrl-C in the middle of a write: the file is completed (or, on an error, removed), then
    the KeyboardInterrupt comes — no temporary file survives, no file is half-written."""
    path = tmp_path / "file.bin"
    with pytest.raises(KeyboardInterrupt):
        with atomic_write(path) as fh:
            fh.write(b"first half ")
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.01)
            fh.write(b"second half")
    assert path.read_bytes() == b"first half second half"
    assert temporary_files(tmp_path) == []


def test_sigterm_during_a_write_reaches_the_installed_handler_after_it(tmp_path):
    calls = []
    previous = signal.signal(signal.SIGTERM, lambda s, f: calls.append(path.exists()))
    try:
        path = tmp_path / "file.txt"
        with atomic_write(path, "w") as fh:
            fh.write("a")
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(0.01)
            assert calls == []  # held while writing
        assert calls == [True]  # delivered once the file was in place
        assert signal.getsignal(signal.SIGTERM) is not None
    finally:
        signal.signal(signal.SIGTERM, previous)


def test_a_write_error_names_the_file(tmp_path):
    path = tmp_path / "model.npz"
    with pytest.raises(OSError) as info:
        with atomic_write(path) as fh:
            fh.write(b"x")
            raise OSError(errno.ENOSPC, "No space left on device")  # as write() raises it
    assert str(path) in str(info.value) and "No space left" in str(info.value)
    assert not path.exists() and temporary_files(tmp_path) == []


# ---------------------------------------------------------------------------- full disks
def _limit_file_size(limit):
    def preexec():
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return preexec


def test_a_file_size_limit_leaves_the_run_directory_as_it_was(tmp_path):
    """ulimit -f: the learning-curve PNG (~60 KB) cannot be written. Before, model.npz and
    metrics.json were already replaced by the new run's; now nothing is, and the error names
    the file."""
    out = tmp_path / "run"
    assert cli("train", *FAST, "--out", out).returncode == 0
    before = snapshot(out)
    result = cli("train", *FAST, "--seed", "1", "--out", out, preexec_fn=_limit_file_size(40_000))
    assert result.returncode == 2
    one_line_error(result)
    assert str(out / "learning_curves.png") in result.stderr
    assert snapshot(out) == before
    assert temporary_files(out) == []


@pytest.fixture
def small_tmpfs(tmp_path):
    """A tmpfs mount (root only); yields a function that mounts one of ``size`` bytes."""
    mounts = []

    def mount(size):
        target = tmp_path / f"tmpfs{len(mounts)}"
        target.mkdir()
        done = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(target)],
                              capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
        mounts.append(target)
        return target

    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tmpfs needs root")
    yield mount
    for target in mounts:
        subprocess.run(["umount", "-l", str(target)], capture_output=True)


def test_a_full_disk_leaves_the_run_directory_as_it_was(tmp_path, small_tmpfs):
    first = tmp_path / "first"
    assert cli("train", *FAST, "--out", first).returncode == 0
    used = sum(p.stat().st_size for p in first.iterdir())
    disk = small_tmpfs(used + 48 * 1024)  # room for the new model and metrics, not the PNG too
    out = disk / "run"
    shutil.copytree(first, out)
    before = snapshot(out)
    result = cli("train", *FAST, "--seed", "1", "--out", out)
    assert result.returncode == 2
    one_line_error(result)
    assert "No space left on device" in result.stderr and str(out) in result.stderr
    assert snapshot(out) == before
    assert temporary_files(out) == []


# ---------------------------------------------------------------------------- one run per directory
def test_a_second_run_on_the_same_out_is_refused_with_the_holders_pid(tmp_path):
    out = tmp_path / "run"
    first = start("train", "--layers", "32", "--epochs", "400", "--out", out)
    try:
        wait_for_epochs(first, 1)
        second = cli("train", *FAST, "--out", out)
        assert second.returncode == 2
        one_line_error(second)
        assert f"pid {first.pid}" in second.stderr and str(out) in second.stderr
        resumed = cli("train", "--out", out, "--resume", "--epochs", "401")
        assert resumed.returncode == 2 and f"pid {first.pid}" in resumed.stderr
    finally:
        first.send_signal(signal.SIGTERM)
        first.communicate(timeout=120)
    assert first.returncode == 143
    ckpt = load_checkpoint(out / "checkpoint.npz")  # the first run's, untouched by the others
    assert ckpt.meta["cli"]["layers"] == "32"
    # the lock went with the process; the unfinished run is not replaced without being asked
    fresh = cli("train", *FAST, "--out", out)
    assert fresh.returncode == 2 and "holds an unfinished run" in fresh.stderr and "--resume" in fresh.stderr
    assert load_checkpoint(out / "checkpoint.npz").meta["epoch"] == ckpt.meta["epoch"]
    (out / "checkpoint.npz").unlink()
    after = cli("train", *FAST, "--out", out)
    assert after.returncode == 0, after.stderr


def test_files_of_one_run_share_its_id_and_an_earlier_runs_checkpoint_goes(tmp_path):
    out = tmp_path / "run"
    assert cli("train", *FAST, "--out", out, "--checkpoint-every", "1").returncode == 0
    first_id = read_header(out / "model.npz")["training"]["run_id"]
    assert load_checkpoint(out / "checkpoint.npz").meta["run_id"] == first_id
    assert cli("train", *FAST, "--seed", "1", "--out", out).returncode == 0
    second_id = json.loads((out / "metrics.json").read_text())["run_id"]
    assert read_header(out / "model.npz")["training"]["run_id"] == second_id != first_id
    assert not (out / "checkpoint.npz").exists()  # it belonged to the run this one replaced


def test_kill_9_during_checkpoint_writes_leaves_a_loadable_checkpoint_and_no_leftovers(tmp_path):
    out = tmp_path / "run"
    proc = start("train", "--layers", "256,256", "--epochs", "400", "--checkpoint-every", "1", "--out", out)
    wait_for_epochs(proc, 3)
    time.sleep(0.05)
    proc.kill()
    proc.communicate(timeout=60)
    epoch = load_checkpoint(out / "checkpoint.npz").meta["epoch"]
    assert epoch >= 2
    (out / ".checkpoint.npz.killed.tmp").write_bytes(b"half a checkpoint")  # what kill -9 can leave
    (out / ".deltaprop-staging-killed").mkdir()
    (out / ".thesis.tex.tmp").write_text("not ours")  # another program's temporary file stays
    resumed = cli("train", "--out", out, "--resume", "--epochs", epoch + 1, "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    assert temporary_files(out) == [".thesis.tex.tmp"]


@pytest.mark.parametrize("gap", [0.0, 0.02, 0.2])
def test_a_second_ctrl_c_while_checkpointing_loses_nothing(tmp_path, gap):
    out = tmp_path / "run"
    proc = start("train", "--layers", "256,256", "--epochs", "400", "--out", out)
    wait_for_epochs(proc, 2)
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    with contextlib.suppress(ProcessLookupError):
        proc.send_signal(signal.SIGINT)
    stdout, stderr = proc.communicate(timeout=120)
    # 130 from deltaprop; -SIGINT when the second one lands after Python has begun to exit
    assert proc.returncode in (130, -signal.SIGINT), stderr
    assert "Traceback" not in stderr
    assert load_checkpoint(out / "checkpoint.npz").meta["epoch"] >= 1
    assert temporary_files(out) == []


# ---------------------------------------------------------------------------- blow-ups
def test_a_cost_that_explodes_without_nan_stops_and_resumes_with_a_smaller_rate(tmp_path):
    """Adam at α = 1e9 trains at cost ≈ 1e20 without ever reaching NaN: before, five epochs and
    exit 0 at 10% accuracy; now the first epoch is refused against the cost before training,
    its start is checkpointed, and --resume may lower the learning rate."""
    out = tmp_path / "run"
    result = cli("train", "--optimizer", "adam", "--learning-rate", "1e9", "--epochs", "5", "--out", out)
    assert result.returncode == 2
    one_line_error(result)
    assert "times the cost before training" in result.stderr
    assert f"{out / 'checkpoint.npz'}" in result.stderr and "--resume --learning-rate 1e+08" in result.stderr
    assert not (out / "model.npz").exists()
    assert load_checkpoint(out / "checkpoint.npz").meta["epoch"] == 0
    resumed = cli("train", "--out", out, "--resume", "--learning-rate", "0.001", "--epochs", "3", "--quiet")
    assert resumed.returncode == 0, resumed.stderr
    history = json.loads((out / "metrics.json").read_text())["history"]
    assert [r["learning_rate"] for r in history] == [0.001] * 3
    assert history[-1]["accuracy"] > 0.5


def test_a_resumed_run_keeps_the_divergence_reference_of_its_start(tmp_path):
    """Small regression targets: the trained network's cost is far below the initial one, so a
    bound measured again on resume would stop a run that goes on fine uninterrupted."""
    import deltaprop as dp

    rng = np.random.default_rng(0)
    X = rng.normal(size=(300, 5))
    y = (X @ rng.normal(size=5) * 1e-2).reshape(-1, 1)
    kw = dict(batch_size=16, learning_rate=0.3, optimizer="adam", seed=3, l2=1.0)

    def net():
        return dp.Network([5, 8, 1], activation="tanh", output="identity", cost="quadratic", seed=1)

    straight = net()
    straight.fit(X, y, epochs=40, **kw)
    ckpt = tmp_path / "ckpt.npz"
    net().fit(X, y, epochs=20, checkpoint=ckpt, checkpoint_every=20, **kw)
    reference = load_checkpoint(ckpt).meta["cost_reference"]
    resumed = net()
    resumed.fit(X, y, epochs=40, resume=ckpt, checkpoint=ckpt, **kw)
    for a, b in zip(list(straight.weights) + list(straight.biases), list(resumed.weights) + list(resumed.biases)):
        np.testing.assert_array_equal(a, b)
    assert load_checkpoint(ckpt).meta["cost_reference"] == reference


def test_divergence_names_only_a_checkpoint_of_this_run(tmp_path):
    out = tmp_path / "run"
    assert cli("train", *FAST, "--out", out, "--checkpoint-every", "1").returncode == 0
    earlier = load_checkpoint(out / "checkpoint.npz").meta["run_id"]
    result = cli("train", "--optimizer", "sgd", "--learning-rate", "1e6", "--layers", "16", "--out", out)
    assert result.returncode == 2 and "checkpoint.npz" in result.stderr
    meta = load_checkpoint(out / "checkpoint.npz").meta
    assert meta["run_id"] != earlier and meta["cli"]["learning_rate"] == 1e6


# ---------------------------------------------------------------------------- arguments
def test_a_network_too_big_for_memory_is_a_one_line_error(tmp_path):
    def cap_memory():
        resource.setrlimit(resource.RLIMIT_AS, (6 << 30, 6 << 30))
    result = cli("train", "--layers", "100000000", "--out", tmp_path / "run", preexec_fn=cap_memory, timeout=120)
    assert result.returncode == 2
    one_line_error(result)
    assert "--layers" in result.stderr and "GB" in result.stderr


def test_an_out_path_with_markup_characters_is_printed_verbatim(tmp_path):
    out = tmp_path / "a[/x]" / "[bold]b"
    result = cli("train", *FAST, "--out", out)
    assert result.returncode == 0, result.stderr
    assert str(out / "model.npz") in result.stdout.replace("\n", "")


# ---------------------------------------------------------------------------- labels and files
HOSTILE = ["[/]", "\x1b]8;;http://evil.example\x07click\x1b]8;;\x07", "[link=http://evil.example]x[/link]",
           '=HYPERLINK("http://evil.example","y")']


@pytest.fixture
def hostile_run(tmp_path):
    rng = np.random.default_rng(0)
    lines = ["a,b,c,label"]
    for i in range(80):
        k = i % len(HOSTILE)
        x = rng.normal(size=3) + 3 * k
        lines.append(",".join(f"{v:.4f}" for v in x) + "," + '"' + HOSTILE[k].replace('"', '""') + '"')
    data = tmp_path / "run" / "data.csv"
    data.parent.mkdir()
    data.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    result = cli("train", "--dataset", f"csv:{data}", "--layers", "8", "--epochs", "60", "--quiet", "--out", out)
    assert result.returncode == 0, result.stderr
    return out, data


def test_hostile_labels_reach_the_terminal_and_csv_only_as_text(hostile_run, tmp_path):
    out, data = hostile_run
    for args in (("evaluate", out / "model.npz"), ("info", out / "model.npz"),
                 ("explain", out / "model.npz", "--weight", "1:0,0")):
        result = cli(*args)
        assert result.returncode == 0, (args, result.stderr)
        assert "\x1b" not in result.stdout and "\x07" not in result.stdout, args
    evaluated = cli("evaluate", out / "model.npz").stdout
    assert "[/]" in evaluated and "[link=http://evil.exampl" in evaluated  # as text (wide cells are cut)
    predicted = cli("predict", out / "model.npz", data, "--proba")
    assert predicted.returncode == 0, predicted.stderr
    import csv
    import io

    cells = [row[0] for row in csv.reader(io.StringIO(predicted.stdout))][1:]
    assert "\x1b" not in predicted.stdout
    assert not [c for c in cells if c.startswith("=")]  # no formula for a spreadsheet
    assert any(c.startswith("'=HYPERLINK") for c in cells) and "[/]" in cells


def test_plus_and_minus_classes_stay_as_they_are_in_predicts_csv():
    from deltaprop.cli.predict import csv_text

    assert [csv_text(v) for v in ("+", "-", "-1", "+2.5", "@x", "=1+1", "-2+3", "+A1")] == [
        "+", "-", "-1", "+2.5", "'@x", "'=1+1", "'-2+3", "'+A1"]


def test_a_home_relative_recorded_path_is_not_beside_the_model(tmp_path, monkeypatch):
    from deltaprop.recorded import UntrustedDataPath, recorded_dataset

    home = tmp_path / "home"
    home.mkdir()
    (home / "secret.csv").write_text("a,label\n1,0\n")
    model_dir = tmp_path / "model"
    model_dir.mkdir()
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.chdir(model_dir)  # ~/secret.csv must not pass as "<cwd>/~/secret.csv"
    header = {"training": {"options": {"dataset": "csv:~/secret.csv"}}}
    with pytest.raises(UntrustedDataPath, match="not beside the model"):
        recorded_dataset(header, model_dir / "model.npz")


def test_a_recorded_data_file_is_opened_only_beside_the_model(hostile_run, tmp_path):
    out, data = hostile_run
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(out, elsewhere, ignore=shutil.ignore_patterns("data.csv"))
    moved = tmp_path / "secret.csv"
    shutil.move(data, moved)
    # the model in `elsewhere` records the data file at its old place; point it at a file elsewhere
    from deltaprop.modelfile import load, save

    header = read_header(elsewhere / "model.npz")
    header["training"]["options"]["dataset"] = f"csv:{moved}"
    save(load(elsewhere / "model.npz"), elsewhere / "model.npz",
         extra_meta={"training": header["training"], "metrics": header["metrics"]})
    refused = cli("evaluate", elsewhere / "model.npz")
    assert refused.returncode == 2
    one_line_error(refused)
    assert "not beside the model" in refused.stderr and f"--dataset csv:{moved}" in refused.stderr
    confirmed = cli("evaluate", elsewhere / "model.npz", "--dataset", f"csv:{moved}")
    assert confirmed.returncode == 0, confirmed.stderr
    report = cli("report", elsewhere)
    assert report.returncode == 0 and "note:" in report.stderr
    page = (elsewhere / "report.html").read_text()
    assert "could not be loaded again" in page and "secret.csv" not in page


def test_report_refuses_malformed_metrics_and_files_of_two_runs(tmp_path):
    one, two = tmp_path / "one", tmp_path / "two"
    assert cli("train", *FAST, "--out", one).returncode == 0
    assert cli("train", *FAST, "--seed", "1", "--out", two).returncode == 0
    metrics = json.loads((one / "metrics.json").read_text())
    for field, value in (("history", 5), ("history", [{"epoch": 1}]), ("options", [])):
        (one / "metrics.json").write_text(json.dumps({**metrics, field: value}))
        result = cli("report", one)
        assert result.returncode == 2, (field, result.stderr)
        one_line_error(result)
        assert "metrics.json" in result.stderr and repr(field) in result.stderr
    shutil.copy(two / "metrics.json", one / "metrics.json")
    mixed = cli("report", one)
    assert mixed.returncode == 2 and "different training runs" in mixed.stderr


def test_a_run_that_fails_early_leaves_no_directory_and_a_finished_one_no_lock_files(tmp_path):
    out = tmp_path / "new"
    assert cli("train", "--layers", "abc", "--out", out).returncode == 2
    assert not out.exists()
    assert cli("train", *FAST, "--out", out).returncode == 0
    assert sorted(p.name for p in out.iterdir()) == ["learning_curves.png", "metrics.json", "model.npz"]
