"""`mipv6scope summary` and `mipv6scope report`: views over the analysis Report.

Both run the engine once (`analysis.engine.analyze`) and render the Report
only. Exit codes: 0 ok; 1 a finding of the ``--fail-on`` severity or worse;
2 usage; 3 a capture could not be read, or only in part; 130 interrupted
(what was analysed is written first, marked partial); 4 internal error.
"""

from __future__ import annotations

import functools
import json
import sys

import click

from ..render.summary_text import render_summary, summary_records
from .output import (
    FORMATS,
    CaptureState,
    OutputOptions,
    fail_on_hit,
    finish,
    output_options,
    run_analysis,
    with_meta,
    write_csv_meta,
    write_output,
    write_records,
)

EXIT_USAGE = 2
EXIT_HELP = ("\b\nExit codes: 0 ok, 1 --fail-on hit, 2 usage error, 3 unreadable or\n"
             "damaged capture (what could be read is written first), 4 internal\n"
             "error, 130 interrupted (Ctrl-C: what was analysed is written, marked\n"
             "partial).")


@click.command()
@click.argument("captures", nargs=-1, required=True, type=click.Path(dir_okay=False))
@output_options
def summary(captures: tuple[str, ...], out: OutputOptions) -> None:
    """Summarise CAPTURE files: counts, nodes by role, one line per mobile node,
    top findings.

    Several files are merged by time; a packet seen in two of them counts once.
    json/jsonl/csv give one record per mobile node; when the capture was
    interrupted or damaged, json/jsonl end with a {"_meta": {"partial": ...,
    "capture_issues": [...]}} record and csv with '# ' comment lines.
    """
    report = run_analysis(captures, out)
    state = CaptureState.of(report)
    if out.fmt == "text":
        sys.stdout.write(render_summary(report))
    else:
        write_records(list(with_meta(summary_records(report), out.fmt, state)), out.fmt)
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
@functools.partial(output_options, formats=(*FORMATS, "html"))
def report(captures: tuple[str, ...], out_path: str, plotlyjs: str, out: OutputOptions) -> None:
    """The whole analysis of CAPTURE files as one JSON document (with
    schema_version): capture, mobile_nodes, tunnels, findings, roles; or, with
    --format html, one self-contained page with the summary, the per-node
    tables, the findings and the four charts (for a ticket).

    Only --format json (or text, the same document) or html make sense here.
    capture.partial says the pass was interrupted, capture.capture_issues
    what damage was met. 1 also means OUT could not be written.
    """
    if out.fmt in ("jsonl", "csv"):
        raise click.UsageError(f"report is one JSON document: use --format json, not {out.fmt}")
    if plotlyjs == "directory" and out_path == "-":
        raise click.BadParameter("--plotlyjs directory needs a file to write beside: give -o OUT",
                                 param_hint="'--plotlyjs'")
    result = run_analysis(captures, out)
    if out.fmt == "html":
        from ..charts.report_page import report_page  # plotly loads only for the page
        text = report_page(result, plotlyjs=plotlyjs)
    else:
        text = json.dumps(result.to_dict(), indent=2) + "\n"
    write_output(text, out_path, plotlyjs_beside=out.fmt == "html" and plotlyjs == "directory")
    finish(CaptureState.of(result), fail_on_hit(result, out.fail_on))


for _command in (summary, report):
    _command.help = (_command.help or "") + "\n\n" + EXIT_HELP
