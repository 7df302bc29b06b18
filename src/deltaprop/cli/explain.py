"""``deltaprop explain``: one gradient of a saved model worked out with its own numbers.

    deltaprop explain MODEL --weight L:J,K [--sample N] [--notation ng-ml] [--format markdown]
    deltaprop explain MODEL --bias L:J
    deltaprop explain MODEL --layer L          the whole layer: δ^l, dW^l, db^l for the batch
    deltaprop explain MODEL --sensitivity      the parameters with the largest |∂C/∂θ|
    deltaprop explain --demo                   3Blue1Brown's one-neuron chain, ∂C_0/∂w^(L)

``--weight L:J,K`` names ``net.weights[L-1][J, K]`` (L counts weight layers from 1; J, K are
0-based), ``--bias L:J`` names ``net.biases[L-1][J]``, whatever the notation they are shown in.
The data are a split (default: train, ``deltaprop.defaults.EXPLAIN_SPLIT``, the same examples
the report explains) of the data set the model was trained on, passed through the model's
preprocessing; without ``--sample`` the cost is averaged over the whole split. Only the rows
of the train split are called training examples (Nielsen: training inputs) in the text.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .. import defaults
from ..targets import target_rows
from .app import app, fail
from .common import plain

NOTATIONS = ("3b1b", "nielsen", "ng-ml", "ng-dl")
FORMATS = ("text", "markdown")


def _parse_parameter(weight: Optional[str], bias: Optional[str]):
    """(weight tuple or None, bias tuple or None) from "L:J,K" / "L:J"."""
    from .common import parse_index

    if weight is not None:
        spec = parse_index(weight, "--weight", "L:J,K (e.g. 2:1,0)")
        if ":" not in weight or len(spec) != 3:
            fail(f"--weight must look like L:J,K (e.g. 2:1,0), got {weight!r}")
        return spec, None
    if bias is not None:
        spec = parse_index(bias, "--bias", "L:J (e.g. 2:1)")
        if ":" not in bias or len(spec) != 2:
            fail(f"--bias must look like L:J (e.g. 2:1), got {bias!r}")
        return None, spec
    return None, None


def _targets(net, ds, y) -> np.ndarray:
    """Targets for a split: the split's class labels (explain encodes them against the model's
    classes_), or its regression targets. A classifier saved without class labels takes the
    split's class indices as they are."""
    if ds.task == "classification" and net.classes_ is None:
        return target_rows(np.asarray(y, dtype=np.int64), net.sizes[-1])
    return ds.labels(y)


def _model_data(model: Path, dataset, split, seed, data_dir, label):
    """(net, X, Y) for MODEL on a split of its data set."""
    from ..datasets import load_recorded
    from .common import load_model, model_file, model_header, split_arrays

    from ..recorded import recorded_dataset

    model = model_file(model)
    net = load_model(model)
    dataset, options = recorded_dataset(model_header(model), model, dataset)
    if dataset is None:
        fail(f"{model} does not record the data set it was trained on; pass --dataset NAME")
    ds = load_recorded(options, name=dataset, seed=seed, data_dir=data_dir, label=label)
    X_raw, y = split_arrays(ds, split)
    if len(X_raw) == 0:
        fail(f"the {split} split of {ds.name} is empty; choose another with --split")
    if X_raw.shape[1] != net.sizes[0]:
        fail(f"{ds.name} has {X_raw.shape[1]} features but the model's input layer has {net.sizes[0]}")
    return net, X_raw, _targets(net, ds, y)  # raw: explain applies the model's preprocessing


@app.command("explain")
def explain_command(
    model: Optional[Path] = typer.Argument(None, help="A model file written by deltaprop train (model.npz).", metavar="MODEL"),
    weight: Optional[str] = typer.Option(None, "--weight", help="L:J,K = net.weights[L-1][J, K] (L from 1, J and K from 0).", metavar="TEXT"),
    bias: Optional[str] = typer.Option(None, "--bias", help="L:J = net.biases[L-1][J].", metavar="TEXT"),
    layer: Optional[int] = typer.Option(None, "--layer", help="Explain all of layer L (net.weights[L-1]) for the batch.", metavar="INTEGER"),
    sensitivity: bool = typer.Option(False, "--sensitivity", help="Rank the parameters by |∂C/∂θ|."),
    top: int = typer.Option(10, "--top", help="With --sensitivity: how many parameters.", metavar="INTEGER"),
    sample: Optional[int] = typer.Option(None, "--sample", help="One example (a row of the split, from 0) instead of the batch average.", metavar="INTEGER"),
    dataset: Optional[str] = typer.Option(None, help="Data set [default: the one the model was trained on].", metavar="TEXT"),
    split: str = typer.Option(defaults.EXPLAIN_SPLIT, help="train, validation or test (the report explains train examples too).", metavar="TEXT"),
    seed: Optional[int] = typer.Option(None, help="Split seed [default: the training run's].", metavar="INTEGER"),
    data_dir: Optional[Path] = typer.Option(None, help="Where the MNIST/Fashion-MNIST IDX files are.", metavar="PATH"),
    label: Optional[str] = typer.Option(None, help="csv: the label column, by name or index.", metavar="TEXT"),
    notation: str = typer.Option("3b1b", help="3b1b, nielsen, ng-ml or ng-dl.", metavar="TEXT"),
    output_format: str = typer.Option("text", "--format", help="text (terminal) or markdown (LaTeX in $...$).", metavar="TEXT"),
    l2: float = typer.Option(0.0, "--l2", help="L2 regularisation λ of the cost being differentiated.", metavar="FLOAT"),
    demo: bool = typer.Option(False, "--demo", help="3Blue1Brown's one-neuron-per-layer chain; explains w^(L)."),
):
    """Show the chain rule behind one gradient, with the network's own numbers."""
    from ..explain import demo_chain, explain, explain_layer
    from ..explain import sensitivity as rank_parameters

    if notation.lower().replace("_", "-") not in NOTATIONS:
        fail(f"unknown notation {notation!r}; choose one of: {', '.join(NOTATIONS)}")
    if output_format not in FORMATS:
        fail(f"--format must be text or markdown, got {output_format!r}")
    modes = [m for m, on in (("--weight", weight is not None), ("--bias", bias is not None),
                             ("--layer", layer is not None), ("--sensitivity", sensitivity)) if on]
    if len(modes) > 1:
        fail(f"give one of --weight, --bias, --layer or --sensitivity, not {' and '.join(modes)}")
    w, b = _parse_parameter(weight, bias)

    if demo:
        if model is not None:
            fail("--demo builds its own network; leave out MODEL")
        if dataset is not None or data_dir is not None or label is not None:
            fail("--demo has its own single example; leave out --dataset, --data-dir and --label")
        net, X, Y = demo_chain()
        if not modes:
            w = (3, 0, 0)
        if sample is None and layer is None and not sensitivity:
            sample = 0  # the chain has one example: explain its cost C_0
    else:
        if model is None:
            fail("give a MODEL file (from deltaprop train), or --demo")
        if not modes:
            fail("say what to explain: --weight L:J,K, --bias L:J, --layer L or --sensitivity")
        net, X, Y = _model_data(model, dataset, split, seed, data_dir, label)

    if layer is not None:
        if sample is not None:
            fail("--layer explains the batch; leave out --sample")
        result = explain_layer(net, X, Y, layer=layer, notation=notation, l2=l2)
    elif sensitivity:
        if sample is not None:
            X, Y = _one_row(X, Y, sample)
        result = rank_parameters(net, X, Y, top=top, l2=l2, notation=notation)
    else:
        result = explain(net, X, Y, weight=w, bias=b, sample=sample, notation=notation, l2=l2,
                         training=not demo and split.lower() == "train")  # the text may call them so
    text = result.to_markdown() if output_format == "markdown" else str(result)
    typer.echo(plain(text, keep_newlines=True), nl=False)  # labels and column names stay text


def _one_row(X, Y, sample):
    if not 0 <= sample < len(X):
        fail(f"--sample {sample} is out of range; valid: 0..{len(X) - 1}")
    return X[sample : sample + 1], Y[sample : sample + 1]
