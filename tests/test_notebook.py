"""deltaprop in a notebook (issue 14), end to end: ``tests/notebooks/displays.ipynb`` executed by
nbconvert's ExecutePreprocessor in a real kernel, its outputs read back, then its HTML export
(lab template) opened offline in Chromium. Plus, without Jupyter: ``deltaprop.report(...)`` from
Python, and importing every module leaves matplotlib's backend alone.

The notebook tests are skipped (with the reason) when nbconvert, ipykernel or a ``python3``
kernel is missing, the browser test also without Playwright or Chromium; CI installs them. None
of this is in the fast selection (``-m fast``, tests/conftest.py). Set DELTAPROP_SCREENSHOT_DIR
to keep a screenshot of the exported notebook.

The widget state is not saved with the executed notebook (nbclient's ``store_widget_state``
off, as JupyterLab leaves it by default): a viewer without a kernel shows each widget's static
fallback, which is what the export must make readable.
"""

import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

import deltaprop
from deltaprop.datasets import load_dataset

NOTEBOOK = Path(__file__).parent / "notebooks" / "displays.ipynb"
KERNEL = "python3"
#: Cells (by tag) whose output is a deltaprop display, and those of them with math in it.
DISPLAYS = ("network", "summary", "history", "explain", "explain_layer", "sensitivity", "gradcheck", "report", "nudge")
WITH_MATH = ("explain", "explain_layer", "sensitivity", "nudge")
#: What raw LaTeX looks like in visible text.
RAW_LATEX = re.compile(r"\$[^$\n]+\$|\\(?:frac|partial|sum|cdot|delta|sigma|mathbf|begin)\b")
#: A dataclass-style repr, not the readable text: Explanation(derivation=..., notation=...).
DATACLASS_REPR = re.compile(r"^\w+\(\w+=")


# ---------------------------------------------------------------------------- executing the notebook
@pytest.fixture(scope="module")
def executed(tmp_path_factory):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is not installed (pip install nbformat)")
    preprocessors = pytest.importorskip("nbconvert.preprocessors", reason="nbconvert is not installed (pip install nbconvert)")
    pytest.importorskip("ipykernel", reason="ipykernel is not installed (pip install ipykernel)")
    from jupyter_client.kernelspec import find_kernel_specs

    if KERNEL not in find_kernel_specs():
        pytest.skip(f"no {KERNEL!r} Jupyter kernel (pip install ipykernel; see jupyter kernelspec list)")
    nb = nbformat.read(NOTEBOOK, as_version=4)
    run_dir = tmp_path_factory.mktemp("notebook")
    client = preprocessors.ExecutePreprocessor(timeout=120, kernel_name=KERNEL, store_widget_state=False)
    client.preprocess(nb, {"metadata": {"path": str(run_dir)}})
    return nb


def cell(nb, tag):
    (found,) = [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]
    return found


def shown(nb, tag) -> dict:
    """The mime bundle a cell displays as its result (its last rich output)."""
    rich = [o for o in cell(nb, tag).outputs if o.output_type in ("execute_result", "display_data")]
    assert rich, f"cell {tag!r} displayed nothing: {cell(nb, tag).outputs}"
    return rich[-1].data


def test_the_notebook_runs_and_importing_deltaprop_leaves_the_inline_backend(executed):
    text = "".join(o.get("text", "") for o in cell(executed, "imports").outputs)
    assert "matplotlib backend, unchanged by deltaprop: " in text
    assert "inline" in text  # the kernel's own backend, still in place after every module


@pytest.mark.parametrize("tag", DISPLAYS)
def test_each_display_offers_html_and_readable_text(executed, tag):
    data = shown(executed, tag)
    assert "text/html" in data, f"{tag}: only {sorted(data)}"
    plain = data.get("text/plain", "")
    assert plain.strip(), f"{tag}: no text/plain"
    if tag != "network":  # (a Network's text is its constructor-style repr, like an estimator's)
        assert not DATACLASS_REPR.match(plain) and "array(" not in plain, f"{tag}: text/plain is a repr: {plain[:200]}"
    if tag in WITH_MATH:
        assert "<math" in data["text/html"], f"{tag}: no MathML in its HTML"
    assert not RAW_LATEX.search(re.sub(r"<[^>]+>", "", data["text/html"])) or tag == "report", tag


def test_fit_verbose_is_one_updating_display_not_a_line_per_epoch(executed):
    outputs = cell(executed, "fit").outputs
    displays = [o for o in outputs if o.output_type in ("display_data", "execute_result")]
    # a text bar that Jupyter redraws: what remains of each line once "\r" has rewritten it
    lines = [line.split("\r")[-1] for o in outputs if o.output_type == "stream"
             for line in o.text.splitlines() if line.split("\r")[-1].strip()]
    assert len(displays) + len(lines) == 1, outputs


def test_fit_progress_shows_its_last_epoch_without_a_kernel(executed):
    """What an exported notebook (no widget state) shows of the bar: its end, not its start."""
    outputs = cell(executed, "fit").outputs
    text = "".join(o.data.get("text/plain", "") if "data" in o else o.get("text", "").split("\r")[-1] for o in outputs)
    assert "3/3" in text, text


def test_the_report_is_an_iframe_holding_the_escaped_page(executed):
    page = shown(executed, "report")["text/html"]
    match = re.fullmatch(r'<iframe [^>]*srcdoc="([^"]*)"[^>]*></iframe>', page.strip(), re.S)
    assert match, page[:300]
    inner = html.unescape(match.group(1))
    assert inner.startswith("<!DOCTYPE html>") and "</html>" in inner
    assert 'id="report-data"' in inner


# ---------------------------------------------------------------------------- the HTML export, offline
def test_the_html_export_shows_no_raw_latex_offline(executed, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")
    from nbconvert import HTMLExporter

    chromium = next((c for c in (os.environ.get("DELTAPROP_CHROMIUM"), shutil.which("chromium"),
                                 shutil.which("chromium-browser"), "/usr/bin/chromium") if c and Path(c).exists()), None)
    if chromium is None:
        pytest.skip("no Chromium binary (apt-get install chromium, or set DELTAPROP_CHROMIUM)")
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(executed)
    page_path = tmp_path / "displays.html"
    page_path.write_text(body, encoding="utf-8")
    profile = tempfile.mkdtemp(prefix="deltaprop-chromium-")
    try:
        with sync_api.sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile, executable_path=chromium, headless=True, viewport={"width": 1200, "height": 900},
                args=["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"])
            try:
                blocked = []
                context.route("**/*", lambda route: route.continue_()
                              if route.request.url.startswith(("file:", "data:", "blob:", "about:"))
                              else (blocked.append(route.request.url), route.abort()))
                page = context.new_page()
                page.goto(page_path.as_uri(), wait_until="load")
                texts = {tag: page.locator(f".celltag_{tag} .jp-OutputArea").inner_text() for tag in DISPLAYS}
                n_math = page.locator(".jp-OutputArea math").count()
                shots = os.environ.get("DELTAPROP_SCREENSHOT_DIR")
                if shots:
                    Path(shots).mkdir(parents=True, exist_ok=True)
                    for tag in ("explain", "nudge", "fit", "summary"):
                        page.locator(f".celltag_{tag}").screenshot(path=str(Path(shots) / f"notebook-{tag}.png"))
                    page.screenshot(path=str(Path(shots) / "notebook.png"), full_page=True)
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
    raw = {tag: RAW_LATEX.findall(text)[:3] for tag, text in texts.items() if RAW_LATEX.search(text)}
    assert raw == {}, f"raw LaTeX in the exported notebook: {raw}"
    assert all(texts[tag].strip() for tag in DISPLAYS), {t: x[:80] for t, x in texts.items()}
    assert n_math > 20  # the derivations' math, as MathML the browser renders itself


# ---------------------------------------------------------------------------- without Jupyter
def test_importing_every_module_leaves_matplotlibs_backend_alone():
    code = ("import importlib, pkgutil, matplotlib, deltaprop\n"
            "for module in pkgutil.walk_packages(deltaprop.__path__, 'deltaprop.'):\n"
            "    importlib.import_module(module.name)\n"
            "print(matplotlib.get_backend())\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                         env={**os.environ, "MPLBACKEND": "svg"})
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "svg"


@pytest.fixture(scope="module")
def digits_net():
    ds = load_dataset("digits", seed=0)
    X, y = ds.X_train[:150], ds.labels(ds.y_train[:150])
    net = deltaprop.Network([64, 12, 10], activation="sigmoid", output="softmax", cost="cross_entropy", seed=0)
    net.fit(X, y, epochs=3, seed=0)
    return net, X, y, ds


def test_report_from_python_uses_the_builder_and_saves_atomically(digits_net, tmp_path):
    from deltaprop.report import read_derivations, read_report_data

    net, X, y, ds = digits_net
    before = [W.copy() for W in net.weights]
    rep = deltaprop.report(net, X, y, X_test=ds.X_test, y_test=ds.labels(ds.y_test), name="digits",
                           examples=2, max_parameters=6)
    data = read_report_data(rep.html)
    assert data["title"] == "deltaprop report: digits, network 64-12-10"
    assert [r["epoch"] for r in data["history"]] == [r["epoch"] for r in net.history] and len(data["history"]) == 3
    assert "curves" in data["figures"] and "confusion" in data["figures"] and "first_layer" in data["figures"]
    derivations = read_derivations(rep.html)["derivations"]
    assert len(derivations) == 6 and all(len(per) == 2 for per in derivations.values())
    assert data["model"] is None and "Run directory" not in rep.html  # built in memory: no files, no temporary path
    pid, per = next(iter(derivations.items()))
    kind, l, j, *k = pid.split("-")
    row = data["examples"][0]["row"]
    e = deltaprop.explain(net, X, y, sample=row, **({"weight": (int(l), int(j), int(k[0]))} if kind == "w"
                                                    else {"bias": (int(l), int(j))}))
    assert f"{e.value:.4g}".lstrip("-")[:4] in per[0]["3b1b"].replace("\u2212", "-")  # the engine's number
    assert all(a is b or (a == b).all() for a, b in zip(before, net.weights))
    path = rep.save(tmp_path / "r.html")
    assert path.read_text(encoding="utf-8") == rep.html
    assert [p.name for p in tmp_path.iterdir()] == ["r.html"]  # no temporary file left beside it
    frame = rep._repr_html_()
    assert frame.startswith("<iframe ") and html.unescape(re.search(r'srcdoc="([^"]*)"', frame).group(1)) == rep.html
    assert "digits" in repr(rep) and ".save(path)" in repr(rep)


def test_report_is_callable_yet_still_the_package():
    import deltaprop.report.builder as builder
    from deltaprop.report import write_report

    assert callable(deltaprop.report) and deltaprop.report.write_report is write_report is builder.write_report
    assert "report" in deltaprop.__all__


def test_report_takes_a_fitted_estimator_and_the_model_history(digits_net):
    from deltaprop.report import read_report_data

    _, X, y, _ = digits_net
    clf = deltaprop.MLPClassifier(hidden_layer_sizes=(6,), epochs=2, random_state=0).fit(X, y)
    data = read_report_data(deltaprop.report(clf, X, y, examples=1, max_parameters=2).html)
    assert data["sizes"] == [64, 6, 10] and len(data["history"]) == 2


def test_report_rejects_bad_input_with_one_line(digits_net):
    from deltaprop.report import ReportError

    net, X, y, _ = digits_net
    with pytest.raises(ReportError, match="history entry 0 must have a numeric 'epoch' and 'cost'"):
        deltaprop.report(net, X, y, history=[{"epoch": 1}])
    with pytest.raises(ReportError, match="give both X_test and y_test"):
        deltaprop.report(net, X, y, X_test=X)
    with pytest.raises(ValueError, match="X must have 64 columns|64"):
        deltaprop.report(net, X[:, :5], y)
