"""`mipv6scope packets`: a Wireshark-like packet list, or one JSON object per frame."""

from __future__ import annotations

import json
import sys
from ipaddress import IPv6Address

import click

from ..capture.frame import CaptureError
from ..decode.packet_list import format_row, packet_row
from ..decode.stream import DecodeStream
from ..packet_filter import FrameFilter
from ..render.packet_record import frame_record

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


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
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
def packets(captures: tuple[str, ...], fmt: str, mobility_only: bool, mh_type: tuple[str, ...],
            address: str | None, with_issues: bool, no_skipped: bool, count: int | None,
            time_mode: str) -> None:
    """List the frames of CAPTURE files with their Mobile IPv6 fields decoded.

    Files are read in the order given. A summary of how many frames were
    decoded, skipped (and why) or malformed goes to stderr.
    """
    frame_filter = FrameFilter(mobility_only=mobility_only, mh_types=_parse_mh_types(mh_type),
                               address=_parse_address(address), with_issues=with_issues,
                               include_skipped=not no_skipped)
    stream = DecodeStream(list(captures))
    out = sys.stdout
    printed = 0
    origin = 0.0
    current_file: str | None = "<none>"
    try:
        for frame in stream:
            if frame.file != current_file:  # relative times restart with each file
                current_file = frame.file
                origin = frame.ts if time_mode == "relative" else 0.0
            if not frame_filter.keeps(frame):
                continue
            if fmt == "jsonl":
                out.write(json.dumps(frame_record(frame), separators=(",", ":")) + "\n")
            else:
                out.write(format_row(packet_row(frame, origin)) + "\n")
            printed += 1
            if printed % 64 == 0:
                out.flush()
            if count is not None and printed >= count:
                break
    except CaptureError as exc:
        out.flush()
        click.echo(f"mipv6scope: {exc}", err=True)
        sys.exit(3)
    out.flush()
    click.echo(stream.counts.summary(), err=True)
    for path, issue in stream.capture_issues:
        click.echo(f"mipv6scope: {path}: {issue.code}: {issue.detail}", err=True)
    reasons = stream.counts.skip_reasons
    only_unsupported = (stream.counts.frames > 0 and stream.counts.skipped == stream.counts.frames
                        and all(r.startswith("unsupported link type") for r in reasons))
    if only_unsupported:
        click.echo(f"mipv6scope: no frame on a supported link type ({', '.join(reasons)})", err=True)
    if stream.capture_issues or only_unsupported:
        sys.exit(3)
