"""Model files and training checkpoints: one ``.npz`` of plain arrays plus a JSON header, no pickle.

Layout of a file (``np.savez``, readable with ``np.load(path, allow_pickle=False)``):

* ``W1`` .. ``WL``, ``b1`` .. ``bL``   the weights W^l (n_l, n_{l−1}) and biases b^l (n_l,), in
  the network's dtype, written and read back bit for bit;
* ``preprocessing/<name>``            the arrays of the input preprocessing (e.g. ``mean``);
* ``optimizer/<name>``                checkpoints only: the optimizer's arrays (moments, ...);
* ``state/<name>``                    checkpoints only: other training state (best weights, ...);
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

Reading trusts nothing in the file: it must be a regular file holding only the entries above,
whose sizes (from the zip directory and each .npy header) agree with each other, with the
file's size (no zip bombs) and with the header, before any array is unpacked or the network
allocated; the header (at most 64 MiB, nested at most 64 deep) is checked against one schema
(``_HEADER``: the fields the tools read), the classes against the output layer and a checkpoint's
meta against what resuming needs. So a file of a few MB never costs more than a small multiple
of its size in memory, whatever it declares. ``save`` refuses to write what reading refuses.
"""

from __future__ import annotations

import datetime
import json
import math
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .atomic import atomic_write
from .history import History
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
    "classes", "classes_dtype", "preprocessing", "feature_names", "history", "history_end", "checkpoint",
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


def save(net: Network, path: str | os.PathLike[str], extra_meta: dict[str, Any] | None = None) -> Path:
    """Write ``net`` (parameters, classes_, preprocessing, history) to ``path`` atomically.

    Parameters
    ----------
    net : Network
    path : str or os.PathLike
        Used exactly as given (no ``.npz`` is appended).
    extra_meta : dict, optional
        JSON-able keys added to the header (they may not replace the reserved ones).

    Returns
    -------
    pathlib.Path
        The path written.

    Raises
    ------
    ModelFileError
        When the network or ``extra_meta`` cannot be stored in the schema.
    """
    header, arrays = _net_payload(net)
    header["kind"] = "model"
    _merge_extra(header, extra_meta)
    return _write(path, header, arrays)


def save_checkpoint(path: str | os.PathLike[str], net: Network, optimizer_state: dict[str, np.ndarray],
                    meta: dict[str, Any], extra_arrays: dict[str, np.ndarray] | None = None) -> Path:
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
    problem = None if classes is None else _class_problem(classes, net.sizes[-1])
    if problem:
        raise ModelFileError(f"cannot save: net.classes_ {problem}; such a file would not load")
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
        "history_end": _history_end(net.history),
    }
    return header, arrays


def _history_end(history) -> dict | None:
    """Why the history ended, kept beside its records: ``stop_reason`` and ``best_epoch``."""
    if not history:
        return None
    return {"stop_reason": getattr(history, "stop_reason", "completed"), "best_epoch": getattr(history, "best_epoch", None)}


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
    except (TypeError, ValueError, RecursionError) as exc:
        raise ModelFileError(f"cannot save {path}: the metadata is not JSON-able ({exc})") from None
    _check_written_header(json.loads(text), len(text), path)
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


def _check_written_header(header: dict, n_chars: int, path: Path) -> None:
    """Refuse to write a header that reading would refuse (so every saved file loads)."""
    if 4 * n_chars > _MAX_HEADER_BYTES:
        raise ModelFileError(
            f"cannot save {path}: the header would take {4 * n_chars:,} bytes, more than a model "
            f"file may hold ({_MAX_HEADER_BYTES:,}); is the history or extra_meta that long?"
        )
    if _depth(header) > _MAX_HEADER_DEPTH:
        raise ModelFileError(f"cannot save {path}: the metadata nests more than {_MAX_HEADER_DEPTH} deep")
    _validate(header, _HEADER, f"cannot save {path}")


# --------------------------------------------------------------------------- reading
#
# A file is checked before anything in it is unpacked: a regular file; every entry a .npy that
# the format names; the arrays' sizes (from the zip directory and each .npy header) consistent
# with each other, with the file's size and with the header; the header against the schema
# below. So a small file never costs much memory or time, whatever it declares.

#: The header.json entry may take at most this much (UTF-32 text: 4 bytes a character).
_MAX_HEADER_BYTES = 64 * 2**20
#: The entries may unpack to at most this many times the file's size (plus ``_UNPACK_SLACK``):
#: ``save`` stores them uncompressed, so anything more is a zip bomb.
_MAX_UNPACK_RATIO = 2
_UNPACK_SLACK = 2**20
#: Deepest nesting of lists and objects in a header (deltaprop writes 5 or so).
_MAX_HEADER_DEPTH = 64
#: A string classes_dtype may pad the labels (e.g. '<U10' for 'cat', 'dog') up to this size.
_MAX_PADDED_CLASSES_BYTES = 2**20
_BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def read_header(path: str | os.PathLike[str]) -> dict[str, Any]:
    """The JSON header of a model file or checkpoint (for ``deltaprop info``).

    Checks that the file is a deltaprop model file and its header fits the schema; a newer
    ``format_version`` is returned as is (``load`` refuses it)."""
    path = Path(os.fspath(path))
    with _open(path) as npz:
        return _header(npz, path)


def load(path: str | os.PathLike[str]) -> Network:
    """The Network saved at ``path`` by ``save`` (or ``save_checkpoint``).

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Network
        With its ``classes_`` (np.ndarray or None), ``preprocessing`` (Preprocessing or None)
        and ``history`` (list of dicts).

    Raises
    ------
    ModelFileError
        For anything that is not a valid deltaprop model file (or a newer format version).
    """
    path = Path(os.fspath(path))
    with _open(path) as npz:
        header = _header(npz, path)
        _check_version(header, path)
        return _build_net(npz, header, path)


def load_checkpoint(path: str | os.PathLike[str]) -> Checkpoint:
    """The Checkpoint saved at ``path`` by ``save_checkpoint``: the net, the optimizer's arrays
    (bit-identical, by the names they were saved with) and the meta dict, which has at least
    the ``epoch`` and ``rng_state`` that resuming needs."""
    path = Path(os.fspath(path))
    with _open(path) as npz:
        header = _header(npz, path)
        _check_version(header, path)
        if header.get("kind") != "checkpoint":
            raise ModelFileError(
                f"{path}: is a {header.get('kind', 'model')!r} file, not a checkpoint; use load()"
            )
        _validate(header, _CHECKPOINT_HEADER, path, required=True)
        _check_rng_state(header["checkpoint"]["rng_state"], path)
        net = _build_net(npz, header, path)
        optimizer_state, extra = (
            {key[len(prefix):]: _array(npz, key, path) for key in npz.files if key.startswith(prefix)}
            for prefix in (_OPTIMIZER, _STATE)
        )
        return Checkpoint(net=net, optimizer_state=optimizer_state, meta=header["checkpoint"], arrays=extra)


class _open:
    """``with _open(path) as npz``: np.load with allow_pickle=False, every failure a ModelFileError.

    The file is opened here, not by np.load, so that it is closed even when NumPy rejects it;
    it must be a regular file (a FIFO would block, a device never end) and its zip directory
    must list only .npy entries, each once, that unpack to no more than _MAX_UNPACK_RATIO times
    the file's size."""

    def __init__(self, path: Path):
        self.path = path
        self.file = None
        self.npz = None

    def __enter__(self):
        path = self.path
        try:  # non-blocking, so that opening a FIFO returns at once; fstat then refuses it
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
        except FileNotFoundError:
            raise ModelFileError(f"{path}: no such file") from None
        except OSError as exc:
            if path.is_dir():  # Windows opens no directory: PermissionError
                raise ModelFileError(f"{path}: is a directory, expected a .npz model file") from None
            raise ModelFileError(f"{path}: not a readable .npz model file ({_reason(exc)})") from None
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            if stat.S_ISDIR(mode):
                raise ModelFileError(f"{path}: is a directory, expected a .npz model file")
            raise ModelFileError(
                f"{path}: is a {_file_type(mode)}, not a regular file; expected a .npz model file"
            )
        self.file = os.fdopen(fd, "rb")
        try:  # a .npy is recognised by its magic, not loaded (it could be any size)
            head = self.file.read(len(np.lib.format.MAGIC_PREFIX))
            npy = head == np.lib.format.MAGIC_PREFIX
            self.file.seek(0)
            if not npy and not head.startswith(b"PK"):  # not a zip archive: NumPy would call it a pickle
                kind = "empty" if not head else f"it starts with {head[:6]!r}"
                raise ModelFileError(f"{path}: not a .npz model file ({kind}; a model file is a zip archive "
                                     f"written by deltaprop train or deltaprop.save)")
            npz = None if npy else np.load(self.file, allow_pickle=False)
        except ModelFileError:
            self.__exit__()
            raise
        except Exception as exc:  # zipfile, pickle refusal, EOF, OS errors: all "not our file"
            self.__exit__()
            raise ModelFileError(f"{path}: not a readable .npz model file ({_reason(exc)})") from None
        if not isinstance(npz, np.lib.npyio.NpzFile):
            self.__exit__()
            raise ModelFileError(f"{path}: is a single .npy array, not a deltaprop model file (.npz)")
        self.npz = npz
        try:
            _check_directory(npz, path, os.fstat(fd).st_size)
        except ModelFileError:
            self.__exit__()
            raise
        return npz

    def __exit__(self, *exc_info):
        if self.npz is not None:
            self.npz.close()
        if self.file is not None:
            self.file.close()
        return False


def _file_type(mode: int) -> str:
    for test, name in ((stat.S_ISFIFO, "FIFO (named pipe)"), (stat.S_ISCHR, "character device"),
                       (stat.S_ISBLK, "block device"), (stat.S_ISSOCK, "socket")):
        if test(mode):
            return name
    return "special file"


def _check_directory(npz, path: Path, file_size: int) -> None:
    """Every entry a .npy, listed once, all of them unpacking to a size the file can hold."""
    infos = npz.zip.infolist()
    names = [info.filename for info in infos]
    odd = next((n for n in names if not n.endswith(".npy")), None)
    if odd is not None:
        raise ModelFileError(f"{path}: unexpected entry {odd!r} in the archive; a model file holds only .npy arrays")
    seen = set()
    twice = next((n for n in names if n in seen or seen.add(n)), None)
    if twice is not None:
        raise ModelFileError(f"{path}: the archive lists the entry {twice!r} more than once; the file is damaged")
    unpacked = sum(info.file_size for info in infos)
    if unpacked > _MAX_UNPACK_RATIO * file_size + _UNPACK_SLACK:
        raise ModelFileError(
            f"{path}: its entries unpack to {unpacked:,} bytes, more than {_MAX_UNPACK_RATIO} times the "
            f"file's {file_size:,}; refusing a possible zip bomb (deltaprop stores arrays uncompressed)"
        )


def _check_entries(npz, header: dict, path: Path, n_layers: int) -> None:
    """Every entry one that the format defines for a file of this kind and depth."""
    checkpoint = header.get("kind") == "checkpoint"
    layers = {f"{symbol}{l}" for symbol in "Wb" for l in range(1, n_layers + 1)}
    prefixes = (_PREPROCESSING, _OPTIMIZER, _STATE) if checkpoint else (_PREPROCESSING,)
    for key in npz.files:
        if key == HEADER_KEY or key in layers:
            continue
        if any(key.startswith(p) and len(key) > len(p) for p in prefixes):
            continue
        expected = f"W1..W{n_layers}, b1..b{n_layers}, {_PREPROCESSING}<name>" + (
            f", {_OPTIMIZER}<name>, {_STATE}<name>" if checkpoint else ""
        )
        raise ModelFileError(
            f"{path}: unexpected entry {key!r} in the archive; a {'checkpoint' if checkpoint else 'model'} "
            f"file of this network holds {HEADER_KEY}, {expected}"
        )


def _reason(exc: Exception) -> str:
    text = str(exc).splitlines()[0] if str(exc) else ""
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _stored(npz, key: str, path: Path) -> tuple[tuple, np.dtype]:
    """(shape, dtype) of array ``key`` from its .npy header, which must account for exactly the
    bytes the zip directory gives the entry. Only the header is unpacked."""
    try:
        info = npz.zip.getinfo(key + ".npy")
    except KeyError:
        raise ModelFileError(f"{path}: missing array {key!r}") from None
    try:
        with npz.zip.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in ((1, 0), (2, 0)):
                raise ValueError(f".npy format version {version[0]}.{version[1]} is not one np.savez writes")
            read = np.lib.format.read_array_header_1_0 if version == (1, 0) else np.lib.format.read_array_header_2_0
            shape, _, dtype = read(f)
            offset = f.tell()
    except Exception as exc:  # bad magic or header, zlib or zip errors
        raise ModelFileError(f"{path}: cannot read array {key!r} ({_reason(exc)}); the file is damaged") from None
    if dtype.hasobject:
        raise ModelFileError(f"{path}: cannot read array {key!r}: it holds Python objects, which are never unpickled")
    size = math.prod(shape) * dtype.itemsize
    if offset + size != info.file_size:
        raise ModelFileError(
            f"{path}: cannot read array {key!r}: its header declares {dtype} {shape} ({size:,} bytes) "
            f"but the entry holds {info.file_size - offset:,}; the file is damaged"
        )
    return shape, dtype


def _array(npz, key: str, path: Path) -> np.ndarray:
    """One array of the archive, its size checked first; a damaged member becomes a ModelFileError."""
    _stored(npz, key, path)
    return _read(npz, key, path)


def _read(npz, key: str, path: Path) -> np.ndarray:
    """Array ``key``, already checked by ``_stored``."""
    try:
        return npz[key]
    except Exception as exc:
        raise ModelFileError(f"{path}: cannot read array {key!r} ({_reason(exc)}); the file is damaged") from None


def _header(npz, path: Path) -> dict:
    if HEADER_KEY not in npz.files:
        found = ", ".join(sorted(npz.files)[:8]) or "nothing"
        raise ModelFileError(
            f"{path}: not a deltaprop model file (no {HEADER_KEY!r} entry; it holds {found})"
        )
    size = npz.zip.getinfo(HEADER_KEY + ".npy").file_size
    if size > _MAX_HEADER_BYTES:
        raise ModelFileError(
            f"{path}: the {HEADER_KEY!r} entry takes {size:,} bytes, more than a model header may "
            f"({_MAX_HEADER_BYTES:,})"
        )
    raw = _array(npz, HEADER_KEY, path)
    if raw.dtype.kind == "U" and raw.ndim == 0:
        text = str(raw[()])
    elif raw.dtype == np.uint8 and raw.ndim == 1:
        text = raw.tobytes().decode("utf-8", errors="replace")
    else:
        raise ModelFileError(f"{path}: {HEADER_KEY!r} must be a text array, got {raw.dtype} {raw.shape}")
    del raw
    try:
        header = json.loads(text)
    except RecursionError:
        header = None  # nested deeper than Python recurses: refused just below
    except ValueError as exc:
        raise ModelFileError(f"{path}: the header is not valid JSON ({exc})") from None
    if header is None or _depth(header) > _MAX_HEADER_DEPTH:
        raise ModelFileError(
            f"{path}: the header nests lists and objects more than {_MAX_HEADER_DEPTH} deep; "
            "not a header deltaprop writes"
        )
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        got = header.get("format") if isinstance(header, dict) else type(header).__name__
        raise ModelFileError(f"{path}: not a deltaprop model file (format {got!r}, expected {FORMAT!r})")
    version = header.get("format_version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise ModelFileError(f"{path}: invalid format_version {version!r}, expected a positive integer")
    _validate(header, _HEADER, path)
    return header


def _depth(value) -> int:
    """How deep lists and objects nest in ``value`` (0 for a number or string), counted level
    by level, without recursion; stops counting past _MAX_HEADER_DEPTH."""
    depth, level = 0, [value]
    while depth <= _MAX_HEADER_DEPTH:
        level = [c for c in level if isinstance(c, (dict, list))]
        if not level:
            break
        depth += 1
        level = [v for c in level for v in (c.values() if isinstance(c, dict) else c)]
    return depth


def _check_version(header: dict, path: Path) -> None:
    version = header["format_version"]
    if version != FORMAT_VERSION:
        raise ModelFileError(
            f"{path}: format version {version} is not supported (this deltaprop reads version "
            f"{FORMAT_VERSION}); it was written by a newer deltaprop, upgrade to load it"
        )


# --------------------------------------------------------------------------- the header schema
#
# One declarative description of the header: each check takes (value, where) and raises
# _Invalid. Fields that are not listed (extra_meta) may hold anything JSON can; fields listed
# are checked when present. "network", "classes" and "preprocessing" are checked further
# against the arrays when the network is built.


class _Invalid(Exception):
    """A header value that does not fit the schema; the message says where and what was expected."""


def _got(value) -> str:
    if isinstance(value, dict):
        return "an object"
    if isinstance(value, list):
        return "a list"
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _is(expected: str, test):
    def check(value, where):
        if not test(value):
            raise _Invalid(f"{where!r} in the header must be {expected}, got {_got(value)}")
    return check


def _or_null(check):
    def or_null(value, where):
        if value is not None:
            check(value, where)
    return or_null


def _list_of(item):
    def list_of(value, where):
        if not isinstance(value, list):
            raise _Invalid(f"{where!r} in the header must be a list, got {_got(value)}")
        for i, v in enumerate(value):
            item(v, f"{where}[{i}]")
    return list_of


def _object(fields=None, required=(), values=None):
    """An object with the ``required`` keys, whose ``fields`` (name -> check) pass where present
    and every other value passes ``values`` (when given)."""
    fields = fields or {}

    def obj(value, where):
        if not isinstance(value, dict):
            raise _Invalid(f"{where!r} in the header must be an object, got {_got(value)}")
        for key in required:
            if key not in value:
                raise _Invalid(f"{where!r} in the header has no {key!r}")
        for key, v in value.items():
            check = fields.get(key, values)
            if check is not None:
                check(v, f"{where}.{key}")
    return obj


def _validate(header: dict, schema: dict, where, required: bool = False) -> None:
    """Check the header's fields against ``schema`` (field -> check): those present, or with
    ``required`` every field of the schema. A misfit is a ModelFileError starting ``where``."""
    try:
        for key, check in schema.items():
            if required or key in header:
                check(header.get(key), key)
    except _Invalid as exc:
        raise ModelFileError(f"{where}: {exc}") from None


_STR = _is("a string", lambda v: isinstance(v, str))
_INT = _is("an integer", lambda v: isinstance(v, int) and not isinstance(v, bool))
_COUNT = _is("a non-negative integer", lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0)
_NUMBER = _is("a number", lambda v: isinstance(v, (int, float)) and not isinstance(v, bool))
_ACTIVATION = _is("an activation name or an object with a 'name'",
                  lambda v: isinstance(v, str) or (isinstance(v, dict) and isinstance(v.get("name"), str)))

#: What the tools read of each top-level field (``deltaprop info``, ``predict``, resume).
_HEADER = {
    "kind": _is("'model' or 'checkpoint'", lambda v: v in ("model", "checkpoint")),
    "deltaprop_version": _STR,
    "saved_at": _STR,
    "network": _or_null(_object(
        {"sizes": _list_of(_INT), "activations": _list_of(_ACTIVATION), "cost": _STR, "dtype": _STR, "init": _STR},
        required=("sizes", "activations", "cost"),
    )),
    "classes_dtype": _or_null(_STR),
    "preprocessing": _or_null(_object()),
    "feature_names": _or_null(_list_of(_STR)),
    "history_end": _or_null(_object({"stop_reason": _STR, "best_epoch": _or_null(_COUNT)}, required=("stop_reason",))),
    "history": _list_of(_object({  # one record per epoch; callbacks may add their own keys
        "epoch": _INT,
        **{key: _NUMBER for key in ("cost", "accuracy", "val_cost", "val_accuracy", "val_score", "time",
                                      "learning_rate")},
        "grad_norms": _object(values=_list_of(_or_null(_NUMBER))),
    })),
    "checkpoint": _object({
        "epoch": _COUNT,
        "rng_state": _object({"bit_generator": _STR, "state": _object()}, required=("bit_generator", "state")),
        "early_stopping": _or_null(_object({"cost": _NUMBER, "since": _COUNT, "epoch": _or_null(_COUNT)})),
        "settings": _object({"optimizer": _or_null(_STR)}),
    }),
    # written by ``deltaprop train`` (extra_meta), read by info, evaluate, explain and the report
    "training": _object({"command": _or_null(_STR), "seed": _or_null(_INT), "options": _object(),
                         "dataset": _or_null(_object())}),
    "metrics": _object(values=_object({"cost": _NUMBER, "accuracy": _or_null(_NUMBER), "n": _COUNT},
                                      required=("cost",))),
}
#: What resuming (``training.Trainer.resume``) needs of a checkpoint on top of ``_HEADER``.
_CHECKPOINT_HEADER = {"checkpoint": _object(required=("epoch", "rng_state"))}


def _check_rng_state(state: dict, path: Path) -> None:
    """The saved Generator state must be one NumPy can restore."""
    name = state["bit_generator"]
    try:
        if name not in _BIT_GENERATORS:
            raise ValueError(f"unknown bit generator {name!r}")
        getattr(np.random, name)().state = state
    except (TypeError, ValueError, KeyError, IndexError, OverflowError) as exc:
        raise ModelFileError(
            f"{path}: the checkpoint's rng_state is not a NumPy bit-generator state ({_reason(exc)})"
        ) from None


# --------------------------------------------------------------------------- building the network


def _build_net(npz, header: dict, path: Path) -> Network:
    """The network of the header with the stored arrays: their shapes and dtypes are checked
    against the header from the .npy headers first, so the Network allocates no more than the
    file holds."""
    config = header.get("network")
    if not isinstance(config, dict):
        raise ModelFileError(f"{path}: the header has no 'network' description")
    sizes = config["sizes"]
    if len(sizes) < 2:
        raise ModelFileError(
            f"{path}: invalid network description in the header (sizes {sizes} needs at least an "
            "input and an output layer)"
        )
    _check_entries(npz, header, path, len(sizes) - 1)
    dtype = config.get("dtype", "float64")
    for l in range(1, len(sizes)):
        for key, shape in ((f"W{l}", (sizes[l], sizes[l - 1])), (f"b{l}", (sizes[l],))):
            stored_shape, stored_dtype = _stored(npz, key, path)
            if stored_shape != shape:
                raise ModelFileError(
                    f"{path}: array {key!r} has shape {stored_shape} but layer sizes {sizes} need {shape}"
                )
            if dtype in ("float32", "float64") and stored_dtype != np.dtype(dtype):
                raise ModelFileError(
                    f"{path}: array {key!r} has dtype {stored_dtype} but the header says {dtype}"
                )
    try:
        net = Network.from_config(config)
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        raise ModelFileError(f"{path}: invalid network description in the header ({_reason(exc)})") from None

    for kind, symbol, params in (("weights", "W", net.weights), ("biases", "b", net.biases)):
        for l in range(1, len(sizes)):  # one array in memory at a time, copied into the network
            arr = _read(npz, f"{symbol}{l}", path)  # checked above
            try:
                params[l - 1] = arr
            except ValueError as exc:
                raise ModelFileError(f"{path}: invalid {kind}: {exc}") from None

    net.classes_ = _classes_from_json(header, path, sizes[-1])
    net.preprocessing = _preprocessing_from(npz, header, path, sizes[0])
    net.feature_names = _feature_names_from(header, path, sizes[0])
    end = header.get("history_end") or {}
    net.history = History(header.get("history", []), end.get("stop_reason", "completed"), end.get("best_epoch"))
    return net


def _classes_from_json(header: dict, path: Path, n_outputs: int):
    """classes_ as saved: one label per class the output layer tells apart (2 for one output,
    else one per output), all distinct and of one type, in the saved dtype."""
    classes = header.get("classes")
    if classes is None:
        return None
    declared = header.get("classes_dtype")
    try:
        if not isinstance(classes, list):
            raise TypeError("not a list")
        types = {type(c) for c in classes}
        if len(types) > 1 or not types <= {str, int, float, bool}:
            raise TypeError("the labels must all be strings, all integers, all numbers or all booleans")
        arr = np.array(classes)
        if arr.ndim != 1 or arr.dtype.kind not in "biufU":
            raise TypeError(f"{arr.dtype} {arr.shape}")
        if declared is not None:
            dtype = np.dtype(declared)
            if dtype.kind not in "biufU" or dtype.shape != ():
                raise TypeError(f"classes_dtype {declared!r} is not a dtype of labels")
            padded = dtype.kind == "U" and dtype.itemsize > arr.dtype.itemsize
            if padded and len(arr) * dtype.itemsize > max(arr.nbytes, _MAX_PADDED_CLASSES_BYTES):
                raise ValueError(
                    f"classes_dtype {declared!r} pads {len(arr)} labels of at most "
                    f"{arr.dtype.itemsize // 4} character(s) to {dtype.itemsize:,} bytes each"
                )
            arr = arr.astype(dtype)
        if arr.tolist() != classes:  # truncated, overflowed, or NUL-padded: not the saved labels
            raise ValueError(f"{'the dtype' if declared is None else f'classes_dtype {declared!r}'} does not hold the labels")
    except (TypeError, ValueError, OverflowError) as exc:
        raise ModelFileError(f"{path}: invalid 'classes' in the header ({exc})") from None
    problem = _class_problem(classes, n_outputs)
    if problem:
        raise ModelFileError(f"{path}: the header's 'classes' {problem}")
    return arr


def _class_problem(classes: list, n_outputs: int) -> str | None:
    """What is wrong with ``classes`` (distinct labels) for an output layer of ``n_outputs``
    neurons, which tells 2 classes apart when it is one neuron and ``n_outputs`` otherwise."""
    expected = 2 if n_outputs == 1 else n_outputs
    if len(classes) != expected:
        return (f"list {len(classes)} labels but the output layer has {n_outputs} neuron(s), "
                f"which tell {expected} classes apart")
    seen = set()
    twice = next((c for c in classes if c in seen or seen.add(c)), None)
    return None if twice is None else f"list {twice!r} more than once"


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
