"""Train a network on the digits with a hand-written loop: shuffle, mini-batches, backward, step.

    python examples/train_by_hand.py            # 10 epochs in about a second (EPOCHS=5 for fewer)

The whole of training is the loop below: ``net.backward`` runs the forward pass and the four
backpropagation equations on a batch and returns ∂C/∂W^l and ∂C/∂b^l; the step
W ← W − α ∂C/∂W is written out (``deltaprop.optimizers.Adam().step(params, grads)`` would do it
with Adam). ``net.fit`` does the same, faster (``deltaprop.fastpath``).
"""

import os
import time

import numpy as np

import deltaprop as dp
from deltaprop.datasets import load_dataset

EPOCHS = int(os.environ.get("EPOCHS", 10))
BATCH_SIZE, LEARNING_RATE = 16, 0.3

data = load_dataset("digits", seed=0)                      # 8x8 images, pixels 0..16, 10 classes
X_train, X_test = data.X_train / 16.0, data.X_test / 16.0  # scale the pixels to [0, 1]
Y_train = dp.one_hot(data.y_train, 10)                     # class k -> row with a 1 in column k

net = dp.Network([64, 64, 10], activation="relu", output="softmax", cost="cross_entropy", seed=0)
rng = np.random.default_rng(0)

for epoch in range(1, EPOCHS + 1):
    start = time.perf_counter()
    order, costs = rng.permutation(len(X_train)), []       # a fresh shuffle every epoch
    for i in range(0, len(order), BATCH_SIZE):
        batch = order[i:i + BATCH_SIZE]
        grads = net.backward(X_train[batch], Y_train[batch])   # ∂C/∂W^l, ∂C/∂b^l for this batch
        costs.append(grads.cost)
        for W, b, grad_W, grad_b in zip(net.weights, net.biases, grads.weights, grads.biases):
            W -= LEARNING_RATE * grad_W                         # gradient descent, in place
            b -= LEARNING_RATE * grad_b
    accuracy = np.mean(net.forward(X_test).argmax(axis=1) == data.y_test)
    print(f"epoch {epoch:2d}  cost {np.mean(costs):.4f}  test accuracy {accuracy:.4f}  "
          f"{time.perf_counter() - start:.2f}s")
