"""`mipv6scope packets`: a Wireshark-like packet list, one JSON object per
frame, chosen fields per frame (``-T fields -e FIELD``, as tshark), or the
kept frames written to a capture file (``-w OUT``)."""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from decimal import Decimal
from ipaddress import IPv6Address
from typing import Any

import click

from ..analysis.engine import analyze
from ..capture.frame import CaptureError
from ..capture.write_frames import UnsupportedCapture, write_frames, write_merged
from ..decode.detail import build_detail, hex_dump
from ..decode.model import DecodedFrame
from ..decode.packet_list import format_row, packet_row
from ..decode.stream import DecodeStream
from ..filter import CompiledFilter, FieldSpec, FilterContext, FilterError, compile_filter
from ..filter.extract import Env
from ..filter.fields import BOOLEAN, FLOAT, PROTOCOL, lookup, nearest
from ..filter.help import field_table_text
from ..packet_filter import FrameFilter
from ..render.packet_record import frame_record
from .output import (
    EXIT_INTERRUPTED,
    EXIT_WRITE,
    esp_sa_option,
    names_option,
    no_pager_option,
    vantage_option,
)
from .progress import progress_line
from .stdin_capture import captures_from, live_input
from .terminal import paged

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


def _context(compiled: CompiledFilter | None, captures: tuple[str, ...],
             names: dict[IPv6Address, str], vantage: str = "auto") -> FilterContext:
    """Run the analysis for a filter (or -e fields) that uses analysis fields."""
    progress = progress_line()
    try:
        report = analyze(list(captures), names=names, progress=progress, vantage=vantage)
    except CaptureError as exc:
        click.echo(f"mipv6scope: {exc}", err=True)
        sys.exit(3)
    finally:
        if progress is not None:
            progress.close()
    context = FilterContext.from_report(report)
    if compiled is None:
        return context
    try:
        compiled.check_nodes(context)
    except FilterError as exc:
        _bad_filter(exc, compiled.text)
    return context


# tshark 4.0 prints these integer fields in hex (BASE_HEX), zero-padded to the field's width.
HEX_DIGITS = {"mip6.csum": 4, "esp.spi": 8}
_NS = Decimal("1e-9")
_E_OPTIONS = ("header", "separator", "quote", "occurrence", "aggregator")


@dataclass(frozen=True)
class FieldsOutput:
    """What ``-T fields -e ... -E ...`` asked for."""

    specs: tuple[FieldSpec, ...]
    separator: str = "\t"
    header: bool = False
    quote: str = ""
    occurrence: str = "a"
    aggregator: str = ","

    @property
    def needs_analysis(self) -> bool:
        """Whether an -e field comes from the analysis (mn, coa, ...)."""
        return any(s.needs_analysis for s in self.specs)

    def header_line(self) -> str:
        """The field names, as tshark's -E header=y prints them (never quoted)."""
        return self.separator.join(s.name for s in self.specs)

    def line(self, frame: DecodedFrame, env: Env) -> str:
        """One frame's values, fields separated, occurrences aggregated."""
        cells = []
        for spec in self.specs:
            texts = [field_text(spec, v, frame, env) for v in field_values(spec, frame, env)]
            texts = _occurrences(texts, self.occurrence)
            cell = self.aggregator.join(texts)
            cells.append(f"{self.quote}{cell}{self.quote}" if cell and self.quote else cell)
        return self.separator.join(cells)


def field_values(spec: FieldSpec, frame: DecodedFrame, env: Env) -> tuple[Any, ...]:
    """The values of ``spec`` in the frame, in tshark's tree order (ipv6.addr:
    source then destination of each header in turn, not all sources first)."""
    if spec.name == "ipv6.addr":
        src, dst = lookup("ipv6.src"), lookup("ipv6.dst")
        assert src is not None and dst is not None
        sources, destinations = src.getter(frame, env), dst.getter(frame, env)
        if len(sources) == len(destinations):
            return tuple(a for pair in zip(sources, destinations, strict=True) for a in pair)
    return spec.getter(frame, env)


def _occurrences(texts: list[str], which: str) -> list[str]:
    """The occurrences -E occurrence=f|l|a keeps (first, last, all)."""
    if which == "f":
        return texts[:1]
    if which == "l":
        return texts[-1:]
    return texts


def _seconds(value: float) -> Decimal:
    """A float time as the decimal it was read from (shortest repr, no binary noise)."""
    return Decimal(repr(float(value)))


def field_text(spec: FieldSpec, value: Any, frame: DecodedFrame, env: Env) -> str:
    """One value of ``spec`` as tshark -T fields prints it: integers in decimal
    (hex for tshark's hex fields), flags 1/0, times with 9 decimals, addresses
    compressed; a protocol present prints its name."""
    if spec.type == PROTOCOL:
        return spec.name
    if spec.name in HEX_DIGITS:
        return f"0x{int(value):0{HEX_DIGITS[spec.name]}x}"
    if spec.name == "frame.time_relative" and env.first_ts is not None:
        return f"{(_seconds(frame.ts) - _seconds(env.first_ts)).quantize(_NS):f}"
    if spec.type == FLOAT:
        return f"{_seconds(value).quantize(_NS):f}"
    if spec.type == BOOLEAN:
        return "1" if value else "0"
    return str(value)


def _escape(text: str) -> str:
    """tshark's -E escapes: /t a tab, /s a space."""
    return {"/t": "\t", "/s": " "}.get(text, text)


def _fields_output(tmode: str | None, names: tuple[str, ...], eopts: tuple[str, ...]) -> FieldsOutput | None:
    """``-T fields -e ... -E ...`` checked: None without -T fields; usage errors (exit 2)."""
    if tmode != "fields":
        if names:
            raise click.UsageError("-e FIELD needs -T fields")
        if eopts:
            raise click.UsageError("-E needs -T fields")
        return None
    if not names:
        raise click.UsageError("-T fields needs at least one -e FIELD")
    specs = []
    for name in names:
        spec = lookup(name)
        if spec is None:
            near = nearest(name)
            hint = f" (closest: {', '.join(near)})" if near else ""
            raise click.UsageError(f"-e {name}: no such field{hint}; see --list-fields")
        specs.append(spec)
    options: dict[str, Any] = {}
    for item in eopts:
        key, eq, value = item.partition("=")
        if not eq or key not in _E_OPTIONS:
            raise click.UsageError(f"-E {item}: expected one of "
                                   f"{', '.join(k + '=...' for k in _E_OPTIONS)}")
        if key == "header":
            if value not in ("y", "n"):
                raise click.UsageError(f"-E {item}: header is y or n")
            options["header"] = value == "y"
        elif key == "quote":
            if value not in ("d", "s", "n"):
                raise click.UsageError(f"-E {item}: quote is d, s or n")
            options["quote"] = {"d": '"', "s": "'", "n": ""}[value]
        elif key == "occurrence":
            if value not in ("f", "l", "a"):
                raise click.UsageError(f"-E {item}: occurrence is f, l or a")
            options["occurrence"] = value
        else:
            if not value:
                raise click.UsageError(f"-E {item}: empty {key}")
            options[key] = _escape(value)
    return FieldsOutput(tuple(specs), **options)


def _write_check(out_file: str | None, fields: FieldsOutput | None, fmt: str, detail: bool,
                 hex_bytes: bool) -> None:
    """-w: a capture file or stdout, nothing else printed; usage errors (exit 2)."""
    if out_file is None:
        return
    if out_file == "-" and sys.stdout.isatty():
        raise click.UsageError("-w -: not writing a capture to a terminal; pipe or redirect stdout")
    if fields is not None or fmt != "text" or detail or hex_bytes:
        raise click.UsageError("-w prints nothing: -T fields, --format jsonl, -V and -x do not apply")


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
@esp_sa_option
@vantage_option
@click.option("-V", "--detail", is_flag=True,
              help="text: after each frame, its detail tree (every layer, tunnel level, "
                   "extension header, MH field and option), like tshark -V.")
@click.option("-x", "--hex", "hex_bytes", is_flag=True,
              help="text: after each frame, its bytes in hex and ASCII, like tshark -x.")
@click.option("-T", "tmode", type=click.Choice(["text", "fields"]), metavar="text|fields",
              help="fields: one line per frame with the -e fields' values, as tshark -T fields "
                   "(text: the packet list; --format jsonl for JSON).")
@click.option("-e", "field_names", multiple=True, metavar="FIELD",
              help="-T fields: a field to print (filter field names, see --list-fields; repeatable).")
@click.option("-E", "field_options", multiple=True, metavar="OPT=VALUE",
              help="-T fields: header=y|n, separator=/t|/s|CHAR (default tab), quote=d|s|n, "
                   "occurrence=f|l|a, aggregator=,|/s|CHAR (default ',').")
@click.option("-w", "out_file", metavar="OUT",
              help="Write the kept frames to OUT ('-' is stdout) instead of printing them: one "
                   "CAPTURE keeps its format and records (pcap in, pcap out; pcapng in, pcapng "
                   "out); several are merged in time order, as pcap when they share one link "
                   "type, else pcapng with one interface per link type. Replaces OUT, never "
                   "through a symlink.")
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
@no_pager_option
def packets(captures: tuple[str, ...], display_filter: str | None,
            names: dict[IPv6Address, str], fmt: str, mobility_only: bool,
            mh_type: tuple[str, ...], address: str | None, with_issues: bool, no_skipped: bool,
            count: int | None, time_mode: str, detail: bool, hex_bytes: bool,
            tmode: str | None = None, field_names: tuple[str, ...] = (),
            field_options: tuple[str, ...] = (), out_file: str | None = None,
            no_pager: bool = False, vantage: str = "auto") -> None:
    """List the frames of CAPTURE files with their Mobile IPv6 fields decoded.

    Files are read in the order given. A summary of how many frames were
    decoded, skipped (and why) or malformed goes to stderr. -Y keeps the
    frames a display filter matches (with the other filters, by AND); a
    filter on analysis fields (mn, lost, ...) analyses the captures first.

    -T fields -e FIELD prints the chosen fields of each kept frame, like
    tshark -T fields. -w OUT writes the kept frames to a capture file of the
    input's format (all or nothing) and prints only the summary.

    \b
    Exit codes: 0 ok, 1 OUT cannot be written, 2 usage error, 3 unreadable
    capture or read only in part (truncated/corrupt: the frames before the
    damage are listed or written first), 4 internal error, 130 interrupted
    (Ctrl-C: the frames so far are listed; -w writes nothing).
    """
    fields = _fields_output(tmode, field_names, field_options)
    _write_check(out_file, fields, fmt, detail, hex_bytes)
    frame_filter = FrameFilter(mobility_only=mobility_only, mh_types=_parse_mh_types(mh_type),
                               address=_parse_address(address), with_issues=with_issues,
                               include_skipped=not no_skipped)
    compiled = _compile(display_filter)
    wants_analysis = (compiled is not None and compiled.needs_analysis) or (
        fields is not None and fields.needs_analysis)
    # stdin streams unless it has to be read twice (an analysis first, or -w copying records)
    with captures_from(captures, spool=wants_analysis or out_file is not None) as paths:
        context = _context(compiled, tuple(paths), names, vantage) if wants_analysis else None
        listing = _Listing(fields, fmt, time_mode, detail, hex_bytes, count)
        with paged(not no_pager and out_file is None):
            kept, stream, interrupted = listing.run(paths, list(captures), frame_filter, compiled,
                                                    context, out_file is not None)
        if out_file is not None and not interrupted:
            _write_kept(paths, kept, out_file)
    _finish(stream, interrupted, dict(zip(paths, captures, strict=True)))


@dataclass
class _Listing:
    """How kept frames are printed (or only remembered, for -w)."""

    fields: FieldsOutput | None
    fmt: str
    time_mode: str
    detail: bool
    hex_bytes: bool
    count: int | None

    def run(self, paths: list[str], given: list[str], frame_filter: FrameFilter,
            compiled: CompiledFilter | None,
            context: FilterContext | None, remember: bool
            ) -> tuple[set[tuple[int, int]], DecodeStream, bool]:
        """Read ``paths`` in order, printing the kept frames (or, with
        ``remember``, noting them as (input index, frame number)); returns
        (those, the stream with its counts, whether Ctrl-C stopped it).
        ``given``: the captures as the user named them (``-``), for the file labels."""
        fields = self.fields
        kept: set[tuple[int, int]] = set()
        stream = DecodeStream(paths)
        out = sys.stdout
        live = live_input(paths)  # a pipe: each frame is shown as it arrives (as tshark -l)
        printed = 0
        source = -1
        origin = first_ts = 0.0
        if fields is not None and fields.header:
            out.write(fields.header_line() + "\n")
        try:
            for frame, raw in stream.with_frames():
                if raw.number == 1:  # each file numbers from 1; relative times restart too
                    source += 1
                    first_ts = frame.ts
                    origin = frame.ts if self.time_mode == "relative" else 0.0
                if frame.file is not None:
                    frame.file = given[source]
                if not frame_filter.keeps(frame):
                    continue
                if compiled is not None and not compiled.matches(frame, context, data=raw.data,
                                                                 first_ts=first_ts):
                    continue
                if remember:
                    kept.add((source, raw.number))
                elif fields is not None:
                    out.write(fields.line(frame, Env(context, raw.data, first_ts)) + "\n")
                elif self.fmt == "jsonl":
                    out.write(json.dumps(frame_record(frame), separators=(",", ":")) + "\n")
                else:
                    self._text(out, frame, raw, origin)
                printed += 1
                if live or printed % 64 == 0:
                    out.flush()
                if self.count is not None and printed >= self.count:
                    break
        except CaptureError as exc:
            out.flush()
            click.echo(f"mipv6scope: {exc}", err=True)
            sys.exit(3)
        except KeyboardInterrupt:
            out.flush()
            return kept, stream, True
        out.flush()
        return kept, stream, False

    def _text(self, out: Any, frame: DecodedFrame, raw: Any, origin: float) -> None:
        out.write(format_row(packet_row(frame, origin)) + "\n")
        if self.detail:
            for layer in build_detail(raw, frame):
                out.write("\n".join(layer.lines()) + "\n")
        if self.hex_bytes:
            out.write("\n".join(hex_dump(raw.data)) + "\n")
        if self.detail or self.hex_bytes:
            out.write("\n")


def _finish(stream: DecodeStream, interrupted: bool, shown: dict[str, str]) -> None:
    """The counts and capture issues (files named as ``shown`` maps them) on stderr; exit 130 when interrupted, 3
    when a capture was damaged or had no frame on a supported link type."""
    counts, capture_issues = stream.counts, stream.capture_issues
    click.echo(counts.summary(), err=True)
    for path, issue in capture_issues:
        click.echo(f"mipv6scope: {shown.get(path, path)}: {issue.code}: {issue.detail}", err=True)
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


def _write_kept(paths: list[str], kept: set[tuple[int, int]], out_file: str) -> None:
    """-w: the kept frames to ``out_file`` (one input: its own records; several:
    merged in time order); exit 1 when it cannot be written."""
    try:
        if len(paths) == 1:
            write_frames(paths[0], {number for _source, number in kept}, out_file)
        else:
            written, fmt = write_merged(paths, kept, out_file)
            click.echo(f"mipv6scope: -w: {written} frames of {len(paths)} captures merged "
                       f"in time order as {fmt}", err=True)
    except UnsupportedCapture as exc:
        click.echo(f"mipv6scope: {exc}", err=True)
        sys.exit(3)
    except BrokenPipeError:
        raise
    except OSError as exc:
        click.echo(f"mipv6scope: cannot write {out_file}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_WRITE)
