"""The training report in a real browser: headless Chromium (Debian's package) driven by
Playwright. The page must load from disk with no console errors and no network, draw its
charts, and show for a clicked connection or neuron a derivation whose number is the
engine's gradient for that parameter and example.

Skipped (with the reason) when Playwright or a Chromium binary is missing; CI installs both
(.ci/run). Set DELTAPROP_CHROMIUM to use another Chromium build."""

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest

sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed (pip install playwright)")

from deltaprop.datasets import load_dataset  # noqa: E402
from deltaprop.modelfile import load  # noqa: E402
from conftest import shown_number


def _chromium():
    for candidate in (os.environ.get("DELTAPROP_CHROMIUM"), shutil.which("chromium"),
                      shutil.which("chromium-browser"), "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


CHROMIUM = _chromium()
if CHROMIUM is None:
    pytest.skip("no Chromium binary (apt-get install chromium, or set DELTAPROP_CHROMIUM)", allow_module_level=True)

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def run_cli(*args):
    result = subprocess.run([sys.executable, "-m", "deltaprop", *map(str, args)], capture_output=True,
                            text=True, timeout=300, env={**os.environ, "COLUMNS": "200"})
    assert result.returncode == 0, result.stderr
    return result


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    base = tmp_path_factory.mktemp("browser")
    run_cli("train", "--dataset", "moons", "--layers", "5,4", "--activation", "tanh", "--epochs", "6",
            "--out", base / "moons", "--report", "--quiet")
    run_cli("train", "--layers", "16", "--epochs", "2", "--out", base / "digits", "--quiet")
    run_cli("report", base / "digits", "--max-parameters", "6", "--examples", "2")
    return {"moons": base / "moons", "digits": base / "digits"}


@pytest.fixture(scope="module")
def browser():
    profile = tempfile.mkdtemp(prefix="deltaprop-chromium-")
    with sync_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, headless=True, args=ARGS,
            viewport={"width": 1400, "height": 1000},
        )
        try:
            yield context
        finally:
            context.close()
            shutil.rmtree(profile, ignore_errors=True)


class Page:
    """A report opened in the browser, with everything it logged and requested."""

    def __init__(self, context, path):
        self.page = context.new_page()
        self.errors, self.requests = [], []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.page.on("request", lambda r: self.requests.append(r.url))
        self.page.goto(Path(path).as_uri())
        self.page.wait_for_function("document.body.dataset.ready !== undefined", timeout=60_000)
        assert self.page.evaluate("document.body.dataset.ready") == "1", self.errors

    def close(self):
        self.page.close()


@pytest.fixture
def moons_page(browser, runs):
    page = Page(browser, runs["moons"] / "report.html")
    yield page
    page.close()


def training_data(run_dir):
    opts = json.loads((run_dir / "metrics.json").read_text())["options"]
    ds = load_dataset(opts["dataset"], seed=opts["seed"], test_fraction=opts["test_fraction"], limit=opts["limit"])
    net = load(run_dir / "model.npz")
    return net, ds.X_train, ds.labels(ds.y_train)  # raw: backward applies the model's preprocessing


def gradient(net, X, Y, pid, row):
    kind, l, j, *k = pid.split("-")
    grads = net.backward(X[row : row + 1], Y[row : row + 1])
    l, j = int(l), int(j)
    return float(grads.weights[l - 1][j, int(k[0])] if kind == "w" else grads.biases[l - 1][j])


def engine_value(page):
    """The gradient the panel shows, read from the rendered derivation."""
    return shown_number(page.locator("#derivation li.engine-value math").last.text_content())


def selected_row(page):
    return int(page.eval_on_selector("#example-picker", "s => s.selectedOptions[0].dataset.row"))


CLICK_POINT = """
(pid) => {
  const g = document.querySelector(`#network-svg [data-param="${pid}"]`);
  g.scrollIntoView({block: "center"});
  const line = g.querySelector("line.hit"), circle = g.querySelector("circle");
  const m = (line || circle).getScreenCTM();
  const pts = [];
  if (line) {
    const [x1, y1, x2, y2] = ["x1", "y1", "x2", "y2"].map(a => +line.getAttribute(a));
    for (const t of [0.5, 0.4, 0.6, 0.3, 0.7, 0.25, 0.75, 0.2, 0.8, 0.15, 0.85]) pts.push([x1 + (x2 - x1) * t, y1 + (y2 - y1) * t]);
  } else {
    pts.push([+circle.getAttribute("cx"), +circle.getAttribute("cy")]);
  }
  for (const [x, y] of pts) {
    const p = new DOMPoint(x, y).matrixTransform(m);
    const hit = document.elementFromPoint(p.x, p.y);
    if (hit && hit.closest("[data-param]") === g) return [p.x, p.y];
  }
  return null;
}
"""


def click_parameter(page, candidates):
    """Click the first of ``candidates`` (ids) that the mouse can reach; returns its id."""
    for pid in candidates:
        point = page.evaluate(CLICK_POINT, pid)
        if point is not None:
            page.mouse.click(*point)
            page.wait_for_function(f"document.getElementById('derivation').dataset.param === '{pid}'")
            return pid
    raise AssertionError(f"none of {candidates[:5]}... could be clicked")


def derived_ids(page, prefix):
    return page.eval_on_selector_all(
        f'#network-svg [data-derived="1"][data-param^="{prefix}"]', "els => els.map(e => e.dataset.param)")


# ---------------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", ["moons", "digits"])
def test_page_loads_offline_without_errors_and_draws_its_charts(browser, runs, name):
    page = Page(browser, runs[name] / "report.html")
    try:
        charts = page.page.evaluate("""() => [...document.querySelectorAll("[id^=fig-]")].map(el => ({
            id: el.id, traces: (el.data || []).length, svg: el.querySelectorAll(".main-svg").length,
            lines: [...el.querySelectorAll(".scatterlayer .js-line")].filter(p => /^M[^M]*L/.test(p.getAttribute("d") || "")).length,
            points: el.querySelectorAll(".scatterlayer .point").length,
            bars: el.querySelectorAll(".barlayer .point").length,
            images: el.querySelectorAll(".hm image").length,
            contours: el.querySelectorAll(".contourlayer path").length}))""")
        by_id = {c["id"]: c for c in charts}
        assert all(c["svg"] > 0 and c["traces"] > 0 for c in charts), charts
        assert by_id["fig-curves"]["lines"] >= 4  # training/validation cost and accuracy
        assert by_id["fig-gradients"]["lines"] >= 2  # ‖∂C/∂W^l‖ per layer (biases: legend only)
        assert by_id["fig-histograms"]["bars"] > 10
        if name == "moons":
            assert by_id["fig-boundary"]["contours"] > 0 and by_id["fig-boundary"]["points"] > 400
        else:
            assert by_id["fig-first_layer"]["images"] == 16  # one per hidden neuron
            assert by_id["fig-confusion"]["images"] == 1
            assert page.page.locator("figure.mistake img").count() > 0
        assert page.page.locator("#derivation math").count() > 10  # MathML, rendered
        box = page.page.locator("#derivation math").first.bounding_box()
        assert box and box["height"] > 5 and box["width"] > 5
        assert page.errors == []
        outside = [u for u in page.requests if not u.startswith(("file:", "data:", "blob:"))]
        assert outside == []
    finally:
        page.close()


def test_learning_curves_show_values_on_hover(moons_page):
    page = moons_page.page
    area = page.locator("#fig-curves .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    x, y = box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5
    page.mouse.move(x - 40, y - 10)
    page.mouse.move(x, y, steps=5)  # plotly reacts to a stream of mousemove events
    page.wait_for_function(
        "(document.querySelector('#fig-curves .hoverlayer') || {}).textContent.includes('training cost')",
        timeout=10_000)
    hover = page.locator("#fig-curves .hoverlayer").text_content()
    assert "training cost" in hover and re.search(r"\d\.\d{3}", hover)


def test_clicking_a_connection_shows_the_engines_gradient(moons_page, runs):
    page = moons_page.page
    net, X, Y = training_data(runs["moons"])
    for layer in ("w-1-", "w-3-"):
        pid = click_parameter(page, derived_ids(page, layer))
        row = selected_row(page)
        assert engine_value(page) == pytest.approx(gradient(net, X, Y, pid, row), rel=1e-10, abs=1e-300)
        _, l, j, k = pid.split("-")
        assert f"net.weights[{int(l) - 1}][{j}, {k}]" in page.locator("#derivation").text_content()
        assert page.locator(f'#network-svg .selected[data-param="{pid}"]').count() == 1
        # another example: the derivation is redone with that example's numbers
        page.select_option("#example-picker", "2")
        row2 = selected_row(page)
        assert row2 != row
        assert engine_value(page) == pytest.approx(gradient(net, X, Y, pid, row2), rel=1e-10, abs=1e-300)
        page.select_option("#example-picker", "0")
    assert moons_page.errors == []


def test_clicking_a_neuron_shows_its_bias_gradient(moons_page, runs):
    page = moons_page.page
    net, X, Y = training_data(runs["moons"])
    pid = click_parameter(page, derived_ids(page, "b-2-"))
    assert engine_value(page) == pytest.approx(gradient(net, X, Y, pid, selected_row(page)), rel=1e-10, abs=1e-300)
    assert "bias" in page.locator("#derivation h4").text_content()


def test_switching_notation_changes_the_symbols_not_the_number(moons_page):
    page = moons_page.page
    pid = click_parameter(page, derived_ids(page, "w-2-"))
    texts, values, headers = {}, {}, {}
    for key in ("3b1b", "nielsen", "ng-ml", "ng-dl"):
        page.select_option("#notation-picker", key)
        page.wait_for_function(f"document.getElementById('derivation').dataset.notation === '{key}'")
        texts[key] = page.locator("#derivation").text_content()
        values[key] = engine_value(page)
        headers[key] = page.locator("#param-header math").first.text_content()
    assert len(set(texts.values())) == 4
    assert "Θ" in texts["ng-ml"] and "Θ" not in texts["3b1b"]
    assert "(L−1)" in texts["3b1b"] and "dz[" in texts["ng-dl"]
    assert len(set(values.values())) == 1
    # the parameter's own symbol follows the notation too: w, w, Θ, W
    assert headers["ng-ml"].startswith("Θ") and headers["3b1b"].startswith("w") and headers["ng-dl"].startswith("W")
    assert len(set(headers.values())) == 4 and pid.startswith("w-2-")


def test_a_parameter_without_a_stored_derivation_shows_the_command(browser, runs):
    page = Page(browser, runs["digits"] / "report.html")
    try:
        underived = page.page.eval_on_selector_all(
            '#network-svg [data-derived="0"][data-param^="w-"]', "els => els.map(e => e.dataset.param)")
        assert underived
        pid = click_parameter(page.page, underived)
        _, l, j, k = pid.split("-")
        command = page.page.locator("#derivation pre").text_content()
        assert command.startswith("deltaprop explain ") and f"--weight {l}:{j},{k}" in command
        assert "--split train --sample" in command
        assert "derivations for 6 of the" in page.page.locator("#bound").text_content()
        # the picker reaches the stored ones
        stored = page.page.eval_on_selector_all(
            '#network-svg [data-derived="1"]', "els => els.map(e => e.dataset.param)")
        page.page.select_option("#param-picker", stored[0])
        page.page.wait_for_selector("#derivation li.engine-value")
        assert page.errors == []
    finally:
        page.close()


HOSTILE = ["<!--<script>", "</script><script>alert(1)</script>", "<img src=x onerror=alert(1)>",
           "javascript:alert(1)", "]]>"]


def test_hostile_labels_reach_the_page_only_as_text(browser, tmp_path):
    """Class labels and column names that look like markup cannot change the page: it gets ready,
    opens no dialog, keeps its 4 scripts, and shows the labels as text."""
    rng = np.random.default_rng(0)
    index = np.repeat(np.arange(len(HOSTILE)), 30)
    X = np.stack([np.cos(index * 1.2), np.sin(index * 1.2)], axis=1) + rng.normal(scale=0.1, size=(len(index), 2))
    rows = ["<b>x</b>,y&amp;," + "label"] + [f"{a},{b},\"{HOSTILE[i].replace(chr(34), chr(34) * 2)}\"" for (a, b), i in zip(X, index)]
    (tmp_path / "hostile.csv").write_text("\n".join(rows) + "\n")
    run_cli("train", "--dataset", f"csv:{tmp_path / 'hostile.csv'}", "--layers", "6", "--epochs", "3",
            "--out", tmp_path / "run", "--report", "--quiet")
    page = browser.new_page()
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.goto((tmp_path / "run" / "report.html").as_uri())
    page.wait_for_function("document.body.dataset.ready !== undefined", timeout=60_000)
    try:
        assert page.evaluate("document.body.dataset.ready") == "1"
        assert page.evaluate("document.scripts.length") == 4
        assert page.evaluate("document.querySelectorAll('img[src=x]').length") == 0
        assert not dialogs
        text = page.evaluate("document.body.innerText")
        assert "<img src=x onerror=alert(1)>" in text  # shown as text, not made an element
    finally:
        page.close()


# ---------------------------------------------------------------------------- issue 15
def test_the_opening_derivation_has_a_nonzero_gradient(browser, runs):
    """The page opens on the stored parameter with the largest |∂C_x/∂θ| for a correctly
    classified example, and offers the same for a misclassified one."""
    for name in ("digits", "moons"):
        page = Page(browser, runs[name] / "report.html")
        try:
            p = page.page
            net, X, Y = training_data(runs[name])
            row = selected_row(p)
            assert "predicted" not in p.eval_on_selector("#example-picker", "s => s.selectedOptions[0].textContent")
            value = engine_value(p)
            assert value != 0
            derived = p.eval_on_selector_all('#network-svg [data-derived="1"]', "els => els.map(e => e.dataset.param)")
            assert abs(value) == pytest.approx(max(abs(gradient(net, X, Y, pid, row)) for pid in derived), rel=1e-10)
            if p.locator("#open-wrong").count():
                p.click("#open-wrong")
                assert "predicted" in p.eval_on_selector("#example-picker", "s => s.selectedOptions[0].textContent")
                assert engine_value(p) != 0
            assert page.errors == []
        finally:
            page.close()


def test_every_hidden_neuron_is_labelled_and_inputs_by_index(browser, runs):
    page = Page(browser, runs["moons"] / "report.html")
    try:
        p = page.page
        net = load(runs["moons"] / "model.npz")
        for l in range(1, net.n_layers):
            labels = p.eval_on_selector_all(f'#network-svg [data-param^="b-{l}-"]',
                                            "els => els.map(e => [e.dataset.param, (e.querySelector('text') || {}).textContent])")
            assert len(labels) == net.sizes[l]
            assert all(text == pid.split("-")[2] for pid, text in labels), labels
        inputs = p.eval_on_selector_all("#network-svg .neuron.input text", "els => els.map(e => e.textContent)")
        assert inputs == ["x0", "x1"]  # input k is x_k, as in a^0_k and --weight 1:j,k
    finally:
        page.close()


def test_no_text_overflows_the_derivation_panel_at_1024px(browser, runs):
    page = browser.new_page()
    page.set_viewport_size({"width": 1024, "height": 900})
    try:
        page.goto((runs["digits"] / "report.html").as_uri())
        page.wait_for_function("document.body.dataset.ready !== undefined", timeout=60_000)
        for pid in derived_ids(page, "w-1-")[:1] + derived_ids(page, "b-"):
            page.select_option("#param-picker", pid)
            page.wait_for_function(f"document.getElementById('derivation').dataset.param === '{pid}'")
            sizes = page.evaluate("""() => {
                const panel = document.getElementById('panel'), right = panel.getBoundingClientRect().right;
                const clipped = e => {  // inside a formula's own box, within the panel, that scrolls to it
                    for (let a = e.parentElement; a && a !== panel; a = a.parentElement) {
                        if ((a.tagName.toLowerCase() === 'math' || a.classList.contains('display'))
                            && getComputedStyle(a).overflowX !== 'visible' && a.scrollWidth > a.clientWidth
                            && a.getBoundingClientRect().right <= right + 1) return true;
                    }
                    return false;
                };
                const past = [...panel.querySelectorAll('*')]
                    .filter(e => e.getBoundingClientRect().right > right + 1 && !clipped(e))
                    .map(e => e.tagName + ': ' + e.textContent.slice(0, 40));
                const boxes = [panel, ...panel.querySelectorAll('#derivation, #derivation li, #derivation p')]
                    .filter(e => e.scrollWidth > e.clientWidth).map(e => e.tagName + ': ' + e.textContent.slice(0, 40));
                return {boxes: boxes, past: past};
            }""")
            assert sizes["boxes"] == [] and sizes["past"] == [], (pid, sizes)
    finally:
        page.close()


def test_the_boundary_animation_changes_the_picture_between_first_and_last_epoch(moons_page, runs):
    page = moons_page.page
    chart = page.locator("#fig-boundary")
    chart.scroll_into_view_if_needed()
    labels = page.evaluate("() => document.getElementById('fig-boundary').layout.sliders[0].steps.map(s => s.label)")
    history = json.loads((runs["moons"] / "metrics.json").read_text())["history"]
    assert labels[0] == "1" and labels[-1] == str(history[-1]["epoch"])  # the first and the last epoch

    def show(label):  # click the slider's step, as a user would drag it there
        page.evaluate("""(label) => {
          const el = document.getElementById('fig-boundary');
          const steps = el.layout.sliders[0].steps;
          const step = steps.find(s => s.label === label);
          return Plotly.animate(el, step.args[0], step.args[1]);
        }""", label)
        page.wait_for_timeout(200)
        return chart.screenshot(), page.evaluate("() => document.getElementById('fig-boundary').data[0].z.flat()")

    first_png, first_z = show(labels[0])
    last_png, last_z = show(labels[-1])
    assert first_png != last_png  # the picture differs
    assert max(abs(a - b) for a, b in zip(first_z, last_z)) > 0.05  # and so does the prediction it draws
    assert moons_page.errors == []
    # the play button and the slider are on the page
    assert page.locator("#fig-boundary .updatemenu-button").count() >= 1
    assert page.locator("#fig-boundary .slider-container").count() == 1


def test_each_class_region_has_the_colour_of_the_class_predicted_there(browser, tmp_path):
    """More than two classes: the filled regions (contours of p_c − max p_other) must be shaded
    on the side where class c is predicted, in class c's colour."""
    import io

    from matplotlib.image import imread

    from deltaprop.report.figures import CLASS_COLOURS, _pastel

    run_cli("train", "--dataset", "spiral", "--epochs", "30", "--out", tmp_path / "s", "--report", "--quiet")
    net = load(tmp_path / "s" / "model.npz")
    page = Page(browser, tmp_path / "s" / "report.html")
    try:
        p = page.page
        chart = p.locator("#fig-boundary")
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        xr, yr = p.evaluate("() => { const l = document.getElementById('fig-boundary')._fullLayout; "
                            "return [l.xaxis.range, l.yaxis.range]; }")
        gx, gy = np.meshgrid(np.linspace(*xr, 25)[2:-2], np.linspace(*yr, 25)[2:-2])
        pts = np.column_stack([gx.ravel(), gy.ravel()])
        proba = net.predict_proba(pts)
        top2 = np.sort(proba, axis=1)[:, -2:]
        ds = load_dataset("spiral", seed=0)
        X_all = np.vstack([ds.X_train, ds.X_val, ds.X_test])
        far = np.min(np.linalg.norm(pts[:, None, :] - X_all[None, :, :], axis=2), axis=1)
        keep = (top2[:, 1] - top2[:, 0] > 0.5) & (far > 0.06)  # clear of boundaries and markers
        pts, predicted = pts[keep], proba[keep].argmax(axis=1)
        assert len(set(predicted.tolist())) == 3 and len(pts) >= 20
        pixels = p.evaluate("""(pts) => { const el = document.getElementById('fig-boundary'), l = el._fullLayout;
            const r = el.getBoundingClientRect();
            return pts.map(([x, y]) => [l.xaxis.l2p(x) + l.xaxis._offset, l.yaxis.l2p(y) + l.yaxis._offset]); }""",
                            pts.tolist())
        image = imread(io.BytesIO(chart.screenshot()), format="png")[..., :3]
        palette = np.array([[int(_pastel(CLASS_COLOURS[c])[i:i + 2], 16) / 255 for i in (1, 3, 5)] for c in range(3)])
        for (px, py), c in zip(pixels, predicted):
            colour = image[int(round(py)), int(round(px))]
            assert np.argmin(np.linalg.norm(palette - colour, axis=1)) == c, (px, py, colour, c)
        assert box is not None and page.errors == []
    finally:
        page.close()
