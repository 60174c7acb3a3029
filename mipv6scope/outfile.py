"""Writing an output file all or nothing: a reader never sees half a report,
half a chart or half a capture, and a failed write leaves what was there before.

* The data goes to a temporary file beside the target, which is renamed over
  it only when complete (``write_atomic`` for bytes in memory, ``atomic_path``
  for a writer that streams, like a large `synth` capture).
* A symlink at the target is refused (`SymlinkRefused`): a file is never
  written through a link (which could point anywhere). What exists and is
  not a regular file (``/dev/stdout``, a fifo) is written directly, never
  renamed over.
* With ``force=False`` an existing file is refused (`ExistsRefused`) and the
  rename cannot replace one that appears meanwhile (a hard link, which fails
  when the name exists); replacing an existing file keeps its mode.

Both refusals are `OSError`\\ s whose ``strerror`` says why in one line.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path


class OutputRefused(OSError):
    """An output path we will not write (``strerror`` says why; ``filename`` names it)."""


class SymlinkRefused(OutputRefused):
    """The output path is a symlink (dangling or to a regular file)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.ELOOP, "is a symlink; refusing to write through it", os.fspath(path))


class ExistsRefused(OutputRefused):
    """The output path exists and replacing it was not asked for (``--force``)."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        super().__init__(errno.EEXIST, "exists; pass --force to replace it", os.fspath(path))


def _umask() -> int:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return 0o022


def _special(path: Path) -> bool:
    """Whether ``path`` exists as something other than a regular file or a
    link to one (a device such as /dev/stdout, a fifo): written directly."""
    try:
        mode = os.stat(path).st_mode  # follows a link: /dev/stdout -> /proc/self/fd/1
    except OSError:
        return False
    return not stat.S_ISREG(mode) and not stat.S_ISDIR(mode)


def check_target(path: str | os.PathLike[str], force: bool = True) -> None:
    """Raise `SymlinkRefused` / `ExistsRefused` when ``path`` may not be
    written (a symlink to a file or nowhere; an existing file without
    ``force``); a device or fifo passes."""
    path = Path(path)
    if _special(path):
        return
    if path.is_symlink():
        raise SymlinkRefused(path)
    if not force and os.path.lexists(path):
        raise ExistsRefused(path)


def _commit(tmp: str, path: Path, force: bool) -> None:
    """Rename ``tmp`` to ``path``: over it with ``force``, else only when the
    name is free (a hard link, atomic; a plain rename where links do not work)."""
    if force:
        if path.is_symlink():  # appeared meanwhile: a rename would replace the link, not follow it
            raise SymlinkRefused(path)
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise ExistsRefused(path) from None
    except OSError:
        if os.path.lexists(path):
            raise ExistsRefused(path) from None
        os.replace(tmp, path)
        return
    os.unlink(tmp)


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], force: bool = True) -> Iterator[Path]:
    """Yield the path to write in place of ``path``: a temporary file beside
    it, renamed over ``path`` when the block ends without an exception and
    removed when it raises (``path`` itself for a device or fifo).

    Raises `SymlinkRefused` / `ExistsRefused` before yielding (see
    `check_target`) and again at the rename if one appeared meanwhile."""
    path = Path(path)
    if _special(path):
        yield path
        return
    check_target(path, force)
    mode = path.stat().st_mode & 0o7777 if path.is_file() else 0o666 & ~_umask()
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, mode)
        _commit(tmp, path, force)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def write_atomic(path: Path, data: bytes, force: bool = True) -> None:
    """Write ``data`` to a temporary file beside ``path``, then rename it over.

    A symlink at ``path`` is refused (`SymlinkRefused`); with ``force=False``
    so is an existing file (`ExistsRefused`). What is not a regular file
    (/dev/stdout, a fifo) is written directly, never renamed over."""
    with atomic_path(path, force) as target, open(target, "wb") as out:
        out.write(data)
