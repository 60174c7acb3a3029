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

    The same version of mipv6scope always writes the same bytes.
    """
    if not check:
        for path in write_samples(out_dir):
            click.echo(str(path))
        return
    with tempfile.TemporaryDirectory() as tmp:
        stale = [p.name for p in write_samples(tmp)
                 if not (Path(out_dir) / p.name).is_file()
                 or (Path(out_dir) / p.name).read_bytes() != p.read_bytes()]
    if stale:
        click.echo(f"stale or missing in {out_dir}: {', '.join(stale)} "
                   f"(run: mipv6scope samples {out_dir})", err=True)
        sys.exit(1)
    click.echo(f"{out_dir}: all samples up to date")
