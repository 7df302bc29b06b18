"""The data set a model file records, and what of it deltaprop will open.

A model file is data that anyone can hand you, so what it records about its training data
(``training.options`` in the header: the data set, seed, fractions, label column, ...) is
used with one limit: a recorded data *file* (``csv:PATH``, ``npz:PATH``, a bare ``.csv`` or
``.npz`` path, both files of ``npy:X.npy,y.npy``, the file of ``hdf5:FILE[:X,y]``, the directory
of ``zarr:DIR[:X,y]``) is opened only when it lies beside the model — in the model's directory or
below it, symlinks resolved — or when the user names the data set themselves (``--dataset``).
A crafted model can therefore not make ``evaluate``, ``explain`` or ``report`` read (and the
report embed) a file elsewhere on the machine. Named data sets (digits, mnist, the toy sets)
need no such check.

``recorded_dataset`` is the one place that reads these entries; ``evaluate``, ``explain`` and the
report use it.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["recorded_dataset", "UntrustedDataPath", "data_file_of", "data_files_of"]


class UntrustedDataPath(ValueError):
    """A model file names a data file that is not beside it."""


def data_file_of(spec: str) -> str | None:
    """The file a data-set name refers to (``csv:PATH`` → PATH, ``x.npz`` → x.npz), else None."""
    spec = str(spec).strip()
    prefix, sep, rest = spec.partition(":")
    if sep and prefix.lower() in ("csv", "npz"):
        return rest
    if spec.lower().endswith((".csv", ".npz")):
        return spec
    return None


def data_files_of(spec: str) -> list[str]:
    """Every file or directory a data-set name reads: ``data_file_of``'s one, both files of
    ``npy:X.npy,y.npy``, the file of ``hdf5:FILE[:X,y]``, the directory of ``zarr:DIR[:X,y]``
    (parsed as ``datasets.load_dataset`` parses them); [] for a named data set."""
    path = data_file_of(spec)
    if path is not None:
        return [path]
    prefix, sep, rest = str(spec).strip().partition(":")
    if sep and prefix.lower() in ("npy", "hdf5", "zarr"):
        from .datasets import streamed_paths

        return streamed_paths(prefix.lower(), rest)[0]
    return []


def _beside(path: str, model_path: Path) -> bool:
    """Whether the file the loader will open for ``path`` (``~`` expanded, relative to the
    current directory, symlinks resolved) lies in the model's directory or below it."""
    base = Path(os.path.realpath(model_path)).parent
    target = Path(os.path.realpath(os.path.expanduser(path)))
    return target == base or base in target.parents


def recorded_dataset(header: dict, model_path: str | os.PathLike[str], given: str | None = None
                     ) -> tuple[str | None, dict]:
    """(data set name, recorded options) for the model at ``model_path`` with JSON ``header``.

    ``given`` (the user's ``--dataset``) wins and is trusted. Otherwise the recorded name is
    used, and a recorded data file that is not beside the model raises ``UntrustedDataPath``
    (one line, saying how to confirm it). The name is None when nothing is recorded."""
    training = header.get("training")
    training = training if isinstance(training, dict) else {}
    options = training.get("options")
    options = dict(options) if isinstance(options, dict) else {}
    if given:
        return given, options
    recorded = options.get("dataset")
    if not isinstance(recorded, str) or not recorded.strip():
        legacy = training.get("dataset")
        recorded = legacy if isinstance(legacy, str) and legacy.strip() else None
    if recorded is None:
        return None, options
    if any(not _beside(path, Path(model_path)) for path in data_files_of(recorded)):
        raise UntrustedDataPath(
            f"{model_path} records its data set as {recorded!r}, a file that is not beside the model; "
            f"a model file cannot make deltaprop open files elsewhere: pass --dataset {recorded} to use it"
        )
    return recorded, options
