"""The fast training step: the reference update, computed near the matrix-multiply limit.

``FastStep`` does what ``training.ReferenceStep`` does — ``Network.backward``'s four equations
on the rows ``idx`` of the data set, then the optimizer's update — with the same results to
rounding, but without allocating anything per step. One step on a batch of m_b rows (layout as
in ``network``: batches are rows, W^l has shape (n_l, n_{l−1})):

    gather     X_b = X[idx] (m_b, n_0),  Y_b = Y[idx] (m_b, n_L)
    forward    Z^l = A^{l−1} (W^l)ᵀ + b^l,   A^l = g^l(Z^l)                      (m_b, n_l)
    cost       C = (1/m_b) Σ_x C_x + λ_b/(2 m_b) Σ_l ‖W^l‖²,   λ_b = λ m_b / n
    output     Δ^L = a − y (sigmoid + BCE, softmax + CE), else ∂C_x/∂a ⊙ g'(z)  (m_b, n_L)
    backward   Δ^{l−1} = (Δ^l W^l) ⊙ g'(A^{l−1})                                 (m_b, n_{l−1})
    gradients  ∂C/∂W^l = (1/m_b) (Δ^l)ᵀ A^{l−1} + (λ_b/m_b) W^l,  ∂C/∂b^l = (1/m_b) 1ᵀ Δ^l
    update     SGD, Momentum and Adam in place, layer by layer; any other optimizer through
               its own ``step(params, grads)``

``FastCost`` runs the same passes on ALL the rows without an update, writing the gradients into
one flat vector in ``fullbatch.unroll``'s order: the full-batch methods' cost and gradient
(``fullbatch.FlatCost``; with m_b = n, λ_b = λ).

λ belongs to the whole training set's cost (n examples), so a batch of m_b examples is given
λ_b = λ m_b / n, exactly as ``ReferenceStep`` passes it to ``Network._backprop``; the penalty
gradient (λ_b/m_b) W = (λ/n) W is then the same for every batch.

Why it is fast (each trick is explained again where it is used):

* No temporaries. Every intermediate lives in a buffer allocated once, 64-byte aligned
  (``validation.aligned_empty``); every NumPy call writes into it through ``out``. Small
  networks are bound by what each NumPy call costs (0.2–1 µs), so the step makes as few calls
  as it can: the per-layer work is prepared once as tuples of buffers ("plans"), ``out`` is
  passed positionally, C-level methods are preferred to Python wrappers (``X.take`` costs
  0.2 µs, ``np.take`` 0.8 µs), and scalars are 0-d arrays of the network's dtype (a Python float
  is converted on every call).
* The batch is gathered into one reused buffer with ``take(..., out=, mode='clip')`` (with the
  default mode='raise' NumPy first writes to a hidden temporary); the data set is never copied.
* Δ^L is multiplied once by α/m_b (or 1/m_b). Backpropagation is linear in Δ, so every Δ^l
  comes out already scaled and (Δ^l)ᵀ A^{l−1} is the SGD step itself: the large
  (n_l, n_{l−1}) gradient is never scaled.
* The update of layer l is applied as soon as its gradient is known (Δ^{l−1} having been
  computed with the old W^l), so one gradient buffer sized for the largest layer serves all.
* Bias gradients are the matrix–vector product 1ᵀ Δ (BLAS) rather than ``sum(axis=0)``.
* The per-activation kernels live with their math in ``activations``, the output-layer heads
  with their costs in ``costs`` (protocol in ``kernels``); this module asks for them.
* Hidden sigmoids are 0.5·tanh(0.5 z) + 0.5 in place (NumPy's tanh is vectorised; SciPy's
  ``expit`` is a scalar loop, ~10× slower on large arrays). Hidden activations overwrite
  their z: every derivative used here can be written with a alone (σ' = a(1−a),
  tanh' = 1−a², relu'(z) = [a > 0]).
* The first layer's input gradient Δ^0 is never computed.
* Softmax + cross-entropy: log-softmax is computed once and gives both the cost −Σ y·log a
  and a = exp(log a); the row maxima come from ``argmax`` + ``take`` (0.7 µs for a small batch,
  against 2.9 µs for ``max(axis=1)``), and that argmax is also the predicted class.
* SGD on layers of at least ``GEMM_MIN_SIZE`` weights: the update is folded into the gradient
  product, W ← β W − (Δ^l)ᵀ A^{l−1} with β = 1 (or 1 − αλ_b/m_b), by one GEMM call to NumPy's
  own BLAS through ctypes (NumPy has no GEMM with β). This saves a pass over W and over the
  gradient buffer: 3–10% of the step for 784×100 and 1024×1024 layers here. Only NumPy's own
  library is used (found with threadpoolctl, ILP64 ``cblas_?gemm64_`` symbols, checked once
  against ``np.dot``): ``scipy.linalg.blas`` links a second OpenBLAS whose thread pool competes
  with NumPy's for the cores (alternating calls ran up to 40× slower). Without it, the step
  falls back to ``dot`` into the gradient buffer and an aligned in-place subtraction.
"""

from __future__ import annotations

import contextlib
import ctypes
import os

from collections.abc import Callable, Iterator

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .costs import GenericHead
from .kernels import Constants, GenericKernel, _add, _divide, _dot, _multiply, _sqrt, _subtract, _vdot
from .metrics import count_correct
from .network import Network
from .optimizers import SGD, Adam, Momentum, Optimizer
from .validation import aligned_empty

__all__ = ["FastCost", "FastStep"]


#: Layers with at least this many weights fold the SGD update into one GEMM call (below it the
#: ~2 µs a ctypes call costs outweighs the pass over W it saves). None disables the GEMM path.
GEMM_MIN_SIZE = 16384

_CBLAS_ROW_MAJOR, _CBLAS_NO_TRANS, _CBLAS_TRANS = 101, 111, 112
_gemm_cache: dict = {}


def numpy_blas_gemm(dtype: DTypeLike) -> Callable[..., None] | None:
    """``cblas_sgemm``/``cblas_dgemm`` of the BLAS library NumPy itself calls, or None.

    Only an OpenBLAS found inside NumPy's own directory (threadpoolctl lists the loaded BLAS
    libraries) and only its ILP64 symbols (``scipy_cblas_sgemm64_``, ``cblas_sgemm64_``), whose
    integer arguments are unambiguously 64-bit; the result is checked once against ``np.dot``.
    The callable takes C = α op(A) op(B) + β C in CBLAS row-major form.
    """
    dtype = np.dtype(dtype)
    if dtype in _gemm_cache:
        return _gemm_cache[dtype]
    _gemm_cache[dtype] = None
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    letter = {"float32": "s", "float64": "d"}.get(dtype.name)
    if letter is None:
        return None
    real = ctypes.c_float if letter == "s" else ctypes.c_double
    for info in threadpool_info():
        path = os.path.abspath(info.get("filepath") or "")
        if info.get("internal_api") != "openblas" or not _numpys_own(path):
            continue
        try:
            lib = ctypes.CDLL(path)  # the already loaded library: same code, same thread pool
        except OSError:
            continue
        for name in (f"scipy_cblas_{letter}gemm64_", f"cblas_{letter}gemm64_"):
            fn = getattr(lib, name, None)
            if fn is None:
                continue
            i64, ptr = ctypes.c_int64, ctypes.c_void_p
            fn.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int, i64, i64, i64, real, ptr, i64,
                           ptr, i64, real, ptr, i64]
            fn.restype = None
            if _gemm_works(fn, dtype):
                _gemm_cache[dtype] = fn
                return fn
    return None


def _numpys_own(path: str) -> bool:
    """Whether a loaded library lies in NumPy's own directory (``numpy/`` or ``numpy.libs/``)."""
    numpy_dir = os.path.dirname(os.path.abspath(np.__file__))
    path = os.path.abspath(path)
    return path.startswith(numpy_dir + os.sep) or path.startswith(numpy_dir + ".libs" + os.sep)


_others: list = []


def _scipys_own(path: str) -> bool:
    """Whether a loaded library lies in SciPy's own directory (``scipy/`` or ``scipy.libs/``)."""
    import scipy

    scipy_dir = os.path.dirname(os.path.abspath(scipy.__file__))
    path = os.path.abspath(path)
    return path.startswith(scipy_dir + os.sep) or path.startswith(scipy_dir + ".libs" + os.sep)


@contextlib.contextmanager
def other_blas_single_threaded() -> Iterator[None]:
    """Run the block with SciPy's own bundled BLAS (not NumPy's) at one thread.

    SciPy's wheels bundle a second OpenBLAS, which ``scipy.optimize``'s L-BFGS-B and CG use for
    their vector operations. Its thread pool, as large as NumPy's, spins on the same cores while
    NumPy's GEMMs run and slows them down. Measured on the digits benchmark (64-100-10,
    2 cores, both pools at their defaults of 2 threads): 4.0× slower per evaluation than with
    SciPy's pool at one thread, and scikit-learn's L-BFGS suffers the same. The vector
    operations on θ (thousands of floats) need no threads. Only a BLAS inside SciPy's own
    directory that is not NumPy's is limited: where both use one library (conda, Debian), or
    NumPy's lives elsewhere (MKL), nothing is. Found with threadpoolctl, looked up once; the
    limit is process-wide while the block runs."""
    if not _others:
        try:
            from threadpoolctl import ThreadpoolController
        except ImportError:
            _others.append(None)
        else:
            controller = ThreadpoolController()
            paths = [lib.filepath for lib in controller.lib_controllers
                     if lib.user_api == "blas" and _scipys_own(lib.filepath) and not _numpys_own(lib.filepath)]
            _others.append(controller.select(filepath=paths) if paths else None)
    others = _others[0]
    if others is None:
        yield
        return
    with others.limit(limits=1):
        yield


def _gemm_works(fn, dtype):
    """Check C ← −Dᵀ A + β C through ``fn`` against NumPy on a small product."""
    rng = np.random.default_rng(0)
    D = rng.standard_normal((5, 3)).astype(dtype)
    A = rng.standard_normal((5, 4)).astype(dtype)
    C = rng.standard_normal((3, 4)).astype(dtype)
    expected = 0.5 * C - D.T @ A
    fn(_CBLAS_ROW_MAJOR, _CBLAS_TRANS, _CBLAS_NO_TRANS, 3, 4, 5, -1.0, D.ctypes.data, 3,
       A.ctypes.data, 4, 0.5, C.ctypes.data, 4)
    return bool(np.allclose(C, expected, rtol=1e-5, atol=1e-5))


def _is_aligned(arr, alignment=64):
    return arr.flags.c_contiguous and arr.ctypes.data % alignment == 0


# ---------------------------------------------------------------------------- workspace
class _Workspace:
    """Buffers and per-layer plans for batches of ``m`` rows (views of the largest batch's).

    Buffers (views, m rows): ``Xb``, ``Yb``; for hidden layers l = 1..L−1 ``a[l-1]`` (receives
    Z^l, then holds A^l), ``z[l-1]`` (custom activations only), ``tmp[l-1]``; ``delta[l-1]`` = Δ^l
    for l = 1..L; the output layer's ``z_out``, ``a_out``, ``tmp_out``, ``delta_out`` = Δ^L.

    Plans, prepared once so the step only unpacks tuples:
    ``forward``: for l = 1..L−1, (A^{l−1}, (W^l)ᵀ, b^l, Z^l, A^l, scratch, kind^l);
    ``backward``: for l = L..1, (Δ^l, (Δ^l)ᵀ, A^{l−1}, l−1, W^l, b^l, ∂C/∂W^l buffer, ∂C/∂b^l
    buffer, Δ^{l−1}, Z^{l−1}, scratch^{l−1}, kind^{l−1}, gemm), with Δ^{l−1} = None for l = 1 (no
    input gradient) and gemm the sizes and addresses of the fused SGD update, or None.

    For the heads (``kernels``): ``R`` (m, 1) and its vector view ``r``, ``ones_out`` (n_L, 1),
    ``z_out_flat``, ``row_offsets`` = i·n_L and the index buffers ``I1``, ``I_flat``;
    ``count_work`` holds ``metrics.count_correct``'s buffers."""

    def __init__(self, step, base, m):
        for name, arr in base.items():
            if isinstance(arr, list):
                setattr(self, name, [None if a is None else a[:m] for a in arr])
            else:
                setattr(self, name, arr[:m])
        self.learning_rate = None
        self.scale = None
        self.r = self.R.reshape(-1)  # the same memory as R (m, 1), as a vector
        self.z_out_flat = self.z_out.reshape(-1)
        self.ones_out = step.ones_out
        self.row_offsets = np.arange(m, dtype=np.intp) * step.net.sizes[-1]
        self.count_work = (self.I1, self.I2, self.B1, self.B2)  # metrics.count_correct's buffers
        self.delta_out = self.delta[-1]
        L = step.L
        # Z^l: the custom kinds' own buffer, else A^l itself (overwritten in place).
        z = [z_own if z_own is not None else a for z_own, a in zip(self.z, self.a)]
        inputs = [self.Xb] + self.a  # A^0 = X_b, A^1, ..., A^{L−1}
        self.forward = [
            (inputs[l], step.WT[l], step.b[l], z[l], self.a[l], self.tmp[l], step.kinds[l])
            for l in range(L - 1)
        ]
        self.output = (inputs[L - 1], step.WT[L - 1], step.b[L - 1], self.z_out)
        self.backward = []
        for l in range(L - 1, -1, -1):
            prev = (self.delta[l - 1], z[l - 1], self.tmp[l - 1], step.kinds[l - 1]) if l > 0 else (None,) * 4
            gemm = None
            if step.gemm_layers[l]:
                # W^l (n_l, n_{l−1}) ← β W^l − (Δ^l)ᵀ A^{l−1}: row-major M = n_l, N = n_{l−1}, K = m,
                # op(Δ^l) transposed, leading dimensions = the row lengths (all C-contiguous).
                n_l, n_prev = step.W[l].shape
                gemm = (n_l, n_prev, m, self.delta[l].ctypes.data, inputs[l].ctypes.data, step.W[l].ctypes.data)
            self.backward.append((self.delta[l], self.delta[l].T, inputs[l], l, step.W[l], step.b[l], step.grad_W[l], step.grad_b[l])
                                 + prev + (gemm,))


class FastStep:
    """One training step on rows ``idx`` of (X, Y), equal to ``ReferenceStep`` to rounding.

    Parameters
    ----------
    net : Network
        Its ``weights`` and ``biases`` are updated in place (the live arrays).
    optimizer : Optimizer
        SGD, Momentum and Adam are applied in place here, with their state kept in the
        optimizer's own ``state`` lists and ``t`` (so ``state_dict`` checkpoints stay exact);
        any other optimizer gets the gradients through its ``step(params, grads)``.
    l2 : float
        λ for the whole data set; a batch of m_b rows uses λ_b = λ m_b / n (module docstring).
    X : array (n, n_0), Y : array (n, n_L)
        The prepared data set, in ``net.dtype``; never copied.
    batch_size : int
        The largest batch; buffers are sized for min(batch_size, n) rows.

    Calling it with an integer index array returns ``(cost, n_correct)``: the batch's averaged
    cost C (with the L2 term) and how many of its examples the network classified right before
    the step (argmax of a^L, or a > 0.5 for one output; 0 when ``net.classes_`` is None).
    """

    def __init__(self, net: Network, optimizer: Optimizer, l2: float, X: NDArray, Y: NDArray, batch_size: int):
        self.optimizer = optimizer
        self._bind_network(net, l2, X, Y)
        dtype, L = self.dtype, self.L

        self.rule = {SGD: "sgd", Momentum: "momentum", Adam: "adam"}.get(type(optimizer), "generic")
        # SGD layers whose update is folded into a BLAS GEMM call (see the module docstring).
        self.gemm = None
        self.gemm_layers = [False] * L
        if self.rule == "sgd" and GEMM_MIN_SIZE is not None:
            big = [W.size >= GEMM_MIN_SIZE and W.flags.c_contiguous for W in self.W]
            if any(big):
                self.gemm = numpy_blas_gemm(dtype)
                if self.gemm is not None:
                    self.gemm_layers = big
        self.slots = {"momentum": ("velocity",), "adam": ("m", "v")}.get(self.rule, ())
        self._bound_state = {}

        # Gradient buffers. The in-place rules apply layer l's update before layer l−1's
        # gradient is computed, so one flat buffer sized for the largest layer serves every
        # layer; the generic rule hands all gradients to optimizer.step at once.
        sizes = net.sizes
        shapes = [(sizes[l], sizes[l - 1]) for l in range(1, L + 1)]
        if self.rule == "generic":
            self.grad_W = [aligned_empty(s, dtype) for s in shapes]
            self.grad_b = [aligned_empty((s[0],), dtype) for s in shapes]
        else:
            # (no gradient buffer for the layers whose update is a GEMM call)
            self.grad_W, self.grad_b = self._shared([None if fused else s for s, fused in zip(shapes, self.gemm_layers)],
                                           [a for a, _ in shapes])
        # A second parameter-sized scratch buffer where the rule needs one: (λ_b/m_b) W for
        # Momentum, Adam and the generic rule with L2, and Adam's update.
        self.tmp_W = self.tmp_b = None
        if self.rule == "adam" or (self.l2 and self.rule != "sgd"):
            self.tmp_W, self.tmp_b = self._shared(shapes, [a for a, _ in shapes])

        self._rows = 0
        self._workspaces = {}
        self._allocate(max(1, min(int(batch_size), self.n_examples)))

    def _bind_network(self, net, l2, X, Y):
        """The network's live arrays, its kernels and head, and the data set in its dtype."""
        self.net, self.l2 = net, float(l2)
        dtype = self.dtype = net.dtype
        self.X = X if X.dtype == dtype else np.ascontiguousarray(X, dtype=dtype)
        self.Y = Y if Y.dtype == dtype else np.ascontiguousarray(Y, dtype=dtype)
        self.n_examples = self.X.shape[0]
        self.c = c = Constants(dtype)
        self.L = net.n_layers
        # The live parameter arrays (ParameterList assignments copy into them, so they stay).
        self.W = list(net.weights)
        self.b = list(net.biases)
        self.WT = [W.T for W in self.W]  # (W^l)ᵀ views for Z^l = A^{l−1} (W^l)ᵀ
        self.W_flat = [W.reshape(-1) for W in self.W]
        # Each activation's and the cost's own fast code (``kernels``), else their methods.
        self.kinds = [g.fast_kernel(c) or GenericKernel(g) for g in net.activations[:-1]]
        cost, g_out = net.cost_function, net.activations[-1]
        self.head = cost.fast_head(g_out, c) or GenericHead(cost, g_out)

    def use(self, X: NDArray, Y: NDArray, sample_weight: None = None) -> None:
        """Take the rows ``idx`` from (X, Y) from now on: a block of the data set in memory
        (``shuffle="blocks"``); λ_b stays that of the whole data set's n examples."""
        self.X = X if X.dtype == self.dtype else np.ascontiguousarray(X, dtype=self.dtype)
        self.Y = Y if Y.dtype == self.dtype else np.ascontiguousarray(Y, dtype=self.dtype)

    def _shared(self, shapes, lengths):
        """Views of one flat aligned buffer: a matrix of each shape in ``shapes`` (None stays
        None) and, from a second buffer, a vector of each length; all views start at their
        buffer's (aligned) first element."""
        sizes = [a * b for a, b in (s for s in shapes if s is not None)]
        flat = aligned_empty((max(sizes, default=0),), self.dtype)
        flat_b = aligned_empty((max(lengths),), self.dtype)
        matrices = [None if s is None else flat[: s[0] * s[1]].reshape(s) for s in shapes]
        return matrices, [flat_b[:n] for n in lengths]

    # ------------------------------------------------------------------ buffers
    def _allocate(self, rows, gather=True):
        """Buffers for batches of up to ``rows`` examples, 64-byte aligned (``gather=False``:
        the batch is the data set itself, X and Y are used in place)."""
        dtype, sizes = self.dtype, self.net.sizes
        n_out = sizes[-1]

        def buf(*shape):
            return aligned_empty((rows,) + shape, dtype)

        self._base = {
            "Xb": buf(sizes[0]) if gather else self.X,
            "Yb": buf(n_out) if gather else self.Y,
            # a: A^l (l = 1..L−1) receive Z^l and become A^l in place; z only for custom kinds.
            "a": [buf(n) for n in sizes[1:-1]],
            "z": [buf(n) if k.needs_z else None for n, k in zip(sizes[1:-1], self.kinds)],
            "tmp": [buf(n) for n in sizes[1:-1]],
            "delta": [buf(n) for n in sizes[1:]],  # Δ^l, l = 1..L
            "z_out": buf(n_out),
            "a_out": buf(n_out),
            "tmp_out": buf(n_out),
            "R": buf(1),
            "ones": np.ones(rows, dtype),
            "I1": np.empty(rows, np.intp),
            "I2": np.empty(rows, np.intp),
            "I_flat": np.empty(rows, np.intp),
            "B1": np.empty(rows, bool),
            "B2": np.empty(rows, bool),
        }
        self._rows = rows
        self._workspaces = {}
        self.ones_out = np.ones((n_out, 1), dtype)

    def _workspace(self, m):
        if m > self._rows:
            self._allocate(m)
        ws = self._workspaces[m] = _Workspace(self, self._base, m)
        return ws

    # ------------------------------------------------------------------ optimizer state
    def _bind_state(self):
        """Use the optimizer's own state arrays — created on the first step, as the optimizer
        would, or converted once to C-contiguous, 64-byte aligned arrays of the network's dtype
        (same values) when they came from elsewhere (``load_state_dict``)."""
        opt = self.optimizer
        params = [p for pair in zip(self.W, self.b) for p in pair]
        for slot in self.slots:
            arrays = opt.state.get(slot)
            if arrays is None:
                arrays = []
                for p in params:
                    zeros = aligned_empty(p.shape, self.dtype)
                    zeros[...] = 0
                    arrays.append(zeros)
            else:
                if len(arrays) != len(params) or any(a.shape != p.shape for a, p in zip(arrays, params)):
                    raise ValueError(
                        f"the optimizer's {slot!r} state has shapes {[a.shape for a in arrays]} "
                        f"but the network's parameters have {[p.shape for p in params]}"
                    )
                converted = []
                for a in arrays:
                    if a.dtype != self.dtype or not _is_aligned(a):
                        copy = aligned_empty(a.shape, self.dtype)
                        copy[...] = a
                        a = copy
                    converted.append(a)
                arrays = converted
            opt.state[slot] = arrays
            self._bound_state[slot] = arrays

    def _state(self, slot):
        arrays = self.optimizer.state[slot]
        if arrays is None or arrays is not self._bound_state.get(slot):
            # First step, or the optimizer's state was replaced (load_state_dict).
            self._bind_state()
            arrays = self.optimizer.state[slot]
        return arrays

    # ------------------------------------------------------------------ the step
    def __call__(self, idx: NDArray[np.integer]) -> tuple[float, int]:
        """One step on rows ``idx`` (valid row indices of X: they are not checked); returns
        ``(cost, n_correct)``."""
        m = len(idx)
        ws = self._workspaces.get(m)
        if ws is None:
            if m == 0:
                raise ValueError("a training step needs at least one example; idx is empty")
            ws = self._workspace(m)
        opt, rule = self.optimizer, self.rule

        # Δ^L is scaled by α/m_b for SGD and Momentum (so (Δ^l)ᵀ A^{l−1} is already α ∂C/∂W),
        # by 1/m_b for Adam and the generic rule (the plain gradient).
        lr = opt.learning_rate
        if ws.learning_rate != lr:
            ws.scale = self.c.scalar(lr / m if rule in ("sgd", "momentum") else 1.0 / m)
            ws.learning_rate = lr

        # Gather the batch into reused buffers (the method, not np.take: 4× less call overhead;
        # mode='clip', because with out= the default mode first writes to a temporary).
        self.X.take(idx, 0, ws.Xb, "clip")
        self.Y.take(idx, 0, ws.Yb, "clip")

        total, decay = self._forward(ws, m)
        cost = total / m

        n_correct = 0
        if self.net.classes_ is not None:
            n_correct = count_correct(ws.a_out, ws.Yb, ws.count_work, self.head.predicts, self.c.half)

        # Backward pass, with each layer's update as soon as its gradient is known.
        if rule != "generic":
            opt.t += 1  # as Optimizer.step counts (the generic rule calls step itself)
        ones = ws.ones
        sgd = rule == "sgd"
        beta = 1.0 - lr * decay  # SGD: W ← W − α(∂C/∂W + (λ_b/m_b) W) = β W − (Δ^l·scale)ᵀ A^{l−1}
        for delta, delta_T, a_prev, l, W, b, grad_W, grad_b, delta_prev, z_prev, tmp_prev, kind, gemm in ws.backward:
            if delta_prev is not None:
                # Δ^{l−1} = (Δ^l W^l) ⊙ g'(Z^{l−1}), with the old W^l (skipped for l = 1: the
                # inputs need no gradient)
                _dot(delta, W, delta_prev)
                kind.backprop(z_prev, a_prev, delta_prev, tmp_prev)
            _dot(ones, delta, grad_b)  # 1ᵀ Δ^l·scale
            if sgd:
                if gemm is not None:  # one BLAS call: W ← −op(Δ)·A + β W
                    n_l, n_prev, k, D_ptr, A_ptr, W_ptr = gemm
                    self.gemm(_CBLAS_ROW_MAJOR, _CBLAS_TRANS, _CBLAS_NO_TRANS, n_l, n_prev, k, -1.0,
                              D_ptr, n_l, A_ptr, n_prev, beta, W_ptr, n_prev)
                else:
                    _dot(delta_T, a_prev, grad_W)  # (Δ^l·scale)ᵀ A^{l−1} = α ∂C/∂W, (n_l, n_{l−1})
                    if decay:
                        _multiply(W, beta, W)
                    _subtract(W, grad_W, W)
                _subtract(b, grad_b, b)
            else:
                _dot(delta_T, a_prev, grad_W)  # (Δ^l·scale)ᵀ A^{l−1}, shape (n_l, n_{l−1})
                self._update(l, lr, decay)
        if rule == "generic":
            params = [p for pair in zip(self.W, self.b) for p in pair]
            grads = [g for pair in zip(self.grad_W, self.grad_b) for g in pair]
            opt.step(params, grads)
        return cost, n_correct

    def _forward(self, ws, m):
        """The forward pass and the head on the batch in ``ws``: returns (Σ_x C_x + λ_b Σ‖W‖²/2,
        the penalty gradient's factor λ_b/m_b), Δ^L·ws.scale left in ``ws.delta_out``."""
        # Z^l = A^{l−1} (W^l)ᵀ + b^l straight into the buffer (BLAS), then A^l = g(Z^l) in place.
        for a_prev, W_T, b, z, a, tmp, kind in ws.forward:
            _dot(a_prev, W_T, z)
            _add(z, b, z)
            kind.forward(z, a, tmp)
        a_prev, W_T, b, z = ws.output
        _dot(a_prev, W_T, z)
        _add(z, b, z)
        # Cost (before the update, like the reference) and Δ^L·scale.
        total = self.head(ws, ws.scale)
        if not self.l2:
            return total, 0.0
        # + λ_b Σ‖W‖² / 2, before the update (λ_b = λ m_b / n, as ReferenceStep passes it)
        l2_batch = self.l2 * m / self.n_examples
        total += 0.5 * l2_batch * sum(float(_vdot(w, w)) for w in self.W_flat)
        return total, l2_batch / m  # the penalty gradient is (λ_b/m_b) W

    def _update(self, l, lr, decay):
        """Momentum, Adam or (generic rule) only the L2 term, for layer l (index l = layer − 1),
        with the scaled gradients in G[l] and gb[l]."""
        W, b, grad_W, grad_b = self.W[l], self.b[l], self.grad_W[l], self.grad_b[l]
        opt, rule = self.optimizer, self.rule
        if decay:
            # + the penalty gradient: α(λ_b/m_b) W for Momentum (G holds α ∂C/∂W), else (λ_b/m_b) W
            _multiply(W, lr * decay if rule == "momentum" else decay, self.tmp_W[l])
            _add(grad_W, self.tmp_W[l], grad_W)
        if rule == "momentum":
            velocity = self._state("velocity")
            mu = opt.momentum
            for theta, grad, v in ((W, grad_W, velocity[2 * l]), (b, grad_b, velocity[2 * l + 1])):
                _multiply(v, mu, v)  # v ← μ v − α ∂C/∂θ
                _subtract(v, grad, v)
                _add(theta, v, theta)  # θ ← θ + v
        elif rule == "adam":
            self._adam(l)

    def _adam(self, l):
        """Adam for W^l and b^l in place, gradients in G[l] and gb[l] (``optimizers.Adam``):
        m ← β₁m + (1−β₁)g;  v ← β₂v + (1−β₂)g²;  θ ← θ − α̂ m / (√v + ε̂) with
        α̂ = α √(1−β₂ᵗ)/(1−β₁ᵗ), ε̂ = ε √(1−β₂ᵗ)."""
        opt = self.optimizer
        m_state, v_state = self._state("m"), self._state("v")
        b1, b2 = opt.beta1, opt.beta2
        step, eps_hat = opt.corrected_rates(opt.t)
        pairs = ((self.W[l], self.grad_W[l], self.tmp_W[l], 2 * l), (self.b[l], self.grad_b[l], self.tmp_b[l], 2 * l + 1))
        for theta, g, tmp, i in pairs:
            m, v = m_state[i], v_state[i]
            _multiply(m, b1, m)
            _multiply(g, 1 - b1, tmp)
            _add(m, tmp, m)
            _multiply(v, b2, v)
            _multiply(g, g, tmp)
            _multiply(tmp, 1 - b2, tmp)
            _add(v, tmp, v)
            _sqrt(v, tmp)
            _add(tmp, eps_hat, tmp)  # √v + ε̂
            _multiply(m, step, g)  # g is no longer needed: α̂ m
            _divide(g, tmp, g)
            _subtract(theta, g, theta)


class FastCost(FastStep):
    """``Network._backprop``'s cost and gradient on ALL the rows of (X, Y), with FastStep's
    passes but no update: the full-batch methods' evaluation (``fullbatch.FlatCost``).

    The batch is the data set itself (no gather), Δ^L is scaled by 1/n, and the gradients are
    written into ``gradient``, one flat vector of the network's dtype in ``fullbatch.unroll``'s
    order (∂C/∂W^1 row-major, ∂C/∂b^1, …), overwritten by the next call. Calling it returns
    ``(cost, n_correct)`` at the network's current parameters (the live arrays: assign them
    through ``net.weights``/``net.biases``), the cost J = (1/n) Σ_x C_x + λ/(2n) Σ_l ‖W^l‖².
    """

    def __init__(self, net: Network, l2: float, X: NDArray, Y: NDArray):
        self._bind_network(net, l2, X, Y)
        self.gemm_layers = [False] * self.L
        shapes = [W.shape for W in self.W]
        self.gradient = np.empty(sum(a * b + a for a, b in shapes), self.dtype)
        self.grad_W, self.grad_b, at = [], [], 0
        for n_l, n_prev in shapes:
            self.grad_W.append(self.gradient[at : at + n_l * n_prev].reshape(n_l, n_prev))
            at += n_l * n_prev
            self.grad_b.append(self.gradient[at : at + n_l])
            at += n_l
        self.tmp_W = self._shared(shapes, [a for a, _ in shapes])[0] if self.l2 else None  # (λ/n) W
        m = self.n_examples
        if m == 0:
            raise ValueError("a full-batch evaluation needs at least one example; X has no rows")
        self._allocate(m, gather=False)
        self.ws = self._workspace(m)
        self.ws.scale = self.c.scalar(1.0 / m)

    def use(self, X: NDArray, Y: NDArray, sample_weight: None = None) -> None:
        """Evaluate on the rows (X, Y) from now on, in the same buffers (reallocated only for
        more rows than before): one evaluator for several chunks of a data set in turn
        (``distributed.ChunkSums``, ``fullbatch.BlockCost``). The cost and gradient are then the
        means over these rows. (No sample weights: the reference pass takes those.)"""
        if sample_weight is not None:
            raise ValueError("the fast evaluation takes no sample weights; use Network._backprop")
        X = X if X.dtype == self.dtype else np.ascontiguousarray(X, dtype=self.dtype)
        Y = Y if Y.dtype == self.dtype else np.ascontiguousarray(Y, dtype=self.dtype)
        m = X.shape[0]
        if m == 0:
            raise ValueError("a full-batch evaluation needs at least one example; X has no rows")
        self.X, self.Y, self.n_examples = X, Y, m
        if m > self._rows:
            self._allocate(m, gather=False)
        self.ws = _Workspace(self, {**self._base, "Xb": X, "Yb": Y}, m)
        self.ws.scale = self.c.scalar(1.0 / m)

    def __call__(self) -> tuple[float, int]:
        ws, m = self.ws, self.n_examples
        total, decay = self._forward(ws, m)
        n_correct = 0
        if self.net.classes_ is not None:
            n_correct = count_correct(ws.a_out, ws.Yb, ws.count_work, self.head.predicts, self.c.half)
        ones = ws.ones
        for delta, delta_T, a_prev, l, W, b, grad_W, grad_b, delta_prev, z_prev, tmp_prev, kind, _ in ws.backward:
            if delta_prev is not None:  # Δ^{l−1} = (Δ^l W^l) ⊙ g'(Z^{l−1})
                _dot(delta, W, delta_prev)
                kind.backprop(z_prev, a_prev, delta_prev, tmp_prev)
            _dot(ones, delta, grad_b)  # (1/n) 1ᵀ Δ^l
            _dot(delta_T, a_prev, grad_W)  # (1/n) (Δ^l)ᵀ A^{l−1}
            if decay:  # + (λ/n) W^l
                _multiply(W, decay, self.tmp_W[l])
                _add(grad_W, self.tmp_W[l], grad_W)
        return total / m, n_correct
