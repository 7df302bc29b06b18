import functools
import json
import os
import stat
import zipfile

import numpy as np
import pytest

import deltaprop.modelfile as modelfile
from deltaprop import Network
from deltaprop.modelfile import (
    FORMAT_VERSION,
    Checkpoint,
    ModelFileError,
    load,
    load_checkpoint,
    read_header,
    save,
    save_checkpoint,
)
from deltaprop.preprocessing import Preprocessing


def make_net(dtype="float64", classes=None, preprocessing=True, seed=0):
    """A 4-5-3 softmax classifier with non-zero biases, preprocessing and a history."""
    rng = np.random.default_rng(seed)
    net = Network([4, 5, 3], activation="tanh", output="softmax", cost="cross_entropy",
                  seed=seed, dtype=dtype)
    net.biases = [rng.normal(size=b.shape) for b in net.biases]
    net.classes_ = None if classes is None else np.asarray(classes)
    if preprocessing:
        net.preprocessing = Preprocessing("standardize").fit(rng.normal(3.0, 2.0, size=(50, 4)))
    net.history = [
        {"epoch": 1, "loss": 1.25, "val_accuracy": 0.5},
        {"epoch": 2, "loss": np.float32(0.75), "val_accuracy": np.float64(2 / 3)},
    ]
    return net


def assert_same_net(a, b):
    assert a.config() == b.config()
    for x, y in zip(list(a.weights) + list(a.biases), list(b.weights) + list(b.biases)):
        assert x.dtype == y.dtype and x.shape == y.shape
        assert x.tobytes() == y.tobytes()  # bit for bit, -0.0 and NaN payloads included


def one_line_error(excinfo, path):
    message = str(excinfo.value)
    assert "\n" not in message
    assert str(path) in message
    # raised with "from None": no deep NumPy / zipfile traceback attached
    assert excinfo.value.__cause__ is None
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__
    return message


# --------------------------------------------------------------------------- round trips


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(
    "classes",
    [["setosa", "versicolor", "virginica"], [3, 7, 11], [0.5, 1.0, 2.5], None],
    ids=["str", "int", "float", "none"],
)
def test_round_trip_is_bit_exact_and_predicts_identically(tmp_path, dtype, classes, rng):
    net = make_net(dtype, classes)
    path = save(net, tmp_path / "model.npz")
    back = load(path)

    assert_same_net(net, back)
    X = rng.normal(size=(7, 4))
    np.testing.assert_array_equal(net.forward(X), back.forward(X))
    assert back.dtype == np.dtype(dtype)
    if classes is None:
        assert back.classes_ is None
    else:
        assert isinstance(back.classes_, np.ndarray)
        np.testing.assert_array_equal(back.classes_, net.classes_)
        assert back.classes_.dtype == net.classes_.dtype
        assert type(back.classes_[0].item()) is type(classes[0])
    assert isinstance(back.preprocessing, Preprocessing)
    assert back.preprocessing == net.preprocessing
    assert back.history == [
        {"epoch": 1, "loss": 1.25, "val_accuracy": 0.5},
        {"epoch": 2, "loss": 0.75, "val_accuracy": 2 / 3},
    ]


def test_special_float_values_survive_bit_for_bit(tmp_path):
    for dtype in ("float32", "float64"):
        net = make_net(dtype, preprocessing=False)
        tiny = np.finfo(dtype).smallest_subnormal
        W = net.weights[0].copy()
        W[0, :4] = [-0.0, tiny, np.finfo(dtype).max, -np.finfo(dtype).eps]
        net.weights[0] = W
        back = load(save(net, tmp_path / f"{dtype}.npz"))
        assert_same_net(net, back)
        assert np.signbit(back.weights[0][0, 0])


def test_bool_classes_scale_preprocessing_and_leaky_relu_slope(tmp_path):
    net = Network([2, 3, 1], activation={"name": "leaky_relu", "slope": 0.2}, output="sigmoid",
                  cost="binary_cross_entropy", init="glorot", seed=3)
    net.classes_ = np.array([False, True])
    net.preprocessing = Preprocessing("scale", max_value=255).fit(np.ones((3, 2)))
    back = load(save(net, tmp_path / "m.npz"))
    assert back.activations[0].slope == 0.2
    assert back.init == "glorot"
    assert back.classes_.dtype == np.bool_ and list(back.classes_) == [False, True]
    assert back.preprocessing == net.preprocessing and back.preprocessing.max_value == 255.0


def test_no_preprocessing_no_classes_empty_history(tmp_path):
    net = Network([3, 2], seed=1)
    back = load(save(net, tmp_path / "plain.npz"))
    assert back.preprocessing is None and back.classes_ is None and back.history == []
    assert_same_net(net, back)


def test_the_file_is_plain_npz_with_a_json_header(tmp_path):
    net = make_net(classes=["a", "b", "c"])
    path = save(net, tmp_path / "m.npz", extra_meta={"dataset": "iris", "test_accuracy": 0.97})
    with np.load(path, allow_pickle=False) as npz:
        assert set(npz.files) == {"W1", "W2", "b1", "b2", "preprocessing/mean", "preprocessing/scale",
                                  "header.json"}
        header = json.loads(str(npz["header.json"]))
    assert header["format"] == "deltaprop-model"
    assert header["format_version"] == FORMAT_VERSION == 1
    assert header["kind"] == "model"
    assert header["network"] == net.config()
    assert header["classes"] == ["a", "b", "c"]
    assert header["dataset"] == "iris" and header["test_accuracy"] == 0.97
    assert read_header(path) == header


def test_path_without_npz_suffix_is_used_as_given(tmp_path):
    path = tmp_path / "model.bin"
    save(make_net(), path)
    assert os.listdir(tmp_path) == ["model.bin"]
    assert_same_net(make_net(), load(path))


def test_new_file_gets_ordinary_permissions(tmp_path):
    reference = tmp_path / "reference"
    reference.write_bytes(b"")
    path = save(make_net(), tmp_path / "m.npz")
    assert stat.S_IMODE(path.stat().st_mode) == stat.S_IMODE(reference.stat().st_mode)


def test_saving_over_a_file_replaces_it(tmp_path):
    path = tmp_path / "m.npz"
    save(make_net(seed=1), path)
    save(make_net(seed=2), path)
    assert_same_net(load(path), make_net(seed=2))
    assert os.listdir(tmp_path) == ["m.npz"]


# --------------------------------------------------------------------------- bad saves


def test_save_refuses_bad_input_and_writes_nothing(tmp_path):
    net = make_net()
    with pytest.raises(ModelFileError, match="reserved header keys"):
        save(net, tmp_path / "a.npz", extra_meta={"format": "mine"})
    with pytest.raises(ModelFileError, match="not JSON-able"):
        save(net, tmp_path / "b.npz", extra_meta={"when": object()})
    with pytest.raises(ModelFileError, match="directory .* does not exist"):
        save(net, tmp_path / "nowhere" / "m.npz")
    with pytest.raises(ModelFileError, match="it is a directory"):
        save(net, tmp_path)
    net.preprocessing = {"kind": "standardize"}
    with pytest.raises(ModelFileError, match="must be a deltaprop.preprocessing.Preprocessing"):
        save(net, tmp_path / "c.npz")
    net = make_net()
    net.weights[1][0, 0] = np.nan  # in-place, bypassing the validating setter
    with pytest.raises(ModelFileError, match="W2 contains NaN"):
        save(net, tmp_path / "d.npz")
    with pytest.raises(ModelFileError, match="expected a deltaprop Network"):
        save("not a net", tmp_path / "e.npz")
    assert os.listdir(tmp_path) == []


def test_failed_rename_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "m.npz"
    save(make_net(seed=1), path)
    before = path.read_bytes()

    def refuse(src, dst):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(modelfile.os, "replace", refuse)
    with pytest.raises(ModelFileError, match=f"cannot save {path}: No space left on device"):
        save(make_net(seed=2), path)
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]


@pytest.mark.parametrize("error", [OSError(28, "No space left on device"), KeyboardInterrupt()])
def test_write_failing_midway_keeps_the_old_file(tmp_path, monkeypatch, error):
    path = tmp_path / "m.npz"
    save(make_net(seed=1), path)
    before = path.read_bytes()
    real_savez = np.savez

    def savez_then_fail(f, **arrays):
        real_savez(f, **{k: v for k, v in list(arrays.items())[:2]})  # part of the archive
        raise error

    monkeypatch.setattr(modelfile.np, "savez", savez_then_fail)
    with pytest.raises(ModelFileError if isinstance(error, OSError) else KeyboardInterrupt):
        save_checkpoint(path, make_net(seed=2), {"m/W1": np.ones(3)}, {"epoch": 1})
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["m.npz"]
    assert_same_net(load(path), make_net(seed=1))


# --------------------------------------------------------------------------- bad files


def rewrite(path, out, *, header=None, drop=(), replace=None):
    """Copy the model at ``path`` to ``out`` with a changed header or arrays."""
    with np.load(path, allow_pickle=False) as npz:
        arrays = {k: npz[k] for k in npz.files if k not in drop}
    h = json.loads(str(arrays["header.json"]))
    if header is not None:
        h.update(header)
    arrays["header.json"] = np.array(json.dumps(h))
    arrays.update(replace or {})
    with open(out, "wb") as f:
        np.savez(f, **arrays)
    return out


@pytest.fixture
def good(tmp_path):
    return save(make_net(classes=[1, 2, 3]), tmp_path / "good.npz")


def test_missing_file_and_directory(tmp_path):
    with pytest.raises(ModelFileError) as e:
        load(tmp_path / "absent.npz")
    assert "no such file" in one_line_error(e, tmp_path / "absent.npz")
    with pytest.raises(ModelFileError) as e:
        load(tmp_path)
    assert "is a directory" in one_line_error(e, tmp_path)


def test_truncated_file(good, tmp_path):
    data = good.read_bytes()
    for n in (len(data) // 2, len(data) - 30, 10):
        path = tmp_path / f"cut{n}.npz"
        path.write_bytes(data[:n])
        with pytest.raises(ModelFileError) as e:
            load(path)
        message = one_line_error(e, path)
        assert "not a readable .npz model file" in message or "damaged" in message


def test_damaged_member_inside_a_valid_zip(good, tmp_path):
    """Flip bytes in the middle of the W1 data: the zip CRC check fails when W1 is read."""
    data = bytearray(good.read_bytes())
    with zipfile.ZipFile(good) as z:
        info = z.getinfo("W1.npy")
    start = info.header_offset + 30 + len(info.filename) + 140
    data[start:start + 8] = b"\xff" * 8
    path = tmp_path / "flipped.npz"
    path.write_bytes(bytes(data))
    with pytest.raises(ModelFileError) as e:
        load(path)
    assert "cannot read array 'W1'" in one_line_error(e, path)


@pytest.mark.parametrize(
    "content", [b"", b"hello, I am a text file\n", bytes(np.random.default_rng(7).integers(0, 256, 4096, dtype=np.uint8))],
    ids=["empty", "text", "random"],
)
def test_not_an_npz_file(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError) as e:
        load(path)
    message = one_line_error(e, path)
    assert "not a .npz model file" in message and "a model file is a zip archive" in message
    assert "pickle" not in message  # (NumPy's reading of a non-zip file, which misleads)


def test_npy_file_and_foreign_npz(tmp_path):
    npy = tmp_path / "array.npy"
    np.save(npy, np.ones(3))
    with pytest.raises(ModelFileError) as e:
        load(npy)
    assert "single .npy array" in one_line_error(e, npy)
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, weights=np.ones(3), other=np.zeros(2))
    with pytest.raises(ModelFileError) as e:
        load(foreign)
    message = one_line_error(e, foreign)
    assert "not a deltaprop model file (no 'header.json' entry; it holds other, weights)" in message
    with pytest.raises(ModelFileError, match="no 'header.json' entry"):
        read_header(foreign)


def test_pickled_header_is_rejected_without_unpickling(tmp_path):
    path = tmp_path / "pickled.npz"
    np.savez(path, **{"header.json": np.array([{"format": "deltaprop-model"}], dtype=object)})
    with pytest.raises(ModelFileError) as e:
        load(path)
    assert "cannot read array 'header.json'" in one_line_error(e, path)


@pytest.mark.parametrize(
    "header, message",
    [
        ({"format_version": 2}, r"format version 2 is not supported \(this deltaprop reads version 1\)"),
        ({"format_version": "1"}, "invalid format_version '1'"),
        ({"format": "keras"}, r"not a deltaprop model file \(format 'keras'"),
        ({"network": None}, "no 'network' description"),
        ({"network": {"sizes": [4, 5, 3], "activations": [{"name": "swish"}] * 2, "cost": "quadratic"}},
         "invalid network description .*unknown activation 'swish'"),
        ({"classes": "abc"}, "invalid 'classes'"),
        ({"history": {"epoch": 1}}, "'history' in the header must be a list"),
        ({"preprocessing": {"kind": "standardize", "n_features": 9}},
         "invalid preprocessing .*'mean' must be a float array of shape \\(9,\\)"),
    ],
)
def test_bad_headers(good, tmp_path, header, message):
    path = rewrite(good, tmp_path / "bad.npz", header=header)
    with pytest.raises(ModelFileError, match=message) as e:
        load(path)
    one_line_error(e, path)


def test_invalid_json_header(good, tmp_path):
    path = rewrite(good, tmp_path / "bad.npz", replace={"header.json": np.array("{not json")})
    with pytest.raises(ModelFileError, match="header is not valid JSON") as e:
        load(path)
    one_line_error(e, path)


def test_missing_wrongly_shaped_or_typed_arrays(good, tmp_path):
    cases = [
        (dict(drop=["W2"]), "missing array 'W2'"),
        (dict(drop=["b1"]), "missing array 'b1'"),
        (dict(replace={"W1": np.zeros((4, 5))}), r"array 'W1' has shape \(4, 5\) but layer sizes \[4, 5, 3\] need \(5, 4\)"),
        (dict(replace={"b2": np.zeros(3, dtype=np.float32)}), "array 'b2' has dtype float32 but the header says float64"),
        (dict(replace={"b2": np.array([0.0, np.inf, 1.0])}), "invalid biases: .*inf"),
        (dict(drop=["preprocessing/scale"]), "missing its 'scale' array"),
    ]
    for i, (change, message) in enumerate(cases):
        path = rewrite(good, tmp_path / f"bad{i}.npz", **change)
        with pytest.raises(ModelFileError, match=message) as e:
            load(path)
        one_line_error(e, path)


def test_preprocessing_must_match_the_input_layer(tmp_path):
    net = make_net(preprocessing=False)
    net.preprocessing = Preprocessing().fit(np.random.default_rng(0).normal(size=(5, 6)))
    path = save(net, tmp_path / "m.npz")
    with pytest.raises(ModelFileError, match="expects 6 features but the network's input layer has 4"):
        load(path)


def test_read_header_reports_newer_versions_that_load_refuses(good, tmp_path):
    path = rewrite(good, tmp_path / "v2.npz", header={"format_version": 2})
    assert read_header(path)["format_version"] == 2
    with pytest.raises(ModelFileError, match="upgrade"):
        load(path)


# --------------------------------------------------------------------------- checkpoints


def test_checkpoint_round_trip_restores_optimizer_arrays_and_rng(tmp_path):
    net = make_net("float32", classes=["x", "y", "z"])
    opt = {
        "m/W1": np.random.default_rng(1).normal(size=(5, 4)).astype(np.float32),
        "v/W1": np.random.default_rng(2).random((5, 4)),
        "step": np.array(1234, dtype=np.int64),
    }
    rng = np.random.default_rng(2024)
    rng.random(17)  # advance it somewhere
    meta = {
        "epoch": 7,
        "rng_state": rng.bit_generator.state,
        "history": net.history,
        "settings": {"learning_rate": 0.1, "batch_size": 32, "optimizer": "adam"},
    }
    path = save_checkpoint(tmp_path / "ckpt.npz", net, opt, meta)
    expected_draws = rng.random(5)
    expected_perm = rng.permutation(100)

    ckpt = load_checkpoint(path)
    assert isinstance(ckpt, Checkpoint)
    assert_same_net(net, ckpt.net)
    assert set(ckpt.optimizer_state) == set(opt)
    for key, arr in opt.items():
        assert ckpt.optimizer_state[key].dtype == arr.dtype
        assert ckpt.optimizer_state[key].tobytes() == arr.tobytes()
    assert ckpt.meta["epoch"] == 7 and ckpt.meta["settings"]["optimizer"] == "adam"

    resumed = np.random.default_rng()
    resumed.bit_generator.state = ckpt.meta["rng_state"]
    np.testing.assert_array_equal(resumed.random(5), expected_draws)
    np.testing.assert_array_equal(resumed.permutation(100), expected_perm)

    header = read_header(path)
    assert header["kind"] == "checkpoint"
    assert_same_net(net, load(path))  # load() on a checkpoint gives the network


def test_checkpoint_errors(tmp_path):
    model = save(make_net(), tmp_path / "model.npz")
    with pytest.raises(ModelFileError, match=r"is a 'model' file, not a checkpoint; use load\(\)"):
        load_checkpoint(model)
    with pytest.raises(ModelFileError, match="holds Python objects"):
        save_checkpoint(tmp_path / "c.npz", make_net(), {"m": np.array([None], dtype=object)}, {})
    with pytest.raises(ModelFileError, match="keys must be non-empty strings"):
        save_checkpoint(tmp_path / "c.npz", make_net(), {1: np.ones(2)}, {})
    with pytest.raises(ModelFileError, match="meta must be a dict"):
        save_checkpoint(tmp_path / "c.npz", make_net(), {}, [1, 2])
    with pytest.raises(ModelFileError, match="not JSON-able"):
        save_checkpoint(tmp_path / "c.npz", make_net(), {}, {"rng": np.random.default_rng()})
    with pytest.raises(ModelFileError, match="no such file"):
        load_checkpoint(tmp_path / "absent.npz")
    assert sorted(os.listdir(tmp_path)) == ["model.npz"]


# --------------------------------------------------------------------------- crafted files (issue 11)
#
# Files made to cost memory or time, or to feed the tools malformed data: each is refused with
# a one-line ModelFileError before anything big is allocated or unpacked.

MB = 2**20


def rezip(path, out, *, add=None, compression=zipfile.ZIP_STORED):
    """Copy the archive at ``path`` entry by entry to ``out`` (``compression`` for all of them),
    then append the raw entries in ``add`` (name -> bytes)."""
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", compression=compression) as dst:
        for info in src.infolist():
            dst.writestr(info.filename, src.read(info))
        for name, data in (add or {}).items():
            dst.writestr(name, data)
    return out


def npy_bytes(shape, dtype="<f8", data=b""):
    """A .npy entry whose header declares ``shape`` and ``dtype``, followed by ``data``."""
    import io

    buf = io.BytesIO()
    np.lib.format.write_array_header_1_0(buf, {"descr": dtype, "fortran_order": False, "shape": shape})
    return buf.getvalue() + data


def peak_of(fn, *args):
    """(what ``fn(*args)`` raised, the peak memory it traced in MB)."""
    import tracemalloc

    tracemalloc.start()
    try:
        fn(*args)
        raised = None
    except Exception as exc:
        raised = exc
    peak = tracemalloc.get_traced_memory()[1] / MB
    tracemalloc.stop()
    return raised, peak


_LIMITED = """
import json, resource, sys, tracemalloc
from deltaprop import modelfile
with open("/proc/self/status") as f:  # the address space may grow by sys.argv[3] MB from here
    size = next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmSize:"))
resource.setrlimit(resource.RLIMIT_AS, (size + int(sys.argv[3]) * 2**20, resource.RLIM_INFINITY))
tracemalloc.start()
try:
    getattr(modelfile, sys.argv[1])(sys.argv[2])
    outcome = "loaded"
except Exception as exc:
    outcome = f"{type(exc).__name__}: {exc}"
print(json.dumps({"outcome": outcome, "peak_mb": tracemalloc.get_traced_memory()[1] / 2**20}))
"""


def load_limited(path, function="load", headroom_mb=400):
    """``modelfile.<function>(path)`` in a fresh interpreter that cannot take more than
    ``headroom_mb`` of address space beyond its imports: {"outcome", "peak_mb"}. A loader that
    believes what the file declares fails there with MemoryError instead of taking gigabytes."""
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", _LIMITED, function, str(path), str(headroom_mb)],
        capture_output=True, text=True, timeout=120,
        env={**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"},
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.splitlines()[-1])


limited_memory = pytest.mark.skipif(
    not (os.path.exists("/proc/self/status") and hasattr(os, "fork")),
    reason="needs Linux's /proc and RLIMIT_AS",
)


@limited_memory
@pytest.mark.parametrize(
    "header, message",
    [
        # 2·20000² float64 random weights = 6.4 GB, declared by a 10 KB file holding 4-5-3 arrays
        ({"network": {"sizes": [4, 20000, 20000, 3], "activations": [{"name": "tanh"}] * 2 + [{"name": "softmax"}],
                      "cost": "cross_entropy", "dtype": "float64"}},
         r"array 'W1' has shape (5, 4) but layer sizes [4, 20000, 20000, 3] need (20000, 4)"),
        # three labels of one character padded to 2 GB each
        ({"classes": ["a", "b", "c"], "classes_dtype": "<U500000000"},
         "classes_dtype '<U500000000' pads 3 labels of at most 1 character(s) to 2,000,000,000 bytes each"),
    ],
    ids=["layer-sizes", "classes-dtype"],
)
def test_declared_sizes_cost_nothing_until_checked_against_the_arrays(good, tmp_path, header, message):
    path = rewrite(good, tmp_path / "crafted.npz", header=header)
    assert path.stat().st_size < 20_000
    result = load_limited(path)
    assert result["outcome"].startswith("ModelFileError: ") and message in result["outcome"], result
    assert result["peak_mb"] < 100


def test_zip_bomb_is_refused_before_anything_is_unpacked(good, tmp_path):
    """200 MB of zeros deflated to 200 KB under a name the format allows: refused from the zip
    directory's sizes alone. A compressed copy of a real model (np.savez_compressed) still loads."""
    bomb = tmp_path / "bomb.npz"
    rezip(good, bomb)
    with zipfile.ZipFile(bomb, "a", compression=zipfile.ZIP_DEFLATED) as z, z.open("preprocessing/junk.npy", "w") as f:
        f.write(npy_bytes((25 * MB,)))
        for _ in range(200):
            f.write(bytes(MB))
    assert bomb.stat().st_size < MB
    raised, peak = peak_of(load, bomb)
    assert isinstance(raised, ModelFileError) and raised.__cause__ is None
    assert "entries unpack to 209,7" in str(raised) and "refusing a possible zip bomb" in str(raised)
    assert str(bomb) in str(raised) and peak < 5

    compressed = rezip(good, tmp_path / "compressed.npz", compression=zipfile.ZIP_DEFLATED)
    assert_same_net(load(compressed), load(good))


def test_an_array_header_must_account_for_exactly_its_entry(good, tmp_path):
    """A 200-byte entry whose .npy header declares 8 TB: refused from the header, nothing allocated."""
    path = tmp_path / "lying.npz"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            data = npy_bytes((10**6, 10**6), data=bytes(32)) if info.filename == "preprocessing/mean.npy" else src.read(info)
            dst.writestr(info.filename, data)
    raised, peak = peak_of(load, path)
    assert isinstance(raised, ModelFileError)
    message = str(raised)
    assert "cannot read array 'preprocessing/mean': its header declares float64 (1000000, 1000000)" in message
    assert "(8,000,000,000,000 bytes) but the entry holds 32; the file is damaged" in message
    assert peak < 5


def test_unknown_and_duplicate_entries_are_refused(good, tmp_path):
    cases = [
        (dict(replace={"junk": np.zeros(3)}), ("unexpected entry 'junk' in the archive; a model file of this network "
                                                "holds header.json, W1..W2, b1..b2, preprocessing/<name>")),
        (dict(replace={"W3": np.zeros((3, 3))}), "unexpected entry 'W3'"),
        (dict(replace={"optimizer/m": np.zeros(3)}), "unexpected entry 'optimizer/m'"),  # a model, not a checkpoint
    ]
    for i, (change, message) in enumerate(cases):
        path = rewrite(good, tmp_path / f"extra{i}.npz", **change)
        with pytest.raises(ModelFileError) as e:
            load(path)
        assert message in one_line_error(e, path)

    text = rezip(good, tmp_path / "text.npz", add={"notes.txt": b"hello"})
    with pytest.raises(ModelFileError) as e:
        load(text)
    assert "unexpected entry 'notes.txt' in the archive; a model file holds only .npy arrays" in one_line_error(e, text)

    twice = rezip(good, tmp_path / "twice.npz")
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(twice, "a") as z:
        z.writestr("W1.npy", npy_bytes((5, 4), data=bytes(160)))  # a second W1: which one counts?
    with pytest.raises(ModelFileError) as e:
        load(twice)
    assert "lists the entry 'W1.npy' more than once" in one_line_error(e, twice)


def test_the_header_entry_is_size_capped_before_it_is_read(good, tmp_path):
    """A 65 MB header.json (NUL characters; written in pieces): refused from its size alone."""
    path = tmp_path / "big_header.npz"
    n_chars = 65 * MB // 4
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for info in src.infolist():
            if info.filename != "header.json.npy":
                dst.writestr(info.filename, src.read(info))
        with dst.open("header.json.npy", "w") as f:
            f.write(npy_bytes((), dtype=f"<U{n_chars}"))
            for _ in range(65):
                f.write(bytes(MB))
    for reader in (read_header, load):
        raised, peak = peak_of(reader, path)
        assert isinstance(raised, ModelFileError)
        assert "the 'header.json' entry takes 68,157,5" in str(raised)
        assert "more than a model header may (67,108,864)" in str(raised)
        assert peak < 5


def test_save_refuses_a_header_that_load_would_refuse(tmp_path):
    net = make_net()
    cases = [
        ({"metrics": {"test": 0.5}}, "'metrics.test' in the header must be an object, got 0.5"),
        ({"training": {"command": 7}}, "'training.command' in the header must be a string, got 7"),
        ({"notes": functools.reduce(lambda inner, _: [inner], range(70), 1)}, "the metadata nests more than 64 deep"),
    ]
    for extra, message in cases:
        with pytest.raises(ModelFileError) as e:
            save(net, tmp_path / "m.npz", extra_meta=extra)
        assert message in one_line_error(e, tmp_path / "m.npz") and "cannot save" in str(e.value)
    net.history = [{"epoch": 1, "cost": None}]
    with pytest.raises(ModelFileError, match=r"'history\[0\].cost' in the header must be a number, got None"):
        save(net, tmp_path / "m.npz")
    net.history = []
    for classes, message in ((["a", "b"], "net.classes_ list 2 labels but the output layer has 3 neuron(s), which tell 3 classes apart"),
                             (["a", "b", "a"], "net.classes_ list 'a' more than once")):
        net.classes_ = np.array(classes)
        with pytest.raises(ModelFileError) as e:
            save(net, tmp_path / "m.npz")
        assert f"cannot save: {message}; such a file would not load" in str(e.value)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("where", ["history", "network", "extra"])
@pytest.mark.parametrize("depth", [100, 100_000])
def test_deeply_nested_headers_are_refused(good, tmp_path, where, depth):
    header = json.loads(str(np.load(good)["header.json"]))
    nested = "[" * depth + "]" * depth
    text = json.dumps({**header, where: None}).replace(f'"{where}": null', f'"{where}": {nested}')
    path = rewrite(good, tmp_path / "deep.npz", replace={"header.json": np.array(text)})
    for reader in (read_header, load):
        with pytest.raises(ModelFileError) as e:
            reader(path)
        assert "the header nests lists and objects more than 64 deep" in one_line_error(e, path)


@pytest.mark.parametrize(
    "header, message",
    [
        ({"history": [{"epoch": 1, "cost": "high"}]}, "'history[0].cost' in the header must be a number, got 'high'"),
        ({"history": [{"epoch": 1, "cost": 0.5}, {"epoch": 2.5}]}, "'history[1].epoch' in the header must be an integer, got 2.5"),
        ({"history": [{"val_accuracy": None}]}, "'history[0].val_accuracy' in the header must be a number, got None"),
        ({"history": [{"grad_norms": {"W": ["big"]}}]}, "'history[0].grad_norms.W[0]' in the header must be a number"),
        ({"metrics": {"test": 0.5}}, "'metrics.test' in the header must be an object, got 0.5"),
        ({"metrics": {"test": {"accuracy": 0.9}}}, "'metrics.test' in the header has no 'cost'"),
        ({"metrics": {"test": {"cost": 0.1, "accuracy": "90%"}}}, "'metrics.test.accuracy' in the header must be a number, got '90%'"),
        ({"metrics": None}, "'metrics' in the header must be an object, got None"),
        ({"training": "yes"}, "'training' in the header must be an object, got 'yes'"),
        ({"training": {"command": ["deltaprop", "train"]}}, "'training.command' in the header must be a string, got a list"),
        ({"training": {"options": None}}, "'training.options' in the header must be an object, got None"),
        ({"kind": "weights"}, "'kind' in the header must be 'model' or 'checkpoint', got 'weights'"),
        ({"network": {"sizes": "4-5-3", "activations": ["tanh", "softmax"], "cost": "cross_entropy"}},
         "'network.sizes' in the header must be a list, got '4-5-3'"),
        ({"network": {"sizes": [4, 5, 3], "activations": [{"name": "tanh"}, {"slope": 1}], "cost": "cross_entropy"}},
         "'network.activations[1]' in the header must be an activation name or an object with a 'name', got an object"),
        ({"network": {"sizes": [4, True, 3], "activations": ["tanh", "softmax"], "cost": "cross_entropy"}},
         "'network.sizes[1]' in the header must be an integer, got True"),
    ],
)
def test_header_fields_the_tools_read_are_validated_by_one_schema(good, tmp_path, header, message):
    path = rewrite(good, tmp_path / "bad.npz", header=header)
    for reader in (read_header, load):
        with pytest.raises(ModelFileError) as e:
            reader(path)
        assert message in one_line_error(e, path)


def test_info_gets_one_line_errors_for_crafted_headers(good, tmp_path, capsys):
    from deltaprop.cli.app import main

    crafted = {
        "deep": dict(replace={"header.json": np.array('{"format": "deltaprop-model", "format_version": 1, "history": '
                                                       + "[" * 50_000 + "]" * 50_000 + "}")}),
        "history": dict(header={"history": [{"epoch": 1, "cost": "high"}]}),
        "metrics": dict(header={"metrics": {"test": 0.5}}),
        "training": dict(header={"training": "yes"}),
    }
    for name, change in crafted.items():
        path = rewrite(good, tmp_path / f"{name}.npz", **change)
        with pytest.raises(SystemExit) as e:
            main(["info", str(path)])
        assert e.value.code != 0
        err = capsys.readouterr().err
        assert err.startswith(f"error: {path}: ") and err.count("\n") == 1, err


def test_extra_header_keys_still_load(good, tmp_path):
    """The schema checks only the fields the tools read: other extra_meta keys may hold anything."""
    path = rewrite(good, tmp_path / "extra.npz", header={"notes": [{"any": ["thing", 1, None]}], "dataset": "iris",
                                                         "metrics": {"test": {"cost": 0.1, "accuracy": None, "n": 30}}})
    assert_same_net(load(path), load(good))
    assert read_header(path)["notes"] == [{"any": ["thing", 1, None]}]
    with pytest.raises(ModelFileError, match="'metrics.test.n' in the header must be a non-negative integer"):
        load(rewrite(good, tmp_path / "bad.npz", header={"metrics": {"test": {"cost": 0.1, "n": -1}}}))


@pytest.mark.parametrize(
    "classes, classes_dtype, message",
    [
        (["a", "b"], "<U1", "the header's 'classes' list 2 labels but the output layer has 3 neuron(s), which tell 3 classes apart"),
        (["a", "b", "c", "d"], "<U1", "the header's 'classes' list 4 labels but the output layer has 3 neuron(s)"),
        (["a", "b", "a"], "<U1", "the header's 'classes' list 'a' more than once"),
        ([1, 2, 2], "<i8", "list 2 more than once"),
        (["ab", "cd", "ef"], "<U1", "invalid 'classes' in the header (classes_dtype '<U1' does not hold the labels)"),
        ([1, 2, 300], "|u1", "classes_dtype '|u1' does not hold the labels"),
        ([1, "b", 3], None, "the labels must all be strings, all integers, all numbers or all booleans"),
        (["a", "b", "c"], "(3,)<i8", "classes_dtype '(3,)<i8' is not a dtype of labels"),
    ],
)
def test_classes_must_match_the_output_layer(good, tmp_path, classes, classes_dtype, message):
    path = rewrite(good, tmp_path / "bad.npz", header={"classes": classes, "classes_dtype": classes_dtype})
    with pytest.raises(ModelFileError) as e:
        load(path)
    assert message in one_line_error(e, path)


def test_class_counts_follow_the_output_rule_and_padded_dtypes_load_as_saved(tmp_path):
    one = Network([2, 1], output="sigmoid", cost="binary_cross_entropy", seed=0)
    one.classes_ = np.array(["no", "yes"], dtype="<U10")  # one sigmoid output: two classes
    back = load(save(one, tmp_path / "one.npz"))
    assert back.classes_.dtype == np.dtype("<U10") and back.classes_.tolist() == ["no", "yes"]
    path = rewrite(tmp_path / "one.npz", tmp_path / "bad.npz", header={"classes": ["yes"], "classes_dtype": "<U3"})
    with pytest.raises(ModelFileError, match=r"list 1 labels but the output layer has 1 neuron\(s\), which tell 2 classes apart"):
        load(path)


def rng_state(seed=0):
    return np.random.default_rng(seed).bit_generator.state


@pytest.mark.parametrize(
    "meta, message",
    [
        ({"rng_state": rng_state()}, "'checkpoint' in the header has no 'epoch'"),
        ({"epoch": "3", "rng_state": rng_state()}, "'checkpoint.epoch' in the header must be a non-negative integer, got '3'"),
        ({"epoch": -1, "rng_state": rng_state()}, "'checkpoint.epoch' in the header must be a non-negative integer, got -1"),
        ({"epoch": 3}, "'checkpoint' in the header has no 'rng_state'"),
        ({"epoch": 3, "rng_state": {"bit_generator": "PCG64"}}, "'checkpoint.rng_state' in the header has no 'state'"),
        ({"epoch": 3, "rng_state": {"bit_generator": "PCG64", "state": {"state": "x"}}},
         "the checkpoint's rng_state is not a NumPy bit-generator state"),
        ({"epoch": 3, "rng_state": {**rng_state(), "bit_generator": "os.system"}},
         "rng_state is not a NumPy bit-generator state (ValueError: unknown bit generator 'os.system')"),
        ({"epoch": 3, "rng_state": rng_state(), "settings": None}, "'checkpoint.settings' in the header must be an object, got None"),
        ({"epoch": 3, "rng_state": rng_state(), "early_stopping": {"cost": "low"}},
         "'checkpoint.early_stopping.cost' in the header must be a number, got 'low'"),
    ],
)
def test_checkpoint_meta_has_what_resuming_needs(tmp_path, meta, message):
    ckpt = save_checkpoint(tmp_path / "ckpt.npz", make_net(), {"m/W1": np.ones((5, 4))}, {"epoch": 3, "rng_state": rng_state()})
    path = rewrite(ckpt, tmp_path / "bad.npz", header={"checkpoint": meta})
    with pytest.raises(ModelFileError) as e:
        load_checkpoint(path)
    assert message in one_line_error(e, path)
    if "has no" not in message and "bit-generator" not in message:  # a wrong type is not even written
        with pytest.raises(ModelFileError, match="cannot save"):
            save_checkpoint(tmp_path / "new.npz", make_net(), {}, meta)


def test_resuming_from_a_checkpoint_without_an_epoch_is_a_model_file_error(tmp_path):
    X = np.random.default_rng(0).normal(size=(30, 4))
    y = np.array([1, 2, 3] * 10)
    path = save_checkpoint(tmp_path / "ckpt.npz", make_net(classes=[1, 2, 3]), {}, {"rng_state": rng_state()})
    with pytest.raises(ModelFileError, match="'checkpoint' in the header has no 'epoch'"):
        make_net().fit(X, y, epochs=2, resume=path)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no named pipes on this system")
def test_a_fifo_is_refused_without_blocking(tmp_path):
    import threading
    import time

    fifo = tmp_path / "pipe.npz"
    os.mkfifo(fifo)

    def unblock():  # a loader blocked in open() waits for a writer: let it go on after 5 s
        try:
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        except OSError:
            pass

    for reader in (read_header, load, load_checkpoint):
        timer = threading.Timer(5, unblock)
        timer.start()
        start = time.monotonic()
        try:
            with pytest.raises(ModelFileError) as e:
                reader(fifo)
        finally:
            timer.cancel()
        assert time.monotonic() - start < 4
        assert "is a FIFO (named pipe), not a regular file; expected a .npz model file" in one_line_error(e, fifo)


@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="no /dev/zero")
def test_a_link_to_a_device_is_refused(tmp_path):
    link = tmp_path / "zero.npz"
    link.symlink_to("/dev/zero")
    with pytest.raises(ModelFileError) as e:
        load(link)
    assert "is a character device, not a regular file" in one_line_error(e, link)


def test_a_saved_history_keeps_why_it_ended_and_its_best_epoch(tmp_path):
    from sklearn.datasets import load_digits

    X, y = load_digits(return_X_y=True)
    net = Network([64, 16, 10], output="softmax", seed=0)
    h = net.fit(X[:300], y[:300], epochs=60, learning_rate=0.5, optimizer="sgd", validation=0.3, seed=0,
                early_stopping=True, patience=2)
    assert h.stop_reason == "early_stopping" and h.best_epoch is not None
    modelfile.save(net, tmp_path / "m.npz")
    loaded = modelfile.load(tmp_path / "m.npz")
    assert (loaded.history.stop_reason, loaded.history.best_epoch) == (h.stop_reason, h.best_epoch)
    assert list(loaded.history) == list(h)
