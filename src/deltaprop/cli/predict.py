"""``deltaprop predict``: labels (and probabilities) for inputs in a CSV or NPZ file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .app import app, fail
from .common import load_model


def read_inputs(path: Path, n_features: int) -> np.ndarray:
    """X from a CSV (header row, one example per row, feature columns only — or one extra
    column, ignored if it is the last) or an NPZ (array ``X``)."""
    if not path.exists():
        fail(f"input file {path} does not exist")
    if path.suffix.lower() == ".npz":
        try:
            with np.load(path, allow_pickle=False) as data:
                if "X" not in data.files:
                    fail(f"{path} has no array 'X' (found: {', '.join(data.files) or 'none'})")
                return np.asarray(data["X"], dtype=np.float64)
        except (OSError, ValueError) as exc:
            fail(f"{path} is not a readable .npz file: {exc}")
    try:
        rows = list(csv.reader(path.read_text().splitlines()))
    except UnicodeDecodeError:
        fail(f"{path} is not a text CSV file")
    if len(rows) < 2:
        fail(f"{path} needs a header row and at least one example")
    header, body = rows[0], rows[1:]
    width = len(header)
    if width not in (n_features, n_features + 1):
        fail(f"{path} has {width} columns; the model expects {n_features} features")
    X = np.empty((len(body), n_features))
    for i, row in enumerate(body, start=2):
        if len(row) != width:
            fail(f"{path} line {i}: expected {width} values, got {len(row)}")
        try:
            X[i - 2] = [float(v) for v in row[:n_features]]
        except ValueError:
            fail(f"{path} line {i}: non-numeric value in {row[:n_features]}")
    return X


@app.command("predict")
def predict(
    model: Path = typer.Argument(..., help="A model file (model.npz)."),
    input: Path = typer.Argument(..., help="Inputs: a CSV with a header row, or an NPZ with array X."),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the CSV here instead of stdout."),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class."),
):
    """Predict labels (classifier) or outputs (regression) for new inputs."""
    from ..atomic import atomic_write_text

    net = load_model(model)
    X = read_inputs(input, net.sizes[0])
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if net.classes_ is not None:
        labels = net.predict(X)
        P = net.predict_proba(X) if proba else None
        writer.writerow(["label"] + ([f"p_{c}" for c in net.classes_] if proba else []))
        for i, lab in enumerate(labels):
            writer.writerow([lab] + ([f"{p:.6g}" for p in P[i]] if proba else []))
    else:
        A = net.predict(X)
        writer.writerow([f"output_{j}" for j in range(A.shape[1])])
        for row in A:
            writer.writerow([f"{v:.6g}" for v in row])
    if output is None:
        typer.echo(buf.getvalue(), nl=False)
    else:
        atomic_write_text(output, buf.getvalue())
