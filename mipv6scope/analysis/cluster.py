"""``--cluster tcp://HOST:PORT``: the columnar pass of the captures as tasks
on an existing Dask distributed cluster (the optional extra
``mipv6scope[cluster]``).

Workers open the captures by path, so the captures must be on a filesystem
the workers share. For each capture a first task (`_plan`) walks the record
headers of an uncompressed pcap or pcapng and splits its whole records into
ranges of `FRAMES_PER_TASK` (`columns.record_ranges`; a pcapng range carries
its section's byte order and interfaces), with the capture's issues; then
one task per range (`_gather_range`) reads its bytes, walks and gathers them
(`columnar.Gatherer`, as a ``--jobs`` producer does, with address ids of its
own) and returns its `columnar.Gathered` chunks. A gzip-compressed capture
cannot be entered in the middle: it is one task (`_gather_capture`). This process takes
the ranges' chunks in order, one range's at a time, with the same merge as
``--jobs`` (`engine._feed_columnar`). The analyzers stay here: they are one
sequential pass.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from ..capture.frame import CaptureIssue
from ..capture.reader import CaptureReader, open_capture

CONNECT_TIMEOUT_S = 10
FRAMES_PER_TASK = 1 << 20  # records a range task gathers (about 0.75 GB of varied traffic)
INSTALL_HINT = "pip install 'mipv6scope[cluster]'"

if TYPE_CHECKING:
    from ..capture.columns import RecordRange
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


def _plan(path: str, frames_per_task: int) -> tuple[list[RecordRange] | None, list[CaptureIssue]]:
    """On a worker: the capture's record ranges (None: compressed) and,
    when it walked them, the capture's issues."""
    from ..capture.columns import record_ranges  # numpy: only where a capture is gathered

    with open_capture(path) as reader:
        return record_ranges(reader, frames_per_task), list(reader.issues)


def _gather_range(path: str, where: RecordRange, keep_frames: bool) -> list[Gathered]:
    """On a worker: one range of records gathered, with address ids of its own."""
    from ..capture.columns import range_chunks
    from .columnar import Gatherer

    gatherer = Gatherer(keep_frames)
    return [gatherer(chunk) for chunk in range_chunks(path, where)]


def produced_on(client: Any, reader: CaptureReader, keep_frames: bool = True,
                frames_per_task: int | None = None) -> Iterator[Gathered]:
    """The gathered chunks of ``reader``'s capture, made by tasks on the
    cluster (see the module docstring: a plan, then one task per range,
    submitted at once); ``reader.issues`` becomes the workers'. Closing the
    iterator early cancels the tasks not yet done."""
    path = shared_path(reader)
    futures = [client.submit(_plan, path, frames_per_task or FRAMES_PER_TASK, pure=False)]
    try:
        ranges, issues = futures[0].result()
        if ranges is None:
            futures = [client.submit(_gather_capture, path, keep_frames, pure=False)]
            gathered, issues = futures[0].result()
            reader.issues[:] = issues
            yield from gathered
            return
        reader.issues[:] = issues
        futures = [client.submit(_gather_range, path, where, keep_frames, pure=False) for where in ranges]
        for i, future in enumerate(futures):
            gathered = future.result()
            futures[i] = None  # its result is the worker's to forget
            if gathered:
                gathered[0].reset = True  # each range's address ids start afresh
            yield from gathered
    finally:
        for future in futures:
            if future is not None and not future.done():
                future.cancel()
