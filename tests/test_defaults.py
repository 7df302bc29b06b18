"""deltaprop.defaults is the one home of every default: the library, the CLI and the estimators
read it, and the two sets that differ on purpose are said to in the README."""

import inspect
from pathlib import Path

import pytest

import deltaprop as dp
from deltaprop import defaults
from deltaprop.optimizers import OPTIMIZERS, get_optimizer
from deltaprop.training import fit


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_caller_takes_the_optimizers_rate_from_one_table(name, tmp_path):
    assert get_optimizer(name).learning_rate == defaults.LEARNING_RATE[name]
    from deltaprop.cli.train import resolve_options

    assert resolve_options({"optimizer": name}, None)["learning_rate"] == defaults.LEARNING_RATE[name]
    clf = dp.MLPClassifier(optimizer=name, epochs=1, hidden_layer_sizes=(2,)).fit([[0.0], [1.0]] * 5, [0, 1] * 5)
    assert clf.optimizer_.learning_rate == defaults.LEARNING_RATE[name]


def test_cli_estimator_and_fit_defaults_come_from_defaults():
    from deltaprop.cli.train import DEFAULTS, resolve_options

    assert DEFAULTS is defaults.TRAIN
    opts = resolve_options({}, None)
    assert {k: opts[k] for k in ("layers", "epochs", "batch_size", "l2")} == {
        k: defaults.TRAIN[k] for k in ("layers", "epochs", "batch_size", "l2")}
    params = dp.MLPClassifier().get_params()
    for key in ("hidden_layer_sizes", "epochs", "l2", "batch_size", "patience", "validation_fraction", "tol"):
        assert params[key] == defaults.ESTIMATOR[key]
    signature = inspect.signature(fit).parameters
    for key in ("epochs", "batch_size", "optimizer", "l2", "patience"):
        assert signature[key].default == defaults.FIT[key]


def test_readme_says_why_the_cli_and_the_estimators_differ():
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    assert "Two sets differ on purpose" in readme and "deltaprop/defaults.py" in readme
