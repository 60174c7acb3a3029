"""Hostile text from ``--names`` and the capture: escaped in every text output,
injection-proof in csv, whole in JSON; names files past their limits refused;
times that cannot be a date shown as raw seconds (issue 11, sections 1 and 2)."""

from __future__ import annotations

import csv
import io
import json
import math
import re
import subprocess
import sys
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.analysis.engine import analyze
from mipv6scope.cli.main import cli
from mipv6scope.names import MAX_FILE_BYTES, MAX_NAME_CHARS, NamesFileError, read_names
from mipv6scope.render import views_text as vt
from mipv6scope.render.summary_text import render_summary
from mipv6scope.render.tabular import clock, csv_cell, day, text_table, write_rows
from mipv6scope.report.model import (
    Binding,
    CaptureInfo,
    Finding,
    Handoff,
    Interval,
    MobileNode,
    Report,
    RouteOptimization,
    Transition,
)
from mipv6scope.safe_text import NAME_SHOWN, safe_report, shorten, visible

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
HOA = "2001:db8:1::100"
HA = "2001:db8:1::1"
CN = "2001:db8:9::9"

# every character class that must never reach a terminal raw
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028\u2029"
                 "\u202a-\u202e\u2066-\u2069]")
COLOUR = "\x1b[31mred\x1b[0m"
TITLE = "\x1b]0;pwned\x07"
LONG = "L" * 900  # with the rest, under the hard cap: kept, shortened in text
HOSTILE = {HOA: f"mn{COLOUR}{TITLE}\x9b2J\u202eevil\u2066x\u2069" + LONG,
           HA: "=cmd|'/Ccalc'!A0\x1b[2J",  # a hosts name has no spaces
           CN: "@SUM(1+1)\u202e"}


def hosts(tmp_path: Path, names: dict[str, str] = HOSTILE) -> str:
    path = tmp_path / "hosts"
    path.write_text("".join(f"{a} {n}\n" for a, n in names.items()), encoding="utf-8")
    return str(path)


def invoke(*args: str):
    return CliRunner().invoke(cli, list(args))


def assert_safe_text(out: str) -> None:
    assert not RAW.search(out), repr(RAW.search(out))


VIEWS = [  # (command args, capture)
    (["summary"], "scenario-route-optimization"),
    (["bindings"], "scenario-route-optimization"),
    (["bindings", "--registrations"], "scenario-route-optimization"),
    (["tunnels"], "scenario-route-optimization"),
    (["ro"], "scenario-route-optimization"),
    (["handoffs"], "scenario-handoff"),
    (["findings"], "scenario-recovery"),
    (["summary"], "scenario-recovery"),
    (["cache", "--at", "#100"], "scenario-handoff"),
]


@pytest.mark.parametrize("args, capture", VIEWS, ids=[" ".join(a) + " " + c for a, c in VIEWS])
def test_text_views_escape_and_shorten_names(tmp_path: Path, args: list[str], capture: str) -> None:
    result = invoke(*args, "--names", hosts(tmp_path), str(SAMPLES / f"{capture}.pcap"))
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert_safe_text(out)
    if args[0] != "tunnels":  # every other view names the mobile node
        assert "\\x1b[31mred" in out
    assert LONG[:NAME_SHOWN] not in out  # a long name is shortened ...
    if HOA in out and "\\x1b[31mred" in out:
        assert "\u2026" in out  # ... with an ellipsis


@pytest.mark.parametrize("view", ["bindings", "tunnels", "ro", "handoffs", "findings", "summary"])
def test_csv_has_no_raw_control_and_no_formula(tmp_path: Path, view: str) -> None:
    capture = "scenario-handoff" if view == "handoffs" else "scenario-route-optimization"
    result = invoke(view, "--format", "csv", "--names", hosts(tmp_path), str(SAMPLES / f"{capture}.pcap"))
    assert result.exit_code == 0, result.output
    assert_safe_text(result.stdout.replace("\n", ""))
    rows = list(csv.reader(io.StringIO(result.stdout)))
    for row in rows[1:]:
        for value in row:
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    cells = {value for row in rows[1:] for value in row}
    if view in ("bindings", "tunnels"):
        assert "'=cmd|'/Ccalc'!A0\\x1b[2J" in cells


@pytest.mark.parametrize("view", ["bindings", "tunnels", "ro", "handoffs", "summary"])
def test_json_keeps_the_names_whole(tmp_path: Path, view: str) -> None:
    capture = "scenario-handoff" if view == "handoffs" else "scenario-route-optimization"
    result = invoke(view, "--format", "json", "--names", hosts(tmp_path), str(SAMPLES / f"{capture}.pcap"))
    assert result.exit_code == 0, result.output
    rows = json.loads(result.stdout)
    names = {r.get("node_name") or r.get("name") for r in rows}
    if view != "tunnels":
        assert HOSTILE[HOA] in names
    assert "\x1b" not in result.stdout  # JSON escapes it itself


def hostile_report() -> Report:
    names = {IPv6Address(a): n for a, n in HOSTILE.items()}
    return analyze([str(SAMPLES / "scenario-handoff.pcap")], names=names)


def test_mermaid_and_chart_labels_have_no_raw_control() -> None:
    from mipv6scope.charts.build import build_figure
    from mipv6scope.charts.mermaid import sequence_mermaid
    from mipv6scope.charts.options import ChartOptions

    report = hostile_report()
    text = sequence_mermaid(report, ChartOptions())
    assert_safe_text(text.replace("\n", ""))
    assert "\\x1b[31mred" in text

    def strings(value: Any) -> list[str]:
        if isinstance(value, str):
            return [value]
        if isinstance(value, dict):
            return [s for v in value.values() for s in strings(v)]
        if isinstance(value, list):
            return [s for v in value for s in strings(v)]
        return []

    for kind in ("sequence", "timeline", "handoffs", "overview"):
        fig = build_figure(report, ChartOptions(kind=kind))
        texts = strings(json.loads(fig.to_json()))
        assert not any(RAW.search(t.replace("\n", "")) for t in texts), kind
        if kind != "overview":  # the overview names no node
            assert any("\\x1b[31mred" in t for t in texts), kind


def test_html_report_has_no_raw_control() -> None:
    from mipv6scope.charts.report_page import report_page

    page = report_page(hostile_report(), plotlyjs="cdn")
    assert not RAW.search(page.replace("\n", "").replace("\t", "").replace("\r", ""))
    assert "\\x1b[31mred" in page


def test_safe_report_escapes_names_messages_and_labels() -> None:
    report = hostile_report()
    safe = safe_report(report)
    assert safe is not report
    assert all(not RAW.search(n) for n in safe.names.values())
    assert all(not RAW.search(n.name or "") for n in safe.mobile_nodes)
    assert all(not RAW.search(m.label + m.info) for m in safe.signalling)
    assert safe.mobile_nodes[0].name == visible(HOSTILE[HOA])  # escaped, not shortened
    plain = analyze([str(SAMPLES / "scenario-handoff.pcap")])
    assert safe_report(plain) is plain


# -- safe_text and csv_cell ---------------------------------------------------------------------

@pytest.mark.parametrize("raw, shown", [
    ("\x1b[31m", "\\x1b[31m"), ("\x07", "\\x07"), ("\x9b", "\\x9b"), ("\x7f", "\\x7f"),
    ("\u202e", "\\u202e"), ("\u2066", "\\u2066"), ("\u200e\u200f\u061c", "\\u200e\\u200f\\u061c"),
    ("\u2028", "\\u2028"), ("\ud800", "\\ud800"), ("a\nb", "a\\x0ab"), ("ok é 名", "ok é 名"),
])
def test_visible(raw: str, shown: str) -> None:
    assert visible(raw) == shown
    assert visible(visible(raw)) == shown  # idempotent


def test_shorten() -> None:
    assert shorten("abc", 5) == "abc"
    assert shorten("abcdef", 5) == "abcd\u2026" and len(shorten("x" * 200_000, 64)) == 64


@pytest.mark.parametrize("value, cell", [
    ("=cmd|'/C calc'!A0", "'=cmd|'/C calc'!A0"), ("+1", "'+1"), ("-1", "'-1"), ("@SUM(A1)", "'@SUM(A1)"),
    ("\tx", "'\\x09x"), ("\rx", "'\\x0dx"), ("a=b", "a=b"), ("2001:db8::1", "2001:db8::1"),
    (-5, -5), (-2.5, -2.5), (0, 0), (True, True), (None, ""), (["-1", 2], "'-1;2"),
    ({"a": "=x", "b": None}, "'=x|"), ("\x1b[31m", "\\x1b[31m"),
])
def test_csv_cell(value: Any, cell: Any) -> None:
    assert csv_cell(value) == cell
    assert type(csv_cell(value)) is type(cell)


def test_write_rows_csv_prefixes_and_keeps_numbers() -> None:
    buf = io.StringIO()
    write_rows([{"a": "=1+2", "b": -5, "c": "-5"}], ["a", "b", "c"], "csv", buf)
    assert buf.getvalue().splitlines() == ["a,b,c", "'=1+2,-5,'-5"]


def test_text_table_escapes_every_cell() -> None:
    out = text_table([{"x": "\x1b[2J\u202e", "y": "a\nb"}], [vt.Column("x"), vt.Column("y")])
    assert_safe_text(out.replace("\n", ""))
    assert len(out.splitlines()) == 3


# -- names file limits ------------------------------------------------------------------------

def test_a_name_past_the_hard_cap_is_refused(tmp_path: Path) -> None:
    path = hosts(tmp_path, {HOA: "x" * 200_000})
    with pytest.raises(NamesFileError, match="200,000 characters"):
        read_names(path)
    result = invoke("summary", "--names", path, str(SAMPLES / "scenario-handoff.pcap"))
    assert result.exit_code == 2
    assert "200,000 characters" in result.output and "x" * 100 not in result.output


def test_a_name_at_the_cap_is_kept_whole(tmp_path: Path) -> None:
    name = "n" * MAX_NAME_CHARS
    assert read_names(hosts(tmp_path, {HOA: name})) == {IPv6Address(HOA): name}


def test_a_names_file_past_the_size_cap_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big"
    with open(path, "wb") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    with pytest.raises(NamesFileError, match="larger than"):
        read_names(path)
    result = invoke("bindings", "--names", str(path), str(SAMPLES / "scenario-handoff.pcap"))
    assert result.exit_code == 2 and "larger than" in result.output


def test_names_from_dev_zero_stop_at_the_cap() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mipv6scope", "summary", "--names", "/dev/zero",
         str(SAMPLES / "scenario-handoff.pcap")],
        capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 2, result.stderr
    assert "larger than" in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_names_file_reads_hosts_format(tmp_path: Path) -> None:
    path = tmp_path / "hosts"
    path.write_text(f"# c\n{HOA}%eth0 mn1 alias\r\nnot-an-address x\n{HA} ha1 # c\n\n{HOA} other\n")
    assert read_names(path) == {IPv6Address(HOA): "mn1", IPv6Address(HA): "ha1"}


# -- times that cannot be a date ---------------------------------------------------------------

BAD_TIMES = [-5.0, 1e20, 253402300800.0, math.nan, math.inf, -math.inf, 1e400, -1e300]


@pytest.mark.parametrize("ts", BAD_TIMES)
def test_clock_and_day_show_raw_seconds(ts: float) -> None:
    from mipv6scope.charts import style

    for fmt in (clock, day, style.clock, style.utc):
        text = fmt(ts)
        assert text.endswith("s") and ":" not in text, (fmt, text)


def test_clock_of_a_good_time_is_unchanged() -> None:
    assert clock(1_700_000_000.1234) == "22:13:20.123" and day(1_700_000_000) == "2023-11-14"


def out_of_range_report() -> Report:
    hoa, ha, coa, cn = (IPv6Address(a) for a in (HOA, HA, "2001:db8:2::100", CN))
    binding = Binding(ha, "home", coa, math.nan, 1e20, 1, 1, 60, 60, "capture_end")
    handoff = Handoff(hoa, coa, math.inf, -5.0, 1e400, 253402300800.0, 1.0, 2.0, 0, 0)
    ro = RouteOptimization(cn, (Transition(-1e300, 3, "ro_active", None),),
                           (Interval(1e20, None, "capture_end"),), None, 0, 0)
    node = MobileNode(hoa, ha, (coa,), bindings=(binding,), handoffs=(handoff,),
                      route_optimization=(ro,), name="mn\x1b[31m")
    finding = Finding("timestamp_out_of_range", "warning", (1,), math.nan, hoa, "odd \x1b]0;x\x07", "")
    capture = CaptureInfo(files=("a\x1b[2J.pcap",), frames=1, decoded=1, malformed=0, skipped=0,
                          first_ts=-5.0, last_ts=1e20, capture_issues=("bad\nissue",))
    return Report(capture, mobile_nodes=(node,), findings=(finding,), home_agents=(ha,),
                  correspondents=(cn,), names={ha: "\u202eha"})


@pytest.mark.parametrize("render", [
    render_summary, vt.render_bindings, vt.render_tunnels, vt.render_ro, vt.render_handoffs,
    vt.render_findings, lambda r: vt.render_bindings(r, registrations=True)])
def test_text_views_survive_times_out_of_range(render: Any) -> None:
    out = render(out_of_range_report())
    assert_safe_text(out)
    assert "Traceback" not in out


def test_summary_shows_raw_seconds_and_escaped_lines() -> None:
    out = render_summary(out_of_range_report())
    assert "from -5s to 100000000000000000000s" in out
    assert "a\\x1b[2J.pcap" in out and "bad\\x0aissue" in out and "\\u202eha" in out
