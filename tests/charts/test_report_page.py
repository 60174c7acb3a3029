"""The HTML report page (`charts.report_page`): one self-contained page whose
tables equal the CLI's csv views, plotly.js once, every capture-derived
string escaped, the same bytes for the same input, a bounded 1,000-node page."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import subprocess
import sys
import time
from html.parser import HTMLParser
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.charts import report_tables as rt
from mipv6scope.charts.export import PLOTLYJS_DATA_ID, embedded_plotlyjs
from mipv6scope.charts.report_page import SEQUENCE_EACH_MAX, busiest_node, report_page
from mipv6scope.cli.main import cli
from mipv6scope.render import views_text as vt
from mipv6scope.report.model import Report

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
SCENARIOS = ("scenario-handoff.pcap", "scenario-recovery.pcap", "scenario-route-optimization.pcap")
PLOTLYJS_MARKER = "* plotly.js v"  # once in plotly.min.js's licence header
CHART_IDS = ("chart-sequence", "chart-timeline", "chart-handoffs", "chart-overview")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}
# Measured: the handoff sample's page is 4.98 MB (plotly.js 4.82 MB of it); the
# 1,000-node fleet's (60 s) 11.8 MB: plotly.js 4.8, charts 1.1 (timeline 0.7),
# summary 0.3, findings 0.2, node sections 5.4 (about 5.4 KB a node).
FLEET_PAGE_MAX_BYTES = 16_000_000


# -- parsing the page ---------------------------------------------------------------------

class PageParser(HTMLParser):
    """Checks that tags balance and collects every table: its class, the node
    section it sits in (data-node, data-node-name), headings and cells
    (text, data-v)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.ids: list[str] = []
        self.tables: list[dict[str, Any]] = []
        self.node: dict[str, str] | None = None
        self._node_depth = -1
        self._cell: list[str] | None = None
        self._cell_v: str | None = None
        self._row: list[tuple[str, str | None]] | None = None
        self._th: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if a.get("id"):
            self.ids.append(a["id"] or "")
        if tag == "br" and self._cell is not None:
            self._cell.append("\n")
        if tag in VOID:
            return
        self.stack.append(tag)
        if tag == "div" and "data-node" in a:
            self.node = {"node": a["data-node"] or "", "node_name": a.get("data-node-name") or ""}
            self._node_depth = len(self.stack)
        elif tag == "table":
            self.tables.append({"class": a.get("class"), "node": self.node, "head": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag == "th":
            self._th = []
        elif tag == "td":
            self._cell, self._cell_v = [], a.get("data-v")

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes <{self.stack[-1] if self.stack else None}>")
            return
        if tag == "div" and len(self.stack) == self._node_depth:
            self.node, self._node_depth = None, -1
        self.stack.pop()
        if tag == "th" and self._th is not None:
            self.tables[-1]["head"].append("".join(self._th))
            self._th = None
        elif tag == "td" and self._cell is not None and self._row is not None:
            self._row.append(("".join(self._cell), self._cell_v))
            self._cell = None
        elif tag == "tr" and self._row:
            self.tables[-1]["rows"].append(self._row)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._cell is not None:
            self._cell.append(data)
        if self._th is not None:
            self._th.append(data)


def parse(page: str) -> PageParser:
    parser = PageParser()
    parser.feed(page)
    parser.close()
    return parser


def csv_values(row: list[tuple[str, str | None]]) -> list[str]:
    """A table row as the csv's cells: data-v when the cell has one, else its text."""
    return [v if v is not None else text for text, v in row]


def html_rows(parsed: PageParser, view: str) -> list[dict[str, str]]:
    """Every row of the tables of ``view``, as {csv column: csv text}; a node
    section's rows get the node's address and name from its data-node attrs."""
    out = []
    for table in parsed.tables:
        if table["class"] != view:
            continue
        in_node = table["node"] is not None
        columns = rt.view_columns(view, in_node=in_node)
        assert table["head"] == [c.heading for c in columns]
        for row in table["rows"]:
            record = dict(zip([c.key for c in columns], csv_values(row), strict=True))
            if in_node:
                for key in rt.NODE_VIEW_DROPS[view]:
                    record[key] = table["node"][key]
            out.append(record)
    return out


def cli_csv(args: list[str]) -> list[dict[str, str]]:
    result = CliRunner().invoke(cli, [*args, "--format", "csv"])
    assert result.exit_code == 0, result.output
    return list(csv.DictReader(io.StringIO(result.stdout)))


def visible_rows(rows: list[dict[str, str]], columns: tuple[str, ...]) -> list[dict[str, str]]:
    return [{k: rt.visible(r[k]) for k in columns} for r in rows]


# -- fixtures -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def reports() -> dict[str, Report]:
    return {name: analyze([SAMPLES / name]) for name in SCENARIOS}


@pytest.fixture(scope="module")
def pages(reports: dict[str, Report]) -> dict[str, str]:
    return {name: report_page(report) for name, report in reports.items()}


# -- structure ----------------------------------------------------------------------------

@pytest.mark.parametrize("name", SCENARIOS)
def test_page_parses_with_balanced_tags(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    assert page.startswith("<!DOCTYPE html>\n<html")
    parsed = parse(page)
    assert parsed.errors == []
    assert parsed.stack == []
    assert len(parsed.ids) == len(set(parsed.ids)), "ids are unique"
    for section in ("summary", "findings", "charts", "nodes"):
        assert section in parsed.ids


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_node_has_a_section_linked_from_the_summary(
        pages: dict[str, str], reports: dict[str, Report], name: str) -> None:
    page, report = pages[name], reports[name]
    assert report.mobile_nodes
    for node in report.mobile_nodes:
        anchor = rt.node_anchor(node.home_address)
        assert f'<section id="{anchor}" class="node">' in page
        assert f'href="#{anchor}"' in page
        assert str(node.home_address) in page


def test_node_anchor_is_the_address_with_dashes() -> None:
    assert rt.node_anchor(IPv6Address("2001:db8:1::100")) == "node-2001-db8-1--100"


# -- tables equal the CLI views -------------------------------------------------------------

@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("view", ("bindings", "handoffs", "ro", "tunnels", "findings"))
def test_tables_hold_the_cli_csv_rows(pages: dict[str, str], name: str, view: str) -> None:
    expected = visible_rows(cli_csv([view, str(SAMPLES / name)]), rt.VIEW_COLUMNS[view])
    got = html_rows(parse(pages[name]), view)
    if view == "tunnels":  # grouped by node on the page, in capture order in the csv
        def key(r: dict[str, str]) -> list[str]:
            return [r[c] for c in rt.VIEW_COLUMNS[view]]
        expected, got = sorted(expected, key=key), sorted(got, key=key)
    assert got == expected


@pytest.mark.parametrize("name", SCENARIOS)
def test_registration_tables_hold_the_cli_csv_rows(pages: dict[str, str], name: str) -> None:
    rows = cli_csv(["bindings", "--registrations", str(SAMPLES / name)])
    expected = visible_rows([r for r in rows if r["record"] == "registration"],
                            vt.REGISTRATION_COLUMNS)
    assert html_rows(parse(pages[name]), "registrations") == expected


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_finding_code_is_listed_with_its_frames(
        pages: dict[str, str], reports: dict[str, Report], name: str) -> None:
    rows = html_rows(parse(pages[name]), "findings")
    listed = {(r["code"], r["frames"]) for r in rows}
    for f in reports[name].findings:
        assert (f.code, ";".join(map(str, f.frames))) in listed


def test_handoff_stats_per_node(pages: dict[str, str], reports: dict[str, Report]) -> None:
    report = reports["scenario-handoff.pcap"]
    stats = [t for t in parse(pages["scenario-handoff.pcap"]).tables
             if t["class"] == "handoff-stats"]
    assert len(stats) == sum(1 for n in report.mobile_nodes if n.handoffs)
    node = next(n for n in report.mobile_nodes if n.handoffs)
    reg = [h.registration_ms for h in node.handoffs if h.registration_ms is not None
           and h.outcome == "completed"]
    want = vt.handoff_stats(reg)
    failed = sum(1 for h in node.handoffs if h.outcome != "completed")
    first = stats[0]["rows"][0]
    assert [text for text, _ in first[:4]] == ["registration ms", str(len(node.handoffs)), str(failed),
                                               str(want["count"])]
    assert [float(v) for v in csv_values(first[4:])] == [want["median"], want["p95"], want["max"]]


# -- plotly.js and charts -------------------------------------------------------------------

def test_plotlyjs_once_and_nothing_fetched(pages: dict[str, str]) -> None:
    from plotly.offline import get_plotlyjs

    page = pages["scenario-handoff.pcap"]
    # plotly.js is embedded once, compressed (charts/export.py), and is exactly plotly's
    assert embedded_plotlyjs(page) == get_plotlyjs()
    assert page.count(f'id="{PLOTLYJS_DATA_ID}"') == 1
    start = page.index(f'id="{PLOTLYJS_DATA_ID}"')
    rest = page[:start] + page[page.index("</script>", start):]
    assert "<script src" not in rest and " src=" not in rest
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", rest)
    assert "@import" not in rest and "url(" not in rest and "<link" not in rest
    assert rest.index("newPlot") > start  # loaded before any chart


def test_cdn_mode_loads_plotlyjs_by_url(reports: dict[str, Report]) -> None:
    page = report_page(reports["scenario-handoff.pcap"], plotlyjs="cdn")
    assert PLOTLYJS_MARKER not in page
    assert len(re.findall(r'<script charset="utf-8" src="https://cdn\.plot\.ly/[^"]+"', page)) == 1
    with pytest.raises(ValueError, match="plotlyjs"):
        report_page(reports["scenario-handoff.pcap"], plotlyjs="nope")


@pytest.mark.parametrize("name", SCENARIOS)
def test_four_charts_with_fixed_div_ids(pages: dict[str, str], name: str) -> None:
    page = pages[name]
    for div_id in CHART_IDS:
        drawn = f'<div id="{div_id}" class="plotly-graph-div"' in page
        noted = f'id="{div_id}-none"' in page
        assert drawn != noted, div_id
    assert page.count('class="plotly-graph-div"') + page.count('class="nodata"') == 4
    assert re.search(r'<div id="chart-sequence" class="plotly-graph-div"', page)


def test_a_chart_without_data_becomes_a_note() -> None:
    report = analyze([SAMPLES / "icmp6-nd.pcap"])
    assert not report.mobile_nodes
    page = report_page(report)
    assert parse(page).errors == []
    assert page.count('class="nodata"') >= 2
    assert "No data for this chart" in page
    assert "No mobile node in the capture" in page


def test_few_nodes_get_a_sequence_chart_each() -> None:
    report = analyze([SAMPLES / "scenario-fleet.pcap"])
    assert 1 < len(report.mobile_nodes) <= SEQUENCE_EACH_MAX
    page = report_page(report)
    for node in report.mobile_nodes:
        div_id = "chart-sequence-" + rt.node_anchor(node.home_address).removeprefix("node-")
        assert f'id="{div_id}"' in page or f'id="{div_id}-none"' in page
    assert page.count("<details open>") == len(report.mobile_nodes)


def test_many_nodes_get_one_sequence_chart_for_the_busiest(tmp_path: Path) -> None:
    capture = tmp_path / "fleet8.pcap"
    result = CliRunner().invoke(cli, ["synth", "fleet", "--mobile-nodes", "8", "--duration", "30",
                                      "--data-rate", "0.2", "-o", str(capture)])
    assert result.exit_code == 0, result.output
    report = analyze([capture])
    assert len(report.mobile_nodes) > SEQUENCE_EACH_MAX
    page = report_page(report)
    busiest = busiest_node(report)
    assert busiest is not None
    assert busiest.handoffs and all(len(n.handoffs) <= len(busiest.handoffs)
                                    for n in report.mobile_nodes)
    assert page.count('id="chart-sequence') == 1
    assert f'Sequence of <a href="#{rt.node_anchor(busiest.home_address)}"' in page
    assert "only the node with the most handoffs" in page


def test_page_opens_in_chromium_without_errors(chromium: Any, pages: dict[str, str],
                                                tmp_path: Path) -> None:
    path = tmp_path / "report.html"
    path.write_text(pages["scenario-handoff.pcap"], encoding="utf-8")
    view = chromium.open(path, 1400, 1200)
    assert view.console_errors == []
    assert len(view.png) > 10_000


def test_report_page_loads_no_ui_toolkit() -> None:
    code = ("import sys, mipv6scope.charts.report_page; "
            "print(sorted(m for m in ('click', 'rich', 'textual') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True, cwd=REPO)
    assert out.stdout.strip() == "[]"


# -- escaping -------------------------------------------------------------------------------

HOSTILE = "<script>alert(1)</script>\x1b[31m\u202e\"'&\x9b\u2066x"


def test_visible_and_esc() -> None:
    assert rt.visible("a\x00b\x1b\x7f\x9b\u202a\u202e\u2066\u2069\u2028c") == \
        "a\\x00b\\x1b\\x7f\\x9b\\u202a\\u202e\\u2066\\u2069\\u2028c"
    assert rt.esc("<a href='x'>\"&") == "&lt;a href=&#x27;x&#x27;&gt;&quot;&amp;"
    assert rt.visible("mn-1 ü 日本") == "mn-1 ü 日本"


def test_hostile_names_appear_only_escaped() -> None:
    plain = analyze([SAMPLES / "scenario-handoff.pcap"])
    node = plain.mobile_nodes[0]
    assert node.home_agent is not None
    report = analyze([SAMPLES / "scenario-handoff.pcap"],
                     names={node.home_address: HOSTILE, node.home_agent: HOSTILE + "ha"})
    assert report.mobile_nodes[0].name == HOSTILE
    page = report_page(report)
    assert parse(page).errors == []
    assert "<script>alert" not in page
    for raw in ("\x1b", "\u202e", "\x9b", "\u2066"):
        assert raw not in page
    shown = "&lt;script&gt;alert(1)&lt;/script&gt;\\x1b[31m\\u202e&quot;&#x27;&amp;\\x9b\\u2066x"
    assert shown in page
    assert f'data-node-name="{shown}"' in page


# -- determinism ----------------------------------------------------------------------------

def test_same_report_same_bytes(pages: dict[str, str], reports: dict[str, Report]) -> None:
    name = "scenario-handoff.pcap"
    again = report_page(analyze([SAMPLES / name]))
    assert again == pages[name]
    assert report_page(reports[name]) == pages[name]


def test_same_bytes_in_a_fresh_process(pages: dict[str, str]) -> None:
    code = ("import hashlib, sys; from mipv6scope.analysis.engine import analyze; "
            "from mipv6scope.charts.report_page import report_page; "
            "print(hashlib.sha256(report_page(analyze([sys.argv[1]])).encode()).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code, str(SAMPLES / "scenario-handoff.pcap")],
                         capture_output=True, text=True, check=True, cwd=REPO,
                         env={"PYTHONHASHSEED": "12345", "PATH": "/usr/bin:/bin"})
    mine = hashlib.sha256(pages["scenario-handoff.pcap"].encode()).hexdigest()
    assert out.stdout.strip() == mine


# -- scale ----------------------------------------------------------------------------------

def test_a_1000_node_fleet_page_is_bounded(tmp_path: Path) -> None:
    capture = tmp_path / "fleet.pcap"
    result = CliRunner().invoke(cli, ["synth", "fleet", "--mobile-nodes", "1000", "--duration", "60",
                                      "--data-rate", "0.2", "-o", str(capture)])
    assert result.exit_code == 0, result.output
    report = analyze([capture])
    assert len(report.mobile_nodes) == 1000
    started = time.process_time()  # CPU, not wall: a loaded machine must not fail it
    page = report_page(report)
    elapsed = time.process_time() - started
    size = len(page.encode("utf-8"))
    assert size < FLEET_PAGE_MAX_BYTES, size
    assert elapsed < 15, elapsed
    assert page.count(f'id="{PLOTLYJS_DATA_ID}"') == 1
    assert page.count('class="node"') == 1000
    assert page.count("<details open>") == 0
