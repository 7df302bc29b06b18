"""Model files and training checkpoints: one ``.npz`` of plain arrays plus a JSON header, no pickle.

Layout of a file (``np.savez``, readable with ``np.load(path, allow_pickle=False)``):

* ``W1`` .. ``WL``, ``b1`` .. ``bL``   the weights W^l (n_l, n_{l−1}) and biases b^l (n_l,), in
  the network's dtype, written and read back bit for bit;
* ``preprocessing/<name>``            the arrays of the input preprocessing (e.g. ``mean``);
* ``optimizer/<name>``                checkpoints only: the optimizer's arrays (moments, ...);
* ``header.json``                     a 0-d NumPy unicode array holding the JSON header::

      {"format": "deltaprop-model", "format_version": 1, "kind": "model" | "checkpoint",
       "deltaprop_version": "...", "saved_at": "2025-01-01T00:00:00+00:00",
       "network": Network.config(), "classes": [...] | null, "classes_dtype": "<U5" | null,
       "preprocessing": {...} | null, "history": [{...}, ...],
       "checkpoint": {...}          (checkpoints only: epoch, RNG state, settings)
       ...extra_meta}

Writes are atomic: the archive goes to a temporary file in the target's directory, is flushed
and fsynced, then renamed over ``path`` with ``os.replace``; on any error the temporary file is
removed and an existing file at ``path`` is left as it was. Every problem reading a file raises
``ModelFileError`` (a ValueError) with a one-line message naming the file.
"""

from __future__ import annotations

import datetime
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .atomic import atomic_write
from .network import Network
from .preprocessing import Preprocessing

__all__ = [
    "ModelFileError",
    "Checkpoint",
    "save",
    "load",
    "save_checkpoint",
    "load_checkpoint",
    "read_header",
    "FORMAT",
    "FORMAT_VERSION",
]

FORMAT = "deltaprop-model"
FORMAT_VERSION = 1
HEADER_KEY = "header.json"
_PREPROCESSING = "preprocessing/"
_OPTIMIZER = "optimizer/"
_STATE = "state/"
_RESERVED = {
    "format", "format_version", "kind", "deltaprop_version", "saved_at", "network",
    "classes", "classes_dtype", "preprocessing", "feature_names", "history", "checkpoint",
}


class ModelFileError(ValueError):
    """A model file or checkpoint could not be written or read; the message names the file."""


@dataclass
class Checkpoint:
    """What ``load_checkpoint`` returns: the network, the optimizer's arrays by name, and the
    JSON metadata given to ``save_checkpoint`` (epoch, RNG state, settings, ...)."""

    net: Network
    optimizer_state: dict = field(default_factory=dict)
    meta: dict = field(default_factory=dict)
    #: Other named arrays of the training state (e.g. the best weights for early stopping).
    arrays: dict = field(default_factory=dict)


# --------------------------------------------------------------------------- writing


def save(net: Network, path, extra_meta: dict | None = None) -> Path:
    """Write ``net`` (parameters, classes_, preprocessing, history) to ``path`` atomically.

    ``path`` is used exactly as given (no ``.npz`` is appended). ``extra_meta`` adds JSON-able
    keys to the header (they may not replace the reserved ones). Returns the path.
    """
    header, arrays = _net_payload(net)
    header["kind"] = "model"
    _merge_extra(header, extra_meta)
    return _write(path, header, arrays)


def save_checkpoint(path, net: Network, optimizer_state: dict, meta: dict, extra_arrays: dict | None = None) -> Path:
    """Write a training checkpoint atomically: the model, plus the optimizer's arrays (stored
    under ``optimizer/<name>``), other training-state arrays (``extra_arrays``, stored under
    ``state/<name>``) and ``meta`` (JSON-able: epoch, ``rng.bit_generator.state``, settings,
    ...; stored in the header under "checkpoint"). Returns the path."""
    header, arrays = _net_payload(net)
    header["kind"] = "checkpoint"
    for prefix, what, group in ((_OPTIMIZER, "optimizer_state", optimizer_state),
                                (_STATE, "extra_arrays", extra_arrays or {})):
        if not isinstance(group, dict):
            raise ModelFileError(f"{what} must be a dict of name -> array, got {type(group).__name__}")
        for name, value in group.items():
            if not isinstance(name, str) or not name:
                raise ModelFileError(f"{what} keys must be non-empty strings, got {name!r}")
            arrays[prefix + name] = _plain_array(value, f"{what}[{name!r}]")
    if not isinstance(meta, dict):
        raise ModelFileError(f"checkpoint meta must be a dict, got {type(meta).__name__}")
    header["checkpoint"] = meta
    return _write(path, header, arrays)


def _net_payload(net: Network) -> tuple[dict, dict]:
    """(header, arrays) describing ``net``."""
    if not isinstance(net, Network):
        raise ModelFileError(f"expected a deltaprop Network to save, got {type(net).__name__}")
    from . import __version__  # here, not at import time: the package imports this module

    arrays = {}
    for l, (W, b) in enumerate(zip(net.weights, net.biases), start=1):
        for name, arr in ((f"W{l}", W), (f"b{l}", b)):
            if not np.isfinite(arr).all():
                raise ModelFileError(
                    f"refusing to save: {name} contains NaN or infinity (training diverged?)"
                )
            arrays[name] = np.ascontiguousarray(arr)
    classes, classes_dtype = _classes_to_json(net.classes_)
    prep_meta = None
    if net.preprocessing is not None:
        if not isinstance(net.preprocessing, Preprocessing):
            raise ModelFileError(
                "net.preprocessing must be a deltaprop.preprocessing.Preprocessing or None, "
                f"got {type(net.preprocessing).__name__}"
            )
        prep_meta, prep_arrays = net.preprocessing.to_state()
        for name, arr in prep_arrays.items():
            arrays[_PREPROCESSING + name] = _plain_array(arr, f"preprocessing {name!r}")
    header = {
        "format": FORMAT,
        "format_version": FORMAT_VERSION,
        "deltaprop_version": __version__,
        "saved_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "network": net.config(),
        "classes": classes,
        "classes_dtype": classes_dtype,
        "preprocessing": prep_meta,
        "feature_names": _feature_names_to_json(net),
        "history": list(net.history or []),
    }
    return header, arrays


def _feature_names_to_json(net):
    names = getattr(net, "feature_names", None)
    if names is None:
        return None
    names = [str(n) for n in names]
    if len(names) != net.sizes[0]:
        raise ModelFileError(
            f"net.feature_names has {len(names)} names but the input layer has {net.sizes[0]} neurons"
        )
    return names


def _feature_names_from(header: dict, path: Path, n_inputs: int):
    names = header.get("feature_names")
    if names is None:
        return None
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names) or len(names) != n_inputs:
        raise ModelFileError(
            f"{path}: 'feature_names' in the header must be a list of {n_inputs} strings (one per input)"
        )
    return names


def _merge_extra(header: dict, extra_meta):
    if extra_meta is None:
        return
    if not isinstance(extra_meta, dict):
        raise ModelFileError(f"extra_meta must be a dict, got {type(extra_meta).__name__}")
    clash = sorted(set(extra_meta) & _RESERVED)
    if clash:
        raise ModelFileError(f"extra_meta may not set the reserved header keys {clash}")
    header.update(extra_meta)


def _classes_to_json(classes):
    """(list of Python values, dtype string) for ints, floats, bools or strings; (None, None)."""
    if classes is None:
        return None, None
    arr = np.asarray(classes)
    if arr.dtype == object:
        arr = np.asarray(arr.tolist())
    if arr.ndim != 1 or arr.dtype.kind not in "biufU":
        raise ModelFileError(
            f"classes_ must be a 1-D array of ints, floats or strings, got {arr.dtype} {arr.shape}"
        )
    return arr.tolist(), arr.dtype.str


def _plain_array(value, what: str) -> np.ndarray:
    arr = np.asarray(value)
    if arr.dtype.hasobject:
        raise ModelFileError(f"{what} holds Python objects; only numeric or string arrays can be saved")
    return arr


def json_default(obj):
    """JSON for NumPy scalars and arrays that turn up in histories and metadata."""
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON serializable")


def _write(path, header: dict, arrays: dict) -> Path:
    """Atomically write ``arrays`` plus the JSON ``header`` as an .npz at ``path``."""
    path = Path(os.fspath(path))
    try:
        text = json.dumps(header, default=json_default)
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"cannot save {path}: the metadata is not JSON-able ({exc})") from None
    if path.is_dir():
        raise ModelFileError(f"cannot save to {path}: it is a directory; give a file name such as model.npz")
    directory = path.parent
    if not directory.is_dir():
        raise ModelFileError(f"cannot save {path}: directory {directory} does not exist")
    arrays = dict(arrays)
    arrays[HEADER_KEY] = np.array(text)
    try:
        with atomic_write(path, "wb") as f:
            np.savez(f, **arrays)
    except OSError as exc:  # disk full, permissions, ...: the old file is untouched
        raise ModelFileError(f"cannot save {path}: {exc.strerror or exc}") from None
    return path


# --------------------------------------------------------------------------- reading


def read_header(path) -> dict:
    """The JSON header of a model file or checkpoint (for ``deltaprop info``).

    Checks that the file is a deltaprop model file; a newer ``format_version`` is returned as
    is (``load`` refuses it)."""
    path = Path(os.fspath(path))
    with _open(path) as npz:
        return _header(npz, path)


def load(path) -> Network:
    """The Network saved at ``path`` by ``save`` (or ``save_checkpoint``), with its
    ``classes_`` (np.ndarray or None), ``preprocessing`` (Preprocessing or None) and
    ``history`` (list of dicts). Raises ModelFileError for anything that is not a valid file."""
    path = Path(os.fspath(path))
    with _open(path) as npz:
        header = _header(npz, path)
        _check_version(header, path)
        return _build_net(npz, header, path)


def load_checkpoint(path) -> Checkpoint:
    """The Checkpoint saved at ``path`` by ``save_checkpoint``: the net, the optimizer's arrays
    (bit-identical, by the names they were saved with) and the meta dict."""
    path = Path(os.fspath(path))
    with _open(path) as npz:
        header = _header(npz, path)
        _check_version(header, path)
        if header.get("kind") != "checkpoint":
            raise ModelFileError(
                f"{path}: is a {header.get('kind', 'model')!r} file, not a checkpoint; use load()"
            )
        net = _build_net(npz, header, path)
        optimizer_state, extra = (
            {key[len(prefix):]: _array(npz, key, path) for key in npz.files if key.startswith(prefix)}
            for prefix in (_OPTIMIZER, _STATE)
        )
        meta = header.get("checkpoint")
        if not isinstance(meta, dict):
            raise ModelFileError(f"{path}: the checkpoint's 'checkpoint' header entry must be an object")
        return Checkpoint(net=net, optimizer_state=optimizer_state, meta=meta, arrays=extra)


class _open:
    """``with _open(path) as npz``: np.load with allow_pickle=False, every failure a ModelFileError.

    The file is opened here, not by np.load, so that it is closed even when NumPy rejects it."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None
        self.npz = None

    def __enter__(self):
        path = self.path
        if not path.exists():
            raise ModelFileError(f"{path}: no such file")
        if path.is_dir():
            raise ModelFileError(f"{path}: is a directory, expected a .npz model file")
        try:
            self.file = open(path, "rb")
            npz = np.load(self.file, allow_pickle=False)
        except Exception as exc:  # zipfile, pickle refusal, EOF, OS errors: all "not our file"
            self.__exit__()
            raise ModelFileError(f"{path}: not a readable .npz model file ({_reason(exc)})") from None
        if not isinstance(npz, np.lib.npyio.NpzFile):
            self.__exit__()
            raise ModelFileError(f"{path}: is a single .npy array, not a deltaprop model file (.npz)")
        self.npz = npz
        return npz

    def __exit__(self, *exc_info):
        if self.npz is not None:
            self.npz.close()
        if self.file is not None:
            self.file.close()
        return False


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _array(npz, key: str, path: Path) -> np.ndarray:
    """One array of the archive; a damaged member becomes a ModelFileError."""
    try:
        return npz[key]
    except KeyError:
        raise ModelFileError(f"{path}: missing array {key!r}") from None
    except Exception as exc:
        raise ModelFileError(f"{path}: cannot read array {key!r} ({_reason(exc)}); the file is damaged") from None


def _header(npz, path: Path) -> dict:
    if HEADER_KEY not in npz.files:
        found = ", ".join(sorted(npz.files)[:8]) or "nothing"
        raise ModelFileError(
            f"{path}: not a deltaprop model file (no {HEADER_KEY!r} entry; it holds {found})"
        )
    raw = _array(npz, HEADER_KEY, path)
    if raw.dtype.kind == "U" and raw.ndim == 0:
        text = str(raw[()])
    elif raw.dtype == np.uint8 and raw.ndim == 1:
        text = raw.tobytes().decode("utf-8", errors="replace")
    else:
        raise ModelFileError(f"{path}: {HEADER_KEY!r} must be a text array, got {raw.dtype} {raw.shape}")
    try:
        header = json.loads(text)
    except ValueError as exc:
        raise ModelFileError(f"{path}: the header is not valid JSON ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(f"{path}: not a deltaprop model file (format {got!r}, expected {FORMAT!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}, expected a positive integer")
    return header


def _check_version(header: dict, path: Path) -> None:
    version = header["format_version"]
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: format version {version} is not supported (this deltaprop reads version "
            f"{FORMAT_VERSION}); it was written by a newer deltaprop, upgrade to load it"
        )


def _build_net(npz, header: dict, path: Path) -> Network:
    config = header.get("network")
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: the header has no 'network' description")
    try:
        net = Network.from_config(config)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(f"{path}: invalid network description in the header ({_reason(exc)})") from None

    sizes = net.sizes
    for kind, symbol in (("weights", "W"), ("biases", "b")):
        arrays = []
        for l in range(1, len(sizes)):
            key = f"{symbol}{l}"
            arr = _array(npz, key, path)
            shape = (sizes[l], sizes[l - 1]) if symbol == "W" else (sizes[l],)
            if arr.shape != shape:
                raise ModelFileError(
                    f"{path}: array {key!r} has shape {arr.shape} but layer sizes {sizes} need {shape}"
                )
            if arr.dtype != net.dtype:
                raise ModelFileError(
                    f"{path}: array {key!r} has dtype {arr.dtype} but the header says {net.dtype.name}"
                )
            arrays.append(arr)
        try:
            setattr(net, kind, arrays)
        except ValueError as exc:
            raise ModelFileError(f"{path}: invalid {kind}: {exc}") from None

    net.classes_ = _classes_from_json(header, path)
    net.preprocessing = _preprocessing_from(npz, header, path, sizes[0])
    net.feature_names = _feature_names_from(header, path, sizes[0])
    history = header.get("history", [])
    if not isinstance(history, list) or not all(isinstance(h, dict) for h in history):
        raise ModelFileError(f"{path}: 'history' in the header must be a list of objects")
    net.history = history
    return net


def _classes_from_json(header: dict, path: Path):
    classes = header.get("classes")
    if classes is None:
        return None
    dtype = header.get("classes_dtype")
    try:
        if not isinstance(classes, list):
            raise TypeError("not a list")
        arr = np.array(classes, dtype=np.dtype(dtype) if dtype else None)
        if arr.ndim != 1 or arr.dtype.kind not in "biufU":
            raise TypeError(f"{arr.dtype} {arr.shape}")
    except (TypeError, ValueError) as exc:
        raise ModelFileError(f"{path}: invalid 'classes' in the header ({exc})") from None
    return arr


def _preprocessing_from(npz, header: dict, path: Path, n_inputs: int):
    meta = header.get("preprocessing")
    if meta is None:
        return None
    arrays = {
        key[len(_PREPROCESSING):]: _array(npz, key, path)
        for key in npz.files
        if key.startswith(_PREPROCESSING)
    }
    try:
        prep = Preprocessing.from_state(meta, arrays)
    except ValueError as exc:
        raise ModelFileError(f"{path}: invalid preprocessing ({exc})") from None
    if prep.n_features is not None and prep.n_features != n_inputs:
        raise ModelFileError(
            f"{path}: the preprocessing expects {prep.n_features} features but the network's "
            f"input layer has {n_inputs}"
        )
    return prep
