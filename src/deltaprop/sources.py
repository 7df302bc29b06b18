"""Row-sliceable data larger than RAM: NumPy arrays and memory maps, h5py datasets, Zarr arrays,
Dask arrays — anything with ``shape``, ``dtype`` and ``__getitem__`` taking a slice of rows.

``fit(..., shuffle="blocks")`` reads such a source block by block: the rows are cut into blocks
of ``block_size`` consecutive rows, and each epoch visits the blocks in a random order and the
rows of each block in a random order (``block_order``). A block is one contiguous read (rows in
ascending order, permuted in memory), so a cold file is read at disk speed — reading rows in a
globally random order is 33–115× slower than training consumes them. The order is a function
of the Generator's state, the number of rows and the block size alone, so an in-RAM array, a
memory map, an HDF5 or Zarr file and a Dask array give bit-identical weights from one seed.

``BlockReader`` reads the next blocks on a background thread while the current one trains (up
to ``defaults.READ_AHEAD_BYTES`` of them, at least one); a read error, or a NaN in a block, is
raised in the training thread when that block is reached, naming the row.

A read-only memory map of a file (``np.load(path, mmap_mode="r")``) is read with ``O_DIRECT``
into page-aligned buffers that the reader reuses, one per block alive: the disk's DMA
fills them, the kernel copies nothing and faults in no page, so the reading thread costs the
training next to no CPU. Measured on a cold 1 GiB .npy (2 cores, 784-100-10 @ 128): 0.13 s of
CPU to read it this way against 0.35 s through the memory map, and the epoch 1.7 s against
2.1–3.6 s (the training's two BLAS threads lose far more than the reader's CPU time when it
competes with them). Where ``O_DIRECT`` is refused (tmpfs, some network file systems) the map
is copied into the same buffers.

Nothing here imports h5py, zarr or dask: a Dask array is recognised by its ``compute`` method
(``x[a:b].compute()`` computes only the chunks of that slice, also with a distributed Client).
"""

from __future__ import annotations

import errno
import mmap
import os
import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import numpy as np

from . import defaults
from .validation import aligned_empty

__all__ = ["SourceError", "Source", "DirectFile", "BlockReader", "is_source", "out_of_core", "block_order", "default_block_size",
           "blocks", "read_blocks", "page_aligned", "PAGE"]


class SourceError(ValueError):
    """A data source that cannot be read as rows, or a block of it that is not valid input."""


def is_source(X: Any) -> bool:
    """Whether X is a row-sliceable array: ``shape``, ``dtype`` and ``__getitem__`` (duck typed)."""
    return all(hasattr(X, name) for name in ("shape", "dtype", "__getitem__"))


def out_of_core(X: Any) -> bool:
    """Whether X is a source not in memory, read block by block: a memory map, or a row-sliceable
    array with a NumPy dtype that is not a NumPy array (h5py, Zarr, Dask, a ``StreamedRows``
    split). Not a DataFrame (validated as a table), nor another library's tensor (its dtype is
    not NumPy's: it converts to an array)."""
    if isinstance(X, np.memmap):
        return True
    if isinstance(X, np.ndarray) or not is_source(X) or hasattr(X, "iloc"):
        return False
    try:
        np.dtype(X.dtype)
    except TypeError:
        return False
    return True


def default_block_size(n_features: int) -> int:
    """Rows per block: ``defaults.BLOCK_BYTES`` of float32 inputs (at least one row)."""
    return max(1, defaults.BLOCK_BYTES // (4 * max(1, int(n_features))))


PAGE = 4096  # O_DIRECT's alignment of file offsets, lengths and memory (a multiple of any block size)


def page_aligned(nbytes: int) -> np.ndarray:
    """``nbytes`` of uninitialised memory (uint8) starting on a ``PAGE`` boundary."""
    return aligned_empty(int(nbytes), np.uint8, PAGE)


class DirectFile:
    """The rows of a read-only, C-contiguous memory map of a file, read with ``O_DIRECT``:
    rows ``first:last`` are the bytes ``offset + first·row_bytes`` onwards, read as one
    page-aligned ``preadv`` into memory the caller reuses (``read``). ``read`` returns None —
    the caller then copies from the map — when the file cannot be opened, and ``usable`` turns
    False for good when the file system refuses ``O_DIRECT`` (EINVAL) or the path names
    another file than the one mapped."""

    def __init__(self, path: str, offset: int, row_bytes: int, dtype: np.dtype, n_features: int,
                 identity: tuple[int, int] | None = None):
        self.path, self.offset, self.row_bytes = path, int(offset), int(row_bytes)
        self.dtype, self.n_features = np.dtype(dtype), int(n_features)
        self.identity = identity  # (st_dev, st_ino) of the file the map holds
        self.usable = True

    @classmethod
    def of(cls, array: Any) -> DirectFile | None:
        """For ``np.load(path, mmap_mode="r")`` (or a slice of rows of it), else None: only a
        read-only map (a copy-on-write or writable one may hold changes the file lacks), rows
        contiguous in the file, on a system with ``O_DIRECT``, and a map whose file is known
        (``/proc/self/maps``): a read opens the file by its path and goes ahead only if it is
        still the file mapped (a path replaced since, by a new file, is not read)."""
        mapped = getattr(array, "_mmap", None)
        if not (isinstance(array, np.memmap) and hasattr(os, "O_DIRECT") and isinstance(mapped, mmap.mmap)
                and getattr(array, "mode", None) == "r" and isinstance(array.filename, (str, os.PathLike))
                and array.ndim == 2):
            return None
        n_features, itemsize = array.shape[1], array.dtype.itemsize
        if n_features == 0 or array.strides != (n_features * itemsize, itemsize):
            return None
        try:
            map_address = np.frombuffer(mapped, np.uint8).ctypes.data
        except (ValueError, TypeError):  # a closed map
            return None
        identity = _mapped_file(map_address)
        if identity is None:
            return None
        # numpy maps from the offset rounded down to the allocation granularity
        map_start = array.offset - array.offset % mmap.ALLOCATIONGRANULARITY
        return cls(os.fspath(array.filename), map_start + array.ctypes.data - map_address, n_features * itemsize,
                   array.dtype, n_features, identity)

    def extent(self, first: int, last: int) -> tuple[int, int]:
        """The page-aligned byte range [lo, hi) of the file holding rows ``first:last``."""
        lo, hi = self.offset + first * self.row_bytes, self.offset + last * self.row_bytes
        return lo - lo % PAGE, -(-hi // PAGE) * PAGE

    def nbytes(self, first: int, last: int) -> int:
        lo, hi = self.extent(first, last)
        return hi - lo

    def read(self, first: int, last: int, out: np.ndarray) -> np.ndarray | None:
        """Rows ``first:last`` as an array living in ``out`` (page-aligned, at least
        ``nbytes(first, last)`` bytes), or None if ``O_DIRECT`` is refused here."""
        lo, hi = self.extent(first, last)
        try:
            fd = os.open(self.path, os.O_RDONLY | os.O_DIRECT)
        except OSError as exc:  # EINVAL: not on this file system; else (gone, no access) the map still reads
            self.usable = exc.errno != errno.EINVAL
            return None
        got = 0
        try:
            stat = os.fstat(fd)
            if (stat.st_dev, stat.st_ino) != self.identity:  # the path names another file now
                self.usable = False
                return None
            view = memoryview(out)[: hi - lo]
            while got < hi - lo:
                n = os.preadv(fd, [view[got:]], lo + got)
                if n == 0:  # the file ends early: the last page may be partial, rows may not
                    if lo + got < self.offset + last * self.row_bytes:
                        raise OSError(f"the file ends at byte {lo + got}, before row {last - 1} ends")
                    break
                got += n
        except OSError as exc:
            if exc.errno == errno.EINVAL and got == 0:  # this file system does not do O_DIRECT
                self.usable = False
                return None
            raise
        finally:
            os.close(fd)
        skip, size = self.offset + first * self.row_bytes - lo, (last - first) * self.row_bytes
        return out[skip : skip + size].view(self.dtype).reshape(last - first, self.n_features)


def _mapped_file(address: int) -> tuple[int, int] | None:
    """(st_dev, st_ino) of the file mapped at ``address`` in this process (``/proc/self/maps``),
    or None where that is not known."""
    try:
        with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
            for line in maps:
                fields = line.split()
                start, _, end = fields[0].partition("-")
                if int(start, 16) <= address < int(end, 16):
                    major, minor = (int(part, 16) for part in fields[3].split(":"))
                    inode = int(fields[4])
                    return (os.makedev(major, minor), inode) if inode else None
    except (OSError, ValueError, IndexError):
        pass
    return None


def _compact(window: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """``window[keep]`` in place, for ``keep`` ascending (so keep[i] ≥ i: a row is moved only
    down, after every row it could overwrite has moved), in chunks of about 4 MiB."""
    chunk = max(1, (4 << 20) // max(1, window.strides[0]))
    for at in range(0, len(keep), chunk):
        part = keep[at : at + chunk]
        if part[0] != at or part[-1] != at + len(part) - 1:
            window[at : at + len(part)] = window[part]
    return window[: len(keep)]


class Source:
    """Rows of a row-sliceable ``array``, all of them or the sorted positions ``rows`` (a split
    by index: nothing is copied). ``read(start, stop)`` returns rows ``start:stop`` of this view
    as a NumPy array, read as one ascending slice of ``array``. An array that is itself a view
    of a Source (its ``source`` attribute, as ``datasets.StreamedRows``) is read through to the
    array below, so a split of a memory map still reads the file directly."""

    def __init__(self, array: Any, rows: np.ndarray | None = None, name: str = "X"):
        inner = getattr(array, "source", None)
        if isinstance(inner, Source):
            if rows is not None:
                rows = np.asarray(rows, dtype=np.intp)
                rows = rows if inner.rows is None else inner.rows[rows]
            else:
                rows = inner.rows
            array = inner.array
        shape = tuple(array.shape)
        if len(shape) != 2:
            raise SourceError(f"{name} must be 2-D (n_samples, n_features), got a {type(array).__name__} of shape {shape}")
        self.array, self.name = array, name
        self.rows = None if rows is None else np.sort(np.asarray(rows, dtype=np.intp))
        self.n_features = int(shape[1])
        self.shape = (int(shape[0]) if self.rows is None else len(self.rows), self.n_features)
        self.file = DirectFile.of(array)

    def __len__(self) -> int:
        return self.shape[0]

    def subset(self, positions: np.ndarray) -> Source:
        """The rows at ``positions`` of this view, as a new view (sorted)."""
        positions = np.asarray(positions, dtype=np.intp)
        return Source(self.array, positions if self.rows is None else self.rows[positions], self.name)

    def row_numbers(self, start: int, stop: int) -> np.ndarray:
        """The rows of ``array`` at positions ``start:stop`` of this view (for messages)."""
        return np.arange(start, stop) if self.rows is None else self.rows[start:stop]

    def read_bytes(self, start: int, stop: int) -> int:
        """The memory ``read(start, stop, out)`` reads into (0: this source ignores ``out``)."""
        if self.file is None or stop <= start:
            return 0
        if self.rows is None:
            return self.file.nbytes(start, stop)
        return self.file.nbytes(int(self.rows[start]), int(self.rows[stop - 1]) + 1)

    def read(self, start: int, stop: int, out: np.ndarray | None = None) -> np.ndarray:
        """Rows ``start:stop``. With ``out`` (page-aligned memory, ``page_aligned``, of at least
        ``read_bytes(start, stop)`` bytes), a file's memory map is read into it (one ``O_DIRECT``
        read of the rows' span; a split's wanted rows are then moved together in place) and the
        result lives in ``out`` until the caller reuses it."""
        if out is not None and out.dtype != np.uint8:
            raise TypeError(f"out must be bytes (uint8, from page_aligned), got an array of dtype {out.dtype}")
        if out is not None and 0 < self.read_bytes(start, stop) <= len(out) and self.file.usable:
            rows = None if self.rows is None else self.rows[start:stop]
            first, last = (start, stop) if rows is None else (int(rows[0]), int(rows[-1]) + 1)
            try:
                window = self.file.read(first, last, out)
                if window is None:  # no O_DIRECT here: copy from the map into the same memory
                    window = out[: (last - first) * self.file.row_bytes].view(self.file.dtype).reshape(
                        last - first, self.n_features)
                    np.copyto(window, self.array[first:last])
            except OSError as exc:
                raise SourceError(f"reading rows {first}–{last - 1} of {self.name} ({self.file.path}) failed: "
                                  f"{type(exc).__name__}: {exc}") from None
            return window if rows is None else _compact(window, rows - first)
        if self.rows is None:
            return _get(self.array, slice(start, stop), self.name)
        # the rows of a split: read in ascending windows of at most stop - start rows of array
        # (a held-out tenth of the rows is spread over the whole array), keeping the wanted ones
        rows, parts, window = self.rows[start:stop], [], stop - start
        if len(rows) == 0:
            return _get(self.array, slice(0, 0), self.name)
        at = 0
        while at < len(rows):
            first = int(rows[at])
            end = int(np.searchsorted(rows, first + window, side="left"))
            part = _get(self.array, slice(first, int(rows[end - 1]) + 1), self.name)
            parts.append(part if len(part) == end - at else part[rows[at:end] - first])
            at = end
        return parts[0] if len(parts) == 1 else np.concatenate(parts)


def _get(array, rows: slice, name: str = "X") -> np.ndarray:
    """``array[rows]`` as a NumPy array in memory (a Dask slice is computed; a slice of a memory
    map is copied here, on the reading thread, rather than paged in by the training)."""
    try:
        block = array[rows]
        if hasattr(block, "compute"):
            block = block.compute()
        return np.array(block) if isinstance(block, np.memmap) else np.asarray(block)
    except Exception as exc:  # any library's read error becomes one line
        raise SourceError(f"reading rows {rows.start}–{rows.stop - 1} of {name} ({type(array).__name__}) failed: "
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


def read_blocks(source: Source, block_size: int, prepare: Callable[[np.ndarray, int], Any] | None = None,
                ) -> Iterator[tuple[int, int, Any]]:
    """``(start, stop, prepare(block, start))`` of each block of ``source`` in order, read ahead
    by a ``BlockReader`` (a pass over all the rows: statistics, evaluation, prediction); a block
    is valid until the next is taken. Close the generator (``contextlib.closing``) where the loop
    may end early: that ends the reader at once rather than when the generator is collected."""
    with BlockReader(source, list(blocks(len(source), block_size)), prepare or (lambda block, start: block)) as reader:
        for start, block in reader:
            yield start, start + len(block), block


_DONE = object()


class BlockReader:
    """Reads ``prepare(source.read(start, stop), start)`` for each (start, stop) of ``spans`` on
    a background thread, ``ahead`` blocks ahead of the consumer (iterate over it to get
    ``(start, block)``); a use as a context manager ends the thread on exit, however the loop
    ends (finished, an error, Ctrl-C). An exception raised while reading is raised where the
    block it belongs to is taken.

    ``ahead`` is ``defaults.READ_AHEAD_BYTES`` of the longest block (at least 1, at most
    ``defaults.READ_AHEAD_BLOCKS``). A block is valid until the consumer takes the next one:
    the reader reads into ``ahead + 1`` buffers in turn (for a source that reads into memory,
    ``Source.read_bytes``), and it reads block k + ahead + 1 into block k's buffer once block
    k + 1 is taken."""

    def __init__(self, source: Source, spans: list[tuple[int, int]], prepare: Callable[[np.ndarray, int], Any]):
        self.source, self.spans, self.prepare = source, spans, prepare
        longest = max((stop - start for start, stop in spans), default=0)
        block_bytes = longest * source.n_features * np.dtype(getattr(source.array, "dtype", np.float32)).itemsize
        self.ahead = max(1, min(defaults.READ_AHEAD_BLOCKS, defaults.READ_AHEAD_BYTES // max(1, block_bytes)))
        self.queue: queue.Queue = queue.Queue(maxsize=self.ahead)
        self.free = threading.Semaphore(self.ahead)  # at most `ahead` blocks read and not yet taken
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._read, name="deltaprop-block-reader", daemon=True)
        # the buffers: as large as the largest block's read, at most twice a block's rows (a split
        # spread more thinly than that reads its rows by windows, without them)
        self.needs = [source.read_bytes(start, stop) for start, stop in spans]
        most = 2 * longest * (source.file.row_bytes if source.file else 0) + 2 * PAGE
        self.nbytes = max((need for need in self.needs if need <= most), default=0)
        self.buffers: list[np.ndarray | None] = [None] * (self.ahead + 1)

    def _buffer(self, k: int) -> np.ndarray | None:
        if not 0 < self.needs[k] <= self.nbytes:
            return None
        slot = k % len(self.buffers)
        if self.buffers[slot] is None:
            self.buffers[slot] = page_aligned(self.nbytes)
        return self.buffers[slot]

    def __enter__(self) -> BlockReader:
        self.thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self, wait: float = 10.0) -> None:
        """Stop the reader: it ends at its next step. Waits for it at most ``wait`` seconds — a
        reader inside a read that cannot finish now (a lock its closer holds, as when a garbage
        collection closes an abandoned reader inside a library call) is left to end by itself,
        as a daemon thread, when its read returns."""
        self.stopped.set()
        self.free.release()  # wake the reader if it waits for room
        deadline = time.monotonic() + wait
        while self.thread.is_alive() and time.monotonic() < deadline:
            try:
                self.queue.get(timeout=0.05)
            except queue.Empty:
                pass
        self.thread.join(timeout=max(0.0, deadline - time.monotonic()))

    def _put(self, item) -> None:
        while not self.stopped.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return
            except queue.Full:
                pass

    def _read(self) -> None:
        try:
            for k, (start, stop) in enumerate(self.spans):
                self.free.acquire()
                if self.stopped.is_set():
                    return
                self._put((start, self.prepare(self.source.read(start, stop, self._buffer(k)), start)))
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
