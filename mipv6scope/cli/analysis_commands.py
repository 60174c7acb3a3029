"""`mipv6scope summary` and `mipv6scope report`: views over the analysis Report.

Both run the engine once (`analysis.engine.analyze`) and render the Report
only. Exit codes: 0 ok; 1 a finding of the ``--fail-on`` severity or worse;
2 usage; 3 a capture could not be read, or only in part; 130 interrupted
(what was analysed is written first, marked partial); 4 internal error.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import replace
from ipaddress import IPv6Address
from typing import TYPE_CHECKING

import click

from ..capture.frame import CaptureError, Frame, new_frame
from ..capture.reader import open_capture
from ..render.node_rank import DEFAULT_SORT, DEFAULT_TOP, SORT_KEYS, select_nodes
from ..render.summary_text import render_summary, summary_records
from ..report.model import MobileNode, Report
from .output import (
    EXIT_CAPTURE,
    CaptureState,
    OutputOptions,
    analyse_captures,
    fail_on_hit,
    filter_report,
    finish,
    output_options,
    with_meta,
    write_csv_meta,
    write_json,
    write_output,
    write_records,
)
from .stdin_capture import captures_from

if TYPE_CHECKING:  # the display filter, the decoder and the pager load when used
    from ..capture.pcap import RecordVisitor
    from ..decode.model import DecodedFrame
    from ..filter import CompiledFilter, FilterContext, FilterError

EXIT_USAGE = 2
REPORT_FORMATS = ("text", "json", "html")  # one document: no jsonl or csv rows
EXIT_HELP = ("\b\nExit codes: 0 ok, 1 --fail-on hit, 2 usage error, 3 unreadable or\n"
             "damaged capture (what could be read is written first), 4 internal\n"
             "error, 130 interrupted (Ctrl-C: what was analysed is written, marked\n"
             "partial).")


def bad_display_filter(exc: FilterError, text: str) -> None:
    """The -Y error as `packets` shows it (message, expression, caret); exit 2."""
    caret = "\n".join("    " + line for line in exc.caret(text).splitlines())
    click.echo(f"mipv6scope: -Y: {exc}\n{caret}", err=True)
    sys.exit(EXIT_USAGE)


def compile_display_filter(text: str | None) -> CompiledFilter | None:
    """``-Y EXPR`` compiled (None when not given or blank); a bad one exits 2."""
    if text is None or not text.strip():
        return None
    from ..filter import FilterError, compile_filter
    try:
        return compile_filter(text)
    except FilterError as exc:
        bad_display_filter(exc, text)
    return None  # pragma: no cover - bad_display_filter exits


def _addresses(decoded: DecodedFrame) -> set[IPv6Address]:
    """Every address a frame carries: each IPv6 header's source and destination, HAO, RH2."""
    found: set[IPv6Address] = set()
    for header in decoded.ip6:
        found.update(a for a in (header.src, header.dst, header.hao, header.rh2) if a is not None)
    return found


def matching_frames(captures: Iterable[str], compiled: CompiledFilter, context: FilterContext,
                    first_ts: float | None) -> tuple[frozenset[int], frozenset[IPv6Address]]:
    """(numbers of the frames ``compiled`` matches in any of ``captures``, the
    home addresses of the mobile nodes owning one of them: a frame belongs to
    a node when it carries one of the node's home or care-of addresses).

    A filter that requires ``mn == NODE`` decodes only the frames whose bytes
    hold one of the node's addresses (`node_prefilter`); the others cannot match."""
    from ..decode.frame_decoder import decode_frame
    from .node_prefilter import candidate_addresses
    frames: set[int] = set()
    owners: set[IPv6Address] = set()
    candidates = candidate_addresses(compiled.text, context)
    if candidates is not None and not candidates:
        return frozenset(), frozenset()

    def test(frame: Frame) -> None:
        decoded = decode_frame(frame)
        data = bytes(frame.data) if compiled.needs_bytes else None
        if compiled.matches(decoded, context, data=data, first_ts=first_ts):
            frames.add(decoded.number)
            for node in context.nodes_of(_addresses(decoded)):
                owners.update(node.home_addresses)

    for path in captures:
        try:
            with open_capture(path) as reader:
                if candidates is None:
                    for frame in reader:
                        test(frame)
                elif reader.can_visit:
                    reader.visit(_holding(candidates, test))
                else:
                    for frame in reader:
                        if any(a in frame.data for a in candidates):
                            test(frame)
        except CaptureError as exc:  # analysed just before, so seldom; as for the analysis
            click.echo(f"mipv6scope: {exc}", err=True)
            sys.exit(EXIT_CAPTURE)
    return frozenset(frames), frozenset(owners)


def _holding(candidates: list[bytes], test: Callable[[Frame], None]) -> RecordVisitor:
    """A pcap record visitor handing `test` the records whose bytes hold a candidate."""
    def visit(number: int, ts: float, caplen: int, wirelen: int, linktype: int, buf: bytes,
              start: int) -> None:
        end = start + caplen
        for address in candidates:
            if buf.find(address, start, end) >= 0:
                test(new_frame((number, ts, caplen, wirelen, linktype, buf[start:end], 0)))
                return
    return visit


def _node_frames(node: MobileNode) -> set[int]:
    frames = {f for r in node.registrations for f in (*r.bu_frames, r.ba_frame) if f is not None}
    frames.update(b.start_frame for b in node.bindings if b.start_frame is not None)
    return frames


def select_by_frames(report: Report, frames: frozenset[int], owners: frozenset[IPv6Address]) -> Report:
    """The report restricted to the frames a display filter matched: the
    mobile nodes owning a matching frame (home address in ``owners``) or with a
    registration or binding on one; in them the registrations with a matching
    BU or BA, the bindings starting on a matching frame, the route
    optimisations with a matching transition (rows without frames, such as
    handoffs, stay with their node); the tunnels of kept
    nodes or with a matching frame outside any binding; the findings on a
    matching frame (or frameless, of a kept node); the signalling messages of
    matching frames."""
    nodes = []
    for node in report.mobile_nodes:
        hoas = set(node.home_addresses or (node.home_address,))
        if not (hoas & owners or _node_frames(node) & frames):
            continue
        nodes.append(replace(
            node,
            registrations=tuple(r for r in node.registrations
                                if frames.intersection((*r.bu_frames, r.ba_frame))),
            bindings=tuple(b for b in node.bindings if b.start_frame is None or b.start_frame in frames),
            route_optimization=tuple(ro for ro in node.route_optimization if not ro.transitions
                                     or any(t.frame in frames for t in ro.transitions))))
    kept = {a for n in nodes for a in (*(n.home_addresses or (n.home_address,)), *n.other_home_addresses)}
    return replace(
        report, mobile_nodes=tuple(nodes),
        tunnels=tuple(t for t in report.tunnels
                      if t.home_address in kept or frames.intersection(t.outside_binding.frames)),
        findings=tuple(f for f in report.findings if frames.intersection(f.frames)
                       or (not f.frames and f.node in kept)),
        signalling=tuple(m for m in report.signalling if m.frame in frames))


def run_analysis(captures: Iterable[str], out: OutputOptions,
                 given: Sequence[str] | None = None) -> Report:
    """`output.run_analysis` plus ``-Y``: the report restricted to ``--mn``,
    ``--from``/``--to`` and then to the display filter's frames
    (`select_by_frames`). The filter is checked before the analysis (exit 2)
    and its ``mn ==`` names against the whole report's nodes. ``given``: the
    captures as the user named them, when ``captures`` has stdin replaced."""
    captures = list(captures)
    given = list(given) if given is not None else captures
    compiled = compile_display_filter(out.display_filter)
    if compiled is None:
        return filter_report(analyse_captures(captures, out.names, out.require_ipsec, given,
                                              vantage=out.vantage), out)
    with captures_from(captures, spool=True) as paths:  # stdin is read twice
        whole = analyse_captures(paths, out.names, out.require_ipsec, given=given,
                                 vantage=out.vantage)
        report = filter_report(whole, out)
        frames, owners = frames_of_report(paths, compiled, whole)
    return select_by_frames(report, frames, owners)


def frames_of_report(paths: Sequence[str], compiled: CompiledFilter, whole: Report
                     ) -> tuple[frozenset[int], frozenset[IPv6Address]]:
    """`matching_frames` of ``paths`` with the analysis fields taken from
    ``whole`` (the unrestricted report); an ``mn ==`` naming no node of it
    exits 2 with the caret."""
    from ..filter import FilterContext, FilterError
    context = FilterContext.from_report(whole)
    try:
        compiled.check_nodes(context)
    except FilterError as exc:
        bad_display_filter(exc, compiled.text)
    return matching_frames(list(paths), compiled, context, whole.capture.first_ts)


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(min=1), metavar="N",
              help=f"List N mobile nodes (text: {DEFAULT_TOP} unless given; json/jsonl/csv: all).")
@click.option("--all", "all_nodes", is_flag=True, help="List every mobile node.")
@click.option("--sort", type=click.Choice(SORT_KEYS), metavar="|".join(SORT_KEYS),
              help=f"Rank the nodes, worst first, by handoffs, packets lost to an old care-of, "
                   f"findings or median registration time (default: {DEFAULT_SORT}; json/jsonl/csv "
                   "keep the report's order unless given).")
@output_options
def summary(captures: tuple[str, ...], top: int | None, all_nodes: bool, sort: str | None,
            out: OutputOptions) -> None:
    """Summarise CAPTURE files: counts, nodes by role, one line per mobile node,
    top findings.

    Several files are merged by time; a packet seen in two of them counts once.
    Text lists the 20 mobile nodes with the most findings and says how many
    more there are (--top, --all, --sort). json/jsonl/csv give one record per
    mobile node; when the capture was interrupted or damaged, json/jsonl end
    with a {"_meta": {"partial": ..., "capture_issues": [...]}} record and csv
    with '# ' comment lines.
    """
    if top is not None and all_nodes:
        raise click.UsageError("--top and --all: give one")
    report = run_analysis(captures, out)
    state = CaptureState.of(report)
    if out.fmt == "text":
        from .terminal import show_text
        limit = None if all_nodes else top or DEFAULT_TOP
        nodes = select_nodes(summary_records(report), limit, sort or DEFAULT_SORT)
        show_text(render_summary(report, nodes=nodes), out.pager)
    else:
        records = summary_records(report)
        if sort is not None or top is not None:
            records = list(select_nodes(records, top, sort or DEFAULT_SORT).records)
        write_records(list(with_meta(records, out.fmt, state)), out.fmt)
        write_csv_meta(out.fmt, state)
    finish(state, fail_on_hit(report, out.fail_on))


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_path", metavar="OUT", default="-", show_default=True,
              help="Where to write the report ('-' is stdout).")
@click.option("--plotlyjs", type=click.Choice(("inline", "cdn", "directory")), default="inline",
              show_default=True,
              help="--format html: embed plotly.js (works offline), link the CDN, or write "
                   "plotly.min.js beside OUT.")
@functools.partial(output_options, formats=REPORT_FORMATS)
def report(captures: tuple[str, ...], out_path: str, plotlyjs: str, out: OutputOptions) -> None:
    """The whole analysis of CAPTURE files as one JSON document (with
    schema_version): capture, mobile_nodes, tunnels, findings, roles; or, with
    --format html, one self-contained page with the summary, the per-node
    tables, the findings and the four charts (for a ticket).

    --format text and json give the same JSON document.
    capture.partial says the pass was interrupted, capture.capture_issues
    what damage was met. 1 also means OUT could not be written.
    """
    if plotlyjs == "directory" and out_path == "-":
        raise click.BadParameter("--plotlyjs directory needs a file to write beside: give -o OUT",
                                 param_hint="'--plotlyjs'")
    result = run_analysis(captures, out)
    if out.fmt == "html":
        from ..charts.report_page import report_page  # plotly loads only for the page
        write_output(report_page(result, plotlyjs=plotlyjs), out_path,
                     plotlyjs_beside=plotlyjs == "directory")
    elif out_path == "-":
        from .terminal import paged
        with paged(out.pager):
            write_json(result, "-")
    else:
        write_json(result, out_path)
    finish(CaptureState.of(result), fail_on_hit(result, out.fail_on))


for _command in (summary, report):
    _command.help = (_command.help or "") + "\n\n" + EXIT_HELP
