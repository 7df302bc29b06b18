"""Scale: streaming from disk, and full-batch L-BFGS on a local Dask cluster.

    python -m benchmarks.scale --quick                 # 20k rows only (under a minute)
    python -m benchmarks.scale --rows 20000,200000     # the sizes to run (default 20k, 200k, 1M)
    python -m benchmarks.scale --json scale.json
    python -m benchmarks.scale --no-streaming          # section (2) only

(1) Streaming (samples/s from a cold ``.npy`` with ``shuffle="blocks"`` vs in RAM, peak traced
memory) is ``benchmarks/scale_streaming.py``'s; this script runs its ``run(quick=...)`` when it
is there and says so when it is not.

(2) Full batch. A 784-100-10 ReLU/softmax network in float32, λ = 1e-4, on m × 784 rows of
uniform [0, 1) inputs labelled by a fixed linear rule (argmax of the first ten columns),
generated chunk by chunk ON the workers (``dask.array.random``; nothing is shipped from the
client). Seconds per L-BFGS iteration (the median of the iterations' wall times; an
iteration is one evaluation except where the line search takes more) for:

* ``dask_1w`` / ``dask_2w``: ``deltaprop.distributed.fit`` with a ``LocalCluster`` of 1 or 2
  single-threaded worker processes on 127.0.0.1;
* ``local``: ``Network.fit(optimizer="lbfgs")`` in one process on the same rows (computed
  locally from the same generator), BLAS limited to 2 threads with threadpoolctl: the same
  two cores (and ``local_1t``: one BLAS thread, for reference);
* ``sklearn``: scikit-learn ``MLPClassifier(solver="lbfgs")``, same architecture, alpha = λ
  (both add λ/(2m) Σ‖W‖² to the full-batch loss), 2 BLAS threads; time per iteration is its
  fit time / ``n_iter_``;
* Spark MLlib's MultilayerPerceptronClassifier when ``pyspark`` and Java are installed (else:
  skipped, said so).

The per-iteration overhead on small data: the median time of one cost+gradient evaluation
through the actors on 2 × 100 rows with 2 workers, minus the same evaluation in one process;
beside it the round trip of the design not taken (θ broadcast with ``client.scatter`` and one
task per chunk), measured the same way.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import platform
import shutil
import statistics
import time
import warnings

import numpy as np

SIZES = (20_000, 200_000, 1_000_000)
SIZES_QUICK = (20_000,)
LAYERS = [784, 100, 10]
L2 = 1e-4
SEED = 0


def _data(m: int):
    """(X, y) as Dask arrays of ≤ 20,000-row chunks (at least 4), made where they are computed."""
    import dask.array as da

    rows = min(20_000, -(-m // 4))
    X = da.random.default_rng(SEED).random((m, LAYERS[0]), chunks=(rows, LAYERS[0]), dtype=np.float32)
    return X, X[:, :10].argmax(axis=1)


def _cluster(n_workers: int):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=n_workers, threads_per_worker=1, processes=True, host="127.0.0.1",
                           dashboard_address=None)
    return cluster, Client(cluster)


def _network():
    import deltaprop as dp

    return dp.Network(LAYERS, activation="relu", output="softmax", dtype="float32", seed=SEED)


def _per_iteration(history) -> float:
    return statistics.median(r["time"] for r in history.records[1:] or history.records)


def _iterations(m: int) -> int:
    return 6 if m <= 20_000 else 4 if m <= 200_000 else 3


def dask_fit(m: int, n_workers: int) -> dict:
    from distributed import wait

    from deltaprop import distributed

    cluster, client = _cluster(n_workers)
    with cluster, client:
        X, y = client.persist(list(_data(m)))
        wait([X, y])
        net = _network()
        start = time.perf_counter()
        history = distributed.fit(net, X, y, optimizer="lbfgs", epochs=_iterations(m), l2=L2, client=client)
        total = time.perf_counter() - start
    return {"s_per_iteration": _per_iteration(history), "fit_s": total, "iterations": len(history),
            "evaluations": history.records[-1]["evaluations"], "final_cost": history.records[-1]["cost"]}


def _local_rows(m: int):
    import dask

    X, y = _data(m)
    with dask.config.set(scheduler="threads"):
        return dask.compute(X, y)


def local_fit(X, y, threads: int = 2) -> dict:
    from threadpoolctl import threadpool_limits

    net = _network()
    with threadpool_limits(limits=threads):
        start = time.perf_counter()
        history = net.fit(X, y, optimizer="lbfgs", epochs=_iterations(len(X)), l2=L2)
        total = time.perf_counter() - start
    return {"s_per_iteration": _per_iteration(history), "fit_s": total, "iterations": len(history),
            "evaluations": history.records[-1]["evaluations"], "final_cost": history.records[-1]["cost"]}


def sklearn_fit(X, y) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier
    from threadpoolctl import threadpool_limits

    clf = MLPClassifier(hidden_layer_sizes=(LAYERS[1],), activation="relu", solver="lbfgs", alpha=L2,
                        max_iter=_iterations(len(X)), random_state=SEED)
    with threadpool_limits(limits=2), warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        start = time.perf_counter()
        clf.fit(X, y)
        total = time.perf_counter() - start
    return {"s_per_iteration": total / max(clf.n_iter_, 1), "fit_s": total, "iterations": int(clf.n_iter_)}


SPARK_MAX_ROWS = 200_000  # beyond this one Spark iteration takes minutes on 2 cores (and its rows ~GBs of JVM heap)


def spark_fit(X, y, iterations: int = 3) -> dict | str:
    """Spark MLlib's ``MultilayerPerceptronClassifier`` (solver "l-bfgs", layers 784-100-10; its
    hidden layers are sigmoid, the only kind it has, the output softmax) on the same rows, in a
    ``local[2]`` session: the same two cores. The rows go to Spark as 2 partitions of NumPy
    blocks turned into ``(label, dense vector)`` rows there, cached and counted before timing.
    After two untimed warm-up fits, seconds per iteration = (fit with maxIter = 1 + k − fit
    with maxIter = 1) / (the difference of their ``totalIterations``), the median of two such
    pairs: Spark's per-fit set-up (a first pass over the data, the model) is not counted
    against it. ``fit_s_per_iteration`` is the whole fit's time over its iterations, set-up
    included (what a user waits per iteration of a short fit)."""
    if importlib.util.find_spec("pyspark") is None or shutil.which("java") is None:
        return "skipped: pyspark and Java are not both installed"
    if len(X) > SPARK_MAX_ROWS:
        return f"skipped above {SPARK_MAX_ROWS:,} rows (minutes per iteration here)"
    from pyspark.ml.classification import MultilayerPerceptronClassifier
    from pyspark.ml.linalg import Vectors
    from pyspark.sql import SparkSession

    spark = (SparkSession.builder.master("local[2]").appName("deltaprop-scale")
             .config("spark.driver.memory", "8g").config("spark.ui.enabled", "false")
             .config("spark.ui.showConsoleProgress", "false")
             .config("spark.sql.shuffle.partitions", "2").getOrCreate())
    spark.sparkContext.setLogLevel("ERROR")
    try:
        blocks = [(X[i : i + 5000], y[i : i + 5000]) for i in range(0, len(X), 5000)]
        rows = spark.sparkContext.parallelize(blocks, 2).flatMap(
            lambda block: [(float(label), Vectors.dense(row.astype(float))) for row, label in zip(*block)])
        frame = spark.createDataFrame(rows, ["label", "features"]).cache()
        frame.count()

        def fit(max_iter):
            model = MultilayerPerceptronClassifier(layers=LAYERS, solver="l-bfgs", maxIter=max_iter, tol=0.0,
                                                   seed=SEED)
            start = time.perf_counter()
            fitted = model.fit(frame)
            return time.perf_counter() - start, fitted

        for _ in range(2):  # warm-up, untimed (the JVM compiles the training code over its first fits)
            fit(1)
        marginal, whole = [], []
        for _ in range(2):
            first, one = fit(1)
            total, fitted = fit(1 + iterations)
            done = fitted.summary().totalIterations - one.summary().totalIterations
            marginal.append((total - first) / max(1, done))
            whole.append(total / fitted.summary().totalIterations)
        return {"s_per_iteration": statistics.median(marginal), "fit_s_per_iteration": statistics.median(whole),
                "iterations": 1 + iterations, "spark": spark.version}
    finally:
        spark.stop()


def _round_trips(client, theta, chunks, repeat=40) -> dict:
    """Median / min ms of one evaluation through the actors, and through scatter + tasks."""
    from deltaprop import distributed
    from deltaprop.fullbatch import FlatCost
    from deltaprop.training import prepare

    X, y = chunks
    net = _network()
    data = distributed.prepare(net, X, y, client=client)
    cost = data.objective(net, L2)
    Xl, yl = client.compute([X, y], sync=True)
    local = FlatCost(_network(), prepare(_network(), Xl, yl), L2)

    def timed(f):
        f()
        times = []
        for _ in range(repeat):
            t = time.perf_counter()
            f()
            times.append(time.perf_counter() - t)
        return 1e3 * statistics.median(times), 1e3 * min(times)

    actors = timed(lambda: cost(theta))
    in_process = timed(lambda: local(theta))
    futures = [f for f in data.futures]  # keep the actors while the tasks variant runs
    x_parts = client.persist(X).to_delayed().ravel().tolist()
    y_parts = client.persist(y).to_delayed().ravel().tolist()
    parts = client.compute([*x_parts, *y_parts])
    half = len(parts) // 2

    worker_net = client.scatter(net, broadcast=True)

    def tasks():
        shared = client.scatter(theta, broadcast=True, hash=False)
        calls = [client.submit(_chunk_sums, worker_net, shared, parts[i], parts[half + i], pure=False)
                 for i in range(half)]
        return client.gather(calls)

    by_tasks = timed(tasks)
    del futures
    data.close()
    return {"actors_median_ms": actors[0], "actors_min_ms": actors[1], "in_process_median_ms": in_process[0],
            "overhead_median_ms": actors[0] - in_process[0], "tasks_median_ms": by_tasks[0],
            "tasks_min_ms": by_tasks[1]}


def _chunk_sums(net, theta, X, y):
    from deltaprop.distributed import ChunkSums

    return ChunkSums(net, [X], [y], [0]).sums(theta)


def overhead() -> dict:
    import dask.array as da

    from deltaprop.fullbatch import unroll

    cluster, client = _cluster(2)
    with cluster, client:
        X = da.random.default_rng(SEED).random((200, LAYERS[0]), chunks=(100, LAYERS[0]), dtype=np.float32)
        X, y = client.persist([X, X[:, :10].argmax(axis=1)])
        net = _network()
        return _round_trips(client, unroll(net.weights, net.biases), (X, y))


def full_batch(sizes) -> dict:
    results = {"overhead": overhead(), "sizes": {}}
    for m in sizes:
        row = {"dask_1w": dask_fit(m, 1), "dask_2w": dask_fit(m, 2)}
        X, y = _local_rows(m)
        row["local"] = local_fit(X, y)
        row["local_1t"] = local_fit(X, y, threads=1)
        row["sklearn"] = sklearn_fit(X, y)
        row["spark"] = spark_fit(X, y)
        del X, y
        local = row["local"]["s_per_iteration"]
        row["ratio_dask_2w_to_local"] = row["dask_2w"]["s_per_iteration"] / local
        row["ratio_dask_1w_to_local"] = row["dask_1w"]["s_per_iteration"] / local
        row["ratio_sklearn_to_dask_2w"] = row["sklearn"]["s_per_iteration"] / row["dask_2w"]["s_per_iteration"]
        if isinstance(row["spark"], dict):
            row["ratio_spark_to_dask_2w"] = row["spark"]["s_per_iteration"] / row["dask_2w"]["s_per_iteration"]
        results["sizes"][m] = row
    return results


def streaming(quick: bool):
    """Section (1): ``benchmarks/scale_streaming.py``'s ``main`` (``--gib 0.25`` with --quick),
    when it is there (it prints its own JSON line)."""
    try:
        from benchmarks import scale_streaming
    except ImportError:
        return "not run: benchmarks/scale_streaming.py is not there yet"
    return scale_streaming.main(["--gib", "0.25"] if quick else [])


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="20k rows only (under a minute)")
    parser.add_argument("--rows", help="comma-separated row counts (default 20000,200000,1000000)")
    parser.add_argument("--json", help="write the results to this file")
    parser.add_argument("--no-streaming", action="store_true", help="skip section (1)")
    args = parser.parse_args(argv)
    sizes = SIZES_QUICK if args.quick else SIZES
    if args.rows:
        sizes = tuple(int(r) for r in args.rows.split(","))
    results = {"machine": platform.platform(), "python": platform.python_version(),
               "streaming": "skipped (--no-streaming)" if args.no_streaming else streaming(args.quick), "full_batch": full_batch(sizes)}
    print("(1) streaming:", results["streaming"] if isinstance(results["streaming"], str) else "(above)")
    o = results["full_batch"]["overhead"]
    print(f"(2) full batch, {'-'.join(map(str, LAYERS))} float32, L-BFGS\n"
          f"    per evaluation on 2 x 100 rows, 2 workers: actors {o['actors_median_ms']:.1f} ms median "
          f"({o['actors_min_ms']:.1f} min), in one process {o['in_process_median_ms']:.1f} ms: overhead "
          f"{o['overhead_median_ms']:.1f} ms; scatter + tasks {o['tasks_median_ms']:.1f} ms median "
          f"({o['tasks_min_ms']:.1f} min)")
    print(f"    {'rows':>9}  {'dask 1w':>9}  {'dask 2w':>9}  {'local 2t':>9}  {'local 1t':>9}  {'sklearn':>9}  "
          "2w/local  sklearn/2w  spark")
    for m, row in results["full_batch"]["sizes"].items():
        spark = (row["spark"] if isinstance(row["spark"], str) else
                 f"{row['spark']['s_per_iteration']:.3f} s ({row['ratio_spark_to_dask_2w']:.1f}x dask 2w; "
                 f"whole fits {row['spark']['fit_s_per_iteration']:.3f} s per iteration)")
        print(f"    {m:>9,}  " + "  ".join(f"{row[k]['s_per_iteration']:>7.3f} s" for k in
                                          ("dask_1w", "dask_2w", "local", "local_1t", "sklearn"))
              + f"  {row['ratio_dask_2w_to_local']:>7.2f}x  {row['ratio_sklearn_to_dask_2w']:>9.2f}x  {spark}")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(results, fh, indent=1, default=str)
    return results


if __name__ == "__main__":
    main()
