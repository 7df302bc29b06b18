"""deltaprop: feed-forward networks trained by backpropagation, exactly as the derivations state it.

The public API:

    Network(sizes, activation, output, cost, init, seed, dtype)   the model: forward, backward, fit
    gradcheck(net, X, Y)                                           central differences vs backprop
    explain(net, X, Y, weight=(l, j, k))                           the chain rule with the numbers
    explain_layer(net, X, Y, layer=l), sensitivity(net, X, Y)
    save(net, path), load(path)                                    model files (.npz, no pickle)
    MLPClassifier, MLPRegressor                                    scikit-learn estimators
    one_hot(labels, n_classes)                                     class labels -> target rows
"""

from .activations import get_activation
from .costs import get_cost
from .explain import explain, explain_layer, sensitivity
from .gradcheck import GradcheckResult, gradcheck
from .modelfile import load, save
from .network import Gradients, Network
from .sklearn import MLPClassifier, MLPRegressor
from .targets import one_hot
from .training import History, TrainingDiverged

__version__ = "0.1.0"

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
    "save",
    "load",
    "one_hot",
    "MLPClassifier",
    "MLPRegressor",
    "get_activation",
    "get_cost",
    "__version__",
]
