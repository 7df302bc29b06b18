"""deltaprop: feed-forward networks trained by backpropagation, exactly as the derivations state it.

The public API:

    Network(sizes, activation, output, cost, init, seed, dtype)   the model: forward, backward, fit
    gradcheck(net, X, Y)                                           central differences vs backprop
    explain(net, X, Y, weight=(l, j, k))                           the chain rule with the numbers
    explain_layer(net, X, Y, layer=l), sensitivity(net, X, Y)
    diagnose(net, X, Y, weights=..., biases=...)                   which classic mistake explains *your* gradients
    courses.ng_ml, .ng_dl, .nielsen, .cs231n                       each course's layout both ways, and its checker
    save(net, path), load(path)                                    model files (.npz, no pickle)
    report(net, X, y, history=...)                                 the training report, inline in a notebook
    MLPClassifier, MLPRegressor                                    scikit-learn estimators
    one_hot(labels, n_classes)                                     class labels -> target rows

``import deltaprop`` loads only the engine (NumPy and SciPy): the names in ``_LAZY`` are
imported on first use (PEP 562), so scikit-learn is loaded by ``deltaprop.MLPClassifier``, not
by ``import deltaprop`` (``tests/test_imports.py`` checks it).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from .activations import get_activation
from .costs import get_cost
from .diagnose import Diagnosis, Finding, diagnose  # eager: the name is also a submodule's
from .explain import explain, explain_layer, sensitivity  # eager: the name is also a submodule's
from .gradcheck import GradcheckResult, gradcheck
from .network import Gradients, Network
from . import report  # a callable package: deltaprop.report(net, X, y) (see report/__init__.py)
from .targets import one_hot
from .training import History, TrainingDiverged

__version__ = "0.1.0"

#: Public names imported on first access: name -> submodule.
_LAZY = {
    "MLPClassifier": "sklearn",
    "MLPRegressor": "sklearn",
    "save": "modelfile",
    "load": "modelfile",
}

if TYPE_CHECKING:  # for type checkers and IDEs; at run time see __getattr__
    from .modelfile import load, save
    from .sklearn import MLPClassifier, MLPRegressor

__all__ = [
    "Network",
    "Gradients",
    "History",
    "TrainingDiverged",
    "gradcheck",
    "GradcheckResult",
    "explain",
    "explain_layer",
    "sensitivity",
    "diagnose",
    "Diagnosis",
    "Finding",
    "report",
    "save",
    "load",
    "one_hot",
    "MLPClassifier",
    "MLPRegressor",
    "get_activation",
    "get_cost",
    "__version__",
]


def __getattr__(name: str):
    """Import a lazy public name on first access and keep it in the module's namespace."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(set(globals()) | set(__all__))
