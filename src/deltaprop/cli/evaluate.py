"""``deltaprop evaluate``: accuracy, cost and confusion matrix of a saved model on a data set."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.table import Table

from .app import app, fail
from ..datasets import load_recorded
from .common import cell, console, load_model, model_file, model_header, plain, split_arrays, to_json


def evaluation(net, ds, split: str) -> dict:
    """Cost, accuracy and (for classifiers) the confusion matrix of ``net`` on one split."""
    from sklearn.metrics import confusion_matrix

    X, y = split_arrays(ds, split)
    if len(X) == 0:
        fail(f"the {split} split of {ds.name} is empty")
    if X.shape[1] != net.sizes[0]:
        fail(f"{ds.name} has {X.shape[1]} features but the model's input layer has {net.sizes[0]}")
    truth = ds.labels(y)
    result = {"dataset": ds.name, "split": split, "n": int(len(X)), **net.evaluate(X, truth)}
    if net.classes_ is not None:
        predicted = net.predict(X)
        labels = np.asarray(net.classes_)
        result["classes"] = labels.tolist()
        result["confusion_matrix"] = confusion_matrix(truth, predicted, labels=labels).tolist()
    return result


@app.command("evaluate")
def evaluate(
    model: Path = typer.Argument(..., help="A model file written by deltaprop train (model.npz).", metavar="MODEL"),
    dataset: Optional[str] = typer.Option(None, help="Data set to evaluate on, as deltaprop train names it (npy:, hdf5: and zarr: sets are read in blocks) [default: the one the model was trained on].", metavar="TEXT"),
    split: str = typer.Option("test", help="train, validation or test.", metavar="TEXT"),
    seed: Optional[int] = typer.Option(None, help="Split seed [default: the training run's].", metavar="INTEGER"),
    data_dir: Optional[Path] = typer.Option(None, help="Where the MNIST/Fashion-MNIST IDX files are.", metavar="PATH"),
    label: Optional[str] = typer.Option(None, help="csv: the label column, by name or index.", metavar="TEXT"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON instead of a table."),
):
    """Accuracy, cost and confusion matrix of a trained model."""
    from ..recorded import recorded_dataset

    model = model_file(model)
    net = load_model(model)
    name, options = recorded_dataset(model_header(model), model, dataset)
    if name is None:
        fail(f"{model} does not record its data set; pass --dataset")
    ds = load_recorded(options, name=name, seed=seed, data_dir=data_dir, label=label)
    result = evaluation(net, ds, split)
    if as_json:
        typer.echo(to_json(result), nl=False)
        return
    line = f"{plain(ds.name)} {split} ({result['n']} examples): cost {result['cost']:.4f}"
    if result.get("accuracy") is not None:
        line += f", accuracy {result['accuracy']:.2%}"
    console.print(line, markup=False)
    if "confusion_matrix" in result:
        console.print("confusion matrix (rows: true class, columns: predicted)")  # (a title would wrap)
        table = Table()
        table.add_column("")
        for c in result["classes"]:
            table.add_column(cell(c), justify="right")
        for c, row in zip(result["classes"], result["confusion_matrix"]):
            table.add_row(cell(c), *(str(v) for v in row))
        console.print(table)
