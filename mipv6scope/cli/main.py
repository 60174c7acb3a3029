"""The `mipv6scope` command group and its shared error handling.

Exit codes: 0 ok; 1 `--fail-on` hit (summary, report); 2 usage error; 3 a
capture could not be read, or (packets) was read only in part (truncated or corrupt).
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from .analysis_commands import report, summary
from .chart import chart
from .packets import packets
from .samples import samples
from .synth import synth
from .views import VIEW_COMMANDS

EXIT_OK = 0
EXIT_USAGE = 2
EXIT_CAPTURE = 3


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="mipv6scope")
def cli() -> None:
    """Analyze Mobile IPv6 packet captures (pcap, pcapng, gzip-compressed).

    \b
    Exit codes:
      0  success
      1  summary/report/views: a finding of the --fail-on severity or worse;
         chart: the output could not be written
      2  usage error (bad option or argument)
      3  a capture could not be read, or only in part (truncated/corrupt)
    """


cli.add_command(packets)
cli.add_command(summary)
cli.add_command(report)
cli.add_command(samples)
cli.add_command(synth)
cli.add_command(chart)
for _view in VIEW_COMMANDS:
    cli.add_command(_view)


def main() -> None:
    """Console-script entry point."""
    try:
        cli(standalone_mode=True)
    except BrokenPipeError:
        # The reader of our output (e.g. `head`) went away: not an error.
        sys.stderr.close()
        sys.exit(EXIT_OK)
