"""deltaprop's ``optimizer="lbfgs"`` against scikit-learn's ``MLPClassifier(solver="lbfgs")``.

    python -m benchmarks.lbfgs_vs_sklearn            # 5 seeds, 200 iterations
    python -m benchmarks.lbfgs_vs_sklearn --quick    # 2 seeds, 20 iterations
    python -m benchmarks.lbfgs_vs_sklearn --engine reference   # deltaprop's Network._backprop

Data: scikit-learn's bundled digits, for every seed a 70/30 stratified split drawn with that
seed, inputs standardised with the training rows' statistics. Both train 64-100-10 (ReLU,
softmax + cross-entropy) with L-BFGS (SciPy's L-BFGS-B, no bounds) for at most ``max_iter``
iterations, gradient tolerance 1e-4, L2 α_sk = λ = 1e-4 (both penalise α/(2n) Σ‖W‖² on the
whole training set; biases are not regularised), Glorot-uniform weights. Two settings, one
after the other: BLAS as installed (no limit: NumPy's and SciPy's OpenBLAS pools at their
defaults, as a user runs it) and every BLAS limited to one thread (threadpoolctl); ``--threads
N`` runs only the setting "limited to N threads" (0: only "as installed").

deltaprop runs ``scipy.optimize.minimize`` with SciPy's own OpenBLAS at one thread
(``fastpath.other_blas_single_threaded``): its pool otherwise spins against NumPy's during the
GEMMs. scikit-learn leaves it alone, which is most of the difference "as installed".

Each library's fits run together, deltaprop's first: right after scikit-learn's fits,
SciPy's OpenBLAS threads are still spinning and slow whatever runs next. Reported per library: test accuracy (mean over seeds), ``fit`` seconds (sum over seeds),
iterations and cost+gradient evaluations (sum over seeds; an iteration's line search may take
several evaluations: scikit-learn's are counted by wrapping its ``_loss_grad_lbfgs``,
deltaprop's are in the history), seconds per iteration and per evaluation, and the speed ratio
scikit-learn time / deltaprop time (total, per iteration, per evaluation; the per-evaluation
figures are fit seconds / evaluations, so they include each library's per-fit overhead). Both
libraries first fit once untimed (imports, first calls). One run: the numbers are what this
machine did this time, under whatever else it was running.
"""

from __future__ import annotations

import argparse
import time
import warnings

import numpy as np

ALPHA, TOL, HIDDEN = 1e-4, 1e-4, 100


def split(seed):
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, random_state=seed, stratify=y)
    scaler = StandardScaler().fit(X_train)
    return np.ascontiguousarray(scaler.transform(X_train)), np.ascontiguousarray(scaler.transform(X_test)), y_train, y_test


def run_sklearn(X, y, X_test, y_test, seed, max_iter):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    class Counting(MLPClassifier):
        evaluations = 0

        def _loss_grad_lbfgs(self, *args, **kwargs):
            Counting.evaluations += 1
            return super()._loss_grad_lbfgs(*args, **kwargs)

    Counting.evaluations = 0
    model = Counting(hidden_layer_sizes=(HIDDEN,), activation="relu", solver="lbfgs", alpha=ALPHA, tol=TOL,
                     max_iter=max_iter, random_state=seed)
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        model.fit(X, y)
    seconds = time.perf_counter() - start
    return model.score(X_test, y_test), seconds, model.n_iter_, Counting.evaluations


def run_deltaprop(X, y, X_test, y_test, seed, max_iter, engine):
    import deltaprop as dp
    from deltaprop.fullbatch import FullBatchTrainer

    FullBatchTrainer.engine = engine  # (until fit hands its engine= to the full-batch trainer itself)
    net = dp.Network([X.shape[1], HIDDEN, 10], activation="relu", output="softmax", cost="cross_entropy",
                     init="glorot", seed=seed, dtype="float64")
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the ConvergenceWarning when the iterations run out
        history = net.fit(X, y, epochs=max_iter, optimizer="lbfgs", tol=TOL, l2=ALPHA, engine=engine)
    seconds = time.perf_counter() - start
    accuracy = float(np.mean(net.predict(X_test) == y_test))
    return accuracy, seconds, len(history), history[-1]["evaluations"]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 seeds, 20 iterations")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--max-iter", type=int, default=200)
    parser.add_argument("--threads", type=int, default=None, help="one setting only: N threads (0: as installed)")
    parser.add_argument("--engine", default="auto", choices=["auto", "fast", "reference"])
    args = parser.parse_args(argv)
    seeds, max_iter = (2, 20) if args.quick else (args.seeds, args.max_iter)
    settings = [0, 1] if args.threads is None else [args.threads]
    ratios = {}
    for threads in settings:
        ratios[threads] = one_setting(threads, seeds, max_iter, args.engine)
    return ratios


def one_setting(threads, seeds, max_iter, engine):
    import contextlib

    from threadpoolctl import threadpool_limits

    totals = {lib: np.zeros(4) for lib in ("deltaprop", "scikit-learn")}  # accuracy, s, iterations, evaluations
    setting = "BLAS as installed" if threads == 0 else f"BLAS limited to {threads} thread(s)"
    print(f"-- {setting}")
    with threadpool_limits(limits=threads) if threads else contextlib.nullcontext():
        X, X_test, y, y_test = split(0)  # warm-up, untimed: imports and first calls of both libraries
        run_deltaprop(X, y, X_test, y_test, 0, 2, engine)
        run_sklearn(X, y, X_test, y_test, 0, 2)
        splits = [split(seed) for seed in range(seeds)]
        for lib in totals:  # each library's fits together (another's BLAS threads may still be spinning)
            for seed, (X, X_test, y, y_test) in enumerate(splits):
                row = (run_deltaprop(X, y, X_test, y_test, seed, max_iter, engine) if lib == "deltaprop"
                       else run_sklearn(X, y, X_test, y_test, seed, max_iter))
                totals[lib] += row
                print(f"seed {seed} {lib:12s} accuracy {row[0]:.4f}  {row[1]:.3f} s  {row[2]} iterations  "
                      f"{row[3]} evaluations")
    print(f"{seeds} seeds, max_iter {max_iter}, tol {TOL}, alpha = l2 = {ALPHA}, {setting}, engine={engine}")
    for lib, (acc, s, it, ev) in totals.items():
        print(f"{lib:12s} accuracy {acc / seeds:.4f}  {s:.3f} s  {int(it)} iterations ({1e3 * s / it:.2f} ms each)  "
              f"{int(ev)} evaluations ({1e3 * s / ev:.2f} ms each, {ev / it:.2f} per iteration)")
    dp_t, sk_t = totals["deltaprop"], totals["scikit-learn"]
    ratio = sk_t[1] / dp_t[1]
    print(f"speed ratio (scikit-learn s / deltaprop s): {ratio:.2f}x total, "
          f"{(sk_t[1] / sk_t[2]) / (dp_t[1] / dp_t[2]):.2f}x per iteration, "
          f"{(sk_t[1] / sk_t[3]) / (dp_t[1] / dp_t[3]):.2f}x per evaluation\n")
    return ratio


if __name__ == "__main__":
    main()
