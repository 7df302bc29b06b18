"""Atomic file writes: write a temporary file beside the target, flush it to disk, rename.

A reader (or a crash) sees either the old file or the complete new one, never half of one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile

__all__ = ["atomic_write", "atomic_write_text"]


@contextlib.contextmanager
def atomic_write(path, mode: str = "wb"):
    """Open a temporary file for writing; on success it replaces ``path``, on error it is
    removed and ``path`` is untouched."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=directory)
    try:
        # mkstemp creates 0600; give the file the permissions a plain open() would
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        with os.fdopen(fd, mode) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def atomic_write_text(path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w") as fh:
        fh.write(text)
