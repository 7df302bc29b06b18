"""Full-batch cost and gradient as per-chunk sums on a Dask cluster (deltaprop.distributed), the
CLI's --dask, and hyperparameter search through joblib's Dask backend."""

import numpy as np
import pytest
from sklearn.datasets import load_digits

import deltaprop as dp
from deltaprop.preprocessing import Preprocessing

distributed = pytest.importorskip("distributed")
da = pytest.importorskip("dask.array")


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(n_workers=3, threads_per_worker=1, processes=True, host="127.0.0.1",
                                       dashboard_address=None)
    with cluster, distributed.Client(cluster) as client:
        yield client


def _digits(m, classes=10):
    X, y = load_digits(return_X_y=True)
    keep = y < classes
    return X[keep][:m], y[keep][:m]


def _on_workers(client, X, k, rows):
    """X as a Dask array of ``rows``-row chunks that live on the first k workers, in turn."""
    workers = sorted(client.scheduler_info()["workers"])[:k]
    starts = range(0, len(X), rows)
    parts = [client.scatter(X[i : i + rows], workers=[workers[j % k]]) for j, i in enumerate(starts)]
    return da.concatenate([da.from_delayed(p, shape=(min(rows, len(X) - i), *X.shape[1:]), dtype=X.dtype)
                           for p, i in zip(parts, starts)])


def _network(X=None, **kwargs):
    net = dp.Network([64, 12, 10], activation="tanh", output="softmax", seed=1, **kwargs)
    if X is not None:
        net.preprocessing = Preprocessing("standardize").fit(X)  # the one home of the statistics
    return net


def _dask_cost(client, net, X, y, k, l2=0.8):
    from deltaprop.distributed import prepare
    from deltaprop.fullbatch import unroll

    data = prepare(net, _on_workers(client, X, k, 97), _on_workers(client, y, k, 97), client=client)
    assert len(data.actors) == k and data.n_chunks == 4
    return data.objective(net, l2)(unroll(net.weights, net.biases))


def test_the_gradient_is_bit_identical_with_1_2_and_3_workers(client):
    X, y = _digits(350)
    results = [_dask_cost(client, _network(X), X, y, k) for k in (1, 2, 3)]
    for cost, grad in results[1:]:
        assert cost == results[0][0]
        np.testing.assert_array_equal(grad, results[0][1])


def test_the_gradient_equals_backward_on_the_gathered_rows(client):
    from deltaprop.fullbatch import unroll

    X, y = _digits(350)
    net = _network(X)
    cost, grad = _dask_cost(client, net, X, y, 2)
    grads = net.backward(X, np.eye(10)[y], l2=0.8)
    np.testing.assert_allclose(grad, unroll(grads.weights, grads.biases), rtol=1e-12, atol=1e-16)
    assert cost == pytest.approx(grads.cost, rel=1e-12)


@pytest.mark.parametrize("kwargs", [dict(optimizer="lbfgs"), dict(optimizer="cg"),
                                    dict(optimizer="adam", batch_size=None, learning_rate=0.01)])
def test_a_full_batch_fit_on_dask_gives_the_single_process_weights(client, kwargs):
    from deltaprop.distributed import fit

    X, y = _digits(300)
    X = X / 16.0
    local, remote = dp.Network([64, 10, 10], output="softmax", seed=3), dp.Network([64, 10, 10], output="softmax", seed=3)
    expected = local.fit(X[:250], y[:250], epochs=15, l2=0.5, validation=(X[250:], y[250:]), **kwargs)
    history = fit(remote, _on_workers(client, X[:250], 2, 60), y[:250], epochs=15, l2=0.5,
                  validation=(X[250:], y[250:]), **kwargs)
    assert [r["epoch"] for r in history] == [r["epoch"] for r in expected]
    for key in ("cost", "accuracy", "val_cost"):
        np.testing.assert_allclose([r[key] for r in history], [r[key] for r in expected], rtol=1e-9)
    for W, W0 in zip([*remote.weights, *remote.biases], [*local.weights, *local.biases]):
        np.testing.assert_allclose(W, W0, rtol=0, atol=1e-9)
    assert history.stop_reason == expected.stop_reason


def test_mini_batches_on_a_dask_array_are_pointed_to_block_streaming(client):
    from deltaprop.distributed import DistributedError, fit

    X, y = _digits(100)
    with pytest.raises(DistributedError, match='shuffle="blocks"') as info:
        fit(dp.Network([64, 10]), _on_workers(client, X, 1, 50), y, optimizer="adam", batch_size=32)
    assert "\n" not in str(info.value)


def test_bad_chunk_rows_are_reported_with_their_place(client):
    from deltaprop.distributed import DistributedError, prepare

    X, y = _digits(100)
    X[73, 5] = np.nan
    with pytest.raises(DistributedError, match=r"chunk of rows from 50: .*\[23, 5\]") as info:
        prepare(dp.Network([64, 10]), _on_workers(client, X, 2, 50), y, client=client)
    assert "\n" not in str(info.value)


def test_train_dask_option_matches_the_run_without_it(client, tmp_path):
    from typer.testing import CliRunner

    from deltaprop.cli import commands  # noqa: F401  (registers the subcommands)
    from deltaprop.cli.app import app
    from deltaprop.modelfile import load

    args = ["train", "--optimizer", "lbfgs", "--epochs", "4", "--layers", "8", "--limit", "400", "--quiet"]
    runner = CliRunner()
    plain = runner.invoke(app, [*args, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    on_dask = runner.invoke(app, [*args, "--out", str(tmp_path / "dask"), "--dask", client.scheduler.address])
    assert on_dask.exit_code == 0, on_dask.output
    assert "on the Dask cluster at" in on_dask.output
    a, b = load(tmp_path / "plain" / "model.npz"), load(tmp_path / "dask" / "model.npz")
    for W, W0 in zip([*b.weights, *b.biases], [*a.weights, *a.biases]):
        np.testing.assert_allclose(W, W0, rtol=0, atol=1e-9)
    bad = runner.invoke(app, [*args[:-1], "--out", str(tmp_path / "bad"), "--dask", client.scheduler.address,
                              "--optimizer", "adam"])
    assert bad.exit_code != 0 and "--dask trains with full-batch methods only" in str(bad.exception)


def test_train_dask_with_a_data_set_read_from_disk_scatters_it_block_by_block(client, tmp_path, monkeypatch):
    """--dask with an npy: data set: the training split goes to the workers in blocks (the client
    reads one at a time, never the split whole), and the model equals the run without --dask."""
    from typer.testing import CliRunner

    from deltaprop.cli import commands  # noqa: F401  (registers the subcommands)
    from deltaprop.cli import train as cli_train
    from deltaprop.cli.app import app
    from deltaprop.datasets import StreamedRows
    from deltaprop.modelfile import load

    X, y = _digits(1000)  # (a training split above the 512 rows the gradient-norm monitor reads)
    np.save(tmp_path / "X.npy", X.astype(np.float32))
    np.save(tmp_path / "y.npy", y)
    monkeypatch.setattr(cli_train, "DASK_CHUNK_BYTES", 64 * 4 * 100)  # blocks of 100 rows
    monkeypatch.setattr(StreamedRows, "__array__", lambda *a, **k: pytest.fail("the split was loaded whole"))
    args = ["train", "--dataset", f"npy:{tmp_path / 'X.npy'},{tmp_path / 'y.npy'}", "--optimizer", "lbfgs",
            "--epochs", "4", "--layers", "8", "--quiet"]
    runner = CliRunner()
    plain = runner.invoke(app, [*args, "--out", str(tmp_path / "plain")])
    assert plain.exit_code == 0, plain.output
    scattered = []
    real_scatter = type(client).scatter
    monkeypatch.setattr(type(client), "scatter", lambda self, data, **kw: scattered.append(len(data)) or
                        real_scatter(self, data, **kw))
    on_dask = runner.invoke(app, [*args, "--out", str(tmp_path / "dask"), "--dask", client.scheduler.address])
    assert on_dask.exit_code == 0, on_dask.output
    assert len(scattered) >= 7 and max(scattered) <= 100  # (700 training rows)
    a, b = load(tmp_path / "plain" / "model.npz"), load(tmp_path / "dask" / "model.npz")
    for W, W0 in zip([*b.weights, *b.biases], [*a.weights, *a.biases]):
        np.testing.assert_allclose(W, W0, rtol=1e-4, atol=1e-6)  # float32 rows: sums in other orders


@pytest.mark.filterwarnings("ignore:.*maximum epochs")
def test_grid_search_through_joblibs_dask_backend_scores_as_a_serial_run(client):
    # docs/scale.md: hyperparameter search on a cluster is joblib's Dask backend, nothing of ours
    import joblib
    from sklearn.model_selection import GridSearchCV

    X, y = _digits(300)
    grid = {"hidden_layer_sizes": [(8,), (16,)], "l2": [1e-4, 1.0]}

    def search():
        return GridSearchCV(dp.MLPClassifier(epochs=5, random_state=0), grid, cv=3).fit(X, y)

    serial = search()
    with joblib.parallel_backend("dask"):
        on_cluster = search()
    np.testing.assert_array_equal(on_cluster.cv_results_["mean_test_score"], serial.cv_results_["mean_test_score"])
    assert on_cluster.best_params_ == serial.best_params_


def test_network_fit_takes_the_cluster_path_for_a_dask_x_and_a_full_batch_method(client):
    """One home: ``Network.fit`` (training.fit) itself sends a Dask X with lbfgs to the workers —
    the actors hold the chunks, so the rows never come to the client as a whole."""
    from deltaprop import distributed

    X, y = _digits(300)
    X = X / 16.0
    local, remote = dp.Network([64, 10, 10], output="softmax", seed=3), dp.Network([64, 10, 10], output="softmax", seed=3)
    local.fit(X, y, epochs=8, l2=0.5, optimizer="lbfgs")
    used = []
    real_prepare = distributed.prepare

    def spy(*args, **kwargs):  # records that the cluster path ran; the work is the real one
        data = real_prepare(*args, **kwargs)
        used.append(len(data.actors))
        return data

    distributed.prepare = spy
    try:
        remote.fit(_on_workers(client, X, 2, 60), y, epochs=8, l2=0.5, optimizer="lbfgs", client=client)
    finally:
        distributed.prepare = real_prepare
    assert used and used[0] >= 1
    for W, W0 in zip([*remote.weights, *remote.biases], [*local.weights, *local.biases]):
        np.testing.assert_allclose(W, W0, rtol=0, atol=1e-9)
    with pytest.raises(ValueError, match="client= takes the full-batch methods") as info:
        dp.Network([64, 10]).fit(X, y, optimizer="adam", client=client)
    assert "\n" not in str(info.value)


def test_preprocessing_statistics_have_one_home_for_a_dask_x(client):
    """A Dask X gets the statistics the in-memory path gets (``Preprocessing.fit``, streamed), and
    an unfitted preprocessing is the same one-line error — a constant column is not scaled by
    rounding noise (Dask's std of a constant 0.1 is ~1e-16, not 0)."""
    import dask.array as da
    from deltaprop.distributed import prepare
    from deltaprop.preprocessing import PreprocessingError

    X, y = _digits(300)
    X[:, 5] = 0.1
    dask_X = _on_workers(client, X, 2, 70)
    from_dask = Preprocessing("standardize").fit(da.from_array(X, chunks=(70, 64)))
    in_memory = Preprocessing("standardize").fit(X)
    np.testing.assert_allclose(from_dask.mean, in_memory.mean, rtol=1e-13)
    np.testing.assert_array_equal(from_dask.scale[5], in_memory.scale[5])
    assert in_memory.scale[5] == 1.0
    net = dp.Network([64, 12, 10], output="softmax", seed=1)
    net.preprocessing = Preprocessing("standardize")
    with pytest.raises(PreprocessingError, match="not fitted yet") as info:
        prepare(net, dask_X, y, client=client)
    assert "\n" not in str(info.value)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_a_chunks_sums_do_not_depend_on_the_other_chunks_its_actor_holds(dtype):
    """The fast evaluator serves a worker's chunks in turn in shared buffers: a chunk's sums are
    bit-identical whatever else the actor holds (so any assignment of chunks to workers gives
    the same sums), and equal ``Network._backprop``'s (engine="reference") to rounding."""
    from deltaprop.distributed import ChunkSums
    from deltaprop.fullbatch import unroll

    X, y = _digits(500)
    net = _network(dtype=dtype)
    net.classes_ = np.arange(10)
    theta = unroll(net.weights, net.biases)
    chunks = [(X[:200], y[:200]), (X[200:260], y[200:260]), (X[260:], y[260:])]
    together = ChunkSums(net.copy(), [c[0] for c in chunks], [c[1] for c in chunks], [0, 200, 260]).sums(theta)
    for k, (Xc, yc) in enumerate(chunks):
        alone = ChunkSums(net.copy(), [Xc], [yc], [0]).sums(theta)[0]
        assert alone[0] == together[k][0] and np.array_equal(alone[1], together[k][1]) and alone[2] == together[k][2]
        reference = ChunkSums(net.copy(), [Xc], [yc], [0], engine="reference").sums(theta)[0]
        tol = 1e-12 if dtype == "float64" else 1e-4
        assert reference[1].dtype == alone[1].dtype == np.dtype(dtype)
        assert np.isclose(alone[0], reference[0], rtol=tol) and alone[2] == reference[2]
        np.testing.assert_allclose(alone[1], reference[1], rtol=tol, atol=tol * np.abs(reference[1]).max())
