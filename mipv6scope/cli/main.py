"""The `mipv6scope` command group and the process behaviour every command shares.

Exit codes: 0 ok; 1 `--fail-on` hit (summary, report, views); 2 usage error;
3 a capture could not be read, or only in part (truncated/corrupt); 4 internal
error (a bug: one line, or the traceback with ``--debug`` or
MIPV6SCOPE_DEBUG=1); 130 interrupted (Ctrl-C). A closed stdout pipe
(``| head``) ends the command quietly with 0.
"""

from __future__ import annotations

import importlib
import os
import sys
import traceback
from collections.abc import Sequence
from typing import Any

try:  # Ctrl-C while click loads: exit 130, no traceback
    import click

    from .. import __version__
except KeyboardInterrupt:
    raise SystemExit(130) from None

EXIT_OK = 0
EXIT_ABORT = 1
EXIT_USAGE = 2
EXIT_CAPTURE = 3
EXIT_INTERNAL = 4
EXIT_INTERRUPTED = 130
DEBUG_ENV = "MIPV6SCOPE_DEBUG"
COMPLETE_ENV = "_MIPV6SCOPE_COMPLETE"
COMMON_EXIT_HELP = ("\b\nExit codes also: 4 internal error (a bug; rerun with --debug for the\n"
                    "traceback), 130 interrupted (Ctrl-C).")

# Each command's name -> the module of this package defining it (as that name).
# A module is imported when one of its commands is looked up (`LazyGroup`), so
# `report` does not load the display filter, the packet views or the TUI.
COMMAND_MODULES = {
    "packets": "packets", "summary": "analysis_commands", "report": "analysis_commands",
    "samples": "samples", "synth": "synth", "chart": "chart", "tui": "tui", "index": "index",
    "stats": "stats", "bindings": "views", "tunnels": "views", "ro": "views",
    "handoffs": "views", "findings": "views", "cache": "views",
}


class LazyGroup(click.Group):
    """A group whose commands (`COMMAND_MODULES`) are imported when first looked
    up, each given the exit codes main() adds (`_document_exit_codes`).
    ``commands`` loads them all (help listings, tests)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._loaded: dict[str, click.Command] = {}
        super().__init__(*args, **kwargs)

    @property  # type: ignore[override]  # click's attribute, loaded on access
    def commands(self) -> dict[str, click.Command]:
        for name in COMMAND_MODULES:
            self._command(name)
        return self._loaded

    @commands.setter
    def commands(self, value: dict[str, click.Command]) -> None:
        self._loaded.update(value)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        """The command named ``cmd_name`` (its module imported now), or None."""
        return self._command(cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        """Every command's name, sorted (as click's Group), none imported."""
        return sorted({*COMMAND_MODULES, *self._loaded})

    def _command(self, name: str) -> click.Command | None:
        command = self._loaded.get(name)
        if command is None and name in COMMAND_MODULES:
            module = importlib.import_module(f"{__package__}.{COMMAND_MODULES[name]}")
            command = self._loaded[name] = _document_exit_codes(getattr(module, name))
        return command


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mipv6scope")
@click.option("--debug", is_flag=True, envvar=DEBUG_ENV,
              help=f"Show the traceback of an internal error (also {DEBUG_ENV}=1).")
def cli(debug: bool) -> None:
    """Analyze Mobile IPv6 packet captures (pcap, pcapng, gzip-compressed).

    \b
    Exit codes:
        0  success (also when the reader of stdout goes away, e.g. | head)
        1  summary/report/views: a finding of the --fail-on severity or worse;
           chart/report -o: the output could not be written
        2  usage error (bad option or argument)
        3  a capture could not be read, or only in part (truncated/corrupt):
           what could be read is written first
        4  internal error (a bug): one line; --debug shows the traceback
      130  interrupted (Ctrl-C): analysis commands write what was analysed
           first, marked partial
    """


def _document_exit_codes(command: click.Command) -> click.Command:
    """``command``, its help made to name the codes main() adds (4 and 130)."""
    text = command.help or ""
    if " 4 " not in text.replace("\n", " ") or "130" not in text:
        command.help = f"{text}\n\n{COMMON_EXIT_HELP}"
    return command


def debug_wanted(args: Sequence[str]) -> bool:
    """Whether ``--debug`` comes before the command name, or MIPV6SCOPE_DEBUG is set."""
    if os.environ.get(DEBUG_ENV, "").strip().lower() in ("1", "true", "yes", "on"):
        return True
    for arg in args:
        if arg == "--debug":
            return True
        if not arg.startswith("-"):
            return False
    return False


def _quiet_stdout() -> None:
    """Point stdout at devnull, so the interpreter's last flush cannot fail
    on a pipe whose reader is gone (as Python's signal docs advise)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


def _internal_error(exc: BaseException, debug: bool) -> int:
    """One line (or, with ``debug``, the traceback) on stderr; exit code 4."""
    if debug:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)
    else:
        message = " ".join(str(exc).split())
        message = "".join(c if c.isprintable() else ascii(c)[1:-1] for c in message)[:500]
        sys.stderr.write(f"mipv6scope: internal error: {type(exc).__name__}: {message}; "
                         "rerun with --debug for the traceback\n")
    return EXIT_INTERNAL


def _exit_code(exc: SystemExit) -> int:
    """The status a SystemExit asks for (a message is printed, as Python does)."""
    if exc.code is None or isinstance(exc.code, int):
        return exc.code or 0
    sys.stderr.write(f"{exc.code}\n")
    return 1


def _interrupted(exc: BaseException) -> bool:
    """Whether ``exc`` comes from Ctrl-C (click turns it into Abort)."""
    while exc is not None:
        if isinstance(exc, KeyboardInterrupt):
            return True
        exc = exc.__cause__ or exc.__context__  # type: ignore[assignment]
    return False


def _invoke(args: list[str]) -> int:
    """Parse ``args`` and run the command; the exit code it asks for."""
    if COMPLETE_ENV in os.environ:  # shell completion, as click's own main() offers it
        cli._main_shell_completion({}, "mipv6scope", COMPLETE_ENV)
    with cli.make_context("mipv6scope", args) as ctx:
        cli.invoke(ctx)
    return EXIT_OK


def run(args: list[str]) -> int:
    """Run the CLI on ``args`` and turn every way it can end into an exit code:
    usage errors 2, Ctrl-C 130, a closed stdout 0, any other exception 4."""
    debug = debug_wanted(args)
    try:
        return _invoke(args)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except click.exceptions.Abort as exc:
        if _interrupted(exc):
            return EXIT_INTERRUPTED
        sys.stderr.write("Aborted!\n")
        return EXIT_ABORT
    except SystemExit as exc:
        return _exit_code(exc)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except Exception as exc:  # noqa: BLE001 - the one place every bug ends up
        return _internal_error(exc, debug)


def _flush_stdout(code: int) -> int:
    """Flush stdout now, while a closed pipe can still be handled: exit 0
    then, with stdout pointed at devnull."""
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _quiet_stdout()
        return EXIT_OK
    except (OSError, ValueError):
        pass
    return code


def main(argv: Sequence[str] | None = None) -> None:
    """Console-script entry point: run the CLI and exit with its code."""
    args = list(sys.argv[1:] if argv is None else argv)
    try:
        code = _flush_stdout(run(args))
    except KeyboardInterrupt:  # a second Ctrl-C while finishing
        code = EXIT_INTERRUPTED
    sys.exit(code)
