"""`mipv6scope samples`: (re)write the bundled sample captures, or check them."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import click

from ..safe_text import visible
from ..synth.samples import write_samples

README_TITLE = "# Sample captures"  # the first line of the README `samples` writes


def _refusal(out: Path, force: bool) -> str | None:
    """Why ``samples`` will not write into ``out`` (one line), or None."""
    if out.is_symlink():
        return "is a symlink; refusing to write through it (give the folder it points to)"
    if force or not out.is_dir():
        return None
    if not any(out.iterdir()):
        return None
    readme = out / "README.md"
    try:
        ours = readme.is_file() and not readme.is_symlink() and \
            readme.read_text(encoding="utf-8", errors="replace").startswith(README_TITLE)
    except OSError:
        ours = False
    if ours:
        return None
    return "holds files but is not a samples folder (no README.md from `samples`); pass --force to write into it"


@click.command()
@click.argument("out_dir", default="sample_captures", type=click.Path(file_okay=False))
@click.option("--check", is_flag=True,
              help="Write nothing; exit 1 if any file in OUT_DIR differs from what would be written.")
@click.option("--force", is_flag=True,
              help="Write into OUT_DIR even when it holds files but is not a samples folder.")
def samples(out_dir: str, check: bool, force: bool) -> None:
    """Write the sample captures and their README into OUT_DIR (default: sample_captures).

    Also the handoff scenario's sequence chart, as Mermaid text and as the
    PNG the README shows (the PNG needs Chromium; see `mipv6scope chart`),
    and the terminal UI's main screen on it as Textual's SVG screenshot
    (tui-main.svg, 120x40). The same version of mipv6scope always writes the
    same bytes, but for the PNG, which the browser rasterises: --check only
    checks its size; and for the SVG, whose styling follows the Textual
    version: --check compares the screen it shows, line by line.

    Each file is written to a temporary file and renamed when complete, and
    the samples' own files in OUT_DIR are replaced (that is what this is for).
    It refuses, with one line: OUT_DIR or any file it writes being a symlink,
    and a non-empty OUT_DIR that is not a samples folder (no README.md that
    `samples` wrote) unless --force.

    Exit codes: 0 ok, 1 a file is stale (--check), may not or could not be
    written, or the PNG or the SVG could not be drawn.
    """
    from ..charts import samples as charts
    from ..tui import screenshot

    if not check:
        refusal = _refusal(Path(out_dir), force)
        if refusal:
            click.echo(f"mipv6scope samples: {visible(out_dir)} {refusal}", err=True)
            sys.exit(1)
        try:
            for path in write_samples(out_dir):
                click.echo(visible(str(path)))
            click.echo(visible(str(charts.write_mermaid_sample(out_dir))))
            click.echo(visible(str(charts.write_png_sample(out_dir))))
        except RuntimeError as exc:  # BrowserMissing, StaticExportFailed: one line each
            click.echo(f"mipv6scope: {charts.PNG} not written: {exc}", err=True)
            sys.exit(1)
        except OSError as exc:  # a symlink at a sample's name, a read-only folder ...
            where = exc.filename if exc.filename is not None else out_dir
            click.echo(f"mipv6scope samples: cannot write {visible(str(where))}: "
                       f"{exc.strerror or exc}", err=True)
            sys.exit(1)
        try:
            click.echo(visible(str(screenshot.write_tui_sample(out_dir))))
        except (RuntimeError, OSError) as exc:  # the UI did not settle, a symlink at its name ...
            click.echo(f"mipv6scope: {screenshot.SVG} not written: {exc}", err=True)
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
    try:
        if screenshot.tui_sample_stale(out_dir):
            stale.append(screenshot.SVG)
    except (RuntimeError, OSError) as exc:  # no handoff sample to draw it from, or it did not settle
        click.echo(f"mipv6scope: {screenshot.SVG} not checked: {exc}", err=True)
        stale.append(screenshot.SVG)
    if stale:
        click.echo(f"stale or missing in {out_dir}: {', '.join(stale)} "
                   f"(run: mipv6scope samples {out_dir})", err=True)
        sys.exit(1)
    click.echo(f"{out_dir}: all samples up to date")
