"""`mipv6scope tui`: browse captures by mobile node in a terminal UI (Textual).

The captures are checked here, before the UI starts, so bad input fails the
way every other command fails: one line on stderr and exit 3 (2 for a usage
error). Textual is imported only when the command runs, so the other
commands never load it.
"""

from __future__ import annotations

import os
import sys

import click

from ..capture.frame import CaptureError
from ..capture.reader import open_capture
from .output import EXIT_CAPTURE, AnalysisOptions, analysis_options
from .stdin_capture import STDIN, captures_from

EXIT_INTERRUPTED = 130


def check_captures(captures: tuple[str, ...]) -> None:
    """Open each capture once to see that it is one; CaptureError -> one line, exit 3."""
    for path in captures:
        try:
            with open_capture(path):
                pass
        except CaptureError as exc:
            click.echo(f"mipv6scope: {exc}", err=True)
            sys.exit(EXIT_CAPTURE)


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@analysis_options
@click.option("--index-dir", type=click.Path(file_okay=False), default=None, metavar="DIR",
              help="Read and store the frame indexes in DIR (default: $MIPV6SCOPE_INDEX_DIR, "
                   "else next to the capture or in ~/.cache/mipv6scope/index; see `index`).")
@click.option("--no-index-store", is_flag=True,
              help="Write no frame index file (a valid stored one is still used).")
def tui(captures: tuple[str, ...], analysis: AnalysisOptions, index_dir: str | None,
        no_index_store: bool) -> None:
    """Browse CAPTURE files by mobile node in the terminal: overview, node
    list, per-node timeline, ladder, binding caches, tunnels and route
    optimisation, findings, and Wireshark's three packet panes with a
    display filter (press ? inside for every key).

    The first screen is up at once; the capture is indexed and analysed in
    the background. The frame index of a capture of 16 MiB or more is stored
    (as `mipv6scope index` does) and used the next time, when still valid.
    Several files are analysed together; the packet panes browse all of them.
    '-' reads the capture from stdin (kept in a temporary file while the UI
    runs); the keys then come from the terminal.

    \b
    Exit codes: 0 ok, 1 textual is not installed, 2 usage error,
    3 unreadable capture, 4 internal error, 130 interrupted (Ctrl-C).
    """
    with captures_from(captures, spool=True) as paths:  # browsed and analysed: read often
        if STDIN in captures:
            keys_from_terminal()
        check_captures(tuple(paths))
        try:
            from ..tui.app import MobilityApp
        except ImportError as exc:  # textual is an optional extra
            raise click.ClickException(f"the terminal UI needs textual ({exc}): "
                                       "pip install textual") from None
        from ..capture.index_store import IndexStore

        spooled = STDIN in captures  # a temporary copy: its index would never be used again
        store = None if spooled else IndexStore.from_env(index_dir)
        app = MobilityApp(paths, analysis, store, save_index=not no_index_store)
        try:
            app.run()
        except KeyboardInterrupt:
            sys.exit(EXIT_INTERRUPTED)
    sys.exit(app.return_code or 0)


def keys_from_terminal() -> None:
    """After stdin's capture is read: take the keys from the terminal instead
    (as less does), since the UI reads them from stdin; exit 2 without one."""
    try:
        fd = os.open("/dev/tty", os.O_RDONLY)
    except OSError:
        raise click.UsageError("tui -: the capture came on stdin and there is no terminal "
                               "(/dev/tty) to read keys from") from None
    os.dup2(fd, 0)
    os.close(fd)
