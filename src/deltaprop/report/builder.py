"""Build the training report of a run directory: one self-contained HTML file.

What goes in (everything inline; the page fetches nothing when it is opened):

* plotly.js (from the ``plotly`` package) and the charts as plotly JSON made here: learning
  curves, per-layer gradient norms (``deltaprop.monitor.GradientNorms``), weight histograms,
  the decision boundary (2-D data sets), the first layer's weights as images and the confusion
  matrix (image data sets; the confusion matrix for every classifier);
* the network diagram as SVG (``diagram``);
* derivations: for the parameters the diagram draws (at most ``max_parameters``), for
  ``examples`` training examples, in the four notations, ``explain``'s Markdown turned into
  HTML with MathML here (``mathhtml``); gzip-compressed JSON, base64, inflated by the browser's
  ``DecompressionStream``. The page never computes a gradient: it shows these.
* the command, seed, options and versions of the run (``metrics.json``, else the model file).

The data set is loaded again from the run's options (same name, seed, split, limit) unless
it is passed in; if that fails the report says why and leaves out the views that need it.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import gzip
import html
import io
import json
import os
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from . import diagram, figures
from .. import defaults
from ..network import Network
from ..snapshots import KEY as SNAPSHOT_KEY, read_snapshots
from .mathhtml import latex_to_mathml, markdown_to_html

if TYPE_CHECKING:  # (the data sets module is imported when a report is built)
    from ..datasets import Dataset

__all__ = [
    "Run",
    "load_run",
    "build_report",
    "write_report",
    "read_report_data",
    "read_derivations",
    "N_EXAMPLES",
    "MAX_DERIVED_PARAMETERS",
]

#: Training examples whose derivations the page stores.
N_EXAMPLES = 3
#: Parameters (connections and biases the diagram draws) whose derivations the page stores.
MAX_DERIVED_PARAMETERS = 96
#: Test-set mistakes shown for image data sets; first-layer neurons drawn as images.
MAX_MISTAKES = 12
MAX_WEIGHT_IMAGES = 24
NOTATIONS = {"3b1b": "3Blue1Brown", "nielsen": "Nielsen", "ng-ml": "Ng ML", "ng-dl": "Ng DL"}
ASSETS = Path(__file__).with_name("assets")


# ============================================================================ the run
@dataclass
class Run:
    """A run directory as ``deltaprop train`` leaves it: the model, its header, metrics.json."""

    run_dir: Path | None  # None: a network in memory (``deltaprop.report(net, X, y)``)
    model_path: Path | None
    net: Network
    header: dict
    metrics: dict = field(default_factory=dict)

    @property
    def training(self) -> dict:
        return self.header.get("training") or {}

    @property
    def options(self) -> dict:
        return self.metrics.get("options") or self.training.get("options") or {}

    @property
    def history(self) -> list:
        return list(self.metrics.get("history") or self.header.get("history") or [])

    @property
    def command(self):
        return self.metrics.get("command") or self.training.get("command")

    @property
    def seed(self):
        seed = self.metrics.get("seed", self.training.get("seed"))
        return self.options.get("seed") if seed is None else seed

    @property
    def versions(self) -> dict:
        return self.metrics.get("versions") or {"deltaprop": self.header.get("deltaprop_version")}

    @property
    def split_metrics(self) -> dict:
        return {k: self.metrics[k] for k in ("train", "validation", "test") if isinstance(self.metrics.get(k), dict)} or (
            self.header.get("metrics") or {}
        )


def load_run(path: str | os.PathLike[str]) -> Run:
    """The run in directory ``path`` (its ``model.npz`` and ``metrics.json``); ``path`` may
    also be a model file, whose directory is then the run directory."""
    from ..modelfile import load, read_header

    path = Path(path)
    if path.is_file():
        model_path, run_dir = path, path.parent
    elif path.is_dir():
        run_dir, model_path = path, path / "model.npz"
        if not model_path.exists():
            raise FileNotFoundError(
                f"{path} has no model.npz: give the directory that deltaprop train --out wrote"
            )
    else:
        raise FileNotFoundError(f"no run directory or model file at {path}")
    net = load(model_path)
    header = read_header(model_path)
    metrics = {}
    metrics_path = run_dir / "metrics.json"
    if metrics_path.exists():
        try:
            metrics = json.loads(metrics_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ValueError(f"{metrics_path} is not readable JSON ({exc})") from None
        _check_metrics(metrics, metrics_path)
        model_run, metrics_run = (header.get("training") or {}).get("run_id"), metrics.get("run_id")
        if model_run and metrics_run and model_run != metrics_run:
            raise ValueError(f"{model_path} and {metrics_path} come from different training runs "
                             f"(run ids {model_run} and {metrics_run}); train again into one --out")
    return Run(run_dir=run_dir, model_path=model_path, net=net, header=header, metrics=metrics)


#: The entries of metrics.json the report reads, and what each must be.
_METRICS_SCHEMA = {
    "command": (str,), "run_id": (str,), "seed": (int, type(None)), "options": (dict,),
    "versions": (dict,), "history": (list,), "train": (dict,), "validation": (dict,), "test": (dict,),
    "stop_reason": (str, type(None)), "best_epoch": (int, type(None)),
}


def _check_metrics(metrics, path: Path) -> None:
    """metrics.json as ``deltaprop train`` writes it, else a one-line ValueError naming the field."""
    def number(v):
        return isinstance(v, (int, float)) and not isinstance(v, bool)

    if not isinstance(metrics, dict):
        raise ValueError(f"{path} must hold a JSON object, got {type(metrics).__name__}")
    for key, types in _METRICS_SCHEMA.items():
        value = metrics.get(key)
        if key in metrics and (not isinstance(value, types) or isinstance(value, bool)):
            want = " or ".join("null" if t is type(None) else t.__name__ for t in types)
            raise ValueError(f"{path}: {key!r} must be {want}, got {type(value).__name__}")
    for i, rec in enumerate(metrics.get("history") or []):
        if not (isinstance(rec, dict) and number(rec.get("epoch")) and number(rec.get("cost"))):
            raise ValueError(f"{path}: 'history' entry {i} must be an object with a numeric 'epoch' and 'cost'")
        bad = [k for k in ("val_cost", "accuracy", "val_accuracy", "time", "learning_rate")
               if rec.get(k) is not None and not number(rec[k])]
        if bad:
            raise ValueError(f"{path}: 'history' entry {i} has a non-numeric {bad[0]!r}")
    for split in ("train", "validation", "test"):
        m = metrics.get(split)
        if m is not None and not all(number(m.get(k)) or m.get(k) is None for k in ("cost", "accuracy", "n")):
            raise ValueError(f"{path}: {split!r} must hold a numeric 'cost' (and 'accuracy', 'n')")


#: A streamed data set (``npy:``, ``hdf5:``, ``zarr:``: X read from disk block by block) is
#: reported on the first this-many rows of each split, held in memory.
STREAMED_ROWS = 2000


def load_run_dataset(run: Run, data_dir: str | os.PathLike[str] | None = None, name: str | None = None) -> Dataset:
    """The run's data set, split as in training (same name, seed, fractions and limit); ``name``
    (the user's choice) replaces the recorded one, which is trusted only beside the model
    (``deltaprop.recorded``)."""
    from ..datasets import load_recorded
    from ..recorded import recorded_dataset

    name, options = recorded_dataset(run.header, run.model_path, name)  # the model file's record
    return load_recorded(options, name=name, data_dir=data_dir, download=False)


# ============================================================================ pieces
def _png_data_uri(image, vmax) -> str:
    """A small greyscale image (ink dark) as a PNG data: URI."""
    from matplotlib import image as mpimg  # (imsave needs no backend: the user's stays as it is)

    buf = io.BytesIO()
    mpimg.imsave(buf, np.asarray(image, dtype=np.float64), cmap="gray_r", vmin=0.0, vmax=float(vmax), format="png")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def choose_examples(net: Network, ds: Dataset, count: int) -> list:
    """Rows of the explained split (``defaults.EXPLAIN_SPLIT``, the training examples) to show:
    for a classifier, the first correctly classified
    example of successive classes, and the first misclassified one (if any) as the last;
    otherwise the first rows."""
    X, y = ds.split(defaults.EXPLAIN_SPLIT)  # the split the derivations explain
    m = len(X)
    count = max(1, min(int(count), m))
    if ds.task != "classification":
        return list(range(count))
    pred = net.predict(X)
    truth = ds.labels(y)
    right = np.asarray(pred) == np.asarray(truth)
    picks = []
    wrong = np.flatnonzero(~right)
    want_wrong = count > 1 and len(wrong) > 0
    for c in range(len(ds.classes)):
        if len(picks) >= count - int(want_wrong):
            break
        rows = np.flatnonzero((np.asarray(y) == c) & right)
        if len(rows):
            picks.append(int(rows[0]))
    if want_wrong:
        picks.append(int(wrong[0]))
    for r in range(m):  # fewer classes than wanted
        if len(picks) >= count:
            break
        if r not in picks:
            picks.append(r)
    return picks


def _check_rows(rows, m: int) -> list:
    """Chosen rows of the explained split, each in 0..m-1 (duplicates dropped), else a ValueError."""
    bad = [r for r in rows if not 0 <= r < m]
    if bad:
        raise ValueError(f"examples: row {bad[0]} is out of range; the {defaults.EXPLAIN_SPLIT} split has "
                         f"{m} rows (0..{m - 1})")
    return list(dict.fromkeys(int(r) for r in rows))


def _example_info(net, ds, rows) -> list:
    X, y = ds.split(defaults.EXPLAIN_SPLIT)  # the split the derivations explain
    out = []
    proba = None
    if ds.task == "classification":
        proba = net.predict_proba(X[rows])
    names = [str(n) for n in (ds.class_names or [str(c) for c in ds.classes])] if ds.classes is not None else None
    for i, row in enumerate(rows):
        info = {"row": int(row)}
        if proba is not None:
            c = int(y[row])
            p = int(np.argmax(proba[i]))
            info.update(label=names[c], predicted=names[p], p=round(float(proba[i][p]), 4), correct=c == p)
        else:
            info["target"] = np.asarray(y[row]).round(6).tolist()
        if ds.image_shape is not None:
            info["image"] = _png_data_uri(X[row].reshape(ds.image_shape), ds.pixel_max or X.max())
        elif ds.n_features <= 4:
            info["x"] = [round(float(v), 5) for v in X[row]]
        out.append(info)
    return out


def _symbols(net, parameter_ids) -> dict:
    """{id: {notation: MathML}}: each parameter's symbol in each notation."""
    from ..explain.notation import get_notation

    notations = {key: get_notation(key, net.sizes) for key in NOTATIONS}
    out = {}
    for pid in parameter_ids:
        kind, l, j, k = diagram.parse_id(pid)
        out[pid] = {
            key: latex_to_mathml((n.weight(l, j, k) if kind == "weight" else n.bias(l, j)).latex)
            for key, n in notations.items()
        }
    return out


def _derivations(net, ds, parameter_ids, rows) -> tuple[dict, dict]:
    """({id: [{notation: html} per example]}, {id: [∂C_x/∂θ per example]}): ``explain``'s
    derivation of each parameter's gradient for each example (the example's own cost, no L2),
    in each notation, and the gradient's value."""
    from ..explain import explain

    X, y = ds.split(defaults.EXPLAIN_SPLIT)  # raw inputs and labels: explain applies the model's own
    Y = ds.labels(y)                         # preprocessing and class encoding (the input contract)
    derivations, gradients = {}, {}
    for pid in parameter_ids:
        kind, l, j, k = diagram.parse_id(pid)
        spec = {"weight": (l, j, k)} if kind == "weight" else {"bias": (l, j)}
        per_example = []
        gradients[pid] = []
        for row in rows:
            e = explain(net, X, Y, sample=int(row), notation="3b1b", training=defaults.EXPLAIN_SPLIT == "train", **spec)
            gradients[pid].append(float(e.value))
            per_example.append(
                {key: markdown_to_html(dataclasses.replace(e, notation=key).to_markdown()) for key in NOTATIONS}
            )
        derivations[pid] = per_example
    return derivations, gradients


def _openings(gradients, examples) -> dict:
    """Where the panel opens: the parameter with the largest |∂C_x/∂θ| for the first correctly
    classified example ("right", the first example when nothing is classified), and for the first
    misclassified one ("wrong", when there is one): {name: {"param": id, "example": index}}."""
    if not gradients or not examples:
        return {}
    right = [i for i, e in enumerate(examples) if e.get("correct", True)]
    wrong = [i for i, e in enumerate(examples) if e.get("correct") is False]
    out = {}
    for name, picks in (("right", right or [0]), ("wrong", wrong)):
        if picks:
            i = picks[0]
            pid = max(gradients, key=lambda p: abs(gradients[p][i]))
            out[name] = {"param": pid, "example": i, "row": examples[i]["row"]}
    return out


def _pack(payload: dict) -> str:
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return base64.b64encode(gzip.compress(raw, compresslevel=9, mtime=0)).decode("ascii")


#: What inline JSON must not contain as itself: "<" (so no "</script>" or "<!--" can end the
#: element or change how it is parsed), ">" and "&", and U+2028/U+2029 (line breaks to older
#: JavaScript parsers). Each becomes its JSON escape (\u003c ...), which JSON.parse reads back.
_JSON_ESCAPES = str.maketrans({c: f"\\u{ord(c):04x}" for c in "<>&\u2028\u2029"})


def _script_json(data) -> str:
    """JSON that is safe inside <script>, whatever text (labels, column names) it carries."""
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).translate(_JSON_ESCAPES)


def _esc(x) -> str:
    return html.escape(str(x))


def _layer_names(net) -> list:
    L = net.n_layers
    names = [f"input ({net.sizes[0]})"]
    for l in range(1, L + 1):
        g = net.activations[l - 1].name
        names.append(f"{'output' if l == L else f'hidden {l}'} ({net.sizes[l]}, {g})")
    return names


def _parameter_table(net, sel, derived, l2, n_train) -> list:
    out = []
    for pid in sel.parameter_ids:
        kind, l, j, k = diagram.parse_id(pid)
        if kind == "weight":
            value = float(net.weights[l - 1][j, k])
            ref = f"net.weights[{l - 1}][{j}, {k}]"
            joins = f"neuron {k} of layer {l - 1} → neuron {j} of layer {l}"
            cli = f"--weight {l}:{j},{k}"
        else:
            value = float(net.biases[l - 1][j])
            ref = f"net.biases[{l - 1}][{j}]"
            joins = f"bias of neuron {j} of layer {l}"
            cli = f"--bias {l}:{j}"
        entry = {"id": pid, "kind": kind, "l": l, "j": j, "k": k, "value": float(f"{value:.8g}"),
                 "ref": ref, "joins": joins, "cli": cli, "derived": pid in derived}
        if kind == "weight" and l2 and n_train:
            entry["decay"] = float(f"{l2 / n_train * value:.6g}")
        out.append(entry)
    return out


# ============================================================================ the page
def build_report(run_dir: str | os.PathLike[str] | Run, dataset: Dataset | str | None = None, *,
                 data_dir: str | os.PathLike[str] | None = None,
                 examples: int | list[int] | tuple[int, ...] = N_EXAMPLES,
                 max_parameters: int = MAX_DERIVED_PARAMETERS) -> str:
    """The report of the run in ``run_dir`` as one HTML document (a str).

    ``dataset``: the run's ``Dataset`` if already loaded, or a data-set name to load (else it
    is loaded again from the run's options, a recorded file only beside the model — see
    ``deltaprop.recorded``; ``data_dir`` where MNIST files are). When it cannot be loaded the
    page says so and a ``UserWarning`` gives the reason. ``examples``: how many training examples
    get stored derivations (chosen by ``choose_examples``), or a list of their row indices in the
    explained split; ``max_parameters``: at most this many parameters get them."""
    from .. import __version__

    if isinstance(examples, (list, tuple)):
        if not examples or any(isinstance(r, bool) or not isinstance(r, int) for r in examples):
            raise ValueError(f"examples must be a count or a list of row indices, got {examples!r}")
    elif isinstance(examples, bool) or not isinstance(examples, int) or examples < 1:
        raise ValueError(f"examples must be a positive integer or a list of row indices, got {examples!r}")
    if isinstance(max_parameters, bool) or not isinstance(max_parameters, int) or max_parameters < 0:
        raise ValueError(f"max_parameters must be an integer ≥ 0, got {max_parameters!r}")
    run = run_dir if isinstance(run_dir, Run) else load_run(run_dir)
    net = run.net
    history = run.history
    opts = run.options
    notes = []

    ds = dataset
    if ds is None or isinstance(ds, str):
        try:
            ds = load_run_dataset(run, data_dir=data_dir, name=ds)
        except (ValueError, OSError) as exc:
            # the reason goes to the caller, not into the page: it may quote the file's contents
            warnings.warn(f"the data set could not be loaded again: {exc}", stacklevel=2)
            notes.append(f"The data set could not be loaded again ({type(exc).__name__}); the views "
                         "that need it (derivations, decision boundary, confusion matrix) are left out.")
            ds = None
    if ds is not None and ds.streamed:  # npy:/hdf5:/zarr: read from disk: the page explains its first rows
        ds = ds.head(STREAMED_ROWS)
    if ds is not None and ds.n_features != net.sizes[0]:
        notes.append(f"The data set {ds.name} has {ds.n_features} features but the network's input layer "
                     f"has {net.sizes[0]}; the views that need the data are left out.")
        warnings.warn(notes[-1][0].lower() + notes[-1][1:], stacklevel=2)  # the caller hears it too
        ds = None

    sel = diagram.select(net)
    rows = []
    if ds is not None and isinstance(examples, int):
        rows = choose_examples(net, ds, examples)
    elif ds is not None:
        rows = _check_rows(examples, len(ds.split(defaults.EXPLAIN_SPLIT)[0]))
    derived_ids = sel.priority(net)[:max_parameters] if ds is not None else []
    derived = set(derived_ids)
    n_train = len(ds.X_train) if ds is not None else None
    l2 = float(opts.get("l2") or 0.0)

    data = {
        "title": "",
        "notations": NOTATIONS,
        "parameters": _parameter_table(net, sel, derived, l2, n_train),
        "examples": _example_info(net, ds, rows) if ds is not None else [],
        "l2": l2,
        "n_train": n_train,
        "model": None if run.model_path is None else str(run.model_path),
        "figures": {},
        "history": [{k: v for k, v in r.items() if k != SNAPSHOT_KEY} for r in history],  # snapshots: in the figure
        "sizes": list(net.sizes),
    }
    derivations, gradients = _derivations(net, ds, derived_ids, rows) if ds is not None else ({}, {})
    data["openings"] = _openings(gradients, data["examples"])
    payload = {"derivations": derivations, "symbols": _symbols(net, sel.parameter_ids)}
    packed = _pack(payload)

    # ---------------------------------------------------------------- charts
    figs = data["figures"]
    if history:
        figs["curves"] = figures.learning_curves(history, run.metrics.get("best_epoch") if run.metrics.get("stop_reason") == "early_stopping" else None)
    grad_fig = figures.gradient_norms(history, net.sizes) if history else None
    if grad_fig is not None:
        figs["gradients"] = grad_fig
    figs["histograms"] = figures.weight_histograms([np.asarray(W) for W in net.weights])
    mistakes = []
    confusion_split = None
    if ds is not None:
        if ds.task == "classification" and ds.n_features == 2 and net.classes_ is not None:
            figs["boundary"] = figures.decision_boundary(net, ds, highlight=rows,
                                                         snapshots=read_snapshots(history, net.sizes))
        if ds.image_shape is not None and net.n_layers >= 2:
            shown = sel.neurons[1]
            norms = np.linalg.norm(np.asarray(net.weights[0], dtype=np.float64), axis=1)
            extra = [int(j) for j in np.argsort(-norms, kind="stable") if int(j) not in shown]
            neurons = sorted(list(shown) + extra[: max(0, MAX_WEIGHT_IMAGES - len(shown))])[:MAX_WEIGHT_IMAGES]
            figs["first_layer"] = figures.first_layer_images(net.weights[0], ds.image_shape, neurons)
        if ds.task == "classification" and net.classes_ is not None and len(ds.classes) <= 40:
            for split, X, y in (("test", ds.X_test, ds.y_test), ("validation", ds.X_val, ds.y_val)):
                if len(X):
                    confusion_split = split
                    break
            if confusion_split is not None:
                names = [str(n) for n in (ds.class_names or [str(c) for c in ds.classes])]
                proba = net.predict_proba(X)
                if proba.shape[1] == len(names):
                    pred = proba.argmax(axis=1)
                    figs["confusion"] = figures.confusion_matrix(y, pred, names)
                    data["class_metrics"] = _class_metrics(y, pred, names, confusion_split)
                    if ds.image_shape is not None:
                        for i in np.flatnonzero(pred != np.asarray(y))[:MAX_MISTAKES]:
                            mistakes.append({
                                "row": int(i), "label": names[int(y[i])], "predicted": names[int(pred[i])],
                                "p": float(proba[i, pred[i]]),
                                "image": _png_data_uri(X[i].reshape(ds.image_shape), ds.pixel_max or X.max()),
                            })

    # ---------------------------------------------------------------- the body
    dataset_name = ds.name if ds is not None else (opts.get("dataset") or "?")
    title = f"deltaprop report: {dataset_name}, network {'-'.join(map(str, net.sizes))}"
    data["title"] = title
    input_labels = output_labels = None
    names = [str(f) for f in net.feature_names] if net.feature_names is not None else None
    if names and not all(re.fullmatch(r"x\d+", f) for f in names):
        input_labels = names  # the model's own names; generic ones (x1, x2 of moons) give way to x0, x1, ...: the index
    if net.classes_ is not None and ds is not None and ds.task == "classification":
        output_labels = [str(n) for n in (ds.class_names or [str(c) for c in ds.classes])]
    elif net.classes_ is not None:
        output_labels = [str(c) for c in net.classes_]
    if output_labels is not None and net.sizes[-1] == 1:  # one sigmoid: a = P(the second class)
        output_labels = [f"P({output_labels[-1]})"]
    svg = diagram.render_svg(net, sel, derived, _layer_names(net), input_labels, output_labels)

    body = [
        _summary(run, net, ds, opts, notes),
        _section("curves", "Learning curves",
                 "<p>The training cost of an epoch is the mean of its mini-batch costs (with the L2 penalty); "
                 "the validation cost is the data cost alone. Hover for the values.</p>"
                 + ('<div id="fig-curves" class="chart"></div>' if "curves" in figs else "<p>No history recorded.</p>")),
        _network_section(svg, sel, data, derived_ids, rows, ds, net),
        _gradients_section("gradients" in figs, net),
        _data_section(figs, ds, mistakes, confusion_split, data.get("class_metrics")),
        _reproduce_section(run),
    ]
    packed_note = len(packed)
    template = (ASSETS / "template.html").read_text(encoding="utf-8")
    css = (ASSETS / "report.css").read_text(encoding="utf-8")
    js = (ASSETS / "report.js").read_text(encoding="utf-8")
    plotly_js, plotly_version = _plotly_js()
    data["plotly_template"] = figures.template_json()
    footer = (
        f"<footer>Made by deltaprop {_esc(__version__)} on "
        f"{datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')} with "
        f"<code>deltaprop report</code>. One self-contained file: charts by plotly.js {_esc(plotly_version)} "
        f"(inline), math as MathML made by latex2mathml, derivations stored compressed "
        f"({packed_note / 1024:.0f} KB). Nothing is fetched when it is opened.</footer>"
    )
    replacements = {
        "TITLE": _esc(title),
        "CSS": css,
        "BODY": "\n".join(body) + footer,
        "PLOTLY_JS": plotly_js,
        "DATA": _script_json(data),
        "DERIVATIONS": packed,
        "REPORT_JS": js,
    }
    return re.sub(r"/\*@([A-Z_]+)@\*/", lambda m: replacements[m.group(1)], template)


def _plotly_js():
    import plotly
    from plotly.offline import get_plotlyjs

    js = get_plotlyjs()
    if "</script" in js.lower():  # would end the inline <script> early
        js = re.sub(r"</script", r"<\\/script", js, flags=re.IGNORECASE)
    match = re.search(r"plotly\.js v([0-9][0-9.]*)", js[:2000])
    return js, match.group(1) if match else f"(plotly.py {plotly.__version__})"


def _section(sid, title, inner) -> str:
    return f'<section id="{sid}"><h2>{_esc(title)}</h2>{inner}</section>'


def _fmt_pct(x):
    return f"{x:.2%}" if isinstance(x, (int, float)) else "–"


def _summary(run, net, ds, opts, notes) -> str:
    acts = ", ".join(g.name for g in net.activations)
    chips = [
        ("data", f"{ds.name}: {len(ds.X_train)} train / {len(ds.X_val)} validation / {len(ds.X_test)} test"
         if ds is not None else str(opts.get("dataset", "?"))),
        ("network", f"{'-'.join(map(str, net.sizes))} ({acts}); cost {net.cost_name}; {net.n_params} parameters; {net.dtype.name}"),
    ]
    if opts:
        chips.append(("training", f"{opts.get('optimizer', '?')} α={opts.get('learning_rate', '?')}, batch {opts.get('batch_size', '?')}, "
                                  f"λ={opts.get('l2', 0)}, {len(run.history)} epochs, seed {run.seed}"))
    metrics = run.split_metrics
    for split in ("test", "validation"):
        m = metrics.get(split)
        if m:
            acc = m.get("accuracy")
            chips.append((f"{split}", (f"accuracy {_fmt_pct(acc)}, " if acc is not None else "")
                          + f"cost {m.get('cost', float('nan')):.4f} ({m.get('n', '?')} examples)"))
            break
    if run.metrics.get("stop_reason") and run.metrics.get("stop_reason") != "completed":
        chips.append(("stopped", f"{run.metrics['stop_reason']} (best epoch {run.metrics.get('best_epoch')})"))
    items = "".join(f'<div class="chip"><span>{_esc(k)}</span>{_esc(v)}</div>' for k, v in chips)
    desc = f'<p class="desc">{_esc(ds.description)}</p>' if ds is not None and ds.description else ""
    note_html = "".join(f'<p class="note">{_esc(n)}</p>' for n in notes)
    return (f'<header><h1>Training report: {_esc(ds.name if ds is not None else opts.get("dataset", "run"))}'
            f' <small>network {"-".join(map(str, net.sizes))}</small></h1>{desc}'
            f'<div class="chips">{items}</div>{note_html}</header>')


def _network_section(svg, sel, data, derived_ids, rows, ds, net) -> str:
    n_params = len(sel.parameter_ids)
    n_der = len(derived_ids)
    per = len(rows) * len(NOTATIONS)
    if ds is None:
        bound = "No derivations: the data set is not available."
    else:
        bound = (
            f"The page stores derivations for {n_der} of the {n_params} parameters drawn (at most "
            f"{MAX_DERIVED_PARAMETERS}: the strongest connections of each layer and the drawn neurons' biases, "
            f"in turn) × {len(rows)} training examples × {len(NOTATIONS)} notations = {n_der * per} derivations. "
            "Dashed connections and neurons have none stored: clicking one shows the command that explains it."
        )
    if any(sel.notes):
        bound = (f"Layers wider than {diagram.MAX_NEURONS} neurons show their {diagram.MAX_NEURONS} busiest "
                 "(largest weights in and out), and at most "
                 f"{diagram.MAX_EDGES} connections are drawn between two layers, the strongest. ") + bound
    legend = (
        '<div class="legend"><span><i class="swatch pos"></i>positive weight</span>'
        '<span><i class="swatch neg"></i>negative weight</span>'
        "<span>width and opacity: |w| relative to the layer's largest</span>"
        "<span>neuron fill: its bias</span></div>"
    )
    l2_note = ""
    if data["l2"]:
        l2_note = (
            f"<p class=\"small\">Each derivation is of one example's data cost C<sub>x</sub>, the equations of "
            f"backpropagation. Training also adds the L2 term (λ/n)·w (λ = {data['l2']:g}, n = {data['n_train']} "
            f"training examples) to every weight's gradient; the panel shows that number under the derivation.</p>"
        )
    panel = (
        '<aside id="panel">'
        '<div class="controls">'
        '<label>parameter <select id="param-picker"></select></label>'
        '<label>example <select id="example-picker"></select></label>'
        '<label>notation <select id="notation-picker"></select></label>'
        "</div>"
        '<div id="openings" class="small"></div><div id="param-header"></div><div id="example-info"></div>'
        '<div id="derivation" class="derivation" aria-live="polite"><p class="small">Loading the derivations…</p></div>'
        f"{l2_note}"
        "</aside>"
    )
    hist = ('<h3>Weights per layer</h3><p class="small">Every weight of each matrix, binned '
            '(the diagram draws only the strongest connections of wide layers).</p>'
            '<div id="fig-histograms" class="chart histograms"></div>')
    intro = (
        "<p>Click a connection (a weight) or a neuron (its bias), or pick one from the list: the panel shows "
        "the chain rule that gives ∂C/∂θ for the chosen training example, with this network's numbers, in the "
        "chosen notation. Every number comes from <code>net.backward</code> when the report was made; the page "
        "computes nothing.</p>"
    )
    return _section(
        "network", "The network, and where each gradient comes from",
        intro + f'<div class="network-grid"><div class="diagram">{svg}{legend}<p class="small bound" id="bound">{_esc(bound)}</p>{hist}</div>{panel}</div>',
    )


def _gradients_section(present, net) -> str:
    if not present:
        inner = ("<p>This run has no gradient norms (it was trained before deltaprop recorded them); "
                 "train it again to see them.</p>")
    else:
        from ..monitor import DEFAULT_MAX_ROWS

        inner = (
            f"<p>‖∂C/∂W<sup>l</sup>‖ for each layer at the end of every epoch: one <code>net.backward</code> on a fixed "
            f"subset of at most {DEFAULT_MAX_ROWS} training examples, data cost only (the L2 term stays in its layer). "
            "With sigmoid or tanh hidden layers the early layers get much smaller gradients than the late ones — "
            "the vanishing gradient. Click the legend for the bias norms ‖∂C/∂b<sup>l</sup>‖.</p>"
            '<div id="fig-gradients" class="chart"></div>'
        )
    return _section("gradients", "Gradient norms per layer", inner)


def _class_metrics(y_true, y_pred, names, split) -> dict:
    """Per-class precision, recall and support on ``split`` (scikit-learn's numbers; a class
    never predicted gets precision 0)."""
    from sklearn.metrics import precision_recall_fscore_support

    precision, recall, _, support = precision_recall_fscore_support(
        y_true, y_pred, labels=list(range(len(names))), zero_division=0)
    return {"split": split, "rows": [
        {"class": name, "precision": float(p), "recall": float(r), "support": int(n)}
        for name, p, r, n in zip(names, precision, recall, support)
    ]}


def _class_metrics_table(metrics) -> str:
    if not metrics:
        return ""
    rows = "".join(
        f"<tr><th>{_esc(m['class'])}</th><td>{m['precision']:.3f}</td><td>{m['recall']:.3f}</td>"
        f"<td>{m['support']}</td></tr>"
        for m in metrics["rows"]
    )
    return (f'<table id="class-metrics"><caption>per class ({_esc(metrics["split"])} split)</caption>'
            "<thead><tr><th>class</th><th>precision</th><th>recall</th><th>support</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>")


def _data_section(figs, ds, mistakes, confusion_split, class_metrics=None) -> str:
    parts = []
    if "boundary" in figs:
        parts.append(
            "<h3>Decision boundary</h3><p class=\"small\">What the network predicts over the plane, with the "
            "training (•) and test (×) points; rings mark the examples the panel explains."
            + (" Move the slider or press play to watch it form, epoch by epoch." if figs["boundary"].get("frames") else "")
            + "</p>"
            '<div id="fig-boundary" class="chart"></div>'
        )
    if "first_layer" in figs:
        parts.append(
            "<h3>First layer's weights as images</h3><p class=\"small\">Row j of W<sup>1</sup> (the weights into hidden "
            "neuron j) laid out like the input image: blue pixels excite the neuron, orange ones inhibit it. Each image "
            "is scaled to its own largest |w|; hover for the weight.</p>"
            '<div id="fig-first_layer" class="chart"></div>'
        )
    if "confusion" in figs:
        parts.append(
            f"<h3>Confusion matrix ({_esc(confusion_split)} split)</h3>"
            '<div class="confusion-row"><div id="fig-confusion" class="chart confusion"></div>'
            f"{_class_metrics_table(class_metrics)}</div>"
        )
    if mistakes:
        cells = "".join(
            f'<figure class="mistake"><img alt="{_esc(m["label"])} predicted {_esc(m["predicted"])}" src="{m["image"]}">'
            f'<figcaption>#{m["row"]}: <b>{_esc(m["label"])}</b> → {_esc(m["predicted"])} ({m["p"]:.0%})</figcaption></figure>'
            for m in mistakes
        )
        parts.append(
            f"<h3>Examples of mistakes ({_esc(confusion_split)} split)</h3><p class=\"small\">true class → predicted "
            f"(the network's probability for it).</p><div class=\"mistakes\">{cells}</div>"
        )
    if not parts:
        return ""
    title = "The data and the predictions"
    return _section("data", title, "".join(parts))


def _reproduce_section(run) -> str:
    rows = []
    command = run.command or "(not recorded)"
    rows.append(f"<p>Command:</p><pre id=\"command\">{_esc(command)}</pre>")
    rows.append(f"<p>Seed: <code id=\"seed\">{_esc(run.seed)}</code> (the split, the initial weights and the shuffling). "
                "Run the command again with these versions for the same weights.</p>")
    versions = run.versions or {}
    vt = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in versions.items())
    ot = "".join(f"<tr><th>{_esc(k)}</th><td>{_esc(v)}</td></tr>" for k, v in sorted(run.options.items()))
    rows.append(f'<div class="tables"><table id="versions"><caption>versions</caption>{vt}</table>'
                f'<table id="options"><caption>options</caption>{ot}</table></div>')
    if run.run_dir is not None:
        rows.append(f"<p class=\"small\">Run directory: <code>{_esc(run.run_dir)}</code></p>")
    return _section("reproduce", "Reproduce this run", "".join(rows))


def write_report(run_dir: str | os.PathLike[str], path: str | os.PathLike[str] | None = None,
                 dataset: Dataset | str | None = None, *, data_dir: str | os.PathLike[str] | None = None,
                 examples: int | list[int] | tuple[int, ...] = N_EXAMPLES,
                 max_parameters: int = MAX_DERIVED_PARAMETERS) -> Path:
    """Build the report of ``run_dir`` (``build_report``, which the keyword arguments go to) and
    write it atomically to ``path`` (default ``RUN_DIR/report.html``). Returns the path written."""
    from ..atomic import atomic_write_text

    html_text = build_report(run_dir, dataset, data_dir=data_dir, examples=examples, max_parameters=max_parameters)
    if path is None:
        base = Path(run_dir)
        path = (base.parent if base.is_file() else base) / "report.html"
    path = Path(path)
    atomic_write_text(path, html_text)
    return path


# ============================================================================ reading back
def read_report_data(html_text: str) -> dict:
    """The page's JSON data (figures, parameters, examples, history) from a report."""
    match = re.search(r'<script type="application/json" id="report-data">(.*?)</script>', html_text, re.S)
    if match is None:
        raise ValueError("not a deltaprop report: no report-data element")
    return json.loads(match.group(1))


def read_derivations(html_text: str) -> dict:
    """The stored derivations of a report: {"derivations": {id: [{notation: html}]}, "symbols": ...}."""
    match = re.search(r'<script type="application/octet-stream" id="derivations"[^>]*>\s*([A-Za-z0-9+/=]*)\s*</script>', html_text)
    if match is None:
        raise ValueError("not a deltaprop report: no derivations element")
    return json.loads(gzip.decompress(base64.b64decode(match.group(1))).decode("utf-8"))
