"""Training speed: deltaprop against PyTorch, scikit-learn and the matrix-multiply limit.

    python -m benchmarks.speed                  # the full run (a few minutes)
    python -m benchmarks.speed --quick          # fewer samples and repeats (under two minutes)
    python -m benchmarks.speed --json out.json  # also write every number as JSON

What it does, in one process:

* Networks: 64-16-16-10 @32, 784-100-10 @32/@128/@512, 784-256-256-10 @512 and
  784-1024-1024-10 @512 (sizes @ batch size), float32, sigmoid hidden layers, softmax output with
  cross-entropy, plain SGD (α = 0.1, no momentum, no L2), shuffled mini-batches.
* Data: synthetic, of MNIST's shape — inputs uniform in [0, 1) (like scaled pixels), labels
  uniform over 10 classes (random data trains at the same speed as real data).
* Methods, timed round-robin (every round runs each method once on the row, so a burst of
  load from elsewhere hits all of them; the best round counts, the median is kept too):
  - deltaprop: ``Network.fit(..., engine="fast")`` end to end (validation of X, one-hot
    targets, the epoch loop, history), and ``engine="reference"`` on two rows;
  - PyTorch (if installed): the idiomatic loop — ``nn.Sequential`` of ``nn.Linear`` and
    ``nn.Sigmoid``, ``nn.CrossEntropyLoss``, ``torch.optim.SGD``, each epoch a ``randperm``
    shuffle of the tensors then slices as mini-batches, ``loss.item()`` summed per batch;
  - scikit-learn's ``MLPClassifier(solver="sgd", activation="logistic", momentum=0,
    alpha=0, learning_rate_init=α, batch_size=B, max_iter=epochs)`` with early stopping off
    and the tolerance test disabled;
  - the matrix-multiply limit: the sum of the best times ``np.dot`` takes for exactly the
    products one training step needs — A^{l−1}(W^l)ᵀ for every layer, (Δ^l)ᵀA^{l−1} for every
    layer and Δ^l W^l for l ≥ 2 — into preallocated, aligned outputs.
* Threads are pinned the same for all: OMP/OPENBLAS/MKL_NUM_THREADS are set before NumPy and
  PyTorch are imported, then ``torch.set_num_threads`` and threadpoolctl's limits.
* OpenBLAS kernel: some OpenBLAS builds do not recognise newer CPUs and fall back to AVX2
  (Haswell) kernels on AVX-512 machines (e.g. AMD Zen 5), running GEMM at ~half speed. With
  ``--coretype auto`` (the default) an ``OPENBLAS_CORETYPE`` already set in the environment is
  kept (with a note when it leaves AVX-512 unused); otherwise the benchmark asks a subprocess
  which kernel NumPy's OpenBLAS picks and, when that one lacks AVX-512 on a CPU that has it,
  sets ``OPENBLAS_CORETYPE=SkylakeX``. ``--coretype NAME`` sets it, ``--coretype none`` leaves
  OpenBLAS's own choice. It affects everything that uses NumPy's BLAS (deltaprop,
  scikit-learn, the limit), not PyTorch (MKL). The kernel in use is printed and in the JSON.
* Peak memory growth during training (measured after the timings, in one extra run each):
  the process's peak resident set size above its size before the run (Linux
  ``/proc/self/status`` VmHWM after resetting it), for every method; and for deltaprop the
  peak of Python-tracked allocations (tracemalloc, which sees NumPy's buffers).
* A scaling table: deltaprop's time per epoch as the data set grows (10k, 40k, 160k samples)
  and as the hidden layer widens.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time

LEARNING_RATE = 0.1
N_CLASSES = 10
EPOCHS = 2  # per timed run, for every method (fit's per-call set-up is part of the time)

# (sizes, batch size, samples per timed run in the full mode, also time the reference engine)
NETWORKS = [
    ([64, 16, 16, 10], 32, 32768, True),
    ([784, 100, 10], 32, 16384, False),
    ([784, 100, 10], 128, 16384, True),
    ([784, 100, 10], 512, 16384, False),
    ([784, 256, 256, 10], 512, 16384, False),
    ([784, 1024, 1024, 10], 512, 8192, False),
]

METHOD_LABELS = {
    "fast": "deltaprop",
    "reference": "deltaprop (reference engine)",
    "steps": "deltaprop steps only",
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    "limit": "matmul limit",
}


# ---------------------------------------------------------------------------- environment
def _cpu_flags() -> set:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    return set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return set()


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _default_openblas_kernel(env) -> str | None:
    """The kernel NumPy's OpenBLAS picks by itself, asked in a fresh process."""
    code = (
        "import numpy, threadpoolctl\n"
        "info = [i for i in threadpoolctl.threadpool_info() if i.get('internal_api') == 'openblas'"
        " and 'numpy' in i.get('filepath', '')]\n"
        "print(info[0].get('architecture', '') if info else '')\n"
    )
    env = {k: v for k, v in env.items() if k != "OPENBLAS_CORETYPE"}
    try:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def configure_environment(threads: int, coretype: str) -> dict:
    """Set the thread counts (and maybe OPENBLAS_CORETYPE) before NumPy/PyTorch are imported."""
    notes = []
    if "numpy" in sys.modules or "torch" in sys.modules:
        notes.append("NumPy or PyTorch was imported before the benchmark set its environment; "
                     "thread and kernel settings may not apply")
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
                "NUMEXPR_NUM_THREADS"):
        os.environ[var] = str(threads)
    default_kernel = _default_openblas_kernel(os.environ)
    flags = _cpu_flags()
    has_avx512 = {"avx512f", "avx512bw", "avx512dq", "avx512vl", "avx512cd"} <= flags
    avx2_only = ("haswell", "zen", "sandybridge")
    forced = None
    if coretype == "auto":
        if "OPENBLAS_CORETYPE" in os.environ:
            forced = os.environ["OPENBLAS_CORETYPE"]
            notes.append(f"OPENBLAS_CORETYPE={forced} is set in the environment and kept")
            if has_avx512 and forced.lower() in avx2_only:
                notes.append("this CPU has AVX-512 but that kernel does not use it; "
                             "--coretype SkylakeX runs NumPy's GEMMs faster (it applies to every NumPy-based method)")
        elif has_avx512 and default_kernel and default_kernel.lower() in avx2_only:
            forced = "SkylakeX"
            os.environ["OPENBLAS_CORETYPE"] = forced
            notes.append(
                f"OpenBLAS picks {default_kernel} (AVX2) kernels on this AVX-512 CPU; "
                "OPENBLAS_CORETYPE=SkylakeX set (use --coretype none to keep OpenBLAS's choice)"
            )
    elif coretype != "none":
        forced = coretype
        os.environ["OPENBLAS_CORETYPE"] = forced
        notes.append(f"OPENBLAS_CORETYPE={forced} (--coretype)")
    else:
        os.environ.pop("OPENBLAS_CORETYPE", None)
    return {"threads": threads, "openblas_default_kernel": default_kernel, "openblas_coretype": forced,
            "notes": notes}


# ---------------------------------------------------------------------------- helpers
def _fmt_rate(x):
    if x is None:
        return "–"
    if x >= 1e6:
        return f"{x / 1e6:.2f}M"
    if x >= 1e3:
        return f"{x / 1e3:.0f}k"
    return f"{x:.0f}"


def _fmt_bytes(n):
    if n is None:
        return "–"
    n = float(n)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if abs(n) < 1024 or unit == "GiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


def _settle(seconds):
    """Wait before a timed run, busy (not asleep).

    Waiting lets the previous method's worker threads go idle: OpenBLAS's keep spinning for
    ~0.1–0.3 s after a call and, on a 2-core machine, slowed PyTorch down by up to 3×. Busy,
    because after sleeping the first ~0.1 s of work ran up to 30% slower here (the idle core
    clocks down)."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def _label(sizes, batch):
    return "-".join(map(str, sizes)) + f" @{batch}"


def _proc_status(field):
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


class CpuMonitor:
    """The share of the machine's CPU time used by other processes between ``start`` and
    ``stop`` (Linux /proc; None elsewhere): timings taken while it is high are not reliable."""

    @staticmethod
    def _read():
        try:
            with open("/proc/stat") as f:
                fields = [int(v) for v in f.readline().split()[1:]]
            with open("/proc/self/stat") as f:
                own = f.read().rsplit(")", 1)[1].split()
            own_ticks = int(own[11]) + int(own[12])  # utime + stime of this process
        except (OSError, ValueError, IndexError):
            return None
        total = sum(fields[:8])
        busy = total - fields[3] - fields[4]  # minus idle and iowait
        return busy, total, own_ticks

    def __init__(self):
        self.begin = self._read()

    def other_share(self):
        end = self._read()
        if self.begin is None or end is None or end[1] == self.begin[1]:
            return None
        busy = end[0] - self.begin[0]
        own = end[2] - self.begin[2]
        return max(0.0, (busy - own) / (end[1] - self.begin[1]))


def _trim_heap():
    gc.collect()
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def peak_rss_growth(run):
    """Peak resident memory above the level before ``run()`` (Linux; None elsewhere)."""
    _trim_heap()
    before = _proc_status("VmRSS")
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS
    except OSError:
        return None
    run()
    peak = _proc_status("VmHWM")
    if before is None or peak is None:
        return None
    return max(0, peak - before)


def peak_traced_growth(run):
    """Peak of tracemalloc-tracked allocations (NumPy's buffers included) during ``run()``."""
    import tracemalloc

    _trim_heap()
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        run()
        return max(0, tracemalloc.get_traced_memory()[1] - base)
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------------- the methods
class Data:
    """Synthetic data of MNIST's shape, made once per (n, n_in) and shared by all methods."""

    _cache: dict = {}

    @classmethod
    def get(cls, n, n_in, seed=0):
        import numpy as np

        key = (n, n_in)
        if key not in cls._cache:
            rng = np.random.default_rng(seed)
            X = rng.random((n, n_in), dtype=np.float32)  # pixel-like values in [0, 1)
            y = rng.integers(0, N_CLASSES, n)
            cls._cache[key] = (X, y)
        return cls._cache[key]


def make_deltaprop(sizes, batch, X, y, engine, epochs, callbacks=()):
    import deltaprop as dp

    net = dp.Network(sizes, activation="sigmoid", output="softmax", cost="cross_entropy",
                     dtype="float32", seed=0)
    counter = [0]

    def run():
        counter[0] += 1
        net.fit(X, y, epochs=epochs, batch_size=batch, learning_rate=LEARNING_RATE, optimizer="sgd",
                seed=counter[0], engine=engine, callbacks=callbacks)

    return run


def _epochs_peak_callback():
    """A fit callback measuring tracemalloc's peak from the first to the last epoch (after fit
    has validated the data and built its train step), as ``growth``."""
    import tracemalloc

    from deltaprop.training import Callback

    class EpochsPeak(Callback):
        growth = None

        def on_train_begin(self, trainer):
            if tracemalloc.is_tracing():
                tracemalloc.reset_peak()
                self.start = tracemalloc.get_traced_memory()[0]

        def on_train_end(self, trainer):
            if tracemalloc.is_tracing():
                self.growth = tracemalloc.get_traced_memory()[1] - self.start

    return EpochsPeak()


def make_steps_only(sizes, batch, X, y, epochs):
    """deltaprop's FastStep driven by a bare loop: fit's own overhead is the difference."""
    import numpy as np

    import deltaprop as dp
    from deltaprop.fastpath import FastStep
    from deltaprop.optimizers import SGD
    from deltaprop import targets

    net = dp.Network(sizes, activation="sigmoid", output="softmax", cost="cross_entropy",
                     dtype="float32", seed=0)
    Y = targets.prepare(net, y, fit_classes=True)
    step = FastStep(net, SGD(LEARNING_RATE), 0.0, X, Y, batch)
    rng = np.random.default_rng(0)
    n = X.shape[0]

    def run():
        for _ in range(epochs):
            order = rng.permutation(n)
            for start in range(0, n, batch):
                step(order[start : start + batch])

    return run


def make_torch(sizes, batch, X, y, epochs):
    import torch
    from torch import nn

    layers = []
    for i, (n_in, n_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(n_in, n_out))
        if i < len(sizes) - 2:
            layers.append(nn.Sigmoid())
    model = nn.Sequential(*layers)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    n = X_t.shape[0]
    gen = torch.Generator().manual_seed(0)

    def run():
        for _ in range(epochs):
            perm = torch.randperm(n, generator=gen)
            X_s, y_s = X_t[perm], y_t[perm]
            total = 0.0
            for start in range(0, n, batch):
                xb, yb = X_s[start : start + batch], y_s[start : start + batch]
                optimizer.zero_grad()
                loss = loss_fn(model(xb), yb)
                loss.backward()
                optimizer.step()
                total += loss.item() * xb.shape[0]

    return run


def make_sklearn(sizes, batch, X, y, epochs):
    import warnings

    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    counter = [0]

    def run():
        counter[0] += 1
        clf = MLPClassifier(
            hidden_layer_sizes=tuple(sizes[1:-1]), activation="logistic", solver="sgd",
            learning_rate="constant", learning_rate_init=LEARNING_RATE, momentum=0.0,
            nesterovs_momentum=False, alpha=0.0, batch_size=batch, max_iter=epochs, shuffle=True,
            tol=0.0, n_iter_no_change=10**9, early_stopping=False, random_state=counter[0],
        )
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)

    return run


class MatmulLimit:
    """The products of one training step, each timed alone with ``np.dot`` into an aligned
    output; ``measure()`` keeps each product's best time, ``step_time`` is their sum."""

    def __init__(self, sizes, batch):
        import numpy as np

        from deltaprop.validation import aligned_empty

        rng = np.random.default_rng(0)

        def arr(*shape):
            a = aligned_empty(shape, np.float32)
            a[...] = rng.random(shape, dtype=np.float32) - 0.5
            return a

        self.products = []
        for l in range(1, len(sizes)):
            n_prev, n = sizes[l - 1], sizes[l]
            A, W, D = arr(batch, n_prev), arr(n, n_prev), arr(batch, n)
            self.products.append((f"A{l-1}·W{l}ᵀ", A, W.T, arr(batch, n)))  # forward
            self.products.append((f"Δ{l}ᵀ·A{l-1}", D.T, A, arr(n, n_prev)))  # ∂C/∂W^l
            if l >= 2:
                self.products.append((f"Δ{l}·W{l}", D, W, arr(batch, n_prev)))  # backprop
        self.best = [float("inf")] * len(self.products)
        self.batch = batch

    def measure(self, min_time=0.02):
        import numpy as np

        dot = np.dot
        for i, (_, a, b, out) in enumerate(self.products):
            dot(a, b, out)
            reps = 1
            while True:
                t0 = time.perf_counter()
                for _ in range(reps):
                    dot(a, b, out)
                dt = time.perf_counter() - t0
                if dt >= min_time / 4 or reps >= 1 << 16:
                    break
                reps *= 4
            for _ in range(3):
                t0 = time.perf_counter()
                for _ in range(reps):
                    dot(a, b, out)
                self.best[i] = min(self.best[i], (time.perf_counter() - t0) / reps)

    @property
    def step_time(self):
        return sum(self.best)

    def rate(self):
        return self.batch / self.step_time


# ---------------------------------------------------------------------------- the runs
def time_rows(rows, rounds, settle, have_torch, log):
    """Round-robin timings: for each row, ``rounds`` rounds of every method."""
    results = []
    for sizes, batch, n, with_reference in rows:
        X, y = Data.get(n, sizes[0])
        epochs = EPOCHS
        methods = {"fast": make_deltaprop(sizes, batch, X, y, "fast", epochs)}
        if with_reference:
            methods["reference"] = make_deltaprop(sizes, batch, X, y, "reference", epochs)
        methods["steps"] = make_steps_only(sizes, batch, X, y, epochs)
        if have_torch:
            methods["torch"] = make_torch(sizes, batch, X, y, epochs)
        methods["sklearn"] = make_sklearn(sizes, batch, X, y, epochs)
        limit = MatmulLimit(sizes, batch)
        times = {name: [] for name in methods}
        for name, run in methods.items():  # warm-up: first-call costs are not throughput
            run()
        monitor = CpuMonitor()
        for r in range(rounds):
            for name, run in methods.items():
                _settle(settle)
                t0 = time.perf_counter()
                run()
                times[name].append(time.perf_counter() - t0)
            _settle(settle)
            limit.measure()
        samples = n * epochs
        other = monitor.other_share()
        row = {
            "other_processes_cpu_share": other,
            "network": _label(sizes, batch),
            "sizes": sizes,
            "batch_size": batch,
            "samples_per_run": samples,
            "times_s": times,
            "samples_per_s": {k: samples / min(v) for k, v in times.items()},
            "samples_per_s_median": {k: samples / statistics.median(v) for k, v in times.items()},
            "limit_samples_per_s": limit.rate(),
            "limit_products_s": {name: t for (name, *_), t in zip(limit.products, limit.best)},
        }
        row["samples_per_s"]["limit"] = row["limit_samples_per_s"]
        # Peak memory growth, one extra untimed run per method.
        row["peak_rss_growth"] = {name: peak_rss_growth(run) for name, run in methods.items()}
        row["peak_traced_growth"] = {"fast": peak_traced_growth(methods["fast"])}
        row["data_bytes"] = int(X.nbytes)
        results.append(row)
        rates = row["samples_per_s"]
        log(f"  {row['network']:<24} " + "  ".join(f"{k} {_fmt_rate(v)}" for k, v in rates.items())
            + (f"  (other processes used {100 * other:.0f}% of the CPU)" if other is not None else ""))
    return results


def _best_epoch_time(run, rounds, settle, between=None) -> float:
    """The best seconds per epoch of ``run`` (which trains EPOCHS epochs) over ``rounds``;
    ``between`` runs after each timed run (e.g. interleaved limit measurements)."""
    best = float("inf")
    for _ in range(rounds):
        _settle(settle)
        t0 = time.perf_counter()
        run()
        best = min(best, (time.perf_counter() - t0) / EPOCHS)
        if between is not None:
            between()
    return best


def time_scaling(quick, rounds, settle, log):
    """deltaprop's time per epoch as the data set grows and as the hidden layer widens."""
    data_rows = []
    for n in (10_000, 40_000, 160_000):
        X, y = Data.get(n, 784, seed=1)
        epochs_peak = _epochs_peak_callback()
        run = make_deltaprop([784, 100, 10], 128, X, y, "fast", EPOCHS, callbacks=[epochs_peak])
        run()
        best = _best_epoch_time(run, rounds, settle)
        growth = peak_traced_growth(run)
        data_rows.append({"samples": n, "epoch_s": best, "us_per_sample": best / n * 1e6,
                          "peak_traced_growth": growth, "peak_traced_growth_epochs": epochs_peak.growth,
                          "data_bytes": int(X.nbytes)})
        log(f"  data {n:>7}: {best:.3f} s/epoch")
    Data._cache.pop((160_000, 784), None)
    width_rows = []
    widths = (64, 256, 1024) if quick else (64, 128, 256, 512, 1024, 2048)
    n = 10_000
    X, y = Data.get(n, 784, seed=1)
    for width in widths:
        sizes = [784, width, 10]
        run = make_deltaprop(sizes, 128, X, y, "fast", EPOCHS)
        run()
        limit = MatmulLimit(sizes, 128)
        best = _best_epoch_time(run, rounds, settle, between=lambda: limit.measure(min_time=0.01))
        width_rows.append({"sizes": sizes, "samples": n, "epoch_s": best, "us_per_sample": best / n * 1e6,
                           "limit_epoch_s": n / limit.rate(), "fraction_of_limit": (n / limit.rate()) / best})
        log(f"  width {width:>5}: {best:.3f} s/epoch")
    return {"data": data_rows, "width": width_rows}


# ---------------------------------------------------------------------------- report
def markdown(report) -> str:
    have_torch = report["versions"].get("torch") is not None
    lines = []
    head = ["network @ batch", "deltaprop", "deltaprop reference", "PyTorch", "scikit-learn",
            "matmul limit", "× PyTorch", "× scikit-learn", "% of limit",
            "fit overhead", "peak memory growth: deltaprop / PyTorch / scikit-learn"]
    lines.append("| " + " | ".join(head) + " |")
    lines.append("|" + "|".join(["---"] + ["---:"] * (len(head) - 2) + ["---"]) + "|")
    for row in report["rows"]:
        r = row["samples_per_s"]
        fast = r["fast"]
        torch_rate = r.get("torch")
        mem = row["peak_rss_growth"]
        overhead = 1 - min(row["times_s"]["steps"]) / min(row["times_s"]["fast"])
        cells = [
            row["network"],
            _fmt_rate(fast),
            _fmt_rate(r.get("reference")),
            _fmt_rate(torch_rate),
            _fmt_rate(r["sklearn"]),
            _fmt_rate(r["limit"]),
            f"{fast / torch_rate:.2f}×" if have_torch else "–",
            f"{fast / r['sklearn']:.2f}×",
            f"{100 * fast / r['limit']:.0f}%",
            f"{100 * max(0.0, overhead):.0f}%",
            " / ".join(_fmt_bytes(mem.get(k)) for k in ("fast", "torch", "sklearn")),
        ]
        lines.append("| " + " | ".join(cells) + " |")
    lines.append("")
    lines.append(f"samples per second (best of the rounds; each timed run trains {EPOCHS} epochs); fit overhead = "
                 "share of deltaprop's `fit` time spent outside its train steps (validation, targets, history; "
                 "noise can hide it); peak memory growth = peak RSS above the level before one timed run "
                 "(data set and model already in memory).")
    scaling = report.get("scaling")
    if scaling:
        lines.append("")
        lines.append("| 784-100-10 @128, samples | s / epoch | µs / sample | data set | peak growth, whole `fit` "
                     "| peak growth, epochs only |")
        lines.append("|---:|---:|---:|---:|---:|---:|")
        for d in scaling["data"]:
            lines.append(f"| {d['samples']:,} | {d['epoch_s']:.3f} | {d['us_per_sample']:.2f} | "
                         f"{_fmt_bytes(d['data_bytes'])} | {_fmt_bytes(d['peak_traced_growth'])} | "
                         f"{_fmt_bytes(d['peak_traced_growth_epochs'])} |")
        lines.append("")
        lines.append("peak growth: tracemalloc's peak above the level before the call (NumPy's buffers "
                     "included); \"epochs only\" starts after fit has validated the data and built its "
                     "train step.")
        lines.append("")
        lines.append("| network @128, 10,000 samples | s / epoch | µs / sample | matmul limit s / epoch | % of limit |")
        lines.append("|---|---:|---:|---:|---:|")
        for w in scaling["width"]:
            lines.append(f"| {'-'.join(map(str, w['sizes']))} | {w['epoch_s']:.3f} | {w['us_per_sample']:.2f} | "
                         f"{w['limit_epoch_s']:.3f} | {100 * w['fraction_of_limit']:.0f}% |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.speed", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer samples and rounds (under two minutes)")
    parser.add_argument("--json", metavar="PATH", help="also write the results as JSON")
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                        help="threads for every library (default: the number of CPUs)")
    parser.add_argument("--coretype", default="auto",
                        help="OpenBLAS kernel: auto (default), none (OpenBLAS's own choice) or a name such as SkylakeX")
    parser.add_argument("--rounds", type=int, default=None, help="timing rounds per row (default 5, quick 3)")
    parser.add_argument("--no-scaling", action="store_true", help="skip the scaling tables")
    parser.add_argument("--only", metavar="TEXT", help="only the networks whose label contains TEXT, e.g. '784-100-10 @128'")
    args = parser.parse_args(argv)

    env = configure_environment(args.threads, args.coretype)
    started = time.perf_counter()
    load_before = os.getloadavg() if hasattr(os, "getloadavg") else None

    import numpy as np
    import scipy
    import sklearn

    import deltaprop

    versions = {"python": platform.python_version(), "numpy": np.__version__, "scipy": scipy.__version__,
                "scikit-learn": sklearn.__version__, "deltaprop": deltaprop.__version__, "torch": None}
    try:
        import torch

        torch.set_num_threads(args.threads)
        versions["torch"] = torch.__version__
        have_torch = True
    except ImportError:
        have_torch = False
    blas = []
    try:
        from threadpoolctl import threadpool_info, threadpool_limits

        threadpool_limits(args.threads)
        blas = [{k: i.get(k) for k in ("internal_api", "architecture", "num_threads", "version", "filepath")}
                for i in threadpool_info()]
    except ImportError:
        pass

    def log(msg):
        print(msg, file=sys.stderr, flush=True)

    rounds = args.rounds or (3 if args.quick else 5)
    settle = 0.2 if args.quick else 0.3
    rows = []
    for sizes, batch, n, with_reference in NETWORKS:
        if args.only and args.only not in _label(sizes, batch):
            continue
        if args.quick:
            n = max(4096, n // 4)
        rows.append((sizes, batch, n, with_reference))

    log(f"deltaprop speed benchmark: {_cpu_model()}, {os.cpu_count()} CPUs, {args.threads} threads, "
        f"OpenBLAS kernel {env['openblas_coretype'] or env['openblas_default_kernel']}")
    for note in env["notes"]:
        log("  note: " + note)
    report = {
        "machine": {"cpu": _cpu_model(), "cpus": os.cpu_count(), "platform": platform.platform()},
        "environment": env,
        "blas": blas,
        "versions": versions,
        "settings": {"quick": args.quick, "rounds": rounds, "learning_rate": LEARNING_RATE, "dtype": "float32",
                     "data": "synthetic: X uniform in [0, 1) float32, labels uniform over 10 classes"},
        "load_average_before": load_before,
    }
    monitor = CpuMonitor()
    log("timing (round-robin):")
    report["rows"] = time_rows(rows, rounds, settle, have_torch, log)
    if not args.no_scaling:
        log("scaling:")
        report["scaling"] = time_scaling(args.quick, 2 if args.quick else 3, settle, log)
    report["load_average_after"] = os.getloadavg() if hasattr(os, "getloadavg") else None
    report["other_processes_cpu_share"] = monitor.other_share()
    report["wall_s"] = time.perf_counter() - started

    kernel = next((b.get("architecture") for b in blas if b.get("internal_api") == "openblas"
                   and "numpy" in (b.get("filepath") or "")), None) or env["openblas_coretype"]
    print(f"deltaprop {versions['deltaprop']}, NumPy {versions['numpy']}, PyTorch {versions['torch'] or 'not installed'}, "
          f"scikit-learn {versions['scikit-learn']}; {_cpu_model()}, {os.cpu_count()} CPUs, {args.threads} threads "
          f"for every library; NumPy's OpenBLAS kernel {kernel}"
          + (f" (OPENBLAS_CORETYPE={env['openblas_coretype']})" if env["openblas_coretype"] else "")
          + "; float32, sigmoid hidden layers, softmax + cross-entropy, SGD α = 0.1; synthetic MNIST-shaped "
          "data (X uniform in [0, 1), 10 random classes)")
    for note in env["notes"]:
        print("note: " + note)
    print()
    print(markdown(report))
    print()
    other = report["other_processes_cpu_share"]
    print(f"{'quick' if args.quick else 'full'} run: {rounds} rounds, {EPOCHS} epochs per timed run, "
          f"{report['wall_s']:.0f} s"
          + (f"; other processes used {100 * other:.1f}% of the CPU meanwhile" if other is not None else ""))
    if other is not None and other > 0.05:
        print("warning: other processes competed for the CPU; the best-of-rounds figures are less reliable")
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=2, default=float)
    return report


if __name__ == "__main__":
    main()
