"""Every default setting of deltaprop, in one place: the library, the CLI and the estimators read
them from here.

Two sets differ on purpose, and only these:

* ``TRAIN`` — ``deltaprop train``: tuned so that the bundled digits train well in seconds with
  no arguments (ReLU, Adam, 128 hidden units, λ = 1, batches of 16, 40 epochs; measured 97–98%
  test accuracy over seeds 0–4).
* ``ESTIMATOR`` — ``MLPClassifier`` / ``MLPRegressor``: scikit-learn's own ``MLPClassifier``
  defaults (100 hidden units, ``batch_size="auto"`` = min(200, n), 200 epochs, no penalty), so
  that code written for scikit-learn behaves the same when the import changes.

``LEARNING_RATE`` is shared by all three (``Network.fit``, the CLI, the estimators): the step size
α of each optimizer when none is given.
"""

from __future__ import annotations

__all__ = ["LEARNING_RATE", "learning_rate", "FIT", "TRAIN", "ESTIMATOR", "EXPLAIN_SPLIT", "DIVERGENCE_FACTOR", "BLOCK_BYTES",
           "READ_AHEAD_BYTES", "READ_AHEAD_BLOCKS"]

#: The split that ``deltaprop explain`` (and ``--sensitivity``, ``--layer``) and the report explain
#: unless told otherwise: the training examples, whose cost backpropagation differentiates.
EXPLAIN_SPLIT = "train"

#: α per optimizer when none is given (every caller: fit, CLI, estimators).
#: Training stops as diverged when an epoch's mean cost exceeds this many times the cost before
#: training: the larger of the initial network's and that of the output z^L = 0 (log K for K
#: softmax classes, K log 2 for K sigmoid outputs, the mean Σ y² for a linear output).
DIVERGENCE_FACTOR = 1e3

#: ``shuffle="blocks"`` (and streaming statistics) read blocks of this many bytes of float32
#: inputs, for every source: block_size = BLOCK_BYTES // (4 · n_features) rows (5,349 rows of
#: 784 pixels). The reader keeps READ_AHEAD_BYTES of blocks read ahead of the one training
#: (four 16 MiB blocks). Measured on a cold 1 GiB .npy, 784-100-10 @ 128 (2 cores), the
#: training waited 0.01 s an epoch for blocks of 16 MiB four ahead, 0.02–0.16 s for 32 MiB two
#: ahead and 0.17–0.30 s for 64 MiB one ahead: the disk's pace varies, and a deeper queue of
#: smaller blocks rides it out in the same memory (80 MiB of buffers).
BLOCK_BYTES = 16 * 2**20

#: How far ahead of the training the block reader reads: READ_AHEAD_BYTES of blocks, at most
#: READ_AHEAD_BLOCKS of them (small blocks are not worth more) and at least one.
READ_AHEAD_BYTES = 64 * 2**20
READ_AHEAD_BLOCKS = 4

LEARNING_RATE = {"sgd": 0.1, "momentum": 0.05, "adam": 0.001}


def learning_rate(optimizer: str) -> float:
    """The default α of ``optimizer`` (a name in ``LEARNING_RATE``)."""
    return LEARNING_RATE[str(optimizer).lower()]


#: ``Network.fit`` / ``training.fit`` keyword defaults.
FIT = {
    "epochs": 10,
    "batch_size": 32,
    "optimizer": "sgd",
    "l2": 0.0,
    "patience": 5,
}

#: ``deltaprop train``'s defaults (see the module docstring for why they differ from ESTIMATOR).
TRAIN = {
    "dataset": "digits",
    "layers": "128",
    "activation": "relu",
    "output": None,
    "cost": None,
    "init": None,
    "epochs": 40,
    "batch_size": 16,
    "learning_rate": None,  # LEARNING_RATE[optimizer]
    "optimizer": "adam",
    "l2": 1.0,
    "seed": 0,
    "dtype": "float64",
    "data_dir": None,
    "label": None,
    "task": None,  # inferred by deltaprop.targets.infer_task
    "preprocessing": None,  # pixel scaling for pixel data, else standardisation
    "test_fraction": 0.2,
    "limit": None,
    "early_stopping": False,
    "patience": 5,
}

#: ``MLPClassifier`` / ``MLPRegressor`` constructor defaults (scikit-learn's).
ESTIMATOR = {
    "hidden_layer_sizes": (100,),
    "activation": "relu",
    "optimizer": "adam",
    "batch_size": "auto",
    "max_auto_batch": 200,
    "epochs": 200,
    "l2": 0.0,
    "validation_fraction": 0.1,
    "patience": 10,
    "tol": 1e-4,  # the ConvergenceWarning rule (scikit-learn's tol, with patience as n_iter_no_change)
}
