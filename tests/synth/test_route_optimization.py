"""The `route-optimization` scenario: determinism, tshark and Scapy agreement,
and truth frame references that point at the frames they claim."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from ipaddress import IPv6Address
from pathlib import Path

import pytest

from mipv6scope.decode.mh import mh_checksum
from mipv6scope.decode.stream import DecodeStream
from mipv6scope.synth.engine import CaptureOptions, write_packets
from mipv6scope.synth.scenarios import ScenarioParams, build_scenario
from tests.conftest import synth_with_truth

NAME = "route-optimization"
VANTAGES = ("all", "mn", "ha", "cn")
HOA, CN = "2001:db8:1::100", "2001:db8:9::9"


def _run(out: Path, seed: int = 7, vantage: str = "all", **kw: object) -> tuple[Path, dict]:
    return synth_with_truth(NAME, out, seed, vantage, **kw)


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    base = tmp_path_factory.mktemp("ro")
    return {v: _run(base / f"ro-{v}.pcap", vantage=v) for v in VANTAGES}


@pytest.fixture(scope="module")
def frames(captures: dict) -> dict:
    return {f.number: f for f in DecodeStream([captures["all"][0]])}


def _tshark(path: Path, *fields: str) -> list[list[str]]:
    if shutil.which("tshark") is None:
        pytest.skip("tshark not installed")
    args = ["tshark", "-r", str(path), "-T", "fields", "-E", "separator=\t", "-E", "occurrence=a"]
    for f in fields:
        args += ["-e", f]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return [line.split("\t") for line in out.splitlines()]


def test_same_seed_same_bytes_and_truth(tmp_path: Path) -> None:
    a, ta = _run(tmp_path / "a.pcap")
    b, tb = _run(tmp_path / "b.pcap")
    c, _ = _run(tmp_path / "c.pcap", seed=8)
    assert a.read_bytes() == b.read_bytes()
    assert ta == tb
    assert a.read_bytes() != c.read_bytes()


def test_esp_null_variant_builds(tmp_path: Path) -> None:
    path, truth = _run(tmp_path / "esp.pcapng", esp_null=True, fmt="pcapng", linktype="sll2")
    decoded = list(DecodeStream([path]))
    home_bus = [f for b in truth["mobile_nodes"][0]["bindings"] if b["kind"] == "home"
                for f in b["bu_frames"]]
    assert home_bus and all(decoded[n - 1].esp is not None for n in home_bus)


@pytest.mark.parametrize("vantage", VANTAGES)
def test_tshark_reads_without_malformed_frames(captures: dict, vantage: str) -> None:
    path, truth = captures[vantage]
    rows = _tshark(path, "frame.number", "_ws.malformed", "_ws.expert.severity")
    assert len(rows) == truth["frames"]
    assert [r for r in rows if any(r[1:])] == []


@pytest.mark.parametrize("vantage", VANTAGES)
def test_tshark_mh_counts_agree_with_schedule(captures: dict, vantage: str) -> None:
    path, truth = captures[vantage]
    rows = _tshark(path, "mip6.mhtype", "mip6.ba.status", "mip6.be.status", "ipv6.src", "ipv6.dst",
                   "ipv6.nxt")
    types = Counter(r[0] for r in rows if r[0])
    # HoTI/CoTI/HoT/CoT: what the scenario's own ledger says it wrote
    built = build_scenario(NAME, ScenarioParams(seed=7, options=CaptureOptions(vantage=vantage)))
    ledger = write_packets(built.sightings(vantage), path.with_suffix(".again"), CaptureOptions(vantage=vantage))
    for mh_type, kind in ((1, "hoti"), (2, "coti"), (3, "hot"), (4, "cot")):
        expected = sum(s.packets for label, s in ledger.labels.items() if f"/ro/cn1/{kind}/" in label)
        assert types.get(str(mh_type), 0) == expected, kind
    mn = truth["mobile_nodes"][0]
    assert types.get("5", 0) == sum(len(b["bu_frames"]) for b in mn["bindings"])
    ba_status = Counter(r[1] for r in rows if r[0] == "6")
    assert ba_status == Counter(str(b["status"]) for b in mn["bindings"] if b["ba_frame"] is not None)
    be = [r for r in rows if r[0] == "7"]
    assert len(be) == len(truth["findings"][0]["frames"]) and all(r[2] == "1" for r in be)
    for tun in truth["tunnels"]:
        for direction, src, dst in (("to_mn", tun["home_agent"], tun["care_of"]),
                                    ("from_mn", tun["care_of"], tun["home_agent"])):
            n = sum(1 for r in rows if r[3].split(",")[0] == src and r[4].split(",")[0] == dst
                    and r[5].split(",")[0] == "41")
            assert n == tun[direction]["packets"], (direction, tun["care_of"])


def test_scapy_parses_rr_with_same_fields_and_checksums(captures: dict, frames: dict) -> None:
    """Scapy's MH checksum equals ours except with a HAO: Scapy (2.5/2.6) takes
    the on-wire source (the care-of address) for the pseudo-header, where RFC
    6275 6.1.1 and our writer use the home address; tshark accepts ours."""
    scapy_all = pytest.importorskip("scapy.all")
    inet6 = pytest.importorskip("scapy.layers.inet6")
    classes = {1: inet6.MIP6MH_HoTI, 2: inet6.MIP6MH_CoTI, 3: inet6.MIP6MH_HoT, 4: inet6.MIP6MH_CoT,
               5: inet6.MIP6MH_BU, 6: inet6.MIP6MH_BA, 7: inet6.MIP6MH_BE}
    packets = scapy_all.rdpcap(str(captures["all"][0]))
    checked = Counter()
    for number, frame in frames.items():
        if frame.mh is None or frame.mh["type"] not in classes:
            continue
        cls = classes[frame.mh["type"]]
        pkt = packets[number - 1]
        layer = pkt[cls]
        assert layer.cksum == frame.mh["checksum"]
        if cls in (inet6.MIP6MH_HoTI, inet6.MIP6MH_CoTI, inet6.MIP6MH_HoT, inet6.MIP6MH_CoT):
            assert bytes(layer.cookie).hex() == frame.mh["cookie"]
        if cls in (inet6.MIP6MH_HoT, inet6.MIP6MH_CoT):
            index = frame.mh.get("home_nonce_index", frame.mh.get("careof_nonce_index"))
            assert layer.index == index and bytes(layer.token).hex() == frame.mh["keygen_token"]
        if cls is inet6.MIP6MH_BU and str(frame.outer_dst) == CN:
            ni = next(o for o in layer.options if isinstance(o, inet6.MIP6OptNonceIndices))
            ours = next(o for o in frame.mh["options"] if o["type"] == 4)
            assert (ni.hni, ni.coni) == (ours["home_nonce_index"], ours["careof_nonce_index"])
        again = pkt.copy()
        again[cls].cksum = None
        recomputed = type(pkt)(bytes(again))[cls].cksum
        if frame.hao is None:
            assert recomputed == frame.mh["checksum"]
        else:
            inner = frame.ip6[-1]
            on_wire = mh_checksum(inner.src.packed, inner.upper_dst.packed, bytes(layer)[:frame.mh["length"]])
            assert recomputed == on_wire != frame.mh["checksum"]
        checked[cls.__name__] += 1
    assert all(checked[c] for c in ("MIP6MH_HoTI", "MIP6MH_CoTI", "MIP6MH_HoT", "MIP6MH_CoT", "MIP6MH_BU"))


def test_cookies_echo_and_nonce_indices_match(frames: dict) -> None:
    sent = {1: set(), 2: set()}
    answered = {3: set(), 4: set()}
    indices = set()
    for f in frames.values():
        if f.mh and f.mh["type"] in (1, 2):
            sent[f.mh["type"]].add(f.mh["cookie"])
        elif f.mh and f.mh["type"] in (3, 4):
            answered[f.mh["type"]].add(f.mh["cookie"])
            indices.add((f.mh["type"], f.mh.get("home_nonce_index", f.mh.get("careof_nonce_index"))))
        elif f.mh and f.mh["type"] == 5 and str(f.outer_dst) == CN:
            ni = next(o for o in f.mh["options"] if o["type"] == 4)
            assert (3, ni["home_nonce_index"]) in indices and (4, ni["careof_nonce_index"]) in indices
    assert sent[1] == answered[3] and len(sent[1]) == 2
    assert sent[2] == answered[4] and len(sent[2]) == 3


def test_transitions_point_at_their_frames(captures: dict, frames: dict) -> None:
    truth = captures["all"][1]
    ro = truth["mobile_nodes"][0]["route_optimization"][0]
    states = [t["state"] for t in ro["transitions"]]
    assert states == ["tunnelled"] + ["rr_started", "rr_done", "bu_sent", "ro_active", "fallback"] * 2 + [
        "rr_started", "rr_done", "bu_sent", "ro_active"]
    for t in ro["transitions"]:
        f = frames[t["frame"]]
        assert f.ts == pytest.approx(t["ts"])
        kind = f.mh["type"] if f.mh else None
        if t["state"] == "tunnelled":
            assert f.tunnel_depth == 1 and f.transport.proto == 17
        elif t["state"] == "rr_started":
            assert kind in (1, 2)
        elif t["state"] == "rr_done":
            assert kind in (3, 4)
        elif t["state"] == "bu_sent":
            assert kind == 5 and str(f.dst) == CN and f.mh["flags"] == ["A"]
            assert str(f.hao) == HOA and f.mh["lifetime_s"] <= 420
            assert {o["type"] for o in f.mh["options"]} >= {4, 5}
        elif t["state"] == "ro_active":
            assert kind == 6 and str(f.outer_src) == CN and f.mh["status"] == 0 and str(f.rh2) == HOA
        elif t["reason"] == "binding_error":
            assert kind == 7 and f.mh["status"] == 1 and f.mh["home_address"] == HOA
        else:
            assert t["reason"] == "movement" and kind == 5 and "H" in f.mh["flags"]
            assert str(f.outer_src) == truth["mobile_nodes"][0]["care_of_addresses"][1]
    be = truth["findings"][0]
    assert be["code"] == "binding_error_received"
    assert all(frames[n].mh["type"] == 7 for n in be["frames"])


def test_direct_packet_count_and_bindings(captures: dict, frames: dict) -> None:
    truth = captures["all"][1]
    mn = truth["mobile_nodes"][0]
    ro = mn["route_optimization"][0]
    direct = [f for f in frames.values() if f.transport and f.transport.proto == 17
              and f.tunnel_depth == 0 and (f.hao is not None or f.rh2 is not None)]
    assert len(direct) == ro["packets_direct"]
    cn_bindings = [b for b in mn["bindings"] if b["kind"] == "correspondent"]
    assert [b["ended_by"] for b in cn_bindings] == ["binding_error", "new_care_of", "capture_end"]
    for b in cn_bindings:
        assert b["granted_lifetime_s"] <= 420
        bu, ba = frames[b["bu_frames"][0]], frames[b["ba_frame"]]
        assert bu.mh["seq"] == ba.mh["seq"] == b["seq"] and str(bu.outer_src) == b["care_of"]
    assert [b["ended_by"] for b in mn["bindings"] if b["kind"] == "home"] == ["new_care_of", "capture_end"]
    assert IPv6Address(mn["handoffs"][0]["to_care_of"]) == frames[ro["transitions"][-1]["frame"]].outer_dst
