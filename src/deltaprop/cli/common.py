"""Pieces shared by the subcommands: parsing, loading models and data, versions, JSON output."""

from __future__ import annotations

import json
import platform
import shlex
import sys
from pathlib import Path

import numpy as np
from rich.console import Console

from .app import fail

#: Human output goes to stdout; errors are printed by ``app.main`` on stderr.
console = Console(highlight=False)


def parse_layers(text: str) -> list[int]:
    """"16,16" -> [16, 16]; "" or "none" -> [] (no hidden layer)."""
    text = (text or "").strip()
    if text.lower() in ("", "none", "0"):
        return []
    try:
        sizes = [int(part) for part in text.split(",")]
    except ValueError:
        fail(f"--layers must be comma-separated neuron counts such as 16,16; got {text!r}")
    if any(s < 1 for s in sizes):
        fail(f"--layers needs positive neuron counts, got {text!r}")
    return sizes


def parse_index(text: str, option: str, expected: str) -> tuple[int, ...]:
    """"2:1,0" -> (2, 1, 0) for --weight, "2:1" -> (2, 1) for --bias."""
    try:
        layer, _, rest = text.partition(":")
        values = [int(layer)] + [int(v) for v in rest.split(",") if v.strip() != ""]
    except ValueError:
        fail(f"{option} must look like {expected}, got {text!r}")
    return tuple(values)


def load_model(path):
    """A Network from a model or checkpoint file, with a one-line error for a bad file."""
    from ..modelfile import load

    return load(path)


def model_header(path) -> dict:
    from ..modelfile import read_header

    return read_header(path)


def load_data(name, *, data_dir=None, label=None, test_fraction=0.2, seed=0, limit=None):
    from ..datasets import load_dataset

    return load_dataset(
        name, data_dir=data_dir, label=label, test_fraction=test_fraction, seed=seed, limit=limit
    )


def split_arrays(ds, split: str):
    """(X, y) of one split of a Dataset: "train", "validation" or "test"."""
    key = {"train": "train", "validation": "val", "val": "val", "test": "test"}.get(split)
    if key is None:
        fail(f"--split must be train, validation or test, got {split!r}")
    return getattr(ds, f"X_{key}"), getattr(ds, f"y_{key}")


def labels_of(ds, y):
    """Original class labels for a classification split (y holds indices into ds.classes)."""
    if ds.task == "classification":
        return np.asarray(ds.classes)[np.asarray(y, dtype=np.int64)]
    return y


def versions() -> dict:
    import numpy
    import sklearn

    from .. import __version__

    return {
        "deltaprop": __version__,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scikit-learn": sklearn.__version__,
        "platform": platform.platform(),
    }


def command_line() -> str:
    return shlex.join(["deltaprop"] + sys.argv[1:])


def to_json(data) -> str:
    def default(o):
        if isinstance(o, np.generic):
            return o.item()
        if isinstance(o, np.ndarray):
            return o.tolist()
        if isinstance(o, Path):
            return str(o)
        raise TypeError(f"not JSON serialisable: {type(o).__name__}")

    return json.dumps(data, indent=2, default=default) + "\n"
