"""The training report (deltaprop report / train --report), read as a file: self-contained,
holding the run's data, and every stored derivation showing the engine's own gradient."""

import dataclasses
import html.parser
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import deltaprop as dp
from deltaprop.datasets import load_dataset
from deltaprop.modelfile import load
from deltaprop.report import build_report, read_derivations, read_report_data, write_report
from deltaprop.report import mathhtml
from deltaprop.report.builder import MAX_DERIVED_PARAMETERS, N_EXAMPLES
from conftest import shown_number

GOLDEN = Path(__file__).parent / "golden"


def run_cli(*args, cwd=None):
    return subprocess.run(
        [sys.executable, "-m", "deltaprop", *map(str, args)],
        capture_output=True, text=True, cwd=cwd, timeout=300, env={**os.environ, "COLUMNS": "200"},
    )


@pytest.fixture(scope="module")
def moons_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "moons"
    result = run_cli("train", "--dataset", "moons", "--layers", "5,4", "--activation", "tanh",
                     "--epochs", "8", "--out", out, "--report", "--quiet")
    assert result.returncode == 0, result.stderr
    assert "report.html" in result.stdout
    return out


@pytest.fixture(scope="module")
def digits_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("report") / "digits"
    result = run_cli("train", "--layers", "16", "--epochs", "3", "--out", out, "--report", "--quiet")
    assert result.returncode == 0, result.stderr
    return out


# ---------------------------------------------------------------------------- helpers
class _Refs(html.parser.HTMLParser):
    """Every URL-valued attribute of every element (script and style bodies are not parsed)."""

    URL_ATTRS = {"src", "href", "data", "action", "poster", "srcset", "xlink:href", "formaction", "background"}

    def __init__(self):
        super().__init__()
        self.refs, self.tags = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        for name, value in attrs:
            if name in self.URL_ATTRS and value is not None:
                self.refs.append((tag, name, value))


def external_references(text):
    parser = _Refs()
    parser.feed(text)
    bad = [r for r in parser.refs if not r[2].startswith(("data:", "#"))]
    return bad, parser.tags


def engine_value_shown(fragment):
    item = re.search(r'<li class="engine-value">(.*?)</li>', fragment, re.S)
    assert item, "no engine-value line in the derivation"
    maths = re.findall(r"<math\b.*?</math>", item.group(1), re.S)
    return shown_number(maths[-1])


def training_data(run_dir):
    """(net, raw X_train, its class labels) from the run's own options (backward applies the
    model's preprocessing and encodes the labels: the input contract)."""
    metrics = json.loads((run_dir / "metrics.json").read_text())
    opts = metrics["options"]
    ds = load_dataset(opts["dataset"], seed=opts["seed"], test_fraction=opts["test_fraction"], limit=opts["limit"])
    net = load(run_dir / "model.npz")
    return net, ds.X_train, ds.labels(ds.y_train)


def param_gradient(net, X, Y, pid, row):
    kind, l, j, *k = pid.split("-")
    grads = net.backward(X[row : row + 1], Y[row : row + 1])
    l, j = int(l), int(j)
    return float(grads.weights[l - 1][j, int(k[0])] if kind == "w" else grads.biases[l - 1][j])


# ---------------------------------------------------------------------------- the file
@pytest.mark.parametrize("run", ["moons_run", "digits_run"])
def test_page_is_one_self_contained_file(run, request):
    run_dir = request.getfixturevalue(run)
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    bad, tags = external_references(text)
    assert bad == [], f"references outside the file: {bad[:5]}"
    assert not [t for t, a in tags if t == "script" and "src" in a]
    assert not [t for t, a in tags if t == "link"]
    assert not [t for t, a in tags if t in ("iframe", "object", "embed")]
    assert "@import" not in text and not re.search(r"url\(\s*['\"]?https?:", text)
    assert "Plotly.newPlot" in text and "window.Plotly" in text  # plotly.js itself is inline
    size = len(text.encode("utf-8"))
    assert 1_000_000 < size < 12_000_000  # plotly.js (~4.8 MB) + data: the README states it


def test_page_holds_the_runs_history_command_seed_and_versions(moons_run):
    text = (moons_run / "report.html").read_text(encoding="utf-8")
    metrics = json.loads((moons_run / "metrics.json").read_text())
    data = read_report_data(text)
    # the history, without the parameter snapshots (they are drawn in the boundary's frames)
    assert data["history"] == [{k: v for k, v in r.items() if k != "parameters"} for r in metrics["history"]]
    assert any("parameters" in r for r in metrics["history"]) and "frames" in data["figures"]["boundary"]
    assert {"curves", "gradients", "histograms", "boundary", "confusion"} <= set(data["figures"])
    curves = data["figures"]["curves"]["data"]
    cost = next(t for t in curves if t["name"] == "training cost")
    assert cost["y"] == pytest.approx([r["cost"] for r in metrics["history"]], rel=1e-5)
    val = next(t for t in curves if t["name"] == "validation accuracy")
    assert val["y"] == pytest.approx([r["val_accuracy"] for r in metrics["history"]], rel=1e-5)
    grads = [t for t in data["figures"]["gradients"]["data"] if t["name"].startswith("W")]
    assert len(grads) == 3  # one line per weight layer of 2-5-4-2
    assert grads[0]["y"] == pytest.approx([r["grad_norms"]["W"][0] for r in metrics["history"]], rel=1e-4)
    # the network drawn: every parameter of this small network, with its value
    net = load(moons_run / "model.npz")
    params = {p["id"]: p for p in data["parameters"]}
    assert len(params) == net.n_params
    assert params["w-2-3-1"]["value"] == pytest.approx(float(net.weights[1][3, 1]), rel=1e-7)
    assert params["b-3-0"]["value"] == pytest.approx(float(net.biases[2][0]), rel=1e-7)
    assert len(re.findall(r'<g class="edge[ "]', text)) == sum(W.size for W in net.weights)
    # how to reproduce it
    assert re.search(r'<pre id="command">deltaprop train --dataset moons', text)
    assert f'<code id="seed">{metrics["seed"]}</code>' in text
    assert f"<th>numpy</th><td>{metrics['versions']['numpy']}</td>" in text
    assert f"<th>deltaprop</th><td>{dp.__version__}</td>" in text


def test_every_run_records_gradient_norms(digits_run):
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert len(metrics["history"]) == 3
    for record in metrics["history"]:
        assert len(record["grad_norms"]["W"]) == 2 and len(record["grad_norms"]["b"]) == 2
        assert all(v > 0 for v in record["grad_norms"]["W"])


def test_image_data_sets_get_weight_images_confusion_and_mistakes(digits_run):
    text = (digits_run / "report.html").read_text(encoding="utf-8")
    data = read_report_data(text)
    assert {"first_layer", "confusion"} <= set(data["figures"]) and "boundary" not in data["figures"]
    images = data["figures"]["first_layer"]["data"]
    net = load(digits_run / "model.npz")
    assert len(images) == 16  # every hidden neuron of 64-16-10
    first = np.asarray(images[0]["customdata"], dtype=float)
    assert first.shape == (8, 8)
    np.testing.assert_allclose(first.ravel(), net.weights[0][0], rtol=1e-3, atol=1e-6)
    confusion = np.asarray(data["figures"]["confusion"]["data"][0]["z"])
    metrics = json.loads((digits_run / "metrics.json").read_text())
    assert confusion.sum() == metrics["test"]["n"]
    assert np.trace(confusion) / confusion.sum() == pytest.approx(metrics["test"]["accuracy"])
    mistakes = len(re.findall(r'<figure class="mistake">', text))
    assert mistakes == min(12, confusion.sum() - np.trace(confusion))
    assert all(e["image"].startswith("data:image/png;base64,") for e in data["examples"])


# ---------------------------------------------------------------------------- derivations
@pytest.mark.parametrize("run", ["moons_run", "digits_run"])
def test_every_stored_derivation_shows_the_engines_gradient(run, request):
    run_dir = request.getfixturevalue(run)
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    data = read_report_data(text)
    stored = read_derivations(text)["derivations"]
    net, X, Y = training_data(run_dir)
    rows = [e["row"] for e in data["examples"]]
    assert len(rows) == N_EXAMPLES and len(set(rows)) == N_EXAMPLES
    assert 0 < len(stored) <= MAX_DERIVED_PARAMETERS
    checked = 0
    for pid, per_example in stored.items():
        assert len(per_example) == len(rows)
        for row, by_notation in zip(rows, per_example):
            expected = param_gradient(net, X, Y, pid, row)
            assert set(by_notation) == {"3b1b", "nielsen", "ng-ml", "ng-dl"}
            for fragment in by_notation.values():
                assert engine_value_shown(fragment) == pytest.approx(expected, rel=1e-10, abs=1e-300)
                checked += 1
    assert checked == len(stored) * len(rows) * 4


def test_examples_include_a_mistake_when_there_is_one(digits_run):
    data = read_report_data((digits_run / "report.html").read_text(encoding="utf-8"))
    net, X, Y = training_data(digits_run)
    predicted = net.predict(X)  # labels, compared with the labels Y
    for e in data["examples"]:
        assert e["correct"] == (predicted[e["row"]] == Y[e["row"]])
    if (predicted != Y).any():
        assert not data["examples"][-1]["correct"]


def test_the_notation_changes_the_symbols(moons_run):
    stored = read_derivations((moons_run / "report.html").read_text(encoding="utf-8"))
    hidden = next(pid for pid in stored["derivations"] if pid.startswith("w-2-"))
    page = {key: re.sub(r"<[^>]+>", "", frag) for key, frag in stored["derivations"][hidden][0].items()}
    assert "Θ" in page["ng-ml"] and "Θ" not in page["3b1b"] and "Θ" not in page["nielsen"]
    assert "(L−1)" in page["3b1b"] and "(L−1)" not in page["ng-ml"]
    assert "dz[" in page["ng-dl"] and "dz[" not in page["nielsen"]
    assert len(set(page.values())) == 4
    symbols = stored["symbols"][hidden]
    assert "Θ" in symbols["ng-ml"] and "<msubsup><mi>w</mi>" in symbols["3b1b"]


def test_the_derivation_count_is_bounded_and_stated(digits_run, tmp_path):
    path = write_report(digits_run, tmp_path / "small.html", max_parameters=5, examples=2)
    text = path.read_text(encoding="utf-8")
    data = read_report_data(text)
    stored = read_derivations(text)["derivations"]
    assert len(stored) == 5 and all(len(v) == 2 for v in stored.values())
    assert sum(p["derived"] for p in data["parameters"]) == 5
    assert "derivations for 5 of the" in text and "= 40 derivations" in text
    assert text.count('data-derived="0"') == len(data["parameters"]) - 5
    # the diagram of a wide network draws a bounded number of neurons and connections
    net = load(digits_run / "model.npz")
    assert text.count('class="neuron input"') == 12 < net.sizes[0]
    assert len(re.findall(r'<g class="edge[ "]', text)) == 2 * 64 < net.sizes[0] * 16  # 64 a layer at most


def test_report_command(digits_run, tmp_path):
    out = tmp_path / "elsewhere.html"
    result = run_cli("report", digits_run, "-o", out, "--max-parameters", "8", "--examples", "1")
    assert result.returncode == 0, result.stderr
    assert out.exists() and f"wrote {out}" in result.stdout.replace("\n", "")
    stored = read_derivations(out.read_text(encoding="utf-8"))["derivations"]
    assert len(stored) == 8 and all(len(v) == 1 for v in stored.values())
    bad = run_cli("report", tmp_path / "no-such-run")
    assert bad.returncode == 2
    assert bad.stderr.startswith("error:") and len(bad.stderr.strip().splitlines()) == 1
    empty = tmp_path / "empty"
    empty.mkdir()
    result = run_cli("report", empty)
    assert result.returncode == 2 and "no model.npz" in result.stderr


def _record_dataset(run, dataset):
    """Rewrite run/model.npz so that its header records ``dataset`` as its data set."""
    from deltaprop.modelfile import load, read_header, save

    header = read_header(run / "model.npz")
    training = header["training"]
    training["options"]["dataset"] = dataset
    save(load(run / "model.npz"), run / "model.npz", extra_meta={"training": training, "metrics": header["metrics"]})


def test_a_run_whose_data_set_is_gone_still_gets_a_report(moons_run, tmp_path):
    run = tmp_path / "moved"
    shutil.copytree(moons_run, run)
    _record_dataset(run, f"csv:{run / 'gone.csv'}")  # beside the model, but deleted
    with pytest.warns(UserWarning, match="csv file not found"):
        text = build_report(run)
    assert "could not be loaded again" in text  # the reason goes to the caller, not the page
    data = read_report_data(text)
    assert read_derivations(text)["derivations"] == {} and data["examples"] == []
    assert "curves" in data["figures"] and 'id="network-svg"' in text


# ---------------------------------------------------------------------------- math
def test_explanation_markdown_becomes_html_with_mathml():
    for path in sorted(p for p in GOLDEN.glob("*.md") if p.name != "README.md"):
        out = mathhtml.markdown_to_html(path.read_text(encoding="utf-8"))
        assert "$" not in out, path.name
        assert "<math" in out and "<code class=\"tex\">" not in out, path.name
        assert out.count("<ul>") == out.count("</ul>") and out.count("<li") == out.count("</li>"), path.name
        if path.name.startswith(("weight_", "bias_")):
            assert out.count('<li class="engine-value">') == 1, path.name


def test_formula_cache_gives_the_direct_conversion():
    """latex_to_mathml converts a formula once per shape and puts the numbers back; the result
    must be exactly what latex2mathml gives for the formula itself."""
    net = dp.Network([3, 4, 3], activation="tanh", output="softmax", cost="cross_entropy", seed=1)
    rng = np.random.default_rng(0)
    X, Y = rng.normal(size=(5, 3)), dp.one_hot(rng.integers(0, 3, 5), 3)
    formulas = set()
    for spec in (dict(weight=(1, 2, 0)), dict(bias=(2, 1)), dict(weight=(2, 0, 3))):
        for sample, l2 in ((1, 0.0), (None, 0.5)):
            e = dp.explain(net, X, Y, sample=sample, l2=l2, **spec)
            for key in ("3b1b", "nielsen", "ng-ml", "ng-dl"):
                md = dataclasses.replace(e, notation=key).to_markdown()
                formulas |= {(a or b, bool(a)) for a, b in re.findall(r"\$\$(.+?)\$\$|\$(.+?)\$", md)}
    assert len(formulas) > 100
    for latex, display in formulas:
        assert mathhtml.latex_to_mathml(latex, display) == mathhtml._convert(latex, display), latex
    # Ng DL's g' of layer 1 is the primed group {g^{[1]}}' (g^{[1]}' would be a double
    # superscript that TeX and the converter reject), so it converts to MathML, not source
    from deltaprop.activations import Tanh
    from deltaprop.explain.notation import get_notation

    prime = get_notation("ng-dl", [2, 3, 1]).act_prime(Tanh(), 1).latex
    assert "<code" not in mathhtml.latex_to_mathml(prime + "(z^{[1]}_{2})")


# ---------------------------------------------------------------------------- issue 15
def test_chosen_examples_by_row_and_out_of_range_rows(digits_run, tmp_path):
    out = tmp_path / "chosen.html"
    result = run_cli("report", digits_run, "-o", out, "--examples", "12,57,301", "--max-parameters", "2")
    assert result.returncode == 0, result.stderr
    assert [e["row"] for e in read_report_data(out.read_text())["examples"]] == [12, 57, 301]
    result = run_cli("report", digits_run, "-o", out, "--examples", "12,99999", "--max-parameters", "2")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0 and "Traceback" not in result.stderr
    assert "99999" in result.stderr and "out of range" in result.stderr
    result = run_cli("report", digits_run, "-o", out, "--examples", "3", "--max-parameters", "2")
    assert result.returncode == 0 and len(read_report_data(out.read_text())["examples"]) == 3


def test_the_page_opens_on_the_largest_gradient_of_a_correct_example(digits_run):
    page = (digits_run / "report.html").read_text()
    data = read_report_data(page)
    net, X, Y = training_data(digits_run)
    derived = [p["id"] for p in data["parameters"] if p["derived"]]
    right = data["openings"]["right"]
    example = data["examples"][right["example"]]
    assert example["correct"] and example["row"] == right["row"]
    grads = {pid: abs(param_gradient(net, X, Y, pid, right["row"])) for pid in derived}
    assert grads[right["param"]] == max(grads.values()) > 0
    if any(not e["correct"] for e in data["examples"]):
        wrong = data["openings"]["wrong"]
        assert not data["examples"][wrong["example"]]["correct"]


def test_the_notations_symbols_are_set_as_math(moons_run):
    """The header's "C_x the cost of example x" names a symbol: MathML, not the letters C_x."""
    stored = read_derivations((moons_run / "report.html").read_text())["derivations"]
    fragment = next(iter(stored.values()))[0]["3b1b"]
    prose = re.sub(r"<math.*?</math>", "", fragment, flags=re.S)
    assert "C_x" not in prose and "C_0" not in prose
    assert "the cost of example" in prose and re.search(r"the cost of example\s*<math", fragment)  # x set as math too


# ---------------------------------------------------------------------------- data views
def test_the_decision_boundary_fills_the_axes_finely(moons_run):
    spec = read_report_data((moons_run / "report.html").read_text(encoding="utf-8"))["figures"]["boundary"]
    grid = spec["data"][0]
    assert grid["type"] in ("contour", "heatmap") and len(grid["x"]) >= 150 and len(grid["y"]) >= 150
    assert np.asarray(grid["z"]).shape == (len(grid["y"]), len(grid["x"]))
    xaxis, yaxis = spec["layout"]["xaxis"], spec["layout"]["yaxis"]
    assert xaxis["range"] == [grid["x"][0], grid["x"][-1]] and yaxis["range"] == [grid["y"][0], grid["y"][-1]]
    # equal scales shrink the plotting area, never widen a range past the grid (white bands)
    assert yaxis["scaleanchor"] == "x" and xaxis["constrain"] == yaxis["constrain"] == "domain"
    if grid["type"] == "contour":
        assert grid["line"]["smoothing"] > 0


@pytest.mark.parametrize("run", ["moons_run", "digits_run"])
def test_per_class_precision_and_recall_beside_the_confusion_matrix(run, request):
    from sklearn.metrics import precision_recall_fscore_support

    run_dir = request.getfixturevalue(run)
    text = (run_dir / "report.html").read_text(encoding="utf-8")
    table = read_report_data(text)["class_metrics"]
    metrics = json.loads((run_dir / "metrics.json").read_text())
    opts = metrics["options"]
    ds = load_dataset(opts["dataset"], seed=opts["seed"], test_fraction=opts["test_fraction"], limit=opts["limit"])
    pred = load(run_dir / "model.npz").predict_proba(ds.X_test).argmax(axis=1)
    precision, recall, _, support = precision_recall_fscore_support(ds.y_test, pred, zero_division=0)
    assert table["split"] == "test" and len(table["rows"]) == len(ds.classes)
    names = [str(n) for n in (ds.class_names or ds.classes)]
    assert [r["class"] for r in table["rows"]] == names
    np.testing.assert_allclose([r["precision"] for r in table["rows"]], precision)
    np.testing.assert_allclose([r["recall"] for r in table["rows"]], recall)
    assert [r["support"] for r in table["rows"]] == support.tolist() and sum(support) == metrics["test"]["n"]
    shown = re.search(r'<table id="class-metrics">.*?</table>', text, re.S)
    assert shown and all(f"<th>{n}</th>" in shown.group(0) for n in names)
    assert f"<td>{precision[0]:.3f}</td><td>{recall[0]:.3f}</td><td>{support[0]}</td>" in shown.group(0)


def test_report_says_on_stderr_which_views_it_left_out(digits_run, tmp_path):
    out = tmp_path / "r.html"
    result = run_cli("report", digits_run, "--dataset", "moons", "-o", out)
    assert "note: the data set moons has 2 features but the network's input layer has 64" in result.stderr
    assert "left out" in result.stderr and out.exists()
