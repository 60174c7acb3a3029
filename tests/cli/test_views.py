"""The per-concern views (`bindings`, `tunnels`, `ro`, `handoffs`, `findings`)
through CliRunner: every format parses and agrees with the others, values agree
with the sample captures' truth files, the shared filters and exit codes."""

from __future__ import annotations

import csv
import io
import json
from ipaddress import IPv6Address
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from mipv6scope.render import views_text as vt
from mipv6scope.report.model import CaptureInfo, Finding, Report

REPO = Path(__file__).resolve().parents[2]
SAMPLES = REPO / "sample_captures"
SCENARIOS = ("scenario-handoff", "scenario-route-optimization", "scenario-recovery")
# compared with their truth files: the scenarios and handoff with BU/BA in ESP (NULL)
TRUTH_SCENARIOS = (*SCENARIOS, "scenario-handoff-esp")
VIEWS = ("bindings", "tunnels", "ro", "handoffs", "findings")
COLUMNS = {"bindings": vt.BINDING_COLUMNS, "tunnels": vt.TUNNEL_COLUMNS, "ro": vt.RO_COLUMNS,
           "handoffs": vt.HANDOFF_COLUMNS, "findings": vt.FINDING_COLUMNS}
HOA = "2001:db8:1::100"


def capture(name: str) -> str:
    return str(SAMPLES / f"{name}.pcap")


def truth(name: str) -> dict[str, Any]:
    return json.loads((SAMPLES / f"{name}.pcap.truth.json").read_text())


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def rows(view: str, name: str, *extra: str) -> list[dict[str, Any]]:
    result = run(view, "--format", "json", *extra, capture(name))
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert isinstance(data, list)
    return data


@pytest.mark.parametrize("name", SCENARIOS)
@pytest.mark.parametrize("view", VIEWS)
def test_every_format_parses_and_agrees(view: str, name: str):
    """json is a list; jsonl has one object a line, equal to it; csv has the
    view's header and as many rows; text renders."""
    as_json = rows(view, name)
    jsonl = run(view, "--format", "jsonl", capture(name))
    assert jsonl.exit_code == 0
    assert [json.loads(line) for line in jsonl.stdout.splitlines()] == as_json
    as_csv = run(view, "--format", "csv", capture(name))
    assert as_csv.exit_code == 0
    table = list(csv.reader(io.StringIO(as_csv.stdout)))
    assert tuple(table[0]) == COLUMNS[view]
    assert len(table) - 1 == len(as_json)
    text = run(view, capture(name))
    assert text.exit_code == 0 and f"{len(as_json)} " in text.stdout.splitlines()[0]


@pytest.mark.parametrize("name", TRUTH_SCENARIOS)
def test_bindings_agree_with_the_truth(name: str):
    expected = [(b["peer"], b["care_of"], b["seq"], b["start_ts"], b["ended_by"], b["granted_lifetime_s"])
                for n in truth(name)["mobile_nodes"] for b in n["bindings"]]
    got = [(r["peer"], r["care_of"], r["seq"], r["start_ts"], r["ended_by"], r["granted_lifetime_s"])
           for r in rows("bindings", name)]
    assert got == expected


def test_bindings_with_registrations_tag_each_row():
    both = rows("bindings", "scenario-recovery", "--registrations")
    kinds = [r["record"] for r in both]
    # the two rejected registrations (135, 133) are registrations, not bindings (RFC 6275 6.1.8)
    assert kinds.count("binding") == 4 and kinds.count("registration") == 6
    regs = [r for r in both if r["record"] == "registration"]
    assert regs[0]["bu_frames"] == [4, 6, 9, 13] and regs[0]["retransmissions"] == 3
    assert [r["status"] for r in regs if r["status"]] == [135, 133]
    table = list(csv.reader(io.StringIO(
        run("bindings", "--registrations", "--format", "csv", capture("scenario-recovery")).stdout)))
    assert table[0][0] == "record" and len(table) == 11
    text = run("bindings", "--registrations", capture("scenario-recovery")).stdout
    assert "6 registrations" in text and "Sequence number out of window" in text


@pytest.mark.parametrize("name", TRUTH_SCENARIOS)
def test_tunnel_counts_agree_with_the_truth(name: str):
    expected = {(t["home_agent"], t["care_of"], t["home_address"]):
                (t["to_mn"]["packets"], t["to_mn"]["bytes"], t["from_mn"]["packets"], t["from_mn"]["bytes"],
                 t["outside_binding"]["packets"]) for t in truth(name)["tunnels"]}
    got = {(r["home_agent"], r["care_of"], r["home_address"]):
           (r["to_mn_packets"], r["to_mn_bytes"], r["from_mn_packets"], r["from_mn_bytes"],
            r["outside_binding_packets"]) for r in rows("tunnels", name)}
    assert got == expected


def test_ro_transitions_agree_with_the_truth():
    name = "scenario-route-optimization"
    (expected,) = truth(name)["mobile_nodes"][0]["route_optimization"]
    (got,) = rows("ro", name)
    assert got["correspondent"] == expected["correspondent"]
    assert [(t["state"], t["frame"], t["reason"]) for t in got["transitions"]] == \
        [(t["state"], t["frame"], t["reason"]) for t in expected["transitions"]]
    assert got["state"] == expected["transitions"][-1]["state"]
    assert got["packets_direct"] > 0 and got["packets_tunnelled"] > 0
    cells = list(csv.DictReader(io.StringIO(run("ro", "--format", "csv", capture(name)).stdout)))
    assert cells[0]["transitions"].count(";") == len(expected["transitions"]) - 1
    assert "|420|fallback|binding_error" in cells[0]["transitions"]


@pytest.mark.parametrize("name", TRUTH_SCENARIOS)
def test_handoffs_agree_with_the_truth(name: str):
    truths = [h for n in truth(name)["mobile_nodes"] for h in n["handoffs"]]
    # one row per chain of BUs for a new address, as the truth lists them (a rejected
    # attempt, RFC 6275 11.7.3, is a failed handoff before the completed retry)
    got = [(r["from_care_of"], r["to_care_of"], r["bu_ts"], r["outcome"], r["status"],
            r["ba_ts"] if r["outcome"] == "completed" else None, r["registration_ms"])
           for r in rows("handoffs", name)]
    assert got == [(h["from_care_of"], h["to_care_of"], h["bu_ts"], h["outcome"], h["status"], h["ba_ts"],
                    h["registration_ms"]) for h in truths]
    for r, h in zip(rows("handoffs", name), truths, strict=True):
        lost, maybe = r["lost_to_old_care_of"], r["possibly_lost_to_old_care_of"]
        assert lost <= h["lost_to_old_care_of"] <= lost + maybe


def test_handoffs_text_ends_with_stats_per_node():
    text = run("handoffs", capture("scenario-handoff")).stdout
    assert "Per mobile node (statistics over completed handoffs):" in text
    stats = [line for line in text.splitlines() if "registration ms" in line]
    # handoffs, failed, measured, median, p95, max
    assert len(stats) == 1 and stats[0].split()[3:] == ["3", "0", "3", "18.9", "21.0", "21.0"]


def test_percentile_is_nearest_rank():
    assert vt.percentile([], 95) is None
    assert vt.percentile([5.0], 95) == 5.0
    assert vt.percentile([float(i) for i in range(1, 101)], 95) == 95.0
    assert vt.handoff_stats([3.0, 1.0, 2.0]) == {"count": 3, "median": 2.0, "p95": 3.0, "max": 3.0}


@pytest.mark.parametrize("view", ("bindings", "tunnels", "handoffs", "ro"))
def test_mn_filters(view: str):
    name = "scenario-route-optimization"
    everything = rows(view, name)
    assert everything
    assert rows(view, name, "--mn", HOA) == everything
    unknown = run(view, "--format", "json", "--mn", "2001:db8:ffff::1", capture(name))
    assert unknown.exit_code == 2 and "no mobile node" in unknown.output


def test_from_to_filter_by_time():
    name = "scenario-handoff"
    starts = [b["start_ts"] for b in truth(name)["mobile_nodes"][0]["bindings"]]
    later = rows("bindings", name, "--from", str(starts[1]))
    assert [r["start_ts"] for r in later] == starts[1:]
    earlier = rows("bindings", name, "--to", str(starts[1]))
    assert [r["start_ts"] for r in earlier] == starts[:2]
    handoffs = rows("handoffs", name, "--from", str(starts[1]), "--to", str(starts[3]))
    assert [h["to_care_of"] for h in handoffs] == ["2001:db8:3::100"]
    tunnels = rows("tunnels", name, "--from", str(starts[3]))
    assert [t["care_of"] for t in tunnels] == ["2001:db8:3::100"]


@pytest.mark.parametrize("view", VIEWS)
def test_usage_errors_exit_2_and_missing_capture_exits_3(view: str):
    assert run(view, "--format", "xml", capture("scenario-handoff")).exit_code == 2
    assert run(view, "--mn", "nope", capture("scenario-handoff")).exit_code == 2
    assert run(view).exit_code == 2
    missing = run(view, "/nonexistent/capture.pcap")
    assert missing.exit_code == 3 and "No such file" in missing.stderr


@pytest.mark.parametrize("view", VIEWS + ("cache",))
def test_help_lists_the_shared_options_and_exit_codes(view: str):
    result = run(view, "--help")
    assert result.exit_code == 0
    shared = ("--format", "--mn", "--names", "-Y") if view == "cache" else (
        "--format", "--mn", "--from", "--to", "--names", "-Y")  # cache: one instant
    for option in shared:
        assert option in result.output
    assert "Exit codes" in result.output


@pytest.mark.parametrize("view", VIEWS + ("cache",))
def test_every_view_is_documented_in_the_readme(view: str):
    readme = (REPO / "README.md").read_text()
    assert f"mipv6scope {view}" in readme


def test_names_show_in_text_and_records(tmp_path: Path):
    names = tmp_path / "hosts"
    names.write_text(f"{HOA} mn1\n")
    result = run("bindings", "--names", str(names), capture("scenario-handoff"))
    assert f"mn1 ({HOA})" in result.stdout
    assert {r["node_name"] for r in rows("bindings", "scenario-handoff", "--names", str(names))} == {"mn1"}


# -- findings (rendered from hand-built reports: the registry is someone else's) -----------------

def _report(*findings: Finding) -> Report:
    info = CaptureInfo(("x.pcap",), 10, 10, 0, 0, 1700000000.0, 1700000010.0)
    return Report(info, findings=findings)


FINDINGS = (
    Finding("b_warn", "warning", (7,), 1700000005.0, IPv6Address(HOA), "later warning", "6275 11.7.1"),
    Finding("a_err", "error", (3, 4), 1700000002.0, None, "early error", "6275 9.5.1"),
    Finding("c_info", "info", (9,), 1700000009.0, IPv6Address(HOA), "info", ""),
)


def test_finding_rows_sorted_by_ts_and_filtered_by_severity():
    report = _report(*FINDINGS)
    assert [r["code"] for r in vt.finding_rows(report)] == ["a_err", "b_warn", "c_info"]
    assert [r["code"] for r in vt.finding_rows(report, "warning")] == ["a_err", "b_warn"]
    assert [r["code"] for r in vt.finding_rows(report, "error")] == ["a_err"]
    first = next(vt.finding_rows(report))
    assert first == {"code": "a_err", "severity": "error", "node": None, "frames": [3, 4],
                     "ts": 1700000002.0, "message": "early error", "rfc": "6275 9.5.1"}
    text = vt.render_findings(report, "warning")
    assert text.startswith("2 findings") and "a_err" in text and "c_info" not in text


def test_findings_command_severity_option():
    for severity in ("error", "warning", "info"):
        assert run("findings", "--severity", severity, "--format", "json",
                   capture("scenario-recovery")).exit_code == 0
    assert run("findings", "--severity", "fatal", capture("scenario-recovery")).exit_code == 2
    every = rows("findings", "scenario-recovery")
    assert [r["ts"] for r in every] == sorted(r["ts"] for r in every)


@pytest.mark.parametrize("view", VIEWS)
def test_fail_on_exits_1_exactly_when_a_finding_is_reported(view: str):
    name = "scenario-recovery"
    expected = 1 if rows("findings", name) else 0
    result = run(view, "--fail-on", "info", "--format", "json", capture(name))
    assert result.exit_code == expected
    json.loads(result.stdout)  # the output is complete before the exit
