"""The in-place protocol of the fast training step (``fastpath.FastStep``), shared by the
activations' kernels and the costs' heads that live next to their math.

A **kernel** (``Activation.fast_kernel``) works on batch buffers, one row per example:

    needs_z                     False when the derivative can be written with a alone; then a
                                hidden layer keeps no z (Z^l is overwritten by A^l)
    forward(z, a, tmp)          a = g(z), in place; for the built-in kernels z *is* a
    forward_out(z, a, tmp)      a = g(z) with z kept (the output layer, z and a apart)
    backprop(z, a, delta, tmp)  delta = ∂C/∂a becomes ∂C/∂z = delta ⊙ g'(z), in place

tmp is a scratch buffer of a's shape. A **head** (``Cost.fast_head``) fuses the output layer of
one (cost, output activation) pair: ``head(ws, scale)`` turns Z^L (``ws.z_out``) into A^L
(``ws.a_out``), returns the batch's summed cost Σ_x C_x (a float, not yet divided by m_b) and
leaves Δ^L·scale in ``ws.delta_out``; ``predicts`` is True when it also leaves the predicted
classes (argmax of a^L) in ``ws.I1``. The workspace ``ws`` is ``fastpath._Workspace``.

Every NumPy call writes through ``out`` (passed positionally), and scalars are the 0-d arrays of
``Constants`` (a Python float is converted on every call): small networks are bound by what each
call costs. The ufuncs are bound to module globals here, cheaper to look up than ``np.<name>``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import DTypeLike, NDArray

if TYPE_CHECKING:  # (both import this module)
    from .activations import Activation
    from .fastpath import _Workspace

# Bound once: a module-global lookup is cheaper than ``np.<name>`` in the hot loop.
_dot, _vdot = np.dot, np.vdot
_add, _subtract, _multiply, _divide = np.add, np.subtract, np.multiply, np.divide
_tanh, _exp, _log, _sqrt = np.tanh, np.exp, np.log, np.sqrt
_maximum, _heaviside = np.maximum, np.heaviside
# [a > 0] as 1.0/0.0 straight into a float buffer (``_greater(a, zero, tmp)``, bool cast on
# output): SIMD, about 10× faster than ``heaviside`` (a scalar loop: 0.76 ms for 1257×100 here).
_greater = np.greater
_negative, _logaddexp = np.negative, np.logaddexp


class Constants:
    """0-d arrays of the network's dtype for the scalars the step multiplies by."""

    def __init__(self, dtype: DTypeLike):
        self.dtype = dtype
        self.zero = np.array(0.0, dtype)
        self.half = np.array(0.5, dtype)
        self.one = np.array(1.0, dtype)
        self.two = np.array(2.0, dtype)

    def scalar(self, value: float) -> NDArray:
        """``value`` as a 0-d array of the dtype."""
        return np.array(value, self.dtype)


class Kernel:
    """Base of the activations' kernels (module docstring); a subclass defines ``forward`` and
    ``backprop`` for z and a the same buffer."""

    needs_z = False

    def forward_out(self, z: NDArray, a: NDArray, tmp: NDArray) -> None:
        a[...] = z
        self.forward(a, a, tmp)


class GenericKernel(Kernel):
    """Any Activation without a kernel of its own: its ``value`` and ``backprop`` (these
    allocate), with z kept in its own buffer because a custom derivative may need it."""

    needs_z = True

    def __init__(self, g: Activation):
        self.g = g

    def forward(self, z: NDArray, a: NDArray, tmp: NDArray) -> None:
        a[...] = self.g.value(z)

    forward_out = forward

    def backprop(self, z: NDArray, a: NDArray, delta: NDArray, tmp: NDArray) -> None:
        delta[...] = self.g.backprop(z, a, delta)


class Head:
    """Base of the costs' heads (module docstring)."""

    predicts = False


def row_max(ws: _Workspace, z: NDArray) -> None:
    """The row maxima of z = ws.z_out (m_b, n) into ws.R (m_b, 1), each row's argmax into ws.I1.

    ``z.max(axis=1)`` goes through NumPy's reduction machinery (2.9 µs for 32×10); argmax,
    the flat index i·n + argmax_i and a ``take`` cost 0.7 µs together."""
    z.argmax(1, ws.I1)
    _add(ws.I1, ws.row_offsets, ws.I_flat)
    ws.z_out_flat.take(ws.I_flat, 0, ws.r, "clip")
