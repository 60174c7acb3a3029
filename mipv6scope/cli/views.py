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

import sys
from collections.abc import Iterator
from ipaddress import IPv6Address
from typing import Any

import click

from ..analysis.cache import cache_at, filter_entries
from ..capture.frame import CaptureError
from ..render import views_text as vt
from ..render.tabular import write_rows
from ..report.model import Report
from .analysis_commands import EXIT_HELP, run_analysis
from .output import (
    EXIT_CAPTURE,
    SEVERITIES,
    CaptureState,
    OutputOptions,
    TimeRangeError,
    address_option,
    fail_on_hit,
    finish,
    mn_addresses,
    output_options,
    parse_ts,
    with_meta,
    write_csv_meta,
)

CAPTURES = click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))


def _emit(report: Report, out: OutputOptions, rows: Iterator[dict[str, Any]], columns: tuple[str, ...],
          text: str | None = None) -> None:
    """Write text or records (marked when the pass was not whole), then exit
    130 if interrupted, 3 if the capture was damaged, 1 if ``--fail-on`` is hit."""
    state = CaptureState.of(report)
    if out.fmt == "text":
        sys.stdout.write(text if text is not None else "")
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
              help="Also list the registrations (BUs of one seq and the BA that answered); "
                   "json/jsonl/csv rows then carry record=binding|registration.")
@output_options
def bindings(captures: tuple[str, ...], registrations: bool, out: OutputOptions) -> None:
    """One row per binding: node, peer, kind, care-of, start/end, seq,
    requested/granted lifetime and what ended it.

    A rejected registration is listed with no start and ended_by=rejected.
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


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--at", "at", required=True, callback=_at, metavar="TS|#FRAME",
              help="The instant: epoch seconds, an ISO date-time, or #N (just after frame N of the "
                   "first capture).")
@click.option("--node", callback=address_option, metavar="ADDR",
              help="Only the cache held by ADDR (HA or CN), or the update list of MN ADDR.")
@output_options
def cache(captures: tuple[str, ...], at: tuple[float | None, int | None], node: IPv6Address | None,
          out: OutputOptions) -> None:
    """The home agents' and correspondents' binding caches and the mobile
    nodes' binding update lists at one instant, as UMIP's bc/bul consoles
    showed them: HoA, CoA, flags, seq, lifetime remaining/granted, state,
    resend count, RR state and nonce indices (what the capture can tell).

    The capture is read only up to the instant. --mn keeps entries for those
    home addresses (or --names names); --from/--to/--fail-on/--require-ipsec do not apply.

    \b
    Exit codes: 0 ok, 2 usage error (or no such frame), 3 unreadable or
    damaged capture (what could be read is written first), 4 internal error,
    130 interrupted (what was read is written, marked partial).
    """
    if out.from_ts is not None or out.to_ts is not None or out.fail_on is not None \
            or out.require_ipsec or out.display_filter:
        raise click.UsageError("cache shows one instant and no findings: --from, --to, --fail-on, "
                               "--require-ipsec and -Y do not apply")
    at_ts, at_frame = at
    try:
        snapshot = cache_at(captures, at_ts=at_ts, at_frame=at_frame)
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
    wanted = mn_addresses(out)
    entries = [e for e in filter_entries(snapshot.entries, node=node)
               if wanted is None or e.home_address in wanted]
    if out.fmt == "text":
        sys.stdout.write(vt.render_cache(snapshot, entries, out.names))
    else:
        write_rows(with_meta(vt.cache_rows(entries), out.fmt, state), vt.CACHE_COLUMNS, out.fmt,
                   sys.stdout)
        write_csv_meta(out.fmt, state)
    finish(state)


VIEW_COMMANDS = (bindings, tunnels, ro, handoffs, findings, cache)
