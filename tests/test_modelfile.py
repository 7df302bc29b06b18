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
    assert "not a readable .npz model file" in one_line_error(e, path)


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
