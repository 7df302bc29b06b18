"""``deltaprop train``: load a data set, train a network, write model, metrics and curves."""

from __future__ import annotations

import contextlib
import functools
import os
import signal
import sys
from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from .. import defaults
from .. import snapshots
from ..snapshots import ParameterSnapshots
from ..progress import EpochLines, describe
from ..optimizers import FULL_BATCH
from ..training import Callback
from .app import app, fail
from .common import cell, command_line, console, parse_layers, plain, to_json, versions

#: Defaults of every training option (used when neither the command line nor a resumed
#: checkpoint gives a value): ``deltaprop.defaults.TRAIN``, the one home of them.
DEFAULTS = defaults.TRAIN
D = DEFAULTS  # for the help texts
#: What ``--resume`` may change: the number of epochs, and α (e.g. after a divergence).
CHANGEABLE_ON_RESUME = ("epochs", "learning_rate")


class ProgressDisplay(Callback):
    """A live progress bar per epoch with its running cost, on a terminal (elsewhere the command
    prints ``progress.EpochLines``: a plain line per epoch)."""

    def __init__(self, progress: Progress):
        self.progress = progress
        self.task = None
        self.running = 0.0

    def _start(self, trainer):
        if self.progress is not None:
            self.task = self.progress.add_task(
                f"epoch {trainer.epoch + 1}/{trainer.epochs}", total=None, stats=""
            )
        self.running = 0.0

    def on_train_begin(self, trainer):
        self._start(trainer)

    def on_batch_end(self, trainer, batch, n_batches, cost):
        if self.progress is None:
            return
        self.running += cost
        if batch % 8 == 0 or batch == n_batches - 1:
            self.progress.update(
                self.task, total=n_batches, completed=batch + 1,
                stats=f"cost {self.running / (batch + 1):.4f}",
            )

    def on_epoch_end(self, trainer, record):
        self.progress.update(self.task, stats=describe(record))
        if trainer.epoch < trainer.epochs:
            self._start(trainer)
        return False


def stdout_console() -> Console:
    """The console for the command's output: ``common.console`` when stdout really is a
    terminal; otherwise (a pipe, a file, a notebook's ``!deltaprop train``, which ipykernel runs
    with FORCE_COLOR=1 and a pipe) one that writes plain text: no colour, no cursor codes."""
    return console  # (common.console is plain when stdout is not a terminal)


def early_stopping_line(records: list, best_epoch, patience) -> str:
    """What early stopping did: when it stopped, why, and which epoch's weights were kept."""
    best = records[best_epoch - 1] if best_epoch and best_epoch <= len(records) else {}
    kept = f"; kept the weights of epoch {best_epoch}" if best_epoch else ""
    if best.get("val_cost") is not None:
        kept += f" (validation cost {best['val_cost']:.4f}"
        kept += f", accuracy {best['val_accuracy']:.2%})" if best.get("val_accuracy") is not None else ")"
    since = f" for {patience} epochs" if patience else ""
    return f"early stopping after epoch {len(records)}: the validation cost had not improved{since}{kept}"


def resolve_options(given: dict, resume_meta: dict | None) -> dict:
    """Command-line values, else the resumed run's, else the defaults."""
    opts = dict(DEFAULTS)
    if resume_meta is not None:
        opts.update(resume_meta.get("cli", {}))
        for key, value in given.items():
            if value is not None and key not in CHANGEABLE_ON_RESUME and value != opts.get(key):
                fail(
                    f"--{key.replace('_', '-')} differs from the run being resumed "
                    f"({opts.get(key)!r}); only --epochs and --learning-rate may change on --resume"
                )
    opts.update({k: v for k, v in given.items() if v is not None})
    check_options(opts)
    if str(opts["optimizer"]).lower() in FULL_BATCH:
        if given.get("batch_size") not in (None, "all"):
            fail(f"--optimizer {opts['optimizer']} uses all the training rows in every iteration; leave out --batch-size")
        opts["batch_size"] = "all"
    elif opts["learning_rate"] is None:
        opts["learning_rate"] = defaults.learning_rate(opts["optimizer"])
    return opts


def check_options(opts: dict) -> None:
    """Refuse, before anything is loaded or printed, what the command line cannot mean."""
    names = (*defaults.LEARNING_RATE, *FULL_BATCH)
    if str(opts["optimizer"]).lower() not in names:
        fail(f"unknown optimizer {opts['optimizer']!r}; expected one of: {', '.join(names)}")
    if str(opts["optimizer"]).lower() in FULL_BATCH and opts.get("learning_rate") is not None:
        fail(f"--optimizer {opts['optimizer']} takes no --learning-rate (its line search picks the step); leave it out")
    if str(opts["activation"]).lower() == "softmax":
        fail("--activation softmax: softmax is an output activation only; use --output softmax with a hidden "
             "--activation such as relu or sigmoid")
    from ..datasets import IDX_DATASETS, STREAMED

    name = str(opts["dataset"]).strip().lower()
    if opts.get("label") is not None and not (name.startswith("csv:") or name.endswith(".csv")):
        fail(f"--label chooses the label column of a csv: data set; {opts['dataset']} has its own labels")
    if opts.get("block_size") is not None:
        if name.partition(":")[0] not in STREAMED or ":" not in name:
            fail(f"--block-size is the rows per read of an npy:, hdf5: or zarr: data set; {opts['dataset']} is loaded into memory")
        if opts["block_size"] < 1:
            fail(f"--block-size must be a positive integer (rows per block), got {opts['block_size']}")
    if opts.get("data_dir") is not None and name.replace("_", "-") not in IDX_DATASETS:
        fail(f"--data-dir is where the MNIST / Fashion-MNIST IDX files are; {opts['dataset']} does not read it")


def build_network(opts: dict, ds):
    """The network for data set ``ds``: hidden sizes from --layers, the output activation and
    cost from ``deltaprop.targets.head`` (the one task rule, shared with the estimators), the
    data's classes and feature names."""
    from .. import targets
    from ..network import Network

    output, cost = targets.head(ds.task, ds.n_classes, opts["output"], opts["cost"])
    n_out = targets.n_outputs(ds.task, ds.n_classes, output, ds.n_outputs)
    hidden = parse_layers(opts["layers"])
    sizes = [ds.n_features] + hidden + [n_out]
    if len(hidden) >= 2 and hidden[0] == ds.n_features and hidden[-1] == n_out:
        typer.echo(f"note: --layers gives the hidden layers only, so this network is {'-'.join(map(str, sizes))}; "
                   f"for {'-'.join(map(str, hidden))} pass --layers {','.join(map(str, hidden[1:-1])) or 'none'}", err=True)
    _check_memory(sizes, opts["dtype"] or "float64")
    net = Network(
        sizes, activation=opts["activation"], output=output, cost=cost, init=opts["init"],
        seed=opts["seed"], dtype=opts["dtype"],
    )
    if ds.task == "classification":
        net.classes_ = np.asarray(ds.classes)
    net.feature_names = feature_names(ds)
    return net


def feature_names(ds) -> list:
    """The training columns' names: the data set's (a CSV header), or x0, x1, … for arrays."""
    return list(ds.feature_names) if ds.feature_names else [f"x{i}" for i in range(ds.n_features)]


class _Interrupts:
    """While installed, the first SIGINT (Ctrl-C) or SIGTERM (``timeout``, ``docker stop``, batch
    schedulers) raises KeyboardInterrupt in the main thread, so the training loop keeps the last
    whole epoch and checkpoints it; any later one is noted and ignored, so that nothing
    interrupts writing that checkpoint. ``terminated``: the first one was SIGTERM. A signal
    that the process was started ignoring (``nohup``) stays ignored. ``restore`` puts the
    previous handlers back."""

    def __init__(self):
        self.received = None
        self.previous = {}
        try:
            for signum in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(signum) is not signal.SIG_IGN:
                    self.previous[signum] = signal.signal(signum, self._first)
        except ValueError:  # not the main thread: leave the signals alone
            self.restore()

    @property
    def terminated(self) -> bool:
        return self.received == signal.SIGTERM

    def _first(self, signum, frame):
        self.received = signum
        for other in self.previous:
            signal.signal(other, self._later)
        raise KeyboardInterrupt

    def _later(self, signum, frame):
        pass

    def restore(self):
        for signum, handler in self.previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        self.previous = {}


def _describe_preprocessing(prep, given) -> str:
    how = "chosen with --preprocessing" if given else "default"
    if prep.kind == "scale":
        return f"x / {prep.max_value:g} ({how}{'' if given else ': pixel data'})"
    if prep.kind == "standardize":
        return f"standardized per feature ({how})"
    return f"used as given ({how})"



def _check_checkpoint_blocks(every: int | None, opts: dict) -> None:
    """--checkpoint-blocks: a positive number, for a streamed data set trained on mini-batches."""
    if every is None:
        return
    from ..datasets import STREAMED

    name = str(opts["dataset"]).strip().lower()
    if every < 1:
        fail(f"--checkpoint-blocks must be a positive integer (blocks between checkpoints), got {every}")
    if name.partition(":")[0] not in STREAMED or ":" not in name:
        fail(f"--checkpoint-blocks writes checkpoints inside the epochs of an npy:, hdf5: or zarr: data set; "
             f"{opts['dataset']} is loaded into memory (use --checkpoint-every)")
    if opts["batch_size"] == "all":
        fail("--checkpoint-blocks is for mini-batch training; a full-batch method (lbfgs, cg, --batch-size all) "
             "checkpoints after each iteration (--checkpoint-every)")


def _shuffle(ds, opts: dict) -> dict:
    """fit's shuffle arguments: a streamed data set (npy:, hdf5:, zarr:) is read with
    ``shuffle="blocks"`` (its ``--block-size`` resolved, so that the model records it): shuffled
    blocks for mini-batches, and for the full-batch methods (lbfgs, cg, --batch-size all) the
    blocks in order for every evaluation (``fullbatch.BlockCost``)."""
    if not ds.streamed:
        return {}
    from ..sources import default_block_size

    if opts.get("block_size") is None:
        opts["block_size"] = default_block_size(ds.n_features)
    return {"shuffle": "blocks", "block_size": opts["block_size"]}


def _gradient_norm_rows(ds, seed):
    """(X, y) for ``GradientNorms``: of a streamed set, the rows it would draw, read alone (it
    would load the whole split to pick them)."""
    from ..monitor import DEFAULT_MAX_ROWS
    from ..validation import as_generator

    X, y = ds.X_train, ds.labels(ds.y_train)
    if ds.streamed and len(X) > DEFAULT_MAX_ROWS:
        rows = np.sort(as_generator(seed).choice(len(X), size=DEFAULT_MAX_ROWS, replace=False))
        X, y = X[rows], y[rows]
    return X, y


def split_metrics(net, ds, l2):
    out = {}
    for split, key in (("train", "train"), ("validation", "val"), ("test", "test")):
        X, y = getattr(ds, f"X_{key}"), getattr(ds, f"y_{key}")
        if len(X):
            out[split] = net.evaluate(X, ds.labels(y), l2=0.0)
            out[split]["n"] = int(len(X))
    return out


@app.command("train")
def train(
    dataset: Optional[str] = typer.Option(None, help="digits (default), mnist, fashion-mnist, csv:PATH, npz:PATH, moons, circles, xor, spiral; or, read from disk block by block and never loaded whole: npy:X.npy,y.npy (X a memory map), hdf5:FILE[:X,y] (its datasets X and y, or the two named), zarr:DIR[:X,y] (a Zarr group's arrays).", metavar="TEXT"),
    layers: Optional[str] = typer.Option(None, help=f"Hidden layer sizes, comma separated, e.g. 16,16 (default: {D['layers']}).", metavar="TEXT"),
    activation: Optional[str] = typer.Option(None, help=f"Hidden activation: relu, sigmoid, tanh, leaky_relu, identity (default: {D['activation']}).", metavar="TEXT"),
    output: Optional[str] = typer.Option(None, help="Output activation (default: by the task — sigmoid for two classes, softmax for more, identity for regression).", metavar="TEXT"),
    cost: Optional[str] = typer.Option(None, help="cross_entropy, binary_cross_entropy, quadratic, half_quadratic (½ Σ (a − y)², Nielsen's) (default: the one that matches the output).", metavar="TEXT"),
    init: Optional[str] = typer.Option(None, help="Weight initialiser: nielsen, glorot, he, ng (default: by activation).", metavar="TEXT"),
    epochs: Optional[int] = typer.Option(None, help=f"Passes over the training set (default: {D['epochs']}).", metavar="INTEGER"),
    batch_size: Optional[str] = typer.Option(None, help=f"Examples per mini-batch, or 'all': full-batch gradient descent, one step per epoch (default: {D['batch_size']}; lbfgs and cg always use all).", metavar="INTEGER|all"),
    learning_rate: Optional[float] = typer.Option(None, help="Step size α (default: " + ", ".join(f"{v:g} {k}" for k, v in defaults.LEARNING_RATE.items()) + ").", metavar="FLOAT"),
    optimizer: Optional[str] = typer.Option(None, help=f"adam, sgd or momentum; or lbfgs or cg (Polak–Ribière conjugate gradient), full-batch methods with no learning rate, where an epoch is one iteration on all the rows (default: {D['optimizer']}).", metavar="TEXT"),
    l2: Optional[float] = typer.Option(None, help=f"L2 regularisation λ (cost += λ/2m Σ W²) (default: {D['l2']:g}).", metavar="FLOAT"),
    seed: Optional[int] = typer.Option(None, help=f"Seed for the split, initial weights and shuffling (default: {D['seed']}).", metavar="INTEGER"),
    dtype: Optional[str] = typer.Option(None, help="float64 (default, exact) or float32 (fast).", metavar="TEXT"),
    out: Path = typer.Option(Path("runs/latest"), help="Directory for model.npz, metrics.json, learning_curves.png.", metavar="PATH"),
    checkpoint_every: Optional[int] = typer.Option(None, help="Write DIR/checkpoint.npz every N epochs (always on Ctrl-C).", metavar="INTEGER"),
    checkpoint_blocks: Optional[int] = typer.Option(None, help="npy:, hdf5:, zarr: data with mini-batches: also write DIR/checkpoint.npz inside each epoch, every N blocks (a run killed outright resumes there with --resume).", metavar="INTEGER"),
    resume: bool = typer.Option(False, "--resume", help="Continue the run in --out from its checkpoint."),
    data_dir: Optional[Path] = typer.Option(None, help="Where the MNIST/Fashion-MNIST IDX files are.", metavar="PATH"),
    label: Optional[str] = typer.Option(None, help="csv: the label column, by name or index (default: last).", metavar="TEXT"),
    task: Optional[str] = typer.Option(None, help="classification, multilabel or regression (default: inferred — integer, boolean or text labels are classes, whatever their number; numbers with fractions are regression).", metavar="TEXT"),
    preprocessing: Optional[str] = typer.Option(None, help="standardize, scale or none (default: scale for pixel data — uint8 or whole numbers in 0..255 — else standardize); recorded in the model.", metavar="TEXT"),
    test_fraction: Optional[float] = typer.Option(None, help=f"Test split for data sets without one (default: {D['test_fraction']}).", metavar="FLOAT"),
    limit: Optional[int] = typer.Option(None, help="Use only the first N examples of the data set, before it is split (for MNIST: of its training set).", metavar="INTEGER"),
    threads: Optional[int] = typer.Option(None, help="BLAS threads (threadpoolctl) [default: the library's own; 1 on a loaded machine].", metavar="INTEGER"),
    early_stopping: Optional[bool] = typer.Option(None, "--early-stopping/--no-early-stopping", help="Stop when the validation cost stops improving; keep the best weights."),
    patience: Optional[int] = typer.Option(None, help=f"Epochs without improvement before early stopping (default: {D['patience']}).", metavar="INTEGER"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="No progress display."),
    report: bool = typer.Option(False, "--report/--no-report", help="Also write DIR/report.html, the interactive training report (see deltaprop report)."),
    block_size: Optional[int] = typer.Option(None, help="npy:, hdf5:, zarr: data: rows per block read from disk; each epoch visits the blocks, and the rows within each, in a random order (default: 16 MiB of float32 inputs).", metavar="INTEGER"),
    dask: Optional[str] = typer.Option(None, "--dask", help="Train on the Dask cluster whose scheduler is at ADDRESS (e.g. tcp://10.0.0.5:8786): the training rows go to its workers once, and each iteration's cost and gradient are sums over their chunks there (lbfgs, cg or --batch-size all only; the same weights as without it, to rounding).", metavar="ADDRESS"),
):
    """Train a network and report its accuracy. With no arguments: the bundled 8x8 digits."""
    from ..rundir import RunDirectory

    given = {
        "dataset": dataset, "layers": layers, "activation": activation, "output": output,
        "cost": cost, "init": init, "epochs": epochs, "batch_size": _batch_size(batch_size),
        "learning_rate": learning_rate, "optimizer": optimizer, "l2": l2, "seed": seed,
        "dtype": dtype, "data_dir": None if data_dir is None else str(data_dir), "label": label,
        "task": task, "preprocessing": preprocessing, "test_fraction": test_fraction, "limit": limit, "early_stopping": early_stopping,
        "patience": patience, "block_size": block_size,
    }
    interrupts = _Interrupts()  # Ctrl-C and SIGTERM: checkpoint the last whole epoch, then stop
    run_dir = RunDirectory(out)
    try:
        with run_dir, blas_threads(threads):  # one run at a time in --out, for the whole command
            _train_in(run_dir, given, checkpoint_every, resume, quiet, report, interrupts, dask, checkpoint_blocks)
    except KeyboardInterrupt:  # outside the training loop: while loading, or saving the results
        fail_interrupted(out, interrupts.terminated, run_dir.committed)
    finally:
        interrupts.restore()


def _batch_size(value: str | None) -> int | str | None:
    """``--batch-size``: an integer (checked by fit), "all" (full batch), or None (not given)."""
    if value is None or value.strip().lower() == "all":
        return None if value is None else "all"
    try:
        return int(value)
    except ValueError:
        fail(f"--batch-size must be a positive integer or 'all', got {value!r}")


def blas_threads(threads):
    """``--threads N``: at most N BLAS/OpenMP threads for the command (threadpoolctl); two BLAS
    threads fighting other work on a loaded machine can make a run many times slower."""
    if threads is None:
        return contextlib.nullcontext()
    if threads < 1:
        fail(f"--threads must be at least 1, got {threads}")
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=threads)


def fail_interrupted(out: Path, terminated: bool, committed: bool):
    """Exit after an interrupt that came outside the training loop (the loop checkpoints its
    own): every file is written atomically and the results as one unit, so none is half-written."""
    what = "terminated" if terminated else "interrupted"
    if committed:
        print(f"error: {what} after the run's files were written to {out} (they are complete)", file=sys.stderr)
    else:
        checkpoint = out / "checkpoint.npz"
        kept = (f"; {checkpoint} holds the last whole epoch. Continue with: deltaprop train --out {out} --resume"
                if checkpoint.exists() else "")
        print(f"error: {what}; the run's files in {out} were left as they were{kept}", file=sys.stderr)
    sys.exit(143 if terminated else 130)


def _refuse_to_replace_an_unfinished_run(out: Path) -> None:
    """A fresh run must not delete the checkpoint of a run that has not finished (interrupted
    or diverged: its run_id is not the one of DIR/model.npz)."""
    from ..modelfile import ModelFileError, read_header

    checkpoint = out / "checkpoint.npz"
    ours = _run_id_of(checkpoint)
    if ours is None:
        return
    try:
        finished = (read_header(out / "model.npz").get("training") or {}).get("run_id")
    except (ModelFileError, OSError):
        finished = None
    if finished != ours:
        fail(f"{out} holds an unfinished run ({checkpoint}); continue it with deltaprop train --out {out} "
             f"--resume, or delete {checkpoint} (or give another --out) to start a new one")


def _check_memory(sizes: list, dtype) -> None:
    """Refuse a network whose training state cannot fit in memory, before allocating it: the
    weights, their gradients, two optimizer moments, the last-good and best copies (6 copies)."""
    n_params = sum(sizes[l] * sizes[l - 1] + sizes[l] for l in range(1, len(sizes)))
    try:
        itemsize = np.dtype(dtype).itemsize
    except TypeError:
        itemsize = 8  # (the network refuses the name itself)
    need = 6 * n_params * itemsize
    available = _available_memory()
    if available is not None and need > available:
        fail(
            f"a {'-'.join(map(str, sizes))} network has {n_params:,} parameters; training it needs about "
            f"{need / 1e9:.3g} GB but this machine has {available / 1e9:.3g} GB available: choose smaller --layers"
        )


def _available_memory() -> int | None:
    """Bytes of memory available (Linux: MemAvailable), else physical memory, else None."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _run_id_of(path: Path):
    """The run id recorded in checkpoint ``path`` (None if absent or unreadable)."""
    from ..modelfile import ModelFileError, read_header

    try:
        meta = read_header(path).get("checkpoint")
    except (ModelFileError, OSError):
        return None
    return meta.get("run_id") if isinstance(meta, dict) else None


def check_dask(address: str | None, opts: dict) -> None:
    """``--dask`` takes the full-batch methods only (mini-batches cannot pay for a round trip)."""
    if address is not None and str(opts["optimizer"]).lower() not in FULL_BATCH and opts["batch_size"] != "all":
        fail(f"--dask trains with full-batch methods only (--optimizer lbfgs or cg, or --batch-size all); "
             f"--optimizer {opts['optimizer']} with --batch-size {opts['batch_size']} takes mini-batches")


def dask_client(address: str):
    """``--dask ADDRESS``: a Client of that cluster (the caller closes it)."""
    try:
        from distributed import Client
    except ImportError:
        fail("--dask needs dask.distributed: pip install 'deltaprop[scale]'")
    try:
        return Client(address, timeout="10s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        fail(f"--dask: cannot reach a Dask scheduler at {address!r} ({plain(str(exc)).splitlines()[0]})")


#: --dask with a data set read from disk: the rows go to the workers in chunks of this many bytes
DASK_CHUNK_BYTES = 64 * 2**20


def fit_on_dask(client, net, X, y, **kwargs):
    """``distributed.fit`` with the training rows sent to the workers once: rows in memory as one
    chunk per worker; rows of a data set read from disk (npy:, hdf5:, zarr:) read block by
    block, ``DASK_CHUNK_BYTES`` at a time, each block scattered to the next worker in turn, so
    the client never holds more than a block of them."""
    from contextlib import closing

    import dask.array as da

    from .. import distributed
    from ..sources import Source, out_of_core, read_blocks

    workers = sorted(client.scheduler_info()["workers"]) or [None]
    if not out_of_core(X):
        rows = -(-len(X) // len(workers))
        X = client.persist(da.from_array(np.asarray(X), chunks=(rows, -1)))
        return distributed.fit(net, X, y, client=client, **kwargs)
    source = Source(X)
    rows = max(1, DASK_CHUNK_BYTES // (source.n_features * np.dtype(source.array.dtype).itemsize))
    parts = []
    with closing(read_blocks(source, rows)) as blocks:
        for k, (start, stop, block) in enumerate(blocks):
            where = workers[k % len(workers)]
            # (a copy: the reader reuses its buffers)
            future = client.scatter(np.array(block), workers=None if where is None else [where])
            parts.append(da.from_delayed(future, shape=block.shape, dtype=block.dtype))
    return distributed.fit(net, da.concatenate(parts), y, client=client, **kwargs)


def _train_in(run_dir, given, checkpoint_every, resume, quiet, report, interrupts, dask=None, checkpoint_blocks=None):
    """The run, with ``run_dir`` (a held ``RunDirectory``): load, train, write the files as one."""
    from ..datasets import load_dataset
    from ..modelfile import load_checkpoint, save
    from ..plots import learning_curves
    from ..preprocessing import default_preprocessing
    from ..atomic import atomic_write_text
    from ..rundir import new_run_id
    from ..training import TrainingDiverged, fit

    out = run_dir.path
    con = stdout_console()
    checkpoint_path = out / "checkpoint.npz"
    resume_meta = resumed = None
    if not resume:
        _refuse_to_replace_an_unfinished_run(out)
    if resume:
        if not checkpoint_path.exists():
            fail(f"--resume: no checkpoint at {checkpoint_path}; train with --out {out} first")
        resumed = load_checkpoint(checkpoint_path)
        resume_meta = resumed.meta
    opts = resolve_options(given, resume_meta)
    check_dask(dask, opts)
    _check_checkpoint_blocks(checkpoint_blocks, opts)
    if resumed is not None and opts["task"] is None:  # a run recorded before --task: its own network says
        opts["task"] = "classification" if resumed.net.classes_ is not None else "regression"
    run_id = (resume_meta or {}).get("run_id") or new_run_id()  # a resumed run keeps its id

    ds = load_dataset(
        opts["dataset"], data_dir=opts["data_dir"], label=opts["label"],
        test_fraction=opts["test_fraction"], seed=opts["seed"], limit=opts["limit"], task=opts["task"],
    )
    if resumed is not None:  # the run's own network: architecture, classes and preprocessing
        net = resumed.net    # as its weights saw them (fit restores the weights and state)
        if net.feature_names is None:
            net.feature_names = feature_names(ds)
    else:
        net = build_network(opts, ds)
        net.preprocessing = default_preprocessing(ds, opts["preprocessing"])  # fitted on the training split
    # record what was resolved, so the model file and a later --resume say it outright
    opts.update(task=ds.task, output=net.g[-1].name, cost=net.cost_name, preprocessing=net.preprocessing.kind)
    shuffle = _shuffle(ds, opts)
    con.print(
        f"[bold]deltaprop train[/bold]  {cell(ds.name)}: {len(ds.X_train)} train / {len(ds.X_val)} "
        f"validation / {len(ds.X_test)} test, {ds.n_features} features"
        + (f", {ds.n_classes} classes" if ds.task == "classification" else "")
    )
    con.print(
        f"task {ds.task}" + (f" ({plain(ds.task_reason)})" if ds.task_reason else "")
        + f"; inputs: {_describe_preprocessing(net.preprocessing, given['preprocessing'])}",
        markup=False,
    )
    con.print(
        f"network {'-'.join(map(str, net.sizes))}  "
        f"({', '.join(g.name for g in net.activations)}; cost {net.cost_name}; "
        f"{net.n_params} parameters; {net.dtype.name})  {plain(opts['optimizer'])} "
        + (f"α={opts['learning_rate']:g} batch {opts['batch_size']}" if opts["learning_rate"] is not None else "full batch")
        + f"  λ={opts['l2']:g}  seed {opts['seed']}",
        markup=False,
    )
    if resumed is not None and opts["optimizer"] in FULL_BATCH:
        con.print(f"resuming: {opts['optimizer']} restarts from the checkpoint's weights (its memory of past "
                  "iterations is not saved)", markup=False)
    if resumed is not None and opts["learning_rate"] != resume_meta.get("cli", {}).get("learning_rate"):
        con.print(f"resuming with learning rate {opts['learning_rate']:g} (the run used "
                  f"{resume_meta.get('cli', {}).get('learning_rate')!r}); each epoch's record states its own",
                  markup=False)

    interactive = sys.stdout.isatty() and not quiet  # a live bar only on a real terminal
    progress = None
    if interactive:
        progress = Progress(
            TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
            TextColumn("{task.fields[stats]}"), TimeElapsedColumn(), console=console,
        )
    from ..monitor import GradientNorms

    # every run records per-layer gradient norms (one backward per epoch on ≤ 512 training rows)
    callbacks = [GradientNorms(*_gradient_norm_rows(ds, opts["seed"]), seed=opts["seed"])]
    callbacks += [ParameterSnapshots()] if snapshots.wanted(net) else []  # the report's boundary over epochs
    callbacks += [] if quiet else [ProgressDisplay(progress) if interactive else EpochLines()]
    client = None if dask is None else dask_client(dask)
    if client is not None:
        con.print(f"on the Dask cluster at {dask} ({len(client.scheduler_info()['workers'])} workers): "
                  "cost and gradient summed over the training chunks there", markup=False)
    train_fit = fit if client is None else functools.partial(fit_on_dask, client)
    try:
        if progress is not None:
            progress.start()
        history = train_fit(
            net, ds.X_train, ds.labels(ds.y_train),
            epochs=opts["epochs"], batch_size=None if opts["batch_size"] == "all" else opts["batch_size"],
            learning_rate=opts["learning_rate"], optimizer=opts["optimizer"], l2=opts["l2"],
            validation=(ds.X_val, ds.labels(ds.y_val)) if len(ds.X_val) else None,
            seed=opts["seed"], callbacks=callbacks, **shuffle,
            early_stopping=opts["early_stopping"], patience=opts["patience"],
            checkpoint=checkpoint_path, checkpoint_every=checkpoint_every, checkpoint_blocks=checkpoint_blocks,
            checkpoint_meta={"cli": opts, "dataset": opts["dataset"], "run_id": run_id},
            resume=resumed,
        )
    except TrainingDiverged as exc:
        rate = opts["learning_rate"]
        kept = ""
        if exc.checkpoint is not None and rate is not None:
            kept = (f", in {exc.checkpoint}: continue from them with deltaprop train --out {out} "
                    f"--resume --learning-rate {rate / 10:g}")
        fail(f"{exc}{kept}")
    finally:
        if progress is not None:
            progress.stop()
        if client is not None:
            client.close()

    if history.stop_reason == "interrupted":
        con.print(
            f"{'terminated' if interrupts.terminated else 'interrupted'} after epoch {len(history)}; "
            f"checkpoint saved to {checkpoint_path}. Continue with: deltaprop train --out {out} --resume",
            markup=False,
        )
        sys.exit(143 if interrupts.terminated else 130)  # 128 + the signal, as shells report it

    metrics = split_metrics(net, ds, opts["l2"])
    record = {
        "command": command_line(),
        "run_id": run_id,
        "seed": opts["seed"],
        "options": opts,
        "dataset": {"name": ds.name, "task": ds.task, "n_features": ds.n_features,
                    "classes": None if ds.classes is None else np.asarray(ds.classes).tolist()},
        "network": net.config(),
        "stop_reason": history.stop_reason,
        "best_epoch": history.best_epoch,
        **metrics,
        "history": history.records,
        "versions": versions(),
    }
    # the run's files, written as one unit: an earlier run's checkpoint and report go with it
    earlier = resumed is None and _run_id_of(checkpoint_path) != run_id  # (a resumed one is this run's)
    stale = ["report.html"] + (["checkpoint.npz"] if earlier else [])
    with run_dir.new_files(remove=stale) as staging:
        save(net, staging / "model.npz", extra_meta={
            "training": {k: record[k] for k in ("command", "run_id", "seed", "options", "dataset",
                                                "stop_reason", "best_epoch")},
            "metrics": metrics})
        atomic_write_text(staging / "metrics.json", to_json(record))
        learning_curves(history.records, staging / "learning_curves.png",
                        title=f"{ds.name}: {'-'.join(map(str, net.sizes))} {net.cost_name}")

    if history.stop_reason == "early_stopping":
        con.print(early_stopping_line(history.records, history.best_epoch, opts["patience"]), markup=False)
    test = metrics.get("test", {})
    if test.get("accuracy") is not None:
        con.print(f"[bold green]test accuracy {test['accuracy']:.2%}[/bold green]  (cost {test['cost']:.4f}, {test['n']} examples)")
    elif test:
        con.print(f"[bold green]test cost {test['cost']:.4f}[/bold green]  ({test['n']} examples)")
    con.print(f"wrote {out / 'model.npz'}, {out / 'metrics.json'}, {out / 'learning_curves.png'}", markup=False)
    if report:
        from ..report import write_report

        # (a streamed set: its first rows, in memory, for the examples and figures that need arrays)
        path = write_report(out, out / "report.html", dataset=ds)  # (a streamed set: its first rows)
        con.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB; open it in a browser)", markup=False)
    model = out / "model.npz"
    con.print(f"next: deltaprop explain {model} --weight 1:0,0   (the chain rule behind one gradient)", markup=False)
    if not report:
        con.print(f"      deltaprop report {out}   (curves, the network, click a weight for its derivation)",
                  markup=False)
