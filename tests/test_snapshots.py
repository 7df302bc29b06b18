"""Parameter snapshots in the history (deltaprop.snapshots) and the report's boundary animation."""

import base64
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import snapshots
from deltaprop.datasets import load_dataset
from deltaprop.modelfile import load, save
from deltaprop.snapshots import ParameterSnapshots, read_snapshots
from deltaprop.training import Callback


@pytest.fixture(scope="module")
def moons():
    ds = load_dataset("moons", seed=0)
    return ds.X_train, ds.y_train


def small_net():
    return dp.Network([2, 6, 2], activation="tanh", output="softmax", cost="cross_entropy", seed=3)


def test_pack_then_unpack_gives_the_parameters_in_float32(rng):
    net = dp.Network([2, 5, 4, 3], seed=1)
    W, b = snapshots.unpack(snapshots.pack(net.weights, net.biases), net.sizes)
    for got, want in zip(W + b, list(net.weights) + list(net.biases)):
        assert got.shape == want.shape
        np.testing.assert_array_equal(got, np.asarray(want, dtype=np.float32))


def test_snapshots_at_epoch_one_every_kth_and_the_last(moons):
    X, y = moons
    net = small_net()
    h = net.fit(X, y, epochs=7, callbacks=[ParameterSnapshots(every=3)], seed=0)
    assert [r["epoch"] for r in h if snapshots.KEY in r] == [1, 3, 6, 7]
    (epoch, W, b), = [s for s in read_snapshots(h.records, net.sizes) if s[0] == 7]
    for got, want in zip(W + b, list(net.weights) + list(net.biases)):  # the last one is the trained net
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)


def test_default_spacing_keeps_about_max_snapshots(moons):
    X, y = moons
    net = small_net()
    epochs = 3 * snapshots.MAX_SNAPSHOTS
    h = net.fit(X[:40], y[:40], epochs=epochs, callbacks=[ParameterSnapshots()], seed=0)
    stored = [r["epoch"] for r in h if snapshots.KEY in r]
    assert stored[0] == 1 and stored[-1] == epochs
    assert len(stored) <= snapshots.MAX_SNAPSHOTS + 2


def test_snapshots_survive_the_model_file_and_a_resume(moons, tmp_path):
    X, y = moons

    class StopAt(Callback):
        def on_epoch_end(self, trainer, record):
            if trainer.epoch == 3:
                raise KeyboardInterrupt
            return False

    kw = dict(epochs=6, seed=5, learning_rate=0.05)
    straight = small_net()
    straight.fit(X, y, callbacks=[ParameterSnapshots(every=1)], **kw)
    ckpt = tmp_path / "ckpt.npz"
    first = small_net()
    first.fit(X, y, callbacks=[ParameterSnapshots(every=1), StopAt()], checkpoint=ckpt, checkpoint_every=None, **kw)
    resumed = small_net()
    resumed.fit(X, y, callbacks=[ParameterSnapshots(every=1)], checkpoint=ckpt, resume=ckpt, **kw)
    save(resumed, tmp_path / "model.npz")
    loaded = load(tmp_path / "model.npz")
    a, b = read_snapshots(straight.history, straight.sizes), read_snapshots(loaded.history, loaded.sizes)
    assert [s[0] for s in a] == [s[0] for s in b] == list(range(1, 7))
    for (_, Wa, ba), (_, Wb, bb) in zip(a, b):
        for p, q in zip(Wa + ba, Wb + bb):
            np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("bad", [
    {"float32": "not base64!"},
    {"float32": base64.b64encode(b"\0" * 12).decode()},  # the wrong number of parameters
    {"float32": base64.b64encode(np.full(2 * 6 + 6 + 6 * 2 + 2, np.nan, "<f4").tobytes()).decode()},
    {"float32": 7},
    {},
    "a string",
])
def test_a_crafted_snapshot_is_skipped(bad):
    good = snapshots.pack(small_net().weights, small_net().biases)
    history = [{"epoch": 1, "cost": 1.0, "parameters": bad}, {"epoch": 2, "cost": 1.0, "parameters": good},
               {"epoch": True, "cost": 1.0, "parameters": good}]
    assert [s[0] for s in read_snapshots(history, [2, 6, 2])] == [2]


def test_only_small_two_input_networks_want_snapshots():
    assert snapshots.wanted(dp.Network([2, 16, 2]))
    assert not snapshots.wanted(dp.Network([64, 16, 10]))
    assert not snapshots.wanted(dp.Network([2, 100, 100, 2]))  # 10,502 parameters


def run_cli(*args):
    result = subprocess.run([sys.executable, "-m", "deltaprop", *map(str, args)], capture_output=True, text=True,
                            timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    return result


def test_train_stores_snapshots_for_2d_data_and_the_report_animates_them(tmp_path):
    from deltaprop.report import read_report_data

    run_cli("train", "--dataset", "moons", "--layers", "5", "--epochs", "4", "--out", tmp_path / "m", "--report",
            "--quiet")
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert [r["epoch"] for r in metrics["history"] if "parameters" in r] == [1, 2, 3, 4]
    data = read_report_data((tmp_path / "m" / "report.html").read_text())
    fig = data["figures"]["boundary"]
    assert [f["name"] for f in fig["frames"]] == [f"epoch {e}" for e in (1, 2, 3, 4)]
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == ["1", "2", "3", "4"]
    first, last = (np.array(fig["frames"][i]["data"][0]["z"], dtype=float) for i in (0, -1))
    assert np.abs(first - last).max() > 0.01
    assert all("parameters" not in r for r in data["history"])  # the page's history stays small


def test_train_stores_no_snapshots_for_images(tmp_path):
    run_cli("train", "--layers", "8", "--epochs", "1", "--out", tmp_path / "d", "--quiet")
    metrics = json.loads((tmp_path / "d" / "metrics.json").read_text())
    assert all("parameters" not in r for r in metrics["history"])


def test_early_stopping_keeps_the_last_and_the_best_epoch_and_the_figure_opens_on_the_kept_weights(moons):
    from deltaprop.report import figures

    X, y = moons
    net = small_net()
    h = net.fit(X, y, epochs=200, learning_rate=0.5, optimizer="sgd", validation=0.3, seed=0,
                early_stopping=True, patience=2, callbacks=[ParameterSnapshots(every=50)])
    assert h.stop_reason == "early_stopping" and h.best_epoch < len(h)
    stored = [r["epoch"] for r in h if snapshots.KEY in r]
    assert len(h) in stored and h.best_epoch in stored  # the last epoch run and the one whose weights are kept
    snaps = read_snapshots(h.records, net.sizes)
    ds = load_dataset("moons", seed=0)
    fig = figures.decision_boundary(net, ds, snapshots=snaps, resolution=20, frame_resolution=10)
    slider = fig["layout"]["sliders"][0]
    assert slider["steps"][slider["active"]]["label"] == str(h.best_epoch)  # the restored weights' epoch
