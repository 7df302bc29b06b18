"""How many examples a classifier got right: one rule for the reference and the fast step."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

__all__ = ["count_correct"]

_equal, _greater, _count_nonzero = np.equal, np.greater, np.count_nonzero


def count_correct(A: NDArray, Y: NDArray, work: tuple[NDArray, NDArray, NDArray, NDArray] | None = None,
                  predicted: bool = False, half: float | NDArray = 0.5) -> int:
    """How many rows of network outputs A (m, n_L) have the target's class: argmax of a against
    argmax of y, or for a single output a > 0.5 against y > 0.5.

    The fast step passes its preallocated buffers as ``work`` = (i_a, i_y, b_a, b_y), two intp
    and two bool arrays of m entries that receive the intermediate results (None: new arrays),
    ``predicted=True`` when i_a already holds the argmax of A, and ``half`` as a 0-d array of
    A's dtype (a Python float is converted on every call).
    """
    if work is None:
        m = A.shape[0]
        work = (np.empty(m, np.intp), np.empty(m, np.intp), np.empty(m, bool), np.empty(m, bool))
    i_a, i_y, b_a, b_y = work
    if A.shape[1] == 1:
        _greater(A, half, b_a.reshape(-1, 1))
        _greater(Y, half, b_y.reshape(-1, 1))
        _equal(b_a, b_y, b_a)
    else:
        if not predicted:
            A.argmax(1, i_a)
        Y.argmax(1, i_y)
        _equal(i_a, i_y, b_a)
    return int(_count_nonzero(b_a))
