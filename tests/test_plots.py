"""The learning-curve PNG (matplotlib) and the report's training charts (plotly specs)."""

import math

import matplotlib
import numpy as np

from deltaprop import plots
from deltaprop.report import figures


def history(epochs, grad_norms=None):
    return [
        {"epoch": e, "cost": 1.0 / e, "val_cost": 1.1 / e, "accuracy": 1 - 0.5 / e, "val_accuracy": 1 - 0.6 / e,
         **({"grad_norms": grad_norms(e)} if grad_norms else {})}
        for e in range(1, epochs + 1)
    ]


def test_png_epoch_ticks_are_whole_numbers(tmp_path):
    for epochs in (3, 20, 137):
        fig = plots.learning_curves_figure(history(epochs))
        for ax in fig.axes:
            lo, hi = ax.get_xlim()
            ticks = [t for t in ax.get_xticks() if lo <= t <= hi]
            assert len(ticks) >= 2 and all(t == int(t) for t in ticks), (epochs, ticks)
    path = plots.learning_curves(history(20), tmp_path / "curves.png")
    assert (tmp_path / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and path.endswith("curves.png")


def test_png_leaves_the_global_backend_alone(tmp_path):
    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        plots.learning_curves(history(5), tmp_path / "curves.png")
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)


def test_report_epoch_ticks_are_whole_numbers():
    for epochs in (3, 20, 137):
        spec = figures.learning_curves(history(epochs))
        for name in ("xaxis", "xaxis2"):
            axis = spec["layout"][name]
            assert axis["dtick"] >= 1 and axis["dtick"] == int(axis["dtick"]) and axis["tick0"] == int(axis["tick0"])
            assert epochs / axis["dtick"] <= 11, (epochs, axis)


def test_gradient_norm_axis_labels_a_few_powers_of_ten():
    decay = lambda e: {"W": [10.0 ** -(e / 2), 10.0 ** -(e / 3)], "b": [10.0 ** -(e / 2.5), 0.3]}
    spec = figures.gradient_norms(history(20, decay), [2, 8, 1])
    axis = spec["layout"]["yaxis"]
    assert axis["type"] == "log" and axis["exponentformat"] == "power"
    values = [v for trace in spec["data"] for v in trace["y"] if v]
    decades = math.ceil(math.log10(max(values))) - math.floor(math.log10(min(values)))
    assert axis["dtick"] == int(axis["dtick"]) >= 1  # labels at powers of ten only
    assert decades / axis["dtick"] + 1 <= 6, (decades, axis["dtick"])

    narrow = figures.gradient_norms(history(5, lambda e: {"W": [0.5 / e], "b": [0.1]}), [2, 1])
    ticks = narrow["layout"]["yaxis"]["tickvals"]  # within two decades: 1, 2 and 5 times a power of ten
    shown = [t for t in ticks if 0.1 / 5 <= t <= 0.5]
    assert len(shown) >= 2 and all(f"{t:.0e}"[0] in "125" for t in ticks)
