"""Gradient checking: backpropagation's gradients against central finite differences.

For a parameter θ the central difference

    ∂C/∂θ ≈ (C(θ + ε) − C(θ − ε)) / (2ε)

has an error of order ε² plus rounding of order 1e-16·C/ε; with ε = 1e-5 in float64 it
agrees with a correct analytic gradient to about 1e-9 relative. The comparison per parameter array is

    relative error = ‖g_backprop − g_numeric‖ / (‖g_backprop‖ + ‖g_numeric‖)

(0 when both are exactly zero). Anything above ~1e-6 in float64 means a bug.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .validation import as_generator

__all__ = ["gradcheck", "GradcheckResult", "ArrayCheck", "relative_error"]


def relative_error(analytic, numeric) -> float:
    """‖a − n‖ / (‖a‖ + ‖n‖), and 0 if both are zero."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    denom = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if denom == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / denom)


@dataclass
class ArrayCheck:
    """The check of one parameter array (``name`` is "W1", "b1", ... with l counted from 1)."""

    name: str
    layer: int
    kind: str  # "weights" or "biases"
    indices: np.ndarray  # (k, ndim) positions checked
    analytic: np.ndarray  # (k,) backprop's values there
    numeric: np.ndarray  # (k,) central differences there
    relative_error: float
    checked: int
    total: int


@dataclass
class GradcheckResult:
    """Per-array checks and the worst relative error."""

    arrays: list
    max_relative_error: float
    eps: float

    @property
    def per_array(self) -> dict:
        return {c.name: c.relative_error for c in self.arrays}

    def passed(self, tol: float = 1e-6) -> bool:
        return self.max_relative_error < tol

    def __str__(self):
        lines = [f"{'array':<6} {'checked':>12} {'relative error':>15}"]
        for c in self.arrays:
            lines.append(f"{c.name:<6} {f'{c.checked}/{c.total}':>12} {c.relative_error:>15.3e}")
        lines.append(f"max relative error {self.max_relative_error:.3e} (eps = {self.eps:g})")
        return "\n".join(lines)


def gradcheck(net, X, Y, l2: float = 0.0, eps: float = 1e-5, max_checks: int | None = 50, seed=0,
              sample_weight=None):
    """Check ``net.backward`` against central differences of ``net.cost``.

    The check runs on a float64 copy of ``net`` (a float32 network is checked through the same
    code at full precision); ``net`` itself is not changed. Arrays with more than ``max_checks``
    entries are sampled (``max_checks=None`` checks every entry), positions drawn with ``seed``.
    ``sample_weight`` checks the weighted cost. Returns a ``GradcheckResult`` with one
    ``ArrayCheck`` per W^l and b^l.
    """
    eps = float(eps)
    if not (np.isfinite(eps) and eps > 0):
        raise ValueError(f"eps must be a positive number, got {eps!r}")
    if max_checks is not None and int(max_checks) < 1:
        raise ValueError(f"max_checks must be a positive integer or None, got {max_checks!r}")
    net64 = net.copy(dtype="float64")
    X, Y = net64.check_XY(X, Y)
    grads = net64.backward(X, Y, l2=l2, sample_weight=sample_weight)
    rng = as_generator(seed)

    checks = []
    for kind, params, analytic_all in (
        ("weights", net64.weights, grads.weights),
        ("biases", net64.biases, grads.biases),
    ):
        for i, theta in enumerate(params):
            flat_positions = np.arange(theta.size)
            if max_checks is not None and theta.size > max_checks:
                flat_positions = np.sort(rng.choice(theta.size, size=int(max_checks), replace=False))
            idx = np.array(np.unravel_index(flat_positions, theta.shape)).T
            numeric = np.empty(len(idx))
            for n, pos in enumerate(map(tuple, idx)):
                original = theta[pos]
                theta[pos] = original + eps
                c_plus = net64.cost(X, Y, l2, sample_weight)
                theta[pos] = original - eps
                c_minus = net64.cost(X, Y, l2, sample_weight)
                theta[pos] = original
                numeric[n] = (c_plus - c_minus) / (2 * eps)
            analytic = np.array([analytic_all[i][tuple(p)] for p in idx])
            checks.append(
                ArrayCheck(
                    name=("W" if kind == "weights" else "b") + str(i + 1),
                    layer=i + 1,
                    kind=kind,
                    indices=idx,
                    analytic=analytic,
                    numeric=numeric,
                    relative_error=relative_error(analytic, numeric),
                    checked=len(idx),
                    total=theta.size,
                )
            )
    checks.sort(key=lambda c: (c.layer, c.kind != "weights"))
    return GradcheckResult(
        arrays=checks, max_relative_error=max(c.relative_error for c in checks), eps=eps
    )
