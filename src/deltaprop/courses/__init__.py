"""Each course's own layout and conventions, both ways, and a checker for the learner's code.

One module per course, with converters named alike in every module:

* ``to_network(...)``       the course's parameters (its layout) -> a deltaprop ``Network``
* ``from_network(net)``     a ``Network`` -> the course's parameters
* ``from_gradients(grads)`` deltaprop ``Gradients`` -> the course's gradient layout

and a checker that runs the learner's code the way the course's own test does and returns a
``deltaprop.diagnose.Diagnosis`` (what is wrong, in the course's notation):

============  ==========================================================================
``ng_ml``     Andrew Ng, *Machine Learning* (ex4): ``nn_cost_function``, ``check_nn_gradients``
``ng_dl``     deeplearning.ai: ``check_L_model_backward``, ``check_backward_propagation``
``nielsen``   Nielsen, *Neural Networks and Deep Learning*: ``check_backprop``
``cs231n``    Stanford CS231n two-layer net: ``check_loss``
============  ==========================================================================

The modules are imported on first use (``deltaprop.courses.ng_ml``).
"""

from __future__ import annotations

import importlib

__all__ = ["ng_ml", "ng_dl", "nielsen", "cs231n"]


def __getattr__(name: str):
    if name in __all__:
        module = importlib.import_module(f".{name}", __name__)
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
