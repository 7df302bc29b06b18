"""``deltaprop gradcheck``: backpropagation against central differences, per layer."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.table import Table

from .app import app, fail
from .common import console, parse_layers


@app.command("gradcheck")
def gradcheck(
    model: Optional[Path] = typer.Argument(None, help="A model file; or build a network with --layers."),
    layers: Optional[str] = typer.Option(None, help="Sizes of a fresh network, input and output included, e.g. 4,5,3."),
    activation: str = typer.Option("sigmoid", help="Hidden activation of the fresh network."),
    output: Optional[str] = typer.Option(None, help="Output activation of the fresh network."),
    cost: str = typer.Option("quadratic", help="Cost of the fresh network: quadratic, half_quadratic, binary_cross_entropy, cross_entropy."),
    samples: int = typer.Option(8, help="Random examples to check on."),
    l2: float = typer.Option(0.0, help="L2 regularisation λ."),
    max_checks: int = typer.Option(50, help="Entries checked per array (sampled beyond this)."),
    seed: int = typer.Option(0, help="Seed for the network, the data and the sampled entries."),
    tolerance: float = typer.Option(1e-6, help="Largest relative error that passes."),
):
    """Compare backpropagation's gradients with central finite differences (float64)."""
    from .. import gradcheck as run_gradcheck
    from ..network import Network
    from .common import load_model

    if (model is None) == (layers is None):
        fail("give a MODEL file or --layers (e.g. --layers 4,5,3), not both")
    if model is not None:
        net = load_model(model)
    else:
        sizes = parse_layers(layers)
        if len(sizes) < 2:
            fail("--layers needs at least an input and an output size, e.g. 4,5,3")
        net = Network(sizes, activation=activation, output=output, cost=cost, seed=seed)
        rng_b = np.random.default_rng(seed + 1)
        net.biases = [rng_b.normal(scale=0.5, size=b.shape) for b in net.biases]
    if samples < 1:
        fail("--samples must be at least 1")
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(samples, net.sizes[0]))
    n_out = net.sizes[-1]
    if net.cost_name in ("cross_entropy",) or net.activations[-1].name == "softmax":
        Y = np.eye(n_out)[rng.integers(0, n_out, samples)]
    elif net.cost_name == "binary_cross_entropy" or net.activations[-1].name == "sigmoid":
        Y = rng.integers(0, 2, (samples, n_out)).astype(float)
    else:
        Y = rng.normal(size=(samples, n_out))
    result = run_gradcheck(net, X, Y, l2=l2, max_checks=max_checks, seed=seed)
    table = Table(title=f"gradient check of {'-'.join(map(str, net.sizes))} ({net.cost_name}), "
                        f"{samples} random examples, ε = {result.eps:g}")
    for col in ("array", "checked", "relative error", ""):
        table.add_column(col, justify="right" if col != "array" else "left")
    for c in result.arrays:
        ok = c.relative_error < tolerance
        table.add_row(c.name, f"{c.checked}/{c.total}", f"{c.relative_error:.2e}",
                      "[green]ok[/green]" if ok else "[red]FAIL[/red]")
    console.print(table)
    console.print(f"max relative error {result.max_relative_error:.2e}")
    if not result.passed(tolerance):
        raise typer.Exit(1)
