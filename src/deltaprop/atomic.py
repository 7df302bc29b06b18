"""Atomic file writes: write a temporary file beside the target, flush it to disk, rename.

A reader (or a crash) sees either the old file or the complete new one, never half of one.
Ctrl-C and SIGTERM arriving during a write are held until it has finished (or been cleaned up)
and then delivered, so no interrupt leaves a temporary file behind; every OSError names the
file it was writing.
"""

from __future__ import annotations

import contextlib
import os
import signal
import tempfile
import threading
from collections.abc import Iterator
from typing import IO, Any

__all__ = ["atomic_write", "atomic_write_text", "fsync_directory", "signals_held", "temporary_name", "TEMP_SUFFIX"]

#: Temporary files are ``.<name>.<random>.tmp`` beside their target.
TEMP_SUFFIX = ".tmp"
_HELD = (signal.SIGINT, signal.SIGTERM)


def temporary_name(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(prefix, suffix) of the temporary files written for ``path``."""
    return "." + os.path.basename(os.fspath(path)) + ".", TEMP_SUFFIX


def _file_mode(path: str) -> int:
    """The permissions of the file being replaced, else 0o666 minus the umask (what a plain
    ``open`` gives; ``mkstemp`` alone would leave 0o600)."""
    try:
        return os.stat(path).st_mode & 0o777
    except OSError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def fsync_directory(directory: str) -> None:
    """Make the rename itself durable (POSIX); best effort elsewhere."""
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextlib.contextmanager
def signals_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM for the duration of the block, then deliver the first one that
    came to the handler that was installed before (so Ctrl-C still raises KeyboardInterrupt,
    only later). Outside the main thread, where Python runs no signal handlers, it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending = []
    previous = {}
    try:
        for signum in _HELD:
            previous[signum] = signal.signal(signum, lambda s, f: pending.append((s, f)))
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, signal.SIG_DFL if handler is None else handler)
        if pending:
            signum, frame = pending[0]
            handler = previous[signum]
            if callable(handler):
                handler(signum, frame)
            elif handler != signal.SIG_IGN:  # SIG_DFL (or a handler set outside Python): as if now
                os.kill(os.getpid(), signum)


def _naming(exc: OSError, path: str) -> OSError:
    """``exc`` with ``path`` as its filename when it names none (ENOSPC from write(), say)."""
    if exc.filename is not None or exc.errno is None:
        return exc
    return type(exc)(exc.errno, f"{exc.strerror} (writing {path})" if exc.strerror else f"cannot write {path}", path)


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "wb") -> Iterator[IO[Any]]:
    """Open a temporary file for writing; on success it replaces ``path``, on any error
    (KeyboardInterrupt included) it is removed and ``path`` is untouched. Signals are held
    for the whole write (see ``signals_held``)."""
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(directory):
        raise FileNotFoundError(f"cannot write {path}: directory {directory} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot write {path}: it is a directory")
    file_mode = _file_mode(path)
    prefix, suffix = temporary_name(path)
    with signals_held():
        try:
            fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=directory)
        except OSError as exc:
            raise _naming(exc, path) from None
        try:
            with os.fdopen(fd, mode) as fh:
                yield fh
                fh.flush()
                os.fsync(fh.fileno())
            os.chmod(tmp, file_mode)
            os.replace(tmp, path)
        except OSError as exc:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            raise _naming(exc, path) from None
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.remove(tmp)
            raise
        fsync_directory(directory)


def atomic_write_text(path: str | os.PathLike[str], text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_write(path, "w") as fh:
        fh.write(text)
