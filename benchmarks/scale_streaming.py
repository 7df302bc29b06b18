"""Streaming from a cold .npy with ``shuffle="blocks"`` against the same data in RAM.

    python -m benchmarks.scale_streaming [--gib 1.0] [--dir DIR] [--json FILE]

Writes a float32 (m, 784) .npy of about ``--gib`` GiB (random pixels, 10 classes), evicts it
from the page cache (``os.posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED)``), and trains one epoch
of 784-100-10 at batch 128 (SGD, float32) on ``np.load(..., mmap_mode="r")`` with
``shuffle="blocks"``; then the same epoch on the array loaded into RAM (with ``shuffle="blocks"``
and with the default ``shuffle=True``). A second cold run under tracemalloc gives the peak traced
memory growth. Prints one JSON object (samples/s, ratios, MiB).
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
import tracemalloc

import numpy as np

FEATURES, CLASSES, BATCH = 784, 10, 128


def write(path: str, rows: int) -> None:
    X = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(rows, FEATURES))
    rng = np.random.default_rng(0)
    for start in range(0, rows, 16384):
        X[start : start + 16384] = rng.random((min(16384, rows - start), FEATURES), dtype=np.float32)
    X.flush()
    del X


def evict(path: str) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
        os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
    finally:
        os.close(fd)


def epoch(X, y, shuffle) -> float:
    import deltaprop as dp

    net = dp.Network([FEATURES, 100, CLASSES], dtype="float32", seed=0)
    start = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=BATCH, shuffle=shuffle, seed=0)
    return len(y) / (time.perf_counter() - start)


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--dir", default=None, help="where to write the .npy (default: a temporary directory)")
    parser.add_argument("--json", default=None)
    args = parser.parse_args(argv)
    import deltaprop  # noqa: F401  (imports outside the measurements)
    import sklearn.model_selection  # noqa: F401

    rows = int(args.gib * 2**30 // (4 * FEATURES))
    with tempfile.TemporaryDirectory(dir=args.dir) as tmp:
        path = os.path.join(tmp, "X.npy")
        write(path, rows)
        y = np.random.default_rng(1).integers(0, CLASSES, rows)
        evict(path)
        cold = epoch(np.load(path, mmap_mode="r"), y, "blocks")
        evict(path)
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        epoch(np.load(path, mmap_mode="r"), y, "blocks")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        X = np.load(path)
        ram_blocks = epoch(X, y, "blocks")
        ram_shuffle = epoch(X, y, True)
    result = {
        "rows": rows, "gib": rows * FEATURES * 4 / 2**30,
        "cold_npy_blocks_samples_per_s": round(cold),
        "ram_blocks_samples_per_s": round(ram_blocks),
        "ram_shuffle_true_samples_per_s": round(ram_shuffle),
        "ratio_cold_blocks_vs_ram_blocks": round(cold / ram_blocks, 3),
        "ratio_cold_blocks_vs_ram_shuffle_true": round(cold / ram_shuffle, 3),
        "peak_traced_growth_mib": round((peak - base) / 2**20, 1),
    }
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            f.write(text + "\n")
    return result


if __name__ == "__main__":
    main()
