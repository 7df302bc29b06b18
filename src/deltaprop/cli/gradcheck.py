"""``deltaprop gradcheck``: backpropagation against central differences, per layer."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import numpy as np
import typer
from rich.table import Table

from .app import app, fail
from .common import console, parse_layers


#: The input and output sizes of a fresh network given by its hidden sizes (--layers).
GRADCHECK_INPUTS, GRADCHECK_OUTPUTS = 4, 3


@app.command("gradcheck")
def gradcheck(
    model: Optional[Path] = typer.Argument(None, help="A model file; or build a fresh network with --layers or --sizes.", metavar="MODEL"),
    layers: Optional[str] = typer.Option(None, help=f"Hidden layer sizes of a fresh network, as in deltaprop train, e.g. 5 or 5,4 (with {GRADCHECK_INPUTS} inputs and {GRADCHECK_OUTPUTS} outputs; see --sizes).", metavar="TEXT"),
    sizes: Optional[str] = typer.Option(None, help="Every layer size of a fresh network, input and output included, e.g. 4,5,3.", metavar="TEXT"),
    activation: str = typer.Option("sigmoid", help="Hidden activation of the fresh network.", metavar="TEXT"),
    output: Optional[str] = typer.Option(None, help="Output activation of the fresh network.", metavar="TEXT"),
    cost: str = typer.Option("quadratic", help="Cost of the fresh network: quadratic, half_quadratic, binary_cross_entropy, cross_entropy.", metavar="TEXT"),
    samples: int = typer.Option(8, help="Random examples to check on.", metavar="INTEGER"),
    l2: float = typer.Option(0.0, help="L2 regularisation λ.", metavar="FLOAT"),
    max_checks: int = typer.Option(50, help="Entries checked per array (sampled beyond this).", metavar="INTEGER"),
    seed: int = typer.Option(0, help="Seed for the network, the data and the sampled entries.", metavar="INTEGER"),
    tolerance: float = typer.Option(1e-6, help="Largest relative error that passes.", metavar="FLOAT"),
):
    """Compare backpropagation's gradients with central finite differences (float64)."""
    from .. import gradcheck as run_gradcheck
    from ..network import Network
    from .common import load_model

    given = [name for name, value in (("MODEL", model), ("--layers", layers), ("--sizes", sizes)) if value is not None]
    if not given:
        fail("nothing to check: give a MODEL file, or --layers 5 (hidden sizes) or --sizes 4,5,3 for a fresh network")
    if len(given) > 1:
        fail(f"give one of MODEL, --layers and --sizes, not {' and '.join(given)}")
    if model is not None:
        net = load_model(model)
    else:
        if sizes is not None:
            all_sizes = parse_layers(sizes)
            if len(all_sizes) < 2:
                fail("--sizes needs at least an input and an output size, e.g. 4,5,3")
        else:  # hidden sizes, as --layers means in deltaprop train
            all_sizes = [GRADCHECK_INPUTS] + parse_layers(layers) + [GRADCHECK_OUTPUTS]
        net = Network(all_sizes, activation=activation, output=output, cost=cost, seed=seed)
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
    console.print(f"gradient check of {'-'.join(map(str, net.sizes))} ({net.cost_name}), "
                  f"{samples} random examples, ε = {result.eps:g}", markup=False)  # (a title would wrap)
    table = Table()
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
