"""`--require-ipsec` through CliRunner: home_registration_not_protected on
exactly the home Binding Updates sent in the clear, none for those in ESP.

The expected frames come from the truth files (the home bindings' BU frames,
and the returning-home BU found by its truth time in the raw capture with
dpkt), never from our own output.
"""

from __future__ import annotations

import json
from pathlib import Path

import dpkt
import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from mipv6scope.cli.views import VIEW_COMMANDS

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
CODE = "home_registration_not_protected"
ANALYSIS_COMMANDS = ("summary", "report", *(c.name for c in VIEW_COMMANDS if c.name != "cache"))


def run(*args: str):
    return CliRunner().invoke(cli, list(args))


def home_bu_frames(name: str) -> set[int]:
    """Every home BU of the truth file: those of its home bindings, plus the
    deregistration BU of each return home (matched by time in the capture)."""
    truth = json.loads((SAMPLES / f"{name}.truth.json").read_text())
    frames: set[int] = set()
    returns: set[float] = set()
    for mn in truth["mobile_nodes"]:
        frames |= {f for b in mn["bindings"] if b["kind"] == "home" for f in b["bu_frames"]}
        returns |= {h["bu_ts"] for h in mn["handoffs"] if h["to_care_of"] == mn["home_address"]}
    with open(SAMPLES / name, "rb") as fh:
        for number, (ts, _buf) in enumerate(dpkt.pcap.Reader(fh), start=1):
            if round(float(ts), 6) in returns:
                frames.add(number)
                returns.discard(round(float(ts), 6))
    assert not returns, f"no frame at the returning-home BU times {returns}"
    return frames


def findings(name: str, *options: str) -> dict[str, set[int]]:
    result = run("findings", "--format", "json", *options, str(SAMPLES / name))
    assert result.exit_code == 0, result.output
    out: dict[str, set[int]] = {}
    for row in json.loads(result.stdout):
        out.setdefault(row["code"], set()).update(row["frames"])
    return out


def test_clear_home_bus_are_reported_on_their_frames():
    expected = home_bu_frames("scenario-handoff.pcap")
    assert len(expected) == 5  # four registrations from care-of addresses, one return home
    assert findings("scenario-handoff.pcap", "--require-ipsec")[CODE] == expected


def test_home_bus_in_esp_are_not_reported():
    assert CODE not in findings("scenario-handoff-esp.pcap", "--require-ipsec")


def test_off_by_default():
    assert CODE not in findings("scenario-handoff.pcap")


def test_fail_on_sees_the_finding():
    handoff = str(SAMPLES / "scenario-handoff.pcap")
    assert run("bindings", "--require-ipsec", "--fail-on", "warning", handoff).exit_code == 1
    esp = str(SAMPLES / "scenario-handoff-esp.pcap")
    report = run("report", "--require-ipsec", esp)
    assert report.exit_code == 0 and CODE not in report.stdout


@pytest.mark.parametrize("command", ANALYSIS_COMMANDS)
def test_every_analysis_command_has_the_option(command: str):
    result = run(command, "--help")
    assert result.exit_code == 0 and "--require-ipsec" in result.output


def test_cache_does_not_offer_it():
    # one instant and no findings: the option is neither listed nor taken
    assert "--require-ipsec" not in run("cache", "--help").output
    result = run("cache", "--at", "#20", "--require-ipsec", str(SAMPLES / "scenario-handoff.pcap"))
    assert result.exit_code == 2 and "--require-ipsec" in result.output
