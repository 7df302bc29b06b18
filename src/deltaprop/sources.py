"""Row-sliceable data larger than RAM: NumPy arrays and memory maps, h5py datasets, Zarr arrays,
Dask arrays — anything with ``shape``, ``dtype`` and ``__getitem__`` taking a slice of rows.

``fit(..., shuffle="blocks")`` reads such a source block by block: the rows are cut into blocks
of ``block_size`` consecutive rows, and each epoch visits the blocks in a random order and the
rows of each block in a random order (``block_order``). A block is one contiguous read (rows in
ascending order, permuted in memory), so a cold file is read at disk speed — reading rows in a
globally random order is 33–115× slower than training consumes them. The order is a function
of the Generator's state, the number of rows and the block size alone, so an in-RAM array, a
memory map, an HDF5 or Zarr file and a Dask array give bit-identical weights from one seed.

``BlockReader`` reads the next block on a background thread while the current one trains (at
most two blocks are alive: the one training and the one read ahead); a read error, or a NaN in
a block, is raised in the training thread when that block is reached, naming the row.

Nothing here imports h5py, zarr or dask: a Dask array is recognised by its ``compute`` method
(``x[a:b].compute()`` computes only the chunks of that slice, also with a distributed Client).
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import defaults

__all__ = ["SourceError", "Source", "BlockReader", "is_source", "block_order", "default_block_size", "blocks"]


class SourceError(ValueError):
    """A data source that cannot be read as rows, or a block of it that is not valid input."""


def is_source(X: Any) -> bool:
    """Whether X is a row-sliceable array: ``shape``, ``dtype`` and ``__getitem__`` (duck typed)."""
    return all(hasattr(X, name) for name in ("shape", "dtype", "__getitem__"))


def default_block_size(n_features: int) -> int:
    """Rows per block: ``defaults.BLOCK_BYTES`` of float32 inputs (at least one row)."""
    return max(1, defaults.BLOCK_BYTES // (4 * max(1, int(n_features))))


class Source:
    """Rows of a row-sliceable ``array``, all of them or the sorted positions ``rows`` (a split
    by index: nothing is copied). ``read(start, stop)`` returns rows ``start:stop`` of this view
    as a NumPy array, read as one ascending slice of ``array``."""

    def __init__(self, array: Any, rows: np.ndarray | None = None, name: str = "X"):
        shape = tuple(array.shape)
        if len(shape) != 2:
            raise SourceError(f"{name} must be 2-D (n_samples, n_features), got a {type(array).__name__} of shape {shape}")
        self.array, self.name = array, name
        self.rows = None if rows is None else np.sort(np.asarray(rows, dtype=np.intp))
        self.n_features = int(shape[1])
        self.shape = (int(shape[0]) if self.rows is None else len(self.rows), self.n_features)

    def __len__(self) -> int:
        return self.shape[0]

    def subset(self, positions: np.ndarray) -> Source:
        """The rows at ``positions`` of this view, as a new view (sorted)."""
        positions = np.asarray(positions, dtype=np.intp)
        return Source(self.array, positions if self.rows is None else self.rows[positions], self.name)

    def row_numbers(self, start: int, stop: int) -> np.ndarray:
        """The rows of ``array`` at positions ``start:stop`` of this view (for messages)."""
        return np.arange(start, stop) if self.rows is None else self.rows[start:stop]

    def read(self, start: int, stop: int) -> np.ndarray:
        if self.rows is None:
            return _get(self.array, slice(start, stop))
        # the rows of a split: read in ascending windows of at most stop - start rows of array
        # (a held-out tenth of the rows is spread over the whole array), keeping the wanted ones
        rows, parts, window = self.rows[start:stop], [], stop - start
        at = 0
        while at < len(rows):
            first = int(rows[at])
            end = int(np.searchsorted(rows, first + window, side="left"))
            part = _get(self.array, slice(first, int(rows[end - 1]) + 1))
            parts.append(part if len(part) == end - at else part[rows[at:end] - first])
            at = end
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _get(array, rows: slice) -> np.ndarray:
    """``array[rows]`` as a NumPy array in memory (a Dask slice is computed; a slice of a memory
    map is copied here, on the reading thread, rather than paged in by the training)."""
    try:
        block = array[rows]
        if hasattr(block, "compute"):
            block = block.compute()
        return np.array(block) if isinstance(block, np.memmap) else np.asarray(block)
    except Exception as exc:  # any library's read error becomes one line
        raise SourceError(f"reading rows {rows.start}–{rows.stop - 1} of X ({type(array).__name__}) failed: "
                          f"{type(exc).__name__}: {exc}") from None


def block_order(rng: np.random.Generator, n: int, block_size: int) -> tuple[list[tuple[int, int]], Iterator[np.ndarray]]:
    """One epoch's order over ``n`` rows cut into blocks of ``block_size`` consecutive rows:
    ``(spans, perms)``. ``spans`` lists each block's ``(start, stop)`` in a random order (one
    ``rng.permutation`` of the blocks, drawn now); ``perms`` yields, block after block, the
    random order of its rows (``rng.permutation(stop - start)``, positions within the block,
    drawn as each block is reached). Every row comes once; the order is a function of the state
    of ``rng``, ``n`` and ``block_size`` alone: the epoch visits rows ``start + perm``."""
    n_blocks = -(-n // block_size)
    spans = [(int(k) * block_size, min((int(k) + 1) * block_size, n)) for k in rng.permutation(n_blocks)]
    return spans, (rng.permutation(stop - start) for start, stop in spans)


def blocks(n: int, block_size: int) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive blocks, in order (statistics, evaluation)."""
    for start in range(0, n, block_size):
        yield start, min(start + block_size, n)


_DONE = object()


class BlockReader:
    """Reads ``prepare(source.read(start, stop), start)`` for each (start, stop) of ``spans`` on
    a background thread, one block ahead of the consumer (iterate over it to get
    ``(start, block)``); a use as a context manager ends the thread on exit, however the loop
    ends (finished, an error, Ctrl-C). An exception raised while reading is raised where the
    block it belongs to is taken."""

    def __init__(self, source: Source, spans: list[tuple[int, int]], prepare: Callable[[np.ndarray, int], Any]):
        self.source, self.spans, self.prepare = source, spans, prepare
        self.queue: queue.Queue = queue.Queue(maxsize=1)
        self.free = threading.Semaphore(1)  # read ahead only once the previous block is taken
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, name="deltaprop-block-reader", daemon=True)

    def __enter__(self) -> BlockReader:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        self.stopped.set()
        self.free.release()  # wake the reader if it waits for room
        while self.thread.is_alive():
            try:
                self.queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self.thread.join()

    def _put(self, item) -> None:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return
            except queue.Full:
                pass

    def _read(self) -> None:
        try:
            for start, stop in self.spans:
                self.free.acquire()
                if self.stopped.is_set():
                    return
                self._put((start, self.prepare(self.source.read(start, stop), start)))
        except BaseException as exc:  # raised again in the consumer
            self._put(exc)
            return
        self._put(_DONE)

    def __iter__(self) -> Iterator[tuple[int, Any]]:
        while True:
            item = self.queue.get()
            self.free.release()  # the consumer is done with the block before this one
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
