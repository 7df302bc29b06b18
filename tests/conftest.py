import os
import re

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# Deterministic property tests: the same examples on every run, CI included.
settings.register_profile(
    "deltaprop",
    derandomize=True,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "deltaprop"))

# `python -m pytest -m fast`: the engine, training and model files, in well under 2 minutes
# (the README's Development section). The selection is this one list of modules, plus
# test_fastpath.py without its slowest tests.
FAST_MODULES = {
    "test_network.py",
    "test_activations.py",
    "test_gradcheck.py",
    "test_training.py",
    "test_modelfile.py",
    "test_init.py",
    "test_preprocessing.py",
    "test_fastpath.py",
    "test_registry.py",
    "test_targets.py",
    "test_defaults.py",
    "test_validation.py",
    "test_sources.py",
    "test_diagnose.py",
    "test_plots.py",
    "test_typing.py",
}
NOT_FAST = {  # test_fastpath.py's slow ones (seconds each): PyTorch runs, memory measurements
    "test_same_final_cost_and_weights_as_pytorch",
    "test_fast_step_allocates_buffers_once",
    "test_memory_during_fit_grows_by_batch_buffers_not_by_the_data_set",
}


def pytest_collection_modifyitems(config, items):
    for item in items:
        if item.path.name in FAST_MODULES and getattr(item, "originalname", item.name) not in NOT_FAST:
            item.add_marker(pytest.mark.fast)

# Output activation + cost pairs that make sense, and the targets each needs.
PAIRINGS = [
    ("sigmoid", "quadratic"),
    ("tanh", "quadratic"),
    ("relu", "quadratic"),
    ("leaky_relu", "quadratic"),
    ("identity", "quadratic"),
    ("softmax", "quadratic"),
    ("sigmoid", "half_quadratic"),
    ("tanh", "half_quadratic"),
    ("identity", "half_quadratic"),
    ("softmax", "half_quadratic"),
    ("sigmoid", "binary_cross_entropy"),
    ("softmax", "cross_entropy"),
]
HIDDEN = ["sigmoid", "tanh", "relu", "leaky_relu", "identity"]


def make_targets(rng, output, cost, m, n_out):
    """Targets in the domain of (output, cost)."""
    if cost == "cross_entropy" or (output == "softmax"):
        return np.eye(n_out)[rng.integers(0, n_out, m)]
    if cost == "binary_cross_entropy":
        return rng.integers(0, 2, (m, n_out)).astype(float)
    return rng.normal(size=(m, n_out))


def randomise_biases(net, rng, scale=0.5):
    """Non-zero biases, so no ReLU sits exactly on its kink at z = 0."""
    net.biases = [rng.normal(scale=scale, size=b.shape) for b in net.biases]
    return net


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


def shown_number(text):
    """The number after the last '=' of a formula as the report page shows it: MathML (its
    tags are dropped) or its text, e.g. −0.0123 or 1.2×10−5."""
    text = re.sub(r"<[^>]+>", "", text)
    tail = text.split("=")[-1].strip().replace("\u2212", "-").replace(" ", "")
    match = re.fullmatch(r"\(?(-?\d+(?:\.\d+)?)(?:×10(-?\d+))?\)?", tail)
    assert match, f"no number at the end of {text!r}"
    mantissa, exponent = match.groups()
    return float(mantissa) * (10.0 ** int(exponent) if exponent else 1.0)


def by_array(diagnosis):
    """(The course checkers' tests.) {array: sorted kinds} of the findings that are not "correct"; a mistake in δ^l is reported
    once, at the layer it is made, with the arrays it reaches in ``evidence["arrays"]``."""
    out = {}
    for f in diagnosis.findings:
        if f.kind != "correct":
            for array in [f.array, *f.evidence.get("arrays", [])]:
                out.setdefault(array, set()).add(f.kind)
    return {a: sorted(k) for a, k in out.items()}
