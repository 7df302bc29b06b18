"""A run directory (``deltaprop train --out DIR``): one run at a time, its files from one run.

* **One run at a time.** ``RunDirectory(path)`` holds an exclusive lock (``fcntl.flock`` on
  ``DIR/.deltaprop.lock``, which records the holder's pid) from before a checkpoint is read
  until the last file is written; a second run on the same directory is refused with a
  one-line ``RunDirectoryBusy`` naming the holder. The operating system releases the lock when
  the process ends, however it ends, so a killed run never leaves the directory locked.
* **Files from one run.** The run's results are written into a staging directory inside DIR
  (``new_files()``); only when every one of them has been written are they renamed into place,
  with signals held, and the files an earlier run left that this run does not replace (its
  checkpoint, its report) removed. A full disk or a file-size limit therefore leaves DIR exactly
  as it was, and the error names the file that could not be written. Every file of a run
  carries the same ``run_id``.
* Temporary files that a killed process (``kill -9``) left behind are removed when the next
  run takes the lock: nobody else can be writing them then.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from pathlib import Path

from .atomic import TEMP_SUFFIX, fsync_directory, signals_held

__all__ = ["RunDirectory", "RunDirectoryBusy", "LOCK_NAME", "new_run_id"]

LOCK_NAME = ".deltaprop.lock"
_STAGING = ".staging-"

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: no advisory locks; runs are not serialised
    fcntl = None


class RunDirectoryBusy(ValueError):
    """Another process holds the run directory."""


def new_run_id() -> str:
    """A fresh identifier for one training run (stamped into each of its files)."""
    return uuid.uuid4().hex


class RunDirectory:
    """``with RunDirectory(path) as run_dir:`` create ``path`` if needed and hold its lock.

    ``run_dir.new_files()`` is a context manager giving a staging directory: write the run's
    files there; on leaving the block without error they replace DIR's files in one step."""

    def __init__(self, path):
        self.path = Path(path)
        self._fd = None

    # ------------------------------------------------------------------ the lock
    def __enter__(self) -> "RunDirectory":
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise NotADirectoryError(f"--out {self.path} exists and is not a directory") from None
        lock = self.path / LOCK_NAME
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                holder = _read_pid(fd)
                os.close(fd)
                who = f"pid {holder}" if holder else "another process"
                raise RunDirectoryBusy(
                    f"{self.path} is in use by another deltaprop run ({who}); wait for it to finish "
                    f"or give another --out"
                ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd
        self._remove_leftovers()
        return self

    def __exit__(self, *exc_info):
        if self._fd is not None:
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, 0)
            os.close(self._fd)  # closing releases the flock
            self._fd = None
        return False

    def _remove_leftovers(self) -> None:
        """Temporary files and staging directories of runs that were killed mid-write."""
        for entry in self.path.iterdir():
            name = entry.name
            if name.startswith(_STAGING) and entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            elif name.startswith(".") and name.endswith(TEMP_SUFFIX) and entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()

    # ------------------------------------------------------------------ the files
    @contextlib.contextmanager
    def new_files(self, remove=()):
        """Yield a staging directory; on success its files replace DIR's (and the names in
        ``remove`` that the staging directory does not hold are deleted from DIR)."""
        if self._fd is None:
            raise RuntimeError("RunDirectory.new_files() needs the lock: use it inside `with`")
        staging = Path(tempfile.mkdtemp(prefix=_STAGING, dir=self.path))
        try:
            try:
                yield staging
            except OSError as exc:
                raise self._in_place_of(exc, staging) from None
            with signals_held():
                names = sorted(p.name for p in staging.iterdir())
                for name in names:
                    os.replace(staging / name, self.path / name)
                for name in remove:
                    if name not in names:
                        with contextlib.suppress(FileNotFoundError):
                            (self.path / name).unlink()
                fsync_directory(os.fspath(self.path))
        finally:
            shutil.rmtree(staging, ignore_errors=True)

    def _in_place_of(self, exc: OSError, staging: Path) -> OSError:
        """The error of writing a staged file, told about the file in DIR it was to become."""
        target = self.path
        if exc.filename is not None:
            staged = Path(os.fspath(exc.filename))
            try:
                target = self.path / staged.relative_to(staging)
            except ValueError:
                target = staged
        reason = exc.strerror or str(exc)
        return type(exc)(
            exc.errno, f"cannot write {target}: {reason}; the files in {self.path} were left as they were"
        ) if exc.errno is not None else OSError(f"cannot write {target}: {reason}")


def _read_pid(fd: int) -> int | None:
    try:
        text = os.pread(fd, 32, 0).decode("ascii", "replace").strip()
        return int(text) if text.isdigit() else None
    except OSError:
        return None

