"""Every data set deltaprop trains on, behind one function: ``load_dataset(name)``.

Names
-----
* ``digits``         scikit-learn's bundled 8×8 handwritten digits (1,797 images, no download)
* ``mnist``          MNIST, 28×28 handwritten digits (60,000 train + 10,000 test, IDX files)
* ``fashion-mnist``  Fashion-MNIST, 28×28 clothing images (same layout as MNIST)
* ``csv:PATH``       a CSV file with a header row; one column is the label
* ``npz:PATH``       a NumPy ``.npz`` with ``X`` and ``y`` (or ``X_train``/``y_train``/``X_test``/``y_test``)
  (a bare path ending in ``.csv`` or ``.npz`` works too)
* ``npy:X.npy,y.npy``  two ``.npy`` files: X opened as a memory map, y (the targets) loaded
* ``hdf5:FILE``     an HDF5 file with datasets ``X`` and ``y`` (h5py); ``hdf5:FILE:FEATS,TARGETS``
  names them (group paths allowed, e.g. ``hdf5:data.h5:train/X,train/y``)
* ``zarr:DIR``      a Zarr group with arrays ``X`` and ``y``; ``zarr:DIR:FEATS,TARGETS`` names them
* ``moons``, ``circles``, ``xor``, ``spiral``   seeded 2-D toy sets for decision-boundary plots

``npy:``, ``hdf5:`` and ``zarr:`` sets are streamed: X is never loaded whole. Their splits are
drawn by index (the same rows as for the same data in memory, from the same seed), each split
a ``StreamedRows`` view that ``fit(..., shuffle="blocks")``, ``Network.evaluate`` and
``predict`` read block by block; ``pixel_max`` is set only for uint8 X (the values are not read),
so other data is standardized by default (statistics in one streaming pass).

Every other loader returns a :class:`Dataset` with float64 features of shape (m, n_features), one row
per example. For classification ``y`` holds integer indices 0..K−1 into ``Dataset.classes`` (the
original labels); for regression ``y`` holds the float targets, shape (m,) or (m, k).

Splits: MNIST-style sets keep their own test set and carve the validation set out of the
training file. Every other set is split into train / validation / test, where ``test_fraction``
and ``validation_fraction`` are fractions of the whole set. Splits are seeded and, for
classification, stratified (falling back to a plain seeded shuffle only when some class is too
small to stratify).

MNIST and Fashion-MNIST files are looked up in ``data_dir`` (when given; a folder holding some
of the four files must hold all of them), then in the cache directory, and otherwise downloaded
into the cache (``~/.cache/deltaprop/<name>``; the root can be moved with ``$DELTAPROP_CACHE``).
Every download is capped at the file's known size and an overall deadline, and checked against
the SHA-256 below before it is moved into place.

Crafted or damaged files cost little: only regular files are read (never a FIFO, a device or a
link to ``/dev/zero``), and a compressed file (gzipped IDX, a member of an ``.npz``) is refused
before decompression when its declared size is more than ``MAX_EXPANSION`` times what it holds
on disk, or when its header and its data disagree.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import http.client
import io
import math
import os
import stat
import struct
import tempfile
import time
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .targets import TASKS, TargetError, check_task, infer_task, parse_labels
from .targets import decode as decode_labels
from .targets import encode as encode_labels

if TYPE_CHECKING:
    from .sources import Source

__all__ = [
    "Dataset",
    "DatasetError",
    "DownloadError",
    "ChecksumError",
    "IDXError",
    "load_dataset",
    "StreamedRows",
    "STREAMED",
    "streamed_paths",
    "pixel_range",
    "read_csv_rows",
    "read_npz",
    "parse_features",
    "load_idx",
    "available_datasets",
    "default_cache_dir",
    "IDX_FILES",
    "MNIST_SHA256",
    "FASHION_MNIST_SHA256",
    "MNIST_SIZES",
    "FASHION_MNIST_SIZES",
    "MAX_EXPANSION",
    "MNIST_URL",
    "FASHION_MNIST_URL",
    "FASHION_MNIST_CLASS_NAMES",
]


class DatasetError(ValueError):
    """A data set could not be loaded; the message says what was wrong and what is expected."""


class DownloadError(DatasetError):
    """A file could not be downloaded (offline, HTTP error); the message says where to put it."""


class ChecksumError(DatasetError):
    """A downloaded file's SHA-256 does not match the known one (the file has been deleted)."""


class IDXError(DatasetError):
    """A file is not a valid IDX file (bad magic number, truncated, trailing bytes)."""


# --------------------------------------------------------------------------- constants

#: The four IDX files of MNIST and Fashion-MNIST, by role.
IDX_FILES = {
    "train_images": "train-images-idx3-ubyte",
    "train_labels": "train-labels-idx1-ubyte",
    "test_images": "t10k-images-idx3-ubyte",
    "test_labels": "t10k-labels-idx1-ubyte",
}

#: SHA-256 of the gzipped MNIST files (as listed by tensorflow_datasets' url_checksums).
MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    "train-labels-idx1-ubyte.gz": "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    "t10k-images-idx3-ubyte.gz": "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    "t10k-labels-idx1-ubyte.gz": "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
}

#: Sizes in bytes of the gzipped MNIST files; a download is cut off past its file's size.
MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 9_912_422,
    "train-labels-idx1-ubyte.gz": 28_881,
    "t10k-images-idx3-ubyte.gz": 1_648_877,
    "t10k-labels-idx1-ubyte.gz": 4_542,
}

#: SHA-256 of the gzipped Fashion-MNIST files (tensorflow_datasets' url_checksums).
FASHION_MNIST_SHA256 = {
    "train-images-idx3-ubyte.gz": "3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84",
    "train-labels-idx1-ubyte.gz": "a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845",
    "t10k-images-idx3-ubyte.gz": "346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073",
    "t10k-labels-idx1-ubyte.gz": "67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5",
}

#: Sizes in bytes of the gzipped Fashion-MNIST files.
FASHION_MNIST_SIZES = {
    "train-images-idx3-ubyte.gz": 26_421_880,
    "train-labels-idx1-ubyte.gz": 29_515,
    "t10k-images-idx3-ubyte.gz": 4_422_102,
    "t10k-labels-idx1-ubyte.gz": 5_148,
}

#: Default download locations (override with the environment variables or ``mirror=``).
MNIST_URL = "https://storage.googleapis.com/cvdf-datasets/mnist/"
FASHION_MNIST_URL = "https://raw.githubusercontent.com/zalandoresearch/fashion-mnist/master/data/fashion/"

#: What the Fashion-MNIST labels 0..9 stand for.
FASHION_MNIST_CLASS_NAMES = [
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
]

_IDX_SETS = {  # (IDX_DATASETS below: their names)
    "mnist": {
        "sha256": MNIST_SHA256,
        "sizes": MNIST_SIZES,
        "url": MNIST_URL,
        "url_env": "DELTAPROP_MNIST_URL",
        "title": "MNIST",
        "description": "MNIST handwritten digits, 28x28 grey pixels 0-255, 10 classes",
        "class_names": None,
    },
    "fashion-mnist": {
        "sha256": FASHION_MNIST_SHA256,
        "sizes": FASHION_MNIST_SIZES,
        "url": FASHION_MNIST_URL,
        "url_env": "DELTAPROP_FASHION_MNIST_URL",
        "title": "Fashion-MNIST",
        "description": "Fashion-MNIST clothing images, 28x28 grey pixels 0-255, 10 classes",
        "class_names": FASHION_MNIST_CLASS_NAMES,
    },
}

#: The data sets read from IDX files (``--data-dir`` applies to these only).
IDX_DATASETS = tuple(_IDX_SETS)
_TOY_SETS = ("moons", "circles", "xor", "spiral")

#: Integer pixel data in [0, 255] with at least this many features (or an image shape) is
#: recognised as images, whatever its dtype; uint8 data always is.
MIN_PIXEL_FEATURES = 64

#: A compressed data file may declare at most this many bytes per byte it holds on disk (plus
#: ``EXPANSION_ALLOWANCE``), checked before decompressing. Deflate itself tops out near 1032:1;
#: the MNIST files expand 4.8:1 (images) and 2.2:1 (labels), Fashion-MNIST's 1.8:1.
MAX_EXPANSION = 200
#: Bytes any compressed file may expand to whatever its ratio (tiny, very regular arrays).
EXPANSION_ALLOWANCE = 1 << 20

#: IDX headers with more dimensions are refused (NumPy 1.x arrays have at most 32).
MAX_IDX_DIMS = 32

_DOWNLOAD_TIMEOUT_S = 30  # per connection attempt and socket read
_DOWNLOAD_DEADLINE_S = 600  # for all of a set's missing files together (~50 kB/s for Fashion-MNIST)
_MAX_DOWNLOAD_BYTES = 1 << 30  # cap for files of unknown size (checksums= replaced the built-in one)


def available_datasets() -> dict[str, str]:
    """The names ``load_dataset`` accepts, each with a one-line description."""
    return {
        "digits": "scikit-learn's 8x8 handwritten digits (bundled, no download)",
        "mnist": "MNIST 28x28 handwritten digits (IDX files; downloaded and verified)",
        "fashion-mnist": "Fashion-MNIST 28x28 clothing images (IDX files; downloaded and verified)",
        "csv:PATH": "a CSV file with a header row; choose the label column with label=",
        "npz:PATH": "a .npz with arrays X and y, or X_train, y_train, X_test, y_test",
        "npy:X.npy,y.npy": "two .npy files, X read from disk in blocks (a memory map), y loaded",
        "hdf5:FILE[:X,y]": "an HDF5 file's datasets X and y (or the two named), X read in blocks (h5py)",
        "zarr:DIR[:X,y]": "a Zarr group's arrays X and y (or the two named), X read in blocks",
        "moons": "two interleaving half circles (2-D toy set)",
        "circles": "a circle inside a circle (2-D toy set)",
        "xor": "points in [-1, 1]^2 labelled by the sign of x1*x2 (2-D toy set)",
        "spiral": "three interleaved spiral arms (2-D toy set)",
    }


# --------------------------------------------------------------------------- the Dataset


@dataclass(repr=False)
class Dataset:
    """A data set split into train, validation and test.

    * ``X_*``: float64 arrays of shape (m, n_features), one example per row.
    * ``task``: "classification", "multilabel" or "regression" (``deltaprop.targets``'s rule),
      and ``task_reason``: why (given, or what the inference saw).
    * ``y_*``: for classification int64 indices 0..K−1 into ``classes``, shape (m,);
      for multi-label 0/1 rows (m, k); for regression float64 targets, shape (m,) or (m, k).
    * ``classes``: the original labels (ints, floats or strings) for classification, else None.
    * ``feature_names``: one name per column, or None.
    * ``image_shape``: e.g. (8, 8) or (28, 28) when each row is a flattened image, else None.
    * ``class_names``: human-readable names for the classes (Fashion-MNIST), else None.
    * ``pixel_max``: the largest possible pixel value when X is pixel data (16 for digits, 255
      for uint8 or [0, 255] integer images, whatever their shape), else None.
    """

    name: str
    X_train: np.ndarray
    y_train: np.ndarray
    X_val: np.ndarray
    y_val: np.ndarray
    X_test: np.ndarray
    y_test: np.ndarray
    task: str
    classes: np.ndarray | None = None
    feature_names: list | None = None
    image_shape: tuple | None = None
    description: str = ""
    class_names: list | None = None
    pixel_max: float | None = None
    task_reason: str = ""

    def __post_init__(self):
        if self.task not in TASKS:
            raise DatasetError(f"Dataset task must be one of {', '.join(TASKS)}, got {self.task!r}")
        n = self.X_train.shape[1] if self.X_train.ndim == 2 else None
        for split in ("train", "val", "test"):
            X, y = getattr(self, f"X_{split}"), getattr(self, f"y_{split}")
            if X.ndim != 2 or X.shape[1] != n:
                raise DatasetError(
                    f"Dataset X_{split} must have shape (m, {n}), got {X.shape}"
                )
            if len(y) != len(X):
                raise DatasetError(
                    f"Dataset X_{split} has {len(X)} rows but y_{split} has {len(y)}"
                )
        if self.task == "classification" and self.classes is None:
            raise DatasetError("a classification Dataset needs classes (the original labels)")

    @property
    def n_features(self) -> int:
        """Number of input features n_0 (columns of X)."""
        return int(self.X_train.shape[1])

    @property
    def n_classes(self) -> int | None:
        """K, the number of classes; None for regression."""
        return None if self.classes is None else int(len(self.classes))

    @property
    def n_outputs(self) -> int:
        """Output neurons a network needs: K for classification, target columns otherwise."""
        if self.task == "classification":
            return self.n_classes
        return 1 if self.y_train.ndim == 1 else int(self.y_train.shape[1])

    @property
    def streamed(self) -> bool:
        """Whether the splits are read from disk block by block (``npy:``, ``hdf5:``, ``zarr:``)."""
        return isinstance(self.X_train, StreamedRows)

    def head(self, max_rows: int) -> Dataset:
        """This data set with at most the first ``max_rows`` rows of each split, in memory
        (float64): a streamed set's few rows for what needs arrays (the report); a data set in
        memory whose splits are all that small is returned as it is."""
        if not self.streamed and all(len(getattr(self, f"X_{s}")) <= max_rows for s in ("train", "val", "test")):
            return self
        parts = []
        for s in ("train", "val", "test"):
            X, y = getattr(self, f"X_{s}"), getattr(self, f"y_{s}")
            parts += [np.asarray(X[:max_rows], dtype=np.float64), np.asarray(y[:max_rows])]
        cut = any(len(getattr(self, f"X_{s}")) > max_rows for s in ("train", "val", "test"))
        name = f"{self.name} (the first {max_rows} rows of each split)" if cut else self.name
        return Dataset(name, *parts, task=self.task, classes=self.classes, feature_names=self.feature_names,
                       image_shape=self.image_shape, description=self.description, class_names=self.class_names,
                       pixel_max=self.pixel_max, task_reason=self.task_reason)

    #: The names ``split`` accepts, each with its attribute suffix.
    SPLITS = {"train": "train", "validation": "val", "val": "val", "test": "test"}

    def split(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """(X, y) of one split: "train", "validation" (or "val") or "test"."""
        key = self.SPLITS.get(str(name).lower())
        if key is None:
            raise DatasetError(f"split must be train, validation or test, got {name!r}")
        return getattr(self, f"X_{key}"), getattr(self, f"y_{key}")

    def labels(self, y: ArrayLike) -> np.ndarray:
        """The original class labels of a split's targets ``y`` (indices into ``classes``);
        regression targets are returned as they are."""
        if self.task == "classification":
            return decode_labels(self.classes, y)
        return y

    def __repr__(self):
        return (
            f"Dataset({self.name!r}, task={self.task!r}, n_features={self.n_features}, "
            f"n_classes={self.n_classes}, train={len(self.X_train)}, val={len(self.X_val)}, "
            f"test={len(self.X_test)})"
        )


# --------------------------------------------------------------------------- entry point


def load_dataset(
    name: str = "digits",
    *,
    data_dir: str | os.PathLike[str] | None = None,
    label: str | int | None = None,
    test_fraction: float = 0.2,
    validation_fraction: float = 0.1,
    seed: int | np.random.Generator = 0,
    download: bool = True,
    cache_dir: str | os.PathLike[str] | None = None,
    limit: int | None = None,
    mirror: str | None = None,
    checksums: dict | None = None,
    task: str | None = None,
) -> Dataset:
    """Load data set ``name`` (see the module docstring for the names) split three ways.

    Names: digits, mnist, fashion-mnist, moons, circles, xor, spiral; ``csv:PATH``,
    ``npz:PATH``; and, with X read from disk block by block rather than loaded,
    ``npy:X.npy,y.npy`` (X a memory map), ``hdf5:FILE`` or ``hdf5:FILE:X,y`` (h5py datasets,
    named after the last colon), ``zarr:DIR`` or ``zarr:DIR:X,y`` (arrays of a Zarr group). Their
    splits are ``StreamedRows`` views chosen by index: train them with
    ``fit(..., shuffle="blocks")``.

    Parameters
    ----------
    data_dir : path, optional
        Where to look first for the MNIST / Fashion-MNIST IDX files (``.gz`` or uncompressed).
    label : str or int, optional
        ``csv:`` only: the label column, by header name or integer index (default: the last).
    test_fraction, validation_fraction : float
        Fractions of the whole set for the test and validation splits. Sets with their own test
        split (MNIST, Fashion-MNIST, npz with ``X_test``) ignore ``test_fraction`` and carve the
        validation set out of their training set (``validation_fraction`` of it).
    seed : int or numpy.random.Generator
        Seeds the toy-set generators and every split.
    download : bool
        Whether missing MNIST files may be downloaded.
    cache_dir : path, optional
        Download directory (default ``default_cache_dir(name)``).
    limit : int, optional
        Keep only the first ``limit`` examples of the training pool (before the validation
        split; for sets without their own test split, of the whole set before splitting).
    mirror : str, optional
        Base URL for the MNIST files (default ``$DELTAPROP_MNIST_URL`` /
        ``$DELTAPROP_FASHION_MNIST_URL``, else the official mirror).
    checksums : dict, optional
        ``{file name: sha256 hex}`` entries that replace the built-in SHA-256 of those files
        (for private mirrors serving other files).
    task : "classification", "multilabel" or "regression", optional
        Overrides the inferred task of ``csv:``, ``npz:``, ``npy:``, ``hdf5:`` and ``zarr:`` data (``deltaprop.targets.infer_task``:
        integer, boolean and text labels are classes whatever their number).
    """
    if not isinstance(name, str) or not name.strip():
        raise DatasetError(f"data set name must be a non-empty string, got {name!r}")
    name = name.strip()
    test_fraction, validation_fraction = _check_fractions(test_fraction, validation_fraction)
    seed = _seed_int(seed)
    limit = _check_limit(limit)
    try:
        task = check_task(task)
    except TargetError as exc:
        raise DatasetError(str(exc)) from None
    split = dict(test_fraction=test_fraction, validation_fraction=validation_fraction, seed=seed)

    key = name.lower().replace("_", "-")
    if task not in (None, "classification") and (key == "digits" or key in _IDX_SETS or key in _TOY_SETS):
        raise DatasetError(f"{name} is a classification data set; task {task!r} applies to csv:, npz:, npy:, hdf5: and zarr: data only")
    if key.endswith((".csv", ".npz")) and not key.startswith(("csv:", "npz:", "npy:", "hdf5:", "zarr:")):
        name = f"{key[-3:]}:{name}"  # a bare path: its extension says how to read it
    if key == "digits":
        return _load_digits(limit=limit, **split)
    if key in _TOY_SETS:
        return _load_toy(key, limit=limit, **split)
    prefix, sep, path = name.partition(":")
    if key in _IDX_SETS:
        ds = _load_idx_set(
            key,
            data_dir=data_dir,
            download=download,
            cache_dir=cache_dir,
            limit=limit,
            mirror=mirror,
            checksums=checksums,
            validation_fraction=validation_fraction,
            seed=seed,
        )
    elif sep and prefix.lower() == "csv":
        ds = _load_csv(path, label=label, limit=limit, task=task, **split)
    elif sep and prefix.lower() == "npz":
        ds = _load_npz(path, limit=limit, task=task, **split)
    elif sep and prefix.lower() in STREAMED:
        ds = _load_streamed(prefix.lower(), path, limit=limit, task=task, **split)
    else:
        raise DatasetError(
            f"unknown data set {name!r}; expected one of: " + ", ".join(available_datasets())
        )
    _warn_unseen_classes(ds)
    return ds


def _warn_unseen_classes(ds: Dataset) -> None:
    """A UserWarning naming the classes that the validation or test split holds but the training
    split does not: the model never learns them, and they count against its scores."""
    if ds.task != "classification":
        return
    unseen = {}
    for split in ("val", "test"):
        index = np.setdiff1d(getattr(ds, f"y_{split}"), ds.y_train)
        if len(index):
            unseen[split] = ds.classes[index].tolist()
    if unseen:
        where = " and ".join(
            f"{labels[:10]!r}{' and more' if len(labels) > 10 else ''} (in the "
            f"{'validation' if split == 'val' else 'test'} split)" for split, labels in unseen.items()
        )
        warnings.warn(
            f"{ds.name}: the training split has no examples of the classes {where}, so the model "
            f"never learns them; add training examples of them",
            UserWarning, stacklevel=3,
        )


def load_recorded(options: dict, *, name=None, seed=None, data_dir=None, label=None,
                  download: bool = True) -> Dataset:
    """The data set a run was trained on, split exactly as in training, from the options the
    run recorded (a model file's ``training.options``: dataset, seed, test_fraction, limit,
    data_dir, label, task). Keyword arguments that are not None override the recorded values."""
    options = options or {}
    name = name or options.get("dataset")
    if not name:
        raise DatasetError("the run does not record its data set; pass one explicitly (--dataset)")
    recorded_seed = options.get("seed")
    return load_dataset(
        name,
        data_dir=data_dir or options.get("data_dir"),
        label=label if label is not None else options.get("label"),
        test_fraction=options.get("test_fraction", 0.2),
        seed=seed if seed is not None else (recorded_seed if recorded_seed is not None else 0),
        limit=options.get("limit"),
        download=download,
        task=options.get("task"),
    )


# --------------------------------------------------------------------------- argument checks


def _check_fractions(test_fraction, validation_fraction):
    fractions = []
    for what, value in (("test_fraction", test_fraction), ("validation_fraction", validation_fraction)):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise DatasetError(f"{what} must be a number in [0, 1), got {value!r}") from None
        if not 0.0 <= value < 1.0:
            raise DatasetError(f"{what} must be in [0, 1), got {value}")
        fractions.append(value)
    if sum(fractions) >= 1.0:
        raise DatasetError(
            f"test_fraction + validation_fraction must be below 1 to leave training data, "
            f"got {fractions[0]} + {fractions[1]}"
        )
    return fractions


def _seed_int(seed) -> int:
    """An int seed for scikit-learn's ``random_state`` from an int or a numpy Generator."""
    if isinstance(seed, np.random.Generator):
        return int(seed.integers(0, 2**31 - 1))
    if seed is None:
        return int(np.random.default_rng().integers(0, 2**31 - 1))
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, (int, np.integer)):
        raise DatasetError(f"seed must be an int or a numpy.random.Generator, got {seed!r}")
    if not 0 <= int(seed) < 2**32:
        raise DatasetError(f"seed must be in [0, 2**32), got {seed}")
    return int(seed)


def _check_limit(limit):
    if limit is None:
        return None
    if isinstance(limit, (bool, np.bool_)) or not isinstance(limit, (int, np.integer)) or limit < 1:
        raise DatasetError(f"limit must be a positive integer (number of examples), got {limit!r}")
    return int(limit)


# --------------------------------------------------------------------------- targets and splits


def _encode_targets(labels: np.ndarray, task: str | None, where: str):
    """(task, classes, y, reason): class indices into ``classes`` (the task rule of
    ``deltaprop.targets``), indicator rows for multi-label, or float regression targets; ``reason``
    says why the task was chosen (for the CLI to print)."""
    try:
        labels = np.asarray(labels)
        given = check_task(task)
        task = given or infer_task(labels, where)
        if given == "multilabel" and labels.ndim != 2:
            raise DatasetError(
                f"{where}: multilabel needs a 0/1 indicator matrix (one column per label), but the "
                f"targets are one label per example; use task classification"
            )
        if given:
            reason = "chosen explicitly"
        elif task == "classification":
            reason = f"inferred: {_label_kind(labels)} labels are classes; use --task regression for numbers"
        elif task == "multilabel":
            reason = "inferred: a 0/1 indicator matrix (one column per label)"
        else:
            reason = "inferred: numeric targets with fractional parts; use --task classification for classes"
        if task == "classification":
            classes, y = encode_labels(labels, where=where)
            if len(classes) == 1 and len(labels) > 1:  # one row: the split says what is wrong
                raise DatasetError(
                    f"{where}: only one class ({classes[0].item()!r}) in the labels: "
                    f"classification needs at least two"
                )
            return task, classes, y.astype(np.int64), reason
        if labels.dtype.kind in "USO":
            raise DatasetError(
                f"{where}: {task} needs numeric targets, but the labels are text "
                f"(e.g. {labels.flat[0]!r})"
            )
        y = labels.astype(np.float64)
        if not np.isfinite(y).all():
            raise DatasetError(f"{where}: targets contain NaN or infinity")
        return task, None, y, reason
    except TargetError as exc:
        raise DatasetError(str(exc) if str(exc).startswith(where) else f"{where}: {exc}") from None


def _label_kind(labels: np.ndarray) -> str:
    kind = labels.dtype.kind
    return {"i": "integer", "u": "integer", "b": "boolean", "f": "whole-number"}.get(kind, "text")


def _split_off(X, y, fraction, seed, stratify):
    """Split (X, y) into (X_keep, X_out, y_keep, y_out) with ``fraction`` going to ``out``."""
    from sklearn.model_selection import train_test_split

    if fraction <= 0:
        return X, X[:0], y, y[:0]
    try:
        if stratify:
            try:
                return train_test_split(X, y, test_size=fraction, random_state=seed, stratify=y)
            except ValueError:
                pass  # a class too small to stratify: fall back to a plain seeded shuffle
        return train_test_split(X, y, test_size=fraction, random_state=seed)
    except ValueError as exc:
        raise DatasetError(f"cannot split {len(X)} examples with fraction {fraction}: {exc}") from None


def _split_sizes(n, test_fraction, validation_fraction):
    """(train, validation, test) sizes of ``_split_three`` for ``n`` rows (scikit-learn rounds
    the part split off up); arrays when ``n`` is an array."""
    n_test = np.ceil(test_fraction * n) if test_fraction else 0 * n
    rest = n - n_test
    val_share = validation_fraction / (1.0 - test_fraction) if validation_fraction else 0.0
    n_val = np.ceil(val_share * rest) if val_share else 0 * n
    return rest - n_val, n_val, n_test


def _check_split_room(n, where, test_fraction=0.0, validation_fraction=0.0, limit=None):
    """A DatasetError unless ``n`` rows leave at least one row in every split in use."""
    cut = f" (limit={limit})" if limit is not None else ""
    if not n:
        raise DatasetError(f"{where}: no rows{cut}; expected at least one example")
    if _split_sizes(n, test_fraction, validation_fraction)[0] >= 1:
        return
    need = np.arange(1, 10**6)  # the training split only grows with n
    enough = need[_split_sizes(need, test_fraction, validation_fraction)[0] >= 1]
    splits = " and ".join(
        f"{what} {fraction}" for what, fraction in
        (("test_fraction", test_fraction), ("validation_fraction", validation_fraction)) if fraction
    )
    rows = f"{n} rows{cut} are" if n != 1 else f"1 row{cut} is"
    raise DatasetError(
        f"{where}: {rows} too few to split with {splits}: the training split and each split "
        f"carved off need at least one row, which takes at least "
        f"{int(enough[0]) if len(enough) else 'a million'} rows; add rows, or lower the fractions "
        f"(0 turns a split off)"
    )


def _split_three(X, y, *, task, test_fraction, validation_fraction, seed):
    """Train / validation / test, the fractions being of the whole set."""
    stratify = task == "classification"
    X_rest, X_test, y_rest, y_test = _split_off(X, y, test_fraction, seed, stratify)
    val_share = validation_fraction / (1.0 - test_fraction) if validation_fraction else 0.0
    X_train, X_val, y_train, y_val = _split_off(X_rest, y_rest, val_share, (seed + 1) % 2**32, stratify)
    return X_train, y_train, X_val, y_val, X_test, y_test


def _make(name, X, y, *, task, classes, test_fraction, validation_fraction, seed, limit, **info):
    """Limit, split three ways and wrap in a Dataset."""
    if limit is not None:
        X, y = X[:limit], y[:limit]
    _check_split_room(len(X), name, test_fraction, validation_fraction, limit)
    parts = _split_three(
        X, y, task=task, test_fraction=test_fraction,
        validation_fraction=validation_fraction, seed=seed,
    )
    return Dataset(name, *parts, task=task, classes=classes, **info)


# --------------------------------------------------------------------------- digits and toys


def _load_digits(*, limit, **split) -> Dataset:
    from sklearn.datasets import load_digits

    bunch = load_digits()
    X = bunch.data.astype(np.float64)
    classes, y = np.unique(bunch.target, return_inverse=True)
    return _make(
        "digits", X, y.astype(np.int64),
        task="classification", classes=classes, limit=limit,
        feature_names=list(bunch.feature_names), image_shape=(8, 8), pixel_max=16.0,
        description="scikit-learn digits: 1,797 8x8 images, pixels 0-16, 10 classes",
        **split,
    )


def _toy_points(name: str, seed: int):
    """(X, y, description) for a 2-D toy set; labels are 0..K−1."""
    from sklearn.datasets import make_circles, make_moons

    rng = np.random.default_rng(seed)
    if name == "moons":
        X, y = make_moons(n_samples=600, noise=0.2, random_state=seed)
        return X, y, "two interleaving half circles, 600 points, noise 0.2"
    if name == "circles":
        X, y = make_circles(n_samples=600, noise=0.1, factor=0.5, random_state=seed)
        return X, y, "a circle inside a circle, 600 points, noise 0.1"
    if name == "xor":
        X = rng.uniform(-1.0, 1.0, size=(600, 2))
        y = (X[:, 0] * X[:, 1] < 0).astype(np.int64)  # 1 where the signs differ
        return X, y, "600 points in [-1, 1]^2, class 1 where x1 and x2 have opposite signs"
    # spiral: 3 arms of 300 points (the CS231n spiral)
    arms, per_arm = 3, 300
    r = np.tile(np.linspace(0.0, 1.0, per_arm), arms)
    arm = np.repeat(np.arange(arms), per_arm)
    t = arm * 4.0 + r * 4.0 + rng.normal(scale=0.2, size=r.size)
    X = np.column_stack([r * np.sin(t), r * np.cos(t)])
    order = rng.permutation(len(X))  # mixed arms, so that limit= keeps every class
    return X[order], arm[order], "three spiral arms of 300 points each"


def _load_toy(name: str, *, limit, seed, **split) -> Dataset:
    X, y, description = _toy_points(name, seed)
    classes, y = np.unique(y, return_inverse=True)
    return _make(
        name, X.astype(np.float64), y.astype(np.int64),
        task="classification", classes=classes, limit=limit, seed=seed,
        feature_names=["x0", "x1"], description=description, **split,
    )


# --------------------------------------------------------------------------- IDX files


_IDX_DTYPES = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def load_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or raw, into an array.

    Layout: bytes 0–1 are zero, byte 2 is the element type (0x08 unsigned byte, 0x09 signed
    byte, 0x0B int16, 0x0C int32, 0x0D float32, 0x0E float64), byte 3 the number of
    dimensions d; then d big-endian uint32 sizes, then the data, big-endian, row-major.
    Returns an array of that shape in native byte order, e.g. uint8 (10000, 28, 28) for
    ``t10k-images-idx3-ubyte``. A truncated or foreign file raises ``IDXError`` (a ValueError).

    The header is checked against the file before the data is read: a raw file's data must be
    exactly the declared size; a gzipped one may declare at most ``MAX_EXPANSION`` times its own
    size (a decompression bomb is refused unread) and is read in chunks up to that size.
    """
    path = Path(path)
    with _open_regular(path, "IDX", IDXError, missing="{path}: no such {kind} file") as f:
        size = os.fstat(f.fileno()).st_size
        if f.read(2) != b"\x1f\x8b":  # gzip magic, whatever the extension says
            f.seek(0)
            return _read_idx(f, path, data_bytes=lambda header: size - header)
        f.seek(0)
        try:
            with gzip.GzipFile(fileobj=f) as stream:
                return _read_idx(stream, path, max_bytes=MAX_EXPANSION * size + EXPANSION_ALLOWANCE)
        except (OSError, EOFError, zlib.error) as exc:
            raise IDXError(f"{path}: corrupt or truncated gzip data ({exc})") from None


def _read_idx(stream, path: Path, data_bytes=None, max_bytes=None) -> np.ndarray:
    """The array of an IDX stream: ``data_bytes(header length)`` is the data size of a raw
    file, ``max_bytes`` the most a gzipped one may declare."""
    magic = stream.read(4)
    if len(magic) < 4:
        raise IDXError(f"{path}: {len(magic)} bytes is too short for an IDX file (4-byte magic number)")
    if magic[0] != 0 or magic[1] != 0 or magic[2] not in _IDX_DTYPES or magic[3] == 0:
        raise IDXError(
            f"{path}: not an IDX file (magic number {magic.hex()}; expected 0000 then a type "
            f"code 08/09/0b/0c/0d/0e and the number of dimensions, e.g. 00000803 for images)"
        )
    dtype, ndim = _IDX_DTYPES[magic[2]], magic[3]
    if ndim > MAX_IDX_DIMS:
        raise IDXError(
            f"{path}: the IDX header declares {ndim} dimensions (byte 3 of the magic number "
            f"{magic.hex()}); at most {MAX_IDX_DIMS} are supported"
        )
    header = 4 + 4 * ndim
    sizes = stream.read(4 * ndim)
    if len(sizes) < 4 * ndim:
        raise IDXError(f"{path}: truncated IDX header ({4 + len(sizes)} bytes, expected {header})")
    dims = struct.unpack(f">{ndim}I", sizes)
    expected = math.prod(dims) * dtype.itemsize  # exact: Python integers do not overflow
    if data_bytes is not None:
        actual = data_bytes(header)
        if actual < expected:
            raise IDXError(
                f"{path}: truncated IDX file: shape {dims} needs {expected} data bytes, found {actual}"
            )
        if actual > expected:
            raise IDXError(f"{path}: {actual - expected} unexpected bytes after the data of shape {dims}")
    elif header + expected > max_bytes:
        raise IDXError(
            f"{path}: the dimension sizes in the IDX header declare shape {dims}, {expected} data "
            f"bytes, more than {MAX_EXPANSION} times the size of the gzipped file; refused unread "
            f"(a damaged file or a decompression bomb)"
        )
    try:
        out = np.empty(dims, dtype=dtype.newbyteorder("="))
    except (ValueError, MemoryError) as exc:
        raise IDXError(f"{path}: cannot hold an array of shape {dims} ({exc})") from None
    view = memoryview(out.reshape(-1).view(np.uint8))
    filled = 0
    while filled < expected:
        n = stream.readinto(view[filled:filled + (1 << 20)])
        if not n:
            raise IDXError(
                f"{path}: truncated IDX file: shape {dims} needs {expected} data bytes, found {filled}"
            )
        filled += n
    if stream.read(1):
        raise IDXError(
            f"{path}: unexpected bytes after the data of shape {dims} (the decompressed stream is "
            f"longer than its IDX header declares)"
        )
    if not dtype.isnative:
        out.byteswap(inplace=True)  # the bytes were big-endian
    return out


def default_cache_dir(name: str) -> Path:
    """Where downloads of ``name`` go: ``$DELTAPROP_CACHE/<name>``, else
    ``$XDG_CACHE_HOME/deltaprop/<name>``, else ``~/.cache/deltaprop/<name>``."""
    root = os.environ.get("DELTAPROP_CACHE")
    if not root:
        xdg = os.environ.get("XDG_CACHE_HOME")
        root = Path(xdg) / "deltaprop" if xdg else Path.home() / ".cache" / "deltaprop"
    return Path(root).expanduser() / name


def _find_file(directory, stem: str) -> Path | None:
    """``stem.gz`` or ``stem`` in ``directory`` (the gzipped one first), or None. Whatever has
    the name counts, so that a FIFO or a device there is an error (``load_idx``), not a gap."""
    if directory is None:
        return None
    for candidate in (Path(directory) / f"{stem}.gz", Path(directory) / stem):
        if candidate.exists():
            return candidate
    return None


def _download(url: str, target: Path, sha256: str, max_bytes: int, deadline: float) -> None:
    """Fetch ``url`` into ``target``: a temp file in the same directory, its SHA-256 checked,
    then renamed into place. At most ``max_bytes`` are accepted (a larger Content-Length is
    refused before the body is read), and the download stops at ``deadline`` (``time.monotonic``);
    each socket operation also times out. Raises DownloadError or ChecksumError (or the
    urllib / socket error); leaves no partial file."""
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    try:
        digest, received = hashlib.sha256(), 0
        timeout = max(0.01, min(_DOWNLOAD_TIMEOUT_S, deadline - time.monotonic()))
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as response:
            length = (response.headers.get("Content-Length") or "").strip()
            if length.isdigit() and int(length) > max_bytes:
                raise DownloadError(
                    f"{url} announces {int(length)} bytes (Content-Length), but {target.name} has "
                    f"{max_bytes}; refused without downloading it"
                )
            while block := response.read1(1 << 16):
                received += len(block)
                if received > max_bytes:
                    raise DownloadError(
                        f"{url} sent more than the {max_bytes} bytes of {target.name}; stopped and "
                        f"deleted the partial file"
                    )
                if time.monotonic() > deadline:
                    raise DownloadError(
                        f"{url} is too slow: the download did not finish within "
                        f"{_DOWNLOAD_DEADLINE_S:g} s ({received} bytes of {target.name} received)"
                    )
                digest.update(block)
                out.write(block)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256.lower():
            raise ChecksumError(
                f"SHA-256 mismatch for {target.name} downloaded from {url}: expected {sha256}, "
                f"got {got}; the bad file was deleted (a broken mirror or a changed file)"
            )
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _fetch_idx_files(name, *, data_dir, download, cache_dir, mirror, checksums) -> dict:
    """{role: path} for the four IDX files of ``name``: all from ``data_dir`` when it holds any of
    them, else from the cache, downloading the missing ones."""
    spec = _IDX_SETS[name]
    cache = Path(cache_dir).expanduser() if cache_dir is not None else default_cache_dir(name)
    if data_dir is not None and not Path(data_dir).is_dir():
        raise DatasetError(f"data_dir {str(data_dir)!r} is not a directory")
    in_data_dir = {role: _find_file(data_dir, stem) for role, stem in IDX_FILES.items()}
    if any(in_data_dir.values()):
        absent = [f"{IDX_FILES[role]}.gz" for role, path in in_data_dir.items() if path is None]
        if absent:
            present = ", ".join(path.name for path in in_data_dir.values() if path is not None)
            raise DatasetError(
                f"data_dir {str(data_dir)!r} holds only some of the {spec['title']} files ({present}); "
                f"missing: {', '.join(absent)} (.gz or uncompressed). Put all four there, or leave "
                f"out --data-dir (data_dir=...) to use the cache {cache}"
            )
        return in_data_dir
    found, missing = {}, {}
    for role, stem in IDX_FILES.items():
        path = _find_file(cache, stem)
        if path is None:
            missing[role] = stem
        else:
            found[role] = path
    if not missing:
        return found

    names = ", ".join(f"{stem}.gz" for stem in missing.values())
    where = (
        f"put the files ({names}; .gz or uncompressed) in a folder and pass it with "
        f"--data-dir (data_dir=...), or into {cache}"
    )
    if not download:
        raise DownloadError(f"{spec['title']} files not found and download is off: {where}")
    base = mirror or os.environ.get(spec["url_env"]) or spec["url"]
    if not base.endswith("/"):
        base += "/"
    hashes = dict(spec["sha256"])
    hashes.update(checksums or {})
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise DownloadError(f"cannot create the cache directory {cache} ({exc}); {where}") from None
    deadline = time.monotonic() + _DOWNLOAD_DEADLINE_S
    for role, stem in missing.items():
        filename = f"{stem}.gz"
        url = base + filename
        known = hashes[filename].lower() == spec["sha256"][filename]
        max_bytes = spec["sizes"][filename] if known else _MAX_DOWNLOAD_BYTES
        try:
            _download(url, cache / filename, hashes[filename], max_bytes, deadline)
        except ChecksumError:
            raise
        except DownloadError as exc:
            raise DownloadError(f"could not download {spec['title']}: {exc}; {where}") from None
        except urllib.error.HTTPError as exc:
            raise DownloadError(
                f"could not download {spec['title']}: {url} answered HTTP {exc.code} {exc.reason}; {where}"
            ) from None
        except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
            reason = getattr(exc, "reason", exc)
            raise DownloadError(
                f"could not download {spec['title']} from {base} ({reason}); {where}"
            ) from None
        found[role] = cache / filename
    return found


def _load_idx_set(name, *, data_dir, download, cache_dir, limit, mirror, checksums,
                  validation_fraction, seed) -> Dataset:
    spec = _IDX_SETS[name]
    files = _fetch_idx_files(
        name, data_dir=data_dir, download=download, cache_dir=cache_dir,
        mirror=mirror, checksums=checksums,
    )
    arrays = {}
    for split in ("train", "test"):
        images = load_idx(files[f"{split}_images"])
        labels = load_idx(files[f"{split}_labels"])
        if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
            raise DatasetError(
                f"{spec['title']} {split} files do not fit together: images "
                f"{files[f'{split}_images']} have shape {images.shape} (expected (m, rows, cols)), "
                f"labels {files[f'{split}_labels']} have shape {labels.shape} (expected (m,))"
            )
        if not images.size:
            raise DatasetError(
                f"{spec['title']} {split} images {files[f'{split}_images']} have shape "
                f"{images.shape}: no pixels; expected (m, rows, cols) with m, rows, cols > 0"
            )
        arrays[split] = (images, labels)
    (train_images, train_labels), (test_images, test_labels) = arrays["train"], arrays["test"]
    if train_images.shape[1:] != test_images.shape[1:]:
        raise DatasetError(
            f"{spec['title']} train images are {train_images.shape[1:]} but test images are "
            f"{test_images.shape[1:]}"
        )
    if limit is not None:
        train_images, train_labels = train_images[:limit], train_labels[:limit]
    _check_split_room(
        len(train_images), f"{spec['title']} training set {files['train_images']}",
        validation_fraction=validation_fraction, limit=limit,
    )
    image_shape = tuple(int(d) for d in train_images.shape[1:])
    classes, y_all = np.unique(np.concatenate([train_labels, test_labels]), return_inverse=True)
    class_names = spec["class_names"]
    if len(classes) < 2 or (class_names is not None and not set(classes) <= set(range(len(class_names)))):
        raise DatasetError(
            f"{spec['title']} labels {files['train_labels']}, {files['test_labels']}: classes "
            f"{classes.tolist()[:12]}; expected at least two"
            + (f", each one of 0..{len(class_names) - 1}" if class_names is not None else "")
        )
    y_all = y_all.astype(np.int64).reshape(-1)
    y_train_all, y_test = y_all[: len(train_labels)], y_all[len(train_labels):]
    X_train_all = train_images.reshape(len(train_images), -1).astype(np.float64)
    X_test = test_images.reshape(len(test_images), -1).astype(np.float64)
    X_train, X_val, y_train, y_val = _split_off(
        X_train_all, y_train_all, validation_fraction, seed, stratify=True
    )
    return Dataset(
        name, X_train, y_train, X_val, y_val, X_test, y_test,
        task="classification", classes=classes.astype(np.int64), feature_names=None,
        image_shape=image_shape, description=spec["description"],
        class_names=None if class_names is None else [class_names[int(c)] for c in classes],
        pixel_max=255.0,
    )


# --------------------------------------------------------------------------- CSV


_NOT_FILES = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def _not_a_file(path: Path, mode: int, kind: str, error):
    what = next((name for test, name in _NOT_FILES if test(mode)), "not a regular file")
    target = os.path.realpath(path)
    link = f" (a link to {target})" if target != os.path.abspath(path) else ""
    return error(f"{path}{link} is not a file: it is {what}; expected a regular {kind} file")


def _open_regular(path: Path, kind: str, error=DatasetError, missing: str = "{kind} file not found: {path}"):
    """``path`` opened for binary reading, when it is (or links to) a regular file. Anything
    else — a directory, FIFO, device or socket, such as a link to /dev/zero — is refused before
    a byte is read, so that it can neither block nor stream without end."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise error(missing.format(kind=kind, path=path)) from None
    except OSError as exc:
        raise error(f"{path}: cannot read the {kind} file ({exc.strerror})") from None
    except ValueError as exc:  # a NUL byte in the path
        raise error(f"{str(path)!r} is not a usable {kind} file path ({exc})") from None
    if not stat.S_ISREG(mode):
        raise _not_a_file(path, mode, kind, error)
    try:  # non-blocking, should it have been swapped for a FIFO since the stat
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError as exc:
        raise error(f"{path}: cannot read the {kind} file ({exc.strerror})") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        raise _not_a_file(path, mode, kind, error)
    if hasattr(os, "set_blocking"):
        os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


def _data_file(path: str, kind: str) -> Path:
    if not path:
        raise DatasetError(f"{kind}: needs a path, e.g. {kind}:data/train.{kind}")
    p = Path(path).expanduser()
    _open_regular(p, kind).close()  # a clear error now for a missing file, a FIFO, a device
    return p


def _label_column(label, header: list, path: Path) -> int:
    """The index of the label column from a name, an int index, or None (the last column)."""
    n = len(header)
    if label is None:
        return n - 1
    if isinstance(label, str):
        matches = [i for i, h in enumerate(header) if h == label.strip()]
        if len(matches) == 1:
            return matches[0]
        if len(matches) > 1:
            raise DatasetError(f"{path}: label column {label!r} appears {len(matches)} times in the header")
        try:
            label = int(label)
        except ValueError:
            raise DatasetError(
                f"{path}: no column named {label!r}; columns are: " + ", ".join(map(repr, header))
            ) from None
    if isinstance(label, (int, np.integer)) and not isinstance(label, bool):
        if -n <= label < n:
            return int(label) % n
        raise DatasetError(
            f"{path}: label column index {label} is out of range for {n} columns (0..{n - 1})"
        )
    raise DatasetError(f"label must be a column name or an integer index, got {label!r}")


def read_csv_rows(path: Path) -> tuple[list[str] | None, list[list[str]], list[int]]:
    """(first row or None, rows, line numbers) of a comma-separated UTF-8 file, as written: the
    first row (a header, usually) cells stripped; blank lines after it skipped. The one CSV
    dialect of deltaprop (``csv:`` data sets and ``deltaprop predict``); a file that is not
    UTF-8 text or not valid CSV (or not a regular file) is a DatasetError naming it."""
    try:
        with io.TextIOWrapper(_open_regular(Path(path), "csv"), encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            header = next(reader, None)
            rows, lines = [], []
            for row in reader:
                if not row or all(not cell.strip() for cell in row):
                    continue
                rows.append(row)
                lines.append(reader.line_num)
    except UnicodeDecodeError:
        raise DatasetError(f"{path}: not a UTF-8 text file (expected a CSV with a header row)") from None
    except csv.Error as exc:
        raise DatasetError(f"{path}: malformed CSV ({exc})") from None
    return (None if header is None else [h.strip() for h in header]), rows, lines


def _read_csv(path: Path):
    """(header, rows, line numbers) of a CSV with a header row and data rows of its width."""
    header, rows, lines = read_csv_rows(path)
    if header is None:
        raise DatasetError(f"{path}: the file is empty; expected a header row and data rows")
    if not rows:
        raise DatasetError(f"{path}: has a header but no data rows")
    for row, line in zip(rows, lines):
        if len(row) != len(header):
            raise DatasetError(
                f"{path}, line {line}: {len(row)} values but the header has {len(header)} columns"
            )
    return header, rows, lines


def parse_features(cells: np.ndarray, names: list, lines: list, path: Path) -> np.ndarray:
    """float64 matrix from string cells; a bad cell raises an error naming its line and column."""
    X = np.empty(cells.shape, dtype=np.float64)
    for j in range(cells.shape[1]):
        try:
            X[:, j] = cells[:, j].astype(np.float64)
            bad = np.flatnonzero(~np.isfinite(X[:, j]))
        except ValueError:
            bad = [i for i, cell in enumerate(cells[:, j]) if not is_number(cell)]
        if len(bad):
            i = int(bad[0])
            raise DatasetError(
                f"{path}, line {lines[i]}, column {names[j]!r}: {str(cells[i, j])!r} is not a "
                f"finite number; every feature column must be numeric"
            )
    return X


def is_number(text: str) -> bool:
    try:
        return bool(np.isfinite(float(text)))
    except ValueError:
        return False


#: Cells that stand for a missing label (pandas' defaults that are not numbers). Refused among
#: numeric or boolean labels, where they would silently turn every label into text.
_MISSING_LABELS = {"none", "null", "na", "n/a", "#n/a", "<na>", "nil", "missing", "?", "-"}


def _load_csv(path: str, *, label, limit, task, **split) -> Dataset:
    p = _data_file(path, "csv")
    header, rows, lines = _read_csv(p)
    if len(header) < 2:
        raise DatasetError(f"{p}: needs at least one feature column and one label column, found {header}")
    j = _label_column(label, header, p)
    cells = np.array(rows, dtype=object)  # not str: one long cell would widen every cell to its length
    feature_cols = [k for k in range(len(header)) if k != j]
    names = [header[k] for k in feature_cols]
    X = parse_features(cells[:, feature_cols], names, lines, p)
    pixel_max = pixel_range(X)
    where = f"{p}, label column {header[j]!r}"
    empty = [i for i, cell in enumerate(cells[:, j]) if not str(cell).strip()]
    if empty:
        raise DatasetError(f"{p}, line {lines[empty[0]]}: the label column {header[j]!r} is empty")
    gaps = [i for i, cell in enumerate(cells[:, j]) if cell.strip().lower() in _MISSING_LABELS]
    others = np.delete(cells[:, j], gaps)
    if gaps and len(others) and all(is_number(c) or c.strip().lower() in ("true", "false") for c in others):
        raise DatasetError(
            f"{p}, line {lines[gaps[0]]}: the label column {header[j]!r} holds "
            f"{cells[gaps[0], j].strip()!r}, a missing value among numeric labels; fill it in or "
            f"drop the row ({len(gaps)} such row{'s' if len(gaps) > 1 else ''})"
        )
    width = np.fromiter((len(c) for c in cells[:, j]), dtype=np.int64, count=len(cells))
    if 4 * int(width.max()) * len(cells) > MAX_EXPANSION * p.stat().st_size + EXPANSION_ALLOWANCE:
        i = int(width.argmax())  # text labels are fixed-width: each would take this one's width
        raise DatasetError(
            f"{p}, line {lines[i]}: the label in column {header[j]!r} is {width[i]} characters "
            f"long; as text labels all {len(cells)} would take {4 * width[i] * len(cells)} bytes. "
            f"Expected short class names"
        )
    try:
        labels = parse_labels(cells[:, j], where)
    except (TargetError, ValueError) as exc:  # ValueError: an integer label of >4300 digits
        raise DatasetError(str(exc) if str(exc).startswith(str(p)) else f"{where}: {exc}") from None
    task, classes, y, reason = _encode_targets(labels, task, where)
    return _make(
        f"csv:{path}", X, y, task=task, classes=classes, limit=limit,
        feature_names=names, task_reason=reason, pixel_max=pixel_max,
        image_shape=None if pixel_max is None else square_image_shape(X.shape[1]),
        description=f"{p.name}: {len(X)} rows, {len(names)} features, label {header[j]!r} ({task})",
        **split,
    )


# --------------------------------------------------------------------------- NPZ


def _npz_array(zf: zipfile.ZipFile, info: zipfile.ZipInfo, key: str, path: Path) -> np.ndarray:
    """Array ``key`` of an open .npz, its sizes checked before anything is decompressed: the zip
    directory's expansion ratio, then the .npy header's shape × itemsize against the member's
    size (so that the array allocated is the data the archive really holds)."""
    if info.file_size > MAX_EXPANSION * info.compress_size + EXPANSION_ALLOWANCE:
        raise DatasetError(
            f"{path}: array {key!r} would expand from {info.compress_size} compressed bytes to "
            f"{info.file_size} (more than {MAX_EXPANSION}:1); refused unread (a damaged file or a "
            f"decompression bomb)"
        )
    try:
        with zf.open(info) as member:
            version = np.lib.format.read_magic(member)
            read_header = {
                (1, 0): np.lib.format.read_array_header_1_0, (2, 0): np.lib.format.read_array_header_2_0,
            }.get(version)
            if read_header is None:
                raise DatasetError(f"{path}: array {key!r} is in .npy format {version}; expected 1.0 or 2.0")
            shape, _, dtype = read_header(member)
            data_bytes = info.file_size - member.tell()
        if dtype.hasobject:
            raise DatasetError(
                f"{path}: array {key!r} holds Python objects that only pickle can load; deltaprop "
                f"reads .npz files with allow_pickle=False. Save plain numeric or string arrays, "
                f"e.g. np.asarray({key}, dtype=float) or {key}.astype(str)"
            )
        declared = math.prod(shape) * dtype.itemsize
        if declared != data_bytes:
            raise DatasetError(
                f"{path}: array {key!r}: its .npy header declares shape {shape} of {dtype} "
                f"({declared} bytes) but the archive member holds {data_bytes} data bytes"
            )
        with zf.open(info) as member:
            return np.lib.format.read_array(member, allow_pickle=False)
    except DatasetError:
        raise
    except Exception as exc:  # zipfile / zlib / format errors from a damaged archive
        raise DatasetError(f"{path}: cannot read array {key!r} ({type(exc).__name__}: {exc})") from None


def _npz_features(X: np.ndarray, key: str, path: Path):
    """(float64 (m, n) matrix, image shape or None, pixel_max or None) from a feature array."""
    if X.dtype.kind not in "biuf":
        raise DatasetError(f"{path}: {key} must be numeric, got dtype {X.dtype}")
    if X.ndim < 2:
        raise DatasetError(f"{path}: {key} must have shape (n_samples, n_features), got {X.shape}")
    if X.shape[0] == 0 or X[0].size == 0:
        what = "no rows" if X.shape[0] == 0 else "no feature columns"
        raise DatasetError(
            f"{path}: {key} has {what}, shape {X.shape}; expected at least one example and one feature"
        )
    image_shape = tuple(int(d) for d in X.shape[1:]) if X.ndim == 3 else None
    pixel_max = pixel_range(X)
    X = X.reshape(len(X), -1).astype(np.float64)
    if image_shape is None and pixel_max is not None:
        image_shape = square_image_shape(X.shape[1])
    if not np.isfinite(X).all():
        bad = np.argwhere(~np.isfinite(X))[0]
        raise DatasetError(f"{path}: {key} has a non-finite value at row {bad[0]}, column {bad[1]}")
    return X, image_shape, pixel_max


def square_image_shape(n_features: int) -> tuple | None:
    """(s, s) when ``n_features`` = s² (a flattened square image, e.g. 784 = 28²), else None."""
    side = int(round(n_features**0.5))
    return (side, side) if side > 1 and side * side == n_features else None


def pixel_range(X: np.ndarray) -> float | None:
    """The nominal largest pixel value when ``X`` (rows of examples, any shape) is pixel data,
    else None. Recognised by the values, not the shape: uint8 data is pixels (255); so are
    whole numbers in [0, 255] with an image shape or at least ``MIN_PIXEL_FEATURES`` features
    (255, or 16 when no value exceeds 16, like the 8×8 digits)."""
    X = np.asarray(X)
    if X.dtype == np.uint8:
        return 255.0
    n_features = int(np.prod(X.shape[1:])) if X.ndim >= 2 else 0
    if X.size == 0 or (X.ndim < 3 and n_features < MIN_PIXEL_FEATURES) or X.dtype.kind not in "iuf":
        return None
    low, high = X.min(), X.max()
    if not (np.isfinite(low) and np.isfinite(high)) or low < 0 or high > 255:
        return None
    if X.dtype.kind == "f" and not np.array_equal(X, np.round(X)):
        return None
    return 16.0 if high <= 16 else 255.0


def _npz_targets(y: np.ndarray, key: str, n: int, path: Path) -> np.ndarray:
    if y.ndim == 2 and y.shape[1] == 1:
        y = y.reshape(-1)
    if y.ndim not in (1, 2) or len(y) != n:
        raise DatasetError(
            f"{path}: {key} must hold one target per example ({n}), got shape {y.shape}"
        )
    return y


def read_npz(path: str | os.PathLike[str], names: Sequence[str]) -> dict[str, np.ndarray]:
    """{name: array} for the arrays ``names`` of the .npz file at ``path``, read as ``npz:`` data
    sets are: only a regular file; each array's size checked against the zip directory and its
    .npy header before decompressing; no pickles; no other member read. A missing array is a
    DatasetError that lists the ones present."""
    def pick(keys):
        missing = [n for n in names if n not in keys]
        if missing:
            found = ", ".join(sorted(keys)) or "none"
            raise DatasetError(f"{path}: no array {missing[0]!r} (found: {found})")
        return list(names)

    return _npz_arrays(Path(path), pick)


def _dataset_arrays(p: Path, keys: set) -> list:
    """The arrays an ``npz:`` data set uses: X and y, or X_train, y_train, X_test, y_test (and
    X_val, y_val)."""
    single, given = {"X", "y"}, {"X_train", "y_train", "X_test", "y_test"}
    if single <= keys:
        return ["X", "y"]
    if given <= keys:
        return sorted(given | ({"X_val", "y_val"} if {"X_val", "y_val"} <= keys else set()))
    raise DatasetError(
        f"{p}: expected arrays X and y, or X_train, y_train, X_test and y_test; "
        f"found: {', '.join(sorted(keys)) or 'no arrays'}"
    )


def _npz_arrays(p: Path, pick) -> dict:
    """{name: array} for the names ``pick(names present)`` returns; other members are never
    decompressed."""
    with _open_regular(p, "npz") as f:
        if f.read(6) == b"\x93NUMPY":
            raise DatasetError(f"{p}: is a single .npy array; expected a .npz archive with arrays X and y")
        f.seek(0)
        try:
            zf = zipfile.ZipFile(f)
        except Exception as exc:  # BadZipFile, a damaged directory, ...
            raise DatasetError(f"{p}: not a readable .npz file ({type(exc).__name__}: {exc})") from None
        with zf:
            members = {i.filename[:-4]: i for i in zf.infolist() if i.filename.endswith(".npy")}
            return {k: _npz_array(zf, members[k], k, p) for k in pick(set(members))}


def _load_npz(path: str, *, limit, task, test_fraction, validation_fraction, seed) -> Dataset:
    p = _data_file(path, "npz")
    arrays = _npz_arrays(p, lambda keys: _dataset_arrays(p, keys))
    info = dict(description=f"{p.name}", feature_names=None)
    if "X" in arrays:
        X, image_shape, info["pixel_max"] = _npz_features(arrays["X"], "X", p)
        y = _npz_targets(arrays["y"], "y", len(X), p)
        task, classes, y, info["task_reason"] = _encode_targets(y, task, f"{p}, y")
        info["description"] = f"{p.name}: {len(X)} examples, {X.shape[1]} features ({task})"
        return _make(
            f"npz:{path}", X, y, task=task, classes=classes, limit=limit, image_shape=image_shape,
            test_fraction=test_fraction, validation_fraction=validation_fraction, seed=seed, **info,
        )

    splits = [s for s in ("train", "val", "test") if f"X_{s}" in arrays]
    Xs, ys, shapes, pixels = {}, {}, set(), set()
    for s in splits:
        Xs[s], shape, pixel_max = _npz_features(arrays[f"X_{s}"], f"X_{s}", p)
        pixels.add(pixel_max)
        ys[s] = _npz_targets(arrays[f"y_{s}"], f"y_{s}", len(Xs[s]), p)
        shapes.add((Xs[s].shape[1], shape))
    if len(shapes) != 1:
        raise DatasetError(f"{p}: X_train, X_test (and X_val) must have the same number of features")
    if limit is not None:
        Xs["train"], ys["train"] = Xs["train"][:limit], ys["train"][:limit]
    if "val" not in Xs:
        _check_split_room(len(Xs["train"]), f"{p}, X_train", validation_fraction=validation_fraction,
                          limit=limit)
    sizes = [len(ys[s]) for s in splits]
    task, classes, y_all, info["task_reason"] = _encode_targets(
        np.concatenate([ys[s] for s in splits]), task, f"{p}, y"
    )
    bounds = np.cumsum([0] + sizes)
    for s, lo, hi in zip(splits, bounds[:-1], bounds[1:]):
        ys[s] = y_all[lo:hi]
    if "val" not in Xs:
        Xs["train"], Xs["val"], ys["train"], ys["val"] = _split_off(
            Xs["train"], ys["train"], validation_fraction, seed, task == "classification"
        )
    image_shape = shapes.pop()[1]
    info["pixel_max"] = pixels.pop() if len(pixels) == 1 else None
    info["description"] = f"{p.name}: {len(Xs['train'])} train, {len(Xs['test'])} test examples ({task})"
    return Dataset(
        f"npz:{path}", Xs["train"], ys["train"], Xs["val"], ys["val"], Xs["test"], ys["test"],
        task=task, classes=classes, image_shape=image_shape, **info,
    )


# --------------------------------------------------------------------------- NPY, HDF5, Zarr: streamed

#: The data-set prefixes whose X is read from disk block by block, never loaded whole.
STREAMED = ("npy", "hdf5", "zarr")

#: ``np.asarray`` of a streamed split (``explain``, the report) refuses beyond this many bytes of
#: float64; training, ``evaluate`` and ``predict`` read it block by block whatever its size.
MAX_LOADED_BYTES = 1 << 30


class StreamedRows:
    """One split of a streamed data set (``npy:``, ``hdf5:``, ``zarr:``): the rows of the file's
    X at sorted positions (a ``sources.Source`` view by index, nothing copied). It is itself a
    row-sliceable source (``shape``, ``dtype``, ``__getitem__``), so that ``fit(...,
    shuffle="blocks")``, ``Network.evaluate`` and ``predict`` read it block by block. Indexing
    with a slice, a row or row indices reads just those rows; ``np.asarray`` reads the whole
    split (refused beyond ``MAX_LOADED_BYTES``)."""

    ndim = 2

    def __init__(self, source: Source, name: str, split: str):
        self.source, self.name, self.split = source, name, split
        self.shape = source.shape
        self.dtype = np.dtype(source.array.dtype)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, key) -> np.ndarray:
        m = len(self)
        if isinstance(key, slice):
            start, stop, step = key.indices(m)
            if step == 1:
                return self.source.read(start, max(start, stop))
            key = np.arange(start, stop, step)
        if isinstance(key, (int, np.integer)) and not isinstance(key, (bool, np.bool_)):
            if not -m <= key < m:
                raise IndexError(f"row {key} is out of range for the {self.split} split of {self.name} ({m} rows)")
            return self[int(key) % m : int(key) % m + 1][0]
        rows = np.asarray(key)
        if rows.dtype == bool:
            rows = np.flatnonzero(rows)
        if rows.dtype.kind not in "iu" or rows.ndim != 1:
            raise IndexError(f"the {self.split} split of {self.name} is indexed by a slice, a row or row indices, got {key!r}")
        if len(rows) and not (-m <= rows.min() and rows.max() < m):
            raise IndexError(f"row indices out of range for the {self.split} split of {self.name} ({m} rows)")
        unique, inverse = np.unique(rows % max(m, 1), return_inverse=True)
        return self.source.subset(unique).read(0, len(unique))[inverse.reshape(-1)]

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        need = self.shape[0] * self.shape[1] * 8
        if need > MAX_LOADED_BYTES:
            raise DatasetError(
                f"{self.name}: the {self.split} split ({self.shape[0]} × {self.shape[1]}, {need / 2**30:.1f} GiB as "
                f"float64) is read from disk block by block and not loaded whole (limit "
                f"{MAX_LOADED_BYTES / 2**30:g} GiB); use a smaller --limit for what needs it in memory"
            )
        rows = self[:]
        return rows if dtype is None else rows.astype(dtype, copy=False)

    def __repr__(self):
        return f"StreamedRows({self.name!r}, {self.split}, shape={self.shape}, dtype={self.dtype})"


def streamed_paths(kind: str, rest: str) -> tuple[list[str], list[str]]:
    """(paths, array names) of a streamed data-set name after its prefix: ``npy:X.npy,y.npy``
    (two files), ``hdf5:FILE`` or ``hdf5:FILE:X,y`` (datasets X and y, or the two named, group
    paths allowed), ``zarr:DIR`` or ``zarr:DIR:X,y`` (arrays of the group at DIR)."""
    rest = rest.strip()
    if kind == "npy":
        x_path, sep, y_path = rest.rpartition(",")
        if not sep or not x_path.strip() or not y_path.strip():
            raise DatasetError(f"npy:{rest} needs the X file and the y file, comma separated: npy:X.npy,y.npy")
        return [x_path.strip(), y_path.strip()], ["X", "y"]
    path, sep, names = rest.rpartition(":")
    if not sep or "," not in names:
        path, names = rest, "X,y"
    parts = [n.strip() for n in names.split(",")]
    if len(parts) != 2 or not all(parts):
        raise DatasetError(f"{kind}:{rest}: expected two array names after the path, e.g. {kind}:{path}:X,y")
    if not path:
        example = "data.h5" if kind == "hdf5" else "data.zarr"
        raise DatasetError(f"{kind}: needs a path, e.g. {kind}:{example} or {kind}:{example}:X,y")
    return [path], parts


def _open_streamed(kind: str, rest: str) -> tuple[object, np.ndarray, str, str]:
    """(X unread, y loaded, where X is, where y is) of a streamed data set."""
    paths, names = streamed_paths(kind, rest)
    if kind == "npy":
        (x_path, y_path) = (_data_file(p, "npy") for p in paths)
        return _npy(x_path), np.asarray(_npy(y_path)), str(x_path), str(y_path)
    if kind == "hdf5":
        try:
            import h5py
        except ImportError:
            raise DatasetError("hdf5: data sets need h5py: pip install 'deltaprop[scale]'") from None
        p = _data_file(paths[0], "hdf5")
        try:
            group = h5py.File(p, "r")  # stays open while X is read (closed with its last reference)
        except Exception as exc:  # not HDF5, damaged
            raise DatasetError(f"{p}: not a readable HDF5 file ({type(exc).__name__}: {exc})") from None
        arrays = [_member(group, name, p, "dataset", h5py.Dataset) for name in names]
    else:
        try:
            import zarr
        except ImportError:
            raise DatasetError("zarr: data sets need zarr: pip install 'deltaprop[scale]'") from None
        p = Path(paths[0]).expanduser()
        if not p.is_dir():
            what = f"{p} is not a directory" if p.exists() else f"zarr directory not found: {p}"
            raise DatasetError(f"{what}; expected a Zarr group (a directory) holding arrays {names[0]} and {names[1]}")
        try:
            group = zarr.open_group(str(p), mode="r")
        except Exception as exc:
            raise DatasetError(f"{p}: not a readable Zarr group ({type(exc).__name__}: {exc})") from None
        arrays = [_member(group, name, p, "array", zarr.Array) for name in names]
    X, y = arrays
    try:
        y = np.asarray(y[...])
    except Exception as exc:
        raise DatasetError(f"{p}:{names[1]}: cannot read the targets ({type(exc).__name__}: {exc})") from None
    return X, y, f"{p}:{names[0]}", f"{p}:{names[1]}"


def _npy(path: Path):
    """The .npy array at ``path`` as a read-only memory map (nothing read but its header)."""
    try:
        array = np.load(path, mmap_mode="r", allow_pickle=False)
    except Exception as exc:  # not .npy, damaged, truncated, Python objects
        raise DatasetError(f"{path}: not a readable .npy array ({type(exc).__name__}: {exc}); "
                           "expected a numeric array saved with np.save") from None
    if not isinstance(array, np.ndarray):
        array.close()
        raise DatasetError(f"{path}: is a .npz archive; npy: takes two .npy files (use npz:{path} for an archive)")
    return array


def _member(group, name: str, path: Path, kind: str, cls):
    """Array ``name`` of an open HDF5 file or Zarr group, refused unless it is one."""
    try:
        member = group[name]
    except (KeyError, ValueError, TypeError):
        member = None
    if not isinstance(member, cls):
        found = ", ".join(sorted(map(str, group.keys()))) or "none"
        what = f"no {kind} {name!r}" if member is None else f"{name!r} is a group, not a {kind}"
        raise DatasetError(f"{path}: {what} (found: {found}); name X and y after the path, "
                           f"e.g. {'hdf5' if kind == 'dataset' else 'zarr'}:{path}:X,y")
    return member


def _load_streamed(kind: str, rest: str, *, limit, task, test_fraction, validation_fraction, seed) -> Dataset:
    """A data set whose X stays on disk: split by index (as ``_split_three`` splits rows, from the
    same seed), each split a ``StreamedRows`` view; the targets are loaded."""
    from .sources import Source

    name = f"{kind}:{rest}"
    X, y, x_where, y_where = _open_streamed(kind, rest)
    shape, dtype = tuple(X.shape), np.dtype(X.dtype)
    if len(shape) != 2:
        raise DatasetError(f"{x_where}: X must be 2-D (n_samples, n_features), got shape {shape}")
    if dtype.kind not in "biuf":
        raise DatasetError(f"{x_where}: X must be numeric, got dtype {dtype}")
    if shape[0] == 0 or shape[1] == 0:
        what = "no rows" if shape[0] == 0 else "no feature columns"
        raise DatasetError(f"{x_where}: X has {what}, shape {shape}; expected at least one example and one feature")
    y = _npz_targets(y, "y", shape[0], Path(y_where))
    n = shape[0] if limit is None else min(limit, shape[0])
    _check_split_room(n, name, test_fraction, validation_fraction, limit)
    task, classes, y, reason = _encode_targets(y[:n], task, y_where)
    parts = _split_three(np.arange(n), y, task=task, test_fraction=test_fraction,
                         validation_fraction=validation_fraction, seed=seed)
    views = []
    for split, rows, y_split in zip(("train", "validation", "test"), parts[0::2], parts[1::2]):
        order = np.argsort(rows, kind="stable")  # a view reads its rows in ascending order
        views += [StreamedRows(Source(X, rows[order], name="X"), name, split), y_split[order]]
    pixel_max = 255.0 if dtype == np.uint8 else None  # (by its dtype: the values are not read)
    return Dataset(
        name, *views, task=task, classes=classes, task_reason=reason, pixel_max=pixel_max,
        image_shape=None if pixel_max is None else square_image_shape(shape[1]),
        description=f"{Path(x_where).name}: {n} examples, {shape[1]} features ({task}), read from disk in blocks",
    )
