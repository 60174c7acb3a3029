"""`mipv6scope packets`: a Wireshark-like packet list, or one JSON object per frame."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from ipaddress import IPv6Address

import click

from ..analysis.engine import analyze
from ..capture.frame import CaptureError, CaptureIssue, Frame
from ..capture.reader import open_capture
from ..decode.detail import build_detail, hex_dump
from ..decode.frame_decoder import decode_frame
from ..decode.model import DecodedFrame
from ..decode.packet_list import format_row, packet_row
from ..decode.stream import FrameCounts
from ..filter import CompiledFilter, FilterContext, FilterError, compile_filter
from ..filter.help import field_table_text
from ..packet_filter import FrameFilter
from ..render.packet_record import frame_record
from .output import EXIT_INTERRUPTED, names_option

MH_TYPE_ALIASES = {"brr": 0, "hoti": 1, "coti": 2, "hot": 3, "cot": 4, "bu": 5, "ba": 6, "be": 7}


def _parse_mh_types(values: tuple[str, ...]) -> frozenset[int]:
    types = set()
    for value in values:
        for item in value.split(","):
            item = item.strip().lower()
            if item in MH_TYPE_ALIASES:
                types.add(MH_TYPE_ALIASES[item])
            elif item.isdigit() and int(item) < 256:
                types.add(int(item))
            else:
                raise click.BadParameter(
                    f"{item!r} is not an MH type (a number 0-255 or one of "
                    f"{', '.join(MH_TYPE_ALIASES)})", param_hint="--mh-type")
    return frozenset(types)


def _parse_address(value: str | None) -> IPv6Address | None:
    if value is None:
        return None
    try:
        return IPv6Address(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an IPv6 address", param_hint="--address") from None


def _bad_filter(exc: FilterError, text: str) -> None:
    """The filter error as tshark shows it (message, expression, caret); exit 2."""
    caret = "\n".join("    " + line for line in exc.caret(text).splitlines())
    click.echo(f"mipv6scope: -Y: {exc}\n{caret}", err=True)
    sys.exit(2)


def _compile(text: str | None) -> CompiledFilter | None:
    if text is None or not text.strip():
        return None
    try:
        return compile_filter(text)
    except FilterError as exc:
        _bad_filter(exc, text)
    return None  # pragma: no cover - _bad_filter exits


def _context(compiled: CompiledFilter, captures: tuple[str, ...],
             names: dict[IPv6Address, str]) -> FilterContext:
    """Run the analysis for a filter that uses analysis fields."""
    try:
        report = analyze(list(captures), names=names)
    except CaptureError as exc:
        click.echo(f"mipv6scope: {exc}", err=True)
        sys.exit(3)
    context = FilterContext.from_report(report)
    try:
        compiled.check_nodes(context)
    except FilterError as exc:
        _bad_filter(exc, compiled.text)
    return context


def _frames(paths: tuple[str, ...], counts: FrameCounts,
            capture_issues: list[tuple[str, CaptureIssue]]) -> Iterator[tuple[DecodedFrame, Frame]]:
    """(decoded frame, the frame as captured) of every file in order, counted."""
    label_files = len(paths) > 1
    for path in paths:
        with open_capture(path) as reader:
            for frame in reader:
                decoded = decode_frame(frame)
                if label_files:
                    decoded.file = str(path)
                counts.add(decoded)
                yield decoded, frame
            capture_issues.extend((str(path), issue) for issue in reader.issues)


def _list_fields(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        click.echo(field_table_text())
        ctx.exit(0)


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-Y", "--filter", "display_filter", metavar="EXPR",
              help="Display filter: keep the frames EXPR matches (Wireshark field names, "
                   "e.g. 'mip6.mhtype == 5 && ipv6.addr == 2001:db8::/32', plus mn, coa, ha, "
                   "cn, tunnel, ro, lost, retransmission, handoff, issue; see --list-fields).")
@click.option("--list-fields", is_flag=True, is_eager=True, expose_value=False,
              callback=_list_fields, help="Print the display filter fields and operators, and exit.")
@click.option("--names", callback=names_option, metavar="FILE",
              help="Hosts-style file (ADDRESS NAME) naming nodes, for -Y 'mn == NAME'.")
@click.option("-V", "--detail", is_flag=True,
              help="text: after each frame, its detail tree (every layer, tunnel level, "
                   "extension header, MH field and option), like tshark -V.")
@click.option("-x", "--hex", "hex_bytes", is_flag=True,
              help="text: after each frame, its bytes in hex and ASCII, like tshark -x.")
@click.option("--format", "fmt", type=click.Choice(["text", "jsonl"]), default="text",
              show_default=True, help="text: a packet list; jsonl: one JSON object per frame.")
@click.option("--mobility-only", is_flag=True,
              help="Keep frames with a Mobility Header, HAO, RH2, ICMPv6 144-147, RA or NS/NA.")
@click.option("--mh-type", "mh_type", multiple=True, metavar="TYPE",
              help="Keep Mobility Header messages of these types (bu, ba, 5, ...; repeatable or comma-separated).")
@click.option("--address", metavar="ADDR",
              help="Keep frames that mention this IPv6 address (any header, HAO, RH2, MH).")
@click.option("--with-issues", is_flag=True, help="Keep only frames with decode issues.")
@click.option("--no-skipped", is_flag=True, help="Leave out frames that were not IPv6 (counted all the same).")
@click.option("-c", "--count", type=click.IntRange(min=1), metavar="N",
              help="Stop after printing N frames.")
@click.option("--time", "time_mode", type=click.Choice(["relative", "epoch"]), default="relative",
              show_default=True, help="Time column: seconds since the first frame, or epoch seconds.")
def packets(captures: tuple[str, ...], display_filter: str | None,
            names: dict[IPv6Address, str], fmt: str, mobility_only: bool,
            mh_type: tuple[str, ...], address: str | None, with_issues: bool, no_skipped: bool,
            count: int | None, time_mode: str, detail: bool, hex_bytes: bool) -> None:
    """List the frames of CAPTURE files with their Mobile IPv6 fields decoded.

    Files are read in the order given. A summary of how many frames were
    decoded, skipped (and why) or malformed goes to stderr. -Y keeps the
    frames a display filter matches (with the other filters, by AND); a
    filter on analysis fields (mn, lost, ...) analyses the captures first.

    \b
    Exit codes: 0 ok, 2 usage error, 3 unreadable capture or read only in
    part (truncated/corrupt: the frames before the damage are listed first),
    4 internal error, 130 interrupted (Ctrl-C: the frames so far are listed).
    """
    frame_filter = FrameFilter(mobility_only=mobility_only, mh_types=_parse_mh_types(mh_type),
                               address=_parse_address(address), with_issues=with_issues,
                               include_skipped=not no_skipped)
    compiled = _compile(display_filter)
    context = _context(compiled, captures, names) if compiled and compiled.needs_analysis else None
    counts = FrameCounts()
    capture_issues: list[tuple[str, CaptureIssue]] = []
    out = sys.stdout
    printed = 0
    origin = first_ts = 0.0
    current_file: str | None = "<none>"
    interrupted = False
    try:
        for frame, raw in _frames(captures, counts, capture_issues):
            if frame.file != current_file:  # relative times restart with each file
                current_file = frame.file
                first_ts = frame.ts
                origin = frame.ts if time_mode == "relative" else 0.0
            if not frame_filter.keeps(frame):
                continue
            if compiled is not None and not compiled.matches(frame, context, data=raw.data,
                                                             first_ts=first_ts):
                continue
            if fmt == "jsonl":
                out.write(json.dumps(frame_record(frame), separators=(",", ":")) + "\n")
            else:
                out.write(format_row(packet_row(frame, origin)) + "\n")
                if detail:
                    for layer in build_detail(raw, frame):
                        out.write("\n".join(layer.lines()) + "\n")
                if hex_bytes:
                    out.write("\n".join(hex_dump(raw.data)) + "\n")
                if detail or hex_bytes:
                    out.write("\n")
            printed += 1
            if printed % 64 == 0:
                out.flush()
            if count is not None and printed >= count:
                break
    except CaptureError as exc:
        out.flush()
        click.echo(f"mipv6scope: {exc}", err=True)
        sys.exit(3)
    except KeyboardInterrupt:
        interrupted = True
    out.flush()
    click.echo(counts.summary(), err=True)
    for path, issue in capture_issues:
        click.echo(f"mipv6scope: {path}: {issue.code}: {issue.detail}", err=True)
    reasons = counts.skip_reasons
    only_unsupported = (counts.frames > 0 and counts.skipped == counts.frames
                        and all(r.startswith("unsupported link type") for r in reasons))
    if only_unsupported:
        click.echo(f"mipv6scope: no frame on a supported link type ({', '.join(reasons)})", err=True)
    if interrupted:
        click.echo("mipv6scope: interrupted: the list is partial", err=True)
        sys.exit(EXIT_INTERRUPTED)
    if capture_issues or only_unsupported:
        sys.exit(3)
