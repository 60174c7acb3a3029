"""`mipv6scope stats`: Mobility Header messages by type and BA/BE status,
conversations per (node, peer) and per-minute rates, as Wireshark's
Statistics menus would give them."""

from __future__ import annotations

import functools
import json
import sys
from dataclasses import replace

import click

from ..analysis.stats import CaptureStats, Conversation, capture_stats
from ..capture.frame import CaptureError
from ..capture.reader import open_capture
from ..render.stats_text import CSV_COLUMNS, render_stats, stats_document, stats_records
from ..render.tabular import write_rows
from ..report.model import Report, SignallingMessage
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
from .stdin_capture import captures_from
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


def frame_lengths(paths: list[str], wanted: set[tuple[int, int]]) -> dict[tuple[int, int], int]:
    """The wire length of each (file index, frame number) in ``wanted``, from
    the captures' record headers (nothing is decoded)."""
    lengths: dict[tuple[int, int], int] = {}
    for index, path in enumerate(paths):
        numbers = {number for file, number in wanted if file == index}
        if not numbers:
            continue
        last = max(numbers)
        try:
            with open_capture(path) as reader:
                for frame in reader:
                    if frame.number in numbers:
                        lengths[(index, frame.number)] = frame.wirelen
                    if frame.number >= last:
                        break
        except CaptureError:  # analysed just before: reported there
            continue
    return lengths


def _belongs(message: SignallingMessage, conversation: Conversation) -> bool:
    """Whether ``message`` is one of ``conversation``'s (as `analysis.stats`
    groups them: its node and the other endpoint; without a node, its endpoints)."""
    if message.kind not in conversation.kinds:
        return False
    if message.node is None:
        return {message.src, message.dst} == {conversation.node, conversation.peer}
    return message.node == conversation.node and conversation.peer in (message.src, message.dst)


def with_conversation_bytes(result: CaptureStats, report: Report, paths: list[str]) -> CaptureStats:
    """``result`` with each conversation's bytes: the sum of the wire lengths
    (tshark's frame.len) of the frames carrying its messages, each frame once."""
    frames_of = [{(m.file, m.frame) for m in report.signalling if _belongs(m, c)}
                 for c in result.conversations]
    lengths = frame_lengths(paths, set().union(*frames_of))
    conversations = tuple(replace(c, bytes=sum(lengths.get(f, 0) for f in frames))
                          for c, frames in zip(result.conversations, frames_of, strict=True))
    return replace(result, conversations=conversations)


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@functools.partial(output_options, formats=("text", "json", "csv"))
def stats(captures: tuple[str, ...], out: OutputOptions) -> None:
    """Statistics of CAPTURE files: Mobility Header messages by type, BA and
    BE statuses by name, conversations per (node, peer) with frames and
    first/last time and bytes (the frames' wire lengths), and MH messages and tunnelled packets per minute.

    json is one document {mh_types, statuses, conversations, per_minute,
    signalling_dropped}; csv one row per table row, its table named in the
    'record' column (mh_type|status|conversation|minute). Counts come from
    the analysis: --mn, --from/--to (and -Y) restrict them as in the views.
    """
    with captures_from(captures, spool=True) as paths:  # stdin: read again for the lengths
        report = _restricted(run_analysis(paths, out, given=captures), out)
        result = with_conversation_bytes(capture_stats(report), report, paths)
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
