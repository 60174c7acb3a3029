"""``--cluster tcp://HOST:PORT``: the columnar pass of each capture as a task
on an existing Dask distributed cluster (the optional extra
``mipv6scope[cluster]``).

One task per capture (`_gather_capture`) opens the capture by its path on a
worker (so the captures must be on a filesystem the workers share), walks
and gathers it (`columnar.Gatherer`, as a ``--jobs`` producer does) and
returns its `columnar.Gathered` chunks and capture issues; this process
consumes them in frame order with the same merge as ``--jobs``
(`engine._feed_columnar`). The analyzers stay here: they are one sequential
pass. A capture's chunks come back whole, so the client holds one
capture's gathered columns (about 50 bytes a frame) at a time for one
capture, all of them for several captures merged by time.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..capture.frame import CaptureIssue
from ..capture.reader import CaptureReader, open_capture

CONNECT_TIMEOUT_S = 10
INSTALL_HINT = "pip install 'mipv6scope[cluster]'"

if TYPE_CHECKING:
    from .columnar import Gathered


class ClusterError(Exception):
    """The cluster cannot be used (Dask not installed, scheduler unreachable,
    a capture the workers cannot open by path). One line for the user."""


def connect(address: str) -> Any:
    """A `distributed.Client` of the scheduler at ``address``."""
    try:
        from distributed import Client
    except ImportError:
        raise ClusterError(f"--cluster needs Dask distributed: {INSTALL_HINT}") from None
    try:
        return Client(address, timeout=CONNECT_TIMEOUT_S, set_as_default=False)
    except (OSError, TimeoutError, ValueError) as exc:
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ClusterError(f"cannot reach the Dask scheduler at {address}: {detail}") from None


def _gather_capture(path: str, keep_frames: bool) -> tuple[list[Gathered], list[CaptureIssue]]:
    """On a worker: every chunk of the capture at ``path`` gathered, and its issues."""
    with open_capture(path) as reader:
        from ..capture.columns import chunks  # numpy: only where a capture is gathered
        from .columnar import Gatherer

        gatherer = Gatherer(keep_frames)
        return [gatherer(chunk) for chunk in chunks(reader)], list(reader.issues)


def shared_path(reader: CaptureReader) -> str:
    """The absolute path workers open for ``reader``'s capture; a pipe or
    stdin cannot be sent to them."""
    path = os.path.abspath(reader.path)
    try:
        regular = stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        regular = False
    if not regular:
        name = "stdin" if reader.path in ("-", "/dev/stdin") else reader.path
        raise ClusterError(f"--cluster: {name} is not a regular file the workers can open "
                           "(stdin and pipes cannot be sent; save the capture on a shared filesystem)")
    return path


def produced_on(client: Any, reader: CaptureReader, keep_frames: bool = True) -> Iterator[Gathered]:
    """The gathered chunks of ``reader``'s capture, made by a task on the
    cluster (submitted at once); ``reader.issues`` becomes the worker's.
    Closing the iterator early cancels the task."""
    future = client.submit(_gather_capture, shared_path(reader), keep_frames, pure=False)
    try:
        gathered, issues = future.result()
        reader.issues[:] = issues
        yield from gathered
    finally:
        if not future.done():
            future.cancel()
