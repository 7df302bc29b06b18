"""Pieces shared by the subcommands: parsing, loading models and data, versions, JSON output."""

from __future__ import annotations

import json
import platform
import re
import shlex
import sys
from pathlib import Path

import numpy as np
from rich.console import Console

from .app import fail

#: Human output goes to stdout; errors are printed by ``app.main`` on stderr.
#: The commands' output. Piped (not a terminal: a file, ``| cat``, a notebook's ``!deltaprop``,
#: which ipykernel runs with FORCE_COLOR=1 and a pipe): plain text — no colour, no cursor codes,
#: no line broken inside a word or path.
console = Console(highlight=False, soft_wrap=True, force_terminal=None if sys.stdout.isatty() else False)


#: Characters that a terminal acts on or that reorder text: C0/C1 controls (ANSI and OSC escape
#: sequences start with ESC), DEL, line and paragraph separators, bidirectional overrides.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def plain(value, keep_newlines: bool = False) -> str:
    """``value`` as text that a terminal shows as it is: every control character (an ANSI or
    OSC escape's ESC, a bell, a carriage return, a bidi override) written as its escape
    (``\\x1b``). Labels, column names and file contents go through this before printing."""
    text = str(value)
    if keep_newlines:
        return "\n".join(plain(line) for line in text.split("\n"))
    return _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode("ascii"), text)


def cell(value) -> str:
    """``plain(value)`` with rich markup escaped, for table cells and markup strings."""
    from rich.markup import escape

    return escape(plain(value))


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


def model_file(path) -> Path:
    """The model file that ``path`` names: the file itself, or a run directory's model.npz
    (what ``deltaprop train --out`` wrote; ``report`` takes either too)."""
    path = Path(path)
    if path.is_dir() and (path / "model.npz").is_file():
        return path / "model.npz"
    return path


def load_model(path):
    """A Network from a model or checkpoint file, or a run directory's model.npz (a bad file
    raises ModelFileError, which ``app.main`` prints as a one-line error)."""
    from ..modelfile import load

    return load(model_file(path))


def model_header(path) -> dict:
    """The JSON header of a model or checkpoint file."""
    from ..modelfile import read_header

    return read_header(path)


def split_arrays(ds, split: str):
    """(X, y) of one split of a Dataset: "train", "validation" or "test"."""
    if str(split).lower() not in ds.SPLITS:
        fail(f"--split must be train, validation or test, got {split!r}")
    return ds.split(split)


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
    """Indented JSON; NumPy values as in model files, paths as strings."""
    from ..modelfile import json_default

    def default(o):
        return str(o) if isinstance(o, Path) else json_default(o)

    return json.dumps(data, indent=2, default=default) + "\n"
