"""`mipv6scope samples`: (re)write the bundled sample captures, or check them."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from ..synth.samples import write_samples


@click.command()
@click.argument("out_dir", default="sample_captures", type=click.Path(file_okay=False))
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if any file in OUT_DIR differs from what would be written.")
def samples(out_dir: str, check: bool) -> None:
    """Write the sample captures and their README into OUT_DIR (default: sample_captures).

    Also the handoff scenario's sequence chart, as Mermaid text and as the
    PNG the README shows (the PNG needs Chromium; see `mipv6scope chart`).
    The same version of mipv6scope always writes the same bytes, but for the
    PNG, which the browser rasterises: --check only checks its size.

    Exit codes: 0 ok, 1 a file is stale (--check) or the PNG could not be drawn.
    """
    from ..charts import samples as charts

    if not check:
        for path in write_samples(out_dir):
            click.echo(str(path))
        click.echo(str(charts.write_mermaid_sample(out_dir)))
        try:
            click.echo(str(charts.write_png_sample(out_dir)))
        except RuntimeError as exc:  # BrowserMissing, StaticExportFailed: one line each
            click.echo(f"mipv6scope: {charts.PNG} not written: {exc}", err=True)
            sys.exit(1)
        return
    with tempfile.TemporaryDirectory() as tmp:
        written = write_samples(tmp) + [charts.write_mermaid_sample(tmp)]
        stale = [p.name for p in written
                 if not (Path(out_dir) / p.name).is_file()
                 or (Path(out_dir) / p.name).read_bytes() != p.read_bytes()]
    png = Path(out_dir) / charts.PNG
    if charts.png_size(png.read_bytes() if png.is_file() else b"") != charts.PNG_SIZE:
        stale.append(charts.PNG)
    if stale:
        click.echo(f"stale or missing in {out_dir}: {', '.join(stale)} "
                   f"(run: mipv6scope samples {out_dir})", err=True)
        sys.exit(1)
    click.echo(f"{out_dir}: all samples up to date")
