"""Text views on a terminal: colour and a pager, as git does it.

When stdout is a terminal, a text view is coloured (severities, failures,
packets lost) unless ``NO_COLOR`` is set to anything but the empty string
(https://no-color.org) or ``TERM=dumb``, and goes through a pager unless
``--no-pager``: ``$MIPV6SCOPE_PAGER``, else ``$PAGER``, else ``less``, with
``LESS=FRX`` when ``LESS`` is unset (quit when it fits one screen, pass
colours, leave the screen as it was). An empty pager or ``cat`` means none.
Piped or redirected output is never coloured or paged. Colour is `rich`'s;
what to colour is `render.styling`'s.
"""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import subprocess
import sys
from collections.abc import Iterator
from typing import TextIO

from ..render.styling import style_text

PAGER_ENV = "MIPV6SCOPE_PAGER"


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour_wanted(stream: TextIO | None = None) -> bool:
    """Whether text written to ``stream`` (stdout) is coloured."""
    stream = stream if stream is not None else sys.stdout
    if os.environ.get("NO_COLOR", "") != "" or os.environ.get("TERM") == "dumb":
        return False
    return _is_terminal(stream)


def pager_command() -> list[str] | None:
    """The pager to run (argv), or None when the user asked for none."""
    text = os.environ.get(PAGER_ENV)
    if text is None:
        text = os.environ.get("PAGER", "less")
    argv = shlex.split(text)
    if not argv or argv == ["cat"]:
        return None
    return argv


@contextlib.contextmanager
def paged(enabled: bool = True) -> Iterator[bool]:
    """Send what is written to sys.stdout in the block through the pager when
    ``enabled`` and stdout is a terminal; yields whether colour is wanted
    (decided on the terminal, before the pager takes stdout). Waits for the
    pager at the end; a pager quit early (q in less) is no error."""
    colour = colour_wanted()
    argv = pager_command() if enabled and _is_terminal(sys.stdout) else None
    if argv is None:
        yield colour
        return
    env = dict(os.environ)
    env.setdefault("LESS", "FRX")
    env.setdefault("LV", "-c")
    sys.stdout.flush()
    try:
        proc = subprocess.Popen(argv, stdin=subprocess.PIPE, env=env)
    except OSError:  # no such pager: write to the terminal itself
        yield colour
        return
    assert proc.stdin is not None
    original = sys.stdout
    sys.stdout = io.TextIOWrapper(proc.stdin, encoding=original.encoding or "utf-8",
                                  errors="replace", line_buffering=False)
    try:
        yield colour
        with contextlib.suppress(BrokenPipeError, ValueError):
            sys.stdout.flush()
    except BrokenPipeError:  # the pager was quit before everything was written
        pass
    finally:
        wrapper, sys.stdout = sys.stdout, original
        with contextlib.suppress(BrokenPipeError, OSError, ValueError):
            wrapper.close()
        proc.wait()


def show_text(text: str, pager: bool = True) -> None:
    """Write a text view to stdout: through the pager and coloured when stdout
    is a terminal (see the module docstring), else as it is."""
    with paged(pager) as colour:
        if not colour:
            sys.stdout.write(text)
            return
        from rich.console import Console  # only for a terminal

        console = Console(file=sys.stdout, force_terminal=True, color_system="standard",
                          soft_wrap=True, highlight=False, markup=False, emoji=False)
        console.print(style_text(text), end="")
