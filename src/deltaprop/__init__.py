"""deltaprop: feed-forward networks trained by backpropagation, exactly as the derivations state it.

The public API:

    Network(sizes, activation, output, cost, init, seed, dtype)   the model and its backward pass
    gradcheck(net, X, Y)                                           central differences vs backprop
    one_hot(labels, n_classes)                                     class labels -> target rows
"""

from .activations import get_activation
from .costs import get_cost
from .gradcheck import gradcheck, GradcheckResult
from .network import Gradients, Network
from .targets import one_hot

__version__ = "0.1.0"

__all__ = [
    "Network",
    "Gradients",
    "gradcheck",
    "GradcheckResult",
    "one_hot",
    "get_activation",
    "get_cost",
    "__version__",
]
