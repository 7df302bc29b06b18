import gzip
import hashlib
import http.server
import os
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
import tracemalloc
import zipfile
import zlib
from functools import partial
from pathlib import Path

import numpy as np
import pytest

import deltaprop
from deltaprop import datasets
from deltaprop.datasets import (
    FASHION_MNIST_CLASS_NAMES,
    MNIST_SHA256,
    ChecksumError,
    Dataset,
    DatasetError,
    DownloadError,
    IDXError,
    available_datasets,
    default_cache_dir,
    load_dataset,
    load_idx,
)

REAL_MNIST = Path("/work/shared/data/mnist")
needs_real_mnist = pytest.mark.skipif(
    not (REAL_MNIST / "t10k-images-idx3-ubyte.gz").is_file(),
    reason="the real MNIST t10k files are not on this machine",
)

TOYS = {"moons": (600, 2), "circles": (600, 2), "xor": (600, 2), "spiral": (900, 3)}


def all_y(d):
    return np.concatenate([d.y_train, d.y_val, d.y_test])


# --------------------------------------------------------------------------- built-in sets


@pytest.mark.parametrize("name", ["digits", *TOYS])
def test_builtin_sets_have_the_documented_shape(name):
    d = load_dataset(name)
    total, k = (1797, 10) if name == "digits" else TOYS[name]
    n_features = 64 if name == "digits" else 2
    assert isinstance(d, Dataset) and d.name == name and d.task == "classification"
    assert len(d.X_train) + len(d.X_val) + len(d.X_test) == total
    for X, y in ((d.X_train, d.y_train), (d.X_val, d.y_val), (d.X_test, d.y_test)):
        assert X.dtype == np.float64 and X.ndim == 2 and X.shape[1] == n_features
        assert y.dtype == np.int64 and y.shape == (len(X),)
    assert d.n_features == n_features and d.n_classes == k == d.n_outputs
    np.testing.assert_array_equal(d.classes, np.arange(k))
    assert set(all_y(d)) == set(range(k))
    assert d.description and "\n" not in d.description
    assert len(d.feature_names) == n_features


def test_digits_are_8x8_images_with_pixels_0_to_16():
    d = load_dataset("digits")
    assert d.image_shape == (8, 8) and d.pixel_max == 16.0
    assert d.X_train.min() == 0.0 and d.X_train.max() == 16.0
    assert d.feature_names[:2] == ["pixel_0_0", "pixel_0_1"]
    assert load_dataset("moons").image_shape is None


def test_toy_sets_look_like_their_names():
    xor = load_dataset("xor")
    X, y = xor.X_train, xor.y_train
    np.testing.assert_array_equal(y, (X[:, 0] * X[:, 1] < 0).astype(int))
    circles = load_dataset("circles")
    radius = np.hypot(*circles.X_train.T)
    assert radius[circles.y_train == 1].mean() < radius[circles.y_train == 0].mean()
    spiral = load_dataset("spiral")
    assert np.abs(spiral.X_train).max() <= 1.0 + 1e-12


def test_split_sizes_follow_the_fractions():
    d = load_dataset("digits", test_fraction=0.25, validation_fraction=0.15)
    n = 1797
    assert len(d.X_test) == int(np.ceil(0.25 * n))
    assert abs(len(d.X_val) - 0.15 * n) <= 1
    d = load_dataset("moons", validation_fraction=0)
    assert d.X_val.shape == (0, 2) and d.y_val.shape == (0,)
    assert len(d.X_train) + len(d.X_test) == 600


def test_splits_are_stratified():
    d = load_dataset("digits", test_fraction=0.2, validation_fraction=0.2)
    overall = np.bincount(all_y(d)) / len(all_y(d))
    for y in (d.y_train, d.y_val, d.y_test):
        expected = overall * len(y)
        assert np.all(np.abs(np.bincount(y, minlength=10) - expected) <= 1.0)


def test_splits_are_disjoint_and_cover_the_data():
    d = load_dataset("digits")
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])
    from sklearn.datasets import load_digits

    original = load_digits().data
    as_set = lambda A: sorted(map(bytes, A))  # noqa: E731
    assert as_set(rows) == as_set(original)


def test_same_seed_same_data_other_seed_other_split():
    a, b = load_dataset("spiral", seed=3), load_dataset("spiral", seed=3)
    for field in ("X_train", "y_train", "X_val", "y_val", "X_test", "y_test"):
        np.testing.assert_array_equal(getattr(a, field), getattr(b, field))
    c = load_dataset("spiral", seed=4)
    assert not np.array_equal(a.X_train, c.X_train)
    d1 = load_dataset("digits", seed=np.random.default_rng(5))
    d2 = load_dataset("digits", seed=np.random.default_rng(5))
    np.testing.assert_array_equal(d1.X_test, d2.X_test)


@pytest.mark.parametrize("name", ["digits", *TOYS])
def test_limit_keeps_the_first_examples_of_every_class(name):
    d = load_dataset(name, limit=100)
    assert len(d.X_train) + len(d.X_val) + len(d.X_test) == 100
    assert set(d.y_train) == set(range(d.n_classes))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (dict(test_fraction=1.0), r"test_fraction must be in \[0, 1\), got 1.0"),
        (dict(validation_fraction=-0.1), "validation_fraction must be in"),
        (dict(test_fraction=0.6, validation_fraction=0.4), "must be below 1"),
        (dict(test_fraction="a lot"), "test_fraction must be a number"),
        (dict(seed=1.5), "seed must be an int or a numpy.random.Generator"),
        (dict(limit=0), "limit must be a positive integer"),
        (dict(task="clustering"), "task must be one of classification, multilabel, regression"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises(DatasetError, match=message):
        load_dataset("digits", **kwargs)


def test_unknown_name_lists_the_valid_ones():
    with pytest.raises(ValueError) as e:
        load_dataset("cifar10")
    message = str(e.value)
    assert "unknown data set 'cifar10'" in message
    for name in ("digits", "mnist", "fashion-mnist", "csv:PATH", "npz:PATH", "moons", "circles", "xor", "spiral"):
        assert name in message
    assert set(available_datasets()) >= {"digits", "mnist", "spiral"}


def test_dataset_validates_its_arrays():
    X, y = np.zeros((4, 2)), np.zeros(4, dtype=np.int64)
    with pytest.raises(DatasetError, match="task must be"):
        Dataset("x", X, y, X, y, X, y, task="ranking", classes=np.arange(2))
    with pytest.raises(DatasetError, match=r"X_val must have shape \(m, 2\), got \(4, 3\)"):
        Dataset("x", X, y, np.zeros((4, 3)), y, X, y, task="classification", classes=np.arange(2))
    with pytest.raises(DatasetError, match="X_test has 4 rows but y_test has 3"):
        Dataset("x", X, y, X, y, X, y[:3], task="classification", classes=np.arange(2))
    with pytest.raises(DatasetError, match="needs classes"):
        Dataset("x", X, y, X, y, X, y, task="classification")
    r = Dataset("r", X, np.zeros((4, 2)), X, np.zeros((4, 2)), X, np.zeros((4, 2)), task="regression")
    assert r.n_classes is None and r.n_outputs == 2


# --------------------------------------------------------------------------- CSV


def write(path, text):
    path.write_text(text)
    return path


IRIS_LIKE = """sepal_length,sepal_width,species
5.1,3.5,setosa
4.9,3.0,setosa
7.0,3.2,versicolor
6.4,3.2,versicolor
6.3,3.3,virginica
5.8,2.7,virginica
""" + "".join(f"{5 + i / 10},{3 + i / 20},{['setosa', 'versicolor', 'virginica'][i % 3]}\n" for i in range(24))


def test_csv_with_string_labels(tmp_path):
    path = write(tmp_path / "iris.csv", IRIS_LIKE)
    d = load_dataset(f"csv:{path}")
    assert d.task == "classification"
    np.testing.assert_array_equal(d.classes, ["setosa", "versicolor", "virginica"])
    assert d.feature_names == ["sepal_length", "sepal_width"]
    assert len(d.X_train) + len(d.X_val) + len(d.X_test) == 30
    rows = np.concatenate([d.X_train, d.X_val, d.X_test])
    labels = d.classes[np.concatenate([d.y_train, d.y_val, d.y_test])]
    assert ((rows == [5.1, 3.5]).all(axis=1) & (labels == "setosa")).sum() == 1
    assert ((rows == [6.3, 3.3]).all(axis=1) & (labels == "virginica")).sum() == 1


def test_csv_label_by_name_index_or_index_string(tmp_path):
    path = write(tmp_path / "d.csv", "y,a,b\n" + "".join(f"{i % 2},{i},{-i}\n" for i in range(20)))
    by_name = load_dataset(f"csv:{path}", label="y", seed=1)
    by_index = load_dataset(f"csv:{path}", label=0, seed=1)
    by_text = load_dataset(f"csv:{path}", label="0", seed=1)
    by_negative = load_dataset(f"csv:{path}", label=-3, seed=1)
    for d in (by_index, by_text, by_negative):
        np.testing.assert_array_equal(d.X_train, by_name.X_train)
        np.testing.assert_array_equal(d.y_train, by_name.y_train)
    assert by_name.feature_names == ["a", "b"]
    assert by_name.task == "classification"
    np.testing.assert_array_equal(by_name.classes, [0, 1])
    assert by_name.classes.dtype.kind == "i"
    X = np.concatenate([by_name.X_train, by_name.X_val, by_name.X_test])
    y = np.concatenate([by_name.y_train, by_name.y_val, by_name.y_test])
    np.testing.assert_array_equal(y, X[:, 0] % 2)  # labels stayed with their rows


def test_csv_regression_and_task_override(tmp_path):
    rows = "".join(f"{i},{2 * i},{0.5 * i + 0.25}\n" for i in range(40))
    path = write(tmp_path / "r.csv", "x1,x2,target\n" + rows)
    d = load_dataset(f"csv:{path}")
    assert d.task == "regression" and d.classes is None
    assert d.y_train.dtype == np.float64 and d.n_outputs == 1
    np.testing.assert_allclose(d.y_train, d.X_train[:, 0] * 0.5 + 0.25)
    many = write(tmp_path / "many.csv", "x,count\n" + "".join(f"{i},{i}\n" for i in range(60)))
    # integer labels are classes whatever their number (deltaprop.targets.infer_task) ...
    assert load_dataset(f"csv:{many}", test_fraction=0.5, validation_fraction=0).n_classes == 60
    # ... unless the task says otherwise
    counts = load_dataset(f"csv:{many}", task="regression")
    assert counts.task == "regression" and counts.task_reason == "chosen explicitly"


def test_csv_whitespace_blank_lines_and_float_integer_labels(tmp_path):
    text = "a , b ,label\n 1, 2, 1.0\n\n3,4,0.0\n5 ,6,1.0\n7,8,0.0\n9,10,1.0\n11,12,0.0\n"
    d = load_dataset(f"csv:{write(tmp_path / 'w.csv', text)}", test_fraction=0.34, validation_fraction=0)
    assert d.feature_names == ["a", "b"]
    assert len(d.X_train) + len(d.X_test) == 6
    np.testing.assert_array_equal(d.classes, [0, 1])
    assert d.classes.dtype.kind == "i"


@pytest.mark.parametrize(
    "text, kwargs, message",
    [
        ("", {}, "the file is empty"),
        ("a,b,c\n", {}, "has a header but no data rows"),
        ("a,b,c\n1,2,x\n3,4\n", {}, r"line 3: 2 values but the header has 3 columns"),
        ("a,b,c\n1,2,x\n3,oops,y\n", {}, r"line 3, column 'b': 'oops' is not a finite number"),
        ("a,b,c\n1,2,x\n3,nan,y\n", {}, r"line 3, column 'b': 'nan' is not a finite number"),
        ("a,b,c\n1,,x\n", {}, r"line 2, column 'b': '' is not a finite number"),
        ("a,b,c\n1,2,x\n", {"label": "species"}, r"no column named 'species'; columns are: 'a', 'b', 'c'"),
        ("a,b,c\n1,2,x\n", {"label": 5}, r"label column index 5 is out of range for 3 columns"),
        ("a,b,c\n1,2,x\n3,4, \n", {}, r"line 3: the label column 'c' is empty"),
        ("a\n1\n", {}, "needs at least one feature column and one label column"),
        ("a,b,c\n1,2,x\n", {"task": "regression"}, "regression needs numeric targets"),
    ],
)
def test_csv_errors_say_where(tmp_path, text, kwargs, message):
    path = write(tmp_path / "bad.csv", text)
    with pytest.raises(DatasetError, match=message) as e:
        load_dataset(f"csv:{path}", **kwargs)
    assert str(path) in str(e.value)


def test_csv_missing_file_and_missing_path(tmp_path):
    with pytest.raises(DatasetError, match=f"csv file not found: {tmp_path / 'nope.csv'}"):
        load_dataset(f"csv:{tmp_path / 'nope.csv'}")
    with pytest.raises(DatasetError, match="needs a path"):
        load_dataset("csv:")
    with pytest.raises(DatasetError, match="is not a file"):
        load_dataset(f"csv:{tmp_path}")
    (tmp_path / "bin.csv").write_bytes(b"\xff\xfe\x00\x81garbage")
    with pytest.raises(DatasetError, match="not a UTF-8 text file"):
        load_dataset(f"csv:{tmp_path / 'bin.csv'}")


def test_small_classes_fall_back_to_an_unstratified_split(tmp_path):
    text = "a,label\n" + "".join(f"{i},{'rare' if i == 0 else 'common'}\n" for i in range(20))
    d = load_dataset(f"csv:{write(tmp_path / 's.csv', text)}")
    assert len(all_y(d)) == 20 and d.n_classes == 2


# --------------------------------------------------------------------------- NPZ


def test_npz_with_X_and_y(tmp_path, rng):
    X = rng.normal(size=(50, 3))
    y = np.array(["no", "yes"])[(X[:, 0] > 0).astype(int)]
    np.savez(tmp_path / "d.npz", X=X, y=y)
    d = load_dataset(f"npz:{tmp_path / 'd.npz'}", seed=2)
    np.testing.assert_array_equal(d.classes, ["no", "yes"])
    assert len(d.X_test) == 10 and len(d.X_val) == 5
    np.testing.assert_array_equal(d.classes[d.y_train], np.where(d.X_train[:, 0] > 0, "yes", "no"))


def test_npz_with_its_own_test_split_is_used_as_given(tmp_path, rng):
    X_train, X_test = rng.normal(size=(40, 4)), rng.normal(size=(9, 4))
    y_train, y_test = rng.integers(0, 3, 40), np.array([2, 0, 1, 2, 0, 1, 2, 0, 1])
    np.savez(tmp_path / "s.npz", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test)
    d = load_dataset(f"npz:{tmp_path / 's.npz'}", validation_fraction=0.25)
    np.testing.assert_array_equal(d.X_test, X_test)
    np.testing.assert_array_equal(d.classes[d.y_test], y_test)
    assert len(d.X_train) == 30 and len(d.X_val) == 10
    # a given validation split is used too; a lone X_val without y_val is ignored
    np.savez(tmp_path / "v.npz", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
             X_val=X_test[:3], y_val=y_test[:3])
    d = load_dataset(f"npz:{tmp_path / 'v.npz'}")
    np.testing.assert_array_equal(d.X_val, X_test[:3])
    assert len(d.X_train) == 40
    np.savez(tmp_path / "lone.npz", X_train=X_train, y_train=y_train, X_test=X_test, y_test=y_test,
             X_val=X_test[:3])
    assert len(load_dataset(f"npz:{tmp_path / 'lone.npz'}", validation_fraction=0.25).X_val) == 10


def test_npz_images_and_regression_targets(tmp_path, rng):
    X = rng.integers(0, 256, size=(30, 5, 4)).astype(np.uint8)
    y = rng.normal(size=(30, 2))
    np.savez(tmp_path / "img.npz", X=X, y=y)
    d = load_dataset(f"npz:{tmp_path / 'img.npz'}")
    assert d.image_shape == (5, 4) and d.n_features == 20
    assert d.task == "regression" and d.y_train.shape[1] == 2 and d.n_outputs == 2


def test_npz_errors(tmp_path):
    np.savez(tmp_path / "keys.npz", features=np.ones((3, 2)), target=np.ones(3))
    with pytest.raises(DatasetError, match=r"expected arrays X and y, or X_train, y_train, X_test and y_test; found: features, target"):
        load_dataset(f"npz:{tmp_path / 'keys.npz'}")

    np.savez(tmp_path / "pickled.npz", X=np.ones((4, 2)), y=np.array([1, "a", None, 2.0], dtype=object))
    with pytest.raises(DatasetError, match=r"array 'y' holds Python objects .* allow_pickle=False"):
        load_dataset(f"npz:{tmp_path / 'pickled.npz'}")

    np.savez(tmp_path / "short.npz", X=np.ones((4, 2)), y=np.ones(3))
    with pytest.raises(DatasetError, match=r"y must hold one target per example \(4\), got shape \(3,\)"):
        load_dataset(f"npz:{tmp_path / 'short.npz'}")

    np.savez(tmp_path / "text.npz", X=np.array([["a", "b"]] * 4), y=np.ones(4))
    with pytest.raises(DatasetError, match="X must be numeric"):
        load_dataset(f"npz:{tmp_path / 'text.npz'}")

    (tmp_path / "junk.npz").write_bytes(b"this is not a zip archive at all")
    with pytest.raises(DatasetError, match="not a readable .npz file"):
        load_dataset(f"npz:{tmp_path / 'junk.npz'}")

    np.save(tmp_path / "single.npy", np.ones(3))
    with pytest.raises(DatasetError, match="single .npy array"):
        load_dataset(f"npz:{tmp_path / 'single.npy'}")

    with pytest.raises(DatasetError, match="npz file not found"):
        load_dataset(f"npz:{tmp_path / 'missing.npz'}")


# --------------------------------------------------------------------------- IDX reader


def idx_bytes(arr: np.ndarray) -> bytes:
    """An IDX file for ``arr``, written from the format description (independent of load_idx)."""
    codes = {np.dtype("u1"): 0x08, np.dtype("i1"): 0x09, np.dtype("i2"): 0x0B,
             np.dtype("i4"): 0x0C, np.dtype("f4"): 0x0D, np.dtype("f8"): 0x0E}
    head = struct.pack(">BBBB", 0, 0, codes[arr.dtype], arr.ndim)
    head += struct.pack(f">{arr.ndim}I", *arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


@needs_real_mnist
def test_load_idx_reads_the_real_mnist_test_set(tmp_path):
    images = load_idx(REAL_MNIST / "t10k-images-idx3-ubyte.gz")
    labels = load_idx(REAL_MNIST / "t10k-labels-idx1-ubyte.gz")
    assert images.shape == (10000, 28, 28) and images.dtype == np.uint8
    assert images.min() == 0 and images.max() == 255
    assert labels.shape == (10000,) and set(labels) == set(range(10))
    np.testing.assert_array_equal(labels[:10], [7, 2, 1, 0, 4, 1, 4, 9, 5, 9])
    assert np.bincount(labels)[1] == 1135
    raw = tmp_path / "t10k-labels-idx1-ubyte"
    raw.write_bytes(gzip.decompress((REAL_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes()))
    np.testing.assert_array_equal(load_idx(raw), labels)


@needs_real_mnist
def test_truncated_real_files_are_clear_errors(tmp_path):
    gz = (REAL_MNIST / "t10k-images-idx3-ubyte.gz").read_bytes()
    cut = tmp_path / "cut.gz"
    cut.write_bytes(gz[: len(gz) // 3])
    with pytest.raises(IDXError, match="corrupt or truncated gzip data"):
        load_idx(cut)
    raw = gzip.decompress((REAL_MNIST / "t10k-labels-idx1-ubyte.gz").read_bytes())
    cut_raw = tmp_path / "cut-labels"
    cut_raw.write_bytes(raw[:-1])
    with pytest.raises(IDXError, match=r"truncated IDX file: shape \(10000,\) needs 10000 data bytes, found 9999"):
        load_idx(cut_raw)


@pytest.mark.parametrize("dtype", ["u1", "i1", "i2", "i4", "f4", "f8"])
def test_load_idx_every_element_type(tmp_path, dtype, rng):
    arr = (rng.normal(size=(3, 4, 2)) * 100).astype(dtype)
    path = tmp_path / "x.idx"
    path.write_bytes(idx_bytes(arr))
    out = load_idx(path)
    assert out.dtype == np.dtype(dtype) and out.dtype.isnative
    np.testing.assert_array_equal(out, arr)
    out[0, 0, 0] = 1  # writable
    gz = tmp_path / "x.idx.gz"
    gz.write_bytes(gzip.compress(idx_bytes(arr)))
    np.testing.assert_array_equal(load_idx(gz), arr)


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "too short for an IDX file"),
        (b"PK\x03\x04 this is a zip", r"not an IDX file \(magic number 504b0304"),
        (b"\x00\x00\x07\x01" + b"\x00" * 8, "not an IDX file"),
        (b"\x00\x00\x08\x03\x00\x00", r"truncated IDX header \(6 bytes, expected 16\)"),
        (b"\x00\x00\x08\x01\x00\x00\x00\x03" + b"abcd", "1 unexpected bytes after the data"),
        (b"\x1f\x8b\x08\x00garbage", "corrupt or truncated gzip data"),
    ],
)
def test_load_idx_rejects_foreign_bytes(tmp_path, content, message):
    path = tmp_path / "foreign"
    path.write_bytes(content)
    with pytest.raises(IDXError, match=message) as e:
        load_idx(path)
    assert isinstance(e.value, ValueError) and str(path) in str(e.value)


def test_load_idx_missing_file(tmp_path):
    with pytest.raises(IDXError, match="no such IDX file"):
        load_idx(tmp_path / "absent")


# --------------------------------------------------------------------------- MNIST-style sets


def fake_mnist(folder: Path, n_train=60, n_test=20, gz=True, seed=0) -> dict:
    """Tiny synthetic MNIST files in ``folder``; returns {file name: sha256}."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    arrays = {
        "train-images-idx3-ubyte": rng.integers(0, 256, (n_train, 28, 28)).astype(np.uint8),
        "train-labels-idx1-ubyte": (np.arange(n_train) % 10).astype(np.uint8),
        "t10k-images-idx3-ubyte": rng.integers(0, 256, (n_test, 28, 28)).astype(np.uint8),
        "t10k-labels-idx1-ubyte": (np.arange(n_test) % 10).astype(np.uint8),
    }
    hashes = {}
    for stem, arr in arrays.items():
        data = idx_bytes(arr)
        name = stem + (".gz" if gz else "")
        if gz:
            data = gzip.compress(data, mtime=0)
        (folder / name).write_bytes(data)
        hashes[name] = hashlib.sha256(data).hexdigest()
    return hashes


@pytest.mark.parametrize("gz", [True, False])
def test_mnist_from_data_dir(tmp_path, gz):
    fake_mnist(tmp_path / "data", gz=gz)
    d = load_dataset("mnist", data_dir=tmp_path / "data", download=False,
                     cache_dir=tmp_path / "cache", validation_fraction=0.5)
    assert d.image_shape == (28, 28) and d.n_features == 784 and d.pixel_max == 255.0
    assert len(d.X_test) == 20 and len(d.X_train) == 30 and len(d.X_val) == 30
    np.testing.assert_array_equal(d.classes, np.arange(10))
    assert np.all(np.bincount(d.y_val) == 3)  # stratified: 3 of each digit
    expected_test = load_idx(next((tmp_path / "data").glob("t10k-images*"))).reshape(20, -1)
    np.testing.assert_array_equal(d.X_test, expected_test)  # the official test split, in order
    assert d.X_train.dtype == np.float64 and d.X_train.max() <= 255
    assert not (tmp_path / "cache").exists()


def test_mnist_limit_and_fashion_class_names(tmp_path):
    fake_mnist(tmp_path)
    d = load_dataset("fashion-mnist", data_dir=tmp_path, download=False, limit=40, validation_fraction=0.25)
    assert len(d.X_train) + len(d.X_val) == 40 and len(d.X_test) == 20
    assert d.class_names == FASHION_MNIST_CLASS_NAMES
    assert "Fashion" in d.description


def test_mnist_files_that_do_not_fit_together(tmp_path):
    fake_mnist(tmp_path)
    shutil.copy(tmp_path / "t10k-labels-idx1-ubyte.gz", tmp_path / "t10k-images-idx3-ubyte.gz")
    with pytest.raises(DatasetError, match="test files do not fit together"):
        load_dataset("mnist", data_dir=tmp_path, download=False)


def test_missing_files_with_download_off_say_where_to_put_them(tmp_path):
    with pytest.raises(DownloadError) as e:
        load_dataset("mnist", data_dir=tmp_path, download=False, cache_dir=tmp_path / "cache")
    message = str(e.value)
    for stem in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"):
        assert stem + ".gz" in message
    assert "--data-dir" in message and str(tmp_path / "cache") in message
    with pytest.raises(DatasetError, match="is not a directory"):
        load_dataset("mnist", data_dir=tmp_path / "nope", download=False)


def test_default_cache_dir_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("DELTAPROP_CACHE", str(tmp_path / "c"))
    assert default_cache_dir("mnist") == tmp_path / "c" / "mnist"
    monkeypatch.delenv("DELTAPROP_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir("fashion-mnist") == tmp_path / "xdg" / "deltaprop" / "fashion-mnist"


# --------------------------------------------------------------------------- downloads (loopback)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def serve(monkeypatch):
    """serve(folder) -> base URL of an HTTP server on 127.0.0.1 serving ``folder``."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    servers = []

    def start(folder):
        server = http.server.ThreadingHTTPServer(
            ("127.0.0.1", 0), partial(QuietHandler, directory=str(folder))
        )
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def dead_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/"


def test_download_verifies_and_caches(tmp_path, serve):
    hashes = fake_mnist(tmp_path / "server")
    url = serve(tmp_path / "server")
    cache = tmp_path / "cache"
    d = load_dataset("mnist", mirror=url, cache_dir=cache, checksums=hashes)
    assert sorted(os.listdir(cache)) == sorted(hashes)  # the four files, no temp files
    for name, digest in hashes.items():
        assert hashlib.sha256((cache / name).read_bytes()).hexdigest() == digest
    assert len(d.X_test) == 20 and d.n_features == 784

    # second time: served from the cache, the (now dead) mirror is never asked
    again = load_dataset("mnist", mirror=dead_url(), cache_dir=cache, checksums=hashes)
    np.testing.assert_array_equal(again.X_test, d.X_test)


def test_download_uses_the_environment_url_and_cache(tmp_path, serve, monkeypatch):
    hashes = fake_mnist(tmp_path / "server", seed=1)
    monkeypatch.setenv("DELTAPROP_FASHION_MNIST_URL", serve(tmp_path / "server").rstrip("/"))
    monkeypatch.setenv("DELTAPROP_CACHE", str(tmp_path / "cache"))
    d = load_dataset("fashion-mnist", checksums=hashes)
    assert sorted(os.listdir(tmp_path / "cache" / "fashion-mnist")) == sorted(hashes)
    assert d.class_names[9] == "Ankle boot"


def test_hash_mismatch_against_the_builtin_checksums_deletes_the_file(tmp_path, serve):
    fake_mnist(tmp_path / "server")  # not the real MNIST, so the built-in SHA-256 cannot match
    url = serve(tmp_path / "server")
    cache = tmp_path / "cache"
    with pytest.raises(ChecksumError) as e:
        load_dataset("mnist", mirror=url, cache_dir=cache)
    message = str(e.value)
    assert "SHA-256 mismatch for train-images-idx3-ubyte.gz" in message
    assert MNIST_SHA256["train-images-idx3-ubyte.gz"] in message
    assert "deleted" in message
    assert os.listdir(cache) == []


def test_hash_mismatch_on_one_file_keeps_the_verified_ones(tmp_path, serve):
    hashes = fake_mnist(tmp_path / "server")
    url = serve(tmp_path / "server")
    wrong = dict(hashes, **{"t10k-images-idx3-ubyte.gz": "0" * 64})
    with pytest.raises(ChecksumError, match="t10k-images-idx3-ubyte.gz .* expected 0{64}, got "):
        load_dataset("mnist", mirror=url, cache_dir=tmp_path / "cache", checksums=wrong)
    assert sorted(os.listdir(tmp_path / "cache")) == ["train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"]
    # fixing the checksum fetches only what is missing
    d = load_dataset("mnist", mirror=url, cache_dir=tmp_path / "cache", checksums=hashes)
    assert len(d.X_test) == 20


def test_offline_download_names_the_files_and_the_data_dir_option(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DownloadError) as e:
        load_dataset("mnist", mirror=dead_url(), cache_dir=cache)
    message = str(e.value)
    assert "could not download MNIST" in message
    assert "train-images-idx3-ubyte.gz" in message and "t10k-labels-idx1-ubyte.gz" in message
    assert "--data-dir" in message and str(cache) in message
    assert os.listdir(cache) == []


def test_http_error_is_reported(tmp_path, serve):
    (tmp_path / "empty").mkdir()
    url = serve(tmp_path / "empty")
    with pytest.raises(DownloadError, match=r"answered HTTP 404 .*--data-dir"):
        load_dataset("mnist", mirror=url, cache_dir=tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []


def test_bare_paths_and_name_spellings(tmp_path):
    path = write(tmp_path / "iris.csv", IRIS_LIKE)
    np.testing.assert_array_equal(load_dataset(str(path)).X_test, load_dataset(f"csv:{path}").X_test)
    fake_mnist(tmp_path / "f")
    d = load_dataset("Fashion_MNIST", data_dir=tmp_path / "f", download=False)
    assert d.name == "fashion-mnist"


# --------------------------------------------------------------------------- crafted and unlucky inputs


def gzip_of_zeros(path: Path, header: bytes, n_zeros: int) -> Path:
    """A gzip file of ``header`` then ``n_zeros`` zero bytes, written in chunks (about 1000:1)."""
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    with open(path, "wb") as f:
        f.write(packer.compress(header))
        f.writelines(packer.compress(bytes(min(1 << 20, n_zeros - start))) for start in range(0, n_zeros, 1 << 20))
        f.write(packer.flush())
    return path


def npy_member(zf: zipfile.ZipFile, name: str, shape, dtype, n_bytes=None, arr=None):
    """Write ``name`` into ``zf``: ``arr``, or a .npy header for ``shape`` followed by
    ``n_bytes`` zeros (by default what the shape needs), streamed."""
    with zf.open(name, "w", force_zip64=True) as f:
        if arr is not None:
            np.lib.format.write_array(f, arr)
            return
        dtype = np.dtype(dtype)
        np.lib.format.write_array_header_1_0(
            f, {"descr": np.lib.format.dtype_to_descr(dtype), "fortran_order": False, "shape": shape}
        )
        n_bytes = int(np.prod(shape)) * dtype.itemsize if n_bytes is None else n_bytes
        for start in range(0, n_bytes, 1 << 20):
            f.write(bytes(min(1 << 20, n_bytes - start)))


def peak_traced_bytes(call):
    """(result or exception, peak bytes traced by tracemalloc while ``call`` ran)."""
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Exception as exc:  # noqa: BLE001 - returned for the test to inspect
            outcome = exc
        return outcome, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_gzipped_idx_bomb_is_refused_before_decompressing(tmp_path):
    dims = (65536, 32, 32)  # 64 MiB of zeros in a 65 kB file (~1000:1; real MNIST is 4.8:1)
    bomb = gzip_of_zeros(tmp_path / "bomb.gz", struct.pack(">BBBB3I", 0, 0, 8, 3, *dims), 64 << 20)
    outcome, peak = peak_traced_bytes(lambda: load_idx(bomb))
    assert isinstance(outcome, IDXError), outcome
    assert str(bomb) in str(outcome) and "decompression bomb" in str(outcome)
    assert "shape (65536, 32, 32)" in str(outcome) and "\n" not in str(outcome)
    assert peak < 4 << 20  # refused on the header: nothing near 64 MiB was allocated


def test_gzipped_idx_longer_than_its_header_stops_at_the_declared_size(tmp_path):
    long = gzip_of_zeros(tmp_path / "long.gz", struct.pack(">BBBBI", 0, 0, 8, 1, 10), 32 << 20)
    outcome, peak = peak_traced_bytes(lambda: load_idx(long))
    assert isinstance(outcome, IDXError) and "unexpected bytes after the data of shape (10,)" in str(outcome)
    assert peak < 4 << 20  # not the 32 MiB the stream would decompress to


@pytest.mark.parametrize(
    "header, message",
    [
        # nine dimensions of 2**32 - 1: the product overflows int64 (it has 87 digits)
        (b"\x00\x00\x08\x09" + struct.pack(">9I", *[2**32 - 1] * 9),
         f"truncated IDX file: shape ({', '.join(['4294967295'] * 9)}) needs {(2**32 - 1) ** 9} data bytes, found 0"),
        (b"\x00\x00\x0e\x03" + struct.pack(">3I", 2**32 - 1, 2**32 - 1, 16),
         f"truncated IDX file: shape (4294967295, 4294967295, 16) needs {(2**32 - 1) ** 2 * 16 * 8} data bytes"),
        (b"\x00\x00\x08\xff" + struct.pack(">255I", *[1] * 255) + b"\x00",
         r"the IDX header declares 255 dimensions (byte 3 of the magic number 000008ff); at most 32"),
    ],
)
def test_idx_headers_that_overflow_or_have_absurd_dimensions(tmp_path, header, message):
    raw = tmp_path / "bad.idx"
    raw.write_bytes(header)
    with pytest.raises(IDXError) as e:
        load_idx(raw)
    assert message in str(e.value) and str(raw) in str(e.value) and "\n" not in str(e.value)
    gz = tmp_path / "bad.idx.gz"
    gz.write_bytes(gzip.compress(header))
    with pytest.raises(IDXError, match="dimension sizes in the IDX header|255 dimensions") as e:
        load_idx(gz)
    assert str(gz) in str(e.value)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_link_to_dev_zero_is_refused_as_not_a_file(tmp_path):
    for name in ("t10k-labels-idx1-ubyte.gz", "zero.npz", "zero.csv"):
        (tmp_path / name).symlink_to("/dev/zero")
    with pytest.raises(IDXError, match=r"\(a link to /dev/zero\) is not a file: it is a character device"):
        load_idx(tmp_path / "t10k-labels-idx1-ubyte.gz")
    for kind in ("npz", "csv"):
        with pytest.raises(DatasetError, match=r"a link to /dev/zero\) is not a file: it is a character device"):
            load_dataset(f"{kind}:{tmp_path / f'zero.{kind}'}")
    fake_mnist(tmp_path / "data")
    os.remove(tmp_path / "data" / "t10k-labels-idx1-ubyte.gz")
    (tmp_path / "data" / "t10k-labels-idx1-ubyte.gz").symlink_to("/dev/zero")
    with pytest.raises(IDXError, match="character device"):  # named, not skipped or downloaded
        load_dataset("mnist", data_dir=tmp_path / "data", download=False, cache_dir=tmp_path / "cache")


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_read_npz_for_predict_refuses_a_link_to_dev_zero_and_reads_only_what_is_asked(tmp_path):
    (tmp_path / "zero.npz").symlink_to("/dev/zero")
    with pytest.raises(DatasetError) as e:  # np.load would suggest allow_pickle here
        datasets.read_npz(tmp_path / "zero.npz", ["X"])
    assert "is not a file: it is a character device" in str(e.value) and "pickle" not in str(e.value)
    with zipfile.ZipFile(tmp_path / "in.npz", "w", zipfile.ZIP_DEFLATED) as zf:
        npy_member(zf, "X.npy", None, None, arr=np.eye(3))
        npy_member(zf, "junk.npy", (16, 1024, 1024), "u1")  # a 16 MiB bomb beside it, unread
    assert list(datasets.read_npz(tmp_path / "in.npz", ["X"])) == ["X"]
    with pytest.raises(DatasetError, match=r"in.npz: no array 'y' \(found: X, junk\)"):
        datasets.read_npz(tmp_path / "in.npz", ["X", "y"])


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes here")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    fifo = tmp_path / "pipe.csv"
    os.mkfifo(fifo)
    code = (
        "from deltaprop.datasets import DatasetError, load_dataset, load_idx, read_csv_rows\n"
        f"for call in (lambda: read_csv_rows({str(fifo)!r}), lambda: load_idx({str(fifo)!r}),\n"
        f"             lambda: load_dataset('csv:' + {str(fifo)!r})):\n"
        "    try:\n"
        "        call()\n"
        "    except DatasetError as exc:\n"
        "        print(exc)\n"
    )
    package_root = str(Path(deltaprop.__file__).parents[1])  # the deltaprop under test
    env = dict(os.environ, PYTHONPATH=package_root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    try:
        done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                              timeout=30, check=False)
    except subprocess.TimeoutExpired:
        pytest.fail("reading a FIFO blocked")
    lines = done.stdout.splitlines()
    assert done.returncode == 0 and len(lines) == 3, done.stdout + done.stderr
    assert all(f"{fifo} is not a file: it is a named pipe (FIFO)" in line for line in lines)


def test_npz_deflate_bomb_is_refused_from_the_zip_directory(tmp_path):
    bomb = tmp_path / "bomb.npz"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:  # X: 32 MiB of zeros in ~32 kB
        npy_member(zf, "X.npy", (4096, 1024), "<f8")
        npy_member(zf, "y.npy", None, None, arr=np.arange(4096) % 2)
    outcome, peak = peak_traced_bytes(lambda: load_dataset(f"npz:{bomb}"))
    assert isinstance(outcome, DatasetError), outcome
    assert f"{bomb}: array 'X' would expand from" in str(outcome) and "decompression bomb" in str(outcome)
    assert peak < 4 << 20
    # a bomb in an entry that is not used is never decompressed
    unused = tmp_path / "unused.npz"
    with zipfile.ZipFile(unused, "w", zipfile.ZIP_DEFLATED) as zf:
        npy_member(zf, "X.npy", None, None, arr=np.arange(60.0).reshape(30, 2))
        npy_member(zf, "y.npy", None, None, arr=np.arange(30) % 2)
        npy_member(zf, "junk.npy", (48 << 20,), "u1")
    load_dataset(f"npz:{unused}")  # once unmeasured: importing scikit-learn costs memory too
    outcome, peak = peak_traced_bytes(lambda: load_dataset(f"npz:{unused}"))
    assert isinstance(outcome, Dataset) and peak < 16 << 20


def test_npz_header_that_overstates_its_data_is_refused_before_allocating(tmp_path):
    liar = tmp_path / "liar.npz"
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED) as zf:
        npy_member(zf, "X.npy", (10**9, 1), "<f8", n_bytes=80)  # declares 8 GB, holds 80 bytes
        npy_member(zf, "y.npy", None, None, arr=np.arange(10) % 2)
    with pytest.raises(DatasetError) as e:
        load_dataset(f"npz:{liar}")
    assert str(e.value) == (
        f"{liar}: array 'X': its .npy header declares shape (1000000000, 1) of float64 "
        f"(8000000000 bytes) but the archive member holds 80 data bytes"
    )


def test_csv_label_too_long_to_hold_as_text_is_refused(tmp_path):
    # text labels are fixed-width: one 40,000-character label among 200 would take 32 MB
    path = write(tmp_path / "long.csv", "a,b,label\n" + "1,2,x\n3,4,y\n" * 100 + "5,6," + "z" * 40_000 + "\n")
    outcome, peak = peak_traced_bytes(lambda: load_dataset(f"csv:{path}"))
    assert isinstance(outcome, DatasetError), outcome
    assert f"{path}, line 202: the label in column 'label' is 40000 characters long" in str(outcome)
    assert peak < 16 << 20


@pytest.mark.parametrize("kwargs", [{}, {"task": "classification"}])
def test_a_single_class_is_refused_at_load(tmp_path, kwargs):
    path = write(tmp_path / "one.csv", "a,b,label\n" + "".join(f"{i},{2 * i},a\n" for i in range(20)))
    with pytest.raises(DatasetError, match=r"only one class \('a'\) in .*classification needs at least two") as e:
        load_dataset(f"csv:{path}", **kwargs)
    assert str(path) in str(e.value) and "'label'" in str(e.value)
    np.savez(tmp_path / "one.npz", X=np.ones((10, 2)), y=np.full(10, 3))
    with pytest.raises(DatasetError, match=r"only one class \(3\)"):
        load_dataset(f"npz:{tmp_path / 'one.npz'}", **kwargs)


def test_too_few_rows_say_how_many_there_are_and_how_many_the_split_needs(tmp_path):
    path = write(tmp_path / "two.csv", "a,b,label\n1,2,x\n3,4,y\n")
    with pytest.raises(DatasetError) as e:
        load_dataset(f"csv:{path}")
    message = str(e.value)
    assert message.startswith(f"csv:{path}: 2 rows are too few to split with test_fraction 0.2 and validation_fraction 0.1")
    assert "at least 3 rows" in message and "lower the fractions" in message
    with pytest.warns(UserWarning, match="no examples of the classes"):  # one class each
        d = load_dataset(f"csv:{path}", test_fraction=0.5, validation_fraction=0)  # as suggested
    assert len(d.X_train) == len(d.X_test) == 1
    with pytest.raises(DatasetError, match=r"^digits: 2 rows \(limit=2\) are too few .* at least 3 rows"):
        load_dataset("digits", limit=2)
    fake_mnist(tmp_path / "m")
    with pytest.raises(DatasetError, match=r"MNIST training set .*: 1 row \(limit=1\) is too few to split with validation_fraction 0.1.* at least 2 rows"):
        load_dataset("mnist", data_dir=tmp_path / "m", download=False, limit=1)


@pytest.mark.parametrize("shape, message", [((0, 5), "X has no rows"), ((5, 0), "X has no feature columns")])
def test_npz_without_rows_or_columns(tmp_path, shape, message):
    np.savez(tmp_path / "empty.npz", X=np.zeros(shape), y=np.arange(shape[0]) % 2)
    with pytest.raises(DatasetError) as e:
        load_dataset(f"npz:{tmp_path / 'empty.npz'}")
    assert f"empty.npz: {message}" in str(e.value) and f"shape {shape}" in str(e.value)


def test_classes_missing_from_the_training_split_are_a_warning(tmp_path, rng):
    X = rng.normal(size=(26, 2))
    np.savez(tmp_path / "s.npz", X_train=X[:20], y_train=np.arange(20) % 2, X_test=X[20:],
             y_test=np.array(["0", "1", "2", "0", "1", "7"]).astype(int))
    with pytest.warns(UserWarning, match=r"training split has no examples of the classes \[2, 7\] \(in the test split\)"):
        d = load_dataset(f"npz:{tmp_path / 's.npz'}")
    assert d.n_classes == 4
    fake_mnist(tmp_path / "m")  # digits 0..9 in order: the first 5 training images miss 5..9
    with pytest.warns(UserWarning, match=r"mnist: .*classes \[5, 6, 7, 8, 9\] \(in the test split\)"):
        load_dataset("mnist", data_dir=tmp_path / "m", download=False, limit=5, validation_fraction=0)


def test_csv_missing_value_among_numeric_labels_is_named(tmp_path):
    text = "a,b,label\n" + "".join(f"{i},{2 * i},{i % 2}\n" for i in range(10)) + "10,20,None\n11,22,1\n"
    path = write(tmp_path / "gap.csv", text)
    with pytest.raises(DatasetError) as e:
        load_dataset(f"csv:{path}")
    assert str(e.value).startswith(f"{path}, line 12: the label column 'label' holds 'None', a missing value")


def test_data_dir_with_only_some_files_names_them_and_downloads_nothing(tmp_path, serve):
    hashes = fake_mnist(tmp_path / "server")
    url = serve(tmp_path / "server")
    fake_mnist(tmp_path / "partial")
    for stem in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"):
        os.remove(tmp_path / "partial" / stem)
    cache = tmp_path / "cache"
    with pytest.raises(DatasetError) as e:
        load_dataset("mnist", data_dir=tmp_path / "partial", mirror=url, cache_dir=cache, checksums=hashes)
    message = str(e.value)
    assert "holds only some of the MNIST files" in message
    assert "missing: train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz" in message
    assert not cache.exists()


@pytest.fixture
def http_server(monkeypatch):
    """http_server(do_GET) -> base URL of a server on 127.0.0.1 answering every GET with
    ``do_GET(handler)``; the handler's ``sent`` list collects what each reply wrote."""
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"):
        monkeypatch.delenv(var, raising=False)
    servers = []

    def start(do_get):
        sent = []

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                try:
                    sent.append(do_get(self))
                except (BrokenPipeError, ConnectionResetError):
                    pass

            def log_message(self, *args):
                pass

        server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}/", sent

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def stream(handler, total, chunk=1 << 16, pause=0.0, length=None, budget_s=8.0):
    """Send up to ``total`` zero bytes (``pause`` seconds apart, for at most ``budget_s``) as
    an HTTP 200 reply; returns how many were written."""
    handler.send_response(200)
    if length is not None:
        handler.send_header("Content-Length", str(length))
    handler.end_headers()
    written, start = 0, time.monotonic()
    try:
        while written < total and time.monotonic() - start < budget_s:
            handler.wfile.write(bytes(min(chunk, total - written)))
            handler.wfile.flush()
            written += min(chunk, total - written)
            time.sleep(pause)
    except (BrokenPipeError, ConnectionResetError):
        pass
    return written


def test_slow_mirror_hits_the_overall_deadline(tmp_path, http_server, monkeypatch):
    monkeypatch.setattr(datasets, "_DOWNLOAD_DEADLINE_S", 1.0, raising=False)
    url, _ = http_server(lambda h: stream(h, 10**6, chunk=1, pause=0.05, budget_s=6))  # 20 bytes/s
    start = time.monotonic()
    with pytest.raises(DownloadError) as e:
        load_dataset("mnist", mirror=url, cache_dir=tmp_path / "cache")
    assert time.monotonic() - start < 4
    assert "too slow: the download did not finish within 1 s" in str(e.value) and "--data-dir" in str(e.value)
    assert os.listdir(tmp_path / "cache") == []


def test_oversized_download_is_cut_off_at_the_known_size(tmp_path, http_server):
    url, sent = http_server(lambda h: stream(h, 64 << 20))  # endless, as far as the client knows
    cache = tmp_path / "cache"
    fake_mnist(cache)  # all there but the training labels: the 28,881-byte file is fetched
    os.remove(cache / "train-labels-idx1-ubyte.gz")
    with pytest.raises(DownloadError, match=r"sent more than the 28881 bytes of train-labels-idx1-ubyte.gz"):
        load_dataset("mnist", mirror=url, cache_dir=cache)
    assert "train-labels-idx1-ubyte.gz" not in os.listdir(cache) and len(os.listdir(cache)) == 3
    deadline = time.monotonic() + 5
    while not sent and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sent and sent[0] < 16 << 20  # the server was cut off (socket buffers aside)


def test_content_length_over_the_known_size_is_refused_unread(tmp_path, http_server):
    url, _ = http_server(lambda h: stream(h, 16 << 20, length=300_000_000))
    with pytest.raises(DownloadError, match=r"announces 300000000 bytes \(Content-Length\), but train-images-idx3-ubyte.gz has 9912422"):
        load_dataset("mnist", mirror=url, cache_dir=tmp_path / "cache")
    assert os.listdir(tmp_path / "cache") == []
