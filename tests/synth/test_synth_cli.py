"""`mipv6scope synth`: its output line, validation, exit codes and help."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from mipv6scope.synth.scenarios import SCENARIOS


def run(*args: str):
    return CliRunner().invoke(cli, ["synth", *args])


def test_writes_capture_and_truth(tmp_path):
    out = tmp_path / "h.pcap"
    result = run("handoff", "-o", str(out), "--seed", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and str(out) in lines[0] and f"{out}.truth.json" in lines[0]
    truth = json.loads((tmp_path / "h.pcap.truth.json").read_text())
    assert lines[0].startswith(f"{truth['frames']} frames")
    assert (truth["scenario"], truth["seed"], truth["vantage"]) == ("handoff", 2, "all")


@pytest.mark.parametrize("args, needle", [
    (["nope"], "nope"),
    (["handoff", "--vlan", "5000"], "--vlan"),
    (["handoff", "--vlan", "-1"], "--vlan"),
    (["handoff", "--snaplen", "10"], "--snaplen"),
    (["handoff", "--loss", "1.5"], "--loss"),
    (["handoff", "--ro-share", "-0.1"], "--ro-share"),
    (["handoff", "--linktype", "token-ring"], "--linktype"),
    (["handoff", "--vantage", "ar"], "--vantage"),
    (["handoff", "--esp", "aes"], "--esp"),
    (["handoff", "--vlan", "3", "--linktype", "raw"], "--vlan"),
])
def test_usage_errors_exit_2(tmp_path, args, needle):
    result = run(*args, "-o", str(tmp_path / "x.pcap"))
    assert result.exit_code == 2 and needle in result.output
    assert not (tmp_path / "x.pcap").exists()


def test_missing_output_is_a_usage_error():
    assert run("handoff").exit_code == 2


def test_unwritable_output_one_line_exit_1(tmp_path):
    result = run("handoff", "-o", str(tmp_path / "no" / "such" / "dir.pcap"))
    assert result.exit_code == 1
    assert len(result.output.strip().splitlines()) == 1 and "cannot write" in result.output
    assert "Traceback" not in result.output


def test_missing_scenario_module_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setitem(SCENARIOS, "handoff", "not_written_yet")
    result = run("handoff", "-o", str(tmp_path / "x.pcap"))
    assert result.exit_code == 1 and "not available" in result.output
    assert len(result.output.strip().splitlines()) == 1


def test_help_lists_scenarios_and_options():
    result = run("--help")
    assert result.exit_code == 0
    for word in ("SCENARIO", "--seed", "--linktype", "--format", "--vlan", "--snaplen", "--esp",
                 "--vantage", "--mobile-nodes", "--handoff-rate", "--ro-share", "--data-rate"):
        assert word in result.output
    for name in SCENARIOS:
        assert name in result.output


def test_fleet_options_are_passed_through(tmp_path, monkeypatch):
    seen = {}

    def fake(name, params, out):
        seen.update(name=name, params=params)
        return 0, tmp_path / "t.json"

    monkeypatch.setattr("mipv6scope.synth.run.run_scenario", fake)
    result = run("fleet", "-o", str(tmp_path / "f.pcap"), "--mobile-nodes", "7", "--loss", "0.1",
                 "--duration", "12", "--esp", "null", "--vantage", "ha")
    assert result.exit_code == 0, result.output
    p = seen["params"]
    assert (p.mobile_nodes, p.loss, p.duration, p.options.esp_null, p.options.vantage) == (
        7, 0.1, 12.0, True, "ha")
    assert p.home_agents == 2  # not given: the default
