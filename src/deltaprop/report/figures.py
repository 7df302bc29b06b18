"""The report's charts as plotly figures (JSON), drawn in the page by the bundled plotly.js.

Each function returns a plain dict ``{"data": [...], "layout": {...}}`` (and ``"frames"`` for an
animation: what ``Plotly.newPlot`` takes), without the template: the page stores one template for all charts.
Numbers are rounded to what a chart can show, to keep the page small.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ..network import Network

if TYPE_CHECKING:  # (plotly and the data sets are imported only when a chart is made)
    import plotly.graph_objects as go

    from ..datasets import Dataset

__all__ = [
    "POSITIVE",
    "NEGATIVE",
    "CLASS_COLOURS",
    "figure_json",
    "template_json",
    "learning_curves",
    "gradient_norms",
    "weight_histograms",
    "decision_boundary",
    "first_layer_images",
    "confusion_matrix",
]

#: Colours of positive and negative weights (diagram, histograms, images), as in TensorFlow
#: Playground: blue for positive, orange for negative.
POSITIVE = "#2166ac"
NEGATIVE = "#e08214"
DIVERGING = [[0.0, NEGATIVE], [0.5, "#f7f7f7"], [1.0, POSITIVE]]
#: Class colours (points, regions, legends).
CLASS_COLOURS = ["#e08214", "#2166ac", "#1b9e77", "#d62728", "#7570b3", "#8c564b", "#e7298a",
                 "#66a61e", "#17becf", "#7f7f7f"]
TEMPLATE = "plotly_white"
FONT = dict(family="system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif", size=13)


def _round(values, digits=6):
    """Values as a list rounded to ``digits`` significant digits (JSON floats stay short)."""
    arr = np.asarray(values, dtype=np.float64)
    out = np.vectorize(lambda v: float(f"{v:.{digits}g}") if np.isfinite(v) else None, otypes=[object])(arr)
    return out.tolist()


def figure_json(fig: go.Figure) -> dict:
    """A plotly Figure as the dict the page plots (its template removed)."""
    data = json.loads(fig.to_json())
    data["layout"].pop("template", None)
    out = {"data": data["data"], "layout": data["layout"]}
    if data.get("frames"):
        out["frames"] = data["frames"]
    return out


def template_json() -> dict:
    """The one template every chart of the page uses."""
    import plotly.graph_objects as go

    return json.loads(go.Figure(layout=dict(template=TEMPLATE)).to_json())["layout"]["template"]


def _layout(fig, height, **kwargs):
    fig.update_layout(
        height=height, margin=dict(l=60, r=20, t=40, b=50), font=FONT,
        legend=dict(orientation="h", yanchor="top", y=-0.2, xanchor="left", x=0), **kwargs,
    )


# ---------------------------------------------------------------------------- training
def learning_curves(history: list, best_epoch: int | None = None) -> dict:
    """Training and validation cost (left) and accuracy (right, classifiers) per epoch."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    epochs = [r["epoch"] for r in history]
    has_acc = any("accuracy" in r or "val_accuracy" in r for r in history)
    cols = 2 if has_acc else 1
    titles = ("cost per epoch", "accuracy per epoch") if has_acc else ("cost per epoch",)
    fig = make_subplots(rows=1, cols=cols, subplot_titles=titles, horizontal_spacing=0.1)
    panels = [("cost", 1)] + ([("accuracy", 2)] if has_acc else [])
    for key, col in panels:
        for prefix, name, dash, colour in (("", "training", "solid", POSITIVE), ("val_", "validation", "dash", NEGATIVE)):
            values = [r.get(prefix + key) for r in history]
            if all(v is None for v in values):
                continue
            fmt = ".2%" if key == "accuracy" else ".5f"
            fig.add_trace(
                go.Scatter(
                    x=epochs, y=_round([np.nan if v is None else v for v in values]), mode="lines+markers",
                    name=f"{name} {key}", line=dict(dash=dash, color=colour, width=2), marker=dict(size=5),
                    hovertemplate=f"{name} {key} %{{y:{fmt}}}<extra>epoch %{{x}}</extra>",
                    legendgroup=name,
                ),
                row=1, col=col,
            )
        fig.update_xaxes(title_text="epoch", row=1, col=col, **_epoch_ticks(epochs))
        if key == "accuracy":
            fig.update_yaxes(tickformat=".0%", row=1, col=col)
    if best_epoch is not None:
        for col in range(1, cols + 1):
            fig.add_vline(x=best_epoch, line=dict(color="#888", dash="dot", width=1), row=1, col=col)
    _layout(fig, 380, hovermode="x unified", hoverdistance=-1)
    fig.update_layout(margin=dict(b=90))
    return figure_json(fig)


def gradient_norms(history: list, sizes: list) -> dict | None:
    """‖∂C/∂W^l‖ (solid) and ‖∂C/∂b^l‖ (dotted, hidden until clicked in the legend) per
    epoch, log scale; None when the history has no ``grad_norms``."""
    import plotly.graph_objects as go

    rows = [r for r in history if isinstance(r.get("grad_norms"), dict)]
    if not rows:
        return None
    epochs = [r["epoch"] for r in rows]
    L = len(sizes) - 1
    fig = go.Figure()
    shown = []
    palette = ["#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666"]
    for kind, dash, visible in (("W", "solid", True), ("b", "dot", "legendonly")):
        for l in range(1, L + 1):
            values = [r["grad_norms"][kind][l - 1] if len(r["grad_norms"].get(kind, [])) >= l else None for r in rows]
            positive = [v if v is not None and v > 0 else None for v in values]
            shown += positive if visible is True else []  # ticks fit what is shown at first
            label = f"{kind}{_superscript(l)}" + (f"  ({sizes[l - 1]}→{sizes[l]})" if kind == "W" else "")
            fig.add_trace(
                go.Scatter(
                    x=epochs, y=_round([np.nan if v is None else v for v in positive], 5), mode="lines+markers",
                    name=label, visible=visible, marker=dict(size=4),
                    line=dict(color=palette[(l - 1) % len(palette)], dash=dash, width=2),
                    hovertemplate=f"‖∂C/∂{kind}{_superscript(l)}‖ = %{{y:.4g}}<extra>epoch %{{x}}</extra>",
                )
            )
    fig.update_yaxes(type="log", title_text="norm (log scale)", exponentformat="power", **_log_ticks(shown))
    fig.update_xaxes(title_text="epoch", **_epoch_ticks(epochs))
    _layout(fig, 360, hovermode="x unified", hoverdistance=-1)
    fig.update_layout(legend=dict(orientation="v", y=1, x=1.02, yanchor="top"), margin=dict(r=170))
    return figure_json(fig)


def _epoch_ticks(epochs) -> dict:
    """Whole-number epoch ticks, at most about 10 (plotly alone would tick at 2.5, 7.5, ...)."""
    from matplotlib.ticker import MaxNLocator

    if not epochs:
        return {}
    ticks = MaxNLocator(nbins=10, integer=True, steps=[1, 2, 5, 10]).tick_values(min(epochs), max(epochs))
    step = int(round(ticks[1] - ticks[0])) if len(ticks) > 1 else 1
    return dict(tick0=0, dtick=max(step, 1))


def _log_ticks(values, max_labels: int = 6) -> dict:
    """Labels only at powers of ten, every ``dtick``-th decade so that at most ``max_labels``
    show (plotly's own log ticks label 2, 5, ... between them and crowd the axis); within
    two decades, at 1, 2 and 5 times them (else one label would be all)."""
    positive = [v for v in values if v is not None and np.isfinite(v) and v > 0]
    if not positive:
        return {}
    lo, hi = int(np.floor(np.log10(min(positive)))), int(np.ceil(np.log10(max(positive))))
    if hi - lo > 2:
        return dict(dtick=max(1, -(-(hi - lo) // (max_labels - 1))))
    ticks = [m * 10.0**k for k in range(lo, hi + 1) for m in (1, 2, 5)]
    return dict(tickvals=ticks, ticktext=[f"{t:g}" for t in ticks])


def _superscript(n: int) -> str:
    return str(n).translate(str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹"))


def weight_histograms(weights: list, bins: int = 40) -> dict:
    """One histogram per weight matrix W^l (all its entries), binned here."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    L = len(weights)
    titles = [f"W{_superscript(l)}: {w.shape[0]}×{w.shape[1]}" for l, w in enumerate(weights, 1)]
    fig = make_subplots(rows=1, cols=L, subplot_titles=titles, horizontal_spacing=0.06)
    for l, W in enumerate(weights, start=1):
        values = np.asarray(W, dtype=np.float64).ravel()
        counts, edges = np.histogram(values, bins=bins)
        centres = (edges[:-1] + edges[1:]) / 2
        colours = [POSITIVE if c >= 0 else NEGATIVE for c in centres]
        fig.add_trace(
            go.Bar(
                x=_round(centres, 4), y=counts.tolist(), width=float(edges[1] - edges[0]),
                marker=dict(color=colours, line=dict(width=0)), name=f"W{_superscript(l)}",
                customdata=np.column_stack([_round(edges[:-1], 4), _round(edges[1:], 4)]).tolist(),
                hovertemplate="[%{customdata[0]}, %{customdata[1]}): %{y} weights<extra></extra>",
                showlegend=False,
            ),
            row=1, col=l,
        )
        fig.update_xaxes(title_text="weight", row=1, col=l)
    fig.update_layout(bargap=0)
    _layout(fig, 250)
    fig.update_layout(margin=dict(l=40, r=10, t=40, b=45))
    fig.update_annotations(font_size=12)
    return figure_json(fig)


# ---------------------------------------------------------------------------- data views
def _plane(ds, resolution: int):
    """The grid of the decision boundary: ``resolution`` points per axis over the data's range
    (all splits) plus 8% on each side."""
    X_all = np.vstack([ds.X_train, ds.X_val, ds.X_test])
    lo, hi = X_all.min(axis=0), X_all.max(axis=0)
    pad = 0.08 * (hi - lo) + 1e-9
    xs = np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution)
    ys = np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution)
    return xs, ys


def _prediction(net, xs, ys, names) -> list:
    """The network's prediction over the grid xs × ys as traces: P(class 1) as filled
    contours for two classes; for more, one filled region per class where it is predicted
    (the region where p_c − max_{c′≠c} p_c′ > 0, traced by contouring, so its edges are
    interpolated between grid points instead of stair-stepped)."""
    import plotly.graph_objects as go

    gx, gy = np.meshgrid(xs, ys)
    proba = net.predict_proba(np.column_stack([gx.ravel(), gy.ravel()]))
    K = proba.shape[1]
    x, y = _round(xs, 5), _round(ys, 5)
    if K == 2:
        z = proba[:, 1].reshape(gx.shape)
        return [go.Contour(
            x=x, y=y, z=_round(z, 3), zmin=0, zmax=1,
            colorscale=[[0, "#fbd3a6"], [0.5, "#f7f7f7"], [1, "#a6cbe8"]],
            contours=dict(start=0, end=1, size=0.1),
            line=dict(width=0.5, color="rgba(0,0,0,0.18)", smoothing=1.3),
            colorbar=dict(title=dict(text=f"P({names[1]})", side="right"), thickness=12),
            hovertemplate=f"x0 %{{x:.3f}}, x1 %{{y:.3f}}<br>P({names[1]}) = %{{z:.3f}}<extra></extra>",
            name="prediction",
        )]
    traces = []
    for c in range(K):
        margin = proba[:, c] - np.delete(proba, c, axis=1).max(axis=1)
        colour = _pastel(CLASS_COLOURS[c % len(CLASS_COLOURS)])
        traces.append(go.Contour(
            x=x, y=y, z=_round(margin.reshape(gx.shape), 3),
            contours=dict(type="constraint", operation="<", value=0),  # plotly shades the side the constraint excludes
            fillcolor=colour, line=dict(width=0.6, color="rgba(0,0,0,0.25)", smoothing=1.3),
            showscale=False, showlegend=False, name=f"predicted {names[c]}",
            hovertemplate=f"x0 %{{x:.3f}}, x1 %{{y:.3f}}<br>predicted {names[c]}<extra></extra>",
        ))
    return traces


def decision_boundary(net: Network, ds: Dataset, highlight: Sequence[int] | NDArray[np.integer] = (),
                      resolution: int = 200,
                      snapshots: Sequence[tuple[int, list[NDArray], list[NDArray]]] = (),
                      frame_resolution: int = 60) -> dict:
    """The network's prediction over the plane (2-D inputs), with the training (•) and test
    (×) points; ``highlight`` rows of the training split get a ring (the explained examples).

    The ``resolution`` × ``resolution`` grid spans exactly the axes' ranges, and equal scales
    shrink the plotting area (``constrain="domain"``) rather than widen a range past the grid.

    ``snapshots`` (``[(epoch, weights, biases), ...]``, from ``deltaprop.snapshots``) add an
    animation: one frame per stored epoch, the prediction of the network with that epoch's
    parameters on a ``frame_resolution`` grid, a slider over the epochs and a play button. The
    figure opens on the trained network (the last frame's epoch)."""
    import plotly.graph_objects as go

    xs, ys = _plane(ds, resolution)
    classes = [str(c) for c in net.classes_]
    names = ds.class_names or classes
    K = len(classes)
    fig = go.Figure()
    prediction = _prediction(net, xs, ys, names)
    fig.add_traces(prediction)
    for split, X, y, symbol in (("train", ds.X_train, ds.y_train, "circle"), ("test", ds.X_test, ds.y_test, "x")):
        for c in range(K):
            rows = np.flatnonzero(np.asarray(y) == c)
            if not len(rows):
                continue
            colour = CLASS_COLOURS[c % len(CLASS_COLOURS)]
            fig.add_trace(
                go.Scatter(
                    x=_round(X[rows, 0], 4), y=_round(X[rows, 1], 4), mode="markers",
                    name=f"{names[c]} ({split})", legendgroup=names[c],
                    marker=dict(symbol=symbol, size=6 if split == "train" else 7, color=colour,
                                line=dict(width=0.6, color="white") if split == "train" else dict(width=0)),
                    customdata=rows.tolist(),
                    hovertemplate=f"{split} #%{{customdata}}: class {names[c]}<br>(%{{x}}, %{{y}})<extra></extra>",
                )
            )
    if len(highlight):
        rows = np.asarray(list(highlight), dtype=np.int64)
        fig.add_trace(
            go.Scatter(
                x=_round(ds.X_train[rows, 0], 4), y=_round(ds.X_train[rows, 1], 4), mode="markers+text",
                name="explained examples", text=[f"#{r}" for r in rows], textposition="top center",
                marker=dict(symbol="circle-open", size=16, color="#111", line=dict(width=2)),
                hovertemplate="training example #%{text}<extra>explained</extra>",
            )
        )
    names_ = ds.feature_names or ["x0", "x1"]
    x_range, y_range = [float(v) for v in _round(xs[[0, -1]], 5)], [float(v) for v in _round(ys[[0, -1]], 5)]
    fig.update_xaxes(title_text=f"{names_[0]} (raw)", range=x_range, constrain="domain",
                     constraintoward="right", showgrid=False, zeroline=False)  # beside the legend
    fig.update_yaxes(title_text=f"{names_[1]} (raw)", range=y_range, scaleanchor="x", scaleratio=1,
                     constrain="domain", showgrid=False, zeroline=False)
    _layout(fig, 520)
    fig.update_layout(legend=dict(orientation="v", y=1, x=1.12, yanchor="top"))
    if len(snapshots):
        _animate(fig, net, snapshots, _plane(ds, frame_resolution), names, len(prediction))
    return figure_json(fig)


def _shown_snapshot(net, snapshots) -> int:
    """The index of the snapshot that holds the network's own parameters (to float32 rounding):
    the epoch the figure opens on — the best epoch when early stopping restored its weights —,
    else the last one."""
    params = [np.asarray(p, dtype=np.float64) for p in (*net.weights, *net.biases)]
    for i in range(len(snapshots) - 1, -1, -1):
        _, weights, biases = snapshots[i]
        if all(np.allclose(a, b, rtol=1e-6, atol=1e-7) for a, b in zip((*weights, *biases), params)):
            return i
    return len(snapshots) - 1


def _animate(fig, net, snapshots, plane, names, n_traces: int) -> None:
    """Frames of the prediction (the first ``n_traces`` traces) at each snapshot, a slider and
    a play button."""
    import plotly.graph_objects as go

    frames, steps = [], []
    frame_net = net.copy(dtype="float64")
    for epoch, weights, biases in snapshots:
        frame_net.weights, frame_net.biases = weights, biases
        name = f"epoch {epoch}"
        frames.append(go.Frame(data=_prediction(frame_net, *plane, names), traces=list(range(n_traces)), name=name))
        steps.append(dict(method="animate", label=str(epoch),
                          args=[[name], dict(mode="immediate", frame=dict(duration=0, redraw=True),
                                             transition=dict(duration=0))]))
    fig.frames = frames
    play = dict(frame=dict(duration=350, redraw=True), transition=dict(duration=0), fromcurrent=True)
    fig.update_layout(
        margin=dict(l=60, r=20, t=40, b=120),
        height=600,
        sliders=[dict(active=_shown_snapshot(net, snapshots), steps=steps, x=0.2, len=0.8, y=-0.08, yanchor="top",
                      currentvalue=dict(prefix="epoch ", xanchor="right", font=dict(size=13)), pad=dict(t=30))],
        updatemenus=[dict(type="buttons", direction="left", x=0, y=-0.08, xanchor="left", yanchor="top",
                          pad=dict(t=38, r=8), showactive=False,
                          buttons=[dict(label="▶ play", method="animate", args=[None, play]),
                                   dict(label="❚❚", method="animate",
                                        args=[[None], dict(mode="immediate", frame=dict(duration=0, redraw=False),
                                                           transition=dict(duration=0))])])],
    )


def _pastel(hex_colour: str, amount: float = 0.7) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#" + "".join(f"{c:02x}" for c in mix)


def first_layer_images(W1: NDArray, image_shape: tuple[int, int], neurons: Iterable[int], cols: int = 8) -> dict:
    """Rows of W^1 (the weights into hidden neurons ``neurons``) drawn as images of the
    input's shape; each scaled to its own largest |w| (hover: the weight itself)."""
    import plotly.graph_objects as go
    from plotly.subplots import make_subplots

    neurons = list(neurons)
    n = len(neurons)
    cols = min(cols, n)
    rows = -(-n // cols)
    h, w = image_shape
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=[f"neuron {j}" for j in neurons],
                        horizontal_spacing=0.015, vertical_spacing=0.06)
    for i, j in enumerate(neurons):
        weights = np.asarray(W1[j], dtype=np.float64).reshape(h, w)
        scale = float(np.abs(weights).max()) or 1.0
        fig.add_trace(
            go.Heatmap(
                z=_round(weights / scale, 3), customdata=_round(weights, 4), coloraxis="coloraxis",
                hovertemplate=(f"W¹[{j}, row·{w}+col]<br>pixel (row %{{y}}, col %{{x}})"
                               "<br>w = %{customdata}<extra></extra>"),
            ),
            row=i // cols + 1, col=i % cols + 1,
        )
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, constrain="domain")
    fig.update_yaxes(showticklabels=False, showgrid=False, zeroline=False, autorange="reversed",
                     constrain="domain")
    for i in range(1, n + 1):  # every image square: y of subplot i tied to its own x
        fig.layout[f"yaxis{'' if i == 1 else i}"].scaleanchor = f"x{'' if i == 1 else i}"
    fig.update_layout(coloraxis=dict(colorscale=DIVERGING, cmin=-1, cmax=1,
                                     colorbar=dict(title=dict(text="w / max|w|", side="right"), thickness=12)))
    fig.update_annotations(font_size=11)
    _layout(fig, 50 + rows * 150)
    fig.update_layout(margin=dict(t=30, b=10))
    return figure_json(fig)


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, names: Sequence[object]) -> dict:
    """Counts of (true class, predicted class) on a split; the diagonal is right."""
    import plotly.graph_objects as go

    K = len(names)
    counts = np.zeros((K, K), dtype=np.int64)
    np.add.at(counts, (np.asarray(y_true, dtype=np.int64), np.asarray(y_pred, dtype=np.int64)), 1)
    labels = [str(n) for n in names]
    fig = go.Figure(
        go.Heatmap(
            z=counts.tolist(), x=labels, y=labels, colorscale="Blues", text=counts.tolist(),
            texttemplate="%{text}", showscale=False,
            hovertemplate="true %{y}, predicted %{x}: %{z}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text="predicted class", type="category", side="bottom")
    fig.update_yaxes(title_text="true class", type="category", autorange="reversed")
    _layout(fig, 120 + 34 * K)
    fig.update_layout(width=None)
    return figure_json(fig)
