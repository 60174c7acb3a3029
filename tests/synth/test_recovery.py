"""The `recovery` scenario: determinism, tshark agreement, and truth frame
references (retransmissions with back-off and new sequence numbers, status
135 / 133 as rejected registrations, reduced lifetime, BRR, expiry) that point
at the frames they claim."""

from __future__ import annotations

import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest

from mipv6scope.decode.stream import DecodeStream
from tests.conftest import synth_with_truth

NAME = "recovery"
VANTAGES = ("all", "mn", "ha", "cn")
HA1, HA2 = "2001:db8:1::1", "2001:db8:1::2"


def _run(out: Path, seed: int = 11, vantage: str = "all", **kw: object) -> tuple[Path, dict]:
    return synth_with_truth(NAME, out, seed, vantage, **kw)


@pytest.fixture(scope="module")
def captures(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    base = tmp_path_factory.mktemp("recovery")
    return {v: _run(base / f"rec-{v}.pcap", vantage=v) for v in VANTAGES}


def _frames(path: Path) -> dict:
    return {f.number: f for f in DecodeStream([path])}


def _findings(truth: dict) -> dict[str, list[int]]:
    return {f["code"]: f["frames"] for f in truth["findings"]}


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
    c, _ = _run(tmp_path / "c.pcap", seed=12)
    assert a.read_bytes() == b.read_bytes() and ta == tb
    assert a.read_bytes() != c.read_bytes()
    esp, _ = _run(tmp_path / "esp.pcap", esp_null=True)
    assert any(f.esp is not None for f in DecodeStream([esp]))


@pytest.mark.parametrize("vantage", VANTAGES)
def test_tshark_reads_without_malformed_frames(captures: dict, vantage: str) -> None:
    path, truth = captures[vantage]
    rows = _tshark(path, "frame.number", "_ws.malformed", "_ws.expert.severity")
    assert len(rows) == truth["frames"]
    assert [r for r in rows if any(r[1:])] == []


@pytest.mark.parametrize("vantage", VANTAGES)
def test_tshark_counts_agree_with_truth(captures: dict, vantage: str) -> None:
    path, truth = captures[vantage]
    rows = _tshark(path, "mip6.mhtype", "mip6.ba.status", "ipv6.src", "ipv6.dst", "ipv6.nxt")
    node = truth["mobile_nodes"][0]
    registrations = node["bindings"] + node["rejected_registrations"]
    types = Counter(r[0] for r in rows if r[0])
    assert types.get("5", 0) == sum(len(b["bu_frames"]) for b in registrations)
    assert Counter(r[1] for r in rows if r[0] == "6") == Counter(
        str(b["status"]) for b in registrations if b["ba_frame"] is not None)
    for tun in truth["tunnels"]:
        for direction, src, dst in (("to_mn", tun["home_agent"], tun["care_of"]),
                                    ("from_mn", tun["care_of"], tun["home_agent"])):
            n = sum(1 for r in rows if r[2].split(",")[0] == src and r[3].split(",")[0] == dst
                    and r[4].split(",")[0] == "41")
            assert n == tun[direction]["packets"], (vantage, direction, tun["care_of"])


def test_lost_first_registrations_back_off(captures: dict) -> None:
    mn_path, mn_truth = captures["mn"]
    _, ha_truth = captures["ha"]
    frames = _frames(mn_path)
    first = mn_truth["mobile_nodes"][0]["bindings"][0]
    assert len(first["bu_frames"]) == 4
    assert len(ha_truth["mobile_nodes"][0]["bindings"][0]["bu_frames"]) == 1  # three were lost
    bus = [frames[n] for n in first["bu_frames"]]
    # RFC 6275 11.8: each retransmission has a greater number; the BA answers the last one
    assert [f.mh["seq"] for f in bus] == [(first["seq"] - 3 + i) % 65536 for i in range(4)]
    assert frames[first["ba_frame"]].mh["seq"] == first["seq"]
    gaps = [b.ts - a.ts for a, b in zip(bus, bus[1:], strict=False)]
    assert gaps == pytest.approx([1.5, 3.0, 6.0], abs=0.03)
    assert "bu_retransmission" not in _findings(mn_truth)  # a correct back-off is no finding


def test_rejections_sequence_window_and_retry(captures: dict) -> None:
    path, truth = captures["all"]
    frames = _frames(path)
    node = truth["mobile_nodes"][0]
    bindings, rejected = node["bindings"], node["rejected_registrations"]
    found = _findings(truth)
    # a rejected registration is not a binding (RFC 6275 6.1.8): the bindings are those in force
    assert [b["status"] for b in bindings] == [0, 0, 0, 0]
    assert [b["ended_by"] for b in bindings] == ["refresh", "refresh", "new_care_of", "expiry"]
    assert [r["status"] for r in rejected] == [135, 133]
    rej135, rej133 = rejected
    ba135 = frames[rej135["ba_frame"]]
    assert ba135.mh["status"] == 135 and ba135.mh["seq"] == bindings[1]["seq"]  # last accepted
    assert (bindings[1]["seq"] - rej135["seq"]) % 65536 < 32768                 # behind the window
    assert bindings[2]["seq"] == (bindings[1]["seq"] + 1) % 65536
    assert bindings[2]["start_ts"] > rej135["ba_ts"]                           # the retry
    # one problem, one finding: the BU and the BA of the 135 rejection
    assert found["bu_sequence_out_of_window"] == sorted([*rej135["bu_frames"], rej135["ba_frame"]])
    ba133 = frames[rej133["ba_frame"]]
    assert ba133.mh["status"] == 133 and str(ba133.outer_src) == HA2 and rej133["peer"] == HA2
    retry = frames[bindings[3]["bu_frames"][0]]
    assert str(retry.outer_dst) == HA1 and str(retry.outer_src) == rej133["care_of"]
    assert found["ba_status_failure"] == [rej133["ba_frame"]]


def test_granted_lifetime_brr_and_expiry(captures: dict) -> None:
    path, truth = captures["all"]
    frames = _frames(path)
    mn = truth["mobile_nodes"][0]
    bindings = mn["bindings"]
    found = _findings(truth)
    for b in bindings:
        if b["status"] == 0:
            assert frames[b["bu_frames"][-1]].mh["lifetime_s"] == b["requested_lifetime_s"] == 600
            assert frames[b["ba_frame"]].mh["lifetime_s"] == b["granted_lifetime_s"] == 120
            assert b["start_frame"] == b["ba_frame"]
    assert sorted(found["ba_lifetime_reduced"]) == sorted(b["ba_frame"] for b in bindings if b["status"] == 0)
    # the BRR answered by a refresh: a BRR shortly before the second binding's BU
    brrs = [f for f in frames.values() if f.mh and f.mh["type"] == 0]
    assert len(brrs) == 2
    refresh_bu = frames[bindings[1]["bu_frames"][0]]
    assert 0 < refresh_bu.ts - brrs[0].ts < 0.2
    # the unanswered BRR, then expiry: no BU after it, the tunnel stops at the end_ts
    (unanswered,) = found["brr_unanswered"]
    assert unanswered == brrs[1].number
    assert not [f for f in frames.values() if f.number > unanswered and f.mh and f.mh["type"] == 5]
    last = bindings[-1]
    assert found["binding_expired_without_refresh"] == [last["ba_frame"]]
    assert last["end_ts"] == pytest.approx(last["start_ts"] + 120, abs=0.05)
    tunnelled = [f for f in frames.values() if f.tunnel_depth and str(f.outer_dst) == last["care_of"]]
    assert tunnelled and max(f.ts for f in tunnelled) < last["end_ts"]
    after = [f for f in frames.values() if f.ts > last["end_ts"] and f.transport and f.transport.proto == 17]
    assert after and all(f.tunnel_depth == 0 and str(f.dst) == mn["home_address"] for f in after)


def test_handoff_and_lost_packets(captures: dict) -> None:
    # Each handoff counts what ha1 tunnelled to the old care-of address while its chain was in
    # progress: the rejected one up to ha2's 133 BA, the retry after it, up to its accepting BA.
    path, truth = captures["ha"]
    frames = _frames(path)
    rejected, completed = truth["mobile_nodes"][0]["handoffs"]
    lost = rejected["lost_frames"] + completed["lost_frames"]
    assert rejected["lost_frames"] and completed["lost_frames"]
    assert sorted(lost) == _findings(truth)["lost_to_old_care_of"]
    for h in (rejected, completed):
        assert h["lost_to_old_care_of"] == len(h["lost_frames"])
        assert all(str(frames[n].outer_dst) == h["from_care_of"] for n in h["lost_frames"])
    assert all(frames[n].ts <= rejected["answered_ts"] for n in rejected["lost_frames"])
    assert all(rejected["answered_ts"] < frames[n].ts <= completed["ba_ts"] for n in completed["lost_frames"])
    _, mn_truth = captures["mn"]
    assert [h["lost_frames"] for h in mn_truth["mobile_nodes"][0]["handoffs"]] == [[], []]


def test_rejected_attempt_and_retry_are_two_handoffs(captures: dict) -> None:
    # RFC 6275 11.7.3: a BA with status >= 128 rejects the registration, which ends the chain of
    # BUs; the node's retry at another home agent is a new chain, so a new handoff. The rejected
    # one has the 133 and no accepting BA; the retry's registration time runs from its own BU.
    path, truth = captures["all"]
    rejected, completed = truth["mobile_nodes"][0]["handoffs"]
    new = rejected["to_care_of"]
    assert (completed["from_care_of"], completed["to_care_of"]) == (rejected["from_care_of"], new)
    from_new = [f for f in DecodeStream([path]) if f.mh and str(f.ip6[0].src) == new and f.mh["type"] == 5]
    to_new = [f for f in DecodeStream([path]) if f.mh and str(f.ip6[0].dst) == new and f.mh["type"] == 6]
    refused = next(f for f in to_new if f.mh["status"] == 133)
    accepted = next(f for f in to_new if f.mh["status"] == 0)
    assert str(from_new[0].ip6[0].dst) == HA2 and str(from_new[1].ip6[0].dst) == HA1
    assert (rejected["outcome"], rejected["status"], rejected["ba_ts"], rejected["first_data_ts"]) == (
        "rejected", 133, None, None)
    assert rejected["bu_frames"] == [from_new[0].number] and rejected["bu_ts"] == pytest.approx(from_new[0].ts)
    assert rejected["answered_ts"] == pytest.approx(refused.ts) and rejected["registration_ms"] is None
    assert (completed["outcome"], completed["status"]) == ("completed", None)
    assert completed["bu_frames"] == [from_new[1].number] and completed["bu_ts"] == pytest.approx(from_new[1].ts)
    assert completed["ba_ts"] == pytest.approx(accepted.ts) == completed["answered_ts"]
    assert str(accepted.ip6[0].src) == HA1 and refused.ts < from_new[1].ts < accepted.ts
    assert completed["registration_ms"] == round((accepted.ts - from_new[1].ts) * 1000, 3)
    assert [h["bu_retransmissions"] for h in (rejected, completed)] == [0, 0]
