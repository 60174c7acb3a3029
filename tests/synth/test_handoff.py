"""The `handoff` scenario checked against independent readers: tshark reads every
vantage and link type without malformed/error expert items and its per-frame
MH fields agree with the truth; Scapy parses every MH and computes the same
checksum; our decoder finds at each truth frame reference what the truth says."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from mipv6scope.capture.reader import open_capture
from mipv6scope.decode.stream import DecodeStream
from mipv6scope.synth.engine import CaptureOptions
from mipv6scope.synth.run import run_scenario
from mipv6scope.synth.scenarios import ScenarioParams
from mipv6scope.synth.scenarios.handoff import HOME_CALL, T0

TSHARK = shutil.which("tshark")
needs_tshark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed")
HA, CN, HOA = "2001:db8:1::1", "2001:db8:9::9", "2001:db8:1::100"
VARIANTS = {
    "all": CaptureOptions(), "mn": CaptureOptions(vantage="mn"),
    "ha": CaptureOptions(vantage="ha"), "cn": CaptureOptions(vantage="cn"),
    "sll": CaptureOptions(linktype="sll"), "sll2": CaptureOptions(linktype="sll2"),
    "raw": CaptureOptions(linktype="raw"), "null": CaptureOptions(linktype="null"),
    "vlan": CaptureOptions(fmt="pcapng", vlan=42), "esp": CaptureOptions(esp_null=True),
}


@pytest.fixture(scope="module")
def captures(tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """Every variant written once: name -> (capture path, truth document)."""
    out = tmp_path_factory.mktemp("handoff")
    result = {}
    for name, options in VARIANTS.items():
        path = out / f"handoff-{name}.{options.fmt}"
        _, truth = run_scenario("handoff", ScenarioParams(seed=7, options=options), path)
        result[name] = (path, json.loads(truth.read_text()))
    return result


def tshark_rows(path: Path, *fields: str) -> list[list[str]]:
    """tshark -T fields with the first occurrence of each field, one row per frame."""
    args = [TSHARK, "-r", str(path), "-T", "fields", "-E", "occurrence=f"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


@needs_tshark
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_tshark_reads_without_malformed_or_errors(captures, variant):
    path, truth = captures[variant]
    expert = subprocess.run([TSHARK, "-r", str(path), "-q", "-z", "expert"],
                            capture_output=True, text=True, check=True).stdout
    assert "Errors" not in expert and "Malformed" not in expert, expert
    rows = tshark_rows(path, "frame.number", "_ws.malformed")
    assert len(rows) == truth["frames"]
    assert not [r for r in rows if r[1]]


@needs_tshark
@pytest.mark.parametrize("variant", [v for v in VARIANTS if v != "esp"])
def test_tshark_mh_fields_agree_with_truth(captures, variant):
    path, truth = captures[variant]
    rows = tshark_rows(path, "frame.number", "mip6.mhtype", "mip6.ba.status", "mip6.bu.lifetime",
                       "ipv6.src", "ipv6.dst", "ipv6.nxt")
    node = truth["mobile_nodes"][0]
    bu = {int(r[0]) for r in rows if r[1] == "5"}
    dereg = {int(r[0]) for r in rows if r[1] == "5" and r[3] == "0"}
    assert bu == {f for b in node["bindings"] for f in b["bu_frames"]} | dereg
    ba_ok = {int(r[0]) for r in rows if r[1] == "6" and r[2] == "0"}
    assert {b["ba_frame"] for b in node["bindings"] if b["ba_frame"]} <= ba_ok
    assert len(ba_ok) == len([b for b in node["bindings"] if b["ba_frame"]]) + len(dereg)
    assert not [r for r in rows if r[1] == "6" and r[2] != "0"]  # no rejection here
    if variant in ("all", "mn", "ha"):
        assert len(dereg) == 1 and len(bu) == len(node["bindings"]) + 1
    for t in truth["tunnels"]:
        to_mn = sum(1 for r in rows if r[4] == HA and r[5] == t["care_of"] and r[6] == "41")
        from_mn = sum(1 for r in rows if r[4] == t["care_of"] and r[5] == HA and r[6] == "41")
        assert (to_mn, from_mn) == (t["to_mn"]["packets"], t["from_mn"]["packets"])


@needs_tshark
def test_tshark_sees_esp_with_hao_before_it(captures):
    path, truth = captures["esp"]
    rows = tshark_rows(path, "frame.number", "ipv6.nxt", "ipv6.dstopts.nxt", "ipv6.routing.nxt",
                       "esp.spi", "ipv6.src")
    esp = [r for r in rows if r[4]]
    node = truth["mobile_nodes"][0]
    expected = {f for b in node["bindings"] for f in b["bu_frames"]} | {
        b["ba_frame"] for b in node["bindings"]}
    assert expected <= {int(r[0]) for r in esp}
    from_coa = [r for r in esp if r[5] != HA and r[5] != HOA]
    assert from_coa and all(r[1] == "60" and r[2] == "50" for r in from_coa)  # HAO, then ESP
    to_coa = [r for r in esp if r[5] == HA and r[1] == "43"]
    assert to_coa and all(r[3] == "50" for r in to_coa)                         # RH2, then ESP


def _mh_layer(pkt):
    """Scapy's Mobility Header layer of a packet (a MIP6MH_* class), or None."""
    layer = pkt
    while layer is not None and layer.__class__.__name__ != "NoPayload":
        if type(layer).__name__.startswith("MIP6MH_"):
            return layer
        layer = layer.payload
    return None


@pytest.mark.parametrize("variant", ["all", "raw"])
def test_scapy_parses_every_mh_with_our_checksum(captures, variant):
    inet6 = pytest.importorskip("scapy.layers.inet6")
    path, truth = captures[variant]
    checked = 0
    with open_capture(path) as reader:
        for frame in reader:
            data = frame.data[14:] if variant == "all" else frame.data  # Ethernet or raw
            pkt = inet6.IPv6(data)
            mh = _mh_layer(pkt)
            if mh is None:
                continue
            if pkt.haslayer(inet6.IPv6ExtHdrDestOpt):  # Scapy sees the HAO only as the sole option
                dest = pkt[inet6.IPv6ExtHdrDestOpt]
                dest.options = [o for o in dest.options if isinstance(o, inet6.HAO)]
                del dest.len
            ours = mh.cksum
            del mh.cksum
            rebuilt = _mh_layer(inet6.IPv6(bytes(pkt)))
            assert type(rebuilt).__name__ in ("MIP6MH_BU", "MIP6MH_BA"), frame.number
            assert rebuilt.cksum == ours, frame.number
            checked += 1
    assert checked >= len(truth["mobile_nodes"][0]["bindings"]) + 1


def test_truth_frames_are_what_they_claim(captures):
    for variant in ("all", "mn", "ha", "vlan", "sll2"):
        path, truth = captures[variant]
        frames = {f.number: f for f in DecodeStream([path])}
        node = truth["mobile_nodes"][0]
        for b in node["bindings"]:
            ba = frames[b["start_frame"]].mh
            assert (ba["abbrev"], ba["seq"], ba["status"]) == ("BA", b["seq"], 0)
            assert b["ba_frame"] == b["start_frame"]
            for n in b["bu_frames"]:
                bu = frames[n]
                assert (bu.mh["abbrev"], bu.mh["seq"]) == ("BU", b["seq"])
                assert str(bu.hao) == HOA and str(bu.outer_src) == b["care_of"]
        for h in node["handoffs"]:
            for n in h["lost_frames"]:
                f = frames[n]
                assert str(f.outer_src) == HA and str(f.outer_dst) == h["from_care_of"]
                assert f.tunnel_depth == 1 and str(f.dst) == HOA
            assert h["lost_to_old_care_of"] == len(h["lost_frames"])
            # one BU per move here, accepted: a one-BU chain answered by the BA of its number
            (bu,) = [frames[n] for n in h["bu_frames"]]
            assert bu.mh["abbrev"] == "BU" and bu.ts == h["bu_ts"] and h["bu_retransmissions"] == 0
            assert (h["outcome"], h["status"]) == ("completed", None) and h["answered_ts"] == h["ba_ts"]
            (ba,) = [f for f in frames.values() if f.mh and f.mh["abbrev"] == "BA" and f.ts == h["ba_ts"]]
            assert ba.mh["seq"] == bu.mh["seq"] and ba.mh["status"] == 0
            assert h["registration_ms"] == round((ba.ts - bu.ts) * 1000, 3)
        (lost,) = [f["frames"] for f in truth["findings"] if f["code"] == "lost_to_old_care_of"]
        assert lost == sorted(n for h in node["handoffs"] for n in h["lost_frames"])


def test_vantages_see_what_their_probe_would(captures):
    _, all_truth = captures["all"]
    ha_path, ha_truth = captures["ha"]
    mn_path, mn_truth = captures["mn"]
    foreign = ("2001:db8:2::", "2001:db8:3::")
    ha_ras = [f for f in DecodeStream([ha_path]) if f.icmp6 and f.icmp6["type"] == 134]
    assert ha_ras and all(p["prefix"] not in foreign for f in ha_ras for p in f.icmp6["prefixes"])
    assert ha_truth["mobile_nodes"][0]["handoffs"][1]["lost_to_old_care_of"] > 0
    assert (ha_truth["mobile_nodes"][0]["handoffs"][1]["lost_to_old_care_of"]
            == all_truth["mobile_nodes"][0]["handoffs"][1]["lost_to_old_care_of"])
    assert all(h["lost_to_old_care_of"] == 0 for h in mn_truth["mobile_nodes"][0]["handoffs"])
    assert all(h["movement_ts"] is None for h in ha_truth["mobile_nodes"][0]["handoffs"][:2])
    home_at = mn_truth["mobile_nodes"][0]["handoffs"][-1]["movement_ts"]
    left_at = T0 + HOME_CALL[1] + 0.1  # the call at home ends before the node leaves
    for f in DecodeStream([mn_path]):
        if f.ip6 and f.tunnel_depth == 0 and CN in (str(f.outer_src), str(f.outer_dst)):
            assert f.ts < left_at or f.ts >= home_at, f"plain CN leg at the MN probe while away: frame {f.number}"
    _, cn_truth = captures["cn"]
    assert all(b["start_frame"] is None for b in cn_truth["mobile_nodes"][0]["bindings"])


def test_story_shape(captures):
    _, truth = captures["all"]
    node = truth["mobile_nodes"][0]
    assert [b["ended_by"] for b in node["bindings"]] == [
        "refresh", "new_care_of", "refresh", "deregistration"]
    assert [(h["from_care_of"], h["to_care_of"]) for h in node["handoffs"]] == [
        (HOA, "2001:db8:2::100"), ("2001:db8:2::100", "2001:db8:3::100"), ("2001:db8:3::100", HOA)]
    for h in node["handoffs"]:
        assert h["movement_ts"] < h["bu_ts"] < h["ba_ts"] <= h["first_data_ts"]
    assert 1000 < truth["frames"] < 10000
    assert all(t["to_mn"]["packets"] > 0 and t["from_mn"]["packets"] > 0 for t in truth["tunnels"])
