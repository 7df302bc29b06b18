"""The fast training step against the reference: same updates, costs and counts; no copies.

``FastStep`` must give what ``ReferenceStep`` (``Network.backward`` + the optimizer) gives, to
rounding, for every activation, cost, optimizer, dtype, L2 setting and batch size; keep the
optimizer's state where ``state_dict`` finds it; update the live parameter arrays in place; and
grow memory by a few batch-sized buffers at most. No timings here: speed is measured by
``python -m benchmarks.speed``.
"""

import tracemalloc

import numpy as np
import pytest

import deltaprop as dp
import deltaprop.fastpath as fastpath
from conftest import make_targets, randomise_biases
from deltaprop.activations import Sigmoid
from deltaprop.costs import Quadratic
from deltaprop.fastpath import FastStep
from deltaprop.optimizers import SGD, Adam, Momentum, get_optimizer
from deltaprop.training import Callback, ReferenceStep, make_step
from test_registry import HIDDEN, PAIRINGS  # generated from the registries

# Relative tolerances "to rounding" for parameters and costs after a few steps.
RTOL = {"float64": 1e-12, "float32": 2e-5}
HIDDEN_ALL = HIDDEN + [{"name": "leaky_relu", "slope": 0.2}]
LEARNING_RATE = {"sgd": 0.05, "momentum": 0.02, "adam": 0.01}


def build(hidden, output, cost, dtype, seed=0, sizes=(5, 7, 6, 4), m=23):
    """A small network with non-zero biases, data X (m, n_0) and targets Y in the cost's domain,
    both already in the network's dtype (as fit hands them to the step)."""
    rng = np.random.default_rng(seed)
    sizes = list(sizes)
    net = dp.Network(sizes, activation=hidden, output=output, cost=cost, seed=seed, init="glorot", dtype=dtype)
    randomise_biases(net, rng)
    X = rng.normal(size=(m, sizes[0])).astype(dtype)
    Y = make_targets(rng, output, cost, m, sizes[-1]).astype(dtype)
    if output == "softmax" or cost == "binary_cross_entropy":
        net.classes_ = np.arange(max(2, sizes[-1]))
    return net, X, Y


def params_of(net):
    return [p for pair in zip(net.weights, net.biases) for p in pair]


def assert_params_close(fast_net, ref_net, dtype):
    for p_fast, p_ref in zip(params_of(fast_net), params_of(ref_net)):
        scale = max(float(np.max(np.abs(p_ref))), 1e-30)
        assert np.max(np.abs(p_fast.astype(np.float64) - p_ref)) <= RTOL[dtype] * scale, (p_fast, p_ref)


@pytest.fixture(params=["blas-gemm", "dot"])
def sgd_update(request, monkeypatch):
    """Both ways FastStep applies SGD: folded into a direct BLAS GEMM call (forced on for every
    layer, however small) or ``np.dot`` and an in-place subtraction."""
    if request.param == "blas-gemm":
        if fastpath.numpy_blas_gemm(np.float32) is None or fastpath.numpy_blas_gemm(np.float64) is None:
            pytest.skip("NumPy's own BLAS GEMM was not found (FastStep uses np.dot then)")
        monkeypatch.setattr(fastpath, "GEMM_MIN_SIZE", 1)
    else:
        monkeypatch.setattr(fastpath, "GEMM_MIN_SIZE", None)
    return request.param


def run_both(net, X, Y, optimizer, l2, batch_size, epochs=2, seed=0):
    """The same batches through ReferenceStep (on ``net``) and FastStep (on a copy); returns the
    two networks, optimizers and per-step (cost, n_correct) lists."""
    fast_net = net.copy()
    ref_opt, fast_opt = get_optimizer(optimizer, LEARNING_RATE[optimizer]), get_optimizer(optimizer, LEARNING_RATE[optimizer])
    ref = ReferenceStep(net, ref_opt, l2, X, Y, batch_size)
    fast = FastStep(fast_net, fast_opt, l2, X, Y, batch_size)
    rng = np.random.default_rng(seed)
    out_ref, out_fast = [], []
    for _ in range(epochs):
        order = rng.permutation(X.shape[0])
        for start in range(0, X.shape[0], batch_size):
            idx = order[start : start + batch_size]
            out_ref.append(ref(idx))
            out_fast.append(fast(idx))
    return net, fast_net, ref_opt, fast_opt, out_ref, out_fast


def assert_outputs_close(out_ref, out_fast, dtype):
    for (c_ref, k_ref), (c_fast, k_fast) in zip(out_ref, out_fast):
        assert isinstance(c_fast, float) and isinstance(k_fast, int)
        assert c_fast == pytest.approx(c_ref, rel=RTOL[dtype], abs=1e-30)
        assert k_fast == k_ref


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
@pytest.mark.parametrize("output,cost", PAIRINGS)
@pytest.mark.parametrize("hidden", HIDDEN_ALL, ids=lambda h: h if isinstance(h, str) else "leaky_relu_0.2")
def test_fast_step_equals_reference_step(hidden, output, cost, optimizer, dtype):
    """Every activation × (output, cost) × optimizer × dtype, with and without L2, batches of 5
    over 23 examples (the last one short), two epochs: same parameters, costs and counts."""
    for l2 in (0.0, 0.7):
        net, X, Y = build(hidden, output, cost, dtype)
        ref_net, fast_net, ref_opt, fast_opt, out_ref, out_fast = run_both(net, X, Y, optimizer, l2, 5)
        assert_outputs_close(out_ref, out_fast, dtype)
        assert_params_close(fast_net, ref_net, dtype)
        # The optimizer's own state (what checkpoints save) matches too.
        ref_state, fast_state = ref_opt.state_dict(), fast_opt.state_dict()
        assert ref_state.keys() == fast_state.keys()
        for key in ref_state:
            np.testing.assert_allclose(fast_state[key], ref_state[key], rtol=50 * RTOL[dtype],
                                       atol=50 * RTOL[dtype] * max(1e-30, float(np.max(np.abs(ref_state[key])))))


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("output,cost", PAIRINGS)
@pytest.mark.parametrize("hidden", HIDDEN_ALL, ids=lambda h: h if isinstance(h, str) else "leaky_relu_0.2")
def test_sgd_with_and_without_the_blas_gemm_update(hidden, output, cost, dtype, sgd_update):
    for l2 in (0.0, 0.7):
        net, X, Y = build(hidden, output, cost, dtype)
        ref_net, fast_net, _, _, out_ref, out_fast = run_both(net, X, Y, "sgd", l2, 5)
        assert_outputs_close(out_ref, out_fast, dtype)
        assert_params_close(fast_net, ref_net, dtype)
    step = FastStep(net, SGD(0.1), 0.0, X, Y, 5)
    assert all(step.gemm_layers) == (sgd_update == "blas-gemm")


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
@pytest.mark.parametrize("output", ["sigmoid", "identity", "tanh", "softmax"])
def test_half_quadratic_fast_step_equals_reference_step(output, optimizer, dtype):
    """cost="half_quadratic" runs the fused quadratic head with its ½ (not the generic path) and
    gives the reference's parameters and costs, with and without L2."""
    for l2 in (0.0, 0.7):
        net, X, Y = build("tanh", output, "half_quadratic", dtype)
        step = FastStep(net.copy(), SGD(0.1), l2, X, Y, 5)
        assert type(step.head) is type(net.cost_function).Head and step.head.half
        ref_net, fast_net, _, _, out_ref, out_fast = run_both(net, X, Y, optimizer, l2, 5)
        assert_outputs_close(out_ref, out_fast, dtype)
        assert_params_close(fast_net, ref_net, dtype)


@pytest.mark.parametrize("batch_size", [1, 4, 7, 16, 23, 64])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_batch_sizes_including_short_last_batch_and_larger_than_data(batch_size, dtype, sgd_update):
    net, X, Y = build("sigmoid", "softmax", "cross_entropy", dtype, sizes=(6, 9, 8, 3), m=23)
    ref_net, fast_net, _, _, out_ref, out_fast = run_both(net, X, Y, "sgd", 0.3, batch_size, epochs=3)
    assert_outputs_close(out_ref, out_fast, dtype)
    assert_params_close(fast_net, ref_net, dtype)


def test_the_blas_gemm_is_numpys_own():
    """Where it is found, the GEMM is the one in NumPy's directory (not SciPy's second
    OpenBLAS) and computes C ← α op(A) op(B) + β C like np.dot."""
    for dtype in (np.float32, np.float64):
        gemm = fastpath.numpy_blas_gemm(dtype)
        if gemm is None:
            pytest.skip("NumPy's own BLAS GEMM was not found (FastStep uses np.dot then)")
        rng = np.random.default_rng(1)
        D, A, C = (rng.standard_normal(s).astype(dtype) for s in ((7, 5), (7, 6), (5, 6)))
        expected = 2.0 * C - 0.5 * D.T @ A
        gemm(101, 112, 111, 5, 6, 7, -0.5, D.ctypes.data, 5, A.ctypes.data, 6, 2.0, C.ctypes.data, 6)
        np.testing.assert_allclose(C, expected, rtol=1e-5 if dtype == np.float32 else 1e-12)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_single_sigmoid_output_counts_a_above_one_half(dtype):
    net, X, Y = build("tanh", "sigmoid", "binary_cross_entropy", dtype, sizes=(3, 5, 1), m=40)
    ref_net, fast_net, _, _, out_ref, out_fast = run_both(net, X, Y, "momentum", 0.0, 8)
    assert_outputs_close(out_ref, out_fast, dtype)
    assert_params_close(fast_net, ref_net, dtype)
    assert any(k > 0 for _, k in out_fast)


def test_regression_networks_count_nothing():
    net, X, Y = build("relu", "identity", "quadratic", "float64")
    assert net.classes_ is None
    _, _, _, _, out_ref, out_fast = run_both(net, X, Y, "sgd", 0.0, 5)
    assert all(k == 0 for _, k in out_fast + out_ref)


def test_saturated_outputs_keep_finite_exact_costs():
    """Huge weighted inputs: the softmax and sigmoid costs stay finite and equal the reference."""
    for output, cost in [("softmax", "cross_entropy"), ("sigmoid", "binary_cross_entropy")]:
        net, X, Y = build("identity", output, cost, "float64", sizes=(4, 3))
        net.weights[0] = net.weights[0] * 400.0
        _, _, _, _, out_ref, out_fast = run_both(net, X, Y, "sgd", 0.0, 5, epochs=1)
        assert all(np.isfinite(c) for c, _ in out_fast)
        assert_outputs_close(out_ref, out_fast, "float64")


class TwiceSigmoid(Sigmoid):
    """A user's own activation (not one of the built-in classes): the generic path."""

    def value(self, z):
        return super().value(2 * z)

    def derivative(self, z, a):
        return 2 * a * (1 - a)


class HalfQuadratic(Quadratic):
    """A user's own cost: C_x = ½ Σ (a − y)²."""

    def per_example(self, z, a, y):
        return 0.5 * super().per_example(z, a, y)

    def grad_a(self, a, y):
        return a - y


class PlainSGD(SGD):
    """A user's own optimizer: FastStep must hand it the gradients through step()."""

    def _update(self, params, grads):
        for theta, grad in zip(params, grads):
            theta -= self.learning_rate * grad


@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_custom_activation_cost_and_optimizer_use_the_generic_path(dtype):
    def custom_net():  # built twice, alike: copy() would rebuild the activations from their names
        net = dp.Network([4, 6, 3], activation=[TwiceSigmoid()], output=TwiceSigmoid(), cost=HalfQuadratic(),
                         seed=1, dtype=dtype)
        return randomise_biases(net, np.random.default_rng(3))

    net, fast_net = custom_net(), custom_net()
    rng = np.random.default_rng(4)
    X, Y = rng.normal(size=(17, 4)).astype(dtype), rng.normal(size=(17, 3)).astype(dtype)
    for l2 in (0.0, 0.5):
        ref = ReferenceStep(net, PlainSGD(0.1), l2, X, Y, 4)
        fast = FastStep(fast_net, PlainSGD(0.1), l2, X, Y, 4)
        for start in range(0, 17, 4):
            idx = np.arange(start, min(start + 4, 17))
            (c_ref, _), (c_fast, _) = ref(idx), fast(idx)
            assert c_fast == pytest.approx(c_ref, rel=RTOL[dtype])
        assert_params_close(fast_net, net, dtype)


def test_parameters_are_updated_in_place_and_stay_aligned():
    net, X, Y = build("sigmoid", "softmax", "cross_entropy", "float32")
    before = [id(p) for p in params_of(net)]
    arrays = params_of(net)
    old = [p.copy() for p in arrays]
    step = FastStep(net, Adam(0.01), 0.1, X, Y, 8)
    step(np.arange(8))
    assert [id(p) for p in params_of(net)] == before
    assert all(p is q for p, q in zip(params_of(net), arrays))
    assert all(not np.array_equal(p, q) for p, q in zip(arrays, old))
    assert all(p.ctypes.data % 64 == 0 for p in params_of(net))


def test_learning_rate_changed_between_steps_is_used():
    net, X, Y = build("tanh", "softmax", "cross_entropy", "float64")
    fast_net = net.copy()
    ref_opt, fast_opt = Momentum(0.1), Momentum(0.1)
    ref, fast = ReferenceStep(net, ref_opt, 0.0, X, Y, 5), FastStep(fast_net, fast_opt, 0.0, X, Y, 5)
    for i, start in enumerate(range(0, 20, 5)):
        ref_opt.learning_rate = fast_opt.learning_rate = 0.1 / (i + 1)  # a schedule
        idx = np.arange(start, start + 5)
        assert fast(idx)[0] == pytest.approx(ref(idx)[0], rel=1e-12)
    assert_params_close(fast_net, net, "float64")


@pytest.mark.parametrize("optimizer", ["momentum", "adam"])
def test_optimizer_state_survives_a_state_dict_round_trip_exactly(optimizer):
    """Stop after some steps, restore the optimizer from state_dict() into a new one (as a
    checkpoint does) and a new FastStep, continue: bit-identical to never stopping."""
    net, X, Y = build("relu", "softmax", "cross_entropy", "float32")
    resumed_net = net.copy()
    batches = [np.random.default_rng(i).permutation(23)[:6] for i in range(8)]

    opt = get_optimizer(optimizer, 0.01)
    step = FastStep(net, opt, 0.2, X, Y, 6)
    for idx in batches:
        step(idx)

    opt1 = get_optimizer(optimizer, 0.01)
    step1 = FastStep(resumed_net, opt1, 0.2, X, Y, 6)
    for idx in batches[:4]:
        step1(idx)
    saved = {k: np.array(v, copy=True) for k, v in opt1.state_dict().items()}  # as written to a file
    opt2 = get_optimizer(optimizer, 0.01)
    opt2.load_state_dict(saved)
    step2 = FastStep(resumed_net, opt2, 0.2, X, Y, 6)
    for idx in batches[4:]:
        step2(idx)

    for p, q in zip(params_of(net), params_of(resumed_net)):
        np.testing.assert_array_equal(p, q)
    final, resumed = opt.state_dict(), opt2.state_dict()
    assert final.keys() == resumed.keys()
    for key in final:
        np.testing.assert_array_equal(final[key], resumed[key])


def test_load_state_dict_on_the_same_optimizer_is_picked_up():
    """An optimizer whose state is replaced between steps (Trainer.restore) is re-bound."""
    net, X, Y = build("sigmoid", "softmax", "cross_entropy", "float64")
    ref_net = net.copy()
    fast_opt, ref_opt = Momentum(0.05), Momentum(0.05)
    fast = FastStep(net, fast_opt, 0.0, X, Y, 5)
    ref = ReferenceStep(ref_net, ref_opt, 0.0, X, Y, 5)
    fast(np.arange(5))
    ref(np.arange(5))
    snapshot = {k: np.array(v, copy=True) for k, v in ref_opt.state_dict().items()}
    snapshot["velocity0"] = snapshot["velocity0"] * 3.0  # a different state, loaded into both
    fast_opt.load_state_dict(snapshot)
    ref_opt.load_state_dict(snapshot)
    fast(np.arange(5, 10))
    ref(np.arange(5, 10))
    assert_params_close(net, ref_net, "float64")


def test_make_step_uses_the_fast_path():
    net, X, Y = build("sigmoid", "softmax", "cross_entropy", "float32")
    assert isinstance(make_step("fast", net, SGD(0.1), 0.0, X, Y, 8), FastStep)
    assert isinstance(make_step("auto", net, SGD(0.1), 0.0, X, Y, 8), FastStep)
    assert isinstance(make_step("reference", net, SGD(0.1), 0.0, X, Y, 8), ReferenceStep)


@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("optimizer,l2", [("sgd", 0.0), ("momentum", 0.5), ("adam", 0.0)])
def test_fit_fast_equals_fit_reference_over_three_epochs(dtype, optimizer, l2):
    rng = np.random.default_rng(7)
    X = rng.normal(size=(150, 6))
    y = rng.integers(0, 3, 150)
    nets = {}
    histories = {}
    for engine in ("fast", "reference"):
        net = dp.Network([6, 10, 8, 3], activation="sigmoid", output="softmax", cost="cross_entropy",
                         seed=2, dtype=dtype)
        histories[engine] = net.fit(X, y, epochs=3, batch_size=16, learning_rate=LEARNING_RATE[optimizer],
                                    optimizer=optimizer, l2=l2, seed=5, engine=engine)
        nets[engine] = net
    rtol = 1e-11 if dtype == "float64" else 1e-4
    for p_fast, p_ref in zip(params_of(nets["fast"]), params_of(nets["reference"])):
        np.testing.assert_allclose(p_fast, p_ref, rtol=rtol, atol=rtol * float(np.max(np.abs(p_ref))))
    np.testing.assert_allclose(histories["fast"]["cost"], histories["reference"]["cost"], rtol=rtol)
    assert histories["fast"]["accuracy"] == histories["reference"]["accuracy"]


# ---------------------------------------------------------------------------- memory
class PeakDuringEpochs(Callback):
    """tracemalloc's peak between the start and the end of the epochs (the data set, the
    network and the train step already exist)."""

    def on_train_begin(self, trainer):
        tracemalloc.reset_peak()
        self.start = tracemalloc.get_traced_memory()[0]

    def on_train_end(self, trainer):
        self.growth = tracemalloc.get_traced_memory()[1] - self.start


def test_memory_during_fit_grows_by_batch_buffers_not_by_the_data_set():
    """10 epochs over 20,000 examples of 100 features (8 MB of float32): the epochs grow memory
    by the epoch's permutation (8 bytes per example) plus a few batch-sized buffers and
    parameter-sized copies, far less than one copy of X."""
    rng = np.random.default_rng(0)
    n, batch = 20_000, 50
    X = rng.random((n, 100), dtype=np.float32)
    y = rng.integers(0, 10, n)
    net = dp.Network([100, 32, 10], activation="sigmoid", output="softmax", cost="cross_entropy",
                     dtype="float32", seed=0)
    param_bytes = sum(p.nbytes for p in params_of(net))
    batch_bytes = batch * sum(net.sizes) * 4
    peak = PeakDuringEpochs()
    tracemalloc.start()
    try:
        net.fit(X, y, epochs=10, batch_size=batch, learning_rate=0.1, optimizer="momentum", seed=0,
                engine="fast", callbacks=[peak])
    finally:
        tracemalloc.stop()
    bound = 8 * n + 4 * param_bytes + 4 * batch_bytes + 64 * 1024
    assert peak.growth < bound, (peak.growth, bound)
    assert peak.growth < X.nbytes / 10


def test_fast_step_allocates_buffers_once():
    """After the first call, steps allocate nothing but a few small Python objects (and, once,
    the views for the short last batch); building the step allocates a few batch-sized buffers,
    one layer-sized gradient and scratch buffer, and Adam's state."""
    rng = np.random.default_rng(0)
    n, batch = 5_000, 64
    X = rng.random((n, 200), dtype=np.float32)
    Y = np.eye(10, dtype=np.float32)[rng.integers(0, 10, n)]
    net = dp.Network([200, 64, 32, 10], activation="relu", output="softmax", cost="cross_entropy",
                     dtype="float32", seed=0)
    net.classes_ = np.arange(10)
    order = rng.permutation(n)
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        step = FastStep(net, Adam(0.001), 0.1, X, Y, batch)
        step(order[:batch])
        built = tracemalloc.get_traced_memory()[0] - base
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        for start in range(batch, n, batch):
            step(order[start : start + batch])
        per_step_peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()
    batch_bytes = batch * sum(net.sizes) * 4
    largest_layer = max(W.nbytes for W in net.weights)
    adam_state = 2 * sum(p.nbytes for p in params_of(net))
    assert built < 8 * batch_bytes + 4 * largest_layer + adam_state + 64 * 1024, built
    assert per_step_peak < 32 * 1024, per_step_peak


# ---------------------------------------------------------------------------- PyTorch
def test_same_final_cost_and_weights_as_pytorch():
    """A 4-5-3 network (sigmoid, softmax + cross-entropy), float32, plain SGD, 30 epochs over the
    same unshuffled mini-batches of 8 (the last one short) from the same initial weights:
    deltaprop's fit and torch.optim.SGD end with the same weights and cost (float32 rounding)."""
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(11)
    n, batch, epochs, lr = 42, 8, 30, 0.5
    X = rng.normal(size=(n, 4)).astype(np.float32)
    y = rng.integers(0, 3, n)
    net = dp.Network([4, 5, 3], activation="sigmoid", output="softmax", cost="cross_entropy",
                     seed=4, dtype="float32")
    initial = [p.copy() for p in params_of(net)]

    history = net.fit(X, y, epochs=epochs, batch_size=batch, learning_rate=lr, shuffle=False, engine="fast")

    model = torch.nn.Sequential(torch.nn.Linear(4, 5), torch.nn.Sigmoid(), torch.nn.Linear(5, 3))
    with torch.no_grad():
        for layer, W, b in ((model[0], initial[0], initial[1]), (model[2], initial[2], initial[3])):
            layer.weight.copy_(torch.from_numpy(W))  # nn.Linear's weight is (out, in): W^l as is
            layer.bias.copy_(torch.from_numpy(b))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(epochs):
        for start in range(0, n, batch):
            optimizer.zero_grad()
            loss = loss_fn(model(X_t[start : start + batch]), y_t[start : start + batch])
            loss.backward()
            optimizer.step()
    with torch.no_grad():
        torch_cost = float(loss_fn(model(X_t), y_t))
    torch_params = [model[0].weight, model[0].bias, model[2].weight, model[2].bias]

    assert net.evaluate(X, y)["cost"] == pytest.approx(torch_cost, rel=1e-5)
    assert history["cost"][-1] < history["cost"][0]  # it did learn
    for p, t in zip(params_of(net), torch_params):
        np.testing.assert_allclose(p, t.detach().numpy(), rtol=1e-4, atol=1e-5)


# ---------------------------------------------------------------------------- full-batch evaluation
def _flat_costs(net, X, Y, l2, sample_weight=None):
    """fullbatch.FlatCost with engine="fast" (on ``net``) and "reference" (on a copy)."""
    from deltaprop.fullbatch import FlatCost
    from deltaprop.training import TrainingData

    data = TrainingData(X, Y, sample_weight=sample_weight)
    return FlatCost(net, data, l2, engine="fast"), FlatCost(net.copy(), data, l2, engine="reference")


@pytest.mark.parametrize("l2", [0.0, 0.7])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
@pytest.mark.parametrize("output,cost", PAIRINGS)
@pytest.mark.parametrize("hidden", HIDDEN_ALL, ids=lambda h: h if isinstance(h, str) else "leaky_relu_0.2")
def test_full_batch_fast_cost_and_gradient_equal_backprop(hidden, output, cost, dtype, l2):
    from deltaprop.fullbatch import unroll

    net, X, Y = build(hidden, output, cost, dtype)
    fast, ref = _flat_costs(net, X, Y, l2)
    theta = unroll(net.weights, net.biases)
    # two points, so the second evaluation runs in buffers the first one filled
    for point in (theta, theta + 0.3 * np.random.default_rng(1).normal(size=theta.size)):
        (c_fast, g_fast), (c_ref, g_ref) = fast(point), ref(point)
        assert isinstance(c_fast, float) and g_fast.dtype == np.float64
        assert c_fast == pytest.approx(c_ref, rel=RTOL[dtype])
        np.testing.assert_allclose(g_fast, g_ref, rtol=RTOL[dtype], atol=RTOL[dtype] * float(np.max(np.abs(g_ref))))
        assert fast.last[2] == ref.last[2]  # examples classified right
        for p_fast, p_ref in zip(params_of(fast.net), params_of(ref.net)):  # both hold θ
            np.testing.assert_array_equal(p_fast, p_ref)


def test_full_batch_fast_gradient_is_a_fresh_array_each_call():
    # scipy's L-BFGS-B keeps the previous gradient for its curvature pair: a reused buffer would corrupt it
    from deltaprop.fullbatch import unroll

    net, X, Y = build("relu", "softmax", "cross_entropy", "float64")
    fast, _ = _flat_costs(net, X, Y, 0.1)
    theta = unroll(net.weights, net.biases)
    _, g1 = fast(theta)
    kept = g1.copy()
    _, g2 = fast(theta + 0.5)
    assert g2 is not g1 and not np.shares_memory(g1, g2)
    np.testing.assert_array_equal(g1, kept)


def test_full_batch_engines_with_sample_weights():
    from deltaprop.fullbatch import FlatCost, unroll
    from deltaprop.training import TrainingData

    net, X, Y = build("tanh", "softmax", "cross_entropy", "float64")
    w = np.random.default_rng(2).uniform(0.5, 2.0, X.shape[0])
    data = TrainingData(X, Y, sample_weight=w)
    auto, ref = FlatCost(net, data, 0.5), FlatCost(net.copy(), data, 0.5, engine="reference")
    theta = unroll(net.weights, net.biases)
    (c_auto, g_auto), (c_ref, g_ref) = auto(theta), ref(theta)
    assert c_auto == c_ref  # auto falls back to the reference, which weighs the rows
    np.testing.assert_array_equal(g_auto, g_ref)
    with pytest.raises(ValueError, match="engine='fast' does not support sample_weight"):
        FlatCost(net, data, 0.5, engine="fast")
    with pytest.raises(ValueError, match="engine must be 'auto', 'fast' or 'reference', got 'quick'"):
        FlatCost(net, TrainingData(X, Y), 0.5, engine="quick")
