"""``deltaprop train --dataset npy:X.npy,y.npy | hdf5:FILE[:X,y] | zarr:DIR[:X,y]``: X streamed
from disk (never loaded whole), split by index, trained with ``shuffle="blocks"``; the model
records the data set so that ``evaluate``, ``explain`` and the report find it; bad files get
one-line errors."""

import json
import tracemalloc

import numpy as np
import pytest

import deltaprop as dp
from deltaprop import defaults
from deltaprop.cli.app import main
from deltaprop.datasets import DatasetError, load_dataset
from deltaprop.modelfile import read_header

N, FEATURES = 2000, 6
FAST = ["--layers", "8", "--epochs", "2", "--batch-size", "32", "--block-size", "300", "-q"]


def cli(capsys, *args) -> tuple[int, str, str]:
    """(exit status, stdout, stderr) of ``deltaprop ARGS`` run in this process."""
    try:
        main([str(a) for a in args])
        code = 0
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, FEATURES)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64) + (X[:, 2] > 1)
    return X, y


def write(kind, X, y, where):
    """The data set in ``where`` as ``kind``; returns its --dataset spec."""
    where.mkdir(parents=True, exist_ok=True)
    if kind == "npy":
        np.save(where / "X.npy", X)
        np.save(where / "y.npy", y)
        return f"npy:{where / 'X.npy'},{where / 'y.npy'}"
    if kind == "hdf5":
        h5py = pytest.importorskip("h5py")
        with h5py.File(where / "d.h5", "w") as f:
            f.create_dataset("train/X", data=X, chunks=(97, FEATURES))
            f["train/y"] = y
        return f"hdf5:{where / 'd.h5'}:train/X,train/y"
    zarr = pytest.importorskip("zarr")
    group = zarr.open_group(str(where / "d.zarr"), mode="w")
    group.create_array("X", shape=X.shape, dtype="f4", chunks=(77, 4))[:] = X
    group.create_array("y", shape=y.shape, dtype="i8")[:] = y
    return f"zarr:{where / 'd.zarr'}"


def test_npy_hdf5_and_zarr_train_the_same_weights_and_evaluate_finds_the_recorded_data(data, tmp_path, capsys):
    X, y = data
    results = {}
    for kind in ("npy", "hdf5", "zarr"):
        out = tmp_path / kind
        spec = write(kind, X, y, out / "data")  # beside the model: evaluate may open it
        code, stdout, err = cli(capsys, "train", "--dataset", spec, "--out", out, *FAST)
        assert code == 0, err
        header = read_header(out / "model.npz")
        options = header["training"]["options"]
        assert options["dataset"] == spec and options["block_size"] == 300
        metrics = json.loads((out / "metrics.json").read_text())
        assert metrics["train"]["n"] == 1400 and metrics["validation"]["n"] == 200 and metrics["test"]["n"] == 400
        code, stdout, err = cli(capsys, "evaluate", out / "model.npz", "--json")
        assert code == 0, err
        evaluated = json.loads(stdout)
        assert evaluated["dataset"] == spec and evaluated["n"] == 400
        assert evaluated["accuracy"] == metrics["test"]["accuracy"]
        assert evaluated["cost"] == pytest.approx(metrics["test"]["cost"], rel=1e-12)
        net = dp.load(out / "model.npz")
        results[kind] = ([*net.weights, *net.biases], metrics["history"])
    reference = results.pop("npy")
    for kind, (params, history) in results.items():
        assert all(np.array_equal(a, b) for a, b in zip(params, reference[0])), kind
        assert [r["cost"] for r in history] == [r["cost"] for r in reference[1]], kind


def test_a_streamed_set_is_split_by_index_into_the_rows_the_same_data_gets_in_memory(data, tmp_path):
    X, y = data
    np.savez(tmp_path / "d.npz", X=X, y=y)
    spec = write("npy", X, y, tmp_path)
    in_memory, streamed = load_dataset(f"npz:{tmp_path / 'd.npz'}", seed=4), load_dataset(spec, seed=4)
    assert isinstance(streamed.X_test.source.array, np.memmap)  # X stays on disk: each split a view
    for split in ("train", "validation", "test"):
        (Xm, ym), (Xs, ys) = in_memory.split(split), streamed.split(split)
        order = np.lexsort(Xm.T[::-1])
        assert np.array_equal(Xm[order], np.asarray(Xs, dtype=np.float64)[np.lexsort(np.asarray(Xs).T[::-1])])
        assert sorted(ym.tolist()) == sorted(ys.tolist())
    rows = streamed.X_train[[7, 2, 7]]  # row indices, a row, a strided slice: just those rows are read
    assert np.array_equal(rows, np.asarray(streamed.X_train)[[7, 2, 7]])
    assert np.array_equal(streamed.X_train[-1], np.asarray(streamed.X_train)[-1])
    assert streamed.X_train[::100].shape == (14, FEATURES)
    limited = load_dataset(spec, seed=4, limit=500)
    assert len(limited.X_train) + len(limited.X_val) + len(limited.X_test) == 500


def test_train_reads_x_block_by_block_never_whole(data, tmp_path, capsys, monkeypatch):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(20_000, 200)).astype(np.float32)  # 16 MB; as float64 rows, 32 MB
    y = (X[:, 0] > 0).astype(np.int64)
    spec = write("npy", X, y, tmp_path / "data")
    monkeypatch.setattr(defaults, "BLOCK_BYTES", 1 << 16)  # evaluation and statistics read 64 KiB blocks
    small = write("npy", *data, tmp_path / "small")  # first a run that imports what the command uses
    assert cli(capsys, "train", "--dataset", small, "--out", tmp_path / "warm", *FAST)[0] == 0
    tracemalloc.start()
    try:
        code, _, err = cli(capsys, "train", "--dataset", spec, "--out", tmp_path / "run", "--layers", "4",
                           "--epochs", "1", "--batch-size", "64", "--block-size", "200", "-q")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert code == 0, err
    # (the training split alone is 11 MB as float32, 22 MB as float64; blocks and indices: ~4 MB)
    assert peak < X.nbytes / 2, f"traced {peak / 1e6:.1f} MB for an X of {X.nbytes / 1e6:.0f} MB"


def test_report_and_explain_find_a_streamed_run_the_report_with_the_first_rows(data, tmp_path, capsys, monkeypatch):
    import deltaprop.report.builder as builder

    X, y = data
    spec = write("npy", X, y, tmp_path / "data")
    monkeypatch.setattr(builder, "STREAMED_ROWS", 100)
    code, stdout, err = cli(capsys, "train", "--dataset", spec, "--out", tmp_path, *FAST, "--report")
    assert code == 0, err
    assert "the first 100 rows of each split" in (tmp_path / "report.html").read_text()
    (tmp_path / "report.html").unlink()  # and `deltaprop report RUN` reloads the recorded set the same way
    code, stdout, err = cli(capsys, "report", tmp_path)
    assert code == 0, err
    assert "the first 100 rows of each split" in (tmp_path / "report.html").read_text()
    code, stdout, err = cli(capsys, "explain", tmp_path / "model.npz", "--weight", "1:0,0")
    assert code == 0 and "∂C/∂w" in stdout, err
    # a model file moved away from its data cannot make deltaprop open the recorded files
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    (moved / "model.npz").write_bytes((tmp_path / "model.npz").read_bytes())
    code, _, err = cli(capsys, "evaluate", moved / "model.npz")
    assert code != 0 and "not beside the model" in err and err.count("\n") == 1, err
    code, stdout, err = cli(capsys, "evaluate", moved / "model.npz", "--dataset", spec)
    assert code == 0 and "400 examples" in stdout, err


def _bad(tmp_path, X, y):
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    np.save(tmp_path / "X3.npy", X.reshape(N, 2, 3))
    np.save(tmp_path / "Xtext.npy", X.astype(str))
    np.save(tmp_path / "yshort.npy", y[:10])
    return {
        "npy:{d}/X.npy": "npy:{d}/X.npy needs the X file and the y file, comma separated: npy:X.npy,y.npy",
        "npy:{d}/none.npy,{d}/y.npy": "npy file not found: {d}/none.npy",
        "npy:{d}/X3.npy,{d}/y.npy": r"{d}/X3.npy: X must be 2-D (n_samples, n_features), got shape (2000, 2, 3)",
        "npy:{d}/Xtext.npy,{d}/y.npy": "{d}/Xtext.npy: X must be numeric, got dtype <U",
        "npy:{d}/X.npy,{d}/yshort.npy": "{d}/yshort.npy: y must hold one target per example (2000), got shape (10,)",
        "hdf5:{d}/none.h5": "hdf5 file not found: {d}/none.h5",
        "hdf5:{d}/d.h5:X,labels": "{d}/d.h5: no dataset 'labels' (found: X, y); name X and y after the path",
        "hdf5:{d}/X.npy": "{d}/X.npy: not a readable HDF5 file",
        "zarr:{d}/none.zarr": "zarr directory not found: {d}/none.zarr; expected a Zarr group",
        "zarr:{d}/d.zarr:X,labels": "{d}/d.zarr: no array 'labels' (found: X, y)",
    }


def test_bad_streamed_data_sets_get_one_line_errors_naming_the_file_and_field(data, tmp_path, capsys):
    h5py, zarr = pytest.importorskip("h5py"), pytest.importorskip("zarr")
    X, y = data
    with h5py.File(tmp_path / "d.h5", "w") as f:
        f["X"], f["y"] = X, y
    group = zarr.open_group(str(tmp_path / "d.zarr"), mode="w")
    group.create_array("X", shape=X.shape, dtype="f4")[:] = X
    group.create_array("y", shape=y.shape, dtype="i8")[:] = y
    for spec, message in _bad(tmp_path, X, y).items():
        spec, message = spec.format(d=tmp_path), message.format(d=tmp_path)
        with pytest.raises(DatasetError) as exc:
            load_dataset(spec)
        assert str(exc.value).startswith(message) and "\n" not in str(exc.value), (spec, str(exc.value))
    code, _, err = cli(capsys, "train", "--dataset", f"npy:{tmp_path}/X3.npy,{tmp_path}/y.npy", "--out", tmp_path / "r")
    assert code != 0 and err.startswith(f"error: {tmp_path}/X3.npy: X must be 2-D") and err.count("\n") == 1, err


def test_lbfgs_on_npy_hdf5_and_zarr_reads_the_blocks_in_order_with_the_same_weights(data, tmp_path, capsys):
    """Full-batch methods on a streamed data set evaluate J and ∂J/∂θ block by block (every
    source the same weights); the model records the block size."""
    from deltaprop.modelfile import load

    X, y = data
    weights = {}
    for kind in ("npy", "hdf5", "zarr"):
        spec = write(kind, X, y, tmp_path / kind / "data")
        code, _, err = cli(capsys, "train", "--dataset", spec, "--out", tmp_path / kind, "--optimizer", "lbfgs",
                           "--epochs", "3", "--layers", "4", "--block-size", "100", "-q")
        assert code == 0, err
        net = load(tmp_path / kind / "model.npz")
        assert read_header(tmp_path / kind / "model.npz")["training"]["options"]["block_size"] == 100
        weights[kind] = [*net.weights, *net.biases]
    assert all(np.array_equal(a, b) for other in ("hdf5", "zarr") for a, b in zip(weights[other], weights["npy"]))


def test_checkpoint_blocks_writes_inside_the_epoch_and_resume_continues_bit_identically(data, tmp_path, capsys):
    """--checkpoint-blocks 2 on a streamed npy: the run's checkpoint holds a position inside the
    epoch; --resume from it ends with the weights of a run never stopped."""
    import shutil

    from deltaprop.modelfile import load, load_checkpoint

    X, y = data
    spec = write("npy", X, y, tmp_path / "data")
    args = ["--dataset", spec, "--layers", "4", "--epochs", "2", "--batch-size", "32", "--block-size", "100", "-q"]
    assert cli(capsys, "train", *args, "--out", tmp_path / "whole")[0] == 0

    class Stop(dp.training.Callback):  # Ctrl-C would write its own; a crash writes nothing more
        def on_batch_end(self, trainer, batch, n_batches, cost):
            if trainer.epoch == 1 and batch == 30:
                raise SystemExit(9)

    import unittest.mock

    real_fit = dp.training.fit

    def crashing_fit(*a, callbacks=(), **kw):
        return real_fit(*a, callbacks=[*callbacks, Stop()], **kw)

    with unittest.mock.patch.object(dp.training, "fit", crashing_fit), pytest.raises(SystemExit):
        main(["train", *args, "--out", str(tmp_path / "crashed"), "--checkpoint-blocks", "2"])
    position = load_checkpoint(tmp_path / "crashed" / "checkpoint.npz").meta["position"]
    assert position["block"] in (2, 4, 6, 8, 10, 12) and position["batch"] > 0
    code, _, err = cli(capsys, "train", "--out", tmp_path / "crashed", "--resume", "-q")
    assert code == 0, err
    a, b = load(tmp_path / "whole" / "model.npz"), load(tmp_path / "crashed" / "model.npz")
    assert all(np.array_equal(p, q) for p, q in zip([*a.weights, *a.biases], [*b.weights, *b.biases]))
    shutil.rmtree(tmp_path / "crashed")


@pytest.mark.parametrize("args, message", [
    (["--checkpoint-blocks", "2"], "--checkpoint-blocks writes checkpoints inside the epochs of an npy:, hdf5: or zarr:"),
    (["--dataset", "npy:{d}/X.npy,{d}/y.npy", "--checkpoint-blocks", "0"], "--checkpoint-blocks must be a positive"),
    (["--dataset", "npy:{d}/X.npy,{d}/y.npy", "--optimizer", "lbfgs", "--checkpoint-blocks", "2"],
     "--checkpoint-blocks is for mini-batch training"),
    (["--block-size", "100"], "--block-size is the rows per read of an npy:, hdf5: or zarr: data set; digits is loaded"),
    (["--dataset", "npy:{d}/X.npy,{d}/y.npy", "--block-size", "0"], "--block-size must be a positive integer"),
])
def test_block_size_is_checked(data, tmp_path, capsys, args, message):
    write("npy", *data, tmp_path)
    code, _, err = cli(capsys, "train", "--out", tmp_path / "r", "-q", *[a.format(d=tmp_path) for a in args])
    assert code != 0 and err.startswith(f"error: {message}") and err.count("\n") == 1, err
