"""Weight initialisers. Each returns (W, b) for one layer with W of shape (n_out, n_in).

All draw from the ``numpy.random.Generator`` they are given, never from global state.

* ``nielsen``  W ~ N(0, 1/n_in), b = 0 (Nielsen, ch. 3: keeps z from saturating the sigmoid)
* ``glorot``   W ~ U(−r, r), r = √(6 / (n_in + n_out)), b = 0 (Glorot & Bengio 2010; "xavier")
* ``he``       W ~ N(0, 2/n_in), b = 0 (He et al. 2015, for ReLU layers)
* ``ng``       Θ ~ U(−ε, ε) for the weights *and* the bias column, ε = √6 / √(L_in + L_out)
               (Andrew Ng's ML course, "random initialization: symmetry breaking")
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import DTypeLike, NDArray

__all__ = ["INITIALISERS", "get_initialiser", "default_init"]

#: ``init(n_in, n_out, rng, dtype) -> (W, b)``, W of shape (n_out, n_in) and b of shape (n_out,).
Initialiser = Callable[[int, int, np.random.Generator, DTypeLike], "tuple[NDArray, NDArray]"]


def nielsen(n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike) -> tuple[NDArray, NDArray]:
    W = rng.standard_normal((n_out, n_in)) / np.sqrt(n_in)
    return W.astype(dtype), np.zeros(n_out, dtype)


def glorot(n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike) -> tuple[NDArray, NDArray]:
    r = np.sqrt(6.0 / (n_in + n_out))
    return rng.uniform(-r, r, (n_out, n_in)).astype(dtype), np.zeros(n_out, dtype)


def he(n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike) -> tuple[NDArray, NDArray]:
    W = rng.standard_normal((n_out, n_in)) * np.sqrt(2.0 / n_in)
    return W.astype(dtype), np.zeros(n_out, dtype)


def ng(n_in: int, n_out: int, rng: np.random.Generator, dtype: DTypeLike) -> tuple[NDArray, NDArray]:
    eps = np.sqrt(6.0) / np.sqrt(n_in + n_out)
    theta = rng.uniform(-eps, eps, (n_out, n_in + 1))  # column 0 is the bias column
    return theta[:, 1:].astype(dtype), theta[:, 0].astype(dtype)


INITIALISERS = {"nielsen": nielsen, "glorot": glorot, "xavier": glorot, "he": he, "ng": ng}


def get_initialiser(name: str | Initialiser) -> Initialiser:
    """The initialiser function that ``name`` names.

    Parameters
    ----------
    name : str or callable
        "nielsen", "glorot" ("xavier"), "he" or "ng", any case (see the module docstring); a
        callable ``init(n_in, n_out, rng, dtype) -> (W, b)`` is returned as it is.

    Returns
    -------
    callable
        ``init(n_in, n_out, rng, dtype) -> (W, b)``, W of shape (n_out, n_in), b of shape (n_out,).

    Raises
    ------
    ValueError
        For an unknown name, listing the known ones.
    """
    if callable(name):
        return name
    if not isinstance(name, str) or name.lower() not in INITIALISERS:
        raise ValueError(
            f"unknown init {name!r}; expected one of: " + ", ".join(sorted(INITIALISERS))
        )
    return INITIALISERS[name.lower()]


def default_init(hidden_activation_name: str) -> str:
    """He for ReLU-family hidden layers, Nielsen's N(0, 1/n_in) otherwise."""
    return "he" if hidden_activation_name in ("relu", "leaky_relu") else "nielsen"
