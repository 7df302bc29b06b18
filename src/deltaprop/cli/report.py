"""``deltaprop report``: the training report of a run as one self-contained HTML page.

    deltaprop report RUN_DIR [-o report.html]

RUN_DIR is what ``deltaprop train --out`` wrote (model.npz, metrics.json); the page is
written to RUN_DIR/report.html unless ``-o`` says otherwise. See ``deltaprop.report``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from ..report.builder import MAX_DERIVED_PARAMETERS, N_EXAMPLES
from .app import app, fail


@app.command("report")
def report_command(
    run_dir: Path = typer.Argument(..., help="A run directory written by deltaprop train (or its model.npz).", metavar="RUN_DIR"),
    output: Optional[Path] = typer.Option(None, "--output", "-o", help="Where to write the page (default: RUN_DIR/report.html).", metavar="PATH"),
    dataset: Optional[str] = typer.Option(None, help="The data set to explain [default: the one the model records, if it is a named set or a file beside the model].", metavar="TEXT"),
    data_dir: Optional[Path] = typer.Option(None, help="Where the MNIST/Fashion-MNIST IDX files are (default: the run's).", metavar="PATH"),
    examples: str = typer.Option(str(N_EXAMPLES), help="Training examples whose derivations the page stores: a count (3) or row indices of the training split (12,57,301).", metavar="COUNT|ROWS"),
    max_parameters: int = typer.Option(MAX_DERIVED_PARAMETERS, help="At most this many parameters of the diagram get stored derivations.", metavar="INTEGER"),
):
    """Write the interactive training report: curves, the network, gradient norms, predictions,
    and the chain-rule derivation behind any weight you click."""
    import warnings

    from ..report import write_report
    from .common import console, plain

    if not run_dir.exists():
        fail(f"no run directory or model file at {run_dir}; train one with deltaprop train --out {run_dir}")
    examples = _parse_examples(examples)
    if max_parameters < 0:
        fail(f"--max-parameters must be 0 or more, got {max_parameters}")
    if output is not None and output.is_dir():
        output = output / "report.html"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        path = write_report(run_dir, output, dataset, data_dir=None if data_dir is None else str(data_dir),
                            examples=examples, max_parameters=max_parameters)
    for w in caught:
        typer.echo(f"note: {plain(w.message)}", err=True)
    console.print(f"wrote {path} ({path.stat().st_size / 1e6:.1f} MB; open it in a browser, no network needed)",
                  markup=False)


def _parse_examples(text: str):
    """--examples: a count ("3", one number alone) or row indices ("12,57,301"; one row: "12,")."""
    parts = [p.strip() for p in text.split(",")]
    if "," in text and len(parts) > 1 and parts[-1] == "":
        parts.pop()
    if not all(p.isdigit() for p in parts):
        fail(f"--examples must be a count (3) or comma-separated row indices (12,57,301), got {text!r}")
    if "," not in text:
        if int(parts[0]) < 1:
            fail(f"--examples must be at least 1, got {text}")
        return int(parts[0])
    return [int(p) for p in parts]
