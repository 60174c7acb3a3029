"""`mipv6scope summary` and `mipv6scope report` through CliRunner: output,
the report's JSON keys, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from mipv6scope.cli.output import parse_ts

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
HANDOFF = str(SAMPLES / "scenario-handoff.pcap")
TOP_KEYS = {"schema_version", "capture", "mobile_nodes", "tunnels", "findings"}
CAPTURE_KEYS = {"files", "frames", "decoded", "malformed", "skipped", "first_ts", "last_ts", "partial"}


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def test_help_lists_the_shared_options():
    for command in ("summary", "report"):
        result = run(command, "--help")
        assert result.exit_code == 0
        for option in ("--format", "--mn", "--from", "--to", "--names", "--fail-on"):
            assert option in result.output
    assert "summary" in run("--help").output and "report" in run("--help").output


def test_summary_runs_on_the_handoff_capture():
    result = run("summary", HANDOFF)
    assert result.exit_code == 0, result.output
    assert "4006 frames" in result.stdout
    assert "Findings:" in result.stdout


@pytest.mark.parametrize("fmt", ["json", "jsonl", "csv"])
def test_summary_record_formats(fmt: str):
    result = run("summary", "--format", fmt, HANDOFF)
    assert result.exit_code == 0, result.output
    if fmt == "json":
        assert isinstance(json.loads(result.stdout), list)


def test_report_is_one_json_document_with_every_key():
    result = run("report", "--format", "json", HANDOFF)
    assert result.exit_code == 0, result.output
    doc = json.loads(result.stdout)
    assert set(doc) >= TOP_KEYS
    assert doc["schema_version"] >= 1
    assert set(doc["capture"]) >= CAPTURE_KEYS
    assert doc["capture"]["frames"] == 4006 and doc["capture"]["partial"] is False


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_report_does_not_offer_record_formats(fmt: str):
    result = run("report", "--format", fmt, HANDOFF)
    assert result.exit_code == 2
    assert "'json'" in result.output  # click lists the formats it has
    assert fmt not in run("report", "--help").output


def test_missing_file_exits_3_with_one_line():
    result = run("summary", "/nonexistent/capture.pcap")
    assert result.exit_code == 3
    assert result.stderr.strip().count("\n") == 0 and "No such file" in result.stderr


def test_not_a_capture_exits_3(tmp_path: Path):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(b"hello, world: not a capture")
    assert run("report", str(bad)).exit_code == 3


def test_bad_format_and_bad_options_exit_2():
    assert run("summary", "--format", "xml", HANDOFF).exit_code == 2
    assert run("summary", "--mn", "not-an-address", HANDOFF).exit_code == 2
    assert run("summary", "--from", "yesterday-ish", HANDOFF).exit_code == 2
    assert run("summary", "--fail-on", "fatal", HANDOFF).exit_code == 2
    assert run("summary").exit_code == 2


def test_fail_on_with_no_findings_exits_0():
    # a plain UDP-only window: nothing can be found before the capture starts
    result = run("summary", "--fail-on", "info", "--to", "1000", HANDOFF)
    assert result.exit_code == 0, result.output
    assert "Findings: none" in result.stdout


def test_mn_filter_and_names(tmp_path: Path):
    hosts = tmp_path / "hosts"
    hosts.write_text("2001:db8:1::100 roamer\n")
    doc = json.loads(run("report", "--names", str(hosts), HANDOFF).stdout)
    for node in doc["mobile_nodes"]:
        if node["home_address"] == "2001:db8:1::100":
            assert node["name"] == "roamer"
    other = run("report", "--mn", "2001:db8:ffff::1", HANDOFF)  # no such node: an error
    assert other.exit_code == 2 and "no mobile node has this home address or name" in other.output
    named = json.loads(run("report", "--names", str(hosts), "--mn", "roamer", HANDOFF).stdout)
    assert [n["home_address"] for n in named["mobile_nodes"]] == ["2001:db8:1::100"]


def test_parse_ts_accepts_epoch_and_iso():
    assert parse_ts("1700000000.5") == 1700000000.5
    assert parse_ts("2023-11-14T22:13:20Z") == 1700000000.0
    assert parse_ts("2023-11-14T22:13:20") == 1700000000.0
