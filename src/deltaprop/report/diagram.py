"""The network as a diagram: which neurons and connections to draw, and the SVG.

Every layer with at most ``max_neurons`` neurons is drawn whole. A wider layer shows its
``max_neurons`` busiest neurons (input k: ‖W^1[:, k]‖; hidden j: ‖W^l[j, :]‖ · ‖W^{l+1}[:, j]‖,
the weight into and out of it; output j: ‖W^L[j, :]‖), in index order. Between two drawn
layers at most ``max_edges`` connections are drawn, the strongest |w| first. A connection's
colour is its sign (blue positive, orange negative), its width and opacity its |w| relative
to the largest |w| of its layer; a neuron's fill is its bias on the same scale.

Parameters are named by engine coordinates: ``w-l-j-k`` is ``net.weights[l-1][j, k]``,
``b-l-j`` is ``net.biases[l-1][j]``.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from ..network import Network
from .figures import NEGATIVE, POSITIVE

__all__ = ["Selection", "select", "render_svg", "weight_id", "bias_id", "parse_id"]

MAX_NEURONS = 12
MAX_EDGES = 64


def weight_id(l: int, j: int, k: int) -> str:
    return f"w-{l}-{j}-{k}"


def bias_id(l: int, j: int) -> str:
    return f"b-{l}-{j}"


def parse_id(pid: str) -> tuple[str, int, int, int | None]:
    """("weight", l, j, k) or ("bias", l, j, None) from an id."""
    parts = pid.split("-")
    if parts[0] == "w" and len(parts) == 4:
        return "weight", int(parts[1]), int(parts[2]), int(parts[3])
    if parts[0] == "b" and len(parts) == 3:
        return "bias", int(parts[1]), int(parts[2]), None
    raise ValueError(f"not a parameter id: {pid!r}")


@dataclass
class Selection:
    """What the diagram draws: ``neurons[l]`` (indices of layer l, l = 0..L) and
    ``edges[l-1]`` ((j, k) pairs of W^l, strongest first)."""

    sizes: list
    neurons: list
    edges: list
    notes: list = field(default_factory=list)

    @property
    def parameter_ids(self) -> list:
        """Every drawn parameter: the connections, then the biases of the drawn neurons."""
        ids = [weight_id(l, j, k) for l, pairs in enumerate(self.edges, 1) for j, k in pairs]
        ids += [bias_id(l, j) for l in range(1, len(self.sizes)) for j in self.neurons[l]]
        return ids

    def priority(self, net: Network) -> list:
        """The drawn parameters in the order their derivations are stored when there is room
        for only some: round robin over the layers' connections (strongest first) and the
        layers' biases (largest |b| first)."""
        queues = [[weight_id(l, j, k) for j, k in pairs] for l, pairs in enumerate(self.edges, 1)]
        for l in range(1, len(self.sizes)):
            b = np.asarray(net.biases[l - 1], dtype=np.float64)
            order = sorted(self.neurons[l], key=lambda j: (-abs(b[j]), j))
            queues.append([bias_id(l, j) for j in order])
        out = []
        while any(queues):
            for q in queues:
                if q:
                    out.append(q.pop(0))
        return out


def select(net: Network, max_neurons: int = MAX_NEURONS, max_edges: int = MAX_EDGES) -> Selection:
    """The neurons and connections to draw (module docstring)."""
    sizes = list(net.sizes)
    L = len(sizes) - 1
    W = [np.abs(np.asarray(w, dtype=np.float64)) for w in net.weights]
    neurons, notes = [], []
    for l in range(L + 1):
        n = sizes[l]
        if n <= max_neurons:
            neurons.append(list(range(n)))
            notes.append("")
            continue
        if l == 0:
            score = np.linalg.norm(W[0], axis=0)
        elif l == L:
            score = np.linalg.norm(W[L - 1], axis=1)
        else:
            score = np.linalg.norm(W[l - 1], axis=1) * np.linalg.norm(W[l], axis=0)
        top = np.argsort(-score, kind="stable")[:max_neurons]
        neurons.append(sorted(int(i) for i in top))
        notes.append(f"{max_neurons} of {n} shown")
    edges = []
    for l in range(1, L + 1):
        pairs = [(j, k) for j in neurons[l] for k in neurons[l - 1]]
        pairs.sort(key=lambda p: (-W[l - 1][p], p))
        edges.append(pairs[:max_edges])
    return Selection(sizes=sizes, neurons=neurons, edges=edges, notes=notes)


def _colour(value: float) -> str:
    return POSITIVE if value >= 0 else NEGATIVE


def _fmt(x: float) -> str:
    return f"{x:.4g}"


def render_svg(net: Network, sel: Selection, derived: set, layer_names: list,
               input_labels: Sequence[object] | None = None, output_labels: Sequence[object] | None = None) -> str:
    """The diagram as an inline <svg>; connections and (non-input) neurons carry
    ``data-param`` ids, ``data-derived="1"`` when the page stores their derivations."""
    sizes = sel.sizes
    L = len(sizes) - 1
    rows = max(len(n) for n in sel.neurons)
    gap_y = 46 if rows <= 8 else 38
    col_gap = 170 if L <= 3 else max(120, 640 // L)
    left, right, top = 70, 80, 24
    width = left + right + col_gap * L
    height = top + gap_y * (rows - 1) + 92
    mid = top + gap_y * (rows - 1) / 2

    def pos(l, i):
        n = len(sel.neurons[l])
        return left + col_gap * l, mid + (i - (n - 1) / 2) * gap_y

    where = {(l, j): pos(l, i) for l in range(L + 1) for i, j in enumerate(sel.neurons[l])}
    out = [
        f'<svg id="network-svg" class="network" viewBox="0 0 {width} {height}" width="{width}" '
        f'height="{height}" role="img" aria-label="the network: neurons and connections">'
    ]
    out.append('<g class="edges">')
    for l, pairs in enumerate(sel.edges, start=1):
        Wl = np.asarray(net.weights[l - 1], dtype=np.float64)
        scale = float(np.abs(Wl).max()) or 1.0
        # weakest first, so the strongest are drawn on top
        for j, k in reversed(pairs):
            w = float(Wl[j, k])
            rel = abs(w) / scale
            (x1, y1), (x2, y2) = where[(l - 1, k)], where[(l, j)]
            pid = weight_id(l, j, k)
            d = pid in derived
            title = f"w = net.weights[{l - 1}][{j}, {k}] = {_fmt(w)}: neuron {k} of layer {l - 1} → neuron {j} of layer {l}"
            out.append(
                f'<g class="edge{"" if d else " underived"}" data-param="{pid}" data-derived="{int(d)}">'
                f'<line class="vis" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" '
                f'stroke="{_colour(w)}" stroke-width="{0.6 + 5.4 * rel:.2f}" stroke-opacity="{0.25 + 0.75 * rel:.2f}"/>'
                f'<line class="hit" x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}"/>'
                f"<title>{html.escape(title)}</title></g>"
            )
    out.append("</g>")
    out.append('<g class="neurons">')
    for l in range(L + 1):
        b = None if l == 0 else np.asarray(net.biases[l - 1], dtype=np.float64)
        bscale = 1.0 if b is None else (float(np.abs(b).max()) or 1.0)
        for j in sel.neurons[l]:
            x, y = where[(l, j)]
            if l == 0:
                label = input_labels[j] if input_labels else f"x{j}"
                out.append(
                    f'<g class="neuron input"><circle cx="{x:.1f}" cy="{y:.1f}" r="9"/>'
                    f'<text class="label" x="{x - 15:.1f}" y="{y + 4:.1f}" text-anchor="end">{html.escape(str(label))}</text>'
                    f"<title>input neuron {j} (layer 0)</title></g>"
                )
                continue
            bias = float(b[j])
            rel = abs(bias) / bscale
            pid = bias_id(l, j)
            d = pid in derived
            fill = _mix("#ffffff", _colour(bias), 0.15 + 0.7 * rel)
            title = f"neuron {j} of layer {l}; bias b = net.biases[{l - 1}][{j}] = {_fmt(bias)} (click: its derivation)"
            label = (f'<text class="index" x="{x:.1f}" y="{y + 3.5:.1f}" text-anchor="middle">{j}</text>'
                     if l < L or not output_labels else "")  # the neuron's index, as in net.weights[l-1][j, :]
            if l == L and output_labels:
                label = (f'<text class="label" x="{x + 15:.1f}" y="{y + 4:.1f}" text-anchor="start">'
                         f"{html.escape(str(output_labels[j]))}</text>")
            out.append(
                f'<g class="neuron{"" if d else " underived"}" data-param="{pid}" data-derived="{int(d)}">'
                f'<circle cx="{x:.1f}" cy="{y:.1f}" r="10" fill="{fill}"/>{label}'
                f"<title>{html.escape(title)}</title></g>"
            )
    out.append("</g>")
    out.append('<g class="layer-names">')
    for l in range(L + 1):
        x, _ = pos(l, 0)
        y_bottom = top + gap_y * (rows - 1) + 34
        name, _, detail = layer_names[l].partition(" (")
        out.append(
            f'<text x="{x:.1f}" y="{y_bottom:.1f}" text-anchor="middle" class="layer-name">{html.escape(name)}'
            + (f'<tspan x="{x:.1f}" dy="15" class="layer-detail">({html.escape(detail)}</tspan>' if detail else "")
            + "</text>"
        )
        if sel.notes[l]:
            out.append(f'<text x="{x:.1f}" y="{y_bottom + 31:.1f}" text-anchor="middle" class="layer-note">{html.escape(sel.notes[l])}</text>')
    out.append("</g></svg>")
    return "".join(out)


def _mix(a: str, b: str, t: float) -> str:
    ca = [int(a[i : i + 2], 16) for i in (1, 3, 5)]
    cb = [int(b[i : i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(x + (y - x) * t):02x}" for x, y in zip(ca, cb))
