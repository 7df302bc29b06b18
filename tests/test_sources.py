"""Row-sliceable sources and ``fit(..., shuffle="blocks")``: the block order, identical weights
from every source, memory, per-block checks, the reader thread and streaming statistics."""

import threading
import tracemalloc

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.modelfile import load_checkpoint
from deltaprop.preprocessing import Preprocessing
from deltaprop.sources import SourceError, block_order
from deltaprop.training import Callback, ReferenceStep

N, FEATURES = 1000, 6


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N, FEATURES)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 1)
    return X, y


def new_net():
    return dp.Network([FEATURES, 5, 3], dtype="float32", seed=1)


class Logged:
    """A row-sliceable source (shape, dtype, __getitem__) that notes every read."""

    def __init__(self, X, fail_at=None):
        self.X, self.shape, self.dtype = X, X.shape, X.dtype
        self.reads, self.fail_at = [], fail_at

    def __getitem__(self, key):
        assert isinstance(key, slice), f"a source is read by slices, got {key!r}"
        self.reads.append((key.start, key.stop))
        if self.fail_at is not None and key.start <= self.fail_at < key.stop:
            raise OSError("disk gone")
        return self.X[key]


def order_of(seed, n, block_size):
    spans, perms = block_order(np.random.default_rng(seed), n, block_size)
    return np.concatenate([start + perm for (start, _), perm in zip(spans, perms)])


@pytest.mark.parametrize("n, block_size", [(1000, 150), (7, 3), (5, 10), (64, 64)])
def test_block_order_is_a_function_of_seed_rows_and_block_size_visiting_every_row_once(n, block_size):
    order = order_of(3, n, block_size)
    assert np.array_equal(order, order_of(3, n, block_size))  # the same three arguments: the same order
    assert np.array_equal(np.sort(order), np.arange(n))  # every row once
    spans, _ = block_order(np.random.default_rng(3), n, block_size)
    assert sorted(spans) == [(s, min(s + block_size, n)) for s in range(0, n, block_size)]
    at = 0
    for start, stop in spans:  # each block's rows come together
        assert set(order[at : at + stop - start]) == set(range(start, stop))
        at += stop - start
    if n > 10:
        assert not np.array_equal(order, order_of(4, n, block_size))
        assert not np.array_equal(order, np.arange(n))


@pytest.mark.parametrize("batch_size, block_size", [(32, 150), (64, 20), (50, 50)])
def test_blocks_cut_the_epoch_order_into_batches_as_shuffle_true_cuts_its_permutation(data, batch_size, block_size):
    """Batches that span two (or more) blocks included: the same steps as a hand-written loop."""
    X, y = data
    net = new_net()
    net.fit(X, y, epochs=2, batch_size=batch_size, shuffle="blocks", block_size=block_size, seed=5,
            engine="reference", l2=0.5)
    manual = new_net()
    manual.classes_ = net.classes_
    Y = dp.one_hot(y, 3).astype(np.float32)
    opt = dp.optimizers.get_optimizer("sgd")
    step = ReferenceStep(manual, opt, 0.5, X, Y, batch_size)
    rng = np.random.default_rng(5)
    for _ in range(2):
        spans, perms = block_order(rng, N, block_size)
        order = np.concatenate([start + perm for (start, _), perm in zip(spans, perms)])
        for at in range(0, N, batch_size):
            step(order[at : at + batch_size])
    for a, b in zip([*net.weights, *net.biases], [*manual.weights, *manual.biases]):
        assert np.array_equal(a, b)


def _sources(X, tmp_path):
    yield "in RAM", X
    np.save(tmp_path / "X.npy", X)
    yield "memmap", np.load(tmp_path / "X.npy", mmap_mode="r")
    try:
        import h5py
    except ImportError:
        yield "h5py", None
    else:
        with h5py.File(tmp_path / "X.h5", "w") as f:
            f.create_dataset("X", data=X, chunks=(97, FEATURES))
        yield "h5py", h5py.File(tmp_path / "X.h5", "r")["X"]
    try:
        import zarr
    except ImportError:
        yield "zarr", None
    else:
        z = zarr.open_array(str(tmp_path / "X.zarr"), mode="w", shape=X.shape, dtype="f4", chunks=(77, 4))
        z[:] = X
        yield "zarr", zarr.open_array(str(tmp_path / "X.zarr"), mode="r")
    try:
        import dask.array as da
    except ImportError:
        yield "dask", None
    else:
        yield "dask", da.from_array(X, chunks=(113, 5))


@pytest.mark.parametrize("validation", [None, 0.2])
def test_every_source_gives_identical_weights_after_two_epochs(data, tmp_path, validation):
    X, y = data
    results = {}
    for name, source in _sources(X, tmp_path):
        if source is None:
            continue  # its package is not installed
        net = new_net()
        history = net.fit(source, y, epochs=2, batch_size=32, optimizer="adam", shuffle="blocks", block_size=150,
                          seed=7, validation=validation)
        results[name] = ([*net.weights, *net.biases], history["cost"], [r.get("val_cost") for r in history.records])
    assert len(results) >= 2
    reference = results.pop("in RAM")
    for name, (params, costs, val_costs) in results.items():
        assert all(np.array_equal(a, b) for a, b in zip(params, reference[0])), name
        assert costs == reference[1] and val_costs == reference[2], name


def test_the_source_is_read_block_by_block_each_block_once_an_epoch_in_ascending_slices(data):
    X, y = data
    source = Logged(X)
    dp.Network([FEATURES, 5, 3], seed=1).fit(source, y, epochs=2, batch_size=16, shuffle="blocks", block_size=150,
                                             seed=0)
    first, *blocks = source.reads
    assert first == (0, 150)  # the divergence reference: the first ≤ 1024 rows of the first block, one read
    spans = [(s, min(s + 150, N)) for s in range(0, N, 150)]
    assert sorted(blocks[: len(spans)]) == spans and sorted(blocks[len(spans):]) == spans
    assert blocks[: len(spans)] != blocks[len(spans):]  # another block order in epoch 2


def test_a_nan_in_the_last_block_is_reported_only_when_reached_naming_its_row(data):
    X, y = data
    X = X.copy()
    spans, _ = block_order(np.random.default_rng(0), N, 100)
    last = spans[-1][0] + 17  # a row of the block the epoch reaches last
    X[last, 4] = np.nan

    class Count(Callback):
        batches = 0

        def on_batch_end(self, trainer, batch, n_batches, cost):
            Count.batches += 1

    net = new_net()
    before = [W.copy() for W in net.weights]
    with pytest.raises(SourceError, match=rf"^X contains nan at \[{last}, 4\]; NaN and infinity are not allowed$"):
        net.fit(X, y, epochs=1, batch_size=10, shuffle="blocks", block_size=100, seed=0, callbacks=[Count()])
    assert Count.batches == 90  # the nine blocks before it trained
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, before))  # back to the last whole epoch


def _readers():
    return [t for t in threading.enumerate() if t.name == "deltaprop-block-reader"]


def test_a_read_error_is_raised_in_the_training_thread_and_the_reader_ends(data):
    X, y = data
    with pytest.raises(SourceError, match=r"^reading rows 500–599 of X \(Logged\) failed: OSError: disk gone$"):
        new_net().fit(Logged(X, fail_at=550), y, epochs=1, batch_size=10, shuffle="blocks", block_size=100, seed=0)
    assert not _readers()


def test_ctrl_c_mid_epoch_ends_the_reader_and_keeps_the_state_at_the_latest_block_start(data):
    X, y = data

    class Interrupt(Callback):
        def on_batch_end(self, trainer, batch, n_batches, cost):
            if trainer.epoch == 1 and batch == 35:
                raise KeyboardInterrupt

    net = new_net()
    history = net.fit(X, y, epochs=3, batch_size=10, shuffle="blocks", block_size=100, seed=0, callbacks=[Interrupt()])
    assert history.stop_reason == "interrupted" and len(history) == 1
    assert not _readers()
    # the network holds the state after batch 30 of epoch 2 (the start of its fourth block)
    assert not any(np.array_equal(a, b) for a, b in zip(net.weights, _after_one_epoch(X, y)))


def _after_one_epoch(X, y):
    once = new_net()
    once.fit(X, y, epochs=1, batch_size=10, shuffle="blocks", block_size=100, seed=0)
    return once.weights


def test_fit_on_a_200_mb_memmap_traces_far_less_memory_than_its_size(tmp_path):
    rows, features = 66_000, 784  # 207 MB of float32
    mm = np.lib.format.open_memmap(tmp_path / "X.npy", mode="w+", dtype=np.float32, shape=(rows, features))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 8192):
        mm[start : start + 8192] = rng.random((min(8192, rows - start), features), dtype=np.float32)
    mm.flush()
    del mm
    X = np.load(tmp_path / "X.npy", mmap_mode="r")
    y = rng.integers(0, 2, rows)
    net = dp.Network([features, 4, 2], dtype="float32", seed=0)
    import sklearn.model_selection  # noqa: F401  (the split's import is not the data's memory)

    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        net.fit(X, y, epochs=1, batch_size=512, shuffle="blocks", block_size=2048, seed=0, validation=0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - start < 0.25 * X.nbytes, f"{(peak - start) / 2**20:.0f} MiB traced for {X.nbytes / 2**20:.0f} MiB"


@pytest.mark.parametrize("kind", ["h5py", "zarr", "dask"])
def test_fit_on_h5py_zarr_and_dask_sources_traces_less_than_half_their_size(tmp_path, kind, monkeypatch):
    """Preprocessing statistics, training and validation read block by block: the traced peak
    stays under half the source's size. (A 41 MB X, so blocks and read-ahead scaled down with it,
    to 1/39 and 1/10 of it: at the defaults, 16 MiB blocks four ahead are 1/64 and 1/16 of a
    1 GiB source. What is traced is a few blocks — read ahead, and float64 temporaries of the
    statistics and the standardisation — never the source.)"""
    pytest.importorskip(kind if kind != "dask" else "dask.array")
    from deltaprop import defaults

    monkeypatch.setattr(defaults, "BLOCK_BYTES", 1 << 20)
    monkeypatch.setattr(defaults, "READ_AHEAD_BYTES", 4 << 20)
    rows, features = 13_000, 784
    rng = np.random.default_rng(0)
    if kind == "dask":
        import dask.array as da

        X = da.random.default_rng(0).random((rows, features), chunks=(1000, features), dtype=np.float32)
    else:
        data = rng.random((rows, features), dtype=np.float32)
        if kind == "h5py":
            import h5py

            with h5py.File(tmp_path / "X.h5", "w") as f:
                f.create_dataset("X", data=data, chunks=(512, features))
            X = h5py.File(tmp_path / "X.h5", "r")["X"]
        else:
            import zarr

            zarr.open_array(str(tmp_path / "X.zarr"), mode="w", shape=data.shape, dtype="f4", chunks=(512, features))[:] = data
            X = zarr.open_array(str(tmp_path / "X.zarr"), mode="r")
        del data
    y = rng.integers(0, 2, rows)
    nbytes = rows * features * 4
    net = dp.Network([features, 4, 2], dtype="float32", seed=0)
    net.preprocessing = Preprocessing("standardize")
    net.preprocessing.fit(X[:10])  # (imports and first calls outside the measurement)
    net.preprocessing = Preprocessing("standardize")
    import sklearn.model_selection  # noqa: F401

    tracemalloc.start()
    try:
        start, _ = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        net.preprocessing.fit(X)
        net.fit(X, y, epochs=1, batch_size=256, shuffle="blocks", seed=0, validation=0.1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak - start < 0.5 * nbytes, f"{kind}: {(peak - start) / 2**20:.0f} MiB traced for {nbytes / 2**20:.0f} MiB"


def test_standardize_statistics_in_one_streaming_pass_are_stable_on_a_large_offset():
    rng = np.random.default_rng(0)
    X = 1e8 + rng.normal(size=(5000, 3)) * np.array([1.0, 1e-3, 10.0])
    source = Logged(X)
    prep = Preprocessing("standardize").fit(source, block_size=700)
    assert sorted(source.reads) == [(s, min(s + 700, 5000)) for s in range(0, 5000, 700)]  # one pass
    np.testing.assert_allclose(prep.mean, np.mean(X, axis=0, dtype=np.float64), rtol=1e-14)
    np.testing.assert_allclose(prep.scale, np.std(X, axis=0, dtype=np.float64), rtol=2e-6)
    # data of one block: exactly what fitting all of it in memory gives
    assert Preprocessing("standardize").fit(X, block_size=5000) == Preprocessing("standardize").fit(X)


def test_streaming_statistics_of_extreme_columns_and_the_pixel_maximum():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(900, 2))
    X[600:, 0] *= 1e200  # a column that becomes extreme in a later block: rescaled, exactly
    whole = Preprocessing("standardize").fit(X, block_size=900)
    streamed = Preprocessing("standardize").fit(Logged(X), block_size=250)
    np.testing.assert_allclose(streamed.mean, whole.mean, rtol=1e-12)
    np.testing.assert_allclose(streamed.scale, whole.scale, rtol=1e-12)
    pixels = rng.integers(0, 200, size=(900, 4)).astype(np.uint8)
    pixels[777, 2] = 254
    assert Preprocessing("scale").fit(Logged(pixels), block_size=100).max_value == 254.0


def test_preprocessed_training_from_a_source_checks_blocks_with_their_rows(data, tmp_path):
    X, y = data
    np.save(tmp_path / "X.npy", X.astype(np.float64) * 1e3 + 5)
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    net, same = new_net(), new_net()
    net.preprocessing = Preprocessing("standardize").fit(mm, block_size=128)
    same.preprocessing = Preprocessing("standardize").fit(np.array(mm), block_size=128)
    net.fit(mm, y, epochs=1, batch_size=32, shuffle="blocks", block_size=128, seed=0)
    same.fit(np.array(mm), y, epochs=1, batch_size=32, shuffle="blocks", block_size=128, seed=0)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, same.weights))


def test_shuffle_and_block_size_are_checked(data):
    X, y = data
    net = new_net()
    with pytest.raises(ValueError, match=r"^shuffle must be True, False or 'blocks', got 'block'$"):
        net.fit(X, y, shuffle="block")
    with pytest.raises(ValueError, match=r"^block_size=100 applies only with shuffle='blocks' \(shuffle is True\)$"):
        net.fit(X, y, block_size=100)
    with pytest.raises(ValueError, match=r"^block_size must be an integer ≥ 1, got 0$"):
        net.fit(X, y, shuffle="blocks", block_size=0)
    with pytest.raises(ValueError, match=r"^X has 5 features per example but the network's input layer has 6"):
        net.fit(X[:, :5], y, shuffle="blocks")


@pytest.mark.parametrize("method", [dict(optimizer="lbfgs"), dict(optimizer="cg"), dict(optimizer="adam", batch_size=None)])
def test_full_batch_methods_read_a_source_block_by_block_and_every_source_gives_the_same_weights(data, tmp_path, method):
    """lbfgs, cg and batch_size=None evaluate J and ∂J/∂θ block by block (fullbatch.BlockCost):
    slices of at most block_size rows, never the whole source; every source gives bit-identical
    weights, equal to the rows in memory (fullbatch.FlatCost) to rounding."""
    X, y = data
    X = X.astype(np.float64)
    kw = dict(epochs=4, l2=0.5, seed=0, shuffle="blocks", block_size=150, validation=0.2, **method)
    logged = Logged(X)
    results = {}
    for name, source in [("logged", logged), *_sources(X.astype(np.float32), tmp_path)]:
        if source is None:
            continue
        net = dp.Network([FEATURES, 5, 3], seed=1)
        history = net.fit(source, y, **kw)
        results[name] = ([*net.weights, *net.biases], history["cost"])
    assert logged.reads and all(stop - start <= 150 for start, stop in logged.reads)
    assert max(stop for _, stop in logged.reads) <= N and len(results) >= 3
    reference = results.pop("memmap")
    for name, (params, costs) in results.items():
        if name == "logged":  # float64 rows, vs the float32 of the others: equal to float32 rounding
            assert all(np.allclose(a, b, rtol=1e-4, atol=1e-5) for a, b in zip(params, reference[0])), name
        else:
            assert all(np.array_equal(a, b) for a, b in zip(params, reference[0])) and costs == reference[1], name
    in_memory = dp.Network([FEATURES, 5, 3], seed=1)
    in_memory.fit(X, y, **{**kw, "shuffle": False, "block_size": None})  # FlatCost on the same split
    for a, b in zip(results["logged"][0], [*in_memory.weights, *in_memory.biases]):
        np.testing.assert_allclose(a, b, rtol=1e-8, atol=1e-10)


def test_the_block_cost_equals_the_flat_cost_with_and_without_sample_weights():
    from deltaprop.fullbatch import BlockCost, FlatCost, unroll
    from deltaprop.training import prepare, prepare_blocks

    rng = np.random.default_rng(2)
    X = rng.normal(size=(700, FEATURES))
    y = rng.integers(0, 3, 700)
    w = rng.random(700) + 0.5
    net = dp.Network([FEATURES, 5, 3], seed=1)
    theta = unroll(net.weights, net.biases)
    for weights in (None, w):
        for engine in ("auto", "reference"):
            flat = FlatCost(net, prepare(net, X, y, sample_weight=weights), 0.3, engine)(theta)
            block = BlockCost(net, prepare_blocks(net, X, y, sample_weight=weights, block_size=64), 0.3, engine)(theta)
            assert np.isclose(block[0], flat[0], rtol=1e-13)
            np.testing.assert_allclose(block[1], flat[1], rtol=1e-11, atol=1e-14)


def test_evaluate_and_predict_read_a_source_block_by_block(data, monkeypatch):
    from deltaprop import defaults

    X, y = data
    net = new_net()
    net.fit(X, y, epochs=2, seed=0)
    monkeypatch.setattr(defaults, "BLOCK_BYTES", 4 * FEATURES * 300)  # blocks of 300 rows
    source = Logged(X)
    assert np.array_equal(net.predict(source), net.predict(X))
    assert source.reads == [(0, 300), (300, 600), (600, 900), (900, 1000)]
    assert np.array_equal(net.predict_proba(Logged(X)), net.predict_proba(X))
    streamed, whole = net.evaluate(Logged(X), y, l2=0.3), net.evaluate(X, y, l2=0.3)
    assert streamed["accuracy"] == whole["accuracy"]
    assert streamed["cost"] == pytest.approx(whole["cost"], rel=1e-12)
    bad = X.copy()
    bad[712, 1] = np.inf
    with pytest.raises(ValueError, match=r"^X contains inf at \[712, 1\]; NaN and infinity are not allowed$"):
        net.predict(Logged(bad))


def test_a_dask_array_on_a_distributed_client_gives_the_in_ram_weights(data):
    pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    import dask.array as da

    X, y = data
    in_ram = new_net()
    in_ram.fit(X, y, epochs=2, batch_size=32, shuffle="blocks", block_size=150, seed=7)
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=1, dashboard_address=None):
        net = new_net()
        net.fit(da.from_array(X, chunks=(113, 5)).persist(), y, epochs=2, batch_size=32, shuffle="blocks",
                block_size=150, seed=7)
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, in_ram.weights))


def test_resuming_a_block_shuffled_run_from_an_epoch_checkpoint_is_bit_identical(data, tmp_path):
    X, y = data
    kw = {"batch_size": 32, "optimizer": "adam", "shuffle": "blocks", "block_size": 150, "seed": 3}
    whole = new_net()
    whole.fit(X, y, epochs=3, **kw)
    first = new_net()
    first.fit(X, y, epochs=1, checkpoint=tmp_path / "run.ckpt", **kw)
    resumed = new_net()
    history = resumed.fit(X, y, epochs=3, resume=tmp_path / "run.ckpt", **kw)
    assert len(history) == 3 and history.records[0] == first.history.records[0]
    assert all(np.array_equal(a, b) for a, b in zip([*resumed.weights, *resumed.biases], [*whole.weights, *whole.biases]))


def test_ctrl_c_in_the_middle_of_epoch_two_then_resume_is_bit_identical_to_an_uninterrupted_run(data, tmp_path):
    X, y = data
    kw = {"batch_size": 32, "optimizer": "adam", "shuffle": "blocks", "block_size": 150, "seed": 3}
    whole = new_net()
    whole.fit(X, y, epochs=3, **kw)

    class Interrupt(Callback):
        def on_batch_end(self, trainer, batch, n_batches, cost):
            if trainer.epoch == 1 and batch == 20:
                raise KeyboardInterrupt

    stopped = new_net()
    history = stopped.fit(X, y, epochs=3, checkpoint=tmp_path / "run.ckpt", callbacks=[Interrupt()], **kw)
    assert history.stop_reason == "interrupted" and len(history) == 1
    position = load_checkpoint(tmp_path / "run.ckpt").meta["position"]
    assert position["batch"] > 0 and position["block"] > 0  # inside epoch 2, not at its start
    resumed = new_net()
    history = resumed.fit(X, y, epochs=3, resume=tmp_path / "run.ckpt", **kw)
    assert [r["cost"] for r in history.records] == whole.history["cost"]
    assert all(np.array_equal(a, b) for a, b in zip([*resumed.weights, *resumed.biases], [*whole.weights, *whole.biases]))
    with pytest.raises(ValueError, match=r"stopped inside epoch 2: resume it with the same shuffle='blocks', "
                                         r"block_size=150, batch_size=32$"):
        new_net().fit(X, y, epochs=3, resume=tmp_path / "run.ckpt", **{**kw, "block_size": 100})


KILLED_RUN = """
import os, signal, sys
import numpy as np
import deltaprop as dp
from deltaprop.training import Callback

X, y = np.load(sys.argv[1]), np.load(sys.argv[2])


class Kill(Callback):
    def on_batch_end(self, trainer, batch, n_batches, cost):
        if trainer.epoch == 1 and batch == 25:
            os.kill(os.getpid(), signal.SIGKILL)  # no handler, no finally: the process is gone


net = dp.Network([X.shape[1], 5, 3], dtype="float32", seed=1)
net.fit(X, y, epochs=3, batch_size=32, optimizer="adam", shuffle="blocks", block_size=150, seed=3,
        checkpoint=sys.argv[3], checkpoint_blocks=2, callbacks=[Kill()])
"""


def test_a_run_killed_mid_epoch_resumes_from_its_last_block_checkpoint_bit_identically(data, tmp_path):
    """SIGKILL in the middle of epoch 2 (nothing runs after it): with checkpoint_blocks=2 the
    file holds the start of the last even block reached; resuming gives the weights and costs
    of a run never interrupted."""
    import signal
    import subprocess
    import sys

    X, y = data
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", y)
    (tmp_path / "run.py").write_text(KILLED_RUN)
    done = subprocess.run([sys.executable, tmp_path / "run.py", tmp_path / "X.npy", tmp_path / "y.npy",
                           tmp_path / "run.ckpt"], capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr
    ckpt = load_checkpoint(tmp_path / "run.ckpt")
    position = ckpt.meta["position"]
    assert ckpt.meta["epoch"] == 1 and position["block"] in (2, 4) and 0 < position["batch"] <= 25
    kw = {"batch_size": 32, "optimizer": "adam", "shuffle": "blocks", "block_size": 150, "seed": 3}
    whole = new_net()
    whole.fit(X, y, epochs=3, **kw)
    resumed = new_net()
    history = resumed.fit(X, y, epochs=3, resume=tmp_path / "run.ckpt", **kw)
    assert [r["cost"] for r in history.records] == whole.history["cost"]
    assert all(np.array_equal(a, b) for a, b in zip([*resumed.weights, *resumed.biases], [*whole.weights, *whole.biases]))


@pytest.mark.parametrize("kwargs, message", [
    (dict(shuffle=True, checkpoint="c.ckpt"), "checkpoint_blocks=2 writes checkpoints inside an epoch of shuffle='blocks'"),
    (dict(shuffle="blocks"), "give checkpoint= and shuffle='blocks'"),
    (dict(shuffle="blocks", checkpoint="c.ckpt", optimizer="lbfgs"), "with a mini-batch method"),
])
def test_checkpoint_blocks_needs_blocks_a_checkpoint_and_mini_batches(data, tmp_path, kwargs, message):
    X, y = data
    kwargs = {k: (tmp_path / v if k == "checkpoint" else v) for k, v in kwargs.items()}
    with pytest.raises(ValueError, match=message):
        new_net().fit(X, y, epochs=1, checkpoint_blocks=2, **kwargs)
    with pytest.raises(ValueError, match="checkpoint_blocks must be a positive number of blocks, got 0"):
        new_net().fit(X, y, epochs=1, shuffle="blocks", checkpoint=tmp_path / "c.ckpt", checkpoint_blocks=0)


# ---------------------------------------------------------------- reading a file's memory map directly
def _npy(tmp_path, X, name="X.npy"):
    np.save(tmp_path / name, X)
    return np.load(tmp_path / name, mmap_mode="r")


@pytest.mark.parametrize("dtype", ["<f4", ">f8", "u1"])
def test_a_read_only_memmap_is_read_directly_into_the_callers_memory(tmp_path, dtype):
    """All rows and a split's rows (moved together in place): equal to the map's rows, living in
    ``out``; a slice of rows of the map (its own file offset) too."""
    from deltaprop.sources import Source, page_aligned

    rng = np.random.default_rng(0)
    X = (rng.random((3001, 37)) * 200).astype(dtype)
    mm = _npy(tmp_path, X)
    held_out = np.sort(rng.choice(3001, 300, replace=False))
    for array, rows in [(mm, None), (mm, np.setdiff1d(np.arange(3001), held_out)), (mm[1234:2999], None),
                        (mm[7:], rng.choice(2994, 1000, replace=False))]:
        source = Source(array, rows)
        assert source.file is not None and source.file.usable
        expected = np.asarray(array) if rows is None else np.asarray(array)[np.sort(rows)]
        for start, stop in [(0, len(source)), (5, 6), (17, 901), (len(source) - 3, len(source))]:
            out = page_aligned(source.read_bytes(start, stop))
            got = source.read(start, stop, out)
            assert got.dtype == np.dtype(dtype) and np.shares_memory(got, out)
            assert np.array_equal(got, expected[start:stop])
            assert np.array_equal(source.read(start, stop), expected[start:stop])  # without out: a copy


def test_memmaps_that_may_differ_from_their_file_are_not_read_directly(tmp_path):
    from deltaprop.sources import Source

    _npy(tmp_path, np.ones((10, 3), np.float32))
    assert Source(np.load(tmp_path / "X.npy", mmap_mode="c")).file is None  # copy-on-write: changes in memory only
    assert Source(np.load(tmp_path / "X.npy", mmap_mode="r+")).file is None
    assert Source(np.load(tmp_path / "X.npy", mmap_mode="r")[:, :2]).file is None  # rows not contiguous
    assert Source(np.load(tmp_path / "X.npy", mmap_mode="r")[::2]).file is None


def test_where_o_direct_is_refused_the_map_is_copied_into_the_same_memory(tmp_path, monkeypatch):
    import errno
    import os

    from deltaprop import sources

    X = np.arange(600, dtype=np.float32).reshape(200, 3)
    source = sources.Source(_npy(tmp_path, X), np.arange(0, 200, 2))
    real_open = os.open

    def no_direct(path, flags, *args):
        if flags & os.O_DIRECT:
            raise OSError(errno.EINVAL, "Invalid argument")
        return real_open(path, flags, *args)

    monkeypatch.setattr(sources.os, "open", no_direct)
    out = sources.page_aligned(source.read_bytes(0, 100))
    got = source.read(0, 100, out)
    assert not source.file.usable and np.shares_memory(got, out) and np.array_equal(got, X[::2])


def test_a_file_truncated_under_its_memmap_is_a_one_line_error_naming_the_rows(tmp_path):
    import os

    from deltaprop.sources import Source, page_aligned

    mm = _npy(tmp_path, np.ones((5000, 8), np.float32))
    source = Source(mm)
    os.truncate(tmp_path / "X.npy", 128 + 8 * 4 * 3000)  # header + 3000 rows
    out = page_aligned(source.read_bytes(0, 5000))
    assert np.array_equal(source.read(0, 3000, out), np.ones((3000, 8)))
    with pytest.raises(SourceError, match=r"reading rows 0–4999 of X \(.*X\.npy\) failed: .*ends at byte"):
        source.read(0, 5000, out)


def test_the_block_reader_reuses_its_buffers_a_block_valid_until_the_next_is_taken(tmp_path):
    import time

    from deltaprop.sources import BlockReader, Source

    X = np.random.default_rng(0).random((2000, 4)).astype(np.float32)
    spans = block_order(np.random.default_rng(1), 2000, 100)[0]
    with BlockReader(Source(_npy(tmp_path, X)), spans, lambda block, start: block) as reader:
        assert reader.ahead == 4 and len(reader.buffers) == 5
        for k, (start, block) in enumerate(reader):
            time.sleep(0.005)  # the reader fills the blocks ahead meanwhile
            assert np.array_equal(block, X[start : start + 100])  # intact while it is the consumer's
            assert np.shares_memory(block, reader.buffers[k % 5])
    assert k == 19 and not any(np.shares_memory(a, b) for i, a in enumerate(reader.buffers) for b in reader.buffers[:i])


def test_a_split_of_a_streamed_npy_data_set_reads_the_file_directly(tmp_path):
    from deltaprop import datasets
    from deltaprop.sources import Source, page_aligned

    X = np.random.default_rng(0).random((900, 5)).astype(np.float32)
    np.save(tmp_path / "X.npy", X)
    np.save(tmp_path / "y.npy", (X[:, 0] > 0.5).astype(int))
    data = datasets.load_dataset(f"npy:{tmp_path / 'X.npy'},{tmp_path / 'y.npy'}", seed=0)
    source = Source(data.X_train)
    assert source.file is not None and source.array is data.X_train.source.array
    out = page_aligned(source.read_bytes(0, len(source)))
    got = source.read(0, len(source), out)
    assert np.shares_memory(got, out) and np.array_equal(got, np.asarray(data.X_train))


# ---------------------------------------------------------------- review fixes (each failed before its fix)
def test_a_block_whose_weights_are_all_zero_adds_nothing_to_the_block_cost():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, FEATURES))
    y = rng.integers(0, 3, 400)
    w = rng.random(400) + 0.5
    w[:100] = 0.0  # the whole first block of 100 rows
    kw = dict(epochs=5, optimizer="lbfgs", sample_weight=w, seed=0)
    in_memory = dp.Network([FEATURES, 5, 3], seed=1)
    in_memory.fit(X, y, **kw)
    blocks = dp.Network([FEATURES, 5, 3], seed=1)
    history = blocks.fit(Logged(X), y, block_size=100, **kw)
    assert history.stop_reason in ("completed", "converged")
    for a, b in zip([*blocks.weights, *blocks.biases], [*in_memory.weights, *in_memory.biases]):
        np.testing.assert_allclose(a, b, rtol=1e-7, atol=1e-9)


def test_full_batch_descent_on_a_source_that_diverges_is_training_diverged(data):
    from deltaprop.training import TrainingDiverged

    rng = np.random.default_rng(0)
    X = (rng.normal(size=(400, 4)) * 50).astype(np.float32)
    y = X @ np.ones(4, np.float32) * 100
    net = dp.Network([4, 8, 1], activation="relu", output="linear", cost="quadratic", seed=1, dtype="float32")
    with pytest.raises(TrainingDiverged, match="diverged"):
        net.fit(Logged(X), y, epochs=20, batch_size=None, optimizer="sgd", learning_rate=1e15, seed=0)
    assert all(np.isfinite(W).all() for W in net.weights)  # the last good weights


def test_after_a_mid_epoch_checkpoint_divergence_keeps_the_last_whole_epoch_on_disk(data, tmp_path):
    from deltaprop.training import TrainingDiverged

    X, y = data

    class Poison(Callback):
        def on_batch_end(self, trainer, batch, n_batches, cost):
            if trainer.epoch == 1 and batch == 25:
                trainer.net.weights[0][...] = np.nan

    net = new_net()
    with pytest.raises(TrainingDiverged) as exc:
        net.fit(X, y, epochs=3, batch_size=32, shuffle="blocks", block_size=150, seed=3, checkpoint=tmp_path / "c.ckpt",
                checkpoint_blocks=2, callbacks=[Poison()])
    ckpt = load_checkpoint(exc.value.checkpoint)
    assert ckpt.meta["epoch"] == 1 and ckpt.meta.get("position") is None
    assert all(np.array_equal(a, b) for a, b in zip(ckpt.net.weights, net.weights))


def test_a_checkpointer_given_as_a_callback_writes_inside_the_epoch_too(data, tmp_path):
    from deltaprop.training import Checkpointer

    X, y = data
    writes = []

    class Counting(Checkpointer):
        def write(self, trainer, snapshot=None):
            writes.append((snapshot or {}).get("position"))
            super().write(trainer, snapshot)

    new_net().fit(X, y, epochs=1, batch_size=32, shuffle="blocks", block_size=100, seed=0,
                  callbacks=[Counting(tmp_path / "c.ckpt", every_blocks=3)])
    assert [p["block"] for p in writes if p is not None] == [3, 6, 9]


def test_full_batch_fits_take_another_librarys_tensor_as_an_array_not_a_source(data):
    """A duck-typed array without a NumPy dtype (a torch tensor) is converted, as before."""
    torch = pytest.importorskip("torch")
    X, y = data
    net = new_net()
    net.fit(torch.from_numpy(X), y, epochs=2, optimizer="lbfgs")
    reference = new_net()
    reference.fit(X, y, epochs=2, optimizer="lbfgs")
    assert all(np.array_equal(a, b) for a, b in zip(net.weights, reference.weights))


def test_a_memmap_with_a_full_batch_method_reads_blocks_and_gives_the_other_sources_weights(data, tmp_path):
    X, y = data
    results = []
    for source in _sources(X, tmp_path):
        if source[1] is None or source[0] == "in RAM":
            continue
        net = new_net()
        net.fit(source[1], y, epochs=3, optimizer="lbfgs", block_size=150)  # no shuffle= needed
        results.append([*net.weights, *net.biases])
    assert len(results) >= 2
    assert all(np.array_equal(a, b) for other in results[1:] for a, b in zip(other, results[0]))


def test_a_path_replaced_by_another_file_is_not_read_directly_and_empty_split_reads_work(tmp_path):
    import os

    from deltaprop.sources import Source, page_aligned

    np.save(tmp_path / "X.npy", np.zeros((100, 4), np.float32))
    mm = np.load(tmp_path / "X.npy", mmap_mode="r")
    np.save(tmp_path / "new.npy", np.full((100, 4), 400.0, np.float32))
    os.replace(tmp_path / "new.npy", tmp_path / "X.npy")  # the map still holds the old file
    source = Source(mm)
    out = page_aligned(source.read_bytes(0, 100))
    assert np.array_equal(source.read(0, 100, out), np.zeros((100, 4)))  # what the map holds
    assert not source.file.usable
    split = Source(mm, np.arange(0, 100, 3))
    assert split.read(5, 5).shape == (0, 4)
    with pytest.raises(TypeError, match="out must be bytes"):
        split.read(0, 3, np.empty(100, np.float32))


def test_closing_a_reader_stuck_in_a_read_returns_after_its_wait_and_the_reader_ends_later():
    import time

    from deltaprop.sources import BlockReader, Source

    release = threading.Event()

    class Stuck(Logged):
        def __getitem__(self, key):
            if key.start >= 100:
                release.wait(10)
            return super().__getitem__(key)

    X = np.zeros((300, 2), np.float32)
    reader = BlockReader(Source(Stuck(X)), [(0, 100), (100, 200), (200, 300)], lambda block, start: block)
    with reader:
        start, _ = next(iter(reader))
        began = time.monotonic()
        reader.close(wait=0.3)
        assert time.monotonic() - began < 2 and reader.thread.is_alive()
        release.set()  # its read returns: the reader sees it was stopped and ends (the with's close waits for that)
    assert not reader.thread.is_alive()
