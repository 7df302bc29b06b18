"""The learning-curve PNG (matplotlib) and the report's training charts (plotly specs)."""

import math

import matplotlib
import numpy as np
import pytest

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


def test_curves_draw_on_the_given_axes_and_return_their_figure():
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    fig = Figure()
    cost_ax, acc_ax = fig.subplots(1, 2)
    assert plots.learning_curves_figure(history(4), title="run 1", ax=(cost_ax, acc_ax)) is fig
    assert len(fig.axes) == 2 and cost_ax.get_title() == "run 1"
    assert [t for t in fig.findobj(Text) if t.get_text() == "run 1"] == [cost_ax.title]  # no suptitle
    assert [ax.get_ylabel() for ax in fig.axes] == ["cost", "accuracy"]
    (train, val), (train_acc, _) = cost_ax.get_lines(), acc_ax.get_lines()
    assert list(train.get_xdata()) == [1, 2, 3, 4] and list(val.get_ydata()) == [1.1 / e for e in (1, 2, 3, 4)]
    assert list(train_acc.get_ydata()) == [1 - 0.5 / e for e in (1, 2, 3, 4)]

    single = Figure()
    ax = single.add_subplot(2, 1, 2)
    assert plots.learning_curves_figure(history(3), ax=ax) is single
    assert len(single.axes) == 1 and ax.get_ylabel() == "cost" and len(ax.get_lines()) == 2

    grid = Figure()
    axes = grid.subplots(1, 2)  # an array of Axes, as fig.subplots and plt.subplots return it
    no_acc = [{"epoch": e, "cost": 1.0 / e} for e in (1, 2)]
    assert plots.learning_curves_figure(no_acc, ax=axes) is grid
    assert len(axes[0].get_lines()) == 1 and not axes[1].get_lines()


def test_curves_reject_what_is_not_axes():
    from matplotlib.figure import Figure

    axes = Figure().subplots(1, 3)
    for bad, shown in ((Figure(), "got Figure"), ("cost", "got str"), (list(axes), "got list of 3 (Axes)"),
                       ([1, 2], "got list of 2 (int)"), ((), "got tuple of 0 (empty)")):
        with pytest.raises(ValueError, match="ax must be a matplotlib Axes or a pair of Axes") as err:
            plots.learning_curves_figure(history(2), ax=bad)
        assert shown in str(err.value) and "\n" not in str(err.value)
