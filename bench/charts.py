#!/usr/bin/env python3
"""Chart benchmark: HTML size and headless Chromium draw time of the charts
the issue names: the sequence chart of the fleet capture's busiest node and
the timeline of a 1,000-node capture (plus the other kinds and the HTML report).

    python bench/charts.py [--workdir DIR] [--mobile-nodes 1000] [--duration 60]
                           [--data-rate 0.2] [--reuse]

Generates (or reuses) a `synth fleet` capture, analyses it once, builds each
chart, writes it as HTML (plotly.js inline, the default) and opens each page
in headless Chromium three times, reporting the median time from navigation
to plotly's first draw (``drawn_ms``, measured inside the page).
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from mipv6scope.analysis.engine import analyze  # noqa: E402
from mipv6scope.charts.build import build_figure  # noqa: E402
from mipv6scope.charts.export import write_html  # noqa: E402
from mipv6scope.charts.options import ChartOptions  # noqa: E402
from mipv6scope.charts.report_page import busiest_node, report_page  # noqa: E402
from tests.charts.browser import HeadlessChromium  # noqa: E402

OPENS = 3


def fleet(path: Path, mobile_nodes: int, duration: int, data_rate: float, reuse: bool) -> None:
    """A `synth fleet` capture with ``mobile_nodes`` nodes for ``duration`` s."""
    if reuse and path.is_file():
        return
    subprocess.run([sys.executable, "-m", "mipv6scope", "synth", "fleet", "-o", str(path),
                    "--mobile-nodes", str(mobile_nodes), "--duration", str(duration),
                    "--data-rate", str(data_rate)], check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workdir", type=Path, default=Path("/tmp/mipv6scope-bench"))
    parser.add_argument("--mobile-nodes", type=int, default=1000)
    parser.add_argument("--duration", type=int, default=60)
    parser.add_argument("--data-rate", type=float, default=0.2,
                        help="synth fleet's --data-rate (the charts' size depends on the "
                             "signalling, not on the data)")
    parser.add_argument("--reuse", action="store_true")
    args = parser.parse_args()
    args.workdir.mkdir(parents=True, exist_ok=True)
    capture = args.workdir / f"fleet-{args.mobile_nodes}-{args.duration}s.pcap"
    fleet(capture, args.mobile_nodes, args.duration, args.data_rate, args.reuse)
    started = time.perf_counter()
    report = analyze([capture])
    print(f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
          f"{capture.name}: {report.capture.frames:,} frames, {len(report.mobile_nodes):,} mobile "
          f"nodes, {len(report.signalling):,} signalling messages, analysed in "
          f"{time.perf_counter() - started:.1f} s")
    busiest = busiest_node(report)
    pages: list[tuple[str, Path, float]] = []
    for kind, mn in (("sequence", (str(busiest.home_address),) if busiest else ()),
                     ("timeline", ()), ("handoffs", ()), ("overview", ())):
        started = time.perf_counter()
        figure = build_figure(report, ChartOptions(kind=kind, mn=mn))
        path = args.workdir / f"{kind}.html"
        write_html(figure, path)
        pages.append((kind, path, time.perf_counter() - started))
    started = time.perf_counter()
    page = args.workdir / "report.html"
    page.write_text(report_page(report), encoding="utf-8")
    pages.append(("report --format html", page, time.perf_counter() - started))
    print(f"| page | HTML size | build + write | drawn in Chromium (median of {OPENS}) |")
    print("|---|---:|---:|---:|")
    with HeadlessChromium() as chromium:
        for kind, path, build_s in pages:
            drawn = []
            for _ in range(OPENS):
                view = chromium.open(path, 1400, 1000, timeout_s=60)
                if view.console_errors:
                    print(f"{kind}: console errors: {view.console_errors}", file=sys.stderr)
                drawn.append(view.drawn_ms)
            size = path.stat().st_size / 1e6
            print(f"| {kind} | {size:.2f} MB | {build_s:.2f} s | "
                  f"{statistics.median(drawn) / 1000:.2f} s |")


if __name__ == "__main__":
    main()
