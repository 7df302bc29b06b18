"""The registries are complete: every activation and every cost carries its own facts.

The tests are parametrized over ``activations.ACTIVATIONS`` and ``costs.COSTS`` themselves, so a
new entry is tested without editing a list here — and fails until it has its display formulas, a
fast kernel (an output-only activation: a head in every cost that accepts it), a fast head for
every output it accepts, and a PyTorch oracle in ``TORCH_ACTIVATIONS`` / ``TORCH_COSTS`` below.
Without PyTorch only the comparisons with it are skipped, not the completeness checks.

The name lists the other test modules parametrize over (``HIDDEN``, ``PAIRINGS``,
``ELEMENTWISE``) are generated here from the registries too.
"""

import numpy as np
import pytest

from conftest import make_targets
from deltaprop.activations import ACTIVATIONS, get_activation
from deltaprop.costs import COSTS, get_cost, output_delta
from deltaprop.kernels import Constants


def canonical(registry):
    """Each class of a registry once, under its own name (aliases such as "linear" left out)."""
    return [name for name, cls in registry.items() if cls.name == name]


def _elementwise(name):
    g = get_activation(name)
    z = np.zeros((1, 2))
    return g.derivative(z, g.value(z)).shape == z.shape  # softmax: a Jacobian per row


ACTIVATION_NAMES = canonical(ACTIVATIONS)
COST_NAMES = canonical(COSTS)
HIDDEN = [name for name in ACTIVATION_NAMES if ACTIVATIONS[name].hidden_ok]
ELEMENTWISE = [name for name in ACTIVATION_NAMES if _elementwise(name)]
#: Every (output activation, cost) a network accepts, cost by cost.
PAIRINGS = [(output, cost) for cost in COST_NAMES for output in ACTIVATION_NAMES
            if get_cost(cost).accepts(get_activation(output))]

# PyTorch's own functions, keyed by registry name (``g.name``): g(z) as (torch, z, g) -> a.
TORCH_ACTIVATIONS = {
    "sigmoid": lambda torch, z, g: torch.sigmoid(z),
    "tanh": lambda torch, z, g: torch.tanh(z),
    "relu": lambda torch, z, g: torch.relu(z),
    "leaky_relu": lambda torch, z, g: torch.nn.functional.leaky_relu(z, g.slope),
    "identity": lambda torch, z, g: z,
    "softmax": lambda torch, z, g: torch.softmax(z, dim=1),
}
# C_x for every row, in terms of the output a: (torch, a, y) -> shape (m,).
TORCH_COSTS = {
    "quadratic": lambda torch, a, y: torch.nn.functional.mse_loss(a, y, reduction="none").sum(dim=1),
    "half_quadratic": lambda torch, a, y: 0.5 * torch.nn.functional.mse_loss(a, y, reduction="none").sum(dim=1),
    "binary_cross_entropy": lambda torch, a, y: torch.nn.functional.binary_cross_entropy(a, y, reduction="none").sum(dim=1),
    "cross_entropy": lambda torch, a, y: -(y * torch.log(a)).sum(dim=1),
}


def weighted_inputs(rng, shape, dtype=np.float64):
    """z away from 0, where ReLU's derivative jumps."""
    z = rng.normal(scale=2, size=shape)
    z[np.abs(z) < 1e-2] = 0.5
    return z.astype(dtype)


# ---------------------------------------------------------------------------- completeness
@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_states_its_own_display_formula(name):
    cls = ACTIVATIONS[name]
    assert "derivative_formula" in vars(cls), f"{cls.__name__} does not define derivative_formula()"
    text, latex = get_activation(name).derivative_formula()
    assert isinstance(text, str) and text and isinstance(latex, str) and latex


@pytest.mark.parametrize("name", list(COSTS))
def test_cost_states_its_own_display_formulas(name):
    from deltaprop.explain.mathdoc import SUM, M

    cls = COSTS[name]
    for method in ("formula", "grad_formula"):
        assert method in vars(cls), f"{cls.__name__} does not define {method}()"
    cost = get_cost(name)
    a, y = M("a_j"), M("y_j")
    for formula in (cost.formula(a, y, SUM + M("_j") + " "), cost.formula(a, y, M("")), cost.grad_formula(a, y)):
        assert isinstance(formula, M) and formula.text and formula.latex


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_has_a_fast_kernel_or_heads(name):
    g = get_activation(name)
    c = Constants(np.float64)
    if g.hidden_ok:
        assert g.fast_kernel(c) is not None, f"{type(g).__name__} defines no Kernel (see deltaprop.kernels)"
    else:  # output-only (softmax): the fast step never runs a kernel on it, only the costs' heads
        accepting = [get_cost(cost) for cost in COST_NAMES if get_cost(cost).accepts(g)]
        assert accepting, f"no cost accepts the output-only activation {name!r}"
        for cost in accepting:
            assert cost.fast_head(g, c) is not None, f"{type(cost).__name__} has no head for {name!r}"


@pytest.mark.parametrize("cost", list(COSTS))
def test_cost_has_a_fast_head_for_every_output_it_accepts(cost):
    cost = get_cost(cost)
    outputs = [name for name in ACTIVATION_NAMES if cost.accepts(get_activation(name))]
    assert outputs
    for output in outputs:
        assert cost.fast_head(get_activation(output), Constants(np.float64)) is not None, (
            f"{type(cost).__name__} defines no Head covering a {output} output (see deltaprop.kernels)")


@pytest.mark.parametrize("name", list(ACTIVATIONS))
def test_activation_has_a_torch_oracle(name):
    assert get_activation(name).name in TORCH_ACTIVATIONS, f"add {name!r} to TORCH_ACTIVATIONS"


@pytest.mark.parametrize("name", list(COSTS))
def test_cost_has_a_torch_oracle(name):
    assert get_cost(name).name in TORCH_COSTS, f"add {name!r} to TORCH_COSTS"


def test_subclasses_inherit_no_fast_code():
    """A subclass may change the math a kernel or head hard-codes: it gets the generic path."""

    class TwiceSigmoid(ACTIVATIONS["sigmoid"]):
        def value(self, z):
            return super().value(2 * z)

    class HalfQuadratic(COSTS["quadratic"]):
        pass

    c = Constants(np.float64)
    assert TwiceSigmoid().fast_kernel(c) is None
    assert HalfQuadratic().fast_head(get_activation("tanh"), c) is None
    assert get_cost("quadratic").fast_head(TwiceSigmoid(), c) is None  # no kernel to run it with


# ---------------------------------------------------------------------------- kernels = the math
@pytest.mark.parametrize("dtype,rtol", [(np.float64, 1e-13), (np.float32, 1e-6)])
@pytest.mark.parametrize("name", HIDDEN + [{"name": "leaky_relu", "slope": 0.3}], ids=str)
def test_fast_kernel_equals_value_and_backprop(name, dtype, rtol, rng):
    g = get_activation(name)
    kernel = g.fast_kernel(Constants(dtype))
    z = weighted_inputs(rng, (6, 5), dtype)
    grad_a = rng.normal(size=z.shape).astype(dtype)
    a_ref = g.value(z)
    tmp = np.empty_like(z)

    a = z.copy()  # a hidden layer: Z^l becomes A^l in place
    kernel.forward(a, a, tmp)
    np.testing.assert_allclose(a, a_ref, rtol=rtol, atol=rtol * 1e-2)

    a_out, z_kept = np.empty_like(z), z.copy()  # the output layer: z kept
    kernel.forward_out(z_kept, a_out, tmp)
    np.testing.assert_array_equal(z_kept, z)
    np.testing.assert_allclose(a_out, a_ref, rtol=rtol, atol=rtol * 1e-2)

    delta = grad_a.copy()
    kernel.backprop(z, a_ref, delta, tmp)
    np.testing.assert_allclose(delta, g.backprop(z, a_ref, grad_a), rtol=rtol, atol=rtol * 1e-2)


# ---------------------------------------------------------------------------- PyTorch oracles
@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_value_and_derivative_match_torch(name, rng):
    torch = pytest.importorskip("torch")
    g = get_activation(name)
    z = weighted_inputs(rng, (6, 5))
    a = g.value(z)
    grad_a = rng.normal(size=z.shape)
    z_t = torch.tensor(z, requires_grad=True)
    a_t = TORCH_ACTIVATIONS[g.name](torch, z_t, g)
    np.testing.assert_allclose(a, a_t.detach().numpy(), rtol=1e-14, atol=1e-15)
    # ∂C/∂z for ∂C/∂a = grad_a: the vector–Jacobian product autograd computes
    (vjp,) = torch.autograd.grad(a_t, z_t, torch.tensor(grad_a), retain_graph=True)
    np.testing.assert_allclose(g.backprop(z, a, grad_a), vjp.numpy(), rtol=1e-12, atol=1e-14)
    if name in ELEMENTWISE:
        (gprime,) = torch.autograd.grad(a_t.sum(), z_t)
        np.testing.assert_allclose(g.derivative(z, a), gprime.numpy(), rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("output,cost", PAIRINGS)
def test_cost_gradient_and_output_error_match_torch(output, cost, rng):
    torch = pytest.importorskip("torch")
    g, C = get_activation(output), get_cost(cost)
    z = weighted_inputs(rng, (7, 4)) / 2
    a = g.value(z)
    y = make_targets(rng, output, cost, 7, 4)
    oracle = TORCH_COSTS[C.name]
    y_t = torch.tensor(y)

    a_t = torch.tensor(a, requires_grad=True)
    per_example = oracle(torch, a_t, y_t)
    np.testing.assert_allclose(C.per_example(z, a, y), per_example.detach().numpy(), rtol=1e-12)
    assert C.value(z, a, y, g) == pytest.approx(float(per_example.detach().mean()), rel=1e-12)
    (grad_a,) = torch.autograd.grad(per_example.sum(), a_t)
    np.testing.assert_allclose(C.grad_a(a, y), grad_a.numpy(), rtol=1e-10, atol=1e-12)

    z_t = torch.tensor(z, requires_grad=True)  # δ^L = ∂C_x/∂z^L, through PyTorch's activation
    (delta,) = torch.autograd.grad(oracle(torch, TORCH_ACTIVATIONS[g.name](torch, z_t, g), y_t).sum(), z_t)
    np.testing.assert_allclose(output_delta(C, g, z, a, y), delta.numpy(), rtol=1e-10, atol=1e-12)


# ---------------------------------------------------------------------------- half_quadratic
@pytest.mark.parametrize("output", ["sigmoid", "identity", "tanh"])
def test_half_quadratic_gradient_and_output_error_match_torch(output, rng):
    """C_x = ½ Σ_j (a_j − y_j)² against PyTorch: C_x, ∂C_x/∂a = a − y and δ^L through autograd."""
    test_cost_gradient_and_output_error_match_torch(output, "half_quadratic", rng)
    z = weighted_inputs(rng, (5, 3))
    g, C, y = get_activation(output), get_cost("half_quadratic"), rng.normal(size=(5, 3))
    a = g.value(z)
    np.testing.assert_array_equal(C.grad_a(a, y), a - y)  # δ^L = (a − y) ⊙ g'(z)
    np.testing.assert_array_equal(output_delta(C, g, z, a, y), g.backprop(z, a, a - y))


def test_half_quadratic_states_the_half_and_no_factor_two():
    from deltaprop.explain.mathdoc import SUM, M

    cost = get_cost("half_quadratic")
    assert cost.name == "half_quadratic" and cost.outputs is None
    a, y = M("a_j"), M("y_j")
    formula = cost.formula(a, y, SUM + M("_j") + " ")
    assert (formula.text, formula.latex) == ("½ Σ_j (a_j − y_j)²", r"\frac{1}{2} \sum_j (a_j - y_j)^2")
    grad = cost.grad_formula(a, y)
    assert (grad.text, grad.latex) == ("(a_j − y_j)", "(a_j - y_j)")


def test_half_quadratic_explain_shows_a_minus_y_times_sigma_prime():
    """explain on a sigmoid network with the ½ cost: C_x = ½ Σ_j (…)², ∂C_x/∂a_j = (a_j − y_j)
    with no factor 2, δ^L = (a − y) ⊙ σ'(z) and each δ^L_j = (a_j − y_j) · σ'(z_j) with the
    network's numbers."""
    import deltaprop as dp

    net = dp.Network([2, 3, 2], activation="tanh", output="sigmoid", cost="half_quadratic", seed=0)
    X, Y = np.array([[0.1, 0.2]]), np.array([[0.0, 1.0]])
    text = str(dp.explain(net, X, Y, weight=(1, 0, 1), notation="nielsen"))
    assert "half_quadratic cost" in text
    assert "C_x = ½ Σ_j (a^3_j − y_j)²" in text
    assert "δ^3_j = ∂C_x/∂a^3_j · σ'(z^3_j) with ∂C_x/∂a^3_j = (a^3_j − y_j) and σ'(z) = a(1 − a)" in text
    assert "(a^3 − y) ⊙ σ'(z^3)" in text  # the Nielsen preset's BP1 in vector form
    assert "2(a" not in text
    grads = net.backward(X, Y)
    a, delta = grads.activations[-1][0], grads.deltas[-1][0]
    np.testing.assert_allclose(delta, (a - Y[0]) * a * (1 - a), rtol=1e-14)
    for j in range(2):  # each δ^3_j = (a_j − y_j) · σ'(z_j) = δ, as the numbers are shown
        assert f"δ^3_{j + 1} = {a[j] - Y[0, j]:.6g} · {a[j] * (1 - a[j]):.6g} = {delta[j]:.6g}" in text
