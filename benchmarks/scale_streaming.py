"""Streaming from a cold .npy with ``shuffle="blocks"`` against the same data in RAM.

    python -m benchmarks.scale_streaming [--gib 1.0] [--repeats 3] [--dir DIR] [--json FILE]

Writes a float32 (m, 784) .npy of about ``--gib`` GiB (random pixels, 10 classes), then, round
robin ``--repeats`` times: evicts it from the page cache (``os.posix_fadvise(fd, 0, 0,
POSIX_FADV_DONTNEED)``) and trains one epoch of 784-100-10 at batch 128 (SGD, float32) on
``np.load(..., mmap_mode="r")`` with ``shuffle="blocks"``; then the same epoch on the array
loaded into RAM, with ``shuffle="blocks"`` and with the default ``shuffle=True``. The samples/s
are the medians over the repeats, and the ratios are of the medians. In the first cold epoch,
at 10% of its batches, the fraction of the file in the page cache (``mincore``) is recorded.
A last cold run under tracemalloc gives the peak traced memory growth. Prints one JSON object
(samples/s, ratios, MiB).
"""

from __future__ import annotations

import argparse
import ctypes
import ctypes.util
import json
import mmap
import os
import statistics
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


def paged_in(path: str) -> float | None:
    """The fraction of the file's pages in the page cache (``mincore`` on a fresh map), or None
    where mincore is not available."""
    libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
    if not hasattr(libc, "mincore"):
        return None
    size = os.path.getsize(path)
    with open(path, "rb") as f, mmap.mmap(f.fileno(), size, access=mmap.ACCESS_READ) as mapped:
        pages = -(-size // mmap.PAGESIZE)
        vec = (ctypes.c_ubyte * pages)()
        address = np.frombuffer(mapped, np.uint8).ctypes.data
        if libc.mincore(ctypes.c_void_p(address), ctypes.c_size_t(size), vec) != 0:
            return None
        return float(np.count_nonzero(np.frombuffer(vec, np.uint8) & 1)) / pages


def epoch(X, y, shuffle, callbacks=()) -> float:
    import deltaprop as dp

    net = dp.Network([FEATURES, 100, CLASSES], dtype="float32", seed=0)
    start = time.perf_counter()
    net.fit(X, y, epochs=1, batch_size=BATCH, shuffle=shuffle, seed=0, callbacks=callbacks)
    return len(y) / (time.perf_counter() - start)


def at_a_tenth(path: str):
    """A callback that notes ``paged_in(path)`` once 10% of the epoch's batches are done."""
    from deltaprop.training import Callback

    class AtATenth(Callback):
        fraction = None

        def on_batch_end(self, trainer, batch, n_batches, cost):
            if self.fraction is None and batch + 1 >= n_batches / 10:
                self.fraction = paged_in(path)

    return AtATenth()


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gib", type=float, default=1.0)
    parser.add_argument("--repeats", type=int, default=3)
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
        X = np.load(path)
        runs = {"cold": [], "ram_blocks": [], "ram_shuffle": []}
        tenth = at_a_tenth(path)
        for repeat in range(args.repeats):
            evict(path)
            runs["cold"].append(epoch(np.load(path, mmap_mode="r"), y, "blocks", [tenth] if repeat == 0 else ()))
            runs["ram_blocks"].append(epoch(X, y, "blocks"))
            runs["ram_shuffle"].append(epoch(X, y, True))
        del X
        evict(path)
        tracemalloc.start()
        base, _ = tracemalloc.get_traced_memory()
        epoch(np.load(path, mmap_mode="r"), y, "blocks")
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    cold, ram_blocks, ram_shuffle = (statistics.median(runs[k]) for k in ("cold", "ram_blocks", "ram_shuffle"))
    result = {
        "rows": rows, "gib": round(rows * FEATURES * 4 / 2**30, 3), "repeats": args.repeats,
        "cold_npy_blocks_samples_per_s": round(cold),
        "ram_blocks_samples_per_s": round(ram_blocks),
        "ram_shuffle_true_samples_per_s": round(ram_shuffle),
        "ratio_cold_blocks_vs_ram_blocks": round(cold / ram_blocks, 3),
        "ratio_cold_blocks_vs_ram_shuffle_true": round(cold / ram_shuffle, 3),
        "ratios_per_repeat_vs_ram_blocks": [round(c / r, 3) for c, r in zip(runs["cold"], runs["ram_blocks"])],
        "paged_in_at_a_tenth_of_the_epoch": None if tenth.fraction is None else round(tenth.fraction, 4),
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
