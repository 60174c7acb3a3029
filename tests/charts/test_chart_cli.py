"""`mipv6scope chart` as a user runs it: every output format from the bundled
handoff capture, the same bytes twice, the page opened in headless Chromium
(no console error, the lanes visible in the screenshot's pixels), and every
bad input answered with one line and the exit code the help promises."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from tests.charts.browser import (
    count_pixels,
    hex_rgb,
    png_size,
    skip_without_chromium,
    vertical_lanes,
)

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HANDOFF = str(SAMPLES / "scenario-handoff.pcap")
RECOVERY = str(SAMPLES / "scenario-recovery.pcap")
LANE_GREY = hex_rgb("#555555")   # the lane lines (charts/sequence.py)
FAILURE_RED = hex_rgb("#d62728")  # rejections and errors


def run(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(cli, ["chart", *args], env=env)


def one_line_error(result) -> str:
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert "Traceback" not in result.output
    return lines[-1]


def test_html_is_offline_and_the_same_bytes_every_time(tmp_path):
    first, second = tmp_path / "a.html", tmp_path / "b.html"
    assert run(HANDOFF, "-o", str(first)).exit_code == 0
    # a second process, another hash seed: nothing volatile may enter the page
    subprocess.run([sys.executable, "-m", "mipv6scope", "chart", HANDOFF, "-o", str(second)],
                   check=True, env={"PYTHONHASHSEED": "7", "PATH": "/usr/bin:/bin"})
    assert first.read_bytes() == second.read_bytes()
    page = first.read_text()
    assert "<script src=" not in page and "Plotly.newPlot" in page


def test_mermaid_and_json_to_stdout_are_stable():
    mmd = run(HANDOFF, "-o", "-", "--format", "mmd")
    assert mmd.exit_code == 0 and mmd.output.startswith("sequenceDiagram\n")
    assert mmd.output == run(HANDOFF, "-o", "-", "--format", "mmd").output
    figure = run(HANDOFF, "-o", "-", "--format", "json")
    assert figure.exit_code == 0
    assert json.loads(figure.output)["data"]


def test_each_kind_writes_a_figure(tmp_path):
    for kind in ("sequence", "timeline", "handoffs", "overview"):
        out = tmp_path / f"{kind}.json"
        result = run(HANDOFF, "--kind", kind, "-o", str(out))
        assert result.exit_code == 0, result.output
        assert json.loads(out.read_text())["data"], kind


def test_handoff_window_is_narrower_than_the_capture(tmp_path):
    whole, window = tmp_path / "whole.json", tmp_path / "h2.json"
    assert run(HANDOFF, "-o", str(whole)).exit_code == 0
    assert run(HANDOFF, "--handoff", "2", "--window", "3", "-o", str(window)).exit_code == 0
    whole_meta = json.loads(whole.read_text())["layout"]["meta"]
    window_meta = json.loads(window.read_text())["layout"]["meta"]
    assert json.dumps(window_meta) != json.dumps(whole_meta)


@pytest.mark.parametrize("args, needle", [
    (["--mn", "2001:db8:ffff::1"], "--mn 2001:db8:ffff::1"),
    (["--mn", "no-such-car"], "--mn no-such-car"),
    (["--handoff", "7"], "--handoff 7"),
    (["--window", "nan", "--handoff", "1"], "--window"),
])
def test_what_the_capture_does_not_have_is_a_usage_error(tmp_path, args, needle):
    out = tmp_path / "x.html"
    result = run(HANDOFF, *args, "-o", str(out))
    assert result.exit_code == 2
    assert needle in one_line_error(result)
    assert not out.exists()


def test_a_capture_without_mobility_is_a_usage_error(tmp_path):
    result = run(str(SAMPLES / "icmp6-errors.pcap"), "-o", str(tmp_path / "x.html"))
    assert result.exit_code == 2
    assert "no mobile node" in one_line_error(result)


def test_bad_outputs(tmp_path):
    assert run(HANDOFF, "-o", str(tmp_path / "x.docx")).exit_code == 2
    assert run(HANDOFF, "-o", "-", "--format", "png").exit_code == 2
    unwritable = run(HANDOFF, "-o", str(tmp_path / "missing" / "dir" / "x.html"))
    assert unwritable.exit_code == 1 and "cannot write" in one_line_error(unwritable)
    missing = run(str(tmp_path / "nope.pcap"), "-o", str(tmp_path / "x.html"))
    assert missing.exit_code == 3


def test_static_export_without_a_browser_says_what_to_install(tmp_path):
    out = tmp_path / "x.png"
    result = run(HANDOFF, "-o", str(out), env={"MIPV6SCOPE_BROWSER": str(tmp_path / "no-browser")})
    assert result.exit_code == 1
    assert "chromium" in one_line_error(result).lower()
    assert list(tmp_path.iterdir()) == []


def test_png_svg_pdf_from_the_command(tmp_path):
    skip_without_chromium()
    for suffix, magic in ((".png", b"\x89PNG"), (".svg", b"<svg"), (".pdf", b"%PDF")):
        out = tmp_path / f"handoff{suffix}"
        result = run(HANDOFF, "-o", str(out), "--width", "1200", "--height", "900")
        assert result.exit_code == 0, result.output
        assert magic in out.read_bytes()[:200]
    assert png_size((tmp_path / "handoff.png").read_bytes()) == (1200, 900)


def test_the_sequence_page_shows_its_lanes_in_chromium(tmp_path, chromium):
    """Opened as a user opens it: no console error, and the screenshot has one
    long vertical grey line per lane the figure declares."""
    page, figure = tmp_path / "handoff.html", tmp_path / "handoff.json"
    assert run(HANDOFF, "-o", str(page), "--width", "1400", "--height", "1000").exit_code == 0
    assert run(HANDOFF, "-o", str(figure)).exit_code == 0
    lanes = json.loads(figure.read_text())["layout"]["meta"]["lanes"]
    view = chromium.open(page, 1400, 1000)
    png, errors = view
    assert errors == []
    drawn = vertical_lanes(png, LANE_GREY, tolerance=12, min_pixels=400, gap=3)
    assert len(drawn) == len(lanes)
    xs = [start for start, _end in drawn]
    assert xs == sorted(xs) and min(b - a for a, b in zip(xs, xs[1:], strict=False)) > 60


def test_failures_are_red_in_the_recovery_chart(tmp_path, chromium):
    page = tmp_path / "recovery.html"
    assert run(RECOVERY, "-o", str(page), "--width", "1400", "--height", "1200").exit_code == 0
    png, errors = chromium.open(page, 1400, 1200)
    assert errors == []
    assert count_pixels(png, FAILURE_RED, tolerance=10) > 200


def test_report_as_an_html_page(tmp_path):
    out = tmp_path / "report.html"
    result = CliRunner().invoke(cli, ["report", "--format", "html", "-o", str(out), HANDOFF])
    assert result.exit_code == 0, result.output
    page = out.read_text()
    assert page.startswith("<!DOCTYPE html>") and "2001:db8:1::100" in page
    assert 'id="chart-sequence"' in page and "lost_to_old_care_of" in page
    to_stdout = CliRunner().invoke(cli, ["report", "--format", "html", HANDOFF])
    assert to_stdout.exit_code == 0 and to_stdout.stdout == page


def test_report_html_bad_outputs(tmp_path):
    unwritable = CliRunner().invoke(cli, ["report", "--format", "html", "-o",
                                          str(tmp_path / "no" / "r.html"), HANDOFF])
    assert unwritable.exit_code == 1 and "cannot write" in one_line_error(unwritable)
    directory = CliRunner().invoke(cli, ["report", "--format", "html", "--plotlyjs", "directory",
                                         HANDOFF])
    assert directory.exit_code == 2
    beside = CliRunner().invoke(cli, ["report", "--format", "html", "--plotlyjs", "directory",
                                      "-o", str(tmp_path / "r.html"), HANDOFF])
    assert beside.exit_code == 0 and (tmp_path / "plotly.min.js").is_file()


def test_json_report_to_a_file(tmp_path):
    out = tmp_path / "report.json"
    result = CliRunner().invoke(cli, ["report", "-o", str(out), HANDOFF])
    assert result.exit_code == 0
    assert json.loads(out.read_text())["schema_version"] == 2
