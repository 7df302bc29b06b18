"""``deltaprop predict``: labels (and probabilities) for inputs in a CSV or NPZ file."""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Optional

import numpy as np
import typer

from .app import app, fail
from ..datasets import is_number, parse_features, read_csv_rows, read_npz
from .common import load_model, plain


def read_inputs(path: Path, n_features: int, feature_names=None) -> np.ndarray:
    """X (m, n_features) from a CSV or an NPZ (array ``X``), columns in the model's order.

    A CSV's columns are selected by name when the model knows its feature names: any order,
    extra columns (such as the label) ignored with a note on stderr, a missing column an error
    naming it. Without names — a model trained on arrays (names x0, x1, …), a CSV whose first
    row is data, or an NPZ — the number of columns must match exactly."""
    if not path.exists():
        fail(f"input file {path} does not exist")
    if path.suffix.lower() == ".npz":  # read as npz: data sets are (sizes checked, nothing else read)
        X = np.asarray(read_npz(path, ["X"])["X"], dtype=np.float64)
        X = X.reshape(len(X), -1) if X.ndim > 2 else X
        if X.ndim != 2 or X.shape[1] != n_features:
            fail(f"{path}: X has shape {X.shape}; the model expects (n_samples, {n_features}) — without column names the count must match exactly")
        return X
    header, rows, lines = read_csv_rows(path)
    if not header:
        fail(f"{path} is empty; expected a header row and at least one example")
    names_row = feature_names is not None and set(feature_names) <= set(header)  # the model's names
    if all(is_number(h) for h in header) and not names_row:  # no header row: the first row is data
        if len(header) != n_features:
            fail(f"{path} has {len(header)} columns and no header; the model expects exactly {n_features} features")
        columns, rows, lines = list(range(n_features)), [header, *rows], [1, *lines]
        names = [f"column {j}" for j in columns]
    else:
        if not rows:
            fail(f"{path} needs a header row and at least one example")
        columns = _select_columns(path, header, n_features, feature_names)
        names = [header[c] for c in columns]
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            fail(f"{path} line {line}: expected {len(header)} values, got {len(row)}")
    return parse_features(np.array(rows, dtype=object)[:, columns], names, lines, path)


def csv_text(value) -> str:
    """A CSV cell for ``value`` that a spreadsheet shows as text: a label that is not a number
    and could start a formula — ``=`` or ``@`` first, or ``+``/``-`` followed by more (e.g.
    ``=HYPERLINK(...)``, ``-2+3``) — gets a leading ``'`` (OWASP's advice); the classes ``+``
    and ``-`` themselves stay as they are; control characters are written as escapes (``plain``)."""
    text = plain(value)
    formula = text[:1] in ("=", "@") or (text[:1] in ("+", "-") and len(text) > 1)
    if formula and not is_number(text):
        return "'" + text
    return text


def _generated_names(names) -> bool:
    return names is None or list(names) == [f"x{i}" for i in range(len(names))]


def _select_columns(path: Path, header: list, n_features: int, feature_names) -> list:
    """Positions of the model's features in ``header`` (by name; by position without names)."""
    if len(set(header)) != len(header):
        twice = sorted({h for h in header if header.count(h) > 1})
        fail(f"{path}: column {twice[0]!r} appears more than once in the header")
    if feature_names is not None and (set(feature_names) <= set(header) or not _generated_names(feature_names)):
        missing = [n for n in feature_names if n not in header]
        if missing:
            more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
            fail(f"{path} has no column {missing[0]!r}{more}; the model was trained on the columns: "
                 + ", ".join(feature_names[:8]) + (", …" if len(feature_names) > 8 else ""))
        extra = [h for h in header if h not in set(feature_names)]
        if extra:
            typer.echo(f"note: ignoring {len(extra)} column(s) the model was not trained on: "
                       + plain(", ".join(extra[:5])) + (", …" if len(extra) > 5 else ""), err=True)
        return [header.index(n) for n in feature_names]
    if feature_names is None and len(header) == n_features + 1:  # a model file from before names
        typer.echo(f"note: the model records no column names; ignoring the last column {header[-1]!r}", err=True)
        return list(range(n_features))
    if len(header) != n_features:
        fail(f"{path} has {len(header)} columns; the model expects exactly {n_features} features "
             "(it records no column names to select them by)")
    return list(range(n_features))


@app.command("predict")
def predict(
    model: Path = typer.Argument(..., help="A model file (model.npz).", metavar="MODEL"),
    input: Path = typer.Argument(..., help="Inputs: a CSV with a header row, or an NPZ with array X.", metavar="INPUT"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Write the CSV here instead of stdout.", metavar="PATH"),
    proba: bool = typer.Option(False, "--proba", help="Add one probability column per class."),
):
    """Predict labels (classifier) or outputs (regression) for new inputs."""
    from ..atomic import atomic_write_text

    net = load_model(model)  # (a run directory names its model.npz)
    X = read_inputs(input, net.sizes[0], net.feature_names)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    if net.classes_ is not None:
        labels = net.predict(X)
        P = net.predict_proba(X) if proba else None
        writer.writerow(["label"] + ([csv_text(f"p_{c}") for c in net.classes_] if proba else []))
        for i, lab in enumerate(labels):
            writer.writerow([csv_text(lab)] + ([f"{p:.6g}" for p in P[i]] if proba else []))
    else:
        A = net.predict(X)
        writer.writerow([f"output_{j}" for j in range(A.shape[1])])
        for row in A:
            writer.writerow([f"{v:.6g}" for v in row])
    if output is None:
        typer.echo(buf.getvalue(), nl=False)
    else:
        atomic_write_text(output, buf.getvalue())
        typer.echo(f"wrote {plain(output)} ({len(X)} rows)")
