"""Ending an analysis command's process without tearing its heap down.

A report of many nodes is millions of small objects; freeing them one by one
when the command returns and again at interpreter exit is work whose only
effect is on a process about to end. `main` arms this module (`arm`) only
when it is the process's entry point (its arguments from the command line)
and the command is one of `COMMANDS`; the command then hands its report to
`keep` rather than letting it go, and once every output is written and the
exit code is known, `end` does what the interpreter's exit would still do
that anyone can see: flush stdout and stderr and run the ``atexit`` handlers
(among them those that end worker processes and remove temporary files), and
ends the process with ``os._exit(code)``, the same code. When it cannot be
sure that nothing is lost (not armed; a non-daemon thread other than this one
still running, which the interpreter's exit would wait for; a flush or a
handler raising, a Ctrl-C among them) it lets everything go and returns, and
the caller exits as usual. In-process callers (tests, `CliRunner`) never arm
it, so nothing is ever kept beyond their call.
"""

from __future__ import annotations

import atexit
import os
import sys

# The analysis commands whose report `keep` holds; not the TUI, charts or packets.
COMMANDS = frozenset({"summary", "report", "bindings", "tunnels", "ro", "handoffs", "findings",
                      "cache"})

_kept: list[object] = []
_armed = False


def arm() -> None:
    """Let `keep` hold what it is given and `end` end the process."""
    global _armed
    _armed = True


def disarm() -> None:
    """Let go of what `keep` holds; `end` returns from now on."""
    global _armed
    _armed = False
    _kept.clear()


def keep(value: object) -> None:
    """Hold ``value`` until the process ends, when armed (else nothing)."""
    if _armed:
        _kept.append(value)


def end(code: int) -> None:
    """When armed and safe (see the module docstring): flush stdout and
    stderr, run the atexit handlers, flush again and end the process with
    ``code``. Otherwise disarm and return."""
    if _armed and not _other_threads():
        try:
            _flush()
            atexit._run_exitfuncs()  # run once: they are unregistered as they run
            _flush()
        except BaseException:  # noqa: BLE001 - the interpreter's own exit handles it as before
            disarm()
            return
        os._exit(code)
    disarm()


def _flush() -> None:
    for stream in (sys.stdout, sys.stderr):
        if stream is not None:
            stream.flush()


def _other_threads() -> bool:
    """Whether a non-daemon thread besides this one is alive (exit waits for it)."""
    threading = sys.modules.get("threading")
    if threading is None:
        return False
    current = threading.current_thread()
    return any(t is not current and not t.daemon and t.is_alive() for t in threading.enumerate())
