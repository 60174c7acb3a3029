"""The signalling messages the report keeps for the ladders, checked against
the packet list (`packets --mobility-only --format jsonl`, a separate reading
of the same frames), and the bounded time series of data packets."""

from __future__ import annotations

import json
from collections import Counter
from ipaddress import IPv6Address, IPv6Network
from pathlib import Path

import pytest
from click.testing import CliRunner

from mipv6scope.analysis import signalling as sg
from mipv6scope.analysis.engine import analyze
from mipv6scope.cli.main import cli

SAMPLES = Path(__file__).resolve().parents[2] / "sample_captures"
SCENARIOS = ["scenario-handoff.pcap", "scenario-recovery.pcap", "scenario-route-optimization.pcap",
             "scenario-handoff-vantage-ha.pcap", "scenario-handoff-esp.pcap", "home-registration.pcap"]
MH_KINDS = {0: "BRR", 1: "HoTI", 2: "CoTI", 3: "HoT", 4: "CoT", 5: "BU", 6: "BA", 7: "BE"}
ICMP_KINDS = {144: "DHAAD request", 145: "DHAAD reply", 146: "MPS", 147: "MPA"}


def packet_records(path: Path) -> list[dict]:
    result = CliRunner().invoke(cli, ["packets", "--mobility-only", "--format", "jsonl", str(path)])
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]


def packet_info(path: Path) -> dict[int, str]:
    """frame -> the Info column of the text packet list."""
    result = CliRunner().invoke(cli, ["packets", "--mobility-only", str(path)])
    info = {}
    for line in result.stdout.splitlines():
        parts = line.split(None, 6)
        if len(parts) == 7 and parts[0].isdigit():
            info[int(parts[0])] = parts[6]  # No. Time Source → Destination Protocol Info
    return info


@pytest.mark.parametrize("name", SCENARIOS)
def test_every_mobility_message_is_kept_once_with_its_info_line(name):
    path = SAMPLES / name
    expected = Counter()
    for rec in packet_records(path):
        if rec["status"] == "malformed":
            continue
        if rec["mh"] is not None and rec["mh"].get("type") in MH_KINDS:
            expected[(rec["frame"], MH_KINDS[rec["mh"]["type"]])] += 1
        elif rec["icmp6"] is not None and rec["icmp6"]["type"] in ICMP_KINDS:
            expected[(rec["frame"], ICMP_KINDS[rec["icmp6"]["type"]])] += 1
    report = analyze([path])
    kept = Counter((m.frame, m.kind) for m in report.signalling if m.kind not in ("RA", "NA"))
    assert kept == expected
    info = packet_info(path)
    for m in report.signalling:
        assert info[m.frame].startswith(m.info.split(" [in ESP")[0][:60]), (m.frame, m.info)
    assert [m.ts for m in report.signalling] == sorted(m.ts for m in report.signalling)


def test_router_advertisements_kept_are_the_movement_hints():
    """An RA is kept when it is the latest one advertising the prefix of the
    care-of address a node's next BU comes from (RFC 6275 11.5.1: movement
    detection from RAs), and it then names that node."""
    path = SAMPLES / "scenario-handoff.pcap"
    report = analyze([path])
    records = packet_records(path)
    ras = [r for r in records if r["icmp6"] and r["icmp6"]["type"] == 134]
    bus = [r for r in records if r["mh"] and r["mh"]["type"] == 5]
    hints = set()
    last_coa = None
    for bu in bus:
        hoa = IPv6Address(bu["hao"]) if bu["hao"] else IPv6Address(bu["ip6"][-1]["src"])
        coa = IPv6Address(bu["ip6"][-1]["src"])
        moved_to = hoa if bu["mh"]["lifetime_s"] == 0 else coa
        if moved_to == last_coa:
            continue
        last_coa = moved_to
        before = [r for r in ras if r["ts"] <= bu["ts"] and any(
            moved_to in IPv6Network(f"{p['prefix']}/{p['prefix_len']}", strict=False)
            for p in r["icmp6"]["prefixes"])]
        if before:
            hints.add(before[-1]["frame"])
    kept = [m for m in report.signalling if m.kind == "RA"]
    assert {m.frame for m in kept} == hints
    assert len(hints) >= 3  # leaving home, two moves, returning home
    node = report.mobile_nodes[0]
    assert all(m.node == node.home_address for m in kept)


def test_tunnelled_home_test_messages_carry_their_tunnel():
    """HoTI/HoT cross the home agent's tunnel (RFC 6275 5.2.5); a probe that
    sees every sender also sees the home agent's untunnelled leg to the CN."""
    report = analyze([SAMPLES / "scenario-route-optimization.pcap"])
    home_tests = [m for m in report.signalling if m.kind in ("HoTI", "HoT")]
    ha = report.mobile_nodes[0].home_agent
    tunnelled = [m for m in home_tests if m.tunnel is not None]
    assert tunnelled and all(ha in m.tunnel for m in tunnelled)
    coa = set(report.mobile_nodes[0].care_of_addresses)
    assert all(set(m.tunnel) & coa for m in tunnelled)
    assert all(m.tunnel is None for m in report.signalling if m.kind in ("CoTI", "CoT", "BU", "BA"))


def test_failures_keep_their_status():
    report = analyze([SAMPLES / "scenario-recovery.pcap"])
    statuses = {m.status for m in report.signalling if m.kind == "BA"}
    assert {0, 133, 135} <= statuses
    assert any("Sequence number out of window" in m.label for m in report.signalling if m.status == 135)


def test_bounded_per_node_and_in_all(monkeypatch):
    monkeypatch.setattr(sg, "MAX_PER_NODE", 5)
    report = analyze([SAMPLES / "scenario-handoff.pcap"])
    per_node = Counter(m.node or m.src for m in report.signalling)
    assert max(per_node.values()) == 5
    assert report.signalling_dropped > 0
    monkeypatch.setattr(sg, "MAX_PER_NODE", 10_000)
    monkeypatch.setattr(sg, "MAX_MESSAGES", 3)
    report = analyze([SAMPLES / "scenario-handoff.pcap"])
    assert len(report.signalling) == 3 and report.signalling_dropped > 0



def test_tunnel_and_route_optimisation_series_total_their_counters():
    for name in ("scenario-handoff.pcap", "scenario-route-optimization.pcap"):
        report = analyze([SAMPLES / name])
        for tunnel in report.tunnels:
            for counter, series in ((tunnel.to_mn, tunnel.to_mn_series),
                                    (tunnel.from_mn, tunnel.from_mn_series)):
                assert (sum(series.counts) if series else 0) == counter.packets
                if series:
                    assert series.start_ts >= tunnel.start_ts - 1e-6
                    assert series.start_ts + len(series.counts) * series.width_s <= \
                        tunnel.end_ts + series.width_s
        for node in report.mobile_nodes:
            for ro in node.route_optimization:
                got = sum(ro.direct_series.counts) if ro.direct_series else 0
                assert got == ro.packets_direct
