"""The per-concern views: `bindings`, `tunnels`, `ro`, `handoffs`, `findings`.

Each is thin: run the engine once (`analysis_commands.run_analysis`, which
applies ``--mn``, ``--from/--to`` and ``-Y``), take rows from `render.views_text` and write
them as text or streamed json/jsonl/csv. Exit codes as for summary/report:
0 ok; 1 a finding of the ``--fail-on`` severity or worse; 2 usage; 3 a
capture could not be read, or only in part; 130 interrupted; 4 internal error.
An interrupted or damaged pass still writes its rows, then (json/jsonl) a
last ``{"_meta": ...}`` record or (csv) ``# `` comment lines saying so.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from ipaddress import IPv6Address
from typing import Any, TypeVar

import click

from ..analysis.cache import cache_at, filter_entries
from ..capture.frame import CaptureError
from ..render import views_text as vt
from ..render.tabular import write_rows
from ..report.model import Report
from .analysis_commands import (
    EXIT_HELP,
    compile_display_filter,
    frames_of_report,
    run_analysis,
)
from .output import (
    EXIT_CAPTURE,
    FORMATS,
    SEVERITIES,
    CaptureState,
    OutputOptions,
    TimeRangeError,
    address_option,
    analyse_captures,
    esp_sa_option,
    fail_on_hit,
    finish,
    mn_addresses,
    names_option,
    no_pager_option,
    output_options,
    parse_ts,
    with_meta,
    write_csv_meta,
)
from .stdin_capture import captures_from
from .terminal import show_text

F = TypeVar("F", bound=Callable[..., Any])
CAPTURES = click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))


def _emit(report: Report, out: OutputOptions, rows: Iterator[dict[str, Any]], columns: tuple[str, ...],
          text: str | None = None) -> None:
    """Write text or records (marked when the pass was not whole), then exit
    130 if interrupted, 3 if the capture was damaged, 1 if ``--fail-on`` is hit."""
    state = CaptureState.of(report)
    if out.fmt == "text":
        show_text(text if text is not None else "", out.pager)
    else:
        write_rows(with_meta(rows, out.fmt, state), columns, out.fmt, sys.stdout)
        write_csv_meta(out.fmt, state)
    finish(state, fail_on_hit(report, out.fail_on))


def _tagged(report: Report) -> Iterator[dict[str, Any]]:
    for row in vt.binding_rows(report):
        yield {"record": "binding", **row}
    for row in vt.registration_rows(report):
        yield {"record": "registration", **row}


BOTH_COLUMNS = ("record",) + vt.BINDING_COLUMNS + tuple(
    c for c in vt.REGISTRATION_COLUMNS if c not in vt.BINDING_COLUMNS)


@click.command()
@CAPTURES
@click.option("--registrations", is_flag=True,
              help="Also list the registrations (each attempt's BUs, retransmissions included, "
                   "and the BA that answered, if any: rejected ones too); "
                   "json/jsonl/csv rows then carry record=binding|registration.")
@output_options
def bindings(captures: tuple[str, ...], registrations: bool, out: OutputOptions) -> None:
    """One row per binding: node, peer, kind, care-of, start/end, seq,
    requested/granted lifetime and what ended it.

    Only intervals in which a binding was in force: a rejected registration
    is not a binding (--registrations lists it, with its status).
    """
    report = run_analysis(captures, out)
    if registrations:
        rows, columns = _tagged(report), BOTH_COLUMNS
    else:
        rows, columns = vt.binding_rows(report), vt.BINDING_COLUMNS
    _emit(report, out, rows, columns,
          vt.render_bindings(report, registrations) if out.fmt == "text" else None)


@click.command()
@CAPTURES
@output_options
def tunnels(captures: tuple[str, ...], out: OutputOptions) -> None:
    """One row per (home agent, care-of, home address) tunnel: start/end,
    packets and bytes to and from the MN, packets outside any binding."""
    report = run_analysis(captures, out)
    _emit(report, out, vt.tunnel_rows(report), vt.TUNNEL_COLUMNS,
          vt.render_tunnels(report) if out.fmt == "text" else None)


@click.command()
@CAPTURES
@output_options
def ro(captures: tuple[str, ...], out: OutputOptions) -> None:
    """Route optimisation per (MN, CN): transitions, active intervals, RR
    latency, data direct vs through the home agent.

    In csv a transition is ts|frame|state|reason, an interval
    start_ts|end_ts|ended_by, several joined with ';'.
    """
    report = run_analysis(captures, out)
    _emit(report, out, vt.ro_rows(report), vt.RO_COLUMNS,
          vt.render_ro(report) if out.fmt == "text" else None)


@click.command()
@CAPTURES
@output_options
def handoffs(captures: tuple[str, ...], out: OutputOptions) -> None:
    """One row per handoff (one chain of BUs for a new care-of): from/to
    care-of, movement/BU/BA/first data times, registration and disruption ms,
    BU retransmissions, packets lost and possibly lost to the old care-of, and
    the outcome (completed, rejected with its status, no_answer, superseded).
    Text ends with count, median, p95, max per mobile node over the completed
    handoffs, and how many failed."""
    report = run_analysis(captures, out)
    _emit(report, out, vt.handoff_rows(report), vt.HANDOFF_COLUMNS,
          vt.render_handoffs(report) if out.fmt == "text" else None)


@click.command()
@CAPTURES
@click.option("--severity", type=click.Choice(SEVERITIES), metavar="SEVERITY",
              help="Only findings of SEVERITY (error|warning|info) or worse.")
@output_options
def findings(captures: tuple[str, ...], severity: str | None, out: OutputOptions) -> None:
    """Findings sorted by time: code, severity, node, frames, ts, message, RFC section."""
    report = run_analysis(captures, out)
    _emit(report, out, vt.finding_rows(report, severity), vt.FINDING_COLUMNS,
          vt.render_findings(report, severity) if out.fmt == "text" else None)


for _command in (bindings, tunnels, ro, handoffs, findings):
    _command.help = (_command.help or "") + "\n\n" + EXIT_HELP


def _at(_ctx: click.Context, param: click.Parameter, value: str) -> tuple[float | None, int | None]:
    """``#N`` -> (None, N); epoch seconds or ISO date-time -> (ts, None)."""
    if value.startswith("#"):
        try:
            number = int(value[1:])
        except ValueError:
            number = 0
        if number < 1:
            raise click.BadParameter(f"{value!r}: #FRAME needs a frame number >= 1", param=param)
        return None, number
    try:
        return parse_ts(value), None
    except TimeRangeError as exc:
        raise click.BadParameter(str(exc), param=param) from None
    except ValueError:
        raise click.BadParameter(f"{value!r} is neither epoch seconds, an ISO date-time nor #FRAME",
                                 param=param) from None


def cache_options(command: F) -> F:
    """Decorator: what `cache` takes of the shared options (``--format``,
    ``--mn``, ``--names``, ``-Y``, ``--esp-sa``; one instant, so no --from/--to, and no
    findings, so no --fail-on/--require-ipsec); the command receives
    ``out: OutputOptions``."""
    @click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
                  help="Output format.")
    @click.option("--mn", multiple=True, metavar="HOA|NAME",
                  help="Only entries for this home address or --names name (repeatable).")
    @click.option("--names", callback=names_option, metavar="FILE",
                  help="Hosts-style file (ADDRESS NAME) naming nodes.")
    @click.option("-Y", "--filter", "display_filter", metavar="EXPR",
                  help="Display filter (as packets -Y): only the entries of the mobile nodes "
                       "owning a frame EXPR matches anywhere in the capture.")
    @no_pager_option
    @esp_sa_option
    @functools.wraps(command)
    def wrapper(*args: Any, fmt: str, mn: tuple[str, ...], names: dict[IPv6Address, str],
                display_filter: str | None, no_pager: bool, **kwargs: Any) -> Any:
        out = OutputOptions(fmt, mn, None, None, names, None, display_filter=display_filter,
                            pager=not no_pager)
        return command(*args, out=out, **kwargs)
    return wrapper  # type: ignore[return-value]


def matching_nodes(paths: list[str], display_filter: str, names: dict[IPv6Address, str],
                   given: list[str]) -> frozenset[IPv6Address]:
    """The home addresses of the mobile nodes owning a frame ``display_filter``
    matches (analysis of the whole capture, then a pass matching its frames);
    a bad filter exits 2."""
    compiled = compile_display_filter(display_filter)
    if compiled is None:
        raise click.UsageError("-Y: empty display filter")
    whole = analyse_captures(paths, names, given=given)
    _frames, owners = frames_of_report(paths, compiled, whole)
    return owners


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--at", "at", required=True, callback=_at, metavar="TS|#FRAME",
              help="The instant: epoch seconds, an ISO date-time, or #N (just after frame N of the "
                   "first capture).")
@click.option("--node", callback=address_option, metavar="ADDR",
              help="Only the cache held by ADDR (HA or CN), or the update list of MN ADDR.")
@cache_options
def cache(captures: tuple[str, ...], at: tuple[float | None, int | None], node: IPv6Address | None,
          out: OutputOptions) -> None:
    """The home agents' and correspondents' binding caches and the mobile
    nodes' binding update lists at one instant, as UMIP's bc/bul consoles
    showed them: HoA, CoA, flags, seq, lifetime remaining/granted, state,
    resend count, RR state and nonce indices (what the capture can tell).

    The capture is read only up to the instant. --mn keeps entries for those
    home addresses (or --names names); -Y keeps the entries of the mobile
    nodes that own a frame the filter matches (anywhere in the capture: a
    frame belongs to a node when it carries one of its home or care-of
    addresses, as in the other views), which reads the whole capture.

    \b
    Exit codes: 0 ok, 2 usage error (or no such frame), 3 unreadable or
    damaged capture (what could be read is written first), 4 internal error,
    130 interrupted (what was read is written, marked partial).
    """
    at_ts, at_frame = at
    wanted = mn_addresses(out)
    # stdin is read twice for #FRAME (its time first) and -Y (the nodes first)
    with captures_from(captures, spool=bool(out.display_filter) or at_frame is not None) as paths:
        owners = (matching_nodes(paths, out.display_filter, out.names, list(captures))
                  if out.display_filter else None)
        try:
            snapshot = cache_at(paths, at_ts=at_ts, at_frame=at_frame)
        except CaptureError as exc:
            click.echo(f"mipv6scope: {exc}", err=True)
            sys.exit(EXIT_CAPTURE)
        except ValueError as exc:
            raise click.UsageError(str(exc)) from None
    info = snapshot.capture
    state = CaptureState(info.partial, tuple(info.capture_issues)) if info else CaptureState()
    for issue in state.issues:
        click.echo(f"mipv6scope: {issue}", err=True)
    if state.partial:
        click.echo("mipv6scope: interrupted: the caches are as far as the capture was read", err=True)
    entries = [e for e in filter_entries(snapshot.entries, node=node)
               if (wanted is None or e.home_address in wanted)
               and (owners is None or e.home_address in owners)]
    if out.fmt == "text":
        show_text(vt.render_cache(snapshot, entries, out.names), out.pager)
    else:
        write_rows(with_meta(vt.cache_rows(entries), out.fmt, state), vt.CACHE_COLUMNS, out.fmt,
                   sys.stdout)
        write_csv_meta(out.fmt, state)
    finish(state)


VIEW_COMMANDS = (bindings, tunnels, ro, handoffs, findings, cache)
