"""The analysis fields (`mn`, `coa`, `ha`, `cn`, `lost`, `retransmission`,
`handoff`, `issue`) through `mipv6scope packets -Y`, with expected frames taken
independently: from the sample's truth file (written by the generator), from
the CLI's JSON views (`findings`, `bindings --registrations`, `handoffs`), or
from tshark's -Y on the Wireshark fields that say the same thing."""

from __future__ import annotations

import json
import shutil
import subprocess
from functools import cache
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.cli.main import cli
from tests.conftest import REPO_ROOT

SAMPLES = REPO_ROOT / "sample_captures"
HANDOFF = SAMPLES / "scenario-handoff.pcap"
RECOVERY = SAMPLES / "scenario-recovery.pcap"
RO = SAMPLES / "scenario-route-optimization.pcap"
MALFORMED = SAMPLES / "malformed.pcap"
TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")

HOA, HA = "2001:db8:1::100", "2001:db8:1::1"
COA1, COA2 = "2001:db8:2::100", "2001:db8:3::100"


@cache
def kept(capture: Path, expression: str, *extra: str) -> frozenset[int]:
    """The frame numbers `packets -Y EXPRESSION --format jsonl` lists."""
    result = CliRunner().invoke(cli, ["packets", "-Y", expression, "--format", "jsonl",
                                      *extra, str(capture)])
    assert result.exit_code == 0, result.output
    return frozenset(json.loads(line)["frame"] for line in result.stdout.splitlines())


def view(*args: str) -> list[dict]:
    result = CliRunner().invoke(cli, [*args, "--format", "json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


def tshark(capture: Path, expression: str) -> frozenset[int]:
    out = subprocess.run([TSHARK, "-n", "-r", str(capture), "-Y", expression, "-T", "fields",
                          "-e", "frame.number"], capture_output=True, text=True, check=True)
    return frozenset(int(n) for n in out.stdout.split())


def carries(*addresses: str) -> str:
    """A tshark filter: the frame carries one of ``addresses`` anywhere."""
    return " or ".join(f"ipv6.addr == {a} or ipv6.opt.mipv6.home_address == {a} or "
                       f"ipv6.routing.mipv6.home_address == {a} or mip6.be.haddr == {a}"
                       for a in addresses)


def test_lost_is_the_truth_files_lost_frames():
    truth = json.loads((SAMPLES / "scenario-handoff.pcap.truth.json").read_text())
    findings = truth["findings"]
    findings = json.loads(findings) if isinstance(findings, str) else findings
    expected = {f for finding in findings if finding["code"] == "lost_to_old_care_of"
                for f in finding["frames"]}
    assert len(expected) == 39
    # the truth knows when the node left: what the analysis calls lost (tunnelled after
    # the node sent from its new address) is among it, the rest was possibly lost
    possibly = {f for x in view("findings", str(HANDOFF)) if x["code"] == "possibly_lost_to_old_care_of"
                for f in x["frames"]}
    lost = kept(HANDOFF, "lost")
    assert lost and lost <= expected <= lost | possibly


def test_lost_is_the_lost_to_old_care_of_finding():
    findings = view("findings", str(HANDOFF))
    expected = {f for x in findings if x["code"] == "lost_to_old_care_of" for f in x["frames"]}
    assert kept(HANDOFF, "lost") == expected
    assert kept(HANDOFF, "not lost and udp.port == 5004 and tunnel").isdisjoint(expected)


def test_retransmission_is_every_bu_after_the_first_of_a_registration():
    rows = view("bindings", "--registrations", str(RECOVERY))
    expected = {f for r in rows if r.get("record") == "registration" for f in r["bu_frames"][1:]}
    assert expected == {6, 9, 13}
    assert kept(RECOVERY, "retransmission") == expected
    assert kept(RECOVERY, "mip6.mhtype == 5 and not retransmission").isdisjoint(expected)


@needs_tshark
def test_mn_by_home_address_is_every_frame_with_its_addresses():
    expected = tshark(HANDOFF, carries(HOA, COA1, COA2))
    assert 3000 < len(expected) < 4006
    assert kept(HANDOFF, f"mn == {HOA}") == expected
    assert kept(HANDOFF, "mn") == expected  # the capture's only node


@needs_tshark
def test_mn_by_name_from_names(tmp_path):
    names = tmp_path / "hosts"
    names.write_text(f"{HOA} car-17\n{HA} ha-west\n")
    expected = tshark(HANDOFF, carries(HOA, COA1, COA2))
    assert kept(HANDOFF, "mn == car-17", "--names", str(names)) == expected
    assert kept(HANDOFF, 'mn contains "car"', "--names", str(names)) == expected
    assert kept(HANDOFF, "mn in {car-18, car-17}", "--names", str(names)) == expected


def test_an_unknown_node_is_a_usage_error():
    result = CliRunner().invoke(cli, ["packets", "-Y", "mn == car-99", str(HANDOFF)])
    assert result.exit_code == 2
    assert 'no mobile node is called "car-99"' in result.stderr
    assert HOA in result.stderr  # the known nodes are named
    lines = result.stderr.splitlines()
    assert lines[1].strip() == "mn == car-99" and lines[2].strip() == "^~~~~~"


@needs_tshark
def test_roles_are_addresses():
    assert kept(HANDOFF, f"coa == {COA2}") == tshark(HANDOFF, carries(COA2))
    assert kept(HANDOFF, "coa") == tshark(HANDOFF, carries(COA1, COA2))
    assert kept(HANDOFF, "ha") == tshark(HANDOFF, carries(HA))
    cn = json.loads(CliRunner().invoke(cli, ["report", str(RO)]).stdout)["correspondents"]
    assert cn == ["2001:db8:9::9"]
    assert kept(RO, "cn") == tshark(RO, carries(*cn))
    assert kept(RO, "cn == 2001:db8:9::/48 and ro") == tshark(
        RO, f"({carries(*cn)}) and not mipv6 and (ipv6.opt.mipv6.home_address or "
            "ipv6.routing.mipv6.home_address)")


@needs_tshark
def test_handoff_n_is_the_window_of_the_nth_handoff():
    handoffs = view("handoffs", str(HANDOFF))
    second = handoffs[1]
    times = [second[k] for k in ("movement_ts", "bu_ts", "ba_ts", "first_data_ts") if second[k]]
    window = f"frame.time_epoch >= {min(times):.6f} and frame.time_epoch <= {max(times):.6f}"
    expected = tshark(HANDOFF, window)  # one node: every frame is its or no node's
    assert expected
    assert kept(HANDOFF, "handoff == 2") == expected
    assert kept(HANDOFF, f"mn == {HOA} and handoff == 2") == expected & tshark(
        HANDOFF, carries(HOA, COA1, COA2))
    assert kept(HANDOFF, "handoff") >= expected


def test_issue_is_every_finding_and_decode_issue_frame():
    findings = view("findings", str(MALFORMED))
    every = {f for x in findings for f in x["frames"]}
    checksum = {f for x in findings if x["code"] == "bad_mh_checksum" for f in x["frames"]}
    assert checksum == {2, 6}
    assert kept(MALFORMED, "issue == bad_mh_checksum") == checksum
    assert kept(MALFORMED, "issue") == every
    assert kept(MALFORMED, 'issue matches "^mh_"') == {
        f for x in findings if x["code"].startswith("mh_") for f in x["frames"]}


def test_analysis_fields_combine_with_the_shorthands():
    both = kept(RECOVERY, "retransmission or mip6.mhtype == 6", "--mh-type", "bu")
    assert both == kept(RECOVERY, "retransmission")


def test_filter_without_analysis_does_not_analyse(monkeypatch):
    import mipv6scope.cli.packets as packets_module

    def boom(*_args, **_kwargs):
        raise AssertionError("analysis run for a frame-only filter")
    monkeypatch.setattr(packets_module, "analyze", boom)
    assert kept.__wrapped__(HANDOFF, "tunnel and mip6.mhtype == 6") == frozenset()
    assert len(kept.__wrapped__(HANDOFF, "ro or tunnel")) > 1000
