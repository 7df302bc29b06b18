"""Gradient checking: backpropagation's gradients against central finite differences.

For a parameter θ the central difference

    ∂C/∂θ ≈ (C(θ + ε) − C(θ − ε)) / (2ε)

has an error of order ε² plus rounding of order 1e-16·C/ε; with ε = 1e-5 in float64 it
agrees with a correct analytic gradient to about 1e-9 relative. The comparison per parameter array is

    relative error = ‖g_backprop − g_numeric‖ / (‖g_backprop‖ + ‖g_numeric‖)

(0 when both are exactly zero). Anything above ~1e-6 in float64 means a bug
(``GradcheckResult.passed``'s default tolerance).

``gradcheck`` (and ``explain``, ``explain_layer``, ``sensitivity``) read a ``Network`` or a
fitted ``MLPClassifier`` / ``MLPRegressor`` (its ``network_``, X validated as its ``predict``
validates it: ``model_network``), and targets as the network's own ``check_XY`` takes them:
class labels (m,), encoded against ``classes_`` by ``deltaprop.targets``, or target rows.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike

from .validation import as_generator

if TYPE_CHECKING:  # (scikit-learn is imported only when an estimator is passed)
    from .network import Network
    from .sklearn import MLPClassifier, MLPRegressor

__all__ = ["gradcheck", "GradcheckResult", "ArrayCheck", "relative_error", "model_network"]

#: The tolerance of ``GradcheckResult.passed``: float64 central differences agree to ~1e-9.
TOLERANCE = 1e-6


def model_network(model: Network | MLPClassifier | MLPRegressor, X: ArrayLike,
                  what: str = "net") -> tuple[Network, ArrayLike]:
    """(network, X) for a ``Network`` (X as given) or a fitted deltaprop estimator: its
    ``network_`` and X validated as the estimator's ``predict`` validates it (feature names,
    DataFrames; the network applies its own preprocessing after). An unfitted estimator is
    scikit-learn's ``NotFittedError``; anything else a TypeError naming what is expected."""
    if hasattr(model, "backward") and hasattr(model, "sizes") and hasattr(model, "weights"):
        return model, X
    if hasattr(model, "get_params") and hasattr(model, "fit"):  # a scikit-learn estimator
        from sklearn.utils.validation import check_is_fitted

        from .sklearn import MLPClassifier, MLPRegressor, _validate_data

        if isinstance(model, (MLPClassifier, MLPRegressor)):
            check_is_fitted(model, "network_", msg=(
                f"{what}: this %(name)s is not fitted yet (no network_); call fit(X, y) first, "
                "or pass a deltaprop Network"))
            return model.network_, _validate_data(model, X, reset=False, dtype=[np.float64, np.float32])
    raise TypeError(
        f"{what} must be a deltaprop Network or a fitted deltaprop MLPClassifier / MLPRegressor, "
        f"got {type(model).__name__}"
    )


def relative_error(analytic: ArrayLike, numeric: ArrayLike) -> float:
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
    """Per-array checks and the worst relative error: ``str()`` (and IPython's text/plain) is
    the table, ``_repr_html_`` the same table in HTML with the relative error's formula in
    MathML; ``repr()`` stays the dataclass's, with every checked array."""

    arrays: list
    max_relative_error: float
    eps: float

    @property
    def per_array(self) -> dict:
        return {c.name: c.relative_error for c in self.arrays}

    def passed(self, tol: float = TOLERANCE) -> bool:
        return self.max_relative_error < tol

    def _rows(self) -> list:
        """(array, checked, relative error, ok/FAIL at ``TOLERANCE``) per array."""
        return [(c.name, f"{c.checked}/{c.total}", f"{c.relative_error:.3e}",
                 "ok" if c.relative_error < TOLERANCE else "FAIL") for c in self.arrays]

    def _verdict(self) -> str:
        return f"{'passed' if self.passed() else 'FAILED'} at tolerance {TOLERANCE:g}"

    def __str__(self):
        lines = [f"{'array':<6} {'checked':>12} {'relative error':>15}  {'':4}"]
        for name, checked, error, ok in self._rows():
            lines.append(f"{name:<6} {checked:>12} {error:>15}  {ok:4}")
        lines.append(f"max relative error {self.max_relative_error:.3e} (eps = {self.eps:g}): {self._verdict()}")
        return "\n".join(line.rstrip() for line in lines)

    def _repr_pretty_(self, p, cycle):
        p.text(str(self))

    def _repr_html_(self) -> str:
        from html import escape

        from .report.mathhtml import latex_to_mathml

        formula = latex_to_mathml(
            r"\frac{\lVert g_{\text{backprop}} - g_{\text{numeric}} \rVert}"
            r"{\lVert g_{\text{backprop}} \rVert + \lVert g_{\text{numeric}} \rVert}")
        mantissa, _, exponent = f"{self.eps:g}".partition("e")
        eps = latex_to_mathml(r"\varepsilon = " + (rf"{mantissa} \times 10^{{{int(exponent)}}}" if exponent else mantissa))
        head = "".join(f"<th>{h}</th>" for h in ("array", "checked", "relative error", f"pass (&lt; {TOLERANCE:g})"))
        body = "".join(
            "<tr>" + "".join(f"<td>{escape(cell)}</td>" for cell in row) + "</tr>" for row in self._rows()
        )
        return (
            '<div class="deltaprop-gradcheck"><table>'
            f"<caption>gradient check: backpropagation against central differences, {eps}</caption>"
            f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
            f"<p>relative error {formula} per array; max relative error "
            f"{self.max_relative_error:.3e}: <strong>{self._verdict()}</strong></p></div>"
        )


def gradcheck(net: Network | MLPClassifier | MLPRegressor, X: ArrayLike, Y: ArrayLike, l2: float = 0.0,
              eps: float = 1e-5, max_checks: int | None = 50, seed: int | np.random.Generator | None = 0,
              sample_weight: ArrayLike | None = None) -> GradcheckResult:
    """Check ``net.backward`` against central differences of ``net.cost``.

    The check runs on a float64 copy of ``net`` (a float32 network is checked through the same
    code at full precision); ``net`` itself is not changed. Arrays with more than ``max_checks``
    entries are sampled (``max_checks=None`` checks every entry), positions drawn with ``seed``.
    ``sample_weight`` checks the weighted cost. ``net`` is a ``Network`` or a fitted
    ``MLPClassifier`` / ``MLPRegressor``; Y target rows (m, n_L) or class labels (m,). Returns a
    ``GradcheckResult`` with one ``ArrayCheck`` per W^l and b^l.
    """
    net, X = model_network(net, X)
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
