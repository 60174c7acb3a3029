"""``-`` as CAPTURE: a pcap or pcapng stream (gzip-compressed or not) on stdin.

A command that reads its captures once streams stdin through ``/dev/stdin``
(`captures_from` with ``spool=False``): frames are handled as they arrive and
nothing is stored. A command that reads them more than once (a second pass
for ``-Y``, ``-w``, the TUI's index) gets stdin spooled to a temporary file
first, removed when the command is done. ``-`` may appear once; a terminal on
stdin is a usage error (exit 2), as for tshark.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from dataclasses import replace

import click

from ..capture.reader import is_regular_file
from ..report.model import Report

STDIN = "-"
STDIN_DEVICE = "/dev/stdin"
_CHUNK = 1 << 20


def check_stdin(captures: Sequence[str]) -> bool:
    """Whether ``-`` is among ``captures``; click.UsageError (exit 2) when it is
    there twice or stdin is a terminal."""
    count = sum(1 for c in captures if c == STDIN)
    if count > 1:
        raise click.UsageError("'-' (stdin) can be given only once")
    if count and sys.stdin is not None and sys.stdin.isatty():
        raise click.UsageError("'-' reads a capture from stdin, but stdin is a terminal "
                               "(pipe one in: tcpdump -w - | mipv6scope ... -)")
    return bool(count)


def live_input(paths: Sequence[str]) -> bool:
    """Whether ``paths`` stream stdin from a pipe or socket (not a file
    redirected in): output should then follow each frame as it arrives."""
    return STDIN_DEVICE in paths and sys.stdin is not None and not is_regular_file(sys.stdin)


def _spool(directory: str | None = None) -> str:
    """stdin's bytes in a new temporary file; its path."""
    fd, path = tempfile.mkstemp(prefix="mipv6scope-stdin-", suffix=".cap", dir=directory)
    try:
        with os.fdopen(fd, "wb") as out:
            shutil.copyfileobj(sys.stdin.buffer, out, _CHUNK)
    except BaseException:
        os.unlink(path)
        raise
    return path


@contextmanager
def captures_from(captures: Sequence[str], spool: bool = False) -> Iterator[list[str]]:
    """``captures`` with ``-`` replaced by a path the readers can open: stdin
    itself (``spool=False``, one streaming pass) or a temporary copy of it
    (``spool=True``, read as often as needed; removed on exit)."""
    paths = list(captures)
    if not check_stdin(paths):
        yield paths
        return
    where = paths.index(STDIN)
    if not spool:
        paths[where] = STDIN_DEVICE
        yield paths
        return
    paths[where] = _spool()
    try:
        yield paths
    finally:
        with suppress(OSError):
            os.unlink(paths[where])


def shown_as_given(report: Report, given: Sequence[str], used: Sequence[str]) -> Report:
    """The report with the paths it was read from (``used``) named as the user
    gave them (``given``: ``-`` for stdin, not the device or temporary file)."""
    rename = {u: g for u, g in zip(used, given, strict=True) if u != g}
    if not rename:
        return report
    cap = report.capture
    issues = []
    for issue in cap.capture_issues:
        for old, new in rename.items():
            if issue.startswith(old + ":"):
                issue = new + issue[len(old):]
        issues.append(issue)
    files = tuple(rename.get(f, f) for f in cap.files)
    return replace(report, capture=replace(cap, files=files, capture_issues=tuple(issues)))
