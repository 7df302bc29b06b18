"""deltaprop's scikit-learn estimators against scikit-learn's own MLP, on matched settings.

    python -m benchmarks.sklearn_compare                 # 5 seeds, 200 epochs (a few minutes)
    python -m benchmarks.sklearn_compare --quick         # 2 seeds, 20 epochs (seconds)
    python -m benchmarks.sklearn_compare --seeds 10 --json out.json

Data: scikit-learn's bundled sets — digits (10 classes), breast cancer (2), wine (3) and
diabetes (regression). For every seed: a 75/25 train/test split (stratified for the
classifiers) drawn with that seed, inputs standardised with the training rows' statistics
(and the diabetes targets too: R² is unchanged by it), then both libraries train on exactly
the same rows with the same seed for their initialisation and shuffling. Reported: test
accuracy / R² as mean ± standard deviation over the seeds, the paired difference
(deltaprop − scikit-learn, seed by seed), and the training time (``fit`` alone) as mean ± std.

Matched settings (``SETTINGS``): one hidden layer of 100 ReLUs, Adam (α = 0.001, β₁ = 0.9,
β₂ = 0.999, ε = 1e-8), 200 epochs of shuffled mini-batches of 32, scikit-learn's default
L2 strength α_sk = 1e-4, early stopping off; scikit-learn runs every epoch
(``n_iter_no_change`` > ``max_iter``; its convergence warning is silenced). Outputs:
softmax + cross-entropy for the classifiers, identity + quadratic for the regressor.

How the settings map, term by term (scikit-learn's ``_backprop`` and ``_base.py``):

* Cost. scikit-learn's log-loss is −(1/m) Σ_x Σ_k y_k log a_k, deltaprop's cross-entropy is
  the same. Its squared loss has gradient (1/m) Σ_x (a − y), i.e. it differentiates
  (1/m) Σ_x ½‖a − y‖²; deltaprop's quadratic cost (1/m) Σ_x ‖a − y‖² (3Blue1Brown's, no ½) is
  exactly twice that, so every gradient of the regressor is 2× scikit-learn's.
* L2. scikit-learn adds α_sk/(2 m_b) Σ‖W‖² to *each mini-batch's* loss (gradient
  (α_sk/m_b) W, biases excluded); deltaprop's λ belongs to the whole training set,
  λ/(2n) Σ‖W‖², so each step adds (λ/n) W. Equal steps need λ/n = α_sk/m_b, λ = α_sk n/m_b
  for the classifiers, and λ = 2 α_sk n/m_b for the regressor (whose data gradient is 2×).
  (scikit-learn's last, smaller batch of an epoch gets a larger penalty α_sk/m_last; that
  batch is the only mismatch.)
* Adam is invariant to a constant factor on the whole gradient (up to ε), so the regressor's
  2× needs no change of α; with SGD it would need α/2.
* Adam's ε: scikit-learn adds ε to √v after folding the bias corrections into the step,
  deltaprop adds ε√(1 − β₂ᵗ) (the paper's ε on √v̂); the two differ only while √v ≈ ε.
* Binary classification (breast cancer): deltaprop uses two softmax outputs with
  cross-entropy like the other classifiers (``output="softmax"``); scikit-learn always uses
  one logistic output with binary log-loss for two classes and has no option for two. The
  two heads are equally expressive (softmax of (z₁, z₂) is the logistic of z₂ − z₁); the
  hidden layer is the same.
* Initialisation: scikit-learn draws W and b from U(−r, r), r = √(6/(n_in + n_out));
  deltaprop's ``init="glorot"`` draws W the same way and starts b at 0. The random streams
  differ, so the two never start from the same weights: the seed-to-seed spread is the noise.

Threads: BLAS is limited to ``--threads`` (default 1) for both, through threadpoolctl.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import time
import warnings

SETTINGS = {
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "learning_rate": 0.001,
    "batch_size": 32,
    "epochs": 200,
    "alpha": 1e-4,  # scikit-learn's default; deltaprop's l2 is derived from it per data set
}

DATASETS = ("digits", "breast_cancer", "wine", "diabetes")


def load(name):
    from sklearn import datasets

    loader = {
        "digits": datasets.load_digits,
        "breast_cancer": datasets.load_breast_cancer,
        "wine": datasets.load_wine,
        "diabetes": datasets.load_diabetes,
    }[name]
    X, y = loader(return_X_y=True)
    return X, y, name != "diabetes"


def split(X, y, is_classifier, seed):
    import numpy as np
    from sklearn.model_selection import train_test_split
    from sklearn.preprocessing import StandardScaler

    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=seed, stratify=y if is_classifier else None
    )
    scaler = StandardScaler().fit(X_train)
    X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
    if not is_classifier:
        mean, std = y_train.mean(), y_train.std()
        y_train, y_test = (y_train - mean) / std, (y_test - mean) / std
    return (np.ascontiguousarray(X_train), np.ascontiguousarray(X_test), y_train, y_test)


def deltaprop_l2(alpha, n_train, batch_size, is_classifier):
    """deltaprop's λ that gives scikit-learn's per-step penalty gradient (module docstring)."""
    factor = 1.0 if is_classifier else 2.0
    return factor * alpha * n_train / batch_size


def make_models(is_classifier, n_train, seed, settings):
    from sklearn.neural_network import MLPClassifier as SkClassifier
    from sklearn.neural_network import MLPRegressor as SkRegressor

    from deltaprop.sklearn import MLPClassifier, MLPRegressor

    s = settings
    common = dict(
        hidden_layer_sizes=s["hidden_layer_sizes"],
        activation=s["activation"],
        batch_size=s["batch_size"],
        random_state=seed,
        early_stopping=False,
        shuffle=True,
    )
    sk = (SkClassifier if is_classifier else SkRegressor)(
        solver="adam",
        learning_rate_init=s["learning_rate"],
        alpha=s["alpha"],
        max_iter=s["epochs"],
        n_iter_no_change=s["epochs"] + 1,  # never stop before max_iter
        tol=0.0,
        **common,
    )
    head = dict(output="softmax", cost="cross_entropy") if is_classifier else dict(output="identity", cost="quadratic")
    dp = (MLPClassifier if is_classifier else MLPRegressor)(
        optimizer="adam",
        learning_rate=s["learning_rate"],
        l2=deltaprop_l2(s["alpha"], n_train, s["batch_size"], is_classifier),
        epochs=s["epochs"],
        init="glorot",
        dtype="float64",
        **head,
        **common,
    )
    return {"deltaprop": dp, "scikit-learn": sk}


def run(seeds, settings, threads, datasets=DATASETS, progress=print):
    from sklearn.exceptions import ConvergenceWarning
    from threadpoolctl import threadpool_limits

    results = {}
    with threadpool_limits(limits=threads):
        for name in datasets:
            X, y, is_classifier = load(name)
            rows = {"deltaprop": {"score": [], "time": []}, "scikit-learn": {"score": [], "time": []}}
            for seed in range(seeds):
                X_train, X_test, y_train, y_test = split(X, y, is_classifier, seed)
                models = make_models(is_classifier, len(X_train), seed, settings)
                for lib, model in models.items():
                    start = time.perf_counter()
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        model.fit(X_train, y_train)
                    elapsed = time.perf_counter() - start
                    assert model.n_iter_ == settings["epochs"], (lib, model.n_iter_)
                    rows[lib]["score"].append(float(model.score(X_test, y_test)))
                    rows[lib]["time"].append(elapsed)
                progress(
                    f"{name:14s} seed {seed}: "
                    + "  ".join(f"{lib} {rows[lib]['score'][-1]:.4f} in {rows[lib]['time'][-1]:.2f}s" for lib in rows)
                )
            classes = len(set(y.tolist())) if is_classifier else None
            results[name] = {
                "metric": "accuracy" if is_classifier else "R²",
                "n_train": len(X_train),
                "n_test": len(X_test),
                "n_features": X.shape[1],
                "classes": classes,
                "l2": deltaprop_l2(settings["alpha"], len(X_train), settings["batch_size"], is_classifier),
                **rows,
            }
    return results


def _mean_std(values, fmt, sign=False):
    mean = statistics.fmean(values)
    std = statistics.stdev(values) if len(values) > 1 else 0.0
    return f"{mean:{'+' if sign else ''}{fmt}} ± {std:{fmt}}"


def markdown(results) -> str:
    lines = [
        "| data set | train / test | metric | deltaprop | scikit-learn | difference | deltaprop time (s) | scikit-learn time (s) | speed-up |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        dp, sk = r["deltaprop"], r["scikit-learn"]
        diff = [a - b for a, b in zip(dp["score"], sk["score"])]
        what = f"{r['classes']} classes" if r["classes"] else "regression"
        speedup = statistics.fmean(sk["time"]) / statistics.fmean(dp["time"])
        lines.append(
            f"| {name.replace('_', ' ')} ({what}) | {r['n_train']} / {r['n_test']} | {r['metric']} "
            f"| {_mean_std(dp['score'], '.4f')} | {_mean_std(sk['score'], '.4f')} "
            f"| {_mean_std(diff, '.4f', sign=True)} | {_mean_std(dp['time'], '.2f')} "
            f"| {_mean_std(sk['time'], '.2f')} | {speedup:.1f}× |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5, help="seeds (splits and initialisations), default 5")
    parser.add_argument("--epochs", type=int, default=None, help="epochs (default 200, --quick 20)")
    parser.add_argument("--quick", action="store_true", help="2 seeds and 20 epochs: a smoke run")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads for both libraries, default 1")
    parser.add_argument("--datasets", default=",".join(DATASETS), help="comma-separated subset of " + ", ".join(DATASETS))
    parser.add_argument("--json", help="also write every number to this JSON file")
    args = parser.parse_args(argv)

    settings = dict(SETTINGS)
    seeds = args.seeds
    if args.quick:
        settings["epochs"], seeds = 20, min(seeds, 2)
    if args.epochs is not None:
        settings["epochs"] = args.epochs
    if seeds < 1 or settings["epochs"] < 1:
        parser.error("--seeds and --epochs must be at least 1")
    names = [n.strip() for n in args.datasets.split(",") if n.strip()]
    unknown = sorted(set(names) - set(DATASETS))
    if unknown:
        parser.error(f"unknown data set(s) {', '.join(unknown)}; choose from {', '.join(DATASETS)}")

    import numpy as np
    import sklearn

    import deltaprop

    print(
        f"deltaprop {deltaprop.__version__} vs scikit-learn {sklearn.__version__} "
        f"(NumPy {np.__version__}, Python {platform.python_version()}, {platform.machine()}, "
        f"{args.threads} BLAS thread(s))"
    )
    print(
        f"hidden {settings['hidden_layer_sizes']} {settings['activation']}, Adam α={settings['learning_rate']}, "
        f"batch {settings['batch_size']}, {settings['epochs']} epochs, alpha={settings['alpha']} "
        f"(deltaprop l2 = alpha·n/batch, ×2 for regression), {seeds} seed(s)"
    )
    results = run(seeds, settings, args.threads, names)
    print()
    print(markdown(results))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"settings": {**settings, "seeds": seeds, "threads": args.threads}, "results": results}, f, indent=2)


if __name__ == "__main__":
    main()
