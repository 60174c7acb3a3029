"""`mipv6scope stats`: Mobility Header messages by type and BA/BE status,
conversations per (node, peer) and per-minute rates, as Wireshark's
Statistics menus would give them."""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import replace

import click

from ..analysis.stats import capture_stats
from ..render.stats_text import CSV_COLUMNS, render_stats, stats_document, stats_records
from ..render.tabular import write_rows
from ..report.model import Report
from .analysis_commands import EXIT_HELP, run_analysis
from .output import (
    CaptureState,
    OutputOptions,
    fail_on_hit,
    finish,
    output_options,
    with_meta,
    write_csv_meta,
)
from .terminal import show_text


def _restricted(report: Report, out: OutputOptions) -> Report:
    """The report with its signalling restricted as ``--mn`` and
    ``--from``/``--to`` restricted the rest (`output.filter_report` leaves
    the signalling whole): the kept nodes' messages, in the time range."""
    if not out.mn and out.from_ts is None and out.to_ts is None:
        return report
    messages = report.signalling
    if out.mn:
        frames = {(m.file, m.frame) for node in report.mobile_nodes for m in report.signalling_of(node)}
        messages = tuple(m for m in messages if (m.file, m.frame) in frames)
    messages = tuple(m for m in messages if (out.from_ts is None or m.ts >= out.from_ts)
                     and (out.to_ts is None or m.ts <= out.to_ts))
    return replace(report, signalling=messages)


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@functools.partial(output_options, formats=("text", "json", "csv"))
def stats(captures: tuple[str, ...], out: OutputOptions) -> None:
    """Statistics of CAPTURE files: Mobility Header messages by type, BA and
    BE statuses by name, conversations per (node, peer) with frames and
    first/last time, and MH messages and tunnelled packets per minute.

    json is one document {mh_types, statuses, conversations, per_minute,
    signalling_dropped}; csv one row per table row, its table named in the
    'record' column (mh_type|status|conversation|minute). Counts come from
    the analysis: --mn, --from/--to (and -Y) restrict them as in the views.
    """
    report = _restricted(run_analysis(captures, out), out)
    result = capture_stats(report)
    state = CaptureState.of(report)
    if out.fmt == "text":
        show_text(render_stats(result), out.pager)
    elif out.fmt == "json":
        document = stats_document(result)
        meta = state.meta()
        if meta is not None:
            document.update(meta)
        sys.stdout.write(json.dumps(document, indent=2) + "\n")
    else:
        write_rows(with_meta(stats_records(result), out.fmt, state), CSV_COLUMNS, out.fmt, sys.stdout)
        write_csv_meta(out.fmt, state)
    finish(state, fail_on_hit(report, out.fail_on))


stats.help = (stats.help or "") + "\n\n" + EXIT_HELP
