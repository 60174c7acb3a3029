"""The output side of `mipv6scope chart`: HTML and JSON byte-stable, static
images through kaleido and Chromium, BrowserMissing, and the HTML opened in
headless Chromium as a user sees it."""

from __future__ import annotations

import base64
import gzip
import io
import json
import os
import re
import stat
import subprocess
import sys
import threading
from pathlib import Path

import plotly.graph_objects as go
import pytest
from plotly.offline import get_plotlyjs

from mipv6scope.charts.export import (
    BROWSER_ENV,
    DEFAULT_DIV_ID,
    INSTALL_HINT,
    PLOTLYJS_DATA_ID,
    BrowserMissing,
    embedded_plotlyjs,
    figure_div,
    figure_html,
    figure_json,
    format_for,
    plotlyjs_head,
    write_figure,
    write_html,
    write_json,
    write_static,
    write_text,
)
from tests.charts.browser import (
    ChromiumError,
    count_pixels,
    hex_rgb,
    open_in_chromium,
    pixel_columns_with,
    pixel_rows_with,
    png_size,
    runs,
    skip_without_chromium,
    vertical_lanes,
)

REPO = Path(__file__).resolve().parents[2]
RED, BLUE, GREEN = "#d62728", "#1f77b4", "#2ca02c"
WIDTH, HEIGHT = 640, 400
VIEWPORT = (WIDTH + 40, HEIGHT + 40)  # the page's body margin moves the chart by 8 px
LANES = ((0.4, 0.6), (1.4, 1.6), (2.4, 2.6))
PURPLE = "#9467bd"
INLINE_MAX_BYTES = 2_500_000  # plotly.min.js alone is 4.8 MB; gzip + base64 makes it 2 MB
# the data block that holds plotly.js: gzip, then base64 (nothing else in it)
DATA_BLOCK = re.compile(rf'<script type="application/octet-stream" id="{PLOTLYJS_DATA_ID}">'
                        r"([^<]*)</script>")


def sample_figure() -> go.Figure:
    """Two traces, three green handoff lanes, an annotation: small but real."""
    fig = go.Figure()
    fig.add_trace(go.Scatter(name="mn1", x=[0, 1, 2, 3], y=[1, 1, 1, 1],
                             mode="lines+markers", line={"color": RED, "width": 6}))
    fig.add_trace(go.Scatter(name="mn2", x=[0, 1, 2, 3], y=[2, 3, 2, 3],
                             mode="lines", line={"color": BLUE, "width": 3}))
    for x0, x1 in LANES:
        # layer="between" would fail inside plotly.js 4.1 ("reading 'append'")
        fig.add_vrect(x0=x0, x1=x1, fillcolor=GREEN, opacity=1, line_width=0, layer="below")
    fig.add_annotation(x=1.5, y=3, text="handoff 2", showarrow=True, arrowhead=2)
    fig.update_layout(width=WIDTH, height=HEIGHT, title="export test", template="plotly_white",
                      margin={"l": 50, "r": 120, "t": 50, "b": 40},
                      xaxis={"range": [0, 3], "showgrid": False}, yaxis={"range": [0, 4]})
    return fig


def written(tmp_path: Path, name: str, **opts) -> bytes:
    path = tmp_path / name
    write_html(sample_figure(), path, **opts)
    return path.read_bytes()


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_export_loads_no_ui_library_and_kaleido_only_when_asked():
    code = ("import sys, mipv6scope.charts.export\n"
            "print(sorted(m for m in ('textual', 'click', 'rich', 'kaleido', 'choreographer')"
            " if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True,
                          text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"


# -- formats --------------------------------------------------------------------

@pytest.mark.parametrize(("name", "fmt"), [
    ("a.html", "html"), ("b.HTM", "html"), ("c.svg", "svg"), ("d.png", "png"),
    ("e.pdf", "pdf"), ("f.mmd", "mmd"), ("dir/g.json", "json"),
])
def test_format_for_suffix(name, fmt):
    assert format_for(name) == fmt
    assert format_for(Path(name)) == fmt


@pytest.mark.parametrize("name", ["chart.jpg", "chart", "-", "chart.html.gz"])
def test_format_for_unknown_suffix_is_one_clear_line(name):
    with pytest.raises(ValueError) as caught:
        format_for(name)
    message = str(caught.value)
    assert "\n" not in message
    for suffix in (".html", ".htm", ".svg", ".png", ".pdf", ".mmd", ".json"):
        assert suffix in message


# -- HTML -----------------------------------------------------------------------

def test_html_is_offline_and_the_same_bytes_twice(tmp_path):
    first, second = written(tmp_path, "1.html"), written(tmp_path, "2.html")
    assert first == second
    text = first.decode()
    # booleans, not `in` or `==` on MB strings: pytest would print them whole
    assert (f'id="{DEFAULT_DIV_ID}"' in text) is True
    assert (embedded_plotlyjs(text) == get_plotlyjs()) is True  # works offline
    assert re.findall(r"<script[^>]*\ssrc=", text) == []  # nothing to fetch
    assert leftovers(tmp_path) == []


def test_inline_page_of_a_tiny_figure_is_small(tmp_path):
    tiny = go.Figure(go.Scatter(x=[0, 1], y=[0, 1]))
    write_html(tiny, tmp_path / "tiny.html")
    size = (tmp_path / "tiny.html").stat().st_size
    assert size < INLINE_MAX_BYTES
    assert size < len(get_plotlyjs().encode()) / 2


def test_inline_plotlyjs_unpacks_to_exactly_the_installed_bundle():
    """Decoded here as the loader does in the browser: base64, then gzip."""
    page = figure_html(sample_figure())
    blocks = DATA_BLOCK.findall(page)
    assert len(blocks) == 1
    packed = base64.b64decode(blocks[0], validate=True)
    assert packed[:4] == b"\x1f\x8b\x08\x00" and packed[4:8] == b"\0\0\0\0"  # gzip, mtime 0
    unpacked = gzip.decompress(packed)
    assert (unpacked == get_plotlyjs().encode("utf-8")) is True
    assert (embedded_plotlyjs(page) == get_plotlyjs()) is True
    # the loader unpacks that block with the browser's gzip and draws only after it
    assert 'new DecompressionStream("gzip")' in page
    assert page.index(PLOTLYJS_DATA_ID) < page.index("Plotly.newPlot")
    assert "mipv6scopePlotly || Promise.resolve(window.Plotly)).then(function () {" in page
    with pytest.raises(ValueError, match="no embedded plotly.js"):
        embedded_plotlyjs(figure_html(sample_figure(), "cdn"))


def test_plotlyjs_head_and_figure_div_make_the_page():
    for mode in ("inline", "cdn", "directory"):
        head = plotlyjs_head(mode)
        assert head == plotlyjs_head(mode) and "window.mipv6scopePlotly = " in head
        assert (head in figure_html(sample_figure(), mode)) is True
    assert figure_div(sample_figure()) in figure_html(sample_figure())
    with pytest.raises(ValueError, match="inline, cdn, directory"):
        plotlyjs_head("require")
    div = figure_div(sample_figure(), "chart-a", config={"displaylogo": False, "responsive": True})
    assert div.startswith('<div style="height:400px; width:640px;">') and div.endswith("</div>\n")
    assert '<div id="chart-a" class="plotly-graph-div"' in div
    assert '{"displaylogo": false, "responsive": true}' in div
    assert div.count("<script>") == div.count("</script>") == 1


def test_html_is_the_same_bytes_in_fresh_processes(tmp_path):
    script = ("import sys\n"
              "from mipv6scope.charts.export import write_html\n"
              "from tests.charts.test_export import sample_figure\n"
              "write_html(sample_figure(), sys.argv[1])\n")
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"seed{seed}.html"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run([sys.executable, "-c", script, str(out)], cwd=REPO, env=env,
                       check=True, timeout=120)
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == written(tmp_path, "here.html")


def test_html_to_a_stream_matches_the_file(tmp_path):
    text_stream, byte_stream = io.StringIO(), io.BytesIO()
    write_html(sample_figure(), text_stream)
    write_html(sample_figure(), byte_stream)
    from_file = written(tmp_path, "f.html")
    assert text_stream.getvalue().encode() == byte_stream.getvalue() == from_file


def test_html_cdn_loads_plotly_from_the_cdn(tmp_path):
    page = written(tmp_path, "cdn.html", plotlyjs="cdn")
    assert page == written(tmp_path, "cdn2.html", plotlyjs="cdn")
    assert b'src="https://cdn.plot.ly/' in page
    assert len(page) < 200_000  # the bundle is not embedded


def test_html_directory_writes_the_bundle_beside_it(tmp_path, chromium):
    (tmp_path / "plotly.min.js").write_text("stale")
    page = written(tmp_path, "dir.html", plotlyjs="directory")
    assert b'<script charset="utf-8" src="plotly.min.js"></script>' in page
    assert (tmp_path / "plotly.min.js").read_text(encoding="utf-8") == get_plotlyjs()
    view = chromium.open(tmp_path / "dir.html", *VIEWPORT)
    assert view.console_errors == []
    assert count_pixels(view.png, hex_rgb(RED), tolerance=8) > 500


def test_html_directory_refuses_a_stream():
    with pytest.raises(ValueError, match="stdout"):
        write_html(sample_figure(), io.StringIO(), plotlyjs="directory")


def test_html_rejects_an_unknown_plotlyjs_mode(tmp_path):
    with pytest.raises(ValueError, match="inline, cdn, directory"):
        write_html(sample_figure(), tmp_path / "x.html", plotlyjs="require")
    assert list(tmp_path.iterdir()) == []


# -- JSON -----------------------------------------------------------------------

def test_json_round_trips_and_is_byte_stable(tmp_path):
    fig = sample_figure()
    write_json(fig, tmp_path / "a.json")
    write_json(sample_figure(), tmp_path / "b.json")
    text = (tmp_path / "a.json").read_bytes()
    assert text == (tmp_path / "b.json").read_bytes() and text.endswith(b"\n")
    loaded = json.loads(text)
    assert list(loaded) == sorted(loaded)
    again = go.Figure(loaded)
    assert again.to_dict() == fig.to_dict()
    assert figure_json(again) == text.decode()
    assert [t["line"]["color"] for t in loaded["data"]] == [RED, BLUE]
    assert len(loaded["layout"]["shapes"]) == len(LANES)


def test_json_indent_is_still_sorted_and_stable():
    pretty = figure_json(sample_figure(), indent=1)
    assert pretty == figure_json(sample_figure(), indent=1)
    assert json.loads(pretty) == json.loads(figure_json(sample_figure()))
    assert pretty.count("\n") > 100


def test_files_are_replaced_whole_keeping_mode(tmp_path):
    target = tmp_path / "real.json"
    target.write_text("old")
    target.chmod(0o640)
    write_json(sample_figure(), target)
    assert target.read_text() == figure_json(sample_figure())
    assert target.stat().st_mode & 0o777 == 0o640
    assert leftovers(tmp_path) == []


def test_a_symlink_is_refused_not_written_through(tmp_path):
    from mipv6scope.outfile import SymlinkRefused

    target = tmp_path / "real.json"
    target.write_text("old")
    link = tmp_path / "link.json"
    link.symlink_to(target)
    with pytest.raises(SymlinkRefused, match="symlink"):
        write_json(sample_figure(), link)
    assert link.is_symlink() and target.read_text() == "old"
    assert leftovers(tmp_path) == []


def test_a_fifo_is_written_not_renamed_over(tmp_path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    write_json(sample_figure(), fifo)
    reader.join(10)
    assert got == [figure_json(sample_figure()).encode()]
    assert stat.S_ISFIFO(fifo.stat().st_mode)


# -- write_figure -----------------------------------------------------------------

def test_write_figure_html_and_json_to_stdout(capsys):
    write_figure(sample_figure(), "-", "html")
    assert capsys.readouterr().out == figure_html(sample_figure())
    write_figure(sample_figure(), "-", "json")
    assert capsys.readouterr().out == figure_json(sample_figure())


@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_write_figure_refuses_static_formats_on_stdout(fmt, capsys):
    with pytest.raises(ValueError, match="stdout"):
        write_figure(sample_figure(), "-", fmt)
    assert capsys.readouterr().out == ""


def test_write_figure_to_files_ignores_options_of_other_formats(tmp_path):
    cli_options = {"plotlyjs": "cdn", "width": 300, "height": 200}
    write_figure(sample_figure(), str(tmp_path / "c.html"), "html", **cli_options)
    write_figure(sample_figure(), str(tmp_path / "c.json"), "json", **cli_options)
    assert (tmp_path / "c.html").read_bytes() == written(tmp_path, "d.html", plotlyjs="cdn")
    assert (tmp_path / "c.json").read_text() == figure_json(sample_figure())
    with pytest.raises(ValueError, match="Mermaid"):
        write_figure(sample_figure(), str(tmp_path / "c.mmd"), "mmd")
    with pytest.raises(ValueError, match="unknown chart format"):
        write_figure(sample_figure(), str(tmp_path / "c.gif"), "gif")
    with pytest.raises(TypeError):
        write_figure(sample_figure(), str(tmp_path / "c.html"), "html", colour="red")


def test_write_text_to_a_file_and_stdout(tmp_path, capsys):
    write_text("sequenceDiagram\n  MN->>HA: BU\n", str(tmp_path / "c.mmd"))
    assert (tmp_path / "c.mmd").read_text() == "sequenceDiagram\n  MN->>HA: BU\n"
    write_text("graph LR\n", "-")
    assert capsys.readouterr().out == "graph LR\n"
    assert leftovers(tmp_path) == []


# -- static images ----------------------------------------------------------------

def test_png_has_the_asked_size_and_shows_the_figure(tmp_path, static_exporter):
    out = tmp_path / "chart.png"
    write_static(sample_figure(), out, "png", width=300, height=200, scale=2,
                 exporter=static_exporter)
    png = out.read_bytes()
    assert png_size(png) == (600, 400)
    assert count_pixels(png, hex_rgb(RED), tolerance=8) > 500
    assert len(vertical_lanes(png, hex_rgb(GREEN), tolerance=8, min_pixels=20)) == len(LANES)
    assert leftovers(tmp_path) == []


def test_png_size_defaults_to_the_layout(tmp_path, static_exporter):
    write_figure(sample_figure(), str(tmp_path / "c.png"), "png", plotlyjs="cdn",
                 exporter=static_exporter)
    assert png_size((tmp_path / "c.png").read_bytes()) == (WIDTH, HEIGHT)


def test_svg_and_pdf(tmp_path, static_exporter):
    write_static(sample_figure(), tmp_path / "c.svg", "svg", 300, 200,
                 exporter=static_exporter)
    write_static(sample_figure(), tmp_path / "c.pdf", "pdf", 300, 200,
                 exporter=static_exporter)
    svg = (tmp_path / "c.svg").read_bytes()
    assert svg.startswith(b"<svg") and svg.rstrip().endswith(b"</svg>")
    assert b'width="300"' in svg and b'height="200"' in svg
    assert b"handoff 2" in svg and b"rgb(44, 160, 44)" in svg
    pdf = (tmp_path / "c.pdf").read_bytes()
    assert pdf.startswith(b"%PDF-") and pdf.rstrip().endswith(b"%%EOF")
    assert leftovers(tmp_path) == []


def test_static_export_alone_in_a_process_prints_nothing(tmp_path):
    """One browser started and stopped for one image (the CLI's way), and
    Chromium's chatter (Debian's wrapper prints a shell error) kept off stderr."""
    skip_without_chromium()
    script = ("import sys\n"
              "from mipv6scope.charts.export import write_static\n"
              "from tests.charts.test_export import sample_figure\n"
              "write_static(sample_figure(), sys.argv[1], 'svg')\n")
    out = tmp_path / "alone.svg"
    done = subprocess.run([sys.executable, "-c", script, str(out)], cwd=REPO,
                          capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert done.stderr == "" and done.stdout == ""
    assert out.read_bytes().startswith(b"<svg")


def test_browser_missing_is_one_clear_line_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv(BROWSER_ENV, str(tmp_path / "no-such-chromium"))
    out = tmp_path / "out"
    out.mkdir()
    for fmt in ("png", "svg", "pdf"):
        with pytest.raises(BrowserMissing) as caught:
            write_figure(sample_figure(), str(out / f"chart.{fmt}"), fmt)
        message = str(caught.value)
        assert "\n" not in message
        assert "apt-get install chromium" in message and BROWSER_ENV in message
    assert list(out.iterdir()) == []


def test_browser_missing_from_path(tmp_path, monkeypatch):
    monkeypatch.delenv(BROWSER_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(BrowserMissing) as caught:
        write_static(sample_figure(), tmp_path / "c.png", "png")
    assert str(caught.value) == INSTALL_HINT
    assert INSTALL_HINT == ("static export needs Chromium: apt-get install chromium "
                            "(or set MIPV6SCOPE_BROWSER)")
    assert list(tmp_path.iterdir()) == []


def test_unknown_static_format_is_refused_before_the_browser(tmp_path):
    with pytest.raises(ValueError, match="svg, png, pdf"):
        write_static(sample_figure(), tmp_path / "c.gif", "gif")


# -- as a user sees it --------------------------------------------------------------

def test_html_drawn_in_chromium_without_console_errors(tmp_path, chromium):
    path = tmp_path / "chart.html"
    write_html(sample_figure(), path)
    view = chromium.open(path, *VIEWPORT)
    assert view.console_errors == []
    assert png_size(view.png) == VIEWPORT
    assert 0 < view.drawn_ms < 20_000 and view.wall_ms > 0
    red, green = hex_rgb(RED), hex_rgb(GREEN)
    assert count_pixels(view.png, red, tolerance=8) > 500
    lanes = vertical_lanes(view.png, green, tolerance=8, min_pixels=20)
    assert len(lanes) == len(LANES)
    # the red line runs across the plot, through every lane, below the lanes' top
    red_columns = pixel_columns_with(view.png, red, tolerance=8)
    assert red_columns[0] < lanes[0][0] and red_columns[-1] > lanes[-1][1]
    top_of_lanes = pixel_rows_with(view.png, green, tolerance=8)[0]
    assert runs(pixel_rows_with(view.png, red, tolerance=8, min_pixels=100))[0][0] > top_of_lanes


def two_figures_page() -> str:
    """A page the way report_page builds one: plotly.js once, two charts."""
    second = go.Figure(go.Scatter(x=[0, 1, 2], y=[0, 2, 1], mode="lines",
                                  line={"color": PURPLE, "width": 8}))
    second.update_layout(width=WIDTH, height=HEIGHT, template="plotly_white", showlegend=False)
    return ("<!doctype html>\n<html>\n<head>\n<meta charset=\"utf-8\" />\n"
            f"{plotlyjs_head('inline')}</head>\n<body>\n"
            f"{figure_div(sample_figure(), 'chart-one')}{figure_div(second, 'chart-two')}"
            "</body>\n</html>\n")


def test_two_figures_on_one_page_share_one_plotlyjs(tmp_path, chromium):
    page = two_figures_page()
    assert len(DATA_BLOCK.findall(page)) == 1 and page.count("DecompressionStream(") == 1
    assert page.count("Plotly.newPlot(") == 2
    assert len(page.encode()) < INLINE_MAX_BYTES
    path = tmp_path / "two.html"
    path.write_text(page, encoding="utf-8")
    view = chromium.open(path, WIDTH + 40, 2 * HEIGHT + 40)
    assert view.console_errors == []
    assert count_pixels(view.png, hex_rgb(RED), tolerance=8) > 500
    assert count_pixels(view.png, hex_rgb(PURPLE), tolerance=8) > 500
    # the second chart is drawn below the first
    assert pixel_rows_with(view.png, hex_rgb(PURPLE), tolerance=8)[0] > HEIGHT


def test_a_browser_without_decompression_says_so(tmp_path, chromium):
    """No DecompressionStream (an old browser): nothing drawn, the reason in
    the console (and in the chart's div)."""
    page = figure_html(sample_figure()).replace(
        "<head>", "<head><script>delete window.DecompressionStream;</script>", 1)
    path = tmp_path / "old-browser.html"
    path.write_text(page, encoding="utf-8")
    with pytest.raises(ChromiumError, match="DecompressionStream"):
        chromium.open(path, *VIEWPORT, timeout_s=3)


def test_console_errors_and_exceptions_are_reported(tmp_path):
    skip_without_chromium()
    page = figure_html(sample_figure()).replace(
        "<body>", '<body><script>console.error("boom", 42)</script>'
                  '<script>throw new Error("kaput")</script>', 1)
    path = tmp_path / "noisy.html"
    path.write_text(page, encoding="utf-8")
    png, errors = open_in_chromium(path, *VIEWPORT)
    assert png_size(png) == VIEWPORT
    assert any("boom 42" in e for e in errors), errors
    assert any("kaput" in e and e.startswith("uncaught") for e in errors), errors


# -- pixel helpers --------------------------------------------------------------------

def test_pixel_helpers_on_a_known_image():
    from PIL import Image, ImageDraw

    image = Image.new("RGB", (100, 50), "white")
    draw = ImageDraw.Draw(image)
    for x in (10, 40, 70):
        draw.rectangle((x, 5, x + 4, 44), fill=(44, 160, 44))  # 5 x 40 each
    draw.point((90, 1), fill=(46, 158, 44))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    png = buffer.getvalue()
    assert png_size(png) == (100, 50)
    green = hex_rgb(GREEN)
    assert count_pixels(png, green) == 600
    assert count_pixels(png, green, tolerance=2) == 601
    assert vertical_lanes(png, green) == [(10, 14), (40, 44), (70, 74)]
    assert vertical_lanes(png, green, tolerance=2, min_pixels=2) == [(10, 14), (40, 44), (70, 74)]
    assert vertical_lanes(png, green, box=(30, 0, 100, 50)) == [(40, 44), (70, 74)]
    assert runs(pixel_rows_with(png, green)) == [(5, 44)]
    assert runs([1, 2, 4, 9], gap=2) == [(1, 4), (9, 9)]
