"""A run directory (``deltaprop train --out DIR``): one run at a time, its files from one run.

* **One run at a time.** ``RunDirectory(path)`` holds an exclusive lock (``fcntl.flock`` on the
  directory itself; ``DIR/.deltaprop.pid`` names the holder while it runs) from before a
  checkpoint is read until the last file is written; a second run on the same directory is
  refused with a one-line ``RunDirectoryBusy`` naming the holder's pid. The operating system
  releases the lock when the process ends, however it ends, so a killed run never leaves the
  directory locked. A directory that the run created and left empty (it failed early) is removed.
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
from collections.abc import Iterable, Iterator
from pathlib import Path

from .atomic import TEMP_SUFFIX, fsync_directory, signals_held, temporary_name

__all__ = ["RunDirectory", "RunDirectoryBusy", "PID_NAME", "new_run_id"]

PID_NAME = ".deltaprop.pid"
_STAGING = ".deltaprop-staging-"
#: The files of a run (the only temporary files a new run may remove are theirs).
RUN_FILES = ("model.npz", "checkpoint.npz", "metrics.json", "learning_curves.png", "report.html")

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

    def __init__(self, path: str | os.PathLike[str]):
        self.path = Path(path)
        self._fd = None
        self.committed = False  # True once new_files() has put the run's files in place

    # ------------------------------------------------------------------ the lock
    def __enter__(self) -> "RunDirectory":
        self._created = not self.path.exists()
        try:
            self.path.mkdir(parents=True, exist_ok=True)
        except FileExistsError:
            raise NotADirectoryError(f"--out {self.path} exists and is not a directory") from None
        fd = os.open(self.path, os.O_RDONLY)
        if fcntl is not None:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                holder = _read_pid(self.path / PID_NAME)
                who = f"pid {holder}" if holder else "another process"
                raise RunDirectoryBusy(
                    f"{self.path} is in use by another deltaprop run ({who}); wait for it to finish "
                    f"or give another --out"
                ) from None
        self._fd = fd
        self.committed = False
        try:
            (self.path / PID_NAME).write_text(f"{os.getpid()}\n", encoding="ascii")
            self._remove_leftovers()
        except BaseException:
            self.__exit__()
            raise
        return self

    def __exit__(self, *exc_info: object) -> bool:  # (also called by __enter__ when it fails after locking)
        if self._fd is not None:
            with contextlib.suppress(OSError):
                (self.path / PID_NAME).unlink()
            if self._created:
                with contextlib.suppress(OSError):
                    self.path.rmdir()  # only if empty: a run that failed before writing anything
            os.close(self._fd)  # closing releases the flock
            self._fd = None
        return False

    def _remove_leftovers(self) -> None:
        """Temporary files and staging directories of runs that were killed mid-write (only
        deltaprop's own: ``.deltaprop-staging-*`` and ``.<run file>.*.tmp``)."""
        prefixes = tuple(temporary_name(name)[0] for name in RUN_FILES)
        for entry in self.path.iterdir():
            name = entry.name
            if name.startswith(_STAGING) and entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            elif name.startswith(prefixes) and name.endswith(TEMP_SUFFIX) and entry.is_file():
                with contextlib.suppress(OSError):
                    entry.unlink()

    # ------------------------------------------------------------------ the files
    @contextlib.contextmanager
    def new_files(self, remove: Iterable[str] = ()) -> Iterator[Path]:
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
                self.committed = True  # (a signal held until here arrives after the files are in place)
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


def _read_pid(path: Path) -> int | None:
    try:
        text = path.read_text(encoding="ascii", errors="replace")[:32].strip()
    except OSError:
        return None
    return int(text) if text.isdigit() else None

