"""``--jobs``: the columnar pass of each capture in a producer process.

The analyzers' state machines are one sequential pass over the frames in
order, so they stay in the analysing (main) process. What does not touch
them, walking a capture's records and gathering its columns
(`columnar.Gatherer`), runs in one producer process per capture, forked
with the capture already open (so stdin or a pipe is read by the producer
alone, never twice), which works ahead of the main process through a
bounded queue of `columnar.Gathered` chunks (`QUEUE_CHUNKS`): memory stays
bounded. The producer sends its capture issues at the end (damage met while
reading), or the exception that stopped it; a producer that dies without a
word is a `ProducerDied` (a `CaptureError`: one line, exit 3). Ctrl-C
reaches the main process (producers ignore SIGINT); closing the stream
(`produced(...).close()`) ends the producer and waits for it, so no process
is left behind.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.queues
import os
import pickle
import queue
import signal
from collections.abc import Iterator

from ..capture.columns import chunks
from ..capture.frame import CaptureError
from ..capture.reader import CaptureReader
from .columnar import Gathered, Gatherer

QUEUE_CHUNKS = 8  # gathered chunks a producer may be ahead of the main process
POLL_S = 0.5  # how often a waiting side checks that the other is still there


class ProducerDied(CaptureError):
    """A producer process ended without finishing its capture or saying why."""


def default_jobs() -> int:
    """All the cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _put(q: multiprocessing.queues.Queue, item: object, parent: int) -> None:
    """``q.put(item)``, giving up (exiting) if the main process is gone."""
    while True:
        try:
            q.put(item, timeout=POLL_S)
            return
        except queue.Full:
            if os.getppid() != parent:
                os._exit(1)


def _produce(reader: CaptureReader, keep_frames: bool, q: multiprocessing.queues.Queue,
             parent: int) -> None:
    """The producer process: every chunk gathered, then ("end", issues), or
    ("error", exception, issues)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the main process's to handle
    try:
        gatherer = Gatherer(keep_frames)
        for chunk in chunks(reader):
            _put(q, ("chunk", gatherer(chunk)), parent)
        _put(q, ("end", list(reader.issues)), parent)
    except Exception as exc:  # noqa: BLE001 - handed to the main process, raised there
        try:
            pickle.dumps(exc)
        except Exception:  # noqa: BLE001 - an exception that does not pickle: its words
            exc = RuntimeError(f"{type(exc).__name__}: {exc}")
        _put(q, ("error", exc, list(reader.issues)), parent)
    q.close()
    q.join_thread()


def produced(reader: CaptureReader, keep_frames: bool = True) -> Iterator[Gathered]:
    """The gathered chunks of the open capture ``reader``, made by a producer
    process; ``reader.issues`` becomes the producer's at the end. Only the
    masked frames' bytes come over unless ``keep_frames``. Close the
    iterator to stop the producer early."""
    context = multiprocessing.get_context("fork")  # the open reader goes to the child as is
    q = context.Queue(QUEUE_CHUNKS)
    process = context.Process(target=_produce, args=(reader, keep_frames, q, os.getpid()),
                              name=f"mipv6scope producer {reader.path}", daemon=True)
    process.start()
    try:
        while True:
            try:
                message = q.get(timeout=POLL_S)
            except queue.Empty:
                if process.is_alive():
                    continue
                try:  # what it sent just before it ended
                    message = q.get(timeout=POLL_S)
                except queue.Empty:
                    raise ProducerDied(f"{reader.path}: the process reading it ended "
                                       f"(exit code {process.exitcode}) before the end") from None
            if message[0] == "chunk":
                yield message[1]
                continue
            reader.issues[:] = message[-1]
            if message[0] == "error":
                raise message[1]
            return
    finally:
        if process.is_alive():
            process.terminate()
        process.join()
        q.close()
        q.cancel_join_thread()  # nothing the main process sends is waiting
