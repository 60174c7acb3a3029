"""`mipv6scope chart`: handoff sequence charts, binding timelines, handoff
statistics and a traffic overview, drawn with Plotly from the analysis Report.

The output format follows OUT's suffix (or ``--format``): .html, .json, .mmd
(text, `-o -` writes them to stdout), .svg/.png/.pdf (static, through kaleido
and the system's Chromium).

Exit codes: 0 ok; 1 the output could not be written (or no browser for a
static format); 2 usage (bad option, nothing to chart, a --mn or --handoff the
capture does not have); 3 a capture could not be read, or only in part (the
chart of what was read is written first); 4 internal error; 130 interrupted
(the chart of what was analysed is written first).
"""

from __future__ import annotations

import sys

import click

from ..charts.options import KINDS, ChartInputError, ChartOptions
from .output import (
    AnalysisOptions,
    CaptureState,
    analyse_captures,
    analysis_options,
    finish,
    select_mn,
)

EXIT_WRITE = 1
FORMATS = ("html", "json", "mmd", "svg", "png", "pdf")
TEXT_FORMATS = ("html", "json", "mmd")


def _positive(_ctx: click.Context, param: click.Parameter, value: float | None) -> float | None:
    if value is not None and not (0 < value < float("inf")):
        raise click.BadParameter(f"{value} is not a positive number of seconds", param=param)
    return value


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("-o", "--output", "out_path", required=True, metavar="OUT",
              help="Where to write the chart; its suffix picks the format (.html .svg .png .pdf "
                   ".mmd .json); '-' writes HTML (or --format html|json|mmd) to stdout.")
@click.option("--format", "fmt", type=click.Choice(FORMATS),
              help="Output format, when OUT's suffix does not say it (e.g. -o -).")
@click.option("--kind", type=click.Choice(KINDS), default="sequence", show_default=True,
              help="sequence: the handoff ladder of one node; timeline: bindings and route "
                   "optimisation per node; handoffs: registration/disruption/loss statistics; "
                   "overview: traffic, handoffs and findings over time.")
@click.option("--mn", multiple=True, metavar="HOA|NAME",
              help="Only this mobile node, by home address or --names name (repeatable).")
@click.option("--handoff", type=click.IntRange(min=1), metavar="N",
              help="sequence: the window around the node's Nth handoff (1-based).")
@click.option("--window", "window_s", type=float, default=3.0, show_default=True, callback=_positive,
              metavar="SECONDS", help="With --handoff: seconds shown before and after it.")
@analysis_options
@click.option("--width", type=click.IntRange(200, 20000), metavar="PX", help="Figure width in pixels.")
@click.option("--height", type=click.IntRange(200, 100000), metavar="PX", help="Figure height in pixels.")
@click.option("--title", metavar="TEXT", help="Figure title (default: what is drawn).")
@click.option("--plotlyjs", type=click.Choice(("inline", "cdn", "directory")), default="inline",
              show_default=True,
              help="HTML: embed plotly.js (works offline), link the CDN, or write plotly.min.js "
                   "beside OUT.")
def chart(captures: tuple[str, ...], out_path: str, fmt: str | None, kind: str, mn: tuple[str, ...],
          handoff: int | None, window_s: float, analysis: AnalysisOptions, width: int | None,
          height: int | None, title: str | None, plotlyjs: str) -> None:
    """Draw a chart of CAPTURE files to OUT (-o).

    \b
    Examples:
      mipv6scope chart capture.pcap -o handoff.html
      mipv6scope chart capture.pcap --mn car-17 --handoff 2 -o handoff2.png
      mipv6scope chart capture.pcap --kind timeline -o timeline.svg
      mipv6scope chart capture.pcap -o - --format mmd >> report.md

    \b
    Exit codes: 0 ok, 1 OUT not written (unwritable, no browser for
    svg/png/pdf), 2 usage error or nothing to chart, 3 unreadable or damaged
    capture (the chart of what could be read is written first), 4 internal
    error, 130 interrupted (the chart of what was analysed is written first).
    """
    # plotly and kaleido load only when a chart is drawn: the other commands start faster
    from ..charts.build import build_figure, build_mermaid
    from ..charts.export import BrowserMissing, StaticExportFailed, write_figure, write_text

    fmt = _output_format(out_path, fmt)
    options = ChartOptions(kind, mn, handoff, window_s, analysis.from_ts, analysis.to_ts, width,
                           height, title)
    report = analyse_captures(captures, analysis.names, analysis.require_ipsec,
                              vantage=analysis.vantage)
    select_mn(report, mn)  # a --mn naming no node: exit 2 with the closest names and addresses
    try:
        if fmt == "mmd":
            write_text(build_mermaid(report, options), out_path)
        else:
            write_figure(build_figure(report, options), out_path, fmt, plotlyjs=plotlyjs,
                         width=width, height=height)
    except ChartInputError as exc:
        raise click.UsageError(str(exc)) from None
    except (BrowserMissing, StaticExportFailed) as exc:
        click.echo(f"mipv6scope: {exc}", err=True)
        sys.exit(EXIT_WRITE)
    except BrokenPipeError:
        raise  # stdout's reader went away: main() ends quietly with 0
    except OSError as exc:
        click.echo(f"mipv6scope: cannot write {out_path}: {exc.strerror or exc}", err=True)
        sys.exit(EXIT_WRITE)
    finish(CaptureState.of(report))


def _output_format(out_path: str, fmt: str | None) -> str:
    """--format, else OUT's suffix; '-' takes text formats only (html by default)."""
    from ..charts.export import format_for

    if fmt is None:
        if out_path == "-":
            return "html"
        try:
            fmt = format_for(out_path)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="'-o'") from None
    if out_path == "-" and fmt not in TEXT_FORMATS:
        raise click.BadParameter(f"{fmt} cannot go to stdout: give a file name",
                                 param_hint="'-o'")
    return fmt
