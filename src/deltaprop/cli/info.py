"""``deltaprop info``: architecture, parameter count and training summary of a model file."""

from __future__ import annotations

from pathlib import Path

import typer

from .app import app
from .common import cell, console, load_model, model_file, model_header, plain, to_json


@app.command("info")
def info(
    model: Path = typer.Argument(..., help="A model or checkpoint file.", metavar="MODEL"),
    as_json: bool = typer.Option(False, "--json", help="Print JSON."),
):
    """Architecture, parameter count and training summary of a model."""
    model = model_file(model)
    net = load_model(model)
    header = model_header(model)
    training = header.get("training", {})
    metrics = header.get("metrics", {})
    history = net.history
    summary = {
        "file": str(model),
        "kind": header.get("kind", "model"),
        "sizes": net.sizes,
        "activations": [g.name for g in net.activations],
        "cost": net.cost_name,
        "dtype": net.dtype.name,
        "parameters": net.n_params,
        "classes": None if net.classes_ is None else net.classes_.tolist(),
        "preprocessing": None if net.preprocessing is None else net.preprocessing.kind,
        "feature_names": net.feature_names,
        "epochs_trained": len(history),
        "command": training.get("command"),
        "metrics": metrics,
    }
    if as_json:
        typer.echo(to_json(summary), nl=False)
        return
    console.print(f"[bold]{cell(model)}[/bold] ({cell(summary['kind'])})")
    console.print(f"  network     {'-'.join(map(str, net.sizes))}  ({', '.join(summary['activations'])})")
    console.print(f"  cost        {net.cost_name}   dtype {net.dtype.name}   {net.n_params} parameters")
    for l, (W, b) in enumerate(zip(net.weights, net.biases), start=1):
        console.print(f"  layer {l}     W^{l} {W.shape}  b^{l} {b.shape}  {net.activations[l - 1].name}")
    if summary["classes"] is not None:
        console.print(f"  classes     {plain(summary['classes'])}", markup=False)
    console.print(f"  inputs      preprocessing: {summary['preprocessing'] or 'none'}")
    if net.feature_names is not None:
        names = net.feature_names
        shown = ", ".join(names[:6]) + (f", … ({len(names)} in all)" if len(names) > 6 else "")
        console.print(f"  columns     {plain(shown)}", markup=False)
    options = training.get("options") or {}
    if options:
        settings = [f"{plain(options.get('dataset'))}"] if options.get("dataset") else []
        if options.get("optimizer"):
            rate = options.get("learning_rate")
            settings.append(f"{plain(options['optimizer'])} " + ("(full batch)" if rate is None else f"α={rate}"))
        settings += [f"{label} {options[key]}" for key, label in
                     (("batch_size", "batch"), ("l2", "λ"), ("epochs", "epochs"), ("seed", "seed")) if key in options]
        console.print(f"  training    {', '.join(map(str, settings))}", markup=False)
    if history:
        best = training.get("best_epoch") if training.get("stop_reason") == "early_stopping" else None
        shown = history[best - 1] if isinstance(best, int) and 1 <= best <= len(history) else history[-1]
        line = f"  trained     {len(history)} epochs"
        if best is not None:
            line += f", stopped early; the weights are those of epoch {best}:"
        line += "" if shown.get("cost") is None else f"{'' if best else ';'} {'' if best else 'last '}cost {shown['cost']:.4f}"
        if "val_accuracy" in shown:
            line += f", validation accuracy {shown['val_accuracy']:.2%}"
        console.print(line, markup=False)
    for split, m in metrics.items():
        acc = f", accuracy {m['accuracy']:.2%}" if m.get("accuracy") is not None else ""
        console.print(f"  {plain(split):<11} cost {m['cost']:.4f}{acc}", markup=False)
    if summary["command"]:
        console.print(f"  command     {plain(summary['command'])}", markup=False)
